/*
 * The loader of the BPF programs (tools/bpf/liveness.bpf.c): the kernel,
 * not the program, applies the plan, so that statically linked and
 * set-user-ID programs are reached as well as any other.
 *
 * run --bpf attaches them with BPF links to a transient child of the
 * caller's own cgroup, and the program runs in that cgroup. Every step
 * that can fail comes before the program runs, and each failure undoes
 * the steps before it: nothing stays attached and no cgroup stays behind.
 *
 * attach pins the links and maps under a bpf file system, so that they
 * outlive the command; detach unpins them, and the kernel then detaches
 * the programs; status reads the pinned maps.
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
#include <sched.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "bpf_run.h"
#include "cgroup.h"
#include "duration.h"
#include "json.h"
#include "liveness.h"
#include "liveness.skel.h"
#include "liveness_bpf.h"

/* The signals a supervisor sends to stop or reload what it runs. */
static const int forwarded[] = {SIGINT, SIGTERM, SIGHUP, SIGQUIT};

static volatile sig_atomic_t child_pid;
static int debug_on;
static const char *cmd_name = "run"; /* the subcommand, for its messages */

static void say(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void say(const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "liveness: %s: ", cmd_name);
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
		return " (it needs CAP_BPF, CAP_NET_ADMIN and CAP_SYS_ADMIN: run it as root)";
	return " (it needs Linux 5.15 or later with BTF; liveness doctor tells what this "
	       "machine has)";
}

/* The causes of death in the counters map are enum liveness_cause's, from LIVENESS_CLOSED. */
_Static_assert(LVB_CLOSED + LIVENESS_CLOSED == (int)LIVENESS_CLOSED &&
		       LVB_RESET + LIVENESS_CLOSED == (int)LIVENESS_RESET &&
		       LVB_REFUSED + LIVENESS_CLOSED == (int)LIVENESS_REFUSED &&
		       LVB_UNREACHABLE + LIVENESS_CLOSED == (int)LIVENESS_UNREACHABLE &&
		       LVB_KEEPALIVE_TIMEOUT + LIVENESS_CLOSED == (int)LIVENESS_KEEPALIVE_TIMEOUT &&
		       LVB_RETRANSMIT_TIMEOUT + LIVENESS_CLOSED == (int)LIVENESS_RETRANSMIT_TIMEOUT,
	       "the BPF death counters follow enum liveness_cause");

static const char *counter_name(int i)
{
	return i < LVB_OTHER ? liveness_cause_name((enum liveness_cause)(LIVENESS_CLOSED + i))
			     : "other";
}

static struct lvb_settings settings_of(const struct lvt_bpf_request *req)
{
	struct lvb_settings v = {
		.keepalive = 1,
		.idle = req->plan.idle,
		.interval = req->plan.interval,
		.count = req->plan.count,
		.user_timeout = (int)req->plan.user_timeout,
		.enforce = req->enforce,
	};
	return v;
}

/* The counters map's values, from a map fd. */
static int read_counters(int fd, unsigned long long *c)
{
	for (unsigned i = 0; i < LVB_NCOUNTERS; i++) {
		__u64 v = 0;

		if (bpf_map_lookup_elem(fd, &i, &v) != 0)
			return -errno;
		c[i] = v;
	}
	return 0;
}

/* "closed 1, reset 0, ..." */
static void format_deaths(const unsigned long long *c, char *buf, size_t len)
{
	size_t at = 0;

	buf[0] = '\0';
	for (int i = 0; i < LVB_NCAUSES && at < len; i++)
		at += (size_t)snprintf(buf + at, len - at, "%s%s %llu", i ? ", " : "",
				       counter_name(i), c[i]);
}

/* Open and load the programs; NULL with one line said. autoload_iter: --retrofit's too. */
static struct liveness_bpf *load(int autoload_iter, const int *reuse)
{
	struct liveness_bpf *skel = liveness_bpf__open();
	int r;

