/*
 * expect.c — the expectations list of a scenario or call file
 * (docs/expectations.md): strict parsing of each item (one kind key plus
 * its options), every problem reported as "FILE:LINE: field: problem",
 * regular expressions compiled and metric and event names checked here,
 * so a bad expectation is bad input before any call runs.
 */
#include <ctype.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "agent/agent_int.h"
#include "expect/expect_int.h"

#define MAX_EXPECTATIONS 256
#define MAX_WITHIN_MS 3600000

struct kind_def {
	const char *key;
	enum vagent__expect_kind kind;
	const char *options[4];       /* besides "name" */
};

static const struct kind_def kinds[] = {
	{ "tool_called", VAGENT__X_TOOL_CALLED, { "args", "times" } },
	{ "tool_not_called", VAGENT__X_TOOL_NOT_CALLED, { "args" } },
	{ "agent_said", VAGENT__X_AGENT_SAID, { "heard" } },
	{ "agent_never_said", VAGENT__X_AGENT_NEVER_SAID, { "heard" } },
	{ "escalated", VAGENT__X_ESCALATED, { "reason" } },
	{ "transfer_package", VAGENT__X_TRANSFER_PACKAGE, { NULL } },
	{ "event", VAGENT__X_EVENT_WITHIN, { "within_ms", "of" } },
	{ "latency", VAGENT__X_LATENCY, { NULL } },
	{ "wer_max", VAGENT__X_WER_MAX, { NULL } },
	{ "disclosure_within_ms", VAGENT__X_DISCLOSURE, { "phrase", "heard" } },
	{ "no_card_number", VAGENT__X_NO_CARD_NUMBER, { "recording" } },
	{ "end_reason", VAGENT__X_END_REASON, { NULL } },
	{ "turns", VAGENT__X_TURNS, { NULL } },
	{ "filler", VAGENT__X_FILLER, { NULL } },
	{ "barge_in", VAGENT__X_BARGE_IN, { NULL } },
};

#define KIND_LIST "tool_called, tool_not_called, agent_said, agent_never_said, " \
	"escalated, transfer_package, event, latency, wer_max, " \
	"disclosure_within_ms, no_card_number, end_reason, turns, filler, barge_in"

struct pctx {
	const char *file, *text;
	size_t len;
	struct vagent_diags *diags;
	struct vagent_error *err;
	vagent_status status;
	size_t problems;
};

static void problem(struct pctx *c, const char *path, const char *fmt, ...)
	VAGENT__PRINTF(3, 4);

static void problem(struct pctx *c, const char *path, const char *fmt, ...)
{
	char m[400];
	va_list ap;
	int line;

	char full[600];

	va_start(ap, fmt);
	vsnprintf(m, sizeof(m), fmt, ap);
	va_end(ap);
	line = vagent__json_line(c->text, c->len, path);
	/* keys and values quoted from the file may hold newlines */
	snprintf(full, sizeof(full), "%s:%d: %s%s%s", c->file, line, path,
		 *path ? ": " : "", m);
	vagent__one_line(full);
	vagent_diags_add(c->diags, "%s", full);
	if (c->status == VAGENT_OK) {
		c->status = VAGENT_EINVAL;
		vagent__error_set(c->err, VAGENT_EINVAL, NULL, "%s", full);
	}
	c->problems++;
}

/* ---- helpers shared with eval.c ---- */

#define MAX_REGEX 500
#define MAX_REPEAT_NESTING 3

/*
 * glibc's regcomp takes time and memory exponential in the nesting of
 * repetitions ("a+++++...", "((((a+)+)+)+)+": 20 stacked '+' take 0.9 s
 * and 700 MB), so a file's regex could stall or exhaust a CI machine.
 * Repetitions may nest MAX_REPEAT_NESTING deep ("((a+)+)+"); deeper, and
 * longer patterns, are refused before regcomp sees them.
 */
