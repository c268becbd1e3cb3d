/*
 * eval.c — evaluating expectations on a finished call (docs/expectations.md)
 * from what it left behind: its trace (the source of truth: tools, agent
 * utterances, escalations, events, hop latencies), its session result
 * (caller and recognised texts for WER) and its stereo recording (the
 * agent's audio transcribed for "heard", the caller channel scanned for
 * card numbers). Each check returns pass/fail and one line saying what it
 * saw.
 */
#include <ctype.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "expect/expect_int.h"

#define SNIPPET 80
#define PAD_US 100000                 /* around audio slices sent to STT */

/* One agent utterance: a run of agent audio (agent.audio_start to
 * agent.audio_stop) and the text sent to TTS for it. */
struct utterance {
	int turn;
	int64_t start_us, stop_us;
	struct vagent__strbuf text;
	char *heard;                  /* recognised audio, once transcribed */
};

struct ectx {
	const struct vagent_call_evidence *ev;
	const char *name;
	struct vagent_trace *trace;
	const struct vagent_trace_event **ev_sorted;   /* by time, stable */
	size_t n;
	struct utterance *utts;
	size_t n_utts;
	bool has_tts_text;            /* the trace has tts.request texts */
	/* lazily computed */
	bool heard_done;
	struct vagent_sphinx_transcriber *stt;
	bool stt_tried;
	vagent_status infra;          /* first infrastructure failure */
	struct vagent_error infra_err;
	bool oom;
};

/* ---- small helpers ---- */

static void dputf(struct vagent__strbuf *d, const char *fmt, ...) VAGENT__PRINTF(2, 3);

static void dputf(struct vagent__strbuf *d, const char *fmt, ...)
{
	char tmp[600];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(tmp, sizeof(tmp), fmt, ap);
	va_end(ap);
	vagent__strbuf_puts(d, tmp);
}

/* Start the detail afresh (a later finding replaces what was said). */
static void dreset(struct vagent__strbuf *d)
{
	d->len = 0;
	if (d->p)
		d->p[0] = '\0';
}

/* `s` quoted, cut to SNIPPET characters (at a UTF-8 boundary), one line. */
static void quote(struct vagent__strbuf *d, const char *s)
{
	size_t n = 0, i;

	vagent__strbuf_puts(d, "\"");
	for (i = 0; s && s[i] && n < SNIPPET; i++) {
		char ch = s[i];

		if (ch == '\n' || ch == '\r' || ch == '\t')
			ch = ' ';
		if (ch == '"')
			vagent__strbuf_puts(d, "\\");
		vagent__strbuf_put(d, &ch, 1);
		if (((unsigned char)s[i + 1] & 0xC0) != 0x80)
			n++;
	}
	vagent__strbuf_puts(d, s && s[i] ? "...\"" : "\"");
}

static void fmt_t(char *buf, size_t size, int64_t us)
{
	vagent__fmt_ms(buf, size, (double)us / 1000.0);
}

static bool ci_contains(const char *hay, const char *needle)
{
	size_t n = strlen(needle);

	if (!n)
		return true;
	for (; hay && *hay; hay++)
		if (!strncasecmp(hay, needle, n))
			return true;
	return false;
}

static int cmp_event_time(const void *a, const void *b)
{
	const struct vagent_trace_event *x = *(const struct vagent_trace_event *const *)a;
	const struct vagent_trace_event *y = *(const struct vagent_trace_event *const *)b;

	if (x->t_us != y->t_us)
		return x->t_us < y->t_us ? -1 : 1;
	/* stable: file order */
	return x < y ? -1 : x > y;
}

static const struct vagent_trace_event *first_event(const struct ectx *c,
						    vagent_trace_type type)
{
	for (size_t i = 0; i < c->n; i++)
		if (c->ev_sorted[i]->type == type)
			return c->ev_sorted[i];
	return NULL;
}

static size_t count_events(const struct ectx *c, vagent_trace_type type)
{
	size_t k = 0;

	for (size_t i = 0; i < c->n; i++)
		k += c->ev_sorted[i]->type == type;
	return k;
}

static void infra_fail(struct ectx *c, const struct vagent_error *e)
{
	if (c->infra == VAGENT_OK) {
		c->infra = e->status;
		c->infra_err = *e;
	}
}

/* ---- agent utterances ---- */

