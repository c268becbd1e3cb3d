/*
 * check_elevenlabs.c — the ElevenLabs TTS provider (lib/cloudtts) on a
 * real-clock loop against the fake server (tests/support/fake_elevenlabs.c):
 * a sentence's audio is exactly the fake's speech for it, at 8 kHz (μ-law)
 * and 16 kHz (PCM), over the WebSocket and over HTTP; the next sentence
 * uses the socket opened ahead; cancel stops every callback and the fake
 * sees the connection closed; each fault is one on_error with the right
 * status and a one-line message naming elevenlabs and never the key; a 429
 * is retried. Then whole calls of the example agent with ElevenLabs as its
 * TTS and the OpenAI brain, both on fakes: a tool call, a barge-in that
 * closes the stream, a failure mid-sentence that falls back to flite.
 */
#include <check.h>
#include <cjson/cJSON.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "vagent.h"
#include "support/fake_elevenlabs.h"
#include "support/fake_openai.h"
#include "support/harness.h"

#define KEY   "el-test-key-0123456789abcdef"
#define VOICE "fakeVoice01"

struct seen {
	int16_t *audio;
	size_t n, cap;
	int audio_calls;
	int done;
	int first_bytes;
	int64_t first_byte_sent;
	uint64_t last_id;
	char error[512];
	vagent_status error_status;
	int errors;
};

static struct vagent_loop *loop;
static struct fake_elevenlabs *fake;
static struct vagent_tts *tts;
static struct seen seen;

static void on_audio(void *ctx, uint64_t id, const int16_t *samples, size_t n)
{
	struct seen *s = ctx;

	s->last_id = id;
	s->audio_calls++;
	if (s->n + n > s->cap) {
		s->cap = (s->n + n) * 2;
		s->audio = realloc(s->audio, s->cap * sizeof(int16_t));
		ck_assert(s->audio);
	}
	memcpy(s->audio + s->n, samples, n * sizeof(int16_t));
	s->n += n;
}

static void on_done(void *ctx, uint64_t id)
{
	struct seen *s = ctx;

	s->last_id = id;
	s->done++;
}

static void on_error(void *ctx, uint64_t id, vagent_status st, const char *message)
{
	struct seen *s = ctx;

	s->last_id = id;
	s->errors++;
	s->error_status = st;
	snprintf(s->error, sizeof(s->error), "%s", message);
}

static void on_first_byte(void *ctx, uint64_t id, int64_t sent)
{
	struct seen *s = ctx;

	(void)id;
	s->first_bytes++;
	s->first_byte_sent = sent;
}

static void setup(void)
{
	struct vagent_loop_config lc = vagent_loop_config_default();
	struct vagent_error err;

	lc.workers = 0;
	lc.clock = VAGENT_CLOCK_REAL;
	memset(&seen, 0, sizeof(seen));
	ck_assert(vagent_loop_new(&lc, &loop, &err) == VAGENT_OK);
}

static void teardown(void)
{
	vagent_tts_free(tts);
	tts = NULL;
	vagent_loop_free(loop);
	loop = NULL;
	fake_elevenlabs_stop(fake);
	fake = NULL;
	free(seen.audio);
	memset(&seen, 0, sizeof(seen));
}

static struct vagent_elevenlabs_config config(const char *transport, int rate)
{
	struct vagent_elevenlabs_config c = vagent_elevenlabs_tts_config_default();

	c.api_key = KEY;
	c.api_key_env = "VAGENT_TEST_EL_KEY";
	c.base_url = fake_elevenlabs_url(fake);
	c.voice_id = VOICE;
	c.transport = transport;
	c.rate = rate;
	return c;
}

static void make_tts(const struct vagent_elevenlabs_config *c)
{
	struct vagent_error err;

	ck_assert_msg(vagent_elevenlabs_tts_new(c, &tts, &err) == VAGENT_OK, "%s", err.message);
	tts->loop = loop;
	tts->on_audio = on_audio;
	tts->on_done = on_done;
	tts->on_error = on_error;
	tts->on_first_byte = on_first_byte;
	tts->ctx = &seen;
}

/* Run the loop until cond() holds, at most `ms`. */
static bool run_for(bool (*cond)(void), int ms)
{
	return loop_run_until_cond(loop, cond, ms);
}

static int want_done;
static bool ended(void) { return seen.done >= want_done || seen.errors > 0; }
static bool got_error(void) { return seen.errors > 0; }
static bool got_audio(void) { return seen.n > 0 || seen.errors > 0; }
static bool never(void) { return false; }

static void speak(uint64_t id, const char *text, int rate)
{
	struct vagent_error err;

	ck_assert_msg(tts->ops->speak(tts, id, text, rate, &err) == VAGENT_OK, "%s", err.message);
}

/* The fake's speech for `text` as the provider must hand it over. */
static void assert_audio_is(const char *text, int rate, bool ulaw)
{
	struct vagent_audio *a = NULL;
	struct vagent_error err;

	ck_assert(vagent_flite_synth(text, "slt", rate, &a, &err) == VAGENT_OK);
	ck_assert_uint_eq(seen.n, a->frames);
	for (size_t i = 0; i < a->frames; i++) {
		float v = a->samples[i] * 32767.0f;
		int16_t s = (int16_t)(v > 32767 ? 32767 : v < -32768 ? -32768 : v);

		if (ulaw)
			s = vagent_ulaw_decode(vagent_ulaw_encode(s));
		ck_assert_msg(seen.audio[i] == s, "sample %zu: %d, want %d", i, seen.audio[i], s);
	}
	vagent_audio_free(a);
}

