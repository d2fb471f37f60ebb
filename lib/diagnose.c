/*
 * Layer 2: why did the connection die? From the caller's I/O result, the
 * socket's pending error (SO_ERROR), the kernel's TCP_INFO and, once the
 * connection is closed, the socket's own keepalive and user-timeout settings.
 *
 * Gathering (system calls) and judging (no system call) are apart, so that
 * every rule can be held to made-up kernel states as well as to real ones.
 */
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <string.h>
#include <sys/ioctl.h>
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

/*
 * The states TCP_INFO reports, as Linux numbers them (include/net/tcp_states.h,
 * part of the ABI). Named here so that the rules compile where netinet/tcp.h
 * has no such names; there have_info is never set and they are never compared.
 */
enum {
	STATE_ESTABLISHED = 1,
	STATE_SYN_SENT,
	STATE_SYN_RECV,
	STATE_FIN_WAIT1,
	STATE_FIN_WAIT2,
	STATE_TIME_WAIT,
	STATE_CLOSE,
	STATE_CLOSE_WAIT,
	STATE_LAST_ACK,
	STATE_LISTEN,
	STATE_CLOSING
};

/* Frozen for 1.x, fields and size (liveness(3)). */
_Static_assert(sizeof(struct liveness_tcp_info) == 40, "struct liveness_tcp_info is ABI: 40 bytes");

#ifdef HAVE_LINUX_TCP_INFO
_Static_assert((int)STATE_ESTABLISHED == (int)TCP_ESTABLISHED &&
		       (int)STATE_CLOSE == (int)TCP_CLOSE && (int)STATE_CLOSING == (int)TCP_CLOSING,
	       "TCP states differ from the kernel's numbering");
#endif

/* The kernel's ceiling for net.ipv4.tcp_retries2 (a u8 sysctl), and milliseconds per second. */
#define MAX_RETRIES2 255
#define MS_PER_SEC 1000u

#ifdef HAVE_LINUX_TCP_INFO
static int read_tcp_info(int fd, struct liveness_tcp_info *info)
{
	struct tcp_info ti;
	socklen_t len = sizeof(ti);

	/* A kernel older than glibc's struct fills less of it; the rest reads as 0. */
	memset(&ti, 0, sizeof(ti));
	if (getsockopt(fd, IPPROTO_TCP, TCP_INFO, &ti, &len) != 0)
		return -errno;
	/* Every field is set: the layout has no padding and is fixed. */
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
}
#endif

LIVENESS_EXPORT int liveness_tcp_info(int fd, struct liveness_tcp_info *info)
{
	int r;

	if (!info)
		return -EINVAL;
	if ((r = liveness__check_tcp(fd)) < 0)
		return r;
#ifdef HAVE_LINUX_TCP_INFO
	return read_tcp_info(fd, info);
#else
	return -ENOTSUP;
#endif
}

/* An errno that is no failure by itself: the socket's own error and state decide. */
static int says_nothing(int err)
{
	return err == 0 || err == EAGAIN || err == EWOULDBLOCK || err == EINTR ||
	       err == EINPROGRESS;
}

int liveness__diag_gather(int fd, ssize_t io_result, int io_errno, struct liveness__diag *d)
{
	socklen_t len = sizeof(d->so_error);
	int r;

	memset(d, 0, sizeof(*d));
	d->io_result = io_result;
	d->io_errno = io_errno;
	d->queued = -1;
	d->retries2 = -1;
	if ((r = liveness__check_tcp(fd)) < 0)
		return r;
	/*
	 * Only the poll-only path may consume the pending error; an I/O error
	 * already did. A failed getsockopt() writes nothing: so_error stays 0.
	 */
	if (io_result < 0 && says_nothing(io_errno))
		(void)getsockopt(fd, SOL_SOCKET, SO_ERROR, &d->so_error, &len);
	d->have_info = liveness_tcp_info(fd, &d->info) == 0;
	/*
	 * A closed connection may have died of a timeout whose ETIMEDOUT an
	 * earlier call consumed; judging that takes the settings it ran under.
	 * getsockopt() still answers in TCP_CLOSE, and nothing clears them.
	 */
	if (d->have_info && d->info.state == STATE_CLOSE) {
		d->have_tcp = liveness_tcp_get(fd, &d->tcp) == 0;
#ifdef TIOCOUTQ
		/*
		 * SIOCOUTQ is TIOCOUTQ: tcp_ioctl() answers write_seq - snd_una,
		 * which no purge resets. On failure queued stays -1.
		 */
		(void)ioctl(fd, TIOCOUTQ, &d->queued);
#endif
		d->retries2 = liveness__tcp_retries2();
	}
	return 0;
}

