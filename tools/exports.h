/*
 * What a shared object exports, read from its file: how the liveness
 * command knows that the library it is about to preload is its shim and
 * not another one that LD_PRELOAD would load just as gladly.
 */
#ifndef LIVENESS_TOOLS_EXPORTS_H
#define LIVENESS_TOOLS_EXPORTS_H

#include <stddef.h>

/*
 * Is path an ELF shared object for this machine (the class, byte order and
 * machine of the running command) whose dynamic symbol table defines
 * exactly the n symbols names, no more and no fewer? Returns 0, or -1 with
 * a phrase such as "is not an ELF file" or "does not export accept4" in why.
 */
int lvt_elf_exports_exactly(const char *path, const char *const *names, size_t n, char *why,
			    size_t len);

#endif