static bool build_utterances(struct ectx *c)
{
	size_t cap = 0;
	bool open = false;

	for (size_t i = 0; i < c->n; i++) {
		const struct vagent_trace_event *e = c->ev_sorted[i];

		if (e->type == VAGENT_TRACE_AGENT_AUDIO_START && !open) {
			if (c->n_utts == cap) {
				size_t nc = cap ? cap * 2 : 8;
				struct utterance *p = realloc(c->utts, nc * sizeof(*p));

				if (!p)
					return false;
				c->utts = p;
				cap = nc;
			}
			memset(&c->utts[c->n_utts], 0, sizeof(c->utts[0]));
			c->utts[c->n_utts].turn = e->turn;
			c->utts[c->n_utts].start_us = e->t_us;
			c->utts[c->n_utts].stop_us = -1;
			c->n_utts++;
			open = true;
		} else if (e->type == VAGENT_TRACE_AGENT_AUDIO_STOP && open) {
			c->utts[c->n_utts - 1].stop_us = e->t_us;
			open = false;
		}
	}
	if (open)
		c->utts[c->n_utts - 1].stop_us = c->n ? c->ev_sorted[c->n - 1]->t_us
						      : c->utts[c->n_utts - 1].start_us;
	/* each text sent to TTS belongs to the first utterance of its turn
	 * that was still playing (or not yet started) when it was sent; a
	 * text sent after its turn's audio ended was never heard */
	for (size_t i = 0; i < c->n; i++) {
		const struct vagent_trace_event *e = c->ev_sorted[i];

		if (e->type != VAGENT_TRACE_TTS_REQUEST || !e->text)
			continue;
		c->has_tts_text = true;
		for (size_t u = 0; u < c->n_utts; u++) {
			struct utterance *ut = &c->utts[u];

			if (ut->turn != e->turn || ut->stop_us < e->t_us)
				continue;
			if (ut->text.len)
				vagent__strbuf_puts(&ut->text, " ");
			vagent__strbuf_puts(&ut->text, e->text);
			if (ut->text.oom)
				return false;
			break;
		}
	}
	return true;
}

/* A mono slice [from, to) µs of channel `ch` of the recording. */
static struct vagent_audio *slice(const struct vagent_audio *a, int ch,
				  int64_t from_us, int64_t to_us)
{
	int64_t f0, f1;
	struct vagent_audio *m;

	if (from_us < 0)
		from_us = 0;
	f0 = from_us * a->rate / 1000000;
	f1 = to_us * a->rate / 1000000;
	if (f1 > (int64_t)a->frames)
		f1 = (int64_t)a->frames;
	if (f1 <= f0)
		f1 = f0;
	if (!(m = vagent_audio_new(a->rate, 1, (size_t)(f1 - f0))))
		return NULL;
	for (int64_t i = f0; i < f1; i++)
		m->samples[i - f0] = a->samples[(size_t)i * (size_t)a->channels + (size_t)ch];
	return m;
}

/* The recogniser, loaded once. false (and c->infra set) when it cannot. */
static bool recogniser(struct ectx *c)
{
	struct vagent_sphinx_config cfg;
	struct vagent_error e;

	if (c->stt)
		return true;
	if (c->stt_tried)
		return false;
	c->stt_tried = true;
	if (c->ev->sphinx) {
		cfg = *c->ev->sphinx;
	} else {
		cfg = vagent_sphinx_config_default();
		cfg.rate = c->ev->recording && c->ev->recording->rate <= 8000 ? 8000 : 16000;
	}
	if (vagent_sphinx_transcriber_new(&cfg, &c->stt, &e) != VAGENT_OK) {
		infra_fail(c, &e);
		return false;
	}
	return true;
}

/* Transcribe `ch` of the recording over [from, to); *text "" for silence.
 * false with c->infra set on failure. */
static bool transcribe(struct ectx *c, int ch, int64_t from_us, int64_t to_us,
		       char **text)
{
	struct vagent_audio *m;
	struct vagent_error e;
	vagent_status st;

	*text = NULL;
	if (!recogniser(c))
		return false;
	if (!(m = slice(c->ev->recording, ch, from_us - PAD_US, to_us + PAD_US))) {
		c->oom = true;
		return false;
	}
	if (m->frames == 0) {
		vagent_audio_free(m);
		return (*text = strdup("")) != NULL || (c->oom = true, false);
	}
	st = vagent_sphinx_transcriber_run(c->stt, m, text, NULL, &e);
	vagent_audio_free(m);
	if (st != VAGENT_OK) {
		infra_fail(c, &e);
		return false;
	}
	return true;
}

/* Why the agent's audio cannot be heard, or NULL. */
static const char *no_agent_audio(const struct ectx *c)
{
	if (!c->ev->recording)
		return "no recording of the call to transcribe";
	if (c->ev->recording->channels < 2)
		return "the recording is mono; the agent is the right channel of a "
		       "stereo recording";
	return NULL;
}

static bool hear_utterances(struct ectx *c)
{
	if (c->heard_done)
		return true;
	for (size_t u = 0; u < c->n_utts; u++) {
		if (c->utts[u].heard)
			continue;
		if (!transcribe(c, 1, c->utts[u].start_us, c->utts[u].stop_us,
				&c->utts[u].heard))
			return false;
	}
	c->heard_done = true;
	return true;
}

/* ---- the checks ---- */

/* A JSON scalar's text for string comparison ("40721", "12.5", "true"). */
static char *scalar_text(const cJSON *j)
{
	if (cJSON_IsString(j))
		return strdup(j->valuestring);
	if (cJSON_IsNumber(j) || cJSON_IsBool(j) || cJSON_IsNull(j))
		return cJSON_PrintUnformatted(j);
	return NULL;
}

/* `got` matches `want`: objects as subsets, arrays element by element,
 * strings equal (ignoring case) or matching "/regex/" against the
 * value's text, other values equal. */
