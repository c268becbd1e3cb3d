/*
 * parse.c — transcript files for `vagent wer`: sclite trn, one utterance
 * per line, and JSON; format detection and one-line "FILE:LINE: problem"
 * errors.
 */
#include <stdlib.h>
#include <string.h>
#include <errno.h>
#include <stdio.h>
#include <math.h>

#include <cjson/cJSON.h>

#include "wer/wer_int.h"

static const char *const format_names[] = { "auto", "trn", "lines", "json" };

vagent_status vagent_transcript_format_from_name(const char *name,
						 vagent_transcript_format *out)
{
	for (size_t i = 0; i < VAGENT__ARRAY_SIZE(format_names); i++) {
		if (name && !strcmp(name, format_names[i])) {
			*out = (vagent_transcript_format)i;
			return VAGENT_OK;
		}
	}
	return VAGENT_EINVAL;
}

const char *vagent_transcript_format_name(vagent_transcript_format f)
{
	if ((size_t)f < VAGENT__ARRAY_SIZE(format_names))
		return format_names[f];
	return "unknown";
}

void vagent_transcript_free(struct vagent_transcript *t)
{
	if (!t)
		return;
	free(t->utts);
	vagent__arena_free(t->arena);
	free(t);
}

/* Parser state shared by the three formats. */
struct parser {
	struct vagent_transcript *t;
	const char *data;
	size_t len;
	const char *name;
	struct vagent_error *err;
	size_t cap;
	struct vagent__interner ids;   /* duplicate detection */
};

static size_t line_at(const char *data, size_t off)
{
	size_t line = 1;

	for (size_t i = 0; i < off; i++)
		if (data[i] == '\n')
			line++;
	return line;
}

static vagent_status oom(struct parser *p)
{
	return vagent__error_set(p->err, VAGENT_ENOMEM, p->name, "out of memory");
}

/* Append an utterance; id and text are copied. */
static vagent_status add_utt(struct parser *p, const char *id, size_t idlen,
			     const char *text, size_t textlen, size_t line)
{
	struct vagent_transcript *t = p->t;
	struct vagent_utterance *u;
	int32_t k;

	if (idlen == 0)
		return vagent__error_set(p->err, VAGENT_EFORMAT, NULL,
					 "%s:%zu: empty utterance id", p->name, line);
	if (t->count == p->cap) {
		size_t cap = p->cap ? p->cap * 2 : 64;
		u = realloc(t->utts, cap * sizeof(*u));
		if (!u)
			return oom(p);
		t->utts = u;
		p->cap = cap;
	}
	u = &t->utts[t->count];
	u->id = vagent__arena_strndup(t->arena, id, idlen);
	u->text = vagent__arena_strndup(t->arena, text, textlen);
	u->line = line;
	if (!u->id || !u->text)
		return oom(p);
	k = vagent__intern(&p->ids, u->id, idlen);
	if (k < 0)
		return oom(p);
	if ((size_t)k < t->count)
		return vagent__error_set(p->err, VAGENT_EFORMAT, NULL,
					 "%s:%zu: duplicate utterance id '%s' (first on line %zu)",
					 p->name, line, u->id, t->utts[k].line);
	t->count++;
	return VAGENT_OK;
}

/* Reject NUL bytes and invalid UTF-8 before any format looks at the text. */
static vagent_status check_encoding(struct parser *p)
{
	const unsigned char *d = (const unsigned char *)p->data;
	size_t i = 0, line = 1;

	while (i < p->len) {
		uint32_t cp;
		size_t n;
		if (d[i] == '\n') {
			line++;
			i++;
			continue;
		}
		if (d[i] == 0)
			return vagent__error_set(p->err, VAGENT_EFORMAT, NULL,
						 "%s:%zu: NUL byte in text", p->name, line);
		if (d[i] < 0x80) {
			i++;
			continue;
		}
		n = vagent__utf8_decode(d + i, p->len - i, &cp);
		if (n == 0)
			return vagent__error_set(p->err, VAGENT_EFORMAT, NULL,
						 "%s:%zu: invalid UTF-8 (byte 0x%02x)", p->name, line, d[i]);
		i += n;
	}
	return VAGENT_OK;
}

static int is_blank(char c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\v' || c == '\f';
}

/* The line starting at `off`: its length without '\n' and trailing '\r'. */
static size_t line_len(const struct parser *p, size_t off, size_t *next)
{
	const char *nl = memchr(p->data + off, '\n', p->len - off);
	size_t end = nl ? (size_t)(nl - p->data) : p->len;

	*next = nl ? end + 1 : p->len;
	if (end > off && p->data[end - 1] == '\r')
		end--;
	return end - off;
}