/* The message is one line naming the provider, without the key. */
static void assert_clean_error(vagent_status st, const char *starts)
{
	ck_assert_msg(seen.errors == 1, "errors %d: %s", seen.errors, seen.error);
	ck_assert_msg(seen.error_status == st, "status %d: %s", seen.error_status, seen.error);
	ck_assert_msg(!strncmp(seen.error, starts, strlen(starts)), "%s", seen.error);
	ck_assert(!strchr(seen.error, '\n'));
	ck_assert(!strstr(seen.error, KEY));
}

static const char *const SENTENCE = "Your order has shipped and will arrive on Friday.";

static void one_sentence(const char *transport, int rate)
{
	struct vagent_elevenlabs_config c;
	struct fake_elevenlabs_config fc = fake_elevenlabs_config_default();
	struct fake_elevenlabs_stats st;
	struct vagent_elevenlabs_stats es;
	char want_q[128];
	int64_t before;

	fc.api_key = KEY;
	fc.voice_id = VOICE;
	fake = fake_elevenlabs_start(&fc);
	c = config(transport, rate);
	make_tts(&c);
	before = vagent_loop_now(loop);
	speak(7, SENTENCE, rate);
	want_done = 1;
	ck_assert(run_for(ended, 20000));
	ck_assert_msg(seen.errors == 0, "%s", seen.error);
	ck_assert_int_eq(seen.done, 1);
	ck_assert_uint_eq(seen.last_id, 7);
	assert_audio_is(SENTENCE, rate, rate == 8000);
	/* on_first_byte: once, with the time the text left */
	ck_assert_int_eq(seen.first_bytes, 1);
	ck_assert(seen.first_byte_sent >= before && seen.first_byte_sent <= vagent_loop_now(loop));
	fake_elevenlabs_get_stats(fake, &st);
	ck_assert_str_eq(st.key, KEY);
	ck_assert_str_eq(st.texts[0], SENTENCE);
	ck_assert_int_eq(st.sentences, 1);
	snprintf(want_q, sizeof(want_q), "output_format=%s", rate == 8000 ? "ulaw_8000" : "pcm_16000");
	ck_assert_msg(strstr(st.query, want_q), "%s", st.query);
	vagent_elevenlabs_tts_stats(tts, &es);
	ck_assert_int_eq(es.requests, 1);
	ck_assert_int_eq(es.done, 1);
	ck_assert_int_ge(es.first_byte_ms, 0);
	ck_assert_int_eq(es.audio_samples, (int64_t)seen.n);
	if (!strcmp(transport, "http")) {
		ck_assert_str_eq(st.path, "/v1/text-to-speech/" VOICE "/stream");
		ck_assert_int_eq(st.http_requests, 1);
		ck_assert_msg(strstr(st.body, "\"model_id\":\"eleven_flash_v2_5\""), "%s", st.body);
		ck_assert_int_eq(es.sockets_opened, 0);
	} else {
		ck_assert_str_eq(st.path, "/v1/text-to-speech/" VOICE "/stream-input");
		ck_assert_msg(strstr(st.query, "model_id=eleven_flash_v2_5"), "%s", st.query);
		ck_assert_int_ge(st.inits, 1);
		ck_assert_msg(strstr(st.init, "\"voice_settings\""), "%s", st.init);
		ck_assert_int_eq(st.flushes, 1);
		ck_assert_int_eq(st.eos, 1);
		ck_assert_int_eq(st.completed, 1);
		/* the sentence's socket and the spare for the next one */
		ck_assert_int_eq(es.sockets_opened, 2);
	}
}

START_TEST(test_ws_8k) { one_sentence("websocket", 8000); }
END_TEST
START_TEST(test_ws_16k) { one_sentence("websocket", 16000); }
END_TEST
START_TEST(test_http_8k) { one_sentence("http", 8000); }
END_TEST
START_TEST(test_http_16k) { one_sentence("http", 16000); }
END_TEST

static bool spare_closed(const struct fake_elevenlabs_stats *s, void *arg)
{
	(void)arg;
	return s->unused_closed >= 1;
}

START_TEST(test_ws_sentences_use_the_spare)
{
	struct fake_elevenlabs_config fc = fake_elevenlabs_config_default();
	struct vagent_elevenlabs_config c;
	struct vagent_elevenlabs_stats es;
	struct fake_elevenlabs_stats st;

	fc.api_key = KEY;
	fake = fake_elevenlabs_start(&fc);
	c = config("websocket", 8000);
	make_tts(&c);
	speak(1, "Hello there.", 8000);
	want_done = 1;
	ck_assert(run_for(ended, 20000));
	speak(2, "How can I help?", 8000);
	want_done = 2;
	ck_assert(run_for(ended, 20000));
	ck_assert_msg(seen.errors == 0, "%s", seen.error);
	ck_assert_int_eq(seen.first_bytes, 2);
	vagent_elevenlabs_tts_stats(tts, &es);
	/* sentence 1, the spare that said sentence 2, and the next spare */
	ck_assert_int_eq(es.sockets_opened, 3);
	fake_elevenlabs_get_stats(fake, &st);
	ck_assert_str_eq(st.texts[0], "Hello there.");
	ck_assert_str_eq(st.texts[1], "How can I help?");
	ck_assert_int_eq(st.completed, 2);
	/* the unused spare is closed when the provider stops */
	tts->ops->stop(tts);
	ck_assert(fake_elevenlabs_wait(fake, spare_closed, NULL, 5000));
}
END_TEST

