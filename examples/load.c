/*
 * load - many client connections from one process, for loading the epoll
 * server: connects n sockets from one or more source addresses, answers
 * every PING with a PONG, and otherwise stays quiet.
 *
 * What it shows: non-blocking connect in bounded batches (a listener's
 * backlog is finite; a SYN it drops costs a one-second retransmission),
 * IP_BIND_ADDRESS_NO_PORT so that each source address gets the whole
 * ephemeral port range per destination, and liveness_diagnose() on a failed
 * connect or a lost connection.
 *
 * -b takes a list of source addresses, commas between them, each one address
 * or a range first-last; the connections take them in turn. Keep each address
 * under about 10000 connections to one destination: Linux tries the even
 * half of the port range first, and connecting slows down many times over
 * once that half is used up.
 *
 * Run:   build/examples/load [-b source_addrs] [-n conns] [-c in_flight] host port
 * e.g.   build/examples/load -b 127.0.0.2 -n 4000 127.0.0.1 7300
 *        build/examples/load -b 127.1.0.1-127.1.0.4 -n 32000 127.0.0.1 7300
 *
 * Prints "connected n=N" once all N are established and "pinged n=N" once
 * every one of them has received a PING (heartbeats run on all of them),
 * and "lost cause=..." for connections that die. SIGUSR1 freezes it (it
 * stops reading: an application hang while the kernel still ACKs); a second
 * SIGUSR1 thaws it. The tests freeze it harder, with SIGSTOP.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#include "args.h"
#include "liveness.h"
#include "proto.h"

#define LOAD_USAGE "load [-b source_addrs] [-n conns] [-c in_flight] host port"
#define MAX_SOURCES 4096

struct client {
	int fd;	    /* -1 once lost */
	int state;  /* 0 not started, 1 connecting, 2 established */
	int pinged; /* received at least one PING */
	struct proto_rx rx;
};

static volatile sig_atomic_t frozen;

static void on_usr1(int sig)
{
	(void)sig;
	frozen = !frozen;
}

static void die(const char *what, int err)
{
	/* A library result is a negated errno, a failed libc call leaves a positive one. */
	fprintf(stderr, "load: %s: %s\n", what, err < 0 ? liveness_strerror(err) : strerror(err));
	exit(1);
}

/*
 * "a,b-c,...": append each address to src[], in order; returns the new count,
 * or -1 on a bad address, a range that runs backwards, or more than
 * MAX_SOURCES in all.
 */
static int parse_sources(char *list, struct sockaddr_in *src, int n)
{
	for (char *save = NULL, *item = strtok_r(list, ",", &save); item != NULL;
	     item = strtok_r(NULL, ",", &save)) {
		char *dash = strchr(item, '-');
		struct in_addr first, last;

		if (dash != NULL)
			*dash = '\0';
		if (inet_pton(AF_INET, item, &first) != 1 ||
		    inet_pton(AF_INET, dash != NULL ? dash + 1 : item, &last) != 1 ||
		    ntohl(last.s_addr) < ntohl(first.s_addr) ||
		    ntohl(last.s_addr) - ntohl(first.s_addr) >= (uint32_t)(MAX_SOURCES - n))
			return -1;
		for (uint32_t a = ntohl(first.s_addr); a <= ntohl(last.s_addr); a++) {
			src[n].sin_family = AF_INET;
			src[n++].sin_addr.s_addr = htonl(a);
		}
	}
	return n;
}

static int start_connect(const struct sockaddr_in *src, const struct sockaddr_in *dst)
{
	int one = 1, fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);

	if (fd < 0)
		die("socket", errno);
	if (src->sin_addr.s_addr != htonl(INADDR_ANY)) {
		/* Choose the port at connect time, by the whole 4-tuple. */
		setsockopt(fd, IPPROTO_IP, IP_BIND_ADDRESS_NO_PORT, &one, sizeof(one));
		if (bind(fd, (const struct sockaddr *)src, sizeof(*src)) != 0)
			die("bind", errno);
	}
	if (connect(fd, (const struct sockaddr *)dst, sizeof(*dst)) != 0 && errno != EINPROGRESS)
		die("connect", errno);
	return fd;
}

