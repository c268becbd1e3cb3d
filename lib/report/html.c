/*
 * html.c — the HTML report of a run (`--out DIR` writes it as
 * report.html): one self-contained page, inline CSS and SVG, no script and
 * no network asset, readable offline and in CI artifacts. A summary at the
 * top (calls, hop percentiles, WER, containment, SLOs), then per call a
 * timeline drawn from its trace, its hops, its turns with the WER
 * alignment of what was heard against what was said, its tool calls and
 * its expectations (docs/report.md).
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "report/report_int.h"

/* Timeline geometry (SVG user units; the SVG scales to the page). */
#define TL_WIDTH 960
#define TL_LEFT 74            /* lane labels */
#define TL_RIGHT 12
#define TL_LANE 24            /* lane pitch */
#define TL_BAR 16             /* bar height */
#define TL_TOP 6

enum { LANE_CALLER, LANE_AGENT, LANE_TOOLS, LANE_HOPS, LANE_EVENTS, LANE_COUNT };
static const char *const lane_names[LANE_COUNT] = { "caller", "agent", "tools", "hops",
						     "events" };

/* What follows the shared base (vagent__report_css_base). */
static const char css[] =
	".failure{border-left:4px solid #8250df;padding:4px 10px;background:#f5f0ff}\n"
	".tl-scroll{overflow-x:auto}\n"
	"svg.timeline{width:100%;height:auto;background:#fbfcfd;border:1px solid #eceff3}\n"
	"svg text{font:11px system-ui,sans-serif;fill:#4b5563}svg text.turn-label{fill:#fff;"
	"font-size:10px;pointer-events:none}\n"
	".bar.caller{fill:#2f81f7}.bar.agent{fill:#1a7f37}.bar.agent.cut{fill:#bf8700}\n"
	".bar.tool{fill:#8250df}.bar.tool.timeout,.bar.tool.error{fill:#cf222e}\n"
	".axis{stroke:#c9ced6;stroke-width:1}.grid{stroke:#eceff3;stroke-width:1}\n"
	".span{fill:#d0d7de;opacity:.6}\n"
	".hop{stroke-width:2}.hop.endpoint{stroke:#0969da}.hop.stt_final{stroke:#54aeff}\n"
	".hop.llm_ttft{stroke:#bf8700}.hop.tts_ttfb{stroke:#8250df}.hop.e2e{stroke:#cf222e}\n"
	".mark{stroke:#1d2430;stroke-width:.5}.mark.barge_in{fill:#cf222e}"
	".mark.filler{fill:#bf8700}\n"
	".mark.escalation,.mark.transfer{fill:#8250df}.mark.dtmf{fill:#0969da}"
	".mark.error,.mark.fallback{fill:#57606a}\n"
	".legend span{display:inline-block;margin-right:12px;font-size:12px}\n"
	".legend i{display:inline-block;width:10px;height:10px;margin-right:4px;"
	"vertical-align:-1px;border-radius:2px}\n"
	".turn{border-top:1px solid #eceff3;padding-top:6px;margin-top:8px}\n"
	".texts th{width:130px;color:#667085;font-weight:500}\n"
	"table.align td{font:12px ui-monospace,monospace;border:none;padding:1px 4px}\n"
	"table.align th{border:none;padding:1px 6px 1px 0;color:#667085;font-weight:500}\n"
	".S{background:#fff1c2}.D{background:#ffd8d3}.I{background:#d6f5dd}\n"
	"td.gap{color:#98a2b3}\n"
	"pre{white-space:pre-wrap;word-break:break-word;font-size:12px;background:#f6f8fa;"
	"padding:6px 8px;border-radius:4px}\n"
	"code{font-size:12px;word-break:break-word}\n";

static void h(struct vagent__strbuf *b, const char *s)
{
	vagent__report_xml(b, s, false);
}

static void ha(struct vagent__strbuf *b, const char *s)
{
	vagent__report_xml(b, s, true);
}

/* µs as seconds with 2 decimals ("12.34 s"). */
static void put_s(struct vagent__strbuf *b, int64_t us)
{
	int64_t cs = (us > 0 ? us : 0) / 10000;

	vagent__strbuf_printf(b, "%lld.%02lld s", (long long)(cs / 100), (long long)(cs % 100));
}

static void badge(struct vagent__strbuf *b, const struct vagent__report_call *c)
{
	const char *cls = c->rep->failure ? "error" : c->rep->passed ? "pass" : "fail";

	vagent__strbuf_printf(b, "<span class=\"badge %s\">%s</span>", cls,
			      vagent__report_verdict(c));
}

static void td_ms(struct vagent__strbuf *b, int64_t us)
{
	vagent__strbuf_puts(b, "<td class=\"num\">");
	if (us == VAGENT_METRIC_ABSENT)
		vagent__strbuf_puts(b, "&#8211;");
	else
		vagent__report_ms(b, us);
	vagent__strbuf_puts(b, "</td>");
}

static void wer_text(struct vagent__strbuf *b, const struct vagent_wer_counts *w)
{
	vagent__report_pct(b, vagent_wer_rate(w));
	vagent__strbuf_printf(b, " <span class=\"muted\">(%zu sub, %zu del, %zu ins / %zu words)"
			      "</span>", w->sub, w->del, w->ins, w->ref_words);
}