START_TEST(test_blank_text)
{
	struct vagent_elevenlabs_config c;

	fake = fake_elevenlabs_start(&(struct fake_elevenlabs_config){ .api_key = KEY });
	c = config("websocket", 8000);
	make_tts(&c);
	speak(3, "  ", 8000);
	ck_assert_int_eq(seen.done, 0);    /* never inside speak */
	want_done = 1;
	ck_assert(run_for(ended, 2000));
	ck_assert_int_eq(seen.done, 1);
	ck_assert_uint_eq(seen.n, 0);
}
END_TEST

static bool closed_by_client(const struct fake_elevenlabs_stats *s, void *arg)
{
	(void)arg;
	return s->client_closed >= 1;
}

static void cancel_mid_sentence(const char *transport)
{
	struct fake_elevenlabs_config fc = fake_elevenlabs_config_default();
	struct vagent_elevenlabs_config c;
	struct vagent_elevenlabs_stats es;
	int calls;

	fc.api_key = KEY;
	fc.pace_ms = 100;          /* real time: the sentence lasts seconds */
	fake = fake_elevenlabs_start(&fc);
	c = config(transport, 8000);
	make_tts(&c);
	speak(5, SENTENCE, 8000);
	ck_assert(run_for(got_audio, 10000));
	ck_assert_int_eq(seen.errors, 0);
	tts->ops->cancel(tts, 5);
	calls = seen.audio_calls;
	ck_assert(!run_for(never, 600));
	/* no callback for the cancelled sentence */
	ck_assert_int_eq(seen.audio_calls, calls);
	ck_assert_int_eq(seen.done, 0);
	ck_assert_int_eq(seen.errors, 0);
	/* and the fake saw the connection closed mid-sentence */
	ck_assert(fake_elevenlabs_wait(fake, closed_by_client, NULL, 5000));
	vagent_elevenlabs_tts_stats(tts, &es);
	ck_assert_int_eq(es.cancels, 1);
}

START_TEST(test_ws_cancel) { cancel_mid_sentence("websocket"); }
END_TEST
START_TEST(test_http_cancel) { cancel_mid_sentence("http"); }
END_TEST

/* One sentence against a faulty fake: the error it ends with. */
static void faulty(const char *transport, struct fake_elevenlabs_config *fc,
		   struct vagent_elevenlabs_config *over)
{
	struct vagent_elevenlabs_config c;

	fc->api_key = fc->api_key ? fc->api_key : KEY;
	fake = fake_elevenlabs_start(fc);
	c = config(transport, 8000);
	if (over) {
		c.first_byte_timeout_ms = over->first_byte_timeout_ms;
		c.idle_timeout_ms = over->idle_timeout_ms;
		c.max_retries = over->max_retries;
	}
	make_tts(&c);
	speak(9, SENTENCE, 8000);
	ck_assert(run_for(got_error, 20000));
	ck_assert_int_eq(seen.done, 0);
	ck_assert_uint_eq(seen.last_id, 9);
}

START_TEST(test_malformed_frame)
{
	struct fake_elevenlabs_config fc = fake_elevenlabs_config_default();

	fc.malformed_at_chunk = 2;
	faulty("websocket", &fc, NULL);
	assert_clean_error(VAGENT_EPROTO, "elevenlabs: malformed message from the server");
}
END_TEST

START_TEST(test_audio_not_base64)
{
	struct fake_elevenlabs_config fc = fake_elevenlabs_config_default();

	fc.bad_audio_at_chunk = 2;
	faulty("websocket", &fc, NULL);
	assert_clean_error(VAGENT_EPROTO,
			   "elevenlabs: malformed message from the server (audio is not base64)");
}
END_TEST

START_TEST(test_ws_abrupt_close)
{
	struct fake_elevenlabs_config fc = fake_elevenlabs_config_default();

	fc.drop_after_chunks = 2;
	faulty("websocket", &fc, NULL);
	assert_clean_error(VAGENT_EPROVIDER,
			   "elevenlabs: the connection closed mid-sentence (code 1006)");
	ck_assert_uint_gt(seen.n, 0);
}
END_TEST

START_TEST(test_ws_server_error)
{
	struct fake_elevenlabs_config fc = fake_elevenlabs_config_default();

	fc.drop_after_chunks = 1;
	fc.error_after_drop = "something_went_wrong";
	faulty("websocket", &fc, NULL);
	assert_clean_error(VAGENT_EPROVIDER, "elevenlabs: server error something_went_wrong");
}
END_TEST

START_TEST(test_http_abrupt_close)
{
	struct fake_elevenlabs_config fc = fake_elevenlabs_config_default();

	fc.drop_after_chunks = 2;
	faulty("http", &fc, NULL);
	ck_assert_msg(seen.errors == 1 && !strncmp(seen.error, "elevenlabs: ", 12), "%s",
		      seen.error);
	ck_assert(!strstr(seen.error, KEY));
	ck_assert_uint_gt(seen.n, 0);
}
END_TEST

