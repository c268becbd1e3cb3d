/*
 * bench_html.c — the page `vagent bench --out DIR` writes: one
 * self-contained file (inline CSS and SVG, no script, no network asset)
 * that also reads in a terminal browser, every figure being text in a
 * table too. The run (inputs, calls, clock, concurrency, shards, wall
 * time, turns, WER, containment), the SLO results, a percentile bar group
 * per hop on a shared ms axis, and per metric a latency histogram
 * re-binned from vagent_stats_buckets onto a log-spaced axis
 * (docs/report.md "Bench page").
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "report/report_int.h"

#define SVG_WIDTH 960

/* The percentile bars (SVG user units). */
#define PB_LEFT 150           /* metric and statistic labels */
#define PB_RIGHT 96           /* the value written after a bar */
#define PB_HEAD 18            /* the metric's name row */
#define PB_PITCH 14           /* one statistic's bar */
#define PB_BAR 11
#define PB_GAP 8              /* between metrics */
#define PB_TOP 6
#define PB_AXIS 24            /* tick labels under the bars */

/* The histograms. */
#define HIST_BINS 40          /* log-spaced bins between min and max */
#define HI_LEFT 56            /* sample-count labels */
#define HI_RIGHT 16
#define HI_TOP 36             /* three rows of percentile marker labels */
#define HI_PLOT 150
#define HI_BOTTOM 28          /* ms tick labels */
#define HI_NONPOS 28          /* the "<= 0" bin's slot, left of the log axis */
#define HI_NONPOS_GAP 16

/* The statistics a hop's bar group shows, in order. */
enum { ST_P50, ST_P90, ST_P95, ST_P99, ST_MAX, ST_COUNT };
static const char *const stat_names[ST_COUNT] = { "p50", "p90", "p95", "p99", "max" };

static const char css[] =
	".facts th{color:#667085;font-weight:500;width:170px}\n"
	"ul.inputs{margin:0;padding-left:18px}\n"
	"tr.slo-fail td{background:#fff5f5}tr.slo-fail td:first-child{box-shadow:inset 4px 0 "
	"#cf222e}\n"
	"svg.pbars,svg.hist{width:100%;height:auto;background:#fbfcfd;border:1px solid #eceff3}\n"
	"svg text{font:11px system-ui,sans-serif;fill:#4b5563}\n"
	"svg text.metric{font-weight:600;fill:#1d2430}svg text.value{fill:#1d2430}\n"
	".axis{stroke:#c9ced6;stroke-width:1}.grid{stroke:#eceff3;stroke-width:1}\n"
	".pbar.p50{fill:#54aeff}.pbar.p90{fill:#2f81f7}.pbar.p95{fill:#0969da}"
	".pbar.p99{fill:#bf8700}.pbar.max{fill:#cf222e}\n"
	".bin{fill:#2f81f7}.bin.nonpos{fill:#8c959f}\n"
	".marker{stroke-width:1.5;stroke-dasharray:4 3}.marker.p50{stroke:#1a7f37}"
	".marker.p95{stroke:#bf8700}.marker.p99{stroke:#cf222e}\n"
	".hist-block{margin-top:16px}.hist-block h3 span{font-weight:400}\n"
	"details{margin:4px 0}summary{cursor:pointer;color:#667085}\n";

static void h(struct vagent__strbuf *b, const char *s)
{
	vagent__report_xml(b, s, false);
}

static void ha(struct vagent__strbuf *b, const char *s)
{
	vagent__report_xml(b, s, true);
}

static void dash(struct vagent__strbuf *b)
{
	vagent__strbuf_puts(b, "&#8211;");
}

/* "lo–hi ms", or "v ms" when lo == hi. */
static void put_range(struct vagent__strbuf *b, int64_t lo, int64_t hi)
{
	vagent__report_ms(b, lo);
	if (hi != lo) {
		vagent__strbuf_puts(b, "&#8211;");
		vagent__report_ms(b, hi);
	}
	vagent__strbuf_puts(b, " ms");
}

/* µs held in a double as an integer, rounded, clamped to int64 (a
 * double past 2^63 has no int64 value). */
static int64_t to_us(double v)
{
	if (!(v > -9.2e18))
		return v < 0 ? INT64_MIN + 1 : 0;
	if (v >= 9.2e18)
		return INT64_MAX;
	return (int64_t)llround(v);
}