static bool value_matches(const cJSON *want, const cJSON *got)
{
	if (!got)
		return false;
	if (cJSON_IsString(want)) {
		struct vagent__xmatch m;
		char prob[8], *s = scalar_text(got);
		bool ok = false;

		if (s && vagent__xmatch_init(&m, want->valuestring, prob, sizeof(prob))) {
			ok = vagent__xmatch_test(&m, s);
			vagent__xmatch_free(&m);
		}
		free(s);
		return ok;
	}
	if (cJSON_IsObject(want)) {
		const cJSON *w;

		if (!cJSON_IsObject(got))
			return false;
		cJSON_ArrayForEach(w, want)
			if (!value_matches(w, cJSON_GetObjectItemCaseSensitive(got, w->string)))
				return false;
		return true;
	}
	if (cJSON_IsArray(want)) {
		const cJSON *w, *g;

		if (!cJSON_IsArray(got) || cJSON_GetArraySize(want) != cJSON_GetArraySize(got))
			return false;
		for (w = want->child, g = got->child; w && g; w = w->next, g = g->next)
			if (!value_matches(w, g))
				return false;
		return true;
	}
	return cJSON_Compare(want, got, true);
}

static bool check_tool(struct ectx *c, const struct vagent__expectation *x,
		       struct vagent__strbuf *d)
{
	size_t calls = 0, matching = 0;
	const char *unmatched = NULL;
	bool not = x->kind == VAGENT__X_TOOL_NOT_CALLED;
	const char *matched = NULL;
	bool passed;

	for (size_t i = 0; i < c->n; i++) {
		const struct vagent_trace_event *e = c->ev_sorted[i];
		cJSON *args;
		bool ok;

		if (e->type != VAGENT_TRACE_TOOL_START || !e->name || strcmp(e->name, x->subject))
			continue;
		calls++;
		args = e->args ? cJSON_Parse(e->args) : cJSON_CreateObject();
		ok = !x->args || value_matches(x->args, args);
		cJSON_Delete(args);
		if (ok) {
			matching++;
			if (!matched)
				matched = e->args ? e->args : "{}";
		} else if (!unmatched) {
			unmatched = e->args ? e->args : "{}";
		}
	}
	if (not)
		passed = matching == 0;
	else
		passed = x->times < 0 ? matching >= 1 : matching == (size_t)x->times;

	dputf(d, "%s called %zu time%s", x->subject, calls, calls == 1 ? "" : "s");
	if (x->args && calls)
		dputf(d, ", %zu with matching args", matching);
	if (!not && x->times >= 0 && matching != (size_t)x->times)
		dputf(d, " (expected %d)", x->times);
	if (!calls) {
		/* what was called instead */
		struct { const char *name; size_t n; } seen[16];
		size_t n_seen = 0, others = 0;

		for (size_t i = 0; i < c->n; i++) {
			const struct vagent_trace_event *e = c->ev_sorted[i];
			size_t k;

			if (e->type != VAGENT_TRACE_TOOL_START || !e->name)
				continue;
			for (k = 0; k < n_seen && strcmp(seen[k].name, e->name); k++)
				;
			if (k == n_seen) {
				if (n_seen == VAGENT__ARRAY_SIZE(seen)) {
					others++;
					continue;
				}
				seen[n_seen].name = e->name;
				seen[n_seen++].n = 0;
			}
			seen[k].n++;
		}
		vagent__strbuf_puts(d, "; tools called: ");
		if (!n_seen)
			vagent__strbuf_puts(d, "none");
		for (size_t k = 0; k < n_seen; k++)
			dputf(d, "%s%s (%zu)", k ? ", " : "", seen[k].name, seen[k].n);
		if (others)
			dputf(d, " and %zu more", others);
	} else if (not && matched) {
		vagent__strbuf_puts(d, ": ");
		quote(d, matched);
	} else if (!passed && unmatched) {
		vagent__strbuf_puts(d, "; args seen: ");
		quote(d, unmatched);
	} else if (passed && matched && x->args) {
		vagent__strbuf_puts(d, ": ");
		quote(d, matched);
	}
	return passed;
}

/* Whether utterance text `s` matches `x` (its regex, or a disclosure
 * phrase of the agent). *phrase gets what matched. */
static bool text_matches(const struct ectx *c, const struct vagent__expectation *x,
			 const char *s, const char **phrase)
{
	if (!s)
		return false;
	if (x->has_re) {
		*phrase = x->pattern;
		return regexec(&x->re, s, 0, NULL, 0) == 0;
	}
	for (char **p = c->ev->agent ? c->ev->agent->compliance.disclosure_phrases : NULL;
	     p && *p; p++) {
		if (ci_contains(s, *p)) {
			*phrase = *p;
			return true;
		}
	}
	return false;
}

static bool check_said(struct ectx *c, const struct vagent__expectation *x,
		       struct vagent__strbuf *d)
{
	bool never = x->kind == VAGENT__X_AGENT_NEVER_SAID;
	const char *why, *found = NULL, *phrase;
	char t[32];
	size_t n = 0, found_turn = 0;
	int64_t found_at = -1;

