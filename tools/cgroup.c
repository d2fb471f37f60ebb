/* The cgroup2 file system as the liveness command finds it (tools/cgroup.h). */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "cgroup.h"
#include "cli.h"

/* Undo the escapes (\040 for a space, ...) with which mountinfo writes a path. */
static void unescape(char *s)
{
	char *o = s;

	for (; *s; s++) {
		if (s[0] == '\\' && s[1] >= '0' && s[1] <= '3' && s[2] >= '0' && s[2] <= '7' &&
		    s[3] >= '0' && s[3] <= '7') {
			*o++ = (char)((s[1] - '0') * 64 + (s[2] - '0') * 8 + (s[3] - '0'));
			s += 3;
		} else {
			*o++ = *s;
		}
	}
	*o = '\0';
}

/*
 * Each cgroup2 mount of /proc/self/mountinfo in turn: its root (the
 * subtree it shows: "/" but in a container) and its mount point. 1 while
 * there is one, 0 at the end (then f is closed).
 */
static int next_cgroup2(FILE *f, char *root, char *mnt)
{
	char line[4096], type[64];

	while (fgets(line, sizeof(line), f)) {
		const char *sep = strstr(line, " - ");

		/* ID PARENT MAJ:MIN ROOT MOUNT_POINT ... - FSTYPE SOURCE OPTIONS */
		if (!sep || sscanf(sep + 3, "%63s", type) != 1 || strcmp(type, "cgroup2") != 0 ||
		    sscanf(line, "%*s %*s %*s %4095s %4095s", root, mnt) != 2)
			continue;
		unescape(root);
		unescape(mnt);
		return 1;
	}
	fclose(f);
	return 0;
}

int lvt_cgroup2_mount(char *buf, size_t len)
{
	char root[PATH_MAX], mnt[PATH_MAX];
	FILE *f = fopen("/proc/self/mountinfo", "re");

	if (!f || !next_cgroup2(f, root, mnt))
		return 0;
	fclose(f);
	snprintf(buf, len, "%s", mnt);
	return 1;
}

void lvt_resolve_cgroup(const char *cmd, const char *arg, char *dir, size_t len)
{
	char mnt[PATH_MAX], probe[PATH_MAX + 16];

	snprintf(probe, sizeof(probe), "%s/cgroup.procs", arg);
	if (arg[0] == '/' && access(probe, R_OK) == 0) {
		snprintf(dir, len, "%s", arg);
		return;
	}
	if (!lvt_cgroup2_mount(mnt, sizeof(mnt)))
		lvt_usage_error(
			"%s: --cgroup %s: no such cgroup (no cgroup2 file system is mounted)", cmd,
			arg);
	if (snprintf(dir, len, "%s/%s", mnt, arg[0] == '/' ? arg + 1 : arg) >= (int)len)
		lvt_usage_error("%s: --cgroup %s: path too long", cmd, arg);
	snprintf(probe, sizeof(probe), "%s/cgroup.procs", dir);
	if (access(probe, R_OK) != 0)
		lvt_usage_error("%s: --cgroup %s: no such cgroup (neither %s nor %s/%s holds "
				"cgroup.procs)",
				cmd, arg, arg, mnt, arg[0] == '/' ? arg + 1 : arg);
}

void lvt_resolve_unit(const char *cmd, const char *unit, char *dir, size_t len)
{
	char cg[PATH_MAX] = "", *nl;
	int fds[2], status;
	ssize_t n, got = 0;
	pid_t pid;

	if (!*unit || strchr(unit, '/'))
		lvt_usage_error("%s: --unit '%s': not a unit name (e.g. nginx.service)", cmd, unit);
	if (pipe(fds) != 0)
		lvt_usage_error("%s: --unit %s: pipe: %s", cmd, unit, strerror(errno));
	fflush(NULL);
	if ((pid = fork()) == 0) {
		int null = open("/dev/null", O_WRONLY | O_CLOEXEC);

		/* Its own complaints would make the error more than one line. */
		if (null >= 0)
			dup2(null, 2);
		dup2(fds[1], 1);
		close(fds[0]);
		close(fds[1]);
		execlp("systemctl", "systemctl", "show", "--property=ControlGroup", "--value", "--",
		       unit, (char *)NULL);
		_exit(127);
	}
	close(fds[1]);
	while (pid > 0 && (n = read(fds[0], cg + got, sizeof(cg) - 1 - (size_t)got)) > 0)
		got += n;
	close(fds[0]);
	cg[got] = '\0';
	if (pid < 0 || waitpid(pid, &status, 0) != pid || !WIFEXITED(status))
		lvt_usage_error("%s: --unit %s: systemctl failed", cmd, unit);
	if (WEXITSTATUS(status) == 127)
		lvt_usage_error("%s: --unit %s: systemctl not found: is this a systemd system? "
				"Give the cgroup with --cgroup",
				cmd, unit);
	/* sd_booted()'s test: systemd is the init system when this directory exists. */
	if (WEXITSTATUS(status) != 0 && access("/run/systemd/system", F_OK) != 0)
		lvt_usage_error("%s: --unit %s: systemd is not running here: give the cgroup "
				"with --cgroup",
				cmd, unit);
	if ((nl = strchr(cg, '\n')))
		*nl = '\0';
	if (WEXITSTATUS(status) != 0 || cg[0] != '/')
		lvt_usage_error("%s: --unit %s: no such unit, or it has no cgroup (is it running?)",
				cmd, unit);
	lvt_resolve_cgroup(cmd, cg, dir, len);
}

int lvt_own_cgroup(char *dir, size_t len)
{
	char line[4096], cg[PATH_MAX] = "", root[PATH_MAX], mnt[PATH_MAX];
	const char *rel;
	FILE *f;
	size_t n;

	if (!(f = fopen("/proc/self/cgroup", "re")))
		return -errno;
	while (fgets(line, sizeof(line), f))
		if (strncmp(line, "0::", 3) == 0 && sscanf(line + 3, "%4095s", cg) == 1)
			break;
	fclose(f);
	if (cg[0] != '/')
		return -ENOENT;
	if (!(f = fopen("/proc/self/mountinfo", "re")))
		return -errno;
	while (next_cgroup2(f, root, mnt)) {
		/* A mount of a subtree (a container's) holds only the cgroups under its root. */
		n = strcmp(root, "/") == 0 ? 0 : strlen(root);
		if (strncmp(cg, root, n) != 0 || (cg[n] != '/' && cg[n] != '\0'))
			continue;
		rel = cg + n;
		if (strcmp(rel, "/") == 0)
			rel = "";
		fclose(f);
		return (size_t)snprintf(dir, len, "%s%s", mnt, rel) < len ? 0 : -ENAMETOOLONG;
	}
	return -ENOENT;
}
