/*
 * trace.c — the call trace (DESIGN.md §5, docs/trace.md): the event types
 * and their fields, a deterministic JSON-lines writer, and a reader that
 * reports bad lines as "FILE:LINE: problem".
 */
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "trace/trace_int.h"

/* How a field is written and read. */
enum field_kind {
	F_STR,     /* JSON string */
	F_JSON,    /* any JSON value, kept as compact JSON text */
	F_BOOL,    /* written only when true */
	F_CONF,    /* confidence: number 0..1, 3 decimals; has_confidence */
	F_MS,      /* time: int64 µs written as ms with 3 decimals */
	F_COUNT,   /* int64 count >= 0, written only when > 0 */
};

struct field {
	const char *key;
	enum field_kind kind;
	size_t off;
	bool required;
	const char *const *choices;   /* allowed string values, or NULL */
};

static const char *const stop_reasons[] = { "done", "barge_in", "hangup", NULL };
static const char *const fallback_slots[] = { "stt", "llm", "tts", "tools", NULL };
static const char *const provider_slots[] = { "stt", "llm", "tts", NULL };
static const char *const dtmf_digits[] = {
	"0", "1", "2", "3", "4", "5", "6", "7", "8", "9", "*", "#",
	"A", "B", "C", "D", NULL
};

#define OFF(f) offsetof(struct vagent_trace_event, f)
#define REQ(key, kind, f) { key, kind, OFF(f), true, NULL }
#define OPT(key, kind, f) { key, kind, OFF(f), false, NULL }
#define ONE_OF(key, f, list) { key, F_STR, OFF(f), true, list }
#define OPT_ONE_OF(key, f, list) { key, F_STR, OFF(f), false, list }

#define MAX_FIELDS 5

struct type_spec {
	const char *name;
	struct field fields[MAX_FIELDS];   /* key == NULL ends the list */
};

