/*
 * Layer 2 on loopback: FIN, RST, refused connects, healthy sockets, the
 * poll-only path through SO_ERROR and the TCP state, errno mapping, and
 * liveness_tcp_info() snapshots. Failures that need a vanished host are in
 * check_fault.c.
 */
#include <arpa/inet.h>
#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "liveness.h"
#include "util.h"

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
	ck_assert_int_eq(liveness_diagnose(c, -1, EPIPE), LIVENESS_RESET);
	ck_assert_int_eq(liveness_diagnose(c, -1, ECONNREFUSED), LIVENESS_REFUSED);
	ck_assert_int_eq(liveness_diagnose(c, -1, EHOSTUNREACH), LIVENESS_UNREACHABLE);
	ck_assert_int_eq(liveness_diagnose(c, -1, ENETUNREACH), LIVENESS_UNREACHABLE);
	ck_assert_int_eq(liveness_diagnose(c, -1, ENOMEM), LIVENESS_LOCAL_ERROR);
	ck_assert_int_eq(liveness_diagnose(c, -1, EMFILE), LIVENESS_LOCAL_ERROR);
	/* A live connection that reports ETIMEDOUT has no probes out: a retransmission timeout. */
	ck_assert_int_eq(liveness_diagnose(c, -1, ETIMEDOUT), LIVENESS_RETRANSMIT_TIMEOUT);
	close(c);
	close(s);
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
	close(s);
	ck_assert_uint_ne(tu_wait_readable(c, 2 * LIVENESS_SEC), LIVENESS_NEVER);
	ck_assert_int_eq(liveness_tcp_info(c, &info), 0);
	ck_assert_uint_eq(info.state, TCP_CLOSE_WAIT);
	close(c);
}
END_TEST

Suite *diagnose_suite(void)
{
	Suite *s = suite_create("diagnose");
	TCase *tc = tcase_create("loopback");

	tcase_add_test(tc, healthy_connection_is_alive);
	tcase_add_test(tc, peer_close_is_closed);
	tcase_add_test(tc, peer_abort_is_reset);
	tcase_add_test(tc, reset_seen_through_so_error);
	tcase_add_test(tc, peer_exit_with_unread_data_is_reset);
	tcase_add_test(tc, connect_to_closed_port_is_refused);
	tcase_add_test(tc, nonblocking_connect_refused_via_so_error);
	tcase_add_test(tc, errno_values_map_to_causes);
	tcase_add_test(tc, bad_descriptors_are_local_errors);
	tcase_add_test(tc, tcp_info_snapshot);
	suite_add_tcase(s, tc);
	return s;
}
