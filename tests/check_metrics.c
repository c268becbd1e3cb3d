/*
 * check_metrics.c — DESIGN.md §6 metrics from hand-written traces
 * (fixtures/traces/, expected values tabled in docs/metrics.md) and the
 * nearest-rank statistics.
 */
#include <check.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "vagent.h"
#include "support/harness.h"

#define A VAGENT_METRIC_ABSENT
#define MS(x) ((int64_t)((x) * 1000.0 + ((x) >= 0 ? 0.5 : -0.5)))

static struct vagent_trace *load(const char *name)
{
	char rel[256];
	struct vagent_trace *t = NULL;
	struct vagent_error err;

	snprintf(rel, sizeof(rel), "fixtures/traces/%s", name);
	ck_assert_msg(vagent_trace_load(top_path(rel), &t, &err) == VAGENT_OK, "%s",
		      err.message);
	return t;
}

static struct vagent_trace_metrics *metrics_of(const struct vagent_trace *t)
{
	struct vagent_trace_metrics *m = NULL;
	struct vagent_error err;

	ck_assert_int_eq(vagent_metrics_from_trace(t->events, t->n, &m, &err), VAGENT_OK);
	ck_assert_ptr_nonnull(m);
	return m;
}

/* Expected per-turn hops in ms (A = absent), in enum order:
 * stt_first_partial, endpoint, stt_final, llm_ttft, tts_ttfb, e2e. */
struct want_turn {
	int turn;
	double sfp, endpoint, stt_final, llm_ttft, tts_ttfb, e2e;
};

static void check_hop(const struct vagent_turn_metrics *tm, vagent_metric m, double want)
{
	int64_t w = want == (double)A ? A : MS(want);

	ck_assert_msg(tm->hop[m] == w, "turn %d %s: got %lld, want %lld", tm->turn,
		      vagent_metric_name(m), (long long)tm->hop[m], (long long)w);
}

static void check_turn(const struct vagent_turn_metrics *tm, const struct want_turn *w)
{
	ck_assert_int_eq(tm->turn, w->turn);
	check_hop(tm, VAGENT_METRIC_STT_FIRST_PARTIAL, w->sfp);
	check_hop(tm, VAGENT_METRIC_ENDPOINT, w->endpoint);
	check_hop(tm, VAGENT_METRIC_STT_FINAL, w->stt_final);
	check_hop(tm, VAGENT_METRIC_LLM_TTFT, w->llm_ttft);
	check_hop(tm, VAGENT_METRIC_TTS_TTFB, w->tts_ttfb);
	check_hop(tm, VAGENT_METRIC_E2E, w->e2e);
	/* Not per-turn metrics. */
	check_hop(tm, VAGENT_METRIC_TOOL, (double)A);
	check_hop(tm, VAGENT_METRIC_BARGE_IN_STOP, (double)A);
	check_hop(tm, VAGENT_METRIC_ANSWER, (double)A);
}

#define NA ((double)A)

START_TEST(test_clean_two_turns)
{
	struct vagent_trace *t = load("clean-2turn.jsonl");
	struct vagent_trace_metrics *m = metrics_of(t);
	const struct vagent_call_metrics *c;
	static const struct want_turn want[] = {
		{ 0, NA, NA, NA, NA, 130.5, NA },     /* the greeting */
		{ 1, 300, 500, 200, 340, 120, 1040 },
		{ 2, 200, 500, 180.25, 295.75, 140, 1010 },
	};

	ck_assert_uint_eq(m->n_calls, 1);
	c = &m->calls[0];
	ck_assert_str_eq(c->call, "clean");
	ck_assert_int_eq(c->answer, 160000);
	ck_assert_uint_eq(c->n_turns, 3);
	for (size_t i = 0; i < 3; i++)
		check_turn(&c->turns[i], &want[i]);
	ck_assert_int_eq(c->turns[1].speech_start_us, 3000000);
	ck_assert_int_eq(c->turns[1].speech_end_us, 4800000);
	ck_assert_int_eq(c->turns[1].turn_end_us, 5300000);
	ck_assert_uint_eq(c->turns[1].segments, 1);
	ck_assert(!c->turns[1].estimated);
	ck_assert(!c->turns[1].interrupted);
	ck_assert_int_eq(c->turns[0].speech_start_us, A);
	ck_assert_uint_eq(c->turns[0].segments, 0);
	ck_assert_uint_eq(c->n_tools, 0);
	ck_assert_uint_eq(c->n_barge_ins, 0);
	vagent_trace_metrics_free(m);
	vagent_trace_free(t);
}
END_TEST