/* Indexed by vagent_trace_type; field order is the order on the wire. */
static const struct type_spec types[VAGENT_TRACE_TYPE_COUNT] = {
	[VAGENT_TRACE_CALL_START] = { "call.start", { { NULL } } },
	[VAGENT_TRACE_CALL_END] = { "call.end", { OPT("reason", F_STR, reason) } },
	[VAGENT_TRACE_CALLER_SPEECH_START] = { "caller.speech_start",
		{ OPT("estimated", F_BOOL, estimated) } },
	[VAGENT_TRACE_CALLER_SPEECH_END] = { "caller.speech_end",
		{ OPT("estimated", F_BOOL, estimated) } },
	[VAGENT_TRACE_VAD_SPEECH_START] = { "vad.speech_start", { { NULL } } },
	[VAGENT_TRACE_VAD_SPEECH_END] = { "vad.speech_end", { { NULL } } },
	[VAGENT_TRACE_STT_PARTIAL] = { "stt.partial",
		{ REQ("text", F_STR, text), OPT("provider", F_STR, provider) } },
	[VAGENT_TRACE_STT_FINAL] = { "stt.final",
		{ REQ("text", F_STR, text), OPT("confidence", F_CONF, confidence),
		  OPT("provider", F_STR, provider) } },
	[VAGENT_TRACE_TURN_END] = { "turn.end", { { NULL } } },
	[VAGENT_TRACE_LLM_REQUEST] = { "llm.request",
		{ REQ("provider", F_STR, provider) } },
	[VAGENT_TRACE_LLM_FIRST_TOKEN] = { "llm.first_token",
		{ OPT("provider", F_STR, provider) } },
	[VAGENT_TRACE_LLM_DONE] = { "llm.done",
		{ OPT("text", F_STR, text), OPT("provider", F_STR, provider),
		  OPT("prompt_tokens", F_COUNT, prompt_tokens),
		  OPT("completion_tokens", F_COUNT, completion_tokens),
		  OPT("retries", F_COUNT, retries) } },
	[VAGENT_TRACE_TOOL_START] = { "tool.start",
		{ REQ("name", F_STR, name), REQ("id", F_STR, id),
		  OPT("args", F_JSON, args) } },
	[VAGENT_TRACE_TOOL_END] = { "tool.end",
		{ REQ("name", F_STR, name), REQ("id", F_STR, id),
		  OPT("result", F_JSON, result) } },
	[VAGENT_TRACE_TOOL_TIMEOUT] = { "tool.timeout",
		{ REQ("name", F_STR, name), REQ("id", F_STR, id) } },
	[VAGENT_TRACE_TOOL_ERROR] = { "tool.error",
		{ REQ("name", F_STR, name), REQ("id", F_STR, id),
		  REQ("error", F_STR, error) } },
	[VAGENT_TRACE_TTS_REQUEST] = { "tts.request",
		{ REQ("text", F_STR, text), OPT("provider", F_STR, provider) } },
	[VAGENT_TRACE_TTS_FIRST_AUDIO] = { "tts.first_audio",
		{ OPT("provider", F_STR, provider) } },
	[VAGENT_TRACE_AGENT_AUDIO_START] = { "agent.audio_start", { { NULL } } },
	[VAGENT_TRACE_AGENT_AUDIO_STOP] = { "agent.audio_stop",
		{ ONE_OF("reason", reason, stop_reasons) } },
	[VAGENT_TRACE_BARGE_IN] = { "barge_in",
		{ REQ("onset_ms", F_MS, onset_us),
		  REQ("decision_ms", F_MS, decision_us) } },
	[VAGENT_TRACE_FILLER] = { "filler", { OPT("text", F_STR, text) } },
	[VAGENT_TRACE_ESCALATION] = { "escalation", { REQ("reason", F_STR, reason) } },
	[VAGENT_TRACE_TRANSFER] = { "transfer", { REQ("package", F_JSON, package) } },
	/* digit is required unless redacted (checked by hand below) */
	[VAGENT_TRACE_DTMF] = { "dtmf", { OPT_ONE_OF("digit", digit, dtmf_digits),
					  OPT("redacted", F_BOOL, redacted) } },
	[VAGENT_TRACE_FALLBACK] = { "fallback",
		{ ONE_OF("slot", slot, fallback_slots), REQ("from", F_STR, from),
		  REQ("to", F_STR, to) } },
	[VAGENT_TRACE_ERROR] = { "error",
		{ REQ("source", F_STR, source), REQ("message", F_STR, message) } },
	[VAGENT_TRACE_PROVIDER_FIRST_BYTE] = { "provider.first_byte",
		{ ONE_OF("slot", slot, provider_slots), REQ("provider", F_STR, provider),
		  REQ("ttfb_ms", F_MS, ttfb_us) } },
};

static const char *str_at(const struct vagent_trace_event *ev, size_t off)
{
	const char *s;

	memcpy(&s, (const char *)ev + off, sizeof(s));
	return s;
}

static void set_str_at(struct vagent_trace_event *ev, size_t off, const char *s)
{
	memcpy((char *)ev + off, &s, sizeof(s));
}

static int64_t i64_at(const struct vagent_trace_event *ev, size_t off)
{
	int64_t v;

	memcpy(&v, (const char *)ev + off, sizeof(v));
	return v;
}

const char *vagent_trace_type_name(vagent_trace_type type)
{
	if ((unsigned)type < VAGENT_TRACE_TYPE_COUNT)
		return types[type].name;
	return "unknown";
}

vagent_status vagent_trace_type_from_name(const char *name, vagent_trace_type *out)
{
	for (int i = 0; name && i < VAGENT_TRACE_TYPE_COUNT; i++) {
		if (!strcmp(name, types[i].name)) {
			*out = (vagent_trace_type)i;
			return VAGENT_OK;
		}
	}
	return VAGENT_EINVAL;
}

void vagent__trace_put_ms(struct vagent__strbuf *b, int64_t us)
{
	/* Times are bounded (VAGENT__TRACE_MAX_US): negating is safe. */
	uint64_t a = us < 0 ? (uint64_t)-us : (uint64_t)us;

	vagent__strbuf_printf(b, "%s%llu.%03u", us < 0 ? "-" : "",
			      (unsigned long long)(a / 1000), (unsigned)(a % 1000));
}

