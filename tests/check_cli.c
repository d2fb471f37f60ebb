/*
 * The liveness command (tools/liveness.c), run as built: what `plan` and
 * `doctor` print, as text and as JSON (parsed here, every number held to
 * the library's own functions called in the test), `run`'s environment and
 * exit status, a one-line error and exit status 2 for every kind of bad
 * input, --help and --version, the shim it finds, and liveness(7)'s
 * recipes, whose quoted output must still be what the commands print. The
 * binary comes from $LIVENESS_BUILD (default build).
 */
#include <check.h>
#include <ctype.h>
#include <dlfcn.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/utsname.h>
#include <sys/wait.h>
#include <unistd.h>

#include "../tools/duration.h"
#include "child.h"
#include "liveness.h"
#include "util.h"

#define RUN_TIMEOUT (60 * LIVENESS_SEC)

static char *liveness(void)
{
	static char path[4096];

	if (!path[0])
		sp_path(path, sizeof(path), "liveness");
	return path;
}

/* Run liveness with up to 15 arguments (NULL-terminated) and extra environment env. */
static void lv_va(struct sp_result *r, char *const env[], const char *first, va_list ap)
{
	char *argv[16];
	int n = 0;
	const char *a;

	argv[n++] = liveness();
	for (a = first; a && n < 15; a = va_arg(ap, const char *))
		argv[n++] = (char *)a;
	argv[n] = NULL;
	sp_run(argv, env, RUN_TIMEOUT, r);
}

static void lv(struct sp_result *r, const char *first, ...)
{
	va_list ap;

	va_start(ap, first);
	lv_va(r, NULL, first, ap);
	va_end(ap);
}

static void lv_env(struct sp_result *r, char *const env[], const char *first, ...)
{
	va_list ap;

	va_start(ap, first);
	lv_va(r, env, first, ap);
	va_end(ap);
}

/* s with runs of blanks made one space and no blanks at either end, in place. */
static char *squeeze(char *s)
{
	char *w = s, *r = s;

	while (*r) {
		if (isspace((unsigned char)*r)) {
			while (isspace((unsigned char)*r))
				r++;
			if (w != s && *r)
				*w++ = ' ';
		} else {
			*w++ = *r++;
		}
	}
	*w = '\0';
	return s;
}

/* Does text have a line equal to want, blanks squeezed in both? */
static int has_line(const char *text, const char *want)
{
	char w[512], line[1024];
	const char *p = text;

	snprintf(w, sizeof(w), "%s", want);
	squeeze(w);
	while (*p) {
		size_t n = strcspn(p, "\n");
		snprintf(line, sizeof(line), "%.*s",
			 (int)(n < sizeof(line) - 1 ? n : sizeof(line) - 1), p);
		if (strcmp(squeeze(line), w) == 0)
			return 1;
		p += n + (p[n] == '\n');
	}
	return 0;
}

#define ASSERT_LINE(out, ...)                                                                      \
	do {                                                                                       \
		char want_[512];                                                                   \
		snprintf(want_, sizeof(want_), __VA_ARGS__);                                       \
		ck_assert_msg(has_line(out, want_), "no line '%s' in:\n%s", want_, out);           \
	} while (0)

static void plan_matches_library(const char *text, liveness_time budget, const char *c_budget)
{
	struct liveness_tcp t;
	struct sp_result r;

	ck_assert_int_eq(liveness_tcp_plan(&t, budget), 0);
	lv(&r, "plan", text, NULL);
	ck_assert_msg(r.status == 0, "plan %s: status %d, %s", text, r.status, r.err);
	ck_assert_str_eq(r.err, "");
	ASSERT_LINE(r.out, "SO_KEEPALIVE 1");
	ASSERT_LINE(r.out, "TCP_KEEPIDLE %d s", t.idle);
	ASSERT_LINE(r.out, "TCP_KEEPINTVL %d s", t.interval);
	ASSERT_LINE(r.out, "TCP_KEEPCNT %d", t.count);
	ASSERT_LINE(r.out, "TCP_USER_TIMEOUT %u ms", t.user_timeout);
	ASSERT_LINE(r.out, "net.ipv4.tcp_keepalive_time = %d", t.idle);
	ASSERT_LINE(r.out, "net.ipv4.tcp_keepalive_intvl = %d", t.interval);
	ASSERT_LINE(r.out, "net.ipv4.tcp_keepalive_probes = %d", t.count);
	ASSERT_LINE(r.out, "or explicitly: LIVENESS_KEEPALIVE=%d:%d:%d LIVENESS_USER_TIMEOUT=%u",
		    t.idle, t.interval, t.count, t.user_timeout);
	ASSERT_LINE(r.out, "int on = 1, idle = %d, intvl = %d, cnt = %d;", t.idle, t.interval,
		    t.count);
	ASSERT_LINE(r.out, "liveness_tcp_plan(&t, %s);", c_budget);
	ck_assert_msg(strstr(r.out, "LD_PRELOAD=/") && strstr(r.out, "libliveness-preload.so"),
		      "no LD_PRELOAD line:\n%s", r.out);
	/* The worst cases printed are the library's, rounded up to 10 ms. */
	{
		char a[64], b[64];
		liveness_time idle = liveness_tcp_bound(&t, LIVENESS_IDLE);
		liveness_time busy = liveness_tcp_bound(&t, LIVENESS_BUSY);
		ck_assert(idle <= budget && busy <= budget);
		snprintf(a, sizeof(a), "%.2f", (double)((idle + 9999999) / 10000000) / 100);
		snprintf(b, sizeof(b), "%.2f", (double)((busy + 9999999) / 10000000) / 100);
		/* Trailing zeros are dropped in the output: compare numerically. */
		ck_assert_msg(strstr(r.out, "idle: probes unanswered"), "%s", r.out);
		{
			const char *l = strstr(r.out, "idle: probes unanswered");
			double nom, worst;
			ck_assert_int_eq(
				sscanf(l, "idle: probes unanswered %lf s %lf s", &nom, &worst), 2);
			ck_assert_msg(worst == atof(a), "idle worst %.2f, library %s", worst, a);
			l = strstr(r.out, "busy: data unacknowledged");
			ck_assert_ptr_nonnull(l);
			ck_assert_int_eq(
				sscanf(l, "busy: data unacknowledged %lf s %lf s", &nom, &worst),
				2);
			ck_assert_msg(worst == atof(b), "busy worst %.2f, library %s", worst, b);
		}
	}
	sp_free(&r);
}

START_TEST(plan_prints_what_the_library_plans)
{
	plan_matches_library("30s", 30 * LIVENESS_SEC, "30 * LIVENESS_SEC");
	plan_matches_library("2m", 120 * LIVENESS_SEC, "120 * LIVENESS_SEC");
	plan_matches_library("1h", 3600 * LIVENESS_SEC, "3600 * LIVENESS_SEC");
	plan_matches_library("2500ms", 2500 * LIVENESS_MSEC, "2500 * LIVENESS_MSEC");
	plan_matches_library("1h30m", 5400 * LIVENESS_SEC, "5400 * LIVENESS_SEC");
	plan_matches_library("2500500us", 2500500 * LIVENESS_USEC, "2500500 * LIVENESS_USEC");
}
END_TEST

/*
 * Under the extra environment env: exit status 2, nothing on stdout,
 * exactly one line on stderr containing needle.
 */
static void refused_env(char *const env[], const char *needle, const char *a, const char *b,
			const char *c, const char *d, const char *e)
{
	struct sp_result r;
	char *nl;

	lv_env(&r, env, a, b, c, d, e, NULL);
	ck_assert_msg(r.status == 2, "liveness %s %s %s: status %d, want 2 (stderr: %s)",
		      a ? a : "", b ? b : "", c ? c : "", r.status, r.err);
	ck_assert_msg(r.out[0] == '\0', "liveness %s %s: printed on stdout: %s", a ? a : "",
		      b ? b : "", r.out);
	nl = strchr(r.err, '\n');
	ck_assert_msg(nl && nl[1] == '\0' && strncmp(r.err, "liveness: ", 10) == 0,
		      "want one line 'liveness: ...', got '%s'", r.err);
	ck_assert_msg(strstr(r.err, needle), "error '%s' lacks '%s'", r.err, needle);
	sp_free(&r);
}

static void refused(const char *needle, const char *a, const char *b, const char *c, const char *d,
		    const char *e)
{
	refused_env(NULL, needle, a, b, c, d, e);
}

START_TEST(a_budget_too_short_is_refused_with_the_reason)
{
	refused("budget 0.5 s is too short", "plan", "500ms", NULL, NULL, NULL);
	refused("shortest budget that can be met is 2.18 s", "plan", "500ms", NULL, NULL, NULL);
	refused("too long", "plan", "30d", NULL, NULL, NULL);
}
END_TEST

START_TEST(bad_input_is_one_line_and_exit_2)
{
	refused("a command is needed", NULL, NULL, NULL, NULL, NULL);
	refused("unknown command 'plna'", "plna", NULL, NULL, NULL, NULL);
	refused("a budget is needed", "plan", NULL, NULL, NULL, NULL);
	refused("missing unit", "plan", "30", NULL, NULL, NULL);
	refused("unknown unit", "plan", "30 s", NULL, NULL, NULL);
	refused("not a duration", "plan", "abc", NULL, NULL, NULL);
	refused("not a duration", "plan", "-", NULL, NULL, NULL);
	refused("unknown option '--bogus'", "plan", "--bogus", NULL, NULL, NULL);
	refused("one budget only", "plan", "30s", "40s", NULL, NULL);
	refused("must be longer than zero", "plan", "0s", NULL, NULL, NULL);
	refused("duration too long", "plan", "99999999999999999999s", NULL, NULL, NULL);
	refused("--connections 'many'", "doctor", "--connections", "many", NULL, NULL);
	refused("--connections '0'", "doctor", "--connections", "0", NULL, NULL);
	refused("--connections needs a value", "doctor", "--connections", NULL, NULL, NULL);
	refused("too short", "doctor", "--budget", "1s", NULL, NULL);
	refused("unknown argument 'now'", "doctor", "now", NULL, NULL, NULL);
	refused("a program to run is needed", "run", "--budget", "3s", NULL, NULL);
	refused("a program to run is needed", "run", "--budget", "3s", "--", NULL);
	refused("give --budget", "run", "--", "true", NULL, NULL);
	refused("give it alone", "run", "--budget", "3s", "--keepalive", "1:1:1");
	refused("IDLE:INTERVAL:COUNT", "run", "--keepalive", "1:2", "--", "true");
	refused("IDLE:INTERVAL:COUNT", "run", "--keepalive", "1:1:200", "--", "true");
	refused("--user-timeout", "run", "--user-timeout", "-1", "--", "true");
	refused("--user-timeout", "run", "--user-timeout", "5s", "--", "true");
	refused("too short", "run", "--budget", "500ms", "--", "true");
	refused("unknown option '--bugdet'", "run", "--bugdet", "3s", "--", "true");
}
END_TEST

/*
 * Mistakes users made that once passed or were misnamed: a negative
 * duration is named as such (not an "unknown option"), `--` ends plan's
 * options, and an option given twice is refused instead of the last one
 * silently winning, in every command.
 */
