/*
 * Layer 3: the heartbeat state machine of one connection. Pure: no
 * syscalls, no clock, no allocation; the caller passes time in and sends the
 * pings this code asks for (the ngtcp2 "sans-I/O" pattern).
 *
 * The whole state is a handful of times. Everything due is derived from
 * them by hb_due() on demand, so that liveness_hb_rx() is one store and the
 * group can re-file a connection lazily (see lib/group.c). hb_due() is
 * monotone: no call other than a step ever moves the deadline earlier,
 * which is what makes that laziness safe.
 */
#include <errno.h>
#include <string.h>

#include "hb_private.h"

/* The size is part of the ABI, as the header promises: 48 bytes with 64-bit pointers, 40 with 32.
 */
_Static_assert(sizeof(void *) != 8 || sizeof(struct liveness_hb) == 48,
	       "struct liveness_hb is ABI: 48 bytes on LP64");
_Static_assert(sizeof(void *) != 4 || sizeof(struct liveness_hb) == 40,
	       "struct liveness_hb is ABI: 40 bytes on ILP32");
/* Frozen for 1.x, fields and size (liveness(3)); i386 aligns 64-bit integers to 4 bytes. */
_Static_assert(sizeof(struct liveness_policy) == (_Alignof(liveness_time) == 4 ? 44 : 48),
	       "struct liveness_policy is ABI: 48 bytes, 44 where 64-bit integers align to 4");

#define HB_MAX_STRIKES 254u
#define HB_KNOWN_FLAGS (LIVENESS_ROUND_TRIP | LIVENESS_RTT_TIMEOUT)

/* hb_due() and its parts are in hb_private.h, for the group to use in line. */

/*
 * The sequence number of a ping is a hash of the time it was sent: pings of
 * one connection are sent at distinct times, and the state stays within
 * 48 bytes. A stale pong matches the current ping with probability 2^-32.
 */
static uint32_t hb_seq(liveness_time sent)
{
	uint64_t x = sent + 0x9e3779b97f4a7c15u;

	x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9u;
	x = (x ^ (x >> 27)) * 0x94d049bb133111ebu;
	return (uint32_t)(x ^ (x >> 31));
}

static int policy_valid(const struct liveness_policy *p)
{
	return p->interval > 0 && p->timeout >= p->interval && p->retry > 0 &&
	       p->retry <= p->interval && p->jitter <= 100 && !(p->flags & ~HB_KNOWN_FLAGS) &&
	       p->peer_max_strikes <= HB_MAX_STRIKES;
}

LIVENESS_EXPORT int liveness_policy_init(struct liveness_policy *p, liveness_time interval,
					 liveness_time timeout)
{
	liveness_time retry;

	if (p == NULL || interval == 0 || timeout < interval)
		return -EINVAL;
	/*
	 * Three retries fit between the first ping and the verdict, like the
	 * kernel's three keepalive probes; but not so few that a long timeout
	 * leaves the peer unprobed for long, and never more often than four
	 * per interval, so a dead peer does not cost a ping storm.
	 */
	retry = (timeout - interval) / 3;
	if (retry < interval / 4)
		retry = interval / 4;
	if (retry > interval)
		retry = interval;
	if (retry == 0)
		retry = 1;
	memset(p, 0, sizeof(*p));
	p->interval = interval;
	p->timeout = timeout;
	p->retry = retry;
	p->jitter = 10;
	p->flags = 0;
	/* A peer on the same policy never pings closer than retry apart. */
	p->peer_min_interval = retry / 2;
	p->peer_max_strikes = 2; /* gRPC's default */
	return 0;
}

LIVENESS_EXPORT int liveness_hb_init(struct liveness_hb *hb, const struct liveness_policy *p,
				     liveness_time now)
{
	if (hb == NULL || p == NULL || !policy_valid(p))
		return -EINVAL;
	/*
	 * A member's group holds a pointer to it: wiping its state would leave
	 * that entry dangling once the caller frees the object, so a member
	 * must leave its group first. This reads hb, which is why the memory
	 * must be zeroed or hold an hb before the first init.
	 */
	if (hb->pprev != NULL)
		return -EBUSY;
	memset(hb, 0, sizeof(*hb));
	hb->policy = p;
	hb->proof = now; /* a new connection is its own proof of life */
	if (p->flags & LIVENESS_ROUND_TRIP)
		hb->peer = HB_ROUND_TRIP;
	return 0;
}

LIVENESS_EXPORT void liveness_hb_rx(struct liveness_hb *hb, liveness_time now)
{
	/*
	 * The per-packet path: compare and store, no timer work. The group
	 * finds out lazily, when the old deadline comes up.
	 */
	if (hb != NULL && now > hb->proof && !(hb->peer & HB_ROUND_TRIP))
		hb->proof = now;
}

/* RFC 6298 section 2, in microseconds, rounding down. */
static void hb_rtt_sample(struct liveness_hb *hb, liveness_time rtt)
{
	uint64_t r = rtt / LIVENESS_USEC, srtt = hb->srtt_us, var = hb->rttvar_us;

	if (r > UINT32_MAX)
		r = UINT32_MAX;
	if (!(hb->peer & HB_RTT)) {
		srtt = r;
		var = r / 2;
		hb->peer |= HB_RTT;
	} else {
		var = (3 * var + (srtt > r ? srtt - r : r - srtt)) / 4;
		srtt = (7 * srtt + r) / 8;
	}
	hb->srtt_us = (uint32_t)srtt;
	hb->rttvar_us = (uint32_t)var;
}

