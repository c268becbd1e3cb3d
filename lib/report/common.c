/*
 * common.c — what the run outputs share: each call report analysed once
 * (its trace parsed and its metrics computed exactly as the JSON result
 * does, its WER, duration and failed expectations), the escaping that
 * keeps report text well-formed in XML, HTML and on a terminal, number
 * formats, and the CSS both HTML pages (report.html, bench.html) start
 * with.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "report/report_int.h"
#include "wer/wer_int.h"

const vagent_metric vagent__report_turn_hops[6] = {
	VAGENT_METRIC_STT_FIRST_PARTIAL, VAGENT_METRIC_ENDPOINT, VAGENT_METRIC_STT_FINAL,
	VAGENT_METRIC_LLM_TTFT, VAGENT_METRIC_TTS_TTFB, VAGENT_METRIC_E2E,
};

const char vagent__report_css_base[] =
	"body{font:14px/1.45 system-ui,-apple-system,'Segoe UI',sans-serif;margin:0;"
	"color:#1d2430;background:#f6f7f9}\n"
	"header,main{max-width:1100px;margin:0 auto;padding:0 20px}\n"
	"header{padding-top:18px}h1{font-size:22px;margin:0 0 4px}h2{font-size:18px;margin:0}\n"
	"h3{font-size:15px;margin:18px 0 6px}.muted{color:#667085}\n"
	"section{background:#fff;border:1px solid #dde1e7;border-radius:8px;padding:14px 18px;"
	"margin:14px 0}\n"
	".cards{display:flex;flex-wrap:wrap;gap:10px;margin:10px 0}\n"
	".card{border:1px solid #dde1e7;border-radius:6px;padding:8px 14px;min-width:120px}\n"
	".card b{display:block;font-size:20px}\n"
	"table{border-collapse:collapse;margin:4px 0}th,td{padding:3px 9px;text-align:left;"
	"vertical-align:top;border-bottom:1px solid #eceff3}\n"
	"td.num,th.num{text-align:right;font-variant-numeric:tabular-nums}\n"
	".badge{display:inline-block;border-radius:4px;padding:0 7px;font-weight:600;"
	"font-size:12px;color:#fff}\n"
	".pass{background:#1a7f37}.fail{background:#cf222e}.error{background:#8250df}\n";

static void wer_add(struct vagent_wer_counts *to, const struct vagent_wer_counts *c)
{
	to->cor += c->cor;
	to->sub += c->sub;
	to->del += c->del;
	to->ins += c->ins;
	to->ref_words += c->ref_words;
	to->hyp_words += c->hyp_words;
}

static int cmp_i64(const void *a, const void *b)
{
	int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;

	return x < y ? -1 : x > y;
}

/* Nearest-rank median of the call's e2e hops. */
static int64_t call_e2e_p50(const struct vagent_call_metrics *cm)
{
	int64_t *v, r = VAGENT_METRIC_ABSENT;
	size_t n = 0;

	if (!cm || !cm->n_turns)
		return r;
	v = malloc(cm->n_turns * sizeof(*v));
	if (!v)
		return r;
	for (size_t i = 0; i < cm->n_turns; i++)
		if (cm->turns[i].hop[VAGENT_METRIC_E2E] != VAGENT_METRIC_ABSENT)
			v[n++] = cm->turns[i].hop[VAGENT_METRIC_E2E];
	if (n) {
		qsort(v, n, sizeof(*v), cmp_i64);
		r = v[(n + 1) / 2 - 1];       /* rank ceil(n / 2) */
	}
	free(v);
	return r;
}

static vagent_status analyse_call(struct vagent__report_call *c, struct vagent__report_run *run,
				  struct vagent_error *err)
{
	const struct vagent_call_report *rep = c->rep;
	struct vagent_wer_options o;
	vagent_status st;

