/*
 * The examples run against real peers, each test in its own network
 * namespace: the redis client against a real redis-server that is hung
 * (SIGSTOP) and killed; the epoll server under as many connections as the
 * per-process descriptor limit allows, some of whose clients are killed,
 * frozen or cut off by nftables; the select, poll, libuv and libevent
 * programs against the epoll server.
 *
 * The examples are separate programs, found under examples/ of the
 * runner's own build directory (sp_build(): $LIVENESS_BUILD, else the one
 * the runner was built in), so these tests read what they print: one line
 * per event, with CLOCK_MONOTONIC timestamps comparable with liveness_now()
 * here. Before a program first runs, its -h output is read for how it was
 * built: a runner built with AddressSanitizer runs only examples built with
 * it, so that a sanitized test run exercises sanitized code throughout.
 * Nothing sleeps: every wait is a poll() on the children's output with a
 * deadline. Children die with the test (PR_SET_PDEATHSIG) and are killed
 * and reaped at its end.
 */
#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "args.h"
#include "child.h"
#include "liveness.h"
#include "util.h"

#define S LIVENESS_SEC
#define MS LIVENESS_MSEC

/* ---- children and their output ------------------------------------------ */

struct child {
	const char *name;
	pid_t pid;
	int out; /* read end of its stdout; -1 at EOF */
	char buf[1 << 16];
	size_t len;
};

#define MAX_CHILDREN 16
static struct child *children[MAX_CHILDREN];
static int nchildren;

/* Kill and reap every child still running: at the end of a test and at exit. */
static void kill_children(void)
{
	for (int i = 0; i < nchildren; i++) {
		struct child *c = children[i];
		if (c->pid > 0) {
			kill(c->pid, SIGKILL);
			waitpid(c->pid, NULL, 0);
			c->pid = 0;
		}
		if (c->out >= 0)
			close(c->out);
		c->out = -1;
	}
	nchildren = 0;
}

/* Run path with argv; its stdout comes to us, its stderr goes to ours. */
static void spawn(struct child *c, const char *path, char *const argv[])
{
	static int registered;
	int p[2];
	pid_t parent = getpid();

	if (!registered) {
		atexit(kill_children);
		registered = 1;
	}
	ck_assert_int_lt(nchildren, MAX_CHILDREN);
	ck_assert_msg(access(path, X_OK) == 0, "%s: %s (build the examples: make all)", path,
		      strerror(errno));
	ck_assert_int_eq(pipe2(p, O_CLOEXEC), 0);
	/* Room for bursts of log lines (thousands of verdicts in one tick) while we
	 * are busy elsewhere: a full pipe would stall the child and skew its times. */
	fcntl(p[0], F_SETPIPE_SZ, 1 << 20);
	c->name = argv[0];
	c->len = 0;
	c->pid = fork();
	ck_assert_int_ge(c->pid, 0);
	if (c->pid == 0) {
		/* Die with the test, however it ends (a failed check, a timeout). */
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		if (getppid() != parent)
			_exit(127);
		dup2(p[1], STDOUT_FILENO);
		execv(path, argv);
		_exit(127);
	}
	close(p[1]);
	c->out = p[0];
	children[nchildren++] = c;
}

/*
 * The example at path says how it was built in its -h output (args.h), and
 * ARGS_ASAN says the same of this runner: one built with AddressSanitizer
 * must run examples built with it. Each program is asked once.
 */
static void check_build(const char *path)
{
	static char checked[MAX_CHILDREN][512];
	static int nchecked;
	char *argv[] = {(char *)path, "-h", NULL};
	struct sp_result r;
	const char *line;

	for (int i = 0; i < nchecked; i++)
		if (strcmp(checked[i], path) == 0)
			return;
	sp_run(argv, NULL, 10 * S, &r);
	ck_assert_msg(r.status == 0, "%s -h: status %d, %s", path, r.status, r.err);
	line = strstr(r.out, "built with AddressSanitizer: ");
	ck_assert_msg(line != NULL, "%s -h does not say how it was built:\n%s", path, r.out);
	line += strlen("built with AddressSanitizer: ");
	ck_assert_msg(!ARGS_ASAN || strncmp(line, "yes\n", 4) == 0,
		      "%s was built without AddressSanitizer, this runner with it: build the "
		      "examples with SANITIZE=1, or point LIVENESS_BUILD at such a build",
		      path);
	ck_assert_msg(strncmp(line, "yes\n", 4) == 0 || strncmp(line, "no\n", 3) == 0, "%s -h: %s",
		      path, r.out);
	sp_free(&r);
	if (nchecked < MAX_CHILDREN)
		snprintf(checked[nchecked++], sizeof(checked[0]), "%s", path);
}

static void spawn_example(struct child *c, char *const argv[])
{
	char path[512];

	snprintf(path, sizeof(path), "%s/examples/%s", sp_build(), argv[0]);
	ck_assert_msg(access(path, X_OK) == 0, "%s: %s (build the examples: make all)", path,
		      strerror(errno));
	check_build(path);
	spawn(c, path, argv);
}

/* Take one complete line out of c's buffer, if there is one. */
static int take_line(struct child *c, char *line, size_t size)
{
	char *nl = memchr(c->buf, '\n', c->len);
	size_t n;

	if (nl == NULL)
		return 0;
	n = (size_t)(nl - c->buf);
	snprintf(line, size, "%.*s", (int)n, c->buf);
	memmove(c->buf, nl + 1, c->len - n - 1);
	c->len -= n + 1;
	return 1;
}

