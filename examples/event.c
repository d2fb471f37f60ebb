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
 *  - PINGs answered through the flood guard, and each verdict logged and
 *    carried out with liveness_abort(): RST, no orphan.
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
#include <arpa/inet.h>
#include <errno.h>
#include <event2/event.h>
#include <event2/listener.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "liveness.h"
#include "proto.h"

struct conn {
	int fd;
	struct event *read_ev;
	struct liveness_hb hb;
	liveness_time last_rx;
	struct proto_rx rx;
	char peer[INET_ADDRSTRLEN + 8];
};

static struct event_base *base;
static struct event *timer; /* the group's only timer */
static struct liveness_group group;
static struct liveness_policy policy;
static struct liveness_tcp plan;

static void die(const char *what, int err)
{
	fprintf(stderr, "event: %s: %s\n", what, liveness_strerror(err));
	exit(1);
}

/* Point the timer at the group's next deadline. */
static void arm(void)
{
	liveness_time d = liveness_group_deadline(&group);
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

static void drop(struct conn *c, enum liveness_cause cause, liveness_time now)
{
	int r;

	printf("verdict peer=%s cause=%s silent_ms=%llu at_ns=%llu\n", c->peer,
	       liveness_cause_name(cause), (unsigned long long)((now - c->last_rx) / LIVENESS_MSEC),
	       (unsigned long long)now);
	fflush(stdout);
	liveness_group_remove(&group, &c->hb);
	event_free(c->read_ev);
	if ((r = liveness_abort(c->fd)) != 0) {
		fprintf(stderr, "event: liveness_abort: %s\n", liveness_strerror(r));
		close(c->fd);
	}
	free(c);
}

/*
 * Whole or not at all; a full socket means the peer is not reading. Returns
 * -1 with errno when the connection has failed: send() consumed the
 * socket's pending error, so the caller must diagnose it now.
 */
static int send_frame(struct conn *c, int type, uint32_t seq)
{
	unsigned char f[PROTO_FRAME];

	proto_put(f, type, seq);
	if (send(c->fd, f, sizeof(f), MSG_NOSIGNAL | MSG_DONTWAIT) < 0 && errno != EAGAIN &&
	    errno != EINTR)
		return -1;
	return 0;
}

static void on_timer(evutil_socket_t fd, short what, void *arg)
{
	liveness_time now = liveness_now();
	struct liveness_hb *hb;
	enum liveness_event ev;
	uint32_t seq;

	(void)fd;
	(void)what;
	(void)arg;
	while ((hb = liveness_group_step(&group, now, &ev, &seq)) != NULL) {
		struct conn *c = liveness_container_of(hb, struct conn, hb);
		if (ev == LIVENESS_PING) {
			if (send_frame(c, PROTO_PING, seq) != 0)
				drop(c, liveness_diagnose(c->fd, -1, errno), now);
		} else
			drop(c, LIVENESS_HEARTBEAT_TIMEOUT, now);
	}
	fflush(stdout);
	arm();
}

static void on_readable(evutil_socket_t fd, short what, void *arg)
{
	struct conn *c = arg;
	liveness_time now = liveness_now();
	unsigned char buf[4096], f[PROTO_FRAME];
	const unsigned char *p = buf;
	ssize_t n = recv(fd, buf, sizeof(buf), 0);
	size_t len;

	(void)what;
	if (n <= 0) {
		if (n < 0 && (errno == EAGAIN || errno == EINTR))
			return;
		drop(c, liveness_diagnose(fd, n, n < 0 ? errno : 0), now);
		return;
	}
	liveness_hb_rx(&c->hb, now);
	c->last_rx = now;
	len = (size_t)n;
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
				if (send_frame(c, PROTO_PONG, proto_seq(f)) != 0) {
					drop(c, liveness_diagnose(fd, -1, errno), now);
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
	c->last_rx = now;
	inet_ntop(AF_INET, &a->sin_addr, c->peer, sizeof(c->peer));
	snprintf(c->peer + strlen(c->peer), sizeof(c->peer) - strlen(c->peer), ":%u",
		 ntohs(a->sin_port));
	c->read_ev = event_new(base, fd, EV_READ | EV_PERSIST, on_readable, c);
	if (c->read_ev == NULL || event_add(c->read_ev, NULL) != 0)
		die("event_new", ENOMEM);
	if ((r = liveness_hb_init(&c->hb, &policy, now)) != 0 ||
	    (r = liveness_group_add(&group, &c->hb)) != 0)
		die("heartbeat", r);
	arm();
}

static void on_accept(struct evconnlistener *l, evutil_socket_t fd, struct sockaddr *sa,
		      int len, void *arg)
{
	(void)l;
	(void)len;
	(void)arg;
	start(fd, (const struct sockaddr_in *)sa);
}

int main(int argc, char **argv)
{
	unsigned long interval = 1000, timeout = 4000, res = 100, n = 1;
	struct sockaddr_in a = {.sin_family = AF_INET};
	struct evconnlistener *listener;
	int opt, r, listen_mode = 0;

	while ((opt = getopt(argc, argv, "ln:i:t:")) != -1) {
		switch (opt) {
		case 'l': listen_mode = 1; break;
		case 'n': n = strtoul(optarg, NULL, 10); break;
		case 'i': interval = strtoul(optarg, NULL, 10); break;
		case 't': timeout = strtoul(optarg, NULL, 10); break;
		default: goto usage;
		}
	}
	if (optind + 2 != argc || inet_pton(AF_INET, argv[optind], &a.sin_addr) != 1)
		goto usage;
	a.sin_port = htons((uint16_t)strtoul(argv[optind + 1], NULL, 10));
	signal(SIGPIPE, SIG_IGN);
	if ((r = liveness_policy_init(&policy, interval * LIVENESS_MSEC,
				      timeout * LIVENESS_MSEC)) != 0 ||
	    (r = liveness_tcp_plan(&plan, 2500 * LIVENESS_MSEC)) != 0 ||
	    (r = liveness_group_init(&group, res * LIVENESS_MSEC, liveness_now())) != 0)
		die("setup", r);
	base = event_base_new();
	if (base == NULL || (timer = evtimer_new(base, on_timer, NULL)) == NULL)
		die("event_base_new", ENOMEM);

	if (listen_mode) {
		listener = evconnlistener_new_bind(base, on_accept, NULL,
						   LEV_OPT_CLOSE_ON_FREE | LEV_OPT_REUSEABLE, -1,
						   (struct sockaddr *)&a, sizeof(a));
		if (listener == NULL)
			die("listen", errno);
		/* Accepted sockets inherit keepalive and TCP_USER_TIMEOUT from here. */
		if ((r = liveness_tcp_set(evconnlistener_get_fd(listener), &plan)) != 0)
			die("liveness_tcp_set", r);
		printf("listening port=%s\n", argv[optind + 1]);
	} else {
		/* Blocking connects before the loop starts: simple, and enough here. */
		for (unsigned long i = 0; i < n; i++) {
			int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
			if (fd < 0 || (r = liveness_tcp_set(fd, &plan)) != 0)
				die("socket", fd < 0 ? errno : -r);
			if (connect(fd, (struct sockaddr *)&a, sizeof(a)) != 0)
				die("connect", errno);
			start(fd, &a);
		}
		printf("connected n=%lu\n", n);
	}
	fflush(stdout);
	return event_base_dispatch(base) < 0 ? 1 : 0;
usage:
	fprintf(stderr, "usage: event [-l] [-n conns] [-i interval_ms] [-t timeout_ms] host port\n");
	return 2;
}