/*
 * The rules below judge a connection the kernel has closed (TCP_CLOSE). A
 * RST (tcp_reset()) and a timeout (tcp_write_err()) both end in
 * tcp_write_queue_purge() and tcp_done(): packets_out and the backoff are
 * zeroed, the state is CLOSE, and both directions are shut, so a later send()
 * fails with EPIPE and recv() returns 0. The probe and retransmission counts
 * survive, but a RST that answers a keepalive probe or a retransmission
 * leaves them set too: only the kernel's own conditions for giving up tell a
 * timeout from a RST. Each rule below is one timer's conditions, read from
 * fields that keep counting after the death: a state that fails any of them
 * cannot have died by that timer, and one that meets all of them is taken
 * for its death.
 */

/*
 * tcp_keepalive_timer() gives up only with nothing unacknowledged or unsent,
 * and only on a tick: the first comes idle seconds after the last segment
 * received, each probe re-arms the timer an interval later, and the tick
 * that gives up follows the last probe. Without TCP_USER_TIMEOUT it needs
 * TCP_KEEPCNT probes out; with it, at least one probe out and the user
 * timeout passed since the last segment received (keepalive_time_elapsed(),
 * which TCP_INFO's last_data_recv and last_ack_recv give).
 */
static int keepalive_gave_up(const struct liveness__diag *d)
{
	const struct liveness_tcp_info *i = &d->info;
	const struct liveness_tcp *t = &d->tcp;
	uint64_t since_rx, grid;

	if (!d->have_info || !d->have_tcp || !liveness__tcp_timing_valid(t) || !t->keepalive ||
	    i->probes == 0 || d->queued != 0)
		return 0;
	since_rx = i->last_data_recv_ms < i->last_ack_recv_ms ? i->last_data_recv_ms
							      : i->last_ack_recv_ms;
	grid = ((uint64_t)t->idle + (uint64_t)i->probes * (uint64_t)t->interval) * MS_PER_SEC;
	if (since_rx < grid)
		return 0;
	if (t->user_timeout == 0)
		return i->probes >= t->count;
	return since_rx >= t->user_timeout;
}

/*
 * retransmits_timed_out() gives up once retransmissions have begun and the
 * time since retrans_stamp (the first one) reaches TCP_USER_TIMEOUT or, without
 * it, tcp_model_timeout() of tcp_retries2. No ACK came since before that
 * first retransmission, so last_ack_recv is at least that time. Without a
 * user timeout the giving-up tick is the retransmission timer itself, armed
 * for the RTO that TCP_INFO still reports, so at least that long has passed
 * since the last retransmission (last_data_sent).
 */
static int retransmissions_gave_up(const struct liveness__diag *d)
{
	const struct liveness_tcp_info *i = &d->info;
	const struct liveness_tcp *t = &d->tcp;

	if (!d->have_tcp || i->retransmits == 0)
		return 0;
	if (t->user_timeout != 0)
		return i->last_ack_recv_ms >= t->user_timeout;
	if (d->retries2 < 0 || d->retries2 > MAX_RETRIES2)
		return 0;
	return (liveness_time)i->last_ack_recv_ms * LIVENESS_MSEC >=
		       liveness__retries_timeout(d->retries2) &&
	       (uint64_t)i->last_data_sent_ms * MS_PER_SEC >= i->rto_us;
}

