/*
 * result.c — the `--json` run result of DESIGN.md §5 (docs/result.md):
 * every call's turns with their texts and hops (recomputed from the call's
 * trace), tool calls, interruptions, WER and expectations, then a summary
 * with the percentiles of every metric, the corpus WER, the containment
 * rate and the SLOs. Written with a small pretty-printer over a strbuf, so
 * the key order and the number formatting are fixed: milliseconds from
 * integer microseconds, rates rounded to 6 decimals, trailing zeros
 * trimmed, never through a double's shortest representation.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/internal.h"
#include "trace/trace_int.h"

/* ------------------------------------------------------------------ */
/* A JSON pretty-printer: 2-space indent, "key": value, "[]" and "{}"
 * when empty. */

struct jw {
	struct vagent__strbuf b;
	int depth;
	bool first;           /* nothing written yet in the open container */
};

static void jw_indent(struct jw *w)
{
	vagent__strbuf_put(&w->b, "\n", 1);
	vagent__strbuf_fill(&w->b, ' ', (size_t)w->depth * 2);
}

static void jw_string_body(struct jw *w, const char *s)
{
	size_t i = 0, plain = 0;

	vagent__strbuf_put(&w->b, "\"", 1);
	for (;;) {
		unsigned c = (unsigned char)s[i];
		size_t len = (c & 0xe0) == 0xc0 ? 2 : (c & 0xf0) == 0xe0 ? 3
			     : (c & 0xf8) == 0xf0 ? 4 : 0;
		const char *esc;
		char u[8];

		if (!c)
			break;
		if (c >= 0x20 && c < 0x80 && c != '"' && c != '\\') {
			i++;
			continue;
		}
		/* A valid sequence is copied; validation stops at a NUL. */
		if (c >= 0x80 && len && vagent__utf8_valid(s + i, len)) {
			i += len;
			continue;
		}
		vagent__strbuf_put(&w->b, s + plain, i - plain);
		switch (c) {
		case '"': esc = "\\\""; break;
		case '\\': esc = "\\\\"; break;
		case '\n': esc = "\\n"; break;
		case '\r': esc = "\\r"; break;
		case '\t': esc = "\\t"; break;
		case '\b': esc = "\\b"; break;
		case '\f': esc = "\\f"; break;
		default:
			if (c < 0x20) {
				snprintf(u, sizeof(u), "\\u%04x", c);
				esc = u;
			} else {
				esc = "\\ufffd";   /* a byte of invalid UTF-8 */
			}
		}
		vagent__strbuf_puts(&w->b, esc);
		plain = ++i;
	}
	vagent__strbuf_put(&w->b, s + plain, i - plain);
	vagent__strbuf_put(&w->b, "\"", 1);
}

/* Start a member (`key` != NULL) or an element of the open container. */
static void jw_key(struct jw *w, const char *key)
{
	if (w->depth > 0) {
		if (!w->first)
			vagent__strbuf_put(&w->b, ",", 1);
		jw_indent(w);
	}
	w->first = false;
	if (key) {
		jw_string_body(w, key);
		vagent__strbuf_put(&w->b, ": ", 2);
	}
}

static void jw_open(struct jw *w, const char *key, char c)
{
	jw_key(w, key);
	vagent__strbuf_put(&w->b, &c, 1);
	w->depth++;
	w->first = true;
}

static void jw_close(struct jw *w, char c)
{
	w->depth--;
	if (!w->first)
		jw_indent(w);
	vagent__strbuf_put(&w->b, &c, 1);
	w->first = false;
}

static void jw_raw(struct jw *w, const char *key, const char *text)
{
	jw_key(w, key);
	vagent__strbuf_puts(&w->b, text);
}

/* A string, or null for NULL. */
static void jw_str(struct jw *w, const char *key, const char *s)
{
	jw_key(w, key);
	if (s)
		jw_string_body(w, s);
	else
		vagent__strbuf_puts(&w->b, "null");
}

static void jw_bool(struct jw *w, const char *key, bool v)
{
	jw_raw(w, key, v ? "true" : "false");
}

static void jw_size(struct jw *w, const char *key, size_t v)
{
	jw_key(w, key);
	vagent__strbuf_printf(&w->b, "%zu", v);
}

