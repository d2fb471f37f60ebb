/*
 * Layer 1 on real loopback sockets: settings read back from the kernel,
 * inheritance by accepted sockets, bad input that changes nothing, abort,
 * and the schedule model behind liveness_tcp_bound() and the planner.
 */
#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "liveness.h"
#include "util.h"

static const struct liveness_tcp sample = {
	.keepalive = 1, .idle = 7, .interval = 3, .count = 4, .user_timeout = 5000, .linger = 0};

static int raw(int fd, int level, int name)
{
	int v = -1;
	socklen_t len = sizeof(v);

	ck_assert_int_eq(getsockopt(fd, level, name, &v, &len), 0);
	return v;
}

static void assert_same(const struct liveness_tcp *a, const struct liveness_tcp *b)
{
	ck_assert_int_eq(a->keepalive, b->keepalive);
	ck_assert_int_eq(a->idle, b->idle);
	ck_assert_int_eq(a->interval, b->interval);
	ck_assert_int_eq(a->count, b->count);
	ck_assert_uint_eq(a->user_timeout, b->user_timeout);
	ck_assert_int_eq(a->linger, b->linger);
}

START_TEST(set_is_read_back_from_kernel)
{
	int c, s;
	struct liveness_tcp got;
	struct linger l;
	socklen_t len = sizeof(l);

	tu_pair(&c, &s);
	ck_assert_int_eq(liveness_tcp_set(c, &sample), 0);
	/* Read with plain getsockopt, not only through our own getter. */
	ck_assert_int_eq(raw(c, SOL_SOCKET, SO_KEEPALIVE), 1);
	ck_assert_int_eq(raw(c, IPPROTO_TCP, TCP_KEEPIDLE), 7);
	ck_assert_int_eq(raw(c, IPPROTO_TCP, TCP_KEEPINTVL), 3);
	ck_assert_int_eq(raw(c, IPPROTO_TCP, TCP_KEEPCNT), 4);
	ck_assert_int_eq(raw(c, IPPROTO_TCP, TCP_USER_TIMEOUT), 5000);
	ck_assert_int_eq(getsockopt(c, SOL_SOCKET, SO_LINGER, &l, &len), 0);
	ck_assert_int_eq(l.l_onoff, 1);
	ck_assert_int_eq(l.l_linger, 0);
	ck_assert_int_eq(liveness_tcp_get(c, &got), 0);
	assert_same(&got, &sample);
	close(c);
	close(s);
}
END_TEST

START_TEST(set_keepalive_off_and_linger_off)
{
	int c, s;
	struct liveness_tcp t = sample, got;

	tu_pair(&c, &s);
	ck_assert_int_eq(liveness_tcp_set(c, &sample), 0);
	t.keepalive = 0;
	t.linger = -1;
	t.user_timeout = 0;
	ck_assert_int_eq(liveness_tcp_set(c, &t), 0);
	ck_assert_int_eq(raw(c, SOL_SOCKET, SO_KEEPALIVE), 0);
	ck_assert_int_eq(liveness_tcp_get(c, &got), 0);
	assert_same(&got, &t);
	close(c);
	close(s);
}
END_TEST

START_TEST(listener_settings_inherited_by_accepted)
{
	int l = tu_listen(0), c, s;
	struct sockaddr_in a = {.sin_family = AF_INET};
	struct liveness_tcp got;

	ck_assert_int_eq(liveness_tcp_set(l, &sample), 0);
	a.sin_port = htons(tu_port(l));
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	c = socket(AF_INET, SOCK_STREAM, 0);
	ck_assert_int_eq(connect(c, (struct sockaddr *)&a, sizeof(a)), 0);
	s = accept(l, NULL, NULL);
	ck_assert_int_ge(s, 0);
	ck_assert_int_eq(liveness_tcp_get(s, &got), 0);
	assert_same(&got, &sample);
	close(c);
	close(s);
	close(l);
}
END_TEST

