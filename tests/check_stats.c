/*
 * check_stats.c — the mergeable statistics (lib/trace/stats.c): histogram
 * percentiles against exact nearest-rank values for seeded distributions,
 * merging, the JSON form and its strict parser, the bucket list, and
 * memory that stays flat however many samples are added.
 */
#include <check.h>
#include <malloc.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "vagent.h"
#include "core/internal.h"
#include "trace/trace_int.h"
#include "support/harness.h"

#define E2E VAGENT_METRIC_E2E
#define ENDPOINT VAGENT_METRIC_ENDPOINT

static int cmp_i64(const void *pa, const void *pb)
{
	int64_t a = *(const int64_t *)pa, b = *(const int64_t *)pb;

	return (a > b) - (a < b);
}

/* A standard normal deviate (Box-Muller). */
static double normal(struct vagent__rng *r)
{
	double u = vagent__rng_double(r), v = vagent__rng_double(r);

	return sqrt(-2.0 * log(1.0 - u)) * cos(2.0 * M_PI * v);
}

enum dist { UNIFORM, HEAVY_TAIL, CONSTANT, NEGATIVES, TINY, HUGE_VALUES, N_DIST };
static const char *const dist_names[] = { "uniform", "heavy tail", "constant",
					  "negatives", "tiny", "huge" };

static int64_t draw(struct vagent__rng *r, enum dist d)
{
	switch (d) {
	case UNIFORM:
		return vagent__rng_range(r, 3000001);
	case HEAVY_TAIL:
		return (int64_t)exp(12.0 + 1.5 * normal(r));
	case CONSTANT:
		return 123457;
	case NEGATIVES:
		return vagent__rng_range(r, 700001) - 500000;
	case TINY:
		return vagent__rng_range(r, 300);
	default:
		return (INT64_C(1) << 38) + vagent__rng_range(r, (INT64_C(3) << 38) - 1);
	}
}

/* n samples of distribution d into `v` (sorted) and metric m of `st`. */
static int64_t *fill(struct vagent_stats *st, vagent_metric m, enum dist d, size_t n,
		     uint64_t seed)
{
	struct vagent__rng r;
	int64_t *v = malloc(n * sizeof(*v));

	ck_assert_ptr_nonnull(v);
	vagent__rng_seed(&r, seed, (uint64_t)d);
	for (size_t i = 0; i < n; i++) {
		v[i] = draw(&r, d);
		ck_assert_int_eq(vagent_stats_add(st, m, v[i]), VAGENT_OK);
	}
	qsort(v, n, sizeof(*v), cmp_i64);
	return v;
}

static const struct { const char *name; uint64_t num, den; } pcts[] = {
	{ "p0.01", 1, 100 }, { "p1", 1, 1 }, { "p5", 5, 1 }, { "p10", 10, 1 },
	{ "p25", 25, 1 }, { "p30", 30, 1 }, { "p50", 50, 1 }, { "p75", 75, 1 },
	{ "p90", 90, 1 }, { "p95", 95, 1 }, { "p99", 99, 1 }, { "p99.9", 999, 10 },
	{ "p99.99", 9999, 100 }, { "p100", 100, 1 },
};

/* The exact nearest-rank percentile num/den of sorted v[0..n-1]. */
static int64_t exact_pct(const int64_t *v, size_t n, uint64_t num, uint64_t den)
{
	uint64_t rank = (num * n + den * 100 - 1) / (den * 100);

	return v[(rank < 1 ? 1 : rank) - 1];
}

/* Every pN of metric m is the exact one within the documented bound. */
static void assert_close(const struct vagent_stats *st, vagent_metric m, const int64_t *v,
			 size_t n, const char *what)
{
	for (size_t i = 0; i < sizeof(pcts) / sizeof(pcts[0]); i++) {
		double got;
		int64_t want = exact_pct(v, n, pcts[i].num, pcts[i].den);

		ck_assert_int_eq(vagent_stats_get(st, m, pcts[i].name, &got), VAGENT_OK);
		if (llabs(want) < 256)
			ck_assert_msg(got == (double)want, "%s %s: %.0f, exact %lld", what,
				      pcts[i].name, got, (long long)want);
		else
			ck_assert_msg(fabs(got - (double)want) <=
				      VAGENT_STATS_REL_ERROR * fabs((double)want),
				      "%s %s: %.0f, exact %lld", what, pcts[i].name, got,
				      (long long)want);
	}
}

