/*
 * liveness doctor: what this system does with dead peers today and what
 * limits how many connections it can hold, each judged against a target
 * (--connections N, --budget T) with what to change when it falls short.
 *
 * Everything is read from /proc and getrlimit() except the memory an idle
 * connection costs, which is measured: N loopback connection pairs are
 * opened, each socket watched with epoll as a server watches its
 * connections, and the growth of the kernel's slab memory (the objects of
 * every /proc/slabinfo cache, or /proc/meminfo Slab without root) and TCP
 * buffer memory (/proc/net/sockstat "TCP: mem", pages) is divided by the
 * number of sockets. The sockets are then reset, leaving nothing behind.
 *
 * --json tells the same as one JSON object: each check writes its text and
 * its JSON members from the same code (the writer does nothing unless JSON
 * is on; item() and more() print nothing when it is), and liveness(1)
 * lists the keys.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/utsname.h>
#include <unistd.h>

#include "cli.h"
#include "duration.h"
#include "json.h"
#include "settings.h"

#define SPARE_FDS 64	  /* descriptors a server needs besides its connections */
#define SAMPLE_PAIRS 1000 /* loopback pairs opened to measure memory */
#define TIME_WAIT_S 60	  /* TCP_TIMEWAIT_LEN */
#define PROBE_BYTES 132	  /* a probe and its ACK: 2 x (14 + 20 + 32) bytes on Ethernet */

static const char doctor_usage[] =
	"usage: liveness doctor [--connections N] [--budget BUDGET] [--no-measure]\n"
	"\n"
	"What this system does today with a peer that vanishes, and what limits the number\n"
	"of connections it can hold: keepalive and retransmission defaults and their bounds,\n"
	"open-file limits, the local port range, connection tracking and kernel memory per\n"
	"idle connection (measured by opening 1000 loopback connection pairs; --no-measure\n"
	"skips that). Each item is judged for N connections (default 10000) and a detection\n"
	"budget (default 60s), with what to change. --json prints one JSON object instead.\n"
	"Exit status 1 when something needs a change.\n";

struct target {
	unsigned long long conns;
	liveness_time budget;
	struct liveness_tcp plan;
	char budget_text[40];
	int measure; /* open connections to measure memory */
};

static int changes;
static struct lvt_json J; /* on with --json */

static void item(const char *status, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void more(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

static void item(const char *status, const char *fmt, ...)
{
	va_list ap;
	char tag[16];

	if (strcmp(status, "CHANGE") == 0)
		changes++;
	if (J.on) {
		lvt_json_str(&J, "status", strcmp(status, "CHANGE") == 0 ? "change" : status);
		return;
	}
	snprintf(tag, sizeof(tag), "[%s]", status);
	printf("\n%-8s ", tag);
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	putchar('\n');
}

static void more(const char *fmt, ...)
{
	va_list ap;

	if (J.on)
		return;
	printf("         ");
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	putchar('\n');
}

/* A value read from /proc, -1 when it could not be: null in the JSON. */
static void json_known(const char *key, long long v)
{
	if (v < 0)
		lvt_json_null(&J, key);
	else
		lvt_json_int(&J, key, v);
}

/* A resource limit: null when there is none. */
static void json_limit(const char *key, rlim_t v)
{
	if (v == RLIM_INFINITY)
		lvt_json_null(&J, key);
	else
		lvt_json_uint(&J, key, (unsigned long long)v);
}

/* The first numbers of a /proc file; returns how many were read. */
static int read_nums(const char *path, long long *v, int n)
{
	FILE *f = fopen(path, "re");
	int i = 0;

	if (!f)
		return 0;
	while (i < n && fscanf(f, "%lld", &v[i]) == 1)
		i++;
	fclose(f);
	return i;
}

/* A "Key: value" number from a file such as /proc/meminfo; -1 if absent. */
static long long read_key(const char *path, const char *key)
{
	char line[256];
	size_t n = strlen(key);
	long long v = -1;
	FILE *f = fopen(path, "re");

	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f))
		if (strncmp(line, key, n) == 0 && sscanf(line + n, "%lld", &v) == 1)
			break;
	fclose(f);
	return v;
}

