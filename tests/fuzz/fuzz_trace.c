/*
 * fuzz_trace.c — libFuzzer harness for call traces: the JSON-lines reader,
 * the writer (a written trace re-reads and re-writes byte-identically), the
 * metrics computed from a trace and the statistics over them.
 */
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "vagent.h"

static const char name[] = "fuzz.jsonl";

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Write every event of `t` to a memory writer; a copy of its text in *out
 * (length *len). Every event the reader accepted must be writable. */
static char *write_all(const struct vagent_trace *t, size_t *len)
{
	struct vagent_trace_writer *w = vagent_trace_writer_new(NULL, NULL);
	const char *text;
	char *copy;

	if (!w)
		abort();
	for (size_t i = 0; i < t->n; i++) {
		struct vagent_error err;

		if (vagent_trace_writer_add(w, &t->events[i], &err) != VAGENT_OK)
			abort();
	}
	text = vagent_trace_writer_buffer(w, len);
	if (!text || strlen(text) != *len)
		abort();
	copy = malloc(*len + 1);
	if (!copy)
		abort();
	memcpy(copy, text, *len + 1);
	vagent_trace_writer_free(w);
	return copy;
}

static bool same_plain(const char *a, const char *b)
{
	return a == b || (a && b && !strcmp(a, b));
}

/* `a` as the writer writes it (card numbers redacted, docs/dtmf.md) is `b`. */
static bool same_written(const char *a, const char *b)
{
	char *copy;
	bool same;

	if (!a || !b)
		return a == b;
	if (!(copy = strdup(a)))
		abort();
	while (vagent_card_number_redact(copy))
		;
	same = !strcmp(copy, b);
	free(copy);
	return same;
}

/* A written and re-read event carries the same plain fields (JSON fields
 * are re-printed compactly; confidence is rounded to 3 decimals; string
 * fields other than the call name have their card numbers redacted). */
static bool same_event(const struct vagent_trace_event *a,
		       const struct vagent_trace_event *b)
{
	return a->type == b->type && a->t_us == b->t_us && a->turn == b->turn &&
	       a->estimated == b->estimated && a->has_confidence == b->has_confidence &&
	       a->onset_us == b->onset_us && a->decision_us == b->decision_us &&
	       same_plain(a->call, b->call) && same_written(a->text, b->text) &&
	       same_written(a->provider, b->provider) && same_written(a->name, b->name) &&
	       same_written(a->id, b->id) && same_written(a->error, b->error) &&
	       same_written(a->reason, b->reason) && same_written(a->digit, b->digit) &&
	       same_written(a->slot, b->slot) && same_written(a->from, b->from) &&
	       same_written(a->to, b->to) && same_written(a->source, b->source) &&
	       same_written(a->message, b->message) && a->ttfb_us == b->ttfb_us &&
	       a->prompt_tokens == b->prompt_tokens &&
	       a->completion_tokens == b->completion_tokens && a->retries == b->retries &&
	       (a->args == NULL) == (b->args == NULL) &&
	       (a->result == NULL) == (b->result == NULL) &&
	       (a->package == NULL) == (b->package == NULL);
}

static struct vagent_trace *reparse(const char *text, size_t len)
{
	struct vagent_trace *t = NULL;
	struct vagent_error err;

	if (vagent_trace_parse(text, len, name, &t, &err) != VAGENT_OK)
		abort();
	return t;
}

/* Metrics of `t` into a fresh aggregator; every statistic read back and
 * checked for order (min <= percentiles <= max, mean within). */
