/*
 * Layer 3: the heartbeat state machine of one connection, driven by an
 * injected clock. Nothing here sleeps: time is whatever the test says.
 */
#include <check.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "liveness.h"

#define S LIVENESS_SEC
#define MS LIVENESS_MSEC

/* A policy with exact timing: no jitter, the given retry. */
static struct liveness_policy exact(liveness_time interval, liveness_time timeout,
				    liveness_time retry)
{
	struct liveness_policy p;

	ck_assert_int_eq(liveness_policy_init(&p, interval, timeout), 0);
	p.retry = retry;
	p.jitter = 0;
	return p;
}

/* Step at every deadline until DEAD; returns the time of DEAD. */
static liveness_time run_to_death(struct liveness_hb *hb, int *pings)
{
	liveness_time t;
	enum liveness_event ev;

	*pings = 0;
	for (int i = 0; i < 10000; i++) {
		t = liveness_hb_deadline(hb);
		ck_assert_uint_ne(t, LIVENESS_NEVER);
		if (t > 0)
			ck_assert_int_eq(liveness_hb_step(hb, t - 1, NULL), LIVENESS_NONE);
		ev = liveness_hb_step(hb, t, NULL);
		if (ev == LIVENESS_DEAD)
			return t;
		ck_assert_int_eq(ev, LIVENESS_PING);
		(*pings)++;
	}
	ck_abort_msg("never died");
	return 0;
}

START_TEST(policy_defaults)
{
	struct liveness_policy p;

	ck_assert_int_eq(liveness_policy_init(&p, 30 * S, 90 * S), 0);
	ck_assert_uint_eq(p.interval, 30 * S);
	ck_assert_uint_eq(p.timeout, 90 * S);
	ck_assert_uint_eq(p.retry, 20 * S);
	ck_assert_uint_eq(p.jitter, 10);
	ck_assert_uint_eq(p.flags, 0);
	ck_assert_uint_eq(p.peer_min_interval, 10 * S);
	ck_assert_uint_eq(p.peer_max_strikes, 2);
	/* Retry stays within [interval / 4, interval]. */
	ck_assert_int_eq(liveness_policy_init(&p, 30 * S, 30 * S), 0);
	ck_assert_uint_eq(p.retry, 7500 * MS);
	ck_assert_int_eq(liveness_policy_init(&p, 10 * S, 3600 * S), 0);
	ck_assert_uint_eq(p.retry, 10 * S);
	ck_assert_int_eq(liveness_policy_init(&p, 1, 1), 0);
	ck_assert_uint_eq(p.retry, 1);
}
END_TEST

START_TEST(policy_init_rejects)
{
	struct liveness_policy p, before;

	memset(&p, 0xa5, sizeof(p));
	before = p;
	ck_assert_int_eq(liveness_policy_init(NULL, S, S), -EINVAL);
	ck_assert_int_eq(liveness_policy_init(&p, 0, S), -EINVAL);
	ck_assert_int_eq(liveness_policy_init(&p, S, 0), -EINVAL);
	ck_assert_int_eq(liveness_policy_init(&p, 2 * S, S), -EINVAL);
	ck_assert_mem_eq(&p, &before, sizeof(p));
}
END_TEST

START_TEST(hb_init_rejects_bad_policy)
{
	struct liveness_policy good = exact(30 * S, 90 * S, 10 * S), p;
	struct liveness_hb hb = {0}, before = {0};

	memset(&hb, 0x5a, sizeof(hb));
	before = hb;
	ck_assert_int_eq(liveness_hb_init(NULL, &good, 0), -EINVAL);
	ck_assert_int_eq(liveness_hb_init(&hb, NULL, 0), -EINVAL);
	p = good, p.interval = 0;
	ck_assert_int_eq(liveness_hb_init(&hb, &p, 0), -EINVAL);
	p = good, p.timeout = p.interval - 1;
	ck_assert_int_eq(liveness_hb_init(&hb, &p, 0), -EINVAL);
	p = good, p.retry = 0;
	ck_assert_int_eq(liveness_hb_init(&hb, &p, 0), -EINVAL);
	p = good, p.retry = p.interval + 1;
	ck_assert_int_eq(liveness_hb_init(&hb, &p, 0), -EINVAL);
	p = good, p.jitter = 101;
	ck_assert_int_eq(liveness_hb_init(&hb, &p, 0), -EINVAL);
	p = good, p.flags = 0x80;
	ck_assert_int_eq(liveness_hb_init(&hb, &p, 0), -EINVAL);
	p = good, p.peer_max_strikes = 255;
	ck_assert_int_eq(liveness_hb_init(&hb, &p, 0), -EINVAL);
	ck_assert_mem_eq(&hb, &before, sizeof(hb));
	p = good, p.jitter = 100, p.retry = p.interval, p.peer_max_strikes = 254;
	p.flags = LIVENESS_ROUND_TRIP | LIVENESS_RTT_TIMEOUT;
	memset(&hb, 0, sizeof(hb)); /* init reads hb: it must be zeroed or an hb */
	ck_assert_int_eq(liveness_hb_init(&hb, &p, 0), 0);
}
END_TEST