static void jw_int(struct jw *w, const char *key, int v)
{
	jw_key(w, key);
	vagent__strbuf_printf(&w->b, "%d", v);
}

/* v / 10^decimals, without trailing zeros (nor a trailing point):
 * 1040500 with 3 decimals is "1040.5", 1000000 is "1000". */
static void jw_fixed(struct jw *w, const char *key, int64_t v, unsigned decimals)
{
	uint64_t a = v < 0 ? (uint64_t)0 - (uint64_t)v : (uint64_t)v, scale = 1;
	char frac[24];
	size_t n;

	for (unsigned i = 0; i < decimals; i++)
		scale *= 10;
	jw_key(w, key);
	vagent__strbuf_printf(&w->b, "%s%llu", v < 0 ? "-" : "",
			      (unsigned long long)(a / scale));
	snprintf(frac, sizeof(frac), "%0*llu", (int)decimals, (unsigned long long)(a % scale));
	n = decimals;
	while (n && frac[n - 1] == '0')
		n--;
	if (n) {
		vagent__strbuf_put(&w->b, ".", 1);
		vagent__strbuf_put(&w->b, frac, n);
	}
}

/* Microseconds as milliseconds (up to 3 decimals). */
static void jw_ms(struct jw *w, const char *key, int64_t us)
{
	jw_fixed(w, key, us, 3);
}

/* A hop's n and percentiles (the summary's "hops"). */
static void hop_summary(struct jw *w, const struct vagent_stat_summary *s)
{
	jw_size(w, "n", s->n);
	jw_ms(w, "p50", s->p50);
	jw_ms(w, "p90", s->p90);
	jw_ms(w, "p95", s->p95);
	jw_ms(w, "p99", s->p99);
	jw_ms(w, "max", s->max);
	jw_ms(w, "mean", (int64_t)llround(s->mean));
}

/* A fraction or a value in any unit, rounded to 6 decimals; null when not
 * finite. Beyond 10^12 (no metric gets there) printed as an integer. */
static void jw_real(struct jw *w, const char *key, double v)
{
	if (!isfinite(v)) {
		jw_raw(w, key, "null");
	} else if (fabs(v) < 1e12) {
		jw_fixed(w, key, (int64_t)llround(v * 1e6), 6);
	} else {
		jw_key(w, key);
		vagent__strbuf_printf(&w->b, "%.0f", v);
	}
}

/* ------------------------------------------------------------------ */
/* The result */

/* The per-turn hops, in the order they are written. */
static const vagent_metric turn_hops[] = {
	VAGENT_METRIC_STT_FIRST_PARTIAL, VAGENT_METRIC_ENDPOINT, VAGENT_METRIC_STT_FINAL,
	VAGENT_METRIC_LLM_TTFT, VAGENT_METRIC_TTS_TTFB, VAGENT_METRIC_E2E,
	/* cloud providers only (provider.first_byte) */
	VAGENT_METRIC_STT_TTFB, VAGENT_METRIC_LLM_TTFB, VAGENT_METRIC_TTS_NET_TTFB,
};

static void wer_object(struct jw *w, const char *key, const struct vagent_wer_counts *c)
{
	jw_open(w, key, '{');
	jw_real(w, "wer", vagent_wer_rate(c));
	jw_size(w, "sub", c->sub);
	jw_size(w, "del", c->del);
	jw_size(w, "ins", c->ins);
	jw_size(w, "ref_words", c->ref_words);
	jw_close(w, '}');
}

static void turn_object(struct jw *w, const struct vagent_session_turn *rt,
			const struct vagent_turn_metrics *mt)
{
	jw_open(w, NULL, '{');
	jw_int(w, "turn", rt ? rt->turn : mt->turn);
	jw_str(w, "caller_text", rt ? rt->caller_text : NULL);
	jw_str(w, "stt_text", rt ? rt->stt_text : NULL);
	jw_str(w, "agent_text", rt ? rt->agent_text : NULL);
	jw_bool(w, "interrupted", (rt && rt->interrupted) || (mt && mt->interrupted));
	jw_open(w, "hops", '{');
	for (size_t i = 0; mt && i < VAGENT__ARRAY_SIZE(turn_hops); i++)
		if (mt->hop[turn_hops[i]] != VAGENT_METRIC_ABSENT)
			jw_ms(w, vagent_metric_name(turn_hops[i]), mt->hop[turn_hops[i]]);
	jw_close(w, '}');
	jw_close(w, '}');
}