START_TEST(test_two_speech_segments)
{
	struct vagent_trace *t = load("two-segments.jsonl");
	struct vagent_trace_metrics *m = metrics_of(t);
	const struct vagent_call_metrics *c = &m->calls[0];
	/* Start = first segment's start (2000), end = last speech end before
	 * turn.end (5000): the backchannel at 7000-7300 is after turn.end. */
	static const struct want_turn want = { 1, 400, 700, 250, 280, 150, 1220 };

	ck_assert_int_eq(c->answer, 100000);
	/* Turn 0 has no hop (no LLM or TTS request for the greeting). */
	ck_assert_uint_eq(c->n_turns, 1);
	check_turn(&c->turns[0], &want);
	ck_assert_uint_eq(c->turns[0].segments, 2);
	ck_assert_int_eq(c->turns[0].speech_start_us, 2000000);
	ck_assert_int_eq(c->turns[0].speech_end_us, 5000000);
	vagent_trace_metrics_free(m);
	vagent_trace_free(t);
}
END_TEST

START_TEST(test_barge_in)
{
	struct vagent_trace *t = load("barge-in.jsonl");
	struct vagent_trace_metrics *m = metrics_of(t);
	const struct vagent_call_metrics *c = &m->calls[0];
	static const struct want_turn want[] = {
		{ 0, NA, NA, NA, NA, 90, NA },
		/* The turn-1 tts.first_audio at 7430 (after turn 2 began) stays
		 * in turn 1 and is not its first audio. */
		{ 1, 200, 500, 120, 290, 130, 1000 },
		/* Turn 2's tts_ttfb is 7600 - 7420, not 7430 - 7420. */
		{ 2, 300, 400, 100, 10, 180, 620 },
	};

	ck_assert_int_eq(c->answer, 100000);
	ck_assert_uint_eq(c->n_turns, 3);
	for (size_t i = 0; i < 3; i++)
		check_turn(&c->turns[i], &want[i]);
	ck_assert(c->turns[1].interrupted);
	ck_assert(!c->turns[2].interrupted);
	ck_assert_uint_eq(c->n_barge_ins, 1);
	ck_assert_int_eq(c->barge_ins[0].turn, 1);
	ck_assert_int_eq(c->barge_ins[0].onset_us, 6200000);
	ck_assert_int_eq(c->barge_ins[0].decision_us, 6450000);
	ck_assert_int_eq(c->barge_ins[0].stop_us, 6460000);
	ck_assert_int_eq(c->barge_ins[0].barge_in_stop, 260000);
	vagent_trace_metrics_free(m);
	vagent_trace_free(t);
}
END_TEST

START_TEST(test_tool_timeout)
{
	struct vagent_trace *t = load("tool-timeout.jsonl");
	struct vagent_trace_metrics *m = metrics_of(t);
	const struct vagent_call_metrics *c = &m->calls[0];
	/* e2e counts the filler: it is the first agent audio after the
	 * caller stopped; tts_ttfb is the filler's request too. */
	static const struct want_turn want = { 1, 200, 400, 100, 190, 90, 1710 };
	static const struct {
		const char *name, *id, *outcome;
		int64_t start, tool;
	} tools[] = {
		{ "get_balance", "call_1", "timeout", 3105000, 3000000 },
		{ "get_balance", "call_2", "end", 6110000, 290500 },
		{ "lookup", "call_3", NULL, 6120000, A },
		{ "crm", "call_4", "error", 6130000, 70000 },
	};

	ck_assert_int_eq(c->answer, 50000);
	ck_assert_uint_eq(c->n_turns, 1);
	check_turn(&c->turns[0], &want);
	ck_assert_uint_eq(c->n_tools, 4);
	for (size_t i = 0; i < 4; i++) {
		ck_assert_int_eq(c->tools[i].turn, 1);
		ck_assert_str_eq(c->tools[i].name, tools[i].name);
		ck_assert_str_eq(c->tools[i].id, tools[i].id);
		if (tools[i].outcome)
			ck_assert_str_eq(c->tools[i].outcome, tools[i].outcome);
		else
			ck_assert_ptr_null(c->tools[i].outcome);
		ck_assert_int_eq(c->tools[i].start_us, tools[i].start);
		ck_assert_int_eq(c->tools[i].tool, tools[i].tool);
	}
	vagent_trace_metrics_free(m);
	vagent_trace_free(t);
}
END_TEST

