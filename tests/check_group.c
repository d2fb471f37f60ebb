/*
 * Layer 4: the group (timing wheel) over many heartbeats, driven by an
 * injected clock, and a randomized simulation of thousands of peers checked
 * against a plain reference model.
 */
#include <check.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "liveness.h"

#define S LIVENESS_SEC
#define MS LIVENESS_MSEC

static struct liveness_policy exact(liveness_time interval, liveness_time timeout,
				    liveness_time retry)
{
	struct liveness_policy p;

	ck_assert_int_eq(liveness_policy_init(&p, interval, timeout), 0);
	p.retry = retry;
	p.jitter = 0;
	return p;
}

static liveness_time ceil_to(liveness_time t, liveness_time res)
{
	return (t + res - 1) / res * res;
}

START_TEST(init_rejects)
{
	struct liveness_group g, before;

	memset(&g, 0x5a, sizeof(g));
	before = g;
	ck_assert_int_eq(liveness_group_init(NULL, MS, 0), -EINVAL);
	ck_assert_int_eq(liveness_group_init(&g, 0, 0), -EINVAL);
	ck_assert_mem_eq(&g, &before, sizeof(g));
	ck_assert_int_eq(liveness_group_init(&g, 1, 0), 0);
	liveness_group_free(&g);
	ck_assert_int_eq(liveness_group_init(&g, LIVENESS_NEVER, LIVENESS_NEVER), 0);
	ck_assert_uint_eq(liveness_group_deadline(&g), LIVENESS_NEVER);
	liveness_group_free(&g);
	liveness_group_free(&g); /* twice: a no-op */
	liveness_group_free(NULL);
	ck_assert_uint_eq(liveness_group_deadline(NULL), LIVENESS_NEVER);
	ck_assert_ptr_null(liveness_group_step(NULL, 0, NULL, NULL));
}
END_TEST

START_TEST(add_rejects)
{
	struct liveness_policy p = exact(30 * S, 90 * S, 20 * S), fine = p;
	struct liveness_group g;
	struct liveness_hb hb, zero;

	memset(&zero, 0, sizeof(zero));
	ck_assert_int_eq(liveness_group_init(&g, 100 * MS, 0), 0);
	ck_assert_int_eq(liveness_hb_init(&hb, &p, 0), 0);
	ck_assert_int_eq(liveness_group_add(NULL, &hb), -EINVAL);
	ck_assert_int_eq(liveness_group_add(&g, NULL), -EINVAL);
	ck_assert_int_eq(liveness_group_add(&g, &zero), -EINVAL);
	ck_assert_int_eq(liveness_group_add(&g, &hb), 0);
	ck_assert_int_eq(liveness_group_add(&g, &hb), -EEXIST);
	/* A retry the wheel cannot keep. */
	fine.retry = 99 * MS;
	ck_assert_int_eq(liveness_hb_init(&zero, &fine, 0), 0);
	ck_assert_int_eq(liveness_group_add(&g, &zero), -EINVAL);
	ck_assert_ptr_null(zero.pprev);
	liveness_group_free(&g);
	ck_assert_ptr_null(hb.pprev);
}
END_TEST

