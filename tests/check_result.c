/*
 * check_result.c — the --json run result (lib/session/result.c,
 * docs/result.md): call reports built on the hand-written traces of
 * fixtures/traces, parsed back with cJSON and checked for the values
 * docs/metrics.md tables, the WER of given texts, containment, SLOs, errors
 * and byte-identical output.
 */
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "vagent.h"
#include "support/harness.h"

/* The traces, read once per test (freed by free_traces). */
static char *clean_trace, *barge_trace, *tools_trace, *bad_trace;
static size_t clean_len, barge_len, tools_len, bad_len;

static char *fixture(const char *name, size_t *len)
{
	char rel[256];
	char *p;

	snprintf(rel, sizeof(rel), "fixtures/traces/%s", name);
	p = read_file(top_path(rel), len);
	ck_assert_msg(p != NULL, "cannot read %s", rel);
	return p;
}

static void load_traces(void)
{
	clean_trace = fixture("clean-2turn.jsonl", &clean_len);
	barge_trace = fixture("barge-in.jsonl", &barge_len);
	tools_trace = fixture("tool-timeout.jsonl", &tools_len);
	bad_trace = fixture("bad-line.jsonl", &bad_len);
}

static void free_traces(void)
{
	free(clean_trace);
	free(barge_trace);
	free(tools_trace);
	free(bad_trace);
	clean_trace = barge_trace = tools_trace = bad_trace = NULL;
}

/* Strings of the session turns are char *: writable copies of literals. */
#define S(x) ((char[]){ x })

static const struct vagent_session_turn clean_turns[] = {
	{ 1, S("my order is four two"), S("my order is for two"), S("Sure. For how many people?"), false },
	{ 2, S("for two people"), S("for two people"), S("A table for two."), false },
};

static const struct vagent_session_turn barge_turns[] = {
	{ 1, S("what are your opening hours"), S("what are your opening hours"),
	  S("We open at nine."), true },
	{ 2, S("wait what about sunday"), S("what about sunday"), S("Ten on Sundays."), false },
	{ 3, NULL, S("thanks"), S("Bye."), false },   /* not in the trace */
};

static const struct vagent_expectation_result clean_expect[] = {
	{ "e2e under 1500 ms", true, "max 1040 ms" },
	{ "books a table", false, NULL },
};

static void two_calls(struct vagent_call_report r[2])
{
	memset(r, 0, 2 * sizeof(*r));
	r[0].name = "clean";
	r[0].passed = true;
	r[0].turns = clean_turns;
	r[0].n_turns = 2;
	r[0].trace = clean_trace;
	r[0].trace_len = clean_len;
	r[0].expectations = clean_expect;
	r[0].n_expectations = 2;
	r[1].name = "barge";
	r[1].passed = false;
	r[1].turns = barge_turns;
	r[1].n_turns = 3;
	r[1].trace = barge_trace;
	r[1].trace_len = barge_len;
	r[1].escalated = true;
}

static char *to_json(const struct vagent_call_report *calls, size_t n,
		     const struct vagent_slo_result *slos, size_t n_slos)
{
	struct vagent_error err;
	char *out = NULL;
	vagent_status st = vagent_result_to_json(calls, n, slos, n_slos, &out, &err);

	ck_assert_msg(st == VAGENT_OK, "%s: %s", vagent_status_name(st), err.message);
	ck_assert_ptr_nonnull(out);
	return out;
}

static cJSON *parse(const char *text)
{
	cJSON *j = cJSON_Parse(text);

	ck_assert_msg(j != NULL, "not JSON:\n%s", text);
	return j;
}

static const cJSON *get(const cJSON *o, const char *key)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);

	ck_assert_msg(v != NULL, "no \"%s\"", key);
	return v;
}

static const cJSON *at(const cJSON *a, int i)
{
	const cJSON *v;

	ck_assert(cJSON_IsArray(a));
	v = cJSON_GetArrayItem(a, i);
	ck_assert_msg(v != NULL, "no element %d", i);
	return v;
}

static double num(const cJSON *o, const char *key)
{
	const cJSON *v = get(o, key);

	ck_assert_msg(cJSON_IsNumber(v), "\"%s\" is not a number", key);
	return v->valuedouble;
}

static const char *str(const cJSON *o, const char *key)
{
	const cJSON *v = get(o, key);

	if (cJSON_IsNull(v))
		return NULL;
	ck_assert_msg(cJSON_IsString(v), "\"%s\" is not a string", key);
	return v->valuestring;
}