/* A report turn's sort key: its number, then its place (a stable order). */
struct turn_key {
	int turn;
	size_t index;
};

static int cmp_turn_key(const void *a, const void *b)
{
	const struct turn_key *x = a, *y = b;

	if (x->turn != y->turn)
		return x->turn < y->turn ? -1 : 1;
	return x->index < y->index ? -1 : x->index > y->index;
}

/* The report's turns in ascending turn order (stable), merged with the
 * trace's turns (already ascending); a trace turn goes with the first
 * report turn of the same number. */
static vagent_status turns_array(struct jw *w, const struct vagent_call_report *c,
				 const struct vagent_call_metrics *cm)
{
	struct turn_key *keys = NULL;
	size_t nm = cm ? cm->n_turns : 0, i = 0, k = 0;

	if (c->n_turns) {
		keys = malloc(c->n_turns * sizeof(*keys));
		if (!keys)
			return VAGENT_ENOMEM;
		for (size_t j = 0; j < c->n_turns; j++)
			keys[j] = (struct turn_key){ c->turns[j].turn, j };
		qsort(keys, c->n_turns, sizeof(*keys), cmp_turn_key);
	}
	jw_open(w, "turns", '[');
	while (i < c->n_turns || k < nm) {
		const struct vagent_session_turn *rt = i < c->n_turns ? &c->turns[keys[i].index] : NULL;
		const struct vagent_turn_metrics *mt = k < nm ? &cm->turns[k] : NULL;

		if (rt && mt && rt->turn == mt->turn) {
			turn_object(w, rt, mt);
			i++, k++;
			/* Later report turns with the same number: no metrics. */
			while (i < c->n_turns && keys[i].turn == rt->turn)
				turn_object(w, &c->turns[keys[i++].index], NULL);
		} else if (rt && (!mt || rt->turn < mt->turn)) {
			turn_object(w, rt, NULL);
			i++;
		} else {
			turn_object(w, NULL, mt);
			k++;
		}
	}
	jw_close(w, ']');
	free(keys);
	return VAGENT_OK;
}

/* This call's WER over its turns with a caller_text; *any false when none. */
static vagent_status call_wer(const struct vagent_call_report *c, struct vagent_wer_counts *out,
			      bool *any, struct vagent_error *err)
{
	struct vagent_wer_options o;

	vagent_wer_options_default(&o);
	o.normalizer = VAGENT_NORMALIZE_ENGLISH;
	memset(out, 0, sizeof(*out));
	*any = false;
	for (size_t i = 0; i < c->n_turns; i++) {
		const struct vagent_session_turn *t = &c->turns[i];
		struct vagent_wer_counts wc;
		vagent_status st;

		if (!t->caller_text)
			continue;
		st = vagent_wer_align_text(t->caller_text, t->stt_text ? t->stt_text : "", &o, &wc,
					   err);
		if (st != VAGENT_OK)
			return st;
		out->cor += wc.cor;
		out->sub += wc.sub;
		out->del += wc.del;
		out->ins += wc.ins;
		out->ref_words += wc.ref_words;
		out->hyp_words += wc.hyp_words;
		*any = true;
	}
	return VAGENT_OK;
}

/* The call metrics of this report: the call of the report's name, else
 * the trace's first call; NULL when the trace has none. */
static struct vagent_call_metrics *pick_call(const struct vagent_trace_metrics *tm,
					     const char *name)
{
	if (!tm || !tm->n_calls)
		return NULL;
	for (size_t i = 0; name && i < tm->n_calls; i++)
		if (tm->calls[i].call && !strcmp(tm->calls[i].call, name))
			return &tm->calls[i];
	return &tm->calls[0];
}

