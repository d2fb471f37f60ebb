/*
 * liveness plan BUDGET: what liveness_tcp_plan() chooses for a budget and
 * what liveness_tcp_bound() says it guarantees, then the same settings in
 * every form an operator can apply them: socket options, a heartbeat
 * policy, sysctl lines, the shim's environment, a systemd drop-in and C.
 * With --keepalive and --user-timeout instead of a budget it states the
 * worst cases of settings chosen by hand. --json prints the same as one
 * JSON object (liveness(1) documents its keys).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "duration.h"
#include "json.h"
#include "settings.h"

static const char plan_usage[] =
	"usage: liveness plan [--json | --systemd] [--] BUDGET\n"
	"       liveness plan [--json | --systemd] [--keepalive IDLE:INTERVAL:COUNT]\n"
	"                     [--user-timeout MS]\n"
	"\n"
	"Settings under which a silent peer is declared dead within BUDGET, idle or busy\n"
	"(liveness_tcp_plan), their worst cases (liveness_tcp_bound), a matching heartbeat,\n"
	"and the same settings as sysctl lines, as the shim's environment and as C.\n"
	"BUDGET is a duration such as 30s, 2m, 1h or 2500ms (or --budget BUDGET); the\n"
	"shortest is about 2.2 s. With --keepalive and/or --user-timeout instead, the worst\n"
	"cases of those settings, the others as a new socket has them here.\n"
	"--json prints one JSON object; --systemd a drop-in that runs a service under the\n"
	"shim (systemctl edit UNIT).\n";

/*
 * The heartbeat's values are whole hundredths of a second, so the seconds
 * printed (to the hundredth) are the values themselves.
 */
#define HB_GRAIN (10 * LIVENESS_MSEC)

/* What was asked for and what it comes to. */
struct plan {
	const char *budget_text, *keepalive_text, *user_timeout_text;
	int has_budget;
	liveness_time budget;
	struct liveness_tcp t;
	liveness_time idle_nominal, idle, busy_nominal, busy; /* liveness_tcp_bound() */
	struct liveness_policy hb;			      /* with a budget only */
	liveness_time resolution;
	char shim[4096];
	int shim_found;
	char env_budget[40]; /* LIVENESS_BUDGET's value, with a budget */
};

/*
 * A duration as C, in the largest unit liveness.h names that keeps it
 * whole: "30 * LIVENESS_SEC", "2500 * LIVENESS_MSEC", "7ULL".
 */
static const char *c_time(liveness_time t, char *buf, size_t len)
{
	liveness_time unit = lvt_duration_unit(t, LIVENESS_SEC, NULL);
	const char *name = unit == LIVENESS_SEC	   ? "LIVENESS_SEC"
			   : unit == LIVENESS_MSEC ? "LIVENESS_MSEC"
			   : unit == LIVENESS_USEC ? "LIVENESS_USEC"
						   : NULL;

	if (name)
		snprintf(buf, len, "%llu * %s", (unsigned long long)(t / unit), name);
	else
		snprintf(buf, len, "%lluULL", (unsigned long long)t);
	return buf;
}

/*
 * A heartbeat for the plan. A ping every interval keeps the connection
 * busy, so keepalive never fires, and once a ping goes unanswered the data
 * in flight starts TCP_USER_TIMEOUT from that ping: a heartbeat timeout
 * longer than the user timeout would never be the one that ends the
 * connection. So the heartbeat decides every death within the budget: its
 * timeout is the user timeout (rounded down to the grain), it pings after
 * a third of the budget, and the group steps at a resolution that keeps
 * timeout + resolution, the latest verdict of a loop that wakes on time,
 * within the budget; liveness_group_add() also wants the resolution no
 * longer than the policy's retry. The socket options remain the backstop:
 * a stalled loop, a connection before its first ping.
 */
