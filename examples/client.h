/*
 * client.h - the reconnecting heartbeat client shared by select.c and poll.c.
 *
 * Everything but the wait for input: connect, ping the server through a
 * struct liveness_hb (layer 3, one connection, no group), answer its PINGs
 * through the flood guard, match its PONGs, and after a verdict abort the
 * socket and reconnect with exponential backoff and jitter. Each program
 * supplies client_wait(fd, timeout_ms) with its own system call.
 *
 * Output, one line each:
 *   connected 127.0.0.1:7300
 *   pong rtt_us=95                 an answer to our PING
 *   answered seq=...               the server's PING, answered
 *   verdict cause=closed silent_ms=12 at_ns=...
 *   connect failed cause=refused (connection refused)
 *   retry in 73 ms (attempt 1)
 */
#ifndef LIVENESS_EXAMPLES_CLIENT_H
#define LIVENESS_EXAMPLES_CLIENT_H

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "liveness.h"
#include "proto.h"

/*
 * Wait until fd is readable (fd >= 0) or timeout_ms passes (-1: forever;
 * fd -1: just wait). Returns > 0 readable, 0 timeout, -1 error (errno).
 */
static int client_wait(int fd, int timeout_ms);

struct client {
	int fd;
	struct liveness_hb hb;
	liveness_time last_rx;
	struct proto_rx rx;
};

static uint64_t client_rng;

/* Exponential backoff from 100 ms, doubling to 5 s; each wait drawn from
 * [d/2, d) ("equal jitter") so that clients do not come back in step. */
static liveness_time client_backoff(unsigned attempt)
{
	liveness_time d = 100 * LIVENESS_MSEC << (attempt < 6 ? attempt : 6);

	if (d > 5 * LIVENESS_SEC)
		d = 5 * LIVENESS_SEC;
	client_rng ^= client_rng << 13; /* xorshift64 */
	client_rng ^= client_rng >> 7;
	client_rng ^= client_rng << 17;
	return d / 2 + client_rng % (d / 2);
}

static int client_send(struct client *c, int type, uint32_t seq)
{
	unsigned char f[PROTO_FRAME];

	proto_put(f, type, seq);
	/* 5 bytes into a send buffer the server drains: all or nothing. */
	return send(c->fd, f, sizeof(f), MSG_NOSIGNAL) < 0 && errno != EAGAIN ? -1 : 0;
}

/* Connect (blocking, bounded by the plan's TCP_USER_TIMEOUT); fd or -1. */
static int client_connect(const struct sockaddr_in *a, const struct liveness_tcp *plan,
			  enum liveness_cause *why, int *err)
{
	int r, fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);

	*why = LIVENESS_LOCAL_ERROR;
	*err = errno;
	if (fd < 0)
		return -1;
	if ((r = liveness_tcp_set(fd, plan)) != 0) {
		*err = -r;
		close(fd);
		return -1;
	}
	if (connect(fd, (const struct sockaddr *)a, sizeof(*a)) != 0) {
		*err = errno;
		*why = liveness_diagnose(fd, -1, *err);
		close(fd);
		return -1;
	}
	return fd;
}

/* Bytes from the server: proof of life, then each whole frame. */
static enum liveness_cause client_on_bytes(struct client *c, const unsigned char *p, size_t n,
					   liveness_time now)
{
	unsigned char f[PROTO_FRAME];
	int ok;

	liveness_hb_rx(&c->hb, now);
	c->last_rx = now;
	while (proto_next(&c->rx, &p, &n, f)) {
		switch (f[0]) {
		case PROTO_PONG:
			liveness_hb_pong(&c->hb, proto_seq(f), now);
			printf("pong rtt_us=%llu\n",
			       (unsigned long long)(liveness_hb_rtt(&c->hb) / LIVENESS_USEC));
			break;
		case PROTO_PING:
			/* The flood guard: a peer may not make us answer at any rate. */
			ok = liveness_hb_peer_ping(&c->hb, now);
			if (ok < 0)
				return LIVENESS_FLOOD;
			if (ok == 1) {
				if (client_send(c, PROTO_PONG, proto_seq(f)) != 0)
					return liveness_diagnose(c->fd, -1, errno);
				printf("answered seq=%lu\n", (unsigned long)proto_seq(f));
			}
			break;
		default:
			return LIVENESS_LOCAL_ERROR; /* not our protocol */
		}
	}
	return LIVENESS_ALIVE;
}