START_TEST(deadline_and_steps)
{
	struct liveness_policy p = exact(30 * S, 90 * S, 20 * S);
	struct liveness_group g;
	struct liveness_hb hb;
	enum liveness_event ev;
	uint32_t seq;
	liveness_time res = 100 * MS, t0 = 1234567, d;

	ck_assert_int_eq(liveness_group_init(&g, res, t0), 0);
	ck_assert_uint_eq(liveness_group_deadline(&g), LIVENESS_NEVER);
	ck_assert_ptr_null(liveness_group_step(&g, t0, &ev, &seq));
	ck_assert_int_eq(ev, LIVENESS_NONE);
	ck_assert_int_eq(liveness_hb_init(&hb, &p, t0), 0);
	ck_assert_int_eq(liveness_group_add(&g, &hb), 0);
	d = liveness_hb_deadline(&hb);
	ck_assert_uint_eq(liveness_group_deadline(&g), ceil_to(d, res));
	ck_assert_ptr_null(liveness_group_step(&g, d - 1, &ev, &seq));
	ck_assert_ptr_eq(liveness_group_step(&g, ceil_to(d, res), &ev, &seq), &hb);
	ck_assert_int_eq(ev, LIVENESS_PING);
	ck_assert_ptr_null(liveness_group_step(&g, ceil_to(d, res), &ev, &seq));
	/* Unanswered: retries, then DEAD, which leaves the group. */
	for (;;) {
		liveness_time t = liveness_group_deadline(&g);
		struct liveness_hb *got;

		ck_assert_uint_ne(t, LIVENESS_NEVER);
		got = liveness_group_step(&g, t, &ev, &seq);
		if (got == NULL)
			continue;
		ck_assert_ptr_eq(got, &hb);
		if (ev == LIVENESS_DEAD) {
			ck_assert_uint_ge(t, t0 + 90 * S);
			ck_assert_uint_le(t, t0 + 90 * S + res);
			break;
		}
		ck_assert_int_eq(ev, LIVENESS_PING);
	}
	ck_assert_ptr_null(hb.pprev);
	ck_assert_uint_eq(liveness_group_deadline(&g), LIVENESS_NEVER);
	liveness_group_remove(&g, &hb); /* harmless */
	liveness_group_remove(&g, &hb);
	ck_assert_int_eq(liveness_group_add(&g, &hb), 0); /* dead: nothing due */
	ck_assert_uint_eq(liveness_group_deadline(&g), LIVENESS_NEVER);
	liveness_group_remove(&g, &hb);
	liveness_group_free(&g);
}
END_TEST

START_TEST(rx_refiles_lazily)
{
	struct liveness_policy p = exact(30 * S, 90 * S, 20 * S);
	struct liveness_group g;
	struct liveness_hb hb;
	enum liveness_event ev;
	liveness_time res = 100 * MS;

	ck_assert_int_eq(liveness_group_init(&g, res, 0), 0);
	ck_assert_int_eq(liveness_hb_init(&hb, &p, 0), 0);
	ck_assert_int_eq(liveness_group_add(&g, &hb), 0);
	for (liveness_time t = 0; t <= 25 * S; t += 100 * MS)
		liveness_hb_rx(&hb, t);
	/* The wheel does not know yet: it wakes at the old deadline, */
	ck_assert_uint_eq(liveness_group_deadline(&g), 30 * S);
	ck_assert_ptr_null(liveness_group_step(&g, 30 * S, &ev, NULL));
	/* returns nothing, and has re-filed the member at its real deadline. */
	ck_assert_uint_eq(liveness_group_deadline(&g), 55 * S);
	ck_assert_ptr_eq(liveness_group_step(&g, 55 * S, &ev, NULL), &hb);
	ck_assert_int_eq(ev, LIVENESS_PING);
	liveness_group_free(&g);
}
END_TEST

START_TEST(remove_and_empty)
{
	struct liveness_policy p = exact(30 * S, 90 * S, 20 * S);
	struct liveness_group g;
	struct liveness_hb hb[3];

	ck_assert_int_eq(liveness_group_init(&g, 100 * MS, 0), 0);
	for (int i = 0; i < 3; i++) {
		ck_assert_int_eq(liveness_hb_init(&hb[i], &p, (liveness_time)i * S), 0);
		ck_assert_int_eq(liveness_group_add(&g, &hb[i]), 0);
	}
	ck_assert_uint_eq(liveness_group_deadline(&g), 30 * S);
	liveness_group_remove(&g, &hb[0]);
	ck_assert_uint_eq(liveness_group_deadline(&g), 31 * S);
	liveness_group_remove(&g, &hb[0]);
	liveness_group_remove(&g, NULL);
	liveness_group_remove(NULL, &hb[1]);
	liveness_group_remove(&g, &hb[2]);
	ck_assert_uint_eq(liveness_group_deadline(&g), 31 * S);
	liveness_group_remove(&g, &hb[1]);
	ck_assert_uint_eq(liveness_group_deadline(&g), LIVENESS_NEVER);
	ck_assert_ptr_null(liveness_group_step(&g, 1000 * S, NULL, NULL));
	liveness_group_free(&g);
}
END_TEST

