/*
 * The liveness command (tools/liveness.c), run as built: what `plan` and
 * `doctor` print, `run`'s environment and exit status, a one-line error and
 * exit status 2 for every kind of bad input, --help for each command, and
 * liveness(7)'s recipes, whose quoted output must still be what the
 * commands print. The binary comes from $LIVENESS_BUILD (default build).
 */
#include <check.h>
#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "child.h"
#include "liveness.h"
#include "util.h"

#define RUN_TIMEOUT (60 * LIVENESS_SEC)

static char *liveness(void)
{
	static char path[4096];

	if (!path[0])
		sp_path(path, sizeof(path), "liveness");
	return path;
}

/* Run liveness with up to 15 arguments (NULL-terminated). */
static void lv(struct sp_result *r, const char *first, ...)
{
	char *argv[16];
	int n = 0;
	va_list ap;
	const char *a;

	argv[n++] = liveness();
	va_start(ap, first);
	for (a = first; a && n < 15; a = va_arg(ap, const char *))
		argv[n++] = (char *)a;
	va_end(ap);
	argv[n] = NULL;
	sp_run(argv, NULL, RUN_TIMEOUT, r);
}

/* s with runs of blanks made one space and no blanks at either end, in place. */
static char *squeeze(char *s)
{
	char *w = s, *r = s;

	while (*r) {
		if (isspace((unsigned char)*r)) {
			while (isspace((unsigned char)*r))
				r++;
			if (w != s && *r)
				*w++ = ' ';
		} else {
			*w++ = *r++;
		}
	}
	*w = '\0';
	return s;
}

/* Does text have a line equal to want, blanks squeezed in both? */
static int has_line(const char *text, const char *want)
{
	char w[512], line[1024];
	const char *p = text;

	snprintf(w, sizeof(w), "%s", want);
	squeeze(w);
	while (*p) {
		size_t n = strcspn(p, "\n");
		snprintf(line, sizeof(line), "%.*s", (int)(n < sizeof(line) - 1 ? n : sizeof(line) - 1), p);
		if (strcmp(squeeze(line), w) == 0)
			return 1;
		p += n + (p[n] == '\n');
	}
	return 0;
}

#define ASSERT_LINE(out, ...)                                                                \
	do {                                                                                 \
		char want_[512];                                                             \
		snprintf(want_, sizeof(want_), __VA_ARGS__);                                 \
		ck_assert_msg(has_line(out, want_), "no line '%s' in:\n%s", want_, out);      \
	} while (0)

static void plan_matches_library(const char *text, liveness_time budget, const char *c_budget)
{
	struct liveness_tcp t;
	struct sp_result r;

	ck_assert_int_eq(liveness_tcp_plan(&t, budget), 0);
	lv(&r, "plan", text, NULL);
	ck_assert_msg(r.status == 0, "plan %s: status %d, %s", text, r.status, r.err);
	ck_assert_str_eq(r.err, "");
	ASSERT_LINE(r.out, "SO_KEEPALIVE 1");
	ASSERT_LINE(r.out, "TCP_KEEPIDLE %d s", t.idle);
	ASSERT_LINE(r.out, "TCP_KEEPINTVL %d s", t.interval);
	ASSERT_LINE(r.out, "TCP_KEEPCNT %d", t.count);
	ASSERT_LINE(r.out, "TCP_USER_TIMEOUT %u ms", t.user_timeout);
	ASSERT_LINE(r.out, "net.ipv4.tcp_keepalive_time = %d", t.idle);
	ASSERT_LINE(r.out, "net.ipv4.tcp_keepalive_intvl = %d", t.interval);
	ASSERT_LINE(r.out, "net.ipv4.tcp_keepalive_probes = %d", t.count);
	ASSERT_LINE(r.out, "or explicitly: LIVENESS_KEEPALIVE=%d:%d:%d LIVENESS_USER_TIMEOUT=%u",
		    t.idle, t.interval, t.count, t.user_timeout);
	ASSERT_LINE(r.out, "int on = 1, idle = %d, intvl = %d, cnt = %d;", t.idle, t.interval,
		    t.count);
	ASSERT_LINE(r.out, "liveness_tcp_plan(&t, %s);", c_budget);
	ck_assert_msg(strstr(r.out, "LD_PRELOAD=/") && strstr(r.out, "libliveness-preload.so"),
		      "no LD_PRELOAD line:\n%s", r.out);
	/* The worst cases printed are the library's, rounded up to 10 ms. */
	{
		char a[64], b[64];
		liveness_time idle = liveness_tcp_bound(&t, LIVENESS_IDLE);
		liveness_time busy = liveness_tcp_bound(&t, LIVENESS_BUSY);
		ck_assert(idle <= budget && busy <= budget);
		snprintf(a, sizeof(a), "%.2f", (double)((idle + 9999999) / 10000000) / 100);
		snprintf(b, sizeof(b), "%.2f", (double)((busy + 9999999) / 10000000) / 100);
		/* Trailing zeros are dropped in the output: compare numerically. */
		ck_assert_msg(strstr(r.out, "idle: probes unanswered"), "%s", r.out);
		{
			const char *l = strstr(r.out, "idle: probes unanswered");
			double nom, worst;
			ck_assert_int_eq(sscanf(l, "idle: probes unanswered %lf s %lf s", &nom, &worst), 2);
			ck_assert_msg(worst == atof(a), "idle worst %.2f, library %s", worst, a);
			l = strstr(r.out, "busy: data unacknowledged");
			ck_assert_ptr_nonnull(l);
			ck_assert_int_eq(sscanf(l, "busy: data unacknowledged %lf s %lf s", &nom, &worst), 2);
			ck_assert_msg(worst == atof(b), "busy worst %.2f, library %s", worst, b);
		}
	}
	sp_free(&r);
}

