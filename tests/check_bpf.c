/*
 * liveness run --bpf: the kernel gives every TCP connection of a program
 * the plan, whether the program wants it or not. The programs here are
 * statically linked (tests/bpf_server.c, tests/bpf_client.c: no shim could
 * reach them) and set no option themselves, so whatever their sockets
 * hold, the sock_ops program set. Each claim is read from outside: the
 * settings with liveness audit, the detection of a vanished peer by the
 * program's own read(), the transient cgroup in the cgroup2 tree, the
 * BPF link through the bpf(2) system call. The suite needs root and a
 * build with the BPF part; CI, which has both, fails instead of skipping.
 */
#include <check.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/bpf.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "child.h"
#include "liveness.h"
#include "util.h"

#define RUN_TIMEOUT (20 * LIVENESS_SEC)

/* The command, whose path every test needs. */
static const char *liveness(void)
{
	static char path[4096];

	sp_path(path, sizeof(path), "liveness");
	return path;
}

/* One line on stderr, starting as every error of run does, and nothing on stdout. */
static void assert_one_line(const struct sp_result *r, const char *what)
{
	ck_assert_msg(strncmp(r->err, "liveness: run: ", 15) == 0 &&
			      strchr(r->err, '\n') == r->err + strlen(r->err) - 1,
		      "%s: not one line: '%s'", what, r->err);
	ck_assert_msg(r->out[0] == '\0', "%s: printed '%s'", what, r->out);
}

#ifdef LIVENESS_HAVE_BPF

#define SERVER_PORT 7411

/* Root and a private network namespace, or SKIP (a failure in CI). */
static int ready(const char *what)
{
	const char *req = getenv("LIVENESS_REQUIRE_NETNS");
	char name[128];

	snprintf(name, sizeof(name), "bpf %s", what);
	if (geteuid() == 0)
		return tu_netns(name);
	if (req && strcmp(req, "1") == 0)
		ck_abort_msg("%s: required here (LIVENESS_REQUIRE_NETNS=1) but needs root", name);
	printf("SKIP %s: needs root (CAP_BPF, CAP_NET_ADMIN, a cgroup to make)\n", name);
	fflush(stdout);
	return 0;
}

/* ---- the cgroup2 tree, found as the command finds it ---- */

static char cg_mount[4096]; /* the cgroup2 mount point */
static char cg_own[4096];   /* this process's cgroup, "/" or "/a/b" */

static void find_cgroup(void)
{
	char line[4096], root[4096], type[64];
	FILE *f = fopen("/proc/self/cgroup", "r");

	ck_assert_ptr_nonnull(f);
	cg_own[0] = '\0';
	while (fgets(line, sizeof(line), f))
		if (strncmp(line, "0::", 3) == 0 && sscanf(line + 3, "%4095s", cg_own) == 1)
			break;
	fclose(f);
	ck_assert_msg(cg_own[0] == '/', "no cgroup2 entry in /proc/self/cgroup");
	f = fopen("/proc/self/mountinfo", "r");
	ck_assert_ptr_nonnull(f);
	cg_mount[0] = '\0';
	while (fgets(line, sizeof(line), f)) {
		const char *sep = strstr(line, " - ");

		/* The test's own cgroup is under the root of the plain mounts a test machine has.
		 */
		if (sep && sscanf(sep + 3, "%63s", type) == 1 && strcmp(type, "cgroup2") == 0 &&
		    sscanf(line, "%*s %*s %*s %4095s %4095s", root, cg_mount) == 2 &&
		    strcmp(root, "/") == 0)
			break;
		cg_mount[0] = '\0';
	}
	fclose(f);
	ck_assert_msg(cg_mount[0], "no cgroup2 mount");
}

/* The directory of this process's cgroup. */
static void own_dir(char *buf, size_t len)
{
	find_cgroup();
	snprintf(buf, len, "%s%s", cg_mount, strcmp(cg_own, "/") == 0 ? "" : cg_own);
}

/* Transient cgroups of the command in this process's cgroup. */
static int transient_cgroups(void)
{
	char dir[8300];
	struct dirent *e;
	DIR *d;
	int n = 0;

	own_dir(dir, sizeof(dir));
	d = opendir(dir);
	ck_assert_msg(d != NULL, "%s: %s", dir, strerror(errno));
	while ((e = readdir(d)))
		n += strncmp(e->d_name, "liveness-run.", 13) == 0;
	closedir(d);
	return n;
}

/*
 * Process pid is in the transient cgroup of the command whose pid is
 * loader, a child of this process's cgroup: its directory in dir, its id
 * (the directory's inode number, as the kernel numbers cgroups) returned.
 */
static unsigned long long in_transient(pid_t pid, pid_t loader, char *dir, size_t len)
{
	char path[64], line[4096], want[4200], cg[4096] = "";
	struct stat st;
	FILE *f;

	find_cgroup();
	snprintf(path, sizeof(path), "/proc/%d/cgroup", (int)pid);
	f = fopen(path, "r");
	ck_assert_ptr_nonnull(f);
	while (fgets(line, sizeof(line), f))
		if (strncmp(line, "0::", 3) == 0 && sscanf(line + 3, "%4095s", cg) == 1)
			break;
	fclose(f);
	snprintf(want, sizeof(want), "%s/liveness-run.%d", strcmp(cg_own, "/") == 0 ? "" : cg_own,
		 (int)loader);
	ck_assert_str_eq(cg, want);
	snprintf(dir, len, "%s%s", cg_mount, cg);
	ck_assert_msg(stat(dir, &st) == 0, "%s: %s", dir, strerror(errno));
	return (unsigned long long)st.st_ino;
}

/* ---- BPF links, through bpf(2): the runner links no libbpf ---- */

static long sys_bpf(int cmd, union bpf_attr *a)
{
	return syscall(__NR_bpf, cmd, a, sizeof(*a));
}

/*
 * Count the links that attach a sock_ops program to a cgroup; with cgid
 * set, return instead the id of the one attached to that cgroup (0: none).
 */
static unsigned sockops_links(unsigned long long cgid)
{
	union bpf_attr a;
	unsigned id = 0, n = 0, found = 0;

	for (;;) {
		struct bpf_link_info info;
		int fd;

		memset(&a, 0, sizeof(a));
		a.start_id = id;
		if (sys_bpf(BPF_LINK_GET_NEXT_ID, &a) != 0)
			break;
		id = a.next_id;
		memset(&a, 0, sizeof(a));
		a.link_id = id;
		if ((fd = (int)sys_bpf(BPF_LINK_GET_FD_BY_ID, &a)) < 0)
			continue; /* gone meanwhile */
		memset(&info, 0, sizeof(info));
		memset(&a, 0, sizeof(a));
		a.info.bpf_fd = (uint32_t)fd;
		a.info.info_len = sizeof(info);
		a.info.info = (uint64_t)(uintptr_t)&info;
		if (sys_bpf(BPF_OBJ_GET_INFO_BY_FD, &a) == 0 && info.type == BPF_LINK_TYPE_CGROUP &&
		    info.cgroup.attach_type == BPF_CGROUP_SOCK_OPS) {
			n++;
			if (info.cgroup.cgroup_id == cgid)
				found = id;
		}
		close(fd);
	}
	return cgid ? found : n;
}

static int link_exists(unsigned id)
{
	union bpf_attr a;
	int fd;

	memset(&a, 0, sizeof(a));
	a.link_id = id;
	fd = (int)sys_bpf(BPF_LINK_GET_FD_BY_ID, &a);
	if (fd >= 0)
		close(fd);
	return fd >= 0;
}

/* After the command exited: its cgroup directory is gone, and so is its link. */
static void assert_gone(const char *dir, unsigned link)
{
	liveness_time deadline = liveness_now() + LIVENESS_SEC;

	ck_assert_msg(access(dir, F_OK) != 0 && errno == ENOENT, "%s is left behind", dir);
	/* The kernel frees a link's id when its last reference goes, which may lag a little. */
	while (link_exists(link) && liveness_now() < deadline)
		usleep(10000);
	ck_assert_msg(!link_exists(link), "BPF link %u is left behind", link);
}

/* ---- programs under the command, their output read line by line ---- */

struct proc {
	pid_t pid;
	int out; /* stdout and stderr */
	char buf[16384];
	size_t len;
};

/*
 * Start argv (argv[0] looked up in PATH) with its stdout and stderr to p,
 * in cgroup dir when dir is not NULL (it joins it before exec).
 */
static void start_in(struct proc *p, const char *dir, char *const argv[])
{
	char procs[8500];
	int fds[2], fd;

	snprintf(procs, sizeof(procs), "%s/cgroup.procs", dir ? dir : "");
	ck_assert_int_eq(pipe2(fds, O_CLOEXEC), 0);
	p->len = 0;
	p->buf[0] = '\0';
	p->pid = fork();
	ck_assert_int_ge(p->pid, 0);
	if (p->pid == 0) {
		if (dir && ((fd = open(procs, O_WRONLY)) < 0 || write(fd, "0", 1) != 1))
			_exit(126);
		dup2(fds[1], 1);
		dup2(fds[1], 2);
		execvp(argv[0], argv);
		_exit(127);
	}
	close(fds[1]);
	p->out = fds[0];
}

static void start(struct proc *p, char *const argv[])
{
	start_in(p, NULL, argv);
}

/* Start PROG (a test program of the build) with its argument under liveness run --bpf. */
static void start_bpf(struct proc *p, const char *prog, const char *arg)
{
	char path[4096], lv[4096];
	char *argv[] = {lv, "run", "--bpf", "--budget", "10s", "--", path, (char *)arg, NULL};

	snprintf(lv, sizeof(lv), "%s", liveness());
	sp_path(path, sizeof(path), prog);
	start(p, argv);
}