static vagent_status call_object(struct jw *w, const struct vagent_call_report *c,
				 struct vagent_stats *stats, struct vagent_wer_counts *corpus,
				 bool *corpus_any, struct vagent_error *err)
{
	const char *name = c->name ? c->name : "call";
	struct vagent_trace *tr = NULL;
	struct vagent_trace_metrics *tm = NULL;
	struct vagent_call_metrics *cm = NULL;
	struct vagent_wer_counts wc;
	bool any;
	vagent_status st = VAGENT_OK;

	if (c->trace) {
		struct vagent_error perr;

		vagent_error_clear(&perr);
		st = vagent_trace_parse(c->trace, c->trace_len, name, &tr, &perr);
		if (st == VAGENT_ENOMEM)
			return vagent__error_set(err, st, NULL, "out of memory");
		if (st != VAGENT_OK)
			return vagent__error_set(err, st, NULL, "call %s: %s", name, perr.message);
		st = vagent_metrics_from_trace(tr->events, tr->n, &tm, err);
		if (st != VAGENT_OK)
			goto done;
		cm = pick_call(tm, c->name);
		if (cm) {
			struct vagent_trace_metrics one = { 1, cm };

			if (vagent_stats_add_metrics(stats, &one) != VAGENT_OK) {
				st = vagent__error_set(err, VAGENT_ENOMEM, NULL, "out of memory");
				goto done;
			}
		}
	}
	st = call_wer(c, &wc, &any, err);
	if (st != VAGENT_OK)
		goto done;

	jw_open(w, NULL, '{');
	jw_str(w, "name", name);
	jw_bool(w, "passed", c->passed);
	jw_bool(w, "escalated", c->escalated);
	if (cm && cm->answer != VAGENT_METRIC_ABSENT)
		jw_ms(w, "answer_ms", cm->answer);
	st = turns_array(w, c, cm);
	if (st != VAGENT_OK) {
		st = vagent__error_set(err, st, NULL, "out of memory");
		goto done;
	}
	jw_open(w, "tools", '[');
	for (size_t i = 0; cm && i < cm->n_tools; i++) {
		const struct vagent_tool_metrics *t = &cm->tools[i];

		jw_open(w, NULL, '{');
		jw_int(w, "turn", t->turn);
		jw_str(w, "name", t->name);
		jw_str(w, "id", t->id);
		jw_str(w, "outcome", t->outcome);
		if (t->tool != VAGENT_METRIC_ABSENT)
			jw_ms(w, "tool_ms", t->tool);
		jw_close(w, '}');
	}
	jw_close(w, ']');
	jw_open(w, "barge_ins", '[');
	for (size_t i = 0; cm && i < cm->n_barge_ins; i++) {
		const struct vagent_barge_in_metrics *b = &cm->barge_ins[i];

		jw_open(w, NULL, '{');
		jw_int(w, "turn", b->turn);
		jw_ms(w, "onset_ms", b->onset_us);
		jw_ms(w, "decision_ms", b->decision_us);
		if (b->barge_in_stop != VAGENT_METRIC_ABSENT)
			jw_ms(w, "stop_ms", b->barge_in_stop);
		jw_close(w, '}');
	}
	jw_close(w, ']');
	if (any) {
		wer_object(w, "wer", &wc);
		corpus->cor += wc.cor;
		corpus->sub += wc.sub;
		corpus->del += wc.del;
		corpus->ins += wc.ins;
		corpus->ref_words += wc.ref_words;
		corpus->hyp_words += wc.hyp_words;
		*corpus_any = true;
	} else {
		jw_raw(w, "wer", "null");
	}
	jw_open(w, "expectations", '[');
	for (size_t i = 0; c->expectations && i < c->n_expectations; i++) {
		const struct vagent_expectation_result *e = &c->expectations[i];

		jw_open(w, NULL, '{');
		jw_str(w, "name", e->name);
		jw_bool(w, "passed", e->passed);
		jw_str(w, "detail", e->detail);
		jw_close(w, '}');
	}
	jw_close(w, ']');
	jw_close(w, '}');
done:
	vagent_trace_metrics_free(tm);
	vagent_trace_free(tr);
	return st;
}