/*
 * tcp_probe_timer() probes a zero window while data waits unsent and none is
 * in flight (so no retransmission is counted). It gives up when TCP_USER_TIMEOUT
 * has passed since its first probe, which came after the last data sent, or
 * without one when tcp_retries2 probes are out; its first tick comes an RTO
 * after the window closed, itself after the last data sent.
 */
static int zero_window_gave_up(const struct liveness__diag *d)
{
	const struct liveness_tcp_info *i = &d->info;
	const struct liveness_tcp *t = &d->tcp;

	if (!d->have_tcp || d->queued <= 0 || i->retransmits != 0)
		return 0;
	if (t->user_timeout != 0)
		return i->last_data_sent_ms >= t->user_timeout;
	return d->retries2 >= 0 && i->probes >= d->retries2 &&
	       (uint64_t)i->last_data_sent_ms * MS_PER_SEC >= i->rto_us;
}

/* A closed connection that died of a timeout: which one; otherwise the given cause. */
static enum liveness_cause timeout_or(const struct liveness__diag *d, enum liveness_cause otherwise)
{
	if (!d->have_info || d->info.state != STATE_CLOSE)
		return otherwise;
	if (keepalive_gave_up(d))
		return LIVENESS_KEEPALIVE_TIMEOUT;
	if (retransmissions_gave_up(d) || zero_window_gave_up(d))
		return LIVENESS_RETRANSMIT_TIMEOUT;
	return otherwise;
}

/*
 * EPIPE: the socket no longer sends. In any state but CLOSE that is our own
 * shutdown(SHUT_WR) (FIN_WAIT1, FIN_WAIT2, CLOSING, LAST_ACK). In CLOSE the
 * kernel ended the connection and an earlier call consumed its error: a
 * timeout if the rules above say so; a socket that never measured a round
 * trip never connected; otherwise a RST. A connection that both sides closed
 * in order after our shutdown leaves the same state as a RST (tcp_time_wait()
 * and tcp_done() keep no trace of who closed), and is taken for one.
 */
static enum liveness_cause broken_pipe(const struct liveness__diag *d)
{
	if (!d->have_info)
		return LIVENESS_RESET; /* no state to go by: the common cause */
	if (d->info.state != STATE_CLOSE)
		return LIVENESS_LOCAL_ERROR;
	return timeout_or(d, d->info.rtt_us == 0 ? LIVENESS_LOCAL_ERROR : LIVENESS_RESET);
}

/*
 * ETIMEDOUT comes from the keepalive timer, which ends an idle connection,
 * or from the retransmission or zero-window probe timer, which end a busy
 * one; only the first meets the keepalive rule.
 */
static enum liveness_cause from_errno(const struct liveness__diag *d, int err)
{
	switch (err) {
	case ECONNRESET: return LIVENESS_RESET;
	case EPIPE: return broken_pipe(d);
	case ECONNREFUSED: return LIVENESS_REFUSED;
	case EHOSTUNREACH:
	case ENETUNREACH:
	case EHOSTDOWN:
	case ENETDOWN: return LIVENESS_UNREACHABLE;
	case ETIMEDOUT:
		return keepalive_gave_up(d) ? LIVENESS_KEEPALIVE_TIMEOUT
					    : LIVENESS_RETRANSMIT_TIMEOUT;
	default: return LIVENESS_LOCAL_ERROR;
	}
}

/* No error to go by: the connection's state says what the peer did. */
static enum liveness_cause from_state(const struct liveness__diag *d)
{
	if (!d->have_info)
		return LIVENESS_LOCAL_ERROR;
	switch (d->info.state) {
	case STATE_ESTABLISHED:
	case STATE_SYN_SENT:
	case STATE_SYN_RECV:
	case STATE_FIN_WAIT1:
	case STATE_FIN_WAIT2:
	case STATE_LISTEN: return LIVENESS_ALIVE;
	case STATE_CLOSE_WAIT:
	case STATE_LAST_ACK:
	case STATE_CLOSING:
	case STATE_TIME_WAIT: return LIVENESS_CLOSED; /* the peer's FIN arrived */
	default:
		/* CLOSE with no pending error: a consumed timeout, or never connected. */
		return timeout_or(d, LIVENESS_LOCAL_ERROR);
	}
}

