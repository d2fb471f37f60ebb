/*
 * The sock_ops program of `liveness run --bpf`: every TCP connection that
 * a process of the cgroup it is attached to makes or accepts gets the
 * settings of the map, before the first segment of the connection leaves
 * (connect) or before accept() returns it (passive).
 *
 * bpf_setsockopt() acts only on full sockets the kernel holds locked:
 * BPF_SOCK_OPS_TCP_CONNECT_CB runs in tcp_connect() before the SYN is sent,
 * BPF_SOCK_OPS_PASSIVE_ESTABLISHED_CB on the new child socket once the
 * handshake is done. The request socket of a half-open connection is not
 * full, so nothing is set earlier. The keepalive options and
 * TCP_USER_TIMEOUT are accepted since Linux 5.9 (net/core/filter.c,
 * sol_socket_sockopt() and sol_tcp_sockopt()); SO_LINGER never is.
 *
 * The project states no licence, and no helper used here is GPL-only, so
 * the object declares none.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>

#include "liveness_bpf.h"

/* Socket-level constants are macros in the UAPI headers, absent from BTF. */
#define SOL_SOCKET 1
#define SO_KEEPALIVE 9
#define SOL_TCP 6
#define TCP_KEEPIDLE 4
#define TCP_KEEPINTVL 5
#define TCP_KEEPCNT 6
#define TCP_USER_TIMEOUT 18

/* One entry, filled by the loader before it attaches the program. */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct lvb_settings);
} settings SEC(".maps");

/* Sockets on which a setting was refused, for the loader's report at exit. */
__u64 refused = 0;

static __always_inline int set(struct bpf_sock_ops *skops, int level, int name, int value)
{
	return bpf_setsockopt(skops, level, name, &value, sizeof(value));
}

SEC("sockops")
int liveness_sockops(struct bpf_sock_ops *skops)
{
	struct lvb_settings *s;
	__u32 key = 0;
	int err = 0;

	if (skops->op != BPF_SOCK_OPS_TCP_CONNECT_CB &&
	    skops->op != BPF_SOCK_OPS_PASSIVE_ESTABLISHED_CB)
		return 1;
	s = bpf_map_lookup_elem(&settings, &key);
	if (!s || !s->keepalive)
		return 1;
	/*
	 * Keepalive's timing before SO_KEEPALIVE: the first probe is then
	 * scheduled from the planned idle time, never from the default.
	 */
	err |= set(skops, SOL_TCP, TCP_KEEPIDLE, s->idle);
	err |= set(skops, SOL_TCP, TCP_KEEPINTVL, s->interval);
	err |= set(skops, SOL_TCP, TCP_KEEPCNT, s->count);
	err |= set(skops, SOL_TCP, TCP_USER_TIMEOUT, s->user_timeout);
	err |= set(skops, SOL_SOCKET, SO_KEEPALIVE, 1);
	if (err)
		__sync_fetch_and_add(&refused, 1);
	/* 1: the return value of sock_ops is only read by callbacks that ask a question. */
	return 1;
}