static bool regex_sane(const char *re, char *prob, size_t size)
{
	int stack[64], top = 0, last = 0;   /* nesting of the last atom */
	size_t n = strlen(re);

	if (n > MAX_REGEX) {
		snprintf(prob, size, "regex longer than %d characters", MAX_REGEX);
		return false;
	}
	stack[0] = 0;
	for (size_t i = 0; i < n; i++) {
		char ch = re[i];

		if (ch == '\\' && i + 1 < n) {
			i++;
			last = 0;
		} else if (ch == '[') {
			/* a bracket expression: "[]a]", "[^]a]", "[[:alpha:]]" */
			i++;
			if (i < n && re[i] == '^')
				i++;
			if (i < n && re[i] == ']')
				i++;
			while (i < n && re[i] != ']') {
				if (re[i] == '[' && i + 1 < n && strchr(":.=", re[i + 1])) {
					const char *end = strstr(re + i + 2, re[i + 1] == ':' ? ":]" :
								 re[i + 1] == '.' ? ".]" : "=]");

					i = end ? (size_t)(end - re) + 1 : n;
				}
				i++;
			}
			last = 0;
		} else if (ch == '(') {
			if (top + 1 >= (int)VAGENT__ARRAY_SIZE(stack)) {
				snprintf(prob, size, "regex nests groups too deeply");
				return false;
			}
			stack[++top] = 0;
			last = 0;
		} else if (ch == ')' && top > 0) {
			last = stack[top--];
		} else if (ch == '*' || ch == '+' || ch == '?' || ch == '{') {
			if (ch == '{') {
				const char *end = strchr(re + i, '}');

				if (!end)
					continue;     /* regcomp says what is wrong */
				i = (size_t)(end - re);
			}
			if (++last > MAX_REPEAT_NESTING) {
				snprintf(prob, size, "regex nests repetitions more than %d deep "
					 "(like \"((a+)+)+\")", MAX_REPEAT_NESTING);
				return false;
			}
		} else {
			last = 0;
		}
		if (last > stack[top])
			stack[top] = last;
	}
	return true;
}

/* regcomp a file's regex (case-insensitive extended); false with the
 * problem ("bad regex ...") when it is refused. */
static bool regcomp_checked(regex_t *re, const char *pattern, const char *shown,
			    char *prob, size_t size)
{
	char why[160];
	int rc;

	if (!regex_sane(pattern, why, sizeof(why))) {
		snprintf(prob, size, "bad regex %s: %s", shown, why);
		return false;
	}
	rc = regcomp(re, pattern, REG_EXTENDED | REG_ICASE | REG_NOSUB);
	if (rc) {
		regerror(rc, re, why, sizeof(why));
		snprintf(prob, size, "bad regex %s: %s", shown, why);
		return false;
	}
	return true;
}

char *vagent__one_line(char *s)
{
	for (char *p = s; p && *p; p++)
		if ((unsigned char)*p < 0x20 || *p == 0x7f)
			*p = ' ';
	return s;
}

bool vagent__xmatch_init(struct vagent__xmatch *m, const char *text,
			 char *prob, size_t size)
{
	size_t n = strlen(text);

	memset(m, 0, sizeof(*m));
	if (n >= 2 && text[0] == '/' && text[n - 1] == '/') {
		char *re = strndup(text + 1, n - 2);
		bool ok;

		if (!re) {
			snprintf(prob, size, "out of memory");
			return false;
		}
		ok = regcomp_checked(&m->re, re, text, prob, size);
		free(re);
		if (!ok)
			return false;
		m->is_re = true;
	}
	if (!(m->text = strdup(text))) {
		if (m->is_re)
			regfree(&m->re);
		m->is_re = false;
		snprintf(prob, size, "out of memory");
		return false;
	}
	return true;
}