static bool flag(const cJSON *o, const char *key)
{
	const cJSON *v = get(o, key);

	ck_assert_msg(cJSON_IsBool(v), "\"%s\" is not a bool", key);
	return cJSON_IsTrue(v);
}

static bool has(const cJSON *o, const char *key)
{
	return cJSON_GetObjectItemCaseSensitive(o, key) != NULL;
}

#define ck_num(o, key, want)                                                      \
	do {                                                                      \
		double got_ = num((o), (key));                                    \
		ck_assert_msg(got_ == (want), "%s: got %.9g, want %.9g", (key),   \
			      got_, (double)(want));                              \
	} while (0)

START_TEST(test_top_level)
{
	struct vagent_call_report r[2];
	char *out;
	cJSON *j;

	two_calls(r);
	out = to_json(r, 2, NULL, 0);
	j = parse(out);
	ck_assert_str_eq(str(j, "version"), vagent_version());
	ck_num(j, "schema", 1);
	ck_assert_int_eq(cJSON_GetArraySize(get(j, "calls")), 2);
	ck_assert_str_eq(str(at(get(j, "calls"), 0), "name"), "clean");
	ck_assert_str_eq(str(at(get(j, "calls"), 1), "name"), "barge");
	ck_assert(flag(at(get(j, "calls"), 0), "passed"));
	ck_assert(!flag(at(get(j, "calls"), 1), "passed"));
	ck_assert(!flag(at(get(j, "calls"), 0), "escalated"));
	ck_assert(flag(at(get(j, "calls"), 1), "escalated"));
	ck_num(get(j, "summary"), "calls", 2);
	ck_num(get(j, "summary"), "passed", 1);
	/* Key order is fixed: version, schema, calls, summary. */
	ck_assert_str_eq(j->child->string, "version");
	ck_assert_str_eq(j->child->next->string, "schema");
	ck_assert_str_eq(j->child->next->next->string, "calls");
	ck_assert_str_eq(j->child->next->next->next->string, "summary");
	cJSON_Delete(j);
	free(out);
}
END_TEST

/* clean-2turn.jsonl: answer 160; turn 0 only in the trace; the hops of
 * docs/metrics.md, in ms with up to 3 decimals and no trailing zeros. */
START_TEST(test_call_turns_and_hops)
{
	struct vagent_call_report r[2];
	char *out;
	cJSON *j;
	const cJSON *c, *t, *h;

	two_calls(r);
	out = to_json(r, 2, NULL, 0);
	j = parse(out);
	c = at(get(j, "calls"), 0);
	ck_num(c, "answer_ms", 160);
	ck_assert_int_eq(cJSON_GetArraySize(get(c, "turns")), 3);

	t = at(get(c, "turns"), 0);     /* the greeting: trace only */
	ck_num(t, "turn", 0);
	ck_assert_ptr_null(str(t, "caller_text"));
	ck_assert_ptr_null(str(t, "stt_text"));
	ck_assert_ptr_null(str(t, "agent_text"));
	ck_assert(!flag(t, "interrupted"));
	h = get(t, "hops");
	ck_assert_int_eq(cJSON_GetArraySize(h), 1);
	ck_num(h, "tts_ttfb", 130.5);

	t = at(get(c, "turns"), 1);
	ck_num(t, "turn", 1);
	ck_assert_str_eq(str(t, "caller_text"), "my order is four two");
	ck_assert_str_eq(str(t, "stt_text"), "my order is for two");
	ck_assert_str_eq(str(t, "agent_text"), "Sure. For how many people?");
	h = get(t, "hops");
	ck_assert_int_eq(cJSON_GetArraySize(h), 6);
	ck_num(h, "stt_first_partial", 300);
	ck_num(h, "endpoint", 500);
	ck_num(h, "stt_final", 200);
	ck_num(h, "llm_ttft", 340);
	ck_num(h, "tts_ttfb", 120);
	ck_num(h, "e2e", 1040);
	/* Hops in the fixed order. */
	ck_assert_str_eq(h->child->string, "stt_first_partial");
	ck_assert_str_eq(h->child->next->next->next->next->next->string, "e2e");

	h = get(at(get(c, "turns"), 2), "hops");
	ck_num(h, "stt_final", 180.25);
	ck_num(h, "llm_ttft", 295.75);
	ck_num(h, "e2e", 1010);

	/* The text itself: trimmed fixed point, never float noise. */
	ck_assert_ptr_nonnull(strstr(out, "\"tts_ttfb\": 130.5\n"));
	ck_assert_ptr_nonnull(strstr(out, "\"stt_final\": 180.25,"));
	ck_assert_ptr_nonnull(strstr(out, "\"e2e\": 1040\n"));
	ck_assert_ptr_null(strstr(out, "1040.0"));
	ck_assert_ptr_nonnull(strstr(out, "\"answer_ms\": 160,"));

	ck_assert_int_eq(cJSON_GetArraySize(get(c, "tools")), 0);
	ck_assert_int_eq(cJSON_GetArraySize(get(c, "barge_ins")), 0);
	cJSON_Delete(j);
	free(out);
}
END_TEST

