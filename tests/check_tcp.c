/*
 * Layer 1 on real loopback sockets: settings read back from the kernel,
 * inheritance by accepted sockets, bad input that changes nothing, abort,
 * failing system calls (interposed by tests/wrap.c) that change nothing
 * either, and the schedule model behind liveness_tcp_bound() and the
 * planner.
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
#include "wrap.h"

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

	if (fd < 0) {
		/* Only a kernel without IPv6 (ipv6.disable=1, or built so) refuses the socket. */
		printf("SKIP tcp ipv6_socket_accepted: socket(AF_INET6): %s\n", strerror(errno));
		fflush(stdout);
		return;
	}
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
	unsigned sets;
	int r;

	tu_pair(&c, &s);
	ck_assert_int_eq(liveness_tcp_set(c, &(struct liveness_tcp){1, 11, 2, 3, 777, -1}), 0);
	ck_assert_int_eq(liveness_tcp_get(c, &before), 0);
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		/* Refused before any setsockopt: the kernel's own refusal is not what holds it. */
		wrap_reset();
		r = liveness_tcp_set(c, &bad[i]);
		sets = wrap_calls(WRAP_SETSOCKOPT);
		wrap_reset();
		ck_assert_msg(r == -EINVAL, "bad[%zu]: %d", i, r);
		ck_assert_msg(sets == 0, "bad[%zu]: %u setsockopt calls", i, sets);
		ck_assert_int_eq(liveness_tcp_get(c, &after), 0);
		assert_same(&after, &before);
	}
	/* Each range's ends are in it. */
	before = (struct liveness_tcp){0, 1, 1, 1, 0, LIVENESS_TCP_MAX_LINGER};
	ck_assert_int_eq(liveness_tcp_set(c, &before), 0);
	ck_assert_int_eq(liveness_tcp_get(c, &after), 0);
	assert_same(&after, &before);
	before = (struct liveness_tcp){1,
				       LIVENESS_TCP_MAX_IDLE,
				       LIVENESS_TCP_MAX_INTERVAL,
				       LIVENESS_TCP_MAX_COUNT,
				       INT_MAX,
				       0};
	ck_assert_int_eq(liveness_tcp_set(c, &before), 0);
	ck_assert_int_eq(liveness_tcp_get(c, &after), 0);
	assert_same(&after, &before);
	close(c);
	close(s);
}
END_TEST

START_TEST(descriptor_zero_is_a_descriptor)
{
	struct liveness_tcp got, sys;
	int c, s, saved = dup(0);

	/* Descriptor 0 is a socket like any other once stdin is closed or moved. */
	ck_assert_int_ge(saved, 0);
	tu_pair(&c, &s);
	ck_assert_int_eq(dup2(c, 0), 0);
	ck_assert_int_eq(liveness_tcp_set(0, &sample), 0);
	ck_assert_int_eq(liveness_tcp_get(0, &got), 0);
	assert_same(&got, &sample);
	/* And the setting socket of liveness_tcp_system() may get it, and must give it back. */
	close(0);
	ck_assert_int_eq(liveness_tcp_system(&sys), 0);
	ck_assert_int_eq(sys.keepalive, 0);
	ck_assert_int_eq(fcntl(0, F_GETFD), -1);
	ck_assert_int_eq(dup2(saved, 0), 0);
	close(saved);
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
	t.linger = 1; /* however short */
	ck_assert_int_eq(liveness_tcp_set(c, &t), -EINVAL);
	ck_assert_int_eq(liveness_tcp_get(c, &after), 0);
	assert_same(&after, &before);
	t.linger = 5;
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

START_TEST(system_matches_sysctls)
{
	struct liveness_tcp t;
	int fd = socket(AF_INET, SOCK_STREAM, 0);

	ck_assert_int_eq(liveness_tcp_system(&t), 0);
	ck_assert_int_eq(t.keepalive, 0);
	ck_assert_int_eq(t.idle, tu_sysctl_ipv4("tcp_keepalive_time"));
	ck_assert_int_eq(t.interval, tu_sysctl_ipv4("tcp_keepalive_intvl"));
	ck_assert_int_eq(t.count, tu_sysctl_ipv4("tcp_keepalive_probes"));
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

/*
 * Is the connection from local port to remote port (on 127.0.0.1) in the
 * kernel's table, orphans and TIME_WAIT included? Both ports, because the
 * table also holds other runs' TIME_WAIT sockets, and a local port of one of
 * them may come back as the local port of a connection to another peer.
 */
static int in_table(uint16_t local, uint16_t remote)
{
	char line[512];
	unsigned l, r;
	FILE *f = fopen("/proc/net/tcp", "r");
	int found = 0;

	ck_assert_ptr_nonnull(f);
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, " %*u: %*x:%x %*x:%x", &l, &r) == 2 && l == local && r == remote)
			found = 1;
	fclose(f);
	return found;
}

static uint16_t peer_port(int fd)
{
	struct sockaddr_in a;
	socklen_t len = sizeof(a);

	ck_assert_int_eq(getpeername(fd, (struct sockaddr *)&a, &len), 0);
	return ntohs(a.sin_port);
}

START_TEST(abort_sends_rst_and_frees_socket)
{
	int c, s;
	char b;
	uint16_t port, peer;

	tu_pair(&c, &s);
	port = tu_port(c);
	peer = peer_port(c);
	ck_assert(in_table(port, peer));
	ck_assert_int_eq(liveness_abort(c), 0);
	/* The fd is closed, the peer reads RST, and no TIME_WAIT or FIN_WAIT remains. */
	ck_assert_int_eq(fcntl(c, F_GETFD), -1);
	ck_assert_int_eq(read(s, &b, 1), -1);
	ck_assert_int_eq(errno, ECONNRESET);
	ck_assert(!in_table(port, peer));
	close(s);
}
END_TEST