/*
 * The next line any of cs[0..n) prints, waiting until deadline. Returns the
 * index of the child, or -1 on timeout.
 */
static int next_line(struct child **cs, int n, liveness_time deadline, char *line, size_t size)
{
	for (;;) {
		struct pollfd p[MAX_CHILDREN];
		liveness_time now;
		int r;

		for (int i = 0; i < n; i++)
			if (take_line(cs[i], line, size))
				return i;
		for (int i = 0; i < n; i++)
			p[i] = (struct pollfd){.fd = cs[i]->out, .events = POLLIN};
		now = liveness_now();
		if (now >= deadline)
			return -1;
		r = poll(p, (nfds_t)n, liveness_poll_timeout(deadline, now));
		ck_assert(r >= 0 || errno == EINTR);
		for (int i = 0; i < n && r > 0; i++) {
			struct child *c = cs[i];
			ssize_t got;
			if (!(p[i].revents & (POLLIN | POLLHUP | POLLERR)))
				continue;
			ck_assert_msg(c->len < sizeof(c->buf), "%s: line too long", c->name);
			got = read(c->out, c->buf + c->len, sizeof(c->buf) - c->len);
			if (got <= 0) {
				int st = 0;
				waitpid(c->pid, &st, 0);
				c->pid = 0;
				ck_abort_msg("%s exited unexpectedly: %s %d", c->name,
					     WIFSIGNALED(st) ? "signal" : "status",
					     WIFSIGNALED(st) ? WTERMSIG(st) : WEXITSTATUS(st));
			}
			c->len += (size_t)got;
		}
	}
}

/*
 * Wait for a line of c containing want, within limit; returns the time it
 * came. Lines containing reject on the way fail the test (NULL: none).
 */
static liveness_time expect_line(struct child *c, const char *want, const char *reject,
				 liveness_time limit, char *line, size_t size)
{
	liveness_time deadline = liveness_now() + limit;

	for (;;) {
		int i = next_line(&c, 1, deadline, line, size);
		ck_assert_msg(i == 0, "%s: no \"%s\" within %.1f s", c->name, want, limit / 1e9);
		ck_assert_msg(reject == NULL || strstr(line, reject) == NULL,
			      "%s: unexpected \"%s\"", c->name, line);
		if (strstr(line, want) != NULL)
			return liveness_now();
	}
}

/* Value of "key=" in a line of key=value words, or fail. */
static unsigned long long field(const char *line, const char *key)
{
	char k[64];
	const char *p;

	snprintf(k, sizeof(k), " %s=", key);
	p = strstr(line, k);
	ck_assert_msg(p != NULL, "no %s in \"%s\"", key, line);
	return strtoull(p + strlen(k), NULL, 10);
}

static enum liveness_cause cause_of(const char *line)
{
	const char *p = strstr(line, "cause=");

	ck_assert_msg(p != NULL, "no cause in \"%s\"", line);
	p += strlen("cause=");
	for (int c = LIVENESS_ALIVE; c <= LIVENESS_VANISHED; c++) {
		const char *name = liveness_cause_name((enum liveness_cause)c);
		size_t n = strlen(name);
		if (strncmp(p, name, n) == 0 && (p[n] == ' ' || p[n] == '\0'))
			return (enum liveness_cause)c;
	}
	ck_abort_msg("unknown cause in \"%s\"", line);
	return LIVENESS_ALIVE;
}

/* A client of a healthy server: connected, then three pongs, and no verdict on the way. */
static void expect_healthy(struct child *c, char *line, size_t size)
{
	expect_line(c, "connected", "verdict", 5 * S, line, size);
	for (int k = 0; k < 3; k++)
		expect_line(c, "pong", "verdict", 2 * S, line, size);
}

/*
 * c's verdict on a peer frozen (SIGSTOP) at stop_at, whose kernel still
 * ACKs: a heartbeat timeout, after at least timeout of silence, and within
 * bound of both the last proof of life and the freeze. what names the
 * program and the case in the line printed.
 */
static void expect_hung_verdict(struct child *c, const char *what, liveness_time stop_at,
				liveness_time timeout, liveness_time bound)
{
	char line[512];
	liveness_time silent, at;
	enum liveness_cause why;

	expect_line(c, "verdict", NULL, bound + 2 * S, line, sizeof(line));
	why = cause_of(line);
	silent = field(line, "silent_ms") * MS;
	at = field(line, "at_ns");
	printf("%-30s cause %-18s after %.3f s, silent %.3f s; bound %.3f s\n", what,
	       liveness_cause_name(why), (at - stop_at) / 1e9, silent / 1e9, bound / 1e9);
	ck_assert_int_eq(why, LIVENESS_HEARTBEAT_TIMEOUT);
	ck_assert_uint_ge(silent, timeout); /* never early */
	ck_assert_uint_le(silent, bound);
	ck_assert_uint_le(at - stop_at, bound);
}

static void setup(void)
{
	kill_children(); /* left over by a failed test when CK_FORK=no */
}

static void teardown(void)
{
	kill_children();
}

/* ---- redis ----------------------------------------------------------------- */

