/*
 * Out of memory in the group (lib/group.c): liveness_group_new() and
 * liveness_group_add() are its only calls that allocate. Each allocation is
 * made to fail through tests/wrap.c; the call must return -ENOMEM, leave
 * the caller's pointer and the member as they were, and the group must go on
 * working exactly like one that never ran short: the same events for the
 * same members at the same times, step by step.
 */
#include <check.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "liveness.h"
#include "util.h"
#include "wrap.h"

#define S LIVENESS_SEC
#define MS LIVENESS_MSEC

/* liveness_group_step() held to its contract (tests/util.h). */
#define step tu_group_step
/* Enough members for the group's room to grow several times (by half, from 64 chunks). */
#define MEMBERS 3000

START_TEST(init_out_of_memory_changes_nothing)
{
	struct liveness_group *g, *before;
	struct liveness_policy p;
	struct liveness_hb hb;
	enum liveness_event ev;
	unsigned calls;
	int r;

	memset(&g, 0x5a, sizeof(g));
	before = g;
	wrap_fail(WRAP_CALLOC, 1, 1, ENOMEM);
	r = liveness_group_new(&g, 100 * MS, 0);
	calls = wrap_calls(WRAP_CALLOC);
	wrap_reset();
	ck_assert_int_eq(r, -ENOMEM);
	ck_assert_uint_eq(calls, 1);
	ck_assert_mem_eq(&g, &before, sizeof(g));

	/* Memory back: the same call succeeds and the group works. */
	ck_assert_int_eq(liveness_group_new(&g, 100 * MS, 0), 0);
	ck_assert_int_eq(liveness_policy_init(&p, 30 * S, 90 * S), 0);
	memset(&hb, 0, sizeof(hb));
	ck_assert_int_eq(liveness_hb_init(&hb, &p, 0), 0);
	ck_assert_int_eq(liveness_group_add(g, &hb), 0);
	ck_assert_uint_le(liveness_group_deadline(g), 30 * S);
	ck_assert_ptr_eq(step(g, 30 * S, &ev, NULL), &hb);
	ck_assert_int_eq(ev, LIVENESS_PING);
	liveness_group_free(g);
	ck_assert_ptr_null(hb.pprev);
}
END_TEST

/* One step's output, to compare two groups by. */
struct rec {
	size_t member;
	enum liveness_event ev;
	uint32_t seq;
	liveness_time at;
};

/* Step g from now to until, every tick, recording what it returns in out (room for max). */
static size_t run(struct liveness_group *g, struct liveness_hb *hbs, liveness_time until,
		  struct rec *out, size_t max)
{
	size_t n = 0;
	liveness_time now;

	for (now = 0; now <= until; now += 100 * MS) {
		struct liveness_hb *hb;
		enum liveness_event ev;
		uint32_t seq = 0;

		while ((hb = step(g, now, &ev, &seq)) != NULL) {
			ck_assert_uint_lt(n, max);
			out[n++] = (struct rec){(size_t)(hb - hbs), ev, seq, now};
		}
	}
	return n;
}

/*
 * Fill g with the members, every one initialized anew, and when inject is
 * set refuse memory to each add that asks for it once before letting it
 * through. Returns how many adds were refused.
 */
static unsigned fill(struct liveness_group **gp, struct liveness_hb *hbs,
		     const struct liveness_policy *p, int inject)
{
	struct liveness_group *g;
	liveness_time before;
	unsigned refused = 0, calls;
	size_t i;
	int r;

	ck_assert_int_eq(liveness_group_new(gp, 100 * MS, 0), 0);
	g = *gp;
	for (i = 0; i < MEMBERS; i++) {
		/* Spread over a second, so that members share and span slots. */
		liveness_time at = (liveness_time)(i % 10) * 100 * MS;

		ck_assert_int_eq(liveness_hb_init(&hbs[i], p, at), 0);
		before = liveness_group_deadline(g);
		if (inject)
			wrap_fail(WRAP_ALIGNED_ALLOC, 1, 1, ENOMEM);
		r = liveness_group_add(g, &hbs[i]);
		calls = wrap_calls(WRAP_ALIGNED_ALLOC);
		wrap_reset();
		if (!inject || calls == 0) {
			ck_assert_int_eq(r, 0);
			continue;
		}
		ck_assert_msg(r == -ENOMEM, "member %zu: %d", i, r);
		ck_assert_ptr_null(hbs[i].pprev);
		ck_assert_uint_eq(liveness_group_deadline(g), before);
		refused++;
		ck_assert_int_eq(liveness_group_add(g, &hbs[i]), 0);
	}
	/* Every member is in: adding any again is refused as a second membership. */
	for (i = 0; i < MEMBERS; i++) {
		ck_assert_ptr_nonnull(hbs[i].pprev);
		ck_assert_int_eq(liveness_group_add(g, &hbs[i]), -EEXIST);
	}
	/* Remove every third member, then run until every member left is dead. */
	for (i = 0; i < MEMBERS; i += 3)
		liveness_group_remove(g, &hbs[i]);
	return refused;
}