	c->name = rep->name ? rep->name : "call";
	c->e2e_p50 = VAGENT_METRIC_ABSENT;
	if (rep->trace) {
		struct vagent_error perr;

		vagent_error_clear(&perr);
		st = vagent_trace_parse(rep->trace, rep->trace_len, c->name, &c->trace, &perr);
		if (st == VAGENT_ENOMEM)
			return vagent__error_set(err, st, NULL, "out of memory");
		if (st != VAGENT_OK)
			return vagent__error_set(err, st, NULL, "call %s: %s", c->name, perr.message);
		st = vagent_metrics_from_trace(c->trace->events, c->trace->n, &c->tm, err);
		if (st != VAGENT_OK)
			return st;
		/* the call named like the report, else the trace's first */
		for (size_t i = 0; rep->name && i < c->tm->n_calls; i++)
			if (c->tm->calls[i].call && !strcmp(c->tm->calls[i].call, rep->name))
				c->cm = &c->tm->calls[i];
		if (!c->cm && c->tm->n_calls)
			c->cm = &c->tm->calls[0];
		if (c->cm) {
			struct vagent_trace_metrics one = { 1, c->cm };

			if (vagent_stats_add_metrics(run->stats, &one) != VAGENT_OK)
				return vagent__error_set(err, VAGENT_ENOMEM, NULL, "out of memory");
		}
	}
	vagent_wer_options_default(&o);
	o.normalizer = VAGENT_NORMALIZE_ENGLISH;
	for (size_t i = 0; i < rep->n_turns; i++) {
		const struct vagent_session_turn *t = &rep->turns[i];
		struct vagent_wer_counts wc;

		if (t->turn >= 1)
			c->caller_turns++;
		if (!t->caller_text)
			continue;
		st = vagent_wer_align_text(t->caller_text, t->stt_text ? t->stt_text : "", &o, &wc,
					   err);
		if (st != VAGENT_OK)
			return st;
		wer_add(&c->wer, &wc);
		c->has_wer = true;
	}
	if (!rep->n_turns && c->cm)
		for (size_t i = 0; i < c->cm->n_turns; i++)
			c->caller_turns += c->cm->turns[i].turn >= 1;
	if (c->has_wer) {
		wer_add(&run->wer, &c->wer);
		run->has_wer = true;
	}
	for (size_t i = 0; rep->expectations && i < rep->n_expectations; i++)
		if (!rep->expectations[i].passed && !c->n_failed++)
			c->first_failed = &rep->expectations[i];
	c->duration_us = rep->duration_ms > 0 ? rep->duration_ms * 1000 : 0;
	c->end_reason = rep->end_reason;
	for (size_t i = 0; c->trace && i < c->trace->n; i++) {
		const struct vagent_trace_event *e = &c->trace->events[i];

		if (c->cm && e->call && c->cm->call && strcmp(e->call, c->cm->call))
			continue;
		if (!rep->duration_ms && e->t_us > c->duration_us)
			c->duration_us = e->t_us;
		if (e->type == VAGENT_TRACE_CALL_END && !c->end_reason)
			c->end_reason = e->reason;
		if (e->type == VAGENT_TRACE_ESCALATION && !c->escalation_reason)
			c->escalation_reason = e->reason;
	}
	c->e2e_p50 = call_e2e_p50(c->cm);
	run->passed += rep->passed;
	run->contained += !rep->escalated;
	run->errors += rep->failure != NULL;
	return VAGENT_OK;
}

vagent_status vagent__report_analyse(const struct vagent_call_report *calls, size_t n,
				     const char *where, struct vagent__report_run *run,
				     struct vagent_error *err)
{
	memset(run, 0, sizeof(*run));
	if (n && !calls)
		return vagent__error_set(err, VAGENT_EINVAL, where,
					 "calls is NULL with a non-zero count");
	run->stats = vagent_stats_new();
	run->calls = calloc(n ? n : 1, sizeof(*run->calls));
	if (!run->stats || !run->calls)
		return vagent__error_set(err, VAGENT_ENOMEM, NULL, "out of memory");
	run->n = n;
	for (size_t i = 0; i < n; i++) {
		vagent_status st;

		run->calls[i].rep = &calls[i];
		st = analyse_call(&run->calls[i], run, err);
		if (st != VAGENT_OK)
			return st;
	}
	return VAGENT_OK;
}

