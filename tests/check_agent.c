/*
 * check_agent.c — the agent file: a complete agent parses into every
 * field; each broken agent in fixtures/agents/bad (one mistake each) gives
 * its exact "FILE:LINE: field: problem" line and status; ${ENV} expansion;
 * the expected phrases; loading errors (missing file, NUL byte, several
 * problems at once); vagent_agent_validate listing every problem in file
 * order, and the same for a scenario's tool mocks.
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "vagent.h"
#include "support/harness.h"

static struct vagent_agent *load_ok(const char *rel)
{
	struct vagent_agent *a = NULL;
	struct vagent_error err;
	vagent_status st = vagent_agent_load(top_path(rel), &a, &err);

	ck_assert_msg(st == VAGENT_OK, "%s: %s", rel, err.message);
	ck_assert_ptr_nonnull(a);
	return a;
}

static bool list_has(char *const *l, const char *s)
{
	for (; l && *l; l++)
		if (strcmp(*l, s) == 0)
			return true;
	return false;
}

static size_t list_len(char *const *l)
{
	size_t n = 0;

	while (l && l[n])
		n++;
	return n;
}

START_TEST(test_full)
{
	struct vagent_agent *a;
	const struct vagent_tool_def *t;
	const struct vagent_agent_intent *in;
	char dir[4096];

	unsetenv("VAGENT_TEST_FULL_URL");
	a = load_ok("fixtures/agents/full.json");
	snprintf(dir, sizeof(dir), "%s", top_path("fixtures/agents"));
	ck_assert_str_eq(a->name, "full");
	ck_assert_str_eq(a->base_dir, dir);
	ck_assert_int_eq(a->rate, 8000);
	ck_assert_str_eq(a->greeting, "Hello, you are talking to a virtual assistant.");
	ck_assert_uint_eq(a->n_warnings, 0);
	/* variables, with the default of an unset environment variable */
	ck_assert_uint_eq(a->n_variables, 2);
	ck_assert_str_eq(a->variables[0].name, "base_url");
	ck_assert_str_eq(a->variables[0].value, "http://127.0.0.1:9");
	ck_assert_str_eq(a->variables[1].name, "token");
	ck_assert_str_eq(a->variables[1].value, "plain");
	ck_assert_str_eq(vagent_agent_variable_list(a)[0], "base_url=http://127.0.0.1:9");
	ck_assert_str_eq(vagent_agent_variable_list(a)[1], "token=plain");
	ck_assert_ptr_null(vagent_agent_variable_list(a)[2]);
	/* providers */
	ck_assert_str_eq(a->stt.provider, "sim");
	ck_assert(!a->stt.boost);
	ck_assert_double_eq(a->stt.boost_weight, 0.25);
	ck_assert_str_eq(a->tts.provider, "flite");
	ck_assert_str_eq(a->tts.voice, "rms");
	ck_assert_str_eq(a->brain.provider, "flow");
	/* the session's settings */
	ck_assert_double_eq(a->config.vad.threshold, 0.6);
	ck_assert_int_eq(a->config.vad.onset_ms, 80);
	ck_assert_int_eq(a->config.vad.hangover_ms, 250);
	ck_assert_int_eq(a->config.vad.full_hangover_after_ms, 300);
	ck_assert_double_eq(a->config.vad.min_energy_dbfs, -55);
	ck_assert_int_eq(a->config.vad.noise_window_ms, 2000);
	ck_assert_int_eq(a->config.turn.start_ms, 120);
	ck_assert_int_eq(a->config.turn.min_hold_ms, 600);
	ck_assert_int_eq(a->config.turn.max_hold_ms, 1800);
	ck_assert(!a->config.turn.hold_rule);
	ck_assert_str_eq(a->config.turn.hold_words[0], "and");
	ck_assert_str_eq(a->config.turn.hold_words[1], "um");
	ck_assert_ptr_null(a->config.turn.hold_words[2]);
	ck_assert(!a->config.barge_in);
	ck_assert_int_eq(a->config.min_speech_ms, 250);
	ck_assert_int_eq(a->config.backchannel_max_ms, 900);
	ck_assert_str_eq(a->config.backchannels[1], "right");
	ck_assert(!a->config.cancel_tools_on_barge_in);
	ck_assert_int_eq(a->config.filler_after_ms, 1200);
	ck_assert_str_eq(a->config.filler_text, "Just a second.");
	ck_assert_int_eq(a->config.tool_timeout_ms, 3000);
	ck_assert_int_eq(a->config.llm_timeout_ms, 7000);
	ck_assert_int_eq(a->config.tts_timeout_ms, 4000);
	ck_assert_int_eq(a->config.stt_final_wait_ms, 800);
	ck_assert_str_eq(a->config.handoff_text, "Hold on please.");
	ck_assert(a->config.greet);
	/* the tool */
	ck_assert_uint_eq(a->n_tools, 1);
	t = vagent_agent_tool(a, "lookup");
	ck_assert_ptr_eq(t, &a->tools[0]);
	ck_assert_ptr_null(vagent_agent_tool(a, "nope"));
	ck_assert_str_eq(t->description, "Look a thing up");
	ck_assert_str_eq(t->parameters,
			 "{\"type\":\"object\",\"properties\":{\"id\":{\"type\":\"string\"},"
			 "\"amount\":{\"type\":\"number\"}},\"required\":[\"id\"]}");
	ck_assert_str_eq(t->method, "PUT");
	ck_assert_str_eq(t->url, "{base_url}/things/{id}");
	ck_assert_str_eq(t->headers[0], "Authorization: Bearer {token}");
	ck_assert_str_eq(t->headers[1], "X-Trace: yes");
	ck_assert_ptr_null(t->headers[2]);
	ck_assert_str_eq(t->body, "{\"thing\":\"{id}\",\"n\":2}");
	ck_assert_int_eq(t->timeout_ms, 1500);
	ck_assert_int_eq(t->retries, 3);
	ck_assert_int_eq(t->backoff_ms, 100);
	ck_assert_int_eq(t->max_backoff_ms, 1000);
	ck_assert_uint_eq(t->max_response_bytes, 65536);
	ck_assert_str_eq(t->guard.argument, "amount");
	ck_assert_double_eq(t->guard.confirm_above, 50);
	ck_assert_double_eq(t->guard.max, 500);
	ck_assert_str_eq(t->mock_result, "{\"ok\":true}");
	ck_assert_int_eq(t->mock_latency.base_ms, 120);
	ck_assert_int_eq(t->mock_latency.jitter_ms, 30);
	ck_assert_uint_eq(t->n_faults, 2);
	ck_assert_int_eq(t->faults[0].kind, VAGENT_FAULT_ERROR);
	ck_assert_int_eq(t->faults[0].from_call, 2);
	ck_assert_int_eq(t->faults[0].to_call, 3);
	ck_assert_int_eq(t->faults[0].delay_ms, 10);
	ck_assert_int_eq(t->faults[0].http_status, 503);
	ck_assert_int_eq(t->faults[1].kind, VAGENT_FAULT_TIMEOUT);
	ck_assert_int_eq(t->faults[1].from_call, 5);
	ck_assert_int_eq(t->faults[1].to_call, 0);
	/* knowledge, resolved against the agent's directory */
	ck_assert_uint_eq(list_len(a->knowledge), 1);
	ck_assert(strcmp(a->knowledge[0], top_path("fixtures/agents/test-store.md")) == 0);
	/* escalation and compliance */
	ck_assert_uint_eq(list_len(a->escalation.human_phrases), 1);
	ck_assert_str_eq(a->escalation.human_phrases[0], "a human");
	ck_assert_str_eq(a->escalation.opt_out_phrases[0], "go away");
	ck_assert_int_eq(a->escalation.max_misunderstandings, 3);
	ck_assert_str_eq(a->escalation.transfer_webhook, "https://example.invalid/transfer");
	ck_assert_str_eq(a->escalation.hold_text, "Hold on please.");
	ck_assert_str_eq(a->escalation.human_reply, "Sure.");
	ck_assert_str_eq(a->escalation.opt_out_reply, "Fine.");
	ck_assert_str_eq(a->escalation.misunderstanding_reply, "Hmm.");
	ck_assert_str_eq(a->escalation.tool_failure_reply, "Oops.");
	ck_assert_str_eq(a->escalation.guard_reply, "Too much.");
	ck_assert_int_eq(a->compliance.disclosure_within_ms, 5000);
	ck_assert_str_eq(a->compliance.disclosure_phrases[0], "virtual assistant");
	ck_assert(a->compliance.require_disclosure);
	/* the flow */
	ck_assert_double_eq(a->flow.match_threshold, 0.6);
	ck_assert_double_eq(a->flow.clarify_threshold, 0.4);
	ck_assert_str_eq(a->flow.fallback, "Say again?");
	ck_assert_str_eq(a->flow.knowledge_miss, "No idea.");
	ck_assert_str_eq(a->flow.cancelled, "Cancelled.");
	ck_assert_str_eq(a->flow.anything_else, "Anything else?");
	ck_assert_uint_eq(a->flow.n_intents, 3);
	in = &a->flow.intents[0];
	ck_assert_str_eq(in->name, "lookup");
	ck_assert_str_eq(in->summary, "look something up");
	ck_assert_str_eq(in->examples[0], "look up a thing");
	ck_assert_str_eq(in->keywords[0], "lookup");
	ck_assert_uint_eq(in->n_slots, 3);
	ck_assert_str_eq(in->slots[0].name, "id");
	ck_assert_int_eq(in->slots[0].type, VAGENT_SLOT_DIGITS);
	ck_assert_str_eq(in->slots[0].prompt, "Which one?");
	ck_assert_str_eq(in->slots[0].reprompt, "Which one, digit by digit?");
	ck_assert_int_eq(in->slots[0].min_len, 2);
	ck_assert_int_eq(in->slots[0].max_len, 6);
	ck_assert(in->slots[0].required);
	ck_assert_int_eq(in->slots[1].type, VAGENT_SLOT_CHOICE);
	ck_assert_str_eq(in->slots[1].choices[1], "large");
	ck_assert(!in->slots[1].required);
	ck_assert_int_eq(in->slots[2].type, VAGENT_SLOT_AMOUNT);
	ck_assert_str_eq(in->confirm, "Look up {slot.id|digits}?");
	ck_assert_str_eq(in->tool, "lookup");
	ck_assert_uint_eq(in->n_args, 2);
	ck_assert_str_eq(in->args[0].name, "id");
	ck_assert_str_eq(in->args[0].value, "{slot.id}");
	ck_assert(!in->args[0].literal);
	ck_assert_str_eq(in->reply, "It is {result.ok} for {agent.name}.");
	ck_assert_str_eq(in->reply_error, "Lookup failed.");
	ck_assert(!in->knowledge && !in->end && !in->escalate);
	ck_assert_str_eq(a->flow.intents[1].escalate, "human_requested");
	ck_assert(a->flow.intents[2].end);
	vagent_agent_free(a);
}
END_TEST