bool vagent__xmatch_test(const struct vagent__xmatch *m, const char *s)
{
	if (!m->text)
		return true;
	if (!s)
		return false;
	if (m->is_re)
		return regexec(&m->re, s, 0, NULL, 0) == 0;
	return strcasecmp(m->text, s) == 0;
}

void vagent__xmatch_free(struct vagent__xmatch *m)
{
	if (m->is_re)
		regfree(&m->re);
	free(m->text);
	memset(m, 0, sizeof(*m));
}

/* ---- field readers ---- */

static void join(char *out, size_t size, const char *path, const char *key)
{
	/* paths are short; a cut one only shortens a message */
	if (snprintf(out, size, "%s.%s", path, key) >= (int)size)
		out[size - 1] = '\0';
}

static const char *get_string(struct pctx *c, const cJSON *o, const char *key,
			      const char *path)
{
	const cJSON *j = cJSON_GetObjectItemCaseSensitive(o, key);
	char p[160];

	if (!j)
		return NULL;
	join(p, sizeof(p), path, key);
	if (!cJSON_IsString(j) || !*j->valuestring) {
		problem(c, p, "must be a non-empty string");
		return NULL;
	}
	return j->valuestring;
}

/* -1: absent, 0: false, 1: true; a wrong type is a problem (-1). */
static int get_bool(struct pctx *c, const cJSON *o, const char *key,
		    const char *path)
{
	const cJSON *j = cJSON_GetObjectItemCaseSensitive(o, key);
	char p[160];

	if (!j)
		return -1;
	if (!cJSON_IsBool(j)) {
		join(p, sizeof(p), path, key);
		problem(c, p, "must be true or false");
		return -1;
	}
	return cJSON_IsTrue(j);
}

static bool get_int(struct pctx *c, const cJSON *o, const char *key,
		    const char *path, int lo, int hi, int *out)
{
	const cJSON *j = cJSON_GetObjectItemCaseSensitive(o, key);
	char p[160];

	if (!j)
		return false;
	join(p, sizeof(p), path, key);
	if (!cJSON_IsNumber(j) || j->valuedouble != floor(j->valuedouble) ||
	    j->valuedouble < lo || j->valuedouble > hi) {
		problem(c, p, "must be an integer %d..%d", lo, hi);
		return false;
	}
	*out = (int)j->valuedouble;
	return true;
}

static bool compile_re(struct pctx *c, const char *path, const char *pattern,
		       regex_t *re)
{
	char shown[MAX_REGEX + 8], prob[400];

	snprintf(shown, sizeof(shown), "\"%s\"", pattern);
	if (!regcomp_checked(re, pattern, shown, prob, sizeof(prob))) {
		problem(c, path, "%s", prob);
		return false;
	}
	return true;
}

static bool event_type(struct pctx *c, const char *path, const char *name,
		       vagent_trace_type *out)
{
	if (vagent_trace_type_from_name(name, out) == VAGENT_OK)
		return true;
	problem(c, path, "unknown event type \"%s\" (docs/trace.md: call.start, "
		"caller.speech_start, stt.final, turn.end, tool.start, tts.request, "
		"agent.audio_start, agent.audio_stop, barge_in, filler, escalation, "
		"transfer, dtmf, ...)", name);
	return false;
}

/* Regex values ("/.../") anywhere in expected args compile. */
static void check_arg_values(struct pctx *c, const cJSON *j, const char *path)
{
	const cJSON *it;
	char p[200], prob[300];
	size_t i = 0;

	if (cJSON_IsString(j)) {
		struct vagent__xmatch m;

		if (!vagent__xmatch_init(&m, j->valuestring, prob, sizeof(prob)))
			problem(c, path, "%s", prob);
		vagent__xmatch_free(&m);
		return;
	}
	cJSON_ArrayForEach(it, j) {
		if (cJSON_IsObject(j))
			snprintf(p, sizeof(p), "%s.%s", path, it->string);
		else
			snprintf(p, sizeof(p), "%s[%zu]", path, i);
		check_arg_values(c, it, p);
		i++;
	}
}

