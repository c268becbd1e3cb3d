/*
 * stats.c — per-metric statistics over a run (n, nearest-rank percentiles,
 * max, mean). Exact: every sample is kept and sorted on demand. The
 * mergeable-histogram version for `vagent bench` keeps the same interface.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "trace/trace_int.h"

/* The samples of one metric; sorted lazily (the pointer is const in a
 * const aggregator, the samples are not). */
struct series {
	int64_t *v;
	size_t n, cap;
	bool sorted;
};

struct vagent_stats {
	struct series *s;    /* VAGENT_METRIC_COUNT of them */
};

struct vagent_stats *vagent_stats_new(void)
{
	struct vagent_stats *st = calloc(1, sizeof(*st));

	if (!st)
		return NULL;
	st->s = calloc(VAGENT_METRIC_COUNT, sizeof(*st->s));
	if (!st->s) {
		free(st);
		return NULL;
	}
	return st;
}

void vagent_stats_free(struct vagent_stats *st)
{
	if (!st)
		return;
	for (int m = 0; m < VAGENT_METRIC_COUNT; m++)
		free(st->s[m].v);
	free(st->s);
	free(st);
}

vagent_status vagent_stats_add(struct vagent_stats *st, vagent_metric m, int64_t value)
{
	struct series *s;

	if ((unsigned)m >= VAGENT_METRIC_COUNT || value == VAGENT_METRIC_ABSENT)
		return VAGENT_EINVAL;
	s = &st->s[m];
	if (s->n == s->cap) {
		size_t cap = s->cap ? s->cap * 2 : 64;
		int64_t *v = cap < SIZE_MAX / sizeof(*v) ? realloc(s->v, cap * sizeof(*v)) : NULL;

		if (!v)
			return VAGENT_ENOMEM;
		s->v = v;
		s->cap = cap;
	}
	s->v[s->n++] = value;
	s->sorted = false;
	return VAGENT_OK;
}

static vagent_status add_present(struct vagent_stats *st, vagent_metric m, int64_t v)
{
	return v == VAGENT_METRIC_ABSENT ? VAGENT_OK : vagent_stats_add(st, m, v);
}

vagent_status vagent_stats_add_metrics(struct vagent_stats *st,
				       const struct vagent_trace_metrics *tm)
{
	vagent_status rc = VAGENT_OK;

	for (size_t c = 0; c < tm->n_calls && rc == VAGENT_OK; c++) {
		const struct vagent_call_metrics *cm = &tm->calls[c];

		for (size_t t = 0; t < cm->n_turns; t++)
			for (int m = 0; m < VAGENT_METRIC_COUNT && rc == VAGENT_OK; m++)
				rc = add_present(st, (vagent_metric)m, cm->turns[t].hop[m]);
		for (size_t i = 0; i < cm->n_tools && rc == VAGENT_OK; i++)
			rc = add_present(st, VAGENT_METRIC_TOOL, cm->tools[i].tool);
		for (size_t i = 0; i < cm->n_barge_ins && rc == VAGENT_OK; i++)
			rc = add_present(st, VAGENT_METRIC_BARGE_IN_STOP,
					 cm->barge_ins[i].barge_in_stop);
		if (rc == VAGENT_OK)
			rc = add_present(st, VAGENT_METRIC_ANSWER, cm->answer);
	}
	return rc;
}

size_t vagent_stats_count(const struct vagent_stats *st, vagent_metric m)
{
	return (unsigned)m < VAGENT_METRIC_COUNT ? st->s[m].n : 0;
}

static int cmp_i64(const void *pa, const void *pb)
{
	int64_t a = *(const int64_t *)pa, b = *(const int64_t *)pb;

	return (a > b) - (a < b);
}

static void sort_series(struct series *s)
{
	if (!s->sorted) {
		qsort(s->v, s->n, sizeof(*s->v), cmp_i64);
		s->sorted = true;
	}
}

/* Nearest rank: the sample at rank ceil(p/100 * n), at least 1, with
 * p = num/den exactly (den a power of ten), computed in integers, so p30
 * of 5 samples is rank 2 (1.5 rounded up) and p99.9 of 1000 samples is
 * rank 999, whatever 0.3 or 99.9 are in binary. */
