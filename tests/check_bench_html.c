/*
 * check_bench_html.c — the bench page (vagent_report_bench_html): the run
 * figures, the SLO rows, the per-hop percentile numbers against
 * vagent_stats_summary, the histogram bars of crafted distributions (log
 * bins, the "<= 0" bin, one value, all equal), escaping, no script or
 * network asset, the page without samples, bad arguments, and the page as
 * headless Chromium renders it.
 */
#include <check.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>

#include "vagent.h"
#include "support/chromium.h"
#include "support/harness.h"

#define MS(x) ((int64_t)(x) * 1000)

static size_t count_of(const char *s, const char *what)
{
	size_t n = 0, len = strlen(what);

	for (const char *p = strstr(s, what); p; p = strstr(p + len, what))
		n++;
	return n;
}

/* The sum of the counts in the bars' tooltips ("lo–hi ms: COUNT"). */
static unsigned long long bin_total(const char *svg)
{
	unsigned long long total = 0;

	for (const char *p = strstr(svg, "<rect class=\"bin"); p;
	     p = strstr(p + 1, "<rect class=\"bin")) {
		const char *c = strstr(p, " ms: ");

		ck_assert_ptr_nonnull(c);
		total += strtoull(c + 5, NULL, 10);
	}
	return total;
}

/* No coordinate is NaN or infinite. */
static void assert_finite(const char *svg)
{
	static const char *const bad[] = { "=\"nan", "=\"-nan", "=\"inf", "=\"-inf" };

	for (size_t i = 0; i < 4; i++)
		ck_assert_msg(strstr(svg, bad[i]) == NULL, "%s in %s", bad[i], svg);
}

/* `a` appears in `text`, and before `b`. */
static void assert_before(const char *text, const char *a, const char *b)
{
	const char *pa = strstr(text, a), *pb = strstr(text, b);

	ck_assert_msg(pa && pb && pa < pb, "%s is not before %s", a, b);
}

/* The part of `page` from `from` up to the next `to` (malloc'd). */
static char *slice(const char *page, const char *from, const char *to)
{
	const char *a = strstr(page, from), *z;

	ck_assert_msg(a != NULL, "no %s in the page", from);
	z = strstr(a, to);
	ck_assert_msg(z != NULL, "no %s after %s", to, from);
	return strndup(a, (size_t)(z - a) + strlen(to));
}

/* µs as the page prints ms: "130.5", "1040", "-5" (written independently
 * of the library's formatter). */
static const char *ms_text(int64_t us, char *buf, size_t size)
{
	long long a = us < 0 ? -(long long)us : (long long)us;
	int n;

	n = snprintf(buf, size, "%s%lld.%03lld", us < 0 ? "-" : "", a / 1000, a % 1000);
	while (n > 0 && buf[n - 1] == '0')
		buf[--n] = '\0';
	if (n > 0 && buf[n - 1] == '.')
		buf[--n] = '\0';
	return buf;
}

/* A bench summary over known samples, with real SLO results. */
struct fixture {
	struct vagent_stats *stats;
	struct vagent_slo_result slos[5];
	char details[5][160];
	const char *detail_ptrs[5];
	struct vagent_slo parsed[5];
	struct vagent_bench_summary b;
};

/* The tooltip of the bar holding value `us` of metric `m` with `count`
 * samples, as the page writes it: the histogram bucket's range
 * ("99.84&#8211;100.095 ms"), or its one value when it is 1 µs wide. */
static const char *bar_title(const struct vagent_stats *s, vagent_metric m, int64_t us,
			     unsigned count)
{
	static char out[4][160];
	static int slot;
	struct vagent_stats_bucket *b = NULL;
	char lo[40], hi[40], *o = out[slot++ % 4];
	size_t n = 0;

	ck_assert_int_eq(vagent_stats_buckets(s, m, &b, &n), VAGENT_OK);
	snprintf(o, 160, "(no bucket holds %lld)", (long long)us);
	for (size_t i = 0; i < n; i++)
		if (b[i].lo <= us && us <= b[i].hi) {
			if (b[i].lo == b[i].hi)
				snprintf(o, 160, "<title>%s ms: %u</title>",
					 ms_text(b[i].lo, lo, sizeof(lo)), count);
			else
				snprintf(o, 160, "<title>%s&#8211;%s ms: %u</title>",
					 ms_text(b[i].lo, lo, sizeof(lo)),
					 ms_text(b[i].hi, hi, sizeof(hi)), count);
		}
	free(b);
	return o;
}

