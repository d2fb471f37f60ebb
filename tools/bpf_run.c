/*
 * liveness run --bpf: the loader. The kernel, not the program, applies
 * the plan: a sock_ops program (tools/bpf/liveness.bpf.c) is attached
 * with a BPF link to a transient child of the caller's own cgroup, and
 * the program runs in that cgroup, so that statically linked and
 * set-user-ID programs are reached as well as any other. Every step that
 * can fail comes before the program runs, and each failure undoes the
 * steps before it: nothing stays attached and no cgroup stays behind.
 */
#include <errno.h>
#include <dirent.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <bpf/libbpf.h>

#include "bpf_run.h"
#include "liveness.h"
#include "liveness.skel.h"
#include "liveness_bpf.h"

/* The signals a supervisor sends to stop or reload what it runs. */
static const int forwarded[] = {SIGINT, SIGTERM, SIGHUP, SIGQUIT};

static volatile sig_atomic_t child_pid;
static int debug_on;

static void say(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void say(const char *fmt, ...)
{
	va_list ap;

	fputs("liveness: run: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

/* libbpf writes warnings of its own; the command's failures are one line, so only --debug shows
 * them. */
static int libbpf_print(enum libbpf_print_level level, const char *fmt, va_list ap)
{
	if (!debug_on || level == LIBBPF_DEBUG)
		return 0;
	return vfprintf(stderr, fmt, ap);
}

/* Undo the escapes (\040 for a space, ...) with which mountinfo writes a path. */
static void unescape(char *s)
{
	char *o = s;

	for (; *s; s++) {
		if (s[0] == '\\' && s[1] >= '0' && s[1] <= '3' && s[2] >= '0' && s[2] <= '7' &&
		    s[3] >= '0' && s[3] <= '7') {
			*o++ = (char)((s[1] - '0') * 64 + (s[2] - '0') * 8 + (s[3] - '0'));
			s += 3;
		} else {
			*o++ = *s;
		}
	}
	*o = '\0';
}

/*
 * The directory of this process's cgroup: its path in the unified
 * hierarchy ("0::PATH" in /proc/self/cgroup) under a cgroup2 mount whose
 * root holds it (/proc/self/mountinfo). The mount is searched for, never
 * assumed: /sys/fs/cgroup on most systems, /sys/fs/cgroup/unified in the
 * hybrid layout, elsewhere in containers.
 */
static int own_cgroup(char *dir, size_t len)
{
	char line[4096], cg[PATH_MAX] = "", root[PATH_MAX], mnt[PATH_MAX], type[64];
	const char *rel;
	FILE *f;
	int found = 0;
	size_t n;

	if (!(f = fopen("/proc/self/cgroup", "re")))
		return -errno;
	while (fgets(line, sizeof(line), f))
		if (strncmp(line, "0::", 3) == 0 && sscanf(line + 3, "%4095s", cg) == 1)
			break;
	fclose(f);
	if (cg[0] != '/')
		return -ENOENT;
	if (!(f = fopen("/proc/self/mountinfo", "re")))
		return -errno;
	while (!found && fgets(line, sizeof(line), f)) {
		const char *sep = strstr(line, " - ");

		if (!sep || sscanf(sep + 3, "%63s", type) != 1 || strcmp(type, "cgroup2") != 0 ||
		    sscanf(line, "%*s %*s %*s %4095s %4095s", root, mnt) != 2)
			continue;
		unescape(root);
		unescape(mnt);
		/* A mount of a subtree (a container's) holds only the cgroups under its root. */
		n = strcmp(root, "/") == 0 ? 0 : strlen(root);
		if (strncmp(cg, root, n) != 0 || (cg[n] != '/' && cg[n] != '\0'))
			continue;
		rel = cg + n;
		if (strcmp(rel, "/") == 0)
			rel = "";
		found = (size_t)snprintf(dir, len, "%s%s", mnt, rel) < len;
	}
	fclose(f);
	return found ? 0 : -ENOENT;
}

/* Write a number followed by nothing else to path (cgroup.procs takes one pid per write). */
static int write_pid(const char *path, long pid)
{
	char buf[24];
	int fd = open(path, O_WRONLY | O_CLOEXEC), n, r = 0;

	if (fd < 0)
		return -errno;
	n = snprintf(buf, sizeof(buf), "%ld", pid);
	if (write(fd, buf, (size_t)n) != n)
		r = -errno;
	close(fd);
	return r;
}

/*
 * Remove the transient cgroup. Processes the program left running (a
 * daemon it started) would keep it busy: they go back to the caller's
 * cgroup, outside the attachment, which the caller is told. The kernel
 * may still count a process that has just been reaped for a moment, so
 * removal is retried for up to a second.
 */
static void remove_cgroup(const char *cg, const char *parent)
{
	char procs[PATH_MAX + 80], to[PATH_MAX + 80];
	struct timespec pause = {0, 10 * 1000 * 1000};
	int moved = 0, tries;

	snprintf(procs, sizeof(procs), "%s/cgroup.procs", cg);
	snprintf(to, sizeof(to), "%s/cgroup.procs", parent);
	for (tries = 0; rmdir(cg) != 0; tries++) {
		FILE *f;
		long pid;

		if (errno != EBUSY || tries == 100) {
			say("cannot remove the cgroup %s: %s", cg, strerror(errno));
			return;
		}
		if ((f = fopen(procs, "re"))) {
			while (fscanf(f, "%ld", &pid) == 1)
				moved += write_pid(to, pid) == 0;
			fclose(f);
		}
		nanosleep(&pause, NULL);
	}
	if (moved)
		say("warning: %d process%s the program left running moved to %s: new "
		    "connections there keep the kernel's defaults",
		    moved, moved == 1 ? "" : "es", parent);
}

/*
 * A loader killed with SIGKILL cannot remove its cgroup; its link went
 * with it. Such a cgroup, whose loader no longer exists, is removed here
 * when it is empty (rmdir refuses one that is not). A reused pid makes it
 * wait for a later run, never removes a live loader's.
 */
static void remove_stale(const char *parent)
{
	char path[PATH_MAX + 300];
	struct dirent *e;
	DIR *d = opendir(parent);
	long pid;

	if (!d)
		return;
	while ((e = readdir(d)))
		if (sscanf(e->d_name, "liveness-run.%ld", &pid) == 1 && pid > 0 &&
		    kill((pid_t)pid, 0) != 0 && errno == ESRCH) {
			snprintf(path, sizeof(path), "%s/%s", parent, e->d_name);
			rmdir(path);
		}
	closedir(d);
}

/*
 * A signal sent to this process alone is passed on. One from the
 * terminal (si_code SI_KERNEL) reaches the whole foreground process
 * group, the program included, and is not sent to it a second time.
 */
static void forward(int sig, siginfo_t *info, void *ctx)
{
	(void)ctx;
	if (info && info->si_code == SI_KERNEL)
		return;
	if (child_pid > 0)
		kill((pid_t)child_pid, sig);
}

/* What the child tells the parent through a close-on-exec pipe when it cannot run the program. */
struct failure {
	int moving; /* 1: joining the cgroup failed; 0: exec failed */
	int err;
};

static void child(const char *procs, char **argv, const sigset_t *mask, int report)
{
	struct failure f = {1, 0};
	int r;

	sigprocmask(SIG_SETMASK, mask, NULL);
	/* "0" moves the writer: the program is in the cgroup before its first instruction. */
	if ((r = write_pid(procs, 0)) == 0) {
		execvp(argv[0], argv);
		f.moving = 0;
		r = -errno;
	}
	f.err = -r;
	/* Nothing more can be done if the parent cannot be told: it sees the status. */
	if (write(report, &f, sizeof(f)) < 0)
		_exit(126);
	_exit(!f.moving && f.err == ENOENT ? 127 : 126);
}

/* Start the program in the cgroup and wait for it; its status as the command's. */
static int supervise(const char *cg, char **argv)
{
	char procs[PATH_MAX + 80];
	struct sigaction sa = {0};
	sigset_t block, old;
	struct failure f;
	int pipefd[2], status = 0;
	ssize_t n;
	pid_t pid;
	size_t i;

	snprintf(procs, sizeof(procs), "%s/cgroup.procs", cg);
	if (pipe2(pipefd, O_CLOEXEC) != 0) {
		say("pipe: %s", strerror(errno));
		return 126;
	}
	/* Held until the child's pid is known, so that no signal is lost in between. */
	sigemptyset(&block);
	for (i = 0; i < sizeof(forwarded) / sizeof(forwarded[0]); i++)
		sigaddset(&block, forwarded[i]);
	sigprocmask(SIG_BLOCK, &block, &old);
	fflush(NULL);
	pid = fork();
	if (pid == 0) {
		close(pipefd[0]);
		child(procs, argv, &old, pipefd[1]);
	}
	close(pipefd[1]);
	if (pid < 0) {
		say("fork: %s", strerror(errno));
		sigprocmask(SIG_SETMASK, &old, NULL);
		close(pipefd[0]);
		return 126;
	}
	child_pid = pid;
	sa.sa_sigaction = forward;
	sa.sa_flags = SA_SIGINFO | SA_RESTART;
	sigemptyset(&sa.sa_mask);
	for (i = 0; i < sizeof(forwarded) / sizeof(forwarded[0]); i++)
		sigaction(forwarded[i], &sa, NULL);
	sigprocmask(SIG_SETMASK, &old, NULL);

	/* End of file: exec succeeded and closed the child's end. */
	do
		n = read(pipefd[0], &f, sizeof(f));
	while (n < 0 && errno == EINTR);
	close(pipefd[0]);
	while (waitpid(pid, &status, 0) < 0)
		if (errno != EINTR) {
			say("waitpid: %s", strerror(errno));
			return 126;
		}
	child_pid = 0;
	if (n == (ssize_t)sizeof(f)) {
		if (f.moving)
			say("cannot move the program into the cgroup %s: %s", cg, strerror(f.err));
		else
			say("%s: %s", argv[0], strerror(f.err));
		return f.moving ? 126 : f.err == ENOENT ? 127 : 126;
	}
	if (WIFSIGNALED(status))
		return 128 + WTERMSIG(status);
	return WEXITSTATUS(status);
}

static const char *load_hint(int err)
{
	if (err == EPERM || err == EACCES)
		return " (it needs CAP_BPF and CAP_NET_ADMIN)";
	return " (it needs Linux 5.9 or later with BTF; liveness doctor tells what this "
	       "machine has)";
}

int lvt_run_bpf(const struct liveness_tcp *plan, char **argv, int debug)
{
	struct lvb_settings val = {
		.keepalive = plan->keepalive,
		.idle = plan->idle,
		.interval = plan->interval,
		.count = plan->count,
		.user_timeout = (int)plan->user_timeout,
	};
	char parent[PATH_MAX], cg[PATH_MAX + 48];
	struct liveness_bpf *skel;
	struct bpf_link *link;
	unsigned int key = 0;
	int r, cgfd, status;

	debug_on = debug;
	libbpf_set_print(libbpf_print);
	if ((r = own_cgroup(parent, sizeof(parent))) < 0) {
		say("--bpf: cannot find this process's cgroup in a cgroup2 file system: %s",
		    strerror(-r));
		return 126;
	}

	/* Loaded first: without the rights, nothing has been made yet. */
	if (!(skel = liveness_bpf__open_and_load())) {
		r = errno;
		say("--bpf: the kernel refused the BPF program: %s%s", strerror(r), load_hint(r));
		return 126;
	}
	if (bpf_map__update_elem(skel->maps.settings, &key, sizeof(key), &val, sizeof(val),
				 BPF_ANY) != 0) {
		say("--bpf: cannot store the settings in the BPF map: %s", strerror(errno));
		liveness_bpf__destroy(skel);
		return 126;
	}

	remove_stale(parent);
	/* Named after this process, which is the only one to use it. */
	snprintf(cg, sizeof(cg), "%s/liveness-run.%ld", parent, (long)getpid());
	if (mkdir(cg, 0755) != 0) {
		say("--bpf: cannot make the cgroup %s: %s", cg, strerror(errno));
		liveness_bpf__destroy(skel);
		return 126;
	}
	if ((cgfd = open(cg, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) < 0) {
		say("--bpf: cannot open the cgroup %s: %s", cg, strerror(errno));
		rmdir(cg);
		liveness_bpf__destroy(skel);
		return 126;
	}
	/* A link, not a plain attachment: it goes when its last descriptor does, even if we are
	 * killed. */
	link = bpf_program__attach_cgroup(skel->progs.liveness_sockops, cgfd);
	if (!link) {
		r = errno;
		say("--bpf: cannot attach the BPF program to the cgroup %s: %s%s", cg, strerror(r),
		    load_hint(r));
		close(cgfd);
		rmdir(cg);
		liveness_bpf__destroy(skel);
		return 126;
	}
	if (debug)
		say("attached to %s: keepalive after %d s, every %d s, %d probes; "
		    "TCP_USER_TIMEOUT %u ms",
		    cg, plan->idle, plan->interval, plan->count, plan->user_timeout);

	status = supervise(cg, argv);

	if (skel->bss->refused)
		say("warning: %llu connections refused a setting and may keep the kernel's "
		    "defaults",
		    (unsigned long long)skel->bss->refused);
	bpf_link__destroy(link);
	close(cgfd);
	liveness_bpf__destroy(skel);
	remove_cgroup(cg, parent);
	return status;
}