static void stall(const char *transport)
{
	struct fake_elevenlabs_config fc = fake_elevenlabs_config_default();
	struct vagent_elevenlabs_config over = vagent_elevenlabs_tts_config_default();

	fc.stall_after_chunks = 2;
	over.idle_timeout_ms = 400;
	faulty(transport, &fc, &over);
	assert_clean_error(VAGENT_ETIMEOUT, "elevenlabs: stream stalled (no audio for 400 ms)");
}

START_TEST(test_ws_stall) { stall("websocket"); }
END_TEST
START_TEST(test_http_stall) { stall("http"); }
END_TEST

START_TEST(test_slow_first_byte)
{
	struct fake_elevenlabs_config fc = fake_elevenlabs_config_default();
	struct vagent_elevenlabs_config over = vagent_elevenlabs_tts_config_default();

	fc.first_byte_delay_ms = 3000;
	over.first_byte_timeout_ms = 400;
	faulty("websocket", &fc, &over);
	assert_clean_error(VAGENT_ETIMEOUT, "elevenlabs: no audio within 400 ms");
	ck_assert_uint_eq(seen.n, 0);
}
END_TEST

static void auth(const char *transport, bool in_socket)
{
	struct fake_elevenlabs_config fc = fake_elevenlabs_config_default();

	fc.api_key = "another-key";
	fc.auth_in_socket = in_socket;
	faulty(transport, &fc, NULL);
	if (in_socket)
		assert_clean_error(VAGENT_EAUTH, "elevenlabs: authentication failed "
				   "(invalid_api_key; check VAGENT_TEST_EL_KEY)");
	else
		assert_clean_error(VAGENT_EAUTH, "elevenlabs: authentication failed "
				   "(HTTP 401; check VAGENT_TEST_EL_KEY)");
}

START_TEST(test_ws_401) { auth("websocket", false); }
END_TEST
START_TEST(test_ws_auth_in_socket) { auth("websocket", true); }
END_TEST
START_TEST(test_http_401) { auth("http", false); }
END_TEST

static void server_500(const char *transport)
{
	struct fake_elevenlabs_config fc = fake_elevenlabs_config_default();
	struct vagent_elevenlabs_config over = vagent_elevenlabs_tts_config_default();
	struct vagent_elevenlabs_stats es;

	fc.http_status = 500;
	over.max_retries = 1;
	faulty(transport, &fc, &over);
	ck_assert_msg(seen.error_status == VAGENT_EPROVIDER, "%s", seen.error);
	ck_assert_msg(strstr(seen.error, "500"), "%s", seen.error);
	assert_clean_error(VAGENT_EPROVIDER, "elevenlabs");
	vagent_elevenlabs_tts_stats(tts, &es);
	ck_assert_int_eq(es.retries, 1);
}

START_TEST(test_ws_500_retried_then_fails) { server_500("websocket"); }
END_TEST
START_TEST(test_http_500_retried_then_fails) { server_500("http"); }
END_TEST

static void retry_429(const char *transport)
{
	struct fake_elevenlabs_config fc = fake_elevenlabs_config_default();
	struct vagent_elevenlabs_config c;
	struct vagent_elevenlabs_stats es;
	struct fake_elevenlabs_stats st;

	fc.api_key = KEY;
	fc.http_status = 429;
	fc.fail_times = 1;
	fc.retry_after_s = 1;
	fake = fake_elevenlabs_start(&fc);
	c = config(transport, 8000);
	c.prewarm = false;
	make_tts(&c);
	speak(4, "One moment please.", 8000);
	want_done = 1;
	ck_assert(run_for(ended, 20000));
	ck_assert_msg(seen.errors == 0, "%s", seen.error);
	ck_assert_int_eq(seen.done, 1);
	ck_assert_int_eq(seen.first_bytes, 1);
	assert_audio_is("One moment please.", 8000, true);
	vagent_elevenlabs_tts_stats(tts, &es);
	ck_assert_int_eq(es.retries, 1);
	ck_assert_int_eq(es.attempts, 2);
	fake_elevenlabs_get_stats(fake, &st);
	ck_assert_int_eq(st.refused, 1);
}

START_TEST(test_ws_429_then_success) { retry_429("websocket"); }
END_TEST
START_TEST(test_http_429_then_success) { retry_429("http"); }
END_TEST

START_TEST(test_bad_configs)
{
	static const struct { const char *field, *value, *message; } bad[] = {
		{ "base_url", "ftp://x", "elevenlabs: base_url: not an http:// or https:// URL" },
		{ "base_url", "https://user:" KEY "@host", "elevenlabs: base_url: not an http" },
		{ "base_url", "https://host/?k=1", "elevenlabs: base_url: not an http" },
		{ "voice_id", "a/b", "elevenlabs: voice_id: not a voice id" },
		{ "model_id", "m?x=1", "elevenlabs: model_id: not a model id" },
		{ "transport", "grpc", "elevenlabs: transport: \"grpc\" (websocket or http)" },
		{ "output_format", "pcm_16000", "elevenlabs: output_format: \"pcm_16000\" does not match" },
		{ "api_key", "", "elevenlabs: no API key" },
	};
	struct vagent_error err;

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct vagent_elevenlabs_config c = vagent_elevenlabs_tts_config_default();

		c.api_key = KEY;
		if (!strcmp(bad[i].field, "base_url"))
			c.base_url = bad[i].value;
		else if (!strcmp(bad[i].field, "voice_id"))
			c.voice_id = bad[i].value;
		else if (!strcmp(bad[i].field, "model_id"))
			c.model_id = bad[i].value;
		else if (!strcmp(bad[i].field, "transport"))
			c.transport = bad[i].value;
		else if (!strcmp(bad[i].field, "output_format"))
			c.output_format = bad[i].value;
		else
			c.api_key = bad[i].value;
		ck_assert_int_eq(vagent_elevenlabs_tts_new(&c, &tts, &err), VAGENT_EINVAL);
		ck_assert_ptr_null(tts);
		ck_assert_msg(!strncmp(err.message, bad[i].message, strlen(bad[i].message)),
			      "%s: %s", bad[i].field, err.message);
		ck_assert(!strstr(err.message, KEY));
	}
	{
		struct vagent_elevenlabs_config c = vagent_elevenlabs_tts_config_default();

		c.api_key = KEY;
		c.rate = 44100;
		ck_assert_int_eq(vagent_elevenlabs_tts_new(&c, &tts, &err), VAGENT_EINVAL);
		c.rate = 8000;
		c.speed = 5;
		ck_assert_int_eq(vagent_elevenlabs_tts_new(&c, &tts, &err), VAGENT_EINVAL);
	}
}
END_TEST

