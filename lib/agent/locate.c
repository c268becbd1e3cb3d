/*
 * locate.c — line numbers for JSON values. cJSON keeps none, so the agent
 * file's messages find the line of a value by its path ("flow.intents[3]
 * .slots[0].type") with a small scanner over the text (docs/agent.md).
 */
#include <stdlib.h>
#include <string.h>

#include "agent/agent_int.h"

struct scan {
	const char *p, *end;
	int line;
};

/* Whitespace as cJSON skips it: every byte up to the space. */
static void skip_ws(struct scan *s)
{
	while (s->p < s->end && (unsigned char)*s->p <= 32) {
		if (*s->p == '\n')
			s->line++;
		s->p++;
	}
}

/* Skip a string at s->p (on its opening quote); its raw content (without
 * the quotes, escapes undecoded) in start and len. */
static void skip_string(struct scan *s, const char **start, size_t *len)
{
	const char *b;

	s->p++;
	b = s->p;
	while (s->p < s->end && *s->p != '"') {
		if (*s->p == '\\' && s->p + 1 < s->end)
			s->p++;
		if (*s->p == '\n')
			s->line++;
		s->p++;
	}
	if (start)
		*start = b;
	if (len)
		*len = (size_t)(s->p - b);
	if (s->p < s->end)
		s->p++;
}

static void skip_value(struct scan *s, int depth)
{
	skip_ws(s);
	if (s->p >= s->end)
		return;
	if (*s->p == '"') {
		skip_string(s, NULL, NULL);
	} else if (*s->p == '{' || *s->p == '[') {
		char close = *s->p == '{' ? '}' : ']';

		s->p++;
		if (depth > 200) {
			s->p = s->end;
			return;
		}
		for (;;) {
			skip_ws(s);
			if (s->p >= s->end)
				return;
			if (*s->p == close) {
				s->p++;
				return;
			}
			if (*s->p == ',' || *s->p == ':') {
				s->p++;
				continue;
			}
			{
				const char *before = s->p;

				skip_value(s, depth + 1);
				if (s->p == before)  /* not JSON: move on */
					s->p++;
			}
		}
	} else {
		while (s->p < s->end && (unsigned char)*s->p > 32 &&
		       !strchr(",:]}", *s->p))
			s->p++;
	}
}

/* Skip a value; false when nothing could be skipped (not JSON here). */
static bool skip_progress(struct scan *s)
{
	const char *before = s->p;

	skip_value(s, 0);
	return s->p != before;
}

/* The next component of `path`: a key (*is_index false) or an index. */
static const char *next_component(const char *path, const char **key,
				  size_t *klen, long *index, bool *is_index)
{
	if (*path == '.')
		path++;
	if (*path == '[') {
		char *end;

		*is_index = true;
		*index = strtol(path + 1, &end, 10);
		path = end;
		if (*path == ']')
			path++;
		return path;
	}
	*is_index = false;
	*key = path;
	while (*path && *path != '.' && *path != '[')
		path++;
	*klen = (size_t)(path - *key);
	return path;
}

int vagent__json_line(const char *text, size_t len, const char *path)
{
	struct scan s = { text, text + len, 1 };

	skip_ws(&s);
	while (path && *path) {
		const char *key = NULL;
		size_t klen = 0;
		long index = 0, i;
		bool is_index, found = false;
		int here = s.line;

		path = next_component(path, &key, &klen, &index, &is_index);
		if (s.p >= s.end)
			break;
		if (is_index && *s.p == '[') {
			s.p++;
			for (i = 0;; i++) {
				skip_ws(&s);
				if (s.p >= s.end || *s.p == ']')
					break;
				if (i == index) {
					found = true;
					break;
				}
				if (!skip_progress(&s))
					break;
				skip_ws(&s);
				if (s.p < s.end && *s.p == ',')
					s.p++;
			}
		} else if (!is_index && *s.p == '{') {
			s.p++;
			for (;;) {
				const char *k;
				size_t kl;

				skip_ws(&s);
				if (s.p >= s.end || *s.p != '"')
					break;
				skip_string(&s, &k, &kl);
				skip_ws(&s);
				if (s.p < s.end && *s.p == ':')
					s.p++;
				skip_ws(&s);
				if (kl == klen && memcmp(k, key, kl) == 0) {
					found = true;
					break;
				}
				if (!skip_progress(&s))
					break;
				skip_ws(&s);
				if (s.p < s.end && *s.p == ',')
					s.p++;
			}
		}
		if (!found)
			return here;
	}
	return s.line;
}