int main(int argc, char **argv)
{
	static struct sockaddr_in src[MAX_SOURCES];
	struct sockaddr_in dst = {.sin_family = AF_INET};
	int nsrc = 0;
	unsigned long n = 1000, in_flight_max = 256;
	unsigned long started = 0, in_flight = 0, established = 0, pinged = 0;
	struct client *cl;
	struct rlimit rl;
	sigset_t empty, usr1;
	int ep, opt;

	while ((opt = getopt(argc, argv, "b:n:c:h")) != -1) {
		switch (opt) {
		case 'b':
			if ((nsrc = parse_sources(optarg, src, nsrc)) < 0)
				die("bad source address or range", EINVAL);
			break;
		case 'n': n = strtoul(optarg, NULL, 10); break;
		case 'c': in_flight_max = strtoul(optarg, NULL, 10); break;
		default: args_usage(LOAD_USAGE, opt == 'h');
		}
	}
	if (optind + 2 != argc || inet_pton(AF_INET, argv[optind], &dst.sin_addr) != 1 || n == 0 ||
	    in_flight_max == 0)
		args_usage(LOAD_USAGE, 0);
	dst.sin_port = htons((uint16_t)strtoul(argv[optind + 1], NULL, 10));
	if (nsrc == 0) { /* no -b: any address, the kernel's choice */
		src[0].sin_family = AF_INET;
		src[0].sin_addr.s_addr = htonl(INADDR_ANY);
		nsrc = 1;
	}
	signal(SIGPIPE, SIG_IGN);
	/* SIGUSR1 is blocked except while we wait, so a freeze never races the loop. */
	sigemptyset(&empty);
	sigemptyset(&usr1);
	sigaddset(&usr1, SIGUSR1);
	sigprocmask(SIG_BLOCK, &usr1, NULL);
	signal(SIGUSR1, on_usr1);
	if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
		rl.rlim_cur = rl.rlim_max;
		setrlimit(RLIMIT_NOFILE, &rl);
	}
	cl = calloc(n, sizeof(*cl));
	ep = epoll_create1(EPOLL_CLOEXEC);
	if (cl == NULL || ep < 0)
		die("setup", cl == NULL ? ENOMEM : errno);

	for (;;) {
		struct epoll_event evs[256];
		int k;

		/* Keep at most in_flight_max handshakes outstanding. */
		while (started < n && in_flight < in_flight_max) {
			struct epoll_event ev = {.events = EPOLLOUT, .data.u32 = (uint32_t)started};
			cl[started].fd = start_connect(&src[started % (unsigned long)nsrc], &dst);
			cl[started].state = 1;
			if (epoll_ctl(ep, EPOLL_CTL_ADD, cl[started].fd, &ev) != 0)
				die("epoll_ctl", errno);
			started++;
			in_flight++;
		}
		while (frozen)
			sigsuspend(&empty);
		k = epoll_pwait(ep, evs, 256, -1, &empty);
		if (k < 0 && errno != EINTR)
			die("epoll_wait", errno);
		for (int i = 0; i < k; i++) {
			struct client *c = &cl[evs[i].data.u32];
			unsigned char buf[2048], f[PROTO_FRAME], pong[PROTO_FRAME];
			const unsigned char *p = buf;
			ssize_t r;
			size_t len;
			int err = 0;
			socklen_t elen = sizeof(err);

			if (c->fd < 0)
				continue;
			if (c->state == 1) {
				struct epoll_event ev = {.events = EPOLLIN,
							 .data.u32 = evs[i].data.u32};
				getsockopt(c->fd, SOL_SOCKET, SO_ERROR, &err, &elen);
				in_flight--;
				if (err != 0) {
					printf("connect failed: %s (%s)\n", strerror(err),
					       liveness_cause_name(
						       liveness_diagnose(c->fd, -1, err)));
					fflush(stdout);
					exit(1);
				}
				c->state = 2;
				epoll_ctl(ep, EPOLL_CTL_MOD, c->fd, &ev);
				if (++established == n) {
					printf("connected n=%lu\n", n);
					fflush(stdout);
				}
				continue;
			}
			r = recv(c->fd, buf, sizeof(buf), 0);
			if (r <= 0) {
				if (r < 0 && (errno == EAGAIN || errno == EINTR))
					continue;
				printf("lost cause=%s\n", liveness_cause_name(liveness_diagnose(
								  c->fd, r, r < 0 ? errno : 0)));
				close(c->fd);
				c->fd = -1;
				continue;
			}
			len = (size_t)r;
			while (proto_next(&c->rx, &p, &len, f)) {
				if (f[0] != PROTO_PING)
					continue;
				proto_put(pong, PROTO_PONG, proto_seq(f));
				/* 5 bytes into an almost empty send buffer: taken whole. A
				 * failed send consumed the error: diagnose it now. */
				if (send(c->fd, pong, sizeof(pong), MSG_NOSIGNAL) < 0 &&
				    errno != EAGAIN) {
					printf("lost cause=%s\n",
					       liveness_cause_name(
						       liveness_diagnose(c->fd, -1, errno)));
					close(c->fd);
					c->fd = -1;
					break;
				}
				if (!c->pinged) {
					c->pinged = 1;
					if (++pinged == n) {
						printf("pinged n=%lu\n", n);
						fflush(stdout);
					}
				}
			}
		}
		fflush(stdout);
	}
}