/* The last proof is what the rules say proves life, readable without a copy of one's own. */
START_TEST(last_proof_follows_the_rules)
{
	struct liveness_policy p = exact(30 * S, 90 * S, 20 * S), rt = p;
	struct liveness_hb hb = {0}, zero = {0};
	liveness_time at = 7;
	uint32_t seq;

	ck_assert_int_eq(liveness_hb_last_proof(NULL, &at), -EINVAL);
	ck_assert_int_eq(liveness_hb_last_proof(&zero, &at), -EINVAL);
	ck_assert_uint_eq(at, 7);
	ck_assert_int_eq(liveness_hb_init(&hb, &p, 100 * S), 0);
	ck_assert_int_eq(liveness_hb_last_proof(&hb, NULL), -EINVAL);
	ck_assert_int_eq(liveness_hb_last_proof(&hb, &at), 0);
	ck_assert_uint_eq(at, 100 * S);
	liveness_hb_rx(&hb, 110 * S);
	liveness_hb_rx(&hb, 105 * S); /* older bytes prove nothing newer */
	ck_assert_int_eq(liveness_hb_last_proof(&hb, &at), 0);
	ck_assert_uint_eq(at, 110 * S);
	/* Under ROUND_TRIP only the answer to our ping counts. */
	rt.flags = LIVENESS_ROUND_TRIP;
	ck_assert_int_eq(liveness_hb_init(&hb, &rt, 100 * S), 0);
	liveness_hb_rx(&hb, 110 * S);
	ck_assert_int_eq(liveness_hb_step(&hb, 130 * S, &seq), LIVENESS_PING);
	ck_assert_int_eq(liveness_hb_last_proof(&hb, &at), 0);
	ck_assert_uint_eq(at, 100 * S);
	liveness_hb_pong(&hb, seq, 131 * S);
	ck_assert_int_eq(liveness_hb_last_proof(&hb, &at), 0);
	ck_assert_uint_eq(at, 131 * S);
	/* After a stall, the time the timeout now runs from: now + 60 s - 90 s. */
	ck_assert_int_eq(liveness_hb_step(&hb, 500 * S, &seq), LIVENESS_PING);
	ck_assert_int_eq(liveness_hb_last_proof(&hb, &at), 0);
	ck_assert_uint_eq(at, 470 * S);
	ck_assert_uint_eq(at + p.timeout, 560 * S);
}
END_TEST

START_TEST(size_is_abi)
{
	/* Also asserted at compile time in lib/hb.c; this is what a caller's build sees. */
	ck_assert_uint_eq(sizeof(struct liveness_hb), sizeof(void *) == 8 ? 48 : 40);
}
END_TEST

START_TEST(ping_after_interval)
{
	struct liveness_policy p = exact(30 * S, 90 * S, 20 * S);
	struct liveness_hb hb = {0};
	uint32_t seq = 0, seq2 = 0;

	ck_assert_int_eq(liveness_hb_init(&hb, &p, 1000 * S), 0);
	ck_assert_uint_eq(liveness_hb_deadline(&hb), 1030 * S);
	ck_assert_int_eq(liveness_hb_step(&hb, 1000 * S, &seq), LIVENESS_NONE);
	ck_assert_int_eq(liveness_hb_step(&hb, 1030 * S - 1, &seq), LIVENESS_NONE);
	ck_assert_int_eq(liveness_hb_step(&hb, 1030 * S, &seq), LIVENESS_PING);
	/* Nothing twice: the next action is the retry. */
	ck_assert_int_eq(liveness_hb_step(&hb, 1030 * S, &seq2), LIVENESS_NONE);
	ck_assert_uint_eq(liveness_hb_deadline(&hb), 1050 * S);
	ck_assert_int_eq(liveness_hb_step(&hb, 1050 * S, &seq2), LIVENESS_PING);
	ck_assert_uint_ne(seq, seq2);
}
END_TEST

START_TEST(rx_postpones_ping_and_death)
{
	struct liveness_policy p = exact(30 * S, 90 * S, 20 * S);
	struct liveness_hb hb = {0};
	int pings;

	ck_assert_int_eq(liveness_hb_init(&hb, &p, 0), 0);
	liveness_hb_rx(&hb, 25 * S);
	ck_assert_uint_eq(liveness_hb_deadline(&hb), 55 * S);
	ck_assert_int_eq(liveness_hb_step(&hb, 30 * S, NULL), LIVENESS_NONE);
	ck_assert_int_eq(liveness_hb_step(&hb, 55 * S, NULL), LIVENESS_PING);
	/* Bytes after our ping answer it: the next ping is interval after them. */
	liveness_hb_rx(&hb, 56 * S);
	ck_assert_uint_eq(liveness_hb_deadline(&hb), 86 * S);
	ck_assert_uint_eq(run_to_death(&hb, &pings), 146 * S);
	ck_assert_int_eq(pings, 3); /* 86, 106, 126 */
}
END_TEST

START_TEST(retry_cadence_and_exact_death)
{
	struct liveness_policy p = exact(30 * S, 90 * S, 20 * S);
	struct liveness_hb hb = {0};
	liveness_time expect[] = {30 * S, 50 * S, 70 * S};
	uint32_t seq;

	ck_assert_int_eq(liveness_hb_init(&hb, &p, 0), 0);
	for (int i = 0; i < 3; i++) {
		ck_assert_uint_eq(liveness_hb_deadline(&hb), expect[i]);
		ck_assert_int_eq(liveness_hb_step(&hb, expect[i] - 1, &seq), LIVENESS_NONE);
		ck_assert_int_eq(liveness_hb_step(&hb, expect[i], &seq), LIVENESS_PING);
	}
	/* DEAD at exactly last proof + timeout, not a nanosecond before. */
	ck_assert_uint_eq(liveness_hb_deadline(&hb), 90 * S);
	ck_assert_int_eq(liveness_hb_step(&hb, 90 * S - 1, &seq), LIVENESS_NONE);
	ck_assert_int_eq(liveness_hb_step(&hb, 90 * S, &seq), LIVENESS_DEAD);
	/* Once. */
	ck_assert_uint_eq(liveness_hb_deadline(&hb), LIVENESS_NEVER);
	ck_assert_int_eq(liveness_hb_step(&hb, 1000 * S, &seq), LIVENESS_NONE);
}
END_TEST