/* barge-in.jsonl: turn 1 interrupted, barge_in_stop 260; turn 3 is in the
 * report only (empty hops). */
START_TEST(test_barge_in)
{
	struct vagent_call_report r[2];
	char *out;
	cJSON *j;
	const cJSON *c, *t, *b;

	two_calls(r);
	out = to_json(r, 2, NULL, 0);
	j = parse(out);
	c = at(get(j, "calls"), 1);
	ck_num(c, "answer_ms", 100);
	ck_assert_int_eq(cJSON_GetArraySize(get(c, "turns")), 4);
	ck_num(at(get(c, "turns"), 0), "turn", 0);
	ck_num(get(at(get(c, "turns"), 0), "hops"), "tts_ttfb", 90);
	t = at(get(c, "turns"), 1);
	ck_num(t, "turn", 1);
	ck_assert(flag(t, "interrupted"));
	ck_num(get(t, "hops"), "e2e", 1000);
	t = at(get(c, "turns"), 2);
	ck_num(t, "turn", 2);
	ck_assert(!flag(t, "interrupted"));
	ck_num(get(t, "hops"), "llm_ttft", 10);
	ck_num(get(t, "hops"), "e2e", 620);
	t = at(get(c, "turns"), 3);
	ck_num(t, "turn", 3);
	ck_assert_ptr_null(str(t, "caller_text"));
	ck_assert_str_eq(str(t, "stt_text"), "thanks");
	ck_assert(cJSON_IsObject(get(t, "hops")));
	ck_assert_int_eq(cJSON_GetArraySize(get(t, "hops")), 0);
	ck_assert_ptr_nonnull(strstr(out, "\"hops\": {}"));

	ck_assert_int_eq(cJSON_GetArraySize(get(c, "barge_ins")), 1);
	b = at(get(c, "barge_ins"), 0);
	ck_num(b, "turn", 1);
	ck_num(b, "onset_ms", 6200);
	ck_num(b, "decision_ms", 6450);
	ck_num(b, "stop_ms", 260);
	cJSON_Delete(j);
	free(out);
}
END_TEST

/* Summary hops over clean-2turn + barge-in (docs/metrics.md). */
START_TEST(test_summary_hops)
{
	struct vagent_call_report r[2];
	char *out;
	cJSON *j;
	const cJSON *h, *m;

	two_calls(r);
	out = to_json(r, 2, NULL, 0);
	j = parse(out);
	h = get(get(j, "summary"), "hops");
	m = get(h, "e2e");
	ck_num(m, "n", 4);
	ck_num(m, "p50", 1000);
	ck_num(m, "p90", 1040);
	ck_num(m, "p95", 1040);
	ck_num(m, "p99", 1040);
	ck_num(m, "max", 1040);
	ck_num(m, "mean", 917.5);
	m = get(h, "answer");
	ck_num(m, "n", 2);
	ck_num(m, "p50", 100);
	ck_num(m, "max", 160);
	ck_num(m, "mean", 130);
	m = get(h, "barge_in_stop");
	ck_num(m, "n", 1);
	ck_num(m, "max", 260);
	m = get(h, "tts_ttfb");    /* 90 120 130 130.5 140 180 */
	ck_num(m, "n", 6);
	ck_num(m, "p50", 130);
	ck_num(m, "max", 180);
	ck_num(m, "mean", 131.75);
	m = get(h, "stt_first_partial");   /* 200 200 300 300 */
	ck_num(m, "n", 4);
	ck_num(m, "mean", 250);
	ck_assert(!has(h, "tool"));        /* n = 0: left out */
	/* Metrics in enum order. */
	ck_assert_str_eq(h->child->string, "stt_first_partial");
	ck_assert_str_eq(cJSON_GetArrayItem(h, cJSON_GetArraySize(h) - 1)->string, "answer");
	ck_assert_ptr_nonnull(strstr(out, "\"mean\": 917.5\n"));
	cJSON_Delete(j);
	free(out);
}
END_TEST