	if (x->heard) {
		if ((why = no_agent_audio(c))) {
			dputf(d, "not evaluated: %s", why);
			return false;
		}
		if (!hear_utterances(c)) {
			dputf(d, "not evaluated: %s", c->oom ? "out of memory"
			      : c->infra_err.message);
			return false;
		}
	}
	if (c->has_tts_text || x->heard || !c->ev->result) {
		for (size_t u = 0; u < c->n_utts; u++) {
			const char *s = x->heard ? c->utts[u].heard : c->utts[u].text.p;

			if (!s || !*s)
				continue;
			n++;
			if (text_matches(c, x, s, &phrase)) {
				found = s;
				found_turn = (size_t)c->utts[u].turn;
				found_at = c->utts[u].start_us;
				break;
			}
		}
	} else {
		/* no texts in the trace: the session result's */
		for (size_t i = 0; i < c->ev->result->n_turns; i++) {
			const struct vagent_session_turn *tu = &c->ev->result->turns[i];

			if (!tu->agent_text || !*tu->agent_text)
				continue;
			n++;
			if (text_matches(c, x, tu->agent_text, &phrase)) {
				found = tu->agent_text;
				found_turn = (size_t)tu->turn;
				break;
			}
		}
	}
	if (found) {
		dputf(d, "/%s/ %s in turn %zu", x->pattern, x->heard ? "heard" : "said",
		      found_turn);
		if (found_at >= 0) {
			fmt_t(t, sizeof(t), found_at);
			dputf(d, " at %s ms", t);
		}
		vagent__strbuf_puts(d, ": ");
		quote(d, found);
		return !never;
	}
	dputf(d, "/%s/ %s in %zu agent utterance%s", x->pattern,
	      x->heard ? "not heard" : "not said", n, n == 1 ? "" : "s");
	if (n) {
		/* the last thing said, to see what came instead */
		for (size_t u = c->n_utts; u-- > 0;) {
			const char *s = x->heard ? c->utts[u].heard : c->utts[u].text.p;

			if (s && *s) {
				vagent__strbuf_puts(d, "; last: ");
				quote(d, s);
				break;
			}
		}
	}
	return never;
}

static bool check_escalated(struct ectx *c, const struct vagent__expectation *x,
			    struct vagent__strbuf *d)
{
	const struct vagent_session_result *r = c->ev->result;
	const struct vagent_trace_event *at = NULL;
	const char *reason = NULL;
	bool escalated = false;
	size_t k = 0;
	char t[32];

	for (size_t i = 0; i < c->n; i++) {
		const struct vagent_trace_event *e = c->ev_sorted[i];

		if (e->type != VAGENT_TRACE_ESCALATION)
			continue;
		/* the first, or the first with the reason wanted */
		if (!escalated || (x->reason.text && !vagent__xmatch_test(&x->reason, reason) &&
				   vagent__xmatch_test(&x->reason, e->reason))) {
			reason = e->reason;
			at = e;
		}
		escalated = true;
		k++;
	}
	if (!escalated && r && r->escalated) {
		escalated = true;
		reason = r->escalation_reason;
	}
	if (!escalated) {
		vagent__strbuf_puts(d, "not escalated");
		return !x->flag;
	}
	dputf(d, "escalated: %s", reason ? reason : "(no reason)");
	if (at) {
		fmt_t(t, sizeof(t), at->t_us);
		dputf(d, " at %s ms (turn %d)", t, at->turn);
	}
	if (k > 1)
		dputf(d, " (%zu escalations)", k);
	if (!x->flag)
		return false;
	if (x->reason.text && !vagent__xmatch_test(&x->reason, reason)) {
		dputf(d, ", not %s", x->reason.text);
		return false;
	}
	return true;
}

/* The value at `path` ("slots.order_number", "actions[0].tool") in `root`;
 * *deepest gets the last object reached, for the detail. */
static const cJSON *json_at(const cJSON *root, const char *path, const cJSON **deepest)
{
	const cJSON *j = root;
	char name[128];

	*deepest = root;
	while (j && *path) {
		if (*path == '[') {
			char *end;
			long idx = strtol(path + 1, &end, 10);

			path = end + 1;         /* past ']' */
			j = cJSON_IsArray(j) ? cJSON_GetArrayItem(j, (int)idx) : NULL;
		} else {
			size_t n = strcspn(path, ".[");

			if (n >= sizeof(name))
				return NULL;
			memcpy(name, path, n);
			name[n] = '\0';
			path += n;
			j = cJSON_IsObject(j) ? cJSON_GetObjectItemCaseSensitive(j, name) : NULL;
		}
		if (*path == '.')
			path++;
		if (j)
			*deepest = j;
	}
	return j;
}

static void list_keys(struct vagent__strbuf *d, const cJSON *o)
{
	const cJSON *it;
	bool first = true;

	if (!cJSON_IsObject(o))
		return;
	vagent__strbuf_puts(d, " (it has ");
	cJSON_ArrayForEach(it, o) {
		dputf(d, "%s%s", first ? "" : ", ", it->string);
		first = false;
	}
	vagent__strbuf_puts(d, first ? "no fields)" : ")");
}

static bool check_package(struct ectx *c, const struct vagent__expectation *x,
			  struct vagent__strbuf *d)
{
	const struct vagent_trace_event *tr = NULL;
	const cJSON *it, *got, *deep;
	cJSON *pkg;
	bool ok = true, first = true;