START_TEST(test_histogram_percentiles_within_bound)
{
	const size_t n = 3 * VAGENT_STATS_EXACT_MAX + 17;

	for (int d = 0; d < N_DIST; d++) {
		for (uint64_t seed = 1; seed <= 2; seed++) {
			struct vagent_stats *st = vagent_stats_new();
			int64_t *v = fill(st, E2E, (enum dist)d, n, seed);
			long double sum = 0;
			double got;

			ck_assert(!vagent_stats_exact(st, E2E));
			ck_assert_uint_eq(vagent_stats_count(st, E2E), n);
			assert_close(st, E2E, v, n, dist_names[d]);
			for (size_t i = 0; i < n; i++)
				sum += v[i];
			ck_assert_int_eq(vagent_stats_get(st, E2E, "mean", &got), VAGENT_OK);
			ck_assert(got == (double)(sum / (long double)n));
			ck_assert_int_eq(vagent_stats_get(st, E2E, "min", &got), VAGENT_OK);
			ck_assert(got == (double)v[0]);
			ck_assert_int_eq(vagent_stats_get(st, E2E, "max", &got), VAGENT_OK);
			ck_assert(got == (double)v[n - 1]);
			free(v);
			vagent_stats_free(st);
		}
	}
}
END_TEST

START_TEST(test_exact_until_the_limit)
{
	struct vagent_stats *st = vagent_stats_new();
	struct vagent_stat_summary s;
	int64_t *v = fill(st, E2E, HEAVY_TAIL, VAGENT_STATS_EXACT_MAX, 7);
	double got;

	/* exact: every percentile is one of the samples */
	ck_assert(vagent_stats_exact(st, E2E));
	for (size_t i = 0; i < sizeof(pcts) / sizeof(pcts[0]); i++) {
		ck_assert_int_eq(vagent_stats_get(st, E2E, pcts[i].name, &got), VAGENT_OK);
		ck_assert(got == (double)exact_pct(v, VAGENT_STATS_EXACT_MAX, pcts[i].num,
						   pcts[i].den));
	}
	ck_assert_int_eq(vagent_stats_summary(st, E2E, &s), VAGENT_OK);
	ck_assert_int_eq(s.p99, exact_pct(v, VAGENT_STATS_EXACT_MAX, 99, 1));

	/* one more and the histogram answers; max stays exact */
	ck_assert_int_eq(vagent_stats_add(st, E2E, v[0]), VAGENT_OK);
	ck_assert(!vagent_stats_exact(st, E2E));
	ck_assert_int_eq(vagent_stats_summary(st, E2E, &s), VAGENT_OK);
	ck_assert_uint_eq(s.n, VAGENT_STATS_EXACT_MAX + 1);
	ck_assert_int_eq(s.max, v[VAGENT_STATS_EXACT_MAX - 1]);
	ck_assert(vagent_stats_exact(st, ENDPOINT));   /* untouched metric */

	ck_assert_int_eq(vagent_stats_add(st, E2E, VAGENT_METRIC_ABSENT), VAGENT_EINVAL);
	ck_assert_int_eq(vagent_stats_add(st, VAGENT_METRIC_COUNT, 1), VAGENT_EINVAL);
	ck_assert(!vagent_stats_exact(st, VAGENT_METRIC_COUNT));
	free(v);
	vagent_stats_free(st);
}
END_TEST

/* Values past the range (2^40 µs) share the last bucket, but min and
 * max stay exact and p100 is the max; a one-sample metric is exact even
 * from the histogram. */