/* Cloud providers (fixtures/traces/providers.jsonl, its two calls): the
 * *_ttfb hops per turn and in the summary, and llm_ttft per provider since
 * two answered (openai, and the flow after a fallback). */
START_TEST(test_summary_per_provider)
{
	struct vagent_call_report r[2];
	size_t len = 0;
	char *trace = read_file(top_path("fixtures/traces/providers.jsonl"), &len), *out;
	cJSON *j;
	const cJSON *h, *p, *t;

	ck_assert_ptr_nonnull(trace);
	memset(r, 0, sizeof(r));
	r[0].name = "fallback";
	r[1].name = "cloud";
	for (int i = 0; i < 2; i++) {
		r[i].trace = trace;
		r[i].trace_len = len;
	}
	out = to_json(r, 2, NULL, 0);
	j = parse(out);
	t = at(get(at(get(j, "calls"), 0), "turns"), 0);
	ck_num(get(t, "hops"), "llm_ttfb", 40);
	ck_num(get(t, "hops"), "stt_ttfb", 150);
	ck_assert(!has(get(t, "hops"), "tts_net_ttfb"));
	h = get(get(j, "summary"), "hops");
	p = get(get(h, "llm_ttft"), "providers");
	ck_assert_int_eq(cJSON_GetArraySize(p), 2);
	ck_assert_str_eq(p->child->string, "flow");
	ck_num(get(p, "flow"), "n", 2);
	ck_num(get(p, "flow"), "p50", 30);
	ck_num(get(p, "flow"), "max", 210);
	ck_num(get(p, "openai"), "n", 1);
	ck_num(get(p, "openai"), "mean", 100);
	ck_num(get(h, "llm_ttfb"), "n", 2);
	ck_num(get(h, "llm_ttfb"), "max", 80);
	ck_assert(!has(get(h, "llm_ttfb"), "providers"));   /* openai alone */
	ck_num(get(h, "tts_net_ttfb"), "p50", 90);
	ck_assert(!has(get(h, "e2e"), "providers"));
	cJSON_Delete(j);
	free(out);
	free(trace);
}
END_TEST

/* WER of stt_text against caller_text, english normalizer, per call and
 * corpus (total errors / total reference words). */
START_TEST(test_wer)
{
	struct vagent_call_report r[2];
	char *out;
	cJSON *j;
	const cJSON *w;

	/* One turn alone: "my order is four two" vs "my order is for two". */
	two_calls(r);
	r[0].n_turns = 1;
	out = to_json(r, 1, NULL, 0);
	j = parse(out);
	w = get(at(get(j, "calls"), 0), "wer");
	ck_num(w, "wer", 0.2);
	ck_num(w, "sub", 1);
	ck_num(w, "del", 0);
	ck_num(w, "ins", 0);
	ck_num(w, "ref_words", 5);
	ck_assert_ptr_nonnull(strstr(out, "\"wer\": 0.2,"));
	cJSON_Delete(j);
	free(out);

	two_calls(r);
	out = to_json(r, 2, NULL, 0);
	j = parse(out);
	/* clean: 1 sub of 5 + 3 ("for 2 people") = 1/8 */
	w = get(at(get(j, "calls"), 0), "wer");
	ck_num(w, "wer", 0.125);
	ck_num(w, "sub", 1);
	ck_num(w, "ref_words", 8);
	/* barge: 5 right + "wait" deleted of 4 = 1/9; turn 3 has no caller_text */
	w = get(at(get(j, "calls"), 1), "wer");
	ck_num(w, "wer", 0.111111);
	ck_num(w, "sub", 0);
	ck_num(w, "del", 1);
	ck_num(w, "ref_words", 9);
	/* corpus: 2 / 17, rounded to 6 decimals */
	w = get(get(j, "summary"), "wer");
	ck_num(w, "wer", 0.117647);
	ck_num(w, "sub", 1);
	ck_num(w, "del", 1);
	ck_num(w, "ins", 0);
	ck_num(w, "ref_words", 17);
	ck_assert_ptr_nonnull(strstr(out, "\"wer\": 0.117647,"));
	cJSON_Delete(j);
	free(out);
}
END_TEST

