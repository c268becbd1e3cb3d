/*
 * check_expect.c — expectations and SLO expressions (lib/expect): the SLO
 * parser's good and bad expressions, strict parsing of the expectations
 * list with FILE:LINE: field problems, every kind passing where it holds
 * and failing with its detail where it does not (on a hand-written trace
 * and session result), a simulated call, and a call on the embedded stack
 * whose recording is transcribed ("heard") and scanned for card numbers.
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "vagent.h"
#include "support/harness.h"

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

/* ---- SLO expressions ---- */

static void slo_ok(const char *expr, bool is_wer, const char *metric, const char *stat,
		   vagent_slo_op op, double value)
{
	struct vagent_slo s;
	struct vagent_error err;

	ck_assert_msg(vagent_slo_parse(expr, &s, &err) == VAGENT_OK, "%s: %s", expr,
		      err.message);
	ck_assert_int_eq(s.is_wer, is_wer);
	if (!is_wer) {
		ck_assert_str_eq(vagent_metric_name(s.metric), metric);
		ck_assert_str_eq(s.stat, stat);
	}
	ck_assert_int_eq(s.op, op);
	ck_assert_msg(s.value > value - 1e-9 && s.value < value + 1e-9, "%s: %g", expr, s.value);
}

static void slo_bad(const char *expr, const char *msg)
{
	struct vagent_slo s;
	struct vagent_error err;

	ck_assert_int_eq(vagent_slo_parse(expr, &s, &err), VAGENT_EINVAL);
	ck_assert_str_eq(err.message, msg);
}

START_TEST(test_slo_parse_good)
{
	struct vagent_slo s;

	slo_ok("e2e.p95<=1000ms", false, "e2e", "p95", VAGENT_SLO_LE, 1000);
	slo_ok("stt_first_partial.p95<250ms", false, "stt_first_partial", "p95",
	       VAGENT_SLO_LT, 250);
	slo_ok("barge_in_stop.max<200ms", false, "barge_in_stop", "max", VAGENT_SLO_LT, 200);
	slo_ok("e2e.p90 <= 1.5 s", false, "e2e", "p90", VAGENT_SLO_LE, 1500);
	slo_ok("  tool.mean>=20  ", false, "tool", "mean", VAGENT_SLO_GE, 20);
	slo_ok("answer.p99.9>0.5s", false, "answer", "p99.9", VAGENT_SLO_GT, 500);
	slo_ok("llm_ttft.min>0", false, "llm_ttft", "min", VAGENT_SLO_GT, 0);
	slo_ok("wer<=0.10", true, NULL, NULL, VAGENT_SLO_LE, 0.10);
	slo_ok("wer < 12.5%", true, NULL, NULL, VAGENT_SLO_LT, 0.125);
	ck_assert_int_eq(vagent_slo_parse(" e2e.p95 <= 1 s ", &s, NULL), VAGENT_OK);
	ck_assert_str_eq(s.expr, "e2e.p95 <= 1 s");
	ck_assert_str_eq(vagent_slo_op_name(VAGENT_SLO_GE), ">=");
}
END_TEST

START_TEST(test_slo_parse_bad)
{
	slo_bad("", "SLO \"\": empty expression");
	slo_bad("e2s.p95<1s", "SLO \"e2s.p95<1s\": unknown metric \"e2s\" (one of "
		"stt_first_partial, endpoint, stt_final, llm_ttft, tool, tts_ttfb, e2e, "
		"barge_in_stop, answer, stt_ttfb, llm_ttfb, tts_net_ttfb; or wer)");
	slo_bad("e2e<1s", "SLO \"e2e<1s\": \"e2e\" needs a statistic: e2e.p95, e2e.max, ...");
	slo_bad("e2e.p42x<1s", "SLO \"e2e.p42x<1s\": unknown statistic \"p42x\" (p50, p90, "
		"p95, p99, any pN with 0 < N <= 100, min, max, mean)");
	slo_bad("e2e.p0<1s", "SLO \"e2e.p0<1s\": unknown statistic \"p0\" (p50, p90, "
		"p95, p99, any pN with 0 < N <= 100, min, max, mean)");
	slo_bad("e2e.p95 1000ms", "SLO \"e2e.p95 1000ms\": missing operator (<, <=, > or >=) "
		"after \"e2e.p95\"");
	slo_bad("e2e.p95==1000ms", "SLO \"e2e.p95==1000ms\": operator must be <, <=, > or >= "
		"(not \"==\")");
	slo_bad("e2e.p95<=", "SLO \"e2e.p95<=\": missing value after \"<=\"");
	slo_bad("e2e.p95<=-5ms", "SLO \"e2e.p95<=-5ms\": value \"-5ms\" is not a non-negative "
		"number");
	slo_bad("e2e.p95<=fast", "SLO \"e2e.p95<=fast\": value \"fast\" is not a non-negative "
		"number");
	slo_bad("e2e.p95<=10%", "SLO \"e2e.p95<=10%\": \"%\" is for wer; e2e takes ms or s");
	slo_bad("e2e.p95<=1min", "SLO \"e2e.p95<=1min\": unknown unit \"min\" (ms or s)");
	slo_bad("wer<=10ms", "SLO \"wer<=10ms\": wer is a fraction (0.1) or a percentage (10%), "
		"not \"ms\"");
	slo_bad("e2e.p95<=1000ms and more", "SLO \"e2e.p95<=1000ms and more\": unexpected "
		"\"and more\" after the value");
	slo_bad("<=1000ms", "SLO \"<=1000ms\": expected METRIC.STAT OP VALUE, e.g. "
		"e2e.p95<=1000ms");
	{
		char longer[120];
		struct vagent_error err;

		snprintf(longer, sizeof(longer), "e2e.p95<=%0100d", 1);
		ck_assert_int_eq(vagent_slo_parse(longer, NULL, &err), VAGENT_EINVAL);
		ck_assert_ptr_nonnull(strstr(err.message, "\": longer than 95 characters"));
	}
}
END_TEST