/* ------------------------------------------------------------------ */
/* The summary */

static void summary(struct vagent__strbuf *b, const struct vagent__report_run *run,
		    const struct vagent_slo_result *slos, size_t n_slos)
{
	size_t slo_passed = 0;

	for (size_t i = 0; i < n_slos; i++)
		slo_passed += slos[i].passed;
	vagent__strbuf_puts(b, "<section id=\"summary\">\n<h2>Summary</h2>\n<div class=\"cards\">");
	vagent__strbuf_printf(b, "<div class=\"card\" id=\"calls-passed\"><b>%zu / %zu</b>calls "
			      "passed</div>", run->passed, run->n);
	if (run->errors)
		vagent__strbuf_printf(b, "<div class=\"card\"><b>%zu</b>infrastructure error%s"
				      "</div>", run->errors, run->errors == 1 ? "" : "s");
	vagent__strbuf_puts(b, "<div class=\"card\" id=\"wer\"><b>");
	if (run->has_wer)
		vagent__report_pct(b, vagent_wer_rate(&run->wer));
	else
		vagent__strbuf_puts(b, "&#8211;");
	vagent__strbuf_puts(b, "</b>WER");
	if (run->has_wer)
		vagent__strbuf_printf(b, " <span class=\"muted\">%zu sub, %zu del, %zu ins / %zu "
				      "words</span>", run->wer.sub, run->wer.del, run->wer.ins,
				      run->wer.ref_words);
	vagent__strbuf_puts(b, "</div><div class=\"card\" id=\"containment\"><b>");
	if (run->n)
		vagent__report_pct(b, (double)run->contained / (double)run->n);
	else
		vagent__strbuf_puts(b, "&#8211;");
	vagent__strbuf_puts(b, "</b>containment rate</div>");
	if (n_slos)
		vagent__strbuf_printf(b, "<div class=\"card\"><b>%zu / %zu</b>SLOs met</div>",
				      slo_passed, n_slos);
	vagent__strbuf_puts(b, "</div>\n");

	/* the calls */
	vagent__strbuf_puts(b, "<table class=\"calls\"><thead><tr><th></th><th>call</th>"
			    "<th class=\"num\">duration</th><th class=\"num\">turns</th>"
			    "<th class=\"num\">e2e p50 (ms)</th><th class=\"num\">WER</th>"
			    "<th class=\"num\">failed</th><th>end</th></tr></thead><tbody>\n");
	for (size_t i = 0; i < run->n; i++) {
		const struct vagent__report_call *c = &run->calls[i];

		vagent__strbuf_puts(b, "<tr><td>");
		badge(b, c);
		vagent__strbuf_printf(b, "</td><td><a href=\"#call-%zu\">", i + 1);
		h(b, c->name);
		vagent__strbuf_puts(b, "</a></td><td class=\"num\">");
		put_s(b, c->duration_us);
		vagent__strbuf_printf(b, "</td><td class=\"num\">%zu</td>", c->caller_turns);
		td_ms(b, c->e2e_p50);
		vagent__strbuf_puts(b, "<td class=\"num\">");
		if (c->has_wer)
			vagent__report_pct(b, vagent_wer_rate(&c->wer));
		else
			vagent__strbuf_puts(b, "&#8211;");
		vagent__strbuf_printf(b, "</td><td class=\"num\">%zu / %zu</td><td>", c->n_failed,
				      c->rep->n_expectations);
		h(b, c->end_reason ? c->end_reason : "unknown");
		if (c->rep->escalated)
			vagent__strbuf_puts(b, ", escalated");
		vagent__strbuf_puts(b, "</td></tr>\n");
	}
	vagent__strbuf_puts(b, "</tbody></table>\n");

	/* the percentiles */
	vagent__strbuf_puts(b, "<h3>Hop latencies (ms, nearest-rank percentiles over all turns"
			    ")</h3>\n<table class=\"percentiles\" id=\"percentiles\"><thead><tr>"
			    "<th>hop</th><th class=\"num\">n</th><th class=\"num\">p50</th>"
			    "<th class=\"num\">p90</th><th class=\"num\">p95</th>"
			    "<th class=\"num\">p99</th><th class=\"num\">max</th>"
			    "<th class=\"num\">mean</th></tr></thead><tbody>\n");
	for (int m = 0; m < VAGENT_METRIC_COUNT; m++) {
		struct vagent_stat_summary s;
		const char *name;

		if (vagent_stats_summary(run->stats, (vagent_metric)m, &s) != VAGENT_OK || !s.n)
			continue;
		vagent__strbuf_printf(b, "<tr data-metric=\"%s\"><td>%s</td><td class=\"num\">%zu"
				      "</td>", vagent_metric_name((vagent_metric)m),
				      vagent_metric_name((vagent_metric)m), s.n);
		td_ms(b, s.p50);
		td_ms(b, s.p90);
		td_ms(b, s.p95);
		td_ms(b, s.p99);
		td_ms(b, s.max);
		td_ms(b, (int64_t)llround(s.mean));
		vagent__strbuf_puts(b, "</tr>\n");
		/* per provider, when more than one answered (a fallback) */
		for (size_t i = 0; vagent_stats_provider(run->stats, (vagent_metric)m, 1) &&
				   (name = vagent_stats_provider(run->stats, (vagent_metric)m, i)); i++) {
			if (vagent_stats_provider_summary(run->stats, (vagent_metric)m, name,
							  &s) != VAGENT_OK)
				continue;
			vagent__strbuf_printf(b, "<tr class=\"provider\" data-metric=\"%s\">"
					      "<td>&nbsp;&nbsp;", vagent_metric_name((vagent_metric)m));
			h(b, name);
			vagent__strbuf_printf(b, "</td><td class=\"num\">%zu</td>", s.n);
			td_ms(b, s.p50);
			td_ms(b, s.p90);
			td_ms(b, s.p95);
			td_ms(b, s.p99);
			td_ms(b, s.max);
			td_ms(b, (int64_t)llround(s.mean));
			vagent__strbuf_puts(b, "</tr>\n");
		}
	}
	vagent__strbuf_puts(b, "</tbody></table>\n");

	if (n_slos) {
		vagent__strbuf_puts(b, "<h3>SLOs</h3>\n<table class=\"slo\" id=\"slo\"><thead><tr>"
				    "<th></th><th>SLO</th><th class=\"num\">value</th></tr></thead>"
				    "<tbody>\n");
		for (size_t i = 0; i < n_slos; i++) {
			vagent__strbuf_printf(b, "<tr><td><span class=\"badge %s\">%s</span></td>"
					      "<td><code>", slos[i].passed ? "pass" : "fail",
					      slos[i].passed ? "met" : "missed");
			h(b, slos[i].expr ? slos[i].expr : "?");
			vagent__strbuf_puts(b, "</code></td><td class=\"num\">");
			if (slos[i].has_value)
				vagent__report_real(b, slos[i].value);
			else
				vagent__strbuf_puts(b, "missing");
			vagent__strbuf_puts(b, "</td></tr>\n");
		}
		vagent__strbuf_puts(b, "</tbody></table>\n");
	}
	vagent__strbuf_puts(b, "</section>\n");
}

