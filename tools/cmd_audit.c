/*
 * liveness audit: every TCP connection of some processes, with the
 * keepalive and user-timeout settings its socket holds now and how long a
 * vanished peer would go unnoticed, idle and busy (liveness_tcp_bound()).
 * The connections that would never notice a vanished idle peer (keepalive
 * off) are counted and listed first: those are the ones that leak.
 *
 * No BPF is needed. The connections are found in /proc: each process's
 * descriptors (/proc/PID/fd, "socket:[INODE]") are matched with the TCP
 * tables of its own network namespace (/proc/PID/net/tcp and tcp6). Each
 * socket is then borrowed with pidfd_getfd(2) (Linux 5.6; the rights of
 * ptrace(2) over the process), read with liveness_tcp_get() and closed
 * again, which changes nothing for its owner. The busy bound without a
 * user timeout depends on net.ipv4.tcp_retries2, a setting of each network
 * namespace: the command computes it inside the owner's namespace when it
 * may enter it (setns(2), CAP_SYS_ADMIN), and says so when it may not.
 */
#include <arpa/inet.h>
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "cgroup.h"
#include "cli.h"
#include "duration.h"
#include "json.h"

static const char audit_usage[] =
	"usage: liveness audit [--pid PID | --cgroup PATH | --all] [--json]\n"
	"\n"
	"Every TCP connection of process PID, of the processes in cgroup PATH and its\n"
	"children (a directory of the cgroup2 file system, or a path in it as\n"
	"/proc/PID/cgroup names it), or of every process (--all, the default): its owner,\n"
	"the keepalive and user timeout its socket holds now, and the worst case from a\n"
	"vanished peer to the error, idle and busy. Connections that would never notice a\n"
	"vanished idle peer are marked '!' and listed first. Listening sockets are left\n"
	"out. Reading another user's sockets needs root (pidfd_getfd(2)). --json prints\n"
	"one JSON object instead. Exit status 0, 2 for bad input.\n";

/* One TCP socket of the tables: its inode, addresses and state. */
struct entry {
	unsigned long inode;
	char local[64], peer[64];
	unsigned state;
};

/* The TCP tables of one network namespace. */
struct netns {
	unsigned long id; /* inode of /proc/PID/ns/net */
	pid_t pid;	  /* a process in it, to enter it by */
	struct entry *e;
	size_t n;
};

/* One connection found, with its first owner. */
struct conn {
	const struct entry *e;
	size_t ns; /* index in nets */
	pid_t pid;
	int fd; /* in the owner */
	char comm[17];
	int err; /* 0, or why the settings could not be read (negated errno) */
	struct liveness_tcp t;
	liveness_time idle, busy;
	int own_netns; /* the bounds were computed in the owner's namespace */
};

static struct netns *nets;
static size_t n_nets;
static struct conn *conns;
static size_t n_conns, cap_conns;
static size_t hidden; /* processes whose descriptors could not be listed */
static int hidden_err;

/* The kernel's TCP states (include/net/tcp_states.h), as ss(8) names them. */
static const char *state_name(unsigned s)
{
	static const char *const names[] = {
		"?",	     "established", "syn-sent",	  "syn-recv", "fin-wait-1", "fin-wait-2",
		"time-wait", "close",	    "close-wait", "last-ack", "listen",	    "closing",
	};

	return s < sizeof(names) / sizeof(names[0]) ? names[s] : "?";
}

/* "0100007F:1F90" (IPv4) or 32 hex digits and a port (IPv6), as /proc/net/tcp* writes them. */
static int address(const char *hex, int v6, char *out, size_t len)
{
	unsigned char a[16];
	unsigned port, word;
	char ip[INET6_ADDRSTRLEN];
	size_t words = v6 ? 4 : 1;

	for (size_t i = 0; i < words; i++) {
		if (sscanf(hex + 8 * i, "%8x", &word) != 1)
			return -1;
		/* Each 32-bit word is printed in the host's byte order. */
		memcpy(a + 4 * i, &word, 4);
	}
	if (hex[8 * words] != ':' || sscanf(hex + 8 * words + 1, "%x", &port) != 1)
		return -1;
	if (!inet_ntop(v6 ? AF_INET6 : AF_INET, a, ip, sizeof(ip)))
		return -1;
	snprintf(out, len, v6 ? "[%s]:%u" : "%s:%u", ip, port);
	return 0;
}

