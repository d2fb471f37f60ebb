/* Layer 3 internals shared with the group (lib/group.c); not installed. */
#ifndef LIVENESS_HB_PRIVATE_H
#define LIVENESS_HB_PRIVATE_H

#include "liveness.h"

/*
 * liveness_hb_step() that also returns the new deadline, so that the group
 * re-files a member without computing it twice.
 */
enum liveness_event liveness__hb_step(struct liveness_hb *hb, liveness_time now, uint32_t *seq,
				      liveness_time *next);

#endif
