/*
 * The exports of a shared object, from its section headers and dynamic
 * symbol table; see elf.h. Only this machine's ELF class is read: a
 * library of another class or machine could not be preloaded into the
 * programs the command runs anyway.
 */
#include <elf.h>
#include <errno.h>
#include <fcntl.h>
#include <link.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "exports.h"

/* Tables larger than this are not a shim's (it exports five symbols). */
#define MAX_TABLE (64u << 20)

/* A table of the file, read whole; NULL if it does not fit in the file or the limit. */
static void *table(int fd, off_t size, ElfW(Off) off, ElfW(Xword) len)
{
	void *p;

	if (len == 0 || len > MAX_TABLE || off > (ElfW(Off))size || len > (ElfW(Off))size - off ||
	    !(p = malloc(len + 1)))
		return NULL;
	if (pread(fd, p, len, (off_t)off) != (ssize_t)len) {
		free(p);
		return NULL;
	}
	((char *)p)[len] = '\0'; /* a string table ends in a NUL of ours at worst */
	return p;
}

/* The ELF header of the running command, whose class, byte order and machine the shim needs. */
static int own_header(ElfW(Ehdr) * e)
{
	int fd = open("/proc/self/exe", O_RDONLY | O_CLOEXEC);
	ssize_t n;

	if (fd < 0)
		return -1;
	n = pread(fd, e, sizeof(*e), 0);
	close(fd);
	return n == (ssize_t)sizeof(*e) ? 0 : -1;
}

/* The file's exports against names; fd is an ELF shared object of this machine. */
static int check_exports(int fd, off_t size, const ElfW(Ehdr) * e, const char *const *names,
			 size_t n, char *why, size_t len)
{
	ElfW(Shdr) *sh = NULL;
	ElfW(Sym) *sym = NULL;
	char *str = NULL, seen[64] = {0};
	const char *extra = NULL;
	size_t i, k, nsym, extras = 0;
	ElfW(Xword) strsize;
	int r = -1;

	if (n > sizeof(seen)) {
		snprintf(why, len, "cannot be checked against %zu names", n);
		return -1;
	}
	if (e->e_shentsize != sizeof(ElfW(Shdr)) ||
	    !(sh = table(fd, size, e->e_shoff, (ElfW(Xword))e->e_shnum * sizeof(ElfW(Shdr))))) {
		snprintf(why, len, "has no readable section headers");
		goto out;
	}
	for (i = 0; i < e->e_shnum && sh[i].sh_type != SHT_DYNSYM; i++)
		;
	if (i == e->e_shnum || sh[i].sh_entsize != sizeof(ElfW(Sym)) ||
	    sh[i].sh_link >= e->e_shnum ||
	    !(sym = table(fd, size, sh[i].sh_offset, sh[i].sh_size)) ||
	    !(str = table(fd, size, sh[sh[i].sh_link].sh_offset, sh[sh[i].sh_link].sh_size))) {
		snprintf(why, len, "has no readable dynamic symbol table");
		goto out;
	}
	nsym = sh[i].sh_size / sizeof(ElfW(Sym));
	strsize = sh[sh[i].sh_link].sh_size;
	for (i = 0; i < nsym; i++) {
		unsigned bind = sym[i].st_info >> 4; /* ELF32_ST_BIND and ELF64_ST_BIND alike */
		const char *name;

		/* Imports, the linker's version symbols and local entries are not exports. */
		if (sym[i].st_shndx == SHN_UNDEF || sym[i].st_shndx == SHN_ABS ||
		    (bind != STB_GLOBAL && bind != STB_WEAK))
			continue;
		/* A name past its table reads the NUL table() put after it: "". */
		name = str + (sym[i].st_name < strsize ? sym[i].st_name : strsize);
		for (k = 0; k < n && strcmp(name, names[k]) != 0; k++)
			;
		if (k < n)
			seen[k] = 1;
		else if (!extras++)
			extra = name;
	}
	for (k = 0; k < n && seen[k]; k++)
		;
	if (k < n)
		snprintf(why, len, "does not export %s", names[k]);
	else if (extras)
		snprintf(why, len, "exports %zu other symbol%s (%.64s%s)", extras,
			 extras == 1 ? "" : "s", extra, extras > 1 ? ", ..." : "");
	else
		r = 0;
out:
	free(sh);
	free(sym);
	free(str);
	return r;
}

int lvt_elf_exports_exactly(const char *path, const char *const *names, size_t n, char *why,
			    size_t len)
{
	ElfW(Ehdr) e, self;
	off_t size;
	int fd, r = -1;

	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) < 0) {
		snprintf(why, len, "cannot be read: %s", strerror(errno));
		return -1;
	}
	size = lseek(fd, 0, SEEK_END);
	if (size < (off_t)sizeof(e) || pread(fd, &e, sizeof(e), 0) != (ssize_t)sizeof(e) ||
	    memcmp(e.e_ident, ELFMAG, SELFMAG) != 0)
		snprintf(why, len, "is not an ELF file");
	else if (own_header(&self) == 0 &&
		 (e.e_ident[EI_CLASS] != self.e_ident[EI_CLASS] ||
		  e.e_ident[EI_DATA] != self.e_ident[EI_DATA] || e.e_machine != self.e_machine))
		snprintf(why, len, "is built for another machine");
	else if (e.e_type != ET_DYN)
		snprintf(why, len, "is not a shared object");
	else
		r = check_exports(fd, size, &e, names, n, why, len);
	close(fd);
	return r;
}
