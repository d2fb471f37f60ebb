/*
 * verdict.h - the line an example prints when it gives up on a connection:
 * who, why, and how long the peer had been silent by the heartbeat's own
 * record of its last proof of life (liveness_hb_last_proof()), so that no
 * program keeps a copy of that time.
 */
#ifndef LIVENESS_EXAMPLES_VERDICT_H
#define LIVENESS_EXAMPLES_VERDICT_H

#include <stdio.h>

#include "liveness.h"

/* "WORD peer=NAME cause=CAUSE silent_ms=... at_ns=NOW" on stdout. */
static inline void verdict_log(const char *word, const char *name, const struct liveness_hb *hb,
			       enum liveness_cause cause, liveness_time now)
{
	liveness_time proof = now; /* kept if hb was never started: silent 0 */

	liveness_hb_last_proof(hb, &proof);
	printf("%s peer=%s cause=%s silent_ms=%llu at_ns=%llu\n", word, name,
	       liveness_cause_name(cause), (unsigned long long)((now - proof) / LIVENESS_MSEC),
	       (unsigned long long)now);
}

#endif