START_TEST(add_out_of_memory_changes_nothing)
{
	struct liveness_group *g;
	struct liveness_policy p;
	struct liveness_hb *hbs = calloc(MEMBERS, sizeof(*hbs));
	size_t i, n_got, n_want, max = (size_t)MEMBERS * 8;
	struct rec *got = calloc(max, sizeof(*got)), *want = calloc(max, sizeof(*want));

	ck_assert_ptr_nonnull(hbs);
	ck_assert_ptr_nonnull(got);
	ck_assert_ptr_nonnull(want);
	ck_assert_int_eq(liveness_policy_init(&p, 30 * S, 90 * S), 0);
	/*
	 * The same members (a ping's jitter depends on the member), first in a
	 * group that never runs short, then in one refused memory at each
	 * growth: the first member, then by half, 64, 128, 192, 288, ... chunks.
	 */
	ck_assert_uint_eq(fill(&g, hbs, &p, 0), 0);
	n_want = run(g, hbs, 100 * S, want, max);
	liveness_group_free(g);
	ck_assert_uint_ge(fill(&g, hbs, &p, 1), 5);
	n_got = run(g, hbs, 100 * S, got, max);
	ck_assert_uint_eq(n_got, n_want);
	for (i = 0; i < n_got; i++)
		ck_assert_msg(got[i].member == want[i].member && got[i].ev == want[i].ev &&
				      got[i].seq == want[i].seq && got[i].at == want[i].at,
			      "step %zu differs from the group that never ran short", i);
	/* Pings, then a death for each member left, and then nothing. */
	ck_assert_uint_gt(n_got, MEMBERS / 3 * 2);
	ck_assert_uint_eq(liveness_group_deadline(g), LIVENESS_NEVER);
	for (i = 0; i < MEMBERS; i++)
		ck_assert_ptr_null(hbs[i].pprev);
	liveness_group_free(g);
	free(hbs);
	free(got);
	free(want);
}
END_TEST

START_TEST(first_add_out_of_memory_leaves_group_empty)
{
	struct liveness_group *g, *before;
	struct liveness_policy p;
	struct liveness_hb hb;
	enum liveness_event ev;
	int r;

	ck_assert_int_eq(liveness_policy_init(&p, 30 * S, 90 * S), 0);
	ck_assert_int_eq(liveness_group_new(&g, 100 * MS, 0), 0);
	memset(&hb, 0, sizeof(hb));
	ck_assert_int_eq(liveness_hb_init(&hb, &p, 0), 0);
	before = g;
	wrap_fail(WRAP_ALIGNED_ALLOC, 1, 0, ENOMEM);
	r = liveness_group_add(g, &hb);
	wrap_reset();
	ck_assert_int_eq(r, -ENOMEM);
	ck_assert_mem_eq(&g, &before, sizeof(g));
	ck_assert_ptr_null(hb.pprev);
	ck_assert_uint_eq(liveness_group_deadline(g), LIVENESS_NEVER);
	ck_assert_ptr_null(step(g, 10 * S, &ev, NULL));
	ck_assert_int_eq(ev, LIVENESS_NONE);
	/* The hb is free to join once memory is back, and keeps its own schedule. */
	ck_assert_int_eq(liveness_group_add(g, &hb), 0);
	ck_assert_uint_le(liveness_group_deadline(g), 30 * S);
	ck_assert_ptr_eq(step(g, 30 * S, &ev, NULL), &hb);
	ck_assert_int_eq(ev, LIVENESS_PING);
	liveness_group_free(g);
}
END_TEST