/* Read what p printed since, waiting for it until deadline; what names what is awaited. */
static void read_more(struct proc *p, const char *what, liveness_time deadline)
{
	struct pollfd pf = {.fd = p->out, .events = POLLIN};
	ssize_t n;

	ck_assert_msg(liveness_now() < deadline, "no '%s' in time; output: %s", what, p->buf);
	if (poll(&pf, 1, liveness_poll_timeout(deadline, liveness_now())) <= 0)
		return;
	n = read(p->out, p->buf + p->len, sizeof(p->buf) - 1 - p->len);
	ck_assert_msg(n > 0, "output ended before '%s': %s", what, p->buf);
	p->len += (size_t)n;
	p->buf[p->len] = '\0';
}

/*
 * The first line of p's output not taken yet that starts with prefix,
 * within timeout; it is then marked taken (its first byte overwritten).
 * Lines are taken in any order: the kernel decides which connection of a
 * program dies first.
 */
static const char *wait_line(struct proc *p, const char *prefix, liveness_time timeout)
{
	static char line[512];
	liveness_time deadline = liveness_now() + timeout;

	for (;;) {
		size_t at = 0;
		char *nl;

		while ((nl = memchr(p->buf + at, '\n', p->len - at))) {
			size_t l = (size_t)(nl - (p->buf + at));

			if (strncmp(p->buf + at, prefix, strlen(prefix)) == 0) {
				snprintf(line, sizeof(line), "%.*s", (int)l, p->buf + at);
				p->buf[at] = '#';
				return line;
			}
			at += l + 1;
		}
		read_more(p, prefix, deadline);
	}
}

/* Wait for the command to exit; its status (128 + signal if killed). */
static int finish(struct proc *p)
{
	liveness_time deadline = liveness_now() + RUN_TIMEOUT;
	int status;
	pid_t r;

	while ((r = waitpid(p->pid, &status, WNOHANG)) == 0) {
		ck_assert_msg(liveness_now() < deadline, "liveness run did not exit");
		usleep(10000);
	}
	ck_assert_int_eq(r, p->pid);
	close(p->out);
	return WIFSIGNALED(status) ? 128 + WTERMSIG(status) : WEXITSTATUS(status);
}

/* ---- the settings a socket holds, as liveness audit reads them ---- */

/* The value of "key" in one flat JSON object (audit's connection), copied into buf. */
static int jvalue(const char *obj, const char *end, const char *key, char *buf, size_t len)
{
	char pat[64];
	const char *v;
	size_t n = 0;

	snprintf(pat, sizeof(pat), "\"%s\":", key);
	if (!(v = strstr(obj, pat)) || v > end)
		return 0;
	v += strlen(pat);
	while (*v == ' ')
		v++;
	if (*v == '"')
		v++;
	while (n + 1 < len && v[n] && v[n] != '"' && v[n] != ',' && v[n] != '\n')
		n++;
	snprintf(buf, len, "%.*s", (int)n, v);
	return 1;
}

/*
 * The settings liveness audit OPT VAL --json reports for its connection
 * local -> peer; 0 if it lists none such.
 */
static int audit_by(const char *opt, const char *val, unsigned local, unsigned peer,
		    struct liveness_tcp *t)
{
	char want_l[32], want_p[32], l[64], p[64], v[64];
	char *argv[] = {(char *)liveness(), "audit", (char *)opt, (char *)val, "--json", NULL};
	struct sp_result r;
	const char *o;

	snprintf(want_l, sizeof(want_l), "127.0.0.1:%u", local);
	snprintf(want_p, sizeof(want_p), "127.0.0.1:%u", peer);
	sp_run(argv, NULL, RUN_TIMEOUT, &r);
	ck_assert_msg(r.status == 0, "audit %s %s: %d %s", opt, val, r.status, r.err);
	o = strstr(r.out, "\"list\"");
	ck_assert_ptr_nonnull(o);
	while ((o = strchr(o, '{'))) {
		const char *end = strchr(o, '}');

		ck_assert_ptr_nonnull(end);
		if (jvalue(o, end, "local", l, sizeof(l)) && strcmp(l, want_l) == 0 &&
		    jvalue(o, end, "peer", p, sizeof(p)) && strcmp(p, want_p) == 0) {
			ck_assert_msg(jvalue(o, end, "keepalive", v, sizeof(v)), "%s", r.out);
			t->keepalive = strcmp(v, "true") == 0;
			ck_assert(jvalue(o, end, "idle_s", v, sizeof(v)));
			t->idle = atoi(v);
			ck_assert(jvalue(o, end, "interval_s", v, sizeof(v)));
			t->interval = atoi(v);
			ck_assert(jvalue(o, end, "count", v, sizeof(v)));
			t->count = atoi(v);
			ck_assert(jvalue(o, end, "user_timeout_ms", v, sizeof(v)));
			t->user_timeout = (unsigned)strtoul(v, NULL, 10);
			sp_free(&r);
			return 1;
		}
		o = end;
	}
	sp_free(&r);
	return 0;
}

/* As audit_by(), for process pid, which must hold the connection. */
static void audit(pid_t pid, unsigned local, unsigned peer, struct liveness_tcp *t)
{
	char pid_s[16];

	snprintf(pid_s, sizeof(pid_s), "%d", (int)pid);
	ck_assert_msg(audit_by("--pid", pid_s, local, peer, t),
		      "audit --pid %d: no connection %u -> %u", (int)pid, local, peer);
}

static void assert_plan(pid_t pid, unsigned local, unsigned peer, const struct liveness_tcp *plan)
{
	struct liveness_tcp t;

	audit(pid, local, peer, &t);
	ck_assert_msg(t.keepalive && t.idle == plan->idle && t.interval == plan->interval &&
			      t.count == plan->count && t.user_timeout == plan->user_timeout,
		      "pid %d %u->%u: keepalive %d %d:%d:%d user timeout %u; planned %d:%d:%d %u",
		      (int)pid, local, peer, t.keepalive, t.idle, t.interval, t.count,
		      t.user_timeout, plan->idle, plan->interval, plan->count, plan->user_timeout);
}

/* The kernel's defaults: keepalive off, this namespace's sysctls, no user timeout. */
static void assert_defaults(pid_t pid, unsigned local, unsigned peer)
{
	struct liveness_tcp t;

	audit(pid, local, peer, &t);
	ck_assert_msg(
		!t.keepalive && t.idle == tu_sysctl_ipv4("tcp_keepalive_time") &&
			t.interval == tu_sysctl_ipv4("tcp_keepalive_intvl") &&
			t.count == tu_sysctl_ipv4("tcp_keepalive_probes") && t.user_timeout == 0,
		"pid %d %u->%u, outside the cgroup: keepalive %d %d:%d:%d user timeout %u",
		(int)pid, local, peer, t.keepalive, t.idle, t.interval, t.count, t.user_timeout);
}

/* A connection of this process (outside every cgroup of the tests) to port on loopback; its
 * local port in *local. */
static int connect_port(unsigned port, unsigned *local)
{
	struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
	socklen_t len = sizeof(a);
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);

	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	ck_assert_int_ge(fd, 0);
	ck_assert_msg(connect(fd, (struct sockaddr *)&a, sizeof(a)) == 0, "connect %u: %s", port,
		      strerror(errno));
	ck_assert_int_eq(getsockname(fd, (struct sockaddr *)&a, &len), 0);
	*local = ntohs(a.sin_port);
	return fd;
}

/* The server and a client, each under its own liveness run --bpf, connected. */
struct pair {
	struct proc srv, cli;
	pid_t spid, cpid;	     /* the programs */
	unsigned cport;		     /* the client's local port */
	char sdir[4200], cdir[4200]; /* their transient cgroups */
	unsigned slink, clink;	     /* and the links attached to them */
};

static void start_pair(struct pair *x)
{
	char port[16], want[32];
	const char *l;
	unsigned long long id;

	snprintf(port, sizeof(port), "%d", SERVER_PORT);
	start_bpf(&x->srv, "tests/bpf-server", port);
	l = wait_line(&x->srv, "listening ", 5 * LIVENESS_SEC);
	x->spid = atoi(l + 10);
	ck_assert_int_eq(sp_wait_listen(SERVER_PORT, 5 * LIVENESS_SEC), 1);
	start_bpf(&x->cli, "tests/bpf-client", port);
	l = wait_line(&x->cli, "connected ", 5 * LIVENESS_SEC);
	ck_assert_int_eq(sscanf(l, "connected %u %d", &x->cport, &x->cpid), 2);
	snprintf(want, sizeof(want), "accepted %u", x->cport);
	wait_line(&x->srv, want, 5 * LIVENESS_SEC);

	id = in_transient(x->spid, x->srv.pid, x->sdir, sizeof(x->sdir));
	ck_assert_msg((x->slink = sockops_links(id)) != 0, "no link on %s", x->sdir);
	id = in_transient(x->cpid, x->cli.pid, x->cdir, sizeof(x->cdir));
	ck_assert_msg((x->clink = sockops_links(id)) != 0, "no link on %s", x->cdir);
}

/*
 * (a) The server's connections, the accepted one from the client and the
 * one from this test (accepted sockets follow the listener's cgroup), and
 * the client's, hold exactly the plan of 10 s. This test's own end of its
 * connection, whose peer is inside, and a pair wholly outside keep the
 * kernel's defaults. SIGTERM to the command reaches the server (status
 * 128 + 15), and when both commands have exited their cgroups and links
 * are gone.
 */
