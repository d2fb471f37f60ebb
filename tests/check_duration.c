/*
 * tools/duration.c: the durations and numbers people type to the liveness
 * command and the shim, and the seconds the tools print.
 */
#include <check.h>
#include <errno.h>
#include <string.h>

#include "../tools/duration.h"

static liveness_time parse_ok(const char *s)
{
	liveness_time t = 12345;
	const char *why = NULL;
	int r = lvt_parse_duration(s, &t, &why);

	ck_assert_msg(r == 0, "'%s' refused: %s", s, why ? why : "?");
	return t;
}

static const char *parse_bad(const char *s, int want)
{
	liveness_time t = 777;
	const char *why = NULL;
	int r = lvt_parse_duration(s, &t, &why);

	ck_assert_msg(r == want, "'%s': got %d, want %d", s, r, want);
	ck_assert_msg(t == 777, "'%s': output changed on failure", s);
	ck_assert_ptr_nonnull(why);
	return why;
}

START_TEST(units_and_compounds)
{
	ck_assert_uint_eq(parse_ok("30s"), 30 * LIVENESS_SEC);
	ck_assert_uint_eq(parse_ok("2m"), 120 * LIVENESS_SEC);
	ck_assert_uint_eq(parse_ok("1h"), 3600 * LIVENESS_SEC);
	ck_assert_uint_eq(parse_ok("1d"), 86400 * LIVENESS_SEC);
	ck_assert_uint_eq(parse_ok("500ms"), 500 * LIVENESS_MSEC);
	ck_assert_uint_eq(parse_ok("250us"), 250 * LIVENESS_USEC);
	ck_assert_uint_eq(parse_ok("7ns"), 7);
	ck_assert_uint_eq(parse_ok("1h30m"), 5400 * LIVENESS_SEC);
	ck_assert_uint_eq(parse_ok("1m30s500ms"), 90500 * LIVENESS_MSEC);
	ck_assert_uint_eq(parse_ok("0s"), 0);
}
END_TEST

START_TEST(fractions_are_exact)
{
	ck_assert_uint_eq(parse_ok("1.5s"), 1500 * LIVENESS_MSEC);
	ck_assert_uint_eq(parse_ok("0.25h"), 900 * LIVENESS_SEC);
	ck_assert_uint_eq(parse_ok("2.5ms"), 2500 * LIVENESS_USEC);
	ck_assert_uint_eq(parse_ok(".5s"), 500 * LIVENESS_MSEC);
	/* Nanoseconds are the resolution: later digits are dropped, not rounded. */
	ck_assert_uint_eq(parse_ok("1.0000000019s"), LIVENESS_SEC + 1);
	ck_assert_uint_eq(parse_ok("1.5d"), 129600 * LIVENESS_SEC);
}
END_TEST

START_TEST(nonsense_is_refused_with_a_reason)
{
	ck_assert_ptr_nonnull(strstr(parse_bad("30", -EINVAL), "missing unit"));
	ck_assert_ptr_nonnull(strstr(parse_bad("30x", -EINVAL), "unknown unit"));
	ck_assert_ptr_nonnull(strstr(parse_bad("30 s", -EINVAL), "unknown unit"));
	ck_assert_ptr_nonnull(strstr(parse_bad("", -EINVAL), "empty"));
	ck_assert_ptr_nonnull(strstr(parse_bad("-5s", -EINVAL), "cannot be negative"));
	ck_assert_ptr_nonnull(strstr(parse_bad("-.5s", -EINVAL), "cannot be negative"));
	ck_assert_ptr_nonnull(strstr(parse_bad("-", -EINVAL), "write a number and a unit"));
	ck_assert_ptr_nonnull(strstr(parse_bad("-x", -EINVAL), "write a number and a unit"));
	ck_assert_ptr_nonnull(strstr(parse_bad("abc", -EINVAL), "not a duration"));
	ck_assert_ptr_nonnull(strstr(parse_bad("1.s", -EINVAL), "decimal point"));
	ck_assert_ptr_nonnull(strstr(parse_bad("5sec", -EINVAL), "unknown unit"));
	ck_assert_ptr_nonnull(strstr(parse_bad("5s ", -EINVAL), "unexpected"));
	parse_bad("1e3s", -EINVAL);
	ck_assert_ptr_nonnull(strstr(parse_bad(NULL, -EINVAL), "empty"));
}
END_TEST

START_TEST(overflow_is_refused)
{
	parse_bad("18446744073709551616ns", -ERANGE);
	parse_bad("213504d", -ERANGE); /* 2^64 ns is about 213503.98 days */
	ck_assert_uint_eq(parse_ok("213503d"), 213503ULL * 86400 * LIVENESS_SEC);
	parse_bad("106752d106752d", -ERANGE);
	parse_bad("99999999999999999999999999s", -ERANGE);
	/* The largest representable duration is one below LIVENESS_NEVER. */
	parse_bad("18446744073709551615ns", -ERANGE);
	ck_assert_uint_eq(parse_ok("18446744073709551614ns"), LIVENESS_NEVER - 1);
}
END_TEST