START_TEST(test_missing_events)
{
	struct vagent_trace *t = load("missing-events.jsonl");
	struct vagent_trace_metrics *m = metrics_of(t);
	const struct vagent_call_metrics *c = &m->calls[0];
	static const struct want_turn want[] = {
		/* No partial, no final, no TTS, no agent audio; llm_ttft runs
		 * from the first request (provider a, which failed). */
		{ 1, NA, 300, NA, 690, NA, NA },
		/* A DTMF turn: no caller speech at all. */
		{ 2, NA, NA, NA, 200, 150, NA },
		/* Caller speech that never ends (the call was transferred). */
		{ 3, 100, NA, NA, NA, NA, NA },
	};

	/* No call.start: no answer. */
	ck_assert_int_eq(c->answer, A);
	ck_assert_uint_eq(c->n_turns, 3);
	for (size_t i = 0; i < 3; i++)
		check_turn(&c->turns[i], &want[i]);
	ck_assert(c->turns[0].estimated);
	ck_assert(!c->turns[1].estimated);
	ck_assert_int_eq(c->turns[1].speech_end_us, A);
	ck_assert_int_eq(c->turns[2].speech_end_us, A);
	ck_assert_int_eq(c->turns[2].turn_end_us, A);
	vagent_trace_metrics_free(m);
	vagent_trace_free(t);
}
END_TEST

/* Speech that ends only after the end-of-turn decision (a cut-off): the
 * end-dependent metrics are absent, not negative. */
START_TEST(test_cut_off_turn)
{
	static const struct vagent_trace_event ev[] = {
		{ .t_us = 1000000, .call = "c", .turn = 1, .type = VAGENT_TRACE_CALLER_SPEECH_START },
		{ .t_us = 1800000, .call = "c", .turn = 1, .type = VAGENT_TRACE_TURN_END },
		{ .t_us = 2000000, .call = "c", .turn = 1, .type = VAGENT_TRACE_CALLER_SPEECH_END },
		{ .t_us = 2100000, .call = "c", .turn = 1, .type = VAGENT_TRACE_STT_FINAL, .text = "x" },
		{ .t_us = 2500000, .call = "c", .turn = 1, .type = VAGENT_TRACE_AGENT_AUDIO_START },
	};
	struct vagent_trace_metrics *m = NULL;
	static const struct want_turn want = { 1, NA, NA, NA, NA, NA, NA };

	ck_assert_int_eq(vagent_metrics_from_trace(ev, 5, &m, NULL), VAGENT_OK);
	ck_assert_uint_eq(m->n_calls, 1);
	ck_assert_uint_eq(m->calls[0].n_turns, 1);
	check_turn(&m->calls[0].turns[0], &want);
	ck_assert_uint_eq(m->calls[0].turns[0].segments, 1);
	vagent_trace_metrics_free(m);

	ck_assert_int_eq(vagent_metrics_from_trace(NULL, 0, &m, NULL), VAGENT_OK);
	ck_assert_uint_eq(m->n_calls, 0);
	vagent_trace_metrics_free(m);
	vagent_trace_metrics_free(NULL);
}
END_TEST

/* Several calls in one event array, in any order: grouped by call (in
 * order of first appearance), the same values as each call alone. */
START_TEST(test_many_calls_any_order)
{
	struct vagent_trace *a = load("clean-2turn.jsonl"), *b = load("barge-in.jsonl");
	size_t n = a->n + b->n;
	struct vagent_trace_event *ev = malloc(n * sizeof(*ev));
	struct vagent_trace_metrics *m = NULL, *ma = metrics_of(a);
	struct vagent_stats *st;
	struct vagent_stat_summary sum;

	/* Interleave, reversed: b's last event first. */
	for (size_t i = 0, ia = a->n, ib = b->n; i < n; i++)
		ev[i] = (ib > 0 && (i % 2 == 0 || ia == 0)) ? b->events[--ib] : a->events[--ia];
	ck_assert_int_eq(vagent_metrics_from_trace(ev, n, &m, NULL), VAGENT_OK);
	ck_assert_uint_eq(m->n_calls, 2);
	ck_assert_str_eq(m->calls[0].call, "barge");
	ck_assert_str_eq(m->calls[1].call, "clean");
	ck_assert_uint_eq(m->calls[1].n_turns, ma->calls[0].n_turns);
	for (size_t t = 0; t < ma->calls[0].n_turns; t++) {
		struct vagent_turn_metrics x, y;

		memcpy(&x, &m->calls[1].turns[t], sizeof(x));
		memcpy(&y, &ma->calls[0].turns[t], sizeof(y));

		/* the same providers (each metrics owns its copies) */
		for (int k = 0; k < VAGENT_METRIC_COUNT; k++) {
			ck_assert_int_eq(!x.provider[k], !y.provider[k]);
			if (x.provider[k])
				ck_assert_str_eq(x.provider[k], y.provider[k]);
			x.provider[k] = y.provider[k] = NULL;
		}
		ck_assert(!memcmp(&x, &y, sizeof(x)));
	}
	ck_assert_int_eq(m->calls[0].barge_ins[0].barge_in_stop, 260000);

	/* Aggregated: e2e over both calls = 1040, 1010, 1000, 620 ms. */
	st = vagent_stats_new();
	ck_assert_int_eq(vagent_stats_add_metrics(st, m), VAGENT_OK);
	ck_assert_uint_eq(vagent_stats_count(st, VAGENT_METRIC_E2E), 4);
	ck_assert_uint_eq(vagent_stats_count(st, VAGENT_METRIC_ANSWER), 2);
	ck_assert_uint_eq(vagent_stats_count(st, VAGENT_METRIC_TTS_TTFB), 6);
	ck_assert_uint_eq(vagent_stats_count(st, VAGENT_METRIC_BARGE_IN_STOP), 1);
	ck_assert_uint_eq(vagent_stats_count(st, VAGENT_METRIC_TOOL), 0);
	ck_assert_int_eq(vagent_stats_summary(st, VAGENT_METRIC_E2E, &sum), VAGENT_OK);
	ck_assert_uint_eq(sum.n, 4);
	ck_assert_int_eq(sum.p50, 1000000);
	ck_assert_int_eq(sum.p90, 1040000);
	ck_assert_int_eq(sum.max, 1040000);
	ck_assert(sum.mean == 917500.0);
	ck_assert_int_eq(vagent_stats_summary(st, VAGENT_METRIC_TOOL, &sum), VAGENT_ENOENT);
	ck_assert_uint_eq(sum.n, 0);
	vagent_stats_free(st);

	vagent_trace_metrics_free(m);
	vagent_trace_metrics_free(ma);
	free(ev);
	vagent_trace_free(a);
	vagent_trace_free(b);
}
END_TEST