START_TEST(mistakes_are_named)
{
	struct sp_result a, b;

	refused("budget '-5s': not a duration: a duration cannot be negative", "plan", "-5s", NULL,
		NULL, NULL);
	refused("budget '-5s': not a duration: a duration cannot be negative", "plan", "--", "-5s",
		NULL, NULL);
	refused("not a duration: a duration cannot be negative", "run", "--budget", "-5s", "--",
		"true");
	refused("not a duration: a duration cannot be negative", "doctor", "--budget=-.5s", NULL,
		NULL, NULL);
	refused("run: --budget given twice, '3s' and '5s': give it once", "run", "--budget", "3s",
		"--budget", "5s");
	refused("plan: --budget given twice, '3s' and '5s'", "plan", "--budget", "3s",
		"--budget=5s", NULL);
	refused("doctor: --budget given twice, '3s' and '5s'", "doctor", "--budget", "3s",
		"--budget", "5s");
	refused("doctor: --connections given twice", "doctor", "--connections", "5",
		"--connections", "6");
	refused("run: --keepalive given twice", "run", "--keepalive", "1:1:1", "--keepalive",
		"2:2:2");
	refused("plan: --user-timeout given twice", "plan", "--user-timeout", "1", "--user-timeout",
		"2");
	refused("one budget only, got '3s' and '5s'", "plan", "--budget", "3s", "5s", NULL);
	refused("give it alone", "plan", "30s", "--keepalive", "1:1:1", NULL);
	refused("--json and --systemd", "plan", "30s", "--json", "--systemd", NULL);
	refused("plan: --keepalive: keepalive '1:2'", "plan", "--keepalive", "1:2", NULL, NULL);
	refused("plan: --user-timeout: user timeout '5s'", "plan", "--user-timeout", "5s", NULL,
		NULL);
	refused("unknown option '--bogus'", "plan", "--bogus", "30s", NULL, NULL);
	refused("plan: --budget needs a value", "plan", "--budget", NULL, NULL, NULL);

	/* After `--` a budget is a budget, and the plan is the same. */
	lv(&a, "plan", "--", "30s", NULL);
	lv(&b, "plan", "30s", NULL);
	ck_assert_msg(a.status == 0, "plan -- 30s: status %d, %s", a.status, a.err);
	ck_assert_str_eq(a.out, b.out);
	sp_free(&a);
	lv(&a, "plan", "--budget", "30s", NULL);
	ck_assert_int_eq(a.status, 0);
	ck_assert_str_eq(a.out, b.out);
	sp_free(&a);
	sp_free(&b);
}
END_TEST

/* A budget of days reads as days, with the seconds after them. */
START_TEST(long_durations_are_readable)
{
	struct sp_result r;

	lv(&r, "plan", "24d", NULL);
	ck_assert_int_eq(r.status, 0);
	ASSERT_LINE(r.out, "plan for a budget of 24 d (2073600 s): a silent peer is declared dead "
			   "within it, idle or busy");
	sp_free(&r);
	lv(&r, "doctor", "--no-measure", "--budget", "2h30m", NULL);
	ck_assert_msg(strstr(r.out, "budget 2 h 30 min (9000 s)\n"), "%s", r.out);
	sp_free(&r);
}
END_TEST

/* The whole of a file, NUL-terminated; free it. */
static char *slurp(const char *path)
{
	FILE *f = fopen(path, "re");
	char *buf;
	long n;

	ck_assert_msg(f, "%s not found (run the tests from the source tree)", path);
	ck_assert_int_eq(fseek(f, 0, SEEK_END), 0);
	n = ftell(f);
	rewind(f);
	buf = malloc((size_t)n + 1);
	ck_assert_ptr_nonnull(buf);
	ck_assert_int_eq(fread(buf, 1, (size_t)n, f), n);
	buf[n] = '\0';
	fclose(f);
	return buf;
}

/* "--no-measure" as mdoc writes it after .Fl: "Fl \-no\-measure". */
static void mdoc_flag(const char *opt, char *buf, size_t len)
{
	size_t o = (size_t)snprintf(buf, len, "Fl ");

	for (opt++; *opt && o + 3 < len; opt++) {
		if (*opt == '-')
			buf[o++] = '\\';
		buf[o++] = *opt;
	}
	buf[o] = '\0';
}

/*
 * Each command's --help, and the top-level one; every option a command's
 * usage names is in the top-level usage too, and in liveness(1).
 */
START_TEST(help_for_each_command)
{
	static const char *const cmds[][2] = {
		{"--help", NULL}, {"plan", "--help"}, {"doctor", "--help"}, {"run", "--help"}};
	struct sp_result r, top;
	char *man = slurp("man/liveness.1");
	size_t i;

	lv(&top, "--help", NULL);
	for (i = 0; i < sizeof(cmds) / sizeof(cmds[0]); i++) {
		const char *p;

		lv(&r, cmds[i][0], cmds[i][1], NULL);
		ck_assert_msg(r.status == 0, "%s %s: status %d", cmds[i][0],
			      cmds[i][1] ? cmds[i][1] : "", r.status);
		ck_assert_msg(strncmp(r.out, "usage: liveness", 15) == 0, "%s", r.out);
		ck_assert_str_eq(r.err, "");
		for (p = r.out; (p = strstr(p, "--")) != NULL;) {
			char opt[64], flag[80];
			size_t n = 2 + strspn(p + 2, "abcdefghijklmnopqrstuvwxyz-");

			snprintf(opt, sizeof(opt), "%.*s", (int)n, p);
			p += n;
			if (n == 2)
				continue; /* "--" itself */
			ck_assert_msg(strstr(top.out, opt),
				      "liveness --help lacks %s, which '%s %s' "
				      "names:\n%s",
				      opt, cmds[i][0], cmds[i][1] ? cmds[i][1] : "", top.out);
			mdoc_flag(opt, flag, sizeof(flag));
			ck_assert_msg(strstr(man, flag), "liveness(1) lacks '%s'", flag);
		}
		sp_free(&r);
	}
	ck_assert_msg(strstr(top.out, "--no-measure") && strstr(top.out, "--force") &&
			      strstr(top.out, "--version"),
		      "%s", top.out);
	sp_free(&top);
	free(man);
}
END_TEST

/* --version and -V print the version of liveness.h. */
START_TEST(version_is_the_headers)
{
	static const char *const opts[] = {"--version", "-V"};
	struct sp_result r;
	char want[64];
	size_t i;

	snprintf(want, sizeof(want), "liveness %d.%d.%d\n", LIVENESS_VERSION_MAJOR,
		 LIVENESS_VERSION_MINOR, LIVENESS_VERSION_PATCH);
	for (i = 0; i < sizeof(opts) / sizeof(opts[0]); i++) {
		lv(&r, opts[i], NULL);
		ck_assert_int_eq(r.status, 0);
		ck_assert_str_eq(r.out, want);
		ck_assert_str_eq(r.err, "");
		sp_free(&r);
	}
}
END_TEST

/*
 * A strict JSON reader for the commands' --json, so that the tests hold
 * the output to the grammar (RFC 8259) and to the library, not to the
 * writer's own idea of it. Every value is kept with its path: "budget_ns",
 * "heartbeat.timeout_ns", "memory.caches[0].name".
 */
struct jv {
	char path[96];
	char type; /* 'n' number, 's' string, 'b' true or false, 'z' null, 'o' object, 'a' array */
	char text[256];
};

struct jdoc {
	struct jv v[256];
	int n;
};

static const char *j_ws(const char *p)
{
	while (*p == ' ' || *p == '\t' || *p == '\n' || *p == '\r')
		p++;
	return p;
}

static struct jv *j_add(struct jdoc *d, const char *path, char type)
{
	struct jv *v;
	int i;

	for (i = 0; i < d->n; i++)
		ck_assert_msg(strcmp(d->v[i].path, path) != 0, "JSON: key %s twice", path);
	ck_assert_int_lt(d->n, (int)(sizeof(d->v) / sizeof(d->v[0])));
	v = &d->v[d->n++];
	snprintf(v->path, sizeof(v->path), "%s", path);
	v->type = type;
	v->text[0] = '\0';
	return v;
}

/* A string at p (at its opening quote), decoded into out; returns what follows. */
static const char *j_string(const char *p, char *out, size_t len)
{
	size_t o = 0;

	ck_assert_msg(*p == '"', "JSON: a string expected at '%.20s'", p);
	for (p++; *p != '"'; p++) {
		char c = *p;

		ck_assert_msg((unsigned char)c >= 0x20, "JSON: a control character in a string");
		if (c == '\\') {
			const char *esc = strchr("\"\\/bfnrtu", *++p);

			ck_assert_msg(*p && esc, "JSON: bad escape \\%c", *p);
			c = *p == 'b'	? '\b'
			    : *p == 'f' ? '\f'
			    : *p == 'n' ? '\n'
			    : *p == 'r' ? '\r'
			    : *p == 't' ? '\t'
					: *p;
			if (*p == 'u') {
				ck_assert_msg(isxdigit((unsigned char)p[1]) &&
						      isxdigit((unsigned char)p[2]) &&
						      isxdigit((unsigned char)p[3]) &&
						      isxdigit((unsigned char)p[4]),
					      "JSON: bad \\u escape");
				c = '?'; /* no test looks inside one */
				p += 4;
			}
		}
		if (o + 1 < len)
			out[o++] = c;
	}
	out[o] = '\0';
	return p + 1;
}

static const char *j_value(struct jdoc *d, const char *path, const char *p, int depth)
{
	char key[64], sub[96];
	struct jv *v;
	int i = 0;

	ck_assert_msg(depth < 16, "JSON nested too deep");
	p = j_ws(p);
	if (*p == '{' || *p == '[') {
		char close = *p == '{' ? '}' : ']';

		v = j_add(d, path, *p == '{' ? 'o' : 'a');
		p = j_ws(p + 1);
		if (*p == close)
			return p + 1;
		for (;; i++) {
			if (close == '}') {
				p = j_string(j_ws(p), key, sizeof(key));
				p = j_ws(p);
				ck_assert_msg(*p == ':', "JSON: ':' expected after \"%s\"", key);
				p++;
				ck_assert_msg(snprintf(sub, sizeof(sub), "%s%s%s", path,
						       path[0] ? "." : "", key) < (int)sizeof(sub),
					      "JSON: path too long at %s", path);
			} else {
				ck_assert_msg(snprintf(sub, sizeof(sub), "%s[%d]", path, i) <
						      (int)sizeof(sub),
					      "JSON: path too long at %s", path);
			}
			p = j_ws(j_value(d, sub, p, depth + 1));
			if (*p == close)
				return p + 1;
			ck_assert_msg(*p == ',', "JSON: ',' or '%c' expected at '%.20s'", close, p);
			p++;
		}
	}
	if (*p == '"') {
		v = j_add(d, path, 's');
		return j_string(p, v->text, sizeof(v->text));
	}
	if (*p == '-' || isdigit((unsigned char)*p)) {
		const char *start = p;

		v = j_add(d, path, 'n');
		p += *p == '-';
		ck_assert_msg(isdigit((unsigned char)*p), "JSON: bad number at %s", path);
		if (*p == '0')
			p++;
		else
			p += strspn(p, "0123456789");
		if (*p == '.') {
			ck_assert_msg(isdigit((unsigned char)p[1]), "JSON: bad fraction at %s",
				      path);
			p += 1 + strspn(p + 1, "0123456789");
		}
		if (*p == 'e' || *p == 'E') {
			p += 1 + (p[1] == '+' || p[1] == '-');
			ck_assert_msg(isdigit((unsigned char)*p), "JSON: bad exponent at %s", path);
			p += strspn(p, "0123456789");
		}
		snprintf(v->text, sizeof(v->text), "%.*s", (int)(p - start), start);
		return p;
	}
	if (strncmp(p, "true", 4) == 0 || strncmp(p, "null", 4) == 0) {
		v = j_add(d, path, *p == 't' ? 'b' : 'z');
		snprintf(v->text, sizeof(v->text), "%.4s", p);
		return p + 4;
	}
	ck_assert_msg(strncmp(p, "false", 5) == 0, "JSON: no value at %s: '%.20s'", path, p);
	v = j_add(d, path, 'b');
	snprintf(v->text, sizeof(v->text), "false");
	return p + 5;
}

