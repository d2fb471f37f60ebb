/*
 * epoll - a server that knows when each of its many clients is gone, and why.
 *
 * What it shows:
 *  - liveness_tcp_plan() applied once to the listening socket: every
 *    accepted connection inherits keepalive and TCP_USER_TIMEOUT, so the
 *    kernel itself reports a vanished host within the plan's budget;
 *  - one liveness_group for all connections, driven by the epoll_wait
 *    timeout (liveness_group_deadline + liveness_poll_timeout): one wheel,
 *    no timer per connection, nothing but a store per packet;
 *  - the framed PING/PONG protocol of proto.h: we ping a silent client,
 *    its PONG (or any byte) is proof of life, and its own PINGs are
 *    answered through the flood guard (liveness_hb_peer_ping);
 *  - one log line per disconnect: peer, cause, time from the peer's last
 *    proof of life to our verdict; dead peers are closed with
 *    liveness_abort(), so no orphan socket keeps retransmitting;
 *  - a reap list: a dropped connection becomes a tombstone that the rest
 *    of the epoll_wait() batch skips, and is freed when the batch is done,
 *    because an event later in the batch may still point at it;
 *  - the spare-descriptor trick, so that EMFILE sheds one client instead of
 *    spinning on a listening socket that stays readable;
 *  - with -w N, a multi-core server: N worker processes, each with its own
 *    listening socket on the same port (SO_REUSEPORT: the kernel spreads
 *    new connections over them by their addresses), its own epoll set and
 *    its own group, sharing nothing; the parent only supervises them. A
 *    process also holds at most RLIMIT_NOFILE connections, so workers are
 *    how one port serves more;
 *  - with -i 0, no heartbeats at all: the kernel alone watches, with the
 *    keepalive and TCP_USER_TIMEOUT that -b plans (no pings, no group; a
 *    hung peer application goes unnoticed, as keepalive cannot see it).
 *    bench/loadtest.py runs both ways to compare what each costs.
 *
 * Run:   build/examples/epoll [-a addr] [-p port] [-i interval_ms] [-t timeout_ms]
 *                             [-r resolution_ms] [-b budget_ms] [-w workers] [-s]
 * e.g.   build/examples/epoll -p 7300 -s     (then: build/examples/poll 127.0.0.1 7300)
 *        build/examples/epoll -p 7300 -i 0 -b 90000   (no heartbeats: keepalive, 90 s)
 *
 * Output, one line each, flushed per loop iteration (per line with -w):
 *   listening addr=127.0.0.1 port=7300 ...         (one per worker with -w: worker= pid=)
 *   disconnect peer=127.0.0.2:40001 cause=heartbeat-timeout silent_ms=4012 at_ns=...
 *     (silent_ms=0 with -i 0: without heartbeats nothing records a proof of life)
 *   stats conns=19000 accepted=19000 pings=... pongs=...   (every second with -s; worker=)
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "args.h"
#include "liveness.h"
#include "proto.h"
#include "verdict.h"

/*
 * One client. What every read touches (the descriptor and the partial
 * frame) shares a 64-byte cache line with the 48-byte heartbeat, and the
 * object starts on a line: the read brings that line in anyway, so
 * liveness_hb_rx() and the group's visits cost no cache miss of their own.
 * An hb that straddled into a second line would add that miss to every
 * packet (bench/bench.c measures both layouts). The second line holds what
 * only answering a ping or logging a verdict touches.
 */
struct conn {
	_Alignas(64) struct liveness_hb hb; /* found again with liveness_container_of */
	int fd;
	struct proto_rx rx;
	unsigned char out[4 * PROTO_FRAME]; /* frames the socket did not take yet */
	size_t out_len;
	struct conn *next_dead; /* on the server's reap list once dropped */
	char peer[INET_ADDRSTRLEN + 8];
};
_Static_assert(offsetof(struct conn, rx) + sizeof(struct proto_rx) <= 64,
	       "the read path's fields share the hb's cache line");