/* "TCP: inuse 5 orphan 0 tw 0 alloc 7 mem 2": the mem field, pages. */
static long long sockstat_tcp_mem(void)
{
	char line[256];
	long long v = -1;
	FILE *f = fopen("/proc/net/sockstat", "re");

	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f)) {
		char *m = strstr(line, " mem ");
		if (strncmp(line, "TCP:", 4) == 0 && m && sscanf(m + 5, "%lld", &v) == 1)
			break;
	}
	fclose(f);
	return v;
}

static const char *fmt_bytes(double b, char *buf, size_t len)
{
	if (b >= 1e9)
		snprintf(buf, len, "%.1f GB", b / 1e9);
	else if (b >= 1e6)
		snprintf(buf, len, "%.1f MB", b / 1e6);
	else if (b >= 1e3)
		snprintf(buf, len, "%.1f KB", b / 1e3);
	else
		snprintf(buf, len, "%.0f bytes", b);
	return buf;
}

static void check_keepalive(const struct target *g)
{
	struct liveness_tcp sys;
	char a[32], b[32], c[64];
	liveness_time worst;
	int r;

	if ((r = liveness_tcp_system(&sys)) < 0) {
		item("note", "keepalive: cannot read the defaults: %s", liveness_strerror(r));
		return;
	}
	sys.keepalive = 1;
	worst = liveness_tcp_bound(&sys, LIVENESS_IDLE);
	lvt_json_uint(&J, "idle_s", (unsigned)sys.idle);
	lvt_json_uint(&J, "interval_s", (unsigned)sys.interval);
	lvt_json_uint(&J, "count", (unsigned)sys.count);
	lvt_json_ns(&J, "bound_idle_nominal_ns",
		    liveness_tcp_bound(&sys, LIVENESS_IDLE | LIVENESS_NOMINAL));
	lvt_json_ns(&J, "bound_idle_ns", worst);
	item(worst <= g->budget ? "ok" : "CHANGE",
	     "keepalive: off unless a program turns it on; then probes after %d s, every %d s, "
	     "%d of them (net.ipv4.tcp_keepalive_time, _intvl, _probes)",
	     sys.idle, sys.interval, sys.count);
	more("an idle connection to a vanished peer ends %s after its last packet, %s worst "
	     "(liveness_tcp_bound); without SO_KEEPALIVE, never",
	     lvt_fmt_sec(liveness_tcp_bound(&sys, LIVENESS_IDLE | LIVENESS_NOMINAL), a, sizeof(a)),
	     lvt_fmt_sec(worst, b, sizeof(b)));
	more("budget %s: per socket, 'liveness run --budget %s -- PROGRAM' or "
	     "liveness_tcp_plan(3) and liveness_tcp_set(3)",
	     lvt_fmt_long(g->budget, c, sizeof(c)), g->budget_text);
	if (worst > g->budget)
		more("or for sockets that turn keepalive on: sysctl -w "
		     "net.ipv4.tcp_keepalive_time=%d "
		     "net.ipv4.tcp_keepalive_intvl=%d net.ipv4.tcp_keepalive_probes=%d",
		     g->plan.idle, g->plan.interval, g->plan.count);
}

static void check_retries(const struct target *g)
{
	struct liveness_tcp sys;
	long long retries = 15;
	char a[32], b[32], c[64];
	liveness_time worst;

	if (liveness_tcp_system(&sys) < 0) {
		struct liveness_tcp dflt = {1, 7200, 75, 9, 0, -1};
		sys = dflt;
	}
	sys.user_timeout = 0;
	if (read_nums("/proc/sys/net/ipv4/tcp_retries2", &retries, 1) != 1)
		retries = 15;
	worst = liveness_tcp_bound(&sys, LIVENESS_BUSY);
	lvt_json_int(&J, "tcp_retries2", retries);
	lvt_json_ns(&J, "bound_busy_nominal_ns",
		    liveness_tcp_bound(&sys, LIVENESS_BUSY | LIVENESS_NOMINAL));
	lvt_json_ns(&J, "bound_busy_ns", worst);
	item(worst <= g->budget ? "ok" : "CHANGE", "retransmissions: net.ipv4.tcp_retries2 = %lld",
	     retries);
	/*
	 * The library's model is the only one printed: ip-sysctl.rst's figure
	 * for the same setting is earlier, and liveness_tcp_plan(3) says why.
	 */
	more("a connection whose data goes unacknowledged ends %s after the write, %s worst "
	     "(liveness_tcp_bound; liveness_tcp_plan(3) explains the difference from "
	     "ip-sysctl.rst)",
	     lvt_fmt_sec(liveness_tcp_bound(&sys, LIVENESS_BUSY | LIVENESS_NOMINAL), a, sizeof(a)),
	     lvt_fmt_sec(worst, b, sizeof(b)));
	more("budget %s: TCP_USER_TIMEOUT %u ms per socket ('liveness run --budget %s' sets it); "
	     "lowering tcp_retries2 changes every connection of the system",
	     lvt_fmt_long(g->budget, c, sizeof(c)), g->plan.user_timeout, g->budget_text);
}