static void plan_heartbeat(struct plan *p)
{
	liveness_time timeout =
		(liveness_time)p->t.user_timeout * LIVENESS_MSEC / HB_GRAIN * HB_GRAIN;
	liveness_time interval = p->budget / 3 / HB_GRAIN * HB_GRAIN, resolution;
	int r;

	if (interval > timeout)
		interval = timeout;
	if ((r = liveness_policy_init(&p->hb, interval, timeout)) < 0)
		lvt_usage_error("plan: heartbeat policy: %s", liveness_strerror(r));
	resolution = p->budget - timeout < p->hb.retry ? p->budget - timeout : p->hb.retry;
	if (resolution >= HB_GRAIN)
		resolution = resolution / HB_GRAIN * HB_GRAIN;
	p->resolution = resolution;
}

/* Parse the arguments into *p, or exit 2 with one line. */
static void parse(struct plan *p, int argc, char **argv, int *json, int *systemd)
{
	const char *v;
	char why[300];
	int i, options = 1;

	for (i = 1; i < argc; i++) {
		const char *a = argv[i];
		const char *budget = NULL;

		if (options && strcmp(a, "--") == 0) {
			options = 0;
			continue;
		}
		if (options && (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0)) {
			fputs(plan_usage, stdout);
			exit(0);
		}
		if (options && strcmp(a, "--json") == 0)
			*json = 1;
		else if (options && strcmp(a, "--systemd") == 0)
			*systemd = 1;
		else if (options && (v = lvt_option(argc, argv, &i, "--budget")))
			budget = v;
		else if (options && (v = lvt_option(argc, argv, &i, "--keepalive")))
			p->keepalive_text = v;
		else if (options && (v = lvt_option(argc, argv, &i, "--user-timeout")))
			p->user_timeout_text = v;
		/* "-5s" is a budget, and the parser says why it is not one. */
		else if (options && a[0] == '-' && a[1] != '\0' && !(a[1] >= '0' && a[1] <= '9') &&
			 a[1] != '.')
			lvt_usage_error("plan: unknown option '%s' (liveness plan --help)", a);
		else
			budget = a;
		if (budget && p->budget_text)
			lvt_usage_error("plan: one budget only, got '%s' and '%s'", p->budget_text,
					budget);
		if (budget)
			p->budget_text = budget;
	}
	if (*json && *systemd)
		lvt_usage_error("plan: --json and --systemd print different things: give one");
	if (p->budget_text && (p->keepalive_text || p->user_timeout_text))
		lvt_usage_error("plan: a budget plans keepalive and user timeout itself; give it "
				"alone, or --keepalive and --user-timeout");
	if (!p->budget_text && !p->keepalive_text && !p->user_timeout_text)
		lvt_usage_error("plan: a budget is needed, e.g. liveness plan 30s (or --keepalive "
				"and --user-timeout)");
	if (p->budget_text) {
		if (lvt_budget(p->budget_text, &p->budget, &p->t, why, sizeof(why)) < 0)
			lvt_usage_error("plan: %s", why);
		p->has_budget = 1;
		lvt_fmt_duration(p->budget, p->env_budget, sizeof(p->env_budget));
		plan_heartbeat(p);
	} else {
		/* What the shim makes of a new socket here: lvt_settings_plan() on its defaults. */
		struct lvt_settings s;
		struct liveness_tcp sys = {0, 7200, 75, 9, 0, -1}; /* the kernel's, if unreadable */
		int r;

		memset(&s, 0, sizeof(s));
		if (p->keepalive_text &&
		    lvt_parse_keepalive(p->keepalive_text, &s.idle, &s.interval, &s.count, why,
					sizeof(why)) < 0)
			lvt_usage_error("plan: --keepalive: %s", why);
		if (p->user_timeout_text &&
		    lvt_parse_user_timeout(p->user_timeout_text, &s.user_timeout, why,
					   sizeof(why)) < 0)
			lvt_usage_error("plan: --user-timeout: %s", why);
		s.has_keepalive = p->keepalive_text != NULL;
		s.has_user_timeout = p->user_timeout_text != NULL;
		if ((r = liveness_tcp_system(&sys)) < 0)
			fprintf(stderr,
				"liveness: plan: cannot read this system's keepalive "
				"defaults (%s): assuming the kernel's\n",
				liveness_strerror(r));
		lvt_settings_plan(&s, &sys, &p->t);
	}
	p->idle_nominal = liveness_tcp_bound(&p->t, LIVENESS_IDLE | LIVENESS_NOMINAL);
	p->idle = liveness_tcp_bound(&p->t, LIVENESS_IDLE);
	p->busy_nominal = liveness_tcp_bound(&p->t, LIVENESS_BUSY | LIVENESS_NOMINAL);
	p->busy = liveness_tcp_bound(&p->t, LIVENESS_BUSY);
	p->shim_found = lvt_shim_path(p->shim, sizeof(p->shim)) == 0;
}

