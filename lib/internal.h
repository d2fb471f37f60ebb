/* Private helpers shared by the socket layers (not exported). */
#ifndef LIVENESS_INTERNAL_H
#define LIVENESS_INTERNAL_H

struct liveness_tcp;

/* 0 if fd is an IPv4 or IPv6 TCP socket; otherwise -EBADF, -ENOTSOCK or -EPROTOTYPE. */
int liveness__check_tcp(int fd);
/* Are the keepalive and user-timeout fields of *t (not NULL) within the kernel's ranges? */
int liveness__tcp_timing_valid(const struct liveness_tcp *t);

#endif