	for (size_t i = 0; i < c->n; i++)
		if (c->ev_sorted[i]->type == VAGENT_TRACE_TRANSFER)
			tr = c->ev_sorted[i];
	if (!tr) {
		vagent__strbuf_puts(d, "no transfer in the call");
		return false;
	}
	if (!(pkg = cJSON_Parse(tr->package ? tr->package : "null")) || !cJSON_IsObject(pkg)) {
		vagent__strbuf_puts(d, "the transfer package is not a JSON object");
		cJSON_Delete(pkg);
		return false;
	}
	cJSON_ArrayForEach(it, x->package) {
		const char *path = cJSON_IsArray(x->package) ? it->valuestring : it->string;
		char *s;

		got = json_at(pkg, path, &deep);
		if (!got) {
			dreset(d);
			dputf(d, "package has no %s", path);
			list_keys(d, deep);
			ok = false;
			break;
		}
		if (cJSON_IsObject(x->package) && !value_matches(it, got)) {
			dreset(d);
			s = cJSON_PrintUnformatted(got);
			dputf(d, "package %s = %s, not %s", path, s ? s : "?",
			      cJSON_IsString(it) ? it->valuestring : "the value expected");
			free(s);
			ok = false;
			break;
		}
		s = cJSON_PrintUnformatted(got);
		dputf(d, "%s%s = ", first ? "package has " : ", ", path);
		if (s && strlen(s) > 40)
			strcpy(s + 37, "...");
		vagent__strbuf_puts(d, s ? s : "?");
		free(s);
		first = false;
	}
	cJSON_Delete(pkg);
	return ok;
}

static bool check_event_within(struct ectx *c, const struct vagent__expectation *x,
			       struct vagent__strbuf *d)
{
	const char *a = vagent_trace_type_name(x->event_a);
	const char *b = vagent_trace_type_name(x->event_b);
	size_t n_a = 0;
	int64_t worst = -1;
	char t1[32], t2[32], t3[32];

	for (size_t i = 0; i < c->n; i++) {
		const struct vagent_trace_event *ea = c->ev_sorted[i], *eb = NULL;

		if (ea->type != x->event_a)
			continue;
		n_a++;
		/* the first B at or after A's time, whatever the file order of
		 * events written at the same time */
		for (size_t k = 0; k < c->n; k++)
			if (k != i && c->ev_sorted[k]->type == x->event_b &&
			    c->ev_sorted[k]->t_us >= ea->t_us) {
				eb = c->ev_sorted[k];
				break;
			}
		fmt_t(t1, sizeof(t1), ea->t_us);
		if (!eb) {
			dputf(d, "%s at %s ms (turn %d): no %s after it", a, t1, ea->turn, b);
			return false;
		}
		if (eb->t_us - ea->t_us > (int64_t)x->within_ms * 1000) {
			fmt_t(t2, sizeof(t2), eb->t_us);
			fmt_t(t3, sizeof(t3), eb->t_us - ea->t_us);
			dputf(d, "%s at %s ms (turn %d): next %s at %s ms, +%s ms > %d ms",
			      a, t1, ea->turn, b, t2, t3, x->within_ms);
			return false;
		}
		if (eb->t_us - ea->t_us > worst)
			worst = eb->t_us - ea->t_us;
	}
	if (!n_a) {
		dputf(d, "no %s in the call", a);
		return false;
	}
	fmt_t(t3, sizeof(t3), worst);
	dputf(d, "%zu %s, each followed by %s within %d ms (max +%s ms)", n_a, a, b,
	      x->within_ms, t3);
	return true;
}

/* Corpus WER of the turns' recognised text against the caller's true
 * text (english normalizer). false: no turn with a caller text. */
static bool call_wer(const struct ectx *c, struct vagent_wer_counts *total,
		     size_t *turns)
{
	const struct vagent_session_result *r = c->ev->result;
	struct vagent_wer_options o;

	memset(total, 0, sizeof(*total));
	*turns = 0;
	vagent_wer_options_default(&o);
	o.normalizer = VAGENT_NORMALIZE_ENGLISH;
	for (size_t i = 0; r && i < r->n_turns; i++) {
		struct vagent_wer_counts w;

		if (!r->turns[i].caller_text)
			continue;
		if (vagent_wer_align_text(r->turns[i].caller_text,
					  r->turns[i].stt_text ? r->turns[i].stt_text : "",
					  &o, &w, NULL) != VAGENT_OK)
			continue;
		total->cor += w.cor;
		total->sub += w.sub;
		total->del += w.del;
		total->ins += w.ins;
		total->ref_words += w.ref_words;
		total->hyp_words += w.hyp_words;
		(*turns)++;
	}
	return *turns > 0;
}

static bool check_latency(struct ectx *c, const struct vagent__expectation *x,
			  struct vagent__strbuf *d)
{
	struct vagent_trace_metrics *m = NULL;
	struct vagent_stats *st = NULL;
	struct vagent_slo_result r;
	struct vagent_wer_counts w;
	char detail[300];
	size_t turns = 0;
	bool has_wer = false;
	double wer = 0;

	if (x->slo.is_wer) {
		if ((has_wer = call_wer(c, &w, &turns)))
			wer = vagent_wer_rate(&w);
	} else {
		struct vagent_trace_event *evs = c->trace ? c->trace->events : NULL;

		if (vagent_metrics_from_trace(evs, c->trace ? c->trace->n : 0, &m, NULL) != VAGENT_OK ||
		    !(st = vagent_stats_new()) || vagent_stats_add_metrics(st, m) != VAGENT_OK) {
			vagent_trace_metrics_free(m);
			vagent_stats_free(st);
			c->oom = true;
			vagent__strbuf_puts(d, "not evaluated: out of memory");
			return false;
		}
	}
	vagent_slo_eval(&x->slo, st, has_wer, wer, &r, detail, sizeof(detail));
	vagent__strbuf_puts(d, detail);
	if (st && r.has_value)
		dputf(d, " (%zu sample%s)", vagent_stats_count(st, x->slo.metric),
		      vagent_stats_count(st, x->slo.metric) == 1 ? "" : "s");
	vagent_trace_metrics_free(m);
	vagent_stats_free(st);
	return r.passed;
}