/* text must be exactly one JSON object (and a newline): nothing else on stdout. */
static void j_parse(const char *text, struct jdoc *d)
{
	const char *p = j_ws(text);

	d->n = 0;
	ck_assert_msg(*p == '{', "not one JSON object:\n%s", text);
	p = j_ws(j_value(d, "", p, 0));
	ck_assert_msg(*p == '\0', "text after the JSON object: '%.40s'", p);
}

static struct jv *j_get(struct jdoc *d, const char *path)
{
	int i;

	for (i = 0; i < d->n; i++)
		if (strcmp(d->v[i].path, path) == 0)
			return &d->v[i];
	return NULL;
}

static struct jv *j_must(struct jdoc *d, const char *path, char type)
{
	struct jv *v = j_get(d, path);

	ck_assert_msg(v, "JSON: no %s", path);
	ck_assert_msg(v->type == type, "JSON: %s is '%c', want '%c'", path, v->type, type);
	return v;
}

/* An integer, as every number of the commands' JSON is. */
static unsigned long long j_u64(struct jdoc *d, const char *path)
{
	struct jv *v = j_must(d, path, 'n');

	ck_assert_msg(v->text[strspn(v->text, "0123456789")] == '\0',
		      "JSON: %s = %s is not a whole number", path, v->text);
	return strtoull(v->text, NULL, 10);
}

/* Nanoseconds, with null for LIVENESS_NEVER. */
static liveness_time j_ns(struct jdoc *d, const char *path)
{
	struct jv *v = j_get(d, path);

	ck_assert_msg(v, "JSON: no %s", path);
	return v->type == 'z' ? LIVENESS_NEVER : j_u64(d, path);
}

static int j_bool(struct jdoc *d, const char *path)
{
	return strcmp(j_must(d, path, 'b')->text, "true") == 0;
}

static const char *j_str(struct jdoc *d, const char *path)
{
	return j_must(d, path, 's')->text;
}

/* Where the subsection or section that starts at list ends: the next .Ss or .Sh. */
static const char *list_end(const char *list)
{
	const char *ss = strstr(list + 1, "\n.Ss "), *sh = strstr(list + 1, "\n.Sh ");

	return !ss ? sh : !sh ? ss : ss < sh ? ss : sh;
}

/*
 * Every key of the output is in liveness(1)'s list for the command (the
 * lines ".It Li PATH Pq TYPE" after the marker), with the type the output
 * has; array indices are written "[]" there. Returns how many it checked.
 */
static int j_documented(struct jdoc *d, const char *man, const char *marker)
{
	const char *list = strstr(man, marker), *end;
	int i;

	ck_assert_msg(list, "liveness(1) has no '%s'", marker);
	end = list_end(list);
	for (i = 0; i < d->n; i++) {
		static const char *const types[] = {"n number", "s string", "b boolean",
						    "z null",	"o object", "a array"};
		char path[128], item[160], *o = path;
		const char *p, *line, *t = NULL;
		size_t k;

		if (!d->v[i].path[0])
			continue;
		for (p = d->v[i].path; *p; p++) {
			*o++ = *p;
			if (*p == '[')
				p += strspn(p + 1, "0123456789");
		}
		*o = '\0';
		snprintf(item, sizeof(item), "\n.It Li %s Pq ", path);
		line = strstr(list, item);
		ck_assert_msg(line && (!end || line < end),
			      "liveness(1) does not list %s under '%s'", path, marker);
		line += strlen(item);
		for (k = 0; k < sizeof(types) / sizeof(types[0]); k++)
			if (types[k][0] == d->v[i].type)
				t = types[k] + 2;
		ck_assert_msg(t && strstr(line, t) && strstr(line, t) < strchr(line, '\n'),
			      "liveness(1): %s is %s here, which its entry does not say", path, t);
	}
	return d->n;
}

/* The plan's socket options and bounds in the JSON are the library's for t. */
static void j_settings_are(struct jdoc *d, const struct liveness_tcp *t)
{
	ck_assert_int_eq(j_bool(d, "keepalive"), t->keepalive);
	ck_assert_uint_eq(j_u64(d, "idle_s"), (unsigned)t->idle);
	ck_assert_uint_eq(j_u64(d, "interval_s"), (unsigned)t->interval);
	ck_assert_uint_eq(j_u64(d, "count"), (unsigned)t->count);
	ck_assert_uint_eq(j_u64(d, "user_timeout_ms"), t->user_timeout);
	ck_assert_uint_eq(j_ns(d, "bound_idle_nominal_ns"),
			  liveness_tcp_bound(t, LIVENESS_IDLE | LIVENESS_NOMINAL));
	ck_assert_uint_eq(j_ns(d, "bound_idle_ns"), liveness_tcp_bound(t, LIVENESS_IDLE));
	ck_assert_uint_eq(j_ns(d, "bound_busy_nominal_ns"),
			  liveness_tcp_bound(t, LIVENESS_BUSY | LIVENESS_NOMINAL));
	ck_assert_uint_eq(j_ns(d, "bound_busy_ns"), liveness_tcp_bound(t, LIVENESS_BUSY));
}

/*
 * A peer silent from proof on, under policy p in a group of this
 * resolution, stepped by a loop that wakes exactly at the group's
 * deadlines: when the first ping goes out and when the verdict comes.
 */
static void silent_peer(const struct liveness_policy *p, liveness_time resolution,
			liveness_time start, liveness_time proof, liveness_time *first_ping,
			liveness_time *verdict)
{
	struct liveness_group *g;
	struct liveness_hb hb;
	liveness_time now = start;
	int steps;

	memset(&hb, 0, sizeof(hb));
	*first_ping = *verdict = LIVENESS_NEVER;
	ck_assert_int_eq(liveness_hb_init(&hb, p, start), 0);
	ck_assert_int_eq(liveness_group_new(&g, resolution, start), 0);
	/* liveness_group_add() refuses a policy whose retry is shorter than the resolution. */
	ck_assert_msg(liveness_group_add(g, &hb) == 0, "retry %llu ns < resolution %llu ns",
		      (unsigned long long)p->retry, (unsigned long long)resolution);
	liveness_hb_rx(&hb, proof);
	for (steps = 0; steps < 1000 && *verdict == LIVENESS_NEVER; steps++) {
		enum liveness_event ev;
		struct liveness_hb *m;

		now = liveness_group_deadline(g);
		ck_assert_uint_ne(now, LIVENESS_NEVER);
		while (liveness_group_step(g, now, &m, &ev, NULL) > 0) {
			if (ev == LIVENESS_PING && *first_ping == LIVENESS_NEVER)
				*first_ping = now;
			if (ev == LIVENESS_DEAD)
				*verdict = now;
		}
	}
	liveness_group_free(g);
	ck_assert_msg(*verdict != LIVENESS_NEVER, "no verdict after %d steps", steps);
}

/*
 * The heartbeat plan suggests, for budgets from the shortest to the
 * longest: its timeout no longer than the plan's user timeout (a ping keeps
 * the connection busy, so the user timeout runs from the first unanswered
 * ping and a longer heartbeat timeout would never decide), the retry
 * liveness_policy_init() gives, a resolution liveness_group_add() accepts,
 * and a verdict, in a real group with a silent peer, within the budget and
 * before the user timeout started by the first ping could end the
 * connection. The socket settings and bounds are the library's.
 */
START_TEST(heartbeat_decides_within_the_budget)
{
	static const char *const budgets[] = {
		"2180ms", "2181ms", "2200ms",  "2500ms", "2999ms", "3s",  "3700ms", "4s",
		"5s",	  "7s",	    "9999ms",  "10s",	 "13s",	   "15s", "17s",    "20s",
		"25s",	  "30s",    "33333ms", "45s",	 "50s",	   "1m",  "90s",    "2m",
		"150s",	  "4m",	    "5m",      "7m",	 "10m",	   "17m", "30m",    "1h",
		"2h",	  "7h",	    "1d",      "3d",	 "10d",	   "24d", "24d20h"};
	size_t i;

	for (i = 0; i < sizeof(budgets) / sizeof(budgets[0]); i++) {
		struct liveness_policy p;
		struct liveness_tcp t;
		struct sp_result r;
		struct jdoc d;
		liveness_time budget, interval, timeout, retry, resolution, ping, verdict, u, proof;
		const char *why = NULL;

		ck_assert_msg(lvt_parse_duration(budgets[i], &budget, &why) == 0, "%s", budgets[i]);
		ck_assert_int_eq(liveness_tcp_plan(&t, budget), 0);
		lv(&r, "plan", budgets[i], "--json", NULL);
		ck_assert_msg(r.status == 0, "plan %s --json: %d %s", budgets[i], r.status, r.err);
		ck_assert_str_eq(r.err, "");
		j_parse(r.out, &d);
		ck_assert_str_eq(j_str(&d, "command"), "plan");
		ck_assert_uint_eq(j_u64(&d, "budget_ns"), budget);
		j_settings_are(&d, &t);

		interval = j_u64(&d, "heartbeat.interval_ns");
		timeout = j_u64(&d, "heartbeat.timeout_ns");
		retry = j_u64(&d, "heartbeat.retry_ns");
		resolution = j_u64(&d, "heartbeat.resolution_ns");
		u = (liveness_time)t.user_timeout * LIVENESS_MSEC;
		ck_assert_msg(timeout <= u, "%s: heartbeat timeout %llu ns > user timeout %u ms",
			      budgets[i], (unsigned long long)timeout, t.user_timeout);
		ck_assert_int_eq(liveness_policy_init(&p, interval, timeout), 0);
		ck_assert_uint_eq(retry, p.retry);
		ck_assert_uint_eq(j_u64(&d, "heartbeat.verdict_within_ns"), timeout + resolution);
		ck_assert_msg(timeout + resolution <= budget, "%s: timeout + resolution > budget",
			      budgets[i]);

		/* From a connection's start, and after bytes that moved its proof off the grid. */
		silent_peer(&p, resolution, 1000 * LIVENESS_SEC, 1000 * LIVENESS_SEC, &ping,
			    &verdict);
		ck_assert_msg(verdict - 1000 * LIVENESS_SEC <= budget && verdict <= ping + u,
			      "%s: verdict %llu ns after the proof, %llu ns after the first ping",
			      budgets[i], (unsigned long long)(verdict - 1000 * LIVENESS_SEC),
			      (unsigned long long)(verdict - ping));
		proof = 1000 * LIVENESS_SEC + interval / 7 + 12345;
		silent_peer(&p, resolution, 1000 * LIVENESS_SEC, proof, &ping, &verdict);
		ck_assert_msg(
			verdict - proof <= budget && verdict <= ping + u,
			"%s: verdict %llu ns after a later proof, %llu ns after the first ping",
			budgets[i], (unsigned long long)(verdict - proof),
			(unsigned long long)(verdict - ping));
		sp_free(&r);
	}
}
END_TEST

