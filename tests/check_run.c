/*
 * `liveness run` looks before it leaps: a program the LD_PRELOAD shim
 * cannot reach (statically linked; set-user-ID to another user; file
 * capabilities beyond the caller's) is refused with one clear line and
 * exit 126, and with --force runs with a warning. Each case is held to
 * reality: the same program under --force really does get no keepalive,
 * while a plain dynamic copy does. The programs are built here, in a
 * private mount namespace on a fresh tmpfs (never nosuid), and run as
 * nobody where identity matters; so the suite needs root.
 */
#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/xattr.h>
#include <unistd.h>

#include "child.h"
#include "liveness.h"

#define NOBODY 65534

static char dir[] = "/tmp/liveness-run.XXXXXX";

/* The tmpfs lives in this test's mount namespace; the empty directory under it does not. */
static void remove_dir(void)
{
	umount2(dir, MNT_DETACH);
	rmdir(dir);
}

/* Root, a private mount namespace, a tmpfs at dir; or SKIP (CI fails on that). */
static int setup(const char *what)
{
	const char *req = getenv("LIVENESS_REQUIRE_NETNS");
	const char *why = NULL;

	if (geteuid() != 0) {
		why = "needs root (setuid files, file capabilities, mount namespace)";
	} else if (!mkdtemp(dir)) {
		why = strerror(errno);
	} else {
		atexit(remove_dir);
		if (unshare(CLONE_NEWNS) != 0 ||
		    mount("", "/", NULL, MS_PRIVATE | MS_REC, NULL) != 0 ||
		    mount("liveness", dir, "tmpfs", 0, "mode=755") != 0)
			why = strerror(errno);
	}
	if (!why)
		return 1;
	if (req && strcmp(req, "1") == 0)
		ck_abort_msg("%s: required here (LIVENESS_REQUIRE_NETNS=1) but: %s", what, why);
	printf("SKIP run %s: %s\n", what, why);
	fflush(stdout);
	return 0;
}

static void copy(const char *from, const char *to, mode_t mode)
{
	char buf[65536];
	int in = open(from, O_RDONLY | O_CLOEXEC), out;
	ssize_t n;

	ck_assert_msg(in >= 0, "open %s: %s", from, strerror(errno));
	out = open(to, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0700);
	ck_assert_msg(out >= 0, "create %s: %s", to, strerror(errno));
	while ((n = read(in, buf, sizeof(buf))) > 0)
		ck_assert_int_eq(write(out, buf, (size_t)n), n);
	close(in);
	close(out);
	ck_assert_int_eq(chmod(to, mode), 0);
}

/* The command and the shim, side by side in dir (run finds the shim next to itself). */
static void install_tools(void)
{
	char from[4096], to[4096];

	sp_path(from, sizeof(from), "liveness");
	snprintf(to, sizeof(to), "%s/liveness", dir);
	copy(from, to, 0755);
	sp_path(from, sizeof(from), "libliveness-preload.so");
	snprintf(to, sizeof(to), "%s/libliveness-preload.so", dir);
	copy(from, to, 0755);
}

/* Build tests/probe_keepalive.c into dir/name, with extra flags (e.g. -static). */
static void build_probe(const char *name, const char *flags)
{
	char cmd[8192], src[4096];
	const char *cc = getenv("CC");

	ck_assert_ptr_nonnull(realpath("tests/probe_keepalive.c", src));
	snprintf(cmd, sizeof(cmd), "%s %s -o %s/%s %s", cc && *cc ? cc : "cc", flags, dir, name,
		 src);
	ck_assert_msg(system(cmd) == 0, "could not build the probe: %s", cmd);
}

/* Run `liveness run [--force] --budget 30s -- dir/prog`, as uid (0 or NOBODY). */
static void run(const char *prog, int force, uid_t uid, struct sp_result *r)
{
	char tool[4096], target[4096];
	char *as_root[] = {tool, "run", "--budget", "30s", "--", target, NULL};
	char *as_root_force[] = {tool, "run", "--force", "--budget", "30s", "--", target, NULL};
	char *as_nobody[] = {"setpriv",
			     "--reuid=65534",
			     "--regid=65534",
			     "--clear-groups",
			     tool,
			     "run",
			     "--budget",
			     "30s",
			     "--",
			     target,
			     NULL};
	char *as_nobody_force[] = {"setpriv",
				   "--reuid=65534",
				   "--regid=65534",
				   "--clear-groups",
				   tool,
				   "run",
				   "--force",
				   "--budget",
				   "30s",
				   "--",
				   target,
				   NULL};

	snprintf(tool, sizeof(tool), "%s/liveness", dir);
	snprintf(target, sizeof(target), "%s/%s", dir, prog);
	sp_run(uid == 0 ? (force ? as_root_force : as_root) : (force ? as_nobody_force : as_nobody),
	       NULL, 20 * LIVENESS_SEC, r);
}

