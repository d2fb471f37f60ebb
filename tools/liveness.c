/*
 * liveness(1): plan TCP liveness settings for a budget, examine what this
 * system does today, and run an unmodified program under the shim.
 * Exit status: 0 success, 1 doctor found something to change, 2 bad input;
 * run exits with the program's status (126 or 127 when it cannot start).
 */
#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "paths.h"

static const char usage[] =
	"usage: liveness plan BUDGET\n"
	"       liveness doctor [--connections N] [--budget BUDGET]\n"
	"       liveness run (--budget BUDGET | [--keepalive IDLE:INTERVAL:COUNT]\n"
	"                    [--user-timeout MS]) [--debug] [--] PROGRAM [ARG ...]\n"
	"\n"
	"  plan    socket options, worst cases, heartbeat, sysctl, shim and C for a budget\n"
	"  doctor  what this system does with dead peers today, and what limits it\n"
	"  run     run PROGRAM with every TCP socket under the planned settings\n"
	"\n"
	"BUDGET is a duration: 30s, 2m, 1h30m, 2500ms. 'liveness COMMAND --help' for more;\n"
	"man liveness for everything.\n";

void lvt_usage_error(const char *fmt, ...)
{
	va_list ap;

	fputs("liveness: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	exit(2);
}

const char *lvt_option(int argc, char **argv, int *i, const char *name)
{
	size_t n = strlen(name);

	if (strncmp(argv[*i], name, n) != 0)
		return NULL;
	if (argv[*i][n] == '=')
		return argv[*i] + n + 1;
	if (argv[*i][n] != '\0')
		return NULL;
	if (*i + 1 >= argc)
		lvt_usage_error("%s needs a value", name);
	return argv[++*i];
}

static int usable(const char *path)
{
	return path[0] == '/' && access(path, R_OK) == 0;
}

int lvt_shim_path(char *buf, size_t len)
{
	const char *env = getenv("LIVENESS_PRELOAD");
	char exe[PATH_MAX];
	ssize_t n;

	if (env && *env) {
		char real[PATH_MAX];
		if (!realpath(env, real) || !usable(real))
			lvt_usage_error("LIVENESS_PRELOAD=%s: %s", env, strerror(errno ? errno : ENOENT));
		snprintf(buf, len, "%s", real);
		return 0;
	}
	/* The build tree keeps the shim next to the command. */
	n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
	if (n > 0) {
		char *slash;
		exe[n] = '\0';
		slash = strrchr(exe, '/');
		if (slash && (size_t)(slash - exe) + sizeof("/libliveness-preload.so") <= sizeof(exe)) {
			strcpy(slash, "/libliveness-preload.so");
			if (usable(exe)) {
				snprintf(buf, len, "%s", exe);
				return 0;
			}
		}
	}
	snprintf(buf, len, "%s/libliveness-preload.so", LVT_LIBDIR);
	return usable(buf) ? 0 : -ENOENT;
}

int main(int argc, char **argv)
{
	const char *cmd = argc > 1 ? argv[1] : NULL;

	if (!cmd)
		lvt_usage_error("a command is needed: plan, doctor or run (liveness --help)");
	if (strcmp(cmd, "--help") == 0 || strcmp(cmd, "-h") == 0 || strcmp(cmd, "help") == 0) {
		fputs(usage, stdout);
		return 0;
	}
	if (strcmp(cmd, "plan") == 0)
		return lvt_plan_main(argc - 1, argv + 1);
	if (strcmp(cmd, "doctor") == 0)
		return lvt_doctor_main(argc - 1, argv + 1);
	if (strcmp(cmd, "run") == 0)
		return lvt_run_main(argc - 1, argv + 1);
	lvt_usage_error("unknown command '%s': use plan, doctor or run (liveness --help)", cmd);
}
