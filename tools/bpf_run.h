/*
 * liveness run --bpf: a program and everything it starts, in a transient
 * cgroup to which a sock_ops BPF program is attached that gives every TCP
 * connection they make or accept the planned settings (tools/bpf_run.c).
 * Built only with libbpf, clang and bpftool (LIVENESS_HAVE_BPF).
 */
#ifndef LIVENESS_TOOLS_BPF_RUN_H
#define LIVENESS_TOOLS_BPF_RUN_H

#include "liveness.h"

/*
 * Run argv (argv[0] looked up in PATH) with plan enforced by the kernel,
 * and return what the command exits with: the program's status, 128 +
 * signal if a signal ended it, 127 if there is no such program, 126 if
 * nothing could be set up (one line on stderr says why; nothing is left
 * attached and no cgroup is left behind). debug lets libbpf's messages
 * through and reports the attachment.
 */
int lvt_run_bpf(const struct liveness_tcp *plan, char **argv, int debug);

#endif