bool vagent__utf8_valid(const char *str, size_t n)
{
	const unsigned char *s = (const unsigned char *)str;
	size_t i = 0;

	while (i < n) {
		unsigned c = s[i];
		size_t len;
		uint32_t cp, min;

		if (c < 0x80) {
			i++;
			continue;
		} else if ((c & 0xe0) == 0xc0) {
			len = 2, cp = c & 0x1f, min = 0x80;
		} else if ((c & 0xf0) == 0xe0) {
			len = 3, cp = c & 0x0f, min = 0x800;
		} else if ((c & 0xf8) == 0xf0) {
			len = 4, cp = c & 0x07, min = 0x10000;
		} else {
			return false;
		}
		if (n - i < len)
			return false;
		for (size_t k = 1; k < len; k++) {
			if ((s[i + k] & 0xc0) != 0x80)
				return false;
			cp = (cp << 6) | (s[i + k] & 0x3f);
		}
		if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
			return false;
		i += len;
	}
	return true;
}

/* Append `s` as a JSON string (RFC 8259 escapes; UTF-8 passed through). */
static void put_json_string(struct vagent__strbuf *b, const char *s)
{
	size_t run = 0;

	vagent__strbuf_put(b, "\"", 1);
	for (const char *p = s; *p; p++) {
		unsigned char c = (unsigned char)*p;
		const char *esc = NULL;
		char hex[8];

		switch (c) {
		case '"': esc = "\\\""; break;
		case '\\': esc = "\\\\"; break;
		case '\b': esc = "\\b"; break;
		case '\f': esc = "\\f"; break;
		case '\n': esc = "\\n"; break;
		case '\r': esc = "\\r"; break;
		case '\t': esc = "\\t"; break;
		default:
			if (c < 0x20) {
				snprintf(hex, sizeof(hex), "\\u%04x", c);
				esc = hex;
			}
		}
		if (!esc) {
			run++;
			continue;
		}
		vagent__strbuf_put(b, p - run, run);
		run = 0;
		vagent__strbuf_puts(b, esc);
	}
	vagent__strbuf_put(b, s + strlen(s) - run, run);
	vagent__strbuf_put(b, "\"", 1);
}

/* ---- redaction: no card number is ever written (docs/dtmf.md) */

/* Redact until nothing is left to redact: the four digits a redaction
 * keeps can start a new number with the digits after them, and a written
 * trace must re-write byte-identically. Each pass turns digits into '*'
 * (or shortens the text), so this ends. */
static void redact_all(char *s)
{
	while (vagent_card_number_redact(s))
		;
}

static void redact_value(cJSON *v)
{
	for (; v; v = v->next) {
		if (cJSON_IsString(v) && v->valuestring) {
			redact_all(v->valuestring);
		} else if (cJSON_IsNumber(v) && v->valuedouble >= 1e12 &&
			   v->valuedouble < 1e20 && v->valuedouble == floor(v->valuedouble)) {
			char digits[32], label[32];
			char *copy;

			snprintf(digits, sizeof(digits), "%.0f", v->valuedouble);
			if (!vagent_card_number_find(digits, NULL, NULL))
				continue;
			snprintf(label, sizeof(label), "[card ending %s]",
				 digits + strlen(digits) - 4);
			if (!(copy = strdup(label)))
				continue;
			v->type = cJSON_String;
			v->valuestring = copy;
			v->valuedouble = 0;
			v->valueint = 0;
		} else {
			redact_value(v->child);
		}
	}
}

char *vagent__redact_json(const char *json)
{
	cJSON *v = json ? cJSON_ParseWithOpts(json, NULL, 1) : NULL;
	char *out;

	if (!v)
		return NULL;
	redact_value(v);
	out = cJSON_PrintUnformatted(v);
	cJSON_Delete(v);
	return out;
}

/* ---- writer */

struct vagent_trace_writer {
	FILE *fp;                      /* NULL: memory */
	char *call;
	struct vagent__strbuf mem;     /* memory writer's text */
	struct vagent__strbuf line;    /* the line being built */
};