struct server {
	int ep, listener, spare;
	struct conn *dead; /* dropped this iteration, freed at its end */
	struct liveness_group *group;
	struct liveness_policy policy;
	unsigned long conns, accepted, pings, pongs;
};

static void die(const char *what, int err)
{
	/* A library result is a negated errno, a failed libc call leaves a positive one. */
	fprintf(stderr, "epoll: %s: %s\n", what, err < 0 ? liveness_strerror(err) : strerror(err));
	exit(1);
}

/*
 * Queue a frame and push what the socket takes. A peer whose receive
 * buffer is full of our tiny frames is not reading: we drop the frame
 * rather than buffer without limit, and let its heartbeat judge it.
 * Returns -1 with errno when the connection has failed: the caller must
 * diagnose it right away, because send() has consumed the socket's pending
 * error (a later read would only see end-of-file).
 */
static int send_frame(struct conn *c, int type, uint32_t seq)
{
	ssize_t w;

	if (c->out_len + PROTO_FRAME <= sizeof(c->out)) {
		proto_put(c->out + c->out_len, type, seq);
		c->out_len += PROTO_FRAME;
	}
	w = send(c->fd, c->out, c->out_len, MSG_NOSIGNAL | MSG_DONTWAIT);
	if (w > 0) {
		memmove(c->out, c->out + w, c->out_len - (size_t)w);
		c->out_len -= (size_t)w;
	}
	return w < 0 && errno != EAGAIN && errno != EINTR ? -1 : 0;
}

/*
 * The one way out: log the verdict, leave the group, RST the socket, and
 * put the connection on the reap list. It is not freed here: writing to one
 * connection (a ping from the group, say) can fail another that is still
 * further on in this epoll_wait() batch, whose event points at it; freeing
 * it now would make that event a use-after-free. A dropped connection is a
 * tombstone (fd -1) that the rest of the batch skips, freed when the batch
 * is done.
 */
static void drop(struct server *s, struct conn *c, enum liveness_cause cause, liveness_time now)
{
	int r;

	if (c->fd < 0)
		return; /* dropped already in this batch */
	verdict_log("disconnect", c->peer, &c->hb, cause, now);
	if (s->group != NULL)
		liveness_group_remove(s->group, &c->hb);
	/* An abortive close: a plain close() on a vanished peer leaves an orphan
	 * retransmitting for minutes. close() removes the fd from the epoll set. */
	r = liveness_abort(c->fd);
	if (r != 0) {
		fprintf(stderr, "epoll: liveness_abort: %s\n", liveness_strerror(r));
		close(c->fd);
	}
	c->fd = -1;
	c->next_dead = s->dead;
	s->dead = c;
	s->conns--;
}

/* End of the batch: no event refers to a dropped connection any more. */
static void reap(struct server *s)
{
	while (s->dead != NULL) {
		struct conn *c = s->dead;

		s->dead = c->next_dead;
		free(c);
	}
}

/* Read what is there; handle every whole frame. */
static void on_readable(struct server *s, struct conn *c, liveness_time now)
{
	unsigned char buf[4096], f[PROTO_FRAME];
	const unsigned char *p = buf;
	ssize_t r;
	size_t n;

	if (c->fd < 0)
		return; /* dropped earlier in this batch: a tombstone */
	r = recv(c->fd, buf, sizeof(buf), 0);
	if (r <= 0) {
		if (r < 0 && (errno == EAGAIN || errno == EINTR))
			return;
		/* FIN, RST, ETIMEDOUT from TCP_USER_TIMEOUT or keepalive, ICMP... */
		drop(s, c, liveness_diagnose(c->fd, r, r < 0 ? errno : 0), now);
		return;
	}
	if (s->group != NULL)
		liveness_hb_rx(&c->hb, now); /* a store, nothing more */
	n = (size_t)r;
	while (proto_next(&c->rx, &p, &n, f)) {
		if (f[0] == PROTO_PONG) {
			if (s->group != NULL)
				liveness_hb_pong(&c->hb, proto_seq(f), now);
			s->pongs++;
		} else if (f[0] == PROTO_PING) {
			/* Without heartbeats (-i 0) there is no flood guard: answer. */
			int ok = s->group != NULL ? liveness_hb_peer_ping(&c->hb, now) : 1;
			if (ok < 0) {
				drop(s, c, LIVENESS_FLOOD, now);
				return;
			}
			/* ok == 0: too soon after the last one; a strike, no answer */
			if (ok == 1 && send_frame(c, PROTO_PONG, proto_seq(f)) != 0) {
				drop(s, c, liveness_diagnose(c->fd, -1, errno), now);
				return;
			}
		} else {
			fprintf(stderr, "epoll: %s: bad frame type %#x\n", c->peer, f[0]);
			drop(s, c, LIVENESS_LOCAL_ERROR, now);
			return;
		}
	}
}