START_TEST(plain_close_leaves_time_wait)
{
	/* The contrast for the test above: an orderly close keeps the socket in the table. */
	int c, s;
	char b;
	uint16_t port, peer;

	tu_pair(&c, &s);
	port = tu_port(c);
	peer = peer_port(c);
	close(c);
	ck_assert_int_eq(read(s, &b, 1), 0);
	close(s);
	ck_assert(in_table(port, peer));
}
END_TEST

START_TEST(stream_socket_of_another_protocol_refused)
{
	/*
	 * SCTP's one-to-one style and MPTCP make stream sockets whose
	 * SO_PROTOCOL is not TCP's; whether or not this kernel has either, a
	 * TCP socket made to report SCTP stands in for them.
	 */
	struct liveness_tcp before, after, t;
	struct liveness_tcp_info info;
	int c, s, r[4];

	tu_pair(&c, &s);
	ck_assert_int_eq(liveness_tcp_get(c, &before), 0);
	wrap_lie(SOL_SOCKET, SO_PROTOCOL, 1, IPPROTO_SCTP);
	r[0] = liveness_tcp_set(c, &sample);
	wrap_lie(SOL_SOCKET, SO_PROTOCOL, 1, IPPROTO_SCTP);
	r[1] = liveness_tcp_get(c, &t);
	wrap_lie(SOL_SOCKET, SO_PROTOCOL, 1, IPPROTO_SCTP);
	r[2] = liveness_tcp_info(c, &info);
	wrap_lie(SOL_SOCKET, SO_PROTOCOL, 1, IPPROTO_SCTP);
	r[3] = liveness_abort(c);
	wrap_reset();
	ck_assert_int_eq(r[0], -EPROTOTYPE);
	ck_assert_int_eq(r[1], -EPROTOTYPE);
	ck_assert_int_eq(r[2], -EPROTOTYPE);
	ck_assert_int_eq(r[3], -EPROTOTYPE);
	/* Nothing changed, and the refused abort left the socket open. */
	ck_assert_int_eq(liveness_tcp_get(c, &after), 0);
	assert_same(&after, &before);
	ck_assert_int_ne(fcntl(c, F_GETFD), -1);
	close(c);
	close(s);
}
END_TEST

/* ---- failing system calls (tests/wrap.c) ---- */

/* Differs from sample in every field, so a half-applied sample shows. */
static const struct liveness_tcp before_sample = {
	.keepalive = 0, .idle = 11, .interval = 2, .count = 3, .user_timeout = 777, .linger = -1};

/* What the kernel holds, read with plain getsockopt, equals *want. */
static void assert_kernel_holds(int fd, const struct liveness_tcp *want)
{
	struct linger l;
	socklen_t len = sizeof(l);

	ck_assert_int_eq(raw(fd, SOL_SOCKET, SO_KEEPALIVE) != 0, want->keepalive);
	ck_assert_int_eq(raw(fd, IPPROTO_TCP, TCP_KEEPIDLE), want->idle);
	ck_assert_int_eq(raw(fd, IPPROTO_TCP, TCP_KEEPINTVL), want->interval);
	ck_assert_int_eq(raw(fd, IPPROTO_TCP, TCP_KEEPCNT), want->count);
	ck_assert_uint_eq((unsigned)raw(fd, IPPROTO_TCP, TCP_USER_TIMEOUT), want->user_timeout);
	ck_assert_int_eq(getsockopt(fd, SOL_SOCKET, SO_LINGER, &l, &len), 0);
	ck_assert_int_eq(l.l_onoff ? l.l_linger : -1, want->linger);
}

/* A connected socket holding before_sample; *sets and *gets: the calls one good set makes. */
static void prepared_pair(int *c, int *s, unsigned *sets, unsigned *gets)
{
	tu_pair(c, s);
	wrap_reset();
	ck_assert_int_eq(liveness_tcp_set(*c, &before_sample), 0);
	*sets = wrap_calls(WRAP_SETSOCKOPT);
	*gets = wrap_calls(WRAP_GETSOCKOPT);
	wrap_reset();
	/* Every option is set, and read before and after: the rollbacks below rely on it. */
	ck_assert_uint_eq(*sets, 6);
	ck_assert_uint_ge(*gets, 12);
	assert_kernel_holds(*c, &before_sample);
}

START_TEST(set_failing_midway_restores_every_option)
{
	unsigned sets, gets, i, calls;
	int c, s, r;

	prepared_pair(&c, &s, &sets, &gets);
	for (i = 1; i <= sets; i++) {
		wrap_fail(WRAP_SETSOCKOPT, i, 1, ENOBUFS);
		r = liveness_tcp_set(c, &sample);
		calls = wrap_calls(WRAP_SETSOCKOPT);
		wrap_reset();
		ck_assert_msg(r == -ENOBUFS, "setsockopt %u of %u failing: %d", i, sets, r);
		/* The options before the failing one, then all of them again, to the old values. */
		ck_assert_uint_eq(calls, i + sets);
		assert_kernel_holds(c, &before_sample);
	}
	close(c);
	close(s);
}
END_TEST

