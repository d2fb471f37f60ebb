/*
 * uv - liveness glued to libuv: client or server of the proto.h protocol.
 *
 * What it shows:
 *  - one uv_timer_t for the whole liveness_group, re-armed from
 *    liveness_group_deadline() after each step; no timer per connection;
 *  - uv_tcp_t reads calling liveness_hb_rx() (a store: the timer is not
 *    touched, because data never makes a deadline earlier);
 *  - PINGs answered through the flood guard, PONGs matched (proto_input()
 *    in proto.h, with uv_try_write() to send);
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
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <uv.h>

#include "args.h"
#include "liveness.h"
#include "proto.h"
#include "verdict.h"

struct conn {
	uv_tcp_t tcp; /* first: a uv_handle_t * is a struct conn * */
	uv_connect_t req;
	struct liveness_hb hb;
	struct proto_rx rx;
	char peer[INET_ADDRSTRLEN + 8];
};

static uv_loop_t *loop;
static uv_timer_t timer; /* the group's only timer */
static struct liveness_group *group;
static struct liveness_policy policy;
static struct liveness_tcp plan;
static unsigned long wanted, connected;

static void die(const char *what, int err)
{
	/* A library result is a negated errno, a failed libc call leaves a positive one. */
	fprintf(stderr, "uv: %s: %s\n", what, err < 0 ? liveness_strerror(err) : strerror(err));
	exit(1);
}

static void on_timer(uv_timer_t *t);

/* Point the timer at the group's next deadline. */
static void arm(void)
{
	liveness_time d = liveness_group_deadline(group);

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

/* A proto_fd_fn: libuv keeps the descriptor. */
static int fd_of(struct liveness_hb *hb)
{
	uv_os_fd_t fd = -1;

	uv_fileno((uv_handle_t *)&liveness_container_of(hb, struct conn, hb)->tcp, &fd);
	return fd;
}

/* A proto_drop_fn: the verdict logged and carried out. */
static void drop(struct liveness_hb *hb, enum liveness_cause cause, liveness_time now)
{
	struct conn *c = liveness_container_of(hb, struct conn, hb);

	verdict_log("verdict", c->peer, hb, cause, now);
	fflush(stdout);
	liveness_group_remove(group, &c->hb);
	/* libuv's abortive close; fall back to a plain one if it refuses. */
	if (uv_tcp_close_reset(&c->tcp, on_closed) != 0)
		uv_close((uv_handle_t *)&c->tcp, on_closed);
}

/* The cause of a failed read or write: libuv's error codes are negated errnos on Unix. */
static enum liveness_cause failed(struct conn *c, ssize_t io_result, int uv_err)
{
	uv_os_fd_t fd;

	uv_fileno((uv_handle_t *)&c->tcp, &fd);
	return liveness_diagnose(fd, io_result, -uv_err);
}

/*
 * A proto_send_fn: a 5-byte frame goes whole or not at all; if the socket
 * is full the peer is not reading, and its heartbeat will tell.
 */
static enum liveness_cause send_frame(struct liveness_hb *hb, int type, uint32_t seq)
{
	struct conn *c = liveness_container_of(hb, struct conn, hb);
	unsigned char f[PROTO_FRAME];
	uv_buf_t b = uv_buf_init((char *)f, sizeof(f));
	int r;

	proto_put(f, type, seq);
	r = uv_try_write((uv_stream_t *)&c->tcp, &b, 1);
	return r < 0 && r != UV_EAGAIN ? failed(c, -1, r) : LIVENESS_ALIVE;
}

static void on_timer(uv_timer_t *t)
{
	(void)t;
	proto_step_group(group, liveness_now(), send_frame, fd_of, drop);
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
	enum liveness_cause why;

	if (n == 0)
		return;
	/* UV_EOF is a FIN, which liveness_diagnose() hears as a read of 0. */
	if (n < 0) {
		drop(&c->hb, n == UV_EOF ? failed(c, 0, 0) : failed(c, -1, (int)n), now);
		return;
	}
	liveness_hb_rx(&c->hb, now); /* a store: data never makes a deadline earlier */
	why = proto_input(&c->hb, &c->rx, c->peer, (const unsigned char *)b->base, (size_t)n, now,
			  send_frame);
	if (why != LIVENESS_ALIVE)
		drop(&c->hb, why, now);
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
	args_name(c->peer, sizeof(c->peer), &a);
	/* Accepted sockets inherit the listener's plan; connected ones get it here. */
	if (set_plan && uv_fileno((uv_handle_t *)&c->tcp, &fd) == 0 &&
	    (r = liveness_tcp_set(fd, &plan)) != 0)
		die("liveness_tcp_set", r);
	if ((r = liveness_hb_init(&c->hb, &policy, now)) != 0 ||
	    (r = liveness_group_add(group, &c->hb)) != 0)
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
	struct args a = {.conns = 1, .interval = 3000, .timeout = 6000};
	uv_tcp_t listener;
	uv_os_fd_t fd;
	int r;

	args_parse(&a, argc, argv, "ln:i:t:h",
		   "uv [-l] [-n conns] [-i interval_ms] [-t timeout_ms] host port");
	wanted = a.conns;
	loop = uv_default_loop();
	if ((r = liveness_policy_init(&policy, a.interval * LIVENESS_MSEC,
				      a.timeout * LIVENESS_MSEC)) != 0 ||
	    (r = liveness_tcp_plan(&plan, 2500 * LIVENESS_MSEC)) != 0 ||
	    (r = liveness_group_new(&group, 100 * LIVENESS_MSEC, liveness_now())) != 0)
		die("setup", r);
	uv_timer_init(loop, &timer);

	if (a.listen) {
		uv_tcp_init(loop, &listener);
		if ((r = uv_tcp_bind(&listener, (struct sockaddr *)&a.addr, 0)) != 0)
			die("bind", -r);
		/* Accepted sockets inherit keepalive and TCP_USER_TIMEOUT from here. */
		uv_fileno((uv_handle_t *)&listener, &fd);
		if ((r = liveness_tcp_set(fd, &plan)) != 0)
			die("liveness_tcp_set", r);
		if ((r = uv_listen((uv_stream_t *)&listener, 128, on_connection)) != 0)
			die("listen", -r);
		printf("listening port=%u\n", ntohs(a.addr.sin_port));
		fflush(stdout);
	} else {
		for (unsigned long i = 0; i < wanted; i++) {
			struct conn *c = calloc(1, sizeof(*c));
			if (c == NULL)
				die("calloc", ENOMEM);
			uv_tcp_init(loop, &c->tcp);
			if ((r = uv_tcp_connect(&c->req, &c->tcp, (struct sockaddr *)&a.addr,
						on_connect)) != 0)
				die("connect", -r);
		}
	}
	return uv_run(loop, UV_RUN_DEFAULT);
}