/* The text says the same as the JSON, and what retry and the resolution mean. */
START_TEST(heartbeat_lines_explain_themselves)
{
	struct sp_result r, j;
	struct jdoc d;
	char a[32], b[32];

	lv(&j, "plan", "20s", "--json", NULL);
	j_parse(j.out, &d);
	lv(&r, "plan", "20s", NULL);
	ck_assert_int_eq(r.status, 0);
	ASSERT_LINE(r.out, "interval %s ping after this long without a sign of life",
		    lvt_fmt_sec(j_u64(&d, "heartbeat.interval_ns"), a, sizeof(a)));
	ASSERT_LINE(r.out, "timeout %s dead after this long without one; at most the user timeout",
		    lvt_fmt_sec(j_u64(&d, "heartbeat.timeout_ns"), a, sizeof(a)));
	ASSERT_LINE(r.out, "retry %s ping again this often while a ping goes unanswered",
		    lvt_fmt_sec(j_u64(&d, "heartbeat.retry_ns"), a, sizeof(a)));
	ASSERT_LINE(r.out,
		    "group resolution %s the group's tick: a verdict comes up to one tick "
		    "late",
		    lvt_fmt_sec(j_u64(&d, "heartbeat.resolution_ns"), a, sizeof(a)));
	ASSERT_LINE(r.out,
		    "dead within timeout + resolution = %s, plus however late the loop wakes",
		    lvt_fmt_sec(j_u64(&d, "heartbeat.verdict_within_ns"), b, sizeof(b)));
	ck_assert_msg(strstr(r.out, "the socket options remain the\n  backstop") ||
			      strstr(r.out, "the socket options remain the backstop"),
		      "%s", r.out);
	sp_free(&r);
	sp_free(&j);
}
END_TEST

/* The worst-case lines of a plan's text, against the library's bounds for t. */
static void text_bounds_are(const char *out, const struct liveness_tcp *t)
{
	char a[32], b[32];

	ASSERT_LINE(
		out, "idle: probes unanswered %s %s",
		lvt_fmt_sec(liveness_tcp_bound(t, LIVENESS_IDLE | LIVENESS_NOMINAL), a, sizeof(a)),
		lvt_fmt_sec(liveness_tcp_bound(t, LIVENESS_IDLE), b, sizeof(b)));
	ASSERT_LINE(
		out, "busy: data unacknowledged %s %s",
		lvt_fmt_sec(liveness_tcp_bound(t, LIVENESS_BUSY | LIVENESS_NOMINAL), a, sizeof(a)),
		lvt_fmt_sec(liveness_tcp_bound(t, LIVENESS_BUSY), b, sizeof(b)));
}

/*
 * Settings chosen by hand get their worst cases like a budget does; without
 * a user timeout a busy connection waits for tcp_retries2 (935 s with the
 * default 15), and without keepalive an idle one is never ended.
 */
START_TEST(explicit_settings_get_bounds)
{
	struct liveness_tcp t = {1, 20, 5, 3, 35000, -1}, sys;
	struct sp_result r;
	struct jdoc d;
	char a[32], b[32];

	lv(&r, "plan", "--keepalive", "20:5:3", "--user-timeout", "35000", NULL);
	ck_assert_msg(r.status == 0, "%s", r.err);
	ASSERT_LINE(r.out, "settings given: --keepalive 20:5:3 --user-timeout 35000");
	ASSERT_LINE(r.out, "TCP_KEEPIDLE 20 s");
	ASSERT_LINE(r.out, "TCP_USER_TIMEOUT 35000 ms");
	ASSERT_LINE(r.out, "LIVENESS_KEEPALIVE=20:5:3");
	ASSERT_LINE(r.out, "LIVENESS_USER_TIMEOUT=35000");
	text_bounds_are(r.out, &t);
	sp_free(&r);

	lv(&r, "plan", "--keepalive", "20:5:3", "--user-timeout", "35000", "--json", NULL);
	j_parse(r.out, &d);
	j_settings_are(&d, &t);
	ck_assert_ptr_nonnull(j_must(&d, "budget_ns", 'z'));
	ck_assert_ptr_nonnull(j_must(&d, "heartbeat", 'z'));
	ck_assert_str_eq(j_str(&d, "environment.LIVENESS_KEEPALIVE"), "20:5:3");
	ck_assert_str_eq(j_str(&d, "environment.LIVENESS_USER_TIMEOUT"), "35000");
	ck_assert_ptr_null(j_get(&d, "environment.LIVENESS_BUDGET"));
	sp_free(&r);

	/* No user timeout: tcp_retries2 decides a busy connection, as liveness_tcp_bound() reads
	 * it. */
	t.user_timeout = 0;
	lv(&r, "plan", "--keepalive", "20:5:3", "--user-timeout", "0", NULL);
	ck_assert_msg(r.status == 0, "%s", r.err);
	text_bounds_are(r.out, &t);
	ASSERT_LINE(
		r.out,
		"no TCP_USER_TIMEOUT: a busy connection ends when net.ipv4.tcp_retries2 "
		"runs out, after %s (%s worst)",
		lvt_fmt_sec(liveness_tcp_bound(&t, LIVENESS_BUSY | LIVENESS_NOMINAL), a, sizeof(a)),
		lvt_fmt_sec(liveness_tcp_bound(&t, LIVENESS_BUSY), b, sizeof(b)));
	sp_free(&r);

	/* Keepalive alone: the user timeout of a new socket, none. */
	lv(&r, "plan", "--keepalive", "20:5:3", "--json", NULL);
	j_parse(r.out, &d);
	j_settings_are(&d, &t);
	ck_assert_ptr_null(j_get(&d, "environment.LIVENESS_USER_TIMEOUT"));
	sp_free(&r);

	/* A user timeout alone: keepalive as a new socket here has it, off. */
	ck_assert_int_eq(liveness_tcp_system(&sys), 0);
	sys.user_timeout = 5000;
	lv(&r, "plan", "--user-timeout", "5000", "--json", NULL);
	j_parse(r.out, &d);
	j_settings_are(&d, &sys);
	ck_assert_uint_eq(j_ns(&d, "bound_idle_ns"), LIVENESS_NEVER);
	sp_free(&r);
	lv(&r, "plan", "--user-timeout", "5000", NULL);
	ASSERT_LINE(r.out, "keepalive off: an idle connection to a vanished peer is never ended");
	text_bounds_are(r.out, &sys);
	sp_free(&r);
}
END_TEST

/* In a fresh namespace tcp_retries2 is the kernel's 15: a busy connection takes about 935 s. */
START_TEST(no_user_timeout_is_935_seconds_busy)
{
	struct sp_result r;

	if (!tu_netns("liveness plan --user-timeout 0 in a fresh namespace"))
		return;
	lv(&r, "plan", "--keepalive", "20:5:3", "--user-timeout", "0", NULL);
	ASSERT_LINE(r.out, "busy: data unacknowledged 935.04 s 1016.06 s");
	sp_free(&r);
}
END_TEST

/*
 * The JSON of plan: every key documented in liveness(1) with its type,
 * and every key documented there printed by a budget or by explicit
 * settings.
 */
START_TEST(plan_json_is_documented)
{
	struct sp_result r;
	struct jdoc d;
	char *man = slurp("man/liveness.1"), *p;
	char seen[8192] = "";
	const char *marker = ".Ss JSON output of plan";

	lv(&r, "plan", "30s", "--json", NULL);
	j_parse(r.out, &d);
	j_documented(&d, man, marker);
	for (int i = 0; i < d.n; i++)
		snprintf(seen + strlen(seen), sizeof(seen) - strlen(seen), " %s ", d.v[i].path);
	sp_free(&r);
	lv(&r, "plan", "--keepalive", "1:1:1", "--user-timeout", "9", "--json", NULL);
	j_parse(r.out, &d);
	j_documented(&d, man, marker);
	for (int i = 0; i < d.n; i++)
		snprintf(seen + strlen(seen), sizeof(seen) - strlen(seen), " %s ", d.v[i].path);
	sp_free(&r);
	/* The converse: each documented key of plan's list was printed. */
	p = strstr(man, marker);
	for (const char *end = list_end(p); (p = strstr(p, "\n.It Li ")) && (!end || p < end);
	     p++) {
		char key[100], want[110];

		ck_assert_int_eq(sscanf(p, "\n.It Li %99s", key), 1);
		snprintf(want, sizeof(want), " %s ", key);
		ck_assert_msg(strstr(seen, want),
			      "liveness(1) documents %s, which plan never printed", key);
	}
	free(man);
}
END_TEST

/*
 * doctor --json in a fresh namespace: one object, every number held to the
 * library (the plan, the bounds of this namespace's defaults), the exit
 * status 1 exactly when an item is marked "change", every key documented.
 */
