/*
 * check_cloud.c — the example agent (scenarios/agents/store.json) with a
 * cloud provider in every slot at once, each against its local fake:
 * Deepgram live STT, the OpenAI Chat Completions brain and ElevenLabs over
 * the stream-input WebSocket, through `vagent run --clock real` as a user
 * runs it. The barge-in scenario passes its expectations (the agent stops
 * within 400 ms, the LLM's tool call with the caller's order number, the
 * cut greeting not heard after the interruption) and ElevenLabs sees the
 * cut sentence's socket closed; every slot's time to first byte is in the
 * trace under its provider's name. A second call breaks the LLM and the
 * synthesiser mid-stream: the flow brain and flite — the embedded stack —
 * take over and the call still ends well. No key appears anywhere.
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "vagent.h"
#include "support/fake_deepgram.h"
#include "support/fake_elevenlabs.h"
#include "support/fake_openai.h"
#include "support/harness.h"

#define DG_KEY "dg-cloud-KEY-0a9b8c7d6e"
#define OA_KEY "sk-cloud-KEY-1f2e3d4c5b"
#define EL_KEY "el-cloud-KEY-6a7b8c9d0e"
#define VOICE "cloud-voice"

static struct fake_deepgram *dg;
static struct fake_openai *oa;
static struct fake_elevenlabs *el;

/* The example agent with every slot in the cloud, the embedded stack
 * behind each (stt pocketsphinx, brain flow, tts flite). */
static const char *write_cloud_agent(void)
{
	char *text = read_file(top_path("scenarios/agents/store.json"), NULL);
	cJSON *agent = cJSON_Parse(text), *k;
	char *out;
	const char *path;

	ck_assert_ptr_nonnull(agent);
	free(text);
	k = cJSON_CreateObject();
	cJSON_AddStringToObject(k, "provider", "deepgram");
	cJSON_AddStringToObject(k, "url", fake_deepgram_url(dg));
	cJSON_AddStringToObject(k, "api_key_env", "VAGENT_TEST_DG_KEY");
	cJSON_AddNumberToObject(k, "endpointing_ms", 600);
	cJSON_AddStringToObject(k, "fallback", "pocketsphinx");
	cJSON_ReplaceItemInObject(agent, "stt", k);
	k = cJSON_CreateObject();
	cJSON_AddStringToObject(k, "provider", "openai");
	cJSON_AddStringToObject(k, "model", "fake-gpt");
	cJSON_AddStringToObject(k, "base_url", fake_openai_url(oa));
	cJSON_AddStringToObject(k, "api_key_env", "VAGENT_TEST_OA_KEY");
	cJSON_AddStringToObject(k, "fallback", "flow");
	cJSON_ReplaceItemInObject(agent, "brain", k);
	k = cJSON_CreateObject();
	cJSON_AddStringToObject(k, "provider", "elevenlabs");
	cJSON_AddStringToObject(k, "voice", VOICE);
	cJSON_AddStringToObject(k, "url", fake_elevenlabs_url(el));
	cJSON_AddStringToObject(k, "api_key_env", "VAGENT_TEST_EL_KEY");
	cJSON_AddStringToObject(k, "fallback", "flite");
	cJSON_ReplaceItemInObject(agent, "tts", k);
	k = cJSON_CreateArray();
	cJSON_AddItemToArray(k, cJSON_CreateString(top_path("scenarios/agents/store-help.md")));
	cJSON_ReplaceItemInObject(agent, "knowledge", k);
	out = cJSON_Print(agent);
	path = temp_file("cloud-agent.json", out);
	free(out);
	cJSON_Delete(agent);
	setenv("VAGENT_TEST_DG_KEY", DG_KEY, 1);
	setenv("VAGENT_TEST_OA_KEY", OA_KEY, 1);
	setenv("VAGENT_TEST_EL_KEY", EL_KEY, 1);
	return path;
}

static void start_fakes(const char *const *script, struct fake_reply *replies, size_t n,
			const struct fake_elevenlabs_config *elc)
{
	struct fake_deepgram_config dc = fake_deepgram_config_default();
	struct fake_openai_config oc = { .replies = replies, .n_replies = n, .pace_ms = 20,
					 .api_key = OA_KEY };

	dc.script = script;
	dc.api_key = DG_KEY;
	dg = fake_deepgram_start(&dc);
	oa = fake_openai_start(&oc);
	el = fake_elevenlabs_start(elc);
	ck_assert(dg && oa && el);
}

