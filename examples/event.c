/*
 * event - liveness glued to libevent: a server (or client) of proto.h.
 *
 * What it shows:
 *  - one timer event for the whole liveness_group, re-armed from
 *    liveness_group_deadline() after each step; no timer per connection;
 *  - one persistent EV_READ event per connection whose callback reads with
 *    recv() and calls liveness_hb_rx() (a store; the timer is not touched);
 *  - the listener (evconnlistener) tuned once with liveness_tcp_plan():
 *    accepted sockets inherit keepalive and TCP_USER_TIMEOUT;
 *  - PINGs answered through the flood guard (proto_input() in proto.h),
 *    and each verdict logged and carried out with liveness_abort(): RST,
 *    no orphan.
 *
 * Run:   build/examples/event -l [-i interval_ms] [-t timeout_ms] host port
 *        build/examples/event [-n conns] [-i interval_ms] [-t timeout_ms] host port
 * e.g.   build/examples/event -l 127.0.0.1 7400 &  build/examples/poll 127.0.0.1 7400
 *
 * Output, one line each:
 *   listening port=7400 | connected n=10
 *   answered peer=127.0.0.1:40312 seq=...   a PING from the peer, answered
 *   pong peer=... rtt_us=...                the answer to our PING
 *   verdict peer=... cause=heartbeat-timeout silent_ms=4050 at_ns=...
 */
#include <errno.h>
#include <event2/event.h>
#include <event2/listener.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "args.h"
#include "liveness.h"
#include "proto.h"
#include "verdict.h"

struct conn {
	int fd;
	struct event *read_ev;
	struct liveness_hb hb;
	struct proto_rx rx;
	char peer[INET_ADDRSTRLEN + 8];
};

static struct event_base *base;
static struct event *timer; /* the group's only timer */
static struct liveness_group *group;
static struct liveness_policy policy;
static struct liveness_tcp plan;

static void die(const char *what, int err)
{
	/* A library result is a negated errno, a failed libc call leaves a positive one. */
	fprintf(stderr, "event: %s: %s\n", what, err < 0 ? liveness_strerror(err) : strerror(err));
	exit(1);
}

/* Point the timer at the group's next deadline. */
static void arm(void)
{
	liveness_time d = liveness_group_deadline(group);
	int ms;
	struct timeval tv;

	if (d == LIVENESS_NEVER) {
		evtimer_del(timer);
		return;
	}
	ms = liveness_poll_timeout(d, liveness_now());
	tv.tv_sec = ms / 1000;
	tv.tv_usec = ms % 1000 * 1000;
	evtimer_add(timer, &tv);
}

/* A proto_drop_fn: the verdict logged and carried out. */
static void drop(struct liveness_hb *hb, enum liveness_cause cause, liveness_time now)
{
	struct conn *c = liveness_container_of(hb, struct conn, hb);
	int r;

	verdict_log("verdict", c->peer, hb, cause, now);
	fflush(stdout);
	liveness_group_remove(group, &c->hb);
	event_free(c->read_ev);
	if ((r = liveness_abort(c->fd)) != 0) {
		fprintf(stderr, "event: liveness_abort: %s\n", liveness_strerror(r));
		close(c->fd);
	}
	free(c);
}

/* A proto_send_fn: whole or not at all; a full socket means the peer is not reading. */
static enum liveness_cause send_frame(struct liveness_hb *hb, int type, uint32_t seq)
{
	struct conn *c = liveness_container_of(hb, struct conn, hb);
	unsigned char f[PROTO_FRAME];

	proto_put(f, type, seq);
	if (send(c->fd, f, sizeof(f), MSG_NOSIGNAL | MSG_DONTWAIT) < 0 && errno != EAGAIN &&
	    errno != EINTR)
		return liveness_diagnose(c->fd, -1, errno);
	return LIVENESS_ALIVE;
}

/* A proto_fd_fn. */
static int fd_of(struct liveness_hb *hb)
{
	return liveness_container_of(hb, struct conn, hb)->fd;
}

static void on_timer(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	(void)arg;
	proto_step_group(group, liveness_now(), send_frame, fd_of, drop);
	fflush(stdout);
	arm();
}