static void table(struct netns *ns, const char *path, int v6)
{
	FILE *f = fopen(path, "r");
	char line[512], local[80], peer[80];
	unsigned long inode;
	unsigned state;

	if (!f)
		return; /* no IPv6, or the process is gone */
	while (fgets(line, sizeof(line), f)) {
		struct entry *e;

		if (sscanf(line, " %*s %79s %79s %x %*s %*s %*s %*s %*s %lu", local, peer, &state,
			   &inode) != 4 ||
		    inode == 0 || state == 10 /* listen */)
			continue;
		e = realloc(ns->e, (ns->n + 1) * sizeof(*e));
		if (!e) {
			fclose(f);
			lvt_usage_error("audit: out of memory");
		}
		ns->e = e;
		e = &ns->e[ns->n];
		if (address(local, v6, e->local, sizeof(e->local)) < 0 ||
		    address(peer, v6, e->peer, sizeof(e->peer)) < 0)
			continue;
		e->inode = inode;
		e->state = state;
		ns->n++;
	}
	fclose(f);
}

static int by_inode(const void *a, const void *b)
{
	const struct entry *x = a, *y = b;

	return x->inode < y->inode ? -1 : x->inode > y->inode;
}

/* The tables of pid's network namespace, read once per namespace. */
static struct netns *netns_of(pid_t pid)
{
	char path[64];
	struct stat st;
	struct netns *ns;

	snprintf(path, sizeof(path), "/proc/%d/ns/net", (int)pid);
	if (stat(path, &st) < 0)
		return NULL;
	for (size_t i = 0; i < n_nets; i++)
		if (nets[i].id == (unsigned long)st.st_ino)
			return &nets[i];
	ns = realloc(nets, (n_nets + 1) * sizeof(*ns));
	if (!ns)
		lvt_usage_error("audit: out of memory");
	nets = ns;
	ns = &nets[n_nets++];
	memset(ns, 0, sizeof(*ns));
	ns->id = (unsigned long)st.st_ino;
	ns->pid = pid;
	snprintf(path, sizeof(path), "/proc/%d/net/tcp", (int)pid);
	table(ns, path, 0);
	snprintf(path, sizeof(path), "/proc/%d/net/tcp6", (int)pid);
	table(ns, path, 1);
	if (ns->n)
		qsort(ns->e, ns->n, sizeof(*ns->e), by_inode);
	return ns;
}

/* The settings of pid's descriptor fd, borrowed with pidfd_getfd(2). */
static int read_settings(pid_t pid, int fd, struct liveness_tcp *t)
{
#if defined(SYS_pidfd_open) && defined(SYS_pidfd_getfd)
	int pidfd = (int)syscall(SYS_pidfd_open, pid, 0), mine, err;

	if (pidfd < 0)
		return -errno;
	mine = (int)syscall(SYS_pidfd_getfd, pidfd, fd, 0);
	err = mine < 0 ? -errno : liveness_tcp_get(mine, t);
	if (mine >= 0)
		close(mine);
	close(pidfd);
	return err;
#else
	(void)pid, (void)fd, (void)t;
	return -ENOSYS;
#endif
}