/* Members (1 on) whose add allocates, for resolution res; returns how many in at. */
static size_t growth_points(struct liveness_group *g, struct liveness_hb *hbs, size_t n,
			    const struct liveness_policy *p, unsigned *at, size_t max)
{
	size_t k = 0;

	for (size_t i = 0; i < n; i++) {
		unsigned calls;
		int r;

		if (liveness_hb_init(&hbs[i], p, (liveness_time)(i % 600) * 100 * MS) != 0)
			ck_abort_msg("init %zu", i);
		wrap_reset();
		r = liveness_group_add(g, &hbs[i]);
		calls = wrap_calls(WRAP_ALIGNED_ALLOC);
		wrap_reset();
		if (r != 0 || calls > 1)
			ck_abort_msg("member %zu: add %d, %u allocations", i, r, calls);
		if (calls == 1) {
			ck_assert_uint_lt(k, max);
			at[k++] = (unsigned)i + 1;
		}
	}
	return k;
}

/*
 * The documented rule, as a plain model: the room is counted in chunks of
 * 512 bytes holding (512 - 2 pointers) / pointer member pointers (62 on
 * LP64, 126 on ILP32); m members need a chunk for every 62 (or 126) of them
 * and one more for each list they may start, at most one per list (slots +
 * the due and never lists); when an add needs more, the room grows by half,
 * and by 64 chunks at first. Fills at[] with the members (1 on) whose add
 * grows it, among the first n; returns how many.
 */
static size_t model_growth(size_t n, size_t lists, unsigned *at, size_t max)
{
	size_t entries = (512 - 2 * sizeof(void *)) / sizeof(void *), room = 0, k = 0;

	for (size_t m = 1; m <= n; m++) {
		size_t need = (m + entries - 1) / entries + (m < lists ? m : lists);

		if (need <= room)
			continue;
		room += room / 2 > 64 ? room / 2 : 64;
		ck_assert_uint_ge(room, need);
		ck_assert_uint_lt(k, max);
		at[k++] = (unsigned)m;
	}
	return k;
}

/*
 * The room for members grows as documented (model_growth()): the adds that
 * allocate are the model's and no other, at 100 ms (1024 slots) and at 1 s
 * (256), and on LP64 they are the figures the documentation's numbers give.
 * Members that leave (removed, or stepped dead) give their room back to
 * those that join after them.
 */
START_TEST(room_grows_by_half)
{
	static const unsigned at_1s[] = {1, 63, 126, 189, 1861};
	static const unsigned at_100ms[] = {1, 63, 126, 189, 284, 426, 638, 957};
	struct liveness_policy p;
	enum { MOST = 8000 }; /* enough for the fifth size at 1 s on ILP32 too (3781) */
	struct liveness_hb *hbs = calloc(MOST, sizeof(*hbs)), *got;
	struct liveness_group *g;
	unsigned at[16], want[16];
	size_t n_want, fill;

	ck_assert_ptr_nonnull(hbs);
	ck_assert_int_eq(liveness_policy_init(&p, 30 * S, 90 * S), 0);
	n_want = model_growth(1000, 1024 + 2, want, 16);
	if (sizeof(void *) == 8) {
		ck_assert_uint_eq(n_want, 8);
		ck_assert_mem_eq(want, at_100ms, sizeof(at_100ms));
	}
	ck_assert_int_eq(liveness_group_new(&g, 100 * MS, 0), 0);
	ck_assert_uint_eq(growth_points(g, hbs, 1000, &p, at, 16), n_want);
	ck_assert_mem_eq(at, want, n_want * sizeof(*want));
	liveness_group_free(g);

	/*
	 * At 1 s: as many members as fill the room at its fourth size (1860 on
	 * LP64, in 288 chunks), whose next one (the fifth growth) would grow it.
	 */
	n_want = model_growth(MOST - 1, 256 + 2, want, 16);
	ck_assert_uint_ge(n_want, 5);
	if (sizeof(void *) == 8) {
		ck_assert_uint_eq(n_want, 5);
		ck_assert_mem_eq(want, at_1s, sizeof(at_1s));
	}
	fill = want[4] - 1;
	ck_assert_int_eq(liveness_group_new(&g, S, 0), 0);
	ck_assert_uint_eq(growth_points(g, hbs, fill, &p, at, 16), 4);
	ck_assert_mem_eq(at, want, 4 * sizeof(*want));
	/* 100 leave, removed; 100 join: no allocation. */
	for (int i = 0; i < 100; i++)
		liveness_group_remove(g, &hbs[i]);
	ck_assert_uint_eq(growth_points(g, hbs, 100, &p, at, 16), 0);
	/* Every member dies in the silence; fill + 1 join again: only the last allocates. */
	for (liveness_time t = 0; t != LIVENESS_NEVER; t = liveness_group_deadline(g))
		while ((got = step(g, t, NULL, NULL)) != NULL)
			;
	ck_assert_uint_eq(growth_points(g, hbs, fill + 1, &p, at, 16), 1);
	ck_assert_uint_eq(at[0], fill + 1);
	liveness_group_free(g);
	free(hbs);
}
END_TEST

