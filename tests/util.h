/* Helpers shared by the Check suites: loopback sockets, namespaces, nftables. */
#ifndef LIVENESS_TESTS_UTIL_H
#define LIVENESS_TESTS_UTIL_H

#include <netinet/in.h>
#include <stdint.h>

#include "liveness.h"

/* A listening TCP socket on 127.0.0.1, an ephemeral port unless port != 0. */
int tu_listen(uint16_t port);
uint16_t tu_port(int fd);
/* A connected loopback pair: *client connected to *server (accepted). */
void tu_pair(int *client, int *server);
/* Same, with the listener kept open in *listener (or closed if NULL) and a fixed port. */
void tu_pair_port(uint16_t port, int *client, int *server, int *listener);

/*
 * Move the calling process into a private network namespace with lo up.
 * Returns 1 on success. Otherwise prints "SKIP <what>: <reason>" and returns
 * 0, or fails the test when LIVENESS_REQUIRE_NETNS=1 (CI).
 */
int tu_netns(const char *what);
/* examples/netns.h, failing the test on error. */
void tu_nft(const char *ruleset);
void tu_drop_port(uint16_t port);
void tu_undrop(void);

/* Wait until fd is readable or has an error (poll), at most timeout; returns
 * the time it took, or LIVENESS_NEVER on timeout. */
liveness_time tu_wait_readable(int fd, liveness_time timeout);
/* Is the TCP socket of this local port still in the kernel's table? */
int tu_socket_exists(uint16_t local_port);

/* The value of net.ipv4.NAME in this network namespace, failing the test if unreadable. */
int tu_sysctl_ipv4(const char *name);

/*
 * liveness_group_step() held to its contract, failing the test otherwise:
 * 1 with a member and an event, or 0 with neither. Returns the member or
 * NULL; the event goes to *ev and the sequence number to *seq (either may be
 * NULL).
 */
struct liveness_hb *tu_group_step(struct liveness_group *g, liveness_time now,
				  enum liveness_event *ev, uint32_t *seq);

#endif