	if (!skel) {
		r = errno;
		say("the kernel refused the BPF programs: %s%s", strerror(r), load_hint(r));
		return NULL;
	}
	bpf_program__set_autoload(skel->progs.liveness_retrofit, autoload_iter);
	/* An attachment's pinned maps, so that the programs share its settings and counts. */
	if (reuse && (bpf_map__reuse_fd(skel->maps.settings, reuse[0]) != 0 ||
		      bpf_map__reuse_fd(skel->maps.meta, reuse[1]) != 0 ||
		      bpf_map__reuse_fd(skel->maps.counters, reuse[2]) != 0)) {
		r = errno;
		say("cannot use the attachment's maps: %s", strerror(r));
		liveness_bpf__destroy(skel);
		return NULL;
	}
	if (liveness_bpf__load(skel) != 0) {
		r = errno;
		say("the kernel refused the BPF programs: %s%s", strerror(r), load_hint(r));
		liveness_bpf__destroy(skel);
		return NULL;
	}
	return skel;
}

int lvt_run_bpf(const struct lvt_bpf_request *req, char **argv)
{
	struct lvb_settings val = settings_of(req);
	char parent[PATH_MAX], cg[PATH_MAX + 48];
	struct liveness_bpf *skel;
	struct bpf_link *link, *enforce;
	unsigned long long c[LVB_NCOUNTERS] = {0};
	unsigned int key = 0;
	int r, cgfd, status;

	debug_on = req->debug;
	libbpf_set_print(libbpf_print);
	if ((r = lvt_own_cgroup(parent, sizeof(parent))) < 0) {
		say("--bpf: cannot find this process's cgroup in a cgroup2 file system: %s",
		    strerror(-r));
		return 126;
	}

	/* Loaded first: without the rights, nothing has been made yet. */
	if (!(skel = load(0, NULL)))
		return 126;
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
	/*
	 * Links, not plain attachments: they go when their last descriptor
	 * does, even if we are killed.
	 */
	link = bpf_program__attach_cgroup(skel->progs.liveness_sockops, cgfd);
	enforce = link ? bpf_program__attach_cgroup(skel->progs.liveness_setsockopt, cgfd) : NULL;
	if (!enforce) {
		r = errno;
		say("--bpf: cannot attach the BPF programs to the cgroup %s: %s%s", cg, strerror(r),
		    load_hint(r));
		bpf_link__destroy(link);
		close(cgfd);
		rmdir(cg);
		liveness_bpf__destroy(skel);
		return 126;
	}
	if (req->debug)
		say("attached to %s: keepalive after %d s, every %d s, %d probes; "
		    "TCP_USER_TIMEOUT %u ms; %s",
		    cg, req->plan.idle, req->plan.interval, req->plan.count, req->plan.user_timeout,
		    req->enforce ? "looser settings of the program raised" : "not enforced");

	status = supervise(cg, argv);

	bpf_link__destroy(enforce);
	bpf_link__destroy(link);
	close(cgfd);
	if (read_counters(bpf_map__fd(skel->maps.counters), c) == 0) {
		char deaths[300];

		if (c[LVB_SETTING_REFUSED])
			say("warning: %llu connections refused a setting and may keep the "
			    "kernel's defaults",
			    c[LVB_SETTING_REFUSED]);
		format_deaths(c, deaths, sizeof(deaths));
		if (req->deaths)
			say("%llu connections configured, %llu settings of the program raised; "
			    "deaths: %s",
			    c[LVB_CONFIGURED], c[LVB_RAISED], deaths);
	}
	liveness_bpf__destroy(skel);
	remove_cgroup(cg, parent);
	return status;
}

/* ---- attach, detach, status: attachments pinned under a bpffs ---- */

static const char *const pin_names[] = {"sockops", "setsockopt", "settings", "meta", "counters"};

/* A test can kill the command at a named step (LIVENESS_TEST_KILL_AT), as SIGKILL would. */
static void kill_point(const char *step)
{
	const char *at = getenv("LIVENESS_TEST_KILL_AT");

	if (at && strcmp(at, step) == 0)
		raise(SIGKILL);
}

/*
 * The directory that holds the attachments, <bpffs>/liveness: the first
 * bpf file system of /proc/self/mountinfo, else one mounted at
 * /sys/fs/bpf, where systemd and iproute2 put theirs.
 */
