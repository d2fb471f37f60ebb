/*
 * Layer 2, fast: on loopback, FIN, RST, refused connects, healthy sockets,
 * the poll-only path through SO_ERROR and the TCP state, EPIPE after a
 * consumed RST and after our own shutdown, errno mapping, what is gathered
 * from a socket, and liveness_tcp_info() snapshots. Then every rule that
 * tells a timeout from a RST once the kernel has closed the connection,
 * held to made-up kernel states at their boundaries and to states this
 * kernel left after real deaths. Deaths that need a vanished host are
 * reproduced in check_fault.c.
 */
#include <arpa/inet.h>
#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "../lib/internal.h"
#include "liveness.h"
#include "util.h"
#include "wrap.h"

/* ---- Real sockets on loopback ------------------------------------------ */

START_TEST(healthy_connection_is_alive)
{
	int c, s;
	char b = 'x';

	tu_pair(&c, &s);
	fcntl(c, F_SETFL, O_NONBLOCK);
	ck_assert_int_eq(read(c, &b, 1), -1);
	ck_assert_int_eq(liveness_diagnose(c, -1, errno), LIVENESS_ALIVE); /* EAGAIN */
	ck_assert_int_eq(liveness_diagnose(c, -1, 0), LIVENESS_ALIVE);
	ck_assert_int_eq(write(s, &b, 1), 1);
	ck_assert_int_eq(liveness_diagnose(c, 1, 0), LIVENESS_ALIVE);
	close(c);
	close(s);
}
END_TEST

START_TEST(peer_close_is_closed)
{
	int c, s;
	char b;

	tu_pair(&c, &s);
	close(s);
	ck_assert_uint_ne(tu_wait_readable(c, 2 * LIVENESS_SEC), LIVENESS_NEVER);
	/* Through the poll-only path first: the state is CLOSE_WAIT. */
	ck_assert_int_eq(liveness_diagnose(c, -1, 0), LIVENESS_CLOSED);
	ck_assert_int_eq(read(c, &b, 1), 0);
	ck_assert_int_eq(liveness_diagnose(c, 0, 0), LIVENESS_CLOSED);
	close(c);
}
END_TEST

START_TEST(peer_abort_is_reset)
{
	int c, s;
	char b;
	ssize_t r;

	tu_pair(&c, &s);
	ck_assert_int_eq(liveness_abort(s), 0);
	ck_assert_uint_ne(tu_wait_readable(c, 2 * LIVENESS_SEC), LIVENESS_NEVER);
	r = read(c, &b, 1);
	ck_assert_int_eq(r, -1);
	ck_assert_int_eq(liveness_diagnose(c, r, errno), LIVENESS_RESET);
	close(c);
}
END_TEST

START_TEST(reset_seen_through_so_error)
{
	int c, s;

	tu_pair(&c, &s);
	ck_assert_int_eq(liveness_abort(s), 0);
	ck_assert_uint_ne(tu_wait_readable(c, 2 * LIVENESS_SEC), LIVENESS_NEVER);
	/* The caller only saw POLLERR/POLLHUP: the pending error tells. */
	ck_assert_int_eq(liveness_diagnose(c, -1, 0), LIVENESS_RESET);
	close(c);
}
END_TEST

START_TEST(peer_exit_with_unread_data_is_reset)
{
	int c, s;
	char b = 'x';
	ssize_t r;

	tu_pair(&c, &s);
	ck_assert_int_eq(write(c, &b, 1), 1);
	/* The peer closes without reading what we sent: its kernel answers with RST. */
	ck_assert_uint_ne(tu_wait_readable(s, 2 * LIVENESS_SEC), LIVENESS_NEVER);
	close(s);
	ck_assert_uint_ne(tu_wait_readable(c, 2 * LIVENESS_SEC), LIVENESS_NEVER);
	r = read(c, &b, 1);
	ck_assert_int_eq(liveness_diagnose(c, r, errno), LIVENESS_RESET);
	close(c);
}
END_TEST

/* Wait until the kernel has closed the connection (a RST in flight on loopback). */
static void wait_closed(int fd)
{
	struct liveness_tcp_info info;
	int i;

	for (i = 0; i < 2000; i++) {
		ck_assert_int_eq(liveness_tcp_info(fd, &info), 0);
		if (info.state == TCP_CLOSE)
			return;
		usleep(1000);
	}
	ck_abort_msg("fd %d still in state %u after 2 s", fd, info.state);
}

/* send() that must fail; returns its errno. */
static int failed_send(int fd)
{
	char b = 'x';

	ck_assert_int_eq(send(fd, &b, 1, MSG_NOSIGNAL | MSG_DONTWAIT), -1);
	return errno;
}

START_TEST(reset_consumed_then_epipe_is_reset)
{
	int c, s;
	char b;

	tu_pair(&c, &s);
	ck_assert_int_eq(liveness_abort(s), 0);
	ck_assert_uint_ne(tu_wait_readable(c, 2 * LIVENESS_SEC), LIVENESS_NEVER);
	ck_assert_int_eq(read(c, &b, 1), -1);
	ck_assert_int_eq(errno, ECONNRESET); /* consumed: what follows has only the state */
	ck_assert_int_eq(failed_send(c), EPIPE);
	ck_assert_int_eq(liveness_diagnose(c, -1, EPIPE), LIVENESS_RESET);
	/* The other ways of asking after the same consumed RST. */
	ck_assert_int_eq(read(c, &b, 1), 0);
	ck_assert_int_eq(liveness_diagnose(c, 0, 0), LIVENESS_CLOSED);
	ck_assert_int_eq(liveness_diagnose(c, -1, 0), LIVENESS_LOCAL_ERROR);
	close(c);
}
END_TEST

START_TEST(own_shutdown_then_epipe_is_local_error)
{
	int c, s;
	struct liveness_tcp_info info;

	tu_pair(&c, &s);
	ck_assert_int_eq(shutdown(c, SHUT_WR), 0);
	ck_assert_int_eq(failed_send(c), EPIPE);
	ck_assert_int_eq(liveness_tcp_info(c, &info), 0);
	ck_assert(info.state == TCP_FIN_WAIT1 || info.state == TCP_FIN_WAIT2);
	ck_assert_int_eq(liveness_diagnose(c, -1, EPIPE), LIVENESS_LOCAL_ERROR);
	close(c);
	close(s);
}
END_TEST

/*
 * We shut down writing, then the peer closed in order. tcp_fin() moves our
 * socket through tcp_time_wait() to tcp_done(): CLOSE, both directions shut,
 * and nothing in TCP_INFO that a RST would have left otherwise. The page says
 * so; this holds the library to what it says.
 */
START_TEST(orderly_close_after_own_shutdown_reads_as_reset)
{
	int c, s;
	char b;

	tu_pair(&c, &s);
	ck_assert_int_eq(shutdown(c, SHUT_WR), 0);
	ck_assert_int_eq(read(s, &b, 1), 0);
	close(s);
	wait_closed(c);
	ck_assert_int_eq(failed_send(c), EPIPE);
	ck_assert_int_eq(liveness_diagnose(c, -1, EPIPE), LIVENESS_RESET);
	ck_assert_int_eq(read(c, &b, 1), 0);
	ck_assert_int_eq(liveness_diagnose(c, 0, 0), LIVENESS_CLOSED);
	close(c);
}
END_TEST

/* The peer closed, we wrote, its kernel answered RST: tcp_reset() in CLOSE_WAIT sets EPIPE. */
START_TEST(reset_after_peer_fin_is_reset)
{
	int c1, s1, c2, s2;
	char b = 'x';

	tu_pair(&c1, &s1);
	tu_pair(&c2, &s2);
	close(s1);
	close(s2);
	ck_assert_uint_ne(tu_wait_readable(c1, 2 * LIVENESS_SEC), LIVENESS_NEVER);
	ck_assert_uint_ne(tu_wait_readable(c2, 2 * LIVENESS_SEC), LIVENESS_NEVER);
	ck_assert_int_eq(send(c1, &b, 1, MSG_NOSIGNAL), 1);
	ck_assert_int_eq(send(c2, &b, 1, MSG_NOSIGNAL), 1);
	wait_closed(c1);
	wait_closed(c2);
	/* Through the next send(), and through poll() and SO_ERROR. */
	ck_assert_int_eq(failed_send(c1), EPIPE);
	ck_assert_int_eq(liveness_diagnose(c1, -1, EPIPE), LIVENESS_RESET);
	ck_assert_int_eq(liveness_diagnose(c2, -1, 0), LIVENESS_RESET);
	close(c1);
	close(c2);
}
END_TEST

