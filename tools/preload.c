/*
 * libliveness-preload.so: hold every TCP socket of an unmodified program to
 * the liveness settings named in its environment (LD_PRELOAD; see liveness(1)).
 *
 * It wraps socket(), connect(), accept(), accept4() and setsockopt(). A new
 * IPv4 or IPv6 TCP socket gets the settings when it is created, a socket
 * the program got some other way (inherited, socket activation) when it
 * connects, an accepted one at once (it inherits them from a listener the
 * shim saw, which costs a read-back only), and any of them again whenever
 * the program sets SO_KEEPALIVE, TCP_KEEPIDLE, TCP_KEEPINTVL, TCP_KEEPCNT or
 * TCP_USER_TIMEOUT itself. What the program sets stays when it is at least
 * as strict as the plan and is raised to the plan when it is looser, field
 * by field; when stricter fields would together end a dead connection later
 * than the plan, with a shorter user timeout if the program set none of its
 * own, else with the plan's keepalive timing (lvt_settings_apply()). UDP, UNIX and raw sockets are
 * not touched.
 *
 * The shim remembers, per descriptor, what the program itself set, and
 * merges that and not the kernel's current values with the plan: a program
 * that sets a stricter combination one option at a time (as
 * liveness_tcp_set() does) would otherwise have its first option replaced
 * by the plan's, for a moment too loose in combination, and lose it.
 *
 * It never breaks the program: the real call's result and errno are what
 * the program sees, a setting the kernel refuses is reported once on
 * stderr when LIVENESS_DEBUG is set and otherwise ignored, and the shim
 * never sets SO_LINGER (a positive linger makes close() block). It does
 * nothing in a setuid or otherwise secure-execution program. The
 * environment is read once, by a constructor or by the first wrapper
 * called, whichever runs first; a program that makes no sockets pays for
 * that and nothing else.
 *
 * The library's objects are linked in statically and hidden; the version
 * script exports only the five wrappers. The library's own setsockopt()
 * calls therefore reach the wrapper too, which passes them straight on
 * while the shim is at work in that thread.
 */
#include <dlfcn.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/auxv.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include "internal.h"
#include "liveness.h"
#include "settings.h"

#define SHIM_EXPORT __attribute__((visibility("default")))

typedef int (*socket_fn)(int, int, int);
typedef int (*connect_fn)(int, const struct sockaddr *, socklen_t);
typedef int (*accept_fn)(int, struct sockaddr *, socklen_t *);
typedef int (*accept4_fn)(int, struct sockaddr *, socklen_t *, int);
typedef int (*setsockopt_fn)(int, int, int, const void *, socklen_t);

/* Written once, by init() under pthread_once(), and read only after it. */
static pthread_once_t once = PTHREAD_ONCE_INIT;
static socket_fn real_socket;
static connect_fn real_connect;
static accept_fn real_accept;
static accept4_fn real_accept4;
static setsockopt_fn real_setsockopt;
static struct lvt_settings conf;
static int active; /* settings to apply */
static int debug;  /* LIVENESS_DEBUG set */

static int failure_reported; /* atomic: the first failure was reported */
static int change_reported;  /* atomic: the first change to a program's setting was reported */

/*
 * Set while the shim sets options in this thread, so that its own
 * setsockopt() calls (lib/tcp.c's, which bind to the exported wrapper) pass
 * straight through. Initial-exec: the shim is loaded at start-up, and the
 * access must not allocate.
 */
static __thread int inside __attribute__((tls_model("initial-exec")));

/* The options a program can set that the plan governs, in struct liveness_tcp's order. */
enum field { F_KEEPALIVE, F_IDLE, F_INTERVAL, F_COUNT, F_USER_TIMEOUT, NFIELDS, F_NONE = -1 };

static const struct {
	int level, name;
	const char *text;
} options[NFIELDS] = {
	{SOL_SOCKET, SO_KEEPALIVE, "SO_KEEPALIVE"},
	{IPPROTO_TCP, TCP_KEEPIDLE, "TCP_KEEPIDLE"},
	{IPPROTO_TCP, TCP_KEEPINTVL, "TCP_KEEPINTVL"},
	{IPPROTO_TCP, TCP_KEEPCNT, "TCP_KEEPCNT"},
	{IPPROTO_TCP, TCP_USER_TIMEOUT, "TCP_USER_TIMEOUT"},
};