static bool check_wer(struct ectx *c, const struct vagent__expectation *x,
		      struct vagent__strbuf *d)
{
	struct vagent_wer_counts w;
	char v[48], lim[48];
	size_t turns;
	double rate;

	if (!call_wer(c, &w, &turns)) {
		vagent__strbuf_puts(d, c->ev->result ? "no turn with a known caller text to "
				    "score" : "no session result (caller texts) to score");
		return false;
	}
	rate = vagent_wer_rate(&w);
	vagent__fmt_ms(v, sizeof(v), rate * 100);
	vagent__fmt_ms(lim, sizeof(lim), x->wer_max * 100);
	dputf(d, "wer %s%% %s %s%% (sub %zu, del %zu, ins %zu of %zu words in %zu turn%s)",
	      v, rate <= x->wer_max ? "<=" : ">", lim, w.sub, w.del, w.ins, w.ref_words,
	      turns, turns == 1 ? "" : "s");
	return rate <= x->wer_max;
}

static bool check_disclosure(struct ectx *c, const struct vagent__expectation *x,
			     struct vagent__strbuf *d)
{
	const char *why, *phrase = NULL;
	char t1[32], t2[32], t3[32];
	int64_t answer;
	size_t n = 0;

	if (!x->has_re && (!c->ev->agent || !c->ev->agent->compliance.disclosure_phrases ||
			   !c->ev->agent->compliance.disclosure_phrases[0])) {
		vagent__strbuf_puts(d, "no disclosure phrases: give \"phrase\" or the agent");
		return false;
	}
	if (!c->n_utts) {
		vagent__strbuf_puts(d, "the agent never spoke");
		return false;
	}
	if (x->heard) {
		if ((why = no_agent_audio(c))) {
			dputf(d, "not evaluated: %s", why);
			return false;
		}
		if (!hear_utterances(c)) {
			dputf(d, "not evaluated: %s", c->oom ? "out of memory"
			      : c->infra_err.message);
			return false;
		}
	}
	answer = c->utts[0].start_us;
	fmt_t(t2, sizeof(t2), answer);
	for (size_t u = 0; u < c->n_utts; u++) {
		const struct utterance *ut = &c->utts[u];
		const char *s = x->heard ? ut->heard : ut->text.p;

		if (!s || !*s)
			continue;
		n++;
		if (!text_matches(c, x, s, &phrase))
			continue;
		fmt_t(t1, sizeof(t1), ut->start_us);
		fmt_t(t3, sizeof(t3), ut->start_us - answer);
		dputf(d, "\"%s\" %s at %s ms, %s ms after answer (%s ms)%s ", phrase,
		      x->heard ? "heard" : "said", t1, t3, t2,
		      ut->start_us - answer <= (int64_t)x->within_ms * 1000 ? ":" : ",");
		if (ut->start_us - answer > (int64_t)x->within_ms * 1000) {
			dputf(d, "later than %d ms", x->within_ms);
			return false;
		}
		quote(d, s);
		return true;
	}
	if (x->has_re) {
		dputf(d, "/%s/ not %s in %zu agent utterance%s", x->pattern,
		      x->heard ? "heard" : "said", n, n == 1 ? "" : "s");
	} else {
		dputf(d, "no disclosure phrase (");
		for (char **p = c->ev->agent->compliance.disclosure_phrases; *p; p++)
			dputf(d, "%s\"%s\"", p == c->ev->agent->compliance.disclosure_phrases ?
			      "" : ", ", *p);
		dputf(d, ") %s in %zu agent utterance%s", x->heard ? "heard" : "said", n,
		      n == 1 ? "" : "s");
	}
	return false;
}

/* A card number in `text`? Then the detail names `where` (its text
 * redacted) and true. */
static bool card_in(struct vagent__strbuf *d, const char *where, const char *text)
{
	size_t off, len;
	char *span;

	if (!text || !vagent_card_number_find(text, &off, &len))
		return false;
	span = strndup(text + off, len);
	if (span)
		vagent_card_number_redact(span);
	dputf(d, "a card number (%s) in %s", span ? span : "redacted", where);
	free(span);
	return true;
}

static bool check_card(struct ectx *c, const struct vagent__expectation *x,
		       struct vagent__strbuf *d)
{
	const struct vagent_session_result *r = c->ev->result;
	static const char *const fields[] = { "caller_text", "stt_text", "agent_text" };
	struct vagent__strbuf dtmf = { 0 };
	char where[96];
	size_t lines = 0, segs = 0, n_dtmf = 0;

	/* the transcripts */
	for (size_t i = 0; r && i < r->n_turns; i++) {
		const char *texts[] = { r->turns[i].caller_text, r->turns[i].stt_text,
					r->turns[i].agent_text };

		for (size_t f = 0; f < 3; f++) {
			snprintf(where, sizeof(where), "turn %d's %s", r->turns[i].turn, fields[f]);
			if (card_in(d, where, texts[f]))
				return false;
		}
	}
	/* the trace, line by line, and the keys pressed */
	for (const char *p = c->ev->trace, *end = p ? p + c->ev->trace_len : NULL;
	     p && p < end;) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		size_t n = nl ? (size_t)(nl - p) : (size_t)(end - p);
		char *line = strndup(p, n);