enum liveness_cause liveness__diag_classify(const struct liveness__diag *d)
{
	int err;

	if (!d)
		return LIVENESS_LOCAL_ERROR;
	if (d->io_result > 0)
		return LIVENESS_ALIVE;
	/*
	 * End of file: the peer's FIN, or a connection the kernel already ended
	 * whose error an earlier call consumed (a send() that failed with
	 * ETIMEDOUT leaves the next recv() a plain end of file).
	 */
	if (d->io_result == 0)
		return timeout_or(d, LIVENESS_CLOSED);
	err = says_nothing(d->io_errno) ? d->so_error : d->io_errno;
	if (err != 0)
		return from_errno(d, err);
	return from_state(d);
}

LIVENESS_EXPORT enum liveness_cause liveness_diagnose(int fd, ssize_t io_result, int io_errno)
{
	struct liveness__diag d;

	if (liveness__diag_gather(fd, io_result, io_errno, &d) < 0)
		return LIVENESS_LOCAL_ERROR;
	return liveness__diag_classify(&d);
}

/*
 * A heartbeat convicts a peer that proved no life for its timeout; TCP_INFO
 * says whether its kernel was still there. A live kernel acknowledges our
 * pings within a round trip even when its application is hung, and answers
 * keepalive probes (tcp_ack() then zeroes probes_out and stamps rcv_tstamp,
 * TCP_INFO's last_ack_recv). So nothing answers, and the host or the path is
 * gone, when
 *  - data is in flight (our pings) and no ACK came for an RTO, or it was
 *    retransmitted already;
 *  - nothing is queued, a keepalive probe is out and no ACK came for an RTO;
 *  - the peer's window is shut (data queued, none in flight) and two window
 *    probes are out: a live peer answers each, though the probe timer backs
 *    off and last_ack_recv alone grows long (measured: one probe out at
 *    most, for up to a second on loopback).
 * With nothing in flight there is no telling, and the heartbeat's own cause
 * stands.
 */
enum liveness_cause liveness__diag_heartbeat(const struct liveness__diag *d)
{
	enum liveness_cause kernel = liveness__diag_classify(d);
	const struct liveness_tcp_info *i;
	int silent_rto;

	/* The kernel ended it, or the peer's FIN came (or d is NULL): that says more. */
	if (kernel != LIVENESS_ALIVE)
		return kernel;
	/* ALIVE needs TCP_INFO (from_state()), so *i is the kernel's. */
	i = &d->info;
	silent_rto = (uint64_t)i->last_ack_recv_ms * MS_PER_SEC >= i->rto_us;
	if (i->unacked > 0 && (silent_rto || i->retransmits > 0))
		return LIVENESS_VANISHED;
	if (d->queued == 0 && i->probes > 0 && silent_rto)
		return LIVENESS_VANISHED;
	if (d->queued > 0 && i->unacked == 0 && i->probes >= 2)
		return LIVENESS_VANISHED;
	return LIVENESS_HEARTBEAT_TIMEOUT;
}

LIVENESS_EXPORT enum liveness_cause liveness_diagnose_heartbeat(int fd)
{
	struct liveness__diag d;

	if (liveness__diag_gather(fd, -1, 0, &d) < 0)
		return LIVENESS_LOCAL_ERROR;
#ifdef TIOCOUTQ
	/* Bytes written and not acknowledged, sent or not: a shut window keeps them queued. */
	if (d.queued < 0)
		(void)ioctl(fd, TIOCOUTQ, &d.queued);
#endif
	return liveness__diag_heartbeat(&d);
}