/* ------------------------------------------------------------------ */
/* The timeline */

struct timeline {
	struct vagent__strbuf *b;
	double scale;                 /* user units per µs */
	int64_t end_us;
};

static double tx(const struct timeline *t, int64_t us)
{
	if (us < 0)
		us = 0;
	if (us > t->end_us)
		us = t->end_us;
	return TL_LEFT + (double)us * t->scale;
}

static int lane_y(int lane)
{
	return TL_TOP + lane * TL_LANE;
}

/* A bar of `cls` on `lane` from `a` to `z` µs, with a tooltip. */
static void bar(struct timeline *t, int lane, const char *cls, int64_t a, int64_t z,
		const char *label, const char *text)
{
	double x0 = tx(t, a), x1 = tx(t, z);

	vagent__strbuf_printf(t->b, "<rect class=\"bar %s\" x=\"%.1f\" y=\"%d\" width=\"%.1f\" "
			      "height=\"%d\" rx=\"2\"><title>", cls, x0, lane_y(lane) + 2,
			      x1 - x0 < 1.0 ? 1.0 : x1 - x0, TL_BAR);
	vagent__strbuf_puts(t->b, label);
	vagent__strbuf_puts(t->b, " ");
	put_s(t->b, a);
	vagent__strbuf_puts(t->b, " &#8211; ");
	put_s(t->b, z);
	if (text) {
		vagent__strbuf_puts(t->b, ": ");
		h(t->b, text);
	}
	vagent__strbuf_puts(t->b, "</title></rect>\n");
}

/* A marker (a small diamond) of `cls` on the events lane at `at`. */
static void marker(struct timeline *t, const char *cls, int64_t at, const char *what,
		   const char *text)
{
	double x = tx(t, at);
	int y = lane_y(LANE_EVENTS) + 2 + TL_BAR / 2;

	vagent__strbuf_printf(t->b, "<path class=\"mark %s\" d=\"M%.1f %d l5 5 l-5 5 l-5 -5 z\">"
			      "<title>", cls, x, y - 5);
	put_s(t->b, at);
	vagent__strbuf_printf(t->b, " %s", what);
	if (text) {
		vagent__strbuf_puts(t->b, ": ");
		h(t->b, text);
	}
	vagent__strbuf_puts(t->b, "</title></path>\n");
}

/* A hop tick on the hops lane at `at`. */
static void hop_tick(struct timeline *t, vagent_metric m, int turn, int64_t at, int64_t value)
{
	double x = tx(t, at);
	int y = lane_y(LANE_HOPS);

	vagent__strbuf_printf(t->b, "<line class=\"hop %s\" x1=\"%.1f\" x2=\"%.1f\" y1=\"%d\" "
			      "y2=\"%d\"><title>turn %d %s ", vagent_metric_name(m), x, x, y + 2,
			      y + 2 + TL_BAR, turn, vagent_metric_name(m));
	vagent__report_ms(t->b, value);
	vagent__strbuf_puts(t->b, " ms at ");
	put_s(t->b, at);
	vagent__strbuf_puts(t->b, "</title></line>\n");
}

static int cmp_event_time(const void *a, const void *b)
{
	const struct vagent_trace_event *x = *(const struct vagent_trace_event *const *)a;
	const struct vagent_trace_event *y = *(const struct vagent_trace_event *const *)b;

	if (x->t_us != y->t_us)
		return x->t_us < y->t_us ? -1 : 1;
	return x < y ? -1 : x > y;     /* stable: file order */
}