START_TEST(test_slo_eval)
{
	struct vagent_stats *st = vagent_stats_new();
	struct vagent_slo s;
	struct vagent_slo_result r;
	char detail[200];

	ck_assert_int_eq(vagent_stats_add(st, VAGENT_METRIC_E2E, 800000), VAGENT_OK);
	ck_assert_int_eq(vagent_stats_add(st, VAGENT_METRIC_E2E, 1210500), VAGENT_OK);

	ck_assert_int_eq(vagent_slo_parse("e2e.p95<=1000ms", &s, NULL), VAGENT_OK);
	vagent_slo_eval(&s, st, false, 0, &r, detail, sizeof(detail));
	ck_assert(!r.passed);
	ck_assert(r.has_value);
	ck_assert_ptr_eq(r.expr, s.expr);
	ck_assert_double_eq_tol(r.value, 1210.5, 1e-9);
	ck_assert_str_eq(detail, "e2e.p95 = 1210.5 ms > 1000 ms");

	ck_assert_int_eq(vagent_slo_parse("e2e.p50<1.5s", &s, NULL), VAGENT_OK);
	vagent_slo_eval(&s, st, false, 0, &r, detail, sizeof(detail));
	ck_assert(r.passed);
	ck_assert_str_eq(detail, "e2e.p50 = 800 ms < 1500 ms");

	/* a missing metric fails, never passes silently */
	ck_assert_int_eq(vagent_slo_parse("barge_in_stop.max<200ms", &s, NULL), VAGENT_OK);
	vagent_slo_eval(&s, st, false, 0, &r, detail, sizeof(detail));
	ck_assert(!r.passed);
	ck_assert(!r.has_value);
	ck_assert_str_eq(detail, "barge_in_stop.max: no samples of barge_in_stop");
	vagent_slo_eval(&s, NULL, false, 0, &r, NULL, 0);
	ck_assert(!r.passed);

	ck_assert_int_eq(vagent_slo_parse("wer<=10%", &s, NULL), VAGENT_OK);
	vagent_slo_eval(&s, st, true, 0.125, &r, detail, sizeof(detail));
	ck_assert(!r.passed);
	ck_assert_str_eq(detail, "wer = 12.5% > 10%");
	vagent_slo_eval(&s, st, true, 0.1, &r, detail, sizeof(detail));
	ck_assert(r.passed);
	vagent_slo_eval(&s, st, false, 0, &r, detail, sizeof(detail));
	ck_assert(!r.passed);
	ck_assert_str_eq(detail, "wer: no WER (no turn with a known caller text)");
	vagent_stats_free(st);
}
END_TEST

/* ---- parsing ---- */

static struct vagent_expectations *parse_ok(const char *text)
{
	struct vagent_expectations *x = NULL;
	struct vagent_error err;

	ck_assert_msg(vagent_expectations_parse(text, strlen(text), "s.json", "expectations",
						&x, NULL, &err) == VAGENT_OK, "%s", err.message);
	return x;
}

START_TEST(test_parse_vocabulary)
{
	const char *text =
		"{\n"
		"  \"expectations\": [\n"
		"    { \"tool_called\": \"order_status\", \"args\": { \"order_number\": \"40721\" }, \"times\": 1 },\n"
		"    { \"tool_not_called\": \"refund\" },\n"
		"    { \"agent_said\": \"shipped|processing\" },\n"
		"    { \"agent_never_said\": \"card number\", \"heard\": true },\n"
		"    { \"escalated\": true, \"reason\": \"guard_limit\" },\n"
		"    { \"escalated\": false, \"name\": \"stays with the bot\" },\n"
		"    { \"transfer_package\": [\"slots.order_number\", \"actions[0].tool\"] },\n"
		"    { \"transfer_package\": { \"slots.amount\": \"/^12/\" } },\n"
		"    { \"event\": \"agent.audio_stop\", \"within_ms\": 300, \"of\": \"barge_in\" },\n"
		"    { \"latency\": \"e2e.p90<=1500ms\" },\n"
		"    { \"wer_max\": 0.2 },\n"
		"    { \"disclosure_within_ms\": 10000 },\n"
		"    { \"no_card_number\": true, \"recording\": false },\n"
		"    { \"end_reason\": \"agent_hangup\" },\n"
		"    { \"turns\": { \"min\": 2, \"max\": 6 } },\n"
		"    { \"turns\": 3 },\n"
		"    { \"filler\": true },\n"
		"    { \"barge_in\": false }\n"
		"  ]\n"
		"}\n";
	static const char *const names[] = {
		"tool_called order_status", "tool_not_called refund",
		"agent_said /shipped|processing/", "agent_never_said /card number/ (heard)",
		"escalated guard_limit", "stays with the bot",
		"transfer_package slots.order_number, actions[0].tool",
		"transfer_package slots.amount",
		"agent.audio_stop within 300 ms of barge_in", "latency e2e.p90<=1500ms",
		"wer_max 0.2", "disclosure within 10000 ms", "no_card_number",
		"end_reason agent_hangup", "turns 2..6", "turns 3", "filler", "no barge_in",
	};
	struct vagent_expectations *x = parse_ok(text);
	struct vagent_expectation_outcomes *o = NULL;
	struct vagent_call_evidence ev = { .name = "c" };

	ck_assert_uint_eq(vagent_expectations_count(x), ARRAY_SIZE(names));
	/* "heard" needs the recording */
	ck_assert(vagent_expectations_need_recording(x));
	/* the names, through an evaluation on an empty call */
	ck_assert_int_eq(vagent_expectations_eval(x, &ev, &o, NULL), VAGENT_OK);
	ck_assert_uint_eq(o->n, ARRAY_SIZE(names));
	for (size_t i = 0; i < o->n; i++)
		ck_assert_str_eq(o->results[i].name, names[i]);
	vagent_expectation_outcomes_free(o);
	vagent_expectations_free(x);

	/* no key: an empty list; no recording needed */
	x = parse_ok("{ \"agent\": \"a.json\" }");
	ck_assert_uint_eq(vagent_expectations_count(x), 0);
	ck_assert(!vagent_expectations_need_recording(x));
	vagent_expectations_free(x);
	x = parse_ok("{ \"expectations\": [ { \"no_card_number\": true } ] }");
	ck_assert(vagent_expectations_need_recording(x));
	vagent_expectations_free(x);
	x = parse_ok("{ \"expectations\": [ { \"no_card_number\": true, \"recording\": false },"
		     " { \"agent_said\": \"hi\", \"heard\": false } ] }");
	ck_assert(!vagent_expectations_need_recording(x));
	vagent_expectations_free(x);
	vagent_expectations_free(NULL);
	ck_assert_uint_eq(vagent_expectations_count(NULL), 0);
}
END_TEST