static const char *const slo_exprs[5] = {
	"e2e.p95 <= 1000ms",          /* p95 of e2e is 1000 ms: PASS */
	"e2e.p50 < 150ms",            /* 100 ms: PASS */
	"e2e.max < 500ms",            /* 1000 ms: FAIL */
	"barge_in_stop.p95 < 200ms",  /* no samples: FAIL, missing */
	"wer <= 0.05",                /* 0.0625: FAIL */
};

static const char *const inputs[2] = { "scenarios/order-status.json", "calls/<a&b\"c>" };

static void add(struct vagent_stats *s, vagent_metric m, int64_t us, int times)
{
	for (int i = 0; i < times; i++)
		ck_assert_int_eq(vagent_stats_add(s, m, us), VAGENT_OK);
}

static void fixture_init(struct fixture *f)
{
	memset(f, 0, sizeof(*f));
	f->stats = vagent_stats_new();
	ck_assert_ptr_nonnull(f->stats);
	/* e2e: 100 ms x5, 200 ms x3, 1000 ms: on 40 log bins from 100 to
	 * 1000 ms they fall in bins 0, 12 (40 log10 2 = 12.04) and 39 */
	add(f->stats, VAGENT_METRIC_E2E, MS(100), 5);
	add(f->stats, VAGENT_METRIC_E2E, MS(200), 3);
	add(f->stats, VAGENT_METRIC_E2E, MS(1000), 1);
	/* endpoint: -5, 0, 0 ms in the "<= 0" bin; 50 and 51 ms at both ends */
	add(f->stats, VAGENT_METRIC_ENDPOINT, MS(-5), 1);
	add(f->stats, VAGENT_METRIC_ENDPOINT, 0, 2);
	add(f->stats, VAGENT_METRIC_ENDPOINT, MS(50), 1);
	add(f->stats, VAGENT_METRIC_ENDPOINT, MS(51), 1);
	/* stt_final: 1, 10, 100, 1000 ms and odd values: bins 0, 13, 26, 39 */
	add(f->stats, VAGENT_METRIC_STT_FINAL, 1000, 1);
	add(f->stats, VAGENT_METRIC_STT_FINAL, 10000, 1);
	add(f->stats, VAGENT_METRIC_STT_FINAL, 100000, 1);
	add(f->stats, VAGENT_METRIC_STT_FINAL, 1000000, 1);
	/* tts_ttfb: all equal; answer: a single sample */
	add(f->stats, VAGENT_METRIC_TTS_TTFB, 80500, 4);
	add(f->stats, VAGENT_METRIC_ANSWER, 420123, 1);

	for (int i = 0; i < 5; i++) {
		struct vagent_error err;

		ck_assert_int_eq(vagent_slo_parse(slo_exprs[i], &f->parsed[i], &err), VAGENT_OK);
		vagent_slo_eval(&f->parsed[i], f->stats, true, 0.0625, &f->slos[i], f->details[i],
				sizeof(f->details[i]));
		f->detail_ptrs[i] = f->details[i];
	}
	f->b.title = "bench <&\"> night";
	f->b.inputs = inputs;
	f->b.n_inputs = 2;
	f->b.clock = "virtual";
	f->b.runs = 50;
	f->b.concurrency = 8;
	f->b.shard_k = 2;
	f->b.shard_n = 4;
	f->b.calls = 100;
	f->b.calls_failed = 1;
	f->b.turns = 512;
	f->b.contained = 93;
	f->b.has_wer = true;
	f->b.wer = 0.0625;
	f->b.wer_errors = 25;
	f->b.wer_ref_words = 400;
	f->b.wall_s = 12.345;
	f->b.stats = f->stats;
	f->b.slos = f->slos;
	f->b.slo_details = f->detail_ptrs;
	f->b.n_slos = 5;
}

