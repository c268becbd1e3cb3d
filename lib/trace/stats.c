/*
 * stats.c — per-metric statistics over a run (n, nearest-rank percentiles,
 * min, max, mean), mergeable across runs and machines (docs/metrics.md
 * "Histograms"). Each metric keeps its exact samples while it has at most
 * VAGENT_STATS_EXACT_MAX of them and always counts every value in a
 * log-linear histogram (1 µs buckets below 256 µs, then 256 buckets per
 * power of two), from which percentiles come once the samples are dropped.
 * n, min, max and the sum are always exact.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "trace/trace_int.h"

/*
 * Histogram layout. A value's magnitude u = |v| has the bucket number
 * k = u for u < 256 and k = 256 * (e - 8) + (u >> (e - 8)) for
 * 2^e <= u < 2^40 (e = 8..39): 256 buckets of width 2^(e-8) per power of
 * two. Magnitudes of 2^40 and more are counted in the last bucket
 * (k = MAG_BUCKETS - 1). The public bucket INDEX is k for v >= 0 and -k
 * for v < 0, so INDEX grows with the value. Counts live in lazily
 * allocated groups of 256 buckets: group g holds k = 256 g .. 256 g + 255,
 * one table of groups for each sign. A group's counts are 32-bit (1 KiB)
 * until one would overflow, then 64-bit (2 KiB), so that all the groups
 * of all the metrics stay under 600 KiB.
 */
#define RANGE_BITS 40
#define GROUP_SIZE 256
#define GROUPS (RANGE_BITS - 7)                 /* 33: e < 8, then e = 8..39 */
#define MAG_BUCKETS (GROUPS * GROUP_SIZE)        /* 8448 */
#define MAX_INDEX (MAG_BUCKETS - 1)

enum { POS, NEG };

/* Integers a JSON reader holding numbers as doubles keeps exactly. */
#define JSON_INT_MAX 9007199254740992.0         /* 2^53 */

/* The counts of 256 buckets: none yet, 32-bit, or 64-bit. */
struct group {
	uint32_t *narrow;
	uint64_t *wide;
};

/* One metric. `samples` (sorted lazily; the pointer is const in a const
 * aggregator, the samples are not) is valid while `exact`. */
struct series {
	int64_t *samples;
	size_t n_samples, cap;
	bool sorted, exact;
	size_t n;                       /* every value counted */
	int64_t min, max;
	long double sum;                /* exact while |sum| < 2^64 */
	struct group group[2][GROUPS];  /* [POS] v >= 0, [NEG] v < 0 */
};

/* One provider's share of the per-turn hops (vagent_stats_provider). */
struct provider_stats {
	char *name;
	struct vagent_stats *st;        /* has no providers of its own */
};

struct vagent_stats {
	struct series *s;               /* VAGENT_METRIC_COUNT of them */
	size_t bytes;                   /* allocated for samples and groups */
	struct provider_stats *prov;    /* in order of first sample */
	size_t n_prov;
};

static int magnitude_bucket(uint64_t u)
{
	int e;

	if (u < GROUP_SIZE)
		return (int)u;
	e = 63 - __builtin_clzll(u);
	if (e >= RANGE_BITS)
		return MAX_INDEX;
	return GROUP_SIZE * (e - 8) + (int)(u >> (e - 8));
}

/* The nominal values [lo, hi] of magnitude bucket k. */
static void magnitude_range(int k, int64_t *lo, int64_t *hi)
{
	int e;
	int64_t width;

	if (k < GROUP_SIZE) {
		*lo = *hi = k;
		return;
	}
	e = k / GROUP_SIZE + 7;
	width = INT64_C(1) << (e - 8);
	*lo = (INT64_C(1) << e) + (int64_t)(k % GROUP_SIZE) * width;
	*hi = *lo + width - 1;
}

static int bucket_index(int64_t v)
{
	return v >= 0 ? magnitude_bucket((uint64_t)v) : -magnitude_bucket((uint64_t)-v);
}

/* The values bucket INDEX holds: its nominal range, and for the last
 * bucket of either sign everything beyond as well. */