static int base_dir(char *dir, size_t len)
{
	char line[4096], mnt[PATH_MAX] = "", type[64];
	FILE *f = fopen("/proc/self/mountinfo", "re");

	while (f && fgets(line, sizeof(line), f)) {
		const char *sep = strstr(line, " - ");

		if (sep && sscanf(sep + 3, "%63s", type) == 1 && strcmp(type, "bpf") == 0 &&
		    sscanf(line, "%*s %*s %*s %*s %4095s", mnt) == 1)
			break;
		mnt[0] = '\0';
	}
	if (f)
		fclose(f);
	if (!mnt[0]) {
		snprintf(mnt, sizeof(mnt), "/sys/fs/bpf");
		if (mount("bpf", mnt, "bpf", 0, "mode=0700") != 0) {
			int r = errno;

			say("no bpf file system is mounted, and mounting one on %s failed: %s", mnt,
			    strerror(r));
			return -r;
		}
	}
	if ((size_t)snprintf(dir, len, "%s/liveness", mnt) >= len)
		return -ENAMETOOLONG;
	if (mkdir(dir, 0700) != 0 && errno != EEXIST) {
		int r = errno;

		say("cannot make %s: %s", dir, strerror(r));
		return -r;
	}
	return 0;
}

/* Unpin an attachment (its links detach when nothing else holds them) and remove its directory. */
static void unpin(const char *dir)
{
	char path[2 * PATH_MAX];

	for (size_t i = 0; i < sizeof(pin_names) / sizeof(pin_names[0]); i++) {
		snprintf(path, sizeof(path), "%s/%s", dir, pin_names[i]);
		unlink(path);
	}
	rmdir(dir);
}

/* An attachment's pinned maps, opened: settings, meta, counters. 0, or -errno. */
static int open_maps(const char *dir, int fds[3])
{
	char path[2 * PATH_MAX];

	fds[0] = fds[1] = fds[2] = -1;
	for (int i = 0; i < 3; i++) {
		snprintf(path, sizeof(path), "%s/%s", dir, pin_names[2 + i]);
		if ((fds[i] = bpf_obj_get(path)) < 0) {
			int r = -errno;

			while (i-- > 0)
				close(fds[i]);
			return r;
		}
	}
	return 0;
}

static void close_maps(int fds[3])
{
	for (int i = 0; i < 3; i++)
		close(fds[i]);
}

/*
 * (A bpf file system refuses names with a dot.) What a loader killed with SIGKILL left: a directory
 * tmp-PID that was never named (its programs attached and pinned but inert, the settings not
 * written), or one named whose settings were never written. Either is removed once its loader is
 * gone. A live loader's is left alone.
 */
static void tidy(const char *base)
{
	char path[PATH_MAX + 300];
	struct dirent *e;
	DIR *d = opendir(base);
	long pid;

	while (d && (e = readdir(d))) {
		struct lvb_settings s;
		struct lvb_meta m;
		unsigned key = 0;
		int fds[3] = {-1, -1, -1};

		snprintf(path, sizeof(path), "%s/%s", base, e->d_name);
		if (sscanf(e->d_name, "tmp-%ld", &pid) == 1) {
			if (kill((pid_t)pid, 0) != 0 && errno == ESRCH)
				unpin(path);
			continue;
		}
		if (strncmp(e->d_name, "cgroup-", 7) != 0 || open_maps(path, fds) != 0)
			continue;
		if (bpf_map_lookup_elem(fds[0], &key, &s) == 0 && !s.keepalive &&
		    bpf_map_lookup_elem(fds[1], &key, &m) == 0 &&
		    kill((pid_t)m.loader_pid, 0) != 0 && errno == ESRCH)
			unpin(path);
		close_maps(fds);
	}
	if (d)
		closedir(d);
}

/* Run the tcp iterator in the network namespace of process pid, in a child. */
static int iterate_in(pid_t pid, int link_fd)
{
	char path[64], buf[64];
	int status, fd, it;
	pid_t c;

	fflush(NULL);
	if ((c = fork()) < 0)
		return -errno;
	if (c == 0) {
		snprintf(path, sizeof(path), "/proc/%d/ns/net", (int)pid);
		if ((fd = open(path, O_RDONLY | O_CLOEXEC)) < 0 || setns(fd, CLONE_NEWNET) != 0)
			_exit(errno == ENOENT || errno == ESRCH ? 0 : 1); /* gone meanwhile */
		if ((it = bpf_iter_create(link_fd)) < 0)
			_exit(2);
		while (read(it, buf, sizeof(buf)) > 0)
			;
		_exit(0);
	}
	if (waitpid(c, &status, 0) != c || !WIFEXITED(status) || WEXITSTATUS(status) != 0)
		return -EIO;
	return 0;
}

