/*
 * scenarios - the failure table of the README and liveness(7), reproduced live.
 *
 * Each row makes a peer fail for real in a private network namespace (a
 * process killed, a connection aborted, a host vanished with nftables, a
 * host rebooted) and prints what the kernel's defaults would take, what a
 * socket tuned by liveness_tcp_plan() took, and why liveness_diagnose()
 * says it died. Rows that need root are listed as skipped, with the reason,
 * when the namespace cannot be made. The last row is a program nobody can
 * change: a static binary under `liveness run --bpf` ($LIVENESS_BUILD, or
 * build/, holds the command and the server). Run it with `make demo`.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "args.h"
#include "liveness.h"
#include "netns.h"

#define BUDGET (3 * LIVENESS_SEC) /* the detection budget the tuned sockets are planned for */

struct row {
	const char *scenario;
	const char *defaults; /* what stock settings would take */
	int needs_netns;
	int (*run)(enum liveness_cause *cause, liveness_time *took, liveness_time *bound);
};

static struct liveness_tcp plan;
static uint16_t next_port = 7100;

static int listen_on(uint16_t port)
{
	struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons(port)};
	int one = 1, fd = socket(AF_INET, SOCK_STREAM, 0);

	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (fd < 0 || bind(fd, (struct sockaddr *)&a, sizeof(a)) != 0 || listen(fd, 8) != 0)
		return -1;
	return fd;
}

static int connect_to(uint16_t port)
{
	struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons(port)};
	int fd = socket(AF_INET, SOCK_STREAM, 0);

	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (fd < 0)
		return -1;
	if (connect(fd, (struct sockaddr *)&a, sizeof(a)) != 0) {
		int e = errno;
		close(fd);
		errno = e;
		return -1;
	}
	return fd;
}

/* A tuned connection: *ours is the client side with the planned settings. */
static int pair(uint16_t port, int *ours, int *theirs)
{
	int l = listen_on(port);
	char x = 'x';

	if (l < 0 || (*ours = connect_to(port)) < 0 || (*theirs = accept(l, NULL, NULL)) < 0)
		return -1;
	close(l);
	if (liveness_tcp_set(*ours, &plan) != 0)
		return -1;
	/* One exchange, so that both sides have just heard from each other. */
	if (write(*ours, &x, 1) != 1 || read(*theirs, &x, 1) != 1 || write(*theirs, &x, 1) != 1 ||
	    read(*ours, &x, 1) != 1)
		return -1;
	return 0;
}

/* The caller's loop in miniature: wait for the socket to speak, read, diagnose. */
static int wait_dead(int fd, liveness_time start, enum liveness_cause *cause, liveness_time *took)
{
	struct pollfd p = {.fd = fd, .events = POLLIN};
	liveness_time deadline = start + 20 * LIVENESS_SEC;
	char b[16];
	ssize_t r;

	for (;;) {
		int n = poll(&p, 1, liveness_poll_timeout(deadline, liveness_now()));
		if (n > 0)
			break;
		if (n == 0)
			return -1;
	}
	r = read(fd, b, sizeof(b));
	*cause = liveness_diagnose(fd, r, r < 0 ? errno : 0);
	*took = liveness_now() - start;
	return 0;
}

static int peer_exits(enum liveness_cause *cause, liveness_time *took, liveness_time *bound)
{
	uint16_t port = next_port++;
	int l = listen_on(port), s, status;
	liveness_time t0;
	pid_t pid;

	if (l < 0)
		return -1;
	pid = fork();
	if (pid == 0) {
		if (connect_to(port) < 0)
			_exit(1);
		pause();
		_exit(0);
	}
	s = accept(l, NULL, NULL);
	close(l);
	t0 = liveness_now();
	kill(pid, SIGKILL); /* its kernel closes the socket: FIN */
	waitpid(pid, &status, 0);
	*bound = 0;
	return wait_dead(s, t0, cause, took) + close(s);
}