/*
 * The room reserved is enough for the worst spread of members, with no
 * allocation after the adds: every list of a 256-slot wheel started (each
 * slot, the due list and the never list), and the other members on one
 * slot, as many as the room at its fifth size (648 chunks) takes. Each list
 * then holds a partly full chunk, 643 chunks in all. Stepping them all
 * moves them between lists and allocates nothing either.
 */
START_TEST(room_is_enough_for_the_worst_spread)
{
	enum { BIG = 23923, N = BIG + 255 + 2 };
	struct liveness_hb *hbs = calloc(N, sizeof(*hbs)), *got;
	struct liveness_policy p;
	struct liveness_group *g;
	enum liveness_event ev;
	unsigned calls;
	int pings = 0;

	ck_assert_ptr_nonnull(hbs);
	ck_assert_int_eq(liveness_policy_init(&p, 30 * S, 90 * S), 0);
	p.jitter = 0;
	ck_assert_int_eq(liveness_group_new(&g, S, 100 * S), 0);
	for (int i = 0; i < N; i++) {
		/* One slot (130 s), 255 singles on the others, one overdue, one never due. */
		liveness_time at = i < BIG	   ? 100 * S
				   : i < BIG + 255 ? (liveness_time)(101 + i - BIG) * S
				   : i == N - 2	   ? 0
						   : LIVENESS_NEVER - 10;

		if (liveness_hb_init(&hbs[i], &p, at) != 0 || liveness_group_add(g, &hbs[i]) != 0)
			ck_abort_msg("member %d", i);
	}
	ck_assert_uint_eq(liveness_hb_deadline(&hbs[N - 1]), LIVENESS_NEVER);
	ck_assert_uint_eq(liveness_group_deadline(g), 100 * S);
	wrap_reset();
	while ((got = step(g, 130 * S, &ev, NULL)) != NULL) {
		if (ev != LIVENESS_PING || (got - hbs >= BIG && got - hbs != N - 2))
			ck_abort_msg("member %d: %d", (int)(got - hbs), ev);
		pings++;
	}
	calls = wrap_calls(WRAP_ALIGNED_ALLOC);
	wrap_reset();
	ck_assert_uint_eq(calls, 0);
	ck_assert_int_eq(pings, BIG + 1);
	liveness_group_free(g);
	free(hbs);
}
END_TEST

Suite *oom_suite(void)
{
	Suite *s = suite_create("oom");
	TCase *tc = tcase_create("oom");

	tcase_add_test(tc, init_out_of_memory_changes_nothing);
	tcase_add_test(tc, add_out_of_memory_changes_nothing);
	tcase_add_test(tc, first_add_out_of_memory_leaves_group_empty);
	tcase_add_test(tc, room_grows_by_half);
	tcase_add_test(tc, room_is_enough_for_the_worst_spread);
	suite_add_tcase(s, tc);
	return s;
}