/* The first event of `type` in `turn`, or NULL (events in time order). */
static const struct vagent_trace_event *first_in_turn(const struct vagent_trace_event **ev,
						      size_t n, vagent_trace_type type, int turn)
{
	for (size_t i = 0; i < n; i++)
		if (ev[i]->type == type && ev[i]->turn == turn)
			return ev[i];
	return NULL;
}

static int64_t tick_step_us(int64_t end_us)
{
	static const int64_t steps_ms[] = { 100, 200, 500, 1000, 2000, 5000, 10000, 15000,
					    30000, 60000, 120000, 300000, 600000, 1800000,
					    3600000 };

	for (size_t i = 0; i < VAGENT__ARRAY_SIZE(steps_ms); i++)
		if (end_us / (steps_ms[i] * 1000) <= 10)
			return steps_ms[i] * 1000;
	return end_us / 10 + 1;
}

static vagent_status timeline(struct vagent__strbuf *b, const struct vagent__report_call *c)
{
	const struct vagent_trace_event **ev;
	struct timeline t = { b, 0, c->duration_us > 0 ? c->duration_us : 1000000 };
	const int height = TL_TOP + LANE_COUNT * TL_LANE + 22;
	int64_t caller_open = -1, agent_open = -1, step;
	int last_label = -1;
	size_t n = 0;

	ev = malloc((c->trace->n ? c->trace->n : 1) * sizeof(*ev));
	if (!ev)
		return VAGENT_ENOMEM;
	for (size_t i = 0; i < c->trace->n; i++) {
		const struct vagent_trace_event *e = &c->trace->events[i];

		if (c->cm && e->call && c->cm->call && strcmp(e->call, c->cm->call))
			continue;
		ev[n++] = e;
		if (e->t_us > t.end_us)
			t.end_us = e->t_us;
	}
	qsort(ev, n, sizeof(*ev), cmp_event_time);
	t.scale = (double)(TL_WIDTH - TL_LEFT - TL_RIGHT) / (double)t.end_us;

	/* a long call keeps about 40 px a second: it scrolls sideways */
	vagent__strbuf_puts(b, "<div class=\"tl-scroll\">");
	vagent__strbuf_printf(b, "<svg class=\"timeline\" viewBox=\"0 0 %d %d\" role=\"img\" "
			      "aria-label=\"call timeline\"", TL_WIDTH, height);
	if (t.end_us / 25000 > TL_WIDTH)
		vagent__strbuf_printf(b, " style=\"min-width:%lldpx\"",
				      (long long)(t.end_us / 25000 < 20000 ? t.end_us / 25000 : 20000));
	vagent__strbuf_puts(b, ">\n");
	/* axis and grid */
	step = tick_step_us(t.end_us);
	for (int64_t at = 0; at <= t.end_us; at += step) {
		double x = tx(&t, at);
		int64_t ms = at / 1000;

		vagent__strbuf_printf(b, "<line class=\"grid\" x1=\"%.1f\" x2=\"%.1f\" y1=\"%d\" "
				      "y2=\"%d\"/><text x=\"%.1f\" y=\"%d\" text-anchor=\"middle\">",
				      x, x, TL_TOP, lane_y(LANE_COUNT), x, lane_y(LANE_COUNT) + 14);
		if (ms % 1000)
			vagent__strbuf_printf(b, "%lld.%lld s", (long long)(ms / 1000),
					      (long long)(ms % 1000 / 100));
		else
			vagent__strbuf_printf(b, "%lld s", (long long)(ms / 1000));
		vagent__strbuf_puts(b, "</text>\n");
	}
	vagent__strbuf_printf(b, "<line class=\"axis\" x1=\"%d\" x2=\"%d\" y1=\"%d\" y2=\"%d\"/>\n",
			      TL_LEFT, TL_WIDTH - TL_RIGHT, lane_y(LANE_COUNT), lane_y(LANE_COUNT));
	for (int l = 0; l < LANE_COUNT; l++)
		vagent__strbuf_printf(b, "<text x=\"4\" y=\"%d\">%s</text>\n",
				      lane_y(l) + 2 + TL_BAR - 4, lane_names[l]);

	/* hop spans: true speech end to the first agent audio (e2e) */
	for (size_t i = 0; c->cm && i < c->cm->n_turns; i++) {
		const struct vagent_turn_metrics *tm = &c->cm->turns[i];
		int64_t e2e = tm->hop[VAGENT_METRIC_E2E];

		if (tm->speech_end_us == VAGENT_METRIC_ABSENT || e2e == VAGENT_METRIC_ABSENT)
			continue;
		vagent__strbuf_printf(b, "<rect class=\"span\" x=\"%.1f\" y=\"%d\" width=\"%.1f\" "
				      "height=\"%d\"/>\n", tx(&t, tm->speech_end_us),
				      lane_y(LANE_HOPS) + 2,
				      tx(&t, tm->speech_end_us + e2e) - tx(&t, tm->speech_end_us),
				      TL_BAR);
	}

	/* speech: caller and agent bars, paired start/stop in time order */
	for (size_t i = 0; i < n; i++) {
		const struct vagent_trace_event *e = ev[i];

		switch (e->type) {
		case VAGENT_TRACE_CALLER_SPEECH_START:
			if (caller_open < 0)
				caller_open = e->t_us;
			break;
		case VAGENT_TRACE_CALLER_SPEECH_END:
			if (caller_open >= 0) {
				const struct vagent_trace_event *fin =
					first_in_turn(ev, n, VAGENT_TRACE_STT_FINAL, e->turn);

				bar(&t, LANE_CALLER, "caller", caller_open, e->t_us, "caller",
				    fin ? fin->text : NULL);
				if (e->turn != last_label) {
					vagent__strbuf_printf(b, "<text class=\"turn-label\" x=\"%.1f\" "
							      "y=\"%d\">%d</text>\n",
							      tx(&t, caller_open) + 2,
							      lane_y(LANE_CALLER) + TL_BAR - 2, e->turn);
					last_label = e->turn;
				}
				caller_open = -1;
			}
			break;
		case VAGENT_TRACE_AGENT_AUDIO_START:
			if (agent_open < 0)
				agent_open = e->t_us;
			break;
		case VAGENT_TRACE_AGENT_AUDIO_STOP:
			if (agent_open >= 0) {
				bool cut = e->reason && !strcmp(e->reason, "barge_in");

				bar(&t, LANE_AGENT, cut ? "agent cut" : "agent", agent_open, e->t_us,
				    cut ? "agent (interrupted)" : "agent", NULL);
				agent_open = -1;
			}
			break;
		case VAGENT_TRACE_BARGE_IN:
			marker(&t, "barge_in", e->decision_us, "barge-in", NULL);
			break;
		case VAGENT_TRACE_FILLER:
			marker(&t, "filler", e->t_us, "filler", e->text);
			break;
		case VAGENT_TRACE_ESCALATION:
			marker(&t, "escalation", e->t_us, "escalation", e->reason);
			break;
		case VAGENT_TRACE_TRANSFER:
			marker(&t, "transfer", e->t_us, "transfer", NULL);
			break;
		case VAGENT_TRACE_DTMF:
			marker(&t, "dtmf", e->t_us, "DTMF", e->digit);
			break;
		case VAGENT_TRACE_FALLBACK:
			marker(&t, "fallback", e->t_us, "fallback", e->slot);
			break;
		case VAGENT_TRACE_ERROR:
			marker(&t, "error", e->t_us, e->source ? e->source : "error",
			       e->message);
			break;
		default:
			break;
		}
	}
	if (caller_open >= 0)
		bar(&t, LANE_CALLER, "caller", caller_open, t.end_us, "caller", NULL);
	if (agent_open >= 0)
		bar(&t, LANE_AGENT, "agent", agent_open, t.end_us, "agent", NULL);

	/* tool calls */
	for (size_t i = 0; c->cm && i < c->cm->n_tools; i++) {
		const struct vagent_tool_metrics *tl = &c->cm->tools[i];
		char cls[40];

		snprintf(cls, sizeof(cls), "tool %s", tl->outcome ? tl->outcome : "open");
		bar(&t, LANE_TOOLS, cls, tl->start_us,
		    tl->tool != VAGENT_METRIC_ABSENT ? tl->start_us + tl->tool : t.end_us, "tool",
		    tl->name);
	}

	/* per-turn hop markers */
	for (size_t i = 0; c->cm && i < c->cm->n_turns; i++) {
		const struct vagent_turn_metrics *tm = &c->cm->turns[i];
		const struct vagent_trace_event *e;
		int64_t end = tm->speech_end_us;

		if (end != VAGENT_METRIC_ABSENT) {
			static const vagent_metric from_end[] = { VAGENT_METRIC_ENDPOINT,
								   VAGENT_METRIC_STT_FINAL,
								   VAGENT_METRIC_E2E };

			for (size_t k = 0; k < VAGENT__ARRAY_SIZE(from_end); k++)
				if (tm->hop[from_end[k]] != VAGENT_METRIC_ABSENT)
					hop_tick(&t, from_end[k], tm->turn, end + tm->hop[from_end[k]],
						 tm->hop[from_end[k]]);
		}
		e = first_in_turn(ev, n, VAGENT_TRACE_LLM_FIRST_TOKEN, tm->turn);
		if (e && tm->hop[VAGENT_METRIC_LLM_TTFT] != VAGENT_METRIC_ABSENT)
			hop_tick(&t, VAGENT_METRIC_LLM_TTFT, tm->turn, e->t_us,
				 tm->hop[VAGENT_METRIC_LLM_TTFT]);
		e = first_in_turn(ev, n, VAGENT_TRACE_TTS_FIRST_AUDIO, tm->turn);
		if (e && tm->hop[VAGENT_METRIC_TTS_TTFB] != VAGENT_METRIC_ABSENT)
			hop_tick(&t, VAGENT_METRIC_TTS_TTFB, tm->turn, e->t_us,
				 tm->hop[VAGENT_METRIC_TTS_TTFB]);
	}
	vagent__strbuf_puts(b, "</svg></div>\n<div class=\"legend\">"
			    "<span><i style=\"background:#2f81f7\"></i>caller speech</span>"
			    "<span><i style=\"background:#1a7f37\"></i>agent audio</span>"
			    "<span><i style=\"background:#bf8700\"></i>agent cut off / filler</span>"
			    "<span><i style=\"background:#8250df\"></i>tool call / escalation</span>"
			    "<span><i style=\"background:#0969da\"></i>endpoint</span>"
			    "<span><i style=\"background:#54aeff\"></i>stt_final</span>"
			    "<span><i style=\"background:#bf8700\"></i>llm_ttft</span>"
			    "<span><i style=\"background:#8250df\"></i>tts_ttfb</span>"
			    "<span><i style=\"background:#cf222e\"></i>e2e / barge-in</span>"
			    "</div>\n");
	free(ev);
	return VAGENT_OK;
}