START_TEST(doctor_json_holds_the_library_values)
{
	static const char *const items[] = {
		"keepalive", "retransmissions", "open_files",	    "ports",
		"conntrack", "memory",		"keepalive_traffic"};
	struct liveness_tcp plan, sys;
	struct sp_result r;
	struct jdoc d;
	char *man = slurp("man/liveness.1");
	unsigned long long changes = 0;
	size_t i;

	if (!tu_netns("liveness doctor --json in a fresh namespace")) {
		free(man);
		return;
	}
	ck_assert_int_eq(liveness_tcp_plan(&plan, 300 * LIVENESS_SEC), 0);
	ck_assert_int_eq(liveness_tcp_system(&sys), 0);
	lv(&r, "doctor", "--json", "--connections", "1000000", "--budget", "5m", NULL);
	ck_assert_str_eq(r.err, "");
	j_parse(r.out, &d);
	j_documented(&d, man, ".Ss JSON output of doctor");
	ck_assert_str_eq(j_str(&d, "command"), "doctor");
	ck_assert_uint_eq(j_u64(&d, "connections"), 1000000);
	ck_assert_uint_eq(j_u64(&d, "budget_ns"), 300 * LIVENESS_SEC);
	ck_assert_uint_eq(j_u64(&d, "plan.idle_s"), (unsigned)plan.idle);
	ck_assert_uint_eq(j_u64(&d, "plan.interval_s"), (unsigned)plan.interval);
	ck_assert_uint_eq(j_u64(&d, "plan.count"), (unsigned)plan.count);
	ck_assert_uint_eq(j_u64(&d, "plan.user_timeout_ms"), plan.user_timeout);
	ck_assert_uint_eq(j_u64(&d, "keepalive.idle_s"), (unsigned)sys.idle);
	ck_assert_uint_eq(j_u64(&d, "keepalive.interval_s"), (unsigned)sys.interval);
	ck_assert_uint_eq(j_u64(&d, "keepalive.count"), (unsigned)sys.count);
	sys.keepalive = 1;
	ck_assert_uint_eq(j_u64(&d, "keepalive.bound_idle_nominal_ns"),
			  liveness_tcp_bound(&sys, LIVENESS_IDLE | LIVENESS_NOMINAL));
	ck_assert_uint_eq(j_u64(&d, "keepalive.bound_idle_ns"),
			  liveness_tcp_bound(&sys, LIVENESS_IDLE));
	sys.user_timeout = 0;
	ck_assert_uint_eq(j_u64(&d, "retransmissions.bound_busy_nominal_ns"),
			  liveness_tcp_bound(&sys, LIVENESS_BUSY | LIVENESS_NOMINAL));
	ck_assert_uint_eq(j_u64(&d, "retransmissions.bound_busy_ns"),
			  liveness_tcp_bound(&sys, LIVENESS_BUSY));
	ck_assert_uint_eq(j_u64(&d, "retransmissions.tcp_retries2"), 15);
	ck_assert_uint_eq(j_u64(&d, "open_files.needed"), 1000064);
	ck_assert_uint_eq(j_u64(&d, "ports.ports"), 28232);
	ck_assert_uint_eq(j_u64(&d, "ports.source_addresses_needed"), 36);
	ck_assert_uint_eq(j_u64(&d, "keepalive_traffic.idle_s"), (unsigned)plan.idle);
	ck_assert_uint_eq(j_u64(&d, "keepalive_traffic.probes_per_s"),
			  (1000000 + plan.idle / 2) / plan.idle);
	ck_assert(j_bool(&d, "memory.measured"));
	{
		unsigned long long per = j_u64(&d, "memory.bytes_per_connection");
		ck_assert_msg(per >= 1000 && per <= 20000, "%llu bytes per connection", per);
	}
	for (i = 0; i < sizeof(items) / sizeof(items[0]); i++) {
		char path[64];
		const char *st;

		snprintf(path, sizeof(path), "%s.status", items[i]);
		st = j_str(&d, path);
		ck_assert_msg(strcmp(st, "ok") == 0 || strcmp(st, "note") == 0 ||
				      strcmp(st, "change") == 0,
			      "%s = %s", path, st);
		changes += strcmp(st, "change") == 0;
	}
	ck_assert_uint_eq(j_u64(&d, "changes"), changes);
	ck_assert_int_eq(r.status, changes ? 1 : 0);
	/* The stock keepalive (7875 s) misses a 5 minute budget. */
	ck_assert_str_eq(j_str(&d, "keepalive.status"), "change");
	sp_free(&r);

	lv(&r, "doctor", "--json", "--no-measure", "--connections", "100", "--budget", "3h", NULL);
	j_parse(r.out, &d);
	j_documented(&d, man, ".Ss JSON output of doctor");
	ck_assert(!j_bool(&d, "memory.measured"));
	ck_assert_str_eq(j_str(&d, "memory.reason"), "disabled");
	ck_assert_uint_eq(j_u64(&d, "changes"), 0);
	ck_assert_int_eq(r.status, 0);
	sp_free(&r);
	free(man);
}
END_TEST

/* A report that cannot be written whole fails, with one line, instead of passing for one. */
START_TEST(output_that_cannot_be_written_fails)
{
	static const char *const cmds[] = {"plan 30s", "plan 30s --json",
					   "doctor --no-measure --json"};
	char line[4200];
	char *argv[] = {"sh", "-c", line, NULL};
	struct sp_result r;
	size_t i;

	for (i = 0; i < sizeof(cmds) / sizeof(cmds[0]); i++) {
		snprintf(line, sizeof(line), "exec %s %s >/dev/full", liveness(), cmds[i]);
		sp_run(argv, NULL, RUN_TIMEOUT, &r);
		ck_assert_msg(r.status == 1, "%s: status %d", cmds[i], r.status);
		ck_assert_msg(strstr(r.err, "the output could not be written whole\n") &&
				      strchr(r.err, '\n')[1] == '\0',
			      "%s: '%s'", cmds[i], r.err);
		sp_free(&r);
	}
}
END_TEST

/* Remove a scratch directory of a test and what it holds. */
static void rm_dir(const char *dir)
{
	char *argv[] = {"rm", "-rf", (char *)dir, NULL};
	struct sp_result r;

	sp_run(argv, NULL, RUN_TIMEOUT, &r);
	sp_free(&r);
}

static void run_ok(char *const argv[])
{
	struct sp_result r;

	sp_run(argv, NULL, RUN_TIMEOUT, &r);
	ck_assert_msg(r.status == 0, "%s: %s", argv[0], r.err);
	sp_free(&r);
}

/* A copy of the built shim as dir/sub/libliveness-preload.so, its path in env as LIVENESS_PRELOAD.
 */
static void shim_copy(const char *dir, const char *sub, char *env, size_t len)
{
	char shim[1024], to[512], mk_dir[400];
	char *mk[] = {"mkdir", "-p", mk_dir, NULL}, *cp[] = {"cp", shim, to, NULL};

	sp_path(shim, sizeof(shim), "libliveness-preload.so");
	snprintf(mk_dir, sizeof(mk_dir), "%s/%s", dir, sub);
	snprintf(to, sizeof(to), "%s/libliveness-preload.so", mk_dir);
	run_ok(mk);
	run_ok(cp);
	snprintf(env, len, "LIVENESS_PRELOAD=%s", to);
}

/*
 * systemd's own parser reads the drop-in of `liveness plan BUDGET --systemd`
 * for a unit without a complaint (it warns about an unknown key or a
 * value it splits, and ignores the line).
 */
static void systemd_accepts(const char *budget)
{
	static const char script[] =
		"command -v systemd-analyze >/dev/null || { echo no systemd-analyze; exit 77; }\n"
		"d=$(mktemp -d) && mkdir \"$d/lvtest.service.d\" &&\n"
		"printf '[Unit]\\nDescription=t\\n[Service]\\nExecStart=/bin/true\\n' "
		">\"$d/lvtest.service\" &&\n"
		"\"$0\" plan \"$1\" --systemd >\"$d/lvtest.service.d/liveness.conf\" &&\n"
		"SYSTEMD_UNIT_PATH=\"$d:\" systemd-analyze verify \"$d/lvtest.service\"\n"
		"r=$?; rm -rf \"$d\"; exit $r\n";
	char *argv[] = {"sh", "-c", (char *)script, liveness(), (char *)budget, NULL};
	struct sp_result r;

	sp_run(argv, NULL, RUN_TIMEOUT, &r);
	if (r.status == 77)
		printf("SKIP systemd-analyze verify of the drop-in: %s", r.out);
	else
		ck_assert_msg(r.status == 0 && r.err[0] == '\0', "systemd-analyze verify: %d %s",
			      r.status, r.err);
	sp_free(&r);
}

/*
 * --systemd: a [Service] drop-in with the shim as lvt_shim_path() finds it
 * and the budget, a comment saying where it goes, nothing else; a % in the
 * path doubled for systemd, a path LD_PRELOAD cannot hold refused.
 */
START_TEST(systemd_drop_in)
{
	char shim[1024], dir[] = "/tmp/liveness-cli.XXXXXX", env[600], want[1200];
	char *e[] = {env, NULL};
	struct sp_result r;
	const char *p;
	int section = 0;

	sp_path(shim, sizeof(shim), "libliveness-preload.so");
	lv(&r, "plan", "30s", "--systemd", NULL);
	ck_assert_msg(r.status == 0, "%s", r.err);
	ck_assert_str_eq(r.err, "");
	ck_assert_msg(strstr(r.out, "systemctl edit UNIT"), "%s", r.out);
	snprintf(want, sizeof(want),
		 "[Service]\nEnvironment=LD_PRELOAD=%s\n"
		 "Environment=LIVENESS_BUDGET=30s\n",
		 shim);
	for (p = r.out; *p; p = strchr(p, '\n') + 1) {
		if (*p == '#')
			continue;	   /* the comments come first */
		ck_assert_str_eq(p, want); /* then exactly the drop-in */
		section = 1;
		break;
	}
	ck_assert_int_eq(section, 1);
	sp_free(&r);
	systemd_accepts("30s");

	lv(&r, "plan", "--keepalive", "20:5:3", "--user-timeout=35000", "--systemd", NULL);
	ck_assert_msg(strstr(r.out, "\nEnvironment=LIVENESS_KEEPALIVE=20:5:3\n"
				    "Environment=LIVENESS_USER_TIMEOUT=35000\n"),
		      "%s", r.out);
	sp_free(&r);

	ck_assert_ptr_nonnull(mkdtemp(dir));
	shim_copy(dir, "50%", env, sizeof(env));
	lv_env(&r, e, "plan", "1m", "--systemd", NULL);
	snprintf(want, sizeof(want), "\nEnvironment=LD_PRELOAD=%s/50%%%%/libliveness-preload.so\n",
		 dir);
	ck_assert_msg(r.status == 0 && strstr(r.out, want), "%s%s", r.out, r.err);
	sp_free(&r);
	shim_copy(dir, "a b", env, sizeof(env));
	refused_env(e, "which LD_PRELOAD or systemd would split", "plan", "1m", "--systemd", NULL,
		    NULL);
	rm_dir(dir);
}
END_TEST

/* Without a shim to point at, --systemd refuses rather than print a path that is not there. */
START_TEST(systemd_needs_the_shim)
{
	char dir[] = "/tmp/liveness-cli.XXXXXX", copy[100];
	char *cp[] = {"cp", liveness(), copy, NULL};
	char *argv[] = {copy, "plan", "30s", "--systemd", NULL};
	struct sp_result r;

	ck_assert_ptr_nonnull(mkdtemp(dir));
	snprintf(copy, sizeof(copy), "%s/liveness", dir);
	run_ok(cp);
	sp_run(argv, NULL, RUN_TIMEOUT, &r);
	/* A copy of the command alone finds the shim only where make install put it. */
	if (r.status == 0) {
		printf("SKIP liveness plan --systemd without a shim: one is installed where "
		       "make install puts it\n");
	} else {
		ck_assert_int_eq(r.status, 2);
		ck_assert_msg(strstr(r.err, "--systemd: the shim ") &&
				      strstr(r.err, "is not installed") && r.out[0] == '\0',
			      "%s", r.err);
	}
	sp_free(&r);
	rm_dir(dir);
}
END_TEST

/*
 * LIVENESS_PRELOAD must name the shim: another library (the main one, libc),
 * a program, a text file, an empty or truncated copy is refused in one line,
 * by plan and by run; a copy of the real shim is taken.
 */