/* No turn with a caller_text: wer null, per call and in the summary. */
START_TEST(test_wer_null)
{
	const struct vagent_session_turn turns[] = {
		{ 1, NULL, S("hello"), S("hi"), false },
	};
	struct vagent_call_report r = { .name = "c", .turns = turns, .n_turns = 1 };
	char *out = to_json(&r, 1, NULL, 0);
	cJSON *j = parse(out);

	ck_assert(cJSON_IsNull(get(at(get(j, "calls"), 0), "wer")));
	ck_assert(cJSON_IsNull(get(get(j, "summary"), "wer")));
	cJSON_Delete(j);
	free(out);
}
END_TEST

START_TEST(test_containment)
{
	struct vagent_call_report r[2];
	char *out;
	cJSON *j;

	two_calls(r);
	out = to_json(r, 2, NULL, 0);
	j = parse(out);
	ck_num(get(j, "summary"), "containment_rate", 0.5);
	cJSON_Delete(j);
	free(out);

	r[1].escalated = false;
	out = to_json(r, 2, NULL, 0);
	j = parse(out);
	ck_num(get(j, "summary"), "containment_rate", 1);
	cJSON_Delete(j);
	free(out);

	r[0].escalated = r[1].escalated = true;
	out = to_json(r, 2, NULL, 0);
	j = parse(out);
	ck_num(get(j, "summary"), "containment_rate", 0);
	cJSON_Delete(j);
	free(out);
}
END_TEST

START_TEST(test_expectations)
{
	struct vagent_call_report r[2];
	char *out;
	cJSON *j;
	const cJSON *e;

	two_calls(r);
	out = to_json(r, 2, NULL, 0);
	j = parse(out);
	e = get(at(get(j, "calls"), 0), "expectations");
	ck_assert_int_eq(cJSON_GetArraySize(e), 2);
	ck_assert_str_eq(str(at(e, 0), "name"), "e2e under 1500 ms");
	ck_assert(flag(at(e, 0), "passed"));
	ck_assert_str_eq(str(at(e, 0), "detail"), "max 1040 ms");
	ck_assert_str_eq(str(at(e, 1), "name"), "books a table");
	ck_assert(!flag(at(e, 1), "passed"));
	ck_assert_ptr_null(str(at(e, 1), "detail"));
	ck_assert_int_eq(cJSON_GetArraySize(get(at(get(j, "calls"), 1), "expectations")), 0);
	cJSON_Delete(j);
	free(out);
}
END_TEST

START_TEST(test_slo_passthrough)
{
	static const struct vagent_slo_result slos[] = {
		{ "e2e.p95<=1000ms", true, 1040, false },
		{ "wer<=0.10", true, 0.117647, false },
		{ "tool.p95<500ms", false, 0, false },
		{ "answer.max<200ms", true, 160, true },
	};
	struct vagent_call_report r[2];
	char *out;
	cJSON *j;
	const cJSON *s;

	two_calls(r);
	out = to_json(r, 2, slos, 4);
	j = parse(out);
	s = get(get(j, "summary"), "slo");
	ck_assert_int_eq(cJSON_GetArraySize(s), 4);
	ck_assert_str_eq(str(at(s, 0), "expr"), "e2e.p95<=1000ms");
	ck_num(at(s, 0), "value", 1040);
	ck_assert(!flag(at(s, 0), "passed"));
	ck_num(at(s, 1), "value", 0.117647);
	ck_assert_str_eq(str(at(s, 2), "expr"), "tool.p95<500ms");
	ck_assert(cJSON_IsNull(get(at(s, 2), "value")));
	ck_assert(!flag(at(s, 2), "passed"));
	ck_assert(flag(at(s, 3), "passed"));
	ck_assert_ptr_nonnull(strstr(out, "\"value\": null,"));
	cJSON_Delete(j);
	free(out);
}
END_TEST

