/*
 * liveness.h - TCP connection liveness: kernel tuning, death diagnosis,
 * heartbeats and connection groups.
 *
 * The one public header of libliveness. Every function that can fail
 * returns an int: 0 (or a documented non-negative value) on success and a
 * negated errno on failure; none reports through errno alone. No function
 * answers bad input with something a valid call could return: a function
 * that returns a value instead has one that no valid call gives (0 for a
 * deadline or a bound, LIVENESS_NEVER for a round-trip time, "unknown" for
 * a name). The library keeps no global state, owns no thread and reads no
 * clock except in liveness_now(). Objects are used by one thread at a time.
 * See liveness(3).
 *
 * Time is the caller's CLOCK_MONOTONIC in nanoseconds (liveness_time).
 * LIVENESS_NEVER means "no deadline".
 */
#ifndef LIVENESS_H
#define LIVENESS_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#ifdef __cplusplus
extern "C" {
#endif

#if defined(LIVENESS_BUILDING) && defined(__GNUC__)
#define LIVENESS_EXPORT __attribute__((visibility("default")))
#else
#define LIVENESS_EXPORT
#endif

/*
 * The version of this header, the one place it is written: the Makefile, the
 * pkg-config file, the soname (libliveness.so.MAJOR) and liveness_version()
 * all take it from here.
 */
#define LIVENESS_VERSION_MAJOR 1
#define LIVENESS_VERSION_MINOR 0
#define LIVENESS_VERSION_PATCH 0

/*
 * The version of the library actually loaded, "MAJOR.MINOR.PATCH": compare
 * it with the LIVENESS_VERSION_* macros the program was built with. Never
 * NULL; a static string.
 */
LIVENESS_EXPORT const char *liveness_version(void);

/* ---- Time ------------------------------------------------------------ */

/* CLOCK_MONOTONIC nanoseconds. */
typedef uint64_t liveness_time;

#define LIVENESS_NEVER UINT64_MAX /* no deadline */
#define LIVENESS_USEC ((liveness_time)1000)
#define LIVENESS_MSEC ((liveness_time)1000000)
#define LIVENESS_SEC ((liveness_time)1000000000)

/* The current CLOCK_MONOTONIC time in nanoseconds. */
LIVENESS_EXPORT liveness_time liveness_now(void);

/*
 * Milliseconds to pass to poll(2) or epoll_wait(2) so that the call returns
 * no earlier than deadline: -1 for LIVENESS_NEVER, 0 when the deadline is
 * due (deadline <= now), otherwise (deadline - now) rounded UP to whole
 * milliseconds and capped at INT_MAX.
 */
LIVENESS_EXPORT int liveness_poll_timeout(liveness_time deadline, liveness_time now);

/*
 * A description of a negated (or positive) errno value: the meaning it has
 * in this library for the codes the library returns, the system's for any
 * other errno. Never NULL; the string is static and must not be freed.
 */
LIVENESS_EXPORT const char *liveness_strerror(int err);

/* ---- Layer 1: kernel tuning of one TCP socket --------------------------- */

/*
 * TCP liveness settings of one socket. Field ranges are the kernel's.
 */
struct liveness_tcp {
	int keepalive;	       /* SO_KEEPALIVE: 0 or 1 */
	int idle;	       /* TCP_KEEPIDLE, seconds, 1..32767 */
	int interval;	       /* TCP_KEEPINTVL, seconds, 1..32767 */
	int count;	       /* TCP_KEEPCNT, 1..127 */
	unsigned user_timeout; /* TCP_USER_TIMEOUT, ms, 0..INT_MAX; 0 = kernel default */
	int linger;	       /* SO_LINGER: -1 off, 0 abortive close (RST),
				  1..65535 s (refused on non-blocking sockets) */
};

#define LIVENESS_TCP_MAX_IDLE 32767
#define LIVENESS_TCP_MAX_INTERVAL 32767
#define LIVENESS_TCP_MAX_COUNT 127
#define LIVENESS_TCP_MAX_LINGER 65535

/* Flags for liveness_tcp_bound(). */
#define LIVENESS_IDLE 0	   /* nothing unacknowledged: keepalive decides */
#define LIVENESS_BUSY 1	   /* data in flight: retransmissions decide */
#define LIVENESS_NOMINAL 2 /* the kernel's schedule without timer-wheel lateness */

/*
 * Fill *t with settings under which a silent peer is declared dead within
 * budget nanoseconds, whether the connection is idle or busy, with both
 * worst cases (liveness_tcp_bound()) at least half the budget.
 * Returns 0, -EINVAL (t NULL, budget 0) or -ERANGE (budget too short for
 * keepalive's one-second grid plus timer lateness, or too long for the
 * kernel's limits). *t is unchanged on failure.
 */
LIVENESS_EXPORT int liveness_tcp_plan(struct liveness_tcp *t, liveness_time budget);

/*
 * Worst-case time, in nanoseconds, from the peer's last sign of life (idle)
 * or from our write (busy) until the kernel reports the connection dead,
 * on the kernel's real schedule including timer lateness; with
 * LIVENESS_NOMINAL, the schedule without lateness. flags is LIVENESS_IDLE or
 * LIVENESS_BUSY, optionally ORed with LIVENESS_NOMINAL. The busy case reads
 * net.ipv4.tcp_retries2 when user_timeout is 0. LIVENESS_NEVER when nothing
 * would detect the death (keepalive off and idle); 0, which no setting gives,
 * when t is NULL or invalid or flags unknown.
 */
LIVENESS_EXPORT liveness_time liveness_tcp_bound(const struct liveness_tcp *t, int flags);

/*
 * Validate every field of *t, then set SO_KEEPALIVE, TCP_KEEPIDLE,
 * TCP_KEEPINTVL, TCP_KEEPCNT, TCP_USER_TIMEOUT and SO_LINGER on fd, read them
 * back and verify them. On any failure the socket keeps its previous
 * settings. Returns 0, -EBADF, -ENOTSOCK, -EPROTOTYPE (not a TCP socket),
 * -EINVAL (t NULL or a field out of range, positive linger on a non-blocking
 * socket), -ENOTSUP (the system lacks an option that t needs), -EIO (the
 * kernel holds other values than were set), or a setsockopt error.
 */
LIVENESS_EXPORT int liveness_tcp_set(int fd, const struct liveness_tcp *t);

/* Read fd's current settings into *t. Errors as liveness_tcp_set(). */
LIVENESS_EXPORT int liveness_tcp_get(int fd, struct liveness_tcp *t);

/*
 * The settings a new TCP socket gets in this network namespace (the
 * net.ipv4.tcp_keepalive_* sysctls; keepalive off, no user timeout, no
 * linger). Returns 0 or a negated errno.
 */
LIVENESS_EXPORT int liveness_tcp_system(struct liveness_tcp *t);

/*
 * Abort the connection: send RST now and close fd, leaving no orphan
 * socket that retransmits. On error fd is left open and unchanged.
 * Returns 0, -EBADF, -ENOTSOCK, -EPROTOTYPE or a setsockopt error.
 */
LIVENESS_EXPORT int liveness_abort(int fd);

/* ---- Layer 2: why did it die ------------------------------------------- */

enum liveness_cause {
	LIVENESS_ALIVE = 0,
	LIVENESS_CLOSED,	     /* peer sent FIN: closed, exited or killed */
	LIVENESS_RESET,		     /* peer sent RST: abort, unread data, rebooted host */
	LIVENESS_REFUSED,	     /* nothing listens on the peer's port */
	LIVENESS_UNREACHABLE,	     /* ICMP: host or network unreachable */
	LIVENESS_KEEPALIVE_TIMEOUT,  /* idle, keepalive probes unanswered */
	LIVENESS_RETRANSMIT_TIMEOUT, /* our data stayed unacknowledged */
	LIVENESS_HEARTBEAT_TIMEOUT,  /* peer kernel alive, application silent */
	LIVENESS_FLOOD,		     /* peer broke the ping rate limit */
	LIVENESS_LOCAL_ERROR,	     /* our side failed: bad fd, no memory, ... */
	LIVENESS_VANISHED /* heartbeat verdict, nothing acknowledged: host or path gone */
};

/*
 * Why the connection on fd died, from the result of the last read, write,
 * recv, send or connect (io_result, with its errno io_errno), SO_ERROR and
 * TCP_INFO. Pass io_result 0 for end-of-file; pass io_result -1 and
 * io_errno 0 when poll reported POLLERR or POLLHUP without an I/O call.
 * Reading SO_ERROR clears the socket's pending error. EPIPE before the
 * kernel closed the connection is our own shutdown: LIVENESS_LOCAL_ERROR.
 * Once it is closed (TCP_CLOSE), an end of file, EPIPE or POLLHUP after an
 * earlier call consumed the error is judged by the kernel's conditions for
 * giving up, read with the socket's keepalive and user-timeout settings:
 * the keepalive or retransmission timeout if they hold; otherwise closed
 * (end of file), reset (EPIPE after a connection) or LIVENESS_LOCAL_ERROR
 * (POLLHUP, or EPIPE on a socket that never connected). Never fails: bad
 * input gives LIVENESS_LOCAL_ERROR. See liveness_diagnose(3).
 */
LIVENESS_EXPORT enum liveness_cause liveness_diagnose(int fd, ssize_t io_result, int io_errno);

/*
 * After a heartbeat verdict (LIVENESS_DEAD) on fd's connection, which death
 * it was: LIVENESS_HEARTBEAT_TIMEOUT when the peer's kernel still
 * acknowledged what we sent (its application hung or stopped reading),
 * LIVENESS_VANISHED when something we sent (a ping, a keepalive or window
 * probe) went unacknowledged for at least a retransmission timeout (the
 * peer's host or the path is gone); or, when the kernel had already ended
 * the connection, its cause as liveness_diagnose(fd, -1, 0) gives it
 * (which reads and clears SO_ERROR). Call it before closing fd.
 * LIVENESS_LOCAL_ERROR for a bad fd.
 */
LIVENESS_EXPORT enum liveness_cause liveness_diagnose_heartbeat(int fd);

/* A short lowercase name ("reset", "keepalive-timeout", ...); never NULL. */
LIVENESS_EXPORT const char *liveness_cause_name(enum liveness_cause c);

/* A stable snapshot of the TCP_INFO fields that explain a death. */
struct liveness_tcp_info {
	uint8_t state;		    /* TCP_ESTABLISHED, TCP_CLOSE, ... (netinet/tcp.h) */
	uint8_t retransmits;	    /* retransmissions of the current segment */
	uint8_t probes;		    /* keepalive or zero-window probes unanswered */
	uint8_t backoff;	    /* exponential backoff of the RTO */
	uint32_t rtt_us;	    /* smoothed round-trip time */
	uint32_t rttvar_us;	    /* its variance */
	uint32_t rto_us;	    /* retransmission timeout */
	uint32_t unacked;	    /* segments sent and not acknowledged */
	uint32_t total_retrans;	    /* retransmissions over the connection's life */
	uint32_t last_data_recv_ms; /* since the last data received */
	uint32_t last_ack_recv_ms;  /* since the last ACK received */
	uint32_t last_data_sent_ms; /* since the last data sent */
	uint32_t snd_cwnd;	    /* congestion window, segments */
};

/* Fill *info from TCP_INFO. Returns 0, -EINVAL, -EBADF, -ENOTSOCK,
 * -EPROTOTYPE or -ENOTSUP. */
LIVENESS_EXPORT int liveness_tcp_info(int fd, struct liveness_tcp_info *info);

/* ---- Layer 3: heartbeat for one connection ------------------------------ */
/* LAYER3-BEGIN (declarations owned by lib/hb.c) */

/* Flags for struct liveness_policy. */
#define LIVENESS_ROUND_TRIP 0x1u  /* only an answer to our ping proves life */
#define LIVENESS_RTT_TIMEOUT 0x2u /* keep timeout >= 3 x (srtt + 4 x rttvar) */

/*
 * When to ping and when to give up on one connection. One policy is shared,
 * read-only, by every connection that uses it and must outlive them. Times
 * are nanoseconds. liveness_hb_init() checks every field.
 */
struct liveness_policy {
	liveness_time interval; /* ping after this much silence; > 0 */
	liveness_time timeout;	/* dead after this much silence; >= interval */
	liveness_time retry;	/* re-ping this often while unanswered; 1..interval */
	unsigned jitter;	/* 0..100: percent of interval a ping may come early */
	unsigned flags;		/* LIVENESS_ROUND_TRIP, LIVENESS_RTT_TIMEOUT */
	liveness_time
		peer_min_interval; /* peer pings closer than this earn a strike; 0: no guard */
	unsigned peer_max_strikes; /* 0..254; one more strike is a flood */
};

/*
 * Fill *p for the given interval and timeout (nanoseconds) with defaults for
 * the other fields: retry (timeout - interval) / 3 kept within
 * [interval / 4, interval], jitter 10, flags 0, peer_min_interval retry / 2,
 * peer_max_strikes 2. Returns 0, or -EINVAL (p NULL, interval or timeout 0,
 * timeout < interval) leaving *p unchanged.
 */
LIVENESS_EXPORT int liveness_policy_init(struct liveness_policy *p, liveness_time interval,
					 liveness_time timeout);

/*
 * Heartbeat state of one connection, embedded by the caller in its own
 * connection object (find it again with liveness_container_of()), best in
 * the same cache line as the fields its read path touches anyway. All
 * fields are private to the library; the size is part of the ABI: 48 bytes
 * on LP64, 40 on ILP32. Zero it before its first liveness_hb_init().
 */
struct liveness_hb {
	const struct liveness_policy *policy;
	struct liveness_hb **pprev; /* group entry pointing here; NULL when in no group */
	liveness_time proof;	    /* last proof of life, or a credit after a stall */
	liveness_time ping_at;	    /* when our last ping was sent */
	uint64_t peer;		    /* last answered peer ping (high 48 bits), strikes, state */
	uint32_t srtt_us;	    /* smoothed round-trip time, microseconds */
	uint32_t rttvar_us;	    /* its mean deviation, microseconds */
};

/* What liveness_hb_step() and liveness_group_step() ask the caller to do. */
enum liveness_event {
	LIVENESS_NONE = 0, /* nothing is due */
	LIVENESS_PING,	   /* send a ping carrying seq; the peer echoes it in its pong */
	LIVENESS_DEAD	   /* the peer is gone: LIVENESS_HEARTBEAT_TIMEOUT */
};

/*
 * Start the heartbeat of a connection established (or last heard from) at
 * now. p must stay valid and unchanged while hb uses it. *hb must be zeroed
 * memory or an hb initialized before (init reads it). Returns 0, -EINVAL
 * (hb or p NULL, or a policy field out of range) or -EBUSY (hb is still in
 * a group: remove it first), leaving *hb unchanged on error.
 */
LIVENESS_EXPORT int liveness_hb_init(struct liveness_hb *hb, const struct liveness_policy *p,
				     liveness_time now);

/*
 * Bytes arrived at now: proof of life unless the policy has
 * LIVENESS_ROUND_TRIP. A single store; never touches a group.
 */
LIVENESS_EXPORT void liveness_hb_rx(struct liveness_hb *hb, liveness_time now);

/*
 * The peer answered our ping seq at now: proof of life and a round-trip
 * sample. A pong with any other seq, or a second pong for the same ping, is
 * ignored.
 */
LIVENESS_EXPORT void liveness_hb_pong(struct liveness_hb *hb, uint32_t seq, liveness_time now);

/*
 * The peer sent us a ping at now. Returns 1 (answer it), 0 (too soon after
 * the last answered one: do not answer; a strike) or -EPERM once the peer
 * has more than peer_max_strikes strikes (close the connection with
 * LIVENESS_FLOOD); -EINVAL if hb is NULL or not initialized.
 */
LIVENESS_EXPORT int liveness_hb_peer_ping(struct liveness_hb *hb, liveness_time now);

/*
 * Absolute time of the next action due, LIVENESS_NEVER when nothing is (a
 * dead hb), or 0 for hb NULL or not initialized (no deadline is 0).
 */
LIVENESS_EXPORT liveness_time liveness_hb_deadline(const struct liveness_hb *hb);

/*
 * The action due at now, an enum liveness_event: LIVENESS_NONE before
 * liveness_hb_deadline(), LIVENESS_PING with a new *seq (seq may be NULL),
 * or LIVENESS_DEAD once, after which nothing more is due. -EINVAL if hb is
 * NULL or not initialized.
 */
LIVENESS_EXPORT int liveness_hb_step(struct liveness_hb *hb, liveness_time now, uint32_t *seq);

/*
 * The last proof of life in *at: the connection's start, the latest bytes
 * (unless LIVENESS_ROUND_TRIP) or answer to our ping; after a local stall,
 * the later of that and the time from which the stall lets the timeout run.
 * The silence so far is now - *at. Returns 0, or -EINVAL (hb or at NULL, or
 * hb not initialized) leaving *at unchanged.
 */
LIVENESS_EXPORT int liveness_hb_last_proof(const struct liveness_hb *hb, liveness_time *at);

/*
 * Smoothed round-trip time in nanoseconds (RFC 6298), 0 before any sample,
 * LIVENESS_NEVER for hb NULL or not initialized.
 */
LIVENESS_EXPORT liveness_time liveness_hb_rtt(const struct liveness_hb *hb);
/* LAYER3-END */

/* ---- Layer 4: many connections in one loop ------------------------------ */
/* LAYER4-BEGIN (declarations owned by lib/group.c) */

/*
 * Many heartbeats stepped from one loop: a hashed timing wheel of arrays of
 * pointers to the struct liveness_hb objects the caller embeds. Opaque: the
 * caller holds a pointer from liveness_group_new().
 */
struct liveness_group;

/*
 * Make *g an empty group whose wheel ticks every resolution nanoseconds,
 * starting at now. Allocates the group and its wheel; liveness_group_add()
 * allocates room for members as the group grows, and nothing else
 * allocates. Returns 0, -EINVAL (g NULL, resolution 0) or -ENOMEM; *g is
 * unchanged on failure.
 */
LIVENESS_EXPORT int liveness_group_new(struct liveness_group **g, liveness_time resolution,
				       liveness_time now);

/*
 * Free the group. Members are detached (they may be stepped alone,
 * initialized again, added to another group or freed). NULL is a no-op;
 * g is invalid afterwards.
 */
LIVENESS_EXPORT void liveness_group_free(struct liveness_group *g);

/*
 * Add an initialized hb, in O(1) (amortized: the room for members, 8 to 12
 * bytes each plus up to 512 bytes per wheel slot in use, grows by half when
 * short). Returns 0, -EINVAL (g or hb NULL, hb not initialized, or its
 * policy's retry shorter than the group's resolution), -EEXIST (hb is
 * already in a group) or -ENOMEM, changing nothing on error.
 */
LIVENESS_EXPORT int liveness_group_add(struct liveness_group *g, struct liveness_hb *hb);

/*
 * Remove hb from g in O(1); a no-op if g or hb is NULL, or hb is in no group
 * or in another one.
 */
LIVENESS_EXPORT void liveness_group_remove(struct liveness_group *g, struct liveness_hb *hb);

/*
 * When to step the group next: the wheel tick at or after the earliest
 * member deadline (liveness_hb_deadline() rounded up to the resolution, so
 * up to one resolution after it; sometimes a tick before it, a step that
 * finds nothing due), now if a member is overdue, LIVENESS_NEVER for an
 * empty group, or 0 for g NULL (no deadline is 0).
 */
LIVENESS_EXPORT liveness_time liveness_group_deadline(const struct liveness_group *g);

/*
 * Step the members due at now, one per call: returns 1 with the member in
 * *member and *ev LIVENESS_PING (and *seq) or LIVENESS_DEAD; 0 with *member
 * NULL and *ev LIVENESS_NONE when nothing more is due; -EINVAL (g or member
 * NULL). A member returned with LIVENESS_DEAD has left the group. ev and seq
 * may be NULL. Call it while it returns 1. A loop that sleeps until
 * liveness_group_deadline() and wakes up to L late gets every verdict within
 * timeout + resolution + L of the last proof; waking more than retry after a
 * member's tick is a local stall, answered with a fresh ping first.
 */
LIVENESS_EXPORT int liveness_group_step(struct liveness_group *g, liveness_time now,
					struct liveness_hb **member, enum liveness_event *ev,
					uint32_t *seq);

/* The object of type `type` whose member `member` is at ptr. */
#define liveness_container_of(ptr, type, member)                                                   \
	((type *)(void *)((char *)(ptr)-offsetof(type, member)))
/* LAYER4-END */

#ifdef __cplusplus
}
#endif

#endif /* LIVENESS_H */
