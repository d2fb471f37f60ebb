/* lib/time.c and lib/error.c: the clock, poll timeouts, error and cause strings. */
#include <check.h>
#include <errno.h>
#include <limits.h>
#include <string.h>

#include "liveness.h"

START_TEST(now_is_monotonic_and_in_nanoseconds)
{
	liveness_time a = liveness_now(), b = liveness_now();

	ck_assert_uint_ge(b, a);
	ck_assert_uint_gt(a, 0);
	ck_assert_uint_ne(a, LIVENESS_NEVER);
}
END_TEST

START_TEST(poll_timeout_never_is_minus_one)
{
	ck_assert_int_eq(liveness_poll_timeout(LIVENESS_NEVER, 0), -1);
	ck_assert_int_eq(liveness_poll_timeout(LIVENESS_NEVER, LIVENESS_NEVER - 1), -1);
}
END_TEST

START_TEST(poll_timeout_due_is_zero)
{
	ck_assert_int_eq(liveness_poll_timeout(5, 5), 0);
	ck_assert_int_eq(liveness_poll_timeout(5, 6), 0);
	ck_assert_int_eq(liveness_poll_timeout(0, LIVENESS_NEVER - 1), 0);
}
END_TEST

START_TEST(poll_timeout_rounds_up)
{
	/* poll() must never wake before the deadline: 1 ns left is 1 ms. */
	ck_assert_int_eq(liveness_poll_timeout(1, 0), 1);
	ck_assert_int_eq(liveness_poll_timeout(LIVENESS_MSEC, 0), 1);
	ck_assert_int_eq(liveness_poll_timeout(LIVENESS_MSEC + 1, 0), 2);
	ck_assert_int_eq(liveness_poll_timeout(1000 + 3 * LIVENESS_SEC, 1000), 3000);
}
END_TEST

START_TEST(poll_timeout_caps_at_int_max)
{
	ck_assert_int_eq(liveness_poll_timeout(LIVENESS_NEVER - 1, 0), INT_MAX);
	ck_assert_int_eq(liveness_poll_timeout((liveness_time)INT_MAX * LIVENESS_MSEC + 1, 0),
			 INT_MAX);
}
END_TEST

START_TEST(strerror_never_null)
{
	int e;

	for (e = -200; e <= 200; e++) {
		ck_assert_ptr_nonnull(liveness_strerror(e));
		ck_assert_uint_gt(strlen(liveness_strerror(e)), 0);
	}
	ck_assert_ptr_nonnull(liveness_strerror(INT_MIN));
	ck_assert_ptr_nonnull(liveness_strerror(INT_MAX));
	ck_assert_str_eq(liveness_strerror(-EPROTOTYPE), "not a TCP socket");
	ck_assert_str_eq(liveness_strerror(-EINVAL), liveness_strerror(EINVAL));
}
END_TEST

START_TEST(cause_names_are_distinct)
{
	int a, b, n;

	/*
	 * The causes are numbered from 0 without a gap, and the first number
	 * without a name ends them: a cause added after LIVENESS_LOCAL_ERROR is
	 * checked too, without this test naming it.
	 */
	for (n = LIVENESS_ALIVE; strcmp(liveness_cause_name((enum liveness_cause)n), "unknown");)
		ck_assert_int_lt(++n, 64);
	ck_assert_int_gt(n, LIVENESS_LOCAL_ERROR);
	for (a = LIVENESS_ALIVE; a < n; a++)
		for (b = a + 1; b < n; b++)
			ck_assert_str_ne(liveness_cause_name((enum liveness_cause)a),
					 liveness_cause_name((enum liveness_cause)b));
	ck_assert_str_eq(liveness_cause_name((enum liveness_cause)99), "unknown");
	ck_assert_str_eq(liveness_cause_name(LIVENESS_KEEPALIVE_TIMEOUT), "keepalive-timeout");
}
END_TEST

Suite *time_suite(void)
{
	Suite *s = suite_create("time");
	TCase *tc = tcase_create("time");

	tcase_add_test(tc, now_is_monotonic_and_in_nanoseconds);
	tcase_add_test(tc, poll_timeout_never_is_minus_one);
	tcase_add_test(tc, poll_timeout_due_is_zero);
	tcase_add_test(tc, poll_timeout_rounds_up);
	tcase_add_test(tc, poll_timeout_caps_at_int_max);
	tcase_add_test(tc, strerror_never_null);
	tcase_add_test(tc, cause_names_are_distinct);
	suite_add_tcase(s, tc);
	return s;
}
