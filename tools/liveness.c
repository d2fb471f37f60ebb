/*
 * liveness(1): plan TCP liveness settings for a budget, examine what this
 * system does today, audit the connections it holds, run an unmodified
 * program under the shim or the kernel's BPF, and attach a budget to the
 * cgroup of a running service.
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
#include "exports.h"
#include "liveness.h"
#include "paths.h"

static const char usage[] =
	"usage: liveness plan [--json | --systemd] [--] BUDGET\n"
	"       liveness plan [--json | --systemd] [--keepalive IDLE:INTERVAL:COUNT]\n"
	"                     [--user-timeout MS]\n"
	"       liveness doctor [--connections N] [--budget BUDGET] [--no-measure] [--json]\n"
	"       liveness run --budget BUDGET [--debug] [--force] [--] PROGRAM [ARG ...]\n"
	"       liveness run [--keepalive IDLE:INTERVAL:COUNT] [--user-timeout MS] [--debug]\n"
	"                    [--force] [--] PROGRAM [ARG ...]\n"
	"       liveness run --bpf --budget BUDGET [--no-enforce] [--deaths] [--debug]\n"
	"                    [--] PROGRAM [ARG ...]\n"
	"       liveness audit [--pid PID | --cgroup PATH | --all] [--json]\n"
	"       liveness attach (--cgroup PATH | --unit NAME) --budget BUDGET [--retrofit]\n"
	"                       [--no-enforce] [--debug]\n"
	"       liveness detach (--cgroup PATH | --unit NAME)\n"
	"       liveness status [--cgroup PATH | --unit NAME] [--json]\n"
	"       liveness --version | -V\n"
	"\n"
	"  plan    socket options, worst cases, heartbeat, sysctl, shim and C for a budget\n"
	"          (also --budget BUDGET), or the worst cases of explicit settings\n"
	"  doctor  what this system does with dead peers today, and what limits it\n"
	"  run     run PROGRAM with every TCP socket under the planned settings, set by\n"
	"          the shim, or with --bpf by the kernel\n"
	"  audit   every TCP connection's settings and worst case; those that would\n"
	"          never notice a vanished idle peer first\n"
	"  attach  give a running service's cgroup a budget, kept by the kernel (BPF)\n"
	"  detach  take it away again\n"
	"  status  the attachments, and how their connections died\n"
	"\n"
	"BUDGET is a duration: 30s, 2m, 1h30m, 2500ms. --json prints one JSON object,\n"
	"--systemd a drop-in for a service. 'liveness COMMAND --help' for more;\n"
	"man liveness for everything.\n";

/*
 * The symbols the shim exports, tools/preload.map's global list: a file
 * that exports exactly these is the shim, and LD_PRELOAD would take any
 * other library in silence.
 */
static const char *const shim_exports[] = {"socket", "connect", "accept", "accept4", "setsockopt"};

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
	/*
	 * The options taken so far, with their values: a command parses its
	 * arguments once, so a name seen again is given twice, and taking the
	 * last in silence would hide a typo in a unit file or a script.
	 */
	static struct {
		const char *name, *value;
	} seen[16];
	static size_t nseen;
	size_t n = strlen(name), k;
	const char *v;

	if (strncmp(argv[*i], name, n) != 0)
		return NULL;
	if (argv[*i][n] == '=') {
		v = argv[*i] + n + 1;
	} else if (argv[*i][n] != '\0') {
		return NULL;
	} else {
		if (*i + 1 >= argc)
			lvt_usage_error("%s: %s needs a value", argv[0], name);
		v = argv[++*i];
	}
	for (k = 0; k < nseen; k++)
		if (strcmp(seen[k].name, name) == 0)
			lvt_usage_error("%s: %s given twice, '%s' and '%s': give it once", argv[0],
					name, seen[k].value, v);
	if (nseen < sizeof(seen) / sizeof(seen[0])) {
		seen[nseen].name = name;
		seen[nseen++].value = v;
	}
	return v;
}

