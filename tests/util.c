#include "util.h"
#include "netns.h"

#include <arpa/inet.h>
#include <check.h>
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

int tu_listen(uint16_t port)
{
	struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons(port)};
	int one = 1;
	int fd = socket(AF_INET, SOCK_STREAM, 0);

	ck_assert_int_ge(fd, 0);
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	ck_assert_msg(bind(fd, (struct sockaddr *)&a, sizeof(a)) == 0, "bind: %s", strerror(errno));
	ck_assert_int_eq(listen(fd, 128), 0);
	return fd;
}

uint16_t tu_port(int fd)
{
	struct sockaddr_in a;
	socklen_t len = sizeof(a);

	ck_assert_int_eq(getsockname(fd, (struct sockaddr *)&a, &len), 0);
	return ntohs(a.sin_port);
}

void tu_pair_port(uint16_t port, int *client, int *server, int *listener)
{
	int l = tu_listen(port);
	struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons(tu_port(l))};

	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	*client = socket(AF_INET, SOCK_STREAM, 0);
	ck_assert_int_ge(*client, 0);
	ck_assert_msg(connect(*client, (struct sockaddr *)&a, sizeof(a)) == 0, "connect: %s",
		      strerror(errno));
	*server = accept(l, NULL, NULL);
	ck_assert_int_ge(*server, 0);
	if (listener)
		*listener = l;
	else
		close(l);
}

void tu_pair(int *client, int *server)
{
	tu_pair_port(0, client, server, NULL);
}

int tu_netns(const char *what)
{
	char why[256];
	const char *req = getenv("LIVENESS_REQUIRE_NETNS");

	if (netns_enter(why, sizeof(why)) == 0)
		return 1;
	if (req && strcmp(req, "1") == 0)
		ck_abort_msg("%s: a private network namespace is required here "
			     "(LIVENESS_REQUIRE_NETNS=1) but: %s",
			     what, why);
	printf("SKIP %s: %s\n", what, why);
	fflush(stdout);
	return 0;
}

void tu_nft(const char *ruleset)
{
	ck_assert_msg(netns_nft(ruleset) == 0, "nft rejected: %s", ruleset);
}

void tu_drop_port(uint16_t port)
{
	ck_assert_msg(netns_drop_port(port) == 0, "nft: cannot drop port %u", port);
}

void tu_undrop(void)
{
	ck_assert_int_eq(netns_undrop(), 0);
}

liveness_time tu_wait_readable(int fd, liveness_time timeout)
{
	liveness_time start = liveness_now(), deadline = start + timeout;
	struct pollfd p = {.fd = fd, .events = POLLIN};

	for (;;) {
		liveness_time now = liveness_now();
		int r = poll(&p, 1, liveness_poll_timeout(deadline, now));
		if (r > 0)
			return liveness_now() - start;
		if (r == 0 && liveness_now() >= deadline)
			return LIVENESS_NEVER;
		ck_assert(r >= 0 || errno == EINTR);
	}
}

int tu_socket_exists(uint16_t local_port)
{
	/* /proc/net/tcp lists every TCP socket of this namespace, orphans included. */
	char line[512], want[16];
	FILE *f = fopen("/proc/net/tcp", "r");
	int found = 0;

	ck_assert_ptr_nonnull(f);
	snprintf(want, sizeof(want), ":%04X ", local_port);
	while (fgets(line, sizeof(line), f)) {
		char *local = strchr(line, ':');
		/* The first "addr:port" column after the slot number is the local address. */
		if (local && (local = strchr(local + 1, ':')) &&
		    strncmp(local, want, strlen(want)) == 0)
			found = 1;
	}
	fclose(f);
	return found;
}

struct liveness_hb *tu_group_step(struct liveness_group *g, liveness_time now,
				  enum liveness_event *ev, uint32_t *seq)
{
	struct liveness_hb *member = (struct liveness_hb *)1;
	enum liveness_event e = (enum liveness_event) - 1;
	int r = liveness_group_step(g, now, &member, &e, seq);

	ck_assert_int_ge(r, 0);
	ck_assert_int_le(r, 1);
	ck_assert(r == 1 ? member != NULL && e != LIVENESS_NONE
			 : member == NULL && e == LIVENESS_NONE);
	if (ev != NULL)
		*ev = e;
	return member;
}

int tu_sysctl_ipv4(const char *name)
{
	char path[128];
	int v = -1;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/sys/net/ipv4/%s", name);
	f = fopen(path, "r");
	ck_assert_ptr_nonnull(f);
	ck_assert_int_eq(fscanf(f, "%d", &v), 1);
	fclose(f);
	return v;
}