static unsigned field_get(const struct liveness_tcp *t, enum field f)
{
	switch (f) {
	case F_KEEPALIVE: return (unsigned)t->keepalive;
	case F_IDLE: return (unsigned)t->idle;
	case F_INTERVAL: return (unsigned)t->interval;
	case F_COUNT: return (unsigned)t->count;
	default: return t->user_timeout;
	}
}

static void field_set(struct liveness_tcp *t, enum field f, unsigned v)
{
	switch (f) {
	case F_KEEPALIVE: t->keepalive = (int)v; break;
	case F_IDLE: t->idle = (int)v; break;
	case F_INTERVAL: t->interval = (int)v; break;
	case F_COUNT: t->count = (int)v; break;
	default: t->user_timeout = v; break;
	}
}

static enum field watched(int level, int name)
{
	int f;

	for (f = 0; f < NFIELDS; f++)
		if (options[f].level == level && options[f].name == name)
			return (enum field)f;
	return F_NONE;
}

/*
 * What the program set on the socket at a descriptor: a two-level table
 * indexed by descriptor, its blocks mapped when first needed (mmap, not
 * malloc: the wrapped calls are async-signal-safe, and a program may make
 * them in a signal handler). An
 * entry belongs to one socket, named by its inode, so a descriptor reused
 * for another socket, or one the shim never saw created, starts empty.
 * Entries are read and written with relaxed atomics: two threads setting
 * options on one socket at once race in the program already, and whatever
 * either reads is merged with the plan, which keeps the promise.
 */
#define INTENT_BLOCK 4096
#define INTENT_BLOCKS 256 /* descriptors below 1048576, the kernel's default nr_open */

struct intent {
	unsigned long ino;   /* the socket's inode; 0 for none */
	unsigned v[NFIELDS]; /* a value the program set, plus one; 0 where it set none */
};

static struct intent *intents[INTENT_BLOCKS];

/* The entry of fd's socket; with create, made empty if it is another socket's. */
static struct intent *intent_of(int fd, int create)
{
	struct intent *block, *fresh = NULL, *e;
	struct stat st;
	size_t size = sizeof(struct intent) * INTENT_BLOCK;
	int f;

	if (fd < 0 || fd / INTENT_BLOCK >= INTENT_BLOCKS)
		return NULL;
	block = __atomic_load_n(&intents[fd / INTENT_BLOCK], __ATOMIC_ACQUIRE);
	if ((!block && !create) || fstat(fd, &st) != 0)
		return NULL;
	if (!block) {
		void *m = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1,
			       0);
		if (m == MAP_FAILED)
			return NULL;
		fresh = m;
		if (__atomic_compare_exchange_n(&intents[fd / INTENT_BLOCK], &block, fresh, 0,
						__ATOMIC_ACQ_REL, __ATOMIC_ACQUIRE))
			block = fresh;
		else
			munmap(fresh, size); /* another thread mapped it first: block is theirs */
	}
	e = &block[fd % INTENT_BLOCK];
	if (__atomic_load_n(&e->ino, __ATOMIC_ACQUIRE) != (unsigned long)st.st_ino) {
		if (!create)
			return NULL;
		for (f = 0; f < NFIELDS; f++)
			__atomic_store_n(&e->v[f], 0, __ATOMIC_RELAXED);
		__atomic_store_n(&e->ino, (unsigned long)st.st_ino, __ATOMIC_RELEASE);
	}
	return e;
}

/* *t with the fields the program set replaced by what it set. */
static void overlay(const struct intent *e, struct liveness_tcp *t)
{
	int f;

	for (f = 0; f < NFIELDS; f++) {
		unsigned v = __atomic_load_n(&e->v[f], __ATOMIC_RELAXED);
		if (v != 0)
			field_set(t, (enum field)f, v - 1);
	}
}