START_TEST(ipv6_socket_accepted)
{
	int fd = socket(AF_INET6, SOCK_STREAM, 0);
	struct liveness_tcp got;

	if (fd < 0)
		return; /* no IPv6 in this kernel: nothing to prove */
	ck_assert_int_eq(liveness_tcp_set(fd, &sample), 0);
	ck_assert_int_eq(liveness_tcp_get(fd, &got), 0);
	assert_same(&got, &sample);
	close(fd);
}
END_TEST

START_TEST(bad_descriptors_refused)
{
	int closed = socket(AF_INET, SOCK_STREAM, 0);
	int file = open("/dev/null", O_RDONLY);
	int udp = socket(AF_INET, SOCK_DGRAM, 0);
	int unx = socket(AF_UNIX, SOCK_STREAM, 0);
	int raw_sock = socket(AF_INET, SOCK_SEQPACKET, IPPROTO_SCTP);
	struct liveness_tcp t;

	close(closed);
	ck_assert_int_eq(liveness_tcp_set(-1, &sample), -EBADF);
	ck_assert_int_eq(liveness_tcp_set(INT_MIN, &sample), -EBADF);
	ck_assert_int_eq(liveness_tcp_set(closed, &sample), -EBADF);
	ck_assert_int_eq(liveness_tcp_set(file, &sample), -ENOTSOCK);
	ck_assert_int_eq(liveness_tcp_set(udp, &sample), -EPROTOTYPE);
	ck_assert_int_eq(liveness_tcp_set(unx, &sample), -EPROTOTYPE);
	if (raw_sock >= 0)
		ck_assert_int_eq(liveness_tcp_set(raw_sock, &sample), -EPROTOTYPE);
	ck_assert_int_eq(liveness_tcp_get(-1, &t), -EBADF);
	ck_assert_int_eq(liveness_tcp_get(closed, &t), -EBADF);
	ck_assert_int_eq(liveness_tcp_get(file, &t), -ENOTSOCK);
	ck_assert_int_eq(liveness_tcp_get(udp, &t), -EPROTOTYPE);
	ck_assert_int_eq(liveness_tcp_get(unx, &t), -EPROTOTYPE);
	ck_assert_int_eq(liveness_abort(-1), -EBADF);
	ck_assert_int_eq(liveness_abort(closed), -EBADF);
	ck_assert_int_eq(liveness_abort(file), -ENOTSOCK);
	ck_assert_int_eq(liveness_abort(udp), -EPROTOTYPE);
	ck_assert_int_eq(liveness_abort(unx), -EPROTOTYPE);
	/* A refused abort leaves the descriptor open. */
	ck_assert_int_ne(fcntl(udp, F_GETFD), -1);
	ck_assert_int_ne(fcntl(unx, F_GETFD), -1);
	ck_assert_int_ne(fcntl(file, F_GETFD), -1);
	close(file);
	close(udp);
	close(unx);
	if (raw_sock >= 0)
		close(raw_sock);
}
END_TEST

START_TEST(null_arguments_refused)
{
	int c, s;

	tu_pair(&c, &s);
	ck_assert_int_eq(liveness_tcp_set(c, NULL), -EINVAL);
	ck_assert_int_eq(liveness_tcp_get(c, NULL), -EINVAL);
	ck_assert_int_eq(liveness_tcp_system(NULL), -EINVAL);
	ck_assert_int_eq(liveness_tcp_plan(NULL, 10 * LIVENESS_SEC), -EINVAL);
	close(c);
	close(s);
}
END_TEST