static void check_files(const struct target *g)
{
	unsigned long long need = g->conns + SPARE_FDS;
	struct rlimit rl = {0, 0};
	long long nr_open = -1, file_max = -1, file_nr[3] = {-1, -1, -1};
	int soft_ok, hard_ok, nr_ok, max_ok;

	getrlimit(RLIMIT_NOFILE, &rl);
	read_nums("/proc/sys/fs/nr_open", &nr_open, 1);
	read_nums("/proc/sys/fs/file-max", &file_max, 1);
	read_nums("/proc/sys/fs/file-nr", file_nr, 3);
	soft_ok = rl.rlim_cur == RLIM_INFINITY || rl.rlim_cur >= need;
	hard_ok = rl.rlim_max == RLIM_INFINITY || rl.rlim_max >= need;
	nr_ok = nr_open < 0 || (unsigned long long)nr_open >= need;
	max_ok = file_max < 0 || (unsigned long long)file_max >= need;
	lvt_json_uint(&J, "needed", need);
	json_limit("soft_limit", rl.rlim_cur);
	json_limit("hard_limit", rl.rlim_max);
	json_known("nr_open", nr_open);
	json_known("file_max", file_max);
	json_known("open_now", file_nr[0]);
	item(soft_ok && hard_ok && nr_ok && max_ok ? "ok" : "CHANGE",
	     "open files: %llu connections need %llu descriptors (one each, %d spare)", g->conns,
	     need, SPARE_FDS);
	more("soft limit (ulimit -n, this shell's; a service's comes from its unit) %llu: %s",
	     (unsigned long long)rl.rlim_cur, soft_ok ? "ok" : "too low");
	if (!soft_ok)
		more("  raise it: ulimit -n %llu, or LimitNOFILE=%llu in the service's systemd "
		     "unit",
		     need, need);
	more("hard limit %llu: %s", (unsigned long long)rl.rlim_max, hard_ok ? "ok" : "too low");
	if (!hard_ok)
		more("  raise it with the soft one: LimitNOFILE=%llu, or nofile in "
		     "/etc/security/limits.conf",
		     need);
	more("fs.nr_open %lld (the most one process may have): %s", nr_open,
	     nr_ok ? "ok" : "too low");
	if (!nr_ok)
		more("  raise it: sysctl -w fs.nr_open=%llu", need);
	more("fs.file-max %lld (all processes; %lld open now): %s", file_max, file_nr[0],
	     max_ok ? "ok" : "too low");
	if (!max_ok)
		more("  raise it: sysctl -w fs.file-max=%llu", need * 2);
}

static void check_ports(const struct target *g)
{
	long long range[2] = {32768, 60999}, reuse = -1;
	unsigned long long ports, sources;

	if (read_nums("/proc/sys/net/ipv4/ip_local_port_range", range, 2) != 2) {
		item("note", "ports: cannot read net.ipv4.ip_local_port_range");
		return;
	}
	read_nums("/proc/sys/net/ipv4/tcp_tw_reuse", &reuse, 1);
	ports = range[1] >= range[0] ? (unsigned long long)(range[1] - range[0] + 1) : 0;
	sources = ports ? (g->conns + ports - 1) / ports : 0;
	lvt_json_int(&J, "first", range[0]);
	lvt_json_int(&J, "last", range[1]);
	lvt_json_uint(&J, "ports", ports);
	json_known("tcp_tw_reuse", reuse);
	lvt_json_uint(&J, "source_addresses_needed", sources);
	lvt_json_uint(&J, "new_connections_per_s", ports / TIME_WAIT_S);
	item(g->conns <= ports ? "ok" : "note",
	     "ports: net.ipv4.ip_local_port_range %lld %lld: %llu local ports", range[0], range[1],
	     ports);
	more("a server is not limited by them: its connections differ in the client's address "
	     "and port (the 4-tuple)");
	if (g->conns <= ports)
		more("a client reaches one server address and port with at most %llu connections "
		     "per source address: %llu fit",
		     ports, g->conns);
	else
		more("a client reaches one server address and port with at most %llu connections "
		     "per source address: %llu connections need %llu source addresses, or as many "
		     "server addresses or ports",
		     ports, g->conns, sources);
	more("a client that closes first holds its port %d s in TIME_WAIT: at most %llu new "
	     "connections a second to one server address and port (net.ipv4.tcp_tw_reuse = %lld)",
	     TIME_WAIT_S, ports / TIME_WAIT_S, reuse);
}