struct vagent_trace_writer *vagent_trace_writer_new(FILE *fp, const char *call)
{
	struct vagent_trace_writer *w = calloc(1, sizeof(*w));

	if (!w)
		return NULL;
	w->fp = fp;
	if (call && !(w->call = strdup(call))) {
		free(w);
		return NULL;
	}
	return w;
}

void vagent_trace_writer_free(struct vagent_trace_writer *w)
{
	if (!w)
		return;
	free(w->call);
	vagent__strbuf_release(&w->mem);
	vagent__strbuf_release(&w->line);
	free(w);
}

const char *vagent_trace_writer_buffer(const struct vagent_trace_writer *w,
				       size_t *len)
{
	if (w->fp)
		return NULL;
	if (len)
		*len = w->mem.len;
	return w->mem.p ? w->mem.p : "";
}

static bool one_of(const char *s, const char *const *list)
{
	for (; *list; list++)
		if (!strcmp(s, *list))
			return true;
	return false;
}

/* Check a string field's value; NULL when fine, else the problem. */
static const char *check_string(const struct field *f, const char *s)
{
	if (!vagent__utf8_valid(s, strlen(s)))
		return "is not valid UTF-8";
	if (f->choices && !one_of(s, f->choices))
		return "is not one of the allowed values";
	return NULL;
}

/* Format `ev` into w->line; EINVAL (nothing formatted) for a bad event. */
static vagent_status format_event(struct vagent_trace_writer *w,
				  const struct vagent_trace_event *ev,
				  struct vagent_error *err)
{
	struct vagent__strbuf *b = &w->line;
	const char *call = ev->call ? ev->call : w->call;
	const struct type_spec *spec;
	const char *tname;

	if ((unsigned)ev->type >= VAGENT_TRACE_TYPE_COUNT)
		return vagent__error_set(err, VAGENT_EINVAL, "trace",
					 "unknown event type %d", (int)ev->type);
	spec = &types[ev->type];
	tname = spec->name;
	if (ev->t_us < 0 || ev->t_us > VAGENT__TRACE_MAX_US)
		return vagent__error_set(err, VAGENT_EINVAL, "trace",
					 "%s: time out of range", tname);
	if (ev->turn < 0)
		return vagent__error_set(err, VAGENT_EINVAL, "trace",
					 "%s: negative turn", tname);
	if (!call)
		return vagent__error_set(err, VAGENT_EINVAL, "trace",
					 "%s: no call name", tname);
	if (!vagent__utf8_valid(call, strlen(call)))
		return vagent__error_set(err, VAGENT_EINVAL, "trace",
					 "%s: call name is not valid UTF-8", tname);

	b->len = 0;
	if (b->p)
		b->p[0] = '\0';
	vagent__strbuf_puts(b, "{\"t_ms\":");
	vagent__trace_put_ms(b, ev->t_us);
	vagent__strbuf_puts(b, ",\"call\":");
	put_json_string(b, call);
	vagent__strbuf_printf(b, ",\"turn\":%d,\"type\":\"%s\"", ev->turn, tname);
	if (ev->type == VAGENT_TRACE_DTMF && !ev->redacted && !ev->digit)
		return vagent__error_set(err, VAGENT_EINVAL, "trace",
					 "%s: missing \"digit\"", tname);

