/*
 * tools/settings.c: the shim's configuration (LIVENESS_BUDGET,
 * LIVENESS_KEEPALIVE, LIVENESS_USER_TIMEOUT), shared with liveness run,
 * and the rule that holds a program's own settings to that plan:
 * stricter fields stay, looser ones are raised, and a combination that
 * would end a dead connection later than the plan gets the plan's timing.
 */
#include <check.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "../tools/settings.h"

START_TEST(budget_plans_like_the_library)
{
	struct lvt_settings s;
	struct liveness_tcp want, cur = {0, 7200, 75, 9, 0, -1}, got;
	char why[300];

	ck_assert_int_eq(lvt_settings_parse(&s, "60s", NULL, NULL, why, sizeof(why)), 1);
	ck_assert_int_eq(liveness_tcp_plan(&want, 60 * LIVENESS_SEC), 0);
	lvt_settings_apply(&s, &cur, 1, &got);
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
	lvt_settings_apply(&s, &cur, 1, &got);
	ck_assert_int_eq(got.keepalive, 1);
	ck_assert_int_eq(got.idle, 10);
	ck_assert_int_eq(got.interval, 2);
	ck_assert_int_eq(got.count, 3);
	ck_assert_uint_eq(got.user_timeout, 1234);
	ck_assert_int_eq(got.linger, 5); /* the shim never changes SO_LINGER */

	/* A user timeout alone leaves keepalive as the program set it. */
	ck_assert_int_eq(lvt_settings_parse(&s, "", NULL, "900", why, sizeof(why)), 1);
	lvt_settings_apply(&s, &cur, 1, &got);
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

static struct lvt_settings budget_settings(const char *budget)
{
	struct lvt_settings s;
	char why[300];

	ck_assert_int_eq(lvt_settings_parse(&s, budget, NULL, NULL, why, sizeof(why)), 1);
	return s;
}

static void assert_timing(const struct liveness_tcp *got, int keepalive, int idle, int interval,
			  int count, unsigned user_timeout)
{
	int same = got->keepalive == keepalive && got->idle == idle && got->interval == interval &&
		   got->count == count && got->user_timeout == user_timeout;

	ck_assert_msg(same, "got %d %d:%d:%d %u, want %d %d:%d:%d %u", got->keepalive, got->idle,
		      got->interval, got->count, got->user_timeout, keepalive, idle, interval,
		      count, user_timeout);
}

START_TEST(stricter_fields_stay_looser_ones_are_raised)
{
	struct lvt_settings s = budget_settings("30s");
	const struct liveness_tcp *p = &s.plan;
	struct liveness_tcp asked, got;

	/*
	 * redis's own: keepalive after 300 s, probes every 100 s, no user
	 * timeout, all raised; its 3 probes are fewer than the plan's, and stay.
	 */
	asked = (struct liveness_tcp){1, 300, 100, 3, 0, -1};
	ck_assert_int_lt(asked.count, p->count);
	ck_assert_int_eq(lvt_settings_apply(&s, &asked, 1, &got), LVT_RAISED);
	assert_timing(&got, 1, p->idle, p->interval, 3, p->user_timeout);
	/* Keepalive switched off goes back on; the rest is the plan already. */
	asked = *p;
	asked.keepalive = 0;
	ck_assert_int_eq(lvt_settings_apply(&s, &asked, 1, &got), LVT_RAISED);
	assert_timing(&got, 1, p->idle, p->interval, p->count, p->user_timeout);
	/* A user timeout of 0 is none at all: raised; a longer one too. */
	asked = *p;
	asked.user_timeout = 0;
	ck_assert_int_eq(lvt_settings_apply(&s, &asked, 1, &got), LVT_RAISED);
	ck_assert_uint_eq(got.user_timeout, p->user_timeout);
	asked.user_timeout = p->user_timeout + 1;
	ck_assert_int_eq(lvt_settings_apply(&s, &asked, 1, &got), LVT_RAISED);
	ck_assert_uint_eq(got.user_timeout, p->user_timeout);
	/* Stricter: a shorter idle time with a shorter user timeout, fewer probes. */
	asked = (struct liveness_tcp){1, 5, p->interval, 2, 10000, 7};
	ck_assert_int_eq(lvt_settings_apply(&s, &asked, 1, &got), LVT_KEPT);
	assert_timing(&got, 1, 5, p->interval, 2, 10000);
	ck_assert_int_eq(got.linger, 7); /* never the configuration's */
	/* Each field on its own: the stricter idle stays while the looser interval is raised. */
	asked = (struct liveness_tcp){1, 5, 100, 2, 10000, -1};
	ck_assert_int_eq(lvt_settings_apply(&s, &asked, 1, &got), LVT_RAISED);
	assert_timing(&got, 1, 5, p->interval, 2, 10000);
}
END_TEST

/*
 * liveness(1)'s example: with the plan for 30 s (15 s idle, 3 s probes,
 * user timeout 27 s) the kernel ends an idle connection at the first
 * keepalive tick at or after 27 s, 15 + 4 x 3 = 27 s; with a stricter 1 s
 * idle time the ticks fall at 1 + k x 3 and the first at or after 27 s is
 * 28 s. The fields are each as strict; together they are later.
 */
START_TEST(a_stricter_field_that_ends_later_gets_the_plan_s_timing)
{
	struct lvt_settings s = budget_settings("30s");
	const struct liveness_tcp *p = &s.plan;
	struct liveness_tcp asked, got, merged;

	ck_assert(p->idle == 15 && p->interval == 3 && p->user_timeout == 27000);
	asked = *p;
	asked.idle = 1;
	merged = asked;
	ck_assert_uint_gt(liveness_tcp_bound(&merged, LIVENESS_IDLE | LIVENESS_NOMINAL),
			  liveness_tcp_bound(p, LIVENESS_IDLE | LIVENESS_NOMINAL));
	ck_assert_uint_eq(liveness_tcp_bound(&merged, LIVENESS_IDLE | LIVENESS_NOMINAL),
			  28 * LIVENESS_SEC);
	/*
	 * Idle 1 stays: the user timeout the program did not set is shortened
	 * until the last tick is within the plan's worst case again.
	 */
	ck_assert_int_eq(lvt_settings_apply(&s, &asked, 0, &got), LVT_TIGHTENED);
	ck_assert_int_eq(got.idle, 1);
	ck_assert_uint_lt(got.user_timeout, p->user_timeout);
	ck_assert_uint_le(liveness_tcp_bound(&got, LIVENESS_IDLE),
			  liveness_tcp_bound(p, LIVENESS_IDLE));
	merged = got;
	merged.user_timeout++; /* the longest such: a millisecond more is too late */
	ck_assert_uint_gt(liveness_tcp_bound(&merged, LIVENESS_IDLE),
			  liveness_tcp_bound(p, LIVENESS_IDLE));
	/* The case: TCP_KEEPIDLE 5 under a 30 s plan reads back 5. */
	asked.idle = 5;
	ck_assert_int_eq(lvt_settings_apply(&s, &asked, 0, &got), LVT_TIGHTENED);
	assert_timing(&got, 1, 5, p->interval, p->count, got.user_timeout);
	/* Nor one the program set to exactly the plan's, nor any stricter one of its own. */
	ck_assert_int_eq(lvt_settings_apply(&s, &asked, 1, &got), LVT_FELL_BACK);
	assert_timing(&got, 1, p->idle, p->interval, p->count, p->user_timeout);
	asked.idle = 1;
	asked.user_timeout = 26900;
	ck_assert_int_eq(lvt_settings_apply(&s, &asked, 1, &got), LVT_FELL_BACK);
	assert_timing(&got, 1, p->idle, p->interval, p->count, 26900);
	/* With a stricter user timeout too, the first tick after it (22 s) is within the plan. */
	asked.user_timeout = 20000;
	ck_assert_int_eq(lvt_settings_apply(&s, &asked, 1, &got), LVT_KEPT);
	assert_timing(&got, 1, 1, p->interval, p->count, 20000);
}
END_TEST

START_TEST(explicit_settings_name_only_their_fields)
{
	struct lvt_settings s;
	struct liveness_tcp asked = {0, 300, 100, 3, 60000, -1}, got;
	char why[300];

	/* --keepalive: the keepalive fields are the plan, the user timeout is the program's. */
	ck_assert_int_eq(lvt_settings_parse(&s, NULL, "7:3:2", NULL, why, sizeof(why)), 1);
	ck_assert_int_eq(lvt_settings_apply(&s, &asked, 1, &got), LVT_RAISED);
	assert_timing(&got, 1, 7, 3, 2, 60000);
	/* --user-timeout: keepalive stays as the program has it, off here. */
	ck_assert_int_eq(lvt_settings_parse(&s, NULL, NULL, "5000", why, sizeof(why)), 1);
	ck_assert_int_eq(lvt_settings_apply(&s, &asked, 1, &got), LVT_RAISED);
	assert_timing(&got, 0, 300, 100, 3, 5000);
	asked.user_timeout = 3000;
	ck_assert_int_eq(lvt_settings_apply(&s, &asked, 1, &got), LVT_KEPT);
	assert_timing(&got, 0, 300, 100, 3, 3000);
}
END_TEST

/*
 * --user-timeout 0 asks for the kernel's default: then a program's own user
 * timeout is not looser on its own, but a long one makes keepalive wait
 * for it (the kernel ignores the probe count under a user timeout), later
 * than the plan: the plan's 0 instead. A short one stays.
 */
START_TEST(a_zero_user_timeout_plan_keeps_what_ends_no_later)
{
	struct lvt_settings s;
	struct liveness_tcp asked = {1, 1, 1, 1, 3600000, -1}, got;
	char why[300];

	ck_assert_int_eq(lvt_settings_parse(&s, NULL, "1:1:1", "0", why, sizeof(why)), 1);
	ck_assert_int_eq(lvt_settings_apply(&s, &asked, 1, &got), LVT_FELL_BACK);
	assert_timing(&got, 1, 1, 1, 1, 0);
	asked.user_timeout = 1000;
	ck_assert_int_eq(lvt_settings_apply(&s, &asked, 1, &got), LVT_KEPT);
	assert_timing(&got, 1, 1, 1, 1, 1000);
}
END_TEST

static int least(int a, int b)
{
	return a < b ? a : b;
}

/*
 * The promise, for every combination of a program's settings on a grid
 * around several plans: the result ends a dead connection no later than
 * the plan, idle or busy; every field is at least as strict as the plan's;
 * and unless the combination fell back, each field is the stricter of the
 * program's and the plan's, so nothing stricter was lost.
 */
START_TEST(the_promise_holds_for_any_program_setting)
{
	static const char *budgets[] = {"3s", "30s", "5m", "1h"};
	static const int idles[] = {1, 2, 5, 14, 15, 16, 150, 300, 7200};
	static const int intervals[] = {1, 2, 3, 5, 30, 75};
	static const int counts[] = {1, 2, 4, 9, 127};
	size_t b, x, cases = 0, kept = 0, fell = 0, tightened = 0;

	for (b = 0; b < sizeof(budgets) / sizeof(budgets[0]); b++) {
		struct lvt_settings s = budget_settings(budgets[b]);
		const struct liveness_tcp *p = &s.plan;
		const unsigned uts[] = {0,
					1000,
					10000,
					p->user_timeout - 1,
					p->user_timeout,
					p->user_timeout + 1,
					3600000};
		const size_t ni = sizeof(idles) / sizeof(idles[0]);
		const size_t nn = sizeof(intervals) / sizeof(intervals[0]);
		const size_t nc = sizeof(counts) / sizeof(counts[0]);
		const size_t nu = sizeof(uts) / sizeof(uts[0]);
		liveness_time idle_bound = liveness_tcp_bound(p, LIVENESS_IDLE);
		liveness_time busy_bound = liveness_tcp_bound(p, LIVENESS_BUSY);

		/* x runs through every combination of the five fields. */
		for (x = 0; x < 2 * ni * nn * nc * nu; x++) {
			struct liveness_tcp asked = {(int)(x / (ni * nn * nc * nu)),
						     idles[x / (nn * nc * nu) % ni],
						     intervals[x / (nc * nu) % nn],
						     counts[x / nu % nc],
						     uts[x % nu],
						     -1};
			struct liveness_tcp got;
			enum lvt_outcome how = lvt_settings_apply(&s, &asked, 1, &got);
			int changed;

			cases++;
			ck_assert_int_eq(got.keepalive, 1);
			ck_assert_int_le(got.idle, p->idle);
			ck_assert_int_le(got.interval, p->interval);
			ck_assert_int_le(got.count, p->count);
			ck_assert(got.user_timeout != 0 && got.user_timeout <= p->user_timeout);
			ck_assert_msg(liveness_tcp_bound(&got, LIVENESS_IDLE) <= idle_bound &&
					      liveness_tcp_bound(&got, LIVENESS_BUSY) <= busy_bound,
				      "%s: %d %d:%d:%d %u ends later than the plan", budgets[b],
				      asked.keepalive, asked.idle, asked.interval, asked.count,
				      asked.user_timeout);
			if (how == LVT_FELL_BACK) {
				fell++;
				continue;
			}
			if (how == LVT_TIGHTENED) {
				/* Every keepalive field the stricter one; only the plan's U
				 * shortened. */
				tightened++;
				ck_assert_int_eq(got.idle, least(asked.idle, p->idle));
				ck_assert_int_eq(got.interval, least(asked.interval, p->interval));
				ck_assert_int_eq(got.count, least(asked.count, p->count));
				ck_assert(asked.user_timeout == 0 ||
					  asked.user_timeout > p->user_timeout);
				ck_assert_uint_lt(got.user_timeout, p->user_timeout);
				continue;
			}
			ck_assert_int_eq(got.idle, least(asked.idle, p->idle));
			ck_assert_int_eq(got.interval, least(asked.interval, p->interval));
			ck_assert_int_eq(got.count, least(asked.count, p->count));
			if (asked.user_timeout != 0 && asked.user_timeout < p->user_timeout)
				ck_assert_uint_eq(got.user_timeout, asked.user_timeout);
			else
				ck_assert_uint_eq(got.user_timeout, p->user_timeout);
			changed = asked.keepalive != got.keepalive || asked.idle != got.idle ||
				  asked.interval != got.interval || asked.count != got.count ||
				  asked.user_timeout != got.user_timeout;
			ck_assert_int_eq(how == LVT_KEPT, !changed);
			kept += how == LVT_KEPT;
		}
	}
	/* The grid reaches all three outcomes, or it tests less than it claims. */
	ck_assert(kept > 0 && fell > 0 && tightened > 0 && kept + fell + tightened < cases);
	printf("settings  %zu program settings against 4 plans: %zu kept, %zu kept with a shorter "
	       "user timeout, %zu fell back to the plan's timing, the rest raised field by field; "
	       "none ends later than its plan\n",
	       cases, kept, tightened, fell);
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
	tcase_add_test(tc, stricter_fields_stay_looser_ones_are_raised);
	tcase_add_test(tc, a_stricter_field_that_ends_later_gets_the_plan_s_timing);
	tcase_add_test(tc, explicit_settings_name_only_their_fields);
	tcase_add_test(tc, a_zero_user_timeout_plan_keeps_what_ends_no_later);
	tcase_add_test(tc, the_promise_holds_for_any_program_setting);
	suite_add_tcase(s, tc);
	return s;
}