static void check_conntrack(const struct target *g)
{
	long long max = -1, count = -1, established = -1;

	read_nums("/proc/sys/net/netfilter/nf_conntrack_max", &max, 1);
	lvt_json_bool(&J, "loaded", max >= 0);
	if (max < 0) {
		item("ok", "connection tracking: not loaded (no net.netfilter.nf_conntrack_max): "
			   "no limit here");
		return;
	}
	read_nums("/proc/sys/net/netfilter/nf_conntrack_count", &count, 1);
	read_nums("/proc/sys/net/netfilter/nf_conntrack_tcp_timeout_established", &established, 1);
	lvt_json_int(&J, "max", max);
	json_known("tracked", count);
	json_known("timeout_established_s", established);
	item((unsigned long long)max >= g->conns ? "ok" : "CHANGE",
	     "connection tracking: nf_conntrack_max %lld (%lld tracked now)", max, count);
	if ((unsigned long long)max < g->conns)
		more("%llu tracked connections need as many entries: sysctl -w "
		     "net.netfilter.nf_conntrack_max=%llu, or exempt the port with an nftables "
		     "notrack rule",
		     g->conns, g->conns);
	if (established >= 0)
		more("an idle tracked connection is forgotten after %lld s "
		     "(nf_conntrack_tcp_timeout_established); keepalive every %d s keeps it",
		     established, g->plan.idle);
}

/* Whether a file system of type fstype is mounted (/proc/self/mountinfo). */
static int mounted(const char *fstype)
{
	FILE *f = fopen("/proc/self/mountinfo", "r");
	char line[4096], type[64];
	int found = 0;

	if (!f)
		return 0;
	while (!found && fgets(line, sizeof(line), f)) {
		const char *sep = strstr(line, " - ");

		found = sep && sscanf(sep + 3, "%63s", type) == 1 && strcmp(type, fstype) == 0;
	}
	fclose(f);
	return found;
}

/* Whether capability cap is in this process's effective set (/proc/self/status CapEff). */
static int capable(int cap)
{
	FILE *f = fopen("/proc/self/status", "r");
	char line[256];
	unsigned long long eff = 0;

	if (!f)
		return 0;
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, "CapEff: %llx", &eff) == 1)
			break;
	fclose(f);
	return (int)(eff >> cap & 1);
}

/*
 * What kernel-side enforcement for a whole cgroup (a sock_ops BPF program)
 * would need here: Linux 5.15 or later (bpf_setsockopt() takes the
 * keepalive options and TCP_USER_TIMEOUT since 5.9, net/core/filter.c; the
 * tcp iterator may call it since 5.14, a cgroup/setsockopt program since
 * 5.15, kernel/bpf/cgroup.c's cg_sockopt_func_proto()), a cgroup2
 * file system, kernel BTF, a BPF file system to pin attachments in, and
 * CAP_BPF (39), CAP_NET_ADMIN (12) and CAP_PERFMON (38). Whether this
 * build has the BPF part (run --bpf, attach, detach, status) comes first; the rest tells
 * what the machine offers. A note, never a change: the shim and the
 * library need none of it.
 */