/* One connection, until it dies: returns why. */
static enum liveness_cause client_run(struct client *c, const struct liveness_policy *policy)
{
	liveness_time now = liveness_now();
	enum liveness_cause why;
	int r;

	if ((r = liveness_hb_init(&c->hb, policy, now)) != 0) {
		fprintf(stderr, "client: liveness_hb_init: %s\n", liveness_strerror(r));
		return LIVENESS_LOCAL_ERROR;
	}
	c->last_rx = now;
	c->rx.len = 0;
	for (;;) {
		enum liveness_event ev;
		uint32_t seq;

		fflush(stdout);
		r = client_wait(c->fd, liveness_poll_timeout(liveness_hb_deadline(&c->hb),
							     liveness_now()));
		now = liveness_now();
		if (r < 0 && errno != EINTR)
			return LIVENESS_LOCAL_ERROR;
		if (r > 0) {
			unsigned char buf[1024];
			ssize_t n = recv(c->fd, buf, sizeof(buf), 0);
			if (n <= 0 && !(n < 0 && errno == EINTR))
				return liveness_diagnose(c->fd, n, n < 0 ? errno : 0);
			if (n > 0 && (why = client_on_bytes(c, buf, (size_t)n, now)) != LIVENESS_ALIVE)
				return why;
		}
		while ((ev = liveness_hb_step(&c->hb, now, &seq)) != LIVENESS_NONE) {
			if (ev == LIVENESS_DEAD)
				return LIVENESS_HEARTBEAT_TIMEOUT;
			if (client_send(c, PROTO_PING, seq) != 0)
				return liveness_diagnose(c->fd, -1, errno);
		}
	}
}

/* The program: parse arguments, then connect, run, back off, forever. */
static int client_main(const char *prog, int argc, char **argv)
{
	struct sockaddr_in a = {.sin_family = AF_INET};
	unsigned long interval = 1000, timeout = 3000, budget = 2500;
	struct liveness_policy policy;
	struct liveness_tcp plan;
	struct client c;
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
	client_rng = (liveness_now() ^ ((uint64_t)getpid() << 32)) | 1;
	if ((r = liveness_policy_init(&policy, interval * LIVENESS_MSEC,
				      timeout * LIVENESS_MSEC)) != 0 ||
	    (r = liveness_tcp_plan(&plan, budget * LIVENESS_MSEC)) != 0) {
		fprintf(stderr, "%s: bad timing: %s\n", prog, liveness_strerror(r));
		return 2;
	}
	for (;;) {
		enum liveness_cause why;
		liveness_time now;

		if (wait > 0) {
			printf("retry in %llu ms (attempt %u)\n",
			       (unsigned long long)(wait / LIVENESS_MSEC), attempt);
			fflush(stdout);
			client_wait(-1, liveness_poll_timeout(liveness_now() + wait, liveness_now()));
		}
		c.fd = client_connect(&a, &plan, &why, &err);
		if (c.fd < 0) {
			printf("connect failed cause=%s (%s)\n", liveness_cause_name(why),
			       liveness_strerror(err));
			wait = client_backoff(attempt++);
			continue;
		}
		attempt = 0;
		printf("connected %s:%s\n", argv[optind], argv[optind + 1]);
		why = client_run(&c, &policy);
		now = liveness_now();
		printf("verdict cause=%s silent_ms=%llu at_ns=%llu\n", liveness_cause_name(why),
		       (unsigned long long)((now - c.last_rx) / LIVENESS_MSEC),
		       (unsigned long long)now);
		/* RST now: a dead server must not leave us an orphan retransmitting. */
		if ((r = liveness_abort(c.fd)) != 0) {
			fprintf(stderr, "%s: liveness_abort: %s\n", prog, liveness_strerror(r));
			close(c.fd);
		}
		wait = client_backoff(attempt++);
	}
usage:
	fprintf(stderr, "usage: %s [-i interval_ms] [-t timeout_ms] [-b budget_ms] host port\n",
		prog);
	return 2;
}

#endif