START_TEST(epipe_without_a_connection_is_local_error)
{
	struct sockaddr_in a = {.sin_family = AF_INET};
	int never = socket(AF_INET, SOCK_STREAM, 0);
	int refused = socket(AF_INET, SOCK_STREAM, 0);
	int l = tu_listen(0);

	a.sin_port = htons(tu_port(l));
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	close(l);
	ck_assert_int_eq(failed_send(never), EPIPE);
	ck_assert_int_eq(liveness_diagnose(never, -1, EPIPE), LIVENESS_LOCAL_ERROR);
	/* connect() consumed ECONNREFUSED; the socket never measured a round trip. */
	ck_assert_int_eq(connect(refused, (struct sockaddr *)&a, sizeof(a)), -1);
	ck_assert_int_eq(errno, ECONNREFUSED);
	ck_assert_int_eq(failed_send(refused), EPIPE);
	ck_assert_int_eq(liveness_diagnose(refused, -1, EPIPE), LIVENESS_LOCAL_ERROR);
	close(never);
	close(refused);
}
END_TEST

static int closed_port_socket(struct sockaddr_in *a)
{
	int l = tu_listen(0);

	a->sin_family = AF_INET;
	a->sin_port = htons(tu_port(l));
	a->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	close(l); /* nothing listens there now */
	return socket(AF_INET, SOCK_STREAM, 0);
}

START_TEST(connect_to_closed_port_is_refused)
{
	struct sockaddr_in a;
	int fd = closed_port_socket(&a);
	int r = connect(fd, (struct sockaddr *)&a, sizeof(a));

	ck_assert_int_eq(r, -1);
	ck_assert_int_eq(liveness_diagnose(fd, r, errno), LIVENESS_REFUSED);
	close(fd);
}
END_TEST

START_TEST(nonblocking_connect_refused_via_so_error)
{
	struct sockaddr_in a;
	int fd = closed_port_socket(&a);
	struct pollfd p = {.fd = fd, .events = POLLOUT};
	int r;

	fcntl(fd, F_SETFL, O_NONBLOCK);
	r = connect(fd, (struct sockaddr *)&a, sizeof(a));
	if (r == -1 && errno == EINPROGRESS) {
		ck_assert_int_eq(poll(&p, 1, 2000), 1);
		ck_assert_int_eq(liveness_diagnose(fd, -1, EINPROGRESS), LIVENESS_REFUSED);
	} else {
		ck_assert_int_eq(liveness_diagnose(fd, r, errno), LIVENESS_REFUSED);
	}
	close(fd);
}
END_TEST

START_TEST(errno_values_map_to_causes)
{
	int c, s;

	tu_pair(&c, &s);
	ck_assert_int_eq(liveness_diagnose(c, -1, ECONNRESET), LIVENESS_RESET);
	ck_assert_int_eq(liveness_diagnose(c, -1, ECONNREFUSED), LIVENESS_REFUSED);
	ck_assert_int_eq(liveness_diagnose(c, -1, EHOSTUNREACH), LIVENESS_UNREACHABLE);
	ck_assert_int_eq(liveness_diagnose(c, -1, ENETUNREACH), LIVENESS_UNREACHABLE);
	ck_assert_int_eq(liveness_diagnose(c, -1, EHOSTDOWN), LIVENESS_UNREACHABLE);
	ck_assert_int_eq(liveness_diagnose(c, -1, ENETDOWN), LIVENESS_UNREACHABLE);
	ck_assert_int_eq(liveness_diagnose(c, -1, ENOMEM), LIVENESS_LOCAL_ERROR);
	ck_assert_int_eq(liveness_diagnose(c, -1, EMFILE), LIVENESS_LOCAL_ERROR);
	/* EPIPE on an open connection: only our own shutdown stops sending there. */
	ck_assert_int_eq(liveness_diagnose(c, -1, EPIPE), LIVENESS_LOCAL_ERROR);
	/* A live connection that reports ETIMEDOUT has no probes out: a retransmission timeout. */
	ck_assert_int_eq(liveness_diagnose(c, -1, ETIMEDOUT), LIVENESS_RETRANSMIT_TIMEOUT);
	/* An errno that says nothing leaves it to the (empty) pending error and the state. */
	ck_assert_int_eq(liveness_diagnose(c, -1, EINTR), LIVENESS_ALIVE);
	ck_assert_int_eq(liveness_diagnose(c, -1, EINPROGRESS), LIVENESS_ALIVE);
	ck_assert_int_eq(liveness_diagnose(c, -1, EWOULDBLOCK), LIVENESS_ALIVE);
	close(c);
	close(s);
}
END_TEST

/* Each errno that says nothing by itself sends the diagnosis to the pending error. */
START_TEST(quiet_errno_reads_the_pending_error)
{
	static const int quiet[] = {0, EAGAIN, EWOULDBLOCK, EINTR, EINPROGRESS};
	size_t i;

	for (i = 0; i < sizeof(quiet) / sizeof(quiet[0]); i++) {
		int c, s;
		tu_pair(&c, &s);
		ck_assert_int_eq(liveness_abort(s), 0);
		ck_assert_uint_ne(tu_wait_readable(c, 2 * LIVENESS_SEC), LIVENESS_NEVER);
		ck_assert_msg(liveness_diagnose(c, -1, quiet[i]) == LIVENESS_RESET,
			      "errno %d did not lead to the pending ECONNRESET", quiet[i]);
		close(c);
	}
}
END_TEST

START_TEST(bad_descriptors_are_local_errors)
{
	int closed = socket(AF_INET, SOCK_STREAM, 0);
	int udp = socket(AF_INET, SOCK_DGRAM, 0);
	int file = open("/dev/null", O_RDONLY);
	int never = socket(AF_INET, SOCK_STREAM, 0);
	struct liveness_tcp_info info;

	close(closed);
	ck_assert_int_eq(liveness_diagnose(-1, -1, EBADF), LIVENESS_LOCAL_ERROR);
	ck_assert_int_eq(liveness_diagnose(closed, 0, 0), LIVENESS_LOCAL_ERROR);
	ck_assert_int_eq(liveness_diagnose(udp, -1, ECONNREFUSED), LIVENESS_LOCAL_ERROR);
	ck_assert_int_eq(liveness_diagnose(file, 0, 0), LIVENESS_LOCAL_ERROR);
	/* A TCP socket that never connected has nothing to explain. */
	ck_assert_int_eq(liveness_diagnose(never, -1, 0), LIVENESS_LOCAL_ERROR);
	ck_assert_int_eq(liveness_tcp_info(-1, &info), -EBADF);
	ck_assert_int_eq(liveness_tcp_info(closed, &info), -EBADF);
	ck_assert_int_eq(liveness_tcp_info(udp, &info), -EPROTOTYPE);
	ck_assert_int_eq(liveness_tcp_info(file, &info), -ENOTSOCK);
	ck_assert_int_eq(liveness_tcp_info(never, NULL), -EINVAL);
	close(udp);
	close(file);
	close(never);
}
END_TEST

START_TEST(tcp_info_snapshot)
{
	int c, s;
	char buf[64] = {0};
	struct liveness_tcp_info info;

	tu_pair(&c, &s);
	ck_assert_int_eq(write(c, buf, sizeof(buf)), (ssize_t)sizeof(buf));
	ck_assert_int_eq(read(s, buf, sizeof(buf)), (ssize_t)sizeof(buf));
	ck_assert_int_eq(write(s, buf, 1), 1);
	ck_assert_int_eq(read(c, buf, 1), 1);
	ck_assert_int_eq(liveness_tcp_info(c, &info), 0);
	ck_assert_uint_eq(info.state, TCP_ESTABLISHED);
	ck_assert_uint_gt(info.rtt_us, 0);
	ck_assert_uint_ge(info.rto_us, 200000); /* TCP_RTO_MIN */
	ck_assert_uint_eq(info.retransmits, 0);
	ck_assert_uint_eq(info.probes, 0);
	ck_assert_uint_lt(info.last_data_recv_ms, 5000);
	ck_assert_uint_gt(info.snd_cwnd, 0);
	ck_assert_uint_gt(info.rttvar_us, 0);
	/* The times since the last segment each way keep counting while nothing moves. */
	usleep(50000);
	ck_assert_int_eq(liveness_tcp_info(c, &info), 0);
	ck_assert_uint_gt(info.last_data_recv_ms, 0);
	ck_assert_uint_gt(info.last_ack_recv_ms, 0);
	ck_assert_uint_gt(info.last_data_sent_ms, 0);
	close(s);
	ck_assert_uint_ne(tu_wait_readable(c, 2 * LIVENESS_SEC), LIVENESS_NEVER);
	ck_assert_int_eq(liveness_tcp_info(c, &info), 0);
	ck_assert_uint_eq(info.state, TCP_CLOSE_WAIT);
	close(c);
}
END_TEST

/* The kernel's own TCP_INFO, with the layout of the C library's netinet/tcp.h. */
static void kernel_info(int fd, struct tcp_info *k)
{
	socklen_t len = sizeof(*k);

	memset(k, 0, sizeof(*k));
	ck_assert_int_eq(getsockopt(fd, IPPROTO_TCP, TCP_INFO, k, &len), 0);
}

