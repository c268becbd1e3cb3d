/*
 * check_run.c — scenario files and `vagent run`: strict parsing with
 * FILE:LINE: field errors, and whole calls of the example store agent
 * (scenarios/agents/store.json) on the embedded stack — flite-voiced
 * caller, pocketsphinx, the flow brain, flite, HTTP tools against the
 * order service (scenarios/services/orders.json) served by the mock HTTP
 * server in-process — on the virtual clock, at 16 kHz and on an 8 kHz
 * mu-law phone leg.
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "vagent.h"
#include "support/harness.h"
#include "run/run_int.h"

/* ---- parsing ---- */

static void parse_fails(const char *text, vagent_status want, const char *msg)
{
	struct vagent_scenario *sc = NULL;
	struct vagent_error err;

	ck_assert_int_eq(vagent_scenario_parse(text, strlen(text), "s.json", ".", &sc, &err),
			 want);
	ck_assert_ptr_null(sc);
	ck_assert_str_eq(err.message, msg);
}

START_TEST(test_parse_valid)
{
	const char *text =
		"{\n"
		"  \"agent\": \"agents/a.json\",\n"
		"  \"caller\": { \"voice\": \"awb\", \"rate\": 8000, \"codec\": \"ulaw\" },\n"
		"  \"seed\": 7,\n"
		"  \"steps\": [\n"
		"    { \"say\": \"hello\" },\n"
		"    { \"say\": \"sorry\", \"wait_for\": \"agent_speaking\", \"after_ms\": 800 },\n"
		"    { \"silence_ms\": 1500 },\n"
		"    { \"audio\": \"x.wav\", \"wait_for\": \"previous\", \"after_ms\": 0 },\n"
		"    { \"hangup\": true }\n"
		"  ]\n"
		"}\n";
	struct vagent_scenario *sc = NULL;
	struct vagent_error err;

	ck_assert_int_eq(vagent_scenario_parse(text, strlen(text), "dir/s.json", "dir", &sc, &err),
			 VAGENT_OK);
	ck_assert_str_eq(sc->name, "s");
	ck_assert_str_eq(sc->agent_path, "dir/agents/a.json");
	ck_assert_str_eq(sc->voice, "awb");
	ck_assert_int_eq(sc->rate, 8000);
	ck_assert_int_eq(sc->codec, VAGENT_ENC_ULAW);
	ck_assert_uint_eq(sc->seed, 7);
	ck_assert_uint_eq(sc->n_steps, 5);
	ck_assert_int_eq(sc->steps[0].kind, VAGENT_STEP_SAY);
	ck_assert_int_eq(sc->steps[0].anchor, VAGENT_ANCHOR_AGENT_DONE);
	ck_assert_int_eq(sc->steps[0].offset_ms, 600);
	ck_assert_str_eq(sc->steps[0].text, "hello");
	ck_assert_int_eq(sc->steps[1].anchor, VAGENT_ANCHOR_AGENT_SPEAKING);
	ck_assert_int_eq(sc->steps[1].offset_ms, 800);
	ck_assert_int_eq(sc->steps[2].kind, VAGENT_STEP_SILENCE);
	ck_assert_int_eq(sc->steps[2].duration_ms, 1500);
	ck_assert_str_eq(sc->steps[3].audio_path, "dir/x.wav");
	ck_assert_int_eq(sc->steps[3].anchor, VAGENT_ANCHOR_PREV_END);
	ck_assert_int_eq(sc->steps[4].kind, VAGENT_STEP_HANGUP);
	ck_assert_int_eq(sc->steps[4].anchor, VAGENT_ANCHOR_PREV_END);
	vagent_scenario_free(sc);
}
END_TEST