/*
 * The network namespaces of the processes in cgroup directory dir and its
 * descendants: one process of each in pids (at most max), their number.
 */
static size_t namespaces(const char *dir, pid_t *pids, unsigned long long *ns, size_t n, size_t max)
{
	char path[2 * PATH_MAX];
	struct dirent *e;
	struct stat st;
	FILE *f;
	DIR *d;
	int pid;

	snprintf(path, sizeof(path), "%s/cgroup.procs", dir);
	if ((f = fopen(path, "re"))) {
		while (n < max && fscanf(f, "%d", &pid) == 1) {
			size_t i;

			snprintf(path, sizeof(path), "/proc/%d/ns/net", pid);
			if (stat(path, &st) != 0)
				continue;
			for (i = 0; i < n && ns[i] != (unsigned long long)st.st_ino; i++)
				;
			if (i == n) {
				ns[n] = (unsigned long long)st.st_ino;
				pids[n++] = (pid_t)pid;
			}
		}
		fclose(f);
	}
	if (!(d = opendir(dir)))
		return n;
	while ((e = readdir(d))) {
		if (e->d_name[0] == '.')
			continue;
		snprintf(path, sizeof(path), "%s/%s", dir, e->d_name);
		if (lstat(path, &st) == 0 && S_ISDIR(st.st_mode))
			n = namespaces(path, pids, ns, n, max);
	}
	closedir(d);
	return n;
}

#define MAX_NAMESPACES 256

/*
 * --retrofit: the iterator over the attachment's maps (fds), in every
 * network namespace the cgroup's processes use. The count of connections
 * it reached in *n. 0, or 1 with one line said.
 */
static int retrofit(const char *cgdir, const int fds[3], unsigned long long *n)
{
	static pid_t pids[MAX_NAMESPACES];
	static unsigned long long ns[MAX_NAMESPACES];
	unsigned long long before[LVB_NCOUNTERS], after[LVB_NCOUNTERS];
	struct liveness_bpf *skel;
	struct bpf_link *it;
	size_t k, count;
	int r = 0;

	if (!(skel = load(1, fds)))
		return 1;
	if (!(it = bpf_program__attach_iter(skel->progs.liveness_retrofit, NULL))) {
		r = errno;
		say("--retrofit: the kernel refused the tcp iterator: %s%s", strerror(r),
		    load_hint(r));
		liveness_bpf__destroy(skel);
		return 1;
	}
	read_counters(fds[2], before);
	count = namespaces(cgdir, pids, ns, 0, MAX_NAMESPACES);
	for (k = 0; k < count && r == 0; k++)
		if ((r = iterate_in(pids[k], bpf_link__fd(it))) < 0)
			say("--retrofit: the tcp iterator failed in the network namespace of "
			    "process "
			    "%d",
			    (int)pids[k]);
	read_counters(fds[2], after);
	*n = after[LVB_RETROFITTED] - before[LVB_RETROFITTED];
	bpf_link__destroy(it);
	liveness_bpf__destroy(skel);
	return r < 0;
}

static void attachment_dir(char *buf, size_t len, const char *base, unsigned long long id)
{
	snprintf(buf, len, "%s/cgroup-%llu", base, id);
}

static void print_plan(const char *what, const char *dir, const struct lvt_bpf_request *req)
{
	char b[64];

	lvt_fmt_sec(req->budget, b, sizeof(b));
	printf("liveness: %s %s: budget %s: keepalive after %d s, every %d s, %d probes; "
	       "TCP_USER_TIMEOUT %u ms; %s\n",
	       what, dir, b, req->plan.idle, req->plan.interval, req->plan.count,
	       req->plan.user_timeout,
	       req->enforce ? "looser settings of its programs raised" : "not enforced");
}