#define REDIS_PORT "6390"
#define REDIS_INTERVAL (500 * MS)
#define REDIS_TIMEOUT (2000 * MS)
/* The redis example steps one heartbeat in a poll() loop: its tick is poll's millisecond. */
#define REDIS_TICK MS
/* Margin for scheduling on a quiet machine, on top of timeout + tick. */
#define REDIS_MARGIN (50 * MS)
/* A FIN or RST needs one loopback round trip. */
#define RTT_BUDGET (100 * MS)

static const char *find_redis(void)
{
	static const char *paths[] = {"/usr/bin/redis-server", "/usr/local/bin/redis-server",
				      "/usr/sbin/redis-server"};

	for (size_t i = 0; i < sizeof(paths) / sizeof(paths[0]); i++)
		if (access(paths[i], X_OK) == 0)
			return paths[i];
	return NULL;
}

START_TEST(redis_hung_and_killed_server)
{
	static struct child server, client;
	char *srv_argv[] = {"redis-server", "--port",	   REDIS_PORT, "--bind",
			    "127.0.0.1",    "--save",	   "",	       "--appendonly",
			    "no",	    "--daemonize", "no",       "--dir",
			    "/tmp",	    "--loglevel",  "notice",   NULL};
	char *cli_argv[] = {"redis", "-i", "500", "-t", "2000", "127.0.0.1", REDIS_PORT, NULL};
	const char *redis = find_redis();
	char line[512];
	int pongs = 0;
	liveness_time t, healthy_until, stop_at, kill_at, at;
	enum liveness_cause cause;

	if (!tu_netns("redis example"))
		return;
	if (redis == NULL) {
		printf("SKIP redis example: redis-server not installed (apt-get install "
		       "redis-server)\n");
		return;
	}
	spawn(&server, redis, srv_argv);
	expect_line(&server, "Ready to accept connections", NULL, 10 * S, line, sizeof(line));
	spawn_example(&client, cli_argv);
	expect_line(&client, "connected", "verdict", 5 * S, line, sizeof(line));

	/* Healthy: pongs every interval, and no verdict for seconds. */
	t = liveness_now();
	healthy_until = t + 4 * REDIS_INTERVAL + REDIS_INTERVAL / 2;
	while (next_line((struct child *[]){&client}, 1, healthy_until, line, sizeof(line)) == 0) {
		ck_assert_msg(strncmp(line, "pong", 4) == 0, "healthy redis: \"%s\"", line);
		pongs++;
	}
	printf("redis   healthy      %.1f s: %d pongs, no verdict\n", (liveness_now() - t) / 1e9,
	       pongs);
	ck_assert_int_ge(pongs, 3);

	/* Hung: its kernel still ACKs and would answer keepalive; only the ping sees it. */
	stop_at = liveness_now();
	ck_assert_int_eq(kill(server.pid, SIGSTOP), 0);
	/* The bound is the timeout, one tick and a margin for scheduling. */
	expect_hung_verdict(&client, "redis   SIGSTOP", stop_at, REDIS_TIMEOUT,
			    REDIS_TIMEOUT + REDIS_TICK + REDIS_MARGIN);

	/* Back: the client reconnects after its backoff and is answered again. */
	ck_assert_int_eq(kill(server.pid, SIGCONT), 0);
	expect_line(&client, "connected", "verdict", 5 * S, line, sizeof(line));
	expect_line(&client, "pong", "verdict", 5 * S, line, sizeof(line));

	/* Killed: its kernel closes the socket at once, FIN (or RST if a ping was unread). */
	kill_at = liveness_now();
	ck_assert_int_eq(kill(server.pid, SIGKILL), 0);
	expect_line(&client, "verdict", NULL, 5 * S, line, sizeof(line));
	cause = cause_of(line);
	at = field(line, "at_ns");
	printf("redis   SIGKILL      cause %-18s after %.3f s; bound %.3f s (one RTT + margin)\n",
	       liveness_cause_name(cause), (at - kill_at) / 1e9, (RTT_BUDGET + REDIS_MARGIN) / 1e9);
	ck_assert_msg(cause == LIVENESS_CLOSED || cause == LIVENESS_RESET, "killed redis: %s",
		      liveness_cause_name(cause));
	ck_assert_uint_le(at - kill_at, RTT_BUDGET + REDIS_MARGIN);
	/* And nothing listens any more: reconnecting is refused, then backed off. */
	expect_line(&client, "connect failed cause=refused", "connected", 5 * S, line,
		    sizeof(line));
	expect_line(&client, "retry in", "connected", 5 * S, line, sizeof(line));
	fflush(stdout);
}
END_TEST

/* ---- the epoll server under load ------------------------------------------ */

#define LOAD_PORT "7300"
#define LOAD_PROCS 5 /* client processes, one source address each: 127.0.0.2 .. .6 */
#define LOAD_INTERVAL (1000 * MS)
#define LOAD_TIMEOUT (4000 * MS)
#define LOAD_RES (100 * MS)
#define LOAD_BUDGET (2500 * MS) /* liveness_tcp_plan() on the listener */
/*
 * Scheduling margin on top of every bound: two cores shared by the server,
 * five client processes and this test, with thousands of verdicts and log
 * lines in the same tick.
 */
#define LOAD_MARGIN (400 * MS)

enum role { HEALTHY, KILLED, FROZEN, DROPPED };
static const char *const role_name[] = {"healthy", "killed (SIGKILL)", "frozen (SIGSTOP)",
					"dropped (nftables)"};
