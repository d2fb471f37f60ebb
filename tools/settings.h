/*
 * The shim's configuration: what LIVENESS_BUDGET, LIVENESS_KEEPALIVE and
 * LIVENESS_USER_TIMEOUT ask for, checked once, and how it changes the
 * settings a socket already has. Shared by the shim (which reads the
 * environment) and the liveness command (which writes it), so both accept
 * and refuse exactly the same values.
 */
#ifndef LIVENESS_TOOLS_SETTINGS_H
#define LIVENESS_TOOLS_SETTINGS_H

#include <stddef.h>

#include "liveness.h"

struct lvt_settings {
	int has_budget;        /* LIVENESS_BUDGET: plan holds liveness_tcp_plan()'s result */
	liveness_time budget;
	struct liveness_tcp plan;
	int has_keepalive;     /* LIVENESS_KEEPALIVE=idle:interval:count */
	int idle, interval, count;
	int has_user_timeout;  /* LIVENESS_USER_TIMEOUT=ms */
	unsigned user_timeout;
};

/*
 * Plan for a budget written as a duration. Returns 0, or -EINVAL/-ERANGE
 * with a one-line reason (without a trailing newline) in why.
 */
int lvt_budget(const char *text, liveness_time *budget, struct liveness_tcp *plan, char *why,
	       size_t len);

/* "idle:interval:count" in seconds, seconds and probes, each in the kernel's range. */
int lvt_parse_keepalive(const char *text, int *idle, int *interval, int *count, char *why,
			size_t len);

/* Milliseconds, 0..INT_MAX (0: the kernel's default). */
int lvt_parse_user_timeout(const char *text, unsigned *ms, char *why, size_t len);

/*
 * Fill *s from the three values (NULL or "" when unset). Returns 1 when any
 * is set, 0 when none is, or a negated errno with a reason naming the
 * variable in why; *s is then all unset.
 */
int lvt_settings_parse(struct lvt_settings *s, const char *budget, const char *keepalive,
		       const char *user_timeout, char *why, size_t len);

/*
 * The settings a socket that has *cur should get: *cur with the configured
 * fields replaced. A budget sets keepalive, idle, interval, count and the
 * user timeout; LIVENESS_KEEPALIVE and LIVENESS_USER_TIMEOUT override the
 * fields they name. Linger is never changed.
 */
void lvt_settings_apply(const struct lvt_settings *s, const struct liveness_tcp *cur,
			struct liveness_tcp *want);

#endif