/*
 * The snapshot holds the kernel's values, field by field: read between two
 * reads of TCP_INFO that agree (no timer or millisecond tick in between).
 */
static void expect_kernel_info(int fd)
{
	struct tcp_info k1, k2;
	struct liveness_tcp_info info;
	int tries = 0;

	do {
		ck_assert_int_lt(tries++, 1000);
		kernel_info(fd, &k1);
		ck_assert_int_eq(liveness_tcp_info(fd, &info), 0);
		kernel_info(fd, &k2);
	} while (memcmp(&k1, &k2, sizeof(k1)) != 0);
	ck_assert_uint_eq(info.state, k1.tcpi_state);
	ck_assert_uint_eq(info.retransmits, k1.tcpi_retransmits);
	ck_assert_uint_eq(info.probes, k1.tcpi_probes);
	ck_assert_uint_eq(info.backoff, k1.tcpi_backoff);
	ck_assert_uint_eq(info.rtt_us, k1.tcpi_rtt);
	ck_assert_uint_eq(info.rttvar_us, k1.tcpi_rttvar);
	ck_assert_uint_eq(info.rto_us, k1.tcpi_rto);
	ck_assert_uint_eq(info.unacked, k1.tcpi_unacked);
	ck_assert_uint_eq(info.total_retrans, k1.tcpi_total_retrans);
	ck_assert_uint_eq(info.last_data_recv_ms, k1.tcpi_last_data_recv);
	ck_assert_uint_eq(info.last_ack_recv_ms, k1.tcpi_last_ack_recv);
	ck_assert_uint_eq(info.last_data_sent_ms, k1.tcpi_last_data_sent);
	ck_assert_uint_eq(info.snd_cwnd, k1.tcpi_snd_cwnd);
}

/* Poll the kernel's TCP_INFO until pred holds; 0 if it did not within limit. */
static int await_kernel(int fd, int (*pred)(const struct tcp_info *), liveness_time limit)
{
	liveness_time deadline = liveness_now() + limit;
	struct tcp_info k;

	for (;;) {
		kernel_info(fd, &k);
		if (pred(&k))
			return 1;
		if (liveness_now() >= deadline)
			return 0;
		usleep(2000);
	}
}

static int syn_retransmitted(const struct tcp_info *k)
{
	return k->tcpi_retransmits > 0;
}

static int backed_off(const struct tcp_info *k)
{
	return k->tcpi_backoff > 0;
}

static int probe_out(const struct tcp_info *k)
{
	return k->tcpi_probes > 0;
}

/*
 * Three states whose counters are not 0, all on loopback: a quiet
 * connection; a connect() whose SYN a full listener drops, so that it is
 * retransmitted after TCP_TIMEOUT_INIT (1 s); and a peer that stopped
 * reading, probed with a backed-off timer (tcp_send_probe0()).
 */
START_TEST(tcp_info_is_the_kernels)
{
	struct sockaddr_in a = {.sin_family = AF_INET};
	socklen_t alen = sizeof(a);
	static char buf[65536];
	struct pollfd p;
	int l, queued, syn, c, s;

	/* A listener with room for one connection not yet accepted, and it taken. */
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	l = socket(AF_INET, SOCK_STREAM, 0);
	ck_assert_int_eq(bind(l, (struct sockaddr *)&a, sizeof(a)), 0);
	ck_assert_int_eq(listen(l, 0), 0);
	ck_assert_int_eq(getsockname(l, (struct sockaddr *)&a, &alen), 0);
	queued = socket(AF_INET, SOCK_STREAM, 0);
	ck_assert_int_eq(connect(queued, (struct sockaddr *)&a, sizeof(a)), 0);
	syn = socket(AF_INET, SOCK_STREAM, 0);
	fcntl(syn, F_SETFL, O_NONBLOCK);
	ck_assert_int_eq(connect(syn, (struct sockaddr *)&a, sizeof(a)), -1);
	ck_assert_int_eq(errno, EINPROGRESS);
	tu_pair(&c, &s);
	ck_assert_int_eq(write(s, "x", 1), 1);
	ck_assert_int_eq(read(c, buf, 1), 1);
	usleep(20000);
	expect_kernel_info(c);
	/* The peer never reads: fill its window and our buffer. */
	fcntl(c, F_SETFL, O_NONBLOCK);
	p.fd = c;
	p.events = POLLOUT;
	do {
		while (send(c, buf, sizeof(buf), MSG_NOSIGNAL) > 0)
			;
	} while (poll(&p, 1, 100) == 1);
	ck_assert(await_kernel(c, backed_off, 3 * LIVENESS_SEC));
	expect_kernel_info(c);
	ck_assert(await_kernel(syn, syn_retransmitted, 3 * LIVENESS_SEC));
	expect_kernel_info(syn);
	/* Whether a probe is counted when TCP_INFO is read depends on the kernel's ACK timing. */
	if (await_kernel(c, probe_out, 2 * LIVENESS_SEC))
		expect_kernel_info(c);
	else
		printf("SKIP tcp_info probes: no zero-window probe was unanswered when read\n");
	close(syn);
	close(queued);
	close(c);
	close(s);
	close(l);
}
END_TEST

/* A failing TCP_INFO read is reported, and the snapshot is left as it was. */
START_TEST(tcp_info_failure_changes_nothing)
{
	struct liveness_tcp_info info, before;
	int c, s, r;

	tu_pair(&c, &s);
	memset(&info, 0x5a, sizeof(info));
	before = info;
	/* The fourth getsockopt(): after SO_TYPE, SO_DOMAIN and SO_PROTOCOL. */
	wrap_fail(WRAP_GETSOCKOPT, 4, 1, ENOBUFS);
	r = liveness_tcp_info(c, &info);
	wrap_reset();
	ck_assert_int_eq(r, -ENOBUFS);
	ck_assert_mem_eq(&info, &before, sizeof(info));
	close(c);
	close(s);
}
END_TEST

/* ---- What is gathered from a real socket --------------------------------- */

static int proc_retries2(void)
{
	FILE *f = fopen("/proc/sys/net/ipv4/tcp_retries2", "r");
	int v = -1;

	ck_assert_ptr_nonnull(f);
	ck_assert_int_eq(fscanf(f, "%d", &v), 1);
	fclose(f);
	return v;
}

/*
 * A closed connection is judged by the settings it ran under, its unacknowledged
 * bytes and tcp_retries2: all read back from the kernel after the death.
 */
START_TEST(gather_reads_a_closed_connection)
{
	struct liveness_tcp t = {1, 7, 3, 4, 1234, -1};
	struct liveness__diag d;
	int c, s;

	tu_pair(&c, &s);
	ck_assert_int_eq(liveness_tcp_set(c, &t), 0);
	close(s);
	ck_assert_uint_ne(tu_wait_readable(c, 2 * LIVENESS_SEC), LIVENESS_NEVER);
	/* Three bytes the closed peer's kernel answers with RST, not with an ACK. */
	ck_assert_int_eq(send(c, "abc", 3, MSG_NOSIGNAL), 3);
	wait_closed(c);
	ck_assert_int_eq(liveness__diag_gather(c, -1, EAGAIN, &d), 0);
	ck_assert_int_eq(d.io_result, -1);
	ck_assert_int_eq(d.io_errno, EAGAIN);
	ck_assert_int_eq(d.so_error, EPIPE);
	ck_assert(d.have_info);
	ck_assert_uint_eq(d.info.state, TCP_CLOSE);
	ck_assert(d.have_tcp);
	ck_assert_int_eq(d.tcp.keepalive, t.keepalive);
	ck_assert_int_eq(d.tcp.idle, t.idle);
	ck_assert_int_eq(d.tcp.interval, t.interval);
	ck_assert_int_eq(d.tcp.count, t.count);
	ck_assert_uint_eq(d.tcp.user_timeout, t.user_timeout);
	ck_assert_int_eq(d.queued, 3);
	ck_assert_int_eq(d.retries2, proc_retries2());
	ck_assert_int_eq(liveness__diag_classify(&d), LIVENESS_RESET);
	close(c);
}
END_TEST

/* Settings and the sysctl matter only once the kernel has closed the connection. */
START_TEST(gather_reads_only_the_state_of_an_open_connection)
{
	struct liveness__diag d;
	int c, s;

	tu_pair(&c, &s);
	memset(&d, 0xff, sizeof(d));
	ck_assert_int_eq(liveness__diag_gather(c, 0, 0, &d), 0);
	ck_assert(d.have_info);
	ck_assert_uint_eq(d.info.state, TCP_ESTABLISHED);
	ck_assert(!d.have_tcp);
	ck_assert_int_eq(d.queued, -1);
	ck_assert_int_eq(d.retries2, -1);
	ck_assert_int_eq(d.so_error, 0);
	close(c);
	close(s);
}
END_TEST

