/*
 * uv - liveness glued to libuv: client or server of the proto.h protocol.
 *
 * What it shows:
 *  - one uv_timer_t for the whole liveness_group, re-armed from
 *    liveness_group_deadline() after each step; no timer per connection;
 *  - uv_tcp_t reads calling liveness_hb_rx() (a store: the timer is not
 *    touched, because data never makes a deadline earlier);
 *  - PINGs answered through the flood guard, PONGs matched;
 *  - the verdict's cause from liveness_diagnose() on the handle's fd
 *    (libuv's negative error codes are negated errnos on Unix), and
 *    uv_tcp_close_reset(), libuv's liveness_abort(): RST, no orphan.
 *
 * Run:   build/examples/uv [-n conns] [-i interval_ms] [-t timeout_ms] host port
 *        build/examples/uv -l [-i interval_ms] [-t timeout_ms] host port
 * e.g.   build/examples/epoll -p 7300 &  build/examples/uv -n 10 127.0.0.1 7300
 *        (with a longer interval than the server's, the server pings first)
 *
 * Output, one line each:
 *   connected n=10 | listening port=7300
 *   answered peer=127.0.0.1:7300 seq=...    a PING from the peer, answered
 *   pong peer=... rtt_us=...                the answer to our PING
 *   verdict peer=... cause=closed silent_ms=3 at_ns=...
 */
#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <uv.h>

#include "liveness.h"
#include "proto.h"

struct conn {
	uv_tcp_t tcp; /* first: a uv_handle_t * is a struct conn * */
	uv_connect_t req;
	struct liveness_hb hb;
	liveness_time last_rx;
	struct proto_rx rx;
	char peer[INET_ADDRSTRLEN + 8];
};

static uv_loop_t *loop;
static uv_timer_t timer; /* the group's only timer */
static struct liveness_group group;
static struct liveness_policy policy;
static struct liveness_tcp plan;
static unsigned long wanted, connected;

static void die(const char *what, int err)
{
	fprintf(stderr, "uv: %s: %s\n", what, liveness_strerror(err));
	exit(1);
}

static void on_timer(uv_timer_t *t);

/* Point the timer at the group's next deadline. */
static void arm(void)
{
	liveness_time d = liveness_group_deadline(&group);

	if (d == LIVENESS_NEVER) {
		uv_timer_stop(&timer);
		return;
	}
	uv_update_time(loop); /* uv's clock is cached per iteration; refresh before arming */
	uv_timer_start(&timer, on_timer, (uint64_t)liveness_poll_timeout(d, liveness_now()), 0);
}

static void on_closed(uv_handle_t *h)
{
	free(h); /* the struct conn */
}

static void drop(struct conn *c, enum liveness_cause cause, liveness_time now)
{
	printf("verdict peer=%s cause=%s silent_ms=%llu at_ns=%llu\n", c->peer,
	       liveness_cause_name(cause), (unsigned long long)((now - c->last_rx) / LIVENESS_MSEC),
	       (unsigned long long)now);
	fflush(stdout);
	liveness_group_remove(&group, &c->hb);
	/* libuv's abortive close; fall back to a plain one if it refuses. */
	if (uv_tcp_close_reset(&c->tcp, on_closed) != 0)
		uv_close((uv_handle_t *)&c->tcp, on_closed);
}

/*
 * A 5-byte frame goes whole or not at all; if the socket is full the peer
 * is not reading, and its heartbeat will tell. Returns 0, or a negated
 * errno when the connection has failed: the write consumed the socket's
 * pending error, so the caller must diagnose it now, with this errno.
 */
static int send_frame(struct conn *c, int type, uint32_t seq)
{
	unsigned char f[PROTO_FRAME];
	uv_buf_t b = uv_buf_init((char *)f, sizeof(f));
	int r;

	proto_put(f, type, seq);
	r = uv_try_write((uv_stream_t *)&c->tcp, &b, 1);
	return r < 0 && r != UV_EAGAIN ? r : 0;
}