static double get(const struct vagent_stats *st, const char *stat)
{
	double v = -1;

	ck_assert_msg(vagent_stats_get(st, VAGENT_METRIC_E2E, stat, &v) == VAGENT_OK,
		      "%s", stat);
	return v;
}

START_TEST(test_nearest_rank)
{
	struct vagent_stats *st = vagent_stats_new();
	static const int64_t list[] = { 40, 15, 50, 35, 20 };   /* unsorted */
	double v;

	ck_assert_int_eq(vagent_stats_get(st, VAGENT_METRIC_E2E, "p50", &v), VAGENT_ENOENT);
	for (size_t i = 0; i < 5; i++)
		ck_assert_int_eq(vagent_stats_add(st, VAGENT_METRIC_E2E, list[i]), VAGENT_OK);
	ck_assert(get(st, "p5") == 15);
	ck_assert(get(st, "p20") == 15);
	ck_assert(get(st, "p30") == 20);
	ck_assert(get(st, "p40") == 20);
	ck_assert(get(st, "p50") == 35);
	ck_assert(get(st, "p90") == 50);
	ck_assert(get(st, "p100") == 50);
	ck_assert(get(st, "p20.5") == 20);
	ck_assert(get(st, "max") == 50);
	ck_assert(get(st, "min") == 15);
	ck_assert(get(st, "mean") == 32);
	/* Adding after a query re-sorts. */
	ck_assert_int_eq(vagent_stats_add(st, VAGENT_METRIC_E2E, 1), VAGENT_OK);
	ck_assert(get(st, "p30") == 15);
	ck_assert(fabs(get(st, "mean") - 161.0 / 6) < 1e-12);

	ck_assert_int_eq(vagent_stats_get(st, VAGENT_METRIC_E2E, "p0", &v), VAGENT_EINVAL);
	ck_assert_int_eq(vagent_stats_get(st, VAGENT_METRIC_E2E, "p101", &v), VAGENT_EINVAL);
	ck_assert_int_eq(vagent_stats_get(st, VAGENT_METRIC_E2E, "p", &v), VAGENT_EINVAL);
	ck_assert_int_eq(vagent_stats_get(st, VAGENT_METRIC_E2E, "p50x", &v), VAGENT_EINVAL);
	ck_assert_int_eq(vagent_stats_get(st, VAGENT_METRIC_E2E, "median", &v), VAGENT_EINVAL);
	ck_assert_int_eq(vagent_stats_get(st, VAGENT_METRIC_COUNT, "max", &v), VAGENT_EINVAL);
	ck_assert_int_eq(vagent_stats_add(st, VAGENT_METRIC_E2E, A), VAGENT_EINVAL);
	/* An unknown stat is EINVAL even with no samples. */
	ck_assert_int_eq(vagent_stats_get(st, VAGENT_METRIC_TOOL, "p5o", &v), VAGENT_EINVAL);
	vagent_stats_free(st);
	vagent_stats_free(NULL);
}
END_TEST