/* Reading SO_ERROR consumes it: only the poll-only path may, once. */
START_TEST(gather_consumes_the_pending_error_only_without_an_io_error)
{
	struct liveness__diag d;
	int c, s;

	tu_pair(&c, &s);
	ck_assert_int_eq(liveness_abort(s), 0);
	ck_assert_uint_ne(tu_wait_readable(c, 2 * LIVENESS_SEC), LIVENESS_NEVER);
	ck_assert_int_eq(liveness__diag_gather(c, 0, 0, &d), 0);
	ck_assert_int_eq(d.so_error, 0);
	ck_assert_int_eq(liveness__diag_gather(c, 1, EINTR, &d), 0);
	ck_assert_int_eq(d.so_error, 0);
	ck_assert_int_eq(liveness__diag_gather(c, -1, ECONNRESET, &d), 0);
	ck_assert_int_eq(d.so_error, 0);
	ck_assert_int_eq(liveness__diag_gather(c, -1, EINTR, &d), 0);
	ck_assert_int_eq(d.so_error, ECONNRESET);
	ck_assert_int_eq(liveness__diag_gather(c, -1, EINTR, &d), 0);
	ck_assert_int_eq(d.so_error, 0);
	close(c);
}
END_TEST

START_TEST(gather_refuses_what_is_no_tcp_socket)
{
	struct liveness__diag d;
	int udp = socket(AF_INET, SOCK_DGRAM, 0);

	memset(&d, 0xff, sizeof(d));
	ck_assert_int_eq(liveness__diag_gather(-1, -1, EPIPE, &d), -EBADF);
	ck_assert(!d.have_info);
	ck_assert(!d.have_tcp);
	ck_assert_int_eq(d.so_error, 0);
	memset(&d, 0xff, sizeof(d));
	ck_assert_int_eq(liveness__diag_gather(udp, -1, EPIPE, &d), -EPROTOTYPE);
	ck_assert(!d.have_info);
	close(udp);
}
END_TEST

/* ---- The rules, on made-up kernel states -------------------------------- */

/*
 * A connection the kernel closed after a quiet spell, as a RST leaves it:
 * nothing counted, a round trip measured, nothing unacknowledged. Keepalive
 * 10 s + 3 x 2 s, no user timeout, tcp_retries2 15. Each test changes what
 * it is about.
 */
static struct liveness__diag closed(void)
{
	struct liveness__diag d;

	memset(&d, 0, sizeof(d));
	d.io_result = -1;
	d.have_info = 1;
	d.info.state = TCP_CLOSE;
	d.info.rtt_us = 40;
	d.info.rto_us = 204000;
	d.info.last_data_recv_ms = 50;
	d.info.last_ack_recv_ms = 50;
	d.info.last_data_sent_ms = 50;
	d.have_tcp = 1;
	d.tcp = (struct liveness_tcp){1, 10, 2, 3, 0, -1};
	d.queued = 0;
	d.retries2 = 15;
	return d;
}

/* How a caller comes to ask: the next send() fails with EPIPE. */
static enum liveness_cause on_epipe(struct liveness__diag d)
{
	d.io_result = -1;
	d.io_errno = EPIPE;
	d.so_error = 0;
	return liveness__diag_classify(&d);
}

/* The next recv() returns 0. */
static enum liveness_cause on_eof(struct liveness__diag d)
{
	d.io_result = 0;
	d.io_errno = 0;
	d.so_error = 0;
	return liveness__diag_classify(&d);
}

/* poll() said POLLHUP and SO_ERROR held nothing. */
static enum liveness_cause on_poll(struct liveness__diag d)
{
	d.io_result = -1;
	d.io_errno = 0;
	d.so_error = 0;
	return liveness__diag_classify(&d);
}

/* The error itself, not yet consumed. */
static enum liveness_cause on_etimedout(struct liveness__diag d)
{
	d.io_result = -1;
	d.io_errno = ETIMEDOUT;
	d.so_error = 0;
	return liveness__diag_classify(&d);
}

/* EXPECT(what, state, cause on EPIPE, on end of file, on poll, on ETIMEDOUT) */
#define EXPECT(...) expect(__LINE__, __VA_ARGS__)

static void expect(int line, const char *what, struct liveness__diag d, enum liveness_cause epipe,
		   enum liveness_cause eof, enum liveness_cause poll_,
		   enum liveness_cause etimedout)
{
	const enum liveness_cause got[4] = {on_epipe(d), on_eof(d), on_poll(d), on_etimedout(d)};
	const enum liveness_cause want[4] = {epipe, eof, poll_, etimedout};
	static const char *const how[4] = {"EPIPE", "end of file", "poll", "ETIMEDOUT"};
	int i;

	for (i = 0; i < 4; i++)
		ck_assert_msg(got[i] == want[i], "line %d, %s, on %s: %s, expected %s", line, what,
			      how[i], liveness_cause_name(got[i]), liveness_cause_name(want[i]));
}

#define RESET_LIKE                                                                                 \
	LIVENESS_RESET, LIVENESS_CLOSED, LIVENESS_LOCAL_ERROR, LIVENESS_RETRANSMIT_TIMEOUT
#define KEEPALIVE_ALL                                                                              \
	LIVENESS_KEEPALIVE_TIMEOUT, LIVENESS_KEEPALIVE_TIMEOUT, LIVENESS_KEEPALIVE_TIMEOUT,        \
		LIVENESS_KEEPALIVE_TIMEOUT
#define RETRANSMIT_ALL                                                                             \
	LIVENESS_RETRANSMIT_TIMEOUT, LIVENESS_RETRANSMIT_TIMEOUT, LIVENESS_RETRANSMIT_TIMEOUT,     \
		LIVENESS_RETRANSMIT_TIMEOUT

START_TEST(classify_without_state)
{
	struct liveness__diag d = closed();

	ck_assert_int_eq(liveness__diag_classify(NULL), LIVENESS_LOCAL_ERROR);
	EXPECT("a RST on a quiet connection", d, RESET_LIKE);
	/* Without TCP_INFO: EPIPE is taken for a RST, end of file for a FIN. */
	d.have_info = 0;
	EXPECT("no TCP_INFO", d, LIVENESS_RESET, LIVENESS_CLOSED, LIVENESS_LOCAL_ERROR,
	       LIVENESS_RETRANSMIT_TIMEOUT);
	/* Even with counters that would read as a keepalive death. */
	d = closed();
	d.info.probes = 3;
	d.info.last_data_recv_ms = d.info.last_ack_recv_ms = 60000;
	EXPECT("keepalive death with TCP_INFO", d, KEEPALIVE_ALL);
	d.have_info = 0;
	EXPECT("keepalive death without TCP_INFO", d, LIVENESS_RESET, LIVENESS_CLOSED,
	       LIVENESS_LOCAL_ERROR, LIVENESS_RETRANSMIT_TIMEOUT);
	/* As gathering leaves it when TCP_INFO fails, and with a state it must not read. */
	d.info.state = 0;
	EXPECT("no TCP_INFO, zeroed", d, LIVENESS_RESET, LIVENESS_CLOSED, LIVENESS_LOCAL_ERROR,
	       LIVENESS_RETRANSMIT_TIMEOUT);
	d.info.state = TCP_ESTABLISHED;
	EXPECT("no TCP_INFO, open state", d, LIVENESS_RESET, LIVENESS_CLOSED, LIVENESS_LOCAL_ERROR,
	       LIVENESS_RETRANSMIT_TIMEOUT);
}
END_TEST

START_TEST(classify_io_result_and_errno)
{
	struct liveness__diag d = closed();

	/* A read that returned data: alive, whatever the state says. */
	d.info.state = TCP_CLOSE_WAIT;
	d.io_result = 1;
	ck_assert_int_eq(liveness__diag_classify(&d), LIVENESS_ALIVE);
	d.info.state = TCP_ESTABLISHED;
	ck_assert_int_eq(liveness__diag_classify(&d), LIVENESS_ALIVE);
	d.io_result = 0;
	ck_assert_int_eq(liveness__diag_classify(&d), LIVENESS_CLOSED);
	d.io_result = -1;
	ck_assert_int_eq(liveness__diag_classify(&d), LIVENESS_ALIVE);
	d.io_result = -7; /* any negative result is a failure */
	d.io_errno = ECONNRESET;
	ck_assert_int_eq(liveness__diag_classify(&d), LIVENESS_RESET);
	/* The caller's errno outranks a pending error; a quiet errno defers to it. */
	d.io_result = -1;
	d.io_errno = ECONNREFUSED;
	d.so_error = ECONNRESET;
	ck_assert_int_eq(liveness__diag_classify(&d), LIVENESS_REFUSED);
	d.io_errno = EAGAIN;
	ck_assert_int_eq(liveness__diag_classify(&d), LIVENESS_RESET);
	d.io_errno = EINTR;
	ck_assert_int_eq(liveness__diag_classify(&d), LIVENESS_RESET);
	d.io_errno = EINPROGRESS;
	ck_assert_int_eq(liveness__diag_classify(&d), LIVENESS_RESET);
	d.io_errno = 0;
	ck_assert_int_eq(liveness__diag_classify(&d), LIVENESS_RESET);
	d.so_error = EHOSTDOWN;
	ck_assert_int_eq(liveness__diag_classify(&d), LIVENESS_UNREACHABLE);
	d.so_error = ENETDOWN;
	ck_assert_int_eq(liveness__diag_classify(&d), LIVENESS_UNREACHABLE);
	d.so_error = EHOSTUNREACH;
	ck_assert_int_eq(liveness__diag_classify(&d), LIVENESS_UNREACHABLE);
	d.so_error = ENETUNREACH;
	ck_assert_int_eq(liveness__diag_classify(&d), LIVENESS_UNREACHABLE);
	d.so_error = ECONNREFUSED;
	ck_assert_int_eq(liveness__diag_classify(&d), LIVENESS_REFUSED);
	d.so_error = ENOBUFS;
	ck_assert_int_eq(liveness__diag_classify(&d), LIVENESS_LOCAL_ERROR);
	/* A pending EPIPE is a RST after the peer's FIN (tcp_reset() in CLOSE_WAIT). */
	d = closed();
	d.so_error = EPIPE;
	ck_assert_int_eq(liveness__diag_classify(&d), LIVENESS_RESET);
	d.so_error = ETIMEDOUT;
	ck_assert_int_eq(liveness__diag_classify(&d), LIVENESS_RETRANSMIT_TIMEOUT);
}
END_TEST