static void stop_fakes(void)
{
	fake_deepgram_stop(dg);
	fake_openai_stop(oa);
	fake_elevenlabs_stop(el);
	dg = NULL;
	oa = NULL;
	el = NULL;
}

/* `vagent run --clock real` of scenario `rel` with the cloud agent; the
 * trace of the call named `call` (malloc'd) and the run's exit. */
static char *run_cloud(const char *rel, const char *call, struct run_result *r)
{
	char agent[1024], outdir[1024], trace[1200];

	snprintf(agent, sizeof(agent), "%s", write_cloud_agent());
	snprintf(outdir, sizeof(outdir), "%s", temp_path("out"));
	*r = run_vagent("run", "--clock", "real", "--agent", agent, "--out", outdir,
			top_path(rel), NULL);
	snprintf(trace, sizeof(trace), "out/%s.trace.jsonl", call);
	return read_file(temp_path(trace), NULL);
}

/* A trace line of `type` that also has `field` (a JSON fragment). */
static bool has_event(const char *trace, const char *type, const char *field)
{
	char want[128];
	const char *p = trace;

	snprintf(want, sizeof(want), "\"type\":\"%s\"", type);
	while ((p = strstr(p, want)) != NULL) {
		const char *end = strchr(p, '\n');
		const char *f = strstr(p, field);

		if (f && (!end || f < end))
			return true;
		p += strlen(want);
	}
	return false;
}

static void assert_no_key(const char *trace, const struct run_result *r)
{
	static const char *const keys[] = { DG_KEY, OA_KEY, EL_KEY, "cloud-KEY" };

	for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++) {
		ck_assert(!strstr(trace, keys[i]));
		ck_assert(!strstr(r->out, keys[i]));
		ck_assert(!strstr(r->err, keys[i]));
	}
}

static const char *const barge_in_script[] = {
	"sorry where is my order", "four zero seven two one", "no that's all goodbye", NULL,
};

/* The LLM's answers, on the last message (the caller's words or a tool's
 * result). */
static struct fake_reply barge_in_replies[] = {
	{ .match = "\"status\"", .text = "Order 4 0 7 2 1 has shipped. Anything else?" },
	{ .match = "four zero seven", .tool_name = "order_status",
	  .tool_args = "{\"order_number\":\"40721\"}" },
	{ .match = "where is my order", .text = "Sure. What is your five digit order number?" },
	{ .text = "Thanks for calling. Goodbye." },
};

START_TEST(test_barge_in_every_slot_cloud)
{
	struct fake_elevenlabs_config ec = fake_elevenlabs_config_default();
	struct fake_elevenlabs_stats es;
	struct fake_deepgram_stats ds;
	struct run_result r;
	char *trace;

	ec.api_key = EL_KEY;
	ec.voice_id = VOICE;
	/* audio at the pace it plays, as the real service streams it, so the
	 * greeting is still coming when the caller cuts in */
	ec.pace_ms = ec.chunk_ms;
	start_fakes(barge_in_script, barge_in_replies,
		    sizeof(barge_in_replies) / sizeof(barge_in_replies[0]), &ec);
	trace = run_cloud("scenarios/barge-in.json", "barge-in", &r);
	ck_assert_msg(trace != NULL, "no trace: exit %d\n%.1500s\n%.1500s", r.exit_code, r.out,
		      r.err);
	/* the scenario's own expectations: barge-in stop < 400 ms, the tool
	 * with the caller's number, the cut greeting not heard again */
	ck_assert_msg(r.exit_code == 0, "exit %d\n%.1000s\n%.1000s\n%.2000s", r.exit_code, r.out,
		      r.err, trace);
	ck_assert(!strstr(trace, "\"type\":\"fallback\""));
	/* the header names the agent tested (--agent), not the scenario's */
	ck_assert_msg(strstr(r.out, "== barge-in  (agent ") &&
		      strstr(r.out, "cloud-agent.json, caller voice rms"), "%.500s", r.out);
	ck_assert(has_event(trace, "barge_in", "\"onset_ms\""));
	ck_assert(has_event(trace, "tool.start", "\"order_number\":\"40721\""));
	/* every slot's provider and its time to first byte */
	ck_assert(has_event(trace, "provider.first_byte", "\"slot\":\"stt\",\"provider\":\"deepgram\""));
	ck_assert(has_event(trace, "provider.first_byte", "\"slot\":\"llm\",\"provider\":\"openai\""));
	ck_assert(has_event(trace, "provider.first_byte",
			    "\"slot\":\"tts\",\"provider\":\"elevenlabs\""));
	ck_assert(has_event(trace, "stt.final", "\"provider\":\"deepgram\""));
	ck_assert(has_event(trace, "tts.first_audio", "\"provider\":\"elevenlabs\""));
	/* the interrupted greeting's socket was closed by vagent, not finished */
	fake_elevenlabs_get_stats(el, &es);
	ck_assert_int_ge(es.client_closed, 1);
	fake_deepgram_get_stats(dg, &ds);
	ck_assert_int_eq(ds.closestream, 1);
	ck_assert_int_ge(fake_openai_requests(oa), 3);
	assert_no_key(trace, &r);
	free(trace);
	run_result_free(&r);
	stop_fakes();
}
END_TEST