START_TEST(timeout_equal_interval_is_idle_timeout)
{
	struct liveness_policy p = exact(10 * S, 10 * S, 10 * S);
	struct liveness_hb hb = {0};
	int pings;

	ck_assert_int_eq(liveness_hb_init(&hb, &p, 5 * S), 0);
	ck_assert_uint_eq(run_to_death(&hb, &pings), 15 * S);
	ck_assert_int_eq(pings, 0);
}
END_TEST

START_TEST(jitter_never_later_and_spread)
{
	enum { N = 2000 };
	struct liveness_policy p = exact(30 * S, 90 * S, 20 * S);
	struct liveness_hb *hb = calloc(N, sizeof(*hb));
	liveness_time lo = LIVENESS_NEVER, hi = 0, span = 3 * S;
	int buckets[10] = {0};

	ck_assert_ptr_nonnull(hb);
	p.jitter = 10;
	for (int i = 0; i < N; i++) {
		liveness_time d;

		ck_assert_int_eq(liveness_hb_init(&hb[i], &p, 100 * S), 0);
		d = liveness_hb_deadline(&hb[i]);
		ck_assert_uint_le(d, 130 * S);
		ck_assert_uint_gt(d, 130 * S - span);
		lo = d < lo ? d : lo;
		hi = d > hi ? d : hi;
		buckets[(130 * S - d) * 10 / span]++;
		/* Deterministic per connection. */
		liveness_hb_rx(&hb[i], 101 * S);
		ck_assert_uint_eq(liveness_hb_deadline(&hb[i]), d + S);
		ck_assert_int_eq(liveness_hb_step(&hb[i], d, NULL), LIVENESS_NONE);
		ck_assert_int_eq(liveness_hb_step(&hb[i], d + S, NULL), LIVENESS_PING);
	}
	/* Spread over the whole span, roughly evenly. */
	ck_assert_uint_lt(lo, 130 * S - span + span / 20);
	ck_assert_uint_gt(hi, 130 * S - span / 20);
	for (int b = 0; b < 10; b++)
		ck_assert_int_gt(buckets[b], N / 10 / 2);
	free(hb);
}
END_TEST

START_TEST(round_trip_needs_answers)
{
	struct liveness_policy p = exact(30 * S, 90 * S, 20 * S);
	struct liveness_hb hb = {0};
	uint32_t seq, old;

	p.flags = LIVENESS_ROUND_TRIP;
	ck_assert_int_eq(liveness_hb_init(&hb, &p, 0), 0);
	/* Chatter is not proof. */
	for (liveness_time t = 0; t < 30 * S; t += S)
		liveness_hb_rx(&hb, t);
	ck_assert_uint_eq(liveness_hb_deadline(&hb), 30 * S);
	ck_assert_int_eq(liveness_hb_step(&hb, 30 * S, &old), LIVENESS_PING);
	ck_assert_int_eq(liveness_hb_step(&hb, 50 * S, &seq), LIVENESS_PING);
	/* A pong for the older ping is stale; unknown ones too. */
	liveness_hb_pong(&hb, old, 51 * S);
	liveness_hb_pong(&hb, seq + 1, 51 * S);
	ck_assert_uint_eq(liveness_hb_deadline(&hb), 70 * S);
	ck_assert_uint_eq(liveness_hb_rtt(&hb), 0);
	/* The answer to the current ping is proof. */
	liveness_hb_pong(&hb, seq, 52 * S);
	ck_assert_uint_eq(liveness_hb_rtt(&hb), 2 * S);
	ck_assert_uint_eq(liveness_hb_deadline(&hb), 82 * S);
	/* A second pong for the same ping is no second sample. */
	liveness_hb_pong(&hb, seq, 60 * S);
	ck_assert_uint_eq(liveness_hb_rtt(&hb), 2 * S);
	ck_assert_uint_eq(liveness_hb_deadline(&hb), 82 * S);
	/* A hung application: its kernel keeps the bytes coming, it never answers. */
	for (liveness_time t = 60 * S; t < 200 * S; t += S) {
		liveness_hb_rx(&hb, t);
		enum liveness_event ev = liveness_hb_step(&hb, t, NULL);
		if (ev == LIVENESS_DEAD) {
			ck_assert_uint_eq(t, 142 * S);
			return;
		}
	}
	ck_abort_msg("hung peer not convicted");
}
END_TEST

START_TEST(rtt_rfc6298)
{
	struct liveness_policy p = exact(30 * S, 90 * S, 20 * S);
	struct liveness_hb hb = {0};
	uint32_t seq;

	ck_assert_int_eq(liveness_hb_init(&hb, &p, 0), 0);
	ck_assert_uint_eq(liveness_hb_rtt(&hb), 0);
	/* R = 100 ms: SRTT = R, RTTVAR = R / 2. */
	ck_assert_int_eq(liveness_hb_step(&hb, 30 * S, &seq), LIVENESS_PING);
	liveness_hb_pong(&hb, seq, 30 * S + 100 * MS);
	ck_assert_uint_eq(liveness_hb_rtt(&hb), 100 * MS);
	/* R = 200 ms: RTTVAR = 3/4 * 50 + 1/4 * 100 = 62.5, SRTT = 7/8 * 100 + 1/8 * 200 = 112.5.
	 */
	ck_assert_uint_eq(liveness_hb_deadline(&hb), 60 * S + 100 * MS);
	ck_assert_int_eq(liveness_hb_step(&hb, 60 * S + 100 * MS, &seq), LIVENESS_PING);
	liveness_hb_pong(&hb, seq, 60 * S + 300 * MS);
	ck_assert_uint_eq(liveness_hb_rtt(&hb), 112500 * LIVENESS_USEC);
	/* R = 40 ms: RTTVAR = 3/4 * 62.5 + 1/4 * 72.5 = 65, SRTT = (787.5 + 40) / 8 = 103.4375. */
	ck_assert_int_eq(liveness_hb_step(&hb, 90 * S + 300 * MS, &seq), LIVENESS_PING);
	liveness_hb_pong(&hb, seq, 90 * S + 340 * MS);
	ck_assert_uint_eq(liveness_hb_rtt(&hb), 103437 * LIVENESS_USEC); /* rounded down to us */
}
END_TEST