START_TEST(test_out_of_range_and_single_sample)
{
	struct vagent_stats *st = vagent_stats_new(), *back = NULL;
	struct vagent_error err;
	int64_t big = INT64_C(1) << 50, bigger = (INT64_C(1) << 50) + 12345;
	double got;
	char *json = NULL;

	for (int i = 0; i < VAGENT_STATS_EXACT_MAX; i++)
		ck_assert_int_eq(vagent_stats_add(st, E2E, big), VAGENT_OK);
	ck_assert_int_eq(vagent_stats_add(st, E2E, bigger), VAGENT_OK);
	ck_assert_int_eq(vagent_stats_add(st, E2E, -bigger), VAGENT_OK);
	ck_assert(!vagent_stats_exact(st, E2E));
	ck_assert_int_eq(vagent_stats_get(st, E2E, "p100", &got), VAGENT_OK);
	ck_assert(got == (double)bigger);
	ck_assert_int_eq(vagent_stats_get(st, E2E, "min", &got), VAGENT_OK);
	ck_assert(got == (double)-bigger);
	ck_assert_int_eq(vagent_stats_get(st, E2E, "p0.01", &got), VAGENT_OK);
	ck_assert(got == (double)-bigger);   /* clamped to min */
	vagent_stats_free(st);

	st = vagent_stats_new();
	ck_assert_int_eq(vagent_stats_add(st, ENDPOINT, -987654), VAGENT_OK);
	ck_assert_int_eq(vagent_stats_to_json(st, &json, &err), VAGENT_OK);
	ck_assert_int_eq(vagent_stats_from_json(json, strlen(json), "a.json", &back, &err),
			 VAGENT_OK);
	ck_assert(!vagent_stats_exact(back, ENDPOINT));
	for (size_t i = 0; i < sizeof(pcts) / sizeof(pcts[0]); i++) {
		ck_assert_int_eq(vagent_stats_get(back, ENDPOINT, pcts[i].name, &got),
				 VAGENT_OK);
		ck_assert(got == -987654.0);
	}
	free(json);
	vagent_stats_free(back);
	vagent_stats_free(st);
}
END_TEST

static char *json_of(const struct vagent_stats *st)
{
	struct vagent_error err;
	char *json = NULL;

	ck_assert_int_eq(vagent_stats_to_json(st, &json, &err), VAGENT_OK);
	ck_assert_ptr_nonnull(json);
	return json;
}

static void assert_same_summaries(const struct vagent_stats *a, const struct vagent_stats *b)
{
	for (int m = 0; m < VAGENT_METRIC_COUNT; m++) {
		struct vagent_stat_summary x, y;

		ck_assert_int_eq(vagent_stats_summary(a, (vagent_metric)m, &x),
				 vagent_stats_summary(b, (vagent_metric)m, &y));
		ck_assert_uint_eq(x.n, y.n);
		ck_assert_int_eq(x.p50, y.p50);
		ck_assert_int_eq(x.p90, y.p90);
		ck_assert_int_eq(x.p95, y.p95);
		ck_assert_int_eq(x.p99, y.p99);
		ck_assert_int_eq(x.max, y.max);
		ck_assert(x.mean == y.mean);
	}
}

START_TEST(test_merge_equals_one_aggregate)
{
	struct vagent_stats *a = vagent_stats_new(), *b = vagent_stats_new();
	struct vagent_stats *all = vagent_stats_new();
	struct vagent__rng r;
	char *ja, *jall;

	vagent__rng_seed(&r, 42, 0);
	for (int i = 0; i < 9000; i++) {
		int64_t e2e = (int64_t)exp(13.0 + normal(&r));
		int64_t endpoint = vagent__rng_range(&r, 900001) - 300000;
		struct vagent_stats *part = i % 3 ? a : b;

		ck_assert_int_eq(vagent_stats_add(part, E2E, e2e), VAGENT_OK);
		ck_assert_int_eq(vagent_stats_add(part, ENDPOINT, endpoint), VAGENT_OK);
		ck_assert_int_eq(vagent_stats_add(all, E2E, e2e), VAGENT_OK);
		ck_assert_int_eq(vagent_stats_add(all, ENDPOINT, endpoint), VAGENT_OK);
	}
	ck_assert(vagent_stats_exact(b, E2E));       /* 3000 samples */
	ck_assert(!vagent_stats_exact(a, E2E));      /* 6000 */
	ck_assert_int_eq(vagent_stats_merge(a, b), VAGENT_OK);
	vagent_stats_free(b);
	ck_assert(!vagent_stats_exact(a, E2E));
	ja = json_of(a);
	jall = json_of(all);
	ck_assert_str_eq(ja, jall);   /* n, min, max, sum and every bucket */
	assert_same_summaries(a, all);
	free(ja);
	free(jall);

	/* merging into itself doubles every count */
	ck_assert_int_eq(vagent_stats_merge(all, all), VAGENT_OK);
	ck_assert_uint_eq(vagent_stats_count(all, E2E), 18000);
	vagent_stats_free(a);
	vagent_stats_free(all);
}
END_TEST