static void bucket_range(int index, int64_t *lo, int64_t *hi)
{
	int64_t a, b;

	magnitude_range(index < 0 ? -index : index, &a, &b);
	if (index == MAX_INDEX || index == -MAX_INDEX)
		b = INT64_MAX;
	*lo = index < 0 ? -b : a;
	*hi = index < 0 ? -a : b;
}

static uint64_t group_count(const struct group *g, int i)
{
	return g->wide ? g->wide[i] : g->narrow ? g->narrow[i] : 0;
}

/* Move a group to 64-bit counts. */
static bool group_widen(struct vagent_stats *st, struct group *g)
{
	uint64_t *wide = malloc(GROUP_SIZE * sizeof(*wide));

	if (!wide)
		return false;
	for (int i = 0; i < GROUP_SIZE; i++)
		wide[i] = group_count(g, i);
	if (g->narrow)
		st->bytes -= GROUP_SIZE * sizeof(*g->narrow);
	free(g->narrow);
	g->narrow = NULL;
	g->wide = wide;
	st->bytes += GROUP_SIZE * sizeof(*wide);
	return true;
}

/* Make sure bucket i of `g` can take `more` counts (allocating or
 * widening the group); false when out of memory. */
static bool group_reserve(struct vagent_stats *st, struct group *g, int i, uint64_t more)
{
	if (g->wide)
		return true;
	if (!g->narrow) {
		if (more > UINT32_MAX)
			return group_widen(st, g);
		if (!(g->narrow = calloc(GROUP_SIZE, sizeof(*g->narrow))))
			return false;
		st->bytes += GROUP_SIZE * sizeof(*g->narrow);
	}
	return more <= UINT32_MAX - g->narrow[i] || group_widen(st, g);
}

/* Add `more` to bucket i of `g` (group_reserve'd for it). */
static void group_add(struct group *g, int i, uint64_t more)
{
	if (g->wide)
		g->wide[i] += more;
	else if (g->narrow)
		g->narrow[i] += (uint32_t)more;
}

/* Add `more` to bucket INDEX of `s`; false when out of memory. */
static bool count_add(struct vagent_stats *st, struct series *s, int index, uint64_t more)
{
	int k = index < 0 ? -index : index;
	struct group *g = &s->group[index < 0 ? NEG : POS][k / GROUP_SIZE];

	if (!group_reserve(st, g, k % GROUP_SIZE, more))
		return false;
	group_add(g, k % GROUP_SIZE, more);
	return true;
}

/* Visit the non-empty buckets in increasing order until `visit` says stop. */
typedef bool (*bucket_visit)(void *ctx, int index, uint64_t count);

static void each_bucket(const struct series *s, bucket_visit visit, void *ctx)
{
	uint64_t c;

	for (int g = GROUPS - 1; g >= 0; g--) {
		const struct group *grp = &s->group[NEG][g];

		for (int i = GROUP_SIZE - 1; (grp->narrow || grp->wide) && i >= 0; i--)
			if ((c = group_count(grp, i)) && !visit(ctx, -(g * GROUP_SIZE + i), c))
				return;
	}
	for (int g = 0; g < GROUPS; g++) {
		const struct group *grp = &s->group[POS][g];

		for (int i = 0; (grp->narrow || grp->wide) && i < GROUP_SIZE; i++)
			if ((c = group_count(grp, i)) && !visit(ctx, g * GROUP_SIZE + i, c))
				return;
	}
}

static void series_init(struct series *s)
{
	memset(s, 0, sizeof(*s));
	s->exact = true;
	s->sorted = true;
}

static void drop_samples(struct vagent_stats *st, struct series *s)
{
	free(s->samples);
	st->bytes -= s->cap * sizeof(*s->samples);
	s->samples = NULL;
	s->n_samples = s->cap = 0;
	s->exact = false;
}

/* Room for `need` samples in all; false when out of memory. */
static bool reserve_samples(struct vagent_stats *st, struct series *s, size_t need)
{
	size_t cap = s->cap ? s->cap : 64;
	int64_t *v;

	if (need <= s->cap)
		return true;
	while (cap < need)
		cap *= 2;
	if (cap > VAGENT_STATS_EXACT_MAX)
		cap = need > VAGENT_STATS_EXACT_MAX ? need : VAGENT_STATS_EXACT_MAX;
	v = realloc(s->samples, cap * sizeof(*v));
	if (!v)
		return false;
	st->bytes += (cap - s->cap) * sizeof(*v);
	s->samples = v;
	s->cap = cap;
	return true;
}

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
	for (int m = 0; m < VAGENT_METRIC_COUNT; m++)
		series_init(&st->s[m]);
	return st;
}

