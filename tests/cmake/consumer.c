/* Built by tests/cmake/CMakeLists.txt against an installed liveness: the
 * header and the library must agree on the version, and a plan must reach
 * a real socket and read back. Prints one line; exit status 0 when all holds. */
#include <liveness.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#define STR_(x) #x
#define STR(x) STR_(x)

int main(void)
{
	const char *want = STR(LIVENESS_VERSION_MAJOR) "." STR(LIVENESS_VERSION_MINOR) "." STR(
		LIVENESS_VERSION_PATCH);
	struct liveness_tcp t, got;
	int fd, r;

	if (strcmp(liveness_version(), want) != 0) {
		printf("header says %s, library %s\n", want, liveness_version());
		return 1;
	}
	fd = socket(AF_INET, SOCK_STREAM, 0);
	if (fd < 0) {
		perror("socket");
		return 1;
	}
	if ((r = liveness_tcp_plan(&t, 30 * LIVENESS_SEC)) < 0 ||
	    (r = liveness_tcp_set(fd, &t)) < 0 || (r = liveness_tcp_get(fd, &got)) < 0) {
		printf("liveness: %s\n", liveness_strerror(r));
		close(fd);
		return 1;
	}
	close(fd);
	if (got.keepalive != t.keepalive ||
	    liveness_tcp_bound(&got, LIVENESS_IDLE) > 30 * LIVENESS_SEC) {
		printf("settings read back differ from the plan\n");
		return 1;
	}
	printf("liveness %s: idle peers dead within %.1f s\n", liveness_version(),
	       liveness_tcp_bound(&got, LIVENESS_IDLE) / 1e9);
	return 0;
}