START_TEST(test_merge_small_stays_exact)
{
	struct vagent_stats *a = vagent_stats_new(), *b = vagent_stats_new();
	struct vagent_stats *big = vagent_stats_new(), *empty = vagent_stats_new();
	int64_t v[300];
	double got;

	for (int i = 0; i < 300; i++) {
		v[i] = (int64_t)(i * 7919 % 300) * 1000 + 1;
		ck_assert_int_eq(vagent_stats_add(i < 100 ? a : b, E2E, v[i]), VAGENT_OK);
	}
	ck_assert_int_eq(vagent_stats_merge(a, b), VAGENT_OK);
	ck_assert_int_eq(vagent_stats_merge(a, empty), VAGENT_OK);
	ck_assert(vagent_stats_exact(a, E2E));
	ck_assert_uint_eq(vagent_stats_count(a, E2E), 300);
	qsort(v, 300, sizeof(*v), cmp_i64);
	for (size_t i = 0; i < sizeof(pcts) / sizeof(pcts[0]); i++) {
		ck_assert_int_eq(vagent_stats_get(a, E2E, pcts[i].name, &got), VAGENT_OK);
		ck_assert(got == (double)exact_pct(v, 300, pcts[i].num, pcts[i].den));
	}

	/* past the limit together: no longer exact */
	for (int i = 0; i < VAGENT_STATS_EXACT_MAX - 299; i++)
		ck_assert_int_eq(vagent_stats_add(big, E2E, 5000), VAGENT_OK);
	ck_assert(vagent_stats_exact(big, E2E));
	ck_assert_int_eq(vagent_stats_merge(big, a), VAGENT_OK);
	ck_assert(!vagent_stats_exact(big, E2E));
	ck_assert_uint_eq(vagent_stats_count(big, E2E), VAGENT_STATS_EXACT_MAX + 1);
	ck_assert(vagent_stats_exact(a, E2E));   /* src unchanged */
	vagent_stats_free(a);
	vagent_stats_free(b);
	vagent_stats_free(big);
	vagent_stats_free(empty);
}
END_TEST

START_TEST(test_json_round_trip)
{
	struct vagent_stats *st = vagent_stats_new(), *back = NULL, *empty = NULL;
	struct vagent_error err;
	char *j1, *j2;
	int64_t *v;

	v = fill(st, E2E, HEAVY_TAIL, 5000, 3);
	free(v);
	v = fill(st, ENDPOINT, NEGATIVES, 200, 3);
	free(v);
	ck_assert_int_eq(vagent_stats_add(st, VAGENT_METRIC_TOOL, 0), VAGENT_OK);
	j1 = json_of(st);
	ck_assert_int_eq(vagent_stats_from_json(j1, strlen(j1), "a.json", &back, &err),
			 VAGENT_OK);
	ck_assert(!vagent_stats_exact(back, ENDPOINT));
	j2 = json_of(back);
	ck_assert_str_eq(j1, j2);
	ck_assert_uint_eq(vagent_stats_count(back, ENDPOINT), 200);
	ck_assert_ptr_nonnull(strstr(j1, "\"tool\":{\"n\":1,\"min\":0,\"max\":0,\"sum\":0,"
					 "\"buckets\":[[0,1]]}"));
	/* the non-exact metric answers the same from its copy */
	{
		struct vagent_stat_summary x, y;

		ck_assert_int_eq(vagent_stats_summary(st, E2E, &x), VAGENT_OK);
		ck_assert_int_eq(vagent_stats_summary(back, E2E, &y), VAGENT_OK);
		ck_assert_int_eq(x.p50, y.p50);
		ck_assert_int_eq(x.p99, y.p99);
		ck_assert(x.mean == y.mean);
	}
	free(j1);
	free(j2);

	ck_assert_int_eq(vagent_stats_from_json(" {} \n", 5, "a.json", &empty, &err),
			 VAGENT_OK);
	j1 = json_of(empty);
	ck_assert_str_eq(j1, "{}");
	free(j1);
	vagent_stats_free(empty);
	vagent_stats_free(back);
	vagent_stats_free(st);
}
END_TEST

/* The documented bucket numbering (docs/metrics.md "Histograms"). */
/* Counts past 32 bits (a group's counts widen to 64 bits): read, added
 * to, merged and written back exactly. */