static char *render(const struct vagent_bench_summary *b)
{
	struct vagent_error err;
	char *html = NULL;

	ck_assert_msg(vagent_report_bench_html(b, &html, &err) == VAGENT_OK, "%s", err.message);
	ck_assert_ptr_nonnull(html);
	return html;
}

/* The histogram svg of `metric` (malloc'd). */
static char *histogram_of(const char *page, const char *metric)
{
	char from[80];

	snprintf(from, sizeof(from), "<svg class=\"hist\" data-metric=\"%s\"", metric);
	return slice(page, from, "</svg>");
}

static void assert_common(const char *page)
{
	ck_assert_msg(!strncmp(page, "<!DOCTYPE html>\n", 16), "not a page: %.80s", page);
	ck_assert_ptr_nonnull(strstr(page, "</html>\n"));
	ck_assert_ptr_null(strstr(page, "http"));
	ck_assert_ptr_null(strstr(page, "<script"));
	ck_assert_ptr_null(strstr(page, "src="));
	ck_assert_ptr_null(strstr(page, "url("));
	ck_assert_uint_eq(count_of(page, "<section"), count_of(page, "</section>"));
	ck_assert_uint_eq(count_of(page, "<svg"), count_of(page, "</svg>"));
	ck_assert_uint_eq(count_of(page, "<table"), count_of(page, "</table>"));
}

START_TEST(test_run_figures)
{
	struct fixture f;
	char *page, *facts;

	fixture_init(&f);
	page = render(&f.b);
	assert_common(page);
	ck_assert_ptr_nonnull(strstr(page, "<title>bench &lt;&amp;\"&gt; night</title>"));
	ck_assert_ptr_nonnull(strstr(page, "<h1>bench &lt;&amp;\"&gt; night</h1>"));
	facts = slice(page, "<table class=\"facts\"", "</table>");
	ck_assert_ptr_nonnull(strstr(facts, "<li><code>scenarios/order-status.json</code></li>"));
	ck_assert_ptr_nonnull(strstr(facts, "<li><code>calls/&lt;a&amp;b\"c&gt;</code></li>"));
	ck_assert_ptr_null(strstr(page, "<a&b"));
	ck_assert_ptr_nonnull(strstr(facts, "<th>calls</th><td>100 run, 1 failed</td>"));
	ck_assert_ptr_nonnull(strstr(facts, "<td>50 &#215; 2 = 100</td>"));
	ck_assert_ptr_nonnull(strstr(facts, "<th>clock</th><td>virtual</td>"));
	ck_assert_ptr_nonnull(strstr(facts, "<th>concurrency</th><td>8</td>"));
	ck_assert_ptr_nonnull(strstr(facts, "<th>shards</th><td>shard 2/4</td>"));
	ck_assert_ptr_nonnull(strstr(facts, "<th>wall time</th><td>12.35 s</td>"));
	ck_assert_ptr_nonnull(strstr(facts, "<th>turns</th><td>512</td>"));
	ck_assert_ptr_nonnull(strstr(facts, "<th>WER</th><td>6.2% <span class=\"muted\">(25 "
					    "errors / 400 reference words)</span>"));
	ck_assert_ptr_nonnull(strstr(facts, "<th>containment rate</th><td>93.0% <span "
					    "class=\"muted\">(93 of 100 calls"));
	ck_assert_ptr_nonnull(strstr(page, "<div class=\"card\" id=\"slos-met\"><b>2 / 5</b>"));
	free(facts);
	free(page);

	/* merged shards say so instead; no title: the default */
	f.b.n_parts = 3;
	f.b.title = NULL;
	f.b.has_wer = false;
	page = render(&f.b);
	ck_assert_ptr_nonnull(strstr(page, "<th>shards</th><td>merged from 3 parts</td>"));
	ck_assert_ptr_nonnull(strstr(page, "<title>vagent bench</title>"));
	ck_assert_ptr_nonnull(strstr(page, "<th>WER</th><td>&#8211;</td>"));
	free(page);
	f.b.n_parts = 0;
	f.b.shard_k = f.b.shard_n = 0;
	page = render(&f.b);
	ck_assert_ptr_nonnull(strstr(page, "<th>shards</th><td>all runs in one process</td>"));
	free(page);
	vagent_stats_free(f.stats);
}
END_TEST