/* Each out-of-range field alone is refused and leaves the socket as it was. */
START_TEST(out_of_range_values_change_nothing)
{
	int c, s;
	size_t i;
	struct liveness_tcp before, after, bad[] = {sample, sample, sample, sample, sample, sample,
						    sample, sample, sample, sample, sample, sample};

	bad[0].keepalive = 2;
	bad[1].keepalive = -1;
	bad[2].idle = 0;
	bad[3].idle = 32768;
	bad[4].interval = 0;
	bad[5].interval = 32768;
	bad[6].count = 0;
	bad[7].count = 128;
	bad[8].user_timeout = (unsigned)INT_MAX + 1;
	bad[9].linger = -2;
	bad[10].linger = LIVENESS_TCP_MAX_LINGER + 1;
	bad[11].idle = INT_MIN;
	tu_pair(&c, &s);
	ck_assert_int_eq(liveness_tcp_set(c, &(struct liveness_tcp){1, 11, 2, 3, 777, -1}), 0);
	ck_assert_int_eq(liveness_tcp_get(c, &before), 0);
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		ck_assert_int_eq(liveness_tcp_set(c, &bad[i]), -EINVAL);
		ck_assert_int_eq(liveness_tcp_get(c, &after), 0);
		assert_same(&after, &before);
	}
	close(c);
	close(s);
}
END_TEST

START_TEST(positive_linger_refused_on_nonblocking)
{
	int c, s;
	struct liveness_tcp t = sample, before, after;

	tu_pair(&c, &s);
	t.linger = 5;
	ck_assert_int_eq(liveness_tcp_get(c, &before), 0);
	fcntl(c, F_SETFL, fcntl(c, F_GETFL) | O_NONBLOCK);
	/* close() would block for up to 5 s on a socket the caller believes non-blocking. */
	ck_assert_int_eq(liveness_tcp_set(c, &t), -EINVAL);
	ck_assert_int_eq(liveness_tcp_get(c, &after), 0);
	assert_same(&after, &before);
	fcntl(c, F_SETFL, fcntl(c, F_GETFL) & ~O_NONBLOCK);
	ck_assert_int_eq(liveness_tcp_set(c, &t), 0);
	ck_assert_int_eq(liveness_tcp_get(c, &after), 0);
	ck_assert_int_eq(after.linger, 5);
	t.linger = 0; /* abortive close never blocks: fine when non-blocking */
	fcntl(c, F_SETFL, fcntl(c, F_GETFL) | O_NONBLOCK);
	ck_assert_int_eq(liveness_tcp_set(c, &t), 0);
	close(c);
	close(s);
}
END_TEST

static int read_sysctl(const char *name)
{
	char path[128];
	int v = -1;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/sys/net/ipv4/%s", name);
	f = fopen(path, "r");
	ck_assert_ptr_nonnull(f);
	ck_assert_int_eq(fscanf(f, "%d", &v), 1);
	fclose(f);
	return v;
}

START_TEST(system_matches_sysctls)
{
	struct liveness_tcp t;
	int fd = socket(AF_INET, SOCK_STREAM, 0);

	ck_assert_int_eq(liveness_tcp_system(&t), 0);
	ck_assert_int_eq(t.keepalive, 0);
	ck_assert_int_eq(t.idle, read_sysctl("tcp_keepalive_time"));
	ck_assert_int_eq(t.interval, read_sysctl("tcp_keepalive_intvl"));
	ck_assert_int_eq(t.count, read_sysctl("tcp_keepalive_probes"));
	ck_assert_uint_eq(t.user_timeout, 0);
	ck_assert_int_eq(t.linger, -1);
	/* And what a fresh socket reports is the same. */
	{
		struct liveness_tcp fresh;
		ck_assert_int_eq(liveness_tcp_get(fd, &fresh), 0);
		assert_same(&fresh, &t);
	}
	close(fd);
}
END_TEST

START_TEST(abort_sends_rst_and_frees_socket)
{
	int c, s;
	char b;
	uint16_t port;

	tu_pair(&c, &s);
	port = tu_port(c);
	ck_assert(tu_socket_exists(port));
	ck_assert_int_eq(liveness_abort(c), 0);
	/* The fd is closed, the peer reads RST, and no TIME_WAIT or FIN_WAIT remains. */
	ck_assert_int_eq(fcntl(c, F_GETFD), -1);
	ck_assert_int_eq(read(s, &b, 1), -1);
	ck_assert_int_eq(errno, ECONNRESET);
	ck_assert(!tu_socket_exists(port));
	close(s);
}
END_TEST