static int64_t percentile(const struct series *s, uint64_t num, uint64_t den)
{
	uint64_t rank;

	if (s->n < UINT64_C(1000000000))   /* num, den <= 10^8: no overflow */
		rank = (num * s->n + den * 100 - 1) / (den * 100);
	else
		rank = (uint64_t)ceil((double)num / (double)den / 100.0 * (double)s->n);
	if (rank < 1)
		rank = 1;
	if (rank > s->n)
		rank = s->n;
	return s->v[rank - 1];
}

static double mean(const struct series *s)
{
	long double sum = 0;

	for (size_t i = 0; i < s->n; i++)
		sum += s->v[i];
	return (double)(sum / (long double)s->n);
}

/* Parse "pN" with 0 < N <= 100 and at most 6 decimals into N = num/den;
 * false if `stat` is not one. */
static bool parse_percentile(const char *stat, uint64_t *num, uint64_t *den)
{
	const char *p = stat + 1;
	int decimals = -1;

	*num = 0;
	*den = 1;
	if (stat[0] != 'p' || !(*p >= '0' && *p <= '9'))
		return false;
	for (; *p; p++) {
		if (*p == '.' && decimals < 0 && p[1]) {
			decimals = 0;
			continue;
		}
		if (!(*p >= '0' && *p <= '9') || decimals >= 6 || *num > UINT64_C(100000000))
			return false;
		*num = *num * 10 + (uint64_t)(*p - '0');
		if (decimals >= 0) {
			decimals++;
			*den *= 10;
		}
	}
	return *num > 0 && *num <= 100 * *den;
}

vagent_status vagent_stats_get(const struct vagent_stats *st, vagent_metric m,
			       const char *stat, double *out)
{
	struct series *s;
	uint64_t num = 0, den = 1;

	if ((unsigned)m >= VAGENT_METRIC_COUNT || !stat)
		return VAGENT_EINVAL;
	s = &st->s[m];
	if (strcmp(stat, "max") && strcmp(stat, "min") && strcmp(stat, "mean") &&
	    !parse_percentile(stat, &num, &den))
		return VAGENT_EINVAL;
	if (s->n == 0)
		return VAGENT_ENOENT;
	sort_series(s);
	if (!strcmp(stat, "max"))
		*out = (double)s->v[s->n - 1];
	else if (!strcmp(stat, "min"))
		*out = (double)s->v[0];
	else if (!strcmp(stat, "mean"))
		*out = mean(s);
	else
		*out = (double)percentile(s, num, den);
	return VAGENT_OK;
}

vagent_status vagent_stats_summary(const struct vagent_stats *st, vagent_metric m,
				   struct vagent_stat_summary *out)
{
	struct series *s;

	memset(out, 0, sizeof(*out));
	if ((unsigned)m >= VAGENT_METRIC_COUNT)
		return VAGENT_EINVAL;
	s = &st->s[m];
	if (s->n == 0)
		return VAGENT_ENOENT;
	sort_series(s);
	out->n = s->n;
	out->p50 = percentile(s, 50, 1);
	out->p90 = percentile(s, 90, 1);
	out->p95 = percentile(s, 95, 1);
	out->p99 = percentile(s, 99, 1);
	out->max = s->v[s->n - 1];
	out->mean = mean(s);
	return VAGENT_OK;
}

/* TEMPORARY (bench page branch): the buckets of the exact samples, one
 * [v, v] bucket per distinct value, until the mergeable-histogram
 * stats.c lands with the real vagent_stats_buckets; drop this then. */
vagent_status vagent_stats_buckets(const struct vagent_stats *st, vagent_metric m,
				   struct vagent_stats_bucket **out, size_t *n)
{
	struct series *s;
	struct vagent_stats_bucket *b;
	size_t k = 0;

	*out = NULL;
	*n = 0;
	if ((unsigned)m >= VAGENT_METRIC_COUNT)
		return VAGENT_EINVAL;
	s = &st->s[m];
	if (!s->n)
		return VAGENT_OK;
	sort_series(s);
	b = malloc(s->n * sizeof(*b));
	if (!b)
		return VAGENT_ENOMEM;
	for (size_t i = 0; i < s->n; i++) {
		if (k && b[k - 1].lo == s->v[i]) {
			b[k - 1].count++;
			continue;
		}
		b[k].lo = b[k].hi = s->v[i];
		b[k].count = 1;
		k++;
	}
	*out = b;
	*n = k;
	return VAGENT_OK;
}