START_TEST(test_defaults)
{
	static const char text[] =
		"{ \"flow\": { \"intents\": [ { \"name\": \"hi\", "
		"\"examples\": [\"hello\"], \"reply\": \"Hi.\" } ] } }";
	struct vagent_agent_config def = vagent_agent_config_default();
	struct vagent_agent *a = NULL;
	struct vagent_error err;

	ck_assert_int_eq(vagent_agent_parse(text, strlen(text), "dir/mini.json",
					    "dir", &a, &err), VAGENT_OK);
	ck_assert_str_eq(a->name, "mini");
	ck_assert_int_eq(a->rate, 16000);
	ck_assert_str_eq(a->stt.provider, "pocketsphinx");
	ck_assert(a->stt.boost);
	ck_assert_str_eq(a->tts.provider, "flite");
	ck_assert_str_eq(a->tts.voice, "slt");
	ck_assert_str_eq(a->brain.provider, "flow");
	ck_assert_int_eq(a->config.min_speech_ms, def.min_speech_ms);
	ck_assert_int_eq(a->config.tool_timeout_ms, def.tool_timeout_ms);
	ck_assert_str_eq(a->config.filler_text, def.filler_text);
	ck_assert_str_eq(a->config.handoff_text, a->escalation.hold_text);
	ck_assert_int_eq(a->escalation.max_misunderstandings, 2);
	ck_assert(list_has(a->escalation.human_phrases, "a real person"));
	ck_assert(list_has(a->escalation.human_phrases, "representative"));
	ck_assert(list_has(a->escalation.opt_out_phrases, "stop calling"));
	ck_assert_ptr_null(a->escalation.transfer_webhook);
	ck_assert_int_eq(a->compliance.disclosure_within_ms, 10000);
	ck_assert(!a->compliance.require_disclosure);
	ck_assert_double_eq(a->flow.match_threshold, 0.5);
	ck_assert_double_eq(a->flow.clarify_threshold, 0.35);
	ck_assert_ptr_null(a->flow.intents[0].summary);
	ck_assert_uint_eq(a->n_tools, 0);
	ck_assert_uint_eq(list_len(a->knowledge), 0);
	/* no greeting: a disclosing default and a warning naming the line */
	ck_assert_ptr_nonnull(strstr(a->greeting, "automated assistant"));
	ck_assert_uint_eq(a->n_warnings, 1);
	ck_assert_ptr_nonnull(strstr(a->warnings[0], "dir/mini.json:1: greeting: missing"));
	vagent_agent_free(a);
}
END_TEST

