/* Private helpers shared by the socket layers (not exported). */
#ifndef LIVENESS_INTERNAL_H
#define LIVENESS_INTERNAL_H

/* 0 if fd is an IPv4 or IPv6 TCP socket; otherwise -EBADF, -ENOTSOCK or -EPROTOTYPE. */
int liveness__check_tcp(int fd);

#endif