START_TEST(test_slo_rows)
{
	struct fixture f;
	char *page, *table, *row;

	fixture_init(&f);
	page = render(&f.b);
	table = slice(page, "<table class=\"slo\"", "</table>");
	ck_assert_uint_eq(count_of(table, "<tr class=\"slo-pass\">"), 2);
	ck_assert_uint_eq(count_of(table, "<tr class=\"slo-fail\">"), 3);
	ck_assert_uint_eq(count_of(table, ">PASS</span>"), 2);
	ck_assert_uint_eq(count_of(table, ">FAIL</span>"), 3);
	/* in the given order, each with its value and its escaped detail */
	ck_assert_ptr_nonnull(strstr(table, "<tr class=\"slo-pass\"><td><span class=\"badge pass\">"
					    "PASS</span></td><td><code>e2e.p95 &lt;= 1000ms</code></td>"
					    "<td class=\"num\">1000 ms</td>"));
	row = slice(table, "<code>e2e.max &lt; 500ms</code>", "</tr>");
	ck_assert_ptr_nonnull(strstr(row, "<td class=\"num\">1000 ms</td>"));
	ck_assert_ptr_nonnull(strstr(row, "e2e.max = 1000 ms &gt;= 500 ms"));
	ck_assert_ptr_null(strstr(row, ">="));
	free(row);
	ck_assert_ptr_nonnull(strstr(table, "<tr class=\"slo-fail\"><td><span class=\"badge fail\">"
					    "FAIL</span></td><td><code>barge_in_stop.p95 &lt; 200ms"
					    "</code></td><td class=\"num\">missing</td><td>"
					    "barge_in_stop.p95: no samples of barge_in_stop</td>"));
	ck_assert_ptr_nonnull(strstr(table, "<code>wer &lt;= 0.05</code></td><td class=\"num\">"
					    "0.0625 (6.2%)</td>"));
	assert_before(table, "e2e.p95", "e2e.p50");
	assert_before(table, "e2e.max", "barge_in_stop");
	free(table);
	free(page);

	/* no SLOs: said, no table */
	f.b.n_slos = 0;
	page = render(&f.b);
	ck_assert_ptr_null(strstr(page, "<table class=\"slo\""));
	ck_assert_ptr_nonnull(strstr(page, "No SLO was given"));
	free(page);
	vagent_stats_free(f.stats);
}
END_TEST

