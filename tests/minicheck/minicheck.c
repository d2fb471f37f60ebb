/* The runner behind tests/minicheck/check.h; see there. */
#include "check.h"

#include <errno.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

/* The exit status of a child whose test failed an assertion. */
#define MC_FAILED 86

struct TCase {
	const char *name;
	double timeout;
	const struct mc_test **tests;
	size_t ntests;
	TCase *next;
};

struct Suite {
	const char *name;
	TCase *first, **last;
	Suite *next;
};

struct SRunner {
	Suite *first, **last;
	int run, failed, errors;
};

static const char *cur_case, *cur_test;

static void *mc_alloc(size_t n)
{
	void *p = malloc(n);

	if (!p) {
		perror("minicheck");
		exit(2);
	}
	memset(p, 0, n);
	return p;
}

Suite *suite_create(const char *name)
{
	Suite *s = mc_alloc(sizeof(*s));

	s->name = name;
	s->last = &s->first;
	return s;
}

void suite_add_tcase(Suite *s, TCase *tc)
{
	*s->last = tc;
	s->last = &tc->next;
}

TCase *tcase_create(const char *name)
{
	TCase *tc = mc_alloc(sizeof(*tc));

	tc->name = name;
	tc->timeout = 4;
	return tc;
}

void tcase_set_timeout(TCase *tc, double seconds)
{
	tc->timeout = seconds;
}

void mc_tcase_add_test(TCase *tc, const struct mc_test *t)
{
	const struct mc_test **n = realloc(tc->tests, (tc->ntests + 1) * sizeof(*n));

	if (!n) {
		perror("minicheck");
		exit(2);
	}
	n[tc->ntests++] = t;
	tc->tests = n;
}

SRunner *srunner_create(Suite *s)
{
	SRunner *sr = mc_alloc(sizeof(*sr));

	sr->last = &sr->first;
	if (s)
		srunner_add_suite(sr, s);
	return sr;
}

void srunner_add_suite(SRunner *sr, Suite *s)
{
	*sr->last = s;
	sr->last = &s->next;
}

void mc_failed(const char *file, int line, const char *expr, const char *fmt, ...)
{
	char msg[1024];
	va_list ap;

	if (fmt) {
		va_start(ap, fmt);
		vsnprintf(msg, sizeof(msg), fmt, ap);
		va_end(ap);
	} else {
		snprintf(msg, sizeof(msg), "%s", expr);
	}
	printf("%s:%d:F:%s:%s:0: %s\n", file, line, cur_case, cur_test, msg);
	fflush(stdout);
	_exit(MC_FAILED);
}

static int selected(const char *env, const char *name)
{
	const char *want = getenv(env);

	return !want || !*want || strcmp(want, name) == 0;
}

static void run_one(SRunner *sr, const TCase *tc, const struct mc_test *t, double timeout)
{
	int status;
	pid_t pid;

	cur_case = tc->name;
	cur_test = t->name;
	fflush(NULL);
	pid = fork();
	if (pid < 0) {
		perror("minicheck: fork");
		exit(2);
	}
	if (pid == 0) {
		signal(SIGALRM, SIG_DFL);
		alarm((unsigned)(timeout + 0.999));
		t->fn(0);
		fflush(NULL);
		_exit(0);
	}
	while (waitpid(pid, &status, 0) < 0)
		if (errno != EINTR) {
			perror("minicheck: waitpid");
			exit(2);
		}
	sr->run++;
	if (WIFEXITED(status) && WEXITSTATUS(status) == 0)
		return;
	if (WIFEXITED(status) && WEXITSTATUS(status) == MC_FAILED) {
		sr->failed++;
		return;
	}
	sr->errors++;
	if (WIFSIGNALED(status) && WTERMSIG(status) == SIGALRM)
		printf("%s:%d:E:%s:%s:0: Test timeout expired\n", t->file, t->line, tc->name,
		       t->name);
	else if (WIFSIGNALED(status))
		printf("%s:%d:E:%s:%s:0: (after this point) Received signal %d (%s)\n", t->file,
		       t->line, tc->name, t->name, WTERMSIG(status), strsignal(WTERMSIG(status)));
	else
		printf("%s:%d:E:%s:%s:0: (after this point) Early exit with return value %d\n",
		       t->file, t->line, tc->name, t->name, WEXITSTATUS(status));
}

void srunner_run_all(SRunner *sr, enum print_output mode)
{
	const char *m = getenv("CK_TIMEOUT_MULTIPLIER");
	double mult = m && *m ? strtod(m, NULL) : 1;
	const Suite *s;

	(void)mode;
	if (mult <= 0)
		mult = 1;
	for (s = sr->first; s; s = s->next) {
		const TCase *tc;

		if (!selected("CK_RUN_SUITE", s->name))
			continue;
		printf("Running suite(s): %s\n", s->name);
		for (tc = s->first; tc; tc = tc->next) {
			size_t i;

			if (!selected("CK_RUN_CASE", tc->name))
				continue;
			for (i = 0; i < tc->ntests; i++)
				run_one(sr, tc, tc->tests[i], tc->timeout * mult);
		}
	}
	printf("%d%%: Checks: %d, Failures: %d, Errors: %d\n",
	       sr->run ? (sr->run - sr->failed - sr->errors) * 100 / sr->run : 0, sr->run,
	       sr->failed, sr->errors);
	fflush(stdout);
}

int srunner_ntests_failed(SRunner *sr)
{
	return sr->failed + sr->errors;
}

void srunner_free(SRunner *sr)
{
	Suite *s, *sn;

	for (s = sr->first; s; s = sn) {
		TCase *tc, *tn;

		sn = s->next;
		for (tc = s->first; tc; tc = tn) {
			tn = tc->next;
			free(tc->tests);
			free(tc);
		}
		free(s);
	}
	free(sr);
}