START_TEST(only_the_shim_is_preloaded)
{
	char dir[] = "/tmp/liveness-cli.XXXXXX", shim[1024], main_lib[1024], sh[1024];
	char text[100], empty[100], cut[100], env[1100];
	char *e[] = {env, NULL},
	     *head[] = {"sh", "-c", "head -c 3000 \"$0\" >\"$1\"", shim, cut, NULL};
	const char *bad[6];
	struct sp_result r;
	Dl_info libc;
	size_t i;
	FILE *f;

	sp_path(shim, sizeof(shim), "libliveness-preload.so");
	sp_path(main_lib, sizeof(main_lib), "libliveness.so");
	ck_assert_ptr_nonnull(realpath("/bin/sh", sh));
	ck_assert_msg(dladdr((void *)getpid, &libc) && libc.dli_fname, "where is libc?");
	ck_assert_ptr_nonnull(mkdtemp(dir));
	snprintf(text, sizeof(text), "%s/text.so", dir);
	snprintf(empty, sizeof(empty), "%s/empty.so", dir);
	snprintf(cut, sizeof(cut), "%s/cut.so", dir);
	ck_assert_ptr_nonnull(f = fopen(text, "w"));
	fputs("not a library\n", f);
	fclose(f);
	ck_assert_ptr_nonnull(f = fopen(empty, "w"));
	fclose(f);
	run_ok(head);
	bad[0] = main_lib;
	bad[1] = libc.dli_fname;
	bad[2] = sh;
	bad[3] = text;
	bad[4] = empty;
	bad[5] = cut;
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		snprintf(env, sizeof(env), "LIVENESS_PRELOAD=%s", bad[i]);
		refused_env(e, "is not the liveness shim: it ", "plan", "30s", NULL, NULL, NULL);
		refused_env(e, "is not the liveness shim: it ", "run", "--budget", "3s", "--",
			    "true");
	}
	shim_copy(dir, "copy", env, sizeof(env));
	lv_env(&r, e, "plan", "30s", NULL);
	ck_assert_msg(r.status == 0, "%s", r.err);
	ck_assert_msg(strstr(r.out, strchr(env, '=') + 1), "%s", r.out);
	sp_free(&r);
	lv_env(&r, e, "run", "--budget", "3s", "--", "true", NULL);
	ck_assert_msg(r.status == 0, "%s", r.err);
	sp_free(&r);
	rm_dir(dir);
}
END_TEST

START_TEST(run_sets_the_environment_and_keeps_the_exit_status)
{
	struct sp_result r;
	const char *show =
		"echo \"$LIVENESS_BUDGET|$LIVENESS_KEEPALIVE|$LIVENESS_USER_TIMEOUT|$LD_PRELOAD\"";
	char want[4200], shim[4096];

	sp_path(shim, sizeof(shim), "libliveness-preload.so");
	lv(&r, "run", "--budget", "3s", "--", "sh", "-c", show, NULL);
	ck_assert_int_eq(r.status, 0);
	snprintf(want, sizeof(want), "3s|||%s\n", shim);
	ck_assert_str_eq(r.out, want);
	sp_free(&r);

	lv(&r, "run", "--keepalive", "10:2:3", "--user-timeout", "4000", "sh", "-c", show, NULL);
	ck_assert_int_eq(r.status, 0);
	snprintf(want, sizeof(want), "|10:2:3|4000|%s\n", shim);
	ck_assert_str_eq(r.out, want);
	sp_free(&r);

	lv(&r, "run", "--budget", "3s", "--", "sh", "-c", "exit 7", NULL);
	ck_assert_int_eq(r.status, 7);
	sp_free(&r);

	lv(&r, "run", "--budget", "3s", "--", "/nonexistent/program", NULL);
	ck_assert_int_eq(r.status, 127);
	ck_assert_msg(strstr(r.err, "/nonexistent/program"), "%s", r.err);
	sp_free(&r);
}
END_TEST

START_TEST(doctor_reports_the_namespace_defaults)
{
	struct sp_result r;
	char *p;
	double kb;

	/* A fresh namespace has the kernel's defaults for every net.* sysctl. */
	if (!tu_netns("liveness doctor in a fresh namespace"))
		return;
	lv(&r, "doctor", "--connections", "1000000", "--budget", "5m", NULL);
	printf("%s", r.out);
	ck_assert_msg(r.status == 1, "doctor: status %d (want 1: changes needed), %s", r.status,
		      r.err);
	ck_assert_str_eq(r.err, "");
	ck_assert_msg(strstr(r.out, "probes after 7200 s, every 75 s, 9 of them"), "%s", r.out);
	ck_assert_msg(strstr(r.out, "ends 7875 s after its last packet, 8764.24 s worst"), "%s",
		      r.out);
	ck_assert_msg(strstr(r.out, "tcp_retries2 = 15"), "%s", r.out);
	ck_assert_msg(strstr(r.out, "935.04 s after the write, 1016.06 s worst"), "%s", r.out);
	ck_assert_msg(strstr(r.out, "(liveness_tcp_bound; liveness_tcp_plan(3) explains the "
				    "difference from ip-sysctl.rst)"),
		      "%s", r.out);
	ck_assert_msg(strstr(r.out, "1000000 connections need 1000064 descriptors"), "%s", r.out);
	ck_assert_msg(strstr(r.out, "32768 60999: 28232 local ports"), "%s", r.out);
	ck_assert_msg(strstr(r.out, "1000000 connections need 36 source addresses"), "%s", r.out);
	ck_assert_msg(strstr(r.out, "TCP_USER_TIMEOUT 270000 ms per socket"), "%s", r.out);
	ck_assert_msg(strstr(r.out, "sysctl -w net.ipv4.tcp_keepalive_time=150 "), "%s", r.out);
	/* Kernel memory per idle connection is measured: a few KB on Linux 6.x. */
	p = strstr(r.out, "memory: ");
	ck_assert_ptr_nonnull(p);
	if (strstr(p, "KB of kernel memory per idle connection")) {
		ck_assert_int_eq(sscanf(p, "memory: %lf KB", &kb), 1);
		ck_assert_msg(kb >= 1 && kb <= 20, "%.1f KB per connection is implausible", kb);
	} else {
		ck_assert_msg(strstr(p, "not measured"), "%s", p);
	}
	sp_free(&r);

	lv(&r, "doctor", "--no-measure", "--connections", "100", "--budget", "2h30m", NULL);
	ck_assert_msg(r.status == 0, "doctor for 100 connections, 2h30m: status %d\n%s", r.status,
		      r.out);
	sp_free(&r);
}
END_TEST

/* Whether fstype is mounted and capability cap effective, read here as the command must. */
static int t_mounted(const char *fstype)
{
	FILE *f = fopen("/proc/self/mountinfo", "r");
	char line[4096], want[80];
	int found = 0;

	ck_assert_ptr_nonnull(f);
	snprintf(want, sizeof(want), " - %s ", fstype);
	while (!found && fgets(line, sizeof(line), f))
		found = strstr(line, want) != NULL;
	fclose(f);
	return found;
}

static int t_capable(pid_t pid, int cap)
{
	char path[64], line[256];
	unsigned long long eff = 0;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/status", (int)pid);
	f = fopen(path, "r");
	ck_assert_ptr_nonnull(f);
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, "CapEff: %llx", &eff) == 1)
			break;
	fclose(f);
	return (int)(eff >> cap & 1);
}

/*
 * doctor's BPF item tells whether this build has the BPF part (as the
 * runner, built with the command, knows: LIVENESS_HAVE_BPF) and what the
 * machine has, each fact held to the test's own reading: the kernel
 * release, the mounts, BTF, and the capabilities, which nobody lacks. It
 * is a note, never a change.
 */
START_TEST(doctor_says_what_bpf_would_need)
{
	struct sp_result r;
	struct jdoc d;
	struct utsname u;
	int major, minor;

	ck_assert_int_eq(uname(&u), 0);
	ck_assert_int_eq(sscanf(u.release, "%d.%d", &major, &minor), 2);
	lv(&r, "doctor", "--no-measure", "--json", NULL);
	j_parse(r.out, &d);
	ck_assert_str_eq(j_str(&d, "bpf.status"), "note");
#ifdef LIVENESS_HAVE_BPF
	ck_assert(j_bool(&d, "bpf.built"));
#else
	ck_assert(!j_bool(&d, "bpf.built"));
#endif
	ck_assert_int_eq(j_bool(&d, "bpf.kernel"), major > 5 || (major == 5 && minor >= 9));
	ck_assert_int_eq(j_bool(&d, "bpf.cgroup2"), t_mounted("cgroup2"));
	ck_assert_int_eq(j_bool(&d, "bpf.bpffs"), t_mounted("bpf"));
	ck_assert_int_eq(j_bool(&d, "bpf.btf"), access("/sys/kernel/btf/vmlinux", R_OK) == 0);
	/* The command runs with this process's capabilities. */
	ck_assert_int_eq(j_bool(&d, "bpf.cap_bpf"), t_capable(getpid(), 39));
	ck_assert_int_eq(j_bool(&d, "bpf.cap_net_admin"), t_capable(getpid(), 12));
	ck_assert_int_eq(j_bool(&d, "bpf.cap_perfmon"), t_capable(getpid(), 38));
	sp_free(&r);
	if (geteuid() == 0) {
		char *as_nobody[] = {"setpriv",	 "--reuid=65534", "--regid=65534", "--clear-groups",
				     liveness(), "doctor",	  "--no-measure",  NULL};

		sp_run(as_nobody, NULL, RUN_TIMEOUT, &r);
#ifdef LIVENESS_HAVE_BPF
		ck_assert_msg(strstr(r.out, "[note]   BPF enforcement for a cgroup: built in: "
					    "liveness run --bpf, attach, detach, status\n"),
			      "%s", r.out);
#else
		ck_assert_msg(strstr(r.out,
				     "[note]   BPF enforcement for a cgroup: not built into this "
				     "version of liveness\n"),
			      "%s", r.out);
#endif
		ck_assert_msg(strstr(r.out, "CAP_BPF, CAP_NET_ADMIN, CAP_PERFMON\n"), "%s", r.out);
		ck_assert_msg(strstr(r.out, "this machine lacks: "), "%s", r.out);
		sp_free(&r);
	} else {
		printf("SKIP doctor as nobody: needs root to become nobody\n");
	}
}
END_TEST

/* ---- liveness audit ---- */

/* One socket of the audited child: its local port and the settings it reads itself. */
struct audited {
	uint16_t port;
	int v6;
	struct liveness_tcp t;
};

#define AUDITED 8

/* A connected pair on ::1, so that the audit reads /proc/PID/net/tcp6 too. */
static void pair6(int *client, int *server)
{
	struct sockaddr_in6 a = {.sin6_family = AF_INET6, .sin6_addr = IN6ADDR_LOOPBACK_INIT};
	socklen_t len = sizeof(a);
	int l = socket(AF_INET6, SOCK_STREAM, 0);

	ck_assert_int_ge(l, 0);
	ck_assert_msg(bind(l, (struct sockaddr *)&a, sizeof(a)) == 0, "bind ::1: %s",
		      strerror(errno));
	ck_assert_int_eq(listen(l, 4), 0);
	ck_assert_int_eq(getsockname(l, (struct sockaddr *)&a, &len), 0);
	*client = socket(AF_INET6, SOCK_STREAM, 0);
	ck_assert_int_eq(connect(*client, (struct sockaddr *)&a, sizeof(a)), 0);
	*server = accept(l, NULL, NULL);
	ck_assert_int_ge(*server, 0);
	close(l);
}

static uint16_t local_port(int fd)
{
	struct sockaddr_in6 a;
	socklen_t len = sizeof(a);

	ck_assert_int_eq(getsockname(fd, (struct sockaddr *)&a, &len), 0);
	return ntohs(a.sin6_port); /* sin_port and sin6_port share their place */
}