/* A package path: name(.name|[N])* with names of letters, digits, '_'
 * and '-'. */
static bool path_valid(const char *s)
{
	bool need_name = true;

	if (!*s)
		return false;
	while (*s) {
		if (need_name) {
			const char *b = s;

			while (isalnum((unsigned char)*s) || *s == '_' || *s == '-')
				s++;
			if (s == b)
				return false;
			need_name = false;
		} else if (*s == '.') {
			s++;
			need_name = true;
		} else if (*s == '[') {
			const char *b = ++s;

			while (isdigit((unsigned char)*s))
				s++;
			if (s == b || *s != ']')
				return false;
			s++;
		} else {
			return false;
		}
	}
	return !need_name;
}

static void parse_package(struct pctx *c, const cJSON *j, const char *path,
			  struct vagent__expectation *x)
{
	const cJSON *it;
	char p[200], prob[300];
	size_t i = 0;

	if (cJSON_IsArray(j)) {
		if (!cJSON_GetArraySize(j))
			problem(c, path, "must list at least one field");
		cJSON_ArrayForEach(it, j) {
			snprintf(p, sizeof(p), "%s[%zu]", path, i++);
			if (!cJSON_IsString(it) || !path_valid(it->valuestring))
				problem(c, p, "must be a field path like \"slots.order_number\" "
					"or \"actions[0].tool\"");
		}
	} else if (cJSON_IsObject(j)) {
		if (!j->child)
			problem(c, path, "must give at least one field");
		cJSON_ArrayForEach(it, j) {
			snprintf(p, sizeof(p), "%s.%s", path, it->string);
			if (!path_valid(it->string))
				problem(c, p, "\"%s\" is not a field path like "
					"\"slots.order_number\"", it->string);
			else if (cJSON_IsString(it)) {
				struct vagent__xmatch m;

				if (!vagent__xmatch_init(&m, it->valuestring, prob, sizeof(prob)))
					problem(c, p, "%s", prob);
				vagent__xmatch_free(&m);
			}
		}
	} else {
		problem(c, path, "must be an array of field paths or an object of "
			"field path -> value");
		return;
	}
	x->package = cJSON_Duplicate(j, true);
}

static char *str_printf(const char *fmt, ...) VAGENT__PRINTF(1, 2);

static char *str_printf(const char *fmt, ...)
{
	struct vagent__strbuf b = { 0 };
	va_list ap;
	char tmp[512];

	va_start(ap, fmt);
	vsnprintf(tmp, sizeof(tmp), fmt, ap);
	va_end(ap);
	vagent__strbuf_puts(&b, tmp);
	return vagent__strbuf_detach(&b);
}

/* The default name of a package expectation: its paths. */
static char *package_name(const cJSON *j)
{
	struct vagent__strbuf b = { 0 };
	const cJSON *it;
	bool first = true;

	vagent__strbuf_puts(&b, "transfer_package ");
	cJSON_ArrayForEach(it, j) {
		vagent__strbuf_puts(&b, first ? "" : ", ");
		vagent__strbuf_puts(&b, cJSON_IsArray(j) ? (cJSON_IsString(it) ?
				    it->valuestring : "?") : it->string);
		first = false;
	}
	return vagent__strbuf_detach(&b);
}

static void parse_item(struct pctx *c, const cJSON *j, const char *path,
		       struct vagent__expectation *x)
{
	const struct kind_def *kd = NULL;
	const cJSON *it, *v;
	char kp[160], p[200], prob[300];
	const char *s, *name;
	size_t before = c->problems;
	int b;