void vagent_stats_free(struct vagent_stats *st)
{
	if (!st)
		return;
	for (int m = 0; m < VAGENT_METRIC_COUNT; m++) {
		free(st->s[m].samples);
		for (int sign = POS; sign <= NEG; sign++)
			for (int g = 0; g < GROUPS; g++) {
				free(st->s[m].group[sign][g].narrow);
				free(st->s[m].group[sign][g].wide);
			}
	}
	free(st->s);
	for (size_t i = 0; i < st->n_prov; i++) {
		free(st->prov[i].name);
		vagent_stats_free(st->prov[i].st);
	}
	free(st->prov);
	free(st);
}

size_t vagent__stats_bytes(const struct vagent_stats *st)
{
	size_t bytes = sizeof(*st) + VAGENT_METRIC_COUNT * sizeof(*st->s) + st->bytes;

	for (size_t i = 0; i < st->n_prov; i++)
		bytes += sizeof(st->prov[i]) + strlen(st->prov[i].name) + 1 +
			 vagent__stats_bytes(st->prov[i].st);
	return bytes;
}

/* The statistics of provider `name` (created when `create`); NULL when
 * there are none or out of memory. */
static struct vagent_stats *provider_stats(const struct vagent_stats *st, const char *name,
					   bool create)
{
	struct vagent_stats *mst = (struct vagent_stats *)st;
	struct provider_stats *p;

	for (size_t i = 0; i < st->n_prov; i++)
		if (!strcmp(st->prov[i].name, name))
			return st->prov[i].st;
	if (!create)
		return NULL;
	p = realloc(mst->prov, (st->n_prov + 1) * sizeof(*p));
	if (!p)
		return NULL;
	mst->prov = p;
	p = &mst->prov[mst->n_prov];
	p->name = strdup(name);
	p->st = vagent_stats_new();
	if (!p->name || !p->st) {
		free(p->name);
		vagent_stats_free(p->st);
		return NULL;
	}
	mst->n_prov++;
	return p->st;
}

const char *vagent_stats_provider(const struct vagent_stats *st, vagent_metric m,
				  size_t i)
{
	for (size_t k = 0; st && k < st->n_prov; k++)
		if (vagent_stats_count(st->prov[k].st, m) && i-- == 0)
			return st->prov[k].name;
	return NULL;
}

vagent_status vagent_stats_provider_summary(const struct vagent_stats *st, vagent_metric m,
					    const char *provider,
					    struct vagent_stat_summary *out)
{
	const struct vagent_stats *p = st && provider ? provider_stats(st, provider, false)
						      : NULL;

	if (!p) {
		memset(out, 0, sizeof(*out));
		return (unsigned)m < VAGENT_METRIC_COUNT ? VAGENT_ENOENT : VAGENT_EINVAL;
	}
	return vagent_stats_summary(p, m, out);
}