START_TEST(test_huge_counts)
{
	static const char text[] =
		"{\"e2e\":{\"n\":4294967297,\"min\":700,\"max\":900,"
		"\"sum\":3006477108300,\"buckets\":[[606,4294967295],[706,2]]}}";
	struct vagent_stats *st = NULL;
	struct vagent_stats_bucket *b = NULL;
	struct vagent_error err;
	size_t n = 0;
	char *json;

	ck_assert_int_eq(vagent_stats_from_json(text, strlen(text), "a.json", &st, &err),
			 VAGENT_OK);
	json = json_of(st);
	ck_assert_str_eq(json, text);
	free(json);
	ck_assert_int_eq(vagent_stats_add(st, E2E, 700), VAGENT_OK);   /* 2^32 in bucket 606 */
	ck_assert_int_eq(vagent_stats_merge(st, st), VAGENT_OK);
	ck_assert_int_eq(vagent_stats_buckets(st, E2E, &b, &n), VAGENT_OK);
	ck_assert_uint_eq(n, 2);
	ck_assert_uint_eq(b[0].count, UINT64_C(1) << 33);
	ck_assert_uint_eq(b[1].count, 4);
	ck_assert_uint_eq(vagent_stats_count(st, E2E), (UINT64_C(1) << 33) + 4);
	free(b);
	vagent_stats_free(st);
}
END_TEST

START_TEST(test_bucket_layout)
{
	static const struct { int64_t v, lo, hi; int index; } cases[] = {
		{ 0, 0, 0, 0 }, { 255, 255, 255, 255 }, { 256, 256, 256, 256 },
		{ 511, 511, 511, 511 }, { 512, 512, 513, 512 }, { 1001, 1000, 1001, 756 },
		{ -1001, -1001, -1000, -756 }, { -1, -1, -1, -1 },
		{ INT64_C(1) << 39, INT64_C(1) << 39, (INT64_C(1) << 39) + (INT64_C(1) << 31) - 1,
		  8192 },
		{ (INT64_C(1) << 40) - 1, (INT64_C(1) << 40) - (INT64_C(1) << 31), INT64_MAX,
		  8447 },
		{ INT64_C(1) << 40, (INT64_C(1) << 40) - (INT64_C(1) << 31), INT64_MAX, 8447 },
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct vagent_stats *st = vagent_stats_new();
		struct vagent_stats_bucket *b = NULL;
		size_t n = 0;
		char *json, want[64];

		ck_assert_int_eq(vagent_stats_add(st, E2E, cases[i].v), VAGENT_OK);
		ck_assert_int_eq(vagent_stats_buckets(st, E2E, &b, &n), VAGENT_OK);
		ck_assert_uint_eq(n, 1);
		ck_assert_int_eq(b[0].lo, cases[i].lo);
		ck_assert_int_eq(b[0].hi, cases[i].hi);
		ck_assert_uint_eq(b[0].count, 1);
		json = json_of(st);
		snprintf(want, sizeof(want), "\"buckets\":[[%d,1]]", cases[i].index);
		ck_assert_msg(strstr(json, want), "%lld: %s", (long long)cases[i].v, json);
		free(json);
		free(b);
		vagent_stats_free(st);
	}
}
END_TEST

START_TEST(test_buckets_cover_the_samples)
{
	struct vagent_stats *st = vagent_stats_new();
	struct vagent_stats_bucket *b = NULL;
	size_t n = 0, total = 0, nv = 6000, j = 0;
	int64_t *v = fill(st, ENDPOINT, NEGATIVES, nv, 11);

	ck_assert_int_eq(vagent_stats_buckets(st, ENDPOINT, &b, &n), VAGENT_OK);
	ck_assert_uint_gt(n, 100);
	for (size_t i = 0; i < n; i++) {
		uint64_t inside = 0;

		ck_assert_int_le(b[i].lo, b[i].hi);
		ck_assert(b[i].count > 0);
		if (i)
			ck_assert_int_lt(b[i - 1].hi, b[i].lo);
		/* the sorted samples that fall in this bucket are its count */
		while (j < nv && v[j] <= b[i].hi) {
			ck_assert_int_ge(v[j], b[i].lo);
			j++;
			inside++;
		}
		ck_assert_uint_eq(inside, b[i].count);
		total += b[i].count;
	}
	ck_assert_uint_eq(j, nv);
	ck_assert_uint_eq(total, nv);
	free(b);
	ck_assert_int_eq(vagent_stats_buckets(st, E2E, &b, &n), VAGENT_OK);
	ck_assert_ptr_null(b);
	ck_assert_uint_eq(n, 0);
	free(v);
	vagent_stats_free(st);
}
END_TEST

