/*
 * client.h - the reconnecting heartbeat client shared by select.c, poll.c
 * and redis.c.
 *
 * Everything but the wait for input and the protocol: connect, ping the
 * server through a struct liveness_hb (layer 3, one connection, no group),
 * and after a verdict abort the socket and reconnect with exponential
 * backoff and jitter. Each program supplies these static functions:
 *
 *   client_wait(fd, timeout_ms)   wait for input with its own system call;
 *   client_start(c)               a new connection: forget the last one's
 *                                 partial input;
 *   client_ping(c, seq)           send a ping carrying seq;
 *   client_input(c, p, n, now)    bytes from the server, already counted as
 *                                 proof of life.
 *
 * select.c and poll.c speak proto.h (proto_client.h supplies the last three
 * for them); redis.c speaks RESP. A program embeds struct client in its own
 * object and finds that again with liveness_container_of().
 *
 * Output, one line each, besides the protocol's own:
 *   connected 127.0.0.1:7300
 *   verdict peer=127.0.0.1:7300 cause=closed silent_ms=12 at_ns=...
 *   connect failed cause=refused (connection refused)
 *   retry in 73 ms (attempt 1)
 */
#ifndef LIVENESS_EXAMPLES_CLIENT_H
#define LIVENESS_EXAMPLES_CLIENT_H

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "args.h"
#include "liveness.h"
#include "verdict.h"

struct client {
	int fd;
	struct liveness_hb hb;
	const char *name; /* "host:port" of the server, for the log */
};

/*
 * Wait until fd is readable (fd >= 0) or timeout_ms passes (-1: forever;
 * fd -1: just wait). Returns > 0 readable, 0 timeout, -1 error (errno).
 */
static int client_wait(int fd, int timeout_ms);
/* The hooks of the protocol: LIVENESS_ALIVE, or why the connection must end. */
static void client_start(struct client *c);
static enum liveness_cause client_ping(struct client *c, uint32_t seq);
static enum liveness_cause client_input(struct client *c, const unsigned char *p, size_t n,
					liveness_time now);

static uint64_t client_rng;

/* Exponential backoff from 100 ms, doubling to 5 s; each wait drawn from
 * [d/2, d) ("equal jitter") so that clients do not come back in step. */
static liveness_time client_backoff(unsigned attempt)
{
	liveness_time d = 100 * LIVENESS_MSEC << (attempt < 6 ? attempt : 6);

	if (d > 5 * LIVENESS_SEC)
		d = 5 * LIVENESS_SEC;
	client_rng ^= client_rng << 13; /* xorshift64: jitter needs spread, not secrecy */
	client_rng ^= client_rng >> 7;
	client_rng ^= client_rng << 17;
	return d / 2 + client_rng % (d / 2);
}

/*
 * Connect, blocking: the plan is set first, so its TCP_USER_TIMEOUT bounds
 * the handshake too. Returns the fd, or -1 with *why and *err saying why not.
 */
static int client_connect(const struct sockaddr_in *a, const struct liveness_tcp *plan,
			  enum liveness_cause *why, int *err)
{
	int r, fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);

	*why = LIVENESS_LOCAL_ERROR;
	*err = errno;
	if (fd < 0)
		return -1;
	if ((r = liveness_tcp_set(fd, plan)) != 0) {
		*err = r; /* negated: the library's */
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

/* Read what the server sent: proof of life, then the protocol's turn. */
static enum liveness_cause client_read(struct client *c, liveness_time now)
{
	unsigned char buf[1024];
	ssize_t n = recv(c->fd, buf, sizeof(buf), 0);

	if (n < 0 && errno == EINTR)
		return LIVENESS_ALIVE;
	if (n <= 0)
		return liveness_diagnose(c->fd, n, n < 0 ? errno : 0);
	liveness_hb_rx(&c->hb, now);
	return client_input(c, buf, (size_t)n, now);
}

/* One connection, until it dies: returns why. */
static enum liveness_cause client_run(struct client *c, const struct liveness_policy *policy)
{
	liveness_time now = liveness_now();
	enum liveness_cause why = LIVENESS_ALIVE;
	int r;

	if ((r = liveness_hb_init(&c->hb, policy, now)) != 0) {
		fprintf(stderr, "client: liveness_hb_init: %s\n", liveness_strerror(r));
		return LIVENESS_LOCAL_ERROR;
	}
	client_start(c);
	while (why == LIVENESS_ALIVE) {
		enum liveness_event ev;
		uint32_t seq;

		fflush(stdout);
		r = client_wait(
			c->fd, liveness_poll_timeout(liveness_hb_deadline(&c->hb), liveness_now()));
		now = liveness_now();
		if (r < 0 && errno != EINTR)
			return LIVENESS_LOCAL_ERROR;
		if (r > 0)
			why = client_read(c, now);
		/* Time-driven work: a ping to send, or the verdict. */
		while (why == LIVENESS_ALIVE &&
		       (ev = liveness_hb_step(&c->hb, now, &seq)) != LIVENESS_NONE)
			why = ev == LIVENESS_DEAD ? liveness_diagnose_heartbeat(c->fd)
						  : client_ping(c, seq);
	}
	return why;
}

/*
 * The program, with c its zeroed client object: parse the arguments, then
 * connect, run, back off, forever.
 */
static int client_main(const char *prog, int argc, char **argv, struct client *c)
{
	struct args a = {.interval = 1000, .timeout = 3000, .budget = 2500};
	struct liveness_policy policy;
	struct liveness_tcp plan;
	char synopsis[128];
	unsigned attempt = 0;
	liveness_time wait = 0;
	int r, err;

	snprintf(synopsis, sizeof(synopsis),
		 "%s [-i interval_ms] [-t timeout_ms] [-b budget_ms] host port", prog);
	args_parse(&a, argc, argv, "i:t:b:h", synopsis);
	c->name = a.name;
	signal(SIGPIPE, SIG_IGN);
	client_rng = (liveness_now() ^ ((uint64_t)getpid() << 32)) | 1;
	if ((r = liveness_policy_init(&policy, a.interval * LIVENESS_MSEC,
				      a.timeout * LIVENESS_MSEC)) != 0 ||
	    (r = liveness_tcp_plan(&plan, a.budget * LIVENESS_MSEC)) != 0) {
		fprintf(stderr, "%s: bad timing: %s\n", prog, liveness_strerror(r));
		return 2;
	}
	for (;;) {
		enum liveness_cause why;

		if (wait > 0) {
			printf("retry in %llu ms (attempt %u)\n",
			       (unsigned long long)(wait / LIVENESS_MSEC), attempt);
			fflush(stdout);
			client_wait(-1,
				    liveness_poll_timeout(liveness_now() + wait, liveness_now()));
		}
		c->fd = client_connect(&a.addr, &plan, &why, &err);
		if (c->fd < 0) {
			printf("connect failed cause=%s (%s)\n", liveness_cause_name(why),
			       err < 0 ? liveness_strerror(err) : strerror(err));
			wait = client_backoff(attempt++);
			continue;
		}
		attempt = 0;
		printf("connected %s\n", c->name);
		why = client_run(c, &policy);
		verdict_log("verdict", c->name, &c->hb, why, liveness_now());
		/* RST now: a dead server must not leave us an orphan retransmitting. */
		if ((r = liveness_abort(c->fd)) != 0) {
			fprintf(stderr, "%s: liveness_abort: %s\n", prog, liveness_strerror(r));
			close(c->fd);
		}
		wait = client_backoff(attempt++);
	}
}

#endif
