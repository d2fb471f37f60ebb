/*
 * proto.h - the tiny framed protocol the examples speak.
 *
 * Every frame is 5 bytes: a type byte and a 32-bit sequence number in
 * network byte order.
 *
 *   'P' seq   PING: "are you there?"; the receiver answers PONG with the same
 *             seq, unless its flood guard (liveness_hb_peer_ping) says no.
 *   'O' seq   PONG: the answer to our PING seq; liveness_hb_pong() matches it.
 *
 * Any byte that arrives is proof of life (liveness_hb_rx()); a PONG also
 * gives a round-trip sample. A real protocol would add data frames with a
 * length; the heartbeat needs nothing more than these two. Any other type
 * byte is a protocol error and ends the connection.
 *
 * proto_input() is what every program that speaks it does with the frames
 * it receives, and proto_step_group() what it does when its group's timer
 * fires; only the way a frame is sent and a connection closed differs from
 * loop to loop.
 *
 * Header-only, so that each example stays one file plus its headers.
 */
#ifndef LIVENESS_EXAMPLES_PROTO_H
#define LIVENESS_EXAMPLES_PROTO_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "liveness.h"

#define PROTO_FRAME 5
#define PROTO_PING 'P'
#define PROTO_PONG 'O'

/* Encode one frame into f. */
static inline void proto_put(unsigned char f[PROTO_FRAME], int type, uint32_t seq)
{
	f[0] = (unsigned char)type;
	f[1] = (unsigned char)(seq >> 24);
	f[2] = (unsigned char)(seq >> 16);
	f[3] = (unsigned char)(seq >> 8);
	f[4] = (unsigned char)seq;
}

static inline uint32_t proto_seq(const unsigned char f[PROTO_FRAME])
{
	return (uint32_t)f[1] << 24 | (uint32_t)f[2] << 16 | (uint32_t)f[3] << 8 | f[4];
}

/* Reassembles frames from a byte stream that TCP may split anywhere. */
struct proto_rx {
	unsigned char part[PROTO_FRAME];
	unsigned char len; /* a byte: all of it is 6 bytes, small enough to share the hb's line */
};

/*
 * Take the next whole frame from *p (n bytes left, both advanced) into f.
 * Returns 1 with a frame, 0 when the bytes are used up (a partial frame is
 * kept in rx for the next call).
 */
static inline int proto_next(struct proto_rx *rx, const unsigned char **p, size_t *n,
			     unsigned char f[PROTO_FRAME])
{
	size_t take = PROTO_FRAME - rx->len;

	if (take > *n)
		take = *n;
	memcpy(rx->part + rx->len, *p, take);
	rx->len = (unsigned char)(rx->len + take);
	*p += take;
	*n -= take;
	if (rx->len < PROTO_FRAME)
		return 0;
	memcpy(f, rx->part, PROTO_FRAME);
	rx->len = 0;
	return 1;
}

/*
 * Send one frame on the connection whose heartbeat is hb (the program finds
 * its own object with liveness_container_of()), whole or not at all.
 * Returns LIVENESS_ALIVE, or why the connection failed: a failed send has
 * consumed the socket's pending error, so it must be diagnosed at once
 * (liveness_diagnose() with the send's errno).
 */
typedef enum liveness_cause proto_send_fn(struct liveness_hb *hb, int type, uint32_t seq);

/* End the connection whose heartbeat is hb for cause: log it, leave the group, close. */
typedef void proto_drop_fn(struct liveness_hb *hb, enum liveness_cause cause, liveness_time now);

/* The socket of the connection whose heartbeat is hb. */
typedef int proto_fd_fn(struct liveness_hb *hb);

/*
 * The frames in p[0..n), which arrived at now from the peer called name, on
 * the connection whose heartbeat is hb (the caller has already passed the
 * bytes to liveness_hb_rx()) and whose partial frame is kept in rx. A PONG
 * is matched to our ping; a PING is answered with a PONG through answer,
 * unless the flood guard says it came too soon. Logs one line for each:
 * "pong peer=NAME rtt_us=..." or "answered peer=NAME seq=...". Returns
 * LIVENESS_ALIVE, or why the connection must end: LIVENESS_FLOOD,
 * LIVENESS_LOCAL_ERROR (a frame of another protocol), or what answer said.
 */
static inline enum liveness_cause proto_input(struct liveness_hb *hb, struct proto_rx *rx,
					      const char *name, const unsigned char *p, size_t n,
					      liveness_time now, proto_send_fn *answer)
{
	enum liveness_cause why = LIVENESS_ALIVE;
	unsigned char f[PROTO_FRAME];
	int ok;

	while (why == LIVENESS_ALIVE && proto_next(rx, &p, &n, f)) {
		if (f[0] == PROTO_PONG) {
			liveness_hb_pong(hb, proto_seq(f), now);
			printf("pong peer=%s rtt_us=%llu\n", name,
			       (unsigned long long)(liveness_hb_rtt(hb) / LIVENESS_USEC));
		} else if (f[0] != PROTO_PING) {
			why = LIVENESS_LOCAL_ERROR;
		} else if ((ok = liveness_hb_peer_ping(hb, now)) < 0) {
			why = LIVENESS_FLOOD; /* a peer may not make us answer at any rate */
		} else if (ok == 1 &&
			   (why = answer(hb, PROTO_PONG, proto_seq(f))) == LIVENESS_ALIVE) {
			printf("answered peer=%s seq=%lu\n", name, (unsigned long)proto_seq(f));
		}
	}
	return why;
}

/*
 * Everything group g wants done at now: a PING to each member whose turn
 * it is, through ping, and each verdict, diagnosed on the socket fd_of
 * gives, through drop. A member whose ping
 * cannot be sent is dropped with the cause of that failure.
 */
static inline void proto_step_group(struct liveness_group *g, liveness_time now,
				    proto_send_fn *ping, proto_fd_fn *fd_of, proto_drop_fn *drop)
{
	struct liveness_hb *hb;
	enum liveness_event ev;
	uint32_t seq;

	while (liveness_group_step(g, now, &hb, &ev, &seq) > 0) {
		/* A verdict: hung (its kernel still ACKs) or vanished (nothing does)? */
		enum liveness_cause why = ev == LIVENESS_DEAD
						  ? liveness_diagnose_heartbeat(fd_of(hb))
						  : ping(hb, PROTO_PING, seq);
		if (why != LIVENESS_ALIVE)
			drop(hb, why, now);
	}
}

#endif