START_TEST(test_nearest_rank_edges)
{
	struct vagent_stats *st = vagent_stats_new();
	struct vagent_stat_summary sum;

	/* n = 1: every statistic is the sample. */
	ck_assert_int_eq(vagent_stats_add(st, VAGENT_METRIC_TOOL, 7), VAGENT_OK);
	ck_assert_int_eq(vagent_stats_summary(st, VAGENT_METRIC_TOOL, &sum), VAGENT_OK);
	ck_assert_uint_eq(sum.n, 1);
	ck_assert_int_eq(sum.p50, 7);
	ck_assert_int_eq(sum.p99, 7);
	ck_assert_int_eq(sum.max, 7);
	ck_assert(sum.mean == 7);

	/* 1..100: pN is N; 1..1000: p99.9 is 999 and p99 is 990. */
	for (int i = 100; i >= 1; i--)
		ck_assert_int_eq(vagent_stats_add(st, VAGENT_METRIC_ANSWER, i), VAGENT_OK);
	ck_assert_int_eq(vagent_stats_summary(st, VAGENT_METRIC_ANSWER, &sum), VAGENT_OK);
	ck_assert_int_eq(sum.p50, 50);
	ck_assert_int_eq(sum.p90, 90);
	ck_assert_int_eq(sum.p95, 95);
	ck_assert_int_eq(sum.p99, 99);
	ck_assert(sum.mean == 50.5);
	for (int i = 1; i <= 1000; i++)
		ck_assert_int_eq(vagent_stats_add(st, VAGENT_METRIC_ENDPOINT, i), VAGENT_OK);
	{
		double v;

		ck_assert_int_eq(vagent_stats_get(st, VAGENT_METRIC_ENDPOINT, "p99.9", &v), VAGENT_OK);
		ck_assert(v == 999);
		ck_assert_int_eq(vagent_stats_get(st, VAGENT_METRIC_ENDPOINT, "p99", &v), VAGENT_OK);
		ck_assert(v == 990);
		ck_assert_int_eq(vagent_stats_get(st, VAGENT_METRIC_ENDPOINT, "p0.1", &v), VAGENT_OK);
		ck_assert(v == 1);
	}
	/* n = 0: absent. */
	ck_assert_int_eq(vagent_stats_summary(st, VAGENT_METRIC_E2E, &sum), VAGENT_ENOENT);
	vagent_stats_free(st);
}
END_TEST

/* Cloud providers: provider.first_byte gives the *_ttfb hops; each hop
 * names the provider that answered it (after a fallback, the fallback);
 * the statistics break the hops down per provider. */