/* tool-timeout.jsonl: tool calls with their outcome and duration. */
START_TEST(test_tools)
{
	const struct vagent_session_turn turns[] = {
		{ 1, S("what is my balance"), S("what is my balance"), S("One moment please."), false },
	};
	struct vagent_call_report r = {
		.name = "tools", .passed = true, .turns = turns, .n_turns = 1,
		.trace = tools_trace, .trace_len = tools_len,
	};
	char *out = to_json(&r, 1, NULL, 0);
	cJSON *j = parse(out);
	const cJSON *c = at(get(j, "calls"), 0), *t, *m;

	ck_num(c, "answer_ms", 50);
	t = get(c, "tools");
	ck_assert_int_eq(cJSON_GetArraySize(t), 4);
	ck_num(at(t, 0), "turn", 1);
	ck_assert_str_eq(str(at(t, 0), "name"), "get_balance");
	ck_assert_str_eq(str(at(t, 0), "id"), "call_1");
	ck_assert_str_eq(str(at(t, 0), "outcome"), "timeout");
	ck_num(at(t, 0), "tool_ms", 3000);
	ck_assert_str_eq(str(at(t, 1), "outcome"), "end");
	ck_num(at(t, 1), "tool_ms", 290.5);
	ck_assert_str_eq(str(at(t, 2), "name"), "lookup");
	ck_assert_ptr_null(str(at(t, 2), "outcome"));
	ck_assert(!has(at(t, 2), "tool_ms"));
	ck_assert_str_eq(str(at(t, 3), "outcome"), "error");
	ck_num(at(t, 3), "tool_ms", 70);
	m = get(get(get(j, "summary"), "hops"), "tool");
	ck_num(m, "n", 3);
	ck_num(m, "p50", 290.5);
	ck_num(m, "max", 3000);
	ck_num(get(at(get(c, "turns"), 0), "hops"), "e2e", 1710);
	cJSON_Delete(j);
	free(out);
}
END_TEST

/* A report without a trace: its turns with empty hops, no answer_ms, and
 * nothing in the summary's hops. */
START_TEST(test_no_trace)
{
	struct vagent_call_report r[2];
	char *out;
	cJSON *j;
	const cJSON *c;

	two_calls(r);
	r[0].trace = NULL;
	r[0].trace_len = 0;
	out = to_json(r, 1, NULL, 0);
	j = parse(out);
	c = at(get(j, "calls"), 0);
	ck_assert(!has(c, "answer_ms"));
	ck_assert_int_eq(cJSON_GetArraySize(get(c, "turns")), 2);
	ck_num(at(get(c, "turns"), 0), "turn", 1);
	ck_assert_int_eq(cJSON_GetArraySize(get(at(get(c, "turns"), 0), "hops")), 0);
	ck_assert_int_eq(cJSON_GetArraySize(get(at(get(c, "turns"), 1), "hops")), 0);
	ck_assert_int_eq(cJSON_GetArraySize(get(c, "tools")), 0);
	ck_assert_int_eq(cJSON_GetArraySize(get(c, "barge_ins")), 0);
	ck_assert_int_eq(cJSON_GetArraySize(get(get(j, "summary"), "hops")), 0);
	ck_num(get(get(j, "summary"), "wer"), "ref_words", 8);
	cJSON_Delete(j);
	free(out);
}
END_TEST

/* A trace holding two calls: the report takes the call of its name. */
START_TEST(test_trace_of_several_calls)
{
	struct vagent_call_report r[2];
	size_t len = clean_len + barge_len;
	char *both = malloc(len + 1), *out;
	cJSON *j;
	const cJSON *h;

	ck_assert_ptr_nonnull(both);
	memcpy(both, clean_trace, clean_len);
	memcpy(both + clean_len, barge_trace, barge_len);
	two_calls(r);
	r[1].trace = both;
	r[1].trace_len = len;
	out = to_json(&r[1], 1, NULL, 0);
	j = parse(out);
	ck_num(at(get(j, "calls"), 0), "answer_ms", 100);
	ck_assert_int_eq(cJSON_GetArraySize(get(at(get(j, "calls"), 0), "barge_ins")), 1);
	h = get(get(get(j, "summary"), "hops"), "e2e");
	ck_num(h, "n", 2);     /* barge's only: 1000, 620 */
	ck_num(h, "mean", 810);
	cJSON_Delete(j);
	free(out);
	free(both);
}
END_TEST

/* Report turns out of order come out ascending, merged with the trace's. */
START_TEST(test_turn_order)
{
	const struct vagent_session_turn turns[] = {
		{ 2, S("for two people"), S("for two people"), S("A table for two."), false },
		{ 1, S("my order is four two"), S("my order is for two"), S("Sure."), false },
	};
	struct vagent_call_report r = {
		.name = "clean", .turns = turns, .n_turns = 2,
		.trace = clean_trace, .trace_len = clean_len,
	};
	char *out = to_json(&r, 1, NULL, 0);
	cJSON *j = parse(out);
	const cJSON *t = get(at(get(j, "calls"), 0), "turns");

	ck_assert_int_eq(cJSON_GetArraySize(t), 3);
	ck_num(at(t, 0), "turn", 0);
	ck_num(at(t, 1), "turn", 1);
	ck_assert_str_eq(str(at(t, 1), "agent_text"), "Sure.");
	ck_num(get(at(t, 1), "hops"), "e2e", 1040);
	ck_num(at(t, 2), "turn", 2);
	ck_num(get(at(t, 2), "hops"), "e2e", 1010);
	cJSON_Delete(j);
	free(out);
}
END_TEST