START_TEST(test_percentiles_match_summary)
{
	struct fixture f;
	char *page, *table, *bars;
	char want[512], p[5][32], mean[32];
	size_t metrics = 0;

	fixture_init(&f);
	page = render(&f.b);
	table = slice(page, "<table class=\"percentiles\"", "</table>");
	bars = slice(page, "<svg class=\"pbars\"", "</svg>");
	for (int m = 0; m < VAGENT_METRIC_COUNT; m++) {
		struct vagent_stat_summary s;
		const char *name = vagent_metric_name((vagent_metric)m);
		int64_t v[5];
		char *group, from[64];

		if (vagent_stats_summary(f.stats, (vagent_metric)m, &s) != VAGENT_OK) {
			snprintf(from, sizeof(from), "data-metric=\"%s\"", name);
			ck_assert_ptr_null(strstr(page, from));
			continue;
		}
		metrics++;
		v[0] = s.p50, v[1] = s.p90, v[2] = s.p95, v[3] = s.p99, v[4] = s.max;
		for (int k = 0; k < 5; k++)
			ms_text(v[k], p[k], sizeof(p[k]));
		ms_text((int64_t)llround(s.mean), mean, sizeof(mean));
		snprintf(want, sizeof(want), "<tr data-metric=\"%s\"><td>%s</td><td class=\"num\">%zu"
			 "</td><td class=\"num\">%s</td><td class=\"num\">%s</td><td class=\"num\">"
			 "%s</td><td class=\"num\">%s</td><td class=\"num\">%s</td><td class=\"num\">"
			 "%s</td></tr>", name, name, s.n, p[0], p[1], p[2], p[3], p[4], mean);
		ck_assert_msg(strstr(table, want) != NULL, "no row\n%s\nin\n%s", want, table);
		/* the bar group: five bars with the same numbers as text */
		snprintf(from, sizeof(from), "<g class=\"hop\" data-metric=\"%s\">", name);
		group = slice(bars, from, "</g>");
		ck_assert_uint_eq(count_of(group, "<rect class=\"pbar "), 5);
		for (int k = 0; k < 5; k++) {
			static const char *const st[5] = { "p50", "p90", "p95", "p99", "max" };

			snprintf(want, sizeof(want), "<title>%s %s: %s ms</title>", name, st[k], p[k]);
			ck_assert_msg(strstr(group, want) != NULL, "no %s in %s", want, group);
			snprintf(want, sizeof(want), "\">%s ms</text>", p[k]);
			ck_assert_msg(strstr(group, want) != NULL, "no %s in %s", want, group);
		}
		free(group);
	}
	ck_assert_uint_eq(metrics, 5);
	ck_assert_uint_eq(count_of(bars, "<g class=\"hop\""), metrics);
	/* in the order of the metric enum */
	assert_before(table, "\"endpoint\"", "\"stt_final\"");
	assert_before(table, "\"tts_ttfb\"", "\"e2e\"");
	assert_before(table, "\"e2e\"", "\"answer\"");
	/* the odd values print as the JSON result does */
	ck_assert_ptr_nonnull(strstr(table, "<td class=\"num\">80.5</td>"));
	ck_assert_ptr_nonnull(strstr(table, "<td class=\"num\">420.123</td>"));
	ck_assert_ptr_nonnull(strstr(table, "<td class=\"num\">19.2</td></tr>"));  /* endpoint mean */
	free(bars);
	free(table);
	free(page);
	vagent_stats_free(f.stats);
}
END_TEST

