/*
 * liveness_strerror(): the library's own words for the errnos it returns,
 * the system's for any other errno (so that a caller may pass errno from a
 * libc call), and a string, never NULL, for any int at all.
 */
#include <check.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>

#include "liveness.h"

START_TEST(library_errnos_have_the_library_meaning)
{
	ck_assert_str_eq(liveness_strerror(-EPROTOTYPE), "not a TCP socket");
	ck_assert_str_eq(liveness_strerror(-EIO), "kernel holds other values than were set");
	ck_assert_str_eq(liveness_strerror(-EBUSY), "still in a group");
	ck_assert_str_eq(liveness_strerror(-EEXIST), "already in a group");
	ck_assert_str_eq(liveness_strerror(0), "success");
	/* Negated or not, the same. */
	ck_assert_str_eq(liveness_strerror(-EINVAL), liveness_strerror(EINVAL));
}
END_TEST

/* Other errnos read as the system describes them, not as "unknown error". */
START_TEST(other_errnos_have_the_system_meaning)
{
	static const int others[] = {EADDRINUSE, ENOENT, ENOSPC, EROFS, EDOM, ECHILD};

	for (unsigned i = 0; i < sizeof(others) / sizeof(others[0]); i++) {
		int e = others[i];

		ck_assert_str_ne(liveness_strerror(-e), "unknown error");
		ck_assert_str_eq(liveness_strerror(-e), strerror(e));
		ck_assert_str_eq(liveness_strerror(e), strerror(e));
	}
}
END_TEST

START_TEST(any_int_gives_a_string)
{
	static const int odd[] = {INT_MIN, INT_MIN + 1, -100000, -4096, 4096, 100000, INT_MAX};

	for (int e = -300; e <= 300; e++) {
		ck_assert_ptr_nonnull(liveness_strerror(e));
		ck_assert_uint_gt(strlen(liveness_strerror(e)), 0);
	}
	for (unsigned i = 0; i < sizeof(odd) / sizeof(odd[0]); i++) {
		ck_assert_ptr_nonnull(liveness_strerror(odd[i]));
		ck_assert_uint_gt(strlen(liveness_strerror(odd[i])), 0);
	}
	ck_assert_str_eq(liveness_strerror(INT_MIN), "unknown error");
	ck_assert_str_eq(liveness_strerror(100000), "unknown error");
}
END_TEST

/* The loaded library's version is the header's, the one place it is written. */
START_TEST(version_is_the_headers)
{
	char want[64];

	snprintf(want, sizeof(want), "%d.%d.%d", LIVENESS_VERSION_MAJOR, LIVENESS_VERSION_MINOR,
		 LIVENESS_VERSION_PATCH);
	ck_assert_str_eq(liveness_version(), want);
	ck_assert_ptr_eq(liveness_version(), liveness_version()); /* static */
}
END_TEST

Suite *error_suite(void);

Suite *error_suite(void)
{
	Suite *s = suite_create("error");
	TCase *tc = tcase_create("strerror");

	tcase_add_test(tc, library_errnos_have_the_library_meaning);
	tcase_add_test(tc, other_errnos_have_the_system_meaning);
	tcase_add_test(tc, any_int_gives_a_string);
	tcase_add_test(tc, version_is_the_headers);
	suite_add_tcase(s, tc);
	return s;
}