START_TEST(test_providers)
{
	struct vagent_trace *t = load("providers.jsonl");
	struct vagent_trace_metrics *m = metrics_of(t);
	const struct vagent_turn_metrics *t1, *t2, *c0;
	struct vagent_stats *st = vagent_stats_new(), *merged = vagent_stats_new();
	struct vagent_stat_summary sum;

	ck_assert_uint_eq(m->n_calls, 2);
	ck_assert_uint_eq(m->calls[0].n_turns, 2);
	t1 = &m->calls[0].turns[0];
	t2 = &m->calls[0].turns[1];
	c0 = &m->calls[1].turns[0];
	ck_assert_int_eq(t1->turn, 1);
	ck_assert_int_eq(t1->hop[VAGENT_METRIC_STT_TTFB], 150000);
	ck_assert_str_eq(t1->provider[VAGENT_METRIC_STT_TTFB], "deepgram");
	ck_assert_int_eq(t1->hop[VAGENT_METRIC_LLM_TTFB], 40000);
	ck_assert_str_eq(t1->provider[VAGENT_METRIC_LLM_TTFB], "openai");
	ck_assert_int_eq(t1->hop[VAGENT_METRIC_TTS_NET_TTFB], VAGENT_METRIC_ABSENT);
	ck_assert_ptr_null(t1->provider[VAGENT_METRIC_TTS_NET_TTFB]);
	/* llm_ttft from the first request; answered by the fallback */
	ck_assert_int_eq(t1->hop[VAGENT_METRIC_LLM_TTFT], 210000);
	ck_assert_str_eq(t1->provider[VAGENT_METRIC_LLM_TTFT], "flow");
	ck_assert_str_eq(t1->provider[VAGENT_METRIC_STT_FINAL], "deepgram");
	ck_assert_str_eq(t1->provider[VAGENT_METRIC_STT_FIRST_PARTIAL], "deepgram");
	ck_assert_str_eq(t1->provider[VAGENT_METRIC_TTS_TTFB], "flite");
	ck_assert_ptr_null(t1->provider[VAGENT_METRIC_E2E]);
	ck_assert_int_eq(t2->hop[VAGENT_METRIC_LLM_TTFT], 30000);
	ck_assert_str_eq(t2->provider[VAGENT_METRIC_LLM_TTFT], "flow");
	ck_assert_int_eq(t2->hop[VAGENT_METRIC_LLM_TTFB], VAGENT_METRIC_ABSENT);
	/* the greeting turn; tts.first_audio without a provider: its request's */
	ck_assert_int_eq(c0->turn, 0);
	ck_assert_int_eq(c0->hop[VAGENT_METRIC_LLM_TTFB], 80000);
	ck_assert_int_eq(c0->hop[VAGENT_METRIC_TTS_NET_TTFB], 90000);
	ck_assert_str_eq(c0->provider[VAGENT_METRIC_TTS_NET_TTFB], "cartesia");
	ck_assert_int_eq(c0->hop[VAGENT_METRIC_TTS_TTFB], 100000);
	ck_assert_str_eq(c0->provider[VAGENT_METRIC_TTS_TTFB], "cartesia");
	ck_assert_str_eq(c0->provider[VAGENT_METRIC_LLM_TTFT], "openai");

	ck_assert_int_eq(vagent_stats_add_metrics(st, m), VAGENT_OK);
	ck_assert_uint_eq(vagent_stats_count(st, VAGENT_METRIC_LLM_TTFT), 3);
	ck_assert_str_eq(vagent_stats_provider(st, VAGENT_METRIC_LLM_TTFT, 0), "flow");
	ck_assert_str_eq(vagent_stats_provider(st, VAGENT_METRIC_LLM_TTFT, 1), "openai");
	ck_assert_ptr_null(vagent_stats_provider(st, VAGENT_METRIC_LLM_TTFT, 2));
	ck_assert_int_eq(vagent_stats_provider_summary(st, VAGENT_METRIC_LLM_TTFT, "flow",
						       &sum), VAGENT_OK);
	ck_assert_uint_eq(sum.n, 2);
	ck_assert_int_eq(sum.max, 210000);
	ck_assert_int_eq(sum.p50, 30000);
	ck_assert_int_eq(vagent_stats_provider_summary(st, VAGENT_METRIC_LLM_TTFT, "openai",
						       &sum), VAGENT_OK);
	ck_assert_uint_eq(sum.n, 1);
	ck_assert_int_eq(sum.p50, 100000);
	ck_assert_int_eq(vagent_stats_provider_summary(st, VAGENT_METRIC_LLM_TTFT, "deepgram",
						       &sum), VAGENT_ENOENT);
	ck_assert_int_eq(vagent_stats_provider_summary(st, VAGENT_METRIC_LLM_TTFT, "nobody",
						       &sum), VAGENT_ENOENT);
	ck_assert_uint_eq(sum.n, 0);
	/* one provider only: llm_ttfb over both calls */
	ck_assert_str_eq(vagent_stats_provider(st, VAGENT_METRIC_LLM_TTFB, 0), "openai");
	ck_assert_ptr_null(vagent_stats_provider(st, VAGENT_METRIC_LLM_TTFB, 1));
	ck_assert_int_eq(vagent_stats_summary(st, VAGENT_METRIC_LLM_TTFB, &sum), VAGENT_OK);
	ck_assert_uint_eq(sum.n, 2);
	ck_assert_int_eq(sum.max, 80000);
	ck_assert_ptr_null(vagent_stats_provider(st, VAGENT_METRIC_E2E, 0));

	/* merging keeps the breakdown */
	ck_assert_int_eq(vagent_stats_merge(merged, st), VAGENT_OK);
	ck_assert_int_eq(vagent_stats_merge(merged, st), VAGENT_OK);
	ck_assert_int_eq(vagent_stats_provider_summary(merged, VAGENT_METRIC_LLM_TTFT, "flow",
						       &sum), VAGENT_OK);
	ck_assert_uint_eq(sum.n, 4);
	ck_assert_str_eq(vagent_stats_provider(merged, VAGENT_METRIC_TTS_TTFB, 1), "cartesia");

	vagent_stats_free(st);
	vagent_stats_free(merged);
	vagent_trace_metrics_free(m);
	vagent_trace_free(t);
}
END_TEST

