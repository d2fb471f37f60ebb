/*
 * select - a client of the epoll server's protocol (proto.h) on select(2).
 *
 * What it shows: the same heartbeat client as poll.c (the loop is in
 * client.h), waiting in select() instead: the heartbeat's deadline becomes
 * select's struct timeval. select() cannot watch a descriptor at or above
 * FD_SETSIZE (1024); a program with more should use poll or epoll.
 *
 * Run:   build/examples/select [-i interval_ms] [-t timeout_ms] [-b budget_ms] host port
 * e.g.   build/examples/epoll -p 7300 &  build/examples/select 127.0.0.1 7300
 */
#include <sys/select.h>

#include "proto_client.h"

static int client_wait(int fd, int timeout_ms)
{
	fd_set rd;
	struct timeval tv = {.tv_sec = timeout_ms / 1000, .tv_usec = timeout_ms % 1000 * 1000};

	if (fd >= FD_SETSIZE) {
		errno = EBADF;
		return -1;
	}
	FD_ZERO(&rd);
	if (fd >= 0)
		FD_SET(fd, &rd);
	/* An error or end of file makes fd readable; the recv() that follows names it. */
	return select(fd + 1, &rd, NULL, NULL, timeout_ms < 0 ? NULL : &tv);
}

int main(int argc, char **argv)
{
	static struct proto_client client; /* zeroed, as liveness_hb_init() wants it */

	return client_main("select", argc, argv, &client.c);
}