/*
 * Fork a process that holds AUDITED connection ends with known settings
 * and a listener, and sends what it reads of each (liveness_tcp_get(), the
 * kernel's values) to the parent; it lives until *hold is closed. Two
 * pairs keep the defaults (keepalive off: never noticed when idle), one is
 * planned for 30 s on both ends, one has keepalive on its client only, and
 * one on ::1 has a user timeout alone. Returns its pid.
 */
static pid_t audited_child(struct audited *out, uint16_t *listen_port, int *hold)
{
	int info[2], wait_fd[2];
	pid_t pid;

	ck_assert_int_eq(pipe(info), 0);
	ck_assert_int_eq(pipe(wait_fd), 0);
	pid = fork();
	ck_assert_int_ge(pid, 0);
	if (pid == 0) {
		struct liveness_tcp plan,
			ka = {.keepalive = 1, .idle = 10, .interval = 5, .count = 3, .linger = -1};
		struct audited a[AUDITED];
		int fd[AUDITED], l = tu_listen(0), u;
		uint16_t lp = tu_port(l);
		char c;

		close(info[0]);
		close(wait_fd[1]);
		tu_pair(&fd[0], &fd[1]);
		tu_pair(&fd[2], &fd[3]);
		tu_pair(&fd[4], &fd[5]);
		pair6(&fd[6], &fd[7]);
		if (liveness_tcp_plan(&plan, 30 * LIVENESS_SEC) != 0 ||
		    liveness_tcp_set(fd[2], &plan) != 0 || liveness_tcp_set(fd[3], &plan) != 0)
			_exit(3);
		if (liveness_tcp_get(fd[4], &ka) != 0)
			_exit(3);
		ka.keepalive = 1, ka.idle = 10, ka.interval = 5, ka.count = 3;
		if (liveness_tcp_set(fd[4], &ka) != 0)
			_exit(3);
		u = 4000;
		if (setsockopt(fd[6], IPPROTO_TCP, TCP_USER_TIMEOUT, &u, sizeof(u)) != 0)
			_exit(3);
		for (int i = 0; i < AUDITED; i++) {
			a[i].port = local_port(fd[i]);
			a[i].v6 = i >= 6;
			if (liveness_tcp_get(fd[i], &a[i].t) != 0)
				_exit(3);
		}
		if (write(info[1], &lp, sizeof(lp)) != sizeof(lp) ||
		    write(info[1], a, sizeof(a)) != sizeof(a))
			_exit(3);
		close(info[1]);
		(void)!read(wait_fd[0], &c, 1); /* until the parent closes its end */
		_exit(0);
	}
	close(info[1]);
	close(wait_fd[0]);
	ck_assert_int_eq(read(info[0], listen_port, sizeof(*listen_port)), sizeof(*listen_port));
	ck_assert_int_eq(read(info[0], out, AUDITED * sizeof(*out)), AUDITED * sizeof(*out));
	close(info[0]);
	*hold = wait_fd[1];
	return pid;
}

static void audited_end(pid_t pid, int hold)
{
	int status;

	close(hold);
	ck_assert_int_eq(waitpid(pid, &status, 0), pid);
	ck_assert_msg(WIFEXITED(status) && WEXITSTATUS(status) == 0, "audited child: %d", status);
}

/* The audited end whose local address ends in :port (or ]:port). */
static const struct audited *by_port(const struct audited *a, const char *local)
{
	const char *colon = strrchr(local, ':');

	ck_assert_ptr_nonnull(colon);
	for (int i = 0; i < AUDITED; i++)
		if (a[i].port == (uint16_t)atoi(colon + 1) && (local[0] == '[') == a[i].v6)
			return &a[i];
	ck_abort_msg("audit lists %s, which the child does not hold", local);
	return NULL;
}

/*
 * Every connection of one process, with the settings its sockets hold (as
 * the process itself reads them) and the library's bounds for them; the
 * listener left out; the ones keepalive would never end listed first and
 * counted; as JSON (every key documented) and as text.
 */
START_TEST(audit_reads_the_sockets_of_a_process)
{
	struct audited a[AUDITED];
	struct sp_result r;
	struct jdoc d;
	uint16_t lport;
	char pid_s[16], key[64], *man = slurp("man/liveness.1"), *line;
	int hold, never = 0, i;
	pid_t pid = audited_child(a, &lport, &hold);

	for (i = 0; i < AUDITED; i++)
		never += !a[i].t.keepalive;
	ck_assert_int_eq(never, 5); /* fd 0, 1, 5, 6, 7 */
	snprintf(pid_s, sizeof(pid_s), "%d", (int)pid);
	lv(&r, "audit", "--pid", pid_s, "--json", NULL);
	ck_assert_msg(r.status == 0, "audit: status %d, %s", r.status, r.err);
	ck_assert_str_eq(r.err, "");
	j_parse(r.out, &d);
	j_documented(&d, man, ".Ss JSON output of audit");
	ck_assert_str_eq(j_str(&d, "command"), "audit");
	ck_assert_uint_eq(j_u64(&d, "pid"), (unsigned long long)pid);
	ck_assert_uint_eq(j_u64(&d, "connections"), AUDITED);
	ck_assert_uint_eq(j_u64(&d, "processes"), 1);
	ck_assert_uint_eq(j_u64(&d, "never_idle"), 5);
	ck_assert_uint_eq(j_u64(&d, "unreadable"), 0);
	for (i = 0; i < AUDITED; i++) {
		const struct audited *e;
		liveness_time idle, busy;

#define K(name) (snprintf(key, sizeof(key), "list[%d].%s", i, name), key)
		e = by_port(a, j_str(&d, K("local")));
		ck_assert_msg(atoi(strrchr(j_str(&d, K("local")), ':') + 1) != lport,
			      "the listener is listed");
		ck_assert_uint_eq(j_u64(&d, K("pid")), (unsigned long long)pid);
		ck_assert_str_eq(j_str(&d, K("state")), "established");
		ck_assert_str_eq(j_str(&d, K("command")), "check_liveness");
		ck_assert_int_eq(j_bool(&d, K("keepalive")), e->t.keepalive);
		ck_assert_uint_eq(j_u64(&d, K("idle_s")), (unsigned)e->t.idle);
		ck_assert_uint_eq(j_u64(&d, K("interval_s")), (unsigned)e->t.interval);
		ck_assert_uint_eq(j_u64(&d, K("count")), (unsigned)e->t.count);
		ck_assert_uint_eq(j_u64(&d, K("user_timeout_ms")), (unsigned)e->t.user_timeout);
		idle = liveness_tcp_bound(&e->t, LIVENESS_IDLE);
		busy = liveness_tcp_bound(&e->t, LIVENESS_BUSY);
		ck_assert_uint_eq(j_ns(&d, K("bound_idle_ns")), idle);
		ck_assert_uint_eq(j_ns(&d, K("bound_busy_ns")), busy);
		ck_assert_int_eq(j_bool(&d, K("never_idle")), idle == LIVENESS_NEVER);
		ck_assert(j_bool(&d, K("own_namespace")));
		/* The ones that would never notice come first. */
		ck_assert_int_eq(j_bool(&d, K("never_idle")), i < 5);
#undef K
	}
	sp_free(&r);

	lv(&r, "audit", "--pid", pid_s, NULL);
	ck_assert_int_eq(r.status, 0);
	ck_assert_msg(strncmp(r.out,
			      "liveness audit: 8 TCP connections of 1 process; 5 would never "
			      "notice a vanished idle peer\n",
			      85) == 0,
		      "%s", r.out);
	line = strchr(r.out, '\n') + 1;
	line = strchr(line, '\n') + 1; /* the column heads */
	for (i = 0; i < AUDITED; i++, line = strchr(line, '\n') + 1) {
		ck_assert_msg(line[0] == (i < 5 ? '!' : ' '), "row %d: %.60s", i, line);
		ck_assert_msg(strstr(line, i < 5 ? " never " : " s ") &&
				      strstr(line, i < 5 ? " never " : " s ") < strchr(line, '\n'),
			      "row %d: %.140s", i, line);
	}
	ck_assert_str_eq(line, "");
	sp_free(&r);

	/* Without the rights over the process, it is counted as hidden. */
	if (geteuid() == 0) {
		char *as_nobody[] = {
			"setpriv", "--reuid=65534", "--regid=65534", "--clear-groups", liveness(),
			"audit",   "--pid",	    pid_s,	     "--json",	       NULL};

		sp_run(as_nobody, NULL, RUN_TIMEOUT, &r);
		ck_assert_msg(r.status == 0, "audit as nobody: %d %s", r.status, r.err);
		j_parse(r.out, &d);
		j_documented(&d, man, ".Ss JSON output of audit");
		ck_assert_uint_eq(j_u64(&d, "connections"), 0);
		ck_assert_uint_eq(j_u64(&d, "hidden_processes"), 1);
		sp_free(&r);
		as_nobody[8] = NULL; /* the text says so */
		sp_run(as_nobody, NULL, RUN_TIMEOUT, &r);
		ck_assert_msg(strstr(r.out,
				     "liveness audit: 0 TCP connections of 0 processes; 0 would "
				     "never notice a vanished idle peer\n(the descriptors of 1 "
				     "process could not be listed: Permission denied)\n"),
			      "%s", r.out);
		sp_free(&r);
	} else {
		printf("SKIP audit as another user: needs root to become nobody\n");
	}
	audited_end(pid, hold);
	free(man);
}
END_TEST

/* A process whose connections cannot be found, a malformed or doubled choice: one line, exit 2. */
START_TEST(audit_refuses_bad_input)
{
	static const char *const bad[][4] = {
		{"--pid", "abc", NULL},
		{"--pid", "0", NULL},
		{"--pid", "-1", NULL},
		{"--pid", "", NULL},
		{"--pid", "99999999", NULL},
		{"--pid", NULL},
		{"--pid", "1", "--all", NULL},
		{"--all", "--cgroup", "/", NULL},
		{"--cgroup", "/no/such/cgroup-of-liveness", NULL},
		{"--json", "--json", NULL},
		{"--pid", "1", "--pid", "1"},
		{"--bpf", NULL},
	};

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct sp_result r;

		lv(&r, "audit", bad[i][0], bad[i][1], bad[i][2], bad[i][3], NULL);
		ck_assert_msg(r.status == 2, "audit %s %s: status %d", bad[i][0],
			      bad[i][1] ? bad[i][1] : "", r.status);
		ck_assert_str_eq(r.out, "");
		ck_assert_msg(strncmp(r.err, "liveness: audit: ", 17) == 0 &&
				      strchr(r.err, '\n') == r.err + strlen(r.err) - 1,
			      "audit %s: not one line: %s", bad[i][0], r.err);
		sp_free(&r);
	}
}
END_TEST