static void on_accept(struct server *s, liveness_time now)
{
	for (;;) {
		struct sockaddr_in a;
		socklen_t len = sizeof(a);
		struct epoll_event ev = {.events = EPOLLIN | EPOLLRDHUP};
		struct conn *c;
		int fd = accept4(s->listener, (struct sockaddr *)&a, &len,
				 SOCK_NONBLOCK | SOCK_CLOEXEC);
		int r;

		if (fd < 0) {
			if (errno == EMFILE || errno == ENFILE) {
				/* Out of descriptors: free the spare, refuse one client with
				 * a RST, take the spare back. Otherwise the listener stays
				 * readable and the loop spins. */
				close(s->spare);
				fd = accept(s->listener, NULL, NULL);
				if (fd >= 0)
					liveness_abort(fd);
				s->spare = open("/dev/null", O_RDONLY | O_CLOEXEC);
				continue;
			}
			if (errno != EAGAIN && errno != EINTR && errno != ECONNABORTED)
				fprintf(stderr, "epoll: accept: %s\n", strerror(errno));
			return;
		}
		/* Aligned to a cache line, and zeroed, as liveness_hb_init() wants it. */
		c = aligned_alloc(_Alignof(struct conn), sizeof(*c));
		if (c != NULL)
			memset(c, 0, sizeof(*c));
		r = 0;
		if (c == NULL ||
		    (s->group != NULL && ((r = liveness_hb_init(&c->hb, &s->policy, now)) != 0 ||
					  (r = liveness_group_add(s->group, &c->hb)) != 0))) {
			fprintf(stderr, "epoll: new connection: %s\n",
				liveness_strerror(c == NULL ? -ENOMEM : r));
			free(c);
			liveness_abort(fd);
			continue;
		}
		c->fd = fd;
		args_name(c->peer, sizeof(c->peer), &a);
		ev.data.ptr = c;
		if (epoll_ctl(s->ep, EPOLL_CTL_ADD, fd, &ev) != 0)
			die("epoll_ctl", errno);
		s->conns++;
		s->accepted++;
	}
}

/* Everything the heartbeat wants done now: pings to send, verdicts to carry out. */
static void step_group(struct server *s, liveness_time now)
{
	struct liveness_hb *hb;
	enum liveness_event ev;
	uint32_t seq;

	if (s->group == NULL)
		return; /* -i 0: no heartbeats */
	while (liveness_group_step(s->group, now, &hb, &ev, &seq) > 0) {
		struct conn *c = liveness_container_of(hb, struct conn, hb);
		if (ev == LIVENESS_PING) {
			s->pings++;
			/* ETIMEDOUT here is TCP_USER_TIMEOUT: the kernel gave up first. */
			if (send_frame(c, PROTO_PING, seq) != 0)
				drop(s, c, liveness_diagnose(c->fd, -1, errno), now);
		} else {
			/* Hung (its kernel still ACKs our pings) or vanished (nothing does)? */
			drop(s, c, liveness_diagnose_heartbeat(c->fd), now);
		}
	}
}