START_TEST(test_parse_every_problem)
{
	const char *text =
		"{\n"                                                                  /* 1 */
		"  \"expectations\": [\n"                                              /* 2 */
		"    { \"tool_called\": \"order_status\", \"times\": -1 },\n"          /* 3 */
		"    { \"agent_said\": \"(unclosed\" },\n"                             /* 4 */
		"    { \"event\": \"agent.audio_stop\", \"within_ms\": 300, \"of\": \"barge\" },\n" /* 5 */
		"    { \"latency\": \"e2s.p95<1s\" },\n"                               /* 6 */
		"    { \"tool_called\": \"x\", \"colour\": \"red\" },\n"               /* 7 */
		"    { \"agent_said\": \"a\", \"escalated\": true },\n"                /* 8 */
		"    { \"wishes\": 3 },\n"                                             /* 9 */
		"    42,\n"                                                            /* 10 */
		"    { \"wer_max\": \"low\" },\n"                                      /* 11 */
		"    { \"escalated\": false, \"reason\": \"x\" },\n"                   /* 12 */
		"    { \"transfer_package\": [\"slots..x\"] },\n"                      /* 13 */
		"    { \"turns\": { \"min\": 5, \"max\": 2 } },\n"                     /* 14 */
		"    { \"no_card_number\": false },\n"                                 /* 15 */
		"    { \"tool_called\": \"y\", \"args\": { \"n\": \"/[/\" } },\n"      /* 16 */
		"    { \"event\": \"barge_in\", \"of\": \"turn.end\" },\n"             /* 17 */
		"    { \"heard\": true, \"agent_said\": \"hi\", \"name\": \"\" },\n"   /* 18 */
		"    { \"agent_said\": \"a++++++++++++++++++++++++\" },\n"             /* 19 */
		"    { \"end_reason\": \"/(((x{2})*)+)?/\" },\n"                      /* 20 */
		"    { \"tool_called\": \"line\\nbreak\", \"colour\\n\": 1 }\n"    /* 21 */
		"  ]\n"
		"}\n";
	static const char *const want[] = {
		"s.json:3: expectations[0].times: must be an integer 0..1000",
		"s.json:4: expectations[1].agent_said: bad regex \"(unclosed\": ",
		"s.json:5: expectations[2].of: unknown event type \"barge\" (docs/trace.md: ",
		"s.json:6: expectations[3].latency: \"e2s.p95<1s\": unknown metric \"e2s\" (one of ",
		"s.json:7: expectations[4].colour: unknown key \"colour\" (tool_called takes args, "
		"times, name)",
		"s.json:8: expectations[5]: has more than one kind: agent_said and escalated",
		"s.json:9: expectations[6]: needs one of tool_called, tool_not_called, ",
		"s.json:10: expectations[7]: must be an object with one of tool_called, ",
		"s.json:11: expectations[8].wer_max: must be a number >= 0 (a fraction: 0.2 is 20%)",
		"s.json:12: expectations[9].reason: a reason needs \"escalated\": true",
		"s.json:13: expectations[10].transfer_package[0]: must be a field path like "
		"\"slots.order_number\" or \"actions[0].tool\"",
		"s.json:14: expectations[11].turns: min 5 is above max 2",
		"s.json:15: expectations[12].no_card_number: must be true",
		"s.json:16: expectations[13].args.n: bad regex /[/: ",
		"s.json:17: expectations[14].within_ms: missing: the bound in ms",
		"s.json:18: expectations[15].name: must be a non-empty string",
		/* glibc's regcomp is exponential in nested repetitions */
		"s.json:19: expectations[16].agent_said: bad regex \"a++++++++++++++++++++++++\": "
		"regex nests repetitions more than 3 deep (like \"((a+)+)+\")",
		"s.json:20: expectations[17].end_reason: bad regex /(((x{2})*)+)?/: regex nests "
		"repetitions more than 3 deep",
		/* one line, whatever the file's strings hold */
		"s.json:21: expectations[18].colour : unknown key \"colour \" (tool_called takes "
		"args, times, name)",
	};
	struct vagent_expectations *x = (void *)1;
	struct vagent_diags d;
	struct vagent_error err;

	vagent_diags_init(&d);
	ck_assert_int_eq(vagent_expectations_parse(text, strlen(text), "s.json", "expectations",
						   &x, &d, &err), VAGENT_EINVAL);
	ck_assert_ptr_null(x);
	ck_assert_msg(d.n == ARRAY_SIZE(want), "%zu problems, first %s", d.n,
		      d.n ? d.lines[0] : "");
	for (size_t i = 0; i < d.n; i++)
		ck_assert_msg(!strncmp(d.lines[i], want[i], strlen(want[i])), "line %zu:\n%s\nwant\n%s",
			      i, d.lines[i], want[i]);
	/* the first problem is also the error */
	ck_assert_str_eq(err.message, d.lines[0]);
	vagent_diags_clear(&d);

	/* not JSON, wrong shapes */
	ck_assert_int_eq(vagent_expectations_parse("{\n  \"expectations\": [\n", 23, "s.json",
						   "expectations", &x, NULL, &err), VAGENT_EFORMAT);
	ck_assert_str_eq(err.message, "s.json:3: not valid JSON");
	ck_assert_int_eq(vagent_expectations_parse("{\n\"expectations\": {}\n}", 22, "s.json",
						   "expectations", &x, NULL, &err), VAGENT_EINVAL);
	ck_assert_str_eq(err.message, "s.json:2: expectations: must be an array of expectations");
	ck_assert_int_eq(vagent_expectations_parse("[]", 2, "c.json", "expectations", &x, NULL,
						   &err), VAGENT_EINVAL);
	ck_assert_str_eq(err.message, "c.json:1: the document is not a JSON object");
}
END_TEST

/* ---- evaluation on a hand-written call ---- */

/* The greeting (with the disclosure), an order lookup with a filler, a
 * barge-in on the answer, a request for a person: escalation and a warm
 * transfer. */
static const char call_trace[] =
	"{\"t_ms\":0.000,\"call\":\"c\",\"turn\":0,\"type\":\"call.start\"}\n"
	"{\"t_ms\":0.000,\"call\":\"c\",\"turn\":0,\"type\":\"tts.request\",\"text\":\"Hi, thanks for calling Acme.\"}\n"
	"{\"t_ms\":10.000,\"call\":\"c\",\"turn\":0,\"type\":\"tts.request\",\"text\":\"I'm an automated assistant.\"}\n"
	"{\"t_ms\":100.000,\"call\":\"c\",\"turn\":0,\"type\":\"tts.first_audio\"}\n"
	"{\"t_ms\":120.000,\"call\":\"c\",\"turn\":0,\"type\":\"agent.audio_start\"}\n"
	"{\"t_ms\":3000.000,\"call\":\"c\",\"turn\":0,\"type\":\"agent.audio_stop\",\"reason\":\"done\"}\n"
	"{\"t_ms\":4000.000,\"call\":\"c\",\"turn\":1,\"type\":\"caller.speech_start\"}\n"
	"{\"t_ms\":4300.000,\"call\":\"c\",\"turn\":1,\"type\":\"stt.partial\",\"text\":\"where is\"}\n"
	"{\"t_ms\":5500.000,\"call\":\"c\",\"turn\":1,\"type\":\"caller.speech_end\"}\n"
	"{\"t_ms\":5700.000,\"call\":\"c\",\"turn\":1,\"type\":\"stt.final\",\"text\":\"where is order four oh seven two one\"}\n"
	"{\"t_ms\":6000.000,\"call\":\"c\",\"turn\":1,\"type\":\"turn.end\"}\n"
	"{\"t_ms\":6010.000,\"call\":\"c\",\"turn\":1,\"type\":\"llm.request\",\"provider\":\"sim\"}\n"
	"{\"t_ms\":6200.000,\"call\":\"c\",\"turn\":1,\"type\":\"llm.first_token\"}\n"
	"{\"t_ms\":6210.000,\"call\":\"c\",\"turn\":1,\"type\":\"tool.start\",\"name\":\"order_status\",\"id\":\"t1\",\"args\":{\"order_number\":\"40721\",\"verbose\":true}}\n"
	"{\"t_ms\":6300.000,\"call\":\"c\",\"turn\":1,\"type\":\"filler\",\"text\":\"One moment please.\"}\n"
	"{\"t_ms\":6500.000,\"call\":\"c\",\"turn\":1,\"type\":\"tool.end\",\"name\":\"order_status\",\"id\":\"t1\",\"result\":{\"status\":\"shipped\"}}\n"
	"{\"t_ms\":6900.000,\"call\":\"c\",\"turn\":1,\"type\":\"tts.request\",\"text\":\"Order 4 0 7 2 1 has shipped.\"}\n"
	"{\"t_ms\":7000.000,\"call\":\"c\",\"turn\":1,\"type\":\"tts.first_audio\"}\n"
	"{\"t_ms\":7100.000,\"call\":\"c\",\"turn\":1,\"type\":\"agent.audio_start\"}\n"
	"{\"t_ms\":7900.000,\"call\":\"c\",\"turn\":2,\"type\":\"caller.speech_start\"}\n"
	"{\"t_ms\":8100.000,\"call\":\"c\",\"turn\":1,\"type\":\"barge_in\",\"onset_ms\":7900.000,\"decision_ms\":8100.000}\n"
	"{\"t_ms\":8180.000,\"call\":\"c\",\"turn\":1,\"type\":\"agent.audio_stop\",\"reason\":\"barge_in\"}\n"
	"{\"t_ms\":8900.000,\"call\":\"c\",\"turn\":2,\"type\":\"caller.speech_end\"}\n"
	"{\"t_ms\":9000.000,\"call\":\"c\",\"turn\":2,\"type\":\"stt.final\",\"text\":\"i want a person\"}\n"
	"{\"t_ms\":9300.000,\"call\":\"c\",\"turn\":2,\"type\":\"turn.end\"}\n"
	"{\"t_ms\":9310.000,\"call\":\"c\",\"turn\":2,\"type\":\"llm.request\",\"provider\":\"sim\"}\n"
	"{\"t_ms\":9400.000,\"call\":\"c\",\"turn\":2,\"type\":\"llm.first_token\"}\n"
	"{\"t_ms\":9400.000,\"call\":\"c\",\"turn\":2,\"type\":\"escalation\",\"reason\":\"human_requested\"}\n"
	"{\"t_ms\":9400.000,\"call\":\"c\",\"turn\":2,\"type\":\"transfer\",\"package\":{\"reason\":\"human_requested\",\"slots\":{\"order_number\":\"40721\",\"amount\":12.5},\"actions\":[{\"tool\":\"order_status\",\"outcome\":\"ok\"}]}}\n"
	"{\"t_ms\":9410.000,\"call\":\"c\",\"turn\":2,\"type\":\"tts.request\",\"text\":\"Please hold while I transfer you.\"}\n"
	"{\"t_ms\":9500.000,\"call\":\"c\",\"turn\":2,\"type\":\"tts.first_audio\"}\n"
	"{\"t_ms\":9520.000,\"call\":\"c\",\"turn\":2,\"type\":\"agent.audio_start\"}\n"
	"{\"t_ms\":11000.000,\"call\":\"c\",\"turn\":2,\"type\":\"agent.audio_stop\",\"reason\":\"done\"}\n"
	"{\"t_ms\":11000.000,\"call\":\"c\",\"turn\":2,\"type\":\"call.end\",\"reason\":\"transfer\"}\n";

