/*
 * A program for the tests of `liveness run`: it makes one TCP socket and
 * prints the keepalive settings it got, so a test sees whether the shim
 * reached it. Built by the test itself, dynamically and statically.
 */
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <sys/socket.h>
#include <unistd.h>

int main(void)
{
	int fd = socket(AF_INET, SOCK_STREAM, 0), on = -1, idle = -1;
	socklen_t len = sizeof(on);

	if (fd < 0)
		return 1;
	getsockopt(fd, SOL_SOCKET, SO_KEEPALIVE, &on, &len);
	len = sizeof(idle);
	getsockopt(fd, IPPROTO_TCP, TCP_KEEPIDLE, &idle, &len);
	printf("keepalive=%d idle=%d\n", on, idle);
	close(fd);
	return 0;
}
