/*
 * shim-setter BUDGET_MS: a program that applies its own plan with the
 * library's setter, for the shim suite (tests/check_shim.c), which runs it
 * under the shim. It plans for BUDGET_MS milliseconds, sets that plan on a
 * new TCP socket with liveness_tcp_set(), connects the socket to a listener
 * of its own and prints the setter's result and what the kernel holds then:
 *   set RESULT keepalive K idle I interval N count C user_timeout U
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "liveness.h"

int main(int argc, char **argv)
{
	struct sockaddr_in a = {.sin_family = AF_INET};
	socklen_t len = sizeof(a);
	struct liveness_tcp plan, got;
	int l, fd, r;

	if (argc != 2 ||
	    liveness_tcp_plan(&plan, strtoull(argv[1], NULL, 10) * LIVENESS_MSEC) != 0) {
		fprintf(stderr,
			"usage: shim-setter BUDGET_MS (a budget liveness_tcp_plan() meets)\n");
		return 2;
	}
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	l = socket(AF_INET, SOCK_STREAM, 0);
	fd = socket(AF_INET, SOCK_STREAM, 0);
	if (l < 0 || fd < 0 || bind(l, (struct sockaddr *)&a, sizeof(a)) != 0 ||
	    listen(l, 1) != 0 || getsockname(l, (struct sockaddr *)&a, &len) != 0) {
		perror("shim-setter: listener");
		return 1;
	}
	r = liveness_tcp_set(fd, &plan);
	if (connect(fd, (struct sockaddr *)&a, sizeof(a)) != 0 || liveness_tcp_get(fd, &got) != 0) {
		perror("shim-setter: connect");
		return 1;
	}
	printf("set %d keepalive %d idle %d interval %d count %d user_timeout %u\n", r,
	       got.keepalive, got.idle, got.interval, got.count, got.user_timeout);
	close(fd);
	close(l);
	return 0;
}