/* The smallest of 1, 2, 5 x 10^k µs that is at least `raw`. */
static double nice_step(double raw)
{
	double p = 1;

	while (p * 10 <= raw && p < 1e17)
		p *= 10;
	if (p >= raw)
		return p;
	if (2 * p >= raw)
		return 2 * p;
	if (5 * p >= raw)
		return 5 * p;
	return 10 * p;
}

/* ------------------------------------------------------------------ */
/* The run */

static void card(struct vagent__strbuf *b, const char *id)
{
	vagent__strbuf_printf(b, "<div class=\"card\" id=\"%s\"><b>", id);
}

static void fact(struct vagent__strbuf *b, const char *label)
{
	vagent__strbuf_printf(b, "<tr><th>%s</th><td>", label);
}

static void put_wer(struct vagent__strbuf *b, const struct vagent_bench_summary *s)
{
	if (!s->has_wer) {
		dash(b);
		return;
	}
	vagent__report_pct(b, s->wer);
	vagent__strbuf_printf(b, " <span class=\"muted\">(%zu error%s / %zu reference word%s)"
			      "</span>", s->wer_errors, s->wer_errors == 1 ? "" : "s",
			      s->wer_ref_words, s->wer_ref_words == 1 ? "" : "s");
}

static void put_containment(struct vagent__strbuf *b, const struct vagent_bench_summary *s)
{
	if (s->calls)
		vagent__report_pct(b, (double)s->contained / (double)s->calls);
	else
		dash(b);
}

static void put_wall(struct vagent__strbuf *b, double wall_s)
{
	if (isfinite(wall_s) && wall_s >= 0)
		vagent__strbuf_printf(b, "%.2f s", wall_s);
	else
		dash(b);
}

static void run_section(struct vagent__strbuf *b, const struct vagent_bench_summary *s)
{
	size_t met = 0;

	for (size_t i = 0; i < s->n_slos; i++)
		met += s->slos[i].passed;
	vagent__strbuf_puts(b, "<section id=\"run\">\n<h2>Run</h2>\n<div class=\"cards\">");
	card(b, "calls-run");
	vagent__strbuf_printf(b, "%zu</b>calls run</div>", s->calls);
	card(b, "calls-failed");
	vagent__strbuf_printf(b, "%zu</b>call%s failed (infrastructure)</div>", s->calls_failed,
			      s->calls_failed == 1 ? "" : "s");
	card(b, "turns");
	vagent__strbuf_printf(b, "%zu</b>caller turns</div>", s->turns);
	card(b, "wer");
	if (s->has_wer)
		vagent__report_pct(b, s->wer);
	else
		dash(b);
	vagent__strbuf_puts(b, "</b>WER</div>");
	card(b, "containment");
	put_containment(b, s);
	vagent__strbuf_puts(b, "</b>containment rate</div>");
	if (s->n_slos) {
		card(b, "slos-met");
		vagent__strbuf_printf(b, "%zu / %zu</b>SLOs met</div>", met, s->n_slos);
	}
	vagent__strbuf_puts(b, "</div>\n<table class=\"facts\" id=\"facts\"><tbody>\n");

	fact(b, "inputs");
	if (!s->n_inputs) {
		vagent__strbuf_puts(b, "<span class=\"muted\">none</span>");
	} else {
		vagent__strbuf_puts(b, "<ul class=\"inputs\">");
		for (size_t i = 0; i < s->n_inputs; i++) {
			vagent__strbuf_puts(b, "<li><code>");
			h(b, s->inputs[i] ? s->inputs[i] : "?");
			vagent__strbuf_puts(b, "</code></li>");
		}
		vagent__strbuf_puts(b, "</ul>");
	}
	vagent__strbuf_puts(b, "</td></tr>\n");
	fact(b, "calls");
	vagent__strbuf_printf(b, "%zu run, %zu failed</td></tr>\n", s->calls, s->calls_failed);
	fact(b, "runs &#215; inputs");
	vagent__strbuf_printf(b, "%d &#215; %zu", s->runs, s->n_inputs);
	if (s->runs > 0)
		vagent__strbuf_printf(b, " = %zu", (size_t)s->runs * s->n_inputs);
	vagent__strbuf_puts(b, "</td></tr>\n");
	fact(b, "clock");
	if (s->clock)
		h(b, s->clock);
	else
		dash(b);
	vagent__strbuf_puts(b, "</td></tr>\n");
	fact(b, "concurrency");
	vagent__strbuf_printf(b, "%d</td></tr>\n", s->concurrency);
	fact(b, "shards");
	if (s->n_parts)
		vagent__strbuf_printf(b, "merged from %zu part%s", s->n_parts,
				      s->n_parts == 1 ? "" : "s");
	else if (s->shard_n > 0)
		vagent__strbuf_printf(b, "shard %d/%d", s->shard_k, s->shard_n);
	else
		vagent__strbuf_puts(b, "all runs in one process");
	vagent__strbuf_puts(b, "</td></tr>\n");
	fact(b, "wall time");
	put_wall(b, s->wall_s);
	vagent__strbuf_puts(b, "</td></tr>\n");
	fact(b, "turns");
	vagent__strbuf_printf(b, "%zu</td></tr>\n", s->turns);
	fact(b, "WER");
	put_wer(b, s);
	vagent__strbuf_puts(b, "</td></tr>\n");
	fact(b, "containment rate");
	put_containment(b, s);
	vagent__strbuf_printf(b, " <span class=\"muted\">(%zu of %zu calls without a transfer)"
			      "</span></td></tr>\n", s->contained, s->calls);
	vagent__strbuf_puts(b, "</tbody></table>\n</section>\n");
}