static void check_bpf(const struct target *g)
{
	struct utsname u;
	int major = 0, minor = 0, kernel_ok, cgroup2 = mounted("cgroup2"), bpffs = mounted("bpf");
	int btf = access("/sys/kernel/btf/vmlinux", R_OK) == 0;
	int cap_bpf = capable(39), cap_net_admin = capable(12), cap_perfmon = capable(38);
	char missing[256] = "";
#ifdef LIVENESS_HAVE_BPF
	const int built = 1;
#else
	const int built = 0;
#endif

	(void)g;
	if (uname(&u) != 0 || sscanf(u.release, "%d.%d", &major, &minor) != 2)
		major = minor = 0;
	kernel_ok = major > 5 || (major == 5 && minor >= 15);
	lvt_json_bool(&J, "built", built);
	lvt_json_bool(&J, "kernel", kernel_ok);
	lvt_json_bool(&J, "cgroup2", cgroup2);
	lvt_json_bool(&J, "btf", btf);
	lvt_json_bool(&J, "bpffs", bpffs);
	lvt_json_bool(&J, "cap_bpf", cap_bpf);
	lvt_json_bool(&J, "cap_net_admin", cap_net_admin);
	lvt_json_bool(&J, "cap_perfmon", cap_perfmon);
#define MISSING(cond, what)                                                                        \
	if (!(cond))                                                                               \
	snprintf(missing + strlen(missing), sizeof(missing) - strlen(missing), "%s%s",             \
		 missing[0] ? ", " : "", what)
	MISSING(kernel_ok, "Linux 5.15 or later");
	MISSING(cgroup2, "a cgroup2 file system");
	MISSING(btf, "kernel BTF (/sys/kernel/btf/vmlinux)");
	MISSING(cap_bpf, "CAP_BPF");
	MISSING(cap_net_admin, "CAP_NET_ADMIN");
	MISSING(cap_perfmon, "CAP_PERFMON");
#undef MISSING
	if (built)
		item("note", "BPF enforcement for a cgroup: built in: liveness run --bpf, attach, "
			     "detach, status");
	else
		item("note",
		     "BPF enforcement for a cgroup: not built into this version of liveness");
	if (missing[0])
		more("this machine lacks: %s", missing);
	else
		more("this machine has what it needs: Linux %d.%d, cgroup2, BTF, CAP_BPF, "
		     "CAP_NET_ADMIN, CAP_PERFMON",
		     major, minor);
	more("a BPF file system to pin attachments in: %s",
	     bpffs ? "mounted" : "not mounted (liveness attach mounts one on /sys/fs/bpf)");
	if (!built)
		more("until then: liveness run for a program you start, liveness audit for what "
		     "runs");
}

/*
 * Bytes of each slab cache, keyed by line: its active objects, each at its
 * share of a slab (pagesperslab pages over objperslab objects), which is
 * what free memory loses per object at scale; the object size alone leaves
 * out the slab's unused tail (6 % of the TCP cache), and counting whole
 * slabs would miss the objects that went into partly filled ones.
 */
struct slab {
	char name[64];
	long long bytes;
};

static int read_slabs(struct slab *s, int max)
{
	char line[512];
	int n = 0;
	long page = sysconf(_SC_PAGESIZE);
	FILE *f = fopen("/proc/slabinfo", "re");

	if (!f)
		return -1;
	while (n < max && fgets(line, sizeof(line), f)) {
		long long active, total, size, per_slab, pages, slabs_active, slabs;
		if (sscanf(line,
			   "%63s %lld %lld %lld %lld %lld : tunables %*d %*d %*d : slabdata %lld "
			   "%lld",
			   s[n].name, &active, &total, &size, &per_slab, &pages, &slabs_active,
			   &slabs) == 8) {
			s[n].bytes =
				per_slab > 0 ? active * pages * page / per_slab : active * size;
			n++;
		}
	}
	fclose(f);
	return n;
}

struct sample {
	long long slab_kb, tcp_pages, avail_kb;
};

static void take(struct sample *s)
{
	s->slab_kb = read_key("/proc/meminfo", "Slab:");
	s->tcp_pages = sockstat_tcp_mem();
	s->avail_kb = read_key("/proc/meminfo", "MemAvailable:");
}

/*
 * Open up to want pairs; returns how many, their fds in fds[2 * i], fds[2 * i + 1].
 * Each socket goes into the epoll set ep (when ep >= 0): a server watching its
 * connections holds an epoll entry for each, part of what a connection costs.
 */