static struct vagent_session_turn call_turns[] = {
	{ .turn = 0, .agent_text = "Hi, thanks for calling Acme. I'm an automated assistant." },
	{ .turn = 1, .caller_text = "Where is order four oh seven two one?",
	  .stt_text = "where is order four oh seven two one",
	  .agent_text = "Order 4 0 7 2 1 has shipped.", .interrupted = true },
	{ .turn = 2, .caller_text = "I want a person please.", .stt_text = "i want a person",
	  .agent_text = "Please hold while I transfer you." },
};

static char *store_phrases[] = { "automated assistant", "virtual assistant", NULL };

/* Evaluate one expectation (a JSON object) on `trace` with the call's
 * result; returns its detail (static) and checks pass/fail. */
static const char *eval_on(const char *trace, const char *item, bool want_pass,
			   const struct vagent_agent *agent, const char *const *texts,
			   size_t n_texts)
{
	static char detail[600];
	struct vagent_session_result res = { .name = "c", .end_reason = "transfer",
					     .n_turns = 3, .turns = call_turns };
	struct vagent_call_evidence ev = { .name = "c", .trace = trace,
					   .trace_len = strlen(trace), .result = &res,
					   .agent = agent, .texts = texts, .n_texts = n_texts };
	struct vagent_expectations *x;
	struct vagent_expectation_outcomes *o = NULL;
	struct vagent_error err;
	char doc[1024];

	snprintf(doc, sizeof(doc), "{ \"expectations\": [ %s ] }", item);
	x = parse_ok(doc);
	ck_assert_msg(vagent_expectations_eval(x, &ev, &o, &err) == VAGENT_OK, "%s", err.message);
	ck_assert_uint_eq(o->n, 1);
	snprintf(detail, sizeof(detail), "%s", o->results[0].detail);
	ck_assert_msg(o->results[0].passed == want_pass, "%s: %s", item, detail);
	ck_assert_uint_eq(o->failed, (want_pass ? 0 : 1));
	vagent_expectation_outcomes_free(o);
	vagent_expectations_free(x);
	return detail;
}

static void expect_detail(const char *item, bool pass, const char *detail)
{
	const char *got = eval_on(call_trace, item, pass, NULL, NULL, 0);

	ck_assert_msg(!strcmp(got, detail), "%s:\n got %s\nwant %s", item, got, detail);
}

START_TEST(test_eval_tools)
{
	expect_detail("{ \"tool_called\": \"order_status\", \"args\": { \"order_number\": \"40721\" }, "
		      "\"times\": 1 }", true, "order_status called 1 time, 1 with matching args: "
		      "\"{\\\"order_number\\\":\\\"40721\\\",\\\"verbose\\\":true}\"");
	expect_detail("{ \"tool_called\": \"order_status\" }", true, "order_status called 1 time");
	expect_detail("{ \"tool_called\": \"order_status\", \"args\": { \"order_number\": \"/^407/\", "
		      "\"verbose\": true } }", true, "order_status called 1 time, 1 with matching "
		      "args: \"{\\\"order_number\\\":\\\"40721\\\",\\\"verbose\\\":true}\"");
	expect_detail("{ \"tool_called\": \"order_status\", \"args\": { \"order_number\": \"12345\" } }",
		      false, "order_status called 1 time, 0 with matching args; args seen: "
		      "\"{\\\"order_number\\\":\\\"40721\\\",\\\"verbose\\\":true}\"");
	expect_detail("{ \"tool_called\": \"order_status\", \"args\": { \"order_number\": 40721 } }",
		      false, "order_status called 1 time, 0 with matching args; args seen: "
		      "\"{\\\"order_number\\\":\\\"40721\\\",\\\"verbose\\\":true}\"");
	expect_detail("{ \"tool_called\": \"order_status\", \"times\": 2 }", false,
		      "order_status called 1 time (expected 2)");
	expect_detail("{ \"tool_called\": \"refund\" }", false,
		      "refund called 0 times; tools called: order_status (1)");
	expect_detail("{ \"tool_not_called\": \"refund\" }", true,
		      "refund called 0 times; tools called: order_status (1)");
	expect_detail("{ \"tool_not_called\": \"order_status\" }", false,
		      "order_status called 1 time: \"{\\\"order_number\\\":\\\"40721\\\","
		      "\\\"verbose\\\":true}\"");
	/* not called with those args: passes */
	expect_detail("{ \"tool_not_called\": \"order_status\", \"args\": { \"order_number\": \"1\" } }",
		      true, "order_status called 1 time, 0 with matching args");
}
END_TEST