/* ------------------------------------------------------------------ */
/* The SLOs */

static void slo_value(struct vagent__strbuf *b, const struct vagent_slo_result *r)
{
	struct vagent_slo slo;
	struct vagent_error perr;

	if (!r->has_value) {
		vagent__strbuf_puts(b, "missing");
		return;
	}
	vagent__report_real(b, r->value);
	if (!r->expr || vagent_slo_parse(r->expr, &slo, &perr) != VAGENT_OK)
		return;
	if (slo.is_wer) {
		vagent__strbuf_puts(b, " (");
		vagent__report_pct(b, r->value);
		vagent__strbuf_puts(b, ")");
	} else {
		vagent__strbuf_puts(b, " ms");
	}
}

static void slo_section(struct vagent__strbuf *b, const struct vagent_bench_summary *s)
{
	vagent__strbuf_puts(b, "<section id=\"slos\">\n<h2>SLOs</h2>\n");
	if (!s->n_slos) {
		vagent__strbuf_puts(b, "<p class=\"muted\">No SLO was given (--slo, --slo-profile)."
				    "</p>\n</section>\n");
		return;
	}
	vagent__strbuf_puts(b, "<table class=\"slo\" id=\"slo\"><thead><tr><th>result</th>"
			    "<th>SLO</th><th class=\"num\">measured</th><th>detail</th></tr>"
			    "</thead><tbody>\n");
	for (size_t i = 0; i < s->n_slos; i++) {
		const struct vagent_slo_result *r = &s->slos[i];

		vagent__strbuf_printf(b, "<tr class=\"%s\"><td><span class=\"badge %s\">%s</span>"
				      "</td><td><code>", r->passed ? "slo-pass" : "slo-fail",
				      r->passed ? "pass" : "fail", r->passed ? "PASS" : "FAIL");
		h(b, r->expr ? r->expr : "?");
		vagent__strbuf_puts(b, "</code></td><td class=\"num\">");
		slo_value(b, r);
		vagent__strbuf_puts(b, "</td><td>");
		if (s->slo_details)
			h(b, s->slo_details[i]);
		vagent__strbuf_puts(b, "</td></tr>\n");
	}
	vagent__strbuf_puts(b, "</tbody></table>\n</section>\n");
}

/* ------------------------------------------------------------------ */
/* The percentile bars */

struct metric_view {
	vagent_metric m;
	struct vagent_stat_summary sum;
	int64_t min;
};

static int64_t stat_of(const struct vagent_stat_summary *s, int k)
{
	switch (k) {
	case ST_P50: return s->p50;
	case ST_P90: return s->p90;
	case ST_P95: return s->p95;
	case ST_P99: return s->p99;
	default: return s->max;
	}
}

static void td_ms(struct vagent__strbuf *b, int64_t us)
{
	vagent__strbuf_puts(b, "<td class=\"num\">");
	vagent__report_ms(b, us);
	vagent__strbuf_puts(b, "</td>");
}

/* A linear axis: [a0, a1] µs onto [x0, x1]. */
struct lin_axis {
	double a0, a1, step, x0, x1;
};

static double lin_x(const struct lin_axis *ax, double v)
{
	return ax->x0 + (v - ax->a0) / (ax->a1 - ax->a0) * (ax->x1 - ax->x0);
}