/* The caller may remove other members between steps, even ones already due. */
START_TEST(remove_between_steps)
{
	enum { N = 100 };
	struct liveness_policy p = exact(30 * S, 90 * S, 20 * S);
	struct liveness_group g;
	struct liveness_hb hb[N], *got;
	int seen = 0;

	ck_assert_int_eq(liveness_group_init(&g, 100 * MS, 0), 0);
	for (int i = 0; i < N; i++) {
		ck_assert_int_eq(liveness_hb_init(&hb[i], &p, 0), 0);
		ck_assert_int_eq(liveness_group_add(&g, &hb[i]), 0);
	}
	got = liveness_group_step(&g, 30 * S, NULL, NULL);
	ck_assert_ptr_nonnull(got);
	for (int i = 0; i < N; i += 2)
		liveness_group_remove(&g, &hb[i]);
	if ((got - hb) % 2 != 0)
		seen++;
	while ((got = liveness_group_step(&g, 30 * S, NULL, NULL)) != NULL) {
		ck_assert_int_eq((int)(got - hb) % 2, 1);
		seen++;
	}
	ck_assert_int_eq(seen, N / 2);
	for (int i = 1; i < N; i += 2)
		liveness_group_remove(&g, &hb[i]);
	ck_assert_uint_eq(liveness_group_deadline(&g), LIVENESS_NEVER);
	liveness_group_free(&g);
}
END_TEST

/* Members due a revolution after the slot being stepped are filed a slot early, not lost. */
START_TEST(refile_a_revolution_ahead)
{
	struct liveness_policy p = exact(60 * S, 200 * S, 20 * S);
	struct liveness_group g;
	struct liveness_hb hb[2];
	enum liveness_event ev;
	liveness_time res = 100 * MS, turn = 1024 * res; /* 64 s / 100 ms, rounded up to 2^k */

	ck_assert_int_eq(liveness_group_init(&g, res, 0), 0);
	for (int i = 0; i < 2; i++) {
		ck_assert_int_eq(liveness_hb_init(&hb[i], &p, 0), 0);
		ck_assert_int_eq(liveness_group_add(&g, &hb[i]), 0);
		/* Bytes stamped ahead of the group's clock: due one turn after 60 s. */
		liveness_hb_rx(&hb[i], turn);
		ck_assert_uint_eq(liveness_hb_deadline(&hb[i]), 60 * S + turn);
	}
	ck_assert_uint_eq(liveness_group_deadline(&g), 60 * S);
	ck_assert_ptr_null(liveness_group_step(&g, 60 * S, &ev, NULL));
	/* The first one re-filed while its slot was being stepped: a slot early. */
	ck_assert_uint_eq(liveness_group_deadline(&g), 60 * S + turn - res);
	ck_assert_ptr_null(liveness_group_step(&g, 60 * S + turn - res, &ev, NULL));
	ck_assert_uint_eq(liveness_group_deadline(&g), 60 * S + turn);
	for (int i = 0; i < 2; i++) {
		ck_assert_ptr_nonnull(liveness_group_step(&g, 60 * S + turn, &ev, NULL));
		ck_assert_int_eq(ev, LIVENESS_PING);
	}
	ck_assert_ptr_null(liveness_group_step(&g, 60 * S + turn, &ev, NULL));
	liveness_group_free(&g);
}
END_TEST

/* Removing from the wrong group changes nothing; many members, removed in any order. */
START_TEST(many_members_and_wrong_group)
{
	enum { N = 3000 };
	struct liveness_policy p = exact(30 * S, 90 * S, 20 * S);
	struct liveness_group g, other;
	struct liveness_hb *hb = calloc(N, sizeof(*hb)), *got;
	char *state = calloc(N, 1); /* 1 removed, 2 stepped */
	int k = 0;

	ck_assert_ptr_nonnull(hb);
	ck_assert_ptr_nonnull(state);
	ck_assert_int_eq(liveness_group_init(&g, 100 * MS, 0), 0);
	ck_assert_int_eq(liveness_group_init(&other, 100 * MS, 0), 0);
	for (int i = 0; i < N; i++) {
		/* Two slots: many chunks in each list. */
		ck_assert_int_eq(liveness_hb_init(&hb[i], &p, (liveness_time)(i % 3) * 10 * MS), 0);
		ck_assert_int_eq(liveness_group_add(&g, &hb[i]), 0);
	}
	liveness_group_remove(&other, &hb[5]);
	ck_assert_ptr_nonnull(hb[5].pprev);
	ck_assert_uint_eq(liveness_group_deadline(&g), 30 * S);
	for (int i = 0; i < N; i += 3) {
		liveness_group_remove(&g, &hb[i]);
		ck_assert_ptr_null(hb[i].pprev);
		state[i] = 1;
	}
	for (int i = 0; i < N; i++)
		if (hb[i].pprev != NULL)
			ck_assert_ptr_eq(*hb[i].pprev, &hb[i]);
	ck_assert_uint_eq(liveness_group_deadline(&g), 30 * S + 100 * MS);
	while ((got = liveness_group_step(&g, 30 * S + 100 * MS, NULL, NULL)) != NULL) {
		int i = (int)(got - hb);

		ck_assert_int_eq(state[i], 0);
		state[i] = 2;
		/* Remove others while their slot is being stepped. */
		for (int j = 0; j < 2; j++, k = (k + 7) % N)
			if (state[k] == 0) {
				liveness_group_remove(&g, &hb[k]);
				state[k] = 1;
			}
	}
	for (int i = 0; i < N; i++) {
		ck_assert_int_ne(state[i], 0); /* stepped once, or removed */
		ck_assert(state[i] == 2 ? hb[i].pprev != NULL : hb[i].pprev == NULL);
	}
	liveness_group_free(&g);
	for (int i = 0; i < N; i++)
		ck_assert_ptr_null(hb[i].pprev);
	liveness_group_free(&other);
	free(state);
	free(hb);
}
END_TEST

