#include "child.h"

#include <arpa/inet.h>
#include <check.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

extern char **environ;

const char *sp_build(void)
{
	static char dir[PATH_MAX];
	const char *b = getenv("LIVENESS_BUILD");
	ssize_t n;
	char *slash;

	if (b && *b)
		return b;
	/* The runner lives in <build>/tests/: the tools of its own build are next door. */
	n = readlink("/proc/self/exe", dir, sizeof(dir) - 1);
	if (n > 0) {
		dir[n] = '\0';
		if ((slash = strrchr(dir, '/')) && (*slash = '\0', slash = strrchr(dir, '/')) &&
		    strcmp(slash, "/tests") == 0) {
			*slash = '\0';
			strncat(dir, "/liveness", sizeof(dir) - strlen(dir) - 1);
			if (access(dir, X_OK) == 0) {
				dir[strlen(dir) - strlen("/liveness")] = '\0';
				return dir;
			}
		}
	}
	return "build";
}

void sp_path(char *buf, size_t len, const char *name)
{
	char rel[PATH_MAX];

	snprintf(rel, sizeof(rel), "%s/%s", sp_build(), name);
	if (!realpath(rel, buf) || strlen(buf) >= len)
		ck_abort_msg("%s not found (build it: make tools; LIVENESS_BUILD=%s)", rel,
			     sp_build());
}

/* environ plus the extra entries, which replace variables of the same name. */
static char **make_env(char *const extra[])
{
	size_t n = 0, k = 0, i, j;
	char **e;

	while (environ[n])
		n++;
	while (extra && extra[k])
		k++;
	e = calloc(n + k + 1, sizeof(*e));
	ck_assert_ptr_nonnull(e);
	k = 0;
	for (i = 0; i < n; i++) {
		size_t name = strcspn(environ[i], "=");
		int replaced = 0;
		for (j = 0; extra && extra[j]; j++)
			if (strncmp(extra[j], environ[i], name + 1) == 0)
				replaced = 1;
		if (!replaced)
			e[k++] = environ[i];
	}
	for (j = 0; extra && extra[j]; j++)
		e[k++] = extra[j];
	return e;
}

static pid_t spawn(char *const argv[], char *const env[], int in, int out, int err)
{
	posix_spawn_file_actions_t fa;
	char **e = make_env(env);
	pid_t pid;
	int r;

	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_adddup2(&fa, in, 0);
	posix_spawn_file_actions_adddup2(&fa, out, 1);
	posix_spawn_file_actions_adddup2(&fa, err, 2);
	r = posix_spawnp(&pid, argv[0], &fa, NULL, argv, e);
	posix_spawn_file_actions_destroy(&fa);
	free(e);
	ck_assert_msg(r == 0, "spawn %s: %s", argv[0], strerror(r));
	return pid;
}

static void append(char **buf, size_t *len, const char *data, size_t n)
{
	*buf = realloc(*buf, *len + n + 1);
	ck_assert_ptr_nonnull(*buf);
	memcpy(*buf + *len, data, n);
	*len += n;
	(*buf)[*len] = '\0';
}

