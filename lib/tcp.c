/*
 * Layer 1: set, read back and verify the kernel's liveness options on one
 * TCP socket, and abort a connection without leaving an orphan.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "internal.h"
#include "liveness.h"

/* Frozen for 1.x, fields and size (liveness(3)). */
_Static_assert(sizeof(struct liveness_tcp) == 24, "struct liveness_tcp is ABI: 24 bytes");

/* Feature tests, not OS tests (macOS spells the idle time TCP_KEEPALIVE). */
#if defined(TCP_KEEPIDLE)
#define LV_KEEPIDLE TCP_KEEPIDLE
#elif defined(TCP_KEEPALIVE)
#define LV_KEEPIDLE TCP_KEEPALIVE
#endif

int liveness__check_tcp(int fd)
{
	int type, proto, domain;
	socklen_t len = sizeof(type);

	if (fd < 0)
		return -EBADF;
	if (getsockopt(fd, SOL_SOCKET, SO_TYPE, &type, &len) != 0)
		return -errno; /* EBADF for a closed fd, ENOTSOCK for a file */
	if (type != SOCK_STREAM)
		return -EPROTOTYPE;
#if defined(SO_DOMAIN) && defined(SO_PROTOCOL)
	len = sizeof(domain);
	if (getsockopt(fd, SOL_SOCKET, SO_DOMAIN, &domain, &len) != 0)
		return -errno;
	len = sizeof(proto);
	if (getsockopt(fd, SOL_SOCKET, SO_PROTOCOL, &proto, &len) != 0)
		return -errno;
	if ((domain != AF_INET && domain != AF_INET6) || proto != IPPROTO_TCP)
		return -EPROTOTYPE;
#else
	{
		struct sockaddr_storage ss;
		len = sizeof(ss);
		if (getsockname(fd, (struct sockaddr *)&ss, &len) != 0)
			return -errno;
		domain = ss.ss_family;
		proto = 0;
		(void)proto;
		if (domain != AF_INET && domain != AF_INET6)
			return -EPROTOTYPE;
	}
#endif
	return 0;
}

int liveness__tcp_timing_valid(const struct liveness_tcp *t)
{
	return (t->keepalive == 0 || t->keepalive == 1) && t->idle >= 1 &&
	       t->idle <= LIVENESS_TCP_MAX_IDLE && t->interval >= 1 &&
	       t->interval <= LIVENESS_TCP_MAX_INTERVAL && t->count >= 1 &&
	       t->count <= LIVENESS_TCP_MAX_COUNT && t->user_timeout <= INT_MAX;
}

static int get_int(int fd, int level, int name, int *v)
{
	socklen_t len = sizeof(*v);

	return getsockopt(fd, level, name, v, &len) == 0 ? 0 : -errno;
}

static int set_int(int fd, int level, int name, int v)
{
	return setsockopt(fd, level, name, &v, sizeof(v)) == 0 ? 0 : -errno;
}

static int get_all(int fd, struct liveness_tcp *t)
{
	struct linger l;
	socklen_t len = sizeof(l);
	int r, v = 0;

	memset(t, 0, sizeof(*t));
	if ((r = get_int(fd, SOL_SOCKET, SO_KEEPALIVE, &v)) < 0)
		return r;
	t->keepalive = v != 0;
#ifdef LV_KEEPIDLE
	if ((r = get_int(fd, IPPROTO_TCP, LV_KEEPIDLE, &t->idle)) < 0)
		return r;
#endif
#ifdef TCP_KEEPINTVL
	if ((r = get_int(fd, IPPROTO_TCP, TCP_KEEPINTVL, &t->interval)) < 0)
		return r;
#endif
#ifdef TCP_KEEPCNT
	if ((r = get_int(fd, IPPROTO_TCP, TCP_KEEPCNT, &t->count)) < 0)
		return r;
#endif
#ifdef TCP_USER_TIMEOUT
	if ((r = get_int(fd, IPPROTO_TCP, TCP_USER_TIMEOUT, &v)) < 0)
		return r;
	t->user_timeout = (unsigned)v;
#endif
	if (getsockopt(fd, SOL_SOCKET, SO_LINGER, &l, &len) != 0)
		return -errno;
	t->linger = l.l_onoff ? l.l_linger : -1;
	return 0;
}