void vagent__report_run_release(struct vagent__report_run *run)
{
	for (size_t i = 0; run->calls && i < run->n; i++) {
		vagent_trace_metrics_free(run->calls[i].tm);
		vagent_trace_free(run->calls[i].trace);
	}
	free(run->calls);
	vagent_stats_free(run->stats);
	memset(run, 0, sizeof(*run));
}

const char *vagent__report_verdict(const struct vagent__report_call *c)
{
	if (c->rep->failure)
		return "ERROR";
	return c->rep->passed ? "ok" : "FAIL";
}

/* The next code point of s, its length in *len; *bad for a byte of
 * invalid UTF-8 (one byte consumed). */
static uint32_t next_cp(const char *s, size_t *len, bool *bad)
{
	uint32_t cp = 0;
	size_t n = vagent__utf8_decode((const unsigned char *)s, strnlen(s, 4), &cp);

	*bad = n == 0;
	*len = n ? n : 1;
	return cp;
}

/* Characters no report shows as they are: C0 and C1 controls, DEL, and
 * the noncharacters XML 1.0 forbids. */
static bool unprintable(uint32_t cp)
{
	return cp < 0x20 || cp == 0x7f || (cp >= 0x80 && cp <= 0x9f) || cp == 0xfffe ||
	       cp == 0xffff;
}

static const char replacement[] = "\xef\xbf\xbd";   /* U+FFFD */

void vagent__report_xml(struct vagent__strbuf *b, const char *s, bool attr)
{
	while (s && *s) {
		size_t n;
		bool bad;
		uint32_t cp = next_cp(s, &n, &bad);

		if (bad) {
			vagent__strbuf_puts(b, replacement);
		} else if (cp == '&') {
			vagent__strbuf_puts(b, "&amp;");
		} else if (cp == '<') {
			vagent__strbuf_puts(b, "&lt;");
		} else if (cp == '>') {
			vagent__strbuf_puts(b, "&gt;");
		} else if (attr && cp == '"') {
			vagent__strbuf_puts(b, "&quot;");
		} else if (attr && cp == '\'') {
			vagent__strbuf_puts(b, "&#39;");
		} else if (cp == '\r' || (attr && (cp == '\t' || cp == '\n'))) {
			/* attribute-value normalisation would turn them into spaces */
			vagent__strbuf_printf(b, "&#%u;", (unsigned)cp);
		} else if (cp != '\t' && cp != '\n' && unprintable(cp)) {
			vagent__strbuf_puts(b, replacement);
		} else {
			vagent__strbuf_put(b, s, n);
		}
		s += n;
	}
}

size_t vagent__report_plain(struct vagent__strbuf *b, const char *s, size_t max_cols)
{
	size_t cols = 0, total = 0, n;
	bool bad;

	for (const char *p = s; p && *p; p += n, total++)
		next_cp(p, &n, &bad);
	for (; s && *s; s += n) {
		uint32_t cp = next_cp(s, &n, &bad);

		if (max_cols && cols + 1 == max_cols && total > max_cols) {
			vagent__strbuf_puts(b, "\xe2\x80\xa6");   /* … */
			return cols + 1;
		}
		if (!bad && (cp == '\n' || cp == '\t' || cp == '\r'))
			vagent__strbuf_put(b, " ", 1);
		else if (bad || unprintable(cp))
			vagent__strbuf_puts(b, replacement);
		else
			vagent__strbuf_put(b, s, n);
		cols++;
	}
	return cols;
}

void vagent__report_ms(struct vagent__strbuf *b, int64_t us)
{
	uint64_t a = us < 0 ? (uint64_t)0 - (uint64_t)us : (uint64_t)us;
	char frac[4];
	size_t n = 3;

	vagent__strbuf_printf(b, "%s%llu", us < 0 ? "-" : "", (unsigned long long)(a / 1000));
	snprintf(frac, sizeof(frac), "%03u", (unsigned)(a % 1000));
	while (n && frac[n - 1] == '0')
		n--;
	if (n) {
		vagent__strbuf_put(b, ".", 1);
		vagent__strbuf_put(b, frac, n);
	}
}