/* ---- whole calls: the example agent with ElevenLabs and the OpenAI brain ---- */

/* The example agent with brain openai at `oa`, tts elevenlabs at `el`
 * (flite behind it), simulated STT; a scenario of `steps` against it, on
 * the virtual clock. Returns the finished run. */
static struct vagent_call_run *run_call(struct fake_openai *oa, const char *transport,
					const char *steps)
{
	char *text = read_file(top_path("scenarios/agents/store.json"), NULL);
	cJSON *agent = cJSON_Parse(text), *k;
	char *out, scenario[4096];
	struct vagent_scenario *sc = NULL;
	struct vagent_run_options ro = { .clock = VAGENT_CLOCK_VIRTUAL,
					 .reference_date = "2026-12-03",
					 .free_compute = true };
	struct vagent_call_run *r = NULL;
	struct vagent_error err;
	const char *agent_path;

	ck_assert_ptr_nonnull(agent);
	free(text);
	setenv("VAGENT_TEST_OPENAI_URL", fake_openai_url(oa), 1);
	setenv("VAGENT_TEST_OPENAI_KEY", "oa-key", 1);
	setenv("VAGENT_TEST_EL_KEY", KEY, 1);
	k = cJSON_CreateObject();
	cJSON_AddStringToObject(k, "provider", "openai");
	cJSON_AddStringToObject(k, "model", "fake-gpt");
	cJSON_AddStringToObject(k, "base_url", "${VAGENT_TEST_OPENAI_URL}");
	cJSON_AddStringToObject(k, "api_key_env", "VAGENT_TEST_OPENAI_KEY");
	cJSON_AddStringToObject(k, "fallback", "flow");
	cJSON_ReplaceItemInObject(agent, "brain", k);
	k = cJSON_CreateObject();
	cJSON_AddStringToObject(k, "provider", "sim");
	cJSON_ReplaceItemInObject(agent, "stt", k);
	k = cJSON_CreateObject();
	cJSON_AddStringToObject(k, "provider", "elevenlabs");
	cJSON_AddStringToObject(k, "voice", VOICE);
	cJSON_AddStringToObject(k, "model", "eleven_flash_v2_5");
	cJSON_AddStringToObject(k, "url", fake_elevenlabs_url(fake));
	cJSON_AddStringToObject(k, "api_key_env", "VAGENT_TEST_EL_KEY");
	cJSON_AddStringToObject(k, "transport", transport);
	cJSON_AddStringToObject(k, "fallback", "flite");
	cJSON_ReplaceItemInObject(agent, "tts", k);
	k = cJSON_CreateArray();
	cJSON_AddItemToArray(k, cJSON_CreateString(top_path("scenarios/agents/store-help.md")));
	cJSON_ReplaceItemInObject(agent, "knowledge", k);
	out = cJSON_Print(agent);
	agent_path = temp_file("agent.json", out);
	free(out);
	cJSON_Delete(agent);
	snprintf(scenario, sizeof(scenario),
		 "{\"name\": \"el-call\", \"agent\": \"%s\",\n"
		 " \"services\": {\"ACME_ORDERS_URL\": \"%s\"},\n"
		 " \"caller\": {\"voice\": \"rms\", \"rate\": 8000},\n"
		 " \"steps\": %s}\n", agent_path, top_path("scenarios/services/orders.json"),
		 steps);
	ck_assert_msg(vagent_scenario_load(temp_file("call.json", scenario), &sc, &err) == VAGENT_OK,
		      "%s", err.message);
	ck_assert_msg(vagent_scenario_run(sc, &ro, &r, &err) == VAGENT_OK, "%s", err.message);
	ck_assert_msg(vagent_session_result(r->session)->status == VAGENT_OK, "%s",
		      vagent_session_result(r->session)->error);
	return r;
}

static struct vagent_trace *trace_of(const struct vagent_call_run *r)
{
	struct vagent_trace *t = NULL;
	size_t len = 0;
	const char *text = vagent_session_trace(r->session, &len);

	ck_assert_int_eq(vagent_trace_parse(text, len, "trace", &t, NULL), VAGENT_OK);
	return t;
}

static const struct vagent_trace_event *first_of(const struct vagent_trace *t,
						 vagent_trace_type type)
{
	for (size_t i = 0; i < t->n; i++)
		if (t->events[i].type == type)
			return &t->events[i];
	return NULL;
}