START_TEST(plan_reaches_static_programs_and_nothing_else)
{
	struct liveness_tcp plan;
	struct pair x;
	unsigned ctl_port, a_port, b_port;
	int ctl, a, b;
	char want[32];

	if (!ready("settings"))
		return;
	ck_assert_int_eq(liveness_tcp_plan(&plan, 10 * LIVENESS_SEC), 0);
	start_pair(&x);
	ctl = connect_port(SERVER_PORT, &ctl_port);
	snprintf(want, sizeof(want), "accepted %u", ctl_port);
	wait_line(&x.srv, want, 5 * LIVENESS_SEC);
	tu_pair(&a, &b);
	a_port = tu_port(a);
	b_port = tu_port(b);

	assert_plan(x.spid, SERVER_PORT, x.cport, &plan);
	assert_plan(x.spid, SERVER_PORT, ctl_port, &plan);
	assert_plan(x.cpid, x.cport, SERVER_PORT, &plan);
	assert_defaults(getpid(), ctl_port, SERVER_PORT);
	assert_defaults(getpid(), a_port, b_port);

	ck_assert_int_eq(kill(x.srv.pid, SIGTERM), 0);
	ck_assert_int_eq(finish(&x.srv), 128 + SIGTERM);
	/* The server's end closed: the client reads end of file and exits 0. */
	wait_line(&x.cli, "closed", 5 * LIVENESS_SEC);
	ck_assert_int_eq(finish(&x.cli), 0);
	assert_gone(x.sdir, x.slink);
	assert_gone(x.cdir, x.clink);
	close(ctl);
	close(a);
	close(b);
}
END_TEST

/* The next "lost ..." line of p within timeout, and how long it took from t0. */
static liveness_time lost(struct proc *p, const char *prefix, liveness_time t0,
			  liveness_time timeout)
{
	const char *l = wait_line(p, prefix, timeout);
	liveness_time took = liveness_now() - t0;

	ck_assert_msg(strstr(l, " ETIMEDOUT"), "'%s': not a timeout", l);
	return took;
}

/*
 * (b) With every packet of the port dropped, the static server's read()
 * fails with ETIMEDOUT within liveness_tcp_bound(plan, idle) + 0.1 s, on
 * its connection from the client and on the one from this test; so does
 * the client's. This test's own end, outside, notices nothing.
 */
START_TEST(static_server_detects_a_vanished_peer_in_budget)
{
	struct liveness_tcp plan;
	struct pair x;
	liveness_time bound, t0, took;
	unsigned ctl_port;
	int ctl, err = -1;
	socklen_t len = sizeof(err);
	struct pollfd pf;
	char want[32];

	if (!ready("vanished peer"))
		return;
	ck_assert_int_eq(liveness_tcp_plan(&plan, 10 * LIVENESS_SEC), 0);
	bound = liveness_tcp_bound(&plan, LIVENESS_IDLE);
	start_pair(&x);
	ctl = connect_port(SERVER_PORT, &ctl_port);
	snprintf(want, sizeof(want), "accepted %u", ctl_port);
	wait_line(&x.srv, want, 5 * LIVENESS_SEC);

	tu_drop_port(SERVER_PORT);
	t0 = liveness_now();
	snprintf(want, sizeof(want), "lost %u ", x.cport);
	took = lost(&x.srv, want, t0, bound + LIVENESS_SEC);
	ck_assert_msg(took <= bound + 100 * LIVENESS_MSEC, "server: %lld ms, bound %lld ms",
		      (long long)(took / LIVENESS_MSEC), (long long)(bound / LIVENESS_MSEC));
	/* Keepalive's schedule, not something sooner: nothing is sent before the idle time. */
	ck_assert_msg(took >= (liveness_time)plan.idle * LIVENESS_SEC, "server: %lld ms",
		      (long long)(took / LIVENESS_MSEC));
	snprintf(want, sizeof(want), "lost %u ", ctl_port);
	took = lost(&x.srv, want, t0, bound + LIVENESS_SEC);
	ck_assert_msg(took <= bound + 100 * LIVENESS_MSEC, "server, test's connection: %lld ms",
		      (long long)(took / LIVENESS_MSEC));
	took = lost(&x.cli, "lost ", t0, bound + LIVENESS_SEC);
	ck_assert_msg(took <= bound + 100 * LIVENESS_MSEC, "client: %lld ms",
		      (long long)(took / LIVENESS_MSEC));
	ck_assert_int_eq(finish(&x.cli), 0);

	/* The test's end of the same kind of connection: no keepalive, nothing noticed. */
	pf = (struct pollfd){.fd = ctl, .events = POLLIN};
	ck_assert_int_eq(poll(&pf, 1, 0), 0);
	ck_assert_int_eq(getsockopt(ctl, SOL_SOCKET, SO_ERROR, &err, &len), 0);
	ck_assert_int_eq(err, 0);
	tu_undrop();

	ck_assert_int_eq(kill(x.srv.pid, SIGTERM), 0);
	ck_assert_int_eq(finish(&x.srv), 128 + SIGTERM);
	assert_gone(x.sdir, x.slink);
	assert_gone(x.cdir, x.clink);
	close(ctl);
}
END_TEST

/* Run the command with args; its result in r. */
static void run_bpf(struct sp_result *r, const char *const *args)
{
	char *argv[16];
	int n = 0;

	argv[n++] = (char *)liveness();
	argv[n++] = "run";
	for (; *args && n < 15; args++)
		argv[n++] = (char *)*args;
	argv[n] = NULL;
	sp_run(argv, NULL, RUN_TIMEOUT, r);
}

/*
 * (c) The command exits as the program did, and removes its cgroup when
 * the program leaves a process running: that process is moved back to
 * the caller's cgroup and the caller told so in one line.
 */
START_TEST(status_passes_through_and_nothing_stays)
{
	static const struct {
		const char *script;
		int status;
	} cases[] = {{"exit 7", 7}, {"kill -KILL $$", 128 + SIGKILL}, {"exit 0", 0}};
	int before, links;
	struct sp_result r;
	char dir[8300], path[64], line[4096] = "", want[8400];
	FILE *f;
	pid_t left;

	if (!ready("status"))
		return;
	before = transient_cgroups();
	links = (int)sockops_links(0);
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		const char *args[] = {"--bpf", "--budget", "10s",	    "--",
				      "sh",    "-c",	   cases[i].script, NULL};

		run_bpf(&r, args);
		ck_assert_msg(r.status == cases[i].status, "%s: %d, %s", cases[i].script, r.status,
			      r.err);
		ck_assert_str_eq(r.err, "");
		sp_free(&r);
	}
	{
		const char *args[] = {"--bpf",
				      "--budget",
				      "10s",
				      "--",
				      "sh",
				      "-c",
				      "sleep 60 >/dev/null 2>&1 & echo $!",
				      NULL};

		run_bpf(&r, args);
	}
	ck_assert_int_eq(r.status, 0);
	left = atoi(r.out);
	ck_assert_int_gt(left, 0);
	ck_assert_msg(strstr(r.err, "1 process the program left running moved to ") &&
			      strchr(r.err, '\n') == r.err + strlen(r.err) - 1,
		      "%s", r.err);
	snprintf(path, sizeof(path), "/proc/%d/cgroup", (int)left);
	f = fopen(path, "r");
	ck_assert_ptr_nonnull(f);
	while (fgets(line, sizeof(line), f) && strncmp(line, "0::", 3) != 0)
		;
	fclose(f);
	kill(left, SIGKILL);
	find_cgroup();
	snprintf(want, sizeof(want), "0::%s\n", cg_own);
	ck_assert_str_eq(line, want);
	own_dir(dir, sizeof(dir));
	ck_assert_msg(strstr(r.err, dir), "%s", r.err);
	sp_free(&r);
	ck_assert_int_le(transient_cgroups(), before); /* stale ones may go */
	ck_assert_int_eq((int)sockops_links(0), links);
}
END_TEST

/*
 * The command with args (NULL-terminated, at most 10) without CAP_BPF and
 * CAP_SYS_ADMIN: capsh drops them from the bounding set, so that the exec
 * as root lacks them.
 */
static void run_capless(struct sp_result *r, const char *const *args)
{
	char *argv[20] = {"capsh", "--drop=cap_bpf,cap_sys_admin", "--",
			  "-c",	   "exec \"$0\" \"$@\"",	   (char *)liveness()};
	int n = 6;

	for (; *args && n < 19; args++)
		argv[n++] = (char *)*args;
	argv[n] = NULL;
	sp_run(argv, NULL, RUN_TIMEOUT, r);
}

/*
 * (d) Bad input and missing rights: one line, a non-zero status, and
 * nothing made: no cgroup, no link. A budget the planner refuses and
 * --bpf with settings it does not take are usage errors (2); a program
 * that does not exist is 127 and one that cannot be executed 126, after
 * the cgroup was made and attached, which are undone; without CAP_BPF and
 * CAP_SYS_ADMIN (capsh --drop), or as nobody, the kernel refuses the
 * program (126).
 */
