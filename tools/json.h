/*
 * The JSON of the reporting commands' --json: one object on stdout, written
 * as the command goes, numbers as integers whose unit the key names
 * ("idle_s", "user_timeout_ms", "bound_idle_ns"), LIVENESS_NEVER and
 * unknown values as null. A command writes its text and its JSON from the
 * same code: every call does nothing unless the writer was started with
 * on set, so a report is computed once and told either way.
 */
#ifndef LIVENESS_TOOLS_JSON_H
#define LIVENESS_TOOLS_JSON_H

#include <stdio.h>

#include "liveness.h"

#define LVT_JSON_DEPTH 16

struct lvt_json {
	FILE *f;
	int on;			     /* 0: every call below does nothing */
	int depth;		     /* containers open, the top-level object included */
	char close[LVT_JSON_DEPTH];  /* '}' or ']' for each open container */
	int members[LVT_JSON_DEPTH]; /* members written so far in each */
	int skip;		     /* containers opened past LVT_JSON_DEPTH, left out */
	int too_deep;		     /* one was: the output lacks them */
};

/*
 * Open the top-level object on f, with the keys every command's object
 * starts with: "command" (its name) and "version" (liveness --version's).
 */
void lvt_json_start(struct lvt_json *j, FILE *f, int on, const char *command);
/*
 * Close every open container and end the line. Returns 0, or -EINVAL if a
 * container was nested deeper than LVT_JSON_DEPTH (it was left out).
 * Whether f took it all is the caller's to check (ferror), as for text.
 */
int lvt_json_finish(struct lvt_json *j);

/*
 * Members. key names the member inside an object and is NULL for an
 * element of an array.
 */
void lvt_json_object(struct lvt_json *j, const char *key); /* opens {, up to lvt_json_close() */
void lvt_json_array(struct lvt_json *j, const char *key);  /* opens [ */
void lvt_json_close(struct lvt_json *j);
void lvt_json_uint(struct lvt_json *j, const char *key, unsigned long long v);
void lvt_json_int(struct lvt_json *j, const char *key, long long v);
/* Nanoseconds; LIVENESS_NEVER is null. */
void lvt_json_ns(struct lvt_json *j, const char *key, liveness_time t);
void lvt_json_bool(struct lvt_json *j, const char *key, int v);
void lvt_json_null(struct lvt_json *j, const char *key);
/* A string, escaped; NULL is null. */
void lvt_json_str(struct lvt_json *j, const char *key, const char *s);

#endif