START_TEST(test_eval_said)
{
	expect_detail("{ \"agent_said\": \"has (shipped|left)\" }", true,
		      "/has (shipped|left)/ said in turn 1 at 7100 ms: \"Order 4 0 7 2 1 has shipped.\"");
	/* case-insensitive, over the texts of one utterance joined */
	expect_detail("{ \"agent_said\": \"ACME\\\\. i'm an\" }", true,
		      "/ACME\\. i'm an/ said in turn 0 at 120 ms: \"Hi, thanks for calling Acme. "
		      "I'm an automated assistant.\"");
	expect_detail("{ \"agent_said\": \"refund\" }", false,
		      "/refund/ not said in 3 agent utterances; last: \"Please hold while I "
		      "transfer you.\"");
	expect_detail("{ \"agent_never_said\": \"refund\" }", true,
		      "/refund/ not said in 3 agent utterances; last: \"Please hold while I "
		      "transfer you.\"");
	expect_detail("{ \"agent_never_said\": \"transfer you\" }", false,
		      "/transfer you/ said in turn 2 at 9520 ms: \"Please hold while I transfer you.\"");
	/* heard needs the recording */
	expect_detail("{ \"agent_said\": \"shipped\", \"heard\": true }", false,
		      "not evaluated: no recording of the call to transcribe");
}
END_TEST

START_TEST(test_eval_escalation_and_transfer)
{
	expect_detail("{ \"escalated\": true }", true, "escalated: human_requested at 9400 ms (turn 2)");
	expect_detail("{ \"escalated\": true, \"reason\": \"human_requested\" }", true,
		      "escalated: human_requested at 9400 ms (turn 2)");
	expect_detail("{ \"escalated\": true, \"reason\": \"/^human/\" }", true,
		      "escalated: human_requested at 9400 ms (turn 2)");
	expect_detail("{ \"escalated\": true, \"reason\": \"guard_limit\" }", false,
		      "escalated: human_requested at 9400 ms (turn 2), not guard_limit");
	expect_detail("{ \"escalated\": false }", false, "escalated: human_requested at 9400 ms (turn 2)");
	expect_detail("{ \"transfer_package\": [\"slots.order_number\", \"actions[0].tool\"] }",
		      true, "package has slots.order_number = \"40721\", actions[0].tool = "
		      "\"order_status\"");
	expect_detail("{ \"transfer_package\": { \"slots.order_number\": \"40721\", "
		      "\"slots.amount\": \"12.5\", \"reason\": \"/human/\" } }", true,
		      "package has slots.order_number = \"40721\", slots.amount = 12.5, "
		      "reason = \"human_requested\"");
	expect_detail("{ \"transfer_package\": [\"slots.card\"] }", false,
		      "package has no slots.card (it has order_number, amount)");
	expect_detail("{ \"transfer_package\": [\"actions[3].tool\"] }", false,
		      "package has no actions[3].tool");
	expect_detail("{ \"transfer_package\": { \"slots.order_number\": \"12345\" } }", false,
		      "package slots.order_number = \"40721\", not 12345");
	expect_detail("{ \"end_reason\": \"transfer\" }", true, "the call ended: transfer");
	expect_detail("{ \"end_reason\": \"/hangup/\" }", false, "the call ended: transfer");
}
END_TEST

START_TEST(test_eval_events_latency_wer)
{
	expect_detail("{ \"event\": \"agent.audio_stop\", \"within_ms\": 300, \"of\": \"barge_in\" }",
		      true, "1 barge_in, each followed by agent.audio_stop within 300 ms (max +80 ms)");
	expect_detail("{ \"event\": \"agent.audio_stop\", \"within_ms\": 50, \"of\": \"barge_in\" }",
		      false, "barge_in at 8100 ms (turn 1): next agent.audio_stop at 8180 ms, "
		      "+80 ms > 50 ms");
	expect_detail("{ \"event\": \"turn.end\", \"within_ms\": 500, \"of\": \"caller.speech_end\" }",
		      true, "2 caller.speech_end, each followed by turn.end within 500 ms (max +500 ms)");
	expect_detail("{ \"event\": \"tool.end\", \"within_ms\": 500, \"of\": \"turn.end\" }",
		      false, "turn.end at 9300 ms (turn 2): no tool.end after it");
	/* written at the same time, in either order */
	expect_detail("{ \"event\": \"escalation\", \"within_ms\": 0, \"of\": \"transfer\" }",
		      true, "1 transfer, each followed by escalation within 0 ms (max +0 ms)");
	expect_detail("{ \"event\": \"agent.audio_stop\", \"within_ms\": 300, \"of\": \"dtmf\" }",
		      false, "no dtmf in the call");
	/* e2e: 7100 - 5500 = 1600 ms, 9520 - 8900 = 620 ms */
	expect_detail("{ \"latency\": \"e2e.max<=2s\" }", true, "e2e.max = 1600 ms <= 2000 ms "
		      "(2 samples)");
	expect_detail("{ \"latency\": \"e2e.p50<1000ms\" }", true, "e2e.p50 = 620 ms < 1000 ms "
		      "(2 samples)");
	expect_detail("{ \"latency\": \"e2e.max<1000ms\" }", false, "e2e.max = 1600 ms >= "
		      "1000 ms (2 samples)");
	expect_detail("{ \"latency\": \"barge_in_stop.max<300ms\" }", true,
		      "barge_in_stop.max = 280 ms < 300 ms (1 sample)");
	expect_detail("{ \"latency\": \"answer.max<=100ms\" }", false,
		      "answer.max = 120 ms > 100 ms (1 sample)");
	/* english normalizer: 1 deletion ("please") in 13 reference words */
	expect_detail("{ \"latency\": \"wer<=5%\" }", false, "wer = 7.692% > 5%");
	expect_detail("{ \"wer_max\": 0.1 }", true, "wer 7.692% <= 10% (sub 0, del 1, ins 0 "
		      "of 13 words in 2 turns)");
	expect_detail("{ \"wer_max\": 0.05 }", false, "wer 7.692% > 5% (sub 0, del 1, ins 0 "
		      "of 13 words in 2 turns)");
	expect_detail("{ \"turns\": 2 }", true, "2 caller turns");
	expect_detail("{ \"turns\": { \"min\": 3 } }", false, "2 caller turns, expected 3..100000");
	expect_detail("{ \"filler\": true }", true, "1 filler, the first at 6300 ms (turn 1): "
		      "\"One moment please.\"");
	expect_detail("{ \"filler\": false }", false, "1 filler, the first at 6300 ms (turn 1): "
		      "\"One moment please.\"");
	expect_detail("{ \"barge_in\": true }", true, "1 barge-in, the first at 8100 ms (turn 1)");
	expect_detail("{ \"barge_in\": false }", false, "1 barge-in, the first at 8100 ms (turn 1)");
}
END_TEST

/* A bare trace: a metric it cannot give fails with a detail saying so;
 * the session result stands in for what the trace lacks. */
