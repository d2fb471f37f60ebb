/*
 * libliveness-preload.so on real, unmodified programs nobody here wrote,
 * each in a private network namespace:
 *  - redis-server with its own keepalive off keeps a client whose packets
 *    vanish (nftables drop) for ever; under `liveness run --budget 3s` the
 *    kernel ends it within liveness_tcp_bound() and redis drops the client;
 *  - python3 -m http.server and socat get the keepalive timer (ss -tnoi) on
 *    accepted and connected sockets; python3's own UDP, UNIX and raw
 *    sockets stay untouched, and errno reaches the program unchanged;
 *  - a mistyped variable is reported and changes nothing;
 *  - a set-user-ID program is left alone even when the dynamic linker does
 *    load the shim into it.
 * The tools come from $LIVENESS_BUILD (default build).
 */
#include <arpa/inet.h>
#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <pwd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include "child.h"
#include "liveness.h"
#include "netns.h"
#include "util.h"

#define REDIS_PLAIN 6390
#define REDIS_SHIM 6391
#define HTTP_PLAIN 8081
#define HTTP_SHIM 8082
#define SOCAT_PEER 8083
/* Scheduling noise on top of a bound, as in check_fault.c. */
#define MARGIN (100 * LIVENESS_MSEC)

static pid_t children[8];
static int nchildren;

/* A failing check ends the test process: take its daemons along. */
static void kill_children(void)
{
	while (nchildren > 0)
		sp_kill(children[--nchildren]);
}

static pid_t start(char *const argv[], char *const env[], const char *log)
{
	pid_t pid = sp_start(argv, env, log);

	if (nchildren == 0)
		atexit(kill_children);
	ck_assert_int_lt(nchildren, 8);
	children[nchildren++] = pid;
	return pid;
}

static char *tool(const char *name)
{
	static char paths[2][4096];
	int i = strcmp(name, "liveness") == 0 ? 0 : 1;

	sp_path(paths[i], sizeof(paths[i]), name);
	return paths[i];
}

static int connect_to(unsigned port)
{
	struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);

	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	ck_assert_int_ge(fd, 0);
	ck_assert_msg(connect(fd, (struct sockaddr *)&a, sizeof(a)) == 0, "connect %u: %s", port,
		      strerror(errno));
	return fd;
}

/* Send a request and read until the reply contains want (or 5 s pass). */
static void ask(int fd, const char *req, const char *want)
{
	char buf[4096];
	size_t have = 0;

	ck_assert_int_eq(write(fd, req, strlen(req)), (ssize_t)strlen(req));
	while (!memmem(buf, have, want, strlen(want))) {
		ssize_t n;
		ck_assert_msg(tu_wait_readable(fd, 5 * LIVENESS_SEC) != LIVENESS_NEVER,
			      "no '%s' in reply to '%s'", want, req);
		n = read(fd, buf + have, sizeof(buf) - have);
		ck_assert_msg(n > 0, "connection ended before '%s'", want);
		have += (size_t)n;
	}
}

static char *redis_clients(unsigned port)
{
	char p[16];
	char *argv[] = {"redis-cli", "-p", p, "CLIENT", "LIST", NULL};
	struct sp_result r;

	snprintf(p, sizeof(p), "%u", port);
	sp_run(argv, NULL, 10 * LIVENESS_SEC, &r);
	ck_assert_msg(r.status == 0, "redis-cli: %s", r.err);
	free(r.err);
	return r.out;
}

static int has_client(unsigned port, unsigned client_port)
{
	char want[64], *list = redis_clients(port);
	int found;

	snprintf(want, sizeof(want), "addr=127.0.0.1:%u ", client_port);
	found = strstr(list, want) != NULL;
	free(list);
	return found;
}

static char *slurp(const char *path)
{
	static char buf[16384];
	FILE *f = fopen(path, "re");
	size_t n = 0;

	buf[0] = '\0';
	if (f) {
		n = fread(buf, 1, sizeof(buf) - 1, f);
		buf[n] = '\0';
		fclose(f);
	}
	return buf;
}