START_TEST(test_parse_errors)
{
	parse_fails("{\n  \"agent\": \"a.json\",\n  \"steps\": [ { \"say\": \"hi\" } ],\n"
		    "  \"colour\": 1\n}\n", VAGENT_EINVAL,
		    "s.json:4: colour: unknown key \"colour\"");
	parse_fails("{\n  \"steps\": [ { \"say\": \"hi\" } ]\n}\n", VAGENT_EINVAL,
		    "s.json:1: agent: missing: the agent file to test");
	parse_fails("{\n  \"agent\": \"a.json\",\n  \"steps\": [\n    { \"say\": \"hi\" },\n"
		    "    { \"say\": \"x\", \"silence_ms\": 10 }\n  ]\n}\n", VAGENT_EINVAL,
		    "s.json:5: steps[1]: has more than one of say/audio, dtmf, silence_ms, hangup");
	parse_fails("{\n  \"agent\": \"a.json\",\n  \"caller\": {\n    \"voice\": \"hal\"\n  },\n"
		    "  \"steps\": [ { \"say\": \"hi\" } ]\n}\n", VAGENT_EINVAL,
		    "s.json:4: caller.voice: unknown voice \"hal\" (one of rms, awb, kal16, "
		    "slt, speechlike)");
	parse_fails("{\n  \"agent\": \"a.json\",\n  \"caller\": { \"codec\": \"ulaw\" },\n"
		    "  \"steps\": [ { \"say\": \"hi\" } ]\n}\n", VAGENT_EINVAL,
		    "s.json:3: caller.codec: G.711 needs \"rate\": 8000");
	parse_fails("{\n  \"agent\": \"a.json\",\n  \"steps\": [\n"
		    "    { \"say\": \"hi\", \"wait_for\": \"lunch\" }\n  ]\n}\n", VAGENT_EINVAL,
		    "s.json:4: steps[0].wait_for: unknown anchor \"lunch\" (one of start, "
		    "previous, agent_speaking, agent_done, silence or a trace event type, "
		    "e.g. tool.start, filler, escalation)");
	parse_fails("{\n  \"agent\": \"a.json\",\n  \"steps\": []\n}\n", VAGENT_EINVAL,
		    "s.json:3: steps: must be a non-empty array");
	parse_fails("{\n  \"agent\": \"a.json\",\n  \"steps\": [ { \"silence_ms\": -5 } ]\n}\n",
		    VAGENT_EINVAL, "s.json:3: steps[0].silence_ms: must be an integer 1..600000");
	parse_fails("{\n  \"agent\": \"a.json\",\n  \"steps\": [ { \"say\": \"hi\" } \n",
		    VAGENT_EFORMAT, "s.json:3: not valid JSON");
	parse_fails("[]", VAGENT_EINVAL, "s.json:1: a scenario is a JSON object");
	parse_fails("{\n  \"agent\": \"a.json\",\n  \"services\": {\n    \"1URL\": \"o.json\"\n  },\n"
		    "  \"steps\": [ { \"say\": \"hi\" } ]\n}\n", VAGENT_EINVAL,
		    "s.json:4: services.1URL: not an environment variable name");
	/* the name names the call's files: no way out of --out */
	parse_fails("{\n  \"name\": \"../escaped\",\n  \"agent\": \"a.json\",\n"
		    "  \"steps\": [ { \"say\": \"hi\" } ]\n}\n", VAGENT_EINVAL,
		    "s.json:2: name: must be at most 128 characters, without '/' or control "
		    "characters, and not . or ..");
}
END_TEST