static int count_of(const struct vagent_trace *t, vagent_trace_type type)
{
	int n = 0;

	for (size_t i = 0; i < t->n; i++)
		n += t->events[i].type == type;
	return n;
}

static void agent_said(const struct vagent_call_run *r, char *out, size_t size)
{
	const struct vagent_session_result *res = vagent_session_result(r->session);

	out[0] = '\0';
	for (size_t i = 0; i < res->n_turns; i++)
		if (res->turns[i].agent_text)
			snprintf(out + strlen(out), size - strlen(out), "[%d] %s\n",
				 res->turns[i].turn, res->turns[i].agent_text);
}

static bool all_completed(const struct fake_elevenlabs_stats *s, void *arg)
{
	(void)arg;
	return s->sentences > 0 && s->completed == s->sentences;
}

static void call_with_tool(const char *transport)
{
	struct fake_reply rep[] = {
		{ .match = "\"status\":\"shipped\"",
		  .text = "Your order has shipped with UPS. Anything else?" },
		{ .match = "order", .tool_name = "order_status",
		  .tool_args = "{\"order_number\":\"12345\"}" },
		{ .text = "Thanks for calling. Goodbye." },
	};
	struct fake_openai_config oc = { .replies = rep, .n_replies = 3, .pace_ms = 20,
					 .api_key = "oa-key" };
	struct fake_openai *oa = fake_openai_start(&oc);
	struct fake_elevenlabs_config fc = fake_elevenlabs_config_default();
	struct fake_elevenlabs_stats st;
	struct vagent_call_run *r;
	struct vagent_trace *t;
	const struct vagent_trace_event *ev;
	char said[4096];
	const char *trace;

	fc.api_key = KEY;
	fc.voice_id = VOICE;
	fake = fake_elevenlabs_start(&fc);
	orders_service_start();
	r = run_call(oa, transport, "[{\"say\": \"Hi, where is my order one two three four five?\"},"
		     " {\"say\": \"No, that's all. Goodbye.\"}]");
	t = trace_of(r);
	trace = vagent_session_trace(r->session, NULL);
	agent_said(r, said, sizeof(said));
	ck_assert_str_eq(r->stack->tts->name, "elevenlabs");
	ev = first_of(t, VAGENT_TRACE_TOOL_START);
	ck_assert_msg(ev != NULL, "no tool call:\n%s", trace);
	ck_assert_str_eq(ev->name, "order_status");
	ck_assert_msg(first_of(t, VAGENT_TRACE_FALLBACK) == NULL, "%s", trace);
	ck_assert_msg(strstr(said, "Your order has shipped with UPS. Anything else?"), "%s", said);
	ck_assert_msg(strstr(said, "Thanks for calling. Goodbye."), "%s", said);
	/* every sentence the agent said went through ElevenLabs (the fake
	 * counts the last one once its sending thread is past the end,
	 * which may be just after the call has heard it: wait for that) */
	ck_assert(fake_elevenlabs_wait(fake, all_completed, NULL, 5000));
	fake_elevenlabs_get_stats(fake, &st);
	ck_assert_int_eq(st.sentences, count_of(t, VAGENT_TRACE_TTS_REQUEST));
	ck_assert_int_eq(st.completed, st.sentences);
	ck_assert_int_eq(count_of(t, VAGENT_TRACE_TTS_FIRST_AUDIO), st.sentences);
	/* and each one's time to first byte is in the trace, per provider */
	{
		int tts_bytes = 0, llm_bytes = 0;

		for (size_t i = 0; i < t->n; i++) {
			const struct vagent_trace_event *e = &t->events[i];

			if (e->type != VAGENT_TRACE_PROVIDER_FIRST_BYTE)
				continue;
			ck_assert_int_ge(e->ttfb_us, 0);
			if (!strcmp(e->slot, "tts")) {
				ck_assert_str_eq(e->provider, "elevenlabs");
				tts_bytes++;
			} else if (!strcmp(e->slot, "llm")) {
				ck_assert_str_eq(e->provider, "openai");
				llm_bytes++;
			}
		}
		ck_assert_int_eq(tts_bytes, st.sentences);
		ck_assert_int_ge(llm_bytes, 3);
		ck_assert_str_eq(first_of(t, VAGENT_TRACE_TTS_FIRST_AUDIO)->provider, "elevenlabs");
	}
	ck_assert(!strstr(trace, KEY));
	vagent_trace_free(t);
	vagent_call_run_free(r);
	orders_service_stop();
	fake_openai_stop(oa);
}

START_TEST(test_call_ws_tool) { call_with_tool("websocket"); }
END_TEST
START_TEST(test_call_http_tool) { call_with_tool("http"); }
END_TEST