/*
 * RFC 6298 section 2 on whole microseconds, rounding down, as a plain model
 * in signed arithmetic: the first sample R sets SRTT = R, RTTVAR = R / 2;
 * each later one RTTVAR = (3 RTTVAR + |SRTT - R|) / 4, then SRTT = (7 SRTT +
 * R) / 8. Hundreds of answers, many of them one microsecond either side of
 * SRTT or equal to it, are held to it through what a caller sees: the round
 * trip, and under LIVENESS_RTT_TIMEOUT the verdict of a copy left to die, at
 * the last answer plus the larger of the policy's timeout and 3 x (SRTT + 4
 * RTTVAR).
 */
START_TEST(rtt_follows_rfc6298_model)
{
	struct liveness_policy p = exact(S, 2 * S, 500 * MS);
	struct liveness_hb hb = {0}, copy;
	int64_t srtt = 0, var = 0;
	uint64_t x = 0x243f6a8885a308d3u;
	int pings;

	p.flags = LIVENESS_RTT_TIMEOUT;
	ck_assert_int_eq(liveness_hb_init(&hb, &p, 0), 0);
	for (int i = 0; i < 400; i++) {
		liveness_time t = liveness_hb_deadline(&hb), at, want;
		int64_t r, pto;
		uint32_t seq;

		x ^= x << 13, x ^= x >> 7, x ^= x << 17;
		if (i == 0 || x % 4 == 0)
			r = 1 + (int64_t)(x >> 8) % 3000000; /* up to 3 s */
		else
			r = srtt + (int64_t)(x % 3) - 1; /* SRTT - 1 us, SRTT, SRTT + 1 us */
		if (r < 0)
			r = 0;
		ck_assert_int_eq(liveness_hb_step(&hb, t, &seq), LIVENESS_PING);
		/* Nanoseconds under a microsecond are dropped. */
		at = t + (liveness_time)r * LIVENESS_USEC + (x >> 40) % LIVENESS_USEC;
		liveness_hb_pong(&hb, seq, at);
		if (i == 0) {
			srtt = r;
			var = r / 2;
		} else {
			var = (3 * var + (srtt > r ? srtt - r : r - srtt)) / 4;
			srtt = (7 * srtt + r) / 8;
		}
		ck_assert_uint_eq(liveness_hb_rtt(&hb), (liveness_time)srtt * LIVENESS_USEC);
		pto = 3 * (srtt + 4 * var) * (int64_t)LIVENESS_USEC;
		want = at + ((liveness_time)pto > p.timeout ? (liveness_time)pto : p.timeout);
		copy = hb;
		ck_assert_msg(run_to_death(&copy, &pings) == want,
			      "answer %d: SRTT %lld us, RTTVAR %lld us", i, (long long)srtt,
			      (long long)var);
	}
}
END_TEST

/*
 * After the verdict nothing more is due, but what arrives before the caller
 * closes the connection is still proof of life for liveness_hb_last_proof()
 * (a log line or a status page): the rules are the policy's, as before.
 */
START_TEST(proof_after_the_verdict)
{
	struct liveness_policy p = exact(30 * S, 90 * S, 20 * S);
	struct liveness_hb hb = {0};
	liveness_time at;
	int pings;

	ck_assert_int_eq(liveness_hb_init(&hb, &p, 0), 0);
	ck_assert_uint_eq(run_to_death(&hb, &pings), 90 * S);
	liveness_hb_rx(&hb, 95 * S);
	ck_assert_int_eq(liveness_hb_last_proof(&hb, &at), 0);
	ck_assert_uint_eq(at, 95 * S);
	ck_assert_uint_eq(liveness_hb_deadline(&hb), LIVENESS_NEVER);
	ck_assert_int_eq(liveness_hb_step(&hb, 1000 * S, NULL), LIVENESS_NONE);
	/* Under ROUND_TRIP bytes were never proof, before the verdict or after. */
	p.flags = LIVENESS_ROUND_TRIP;
	ck_assert_int_eq(liveness_hb_init(&hb, &p, 0), 0);
	ck_assert_uint_eq(run_to_death(&hb, &pings), 90 * S);
	liveness_hb_rx(&hb, 95 * S);
	ck_assert_int_eq(liveness_hb_last_proof(&hb, &at), 0);
	ck_assert_uint_eq(at, 0);
}
END_TEST

START_TEST(rtt_timeout_flag)
{
	struct liveness_policy p = exact(S, 2 * S, 500 * MS);
	struct liveness_hb hb = {0}, plain = {0};
	uint32_t seq;
	int pings;

	p.flags = LIVENESS_RTT_TIMEOUT;
	ck_assert_int_eq(liveness_hb_init(&hb, &p, 0), 0);
	ck_assert_int_eq(liveness_hb_step(&hb, S, &seq), LIVENESS_PING);
	/* R = 500 ms: SRTT 500, RTTVAR 250: 3 x (500 + 4 x 250) = 4.5 s > 2 s. */
	liveness_hb_pong(&hb, seq, 1500 * MS);
	plain = hb;
	ck_assert_uint_eq(run_to_death(&hb, &pings), 6 * S);
	/* The same history without the flag dies at the policy's timeout. */
	p.flags = 0;
	ck_assert_uint_eq(run_to_death(&plain, &pings), 3500 * MS);
	/* Two samples: R = 200 ms gives RTTVAR 262.5 ms, SRTT 462.5 ms: 4.5375 s. */
	p.flags = LIVENESS_RTT_TIMEOUT;
	ck_assert_int_eq(liveness_hb_init(&hb, &p, 0), 0);
	ck_assert_int_eq(liveness_hb_step(&hb, S, &seq), LIVENESS_PING);
	liveness_hb_pong(&hb, seq, 1500 * MS);
	ck_assert_int_eq(liveness_hb_step(&hb, 2500 * MS, &seq), LIVENESS_PING);
	liveness_hb_pong(&hb, seq, 2700 * MS);
	ck_assert_uint_eq(run_to_death(&hb, &pings), 2700 * MS + 4537500 * LIVENESS_USEC);
}
END_TEST