START_TEST(classify_open_states)
{
	static const struct {
		int state;
		enum liveness_cause poll, epipe;
	} rows[] = {
		{0, LIVENESS_LOCAL_ERROR, LIVENESS_LOCAL_ERROR},
		{TCP_ESTABLISHED, LIVENESS_ALIVE, LIVENESS_LOCAL_ERROR},
		{TCP_SYN_SENT, LIVENESS_ALIVE, LIVENESS_LOCAL_ERROR},
		{TCP_SYN_RECV, LIVENESS_ALIVE, LIVENESS_LOCAL_ERROR},
		{TCP_FIN_WAIT1, LIVENESS_ALIVE, LIVENESS_LOCAL_ERROR},
		{TCP_FIN_WAIT2, LIVENESS_ALIVE, LIVENESS_LOCAL_ERROR},
		{TCP_TIME_WAIT, LIVENESS_CLOSED, LIVENESS_LOCAL_ERROR},
		{TCP_CLOSE, LIVENESS_LOCAL_ERROR, LIVENESS_RESET},
		{TCP_CLOSE_WAIT, LIVENESS_CLOSED, LIVENESS_LOCAL_ERROR},
		{TCP_LAST_ACK, LIVENESS_CLOSED, LIVENESS_LOCAL_ERROR},
		{TCP_LISTEN, LIVENESS_ALIVE, LIVENESS_LOCAL_ERROR},
		{TCP_CLOSING, LIVENESS_CLOSED, LIVENESS_LOCAL_ERROR},
		{TCP_CLOSING + 1, LIVENESS_LOCAL_ERROR, LIVENESS_LOCAL_ERROR},
		{255, LIVENESS_LOCAL_ERROR, LIVENESS_LOCAL_ERROR},
	};
	size_t i;

	for (i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		struct liveness__diag d = closed();
		d.info.state = (uint8_t)rows[i].state;
		ck_assert_msg(on_poll(d) == rows[i].poll, "state %d on poll: %s", rows[i].state,
			      liveness_cause_name(on_poll(d)));
		ck_assert_msg(on_epipe(d) == rows[i].epipe, "state %d on EPIPE: %s", rows[i].state,
			      liveness_cause_name(on_epipe(d)));
		ck_assert_msg(on_eof(d) == LIVENESS_CLOSED, "state %d on end of file",
			      rows[i].state);
	}
}
END_TEST

/* Counters that read as a death count only once the kernel has closed the connection. */
START_TEST(classify_timeouts_only_when_closed)
{
	struct liveness__diag d = closed();

	d.info.probes = 3;
	d.info.last_data_recv_ms = d.info.last_ack_recv_ms = 60000;
	d.info.state = TCP_CLOSE_WAIT;
	EXPECT("keepalive counters in CLOSE_WAIT", d, LIVENESS_LOCAL_ERROR, LIVENESS_CLOSED,
	       LIVENESS_CLOSED, LIVENESS_KEEPALIVE_TIMEOUT);
	d.info.state = TCP_ESTABLISHED;
	EXPECT("keepalive counters in ESTABLISHED", d, LIVENESS_LOCAL_ERROR, LIVENESS_CLOSED,
	       LIVENESS_ALIVE, LIVENESS_KEEPALIVE_TIMEOUT);
}
END_TEST

/* A connection that never measured a round trip never connected: EPIPE there is ours. */
START_TEST(classify_never_connected)
{
	struct liveness__diag d = closed();

	d.info.rtt_us = 0;
	EXPECT("never connected", d, LIVENESS_LOCAL_ERROR, LIVENESS_CLOSED, LIVENESS_LOCAL_ERROR,
	       LIVENESS_RETRANSMIT_TIMEOUT);
	d.info.rtt_us = 1;
	EXPECT("one round trip", d, RESET_LIKE);
	/* A connect() that timed out: SYNs retransmitted, nothing ever received. */
	d.info.rtt_us = 0;
	d.info.retransmits = 6;
	d.info.last_ack_recv_ms = d.info.last_data_sent_ms = UINT32_MAX;
	d.queued = 1;
	EXPECT("connect timed out", d, RETRANSMIT_ALL);
}
END_TEST

/* Keepalive 10 s + 3 x 2 s without a user timeout: the kernel gives up at 16 s with 3 probes. */
static struct liveness__diag keepalive_death(void)
{
	struct liveness__diag d = closed();

	d.info.probes = 3;
	d.info.last_data_recv_ms = 16000;
	d.info.last_ack_recv_ms = 16000;
	d.info.last_data_sent_ms = 16000;
	return d;
}

START_TEST(classify_keepalive_count)
{
	struct liveness__diag d = keepalive_death();

	EXPECT("keepalive gave up", d, KEEPALIVE_ALL);
	/* Before the tick after the third probe: a RST answered it. */
	d.info.last_ack_recv_ms = 15999;
	EXPECT("RST to the third probe (ACK)", d, RESET_LIKE);
	d = keepalive_death();
	d.info.last_data_recv_ms = 15999;
	EXPECT("RST to the third probe (data)", d, RESET_LIKE);
	/* The smaller time counts even against the largest the field holds. */
	d.info.last_ack_recv_ms = UINT32_MAX;
	EXPECT("RST to the third probe, no ACK for 49 days", d, RESET_LIKE);
	/* Fewer probes than TCP_KEEPCNT: the kernel was still probing. */
	d = keepalive_death();
	d.info.probes = 2;
	d.info.last_data_recv_ms = d.info.last_ack_recv_ms = 14000;
	EXPECT("RST to the second probe", d, RESET_LIKE);
	d.info.last_data_recv_ms = d.info.last_ack_recv_ms = UINT32_MAX;
	EXPECT("RST to the second probe, asked late", d, RESET_LIKE);
	d.tcp.count = 2;
	EXPECT("TCP_KEEPCNT 2", d, KEEPALIVE_ALL);
	d.info.last_data_recv_ms = d.info.last_ack_recv_ms = 14000;
	EXPECT("TCP_KEEPCNT 2 at the tick", d, KEEPALIVE_ALL);
	d.info.last_data_recv_ms = 13999;
	EXPECT("TCP_KEEPCNT 2 before the tick", d, RESET_LIKE);
	/* More probes than TCP_KEEPCNT: the count was lowered after they went out. */
	d = keepalive_death();
	d.info.probes = 4;
	d.info.last_data_recv_ms = d.info.last_ack_recv_ms = 18000;
	EXPECT("four probes, TCP_KEEPCNT 3", d, KEEPALIVE_ALL);
	d.info.last_ack_recv_ms = 17999;
	EXPECT("four probes, before the tick", d, RESET_LIKE);
}
END_TEST