START_TEST(set_getsockopt_failing_changes_nothing)
{
	unsigned sets, gets, i;
	int c, s, r;

	prepared_pair(&c, &s, &sets, &gets);
	/* The socket check, the old values and the read-back: each may fail. */
	for (i = 1; i <= gets; i++) {
		wrap_fail(WRAP_GETSOCKOPT, i, 1, ENOBUFS);
		r = liveness_tcp_set(c, &sample);
		wrap_reset();
		ck_assert_msg(r == -ENOBUFS, "getsockopt %u of %u failing: %d", i, gets, r);
		assert_kernel_holds(c, &before_sample);
	}
	close(c);
	close(s);
}
END_TEST

START_TEST(set_read_back_differing_is_eio_and_rolled_back)
{
	static const struct {
		int level, name, lie;
	} opts[] = {
		{SOL_SOCKET, SO_KEEPALIVE, 0},	       {IPPROTO_TCP, TCP_KEEPIDLE, 8},
		{IPPROTO_TCP, TCP_KEEPINTVL, 4},       {IPPROTO_TCP, TCP_KEEPCNT, 5},
		{IPPROTO_TCP, TCP_USER_TIMEOUT, 4999}, {SOL_SOCKET, SO_LINGER, -1},
	};
	unsigned sets, gets;
	size_t i;
	int c, s, r;

	prepared_pair(&c, &s, &sets, &gets);
	for (i = 0; i < sizeof(opts) / sizeof(opts[0]); i++) {
		/* The first read of the option is the old value; the second, the read-back. */
		wrap_lie(opts[i].level, opts[i].name, 2, opts[i].lie);
		r = liveness_tcp_set(c, &sample);
		wrap_reset();
		ck_assert_msg(r == -EIO, "option %zu read back differing: %d", i, r);
		assert_kernel_holds(c, &before_sample);
	}
	/* And with the truth read back, the same call succeeds. */
	ck_assert_int_eq(liveness_tcp_set(c, &sample), 0);
	assert_kernel_holds(c, &sample);
	close(c);
	close(s);
}
END_TEST

START_TEST(set_fcntl_failing_changes_nothing)
{
	struct liveness_tcp t = sample;
	unsigned sets, gets;
	int c, s, r;

	prepared_pair(&c, &s, &sets, &gets);
	t.linger = 5; /* a positive linger makes the setter ask whether fd is non-blocking */
	wrap_fail(WRAP_FCNTL, 1, 1, ENOLCK);
	r = liveness_tcp_set(c, &t);
	wrap_reset();
	ck_assert_int_eq(r, -ENOLCK);
	assert_kernel_holds(c, &before_sample);
	close(c);
	close(s);
}
END_TEST

START_TEST(get_getsockopt_failing_changes_nothing)
{
	struct liveness_tcp got, poison;
	unsigned gets, i;
	int c, s, r;

	tu_pair(&c, &s);
	wrap_reset();
	ck_assert_int_eq(liveness_tcp_get(c, &got), 0);
	gets = wrap_calls(WRAP_GETSOCKOPT);
	wrap_reset();
	ck_assert_uint_ge(gets, 6);
	memset(&poison, 0x5a, sizeof(poison));
	for (i = 1; i <= gets; i++) {
		got = poison;
		wrap_fail(WRAP_GETSOCKOPT, i, 1, ENOBUFS);
		r = liveness_tcp_get(c, &got);
		wrap_reset();
		ck_assert_msg(r == -ENOBUFS, "getsockopt %u of %u failing: %d", i, gets, r);
		ck_assert_mem_eq(&got, &poison, sizeof(got));
	}
	close(c);
	close(s);
}
END_TEST

/* The lowest free descriptor: a leaked one moves it. */
static int lowest_free_fd(void)
{
	int fd = dup(0);

	ck_assert_int_ge(fd, 0);
	close(fd);
	return fd;
}

START_TEST(system_errors_propagate_and_leak_nothing)
{
	struct liveness_tcp want, got, poison;
	unsigned gets, i;
	int r, free_fd = lowest_free_fd();

	memset(&poison, 0x5a, sizeof(poison));
	wrap_reset();
	ck_assert_int_eq(liveness_tcp_system(&want), 0);
	gets = wrap_calls(WRAP_GETSOCKOPT);
	wrap_reset();
	ck_assert_uint_ge(gets, 6);
	for (i = 1; i <= gets; i++) {
		got = poison;
		wrap_fail(WRAP_GETSOCKOPT, i, 1, ENOBUFS);
		r = liveness_tcp_system(&got);
		wrap_reset();
		ck_assert_msg(r == -ENOBUFS, "getsockopt %u of %u failing: %d", i, gets, r);
		ck_assert_mem_eq(&got, &poison, sizeof(got));
		ck_assert_int_eq(lowest_free_fd(), free_fd);
	}
	/* No socket at all. */
	got = poison;
	wrap_fail(WRAP_SOCKET, 1, 0, EMFILE);
	r = liveness_tcp_system(&got);
	wrap_reset();
	ck_assert_int_eq(r, -EMFILE);
	ck_assert_mem_eq(&got, &poison, sizeof(got));
	/* No IPv4 socket: an IPv6 one reports the same defaults, if the kernel has IPv6. */
	got = poison;
	wrap_fail(WRAP_SOCKET, 1, 1, EAFNOSUPPORT);
	r = liveness_tcp_system(&got);
	i = wrap_calls(WRAP_SOCKET);
	wrap_reset();
	ck_assert_uint_eq(i, 2);
	if (r == 0) {
		assert_same(&got, &want);
	} else {
		int fd = socket(AF_INET6, SOCK_STREAM, 0);

		ck_assert_int_eq(r, -errno);
		ck_assert_int_lt(fd, 0);
		ck_assert_mem_eq(&got, &poison, sizeof(got));
	}
	ck_assert_int_eq(lowest_free_fd(), free_fd);
}
END_TEST