static const char *const order_script[] = {
	"hi i'd like to check on my order", "it's one two three four five",
	"no that's all goodbye", NULL,
};

/* Every LLM answer breaks after its first chunk (the role, before any
 * text): the stream was open, so this is a mid-stream failure, and the
 * flow answers the same turn. */
static struct fake_reply failing_replies[] = {
	{ .text = "Sure, I can help with that order today.", .fault = FAKE_ABRUPT_CLOSE,
	  .fault_after = 1 },
};

START_TEST(test_mid_stream_failures_fall_back_to_embedded)
{
	struct fake_elevenlabs_config ec = fake_elevenlabs_config_default();
	struct run_result r;
	char *trace;

	ec.api_key = EL_KEY;
	ec.voice_id = VOICE;
	/* the greeting's second sentence vanishes after one chunk of audio */
	ec.fault_sentence = 2;
	ec.drop_after_chunks = 1;
	start_fakes(order_script, failing_replies, 1, &ec);
	trace = run_cloud("scenarios/order-status.json", "order-status", &r);
	ck_assert_msg(trace != NULL, "no trace: exit %d\n%.1500s\n%.1500s", r.exit_code, r.out,
		      r.err);
	ck_assert_msg(has_event(trace, "fallback", "\"slot\":\"tts\",\"from\":\"elevenlabs\","
				"\"to\":\"flite\""), "%.3000s", trace);
	ck_assert_msg(has_event(trace, "fallback", "\"slot\":\"llm\",\"from\":\"openai\","
				"\"to\":\"flow\""), "%.3000s", trace);
	/* the embedded stack finishes the call: the flow's tool call and its
	 * answer, spoken by flite, and the agent's goodbye */
	ck_assert_msg(r.exit_code == 0, "exit %d\n%.1000s\n%.1000s\n%.2000s", r.exit_code, r.out,
		      r.err, trace);
	ck_assert(has_event(trace, "tool.start", "\"order_number\":\"12345\""));
	ck_assert(has_event(trace, "tts.first_audio", "\"provider\":\"flite\""));
	ck_assert(has_event(trace, "llm.first_token", "\"provider\":\"flow\""));
	ck_assert(has_event(trace, "error", "the stream ended early"));
	ck_assert(has_event(trace, "call.end", "\"reason\":\"agent_hangup\""));
	assert_no_key(trace, &r);
	free(trace);
	run_result_free(&r);
	stop_fakes();
}
END_TEST

Suite *suite_cloud(void)
{
	Suite *s = suite_create("cloud");
	TCase *tc = tcase_create("every slot cloud");

	tcase_add_checked_fixture(tc, temp_dir_setup, temp_dir_teardown);
	/* real-clock calls of 20-40 s, slower under the sanitizers */
	tcase_set_timeout(tc, 240);
	tcase_add_test(tc, test_barge_in_every_slot_cloud);
	tcase_add_test(tc, test_mid_stream_failures_fall_back_to_embedded);
	suite_add_tcase(s, tc);
	return s;
}