/* "no_input": reprompt a silent caller, then say goodbye. */
START_TEST(test_no_input)
{
	static const char text[] =
		"{ \"no_input\": { \"after_ms\": 7000, \"reprompt\": \"Hello?\",\n"
		"  \"max_reprompts\": 2, \"goodbye\": \"Bye for now.\" },\n"
		"  \"flow\": { \"intents\": [ { \"name\": \"hi\", "
		"\"examples\": [\"hello\"], \"reply\": \"Hi.\" } ] } }";
	static const char bad[] =
		"{ \"no_input\": { \"reprompt\": \"Hello?\" },\n"
		"  \"flow\": { \"intents\": [ { \"name\": \"hi\", "
		"\"examples\": [\"hello\"], \"reply\": \"Hi.\" } ] } }";
	struct vagent_agent *a = NULL;
	struct vagent_error err;

	ck_assert_int_eq(vagent_agent_parse(text, strlen(text), "n.json", NULL, &a, &err),
			 VAGENT_OK);
	ck_assert_int_eq(a->config.no_input_ms, 7000);
	ck_assert_str_eq(a->config.no_input_text, "Hello?");
	ck_assert_int_eq(a->config.no_input_max, 2);
	ck_assert_str_eq(a->config.no_input_goodbye, "Bye for now.");
	vagent_agent_free(a);
	ck_assert_int_eq(vagent_agent_parse(bad, strlen(bad), "n.json", NULL, &a, &err),
			 VAGENT_EINVAL);
	ck_assert_ptr_nonnull(strstr(err.message, "n.json:1: no_input.after_ms: missing"));
}
END_TEST

/* "stt.denoise": true (the recogniser's level), a level in dB or false;
 * anything else is a one-line problem on its line. */
START_TEST(test_stt_denoise)
{
	static const char *const good[] = { "true", "20", "false" };
	static const double level[] = { VAGENT_SPHINX_DENOISE_DB, 20, 0 };
	static const struct {
		const char *value, *message;
	} bad[] = {
		{ "\"on\"", "d.json:2: stt.denoise: must be true, false or a level in dB (got a string)" },
		{ "0", "d.json:2: stt.denoise: must be between 1 and 60 dB (got 0)" },
		{ "75", "d.json:2: stt.denoise: must be between 1 and 60 dB (got 75)" },
	};
	static const char flow[] = "\"flow\": { \"intents\": [ { \"name\": \"hi\", "
				   "\"examples\": [\"hello\"], \"reply\": \"Hi.\" } ] } }";
	struct vagent_agent *a = NULL;
	struct vagent_error err;
	char text[512];

	snprintf(text, sizeof(text), "{ %s", flow);
	ck_assert_int_eq(vagent_agent_parse(text, strlen(text), "d.json", NULL, &a, &err),
			 VAGENT_OK);
	ck_assert_double_eq(a->stt.denoise_db, vagent_sphinx_config_default().denoise_db);
	vagent_agent_free(a);
	for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
		snprintf(text, sizeof(text), "{ \"stt\": { \"provider\": \"pocketsphinx\",\n"
			 "  \"denoise\": %s },\n %s", good[i], flow);
		ck_assert_int_eq(vagent_agent_parse(text, strlen(text), "d.json", NULL, &a, &err),
				 VAGENT_OK);
		ck_assert_double_eq(a->stt.denoise_db, level[i]);
		vagent_agent_free(a);
	}
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		snprintf(text, sizeof(text), "{ \"stt\": { \"provider\": \"pocketsphinx\",\n"
			 "  \"denoise\": %s },\n %s", bad[i].value, flow);
		ck_assert_int_eq(vagent_agent_parse(text, strlen(text), "d.json", NULL, &a, &err),
				 VAGENT_EINVAL);
		ck_assert_str_eq(err.message, bad[i].message);
	}
}
END_TEST

/* The cloud TTS fields: defaults per provider, and every bad field as one
 * line naming it (the TTS modules themselves are tested in their suites). */
