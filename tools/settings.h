/*
 * The shim's configuration: what LIVENESS_BUDGET, LIVENESS_KEEPALIVE and
 * LIVENESS_USER_TIMEOUT ask for, checked once, and how it holds the
 * settings a program asks for to that plan. Shared by the shim (which reads the
 * environment) and the liveness command (which writes it), so both accept
 * and refuse exactly the same values.
 */
#ifndef LIVENESS_TOOLS_SETTINGS_H
#define LIVENESS_TOOLS_SETTINGS_H

#include <stddef.h>

#include "liveness.h"

struct lvt_settings {
	int has_budget; /* LIVENESS_BUDGET: plan holds liveness_tcp_plan()'s result */
	liveness_time budget;
	struct liveness_tcp plan;
	int has_keepalive; /* LIVENESS_KEEPALIVE=idle:interval:count */
	int idle, interval, count;
	int has_user_timeout; /* LIVENESS_USER_TIMEOUT=ms */
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
 * The plan for a socket that holds *cur: *cur with the fields the
 * configuration names replaced. A budget names keepalive, idle, interval,
 * count and the user timeout; LIVENESS_KEEPALIVE names the first four and
 * LIVENESS_USER_TIMEOUT the last, overriding the budget's values.
 */
void lvt_settings_plan(const struct lvt_settings *s, const struct liveness_tcp *cur,
		       struct liveness_tcp *plan);

/* What lvt_settings_apply() did to the settings a program asked for. */
enum lvt_outcome {
	LVT_KEPT,      /* every field the configuration names was at least as strict */
	LVT_RAISED,    /* a looser field was raised to the plan's value */
	LVT_TIGHTENED, /* stricter fields kept, the plan's user timeout shortened so that
			  together they end a dead connection no later than the plan */
	LVT_FELL_BACK  /* stricter fields would together end a dead connection later than
			  the plan: the plan's keepalive timing replaced them */
};

/*
 * The settings a socket should get whose program asks for *asked (what the
 * program set, and what the socket holds otherwise), against the plan
 * lvt_settings_plan() makes of *asked. Each named field keeps the
 * program's value when it is at least as strict as the plan's (keepalive
 * on; an idle time, interval or count no longer; a user timeout no longer
 * and not 0, unless the plan's is 0) and gets the plan's otherwise. Then,
 * since a stricter field can move the kernel's last keepalive tick later
 * (a shorter idle time with the plan's interval reaches the user timeout
 * on another grid), the result's liveness_tcp_bound(), idle and busy, is
 * compared with the plan's: if either is later and the user timeout is the
 * plan's, not one the program set itself (own_user_timeout says whether
 * asked->user_timeout is the program's), the longest shorter user timeout
 * that brings it within is taken; failing that the keepalive fields are the
 * plan's, and if still later, the user timeout too. Fields the
 * configuration does not name, and linger, stay as asked.
 */
enum lvt_outcome lvt_settings_apply(const struct lvt_settings *s, const struct liveness_tcp *asked,
				    int own_user_timeout, struct liveness_tcp *want);

#endif
