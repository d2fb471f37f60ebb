/* The liveness command: shared helpers of its subcommands (liveness(1)). */
#ifndef LIVENESS_TOOLS_CLI_H
#define LIVENESS_TOOLS_CLI_H

#include <stddef.h>

/* Print "liveness: <message>" on one line to stderr and exit 2 (bad input). */
__attribute__((noreturn, format(printf, 1, 2))) void lvt_usage_error(const char *fmt, ...);

/*
 * The absolute path of libliveness-preload.so: $LIVENESS_PRELOAD, else the
 * one next to this executable (the build tree), else the installed one.
 * Returns 0, or -ENOENT with the installed path in buf. A file found that
 * is not the shim (it does not export exactly the shim's wrappers) is bad
 * input: one line and exit 2.
 */
int lvt_shim_path(char *buf, size_t len);

/*
 * An option's value: "--name value" or "--name=value"; NULL if argv[*i] is
 * not --name. argv[0] is the command's name, for the errors: an option
 * without its value, or given a second time (a command parses its
 * arguments once), is bad input: one line, exit 2.
 */
const char *lvt_option(int argc, char **argv, int *i, const char *name);

/*
 * Report that cmd's output could not be written whole (stdout failed):
 * one line on stderr; returns the exit status, 1.
 */
int lvt_output_failed(const char *cmd);

int lvt_plan_main(int argc, char **argv);
int lvt_doctor_main(int argc, char **argv);
int lvt_run_main(int argc, char **argv);
int lvt_audit_main(int argc, char **argv);
int lvt_attach_main(int argc, char **argv);
int lvt_detach_main(int argc, char **argv);
int lvt_status_main(int argc, char **argv);

#endif