START_TEST(bad_input_and_no_rights_leave_nothing)
{
	static const char noexec[] = "/tmp/liveness-bpf-noexec";
	static const struct {
		const char *args[12];
		int status;
		const char *says;
	} cases[] = {
		{{"--bpf", "--budget", "1ms", "--", "true"}, 2, "too short"},
		{{"--bpf", "--budget", "10s", "--keepalive", "5:1:4", "--", "true"}, 2, "alone"},
		{{"--bpf", "--", "true"}, 2, "needs --budget"},
		{{"--bpf", "--budget", "10s", "--force", "--", "true"}, 2, "alone"},
		{{"--budget", "10s", "--deaths", "--", "true"}, 2, "an option of --bpf"},
		{{"--budget", "10s", "--no-enforce", "--", "true"}, 2, "an option of --bpf"},
		{{"--bpf", "--budget", "10s", "--", "/nonexistent/liveness-test"},
		 127,
		 "No such file or directory"},
		{{"--bpf", "--budget", "10s", "--", noexec}, 126, "Permission denied"},
	};
	int before, links, fd;
	struct sp_result r;
	char lv[4096];

	if (!ready("bad input"))
		return;
	fd = open(noexec, O_WRONLY | O_CREAT | O_TRUNC, 0644);
	ck_assert_int_ge(fd, 0);
	close(fd);
	before = transient_cgroups();
	links = (int)sockops_links(0);
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		run_bpf(&r, cases[i].args);
		ck_assert_msg(r.status == cases[i].status, "case %zu: %d, %s", i, r.status, r.err);
		assert_one_line(&r, cases[i].says);
		ck_assert_msg(strstr(r.err, cases[i].says), "case %zu: %s", i, r.err);
		sp_free(&r);
		ck_assert_int_le(transient_cgroups(), before); /* stale ones may go */
		ck_assert_int_eq((int)sockops_links(0), links);
	}
	unlink(noexec);

	snprintf(lv, sizeof(lv), "%s", liveness());
	{
		const char *args[] = {"run", "--bpf", "--budget", "10s", "--", "true", NULL};

		run_capless(&r, args);
		ck_assert_msg(r.status == 126, "without CAP_BPF: %d %s", r.status, r.err);
		assert_one_line(&r, "without CAP_BPF");
		ck_assert_msg(strstr(r.err, "CAP_BPF"), "%s", r.err);
		sp_free(&r);
	}
	{
		char *argv[] = {"setpriv",
				"--reuid=65534",
				"--regid=65534",
				"--clear-groups",
				lv,
				"run",
				"--bpf",
				"--budget",
				"10s",
				"--",
				"true",
				NULL};

		sp_run(argv, NULL, RUN_TIMEOUT, &r);
		ck_assert_msg(r.status == 126, "as nobody: %d %s", r.status, r.err);
		assert_one_line(&r, "as nobody");
		sp_free(&r);
	}
	ck_assert_int_le(transient_cgroups(), before); /* stale ones may go */
	ck_assert_int_eq((int)sockops_links(0), links);
}
END_TEST

/* ---- attach, detach, status ---- */

/* Join cgroup dir (this process), or exit: for a forked child. */
static void join(const char *dir)
{
	char procs[8500];
	int fd;

	snprintf(procs, sizeof(procs), "%s/cgroup.procs", dir);
	if ((fd = open(procs, O_WRONLY)) < 0 || write(fd, "0", 1) != 1)
		_exit(3);
	close(fd);
}

/* A fresh cgroup, child of this process's: its directory in dir, its id returned. */
static unsigned long long make_cgroup(const char *name, char *dir, size_t len)
{
	char own[8300];
	struct stat st;

	own_dir(own, sizeof(own));
	/* Named after this process too: cgroups are not private to a network namespace. */
	snprintf(dir, len, "%s/%s-%d", own, name, (int)getpid());
	rmdir(dir);
	ck_assert_msg(mkdir(dir, 0755) == 0, "%s: %s", dir, strerror(errno));
	ck_assert_int_eq(stat(dir, &st), 0);
	return (unsigned long long)st.st_ino;
}

/*
 * Kill every process of cgroup dir (cgroup.kill, Linux 5.14) and remove it
 * once it is empty: cgroup.events says "populated 0", and a change of it
 * wakes poll() with POLLPRI.
 */
static void remove_test_cgroup(const char *dir)
{
	char path[8500], ev[256];
	liveness_time deadline = liveness_now() + 5 * LIVENESS_SEC;
	struct pollfd pf = {.events = POLLPRI};
	ssize_t n;
	int fd;

	snprintf(path, sizeof(path), "%s/cgroup.kill", dir);
	if ((fd = open(path, O_WRONLY | O_CLOEXEC)) >= 0) {
		ck_assert_int_eq(write(fd, "1", 1), 1);
		close(fd);
	}
	snprintf(path, sizeof(path), "%s/cgroup.events", dir);
	pf.fd = open(path, O_RDONLY | O_CLOEXEC);
	ck_assert_msg(pf.fd >= 0, "%s: %s", path, strerror(errno));
	for (;;) {
		n = pread(pf.fd, ev, sizeof(ev) - 1, 0);
		ck_assert_int_gt(n, 0);
		ev[n] = '\0';
		if (strstr(ev, "populated 0"))
			break;
		ck_assert_msg(liveness_now() < deadline, "%s stays populated", dir);
		poll(&pf, 1, liveness_poll_timeout(deadline, liveness_now()));
	}
	close(pf.fd);
	ck_assert_msg(rmdir(dir) == 0, "%s is left behind: %s", dir, strerror(errno));
}

/* The command with up to 12 arguments; its result in r. */
static void lv(struct sp_result *r, const char *const *args)
{
	char *argv[16];
	int n = 0;

	argv[n++] = (char *)liveness();
	for (; *args && n < 15; args++)
		argv[n++] = (char *)*args;
	argv[n] = NULL;
	sp_run(argv, NULL, RUN_TIMEOUT, r);
}

/* The command with args must exit 0. */
static void lv_ok(const char *const *args)
{
	struct sp_result r;

	lv(&r, args);
	ck_assert_msg(r.status == 0, "liveness %s: %d %s", args[0], r.status, r.err);
	sp_free(&r);
}

/* A number in liveness status --cgroup dir --json: "key": N. */
static unsigned long long status_count(const char *dir, const char *key)
{
	const char *args[] = {"status", "--cgroup", dir, "--json", NULL};
	struct sp_result r;
	char v[64];
	unsigned long long n;

	lv(&r, args);
	ck_assert_msg(r.status == 0, "status: %d %s", r.status, r.err);
	ck_assert_msg(jvalue(r.out, r.out + strlen(r.out), key, v, sizeof(v)), "no %s in %s", key,
		      r.out);
	n = strtoull(v, NULL, 10);
	sp_free(&r);
	return n;
}

/*
 * The connection local -> peer as audit --cgroup dir finds it, waiting for
 * its accept(): socat and python's http.server say nothing when they
 * accept, so only their descriptor tables tell; they are read again.
 */
static void audit_cg(const char *dir, unsigned local, unsigned peer, struct liveness_tcp *t)
{
	liveness_time deadline = liveness_now() + 3 * LIVENESS_SEC;

	while (!audit_by("--cgroup", dir, local, peer, t)) {
		ck_assert_msg(liveness_now() < deadline, "audit --cgroup %s: no %u -> %u", dir,
			      local, peer);
		usleep(20000);
	}
}

static void assert_plan_cg(const char *dir, unsigned local, unsigned peer,
			   const struct liveness_tcp *plan)
{
	struct liveness_tcp t;

	audit_cg(dir, local, peer, &t);
	ck_assert_msg(t.keepalive && t.idle == plan->idle && t.interval == plan->interval &&
			      t.count == plan->count && t.user_timeout == plan->user_timeout,
		      "%u->%u: keepalive %d %d:%d:%d user timeout %u; planned %d:%d:%d %u", local,
		      peer, t.keepalive, t.idle, t.interval, t.count, t.user_timeout, plan->idle,
		      plan->interval, plan->count, plan->user_timeout);
}

/* The first line of p's output not taken yet that contains text, within timeout. */
static void wait_text(struct proc *p, const char *text, liveness_time timeout)
{
	liveness_time deadline = liveness_now() + timeout;
	char *at;

	while (!(at = strstr(p->buf, text)))
		read_more(p, text, deadline);
	at[0] = '#'; /* taken */
}

#define PORT_C 7411	/* the static C server, in cgroup A */
#define PORT_GO 7412	/* the Go server, in A */
#define PORT_SOCAT 7413 /* socat, in A */
#define PORT_PY 7414	/* python3 -m http.server, in A */
#define PORT_GO_B 7415	/* the Go server in B, attached with --no-enforce */

#ifdef LIVENESS_HAVE_GO
/*
 * (e) attach reaches servers that are already running, of every kind: a
 * static C server, a Go server (CGO_ENABLED=0), socat and python3's
 * http.server, in one cgroup A attached with --retrofit. Each server's end
 * holds the plan, as audit reads it: the Go server's own 15 s keepalive is
 * raised to the plan (status counts the two calls), and python's connection
 * made before the attach is reached by --retrofit. The same Go server in a
 * cgroup B attached with --no-enforce keeps its own 15 s, a worst case of
 * at least 30 s where the plan's is under 10 s. This test's own ends, outside,
 * keep the kernel's defaults. With every packet of A's ports dropped, the
 * kernel ends each server's connection within liveness_tcp_bound() + 0.1 s,
 * status counts them as keepalive timeouts and nothing else, and the programs
 * see it; the retrofitted one too. After detach, a new connection of the
 * same server keeps the defaults.
 */