START_TEST(stall_pings_before_verdict)
{
	struct liveness_policy p = exact(30 * S, 90 * S, 20 * S);
	struct liveness_hb hb = {0};
	uint32_t seq;
	int pings;

	/* Our loop slept through everything: a fresh probe, not a verdict. */
	ck_assert_int_eq(liveness_hb_init(&hb, &p, 0), 0);
	ck_assert_int_eq(liveness_hb_step(&hb, 200 * S, &seq), LIVENESS_PING);
	/* The peer gets timeout - interval (60 s) to answer, retried every 20 s. */
	ck_assert_uint_eq(liveness_hb_deadline(&hb), 220 * S);
	ck_assert_uint_eq(run_to_death(&hb, &pings), 260 * S);
	ck_assert_int_eq(pings, 2);
	/* If it answers, it lives. */
	ck_assert_int_eq(liveness_hb_init(&hb, &p, 0), 0);
	ck_assert_int_eq(liveness_hb_step(&hb, 200 * S, &seq), LIVENESS_PING);
	liveness_hb_rx(&hb, 201 * S);
	ck_assert_uint_eq(liveness_hb_deadline(&hb), 231 * S);

	/* Late by no more than retry is no stall: the verdict stands. */
	ck_assert_int_eq(liveness_hb_init(&hb, &p, 0), 0);
	ck_assert_int_eq(liveness_hb_step(&hb, 30 * S, &seq), LIVENESS_PING);
	ck_assert_int_eq(liveness_hb_step(&hb, 50 * S, &seq), LIVENESS_PING);
	ck_assert_int_eq(liveness_hb_step(&hb, 70 * S, &seq), LIVENESS_PING);
	ck_assert_int_eq(liveness_hb_step(&hb, 110 * S, &seq), LIVENESS_DEAD);
	/* Later than that is one. */
	ck_assert_int_eq(liveness_hb_init(&hb, &p, 0), 0);
	ck_assert_int_eq(liveness_hb_step(&hb, 30 * S, &seq), LIVENESS_PING);
	ck_assert_int_eq(liveness_hb_step(&hb, 50 * S, &seq), LIVENESS_PING);
	ck_assert_int_eq(liveness_hb_step(&hb, 70 * S, &seq), LIVENESS_PING);
	ck_assert_int_eq(liveness_hb_step(&hb, 110 * S + 1, &seq), LIVENESS_PING);
	ck_assert_uint_eq(liveness_hb_deadline(&hb), 130 * S + 1);

	/* A ping sent late still gets the usual time to be answered. */
	ck_assert_int_eq(liveness_hb_init(&hb, &p, 0), 0);
	ck_assert_int_eq(liveness_hb_step(&hb, 85 * S, &seq), LIVENESS_PING);
	ck_assert_uint_eq(run_to_death(&hb, &pings), 145 * S);
}
END_TEST

/*
 * A stall near the clock's epoch: with up to 100 % jitter a ping can be due
 * long before interval has passed since 0, and the credit for the stall,
 * now + (timeout - interval) - timeout, is then before 0. It must not wrap:
 * the verdict is due at the later of proof + timeout and now + (timeout -
 * interval), here 3 s, not a timeout after the stall.
 */
START_TEST(stall_near_the_epoch)
{
	enum { N = 64 };
	struct liveness_policy p = exact(1 * S, 3 * S, 100 * MS);
	struct liveness_hb hb[N] = {0}, *early = NULL;
	liveness_time now;
	int pings;

	p.jitter = 100;
	for (int i = 0; i < N; i++) {
		ck_assert_int_eq(liveness_hb_init(&hb[i], &p, 0), 0);
		if (liveness_hb_deadline(&hb[i]) < 300 * MS)
			early = &hb[i];
	}
	ck_assert_ptr_nonnull(early); /* 64 tries at 30 % each */
	now = liveness_hb_deadline(early) + p.retry + 1;
	ck_assert_int_eq(liveness_hb_step(early, now, NULL), LIVENESS_PING);
	ck_assert_uint_eq(run_to_death(early, &pings), 3 * S);
	/* Later in the clock's life the same stall gives now + (timeout - interval). */
	ck_assert_int_eq(liveness_hb_init(&hb[0], &p, 0), 0);
	now = liveness_hb_deadline(&hb[0]) + 5 * S;
	ck_assert_int_eq(liveness_hb_step(&hb[0], now, NULL), LIVENESS_PING);
	ck_assert_uint_eq(run_to_death(&hb[0], &pings), now + 2 * S);
}
END_TEST