/* Change the settings of the attachment in adir; on failure, nothing changed. */
static int update(const char *adir, const char *cgdir, const struct lvt_bpf_request *req)
{
	struct lvb_settings val = settings_of(req), old;
	struct lvb_meta m, old_m;
	unsigned key = 0;
	unsigned long long n = 0;
	int fds[3] = {-1, -1, -1}, r;

	if ((r = open_maps(adir, fds)) < 0) {
		say("cannot open the attachment %s: %s", adir, strerror(-r));
		return 1;
	}
	if (bpf_map_lookup_elem(fds[0], &key, &old) != 0 ||
	    bpf_map_lookup_elem(fds[1], &key, &old_m) != 0) {
		say("cannot read the attachment %s: %s", adir, strerror(errno));
		close_maps(fds);
		return 1;
	}
	m = old_m;
	m.budget_ns = req->budget;
	m.loader_pid = getpid();
	if (bpf_map_update_elem(fds[1], &key, &m, BPF_ANY) != 0 ||
	    bpf_map_update_elem(fds[0], &key, &val, BPF_ANY) != 0) {
		say("cannot change the attachment %s: %s", adir, strerror(errno));
		bpf_map_update_elem(fds[1], &key, &old_m, BPF_ANY);
		close_maps(fds);
		return 1;
	}
	if (req->retrofit && retrofit(cgdir, fds, &n) != 0) {
		bpf_map_update_elem(fds[0], &key, &old, BPF_ANY);
		bpf_map_update_elem(fds[1], &key, &old_m, BPF_ANY);
		close_maps(fds);
		return 1;
	}
	close_maps(fds);
	print_plan("attach: changed", cgdir, req);
	if (req->retrofit)
		printf("liveness: attach: %llu existing connections given the settings\n", n);
	return 0;
}

