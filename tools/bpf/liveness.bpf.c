/*
 * The BPF programs of `liveness run --bpf` and `liveness attach`, for the
 * cgroup they are attached to and its children:
 *
 *  - sock_ops: every TCP connection a process of the cgroup makes or
 *    accepts gets the settings of the map, before the first segment of the
 *    connection leaves (connect) or before accept() returns it (passive);
 *    and when the kernel closes it, its death is counted by cause;
 *  - cgroup/setsockopt: a program's own keepalive or user-timeout setting
 *    that is looser than the plan is raised to it (unless --no-enforce);
 *  - iter/tcp: --retrofit, the same settings for connections that existed
 *    before the attachment, in the network namespace of the process that
 *    runs the iterator.
 *
 * bpf_setsockopt() acts only on full sockets the kernel holds locked:
 * BPF_SOCK_OPS_TCP_CONNECT_CB runs in tcp_connect() before the SYN is sent,
 * BPF_SOCK_OPS_PASSIVE_ESTABLISHED_CB on the new child socket once the
 * handshake is done, the setsockopt hook and the tcp iterator (Linux 5.14,
 * which takes lock_sock() per socket) on the socket itself. The request
 * socket of a half-open connection is not full, so nothing is set earlier.
 * The keepalive options and TCP_USER_TIMEOUT are accepted since Linux 5.9
 * (net/core/filter.c, sol_socket_sockopt() and sol_tcp_sockopt()); SO_LINGER
 * never is.
 *
 * Licence: the kernel lets only a program that declares a GPL-compatible
 * licence read its structures through BTF (the verifier: "Cannot access
 * kernel 'struct tcp_sock' from non-GPL compatible program"), and the
 * death counts need the socket's error and the retrofit its cgroup. This
 * object alone therefore declares "Dual BSD/GPL"; the rest of the project
 * states no licence of its own.
 */
#include "vmlinux.h"
#include <bpf/bpf_core_read.h>
#include <bpf/bpf_helpers.h>

#include "liveness_bpf.h"

char LICENSE[] SEC("license") = "Dual BSD/GPL";

/* Socket-level constants and errnos are macros in the UAPI headers, absent from BTF. */
#define SOL_SOCKET 1
#define SO_KEEPALIVE 9
#define SOL_TCP 6
#define IPPROTO_TCP 6
#define TCP_KEEPIDLE 4
#define TCP_KEEPINTVL 5
#define TCP_KEEPCNT 6
#define TCP_USER_TIMEOUT 18
#define EPIPE 32
#define ENETDOWN 100
#define ENETUNREACH 101
#define ECONNRESET 104
#define ETIMEDOUT 110
#define ECONNREFUSED 111
#define EHOSTDOWN 112
#define EHOSTUNREACH 113

/* Deeper cgroups than this are not searched by --retrofit (cgroup v2 allows more, systemd uses
 * few). */
#define MAX_CGROUP_DEPTH 32

/* One entry each, filled by the loader. */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct lvb_settings);
} settings SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct lvb_meta);
} meta SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, LVB_NCOUNTERS);
	__type(key, __u32);
	__type(value, __u64);
} counters SEC(".maps");

static __always_inline void count(__u32 which)
{
	__u64 *c = bpf_map_lookup_elem(&counters, &which);

	if (c)
		__sync_fetch_and_add(c, 1);
}

static __always_inline const struct lvb_settings *plan(void)
{
	__u32 key = 0;
	const struct lvb_settings *s = bpf_map_lookup_elem(&settings, &key);

	return s && s->keepalive ? s : 0;
}

/* What a socket holds, or is to hold. */
struct opts {
	int keepalive, idle, interval, count, user_timeout;
};

static __always_inline int min_int(int a, int b)
{
	return a < b ? a : b;
}

/*
 * The settings a socket holding *cur is to get: each field at least as
 * strict as the plan's, the socket's own where it is stricter (keepalive
 * on; an idle time, interval or count no longer; a user timeout no longer
 * and not 0). With TCP_USER_TIMEOUT the keepalive timer ends an idle
 * connection at its first tick at or after the user timeout, ticks being
 * idle + k * interval (k >= 1); the plan's user timeout sits on the plan's
 * grid. A stricter idle time or interval moves the grid, and its first tick
 * at or after the same user timeout can come up to one interval later than
 * the plan's. So on any other grid the user timeout is shortened by one
 * interval: the first tick at or after it then comes before the plan's user
 * timeout, or is the first probe's tick (idle + interval), itself no later
 * than the plan's. A user timeout that would then be gone (no plan makes
 * one so short) takes the plan's grid instead. Busy connections, ended by
 * the user timeout alone, end no later either.
 */