START_TEST(test_metric_names)
{
	vagent_metric m;
	static const char *const names[] = { "stt_first_partial", "endpoint", "stt_final",
		"llm_ttft", "tool", "tts_ttfb", "e2e", "barge_in_stop", "answer",
		"stt_ttfb", "llm_ttfb", "tts_net_ttfb" };

	ck_assert_int_eq(VAGENT_METRIC_COUNT, 12);
	for (int i = 0; i < VAGENT_METRIC_COUNT; i++) {
		ck_assert_str_eq(vagent_metric_name((vagent_metric)i), names[i]);
		ck_assert_int_eq(vagent_metric_from_name(names[i], &m), VAGENT_OK);
		ck_assert_int_eq(m, i);
	}
	ck_assert_int_eq(vagent_metric_from_name("ttft", &m), VAGENT_EINVAL);
	ck_assert_str_eq(vagent_metric_name(VAGENT_METRIC_COUNT), "unknown");
}
END_TEST


/* ---- vagent trace metrics */

START_TEST(test_cli_table)
{
	struct run_result r = run_vagent("trace", "metrics",
					 top_path("fixtures/traces/clean-2turn.jsonl"),
					 top_path("fixtures/traces/barge-in.jsonl"), NULL);

	ck_assert_msg(r.exit_code == 0, "%s", r.err);
	ck_assert_str_eq(r.err, "");
	ck_assert_ptr_nonnull(strstr(r.out, "call clean: answer 160.000 ms\n"));
	ck_assert_ptr_nonnull(strstr(r.out,
		"     2           200.000           500.000           180.250           295.750"
		"           140.000          1010.000\n"));
	ck_assert_ptr_nonnull(strstr(r.out, "interrupted\n"));
	ck_assert_ptr_nonnull(strstr(r.out, "barge_in_stop 260.000 ms\n"));
	ck_assert_ptr_nonnull(strstr(r.out,
		"e2e                   4   1000.000   1040.000   1040.000   1040.000   1040.000"
		"    917.500\n"));
	ck_assert_ptr_nonnull(strstr(r.out, "\ntool                  0\n"));
	run_result_free(&r);
}
END_TEST

static double json_ms(const cJSON *o, const char *key)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);

	ck_assert_msg(cJSON_IsNumber(v), "no number \"%s\"", key);
	return v->valuedouble;
}

/* After a fallback the summary breaks llm_ttft down per provider; the
 * turns say which provider answered each hop. */
START_TEST(test_cli_providers)
{
	struct run_result r = run_vagent("trace", "metrics", "--json", "-",
					 top_path("fixtures/traces/providers.jsonl"), NULL);
	cJSON *root, *turn, *sum, *prov;

	ck_assert_msg(r.exit_code == 0, "%s", r.err);
	root = cJSON_Parse(r.out);
	ck_assert_ptr_nonnull(root);
	turn = cJSON_GetArrayItem(cJSON_GetObjectItem(
		cJSON_GetArrayItem(cJSON_GetObjectItem(root, "calls"), 0), "turns"), 0);
	ck_assert(json_ms(cJSON_GetObjectItem(turn, "hops"), "llm_ttfb") == 40);
	ck_assert(json_ms(cJSON_GetObjectItem(turn, "hops"), "stt_ttfb") == 150);
	ck_assert_str_eq(cJSON_GetObjectItem(cJSON_GetObjectItem(turn, "providers"),
					     "llm_ttft")->valuestring, "flow");
	sum = cJSON_GetObjectItem(root, "summary");
	prov = cJSON_GetObjectItem(cJSON_GetObjectItem(sum, "llm_ttft"), "providers");
	ck_assert(json_ms(cJSON_GetObjectItem(prov, "flow"), "n") == 2);
	ck_assert(json_ms(cJSON_GetObjectItem(prov, "flow"), "max") == 210);
	ck_assert(json_ms(cJSON_GetObjectItem(prov, "openai"), "p50") == 100);
	/* one provider: no breakdown */
	ck_assert(json_ms(cJSON_GetObjectItem(sum, "llm_ttfb"), "n") == 2);
	ck_assert_ptr_null(cJSON_GetObjectItem(cJSON_GetObjectItem(sum, "llm_ttfb"),
					       "providers"));
	cJSON_Delete(root);
	run_result_free(&r);

	r = run_vagent("trace", "metrics", "-q", top_path("fixtures/traces/providers.jsonl"),
		       NULL);
	ck_assert_int_eq(r.exit_code, 0);
	ck_assert_msg(strstr(r.out, "\nllm_ttft              3 ") &&
		      strstr(r.out, "\n  flow                2     30.000    210.000"),
		      "%s", r.out);
	run_result_free(&r);
}
END_TEST