START_TEST(far_deadlines)
{
	struct liveness_policy p = exact(3600 * S, 7200 * S, 600 * S);
	struct liveness_group g;
	struct liveness_hb hb;
	enum liveness_event ev;
	liveness_time res = MS, t, d;
	int wakeups = 0;

	/* A 1 ms wheel turns in seconds; an hour must still come out on time. */
	ck_assert_int_eq(liveness_group_init(&g, res, 0), 0);
	ck_assert_int_eq(liveness_hb_init(&hb, &p, 777), 0);
	ck_assert_int_eq(liveness_group_add(&g, &hb), 0);
	d = liveness_hb_deadline(&hb);
	for (;;) {
		t = liveness_group_deadline(&g);
		ck_assert_uint_le(t, ceil_to(d, res));
		wakeups++;
		if (liveness_group_step(&g, t, &ev, NULL) != NULL)
			break;
	}
	ck_assert_int_eq(ev, LIVENESS_PING);
	ck_assert_uint_ge(t, d);
	ck_assert_uint_le(t, d + res);
	ck_assert_int_lt(wakeups, 1000);
	liveness_group_free(&g);
}
END_TEST

START_TEST(gap_pings_everyone_first)
{
	enum { N = 5000 };
	struct liveness_policy p = exact(30 * S, 90 * S, 20 * S);
	struct liveness_group g;
	struct liveness_hb *hb = calloc(N, sizeof(*hb)), *got;
	enum liveness_event ev;
	int pings = 0;

	ck_assert_ptr_nonnull(hb);
	ck_assert_int_eq(liveness_group_init(&g, 100 * MS, 0), 0);
	for (int i = 0; i < N; i++) {
		ck_assert_int_eq(liveness_hb_init(&hb[i], &p, (liveness_time)(i % 600) * 100 * MS), 0);
		ck_assert_int_eq(liveness_group_add(&g, &hb[i]), 0);
	}
	/* The loop was blocked for an hour: a probe for everyone, no verdict. */
	while ((got = liveness_group_step(&g, 3600 * S, &ev, NULL)) != NULL) {
		ck_assert_int_eq(ev, LIVENESS_PING);
		pings++;
	}
	ck_assert_int_eq(pings, N);
	/* Then silence convicts everyone, at the new deadline. */
	liveness_time last = 0;
	int dead = 0;
	while (dead < N) {
		liveness_time t = liveness_group_deadline(&g);

		ck_assert_uint_ne(t, LIVENESS_NEVER);
		while ((got = liveness_group_step(&g, t, &ev, NULL)) != NULL)
			if (ev == LIVENESS_DEAD) {
				dead++;
				last = t;
			}
	}
	ck_assert_uint_le(last, 3660 * S + 100 * MS);
	ck_assert_uint_ge(last, 3660 * S);
	liveness_group_free(&g);
	free(hb);
}
END_TEST

/*
 * Step g at every tick from *t to end; the first PING of each member goes in
 * first[] (members are hb[0..n)); the pings go unanswered. A verdict fails
 * the test unless dead_ok.
 */
