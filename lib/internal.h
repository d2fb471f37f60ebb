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

#endif
