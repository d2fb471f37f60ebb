#include "util.h"

#include <arpa/inet.h>
#include <check.h>
#include <errno.h>
#include <net/if.h>
#include <poll.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
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
	struct ifreq ifr;
	int fd;
	const char *req = getenv("LIVENESS_REQUIRE_NETNS");
	int required = req && strcmp(req, "1") == 0;

	if (unshare(CLONE_NEWNET) != 0) {
		int e = errno;
		if (required)
			ck_abort_msg("%s: a private network namespace is required here "
				     "(LIVENESS_REQUIRE_NETNS=1) but unshare(CLONE_NEWNET) failed: %s",
				     what, strerror(e));
		printf("SKIP %s: unshare(CLONE_NEWNET): %s (run as root to include it)\n", what,
		       strerror(e));
		return 0;
	}
	fd = socket(AF_INET, SOCK_DGRAM, 0);
	ck_assert_int_ge(fd, 0);
	memset(&ifr, 0, sizeof(ifr));
	strcpy(ifr.ifr_name, "lo");
	ck_assert_int_eq(ioctl(fd, SIOCGIFFLAGS, &ifr), 0);
	ifr.ifr_flags |= IFF_UP;
	ck_assert_int_eq(ioctl(fd, SIOCSIFFLAGS, &ifr), 0);
	close(fd);
	if (system("nft --version >/dev/null 2>&1") != 0) {
		if (required)
			ck_abort_msg("%s: nft(8) is required here but missing", what);
		printf("SKIP %s: nft(8) not found (apt-get install nftables)\n", what);
		return 0;
	}
	return 1;
}

void tu_nft(const char *ruleset)
{
	FILE *p = popen("nft -f -", "w");

	ck_assert_ptr_nonnull(p);
	fputs(ruleset, p);
	ck_assert_msg(pclose(p) == 0, "nft rejected: %s", ruleset);
}

void tu_drop_port(uint16_t port)
{
	char rules[512];

	/*
	 * On loopback every packet passes the input hook on arrival, so dropping
	 * there, both directions, is a silent black hole. A drop at the output
	 * hook would not be: the sender's own stack sees -EPERM, keeps the data
	 * unsent and falls back to zero-window probes, which no vanished host
	 * causes. "add" is idempotent for the table and chain, so ports add up.
	 */
	snprintf(rules, sizeof(rules),
		 "add table inet liveness_test\n"
		 "add chain inet liveness_test in { type filter hook input priority 0; }\n"
		 "add rule inet liveness_test in tcp sport %u drop\n"
		 "add rule inet liveness_test in tcp dport %u drop\n",
		 port, port);
	tu_nft(rules);
}

void tu_undrop(void)
{
	tu_nft("delete table inet liveness_test\n");
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
		if (local && (local = strchr(local + 1, ':')) && strncmp(local, want, strlen(want)) == 0)
			found = 1;
	}
	fclose(f);
	return found;
}
