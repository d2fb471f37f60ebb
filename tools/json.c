/* The reporting commands' JSON writer; see json.h. */
#include <errno.h>
#include <string.h>

#include "cli.h"
#include "json.h"

/*
 * The length of the UTF-8 sequence at s, or 0 if it is not one: a path or
 * a kernel release may hold any bytes, and JSON text must be UTF-8.
 */
static size_t utf8_len(const unsigned char *s)
{
	size_t n, i;
	unsigned cp;

	if (s[0] < 0x80)
		return 1;
	if (s[0] >= 0xc2 && s[0] <= 0xdf)
		n = 2, cp = s[0] & 0x1fu;
	else if (s[0] >= 0xe0 && s[0] <= 0xef)
		n = 3, cp = s[0] & 0x0fu;
	else if (s[0] >= 0xf0 && s[0] <= 0xf4)
		n = 4, cp = s[0] & 0x07u;
	else
		return 0;
	for (i = 1; i < n; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return 0;
		cp = cp << 6 | (s[i] & 0x3fu);
	}
	/* Overlong forms, surrogates and code points past U+10FFFF are not UTF-8. */
	if ((n == 3 && cp < 0x800) || (n == 4 && (cp < 0x10000 || cp > 0x10ffff)) ||
	    (cp >= 0xd800 && cp <= 0xdfff))
		return 0;
	return n;
}

/* s as a JSON string. */
static void put_string(FILE *f, const char *s)
{
	const unsigned char *p = (const unsigned char *)s;

	fputc('"', f);
	while (*p) {
		size_t n = utf8_len(p);

		if (*p == '"' || *p == '\\')
			fprintf(f, "\\%c", *p);
		else if (*p < 0x20)
			fprintf(f, "\\u%04x", *p);
		else if (n == 0)
			fputs("\\ufffd", f); /* a byte that is no character */
		else
			fwrite(p, 1, n, f);
		p += n ? n : 1;
	}
	fputc('"', f);
}

/*
 * The separator and indentation before a member, and its key. Returns 0
 * when nothing is to be written: JSON is off, or the object is finished.
 */
static int member(struct lvt_json *j, const char *key)
{
	int i;

	if (!j->on || j->depth == 0 || j->skip)
		return 0;
	fputs(j->members[j->depth - 1]++ ? ",\n" : "\n", j->f);
	for (i = 0; i < j->depth; i++)
		fputs("  ", j->f);
	if (key) {
		put_string(j->f, key);
		fputs(": ", j->f);
	}
	return 1;
}

static void open_container(struct lvt_json *j, const char *key, char open, char close)
{
	/* Too deep: the container and what it holds are left out, and finish says so. */
	if (j->on && j->depth >= LVT_JSON_DEPTH) {
		j->skip++;
		j->too_deep = 1;
		return;
	}
	if (!member(j, key))
		return;
	fputc(open, j->f);
	j->close[j->depth] = close;
	j->members[j->depth] = 0;
	j->depth++;
}

void lvt_json_start(struct lvt_json *j, FILE *f, int on, const char *command)
{
	memset(j, 0, sizeof(*j));
	j->f = f;
	j->on = on;
	if (!on)
		return;
	fputc('{', f);
	j->close[0] = '}';
	j->depth = 1;
	lvt_json_str(j, "command", command);
	lvt_json_str(j, "version", liveness_version());
}

void lvt_json_object(struct lvt_json *j, const char *key)
{
	open_container(j, key, '{', '}');
}

void lvt_json_array(struct lvt_json *j, const char *key)
{
	open_container(j, key, '[', ']');
}

void lvt_json_close(struct lvt_json *j)
{
	int i;

	if (!j->on || j->depth == 0)
		return;
	if (j->skip) {
		j->skip--;
		return;
	}
	j->depth--;
	/* An empty container closes on its own line: "{}" and "[]". */
	if (j->members[j->depth]) {
		fputc('\n', j->f);
		for (i = 0; i < j->depth; i++)
			fputs("  ", j->f);
	}
	fputc(j->close[j->depth], j->f);
}

int lvt_json_finish(struct lvt_json *j)
{
	if (!j->on)
		return 0;
	j->skip = 0;
	while (j->depth > 0)
		lvt_json_close(j);
	fputc('\n', j->f);
	return j->too_deep ? -EINVAL : 0;
}

void lvt_json_uint(struct lvt_json *j, const char *key, unsigned long long v)
{
	if (!member(j, key))
		return;
	fprintf(j->f, "%llu", v);
}

void lvt_json_int(struct lvt_json *j, const char *key, long long v)
{
	if (!member(j, key))
		return;
	fprintf(j->f, "%lld", v);
}

void lvt_json_ns(struct lvt_json *j, const char *key, liveness_time t)
{
	if (t == LIVENESS_NEVER)
		lvt_json_null(j, key);
	else
		lvt_json_uint(j, key, t);
}

void lvt_json_bool(struct lvt_json *j, const char *key, int v)
{
	if (!member(j, key))
		return;
	fputs(v ? "true" : "false", j->f);
}

void lvt_json_null(struct lvt_json *j, const char *key)
{
	if (!member(j, key))
		return;
	fputs("null", j->f);
}

void lvt_json_str(struct lvt_json *j, const char *key, const char *s)
{
	if (!s)
		lvt_json_null(j, key);
	else if (member(j, key))
		put_string(j->f, s);
}
