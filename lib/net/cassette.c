/*
 * cassette.c — provider cassettes (docs/cassettes.md): every HTTP and
 * WebSocket exchange of a call recorded as one JSON line of
 * DIR/<call>/cassette.jsonl (request, redacted headers, body, response
 * chunks or messages with their offsets), and played back on loop timers
 * at the recorded offsets with no network, a request matched to the next
 * unused recorded exchange of the same provider, method, URL and body.
 */
#include <errno.h>
#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <time.h>

#include <cjson/cJSON.h>

#include "net/cassette_int.h"
#include "net/http_stream_int.h"

#define WHERE "cassette"
#define FILE_NAME "cassette.jsonl"
#define MAX_SECRETS 32

struct vagent_cassette {
	pthread_mutex_t mu;
	int refs;
	bool replay;
	char *path;                 /* the cassette file */
	char *call;                 /* the call's name, for messages */
	FILE *out;                  /* recording */
	size_t written;             /* recording: exchanges written */
	size_t next_seq;            /* requests so far (both modes) */
	char *failure;              /* recording: first write failure */
	char *miss;                 /* replay: first miss */
	size_t misses;
	/* replay: the recorded exchanges in request order, and which are used */
	cJSON **ex;
	bool *used;
	size_t n_ex;
	cJSON *root;                /* owns ex[] (an array) */
	/* recording: values never to be written */
	char *secrets[MAX_SECRETS];
	size_t n_secrets;
};

static _Thread_local struct vagent_cassette *bound;

/* ---- small helpers ---------------------------------------------------- */

static double ticks_to_ms(int64_t t)
{
	return round((double)t * 1000.0 / (double)VAGENT_TICKS_PER_MS) / 1000.0;
}

static int64_t ms_to_ticks(double ms)
{
	if (!(ms >= 0))
		return 0;
	if (ms > 86400000.0)
		ms = 86400000.0;
	return llround(ms * (double)VAGENT_TICKS_PER_MS);
}

static bool sensitive_name(const char *name, size_t n)
{
	char low[64];

	if (n >= sizeof(low))
		n = sizeof(low) - 1;
	for (size_t i = 0; i < n; i++)
		low[i] = (char)((name[i] >= 'A' && name[i] <= 'Z') ? name[i] + 32 : name[i]);
	low[n] = '\0';
	return !strcmp(low, "authorization") || !strcmp(low, "cookie") ||
	       strstr(low, "key") || strstr(low, "token") || strstr(low, "secret") ||
	       strstr(low, "signature") || strstr(low, "password");
}

static void add_secret(struct vagent_cassette *c, const char *v, size_t n)
{
	/* short words ("Bearer", "Token") are not keys */
	if (n < 8 || c->n_secrets >= MAX_SECRETS)
		return;
	for (size_t i = 0; i < c->n_secrets; i++)
		if (strlen(c->secrets[i]) == n && !memcmp(c->secrets[i], v, n))
			return;
	if ((c->secrets[c->n_secrets] = strndup(v, n)))
		c->n_secrets++;
}

/* A header value's secrets: the whole value and each word of it ("Bearer
 * sk-..." -> "sk-..."). */
static void add_secret_words(struct vagent_cassette *c, const char *v)
{
	size_t n;

	while (*v == ' ')
		v++;
	add_secret(c, v, strcspn(v, "\r\n"));
	while (*v) {
		n = strcspn(v, " \t\r\n");
		add_secret(c, v, n);
		v += n;
		v += strspn(v, " \t\r\n");
	}
}

/* The URL without credentials: user:password@ dropped, the values of
 * key/token query parameters replaced by <redacted> (kept as secrets
 * when `c`). malloc'd. */
static char *url_clean(struct vagent_cassette *c, const char *url)
{
	struct vagent__strbuf b = { 0 };
	const char *s = strstr(url, "://"), *host, *at, *q, *end;

	host = s ? s + 3 : url;
	end = host + strcspn(host, "/?#");
	at = memchr(host, '@', (size_t)(end - host));
	vagent__strbuf_put(&b, url, (size_t)(host - url));
	if (at)
		host = at + 1;
	q = strchr(host, '?');
	if (!q) {
		vagent__strbuf_puts(&b, host);
		return vagent__strbuf_detach(&b);
	}
	vagent__strbuf_put(&b, host, (size_t)(q + 1 - host));
	for (const char *p = q + 1; *p;) {
		size_t n = strcspn(p, "&#"), name = strcspn(p, "=&#");

		if (name < n && sensitive_name(p, name)) {
			if (c)
				add_secret(c, p + name + 1, n - name - 1);
			vagent__strbuf_put(&b, p, name + 1);
			vagent__strbuf_puts(&b, "<redacted>");
		} else {
			vagent__strbuf_put(&b, p, n);
		}
		p += n;
		if (*p) {
			vagent__strbuf_put(&b, p, 1);
			p++;
		}
	}
	return vagent__strbuf_detach(&b);
}

/* The path of a URL for messages (no scheme, host or query). */
static void url_path(const char *url, char *out, size_t size)
{
	const char *s = strstr(url, "://"), *p;

	p = s ? s + 3 + strcspn(s + 3, "/?") : url;
	snprintf(out, size, "%.*s", (int)strcspn(*p ? p : "/", "?#"), *p ? p : "/");
}

static bool valid_utf8_text(const unsigned char *s, size_t n)
{
	for (size_t i = 0; i < n;) {
		unsigned char ch = s[i];
		size_t k;

		if (ch == 0)
			return false;
		if (ch < 0x80) {
			i++;
			continue;
		}
		if ((ch & 0xE0) == 0xC0 && ch >= 0xC2)
			k = 1;
		else if ((ch & 0xF0) == 0xE0)
			k = 2;
		else if ((ch & 0xF8) == 0xF0 && ch <= 0xF4)
			k = 3;
		else
			return false;
		for (size_t j = 1; j <= k; j++)
			if (i + j >= n || (s[i + j] & 0xC0) != 0x80)
				return false;
		i += k + 1;
	}
	return true;
}

