/*
 * libliveness-preload.so: give every TCP socket of an unmodified program the
 * liveness settings named in its environment (LD_PRELOAD; see liveness(1)).
 *
 * It wraps socket(), connect(), accept() and accept4(): a new IPv4 or IPv6
 * TCP socket gets the settings when it is created, a socket the program
 * got some other way (inherited, socket activation) when it connects, and
 * an accepted one at once (it inherits them from a listener the shim saw,
 * which costs a read-back only). UDP, UNIX and raw sockets are not touched.
 *
 * It never breaks the program: the real call's result and errno are what
 * the program sees, a setting the kernel refuses is reported once on
 * stderr when LIVENESS_DEBUG is set and otherwise ignored, and the shim
 * never sets SO_LINGER (a positive linger makes close() block). It does
 * nothing in a setuid or otherwise secure-execution program. The
 * environment is read once, by a constructor; a program that makes no
 * sockets pays for that and nothing else.
 *
 * The library's objects are linked in statically and hidden; the version
 * script exports only the four wrappers.
 */
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/auxv.h>
#include <sys/socket.h>
#include <unistd.h>

#include "liveness.h"
#include "settings.h"

#define SHIM_EXPORT __attribute__((visibility("default")))

typedef int (*socket_fn)(int, int, int);
typedef int (*connect_fn)(int, const struct sockaddr *, socklen_t);
typedef int (*accept_fn)(int, struct sockaddr *, socklen_t *);
typedef int (*accept4_fn)(int, struct sockaddr *, socklen_t *, int);

static socket_fn real_socket;
static connect_fn real_connect;
static accept_fn real_accept;
static accept4_fn real_accept4;

static struct lvt_settings conf;
static int active;   /* settings to apply */
static int debug;    /* LIVENESS_DEBUG set */
static int ready;    /* init() has run */
static int reported; /* a failure was reported */

static void say(const char *fmt, const char *a, const char *b)
{
	char line[400];
	int n = snprintf(line, sizeof(line), fmt, (int)getpid(), a, b);

	/* write(2), not stdio: safe in any thread, no buffer shared with the program. */
	if (n > 0 && write(STDERR_FILENO, line, (size_t)n < sizeof(line) ? (size_t)n : sizeof(line) - 1) < 0)
		return;
}

static void init(void)
{
	char why[300], desc[64];
	int saved = errno, r;

	/*
	 * dlsym can run before this constructor (a library constructor that
	 * makes a socket), so each wrapper resolves what it needs on its own.
	 */
	real_socket = (socket_fn)dlsym(RTLD_NEXT, "socket");
	real_connect = (connect_fn)dlsym(RTLD_NEXT, "connect");
	real_accept = (accept_fn)dlsym(RTLD_NEXT, "accept");
	real_accept4 = (accept4_fn)dlsym(RTLD_NEXT, "accept4");
	/* A setuid program must not be steered by its caller's environment. */
	if (getauxval(AT_SECURE) == 0) {
		debug = getenv("LIVENESS_DEBUG") && *getenv("LIVENESS_DEBUG");
		r = lvt_settings_parse(&conf, getenv("LIVENESS_BUDGET"), getenv("LIVENESS_KEEPALIVE"),
				       getenv("LIVENESS_USER_TIMEOUT"), why, sizeof(why));
		if (r < 0) {
			/* A mistyped variable would leave the operator unprotected unawares. */
			say("liveness-preload[%d]: %s%s; the shim does nothing\n", why, "");
		} else if (r > 0) {
			active = 1;
			if (debug) {
				char ut[48] = "user timeout as the program sets it";
				if (conf.has_budget || conf.has_keepalive) {
					int k = conf.has_keepalive;
					snprintf(desc, sizeof(desc), "keepalive %d:%d:%d",
						 k ? conf.idle : conf.plan.idle,
						 k ? conf.interval : conf.plan.interval,
						 k ? conf.count : conf.plan.count);
				} else {
					snprintf(desc, sizeof(desc), "keepalive as the program sets it");
				}
				if (conf.has_budget || conf.has_user_timeout)
					snprintf(ut, sizeof(ut), "user timeout %u ms",
						 conf.has_user_timeout ? conf.user_timeout
								       : conf.plan.user_timeout);
				say("liveness-preload[%d]: %s, %s\n", desc, ut);
			}
		}
	}
	__atomic_store_n(&ready, 1, __ATOMIC_RELEASE);
	errno = saved;
}

__attribute__((constructor)) static void preload_init(void)
{
	if (!__atomic_load_n(&ready, __ATOMIC_ACQUIRE))
		init();
}