static void step_until(struct liveness_group *g, liveness_time res, liveness_time *t,
		       liveness_time end, struct liveness_hb *hb, liveness_time *first, int dead_ok)
{
	struct liveness_hb *got;
	enum liveness_event ev;

	for (; *t <= end; *t += res)
		while ((got = liveness_group_step(g, *t, &ev, NULL)) != NULL) {
			ck_assert(ev == LIVENESS_PING || (dead_ok && ev == LIVENESS_DEAD));
			if (ev == LIVENESS_PING && first[got - hb] == 0)
				first[got - hb] = *t;
		}
}

/*
 * The group re-files members of the policy it has cached in a fast loop, and
 * the others by the policy itself: with two policies (different intervals and
 * jitter) and traffic that moves every deadline, every first ping comes
 * within [deadline, deadline + resolution]. Then one policy object is reused,
 * with other values, after its members left: the group must not keep the old
 * interval. (Unanswered, b's members are convicted in the silence.)
 */
START_TEST(policies_mixed_and_reused)
{
	enum { N = 600 };
	const liveness_time res = 100 * MS;
	struct liveness_policy a, b;
	struct liveness_group g;
	struct liveness_hb *hb = calloc(N, sizeof(*hb));
	liveness_time first[N], due[N], t = 0;

	ck_assert_ptr_nonnull(hb);
	ck_assert_int_eq(liveness_policy_init(&a, 30 * S, 90 * S), 0);
	ck_assert_int_eq(liveness_policy_init(&b, 7 * S, 21 * S), 0);
	b.jitter = 50;
	ck_assert_int_eq(liveness_group_init(&g, res, 0), 0);
	for (int i = 0; i < N; i++) {
		ck_assert_int_eq(liveness_hb_init(&hb[i], i % 3 ? &a : &b, 0), 0);
		ck_assert_int_eq(liveness_group_add(&g, &hb[i]), 0);
	}
	/* Traffic for 20 s, at times of its own for each member; then silence. */
	memset(first, 0, sizeof(first));
	for (liveness_time now = res; now <= 20 * S; now += res) {
		step_until(&g, res, &t, now, hb, first, 0);
		for (int i = 0; i < N; i++)
			if ((i * 7919 + now / res) % 23 == 0)
				liveness_hb_rx(&hb[i], now);
	}
	for (int i = 0; i < N; i++) {
		/* Members of b may have pinged during the traffic: check those later. */
		first[i] = 0;
		due[i] = liveness_hb_deadline(&hb[i]);
	}
	step_until(&g, res, &t, 60 * S, hb, first, 1);
	for (int i = 0; i < N; i++) {
		ck_assert_uint_ge(first[i], due[i]);
		ck_assert_uint_le(first[i], due[i] + res);
	}
	/* Everyone leaves; a's object now holds a 2 s interval. */
	for (int i = 0; i < N; i++)
		liveness_group_remove(&g, &hb[i]);
	ck_assert_int_eq(liveness_policy_init(&a, 2 * S, 6 * S), 0);
	for (int i = 0; i < N; i++) {
		ck_assert_int_eq(liveness_hb_init(&hb[i], &a, t), 0);
		ck_assert_int_eq(liveness_group_add(&g, &hb[i]), 0);
		liveness_hb_rx(&hb[i], t + (liveness_time)(i % 10) * res);
	}
	memset(first, 0, sizeof(first));
	for (int i = 0; i < N; i++)
		due[i] = liveness_hb_deadline(&hb[i]);
	step_until(&g, res, &t, t + 10 * S, hb, first, 1);
	for (int i = 0; i < N; i++) {
		ck_assert_uint_ge(first[i], due[i]);
		ck_assert_uint_le(first[i], due[i] + res);
	}
	liveness_group_free(&g);
	free(hb);
}
END_TEST