START_TEST(classify_keepalive_user_timeout)
{
	struct liveness__diag d = keepalive_death();

	/* U ignores TCP_KEEPCNT: one probe out and U passed, on the probe grid. */
	d.tcp.user_timeout = 13000;
	d.info.probes = 2;
	d.info.last_data_recv_ms = d.info.last_ack_recv_ms = 14000;
	EXPECT("U 13 s, second tick after idle", d, KEEPALIVE_ALL);
	d.info.last_data_recv_ms = 13999;
	EXPECT("U 13 s, before the tick", d, RESET_LIKE);
	d.tcp.user_timeout = 20000;
	d.info.last_data_recv_ms = d.info.last_ack_recv_ms = 19999;
	EXPECT("U 20 s not yet passed", d, RESET_LIKE);
	d.info.last_ack_recv_ms = 20000;
	EXPECT("U 20 s not yet passed (data)", d, RESET_LIKE);
	d.info.last_data_recv_ms = 20000;
	EXPECT("U 20 s passed", d, KEEPALIVE_ALL);
	d.tcp.user_timeout = 1;
	d.info.probes = 1;
	d.info.last_data_recv_ms = d.info.last_ack_recv_ms = 12000;
	EXPECT("U 1 ms, one probe", d, KEEPALIVE_ALL);
	d.info.last_data_recv_ms = 11999;
	EXPECT("U 1 ms, before the tick", d, RESET_LIKE);
	d.info.probes = 0;
	d.info.last_data_recv_ms = d.info.last_ack_recv_ms = UINT32_MAX;
	EXPECT("U 1 ms, no probe out", d, RESET_LIKE);
}
END_TEST

START_TEST(classify_keepalive_needs_its_settings)
{
	struct liveness__diag d = keepalive_death();

	d.tcp.keepalive = 0;
	EXPECT("SO_KEEPALIVE off", d, RESET_LIKE);
	d = keepalive_death();
	d.have_tcp = 0;
	EXPECT("settings unknown", d, RESET_LIKE);
	d = keepalive_death();
	d.info.probes = 0;
	EXPECT("no probe out", d, RESET_LIKE);
	/* The keepalive timer gives up only with nothing unacknowledged or unsent. */
	d = keepalive_death();
	d.queued = 1;
	EXPECT("data queued", d, RESET_LIKE);
	d.queued = -1;
	EXPECT("queue unknown", d, RESET_LIKE);
	/* Settings out of the kernel's ranges are no settings to judge by. */
	d = keepalive_death();
	d.tcp.idle = 0;
	d.info.last_data_recv_ms = d.info.last_ack_recv_ms = 6000;
	EXPECT("TCP_KEEPIDLE 0", d, RESET_LIKE);
	d.tcp.idle = 1;
	d.info.last_data_recv_ms = d.info.last_ack_recv_ms = 7000;
	EXPECT("TCP_KEEPIDLE 1", d, KEEPALIVE_ALL);
	d.tcp.keepalive = 2;
	EXPECT("SO_KEEPALIVE 2", d, RESET_LIKE);
}
END_TEST

/* The grid can exceed what the 32-bit millisecond fields can hold: no wrap-around. */
START_TEST(classify_keepalive_grid_overflow)
{
	struct liveness__diag d = keepalive_death();

	d.tcp.idle = LIVENESS_TCP_MAX_IDLE;
	d.tcp.interval = LIVENESS_TCP_MAX_INTERVAL;
	d.tcp.count = 1;
	d.info.probes = 255;
	d.info.last_data_recv_ms = d.info.last_ack_recv_ms = UINT32_MAX;
	EXPECT("255 probes of 32767 s", d, RESET_LIKE);
	d.info.probes = 127;
	EXPECT("127 probes of 32767 s", d, KEEPALIVE_ALL);
}
END_TEST

/* Busy, U 1000 ms: retransmissions began, then U passed without an ACK. */
static struct liveness__diag retransmit_death(void)
{
	struct liveness__diag d = closed();

	d.tcp.user_timeout = 1000;
	d.info.retransmits = 2;
	d.info.rto_us = 816000;
	d.info.last_data_recv_ms = 1448;
	d.info.last_ack_recv_ms = 1448;
	d.info.last_data_sent_ms = 608;
	d.queued = 1;
	return d;
}

START_TEST(classify_retransmissions_user_timeout)
{
	struct liveness__diag d = retransmit_death();

	EXPECT("U 1 s passed", d, RETRANSMIT_ALL);
	d.info.last_ack_recv_ms = 1000;
	EXPECT("U 1 s just passed", d, RETRANSMIT_ALL);
	d.info.last_ack_recv_ms = 999;
	EXPECT("RST to a retransmission before U", d, RESET_LIKE);
	/* Only the time since the last ACK counts. */
	d.info.last_data_recv_ms = UINT32_MAX;
	EXPECT("old data, recent ACK", d, RESET_LIKE);
	d = retransmit_death();
	d.info.retransmits = 0;
	d.info.last_data_sent_ms = 0;
	EXPECT("no retransmission", d, RESET_LIKE);
	d = retransmit_death();
	d.have_tcp = 0;
	EXPECT("settings unknown", d, RESET_LIKE);
	/* The keepalive rule goes first, but needs an empty queue. */
	d = retransmit_death();
	d.info.probes = 1;
	EXPECT("a keepalive probe counted too", d, RETRANSMIT_ALL);
}
END_TEST

/* Busy, no U, tcp_retries2 15: tcp_model_timeout() is 924.6 s; the RTO had reached 120 s. */
static struct liveness__diag retries2_death(void)
{
	struct liveness__diag d = closed();

	d.info.retransmits = 15;
	d.info.rto_us = 120000000;
	d.info.last_data_recv_ms = 924600;
	d.info.last_ack_recv_ms = 924600;
	d.info.last_data_sent_ms = 120000;
	d.queued = 1;
	return d;
}

START_TEST(classify_retransmissions_retries2)
{
	struct liveness__diag d = retries2_death();

	EXPECT("tcp_retries2 15", d, RETRANSMIT_ALL);
	d.info.last_ack_recv_ms = 924599;
	EXPECT("tcp_retries2 15, before the model", d, RESET_LIKE);
	d = retries2_death();
	d.info.last_data_sent_ms = 119999;
	EXPECT("RST to the last retransmission", d, RESET_LIKE);
	d.info.rto_us = 119999000;
	EXPECT("RTO 119.999 s", d, RETRANSMIT_ALL);
	d.info.rto_us = 119999001;
	EXPECT("RTO 119.999001 s", d, RESET_LIKE);
	d = retries2_death();
	d.retries2 = 3; /* (2 << 3) - 1 = 15 x 200 ms */
	d.info.rto_us = 3264000;
	d.info.last_data_sent_ms = 3264;
	d.info.last_ack_recv_ms = 3000;
	EXPECT("tcp_retries2 3", d, RETRANSMIT_ALL);
	d.info.last_ack_recv_ms = 2999;
	EXPECT("tcp_retries2 3, before the model", d, RESET_LIKE);
	d.retries2 = 0; /* 200 ms */
	d.info.last_ack_recv_ms = 200;
	EXPECT("tcp_retries2 0", d, RETRANSMIT_ALL);
	d.info.last_ack_recv_ms = 199;
	EXPECT("tcp_retries2 0, before the model", d, RESET_LIKE);
	/* The kernel's ceiling, and past it: a value the sysctl cannot hold. */
	d = retries2_death();
	d.retries2 = 255; /* 1023 x 200 ms + 246 x 120 s */
	d.info.last_ack_recv_ms = 29724600;
	EXPECT("tcp_retries2 255", d, RETRANSMIT_ALL);
	d.info.last_ack_recv_ms = 29724599;
	EXPECT("tcp_retries2 255, before the model", d, RESET_LIKE);
	d.info.last_ack_recv_ms = UINT32_MAX;
	d.retries2 = 256;
	EXPECT("tcp_retries2 256", d, RESET_LIKE);
	d.retries2 = -1;
	EXPECT("tcp_retries2 unknown", d, RESET_LIKE);
}
END_TEST

/* A peer that stopped reading, U 2 s: zero-window probes, then U passed since the last data. */
static struct liveness__diag zero_window_death(void)
{
	struct liveness__diag d = closed();

	d.tcp.user_timeout = 2000;
	d.info.rto_us = 208000;
	d.info.last_data_recv_ms = 2268;
	d.info.last_ack_recv_ms = 704;
	d.info.last_data_sent_ms = 2268;
	d.queued = 2985984;
	return d;
}

START_TEST(classify_zero_window)
{
	struct liveness__diag d = zero_window_death();

	EXPECT("zero window, U 2 s", d, RETRANSMIT_ALL);
	d.info.last_data_sent_ms = 2000;
	EXPECT("zero window, U 2 s just passed", d, RETRANSMIT_ALL);
	d.info.last_data_sent_ms = 1999;
	EXPECT("RST while the window was shut", d, RESET_LIKE);
	d = zero_window_death();
	d.queued = 0;
	EXPECT("nothing queued", d, RESET_LIKE);
	d.queued = -1;
	EXPECT("queue unknown", d, RESET_LIKE);
	d.queued = 1;
	EXPECT("one byte queued", d, RETRANSMIT_ALL);
	d.have_tcp = 0;
	EXPECT("settings unknown", d, RESET_LIKE);
	/* Retransmissions mean data was in flight: not the zero-window timer. */
	d = zero_window_death();
	d.info.retransmits = 1;
	EXPECT("retransmissions, last ACK before U", d, RESET_LIKE);
	/* Without U: tcp_retries2 unanswered probes, the first an RTO after the last data. */
	d = zero_window_death();
	d.tcp.user_timeout = 0;
	d.retries2 = 3;
	d.info.probes = 3;
	d.info.last_data_sent_ms = 208;
	EXPECT("three probes, tcp_retries2 3", d, RETRANSMIT_ALL);
	d.info.probes = 2;
	EXPECT("two probes, tcp_retries2 3", d, RESET_LIKE);
	d.info.probes = 3;
	d.info.last_data_sent_ms = 207;
	EXPECT("before the first probe", d, RESET_LIKE);
	d.info.last_data_sent_ms = 208;
	d.retries2 = -1;
	EXPECT("tcp_retries2 unknown", d, RESET_LIKE);
	d.retries2 = 0;
	d.info.probes = 0;
	EXPECT("tcp_retries2 0, no probe", d, RETRANSMIT_ALL);
}
END_TEST