/* Two healthy processes, then one of each fault. */
static const enum role roles[LOAD_PROCS] = {HEALTHY, HEALTHY, KILLED, FROZEN, DROPPED};

struct tally {
	unsigned long n[LIVENESS_VANISHED + 1]; /* verdicts by cause */
	unsigned long total;
	liveness_time min_silent, max_silent, max_after; /* after: since the fault */
};

struct load {
	struct child server, client[LOAD_PROCS];
	struct tally tally[LOAD_PROCS];
	int pinged[LOAD_PROCS];
	unsigned long conns; /* server's last "stats conns=" */
	liveness_time fault_at[LOAD_PROCS];
};

/* Handle one line from the server or a client; returns the child index. */
static int load_pump(struct load *L, liveness_time deadline)
{
	struct child *cs[LOAD_PROCS + 1];
	char line[512];
	int i;

	cs[0] = &L->server;
	for (i = 0; i < LOAD_PROCS; i++)
		cs[i + 1] = &L->client[i];
	i = next_line(cs, LOAD_PROCS + 1, deadline, line, sizeof(line));
	if (i == 0 && strncmp(line, "disconnect ", 11) == 0) {
		const char *peer = strstr(line, "peer=127.0.0.");
		int proc;
		struct tally *t;
		liveness_time silent, at;

		ck_assert_msg(peer != NULL, "server: \"%s\"", line);
		proc = atoi(peer + strlen("peer=127.0.0.")) - 2;
		ck_assert_msg(proc >= 0 && proc < LOAD_PROCS, "server: \"%s\"", line);
		ck_assert_msg(roles[proc] != HEALTHY, "a healthy client was convicted: \"%s\"",
			      line);
		ck_assert_msg(L->fault_at[proc] != 0, "a verdict before any fault: \"%s\"", line);
		t = &L->tally[proc];
		silent = field(line, "silent_ms") * MS;
		at = field(line, "at_ns");
		t->n[cause_of(line)]++;
		t->total++;
		if (t->total == 1 || silent < t->min_silent)
			t->min_silent = silent;
		if (silent > t->max_silent)
			t->max_silent = silent;
		if (at - L->fault_at[proc] > t->max_after)
			t->max_after = at - L->fault_at[proc];
	} else if (i == 0 && strncmp(line, "stats ", 6) == 0) {
		L->conns = field(line, "conns");
	} else if (i > 0) {
		ck_assert_msg(strncmp(line, "connected", 9) == 0 || strncmp(line, "pinged", 6) == 0,
			      "load client %d: \"%s\"", i - 1, line);
		if (strncmp(line, "pinged", 6) == 0)
			L->pinged[i - 1] = 1;
	}
	return i;
}

static void report_role(const struct load *L, int proc, unsigned long per, liveness_time bound)
{
	const struct tally *t = &L->tally[proc];

	printf("load    %-19s %5lu conns: %5lu verdicts (", role_name[roles[proc]], per, t->total);
	for (int c = LIVENESS_ALIVE, first = 1; c <= LIVENESS_LOCAL_ERROR; c++) {
		if (t->n[c] == 0)
			continue;
		printf("%s%s %lu", first ? "" : ", ", liveness_cause_name((enum liveness_cause)c),
		       t->n[c]);
		first = 0;
	}
	if (t->total > 0)
		printf("); silent %.3f..%.3f s, latest %.3f s after the fault; bound %.3f s\n",
		       t->min_silent / 1e9, t->max_silent / 1e9, t->max_after / 1e9, bound / 1e9);
	else
		printf(")\n");
}

