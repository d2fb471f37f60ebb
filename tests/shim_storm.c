/*
 * libshim-storm.so: many threads make TCP sockets at the same moment, for
 * the shim suite (tests/check_shim.c), which runs shim-storm under the shim.
 *
 * The first storm runs in this library's constructor. The dynamic linker
 * runs the constructors of a program's own libraries before those of the
 * preloaded ones, so this storm makes the first calls into the shim, from
 * every thread at once, before the shim's constructor has run: its lazy
 * initialisation is raced for. shim-storm's main() runs a second storm,
 * after every constructor.
 *
 * Each thread creates a TCP socket, connects it to a listener and accepts
 * one connection from it. The listener is made with raw system calls, so
 * that nothing reaches the shim before the storm. Every socket's settings
 * are read back with getsockopt() and printed on stdout, one line per
 * distinct set:
 *   PHASE connected|accepted KEEPALIVE IDLE INTERVAL COUNT USER_TIMEOUT: N sockets
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "shim_storm.h"

#define THREADS 48

struct setting {
	int v[5]; /* SO_KEEPALIVE, TCP_KEEPIDLE, TCP_KEEPINTVL, TCP_KEEPCNT, TCP_USER_TIMEOUT */
};

struct worker {
	pthread_t thread;
	pthread_barrier_t *start;
	struct sockaddr_in to;
	int listener;
	int fd[2]; /* connected, accepted */
	struct setting got[2];
	const char *failed; /* the call that failed, or NULL */
	int err;
};

static int read_back(int fd, struct setting *s)
{
	static const int level[5] = {SOL_SOCKET, IPPROTO_TCP, IPPROTO_TCP, IPPROTO_TCP,
				     IPPROTO_TCP};
	static const int name[5] = {SO_KEEPALIVE, TCP_KEEPIDLE, TCP_KEEPINTVL, TCP_KEEPCNT,
				    TCP_USER_TIMEOUT};
	int i;

	for (i = 0; i < 5; i++) {
		socklen_t len = sizeof(s->v[i]);
		if (getsockopt(fd, level[i], name[i], &s->v[i], &len) != 0)
			return -1;
	}
	return 0;
}

static void *storm_thread(void *arg)
{
	struct worker *w = arg;

	/* Every thread leaves the barrier together, so the first socket() calls coincide. */
	pthread_barrier_wait(w->start);
	if ((w->fd[0] = socket(AF_INET, SOCK_STREAM, 0)) < 0)
		w->failed = "socket";
	else if (connect(w->fd[0], (struct sockaddr *)&w->to, sizeof(w->to)) != 0)
		w->failed = "connect";
	else if ((w->fd[1] = accept(w->listener, NULL, NULL)) < 0)
		w->failed = "accept";
	else if (read_back(w->fd[0], &w->got[0]) != 0 || read_back(w->fd[1], &w->got[1]) != 0)
		w->failed = "getsockopt";
	w->err = errno;
	return NULL;
}

/* The raw system calls: the shim must not see the listener being made. */
static int raw_listener(struct sockaddr_in *to)
{
	socklen_t len = sizeof(*to);
	int l = (int)syscall(SYS_socket, AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);

	memset(to, 0, sizeof(*to));
	to->sin_family = AF_INET;
	to->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (l < 0 || bind(l, (struct sockaddr *)to, sizeof(*to)) != 0 ||
	    listen(l, THREADS * 2) != 0 || getsockname(l, (struct sockaddr *)to, &len) != 0)
		return -1;
	return l;
}

static void print_settings(const char *phase, const char *kind, struct worker *w, int which)
{
	int done[THREADS] = {0}, i, j;

	for (i = 0; i < THREADS; i++) {
		int n = 0;
		if (done[i])
			continue;
		for (j = i; j < THREADS; j++)
			if (!done[j] && memcmp(&w[i].got[which], &w[j].got[which],
					       sizeof(struct setting)) == 0) {
				done[j] = 1;
				n++;
			}
		printf("%s %s %d %d %d %d %d: %d sockets\n", phase, kind, w[i].got[which].v[0],
		       w[i].got[which].v[1], w[i].got[which].v[2], w[i].got[which].v[3],
		       w[i].got[which].v[4], n);
	}
}

int storm_run(const char *phase)
{
	static struct worker w[THREADS];
	pthread_barrier_t start;
	struct sockaddr_in to;
	int l = raw_listener(&to), i, r = 0;

	if (l < 0) {
		fprintf(stderr, "storm %s: listener: %s\n", phase, strerror(errno));
		return -1;
	}
	memset(w, 0, sizeof(w));
	pthread_barrier_init(&start, NULL, THREADS);
	for (i = 0; i < THREADS; i++) {
		w[i].start = &start;
		w[i].to = to;
		w[i].listener = l;
		w[i].fd[0] = w[i].fd[1] = -1;
		if ((errno = pthread_create(&w[i].thread, NULL, storm_thread, &w[i])) != 0) {
			/* The barrier waits for all THREADS: without one, none starts. */
			fprintf(stderr, "storm %s: pthread_create: %s\n", phase, strerror(errno));
			exit(1);
		}
	}
	for (i = 0; i < THREADS; i++)
		pthread_join(w[i].thread, NULL);
	pthread_barrier_destroy(&start);
	for (i = 0; i < THREADS; i++) {
		if (w[i].failed) {
			fprintf(stderr, "storm %s: thread %d: %s: %s\n", phase, i, w[i].failed,
				strerror(w[i].err));
			r = -1;
		}
		if (w[i].fd[0] >= 0)
			close(w[i].fd[0]);
		if (w[i].fd[1] >= 0)
			close(w[i].fd[1]);
	}
	close(l);
	if (r == 0) {
		print_settings(phase, "connected", w, 0);
		print_settings(phase, "accepted", w, 1);
	}
	fflush(stdout);
	return r;
}

__attribute__((constructor)) static void storm_early(void)
{
	if (storm_run("early") != 0)
		exit(1);
}