START_TEST(test_parse_v2_fields)
{
	const char *text =
		"{\n"
		"  \"agent\": \"a.json\",\n"
		"  \"services\": { \"ORDERS_URL\": \"svc/orders.json\" },\n"
		"  \"caller\": { \"rate\": 16000, \"codec\": \"opus\", \"opus_bitrate\": 12000,\n"
		"              \"noise\": { \"file\": \"n.wav\", \"snr_db\": 10 } },\n"
		"  \"faults\": {\n"
		"    \"llm\": [ { \"kind\": \"delay\", \"delay_ms\": 3000, \"from_call\": 2, \"to_call\": 2 } ],\n"
		"    \"stt\": [ { \"kind\": \"wrong_words\", \"text\": \"four oh seven\" } ],\n"
		"    \"network\": { \"loss\": 0.05, \"loss_burst\": 2, \"jitter_ms\": 40 }\n"
		"  },\n"
		"  \"steps\": [\n"
		"    { \"say\": \"uh-huh\", \"wait_for\": \"agent_speaking\", \"after_ms\": 800 },\n"
		"    { \"wait_for\": { \"event\": \"tool.start\", \"match\": \"order_status\" } },\n"
		"    { \"dtmf\": \"123#\", \"tone_ms\": 80 },\n"
		"    { \"say\": \"hello?\", \"wait_for\": { \"silence_ms\": 4000 } },\n"
		"    { \"wait_for\": \"filler\" }\n"
		"  ],\n"
		"  \"expectations\": []\n"
		"}\n";
	struct vagent_scenario *sc = NULL;
	struct vagent_error err;

	ck_assert_msg(vagent_scenario_parse(text, strlen(text), "d/s.json", "d", &sc, &err) ==
		      VAGENT_OK, "%s", err.message);
	ck_assert_int_eq(sc->codec, VAGENT_ENC_OPUS);
	ck_assert_int_eq(sc->opus_bitrate, 12000);
	ck_assert_uint_eq(sc->n_services, 1);
	ck_assert_str_eq(sc->services[0].env, "ORDERS_URL");
	ck_assert_str_eq(sc->services[0].routes_path, "d/svc/orders.json");
	ck_assert_str_eq(sc->noise_path, "d/n.wav");
	ck_assert(sc->snr_db == 10.0);
	ck_assert_uint_eq(sc->n_llm_faults, 1);
	ck_assert_int_eq(sc->llm_faults[0].kind, VAGENT_FAULT_DELAY);
	ck_assert_int_eq(sc->llm_faults[0].from_call, 2);
	ck_assert_uint_eq(sc->n_stt_faults, 1);
	ck_assert_int_eq(sc->stt_faults[0].kind, VAGENT_FAULT_WRONG_WORDS);
	ck_assert_str_eq(sc->stt_faults[0].text, "four oh seven");
	ck_assert(sc->loss == 0.05 && sc->loss_burst == 2.0 && sc->jitter_ms == 40);
	ck_assert_int_eq(sc->jitter_buffer_ms, 60);
	ck_assert_int_eq(sc->steps[0].anchor, VAGENT_ANCHOR_AGENT_SPEAKING);
	ck_assert_int_eq(sc->steps[0].offset_ms, 800);
	ck_assert(sc->steps[1].wait_only && sc->steps[1].waits_for_event);
	ck_assert_int_eq(sc->steps[1].wait_event, VAGENT_TRACE_TOOL_START);
	ck_assert_str_eq(sc->steps[1].event_match, "order_status");
	ck_assert_str_eq(sc->steps[2].dtmf, "123#");
	ck_assert_int_eq(sc->steps[2].tone_ms, 80);
	ck_assert_int_eq(sc->steps[2].gap_ms, 100);
	ck_assert_int_eq(sc->steps[2].anchor, VAGENT_ANCHOR_PREV_END);
	ck_assert_int_eq(sc->steps[3].wait_silence_ms, 4000);
	ck_assert(sc->steps[4].waits_for_event);
	ck_assert_int_eq(sc->steps[4].wait_event, VAGENT_TRACE_FILLER);
	ck_assert_ptr_nonnull(sc->expectations);
	vagent_scenario_free(sc);
}
END_TEST

/* Every problem of a file is reported, each on its own line, in order. */
START_TEST(test_parse_reports_every_problem)
{
	const char *text =
		"{\n"
		"  \"agent\": \"a.json\",\n"
		"  \"colour\": \"red\",\n"
		"  \"caller\": { \"voice\": \"hal\", \"codec\": \"gsm\" },\n"
		"  \"faults\": { \"llm\": [ { \"kind\": \"drop\" } ], \"network\": { \"loss\": 2 } },\n"
		"  \"steps\": [\n"
		"    { \"say\": \"hi\", \"wait_for\": \"lunch\" },\n"
		"    { \"dtmf\": \"12x\" },\n"
		"    { }\n"
		"  ]\n"
		"}\n";
	struct vagent_scenario *sc = NULL;
	struct vagent_diags d;
	struct vagent_error err;

	vagent_diags_init(&d);
	ck_assert_int_eq(vagent__scenario_parse(text, strlen(text), "s.json", ".", &sc, &d, &err),
			 VAGENT_EINVAL);
	ck_assert_ptr_null(sc);
	ck_assert_uint_eq(d.n, 8);
	ck_assert_str_eq(d.lines[0], "s.json:3: colour: unknown key \"colour\"");
	ck_assert_str_eq(err.message, d.lines[0]);
	ck_assert_ptr_nonnull(strstr(d.lines[1], "s.json:4: caller.voice: unknown voice"));
	ck_assert_ptr_nonnull(strstr(d.lines[2], "s.json:4: caller.codec: unknown codec \"gsm\""));
	ck_assert_ptr_nonnull(strstr(d.lines[3], "s.json:5: faults.llm[0].kind: not a fault kind \"drop\""));
	ck_assert_ptr_nonnull(strstr(d.lines[4], "s.json:5: faults.network.loss: must be a number 0..1"));
	ck_assert_ptr_nonnull(strstr(d.lines[5], "s.json:7: steps[0].wait_for: unknown anchor"));
	ck_assert_ptr_nonnull(strstr(d.lines[6], "s.json:8: steps[1].dtmf: keys are"));
	ck_assert_ptr_nonnull(strstr(d.lines[7], "s.json:9: steps[2]: needs one of"));
	vagent_diags_clear(&d);
}
END_TEST