	x->times = -1;
	if (!cJSON_IsObject(j)) {
		problem(c, path, "must be an object with one of " KIND_LIST);
		return;
	}
	for (size_t k = 0; k < VAGENT__ARRAY_SIZE(kinds); k++) {
		if (!cJSON_GetObjectItemCaseSensitive(j, kinds[k].key))
			continue;
		if (kd) {
			problem(c, path, "has more than one kind: %s and %s", kd->key,
				kinds[k].key);
			return;
		}
		kd = &kinds[k];
	}
	if (!kd) {
		problem(c, path, "needs one of " KIND_LIST);
		return;
	}
	x->kind = kd->kind;
	cJSON_ArrayForEach(it, j) {
		bool ok = !strcmp(it->string, kd->key) || !strcmp(it->string, "name");

		for (size_t o = 0; !ok && o < VAGENT__ARRAY_SIZE(kd->options) &&
		     kd->options[o]; o++)
			ok = !strcmp(it->string, kd->options[o]);
		if (!ok) {
			struct vagent__strbuf opts = { 0 };
			char *list;

			for (size_t o = 0; o < VAGENT__ARRAY_SIZE(kd->options) &&
			     kd->options[o]; o++)
				vagent__strbuf_printf(&opts, "%s, ", kd->options[o]);
			vagent__strbuf_puts(&opts, "name");
			list = vagent__strbuf_detach(&opts);
			join(p, sizeof(p), path, it->string);
			problem(c, p, "unknown key \"%s\" (%s takes %s)", it->string,
				kd->key, list ? list : "name");
			free(list);
		}
	}
	name = get_string(c, j, "name", path);
	v = cJSON_GetObjectItemCaseSensitive(j, kd->key);
	join(kp, sizeof(kp), path, kd->key);

