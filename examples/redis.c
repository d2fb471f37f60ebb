/*
 * redis - keep one connection to a redis-server and know when it is gone.
 *
 * What it shows: layer 3 alone (one struct liveness_hb, no group) in a
 * poll() loop, with an application ping that any request/reply protocol
 * has: RESP "PING", answered "+PONG". That catches what TCP cannot: a
 * server that is hung (SIGSTOP, a deadlock, a swap storm) while its kernel
 * still ACKs our bytes and answers keepalive probes. The kernel side
 * (liveness_tcp_plan) catches a vanished host; liveness_diagnose names
 * everything else (a killed server: FIN or RST).
 *
 * Redis answers in order, so the replies are matched to our pings by a
 * FIFO of sequence numbers; a reply to an old ping is ignored by
 * liveness_hb_pong(), and any byte at all is proof of life anyway.
 * After a verdict the connection is aborted (RST, no orphan) and re-made
 * with exponential backoff and jitter.
 *
 * Run:   build/examples/redis [-i interval_ms] [-t timeout_ms] [-b budget_ms] host port
 * e.g.   redis-server --port 6390 --save '' --appendonly no &
 *        build/examples/redis 127.0.0.1 6390      (then: kill -STOP / -KILL the server)
 *
 * Output, one line each:
 *   connected host:port
 *   pong rtt_us=83
 *   verdict cause=heartbeat-timeout silent_ms=2001 at_ns=...
 *   connect failed cause=refused (connection refused)
 *   retry in 180 ms
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
#include <unistd.h>

#include "liveness.h"

#define MAX_OUT 16 /* pings in flight we remember; more are simply not matched */

struct redis {
	int fd;
	struct liveness_hb hb;
	liveness_time last_rx;
	uint32_t seqs[MAX_OUT]; /* FIFO of pings awaiting "+PONG" */
	unsigned head, count;
	char line[256]; /* the reply line being read */
	size_t line_len;
};

static uint64_t rng;

/* xorshift64: jitter needs spread, not cryptography. */
static uint64_t rnd(void)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return rng;
}

/* Exponential backoff, 100 ms doubling up to 5 s, each wait drawn in [d/2, d). */
static liveness_time backoff(unsigned attempt)
{
	liveness_time d = 100 * LIVENESS_MSEC << (attempt < 6 ? attempt : 6);

	if (d > 5 * LIVENESS_SEC)
		d = 5 * LIVENESS_SEC;
	return d / 2 + rnd() % (d / 2);
}

/* Connect within limit; returns fd, or -1 with *why and *err saying why not. */
static int connect_to(const struct sockaddr_in *a, const struct liveness_tcp *plan,
		      liveness_time limit, enum liveness_cause *why, int *err)
{
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	int r;
	socklen_t len = sizeof(*err);
	struct pollfd p = {.fd = fd, .events = POLLOUT};

	*why = LIVENESS_LOCAL_ERROR;
	*err = errno;
	if (fd < 0)
		return -1;
	/* Before connect: the handshake itself is then bounded by TCP_USER_TIMEOUT. */
	if ((r = liveness_tcp_set(fd, plan)) != 0) {
		*err = -r;
		close(fd);
		return -1;
	}
	*err = 0;
	if (connect(fd, (const struct sockaddr *)a, sizeof(*a)) != 0) {
		*err = errno;
		if (*err == EINPROGRESS) {
			r = poll(&p, 1, liveness_poll_timeout(liveness_now() + limit, liveness_now()));
			if (r == 0)
				*err = ETIMEDOUT;
			else if (getsockopt(fd, SOL_SOCKET, SO_ERROR, err, &len) != 0)
				*err = errno;
		}
	}
	if (*err != 0) {
		*why = liveness_diagnose(fd, -1, *err);
		close(fd);
		return -1;
	}
	return fd;
}

static int send_ping(struct redis *c, uint32_t seq)
{
	static const char ping[] = "*1\r\n$4\r\nPING\r\n";

	if (c->count < MAX_OUT)
		c->seqs[(c->head + c->count++) % MAX_OUT] = seq;
	/* 14 bytes into a send buffer redis keeps draining: sent whole or not at all. */
	return send(c->fd, ping, sizeof(ping) - 1, MSG_NOSIGNAL) < 0 && errno != EAGAIN ? -1 : 0;
}

/* One reply line from redis. "+PONG" answers the oldest ping in flight. */
static void on_line(struct redis *c, liveness_time now)
{
	if (c->line_len >= 5 && memcmp(c->line, "+PONG", 5) == 0 && c->count > 0) {
		uint32_t seq = c->seqs[c->head];
		c->head = (c->head + 1) % MAX_OUT;
		c->count--;
		liveness_hb_pong(&c->hb, seq, now);
		printf("pong rtt_us=%llu\n",
		       (unsigned long long)(liveness_hb_rtt(&c->hb) / LIVENESS_USEC));
	}
}

