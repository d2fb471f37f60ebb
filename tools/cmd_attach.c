/*
 * liveness attach, detach and status: a detection budget for the cgroup
 * of a running service, kept by the kernel after the command exits
 * (tools/bpf_run.c), and what became of its connections. Without the BPF
 * part of the build each says so in one line.
 */
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bpf_run.h"
#include "cgroup.h"
#include "cli.h"
#include "settings.h"

static const char attach_usage[] =
	"usage: liveness attach (--cgroup PATH | --unit NAME.service) --budget BUDGET\n"
	"                       [--retrofit] [--no-enforce] [--debug]\n"
	"       liveness detach (--cgroup PATH | --unit NAME.service)\n"
	"       liveness status [--cgroup PATH | --unit NAME.service] [--json]\n"
	"\n"
	"attach gives every TCP connection that the processes of a cgroup (a service's:\n"
	"--unit) and its children make or accept from now on the settings planned for\n"
	"BUDGET, by a BPF program the kernel runs; it stays attached after the command\n"
	"exits, pinned under the bpf file system, until detach. --retrofit gives them to\n"
	"the connections that exist already too. A program's own setting stays when it\n"
	"is at least as strict, a looser one is raised to the plan (--no-enforce: left\n"
	"alone). attach on an attached cgroup changes its settings at once.\n"
	"status lists the attachments, their settings, and how their connections died.\n";

#ifdef LIVENESS_HAVE_BPF
/* The cgroup a command names with --cgroup or --unit, as a directory. */
static void target(const char *cmd, const char *cgroup, const char *unit, char *dir, size_t len)
{
	if (cgroup && unit)
		lvt_usage_error("%s: give --cgroup or --unit, not both", cmd);
	if (cgroup)
		lvt_resolve_cgroup(cmd, cgroup, dir, len);
	else if (unit)
		lvt_resolve_unit(cmd, unit, dir, len);
	else
		dir[0] = '\0';
}
#else
__attribute__((noreturn)) static void no_bpf(const char *cmd)
{
	lvt_usage_error("%s: this build of liveness has no BPF part (it needs libbpf, clang and "
			"bpftool when it is built)",
			cmd);
}
#endif

/* Options shared by the three commands; each refuses those it does not take. */
struct args {
	const char *cgroup, *unit, *budget;
	int retrofit, no_enforce, debug, json;
};

static void parse(const char *cmd, int argc, char **argv, struct args *a)
{
	const char *v;

	memset(a, 0, sizeof(*a));
	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
			fputs(attach_usage, stdout);
			exit(0);
		}
		if ((v = lvt_option(argc, argv, &i, "--cgroup")))
			a->cgroup = v;
		else if ((v = lvt_option(argc, argv, &i, "--unit")))
			a->unit = v;
		else if (strcmp(cmd, "attach") == 0 && (v = lvt_option(argc, argv, &i, "--budget")))
			a->budget = v;
		else if (strcmp(cmd, "attach") == 0 && strcmp(argv[i], "--retrofit") == 0)
			a->retrofit = 1;
		else if (strcmp(cmd, "attach") == 0 && strcmp(argv[i], "--no-enforce") == 0)
			a->no_enforce = 1;
		else if (strcmp(cmd, "attach") == 0 && strcmp(argv[i], "--debug") == 0)
			a->debug = 1;
		else if (strcmp(cmd, "status") == 0 && strcmp(argv[i], "--json") == 0)
			a->json = 1;
		else
			lvt_usage_error("%s: unknown argument '%s' (liveness %s --help)", cmd,
					argv[i], cmd);
	}
}

int lvt_attach_main(int argc, char **argv)
{
	struct lvt_bpf_request req = {0};
	char why[300];
	struct args a;

	parse("attach", argc, argv, &a);
	if (!a.cgroup && !a.unit)
		lvt_usage_error("attach: give the cgroup: --cgroup PATH or --unit NAME.service");
	if (!a.budget)
		lvt_usage_error("attach: --budget is needed: liveness attach --cgroup PATH "
				"--budget 30s");
	if (lvt_budget(a.budget, &req.budget, &req.plan, why, sizeof(why)) < 0)
		lvt_usage_error("attach: --budget: %s", why);
#ifdef LIVENESS_HAVE_BPF
	{
		char dir[PATH_MAX];

		target("attach", a.cgroup, a.unit, dir, sizeof(dir));
		req.enforce = !a.no_enforce;
		req.retrofit = a.retrofit;
		req.debug = a.debug;
		return lvt_bpf_attach(dir, &req);
	}
#else
	no_bpf("attach");
#endif
}

int lvt_detach_main(int argc, char **argv)
{
	struct args a;

	parse("detach", argc, argv, &a);
	if (!a.cgroup && !a.unit)
		lvt_usage_error("detach: give the cgroup: --cgroup PATH or --unit NAME.service");
#ifdef LIVENESS_HAVE_BPF
	{
		char dir[PATH_MAX];

		target("detach", a.cgroup, a.unit, dir, sizeof(dir));
		return lvt_bpf_detach(dir);
	}
#else
	no_bpf("detach");
#endif
}

int lvt_status_main(int argc, char **argv)
{
	struct args a;

	parse("status", argc, argv, &a);
#ifdef LIVENESS_HAVE_BPF
	{
		char dir[PATH_MAX];

		target("status", a.cgroup, a.unit, dir, sizeof(dir));
		return lvt_bpf_status(dir[0] ? dir : NULL, a.json);
	}
#else
	no_bpf("status");
#endif
}