	switch (kd->kind) {
	case VAGENT__X_TOOL_CALLED:
	case VAGENT__X_TOOL_NOT_CALLED:
		if (!(s = get_string(c, j, kd->key, path)))
			break;
		x->subject = strdup(s);
		if ((it = cJSON_GetObjectItemCaseSensitive(j, "args"))) {
			join(p, sizeof(p), path, "args");
			if (!cJSON_IsObject(it))
				problem(c, p, "must be an object (argument name -> value)");
			else {
				check_arg_values(c, it, p);
				x->args = cJSON_Duplicate(it, true);
			}
		}
		get_int(c, j, "times", path, 0, 1000, &x->times);
		x->name = str_printf("%s %s", kd->key, s);
		break;
	case VAGENT__X_AGENT_SAID:
	case VAGENT__X_AGENT_NEVER_SAID:
		if (!(s = get_string(c, j, kd->key, path)))
			break;
		if (!compile_re(c, kp, s, &x->re))
			break;
		x->has_re = true;
		x->pattern = strdup(s);
		x->heard = get_bool(c, j, "heard", path) == 1;
		x->name = str_printf("%s /%s/%s", kd->key, s, x->heard ? " (heard)" : "");
		break;
	case VAGENT__X_ESCALATED:
		if ((b = get_bool(c, j, kd->key, path)) < 0)
			break;
		x->flag = b == 1;
		if ((s = get_string(c, j, "reason", path))) {
			join(p, sizeof(p), path, "reason");
			if (!x->flag)
				problem(c, p, "a reason needs \"escalated\": true");
			else if (!vagent__xmatch_init(&x->reason, s, prob, sizeof(prob)))
				problem(c, p, "%s", prob);
		}
		x->name = x->flag ? (s ? str_printf("escalated %s", s) : strdup("escalated"))
				  : strdup("not escalated");
		break;
	case VAGENT__X_TRANSFER_PACKAGE:
		parse_package(c, v, kp, x);
		if (x->package)
			x->name = package_name(x->package);
		break;
	case VAGENT__X_EVENT_WITHIN: {
		const char *of;
		bool ok;

		if (!(s = get_string(c, j, kd->key, path)))
			break;
		ok = event_type(c, kp, s, &x->event_b);
		join(p, sizeof(p), path, "of");
		if (!(of = get_string(c, j, "of", path))) {
			if (!cJSON_GetObjectItemCaseSensitive(j, "of"))
				problem(c, p, "missing: the event it must follow "
					"(\"of\": \"barge_in\")");
			break;
		}
		ok = event_type(c, p, of, &x->event_a) && ok;
		join(p, sizeof(p), path, "within_ms");
		if (!get_int(c, j, "within_ms", path, 0, MAX_WITHIN_MS, &x->within_ms)) {
			if (!cJSON_GetObjectItemCaseSensitive(j, "within_ms"))
				problem(c, p, "missing: the bound in ms");
			break;
		}
		if (ok)
			x->name = str_printf("%s within %d ms of %s", s, x->within_ms, of);
		break;
	}
	case VAGENT__X_LATENCY:
		if (!(s = get_string(c, j, kd->key, path)))
			break;
		if (!vagent__slo_parse(s, &x->slo, prob, sizeof(prob))) {
			problem(c, kp, "\"%s\": %s", s, prob);
			break;
		}
		x->name = str_printf("latency %s", x->slo.expr);
		break;
	case VAGENT__X_WER_MAX:
		if (!cJSON_IsNumber(v) || !isfinite(v->valuedouble) || v->valuedouble < 0) {
			problem(c, kp, "must be a number >= 0 (a fraction: 0.2 is 20%%)");
			break;
		}
		x->wer_max = v->valuedouble;
		x->name = str_printf("wer_max %g", x->wer_max);
		break;
	case VAGENT__X_DISCLOSURE:
		if (!get_int(c, j, kd->key, path, 0, MAX_WITHIN_MS, &x->within_ms))
			break;
		if ((s = get_string(c, j, "phrase", path))) {
			join(p, sizeof(p), path, "phrase");
			if (!compile_re(c, p, s, &x->re))
				break;
			x->has_re = true;
			x->pattern = strdup(s);
		}
		x->heard = get_bool(c, j, "heard", path) == 1;
		x->name = str_printf("disclosure within %d ms%s", x->within_ms,
				     x->heard ? " (heard)" : "");
		break;
	case VAGENT__X_NO_CARD_NUMBER:
		if (!cJSON_IsTrue(v)) {
			problem(c, kp, "must be true");
			break;
		}
		x->flag = get_bool(c, j, "recording", path) != 0;
		x->name = strdup("no_card_number");
		break;
	case VAGENT__X_END_REASON:
		if (!(s = get_string(c, j, kd->key, path)))
			break;
		if (!vagent__xmatch_init(&x->reason, s, prob, sizeof(prob))) {
			problem(c, kp, "%s", prob);
			break;
		}
		x->name = str_printf("end_reason %s", s);
		break;
	case VAGENT__X_TURNS:
		if (cJSON_IsNumber(v)) {
			if (!get_int(c, j, kd->key, path, 0, 100000, &x->min))
				break;
			x->max = x->min;
			x->name = str_printf("turns %d", x->min);
		} else if (cJSON_IsObject(v)) {
			bool has_min, has_max;

			cJSON_ArrayForEach(it, v) {
				if (strcmp(it->string, "min") && strcmp(it->string, "max")) {
					join(p, sizeof(p), kp, it->string);
					problem(c, p, "unknown key \"%s\" (turns takes min, max)",
						it->string);
				}
			}
			x->min = 0;
			x->max = 100000;
			has_min = get_int(c, v, "min", kp, 0, 100000, &x->min);
			has_max = get_int(c, v, "max", kp, 0, 100000, &x->max);
			if (!has_min && !has_max && c->problems == before)
				problem(c, kp, "needs min, max or both");
			else if (x->min > x->max)
				problem(c, kp, "min %d is above max %d", x->min, x->max);
			x->name = has_min && has_max ? str_printf("turns %d..%d", x->min, x->max)
				: has_min ? str_printf("turns >= %d", x->min)
				: str_printf("turns <= %d", x->max);
		} else {
			problem(c, kp, "must be a count or an object {\"min\": N, \"max\": M}");
		}
		break;
	case VAGENT__X_FILLER:
	case VAGENT__X_BARGE_IN:
		if ((b = get_bool(c, j, kd->key, path)) < 0)
			break;
		x->flag = b == 1;
		x->name = str_printf("%s%s", x->flag ? "" : "no ", kd->key);
		break;
	}
	if (c->problems == before && name) {
		free(x->name);
		x->name = strdup(name);
	}
	if (c->problems == before && !x->name)
		problem(c, path, "out of memory");
}