static int peer_aborts(enum liveness_cause *cause, liveness_time *took, liveness_time *bound)
{
	int c, s;
	liveness_time t0;

	if (pair(next_port++, &c, &s) != 0)
		return -1;
	t0 = liveness_now();
	liveness_abort(s);
	*bound = 0;
	return wait_dead(c, t0, cause, took) + close(c);
}

static int nobody_listens(enum liveness_cause *cause, liveness_time *took, liveness_time *bound)
{
	liveness_time t0 = liveness_now();
	int fd = connect_to(next_port++);

	if (fd >= 0)
		return -1;
	*took = liveness_now() - t0;
	fd = socket(AF_INET, SOCK_STREAM, 0);
	*cause = errno == ECONNREFUSED ? LIVENESS_REFUSED : LIVENESS_LOCAL_ERROR;
	close(fd);
	*bound = 0;
	return 0;
}

/* The peer's host vanishes (power cut: not another packet either way), idle or busy. */
static int vanished(int busy, enum liveness_cause *cause, liveness_time *took, liveness_time *bound)
{
	uint16_t port = next_port++;
	int c, s;
	liveness_time t0;

	if (pair(port, &c, &s) != 0)
		return -1;
	netns_drop_port(port);
	t0 = liveness_now();
	if (busy && write(c, "x", 1) != 1) /* our request is now unacknowledged */
		return -1;
	*bound = liveness_tcp_bound(&plan, busy ? LIVENESS_BUSY : LIVENESS_IDLE);
	wait_dead(c, t0, cause, took);
	netns_undrop();
	close(s);
	return close(c);
}

static int vanished_idle(enum liveness_cause *cause, liveness_time *took, liveness_time *bound)
{
	return vanished(0, cause, took, bound);
}

static int vanished_busy(enum liveness_cause *cause, liveness_time *took, liveness_time *bound)
{
	return vanished(1, cause, took, bound);
}

static int rebooted(enum liveness_cause *cause, liveness_time *took, liveness_time *bound)
{
	uint16_t port = next_port++;
	int c, s;
	liveness_time t0;

	if (pair(port, &c, &s) != 0)
		return -1;
	t0 = liveness_now();
	/* The host reboots: its socket is gone, and so is the RST it would have sent. */
	netns_drop_port(port);
	liveness_abort(s);
	netns_undrop();
	/* We say nothing; the first keepalive probe meets the new kernel's RST. */
	*bound = (liveness_time)plan.idle * LIVENESS_SEC + 100 * LIVENESS_MSEC;
	return wait_dead(c, t0, cause, took) + close(c);
}

static int unreachable(enum liveness_cause *cause, liveness_time *took, liveness_time *bound)
{
	uint16_t port = next_port++;
	int c, s;
	char x = 'x', rules[256];
	liveness_time t0;

	if (pair(port, &c, &s) != 0)
		return -1;
	snprintf(rules, sizeof(rules),
		 "table inet liveness_icmp {\n chain in { type filter hook input priority 0; "
		 "tcp dport %u reject with icmp type host-unreachable; }\n}\n",
		 port);
	netns_nft(rules); /* a router now answers for the peer: host unreachable */
	t0 = liveness_now();
	if (write(c, &x, 1) != 1)
		return -1;
	*bound = liveness_tcp_bound(&plan, LIVENESS_BUSY);
	wait_dead(c, t0, cause, took);
	netns_nft("delete table inet liveness_icmp\n");
	close(s);
	return close(c);
}

/*
 * A peer process that echoes every byte we send, the simplest protocol with
 * pings. On 'S' it stops reading for good while staying alive: its kernel
 * keeps ACKing until its receive buffer is full, then advertises a zero
 * window.
 */
