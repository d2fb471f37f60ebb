/* The shim's configuration, parsed once; see settings.h. */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>

#include "duration.h"
#include "settings.h"

/* The shortest budget liveness_tcp_plan() meets, for the reason of a refusal (ms). */
static liveness_time shortest_budget(void)
{
	liveness_time lo = 1, hi = 60 * 1000; /* ms: plan(lo) fails, plan(hi) succeeds */
	struct liveness_tcp t;

	while (hi - lo > 1) {
		liveness_time mid = lo + (hi - lo) / 2;
		if (liveness_tcp_plan(&t, mid * LIVENESS_MSEC) == 0)
			hi = mid;
		else
			lo = mid;
	}
	return hi * LIVENESS_MSEC;
}

int lvt_budget(const char *text, liveness_time *budget, struct liveness_tcp *plan, char *why,
	       size_t len)
{
	const char *what = NULL;
	char a[32], b[32];
	liveness_time d;
	int r;

	if ((r = lvt_parse_duration(text, &d, &what)) < 0) {
		snprintf(why, len, "budget '%s': %s", text ? text : "", what);
		return r;
	}
	if (d == 0) {
		snprintf(why, len, "budget '%s': must be longer than zero", text);
		return -EINVAL;
	}
	r = liveness_tcp_plan(plan, d);
	if (r == -ERANGE && d / LIVENESS_MSEC > INT_MAX)
		snprintf(why, len,
			 "budget %s is too long: TCP_USER_TIMEOUT holds at most %d ms (24.8 days)",
			 lvt_fmt_sec(d, a, sizeof(a)), INT_MAX);
	else if (r == -ERANGE)
		snprintf(why, len,
			 "budget %s is too short: keepalive counts whole seconds and kernel "
			 "timers fire late, so the shortest budget that can be met is %s",
			 lvt_fmt_sec(d, a, sizeof(a)),
			 lvt_fmt_sec(shortest_budget(), b, sizeof(b)));
	else if (r < 0)
		snprintf(why, len, "budget %s: %s", lvt_fmt_sec(d, a, sizeof(a)),
			 liveness_strerror(r));
	else
		*budget = d;
	return r;
}

/* One field of idle:interval:count; *s advances past it and its colon. */
static int field(const char **s, int last, int max, int *out)
{
	char buf[16];
	const char *end = last ? *s + strlen(*s) : strchr(*s, ':');
	unsigned long long v;
	size_t n;

	if (!end || (n = (size_t)(end - *s)) >= sizeof(buf))
		return -EINVAL;
	memcpy(buf, *s, n);
	buf[n] = '\0';
	if (lvt_parse_uint(buf, (unsigned long long)max, &v, NULL) < 0 || v < 1)
		return -EINVAL;
	*out = (int)v;
	*s = last ? end : end + 1;
	return 0;
}

int lvt_parse_keepalive(const char *text, int *idle, int *interval, int *count, char *why,
			size_t len)
{
	const char *s = text ? text : "";
	int i, n, c;

	if (field(&s, 0, LIVENESS_TCP_MAX_IDLE, &i) < 0 ||
	    field(&s, 0, LIVENESS_TCP_MAX_INTERVAL, &n) < 0 ||
	    field(&s, 1, LIVENESS_TCP_MAX_COUNT, &c) < 0) {
		snprintf(why, len,
			 "keepalive '%s': want IDLE:INTERVAL:COUNT, whole seconds 1..%d, 1..%d "
			 "and probes 1..%d, e.g. 30:6:4",
			 text ? text : "", LIVENESS_TCP_MAX_IDLE, LIVENESS_TCP_MAX_INTERVAL,
			 LIVENESS_TCP_MAX_COUNT);
		return -EINVAL;
	}
	*idle = i;
	*interval = n;
	*count = c;
	return 0;
}

int lvt_parse_user_timeout(const char *text, unsigned *ms, char *why, size_t len)
{
	unsigned long long v;
	const char *what = NULL;
	int r = lvt_parse_uint(text, INT_MAX, &v, &what);

	if (r < 0) {
		snprintf(why, len, "user timeout '%s': %s; want milliseconds 0..%d",
			 text ? text : "", what, INT_MAX);
		return r;
	}
	*ms = (unsigned)v;
	return 0;
}