static void say(const char *fmt, ...)
{
	char line[512];
	va_list ap;
	int n = snprintf(line, sizeof(line), "liveness-preload[%d]: ", (int)getpid()), m;

	va_start(ap, fmt);
	m = vsnprintf(line + n, sizeof(line) - (size_t)n, fmt, ap);
	va_end(ap);
	if (m < 0)
		return;
	n = (size_t)(n + m) < sizeof(line) ? n + m : (int)sizeof(line) - 1;
	/* write(2), not stdio: safe in any thread, no buffer shared with the program. */
	if (write(STDERR_FILENO, line, (size_t)n) < 0)
		return;
}

/* "keepalive 15:3:4, user timeout 27000 ms", or what a configuration leaves to the program. */
static void describe(char *buf, size_t len, const struct liveness_tcp *t, int keepalive_named,
		     int user_timeout_named)
{
	char ka[64], ut[64];

	if (!keepalive_named)
		snprintf(ka, sizeof(ka), "keepalive as the program sets it");
	else if (!t->keepalive)
		snprintf(ka, sizeof(ka), "keepalive off");
	else
		snprintf(ka, sizeof(ka), "keepalive %d:%d:%d", t->idle, t->interval, t->count);
	if (user_timeout_named)
		snprintf(ut, sizeof(ut), "user timeout %u ms", t->user_timeout);
	else
		snprintf(ut, sizeof(ut), "user timeout as the program sets it");
	snprintf(buf, len, "%s, %s", ka, ut);
}

/* The variables the shim reads; any other LIVENESS_* close to one of them is a typo. */
static const char *const known[] = {"LIVENESS_BUDGET", "LIVENESS_KEEPALIVE",
				    "LIVENESS_USER_TIMEOUT", "LIVENESS_DEBUG"};

/* Levenshtein distance of a and b, capped: only "at most 2" matters. */
static unsigned distance(const char *a, size_t na, const char *b)
{
	unsigned row[64], prev, tmp;
	size_t nb = strlen(b), i, j;

	if (na >= sizeof(row) / sizeof(row[0]) || nb >= sizeof(row) / sizeof(row[0]))
		return 99;
	for (j = 0; j <= nb; j++)
		row[j] = (unsigned)j;
	for (i = 1; i <= na; i++) {
		prev = row[0];
		row[0] = (unsigned)i;
		for (j = 1; j <= nb; j++) {
			unsigned best = prev + (a[i - 1] != b[j - 1]);

			if (row[j] + 1 < best)
				best = row[j] + 1;
			if (row[j - 1] + 1 < best)
				best = row[j - 1] + 1;
			tmp = row[j];
			row[j] = best;
			prev = tmp;
		}
	}
	return row[nb];
}

/*
 * A misspelt variable (LIVENESS_BUDGT=30s) leaves the operator unprotected
 * unawares: one line for each LIVENESS_* name within two edits of one the
 * shim reads. Other LIVENESS_* names (a test suite's own) pass in silence.
 */
static void report_misspelt(void)
{
	extern char **environ;

	for (char **e = environ; e && *e; e++) {
		size_t n = strcspn(*e, "=");
		unsigned k;

		if (strncmp(*e, "LIVENESS_", 9) != 0)
			continue;
		for (k = 0; k < sizeof(known) / sizeof(known[0]); k++)
			if (strlen(known[k]) == n && strncmp(*e, known[k], n) == 0)
				break;
		if (k < sizeof(known) / sizeof(known[0]))
			continue;
		for (k = 0; k < sizeof(known) / sizeof(known[0]); k++)
			if (distance(*e, n, known[k]) <= 2) {
				say("%.*s is not a variable the shim reads: did you mean %s?\n",
				    (int)n, *e, known[k]);
				break;
			}
	}
}

/*
 * LIVENESS_DEBUG: 1, yes, true or on turn the reports on; 0, no, false, off
 * or empty leave them off (LIVENESS_DEBUG=0 once turned them on). Anything
 * else is reported and taken as off.
 */
static int debug_wanted(const char *v)
{
	static const char *const on[] = {"1", "yes", "true", "on"};
	static const char *const off[] = {"0", "no", "false", "off", ""};
	unsigned k;

	if (!v)
		return 0;
	for (k = 0; k < sizeof(on) / sizeof(on[0]); k++)
		if (strcasecmp(v, on[k]) == 0)
			return 1;
	for (k = 0; k < sizeof(off) / sizeof(off[0]); k++)
		if (strcasecmp(v, off[k]) == 0)
			return 0;
	say("LIVENESS_DEBUG=%s: want 1 or 0; reports stay off\n", v);
	return 0;
}