START_TEST(free_detaches_members)
{
	struct liveness_policy p = exact(30 * S, 90 * S, 20 * S);
	struct liveness_group g, g2;
	struct liveness_hb hb[4];

	ck_assert_int_eq(liveness_group_init(&g, 100 * MS, 0), 0);
	ck_assert_int_eq(liveness_group_init(&g2, 100 * MS, 0), 0);
	for (int i = 0; i < 4; i++) {
		ck_assert_int_eq(liveness_hb_init(&hb[i], &p, 0), 0);
		ck_assert_int_eq(liveness_group_add(&g, &hb[i]), 0);
	}
	hb[3].proof = LIVENESS_NEVER; /* parked: no deadline */
	liveness_group_remove(&g, &hb[3]);
	ck_assert_int_eq(liveness_group_add(&g, &hb[3]), 0);
	liveness_group_free(&g);
	for (int i = 0; i < 4; i++) {
		ck_assert_ptr_null(hb[i].pprev);
		ck_assert_int_eq(liveness_group_add(&g2, &hb[i]), 0);
	}
	ck_assert_int_eq(liveness_group_add(&g, &hb[0]), -EINVAL); /* freed */
	liveness_group_free(&g2);
}
END_TEST

START_TEST(clock_backwards_and_end_of_time)
{
	struct liveness_policy p = exact(30 * S, 90 * S, 20 * S);
	struct liveness_group g;
	struct liveness_hb hb;
	enum liveness_event ev;
	liveness_time t;

	ck_assert_int_eq(liveness_group_init(&g, 100 * MS, 100 * S), 0);
	ck_assert_int_eq(liveness_hb_init(&hb, &p, 100 * S), 0);
	ck_assert_int_eq(liveness_group_add(&g, &hb), 0);
	ck_assert_ptr_null(liveness_group_step(&g, 5 * S, &ev, NULL));
	ck_assert_ptr_eq(liveness_group_step(&g, 130 * S, &ev, NULL), &hb);
	ck_assert_ptr_null(liveness_group_step(&g, 0, &ev, NULL));
	ck_assert_uint_ge(liveness_group_deadline(&g), 130 * S);
	liveness_group_remove(&g, &hb);
	liveness_group_free(&g);

	/* Near LIVENESS_NEVER: no wrap, no crash, no verdict. */
	t = LIVENESS_NEVER - 50 * S;
	ck_assert_int_eq(liveness_group_init(&g, 100 * MS, t), 0);
	ck_assert_int_eq(liveness_hb_init(&hb, &p, t), 0);
	ck_assert_int_eq(liveness_group_add(&g, &hb), 0);
	for (int i = 0; i < 100; i++) {
		liveness_time d = liveness_group_deadline(&g);

		if (d == LIVENESS_NEVER)
			break;
		while (liveness_group_step(&g, d, &ev, NULL) != NULL)
			ck_assert_int_eq(ev, LIVENESS_PING);
	}
	while (liveness_group_step(&g, LIVENESS_NEVER, &ev, NULL) != NULL)
		ck_assert_int_ne(ev, LIVENESS_DEAD);
	liveness_group_free(&g);

	/* A member whose deadline saturated, stepped at the end of time (found by fuzz_hb). */
	ck_assert_int_eq(liveness_group_init(&g, 100 * MS, 0), 0);
	ck_assert_int_eq(liveness_hb_init(&hb, &p, 0), 0);
	ck_assert_int_eq(liveness_group_add(&g, &hb), 0);
	liveness_hb_rx(&hb, LIVENESS_NEVER);
	ck_assert_ptr_null(liveness_group_step(&g, LIVENESS_NEVER, &ev, NULL));
	ck_assert_ptr_null(liveness_group_step(&g, LIVENESS_NEVER, &ev, NULL));
	ck_assert_uint_eq(liveness_group_deadline(&g), LIVENESS_NEVER);
	liveness_group_free(&g);
}
END_TEST

struct conn {
	int fd;
	struct liveness_hb hb;
};

START_TEST(container_of)
{
	struct conn c;

	ck_assert_ptr_eq(liveness_container_of(&c.hb, struct conn, hb), &c);
}
END_TEST

/* ---- A randomized simulation against a reference model -------------------- */

enum kind { CHATTY, QUIET, SLOW, DIES, HUNG, FLOODER, PINGER, NKINDS };
enum evk { EV_RX, EV_PONG, EV_PEER_PING };

struct peer {
	struct liveness_hb hb;
	enum kind kind;
	int in_group, convicted, flooded;
	liveness_time gone;   /* dies or hangs at this time */
	liveness_time proof;  /* the reference model's last proof of life */
	uint32_t seq;         /* last seq we pinged with */
	const struct liveness_policy *p;
};

struct event {
	liveness_time t;
	int peer;
	enum evk k;
	uint32_t seq;
};

