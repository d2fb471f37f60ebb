/*
 * liveness plan BUDGET: what liveness_tcp_plan() chooses for a budget and
 * what liveness_tcp_bound() says it guarantees, then the same settings in
 * every form an operator can apply them: socket options, a heartbeat
 * policy, sysctl lines, the shim's environment and C.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "duration.h"
#include "settings.h"

static const char plan_usage[] =
	"usage: liveness plan BUDGET\n"
	"\n"
	"Settings under which a silent peer is declared dead within BUDGET, idle or busy\n"
	"(liveness_tcp_plan), their worst cases (liveness_tcp_bound), a matching heartbeat,\n"
	"and the same settings as sysctl lines, as the shim's environment and as C.\n"
	"BUDGET is a duration such as 30s, 2m, 1h or 2500ms; the shortest is about 2.2 s.\n";

/*
 * A duration as C, in the largest unit liveness.h names that keeps it
 * whole: "30 * LIVENESS_SEC", "2500 * LIVENESS_MSEC", "7ULL".
 */
static const char *c_time(liveness_time t, char *buf, size_t len)
{
	liveness_time unit = lvt_duration_unit(t, LIVENESS_SEC, NULL);
	const char *name = unit == LIVENESS_SEC    ? "LIVENESS_SEC"
			   : unit == LIVENESS_MSEC ? "LIVENESS_MSEC"
			   : unit == LIVENESS_USEC ? "LIVENESS_USEC"
						   : NULL;

	if (name)
		snprintf(buf, len, "%llu * %s", (unsigned long long)(t / unit), name);
	else
		snprintf(buf, len, "%lluULL", (unsigned long long)t);
	return buf;
}