static void trim(const char **s, size_t *n)
{
	while (*n && is_blank(**s)) {
		(*s)++;
		(*n)--;
	}
	while (*n && is_blank((*s)[*n - 1]))
		(*n)--;
}

/* sclite skips blank lines and ";;" comments in trn files. */
static int trn_skip(const char *s, size_t n)
{
	return n == 0 || (n >= 2 && s[0] == ';' && s[1] == ';');
}

static int trn_has_id(const char *s, size_t n)
{
	return n >= 2 && s[n - 1] == ')' && memchr(s, '(', n - 1);
}

static vagent_status parse_trn(struct parser *p)
{
	size_t off = 0, next, line = 1;
	vagent_status st;

	for (; off < p->len; off = next, line++) {
		const char *s = p->data + off, *lp;
		size_t n = line_len(p, off, &next), textlen;

		trim(&s, &n);
		if (trn_skip(s, n))
			continue;
		if (n == 0 || s[n - 1] != ')') {
			if (memchr(s, '(', n) && memchr(s, ')', n))
				return vagent__error_set(p->err, VAGENT_EFORMAT, NULL,
							 "%s:%zu: text after the utterance id (a trn line ends with '(id)')", p->name, line);
			return vagent__error_set(p->err, VAGENT_EFORMAT, NULL,
						 "%s:%zu: missing utterance id (a trn line ends with '(id)')", p->name, line);
		}
		/* The id is the last parenthesised group, as sclite reads it. */
		for (lp = s + n - 1; lp > s && *lp != '('; lp--)
			;
		if (*lp != '(')
			return vagent__error_set(p->err, VAGENT_EFORMAT, NULL,
						 "%s:%zu: unbalanced ')' (a trn line ends with '(id)')", p->name, line);
		textlen = (size_t)(lp - s);
		while (textlen && is_blank(s[textlen - 1]))
			textlen--;
		{
			const char *id = lp + 1;
			size_t idlen = (size_t)(s + n - 1 - id);
			trim(&id, &idlen);
			st = add_utt(p, id, idlen, s, textlen, line);
			if (st)
				return st;
		}
	}
	return VAGENT_OK;
}

static vagent_status parse_lines(struct parser *p)
{
	size_t off = 0, next, line = 1;
	char id[32];

	for (; off < p->len; off = next, line++) {
		size_t n = line_len(p, off, &next);
		int idlen = snprintf(id, sizeof(id), "%zu", line);
		vagent_status st = add_utt(p, id, (size_t)idlen, p->data + off, n, line);
		if (st)
			return st;
	}
	return VAGENT_OK;
}

/* ------------------------------------------------------------------ */
/* JSON */

/*
 * cJSON does not say where a value came from, so a small scanner over the
 * (already validated) text finds the line of each element of a container.
 * `start` is the offset of its '[' or '{'. Fills lines[0..count) for up
 * to `max` elements (object members: the key's line).
 */
static void element_lines(const char *d, size_t len, size_t start, size_t *lines, size_t max)
{
	size_t line = line_at(d, start), k = 0;
	int depth = 0, in_str = 0, want = 0;

	for (size_t i = start; i < len; i++) {
		char c = d[i];
		if (c == '\n')
			line++;
		if (in_str) {
			if (c == '\\')
				i++;
			else if (c == '"')
				in_str = 0;
			continue;
		}
		if (c == ' ' || c == '\t' || c == '\r' || c == '\n')
			continue;
		if (want && depth == 1 && c != ']' && c != '}') {
			if (k < max)
				lines[k] = line;
			k++;
		}
		want = 0;
		if (c == '"') {
			in_str = 1;
		} else if (c == '[' || c == '{') {
			if (++depth == 1)
				want = 1;
		} else if (c == ']' || c == '}') {
			if (--depth == 0)
				return;
		} else if (c == ',' && depth == 1) {
			want = 1;
		}
	}
}

/* Offset of the value of root member `key` (a plain key, no escapes). */
static size_t member_value_offset(const char *d, size_t len, size_t start, const char *key)
{
	size_t klen = strlen(key);
	int depth = 0, in_str = 0;
	size_t str_start = 0, last_key = (size_t)-1;

	for (size_t i = start; i < len; i++) {
		char c = d[i];
		if (in_str) {
			if (c == '\\') {
				i++;
			} else if (c == '"') {
				in_str = 0;
				if (depth == 1 && i - str_start - 1 == klen &&
				    !memcmp(d + str_start + 1, key, klen))
					last_key = str_start;
				else
					last_key = (size_t)-1;
			}
			continue;
		}
		if (c == '"') {
			in_str = 1;
			str_start = i;
		} else if (c == ':' && depth == 1 && last_key != (size_t)-1) {
			i++;
			while (i < len && (d[i] == ' ' || d[i] == '\t' || d[i] == '\r' || d[i] == '\n'))
				i++;
			return i;
		} else if (c == '[' || c == '{') {
			depth++;
		} else if (c == ']' || c == '}') {
			if (--depth == 0)
				break;
		} else if (c != ' ' && c != '\t' && c != '\r' && c != '\n') {
			last_key = (size_t)-1;
		}
	}
	return (size_t)-1;
}