START_TEST(test_cloud_tts_fields)
{
	static const char flow[] = "\"flow\": { \"intents\": [ { \"name\": \"hi\", "
				   "\"examples\": [\"hello\"], \"reply\": \"Hi.\" } ] } }";
	static const char *const want[] = {
		"3: tts.transport: only for \"elevenlabs\" (cartesia has one transport)",
		"3: tts.voice: missing (required)",
		"3: tts.url: must be a ws:// or wss:// URL with a host and no credentials",
		"3: tts.api_key_env: must name an environment variable (A-Z, 0-9, _), not hold the key",
		"3: tts.fallback: unknown fallback \"elevenlabs\" (one of flite, sim)",
	};
	struct vagent_agent *a = NULL;
	struct vagent_error err;
	struct vagent_diags d;
	char text[1024], line[512];
	const char *path;

	snprintf(text, sizeof(text), "{ \"tts\": { \"provider\": \"elevenlabs\", "
		 "\"fallback\": \"flite\" },\n %s", flow);
	ck_assert_int_eq(vagent_agent_parse(text, strlen(text), "t.json", NULL, &a, &err),
			 VAGENT_OK);
	ck_assert_str_eq(a->tts.provider, "elevenlabs");
	ck_assert_str_eq(a->tts.voice, "21m00Tcm4TlvDq8ikWAM");
	ck_assert_str_eq(a->tts.model, "eleven_flash_v2_5");
	ck_assert_str_eq(a->tts.api_key_env, "ELEVENLABS_API_KEY");
	ck_assert_str_eq(a->tts.transport, "websocket");
	ck_assert_str_eq(a->tts.fallback, "flite");
	ck_assert_ptr_null(a->tts.url);
	vagent_agent_free(a);
	snprintf(text, sizeof(text), "{ \"tts\": { \"provider\": \"openai\", \"voice\": \"coral\", "
		 "\"url\": \"http://127.0.0.1:9/v1\", \"speed\": 1.25 },\n %s", flow);
	ck_assert_int_eq(vagent_agent_parse(text, strlen(text), "t.json", NULL, &a, &err),
			 VAGENT_OK);
	ck_assert_str_eq(a->tts.voice, "coral");
	ck_assert_str_eq(a->tts.model, "gpt-4o-mini-tts");
	ck_assert_str_eq(a->tts.url, "http://127.0.0.1:9/v1");
	ck_assert_str_eq(a->tts.api_key_env, "OPENAI_API_KEY");
	ck_assert_double_eq(a->tts.speed, 1.25);
	ck_assert_ptr_null(a->tts.fallback);
	vagent_agent_free(a);
	/* flite's fields stay flite's */
	snprintf(text, sizeof(text), "{ \"tts\": { \"provider\": \"flite\", \"voice\": \"rms\", "
		 "\"model\": \"x\" },\n %s", flow);
	ck_assert_int_eq(vagent_agent_parse(text, strlen(text), "t.json", NULL, &a, &err),
			 VAGENT_EINVAL);
	ck_assert_str_eq(err.message, "t.json:1: tts.model: only for a cloud provider "
			 "(\"elevenlabs\", \"cartesia\", \"openai\"), not \"flite\"");
	snprintf(text, sizeof(text), "{\n \"name\": \"c\",\n \"tts\": { \"provider\": \"cartesia\", "
		 "\"transport\": \"http\", \"url\": \"https://api.cartesia.ai\", "
		 "\"api_key_env\": \"sk-live-123\", \"fallback\": \"elevenlabs\" },\n %s", flow);
	temp_dir_setup();
	path = temp_file("cartesia.json", text);
	vagent_diags_init(&d);
	ck_assert_int_eq(vagent_agent_validate(path, &d, &err), VAGENT_EINVAL);
	ck_assert_uint_eq(d.n, sizeof(want) / sizeof(want[0]));
	for (size_t i = 0; i < d.n; i++) {
		snprintf(line, sizeof(line), "%s:%s", path, want[i]);
		ck_assert_str_eq(d.lines[i], line);
	}
	vagent_diags_clear(&d);
	temp_dir_teardown();
}
END_TEST

/* Each broken file and the exact line it gives. */
static const struct {
	const char *file;
	vagent_status status;
	const char *message;          /* after "<path>:" */
} bad_files[] = {
	{ "syntax.json", VAGENT_EFORMAT, "3: invalid JSON" },
	{ "not-object.json", VAGENT_EINVAL,
	  "1: the agent must be a JSON object (got an array)" },
	{ "unknown-key.json", VAGENT_EINVAL,
	  "3: greting: unknown key \"greting\" (did you mean \"greeting\"?)" },
	{ "wrong-type.json", VAGENT_EINVAL,
	  "4: rate: must be a number (got a string)" },
	{ "rate.json", VAGENT_EINVAL, "4: rate: must be 8000 or 16000 (got 44100)" },
	{ "missing-flow.json", VAGENT_EINVAL, "1: flow: missing (required)" },
	{ "range.json", VAGENT_EINVAL,
	  "12: tools[0].timeout_ms: must be between 1 and 600000 (got 0)" },
	{ "get-body.json", VAGENT_EINVAL,
	  "13: tools[0].http.body: a GET request has no body" },
	{ "fault-kind.json", VAGENT_EINVAL,
	  "14: tools[0].mock.faults[0].kind: unknown fault kind \"explode\" "
	  "(one of delay, timeout, error, stall, disconnect, malformed)" },
	{ "guard-argument.json", VAGENT_EINVAL,
	  "12: tools[0].guard.argument: \"amount\" is not an argument in "
	  "parameters.properties" },
	{ "no-endpoint.json", VAGENT_EINVAL,
	  "5: tools[0]: a tool needs \"http\" (an endpoint) or \"mock\" (a scripted reply)" },
	{ "slot-type.json", VAGENT_EINVAL,
	  "11: flow.intents[1].slots[0].type: unknown slot type \"dat\" (did you "
	  "mean \"date\"? one of digits, number, order_number, amount, date, "
	  "yes_no, choice, text, card)" },
	{ "duplicate-intent.json", VAGENT_EINVAL,
	  "7: flow.intents[1].name: duplicate intent name \"hello\" (also flow.intents[0])" },
	{ "duplicate-slot.json", VAGENT_EINVAL,
	  "12: flow.intents[1].slots[1].name: duplicate slot name \"day\" (also slots[0])" },
	{ "undefined-tool.json", VAGENT_EINVAL,
	  "21: flow.intents[1].tool.name: undefined tool \"order_stat\" (did you "
	  "mean \"order_status\"?)" },
	{ "undefined-slot.json", VAGENT_EINVAL,
	  "11: flow.intents[1].reply: undefined slot \"date\" in {slot.date}" },
	{ "unknown-filter.json", VAGENT_EINVAL,
	  "11: flow.intents[1].reply: unknown filter \"shout\" in {slot.day|shout} "
	  "(one of digits, date, amount, list, number, last4)" },
	{ "card-spoken.json", VAGENT_EINVAL,
	  "11: flow.intents[1].reply: {slot.card} is a card number: say it only as "
	  "{slot.card|last4}" },
	{ "result-without-tool.json", VAGENT_EINVAL,
	  "10: flow.intents[1].reply: {result.id}: there is no result here (only "
	  "in the reply of an intent with a tool or knowledge)" },
	{ "missing-argument.json", VAGENT_EINVAL,
	  "21: flow.intents[1].tool.args: missing argument \"order_number\" "
	  "(required by tool \"order_status\")" },
	{ "choice-without-choices.json", VAGENT_EINVAL,
	  "10: flow.intents[1].slots[0]: a choice slot needs \"choices\"" },
	{ "no-disclosure.json", VAGENT_EINVAL,
	  "3: greeting: does not disclose that the caller talks to an AI (no "
	  "compliance.disclosure_phrases)" },
	{ "env-unset.json", VAGENT_EINVAL,
	  "4: variables.base_url: environment variable VAGENT_TEST_UNSET_VARIABLE "
	  "is not set (give a default: ${VAGENT_TEST_UNSET_VARIABLE:-VALUE})" },
};

