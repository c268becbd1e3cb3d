/*
 * fuzz_stats_json.c — libFuzzer harness for the serialized statistics
 * (vagent_stats_from_json). A rejected input must give one line starting
 * "s.json: histograms" with VAGENT_EFORMAT (or ENOMEM) and no aggregator;
 * an accepted one must serialize back to JSON that parses to the same
 * text, merge into an empty aggregator unchanged, and answer every
 * statistic within [min, max] with buckets that add up to the count.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "vagent.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void one_line(const char *s)
{
	if (!s || !*s || strchr(s, '\n'))
		abort();
}

static char *to_json(const struct vagent_stats *st)
{
	struct vagent_error err;
	char *json = NULL;

	if (vagent_stats_to_json(st, &json, &err) != VAGENT_OK || !json)
		abort();
	return json;
}

static void check_metric(const struct vagent_stats *st, vagent_metric m)
{
	static const char *const stats[] = { "p0.5", "p50", "p90", "p99.9", "p100" };
	struct vagent_stats_bucket *b = NULL;
	struct vagent_stat_summary sum;
	size_t n = 0;
	uint64_t total = 0;
	double lo, hi, v;

	if (vagent_stats_summary(st, m, &sum) != VAGENT_OK) {
		if (vagent_stats_count(st, m))
			abort();
		return;
	}
	if (vagent_stats_get(st, m, "min", &lo) != VAGENT_OK ||
	    vagent_stats_get(st, m, "max", &hi) != VAGENT_OK || lo > hi)
		abort();
	for (size_t i = 0; i < sizeof(stats) / sizeof(stats[0]); i++)
		if (vagent_stats_get(st, m, stats[i], &v) != VAGENT_OK || v < lo || v > hi)
			abort();
	if (vagent_stats_get(st, m, "p100", &v) != VAGENT_OK || v != hi)
		abort();
	if (vagent_stats_buckets(st, m, &b, &n) != VAGENT_OK || !n)
		abort();
	for (size_t i = 0; i < n; i++) {
		if (b[i].lo > b[i].hi || !b[i].count || (i && b[i - 1].hi >= b[i].lo))
			abort();
		total += b[i].count;
	}
	if (total != sum.n || (double)b[0].hi < lo || (double)b[n - 1].lo > hi)
		abort();
	free(b);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct vagent_stats *st = NULL, *again = NULL, *merged = NULL;
	struct vagent_error err;
	vagent_status rc;
	char *j1, *j2, *j3;

	rc = vagent_stats_from_json((const char *)data, size, "s.json", &st, &err);
	if (rc != VAGENT_OK) {
		one_line(err.message);
		if (st || (rc != VAGENT_EFORMAT && rc != VAGENT_ENOMEM) ||
		    strncmp(err.message, "s.json: histograms", 18))
			abort();
		return 0;
	}
	for (int m = 0; m < VAGENT_METRIC_COUNT; m++) {
		if (vagent_stats_exact(st, (vagent_metric)m))
			abort();
		check_metric(st, (vagent_metric)m);
	}
	j1 = to_json(st);
	if (vagent_stats_from_json(j1, strlen(j1), "s.json", &again, &err) != VAGENT_OK)
		abort();
	j2 = to_json(again);
	if (strcmp(j1, j2))
		abort();
	if (!(merged = vagent_stats_new()) || vagent_stats_merge(merged, st) != VAGENT_OK)
		abort();
	j3 = to_json(merged);
	if (strcmp(j1, j3))
		abort();
	free(j1);
	free(j2);
	free(j3);
	vagent_stats_free(merged);
	vagent_stats_free(again);
	vagent_stats_free(st);
	return 0;
}
