/*
 * A TCP server for the bpf suite, linked statically so that no
 * LD_PRELOAD shim could reach it, and setting no socket option of its
 * own: whatever keepalive or user timeout its connections have, the
 * kernel gave them. It listens on 127.0.0.1:PORT and reports on stdout,
 * one line each, unbuffered, for the test to time:
 *   listening PID
 *   accepted PEERPORT
 *   lost PEERPORT ERRNAME     (read() failed: ETIMEDOUT when keepalive or
 *                              the user timeout ended the connection)
 *   closed PEERPORT           (the peer closed it)
 * Usage: bpf-server PORT
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#define MAX_CONNS 16

static unsigned peer_port(int fd)
{
	struct sockaddr_in a;
	socklen_t len = sizeof(a);

	if (getpeername(fd, (struct sockaddr *)&a, &len) != 0)
		return 0;
	return ntohs(a.sin_port);
}

int main(int argc, char **argv)
{
	struct sockaddr_in a = {.sin_family = AF_INET};
	struct pollfd p[MAX_CONNS + 1];
	unsigned ports[MAX_CONNS + 1];
	int n = 1, one = 1;
	char buf[4096];

	if (argc != 2) {
		fprintf(stderr, "usage: bpf-server PORT\n");
		return 2;
	}
	a.sin_port = htons((unsigned short)atoi(argv[1]));
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	p[0].fd = socket(AF_INET, SOCK_STREAM, 0);
	p[0].events = POLLIN;
	/* SO_REUSEADDR concerns the listener's address, not the connections' liveness. */
	if (p[0].fd < 0 || setsockopt(p[0].fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) != 0 ||
	    bind(p[0].fd, (struct sockaddr *)&a, sizeof(a)) != 0 || listen(p[0].fd, 16) != 0) {
		perror("bpf-server");
		return 1;
	}
	dprintf(1, "listening %d\n", (int)getpid());
	for (;;) {
		if (poll(p, (nfds_t)n, -1) < 0) {
			if (errno == EINTR)
				continue;
			perror("bpf-server: poll");
			return 1;
		}
		for (int i = n - 1; i >= 1; i--) {
			ssize_t r;

			if (!p[i].revents)
				continue;
			r = read(p[i].fd, buf, sizeof(buf));
			if (r > 0)
				continue;
			if (r == 0)
				dprintf(1, "closed %u\n", ports[i]);
			else
				dprintf(1, "lost %u %s\n", ports[i], strerrorname_np(errno));
			close(p[i].fd);
			p[i] = p[--n];
			ports[i] = ports[n];
		}
		if ((p[0].revents & POLLIN) && n <= MAX_CONNS) {
			int fd = accept(p[0].fd, NULL, NULL);

			if (fd < 0)
				continue;
			p[n].fd = fd;
			p[n].events = POLLIN;
			p[n].revents = 0;
			ports[n] = peer_port(fd);
			dprintf(1, "accepted %u\n", ports[n]);
			n++;
		}
	}
}