/* The shim's variables, as "NAME=value" lines after prefix. */
static void print_environment(const struct plan *p, const char *prefix)
{
	if (p->has_budget) {
		printf("%sLIVENESS_BUDGET=%s\n", prefix, p->env_budget);
		return;
	}
	if (p->keepalive_text)
		printf("%sLIVENESS_KEEPALIVE=%d:%d:%d\n", prefix, p->t.idle, p->t.interval,
		       p->t.count);
	if (p->user_timeout_text)
		printf("%sLIVENESS_USER_TIMEOUT=%u\n", prefix, p->t.user_timeout);
}

/* The arguments of `liveness run` for the same settings. */
static const char *run_args(const struct plan *p, char *buf, size_t len)
{
	if (p->has_budget) {
		snprintf(buf, len, "--budget %s", p->env_budget);
	} else {
		char ka[48] = "", ut[40] = "";
		if (p->keepalive_text)
			snprintf(ka, sizeof(ka), "--keepalive %d:%d:%d", p->t.idle, p->t.interval,
				 p->t.count);
		if (p->user_timeout_text)
			snprintf(ut, sizeof(ut), "--user-timeout %u", p->t.user_timeout);
		snprintf(buf, len, "%s%s%s", ka, ka[0] && ut[0] ? " " : "", ut);
	}
	return buf;
}

/*
 * A systemd drop-in. The path goes into LD_PRELOAD, which the dynamic
 * linker splits at spaces and colons with no escape (ld.so(8)), through
 * systemd's Environment=, which splits at blanks, unquotes and unescapes,
 * and expands % specifiers: a path with a separator, a quote or a
 * backslash cannot pass both, and a % is doubled.
 */
static void print_systemd(const struct plan *p)
{
	const char *c;
	char args[100];

	if (!p->shim_found)
		lvt_usage_error("plan: --systemd: the shim %s is not installed: make install, or "
				"set LIVENESS_PRELOAD to it",
				p->shim);
	if (strpbrk(p->shim, " \t\n:\"'\\"))
		lvt_usage_error(
			"plan: --systemd: the shim's path %s holds a blank, colon, quote or "
			"backslash, which LD_PRELOAD or systemd would split",
			p->shim);
	printf("# A systemd drop-in: every TCP socket of the service under the liveness shim,\n"
	       "# as 'liveness run %s' would run it. Put it in place with\n"
	       "# 'systemctl edit UNIT' (paste these lines), or save it as\n"
	       "# /etc/systemd/system/UNIT.service.d/liveness.conf and run\n"
	       "# 'systemctl daemon-reload'; then restart the service. It replaces an\n"
	       "# LD_PRELOAD the unit sets: add that one after the shim, with a colon.\n"
	       "[Service]\n"
	       "Environment=LD_PRELOAD=",
	       run_args(p, args, sizeof(args)));
	for (c = p->shim; *c; c++) {
		if (*c == '%')
			putchar('%');
		putchar(*c);
	}
	putchar('\n');
	print_environment(p, "Environment=");
}

