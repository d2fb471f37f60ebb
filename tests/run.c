/*
 * The one test runner: every tests/check_NAME.c exports NAME_suite(); the
 * Makefile lists them in suites.h. Output is Check's summary on stdout,
 * after whatever the tests print (SKIP lines among them). Check's own
 * environment variables apply: CK_RUN_SUITE=NAME and CK_RUN_CASE=NAME select
 * a part, CK_FORK=no runs the tests in this process (for valgrind), and
 * CK_TAP_LOG_FILE_NAME=FILE also writes a TAP line per test to FILE ("-" is
 * stdout), as each test ends: tests/mutate.py reads it to stop a run at its
 * first failure.
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>

#define SUITE(n) Suite *n##_suite(void);
#include "suites.h"
#undef SUITE

int main(void)
{
	SRunner *sr = srunner_create(NULL);
	int failed;

	/*
	 * Line by line, even into a pipe: a log read as the run goes (CI's tee,
	 * the mutation tool) shows each line when it happens, and no half line
	 * sits in the buffer when Check forks a test.
	 */
	setvbuf(stdout, NULL, _IOLBF, 0);
#define SUITE(n) srunner_add_suite(sr, n##_suite());
#include "suites.h"
#undef SUITE
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