/* SO_KEEPALIVE, the keepalive timing and the user timeout; SO_LINGER too if with_linger. */
static int set_all(int fd, const struct liveness_tcp *t, int with_linger)
{
	struct linger l = {.l_onoff = t->linger >= 0, .l_linger = t->linger >= 0 ? t->linger : 0};
	int r;

	if ((r = set_int(fd, SOL_SOCKET, SO_KEEPALIVE, t->keepalive)) < 0)
		return r;
#ifdef LV_KEEPIDLE
	if ((r = set_int(fd, IPPROTO_TCP, LV_KEEPIDLE, t->idle)) < 0)
		return r;
#endif
#ifdef TCP_KEEPINTVL
	if ((r = set_int(fd, IPPROTO_TCP, TCP_KEEPINTVL, t->interval)) < 0)
		return r;
#endif
#ifdef TCP_KEEPCNT
	if ((r = set_int(fd, IPPROTO_TCP, TCP_KEEPCNT, t->count)) < 0)
		return r;
#endif
#ifdef TCP_USER_TIMEOUT
	if ((r = set_int(fd, IPPROTO_TCP, TCP_USER_TIMEOUT, (int)t->user_timeout)) < 0)
		return r;
#endif
	if (with_linger && setsockopt(fd, SOL_SOCKET, SO_LINGER, &l, sizeof(l)) != 0)
		return -errno;
	return 0;
}

static int same(const struct liveness_tcp *a, const struct liveness_tcp *b, int with_linger)
{
	return a->keepalive == b->keepalive && a->idle == b->idle && a->interval == b->interval &&
	       a->count == b->count && a->user_timeout == b->user_timeout &&
	       (!with_linger || a->linger == b->linger);
}

int liveness__tcp_set(int fd, const struct liveness_tcp *t, int with_linger)
{
	struct liveness_tcp old, now;
	int r, flags;

	/* Every argument is checked before the first setsockopt, so a bad call changes nothing. */
	if (!t || !liveness__tcp_timing_valid(t) ||
	    (with_linger && (t->linger < -1 || t->linger > LIVENESS_TCP_MAX_LINGER)))
		return -EINVAL;
	if ((r = liveness__check_tcp(fd)) < 0)
		return r;
#ifndef LV_KEEPIDLE
	return -ENOTSUP;
#endif
#if !defined(TCP_KEEPINTVL) || !defined(TCP_KEEPCNT)
	return -ENOTSUP;
#endif
#ifndef TCP_USER_TIMEOUT
	if (t->user_timeout != 0)
		return -ENOTSUP;
#endif
	if (with_linger && t->linger > 0) {
		/* A positive linger makes close() block even on a non-blocking socket. */
		if ((flags = fcntl(fd, F_GETFL)) < 0)
			return -errno;
		if (flags & O_NONBLOCK)
			return -EINVAL;
	}
	if ((r = get_all(fd, &old)) < 0)
		return r;
	r = set_all(fd, t, with_linger);
	if (r == 0 && (r = get_all(fd, &now)) == 0 && !same(t, &now, with_linger))
		r = -EIO;
	if (r < 0)
		set_all(fd, &old, with_linger); /* best effort: leave the socket as we found it */
	return r;
}

LIVENESS_EXPORT int liveness_tcp_set(int fd, const struct liveness_tcp *t)
{
	return liveness__tcp_set(fd, t, 1);
}

LIVENESS_EXPORT int liveness_tcp_get(int fd, struct liveness_tcp *t)
{
	struct liveness_tcp tmp;
	int r;

	if (!t)
		return -EINVAL;
	if ((r = liveness__check_tcp(fd)) < 0)
		return r;
	if ((r = get_all(fd, &tmp)) < 0)
		return r;
	*t = tmp;
	return 0;
}

LIVENESS_EXPORT int liveness_tcp_system(struct liveness_tcp *t)
{
	struct liveness_tcp tmp;
	int fd, r;

	if (!t)
		return -EINVAL;
	/*
	 * A fresh socket reports the namespace's sysctl defaults for the options
	 * it has not set, which is exactly what a new connection gets; unlike
	 * reading /proc it needs no mounted procfs and follows the namespace.
	 */
	fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, IPPROTO_TCP);
	if (fd < 0)
		fd = socket(AF_INET6, SOCK_STREAM | SOCK_CLOEXEC, IPPROTO_TCP);
	if (fd < 0)
		return -errno;
	r = get_all(fd, &tmp);
	close(fd);
	if (r < 0)
		return r;
	*t = tmp;
	return 0;
}

LIVENESS_EXPORT int liveness_abort(int fd)
{
	struct linger l = {.l_onoff = 1, .l_linger = 0};
	int r;

	if ((r = liveness__check_tcp(fd)) < 0)
		return r;
	/* Linger {1, 0}: close() sends RST and frees the socket at once, no FIN_WAIT orphan. */
	if (setsockopt(fd, SOL_SOCKET, SO_LINGER, &l, sizeof(l)) != 0)
		return -errno;
	close(fd);
	return 0;
}