START_TEST(test_bad_file)
{
	char rel[256], want[2048];
	const char *path;
	struct vagent_agent *a = (struct vagent_agent *)&a;
	struct vagent_error err;
	vagent_status st;

	unsetenv("VAGENT_TEST_UNSET_VARIABLE");
	snprintf(rel, sizeof(rel), "fixtures/agents/bad/%s", bad_files[_i].file);
	path = top_path(rel);
	st = vagent_agent_load(path, &a, &err);
	snprintf(want, sizeof(want), "%s:%s", path, bad_files[_i].message);
	ck_assert_str_eq(err.message, want);
	ck_assert_int_eq(st, bad_files[_i].status);
	ck_assert_int_eq(err.status, bad_files[_i].status);
	ck_assert_ptr_null(a);
	{
		/* the validator lists the same problem, and only it: each
		 * file has one mistake */
		struct vagent_diags d;
		struct vagent_error e2;

		vagent_diags_init(&d);
		ck_assert_int_eq(vagent_agent_validate(path, &d, &e2), bad_files[_i].status);
		ck_assert_str_eq(e2.message, want);
		ck_assert_uint_eq(d.n, 1);
		ck_assert_str_eq(d.lines[0], want);
		vagent_diags_clear(&d);
	}
}
END_TEST

/* Independent mistakes all over a file: every one, at its line, in file
 * order (the loader finds them in another order: root keys first). */
START_TEST(test_validate_every_problem)
{
	static const char *const want[] = {
		"5: flow.match_threshold: must be between 0 and 1 (got 2)",
		"10: flow.intents[0].tool.name: undefined tool \"order_stat\" (did you mean "
		"\"order_status\"?)",
		"17: flow.intents[1].reply: undefined slot \"time\" in {slot.time}",
		"17: flow.intents[1].reply: undefined slot \"day\" in {slot.day}",
		"21: rate: must be a number (got a string)",
		"25: tools[0].timeout_ms: must be between 1 and 600000 (got 0)",
		"29: vad.threshold: must be between 0 and 1 (got 1.5)",
		"30: nmae: unknown key \"nmae\" (did you mean \"name\"?)",
	};
	const char *path = top_path("fixtures/validate/agents/many-problems.json");
	struct vagent_agent *a = NULL;
	struct vagent_diags d;
	struct vagent_error err;
	char line[1024];
	size_t i;

	vagent_diags_init(&d);
	ck_assert_int_eq(vagent_agent_validate(path, &d, &err), VAGENT_EINVAL);
	ck_assert_uint_eq(d.n, sizeof(want) / sizeof(want[0]));
	ck_assert_uint_eq(d.dropped, 0);
	for (i = 0; i < d.n; i++) {
		snprintf(line, sizeof(line), "%s:%s", path, want[i]);
		ck_assert_str_eq(d.lines[i], line);
	}
	ck_assert_str_eq(err.message, d.lines[0]);
	ck_assert_int_eq(err.status, VAGENT_EINVAL);
	/* a second file adds to the same list */
	ck_assert_int_eq(vagent_agent_validate(top_path("fixtures/agents/bad/rate.json"), &d,
					       &err), VAGENT_EINVAL);
	ck_assert_uint_eq(d.n, sizeof(want) / sizeof(want[0]) + 1);
	ck_assert_ptr_nonnull(strstr(d.lines[d.n - 1], "rate.json:4: rate: must be 8000"));
	vagent_diags_clear(&d);
	/* without a list: still the first in file order */
	ck_assert_int_eq(vagent_agent_validate(path, NULL, &err), VAGENT_EINVAL);
	snprintf(line, sizeof(line), "%s:%s", path, want[0]);
	ck_assert_str_eq(err.message, line);
	/* loading is unchanged: the first found, and how many more */
	ck_assert_int_eq(vagent_agent_load(path, &a, &err), VAGENT_EINVAL);
	snprintf(line, sizeof(line), "%s:%s (and 7 more problems)", path, want[7]);
	ck_assert_str_eq(err.message, line);
	ck_assert_ptr_null(a);
}
END_TEST

START_TEST(test_validate_valid_and_unreadable)
{
	struct vagent_diags d;
	struct vagent_error err;
	char *dir;

	vagent_diags_init(&d);
	unsetenv("VAGENT_TEST_FULL_URL");
	ck_assert_int_eq(vagent_agent_validate(top_path("fixtures/agents/full.json"), &d, &err),
			 VAGENT_OK);
	ck_assert_int_eq(err.status, VAGENT_OK);
	ck_assert_str_eq(err.message, "");
	/* a warning (no greeting) is not a problem */
	ck_assert_int_eq(vagent_agent_validate(top_path("fixtures/validate/agents/no-greeting.json"),
					       &d, &err), VAGENT_OK);
	ck_assert_uint_eq(d.n, 0);
	/* one line each: a missing file, a directory, text that is not JSON */
	ck_assert_int_eq(vagent_agent_validate(top_path("fixtures/agents/none.json"), &d, &err),
			 VAGENT_ENOENT);
	ck_assert_uint_eq(d.n, 1);
	ck_assert_str_eq(d.lines[0], err.message);
	ck_assert_ptr_nonnull(strstr(d.lines[0], "none.json: no such file"));
	dir = make_temp_dir();
	ck_assert_int_ne(vagent_agent_validate(dir, &d, &err), VAGENT_OK);
	ck_assert_uint_eq(d.n, 2);
	ck_assert_ptr_nonnull(strstr(d.lines[1], dir));
	remove_tree(dir);
	free(dir);
	ck_assert_int_eq(vagent_agent_validate(top_path("fixtures/agents/bad/syntax.json"), &d,
					       &err), VAGENT_EFORMAT);
	ck_assert_uint_eq(d.n, 3);
	ck_assert_ptr_nonnull(strstr(d.lines[2], "syntax.json:3: invalid JSON"));
	ck_assert_int_eq(vagent_agent_validate(NULL, &d, &err), VAGENT_EINVAL);
	ck_assert_uint_eq(d.n, 4);
	vagent_diags_clear(&d);
}
END_TEST