START_TEST(test_load_missing_file)
{
	struct vagent_scenario *sc = NULL;
	struct vagent_error err;

	ck_assert_int_eq(vagent_scenario_load(temp_path("nope.json"), &sc, &err), VAGENT_ENOENT);
	ck_assert_ptr_nonnull(strstr(err.message, "nope.json"));
	ck_assert_ptr_null(sc);
}
END_TEST

/* ---- whole calls on the embedded stack ---- */


/* Run scenario file `rel` (under the source tree) on the virtual clock. */
static struct vagent_call_run *run_scenario(const char *rel)
{
	struct vagent_scenario *sc = NULL;
	/* free compute: the course of the call must not depend on how fast
	 * this machine (or a sanitizer build) decodes and synthesises */
	struct vagent_run_options ro = { .clock = VAGENT_CLOCK_VIRTUAL,
					 .reference_date = "2026-12-03",
					 .free_compute = true };
	struct vagent_call_run *r = NULL;
	struct vagent_error err;

	ck_assert_msg(vagent_scenario_load(top_path(rel), &sc, &err) == VAGENT_OK, "%s",
		      err.message);
	ck_assert_msg(vagent_scenario_run(sc, &ro, &r, &err) == VAGENT_OK, "%s", err.message);
	ck_assert_int_eq(vagent_session_result(r->session)->status, VAGENT_OK);
	return r;
}

/* The parsed trace of a finished call (free with vagent_trace_free). */
static struct vagent_trace *trace_of(const struct vagent_call_run *r)
{
	struct vagent_trace *t = NULL;
	struct vagent_error err;
	size_t len = 0;
	const char *text = vagent_session_trace(r->session, &len);

	ck_assert_int_eq(vagent_trace_parse(text, len, "trace", &t, &err), VAGENT_OK);
	return t;
}

static const struct vagent_trace_event *first_of(const struct vagent_trace *t,
						 vagent_trace_type type, const char *name)
{
	for (size_t i = 0; i < t->n; i++)
		if (t->events[i].type == type &&
		    (!name || (t->events[i].name && !strcmp(t->events[i].name, name))))
			return &t->events[i];
	return NULL;
}

/* Reschedule a delivery over three turns: the order number and the date
 * are recognised from flite's rms voice, confirmed, and the tool changes
 * the order service's record (performed once); the goodbye hangs up. */
START_TEST(test_reschedule_on_embedded_stack)
{
	struct vagent_call_run *r;
	struct vagent_trace *t;
	const struct vagent_trace_event *tool, *end;
	const struct vagent_session_result *res;
	struct vagent_mock_http_route_stats rs;
	cJSON *args;

	orders_service_start();
	r = run_scenario("scenarios/reschedule-delivery.json");
	t = trace_of(r);
	res = vagent_session_result(r->session);
	ck_assert_str_eq(r->stack->stt->name, "pocketsphinx");
	ck_assert_str_eq(r->stack->tts->name, "flite");
	ck_assert_str_eq(r->stack->brain->name, "flow");
	tool = first_of(t, VAGENT_TRACE_TOOL_START, "reschedule_delivery");
	ck_assert_msg(tool != NULL, "no reschedule tool call:\n%s",
		      vagent_session_trace(r->session, NULL));
	args = cJSON_Parse(tool->args);
	ck_assert_str_eq(cJSON_GetObjectItem(args, "order_number")->valuestring, "40721");
	/* "next friday" from Thursday 2026-12-03 */
	ck_assert_str_eq(cJSON_GetObjectItem(args, "date")->valuestring, "2026-12-11");
	cJSON_Delete(args);
	ck_assert_ptr_nonnull(first_of(t, VAGENT_TRACE_TOOL_END, "reschedule_delivery"));
	ck_assert_int_eq(vagent_mock_http_route_stats(r->services[0], "reschedule_delivery", &rs),
			 VAGENT_OK);
	ck_assert_uint_eq(rs.performed, 1);
	end = first_of(t, VAGENT_TRACE_CALL_END, NULL);
	ck_assert_str_eq(end->reason, "agent_hangup");
	ck_assert(!res->escalated);
	/* turn 2 answers "What is the five digit order number?": once five
	 * digits are heard the turn ends at the short hold (500 ms), not the
	 * 1.5 s the detector keeps after digits */
	{
		const struct vagent_trace_event *se = NULL, *te = NULL;

		for (size_t i = 0; i < t->n; i++) {
			if (t->events[i].turn != 2)
				continue;
			if (t->events[i].type == VAGENT_TRACE_CALLER_SPEECH_END && !se)
				se = &t->events[i];
			if (t->events[i].type == VAGENT_TRACE_TURN_END && !te)
				te = &t->events[i];
		}
		ck_assert(se && te);
		ck_assert_msg(te->t_us - se->t_us < 1000000, "endpoint %lld us",
			      (long long)(te->t_us - se->t_us));
	}
	ck_assert_ptr_nonnull(strstr(res->turns[res->n_turns - 1].agent_text, "Goodbye"));
	vagent_trace_free(t);
	vagent_call_run_free(r);
	orders_service_stop();
}
END_TEST