static void init(void)
{
	char why[300], desc[160];
	int saved = errno, r;

	real_socket = (socket_fn)dlsym(RTLD_NEXT, "socket");
	real_connect = (connect_fn)dlsym(RTLD_NEXT, "connect");
	real_accept = (accept_fn)dlsym(RTLD_NEXT, "accept");
	real_accept4 = (accept4_fn)dlsym(RTLD_NEXT, "accept4");
	real_setsockopt = (setsockopt_fn)dlsym(RTLD_NEXT, "setsockopt");
	/* A setuid program must not be steered by its caller's environment. */
	if (getauxval(AT_SECURE) == 0) {
		debug = debug_wanted(getenv("LIVENESS_DEBUG"));
		report_misspelt();
		r = lvt_settings_parse(&conf, getenv("LIVENESS_BUDGET"),
				       getenv("LIVENESS_KEEPALIVE"),
				       getenv("LIVENESS_USER_TIMEOUT"), why, sizeof(why));
		if (r < 0) {
			/* A mistyped variable would leave the operator unprotected unawares. */
			say("%s; the shim does nothing\n", why);
		} else if (r == 0) {
			/* Preloaded with nothing to do: as likely a mistake as a typo. */
			say("no LIVENESS_BUDGET, LIVENESS_KEEPALIVE or LIVENESS_USER_TIMEOUT is "
			    "set; "
			    "the shim does nothing\n");
		} else {
			active = 1;
			if (debug) {
				struct liveness_tcp plan, any = {0, 1, 1, 1, 0, -1};
				lvt_settings_plan(&conf, &any, &plan);
				describe(desc, sizeof(desc), &plan,
					 conf.has_budget || conf.has_keepalive,
					 conf.has_budget || conf.has_user_timeout);
				say("at most %s on every TCP socket; the program's stricter "
				    "settings stay, looser ones are raised\n",
				    desc);
			}
		}
	}
	errno = saved;
}

/* Before main(); a library constructor that makes a socket earlier runs init() in the wrapper. */
__attribute__((constructor)) static void preload_init(void)
{
	pthread_once(&once, init);
}

static int ready(void)
{
	return pthread_once(&once, init) == 0;
}

static void report_failure(const char *where, int err)
{
	if (debug && !__atomic_exchange_n(&failure_reported, 1, __ATOMIC_ACQ_REL))
		say("%s: %s (further failures are not reported)\n", where, liveness_strerror(err));
}

static void report_change(int fd, enum field f, const struct liveness_tcp *asked,
			  const struct liveness_tcp *want, enum lvt_outcome how)
{
	char desc[160];

	if (!debug || __atomic_exchange_n(&change_reported, 1, __ATOMIC_ACQ_REL))
		return;
	describe(desc, sizeof(desc), want, conf.has_budget || conf.has_keepalive,
		 conf.has_budget || conf.has_user_timeout);
	say("the program set %s to %u on socket %d; enforced %s (%s; further changes are not "
	    "reported)\n",
	    options[f].text, field_get(asked, f), fd, desc,
	    how == LVT_FELL_BACK   ? "its settings together would end a dead connection later "
				     "than the plan"
	    : how == LVT_TIGHTENED ? "its stricter keepalive stays, with a user timeout short "
				     "enough that together they end a dead connection no later "
				     "than the plan"
				   : "looser settings are raised to the plan");
}

/*
 * Hold fd to the configuration if it is a TCP socket. set is the option
 * the program has just set (F_NONE when the shim acts on its own), remember
 * asks for what the program set before to be taken into account (not for a
 * socket just created). errno is preserved.
 */