START_TEST(test_call_barge_in_closes_the_stream)
{
	struct fake_reply rep[] = {
		{ .match = "return", .text = "Our return policy is simple and generous for "
		  "every customer who buys anything from our store at any time of the year, "
		  "including the holidays and every weekend." },
		{ .text = "Sure. What is your order number?" },
	};
	struct fake_openai_config oc = { .replies = rep, .n_replies = 2, .pace_ms = 10,
					 .api_key = "oa-key" };
	struct fake_openai *oa = fake_openai_start(&oc);
	struct fake_elevenlabs_config fc = fake_elevenlabs_config_default();
	struct vagent_call_run *r;
	struct vagent_trace *t;
	char said[4096];
	const char *trace;

	fc.api_key = KEY;
	fc.pace_ms = 100;            /* 100 ms of audio every 100 ms: real time */
	fake = fake_elevenlabs_start(&fc);
	orders_service_start();
	r = run_call(oa, "websocket", "[{\"say\": \"What is your return policy?\"},"
		     " {\"say\": \"Sorry, where is my order?\", \"wait_for\": "
		     "\"agent_speaking\", \"after_ms\": 800}]");
	t = trace_of(r);
	trace = vagent_session_trace(r->session, NULL);
	agent_said(r, said, sizeof(said));
	ck_assert_msg(first_of(t, VAGENT_TRACE_BARGE_IN) != NULL, "no barge-in:\n%s", trace);
	/* the sentence's socket was closed at the barge-in, before its end */
	ck_assert_msg(fake_elevenlabs_wait(fake, closed_by_client, NULL, 10000), "%s", trace);
	ck_assert_msg(strstr(said, "Sure. What is your order number?"), "%s", said);
	ck_assert_msg(first_of(t, VAGENT_TRACE_FALLBACK) == NULL, "%s", trace);
	vagent_trace_free(t);
	vagent_call_run_free(r);
	orders_service_stop();
	fake_openai_stop(oa);
}
END_TEST

START_TEST(test_call_failure_mid_sentence_falls_back_to_flite)
{
	struct fake_reply rep[] = {
		{ .match = "order", .text = "Let me look into that for you. "
		  "I can check any order with its number." },
		{ .text = "Thanks for calling. Goodbye." },
	};
	struct fake_openai_config oc = { .replies = rep, .n_replies = 2, .pace_ms = 10,
					 .api_key = "oa-key" };
	struct fake_openai *oa = fake_openai_start(&oc);
	struct fake_elevenlabs_config fc = fake_elevenlabs_config_default();
	struct vagent_call_run *r;
	struct vagent_trace *t;
	const struct vagent_trace_event *ev;
	char said[4096];
	const char *trace;

	fc.api_key = KEY;
	fc.fault_sentence = 2;       /* the greeting is 1 */
	fc.drop_after_chunks = 2;
	fake = fake_elevenlabs_start(&fc);
	orders_service_start();
	r = run_call(oa, "websocket", "[{\"say\": \"Can you help me with my order?\"},"
		     " {\"say\": \"No, that's all. Goodbye.\"}]");
	t = trace_of(r);
	trace = vagent_session_trace(r->session, NULL);
	agent_said(r, said, sizeof(said));
	ev = first_of(t, VAGENT_TRACE_FALLBACK);
	ck_assert_msg(ev != NULL, "no fallback:\n%s", trace);
	ck_assert_str_eq(ev->slot, "tts");
	ck_assert_msg(strstr(trace, "\"from\":\"elevenlabs\",\"to\":\"flite\""), "%s", trace);
	/* flite said the rest and the call went on to its goodbye */
	ck_assert_msg(strstr(said, "Thanks for calling. Goodbye."), "%s", said);
	ck_assert(!strstr(trace, KEY));
	vagent_trace_free(t);
	vagent_call_run_free(r);
	orders_service_stop();
	fake_openai_stop(oa);
}
END_TEST

/* `vagent run` of the example agent's order-status scenario (flow brain,
 * pocketsphinx, the virtual clock) with ElevenLabs as the TTS:
 * the scenario's expectations pass and every sentence came from the fake. */
START_TEST(test_cli_order_status)
{
	char *text = read_file(top_path("scenarios/agents/store.json"), NULL);
	char *help = read_file(top_path("scenarios/agents/store-help.md"), NULL);
	const char *old = "\"tts\": { \"provider\": \"flite\", \"voice\": \"slt\" }";
	char *at, tts_obj[512], *out, *trace, agent[1024], outdir[1024];
	struct fake_elevenlabs_config fc = fake_elevenlabs_config_default();
	struct fake_elevenlabs_stats st;
	struct run_result rr;
	size_t len;
	int requests = 0;

	fc.api_key = KEY;
	fc.voice_id = VOICE;
	fake = fake_elevenlabs_start(&fc);
	ck_assert(text && help);
	at = strstr(text, old);
	ck_assert_msg(at, "the example agent's tts line changed");
	snprintf(tts_obj, sizeof(tts_obj),
		 "\"tts\": {\"provider\": \"elevenlabs\", \"voice\": \"%s\", \"url\": \"%s\", "
		 "\"api_key_env\": \"VAGENT_TEST_EL_KEY\", \"fallback\": \"flite\"}",
		 VOICE, fake_elevenlabs_url(fake));
	len = strlen(text) - strlen(old) + strlen(tts_obj);
	out = malloc(len + 1);
	ck_assert(out);
	memcpy(out, text, (size_t)(at - text));
	strcpy(out + (at - text), tts_obj);
	strcat(out, at + strlen(old));
	temp_file("store-help.md", help);
	temp_file("agent.json", out);
	free(text);
	free(help);
	free(out);
	setenv("VAGENT_TEST_EL_KEY", KEY, 1);
	snprintf(agent, sizeof(agent), "%s", temp_path("agent.json"));
	snprintf(outdir, sizeof(outdir), "%s", temp_path("out"));
	/* --compute free: the call's course does not hang on this machine's
	 * speed (pocketsphinx under a sanitizer on a loaded machine) */
	rr = run_vagent("run", "--compute", "free", "--agent", agent, "--out", outdir,
			top_path("scenarios/order-status.json"), NULL);
	ck_assert_msg(rr.exit_code == 0, "exit %d\n%.2000s\n%.1000s", rr.exit_code, rr.out, rr.err);
	trace = read_file(temp_path("out/order-status.trace.jsonl"), NULL);
	ck_assert(trace);
	ck_assert_msg(!strstr(trace, "\"type\":\"fallback\""), "%.3000s", trace);
	for (const char *p = trace; (p = strstr(p, "\"type\":\"tts.request\"")); p++)
		requests++;
	fake_elevenlabs_get_stats(fake, &st);
	ck_assert_int_ge(requests, 3);
	ck_assert_int_eq(st.sentences, requests);
	ck_assert_int_eq(st.completed, requests);
	ck_assert_msg(strstr(st.query, "output_format=pcm_16000"), "%s", st.query);
	ck_assert(!strstr(trace, KEY) && !strstr(rr.out, KEY) && !strstr(rr.err, KEY));
	free(trace);
	run_result_free(&rr);
}
END_TEST