static int listen_on(const char *addr, uint16_t port, const struct liveness_tcp *plan,
		     int reuseport)
{
	struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons(port)};
	int one = 1, r, fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);

	if (fd < 0)
		die("socket", errno);
	if (inet_pton(AF_INET, addr, &a.sin_addr) != 1)
		die("bad address", EINVAL);
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	/* Each worker binds its own socket to the port; the kernel balances between them. */
	if (reuseport && setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &one, sizeof(one)) != 0)
		die("SO_REUSEPORT", errno);
	if (bind(fd, (struct sockaddr *)&a, sizeof(a)) != 0)
		die("bind", errno);
	/* Accepted sockets inherit these: one call covers every connection. */
	if ((r = liveness_tcp_set(fd, plan)) != 0)
		die("liveness_tcp_set", r);
	if (listen(fd, SOMAXCONN) != 0)
		die("listen", errno);
	return fd;
}

/* The options, shared by every worker. */
struct options {
	const char *addr;
	unsigned long port, interval, timeout, res, budget, workers;
	int stats;
};

/* One server: a listener, an epoll set and a group; worker is -1 without -w. */
static void serve(const struct options *o, int worker)
{
	struct server s = {0};
	struct liveness_tcp plan;
	struct epoll_event ev = {.events = EPOLLIN};
	struct rlimit rl = {0, 0};
	liveness_time now, next_stats;
	char tag[48] = "";
	int r;

	/* Every connection is a descriptor: take all the process may have. */
	if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
		rl.rlim_cur = rl.rlim_max;
		setrlimit(RLIMIT_NOFILE, &rl);
	}
	if (worker >= 0)
		snprintf(tag, sizeof(tag), " worker=%d pid=%ld", worker, (long)getpid());
	if ((r = liveness_tcp_plan(&plan, o->budget * LIVENESS_MSEC)) != 0)
		die("liveness_tcp_plan", r);
	now = liveness_now();
	/* -i 0: no policy and no group; the socket options alone watch. */
	if (o->interval != 0 && (r = liveness_policy_init(&s.policy, o->interval * LIVENESS_MSEC,
							  o->timeout * LIVENESS_MSEC)) != 0)
		die("liveness_policy_init", r);
	if (o->interval != 0 &&
	    (r = liveness_group_new(&s.group, o->res * LIVENESS_MSEC, now)) != 0)
		die("liveness_group_new", r);

	s.listener = listen_on(o->addr, (uint16_t)o->port, &plan, worker >= 0);
	s.spare = open("/dev/null", O_RDONLY | O_CLOEXEC);
	s.ep = epoll_create1(EPOLL_CLOEXEC);
	if (s.ep < 0)
		die("epoll_create1", errno);
	ev.data.ptr = NULL; /* NULL marks the listener */
	if (epoll_ctl(s.ep, EPOLL_CTL_ADD, s.listener, &ev) != 0)
		die("epoll_ctl", errno);
	printf("listening addr=%s port=%lu interval_ms=%lu timeout_ms=%lu resolution_ms=%lu "
	       "keepalive=%d/%d/%d user_timeout_ms=%u idle_bound_ms=%llu busy_bound_ms=%llu "
	       "max_fds=%llu%s\n",
	       o->addr, o->port, o->interval, o->timeout, o->res, plan.idle, plan.interval,
	       plan.count, plan.user_timeout,
	       (unsigned long long)(liveness_tcp_bound(&plan, LIVENESS_IDLE) / LIVENESS_MSEC),
	       (unsigned long long)(liveness_tcp_bound(&plan, LIVENESS_BUSY) / LIVENESS_MSEC),
	       (unsigned long long)rl.rlim_cur, tag);
	fflush(stdout);

	next_stats = o->stats ? now + LIVENESS_SEC : LIVENESS_NEVER;
	for (;;) {
		struct epoll_event evs[256];
		liveness_time deadline =
			s.group != NULL ? liveness_group_deadline(s.group) : LIVENESS_NEVER;
		int n;

		if (next_stats < deadline)
			deadline = next_stats;
		n = epoll_wait(s.ep, evs, 256, liveness_poll_timeout(deadline, liveness_now()));
		if (n < 0 && errno != EINTR)
			die("epoll_wait", errno);
		now = liveness_now();
		for (int i = 0; i < n; i++) {
			if (evs[i].data.ptr == NULL)
				on_accept(&s, now);
			else
				on_readable(&s, evs[i].data.ptr, now);
		}
		step_group(&s, now);
		reap(&s);
		if (now >= next_stats) {
			printf("stats conns=%lu accepted=%lu pings=%lu pongs=%lu%s\n", s.conns,
			       s.accepted, s.pings, s.pongs, tag);
			next_stats = now + LIVENESS_SEC;
		}
		fflush(stdout);
	}
}