static void percentile_table(struct vagent__strbuf *b, const struct metric_view *mv, size_t n)
{
	vagent__strbuf_puts(b, "<table class=\"percentiles\" id=\"percentiles\"><thead><tr>"
			    "<th>hop</th><th class=\"num\">n</th><th class=\"num\">p50</th>"
			    "<th class=\"num\">p90</th><th class=\"num\">p95</th>"
			    "<th class=\"num\">p99</th><th class=\"num\">max</th>"
			    "<th class=\"num\">mean</th></tr></thead><tbody>\n");
	for (size_t i = 0; i < n; i++) {
		const char *name = vagent_metric_name(mv[i].m);

		vagent__strbuf_printf(b, "<tr data-metric=\"%s\"><td>%s</td><td class=\"num\">%zu"
				      "</td>", name, name, mv[i].sum.n);
		for (int k = 0; k < ST_COUNT; k++)
			td_ms(b, stat_of(&mv[i].sum, k));
		td_ms(b, to_us(mv[i].sum.mean));
		vagent__strbuf_puts(b, "</tr>\n");
	}
	vagent__strbuf_puts(b, "</tbody></table>\n");
}

static void percentile_bars(struct vagent__strbuf *b, const struct metric_view *mv, size_t n)
{
	const int group = PB_HEAD + ST_COUNT * PB_PITCH + PB_GAP;
	const int plot_h = (int)n * group;
	struct lin_axis ax = { 0, 0, 0, PB_LEFT, SVG_WIDTH - PB_RIGHT };
	double lo = 0, hi = 0;
	int y;

	for (size_t i = 0; i < n; i++)
		for (int k = 0; k < ST_COUNT; k++) {
			double v = (double)stat_of(&mv[i].sum, k);

			lo = v < lo ? v : lo;
			hi = v > hi ? v : hi;
		}
	if (hi <= lo)
		hi = lo + 1000;
	ax.step = nice_step((hi - lo) / 8);
	ax.a0 = floor(lo / ax.step) * ax.step;
	ax.a1 = ceil(hi / ax.step) * ax.step;

	vagent__strbuf_printf(b, "<svg class=\"pbars\" viewBox=\"0 0 %d %d\" role=\"img\" "
			      "aria-label=\"percentiles per hop, ms\">\n", SVG_WIDTH,
			      PB_TOP + plot_h + PB_AXIS);
	for (double t = ax.a0; t <= ax.a1 + ax.step / 2; t += ax.step) {
		double x = lin_x(&ax, t);

		vagent__strbuf_printf(b, "<line class=\"grid\" x1=\"%.1f\" x2=\"%.1f\" y1=\"%d\" "
				      "y2=\"%d\"/><text x=\"%.1f\" y=\"%d\" text-anchor=\"middle\">",
				      x, x, PB_TOP, PB_TOP + plot_h, x, PB_TOP + plot_h + 14);
		vagent__report_ms(b, to_us(t));
		vagent__strbuf_puts(b, "</text>\n");
	}
	vagent__strbuf_printf(b, "<line class=\"axis\" x1=\"%d\" x2=\"%d\" y1=\"%d\" y2=\"%d\"/>"
			      "<text x=\"%d\" y=\"%d\" text-anchor=\"end\">ms</text>\n", PB_LEFT,
			      SVG_WIDTH - PB_RIGHT, PB_TOP + plot_h, PB_TOP + plot_h,
			      SVG_WIDTH - 8, PB_TOP + plot_h + 14);
	y = PB_TOP;
	for (size_t i = 0; i < n; i++) {
		const char *name = vagent_metric_name(mv[i].m);

		vagent__strbuf_printf(b, "<g class=\"hop\" data-metric=\"%s\"><text class=\"metric\" "
				      "x=\"8\" y=\"%d\">%s</text>\n", name, y + 13, name);
		y += PB_HEAD;
		for (int k = 0; k < ST_COUNT; k++) {
			int64_t v = stat_of(&mv[i].sum, k);
			double x0 = lin_x(&ax, 0), xv = lin_x(&ax, (double)v);
			double left = xv < x0 ? xv : x0, w = fabs(xv - x0);

			vagent__strbuf_printf(b, "<text x=\"%d\" y=\"%d\" text-anchor=\"end\">%s"
					      "</text><rect class=\"pbar %s\" x=\"%.1f\" y=\"%d\" "
					      "width=\"%.1f\" height=\"%d\"><title>%s %s: ", PB_LEFT - 6,
					      y + PB_BAR - 1, stat_names[k], stat_names[k], left, y,
					      w < 1 ? 1.0 : w, PB_BAR, name, stat_names[k]);
			vagent__report_ms(b, v);
			vagent__strbuf_printf(b, " ms</title></rect><text class=\"value\" x=\"%.1f\" "
					      "y=\"%d\">", (xv > x0 ? xv : x0) + 4, y + PB_BAR - 1);
			vagent__report_ms(b, v);
			vagent__strbuf_puts(b, " ms</text>\n");
			y += PB_PITCH;
		}
		vagent__strbuf_puts(b, "</g>\n");
		y += PB_GAP;
	}
	vagent__strbuf_puts(b, "</svg>\n");
}