/* ------------------------------------------------------------------ */
/* Turns and the WER alignment */

/* The alignment of `ref` (golden) and `hyp` (heard), english normalizer:
 * two rows of tokens, errors highlighted. */
static vagent_status alignment(struct vagent__strbuf *b, const char *ref, const char *hyp,
			       struct vagent_error *err)
{
	struct vagent_transcript rt = { 0 }, ht = { 0 };
	struct vagent_utterance ru = { "1", ref, 1 }, hu = { "1", hyp ? hyp : "", 1 };
	struct vagent_wer_result *r = NULL;
	struct vagent_wer_options o;
	const struct vagent_wer_utt *u;
	vagent_status st;

	vagent_wer_options_default(&o);
	o.normalizer = VAGENT_NORMALIZE_ENGLISH;
	rt.count = ht.count = 1;
	rt.utts = &ru;
	ht.utts = &hu;
	st = vagent_wer_score(&rt, &ht, &o, &r, err);
	if (st != VAGENT_OK)
		return st;
	u = &r->utts[0];
	vagent__strbuf_puts(b, "<table class=\"align\"><tr><th>said</th>");
	for (size_t i = 0; i < u->n_edits; i++) {
		const struct vagent_wer_edit *e = &u->edits[i];

		if (e->ref < 0) {
			vagent__strbuf_puts(b, "<td class=\"I gap\">&#183;</td>");
		} else {
			vagent__strbuf_printf(b, "<td class=\"%c\">", e->op);
			h(b, u->ref_tokens[e->ref]);
			vagent__strbuf_puts(b, "</td>");
		}
	}
	vagent__strbuf_puts(b, "</tr><tr><th>heard</th>");
	for (size_t i = 0; i < u->n_edits; i++) {
		const struct vagent_wer_edit *e = &u->edits[i];

		if (e->hyp < 0) {
			vagent__strbuf_puts(b, "<td class=\"D gap\">&#183;</td>");
		} else {
			vagent__strbuf_printf(b, "<td class=\"%c\">", e->op);
			h(b, u->hyp_tokens[e->hyp]);
			vagent__strbuf_puts(b, "</td>");
		}
	}
	vagent__strbuf_puts(b, "</tr></table><div class=\"muted\">");
	wer_text(b, &u->counts);
	vagent__strbuf_puts(b, "</div>\n");
	vagent_wer_result_free(r);
	return VAGENT_OK;
}