static const char b64[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

static char *base64_encode(const unsigned char *s, size_t n)
{
	char *out = malloc((n + 2) / 3 * 4 + 1), *o = out;

	if (!out)
		return NULL;
	for (size_t i = 0; i < n; i += 3) {
		unsigned v = (unsigned)s[i] << 16;

		if (i + 1 < n)
			v |= (unsigned)s[i + 1] << 8;
		if (i + 2 < n)
			v |= s[i + 2];
		*o++ = b64[(v >> 18) & 63];
		*o++ = b64[(v >> 12) & 63];
		*o++ = i + 1 < n ? b64[(v >> 6) & 63] : '=';
		*o++ = i + 2 < n ? b64[v & 63] : '=';
	}
	*o = '\0';
	return out;
}

/* false for anything but padded base64. */
static bool base64_decode(const char *s, unsigned char **out, size_t *len)
{
	size_t n = strlen(s), k = 0;
	unsigned char *b;

	*out = NULL;
	*len = 0;
	if (n % 4)
		return false;
	b = malloc(n / 4 * 3 + 1);
	if (!b)
		return false;
	for (size_t i = 0; i < n; i += 4) {
		unsigned v = 0;
		int pad = 0;

		for (int j = 0; j < 4; j++) {
			const char *p = s[i + j] ? strchr(b64, s[i + j]) : NULL;

			if (s[i + j] == '=' && i + 4 == n && j >= 2) {
				pad++;
				v <<= 6;
				continue;
			}
			if (!p || pad) {
				free(b);
				return false;
			}
			v = (v << 6) | (unsigned)(p - b64);
		}
		b[k++] = (unsigned char)(v >> 16);
		if (pad < 2)
			b[k++] = (unsigned char)(v >> 8);
		if (pad < 1)
			b[k++] = (unsigned char)v;
	}
	*out = b;
	*len = k;
	return true;
}

/* Bytes as a JSON member: {"text": ...} when UTF-8 text, else
 * {"base64": ...}. */
static bool add_bytes(cJSON *o, const void *data, size_t n)
{
	char *s;
	cJSON *v;

	if (valid_utf8_text(data, n)) {
		s = strndup(data, n);
		v = s ? cJSON_AddStringToObject(o, "text", s) : NULL;
	} else {
		s = base64_encode(data, n);
		v = s ? cJSON_AddStringToObject(o, "base64", s) : NULL;
	}
	free(s);
	return v != NULL;
}

/* The bytes of a recorded chunk or message (malloc'd, NUL-terminated). */
static char *get_bytes(const cJSON *o, size_t *n, bool *binary)
{
	const cJSON *t = cJSON_GetObjectItemCaseSensitive(o, "text");
	const cJSON *b = cJSON_GetObjectItemCaseSensitive(o, "base64");
	unsigned char *d;

	*binary = false;
	if (cJSON_IsString(t)) {
		*n = strlen(t->valuestring);
		return strdup(t->valuestring);
	}
	if (cJSON_IsString(b) && base64_decode(b->valuestring, &d, n)) {
		d[*n] = '\0';
		*binary = true;
		return (char *)d;
	}
	return NULL;
}

static double num(const cJSON *o, const char *name, double dflt)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, name);

	return cJSON_IsNumber(v) ? v->valuedouble : dflt;
}

static const char *str(const cJSON *o, const char *name)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, name);

	return cJSON_IsString(v) ? v->valuestring : NULL;
}

/* ---- the first difference between two JSON values --------------------- */

static void path_key(char *path, size_t size, const char *key)
{
	size_t l = strlen(path);

	snprintf(path + l, size - l, "%s%s", l ? "." : "", key);
}

static void path_index(char *path, size_t size, int i)
{
	size_t l = strlen(path);

	snprintf(path + l, size - l, "[%d]", i);
}

/* Replace the string values of key-bearing members ("api_key",
 * "xi_api_key", "token", ...) with "<redacted>", anywhere in `j`; their
 * values become the cassette's secrets when `c` (call with c->mu held). */
static void redact_json(struct vagent_cassette *c, cJSON *j)
{
	for (cJSON *e = j ? j->child : NULL; e; e = e->next) {
		if (e->string && cJSON_IsString(e) &&
		    sensitive_name(e->string, strlen(e->string)) &&
		    strcmp(e->valuestring, "<redacted>")) {
			if (c)
				add_secret(c, e->valuestring, strlen(e->valuestring));
			cJSON_SetValuestring(e, "<redacted>");
		} else if (cJSON_IsObject(e) || cJSON_IsArray(e)) {
			redact_json(c, e);
		}
	}
}

/* true when equal; else `path` names the first difference. */
static bool json_same(const cJSON *a, const cJSON *b, char *path, size_t size)
{
	size_t l = strlen(path);

	if ((a->type & 0xFF) != (b->type & 0xFF))
		return false;
	if (cJSON_IsNumber(a))
		return a->valuedouble == b->valuedouble;
	if (cJSON_IsString(a))
		return !strcmp(a->valuestring, b->valuestring);
	if (cJSON_IsArray(a)) {
		int na = cJSON_GetArraySize(a), nb = cJSON_GetArraySize(b);
		const cJSON *x = a->child, *y = b->child;

		for (int i = 0; x && y; i++, x = x->next, y = y->next) {
			path_index(path, size, i);
			if (!json_same(x, y, path, size))
				return false;
			path[l] = '\0';
		}
		if (na != nb) {
			path_index(path, size, na < nb ? na : nb);
			return false;
		}
		return true;
	}
	if (cJSON_IsObject(a)) {
		for (const cJSON *x = a->child; x; x = x->next) {
			const cJSON *y = cJSON_GetObjectItemCaseSensitive(b, x->string);

			path_key(path, size, x->string ? x->string : "");
			if (!y || !json_same(x, y, path, size))
				return false;
			path[l] = '\0';
		}
		for (const cJSON *y = b->child; y; y = y->next)
			if (!cJSON_GetObjectItemCaseSensitive(a, y->string)) {
				path_key(path, size, y->string ? y->string : "");
				return false;
			}
		return true;
	}
	return true;                    /* null, true, false: the type says it */
}

/* Compare a request body with a recorded one ("body" JSON, or
 * "body_text"); true when they match, else `why` says where. */
static bool body_same(const char *body, const cJSON *rec, char *why, size_t size)
{
	const cJSON *rb = cJSON_GetObjectItemCaseSensitive(rec, "body");
	const char *rt = str(rec, "body_text");
	cJSON *now;
	char path[256] = "";
	bool same;

	if (!body)
		body = "";
	if (!rb) {
		if (!strcmp(body, rt ? rt : ""))
			return true;
		snprintf(why, size, "the body differs from the recording");
		return false;
	}
	now = cJSON_Parse(body);
	redact_json(NULL, now);          /* the recording's were redacted */
	if (!now) {
		snprintf(why, size, "the body is not JSON, the recording's is");
		return false;
	}
	same = json_same(now, rb, path, sizeof(path));
	cJSON_Delete(now);
	if (!same)
		snprintf(why, size, "body differs from the recording at %s",
			 path[0] ? path : "its top level");
	return same;
}

/* ---- the cassette ----------------------------------------------------- */

static struct vagent_cassette *cassette_new(bool replay)
{
	struct vagent_cassette *c = calloc(1, sizeof(*c));

	if (!c)
		return NULL;
	pthread_mutex_init(&c->mu, NULL);
	c->refs = 1;
	c->replay = replay;
	return c;
}

static void cassette_free(struct vagent_cassette *c)
{
	if (c->out)
		fclose(c->out);
	for (size_t i = 0; i < c->n_secrets; i++) {
		memset(c->secrets[i], 0, strlen(c->secrets[i]));
		free(c->secrets[i]);
	}
	cJSON_Delete(c->root);
	free(c->ex);
	free(c->used);
	free(c->path);
	free(c->call);
	free(c->failure);
	free(c->miss);
	pthread_mutex_destroy(&c->mu);
	free(c);
}