static __always_inline void tighten(const struct lvb_settings *s, struct opts *o)
{
	o->keepalive = 1;
	o->idle = o->idle > 0 ? min_int(o->idle, s->idle) : s->idle;
	o->interval = o->interval > 0 ? min_int(o->interval, s->interval) : s->interval;
	o->count = o->count > 0 ? min_int(o->count, s->count) : s->count;
	if (o->user_timeout <= 0 || o->user_timeout > s->user_timeout)
		o->user_timeout = s->user_timeout;
	if (o->idle != s->idle || o->interval != s->interval) {
		int cap = s->user_timeout - o->interval * 1000;

		if (cap > 0)
			o->user_timeout = min_int(o->user_timeout, cap);
		else {
			o->idle = s->idle;
			o->interval = s->interval;
		}
	}
}

/*
 * Read and set through bpf_getsockopt()/bpf_setsockopt(), whose first
 * argument is the sock_ops context in sock_ops and the socket elsewhere:
 * macros, so that each program passes what its own verifier rules expect.
 */
#define GET(ctx, level, name, out)                                                                 \
	({                                                                                         \
		int v_ = 0;                                                                        \
		int e_ = bpf_getsockopt(ctx, level, name, &v_, sizeof(v_));                        \
		(out) = e_ ? 0 : v_;                                                               \
		e_;                                                                                \
	})
#define SET(ctx, level, name, value)                                                               \
	({                                                                                         \
		int v_ = (value);                                                                  \
		bpf_setsockopt(ctx, level, name, &v_, sizeof(v_));                                 \
	})

/* Read *o from the socket; fields it cannot read stay 0 (then the plan's). */
#define READ_OPTS(ctx, o)                                                                          \
	do {                                                                                       \
		GET(ctx, SOL_SOCKET, SO_KEEPALIVE, (o)->keepalive);                                \
		GET(ctx, SOL_TCP, TCP_KEEPIDLE, (o)->idle);                                        \
		GET(ctx, SOL_TCP, TCP_KEEPINTVL, (o)->interval);                                   \
		GET(ctx, SOL_TCP, TCP_KEEPCNT, (o)->count);                                        \
		GET(ctx, SOL_TCP, TCP_USER_TIMEOUT, (o)->user_timeout);                            \
	} while (0)

/*
 * Keepalive's timing before SO_KEEPALIVE: the first probe is then scheduled
 * from the planned idle time, never from the default. Non-zero if the
 * kernel refused any.
 */
#define WRITE_OPTS(ctx, o)                                                                         \
	(SET(ctx, SOL_TCP, TCP_KEEPIDLE, (o)->idle) |                                              \
	 SET(ctx, SOL_TCP, TCP_KEEPINTVL, (o)->interval) |                                         \
	 SET(ctx, SOL_TCP, TCP_KEEPCNT, (o)->count) |                                              \
	 SET(ctx, SOL_TCP, TCP_USER_TIMEOUT, (o)->user_timeout) |                                  \
	 SET(ctx, SOL_SOCKET, SO_KEEPALIVE, 1))

/*
 * A death, by the rules of liveness_diagnose() (lib/diagnose.c, from_errno())
 * applied to the error the kernel has just set: tcp_reset() and
 * tcp_write_err() store it before tcp_done() moves the socket to TCP_CLOSE,
 * so here, unlike in a program's later read(), it cannot have been consumed.
 * ETIMEDOUT is the keepalive timer's when nothing was unacknowledged or
 * unsent (write_seq - snd_una, which tcp_write_queue_purge() leaves alone;
 * the keepalive timer gives up on nothing else) and a probe was out;
 * otherwise the retransmission or zero-window probe timer's. No error is an
 * orderly close by either side, or this side's own abort.
 */
static __always_inline __u32 death_cause(struct tcp_sock *tp)
{
	int err = tp->inet_conn.icsk_inet.sk.sk_err;
	__u32 queued = tp->write_seq - tp->snd_una;
	__u8 probes = tp->inet_conn.icsk_probes_out;

	switch (err) {
	case 0: return LVB_CLOSED;
	case ECONNRESET:
	case EPIPE: return LVB_RESET;
	case ECONNREFUSED: return LVB_REFUSED;
	case EHOSTUNREACH:
	case ENETUNREACH:
	case EHOSTDOWN:
	case ENETDOWN: return LVB_UNREACHABLE;
	case ETIMEDOUT:
		return queued == 0 && probes > 0 ? LVB_KEEPALIVE_TIMEOUT : LVB_RETRANSMIT_TIMEOUT;
	default: return LVB_OTHER;
	}
}

SEC("sockops")
int liveness_sockops(struct bpf_sock_ops *skops)
{
	const struct lvb_settings *s;
	struct opts o = {0};

	if (skops->op == BPF_SOCK_OPS_STATE_CB) {
		struct bpf_sock *sk = skops->sk;
		struct tcp_sock *tp;

		/* args[1]: the new state. Only connections this program configured ask. */
		if (skops->args[1] != BPF_TCP_CLOSE || !sk || !(tp = bpf_skc_to_tcp_sock(sk)))
			return 1;
		count(death_cause(tp));
		return 1;
	}
	if (skops->op != BPF_SOCK_OPS_TCP_CONNECT_CB &&
	    skops->op != BPF_SOCK_OPS_PASSIVE_ESTABLISHED_CB)
		return 1;
	if (!(s = plan()))
		return 1;
	/* What the program set before connect(), or the listener passed on, where stricter. */
	READ_OPTS(skops, &o);
	tighten(s, &o);
	if (WRITE_OPTS(skops, &o))
		count(LVB_SETTING_REFUSED);
	else
		count(LVB_CONFIGURED);
	/* The change to TCP_CLOSE, for the death counts. */
	bpf_sock_ops_cb_flags_set(skops, skops->bpf_sock_ops_cb_flags | BPF_SOCK_OPS_STATE_CB_FLAG);
	/* 1: the return value of sock_ops is only read by callbacks that ask a question. */
	return 1;
}