START_TEST(attach_reaches_running_servers_of_every_kind)
{
	struct proc c_srv, go, socat, py, go_b;
	char a[8400], b[8400], port[5][8], want[64];
	const unsigned ports[5] = {PORT_C, PORT_GO, PORT_SOCAT, PORT_PY, PORT_GO_B};
	unsigned local[5], pre_local, again_local;
	int fd[5], pre, again;
	struct liveness_tcp plan, t;
	liveness_time bound, t0, took;
	struct sp_result r;
	char srv_path[4096], go_path[4096], socat_listen[64];

	if (!ready("attach"))
		return;
	ck_assert_int_eq(liveness_tcp_plan(&plan, 10 * LIVENESS_SEC), 0);
	bound = liveness_tcp_bound(&plan, LIVENESS_IDLE);
	make_cgroup("liveness-test-a", a, sizeof(a));
	make_cgroup("liveness-test-b", b, sizeof(b));
	for (int i = 0; i < 5; i++)
		snprintf(port[i], sizeof(port[i]), "%u", ports[i]);
	sp_path(srv_path, sizeof(srv_path), "tests/bpf-server");
	sp_path(go_path, sizeof(go_path), "tests/go-server");
	snprintf(socat_listen, sizeof(socat_listen), "TCP-LISTEN:%u,bind=127.0.0.1,reuseaddr,fork",
		 PORT_SOCAT);
	{
		char *c_argv[] = {srv_path, port[0], NULL};
		char *go_argv[] = {go_path, port[1], NULL};
		char *socat_argv[] = {"socat", socat_listen, "EXEC:cat", NULL};
		char *py_argv[] = {"python3", "-u",	"-m",	     "http.server",
				   port[3],   "--bind", "127.0.0.1", NULL};
		char *go_b_argv[] = {go_path, port[4], NULL};

		start_in(&c_srv, a, c_argv);
		start_in(&go, a, go_argv);
		start_in(&socat, a, socat_argv);
		start_in(&py, a, py_argv);
		start_in(&go_b, b, go_b_argv);
	}
	for (int i = 0; i < 5; i++)
		ck_assert_msg(sp_wait_listen((uint16_t)ports[i], 10 * LIVENESS_SEC) == 1,
			      "nothing listens on %u", ports[i]);

	/* Made before the attach: only --retrofit reaches python's end of it. */
	pre = connect_port(PORT_PY, &pre_local);
	{
		const char *args[] = {"attach", "--cgroup",   a,   "--budget",
				      "10s",	"--retrofit", NULL};

		lv(&r, args);
		ck_assert_msg(r.status == 0, "attach A: %d %s", r.status, r.err);
		ck_assert_msg(strstr(r.out, "\nliveness: attach: 1 existing connections given"),
			      "%s", r.out);
		sp_free(&r);
	}
	{
		const char *args[] = {"attach", "--cgroup",	b,   "--budget",
				      "10s",	"--no-enforce", NULL};

		lv_ok(args);
	}
	for (int i = 0; i < 5; i++)
		fd[i] = connect_port(ports[i], &local[i]);
	snprintf(want, sizeof(want), "accepted %u", local[0]);
	wait_line(&c_srv, want, 5 * LIVENESS_SEC);
	snprintf(want, sizeof(want), "accepted %u", local[1]);
	wait_line(&go, want, 5 * LIVENESS_SEC);
	snprintf(want, sizeof(want), "accepted %u", local[4]);
	wait_line(&go_b, want, 5 * LIVENESS_SEC);

	for (int i = 0; i < 4; i++)
		assert_plan_cg(a, ports[i], local[i], &plan);
	assert_plan_cg(a, PORT_PY, pre_local, &plan);
	/* Go's runtime set 15 s for both; unenforced, they stay, and so does the rest of the plan.
	 */
	audit_cg(b, PORT_GO_B, local[4], &t);
	ck_assert_msg(t.keepalive && t.idle == 15 && t.interval == 15 && t.count == plan.count &&
			      t.user_timeout == plan.user_timeout,
		      "Go under --no-enforce: %d %d:%d:%d %u", t.keepalive, t.idle, t.interval,
		      t.count, t.user_timeout);
	ck_assert_msg(liveness_tcp_bound(&t, LIVENESS_IDLE) >= 30 * LIVENESS_SEC &&
			      bound < 10 * LIVENESS_SEC,
		      "Go unenforced: %lld ms, plan %lld ms",
		      (long long)(liveness_tcp_bound(&t, LIVENESS_IDLE) / LIVENESS_MSEC),
		      (long long)(bound / LIVENESS_MSEC));
	for (int i = 0; i < 5; i++)
		assert_defaults(getpid(), local[i], ports[i]);
	ck_assert_int_eq(status_count(a, "configured"), 4);
	ck_assert_int_eq(status_count(a, "retrofitted"), 1);
	ck_assert_int_eq(status_count(a, "raised"), 2); /* Go's idle time and interval */
	ck_assert_int_eq(status_count(b, "raised"), 0);

	for (int i = 0; i < 4; i++)
		tu_drop_port((uint16_t)ports[i]);
	t0 = liveness_now();
	/*
	 * Each program's own failed read says when the kernel ended its
	 * connection (the kernel counts the death before the error reaches the
	 * program): python's twice, the retrofitted connection too.
	 */
	snprintf(want, sizeof(want), "lost %u ETIMEDOUT", local[0]);
	wait_line(&c_srv, want, bound + LIVENESS_SEC);
	snprintf(want, sizeof(want), "lost %u ", local[1]);
	wait_line(&go, want, bound + LIVENESS_SEC);
	wait_text(&socat, "Connection timed out", bound + LIVENESS_SEC);
	wait_text(&py, "Request timed out", bound + LIVENESS_SEC);
	wait_text(&py, "Request timed out", bound + LIVENESS_SEC);
	took = liveness_now() - t0;
	ck_assert_msg(took <= bound + 100 * LIVENESS_MSEC,
		      "A's connections: %lld ms, bound %lld ms", (long long)(took / LIVENESS_MSEC),
		      (long long)(bound / LIVENESS_MSEC));
	ck_assert_msg(took >= (liveness_time)plan.idle * LIVENESS_SEC, "too soon: %lld ms",
		      (long long)(took / LIVENESS_MSEC));
	ck_assert_int_eq(status_count(a, "keepalive-timeout"), 4);
	ck_assert_int_eq(status_count(a, "closed"), 0);
	ck_assert_int_eq(status_count(a, "reset"), 0);
	ck_assert_int_eq(status_count(a, "retransmit-timeout"), 0);
	ck_assert_int_eq(status_count(a, "other"), 0);
	tu_undrop();

	{
		const char *args[] = {"detach", "--cgroup", a, NULL};

		lv_ok(args);
	}
	again = connect_port(PORT_C, &again_local);
	snprintf(want, sizeof(want), "accepted %u", again_local);
	wait_line(&c_srv, want, 5 * LIVENESS_SEC);
	audit_cg(a, PORT_C, again_local, &t);
	ck_assert_msg(!t.keepalive && t.user_timeout == 0, "after detach: %d %u", t.keepalive,
		      t.user_timeout);
	{
		const char *args[] = {"status", "--cgroup", a, NULL};

		lv(&r, args);
		ck_assert_msg(r.status == 1 && strstr(r.err, "no liveness attachment"), "%d %s",
			      r.status, r.err);
		sp_free(&r);
	}
	{
		const char *args[] = {"detach", "--cgroup", b, NULL};

		lv_ok(args);
	}
	close(again);
	close(pre);
	for (int i = 0; i < 5; i++)
		close(fd[i]);
	remove_test_cgroup(a);
	remove_test_cgroup(b);
	finish(&c_srv);
	finish(&go);
	finish(&socat);
	finish(&py);
	finish(&go_b);
}
END_TEST
#endif

/* The attachment directory of cgroup id under the bpf file system, in buf. */
static void pinned_dir(unsigned long long id, char *buf, size_t len)
{
	char line[4096], mnt[4096] = "", type[64];
	FILE *f = fopen("/proc/self/mountinfo", "r");

	ck_assert_ptr_nonnull(f);
	while (fgets(line, sizeof(line), f)) {
		const char *sep = strstr(line, " - ");

		if (sep && sscanf(sep + 3, "%63s", type) == 1 && strcmp(type, "bpf") == 0 &&
		    sscanf(line, "%*s %*s %*s %*s %4095s", mnt) == 1)
			break;
		mnt[0] = '\0';
	}
	fclose(f);
	snprintf(buf, len, "%s/liveness/cgroup-%llu", mnt[0] ? mnt : "/sys/fs/bpf", id);
}

/* Nothing of an attachment to cgroup id: no pinned directory, no tmp-, no link. */
static void assert_unattached(unsigned long long id)
{
	char dir[4300], base[4300];
	liveness_time deadline = liveness_now() + LIVENESS_SEC;
	struct dirent *e;
	DIR *d;

	pinned_dir(id, dir, sizeof(dir));
	ck_assert_msg(access(dir, F_OK) != 0, "%s is left", dir);
	snprintf(base, sizeof(base), "%s", dir);
	*strrchr(base, '/') = '\0';
	if ((d = opendir(base))) {
		while ((e = readdir(d)))
			ck_assert_msg(strncmp(e->d_name, "tmp-", 4) != 0, "%s/%s is left", base,
				      e->d_name);
		closedir(d);
	}
	while (sockops_links(id) && liveness_now() < deadline)
		usleep(10000);
	ck_assert_msg(!sockops_links(id), "a sock_ops link is left on cgroup %llu", id);
}

/* A connection from a child to port, or -1 with errno. */
static int child_connect(unsigned port)
{
	struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
	int fd = socket(AF_INET, SOCK_STREAM, 0);

	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (fd < 0)
		_exit(4);
	return connect(fd, (struct sockaddr *)&a, sizeof(a)) == 0 ? fd : -1 - fd;
}

/*
 * A connection made from cgroup dir, held by a child: it joins the cgroup,
 * connects to a listener of this process, and answers each request with
 * the keepalive idle time its socket holds, 0 when keepalive is off.
 */