START_TEST(plan_prints_what_the_library_plans)
{
	plan_matches_library("30s", 30 * LIVENESS_SEC, "30 * LIVENESS_SEC");
	plan_matches_library("2m", 120 * LIVENESS_SEC, "120 * LIVENESS_SEC");
	plan_matches_library("1h", 3600 * LIVENESS_SEC, "3600 * LIVENESS_SEC");
	plan_matches_library("2500ms", 2500 * LIVENESS_MSEC, "2500 * LIVENESS_MSEC");
	plan_matches_library("1h30m", 5400 * LIVENESS_SEC, "5400 * LIVENESS_SEC");
	plan_matches_library("2500500us", 2500500 * LIVENESS_USEC, "2500500 * LIVENESS_USEC");
}
END_TEST

/* Exit status 2, nothing on stdout, exactly one line on stderr containing needle. */
static void refused(const char *needle, const char *a, const char *b, const char *c,
		    const char *d, const char *e)
{
	struct sp_result r;
	char *nl;

	lv(&r, a, b, c, d, e, NULL);
	ck_assert_msg(r.status == 2, "liveness %s %s %s: status %d, want 2 (stderr: %s)", a ? a : "",
		      b ? b : "", c ? c : "", r.status, r.err);
	ck_assert_msg(r.out[0] == '\0', "liveness %s %s: printed on stdout: %s", a ? a : "",
		      b ? b : "", r.out);
	nl = strchr(r.err, '\n');
	ck_assert_msg(nl && nl[1] == '\0' && strncmp(r.err, "liveness: ", 10) == 0,
		      "want one line 'liveness: ...', got '%s'", r.err);
	ck_assert_msg(strstr(r.err, needle), "error '%s' lacks '%s'", r.err, needle);
	sp_free(&r);
}

START_TEST(a_budget_too_short_is_refused_with_the_reason)
{
	refused("budget 0.5 s is too short", "plan", "500ms", NULL, NULL, NULL);
	refused("shortest budget that can be met is 2.18 s", "plan", "500ms", NULL, NULL, NULL);
	refused("too long", "plan", "30d", NULL, NULL, NULL);
}
END_TEST