/* One mistake is one problem: a member of the wrong type does not also
 * count as missing for the rules that need it. */
START_TEST(test_validate_no_cascade)
{
	static const char text[] =
		"{\n"
		"  \"greeting\": \"This is an automated assistant.\",\n"
		"  \"tools\": [ { \"name\": \"t\", \"mock\": [] } ],\n"
		"  \"flow\": { \"intents\": [\n"
		"    { \"name\": \"a\", \"examples\": \"hi\", \"reply\": 5 },\n"
		"    { \"name\": \"b\", \"keywords\": [\"b\"], \"reply\": \"{slot.c}\",\n"
		"      \"slots\": [ { \"name\": \"c\", \"type\": \"choise\", \"prompt\": \"Which?\",\n"
		"                   \"choices\": [\"x\"] } ] },\n"
		"    { \"name\": \"d\", \"keywords\": [\"d\"], \"reply\": \"\" }\n"
		"  ] }\n"
		"}\n";
	char *dir = make_temp_dir(), file[4096];
	struct vagent_diags d;
	struct vagent_error err;

	snprintf(file, sizeof(file), "%s/a.json", dir);
	write_file(file, text, strlen(text));
	vagent_diags_init(&d);
	ck_assert_int_eq(vagent_agent_validate(file, &d, &err), VAGENT_EINVAL);
	ck_assert_msg(d.n == 5, "%zu problems, first %s", d.n, d.lines[0]);
	ck_assert_ptr_nonnull(strstr(d.lines[0], ":3: tools[0].mock: must be an object (got an array)"));
	ck_assert_ptr_nonnull(strstr(d.lines[1], ":5: flow.intents[0].examples: must be an array"));
	ck_assert_ptr_nonnull(strstr(d.lines[2], ":5: flow.intents[0].reply: must be a string"));
	ck_assert_ptr_nonnull(strstr(d.lines[3], ":7: flow.intents[1].slots[0].type: unknown slot "
				     "type \"choise\" (did you mean \"choice\"?"));
	ck_assert_ptr_nonnull(strstr(d.lines[4], ":9: flow.intents[2].reply: must not be empty"));
	vagent_diags_clear(&d);
	remove_tree(dir);
	free(dir);
}
END_TEST

/* A file with more problems than a list keeps: VAGENT_DIAGS_MAX lines,
 * the rest counted; and lines are looked for only for those kept, so a
 * file with 100 000 problems is still checked quickly. */
START_TEST(test_validate_many_problems_capped)
{
	enum { KEYS = 300 };
	size_t cap = KEYS * 32 + 64, len = 0, i;
	char *t = malloc(cap), *path;
	struct vagent_diags d;
	struct vagent_error err;

	ck_assert_ptr_nonnull(t);
	len += (size_t)snprintf(t + len, cap - len, "{\n");
	for (i = 0; i < KEYS; i++)
		len += (size_t)snprintf(t + len, cap - len, "\"unknown%zu\": 1,\n", i);
	len += (size_t)snprintf(t + len, cap - len, "\"name\": \"x\"\n}\n");
	path = make_temp_dir();
	{
		char file[4096];

		snprintf(file, sizeof(file), "%s/many.json", path);
		write_file(file, t, len);
		vagent_diags_init(&d);
		ck_assert_int_eq(vagent_agent_validate(file, &d, &err), VAGENT_EINVAL);
		ck_assert_uint_eq(d.n, VAGENT_DIAGS_MAX);
		/* 300 unknown keys and the missing flow */
		ck_assert_uint_eq(d.n + d.dropped, KEYS + 1);
		ck_assert_ptr_nonnull(strstr(d.lines[0], "many.json:2: unknown0: unknown key"));
		ck_assert_ptr_nonnull(strstr(d.lines[VAGENT_DIAGS_MAX - 1],
					     "many.json:201: unknown199: unknown key"));
		vagent_diags_clear(&d);
	}
	remove_tree(path);
	free(path);
	free(t);
}
END_TEST

/* A scenario's tool mocks against an agent: every problem, in the
 * scenario's lines. */
START_TEST(test_mock_tools_diags)
{
	static const char text[] =
		"{\n"
		"  \"tools\": {\n"
		"    \"refund\": {},\n"
		"    \"order_status\": {\n"
		"      \"latency_ms\": -5,\n"
		"      \"faults\": [ { \"kind\": \"explode\" } ],\n"
		"      \"reslut\": {}\n"
		"    }\n"
		"  }\n"
		"}\n";
	struct vagent_agent *a = load_ok("fixtures/validate/agents/good.json");
	struct vagent_diags d;
	struct vagent_error err;

	vagent_diags_init(&d);
	ck_assert_int_eq(vagent_agent_mock_tools_diags(a, text, strlen(text), "sc.json", "tools",
						       &d, &err), VAGENT_EINVAL);
	ck_assert_uint_eq(d.n, 4);
	ck_assert_ptr_nonnull(strstr(d.lines[0], "sc.json:3: tools.refund: the agent "));
	ck_assert_ptr_nonnull(strstr(d.lines[0], "has no tool \"refund\""));
	ck_assert_str_eq(d.lines[1], "sc.json:5: tools.order_status.latency_ms: must be between "
			 "0 and 600000 (got -5)");
	ck_assert_str_eq(d.lines[2], "sc.json:6: tools.order_status.faults[0].kind: unknown "
			 "fault kind \"explode\" (one of delay, timeout, error, stall, disconnect, "
			 "malformed)");
	ck_assert_str_eq(d.lines[3], "sc.json:7: tools.order_status.reslut: unknown key "
			 "\"reslut\" (did you mean \"result\"?)");
	ck_assert_str_eq(err.message, d.lines[0]);
	vagent_diags_clear(&d);
	/* text that is not JSON: one line */
	ck_assert_int_eq(vagent_agent_mock_tools_diags(a, "{", 1, "sc.json", "tools", &d, &err),
			 VAGENT_EFORMAT);
	ck_assert_uint_eq(d.n, 1);
	ck_assert_str_eq(d.lines[0], "sc.json: invalid JSON");
	vagent_diags_clear(&d);
	vagent_agent_free(a);
}
END_TEST