/* The cgroup2 mount point and this process's cgroup in it. */
static int my_cgroup(char *dir, size_t len)
{
	FILE *f = fopen("/proc/self/mountinfo", "r");
	char line[4096], mnt[1024] = "", cg[1024] = "";

	ck_assert_ptr_nonnull(f);
	while (fgets(line, sizeof(line), f)) {
		const char *sep = strstr(line, " - cgroup2 ");

		if (sep && sscanf(line, "%*s %*s %*s %*s %1023s", mnt) == 1)
			break;
		mnt[0] = '\0';
	}
	fclose(f);
	f = fopen("/proc/self/cgroup", "r");
	ck_assert_ptr_nonnull(f);
	while (fgets(line, sizeof(line), f))
		if (strncmp(line, "0::", 3) == 0)
			snprintf(cg, sizeof(cg), "%.*s", (int)strcspn(line + 3, "\n"), line + 3);
	fclose(f);
	if (!mnt[0] || !cg[0])
		return 0;
	snprintf(dir, len, "%s%s", mnt, strcmp(cg, "/") == 0 ? "" : cg);
	return 1;
}

/*
 * --cgroup takes the processes of a cgroup and of its descendants, and no
 * other: the test's own connections, outside it, are left out. The cgroup
 * is named as a directory and as /proc/PID/cgroup names it.
 */
START_TEST(audit_takes_a_cgroup_and_its_children)
{
	struct audited a[AUDITED];
	struct sp_result r;
	struct jdoc d;
	char base[1024], top[1100], inner[1200], procs[1300], rel[1100];
	uint16_t lport;
	int hold, mine[2];
	pid_t pid;
	FILE *f;

	if (geteuid() != 0) {
		printf("SKIP audit --cgroup: moving a process between cgroups needs root\n");
		return;
	}
	ck_assert_msg(my_cgroup(base, sizeof(base)), "no cgroup2 mount or no cgroup2 entry");
	snprintf(top, sizeof(top), "%s/liveness-audit-%d", base, (int)getpid());
	snprintf(inner, sizeof(inner), "%s/inner", top);
	ck_assert_msg(mkdir(top, 0755) == 0 && mkdir(inner, 0755) == 0, "mkdir %s: %s", inner,
		      strerror(errno));
	pid = audited_child(a, &lport, &hold);
	tu_pair(&mine[0], &mine[1]); /* outside the cgroup (and not inherited by the child) */
	snprintf(procs, sizeof(procs), "%s/cgroup.procs", inner);
	f = fopen(procs, "w");
	ck_assert_ptr_nonnull(f);
	fprintf(f, "%d\n", (int)pid);
	ck_assert_msg(fclose(f) == 0, "moving the child into %s: %s", inner, strerror(errno));

	lv(&r, "audit", "--cgroup", top, "--json", NULL);
	ck_assert_msg(r.status == 0, "audit --cgroup: %d %s", r.status, r.err);
	j_parse(r.out, &d);
	ck_assert_str_eq(j_str(&d, "cgroup"), top);
	ck_assert_uint_eq(j_u64(&d, "connections"), AUDITED);
	ck_assert_uint_eq(j_u64(&d, "processes"), 1);
	for (int i = 0; i < AUDITED; i++) {
		char key[32];

		snprintf(key, sizeof(key), "list[%d].pid", i);
		ck_assert_uint_eq(j_u64(&d, key), (unsigned long long)pid);
	}
	sp_free(&r);
	/* The same cgroup as /proc/PID/cgroup names it: from the cgroup2 mount's root. */
	{
		char line[1024] = "";

		f = fopen("/proc/self/cgroup", "r");
		ck_assert_ptr_nonnull(f);
		while (fgets(line, sizeof(line), f) && strncmp(line, "0::", 3) != 0)
			;
		fclose(f);
		line[strcspn(line, "\n")] = '\0';
		snprintf(rel, sizeof(rel), "%.1000s/liveness-audit-%d",
			 strcmp(line + 3, "/") == 0 ? "" : line + 3, (int)getpid());
	}
	lv(&r, "audit", "--cgroup", rel, "--json", NULL);
	ck_assert_msg(r.status == 0, "audit --cgroup %s: %d %s", rel, r.status, r.err);
	j_parse(r.out, &d);
	ck_assert_str_eq(j_str(&d, "cgroup"), top);
	ck_assert_uint_eq(j_u64(&d, "connections"), AUDITED);
	sp_free(&r);

	audited_end(pid, hold);
	close(mine[0]);
	close(mine[1]);
	ck_assert_msg(rmdir(inner) == 0 && rmdir(top) == 0, "rmdir %s: %s", top, strerror(errno));
}
END_TEST

/* mdoc escapes that appear in the recipes' literal blocks. */
static void unescape(char *s)
{
	static const char *const from[] = {"\\&", "\\e", "\\-", "\\(aq", "\\(dq"};
	static const char *const to[] = {"", "\\", "-", "'", "\""};
	size_t i;

	for (i = 0; i < sizeof(from) / sizeof(from[0]); i++) {
		char *p;
		while ((p = strstr(s, from[i]))) {
			size_t fl = strlen(from[i]), tl = strlen(to[i]);
			memmove(p + tl, p + fl, strlen(p + fl) + 1);
			memcpy(p, to[i], tl);
		}
	}
}

/* Does line match pattern, where "..." stands for any text? Both squeezed. */
static int glob(const char *pat, const char *line)
{
	const char *dots = strstr(pat, "...");
	size_t n = dots ? (size_t)(dots - pat) : strlen(pat);

	if (!dots)
		return strcmp(pat, line) == 0;
	if (strncmp(pat, line, n) != 0)
		return 0;
	for (line += n, pat = dots + 3; *pat == ' '; pat++)
		;
	for (;; line++) {
		if (glob(pat, line))
			return 1;
		if (!*line)
			return 0;
	}
}

/* Every quoted line (after the "$ " command line) matches an output line, in order. */
static void check_recipe(const char *cmd, char **quoted, int nq, int lineno)
{
	char buf[1024], *argv[16], *tok, *save = NULL, *p, *line;
	struct sp_result r;
	int n = 0, q = 0;

	snprintf(buf, sizeof(buf), "%s", cmd);
	for (tok = strtok_r(buf, " ", &save); tok && n < 15; tok = strtok_r(NULL, " ", &save)) {
		argv[n] = n == 0 && strcmp(tok, "liveness") == 0 ? liveness() : tok;
		n++;
	}
	argv[n] = NULL;
	sp_run(argv, NULL, RUN_TIMEOUT, &r);
	ck_assert_msg(r.status == 0 || (r.status == 1 && strcmp(argv[1], "doctor") == 0),
		      "liveness.7:%d: '%s' exited %d: %s", lineno, cmd, r.status, r.err);
	for (p = r.out; q < nq && *p;) {
		size_t len = strcspn(p, "\n");
		int last = p[len] == '\0';
		line = p;
		p[len] = '\0';
		p += len + !last;
		if (glob(quoted[q], squeeze(line)))
			q++;
	}
	ck_assert_msg(q == nq, "liveness.7:%d: '%s' no longer prints (in this order):\n  %s",
		      lineno, cmd, quoted[q]);
	sp_free(&r);
}

START_TEST(recipes_quote_what_the_commands_print)
{
	FILE *f = fopen("man/liveness.7", "re");
	char line[1024], *quoted[64], cmd[1024] = "";
	int lineno = 0, in_recipe = 0, in_block = 0, nq = 0, recipes = 0, i;

	ck_assert_msg(f, "man/liveness.7 not found (run the tests from the source tree)");
	/* Recipes that run `doctor` see this namespace's defaults, as on a fresh host. */
	if (!tu_netns("liveness(7) recipes")) {
		fclose(f);
		return;
	}
	while (fgets(line, sizeof(line), f)) {
		lineno++;
		line[strcspn(line, "\n")] = '\0';
		if (strncmp(line, ".\\\" recipe", 10) == 0) {
			in_recipe = 1;
			continue;
		}
		if (in_recipe && !in_block && strncmp(line, ".Bd -literal", 12) == 0) {
			in_block = 1;
			cmd[0] = '\0';
			nq = 0;
			continue;
		}
		if (in_block && strcmp(line, ".Ed") == 0) {
			ck_assert_msg(cmd[0],
				      "liveness.7:%d: recipe block without '$ liveness ...'",
				      lineno);
			check_recipe(cmd, quoted, nq, lineno);
			for (i = 0; i < nq; i++)
				free(quoted[i]);
			recipes++;
			in_block = in_recipe = 0;
			continue;
		}
		if (!in_block)
			continue;
		unescape(line);
		squeeze(line);
		if (!cmd[0]) {
			ck_assert_msg(strncmp(line, "$ liveness ", 11) == 0,
				      "liveness.7:%d: a recipe block starts with '$ liveness ...'",
				      lineno);
			snprintf(cmd, sizeof(cmd), "%s", line + 2);
		} else if (line[0] && strcmp(line, "...") != 0) {
			ck_assert_int_lt(nq, 64);
			quoted[nq++] = strdup(line);
		}
	}
	fclose(f);
	ck_assert_msg(recipes >= 5, "liveness.7 has %d marked recipe blocks, want one per recipe",
		      recipes);
	printf("cli   liveness.7: %d recipe blocks match their commands' output\n", recipes);
}
END_TEST

START_TEST(man_pages_are_lint_clean)
{
	char *argv[] = {"mandoc",	  "-Tlint",	    "-W", "warning",
			"man/liveness.1", "man/liveness.7", NULL};
	struct sp_result r;

	sp_run(argv, NULL, RUN_TIMEOUT, &r);
	ck_assert_msg(r.status == 0, "mandoc -Tlint:\n%s%s", r.out, r.err);
	sp_free(&r);
}
END_TEST

Suite *cli_suite(void)
{
	Suite *s = suite_create("cli");
	TCase *tc = tcase_create("command");

	tcase_set_timeout(tc, 120);
	tcase_add_test(tc, plan_prints_what_the_library_plans);
	tcase_add_test(tc, a_budget_too_short_is_refused_with_the_reason);
	tcase_add_test(tc, bad_input_is_one_line_and_exit_2);
	tcase_add_test(tc, mistakes_are_named);
	tcase_add_test(tc, long_durations_are_readable);
	tcase_add_test(tc, help_for_each_command);
	tcase_add_test(tc, version_is_the_headers);
	tcase_add_test(tc, heartbeat_decides_within_the_budget);
	tcase_add_test(tc, heartbeat_lines_explain_themselves);
	tcase_add_test(tc, explicit_settings_get_bounds);
	tcase_add_test(tc, no_user_timeout_is_935_seconds_busy);
	tcase_add_test(tc, plan_json_is_documented);
	tcase_add_test(tc, doctor_json_holds_the_library_values);
	tcase_add_test(tc, output_that_cannot_be_written_fails);
	tcase_add_test(tc, systemd_drop_in);
	tcase_add_test(tc, systemd_needs_the_shim);
	tcase_add_test(tc, only_the_shim_is_preloaded);
	tcase_add_test(tc, run_sets_the_environment_and_keeps_the_exit_status);
	tcase_add_test(tc, doctor_reports_the_namespace_defaults);
	tcase_add_test(tc, doctor_says_what_bpf_would_need);
	tcase_add_test(tc, audit_reads_the_sockets_of_a_process);
	tcase_add_test(tc, audit_refuses_bad_input);
	tcase_add_test(tc, audit_takes_a_cgroup_and_its_children);
	tcase_add_test(tc, recipes_quote_what_the_commands_print);
	tcase_add_test(tc, man_pages_are_lint_clean);
	suite_add_tcase(s, tc);
	return s;
}