static void on_readable(evutil_socket_t fd, short what, void *arg)
{
	struct conn *c = arg;
	liveness_time now = liveness_now();
	unsigned char buf[4096];
	ssize_t n = recv(fd, buf, sizeof(buf), 0);
	enum liveness_cause why;

	(void)what;
	if (n < 0 && (errno == EAGAIN || errno == EINTR))
		return;
	if (n <= 0) {
		drop(&c->hb, liveness_diagnose(fd, n, n < 0 ? errno : 0), now);
		return;
	}
	liveness_hb_rx(&c->hb, now); /* a store; the timer is not touched */
	why = proto_input(&c->hb, &c->rx, c->peer, buf, (size_t)n, now, send_frame);
	if (why != LIVENESS_ALIVE)
		drop(&c->hb, why, now);
	fflush(stdout);
}

/* A connection is up (either side): heartbeat, group, read event. */
static void start(int fd, const struct sockaddr_in *a)
{
	liveness_time now = liveness_now();
	struct conn *c = calloc(1, sizeof(*c));
	int r;

	if (c == NULL)
		die("calloc", ENOMEM);
	evutil_make_socket_nonblocking(fd);
	c->fd = fd;
	args_name(c->peer, sizeof(c->peer), a);
	c->read_ev = event_new(base, fd, EV_READ | EV_PERSIST, on_readable, c);
	if (c->read_ev == NULL || event_add(c->read_ev, NULL) != 0)
		die("event_new", ENOMEM);
	if ((r = liveness_hb_init(&c->hb, &policy, now)) != 0 ||
	    (r = liveness_group_add(group, &c->hb)) != 0)
		die("heartbeat", r);
	arm();
}

static void on_accept(struct evconnlistener *l, evutil_socket_t fd, struct sockaddr *sa, int len,
		      void *arg)
{
	(void)l;
	(void)len;
	(void)arg;
	start(fd, (const struct sockaddr_in *)sa);
}

int main(int argc, char **argv)
{
	struct args a = {.conns = 1, .interval = 1000, .timeout = 4000};
	struct evconnlistener *listener;
	int r;

	args_parse(&a, argc, argv, "ln:i:t:h",
		   "event [-l] [-n conns] [-i interval_ms] [-t timeout_ms] host port");
	signal(SIGPIPE, SIG_IGN);
	if ((r = liveness_policy_init(&policy, a.interval * LIVENESS_MSEC,
				      a.timeout * LIVENESS_MSEC)) != 0 ||
	    (r = liveness_tcp_plan(&plan, 2500 * LIVENESS_MSEC)) != 0 ||
	    (r = liveness_group_new(&group, 100 * LIVENESS_MSEC, liveness_now())) != 0)
		die("setup", r);
	base = event_base_new();
	if (base == NULL || (timer = evtimer_new(base, on_timer, NULL)) == NULL)
		die("event_base_new", ENOMEM);

	if (a.listen) {
		listener = evconnlistener_new_bind(base, on_accept, NULL,
						   LEV_OPT_CLOSE_ON_FREE | LEV_OPT_REUSEABLE, -1,
						   (struct sockaddr *)&a.addr, sizeof(a.addr));
		if (listener == NULL)
			die("listen", errno);
		/* Accepted sockets inherit keepalive and TCP_USER_TIMEOUT from here. */
		if ((r = liveness_tcp_set(evconnlistener_get_fd(listener), &plan)) != 0)
			die("liveness_tcp_set", r);
		printf("listening port=%u\n", ntohs(a.addr.sin_port));
	} else {
		/* Blocking connects before the loop starts: simple, and enough here. */
		for (unsigned long i = 0; i < a.conns; i++) {
			int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
			if (fd < 0 || (r = liveness_tcp_set(fd, &plan)) != 0)
				die("socket", fd < 0 ? errno : r);
			if (connect(fd, (struct sockaddr *)&a.addr, sizeof(a.addr)) != 0)
				die("connect", errno);
			start(fd, &a.addr);
		}
		printf("connected n=%lu\n", a.conns);
	}
	fflush(stdout);
	return event_base_dispatch(base) < 0 ? 1 : 0;
}
