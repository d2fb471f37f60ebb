/* Run a built tool or a foreign program from a test and collect what it prints. */
#ifndef LIVENESS_TESTS_CHILD_H
#define LIVENESS_TESTS_CHILD_H

#include <stddef.h>
#include <sys/types.h>

#include "liveness.h"

/* The build directory: $LIVENESS_BUILD, else the runner's own (build-san for build-san/tests/...),
 * else "build". */
const char *sp_build(void);
/* "<build>/<name>" made absolute, in a static buffer per call site's copy. */
void sp_path(char *buf, size_t len, const char *name);

struct sp_result {
	int status; /* exit status, or 128 + signal */
	char *out;  /* NUL-terminated stdout; free with sp_free */
	char *err;  /* NUL-terminated stderr */
};

/*
 * Run argv (argv[0] looked up in PATH) with extra environment entries
 * ("NAME=value", NULL-terminated, may be NULL), stdin from /dev/null, until
 * it exits or timeout passes (then it is killed: status 128 + SIGKILL).
 */
void sp_run(char *const argv[], char *const env[], liveness_time timeout, struct sp_result *r);
void sp_free(struct sp_result *r);

/*
 * Start argv in the background, stdout and stderr appended to log (a file
 * path, or NULL for /dev/null). Returns its pid.
 */
pid_t sp_start(char *const argv[], char *const env[], const char *log);
/* SIGKILL and reap. */
void sp_kill(pid_t pid);

/* Wait until something listens on 127.0.0.1:port (checked in /proc/net/tcp). */
int sp_wait_listen(unsigned port, liveness_time timeout);
/*
 * Is there a TCP socket with this local and remote port in /proc/net/tcp
 * or tcp6, in any state but LISTEN? remote 0 matches any.
 */
int sp_conn_exists(unsigned local, unsigned remote);

/*
 * A duplicate, made with pidfd_getfd(2), of the IPv4 or IPv6 TCP socket
 * that process pid holds with this local and peer port: the same socket,
 * so the caller reads the settings the program's socket really holds and
 * is woken by poll(2) when the kernel ends the connection. Returns the new
 * descriptor (close-on-exec), -ENOENT when pid holds no such socket, or
 * another negated errno (-EPERM without ptrace rights over pid, -ENOSYS
 * before Linux 5.6).
 */
int sp_socket_of(pid_t pid, unsigned local, unsigned peer);

#endif
