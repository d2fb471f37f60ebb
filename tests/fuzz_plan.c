/*
 * libFuzzer target for the schedule model and the planner: arbitrary
 * settings, flags and budgets. Invariants:
 *  - liveness_tcp_bound() never crashes; invalid settings or flags give 0,
 *    which no valid setting gives; the nominal schedule never exceeds the
 *    worst case; idle with keepalive off is LIVENESS_NEVER;
 *  - liveness_tcp_plan() either fails with -EINVAL/-ERANGE leaving *t
 *    untouched, or returns valid settings whose idle and busy worst cases
 *    lie within [budget / 2, budget].
 */
#include <errno.h>
#include <limits.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz_input.h"
#include "liveness.h"

static int valid(const struct liveness_tcp *t)
{
	return (t->keepalive == 0 || t->keepalive == 1) && t->idle >= 1 && t->idle <= 32767 &&
	       t->interval >= 1 && t->interval <= 32767 && t->count >= 1 && t->count <= 127 &&
	       t->user_timeout <= INT_MAX;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct liveness_tcp t, p, before;
	uint64_t budget = 0;
	int flags = 0, f;

	if (size < sizeof(t) + sizeof(budget) + sizeof(flags))
		return 0;
	memcpy(&t, data, sizeof(t));
	memcpy(&budget, data + sizeof(t), sizeof(budget));
	memcpy(&flags, data + sizeof(t) + sizeof(budget), sizeof(flags));
	/* Half the inputs get a nudge towards the valid ranges, to go deeper. */
	if (budget & 1) {
		t.keepalive &= 1;
		t.idle = 1 + (int)((unsigned)t.idle % 32767);
		t.interval = 1 + (int)((unsigned)t.interval % 32767);
		t.count = 1 + (int)((unsigned)t.count % 127);
		t.user_timeout %= (unsigned)INT_MAX + 1;
		flags &= 3;
	}

	for (f = 0; f < 4; f++) {
		/* The busy case without a user timeout reads /proc; keep the fuzzer pure. */
		struct liveness_tcp u = t;
		liveness_time worst, nominal;
		if ((f & LIVENESS_BUSY) && u.user_timeout == 0)
			u.user_timeout = 1;
		worst = liveness_tcp_bound(&u, f & LIVENESS_BUSY);
		nominal = liveness_tcp_bound(&u, (f & LIVENESS_BUSY) | LIVENESS_NOMINAL);
		if (!valid(&u)) {
			CHECK(worst == 0 && nominal == 0);
			continue;
		}
		CHECK(worst > 0 && nominal > 0);
		if (!(f & LIVENESS_BUSY) && !u.keepalive)
			CHECK(worst == LIVENESS_NEVER && nominal == LIVENESS_NEVER);
		CHECK(nominal <= worst);
		CHECK(nominal >= LIVENESS_SEC || (f & LIVENESS_BUSY));
	}
	if (flags & ~3)
		CHECK(liveness_tcp_bound(&t, flags) == 0);

	/* Budgets up to ~50 days, in nanoseconds, or the raw 64-bit value. */
	if (budget & 2)
		budget %= 50ull * 86400 * LIVENESS_SEC;
	memset(&p, 0xa5, sizeof(p));
	before = p;
	if (liveness_tcp_plan(&p, budget) != 0) {
		CHECK(memcmp(&p, &before, sizeof(p)) == 0);
		return 0;
	}
	CHECK(valid(&p) && p.keepalive == 1 && p.linger == -1 && p.user_timeout > 0);
	CHECK(liveness_tcp_bound(&p, LIVENESS_IDLE) <= budget);
	CHECK(liveness_tcp_bound(&p, LIVENESS_BUSY) <= budget);
	CHECK(liveness_tcp_bound(&p, LIVENESS_IDLE) >= budget / 2);
	CHECK(liveness_tcp_bound(&p, LIVENESS_BUSY) >= budget / 2);
	return 0;
}