START_TEST(test_eval_missing_metric)
{
	const char *trace =
		"{\"t_ms\":0.000,\"call\":\"c\",\"turn\":0,\"type\":\"call.start\"}\n"
		"{\"t_ms\":5.000,\"call\":\"c\",\"turn\":0,\"type\":\"call.end\"}\n";
	const char *d = eval_on(trace, "{ \"latency\": \"e2e.p95<1s\" }", false, NULL, NULL, 0);

	ck_assert_str_eq(d, "e2e.p95: no samples of e2e");
	d = eval_on(trace, "{ \"disclosure_within_ms\": 1000, \"phrase\": \"assistant\" }",
		    false, NULL, NULL, 0);
	ck_assert_str_eq(d, "the agent never spoke");
	/* no reason in the trace: the session result's */
	d = eval_on(trace, "{ \"end_reason\": \"transfer\" }", true, NULL, NULL, 0);
	ck_assert_str_eq(d, "the call ended: transfer");
	d = eval_on(trace, "{ \"transfer_package\": [\"slots.x\"] }", false, NULL, NULL, 0);
	ck_assert_str_eq(d, "no transfer in the call");
	d = eval_on(trace, "{ \"escalated\": false }", true, NULL, NULL, 0);
	ck_assert_str_eq(d, "not escalated");
	/* no texts in the trace: what the agent said is the result's */
	d = eval_on(trace, "{ \"agent_said\": \"has shipped\" }", true, NULL, NULL, 0);
	ck_assert_str_eq(d, "/has shipped/ said in turn 1: \"Order 4 0 7 2 1 has shipped.\"");
	d = eval_on(trace, "{ \"agent_never_said\": \"hold\" }", false, NULL, NULL, 0);
	ck_assert_str_eq(d, "/hold/ said in turn 2: \"Please hold while I transfer you.\"");
}
END_TEST

START_TEST(test_eval_disclosure)
{
	struct vagent_agent agent;
	const char *late =
		"{\"t_ms\":0.000,\"call\":\"c\",\"turn\":0,\"type\":\"call.start\"}\n"
		"{\"t_ms\":0.000,\"call\":\"c\",\"turn\":0,\"type\":\"tts.request\",\"text\":\"Hello.\"}\n"
		"{\"t_ms\":500.000,\"call\":\"c\",\"turn\":0,\"type\":\"agent.audio_start\"}\n"
		"{\"t_ms\":1500.000,\"call\":\"c\",\"turn\":0,\"type\":\"agent.audio_stop\",\"reason\":\"done\"}\n"
		"{\"t_ms\":2000.000,\"call\":\"c\",\"turn\":1,\"type\":\"caller.speech_start\"}\n"
		"{\"t_ms\":3000.000,\"call\":\"c\",\"turn\":1,\"type\":\"caller.speech_end\"}\n"
		"{\"t_ms\":12600.000,\"call\":\"c\",\"turn\":1,\"type\":\"tts.request\",\"text\":\"By the way, I am a virtual assistant.\"}\n"
		"{\"t_ms\":12700.000,\"call\":\"c\",\"turn\":1,\"type\":\"agent.audio_start\"}\n"
		"{\"t_ms\":14000.000,\"call\":\"c\",\"turn\":1,\"type\":\"agent.audio_stop\",\"reason\":\"done\"}\n";

	memset(&agent, 0, sizeof(agent));
	agent.compliance.disclosure_phrases = store_phrases;
	ck_assert_str_eq(eval_on(call_trace, "{ \"disclosure_within_ms\": 10000 }", true, &agent,
				 NULL, 0),
			 "\"automated assistant\" said at 120 ms, 0 ms after answer (120 ms): "
			 "\"Hi, thanks for calling Acme. I'm an automated assistant.\"");
	ck_assert_str_eq(eval_on(call_trace, "{ \"disclosure_within_ms\": 10000, \"phrase\": "
				 "\"transfer\" }", true, NULL, NULL, 0),
			 "\"transfer\" said at 9520 ms, 9400 ms after answer (120 ms): "
			 "\"Please hold while I transfer you.\"");
	ck_assert_str_eq(eval_on(call_trace, "{ \"disclosure_within_ms\": 5000, \"phrase\": "
				 "\"transfer\" }", false, NULL, NULL, 0),
			 "\"transfer\" said at 9520 ms, 9400 ms after answer (120 ms), later "
			 "than 5000 ms");
	ck_assert_str_eq(eval_on(late, "{ \"disclosure_within_ms\": 10000 }", false, &agent, NULL, 0),
			 "\"virtual assistant\" said at 12700 ms, 12200 ms after answer (500 ms), "
			 "later than 10000 ms");
	ck_assert_str_eq(eval_on(late, "{ \"disclosure_within_ms\": 15000 }", true, &agent, NULL, 0),
			 "\"virtual assistant\" said at 12700 ms, 12200 ms after answer (500 ms): "
			 "\"By the way, I am a virtual assistant.\"");
	ck_assert_str_eq(eval_on(late, "{ \"disclosure_within_ms\": 10000, \"phrase\": \"robot\" }",
				 false, &agent, NULL, 0),
			 "/robot/ not said in 2 agent utterances");
	agent.compliance.disclosure_phrases = store_phrases + 1;
	ck_assert_str_eq(eval_on(call_trace, "{ \"disclosure_within_ms\": 10000 }", false, &agent,
				 NULL, 0),
			 "no disclosure phrase (\"virtual assistant\") said in 3 agent utterances");
	ck_assert_str_eq(eval_on(call_trace, "{ \"disclosure_within_ms\": 10000 }", false, NULL,
				 NULL, 0),
			 "no disclosure phrases: give \"phrase\" or the agent");
}
END_TEST

START_TEST(test_eval_card_number)
{
	/* 4111 1111 1111 1111 passes the Luhn check */
	const char *spoken =
		"{\"t_ms\":0.000,\"call\":\"c\",\"turn\":0,\"type\":\"call.start\"}\n"
		"{\"t_ms\":900.000,\"call\":\"c\",\"turn\":1,\"type\":\"stt.final\",\"text\":\"it is four one one one one one one one one one one one one one one one\"}\n";
	const char *outputs[] = { "<html>order 40721</html>", "paid with 4111-1111-1111-1111" };
	const char *pressed = "4111111111111111";
	char *keyed = malloc(8192);
	const char *d;
	size_t n = 0;

	d = eval_on(call_trace, "{ \"no_card_number\": true, \"recording\": false }", true, NULL,
		    outputs, 1);
	ck_assert_str_eq(d, "no card number in 3 turns' texts, 34 trace lines, 0 dtmf digits, "
			 "1 output");
	d = eval_on(call_trace, "{ \"no_card_number\": true, \"recording\": false }", false, NULL,
		    outputs, 2);
	ck_assert_str_eq(d, "a card number (****-****-****-1111) in output 2");
	ck_assert_ptr_null(strstr(d, "4111"));
	d = eval_on(spoken, "{ \"no_card_number\": true, \"recording\": false }", false, NULL,
		    NULL, 0);
	ck_assert_str_eq(d, "a card number ([card ending 1111]) in the trace, line 2");
	/* keys pressed one by one: the digits together are the number */
	for (const char *p = pressed; *p; p++)
		n += (size_t)snprintf(keyed + n, 8192 - n,
				      "{\"t_ms\":%d.000,\"call\":\"c\",\"turn\":1,\"type\":\"dtmf\","
				      "\"digit\":\"%c\"}\n", 200 + (int)(p - pressed) * 100, *p);
	d = eval_on(keyed, "{ \"no_card_number\": true, \"recording\": false }", false, NULL,
		    NULL, 0);
	ck_assert_str_eq(d, "a card number (************1111) in the trace's dtmf digits");
	/* the recording is scanned unless told not to */
	d = eval_on(call_trace, "{ \"no_card_number\": true }", false, NULL, NULL, 0);
	ck_assert_str_eq(d, "not evaluated: no recording of the call to scan (\"recording\": "
			 "false skips it)");
	free(keyed);
}
END_TEST