/* An 8 kHz mu-law phone leg (kal16 voice): the question is recognised
 * and answered from the knowledge base, which the trace names. */
START_TEST(test_phone_leg_knowledge_answer)
{
	struct vagent_call_run *r;
	struct vagent_trace *t;
	const struct vagent_trace_event *kb;

	orders_service_start();
	r = run_scenario("scenarios/store-hours-phone.json");
	t = trace_of(r);
	kb = first_of(t, VAGENT_TRACE_TOOL_END, VAGENT_KNOWLEDGE_TOOL);
	ck_assert_msg(kb != NULL, "no knowledge answer:\n%s", vagent_session_trace(r->session, NULL));
	ck_assert_ptr_nonnull(strstr(kb->result, "\"source\":\"store-help.md#store-hours\""));
	ck_assert_ptr_nonnull(strstr(vagent_session_result(r->session)->turns[1].agent_text,
				     "Monday to Friday, 9 am to 6 pm"));
	vagent_trace_free(t);
	vagent_call_run_free(r);
	orders_service_stop();
}
END_TEST

/* A refund above the agent's limit: no refund is performed; the agent
 * escalates with reason guard_limit and a transfer package holding the
 * order number and the amount it heard. */
START_TEST(test_refund_over_limit_escalates)
{
	struct vagent_call_run *r;
	struct vagent_trace *t;
	const struct vagent_trace_event *tr;
	struct vagent_mock_http_route_stats rs;
	cJSON *pkg;
	char *text;

	orders_service_start();
	r = run_scenario("scenarios/refund-over-limit.json");
	t = trace_of(r);
	ck_assert(vagent_session_result(r->session)->escalated);
	ck_assert_str_eq(vagent_session_result(r->session)->escalation_reason, "guard_limit");
	ck_assert_ptr_null(first_of(t, VAGENT_TRACE_TOOL_START, "refund"));
	ck_assert_int_eq(vagent_mock_http_route_stats(r->services[0], "refund_order", &rs), VAGENT_OK);
	ck_assert_uint_eq(rs.received, 0);
	tr = first_of(t, VAGENT_TRACE_TRANSFER, NULL);
	ck_assert_ptr_nonnull(tr);
	pkg = cJSON_Parse(tr->package);
	text = cJSON_PrintUnformatted(pkg);
	ck_assert_msg(strstr(text, "31337") && strstr(text, "1249"), "package: %s", text);
	ck_assert_str_eq(first_of(t, VAGENT_TRACE_CALL_END, NULL)->reason, "transfer");
	/* the package reached the transfer webhook (the order service's
	 * /transfers) */
	ck_assert_int_eq(vagent_session_result(r->session)->transfer_webhook_status, 202);
	ck_assert_int_eq(vagent_mock_http_route_stats(r->services[0], "transfer", &rs), VAGENT_OK);
	ck_assert_uint_eq(rs.performed, 1);
	free(text);
	cJSON_Delete(pkg);
	vagent_trace_free(t);
	vagent_call_run_free(r);
	orders_service_stop();
}
END_TEST