struct heap {
	struct event *v;
	size_t n, cap;
};

static void heap_push(struct heap *h, struct event e)
{
	size_t i;

	if (h->n == h->cap) {
		h->cap = h->cap ? 2 * h->cap : 1024;
		h->v = realloc(h->v, h->cap * sizeof(*h->v));
		ck_assert_ptr_nonnull(h->v);
	}
	for (i = h->n++; i > 0 && h->v[(i - 1) / 2].t > e.t; i = (i - 1) / 2)
		h->v[i] = h->v[(i - 1) / 2];
	h->v[i] = e;
}

static struct event heap_pop(struct heap *h)
{
	struct event top = h->v[0], last = h->v[--h->n];
	size_t i = 0, c;

	while ((c = 2 * i + 1) < h->n) {
		if (c + 1 < h->n && h->v[c + 1].t < h->v[c].t)
			c++;
		if (last.t <= h->v[c].t)
			break;
		h->v[i] = h->v[c];
		i = c;
	}
	if (h->n > 0)
		h->v[i] = last;
	return top;
}

static uint64_t sim_rng = 0x9e3779b97f4a7c15u;

static uint64_t sim_rand(uint64_t n)
{
	sim_rng ^= sim_rng << 13;
	sim_rng ^= sim_rng >> 7;
	sim_rng ^= sim_rng << 17;
	return sim_rng % n;
}

/* Does this peer still speak at t? Hung ones keep sending bytes, not pongs. */
static int speaks(const struct peer *pe, liveness_time t)
{
	return pe->kind != DIES || t < pe->gone;
}

static int answers(const struct peer *pe, liveness_time t)
{
	return speaks(pe, t) && (pe->kind != HUNG || t < pe->gone);
}