static pid_t echo_peer(uint16_t port, int *ours)
{
	int l = listen_on(port);
	pid_t pid;

	if (l < 0)
		return -1;
	pid = fork();
	if (pid == 0) {
		int fd = connect_to(port);
		char b;
		while (fd >= 0 && read(fd, &b, 1) == 1) {
			if (b == 'S')
				for (;;)
					pause();
			if (write(fd, &b, 1) != 1)
				break;
		}
		_exit(0);
	}
	*ours = accept(l, NULL, NULL);
	close(l);
	if (*ours < 0 || liveness_tcp_set(*ours, &plan) != 0)
		return -1;
	return pid;
}

#define RESOLUTION (50 * LIVENESS_MSEC) /* the group's tick */
#define WAKEUP (20 * LIVENESS_MSEC)	/* allowance for poll() to return after its timeout */

/*
 * The caller's loop with a heartbeat, in a group as a server would run it:
 * ping when the group says so, count any byte received as proof of life.
 * After `healthy` of normal traffic, hurt() makes the peer fail; the loop
 * runs until the verdict. *took is from the peer's last proof of life to the
 * verdict, which the library promises within timeout + one group tick.
 */
static int heartbeat(int fd, const struct liveness_policy *pol, liveness_time healthy,
		     void (*hurt)(int fd, pid_t pid), pid_t pid, enum liveness_cause *cause,
		     liveness_time *took)
{
	struct liveness_group *g;
	struct liveness_hb hb = {0}; /* zeroed, as liveness_hb_init() wants it */
	liveness_time now = liveness_now(), start = now, last_proof = now;
	int hurt_done = 0, r = -1;

	if (liveness_group_new(&g, RESOLUTION, now) != 0)
		return -1;
	if (liveness_hb_init(&hb, pol, now) != 0 || liveness_group_add(g, &hb) != 0)
		goto out;
	for (;;) {
		struct pollfd p = {.fd = fd, .events = POLLIN};
		liveness_time deadline = liveness_group_deadline(g);
		struct liveness_hb *due;
		enum liveness_event ev;
		char b[256];

		if (!hurt_done && deadline > start + healthy)
			deadline = start + healthy;
		if (poll(&p, 1, liveness_poll_timeout(deadline, liveness_now())) < 0)
			goto out;
		now = liveness_now();
		if (p.revents) {
			ssize_t n = read(fd, b, sizeof(b));
			if (n <= 0) { /* the kernel noticed first */
				*cause = liveness_diagnose(fd, n, n < 0 ? errno : 0);
				*took = now - last_proof;
				r = 0;
				goto out;
			}
			liveness_hb_rx(&hb, now); /* one store; the group is not touched */
			last_proof = now;
		}
		if (!hurt_done && now >= start + healthy) {
			hurt(fd, pid);
			hurt_done = 1;
		}
		while (liveness_group_step(g, now, &due, &ev, NULL) > 0) {
			if (ev == LIVENESS_DEAD) {
				/* Hung (its kernel still ACKs) or vanished (nothing does)? */
				*cause = liveness_diagnose_heartbeat(fd);
				*took = now - last_proof;
				r = 0;
				goto out;
			}
			/*
			 * A ping is one byte here. A full socket (the peer's window
			 * shut) takes none and the loop goes on, as a non-blocking
			 * server's does: a blocking write would stall the loop until
			 * the kernel gave up, and the heartbeat's verdict with it.
			 */
			if (send(fd, "p", 1, MSG_DONTWAIT | MSG_NOSIGNAL) < 0 && errno != EAGAIN)
				goto out;
		}
	}
out:
	liveness_group_remove(g, &hb);
	liveness_group_free(g);
	return r;
}

static struct liveness_policy hb_policy;

static void freeze(int fd, pid_t pid)
{
	(void)fd;
	kill(pid,
	     SIGSTOP); /* deadlock, GC pause, SIGSTOP: the process stops, its kernel does not */
}

static void stop_reading(int fd, pid_t pid)
{
	static char junk[65536];
	(void)pid;
	if (write(fd, "S", 1) != 1)
		return;
	/* Fill the peer's receive buffer until its window is zero and our writes would block. */
	while (send(fd, junk, sizeof(junk), MSG_DONTWAIT) > 0)
		;
}

