/*
 * A TCP client for the bpf suite, linked statically and setting no socket
 * option of its own (see tests/bpf_server.c). It connects to
 * 127.0.0.1:PORT and reports on stdout, one line each, unbuffered:
 *   connected LOCALPORT PID
 *   lost ERRNAME | closed
 * Usage: bpf-client PORT
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

int main(int argc, char **argv)
{
	struct sockaddr_in a = {.sin_family = AF_INET};
	socklen_t len = sizeof(a);
	char buf[4096];
	ssize_t r;
	int fd;

	if (argc != 2) {
		fprintf(stderr, "usage: bpf-client PORT\n");
		return 2;
	}
	a.sin_port = htons((unsigned short)atoi(argv[1]));
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	fd = socket(AF_INET, SOCK_STREAM, 0);
	if (fd < 0 || connect(fd, (struct sockaddr *)&a, sizeof(a)) != 0 ||
	    getsockname(fd, (struct sockaddr *)&a, &len) != 0) {
		perror("bpf-client");
		return 1;
	}
	dprintf(1, "connected %u %d\n", ntohs(a.sin_port), (int)getpid());
	while ((r = read(fd, buf, sizeof(buf))) > 0)
		;
	if (r == 0)
		dprintf(1, "closed\n");
	else
		dprintf(1, "lost %s\n", strerrorname_np(errno));
	return 0;
}