/* Every TCP connection among pid's descriptors; a process gone meanwhile has none. */
static void process(pid_t pid)
{
	char path[64], link[64], comm[17] = "?";
	struct netns *ns = netns_of(pid);
	struct entry key, *e;
	struct dirent *d;
	DIR *dir;
	FILE *f;

	if (!ns) {
		if (errno != ENOENT) { /* not gone: hidden from us */
			hidden++;
			hidden_err = errno;
		}
		return;
	}
	if (ns->n == 0)
		return;
	snprintf(path, sizeof(path), "/proc/%d/comm", (int)pid);
	f = fopen(path, "r");
	if (f) {
		if (fgets(comm, sizeof(comm), f))
			comm[strcspn(comm, "\n")] = '\0';
		fclose(f);
	}
	snprintf(path, sizeof(path), "/proc/%d/fd", (int)pid);
	dir = opendir(path);
	if (!dir) {
		if (errno != ENOENT) { /* not gone: hidden from us */
			hidden++;
			hidden_err = errno;
		}
		return;
	}
	while ((d = readdir(dir)) != NULL) {
		unsigned long inode;
		ssize_t n;

		if (!isdigit((unsigned char)d->d_name[0]))
			continue;
		n = readlinkat(dirfd(dir), d->d_name, link, sizeof(link) - 1);
		if (n <= 0)
			continue;
		link[n] = '\0';
		if (sscanf(link, "socket:[%lu]", &inode) != 1)
			continue;
		key.inode = inode;
		e = bsearch(&key, ns->e, ns->n, sizeof(*e), by_inode);
		if (e) {
			struct conn *c;

			if (n_conns == cap_conns) {
				size_t cap = cap_conns ? 2 * cap_conns : 64;
				struct conn *more = realloc(conns, cap * sizeof(*more));

				if (!more)
					lvt_usage_error("audit: out of memory");
				conns = more;
				cap_conns = cap;
			}
			c = &conns[n_conns++];
			memset(c, 0, sizeof(*c));
			c->e = e;
			c->ns = (size_t)(ns - nets);
			c->pid = pid;
			c->fd = atoi(d->d_name);
			snprintf(c->comm, sizeof(c->comm), "%s", comm);
		}
	}
	closedir(dir);
}

static int is_pid(const char *s)
{
	if (!*s)
		return 0;
	for (; *s; s++)
		if (!isdigit((unsigned char)*s))
			return 0;
	return 1;
}

/* The processes in cgroup directory dir and its descendants. */
static void cgroup_tree(const char *dir)
{
	char path[PATH_MAX];
	struct dirent *d;
	DIR *dp;
	FILE *f;
	int pid;

	snprintf(path, sizeof(path), "%s/cgroup.procs", dir);
	f = fopen(path, "r");
	if (f) {
		while (fscanf(f, "%d", &pid) == 1)
			process((pid_t)pid);
		fclose(f);
	}
	dp = opendir(dir);
	if (!dp)
		return;
	while ((d = readdir(dp)) != NULL) {
		struct stat st;

		if (d->d_name[0] == '.')
			continue;
		if (snprintf(path, sizeof(path), "%s/%s", dir, d->d_name) >= (int)sizeof(path))
			continue;
		if (lstat(path, &st) == 0 && S_ISDIR(st.st_mode))
			cgroup_tree(path);
	}
	closedir(dp);
}

static int by_socket(const void *a, const void *b)
{
	const struct conn *x = a, *y = b;

	if (x->e->inode != y->e->inode)
		return x->e->inode < y->e->inode ? -1 : 1;
	if (x->pid != y->pid)
		return x->pid < y->pid ? -1 : 1;
	return x->fd < y->fd ? -1 : x->fd > y->fd;
}

/*
 * A socket shared by several descriptors or processes (inherited, passed)
 * is one connection: its first owner, by process ID and descriptor, is the
 * one shown. Then each is read.
 */
static void settle(void)
{
	size_t kept = 0;

	if (n_conns)
		qsort(conns, n_conns, sizeof(*conns), by_socket);
	for (size_t i = 0; i < n_conns; i++)
		if (kept == 0 || conns[kept - 1].e->inode != conns[i].e->inode)
			conns[kept++] = conns[i];
	n_conns = kept;
	for (size_t i = 0; i < n_conns; i++)
		conns[i].err = read_settings(conns[i].pid, conns[i].fd, &conns[i].t);
}

/*
 * The bounds of every connection read, computed in its owner's network
 * namespace (tcp_retries2 is one of its settings) when the command may
 * enter it.
 */