int lvt_output_failed(const char *cmd)
{
	fprintf(stderr, "liveness: %s: the output could not be written whole\n", cmd);
	return 1;
}

static int usable(const char *path)
{
	return path[0] == '/' && access(path, R_OK) == 0;
}

/* The shim found at path, unless it is another file: then one line and exit 2. */
static int checked(const char *what, const char *path, char *buf, size_t len)
{
	char why[200];

	if (lvt_elf_exports_exactly(path, shim_exports,
				    sizeof(shim_exports) / sizeof(shim_exports[0]), why,
				    sizeof(why)) < 0)
		lvt_usage_error("%s%s is not the liveness shim: it %s", what, path, why);
	snprintf(buf, len, "%s", path);
	return 0;
}

int lvt_shim_path(char *buf, size_t len)
{
	const char *env = getenv("LIVENESS_PRELOAD");
	char exe[PATH_MAX];
	ssize_t n;

	if (env && *env) {
		char real[PATH_MAX];
		if (!realpath(env, real) || !usable(real))
			lvt_usage_error("LIVENESS_PRELOAD=%s: %s", env,
					strerror(errno ? errno : ENOENT));
		return checked("LIVENESS_PRELOAD=", real, buf, len);
	}
	/* The build tree keeps the shim next to the command. */
	n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
	if (n > 0) {
		char *slash;
		exe[n] = '\0';
		slash = strrchr(exe, '/');
		if (slash &&
		    (size_t)(slash - exe) + sizeof("/libliveness-preload.so") <= sizeof(exe)) {
			strcpy(slash, "/libliveness-preload.so");
			if (usable(exe))
				return checked("", exe, buf, len);
		}
	}
	snprintf(buf, len, "%s/libliveness-preload.so", LVT_LIBDIR);
	if (!usable(buf))
		return -ENOENT;
	snprintf(exe, sizeof(exe), "%s", buf);
	return checked("", exe, buf, len);
}

/* A report cut short (a full disk) must not pass for a whole one: status 1 then. */
static int reported(const char *cmd, int status)
{
	return fflush(stdout) != 0 || ferror(stdout) ? lvt_output_failed(cmd) : status;
}

int main(int argc, char **argv)
{
	const char *cmd = argc > 1 ? argv[1] : NULL;

	if (!cmd)
		lvt_usage_error("a command is needed: plan, doctor, run, audit, attach, detach or "
				"status (liveness --help)");
	if (strcmp(cmd, "--help") == 0 || strcmp(cmd, "-h") == 0 || strcmp(cmd, "help") == 0) {
		fputs(usage, stdout);
		return 0;
	}
	if (strcmp(cmd, "--version") == 0 || strcmp(cmd, "-V") == 0) {
		printf("liveness %s\n", liveness_version());
		return 0;
	}
	if (strcmp(cmd, "plan") == 0)
		return reported(cmd, lvt_plan_main(argc - 1, argv + 1));
	if (strcmp(cmd, "doctor") == 0)
		return reported(cmd, lvt_doctor_main(argc - 1, argv + 1));
	if (strcmp(cmd, "run") == 0)
		return lvt_run_main(argc - 1, argv + 1);
	if (strcmp(cmd, "audit") == 0)
		return reported(cmd, lvt_audit_main(argc - 1, argv + 1));
	if (strcmp(cmd, "attach") == 0)
		return reported(cmd, lvt_attach_main(argc - 1, argv + 1));
	if (strcmp(cmd, "detach") == 0)
		return reported(cmd, lvt_detach_main(argc - 1, argv + 1));
	if (strcmp(cmd, "status") == 0)
		return reported(cmd, lvt_status_main(argc - 1, argv + 1));
	lvt_usage_error("unknown command '%s': use plan, doctor, run, audit, attach, detach or "
			"status (liveness --help)",
			cmd);
}