/* Returns 0, or -1 if the JSON could not be written whole. */
static int print_json(const struct plan *p)
{
	struct lvt_json j;

	lvt_json_start(&j, stdout, 1, "plan");
	if (p->has_budget)
		lvt_json_uint(&j, "budget_ns", p->budget);
	else
		lvt_json_null(&j, "budget_ns");
	lvt_json_bool(&j, "keepalive", p->t.keepalive);
	lvt_json_uint(&j, "idle_s", (unsigned)p->t.idle);
	lvt_json_uint(&j, "interval_s", (unsigned)p->t.interval);
	lvt_json_uint(&j, "count", (unsigned)p->t.count);
	lvt_json_uint(&j, "user_timeout_ms", p->t.user_timeout);
	lvt_json_ns(&j, "bound_idle_nominal_ns", p->idle_nominal);
	lvt_json_ns(&j, "bound_idle_ns", p->idle);
	lvt_json_ns(&j, "bound_busy_nominal_ns", p->busy_nominal);
	lvt_json_ns(&j, "bound_busy_ns", p->busy);
	if (p->has_budget) {
		lvt_json_object(&j, "heartbeat");
		lvt_json_uint(&j, "interval_ns", p->hb.interval);
		lvt_json_uint(&j, "timeout_ns", p->hb.timeout);
		lvt_json_uint(&j, "retry_ns", p->hb.retry);
		lvt_json_uint(&j, "resolution_ns", p->resolution);
		lvt_json_uint(&j, "verdict_within_ns", p->hb.timeout + p->resolution);
		lvt_json_close(&j);
	} else {
		lvt_json_null(&j, "heartbeat");
	}
	lvt_json_object(&j, "shim");
	lvt_json_str(&j, "path", p->shim);
	lvt_json_bool(&j, "found", p->shim_found);
	lvt_json_close(&j);
	lvt_json_object(&j, "environment");
	if (p->has_budget) {
		lvt_json_str(&j, "LIVENESS_BUDGET", p->env_budget);
	} else {
		char v[40];
		snprintf(v, sizeof(v), "%d:%d:%d", p->t.idle, p->t.interval, p->t.count);
		if (p->keepalive_text)
			lvt_json_str(&j, "LIVENESS_KEEPALIVE", v);
		snprintf(v, sizeof(v), "%u", p->t.user_timeout);
		if (p->user_timeout_text)
			lvt_json_str(&j, "LIVENESS_USER_TIMEOUT", v);
	}
	lvt_json_close(&j);
	return lvt_json_finish(&j) < 0 ? -1 : 0;
}

static void print_heartbeat(const struct plan *p)
{
	char a[32], b[64];

	printf("\nheartbeat in the application (liveness_policy_init, liveness_group_new)\n");
	printf("  interval          %-12s ping after this long without a sign of life\n",
	       lvt_fmt_sec(p->hb.interval, a, sizeof(a)));
	printf("  timeout           %-12s dead after this long without one; at most the user "
	       "timeout\n",
	       lvt_fmt_sec(p->hb.timeout, a, sizeof(a)));
	printf("  retry             %-12s ping again this often while a ping goes unanswered\n",
	       lvt_fmt_sec(p->hb.retry, a, sizeof(a)));
	printf("  group resolution  %-12s the group's tick: a verdict comes up to one tick late\n",
	       lvt_fmt_sec(p->resolution, a, sizeof(a)));
	printf("  dead within timeout + resolution = %s, plus however late the loop wakes\n",
	       lvt_fmt_long(p->hb.timeout + p->resolution, b, sizeof(b)));
	printf("  Pings keep the connection busy, so keepalive never fires, and an unanswered\n"
	       "  ping starts TCP_USER_TIMEOUT: with this timeout the heartbeat decides every\n"
	       "  death; the socket options remain the backstop (a stalled loop, a connection\n"
	       "  before its first ping).\n");
}