int lvt_settings_parse(struct lvt_settings *s, const char *budget, const char *keepalive,
		       const char *user_timeout, char *why, size_t len)
{
	struct lvt_settings t;
	char sub[200];
	int r;

	memset(&t, 0, sizeof(t));
	memset(s, 0, sizeof(*s));
	if (budget && *budget) {
		if ((r = lvt_budget(budget, &t.budget, &t.plan, sub, sizeof(sub))) < 0)
			goto bad_budget;
		t.has_budget = 1;
	}
	if (keepalive && *keepalive) {
		if ((r = lvt_parse_keepalive(keepalive, &t.idle, &t.interval, &t.count, sub,
					     sizeof(sub))) < 0) {
			snprintf(why, len, "LIVENESS_KEEPALIVE: %s", sub);
			return r;
		}
		t.has_keepalive = 1;
	}
	if (user_timeout && *user_timeout) {
		if ((r = lvt_parse_user_timeout(user_timeout, &t.user_timeout, sub, sizeof(sub))) <
		    0) {
			snprintf(why, len, "LIVENESS_USER_TIMEOUT: %s", sub);
			return r;
		}
		t.has_user_timeout = 1;
	}
	*s = t;
	return t.has_budget || t.has_keepalive || t.has_user_timeout;
bad_budget:
	snprintf(why, len, "LIVENESS_BUDGET: %s", sub);
	return r;
}

void lvt_settings_plan(const struct lvt_settings *s, const struct liveness_tcp *cur,
		       struct liveness_tcp *plan)
{
	*plan = *cur;
	if (s->has_budget) {
		plan->keepalive = 1;
		plan->idle = s->plan.idle;
		plan->interval = s->plan.interval;
		plan->count = s->plan.count;
		plan->user_timeout = s->plan.user_timeout;
	}
	if (s->has_keepalive) {
		plan->keepalive = 1;
		plan->idle = s->idle;
		plan->interval = s->interval;
		plan->count = s->count;
	}
	if (s->has_user_timeout)
		plan->user_timeout = s->user_timeout;
}

static int stricter_int(int asked, int plan)
{
	return asked < plan ? asked : plan;
}

/* 0 is no user timeout at all, the loosest value, unless the plan asks for exactly that. */
static unsigned stricter_user_timeout(unsigned asked, unsigned plan)
{
	if (plan == 0)
		return asked;
	return asked != 0 && asked < plan ? asked : plan;
}

/* Does a dead peer of a socket with *t end no later than the plan's, idle and busy? */
static int within(const struct liveness_tcp *t, const struct liveness_tcp *plan)
{
	/*
	 * The busy case depends on the user timeout alone, so it is compared
	 * only when the user timeouts differ: with a user timeout of 0 it
	 * reads tcp_retries2 from /proc, which the shim, called from any
	 * context, should not do for nothing. They differ with one of them 0
	 * only under an explicit LIVENESS_USER_TIMEOUT=0.
	 */
	return liveness_tcp_bound(t, LIVENESS_IDLE) <= liveness_tcp_bound(plan, LIVENESS_IDLE) &&
	       (t->user_timeout == plan->user_timeout ||
		liveness_tcp_bound(t, LIVENESS_BUSY) <= liveness_tcp_bound(plan, LIVENESS_BUSY));
}

static int same_timing(const struct liveness_tcp *a, const struct liveness_tcp *b)
{
	return a->keepalive == b->keepalive && a->idle == b->idle && a->interval == b->interval &&
	       a->count == b->count && a->user_timeout == b->user_timeout;
}

enum lvt_outcome lvt_settings_apply(const struct lvt_settings *s, const struct liveness_tcp *asked,
				    int own_user_timeout, struct liveness_tcp *want)
{
	struct liveness_tcp plan;

	lvt_settings_plan(s, asked, &plan);
	*want = *asked;
	if (s->has_budget || s->has_keepalive) {
		want->keepalive = 1;
		want->idle = stricter_int(asked->idle, plan.idle);
		want->interval = stricter_int(asked->interval, plan.interval);
		want->count = stricter_int(asked->count, plan.count);
	}
	if (s->has_budget || s->has_user_timeout)
		want->user_timeout = stricter_user_timeout(asked->user_timeout, plan.user_timeout);
	if (within(want, &plan))
		return same_timing(want, asked) ? LVT_KEPT : LVT_RAISED;
	/*
	 * Stricter keepalive fields that together land on a later tick keep
	 * their values if a shorter user timeout brings the last tick back
	 * within the plan: the largest such one. Only the plan's user timeout
	 * is shortened, never one the program asked for itself. A tick is the first at or after the
	 * user timeout, so a shorter one never ends later, idle or busy.
	 */
	if (plan.user_timeout != 0 && want->user_timeout == plan.user_timeout &&
	    !(own_user_timeout && asked->user_timeout == plan.user_timeout)) {
		struct liveness_tcp t = *want;
		unsigned lo = 0, hi = plan.user_timeout; /* within at hi: no; at lo (0): unknown */

		while (hi - lo > 1) {
			t.user_timeout = lo + (hi - lo) / 2;
			if (within(&t, &plan))
				lo = t.user_timeout;
			else
				hi = t.user_timeout;
		}
		if (lo > 0) {
			want->user_timeout = lo;
			return LVT_TIGHTENED;
		}
	}
	want->keepalive = plan.keepalive;
	want->idle = plan.idle;
	want->interval = plan.interval;
	want->count = plan.count;
	if (!within(want, &plan))
		want->user_timeout = plan.user_timeout;
	return LVT_FELL_BACK;
}