START_TEST(redis_keeps_a_vanished_client_for_ever_but_not_under_the_shim)
{
	char log[] = "/tmp/liveness-shim-redis.XXXXXX";
	char plain_port[8], shim_port[8];
	char *plain[] = {"redis-server", "--port", plain_port, "--bind", "127.0.0.1",
			 "--save", "", "--appendonly", "no", "--daemonize", "no",
			 "--tcp-keepalive", "0", NULL};
	char *shimmed[] = {tool("liveness"), "run", "--budget", "3s", "--debug", "--",
			   "redis-server", "--port", shim_port, "--bind", "127.0.0.1",
			   "--save", "", "--appendonly", "no", "--daemonize", "no",
			   "--tcp-keepalive", "0", NULL};
	struct liveness_tcp plan;
	liveness_time bound, t_last, detected = LIVENESS_NEVER, until;
	int a, b, fd = mkstemp(log);
	unsigned pa, pb;

	if (!tu_netns("redis-server under the shim"))
		return;
	ck_assert_int_ge(fd, 0);
	close(fd);
	snprintf(plain_port, sizeof(plain_port), "%d", REDIS_PLAIN);
	snprintf(shim_port, sizeof(shim_port), "%d", REDIS_SHIM);
	start(plain, NULL, "/dev/null");
	start(shimmed, NULL, log);
	ck_assert_msg(sp_wait_listen(REDIS_PLAIN, 10 * LIVENESS_SEC), "redis-server did not start");
	ck_assert_msg(sp_wait_listen(REDIS_SHIM, 10 * LIVENESS_SEC),
		      "redis-server under liveness run did not start: %s", slurp(log));
	ck_assert_int_eq(liveness_tcp_plan(&plan, 3 * LIVENESS_SEC), 0);
	bound = liveness_tcp_bound(&plan, LIVENESS_IDLE);

	/* One client each, alive, then idle; then every packet of both vanishes. */
	a = connect_to(REDIS_PLAIN);
	b = connect_to(REDIS_SHIM);
	pa = tu_port(a);
	pb = tu_port(b);
	ask(a, "PING\r\n", "+PONG");
	ask(b, "PING\r\n", "+PONG");
	t_last = liveness_now(); /* the servers heard from their clients last about now */
	ck_assert(has_client(REDIS_PLAIN, pa) && has_client(REDIS_SHIM, pb));
	tu_drop_port((uint16_t)pa);
	tu_drop_port((uint16_t)pb);

	/*
	 * The kernel ending the shimmed server's socket takes it out of
	 * /proc/net/tcp; nothing signals that to another process, so look
	 * every 5 ms. Then watch the plain one until 2 s past the bound.
	 */
	until = t_last + bound + 2 * LIVENESS_SEC;
	while (liveness_now() < until) {
		if (detected == LIVENESS_NEVER && !sp_conn_exists(REDIS_SHIM, pb))
			detected = liveness_now() - t_last;
		ck_assert_msg(sp_conn_exists(REDIS_PLAIN, pa),
			      "redis-server without the shim lost the connection after %.3f s",
			      (liveness_now() - t_last) / 1e9);
		poll(NULL, 0, 5);
	}
	printf("shim  redis-server --tcp-keepalive 0, client vanished: without the shim still "
	       "connected at %.3f s; under liveness run --budget 3s ended after %.3f s "
	       "(bound %.3f s)\n",
	       (liveness_now() - t_last) / 1e9, detected == LIVENESS_NEVER ? -1.0 : detected / 1e9,
	       bound / 1e9);
	fflush(stdout);
	ck_assert_msg(detected != LIVENESS_NEVER, "the shimmed server kept the connection for "
						  "%.3f s, bound %.3f s", (liveness_now() - t_last) / 1e9,
		      bound / 1e9);
	ck_assert_msg(detected <= bound + MARGIN, "ended after %.3f s, bound %.3f s",
		      detected / 1e9, bound / 1e9);
	/* redis itself saw the error and dropped its client; the other keeps its own. */
	ck_assert_msg(!has_client(REDIS_SHIM, pb), "redis under the shim still lists the client");
	ck_assert_msg(has_client(REDIS_PLAIN, pa), "redis without the shim dropped the client");
	ck_assert_msg(strstr(slurp(log), "liveness-preload[") &&
			      strstr(slurp(log), "keepalive 1:1:1, user timeout 2000 ms"),
		      "the shim did not report its settings in redis: %s", slurp(log));
	tu_undrop();
	close(a);
	close(b);
	kill_children();
	unlink(log);
}
END_TEST