START_TEST(test_bad_json)
{
	static const struct { const char *text, *message; } cases[] = {
		{ "not json", "a.json: histograms: not JSON" },
		{ "{\"e2e\":{}} x", "a.json: histograms: not JSON" },
		{ "[1,2]", "a.json: histograms: not an object of metrics" },
		{ "{\"e2f\":{\"n\":1,\"min\":5,\"max\":5,\"sum\":5,\"buckets\":[[5,1]]}}",
		  "a.json: histograms.e2f: unknown metric" },
		{ "{\"e\\n2e\":{}}", "a.json: histograms.e?2e: unknown metric" },
		{ "{\"e2e\":{\"n\":1,\"min\":5,\"max\":5,\"sum\":5,\"buckets\":[[5,-1]]}}",
		  "a.json: histograms.e2e: buckets[5]: count not a positive integer" },
		{ "{\"e2e\":{\"n\":1,\"min\":5,\"max\":5,\"sum\":5,\"buckets\":[[5,0]]}}",
		  "a.json: histograms.e2e: buckets[5]: count not a positive integer" },
		{ "{\"e2e\":{\"n\":1,\"min\":5,\"max\":5,\"sum\":5,\"buckets\":[[8448,1]]}}",
		  "a.json: histograms.e2e: buckets: index not an integer in -8447..8447" },
		{ "{\"e2e\":{\"n\":1,\"min\":5,\"max\":5,\"sum\":5,\"buckets\":[[-9000,1]]}}",
		  "a.json: histograms.e2e: buckets: index not an integer in -8447..8447" },
		{ "{\"e2e\":{\"n\":3,\"min\":5,\"max\":6,\"sum\":16,\"buckets\":[[5,1],[6,1]]}}",
		  "a.json: histograms.e2e: bucket counts add up to 2, not n = 3" },
		{ "{\"e2e\":{\"n\":1,\"min\":5,\"max\":6,\"sum\":16,\"buckets\":[[5,1],[6,1]]}}",
		  "a.json: histograms.e2e: bucket counts add up to more than n = 1" },
		{ "{\"e2e\":{\"n\":2,\"min\":6,\"max\":5,\"sum\":11,\"buckets\":[[5,1],[6,1]]}}",
		  "a.json: histograms.e2e: min 6 > max 5" },
		{ "{\"tool\":{\"n\":\"1\",\"min\":5,\"max\":5,\"sum\":5,\"buckets\":[[5,1]]}}",
		  "a.json: histograms.tool: n: not a positive integer (at most 2^53)" },
		{ "{\"e2e\":{\"n\":1,\"min\":5,\"max\":5,\"sum\":5.5,\"buckets\":[[5,1]]}}",
		  "a.json: histograms.e2e: sum: not an integer" },
		{ "{\"e2e\":{\"n\":1,\"min\":5,\"max\":5,\"sum\":5,\"buckets\":{}}}",
		  "a.json: histograms.e2e: buckets: not a non-empty array" },
		{ "{\"e2e\":{\"n\":1,\"min\":5,\"max\":5,\"sum\":5,\"buckets\":[[5]]}}",
		  "a.json: histograms.e2e: buckets: not an [INDEX,COUNT] pair" },
		{ "{\"e2e\":{\"n\":1,\"min\":5,\"max\":5,\"sum\":5,\"buckets\":[[true,1]]}}",
		  "a.json: histograms.e2e: buckets: index not an integer in -8447..8447" },
		{ "{\"e2e\":[]}", "a.json: histograms.e2e: not an object" },
		{ "{\"e2e\":{\"n\":1,\"min\":5,\"max\":5,\"sum\":5}}",
		  "a.json: histograms.e2e: missing field \"buckets\"" },
		{ "{\"e2e\":{\"n\":1,\"min\":5,\"max\":5,\"sum\":5,\"buckets\":[[5,1]],\"p\":1}}",
		  "a.json: histograms.e2e: unknown field \"p\"" },
		{ "{\"e2e\":{\"n\":1,\"n\":1,\"min\":5,\"max\":5,\"sum\":5,\"buckets\":[[5,1]]}}",
		  "a.json: histograms.e2e: duplicate field \"n\"" },
		{ "{\"e2e\":{\"n\":2,\"min\":5,\"max\":6,\"sum\":11,\"buckets\":[[6,1],[5,1]]}}",
		  "a.json: histograms.e2e: buckets: index 5 not after 6" },
		{ "{\"e2e\":{\"n\":2,\"min\":4,\"max\":6,\"sum\":11,\"buckets\":[[5,1],[6,1]]}}",
		  "a.json: histograms.e2e: min/max not in the first/last bucket" },
		{ "{\"e2e\":{\"n\":2,\"min\":5,\"max\":6,\"sum\":13,\"buckets\":[[5,1],[6,1]]}}",
		  "a.json: histograms.e2e: sum 13 not between n*min and n*max" },
		{ "{\"e2e\":{\"n\":1,\"min\":5,\"max\":5,\"sum\":5,\"buckets\":[[5,1]]},"
		  "\"e2e\":{\"n\":1,\"min\":5,\"max\":5,\"sum\":5,\"buckets\":[[5,1]]}}",
		  "a.json: histograms.e2e: duplicate metric" },
		{ "{\"e2e\":{\"n\":1,\"min\":1e300,\"max\":5,\"sum\":5,\"buckets\":[[5,1]]}}",
		  "a.json: histograms.e2e: min: not an integer (magnitude at most 2^53)" },
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct vagent_stats *st = (struct vagent_stats *)&st;
		struct vagent_error err;
		vagent_status rc = vagent_stats_from_json(cases[i].text, strlen(cases[i].text),
							  "a.json", &st, &err);

		ck_assert_msg(rc == VAGENT_EFORMAT, "%s: %d", cases[i].text, rc);
		ck_assert_ptr_null(st);
		ck_assert_str_eq(err.message, cases[i].message);
	}
}
END_TEST

