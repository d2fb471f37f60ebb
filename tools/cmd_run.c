/*
 * liveness run: exec a program with the shim preloaded and its settings in
 * the environment. The settings are checked here with the shim's own
 * parser, so a mistake is a usage error now and not a silent no-op later.
 * With --bpf the kernel applies them instead (tools/bpf_run.c), in builds
 * that have the BPF part.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "bpf_run.h"
#include "cli.h"
#include "reach.h"
#include "settings.h"

static const char run_usage[] =
	"usage: liveness run --budget BUDGET [--debug] [--force] [--] PROGRAM [ARG ...]\n"
	"       liveness run [--keepalive IDLE:INTERVAL:COUNT] [--user-timeout MS] [--debug]\n"
	"                    [--force] [--] PROGRAM [ARG ...]\n"
	"       liveness run --bpf --budget BUDGET [--no-enforce] [--deaths] [--debug]\n"
	"                    [--] PROGRAM [ARG ...]\n"
	"\n"
	"Run PROGRAM with libliveness-preload.so, which holds every TCP socket it creates,\n"
	"connects or accepts to the settings of 'liveness plan BUDGET', or to the explicit\n"
	"ones: keepalive probes after IDLE s, every INTERVAL s, COUNT of them, and\n"
	"TCP_USER_TIMEOUT MS milliseconds. Whenever the program sets these options itself, a\n"
	"setting at least as strict as the plan's stays and a looser one is raised to it.\n"
	"--debug sets LIVENESS_DEBUG=1: the shim reports its plan, the first setting of the\n"
	"program it changed, and its first failure, on stderr. The shim is $LIVENESS_PRELOAD,\n"
	"the one next to this command, or the installed one.\n"
	"\n"
	"The shim cannot reach a statically linked program, nor one that runs set-user-ID,\n"
	"set-group-ID or with file capabilities beyond yours: run refuses those (exit 126)\n"
	"unless --force runs them anyway, unprotected, with a warning.\n"
	"\n"
	"--bpf reaches every program: PROGRAM runs in a new child of your cgroup, where a\n"
	"BPF program gives each TCP connection it makes or accepts the plan of BUDGET\n"
	"(SO_LINGER excepted), and which is removed when PROGRAM exits. A setting of the\n"
	"program's own stays when at least as strict and is raised to the plan when looser\n"
	"(--no-enforce: left alone). --deaths prints on exit how its connections died.\n"
	"It needs Linux 5.14, CAP_BPF, CAP_NET_ADMIN and CAP_SYS_ADMIN, and a build of\n"
	"liveness with the BPF part.\n";

/* Refuse, or with --force warn about, a program the shim cannot reach. */
static void look_before_leap(const char *prog, int force)
{
	char path[4096], why[300];
	enum lvt_reach r = lvt_reach(prog, path, sizeof(path), why, sizeof(why));

	if (r == LVT_REACHED || r == LVT_NOT_FOUND)
		return;
	if (force) {
		fprintf(stderr,
			"liveness: run: warning: %s %s: LD_PRELOAD cannot reach it; running it "
			"unprotected (--force)\n",
			path, why);
		return;
	}
	fprintf(stderr,
		"liveness: run: %s %s: the shim (LD_PRELOAD) cannot reach it, so its connections "
		"would keep the kernel's defaults. Set the options in the program itself (liveness "
		"plan prints them), or run it unprotected with --force.\n",
		path, why);
	exit(126);
}