static volatile sig_atomic_t stopping;

static void on_stop(int sig)
{
	(void)sig;
	stopping = 1;
}

/*
 * Start the workers and watch them: SIGTERM or SIGINT stops them all and
 * exits 0; a worker that ends on its own takes the others down and exits 1,
 * since its share of the port would otherwise go unserved in silence.
 * Each worker dies with the parent (PR_SET_PDEATHSIG), so none outlives it.
 */
static int supervise(const struct options *o)
{
	struct sigaction sa = {.sa_handler = on_stop};
	pid_t parent = getpid(), pids[256];
	unsigned long n = o->workers, left;
	int failed = 0, st;

	sigemptyset(&sa.sa_mask);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	fflush(stdout);
	for (unsigned long k = 0; k < n; k++) {
		pids[k] = fork();
		if (pids[k] < 0)
			die("fork", errno);
		if (pids[k] == 0) {
			signal(SIGTERM, SIG_DFL);
			signal(SIGINT, SIG_DFL);
			if (prctl(PR_SET_PDEATHSIG, SIGKILL) != 0 || getppid() != parent)
				_exit(1);
			/* Workers share stdout: whole lines, so theirs never interleave. */
			setvbuf(stdout, NULL, _IOLBF, 0);
			serve(o, (int)k);
		}
	}
	for (left = n; left > 0;) {
		pid_t pid = wait(&st);

		if (pid < 0) {
			if (errno != EINTR)
				die("wait", errno);
			if (stopping)
				for (unsigned long k = 0; k < n; k++)
					if (pids[k] > 0)
						kill(pids[k], SIGTERM);
			continue;
		}
		for (unsigned long k = 0; k < n; k++) {
			if (pids[k] != pid)
				continue;
			pids[k] = 0;
			left--;
			if (!stopping && !failed) {
				fprintf(stderr,
					"epoll: worker %lu (pid %ld) ended: %s %d; stopping\n", k,
					(long)pid, WIFSIGNALED(st) ? "signal" : "status",
					WIFSIGNALED(st) ? WTERMSIG(st) : WEXITSTATUS(st));
				failed = 1;
				for (unsigned long j = 0; j < n; j++)
					if (pids[j] > 0)
						kill(pids[j], SIGTERM);
			}
		}
	}
	return failed;
}

int main(int argc, char **argv)
{
	struct options o = {"127.0.0.1", 7300, 1000, 4000, 100, 2500, 1, 0};
	int opt;

	while ((opt = getopt(argc, argv, "a:p:i:t:r:b:w:sh")) != -1) {
		switch (opt) {
		case 'a': o.addr = optarg; break;
		case 'p': o.port = strtoul(optarg, NULL, 10); break;
		case 'i': o.interval = strtoul(optarg, NULL, 10); break;
		case 't': o.timeout = strtoul(optarg, NULL, 10); break;
		case 'r': o.res = strtoul(optarg, NULL, 10); break;
		case 'b': o.budget = strtoul(optarg, NULL, 10); break;
		case 'w': o.workers = strtoul(optarg, NULL, 10); break;
		case 's': o.stats = 1; break;
		default:
			args_usage("epoll [-a addr] [-p port] [-i interval_ms] [-t timeout_ms] "
				   "[-r resolution_ms] [-b budget_ms] [-w workers] [-s]",
				   opt == 'h');
		}
	}
	if (o.workers < 1 || o.workers > 256)
		die("-w: workers must be 1 to 256", EINVAL);
	signal(SIGPIPE, SIG_IGN);
	if (o.workers == 1)
		serve(&o, -1);
	return supervise(&o);
}