static void metrics_and_stats(const struct vagent_trace *t)
{
	static const char *const stats[] = {
		"min", "p0.000001", "p1", "p50", "p90", "p95", "p99", "p99.9",
		"p100", "max", "mean",
	};
	struct vagent_trace_metrics *m = NULL;
	struct vagent_stats *s;
	struct vagent_error err;
	size_t turns = 0;

	if (vagent_metrics_from_trace(t->events, t->n, &m, &err) != VAGENT_OK)
		abort();
	if ((t->n == 0) != (m->n_calls == 0))
		abort();
	for (size_t c = 0; c < m->n_calls; c++) {
		const struct vagent_call_metrics *cm = &m->calls[c];

		turns += cm->n_turns;
		if (!cm->call)
			abort();
		for (size_t i = 0; i < cm->n_tools; i++)
			if (!cm->tools[i].name || !cm->tools[i].id ||
			    (cm->tools[i].tool != VAGENT_METRIC_ABSENT && cm->tools[i].tool < 0))
				abort();
		for (size_t i = 0; i < cm->n_turns; i++)
			for (int k = 0; k < VAGENT_METRIC_COUNT; k++)
				if (cm->turns[i].hop[k] != VAGENT_METRIC_ABSENT &&
				    cm->turns[i].hop[k] < 0)
					abort();
	}
	(void)turns;

	s = vagent_stats_new();
	if (!s || vagent_stats_add_metrics(s, m) != VAGENT_OK)
		abort();
	for (int k = 0; k < VAGENT_METRIC_COUNT; k++) {
		size_t n = vagent_stats_count(s, (vagent_metric)k);
		struct vagent_stat_summary sum;
		double v[sizeof(stats) / sizeof(stats[0])];
		vagent_status st;

		for (size_t i = 0; i < sizeof(stats) / sizeof(stats[0]); i++) {
			st = vagent_stats_get(s, (vagent_metric)k, stats[i], &v[i]);
			if (st != (n ? VAGENT_OK : VAGENT_ENOENT))
				abort();
		}
		st = vagent_stats_summary(s, (vagent_metric)k, &sum);
		if (st != (n ? VAGENT_OK : VAGENT_ENOENT) || sum.n != n)
			abort();
		if (!n)
			continue;
		/* min, p0.000001 .. p100, max ascend; mean between min and max. */
		for (size_t i = 1; i + 1 < sizeof(stats) / sizeof(stats[0]); i++)
			if (v[i] < v[i - 1])
				abort();
		if (v[0] != v[1] || v[8] != v[9] || v[10] < v[0] || v[10] > v[9])
			abort();
		if ((double)sum.p50 != v[3] || (double)sum.p90 != v[4] ||
		    (double)sum.p95 != v[5] || (double)sum.p99 != v[6] ||
		    (double)sum.max != v[9] || sum.mean != v[10])
			abort();
		/* the per-provider samples are some of the metric's, within
		 * its range */
		{
			size_t per = 0;
			const char *p;

			for (size_t i = 0; (p = vagent_stats_provider(s, (vagent_metric)k, i)); i++) {
				struct vagent_stat_summary ps;

				if (vagent_stats_provider_summary(s, (vagent_metric)k, p, &ps) !=
				    VAGENT_OK || !ps.n || ps.max > sum.max)
					abort();
				per += ps.n;
			}
			if (per > n)
				abort();
		}
	}
	if (vagent_stats_get(s, VAGENT_METRIC_COUNT, "p50", &(double){ 0 }) != VAGENT_EINVAL ||
	    vagent_stats_get(s, VAGENT_METRIC_E2E, "p0", &(double){ 0 }) != VAGENT_EINVAL)
		abort();
	vagent_stats_free(s);
	vagent_trace_metrics_free(m);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct vagent_trace *t = NULL, *t1, *t2;
	struct vagent_error err;
	vagent_status st;
	char *w1, *w2;
	size_t l1, l2;

	memset(&err, 0, sizeof(err));
	st = vagent_trace_parse((const char *)data, size, name, &t, &err);
	if (st != VAGENT_OK) {
		/* One non-empty line naming the input; a parse-time status. */
		if (t || (st != VAGENT_EFORMAT && st != VAGENT_EINVAL && st != VAGENT_ENOMEM) ||
		    err.status != st || strncmp(err.message, name, sizeof(name) - 1) ||
		    !err.message[sizeof(name) - 1] || strchr(err.message, '\n') ||
		    strchr(err.message, '\r'))
			abort();
		return 0;
	}

	/* Write, read back, write again: the second text is the first. */
	w1 = write_all(t, &l1);
	t1 = reparse(w1, l1);
	if (t1->n != t->n)
		abort();
	w2 = write_all(t1, &l2);
	if (l1 != l2 || memcmp(w1, w2, l1))
		abort();
	t2 = reparse(w2, l2);
	if (t2->n != t->n)
		abort();
	for (size_t i = 0; i < t->n; i++)
		if (!same_event(&t->events[i], &t1->events[i]) ||
		    !same_event(&t1->events[i], &t2->events[i]) ||
		    t1->events[i].confidence != t2->events[i].confidence)
			abort();

	metrics_and_stats(t);
	metrics_and_stats(t1);

	vagent_trace_free(t2);
	vagent_trace_free(t1);
	vagent_trace_free(t);
	free(w2);
	free(w1);
	return 0;
}