void sp_run(char *const argv[], char *const env[], liveness_time timeout, struct sp_result *r)
{
	int po[2], pe[2], in = open("/dev/null", O_RDONLY | O_CLOEXEC), status, open_fds = 2;
	size_t lo = 0, le = 0;
	liveness_time deadline = liveness_now() + timeout;
	pid_t pid;

	ck_assert_int_ge(in, 0);
	ck_assert_int_eq(pipe2(po, O_CLOEXEC), 0);
	ck_assert_int_eq(pipe2(pe, O_CLOEXEC), 0);
	r->out = calloc(1, 1);
	r->err = calloc(1, 1);
	pid = spawn(argv, env, in, po[1], pe[1]);
	close(in);
	close(po[1]);
	close(pe[1]);
	while (open_fds > 0) {
		struct pollfd p[2] = {{.fd = po[0], .events = POLLIN},
				      {.fd = pe[0], .events = POLLIN}};
		char buf[4096];
		int i, n = poll(p, 2, liveness_poll_timeout(deadline, liveness_now()));
		if (n == 0) {
			kill(pid, SIGKILL);
			break;
		}
		ck_assert(n > 0 || errno == EINTR);
		for (i = 0; i < 2; i++) {
			ssize_t got;
			if (p[i].fd < 0 || !(p[i].revents & (POLLIN | POLLHUP | POLLERR)))
				continue;
			got = read(p[i].fd, buf, sizeof(buf));
			if (got > 0) {
				if (i == 0)
					append(&r->out, &lo, buf, (size_t)got);
				else
					append(&r->err, &le, buf, (size_t)got);
			} else if (got == 0) {
				close(p[i].fd);
				if (i == 0)
					po[0] = -1;
				else
					pe[0] = -1;
				open_fds--;
			}
		}
	}
	if (po[0] >= 0)
		close(po[0]);
	if (pe[0] >= 0)
		close(pe[0]);
	ck_assert_int_eq(waitpid(pid, &status, 0), pid);
	r->status = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

void sp_free(struct sp_result *r)
{
	free(r->out);
	free(r->err);
	r->out = r->err = NULL;
}

pid_t sp_start(char *const argv[], char *const env[], const char *log)
{
	int in = open("/dev/null", O_RDONLY | O_CLOEXEC);
	int out = open(log ? log : "/dev/null", O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
	pid_t pid;

	ck_assert_int_ge(in, 0);
	ck_assert_int_ge(out, 0);
	pid = spawn(argv, env, in, out, out);
	close(in);
	close(out);
	return pid;
}

void sp_kill(pid_t pid)
{
	int status;

	if (pid > 0) {
		kill(pid, SIGKILL);
		waitpid(pid, &status, 0);
	}
}

/* Visit the sockets of /proc/net/tcp and tcp6: local port, remote port, state. */
static int scan(unsigned local, unsigned remote, int want_listen)
{
	static const char *files[] = {"/proc/net/tcp", "/proc/net/tcp6"};
	char line[512];
	size_t i;

	for (i = 0; i < 2; i++) {
		FILE *f = fopen(files[i], "re");
		if (!f)
			continue;
		while (fgets(line, sizeof(line), f)) {
			unsigned lp, rp, st;
			char la[64], ra[64];
			/* "  0: 0100007F:1A0A 00000000:0000 0A ..." */
			if (sscanf(line, " %*d: %63[0-9A-Fa-f]:%x %63[0-9A-Fa-f]:%x %x", la, &lp,
				   ra, &rp, &st) != 5)
				continue;
			if (lp == local &&
			    (want_listen ? st == 0x0A
					 : st != 0x0A && (remote == 0 || rp == remote))) {
				fclose(f);
				return 1;
			}
		}
		fclose(f);
	}
	return 0;
}

int sp_conn_exists(unsigned local, unsigned remote)
{
	return scan(local, remote, 0);
}

int sp_wait_listen(unsigned port, liveness_time timeout)
{
	liveness_time deadline = liveness_now() + timeout;

	/* Nothing to wait on for another process's listen(): look every 10 ms. */
	while (!scan(port, 0, 1)) {
		if (liveness_now() >= deadline)
			return 0;
		poll(NULL, 0, 10);
	}
	return 1;
}

/* The port of an IPv4 or IPv6 address, or 0 for another family. */
static unsigned port_of(const struct sockaddr_storage *ss)
{
	if (ss->ss_family == AF_INET)
		return ntohs(((const struct sockaddr_in *)ss)->sin_port);
	if (ss->ss_family == AF_INET6)
		return ntohs(((const struct sockaddr_in6 *)ss)->sin6_port);
	return 0;
}

int sp_socket_of(pid_t pid, unsigned local, unsigned peer)
{
	char dir[64], path[320], link[64];
	struct dirent *d;
	int pidfd, found = -ENOENT;
	DIR *fds;

	/* Through syscall(2): glibc has wrappers only since 2.36. */
	pidfd = (int)syscall(SYS_pidfd_open, pid, 0);
	if (pidfd < 0)
		return -errno;
	snprintf(dir, sizeof(dir), "/proc/%d/fd", (int)pid);
	if (!(fds = opendir(dir))) {
		found = -errno;
		close(pidfd);
		return found;
	}
	while (found == -ENOENT && (d = readdir(fds))) {
		struct sockaddr_storage me, them;
		socklen_t a = sizeof(me), b = sizeof(them);
		ssize_t n;
		int fd;

		snprintf(path, sizeof(path), "%s/%s", dir, d->d_name);
		n = readlink(path, link, sizeof(link) - 1);
		if (n <= 0 || d->d_name[0] < '0' || d->d_name[0] > '9')
			continue;
		link[n] = '\0';
		if (strncmp(link, "socket:", 7) != 0)
			continue;
		fd = (int)syscall(SYS_pidfd_getfd, pidfd, atoi(d->d_name), 0);
		if (fd < 0) {
			found = -errno;
			break;
		}
		if (getsockname(fd, (struct sockaddr *)&me, &a) == 0 &&
		    getpeername(fd, (struct sockaddr *)&them, &b) == 0 && port_of(&me) == local &&
		    port_of(&them) == peer)
			found = fd;
		else
			close(fd);
	}
	closedir(fds);
	close(pidfd);
	return found;
}
