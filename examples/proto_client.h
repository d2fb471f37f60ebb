/*
 * proto_client.h - client.h speaking proto.h: the protocol hooks that
 * select.c and poll.c share. The server's PINGs are answered through the
 * flood guard and its PONGs matched, by proto_input().
 */
#ifndef LIVENESS_EXAMPLES_PROTO_CLIENT_H
#define LIVENESS_EXAMPLES_PROTO_CLIENT_H

#include "client.h"
#include "proto.h"

struct proto_client {
	struct client c;
	struct proto_rx rx;
};

/* A new connection: no partial frame. */
static void client_start(struct client *c)
{
	liveness_container_of(c, struct proto_client, c)->rx.len = 0;
}

/* A proto_send_fn on the client's blocking socket. */
static enum liveness_cause client_send(struct liveness_hb *hb, int type, uint32_t seq)
{
	struct client *c = liveness_container_of(hb, struct client, hb);
	unsigned char f[PROTO_FRAME];

	proto_put(f, type, seq);
	/* 5 bytes into a send buffer the server drains: all or nothing. */
	if (send(c->fd, f, sizeof(f), MSG_NOSIGNAL) < 0 && errno != EAGAIN)
		return liveness_diagnose(c->fd, -1, errno);
	return LIVENESS_ALIVE;
}

static enum liveness_cause client_ping(struct client *c, uint32_t seq)
{
	return client_send(&c->hb, PROTO_PING, seq);
}

static enum liveness_cause client_input(struct client *c, const unsigned char *p, size_t n,
					liveness_time now)
{
	struct proto_client *pc = liveness_container_of(c, struct proto_client, c);

	return proto_input(&c->hb, &pc->rx, c->name, p, n, now, client_send);
}

#endif
