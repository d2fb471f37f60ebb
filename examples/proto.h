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
 * Header-only, so that each example stays one file plus this one.
 */
#ifndef LIVENESS_EXAMPLES_PROTO_H
#define LIVENESS_EXAMPLES_PROTO_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

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
	size_t len;
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
	rx->len += take;
	*p += take;
	*n -= take;
	if (rx->len < PROTO_FRAME)
		return 0;
	memcpy(f, rx->part, PROTO_FRAME);
	rx->len = 0;
	return 1;
}

#endif