static int open_pairs(int *fds, int want, int ep)
{
	struct sockaddr_in a = {.sin_family = AF_INET};
	socklen_t len = sizeof(a);
	int l = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0), n;

	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (l < 0 || bind(l, (struct sockaddr *)&a, sizeof(a)) != 0 || listen(l, 128) != 0 ||
	    getsockname(l, (struct sockaddr *)&a, &len) != 0) {
		if (l >= 0)
			close(l);
		return 0;
	}
	for (n = 0; n < want; n++) {
		int c = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0), s;
		if (c < 0)
			break;
		if (connect(c, (struct sockaddr *)&a, sizeof(a)) != 0 ||
		    (s = accept4(l, NULL, NULL, SOCK_CLOEXEC)) < 0) {
			close(c);
			break;
		}
		fds[2 * n] = c;
		fds[2 * n + 1] = s;
		for (int k = 0; ep >= 0 && k < 2; k++) {
			struct epoll_event ev = {.events = EPOLLIN | EPOLLRDHUP};
			ev.data.fd = fds[2 * n + k];
			epoll_ctl(ep, EPOLL_CTL_ADD, fds[2 * n + k], &ev);
		}
	}
	close(l);
	return n;
}

static int cmp_slab(const void *a, const void *b)
{
	const struct slab *x = a, *y = b;

	return x->bytes < y->bytes ? 1 : x->bytes > y->bytes ? -1 : 0;
}

/* Why the memory was not measured, for the JSON. */
static void not_measured(const char *reason)
{
	lvt_json_bool(&J, "measured", 0);
	lvt_json_str(&J, "reason", reason);
}

