/*
 * libFuzzer target for the rules of liveness_diagnose(). The first byte
 * picks what the rest of the input becomes:
 *  - a made-up state (any TCP_INFO, settings, errno, I/O result): judged
 *    without a crash, into a cause liveness_diagnose() can give, the same
 *    twice, and *d left untouched;
 *  - the state a kernel timeout leaves, built from random settings by a
 *    plain model of tcp_keepalive_timer(), retransmits_timed_out() with
 *    tcp_model_timeout(), and tcp_probe_timer(), asked about a random time
 *    after the death: diagnosed as that timeout on EPIPE, end of file,
 *    poll and ETIMEDOUT alike;
 *  - the state a RST leaves, on a quiet connection or in answer to a
 *    keepalive probe or a retransmission, asked about before the kernel
 *    would have given up: reset on EPIPE, closed on end of file;
 *  - a real descriptor (none, a UDP socket, a listener, an unconnected TCP
 *    socket) with a random I/O result and errno: a defined cause.
 * A violated invariant traps.
 *
 * Times are milliseconds, as TCP_INFO gives them; the model's timers fire
 * on or after their due time, never before, as the kernel's do.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdint.h>
#include <string.h>
#include <sys/socket.h>

#include "../lib/internal.h"
#include "fuzz_input.h"
#include "liveness.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* A number in [lo, hi]: one of the two ends as often as not, where the rules turn. */
static uint64_t pick(struct in *in, uint64_t lo, uint64_t hi)
{
	switch (take(in, 1) % 4) {
	case 0: return lo;
	case 1: return hi;
	default: return lo + take(in, 8) % (hi - lo + 1);
	}
}

static const int errnos[] = {0,	       EAGAIN,	     EINTR,	   EINPROGRESS, ECONNRESET,
			     EPIPE,    ECONNREFUSED, EHOSTUNREACH, ENETUNREACH, EHOSTDOWN,
			     ENETDOWN, ETIMEDOUT,    ENOMEM,	   EBADF,	ENOTCONN,
			     EMSGSIZE, -1,	     4095,	   0x7fffffff,	-0x7fffffff - 1};

static int some_errno(struct in *in)
{
	uint8_t b = (uint8_t)take(in, 1);

	return b < 200 ? errnos[b % (sizeof(errnos) / sizeof(errnos[0]))] : (int)take(in, 4);
}

/* What liveness_diagnose() may give: never the causes only the heartbeat layer knows. */
static int diagnosable(enum liveness_cause c)
{
	return (c >= LIVENESS_ALIVE && c <= LIVENESS_RETRANSMIT_TIMEOUT) ||
	       c == LIVENESS_LOCAL_ERROR;
}

static enum liveness_cause ask(struct liveness__diag d, ssize_t io_result, int io_errno)
{
	d.io_result = io_result;
	d.io_errno = io_errno;
	d.so_error = 0;
	return liveness__diag_classify(&d);
}

/* A made-up state, every field from the input. */
static void any_state(struct in *in)
{
	struct liveness__diag d, copy;
	enum liveness_cause c;

	memset(&d, 0, sizeof(d));
	d.io_result = (ssize_t)take(in, 8);
	if (take(in, 1) & 1)
		d.io_result = (ssize_t)pick(in, 0, 2) - 1;
	d.io_errno = some_errno(in);
	d.so_error = some_errno(in);
	d.have_info = (int)take(in, 1) % 3;
	d.info.state = (uint8_t)take(in, 1);
	d.info.retransmits = (uint8_t)take(in, 1);
	d.info.probes = (uint8_t)take(in, 1);
	d.info.backoff = (uint8_t)take(in, 1);
	d.info.rtt_us = (uint32_t)take(in, 4);
	d.info.rto_us = (uint32_t)take(in, 4);
	d.info.last_data_recv_ms = (uint32_t)take(in, 4);
	d.info.last_ack_recv_ms = (uint32_t)take(in, 4);
	d.info.last_data_sent_ms = (uint32_t)take(in, 4);
	d.have_tcp = (int)take(in, 1) % 3;
	d.tcp.keepalive = (int)take(in, 4);
	d.tcp.idle = (int)take(in, 4);
	d.tcp.interval = (int)take(in, 4);
	d.tcp.count = (int)take(in, 4);
	d.tcp.user_timeout = (unsigned)take(in, 4);
	d.tcp.linger = (int)take(in, 4);
	d.queued = (int)take(in, 4);
	d.retries2 = (int)take(in, 4);
	copy = d;
	c = liveness__diag_classify(&d);
	CHECK(diagnosable(c));
	CHECK(liveness__diag_classify(&d) == c);
	CHECK(memcmp(&d, &copy, sizeof(d)) == 0);
	CHECK(liveness_cause_name(c) != NULL);
}