	for (const struct field *f = spec->fields; f < spec->fields + MAX_FIELDS && f->key; f++) {
		const char *s, *problem;
		char *json;
		cJSON *v;
		int64_t t;
		bool flag;
		long conf;

		switch (f->kind) {
		case F_STR:
		case F_JSON:
			s = str_at(ev, f->off);
			if (ev->type == VAGENT_TRACE_DTMF && ev->redacted)
				s = NULL;       /* a key pressed in PCI mode: no digit */
			if (!s) {
				if (f->required)
					return vagent__error_set(err, VAGENT_EINVAL, "trace",
								 "%s: missing \"%s\"", tname, f->key);
				break;
			}
			if ((problem = check_string(f, s)))
				return vagent__error_set(err, VAGENT_EINVAL, "trace",
							 "%s: \"%s\" %s", tname, f->key, problem);
			vagent__strbuf_printf(b, ",\"%s\":", f->key);
			if (f->kind == F_STR) {
				char *copy = strdup(s);

				if (!copy)
					return vagent__error_set(err, VAGENT_ENOMEM, "trace",
								 "out of memory");
				redact_all(copy);
				put_json_string(b, copy);
				free(copy);
				break;
			}
			v = cJSON_ParseWithOpts(s, NULL, 1);
			if (!v)
				return vagent__error_set(err, VAGENT_EINVAL, "trace",
							 "%s: \"%s\" is not JSON", tname, f->key);
			redact_value(v);
			json = cJSON_PrintUnformatted(v);
			cJSON_Delete(v);
			if (!json)
				return vagent__error_set(err, VAGENT_ENOMEM, "trace",
							 "out of memory");
			vagent__strbuf_puts(b, json);
			cJSON_free(json);
			break;
		case F_BOOL:
			memcpy(&flag, (const char *)ev + f->off, sizeof(flag));
			if (flag)
				vagent__strbuf_printf(b, ",\"%s\":true", f->key);
			break;
		case F_CONF:
			if (!ev->has_confidence)
				break;
			if (!(ev->confidence >= 0.0 && ev->confidence <= 1.0))
				return vagent__error_set(err, VAGENT_EINVAL, "trace",
							 "%s: confidence outside 0..1", tname);
			conf = lround(ev->confidence * 1000.0);
			vagent__strbuf_printf(b, ",\"%s\":%ld.%03ld", f->key,
					      conf / 1000, conf % 1000);
			break;
		case F_MS:
			t = i64_at(ev, f->off);
			if (t < 0 || t > VAGENT__TRACE_MAX_US)
				return vagent__error_set(err, VAGENT_EINVAL, "trace",
							 "%s: \"%s\" out of range", tname, f->key);
			vagent__strbuf_printf(b, ",\"%s\":", f->key);
			vagent__trace_put_ms(b, t);
			break;
		case F_COUNT:
			t = i64_at(ev, f->off);
			if (t < 0 || t > VAGENT__TRACE_MAX_COUNT)
				return vagent__error_set(err, VAGENT_EINVAL, "trace",
							 "%s: \"%s\" out of range", tname, f->key);
			if (t > 0)
				vagent__strbuf_printf(b, ",\"%s\":%lld", f->key, (long long)t);
			break;
		}
	}
	vagent__strbuf_puts(b, "}\n");
	if (b->oom)
		return vagent__error_set(err, VAGENT_ENOMEM, "trace", "out of memory");
	return VAGENT_OK;
}

vagent_status vagent_trace_writer_add(struct vagent_trace_writer *w,
				      const struct vagent_trace_event *ev,
				      struct vagent_error *err)
{
	vagent_status st = format_event(w, ev, err);

	if (st != VAGENT_OK)
		return st;
	if (!w->fp) {
		vagent__strbuf_put(&w->mem, w->line.p, w->line.len);
		if (w->mem.oom)
			return vagent__error_set(err, VAGENT_ENOMEM, "trace", "out of memory");
		return VAGENT_OK;
	}
	if (fwrite(w->line.p, 1, w->line.len, w->fp) != w->line.len)
		return vagent__error_set(err, VAGENT_EIO, "trace", "cannot write: %s",
					 strerror(errno ? errno : EIO));
	return VAGENT_OK;
}

/* ---- reader */

/* A parsed trace and the strings it owns. */
struct trace_impl {
	struct vagent_trace pub;
	size_t cap;
	struct vagent__owned owned;
};

void vagent_trace_free(struct vagent_trace *t)
{
	struct trace_impl *impl = (struct trace_impl *)t;

	if (!t)
		return;
	vagent__owned_free(&impl->owned);
	free(t->events);
	free(impl);
}