static void check_memory(const struct target *g)
{
	static struct slab before[1024], after[1024];
	struct sample s0, s1;
	struct rlimit old, raised;
	int *fds, pairs, i, j, nb, na, ep, want = SAMPLE_PAIRS;
	long page = sysconf(_SC_PAGESIZE);
	double per, sockets, need;
	long long slab = 0;
	const char *method = "", *method_key = NULL;
	char a[32], b[32], c[32];
	long long tcp_mem[3] = {-1, -1, -1};

	if (!g->measure) {
		not_measured("disabled");
		item("note", "memory: not measured (--no-measure)");
		return;
	}
	/* Room for the sample: the soft descriptor limit up to the hard one, for now. */
	getrlimit(RLIMIT_NOFILE, &old);
	raised = old;
	if (raised.rlim_cur != RLIM_INFINITY && raised.rlim_cur < (rlim_t)(2 * want + 32)) {
		raised.rlim_cur = raised.rlim_max;
		setrlimit(RLIMIT_NOFILE, &raised);
		getrlimit(RLIMIT_NOFILE, &raised);
		if (raised.rlim_cur != RLIM_INFINITY && raised.rlim_cur < (rlim_t)(2 * want + 32))
			want = (int)((raised.rlim_cur - 32) / 2);
	}
	if (want < 100 || !(fds = malloc(sizeof(int) * 2 * (size_t)want))) {
		not_measured("descriptors");
		item("note", "memory: not measured: too few descriptors to open a sample");
		setrlimit(RLIMIT_NOFILE, &old);
		return;
	}
	ep = epoll_create1(EPOLL_CLOEXEC);
	nb = read_slabs(before, 1024);
	take(&s0);
	pairs = open_pairs(fds, want, ep);
	take(&s1);
	na = read_slabs(after, 1024);
	for (i = 0; i < 2 * pairs; i++)
		liveness_abort(fds[i]); /* RST: no TIME_WAIT or orphan left behind */
	if (ep >= 0)
		close(ep);
	free(fds);
	setrlimit(RLIMIT_NOFILE, &old);

	sockets = 2.0 * pairs;
	/*
	 * /proc/slabinfo counts objects exactly; the Slab line of /proc/meminfo
	 * is a vmstat counter whose per-CPU deltas are folded in lazily, so it
	 * lags by up to a few MB and serves only when slabinfo is unreadable
	 * (it needs root).
	 */
	if (nb > 0 && na > 0) {
		for (i = 0; i < na; i++) {
			for (j = 0; j < nb; j++)
				if (strcmp(before[j].name, after[i].name) == 0) {
					after[i].bytes -= before[j].bytes;
					break;
				}
			if (j == nb)
				after[i].bytes = 0; /* a cache created meanwhile is not ours */
			slab += after[i].bytes;
		}
		method = "objects of every /proc/slabinfo cache, each with its share of a slab";
		method_key = "slabinfo";
	} else if (s0.slab_kb >= 0 && s1.slab_kb >= 0) {
		slab = (s1.slab_kb - s0.slab_kb) * 1024;
		method = "Slab in /proc/meminfo (coarse: /proc/slabinfo needs root)";
		method_key = "meminfo";
	}
	if (s0.tcp_pages >= 0 && s1.tcp_pages >= 0)
		slab += (s1.tcp_pages - s0.tcp_pages) * page;
	per = (double)slab / (sockets > 0 ? sockets : 1);
	if (pairs < 100 || per <= 0) {
		not_measured("no_growth");
		item("note",
		     "memory: not measured: %d loopback pairs opened, and memory did not grow "
		     "measurably",
		     pairs);
		return;
	}
	need = per * (double)g->conns;
	lvt_json_bool(&J, "measured", 1);
	lvt_json_int(&J, "pairs", pairs);
	lvt_json_str(&J, "method", method_key);
	lvt_json_uint(&J, "bytes_per_connection", (unsigned long long)(per + 0.5));
	json_known("available_bytes", s0.avail_kb < 0 ? -1 : s0.avail_kb * 1024);
	json_known("connections_available",
		   s0.avail_kb < 0 ? -1 : (long long)((double)s0.avail_kb * 1024 / per));
	lvt_json_uint(&J, "needed_bytes", (unsigned long long)(need + 0.5));
	item(need <= (double)s0.avail_kb * 1024 / 2 ? "ok" : "CHANGE",
	     "memory: %s of kernel memory per idle connection, measured here",
	     fmt_bytes(per, a, sizeof(a)));
	more("method: %d loopback connection pairs opened, each socket in an epoll set; growth "
	     "of the %s and of TCP mem (/proc/net/sockstat) divided by %.0f sockets",
	     pairs, method, sockets);
	if (nb > 0 && na > 0) {
		char list[400] = "";
		size_t off = 0;
		qsort(after, (size_t)na, sizeof(after[0]), cmp_slab);
		lvt_json_array(&J, "caches");
		for (i = 0; i < na && i < 5 && after[i].bytes >= sockets * 16; i++) {
			off += (size_t)snprintf(
				list + off, sizeof(list) - off, "%s%s %s", i ? ", " : "",
				after[i].name,
				fmt_bytes((double)after[i].bytes / sockets, b, sizeof(b)));
			lvt_json_object(&J, NULL);
			lvt_json_str(&J, "name", after[i].name);
			lvt_json_uint(&J, "bytes_per_socket",
				      (unsigned long long)((double)after[i].bytes / sockets + 0.5));
			lvt_json_close(&J);
		}
		lvt_json_close(&J);
		if (off)
			more("where it went, per socket: %s", list);
	}
	/*
	 * Held to a measurement: bench/loadtest.py (make loadtest) compares this
	 * estimate with the MemFree drop from 100000 connections up, both
	 * sockets of each on one host, and fails when they are more than 10 %
	 * apart. Measured on Linux 6.18, x86_64, 2 cores: 4.1 to 4.4 KB a socket
	 * at 100000 to 1000000 connections (TCP 2.5 KB, socket inode 0.9 KB,
	 * dentry, file and epoll entry 0.2 KB each); this estimate 4.2 KB.
	 * Counting objects at their bare size, without the epoll entry, gave
	 * 3.7 KB: 10 to 16 % low.
	 */
	more("MemAvailable %s allows about %.0f idle connections; %llu need %s",
	     fmt_bytes((double)s0.avail_kb * 1024, a, sizeof(a)), (double)s0.avail_kb * 1024 / per,
	     g->conns, fmt_bytes(need, c, sizeof(c)));
	read_nums("/proc/sys/net/ipv4/tcp_mem", tcp_mem, 3);
	json_known("tcp_mem_max_bytes", tcp_mem[2] < 0 ? -1 : tcp_mem[2] * page);
	if (tcp_mem[2] >= 0)
		more("data waiting in a socket costs more: all TCP buffers together are capped at "
		     "%s (net.ipv4.tcp_mem)",
		     fmt_bytes((double)tcp_mem[2] * (double)page, a, sizeof(a)));
	if (need > (double)s0.avail_kb * 1024 / 2)
		more("  more memory, or fewer connections per host: keep the kernel's share under "
		     "half of MemAvailable");
}