START_TEST(epoll_server_under_load)
{
	static struct load L;
	char portarg[] = LOAD_PORT;
	char *srv_argv[] = {"epoll", "-p",  portarg, "-i",   "1000", "-t", "4000",
			    "-r",    "100", "-b",    "2500", "-s",   NULL};
	char addr[LOAD_PROCS][16], count[32], line[512];
	struct liveness_tcp plan;
	struct rlimit rl;
	unsigned long per, total;
	liveness_time t0, deadline, kernel_bound, b_killed, b_frozen, b_dropped, exit_took = 0;
	int done;

	if (!tu_netns("epoll server under load"))
		return;
	memset(&L, 0, sizeof(L));
	/* As many connections as the server's descriptor limit allows, less room for the rest. */
	ck_assert_int_eq(getrlimit(RLIMIT_NOFILE, &rl), 0);
	rl.rlim_cur = rl.rlim_max;
	ck_assert_int_eq(setrlimit(RLIMIT_NOFILE, &rl), 0);
	total = rl.rlim_max == RLIM_INFINITY || rl.rlim_max > 61000 ? 60000 : rl.rlim_max - 1000;
	ck_assert_uint_ge(total, 1000);
	per = total / LOAD_PROCS;
	total = per * LOAD_PROCS;

	/* The bounds the verdicts are held to. */
	ck_assert_int_eq(liveness_tcp_plan(&plan, LOAD_BUDGET), 0);
	kernel_bound = liveness_tcp_bound(&plan, LIVENESS_BUSY);
	if (liveness_tcp_bound(&plan, LIVENESS_IDLE) > kernel_bound)
		kernel_bound = liveness_tcp_bound(&plan, LIVENESS_IDLE);
	b_killed = RTT_BUDGET + LOAD_MARGIN;
	b_frozen = LOAD_TIMEOUT + LOAD_RES + LOAD_MARGIN;
	/* The next ping comes within interval (+ a tick) of the last proof;
	 * the kernel gives up on it within the plan's bound. */
	b_dropped = LOAD_INTERVAL + LOAD_RES + kernel_bound + LOAD_MARGIN;
	ck_assert_msg(b_dropped - LOAD_MARGIN < LOAD_TIMEOUT,
		      "the kernel must beat the heartbeat for a vanished host");

	spawn_example(&L.server, srv_argv);
	expect_line(&L.server, "listening", NULL, 5 * S, line, sizeof(line));
	snprintf(count, sizeof(count), "%lu", per);
	t0 = liveness_now();
	for (int i = 0; i < LOAD_PROCS; i++) {
		char *argv[] = {"load", "-b", addr[i], "-n", count, "127.0.0.1", portarg, NULL};
		snprintf(addr[i], sizeof(addr[i]), "127.0.0.%d", i + 2);
		spawn_example(&L.client[i], argv);
	}
	/* Every connection up, and every one has had a heartbeat. */
	deadline = t0 + 40 * S;
	do {
		ck_assert_msg(load_pump(&L, deadline) >= 0, "load not up within 40 s: %lu conns",
			      L.conns);
		done = L.conns == total;
		for (int i = 0; i < LOAD_PROCS; i++)
			done = done && L.pinged[i];
	} while (!done);
	printf("load    %lu connections from %d processes up and pinged in %.3f s\n", total,
	       LOAD_PROCS, (liveness_now() - t0) / 1e9);

	/* Two heartbeat intervals with everyone healthy: no verdict at all. */
	deadline = liveness_now() + 2 * LOAD_INTERVAL;
	while (load_pump(&L, deadline) >= 0)
		;

	/* The faults, one client process each. */
	for (int i = 0; i < LOAD_PROCS; i++) {
		L.fault_at[i] = liveness_now();
		if (roles[i] == KILLED) {
			ck_assert_int_eq(kill(L.client[i].pid, SIGKILL), 0);
			/* Its kernel sends the FINs as the dying process closes its
			 * sockets, one by one: the bound starts when that is done. */
			ck_assert_int_eq(waitpid(L.client[i].pid, NULL, 0), L.client[i].pid);
			L.client[i].pid = 0;
			exit_took = liveness_now() - L.fault_at[i];
			b_killed += exit_took;
			close(L.client[i].out); /* its end of file is expected */
			L.client[i].out = -1;
		} else if (roles[i] == FROZEN) {
			ck_assert_int_eq(kill(L.client[i].pid, SIGSTOP), 0);
		} else if (roles[i] == DROPPED) {
			/* A vanished host: its packets are dropped both ways as they arrive. */
			char rules[512];
			snprintf(rules, sizeof(rules),
				 "add table inet liveness_load\n"
				 "add chain inet liveness_load in { type filter hook input "
				 "priority 0; }\n"
				 "add rule inet liveness_load in ip saddr %s drop\n"
				 "add rule inet liveness_load in ip daddr %s drop\n",
				 addr[i], addr[i]);
			tu_nft(rules);
		}
	}
	/* Every faulty connection reported; keep listening for the healthy ones too. */
	deadline = liveness_now() + b_dropped + b_frozen;
	do {
		ck_assert_msg(load_pump(&L, deadline) >= 0, "not every fault was reported in time");
		done = 1;
		for (int i = 0; i < LOAD_PROCS; i++)
			done = done && (roles[i] == HEALTHY || L.tally[i].total == per);
	} while (!done);
	/* The survivors are still all there. */
	deadline = liveness_now() + 2 * S;
	while (L.conns != total - 3 * per)
		ck_assert_msg(load_pump(&L, deadline) >= 0, "server holds %lu, expected %lu",
			      L.conns, total - 3 * per);

	for (int i = 0; i < LOAD_PROCS; i++)
		report_role(&L, i, per,
			    roles[i] == KILLED	  ? b_killed
			    : roles[i] == FROZEN  ? b_frozen
			    : roles[i] == DROPPED ? b_dropped
						  : 0);
	printf("load    bounds: killed: exit %.3f s + RTT %.1f s; frozen: timeout %.1f s + tick "
	       "%.1f s; dropped: interval %.1f s + tick + kernel %.3f s (plan %.1f s); "
	       "all + margin %.3f s\n",
	       exit_took / 1e9, RTT_BUDGET / 1e9, LOAD_TIMEOUT / 1e9, LOAD_RES / 1e9,
	       LOAD_INTERVAL / 1e9, kernel_bound / 1e9, LOAD_BUDGET / 1e9, LOAD_MARGIN / 1e9);
	fflush(stdout);
	for (int i = 0; i < LOAD_PROCS; i++) {
		const struct tally *t = &L.tally[i];
		switch (roles[i]) {
		case HEALTHY: ck_assert_uint_eq(t->total, 0); break;
		case KILLED:
			ck_assert_uint_eq(t->n[LIVENESS_CLOSED] + t->n[LIVENESS_RESET], per);
			ck_assert_uint_le(t->max_after, b_killed);
			break;
		case FROZEN:
			ck_assert_uint_eq(t->n[LIVENESS_HEARTBEAT_TIMEOUT], per);
			ck_assert_uint_ge(t->min_silent, LOAD_TIMEOUT); /* never early */
			ck_assert_uint_le(t->max_silent, b_frozen);
			ck_assert_uint_le(t->max_after, b_frozen);
			break;
		case DROPPED:
			/*
			 * A vanished peer is caught by the kernel (its plan, once a
			 * ping is unacknowledged) or by the heartbeat, whichever comes
			 * first; on a loaded machine a late ping can hand the race to
			 * the heartbeat, whose verdict liveness_diagnose_heartbeat()
			 * then calls vanished: nothing acknowledged the pings. Never a
			 * heartbeat timeout, which says the peer's kernel was there.
			 */
			ck_assert_uint_eq(t->n[LIVENESS_RETRANSMIT_TIMEOUT] +
						  t->n[LIVENESS_KEEPALIVE_TIMEOUT] +
						  t->n[LIVENESS_VANISHED],
					  per);
			ck_assert_uint_le(t->max_silent,
					  b_dropped > b_frozen ? b_dropped : b_frozen);
			ck_assert_uint_le(t->max_after,
					  b_dropped > b_frozen ? b_dropped : b_frozen);
			break;
		}
	}
}
END_TEST