vagent_status vagent_stats_add(struct vagent_stats *st, vagent_metric m, int64_t value)
{
	struct series *s;

	if ((unsigned)m >= VAGENT_METRIC_COUNT || value == VAGENT_METRIC_ABSENT)
		return VAGENT_EINVAL;
	s = &st->s[m];
	if (s->exact && s->n_samples == VAGENT_STATS_EXACT_MAX)
		drop_samples(st, s);
	if (s->exact && !reserve_samples(st, s, s->n_samples + 1))
		return VAGENT_ENOMEM;
	if (!count_add(st, s, bucket_index(value), 1))
		return VAGENT_ENOMEM;
	if (s->exact) {
		s->samples[s->n_samples++] = value;
		s->sorted = false;
	}
	if (s->n == 0 || value < s->min)
		s->min = value;
	if (s->n == 0 || value > s->max)
		s->max = value;
	s->n++;
	s->sum += value;
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
			for (int m = 0; m < VAGENT_METRIC_COUNT && rc == VAGENT_OK; m++) {
				const struct vagent_turn_metrics *tt = &cm->turns[t];
				struct vagent_stats *p;

				rc = add_present(st, (vagent_metric)m, tt->hop[m]);
				if (rc != VAGENT_OK || tt->hop[m] == VAGENT_METRIC_ABSENT ||
				    !tt->provider[m])
					continue;
				p = provider_stats(st, tt->provider[m], true);
				rc = p ? vagent_stats_add(p, (vagent_metric)m, tt->hop[m])
				       : VAGENT_ENOMEM;
			}
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

bool vagent_stats_exact(const struct vagent_stats *st, vagent_metric m)
{
	return (unsigned)m < VAGENT_METRIC_COUNT && st->s[m].exact;
}

static vagent_status merge_metrics(struct vagent_stats *dst, const struct vagent_stats *src)
{
	/* First every allocation, so that running out of memory leaves dst
	 * as it was (apart from new empty or widened groups); then the
	 * counts. (dst may be src: a group widened here is read widened.) */
	for (int m = 0; m < VAGENT_METRIC_COUNT; m++) {
		struct series *d = &dst->s[m];
		const struct series *s = &src->s[m];

		for (int sign = POS; sign <= NEG; sign++)
			for (int g = 0; g < GROUPS; g++)
				for (int i = 0; i < GROUP_SIZE; i++) {
					uint64_t c = group_count(&s->group[sign][g], i);

					if (c && !group_reserve(dst, &d->group[sign][g], i, c))
						return VAGENT_ENOMEM;
				}
		if (s->n && d->exact && s->exact &&
		    d->n_samples + s->n_samples <= VAGENT_STATS_EXACT_MAX &&
		    !reserve_samples(dst, d, d->n_samples + s->n_samples))
			return VAGENT_ENOMEM;
	}
	for (int m = 0; m < VAGENT_METRIC_COUNT; m++) {
		struct series *d = &dst->s[m];
		const struct series *s = &src->s[m];
		size_t n_src = s->n_samples;

		if (!s->n)
			continue;
		if (d->exact && s->exact && d->n_samples + n_src <= VAGENT_STATS_EXACT_MAX) {
			/* s->samples is read after the reserve: dst may be src */
			memmove(d->samples + d->n_samples, s->samples, n_src * sizeof(*s->samples));
			d->n_samples += n_src;
			d->sorted = false;
		} else if (d->exact) {
			drop_samples(dst, d);
		}
		for (int sign = POS; sign <= NEG; sign++)
			for (int g = 0; g < GROUPS; g++)
				for (int i = 0; i < GROUP_SIZE; i++)
					group_add(&d->group[sign][g], i,
						  group_count(&s->group[sign][g], i));
		if (!d->n || s->min < d->min)
			d->min = s->min;
		if (!d->n || s->max > d->max)
			d->max = s->max;
		d->sum += s->sum;
		d->n += s->n;
	}
	return VAGENT_OK;
}

vagent_status vagent_stats_merge(struct vagent_stats *dst, const struct vagent_stats *src)
{
	size_t n = src->n_prov;   /* dst may be src: it finds its own */
	vagent_status rc = merge_metrics(dst, src);

	for (size_t i = 0; i < n && rc == VAGENT_OK; i++) {
		struct vagent_stats *p = provider_stats(dst, src->prov[i].name, true);

		rc = p ? merge_metrics(p, src->prov[i].st) : VAGENT_ENOMEM;
	}
	return rc;
}

static int cmp_i64(const void *pa, const void *pb)
{
	int64_t a = *(const int64_t *)pa, b = *(const int64_t *)pb;

	return (a > b) - (a < b);
}

static void sort_series(struct series *s)
{
	if (!s->sorted) {
		qsort(s->samples, s->n_samples, sizeof(*s->samples), cmp_i64);
		s->sorted = true;
	}
}

/* Nearest rank: rank ceil(p/100 * n), at least 1, with p = num/den exactly
 * (den a power of ten), computed in integers, so p30 of 5 samples is rank 2
 * (1.5 rounded up) and p99.9 of 1000 samples is rank 999, whatever 0.3 or
 * 99.9 are in binary. */
static uint64_t nearest_rank(size_t n, uint64_t num, uint64_t den)
{
	uint64_t rank;

	if (n < UINT64_C(1000000000))   /* num, den <= 10^8: no overflow */
		rank = (num * n + den * 100 - 1) / (den * 100);
	else
		rank = (uint64_t)ceil((double)num / (double)den / 100.0 * (double)n);
	if (rank < 1)
		rank = 1;
	if (rank > n)
		rank = n;
	return rank;
}

struct rank_walk {
	uint64_t rank, seen;
	int index;
};

static bool find_rank(void *ctx, int index, uint64_t count)
{
	struct rank_walk *w = ctx;

	w->seen += count;
	w->index = index;
	return w->seen < w->rank;
}

/*
 * The exact sample at the rank; from the histogram, min for rank 1, max
 * for rank n, else the midpoint (rounded towards zero) of the values the
 * bucket holding the rank can hold: its range cut to [min, max].
 */
static int64_t percentile(struct series *s, uint64_t num, uint64_t den)
{
	struct rank_walk w = { .rank = nearest_rank(s->n, num, den) };
	int64_t lo, hi;

	if (s->exact) {
		sort_series(s);
		return s->samples[w.rank - 1];
	}
	if (w.rank == 1)
		return s->min;
	if (w.rank == s->n)
		return s->max;
	each_bucket(s, find_rank, &w);
	bucket_range(w.index, &lo, &hi);
	if (lo < s->min)
		lo = s->min;
	if (hi > s->max)
		hi = s->max;
	return hi <= 0 ? hi - (hi - lo) / 2 : lo + (hi - lo) / 2;
}

static double mean(const struct series *s)
{
	return (double)(s->sum / (long double)s->n);
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
	if (!strcmp(stat, "max"))
		*out = (double)s->max;
	else if (!strcmp(stat, "min"))
		*out = (double)s->min;
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
	out->n = s->n;
	out->p50 = percentile(s, 50, 1);
	out->p90 = percentile(s, 90, 1);
	out->p95 = percentile(s, 95, 1);
	out->p99 = percentile(s, 99, 1);
	out->max = s->max;
	out->mean = mean(s);
	return VAGENT_OK;
}

/* ---- Buckets */

struct bucket_list {
	struct vagent_stats_bucket *b;
	size_t n;
};

static bool list_bucket(void *ctx, int index, uint64_t count)
{
	struct bucket_list *l = ctx;
	struct vagent_stats_bucket *b = &l->b[l->n++];

	bucket_range(index, &b->lo, &b->hi);
	b->count = count;
	return true;
}

static bool count_bucket(void *ctx, int index, uint64_t count)
{
	(void)index;
	(void)count;
	(*(size_t *)ctx)++;
	return true;
}

vagent_status vagent_stats_buckets(const struct vagent_stats *st, vagent_metric m,
				   struct vagent_stats_bucket **out, size_t *n)
{
	struct bucket_list l = { 0 };
	size_t total = 0;

	*out = NULL;
	*n = 0;
	if ((unsigned)m >= VAGENT_METRIC_COUNT)
		return VAGENT_EINVAL;
	each_bucket(&st->s[m], count_bucket, &total);
	if (!total)
		return VAGENT_OK;
	l.b = malloc(total * sizeof(*l.b));
	if (!l.b)
		return VAGENT_ENOMEM;
	each_bucket(&st->s[m], list_bucket, &l);
	*out = l.b;
	*n = l.n;
	return VAGENT_OK;
}

/* ---- JSON */

struct json_out {
	struct vagent__strbuf *b;
	bool first;
};

static bool put_bucket(void *ctx, int index, uint64_t count)
{
	struct json_out *o = ctx;

	vagent__strbuf_printf(o->b, "%s[%d,%llu]", o->first ? "" : ",", index,
			      (unsigned long long)count);
	o->first = false;
	return true;
}

vagent_status vagent_stats_to_json(const struct vagent_stats *st, char **out,
				   struct vagent_error *err)
{
	struct vagent__strbuf b = { 0 };
	bool first = true;

	*out = NULL;
	vagent__strbuf_puts(&b, "{");
	for (int m = 0; m < VAGENT_METRIC_COUNT; m++) {
		const struct series *s = &st->s[m];
		struct json_out o = { &b, true };

		if (!s->n)
			continue;
		vagent__strbuf_printf(&b, "%s\"%s\":{\"n\":%zu,\"min\":%lld,\"max\":%lld,"
				      "\"sum\":%.0Lf,\"buckets\":[", first ? "" : ",",
				      vagent_metric_name((vagent_metric)m), s->n,
				      (long long)s->min, (long long)s->max, s->sum + 0.0L);
		each_bucket(s, put_bucket, &o);
		vagent__strbuf_puts(&b, "]}");
		first = false;
	}
	vagent__strbuf_puts(&b, "}");
	*out = vagent__strbuf_detach(&b);
	if (!*out)
		return vagent__error_set(err, VAGENT_ENOMEM, NULL, "statistics: out of memory");
	return VAGENT_OK;
}

/* A metric name from the input made printable for a one-line message. */
static void printable(const char *s, char *out, size_t cap)
{
	size_t i;

	for (i = 0; s[i] && i + 4 < cap; i++)
		out[i] = (unsigned char)s[i] < 0x20 || s[i] == 0x7f ? '?' : s[i];
	if (s[i] && i + 4 >= cap) {
		memcpy(out + i, "...", 3);
		i += 3;
	}
	out[i] = '\0';
}

/* An integer in [lo, hi] held exactly by a double. */
static bool json_int(const cJSON *v, double lo, double hi, double *out)
{
	double d;

	if (!cJSON_IsNumber(v))
		return false;
	d = v->valuedouble;
	if (!isfinite(d) || d != trunc(d) || d < lo || d > hi)
		return false;
	*out = d;
	return true;
}

/* Parse one metric's object into `s` (empty); a problem is written to
 * `why` and false returned. */
static bool parse_series(struct vagent_stats *st, struct series *s, const cJSON *obj,
			 char *why, size_t cap)
{
	static const char *const fields[] = { "n", "min", "max", "sum", "buckets" };
	const cJSON *f[5] = { 0 }, *it, *pair;
	double n, min, max, sum, d_index, d_count;
	uint64_t total = 0;
	int prev = -MAX_INDEX - 1, first = 0;
	long double lo_sum, hi_sum, slack;

	if (!cJSON_IsObject(obj)) {
		snprintf(why, cap, "not an object");
		return false;
	}
	cJSON_ArrayForEach(it, obj) {
		size_t k;
		char name[48];

		for (k = 0; k < 5 && strcmp(it->string, fields[k]); k++)
			;
		printable(it->string, name, sizeof(name));
		if (k == 5) {
			snprintf(why, cap, "unknown field \"%s\"", name);
			return false;
		}
		if (f[k]) {
			snprintf(why, cap, "duplicate field \"%s\"", name);
			return false;
		}
		f[k] = it;
	}
	for (size_t k = 0; k < 5; k++)
		if (!f[k]) {
			snprintf(why, cap, "missing field \"%s\"", fields[k]);
			return false;
		}
	if (!json_int(f[0], 1, JSON_INT_MAX, &n)) {
		snprintf(why, cap, "n: not a positive integer (at most 2^53)");
		return false;
	}
	if (!json_int(f[1], -JSON_INT_MAX, JSON_INT_MAX, &min)) {
		snprintf(why, cap, "min: not an integer (magnitude at most 2^53)");
		return false;
	}
	if (!json_int(f[2], -JSON_INT_MAX, JSON_INT_MAX, &max)) {
		snprintf(why, cap, "max: not an integer (magnitude at most 2^53)");
		return false;
	}
	if (!json_int(f[3], -9.2e18, 9.2e18, &sum)) {
		snprintf(why, cap, "sum: not an integer");
		return false;
	}
	if (min > max) {
		snprintf(why, cap, "min %.0f > max %.0f", min, max);
		return false;
	}
	if (!cJSON_IsArray(f[4]) || !f[4]->child) {
		snprintf(why, cap, "buckets: not a non-empty array");
		return false;
	}
	cJSON_ArrayForEach(pair, f[4]) {
		int index;

		if (!cJSON_IsArray(pair) || cJSON_GetArraySize(pair) != 2) {
			snprintf(why, cap, "buckets: not an [INDEX,COUNT] pair");
			return false;
		}
		if (!json_int(pair->child, -MAX_INDEX, MAX_INDEX, &d_index)) {
			snprintf(why, cap, "buckets: index not an integer in -%d..%d",
				 MAX_INDEX, MAX_INDEX);
			return false;
		}
		index = (int)d_index;
		if (index <= prev) {
			snprintf(why, cap, "buckets: index %d not after %d", index, prev);
			return false;
		}
		if (!json_int(pair->child->next, 1, JSON_INT_MAX, &d_count)) {
			snprintf(why, cap, "buckets[%d]: count not a positive integer", index);
			return false;
		}
		total += (uint64_t)d_count;
		if (total > (uint64_t)n) {
			snprintf(why, cap, "bucket counts add up to more than n = %.0f", n);
			return false;
		}
		if (prev < -MAX_INDEX)
			first = index;
		prev = index;
		if (!count_add(st, s, index, (uint64_t)d_count)) {
			snprintf(why, cap, "out of memory");
			return false;
		}
	}
	if (total != (uint64_t)n) {
		snprintf(why, cap, "bucket counts add up to %llu, not n = %.0f",
			 (unsigned long long)total, n);
		return false;
	}
	if (bucket_index((int64_t)min) != first || bucket_index((int64_t)max) != prev) {
		snprintf(why, cap, "min/max not in the first/last bucket");
		return false;
	}
	lo_sum = (long double)n * min;
	hi_sum = (long double)n * max;
	slack = fabsl(sum) * 1e-15L;
	if ((long double)sum < lo_sum - slack || (long double)sum > hi_sum + slack) {
		snprintf(why, cap, "sum %.0f not between n*min and n*max", sum);
		return false;
	}
	s->n = (size_t)n;
	s->min = (int64_t)min;
	s->max = (int64_t)max;
	s->sum = sum + 0.0L;
	return true;
}

vagent_status vagent_stats_from_json(const char *text, size_t len, const char *where,
				     struct vagent_stats **out, struct vagent_error *err)
{
	struct vagent_stats *st = NULL;
	cJSON *root = NULL, *it;
	const char *end = NULL;
	vagent_status rc = VAGENT_OK;
	bool seen[VAGENT_METRIC_COUNT] = { false };
	char why[160], name[48];

	*out = NULL;
	if (!where)
		where = "statistics";
	root = text ? cJSON_ParseWithLengthOpts(text, len, &end, false) : NULL;
	if (root)
		while (end < text + len && strchr(" \t\r\n", *end) && *end)
			end++;
	if (!root || end != text + len) {
		rc = vagent__error_set(err, VAGENT_EFORMAT, where, "histograms: not JSON");
		goto out;
	}
	if (!cJSON_IsObject(root)) {
		rc = vagent__error_set(err, VAGENT_EFORMAT, where,
				       "histograms: not an object of metrics");
		goto out;
	}
	if (!(st = vagent_stats_new())) {
		rc = vagent__error_set(err, VAGENT_ENOMEM, where, "histograms: out of memory");
		goto out;
	}
	cJSON_ArrayForEach(it, root) {
		vagent_metric m;

		printable(it->string, name, sizeof(name));
		if (vagent_metric_from_name(it->string, &m) != VAGENT_OK) {
			rc = vagent__error_set(err, VAGENT_EFORMAT, where,
					       "histograms.%s: unknown metric", name);
			goto out;
		}
		if (seen[m]) {
			rc = vagent__error_set(err, VAGENT_EFORMAT, where,
					       "histograms.%s: duplicate metric", name);
			goto out;
		}
		seen[m] = true;
		if (!parse_series(st, &st->s[m], it, why, sizeof(why))) {
			rc = vagent__error_set(err, strcmp(why, "out of memory") ? VAGENT_EFORMAT
						    : VAGENT_ENOMEM, where,
					       "histograms.%s: %s", name, why);
			goto out;
		}
	}
	for (int m = 0; m < VAGENT_METRIC_COUNT; m++)
		st->s[m].exact = false;
	*out = st;
	st = NULL;
out:
	cJSON_Delete(root);
	vagent_stats_free(st);
	return rc;
}
