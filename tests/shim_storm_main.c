/*
 * shim-storm: the storm of libshim-storm.so (shim_storm.c) once more, from
 * main(), after the constructors; the library's constructor ran the first.
 */
#include <stdlib.h>

#include "shim_storm.h"

int main(void)
{
	return storm_run("main") == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