/* Scenario mocks replace the agent's tools, faults included: a 503 on
 * the first request is retried and the caller hears the answer; a
 * backend that never answers ends in a filler, an apology and a warm
 * transfer with the failed action in the package. */
START_TEST(test_scenario_tool_mocks)
{
	struct vagent_call_run *r;
	struct vagent_trace *t;
	const struct vagent_trace_event *start, *end, *err, *tr;

	r = run_scenario("scenarios/order-status-retry.json");
	t = trace_of(r);
	start = first_of(t, VAGENT_TRACE_TOOL_START, "order_status");
	end = first_of(t, VAGENT_TRACE_TOOL_END, "order_status");
	ck_assert_msg(start && end, "no order_status call:\n%s",
		      vagent_session_trace(r->session, NULL));
	ck_assert_ptr_nonnull(strstr(end->result, "\"status\":\"processing\""));
	/* the failed attempt (an injected error answers at once), a
	 * backoff, then the 250 ms answer */
	ck_assert_int_gt(end->t_us - start->t_us, 250000);
	vagent_trace_free(t);
	vagent_call_run_free(r);

	r = run_scenario("scenarios/order-service-down.json");
	t = trace_of(r);
	err = first_of(t, VAGENT_TRACE_TOOL_ERROR, "order_status");
	ck_assert_msg(err != NULL, "no tool error:\n%s", vagent_session_trace(r->session, NULL));
	ck_assert_ptr_nonnull(strstr(err->error, "after 3 attempts"));
	ck_assert_ptr_nonnull(first_of(t, VAGENT_TRACE_FILLER, NULL));
	ck_assert_str_eq(vagent_session_result(r->session)->escalation_reason, "tool_failure");
	tr = first_of(t, VAGENT_TRACE_TRANSFER, NULL);
	ck_assert_ptr_nonnull(strstr(tr->package, "\"tool\":\"order_status\""));
	vagent_trace_free(t);
	vagent_call_run_free(r);
}
END_TEST

START_TEST(test_scenario_tool_mock_errors)
{
	struct vagent_scenario *sc = NULL;
	struct vagent_call_run *r = NULL;
	struct vagent_run_options ro = { .clock = VAGENT_CLOCK_VIRTUAL, .free_compute = true };
	struct vagent_error err;
	char text[1024];

	snprintf(text, sizeof(text),
		 "{\n  \"agent\": \"%s\",\n  \"tools\": {\n    \"order_status\": {\n"
		 "      \"faults\": [ { \"kind\": \"explode\" } ]\n    }\n  },\n"
		 "  \"steps\": [ { \"say\": \"hi\" } ]\n}\n",
		 top_path("scenarios/agents/store.json"));
	ck_assert_int_eq(vagent_scenario_parse(text, strlen(text), "s.json", ".", &sc, &err),
			 VAGENT_OK);
	ck_assert_int_eq(vagent_scenario_run(sc, &ro, &r, &err), VAGENT_EINVAL);
	ck_assert_ptr_null(r);
	ck_assert_str_eq(err.message, "s.json:5: tools.order_status.faults[0].kind: unknown "
			 "fault kind \"explode\" (one of delay, timeout, error, stall, "
			 "disconnect, malformed)");

	snprintf(text, sizeof(text),
		 "{\n  \"agent\": \"%s\",\n  \"tools\": {\n    \"order_lookup\": {}\n  },\n"
		 "  \"steps\": [ { \"say\": \"hi\" } ]\n}\n",
		 top_path("scenarios/agents/store.json"));
	ck_assert_int_eq(vagent_scenario_parse(text, strlen(text), "s.json", ".", &sc, &err),
			 VAGENT_OK);
	ck_assert_int_eq(vagent_scenario_run(sc, &ro, &r, &err), VAGENT_EINVAL);
	ck_assert_ptr_nonnull(strstr(err.message, "s.json:4: tools.order_lookup: the agent "));
	ck_assert_ptr_nonnull(strstr(err.message, "has no tool \"order_lookup\""));
}
END_TEST

/* A recording without a transcript is a caller step: the agent hears it
 * (a LibriSpeech sentence, resampled to the 8 kHz leg) though nobody wrote
 * down what it says. */