/* A turn number listed twice: the trace's metrics go with the first. */
START_TEST(test_duplicate_turn)
{
	const struct vagent_session_turn turns[] = {
		{ 1, NULL, S("first"), NULL, false },
		{ 1, NULL, S("second"), NULL, false },
	};
	struct vagent_call_report r = {
		.name = "clean", .turns = turns, .n_turns = 2,
		.trace = clean_trace, .trace_len = clean_len,
	};
	char *out = to_json(&r, 1, NULL, 0);
	cJSON *j = parse(out);
	const cJSON *t = get(at(get(j, "calls"), 0), "turns");

	ck_assert_int_eq(cJSON_GetArraySize(t), 4);   /* 0, 1, 1, 2 */
	ck_assert_str_eq(str(at(t, 1), "stt_text"), "first");
	ck_num(get(at(t, 1), "hops"), "e2e", 1040);
	ck_assert_str_eq(str(at(t, 2), "stt_text"), "second");
	ck_assert_int_eq(cJSON_GetArraySize(get(at(t, 2), "hops")), 0);
	ck_num(at(t, 3), "turn", 2);
	cJSON_Delete(j);
	free(out);
}
END_TEST

/* Texts are escaped; invalid UTF-8 bytes become U+FFFD. */
START_TEST(test_string_escaping)
{
	const struct vagent_session_turn turns[] = {
		{ 1, S("say \"hi\"\\ now\n\tok\x01 caf\xc3\xa9 \xff!"), S("x"), NULL, false },
	};
	struct vagent_call_report r = { .name = "q\"uote", .turns = turns, .n_turns = 1 };
	char *out = to_json(&r, 1, NULL, 0);
	cJSON *j = parse(out);
	const cJSON *t = at(get(at(get(j, "calls"), 0), "turns"), 0);

	ck_assert_str_eq(str(at(get(j, "calls"), 0), "name"), "q\"uote");
	ck_assert_str_eq(str(t, "caller_text"), "say \"hi\"\\ now\n\tok\x01 caf\xc3\xa9 \xef\xbf\xbd!");
	ck_assert_ptr_null(str(t, "agent_text"));
	ck_assert_ptr_nonnull(strstr(out, "\\u0001"));
	cJSON_Delete(j);
	free(out);
}
END_TEST

/* The whole text of a run with no calls: the layout docs/result.md shows. */
START_TEST(test_exact_text_no_calls)
{
	static const struct vagent_slo_result slo = { "e2e.p95<=1000ms", false, 0, false };
	char *out = to_json(NULL, 0, &slo, 1);
	char want[1024];

	snprintf(want, sizeof(want),
		 "{\n"
		 "  \"version\": \"%s\",\n"
		 "  \"schema\": 1,\n"
		 "  \"calls\": [],\n"
		 "  \"summary\": {\n"
		 "    \"calls\": 0,\n"
		 "    \"passed\": 0,\n"
		 "    \"hops\": {},\n"
		 "    \"wer\": null,\n"
		 "    \"containment_rate\": null,\n"
		 "    \"slo\": [\n"
		 "      {\n"
		 "        \"expr\": \"e2e.p95<=1000ms\",\n"
		 "        \"value\": null,\n"
		 "        \"passed\": false\n"
		 "      }\n"
		 "    ]\n"
		 "  }\n"
		 "}\n", vagent_version());
	ck_assert_str_eq(out, want);
	free(out);
}
END_TEST

/* The example of docs/result.md, byte for byte (fixtures/results/
 * clean-barge.json; its "version" line is replaced by this version's). */