/*
 * A connection the kernel has closed (tcp_done()): settings in range, a
 * round trip measured, nothing retransmitted, no probe out, nothing queued.
 * The cases below set what their death or RST leaves.
 */
static struct liveness__diag closed_state(struct in *in)
{
	struct liveness__diag d;

	memset(&d, 0, sizeof(d));
	d.have_info = 1;
	d.info.state = TCP_CLOSE;
	d.info.rtt_us = (uint32_t)pick(in, 1, UINT32_MAX);
	d.info.rttvar_us = (uint32_t)take(in, 4);
	d.info.rto_us = (uint32_t)pick(in, 200000, 120000000);
	d.info.snd_cwnd = (uint32_t)take(in, 4);
	d.info.total_retrans = (uint32_t)take(in, 4);
	d.have_tcp = 1;
	d.tcp.keepalive = (int)take(in, 1) & 1;
	d.tcp.idle = (int)pick(in, 1, LIVENESS_TCP_MAX_IDLE);
	d.tcp.interval = (int)pick(in, 1, LIVENESS_TCP_MAX_INTERVAL);
	d.tcp.count = (int)pick(in, 1, LIVENESS_TCP_MAX_COUNT);
	d.tcp.user_timeout = take(in, 1) & 1 ? (unsigned)pick(in, 1, 0x7fffffff) : 0;
	d.tcp.linger = -1;
	d.retries2 = (int)pick(in, 0, 255);
	return d;
}

/* The time since the last segment received: since_rx in one field, at least that in the other. */
static void received(struct in *in, struct liveness__diag *d, uint64_t since_rx)
{
	uint32_t other = (uint32_t)pick(in, since_rx, UINT32_MAX);

	if (take(in, 1) & 1) {
		d->info.last_data_recv_ms = (uint32_t)since_rx;
		d->info.last_ack_recv_ms = other;
	} else {
		d->info.last_ack_recv_ms = (uint32_t)since_rx;
		d->info.last_data_recv_ms = other;
	}
}

/* Every way of asking after the consumed error gives the timeout. */
static void expect_timeout(const struct liveness__diag *d, enum liveness_cause want)
{
	CHECK(ask(*d, -1, EPIPE) == want);
	CHECK(ask(*d, 0, 0) == want);
	CHECK(ask(*d, -1, 0) == want);
	CHECK(ask(*d, -1, EAGAIN) == want);
	CHECK(ask(*d, -1, ETIMEDOUT) == want);
}

/*
 * tcp_keepalive_timer(): the first tick at idle (late by l0), then every
 * interval (late by l each); at tick k the kernel gives up if, without U,
 * its probes_out (a u8, k - 1 at that tick) reached TCP_KEEPCNT, or with U
 * if U passed and probes_out is not 0; otherwise it sends a probe.
 */
static void keepalive_death(struct in *in)
{
	struct liveness__diag d = closed_state(in);
	uint64_t idle = (uint64_t)d.tcp.idle * 1000, intvl = (uint64_t)d.tcp.interval * 1000;
	uint64_t l0 = pick(in, 0, idle / 8 + 10), l = pick(in, 0, intvl / 8 + 10);
	uint64_t k, t;

	d.tcp.keepalive = 1;
	if (d.tcp.user_timeout == 0) {
		k = (uint64_t)d.tcp.count + 1;
	} else {
		uint64_t first = idle + l0;
		k = d.tcp.user_timeout <= first + intvl + l
			    ? 2
			    : 1 + (d.tcp.user_timeout - first + intvl + l - 1) / (intvl + l);
		if ((k - 1) % 256 == 0)
			k++; /* probes_out wrapped to 0: the kernel probes once more */
	}
	t = idle + l0 + (k - 1) * (intvl + l);
	if (t > UINT32_MAX)
		return; /* past what the 32-bit millisecond fields (and jiffies) hold */
	d.info.probes = (uint8_t)(k - 1);
	received(in, &d, pick(in, t, UINT32_MAX));
	d.info.last_data_sent_ms = (uint32_t)take(in, 4);
	expect_timeout(&d, LIVENESS_KEEPALIVE_TIMEOUT);
}