START_TEST(plain_close_leaves_time_wait)
{
	/* The contrast for the test above: an orderly close keeps the socket in the table. */
	int c, s;
	char b;
	uint16_t port;

	tu_pair(&c, &s);
	port = tu_port(c);
	close(c);
	ck_assert_int_eq(read(s, &b, 1), 0);
	close(s);
	ck_assert(tu_socket_exists(port));
}
END_TEST

/* ---- the schedule model ---- */

static struct liveness_tcp ka(int idle, int intvl, int count, unsigned u)
{
	struct liveness_tcp t = {1, idle, intvl, count, u, -1};
	return t;
}

START_TEST(bound_stock_keepalive_is_7875s_nominal)
{
	struct liveness_tcp t = ka(7200, 75, 9, 0);
	liveness_time nominal = liveness_tcp_bound(&t, LIVENESS_IDLE | LIVENESS_NOMINAL);
	liveness_time worst = liveness_tcp_bound(&t, LIVENESS_IDLE);

	ck_assert_uint_eq(nominal, 7875 * LIVENESS_SEC);
	/* Lateness: never early, at most 8/63 of each timer plus a few jiffies. */
	ck_assert_uint_gt(worst, nominal);
	ck_assert_uint_le(worst, nominal + nominal / 7);
	printf("stock keepalive: nominal %.1f s, worst %.1f s\n", nominal / 1e9, worst / 1e9);
}
END_TEST

START_TEST(bound_keepalive_off_idle_is_never)
{
	struct liveness_tcp t = ka(7200, 75, 9, 0);

	t.keepalive = 0;
	ck_assert_uint_eq(liveness_tcp_bound(&t, LIVENESS_IDLE), LIVENESS_NEVER);
	ck_assert_uint_eq(liveness_tcp_bound(&t, LIVENESS_IDLE | LIVENESS_NOMINAL), LIVENESS_NEVER);
	/* Data in flight is retransmitted whether keepalive is on or not. */
	ck_assert_uint_lt(liveness_tcp_bound(&t, LIVENESS_BUSY), LIVENESS_NEVER);
}
END_TEST

START_TEST(bound_user_timeout_grid)
{
	/* TCP_USER_TIMEOUT replaces the count: first tick idle + k*intvl >= U, k >= 1. */
	struct liveness_tcp a = ka(2, 1, 9, 3500), b = ka(10, 5, 9, 3000), c = ka(2, 1, 9, 4000);

	ck_assert_uint_eq(liveness_tcp_bound(&a, LIVENESS_NOMINAL), 4 * LIVENESS_SEC);
	ck_assert_uint_eq(liveness_tcp_bound(&b, LIVENESS_NOMINAL), 15 * LIVENESS_SEC);
	ck_assert_uint_eq(liveness_tcp_bound(&c, LIVENESS_NOMINAL), 4 * LIVENESS_SEC);
	c.count = 1; /* ignored while U is set */
	ck_assert_uint_eq(liveness_tcp_bound(&c, LIVENESS_NOMINAL), 4 * LIVENESS_SEC);
	c.user_timeout = 0;
	ck_assert_uint_eq(liveness_tcp_bound(&c, LIVENESS_NOMINAL), 3 * LIVENESS_SEC);
}
END_TEST

START_TEST(bound_busy_user_timeout_includes_probe_and_first_rto)
{
	/* 3000 ms ends ~3.42 s after the write: TLP + first RTO (2 x ~0.21 s) come first. */
	struct liveness_tcp t = ka(2, 1, 9, 3000);
	liveness_time nominal = liveness_tcp_bound(&t, LIVENESS_BUSY | LIVENESS_NOMINAL);

	ck_assert_uint_ge(nominal, 3400 * LIVENESS_MSEC);
	ck_assert_uint_le(nominal, 3420 * LIVENESS_MSEC);
	ck_assert_uint_gt(liveness_tcp_bound(&t, LIVENESS_BUSY), nominal);
}
END_TEST