START_TEST(test_eval_several_and_bad_trace)
{
	const char *doc = "{ \"expectations\": [ { \"tool_called\": \"order_status\" }, "
			  "{ \"escalated\": false }, { \"barge_in\": true } ] }";
	struct vagent_expectations *x = parse_ok(doc);
	struct vagent_expectation_outcomes *o = NULL;
	struct vagent_call_evidence ev = { .name = "c", .trace = call_trace,
					   .trace_len = strlen(call_trace) };
	struct vagent_error err;

	ck_assert_int_eq(vagent_expectations_eval(x, &ev, &o, &err), VAGENT_OK);
	ck_assert_uint_eq(o->n, 3);
	ck_assert_uint_eq(o->failed, 1);
	ck_assert(o->results[0].passed);
	ck_assert(!o->results[1].passed);
	ck_assert_str_eq(o->results[1].name, "not escalated");
	ck_assert(o->results[2].passed);
	vagent_expectation_outcomes_free(o);
	vagent_expectation_outcomes_free(NULL);

	ev.trace = "{\"t_ms\":0.000,\"call\":\"c\",\"turn\":0,\"type\":\"call.start\"}\nnot json\n";
	ev.trace_len = strlen(ev.trace);
	ck_assert_int_eq(vagent_expectations_eval(x, &ev, &o, &err), VAGENT_EFORMAT);
	ck_assert_ptr_null(o);
	ck_assert_ptr_nonnull(strstr(err.message, "c:2: "));
	vagent_expectations_free(x);
}
END_TEST

/* A recogniser that cannot load is the infrastructure failing: its
 * status comes back, and so do the outcomes, the ones it kept from being
 * evaluated failed with the reason. */
START_TEST(test_eval_recogniser_missing)
{
	const char *doc = "{ \"expectations\": [ { \"agent_said\": \"hello\", \"heard\": true }, "
			  "{ \"tool_not_called\": \"refund\" } ] }";
	struct vagent_expectations *x = parse_ok(doc);
	struct vagent_expectation_outcomes *o = NULL;
	struct vagent_audio *rec = vagent_audio_new(16000, 2, 16000 * 12);
	struct vagent_sphinx_config sc = vagent_sphinx_config_default();
	struct vagent_call_evidence ev = { .name = "c", .trace = call_trace,
					   .trace_len = strlen(call_trace), .recording = rec,
					   .sphinx = &sc };
	struct vagent_error err;
	vagent_status st;

	sc.model_dir = temp_path("no-model");
	st = vagent_expectations_eval(x, &ev, &o, &err);
	ck_assert_msg(st != VAGENT_OK && vagent_status_exit_code(st) != 0, "%d", st);
	ck_assert_ptr_nonnull(strstr(err.message, "no-model"));
	ck_assert_ptr_nonnull(o);
	ck_assert_uint_eq(o->n, 2);
	ck_assert_uint_eq(o->failed, 1);
	ck_assert(!o->results[0].passed);
	ck_assert_msg(!strncmp(o->results[0].detail, "not evaluated: ", 15), "%s",
		      o->results[0].detail);
	ck_assert_ptr_nonnull(strstr(o->results[0].detail, "no-model"));
	ck_assert(o->results[1].passed);
	vagent_expectation_outcomes_free(o);
	vagent_expectations_free(x);
	vagent_audio_free(rec);
}
END_TEST

/* ---- a simulated call ---- */

START_TEST(test_simulated_call)
{
	static const struct vagent_sim_rule rules[] = {
		{ .pattern = "order", .tool = "order_status", .args = "{\"order_number\":\"40721\"}",
		  .reply = "Your order is {result.status}." },
		{ .pattern = "person", .reply = "Let me get someone.", .escalate = "human_requested" },
	};
	static const struct vagent_sim_tool tool = {
		.name = "order_status", .result = "{\"status\":\"shipped\"}", .latency = { 200, 0 },
	};
	struct vagent_session_config cfg = vagent_session_config_default();
	struct vagent_sim_stt_config stt_c = vagent_sim_stt_config_default();
	struct vagent_sim_llm_config llm_c = vagent_sim_llm_config_default();
	struct vagent_sim_tts_config tts_c = vagent_sim_tts_config_default();
	struct vagent_sim_tools_config tools_c = { .name = "sim-tools", .tools = &tool, .n_tools = 1 };
	struct vagent_sim_caller_config caller_c = vagent_sim_caller_config_default();
	struct vagent_sim_step steps[] = {
		{ .kind = VAGENT_STEP_SAY, .anchor = VAGENT_ANCHOR_AGENT_DONE, .offset_ms = 500,
		  .text = "where is my order" },
		{ .kind = VAGENT_STEP_SAY, .anchor = VAGENT_ANCHOR_AGENT_DONE, .offset_ms = 500,
		  .text = "can I talk to a person" },
		{ .kind = VAGENT_STEP_SILENCE, .anchor = VAGENT_ANCHOR_AGENT_DONE, .duration_ms = 200 },
	};
	const char *doc =
		"{ \"expectations\": [\n"
		"  { \"tool_called\": \"order_status\", \"args\": { \"order_number\": \"40721\" }, \"times\": 1 },\n"
		"  { \"agent_said\": \"order is shipped\" },\n"
		"  { \"disclosure_within_ms\": 1000, \"phrase\": \"virtual assistant\" },\n"
		"  { \"escalated\": true, \"reason\": \"human_requested\" },\n"
		"  { \"wer_max\": 0 },\n"
		"  { \"latency\": \"e2e.max<3s\" },\n"
		"  { \"turns\": 2 },\n"
		"  { \"no_card_number\": true, \"recording\": false },\n"
		"  { \"tool_called\": \"refund\" },\n"
		"  { \"latency\": \"e2e.p50<10ms\" }\n"
		"] }";
	struct vagent_stt *stt = NULL;
	struct vagent_brain *llm = NULL;
	struct vagent_tts *tts = NULL;
	struct vagent_tools *tools = NULL;
	struct vagent_caller *caller = NULL;
	struct vagent_session *s = NULL;
	struct vagent_expectations *x = parse_ok(doc);
	struct vagent_expectation_outcomes *o = NULL;
	struct vagent_call_evidence ev = { .name = "sim" };
	struct vagent_error err;

	llm_c.greeting = "Hello, I am a virtual assistant.";
	llm_c.rules = rules;
	llm_c.n_rules = 2;
	caller_c.steps = steps;
	caller_c.n_steps = 3;
	caller_c.hangup_after_ms = 1000;
	ck_assert_int_eq(vagent_sim_stt_new(&stt_c, &stt, &err), VAGENT_OK);
	ck_assert_int_eq(vagent_sim_llm_new(&llm_c, &llm, &err), VAGENT_OK);
	ck_assert_int_eq(vagent_sim_tts_new(&tts_c, &tts, &err), VAGENT_OK);
	ck_assert_int_eq(vagent_sim_tools_new(&tools_c, &tools, &err), VAGENT_OK);
	ck_assert_int_eq(vagent_sim_caller_new(&caller_c, &caller, &err), VAGENT_OK);
	cfg.name = "sim";
	cfg.rate = caller_c.rate;
	cfg.stt[0] = stt;
	cfg.brain[0] = llm;
	cfg.tts[0] = tts;
	cfg.tools = tools;
	cfg.caller = caller;
	cfg.keep_trace = true;
	cfg.record = true;
	ck_assert_msg(vagent_session_run(&cfg, VAGENT_CLOCK_VIRTUAL, &s, &err) == VAGENT_OK, "%s",
		      err.message);
	ev.trace = vagent_session_trace(s, &ev.trace_len);
	ev.result = vagent_session_result(s);
	ev.recording = vagent_session_recording(s);
	ck_assert_ptr_nonnull(ev.recording);
	ck_assert_msg(vagent_expectations_eval(x, &ev, &o, &err) == VAGENT_OK, "%s", err.message);
	ck_assert_uint_eq(o->n, 10);
	for (size_t i = 0; i < 8; i++)
		ck_assert_msg(o->results[i].passed, "%s: %s\n%s", o->results[i].name,
			      o->results[i].detail, ev.trace);
	ck_assert(!o->results[8].passed);
	ck_assert_str_eq(o->results[8].detail, "refund called 0 times; tools called: "
			 "order_status (1)");
	ck_assert(!o->results[9].passed);
	ck_assert_ptr_nonnull(strstr(o->results[9].detail, "e2e.p50 = "));
	ck_assert_uint_eq(o->failed, 2);
	vagent_expectation_outcomes_free(o);
	vagent_expectations_free(x);
	vagent_session_free(s);
	vagent_stt_free(stt);
	vagent_brain_free(llm);
	vagent_tts_free(tts);
	vagent_tools_free(tools);
	vagent_caller_free(caller);
}
END_TEST