START_TEST(abort_errors_leave_the_connection_open)
{
	unsigned gets, i;
	int c, s, r;
	char b = 'x';
	struct linger l;
	socklen_t len = sizeof(l);

	/* How many getsockopt calls the socket check makes, from an abort that succeeds. */
	tu_pair(&c, &s);
	wrap_reset();
	ck_assert_int_eq(liveness_abort(c), 0);
	gets = wrap_calls(WRAP_GETSOCKOPT);
	wrap_reset();
	ck_assert_uint_ge(gets, 1);
	close(s);

	tu_pair(&c, &s);
	wrap_fail(WRAP_SETSOCKOPT, 1, 1, ENOBUFS);
	r = liveness_abort(c);
	wrap_reset();
	ck_assert_int_eq(r, -ENOBUFS);
	for (i = 1; i <= gets; i++) {
		wrap_fail(WRAP_GETSOCKOPT, i, 1, ENOBUFS);
		r = liveness_abort(c);
		wrap_reset();
		ck_assert_msg(r == -ENOBUFS, "getsockopt %u of %u failing: %d", i, gets, r);
	}
	/* Still open, connected, and with no abortive linger left behind. */
	ck_assert_int_ne(fcntl(c, F_GETFD), -1);
	ck_assert_int_eq(write(c, &b, 1), 1);
	ck_assert_int_eq(read(s, &b, 1), 1);
	ck_assert_int_eq(getsockopt(c, SOL_SOCKET, SO_LINGER, &l, &len), 0);
	ck_assert_int_eq(l.l_onoff, 0);
	close(c);
	ck_assert_int_eq(read(s, &b, 1), 0); /* FIN, not RST */
	close(s);
}
END_TEST