START_TEST(flood_guard)
{
	struct liveness_policy p = exact(30 * S, 90 * S, 20 * S);
	struct liveness_hb hb = {0};
	liveness_time t0 = 12345678901; /* not aligned to anything */

	p.peer_min_interval = S;
	p.peer_max_strikes = 2;
	ck_assert_int_eq(liveness_hb_init(&hb, &p, 0), 0);
	/* Well-spaced pings are always answered, even exactly min apart. */
	for (int i = 0; i < 1000; i++)
		ck_assert_int_eq(liveness_hb_peer_ping(&hb, t0 + (liveness_time)i * S), 1);
	/* Too soon: a strike each, then a flood, which sticks. */
	t0 += 1000 * S;
	ck_assert_int_eq(liveness_hb_peer_ping(&hb, t0), 1);
	ck_assert_int_eq(liveness_hb_peer_ping(&hb, t0 + S / 2), 0);
	ck_assert_int_eq(liveness_hb_peer_ping(&hb, t0 + S - 70 * LIVENESS_USEC), 0);
	ck_assert_int_eq(liveness_hb_peer_ping(&hb, t0 + S - 70 * LIVENESS_USEC), -EPERM);
	ck_assert_int_eq(liveness_hb_peer_ping(&hb, t0 + 100 * S), -EPERM);
	/* A well-spaced ping forgives earlier strikes. */
	ck_assert_int_eq(liveness_hb_init(&hb, &p, 0), 0);
	for (int i = 0; i < 100; i++) {
		liveness_time t = (liveness_time)i * S;

		ck_assert_int_eq(liveness_hb_peer_ping(&hb, t), 1);
		ck_assert_int_eq(liveness_hb_peer_ping(&hb, t + 1), 0);
		ck_assert_int_eq(liveness_hb_peer_ping(&hb, t + 2), 0);
	}
	/* No guard with peer_min_interval 0. */
	p.peer_min_interval = 0;
	ck_assert_int_eq(liveness_hb_init(&hb, &p, 0), 0);
	for (int i = 0; i < 100; i++)
		ck_assert_int_eq(liveness_hb_peer_ping(&hb, 5), 1);
	/* max_strikes 0: the first ping too soon is a flood. */
	p.peer_min_interval = S;
	p.peer_max_strikes = 0;
	ck_assert_int_eq(liveness_hb_init(&hb, &p, 0), 0);
	ck_assert_int_eq(liveness_hb_peer_ping(&hb, 0), 1);
	ck_assert_int_eq(liveness_hb_peer_ping(&hb, 1), -EPERM);
	/* The guard does not touch the heartbeat. */
	ck_assert_uint_eq(liveness_hb_deadline(&hb), 30 * S);
}
END_TEST

/*
 * Edges the rules draw, one nanosecond either side: the policy's own
 * clamps, the smallest valid policy, a proof one nanosecond newer, RTT
 * samples one microsecond apart and beyond 32 bits, the flood guard on its
 * 65.536 us grid, and the stall credit when timeout - interval < retry.
 */
START_TEST(edges_of_the_rules)
{
	struct liveness_policy p, rt;
	struct liveness_hb hb = {0};
	const liveness_time grid = 65536, t0 = 1000 * grid;
	uint32_t seq;
	int pings;

	/* retry: (timeout - interval) / 3, kept within [interval / 4, interval]. */
	ck_assert_int_eq(liveness_policy_init(&p, 100 * S, 170 * S), 0);
	ck_assert_uint_eq(p.retry, 25 * S); /* 23.3 s raised to a quarter */
	ck_assert_int_eq(liveness_policy_init(&p, 100 * S, 190 * S), 0);
	ck_assert_uint_eq(p.retry, 30 * S);
	ck_assert_int_eq(liveness_policy_init(&p, 10, 43), 0);
	ck_assert_uint_eq(p.retry, 10); /* 11 lowered to the interval */
	/* The smallest valid policy: one nanosecond of everything. */
	ck_assert_int_eq(liveness_policy_init(&p, 1, 1), 0);
	ck_assert_int_eq(liveness_hb_init(&hb, &p, 0), 0);
	ck_assert_uint_eq(liveness_hb_deadline(&hb), 1);
	/* A proof one nanosecond newer moves the deadline one nanosecond. */
	p = exact(30 * S, 90 * S, 20 * S);
	ck_assert_int_eq(liveness_hb_init(&hb, &p, 5 * S), 0);
	liveness_hb_rx(&hb, 5 * S + 1);
	ck_assert_uint_eq(liveness_hb_deadline(&hb), 35 * S + 1);

	/* RTT samples 1 us apart: RTTVAR (3 x 500 + 1) / 4, no wrap-around. */
	p = exact(S, 2 * S, 500 * MS);
	p.flags = LIVENESS_RTT_TIMEOUT;
	ck_assert_int_eq(liveness_hb_init(&hb, &p, 0), 0);
	ck_assert_int_eq(liveness_hb_step(&hb, S, &seq), LIVENESS_PING);
	liveness_hb_pong(&hb, seq, S + 1000 * LIVENESS_USEC);
	ck_assert_int_eq(liveness_hb_step(&hb, 2001 * MS + S, &seq), LIVENESS_PING);
	liveness_hb_pong(&hb, seq, 2001 * MS + S + 999 * LIVENESS_USEC);
	/* SRTT 999 us (rounded down), RTTVAR 375 us: 3 x 2499 us < 2 s, the policy's. */
	ck_assert_uint_eq(liveness_hb_rtt(&hb), 999 * LIVENESS_USEC);
	ck_assert_uint_eq(run_to_death(&hb, &pings), 3001 * MS + 999 * LIVENESS_USEC + 2 * S);
	/* An answer after more than 2^32 us (71.6 min) is kept at 2^32 - 1 us. */
	p = exact(3 * 3600 * S, 4 * 3600 * S, 3 * 3600 * S);
	ck_assert_int_eq(liveness_hb_init(&hb, &p, 0), 0);
	ck_assert_int_eq(liveness_hb_step(&hb, 3 * 3600 * S, &seq), LIVENESS_PING);
	liveness_hb_pong(&hb, seq, 3 * 3600 * S + ((liveness_time)1 << 32) * LIVENESS_USEC);
	ck_assert_uint_eq(liveness_hb_rtt(&hb), (liveness_time)UINT32_MAX * LIVENESS_USEC);

	/* The flood guard on its grid: a second ping at the very same time is a strike, */
	p = exact(30 * S, 90 * S, 20 * S);
	p.peer_min_interval = 10 * grid;
	ck_assert_int_eq(liveness_hb_init(&hb, &p, 0), 0);
	ck_assert_int_eq(liveness_hb_peer_ping(&hb, t0), 1);
	ck_assert_int_eq(liveness_hb_peer_ping(&hb, t0), 0);
	/* one exactly min after is answered, under ROUND_TRIP too, which it leaves alone; */
	rt = p;
	rt.flags = LIVENESS_ROUND_TRIP;
	ck_assert_int_eq(liveness_hb_init(&hb, &rt, 0), 0);
	ck_assert_int_eq(liveness_hb_peer_ping(&hb, t0), 1);
	ck_assert_int_eq(liveness_hb_peer_ping(&hb, t0 + 10 * grid), 1);
	liveness_hb_rx(&hb, t0 + 11 * grid); /* chatter is still no proof */
	ck_assert_uint_eq(liveness_hb_deadline(&hb), 30 * S);
	/* a guard of 1 ns still strikes two pings at one instant. */
	p.peer_min_interval = 1;
	ck_assert_int_eq(liveness_hb_init(&hb, &p, 0), 0);
	ck_assert_int_eq(liveness_hb_peer_ping(&hb, t0), 1);
	ck_assert_int_eq(liveness_hb_peer_ping(&hb, t0), 0);

	/* A stall under timeout - interval (2 s) < retry (5 s): the peer gets retry. */
	p = exact(10 * S, 12 * S, 5 * S);
	ck_assert_int_eq(liveness_hb_init(&hb, &p, 0), 0);
	ck_assert_int_eq(liveness_hb_step(&hb, 100 * S, &seq), LIVENESS_PING);
	ck_assert_uint_eq(run_to_death(&hb, &pings), 105 * S);
}
END_TEST

