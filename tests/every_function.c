/*
 * Every function of liveness.h called once, in the subset of C99, C11 and
 * C++11 they share: tests/docs.sh compiles this file in each with -Wall
 * -Wextra -pedantic -Werror, links it with the library and runs it, and
 * fails when a function declared in the header is not called here. It
 * checks that the header is usable from each language, not the results
 * (the suites do that); it exits non-zero only if a call misbehaves badly.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <liveness.h>

struct conn {
	int fd;
	struct liveness_hb hb;
};

int main(void)
{
	struct liveness_tcp t;
	struct liveness_tcp_info info;
	struct liveness_policy p;
	struct conn c;
	struct liveness_group *g = NULL;
	struct liveness_hb *member = NULL;
	enum liveness_event ev = LIVENESS_NONE;
	liveness_time now = liveness_now(), at = 0;
	uint32_t seq = 0;
	int fd = socket(AF_INET, SOCK_STREAM, 0), bad = 0;

	memset(&c, 0, sizeof(c));
	bad |= liveness_version() == NULL;
	bad |= liveness_poll_timeout(LIVENESS_NEVER, now) != -1;
	bad |= liveness_strerror(-EINVAL) == NULL;
	bad |= liveness_tcp_plan(&t, 30 * LIVENESS_SEC) != 0;
	bad |= liveness_tcp_bound(&t, LIVENESS_IDLE) == 0;
	bad |= liveness_tcp_system(&t) != 0;
	bad |= liveness_tcp_get(fd, &t) != 0;
	bad |= liveness_tcp_set(fd, &t) != 0;
	bad |= liveness_tcp_info(fd, &info) != 0;
	bad |= liveness_diagnose(fd, -1, 0) != LIVENESS_LOCAL_ERROR; /* never connected */
	bad |= liveness_diagnose_heartbeat(-1) != LIVENESS_LOCAL_ERROR;
	bad |= liveness_cause_name(LIVENESS_VANISHED) == NULL;
	bad |= liveness_abort(fd) != 0;
	bad |= liveness_policy_init(&p, LIVENESS_SEC, 3 * LIVENESS_SEC) != 0;
	bad |= liveness_hb_init(&c.hb, &p, now) != 0;
	liveness_hb_rx(&c.hb, now);
	liveness_hb_pong(&c.hb, 0, now);
	bad |= liveness_hb_peer_ping(&c.hb, now) != 1;
	bad |= liveness_hb_deadline(&c.hb) == 0;
	bad |= liveness_hb_step(&c.hb, now, &seq) != LIVENESS_NONE;
	bad |= liveness_hb_rtt(&c.hb) != 0;
	bad |= liveness_hb_last_proof(&c.hb, &at) != 0 || at != now;
	bad |= liveness_group_new(&g, 100 * LIVENESS_MSEC, now) != 0;
	bad |= liveness_group_add(g, &c.hb) != 0;
	bad |= liveness_group_deadline(g) == 0;
	bad |= liveness_group_step(g, now, &member, &ev, &seq) != 0;
	bad |= liveness_container_of(&c.hb, struct conn, hb) != &c;
	liveness_group_remove(g, &c.hb);
	liveness_group_free(g);
	if (bad)
		fprintf(stderr, "every_function: a call did not do what it should\n");
	return bad;
}
