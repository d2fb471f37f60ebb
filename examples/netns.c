#include "netns.h"

#include <errno.h>
#include <net/if.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

/* Write text to a /proc file of this process. 0 or -errno. */
static int put(const char *path, const char *text)
{
	FILE *f = fopen(path, "we");
	int e = 0;

	if (!f)
		return -errno;
	if (fputs(text, f) < 0)
		e = errno;
	if (fclose(f) != 0 && !e)
		e = errno;
	return -e;
}

/*
 * Without root: a user namespace of our own, in which we are root, and the
 * network namespace in it (what `unshare -rn` does). Our uid and gid map to
 * 0 inside; setgroups is denied first, as an unprivileged gid map requires.
 */
static int enter_as_user(char *why, size_t len)
{
	char map[64];
	uid_t uid = geteuid();
	gid_t gid = getegid();
	int e;

	if (unshare(CLONE_NEWUSER | CLONE_NEWNET) != 0) {
		e = errno;
		snprintf(why, len,
			 "unshare(CLONE_NEWNET) needs root, and unshare(CLONE_NEWUSER | "
			 "CLONE_NEWNET) was refused too: %s (unprivileged user namespaces "
			 "are off: sysctl kernel.unprivileged_userns_clone)",
			 strerror(e));
		return -e;
	}
	snprintf(map, sizeof(map), "0 %u 1\n", (unsigned)uid);
	if ((e = put("/proc/self/setgroups", "deny")) < 0 ||
	    (e = put("/proc/self/uid_map", map)) < 0)
		goto fail;
	snprintf(map, sizeof(map), "0 %u 1\n", (unsigned)gid);
	if ((e = put("/proc/self/gid_map", map)) < 0)
		goto fail;
	return 0;
fail:
	snprintf(why, len, "mapping our ids into a user namespace: %s", strerror(-e));
	return e;
}

/*
 * Does nft(8) run? Its output is read from a pipe, not sent to /dev/null,
 * which a user namespace may not let us open for writing.
 */
static int have_nft(void)
{
	char buf[256];
	FILE *p = popen("nft --version 2>&1", "r");

	if (!p)
		return 0;
	while (fread(buf, 1, sizeof(buf), p) > 0)
		;
	return pclose(p) == 0;
}

int netns_enter(char *why, size_t len)
{
	struct ifreq ifr;
	int fd, e;

	if (unshare(CLONE_NEWNET) != 0) {
		e = errno;
		if (e != EPERM) {
			snprintf(why, len, "unshare(CLONE_NEWNET): %s", strerror(e));
			return -e;
		}
		if ((e = enter_as_user(why, len)) < 0)
			return e;
	}
	fd = socket(AF_INET, SOCK_DGRAM, 0);
	if (fd < 0) {
		e = errno;
		snprintf(why, len, "socket: %s", strerror(e));
		return -e;
	}
	memset(&ifr, 0, sizeof(ifr));
	strcpy(ifr.ifr_name, "lo");
	if (ioctl(fd, SIOCGIFFLAGS, &ifr) != 0 ||
	    (ifr.ifr_flags |= IFF_UP, ioctl(fd, SIOCSIFFLAGS, &ifr)) != 0) {
		e = errno;
		close(fd);
		snprintf(why, len, "bringing lo up: %s", strerror(e));
		return -e;
	}
	close(fd);
	if (!have_nft()) {
		snprintf(why, len, "nft(8) not found (apt-get install nftables)");
		return -ENOENT;
	}
	return 0;
}

int netns_nft(const char *ruleset)
{
	FILE *p = popen("nft -f -", "w");

	if (!p)
		return -1;
	fputs(ruleset, p);
	return pclose(p) == 0 ? 0 : -1;
}

int netns_drop_port(uint16_t port)
{
	char rules[512];

	snprintf(rules, sizeof(rules),
		 "add table inet liveness_drop\n"
		 "add chain inet liveness_drop in { type filter hook input priority 0; }\n"
		 "add rule inet liveness_drop in tcp sport %u drop\n"
		 "add rule inet liveness_drop in tcp dport %u drop\n",
		 port, port);
	return netns_nft(rules);
}

int netns_undrop(void)
{
	return netns_nft("delete table inet liveness_drop\n");
}