LIVENESS_EXPORT void liveness_hb_pong(struct liveness_hb *hb, uint32_t seq, liveness_time now)
{
	if (hb == NULL || hb->policy == NULL || !(hb->peer & HB_OUT) || seq != hb_seq(hb->ping_at))
		return;
	now = hb_clamp(hb, now);
	hb->peer &= ~(uint64_t)HB_OUT;
	hb_rtt_sample(hb, now - hb->ping_at);
	hb->proof = now;
}

LIVENESS_EXPORT int liveness_hb_peer_ping(struct liveness_hb *hb, liveness_time now)
{
	const struct liveness_policy *p;
	uint64_t last, strikes;

	if (hb == NULL || hb->policy == NULL)
		return -EINVAL;
	p = hb->policy;
	if (hb->peer & HB_FLOOD)
		return -EPERM;
	if (p->peer_min_interval == 0)
		return 1;
	last = hb->peer & HB_TIME_MASK;
	/*
	 * A well-spaced ping is answered and forgives earlier strikes, so the
	 * peer can never get more than peer_max_strikes + 1 pings per
	 * peer_min_interval. A clock that runs backwards earns no strike.
	 */
	if (!(hb->peer & HB_PEER) || now < last || now - last >= p->peer_min_interval) {
		if (!(hb->peer & HB_PEER) || now >= last)
			hb->peer = (now & HB_TIME_MASK) | HB_PEER | (hb->peer & 0xffu);
		return 1;
	}
	strikes = ((hb->peer & HB_STRIKE_MASK) >> HB_STRIKE_SHIFT) + 1;
	if (strikes > p->peer_max_strikes) {
		hb->peer |= HB_FLOOD;
		return -EPERM;
	}
	hb->peer = (hb->peer & ~(uint64_t)HB_STRIKE_MASK) | strikes << HB_STRIKE_SHIFT;
	return 0;
}

LIVENESS_EXPORT liveness_time liveness_hb_deadline(const struct liveness_hb *hb)
{
	/* 0 for bad input, which no deadline is: every one is after the hb's start. */
	if (hb == NULL || hb->policy == NULL)
		return 0;
	return hb_due(hb);
}

static void hb_ping(struct liveness_hb *hb, liveness_time now, uint32_t *seq)
{
	hb->ping_at = now;
	hb->peer |= HB_PINGED | HB_OUT;
	if (seq != NULL)
		*seq = hb_seq(now);
}

enum liveness_event liveness__hb_step(struct liveness_hb *hb, liveness_time now, uint32_t *seq,
				      liveness_time grid, liveness_time *next)
{
	const struct liveness_policy *p;
	liveness_time due, dead, wait, credit, late;
	enum liveness_event ev;

	due = hb_due(hb);
	if (due == LIVENESS_NEVER || (now = hb_clamp(hb, now)) < due) {
		*next = due;
		return LIVENESS_NONE;
	}
	p = hb->policy;
	dead = hb_dead_due(hb, p);
	/* How late the caller's loop is: past the first grid point at or after due. */
	late = sat_sub(now - due, (grid - due % grid) % grid);
	if (late > p->retry) {
		/*
		 * A local stall: the loop ran more than retry after it was due
		 * to, so our pings were not sent on time and the silence may be
		 * ours. No verdict now: ping, and give the peer the usual time
		 * to answer, timeout - interval but at least retry, by crediting
		 * proof as if the ping had been on time. Saturating both ways:
		 * a clock near its epoch credits no earlier than 0.
		 */
		wait = hb_timeout(hb, p) - p->interval;
		if (wait < p->retry)
			wait = p->retry;
		/*
		 * wait <= timeout (retry <= interval <= timeout), so the credit
		 * is never after now, even when now + wait saturates.
		 */
		credit = sat_sub(sat_add(now, wait), hb_timeout(hb, p));
		hb->proof = max_time(hb->proof, credit);
		hb_ping(hb, now, seq);
		ev = LIVENESS_PING;
	} else if (dead != LIVENESS_NEVER && now >= dead) {
		/* (A verdict time that saturated is no time, even when now is LIVENESS_NEVER.) */
		hb->peer |= HB_DEAD;
		ev = LIVENESS_DEAD;
	} else {
		hb_ping(hb, now, seq);
		ev = LIVENESS_PING;
	}
	*next = hb_due(hb);
	return ev;
}

LIVENESS_EXPORT int liveness_hb_step(struct liveness_hb *hb, liveness_time now, uint32_t *seq)
{
	liveness_time next;

	if (hb == NULL || hb->policy == NULL)
		return -EINVAL;
	return (int)liveness__hb_step(hb, now, seq, 1, &next);
}

LIVENESS_EXPORT int liveness_hb_last_proof(const struct liveness_hb *hb, liveness_time *at)
{
	if (hb == NULL || hb->policy == NULL || at == NULL)
		return -EINVAL;
	*at = hb->proof;
	return 0;
}

LIVENESS_EXPORT liveness_time liveness_hb_rtt(const struct liveness_hb *hb)
{
	if (hb == NULL || hb->policy == NULL)
		return LIVENESS_NEVER; /* bad input: no round trip takes that long */
	if (!(hb->peer & HB_RTT))
		return 0;
	return (liveness_time)hb->srtt_us * LIVENESS_USEC;
}