/* ---- select and poll clients against the epoll server -------------------- */

#define CLIENT_PORT "7310"
#define CLIENT_TIMEOUT (2000 * MS) /* the clients' -t */
#define CLIENT_MARGIN (50 * MS)

static void start_epoll_server(struct child *server, char *port)
{
	char *argv[] = {"epoll", "-p", port, "-i", "1000", "-t", "4000", "-r", "100", NULL};
	char line[512];

	spawn_example(server, argv);
	expect_line(server, "listening", NULL, 5 * S, line, sizeof(line));
}

/*
 * After the server died: connects refused and retried after waits within
 * [d/2, d), d doubling from 100 ms. Reads c's lines until `refusals` more
 * refusals (refusals 0: until it connects again).
 */
static void expect_backoff(struct child *c, int refusals, int *retries)
{
	char line[512];
	liveness_time deadline = liveness_now() + 10 * S;
	int refused = 0;

	for (;;) {
		int i = next_line(&c, 1, deadline, line, sizeof(line));
		unsigned long ms, k, lo, hi;

		ck_assert_msg(i == 0, "%s: no %s within 10 s", c->name,
			      refusals ? "refusal" : "reconnection");
		if (strncmp(line, "connected", 9) == 0 && refusals == 0)
			return;
		if (strncmp(line, "connect failed", 14) == 0) {
			ck_assert_int_eq(cause_of(line), LIVENESS_REFUSED);
			if (++refused == refusals)
				return;
		}
		if (strncmp(line, "verdict", 7) == 0) {
			/* It had reconnected to the hung server's backlog before the kill. */
			enum liveness_cause why = cause_of(line);
			ck_assert_msg(why == LIVENESS_CLOSED || why == LIVENESS_RESET, "%s: %s",
				      c->name, line);
		}
		if (strncmp(line, "retry in ", 9) != 0)
			continue;
		ms = strtoul(line + 9, NULL, 10);
		k = strtoul(strstr(line, "attempt ") + 8, NULL, 10);
		ck_assert_uint_ge(k, 1);
		hi = 100ul << (k - 1 < 6 ? k - 1 : 6);
		hi = hi > 5000 ? 5000 : hi;
		lo = hi / 2;
		printf("%-7s backoff      attempt %lu: %4lu ms, in [%lu, %lu)\n", c->name, k, ms,
		       lo, hi);
		ck_assert_msg(ms >= lo && ms < hi, "%s: %s", c->name, line);
		(*retries)++;
	}
}

START_TEST(select_and_poll_clients_reconnect)
{
	static struct child server, restarted, clients[2];
	char port[] = CLIENT_PORT;
	char *names[2] = {"poll", "select"};
	char line[512];
	liveness_time stop_at, t;
	int retries[2] = {0, 0};

	if (!tu_netns("select and poll clients"))
		return;
	start_epoll_server(&server, port);
	for (int i = 0; i < 2; i++) {
		char *argv[] = {names[i], "-i", "500", "-t", "2000", "127.0.0.1", port, NULL};
		spawn_example(&clients[i], argv);
	}
	/* Healthy: our pings answered, three times, no verdict. */
	for (int i = 0; i < 2; i++) {
		expect_healthy(&clients[i], line, sizeof(line));
		printf("%-7s healthy      last %s\n", names[i], line);
	}

	/* The server hangs: its kernel still ACKs; only the heartbeat notices. */
	stop_at = liveness_now();
	ck_assert_int_eq(kill(server.pid, SIGSTOP), 0);
	for (int i = 0; i < 2; i++) {
		char what[32];

		snprintf(what, sizeof(what), "%-7s SIGSTOP", names[i]);
		/* A client steps one heartbeat in its own loop: its tick is a millisecond. */
		expect_hung_verdict(&clients[i], what, stop_at, CLIENT_TIMEOUT,
				    CLIENT_TIMEOUT + MS + CLIENT_MARGIN);
	}

	/* The server dies: nothing listens, so the clients back off... */
	ck_assert_int_eq(kill(server.pid, SIGKILL), 0);
	waitpid(server.pid, NULL, 0);
	server.pid = 0;
	close(server.out);
	server.out = -1;
	for (int i = 0; i < 2; i++)
		expect_backoff(&clients[i], 2, &retries[i]);
	/* ...until a new server comes up on the same port. */
	start_epoll_server(&restarted, port);
	t = liveness_now();
	for (int i = 0; i < 2; i++) {
		expect_backoff(&clients[i], 0, &retries[i]);
		ck_assert_int_ge(retries[i], 2);
		expect_line(&clients[i], "pong", "verdict", 2 * S, line, sizeof(line));
		printf("%-7s reconnected  %.3f s after the restart, %d backoffs seen; %s\n",
		       names[i], (liveness_now() - t) / 1e9, retries[i], line);
	}
	fflush(stdout);
}
END_TEST

