/*
 * Failure injection for the test runner by link-time interposition: the
 * runner is linked with -Wl,--wrap=NAME for each call below, so every call
 * to NAME from the runner and from the static library goes to
 * tests/wrap.c, which passes it through to the real one unless a test has
 * armed a failure. The library carries no hook of its own.
 *
 * Disarmed (the start, and after wrap_reset()), every wrapper is a plain
 * pass-through, so no other suite sees a difference. Arm a failure or a lie
 * just before the call under test and call wrap_reset() right after it,
 * before any ck_assert: Check itself allocates, and may open files and
 * sockets, through the same wrappers. wrap_file() touches one path only,
 * which Check never opens, so it may stay armed across assertions.
 */
#ifndef LIVENESS_TESTS_WRAP_H
#define LIVENESS_TESTS_WRAP_H

enum wrap_fn {
	WRAP_SOCKET,
	WRAP_SETSOCKOPT,
	WRAP_GETSOCKOPT,
	WRAP_FCNTL,
	WRAP_CALLOC,
	WRAP_ALIGNED_ALLOC,
	WRAP_FOPEN,
	WRAP_COUNT
};

/*
 * Make calls nth to nth + count - 1 of fn, counted from this call on (1 is
 * the next call), fail with errno err (count 0: every call from nth on).
 * Failing calls return -1, or NULL for the allocators and fopen.
 */
void wrap_fail(enum wrap_fn fn, unsigned nth, unsigned count, int err);

/*
 * Make the nth successful getsockopt(level, name) from now report value
 * instead of what the kernel holds: an int option gets value; SO_LINGER
 * gets l_onoff = value >= 0 and l_linger = value (or 0).
 */
void wrap_lie(int level, int name, unsigned nth, int value);

/*
 * Make fopen(path) open a read-only stream of contents instead, or fail with
 * ENOENT if contents is NULL. Other paths are not affected.
 */
void wrap_file(const char *path, const char *contents);

/* Calls of fn since it was last armed, or since wrap_reset(). */
unsigned wrap_calls(enum wrap_fn fn);

/* Disarm everything and zero the counts. */
void wrap_reset(void);

#endif