static void drop_failed(struct conn *c, int err, liveness_time now)
{
	uv_os_fd_t fd;

	uv_fileno((uv_handle_t *)&c->tcp, &fd);
	drop(c, liveness_diagnose(fd, -1, -err), now);
}

static void on_timer(uv_timer_t *t)
{
	liveness_time now = liveness_now();
	struct liveness_hb *hb;
	enum liveness_event ev;
	uint32_t seq;

	(void)t;
	while ((hb = liveness_group_step(&group, now, &ev, &seq)) != NULL) {
		struct conn *c = liveness_container_of(hb, struct conn, hb);
		int r;
		if (ev == LIVENESS_PING) {
			if ((r = send_frame(c, PROTO_PING, seq)) != 0)
				drop_failed(c, r, now);
		} else
			drop(c, LIVENESS_HEARTBEAT_TIMEOUT, now);
	}
	fflush(stdout);
	arm();
}

static void on_alloc(uv_handle_t *h, size_t size, uv_buf_t *b)
{
	static char buf[65536]; /* one thread, one read at a time */

	(void)h;
	(void)size;
	*b = uv_buf_init(buf, sizeof(buf));
}

static void on_read(uv_stream_t *s, ssize_t n, const uv_buf_t *b)
{
	struct conn *c = (struct conn *)s;
	liveness_time now = liveness_now();
	const unsigned char *p = (const unsigned char *)b->base;
	unsigned char f[PROTO_FRAME];
	size_t len = n > 0 ? (size_t)n : 0;
	uv_os_fd_t fd;

	if (n < 0) {
		/* UV_EOF is a FIN; anything else is -errno. Ask the socket itself. */
		uv_fileno((uv_handle_t *)s, &fd);
		drop(c, n == UV_EOF ? liveness_diagnose(fd, 0, 0) : liveness_diagnose(fd, -1, (int)-n),
		     now);
		return;
	}
	if (n == 0)
		return;
	liveness_hb_rx(&c->hb, now);
	c->last_rx = now;
	while (proto_next(&c->rx, &p, &len, f)) {
		if (f[0] == PROTO_PONG) {
			liveness_hb_pong(&c->hb, proto_seq(f), now);
			printf("pong peer=%s rtt_us=%llu\n", c->peer,
			       (unsigned long long)(liveness_hb_rtt(&c->hb) / LIVENESS_USEC));
		} else if (f[0] == PROTO_PING) {
			int ok = liveness_hb_peer_ping(&c->hb, now);
			if (ok < 0) {
				drop(c, LIVENESS_FLOOD, now);
				return;
			}
			if (ok == 1) {
				int r = send_frame(c, PROTO_PONG, proto_seq(f));
				if (r != 0) {
					drop_failed(c, r, now);
					return;
				}
				printf("answered peer=%s seq=%lu\n", c->peer, (unsigned long)proto_seq(f));
			}
		} else {
			drop(c, LIVENESS_LOCAL_ERROR, now);
			return;
		}
	}
	fflush(stdout);
}

/* A connection is up (either side): heartbeat, group, reads. */
static void start(struct conn *c, int set_plan)
{
	liveness_time now = liveness_now();
	struct sockaddr_in a;
	int len = sizeof(a), r;
	uv_os_fd_t fd;

	uv_tcp_getpeername(&c->tcp, (struct sockaddr *)&a, &len);
	inet_ntop(AF_INET, &a.sin_addr, c->peer, sizeof(c->peer));
	snprintf(c->peer + strlen(c->peer), sizeof(c->peer) - strlen(c->peer), ":%u",
		 ntohs(a.sin_port));
	/* Accepted sockets inherit the listener's plan; connected ones get it here. */
	if (set_plan && uv_fileno((uv_handle_t *)&c->tcp, &fd) == 0 &&
	    (r = liveness_tcp_set(fd, &plan)) != 0)
		die("liveness_tcp_set", r);
	c->last_rx = now;
	if ((r = liveness_hb_init(&c->hb, &policy, now)) != 0 ||
	    (r = liveness_group_add(&group, &c->hb)) != 0)
		die("heartbeat", r);
	if ((r = uv_read_start((uv_stream_t *)&c->tcp, on_alloc, on_read)) != 0)
		die("uv_read_start", -r);
	arm();
}

