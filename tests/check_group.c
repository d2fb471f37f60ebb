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
#include "util.h"

#define S LIVENESS_SEC
#define MS LIVENESS_MSEC

/* liveness_group_step() held to its contract (tests/util.h). */
#define step tu_group_step

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

/*
 * Is hb in some group? Asked through the API, so that the library's
 * fields stay private: a member cannot join another group (-EEXIST).
 */
static int in_a_group(struct liveness_hb *hb)
{
	struct liveness_group *probe;
	int r;

	ck_assert_int_eq(liveness_group_new(&probe, 1, 0), 0);
	r = liveness_group_add(probe, hb);
	ck_assert(r == 0 || r == -EEXIST);
	liveness_group_remove(probe, hb);
	liveness_group_free(probe);
	return r == -EEXIST;
}

START_TEST(init_rejects)
{
	struct liveness_group *g, *before;

	memset(&g, 0x5a, sizeof(g));
	before = g;
	ck_assert_int_eq(liveness_group_new(NULL, MS, 0), -EINVAL);
	ck_assert_int_eq(liveness_group_new(&g, 0, 0), -EINVAL);
	ck_assert_mem_eq(&g, &before, sizeof(g));
	ck_assert_int_eq(liveness_group_new(&g, 1, 0), 0);
	liveness_group_free(g);
	ck_assert_int_eq(liveness_group_new(&g, LIVENESS_NEVER, LIVENESS_NEVER), 0);
	ck_assert_uint_eq(liveness_group_deadline(g), LIVENESS_NEVER);
	liveness_group_free(g);
	liveness_group_free(NULL); /* a no-op */
}
END_TEST

/* Bad input is an error (0 from deadline, which no deadline is), never an answer. */
START_TEST(step_and_deadline_reject_bad_input)
{
	struct liveness_group *g;
	struct liveness_hb *member = (struct liveness_hb *)&member;
	enum liveness_event ev = LIVENESS_DEAD;
	uint32_t seq = 7;

	ck_assert_uint_eq(liveness_group_deadline(NULL), 0);
	ck_assert_int_eq(liveness_group_step(NULL, 0, &member, &ev, &seq), -EINVAL);
	ck_assert_int_eq(liveness_group_new(&g, MS, 0), 0);
	ck_assert_int_eq(liveness_group_step(g, 0, NULL, &ev, &seq), -EINVAL);
	/* Nothing written on failure. */
	ck_assert_ptr_eq(member, (struct liveness_hb *)&member);
	ck_assert_int_eq(ev, LIVENESS_DEAD);
	ck_assert_uint_eq(seq, 7);
	/* An empty group has nothing due, which is not an error; ev and seq are optional. */
	ck_assert_int_eq(liveness_group_step(g, 0, &member, NULL, NULL), 0);
	ck_assert_ptr_null(member);
	member = (struct liveness_hb *)&member;
	ck_assert_int_eq(liveness_group_step(g, 0, &member, &ev, NULL), 0);
	ck_assert_ptr_null(member);
	ck_assert_int_eq(ev, LIVENESS_NONE);
	ck_assert_uint_eq(liveness_group_deadline(g), LIVENESS_NEVER);
	liveness_group_free(g);
}
END_TEST

START_TEST(add_rejects)
{
	struct liveness_policy p = exact(30 * S, 90 * S, 20 * S), fine = p;
	struct liveness_group *g;
	struct liveness_hb hb = {0}, zero = {0};

	memset(&zero, 0, sizeof(zero));
	ck_assert_int_eq(liveness_group_new(&g, 100 * MS, 0), 0);
	ck_assert_int_eq(liveness_hb_init(&hb, &p, 0), 0);
	ck_assert_int_eq(liveness_group_add(NULL, &hb), -EINVAL);
	ck_assert_int_eq(liveness_group_add(g, NULL), -EINVAL);
	ck_assert_int_eq(liveness_group_add(g, &zero), -EINVAL);
	ck_assert_int_eq(liveness_group_add(g, &hb), 0);
	ck_assert_int_eq(liveness_group_add(g, &hb), -EEXIST);
	/* A retry the wheel cannot keep. */
	fine.retry = 99 * MS;
	ck_assert_int_eq(liveness_hb_init(&zero, &fine, 0), 0);
	ck_assert_int_eq(liveness_group_add(g, &zero), -EINVAL);
	ck_assert(!in_a_group(&zero));
	liveness_group_free(g);
	ck_assert(!in_a_group(&hb));
}
END_TEST