static void print_text(const struct plan *p)
{
	char a[64], b[32], c[32], args[100];

	if (p->has_budget)
		printf("plan for a budget of %s: a silent peer is declared dead within it, idle or "
		       "busy\n",
		       lvt_fmt_long(p->budget, a, sizeof(a)));
	else
		printf("settings given: %s%s\n", run_args(p, args, sizeof(args)),
		       p->keepalive_text && p->user_timeout_text
			       ? ""
			       : "; the others as a new socket has them here");

	printf("\nsocket options (each TCP socket; accepted sockets inherit them from the "
	       "listener)\n");
	printf("  SO_KEEPALIVE      %d\n", p->t.keepalive);
	printf("  TCP_KEEPIDLE      %d s\n", p->t.idle);
	printf("  TCP_KEEPINTVL     %d s\n", p->t.interval);
	printf("  TCP_KEEPCNT       %d\n", p->t.count);
	printf("  TCP_USER_TIMEOUT  %u ms\n", p->t.user_timeout);

	printf("\nworst case (liveness_tcp_bound)  nominal     with timer lateness\n");
	printf("  idle: probes unanswered        %-11s %s\n",
	       lvt_fmt_sec(p->idle_nominal, a, sizeof(a)), lvt_fmt_sec(p->idle, b, sizeof(b)));
	printf("  busy: data unacknowledged      %-11s %s\n",
	       lvt_fmt_sec(p->busy_nominal, a, sizeof(a)), lvt_fmt_sec(p->busy, b, sizeof(b)));
	if (!p->t.keepalive)
		printf("  keepalive off: an idle connection to a vanished peer is never ended\n");
	if (p->t.user_timeout == 0)
		printf("  no TCP_USER_TIMEOUT: a busy connection ends when net.ipv4.tcp_retries2 "
		       "runs out, after %s (%s worst)\n",
		       lvt_fmt_sec(p->busy_nominal, a, sizeof(a)),
		       lvt_fmt_sec(p->busy, b, sizeof(b)));

	if (p->has_budget) {
		print_heartbeat(p);
		printf("\nsysctl: defaults for sockets that turn SO_KEEPALIVE on and set nothing "
		       "else\n");
		printf("  net.ipv4.tcp_keepalive_time = %d\n", p->t.idle);
		printf("  net.ipv4.tcp_keepalive_intvl = %d\n", p->t.interval);
		printf("  net.ipv4.tcp_keepalive_probes = %d\n", p->t.count);
		printf("  # no sysctl turns keepalive on or sets TCP_USER_TIMEOUT: use the shim or "
		       "C\n");
	}

	printf("\nshim: liveness run %s -- PROGRAM [ARG ...], or this environment\n",
	       run_args(p, args, sizeof(args)));
	printf("  LD_PRELOAD=%s%s\n", p->shim, p->shim_found ? "" : "  (not installed yet)");
	print_environment(p, "  ");
	if (p->has_budget)
		printf("  or explicitly: LIVENESS_KEEPALIVE=%d:%d:%d LIVENESS_USER_TIMEOUT=%u\n",
		       p->t.idle, p->t.interval, p->t.count, p->t.user_timeout);
	printf("  for a systemd service: liveness plan %s --systemd\n",
	       run_args(p, args, sizeof(args)));
	if (!p->has_budget)
		return;

	printf("\nC with libliveness (cc ... $(pkg-config --cflags --libs liveness))\n");
	printf("  struct liveness_tcp t;\n");
	printf("  liveness_tcp_plan(&t, %s);\n", c_time(p->budget, a, sizeof(a)));
	printf("  liveness_tcp_set(fd, &t);\n");
	printf("  liveness_policy_init(&policy, %s, %s);\n", c_time(p->hb.interval, a, sizeof(a)),
	       c_time(p->hb.timeout, b, sizeof(b)));
	printf("  liveness_group_new(&group, %s, liveness_now());\n",
	       c_time(p->resolution, c, sizeof(c)));

	printf("\nC without it (<netinet/tcp.h>)\n");
	printf("  int on = 1, idle = %d, intvl = %d, cnt = %d;\n", p->t.idle, p->t.interval,
	       p->t.count);
	printf("  unsigned int timeout = %u;\n", p->t.user_timeout);
	printf("  setsockopt(fd, SOL_SOCKET, SO_KEEPALIVE, &on, sizeof(on));\n");
	printf("  setsockopt(fd, IPPROTO_TCP, TCP_KEEPIDLE, &idle, sizeof(idle));\n");
	printf("  setsockopt(fd, IPPROTO_TCP, TCP_KEEPINTVL, &intvl, sizeof(intvl));\n");
	printf("  setsockopt(fd, IPPROTO_TCP, TCP_KEEPCNT, &cnt, sizeof(cnt));\n");
	printf("  setsockopt(fd, IPPROTO_TCP, TCP_USER_TIMEOUT, &timeout, sizeof(timeout));\n");
}

int lvt_plan_main(int argc, char **argv)
{
	static struct plan p;
	int json = 0, systemd = 0;

	parse(&p, argc, argv, &json, &systemd);
	if (json)
		return print_json(&p) < 0 ? lvt_output_failed("plan") : 0;
	if (systemd)
		print_systemd(&p);
	else
		print_text(&p);
	return 0;
}