void vagent_cassette_unref(struct vagent_cassette *c)
{
	bool last;

	if (!c)
		return;
	pthread_mutex_lock(&c->mu);
	last = --c->refs == 0;
	pthread_mutex_unlock(&c->mu);
	if (last)
		cassette_free(c);
}

static struct vagent_cassette *cassette_ref(struct vagent_cassette *c)
{
	if (!c)
		return NULL;
	pthread_mutex_lock(&c->mu);
	c->refs++;
	pthread_mutex_unlock(&c->mu);
	return c;
}

void vagent_cassette_bind(struct vagent_cassette *c)
{
	bound = c;
}

struct vagent_cassette *vagent__cassette_bound_ref(void)
{
	return cassette_ref(bound);
}

bool vagent__cassette_replaying(const struct vagent_cassette *c)
{
	return c && c->replay;
}

static int seq_cmp(const void *a, const void *b)
{
	double x = num(*(cJSON *const *)a, "seq", 0), y = num(*(cJSON *const *)b, "seq", 0);

	return (x > y) - (x < y);
}

/* One exchange's shape; NULL when fine, else the problem. */
static const char *check_exchange(const cJSON *x)
{
	const char *kind = str(x, "kind");
	const cJSON *a;

	if (!cJSON_IsObject(x))
		return "not a JSON object";
	if (!cJSON_IsNumber(cJSON_GetObjectItemCaseSensitive(x, "seq")))
		return "seq: missing or not a number";
	if (!kind || (strcmp(kind, "http") && strcmp(kind, "ws")))
		return "kind: must be \"http\" or \"ws\"";
	if (!str(x, "provider") || !str(x, "method") || !str(x, "url"))
		return "provider, method and url are required strings";
	if (!strcmp(kind, "http")) {
		const cJSON *r = cJSON_GetObjectItemCaseSensitive(x, "response");

		if (!cJSON_IsObject(r))
			return "response: missing or not an object";
		a = cJSON_GetObjectItemCaseSensitive(r, "chunks");
		if (a && !cJSON_IsArray(a))
			return "response.chunks: not an array";
		for (const cJSON *e = a ? a->child : NULL; e; e = e->next)
			if (!cJSON_IsObject(e) || !cJSON_IsNumber(cJSON_GetObjectItemCaseSensitive(e, "t_ms")) ||
			    (!cJSON_IsString(cJSON_GetObjectItemCaseSensitive(e, "text")) &&
			     !cJSON_IsString(cJSON_GetObjectItemCaseSensitive(e, "base64"))))
				return "response.chunks: each needs t_ms and text or base64";
		if (!cJSON_IsObject(cJSON_GetObjectItemCaseSensitive(r, "end")))
			return "response.end: missing or not an object";
		return NULL;
	}
	a = cJSON_GetObjectItemCaseSensitive(x, "events");
	if (!cJSON_IsArray(a))
		return "events: missing or not an array";
	for (const cJSON *e = a->child; e; e = e->next) {
		const char *k = str(e, "event");

		if (!cJSON_IsObject(e) || !k || !cJSON_IsNumber(cJSON_GetObjectItemCaseSensitive(e, "t_ms")))
			return "events: each needs event and t_ms";
		if (strcmp(k, "open") && strcmp(k, "send") && strcmp(k, "message") &&
		    strcmp(k, "close") && strcmp(k, "error"))
			return "events: event must be open, send, message, close or error";
	}
	return NULL;
}

vagent_status vagent__cassette_parse(const char *text, size_t len, const char *path,
				     struct vagent_cassette **out,
				     struct vagent_error *err)
{
	struct vagent_cassette *c;
	size_t line = 0, cap = 0;
	const char *p = text, *end = text + len;

	*out = NULL;
	c = cassette_new(true);
	if (!c || !(c->root = cJSON_CreateArray()))
		goto oom;
	while (p < end) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		size_t n = nl ? (size_t)(nl - p) : (size_t)(end - p);
		const char *problem;
		cJSON *x;
		size_t blank = 0;

		line++;
		while (blank < n && (p[blank] == ' ' || p[blank] == '\t' || p[blank] == '\r'))
			blank++;
		if (blank == n) {               /* the text need not end in NUL */
			p += n + 1;
			continue;
		}
		x = cJSON_ParseWithLength(p, n);
		if (!x) {
			cassette_free(c);
			return vagent__error_set(err, VAGENT_EFORMAT, NULL,
						 "%s:%zu: not a JSON line", path, line);
		}
		cJSON_AddItemToArray(c->root, x);
		if ((problem = check_exchange(x))) {
			cassette_free(c);
			return vagent__error_set(err, VAGENT_EFORMAT, NULL, "%s:%zu: %s",
						 path, line, problem);
		}
		if (c->n_ex == cap) {
			cJSON **nx = realloc(c->ex, (cap ? cap * 2 : 16) * sizeof(*nx));

			if (!nx)
				goto oom;
			c->ex = nx;
			cap = cap ? cap * 2 : 16;
		}
		c->ex[c->n_ex++] = x;
		p += n + 1;
	}
	c->used = calloc(c->n_ex + 1, sizeof(*c->used));
	if (!c->used)
		goto oom;
	if (c->n_ex)
		qsort(c->ex, c->n_ex, sizeof(*c->ex), seq_cmp);
	*out = c;
	return VAGENT_OK;
oom:
	if (c)
		cassette_free(c);
	return vagent__error_set(err, VAGENT_ENOMEM, path, "out of memory");
}

vagent_status vagent_cassette_open(const char *dir, const char *call,
				   vagent_cassette_mode mode,
				   struct vagent_cassette **out,
				   struct vagent_error *err)
{
	struct vagent_cassette *c = NULL;
	struct stat sb;
	char *sub, *path;
	vagent_status st = VAGENT_OK;