START_TEST(deadline_and_steps)
{
	struct liveness_policy p = exact(30 * S, 90 * S, 20 * S);
	struct liveness_group *g;
	struct liveness_hb hb = {0};
	enum liveness_event ev;
	uint32_t seq;
	liveness_time res = 100 * MS, t0 = 1234567, d;

	ck_assert_int_eq(liveness_group_new(&g, res, t0), 0);
	ck_assert_uint_eq(liveness_group_deadline(g), LIVENESS_NEVER);
	ck_assert_ptr_null(step(g, t0, &ev, &seq));
	ck_assert_int_eq(ev, LIVENESS_NONE);
	ck_assert_int_eq(liveness_hb_init(&hb, &p, t0), 0);
	ck_assert_int_eq(liveness_group_add(g, &hb), 0);
	d = liveness_hb_deadline(&hb);
	ck_assert_uint_eq(liveness_group_deadline(g), ceil_to(d, res));
	ck_assert_ptr_null(step(g, d - 1, &ev, &seq));
	ck_assert_ptr_eq(step(g, ceil_to(d, res), &ev, &seq), &hb);
	ck_assert_int_eq(ev, LIVENESS_PING);
	ck_assert_ptr_null(step(g, ceil_to(d, res), &ev, &seq));
	/* Unanswered: retries, then DEAD, which leaves the group. */
	for (;;) {
		liveness_time t = liveness_group_deadline(g);
		struct liveness_hb *got;

		ck_assert_uint_ne(t, LIVENESS_NEVER);
		got = step(g, t, &ev, &seq);
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
	ck_assert(!in_a_group(&hb));
	ck_assert_uint_eq(liveness_group_deadline(g), LIVENESS_NEVER);
	liveness_group_remove(g, &hb); /* harmless */
	liveness_group_remove(g, &hb);
	ck_assert_int_eq(liveness_group_add(g, &hb), 0); /* dead: nothing due */
	ck_assert_uint_eq(liveness_group_deadline(g), LIVENESS_NEVER);
	liveness_group_remove(g, &hb);
	liveness_group_free(g);
}
END_TEST

START_TEST(rx_refiles_lazily)
{
	struct liveness_policy p = exact(30 * S, 90 * S, 20 * S);
	struct liveness_group *g;
	struct liveness_hb hb = {0};
	enum liveness_event ev;
	liveness_time res = 100 * MS;

	ck_assert_int_eq(liveness_group_new(&g, res, 0), 0);
	ck_assert_int_eq(liveness_hb_init(&hb, &p, 0), 0);
	ck_assert_int_eq(liveness_group_add(g, &hb), 0);
	for (liveness_time t = 0; t <= 25 * S; t += 100 * MS)
		liveness_hb_rx(&hb, t);
	/* The wheel does not know yet: it wakes at the old deadline, */
	ck_assert_uint_eq(liveness_group_deadline(g), 30 * S);
	ck_assert_ptr_null(step(g, 30 * S, &ev, NULL));
	/* returns nothing, and has re-filed the member at its real deadline. */
	ck_assert_uint_eq(liveness_group_deadline(g), 55 * S);
	ck_assert_ptr_eq(step(g, 55 * S, &ev, NULL), &hb);
	ck_assert_int_eq(ev, LIVENESS_PING);
	liveness_group_free(g);
}
END_TEST

START_TEST(remove_and_empty)
{
	struct liveness_policy p = exact(30 * S, 90 * S, 20 * S);
	struct liveness_group *g;
	struct liveness_hb hb[3] = {0};

	ck_assert_int_eq(liveness_group_new(&g, 100 * MS, 0), 0);
	for (int i = 0; i < 3; i++) {
		ck_assert_int_eq(liveness_hb_init(&hb[i], &p, (liveness_time)i * S), 0);
		ck_assert_int_eq(liveness_group_add(g, &hb[i]), 0);
	}
	ck_assert_uint_eq(liveness_group_deadline(g), 30 * S);
	liveness_group_remove(g, &hb[0]);
	ck_assert_uint_eq(liveness_group_deadline(g), 31 * S);
	liveness_group_remove(g, &hb[0]);
	liveness_group_remove(g, NULL);
	liveness_group_remove(NULL, &hb[1]);
	liveness_group_remove(g, &hb[2]);
	ck_assert_uint_eq(liveness_group_deadline(g), 31 * S);
	liveness_group_remove(g, &hb[1]);
	ck_assert_uint_eq(liveness_group_deadline(g), LIVENESS_NEVER);
	ck_assert_ptr_null(step(g, 1000 * S, NULL, NULL));
	liveness_group_free(g);
}
END_TEST

/* The caller may remove other members between steps, even ones already due. */
START_TEST(remove_between_steps)
{
	enum { N = 100 };
	struct liveness_policy p = exact(30 * S, 90 * S, 20 * S);
	struct liveness_group *g;
	struct liveness_hb hb[N] = {0}, *got;
	int seen = 0;

	ck_assert_int_eq(liveness_group_new(&g, 100 * MS, 0), 0);
	for (int i = 0; i < N; i++) {
		ck_assert_int_eq(liveness_hb_init(&hb[i], &p, 0), 0);
		ck_assert_int_eq(liveness_group_add(g, &hb[i]), 0);
	}
	got = step(g, 30 * S, NULL, NULL);
	ck_assert_ptr_nonnull(got);
	for (int i = 0; i < N; i += 2)
		liveness_group_remove(g, &hb[i]);
	if ((got - hb) % 2 != 0)
		seen++;
	while ((got = step(g, 30 * S, NULL, NULL)) != NULL) {
		ck_assert_int_eq((int)(got - hb) % 2, 1);
		seen++;
	}
	ck_assert_int_eq(seen, N / 2);
	for (int i = 1; i < N; i += 2)
		liveness_group_remove(g, &hb[i]);
	ck_assert_uint_eq(liveness_group_deadline(g), LIVENESS_NEVER);
	liveness_group_free(g);
}
END_TEST

/* Members due a revolution after the slot being stepped are filed a slot early, not lost. */
START_TEST(refile_a_revolution_ahead)
{
	struct liveness_policy p = exact(60 * S, 200 * S, 20 * S);
	struct liveness_group *g;
	struct liveness_hb hb[2] = {0};
	enum liveness_event ev;
	liveness_time res = 100 * MS, turn = 1024 * res; /* 64 s / 100 ms, rounded up to 2^k */

	ck_assert_int_eq(liveness_group_new(&g, res, 0), 0);
	for (int i = 0; i < 2; i++) {
		ck_assert_int_eq(liveness_hb_init(&hb[i], &p, 0), 0);
		ck_assert_int_eq(liveness_group_add(g, &hb[i]), 0);
		/* Bytes stamped ahead of the group's clock: due one turn after 60 s. */
		liveness_hb_rx(&hb[i], turn);
		ck_assert_uint_eq(liveness_hb_deadline(&hb[i]), 60 * S + turn);
	}
	ck_assert_uint_eq(liveness_group_deadline(g), 60 * S);
	ck_assert_ptr_null(step(g, 60 * S, &ev, NULL));
	/* The first one re-filed while its slot was being stepped: a slot early. */
	ck_assert_uint_eq(liveness_group_deadline(g), 60 * S + turn - res);
	ck_assert_ptr_null(step(g, 60 * S + turn - res, &ev, NULL));
	ck_assert_uint_eq(liveness_group_deadline(g), 60 * S + turn);
	for (int i = 0; i < 2; i++) {
		ck_assert_ptr_nonnull(step(g, 60 * S + turn, &ev, NULL));
		ck_assert_int_eq(ev, LIVENESS_PING);
	}
	ck_assert_ptr_null(step(g, 60 * S + turn, &ev, NULL));
	liveness_group_free(g);
}
END_TEST

/* Removing from the wrong group changes nothing; many members, removed in any order. */
START_TEST(many_members_and_wrong_group)
{
	enum { N = 3000 };
	struct liveness_policy p = exact(30 * S, 90 * S, 20 * S);
	struct liveness_group *g, *other;
	struct liveness_hb *hb = calloc(N, sizeof(*hb)), *got;
	char *state = calloc(N, 1); /* 1 removed, 2 stepped */
	int k = 0;

	ck_assert_ptr_nonnull(hb);
	ck_assert_ptr_nonnull(state);
	ck_assert_int_eq(liveness_group_new(&g, 100 * MS, 0), 0);
	ck_assert_int_eq(liveness_group_new(&other, 100 * MS, 0), 0);
	for (int i = 0; i < N; i++) {
		/* Two slots: many chunks in each list. */
		ck_assert_int_eq(liveness_hb_init(&hb[i], &p, (liveness_time)(i % 3) * 10 * MS), 0);
		ck_assert_int_eq(liveness_group_add(g, &hb[i]), 0);
	}
	liveness_group_remove(other, &hb[5]);
	ck_assert(in_a_group(&hb[5]));
	ck_assert_uint_eq(liveness_group_deadline(g), 30 * S);
	for (int i = 0; i < N; i += 3) {
		liveness_group_remove(g, &hb[i]);
		ck_assert(!in_a_group(&hb[i]));
		state[i] = 1;
	}
	ck_assert_uint_eq(liveness_group_deadline(g), 30 * S + 100 * MS);
	while ((got = step(g, 30 * S + 100 * MS, NULL, NULL)) != NULL) {
		int i = (int)(got - hb);

		ck_assert_int_eq(state[i], 0);
		state[i] = 2;
		/* Remove others while their slot is being stepped. */
		for (int j = 0; j < 2; j++, k = (k + 7) % N)
			if (state[k] == 0) {
				liveness_group_remove(g, &hb[k]);
				state[k] = 1;
			}
	}
	for (int i = 0; i < N; i++) {
		ck_assert_int_ne(state[i], 0); /* stepped once, or removed */
		ck_assert_int_eq(in_a_group(&hb[i]), state[i] == 2);
	}
	liveness_group_free(g);
	for (int i = 0; i < N; i++)
		ck_assert(!in_a_group(&hb[i]));
	liveness_group_free(other);
	free(state);
	free(hb);
}
END_TEST

START_TEST(far_deadlines)
{
	struct liveness_policy p = exact(3600 * S, 7200 * S, 600 * S);
	struct liveness_group *g;
	struct liveness_hb hb = {0};
	enum liveness_event ev;
	liveness_time res = MS, t, d;
	int wakeups = 0;

	/* A 1 ms wheel turns in seconds; an hour must still come out on time. */
	ck_assert_int_eq(liveness_group_new(&g, res, 0), 0);
	ck_assert_int_eq(liveness_hb_init(&hb, &p, 777), 0);
	ck_assert_int_eq(liveness_group_add(g, &hb), 0);
	d = liveness_hb_deadline(&hb);
	for (;;) {
		t = liveness_group_deadline(g);
		ck_assert_uint_le(t, ceil_to(d, res));
		wakeups++;
		if (step(g, t, &ev, NULL) != NULL)
			break;
	}
	ck_assert_int_eq(ev, LIVENESS_PING);
	ck_assert_uint_ge(t, d);
	ck_assert_uint_le(t, d + res);
	ck_assert_int_lt(wakeups, 1000);
	liveness_group_free(g);
}
END_TEST

START_TEST(gap_pings_everyone_first)
{
	enum { N = 5000 };
	struct liveness_policy p = exact(30 * S, 90 * S, 20 * S);
	struct liveness_group *g;
	struct liveness_hb *hb = calloc(N, sizeof(*hb)), *got;
	enum liveness_event ev;
	int pings = 0;

	ck_assert_ptr_nonnull(hb);
	ck_assert_int_eq(liveness_group_new(&g, 100 * MS, 0), 0);
	for (int i = 0; i < N; i++) {
		ck_assert_int_eq(liveness_hb_init(&hb[i], &p, (liveness_time)(i % 600) * 100 * MS),
				 0);
		ck_assert_int_eq(liveness_group_add(g, &hb[i]), 0);
	}
	/* The loop was blocked for an hour: a probe for everyone, no verdict. */
	while ((got = step(g, 3600 * S, &ev, NULL)) != NULL) {
		ck_assert_int_eq(ev, LIVENESS_PING);
		pings++;
	}
	ck_assert_int_eq(pings, N);
	/* Then silence convicts everyone, at the new deadline. */
	liveness_time last = 0;
	int dead = 0;
	while (dead < N) {
		liveness_time t = liveness_group_deadline(g);

		ck_assert_uint_ne(t, LIVENESS_NEVER);
		while ((got = step(g, t, &ev, NULL)) != NULL)
			if (ev == LIVENESS_DEAD) {
				dead++;
				last = t;
			}
	}
	ck_assert_uint_le(last, 3660 * S + 100 * MS);
	ck_assert_uint_ge(last, 3660 * S);
	liveness_group_free(g);
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
		while ((got = step(g, *t, &ev, NULL)) != NULL) {
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
	struct liveness_group *g;
	struct liveness_hb *hb = calloc(N, sizeof(*hb));
	liveness_time first[N], due[N], t = 0;

	ck_assert_ptr_nonnull(hb);
	ck_assert_int_eq(liveness_policy_init(&a, 30 * S, 90 * S), 0);
	ck_assert_int_eq(liveness_policy_init(&b, 7 * S, 21 * S), 0);
	b.jitter = 50;
	ck_assert_int_eq(liveness_group_new(&g, res, 0), 0);
	for (int i = 0; i < N; i++) {
		ck_assert_int_eq(liveness_hb_init(&hb[i], i % 3 ? &a : &b, 0), 0);
		ck_assert_int_eq(liveness_group_add(g, &hb[i]), 0);
	}
	/* Traffic for 20 s, at times of its own for each member; then silence. */
	memset(first, 0, sizeof(first));
	for (liveness_time now = res; now <= 20 * S; now += res) {
		step_until(g, res, &t, now, hb, first, 0);
		for (int i = 0; i < N; i++)
			if ((i * 7919 + now / res) % 23 == 0)
				liveness_hb_rx(&hb[i], now);
	}
	for (int i = 0; i < N; i++) {
		/* Members of b may have pinged during the traffic: check those later. */
		first[i] = 0;
		due[i] = liveness_hb_deadline(&hb[i]);
	}
	step_until(g, res, &t, 60 * S, hb, first, 1);
	for (int i = 0; i < N; i++) {
		ck_assert_uint_ge(first[i], due[i]);
		ck_assert_uint_le(first[i], due[i] + res);
	}
	/* Everyone leaves; a's object now holds a 2 s interval. */
	for (int i = 0; i < N; i++)
		liveness_group_remove(g, &hb[i]);
	ck_assert_int_eq(liveness_policy_init(&a, 2 * S, 6 * S), 0);
	for (int i = 0; i < N; i++) {
		ck_assert_int_eq(liveness_hb_init(&hb[i], &a, t), 0);
		ck_assert_int_eq(liveness_group_add(g, &hb[i]), 0);
		liveness_hb_rx(&hb[i], t + (liveness_time)(i % 10) * res);
	}
	memset(first, 0, sizeof(first));
	for (int i = 0; i < N; i++)
		due[i] = liveness_hb_deadline(&hb[i]);
	step_until(g, res, &t, t + 10 * S, hb, first, 1);
	for (int i = 0; i < N; i++) {
		ck_assert_uint_ge(first[i], due[i]);
		ck_assert_uint_le(first[i], due[i] + res);
	}
	liveness_group_free(g);
	free(hb);
}
END_TEST

START_TEST(free_detaches_members)
{
	struct liveness_policy p = exact(30 * S, 90 * S, 20 * S);
	struct liveness_group *g, *g2;
	struct liveness_hb hb[4] = {0};

	ck_assert_int_eq(liveness_group_new(&g, 100 * MS, 0), 0);
	ck_assert_int_eq(liveness_group_new(&g2, 100 * MS, 0), 0);
	for (int i = 0; i < 4; i++) {
		ck_assert_int_eq(liveness_hb_init(&hb[i], &p, 0), 0);
		ck_assert_int_eq(liveness_group_add(g, &hb[i]), 0);
	}
	liveness_hb_rx(&hb[3], LIVENESS_NEVER); /* parked: no deadline */
	ck_assert_uint_eq(liveness_hb_deadline(&hb[3]), LIVENESS_NEVER);
	liveness_group_remove(g, &hb[3]);
	ck_assert_int_eq(liveness_group_add(g, &hb[3]), 0);
	liveness_group_free(g);
	for (int i = 0; i < 4; i++) {
		ck_assert(!in_a_group(&hb[i]));
		ck_assert_int_eq(liveness_group_add(g2, &hb[i]), 0);
	}
	liveness_group_free(g2);
}
END_TEST

START_TEST(clock_backwards_and_end_of_time)
{
	struct liveness_policy p = exact(30 * S, 90 * S, 20 * S);
	struct liveness_group *g;
	struct liveness_hb hb = {0};
	enum liveness_event ev;
	liveness_time t;

	ck_assert_int_eq(liveness_group_new(&g, 100 * MS, 100 * S), 0);
	ck_assert_int_eq(liveness_hb_init(&hb, &p, 100 * S), 0);
	ck_assert_int_eq(liveness_group_add(g, &hb), 0);
	ck_assert_ptr_null(step(g, 5 * S, &ev, NULL));
	ck_assert_ptr_eq(step(g, 130 * S, &ev, NULL), &hb);
	ck_assert_ptr_null(step(g, 0, &ev, NULL));
	ck_assert_uint_ge(liveness_group_deadline(g), 130 * S);
	liveness_group_remove(g, &hb);
	liveness_group_free(g);

	/* Near LIVENESS_NEVER: no wrap, no crash, no verdict. */
	t = LIVENESS_NEVER - 50 * S;
	ck_assert_int_eq(liveness_group_new(&g, 100 * MS, t), 0);
	ck_assert_int_eq(liveness_hb_init(&hb, &p, t), 0);
	ck_assert_int_eq(liveness_group_add(g, &hb), 0);
	for (int i = 0; i < 100; i++) {
		liveness_time d = liveness_group_deadline(g);

		if (d == LIVENESS_NEVER)
			break;
		while (step(g, d, &ev, NULL) != NULL)
			ck_assert_int_eq(ev, LIVENESS_PING);
	}
	while (step(g, LIVENESS_NEVER, &ev, NULL) != NULL)
		ck_assert_int_ne(ev, LIVENESS_DEAD);
	liveness_group_free(g);

	/* A member whose deadline saturated, stepped at the end of time (found by fuzz_hb). */
	ck_assert_int_eq(liveness_group_new(&g, 100 * MS, 0), 0);
	ck_assert_int_eq(liveness_hb_init(&hb, &p, 0), 0);
	ck_assert_int_eq(liveness_group_add(g, &hb), 0);
	liveness_hb_rx(&hb, LIVENESS_NEVER);
	ck_assert_ptr_null(step(g, LIVENESS_NEVER, &ev, NULL));
	ck_assert_ptr_null(step(g, LIVENESS_NEVER, &ev, NULL));
	ck_assert_uint_eq(liveness_group_deadline(g), LIVENESS_NEVER);
	liveness_group_free(g);
}
END_TEST

/* ---- A late loop, a real stall, and misuse ------------------------------- */

static uint64_t late_rng = 0x2545f4914f6cdd1du;

static uint64_t late_rand(uint64_t n)
{
	late_rng ^= late_rng << 13;
	late_rng ^= late_rng >> 7;
	late_rng ^= late_rng << 17;
	return n ? late_rng % n : 0;
}

/*
 * Silent peers under many policies, in groups of several resolutions, with
 * a loop that sleeps until liveness_group_deadline() and wakes late by a
 * random amount up to max_late each time, as real loops do. Every peer is
 * declared DEAD never before last proof + timeout and no later than that
 * rounded up to the wheel's tick plus the loop's lateness; before that it
 * only gets pings.
 */
static void silent_peers_with_a_late_loop(liveness_time res, int policies, int late_of_retry)
{
	enum { PER = 4 };
	struct liveness_policy *pol = calloc((size_t)policies, sizeof(*pol));
	struct liveness_hb *hb = calloc((size_t)policies * PER, sizeof(*hb));
	liveness_time *start = calloc((size_t)policies * PER, sizeof(*start));
	liveness_time now = 1000 * S, max_late = LIVENESS_NEVER;
	struct liveness_group *g;
	int n = policies * PER, dead = 0;

	ck_assert(pol && hb && start);
	ck_assert_int_eq(liveness_group_new(&g, res, now), 0);
	for (int i = 0; i < policies; i++) {
		liveness_time interval = res + late_rand(20 * S);
		liveness_time timeout = interval + late_rand(3 * interval);

		ck_assert_int_eq(liveness_policy_init(&pol[i], interval, timeout), 0);
		pol[i].retry = res + late_rand(interval - res + 1);
		pol[i].jitter = (unsigned)late_rand(101);
		pol[i].flags = late_rand(2) ? LIVENESS_ROUND_TRIP : 0;
		/* The loop may be late by up to this fraction of the shortest retry. */
		if (pol[i].retry / 100 * (liveness_time)late_of_retry < max_late)
			max_late = pol[i].retry / 100 * (liveness_time)late_of_retry;
		for (int k = 0; k < PER; k++) {
			int j = i * PER + k;

			start[j] = now + late_rand(5 * S);
			ck_assert_int_eq(liveness_hb_init(&hb[j], &pol[i], start[j]), 0);
			ck_assert_int_eq(liveness_group_add(g, &hb[j]), 0);
		}
	}
	while (dead < n) {
		liveness_time d = liveness_group_deadline(g), late = late_rand(max_late + 1);
		struct liveness_hb *got;
		enum liveness_event ev;

		ck_assert_uint_ne(d, LIVENESS_NEVER);
		now = (d > now ? d : now) + late;
		while ((got = step(g, now, &ev, NULL)) != NULL) {
			int j = (int)(got - hb);
			liveness_time due = start[j] + got->policy->timeout;

			if (ev == LIVENESS_PING) {
				ck_assert_uint_lt(now, due);
				continue;
			}
			ck_assert_int_eq(ev, LIVENESS_DEAD);
			ck_assert_msg(now >= due, "member %d convicted %.3f s early", j,
				      (due - now) / 1e9);
			ck_assert_msg(now <= ceil_to(due, res) + max_late,
				      "member %d (interval %.3f s, timeout %.3f s, retry %.3f s, "
				      "resolution %.3f s) convicted %.3f s late",
				      j, got->policy->interval / 1e9, got->policy->timeout / 1e9,
				      got->policy->retry / 1e9, res / 1e9, (now - due) / 1e9);
			dead++;
		}
	}
	liveness_group_free(g);
	free(start);
	free(hb);
	free(pol);
}

/* The reported case: 1 s / 2 s, retry 100 ms, a 100 ms wheel, a loop up to 1 ms late. */
START_TEST(late_loop_still_convicts_on_time)
{
	struct liveness_policy p = exact(1 * S, 2 * S, 100 * MS);
	struct liveness_group *g;
	struct liveness_hb hb = {0};
	liveness_time now = 0, last_ping = 0;
	int pings = 0;

	ck_assert_int_eq(liveness_group_new(&g, 100 * MS, 0), 0);
	ck_assert_int_eq(liveness_hb_init(&hb, &p, 0), 0);
	ck_assert_int_eq(liveness_group_add(g, &hb), 0);
	for (;;) {
		liveness_time d = liveness_group_deadline(g);
		struct liveness_hb *got;
		enum liveness_event ev;

		ck_assert_uint_le(d, 2 * S + 100 * MS);
		now = d + late_rand(MS + 1);
		got = step(g, now, &ev, NULL);
		if (got == NULL)
			continue;
		if (ev == LIVENESS_DEAD)
			break;
		/* Retries come every retry, late by at most a tick and the loop's lateness. */
		if (pings++ > 0) {
			ck_assert_uint_ge(now - last_ping, 100 * MS);
			ck_assert_uint_le(now - last_ping, 200 * MS + MS);
		}
		last_ping = now;
	}
	ck_assert_uint_ge(now, 2 * S);
	ck_assert_uint_le(now, 2 * S + MS);
	ck_assert_int_ge(pings, 5); /* 1 s, then every 100 to 200 ms */
	liveness_group_free(g);
}
END_TEST

START_TEST(late_loop_many_policies)
{
	static const liveness_time res[] = {MS, 10 * MS, 100 * MS, 250 * MS, S};

	for (unsigned r = 0; r < sizeof(res) / sizeof(res[0]); r++) {
		/* On time, a little late, and late by the whole retry. */
		silent_peers_with_a_late_loop(res[r], 25, 0);
		silent_peers_with_a_late_loop(res[r], 25, 1);
		silent_peers_with_a_late_loop(res[r], 25, 100);
	}
}
END_TEST

/*
 * The edge between a late loop and a stall: a loop exactly retry after the
 * wheel's tick still convicts; a nanosecond more is a stall, which pings
 * first and convicts only after the peer had its time to answer.
 */
START_TEST(stall_edge_is_retry_after_the_tick)
{
	struct liveness_policy p = exact(1 * S, 3 * S, 400 * MS);
	const liveness_time res = 300 * MS, proof = 50 * MS, due = proof + 3 * S;
	const liveness_time tick = ceil_to(due, res);

	for (int extra = 0; extra <= 1; extra++) {
		struct liveness_group *g;
		struct liveness_hb hb = {0}, *got;
		enum liveness_event ev;
		liveness_time now = proof;

		ck_assert_int_eq(liveness_group_new(&g, res, 0), 0);
		ck_assert_int_eq(liveness_hb_init(&hb, &p, proof), 0);
		ck_assert_int_eq(liveness_group_add(g, &hb), 0);
		/* On time until the verdict is due: pings at 1, 1.4, ... s. */
		while ((now = liveness_group_deadline(g)) < due)
			while ((got = step(g, now, &ev, NULL)) != NULL)
				ck_assert_int_eq(ev, LIVENESS_PING);
		ck_assert_uint_eq(now, tick);
		now = tick + p.retry + (liveness_time)extra;
		ck_assert_ptr_eq(step(g, now, &ev, NULL), &hb);
		if (!extra) {
			ck_assert_int_eq(ev, LIVENESS_DEAD);
		} else {
			/* A stall: a fresh ping, and death timeout - interval later. */
			ck_assert_int_eq(ev, LIVENESS_PING);
			do {
				liveness_time d = liveness_group_deadline(g);

				got = step(g, d, &ev, NULL);
				if (got && ev == LIVENESS_DEAD) {
					ck_assert_uint_ge(d, now + 2 * S);
					ck_assert_uint_le(d, ceil_to(now + 2 * S, res));
				}
			} while (!got || ev != LIVENESS_DEAD);
		}
		liveness_group_free(g);
	}
}
END_TEST

/* Members of one group keep their own policies: silent, each dies on its own timeout. */
START_TEST(mixed_policies_die_on_their_own_timeouts)
{
	struct liveness_policy fast = exact(1 * S, 3 * S, 500 * MS), slow = exact(5 * S, 15 * S, S);
	struct liveness_group *g;
	struct liveness_hb a = {0}, b = {0}, *got;
	enum liveness_event ev;
	liveness_time now, dead_a = 0, dead_b = 0;

	ck_assert_int_eq(liveness_group_new(&g, 100 * MS, 0), 0);
	ck_assert_int_eq(liveness_hb_init(&a, &fast, 0), 0);
	ck_assert_int_eq(liveness_hb_init(&b, &slow, 0), 0);
	ck_assert_int_eq(liveness_group_add(g, &a), 0);
	ck_assert_int_eq(liveness_group_add(g, &b), 0);
	while ((now = liveness_group_deadline(g)) != LIVENESS_NEVER)
		while ((got = step(g, now, &ev, NULL)) != NULL)
			if (ev == LIVENESS_DEAD)
				*(got == &a ? &dead_a : &dead_b) = now;
	ck_assert_uint_eq(dead_a, 3 * S);
	ck_assert_uint_eq(dead_b, 15 * S);
	liveness_group_free(g);
}
END_TEST

/* An hb whose deadline passed before it joined is due at once: the due list. */
START_TEST(overdue_member_is_stepped_at_once)
{
	struct liveness_policy p = exact(30 * S, 90 * S, 20 * S);
	struct liveness_group *g;
	struct liveness_hb late = {0}, fresh = {0};
	enum liveness_event ev;

	ck_assert_int_eq(liveness_group_new(&g, 100 * MS, 200 * S), 0);
	ck_assert_int_eq(liveness_hb_init(&fresh, &p, 200 * S), 0);
	ck_assert_int_eq(liveness_group_add(g, &fresh), 0);
	ck_assert_int_eq(liveness_hb_init(&late, &p, 0), 0);
	ck_assert_int_eq(liveness_group_add(g, &late), 0);
	/* Due now, not at the next tick, and only the overdue one. */
	ck_assert_uint_eq(liveness_group_deadline(g), 200 * S);
	ck_assert_ptr_eq(step(g, 200 * S, &ev, NULL), &late);
	/* Its ping was due long ago: our loop did not run, so no verdict yet. */
	ck_assert_int_eq(ev, LIVENESS_PING);
	ck_assert_ptr_null(step(g, 200 * S, &ev, NULL));
	ck_assert_uint_eq(liveness_group_deadline(g), 220 * S);
	ck_assert(in_a_group(&late) && in_a_group(&fresh));
	liveness_group_free(g);
}
END_TEST

/*
 * A connection object reused while its hb is still a member: init is
 * refused and changes nothing, so the group never holds a dangling or a
 * doubled entry; after leaving, the same object starts again cleanly.
 */
START_TEST(reinit_of_a_member_is_refused)
{
	struct liveness_policy p = exact(30 * S, 90 * S, 20 * S), q = exact(5 * S, 15 * S, S);
	struct liveness_group *g;
	struct liveness_hb hb = {0}, before, *got;
	enum liveness_event ev;
	int steps = 0;

	ck_assert_int_eq(liveness_group_new(&g, 100 * MS, 0), 0);
	ck_assert_int_eq(liveness_hb_init(&hb, &p, 0), 0);
	ck_assert_int_eq(liveness_group_add(g, &hb), 0);
	before = hb;
	ck_assert_int_eq(liveness_hb_init(&hb, &q, 10 * S), -EBUSY);
	ck_assert_mem_eq(&hb, &before, sizeof(hb));
	/* Still a member, filed once, due on its old policy. */
	ck_assert(in_a_group(&hb));
	ck_assert_uint_eq(liveness_group_deadline(g), 30 * S);
	liveness_group_remove(g, &hb);
	ck_assert_uint_eq(liveness_group_deadline(g), LIVENESS_NEVER);
	/* Reused: a new connection on the same object. */
	ck_assert_int_eq(liveness_hb_init(&hb, &q, 10 * S), 0);
	ck_assert_int_eq(liveness_group_add(g, &hb), 0);
	while ((got = step(g, 15 * S, &ev, NULL)) != NULL) {
		ck_assert_ptr_eq(got, &hb);
		steps++;
	}
	ck_assert_int_eq(steps, 1);
	/* A DEAD member has left its group: init may start it again. */
	for (liveness_time t = 15 * S; ev != LIVENESS_DEAD; t = liveness_group_deadline(g))
		step(g, t, &ev, NULL);
	ck_assert_int_eq(liveness_hb_init(&hb, &p, 100 * S), 0);
	liveness_group_free(g);
}
END_TEST

/* Two groups: a member joins one only, leaves only its own, and outlives a freed one. */
START_TEST(two_groups_misuse)
{
	struct liveness_policy p = exact(30 * S, 90 * S, 20 * S);
	struct liveness_group *a, *b;
	struct liveness_hb hb = {0}, other = {0};
	enum liveness_event ev;

	ck_assert_int_eq(liveness_group_new(&a, 100 * MS, 0), 0);
	ck_assert_int_eq(liveness_group_new(&b, 100 * MS, 0), 0);
	ck_assert_int_eq(liveness_hb_init(&hb, &p, 0), 0);
	ck_assert_int_eq(liveness_hb_init(&other, &p, 5 * S), 0);
	ck_assert_int_eq(liveness_group_add(a, &hb), 0);
	ck_assert_int_eq(liveness_group_add(b, &other), 0);
	ck_assert_int_eq(liveness_group_add(b, &hb), -EEXIST);
	ck_assert_uint_eq(liveness_group_deadline(b), 35 * S);
	/* Removing from the wrong group is a no-op: it stays in a, and b keeps its own. */
	liveness_group_remove(b, &hb);
	ck_assert_uint_eq(liveness_group_deadline(a), 30 * S);
	ck_assert_uint_eq(liveness_group_deadline(b), 35 * S);
	ck_assert_ptr_null(step(b, 30 * S, &ev, NULL));
	ck_assert_ptr_eq(step(a, 30 * S, &ev, NULL), &hb);
	ck_assert_int_eq(ev, LIVENESS_PING);
	/* a freed with hb in it: hb is free to be touched, re-initialized or added elsewhere. */
	liveness_group_free(a);
	liveness_group_remove(a, &hb);
	liveness_hb_rx(&hb, 31 * S);
	ck_assert_int_eq(liveness_hb_step(&hb, 31 * S, NULL), LIVENESS_NONE);
	ck_assert_int_eq(liveness_hb_init(&hb, &p, 40 * S), 0);
	ck_assert_int_eq(liveness_group_add(b, &hb), 0);
	ck_assert_ptr_eq(step(b, 35 * S, &ev, NULL), &other);
	ck_assert_ptr_null(step(b, 35 * S, &ev, NULL));
	/* b steps the newcomer on its new schedule: a ping 30 s after 40 s. */
	ck_assert_uint_eq(liveness_group_deadline(b), 55 * S); /* other's retry */
	ck_assert_ptr_eq(step(b, 55 * S, &ev, NULL), &other);
	ck_assert_ptr_null(step(b, 55 * S, &ev, NULL));
	ck_assert_uint_eq(liveness_group_deadline(b), 70 * S);
	ck_assert_ptr_eq(step(b, 70 * S, &ev, NULL), &hb);
	ck_assert_int_eq(ev, LIVENESS_PING);
	liveness_group_free(b);
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
	liveness_time gone;  /* dies or hangs at this time */
	liveness_time proof; /* the reference model's last proof of life */
	uint32_t seq;	     /* last seq we pinged with */
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

/*
 * The loop wakes at the group's deadline or the next event, late by up to
 * max_late (less than the shortest retry, so never a stall).
 */
static void simulate(liveness_time max_late)
{
	enum { N = 4000 };
	const liveness_time res = 100 * MS, end = 900 * S, t0 = 5 * S;
	struct liveness_policy normal, rt;
	struct liveness_group *g;
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
	ck_assert_int_eq(liveness_group_new(&g, res, t0), 0);
	for (int i = 0; i < N; i++) {
		struct peer *pe = &peers[i];
		liveness_time start = t0 + sim_rand(60 * S);

		pe->kind = (enum kind)(i % NKINDS);
		pe->p = pe->kind == HUNG || sim_rand(2) ? &rt : &normal;
		pe->gone = start + sim_rand(600 * S);
		pe->proof = start;
		ck_assert_int_eq(liveness_hb_init(&pe->hb, pe->p, start), 0);
		ck_assert_int_eq(liveness_group_add(g, &pe->hb), 0);
		pe->in_group = 1;
		if (pe->kind != QUIET && pe->kind != SLOW)
			heap_push(&h, (struct event){start + 1 + sim_rand(20 * S), i, EV_RX, 0});
		if (pe->kind == FLOODER || pe->kind == PINGER)
			heap_push(&h, (struct event){start + sim_rand(5 * S), i, EV_PEER_PING, 0});
	}
	while (now < end) {
		liveness_time next = liveness_group_deadline(g);
		struct liveness_hb *hb;
		enum liveness_event ev;
		uint32_t seq;

		if (h.n > 0 && h.v[0].t < next)
			next = h.v[0].t;
		if (next > end)
			next = end;
		next += sim_rand(max_late + 1);
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
				heap_push(&h, (struct event){e.t + 1 + sim_rand(20 * S), e.peer,
							     EV_RX, 0});
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
					liveness_group_remove(g, &pe->hb);
					liveness_group_remove(g, &pe->hb);
					pe->in_group = 0;
					pe->flooded = 1;
					flooded++;
					break;
				}
				heap_push(&h,
					  (struct event){e.t + (pe->kind == FLOODER
									? S
									: 5 * S + sim_rand(3 * S)),
							 e.peer, EV_PEER_PING, 0});
				break;
			}
			}
		}
		while ((hb = step(g, now, &ev, &seq)) != NULL) {
			struct peer *pe = liveness_container_of(hb, struct peer, hb);

			ck_assert(pe->in_group);
			if (ev == LIVENESS_PING) {
				liveness_time delay = pe->kind == SLOW ? 2 * S + sim_rand(15 * S)
								       : sim_rand(2 * S);
				pings++;
				pe->seq = seq;
				if (answers(pe, now + delay))
					heap_push(&h, (struct event){now + delay, (int)(pe - peers),
								     EV_PONG, seq});
				continue;
			}
			ck_assert_int_eq(ev, LIVENESS_DEAD);
			/* Never early, never later than one resolution and the loop's lateness. */
			ck_assert_uint_ge(now, pe->proof + pe->p->timeout);
			ck_assert_uint_le(now, pe->proof + pe->p->timeout + res + max_late);
			/* Only the silent: the dead, and hung applications under ROUND_TRIP. */
			ck_assert_msg(pe->kind == DIES || pe->kind == HUNG,
				      "live peer %d (kind %d) convicted", (int)(pe - peers),
				      pe->kind);
			ck_assert_uint_ge(now, pe->gone);
			ck_assert(!in_a_group(hb));
			liveness_group_remove(g, hb); /* harmless */
			pe->in_group = 0;
			pe->convicted = 1;
			convicted++;
		}
	}
	for (int i = 0; i < N; i++) {
		struct peer *pe = &peers[i];

		if (pe->kind == FLOODER)
			ck_assert_msg(pe->flooded, "flooder %d not caught", i);
		if ((pe->kind == DIES || pe->kind == HUNG) &&
		    pe->proof + pe->p->timeout + res + max_late < end)
			ck_assert_msg(pe->convicted, "silent peer %d (kind %d) not convicted", i,
				      pe->kind);
		if (pe->kind != DIES && pe->kind != HUNG)
			ck_assert(!pe->convicted);
	}
	ck_assert_int_gt(convicted, N / NKINDS);
	ck_assert_int_eq(flooded, (N + NKINDS - 1 - FLOODER) / NKINDS);
	ck_assert_int_gt(pings, N);
	liveness_group_free(g);
	free(h.v);
	free(peers);
}

