/*
 * libFuzzer target for layers 3 and 4: random sequences of operations on a
 * few heartbeats, standalone and in a group, at random times (forwards,
 * backwards, huge jumps, near LIVENESS_NEVER). Invariants, checked after
 * every operation (a violation traps):
 *  - init with a bad policy fails with -EINVAL, init of a member with
 *    -EBUSY, and either changes nothing;
 *  - rx, pong and peer_ping never move a deadline earlier;
 *  - DEAD never comes before timeout after the last proof of life, as a
 *    plain reference model of the inputs computes it;
 *  - a well-spaced peer ping is always answered;
 *  - the group returns only members, DEAD ones leave it, PING ones stay;
 *    after a complete round of steps at now, no member is due in a tick
 *    that ended at or before now, and the group's deadline is never later
 *    than a member's deadline rounded up to the resolution (so no verdict
 *    is later than that).
 */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz_input.h"
#include "liveness.h"

#define NHB 12
#define NPOL 3

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* A time step: mostly small and forwards, sometimes backwards or enormous. */
static liveness_time advance(struct in *in, liveness_time now)
{
	static const liveness_time unit[] = {1,
					     LIVENESS_USEC,
					     LIVENESS_MSEC,
					     100 * LIVENESS_MSEC,
					     LIVENESS_SEC,
					     60 * LIVENESS_SEC};
	uint8_t op = (uint8_t)take(in, 1);
	liveness_time d = take(in, 1) * unit[op % 6];

	switch (op >> 5) {
	case 0: return now > d ? now - d : 0; /* backwards */
	case 1: return take(in, 8);	      /* anywhere */
	case 2: return LIVENESS_NEVER - take(in, 2) * unit[op % 6] / 4;
	default: return now > LIVENESS_NEVER - d ? LIVENESS_NEVER : now + d;
	}
}

struct ref {
	int live;   /* initialized */
	int member; /* in the group */
	int dead;   /* DEAD returned */
	int flood;
	liveness_time clk;	 /* its clock: latest proof or ping time */
	liveness_time proof;	 /* reference last proof of life */
	liveness_time peer_last; /* last answered peer ping */
	int peer_any;
	uint32_t seq; /* last ping */
	int ping_out;
	const struct liveness_policy *p;
};

static liveness_time tmax(liveness_time a, liveness_time b)
{
	return a > b ? a : b;
}

static void check_dead(const struct ref *r, liveness_time now)
{
	liveness_time clock = tmax(now, r->clk);

	CHECK(r->proof <= LIVENESS_NEVER - r->p->timeout);
	CHECK(clock >= r->proof + r->p->timeout);
}