/* tcp_model_timeout() for TCP_RTO_MIN = 200 ms and TCP_RTO_MAX = 120 s, in ms. */
static uint64_t model_ms(int retries2)
{
	if (retries2 <= 9)
		return ((2u << retries2) - 1) * 200u;
	return 1023u * 200u + (uint64_t)(retries2 - 9) * 120000u;
}

/*
 * retransmits_timed_out(): r >= 1 retransmissions, the first (retrans_stamp)
 * some time after the last ACK; the kernel gives up at a retransmission
 * timer firing once U, or the model of tcp_retries2, has passed since it.
 * Without U that firing comes an RTO (the one TCP_INFO shows) or later
 * after the last retransmission.
 */
static void retransmission_death(struct in *in)
{
	struct liveness__diag d = closed_state(in);
	uint64_t limit = d.tcp.user_timeout ? d.tcp.user_timeout : model_ms(d.retries2);
	uint64_t since_ack = pick(in, 0, 600000) + limit + pick(in, 0, 1000000);

	if (since_ack > UINT32_MAX)
		return;
	d.info.retransmits = (uint8_t)pick(in, 1, 255);
	d.info.probes = (uint8_t)take(in, 1);
	d.queued = (int)pick(in, 1, 0x7fffffff);
	d.info.last_ack_recv_ms = (uint32_t)since_ack;
	d.info.last_data_recv_ms = (uint32_t)pick(in, since_ack, UINT32_MAX);
	if (d.tcp.user_timeout)
		d.info.last_data_sent_ms = (uint32_t)take(in, 4);
	else
		d.info.last_data_sent_ms =
			(uint32_t)pick(in, (d.info.rto_us + 999) / 1000, UINT32_MAX);
	expect_timeout(&d, LIVENESS_RETRANSMIT_TIMEOUT);
}

/*
 * tcp_probe_timer(): data waits behind a zero window, nothing in flight.
 * With U it gives up once U has passed since its first probe, which came
 * after the last data sent; without, once tcp_retries2 probes are out, the
 * first an RTO after the window closed.
 */
static void zero_window_death(struct in *in)
{
	struct liveness__diag d = closed_state(in);

	d.queued = (int)pick(in, 1, 0x7fffffff);
	received(in, &d, take(in, 4));
	if (d.tcp.user_timeout) {
		d.info.probes = (uint8_t)take(in, 1);
		d.info.last_data_sent_ms = (uint32_t)pick(in, d.tcp.user_timeout, UINT32_MAX);
	} else {
		d.info.probes = (uint8_t)pick(in, (uint64_t)d.retries2, 255);
		d.info.last_data_sent_ms =
			(uint32_t)pick(in, (d.info.rto_us + 999) / 1000, UINT32_MAX);
	}
	expect_timeout(&d, LIVENESS_RETRANSMIT_TIMEOUT);
}

static void expect_reset(const struct liveness__diag *d)
{
	CHECK(ask(*d, -1, EPIPE) == LIVENESS_RESET);
	CHECK(ask(*d, 0, 0) == LIVENESS_CLOSED);
	CHECK(ask(*d, -1, ECONNRESET) == LIVENESS_RESET);
}

/* tcp_reset() on a connection with nothing in flight and no probe out. */
static void quiet_reset(struct in *in)
{
	struct liveness__diag d = closed_state(in);

	received(in, &d, take(in, 4));
	d.info.last_data_sent_ms = (uint32_t)take(in, 4);
	expect_reset(&d);
	CHECK(ask(d, -1, 0) == LIVENESS_LOCAL_ERROR);
}

/*
 * The peer's new kernel answers keepalive probe p with RST, after the tick
 * that sent it and before the next one; the kernel had not given up at any
 * tick up to p. Asked promptly, before the next tick was due, or late,
 * where the kernel's other condition (TCP_KEEPCNT not reached, or U not
 * passed) shows it had not given up.
 */
static void reset_to_probe(struct in *in)
{
	struct liveness__diag d = closed_state(in);
	uint64_t idle = (uint64_t)d.tcp.idle * 1000, intvl = (uint64_t)d.tcp.interval * 1000;
	uint64_t u = d.tcp.user_timeout, p = pick(in, 1, u ? 255 : (uint64_t)d.tcp.count);
	uint64_t slack = pick(in, 0, intvl - 1); /* lateness of the ticks, and the answer's delay */
	uint64_t base = idle + (p - 1) * intvl, t = base + pick(in, 0, slack), since = base + slack;

	if (p > 1 && u && t >= u)
		return; /* the kernel would have given up at an earlier tick */
	if (since > UINT32_MAX)
		return;
	if (take(in, 1) & 1) {
		if (!u && p < (uint64_t)d.tcp.count)
			since = pick(in, t, UINT32_MAX);
		else if (u && t < u)
			since = pick(in, t, u - 1);
	}
	d.tcp.keepalive = 1;
	d.info.probes = (uint8_t)p;
	received(in, &d, since);
	d.info.last_data_sent_ms = (uint32_t)take(in, 4);
	expect_reset(&d);
}