/* ------------------------------------------------------------------ */
/* The histograms */

/* A bin: how many samples, and the range of the buckets that fell in. */
struct bin {
	int64_t lo, hi;
	uint64_t count;
};

struct histogram {
	struct bin nonpos;             /* samples <= 0: a linear bin of its own */
	struct bin bins[HIST_BINS];
	int n_bins;                    /* 0 (no positive sample), 1 (all equal) or HIST_BINS */
	double lo, hi;                 /* the positive samples' range, µs */
	double d0, d1;                 /* the drawn log axis, µs */
	uint64_t max_count;
};

static void bin_add(struct bin *bn, const struct vagent_stats_bucket *bk)
{
	if (!bn->count || bk->lo < bn->lo)
		bn->lo = bk->lo;
	if (!bn->count || bk->hi > bn->hi)
		bn->hi = bk->hi;
	bn->count += bk->count;
}

static double bucket_mid(const struct vagent_stats_bucket *bk)
{
	return ((double)bk->lo + (double)bk->hi) / 2;
}

/* The edge between bins i - 1 and i, µs. */
static double bin_edge(const struct histogram *hg, int i)
{
	if (hg->n_bins == 1)
		return i == 0 ? hg->lo / 1.12 : hg->lo * 1.12;
	return hg->lo * pow(hg->hi / hg->lo, (double)i / HIST_BINS);
}

/* Re-bin the buckets: those centred at or below 0 into the linear "<= 0"
 * bin, the others into HIST_BINS log-spaced bins between the smallest
 * positive bucket's low end and the largest's high end (one bin when
 * they are equal). */
static void rebin(const struct vagent_stats_bucket *bk, size_t n, struct histogram *hg)
{
	bool any = false;

	memset(hg, 0, sizeof(*hg));
	for (size_t i = 0; i < n; i++) {
		double lo = bk[i].lo > 1 ? (double)bk[i].lo : 1;

		if (bucket_mid(&bk[i]) <= 0 || !bk[i].count)
			continue;
		hg->lo = any && hg->lo < lo ? hg->lo : lo;
		hg->hi = any && hg->hi > (double)bk[i].hi ? hg->hi : (double)bk[i].hi;
		any = true;
	}
	if (any)
		hg->n_bins = hg->hi > hg->lo ? HIST_BINS : 1;
	if (hg->n_bins == 1) {
		hg->d0 = hg->lo / 2;
		hg->d1 = hg->lo * 2;
	} else {
		hg->d0 = hg->lo;
		hg->d1 = hg->hi;
	}
	for (size_t i = 0; i < n; i++) {
		double mid = bucket_mid(&bk[i]);
		int k = 0;

		if (!bk[i].count)
			continue;
		if (mid <= 0) {
			bin_add(&hg->nonpos, &bk[i]);
			continue;
		}
		if (hg->n_bins == HIST_BINS) {
			mid = mid < hg->lo ? hg->lo : mid > hg->hi ? hg->hi : mid;
			k = (int)floor(HIST_BINS * log(mid / hg->lo) / log(hg->hi / hg->lo));
			k = k < 0 ? 0 : k >= HIST_BINS ? HIST_BINS - 1 : k;
		}
		bin_add(&hg->bins[k], &bk[i]);
	}
	hg->max_count = hg->nonpos.count;
	for (int i = 0; i < hg->n_bins; i++)
		if (hg->bins[i].count > hg->max_count)
			hg->max_count = hg->bins[i].count;
}

/* The log axis's left end: after the "<= 0" slot when there is one. */
static double hist_x0(const struct histogram *hg)
{
	return HI_LEFT + (hg->nonpos.count ? HI_NONPOS + HI_NONPOS_GAP : 0);
}

static double log_x(const struct histogram *hg, double v)
{
	double x0 = hist_x0(hg), x1 = SVG_WIDTH - HI_RIGHT;

	v = v < hg->d0 ? hg->d0 : v > hg->d1 ? hg->d1 : v;
	return x0 + (log(v) - log(hg->d0)) / (log(hg->d1) - log(hg->d0)) * (x1 - x0);
}