START_TEST(test_histogram_bins)
{
	struct fixture f;
	char *page, *e2e, *endpoint, *final, *ttfb, *answer;

	fixture_init(&f);
	page = render(&f.b);
	ck_assert_uint_eq(count_of(page, "<svg class=\"hist\""), 5);

	e2e = histogram_of(page, "e2e");
	ck_assert_uint_eq(count_of(e2e, "<rect class=\"bin"), 3);
	ck_assert_uint_eq(bin_total(e2e), 9);
	ck_assert_ptr_nonnull(strstr(e2e, bar_title(f.stats, VAGENT_METRIC_E2E, MS(100), 5)));
	ck_assert_ptr_nonnull(strstr(e2e, bar_title(f.stats, VAGENT_METRIC_E2E, MS(200), 3)));
	ck_assert_ptr_nonnull(strstr(e2e, bar_title(f.stats, VAGENT_METRIC_E2E, MS(1000), 1)));
	/* the markers: p50 100 ms, p95 and p99 1000 ms */
	ck_assert_ptr_nonnull(strstr(e2e, "<line class=\"marker p50\""));
	ck_assert_ptr_nonnull(strstr(e2e, "<title>p50 100 ms</title>"));
	ck_assert_ptr_nonnull(strstr(e2e, "<title>p95 1000 ms</title>"));
	ck_assert_ptr_nonnull(strstr(e2e, "<title>p99 1000 ms</title>"));
	/* ms ticks of the log axis: 100, 200, 500, 1000 */
	ck_assert_ptr_nonnull(strstr(e2e, "text-anchor=\"middle\">100</text>"));
	ck_assert_ptr_nonnull(strstr(e2e, "text-anchor=\"middle\">200</text>"));
	ck_assert_ptr_nonnull(strstr(e2e, "text-anchor=\"middle\">500</text>"));
	ck_assert_ptr_nonnull(strstr(e2e, "text-anchor=\"middle\">1000</text>"));
	ck_assert_ptr_null(strstr(e2e, "nonpos"));

	/* values <= 0 in their own bin, the two positives at both ends */
	endpoint = histogram_of(page, "endpoint");
	ck_assert_uint_eq(count_of(endpoint, "<rect class=\"bin"), 3);
	ck_assert_uint_eq(bin_total(endpoint), 5);
	ck_assert_uint_eq(count_of(endpoint, "<rect class=\"bin nonpos\""), 1);
	{
		/* the bin runs from the low end of -5 ms's bucket to 0 */
		struct vagent_stats_bucket *bk = NULL;
		size_t nb = 0;
		char lo[40], want[120];

		ck_assert_int_eq(vagent_stats_buckets(f.stats, VAGENT_METRIC_ENDPOINT, &bk, &nb),
				 VAGENT_OK);
		ck_assert_uint_ge(nb, 1);
		snprintf(want, sizeof(want), "<title>%s&#8211;0 ms: 3</title>",
			 ms_text(bk[0].lo, lo, sizeof(lo)));
		ck_assert_msg(strstr(endpoint, want) != NULL, "no %s in %s", want, endpoint);
		free(bk);
	}
	ck_assert_ptr_nonnull(strstr(endpoint, bar_title(f.stats, VAGENT_METRIC_ENDPOINT, MS(50), 1)));
	ck_assert_ptr_nonnull(strstr(endpoint, bar_title(f.stats, VAGENT_METRIC_ENDPOINT, MS(51), 1)));
	ck_assert_ptr_nonnull(strstr(page, "<div class=\"hist-block\" id=\"hist-endpoint\">"));
	ck_assert_ptr_nonnull(strstr(page, "<p class=\"muted hist-caption\">min -5 ms &#183; p50 0 ms"));

	/* four decades: four bins */
	final = histogram_of(page, "stt_final");
	ck_assert_uint_eq(count_of(final, "<rect class=\"bin"), 4);
	ck_assert_ptr_nonnull(strstr(final, bar_title(f.stats, VAGENT_METRIC_STT_FINAL, 1000, 1)));
	ck_assert_ptr_nonnull(strstr(final, bar_title(f.stats, VAGENT_METRIC_STT_FINAL, 10000, 1)));

	/* all equal, and a single sample: one bar each */
	ttfb = histogram_of(page, "tts_ttfb");
	ck_assert_uint_eq(count_of(ttfb, "<rect class=\"bin"), 1);
	ck_assert_ptr_nonnull(strstr(ttfb, bar_title(f.stats, VAGENT_METRIC_TTS_TTFB, 80500, 4)));
	answer = histogram_of(page, "answer");
	ck_assert_uint_eq(count_of(answer, "<rect class=\"bin"), 1);
	ck_assert_ptr_nonnull(strstr(answer, bar_title(f.stats, VAGENT_METRIC_ANSWER, 420123, 1)));
	ck_assert_ptr_nonnull(strstr(answer, "<title>p99 420.123 ms</title>"));
	assert_finite(answer);

	free(e2e);
	free(endpoint);
	free(final);
	free(ttfb);
	free(answer);
	free(page);
	vagent_stats_free(f.stats);
}
END_TEST