/* The peer's host vanishes: every packet to and from its port is dropped. */
static void vanish_host(int fd, pid_t pid)
{
	struct sockaddr_in a;
	socklen_t len = sizeof(a);

	(void)pid;
	if (getpeername(fd, (struct sockaddr *)&a, &len) == 0)
		netns_drop_port(ntohs(a.sin_port));
}

static int hung_or_stuck(void (*hurt)(int, pid_t), enum liveness_cause *cause, liveness_time *took,
			 liveness_time *bound)
{
	int fd = -1, status, r;
	pid_t pid = echo_peer(next_port++, &fd);

	if (pid < 0)
		return -1;
	*bound = hb_policy.timeout + RESOLUTION + WAKEUP;
	r = heartbeat(fd, &hb_policy, LIVENESS_SEC, hurt, pid, cause, took);
	kill(pid, SIGKILL);
	waitpid(pid, &status, 0);
	liveness_abort(fd);
	return r;
}

static int peer_hung(enum liveness_cause *cause, liveness_time *took, liveness_time *bound)
{
	return hung_or_stuck(freeze, cause, took, bound);
}

static int peer_stuck(enum liveness_cause *cause, liveness_time *took, liveness_time *bound)
{
	return hung_or_stuck(stop_reading, cause, took, bound);
}

static int host_gone(enum liveness_cause *cause, liveness_time *took, liveness_time *bound)
{
	int r = hung_or_stuck(vanish_host, cause, took, bound);

	netns_undrop();
	return r;
}

/* Why a row could not run here (its run returned 1), for the table. */
static char skip_why[200];

/* A line of the pipe fd that starts with prefix, within timeout; 0 if none came. */
static int read_line(int fd, const char *prefix, char *line, size_t len, liveness_time timeout)
{
	liveness_time deadline = liveness_now() + timeout;
	size_t n = 0;

	for (;;) {
		struct pollfd p = {.fd = fd, .events = POLLIN};
		char c;

		if (poll(&p, 1, liveness_poll_timeout(deadline, liveness_now())) <= 0)
			return 0;
		if (read(fd, &c, 1) != 1)
			return 0;
		if (c != '\n') {
			if (n + 1 < len)
				line[n++] = c;
			continue;
		}
		line[n] = '\0';
		if (strncmp(line, prefix, strlen(prefix)) == 0)
			return 1;
		n = 0;
	}
}

/*
 * An unmodified, statically linked server (the bpf suite's tests/bpf_server.c:
 * no socket option of its own, no shim can reach it) under `liveness run
 * --bpf`, whose kernel-side programs give its connections the plan. Its
 * peer vanishes; the time is until its own read() fails, the cause what the
 * command's death counts say when it exits. Skipped where the command, the
 * server or the BPF part is missing, or the kernel refuses the programs.
 */
