/*
 * The wrappers behind tests/wrap.h. The linker sends every call to NAME in
 * the runner to __wrap_NAME and resolves __real_NAME to the real NAME, so a
 * pass-through here is the real call, whatever interposes on it at run time
 * (ASan's allocator, valgrind's). The state is per process, which is what
 * Check's forked tests want; wrap_reset() makes it safe without fork too.
 */
#include "wrap.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

int __real_socket(int domain, int type, int protocol);
int __real_setsockopt(int fd, int level, int name, const void *val, socklen_t len);
int __real_getsockopt(int fd, int level, int name, void *restrict val, socklen_t *restrict len);
int __real_fcntl(int fd, int cmd, ...);
void *__real_calloc(size_t n, size_t size);
void *__real_aligned_alloc(size_t alignment, size_t size);
FILE *__real_fopen(const char *restrict path, const char *restrict mode);

int __wrap_socket(int domain, int type, int protocol);
int __wrap_setsockopt(int fd, int level, int name, const void *val, socklen_t len);
int __wrap_getsockopt(int fd, int level, int name, void *restrict val, socklen_t *restrict len);
int __wrap_fcntl(int fd, int cmd, ...);
void *__wrap_calloc(size_t n, size_t size);
void *__wrap_aligned_alloc(size_t alignment, size_t size);
FILE *__wrap_fopen(const char *restrict path, const char *restrict mode);

static struct arm {
	unsigned calls; /* since armed or reset */
	unsigned first; /* 0: disarmed */
	unsigned count; /* 0: no end */
	int err;
} arms[WRAP_COUNT];

static struct {
	unsigned nth; /* 0: disarmed */
	unsigned seen;
	int level, name, value;
} lie;

static struct {
	int armed, exists;
	char path[256];
	char contents[256];
} file;

void wrap_fail(enum wrap_fn fn, unsigned nth, unsigned count, int err)
{
	arms[fn] = (struct arm){.first = nth, .count = count, .err = err};
}

void wrap_lie(int level, int name, unsigned nth, int value)
{
	lie.nth = nth;
	lie.seen = 0;
	lie.level = level;
	lie.name = name;
	lie.value = value;
}

void wrap_file(const char *path, const char *contents)
{
	/* Truncation would silently test something else: refuse it loudly. */
	if (strlen(path) >= sizeof(file.path) ||
	    (contents && strlen(contents) >= sizeof(file.contents)))
		abort();
	file.armed = 1;
	file.exists = contents != NULL;
	strcpy(file.path, path);
	strcpy(file.contents, contents ? contents : "");
}

unsigned wrap_calls(enum wrap_fn fn)
{
	return arms[fn].calls;
}

void wrap_reset(void)
{
	memset(arms, 0, sizeof(arms));
	memset(&lie, 0, sizeof(lie));
	memset(&file, 0, sizeof(file));
}

/* Count a call of fn; should it fail? Sets errno if so. */
static int failing(enum wrap_fn fn)
{
	struct arm *a = &arms[fn];
	unsigned n = ++a->calls;

	if (a->first == 0 || n < a->first || (a->count != 0 && n - a->first >= a->count))
		return 0;
	errno = a->err;
	return 1;
}

int __wrap_socket(int domain, int type, int protocol)
{
	return failing(WRAP_SOCKET) ? -1 : __real_socket(domain, type, protocol);
}

int __wrap_setsockopt(int fd, int level, int name, const void *val, socklen_t len)
{
	return failing(WRAP_SETSOCKOPT) ? -1 : __real_setsockopt(fd, level, name, val, len);
}

int __wrap_getsockopt(int fd, int level, int name, void *restrict val, socklen_t *restrict len)
{
	int r;

	if (failing(WRAP_GETSOCKOPT))
		return -1;
	r = __real_getsockopt(fd, level, name, val, len);
	if (r == 0 && lie.nth != 0 && level == lie.level && name == lie.name &&
	    ++lie.seen == lie.nth) {
		if (level == SOL_SOCKET && name == SO_LINGER && *len >= sizeof(struct linger)) {
			struct linger *l = val;

			l->l_onoff = lie.value >= 0;
			l->l_linger = lie.value >= 0 ? lie.value : 0;
		} else if (*len >= sizeof(int)) {
			memcpy(val, &lie.value, sizeof(int));
		}
	}
	return r;
}

int __wrap_fcntl(int fd, int cmd, ...)
{
	va_list ap;
	void *arg;

	if (failing(WRAP_FCNTL))
		return -1;
	/*
	 * fcntl's third argument is an int, a pointer or absent, by cmd.
	 * glibc's own fcntl reads it as a pointer whatever cmd is, which the
	 * calling convention makes safe; passing it on the same way keeps this
	 * wrapper free of a table of commands.
	 */
	va_start(ap, cmd);
	arg = va_arg(ap, void *);
	va_end(ap);
	return __real_fcntl(fd, cmd, arg);
}

void *__wrap_calloc(size_t n, size_t size)
{
	return failing(WRAP_CALLOC) ? NULL : __real_calloc(n, size);
}

void *__wrap_aligned_alloc(size_t alignment, size_t size)
{
	return failing(WRAP_ALIGNED_ALLOC) ? NULL : __real_aligned_alloc(alignment, size);
}

FILE *__wrap_fopen(const char *restrict path, const char *restrict mode)
{
	if (failing(WRAP_FOPEN))
		return NULL;
	if (!file.armed || strcmp(path, file.path) != 0)
		return __real_fopen(path, mode);
	if (!file.exists) {
		errno = ENOENT;
		return NULL;
	}
	/* The stream reads file.contents, which stays put until the next wrap_file(). */
	return fmemopen(file.contents, strlen(file.contents), "r");
}