static void expect_refused(const char *prog, uid_t uid, const char *reason)
{
	struct sp_result r;

	run(prog, 0, uid, &r);
	ck_assert_msg(r.status == 126, "%s: exit %d, stderr: %s", prog, r.status, r.err);
	ck_assert_msg(strstr(r.err, reason) && strstr(r.err, "cannot reach") &&
			      strstr(r.err, "--force"),
		      "%s: no clear reason ('%s') in: %s", prog, reason, r.err);
	/* One line, and the program never ran. */
	ck_assert_ptr_eq(strchr(r.err, '\n'), r.err + strlen(r.err) - 1);
	ck_assert_str_eq(r.out, "");
	sp_free(&r);
	/* Forced: it runs, is warned about, and really gets nothing from the shim. */
	run(prog, 1, uid, &r);
	ck_assert_msg(r.status == 0, "%s --force: exit %d, stderr: %s", prog, r.status, r.err);
	ck_assert_msg(strstr(r.err, "warning") && strstr(r.err, reason), "%s --force: %s", prog,
		      r.err);
	ck_assert_msg(strstr(r.out, "keepalive=0"), "%s got keepalive under --force: %s", prog,
		      r.out);
	printf("run   %-28s refused (%s); under --force: %s", prog, reason, r.out);
	fflush(stdout);
	sp_free(&r);
}

/* The control: a dynamic program run as the caller is reached, keepalive on. */
static void expect_reached(const char *prog, uid_t uid)
{
	struct sp_result r;

	run(prog, 0, uid, &r);
	ck_assert_msg(r.status == 0, "%s: exit %d, stderr: %s", prog, r.status, r.err);
	ck_assert_msg(strstr(r.out, "keepalive=1 idle=15"), "%s not reached: %s %s", prog, r.out,
		      r.err);
	sp_free(&r);
}

START_TEST(static_binary_is_refused)
{
	if (!setup("a statically linked program"))
		return;
	install_tools();
	build_probe("probe", "");
	build_probe("probe-static", "-static");
	expect_reached("probe", 0);
	expect_refused("probe-static", 0, "statically linked");
}
END_TEST

START_TEST(setuid_program_is_refused)
{
	char path[4096];

	if (!setup("a set-user-ID program"))
		return;
	install_tools();
	build_probe("probe", "");
	build_probe("probe-setuid", "");
	/* Set-user-ID root, run by nobody: secure execution. */
	snprintf(path, sizeof(path), "%s/probe-setuid", dir);
	ck_assert_int_eq(chown(path, 0, 0), 0);
	ck_assert_int_eq(chmod(path, 04755), 0);
	expect_reached("probe", NOBODY);
	expect_refused("probe-setuid", NOBODY, "set-user-ID");
	/* Set-user-ID to oneself changes nothing: root running it is reached. */
	expect_reached("probe-setuid", 0);
}
END_TEST

/* struct vfs_cap_data, revision 2 (linux/capability.h): cap_net_bind_service (10), effective. */
static void give_capability(const char *path)
{
	uint32_t data[5] = {0x02000000u | 0x1u, 1u << 10, 0, 0, 0};

	ck_assert_msg(setxattr(path, "security.capability", data, sizeof(data), 0) == 0,
		      "setxattr security.capability: %s", strerror(errno));
}

START_TEST(file_capabilities_are_refused)
{
	char path[4096];

	if (!setup("a program with file capabilities"))
		return;
	install_tools();
	build_probe("probe-caps", "");
	snprintf(path, sizeof(path), "%s/probe-caps", dir);
	give_capability(path);
	expect_refused("probe-caps", NOBODY, "file capabilities");
	/* Root holds every capability already: no secure execution, reached. */
	expect_reached("probe-caps", 0);
}
END_TEST

/* A script is judged by its interpreter. */
START_TEST(script_with_a_static_interpreter_is_refused)
{
	char path[4096];
	FILE *f;

	if (!setup("a script"))
		return;
	install_tools();
	build_probe("probe-static", "-static");
	snprintf(path, sizeof(path), "%s/script", dir);
	f = fopen(path, "w");
	ck_assert_ptr_nonnull(f);
	fprintf(f, "#!%s/probe-static\n", dir);
	ck_assert_int_eq(fclose(f), 0);
	ck_assert_int_eq(chmod(path, 0755), 0);
	expect_refused("script", 0, "statically linked");
}
END_TEST

Suite *run_suite(void);

Suite *run_suite(void)
{
	Suite *s = suite_create("run");
	TCase *tc = tcase_create("reach");

	tcase_add_test(tc, static_binary_is_refused);
	tcase_add_test(tc, setuid_program_is_refused);
	tcase_add_test(tc, file_capabilities_are_refused);
	tcase_add_test(tc, script_with_a_static_interpreter_is_refused);
	tcase_set_timeout(tc, 60);
	suite_add_tcase(s, tc);
	return s;
}