void vagent__report_pct(struct vagent__strbuf *b, double rate)
{
	if (!isfinite(rate))
		vagent__strbuf_puts(b, "-");
	else
		vagent__strbuf_printf(b, "%.1f%%", rate * 100.0);
}

/* µs as whole ms (halves away from zero), "-" when absent, in `w` columns. */
static void table_ms(struct vagent__strbuf *b, int64_t us, int w)
{
	if (us == VAGENT_METRIC_ABSENT)
		vagent__strbuf_printf(b, "%*s", w, "-");
	else
		vagent__strbuf_printf(b, "%*lld", w,
				      (long long)(us >= 0 ? (us + 500) / 1000 : -((-us + 500) / 1000)));
}

static void table_row(struct vagent__strbuf *b, const char *label,
		      const struct vagent_stat_summary *s)
{
	vagent__strbuf_printf(b, "%-17s %5zu ", label, s->n);
	table_ms(b, s->p50, 8);
	vagent__strbuf_put(b, " ", 1);
	table_ms(b, s->p90, 8);
	vagent__strbuf_put(b, " ", 1);
	table_ms(b, s->p95, 8);
	vagent__strbuf_put(b, " ", 1);
	table_ms(b, s->p99, 8);
	vagent__strbuf_put(b, " ", 1);
	table_ms(b, s->max, 8);
	vagent__strbuf_put(b, " ", 1);
	table_ms(b, (int64_t)llround(s->mean), 8);
	vagent__strbuf_put(b, "\n", 1);
}

void vagent__report_percentile_table(struct vagent__strbuf *b, const struct vagent_stats *stats,
				     bool colour)
{
	bool header = false;

	for (int m = 0; stats && m < VAGENT_METRIC_COUNT; m++) {
		struct vagent_stat_summary s;

		if (vagent_stats_summary(stats, (vagent_metric)m, &s) != VAGENT_OK || !s.n)
			continue;
		if (!header) {
			vagent__strbuf_put(b, "\n", 1);
			if (colour)
				vagent__strbuf_puts(b, "\033[1m");
			vagent__strbuf_printf(b, "%-17s %5s %8s %8s %8s %8s %8s %8s  (ms)", "hop",
					      "n", "p50", "p90", "p95", "p99", "max", "mean");
			if (colour)
				vagent__strbuf_puts(b, "\033[0m");
			vagent__strbuf_put(b, "\n", 1);
			header = true;
		}
		table_row(b, vagent_metric_name((vagent_metric)m), &s);
		/* per provider, when more than one answered (a fallback) */
		if (vagent_stats_provider(stats, (vagent_metric)m, 1)) {
			const char *name;
			char label[80];

			for (size_t i = 0; (name = vagent_stats_provider(stats, (vagent_metric)m, i));
			     i++)
				if (vagent_stats_provider_summary(stats, (vagent_metric)m, name,
								  &s) == VAGENT_OK) {
					snprintf(label, sizeof(label), "  %.60s", name);
					table_row(b, label, &s);
				}
		}
	}
}

void vagent__report_real(struct vagent__strbuf *b, double v)
{
	int64_t x;
	uint64_t a;
	char frac[8];
	size_t n = 6;

	if (!isfinite(v) || fabs(v) >= 1e12) {
		vagent__strbuf_printf(b, "%.0f", v);
		return;
	}
	x = (int64_t)llround(v * 1e6);
	a = x < 0 ? (uint64_t)0 - (uint64_t)x : (uint64_t)x;
	vagent__strbuf_printf(b, "%s%llu", x < 0 ? "-" : "", (unsigned long long)(a / 1000000));
	snprintf(frac, sizeof(frac), "%06u", (unsigned)(a % 1000000));
	while (n && frac[n - 1] == '0')
		n--;
	if (n) {
		vagent__strbuf_put(b, ".", 1);
		vagent__strbuf_put(b, frac, n);
	}
}