START_TEST(test_cli_json)
{
	struct run_result r = run_vagent("trace", "metrics", "--json", "-",
					 top_path("fixtures/traces/tool-timeout.jsonl"), NULL);
	cJSON *root, *call, *turn, *hops, *tools, *sum;
	char *file;

	ck_assert_msg(r.exit_code == 0, "%s", r.err);
	root = cJSON_Parse(r.out);
	ck_assert_ptr_nonnull(root);
	call = cJSON_GetArrayItem(cJSON_GetObjectItem(root, "calls"), 0);
	ck_assert_str_eq(cJSON_GetObjectItem(call, "name")->valuestring, "tools");
	ck_assert(json_ms(call, "answer") == 50);
	turn = cJSON_GetArrayItem(cJSON_GetObjectItem(call, "turns"), 0);
	hops = cJSON_GetObjectItem(turn, "hops");
	ck_assert(json_ms(hops, "e2e") == 1710);
	ck_assert(json_ms(hops, "llm_ttft") == 190);
	tools = cJSON_GetObjectItem(call, "tools");
	ck_assert_int_eq(cJSON_GetArraySize(tools), 4);
	ck_assert(json_ms(cJSON_GetArrayItem(tools, 1), "tool") == 290.5);
	/* The tool that never finished has no value. */
	ck_assert_ptr_null(cJSON_GetObjectItem(cJSON_GetArrayItem(tools, 2), "tool"));
	sum = cJSON_GetObjectItem(cJSON_GetObjectItem(root, "summary"), "tool");
	ck_assert(json_ms(sum, "n") == 3);
	ck_assert(json_ms(sum, "p50") == 290.5);
	ck_assert(json_ms(sum, "max") == 3000);
	ck_assert(json_ms(sum, "mean") == 1120.167);
	ck_assert(json_ms(cJSON_GetObjectItem(cJSON_GetObjectItem(root, "summary"),
					      "barge_in_stop"), "n") == 0);
	cJSON_Delete(root);

	/* --json FILE writes the same JSON and still prints the tables. */
	run_result_free(&r);
	r = run_vagent("trace", "metrics", "--json", temp_path("m.json"),
		       top_path("fixtures/traces/tool-timeout.jsonl"), NULL);
	ck_assert_int_eq(r.exit_code, 0);
	ck_assert_ptr_nonnull(strstr(r.out, "call tools: answer 50.000 ms"));
	file = read_file(temp_path("m.json"), NULL);
	ck_assert_ptr_nonnull(strstr(file, "\"tool\":\t290.500"));
	free(file);
	run_result_free(&r);
}
END_TEST

START_TEST(test_cli_bad_input)
{
	const char *bad = top_path("fixtures/traces/bad-line.jsonl");
	struct run_result r = run_vagent("trace", "metrics", bad, NULL);
	char want[4200];

	ck_assert_int_eq(r.exit_code, 2);
	snprintf(want, sizeof(want), "vagent: %s:3: not valid JSON\n", bad);
	ck_assert_str_eq(r.err, want);
	ck_assert_str_eq(r.out, "");
	run_result_free(&r);

	r = run_vagent("trace", "metrics", temp_path("missing.jsonl"), NULL);
	ck_assert_int_eq(r.exit_code, 2);
	ck_assert_int_eq(count_lines(r.err), 1);
	ck_assert_ptr_nonnull(strstr(r.err, "missing.jsonl: no such file"));
	run_result_free(&r);

	r = run_vagent("trace", "metrics", NULL);
	ck_assert_int_eq(r.exit_code, 2);
	ck_assert_int_eq(count_lines(r.err), 1);
	run_result_free(&r);

	r = run_vagent("trace", "replay", NULL);
	ck_assert_int_eq(r.exit_code, 2);
	ck_assert_ptr_nonnull(strstr(r.err, "'replay' is not a trace command"));
	run_result_free(&r);
}
END_TEST

Suite *suite_metrics(void)
{
	Suite *s = suite_create("metrics");
	TCase *tc = tcase_create("metrics");

	tcase_add_test(tc, test_clean_two_turns);
	tcase_add_test(tc, test_two_speech_segments);
	tcase_add_test(tc, test_barge_in);
	tcase_add_test(tc, test_tool_timeout);
	tcase_add_test(tc, test_missing_events);
	tcase_add_test(tc, test_cut_off_turn);
	tcase_add_test(tc, test_many_calls_any_order);
	tcase_add_test(tc, test_nearest_rank);
	tcase_add_test(tc, test_nearest_rank_edges);
	tcase_add_test(tc, test_metric_names);
	tcase_add_test(tc, test_providers);
	suite_add_tcase(s, tc);

	tc = tcase_create("cli");
	tcase_add_checked_fixture(tc, temp_dir_setup, temp_dir_teardown);
	tcase_add_test(tc, test_cli_table);
	tcase_add_test(tc, test_cli_json);
	tcase_add_test(tc, test_cli_providers);
	tcase_add_test(tc, test_cli_bad_input);
	suite_add_tcase(s, tc);
	return s;
}