/* Where a sample value sits on the drawing. */
static double value_x(const struct histogram *hg, int64_t v)
{
	if ((v <= 0 && hg->nonpos.count) || !hg->n_bins)
		return HI_LEFT + HI_NONPOS / 2.0;
	return log_x(hg, (double)v);
}

static void bar(struct vagent__strbuf *b, const struct histogram *hg, const struct bin *bn,
		const char *cls, double x, double w)
{
	double bh = (double)bn->count / (double)hg->max_count * HI_PLOT;

	if (bh < 1)
		bh = 1;
	vagent__strbuf_printf(b, "<rect class=\"%s\" x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" "
			      "height=\"%.1f\"><title>", cls, x, HI_TOP + HI_PLOT - bh,
			      w < 1.5 ? 1.5 : w, bh);
	put_range(b, bn->lo, bn->hi);
	vagent__strbuf_printf(b, ": %llu</title></rect>\n", (unsigned long long)bn->count);
}

/* Tick values in [d0, d1] from `series` x 10^k (at most `max`). */
static size_t ticks_of(const struct histogram *hg, const double *series, size_t n_series,
		       double *t, size_t max)
{
	size_t n = 0;

	for (double p = 1; p <= hg->d1 && p < 1e18; p *= 10)
		for (size_t i = 0; i < n_series; i++) {
			double v = series[i] * p;

			if (v >= hg->d0 && v <= hg->d1 && n < max)
				t[n++] = v;
		}
	return n;
}

/* Tick values on the log axis: 1-2-5 x 10^k within it; only the powers
 * of ten when that is more than 10, 1..9 x 10^k when it is fewer than
 * 2; at worst the axis's two ends. */
static size_t log_ticks(const struct histogram *hg, double *t, size_t max)
{
	static const double one_two_five[] = { 1, 2, 5 }, one[] = { 1 },
			    digits[] = { 1, 2, 3, 4, 5, 6, 7, 8, 9 };
	size_t n = ticks_of(hg, one_two_five, 3, t, max);

	if (n >= 2 && n <= 10)
		return n;
	n = n > 10 ? ticks_of(hg, one, 1, t, max) : ticks_of(hg, digits, 9, t, max);
	if (n >= 2)
		return n;
	t[0] = hg->d0;
	t[1] = hg->d1;
	return 2;
}

static void markers(struct vagent__strbuf *b, const struct histogram *hg,
		    const struct vagent_stat_summary *sum)
{
	static const char *const names[3] = { "p50", "p95", "p99" };
	const int64_t v[3] = { sum->p50, sum->p95, sum->p99 };

	for (int i = 0; i < 3; i++) {
		double x = value_x(hg, v[i]);
		bool left = x > SVG_WIDTH - HI_RIGHT - 80;

		vagent__strbuf_printf(b, "<line class=\"marker %s\" x1=\"%.1f\" x2=\"%.1f\" "
				      "y1=\"%d\" y2=\"%d\"><title>%s ", names[i], x, x,
				      4 + 11 * i, HI_TOP + HI_PLOT, names[i]);
		vagent__report_ms(b, v[i]);
		vagent__strbuf_printf(b, " ms</title></line><text class=\"marker-label\" "
				      "x=\"%.1f\" y=\"%d\"%s>%s ", left ? x - 3 : x + 3,
				      12 + 11 * i, left ? " text-anchor=\"end\"" : "", names[i]);
		vagent__report_ms(b, v[i]);
		vagent__strbuf_puts(b, "</text>\n");
	}
}