START_TEST(test_golden_example)
{
	const struct vagent_session_turn bt[] = {
		{ 1, S("what are your opening hours"), S("what are your opening hours"),
		  S("We open at nine."), true },
		{ 2, S("wait what about sunday"), S("what about sunday"), S("Ten on Sundays."), false },
	};
	static const struct vagent_expectation_result ce[] = {
		{ "e2e under 1500 ms", true, "max 1040 ms" },
	};
	static const struct vagent_expectation_result be[] = {
		{ "no handoff", false, "escalated: caller asked for a human" },
	};
	static const struct vagent_slo_result slos[] = {
		{ "e2e.p95<=1000ms", true, 1040, false },
		{ "wer<=0.15", true, 0.117647, true },
		{ "tool.p95<500ms", false, 0, false },
	};
	struct vagent_call_report r[2];
	size_t len;
	char *golden = read_file(top_path("fixtures/results/clean-barge.json"), &len);
	char *out, *v, *eol, want[16384];

	ck_assert_ptr_nonnull(golden);
	two_calls(r);
	r[0].expectations = ce;
	r[0].n_expectations = 1;
	r[1].turns = bt;
	r[1].n_turns = 2;
	r[1].expectations = be;
	r[1].n_expectations = 1;
	out = to_json(r, 2, slos, 3);
	v = strstr(golden, "  \"version\": \"");
	ck_assert_ptr_nonnull(v);
	eol = strchr(v, '\n');
	ck_assert_ptr_nonnull(eol);
	ck_assert(len < sizeof(want) - 64);
	snprintf(want, sizeof(want), "%.*s  \"version\": \"%s\",%s", (int)(v - golden), golden,
		 vagent_version(), eol);
	ck_assert_str_eq(out, want);
	free(out);
	free(golden);
}
END_TEST

START_TEST(test_deterministic)
{
	static const struct vagent_slo_result slos[] = {
		{ "e2e.p95<=1000ms", true, 1040, false },
		{ "tool.p95<500ms", false, 0, false },
	};
	struct vagent_call_report r[2];
	char *a, *b;

	two_calls(r);
	a = to_json(r, 2, slos, 2);
	b = to_json(r, 2, slos, 2);
	ck_assert_str_eq(a, b);
	free(a);
	free(b);
}
END_TEST

START_TEST(test_malformed_trace)
{
	struct vagent_call_report r[2];
	struct vagent_error err;
	char untouched[] = "untouched", *out = untouched;

	two_calls(r);
	r[1].name = "broken";
	r[1].trace = bad_trace;
	r[1].trace_len = bad_len;
	ck_assert_int_eq(vagent_result_to_json(r, 2, NULL, 0, &out, &err), VAGENT_EFORMAT);
	ck_assert_ptr_null(out);
	ck_assert_int_eq(err.status, VAGENT_EFORMAT);
	ck_assert_str_eq(err.message, "call broken: broken:3: not valid JSON");
}
END_TEST

START_TEST(test_bad_arguments)
{
	struct vagent_call_report r[2];
	struct vagent_error err;
	char *out = NULL;

	two_calls(r);
	ck_assert_int_eq(vagent_result_to_json(r, 2, NULL, 0, NULL, &err), VAGENT_EINVAL);
	ck_assert_int_eq(vagent_result_to_json(r, 2, NULL, 0, NULL, NULL), VAGENT_EINVAL);
	ck_assert_int_eq(vagent_result_to_json(NULL, 1, NULL, 0, &out, &err), VAGENT_EINVAL);
	ck_assert_ptr_null(out);
	ck_assert_int_eq(vagent_result_to_json(r, 2, NULL, 1, &out, &err), VAGENT_EINVAL);
	ck_assert_ptr_null(out);
	/* An empty trace is a call with no events: fine. */
	r[0].trace = "";
	r[0].trace_len = 0;
	ck_assert_int_eq(vagent_result_to_json(r, 1, NULL, 0, &out, &err), VAGENT_OK);
	free(out);
}
END_TEST

Suite *suite_result(void)
{
	Suite *s = suite_create("result");
	TCase *tc = tcase_create("result");

	tcase_add_checked_fixture(tc, load_traces, free_traces);
	tcase_add_test(tc, test_top_level);
	tcase_add_test(tc, test_call_turns_and_hops);
	tcase_add_test(tc, test_barge_in);
	tcase_add_test(tc, test_summary_hops);
	tcase_add_test(tc, test_summary_per_provider);
	tcase_add_test(tc, test_wer);
	tcase_add_test(tc, test_wer_null);
	tcase_add_test(tc, test_containment);
	tcase_add_test(tc, test_expectations);
	tcase_add_test(tc, test_slo_passthrough);
	tcase_add_test(tc, test_tools);
	tcase_add_test(tc, test_no_trace);
	tcase_add_test(tc, test_trace_of_several_calls);
	tcase_add_test(tc, test_turn_order);
	tcase_add_test(tc, test_duplicate_turn);
	tcase_add_test(tc, test_string_escaping);
	tcase_add_test(tc, test_exact_text_no_calls);
	tcase_add_test(tc, test_golden_example);
	tcase_add_test(tc, test_deterministic);
	tcase_add_test(tc, test_malformed_trace);
	tcase_add_test(tc, test_bad_arguments);
	suite_add_tcase(s, tc);
	return s;
}
