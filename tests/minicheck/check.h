/*
 * A minimal stand-in for Check's <check.h>: the part of its API the pure and
 * loopback suites use, for toolchains that have no libcheck (musl-gcc,
 * gcc -m32 on a 64-bit Debian). tests/portable.sh builds the runner with
 * it. Like Check by default, each test runs in a child of its own (fork),
 * with an alarm for the test case's timeout (4 s unless set; scaled by
 * CK_TIMEOUT_MULTIPLIER); CK_RUN_SUITE and CK_RUN_CASE select a part. The
 * summary line is Check's: "N%: Checks: N, Failures: N, Errors: N", after
 * a line per failure or error: "file:line:F|E:case:test:0: message".
 * Not supported: CK_FORK=no, fixtures, loop, signal and exit tests.
 */
#ifndef LIVENESS_MINICHECK_H
#define LIVENESS_MINICHECK_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

typedef struct Suite Suite;
typedef struct TCase TCase;
typedef struct SRunner SRunner;

struct mc_test {
	const char *name;
	void (*fn)(int);
	const char *file;
	int line;
};

enum print_output { CK_SILENT, CK_MINIMAL, CK_NORMAL, CK_VERBOSE, CK_ENV, CK_SUBUNIT, CK_LAST };

#define START_TEST(name)                                                                           \
	static void name##_fn(int _i);                                                             \
	static const struct mc_test name##_t = {#name, name##_fn, __FILE__, __LINE__};             \
	static const struct mc_test *const name = &name##_t;                                       \
	static void name##_fn(int _i __attribute__((unused)))
#define END_TEST

Suite *suite_create(const char *name);
void suite_add_tcase(Suite *s, TCase *tc);
TCase *tcase_create(const char *name);
void tcase_set_timeout(TCase *tc, double seconds);
void mc_tcase_add_test(TCase *tc, const struct mc_test *t);
#define tcase_add_test(tc, t) mc_tcase_add_test((tc), (t))
SRunner *srunner_create(Suite *s);
void srunner_add_suite(SRunner *sr, Suite *s);
void srunner_run_all(SRunner *sr, enum print_output mode);
int srunner_ntests_failed(SRunner *sr);
void srunner_free(SRunner *sr);

/* Ends the test (the child) as a failure; fmt may be NULL. */
void mc_failed(const char *file, int line, const char *expr, const char *fmt, ...)
	__attribute__((noreturn));

#define ck_assert_msg(expr, ...)                                                                   \
	((expr) ? (void)0                                                                          \
		: mc_failed(__FILE__, __LINE__, "Assertion '" #expr "' failed", __VA_ARGS__))
#define ck_assert(expr) ck_assert_msg(expr, NULL)
#define ck_abort_msg(...) mc_failed(__FILE__, __LINE__, "Failed", __VA_ARGS__)

#define mc_cmp_(T, F, X, OP, Y)                                                                    \
	do {                                                                                       \
		T mc_x_ = (X);                                                                     \
		T mc_y_ = (Y);                                                                     \
		ck_assert_msg(mc_x_ OP mc_y_, "Assertion '%s' failed: %s == " F ", %s == " F,      \
			      #X " " #OP " " #Y, #X, mc_x_, #Y, mc_y_);                            \
	} while (0)
#define ck_assert_int_eq(X, Y) mc_cmp_(intmax_t, "%jd", X, ==, Y)
#define ck_assert_int_ne(X, Y) mc_cmp_(intmax_t, "%jd", X, !=, Y)
#define ck_assert_int_lt(X, Y) mc_cmp_(intmax_t, "%jd", X, <, Y)
#define ck_assert_int_le(X, Y) mc_cmp_(intmax_t, "%jd", X, <=, Y)
#define ck_assert_int_gt(X, Y) mc_cmp_(intmax_t, "%jd", X, >, Y)
#define ck_assert_int_ge(X, Y) mc_cmp_(intmax_t, "%jd", X, >=, Y)
#define ck_assert_uint_eq(X, Y) mc_cmp_(uintmax_t, "%ju", X, ==, Y)
#define ck_assert_uint_ne(X, Y) mc_cmp_(uintmax_t, "%ju", X, !=, Y)
#define ck_assert_uint_lt(X, Y) mc_cmp_(uintmax_t, "%ju", X, <, Y)
#define ck_assert_uint_le(X, Y) mc_cmp_(uintmax_t, "%ju", X, <=, Y)
#define ck_assert_uint_gt(X, Y) mc_cmp_(uintmax_t, "%ju", X, >, Y)
#define ck_assert_uint_ge(X, Y) mc_cmp_(uintmax_t, "%ju", X, >=, Y)
#define mc_ptr_(X, OP, Y)                                                                          \
	do {                                                                                       \
		const void *mc_x_ = (X);                                                           \
		const void *mc_y_ = (Y);                                                           \
		ck_assert_msg(mc_x_ OP mc_y_, "Assertion '%s' failed: %s == %p, %s == %p",         \
			      #X " " #OP " " #Y, #X, mc_x_, #Y, mc_y_);                            \
	} while (0)
#define ck_assert_ptr_eq(X, Y) mc_ptr_(X, ==, Y)
#define ck_assert_ptr_ne(X, Y) mc_ptr_(X, !=, Y)
#define ck_assert_ptr_null(X) mc_ptr_(X, ==, NULL)
#define ck_assert_ptr_nonnull(X) mc_ptr_(X, !=, NULL)
#define mc_str_(X, OP, Y)                                                                          \
	do {                                                                                       \
		const char *mc_x_ = (X);                                                           \
		const char *mc_y_ = (Y);                                                           \
		ck_assert_msg(mc_x_ &&mc_y_ &&strcmp(mc_x_, mc_y_) OP 0,                           \
			      "Assertion '%s' failed: %s == \"%s\", %s == \"%s\"",                 \
			      #X " " #OP " " #Y, #X, mc_x_ ? mc_x_ : "(null)", #Y,                 \
			      mc_y_ ? mc_y_ : "(null)");                                           \
	} while (0)
#define ck_assert_str_eq(X, Y) mc_str_(X, ==, Y)
#define ck_assert_str_ne(X, Y) mc_str_(X, !=, Y)
#define ck_assert_mem_eq(X, Y, L)                                                                  \
	ck_assert_msg(memcmp((X), (Y), (L)) == 0, "Assertion '%s' failed: %zu bytes differ",       \
		      #X " == " #Y, (size_t)(L))

#endif
