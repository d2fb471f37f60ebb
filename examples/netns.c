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

int netns_enter(char *why, size_t len)
{
	struct ifreq ifr;
	int fd, e;

	if (unshare(CLONE_NEWNET) != 0) {
		e = errno;
		snprintf(why, len, "unshare(CLONE_NEWNET): %s (needs root)", strerror(e));
		return -e;
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
	if (system("nft --version >/dev/null 2>&1") != 0) {
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
