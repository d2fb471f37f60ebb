/*
 * A private network namespace with loopback up, and nftables rules that
 * make a peer vanish: shared by the demo and the fault-injection tests.
 * Linux only; needs nft(8), and root or unprivileged user namespaces.
 */
#ifndef LIVENESS_EXAMPLES_NETNS_H
#define LIVENESS_EXAMPLES_NETNS_H

#include <stddef.h>
#include <stdint.h>

/*
 * Enter a new network namespace and bring lo up: as root, directly;
 * otherwise inside a new user namespace in which we are root (as unshare -rn
 * does). 0, or -errno with a reason in why.
 */
int netns_enter(char *why, size_t len);
/* Feed a ruleset to nft -f -. 0, or -1 if nft is missing or refused it. */
int netns_nft(const char *ruleset);
/*
 * Drop every TCP packet to or from port as it arrives: a vanished host.
 * On loopback every packet passes the input hook, so dropping there, both
 * directions, is a silent black hole. A drop at the output hook would not
 * be: the sender's own stack sees -EPERM, keeps the data unsent and falls
 * back to zero-window probes, which no vanished host causes. Calls add up.
 */
int netns_drop_port(uint16_t port);
/* Remove every rule netns_drop_port() added. */
int netns_undrop(void);

#endif
