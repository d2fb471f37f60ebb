/*
 * poll - a client of the epoll server's protocol (proto.h) on poll(2).
 *
 * What it shows: one connection's heartbeat (struct liveness_hb, no group)
 * driving the poll() timeout through liveness_hb_deadline() and
 * liveness_poll_timeout(); the server's PINGs answered through the flood
 * guard; and after a verdict an abortive close and a reconnect with
 * exponential backoff and jitter. The loop itself is in client.h and the
 * protocol in proto_client.h, both shared with select.c: only the wait
 * below differs.
 *
 * Run:   build/examples/poll [-i interval_ms] [-t timeout_ms] [-b budget_ms] host port
 * e.g.   build/examples/epoll -p 7300 &  build/examples/poll 127.0.0.1 7300
 *        (then kill -STOP, kill -9 and restart the server, and watch)
 */
#include <poll.h>

#include "proto_client.h"

static int client_wait(int fd, int timeout_ms)
{
	struct pollfd p = {.fd = fd, .events = POLLIN};

	/* POLLERR and POLLHUP come unasked; the recv() that follows names them. */
	return poll(&p, fd >= 0 ? 1 : 0, timeout_ms);
}

int main(int argc, char **argv)
{
	static struct proto_client client; /* zeroed, as liveness_hb_init() wants it */

	return client_main("poll", argc, argv, &client.c);
}