int lvt_plan_main(int argc, char **argv)
{
	struct liveness_tcp t;
	struct liveness_policy hb;
	liveness_time budget, interval, timeout, resolution;
	char why[300], shim[4096], a[32], b[32], c[32], d[40];
	int i, r;
	const char *text = NULL;

	for (i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
			fputs(plan_usage, stdout);
			return 0;
		}
		if (argv[i][0] == '-' && argv[i][1] != '\0')
			lvt_usage_error("plan: unknown option '%s' (liveness plan --help)", argv[i]);
		if (text)
			lvt_usage_error("plan: one budget only, got '%s' and '%s'", text, argv[i]);
		text = argv[i];
	}
	if (!text)
		lvt_usage_error("plan: a budget is needed, e.g. liveness plan 30s");
	if (lvt_budget(text, &budget, &t, why, sizeof(why)) < 0)
		lvt_usage_error("plan: %s", why);

	/*
	 * A heartbeat in the same budget: ping after a third of it, give up
	 * after nine tenths, and step the group every tenth, since a verdict
	 * may come one resolution tick after the timeout.
	 */
	interval = budget / 3 / LIVENESS_MSEC * LIVENESS_MSEC;
	timeout = budget / 10 * 9 / LIVENESS_MSEC * LIVENESS_MSEC;
	resolution = budget - timeout;
	if ((r = liveness_policy_init(&hb, interval, timeout)) < 0)
		lvt_usage_error("plan: heartbeat policy: %s", liveness_strerror(r));

	printf("plan for a budget of %s: a silent peer is declared dead within it, idle or busy\n",
	       lvt_fmt_sec(budget, a, sizeof(a)));

	printf("\nsocket options (each TCP socket; accepted sockets inherit them from the listener)\n");
	printf("  SO_KEEPALIVE      %d\n", t.keepalive);
	printf("  TCP_KEEPIDLE      %d s\n", t.idle);
	printf("  TCP_KEEPINTVL     %d s\n", t.interval);
	printf("  TCP_KEEPCNT       %d\n", t.count);
	printf("  TCP_USER_TIMEOUT  %u ms\n", t.user_timeout);

	printf("\nworst case (liveness_tcp_bound)  nominal     with timer lateness\n");
	printf("  idle: probes unanswered        %-11s %s\n",
	       lvt_fmt_sec(liveness_tcp_bound(&t, LIVENESS_IDLE | LIVENESS_NOMINAL), a, sizeof(a)),
	       lvt_fmt_sec(liveness_tcp_bound(&t, LIVENESS_IDLE), b, sizeof(b)));
	printf("  busy: data unacknowledged      %-11s %s\n",
	       lvt_fmt_sec(liveness_tcp_bound(&t, LIVENESS_BUSY | LIVENESS_NOMINAL), a, sizeof(a)),
	       lvt_fmt_sec(liveness_tcp_bound(&t, LIVENESS_BUSY), b, sizeof(b)));

	printf("\nheartbeat in the application (liveness_policy_init, liveness_group_init)\n");
	printf("  interval          %s\n", lvt_fmt_sec(hb.interval, a, sizeof(a)));
	printf("  timeout           %s\n", lvt_fmt_sec(hb.timeout, a, sizeof(a)));
	printf("  retry             %s\n", lvt_fmt_sec(hb.retry, a, sizeof(a)));
	printf("  group resolution  %s: dead within timeout + resolution = %s\n",
	       lvt_fmt_sec(resolution, a, sizeof(a)), lvt_fmt_sec(timeout + resolution, b, sizeof(b)));

	printf("\nsysctl: defaults for sockets that turn SO_KEEPALIVE on and set nothing else\n");
	printf("  net.ipv4.tcp_keepalive_time = %d\n", t.idle);
	printf("  net.ipv4.tcp_keepalive_intvl = %d\n", t.interval);
	printf("  net.ipv4.tcp_keepalive_probes = %d\n", t.count);
	printf("  # no sysctl turns keepalive on or sets TCP_USER_TIMEOUT: use the shim or C\n");

	r = lvt_shim_path(shim, sizeof(shim));
	printf("\nshim: liveness run --budget %s -- PROGRAM [ARG ...], or this environment\n",
	       lvt_fmt_duration(budget, d, sizeof(d)));
	printf("  LD_PRELOAD=%s%s\n", shim, r < 0 ? "  (not installed yet)" : "");
	printf("  LIVENESS_BUDGET=%s\n", lvt_fmt_duration(budget, d, sizeof(d)));
	printf("  or explicitly: LIVENESS_KEEPALIVE=%d:%d:%d LIVENESS_USER_TIMEOUT=%u\n", t.idle,
	       t.interval, t.count, t.user_timeout);

	printf("\nC with libliveness (cc ... $(pkg-config --cflags --libs liveness))\n");
	printf("  struct liveness_tcp t;\n");
	printf("  liveness_tcp_plan(&t, %s);\n", c_time(budget, a, sizeof(a)));
	printf("  liveness_tcp_set(fd, &t);\n");
	printf("  liveness_policy_init(&policy, %s, %s);\n", c_time(hb.interval, a, sizeof(a)),
	       c_time(hb.timeout, b, sizeof(b)));
	printf("  liveness_group_init(&group, %s, liveness_now());\n",
	       c_time(resolution, c, sizeof(c)));

	printf("\nC without it (<netinet/tcp.h>)\n");
	printf("  int on = 1, idle = %d, intvl = %d, cnt = %d;\n", t.idle, t.interval, t.count);
	printf("  unsigned int timeout = %u;\n", t.user_timeout);
	printf("  setsockopt(fd, SOL_SOCKET, SO_KEEPALIVE, &on, sizeof(on));\n");
	printf("  setsockopt(fd, IPPROTO_TCP, TCP_KEEPIDLE, &idle, sizeof(idle));\n");
	printf("  setsockopt(fd, IPPROTO_TCP, TCP_KEEPINTVL, &intvl, sizeof(intvl));\n");
	printf("  setsockopt(fd, IPPROTO_TCP, TCP_KEEPCNT, &cnt, sizeof(cnt));\n");
	printf("  setsockopt(fd, IPPROTO_TCP, TCP_USER_TIMEOUT, &timeout, sizeof(timeout));\n");
	return 0;
}