static void bounds(void)
{
	int home = open("/proc/self/ns/net", O_RDONLY | O_CLOEXEC);
	struct stat st;
	unsigned long here = 0;

	if (home >= 0 && fstat(home, &st) == 0)
		here = (unsigned long)st.st_ino;
	for (size_t i = 0; i < n_nets; i++) {
		char path[64];
		int fd, in = nets[i].id == here;

		if (!in && home >= 0) {
			snprintf(path, sizeof(path), "/proc/%d/ns/net", (int)nets[i].pid);
			fd = open(path, O_RDONLY | O_CLOEXEC);
			in = fd >= 0 && setns(fd, CLONE_NEWNET) == 0;
			if (fd >= 0)
				close(fd);
		}
		for (size_t k = 0; k < n_conns; k++) {
			struct conn *c = &conns[k];

			if (c->ns != i || c->err)
				continue;
			c->idle = liveness_tcp_bound(&c->t, LIVENESS_IDLE);
			c->busy = liveness_tcp_bound(&c->t, LIVENESS_BUSY);
			c->own_netns = in;
		}
		if (in && nets[i].id != here && setns(home, CLONE_NEWNET) != 0)
			lvt_usage_error(
				"audit: cannot return to the command's own network namespace: %s",
				strerror(errno));
	}
	if (home >= 0)
		close(home);
}

static int never_idle(const struct conn *c)
{
	return c->err == 0 && c->idle == LIVENESS_NEVER;
}

/* Never-noticing connections first, then unreadable ones, then by owner and descriptor. */
static int order(const void *a, const void *b)
{
	const struct conn *x = a, *y = b;

	if (never_idle(x) != never_idle(y))
		return never_idle(y) - never_idle(x);
	if ((x->err != 0) != (y->err != 0))
		return (y->err != 0) - (x->err != 0);
	if (x->pid != y->pid)
		return x->pid < y->pid ? -1 : 1;
	return x->fd < y->fd ? -1 : x->fd > y->fd;
}

static int by_owner(const void *a, const void *b)
{
	const struct conn *x = a, *y = b;

	return x->pid < y->pid ? -1 : x->pid > y->pid;
}

static void report(struct lvt_json *j)
{
	size_t never = 0, unread = 0, foreign = 0, processes = 0;

	for (size_t i = 0; i < n_conns; i++) {
		never += never_idle(&conns[i]);
		unread += conns[i].err != 0;
		foreign += conns[i].err == 0 && !conns[i].own_netns;
	}
	if (n_conns)
		qsort(conns, n_conns, sizeof(*conns), by_owner);
	for (size_t i = 0; i < n_conns; i++)
		processes += i == 0 || conns[i].pid != conns[i - 1].pid;
	if (n_conns)
		qsort(conns, n_conns, sizeof(*conns), order);
	if (!j->on) {
		printf("liveness audit: %zu TCP connection%s of %zu process%s; %zu would never "
		       "notice a vanished idle peer",
		       n_conns, n_conns == 1 ? "" : "s", processes, processes == 1 ? "" : "es",
		       never);
		if (unread)
			printf("; %zu could not be read", unread);
		printf("\n");
		if (hidden)
			printf("(the descriptors of %zu process%s could not be listed: %s)\n",
			       hidden, hidden == 1 ? "" : "es", strerror(hidden_err));
		if (foreign)
			printf("(%zu busy bound%s computed with this namespace's tcp_retries2, not "
			       "their "
			       "own: entering theirs was refused)\n",
			       foreign, foreign == 1 ? "" : "s");
		if (n_conns)
			printf("  %7s %-15s %4s %-22s %-22s %-11s %-10s %-7s %9s %9s\n", "PID",
			       "COMMAND", "FD", "LOCAL", "PEER", "STATE", "KEEPALIVE", "USER_MS",
			       "IDLE", "BUSY");
	}
	lvt_json_uint(j, "connections", n_conns);
	lvt_json_uint(j, "processes", processes);
	lvt_json_uint(j, "never_idle", never);
	lvt_json_uint(j, "unreadable", unread);
	lvt_json_uint(j, "hidden_processes", hidden);
	lvt_json_array(j, "list");
	for (size_t i = 0; i < n_conns; i++) {
		const struct conn *c = &conns[i];
		char ka[32] = "-", ut[24] = "-", idle[40] = "-", busy[40] = "-";

		if (c->err == 0) {
			if (c->t.keepalive)
				snprintf(ka, sizeof(ka), "%d:%d:%d", c->t.idle, c->t.interval,
					 c->t.count);
			else
				snprintf(ka, sizeof(ka), "off");
			snprintf(ut, sizeof(ut), "%u", c->t.user_timeout);
			lvt_fmt_sec(c->idle, idle, sizeof(idle));
			lvt_fmt_sec(c->busy, busy, sizeof(busy));
		}
		if (!j->on) {
			printf("%c %7d %-15s %4d %-22s %-22s %-11s %-10s %-7s %9s %9s",
			       never_idle(c) ? '!' : ' ', (int)c->pid, c->comm, c->fd, c->e->local,
			       c->e->peer, state_name(c->e->state), ka, ut, idle, busy);
			if (c->err)
				printf("  (%s)", liveness_strerror(c->err));
			printf("\n");
		}
		lvt_json_object(j, NULL);
		lvt_json_int(j, "pid", c->pid);
		lvt_json_str(j, "command", c->comm);
		lvt_json_int(j, "fd", c->fd);
		lvt_json_str(j, "local", c->e->local);
		lvt_json_str(j, "peer", c->e->peer);
		lvt_json_str(j, "state", state_name(c->e->state));
		if (c->err) {
			lvt_json_str(j, "error", liveness_strerror(c->err));
		} else {
			lvt_json_bool(j, "keepalive", c->t.keepalive);
			lvt_json_int(j, "idle_s", c->t.idle);
			lvt_json_int(j, "interval_s", c->t.interval);
			lvt_json_int(j, "count", c->t.count);
			lvt_json_int(j, "user_timeout_ms", c->t.user_timeout);
			lvt_json_ns(j, "bound_idle_ns", c->idle);
			lvt_json_ns(j, "bound_busy_ns", c->busy);
			lvt_json_bool(j, "never_idle", never_idle(c));
			lvt_json_bool(j, "own_namespace", c->own_netns);
		}
		lvt_json_close(j);
	}
	lvt_json_close(j);
}