/* ss -tnoi for established sockets matching filter ("sport = :8082"). */
static char *ss(const char *filter)
{
	char expr[64];
	char *argv[] = {"ss", "-tnoi", "state", "established", expr, NULL};
	struct sp_result r;

	snprintf(expr, sizeof(expr), "( %s )", filter);
	sp_run(argv, NULL, 10 * LIVENESS_SEC, &r);
	ck_assert_msg(r.status == 0, "ss: %s", r.err);
	free(r.err);
	return r.out;
}

/*
 * The seconds left on ss's "timer:(keepalive,4.972ms,0)", or -1 without
 * one. ss prints minutes "min", seconds "sec", and seconds with
 * milliseconds as "4.972ms" (iproute2 print_ms_timer()).
 */
static double keepalive_timer(const char *ss_out)
{
	const char *t = strstr(ss_out, "timer:(keepalive,");
	double total = 0;
	char *end;

	if (!t)
		return -1;
	t += strlen("timer:(keepalive,");
	while (*t && *t != ',' && *t != ')') {
		unsigned long v = strtoul(t, &end, 10);
		if (end == t)
			return -1;
		t = end;
		if (strncmp(t, "min", 3) == 0) {
			total += 60.0 * v;
			t += 3;
		} else if (strncmp(t, "sec", 3) == 0) {
			total += v;
			t += 3;
		} else if (*t == '.') {
			total += v;
			t++;
		} else if (strncmp(t, "ms", 2) == 0) {
			total += v / 1000.0;
			t += 2;
		} else {
			return -1;
		}
	}
	return total;
}

START_TEST(http_server_gets_keepalive_on_accepted_sockets)
{
	char p1[8], p2[8], f1[32], f2[32];
	char *plain[] = {"python3", "-m", "http.server", p1, "--bind", "127.0.0.1", NULL};
	char *shimmed[] = {tool("liveness"), "run", "--budget", "10s", "--", "python3", "-m",
			   "http.server", p2, "--bind", "127.0.0.1", NULL};
	struct liveness_tcp plan;
	char *out;
	double timer;
	int a, b;

	if (!tu_netns("python3 -m http.server under the shim"))
		return;
	snprintf(p1, sizeof(p1), "%d", HTTP_PLAIN);
	snprintf(p2, sizeof(p2), "%d", HTTP_SHIM);
	start(plain, NULL, NULL);
	start(shimmed, NULL, NULL);
	ck_assert_msg(sp_wait_listen(HTTP_PLAIN, 20 * LIVENESS_SEC), "http.server did not start");
	ck_assert_msg(sp_wait_listen(HTTP_SHIM, 20 * LIVENESS_SEC),
		      "http.server under liveness run did not start");
	ck_assert_int_eq(liveness_tcp_plan(&plan, 10 * LIVENESS_SEC), 0);
	a = connect_to(HTTP_PLAIN);
	b = connect_to(HTTP_SHIM);

	snprintf(f1, sizeof(f1), "sport = :%d", HTTP_PLAIN);
	snprintf(f2, sizeof(f2), "sport = :%d", HTTP_SHIM);
	out = ss(f1);
	ck_assert_msg(strstr(out, "127.0.0.1:") && keepalive_timer(out) < 0,
		      "plain http.server socket has a keepalive timer: %s", out);
	free(out);
	out = ss(f2);
	timer = keepalive_timer(out);
	printf("shim  python3 -m http.server under --budget 10s: %s", out);
	ck_assert_msg(timer > 0 && timer <= plan.idle, "no keepalive timer <= %d s: %s", plan.idle,
		      out);
	free(out);
	/* And the program still works. */
	ask(b, "GET / HTTP/1.0\r\n\r\n", "HTTP/1.0 200");
	ask(a, "GET / HTTP/1.0\r\n\r\n", "HTTP/1.0 200");
	close(a);
	close(b);
	kill_children();
}
END_TEST

