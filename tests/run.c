/*
 * The one test runner: every tests/check_NAME.c exports NAME_suite(); the
 * Makefile lists them in suites.h. Output is Check's summary plus TAP on
 * stdout. CK_RUN_SUITE=NAME and CK_RUN_CASE=NAME select a part.
 */
#include <check.h>
#include <stdlib.h>

#define SUITE(n) Suite *n##_suite(void);
#include "suites.h"
#undef SUITE

int main(void)
{
	SRunner *sr = srunner_create(NULL);
	int failed;

#define SUITE(n) srunner_add_suite(sr, n##_suite());
#include "suites.h"
#undef SUITE
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