START_TEST(test_audio_step_without_transcript)
{
	struct vagent_scenario *sc = NULL;
	struct vagent_call_run *r = NULL;
	struct vagent_run_options ro = { .clock = VAGENT_CLOCK_VIRTUAL, .free_compute = true };
	struct vagent_error err;
	const struct vagent_session_result *res;
	char text[1024];

	orders_service_start();
	snprintf(text, sizeof(text),
		 "{ \"agent\": \"%s\", \"caller\": { \"rate\": 8000 },\n"
		 "  \"steps\": [ { \"audio\": \"%s\" }, { \"hangup\": true, \"wait_for\": \"agent_done\" } ] }\n",
		 top_path("scenarios/agents/store.json"),
		 top_path("fixtures/speech/librispeech/1089-134686-0001.flac"));
	ck_assert_int_eq(vagent_scenario_parse(text, strlen(text), "s.json", ".", &sc, &err),
			 VAGENT_OK);
	ck_assert_msg(vagent_scenario_run(sc, &ro, &r, &err) == VAGENT_OK, "%s", err.message);
	res = vagent_session_result(r->session);
	ck_assert_uint_ge(res->n_turns, 2);
	ck_assert_ptr_null(res->turns[1].caller_text);
	ck_assert_ptr_nonnull(res->turns[1].stt_text);
	ck_assert_uint_gt(strlen(res->turns[1].stt_text), 10);
	vagent_call_run_free(r);
	orders_service_stop();
}
END_TEST

/* ---- the command ---- */

START_TEST(test_cli_bad_scenario)
{
	struct run_result r;
	const char *p = temp_file("bad.json", "{\n  \"agent\": \"x.json\",\n  \"stepz\": []\n}\n");

	r = run_vagent("run", p, NULL);
	ck_assert_int_eq(r.exit_code, 2);
	/* every problem, each on its line */
	ck_assert_int_eq(count_lines(r.err), 2);
	ck_assert_ptr_nonnull(strstr(r.err, "bad.json:3: stepz: unknown key \"stepz\""));
	ck_assert_ptr_nonnull(strstr(r.err, "bad.json:1: steps: missing: the caller's script"));
	run_result_free(&r);

	p = temp_file("noagent.json", "{ \"agent\": \"missing.json\", \"steps\": [{\"say\": \"hi\"}] }");
	r = run_vagent("run", p, NULL);
	ck_assert_int_eq(r.exit_code, 2);
	ck_assert_ptr_nonnull(strstr(r.err, "missing.json"));
	run_result_free(&r);

	/* two scenarios with one name */
	{
		char text[1024];

		snprintf(text, sizeof(text), "{ \"name\": \"same\", \"agent\": \"%s\", "
			 "\"steps\": [{\"say\": \"hi\"}] }", top_path("scenarios/agents/store.json"));
		p = temp_file("a.json", text);
		r = run_vagent("run", p, temp_file("b.json", text), NULL);
	}
	ck_assert_int_eq(r.exit_code, 2);
	ck_assert_ptr_nonnull(strstr(r.err, "b.json: name \"same\" is also "));
	run_result_free(&r);

	r = run_vagent("run", "--help", NULL);
	ck_assert_int_eq(r.exit_code, 0);
	ck_assert_ptr_nonnull(strstr(r.out, "vagent run [OPTION]... SCENARIO|DIR..."));
	run_result_free(&r);
}
END_TEST

/* A tool server nobody listens on is the infrastructure failing (exit
 * 3), not the agent (exit 1) nor the input (exit 2). */
START_TEST(test_cli_infrastructure_failure)
{
	struct run_result r;

	char text[512];

	/* the order-status call, without the order service it starts */
	snprintf(text, sizeof(text), "{ \"name\": \"order-status\", \"agent\": \"%s\",\n"
		 "  \"steps\": [ {\"say\": \"Hi, I'd like to check on my order.\"},\n"
		 "             {\"say\": \"It's one two three four five.\"} ] }\n",
		 top_path("scenarios/agents/store.json"));
	setenv("ACME_ORDERS_URL", "http://127.0.0.1:9", 1);
	r = run_vagent("run", "-q", "--compute", "free", "--date", "2026-12-03",
		       temp_file("down.json", text), NULL);
	ck_assert_int_eq(r.exit_code, 3);
	ck_assert_ptr_nonnull(strstr(r.out, "ERROR order-status: "));
	ck_assert_ptr_nonnull(strstr(r.out, "infrastructure failed: order_status: connection to "
				     "http://127.0.0.1:9/orders/12345 failed"));
	run_result_free(&r);
}
END_TEST

