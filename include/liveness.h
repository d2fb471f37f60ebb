/*
 * liveness.h - TCP connection liveness: kernel tuning, death diagnosis,
 * heartbeats and connection groups.
 *
 * The one public header of libliveness. Every function that can fail
 * returns 0 (or a documented non-negative value) on success and a negated
 * errno on failure; none reports through errno alone. The library keeps no
 * global state, owns no thread and reads no clock except in liveness_now().
 * Objects are used by one thread at a time.
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

#define LIVENESS_VERSION_MAJOR 0
#define LIVENESS_VERSION_MINOR 1
#define LIVENESS_VERSION_PATCH 0

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
 * A description of a negated (or positive) errno value returned by this
 * library. Never NULL; the string is static and must not be freed.
 */
LIVENESS_EXPORT const char *liveness_strerror(int err);

/* ---- Layer 1: kernel tuning of one TCP socket --------------------------- */

/*
 * TCP liveness settings of one socket. Field ranges are the kernel's.
 */
struct liveness_tcp {
	int keepalive;         /* SO_KEEPALIVE: 0 or 1 */
	int idle;              /* TCP_KEEPIDLE, seconds, 1..32767 */
	int interval;          /* TCP_KEEPINTVL, seconds, 1..32767 */
	int count;             /* TCP_KEEPCNT, 1..127 */
	unsigned user_timeout; /* TCP_USER_TIMEOUT, ms, 0..INT_MAX; 0 = kernel default */
	int linger;            /* SO_LINGER: -1 off, 0 abortive close (RST),
	                          1..65535 s (refused on non-blocking sockets) */
};

#define LIVENESS_TCP_MAX_IDLE 32767
#define LIVENESS_TCP_MAX_INTERVAL 32767
#define LIVENESS_TCP_MAX_COUNT 127
#define LIVENESS_TCP_MAX_LINGER 65535

/* Flags for liveness_tcp_bound(). */
#define LIVENESS_IDLE 0    /* nothing unacknowledged: keepalive decides */
#define LIVENESS_BUSY 1    /* data in flight: retransmissions decide */
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
 * would detect the death (keepalive off and idle) or when t is NULL,
 * invalid, or flags unknown.
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
	LIVENESS_CLOSED,             /* peer sent FIN: closed, exited or killed */
	LIVENESS_RESET,              /* peer sent RST: abort, unread data, rebooted host */
	LIVENESS_REFUSED,            /* nothing listens on the peer's port */
	LIVENESS_UNREACHABLE,        /* ICMP: host or network unreachable */
	LIVENESS_KEEPALIVE_TIMEOUT,  /* idle, keepalive probes unanswered */
	LIVENESS_RETRANSMIT_TIMEOUT, /* our data stayed unacknowledged */
	LIVENESS_HEARTBEAT_TIMEOUT,  /* peer kernel alive, application silent */
	LIVENESS_FLOOD,              /* peer broke the ping rate limit */
	LIVENESS_LOCAL_ERROR         /* our side failed: bad fd, no memory, ... */
};

/*
 * Why the connection on fd died, from the result of the last read, write,
 * recv, send or connect (io_result, with its errno io_errno), SO_ERROR and
 * TCP_INFO. Pass io_result 0 for end-of-file; pass io_result -1 and
 * io_errno 0 when poll reported POLLERR or POLLHUP without an I/O call.
 * Reading SO_ERROR clears the socket's pending error.
 */
LIVENESS_EXPORT enum liveness_cause liveness_diagnose(int fd, ssize_t io_result, int io_errno);

/* A short lowercase name ("reset", "keepalive-timeout", ...); never NULL. */
LIVENESS_EXPORT const char *liveness_cause_name(enum liveness_cause c);

/* A stable snapshot of the TCP_INFO fields that explain a death. */
struct liveness_tcp_info {
	uint8_t state;          /* TCP_ESTABLISHED, TCP_CLOSE, ... (netinet/tcp.h) */
	uint8_t retransmits;    /* retransmissions of the current segment */
	uint8_t probes;         /* keepalive or zero-window probes unanswered */
	uint8_t backoff;        /* exponential backoff of the RTO */
	uint32_t rtt_us;        /* smoothed round-trip time */
	uint32_t rttvar_us;     /* its variance */
	uint32_t rto_us;        /* retransmission timeout */
	uint32_t unacked;       /* segments sent and not acknowledged */
	uint32_t total_retrans; /* retransmissions over the connection's life */
	uint32_t last_data_recv_ms; /* since the last data received */
	uint32_t last_ack_recv_ms;  /* since the last ACK received */
	uint32_t last_data_sent_ms; /* since the last data sent */
	uint32_t snd_cwnd;      /* congestion window, segments */
};

/* Fill *info from TCP_INFO. Returns 0, -EINVAL, -EBADF, -ENOTSOCK,
 * -EPROTOTYPE or -ENOTSUP. */
LIVENESS_EXPORT int liveness_tcp_info(int fd, struct liveness_tcp_info *info);

/* ---- Layer 3: heartbeat for one connection ------------------------------ */
/* LAYER3-BEGIN (declarations owned by lib/hb.c) */
/* LAYER3-END */

/* ---- Layer 4: many connections in one loop ------------------------------ */
/* LAYER4-BEGIN (declarations owned by lib/group.c) */
/* LAYER4-END */

#ifdef __cplusplus
}
#endif

#endif /* LIVENESS_H */