/* ---- a call on the embedded stack ---- */

/* The order-status-retry scenario (its tools are mocks: no server) on
 * pocketsphinx, flow and flite, recorded: what the agent said is heard
 * again by transcribing the recording's agent channel; the disclosure is
 * the agent file's phrase; the caller channel holds no card number. */
START_TEST(test_embedded_call_heard)
{
	struct vagent_scenario *sc = NULL;
	struct vagent_run_options ro = { .clock = VAGENT_CLOCK_VIRTUAL,
					 .reference_date = "2026-12-03",
					 .free_compute = true, .record = true };
	struct vagent_call_run *r = NULL;
	const char *doc =
		"{ \"expectations\": [\n"
		"  { \"tool_called\": \"order_status\", \"args\": { \"order_number\": \"40721\" } },\n"
		"  { \"agent_said\": \"processing\", \"heard\": true },\n"
		"  { \"disclosure_within_ms\": 10000, \"heard\": true },\n"
		"  { \"disclosure_within_ms\": 10000 },\n"
		"  { \"no_card_number\": true },\n"
		"  { \"end_reason\": \"agent_hangup\" },\n"
		"  { \"agent_never_said\": \"refund approved\", \"heard\": true },\n"
		"  { \"agent_said\": \"your refund is approved\", \"heard\": true }\n"
		"] }";
	struct vagent_expectations *x = parse_ok(doc);
	struct vagent_expectation_outcomes *o = NULL;
	struct vagent_call_evidence ev = { .name = "order-status-retry" };
	struct vagent_error err;

	ck_assert_msg(vagent_scenario_load(top_path("scenarios/order-status-retry.json"), &sc,
					   &err) == VAGENT_OK, "%s", err.message);
	ck_assert_msg(vagent_scenario_run(sc, &ro, &r, &err) == VAGENT_OK, "%s", err.message);
	ev.trace = vagent_session_trace(r->session, &ev.trace_len);
	ev.result = vagent_session_result(r->session);
	ev.recording = vagent_session_recording(r->session);
	ev.agent = r->agent;
	ck_assert(vagent_expectations_need_recording(x));
	ck_assert_msg(vagent_expectations_eval(x, &ev, &o, &err) == VAGENT_OK, "%s", err.message);
	for (size_t i = 0; i < 7; i++)
		ck_assert_msg(o->results[i].passed, "%s: %s", o->results[i].name,
			      o->results[i].detail);
	ck_assert_ptr_nonnull(strstr(o->results[1].detail, "heard in turn 2 at "));
	ck_assert_msg(strstr(o->results[2].detail, "\" heard at 20 ms, 0 ms after answer"), "%s",
		      o->results[2].detail);
	ck_assert_ptr_nonnull(strstr(o->results[4].detail, "the recording's caller channel "
				     "(key tones, 3 speech segments)"));
	ck_assert(!o->results[7].passed);
	ck_assert_ptr_nonnull(strstr(o->results[7].detail, "/your refund is approved/ not heard "
				     "in "));
	vagent_expectation_outcomes_free(o);
	vagent_expectations_free(x);
	vagent_call_run_free(r);
}
END_TEST

Suite *suite_expect(void)
{
	Suite *s = suite_create("expect");
	TCase *tc = tcase_create("slo");
	TCase *parse = tcase_create("parse");
	TCase *eval = tcase_create("eval");
	TCase *calls = tcase_create("calls");

	tcase_add_test(tc, test_slo_parse_good);
	tcase_add_test(tc, test_slo_parse_bad);
	tcase_add_test(tc, test_slo_eval);
	suite_add_tcase(s, tc);
	tcase_add_test(parse, test_parse_vocabulary);
	tcase_add_test(parse, test_parse_every_problem);
	suite_add_tcase(s, parse);
	tcase_add_test(eval, test_eval_tools);
	tcase_add_test(eval, test_eval_said);
	tcase_add_test(eval, test_eval_escalation_and_transfer);
	tcase_add_test(eval, test_eval_events_latency_wer);
	tcase_add_test(eval, test_eval_missing_metric);
	tcase_add_test(eval, test_eval_disclosure);
	tcase_add_test(eval, test_eval_card_number);
	tcase_add_test(eval, test_eval_several_and_bad_trace);
	tcase_add_checked_fixture(eval, temp_dir_setup, temp_dir_teardown);
	tcase_add_test(eval, test_eval_recogniser_missing);
	suite_add_tcase(s, eval);
	/* calls on the session engine and the embedded stack (sanitizer
	 * builds are several times slower) */
	tcase_set_timeout(calls, 300);
	tcase_add_test(calls, test_simulated_call);
	tcase_add_test(calls, test_embedded_call_heard);
	suite_add_tcase(s, calls);
	return s;
}