static void text_row(struct vagent__strbuf *b, const char *label, const char *text,
		     const char *none)
{
	vagent__strbuf_printf(b, "<tr><th>%s</th><td>", label);
	if (text && *text)
		h(b, text);
	else
		vagent__strbuf_printf(b, "<span class=\"muted\">%s</span>", none);
	vagent__strbuf_puts(b, "</td></tr>");
}

static int cmp_turn_ptr(const void *a, const void *b)
{
	const struct vagent_session_turn *x = *(const struct vagent_session_turn *const *)a;
	const struct vagent_session_turn *y = *(const struct vagent_session_turn *const *)b;

	if (x->turn != y->turn)
		return x->turn < y->turn ? -1 : 1;
	return x < y ? -1 : x > y;
}

static vagent_status turns(struct vagent__strbuf *b, const struct vagent__report_call *c,
			   struct vagent_error *err)
{
	const struct vagent_call_report *rep = c->rep;
	const struct vagent_session_turn **order;

	if (!rep->n_turns)
		return VAGENT_OK;
	order = malloc(rep->n_turns * sizeof(*order));
	if (!order)
		return vagent__error_set(err, VAGENT_ENOMEM, NULL, "out of memory");
	for (size_t i = 0; i < rep->n_turns; i++)
		order[i] = &rep->turns[i];
	qsort(order, rep->n_turns, sizeof(*order), cmp_turn_ptr);
	vagent__strbuf_puts(b, "<h3>Turns</h3>\n");
	for (size_t i = 0; i < rep->n_turns; i++) {
		const struct vagent_session_turn *t = order[i];

		vagent__strbuf_printf(b, "<div class=\"turn\" data-turn=\"%d\"><b>turn %d</b>%s\n"
				      "<table class=\"texts\">", t->turn, t->turn,
				      t->interrupted ? " <span class=\"muted\">(agent interrupted)"
						       "</span>" : "");
		if (t->turn > 0) {
			text_row(b, "caller (golden)", t->caller_text, "unknown");
			text_row(b, "heard (STT)", t->stt_text, "nothing");
		}
		text_row(b, "agent", t->agent_text, "silent");
		vagent__strbuf_puts(b, "</table>\n");
		if (t->caller_text) {
			vagent_status st = alignment(b, t->caller_text, t->stt_text, err);

			if (st != VAGENT_OK) {
				free(order);
				return st;
			}
		}
		vagent__strbuf_puts(b, "</div>\n");
	}
	free(order);
	return VAGENT_OK;
}

