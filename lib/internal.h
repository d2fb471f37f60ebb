/* Private helpers shared by the library's files (not exported). */
#ifndef LIVENESS_INTERNAL_H
#define LIVENESS_INTERNAL_H

#include "liveness.h"

/* a + b, capped at LIVENESS_NEVER: every schedule and deadline saturates rather than wraps. */
static inline liveness_time sat_add(liveness_time a, liveness_time b)
{
	return a > LIVENESS_NEVER - b ? LIVENESS_NEVER : a + b;
}

/* a - b, floored at 0: a time before the clock's epoch is the epoch. */
static inline liveness_time sat_sub(liveness_time a, liveness_time b)
{
	return a > b ? a - b : 0;
}

/* 0 if fd is an IPv4 or IPv6 TCP socket; otherwise -EBADF, -ENOTSOCK or -EPROTOTYPE. */
int liveness__check_tcp(int fd);
/* Are the keepalive and user-timeout fields of *t (not NULL) within the kernel's ranges? */
int liveness__tcp_timing_valid(const struct liveness_tcp *t);

/*
 * liveness_tcp_set() without SO_LINGER when with_linger is 0 (t->linger is
 * then neither checked nor written): validate, set SO_KEEPALIVE,
 * TCP_KEEPIDLE, TCP_KEEPINTVL, TCP_KEEPCNT and TCP_USER_TIMEOUT, read them
 * back and verify them, and restore the old values on failure. The shim
 * uses it, since it must never change a program's linger.
 */
int liveness__tcp_set(int fd, const struct liveness_tcp *t, int with_linger);

/*
 * What liveness_diagnose() goes by, gathered from the socket by
 * liveness__diag_gather() and judged by liveness__diag_classify(), which
 * makes no system call, so that every rule can be tested with made-up states.
 */
struct liveness__diag {
	ssize_t io_result; /* the caller's I/O result */
	int io_errno;	   /* and its errno */
	int so_error;	   /* pending SO_ERROR; read only when io_errno tells nothing */
	int have_info;	   /* info holds TCP_INFO */
	struct liveness_tcp_info info;
	int have_tcp; /* tcp holds the socket's settings (liveness_tcp_get) */
	struct liveness_tcp tcp;
	int queued;   /* bytes written and not acknowledged (SIOCOUTQ); -1 unknown */
	int retries2; /* net.ipv4.tcp_retries2; -1 unknown */
};

/*
 * Fill *d for fd: TCP_INFO always, the settings, queued bytes and
 * tcp_retries2 once the connection is closed. Returns 0, or -EBADF,
 * -ENOTSOCK or -EPROTOTYPE when fd is no TCP socket.
 */
int liveness__diag_gather(int fd, ssize_t io_result, int io_errno, struct liveness__diag *d);
/* The cause that *d shows (LIVENESS_LOCAL_ERROR for d NULL). */
enum liveness_cause liveness__diag_classify(const struct liveness__diag *d);
/* After a heartbeat verdict, the cause that *d (gathered on the poll path) shows. */
enum liveness_cause liveness__diag_heartbeat(const struct liveness__diag *d);

/* net.ipv4.tcp_retries2 of this namespace, or 15 when it cannot be read (lib/plan.c). */
int liveness__tcp_retries2(void);
/* tcp_model_timeout(): how long after retrans_stamp tcp_retries2 = retries (0..255) expires. */
liveness_time liveness__retries_timeout(int retries);

#endif
