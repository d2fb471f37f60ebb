/*
 * shim: what libliveness-preload.so costs a program that makes no sockets,
 * and one that makes many. In one run, side by side:
 *   - /bin/true started N times plainly and N times under the shim
 *     (LD_PRELOAD and LIVENESS_BUDGET set), interleaved, median wall time;
 *   - in-process, socket() + close() of a TCP socket N times, plainly and
 *     through the shim (which plans, sets and reads back the options).
 * The second part runs this program under the shim itself: it re-executes
 * itself with LD_PRELOAD set and compares.
 *
 * Usage: shim [build-dir]   (else $LIVENESS_BUILD, else "build"; the shim is
 * <dir>/libliveness-preload.so)
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <netinet/in.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "liveness.h"

#define RUNS 400
#define SOCKETS 20000

extern char **environ;

static int cmp(const void *a, const void *b)
{
	liveness_time x = *(const liveness_time *)a, y = *(const liveness_time *)b;

	return x < y ? -1 : x > y;
}

static liveness_time spawn_once(char *const argv[], char *const env[])
{
	liveness_time t0 = liveness_now();
	pid_t pid;
	int status;

	if (posix_spawn(&pid, argv[0], NULL, NULL, argv, env) != 0) {
		perror("posix_spawn");
		exit(1);
	}
	waitpid(pid, &status, 0);
	return liveness_now() - t0;
}

/* ns per socket() + close() of a TCP socket in this process. */
static double sockets(void)
{
	liveness_time t0 = liveness_now();

	for (int i = 0; i < SOCKETS; i++) {
		int fd = socket(AF_INET, SOCK_STREAM, 0);
		if (fd < 0) {
			perror("socket");
			exit(1);
		}
		close(fd);
	}
	return (double)(liveness_now() - t0) / SOCKETS;
}

int main(int argc, char **argv)
{
	const char *dir = argc > 1		     ? argv[1]
			  : getenv("LIVENESS_BUILD") ? getenv("LIVENESS_BUILD")
						     : "build";
	char shim[4096], preload[4200], self[4096];
	char *env_shim[] = {preload, "LIVENESS_BUDGET=30s", NULL};
	char *env_plain[] = {NULL};
	char *true_argv[] = {"/bin/true", NULL};
	static liveness_time plain[RUNS], shimmed[RUNS];
	double with, without;
	ssize_t n;

	if (getenv("LIVENESS_BENCH_SOCKETS")) { /* the child: print and exit */
		printf("%.1f\n", sockets());
		return 0;
	}
	if (!realpath(dir, shim) || strlen(shim) + 32 > sizeof(shim)) {
		fprintf(stderr, "shim: no build directory %s\n", dir);
		return 1;
	}
	strcat(shim, "/libliveness-preload.so");
	if (access(shim, R_OK) != 0) {
		fprintf(stderr, "shim: %s missing (make first)\n", shim);
		return 1;
	}
	snprintf(preload, sizeof(preload), "LD_PRELOAD=%s", shim);
	for (int i = 0; i < RUNS; i++) { /* interleaved: drift hits both alike */
		plain[i] = spawn_once(true_argv, env_plain);
		shimmed[i] = spawn_once(true_argv, env_shim);
	}
	qsort(plain, RUNS, sizeof(plain[0]), cmp);
	qsort(shimmed, RUNS, sizeof(shimmed[0]), cmp);
	printf("shim cost, %d runs each (median wall time)\n", RUNS);
	printf("  /bin/true plainly            %8.1f us\n", plain[RUNS / 2] / 1e3);
	printf("  /bin/true under the shim     %8.1f us   (+%.1f us, x%.2f: loading one more "
	       "library)\n",
	       shimmed[RUNS / 2] / 1e3, ((double)shimmed[RUNS / 2] - (double)plain[RUNS / 2]) / 1e3,
	       (double)shimmed[RUNS / 2] / (double)plain[RUNS / 2]);

	n = readlink("/proc/self/exe", self, sizeof(self) - 1);
	if (n < 0)
		return 1;
	self[n] = 0;
	{
		char *child_argv[] = {self, NULL};
		char *env_a[] = {"LIVENESS_BENCH_SOCKETS=1", NULL};
		char *env_b[] = {"LIVENESS_BENCH_SOCKETS=1", preload, "LIVENESS_BUDGET=30s", NULL};
		char out[64];
		FILE *p;
		int fds[2];
		posix_spawn_file_actions_t fa;
		pid_t pid;

		for (int k = 0; k < 2; k++) {
			if (pipe(fds) != 0)
				return 1;
			posix_spawn_file_actions_init(&fa);
			posix_spawn_file_actions_adddup2(&fa, fds[1], 1);
			posix_spawn_file_actions_addclose(&fa, fds[0]);
			if (posix_spawn(&pid, self, &fa, NULL, child_argv, k ? env_b : env_a) != 0)
				return 1;
			close(fds[1]);
			p = fdopen(fds[0], "r");
			if (!p || !fgets(out, sizeof(out), p))
				return 1;
			fclose(p);
			waitpid(pid, NULL, 0);
			*(k ? &with : &without) = atof(out);
		}
	}
	printf("  socket()+close() plainly     %8.1f ns\n", without);
	printf("  socket()+close() under shim  %8.1f ns   (+%.1f ns: plan applied, set, read "
	       "back)\n",
	       with, with - without);
	return 0;
}