START_TEST(test_missing_knowledge)
{
	const char *path = top_path("fixtures/agents/bad/knowledge-missing.json");
	struct vagent_agent *a = NULL;
	struct vagent_error err;
	char want[4096];

	ck_assert_int_eq(vagent_agent_load(path, &a, &err), VAGENT_ENOENT);
	snprintf(want, sizeof(want), "%s:4: knowledge[1]: no such file \"%s\"",
		 path, top_path("fixtures/agents/bad/missing.md"));
	ck_assert_str_eq(err.message, want);
	ck_assert_ptr_null(a);
}
END_TEST

START_TEST(test_env)
{
	static const char text[] =
		"{\n"
		"  \"variables\": {\n"
		"    \"a\": \"${VAGENT_TEST_ENV_A}/x\",\n"
		"    \"b\": \"${VAGENT_TEST_ENV_B:-fallback}\",\n"
		"    \"c\": \"pre-${VAGENT_TEST_ENV_A}-${VAGENT_TEST_ENV_B:-}-post\",\n"
		"    \"d\": \"no expansion $HOME\"\n"
		"  },\n"
		"  \"greeting\": \"This is an automated assistant.\",\n"
		"  \"flow\": { \"intents\": [ { \"name\": \"hi\", \"keywords\": [\"hi\"], \"reply\": \"Hi.\" } ] }\n"
		"}\n";
	struct vagent_agent *a = NULL;
	struct vagent_error err;

	setenv("VAGENT_TEST_ENV_A", "http://10.0.0.1:81", 1);
	unsetenv("VAGENT_TEST_ENV_B");
	ck_assert_int_eq(vagent_agent_parse(text, strlen(text), "env.json", NULL,
					    &a, &err), VAGENT_OK);
	ck_assert_uint_eq(a->n_variables, 4);
	ck_assert_str_eq(a->variables[0].value, "http://10.0.0.1:81/x");
	ck_assert_str_eq(a->variables[1].value, "fallback");
	ck_assert_str_eq(a->variables[2].value, "pre-http://10.0.0.1:81--post");
	ck_assert_str_eq(a->variables[3].value, "no expansion $HOME");
	vagent_agent_free(a);

	/* set overrides the default; unset without one is an error */
	setenv("VAGENT_TEST_ENV_B", "given", 1);
	ck_assert_int_eq(vagent_agent_parse(text, strlen(text), "env.json", NULL,
					    &a, &err), VAGENT_OK);
	ck_assert_str_eq(a->variables[1].value, "given");
	vagent_agent_free(a);
	unsetenv("VAGENT_TEST_ENV_A");
	ck_assert_int_eq(vagent_agent_parse(text, strlen(text), "env.json", NULL,
					    &a, &err), VAGENT_EINVAL);
	ck_assert_str_eq(err.message,
			 "env.json:3: variables.a: environment variable "
			 "VAGENT_TEST_ENV_A is not set (give a default: "
			 "${VAGENT_TEST_ENV_A:-VALUE}) (and 1 more problem)");
	unsetenv("VAGENT_TEST_ENV_B");
}
END_TEST

START_TEST(test_several_problems)
{
	static const char text[] =
		"{\n"
		"  \"rate\": 1,\n"
		"  \"nmae\": \"x\",\n"
		"  \"flow\": { \"intents\": [] }\n"
		"}\n";
	struct vagent_agent *a = NULL;
	struct vagent_error err;

	ck_assert_int_eq(vagent_agent_parse(text, strlen(text), "many.json", NULL,
					    &a, &err), VAGENT_EINVAL);
	ck_assert_str_eq(err.message,
			 "many.json:3: nmae: unknown key \"nmae\" (did you mean "
			 "\"name\"?) (and 2 more problems)");
}
END_TEST

START_TEST(test_load_errors)
{
	struct vagent_agent *a = NULL;
	struct vagent_error err;
	static const char nul[] = "{ \"name\": \"a\0b\" }";
	char *path;

	ck_assert_int_eq(vagent_agent_load(top_path("fixtures/agents/none.json"),
					   &a, &err), VAGENT_ENOENT);
	ck_assert_ptr_nonnull(strstr(err.message, "none.json"));
	ck_assert_ptr_null(a);
	ck_assert_int_eq(vagent_agent_parse(nul, sizeof(nul) - 1, "nul.json", NULL,
					    &a, &err), VAGENT_EFORMAT);
	ck_assert_str_eq(err.message, "nul.json: not a JSON text file (NUL byte)");
	ck_assert_int_eq(vagent_agent_parse("{", 1, "cut.json", NULL, &a, &err),
			 VAGENT_EFORMAT);
	ck_assert_str_eq(err.message, "cut.json:1: invalid JSON");
	ck_assert_int_eq(vagent_agent_parse("{} x", 4, "tail.json", NULL, &a, &err),
			 VAGENT_EFORMAT);
	ck_assert_str_eq(err.message, "tail.json:1: invalid JSON");
	ck_assert_int_eq(vagent_agent_load(NULL, &a, &err), VAGENT_EINVAL);
	ck_assert_int_eq(vagent_agent_parse("{}", 2, "x.json", NULL, NULL, &err),
			 VAGENT_EINVAL);
	path = make_temp_dir();
	ck_assert_int_ne(vagent_agent_load(path, &a, &err), VAGENT_OK);
	ck_assert_ptr_nonnull(strstr(err.message, path));
	ck_assert_ptr_null(a);
	remove_tree(path);
	free(path);
	vagent_agent_free(NULL);
}
END_TEST