START_TEST(socat_gets_explicit_settings_on_connect)
{
	char dst[64], f[32];
	char *argv[] = {tool("liveness"), "run", "--keepalive", "7:3:2", "--user-timeout", "5000",
			"--", "socat", "-u", dst, "OPEN:/dev/null", NULL};
	int l, c;
	char *out;
	double timer;

	if (!tu_netns("socat under the shim"))
		return;
	l = tu_listen(SOCAT_PEER);
	snprintf(dst, sizeof(dst), "TCP:127.0.0.1:%d", SOCAT_PEER);
	start(argv, NULL, NULL);
	ck_assert_msg(tu_wait_readable(l, 10 * LIVENESS_SEC) != LIVENESS_NEVER, "socat never connected");
	c = accept(l, NULL, NULL);
	ck_assert_int_ge(c, 0);
	snprintf(f, sizeof(f), "dport = :%d", SOCAT_PEER);
	out = ss(f);
	timer = keepalive_timer(out);
	printf("shim  socat under --keepalive 7:3:2: %s", out);
	ck_assert_msg(timer > 0 && timer <= 7, "no keepalive timer <= 7 s on socat's socket: %s", out);
	free(out);
	close(c);
	close(l);
	kill_children();
}
END_TEST

/*
 * python3 reads back what its own sockets got: TCP over IPv4 and IPv6,
 * blocking or not, connected and accepted (accept4), and UDP, UNIX and raw
 * sockets that must stay untouched; and the errno of failing calls.
 */
static const char probe[] =
	"import socket as s, errno, json\n"
	"K = lambda x: x.getsockopt(s.SOL_SOCKET, s.SO_KEEPALIVE)\n"
	"U = lambda x: x.getsockopt(s.IPPROTO_TCP, s.TCP_USER_TIMEOUT)\n"
	"r = {}\n"
	"l = s.socket(); l.bind(('127.0.0.1', 0)); l.listen()\n"
	"t = s.socket(); r['tcp'] = K(t); r['tcp_ut'] = U(t)\n"
	"t6 = s.socket(s.AF_INET6); r['tcp6'] = K(t6); r['tcp6_ut'] = U(t6)\n"
	"nb = s.socket(s.AF_INET, s.SOCK_STREAM | s.SOCK_NONBLOCK); r['nonblock'] = K(nb)\n"
	"r['inprogress'] = nb.connect_ex(l.getsockname())\n"
	"a, _ = l.accept(); r['accepted'] = K(a); r['accepted_ut'] = U(a)\n"
	"r['udp'] = K(s.socket(s.AF_INET, s.SOCK_DGRAM))\n"
	"r['udp6'] = K(s.socket(s.AF_INET6, s.SOCK_DGRAM))\n"
	"r['unix'] = K(s.socket(s.AF_UNIX, s.SOCK_STREAM))\n"
	"r['raw'] = K(s.socket(s.AF_INET, s.SOCK_RAW, s.IPPROTO_TCP))\n"
	"try: s.socket(s.AF_INET, s.SOCK_STREAM, s.IPPROTO_UDP)\n"
	"except OSError as e: r['bad_socket'] = e.errno\n"
	"try: s.create_connection(('127.0.0.1', 1))\n"
	"except OSError as e: r['refused'] = e.errno\n"
	"print(json.dumps(r, sort_keys=True))\n";