/* Five million samples: the aggregator does not grow after the first
 * few thousand (the exact samples are dropped, the histogram groups the
 * values touch are allocated once). */
START_TEST(test_memory_flat)
{
	struct vagent_stats *st = vagent_stats_new();
	struct vagent__rng r;
	size_t bytes_early;
	struct mallinfo2 early, late;
	int64_t v = 0;

	vagent__rng_seed(&r, 5, 0);
	for (int i = 0; i < 10000; i++)
		ck_assert_int_eq(vagent_stats_add(st, E2E, vagent__rng_range(&r, 20000000)),
				 VAGENT_OK);
	/* one value in every power of two the later ones can reach, so every
	 * histogram group they need is there */
	for (int e = 0; e < 25; e++)
		ck_assert_int_eq(vagent_stats_add(st, E2E, INT64_C(1) << e), VAGENT_OK);
	ck_assert(!vagent_stats_exact(st, E2E));
	bytes_early = vagent__stats_bytes(st);
	early = mallinfo2();
	for (int i = 0; i < 5000000; i++) {
		v = (v * 1103515245 + 12345) & 0x7fffffff;
		vagent_stats_add(st, E2E, v % 20000000);
	}
	late = mallinfo2();
	ck_assert_uint_eq(vagent_stats_count(st, E2E), 5010025);
	ck_assert_uint_eq(vagent__stats_bytes(st), bytes_early);
	ck_assert_uint_lt(bytes_early, 1 << 20);
	ck_assert_uint_le(late.uordblks, early.uordblks + 65536);
	vagent_stats_free(st);
}
END_TEST

Suite *suite_stats(void)
{
	Suite *s = suite_create("stats");
	TCase *tc = tcase_create("stats");
	TCase *big = tcase_create("stats_many_samples");

	tcase_add_test(tc, test_histogram_percentiles_within_bound);
	tcase_add_test(tc, test_exact_until_the_limit);
	tcase_add_test(tc, test_out_of_range_and_single_sample);
	tcase_add_test(tc, test_merge_equals_one_aggregate);
	tcase_add_test(tc, test_merge_small_stays_exact);
	tcase_add_test(tc, test_json_round_trip);
	tcase_add_test(tc, test_bucket_layout);
	tcase_add_test(tc, test_huge_counts);
	tcase_add_test(tc, test_buckets_cover_the_samples);
	tcase_add_test(tc, test_bad_json);
	suite_add_tcase(s, tc);
	/* 5 million additions: well under a second, but sanitizer builds on
	 * a shared machine are slower */
	tcase_set_timeout(big, 60);
	tcase_add_test(big, test_memory_flat);
	suite_add_tcase(s, big);
	return s;
}