START_TEST(test_expected_phrases)
{
	struct vagent_agent *a = load_ok("fixtures/agents/test-store.json");
	const char *const *p = vagent_agent_expected_phrases(a);
	size_t n = 0, i, j;
	bool example = false, keyword = false, digit = false, yes = false,
	     human = false;

	for (; p[n]; n++) {
		example |= strcmp(p[n], "where is my order") == 0;
		keyword |= strcmp(p[n], "money back") == 0;
		digit |= strcmp(p[n], "seven") == 0;
		yes |= strcmp(p[n], "yes") == 0;
		human |= strcmp(p[n], "a real person") == 0;
		for (i = 0; p[n][i]; i++)
			ck_assert(!(p[n][i] >= 'A' && p[n][i] <= 'Z'));
	}
	ck_assert(example && keyword && digit && yes && human);
	for (i = 0; i < n; i++)
		for (j = i + 1; j < n; j++)
			ck_assert_str_ne(p[i], p[j]);
	vagent_agent_free(a);
	ck_assert_ptr_null(vagent_agent_expected_phrases(NULL)[0]);
}
END_TEST

/* Inputs the fuzzer (tests/fuzz/fuzz_agent.c) found, minimised. */
START_TEST(test_fuzz_regressions)
{
	/* cJSON skips every byte up to the space as whitespace; the line
	 * locator looped on a control character before a value */
	static const char ctl[] =
		"{\n  \"name\":\x1a{ \"a\": 1 },\n"
		"  \"flow\": {\x01\"intents\": [ { \"nmae\": \"x\" } ] }\n}\n";
	static const char ctl2[] =
		"{\n\"flow\":\x01{\n\"intents\":\x02[\x1f\n{\x0b\"nmae\": \"x\" } ] } }\n";
	struct vagent_agent *a = NULL;
	struct vagent_error err;

	ck_assert_int_eq(vagent_agent_parse(ctl, strlen(ctl), "ctl.json", NULL, &a,
					    &err), VAGENT_EINVAL);
	ck_assert_str_eq(err.message, "ctl.json:2: name: must be a string (got an "
			 "object) (and 4 more problems)");
	ck_assert_ptr_null(a);
	/* and lines are counted through them */
	ck_assert_int_eq(vagent_agent_parse(ctl2, strlen(ctl2), "ctl2.json", NULL, &a,
					    &err), VAGENT_EINVAL);
	ck_assert_str_eq(err.message, "ctl2.json:4: flow.intents[0].nmae: unknown key "
			 "\"nmae\" (did you mean \"name\"?) (and 3 more problems)");
}
END_TEST

/* Big files stay n log n: 50 000 tools and intents referring to them,
 * 100 000 copies of one key. (A quadratic check would run into the
 * test's timeout.) */
START_TEST(test_big)
{
	enum { N = 50000, KEYS = 100000 };
	size_t cap = (size_t)N * 160 + 256, len = 0, i;
	char *t = malloc(cap);
	struct vagent_agent *a = NULL;
	struct vagent_error err;

	ck_assert_ptr_nonnull(t);
	len += (size_t)snprintf(t + len, cap - len,
				"{ \"greeting\": \"This is an automated assistant.\",\n"
				"\"tools\": [");
	for (i = 0; i < N; i++)
		len += (size_t)snprintf(t + len, cap - len,
					"%s{\"name\":\"t%zu\",\"mock\":{}}", i ? "," : "", i);
	len += (size_t)snprintf(t + len, cap - len, "],\n\"flow\": { \"intents\": [");
	for (i = 0; i < N; i++)
		len += (size_t)snprintf(t + len, cap - len,
					"%s{\"name\":\"i%zu\",\"keywords\":[\"k%zu\"],"
					"\"tool\":{\"name\":\"t%zu\"},\"reply\":\"ok\"}",
					i ? "," : "", i, i, N - 1 - i);
	len += (size_t)snprintf(t + len, cap - len, "] } }\n");
	ck_assert_uint_lt(len, cap);
	ck_assert_msg(vagent_agent_parse(t, len, "big.json", NULL, &a, &err) == VAGENT_OK,
		      "%s", err.message);
	ck_assert_uint_eq(a->n_tools, N);
	ck_assert_uint_eq(a->flow.n_intents, N);
	ck_assert_str_eq(a->flow.intents[7].tool, "t49992");
	vagent_agent_free(a);

	len = (size_t)snprintf(t, cap, "{");
	for (i = 0; i < KEYS; i++)
		len += (size_t)snprintf(t + len, cap - len, "%s\"name\":\"x\"", i ? "," : "");
	len += (size_t)snprintf(t + len, cap - len, "}");
	ck_assert_int_eq(vagent_agent_parse(t, len, "keys.json", NULL, &a, &err),
			 VAGENT_EINVAL);
	ck_assert_str_eq(err.message, "keys.json:1: name: duplicate key (and 99999 more "
			 "problems)");
	free(t);
}
END_TEST

Suite *suite_agent(void);
Suite *suite_agent(void)
{
	Suite *s = suite_create("agent");
	TCase *tc = tcase_create("agent");

	tcase_set_timeout(tc, 30);
	tcase_add_test(tc, test_full);
	tcase_add_test(tc, test_defaults);
	tcase_add_test(tc, test_no_input);
	tcase_add_test(tc, test_stt_denoise);
	tcase_add_test(tc, test_cloud_tts_fields);
	tcase_add_loop_test(tc, test_bad_file, 0,
			    (int)(sizeof(bad_files) / sizeof(bad_files[0])));
	tcase_add_test(tc, test_validate_every_problem);
	tcase_add_test(tc, test_validate_valid_and_unreadable);
	tcase_add_test(tc, test_validate_no_cascade);
	tcase_add_test(tc, test_validate_many_problems_capped);
	tcase_add_test(tc, test_mock_tools_diags);
	tcase_add_test(tc, test_missing_knowledge);
	tcase_add_test(tc, test_env);
	tcase_add_test(tc, test_several_problems);
	tcase_add_test(tc, test_load_errors);
	tcase_add_test(tc, test_expected_phrases);
	tcase_add_test(tc, test_fuzz_regressions);
	tcase_add_test(tc, test_big);
	suite_add_tcase(s, tc);
	return s;
}
