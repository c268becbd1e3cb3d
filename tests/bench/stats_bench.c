/*
 * stats_bench.c — the mergeable statistics behind `vagent bench`
 * (docs/metrics.md "Histograms"): how fast samples go in, how much memory
 * a million samples take (the process's peak RSS before and after), how
 * far histogram percentiles are from the exact nearest-rank ones on
 * latency-like data, and how fast shard results serialize, parse and
 * merge.
 *
 *   stats_bench [SAMPLES]
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>

#include "vagent.h"

static double now_s(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

static long peak_rss_kb(void)
{
	struct rusage ru;

	getrusage(RUSAGE_SELF, &ru);
	return ru.ru_maxrss;
}

/* xorshift64*, uniform in (0, 1). */
static double uniform(uint64_t *s)
{
	*s ^= *s >> 12;
	*s ^= *s << 25;
	*s ^= *s >> 27;
	return ((double)((*s * 2685821657736338717ULL) >> 11) + 0.5) / 9007199254740992.0;
}

/* A latency-like value in µs: lognormal around 600 ms with a heavy tail. */
static int64_t latency(uint64_t *s)
{
	double z = sqrt(-2.0 * log(uniform(s))) * cos(2.0 * M_PI * uniform(s));

	return (int64_t)(600000.0 * exp(0.45 * z));
}

static int cmp(const void *a, const void *b)
{
	int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;

	return (x > y) - (x < y);
}

int main(int argc, char **argv)
{
	size_t n = argc > 1 ? strtoul(argv[1], NULL, 10) : 2000000;
	static const char *const ps[] = { "p50", "p90", "p95", "p99", "p99.9" };
	static const double pv[] = { 50, 90, 95, 99, 99.9 };
	struct vagent_stats *st = vagent_stats_new(), *parts[4], *merged = vagent_stats_new();
	int64_t *exact = malloc(n * sizeof(*exact));
	long rss0, rss1;
	uint64_t seed = 88172645463325252ULL;
	double t0, t1, worst = 0;
	char *json = NULL;
	size_t json_len;
	struct vagent_error err;

	if (!st || !merged || !exact || n < 10000) {
		fprintf(stderr, "stats_bench: out of memory or SAMPLES < 10000\n");
		return 1;
	}
	for (size_t i = 0; i < n; i++)
		exact[i] = latency(&seed);
	rss0 = peak_rss_kb();
	t0 = now_s();
	for (size_t i = 0; i < n; i++)
		vagent_stats_add(st, VAGENT_METRIC_E2E, exact[i]);
	t1 = now_s();
	rss1 = peak_rss_kb();
	printf("%zu samples of one hop: %.1f ns per sample added, peak RSS %+ld KiB "
	       "(the samples themselves: %zu KiB)\n", n, (t1 - t0) / (double)n * 1e9,
	       rss1 - rss0, n * sizeof(int64_t) / 1024);
	qsort(exact, n, sizeof(*exact), cmp);
	printf("percentile   exact ms   histogram ms   relative error (bound %.3f%%)\n",
	       100.0 * VAGENT_STATS_REL_ERROR);
	for (int i = 0; i < 5; i++) {
		double h, e;
		size_t rank = (size_t)ceil(pv[i] / 100.0 * (double)n);

		e = (double)exact[(rank ? rank : 1) - 1];
		vagent_stats_get(st, VAGENT_METRIC_E2E, ps[i], &h);
		printf("%-10s %10.3f %14.3f %15.4f%%\n", ps[i], e / 1000.0, h / 1000.0,
		       100.0 * fabs(h - e) / e);
		if (fabs(h - e) / e > worst)
			worst = fabs(h - e) / e;
	}
	printf("worst relative error %.4f%% (bound %.4f%%)\n", 100.0 * worst,
	       100.0 * VAGENT_STATS_REL_ERROR);

	/* four shards: serialize, parse, merge */
	for (int k = 0; k < 4; k++) {
		parts[k] = vagent_stats_new();
		for (size_t i = (size_t)k; i < n; i += 4)
			vagent_stats_add(parts[k], VAGENT_METRIC_E2E, exact[i]);
	}
	t0 = now_s();
	for (int k = 0; k < 4; k++) {
		struct vagent_stats *back = NULL;

		free(json);
		vagent_stats_to_json(parts[k], &json, &err);
		json_len = strlen(json);
		if (vagent_stats_from_json(json, json_len, "part", &back, &err) != VAGENT_OK) {
			fprintf(stderr, "stats_bench: %s\n", err.message);
			return 1;
		}
		vagent_stats_merge(merged, back);
		vagent_stats_free(back);
	}
	t1 = now_s();
	{
		double a, b;

		vagent_stats_get(merged, VAGENT_METRIC_E2E, "p99", &a);
		vagent_stats_get(st, VAGENT_METRIC_E2E, "p99", &b);
		printf("4 shards of %zu samples: JSON %zu bytes each, write+parse+merge %.2f ms "
		       "in all; merged p99 %s the one-process p99\n", n / 4, json_len,
		       (t1 - t0) * 1e3, a == b ? "equals" : "DIFFERS FROM");
	}
	for (int k = 0; k < 4; k++)
		vagent_stats_free(parts[k]);
	free(json);
	free(exact);
	vagent_stats_free(st);
	vagent_stats_free(merged);
	return 0;
}