/* ------------------------------------------------------------------ */
/* A call */

static void hops_table(struct vagent__strbuf *b, const struct vagent__report_call *c)
{
	if (!c->cm || !c->cm->n_turns)
		return;
	vagent__strbuf_puts(b, "<h3>Hops per turn (ms)</h3>\n<table class=\"hops\"><thead><tr>"
			    "<th>turn</th>");
	for (size_t k = 0; k < 6; k++)
		vagent__strbuf_printf(b, "<th class=\"num\">%s</th>",
				      vagent_metric_name(vagent__report_turn_hops[k]));
	vagent__strbuf_puts(b, "</tr></thead><tbody>\n");
	for (size_t i = 0; i < c->cm->n_turns; i++) {
		const struct vagent_turn_metrics *tm = &c->cm->turns[i];

		vagent__strbuf_printf(b, "<tr><td>%d%s</td>", tm->turn,
				      tm->estimated ? " (estimated)" : "");
		for (size_t k = 0; k < 6; k++)
			td_ms(b, tm->hop[vagent__report_turn_hops[k]]);
		vagent__strbuf_puts(b, "</tr>\n");
	}
	vagent__strbuf_puts(b, "</tbody></table>\n");
	if (c->cm->answer != VAGENT_METRIC_ABSENT || c->cm->n_barge_ins) {
		vagent__strbuf_puts(b, "<p>");
		if (c->cm->answer != VAGENT_METRIC_ABSENT) {
			vagent__strbuf_puts(b, "answer ");
			vagent__report_ms(b, c->cm->answer);
			vagent__strbuf_puts(b, " ms. ");
		}
		for (size_t i = 0; i < c->cm->n_barge_ins; i++) {
			const struct vagent_barge_in_metrics *bi = &c->cm->barge_ins[i];

			vagent__strbuf_printf(b, "Barge-in in turn %d at ", bi->turn);
			put_s(b, bi->onset_us);
			if (bi->barge_in_stop != VAGENT_METRIC_ABSENT) {
				vagent__strbuf_puts(b, ": agent stopped in ");
				vagent__report_ms(b, bi->barge_in_stop);
				vagent__strbuf_puts(b, " ms");
			}
			vagent__strbuf_puts(b, ". ");
		}
		vagent__strbuf_puts(b, "</p>\n");
	}
}

static void tools_table(struct vagent__strbuf *b, const struct vagent__report_call *c)
{
	if (!c->cm || !c->cm->n_tools)
		return;
	vagent__strbuf_puts(b, "<h3>Tool calls</h3>\n<table class=\"tools\"><thead><tr>"
			    "<th>turn</th><th>tool</th><th>arguments</th><th>outcome</th>"
			    "<th class=\"num\">ms</th></tr></thead><tbody>\n");
	for (size_t i = 0; i < c->cm->n_tools; i++) {
		const struct vagent_tool_metrics *tl = &c->cm->tools[i];
		const char *args = NULL;

		for (size_t k = 0; c->trace && k < c->trace->n; k++) {
			const struct vagent_trace_event *e = &c->trace->events[k];

			if (e->type == VAGENT_TRACE_TOOL_START && e->id && tl->id &&
			    !strcmp(e->id, tl->id) && e->turn == tl->turn) {
				args = e->args;
				break;
			}
		}
		vagent__strbuf_printf(b, "<tr><td>%d</td><td>", tl->turn);
		h(b, tl->name);
		vagent__strbuf_puts(b, "</td><td><code>");
		h(b, args);
		vagent__strbuf_puts(b, "</code></td><td>");
		h(b, tl->outcome ? tl->outcome : "unfinished");
		vagent__strbuf_puts(b, "</td>");
		td_ms(b, tl->tool);
		vagent__strbuf_puts(b, "</tr>\n");
	}
	vagent__strbuf_puts(b, "</tbody></table>\n");
}

static void expectations_table(struct vagent__strbuf *b, const struct vagent_call_report *rep)
{
	if (!rep->n_expectations || !rep->expectations)
		return;
	vagent__strbuf_puts(b, "<h3>Expectations</h3>\n<table class=\"expectations\"><tbody>\n");
	for (size_t i = 0; i < rep->n_expectations; i++) {
		const struct vagent_expectation_result *e = &rep->expectations[i];

		vagent__strbuf_printf(b, "<tr class=\"%s\"><td><span class=\"badge %s\">%s</span>"
				      "</td><td>", e->passed ? "passed" : "failed",
				      e->passed ? "pass" : "fail", e->passed ? "pass" : "FAIL");
		h(b, e->name ? e->name : "expectation");
		vagent__strbuf_puts(b, "</td><td>");
		h(b, e->detail);
		vagent__strbuf_puts(b, "</td></tr>\n");
	}
	vagent__strbuf_puts(b, "</tbody></table>\n");
}

/* A link only to a relative path: no scheme (http:, javascript:, data:)
 * and not protocol-relative, so the report never reaches the network. */
static bool local_href(const char *href)
{
	return href && *href && !strchr(href, ':') && strncmp(href, "//", 2) != 0 &&
	       strncmp(href, "\\\\", 2) != 0;
}