/*
 * States this kernel (6.18, HZ unknown to user space) left in TCP_INFO after
 * deaths reproduced in a private namespace, with SIOCOUTQ and the settings
 * they ran under; check_fault.c reproduces them live.
 */
START_TEST(classify_recorded_kernel_states)
{
	static const struct {
		const char *what;
		struct liveness_tcp tcp;
		int retries2, queued;
		uint8_t retransmits, probes;
		uint32_t rtt_us, rto_us, data_recv, ack_recv, data_sent;
		enum liveness_cause cause;
	} rows[] = {
		{"keepalive 1 + 2 x 1 s",
		 {1, 1, 1, 2, 0, -1},
		 15,
		 0,
		 0,
		 2,
		 12,
		 204000,
		 3068,
		 3068,
		 3068,
		 LIVENESS_KEEPALIVE_TIMEOUT},
		{"keepalive U 2.5 s",
		 {1, 1, 1, 9, 2500, -1},
		 15,
		 0,
		 0,
		 2,
		 41,
		 204000,
		 3072,
		 3072,
		 3072,
		 LIVENESS_KEEPALIVE_TIMEOUT},
		{"busy U 1 s",
		 {1, 1, 1, 9, 1000, -1},
		 15,
		 1,
		 2,
		 0,
		 10,
		 816000,
		 1448,
		 1448,
		 608,
		 LIVENESS_RETRANSMIT_TIMEOUT},
		{"busy tcp_retries2 3",
		 {0, 7200, 75, 9, 0, -1},
		 3,
		 1,
		 4,
		 0,
		 10,
		 3264000,
		 6764,
		 6764,
		 3424,
		 LIVENESS_RETRANSMIT_TIMEOUT},
		{"zero window U 2 s",
		 {1, 1, 1, 9, 2000, -1},
		 15,
		 2985984,
		 0,
		 0,
		 30,
		 208000,
		 2268,
		 704,
		 2268,
		 LIVENESS_RETRANSMIT_TIMEOUT},
		{"zero window, peer gone, tcp_retries2 3",
		 {0, 1, 1, 9, 0, -1},
		 3,
		 2985984,
		 0,
		 3,
		 30,
		 208000,
		 3264,
		 3220,
		 3264,
		 LIVENESS_RETRANSMIT_TIMEOUT},
		{"RST on a quiet connection",
		 {1, 1, 1, 5, 0, -1},
		 15,
		 0,
		 0,
		 0,
		 34,
		 204000,
		 300,
		 300,
		 300,
		 LIVENESS_RESET},
		{"RST to the second keepalive probe",
		 {1, 1, 1, 5, 0, -1},
		 15,
		 0,
		 0,
		 2,
		 11,
		 204000,
		 2028,
		 2028,
		 2028,
		 LIVENESS_RESET},
		{"RST to the third retransmission",
		 {1, 1, 1, 9, 0, -1},
		 3,
		 1,
		 3,
		 0,
		 17,
		 1632000,
		 1664,
		 1664,
		 0,
		 LIVENESS_RESET},
		{"both closed in order after our shutdown",
		 {0, 7200, 75, 9, 0, -1},
		 15,
		 0,
		 0,
		 0,
		 5447,
		 208000,
		 148,
		 48,
		 148,
		 LIVENESS_RESET},
		{"refused connect",
		 {0, 7200, 75, 9, 0, -1},
		 15,
		 3,
		 0,
		 0,
		 0,
		 1000000,
		 2065380,
		 2065380,
		 2065380,
		 LIVENESS_LOCAL_ERROR},
	};
	size_t i;

	for (i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		struct liveness__diag d = closed();
		d.tcp = rows[i].tcp;
		d.retries2 = rows[i].retries2;
		d.queued = rows[i].queued;
		d.info.retransmits = rows[i].retransmits;
		d.info.probes = rows[i].probes;
		d.info.rtt_us = rows[i].rtt_us;
		d.info.rto_us = rows[i].rto_us;
		d.info.last_data_recv_ms = rows[i].data_recv;
		d.info.last_ack_recv_ms = rows[i].ack_recv;
		d.info.last_data_sent_ms = rows[i].data_sent;
		ck_assert_msg(on_epipe(d) == rows[i].cause, "%s: %s, expected %s", rows[i].what,
			      liveness_cause_name(on_epipe(d)), liveness_cause_name(rows[i].cause));
	}
}
END_TEST

/* ---- After a heartbeat verdict ------------------------------------------ */

/* An open connection, as the poll path gathers it after the heartbeat gave up. */
static struct liveness__diag open_after_verdict(void)
{
	struct liveness__diag d;

	memset(&d, 0, sizeof(d));
	d.io_result = -1;
	d.have_info = 1;
	d.info.state = TCP_ESTABLISHED;
	d.info.rtt_us = 40;
	d.info.rto_us = 204000;
	d.info.last_ack_recv_ms = 10;
	d.info.last_data_sent_ms = 10;
	d.queued = 0;
	d.retries2 = -1;
	return d;
}

/*
 * Something awaits an acknowledgement and none came for an RTO: nothing
 * answers. Acknowledged within one: the peer's kernel lives. Nothing in
 * flight: no telling, the heartbeat's cause. A kernel verdict wins.
 */
START_TEST(heartbeat_verdict_rules)
{
	struct liveness__diag d = open_after_verdict();

	ck_assert_int_eq(liveness__diag_heartbeat(&d), LIVENESS_HEARTBEAT_TIMEOUT);
	d.info.last_ack_recv_ms = 100000; /* no ACK for long, but nothing awaited one */
	ck_assert_int_eq(liveness__diag_heartbeat(&d), LIVENESS_HEARTBEAT_TIMEOUT);
	/* A ping unacknowledged: vanished from exactly one RTO without an ACK on. */
	d.info.unacked = 1;
	d.info.last_ack_recv_ms = 204;
	ck_assert_int_eq(liveness__diag_heartbeat(&d), LIVENESS_VANISHED);
	d.info.last_ack_recv_ms = 203;
	ck_assert_int_eq(liveness__diag_heartbeat(&d), LIVENESS_HEARTBEAT_TIMEOUT);
	/* Retransmitted already: the RTO passed unanswered, though the backoff grew. */
	d.info.retransmits = 1;
	d.info.rto_us = 408000;
	ck_assert_int_eq(liveness__diag_heartbeat(&d), LIVENESS_VANISHED);
	/* A keepalive probe out, nothing queued, unanswered for an RTO: vanished. */
	d = open_after_verdict();
	d.info.probes = 1;
	ck_assert_int_eq(liveness__diag_heartbeat(&d), LIVENESS_HEARTBEAT_TIMEOUT);
	d.info.retransmits = 3; /* no data in flight: retransmissions are no evidence */
	ck_assert_int_eq(liveness__diag_heartbeat(&d), LIVENESS_HEARTBEAT_TIMEOUT);
	d.info.last_ack_recv_ms = 204;
	ck_assert_int_eq(liveness__diag_heartbeat(&d), LIVENESS_VANISHED);
	/*
	 * A shut window: data queued, none in flight. Its probe timer backs off,
	 * so a live peer's last ACK can be seconds old with one probe out
	 * (measured on loopback); two unanswered probes mean nothing answers.
	 */
	d.queued = 4096;
	d.info.retransmits = 0;
	d.info.last_ack_recv_ms = 5000;
	ck_assert_int_eq(liveness__diag_heartbeat(&d), LIVENESS_HEARTBEAT_TIMEOUT);
	d.info.probes = 2;
	ck_assert_int_eq(liveness__diag_heartbeat(&d), LIVENESS_VANISHED);
	d.queued = -1; /* SIOCOUTQ unknown: no window rule, no keepalive rule */
	ck_assert_int_eq(liveness__diag_heartbeat(&d), LIVENESS_HEARTBEAT_TIMEOUT);
	/* The kernel ended it meanwhile, or the peer closed: that cause, not ours. */
	d = open_after_verdict();
	d.so_error = ECONNRESET;
	ck_assert_int_eq(liveness__diag_heartbeat(&d), LIVENESS_RESET);
	d = open_after_verdict();
	d.info.state = TCP_CLOSE_WAIT;
	d.info.unacked = 1;
	d.info.last_ack_recv_ms = 100000;
	ck_assert_int_eq(liveness__diag_heartbeat(&d), LIVENESS_CLOSED);
	d.have_info = 0;
	ck_assert_int_eq(liveness__diag_heartbeat(&d), LIVENESS_LOCAL_ERROR);
	ck_assert_int_eq(liveness__diag_heartbeat(NULL), LIVENESS_LOCAL_ERROR);
}
END_TEST