START_TEST(bound_busy_default_retries)
{
	struct liveness_tcp t;
	liveness_time nominal, worst;

	ck_assert_int_eq(liveness_tcp_system(&t), 0);
	if (read_sysctl("tcp_retries2") != 15)
		return; /* the 924.6 s figure belongs to the stock value */
	nominal = liveness_tcp_bound(&t, LIVENESS_BUSY | LIVENESS_NOMINAL);
	worst = liveness_tcp_bound(&t, LIVENESS_BUSY);
	/* The kernel's "hypothetical" 924.6 s from retrans_stamp, on the real RTO grid. */
	ck_assert_uint_ge(nominal, 924600 * LIVENESS_MSEC);
	ck_assert_uint_le(nominal, 940 * LIVENESS_SEC);
	ck_assert_uint_gt(worst, nominal);
	printf("stock retransmissions: nominal %.1f s, worst %.1f s\n", nominal / 1e9, worst / 1e9);
}
END_TEST

START_TEST(bound_invalid_input_is_never)
{
	struct liveness_tcp t = ka(2, 1, 9, 0);

	ck_assert_uint_eq(liveness_tcp_bound(NULL, LIVENESS_IDLE), LIVENESS_NEVER);
	ck_assert_uint_eq(liveness_tcp_bound(&t, 4), LIVENESS_NEVER);
	ck_assert_uint_eq(liveness_tcp_bound(&t, -1), LIVENESS_NEVER);
	t.idle = 0;
	ck_assert_uint_eq(liveness_tcp_bound(&t, LIVENESS_IDLE), LIVENESS_NEVER);
	t.idle = 2;
	t.count = 128;
	ck_assert_uint_eq(liveness_tcp_bound(&t, LIVENESS_BUSY), LIVENESS_NEVER);
}
END_TEST

START_TEST(bound_extremes_do_not_overflow)
{
	struct liveness_tcp t = ka(32767, 32767, 127, 0);
	liveness_time b = liveness_tcp_bound(&t, LIVENESS_IDLE);

	ck_assert_uint_eq(liveness_tcp_bound(&t, LIVENESS_NOMINAL), 32767ull * 128 * LIVENESS_SEC);
	ck_assert_uint_gt(b, 32767ull * 128 * LIVENESS_SEC);
	ck_assert_uint_lt(b, LIVENESS_NEVER);
	t.user_timeout = INT_MAX;
	ck_assert_uint_lt(liveness_tcp_bound(&t, LIVENESS_BUSY), LIVENESS_NEVER);
	ck_assert_uint_ge(liveness_tcp_bound(&t, LIVENESS_BUSY), (liveness_time)INT_MAX * LIVENESS_MSEC);
}
END_TEST

static void check_plan(liveness_time budget)
{
	struct liveness_tcp p;
	liveness_time idle, busy;
	int c, s;

	ck_assert_msg(liveness_tcp_plan(&p, budget) == 0, "plan(%llu ns) failed",
		      (unsigned long long)budget);
	idle = liveness_tcp_bound(&p, LIVENESS_IDLE);
	busy = liveness_tcp_bound(&p, LIVENESS_BUSY);
	ck_assert_msg(idle <= budget && busy <= budget, "budget %.3f s: idle %.3f busy %.3f",
		      budget / 1e9, idle / 1e9, busy / 1e9);
	ck_assert_msg(idle >= budget / 2 && busy >= budget / 2,
		      "budget %.3f s wasted: idle %.3f busy %.3f", budget / 1e9, idle / 1e9,
		      busy / 1e9);
	ck_assert_int_eq(p.keepalive, 1);
	ck_assert_int_eq(p.linger, -1);
	/* Whatever the planner picks, the kernel takes. */
	tu_pair(&c, &s);
	ck_assert_int_eq(liveness_tcp_set(c, &p), 0);
	close(c);
	close(s);
}

