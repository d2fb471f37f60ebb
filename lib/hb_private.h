/*
 * Layer 3 internals shared with the group (lib/group.c), which computes the
 * deadlines of the members it visits in line; not installed.
 */
#ifndef LIVENESS_HB_PRIVATE_H
#define LIVENESS_HB_PRIVATE_H

#include "internal.h"

/* The low 16 bits of hb->peer: state and the peer's strikes. */
#define HB_ROUND_TRIP 0x01u /* copy of the policy flag, so rx need not read the policy */
#define HB_OUT 0x02u	    /* our last ping awaits its pong */
#define HB_PINGED 0x04u	    /* ping_at is valid */
#define HB_DEAD 0x08u	    /* DEAD was returned: nothing is due any more */
#define HB_PEER 0x10u	    /* the peer ping time is valid */
#define HB_FLOOD 0x20u	    /* the peer broke the ping rate limit */
#define HB_RTT 0x40u	    /* srtt_us and rttvar_us hold a sample */
#define HB_STRIKE_SHIFT 8
#define HB_STRIKE_MASK 0xff00u
/*
 * The peer's last answered ping is kept to 2^16 ns (65.5 us) in the high 48
 * bits, which makes room for the state in one word. It is rounded down, so a
 * gap is never underestimated: a well-spaced ping is never struck.
 */
#define HB_TIME_MASK (~(uint64_t)0xffff)

static inline liveness_time max_time(liveness_time a, liveness_time b)
{
	return a > b ? a : b;
}

/*
 * A clock that runs backwards is treated as no time passing: never act on
 * a time earlier than one this connection has already seen.
 */
static inline liveness_time hb_clamp(const struct liveness_hb *hb, liveness_time now)
{
	now = max_time(now, hb->proof);
	if (hb->peer & HB_PINGED)
		now = max_time(now, hb->ping_at);
	return now;
}

/*
 * How much earlier than interval this connection pings: a fixed fraction
 * of the policy's jitter span, from a Fibonacci hash of the object's
 * address, so that connections made at the same moment do not ping in step.
 * Always < span, hence never later than interval.
 */
static inline liveness_time hb_jitter_of(const struct liveness_hb *hb, liveness_time span)
{
	uint64_t h = ((uint64_t)(uintptr_t)hb * 0x9e3779b97f4a7c15u) >> 32;

	return (span >> 32) * h + (((span & 0xffffffffu) * h) >> 32);
}

/* The jitter span of a policy: jitter percent of its interval, without overflow. */
static inline liveness_time hb_span(const struct liveness_policy *p)
{
	return p->interval / 100 * p->jitter + p->interval % 100 * p->jitter / 100;
}

static inline liveness_time hb_jitter(const struct liveness_hb *hb, const struct liveness_policy *p)
{
	return hb_jitter_of(hb, hb_span(p));
}

/* The timeout in force: the policy's, or 3 x (srtt + 4 x rttvar) if longer. */
static inline liveness_time hb_timeout(const struct liveness_hb *hb,
				       const struct liveness_policy *p)
{
	liveness_time pto;

	if (!(p->flags & LIVENESS_RTT_TIMEOUT) || !(hb->peer & HB_RTT))
		return p->timeout;
	pto = ((liveness_time)hb->srtt_us + 4 * (liveness_time)hb->rttvar_us) * 3 * LIVENESS_USEC;
	return max_time(p->timeout, pto);
}

/*
 * When the next ping is due. Unanswered (no pong, and no proof since it was
 * sent): retry after the last one. Otherwise interval (less jitter) after the proof, but
 * never sooner than retry after our last ping. Since retry <= interval this
 * is at most interval after the proof, and it never decreases as proof grows.
 */
static inline liveness_time hb_ping_due(const struct liveness_hb *hb,
					const struct liveness_policy *p)
{
	liveness_time due = sat_add(hb->proof, p->interval - hb_jitter(hb, p));
	liveness_time again;

	if (!(hb->peer & HB_PINGED))
		return due;
	again = sat_add(hb->ping_at, p->retry);
	if ((hb->peer & HB_OUT) && hb->ping_at >= hb->proof)
		return again;
	return max_time(due, again);
}

static inline liveness_time hb_dead_due(const struct liveness_hb *hb,
					const struct liveness_policy *p)
{
	return sat_add(hb->proof, hb_timeout(hb, p));
}

static inline liveness_time hb_due(const struct liveness_hb *hb)
{
	liveness_time ping, dead;

	if (hb == NULL || hb->policy == NULL || (hb->peer & HB_DEAD))
		return LIVENESS_NEVER;
	ping = hb_ping_due(hb, hb->policy);
	dead = hb_dead_due(hb, hb->policy);
	return ping < dead ? ping : dead;
}

/* The policy's interval less this hb's jitter (for an hb with a policy). */
static inline liveness_time hb_gap(const struct liveness_hb *hb)
{
	return hb->policy->interval - hb_jitter(hb, hb->policy);
}

/*
 * A cheap lower bound of hb_due(hb) in *floor, gap being hb_gap(hb), or 0 if
 * there is none this cheap. With no ping awaiting its answer, the next ping
 * is due gap after the proof or later, and the verdict timeout (>= interval
 * >= gap) after it or later; a dead hb has no deadline at all.
 */
static inline int hb_due_floor(const struct liveness_hb *hb, liveness_time gap,
			       liveness_time *floor)
{
	if ((hb->peer & HB_OUT) && hb->ping_at >= hb->proof)
		return 0;
	*floor = sat_add(hb->proof, gap);
	return 1;
}

/*
 * liveness_hb_step() for a caller that steps on a grid of this many
 * nanoseconds (the group: its resolution; 1 for a caller that wakes at
 * the deadline itself), which also returns the new deadline, so that the
 * group re-files a member without computing it twice. The grid decides
 * what is a local stall: the caller is late only past the grid point at or
 * after the deadline, so the group's own rounding is never read as one.
 */
enum liveness_event liveness__hb_step(struct liveness_hb *hb, liveness_time now, uint32_t *seq,
				      liveness_time grid, liveness_time *next);

#endif