int lvt_run_main(int argc, char **argv)
{
	const char *budget = NULL, *keepalive = NULL, *user_timeout = NULL, *v;
	struct lvt_settings s;
	char why[300], shim[4096], *preload;
	const char *old;
	int i, debug = 0, force = 0, bpf = 0, no_enforce = 0, deaths = 0;
	size_t n;

	for (i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--") == 0) {
			i++;
			break;
		}
		if (argv[i][0] != '-')
			break;
		if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
			fputs(run_usage, stdout);
			return 0;
		}
		if (strcmp(argv[i], "--debug") == 0)
			debug = 1;
		else if (strcmp(argv[i], "--bpf") == 0)
			bpf = 1;
		else if (strcmp(argv[i], "--no-enforce") == 0)
			no_enforce = 1;
		else if (strcmp(argv[i], "--deaths") == 0)
			deaths = 1;
		else if (strcmp(argv[i], "--force") == 0)
			force = 1;
		else if ((v = lvt_option(argc, argv, &i, "--budget")))
			budget = v;
		else if ((v = lvt_option(argc, argv, &i, "--keepalive")))
			keepalive = v;
		else if ((v = lvt_option(argc, argv, &i, "--user-timeout")))
			user_timeout = v;
		else
			lvt_usage_error("run: unknown option '%s' (liveness run --help)", argv[i]);
	}
	if (bpf) {
#ifdef LIVENESS_HAVE_BPF
		if (keepalive || user_timeout || force)
			lvt_usage_error("run: --bpf takes --budget alone: the kernel applies its "
					"plan to every program, so there is nothing to force");
		if (!budget)
			lvt_usage_error("run: --bpf needs --budget");
#else
		lvt_usage_error("run: --bpf: this build of liveness has no BPF part (it needs "
				"libbpf, clang and bpftool when it is built)");
#endif
	} else if (no_enforce || deaths) {
		lvt_usage_error("run: %s is an option of --bpf: the shim always holds a program's "
				"own settings to the plan, and counts nothing",
				no_enforce ? "--no-enforce" : "--deaths");
	}
	if (budget && (keepalive || user_timeout))
		lvt_usage_error("run: --budget plans keepalive and user timeout itself; "
				"give it alone, or --keepalive and --user-timeout");
	if (!budget && !keepalive && !user_timeout)
		lvt_usage_error("run: give --budget, or --keepalive and/or --user-timeout");
	if (i >= argc)
		lvt_usage_error(
			"run: a program to run is needed: liveness run --budget 30s -- PROGRAM");
	if (budget && !*budget)
		lvt_usage_error("run: --budget: empty duration");
	if (keepalive && !*keepalive)
		lvt_usage_error("run: --keepalive: empty value; want IDLE:INTERVAL:COUNT");
	if (user_timeout && !*user_timeout)
		lvt_usage_error("run: --user-timeout: empty value; want milliseconds");
	/* The shim's own parsers, so what passes here is what the shim applies. */
	if (budget && lvt_budget(budget, &s.budget, &s.plan, why, sizeof(why)) < 0)
		lvt_usage_error("run: --budget: %s", why);
	if (keepalive &&
	    lvt_parse_keepalive(keepalive, &s.idle, &s.interval, &s.count, why, sizeof(why)) < 0)
		lvt_usage_error("run: --keepalive: %s", why);
	if (user_timeout &&
	    lvt_parse_user_timeout(user_timeout, &s.user_timeout, why, sizeof(why)) < 0)
		lvt_usage_error("run: --user-timeout: %s", why);
#ifdef LIVENESS_HAVE_BPF
	if (bpf) {
		struct lvt_bpf_request req = {.plan = s.plan,
					      .budget = s.budget,
					      .enforce = !no_enforce,
					      .deaths = deaths,
					      .debug = debug};

		return lvt_run_bpf(&req, argv + i);
	}
#endif
	if (lvt_shim_path(shim, sizeof(shim)) < 0)
		lvt_usage_error("run: %s not found: build it (make) or install it, or set "
				"LIVENESS_PRELOAD",
				shim);
	look_before_leap(argv[i], force);

	/* Exactly the settings asked for: none inherited from our own environment. */
	unsetenv("LIVENESS_BUDGET");
	unsetenv("LIVENESS_KEEPALIVE");
	unsetenv("LIVENESS_USER_TIMEOUT");
	if ((budget && setenv("LIVENESS_BUDGET", budget, 1) != 0) ||
	    (keepalive && setenv("LIVENESS_KEEPALIVE", keepalive, 1) != 0) ||
	    (user_timeout && setenv("LIVENESS_USER_TIMEOUT", user_timeout, 1) != 0) ||
	    (debug && setenv("LIVENESS_DEBUG", "1", 1) != 0)) {
		perror("liveness: run: setenv");
		return 126;
	}
	/* Keep whatever the caller preloads, after the shim. */
	old = getenv("LD_PRELOAD");
	n = strlen(shim) + (old ? strlen(old) : 0) + 2;
	if (!(preload = malloc(n))) {
		perror("liveness: run");
		return 126;
	}
	snprintf(preload, n, "%s%s%s", shim, old && *old ? ":" : "", old && *old ? old : "");
	if (setenv("LD_PRELOAD", preload, 1) != 0) {
		perror("liveness: run: setenv");
		free(preload);
		return 126;
	}
	free(preload);
	execvp(argv[i], argv + i);
	fprintf(stderr, "liveness: run: %s: %s\n", argv[i], strerror(errno));
	return errno == ENOENT ? 127 : 126;
}