struct holder {
	pid_t pid;
	int ask, l; /* the request socket, the listener */
};

static void hold(struct holder *h, const char *dir)
{
	unsigned port;
	int sv[2];

	h->l = tu_listen(0);
	port = tu_port(h->l);
	ck_assert_int_eq(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv), 0);
	h->pid = fork();
	ck_assert_int_ge(h->pid, 0);
	if (h->pid == 0) {
		int fd, v;
		char c;

		close(sv[0]); /* else unhold()'s close would never reach us as end of file */
		join(dir);
		if ((fd = child_connect(port)) < 0)
			_exit(4);
		while (read(sv[1], &c, 1) == 1) {
			int on = 0, idle = 0;
			socklen_t olen = sizeof(on);

			if (getsockopt(fd, SOL_SOCKET, SO_KEEPALIVE, &on, &olen) != 0 ||
			    getsockopt(fd, IPPROTO_TCP, TCP_KEEPIDLE, &idle, &olen) != 0)
				v = -1;
			else
				v = on ? idle : 0;
			if (write(sv[1], &v, sizeof(v)) != sizeof(v))
				_exit(5);
		}
		_exit(0);
	}
	close(sv[1]);
	h->ask = sv[0];
}

/* The idle time the holder's socket holds now; 0: keepalive off. */
static int held_idle(struct holder *h)
{
	int v = -2;

	ck_assert_int_eq(write(h->ask, "k", 1), 1);
	ck_assert_int_eq(read(h->ask, &v, sizeof(v)), (ssize_t)sizeof(v));
	ck_assert_msg(v >= 0, "holder: getsockopt failed");
	return v;
}

static void unhold(struct holder *h)
{
	int status;

	close(h->ask);
	ck_assert_int_eq(waitpid(h->pid, &status, 0), h->pid);
	close(h->l);
}

/* The idle time a connection made from cgroup dir gets; 0: keepalive off. */
static int keepalive_in(const char *dir)
{
	struct holder h;
	int v;

	hold(&h, dir);
	v = held_idle(&h);
	unhold(&h);
	return v;
}

/*
 * (f) attach, detach and status refuse bad input (2) and missing rights
 * (1) in one line with nothing attached; an attach killed with SIGKILL
 * after pinning or after naming its attachment leaves nothing at work (a
 * connection from the cgroup keeps the defaults), and the next command
 * removes what it left; then attach works, and detach returns new
 * connections to the defaults.
 */
START_TEST(attach_refuses_bad_input_and_survives_sigkill)
{
	static const char *const steps[] = {"pinned", "named"};
	char a[8400], lvp[4096];
	unsigned long long id;
	struct sp_result r;

	if (!ready("attach refusals"))
		return;
	id = make_cgroup("liveness-test-k", a, sizeof(a));
	{
		const struct {
			const char *args[8];
			int status;
			const char *says;
		} cases[] = {
			{{"attach", "--cgroup", "/liveness-no-such-cgroup", "--budget", "10s"},
			 2,
			 "no such cgroup"},
			{{"attach", "--unit", "liveness-no-such.service", "--budget", "10s"},
			 2,
			 "--unit liveness-no-such.service"},
			{{"attach", "--cgroup", a, "--budget", "1ms"}, 2, "too short"},
			{{"attach", "--cgroup", a}, 2, "--budget is needed"},
			{{"attach", "--cgroup", a, "--unit", "x.service", "--budget", "10s"},
			 2,
			 "not both"},
			{{"detach", "--cgroup", a}, 1, "no liveness attachment"},
			{{"status", "--cgroup", a}, 1, "no liveness attachment"},
		};

		for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
			lv(&r, cases[i].args);
			ck_assert_msg(r.status == cases[i].status, "case %zu: %d %s", i, r.status,
				      r.err);
			ck_assert_msg(strstr(r.err, cases[i].says) &&
					      strchr(r.err, '\n') == r.err + strlen(r.err) - 1,
				      "case %zu: %s", i, r.err);
			sp_free(&r);
			assert_unattached(id);
		}
	}
	snprintf(lvp, sizeof(lvp), "%s", liveness());
	{
		const char *args[] = {"attach", "--cgroup", a, "--budget", "10s", NULL};

		run_capless(&r, args);
		ck_assert_msg(r.status == 1 && strstr(r.err, "CAP_BPF") &&
				      strchr(r.err, '\n') == r.err + strlen(r.err) - 1,
			      "without CAP_BPF: %d %s", r.status, r.err);
		sp_free(&r);
		assert_unattached(id);
	}
	for (size_t i = 0; i < sizeof(steps) / sizeof(steps[0]); i++) {
		char env_kill[64];
		char *env[] = {env_kill, NULL};
		char *argv[] = {lvp, "attach", "--cgroup", a, "--budget", "10s", NULL};
		const char *status_args[] = {"status", NULL};

		snprintf(env_kill, sizeof(env_kill), "LIVENESS_TEST_KILL_AT=%s", steps[i]);
		sp_run(argv, env, RUN_TIMEOUT, &r);
		ck_assert_msg(r.status == 128 + SIGKILL, "killed at %s: %d %s", steps[i], r.status,
			      r.err);
		sp_free(&r);
		ck_assert_msg(keepalive_in(a) == 0, "killed at %s: a half-made attachment works",
			      steps[i]);
		lv(&r, status_args);
		ck_assert_int_eq(r.status, 0);
		sp_free(&r);
		assert_unattached(id);
	}
	{
		const char *args[] = {"attach", "--cgroup", a, "--budget", "10s", NULL};

		lv_ok(args);
	}
	ck_assert_int_eq(keepalive_in(a), 5); /* the idle time planned for 10 s */
	{
		const char *args[] = {"detach", "--cgroup", a, NULL};

		lv_ok(args);
	}
	ck_assert_int_eq(keepalive_in(a), 0);
	assert_unattached(id);
	remove_test_cgroup(a);
}
END_TEST

#define DEATH_PORT 7421 /* and the five after it */

/*
 * (h) The death counts judge as liveness_diagnose() does. A child in an
 * attached cgroup makes six connections to this process, which then ends
 * each a different way: its end closed (FIN), reset (SO_LINGER 0), no
 * listener (refused), the packets of an idle one dropped (keepalive), of a
 * busy one dropped (retransmissions), a busy one answered by ICMP host
 * unreachable. The child diagnoses each from its own failed call, the
 * library's verdict; status must count exactly those verdicts.
 */
START_TEST(deaths_counted_as_liveness_diagnose_judges_them)
{
	static const char *const names[] = {"closed",
					    "reset",
					    "refused",
					    "unreachable",
					    "keepalive-timeout",
					    "retransmit-timeout"};
	char d[8400], rules[256];
	int l[6], acc[6] = {-1, -1, -1, -1, -1, -1}, sync_fds[2], report[2], status;
	unsigned hist[16] = {0};
	struct linger lg = {1, 0};
	pid_t pid;
	char go = 'g';

	if (!ready("death causes"))
		return;
	make_cgroup("liveness-test-d", d, sizeof(d));
	{
		const char *args[] = {"attach", "--cgroup", d, "--budget", "3s", NULL};

		lv_ok(args);
	}
	for (int i = 0; i < 6; i++)
		l[i] = i == 2 ? -1 : tu_listen((uint16_t)(DEATH_PORT + i)); /* 2: refused */
	ck_assert_int_eq(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sync_fds), 0);
	ck_assert_int_eq(pipe2(report, O_CLOEXEC), 0);
	pid = fork();
	ck_assert_int_ge(pid, 0);
	if (pid == 0) {
		struct linger linger5 = {1, 5};
		struct pollfd pf[6];
		int left = 0, c[6];

		join(d);
		for (int i = 0; i < 6; i++) {
			c[i] = child_connect(DEATH_PORT + (unsigned)i);
			if (c[i] < 0) { /* refused: judged from connect()'s own error */
				int cause = liveness_diagnose(-1 - c[i], -1, errno);

				if (write(report[1], &cause, sizeof(cause)) != sizeof(cause))
					_exit(5);
				close(-1 - c[i]);
				continue;
			}
			pf[left++] = (struct pollfd){.fd = c[i], .events = POLLIN};
		}
		if (write(sync_fds[1], &go, 1) != 1 || read(sync_fds[1], &go, 1) != 1)
			_exit(6);
		/* Our data in flight on the two busy ones, after the faults are in place. */
		if (write(c[4], "x", 1) != 1 || write(c[5], "x", 1) != 1)
			_exit(7);
		while (left > 0) {
			char buf[64];

			if (poll(pf, (nfds_t)left, 20000) <= 0)
				_exit(8);
			for (int i = left - 1; i >= 0; i--) {
				ssize_t n;
				int cause;

				if (!pf[i].revents)
					continue;
				n = recv(pf[i].fd, buf, sizeof(buf), 0);
				cause = liveness_diagnose(pf[i].fd, n, n < 0 ? errno : 0);
				/*
				 * A lingering close() returns once the kernel has
				 * closed the socket (our FIN acknowledged, after the
				 * peer's): reported after it, each death is counted.
				 */
				setsockopt(pf[i].fd, SOL_SOCKET, SO_LINGER, &linger5,
					   sizeof(linger5));
				close(pf[i].fd);
				if (write(report[1], &cause, sizeof(cause)) != sizeof(cause))
					_exit(5);
				pf[i] = pf[--left];
			}
		}
		_exit(0);
	}
	close(report[1]);
	close(sync_fds[1]);
	ck_assert_int_eq(read(sync_fds[0], &go, 1), 1);
	for (int i = 0; i < 6; i++)
		if (l[i] >= 0)
			ck_assert_int_ge(acc[i] = accept(l[i], NULL, NULL), 0);
	tu_drop_port(DEATH_PORT + 3);
	tu_drop_port(DEATH_PORT + 4);
	snprintf(rules, sizeof(rules),
		 "table inet liveness_icmp {\n chain in { type filter hook input priority 0; "
		 "tcp dport %u reject with icmp type host-unreachable; }\n}\n",
		 DEATH_PORT + 5);
	tu_nft(rules);
	close(acc[0]);
	ck_assert_int_eq(setsockopt(acc[1], SOL_SOCKET, SO_LINGER, &lg, sizeof(lg)), 0);
	close(acc[1]);
	ck_assert_int_eq(write(sync_fds[0], &go, 1), 1);
	for (int n = 0; n < 6; n++) {
		int cause;

		ck_assert_msg(read(report[0], &cause, sizeof(cause)) == sizeof(cause),
			      "the child reported %d deaths", n);
		ck_assert(cause >= 0 && cause < 16);
		hist[cause]++;
	}
	ck_assert_int_eq(waitpid(pid, &status, 0), pid);
	ck_assert_msg(WIFEXITED(status) && WEXITSTATUS(status) == 0, "child: %d", status);
	/* The library's verdicts: one of each, as the faults were made. */
	for (int i = 0; i < 6; i++)
		ck_assert_msg(hist[LIVENESS_CLOSED + i] == 1, "liveness_diagnose: %u %s",
			      hist[LIVENESS_CLOSED + i], names[i]);
	for (int i = 0; i < 6; i++)
		ck_assert_msg(status_count(d, names[i]) == hist[LIVENESS_CLOSED + i],
			      "status counts %llu %s, liveness_diagnose judged %u",
			      status_count(d, names[i]), names[i], hist[LIVENESS_CLOSED + i]);
	ck_assert_int_eq(status_count(d, "other"), 0);
	ck_assert_int_eq(status_count(d, "configured"), 6);
	tu_undrop();
	tu_nft("delete table inet liveness_icmp\n");
	for (int i = 0; i < 6; i++) {
		if (l[i] >= 0)
			close(l[i]);
		if (i >= 2 && acc[i] >= 0)
			close(acc[i]);
	}
	close(report[0]);
	close(sync_fds[0]);
	{
		const char *args[] = {"detach", "--cgroup", d, NULL};

		lv_ok(args);
	}
	remove_test_cgroup(d);
}
END_TEST

