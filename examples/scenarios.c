/*
 * scenarios - the failure table of DESIGN.md section 1, reproduced live.
 *
 * Each row makes a peer fail for real in a private network namespace (a
 * process killed, a connection aborted, a host vanished with nftables, a
 * host rebooted) and prints what the kernel's defaults would take, what a
 * socket tuned by liveness_tcp_plan() took, and why liveness_diagnose()
 * says it died. Rows that need root are listed as skipped, with the reason,
 * when the namespace cannot be made. Run it with `make demo`.
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

static int vanished_idle(enum liveness_cause *cause, liveness_time *took, liveness_time *bound)
{
	uint16_t port = next_port++;
	int c, s;
	liveness_time t0;

	if (pair(port, &c, &s) != 0)
		return -1;
	t0 = liveness_now();
	netns_drop_port(port); /* power cut: not another packet either way */
	*bound = liveness_tcp_bound(&plan, LIVENESS_IDLE);
	wait_dead(c, t0, cause, took);
	netns_undrop();
	close(s);
	return close(c);
}

static int vanished_busy(enum liveness_cause *cause, liveness_time *took, liveness_time *bound)
{
	uint16_t port = next_port++;
	int c, s;
	char x = 'x';
	liveness_time t0;

	if (pair(port, &c, &s) != 0)
		return -1;
	netns_drop_port(port);
	t0 = liveness_now();
	if (write(c, &x, 1) != 1) /* our request is now unacknowledged */
		return -1;
	*bound = liveness_tcp_bound(&plan, LIVENESS_BUSY);
	wait_dead(c, t0, cause, took);
	netns_undrop();
	close(s);
	return close(c);
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

static void seconds(char *buf, size_t len, liveness_time t)
{
	if (t == LIVENESS_NEVER)
		snprintf(buf, len, "never");
	else if (t == 0)
		snprintf(buf, len, "1 RTT");
	else
		snprintf(buf, len, "%.3f s", t / 1e9);
}

int main(void)
{
	struct liveness_tcp sys;
	char why[256], stock_idle[64], stock_busy[64];
	int have_netns, i, failed = 0;
	struct row rows[] = {
		{"peer process killed (kill -9): FIN", "1 RTT", 0, peer_exits},
		{"peer aborted: RST", "1 RTT", 0, peer_aborts},
		{"connect, nobody listens: RST", "1 RTT", 0, nobody_listens},
		{"peer host vanished, idle", stock_idle, 1, vanished_idle},
		{"peer host vanished, our data in flight", stock_busy, 1, vanished_busy},
		{"peer host rebooted, we are silent", "never", 1, rebooted},
		{"ICMP host unreachable, data in flight", stock_busy, 1, unreachable},
	};

	if (liveness_tcp_system(&sys) != 0 || liveness_tcp_plan(&plan, BUDGET) != 0) {
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

	printf("liveness scenarios: real failures, kernel defaults versus a socket planned for %.0f s\n",
	       BUDGET / 1e9);
	printf("planned: keepalive idle %d s, interval %d s, count %d, TCP_USER_TIMEOUT %u ms\n\n",
	       plan.idle, plan.interval, plan.count, plan.user_timeout);
	printf("%-40s %-32s %-18s %9s %9s\n", "scenario", "kernel defaults", "liveness: cause",
	       "measured", "bound");
	for (i = 0; i < (int)(sizeof(rows) / sizeof(rows[0])); i++) {
		enum liveness_cause cause = LIVENESS_ALIVE;
		liveness_time took = 0, bound = 0;
		char m[32], b[32];

		if (rows[i].needs_netns && !have_netns) {
			printf("%-40s %-32s skipped: %s\n", rows[i].scenario, rows[i].defaults, why);
			continue;
		}
		if (rows[i].run(&cause, &took, &bound) != 0 || cause == LIVENESS_ALIVE) {
			printf("%-40s %-32s FAILED to reproduce\n", rows[i].scenario, rows[i].defaults);
			failed = 1;
			continue;
		}
		seconds(m, sizeof(m), took);
		seconds(b, sizeof(b), bound);
		printf("%-40s %-32s %-18s %9s %9s\n", rows[i].scenario, rows[i].defaults,
		       liveness_cause_name(cause), m, b);
	}
	printf("\nnot shown by the kernel layer: a hung peer application (its kernel still ACKs)\n"
	       "and a peer that stops reading; both need an application heartbeat (liveness_hb_init(3)).\n");
	if (!have_netns)
		printf("\n%s: rows needing a private network namespace were skipped; run as root.\n", why);
	return failed;
}