/*
 * The edges of the rules. A shut window with a single byte queued behind it
 * (a one-byte ping) and two probes out is as gone as one with megabytes
 * queued, however recent its last ACK. With nothing queued, keepalive probes
 * are evidence only once an RTO passed without an ACK, however many are out:
 * two probes 1 s apart (TCP_KEEPINTVL 1) on a path whose RTO is 3 s do not
 * yet say that nothing answers.
 */
START_TEST(heartbeat_verdict_edges)
{
	struct liveness__diag d = open_after_verdict();

	d.queued = 1;
	d.info.probes = 2;
	d.info.last_ack_recv_ms = 100;
	ck_assert_int_eq(liveness__diag_heartbeat(&d), LIVENESS_VANISHED);
	d.info.probes = 1;
	ck_assert_int_eq(liveness__diag_heartbeat(&d), LIVENESS_HEARTBEAT_TIMEOUT);
	d.info.probes = 2;
	d.info.unacked = 1; /* in flight and acknowledged within an RTO: not the window rule */
	ck_assert_int_eq(liveness__diag_heartbeat(&d), LIVENESS_HEARTBEAT_TIMEOUT);
	d = open_after_verdict();
	d.info.rto_us = 3000000;
	d.info.probes = 2;
	d.info.last_ack_recv_ms = 2999;
	ck_assert_int_eq(liveness__diag_heartbeat(&d), LIVENESS_HEARTBEAT_TIMEOUT);
	d.info.last_ack_recv_ms = 3000;
	ck_assert_int_eq(liveness__diag_heartbeat(&d), LIVENESS_VANISHED);
}
END_TEST

/* On real sockets: a kernel that acknowledges; a peer that closed; bad descriptors. */
START_TEST(heartbeat_verdict_on_loopback)
{
	int c, s, udp = socket(AF_INET, SOCK_DGRAM, 0);
	char ping[8] = "ping";

	tu_pair(&c, &s);
	/* The peer application reads nothing, but its kernel acknowledges our ping. */
	ck_assert_int_eq(write(c, ping, sizeof(ping)), sizeof(ping));
	ck_assert_uint_ne(tu_wait_readable(s, 2 * LIVENESS_SEC), LIVENESS_NEVER);
	ck_assert_int_eq(liveness_diagnose_heartbeat(c), LIVENESS_HEARTBEAT_TIMEOUT);
	/* It reads the ping at last and closes: a FIN. */
	ck_assert_int_eq(read(s, ping, sizeof(ping)), sizeof(ping));
	close(s);
	ck_assert_uint_ne(tu_wait_readable(c, 2 * LIVENESS_SEC), LIVENESS_NEVER);
	ck_assert_int_eq(liveness_diagnose_heartbeat(c), LIVENESS_CLOSED);
	close(c);
	ck_assert_int_eq(liveness_diagnose_heartbeat(c), LIVENESS_LOCAL_ERROR);
	ck_assert_int_eq(liveness_diagnose_heartbeat(-1), LIVENESS_LOCAL_ERROR);
	ck_assert_int_eq(liveness_diagnose_heartbeat(udp), LIVENESS_LOCAL_ERROR);
	ck_assert_str_eq(liveness_cause_name(LIVENESS_VANISHED), "vanished");
	close(udp);
}
END_TEST

/*
 * A peer host that vanished from an idle connection, on loopback in a
 * private network namespace where nftables drops the connection's packets
 * both ways. Its kernel is still there while the exchange goes on: nothing
 * awaits an answer, and the heartbeat's own cause stands. Once a keepalive
 * probe (TCP_KEEPIDLE 1 s) is out unanswered with nothing queued, nothing
 * answers: vanished. That takes the kernel's own count of what is queued on
 * the open connection (SIOCOUTQ, 0 here), which only the heartbeat asks for,
 * and which the plain diagnosis of the same open connection does without.
 */
START_TEST(heartbeat_verdict_on_a_vanished_idle_peer)
{
	struct liveness_tcp t = {1, 1, 1, 9, 0, -1};
	struct liveness_tcp_info info;
	int c, s;
	char b = 'x';

	if (!tu_netns("heartbeat verdict on a vanished idle peer"))
		return;
	tu_pair(&c, &s);
	ck_assert_int_eq(liveness_tcp_set(c, &t), 0);
	ck_assert_int_eq(write(c, &b, 1), 1);
	ck_assert_int_eq(read(s, &b, 1), 1);
	ck_assert_int_eq(write(s, &b, 1), 1);
	ck_assert_int_eq(read(c, &b, 1), 1);
	ck_assert_int_eq(liveness_diagnose_heartbeat(c), LIVENESS_HEARTBEAT_TIMEOUT);
	tu_drop_port(tu_port(s));
	ck_assert_msg(await_kernel(c, probe_out, 5 * LIVENESS_SEC),
		      "no keepalive probe went out within 5 s");
	ck_assert_int_eq(liveness_tcp_info(c, &info), 0);
	ck_assert_uint_eq(info.state, TCP_ESTABLISHED);
	ck_assert_uint_eq(info.unacked, 0);
	ck_assert_int_eq(liveness_diagnose_heartbeat(c), LIVENESS_VANISHED);
	ck_assert_int_eq(liveness_diagnose(c, -1, EAGAIN), LIVENESS_ALIVE);
	tu_undrop();
	close(c);
	close(s);
}
END_TEST

Suite *diagnose_suite(void)
{
	Suite *s = suite_create("diagnose");
	TCase *tc = tcase_create("loopback");
	TCase *rules = tcase_create("rules");

	tcase_add_test(tc, healthy_connection_is_alive);
	tcase_add_test(tc, peer_close_is_closed);
	tcase_add_test(tc, peer_abort_is_reset);
	tcase_add_test(tc, reset_seen_through_so_error);
	tcase_add_test(tc, peer_exit_with_unread_data_is_reset);
	tcase_add_test(tc, reset_consumed_then_epipe_is_reset);
	tcase_add_test(tc, own_shutdown_then_epipe_is_local_error);
	tcase_add_test(tc, orderly_close_after_own_shutdown_reads_as_reset);
	tcase_add_test(tc, reset_after_peer_fin_is_reset);
	tcase_add_test(tc, epipe_without_a_connection_is_local_error);
	tcase_add_test(tc, connect_to_closed_port_is_refused);
	tcase_add_test(tc, nonblocking_connect_refused_via_so_error);
	tcase_add_test(tc, errno_values_map_to_causes);
	tcase_add_test(tc, quiet_errno_reads_the_pending_error);
	tcase_add_test(tc, bad_descriptors_are_local_errors);
	tcase_add_test(tc, tcp_info_snapshot);
	tcase_add_test(tc, tcp_info_is_the_kernels);
	tcase_add_test(tc, tcp_info_failure_changes_nothing);
	tcase_add_test(tc, gather_reads_a_closed_connection);
	tcase_add_test(tc, gather_reads_only_the_state_of_an_open_connection);
	tcase_add_test(tc, gather_consumes_the_pending_error_only_without_an_io_error);
	tcase_add_test(tc, gather_refuses_what_is_no_tcp_socket);
	tcase_add_test(rules, classify_without_state);
	tcase_add_test(rules, classify_io_result_and_errno);
	tcase_add_test(rules, classify_open_states);
	tcase_add_test(rules, classify_timeouts_only_when_closed);
	tcase_add_test(rules, classify_never_connected);
	tcase_add_test(rules, classify_keepalive_count);
	tcase_add_test(rules, classify_keepalive_user_timeout);
	tcase_add_test(rules, classify_keepalive_needs_its_settings);
	tcase_add_test(rules, classify_keepalive_grid_overflow);
	tcase_add_test(rules, classify_retransmissions_user_timeout);
	tcase_add_test(rules, classify_retransmissions_retries2);
	tcase_add_test(rules, classify_zero_window);
	tcase_add_test(rules, classify_recorded_kernel_states);
	tcase_add_test(rules, heartbeat_verdict_rules);
	tcase_add_test(rules, heartbeat_verdict_edges);
	tcase_add_test(tc, heartbeat_verdict_on_loopback);
	tcase_add_test(tc, heartbeat_verdict_on_a_vanished_idle_peer);
	/* Room for a SYN retransmission and a backed-off probe on a loaded machine. */
	tcase_set_timeout(tc, 10);
	suite_add_tcase(s, tc);
	suite_add_tcase(s, rules);
	return s;
}