	*out = NULL;
	if (!dir || !call || !*call || strchr(call, '/'))
		return vagent__error_set(err, VAGENT_EINVAL, WHERE,
					 "a cassette needs a directory and a call name without '/'");
	if (stat(dir, &sb) != 0 || !S_ISDIR(sb.st_mode))
		return vagent__error_set(err, mode == VAGENT_CASSETTE_REPLAY ? VAGENT_ENOENT : VAGENT_EIO,
					 NULL, "%s: no such directory (the %s-providers directory)",
					 dir, mode == VAGENT_CASSETTE_REPLAY ? "--replay" : "--record");
	sub = malloc(strlen(dir) + strlen(call) + 2);
	path = malloc(strlen(dir) + strlen(call) + sizeof(FILE_NAME) + 3);
	if (!sub || !path) {
		free(sub);
		free(path);
		return vagent__error_set(err, VAGENT_ENOMEM, WHERE, "out of memory");
	}
	sprintf(sub, "%s/%s", dir, call);
	sprintf(path, "%s/%s", sub, FILE_NAME);
	if (mode == VAGENT_CASSETTE_REPLAY) {
		char *text = NULL;
		size_t len = 0;

		if (stat(path, &sb) != 0) {
			st = vagent__error_set(err, VAGENT_ENOENT, NULL,
					       "%s: no cassette for call %s (record it with "
					       "--record-providers)", path, call);
			goto done;
		}
		st = vagent__read_file(path, (size_t)1 << 30, &text, &len, err);
		if (st == VAGENT_OK)
			st = vagent__cassette_parse(text, len, path, &c, err);
		free(text);
		if (st != VAGENT_OK)
			goto done;
	} else {
		if (mkdir(sub, 0777) != 0 && errno != EEXIST) {
			st = vagent__error_set(err, VAGENT_EIO, NULL, "%s: cannot create: %s",
					       sub, strerror(errno));
			goto done;
		}
		c = cassette_new(false);
		if (!c) {
			st = vagent__error_set(err, VAGENT_ENOMEM, WHERE, "out of memory");
			goto done;
		}
		c->out = fopen(path, "w");
		if (!c->out) {
			st = vagent__error_set(err, VAGENT_EIO, NULL, "%s: cannot write: %s",
					       path, strerror(errno));
			goto done;
		}
	}
	c->path = path;
	path = NULL;
	c->call = strdup(call);
	if (!c->call)
		st = vagent__error_set(err, VAGENT_ENOMEM, WHERE, "out of memory");
done:
	free(sub);
	free(path);
	if (st != VAGENT_OK) {
		if (c)
			cassette_free(c);
		return st;
	}
	*out = c;
	return VAGENT_OK;
}

const char *vagent_cassette_path(const struct vagent_cassette *c)
{
	return c ? c->path : NULL;
}

const char *vagent_cassette_miss(const struct vagent_cassette *c)
{
	return c ? c->miss : NULL;
}

const char *vagent_cassette_failure(const struct vagent_cassette *c)
{
	return c ? c->failure : NULL;
}

size_t vagent_cassette_exchanges(const struct vagent_cassette *c)
{
	return c ? (c->replay ? c->n_ex : c->written) : 0;
}

size_t vagent_cassette_unused(struct vagent_cassette *c)
{
	size_t n = 0;

	if (!c || !c->replay)
		return 0;
	pthread_mutex_lock(&c->mu);
	for (size_t i = 0; i < c->n_ex; i++)
		if (!c->used[i])
			n++;
	pthread_mutex_unlock(&c->mu);
	return n;
}

static void note_failure(struct vagent_cassette *c, const char *fmt, const char *what)
{
	char msg[512];

	snprintf(msg, sizeof(msg), fmt, c->path ? c->path : WHERE, what);
	pthread_mutex_lock(&c->mu);
	if (!c->failure)
		c->failure = strdup(msg);
	pthread_mutex_unlock(&c->mu);
}

/* Write one exchange as a line, its secrets masked; frees `x`. */
static void write_exchange(struct vagent_cassette *c, cJSON *x)
{
	char *text = cJSON_PrintUnformatted(x);

	cJSON_Delete(x);
	if (!text) {
		note_failure(c, "%s: %s", "out of memory while recording");
		return;
	}
	pthread_mutex_lock(&c->mu);
	for (size_t i = 0; i < c->n_secrets; i++) {
		const char *s = c->secrets[i], *from = text, *hit;
		size_t sl = strlen(s);
		struct vagent__strbuf b = { 0 };

		if (!strstr(text, s))
			continue;
		while ((hit = strstr(from, s))) {
			vagent__strbuf_put(&b, from, (size_t)(hit - from));
			vagent__strbuf_puts(&b, "<redacted>");
			from = hit + sl;
		}
		vagent__strbuf_puts(&b, from);
		free(text);
		text = vagent__strbuf_detach(&b);
		if (!text)
			break;
	}
	if (text && c->out && (fputs(text, c->out) < 0 || fputc('\n', c->out) < 0 ||
			       fflush(c->out) != 0) && !c->failure) {
		char msg[600];

		snprintf(msg, sizeof(msg), "%s: cannot write: %s", c->path ? c->path : WHERE,
			 strerror(errno));
		c->failure = strdup(msg);
	}
	if (text)
		c->written++;
	else if (!c->failure)
		c->failure = strdup("cassette: out of memory while recording");
	pthread_mutex_unlock(&c->mu);
	free(text);
}

/* Start an exchange's JSON (recording). */
static cJSON *exchange_new(struct vagent_cassette *c, const char *kind,
			   const char *provider, const char *method, const char *url,
			   const char *const *headers, int64_t now)
{
	cJSON *x = cJSON_CreateObject(), *h;
	char *clean;
	size_t seq;

	if (!x)
		return NULL;
	pthread_mutex_lock(&c->mu);
	seq = ++c->next_seq;
	pthread_mutex_unlock(&c->mu);
	cJSON_AddNumberToObject(x, "seq", (double)seq);
	cJSON_AddStringToObject(x, "kind", kind);
	cJSON_AddStringToObject(x, "provider", provider ? provider : "?");
	cJSON_AddStringToObject(x, "method", method);
	pthread_mutex_lock(&c->mu);
	clean = url_clean(c, url ? url : "");
	for (size_t i = 0; headers && headers[i]; i++) {
		const char *colon = strchr(headers[i], ':');

		if (colon && sensitive_name(headers[i], (size_t)(colon - headers[i])))
			add_secret_words(c, colon + 1);
	}
	pthread_mutex_unlock(&c->mu);
	cJSON_AddStringToObject(x, "url", clean ? clean : "");
	free(clean);
	h = cJSON_AddArrayToObject(x, "headers");
	for (size_t i = 0; h && headers && headers[i]; i++) {
		char line[512];

		vagent__http_header_redact(headers[i], line, sizeof(line));
		cJSON_AddItemToArray(h, cJSON_CreateString(line));
	}
	cJSON_AddNumberToObject(x, "t_ms", ticks_to_ms(now));
	return x;
}

/* ---- HTTP ------------------------------------------------------------- */

struct vagent__cassette_http {
	struct vagent_cassette *c;
	struct vagent_loop *loop;
	int64_t start;
	/* recording */
	cJSON *x, *chunks;
	/* replay */
	struct vagent__cassette_http_sink sink;
	const cJSON *rec;            /* the matched exchange, or NULL: a miss */
	const cJSON *next_chunk;
	struct vagent_timer *timer;
	char *miss;
	bool busy, free_wanted, finished;
};

struct vagent__cassette_http *vagent__cassette_http_record(
	struct vagent_cassette *c, struct vagent_loop *loop, const char *provider,
	const char *url, const char *const *headers, const char *body)
{
	struct vagent__cassette_http *x = calloc(1, sizeof(*x));
	cJSON *resp;

	if (!x || !(x->x = exchange_new(c, "http", provider, body ? "POST" : "GET", url,
					headers, vagent_loop_now(loop)))) {
		free(x);
		note_failure(c, "%s: %s", "out of memory while recording");
		return NULL;
	}
	x->c = cassette_ref(c);
	x->loop = loop;
	x->start = vagent_loop_now(loop);
	if (body) {
		cJSON *j = cJSON_Parse(body);

		if (j) {
			pthread_mutex_lock(&c->mu);
			redact_json(c, j);
			pthread_mutex_unlock(&c->mu);
			cJSON_AddItemToObject(x->x, "body", j);
		}
		else
			cJSON_AddStringToObject(x->x, "body_text", body);
	}
	resp = cJSON_AddObjectToObject(x->x, "response");
	x->chunks = resp ? cJSON_AddArrayToObject(resp, "chunks") : NULL;
	return x;
}