static int static_under_bpf(enum liveness_cause *cause, liveness_time *took, liveness_time *bound)
{
	const char *build = getenv("LIVENESS_BUILD");
	char lv[4096], srv[4096], budget[32], port[16], line[512], want[64];
	struct sockaddr_in a;
	socklen_t alen = sizeof(a);
	int out[2], fd, status;
	liveness_time t0;
	pid_t pid;

	snprintf(lv, sizeof(lv), "%s/liveness", build ? build : "build");
	snprintf(srv, sizeof(srv), "%s/tests/bpf-server", build ? build : "build");
	if (access(lv, X_OK) != 0 || access(srv, X_OK) != 0) {
		snprintf(skip_why, sizeof(skip_why), "needs a build with the BPF part (%.150s)",
			 srv);
		return 1;
	}
	snprintf(budget, sizeof(budget), "%llums", (unsigned long long)(BUDGET / LIVENESS_MSEC));
	snprintf(port, sizeof(port), "%u", next_port);
	if (pipe(out) != 0)
		return -1;
	fflush(NULL);
	if ((pid = fork()) == 0) {
		dup2(out[1], 1);
		dup2(out[1], 2);
		close(out[0]);
		execl(lv, lv, "run", "--bpf", "--budget", budget, "--deaths", "--", srv, port,
		      (char *)NULL);
		_exit(127);
	}
	close(out[1]);
	if (pid < 0 || !read_line(out[0], "listening ", line, sizeof(line), 5 * LIVENESS_SEC)) {
		snprintf(skip_why, sizeof(skip_why), "liveness run --bpf could not start: %.150s",
			 line);
		if (pid > 0)
			waitpid(pid, &status, 0);
		close(out[0]);
		return 1;
	}
	fd = connect_to(next_port++);
	if (fd < 0 || getsockname(fd, (struct sockaddr *)&a, &alen) != 0)
		goto fail;
	snprintf(want, sizeof(want), "accepted %u", ntohs(a.sin_port));
	if (!read_line(out[0], want, line, sizeof(line), 5 * LIVENESS_SEC))
		goto fail;
	*bound = liveness_tcp_bound(&plan, LIVENESS_IDLE);
	netns_drop_port((uint16_t)atoi(port));
	t0 = liveness_now();
	snprintf(want, sizeof(want), "lost %u ", ntohs(a.sin_port));
	if (!read_line(out[0], want, line, sizeof(line), *bound + LIVENESS_SEC))
		goto fail;
	*took = liveness_now() - t0;
	netns_undrop();
	kill(pid, SIGTERM);
	if (read_line(out[0], "liveness: run: ", line, sizeof(line), 5 * LIVENESS_SEC) &&
	    strstr(line, "keepalive-timeout 1"))
		*cause = LIVENESS_KEEPALIVE_TIMEOUT;
	waitpid(pid, &status, 0);
	close(out[0]);
	liveness_abort(fd);
	return 0;
fail:
	netns_undrop();
	kill(pid, SIGTERM);
	waitpid(pid, &status, 0);
	close(out[0]);
	if (fd >= 0)
		close(fd);
	return -1;
}

static void seconds(char *buf, size_t len, liveness_time t)
{
	if (t == LIVENESS_NEVER)
		snprintf(buf, len, "never");
	else if (t == 0)
		snprintf(buf, len, "1 RTT");
	else if (t < LIVENESS_SEC)
		snprintf(buf, len, "%.3f ms", t / 1e6); /* a loopback round trip: microseconds */
	else
		snprintf(buf, len, "%.3f s", t / 1e9);
}