static vagent_status json_array(struct parser *p, const cJSON *arr, size_t start)
{
	size_t n = (size_t)cJSON_GetArraySize(arr), i = 0;
	size_t *lines = calloc(n + 1, sizeof(*lines));
	vagent_status st = VAGENT_OK;
	const cJSON *el;

	if (!lines)
		return oom(p);
	element_lines(p->data, p->len, start, lines, n);
	cJSON_ArrayForEach(el, arr) {
		size_t line = lines[i];
		char idbuf[32];
		const char *id;
		const cJSON *jid, *jtext;

		i++;
		if (cJSON_IsString(el)) {
			snprintf(idbuf, sizeof(idbuf), "%zu", i);
			st = add_utt(p, idbuf, strlen(idbuf), el->valuestring,
				     strlen(el->valuestring), line);
			if (st)
				break;
			continue;
		}
		if (!cJSON_IsObject(el)) {
			st = vagent__error_set(p->err, VAGENT_EFORMAT, NULL,
					       "%s:%zu: utterance %zu: expected an object with \"id\" and \"text\" or a string",
					       p->name, line, i);
			break;
		}
		jid = cJSON_GetObjectItemCaseSensitive(el, "id");
		jtext = cJSON_GetObjectItemCaseSensitive(el, "text");
		if (cJSON_IsString(jid)) {
			id = jid->valuestring;
		} else if (cJSON_IsNumber(jid) && jid->valuedouble == floor(jid->valuedouble) &&
			   fabs(jid->valuedouble) < 1e15) {
			snprintf(idbuf, sizeof(idbuf), "%.0f", jid->valuedouble);
			id = idbuf;
		} else {
			st = vagent__error_set(p->err, VAGENT_EFORMAT, NULL,
					       "%s:%zu: utterance %zu: id: %s", p->name, line, i,
					       jid ? "expected a string or an integer" : "missing");
			break;
		}
		if (!cJSON_IsString(jtext)) {
			st = vagent__error_set(p->err, VAGENT_EFORMAT, NULL,
					       "%s:%zu: utterance %zu: text: %s", p->name, line, i,
					       jtext ? "expected a string" : "missing");
			break;
		}
		st = add_utt(p, id, strlen(id), jtext->valuestring, strlen(jtext->valuestring), line);
		if (st)
			break;
	}
	free(lines);
	return st;
}

static vagent_status json_map(struct parser *p, const cJSON *obj, size_t start)
{
	size_t n = (size_t)cJSON_GetArraySize(obj), i = 0;
	size_t *lines = calloc(n + 1, sizeof(*lines));
	vagent_status st = VAGENT_OK;
	const cJSON *el;

	if (!lines)
		return oom(p);
	element_lines(p->data, p->len, start, lines, n);
	cJSON_ArrayForEach(el, obj) {
		size_t line = lines[i++];
		if (!cJSON_IsString(el)) {
			st = vagent__error_set(p->err, VAGENT_EFORMAT, NULL,
					       "%s:%zu: \"%s\": expected a string (the utterance text)",
					       p->name, line, el->string);
			break;
		}
		st = add_utt(p, el->string, strlen(el->string), el->valuestring,
			     strlen(el->valuestring), line);
		if (st)
			break;
	}
	free(lines);
	return st;
}

static vagent_status parse_json(struct parser *p)
{
	const char *end = NULL;
	cJSON *root = cJSON_ParseWithLengthOpts(p->data, p->len, &end, 0);
	vagent_status st;
	size_t start = 0;

	if (!root) {
		size_t off = end && end >= p->data && end <= p->data + p->len ?
			     (size_t)(end - p->data) : 0;
		return vagent__error_set(p->err, VAGENT_EFORMAT, NULL,
					 "%s:%zu: invalid JSON", p->name, line_at(p->data, off));
	}
	/* Only whitespace may follow the document. */
	for (size_t i = (size_t)(end - p->data); i < p->len; i++) {
		if (!is_blank(p->data[i]) && p->data[i] != '\n') {
			cJSON_Delete(root);
			return vagent__error_set(p->err, VAGENT_EFORMAT, NULL,
						 "%s:%zu: invalid JSON (data after the document)",
						 p->name, line_at(p->data, i));
		}
	}
	while (start < p->len && p->data[start] != '[' && p->data[start] != '{')
		start++;
	if (cJSON_IsArray(root)) {
		st = json_array(p, root, start);
	} else if (cJSON_IsObject(root)) {
		const cJSON *u = cJSON_GetObjectItemCaseSensitive(root, "utterances");
		if (cJSON_IsArray(u)) {
			size_t off = member_value_offset(p->data, p->len, start, "utterances");
			st = json_array(p, u, off == (size_t)-1 ? start : off);
		} else {
			st = json_map(p, root, start);
		}
	} else {
		st = vagent__error_set(p->err, VAGENT_EFORMAT, NULL,
				       "%s:%zu: expected a JSON array or object of utterances",
				       p->name, line_at(p->data, start));
	}
	cJSON_Delete(root);
	return st;
}