static void expect(const char *json, const char *key, long want)
{
	char k[64];
	const char *p;

	snprintf(k, sizeof(k), "\"%s\": ", key);
	p = strstr(json, k);
	ck_assert_msg(p, "no %s in %s", key, json);
	ck_assert_msg(strtol(p + strlen(k), NULL, 10) == want, "%s: want %ld in %s", key, want,
		      json);
}

START_TEST(only_tcp_sockets_change_and_errno_is_kept)
{
	char *argv[] = {tool("liveness"), "run", "--budget", "10s", "--", "python3", "-c",
			(char *)probe, NULL};
	char *plain[] = {"python3", "-c", (char *)probe, NULL};
	struct liveness_tcp plan;
	struct sp_result r;

	if (!tu_netns("python3 socket probe under the shim"))
		return;
	ck_assert_int_eq(liveness_tcp_plan(&plan, 10 * LIVENESS_SEC), 0);
	sp_run(argv, NULL, 30 * LIVENESS_SEC, &r);
	printf("shim  python3 under --budget 10s: %s", r.out);
	ck_assert_msg(r.status == 0, "python3 failed: %s", r.err);
	expect(r.out, "tcp", 1);
	expect(r.out, "tcp_ut", plan.user_timeout);
	expect(r.out, "tcp6", 1);
	expect(r.out, "tcp6_ut", plan.user_timeout);
	expect(r.out, "nonblock", 1);
	expect(r.out, "accepted", 1);
	expect(r.out, "accepted_ut", plan.user_timeout);
	expect(r.out, "udp", 0);
	expect(r.out, "udp6", 0);
	expect(r.out, "unix", 0);
	expect(r.out, "raw", 0);
	expect(r.out, "inprogress", EINPROGRESS);
	expect(r.out, "bad_socket", EPROTONOSUPPORT);
	expect(r.out, "refused", ECONNREFUSED);
	sp_free(&r);

	/* The same program without the shim: the kernel's defaults. */
	sp_run(plain, NULL, 30 * LIVENESS_SEC, &r);
	ck_assert_msg(r.status == 0, "python3 failed: %s", r.err);
	expect(r.out, "tcp", 0);
	expect(r.out, "accepted", 0);
	expect(r.out, "tcp_ut", 0);
	sp_free(&r);
}
END_TEST

START_TEST(a_bad_variable_is_reported_and_changes_nothing)
{
	char preload[4200], *env[] = {preload, "LIVENESS_BUDGET=500ms", NULL};
	char *argv[] = {"python3", "-c",
			"import socket as s; print(s.socket().getsockopt(s.SOL_SOCKET, s.SO_KEEPALIVE))",
			NULL};
	struct sp_result r;

	snprintf(preload, sizeof(preload), "LD_PRELOAD=%s", tool("libliveness-preload.so"));
	sp_run(argv, env, 30 * LIVENESS_SEC, &r);
	ck_assert_msg(r.status == 0, "python3 failed under a bad LIVENESS_BUDGET: %s", r.err);
	ck_assert_str_eq(r.out, "0\n");
	ck_assert_msg(strstr(r.err, "liveness-preload[") && strstr(r.err, "too short") &&
			      strstr(r.err, "the shim does nothing"),
		      "no report of the bad variable: '%s'", r.err);
	sp_free(&r);
}
END_TEST