static void on_connect(uv_connect_t *req, int status)
{
	struct conn *c = liveness_container_of(req, struct conn, req);

	if (status != 0)
		die("connect", -status);
	start(c, 1);
	if (++connected == wanted) {
		printf("connected n=%lu\n", wanted);
		fflush(stdout);
	}
}

static void on_connection(uv_stream_t *server, int status)
{
	struct conn *c;

	if (status != 0)
		die("listen", -status);
	c = calloc(1, sizeof(*c));
	if (c == NULL)
		die("calloc", ENOMEM);
	uv_tcp_init(loop, &c->tcp);
	if (uv_accept(server, (uv_stream_t *)&c->tcp) != 0) {
		uv_close((uv_handle_t *)&c->tcp, on_closed);
		return;
	}
	start(c, 0);
}

int main(int argc, char **argv)
{
	unsigned long interval = 3000, timeout = 6000, res = 100;
	struct sockaddr_in a;
	uv_tcp_t listener;
	uv_os_fd_t fd;
	int opt, r, listen_mode = 0;

	wanted = 1;
	while ((opt = getopt(argc, argv, "ln:i:t:")) != -1) {
		switch (opt) {
		case 'l': listen_mode = 1; break;
		case 'n': wanted = strtoul(optarg, NULL, 10); break;
		case 'i': interval = strtoul(optarg, NULL, 10); break;
		case 't': timeout = strtoul(optarg, NULL, 10); break;
		default: goto usage;
		}
	}
	if (optind + 2 != argc ||
	    uv_ip4_addr(argv[optind], atoi(argv[optind + 1]), &a) != 0)
		goto usage;
	loop = uv_default_loop();
	if ((r = liveness_policy_init(&policy, interval * LIVENESS_MSEC,
				      timeout * LIVENESS_MSEC)) != 0 ||
	    (r = liveness_tcp_plan(&plan, 2500 * LIVENESS_MSEC)) != 0 ||
	    (r = liveness_group_init(&group, res * LIVENESS_MSEC, liveness_now())) != 0)
		die("setup", r);
	uv_timer_init(loop, &timer);

	if (listen_mode) {
		uv_tcp_init(loop, &listener);
		if ((r = uv_tcp_bind(&listener, (struct sockaddr *)&a, 0)) != 0)
			die("bind", -r);
		/* Accepted sockets inherit keepalive and TCP_USER_TIMEOUT from here. */
		uv_fileno((uv_handle_t *)&listener, &fd);
		if ((r = liveness_tcp_set(fd, &plan)) != 0)
			die("liveness_tcp_set", r);
		if ((r = uv_listen((uv_stream_t *)&listener, 128, on_connection)) != 0)
			die("listen", -r);
		printf("listening port=%s\n", argv[optind + 1]);
		fflush(stdout);
	} else {
		for (unsigned long i = 0; i < wanted; i++) {
			struct conn *c = calloc(1, sizeof(*c));
			if (c == NULL)
				die("calloc", ENOMEM);
			uv_tcp_init(loop, &c->tcp);
			if ((r = uv_tcp_connect(&c->req, &c->tcp, (struct sockaddr *)&a, on_connect)) != 0)
				die("connect", -r);
		}
	}
	return uv_run(loop, UV_RUN_DEFAULT);
usage:
	fprintf(stderr, "usage: uv [-l] [-n conns] [-i interval_ms] [-t timeout_ms] host port\n");
	return 2;
}