void vagent__cassette_http_chunk(struct vagent__cassette_http *x,
				 const char *buf, size_t n)
{
	cJSON *o;

	if (!x || !x->chunks || !n || !(o = cJSON_CreateObject()))
		return;
	cJSON_AddNumberToObject(o, "t_ms", ticks_to_ms(vagent_loop_now(x->loop) - x->start));
	add_bytes(o, buf, n);
	cJSON_AddItemToArray(x->chunks, o);
}

void vagent__cassette_http_end(struct vagent__cassette_http *x, vagent_status st,
			       const char *message, long status,
			       double retry_after_s, bool should_retry_false,
			       const char *error_body, bool cancelled)
{
	cJSON *resp, *end;

	if (!x)
		return;
	resp = cJSON_GetObjectItemCaseSensitive(x->x, "response");
	if (resp) {
		cJSON_AddNumberToObject(resp, "status", (double)status);
		if (retry_after_s >= 0)
			cJSON_AddNumberToObject(resp, "retry_after_s", retry_after_s);
		if (should_retry_false)
			cJSON_AddBoolToObject(resp, "should_retry", false);
		if (error_body && *error_body)
			cJSON_AddStringToObject(resp, "error_body", error_body);
		end = cJSON_AddObjectToObject(resp, "end");
		if (end) {
			cJSON_AddNumberToObject(end, "t_ms",
						ticks_to_ms(vagent_loop_now(x->loop) - x->start));
			cJSON_AddStringToObject(end, "status", cancelled ? "cancelled"
							       : vagent_status_name(st));
			if (message && *message)
				cJSON_AddStringToObject(end, "message", message);
		}
	}
	write_exchange(x->c, x->x);
	vagent_cassette_unref(x->c);
	free(x);
}