static void copy_file(const char *from, const char *to, mode_t mode)
{
	char buf[65536];
	ssize_t n;
	int in = open(from, O_RDONLY), out;

	ck_assert_msg(in >= 0, "open %s: %s", from, strerror(errno));
	out = open(to, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	ck_assert_msg(out >= 0, "create %s: %s", to, strerror(errno));
	while ((n = read(in, buf, sizeof(buf))) > 0)
		ck_assert_int_eq(write(out, buf, (size_t)n), n);
	close(in);
	close(out);
	ck_assert_int_eq(chmod(to, mode), 0);
}

/*
 * For a set-user-ID program the dynamic linker ignores LD_PRELOAD paths and
 * loads a named library only from its trusted directories, and only if the
 * file is set-user-ID too. So this test puts a copy of the shim there, runs
 * a copy of python3 once plainly and once set-user-ID to nobody (AT_SECURE):
 * the shim is loaded both times and acts only the first time.
 */
START_TEST(setuid_programs_are_left_alone)
{
	static const char libdir[] = "/usr/lib/x86_64-linux-gnu";
	/* The socket's SO_KEEPALIVE, and whether the shim is mapped in the process at all. */
	static const char probe_py[] =
		"import socket as s; print(s.socket().getsockopt(s.SOL_SOCKET, s.SO_KEEPALIVE), "
		"'libliveness-preload-test' in open('/proc/self/maps').read())";
	char lib[256], name[64], prog[256], dir[] = "/tmp/liveness-setuid.XXXXXX";
	char preload[128], *env[] = {preload, "LIVENESS_BUDGET=10s", NULL};
	char *argv[] = {prog, "-c", (char *)probe_py, NULL};
	struct passwd *nobody = getpwnam("nobody");
	struct sp_result r, plain;
	struct stat st;

	if (getuid() != 0 || stat(libdir, &st) != 0 || !nobody ||
	    access("/usr/bin/python3", X_OK) != 0) {
		const char *req = getenv("LIVENESS_REQUIRE_NETNS");
		ck_assert_msg(!(req && strcmp(req, "1") == 0),
			      "setuid test needs root, %s, user nobody and /usr/bin/python3", libdir);
		printf("SKIP setuid programs: needs root, %s, nobody and /usr/bin/python3\n", libdir);
		fflush(stdout);
		return;
	}
	ck_assert_ptr_nonnull(mkdtemp(dir));
	ck_assert_int_eq(chmod(dir, 0755), 0);
	snprintf(name, sizeof(name), "libliveness-preload-test-%d.so", (int)getpid());
	snprintf(lib, sizeof(lib), "%s/%s", libdir, name);
	snprintf(prog, sizeof(prog), "%s/python3", dir);
	snprintf(preload, sizeof(preload), "LD_PRELOAD=%s", name);
	copy_file(tool("libliveness-preload.so"), lib, 04755);
	copy_file("/usr/bin/python3", prog, 0755);

	/* Both runs first, then the clean-up, then the checks: nothing is left in libdir. */
	sp_run(argv, env, 30 * LIVENESS_SEC, &plain);
	if (chown(prog, nobody->pw_uid, nobody->pw_gid) != 0 || chmod(prog, 04755) != 0)
		plain.status = -1;
	sp_run(argv, env, 30 * LIVENESS_SEC, &r);
	unlink(lib);
	unlink(prog);
	rmdir(dir);
	ck_assert_msg(plain.status == 0, "python3 failed: %s", plain.err);
	ck_assert_msg(strcmp(plain.out, "1 True\n") == 0, "plain program: shim not active: '%s'",
		      plain.out);
	ck_assert_msg(r.status == 0, "set-user-ID python3 failed: %s", r.err);
	ck_assert_msg(strcmp(r.out, "0 True\n") == 0,
		      "set-user-ID program: want the shim loaded and idle, got '%s'", r.out);
	printf("shim  set-user-ID python3: shim loaded from %s, left the socket alone\n", libdir);
	fflush(stdout);
	sp_free(&plain);
	sp_free(&r);
}
END_TEST

Suite *shim_suite(void)
{
	Suite *s = suite_create("shim");
	TCase *tc = tcase_create("programs");

	tcase_set_timeout(tc, 120);
	tcase_add_test(tc, redis_keeps_a_vanished_client_for_ever_but_not_under_the_shim);
	tcase_add_test(tc, http_server_gets_keepalive_on_accepted_sockets);
	tcase_add_test(tc, socat_gets_explicit_settings_on_connect);
	tcase_add_test(tc, only_tcp_sockets_change_and_errno_is_kept);
	tcase_add_test(tc, a_bad_variable_is_reported_and_changes_nothing);
	tcase_add_test(tc, setuid_programs_are_left_alone);
	suite_add_tcase(s, tc);
	return s;
}