static void summary_object(struct jw *w, const struct vagent_call_report *calls, size_t n_calls,
			   const struct vagent_stats *stats,
			   const struct vagent_wer_counts *corpus, bool corpus_any,
			   const struct vagent_slo_result *slos, size_t n_slos)
{
	size_t passed = 0, contained = 0;

	for (size_t i = 0; i < n_calls; i++) {
		passed += calls[i].passed;
		contained += !calls[i].escalated;
	}
	jw_open(w, "summary", '{');
	jw_size(w, "calls", n_calls);
	jw_size(w, "passed", passed);
	jw_open(w, "hops", '{');
	for (int m = 0; m < VAGENT_METRIC_COUNT; m++) {
		struct vagent_stat_summary s;

		if (vagent_stats_summary(stats, (vagent_metric)m, &s) != VAGENT_OK || !s.n)
			continue;
		jw_open(w, vagent_metric_name((vagent_metric)m), '{');
		hop_summary(w, &s);
		/* per provider, when more than one answered (a fallback) */
		if (vagent_stats_provider(stats, (vagent_metric)m, 1)) {
			const char *name;

			jw_open(w, "providers", '{');
			for (size_t i = 0; (name = vagent_stats_provider(stats, (vagent_metric)m, i));
			     i++)
				if (vagent_stats_provider_summary(stats, (vagent_metric)m, name,
								  &s) == VAGENT_OK) {
					jw_open(w, name, '{');
					hop_summary(w, &s);
					jw_close(w, '}');
				}
			jw_close(w, '}');
		}
		jw_close(w, '}');
	}
	jw_close(w, '}');
	if (corpus_any)
		wer_object(w, "wer", corpus);
	else
		jw_raw(w, "wer", "null");
	if (n_calls)
		jw_real(w, "containment_rate", (double)contained / (double)n_calls);
	else
		jw_raw(w, "containment_rate", "null");
	jw_open(w, "slo", '[');
	for (size_t i = 0; slos && i < n_slos; i++) {
		jw_open(w, NULL, '{');
		jw_str(w, "expr", slos[i].expr);
		if (slos[i].has_value)
			jw_real(w, "value", slos[i].value);
		else
			jw_raw(w, "value", "null");
		jw_bool(w, "passed", slos[i].passed);
		jw_close(w, '}');
	}
	jw_close(w, ']');
	jw_close(w, '}');
}

vagent_status vagent_result_to_json(const struct vagent_call_report *calls,
				    size_t n_calls,
				    const struct vagent_slo_result *slos,
				    size_t n_slos, char **out,
				    struct vagent_error *err)
{
	struct jw w = { { 0 }, 0, true };
	struct vagent_stats *stats;
	struct vagent_wer_counts corpus = { 0 };
	bool corpus_any = false;
	vagent_status st = VAGENT_OK;

	vagent_error_clear(err);
	if (!out)
		return vagent__error_set(err, VAGENT_EINVAL, "result", "no output pointer");
	*out = NULL;
	if ((n_calls && !calls) || (n_slos && !slos))
		return vagent__error_set(err, VAGENT_EINVAL, "result",
					 "%s is NULL with a non-zero count",
					 n_calls && !calls ? "calls" : "slos");
	stats = vagent_stats_new();
	if (!stats)
		return vagent__error_set(err, VAGENT_ENOMEM, NULL, "out of memory");

	jw_open(&w, NULL, '{');
	jw_str(&w, "version", vagent_version());
	jw_int(&w, "schema", 1);
	jw_open(&w, "calls", '[');
	for (size_t i = 0; i < n_calls && st == VAGENT_OK; i++)
		st = call_object(&w, &calls[i], stats, &corpus, &corpus_any, err);
	if (st == VAGENT_OK) {
		jw_close(&w, ']');
		summary_object(&w, calls, n_calls, stats, &corpus, corpus_any, slos, n_slos);
		jw_close(&w, '}');
		vagent__strbuf_put(&w.b, "\n", 1);
		*out = vagent__strbuf_detach(&w.b);
		if (!*out)
			st = vagent__error_set(err, VAGENT_ENOMEM, NULL, "out of memory");
	}
	vagent__strbuf_release(&w.b);
	vagent_stats_free(stats);
	return st;
}