START_TEST(simulation_against_reference)
{
	enum { N = 4000 };
	const liveness_time res = 100 * MS, end = 900 * S, t0 = 5 * S;
	struct liveness_policy normal, rt;
	struct liveness_group g;
	struct peer *peers = calloc(N, sizeof(*peers));
	struct heap h = {0};
	liveness_time now = t0;
	long convicted = 0, flooded = 0, pings = 0;

	ck_assert_ptr_nonnull(peers);
	ck_assert_int_eq(liveness_policy_init(&normal, 30 * S, 90 * S), 0);
	normal.retry = 20 * S;
	normal.peer_min_interval = 5 * S;
	rt = normal;
	rt.flags = LIVENESS_ROUND_TRIP | LIVENESS_RTT_TIMEOUT;
	ck_assert_int_eq(liveness_group_init(&g, res, t0), 0);
	for (int i = 0; i < N; i++) {
		struct peer *pe = &peers[i];
		liveness_time start = t0 + sim_rand(60 * S);

		pe->kind = (enum kind)(i % NKINDS);
		pe->p = pe->kind == HUNG || sim_rand(2) ? &rt : &normal;
		pe->gone = start + sim_rand(600 * S);
		pe->proof = start;
		ck_assert_int_eq(liveness_hb_init(&pe->hb, pe->p, start), 0);
		ck_assert_int_eq(liveness_group_add(&g, &pe->hb), 0);
		pe->in_group = 1;
		if (pe->kind != QUIET && pe->kind != SLOW)
			heap_push(&h, (struct event){start + 1 + sim_rand(20 * S), i, EV_RX, 0});
		if (pe->kind == FLOODER || pe->kind == PINGER)
			heap_push(&h, (struct event){start + sim_rand(5 * S), i, EV_PEER_PING, 0});
	}
	while (now < end) {
		liveness_time next = liveness_group_deadline(&g);
		struct liveness_hb *hb;
		enum liveness_event ev;
		uint32_t seq;

		if (h.n > 0 && h.v[0].t < next)
			next = h.v[0].t;
		if (next > end)
			next = end;
		now = next > now ? next : now;
		while (h.n > 0 && h.v[0].t <= now) {
			struct event e = heap_pop(&h);
			struct peer *pe = &peers[e.peer];

			if (!pe->in_group || !speaks(pe, e.t))
				continue;
			liveness_hb_rx(&pe->hb, e.t);
			if (!(pe->p->flags & LIVENESS_ROUND_TRIP))
				pe->proof = e.t;
			switch (e.k) {
			case EV_RX:
				heap_push(&h, (struct event){e.t + 1 + sim_rand(20 * S), e.peer, EV_RX, 0});
				break;
			case EV_PONG:
				if (e.seq == pe->seq && answers(pe, e.t)) {
					liveness_hb_pong(&pe->hb, e.seq, e.t);
					pe->proof = e.t;
				}
				break;
			case EV_PEER_PING: {
				int r = liveness_hb_peer_ping(&pe->hb, e.t);

				if (pe->kind == PINGER)
					ck_assert_int_eq(r, 1);
				if (r < 0) {
					ck_assert_int_eq(pe->kind, FLOODER);
					liveness_group_remove(&g, &pe->hb);
					liveness_group_remove(&g, &pe->hb);
					pe->in_group = 0;
					pe->flooded = 1;
					flooded++;
					break;
				}
				heap_push(&h, (struct event){e.t + (pe->kind == FLOODER ? S : 5 * S + sim_rand(3 * S)),
							      e.peer, EV_PEER_PING, 0});
				break;
			}
			}
		}
		while ((hb = liveness_group_step(&g, now, &ev, &seq)) != NULL) {
			struct peer *pe = liveness_container_of(hb, struct peer, hb);

			ck_assert(pe->in_group);
			if (ev == LIVENESS_PING) {
				liveness_time delay = pe->kind == SLOW ? 2 * S + sim_rand(15 * S)
								       : sim_rand(2 * S);
				pings++;
				pe->seq = seq;
				if (answers(pe, now + delay))
					heap_push(&h, (struct event){now + delay, (int)(pe - peers), EV_PONG, seq});
				continue;
			}
			ck_assert_int_eq(ev, LIVENESS_DEAD);
			/* Never early, never later than one resolution. */
			ck_assert_uint_ge(now, pe->proof + pe->p->timeout);
			ck_assert_uint_le(now, pe->proof + pe->p->timeout + res);
			/* Only the silent: the dead, and hung applications under ROUND_TRIP. */
			ck_assert_msg(pe->kind == DIES || pe->kind == HUNG, "live peer %d (kind %d) convicted",
				      (int)(pe - peers), pe->kind);
			ck_assert_uint_ge(now, pe->gone);
			ck_assert_ptr_null(hb->pprev);
			liveness_group_remove(&g, hb); /* harmless */
			pe->in_group = 0;
			pe->convicted = 1;
			convicted++;
		}
	}
	for (int i = 0; i < N; i++) {
		struct peer *pe = &peers[i];

		if (pe->kind == FLOODER)
			ck_assert_msg(pe->flooded, "flooder %d not caught", i);
		if ((pe->kind == DIES || pe->kind == HUNG) && pe->proof + pe->p->timeout + res < end)
			ck_assert_msg(pe->convicted, "silent peer %d (kind %d) not convicted", i, pe->kind);
		if (pe->kind != DIES && pe->kind != HUNG)
			ck_assert(!pe->convicted);
	}
	ck_assert_int_gt(convicted, N / NKINDS);
	ck_assert_int_eq(flooded, (N + NKINDS - 1 - FLOODER) / NKINDS);
	ck_assert_int_gt(pings, N);
	liveness_group_free(&g);
	free(h.v);
	free(peers);
}
END_TEST

Suite *group_suite(void);

Suite *group_suite(void)
{
	Suite *s = suite_create("group");
	TCase *tc = tcase_create("group");

	tcase_add_test(tc, init_rejects);
	tcase_add_test(tc, add_rejects);
	tcase_add_test(tc, deadline_and_steps);
	tcase_add_test(tc, rx_refiles_lazily);
	tcase_add_test(tc, remove_and_empty);
	tcase_add_test(tc, remove_between_steps);
	tcase_add_test(tc, refile_a_revolution_ahead);
	tcase_add_test(tc, many_members_and_wrong_group);
	tcase_add_test(tc, far_deadlines);
	tcase_add_test(tc, gap_pings_everyone_first);
	tcase_add_test(tc, free_detaches_members);
	tcase_add_test(tc, clock_backwards_and_end_of_time);
	tcase_add_test(tc, container_of);
	tcase_add_test(tc, policies_mixed_and_reused);
	tcase_add_test(tc, simulation_against_reference);
	tcase_set_timeout(tc, 60);
	suite_add_tcase(s, tc);
	return s;
}