static void histogram_svg(struct vagent__strbuf *b, const struct histogram *hg,
			  const struct metric_view *mv)
{
	const char *name = vagent_metric_name(mv->m);
	const int base = HI_TOP + HI_PLOT;
	double ticks[64];
	size_t n_ticks = 0;

	vagent__strbuf_printf(b, "<svg class=\"hist\" data-metric=\"%s\" viewBox=\"0 0 %d %d\" "
			      "role=\"img\" aria-label=\"%s latency histogram\">\n", name, SVG_WIDTH,
			      base + HI_BOTTOM, name);
	/* sample-count axis */
	vagent__strbuf_printf(b, "<line class=\"grid\" x1=\"%d\" x2=\"%d\" y1=\"%d\" y2=\"%d\"/>"
			      "<line class=\"grid\" x1=\"%d\" x2=\"%d\" y1=\"%d\" y2=\"%d\"/>"
			      "<text x=\"%d\" y=\"%d\" text-anchor=\"end\">%llu</text>"
			      "<text x=\"%d\" y=\"%d\" text-anchor=\"end\">0</text>\n", HI_LEFT,
			      SVG_WIDTH - HI_RIGHT, HI_TOP, HI_TOP, HI_LEFT, SVG_WIDTH - HI_RIGHT,
			      HI_TOP + HI_PLOT / 2, HI_TOP + HI_PLOT / 2, HI_LEFT - 6, HI_TOP + 4,
			      (unsigned long long)hg->max_count, HI_LEFT - 6, base);
	/* ms axis */
	if (hg->n_bins)
		n_ticks = log_ticks(hg, ticks, VAGENT__ARRAY_SIZE(ticks));
	for (size_t i = 0; i < n_ticks; i++) {
		double x = log_x(hg, ticks[i]);

		vagent__strbuf_printf(b, "<line class=\"grid\" x1=\"%.1f\" x2=\"%.1f\" y1=\"%d\" "
				      "y2=\"%d\"/><text x=\"%.1f\" y=\"%d\" text-anchor=\"middle\">",
				      x, x, HI_TOP, base + 4, x, base + 16);
		vagent__report_ms(b, to_us(ticks[i]));
		vagent__strbuf_puts(b, "</text>\n");
	}
	vagent__strbuf_printf(b, "<line class=\"axis\" x1=\"%d\" x2=\"%d\" y1=\"%d\" y2=\"%d\"/>"
			      "<text x=\"%d\" y=\"%d\" text-anchor=\"end\">ms</text>\n", HI_LEFT,
			      SVG_WIDTH - HI_RIGHT, base, base, SVG_WIDTH - 4, base + 26);
	/* bars */
	if (hg->nonpos.count) {
		bar(b, hg, &hg->nonpos, "bin nonpos", HI_LEFT, HI_NONPOS);
		vagent__strbuf_printf(b, "<text x=\"%.1f\" y=\"%d\" text-anchor=\"middle\">"
				      "&#8804; 0</text>\n", HI_LEFT + HI_NONPOS / 2.0, base + 16);
	}
	for (int i = 0; i < hg->n_bins; i++) {
		double x0, x1;

		if (!hg->bins[i].count)
			continue;
		x0 = log_x(hg, bin_edge(hg, i));
		x1 = log_x(hg, bin_edge(hg, i + 1));
		bar(b, hg, &hg->bins[i], "bin", x0 + 0.5, x1 - x0 - 1);
	}
	markers(b, hg, &mv->sum);
	vagent__strbuf_puts(b, "</svg>\n");
}

static vagent_status histogram_block(struct vagent__strbuf *b, const struct vagent_stats *stats,
				     const struct metric_view *mv, struct vagent_error *err)
{
	const char *name = vagent_metric_name(mv->m);
	struct vagent_stats_bucket *bk = NULL;
	struct histogram hg;
	size_t n = 0;

	if (vagent_stats_buckets(stats, mv->m, &bk, &n) != VAGENT_OK)
		return vagent__error_set(err, VAGENT_ENOMEM, NULL, "out of memory");
	rebin(bk, n, &hg);
	free(bk);
	vagent__strbuf_printf(b, "<div class=\"hist-block\" id=\"hist-%s\"><h3>%s <span "
			      "class=\"muted\">n = %zu</span></h3>\n", name, name, mv->sum.n);
	histogram_svg(b, &hg, mv);
	vagent__strbuf_puts(b, "<p class=\"muted hist-caption\">min ");
	vagent__report_ms(b, mv->min);
	vagent__strbuf_puts(b, " ms &#183; p50 ");
	vagent__report_ms(b, mv->sum.p50);
	vagent__strbuf_puts(b, " ms &#183; p95 ");
	vagent__report_ms(b, mv->sum.p95);
	vagent__strbuf_puts(b, " ms &#183; p99 ");
	vagent__report_ms(b, mv->sum.p99);
	vagent__strbuf_puts(b, " ms &#183; max ");
	vagent__report_ms(b, mv->sum.max);
	vagent__strbuf_printf(b, " ms &#183; %s</p>\n",
			      hg.n_bins == HIST_BINS ? "40 log-spaced bins between the smallest "
						       "positive sample and the largest"
			      : hg.n_bins == 1 ? "one value" : "no positive sample");
	vagent__strbuf_puts(b, "<details><summary>bins</summary><table class=\"bins\"><thead>"
			    "<tr><th>ms</th><th class=\"num\">samples</th></tr></thead><tbody>\n");
	for (int i = -1; i < hg.n_bins; i++) {
		const struct bin *bn = i < 0 ? &hg.nonpos : &hg.bins[i];

		if (!bn->count)
			continue;
		vagent__strbuf_puts(b, "<tr><td>");
		put_range(b, bn->lo, bn->hi);
		vagent__strbuf_printf(b, "</td><td class=\"num\">%llu</td></tr>\n",
				      (unsigned long long)bn->count);
	}
	vagent__strbuf_printf(b, "</tbody></table></details></div>\n");
	return VAGENT_OK;
}