static vagent_status call_section(struct vagent__strbuf *b, const struct vagent__report_call *c,
				  size_t index, struct vagent_error *err)
{
	const struct vagent_call_report *rep = c->rep;
	vagent_status st;

	vagent__strbuf_printf(b, "<section class=\"call\" id=\"call-%zu\">\n<h2>", index + 1);
	badge(b, c);
	vagent__strbuf_puts(b, " ");
	h(b, c->name);
	vagent__strbuf_puts(b, "</h2>\n");
	if (rep->description) {
		vagent__strbuf_puts(b, "<p>");
		h(b, rep->description);
		vagent__strbuf_puts(b, "</p>\n");
	}
	vagent__strbuf_puts(b, "<p class=\"muted\">");
	if (rep->agent_path) {
		vagent__strbuf_puts(b, "agent <code>");
		h(b, rep->agent_path);
		vagent__strbuf_puts(b, "</code> &#183; ");
	}
	put_s(b, c->duration_us);
	vagent__strbuf_printf(b, " &#183; %zu turn%s &#183; ended: ", c->caller_turns,
			      c->caller_turns == 1 ? "" : "s");
	h(b, c->end_reason ? c->end_reason : "unknown");
	if (rep->escalated) {
		vagent__strbuf_puts(b, " &#183; escalated");
		if (c->escalation_reason) {
			vagent__strbuf_puts(b, ": ");
			h(b, c->escalation_reason);
		}
	}
	if (c->has_wer) {
		vagent__strbuf_puts(b, " &#183; WER ");
		wer_text(b, &c->wer);
	}
	vagent__strbuf_puts(b, "</p>\n");
	if (local_href(rep->recording_href)) {
		vagent__strbuf_puts(b, "<p><audio controls preload=\"none\" src=\"");
		ha(b, rep->recording_href);
		vagent__strbuf_puts(b, "\"></audio> <a href=\"");
		ha(b, rep->recording_href);
		vagent__strbuf_puts(b, "\">stereo recording</a> (caller left, agent right)</p>\n");
	}
	if (rep->failure) {
		vagent__strbuf_puts(b, "<p class=\"failure\"><b>Infrastructure failure:</b> ");
		h(b, rep->failure);
		vagent__strbuf_puts(b, "</p>\n");
	}
	expectations_table(b, rep);
	if (c->trace) {
		vagent__strbuf_puts(b, "<h3>Timeline</h3>\n");
		if (timeline(b, c) != VAGENT_OK)
			return vagent__error_set(err, VAGENT_ENOMEM, NULL, "out of memory");
	}
	hops_table(b, c);
	st = turns(b, c, err);
	if (st != VAGENT_OK)
		return st;
	tools_table(b, c);
	for (size_t i = 0; c->trace && i < c->trace->n; i++) {
		const struct vagent_trace_event *e = &c->trace->events[i];

		if (e->type != VAGENT_TRACE_TRANSFER || !e->package)
			continue;
		if (c->cm && e->call && c->cm->call && strcmp(e->call, c->cm->call))
			continue;
		vagent__strbuf_puts(b, "<details><summary>warm-transfer package</summary><pre>");
		h(b, e->package);
		vagent__strbuf_puts(b, "</pre></details>\n");
	}
	vagent__strbuf_puts(b, "</section>\n");
	return VAGENT_OK;
}

vagent_status vagent_report_html(const struct vagent_call_report *calls, size_t n,
				 const struct vagent_slo_result *slos, size_t n_slos,
				 const char *title, char **out, struct vagent_error *err)
{
	struct vagent__report_run run;
	struct vagent__strbuf b = { 0 };
	vagent_status st;

	vagent_error_clear(err);
	if (!out)
		return vagent__error_set(err, VAGENT_EINVAL, "html", "no output pointer");
	*out = NULL;
	if (n_slos && !slos)
		return vagent__error_set(err, VAGENT_EINVAL, "html",
					 "slos is NULL with a non-zero count");
	st = vagent__report_analyse(calls, n, "html", &run, err);
	if (st != VAGENT_OK)
		goto done;
	if (!title)
		title = "vagent run";
	vagent__strbuf_puts(&b, "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">"
			    "\n<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">"
			    "\n<meta name=\"generator\" content=\"vagent ");
	ha(&b, vagent_version());
	vagent__strbuf_puts(&b, "\">\n<title>");
	h(&b, title);
	vagent__strbuf_puts(&b, "</title>\n<style>\n");
	vagent__strbuf_puts(&b, vagent__report_css_base);
	vagent__strbuf_puts(&b, css);
	vagent__strbuf_puts(&b, "</style>\n</head>\n<body>\n<header><h1>");
	h(&b, title);
	vagent__strbuf_printf(&b, "</h1><div class=\"muted\">%zu call%s &#183; vagent ", n,
			      n == 1 ? "" : "s");
	h(&b, vagent_version());
	vagent__strbuf_puts(&b, "</div></header>\n<main>\n");
	summary(&b, &run, slos, n_slos);
	for (size_t i = 0; i < n && st == VAGENT_OK; i++)
		st = call_section(&b, &run.calls[i], i, err);
	if (st != VAGENT_OK)
		goto done;
	vagent__strbuf_puts(&b, "</main>\n</body>\n</html>\n");
	*out = vagent__strbuf_detach(&b);
	if (!*out)
		st = vagent__error_set(err, VAGENT_ENOMEM, NULL, "out of memory");
done:
	vagent__strbuf_release(&b);
	vagent__report_run_release(&run);
	return st;
}
