/*
 * tools/settings.c: the shim's configuration (LIVENESS_BUDGET,
 * LIVENESS_KEEPALIVE, LIVENESS_USER_TIMEOUT), shared with liveness run.
 */
#include <check.h>
#include <errno.h>
#include <string.h>

#include "../tools/settings.h"

START_TEST(budget_plans_like_the_library)
{
	struct lvt_settings s;
	struct liveness_tcp want, cur = {0, 7200, 75, 9, 0, -1}, got;
	char why[300];

	ck_assert_int_eq(lvt_settings_parse(&s, "60s", NULL, NULL, why, sizeof(why)), 1);
	ck_assert_int_eq(liveness_tcp_plan(&want, 60 * LIVENESS_SEC), 0);
	lvt_settings_apply(&s, &cur, &got);
	ck_assert_int_eq(got.keepalive, 1);
	ck_assert_int_eq(got.idle, want.idle);
	ck_assert_int_eq(got.interval, want.interval);
	ck_assert_int_eq(got.count, want.count);
	ck_assert_uint_eq(got.user_timeout, want.user_timeout);
	ck_assert_int_eq(got.linger, -1);
}
END_TEST

START_TEST(explicit_values_override_and_linger_is_kept)
{
	struct lvt_settings s;
	struct liveness_tcp cur = {0, 7200, 75, 9, 0, 5}, got;
	char why[300];

	ck_assert_int_eq(lvt_settings_parse(&s, "60s", "10:2:3", "1234", why, sizeof(why)), 1);
	lvt_settings_apply(&s, &cur, &got);
	ck_assert_int_eq(got.keepalive, 1);
	ck_assert_int_eq(got.idle, 10);
	ck_assert_int_eq(got.interval, 2);
	ck_assert_int_eq(got.count, 3);
	ck_assert_uint_eq(got.user_timeout, 1234);
	ck_assert_int_eq(got.linger, 5); /* the shim never changes SO_LINGER */

	/* A user timeout alone leaves keepalive as the program set it. */
	ck_assert_int_eq(lvt_settings_parse(&s, "", NULL, "900", why, sizeof(why)), 1);
	lvt_settings_apply(&s, &cur, &got);
	ck_assert_int_eq(got.keepalive, 0);
	ck_assert_int_eq(got.idle, 7200);
	ck_assert_uint_eq(got.user_timeout, 900);
}
END_TEST

START_TEST(nothing_set_is_not_an_error)
{
	struct lvt_settings s;
	char why[300];

	ck_assert_int_eq(lvt_settings_parse(&s, NULL, NULL, NULL, why, sizeof(why)), 0);
	ck_assert_int_eq(lvt_settings_parse(&s, "", "", "", why, sizeof(why)), 0);
}
END_TEST

static void refused(const char *b, const char *k, const char *u, const char *needle)
{
	struct lvt_settings s;
	char why[300] = "";
	int r = lvt_settings_parse(&s, b, k, u, why, sizeof(why));

	ck_assert_msg(r < 0, "'%s' '%s' '%s' accepted", b ? b : "", k ? k : "", u ? u : "");
	ck_assert_msg(strstr(why, needle), "reason '%s' lacks '%s'", why, needle);
	ck_assert_msg(!strchr(why, '\n'), "reason spans lines: '%s'", why);
	ck_assert(!s.has_budget && !s.has_keepalive && !s.has_user_timeout);
}

START_TEST(bad_values_name_the_variable)
{
	refused("500ms", NULL, NULL, "LIVENESS_BUDGET: budget 0.5 s is too short");
	refused("500ms", NULL, NULL, "2.18 s");
	refused("30", NULL, NULL, "missing unit");
	refused("0s", NULL, NULL, "longer than zero");
	refused("30d", NULL, NULL, "too long");
	refused(NULL, "1:2", NULL, "LIVENESS_KEEPALIVE");
	refused(NULL, "0:1:1", NULL, "IDLE:INTERVAL:COUNT");
	refused(NULL, "1:1:128", NULL, "LIVENESS_KEEPALIVE");
	refused(NULL, "32768:1:1", NULL, "LIVENESS_KEEPALIVE");
	refused(NULL, "1:1:1:1", NULL, "LIVENESS_KEEPALIVE");
	refused(NULL, "a:b:c", NULL, "LIVENESS_KEEPALIVE");
	refused(NULL, NULL, "-1", "LIVENESS_USER_TIMEOUT");
	refused(NULL, NULL, "2147483648", "LIVENESS_USER_TIMEOUT");
	refused(NULL, NULL, "5s", "milliseconds");
}
END_TEST

START_TEST(keepalive_limits_are_the_kernel_s)
{
	int i, n, c;
	char why[200];

	ck_assert_int_eq(lvt_parse_keepalive("32767:32767:127", &i, &n, &c, why, sizeof(why)), 0);
	ck_assert_int_eq(i, 32767);
	ck_assert_int_eq(n, 32767);
	ck_assert_int_eq(c, 127);
	ck_assert_int_eq(lvt_parse_keepalive("1:1:1", &i, &n, &c, why, sizeof(why)), 0);
	ck_assert_int_eq(lvt_parse_keepalive("1::1", &i, &n, &c, why, sizeof(why)), -EINVAL);
	ck_assert_int_eq(lvt_parse_keepalive("", &i, &n, &c, why, sizeof(why)), -EINVAL);
}
END_TEST

Suite *settings_suite(void)
{
	Suite *s = suite_create("settings");
	TCase *tc = tcase_create("parse");

	tcase_add_test(tc, budget_plans_like_the_library);
	tcase_add_test(tc, explicit_values_override_and_linger_is_kept);
	tcase_add_test(tc, nothing_set_is_not_an_error);
	tcase_add_test(tc, bad_values_name_the_variable);
	tcase_add_test(tc, keepalive_limits_are_the_kernel_s);
	suite_add_tcase(s, tc);
	return s;
}