static vagent_status latency_sections(struct vagent__strbuf *b, const struct vagent_stats *stats,
				      struct vagent_error *err)
{
	struct metric_view mv[VAGENT_METRIC_COUNT];
	size_t n = 0;

	for (int m = 0; stats && m < VAGENT_METRIC_COUNT; m++) {
		double min = 0;

		if (vagent_stats_summary(stats, (vagent_metric)m, &mv[n].sum) != VAGENT_OK ||
		    !mv[n].sum.n)
			continue;
		mv[n].m = (vagent_metric)m;
		vagent_stats_get(stats, (vagent_metric)m, "min", &min);
		mv[n].min = to_us(min);
		n++;
	}
	vagent__strbuf_puts(b, "<section id=\"hops\">\n<h2>Hop percentiles</h2>\n");
	if (!n) {
		vagent__strbuf_puts(b, "<p class=\"no-samples\">no samples</p>\n</section>\n"
				    "<section id=\"histograms\">\n<h2>Latency histograms</h2>\n"
				    "<p class=\"no-samples\">no samples</p>\n</section>\n");
		return VAGENT_OK;
	}
	vagent__strbuf_puts(b, "<p class=\"muted\">Nearest-rank percentiles over every turn of "
			    "every run, ms, on one axis.</p>\n");
	percentile_table(b, mv, n);
	percentile_bars(b, mv, n);
	vagent__strbuf_puts(b, "</section>\n<section id=\"histograms\">\n<h2>Latency histograms"
			    "</h2>\n<p class=\"muted\">Samples per bin on a log time axis; values "
			    "&#8804; 0 ms in a bin of their own on the left; dashed lines at p50, "
			    "p95 and p99. Hover a bar for its range and count.</p>\n");
	for (size_t i = 0; i < n; i++) {
		vagent_status st = histogram_block(b, stats, &mv[i], err);

		if (st != VAGENT_OK)
			return st;
	}
	vagent__strbuf_puts(b, "</section>\n");
	return VAGENT_OK;
}

/* ------------------------------------------------------------------ */

vagent_status vagent_report_bench_html(const struct vagent_bench_summary *s, char **out,
				       struct vagent_error *err)
{
	struct vagent__strbuf b = { 0 };
	const char *title;
	vagent_status st;

	vagent_error_clear(err);
	if (out)
		*out = NULL;
	if (!s || !out)
		return vagent__error_set(err, VAGENT_EINVAL, "bench html",
					 s ? "no output pointer" : "no bench summary");
	if ((s->n_inputs && !s->inputs) || (s->n_slos && !s->slos))
		return vagent__error_set(err, VAGENT_EINVAL, "bench html", "%s is NULL with a "
					 "non-zero count", s->n_slos && !s->slos ? "slos" : "inputs");
	title = s->title ? s->title : "vagent bench";
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
	vagent__strbuf_printf(&b, "</h1><div class=\"muted\">%zu call%s &#183; %zu input%s &#183; ",
			      s->calls, s->calls == 1 ? "" : "s", s->n_inputs,
			      s->n_inputs == 1 ? "" : "s");
	if (s->clock) {
		h(&b, s->clock);
		vagent__strbuf_puts(&b, " clock &#183; ");
	}
	vagent__strbuf_puts(&b, "vagent ");
	h(&b, vagent_version());
	vagent__strbuf_puts(&b, "</div></header>\n<main>\n");
	run_section(&b, s);
	slo_section(&b, s);
	st = latency_sections(&b, s->stats, err);
	if (st == VAGENT_OK) {
		vagent__strbuf_puts(&b, "</main>\n</body>\n</html>\n");
		*out = vagent__strbuf_detach(&b);
		if (!*out)
			st = vagent__error_set(err, VAGENT_ENOMEM, NULL, "out of memory");
	}
	vagent__strbuf_release(&b);
	return st;
}