static int representable(liveness_time d, liveness_time res)
{
	return d != LIVENESS_NEVER && d / res + (d % res != 0) <= (LIVENESS_NEVER - 1) / res;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct in in = {data, size};
	struct liveness_policy pol[NPOL];
	struct liveness_hb hb[NHB];
	struct ref ref[NHB];
	struct liveness_group *g;
	liveness_time now = take(&in, 4) * LIVENESS_MSEC, res, gnow;

	memset(hb, 0, sizeof(hb));
	memset(ref, 0, sizeof(ref));
	for (int i = 0; i < NPOL; i++) {
		liveness_time iv = 1 + take(&in, 2) * LIVENESS_MSEC;

		if (liveness_policy_init(&pol[i], iv, iv + take(&in, 2) * LIVENESS_MSEC) != 0)
			__builtin_trap();
		if (take(&in, 1) & 1) {
			pol[i].retry = take(&in, 3) * LIVENESS_MSEC;
			pol[i].jitter = (unsigned)take(&in, 1);
			pol[i].flags = (unsigned)take(&in, 1) & 7;
			pol[i].peer_min_interval = take(&in, 2) * LIVENESS_MSEC;
			pol[i].peer_max_strikes = (unsigned)take(&in, 1);
		}
	}
	{
		/* The first one, 1 ns, makes the biggest wheel: slower, so not the default. */
		static const liveness_time resolutions[] = {100 * LIVENESS_MSEC,
							    LIVENESS_MSEC,
							    LIVENESS_SEC,
							    7 * LIVENESS_MSEC,
							    30 * LIVENESS_SEC,
							    LIVENESS_USEC,
							    1,
							    333 * LIVENESS_MSEC};

		res = resolutions[take(&in, 1) % 8];
	}
	CHECK(liveness_group_new(&g, 0, now) == -EINVAL);
	if (liveness_group_new(&g, res, now) != 0)
		return 0;
	gnow = now;

	while (in.n > 0) {
		uint8_t op = (uint8_t)take(&in, 1);
		int i = (op >> 4) % NHB;
		struct liveness_hb *h = &hb[i];
		struct ref *r = &ref[i];
		liveness_time before = liveness_hb_deadline(h);
		uint32_t seq;
		int rc;

		now = advance(&in, now);
		switch (op & 15) {
		case 0: { /* init: refused while in the group */
			const struct liveness_policy *p = &pol[take(&in, 1) % NPOL];
			struct liveness_hb copy = *h;

			rc = liveness_hb_init(h, p, now);
			if (rc != 0) {
				CHECK(rc == -EINVAL || (rc == -EBUSY && r->member));
				CHECK(memcmp(&copy, h, sizeof(copy)) == 0);
				break;
			}
			CHECK(!r->member);
			memset(r, 0, sizeof(*r));
			r->live = 1;
			r->p = p;
			r->clk = now;
			r->proof = now;
			continue;
		}
		case 1:
		case 2:
		case 3: /* bytes */
			liveness_hb_rx(h, now);
			if (r->live && !(r->p->flags & LIVENESS_ROUND_TRIP)) {
				r->proof = tmax(r->proof, now);
				r->clk = tmax(r->clk, now);
			}
			break;
		case 4: /* pong: the right one, or a wrong one */
			seq = take(&in, 1) & 1 ? r->seq : (uint32_t)take(&in, 4);
			liveness_hb_pong(h, seq, now);
			if (r->live && r->ping_out && seq == r->seq) {
				r->clk = tmax(r->clk, now);
				r->proof = r->clk;
				r->ping_out = 0;
			}
			break;
		case 5: /* the peer pings us */
			rc = liveness_hb_peer_ping(h, now);
			if (!r->live) {
				CHECK(rc == -EINVAL);
				break;
			}
			CHECK(rc == 1 || rc == 0 || rc == -EPERM);
			if (rc == -EPERM)
				r->flood = 1;
			else
				CHECK(!r->flood);
			if (!r->flood &&
			    (!r->peer_any || (now >= r->peer_last &&
					      now - r->peer_last >= r->p->peer_min_interval)))
				CHECK(rc == 1);
			if (rc == 1 && (!r->peer_any || now >= r->peer_last)) {
				r->peer_last = now;
				r->peer_any = 1;
			}
			break;
		case 6: /* step alone (members are stepped by the group) */
			if (r->member)
				break;
			switch (liveness_hb_step(h, now, &seq)) {
			case LIVENESS_PING:
				CHECK(r->live && !r->dead);
				r->seq = seq;
				r->ping_out = 1;
				r->clk = tmax(r->clk, now);
				break;
			case LIVENESS_DEAD:
				CHECK(r->live && !r->dead);
				check_dead(r, now);
				r->dead = 1;
				CHECK(liveness_hb_deadline(h) == LIVENESS_NEVER);
				break;
			default:
				/* NONE only before the deadline; a saturated deadline is never due.
				 */
				CHECK(!r->live || r->dead || tmax(now, r->clk) < before ||
				      before == LIVENESS_NEVER);
			}
			continue;
		case 7:
		case 8: /* join */
			rc = liveness_group_add(g, h);
			if (!r->live || r->member || r->p->retry < res) {
				CHECK(rc == (r->member ? -EEXIST : -EINVAL));
				break;
			}
			CHECK(rc == 0);
			r->member = 1;
			continue;
		case 9: /* leave, maybe twice */
			liveness_group_remove(g, h);
			liveness_group_remove(g, h);
			r->member = 0;
			CHECK(h->pprev == NULL);
			continue;
		default: { /* step the group at now, or at its deadline */
			liveness_time gd = liveness_group_deadline(g);
			int partial = (op & 15) == 10, n = 0;
			struct liveness_hb *got;
			enum liveness_event ev;

			if ((op & 15) >= 13 && gd != LIVENESS_NEVER)
				now = gd;
			gnow = tmax(gnow, now);
			while ((rc = liveness_group_step(g, now, &got, &ev, &seq)) > 0) {
				int j = (int)(got - hb);
				struct ref *m = &ref[j];

				CHECK(got >= hb && got < hb + NHB && m->member && !m->dead);
				if (ev == LIVENESS_DEAD) {
					check_dead(m, gnow);
					m->dead = 1;
					m->member = 0;
					CHECK(got->pprev == NULL);
				} else {
					CHECK(ev == LIVENESS_PING);
					CHECK(got->pprev != NULL);
					m->seq = seq;
					m->ping_out = 1;
					m->clk = tmax(m->clk, gnow);
				}
				if (partial && ++n == 2)
					break;
			}
			/*
			 * The group steps by whole ticks: a deadline inside the tick
			 * that now has not finished is stepped at its end, within
			 * one resolution, like any other.
			 */
			if (got == NULL)
				for (int j = 0; j < NHB; j++) {
					liveness_time d = liveness_hb_deadline(&hb[j]);

					if (ref[j].member && representable(d, res))
						CHECK(d / res + (d % res != 0) > gnow / res);
				}
			continue;
		}
		}
		/* Nothing but a step moves a deadline earlier. */
		CHECK(liveness_hb_deadline(h) >= before);
		{
			liveness_time gd = liveness_group_deadline(g);
			int any = 0;

			for (int j = 0; j < NHB; j++) {
				liveness_time d = liveness_hb_deadline(&hb[j]);

				if (!ref[j].member)
					continue;
				any = 1;
				if (representable(d, res))
					CHECK(gd <= tmax((d / res + (d % res != 0)) * res, gnow));
			}
			if (!any)
				CHECK(gd == LIVENESS_NEVER);
		}
	}
	liveness_group_free(g);
	for (int j = 0; j < NHB; j++)
		CHECK(hb[j].pprev == NULL);
	return 0;
}