const char *vagent__owned_take(struct vagent__owned *o, char *s)
{
	if (!s)
		return NULL;
	if (o->n == o->cap) {
		size_t cap = o->cap ? o->cap * 2 : 64;
		char **p = realloc(o->p, cap * sizeof(*p));

		if (!p) {
			free(s);
			return NULL;
		}
		o->p = p;
		o->cap = cap;
	}
	o->p[o->n++] = s;
	return s;
}

void vagent__owned_free(struct vagent__owned *o)
{
	for (size_t i = 0; i < o->n; i++)
		free(o->p[i]);
	free(o->p);
	o->p = NULL;
	o->n = o->cap = 0;
}

/* Parser state for one line. */
struct line_ctx {
	const char *name;
	size_t line;
	struct vagent_error *err;
};

#define BAD(ctx, ...) line_error(ctx, __VA_ARGS__)

static vagent_status line_error(const struct line_ctx *c, const char *fmt, ...)
	VAGENT__PRINTF(2, 3);

static vagent_status line_error(const struct line_ctx *c, const char *fmt, ...)
{
	char msg[400];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	return vagent__error_set(c->err, VAGENT_EFORMAT, NULL, "%s:%zu: %s",
				 c->name, c->line, msg);
}

/* A JSON number of milliseconds with at most 3 decimals, to µs. */
static vagent_status read_ms(const struct line_ctx *c, const cJSON *v,
			     const char *key, int64_t *out)
{
	double x, r;

	if (!cJSON_IsNumber(v))
		return BAD(c, "\"%s\" is not a number", key);
	x = v->valuedouble * 1000.0;
	if (!isfinite(x) || x < 0 || x > (double)VAGENT__TRACE_MAX_US)
		return BAD(c, "\"%s\" is negative or too large", key);
	r = nearbyint(x);
	if (fabs(x - r) > 1e-6 + 1e-12 * x)
		return BAD(c, "\"%s\" has more than 3 decimals", key);
	*out = (int64_t)r;
	return VAGENT_OK;
}

/* A key and its position in its object. */
struct key_pos {
	const char *key;
	size_t pos;
};

static int cmp_key_pos(const void *pa, const void *pb)
{
	const struct key_pos *a = pa, *b = pb;
	int c = strcmp(a->key, b->key);

	return c ? c : (a->pos > b->pos) - (a->pos < b->pos);
}

/* The first key of `obj` (in object order) that repeats an earlier one, or
 * NULL (*oom set when out of memory). Sorting keeps this O(k log k): a
 * pairwise check took minutes on a line of 50 000 keys. */
static const char *duplicate_key(const cJSON *obj, bool *oom)
{
	struct key_pos *keys;
	const char *dup = NULL;
	size_t n = 0, best = SIZE_MAX;

	*oom = false;
	for (const cJSON *a = obj->child; a; a = a->next)
		n++;
	if (n < 2)
		return NULL;
	if (!(keys = malloc(n * sizeof(*keys)))) {
		*oom = true;
		return NULL;
	}
	n = 0;
	for (const cJSON *a = obj->child; a; a = a->next, n++) {
		keys[n].key = a->string;
		keys[n].pos = n;
	}
	qsort(keys, n, sizeof(*keys), cmp_key_pos);
	/* In a run of equal keys the second is the first repeat. */
	for (size_t i = 1; i < n; i++) {
		if (!strcmp(keys[i].key, keys[i - 1].key) &&
		    (i < 2 || strcmp(keys[i - 1].key, keys[i - 2].key)) &&
		    keys[i].pos < best) {
			best = keys[i].pos;
			dup = keys[i].key;
		}
	}
	free(keys);
	return dup;
}