/*
 * The peer's new kernel answers retransmission r with RST: with U, before U
 * had passed since the last ACK; without, before the RTO that would have
 * fired next, or before the tcp_retries2 model had passed since the last ACK.
 * Or it answers a zero-window probe (data queued, nothing retransmitted)
 * before that timer would have given up.
 */
static void reset_to_retransmission(struct in *in)
{
	struct liveness__diag d = closed_state(in);
	uint32_t u = d.tcp.user_timeout, rto_ms = (d.info.rto_us - 1) / 1000;

	d.info.retransmits = (uint8_t)pick(in, 1, 255);
	d.info.probes = (uint8_t)take(in, 1);
	d.queued = (int)pick(in, 1, 0x7fffffff);
	d.info.last_ack_recv_ms = (uint32_t)take(in, 4);
	d.info.last_data_sent_ms = (uint32_t)take(in, 4);
	switch (take(in, 1) % 5) {
	case 0: /* however long the quiet spell before our write */
		if (u)
			d.info.last_ack_recv_ms = (uint32_t)pick(in, 0, u - 1);
		else
			d.info.last_data_sent_ms = (uint32_t)pick(in, 0, rto_ms);
		break;
	case 1: /* however long ago the last retransmission */
		if (u)
			d.info.last_ack_recv_ms = (uint32_t)pick(in, 0, u - 1);
		else
			d.info.last_ack_recv_ms = (uint32_t)pick(in, 0, model_ms(d.retries2) - 1);
		break;
	case 2: /* in a zero window, before U since the last data */
		d.info.retransmits = 0;
		if (u)
			d.info.last_data_sent_ms = (uint32_t)pick(in, 0, u - 1);
		else
			d.info.last_data_sent_ms = (uint32_t)pick(in, 0, rto_ms);
		break;
	case 3: /* in a zero window, before tcp_retries2 probes */
		d.info.retransmits = 0;
		d.tcp.user_timeout = 0;
		d.retries2 = (int)pick(in, 1, 255);
		d.info.probes = (uint8_t)pick(in, 0, (uint64_t)d.retries2 - 1);
		break;
	default: /* tcp_retries2 unknown or out of the sysctl's range */
		d.tcp.user_timeout = 0;
		d.retries2 = take(in, 1) & 1 ? -1 - (int)take(in, 2) : 256 + (int)take(in, 2);
		break;
	}
	d.info.last_data_recv_ms = (uint32_t)pick(in, d.info.last_ack_recv_ms, UINT32_MAX);
	expect_reset(&d);
}

/* Real descriptors, made once: what gathering meets outside a connection. */
static void real_descriptors(struct in *in)
{
	static int fds[4] = {-2, -2, -2, -2};
	int fd;
	enum liveness_cause c;

	if (fds[0] == -2) {
		struct sockaddr_in a = {.sin_family = AF_INET};
		a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
		fds[0] = -1;
		fds[1] = socket(AF_INET, SOCK_DGRAM, 0);
		fds[2] = socket(AF_INET, SOCK_STREAM, 0);
		fds[3] = socket(AF_INET, SOCK_STREAM, 0);
		CHECK(fds[1] >= 0 && fds[2] >= 0 && fds[3] >= 0);
		CHECK(bind(fds[2], (struct sockaddr *)&a, sizeof(a)) == 0 &&
		      listen(fds[2], 1) == 0);
	}
	fd = fds[take(in, 1) % 4];
	c = liveness_diagnose(fd, (ssize_t)(int64_t)take(in, 8) % 3 - 1, some_errno(in));
	CHECK(diagnosable(c));
	if (fd == fds[0] || fd == fds[1])
		CHECK(c == LIVENESS_LOCAL_ERROR);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct in in = {data, size};

	switch (take(&in, 1) % 8) {
	case 0: any_state(&in); break;
	case 1: keepalive_death(&in); break;
	case 2: retransmission_death(&in); break;
	case 3: zero_window_death(&in); break;
	case 4: quiet_reset(&in); break;
	case 5: reset_to_probe(&in); break;
	case 6: reset_to_retransmission(&in); break;
	default: real_descriptors(&in); break;
	}
	return 0;
}