static void enforce(int fd, const char *where, enum field set, int remember)
{
	struct liveness_tcp cur, asked, want;
	struct intent *e = NULL;
	enum lvt_outcome how;
	int saved = errno, r;

	inside = 1;
	r = liveness_tcp_get(fd, &cur);
	if (r == -EPROTOTYPE || r == -ENOTSOCK || r == -EBADF)
		goto out; /* not TCP: UDP, UNIX and raw sockets stay as they are */
	if (r < 0) {
		report_failure(where, r);
		goto out;
	}
	asked = cur;
	if (remember && (e = intent_of(fd, set != F_NONE)) != NULL) {
		/* The kernel holds exactly what the program has just set: the call succeeded. */
		if (set != F_NONE)
			__atomic_store_n(&e->v[set], field_get(&cur, set) + 1, __ATOMIC_RELAXED);
		overlay(e, &asked);
	}
	how = lvt_settings_apply(
		&conf, &asked,
		e != NULL && __atomic_load_n(&e->v[F_USER_TIMEOUT], __ATOMIC_RELAXED), &want);
	if (memcmp(&cur, &want, sizeof(cur)) != 0 && (r = liveness__tcp_set(fd, &want, 0)) < 0) {
		report_failure(where, r);
		goto out;
	}
	if (set != F_NONE && how != LVT_KEPT)
		report_change(fd, set, &asked, &want, how);
out:
	inside = 0;
	errno = saved;
}

/* An accepted socket inherits its listener's options, so it inherits what the program set there. */
static void inherit(int listener, int fd)
{
	struct intent *from = intent_of(listener, 0), *to;
	int f;

	if (!from || !(to = intent_of(fd, 1)))
		return;
	for (f = 0; f < NFIELDS; f++)
		__atomic_store_n(&to->v[f], __atomic_load_n(&from->v[f], __ATOMIC_RELAXED),
				 __ATOMIC_RELAXED);
}

static int is_tcp(int domain, int type, int protocol)
{
	type &= ~(SOCK_NONBLOCK | SOCK_CLOEXEC);
	return (domain == AF_INET || domain == AF_INET6) && type == SOCK_STREAM &&
	       (protocol == 0 || protocol == IPPROTO_TCP);
}

SHIM_EXPORT int socket(int domain, int type, int protocol)
{
	int fd;

	if (!ready() || !real_socket) {
		errno = ENOSYS;
		return -1;
	}
	fd = real_socket(domain, type, protocol);
	if (fd >= 0 && active && is_tcp(domain, type, protocol))
		enforce(fd, "socket", F_NONE, 0);
	return fd;
}

SHIM_EXPORT int connect(int fd, const struct sockaddr *addr, socklen_t len)
{
	if (!ready() || !real_connect) {
		errno = ENOSYS;
		return -1;
	}
	/* Before the SYN, so the user timeout bounds the handshake too. */
	if (active && addr && len >= sizeof(sa_family_t) &&
	    (addr->sa_family == AF_INET || addr->sa_family == AF_INET6))
		enforce(fd, "connect", F_NONE, 1);
	return real_connect(fd, addr, len);
}

SHIM_EXPORT int accept(int fd, struct sockaddr *addr, socklen_t *len)
{
	int c;

	if (!ready() || !real_accept) {
		errno = ENOSYS;
		return -1;
	}
	c = real_accept(fd, addr, len);
	if (c >= 0 && active) {
		int saved = errno;
		inherit(fd, c);
		errno = saved;
		enforce(c, "accept", F_NONE, 1);
	}
	return c;
}

SHIM_EXPORT int accept4(int fd, struct sockaddr *addr, socklen_t *len, int flags)
{
	int c;

	if (!ready() || !real_accept4) {
		errno = ENOSYS;
		return -1;
	}
	c = real_accept4(fd, addr, len, flags);
	if (c >= 0 && active) {
		int saved = errno;
		inherit(fd, c);
		errno = saved;
		enforce(c, "accept4", F_NONE, 1);
	}
	return c;
}

/*
 * The program's own setting is made first, exactly as asked, so that it
 * gets the kernel's answer (EINVAL for an out-of-range value) and errno;
 * only a setting the kernel took is then held to the plan.
 */
SHIM_EXPORT int setsockopt(int fd, int level, int name, const void *value, socklen_t len)
{
	enum field f;
	int r;

	if (!ready() || !real_setsockopt) {
		errno = ENOSYS;
		return -1;
	}
	r = real_setsockopt(fd, level, name, value, len);
	if (r == 0 && active && !inside && (f = watched(level, name)) != F_NONE)
		enforce(fd, "setsockopt", f, 1);
	return r;
}
