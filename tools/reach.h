/*
 * Can LD_PRELOAD reach a program? The dynamic linker ignores it for a
 * statically linked executable (there is no dynamic linker), and in secure
 * execution (AT_SECURE: a set-user-ID or set-group-ID program that changes
 * the caller's identity, or file capabilities that raise the caller's) it
 * loads preloads only from system directories and the shim then stands
 * aside. `liveness run` asks before it runs a program, so that it never
 * leaves one unprotected in silence.
 */
#ifndef LIVENESS_TOOLS_REACH_H
#define LIVENESS_TOOLS_REACH_H

#include <stddef.h>

enum lvt_reach {
	LVT_REACHED,	 /* a dynamically linked program run as the caller */
	LVT_NOT_FOUND,	 /* no such program (exec will say why) */
	LVT_STATIC,	 /* statically linked: no dynamic linker to preload */
	LVT_SETID,	 /* set-user-ID or set-group-ID to another identity */
	LVT_CAPABILITIES /* file capabilities beyond the caller's */
};

/*
 * Where execvp() would find prog (searching PATH when it has no slash), in
 * path, and whether the shim can reach it; for a script, the interpreter
 * of its #! line is judged. why gets a phrase such as "is statically
 * linked" for the cases that are not reached.
 */
enum lvt_reach lvt_reach(const char *prog, char *path, size_t len, char *why, size_t why_len);

#endif