/* Run one connection until it dies; returns why. */
static enum liveness_cause run(struct redis *c, const struct liveness_policy *policy)
{
	liveness_time now = liveness_now();
	int r;

	if ((r = liveness_hb_init(&c->hb, policy, now)) != 0) {
		fprintf(stderr, "redis: liveness_hb_init: %s\n", liveness_strerror(r));
		return LIVENESS_LOCAL_ERROR;
	}
	c->last_rx = now;
	c->head = c->count = 0;
	c->line_len = 0;
	for (;;) {
		struct pollfd p = {.fd = c->fd, .events = POLLIN};
		enum liveness_event ev;
		uint32_t seq;

		fflush(stdout);
		r = poll(&p, 1, liveness_poll_timeout(liveness_hb_deadline(&c->hb), liveness_now()));
		now = liveness_now();
		if (r < 0 && errno != EINTR)
			return liveness_diagnose(c->fd, -1, errno);
		if (r > 0) {
			char buf[1024];
			ssize_t n = recv(c->fd, buf, sizeof(buf), 0);
			if (n <= 0) {
				if (n < 0 && (errno == EAGAIN || errno == EINTR))
					continue;
				return liveness_diagnose(c->fd, n, n < 0 ? errno : 0);
			}
			liveness_hb_rx(&c->hb, now);
			c->last_rx = now;
			for (ssize_t i = 0; i < n; i++) {
				if (buf[i] == '\n') {
					on_line(c, now);
					c->line_len = 0;
				} else if (c->line_len < sizeof(c->line)) {
					c->line[c->line_len++] = buf[i];
				}
			}
		}
		/* Time-driven work: a ping to send, or the verdict. */
		while ((ev = liveness_hb_step(&c->hb, now, &seq)) != LIVENESS_NONE) {
			if (ev == LIVENESS_DEAD)
				return LIVENESS_HEARTBEAT_TIMEOUT;
			if (send_ping(c, seq) != 0)
				return liveness_diagnose(c->fd, -1, errno);
		}
	}
}

int main(int argc, char **argv)
{
	struct sockaddr_in a = {.sin_family = AF_INET};
	unsigned long interval = 1000, timeout = 3000, budget = 2500;
	struct liveness_policy policy;
	struct liveness_tcp plan;
	struct redis c;
	unsigned attempt = 0;
	liveness_time wait = 0;
	int opt, r, err;

	while ((opt = getopt(argc, argv, "i:t:b:")) != -1) {
		switch (opt) {
		case 'i': interval = strtoul(optarg, NULL, 10); break;
		case 't': timeout = strtoul(optarg, NULL, 10); break;
		case 'b': budget = strtoul(optarg, NULL, 10); break;
		default: goto usage;
		}
	}
	if (optind + 2 != argc || inet_pton(AF_INET, argv[optind], &a.sin_addr) != 1)
		goto usage;
	a.sin_port = htons((uint16_t)strtoul(argv[optind + 1], NULL, 10));
	signal(SIGPIPE, SIG_IGN);
	rng = liveness_now() | 1;
	if ((r = liveness_policy_init(&policy, interval * LIVENESS_MSEC,
				      timeout * LIVENESS_MSEC)) != 0 ||
	    (r = liveness_tcp_plan(&plan, budget * LIVENESS_MSEC)) != 0) {
		fprintf(stderr, "redis: bad timing: %s\n", liveness_strerror(r));
		return 2;
	}
	for (;;) {
		enum liveness_cause why;
		liveness_time now;

		if (wait > 0) {
			/* The backoff is a poll() timeout on nothing, jittered so that
			 * many clients of one server do not return in step. */
			printf("retry in %llu ms\n", (unsigned long long)(wait / LIVENESS_MSEC));
			fflush(stdout);
			poll(NULL, 0, liveness_poll_timeout(liveness_now() + wait, liveness_now()));
		}
		c.fd = connect_to(&a, &plan, policy.timeout, &why, &err);
		if (c.fd < 0) {
			printf("connect failed cause=%s (%s)\n", liveness_cause_name(why),
			       liveness_strerror(err));
			wait = backoff(attempt++);
			continue;
		}
		attempt = 0;
		printf("connected %s:%s\n", argv[optind], argv[optind + 1]);
		why = run(&c, &policy);
		now = liveness_now();
		printf("verdict cause=%s silent_ms=%llu at_ns=%llu\n", liveness_cause_name(why),
		       (unsigned long long)((now - c.last_rx) / LIVENESS_MSEC),
		       (unsigned long long)now);
		if ((r = liveness_abort(c.fd)) != 0) {
			fprintf(stderr, "redis: liveness_abort: %s\n", liveness_strerror(r));
			close(c.fd);
		}
		wait = backoff(attempt++);
	}
usage:
	fprintf(stderr, "usage: redis [-i interval_ms] [-t timeout_ms] [-b budget_ms] host port\n");
	return 2;
}