/* The stack refuses an agent whose key variable is unset, naming it. */
START_TEST(test_stack_missing_key)
{
	char *text = read_file(top_path("scenarios/agents/store.json"), NULL);
	cJSON *agent = cJSON_Parse(text), *k;
	struct vagent_stack_options so = { .rate = 8000 };
	struct vagent_agent_stack *stack = NULL;
	struct vagent_agent *a = NULL;
	struct vagent_error err;
	char *out;

	ck_assert_ptr_nonnull(agent);
	free(text);
	k = cJSON_CreateObject();
	cJSON_AddStringToObject(k, "provider", "elevenlabs");
	cJSON_AddStringToObject(k, "api_key_env", "VAGENT_TEST_EL_NOKEY");
	cJSON_ReplaceItemInObject(agent, "tts", k);
	k = cJSON_CreateArray();
	cJSON_AddItemToArray(k, cJSON_CreateString(top_path("scenarios/agents/store-help.md")));
	cJSON_ReplaceItemInObject(agent, "knowledge", k);
	out = cJSON_Print(agent);
	cJSON_Delete(agent);
	unsetenv("VAGENT_TEST_EL_NOKEY");
	ck_assert_msg(vagent_agent_load(temp_file("agent.json", out), &a, &err) == VAGENT_OK,
		      "%s", err.message);
	free(out);
	ck_assert_int_eq(vagent_agent_stack_new(a, &so, &stack, &err), VAGENT_EINVAL);
	ck_assert_msg(strstr(err.message, "tts: VAGENT_TEST_EL_NOKEY is not set "
			     "(the ElevenLabs API key)"), "%s", err.message);
	ck_assert_ptr_null(stack);
	/* with the key: an ElevenLabs provider, flite behind it when asked */
	setenv("VAGENT_TEST_EL_NOKEY", KEY, 1);
	ck_assert_msg(vagent_agent_stack_new(a, &so, &stack, &err) == VAGENT_OK, "%s", err.message);
	ck_assert_str_eq(stack->tts->name, "elevenlabs");
	vagent_agent_stack_free(stack);
	unsetenv("VAGENT_TEST_EL_NOKEY");
	vagent_agent_free(a);
}
END_TEST

Suite *suite_elevenlabs(void)
{
	Suite *s = suite_create("elevenlabs");
	TCase *tc = tcase_create("provider");
	TCase *calls;

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, test_ws_8k);
	tcase_add_test(tc, test_ws_16k);
	tcase_add_test(tc, test_http_8k);
	tcase_add_test(tc, test_http_16k);
	tcase_add_test(tc, test_ws_sentences_use_the_spare);
	tcase_add_test(tc, test_blank_text);
	tcase_add_test(tc, test_ws_cancel);
	tcase_add_test(tc, test_http_cancel);
	tcase_add_test(tc, test_malformed_frame);
	tcase_add_test(tc, test_audio_not_base64);
	tcase_add_test(tc, test_ws_abrupt_close);
	tcase_add_test(tc, test_ws_server_error);
	tcase_add_test(tc, test_http_abrupt_close);
	tcase_add_test(tc, test_ws_stall);
	tcase_add_test(tc, test_http_stall);
	tcase_add_test(tc, test_slow_first_byte);
	tcase_add_test(tc, test_ws_401);
	tcase_add_test(tc, test_ws_auth_in_socket);
	tcase_add_test(tc, test_http_401);
	tcase_add_test(tc, test_ws_500_retried_then_fails);
	tcase_add_test(tc, test_http_500_retried_then_fails);
	tcase_add_test(tc, test_ws_429_then_success);
	tcase_add_test(tc, test_http_429_then_success);
	tcase_add_test(tc, test_bad_configs);
	suite_add_tcase(s, tc);

	calls = tcase_create("calls");
	tcase_add_checked_fixture(calls, temp_dir_setup, temp_dir_teardown);
	tcase_add_checked_fixture(calls, setup, teardown);
	tcase_set_timeout(calls, 60);
	tcase_add_test(calls, test_call_ws_tool);
	tcase_add_test(calls, test_call_http_tool);
	tcase_add_test(calls, test_call_barge_in_closes_the_stream);
	tcase_add_test(calls, test_call_failure_mid_sentence_falls_back_to_flite);
	tcase_add_test(calls, test_cli_order_status);
	tcase_add_test(calls, test_stack_missing_key);
	suite_add_tcase(s, calls);
	return s;
}