static vagent_status status_from_name(const char *name)
{
#define VAGENT__STATUS_FROM(n, val, exit_code, msg) \
	if (name && !strcmp(name, #n)) return VAGENT_##n;
	VAGENT_STATUS_MAP(VAGENT__STATUS_FROM)
#undef VAGENT__STATUS_FROM
	return VAGENT_EPROVIDER;
}

static void http_player_free(struct vagent__cassette_http *x)
{
	vagent_timer_free(x->timer);
	vagent_cassette_unref(x->c);
	free(x->miss);
	free(x);
}

static void http_play(struct vagent_timer *t, void *arg)
{
	struct vagent__cassette_http *x = arg;
	const cJSON *resp = x->rec ? cJSON_GetObjectItemCaseSensitive(x->rec, "response") : NULL;

	(void)t;
	if (x->finished)
		return;
	x->busy = true;
	if (!x->rec) {
		x->finished = true;
		if (x->sink.done)
			x->sink.done(x->sink.ctx, VAGENT_EPROVIDER, x->miss, 0, -1, true, "");
	} else if (x->next_chunk) {
		const cJSON *ch = x->next_chunk;
		size_t n = 0;
		bool binary;
		char *bytes = get_bytes(ch, &n, &binary);

		x->next_chunk = ch->next;
		if (bytes && x->sink.data)
			x->sink.data(x->sink.ctx, bytes, n);
		free(bytes);
	} else {
		const cJSON *end = cJSON_GetObjectItemCaseSensitive(resp, "end");
		const char *stname = str(end, "status");
		const char *msg = str(end, "message");
		const char *eb = str(resp, "error_body");
		const cJSON *sr = cJSON_GetObjectItemCaseSensitive(resp, "should_retry");

		x->finished = true;
		if (stname && !strcmp(stname, "cancelled")) {
			/* the client cancelled it when recording: nothing more came;
			 * a replay that does not cancel sees the stream cut */
			if (x->sink.done)
				x->sink.done(x->sink.ctx, VAGENT_EIO,
					     "cassette: the recorded request was cancelled here",
					     (long)num(resp, "status", 0), -1, false, "");
		} else if (x->sink.done) {
			x->sink.done(x->sink.ctx, status_from_name(stname), msg ? msg : "",
				     (long)num(resp, "status", 0), num(resp, "retry_after_s", -1),
				     cJSON_IsFalse(sr), eb ? eb : "");
		}
	}
	x->busy = false;
	if (x->free_wanted) {
		http_player_free(x);
		return;
	}
	if (!x->finished) {
		const cJSON *next = x->next_chunk;
		double at = next ? num(next, "t_ms", 0)
				 : num(cJSON_GetObjectItemCaseSensitive(resp, "end"), "t_ms", 0);

		vagent_timer_start_at(x->timer, x->start + ms_to_ticks(at), 0, NULL);
	}
}

static void set_miss(struct vagent_cassette *c, const char *msg)
{
	if (!c->miss)
		c->miss = strdup(msg);
	c->misses++;
}

struct vagent__cassette_http *vagent__cassette_http_replay(
	struct vagent_cassette *c, struct vagent_loop *loop, const char *provider,
	const char *url, const char *body, const struct vagent__cassette_http_sink *sink)
{
	struct vagent__cassette_http *x = calloc(1, sizeof(*x));
	const char *method = body ? "POST" : "GET";
	char *clean = url_clean(NULL, url ? url : "");
	char why[400] = "", upath[200], msg[700];
	size_t seq, same_url = 0, same_url_left = 0;
	const cJSON *first_left = NULL;

	if (!x || !clean) {
		free(x);
		free(clean);
		return NULL;
	}
	x->c = cassette_ref(c);
	x->loop = loop;
	x->sink = *sink;
	x->start = vagent_loop_now(loop);
	x->timer = vagent_timer_new(loop, http_play, x);
	if (!x->timer) {
		free(clean);
		http_player_free(x);
		return NULL;
	}
	pthread_mutex_lock(&c->mu);
	seq = ++c->next_seq;
	for (size_t i = 0; i < c->n_ex; i++) {
		const cJSON *e = c->ex[i];

		if (strcmp(str(e, "kind"), "http") || strcmp(str(e, "provider"), provider) ||
		    strcmp(str(e, "method"), method) || strcmp(str(e, "url"), clean))
			continue;
		same_url++;
		if (c->used[i])
			continue;
		same_url_left++;
		if (!first_left)
			first_left = e;
		if (body_same(body, e, why, sizeof(why))) {
			c->used[i] = true;
			x->rec = e;
			break;
		}
	}
	url_path(clean, upath, sizeof(upath));
	if (!x->rec) {
		if (first_left)
			body_same(body, first_left, why, sizeof(why));
		else if (same_url)
			snprintf(why, sizeof(why), "all %zu recorded %s been used", same_url,
				 same_url == 1 ? "request like it has" : "requests like it have");
		else
			snprintf(why, sizeof(why), "no recorded request to this URL");
		snprintf(msg, sizeof(msg), "cassette miss: %s %s %s (request %zu of call %s): %s",
			 provider, method, upath, seq, c->call ? c->call : "?", why);
		set_miss(c, msg);
		x->miss = strdup(msg);
	}
	pthread_mutex_unlock(&c->mu);
	free(clean);
	if (!x->rec && !x->miss) {
		http_player_free(x);
		return NULL;
	}
	if (x->rec) {
		const cJSON *resp = cJSON_GetObjectItemCaseSensitive(x->rec, "response");
		const cJSON *chunks = cJSON_GetObjectItemCaseSensitive(resp, "chunks");

		x->next_chunk = chunks ? chunks->child : NULL;
		vagent_timer_start_at(x->timer, x->start + ms_to_ticks(x->next_chunk
				? num(x->next_chunk, "t_ms", 0)
				: num(cJSON_GetObjectItemCaseSensitive(resp, "end"), "t_ms", 0)),
				      0, NULL);
	} else {
		vagent_timer_start(x->timer, 0, 0, NULL);
	}
	return x;
}

void vagent__cassette_http_free(struct vagent__cassette_http *x)
{
	if (!x)
		return;
	if (x->busy) {
		x->free_wanted = true;
		x->finished = true;
		vagent_timer_stop(x->timer);
		return;
	}
	http_player_free(x);
}

/* ---- a blocking request off the loop ------------------------------------ */

void vagent__cassette_blocking_record(struct vagent_cassette *c, const char *provider,
				      const char *url, const char *const *headers,
				      const char *form, double took_ms,
				      const struct vagent__cassette_answer *a)
{
	cJSON *x = exchange_new(c, "http", provider, "POST", url, headers, 0);
	cJSON *resp, *chunks, *end, *j;

	if (!x) {
		note_failure(c, "%s: %s", "out of memory while recording");
		return;
	}
	cJSON_DeleteItemFromObjectCaseSensitive(x, "t_ms");
	cJSON_AddBoolToObject(x, "off_loop", true);
	j = cJSON_Parse(form ? form : "{}");
	if (j)
		cJSON_AddItemToObject(x, "body", j);
	resp = cJSON_AddObjectToObject(x, "response");
	chunks = resp ? cJSON_AddArrayToObject(resp, "chunks") : NULL;
	if (chunks && a->status && a->body && *a->body) {
		cJSON *o = cJSON_CreateObject();

		if (o) {
			cJSON_AddNumberToObject(o, "t_ms", round(took_ms * 1000) / 1000);
			add_bytes(o, a->body, strlen(a->body));
			cJSON_AddItemToArray(chunks, o);
		}
	}
	if (resp) {
		cJSON_AddNumberToObject(resp, "status", (double)a->status);
		if (a->retry_after_ms >= 0)
			cJSON_AddNumberToObject(resp, "retry_after_s", a->retry_after_ms / 1000.0);
		end = cJSON_AddObjectToObject(resp, "end");
		if (end) {
			cJSON_AddNumberToObject(end, "t_ms", round(took_ms * 1000) / 1000);
			cJSON_AddStringToObject(end, "status", vagent_status_name(a->st));
			if (a->message[0])
				cJSON_AddStringToObject(end, "message", a->message);
		}
	}
	write_exchange(c, x);
}

bool vagent__cassette_blocking_replay(struct vagent_cassette *c, const char *provider,
				      const char *url, const char *form,
				      const atomic_bool *cancel,
				      struct vagent__cassette_answer *a)
{
	char *clean = url_clean(NULL, url ? url : "");
	char why[400] = "", upath[200];
	const cJSON *rec = NULL, *first_left = NULL, *resp, *end, *chunks;
	size_t seq, same_url = 0;
	double took;

	memset(a, 0, sizeof(*a));
	a->retry_after_ms = -1;
	pthread_mutex_lock(&c->mu);
	seq = ++c->next_seq;
	for (size_t i = 0; clean && i < c->n_ex; i++) {
		const cJSON *e = c->ex[i];

		if (strcmp(str(e, "kind"), "http") || strcmp(str(e, "provider"), provider) ||
		    strcmp(str(e, "method"), "POST") || strcmp(str(e, "url"), clean))
			continue;
		same_url++;
		if (c->used[i])
			continue;
		if (!first_left)
			first_left = e;
		if (body_same(form, e, why, sizeof(why))) {
			c->used[i] = true;
			rec = e;
			break;
		}
	}
	if (!rec) {
		if (first_left)
			body_same(form, first_left, why, sizeof(why));
		else
			snprintf(why, sizeof(why), "%s", same_url
				 ? "every recorded request like it has been used"
				 : "no recorded request to this URL");
		char msg[800];

		url_path(clean ? clean : "", upath, sizeof(upath));
		snprintf(msg, sizeof(msg), "cassette miss: %s POST %s (request %zu of call %s): %s",
			 provider, upath, seq, c->call ? c->call : "?", why);
		set_miss(c, msg);
		snprintf(a->message, sizeof(a->message), "%.*s", (int)sizeof(a->message) - 1, msg);
		a->st = VAGENT_EPROVIDER;
	}
	pthread_mutex_unlock(&c->mu);
	free(clean);
	if (!rec)
		return false;
	resp = cJSON_GetObjectItemCaseSensitive(rec, "response");
	end = cJSON_GetObjectItemCaseSensitive(resp, "end");
	chunks = cJSON_GetObjectItemCaseSensitive(resp, "chunks");
	took = num(end, "t_ms", 0);
	/* the recorded time, in steps a cancel can interrupt */
	for (double waited = 0; waited < took && !(cancel && atomic_load(cancel)); waited += 10) {
		double step = took - waited < 10 ? took - waited : 10;
		struct timespec ts = { 0, (long)(step * 1000000.0) };

		nanosleep(&ts, NULL);
	}
	a->status = (long)num(resp, "status", 0);
	a->retry_after_ms = num(resp, "retry_after_s", -1) >= 0
			    ? (int)(num(resp, "retry_after_s", -1) * 1000) : -1;
	a->st = status_from_name(str(end, "status"));
	snprintf(a->message, sizeof(a->message), "%s", str(end, "message") ? str(end, "message") : "");
	if (chunks && chunks->child) {
		size_t n;
		bool binary;

		a->body = get_bytes(chunks->child, &n, &binary);
	}
	return true;
}

/* ---- WebSocket -------------------------------------------------------- */

struct vagent__cassette_ws {
	struct vagent_cassette *c;
	struct vagent_loop *loop;
	int64_t start;
	size_t sent;                 /* client messages so far */
	/* recording */
	cJSON *x, *events;
	cJSON *last_event;           /* the newest of events */
	int64_t last_send;           /* when client message `sent` went */
	bool ended;
	/* replay */
	struct vagent__cassette_ws_sink sink;
	const cJSON *rec;
	const cJSON **ins;           /* the server's events, in order */
	int64_t *due;                /* when each is due; -1: not yet known */
	size_t n_ins, next_in;
	const cJSON **texts;         /* the client's recorded text messages */
	size_t n_texts, texts_seen;
	int64_t *send_at;            /* replay: when client message k went */
	size_t send_cap;
	struct vagent_timer *timer;
	bool busy, free_wanted, done, closing;
	char *miss;
};

struct vagent__cassette_ws *vagent__cassette_ws_record(
	struct vagent_cassette *c, struct vagent_loop *loop, const char *provider,
	const char *url, const char *const *headers)
{
	struct vagent__cassette_ws *x = calloc(1, sizeof(*x));

	if (!x || !(x->x = exchange_new(c, "ws", provider, "GET", url, headers,
					vagent_loop_now(loop))) ||
	    !(x->events = cJSON_AddArrayToObject(x->x, "events"))) {
		if (x)
			cJSON_Delete(x->x);
		free(x);
		note_failure(c, "%s: %s", "out of memory while recording");
		return NULL;
	}
	x->c = cassette_ref(c);
	x->loop = loop;
	x->start = x->last_send = vagent_loop_now(loop);
	return x;
}

static cJSON *ws_rec_event(struct vagent__cassette_ws *x, const char *kind)
{
	cJSON *o;
	int64_t now;

	if (!x || x->ended || !x->events || !(o = cJSON_CreateObject()))
		return NULL;
	now = vagent_loop_now(x->loop);
	cJSON_AddStringToObject(o, "event", kind);
	cJSON_AddNumberToObject(o, "t_ms", ticks_to_ms(now - x->start));
	cJSON_AddItemToArray(x->events, o);
	x->last_event = o;
	return o;
}

void vagent__cassette_ws_sent(struct vagent__cassette_ws *x, bool binary,
			      const void *data, size_t len)
{
	cJSON *o, *last = x && !x->ended && x->events ? x->last_event : NULL;

	if (binary && last && !strcmp(str(last, "event") ? str(last, "event") : "", "send") &&
	    cJSON_GetObjectItemCaseSensitive(last, "frames")) {
		/* a run of binary messages (audio frames) is one event */
		cJSON *n = cJSON_GetObjectItemCaseSensitive(last, "n");
		cJSON *f = cJSON_GetObjectItemCaseSensitive(last, "frames");
		cJSON *b = cJSON_GetObjectItemCaseSensitive(last, "binary_bytes");

		x->sent++;
		x->last_send = vagent_loop_now(x->loop);
		cJSON_SetNumberValue(n, (double)x->sent);
		cJSON_SetNumberValue(f, f->valuedouble + 1);
		cJSON_SetNumberValue(b, b->valuedouble + (double)len);
		return;
	}
	o = ws_rec_event(x, "send");
	if (!o)
		return;
	x->sent++;
	x->last_send = vagent_loop_now(x->loop);
	cJSON_AddNumberToObject(o, "n", (double)x->sent);
	if (binary) {
		cJSON_AddNumberToObject(o, "frames", 1);
		cJSON_AddNumberToObject(o, "binary_bytes", (double)len);
	} else {
		cJSON *j = cJSON_ParseWithLength(data, len);
		char *text = NULL;

		if (j && (cJSON_IsObject(j) || cJSON_IsArray(j))) {
			/* a key in a JSON message ({"xi_api_key": ...}) is not kept */
			pthread_mutex_lock(&x->c->mu);
			redact_json(x->c, j);
			pthread_mutex_unlock(&x->c->mu);
			text = cJSON_PrintUnformatted(j);
		}
		if (text)
			add_bytes(o, text, strlen(text));
		else
			add_bytes(o, data, len);
		free(text);
		cJSON_Delete(j);
	}
}

void vagent__cassette_ws_event(struct vagent__cassette_ws *x, char kind,
			       bool binary, const void *data, size_t len,
			       int code, vagent_status st)
{
	cJSON *o = ws_rec_event(x, kind == 'o' ? "open" : kind == 'm' ? "message"
				   : kind == 'c' ? "close" : "error");

	if (!o)
		return;
	cJSON_AddNumberToObject(o, "after", (double)x->sent);
	cJSON_AddNumberToObject(o, "dt_ms", ticks_to_ms(vagent_loop_now(x->loop) - x->last_send));
	if (kind == 'm') {
		if (binary) {
			char *s = base64_encode(data, len);

			if (s)
				cJSON_AddStringToObject(o, "base64", s);
			free(s);
		} else {
			add_bytes(o, data, len);
		}
	} else if (kind == 'c') {
		cJSON_AddNumberToObject(o, "code", code);
		add_bytes(o, data, len);
	} else if (kind == 'e') {
		cJSON_AddStringToObject(o, "status", vagent_status_name(st));
		cJSON_AddNumberToObject(o, "http_status", code);
		add_bytes(o, data, len);
	}
}

static void ws_player_free(struct vagent__cassette_ws *x)
{
	vagent_timer_free(x->timer);
	vagent_cassette_unref(x->c);
	free(x->ins);
	free(x->due);
	free(x->texts);
	free(x->send_at);
	free(x->miss);
	free(x);
}

/* When server event i is due: after its client message was sent (or the
 * connection started), plus its offset; -1 while that message has not
 * gone. */
static int64_t ws_due(struct vagent__cassette_ws *x, size_t i)
{
	const cJSON *e = x->ins[i];
	double after = num(e, "after", 0);
	size_t k = after > 0 ? (size_t)after : 0;

	if (!strcmp(str(e, "event"), "open") || !strcmp(str(e, "event"), "error"))
		return x->start + ms_to_ticks(num(e, "t_ms", 0));
	if (k > x->sent) {
		if (!x->closing)
			return -1;
		k = x->sent;             /* the client closed: what is left follows */
	}
	return (k ? x->send_at[k - 1] : x->start) + ms_to_ticks(num(e, "dt_ms", 0));
}

static void ws_schedule(struct vagent__cassette_ws *x)
{
	int64_t at;

	if (x->done || x->next_in >= x->n_ins) {
		vagent_timer_stop(x->timer);
		return;
	}
	at = ws_due(x, x->next_in);
	if (at < 0) {
		vagent_timer_stop(x->timer);
		return;
	}
	vagent_timer_start_at(x->timer, at, 0, NULL);
}

static void ws_play(struct vagent_timer *t, void *arg)
{
	struct vagent__cassette_ws *x = arg;
	const cJSON *e;
	const char *kind;

	(void)t;
	if (x->done)
		return;
	x->busy = true;
	if (x->miss) {
		x->done = true;
		if (x->sink.error && !x->rec)
			x->sink.error(x->sink.ctx, VAGENT_EPROVIDER, 0, x->miss);
		else if (x->sink.close)
			x->sink.close(x->sink.ctx, 1011, x->miss);
		goto out;
	}
	e = x->ins[x->next_in++];
	kind = str(e, "event");
	if (!strcmp(kind, "open")) {
		if (x->sink.open)
			x->sink.open(x->sink.ctx);
	} else if (!strcmp(kind, "message")) {
		size_t n = 0;
		bool binary;
		char *bytes = get_bytes(e, &n, &binary);

		if (bytes && x->sink.message)
			x->sink.message(x->sink.ctx, binary, bytes, n);
		free(bytes);
	} else if (!strcmp(kind, "close")) {
		const char *reason = str(e, "text");

		x->done = true;
		if (x->sink.close)
			x->sink.close(x->sink.ctx, (int)num(e, "code", 1006), reason ? reason : "");
	} else {
		const char *m = str(e, "text");

		x->done = true;
		if (x->sink.error)
			x->sink.error(x->sink.ctx, status_from_name(str(e, "status")),
				      (int)num(e, "http_status", 0), m ? m : "");
	}
out:
	x->busy = false;
	if (x->free_wanted) {
		ws_player_free(x);
		return;
	}
	ws_schedule(x);
}

struct vagent__cassette_ws *vagent__cassette_ws_replay(
	struct vagent_cassette *c, struct vagent_loop *loop, const char *provider,
	const char *url, const struct vagent__cassette_ws_sink *sink)
{
	struct vagent__cassette_ws *x = calloc(1, sizeof(*x));
	char *clean = url_clean(NULL, url ? url : "");
	char upath[200], msg[700];
	size_t seq, same_url = 0;

	if (!x || !clean)
		goto oom;
	x->c = cassette_ref(c);
	x->loop = loop;
	x->sink = *sink;
	x->start = vagent_loop_now(loop);
	x->timer = vagent_timer_new(loop, ws_play, x);
	if (!x->timer)
		goto oom;
	pthread_mutex_lock(&c->mu);
	seq = ++c->next_seq;
	for (size_t i = 0; i < c->n_ex; i++) {
		const cJSON *e = c->ex[i];

		if (strcmp(str(e, "kind"), "ws") || strcmp(str(e, "provider"), provider) ||
		    strcmp(str(e, "url"), clean))
			continue;
		same_url++;
		if (!c->used[i]) {
			c->used[i] = true;
			x->rec = e;
			break;
		}
	}
	if (!x->rec) {
		url_path(clean, upath, sizeof(upath));
		snprintf(msg, sizeof(msg), "cassette miss: %s WS %s (request %zu of call %s): %s",
			 provider, upath, seq, c->call ? c->call : "?",
			 same_url ? "every recorded connection like it has been used"
				  : "no recorded connection to this URL");
		set_miss(c, msg);
		x->miss = strdup(msg);
	}
	pthread_mutex_unlock(&c->mu);
	free(clean);
	clean = NULL;
	if (x->rec) {
		const cJSON *ev = cJSON_GetObjectItemCaseSensitive(x->rec, "events");
		size_t n = (size_t)cJSON_GetArraySize(ev);

		x->ins = calloc(n + 1, sizeof(*x->ins));
		x->texts = calloc(n + 1, sizeof(*x->texts));
		if (!x->ins || !x->texts)
			goto oom;
		for (const cJSON *e = ev->child; e; e = e->next) {
			const char *k = str(e, "event");

			if (!strcmp(k, "send")) {
				if (cJSON_GetObjectItemCaseSensitive(e, "text") ||
				    cJSON_GetObjectItemCaseSensitive(e, "base64"))
					x->texts[x->n_texts++] = e;
			} else {
				x->ins[x->n_ins++] = e;
			}
		}
	} else if (!x->miss) {
		goto oom;
	}
	if (x->miss)
		vagent_timer_start(x->timer, 0, 0, NULL);
	else
		ws_schedule(x);
	return x;
oom:
	free(clean);
	if (x)
		ws_player_free(x);
	return NULL;
}

void vagent__cassette_ws_send(struct vagent__cassette_ws *x, bool binary,
			      const void *data, size_t len)
{
	if (!x || x->done || !x->rec)
		return;
	if (x->sent == x->send_cap) {
		size_t cap = x->send_cap ? x->send_cap * 2 : 256;
		int64_t *n = realloc(x->send_at, cap * sizeof(*n));

		if (!n)
			return;
		x->send_at = n;
		x->send_cap = cap;
	}
	x->send_at[x->sent++] = vagent_loop_now(x->loop);
	if (!binary) {
		const cJSON *rec = x->texts_seen < x->n_texts ? x->texts[x->texts_seen] : NULL;
		size_t n = 0;
		bool rb = false;
		char *want = rec ? get_bytes(rec, &n, &rb) : NULL;
		char why[300] = "", path[200] = "", upath[200], msg[700];
		bool same = false;

		x->texts_seen++;
		if (want) {
			cJSON *a = cJSON_ParseWithLength(data, len), *b = cJSON_Parse(want);

			redact_json(NULL, a);

			if (a && b) {
				same = json_same(a, b, path, sizeof(path));
				if (!same)
					snprintf(why, sizeof(why), "text message %zu differs from the "
						 "recording at %s", x->texts_seen,
						 path[0] ? path : "its top level");
			} else {
				same = n == len && !memcmp(want, data, len);
				if (!same)
					snprintf(why, sizeof(why), "text message %zu differs from "
						 "the recording", x->texts_seen);
			}
			cJSON_Delete(a);
			cJSON_Delete(b);
			free(want);
		} else {
			snprintf(why, sizeof(why), "text message %zu was not in the recording",
				 x->texts_seen);
		}
		if (!same) {
			url_path(str(x->rec, "url"), upath, sizeof(upath));
			snprintf(msg, sizeof(msg), "cassette miss: %s WS %s (request %.0f of call "
				 "%s): %s", str(x->rec, "provider"), upath, num(x->rec, "seq", 0),
				 x->c->call ? x->c->call : "?", why);
			pthread_mutex_lock(&x->c->mu);
			set_miss(x->c, msg);
			pthread_mutex_unlock(&x->c->mu);
			free(x->miss);
			x->miss = strdup(msg);
			if (x->miss)
				vagent_timer_start(x->timer, 0, 0, NULL);
			return;
		}
	}
	if (!x->busy)
		ws_schedule(x);
}

void vagent__cassette_ws_closing(struct vagent__cassette_ws *x)
{
	if (!x || !x->rec)
		return;
	x->closing = true;
	if (!x->busy && !x->miss)
		ws_schedule(x);
}

void vagent__cassette_ws_end(struct vagent__cassette_ws *x)
{
	if (!x || x->ended)
		return;
	x->ended = true;
	if (x->x) {
		write_exchange(x->c, x->x);
		x->x = NULL;
		x->events = NULL;
	} else {
		x->done = true;
		vagent_timer_stop(x->timer);
	}
}

void vagent__cassette_ws_free(struct vagent__cassette_ws *x)
{
	if (!x)
		return;
	vagent__cassette_ws_end(x);
	if (x->busy) {
		x->free_wanted = true;
		return;
	}
	ws_player_free(x);
}