START_TEST(plan_meets_budgets_from_seconds_to_weeks)
{
	static const double secs[] = {2.2, 2.5, 3, 4, 5, 7.5, 10, 15, 30, 45, 60, 90, 120, 300,
				      600, 1800, 3600, 7200, 86400, 3 * 86400, 14 * 86400,
				      24 * 86400};
	size_t i;

	for (i = 0; i < sizeof(secs) / sizeof(secs[0]); i++)
		check_plan((liveness_time)(secs[i] * 1e9));
}
END_TEST

START_TEST(plan_meets_random_budgets)
{
	uint64_t x = 0x9e3779b97f4a7c15ull;
	int i;

	for (i = 0; i < 300; i++) {
		x ^= x << 13;
		x ^= x >> 7;
		x ^= x << 17;
		/* Log-uniform between 2.2 s and ~24 days. */
		check_plan((liveness_time)(2.2e9 * __builtin_exp((x % 1000000) / 1e6 * 13.7)));
	}
}
END_TEST

START_TEST(plan_refuses_impossible_budgets)
{
	struct liveness_tcp p = sample;

	ck_assert_int_eq(liveness_tcp_plan(&p, 0), -EINVAL);
	ck_assert_int_eq(liveness_tcp_plan(&p, 1), -ERANGE);
	ck_assert_int_eq(liveness_tcp_plan(&p, 1999 * LIVENESS_MSEC), -ERANGE);
	ck_assert_int_eq(liveness_tcp_plan(&p, 2 * LIVENESS_SEC), -ERANGE);
	ck_assert_int_eq(liveness_tcp_plan(&p, 30ull * 86400 * LIVENESS_SEC), -ERANGE);
	ck_assert_int_eq(liveness_tcp_plan(&p, LIVENESS_NEVER), -ERANGE);
	assert_same(&p, &sample); /* unchanged on failure */
}
END_TEST

Suite *tcp_suite(void)
{
	Suite *s = suite_create("tcp");
	TCase *sock = tcase_create("sockets");
	TCase *model = tcase_create("model");

	tcase_add_test(sock, set_is_read_back_from_kernel);
	tcase_add_test(sock, set_keepalive_off_and_linger_off);
	tcase_add_test(sock, listener_settings_inherited_by_accepted);
	tcase_add_test(sock, ipv6_socket_accepted);
	tcase_add_test(sock, bad_descriptors_refused);
	tcase_add_test(sock, null_arguments_refused);
	tcase_add_test(sock, out_of_range_values_change_nothing);
	tcase_add_test(sock, positive_linger_refused_on_nonblocking);
	tcase_add_test(sock, system_matches_sysctls);
	tcase_add_test(sock, abort_sends_rst_and_frees_socket);
	tcase_add_test(sock, plain_close_leaves_time_wait);
	tcase_add_test(model, bound_stock_keepalive_is_7875s_nominal);
	tcase_add_test(model, bound_keepalive_off_idle_is_never);
	tcase_add_test(model, bound_user_timeout_grid);
	tcase_add_test(model, bound_busy_user_timeout_includes_probe_and_first_rto);
	tcase_add_test(model, bound_busy_default_retries);
	tcase_add_test(model, bound_invalid_input_is_never);
	tcase_add_test(model, bound_extremes_do_not_overflow);
	tcase_add_test(model, plan_meets_budgets_from_seconds_to_weeks);
	tcase_add_test(model, plan_meets_random_budgets);
	tcase_add_test(model, plan_refuses_impossible_budgets);
	tcase_set_timeout(model, 60);
	suite_add_tcase(s, sock);
	suite_add_tcase(s, model);
	return s;
}