static vagent_status read_event(const struct line_ctx *c, struct trace_impl *impl,
				const cJSON *obj, struct vagent_trace_event *ev)
{
	const cJSON *v;
	const struct type_spec *spec;
	vagent_trace_type type;
	const char *dup;
	bool oom;
	double turn;

	if (!cJSON_IsObject(obj))
		return BAD(c, "not a JSON object");
	if ((dup = duplicate_key(obj, &oom)))
		return BAD(c, "duplicate key \"%.60s\"", dup);
	if (oom)
		return vagent__error_set(c->err, VAGENT_ENOMEM, c->name, "out of memory");

	v = cJSON_GetObjectItemCaseSensitive(obj, "type");
	if (!v)
		return BAD(c, "missing \"type\"");
	if (!cJSON_IsString(v))
		return BAD(c, "\"type\" is not a string");
	if (vagent_trace_type_from_name(v->valuestring, &type) != VAGENT_OK)
		return BAD(c, "unknown event type \"%.60s\"", v->valuestring);
	ev->type = type;
	spec = &types[type];

	v = cJSON_GetObjectItemCaseSensitive(obj, "t_ms");
	if (!v)
		return BAD(c, "missing \"t_ms\"");
	if (read_ms(c, v, "t_ms", &ev->t_us) != VAGENT_OK)
		return VAGENT_EFORMAT;

	v = cJSON_GetObjectItemCaseSensitive(obj, "call");
	if (!v)
		return BAD(c, "missing \"call\"");
	if (!cJSON_IsString(v))
		return BAD(c, "\"call\" is not a string");
	if (!(ev->call = vagent__owned_take(&impl->owned, strdup(v->valuestring))))
		return vagent__error_set(c->err, VAGENT_ENOMEM, c->name, "out of memory");

	v = cJSON_GetObjectItemCaseSensitive(obj, "turn");
	if (!v)
		return BAD(c, "missing \"turn\"");
	turn = cJSON_IsNumber(v) ? v->valuedouble : -1;
	if (!(turn >= 0 && turn <= 2147483647.0 && turn == floor(turn)))
		return BAD(c, "\"turn\" is not a non-negative integer");
	ev->turn = (int)turn;

	for (const struct field *f = spec->fields; f < spec->fields + MAX_FIELDS && f->key; f++) {
		char *s = NULL;
		int64_t t;
		bool flag;

		v = cJSON_GetObjectItemCaseSensitive(obj, f->key);
		if (!v) {
			if (f->required)
				return BAD(c, "%s: missing \"%s\"", spec->name, f->key);
			continue;
		}
		switch (f->kind) {
		case F_STR:
			if (!cJSON_IsString(v))
				return BAD(c, "%s: \"%s\" is not a string", spec->name, f->key);
			if (f->choices && !one_of(v->valuestring, f->choices))
				return BAD(c, "%s: \"%s\" cannot be \"%.40s\"", spec->name,
					   f->key, v->valuestring);
			s = strdup(v->valuestring);
			break;
		case F_JSON:
			s = cJSON_PrintUnformatted(v);
			break;
		case F_BOOL:
			if (!cJSON_IsBool(v))
				return BAD(c, "%s: \"%s\" is not true or false", spec->name, f->key);
			flag = cJSON_IsTrue(v);
			memcpy((char *)ev + f->off, &flag, sizeof(flag));
			continue;
		case F_CONF:
			if (!cJSON_IsNumber(v) || !(v->valuedouble >= 0 && v->valuedouble <= 1))
				return BAD(c, "%s: \"%s\" is not a number from 0 to 1",
					   spec->name, f->key);
			ev->has_confidence = true;
			ev->confidence = v->valuedouble;
			continue;
		case F_MS:
			if (read_ms(c, v, f->key, &t) != VAGENT_OK)
				return VAGENT_EFORMAT;
			memcpy((char *)ev + f->off, &t, sizeof(t));
			continue;
		case F_COUNT:
			if (!cJSON_IsNumber(v) || !(v->valuedouble >= 0 &&
			    v->valuedouble <= (double)VAGENT__TRACE_MAX_COUNT &&
			    v->valuedouble == floor(v->valuedouble)))
				return BAD(c, "%s: \"%s\" is not a non-negative integer",
					   spec->name, f->key);
			t = (int64_t)v->valuedouble;
			memcpy((char *)ev + f->off, &t, sizeof(t));
			continue;
		}
		if (!vagent__owned_take(&impl->owned, s))
			return vagent__error_set(c->err, VAGENT_ENOMEM, c->name, "out of memory");
		set_str_at(ev, f->off, s);
	}
	if (type == VAGENT_TRACE_DTMF && !ev->redacted && !ev->digit)
		return BAD(c, "dtmf: missing \"digit\"");
	if (type == VAGENT_TRACE_DTMF && ev->redacted && ev->digit)
		return BAD(c, "dtmf: a redacted key has no \"digit\"");
	return VAGENT_OK;
}

