/*
 * The BPF part of the liveness command (tools/bpf_run.c): run --bpf, a
 * program and everything it starts in a transient cgroup; attach, detach
 * and status, pinned attachments to the cgroups of running services. A
 * sock_ops program gives every TCP connection of the cgroup the planned
 * settings, a cgroup/setsockopt program raises a program's own looser
 * ones, and the deaths of the connections are counted by cause. Built only
 * with libbpf, clang and bpftool (LIVENESS_HAVE_BPF).
 */
#ifndef LIVENESS_TOOLS_BPF_RUN_H
#define LIVENESS_TOOLS_BPF_RUN_H

#include "liveness.h"

/* What run --bpf and attach were asked for. */
struct lvt_bpf_request {
	struct liveness_tcp plan;
	liveness_time budget;
	int enforce;  /* raise a program's own looser settings (not --no-enforce) */
	int deaths;   /* run: print the death counts on exit (--deaths) */
	int retrofit; /* attach: existing connections too (--retrofit) */
	int debug;    /* let libbpf's messages through */
};

/*
 * Run argv (argv[0] looked up in PATH) with the plan enforced by the
 * kernel, and return what the command exits with: the program's status,
 * 128 + signal if a signal ended it, 127 if there is no such program, 126
 * if nothing could be set up (one line on stderr says why; nothing is left
 * attached and no cgroup is left behind).
 */
int lvt_run_bpf(const struct lvt_bpf_request *req, char **argv);

/*
 * Attach to cgroup directory cgdir, pinned, or change the settings of the
 * attachment it has. 0, or 1 with one line on stderr and nothing attached
 * (nor changed, for an attachment that was there).
 */
int lvt_bpf_attach(const char *cgdir, const struct lvt_bpf_request *req);

/* Remove cgdir's attachment: 0, or 1 with one line on stderr. */
int lvt_bpf_detach(const char *cgdir);

/* Print every attachment, or cgdir's only (NULL: all); json: one JSON object. 0 or 1. */
int lvt_bpf_status(const char *cgdir, int json);

#endif