START_TEST(uint_range)
{
	unsigned long long v = 5;
	const char *why = NULL;

	ck_assert_int_eq(lvt_parse_uint("0", 10, &v, &why), 0);
	ck_assert_uint_eq(v, 0);
	ck_assert_int_eq(lvt_parse_uint("10", 10, &v, &why), 0);
	ck_assert_uint_eq(v, 10);
	ck_assert_int_eq(lvt_parse_uint("11", 10, &v, &why), -ERANGE);
	ck_assert_int_eq(lvt_parse_uint("2147483647", 2147483647ULL, &v, &why), 0);
	ck_assert_int_eq(lvt_parse_uint("2147483648", 2147483647ULL, &v, &why), -ERANGE);
	ck_assert_int_eq(lvt_parse_uint("18446744073709551616", ~0ULL, &v, &why), -ERANGE);
	ck_assert_int_eq(lvt_parse_uint("18446744073709551615", ~0ULL, &v, &why), 0);
	ck_assert_int_eq(lvt_parse_uint("-1", 10, &v, &why), -EINVAL);
	ck_assert_int_eq(lvt_parse_uint("", 10, &v, &why), -EINVAL);
	ck_assert_int_eq(lvt_parse_uint("1 ", 10, &v, &why), -EINVAL);
	ck_assert_int_eq(lvt_parse_uint("9", 5, &v, &why), -ERANGE);
}
END_TEST

START_TEST(seconds_are_printed_rounded_up)
{
	char b[32];

	ck_assert_str_eq(lvt_fmt_sec(7875 * LIVENESS_SEC, b, sizeof(b)), "7875 s");
	ck_assert_str_eq(lvt_fmt_sec(57250 * LIVENESS_MSEC, b, sizeof(b)), "57.25 s");
	ck_assert_str_eq(lvt_fmt_sec(500 * LIVENESS_MSEC, b, sizeof(b)), "0.5 s");
	ck_assert_str_eq(lvt_fmt_sec(935040 * LIVENESS_MSEC, b, sizeof(b)), "935.04 s");
	/* A worst case is never understated: 8764.239124 s prints as 8764.24 s. */
	ck_assert_str_eq(lvt_fmt_sec(8764239124000ULL, b, sizeof(b)), "8764.24 s");
	ck_assert_str_eq(lvt_fmt_sec(1, b, sizeof(b)), "0.01 s");
	ck_assert_str_eq(lvt_fmt_sec(0, b, sizeof(b)), "0 s");
	ck_assert_str_eq(lvt_fmt_sec(LIVENESS_NEVER, b, sizeof(b)), "never");
}
END_TEST

/* From an hour up, days, hours, minutes and seconds, then the seconds lvt_fmt_sec() prints. */
START_TEST(long_durations_print_in_days_and_hours)
{
	char b[64];

	ck_assert_str_eq(lvt_fmt_long(2073600 * LIVENESS_SEC, b, sizeof(b)), "24 d (2073600 s)");
	ck_assert_str_eq(lvt_fmt_long(7875 * LIVENESS_SEC, b, sizeof(b)),
			 "2 h 11 min 15 s (7875 s)");
	ck_assert_str_eq(lvt_fmt_long(5400 * LIVENESS_SEC, b, sizeof(b)), "1 h 30 min (5400 s)");
	ck_assert_str_eq(lvt_fmt_long(90061 * LIVENESS_SEC, b, sizeof(b)),
			 "1 d 1 h 1 min 1 s (90061 s)");
	ck_assert_str_eq(lvt_fmt_long(86400 * LIVENESS_SEC + 250 * LIVENESS_MSEC, b, sizeof(b)),
			 "1 d 0.25 s (86400.25 s)");
	/* Rounded up like lvt_fmt_sec(): 8764.239124 s is 2 h 26 min 4.24 s. */
	ck_assert_str_eq(lvt_fmt_long(8764239124000ULL, b, sizeof(b)),
			 "2 h 26 min 4.24 s (8764.24 s)");
	/* Below an hour, and an hour once rounded up, as lvt_fmt_sec() and in hours. */
	ck_assert_str_eq(lvt_fmt_long(3599 * LIVENESS_SEC, b, sizeof(b)), "3599 s");
	ck_assert_str_eq(lvt_fmt_long(3600 * LIVENESS_SEC - 1, b, sizeof(b)), "1 h (3600 s)");
	ck_assert_str_eq(lvt_fmt_long(30 * LIVENESS_SEC, b, sizeof(b)), "30 s");
	ck_assert_str_eq(lvt_fmt_long(LIVENESS_NEVER, b, sizeof(b)), "never");
	/* A short buffer gets a truncated, terminated string. */
	ck_assert_str_eq(lvt_fmt_long(7875 * LIVENESS_SEC, b, 8), "2 h 11 ");
}
END_TEST

START_TEST(durations_print_as_they_parse)
{
	static const char *const samples[] = {"30s", "2m",  "1h", "1500ms", "1500us",
					      "7ns", "90m", "0s", "48h"};
	char b[40];
	size_t i;

	for (i = 0; i < sizeof(samples) / sizeof(samples[0]); i++)
		ck_assert_str_eq(lvt_fmt_duration(parse_ok(samples[i]), b, sizeof(b)), samples[i]);
	ck_assert_str_eq(lvt_fmt_duration(parse_ok("120s"), b, sizeof(b)), "2m");
	ck_assert_str_eq(lvt_fmt_duration(parse_ok("1.5s"), b, sizeof(b)), "1500ms");
}
END_TEST

Suite *duration_suite(void)
{
	Suite *s = suite_create("duration");
	TCase *tc = tcase_create("parse");

	tcase_add_test(tc, units_and_compounds);
	tcase_add_test(tc, fractions_are_exact);
	tcase_add_test(tc, nonsense_is_refused_with_a_reason);
	tcase_add_test(tc, overflow_is_refused);
	tcase_add_test(tc, uint_range);
	tcase_add_test(tc, seconds_are_printed_rounded_up);
	tcase_add_test(tc, long_durations_print_in_days_and_hours);
	tcase_add_test(tc, durations_print_as_they_parse);
	suite_add_tcase(s, tc);
	return s;
}