/* ---- libuv and libevent ----------------------------------------------------- */

#define GLUE_CONNS 5
#define GLUE_MARGIN (100 * MS)

/* uv and event as clients: they see the epoll server's PINGs, then its death. */
START_TEST(uv_and_event_clients_see_epoll_heartbeats)
{
	static struct child server, clients[2];
	char port[] = "7320", n[] = "5";
	char *names[2] = {"uv", "event"};
	char line[512];
	liveness_time t, kill_at;

	if (!tu_netns("libuv and libevent clients"))
		return;
	start_epoll_server(&server, port);
	for (int i = 0; i < 2; i++) {
		/* A longer interval than the server's 1 s: the server pings first. */
		char *argv[] = {names[i], "-n",	  n,	       "-i", "3000",
				"-t",	  "6000", "127.0.0.1", port, NULL};
		spawn_example(&clients[i], argv);
	}
	t = liveness_now();
	for (int i = 0; i < 2; i++) {
		int answered = 0;
		expect_line(&clients[i], "connected n=5", "verdict", 5 * S, line, sizeof(line));
		/* Each connection answers the server's PING at least twice. */
		while (answered < 2 * GLUE_CONNS) {
			expect_line(&clients[i], "answered", "verdict", 3 * S, line, sizeof(line));
			answered++;
		}
		printf("%-7s %d connections, %d server pings answered within %.3f s\n", names[i],
		       GLUE_CONNS, answered, (liveness_now() - t) / 1e9);
	}
	kill_at = liveness_now();
	ck_assert_int_eq(kill(server.pid, SIGKILL), 0);
	for (int i = 0; i < 2; i++) {
		liveness_time latest = 0;
		for (int k = 0; k < GLUE_CONNS; k++) {
			liveness_time at;
			enum liveness_cause why;
			expect_line(&clients[i], "verdict", NULL, 5 * S, line, sizeof(line));
			why = cause_of(line);
			at = field(line, "at_ns");
			ck_assert_msg(why == LIVENESS_CLOSED || why == LIVENESS_RESET, "%s: %s",
				      names[i], line);
			if (at - kill_at > latest)
				latest = at - kill_at;
		}
		printf("%-7s server killed: %d verdicts closed/reset, latest %.3f s after; bound "
		       "%.3f "
		       "s\n",
		       names[i], GLUE_CONNS, latest / 1e9, (RTT_BUDGET + GLUE_MARGIN) / 1e9);
		ck_assert_uint_le(latest, RTT_BUDGET + GLUE_MARGIN);
	}
	fflush(stdout);
}
END_TEST

/* uv and event as servers: their one group timer convicts a frozen poll client. */
START_TEST(uv_and_event_servers_convict_frozen_client)
{
	static struct child servers[2], clients[2];
	char *names[2] = {"uv", "event"};
	char ports[2][8] = {"7330", "7340"};
	char line[512];
	liveness_time stop_at[2], bound = 2000 * MS + 100 * MS + GLUE_MARGIN;

	if (!tu_netns("libuv and libevent servers"))
		return;
	for (int i = 0; i < 2; i++) {
		char *sargv[] = {names[i], "-l",	"-i",	  "1000", "-t",
				 "2000",   "127.0.0.1", ports[i], NULL};
		char *cargv[] = {"poll", "-i", "500", "-t", "3000", "127.0.0.1", ports[i], NULL};
		spawn_example(&servers[i], sargv);
		expect_line(&servers[i], "listening", NULL, 5 * S, line, sizeof(line));
		spawn_example(&clients[i], cargv);
	}
	for (int i = 0; i < 2; i++) {
		expect_healthy(&clients[i], line, sizeof(line));
		printf("%-7s server answers the poll client: %s\n", names[i], line);
	}
	for (int i = 0; i < 2; i++) {
		stop_at[i] = liveness_now();
		ck_assert_int_eq(kill(clients[i].pid, SIGSTOP), 0);
	}
	for (int i = 0; i < 2; i++) {
		char what[40];

		snprintf(what, sizeof(what), "%-7s server, client SIGSTOP", names[i]);
		expect_hung_verdict(&servers[i], what, stop_at[i], 2000 * MS, bound);
	}
	fflush(stdout);
}
END_TEST

/* ---- the epoll server's workers (-w) -------------------------------------- */

#define WORKERS_PORT "7320"
#define WORKERS 3
#define WORKERS_CONNS 300

