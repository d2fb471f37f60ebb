/*
 * args.h - the command line of the examples: the options most of them
 * share, a usage message that also says how the program was built, and
 * peers' addresses written the way the command line takes them.
 *
 * The build line is there for the tests: they run the examples as separate
 * programs, and a test run built with AddressSanitizer checks that every
 * example it runs was built with it too, so that a sanitized run never
 * exercises unsanitized code without saying so.
 *
 * Header-only, so that each example stays one file plus these headers.
 */
#ifndef LIVENESS_EXAMPLES_ARGS_H
#define LIVENESS_EXAMPLES_ARGS_H

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

/* gcc says so with a macro, clang with __has_feature. */
#if defined(__SANITIZE_ADDRESS__)
#define ARGS_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define ARGS_ASAN 1
#endif
#endif
#ifndef ARGS_ASAN
#define ARGS_ASAN 0
#endif

/*
 * Print "usage: SYNOPSIS" and how this program was built, then exit: with
 * status 0 on stdout when the user asked (-h), with status 2 on stderr after
 * a mistake.
 */
_Noreturn static inline void args_usage(const char *synopsis, int asked)
{
	FILE *f = asked ? stdout : stderr;

	fprintf(f, "usage: %s\nbuilt with AddressSanitizer: %s\n", synopsis,
		ARGS_ASAN ? "yes" : "no");
	exit(asked ? 0 : 2);
}

/* "host:port" of an IPv4 address, as the examples name peers in their output. */
static inline void args_name(char *buf, size_t len, const struct sockaddr_in *a)
{
	char host[INET_ADDRSTRLEN];

	inet_ntop(AF_INET, &a->sin_addr, host, sizeof(host));
	snprintf(buf, len, "%s:%u", host, ntohs(a->sin_port));
}

/* The shared options, in milliseconds where they are times. */
struct args {
	int listen;			/* -l: listen on host:port rather than connect to it */
	unsigned long conns;		/* -n: connections to make */
	unsigned long interval;		/* -i: ping after this much silence */
	unsigned long timeout;		/* -t: the peer is dead after this much silence */
	unsigned long budget;		/* -b: liveness_tcp_plan()'s detection budget */
	struct sockaddr_in addr;	/* host port, the last two arguments */
	char name[INET_ADDRSTRLEN + 8]; /* "host:port", for the log */
};

/*
 * Read the options named in `options` (getopt's syntax: some of "ln:i:t:b:",
 * and h for help), then host and port, into *a, which holds the defaults.
 * Prints the usage and exits on -h or a mistake.
 */
static inline void args_parse(struct args *a, int argc, char **argv, const char *options,
			      const char *synopsis)
{
	int opt;

	while ((opt = getopt(argc, argv, options)) != -1) {
		switch (opt) {
		case 'l': a->listen = 1; break;
		case 'n': a->conns = strtoul(optarg, NULL, 10); break;
		case 'i': a->interval = strtoul(optarg, NULL, 10); break;
		case 't': a->timeout = strtoul(optarg, NULL, 10); break;
		case 'b': a->budget = strtoul(optarg, NULL, 10); break;
		default: args_usage(synopsis, opt == 'h');
		}
	}
	a->addr.sin_family = AF_INET;
	if (optind + 2 != argc || inet_pton(AF_INET, argv[optind], &a->addr.sin_addr) != 1)
		args_usage(synopsis, 0);
	a->addr.sin_port = htons((uint16_t)strtoul(argv[optind + 1], NULL, 10));
	args_name(a->name, sizeof(a->name), &a->addr);
}

#endif