START_TEST(bad_input_is_one_line_and_exit_2)
{
	refused("a command is needed", NULL, NULL, NULL, NULL, NULL);
	refused("unknown command 'plna'", "plna", NULL, NULL, NULL, NULL);
	refused("a budget is needed", "plan", NULL, NULL, NULL, NULL);
	refused("missing unit", "plan", "30", NULL, NULL, NULL);
	refused("unknown unit", "plan", "30 s", NULL, NULL, NULL);
	refused("not a duration", "plan", "abc", NULL, NULL, NULL);
	refused("not a duration", "plan", "-", NULL, NULL, NULL);
	refused("unknown option '--bogus'", "plan", "--bogus", NULL, NULL, NULL);
	refused("one budget only", "plan", "30s", "40s", NULL, NULL);
	refused("must be longer than zero", "plan", "0s", NULL, NULL, NULL);
	refused("duration too long", "plan", "99999999999999999999s", NULL, NULL, NULL);
	refused("--connections 'many'", "doctor", "--connections", "many", NULL, NULL);
	refused("--connections '0'", "doctor", "--connections", "0", NULL, NULL);
	refused("--connections needs a value", "doctor", "--connections", NULL, NULL, NULL);
	refused("too short", "doctor", "--budget", "1s", NULL, NULL);
	refused("unknown argument 'now'", "doctor", "now", NULL, NULL, NULL);
	refused("a program to run is needed", "run", "--budget", "3s", NULL, NULL);
	refused("a program to run is needed", "run", "--budget", "3s", "--", NULL);
	refused("give --budget", "run", "--", "true", NULL, NULL);
	refused("give it alone", "run", "--budget", "3s", "--keepalive", "1:1:1");
	refused("IDLE:INTERVAL:COUNT", "run", "--keepalive", "1:2", "--", "true");
	refused("IDLE:INTERVAL:COUNT", "run", "--keepalive", "1:1:200", "--", "true");
	refused("--user-timeout", "run", "--user-timeout", "-1", "--", "true");
	refused("--user-timeout", "run", "--user-timeout", "5s", "--", "true");
	refused("too short", "run", "--budget", "500ms", "--", "true");
	refused("unknown option '--bugdet'", "run", "--bugdet", "3s", "--", "true");
}
END_TEST

START_TEST(help_for_each_command)
{
	static const char *const cmds[][2] = {
		{"--help", NULL}, {"plan", "--help"}, {"doctor", "--help"}, {"run", "--help"}};
	struct sp_result r;
	size_t i;

	for (i = 0; i < sizeof(cmds) / sizeof(cmds[0]); i++) {
		lv(&r, cmds[i][0], cmds[i][1], NULL);
		ck_assert_msg(r.status == 0, "%s %s: status %d", cmds[i][0], cmds[i][1] ? cmds[i][1] : "",
			      r.status);
		ck_assert_msg(strncmp(r.out, "usage: liveness", 15) == 0, "%s", r.out);
		ck_assert_str_eq(r.err, "");
		sp_free(&r);
	}
}
END_TEST

START_TEST(run_sets_the_environment_and_keeps_the_exit_status)
{
	struct sp_result r;
	const char *show = "echo \"$LIVENESS_BUDGET|$LIVENESS_KEEPALIVE|$LIVENESS_USER_TIMEOUT|$LD_PRELOAD\"";
	char want[4200], shim[4096];

	sp_path(shim, sizeof(shim), "libliveness-preload.so");
	lv(&r, "run", "--budget", "3s", "--", "sh", "-c", show, NULL);
	ck_assert_int_eq(r.status, 0);
	snprintf(want, sizeof(want), "3s|||%s\n", shim);
	ck_assert_str_eq(r.out, want);
	sp_free(&r);

	lv(&r, "run", "--keepalive", "10:2:3", "--user-timeout", "4000", "sh", "-c", show, NULL);
	ck_assert_int_eq(r.status, 0);
	snprintf(want, sizeof(want), "|10:2:3|4000|%s\n", shim);
	ck_assert_str_eq(r.out, want);
	sp_free(&r);

	lv(&r, "run", "--budget", "3s", "--", "sh", "-c", "exit 7", NULL);
	ck_assert_int_eq(r.status, 7);
	sp_free(&r);

	lv(&r, "run", "--budget", "3s", "--", "/nonexistent/program", NULL);
	ck_assert_int_eq(r.status, 127);
	ck_assert_msg(strstr(r.err, "/nonexistent/program"), "%s", r.err);
	sp_free(&r);
}
END_TEST