/* trn when the first line that is not blank or a ";;" comment ends in
 * "(id)"; JSON when the text starts with '[' or '{'; else lines. */
static vagent_transcript_format detect(const struct parser *p)
{
	size_t off = 0, next;

	while (off < p->len && (is_blank(p->data[off]) || p->data[off] == '\n'))
		off++;
	if (off < p->len && (p->data[off] == '[' || p->data[off] == '{'))
		return VAGENT_TRANSCRIPT_JSON;
	for (off = 0; off < p->len; off = next) {
		const char *s = p->data + off;
		size_t n = line_len(p, off, &next);
		trim(&s, &n);
		if (trn_skip(s, n))
			continue;
		return trn_has_id(s, n) ? VAGENT_TRANSCRIPT_TRN : VAGENT_TRANSCRIPT_LINES;
	}
	return VAGENT_TRANSCRIPT_LINES;
}

vagent_status vagent_transcript_parse(const char *data, size_t len,
				      const char *name,
				      vagent_transcript_format format,
				      struct vagent_transcript **out,
				      struct vagent_error *err)
{
	struct parser p;
	vagent_status st = VAGENT_ENOMEM;

	memset(&p, 0, sizeof(p));
	vagent__interner_init(&p.ids);
	*out = NULL;
	p.name = name ? name : "transcript";
	p.err = err;
	/* A UTF-8 byte order mark is not text. */
	if (len >= 3 && !memcmp(data, "\xef\xbb\xbf", 3)) {
		data += 3;
		len -= 3;
	}
	p.data = data;
	p.len = len;
	p.t = calloc(1, sizeof(*p.t));
	if (!p.t || !(p.t->arena = vagent__arena_new()) ||
	    !(p.t->name = vagent__arena_strndup(p.t->arena, p.name, strlen(p.name)))) {
		st = oom(&p);
		goto out;
	}
	st = check_encoding(&p);
	if (st)
		goto out;
	if (format == VAGENT_TRANSCRIPT_AUTO)
		format = detect(&p);
	p.t->format = format;
	switch (format) {
	case VAGENT_TRANSCRIPT_TRN:
		st = parse_trn(&p);
		break;
	case VAGENT_TRANSCRIPT_LINES:
		st = parse_lines(&p);
		break;
	case VAGENT_TRANSCRIPT_JSON:
		st = parse_json(&p);
		break;
	default:
		st = vagent__error_set(err, VAGENT_EINVAL, p.name, "unknown transcript format");
		break;
	}
	if (st == VAGENT_OK) {
		*out = p.t;
		p.t = NULL;
	}
out:
	vagent_transcript_free(p.t);
	vagent__interner_release(&p.ids);
	return st;
}

vagent_status vagent_transcript_load(const char *path,
				     vagent_transcript_format format,
				     struct vagent_transcript **out,
				     struct vagent_error *err)
{
	FILE *f = NULL;
	char *buf = NULL;
	size_t len = 0, cap = 0;
	vagent_status st;

	*out = NULL;
	f = fopen(path, "rb");
	if (!f)
		return vagent__error_open_input(err, errno, path);
	for (;;) {
		size_t n;
		if (cap - len < 65536) {
			char *nb = realloc(buf, cap ? cap * 2 : 65536 + 1);
			if (!nb) {
				st = vagent__error_set(err, VAGENT_ENOMEM, path, "out of memory");
				goto out;
			}
			buf = nb;
			cap = cap ? cap * 2 : 65536 + 1;
		}
		n = fread(buf + len, 1, cap - len - 1, f);
		len += n;
		if (n == 0)
			break;
	}
	if (ferror(f)) {
		/* A directory opens but does not read: that is a bad argument. */
		int e = errno;
		st = e == EISDIR ? vagent__error_set(err, VAGENT_EINVAL, path, "is a directory")
				 : vagent__error_set(err, VAGENT_EIO, path, "read failed: %s",
						     strerror(e));
		goto out;
	}
	st = vagent_transcript_parse(buf, len, path, format, out, err);
out:
	free(buf);
	if (f)
		fclose(f);
	return st;
}