static void item_free(struct vagent__expectation *x)
{
	free(x->name);
	free(x->subject);
	cJSON_Delete(x->args);
	if (x->has_re)
		regfree(&x->re);
	free(x->pattern);
	vagent__xmatch_free(&x->reason);
	cJSON_Delete(x->package);
}

void vagent_expectations_free(struct vagent_expectations *x)
{
	if (!x)
		return;
	for (size_t i = 0; i < x->n; i++)
		item_free(&x->items[i]);
	free(x->items);
	free(x);
}

size_t vagent_expectations_count(const struct vagent_expectations *x)
{
	return x ? x->n : 0;
}

bool vagent_expectations_need_recording(const struct vagent_expectations *x)
{
	for (size_t i = 0; x && i < x->n; i++) {
		const struct vagent__expectation *e = &x->items[i];

		if (e->heard || (e->kind == VAGENT__X_NO_CARD_NUMBER && e->flag))
			return true;
	}
	return false;
}

vagent_status vagent_expectations_parse(const char *text, size_t len,
					const char *file, const char *key,
					struct vagent_expectations **out,
					struct vagent_diags *diags,
					struct vagent_error *err)
{
	struct pctx c = { .file = file ? file : "expectations", .text = text,
			  .len = len, .diags = diags, .err = err };
	struct vagent_expectations *x = NULL;
	cJSON *root = NULL;
	const cJSON *arr, *it;
	size_t i = 0;

	*out = NULL;
	vagent_error_clear(err);
	if (!key)
		key = "expectations";
	root = text ? cJSON_ParseWithLength(text, len) : NULL;
	if (!root) {
		const char *at = cJSON_GetErrorPtr();
		int line = 1;

		for (const char *p = text; p && at && p < at && p < text + len; p++)
			line += *p == '\n';
		vagent_diags_add(diags, "%s:%d: not valid JSON", c.file, line);
		return vagent__error_set(err, VAGENT_EFORMAT, NULL, "%s:%d: not valid JSON",
					 c.file, line);
	}
	if (!(x = calloc(1, sizeof(*x))))
		goto oom;
	arr = cJSON_IsObject(root) ? cJSON_GetObjectItemCaseSensitive(root, key) : NULL;
	if (!cJSON_IsObject(root)) {
		problem(&c, "", "the document is not a JSON object");
	} else if (arr && !cJSON_IsArray(arr)) {
		problem(&c, key, "must be an array of expectations");
	} else if (arr && cJSON_GetArraySize(arr) > MAX_EXPECTATIONS) {
		problem(&c, key, "more than %d expectations", MAX_EXPECTATIONS);
	} else if (arr && cJSON_GetArraySize(arr) > 0) {
		x->items = calloc((size_t)cJSON_GetArraySize(arr), sizeof(*x->items));
		if (!x->items)
			goto oom;
		cJSON_ArrayForEach(it, arr) {
			char path[160];

			snprintf(path, sizeof(path), "%s[%zu]", key, i++);
			parse_item(&c, it, path, &x->items[x->n]);
			x->n++;
		}
	}
	cJSON_Delete(root);
	if (c.status != VAGENT_OK) {
		vagent_expectations_free(x);
		return c.status;
	}
	*out = x;
	return VAGENT_OK;
oom:
	cJSON_Delete(root);
	vagent_expectations_free(x);
	return vagent__error_set(err, VAGENT_ENOMEM, file, "out of memory");
}