static bool blank(const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (s[i] != ' ' && s[i] != '\t' && s[i] != '\r')
			return false;
	return true;
}

vagent_status vagent_trace_parse(const char *data, size_t len, const char *name,
				 struct vagent_trace **out, struct vagent_error *err)
{
	struct trace_impl *impl = calloc(1, sizeof(*impl));
	struct line_ctx c = { name ? name : "trace", 0, err };
	vagent_status st = VAGENT_OK;
	size_t pos = 0;

	*out = NULL;
	if (!impl)
		return vagent__error_set(err, VAGENT_ENOMEM, c.name, "out of memory");
	while (pos < len) {
		const char *nl = memchr(data + pos, '\n', len - pos);
		size_t n = nl ? (size_t)(nl - (data + pos)) : len - pos;
		const char *line = data + pos, *end = NULL;
		struct vagent_trace_event *ev;
		cJSON *obj;

		pos += n + (nl ? 1 : 0);
		c.line++;
		if (blank(line, n))
			continue;
		if (!vagent__utf8_valid(line, n)) {
			st = BAD(&c, "invalid UTF-8");
			goto done;
		}
		if (memchr(line, '\0', n)) {
			st = BAD(&c, "NUL byte in line");
			goto done;
		}
		obj = cJSON_ParseWithLengthOpts(line, n, &end, 0);
		if (!obj) {
			st = BAD(&c, "not valid JSON");
			goto done;
		}
		if (!blank(end, n - (size_t)(end - line))) {
			cJSON_Delete(obj);
			st = BAD(&c, "text after the JSON object");
			goto done;
		}
		if (impl->pub.n == impl->cap) {
			size_t cap = impl->cap ? impl->cap * 2 : 64;
			struct vagent_trace_event *p = realloc(impl->pub.events, cap * sizeof(*p));

			if (!p) {
				cJSON_Delete(obj);
				st = vagent__error_set(err, VAGENT_ENOMEM, c.name, "out of memory");
				goto done;
			}
			impl->pub.events = p;
			impl->cap = cap;
		}
		ev = &impl->pub.events[impl->pub.n];
		memset(ev, 0, sizeof(*ev));
		ev->line = c.line;
		st = read_event(&c, impl, obj, ev);
		cJSON_Delete(obj);
		if (st != VAGENT_OK)
			goto done;
		impl->pub.n++;
	}
done:
	if (st != VAGENT_OK) {
		vagent_trace_free(&impl->pub);
		return st;
	}
	*out = &impl->pub;
	return VAGENT_OK;
}

vagent_status vagent_trace_load(const char *path, struct vagent_trace **out,
				struct vagent_error *err)
{
	struct vagent__strbuf b = { 0 };
	char chunk[65536];
	vagent_status st;
	FILE *fp;
	size_t n;

	*out = NULL;
	fp = fopen(path, "rb");
	if (!fp)
		return vagent__error_open_input(err, errno, path);
	while ((n = fread(chunk, 1, sizeof(chunk), fp)) > 0)
		vagent__strbuf_put(&b, chunk, n);
	if (ferror(fp)) {
		/* A directory opens but does not read: that is a bad argument. */
		int e = errno;

		st = e == EISDIR ? vagent__error_set(err, VAGENT_EINVAL, path, "is a directory")
				 : vagent__error_set(err, VAGENT_EIO, path, "read failed: %s",
						     strerror(e));
		goto done;
	}
	if (b.oom) {
		st = vagent__error_set(err, VAGENT_ENOMEM, path, "out of memory");
		goto done;
	}
	st = vagent_trace_parse(b.p ? b.p : "", b.len, path, out, err);
done:
	fclose(fp);
	vagent__strbuf_release(&b);
	return st;
}
