/* libshim-storm.so: threads that make TCP sockets at the same moment (see shim_storm.c). */
#ifndef LIVENESS_TESTS_SHIM_STORM_H
#define LIVENESS_TESTS_SHIM_STORM_H

/*
 * Run one storm and print its sockets' settings under the name phase.
 * Returns 0, or -1 after printing why on stderr.
 */
int storm_run(const char *phase);

#endif