START_TEST(simulation_against_reference)
{
	simulate(0);
}
END_TEST

START_TEST(simulation_with_a_late_loop)
{
	/* Late by up to 1 s at every wake-up, against a 20 s retry. */
	simulate(S);
}
END_TEST

/* ---- The group against a plain reference model --------------------------- */

/*
 * The same members driven twice through the same schedule: once by a group,
 * once by the plainest model of it, a list of the members stepped one by one
 * with liveness_hb_step(). The model steps a member at the first step time
 * at or after its liveness_hb_deadline() rounded up to the resolution (the
 * group's documented lateness), or at the first step after it joined if that
 * deadline had passed already. The members are the same objects in both
 * runs, since a member's jitter depends on its address; the loop is never
 * late enough for a step to be a local stall.
 */
enum { MODEL_N = 400, MODEL_CLUSTER = 150 };

/*
 * An assertion for the hot loops: Check reports every passing ck_assert to
 * its parent process, a system call each, which millions of them make slow.
 */
#define must(cond)                                                                                 \
	do {                                                                                       \
		if (!(cond))                                                                       \
			ck_abort_msg("%s:%d: %s", __FILE__, __LINE__, #cond);                      \
	} while (0)

/* liveness_group_step() held to its contract, as step() does, but quickly. */
static struct liveness_hb *model_step(struct liveness_group *g, liveness_time now,
				      enum liveness_event *ev, uint32_t *seq)
{
	struct liveness_hb *member = (struct liveness_hb *)1;
	int r;

	*ev = (enum liveness_event) - 1;
	r = liveness_group_step(g, now, &member, ev, seq);
	must(r == 0 || r == 1);
	must(r == 1 ? member != NULL && *ev != LIVENESS_NONE
		    : member == NULL && *ev == LIVENESS_NONE);
	return member;
}

struct trace {
	size_t step; /* the index of the step time */
	liveness_time at;
	uint32_t member, seq;
	enum liveness_event ev;
};

struct model {
	liveness_time res, start, end, last;
	struct liveness_policy pol[4];
	struct liveness_hb *hb;
	unsigned char in[MODEL_N], overdue[MODEL_N];
	unsigned char expect[MODEL_N];	/* at this step: 0 not due, 1 may be stepped, 2 must be */
	liveness_time pong_at[MODEL_N]; /* when the answer to the last ping comes, or 0 */
	uint32_t pong_seq[MODEL_N];
	liveness_time *times; /* the step times, chosen in the group's run */
	size_t ntimes, max_times;
	struct trace *trace;
	size_t ntrace, max_trace;
	const struct trace *chosen; /* the group's events, by step and member */
	size_t nchosen, next_chosen;
	uint64_t rng, sched;
};

static uint64_t xorshift(uint64_t *s, uint64_t n)
{
	*s ^= *s << 13;
	*s ^= *s >> 7;
	*s ^= *s << 17;
	return n ? *s % n : 0;
}

/*
 * When the model steps the member: at the first step time at or after its
 * deadline rounded up to a tick; if it joined overdue, at the next step if
 * its deadline has come by then. Never if it is in no group.
 */
static liveness_time model_due(const struct model *m, int i)
{
	liveness_time d = liveness_hb_deadline(&m->hb[i]);

	if (!m->in[i])
		return LIVENESS_NEVER;
	if (m->overdue[i])
		return d;
	if (d > LIVENESS_NEVER - m->res)
		return LIVENESS_NEVER;
	return ceil_to(d, m->res);
}

/* The model may step the member at now: its deadline has come, but not its tick. */
static int model_may(const struct model *m, int i, liveness_time now)
{
	return m->in[i] && liveness_hb_deadline(&m->hb[i]) <= now;
}

static void model_record(struct model *m, size_t step, liveness_time at, int i,
			 enum liveness_event ev, uint32_t seq)
{
	if (m->ntrace == m->max_trace) {
		m->max_trace = m->max_trace ? 2 * m->max_trace : 4096;
		m->trace = realloc(m->trace, m->max_trace * sizeof(*m->trace));
		ck_assert_ptr_nonnull(m->trace);
	}
	m->trace[m->ntrace++] = (struct trace){step, at, (uint32_t)i, seq, ev};
	m->overdue[i] = 0;
	if (ev == LIVENESS_DEAD) {
		m->in[i] = 0;
	} else if (i % 5 != 0) {
		/* All but the silent fifth answer, 1 ns to 3 s later. */
		m->pong_at[i] = at + 1 + seq % (3 * S);
		m->pong_seq[i] = seq;
	}
}

/*
 * (Re)start member i at now and add it to g (in the group's run): late, it
 * started earlier, so that its deadline is back before now.
 */
static void model_join(struct model *m, struct liveness_group *g, int i, liveness_time now,
		       int late, liveness_time back)
{
	const struct liveness_policy *p = &m->pol[i < MODEL_CLUSTER ? 3 : i % 3];
	struct liveness_hb *hb = &m->hb[i];

	must(liveness_hb_init(hb, p, now) == 0);
	if (late) {
		liveness_time d = liveness_hb_deadline(hb);

		must(liveness_hb_init(hb, p, now - (d - now) - back) == 0);
		must(liveness_hb_deadline(hb) == now - back);
	}
	if (g != NULL)
		must(liveness_group_add(g, hb) == 0);
	m->in[i] = 1;
	m->overdue[i] = liveness_hb_deadline(hb) <= m->last;
	m->pong_at[i] = 0;
}

/* Traffic, answers and departures before the step at now. */
static void model_before(struct model *m, struct liveness_group *g, liveness_time now)
{
	for (int i = 0; i < MODEL_N; i++) {
		uint64_t r = xorshift(&m->rng, 1000);

		if (!m->in[i])
			continue;
		if (m->pong_at[i] != 0 && m->pong_at[i] <= now) {
			liveness_hb_pong(&m->hb[i], m->pong_seq[i], now);
			m->pong_at[i] = 0;
		}
		if (i % 5 != 0 && r < 20) {
			liveness_hb_rx(&m->hb[i], now);
		} else if (r >= 998) {
			if (g != NULL)
				liveness_group_remove(g, &m->hb[i]);
			m->in[i] = 0;
		}
	}
}

/*
 * Members that left come back after the step at now, some with their
 * deadline up to a tick before now, or at now exactly.
 */
static void model_after(struct model *m, struct liveness_group *g, liveness_time now)
{
	for (int i = 0; i < MODEL_N; i++) {
		uint64_t r = xorshift(&m->rng, 1000);

		if (!m->in[i] && r < 10)
			model_join(m, g, i, now, r < 5, r < 2 ? 0 : xorshift(&m->rng, m->res));
	}
}

/*
 * The group's run checks liveness_group_deadline() against the model: never
 * after the earliest member's tick, now exactly when a member is overdue,
 * after now otherwise. Then it picks the next step time, at random: the next
 * tick, a time between ticks, the group's deadline, or a time before now (a
 * clock running backwards, which the model reads as now).
 */
static liveness_time model_next(struct model *m, struct liveness_group *g)
{
	liveness_time d = liveness_group_deadline(g), first = LIVENESS_NEVER, t;
	liveness_time tick = (m->last / m->res + 1) * m->res;
	uint64_t c = xorshift(&m->sched, 100);
	int overdue = 0;

	for (int i = 0; i < MODEL_N; i++) {
		if ((t = model_due(m, i)) < first)
			first = t;
		overdue |= m->in[i] && m->overdue[i];
	}
	if (overdue) {
		must(d == m->last);
	} else {
		must(d <= first);
		must(d > m->last);
	}
	if (c < 40)
		return tick;
	if (c < 50)
		return m->last + 1 + xorshift(&m->sched, m->res - 1);
	if (c < 95)
		return d <= m->end ? d : tick;
	return m->last - xorshift(&m->sched, m->last - m->start + 1);
}

/*
 * One run: the group's when g is not NULL, which picks the step times and
 * checks every step against the model, else the model's alone, on those
 * step times.
 */
static void model_run(struct model *m, struct liveness_group *g)
{
	struct liveness_hb *got;
	enum liveness_event ev;
	uint32_t seq;
	size_t k;

	m->rng = 0x2545f4914f6cdd1du;
	m->sched = 0x9e3779b97f4a7c15u;
	m->ntrace = 0;
	m->last = m->start;
	for (int i = 0; i < MODEL_N; i++) {
		liveness_time at = m->start + (i < MODEL_CLUSTER ? 0 : xorshift(&m->rng, 30 * S));

		model_join(m, g, i, at, 0, 0);
	}
	for (k = 0;; k++) {
		liveness_time raw, now;

		if (g != NULL) {
			raw = model_next(m, g);
			if (raw > m->end)
				break;
			if (m->ntimes == m->max_times) {
				m->max_times = m->max_times ? 2 * m->max_times : 4096;
				m->times = realloc(m->times, m->max_times * sizeof(*m->times));
				ck_assert_ptr_nonnull(m->times);
			}
			m->times[m->ntimes++] = raw;
		} else if (k < m->ntimes) {
			raw = m->times[k];
		} else {
			break;
		}
		now = raw > m->last ? raw : m->last;
		model_before(m, g, now);
		for (int i = 0; i < MODEL_N; i++)
			m->expect[i] = model_due(m, i) <= now ? 2 : model_may(m, i, now);
		if (g != NULL) {
			for (;;) {
				int i;

				seq = 0; /* not written for a verdict */
				if ((got = model_step(g, raw, &ev, &seq)) == NULL)
					break;
				i = (int)(got - m->hb);
				if (i < 0 || i >= MODEL_N || m->expect[i] == 0)
					ck_abort_msg("member %d stepped at %llu, not due", i,
						     (unsigned long long)now);
				m->expect[i] = 0;
				model_record(m, k, now, i, ev, seq);
			}
			for (int i = 0; i < MODEL_N; i++)
				if (m->expect[i] == 2)
					ck_abort_msg("member %d due at %llu not stepped", i,
						     (unsigned long long)now);
		} else {
			for (int i = 0; i < MODEL_N; i++) {
				/* What may be stepped, the model steps when the group did. */
				const struct trace *c = &m->chosen[m->next_chosen];

				if (m->next_chosen < m->nchosen && c->step == k &&
				    c->member == (uint32_t)i) {
					must(m->expect[i] != 0);
					m->next_chosen++;
				} else if (m->expect[i] != 2)
					continue;
				seq = 0;
				ev = (enum liveness_event)liveness_hb_step(&m->hb[i], now, &seq);
				must(ev == LIVENESS_PING || ev == LIVENESS_DEAD);
				model_record(m, k, now, i, ev, seq);
			}
		}
		memset(m->overdue, 0, sizeof(m->overdue));
		m->last = now;
		model_after(m, g, now);
	}
}

static int trace_cmp(const void *a, const void *b)
{
	const struct trace *x = a, *y = b;

	if (x->step != y->step)
		return x->step < y->step ? -1 : 1;
	return x->member < y->member ? -1 : x->member > y->member;
}

/*
 * Both runs over length from 1000 s, at resolution res, and their events
 * compared one by one: the same members, events and sequence numbers at the
 * same step times.
 */
static void group_against_model(liveness_time res, liveness_time length)
{
	struct model *m = calloc(1, sizeof(*m));
	struct liveness_group *g;
	struct trace *want;
	size_t nwant;
	int pings = 0, deaths = 0;

	ck_assert_ptr_nonnull(m);
	m->hb = calloc(MODEL_N, sizeof(*m->hb));
	ck_assert_ptr_nonnull(m->hb);
	m->res = res;
	m->start = 1000 * S;
	m->end = m->start + length;
	/* Every retry is at least two ticks: the model's loop is never a stall. */
	m->pol[0] = exact(3 * S, 10 * S, 2 * S);
	m->pol[0].jitter = 30;
	m->pol[1] = exact(30 * S, 90 * S, 20 * S);
	m->pol[1].jitter = 10;
	m->pol[1].flags = LIVENESS_ROUND_TRIP | LIVENESS_RTT_TIMEOUT;
	/* Longer than a revolution of the wheel. */
	m->pol[2] = exact(300 * S, 700 * S, 100 * S);
	m->pol[2].jitter = 50;
	/* The cluster: no jitter, so that its members share slots, many chunks of them. */
	m->pol[3] = exact(10 * S, 25 * S, 4 * S);
	ck_assert_int_eq(liveness_group_new(&g, res, m->start), 0);
	model_run(m, g);
	liveness_group_free(g);
	for (int i = 0; i < MODEL_N; i++)
		ck_assert(!in_a_group(&m->hb[i]));
	want = m->trace;
	nwant = m->ntrace;
	qsort(want, nwant, sizeof(*want), trace_cmp);
	m->trace = NULL;
	m->ntrace = m->max_trace = 0;
	m->chosen = want;
	m->nchosen = nwant;
	model_run(m, NULL);
	ck_assert_uint_eq(m->next_chosen, nwant);
	qsort(m->trace, m->ntrace, sizeof(*m->trace), trace_cmp);
	ck_assert_uint_eq(m->ntrace, nwant);
	for (size_t i = 0; i < nwant; i++) {
		const struct trace *a = &want[i], *b = &m->trace[i];

		if (a->step != b->step || a->at != b->at || a->member != b->member ||
		    a->ev != b->ev || a->seq != b->seq)
			ck_abort_msg("event %zu: group %d %d at %llu, model %d %d at %llu", i,
				     (int)a->member, a->ev, (unsigned long long)a->at,
				     (int)b->member, b->ev, (unsigned long long)b->at);
		pings += a->ev == LIVENESS_PING;
		deaths += a->ev == LIVENESS_DEAD;
	}
	/* The run means something: many pings, and verdicts on the silent. */
	ck_assert_int_gt(pings, MODEL_N);
	ck_assert_int_gt(deaths, MODEL_N / 20);
	free(want);
	free(m->trace);
	free(m->times);
	free(m->hb);
	free(m);
}

/* A 100 ms wheel of 1024 slots: several revolutions, far members re-filed each time. */
START_TEST(model_at_100ms)
{
	group_against_model(100 * MS, 600 * S);
}
END_TEST

/* A 1 ms wheel of 16384 slots, the largest: a revolution is 16 s. */
START_TEST(model_at_1ms)
{
	group_against_model(MS, 100 * S);
}
END_TEST

/* A 1 s wheel of 256 slots, the smallest, and a resolution no power of two divides well. */
START_TEST(model_at_1s_and_7ms)
{
	group_against_model(S, 1500 * S);
	group_against_model(7 * MS, 100 * S);
}
END_TEST

/* ---- The wheel's edges ------------------------------------------------------ */

/* The turn of the wheel as liveness_group_new(3) documents it. */
static liveness_time turn_of(liveness_time res)
{
	liveness_time n = 256;

	while (n < 64 * S / res && n < 16384)
		n *= 2;
	return n * res;
}

/*
 * A member due further ahead than a turn is looked at once per turn: the
 * group's first deadline is the member's tick less whole turns, the first
 * such tick after the group's start. That holds the wheel to the documented
 * size (a power of two of slots, 256 to 16384, for a turn of about 64 s),
 * the exact sizes included, and a group started on a tick looks ahead a full
 * turn. Then the member is pinged on its tick, at any resolution, 1 ns too.
 */
START_TEST(wheel_turn_follows_resolution)
{
	static const liveness_time res[] = {S, 500 * MS, 100 * MS, 62500 * 1000, MS, 3906250, 7, 1};
	struct liveness_policy p = exact(1000 * S, 3000 * S, 100 * S);

	for (size_t r = 0; r < sizeof(res) / sizeof(res[0]); r++) {
		liveness_time turn = turn_of(res[r]), now = 1000 * S / res[r] * res[r];

		for (int k = 0; k < 3; k++) {
			/* A turn ahead exactly, 15.6 turns, and 2 ns past a turn. */
			liveness_time d = now + (k == 0	  ? turn
						 : k == 1 ? turn * 156 / 10
							  : turn + 2);
			liveness_time e = ceil_to(d, res[r]), t;
			struct liveness_group *g;
			struct liveness_hb hb = {0};
			enum liveness_event ev;
			int wakeups = 0;

			while (e - turn > now)
				e -= turn;
			ck_assert_int_eq(liveness_group_new(&g, res[r], now), 0);
			ck_assert_int_eq(liveness_hb_init(&hb, &p, d - 1000 * S), 0);
			ck_assert_int_eq(liveness_group_add(g, &hb), 0);
			ck_assert_uint_eq(liveness_hb_deadline(&hb), d);
			ck_assert_msg(liveness_group_deadline(g) == e,
				      "res %llu k %d: %llu, not %llu", (unsigned long long)res[r],
				      k, (unsigned long long)liveness_group_deadline(g),
				      (unsigned long long)e);
			while ((t = liveness_group_deadline(g)) < ceil_to(d, res[r])) {
				ck_assert_uint_gt(t, now);
				ck_assert_ptr_null(step(g, t, &ev, NULL));
				now = t;
				ck_assert_int_lt(++wakeups, 40);
			}
			ck_assert_uint_eq(t, ceil_to(d, res[r]));
			ck_assert_ptr_eq(step(g, t, &ev, NULL), &hb);
			ck_assert_int_eq(ev, LIVENESS_PING);
			now = t;
			liveness_group_free(g);
		}
	}
}
END_TEST

/*
 * The last ticks before LIVENESS_NEVER. A deadline on the last tick there
 * is is stepped on it; one after it, in the part of a tick left before the
 * end of time, can never be stepped on a tick, and needs no step: the group
 * has no deadline for it, however many turns ahead it is. Resolutions that
 * divide 2^64 - 1 (3) and that do not (100 ms), and 1 ns.
 */
START_TEST(end_of_time_ticks)
{
	static const liveness_time res[] = {100 * MS, 3, 1};
	struct liveness_policy p = exact(30 * S, 90 * S, 20 * S);

	for (size_t r = 0; r < sizeof(res) / sizeof(res[0]); r++) {
		liveness_time last = (LIVENESS_NEVER - 1) / res[r] * res[r];
		liveness_time start = last - 5 * turn_of(res[r]) / res[r] * res[r], t = start;
		struct liveness_group *g;
		struct liveness_hb on = {0}, after = {0};
		enum liveness_event ev;
		int wakeups = 0;

		ck_assert_int_eq(liveness_group_new(&g, res[r], start), 0);
		if (last + 1 < LIVENESS_NEVER) {
			ck_assert_int_eq(liveness_hb_init(&after, &p, last + 1 - 30 * S), 0);
			ck_assert_uint_eq(liveness_hb_deadline(&after), last + 1);
			ck_assert_int_eq(liveness_group_add(g, &after), 0);
			ck_assert_uint_eq(liveness_group_deadline(g), LIVENESS_NEVER);
		}
		ck_assert_int_eq(liveness_hb_init(&on, &p, last - 30 * S), 0);
		ck_assert_int_eq(liveness_group_add(g, &on), 0);
		while ((t = liveness_group_deadline(g)) < last) {
			ck_assert_uint_gt(t, start);
			ck_assert_ptr_null(step(g, t, &ev, NULL));
			ck_assert_int_lt(++wakeups, 10);
		}
		ck_assert_uint_eq(t, last);
		ck_assert_ptr_eq(step(g, last, &ev, NULL), &on);
		ck_assert_int_eq(ev, LIVENESS_PING);
		ck_assert_ptr_null(step(g, last, &ev, NULL));
		/* Its next ping would be after the end of time, as would the other's. */
		ck_assert_uint_eq(liveness_group_deadline(g), LIVENESS_NEVER);
		/* Members with no tick leave like any other. */
		if (last + 1 < LIVENESS_NEVER) {
			liveness_group_remove(g, &after);
			ck_assert(!in_a_group(&after));
		}
		ck_assert(in_a_group(&on));
		liveness_group_free(g);
	}
}
END_TEST

/*
 * At a resolution that divides 2^64 - 1, LIVENESS_NEVER itself falls on a
 * tick, after the last one a deadline can have. A loop asleep until then
 * steps the members of the last turn one at a time; between two, the group
 * still has members due on a wheel slot whose tick is that end of time, and
 * says so with the last time there is, LIVENESS_NEVER - 1, not with "no
 * deadline".
 */
START_TEST(end_of_time_is_a_tick)
{
	const liveness_time res = 3, end = LIVENESS_NEVER, turn = turn_of(res);
	struct liveness_policy p = exact(30 * S, 90 * S, 20 * S);
	struct liveness_group *g;
	struct liveness_hb a = {0}, b = {0};
	enum liveness_event ev;

	ck_assert_uint_eq(end % res, 0);
	ck_assert_int_eq(liveness_group_new(&g, res, end - 5 * turn), 0);
	/* a on a slot of the end's tick, b five ticks before it, both turns ago. */
	ck_assert_int_eq(liveness_hb_init(&a, &p, end - 3 * turn - 30 * S), 0);
	ck_assert_int_eq(liveness_hb_init(&b, &p, end - 3 * turn - 5 * res - 30 * S), 0);
	ck_assert_int_eq(liveness_group_add(g, &a), 0);
	ck_assert_int_eq(liveness_group_add(g, &b), 0);
	ck_assert_ptr_eq(step(g, end, &ev, NULL), &b);
	ck_assert_int_eq(ev, LIVENESS_PING);
	ck_assert_uint_eq(liveness_group_deadline(g), LIVENESS_NEVER - 1);
	ck_assert_ptr_eq(step(g, end, &ev, NULL), &a);
	ck_assert_int_eq(ev, LIVENESS_PING);
	ck_assert_ptr_null(step(g, end, &ev, NULL));
	ck_assert_uint_eq(liveness_group_deadline(g), LIVENESS_NEVER);
	liveness_group_free(g);
}
END_TEST

/*
 * A loop that slept longer than a turn steps every member due, whichever
 * slot it is on: gaps from the group's last tick of a turn less a tick, a
 * turn, a turn and a tick, and a century (which one turn of work must do,
 * not one per turn slept).
 */
START_TEST(long_gaps_step_every_slot)
{
	const liveness_time res = 100 * MS, turn = turn_of(res);
	static const liveness_time gaps[] = {1, 2, 3, 0};
	struct liveness_policy p = exact(30 * S, 3000 * S, 20 * S);
	enum { N = 1024 + 3 };
	struct liveness_hb *hb = calloc(N, sizeof(*hb)), *got;

	ck_assert_ptr_nonnull(hb);
	for (size_t k = 0; k < sizeof(gaps) / sizeof(gaps[0]); k++) {
		liveness_time start = 1000 * S, now;
		struct liveness_group *g;
		enum liveness_event ev;
		int seen = 0;

		now = k < 3 ? start + turn - res + gaps[k] * res
			    : start + (liveness_time)100 * 365 * 24 * 3600 * S;
		ck_assert_int_eq(liveness_group_new(&g, res, start), 0);
		/* One member on every tick of the turn after the start, and 3 more. */
		for (int i = 0; i < N; i++) {
			ck_assert_int_eq(
				liveness_hb_init(&hb[i], &p,
						 start + (liveness_time)(i + 1) * res - 30 * S),
				0);
			ck_assert_int_eq(liveness_group_add(g, &hb[i]), 0);
		}
		while ((got = step(g, now, &ev, NULL)) != NULL) {
			/* Due on tick i + 1 after the start. */
			ck_assert_uint_le(start + (liveness_time)(got - hb + 1) * res, now);
			ck_assert_int_eq(ev, LIVENESS_PING);
			seen++;
		}
		for (int i = 0; i < N; i++)
			ck_assert_uint_gt(liveness_hb_deadline(&hb[i]), now);
		ck_assert_int_eq(seen, k < 3 ? (int)(turn / res) - 1 + (int)gaps[k] : N);
		liveness_group_free(g);
	}
	free(hb);
}
END_TEST

/*
 * Steps that find nothing due move the wheel on all the same: a member added
 * after them, due a turn ahead or less, is not announced before it is due,
 * and never at or before now.
 */
START_TEST(idle_steps_move_the_wheel)
{
	const liveness_time res = 100 * MS, turn = turn_of(res);
	struct liveness_policy p = exact(30 * S, 90 * S, 20 * S);
	struct liveness_group *g;
	struct liveness_hb far = {0}, hb = {0};
	enum liveness_event ev;
	liveness_time now = 0;

	ck_assert_int_eq(liveness_group_new(&g, res, 0), 0);
	/* Idle steps, on and between ticks, with an empty wheel, */
	for (int i = 0; i < 30; i++) {
		now += 7 * res + (i % 2) * 3;
		ck_assert_ptr_null(step(g, now, &ev, NULL));
	}
	now = (now / res + 40) * res;
	ck_assert_ptr_null(step(g, now, &ev, NULL));
	/* then a member due exactly a turn after now. */
	ck_assert_int_eq(liveness_hb_init(&hb, &p, now + turn - 30 * S), 0);
	ck_assert_int_eq(liveness_group_add(g, &hb), 0);
	ck_assert_uint_eq(liveness_group_deadline(g), now + turn);
	liveness_group_remove(g, &hb);
	/* And with a member far ahead, whose slot comes up before now. */
	ck_assert_int_eq(liveness_hb_init(&far, &p, 10 * turn - 30 * S), 0);
	ck_assert_int_eq(liveness_group_add(g, &far), 0);
	for (int i = 0; i < 30; i++) {
		liveness_time d = liveness_group_deadline(g);

		ck_assert_uint_gt(d, now);
		now += 9 * res;
		if (d <= now)
			ck_assert_ptr_null(step(g, d, &ev, NULL));
		ck_assert_ptr_null(step(g, now, &ev, NULL));
	}
	ck_assert_int_eq(liveness_hb_init(&hb, &p, now + turn / 2 - 30 * S), 0);
	ck_assert_int_eq(liveness_group_add(g, &hb), 0);
	ck_assert_uint_gt(liveness_group_deadline(g), now);
	ck_assert_uint_le(liveness_group_deadline(g), now + turn / 2);
	liveness_group_free(g);
}
END_TEST

/*
 * After a step with a clock that ran backwards the group keeps its latest
 * time: a member that joins due between the two times is overdue, due at
 * once, not a turn later; one due just after the latest time is not.
 */
START_TEST(backwards_step_keeps_the_latest_time)
{
	const liveness_time res = 100 * MS;
	struct liveness_policy p = exact(30 * S, 90 * S, 20 * S);
	struct liveness_group *g;
	struct liveness_hb hb = {0}, next = {0};
	enum liveness_event ev;
	liveness_time now = 500 * S;

	ck_assert_int_eq(liveness_group_new(&g, res, 0), 0);
	ck_assert_ptr_null(step(g, now, &ev, NULL));
	ck_assert_ptr_null(step(g, now - 5 * S, &ev, NULL));
	ck_assert_int_eq(liveness_hb_init(&hb, &p, now - 2 * S - 30 * S), 0);
	ck_assert_int_eq(liveness_group_add(g, &hb), 0);
	ck_assert_uint_eq(liveness_group_deadline(g), now);
	ck_assert_ptr_eq(step(g, now - 5 * S, &ev, NULL), &hb);
	ck_assert_int_eq(ev, LIVENESS_PING);
	ck_assert_uint_eq(liveness_group_deadline(g), now + 20 * S);
	/* Due 1 ns after the group's time: on the next tick, not at once. */
	ck_assert_int_eq(liveness_hb_init(&next, &p, now + 1 - 30 * S), 0);
	ck_assert_int_eq(liveness_group_add(g, &next), 0);
	ck_assert_uint_eq(liveness_group_deadline(g), now + res);
	ck_assert_ptr_null(step(g, now, &ev, NULL));
	ck_assert_ptr_eq(step(g, now + res, &ev, NULL), &next);
	liveness_group_free(g);
}
END_TEST

/*
 * Freeing a group detaches the members of every list: the first and the
 * last wheel slot, the due list and the never list.
 */
START_TEST(free_detaches_every_list)
{
	const liveness_time res = 100 * MS, turn = turn_of(res);
	struct liveness_policy p = exact(30 * S, 90 * S, 20 * S);
	struct liveness_group *g;
	struct liveness_hb hb[4] = {0};

	ck_assert_int_eq(liveness_group_new(&g, res, 100 * S), 0);
	/* Due on the ticks of slot 0 and of the last slot, long ago, and never. */
	ck_assert_int_eq(liveness_hb_init(&hb[0], &p, 2 * turn - 30 * S), 0);
	ck_assert_int_eq(liveness_hb_init(&hb[1], &p, 2 * turn - res - 30 * S), 0);
	ck_assert_int_eq(liveness_hb_init(&hb[2], &p, 0), 0);
	ck_assert_int_eq(liveness_hb_init(&hb[3], &p, LIVENESS_NEVER - 10), 0);
	for (int i = 0; i < 4; i++)
		ck_assert_int_eq(liveness_group_add(g, &hb[i]), 0);
	liveness_group_free(g);
	for (int i = 0; i < 4; i++)
		ck_assert_int_eq(liveness_hb_init(&hb[i], &p, 0), 0);
}
END_TEST

Suite *group_suite(void);

Suite *group_suite(void)
{
	Suite *s = suite_create("group");
	TCase *tc = tcase_create("group");

	tcase_add_test(tc, init_rejects);
	tcase_add_test(tc, step_and_deadline_reject_bad_input);
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
	tcase_add_test(tc, simulation_with_a_late_loop);
	tcase_add_test(tc, late_loop_still_convicts_on_time);
	tcase_add_test(tc, late_loop_many_policies);
	tcase_add_test(tc, stall_edge_is_retry_after_the_tick);
	tcase_add_test(tc, overdue_member_is_stepped_at_once);
	tcase_add_test(tc, mixed_policies_die_on_their_own_timeouts);
	tcase_add_test(tc, reinit_of_a_member_is_refused);
	tcase_add_test(tc, two_groups_misuse);
	tcase_add_test(tc, model_at_100ms);
	tcase_add_test(tc, model_at_1ms);
	tcase_add_test(tc, model_at_1s_and_7ms);
	tcase_add_test(tc, wheel_turn_follows_resolution);
	tcase_add_test(tc, end_of_time_ticks);
	tcase_add_test(tc, end_of_time_is_a_tick);
	tcase_add_test(tc, long_gaps_step_every_slot);
	tcase_add_test(tc, idle_steps_move_the_wheel);
	tcase_add_test(tc, backwards_step_keeps_the_latest_time);
	tcase_add_test(tc, free_detaches_every_list);
	tcase_set_timeout(tc, 60);
	suite_add_tcase(s, tc);
	return s;
}