START_TEST(doctor_reports_the_namespace_defaults)
{
	struct sp_result r;
	char *p;
	double kb;

	/* A fresh namespace has the kernel's defaults for every net.* sysctl. */
	if (!tu_netns("liveness doctor in a fresh namespace"))
		return;
	lv(&r, "doctor", "--connections", "1000000", "--budget", "5m", NULL);
	printf("%s", r.out);
	ck_assert_msg(r.status == 1, "doctor: status %d (want 1: changes needed), %s", r.status, r.err);
	ck_assert_str_eq(r.err, "");
	ck_assert_msg(strstr(r.out, "probes after 7200 s, every 75 s, 9 of them"), "%s", r.out);
	ck_assert_msg(strstr(r.out, "ends 7875 s after its last packet, 8764.24 s worst"), "%s", r.out);
	ck_assert_msg(strstr(r.out, "tcp_retries2 = 15"), "%s", r.out);
	ck_assert_msg(strstr(r.out, "935.04 s after the write, 1016.06 s worst"), "%s", r.out);
	ck_assert_msg(strstr(r.out, "(liveness_tcp_bound; liveness_tcp_plan(3) explains the "
				    "difference from ip-sysctl.rst)"),
		      "%s", r.out);
	ck_assert_msg(strstr(r.out, "1000000 connections need 1000064 descriptors"), "%s", r.out);
	ck_assert_msg(strstr(r.out, "32768 60999: 28232 local ports"), "%s", r.out);
	ck_assert_msg(strstr(r.out, "1000000 connections need 36 source addresses"), "%s", r.out);
	ck_assert_msg(strstr(r.out, "TCP_USER_TIMEOUT 270000 ms per socket"), "%s", r.out);
	ck_assert_msg(strstr(r.out, "sysctl -w net.ipv4.tcp_keepalive_time=150 "), "%s", r.out);
	/* Kernel memory per idle connection is measured: a few KB on Linux 6.x. */
	p = strstr(r.out, "memory: ");
	ck_assert_ptr_nonnull(p);
	if (strstr(p, "KB of kernel memory per idle connection")) {
		ck_assert_int_eq(sscanf(p, "memory: %lf KB", &kb), 1);
		ck_assert_msg(kb >= 1 && kb <= 20, "%.1f KB per connection is implausible", kb);
	} else {
		ck_assert_msg(strstr(p, "not measured"), "%s", p);
	}
	sp_free(&r);

	lv(&r, "doctor", "--no-measure", "--connections", "100", "--budget", "2h30m", NULL);
	ck_assert_msg(r.status == 0, "doctor for 100 connections, 2h30m: status %d\n%s", r.status,
		      r.out);
	sp_free(&r);
}
END_TEST

/* mdoc escapes that appear in the recipes' literal blocks. */
static void unescape(char *s)
{
	static const char *const from[] = {"\\&", "\\e", "\\-", "\\(aq", "\\(dq"};
	static const char *const to[] = {"", "\\", "-", "'", "\""};
	size_t i;

	for (i = 0; i < sizeof(from) / sizeof(from[0]); i++) {
		char *p;
		while ((p = strstr(s, from[i]))) {
			size_t fl = strlen(from[i]), tl = strlen(to[i]);
			memmove(p + tl, p + fl, strlen(p + fl) + 1);
			memcpy(p, to[i], tl);
		}
	}
}

/* Does line match pattern, where "..." stands for any text? Both squeezed. */
static int glob(const char *pat, const char *line)
{
	const char *dots = strstr(pat, "...");
	size_t n = dots ? (size_t)(dots - pat) : strlen(pat);

	if (!dots)
		return strcmp(pat, line) == 0;
	if (strncmp(pat, line, n) != 0)
		return 0;
	for (line += n, pat = dots + 3; *pat == ' '; pat++)
		;
	for (;; line++) {
		if (glob(pat, line))
			return 1;
		if (!*line)
			return 0;
	}
}