static void report(const char *where, int err)
{
	if (debug && !__atomic_exchange_n(&reported, 1, __ATOMIC_ACQ_REL))
		say("liveness-preload[%d]: %s: %s (further failures are not reported)\n", where,
		    liveness_strerror(err));
}

/* The keepalive options and user timeout alone, for a socket with a positive linger. */
static int set_without_linger(int fd, const struct liveness_tcp *t)
{
	int v[4] = {t->keepalive, t->idle, t->interval, t->count};
	int lvl[4] = {SOL_SOCKET, IPPROTO_TCP, IPPROTO_TCP, IPPROTO_TCP};
	int name[4] = {SO_KEEPALIVE, TCP_KEEPIDLE, TCP_KEEPINTVL, TCP_KEEPCNT};
	int i, ut = (int)t->user_timeout;

	for (i = 0; i < 4; i++)
		if (setsockopt(fd, lvl[i], name[i], &v[i], sizeof(v[i])) != 0)
			return -errno;
	return setsockopt(fd, IPPROTO_TCP, TCP_USER_TIMEOUT, &ut, sizeof(ut)) == 0 ? 0 : -errno;
}

/* Give fd the configured settings if it is a TCP socket. errno is preserved. */
static void apply(int fd, const char *where)
{
	struct liveness_tcp cur, want;
	int saved = errno, r;

	r = liveness_tcp_get(fd, &cur);
	if (r == -EPROTOTYPE || r == -ENOTSOCK || r == -EBADF)
		goto out; /* not TCP: UDP, UNIX and raw sockets stay as they are */
	if (r < 0) {
		report(where, r);
		goto out;
	}
	lvt_settings_apply(&conf, &cur, &want);
	if (memcmp(&cur, &want, sizeof(cur)) == 0)
		goto out; /* already set, e.g. inherited from a listener */
	/*
	 * liveness_tcp_set() writes SO_LINGER too, and refuses a positive
	 * linger on a non-blocking socket: with the program's own positive
	 * linger, set the other options one by one.
	 */
	r = want.linger > 0 ? set_without_linger(fd, &want) : liveness_tcp_set(fd, &want);
	if (r < 0)
		report(where, r);
out:
	errno = saved;
}

static int is_tcp(int domain, int type, int protocol)
{
	type &= ~(SOCK_NONBLOCK | SOCK_CLOEXEC);
	return (domain == AF_INET || domain == AF_INET6) && type == SOCK_STREAM &&
	       (protocol == 0 || protocol == IPPROTO_TCP);
}

static int use(void)
{
	if (!__atomic_load_n(&ready, __ATOMIC_ACQUIRE))
		init();
	return active;
}

SHIM_EXPORT int socket(int domain, int type, int protocol)
{
	int fd;

	if (!real_socket && !(real_socket = (socket_fn)dlsym(RTLD_NEXT, "socket"))) {
		errno = ENOSYS;
		return -1;
	}
	fd = real_socket(domain, type, protocol);
	if (fd >= 0 && is_tcp(domain, type, protocol) && use())
		apply(fd, "socket");
	return fd;
}

SHIM_EXPORT int connect(int fd, const struct sockaddr *addr, socklen_t len)
{
	if (!real_connect && !(real_connect = (connect_fn)dlsym(RTLD_NEXT, "connect"))) {
		errno = ENOSYS;
		return -1;
	}
	/* Before the SYN, so the user timeout bounds the handshake too. */
	if (addr && len >= sizeof(sa_family_t) &&
	    (addr->sa_family == AF_INET || addr->sa_family == AF_INET6) && use())
		apply(fd, "connect");
	return real_connect(fd, addr, len);
}

SHIM_EXPORT int accept(int fd, struct sockaddr *addr, socklen_t *len)
{
	int c;

	if (!real_accept && !(real_accept = (accept_fn)dlsym(RTLD_NEXT, "accept"))) {
		errno = ENOSYS;
		return -1;
	}
	c = real_accept(fd, addr, len);
	if (c >= 0 && use())
		apply(c, "accept");
	return c;
}

SHIM_EXPORT int accept4(int fd, struct sockaddr *addr, socklen_t *len, int flags)
{
	int c;

	if (!real_accept4 && !(real_accept4 = (accept4_fn)dlsym(RTLD_NEXT, "accept4"))) {
		errno = ENOSYS;
		return -1;
	}
	c = real_accept4(fd, addr, len, flags);
	if (c >= 0 && use())
		apply(c, "accept4");
	return c;
}