int lvt_audit_main(int argc, char **argv)
{
	const char *pid_arg = NULL, *cgroup = NULL, *v;
	int all = 0, json = 0;
	struct lvt_json j;

	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
			fputs(audit_usage, stdout);
			return 0;
		} else if ((v = lvt_option(argc, argv, &i, "--pid")) != NULL) {
			pid_arg = v;
		} else if ((v = lvt_option(argc, argv, &i, "--cgroup")) != NULL) {
			cgroup = v;
		} else if (strcmp(argv[i], "--all") == 0) {
			if (all)
				lvt_usage_error("audit: --all given twice");
			all = 1;
		} else if (strcmp(argv[i], "--json") == 0) {
			if (json)
				lvt_usage_error("audit: --json given twice");
			json = 1;
		} else {
			lvt_usage_error("audit: unknown argument '%s' (liveness audit --help)",
					argv[i]);
		}
	}
	if ((pid_arg != NULL) + (cgroup != NULL) + all > 1)
		lvt_usage_error("audit: give one of --pid, --cgroup and --all");
	lvt_json_start(&j, stdout, json, "audit");
	if (pid_arg) {
		char path[64];
		long pid;

		if (!is_pid(pid_arg) || (pid = strtol(pid_arg, NULL, 10)) <= 0 || pid > INT_MAX)
			lvt_usage_error("audit: --pid %s: not a process ID", pid_arg);
		snprintf(path, sizeof(path), "/proc/%ld", pid);
		if (access(path, F_OK) != 0)
			lvt_usage_error("audit: --pid %s: no such process", pid_arg);
		lvt_json_int(&j, "pid", pid);
		process((pid_t)pid);
	} else if (cgroup) {
		char dir[PATH_MAX];

		lvt_resolve_cgroup("audit", cgroup, dir, sizeof(dir));
		lvt_json_str(&j, "cgroup", dir);
		cgroup_tree(dir);
	} else {
		DIR *d = opendir("/proc");
		struct dirent *e;

		if (!d)
			lvt_usage_error("audit: /proc: %s", strerror(errno));
		while ((e = readdir(d)) != NULL)
			if (is_pid(e->d_name))
				process((pid_t)atoi(e->d_name));
		closedir(d);
	}
	settle();
	bounds();
	report(&j);
	lvt_json_finish(&j);
	for (size_t i = 0; i < n_nets; i++)
		free(nets[i].e);
	free(nets);
	free(conns);
	return 0;
}