/*
 * A program sets one of the five options itself: what it asks for, merged
 * with what the socket holds, is tightened as above; the option's value is
 * replaced in place (the kernel then applies it) and a user timeout the
 * merge shortened is set too. Anything else passes untouched, and so do
 * values the kernel would refuse anyway (a negative or zero time), so that
 * the program sees the error it would see without us. 1: go on to the
 * kernel.
 */
SEC("cgroup/setsockopt")
int liveness_setsockopt(struct bpf_sockopt *ctx)
{
	const struct lvb_settings *s = plan();
	struct bpf_sock *sk = ctx->sk;
	int *val = ctx->optval, asked, before, *field;
	struct opts o = {0};

	if (!s || !s->enforce || !sk || sk->protocol != IPPROTO_TCP || ctx->optlen < 4 ||
	    (void *)(val + 1) > ctx->optval_end)
		return 1;
	if (ctx->level == SOL_SOCKET && ctx->optname == SO_KEEPALIVE)
		field = &o.keepalive;
	else if (ctx->level != SOL_TCP)
		return 1;
	else if (ctx->optname == TCP_KEEPIDLE)
		field = &o.idle;
	else if (ctx->optname == TCP_KEEPINTVL)
		field = &o.interval;
	else if (ctx->optname == TCP_KEEPCNT)
		field = &o.count;
	else if (ctx->optname == TCP_USER_TIMEOUT)
		field = &o.user_timeout;
	else
		return 1;
	asked = *val;
	if (asked < 0 || (asked == 0 && field != &o.keepalive && field != &o.user_timeout))
		return 1;
	READ_OPTS(sk, &o);
	before = o.user_timeout;
	*field = asked;
	tighten(s, &o);
	if (*field != asked) {
		*val = *field;
		count(LVB_RAISED);
	}
	if (field != &o.user_timeout && o.user_timeout != before &&
	    SET(sk, SOL_TCP, TCP_USER_TIMEOUT, o.user_timeout))
		count(LVB_SETTING_REFUSED);
	return 1;
}

/*
 * A kernfs node's parent: the field is __parent since Linux 6.15, parent
 * before. Both flavours are declared; libbpf keeps the one this kernel has.
 */
struct kernfs_node___new {
	struct kernfs_node *__parent;
} __attribute__((preserve_access_index));
struct kernfs_node___old {
	struct kernfs_node *parent;
} __attribute__((preserve_access_index));

static __always_inline struct kernfs_node *kn_parent(struct kernfs_node *kn)
{
	if (bpf_core_field_exists(struct kernfs_node___new, __parent))
		return ((struct kernfs_node___new *)kn)->__parent;
	return ((struct kernfs_node___old *)kn)->parent;
}

/*
 * Is cgrp the cgroup of id, or one of its descendants? Its directory's
 * node and the nodes above it carry the ids of it and its ancestors.
 */
static __always_inline int within(struct cgroup *cgrp, __u64 id)
{
	struct kernfs_node *kn = cgrp ? cgrp->kn : 0;

	for (int depth = 0; kn && depth < MAX_CGROUP_DEPTH; depth++) {
		if (kn->id == id)
			return 1;
		kn = kn_parent(kn);
	}
	return 0;
}

/*
 * --retrofit: every established connection of the namespace whose socket
 * belongs to the attachment's cgroup or a descendant gets the settings as a
 * new one would. Connections opened before the attachment are not counted
 * when they die: only a sock_ops callback can ask for the state changes.
 */
SEC("iter/tcp")
int liveness_retrofit(struct bpf_iter__tcp *ctx)
{
	const struct lvb_settings *s = plan();
	struct sock_common *skc = ctx->sk_common;
	const struct lvb_meta *m;
	struct tcp_sock *tp;
	struct opts o = {0};
	__u32 key = 0;

	if (!s || !skc || !(tp = bpf_skc_to_tcp_sock(skc)) ||
	    !(m = bpf_map_lookup_elem(&meta, &key)))
		return 0;
	if (tp->inet_conn.icsk_inet.sk.__sk_common.skc_state != BPF_TCP_ESTABLISHED ||
	    !within(tp->inet_conn.icsk_inet.sk.sk_cgrp_data.cgroup, m->cgroup_id))
		return 0;
	READ_OPTS(tp, &o);
	tighten(s, &o);
	if (WRITE_OPTS(tp, &o))
		count(LVB_SETTING_REFUSED);
	else
		count(LVB_RETROFITTED);
	return 0;
}