/* Every quoted line (after the "$ " command line) matches an output line, in order. */
static void check_recipe(const char *cmd, char **quoted, int nq, int lineno)
{
	char buf[1024], *argv[16], *tok, *save = NULL, *p, *line;
	struct sp_result r;
	int n = 0, q = 0;

	snprintf(buf, sizeof(buf), "%s", cmd);
	for (tok = strtok_r(buf, " ", &save); tok && n < 15; tok = strtok_r(NULL, " ", &save)) {
		argv[n] = n == 0 && strcmp(tok, "liveness") == 0 ? liveness() : tok;
		n++;
	}
	argv[n] = NULL;
	sp_run(argv, NULL, RUN_TIMEOUT, &r);
	ck_assert_msg(r.status == 0 || (r.status == 1 && strcmp(argv[1], "doctor") == 0),
		      "liveness.7:%d: '%s' exited %d: %s", lineno, cmd, r.status, r.err);
	for (p = r.out; q < nq && *p;) {
		size_t len = strcspn(p, "\n");
		int last = p[len] == '\0';
		line = p;
		p[len] = '\0';
		p += len + !last;
		if (glob(quoted[q], squeeze(line)))
			q++;
	}
	ck_assert_msg(q == nq, "liveness.7:%d: '%s' no longer prints (in this order):\n  %s", lineno,
		      cmd, quoted[q]);
	sp_free(&r);
}

START_TEST(recipes_quote_what_the_commands_print)
{
	FILE *f = fopen("man/liveness.7", "re");
	char line[1024], *quoted[64], cmd[1024] = "";
	int lineno = 0, in_recipe = 0, in_block = 0, nq = 0, recipes = 0, i;

	ck_assert_msg(f, "man/liveness.7 not found (run the tests from the source tree)");
	/* Recipes that run `doctor` see this namespace's defaults, as on a fresh host. */
	if (!tu_netns("liveness(7) recipes")) {
		fclose(f);
		return;
	}
	while (fgets(line, sizeof(line), f)) {
		lineno++;
		line[strcspn(line, "\n")] = '\0';
		if (strncmp(line, ".\\\" recipe", 10) == 0) {
			in_recipe = 1;
			continue;
		}
		if (in_recipe && !in_block && strncmp(line, ".Bd -literal", 12) == 0) {
			in_block = 1;
			cmd[0] = '\0';
			nq = 0;
			continue;
		}
		if (in_block && strcmp(line, ".Ed") == 0) {
			ck_assert_msg(cmd[0], "liveness.7:%d: recipe block without '$ liveness ...'", lineno);
			check_recipe(cmd, quoted, nq, lineno);
			for (i = 0; i < nq; i++)
				free(quoted[i]);
			recipes++;
			in_block = in_recipe = 0;
			continue;
		}
		if (!in_block)
			continue;
		unescape(line);
		squeeze(line);
		if (!cmd[0]) {
			ck_assert_msg(strncmp(line, "$ liveness ", 11) == 0,
				      "liveness.7:%d: a recipe block starts with '$ liveness ...'", lineno);
			snprintf(cmd, sizeof(cmd), "%s", line + 2);
		} else if (line[0] && strcmp(line, "...") != 0) {
			ck_assert_int_lt(nq, 64);
			quoted[nq++] = strdup(line);
		}
	}
	fclose(f);
	ck_assert_msg(recipes >= 5, "liveness.7 has %d marked recipe blocks, want one per recipe",
		      recipes);
	printf("cli   liveness.7: %d recipe blocks match their commands' output\n", recipes);
}
END_TEST

START_TEST(man_pages_are_lint_clean)
{
	char *argv[] = {"mandoc", "-Tlint", "-W", "warning", "man/liveness.1", "man/liveness.7", NULL};
	struct sp_result r;

	sp_run(argv, NULL, RUN_TIMEOUT, &r);
	ck_assert_msg(r.status == 0, "mandoc -Tlint:\n%s%s", r.out, r.err);
	sp_free(&r);
}
END_TEST

Suite *cli_suite(void)
{
	Suite *s = suite_create("cli");
	TCase *tc = tcase_create("command");

	tcase_set_timeout(tc, 120);
	tcase_add_test(tc, plan_prints_what_the_library_plans);
	tcase_add_test(tc, a_budget_too_short_is_refused_with_the_reason);
	tcase_add_test(tc, bad_input_is_one_line_and_exit_2);
	tcase_add_test(tc, help_for_each_command);
	tcase_add_test(tc, run_sets_the_environment_and_keeps_the_exit_status);
	tcase_add_test(tc, doctor_reports_the_namespace_defaults);
	tcase_add_test(tc, recipes_quote_what_the_commands_print);
	tcase_add_test(tc, man_pages_are_lint_clean);
	suite_add_tcase(s, tc);
	return s;
}