START_TEST(clock_backwards)
{
	struct liveness_policy p = exact(30 * S, 90 * S, 20 * S);
	struct liveness_hb hb = {0};
	uint32_t seq;

	p.peer_min_interval = S;
	ck_assert_int_eq(liveness_hb_init(&hb, &p, 1000 * S), 0);
	liveness_hb_rx(&hb, 10 * S); /* no time passes: proof stays at 1000 s */
	ck_assert_uint_eq(liveness_hb_deadline(&hb), 1030 * S);
	ck_assert_int_eq(liveness_hb_step(&hb, 0, &seq), LIVENESS_NONE);
	ck_assert_int_eq(liveness_hb_step(&hb, 1030 * S, &seq), LIVENESS_PING);
	/* A pong stamped before its ping is a zero sample, not a huge one. */
	liveness_hb_pong(&hb, seq, 5 * S);
	ck_assert_uint_eq(liveness_hb_rtt(&hb), 0);
	ck_assert_uint_eq(liveness_hb_deadline(&hb), 1060 * S);
	/* No strike from a clock running backwards. */
	ck_assert_int_eq(liveness_hb_peer_ping(&hb, 2000 * S), 1);
	for (int i = 0; i < 10; i++)
		ck_assert_int_eq(liveness_hb_peer_ping(&hb, 1500 * S), 1);
	ck_assert_int_eq(liveness_hb_peer_ping(&hb, 2001 * S), 1);
}
END_TEST

START_TEST(times_near_never_saturate)
{
	struct liveness_policy p = exact(30 * S, 90 * S, 20 * S);
	struct liveness_hb hb = {0};
	liveness_time t = LIVENESS_NEVER - 100 * S;
	uint32_t seq;
	int pings;

	ck_assert_int_eq(liveness_hb_init(&hb, &p, t), 0);
	ck_assert_uint_eq(liveness_hb_deadline(&hb), t + 30 * S);
	ck_assert_uint_eq(run_to_death(&hb, &pings), t + 90 * S);
	/* Deadlines past the end of time saturate to LIVENESS_NEVER. */
	ck_assert_int_eq(liveness_hb_init(&hb, &p, LIVENESS_NEVER - 10 * S), 0);
	ck_assert_uint_eq(liveness_hb_deadline(&hb), LIVENESS_NEVER);
	ck_assert_int_eq(liveness_hb_step(&hb, LIVENESS_NEVER, &seq), LIVENESS_NONE);
	ck_assert_int_eq(liveness_hb_init(&hb, &p, 0), 0);
	ck_assert_int_eq(liveness_hb_step(&hb, LIVENESS_NEVER - 1, &seq), LIVENESS_PING);
	ck_assert_int_eq(liveness_hb_step(&hb, LIVENESS_NEVER, &seq), LIVENESS_NONE);
	liveness_hb_rx(&hb, LIVENESS_NEVER);
	ck_assert_uint_eq(liveness_hb_deadline(&hb), LIVENESS_NEVER);
	ck_assert_int_eq(liveness_hb_peer_ping(&hb, LIVENESS_NEVER), 1);
	/*
	 * A ping due just before the end of time, a verdict past it: stepping
	 * at LIVENESS_NEVER itself pings and never convicts (found by fuzz_hb).
	 */
	ck_assert_int_eq(liveness_hb_init(&hb, &p, LIVENESS_NEVER - 40 * S), 0);
	ck_assert_uint_eq(liveness_hb_deadline(&hb), LIVENESS_NEVER - 10 * S);
	ck_assert_int_eq(liveness_hb_step(&hb, LIVENESS_NEVER, &seq), LIVENESS_PING);
	ck_assert_int_ne(liveness_hb_step(&hb, LIVENESS_NEVER, &seq), LIVENESS_DEAD);
	/* Huge policy times. */
	p = exact(LIVENESS_NEVER - 1, LIVENESS_NEVER, LIVENESS_NEVER - 1);
	p.jitter = 100;
	ck_assert_int_eq(liveness_hb_init(&hb, &p, 5), 0);
	ck_assert_uint_ge(liveness_hb_deadline(&hb), 5);
	ck_assert_int_eq(liveness_hb_step(&hb, LIVENESS_NEVER - 1, &seq), LIVENESS_PING);
	ck_assert_int_eq(liveness_hb_step(&hb, LIVENESS_NEVER, &seq), LIVENESS_NONE);
}
END_TEST