/*
 * (i) Enforcement keeps the plan's promise, held to liveness_tcp_bound():
 * a child in a cgroup attached for 10 s sets random keepalive and
 * user-timeout settings of its own, some before connect() and some after,
 * and reads back what its socket holds. Each field is at least as strict
 * as the plan's, a field the program set stricter stays (the user timeout
 * may be shorter still), and the worst case, idle and busy, is no later
 * than the plan's. Under --no-enforce what the program set after connect()
 * stays as set.
 */
START_TEST(enforcement_keeps_the_plans_bound)
{
	enum { ROUNDS = 300 };
	char e[8400], why[512] = "";
	struct liveness_tcp plan;
	struct sp_result r;
	int l, msg[2], status;
	unsigned seed = (unsigned)time(NULL);
	pid_t pid;
	ssize_t n;

	if (!ready("enforcement"))
		return;
	ck_assert_int_eq(liveness_tcp_plan(&plan, 10 * LIVENESS_SEC), 0);
	make_cgroup("liveness-test-e", e, sizeof(e));
	l = tu_listen(DEATH_PORT + 6);
	printf("enforcement: seed %u\n", seed);
	for (int enforce = 1; enforce >= 0; enforce--) {
		const char *args[] = {"attach",	  "--cgroup", e,
				      "--budget", "10s",      enforce ? NULL : "--no-enforce",
				      NULL};

		lv(&r, args);
		ck_assert_msg(r.status == 0, "attach: %d %s", r.status, r.err);
		sp_free(&r);
		ck_assert_int_eq(pipe2(msg, O_CLOEXEC), 0);
		pid = fork();
		ck_assert_int_ge(pid, 0);
		if (pid == 0) {
			join(e);
			srand(seed);
			for (int k = 0; k < ROUNDS; k++) {
				static const int names[5] = {TCP_KEEPIDLE, TCP_KEEPINTVL,
							     TCP_KEEPCNT, TCP_USER_TIMEOUT,
							     SO_KEEPALIVE};
				int asked[5], set[5], fd = socket(AF_INET, SOCK_STREAM, 0), after;
				struct liveness_tcp t;
				struct sockaddr_in a = {.sin_family = AF_INET,
							.sin_port = htons(DEATH_PORT + 6)};
				char line[512];

				a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
				asked[0] = 1 + rand() % 30;
				asked[1] = 1 + rand() % 30;
				asked[2] = 1 + rand() % 20;
				asked[3] = rand() % 4 == 0 ? 0 : rand() % 30000;
				asked[4] = rand() % 2;
				after = rand() % 2;
				for (int i = 0; i < 5; i++)
					set[i] = rand() % 2;
				for (int pass = 0; pass < 2; pass++) {
					if (pass == 1 &&
					    connect(fd, (struct sockaddr *)&a, sizeof(a)) != 0)
						_exit(4);
					for (int i = 0; i < 5; i++)
						if (set[i] && (pass == 1) == (i % 2 == after))
							setsockopt(
								fd,
								i == 4 ? SOL_SOCKET : IPPROTO_TCP,
								names[i], &asked[i], sizeof(int));
				}
				if (liveness_tcp_get(fd, &t) != 0)
					_exit(5);
				close(fd);
				line[0] = '\0';
				if (enforce) {
					int keep_idle = set[0] && asked[0] <= plan.idle,
					    keep_intvl = set[1] && asked[1] <= plan.interval,
					    keep_cnt = set[2] && asked[2] <= plan.count;

					if (!t.keepalive || t.idle > plan.idle ||
					    t.interval > plan.interval || t.count > plan.count ||
					    t.user_timeout == 0 ||
					    t.user_timeout > plan.user_timeout ||
					    (keep_idle && t.idle != asked[0]) ||
					    (keep_intvl && t.interval != asked[1]) ||
					    (keep_cnt && t.count != asked[2]) ||
					    liveness_tcp_bound(&t, LIVENESS_IDLE) >
						    liveness_tcp_bound(&plan, LIVENESS_IDLE) ||
					    liveness_tcp_bound(&t, LIVENESS_BUSY) >
						    liveness_tcp_bound(&plan, LIVENESS_BUSY))
						snprintf(line, sizeof(line), "enforced");
				} else {
					for (int i = 0; i < 5; i++) {
						int got = i == 0   ? t.idle
							  : i == 1 ? t.interval
							  : i == 2 ? t.count
							  : i == 3 ? (int)t.user_timeout
								   : t.keepalive;

						/* Set after connect(): as set. Before it, the
						 * plan was applied at connect() over it. */
						int later = (i % 2 == after);

						if (set[i] && later &&
						    (i == 4 ? !!got != !!asked[i]
							    : got != asked[i]))
							snprintf(line, sizeof(line),
								 "not enforced");
					}
				}
				if (line[0]) {
					dprintf(msg[1],
						"%s, round %d: asked %d:%d:%d ut %d ka %d (set "
						"%d%d%d%d%d, "
						"%s connect); holds %d %d:%d:%d ut %u, bound idle "
						"%lld "
						"ms busy %lld ms",
						line, k, asked[0], asked[1], asked[2], asked[3],
						asked[4], set[0], set[1], set[2], set[3], set[4],
						after ? "odd ones after" : "even ones after",
						t.keepalive, t.idle, t.interval, t.count,
						t.user_timeout,
						(long long)(liveness_tcp_bound(&t, LIVENESS_IDLE) /
							    LIVENESS_MSEC),
						(long long)(liveness_tcp_bound(&t, LIVENESS_BUSY) /
							    LIVENESS_MSEC));
					_exit(1);
				}
			}
			_exit(0);
		}
		close(msg[1]);
		/* Drain the listener's queue as the child connects. */
		for (;;) {
			struct pollfd pf[2] = {{.fd = l, .events = POLLIN},
					       {.fd = msg[0], .events = POLLIN}};

			ck_assert_int_gt(poll(pf, 2, 20000), 0);
			if (pf[0].revents & POLLIN) {
				int c = accept(l, NULL, NULL);

				if (c >= 0)
					close(c);
			}
			if (pf[1].revents) {
				n = read(msg[0], why, sizeof(why) - 1);
				why[n > 0 ? n : 0] = '\0';
				break;
			}
		}
		close(msg[0]);
		ck_assert_int_eq(waitpid(pid, &status, 0), pid);
		ck_assert_msg(WIFEXITED(status) && WEXITSTATUS(status) == 0, "seed %u: %d %s", seed,
			      status, why);
	}
	close(l);
	{
		const char *args[] = {"detach", "--cgroup", e, NULL};

		lv_ok(args);
	}
	remove_test_cgroup(e);
}
END_TEST

/*
 * (j) An attachment reaches the cgroup's children: a connection a child
 * cgroup's process made before the attach (--retrofit) and one made after.
 * attach again with another budget changes the settings of new
 * connections at once. --unit finds the cgroup as systemctl names it (a
 * stand-in systemctl first in PATH here: the test machine runs no systemd),
 * for attach, status and detach alike.
 */