		lines++;
		snprintf(where, sizeof(where), "the trace, line %zu", lines);
		if (!line) {
			c->oom = true;
			vagent__strbuf_puts(d, "not evaluated: out of memory");
			return false;
		}
		if (card_in(d, where, line)) {
			free(line);
			return false;
		}
		free(line);
		p += n + 1;
	}
	for (size_t i = 0; i < c->n; i++)
		if (c->ev_sorted[i]->type == VAGENT_TRACE_DTMF && c->ev_sorted[i]->digit) {
			vagent__strbuf_puts(&dtmf, c->ev_sorted[i]->digit);
			n_dtmf++;
		}
	if (card_in(d, "the trace's dtmf digits", dtmf.p)) {
		vagent__strbuf_release(&dtmf);
		return false;
	}
	vagent__strbuf_release(&dtmf);
	/* the other outputs */
	for (size_t i = 0; i < c->ev->n_texts; i++) {
		snprintf(where, sizeof(where), "output %zu", i + 1);
		if (card_in(d, where, c->ev->texts[i]))
			return false;
	}
	/* the recording's caller channel: key tones and speech */
	if (x->flag) {
		const struct vagent_audio *a = c->ev->recording;
		char digits[512];
		bool any_speech = false;

		if (!a) {
			vagent__strbuf_puts(d, "not evaluated: no recording of the call to scan "
					    "(\"recording\": false skips it)");
			return false;
		}
		vagent_dtmf_detect_audio(a, 0, digits, sizeof(digits));
		if (card_in(d, "the recording's caller channel (key tones)", digits))
			return false;
		/* the caller's speech where the trace has it, else all of it */
		for (size_t i = 0; i < c->n; i++) {
			const struct vagent_trace_event *s = c->ev_sorted[i], *e = NULL;
			char *heard;

			if (s->type != VAGENT_TRACE_CALLER_SPEECH_START)
				continue;
			for (size_t k = i + 1; k < c->n && !e; k++)
				if (c->ev_sorted[k]->type == VAGENT_TRACE_CALLER_SPEECH_END)
					e = c->ev_sorted[k];
			any_speech = true;
			if (!transcribe(c, 0, s->t_us, e ? e->t_us : (int64_t)(vagent_audio_duration(a) * 1e6), &heard)) {
				dputf(d, "not evaluated: %s", c->oom ? "out of memory"
				      : c->infra_err.message);
				return false;
			}
			segs++;
			snprintf(where, sizeof(where), "the recording's caller channel at %lld ms "
				 "(speech)", (long long)(s->t_us / 1000));
			if (card_in(d, where, heard)) {
				free(heard);
				return false;
			}
			free(heard);
		}
		if (!any_speech) {
			char *heard;

			if (!transcribe(c, 0, 0, (int64_t)(vagent_audio_duration(a) * 1e6), &heard)) {
				dputf(d, "not evaluated: %s", c->oom ? "out of memory"
				      : c->infra_err.message);
				return false;
			}
			segs++;
			if (card_in(d, "the recording's caller channel (speech)", heard)) {
				free(heard);
				return false;
			}
			free(heard);
		}
	}
	dputf(d, "no card number in %zu turns' texts, %zu trace lines, %zu dtmf digit%s, "
	      "%zu output%s", r ? r->n_turns : 0, lines, n_dtmf, n_dtmf == 1 ? "" : "s",
	      c->ev->n_texts, c->ev->n_texts == 1 ? "" : "s");
	if (x->flag)
		dputf(d, ", the recording's caller channel (key tones, %zu speech "
		      "segment%s)", segs, segs == 1 ? "" : "s");
	return true;
}

static bool check_end_reason(struct ectx *c, const struct vagent__expectation *x,
			     struct vagent__strbuf *d)
{
	const struct vagent_trace_event *e = NULL;
	const char *reason = NULL;

	for (size_t i = 0; i < c->n; i++)
		if (c->ev_sorted[i]->type == VAGENT_TRACE_CALL_END)
			e = c->ev_sorted[i];
	if (e)
		reason = e->reason;
	if (!reason && c->ev->result)
		reason = c->ev->result->end_reason;
	if (!reason) {
		vagent__strbuf_puts(d, e ? "the call ended without a reason" : "the call has no end");
		return false;
	}
	dputf(d, "the call ended: %s", reason);
	return vagent__xmatch_test(&x->reason, reason);
}

static bool check_turns(struct ectx *c, const struct vagent__expectation *x,
			struct vagent__strbuf *d)
{
	int turns = 0;

	for (size_t i = 0; i < c->n; i++)
		if (c->ev_sorted[i]->turn > turns)
			turns = c->ev_sorted[i]->turn;
	if (!c->n && c->ev->result)
		for (size_t i = 0; i < c->ev->result->n_turns; i++)
			if (c->ev->result->turns[i].turn > turns)
				turns = c->ev->result->turns[i].turn;
	dputf(d, "%d caller turn%s", turns, turns == 1 ? "" : "s");
	if (turns < x->min || turns > x->max) {
		if (x->min == x->max)
			dputf(d, ", expected %d", x->min);
		else
			dputf(d, ", expected %d..%d", x->min, x->max);
		return false;
	}
	return true;
}

