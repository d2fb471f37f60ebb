/* Durations and numbers for the command line and the shim's environment. */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "duration.h"

static const struct {
	const char *name;
	liveness_time ns;
} units[] = {
	/* Longest first, so "ms" is not read as "m" followed by junk. */
	{"ns", 1},
	{"us", LIVENESS_USEC},
	{"ms", LIVENESS_MSEC},
	{"s", LIVENESS_SEC},
	{"m", 60 * LIVENESS_SEC},
	{"h", 3600 * LIVENESS_SEC},
	{"d", 86400 * LIVENESS_SEC},
};

static int is_digit(char c)
{
	return c >= '0' && c <= '9';
}

static int fail(const char **why, const char *text, int err)
{
	if (why)
		*why = text;
	return err;
}

int lvt_parse_duration(const char *s, liveness_time *out, const char **why)
{
	liveness_time total = 0;

	if (!s || !*s)
		return fail(why, "empty duration", -EINVAL);
	/* "-5s" reaches here as an argument, not as an option: say what is wrong with it. */
	if (*s == '-' && (is_digit(s[1]) || s[1] == '.'))
		return fail(why, "not a duration: a duration cannot be negative", -EINVAL);
	if (!is_digit(*s) && !(*s == '.' && is_digit(s[1])))
		return fail(why, "not a duration: write a number and a unit, e.g. 30s, 2m, 500ms",
			    -EINVAL);
	while (*s) {
		liveness_time whole = 0, frac = 0, scale = 1, unit = 0, part;
		size_t i, n;

		if (!is_digit(*s) && *s != '.')
			return fail(why, "unexpected character in duration", -EINVAL);
		for (n = 0; is_digit(*s); s++, n++) {
			liveness_time d = (liveness_time)(*s - '0');
			if (whole > (LIVENESS_NEVER - d) / 10)
				return fail(why, "duration too long", -ERANGE);
			whole = whole * 10 + d;
		}
		if (*s == '.') {
			s++;
			if (!is_digit(*s))
				return fail(why, "a decimal point needs digits after it", -EINVAL);
			/* Nanoseconds are the resolution: digits past the ninth are dropped. */
			for (; is_digit(*s); s++, n++) {
				if (scale < 1000000000) {
					frac = frac * 10 + (liveness_time)(*s - '0');
					scale *= 10;
				}
			}
		}
		if (n == 0)
			return fail(why, "a unit needs a number before it", -EINVAL);
		for (i = 0; i < sizeof(units) / sizeof(units[0]); i++) {
			size_t len = strlen(units[i].name);
			if (strncmp(s, units[i].name, len) == 0 &&
			    !(s[len] >= 'a' && s[len] <= 'z')) {
				unit = units[i].ns;
				s += len;
				break;
			}
		}
		if (unit == 0)
			return fail(why,
				    *s ? "unknown unit: use ns, us, ms, s, m, h or d"
				       : "missing unit: use s, ms, m or h, e.g. 30s",
				    -EINVAL);
		if (whole > LIVENESS_NEVER / unit)
			return fail(why, "duration too long", -ERANGE);
		/* frac / scale of a unit, without overflow: units from 1 s up are whole seconds. */
		if (unit % LIVENESS_SEC == 0)
			part = frac * (1000000000 / scale) * (unit / LIVENESS_SEC);
		else
			part = frac * unit / scale;
		/* LIVENESS_NEVER itself means "no deadline", so it is not a duration. */
		if (whole * unit > LIVENESS_NEVER - 1 - part ||
		    total > LIVENESS_NEVER - 1 - part - whole * unit)
			return fail(why, "duration too long", -ERANGE);
		total += whole * unit + part;
	}
	*out = total;
	return 0;
}

int lvt_parse_uint(const char *s, unsigned long long max, unsigned long long *out, const char **why)
{
	unsigned long long v = 0;

	if (!s || !*s)
		return fail(why, "empty number", -EINVAL);
	for (; *s; s++) {
		if (!is_digit(*s))
			return fail(why, "not a whole number", -EINVAL);
		unsigned d = (unsigned)(*s - '0');
		if (d > max || v > (max - d) / 10)
			return fail(why, "number out of range", -ERANGE);
		v = v * 10 + d;
	}
	*out = v;
	return 0;
}

/* Hundredths of a second in t, rounded up, so that a worst case is never understated. */
static unsigned long long hundredths_up(liveness_time t)
{
	const liveness_time cs = 10 * LIVENESS_MSEC;

	return t / cs + (t % cs != 0);
}

/* Hundredths of a second as "7875 s", "57.25 s", "0.5 s". */
static void fmt_hundredths(unsigned long long c, char *buf, size_t len)
{
	if (c % 100 == 0)
		snprintf(buf, len, "%llu s", c / 100);
	else if (c % 10 == 0)
		snprintf(buf, len, "%llu.%llu s", c / 100, c % 100 / 10);
	else
		snprintf(buf, len, "%llu.%02llu s", c / 100, c % 100);
}

const char *lvt_fmt_sec(liveness_time t, char *buf, size_t len)
{
	if (t == LIVENESS_NEVER)
		snprintf(buf, len, "never");
	else
		fmt_hundredths(hundredths_up(t), buf, len);
	return buf;
}

const char *lvt_fmt_long(liveness_time t, char *buf, size_t len)
{
	static const struct {
		const char *name;
		unsigned long long hundredths;
	} parts[] = {{"d", 8640000}, {"h", 360000}, {"min", 6000}};
	unsigned long long c = hundredths_up(t), rest = c;
	char sec[32];
	size_t i, off = 0;

	/* Below an hour seconds read well enough, and a table of them lines up. */
	if (t == LIVENESS_NEVER || c < parts[1].hundredths)
		return lvt_fmt_sec(t, buf, len);
	for (i = 0; i < sizeof(parts) / sizeof(parts[0]); i++) {
		if (rest < parts[i].hundredths)
			continue;
		snprintf(buf + off, len - off, "%s%llu %s", off ? " " : "",
			 rest / parts[i].hundredths, parts[i].name);
		off += strlen(buf + off);
		rest %= parts[i].hundredths;
	}
	if (rest) {
		fmt_hundredths(rest, sec, sizeof(sec));
		snprintf(buf + off, len - off, " %s", sec);
		off += strlen(buf + off);
	}
	fmt_hundredths(c, sec, sizeof(sec));
	snprintf(buf + off, len - off, " (%s)", sec);
	return buf;
}

liveness_time lvt_duration_unit(liveness_time t, liveness_time largest, const char **name)
{
	size_t i = sizeof(units) / sizeof(units[0]) - 1;

	if (t == 0)
		largest = LIVENESS_SEC; /* "0s" says it best */
	/* units[0] is the nanosecond, which divides everything. */
	while (i > 0 && (units[i].ns > largest || t % units[i].ns != 0))
		i--;
	if (name)
		*name = units[i].name;
	return units[i].ns;
}

const char *lvt_fmt_duration(liveness_time t, char *buf, size_t len)
{
	const char *name;
	liveness_time unit = lvt_duration_unit(t, 3600 * LIVENESS_SEC, &name);

	snprintf(buf, len, "%llu%s", (unsigned long long)(t / unit), name);
	return buf;
}
