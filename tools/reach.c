/* Can the LD_PRELOAD shim reach a program? See reach.h. */
#include <elf.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/xattr.h>
#include <unistd.h>

#include "reach.h"

/* execvp()'s search: a name without a slash is looked up in PATH. */
static int find(const char *prog, char *path, size_t len)
{
	const char *dirs = getenv("PATH"), *p, *end;

	if (strchr(prog, '/')) {
		snprintf(path, len, "%s", prog);
		return access(path, X_OK) == 0 ? 0 : -1;
	}
	if (!dirs || !*dirs)
		dirs = "/usr/local/bin:/usr/bin:/bin";
	for (p = dirs; p; p = *end ? end + 1 : NULL) {
		end = strchr(p, ':');
		if (!end)
			end = p + strlen(p);
		snprintf(path, len, "%.*s%s%s", (int)(end - p), p, end > p ? "/" : "", prog);
		if (access(path, X_OK) == 0)
			return 0;
	}
	return -1;
}

/*
 * 1 if the ELF file at fd names a program interpreter (PT_INTERP: the
 * dynamic linker, which is what honours LD_PRELOAD), 0 if it names none
 * (static, static-pie), -1 if it is not an ELF file we can read.
 */
static int has_interpreter(int fd)
{
	unsigned char ident[EI_NIDENT];
	Elf64_Ehdr e64;
	Elf32_Ehdr e32;
	uint64_t off;
	unsigned num, size;

	if (pread(fd, ident, sizeof(ident), 0) != (ssize_t)sizeof(ident) ||
	    memcmp(ident, ELFMAG, SELFMAG) != 0)
		return -1;
	if (ident[EI_CLASS] == ELFCLASS64) {
		if (pread(fd, &e64, sizeof(e64), 0) != (ssize_t)sizeof(e64))
			return -1;
		off = e64.e_phoff, num = e64.e_phnum, size = e64.e_phentsize;
	} else if (ident[EI_CLASS] == ELFCLASS32) {
		if (pread(fd, &e32, sizeof(e32), 0) != (ssize_t)sizeof(e32))
			return -1;
		off = e32.e_phoff, num = e32.e_phnum, size = e32.e_phentsize;
	} else {
		return -1;
	}
	for (unsigned i = 0; i < num && i < 4096; i++) {
		uint32_t type;

		/* p_type is the first 4-byte field of both program header layouts. */
		if (pread(fd, &type, sizeof(type), (off_t)(off + (uint64_t)i * size)) !=
		    (ssize_t)sizeof(type))
			return -1;
		if (type == PT_INTERP)
			return 1;
	}
	return 0;
}

/* The interpreter of a "#!" script, in buf; 0 if fd is no script. */
static int script_interpreter(int fd, char *buf, size_t len)
{
	char line[PATH_MAX + 3];
	ssize_t n = pread(fd, line, sizeof(line) - 1, 0);
	char *p, *end;

	if (n < 3 || line[0] != '#' || line[1] != '!')
		return 0;
	line[n] = '\0';
	for (p = line + 2; *p == ' ' || *p == '\t'; p++)
		;
	end = p + strcspn(p, " \t\n");
	if (end == p || (size_t)(end - p) >= len)
		return 0;
	memcpy(buf, p, (size_t)(end - p));
	buf[end - p] = '\0';
	return 1;
}

/* Would exec run this file in secure execution for us (AT_SECURE)? */
static enum lvt_reach identity(const char *path, const struct stat *st, char *why, size_t len)
{
	if ((st->st_mode & S_ISUID) && st->st_uid != geteuid()) {
		snprintf(why, len, "is set-user-ID (to uid %u)", (unsigned)st->st_uid);
		return LVT_SETID;
	}
	if ((st->st_mode & S_ISGID) && st->st_gid != getegid()) {
		snprintf(why, len, "is set-group-ID (to gid %u)", (unsigned)st->st_gid);
		return LVT_SETID;
	}
	/* File capabilities raise a non-root caller's; root holds them all already. */
	if (geteuid() != 0 && getxattr(path, "security.capability", NULL, 0) > 0) {
		snprintf(why, len, "has file capabilities (getcap %s)", path);
		return LVT_CAPABILITIES;
	}
	return LVT_REACHED;
}

enum lvt_reach lvt_reach(const char *prog, char *path, size_t len, char *why, size_t why_len)
{
	char interp[PATH_MAX];
	struct stat st;
	enum lvt_reach r;
	int fd, dyn;

	why[0] = '\0';
	if (find(prog, path, len) < 0 || stat(path, &st) != 0)
		return LVT_NOT_FOUND;
	if ((r = identity(path, &st, why, why_len)) != LVT_REACHED)
		return r;
	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) < 0)
		return LVT_REACHED; /* not readable: exec will tell */
	if (script_interpreter(fd, interp, sizeof(interp))) {
		char ipath[PATH_MAX], iwhy[200];

		close(fd);
		/* The kernel runs the interpreter, which is what the linker loads into. */
		r = lvt_reach(interp, ipath, sizeof(ipath), iwhy, sizeof(iwhy));
		if (r != LVT_REACHED && r != LVT_NOT_FOUND)
			snprintf(why, why_len, "runs %s, which %s", ipath, iwhy);
		return r == LVT_NOT_FOUND ? LVT_REACHED : r;
	}
	dyn = has_interpreter(fd);
	close(fd);
	if (dyn == 0) {
		snprintf(why, why_len, "is statically linked");
		return LVT_STATIC;
	}
	return LVT_REACHED;
}