/* tts.fallback in the agent file: the stack puts it behind the agent's
 * TTS, so an injected synthesis failure on the greeting is said again by
 * the fallback and the call goes on. */
START_TEST(test_agent_tts_fallback)
{
	char *agent = read_file(top_path("fixtures/bench/agents/sim-store.json"), NULL);
	cJSON *root = cJSON_Parse(agent), *tts = cJSON_CreateObject();
	char *text, scenario[1024];
	struct vagent_scenario *sc = NULL;
	struct vagent_run_options ro = { .clock = VAGENT_CLOCK_VIRTUAL,
					 .reference_date = "2026-12-03",
					 .free_compute = true };
	struct vagent_call_run *r = NULL;
	struct vagent_trace *t;
	const struct vagent_trace_event *fb;
	struct vagent_error err;

	ck_assert_ptr_nonnull(root);
	cJSON_AddStringToObject(tts, "provider", "sim");
	cJSON_AddStringToObject(tts, "fallback", "flite");
	cJSON_ReplaceItemInObject(root, "tts", tts);
	text = cJSON_Print(root);
	temp_file("agent.json", text);
	snprintf(scenario, sizeof(scenario),
		 "{ \"name\": \"tts-fallback\", \"agent\": \"%s\",\n"
		 "  \"faults\": { \"tts\": [ { \"kind\": \"error\", \"from_call\": 1, \"to_call\": 1 } ] },\n"
		 "  \"steps\": [ {\"say\": \"Hi, I want to check on my order.\"} ] }\n",
		 temp_path("agent.json"));
	ck_assert_msg(vagent_scenario_load(temp_file("s.json", scenario), &sc, &err) == VAGENT_OK,
		      "%s", err.message);
	ck_assert_msg(vagent_scenario_run(sc, &ro, &r, &err) == VAGENT_OK, "%s", err.message);
	t = trace_of(r);
	fb = first_of(t, VAGENT_TRACE_FALLBACK, NULL);
	ck_assert_ptr_nonnull(fb);
	ck_assert_str_eq(fb->slot, "tts");
	ck_assert_str_eq(fb->from, "sim-tts");
	ck_assert_str_eq(fb->to, "flite");
	ck_assert_int_eq(fb->turn, 0);
	/* the greeting is still said, after the fallback */
	ck_assert_ptr_nonnull(first_of(t, VAGENT_TRACE_AGENT_AUDIO_START, NULL));
	ck_assert_int_ge(first_of(t, VAGENT_TRACE_AGENT_AUDIO_START, NULL)->t_us, fb->t_us);
	ck_assert_ptr_null(first_of(t, VAGENT_TRACE_ESCALATION, NULL));
	vagent_trace_free(t);
	vagent_call_run_free(r);          /* and the scenario it ran */
	cJSON_Delete(root);
	free(text);
	free(agent);
}
END_TEST

Suite *suite_run(void)
{
	Suite *s = suite_create("run");
	TCase *tc = tcase_create("scenario");
	TCase *calls = tcase_create("calls");

	tcase_add_checked_fixture(tc, temp_dir_setup, temp_dir_teardown);
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, test_parse_valid);
	tcase_add_test(tc, test_parse_errors);
	tcase_add_test(tc, test_parse_v2_fields);
	tcase_add_test(tc, test_parse_reports_every_problem);
	tcase_add_test(tc, test_load_missing_file);
	tcase_add_test(tc, test_cli_bad_scenario);
	suite_add_tcase(s, tc);
	/* pocketsphinx and flite under the sanitizers are slow */
	tcase_add_checked_fixture(calls, temp_dir_setup, temp_dir_teardown);
	tcase_set_timeout(calls, 300);
	tcase_add_test(calls, test_agent_tts_fallback);
	tcase_add_test(calls, test_reschedule_on_embedded_stack);
	tcase_add_test(calls, test_phone_leg_knowledge_answer);
	tcase_add_test(calls, test_refund_over_limit_escalates);
	tcase_add_test(calls, test_scenario_tool_mocks);
	tcase_add_test(calls, test_audio_step_without_transcript);
	tcase_add_test(calls, test_cli_infrastructure_failure);
	tcase_add_test(tc, test_scenario_tool_mock_errors);
	suite_add_tcase(s, calls);
	return s;
}
