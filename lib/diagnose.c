/*
 * Layer 2: why did the connection die? From the caller's I/O result, the
 * socket's pending error (SO_ERROR) and the kernel's TCP_INFO.
 */
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <string.h>
#include <sys/socket.h>

#include "internal.h"
#include "liveness.h"

/*
 * struct tcp_info is the kernel's own layout: the BSDs have a TCP_INFO with
 * other fields, macOS has none. Only Linux's layout (glibc or musl) is read.
 */
#if defined(TCP_INFO) && defined(__linux__)
#define HAVE_LINUX_TCP_INFO 1
#endif

LIVENESS_EXPORT int liveness_tcp_info(int fd, struct liveness_tcp_info *info)
{
#ifdef HAVE_LINUX_TCP_INFO
	struct tcp_info ti;
	socklen_t len = sizeof(ti);
	int r;

	if (!info)
		return -EINVAL;
	if ((r = liveness__check_tcp(fd)) < 0)
		return r;
	memset(&ti, 0, sizeof(ti));
	if (getsockopt(fd, IPPROTO_TCP, TCP_INFO, &ti, &len) != 0)
		return -errno;
	memset(info, 0, sizeof(*info));
	info->state = ti.tcpi_state;
	info->retransmits = ti.tcpi_retransmits;
	info->probes = ti.tcpi_probes;
	info->backoff = ti.tcpi_backoff;
	info->rtt_us = ti.tcpi_rtt;
	info->rttvar_us = ti.tcpi_rttvar;
	info->rto_us = ti.tcpi_rto;
	info->unacked = ti.tcpi_unacked;
	info->total_retrans = ti.tcpi_total_retrans;
	info->last_data_recv_ms = ti.tcpi_last_data_recv;
	info->last_ack_recv_ms = ti.tcpi_last_ack_recv;
	info->last_data_sent_ms = ti.tcpi_last_data_sent;
	info->snd_cwnd = ti.tcpi_snd_cwnd;
	return 0;
#else
	(void)fd;
	return info ? -ENOTSUP : -EINVAL;
#endif
}

/*
 * ETIMEDOUT has two kernel sources. tcp_keepalive_timer() ends an idle
 * connection whose probes went unanswered: probes are counted, nothing was
 * retransmitted. tcp_retransmit_timer() ends one whose data stayed
 * unacknowledged: the segment's retransmission count is set. Zero-window
 * probes (the peer stopped reading) also back off the RTO; the data could
 * not be delivered, so they count as a retransmission timeout too.
 */
static enum liveness_cause timed_out(int fd)
{
	struct liveness_tcp_info info;

	if (liveness_tcp_info(fd, &info) == 0 && info.probes > 0 && info.retransmits == 0 &&
	    info.backoff == 0)
		return LIVENESS_KEEPALIVE_TIMEOUT;
	return LIVENESS_RETRANSMIT_TIMEOUT;
}

static enum liveness_cause from_errno(int fd, int err)
{
	switch (err) {
	case ECONNRESET:
	case EPIPE: /* writing after the peer's RST */
		return LIVENESS_RESET;
	case ECONNREFUSED:
		return LIVENESS_REFUSED;
	case EHOSTUNREACH:
	case ENETUNREACH:
	case EHOSTDOWN:
	case ENETDOWN:
		return LIVENESS_UNREACHABLE;
	case ETIMEDOUT:
		return timed_out(fd);
	default:
		return LIVENESS_LOCAL_ERROR;
	}
}

/* No error to go by: the connection's state says what the peer did. */
static enum liveness_cause from_state(int fd)
{
#ifdef HAVE_LINUX_TCP_INFO
	struct liveness_tcp_info info;

	if (liveness_tcp_info(fd, &info) != 0)
		return LIVENESS_LOCAL_ERROR;
	switch (info.state) {
	case TCP_ESTABLISHED:
	case TCP_SYN_SENT:
	case TCP_SYN_RECV:
	case TCP_FIN_WAIT1:
	case TCP_FIN_WAIT2:
	case TCP_LISTEN:
		return LIVENESS_ALIVE;
	case TCP_CLOSE_WAIT:
	case TCP_LAST_ACK:
	case TCP_CLOSING:
	case TCP_TIME_WAIT:
		return LIVENESS_CLOSED; /* the peer's FIN arrived */
	default:
		/* TCP_CLOSE with no pending error: never connected, or the error was consumed. */
		return LIVENESS_LOCAL_ERROR;
	}
#else
	(void)fd;
	return LIVENESS_LOCAL_ERROR; /* no state to go by on this system */
#endif
}

/*
 * read() returns 0 after the peer's FIN, but also on a connection the
 * kernel already ended whose error an earlier call consumed: a send() that
 * failed with ETIMEDOUT leaves the next recv() a plain end of file. A FIN
 * leaves the socket in CLOSE_WAIT (or later closing states); a timed-out
 * connection is in CLOSE with its probe or retransmission counts intact.
 */
static enum liveness_cause end_of_file(int fd)
{
	struct liveness_tcp_info info;

	if (liveness_tcp_info(fd, &info) == 0 && info.state == TCP_CLOSE) {
		if (info.retransmits > 0)
			return LIVENESS_RETRANSMIT_TIMEOUT;
		if (info.probes > 0)
			return timed_out(fd);
	}
	return LIVENESS_CLOSED;
}

LIVENESS_EXPORT enum liveness_cause liveness_diagnose(int fd, ssize_t io_result, int io_errno)
{
	int err = 0;
	socklen_t len = sizeof(err);

	if (liveness__check_tcp(fd) < 0)
		return LIVENESS_LOCAL_ERROR;
	if (io_result > 0)
		return LIVENESS_ALIVE;
	if (io_result == 0)
		return end_of_file(fd);
	if (io_errno == EAGAIN || io_errno == EWOULDBLOCK || io_errno == EINTR ||
	    io_errno == EINPROGRESS)
		io_errno = 0; /* not a failure by itself; look at the socket */
	if (io_errno != 0)
		return from_errno(fd, io_errno);
	if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len) == 0 && err != 0)
		return from_errno(fd, err);
	return from_state(fd);
}
