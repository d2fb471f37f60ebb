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
 * with exponential backoff and jitter: that loop is client.h's, shared with
 * select.c and poll.c; this file is the RESP side of it and a poll() wait.
 *
 * Run:   build/examples/redis [-i interval_ms] [-t timeout_ms] [-b budget_ms] host port
 * e.g.   redis-server --port 6390 --save '' --appendonly no &
 *        build/examples/redis 127.0.0.1 6390      (then: kill -STOP / -KILL the server)
 *
 * Output, one line each:
 *   connected 127.0.0.1:6390
 *   pong peer=127.0.0.1:6390 rtt_us=83
 *   verdict peer=127.0.0.1:6390 cause=heartbeat-timeout silent_ms=2001 at_ns=...
 *   connect failed cause=refused (connection refused)
 *   retry in 180 ms (attempt 1)
 */
#include <poll.h>

#include "client.h"

#define MAX_OUT 16 /* pings in flight we remember; more are simply not matched */

struct redis {
	struct client c;
	uint32_t seqs[MAX_OUT]; /* FIFO of pings awaiting "+PONG" */
	unsigned head, count;
	char line[256]; /* the reply line being read */
	size_t line_len;
};

/* The wait of client.h's loop: poll(), as in poll.c. */
static int client_wait(int fd, int timeout_ms)
{
	struct pollfd p = {.fd = fd, .events = POLLIN};

	return poll(&p, fd >= 0 ? 1 : 0, timeout_ms);
}

/* A new connection: no ping in flight, no partial reply line. */
static void client_start(struct client *c)
{
	struct redis *r = liveness_container_of(c, struct redis, c);

	r->head = r->count = 0;
	r->line_len = 0;
}

/* RESP "PING"; its seq waits in the FIFO for the "+PONG" that answers it. */
static enum liveness_cause client_ping(struct client *c, uint32_t seq)
{
	static const char ping[] = "*1\r\n$4\r\nPING\r\n";
	struct redis *r = liveness_container_of(c, struct redis, c);

	if (r->count < MAX_OUT)
		r->seqs[(r->head + r->count++) % MAX_OUT] = seq;
	/* 14 bytes into a send buffer redis keeps draining: sent whole or not at all. */
	if (send(c->fd, ping, sizeof(ping) - 1, MSG_NOSIGNAL) < 0 && errno != EAGAIN)
		return liveness_diagnose(c->fd, -1, errno);
	return LIVENESS_ALIVE;
}

/* One reply line from redis. "+PONG" answers the oldest ping in flight. */
static void on_line(struct redis *r, liveness_time now)
{
	if (r->line_len >= 5 && memcmp(r->line, "+PONG", 5) == 0 && r->count > 0) {
		uint32_t seq = r->seqs[r->head];
		r->head = (r->head + 1) % MAX_OUT;
		r->count--;
		liveness_hb_pong(&r->c.hb, seq, now);
		printf("pong peer=%s rtt_us=%llu\n", r->c.name,
		       (unsigned long long)(liveness_hb_rtt(&r->c.hb) / LIVENESS_USEC));
	}
}

/* Bytes from redis, cut into reply lines. */
static enum liveness_cause client_input(struct client *c, const unsigned char *p, size_t n,
					liveness_time now)
{
	struct redis *r = liveness_container_of(c, struct redis, c);

	for (size_t i = 0; i < n; i++) {
		if (p[i] == '\n') {
			on_line(r, now);
			r->line_len = 0;
		} else if (r->line_len < sizeof(r->line)) {
			r->line[r->line_len++] = (char)p[i];
		}
	}
	return LIVENESS_ALIVE;
}

int main(int argc, char **argv)
{
	static struct redis redis; /* zeroed, as liveness_hb_init() wants it */

	return client_main("redis", argc, argv, &redis.c);
}