int main(int argc, char **argv)
{
	struct liveness_tcp sys;
	char why[256], stock_idle[64], stock_busy[64];
	int have_netns, i, r, failed = 0;
	struct row rows[] = {
		{"peer process killed (kill -9): FIN", "1 RTT", 0, peer_exits},
		{"peer aborted: RST", "1 RTT", 0, peer_aborts},
		{"connect, nobody listens: RST", "1 RTT", 0, nobody_listens},
		{"peer host vanished, idle", stock_idle, 1, vanished_idle},
		{"peer host vanished, our data in flight", stock_busy, 1, vanished_busy},
		{"peer host rebooted, we are silent", "never", 1, rebooted},
		{"ICMP host unreachable, data in flight", stock_busy, 1, unreachable},
		{"peer application hung (SIGSTOP)", "never: its kernel ACKs", 1, peer_hung},
		{"peer stopped reading (zero window)", "never: probes answered", 1, peer_stuck},
		{"peer host vanished, heartbeat first", stock_idle, 1, host_gone},
		{"static binary, host vanished: run --bpf", "never: keepalive off", 1,
		 static_under_bpf},
	};

	if (argc > 1)
		args_usage("scenarios", strcmp(argv[1], "-h") == 0);
	/* The heartbeat for the rows keepalive cannot see: ping after 0.5 s of silence. */
	if (liveness_tcp_system(&sys) != 0 || liveness_tcp_plan(&plan, BUDGET) != 0 ||
	    liveness_policy_init(&hb_policy, BUDGET / 6, BUDGET * 2 / 3) != 0) {
		fprintf(stderr, "scenarios: cannot read the system's TCP settings\n");
		return 1;
	}
	/* Stock sockets have keepalive off: an idle dead peer is never noticed. */
	snprintf(stock_idle, sizeof(stock_idle), "never (%.0f s with SO_KEEPALIVE)",
		 (double)(liveness_tcp_bound(&(struct liveness_tcp){1, sys.idle, sys.interval,
								    sys.count, 0, -1},
					     LIVENESS_IDLE | LIVENESS_NOMINAL) /
			  LIVENESS_SEC));
	snprintf(stock_busy, sizeof(stock_busy), "%.1f s (tcp_retries2)",
		 liveness_tcp_bound(&sys, LIVENESS_BUSY | LIVENESS_NOMINAL) / 1e9);
	have_netns = netns_enter(why, sizeof(why)) == 0;

	printf("liveness scenarios: real failures, kernel defaults versus a socket planned for "
	       "%.0f s\n",
	       BUDGET / 1e9);
	printf("planned: keepalive idle %d s, interval %d s, count %d, TCP_USER_TIMEOUT %u ms;\n"
	       "heartbeat: ping after %.1f s of silence, dead after %.1f s\n\n",
	       plan.idle, plan.interval, plan.count, plan.user_timeout, hb_policy.interval / 1e9,
	       hb_policy.timeout / 1e9);
	printf("%-40s %-32s %-18s %9s %9s\n", "scenario", "kernel defaults", "liveness: cause",
	       "measured", "bound");
	for (i = 0; i < (int)(sizeof(rows) / sizeof(rows[0])); i++) {
		enum liveness_cause cause = LIVENESS_ALIVE;
		liveness_time took = 0, bound = 0;
		char m[32], b[32];

		if (rows[i].needs_netns && !have_netns) {
			printf("%-40s %-32s skipped: %s\n", rows[i].scenario, rows[i].defaults,
			       why);
			continue;
		}
		r = rows[i].run(&cause, &took, &bound);
		if (r == 1) {
			printf("%-40s %-32s skipped: %s\n", rows[i].scenario, rows[i].defaults,
			       skip_why);
			continue;
		}
		if (r != 0 || cause == LIVENESS_ALIVE) {
			printf("%-40s %-32s FAILED to reproduce\n", rows[i].scenario,
			       rows[i].defaults);
			failed = 1;
			continue;
		}
		seconds(m, sizeof(m), took);
		seconds(b, sizeof(b), bound);
		printf("%-40s %-32s %-18s %9s %9s%s\n", rows[i].scenario, rows[i].defaults,
		       liveness_cause_name(cause), m, b, bound && took > bound ? "  LATE" : "");
		if (bound && took > bound)
			failed = 1;
	}
	printf("\nmeasured: from the failure (FIN, RST, vanish) or the peer's last proof of life\n"
	       "(heartbeat rows) to the verdict. Kernel bounds are liveness_tcp_bound(); "
	       "heartbeat\n"
	       "bounds are the policy's timeout + one %.0f ms group tick + %.0f ms for poll() to "
	       "wake.\n"
	       "The hung peer's socket keeps a planned keepalive too: it sees nothing, because\n"
	       "the peer's kernel answers the probes for its hung application. After a heartbeat\n"
	       "verdict, liveness_diagnose_heartbeat() tells a hung peer (its kernel ACKs our\n"
	       "pings) from a vanished one (nothing ACKs them).\n",
	       RESOLUTION / 1e6, WAKEUP / 1e6);
	if (!have_netns)
		printf("\n%s: rows needing a private network namespace were skipped; run as "
		       "root.\n",
		       why);
	return failed;
}