START_TEST(info_getsockopt_failing_changes_nothing)
{
	struct liveness_tcp_info info, poison;
	unsigned gets, i;
	int c, s, r;

	tu_pair(&c, &s);
	wrap_reset();
	ck_assert_int_eq(liveness_tcp_info(c, &info), 0);
	gets = wrap_calls(WRAP_GETSOCKOPT);
	wrap_reset();
	ck_assert_uint_ge(gets, 2);
	memset(&poison, 0x5a, sizeof(poison));
	for (i = 1; i <= gets; i++) {
		info = poison;
		wrap_fail(WRAP_GETSOCKOPT, i, 1, ENOBUFS);
		r = liveness_tcp_info(c, &info);
		wrap_reset();
		ck_assert_msg(r == -ENOBUFS, "getsockopt %u of %u failing: %d", i, gets, r);
		ck_assert_mem_eq(&info, &poison, sizeof(info));
	}
	close(c);
	close(s);
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

#define RETRIES2 "/proc/sys/net/ipv4/tcp_retries2"

START_TEST(bound_busy_default_retries)
{
	struct liveness_tcp t;
	liveness_time nominal, worst;

	ck_assert_int_eq(liveness_tcp_system(&t), 0);
	/* The 924.6 s figure belongs to the stock value, whatever this host is set to. */
	wrap_file(RETRIES2, "15\n");
	nominal = liveness_tcp_bound(&t, LIVENESS_BUSY | LIVENESS_NOMINAL);
	worst = liveness_tcp_bound(&t, LIVENESS_BUSY);
	wrap_reset();
	/* The kernel's "hypothetical" 924.6 s from retrans_stamp, on the real RTO grid. */
	ck_assert_uint_ge(nominal, 924600 * LIVENESS_MSEC);
	ck_assert_uint_le(nominal, 940 * LIVENESS_SEC);
	ck_assert_uint_gt(worst, nominal);
	printf("stock retransmissions: nominal %.1f s, worst %.1f s\n", nominal / 1e9, worst / 1e9);
}
END_TEST

static liveness_time busy_with_retries2(const char *contents)
{
	struct liveness_tcp t = ka(2, 1, 9, 0);
	liveness_time b;

	wrap_file(RETRIES2, contents);
	b = liveness_tcp_bound(&t, LIVENESS_BUSY | LIVENESS_NOMINAL);
	wrap_reset();
	return b;
}

START_TEST(bound_busy_follows_tcp_retries2)
{
	liveness_time stock = busy_with_retries2("15\n"), prev = 0, b;
	char text[16];
	int r;

	/*
	 * With tcp_retries2 = 0 the connection dies at the first retransmission
	 * timer after retrans_stamp: the tail loss probe after one RTO (210 ms
	 * at HZ 100, the worst), the first retransmission after another, then
	 * the backed-off 420 ms.
	 */
	ck_assert_uint_eq(busy_with_retries2("0\n"), 840 * LIVENESS_MSEC);
	/* Each retry more is a later death, 0 to 255 (the kernel's range). */
	for (r = 0; r <= 255; r++) {
		snprintf(text, sizeof(text), "%d\n", r);
		b = busy_with_retries2(text);
		ck_assert_msg(b > prev, "tcp_retries2 %d: %llu ns, not after %llu", r,
			      (unsigned long long)b, (unsigned long long)prev);
		ck_assert_uint_lt(b, LIVENESS_NEVER);
		prev = b;
	}
	/* What cannot be read, or is out of range, counts as the stock 15. */
	ck_assert_uint_eq(busy_with_retries2(NULL), stock);
	ck_assert_uint_eq(busy_with_retries2(""), stock);
	ck_assert_uint_eq(busy_with_retries2("fifteen\n"), stock);
	ck_assert_uint_eq(busy_with_retries2("-1\n"), stock);
	ck_assert_uint_eq(busy_with_retries2("256\n"), stock);
	ck_assert_uint_ne(busy_with_retries2("14\n"), stock);
}
END_TEST

START_TEST(bound_reads_tcp_retries2_only_when_it_counts)
{
	struct liveness_tcp t = ka(2, 1, 9, 0);
	unsigned idle, busy, busy_u, null_t;

	/* Only a busy connection without a user timeout dies by tcp_retries2. */
	wrap_reset();
	liveness_tcp_bound(&t, LIVENESS_IDLE);
	idle = wrap_calls(WRAP_FOPEN);
	wrap_reset();
	liveness_tcp_bound(&t, LIVENESS_BUSY);
	busy = wrap_calls(WRAP_FOPEN);
	wrap_reset();
	t.user_timeout = 3000;
	liveness_tcp_bound(&t, LIVENESS_BUSY);
	busy_u = wrap_calls(WRAP_FOPEN);
	wrap_reset();
	liveness_tcp_bound(NULL, LIVENESS_BUSY);
	null_t = wrap_calls(WRAP_FOPEN);
	wrap_reset();
	ck_assert_uint_eq(idle, 0);
	ck_assert_uint_eq(busy, 1);
	ck_assert_uint_eq(busy_u, 0);
	ck_assert_uint_eq(null_t, 0);
}
END_TEST

START_TEST(bound_invalid_input_is_zero)
{
	/* 0, which no valid setting gives (detection takes at least a second): never an answer. */
	struct liveness_tcp t = ka(2, 1, 9, 0);

	ck_assert_uint_eq(liveness_tcp_bound(NULL, LIVENESS_IDLE), 0);
	ck_assert_uint_eq(liveness_tcp_bound(&t, 4), 0);
	ck_assert_uint_eq(liveness_tcp_bound(&t, -1), 0);
	t.idle = 0;
	ck_assert_uint_eq(liveness_tcp_bound(&t, LIVENESS_IDLE), 0);
	t.idle = 2;
	t.count = 128;
	ck_assert_uint_eq(liveness_tcp_bound(&t, LIVENESS_BUSY), 0);
	/* Each field one past either end of its range, in both cases. */
	{
		struct liveness_tcp bad[] = {ka(2, 1, 9, 0), ka(2, 1, 9, 0), ka(2, 1, 9, 0),
					     ka(2, 1, 9, 0), ka(2, 1, 9, 0), ka(2, 1, 9, 0),
					     ka(2, 1, 9, 0), ka(2, 1, 9, 0), ka(2, 1, 9, 0)};
		size_t i;
		int f;

		bad[0].keepalive = 2;
		bad[1].idle = 0;
		bad[2].idle = LIVENESS_TCP_MAX_IDLE + 1;
		bad[3].interval = 0;
		bad[4].interval = LIVENESS_TCP_MAX_INTERVAL + 1;
		bad[5].count = 0;
		bad[6].count = LIVENESS_TCP_MAX_COUNT + 1;
		bad[7].user_timeout = (unsigned)INT_MAX + 1;
		bad[8].keepalive = -1;
		for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
			for (f = 0; f <= (LIVENESS_BUSY | LIVENESS_NOMINAL); f++)
				ck_assert_msg(liveness_tcp_bound(&bad[i], f) == 0,
					      "bad[%zu], flags %d: not refused", i, f);
	}
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
	ck_assert_uint_ge(liveness_tcp_bound(&t, LIVENESS_BUSY),
			  (liveness_time)INT_MAX * LIVENESS_MSEC);
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
	static const double secs[] = {
		2.2, 2.5, 3,   4,   5,	  7.5,	10,   15,    30,	45,	    60,
		90,  120, 300, 600, 1800, 3600, 7200, 86400, 3 * 86400, 14 * 86400, 24 * 86400};
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

/*
 * A second model of the kernel's schedule, restated from the kernel's own
 * code as liveness_tcp_bound(3) describes it, to hold the library to it for
 * many settings: a timer of delay d is armed as whole jiffies, filed in the
 * timer wheel's level for that delay (kernel/time/timer.c,
 * calc_wheel_index(): level n from LVL_START(n) = 63 << 3 * (n - 1)
 * jiffies on, granularity 8^n), fires up to one granularity after its
 * expiry at the bucket's end, and runs in the next tick's softirq.
 */
static const unsigned ref_hz[] = {100, 250, 300, 1000};

/* When a timer armed with delay d fires, at the latest (or exactly, nominally). */
static liveness_time ref_timer(liveness_time d, unsigned hz, int nominal)
{
	liveness_time jiffy = LIVENESS_SEC / hz;
	uint64_t delta = (d + jiffy - 1) / jiffy, gran = 1;
	unsigned level;

	if (nominal)
		return d;
	for (level = 1; level < 9 && delta >= (63ull << (3 * (level - 1))); level++)
		gran = 1ull << (3 * level);
	return (delta + gran + 1) * jiffy;
}

/* tcp_model_timeout(): the RTO's doubling from TCP_RTO_MIN, capped at TCP_RTO_MAX, summed. */
static liveness_time ref_retries_limit(int retries)
{
	liveness_time limit = 0, rto = 200 * LIVENESS_MSEC;
	int i;

	for (i = 0; i <= retries; i++) {
		limit += rto;
		rto = rto * 2 < 120 * LIVENESS_SEC ? rto * 2 : 120 * LIVENESS_SEC;
	}
	return limit;
}

static liveness_time ref_schedule(const struct liveness_tcp *t, int busy, int nominal, int retries,
				  unsigned hz)
{
	liveness_time jiffy = LIVENESS_SEC / hz, idle = (liveness_time)t->idle * LIVENESS_SEC;
	liveness_time intvl = (liveness_time)t->interval * LIVENESS_SEC;
	liveness_time u = (liveness_time)t->user_timeout * LIVENESS_MSEC;
	/* The smallest RTO: TCP_RTO_MIN and a sliver of round-trip time, in whole jiffies. */
	liveness_time rto = (200 * LIVENESS_MSEC / jiffy + 1) * jiffy, stamp, at = 0, d;
	uint64_t probes = (uint64_t)t->count;

	if (!busy) {
		/* The probe on whose tick U has passed: the first at idle + k * intvl >= U. */
		if (u != 0)
			for (probes = 1; idle + probes * intvl < u; probes++)
				;
		return ref_timer(idle, hz, nominal) + probes * ref_timer(intvl, hz, nominal);
	}
	/* The tail loss probe, then the first retransmission: retrans_stamp. */
	stamp = 2 * ref_timer(rto, hz, nominal);
	if (u != 0) {
		/* The last retransmission timer is clamped to fire at retrans_stamp + U. */
		d = u < 120 * LIVENESS_SEC ? u : 120 * LIVENESS_SEC;
		return stamp + u + (ref_timer(d, hz, nominal) - d);
	}
	for (d = rto; at < ref_retries_limit(retries);) {
		d = d * 2 < 120 * LIVENESS_SEC ? d * 2 : 120 * LIVENESS_SEC;
		at += ref_timer(d, hz, nominal);
	}
	return stamp + at;
}

/* The worst over the HZ values; *which says which HZ it was (the first, on a tie). */
static liveness_time ref_bound(const struct liveness_tcp *t, int flags, int retries, size_t *which)
{
	liveness_time worst = 0, b;
	size_t i;

	if (!(flags & LIVENESS_BUSY) && !t->keepalive)
		return LIVENESS_NEVER;
	for (i = 0; i < sizeof(ref_hz) / sizeof(ref_hz[0]); i++) {
		b = ref_schedule(t, flags & LIVENESS_BUSY, (flags & LIVENESS_NOMINAL) != 0, retries,
				 ref_hz[i]);
		if (b > worst) {
			worst = b;
			*which = i;
		}
	}
	return worst;
}

static uint64_t xorshift(uint64_t *x)
{
	*x ^= *x << 13;
	*x ^= *x >> 7;
	*x ^= *x << 17;
	return *x;
}

START_TEST(bound_matches_reference_model)
{
	/* Whole seconds on either side of a wheel level's start, for each HZ, and the extremes. */
	static const int edges[] = {1,	  2,	3,    4,    5,	   6,	  13,	 14,	16,   17,
				    32,	  33,	40,   41,   107,   108,	  129,	 130,	258,  259,
				    322,  323,	860,  861,  1032,  1033,  2064,	 2065,	2580, 2581,
				    6881, 6882, 8257, 8258, 16515, 16516, 20643, 20644, 32767};
	const size_t nedges = sizeof(edges) / sizeof(edges[0]);
	/* User timeouts (ms) where a wheel level starts, for each HZ: 63 * 8^n jiffies. */
	static const unsigned u_edges[] = {63,	504,  4032,  32256, 252,  2016,	 16128,
					   630, 5040, 40320, 210,   1680, 13440, 107520};
	unsigned worst_by_hz[4] = {0, 0, 0, 0};
	uint64_t x = 0x2545f4914f6cdd1dull;
	size_t which = 0, i, f;
	struct liveness_tcp t;

	wrap_file(RETRIES2, "15\n"); /* the same busy limit wherever this runs */
	for (i = 0; i < 5000; i++) {
		t.keepalive = 1;
		t.linger = -1;
		t.idle = i % 2 ? edges[xorshift(&x) % nedges] : (int)(xorshift(&x) % 32767) + 1;
		t.interval = i % 3 ? edges[xorshift(&x) % nedges] : (int)(xorshift(&x) % 32767) + 1;
		t.count = (int)(xorshift(&x) % 127) + 1;
		switch (i % 5) {
		case 4: /* a millisecond either side of a level's start */
			t.user_timeout =
				u_edges[xorshift(&x) % (sizeof(u_edges) / sizeof(u_edges[0]))] +
				(unsigned)(xorshift(&x) % 3) - 1u;
			break;
		case 0: t.user_timeout = 0; break;
		case 1: /* a millisecond either side of a probe tick */
			t.user_timeout =
				(unsigned)(t.idle + (int)(xorshift(&x) % 4) * t.interval) * 1000u +
				(unsigned)(xorshift(&x) % 3) - 1u;
			break;
		case 2: /* around TCP_RTO_MAX, where the clamped timer stops growing */
			t.user_timeout = 119998u + (unsigned)(xorshift(&x) % 5);
			break;
		default: t.user_timeout = (unsigned)(xorshift(&x) % INT_MAX) + 1u; break;
		}
		for (f = 0; f < 4; f++) {
			liveness_time want = ref_bound(&t, (int)f, 15, &which);
			liveness_time got = liveness_tcp_bound(&t, (int)f);

			ck_assert_msg(got == want,
				      "keepalive %d idle %d interval %d count %d U %u flags %zu: "
				      "%llu ns, the model says %llu",
				      t.keepalive, t.idle, t.interval, t.count, t.user_timeout, f,
				      (unsigned long long)got, (unsigned long long)want);
			if (!(f & LIVENESS_NOMINAL))
				worst_by_hz[which]++;
		}
	}
	wrap_reset();
	/* The sweep is only as good as its reach: each HZ must have been the worst somewhere. */
	for (i = 0; i < 4; i++)
		ck_assert_msg(worst_by_hz[i] > 0, "HZ %u was never the worst case", ref_hz[i]);
}
END_TEST

START_TEST(bound_busy_matches_reference_for_every_tcp_retries2)
{
	struct liveness_tcp t = ka(2, 1, 9, 0);
	size_t which;
	char text[16];
	int r, f;

	for (r = 0; r <= 255; r++) {
		snprintf(text, sizeof(text), "%d\n", r);
		for (f = LIVENESS_BUSY; f <= (LIVENESS_BUSY | LIVENESS_NOMINAL);
		     f += LIVENESS_NOMINAL) {
			liveness_time got, want = ref_bound(&t, f, r, &which);

			wrap_file(RETRIES2, text);
			got = liveness_tcp_bound(&t, f);
			wrap_reset();
			ck_assert_msg(got == want,
				      "tcp_retries2 %d flags %d: %llu ns, the model says %llu", r,
				      f, (unsigned long long)got, (unsigned long long)want);
		}
	}
}
END_TEST

/* x, rounded to the microsecond, equals us microseconds. */
static void assert_us(liveness_time x, uint64_t us)
{
	ck_assert_msg((x + 500) / 1000 == us, "%llu ns is not %llu us", (unsigned long long)x,
		      (unsigned long long)us);
}

START_TEST(bound_documented_figures)
{
	/* liveness_tcp_plan(3): the stock sysctls, keepalive on, tcp_retries2 15. */
	struct liveness_tcp t = ka(7200, 75, 9, 0);

	wrap_file(RETRIES2, "15\n");
	assert_us(liveness_tcp_bound(&t, LIVENESS_IDLE | LIVENESS_NOMINAL), 7875000000ull);
	assert_us(liveness_tcp_bound(&t, LIVENESS_BUSY | LIVENESS_NOMINAL), 935040000ull);
	assert_us(liveness_tcp_bound(&t, LIVENESS_IDLE), 8764239124ull);
	assert_us(liveness_tcp_bound(&t, LIVENESS_BUSY), 1016056565ull);
	wrap_reset();
	/* And the 3.42 s of a 3000 ms user timeout (nominal). */
	t = ka(2, 1, 9, 3000);
	assert_us(liveness_tcp_bound(&t, LIVENESS_BUSY | LIVENESS_NOMINAL), 3420000ull);
}
END_TEST

START_TEST(bound_reads_tcp_retries2_without_leaking)
{
	struct liveness_tcp t = ka(2, 1, 9, 0);
	int free_fd = lowest_free_fd();
	FILE *f = fopen(RETRIES2, "r");
	unsigned opened;

	/* The real file, so that a stream left open would hold a descriptor. */
	ck_assert_ptr_nonnull(f);
	fclose(f);
	wrap_reset();
	ck_assert_uint_lt(liveness_tcp_bound(&t, LIVENESS_BUSY), LIVENESS_NEVER);
	opened = wrap_calls(WRAP_FOPEN);
	wrap_reset();
	ck_assert_uint_eq(opened, 1);
	ck_assert_int_eq(lowest_free_fd(), free_fd);
}
END_TEST

static struct liveness_tcp planned(liveness_time budget)
{
	struct liveness_tcp p;

	ck_assert_msg(liveness_tcp_plan(&p, budget) == 0, "plan(%llu ns) failed",
		      (unsigned long long)budget);
	return p;
}

START_TEST(plan_matches_documented_examples)
{
	struct liveness_tcp p = planned(60 * LIVENESS_SEC), q = sample;

	/* liveness_tcp_plan(3): 60 s gives idle 30, interval 6, count 4, 54000 ms. */
	ck_assert_int_eq(p.idle, 30);
	ck_assert_int_eq(p.interval, 6);
	ck_assert_int_eq(p.count, 4);
	ck_assert_uint_eq(p.user_timeout, 54000);
	assert_us(liveness_tcp_bound(&p, LIVENESS_IDLE), 57250000ull);
	assert_us(liveness_tcp_bound(&p, LIVENESS_BUSY), 59590000ull);
	assert_us(liveness_tcp_bound(&p, LIVENESS_IDLE | LIVENESS_NOMINAL), 54000000ull);
	assert_us(liveness_tcp_bound(&p, LIVENESS_BUSY | LIVENESS_NOMINAL), 54420000ull);
	/* The smallest budget that can be met is 2.18 s, met exactly both ways. */
	p = planned(2180 * LIVENESS_MSEC);
	ck_assert_int_eq(p.idle, 1);
	ck_assert_int_eq(p.interval, 1);
	ck_assert_int_eq(p.count, 1);
	ck_assert_uint_eq(p.user_timeout, 1630);
	ck_assert_uint_eq(liveness_tcp_bound(&p, LIVENESS_IDLE), 2180 * LIVENESS_MSEC);
	ck_assert_uint_eq(liveness_tcp_bound(&p, LIVENESS_BUSY), 2180 * LIVENESS_MSEC);
	ck_assert_int_eq(liveness_tcp_plan(&q, 2180 * LIVENESS_MSEC - 1), -ERANGE);
	/* The longest is INT_MAX milliseconds. */
	p = planned((liveness_time)INT_MAX * LIVENESS_MSEC);
	ck_assert_int_eq(p.idle, LIVENESS_TCP_MAX_IDLE);
	ck_assert_int_eq(p.interval, LIVENESS_TCP_MAX_INTERVAL);
	ck_assert_int_eq(liveness_tcp_plan(&q, ((liveness_time)INT_MAX + 1) * LIVENESS_MSEC),
			 -ERANGE);
	assert_same(&q, &sample);
}
END_TEST

static int clamp_s(liveness_time s, int max)
{
	return s < 1 ? 1 : s > (liveness_time)max ? max : (int)s;
}

START_TEST(plan_follows_its_recipe)
{
	/*
	 * Budgets where the busy case ends exactly on the budget (2.5, 3.3, 4.5,
	 * 5.5 and 7.9 s), and each cap's edges: idle reaches 32767 at 65534 s,
	 * interval at 327670 s.
	 */
	static const double secs[] = {2.5,    3,      3.3,    4.5,   5.5,    7.9,    9.9,    10,
				      11,     19.5,   20,     21,    60,     61.5,   599,    65533,
				      65534,  65535,  65536,  65537, 327669, 327670, 327679, 327680,
				      327689, 327690, 400000, 1e6,   2e6};
	size_t i;

	for (i = 0; i < sizeof(secs) / sizeof(secs[0]); i++) {
		liveness_time budget = (liveness_time)(secs[i] * 1e9), s = budget / LIVENESS_SEC;
		struct liveness_tcp p = planned(budget), q;

		/* Probes begin after half the budget, then every tenth of it, in whole seconds. */
		ck_assert_int_eq(p.keepalive, 1);
		ck_assert_int_eq(p.linger, -1);
		ck_assert_int_eq(p.idle, clamp_s(s / 2, LIVENESS_TCP_MAX_IDLE));
		ck_assert_int_eq(p.interval, clamp_s(s / 10, LIVENESS_TCP_MAX_INTERVAL));
		/* The count ends an idle connection at the user timeout's tick, without it too. */
		q = p;
		q.user_timeout = 0;
		ck_assert_uint_eq(liveness_tcp_bound(&q, LIVENESS_IDLE | LIVENESS_NOMINAL),
				  liveness_tcp_bound(&p, LIVENESS_IDLE | LIVENESS_NOMINAL));
		ck_assert_uint_eq(liveness_tcp_bound(&q, LIVENESS_IDLE),
				  liveness_tcp_bound(&p, LIVENESS_IDLE));
		/* The user timeout is the largest that meets the budget: 1 ms more does not. */
		ck_assert_uint_le(liveness_tcp_bound(&p, LIVENESS_BUSY), budget);
		ck_assert_uint_le(liveness_tcp_bound(&p, LIVENESS_IDLE), budget);
		q = p;
		q.user_timeout++;
		ck_assert_msg(liveness_tcp_bound(&q, LIVENESS_BUSY) > budget ||
				      liveness_tcp_bound(&q, LIVENESS_IDLE) > budget,
			      "budget %.3f s: %u ms would do as well", budget / 1e9,
			      q.user_timeout);
		/* A nanosecond less is met too: the budget is a limit, not a target. */
		q = planned(budget - 1);
		ck_assert_uint_le(liveness_tcp_bound(&q, LIVENESS_BUSY), budget - 1);
		ck_assert_uint_le(liveness_tcp_bound(&q, LIVENESS_IDLE), budget - 1);
	}
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
	tcase_add_test(sock, stream_socket_of_another_protocol_refused);
	tcase_add_test(sock, descriptor_zero_is_a_descriptor);
	tcase_add_test(sock, null_arguments_refused);
	tcase_add_test(sock, out_of_range_values_change_nothing);
	tcase_add_test(sock, positive_linger_refused_on_nonblocking);
	tcase_add_test(sock, system_matches_sysctls);
	tcase_add_test(sock, abort_sends_rst_and_frees_socket);
	tcase_add_test(sock, plain_close_leaves_time_wait);
	tcase_add_test(sock, set_failing_midway_restores_every_option);
	tcase_add_test(sock, set_getsockopt_failing_changes_nothing);
	tcase_add_test(sock, set_read_back_differing_is_eio_and_rolled_back);
	tcase_add_test(sock, set_fcntl_failing_changes_nothing);
	tcase_add_test(sock, get_getsockopt_failing_changes_nothing);
	tcase_add_test(sock, system_errors_propagate_and_leak_nothing);
	tcase_add_test(sock, abort_errors_leave_the_connection_open);
	tcase_add_test(sock, info_getsockopt_failing_changes_nothing);
	tcase_add_test(model, bound_stock_keepalive_is_7875s_nominal);
	tcase_add_test(model, bound_keepalive_off_idle_is_never);
	tcase_add_test(model, bound_user_timeout_grid);
	tcase_add_test(model, bound_busy_user_timeout_includes_probe_and_first_rto);
	tcase_add_test(model, bound_busy_default_retries);
	tcase_add_test(model, bound_busy_follows_tcp_retries2);
	tcase_add_test(model, bound_reads_tcp_retries2_only_when_it_counts);
	tcase_add_test(model, bound_invalid_input_is_zero);
	tcase_add_test(model, bound_extremes_do_not_overflow);
	tcase_add_test(model, plan_meets_budgets_from_seconds_to_weeks);
	tcase_add_test(model, plan_meets_random_budgets);
	tcase_add_test(model, plan_refuses_impossible_budgets);
	tcase_add_test(model, bound_matches_reference_model);
	tcase_add_test(model, bound_busy_matches_reference_for_every_tcp_retries2);
	tcase_add_test(model, bound_documented_figures);
	tcase_add_test(model, bound_reads_tcp_retries2_without_leaking);
	tcase_add_test(model, plan_matches_documented_examples);
	tcase_add_test(model, plan_follows_its_recipe);
	tcase_set_timeout(model, 60);
	suite_add_tcase(s, sock);
	suite_add_tcase(s, model);
	return s;
}