START_TEST(attach_covers_children_changes_live_and_names_units)
{
	char u[8400], sub[8500], fake[64], script[128], path_env[4200];
	char *env[] = {path_env, NULL};
	struct liveness_tcp p10, p20;
	struct holder h;
	struct sp_result r;
	FILE *f;

	if (!ready("attach --unit"))
		return;
	ck_assert_int_eq(liveness_tcp_plan(&p10, 10 * LIVENESS_SEC), 0);
	ck_assert_int_eq(liveness_tcp_plan(&p20, 20 * LIVENESS_SEC), 0);
	ck_assert_int_ne(p10.idle, p20.idle);
	make_cgroup("liveness-test-u", u, sizeof(u));
	snprintf(sub, sizeof(sub), "%s/sub", u);
	ck_assert_int_eq(mkdir(sub, 0755), 0);
	snprintf(fake, sizeof(fake), "/tmp/liveness-fake-systemd-%d", (int)getpid());
	ck_assert_int_eq(mkdir(fake, 0755), 0);
	snprintf(script, sizeof(script), "%s/systemctl", fake);
	f = fopen(script, "w");
	ck_assert_ptr_nonnull(f);
	/* systemctl show --property=ControlGroup --value -- UNIT: the cgroup under the mount. */
	fprintf(f,
		"#!/bin/sh\nfor a; do unit=$a; done\n[ \"$unit\" = fake.service ] || exit 1\n"
		"echo '%s'\n",
		u + strlen(cg_mount));
	fclose(f);
	ck_assert_int_eq(chmod(script, 0755), 0);
	snprintf(path_env, sizeof(path_env), "PATH=%s:%s", fake, getenv("PATH"));

	hold(&h, sub);
	ck_assert_int_eq(held_idle(&h), 0);
	{
		char *argv[] = {(char *)liveness(), "attach", "--unit",	    "fake.service",
				"--budget",	    "10s",    "--retrofit", NULL};

		sp_run(argv, env, RUN_TIMEOUT, &r);
		ck_assert_msg(r.status == 0 && strstr(r.out, "attached to ") && strstr(r.out, u),
			      "%d %s %s", r.status, r.out, r.err);
		ck_assert_msg(strstr(r.out, "\nliveness: attach: 1 existing connections given"),
			      "%s", r.out);
		sp_free(&r);
	}
	ck_assert_int_eq(held_idle(&h), p10.idle); /* the child cgroup's, made before */
	ck_assert_int_eq(keepalive_in(sub), p10.idle);
	{
		char *argv[] = {(char *)liveness(), "attach", "--unit", "fake.service",
				"--budget",	    "20s",    NULL};

		sp_run(argv, env, RUN_TIMEOUT, &r);
		ck_assert_msg(r.status == 0 && strstr(r.out, "attach: changed "), "%d %s %s",
			      r.status, r.out, r.err);
		sp_free(&r);
	}
	ck_assert_int_eq(keepalive_in(u), p20.idle);
	ck_assert_int_eq(keepalive_in(sub), p20.idle);
	ck_assert_int_eq(held_idle(&h), p10.idle); /* what a connection was given, it keeps */
	{
		char *argv[] = {(char *)liveness(), "status", "--unit",
				"fake.service",	    "--json", NULL};
		char want[32];

		sp_run(argv, env, RUN_TIMEOUT, &r);
		snprintf(want, sizeof(want), "\"idle_s\": %d,", p20.idle);
		ck_assert_msg(r.status == 0 && strstr(r.out, want) &&
				      strstr(r.out, "\"retrofitted\": 1,"),
			      "%d %s %s", r.status, r.out, r.err);
		sp_free(&r);
	}
	{
		char *argv[] = {(char *)liveness(), "detach", "--unit", "fake.service", NULL};

		sp_run(argv, env, RUN_TIMEOUT, &r);
		ck_assert_msg(r.status == 0, "%d %s", r.status, r.err);
		sp_free(&r);
	}
	ck_assert_int_eq(keepalive_in(sub), 0);
	unhold(&h);
	unlink(script);
	rmdir(fake);
	ck_assert_int_eq(rmdir(sub), 0);
	remove_test_cgroup(u);
}
END_TEST

/*
 * (g) run --bpf --deaths counts how the program's connections ended: one
 * whose peer closed in order, one its peer reset (SO_LINGER 0), as the
 * kernel ended them, and prints them when the program exits.
 */
START_TEST(run_counts_deaths_by_cause)
{
	struct proc srv;
	char lvp[4096], path[4096], port[16], want[32];
	char *argv[] = {lvp, "run", "--bpf", "--budget", "10s", "--deaths", "--", path, port, NULL};
	struct linger lg = {1, 0};
	unsigned l1, l2;
	int c1, c2;

	if (!ready("deaths"))
		return;
	snprintf(lvp, sizeof(lvp), "%s", liveness());
	sp_path(path, sizeof(path), "tests/bpf-server");
	snprintf(port, sizeof(port), "%d", SERVER_PORT);
	start(&srv, argv);
	wait_line(&srv, "listening ", 5 * LIVENESS_SEC);
	ck_assert_int_eq(sp_wait_listen(SERVER_PORT, 5 * LIVENESS_SEC), 1);
	c1 = connect_port(SERVER_PORT, &l1);
	c2 = connect_port(SERVER_PORT, &l2);
	snprintf(want, sizeof(want), "accepted %u", l2);
	wait_line(&srv, want, 5 * LIVENESS_SEC);
	close(c1);
	snprintf(want, sizeof(want), "closed %u", l1);
	wait_line(&srv, want, 5 * LIVENESS_SEC);
	ck_assert_int_eq(setsockopt(c2, SOL_SOCKET, SO_LINGER, &lg, sizeof(lg)), 0);
	close(c2);
	snprintf(want, sizeof(want), "lost %u ECONNRESET", l2);
	wait_line(&srv, want, 5 * LIVENESS_SEC);
	ck_assert_int_eq(kill(srv.pid, SIGTERM), 0);
	wait_text(&srv,
		  "liveness: run: 2 connections configured, 0 settings of the program "
		  "raised; deaths: closed 1, reset 1, refused 0, unreachable 0, "
		  "keepalive-timeout 0, retransmit-timeout 0, other 0\n",
		  5 * LIVENESS_SEC);
	ck_assert_int_eq(finish(&srv), 128 + SIGTERM);
}
END_TEST

#else /* !LIVENESS_HAVE_BPF */

/*
 * Without the BPF part, run --bpf says so in one line and exits 2; the
 * suite's other tests cannot run (a failure where they are required).
 */
START_TEST(without_the_bpf_part_run_says_so)
{
	const char *req = getenv("LIVENESS_REQUIRE_NETNS");
	char *argv[] = {(char *)liveness(), "run", "--bpf", "--budget", "10s", "--", "true", NULL};
	struct sp_result r;

	sp_run(argv, NULL, RUN_TIMEOUT, &r);
	ck_assert_int_eq(r.status, 2);
	assert_one_line(&r, "no BPF part");
	ck_assert_msg(strstr(r.err, "no BPF part"), "%s", r.err);
	sp_free(&r);
	/* So do attach, detach and status, before looking for any cgroup. */
	{
		static const char *const cmds[][6] = {
			{"attach", "--cgroup", "/", "--budget", "10s", NULL},
			{"detach", "--cgroup", "/", NULL},
			{"status", NULL},
		};

		for (size_t i = 0; i < sizeof(cmds) / sizeof(cmds[0]); i++) {
			char *av[8] = {(char *)liveness()};

			for (size_t k = 0; cmds[i][k]; k++)
				av[k + 1] = (char *)cmds[i][k];
			sp_run(av, NULL, RUN_TIMEOUT, &r);
			ck_assert_msg(r.status == 2 && strstr(r.err, "no BPF part") &&
					      strchr(r.err, '\n') == r.err + strlen(r.err) - 1,
				      "%s: %d %s", cmds[i][0], r.status, r.err);
			sp_free(&r);
		}
	}
	if (req && strcmp(req, "1") == 0)
		ck_abort_msg("bpf: required here (LIVENESS_REQUIRE_NETNS=1) but this build has no "
			     "BPF part (libbpf-dev, clang, bpftool)");
	printf("SKIP bpf: this build has no BPF part (libbpf-dev, clang, bpftool)\n");
	fflush(stdout);
}
END_TEST

#endif

Suite *bpf_suite(void);

Suite *bpf_suite(void)
{
	Suite *s = suite_create("bpf");
	TCase *tc = tcase_create("run");

#ifdef LIVENESS_HAVE_BPF
	tcase_add_test(tc, plan_reaches_static_programs_and_nothing_else);
	tcase_add_test(tc, static_server_detects_a_vanished_peer_in_budget);
	tcase_add_test(tc, status_passes_through_and_nothing_stays);
	tcase_add_test(tc, bad_input_and_no_rights_leave_nothing);
	tcase_add_test(tc, run_counts_deaths_by_cause);
#else
	tcase_add_test(tc, without_the_bpf_part_run_says_so);
#endif
	tcase_set_timeout(tc, 60);
	suite_add_tcase(s, tc);
#ifdef LIVENESS_HAVE_BPF
	tc = tcase_create("attach");
#ifdef LIVENESS_HAVE_GO
	tcase_add_test(tc, attach_reaches_running_servers_of_every_kind);
#endif
	tcase_add_test(tc, attach_refuses_bad_input_and_survives_sigkill);
	tcase_add_test(tc, deaths_counted_as_liveness_diagnose_judges_them);
	tcase_add_test(tc, enforcement_keeps_the_plans_bound);
	tcase_add_test(tc, attach_covers_children_changes_live_and_names_units);
	tcase_set_timeout(tc, 90);
	suite_add_tcase(s, tc);
#endif
	return s;
}