static void check_traffic(const struct target *g)
{
	double rate = (double)g->conns / g->plan.idle;

	lvt_json_uint(&J, "connections", g->conns);
	lvt_json_uint(&J, "idle_s", (unsigned)g->plan.idle);
	lvt_json_uint(&J, "probes_per_s", (unsigned long long)(rate + 0.5));
	lvt_json_uint(&J, "bytes_per_s", (unsigned long long)(rate * PROBE_BYTES + 0.5));

	item("note",
	     "keepalive traffic: %llu idle connections probed every %d s: about %.0f probes "
	     "a second, %.1f KB/s with their ACKs",
	     g->conns, g->plan.idle, rate, rate * PROBE_BYTES / 1e3);
}

/* One check, in the JSON an object of its own under key. */
static void check(const char *key, void (*fn)(const struct target *), const struct target *g)
{
	lvt_json_object(&J, key);
	fn(g);
	lvt_json_close(&J);
}

int lvt_doctor_main(int argc, char **argv)
{
	struct target g;
	struct utsname u;
	const char *v, *budget = "60s", *why_s = NULL;
	char why[300], a[64];
	unsigned long long n = 10000;
	int i, measure = 1, json = 0;

	for (i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
			fputs(doctor_usage, stdout);
			return 0;
		}
		if (strcmp(argv[i], "--no-measure") == 0)
			measure = 0;
		else if (strcmp(argv[i], "--json") == 0)
			json = 1;
		else if ((v = lvt_option(argc, argv, &i, "--connections"))) {
			if (lvt_parse_uint(v, 1ULL << 40, &n, &why_s) < 0 || n == 0)
				lvt_usage_error("doctor: --connections '%s': %s", v,
						why_s ? why_s : "must be at least 1");
		} else if ((v = lvt_option(argc, argv, &i, "--budget")))
			budget = v;
		else
			lvt_usage_error("doctor: unknown argument '%s' (liveness doctor --help)",
					argv[i]);
	}
	memset(&g, 0, sizeof(g));
	g.conns = n;
	g.measure = measure;
	if (lvt_budget(budget, &g.budget, &g.plan, why, sizeof(why)) < 0)
		lvt_usage_error("doctor: --budget: %s", why);
	snprintf(g.budget_text, sizeof(g.budget_text), "%s", budget);

	if (uname(&u) != 0)
		snprintf(u.release, sizeof(u.release), "?");
	lvt_json_start(&J, stdout, json, "doctor");
	if (json) {
		lvt_json_str(&J, "system", u.sysname);
		lvt_json_str(&J, "release", u.release);
		lvt_json_uint(&J, "connections", g.conns);
		lvt_json_uint(&J, "budget_ns", g.budget);
		lvt_json_object(&J, "plan");
		lvt_json_uint(&J, "idle_s", (unsigned)g.plan.idle);
		lvt_json_uint(&J, "interval_s", (unsigned)g.plan.interval);
		lvt_json_uint(&J, "count", (unsigned)g.plan.count);
		lvt_json_uint(&J, "user_timeout_ms", g.plan.user_timeout);
		lvt_json_close(&J);
	} else {
		printf("liveness doctor: %s %s; target %llu connections, budget %s\n", u.sysname,
		       u.release, g.conns, lvt_fmt_long(g.budget, a, sizeof(a)));
	}
	check("keepalive", check_keepalive, &g);
	check("retransmissions", check_retries, &g);
	check("open_files", check_files, &g);
	check("ports", check_ports, &g);
	check("conntrack", check_conntrack, &g);
	check("memory", check_memory, &g);
	check("keepalive_traffic", check_traffic, &g);
	check("bpf", check_bpf, &g);
	if (json) {
		lvt_json_uint(&J, "changes", (unsigned)changes);
		if (lvt_json_finish(&J) < 0)
			return lvt_output_failed("doctor");
	} else {
		printf("\n%d item%s to change\n", changes, changes == 1 ? "" : "s");
	}
	return changes ? 1 : 0;
}
