/*
 * The cgroup2 file system as the liveness command finds it: its mount from
 * /proc/self/mountinfo (never a fixed path: /sys/fs/cgroup on most systems,
 * /sys/fs/cgroup/unified in the hybrid layout, elsewhere in containers),
 * a cgroup named on the command line, a systemd unit's cgroup, and the
 * command's own. libc only: audit needs no BPF.
 */
#ifndef LIVENESS_TOOLS_CGROUP_H
#define LIVENESS_TOOLS_CGROUP_H

#include <stddef.h>

/* The first cgroup2 mount point in buf; 0 if none is mounted, else 1. */
int lvt_cgroup2_mount(char *buf, size_t len);

/*
 * PATH (arg) as a cgroup2 directory: as given when it is one, else under
 * the cgroup2 mount, as /proc/PID/cgroup names it. Bad input (no such
 * cgroup) is one line, "liveness: CMD: --cgroup ARG: ...", and exit 2.
 */
void lvt_resolve_cgroup(const char *cmd, const char *arg, char *dir, size_t len);

/*
 * The cgroup of systemd unit NAME (systemctl show's ControlGroup) as a
 * directory; bad input (no systemctl, no such unit, a unit without a
 * cgroup, as one that is not running) is one line and exit 2.
 */
void lvt_resolve_unit(const char *cmd, const char *unit, char *dir, size_t len);

/*
 * The directory of this process's cgroup: its path in the unified
 * hierarchy ("0::PATH" in /proc/self/cgroup) under a cgroup2 mount whose
 * root holds it. 0, or a negated errno.
 */
int lvt_own_cgroup(char *dir, size_t len);

#endif