START_TEST(test_dense_distribution)
{
	struct vagent_bench_summary b = { 0 };
	struct vagent_stats *s = vagent_stats_new();
	char *page, *hist;
	size_t used = 0;

	/* every whole ms from 1 to 2000: the 40 bins span [1, 2000] ms with
	 * edges 2000^(i/40) ms, so a bin has a bar when a whole ms falls in
	 * it (the narrow first bins, ~1.21x wide, do not all get one) */
	for (int64_t v = 1; v <= 2000; v++)
		ck_assert_int_eq(vagent_stats_add(s, VAGENT_METRIC_LLM_TTFT, MS(v)), VAGENT_OK);
	for (int i = 0; i < 40; i++) {
		double lo = pow(2000, i / 40.0), hi = pow(2000, (i + 1) / 40.0);
		double first = ceil(lo - 1e-9);

		used += i == 39 ? first <= hi + 1e-9 : first < hi - 1e-9;
	}
	ck_assert_uint_lt(used, 40);
	b.stats = s;
	page = render(&b);
	assert_common(page);
	hist = histogram_of(page, "llm_ttft");
	ck_assert_uint_eq(count_of(hist, "<rect class=\"bin"), used);
	ck_assert_ptr_nonnull(strstr(hist, bar_title(s, VAGENT_METRIC_LLM_TTFT, MS(1), 1)));
	ck_assert_uint_eq(bin_total(hist), 2000);
	free(hist);
	free(page);
	vagent_stats_free(s);
}
END_TEST

START_TEST(test_zero_and_extreme_values)
{
	struct vagent_bench_summary b = { 0 };
	struct vagent_stats *s = vagent_stats_new();
	char *page, *zero, *wide;

	/* only zeros: the "<= 0" bin alone; values across the whole int64
	 * range: finite coordinates, the negative one in the "<= 0" bin */
	add(s, VAGENT_METRIC_TTS_TTFB, 0, 3);
	add(s, VAGENT_METRIC_TOOL, INT64_MIN + 1, 1);
	add(s, VAGENT_METRIC_TOOL, 1, 1);
	add(s, VAGENT_METRIC_TOOL, INT64_MAX, 1);
	b.stats = s;
	page = render(&b);
	assert_common(page);
	zero = histogram_of(page, "tts_ttfb");
	ck_assert_uint_eq(count_of(zero, "<rect class=\"bin"), 1);
	ck_assert_ptr_nonnull(strstr(zero, "<rect class=\"bin nonpos\""));
	ck_assert_ptr_nonnull(strstr(zero, "<title>0 ms: 3</title>"));
	wide = histogram_of(page, "tool");
	ck_assert_uint_eq(count_of(wide, "<rect class=\"bin"), 3);
	ck_assert_uint_eq(bin_total(wide), 3);
	assert_finite(page);
	free(zero);
	free(wide);
	free(page);
	vagent_stats_free(s);
}
END_TEST

START_TEST(test_no_samples)
{
	struct vagent_bench_summary b = { 0 };
	struct vagent_stats *s = vagent_stats_new();
	char *page;

	/* NULL stats, then stats without a sample */
	for (int pass = 0; pass < 2; pass++) {
		b.stats = pass ? s : NULL;
		page = render(&b);
		assert_common(page);
		ck_assert_uint_eq(count_of(page, "<p class=\"no-samples\">no samples</p>"), 2);
		ck_assert_ptr_null(strstr(page, "<svg"));
		ck_assert_ptr_nonnull(strstr(page, "<title>vagent bench</title>"));
		ck_assert_ptr_nonnull(strstr(page, "<th>inputs</th><td><span class=\"muted\">none"));
		ck_assert_ptr_nonnull(strstr(page, "<th>containment rate</th><td>&#8211;"));
		free(page);
	}
	vagent_stats_free(s);
}
END_TEST