static bool check_count(struct ectx *c, const struct vagent__expectation *x,
			struct vagent__strbuf *d)
{
	vagent_trace_type type = x->kind == VAGENT__X_FILLER ? VAGENT_TRACE_FILLER
							     : VAGENT_TRACE_BARGE_IN;
	const struct vagent_trace_event *e = first_event(c, type);
	size_t n = count_events(c, type);
	char t[32];

	if (!n) {
		dputf(d, "no %s in the call", x->kind == VAGENT__X_FILLER ? "filler" : "barge-in");
		return !x->flag;
	}
	fmt_t(t, sizeof(t), e->t_us);
	dputf(d, "%zu %s%s, the first at %s ms (turn %d)", n,
	      x->kind == VAGENT__X_FILLER ? "filler" : "barge-in", n == 1 ? "" : "s", t, e->turn);
	if (e->text) {
		vagent__strbuf_puts(d, ": ");
		quote(d, e->text);
	}
	return x->flag;
}

static bool check_one(struct ectx *c, const struct vagent__expectation *x,
		      struct vagent__strbuf *d)
{
	switch (x->kind) {
	case VAGENT__X_TOOL_CALLED:
	case VAGENT__X_TOOL_NOT_CALLED:
		return check_tool(c, x, d);
	case VAGENT__X_AGENT_SAID:
	case VAGENT__X_AGENT_NEVER_SAID:
		return check_said(c, x, d);
	case VAGENT__X_ESCALATED:
		return check_escalated(c, x, d);
	case VAGENT__X_TRANSFER_PACKAGE:
		return check_package(c, x, d);
	case VAGENT__X_EVENT_WITHIN:
		return check_event_within(c, x, d);
	case VAGENT__X_LATENCY:
		return check_latency(c, x, d);
	case VAGENT__X_WER_MAX:
		return check_wer(c, x, d);
	case VAGENT__X_DISCLOSURE:
		return check_disclosure(c, x, d);
	case VAGENT__X_NO_CARD_NUMBER:
		return check_card(c, x, d);
	case VAGENT__X_END_REASON:
		return check_end_reason(c, x, d);
	case VAGENT__X_TURNS:
		return check_turns(c, x, d);
	case VAGENT__X_FILLER:
	case VAGENT__X_BARGE_IN:
		return check_count(c, x, d);
	}
	return false;
}

void vagent_expectation_outcomes_free(struct vagent_expectation_outcomes *o)
{
	if (!o)
		return;
	for (size_t i = 0; i < o->n; i++) {
		/* owned here; const only for the readers */
		free((void *)(uintptr_t)o->results[i].name);
		free((void *)(uintptr_t)o->results[i].detail);
	}
	free(o->results);
	free(o);
}

static void ctx_free(struct ectx *c)
{
	for (size_t u = 0; u < c->n_utts; u++) {
		vagent__strbuf_release(&c->utts[u].text);
		free(c->utts[u].heard);
	}
	free(c->utts);
	free(c->ev_sorted);
	vagent_trace_free(c->trace);
	vagent_sphinx_transcriber_free(c->stt);
}

vagent_status vagent_expectations_eval(const struct vagent_expectations *x,
				       const struct vagent_call_evidence *ev,
				       struct vagent_expectation_outcomes **out,
				       struct vagent_error *err)
{
	struct ectx c = { .ev = ev };
	struct vagent_expectation_outcomes *o = NULL;
	vagent_status st;

	*out = NULL;
	vagent_error_clear(err);
	c.name = ev->name ? ev->name : "call";
	if (ev->trace && ev->trace_len) {
		st = vagent_trace_parse(ev->trace, ev->trace_len, c.name, &c.trace, err);
		if (st != VAGENT_OK)
			return st;
		c.n = c.trace->n;
		if (c.n && !(c.ev_sorted = malloc(c.n * sizeof(*c.ev_sorted))))
			goto oom;
		for (size_t i = 0; i < c.n; i++)
			c.ev_sorted[i] = &c.trace->events[i];
		if (c.n)
			qsort(c.ev_sorted, c.n, sizeof(*c.ev_sorted), cmp_event_time);
	}
	if (!build_utterances(&c))
		goto oom;
	if (!(o = calloc(1, sizeof(*o))))
		goto oom;
	if (x && x->n && !(o->results = calloc(x->n, sizeof(*o->results))))
		goto oom;
	for (size_t i = 0; x && i < x->n; i++) {
		struct vagent__strbuf d = { 0 };
		bool passed = check_one(&c, &x->items[i], &d);

		o->results[i].name = vagent__one_line(strdup(x->items[i].name));
		o->results[i].detail = vagent__one_line(vagent__strbuf_detach(&d));
		o->results[i].passed = passed;
		o->n++;
		o->failed += !passed;
		if (!o->results[i].name || !o->results[i].detail || c.oom)
			goto oom;
	}
	*out = o;
	st = c.infra;
	if (st != VAGENT_OK)
		vagent__error_set(err, st, NULL, "%s: %s", c.name, c.infra_err.message);
	ctx_free(&c);
	return st;
oom:
	ctx_free(&c);
	vagent_expectation_outcomes_free(o);
	return vagent__error_set(err, VAGENT_ENOMEM, c.name, "out of memory");
}