int lvt_bpf_attach(const char *cgdir, const struct lvt_bpf_request *req)
{
	struct lvb_settings val = settings_of(req);
	struct lvb_meta m = {0};
	char base[PATH_MAX], adir[PATH_MAX + 64], tmp[PATH_MAX + 64], path[2 * PATH_MAX];
	struct liveness_bpf *skel;
	struct bpf_link *links[2] = {NULL, NULL};
	unsigned long long n = 0;
	unsigned key = 0;
	struct stat st;
	int cgfd, fds[3] = {-1, -1, -1}, r;

	cmd_name = "attach";
	debug_on = req->debug;
	libbpf_set_print(libbpf_print);
	if ((cgfd = open(cgdir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) < 0 || fstat(cgfd, &st) != 0) {
		say("cannot open the cgroup %s: %s", cgdir, strerror(errno));
		return 1;
	}
	/* Loaded first: without the rights, nothing has been made yet. */
	if (!(skel = load(0, NULL))) {
		close(cgfd);
		return 1;
	}
	if (base_dir(base, sizeof(base)) < 0)
		goto fail_loaded;
	tidy(base);
	attachment_dir(adir, sizeof(adir), base, (unsigned long long)st.st_ino);
	if (access(adir, F_OK) == 0) {
		liveness_bpf__destroy(skel);
		close(cgfd);
		return update(adir, cgdir, req);
	}

	m.budget_ns = req->budget;
	m.cgroup_id = (unsigned long long)st.st_ino;
	m.loader_pid = getpid();
	snprintf(m.cgroup, sizeof(m.cgroup), "%s", cgdir);
	if (bpf_map__update_elem(skel->maps.meta, &key, sizeof(key), &m, sizeof(m), BPF_ANY) != 0) {
		say("cannot store the attachment's description: %s", strerror(errno));
		goto fail_loaded;
	}
	/*
	 * Pinned inert, under a name no other command reads, then named, then
	 * switched on: a loader killed before the end leaves a directory that
	 * does nothing and that the next command removes (tidy()), never a
	 * half-made attachment at work.
	 */
	snprintf(tmp, sizeof(tmp), "%s/tmp-%ld", base, (long)getpid());
	if (mkdir(tmp, 0700) != 0) {
		say("cannot make %s: %s", tmp, strerror(errno));
		goto fail_loaded;
	}
	links[0] = bpf_program__attach_cgroup(skel->progs.liveness_sockops, cgfd);
	links[1] =
		links[0] ? bpf_program__attach_cgroup(skel->progs.liveness_setsockopt, cgfd) : NULL;
	if (!links[1]) {
		r = errno;
		say("cannot attach the BPF programs to the cgroup %s: %s%s", cgdir, strerror(r),
		    load_hint(r));
		goto fail_pinned;
	}
	for (int i = 0; i < 2; i++) {
		snprintf(path, sizeof(path), "%s/%s", tmp, pin_names[i]);
		if (bpf_link__pin(links[i], path) != 0) {
			say("cannot pin %s: %s", path, strerror(errno));
			goto fail_pinned;
		}
	}
	{
		struct bpf_map *maps[3] = {skel->maps.settings, skel->maps.meta,
					   skel->maps.counters};

		for (int i = 0; i < 3; i++) {
			snprintf(path, sizeof(path), "%s/%s", tmp, pin_names[2 + i]);
			if (bpf_map__pin(maps[i], path) != 0) {
				say("cannot pin %s: %s", path, strerror(errno));
				goto fail_pinned;
			}
		}
	}
	kill_point("pinned");
	if (rename(tmp, adir) != 0) {
		say("cannot name the attachment %s: %s", adir, strerror(errno));
		goto fail_pinned;
	}
	kill_point("named");
	if (bpf_map__update_elem(skel->maps.settings, &key, sizeof(key), &val, sizeof(val),
				 BPF_ANY) != 0) {
		say("cannot store the settings: %s", strerror(errno));
		snprintf(tmp, sizeof(tmp), "%s", adir);
		goto fail_pinned;
	}
	if (req->retrofit) {
		fds[0] = bpf_map__fd(skel->maps.settings);
		fds[1] = bpf_map__fd(skel->maps.meta);
		fds[2] = bpf_map__fd(skel->maps.counters);
		if (retrofit(cgdir, fds, &n) != 0) {
			snprintf(tmp, sizeof(tmp), "%s", adir);
			goto fail_pinned;
		}
	}
	for (int i = 0; i < 2; i++)
		bpf_link__destroy(links[i]); /* closes our descriptors: the pins hold them */
	liveness_bpf__destroy(skel);
	close(cgfd);
	print_plan("attach: attached to", cgdir, req);
	if (req->retrofit)
		printf("liveness: attach: %llu existing connections given the settings\n", n);
	return 0;

fail_pinned:
	unpin(tmp);
	for (int i = 0; i < 2; i++)
		bpf_link__destroy(links[i]);
fail_loaded:
	liveness_bpf__destroy(skel);
	close(cgfd);
	return 1;
}

/* The attachment of cgroup directory cgdir, in adir; 0, or 1 with one line said. */
static int find(const char *cgdir, char *base, size_t blen, char *adir, size_t alen)
{
	struct stat st;

	if (base_dir(base, blen) < 0)
		return 1;
	tidy(base);
	if (stat(cgdir, &st) != 0) {
		say("cannot read the cgroup %s: %s", cgdir, strerror(errno));
		return 1;
	}
	attachment_dir(adir, alen, base, (unsigned long long)st.st_ino);
	if (access(adir, F_OK) != 0) {
		say("%s has no liveness attachment (liveness status lists them)", cgdir);
		return 1;
	}
	return 0;
}

int lvt_bpf_detach(const char *cgdir)
{
	char base[PATH_MAX], adir[PATH_MAX + 64], path[2 * PATH_MAX];

	cmd_name = "detach";
	libbpf_set_print(libbpf_print);
	if (find(cgdir, base, sizeof(base), adir, sizeof(adir)) != 0)
		return 1;
	/* The links first: once they are gone nothing applies the settings any more. */
	for (size_t i = 0; i < sizeof(pin_names) / sizeof(pin_names[0]); i++) {
		snprintf(path, sizeof(path), "%s/%s", adir, pin_names[i]);
		if (unlink(path) != 0 && errno != ENOENT) {
			say("cannot remove %s: %s", path, strerror(errno));
			return 1;
		}
	}
	if (rmdir(adir) != 0) {
		say("cannot remove %s: %s", adir, strerror(errno));
		return 1;
	}
	printf("liveness: detach: %s: detached; its new connections keep the kernel's "
	       "defaults\n",
	       cgdir);
	return 0;
}

/* One attachment, in text or JSON. */
static void show(struct lvt_json *j, const char *adir)
{
	unsigned long long c[LVB_NCOUNTERS] = {0};
	struct lvb_settings s = {0};
	struct lvb_meta m = {0};
	char b[64], deaths[300], path[2 * PATH_MAX];
	unsigned key = 0;
	struct stat st;
	int fds[3] = {-1, -1, -1}, exists, links = 1;

	if (open_maps(adir, fds) != 0)
		return;
	bpf_map_lookup_elem(fds[0], &key, &s);
	bpf_map_lookup_elem(fds[1], &key, &m);
	read_counters(fds[2], c);
	close_maps(fds);
	m.cgroup[sizeof(m.cgroup) - 1] = '\0';
	exists = stat(m.cgroup, &st) == 0 && (unsigned long long)st.st_ino == m.cgroup_id;
	for (int i = 0; i < 2; i++) {
		snprintf(path, sizeof(path), "%s/%s", adir, pin_names[i]);
		links &= access(path, F_OK) == 0;
	}
	lvt_fmt_sec(m.budget_ns, b, sizeof(b));
	format_deaths(c, deaths, sizeof(deaths));
	if (!j->on) {
		printf("%s%s\n", m.cgroup, exists ? "" : " (the cgroup is gone)");
		if (s.keepalive && links)
			printf("  budget %s: keepalive after %d s, every %d s, %d probes; "
			       "TCP_USER_TIMEOUT %d ms; %s\n",
			       b, s.idle, s.interval, s.count, s.user_timeout,
			       s.enforce ? "looser settings of its programs raised"
					 : "not enforced");
		else
			printf("  inactive: its attach did not finish\n");
		printf("  connections: %llu configured, %llu retrofitted, %llu settings raised, "
		       "%llu refused a setting\n",
		       c[LVB_CONFIGURED], c[LVB_RETROFITTED], c[LVB_RAISED],
		       c[LVB_SETTING_REFUSED]);
		printf("  deaths: %s\n", deaths);
		return;
	}
	lvt_json_object(j, NULL);
	lvt_json_str(j, "cgroup", m.cgroup);
	lvt_json_uint(j, "cgroup_id", m.cgroup_id);
	lvt_json_bool(j, "cgroup_exists", exists);
	lvt_json_bool(j, "active", s.keepalive && links);
	lvt_json_str(j, "pinned", adir);
	lvt_json_ns(j, "budget_ns", m.budget_ns);
	lvt_json_int(j, "idle_s", s.idle);
	lvt_json_int(j, "interval_s", s.interval);
	lvt_json_int(j, "count", s.count);
	lvt_json_int(j, "user_timeout_ms", s.user_timeout);
	lvt_json_bool(j, "enforce", s.enforce);
	lvt_json_uint(j, "configured", c[LVB_CONFIGURED]);
	lvt_json_uint(j, "retrofitted", c[LVB_RETROFITTED]);
	lvt_json_uint(j, "raised", c[LVB_RAISED]);
	lvt_json_uint(j, "setting_refused", c[LVB_SETTING_REFUSED]);
	lvt_json_object(j, "deaths");
	for (int i = 0; i < LVB_NCAUSES; i++)
		lvt_json_uint(j, counter_name(i), c[i]);
	lvt_json_close(j);
	lvt_json_close(j);
}

int lvt_bpf_status(const char *cgdir, int json)
{
	char base[PATH_MAX], adir[PATH_MAX + 300];
	struct lvt_json j;
	struct dirent *e;
	int n = 0;
	DIR *d;

	cmd_name = "status";
	libbpf_set_print(libbpf_print);
	if (cgdir) {
		if (find(cgdir, base, sizeof(base), adir, sizeof(adir)) != 0)
			return 1;
	} else if (base_dir(base, sizeof(base)) < 0) {
		return 1;
	} else {
		tidy(base);
	}
	lvt_json_start(&j, stdout, json, "status");
	lvt_json_array(&j, "attachments");
	if (cgdir) {
		show(&j, adir);
		n = 1;
	} else if ((d = opendir(base))) {
		while ((e = readdir(d)))
			if (strncmp(e->d_name, "cgroup-", 7) == 0) {
				snprintf(adir, sizeof(adir), "%s/%s", base, e->d_name);
				show(&j, adir);
				n++;
			}
		closedir(d);
	}
	lvt_json_close(&j);
	if (json)
		lvt_json_finish(&j);
	else if (n == 0)
		printf("no liveness attachment (liveness attach makes one)\n");
	return 0;
}