START_TEST(test_bad_arguments)
{
	struct vagent_bench_summary b = { 0 };
	struct vagent_error err;
	char *out = (char *)"unchanged";

	ck_assert_int_eq(vagent_report_bench_html(NULL, &out, &err), VAGENT_EINVAL);
	ck_assert_ptr_null(out);
	ck_assert_ptr_nonnull(strstr(err.message, "bench html"));
	ck_assert_int_eq(vagent_report_bench_html(&b, NULL, &err), VAGENT_EINVAL);
	ck_assert_ptr_nonnull(strstr(err.message, "no output pointer"));
	b.n_inputs = 1;
	ck_assert_int_eq(vagent_report_bench_html(&b, &out, &err), VAGENT_EINVAL);
	ck_assert_ptr_null(out);
	ck_assert_ptr_nonnull(strstr(err.message, "inputs is NULL"));
	b.n_inputs = 0;
	b.n_slos = 2;
	ck_assert_int_eq(vagent_report_bench_html(&b, &out, &err), VAGENT_EINVAL);
	ck_assert_ptr_nonnull(strstr(err.message, "slos is NULL"));
}
END_TEST

START_TEST(test_renders_in_chromium)
{
	struct fixture f;
	char *html, *dom, profile[1024], url[1200];
	const char *path;
	int status;

	fixture_init(&f);
	html = render(&f.b);
	path = temp_path("bench.html");
	write_file(path, html, strlen(html));
	snprintf(url, sizeof(url), "file://%s", path);
	snprintf(profile, sizeof(profile), "--user-data-dir=%s", temp_path("chromium-profile"));
	{
		const char *args[] = { "--headless", "--no-sandbox", "--disable-gpu",
				       "--disable-dev-shm-usage", profile, "--dump-dom", url, NULL };

		dom = run_chromium(args, 60, &status);
	}
	ck_assert_msg(status != -1, "chromium did not finish within 60 s");
	ck_assert_msg(WIFEXITED(status) && WEXITSTATUS(status) != 127,
		      "chromium is not installed (sh scripts/deps installs it)");
	ck_assert_msg(WIFEXITED(status) && WEXITSTATUS(status) == 0,
		      "chromium failed (status %d)", status);
	/* the DOM as parsed: one bar chart and five histograms, their bars,
	 * the SLO rows, the escaped input as text */
	ck_assert_msg(strstr(dom, "<title>bench &lt;&amp;\"&gt; night</title>") != NULL,
		      "no page:\n%.2000s", dom);
	ck_assert_uint_eq(count_of(dom, "<svg "), 6);
	ck_assert_uint_eq(count_of(dom, "<svg class=\"pbars\""), 1);
	ck_assert_uint_eq(count_of(dom, "<svg class=\"hist\""), 5);
	ck_assert_uint_eq(count_of(dom, "<rect class=\"pbar "), 25);
	ck_assert_uint_eq(count_of(dom, "<rect class=\"bin"), 3 + 3 + 4 + 1 + 1);
	ck_assert_uint_eq(count_of(dom, "<line class=\"marker "), 15);
	ck_assert_uint_eq(count_of(dom, "<tr class=\"slo-fail\">"), 3);
	ck_assert_ptr_nonnull(strstr(dom, "<code>calls/&lt;a&amp;b\"c&gt;</code>"));
	ck_assert_ptr_null(strstr(dom, "<script"));
	free(dom);
	free(html);
	vagent_stats_free(f.stats);
}
END_TEST

Suite *suite_bench_html(void)
{
	Suite *s = suite_create("bench_html");
	TCase *tc = tcase_create("page");
	TCase *render_tc = tcase_create("render");

	tcase_add_test(tc, test_run_figures);
	tcase_add_test(tc, test_slo_rows);
	tcase_add_test(tc, test_percentiles_match_summary);
	tcase_add_test(tc, test_histogram_bins);
	tcase_add_test(tc, test_dense_distribution);
	tcase_add_test(tc, test_zero_and_extreme_values);
	tcase_add_test(tc, test_no_samples);
	tcase_add_test(tc, test_bad_arguments);
	suite_add_tcase(s, tc);

	tcase_add_checked_fixture(render_tc, temp_dir_setup, temp_dir_teardown);
	tcase_set_timeout(render_tc, 150);
	tcase_add_test(render_tc, test_renders_in_chromium);
	suite_add_tcase(s, render_tc);
	return s;
}