/* Read c's output to its end (every process holding the pipe gone); returns c's status. */
static int drain_to_exit(struct child *c, liveness_time limit)
{
	liveness_time deadline = liveness_now() + limit;
	char buf[4096];
	int st;

	for (;;) {
		struct pollfd p = {.fd = c->out, .events = POLLIN};
		liveness_time now = liveness_now();
		ssize_t got;

		ck_assert_msg(now < deadline, "%s: output still open after %.1f s", c->name,
			      limit / 1e9);
		if (poll(&p, 1, liveness_poll_timeout(deadline, now)) <= 0)
			continue;
		got = read(c->out, buf, sizeof(buf));
		if (got <= 0)
			break;
	}
	ck_assert_int_eq(waitpid(c->pid, &st, 0), c->pid);
	c->pid = 0;
	return st;
}

/*
 * Workers sharing one port with SO_REUSEPORT: each listens on its own
 * socket, the kernel spreads the connections over all of them, every
 * connection is served (each worker's count adds up to the total), and a
 * worker's death is the server's: the parent stops the others and exits 1.
 * SIGTERM to the parent stops every worker and exits 0, leaving none.
 */
START_TEST(epoll_workers_share_a_port)
{
	static struct child server, load, server2;
	char port[] = WORKERS_PORT, w[] = "3", n[16], line[512];
	char *srv_argv[] = {"epoll", "-p", port, "-w", w, "-s", NULL};
	char *load_argv[] = {"load", "-n", n, "127.0.0.1", port, NULL};
	unsigned long conns[WORKERS] = {0};
	pid_t pids[WORKERS] = {0};
	liveness_time deadline;
	int st, busy;

	if (!tu_netns("epoll workers"))
		return;
	spawn_example(&server, srv_argv);
	for (int i = 0; i < WORKERS; i++) {
		unsigned long long k;

		expect_line(&server, "listening", NULL, 5 * S, line, sizeof(line));
		k = field(line, "worker");
		ck_assert_uint_lt(k, WORKERS);
		ck_assert_int_eq(pids[k], 0);
		pids[k] = (pid_t)field(line, "pid");
		ck_assert_int_ne(pids[k], server.pid);
	}
	snprintf(n, sizeof(n), "%d", WORKERS_CONNS);
	spawn_example(&load, load_argv);
	/* Each worker's stats line says how many connections it holds. */
	deadline = liveness_now() + 30 * S;
	for (;;) {
		unsigned long sum = 0;
		struct child *both[] = {&server, &load};
		int i = next_line(both, 2, deadline, line, sizeof(line));

		ck_assert_msg(i >= 0, "not every connection served within 30 s: %lu, %lu, %lu",
			      conns[0], conns[1], conns[2]);
		if (i != 0 || strncmp(line, "stats ", 6) != 0)
			continue;
		conns[field(line, "worker")] = field(line, "conns");
		for (int k = 0; k < WORKERS; k++)
			sum += conns[k];
		if (sum == WORKERS_CONNS)
			break;
		ck_assert_uint_lt(sum, WORKERS_CONNS + 1);
	}
	/* By the addresses' hash: any one worker left empty has odds of 3 x (2/3)^300. */
	busy = 0;
	for (int k = 0; k < WORKERS; k++)
		busy += conns[k] > 0;
	ck_assert_int_eq(busy, WORKERS);
	printf("workers %d connections over %d workers: %lu, %lu, %lu\n", WORKERS_CONNS, WORKERS,
	       conns[0], conns[1], conns[2]);

	/* One worker killed: the server stops the others and fails. */
	ck_assert_int_eq(kill(pids[1], SIGKILL), 0);
	st = drain_to_exit(&server, 10 * S);
	ck_assert_msg(WIFEXITED(st) && WEXITSTATUS(st) == 1, "status %d", st);
	for (int k = 0; k < WORKERS; k++)
		ck_assert_msg(kill(pids[k], 0) != 0 && errno == ESRCH, "worker %d outlived it", k);

	/* SIGTERM: every worker stops, status 0. */
	spawn_example(&server2, srv_argv);
	for (int i = 0; i < WORKERS; i++) {
		expect_line(&server2, "listening", NULL, 5 * S, line, sizeof(line));
		pids[field(line, "worker")] = (pid_t)field(line, "pid");
	}
	ck_assert_int_eq(kill(server2.pid, SIGTERM), 0);
	st = drain_to_exit(&server2, 10 * S);
	ck_assert_msg(WIFEXITED(st) && WEXITSTATUS(st) == 0, "status %d", st);
	for (int k = 0; k < WORKERS; k++)
		ck_assert_msg(kill(pids[k], 0) != 0 && errno == ESRCH, "worker %d outlived it", k);
}
END_TEST

/* A test case of the suite, with its timeout in seconds, whose children die with each test. */
static TCase *example_case(Suite *s, const char *name, double timeout)
{
	TCase *tc = tcase_create(name);

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, timeout);
	suite_add_tcase(s, tc);
	return tc;
}

Suite *examples_suite(void)
{
	Suite *s = suite_create("examples");
	TCase *glue;

	tcase_add_test(example_case(s, "redis", 30), redis_hung_and_killed_server);
	tcase_add_test(example_case(s, "load", 90), epoll_server_under_load);
	tcase_add_test(example_case(s, "clients", 40), select_and_poll_clients_reconnect);
	tcase_add_test(example_case(s, "workers", 60), epoll_workers_share_a_port);
	glue = example_case(s, "uv-event", 30);
	tcase_add_test(glue, uv_and_event_clients_see_epoll_heartbeats);
	tcase_add_test(glue, uv_and_event_servers_convict_frozen_client);
	return s;
}