START_TEST(null_and_uninitialized)
{
	struct liveness_hb zero = {0};
	uint32_t seq = 7;

	memset(&zero, 0, sizeof(zero));
	liveness_hb_rx(NULL, 1);
	liveness_hb_pong(NULL, 1, 1);
	ck_assert_int_eq(liveness_hb_peer_ping(NULL, 1), -EINVAL);
	/* Errors that cannot pass for answers: no deadline is 0, no round trip NEVER. */
	ck_assert_uint_eq(liveness_hb_deadline(NULL), 0);
	ck_assert_int_eq(liveness_hb_step(NULL, 1, &seq), -EINVAL);
	ck_assert_uint_eq(liveness_hb_rtt(NULL), LIVENESS_NEVER);
	ck_assert_int_eq(liveness_hb_peer_ping(&zero, 1), -EINVAL);
	ck_assert_uint_eq(liveness_hb_deadline(&zero), 0);
	ck_assert_int_eq(liveness_hb_step(&zero, LIVENESS_NEVER, &seq), -EINVAL);
	liveness_hb_pong(&zero, 0, 1);
	ck_assert_uint_eq(liveness_hb_rtt(&zero), LIVENESS_NEVER);
	ck_assert_uint_eq(seq, 7);
}
END_TEST

static uint64_t rng_state = 88172645463325252u;

static uint64_t rnd(void)
{
	rng_state ^= rng_state << 13;
	rng_state ^= rng_state >> 7;
	rng_state ^= rng_state << 17;
	return rng_state;
}

/*
 * Only a step may move the deadline earlier (the group's lazy re-filing
 * depends on it), and DEAD never comes before timeout of silence.
 */
START_TEST(deadline_only_moves_later)
{
	struct liveness_policy p = exact(30 * S, 90 * S, 20 * S);
	struct liveness_hb hb = {0};

	for (int round = 0; round < 200; round++) {
		liveness_time t = rnd() % (1000 * S), proof = t;
		uint32_t seq = 0;

		p.jitter = (unsigned)(rnd() % 101);
		p.retry = 1 + rnd() % p.interval;
		p.flags = (unsigned)(rnd() % 4);
		ck_assert_int_eq(liveness_hb_init(&hb, &p, t), 0);
		for (int op = 0; op < 300; op++) {
			liveness_time before = liveness_hb_deadline(&hb);
			enum liveness_event ev;

			t += rnd() % (10 * S);
			switch (rnd() % 4) {
			case 0:
				liveness_hb_rx(&hb, t);
				if (!(p.flags & LIVENESS_ROUND_TRIP))
					proof = t;
				break;
			case 1:
				if (seq != 0 && liveness_hb_deadline(&hb) != LIVENESS_NEVER) {
					liveness_hb_pong(&hb, seq, t);
					proof = t;
					seq = 0;
				}
				break;
			case 2: (void)liveness_hb_peer_ping(&hb, t); break;
			default:
				if (t < before)
					t = before;
				ev = liveness_hb_step(&hb, t, &seq);
				if (ev == LIVENESS_DEAD) {
					ck_assert_uint_ge(t, proof + p.timeout);
					op = 300;
				}
				continue;
			}
			ck_assert_uint_ge(liveness_hb_deadline(&hb), before);
		}
	}
}
END_TEST

Suite *hb_suite(void);

Suite *hb_suite(void)
{
	Suite *s = suite_create("hb");
	TCase *tc = tcase_create("hb");

	tcase_add_test(tc, policy_defaults);
	tcase_add_test(tc, policy_init_rejects);
	tcase_add_test(tc, hb_init_rejects_bad_policy);
	tcase_add_test(tc, size_is_abi);
	tcase_add_test(tc, last_proof_follows_the_rules);
	tcase_add_test(tc, ping_after_interval);
	tcase_add_test(tc, rx_postpones_ping_and_death);
	tcase_add_test(tc, retry_cadence_and_exact_death);
	tcase_add_test(tc, timeout_equal_interval_is_idle_timeout);
	tcase_add_test(tc, jitter_never_later_and_spread);
	tcase_add_test(tc, round_trip_needs_answers);
	tcase_add_test(tc, rtt_rfc6298);
	tcase_add_test(tc, rtt_follows_rfc6298_model);
	tcase_add_test(tc, rtt_timeout_flag);
	tcase_add_test(tc, proof_after_the_verdict);
	tcase_add_test(tc, stall_pings_before_verdict);
	tcase_add_test(tc, stall_near_the_epoch);
	tcase_add_test(tc, edges_of_the_rules);
	tcase_add_test(tc, flood_guard);
	tcase_add_test(tc, clock_backwards);
	tcase_add_test(tc, times_near_never_saturate);
	tcase_add_test(tc, null_and_uninitialized);
	tcase_add_test(tc, deadline_only_moves_later);
	suite_add_tcase(s, tc);
	return s;
}
