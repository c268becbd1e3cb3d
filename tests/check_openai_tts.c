/*
 * check_openai_tts.c — OpenAI speech (lib/cloudtts/openai_tts.c) against
 * the fake server (tests/support/fake_openai_tts.c), which speaks each
 * sentence with flite at 24 kHz: the audio arrives resampled to 8 and
 * 16 kHz with the right length (on the virtual clock: the loop waits for
 * the transfer), odd byte splits change nothing, cancel stops callbacks
 * and closes the connection, each fault is one on_error naming the
 * provider and never the key, 429/5xx are retried before the first byte,
 * on_first_byte comes once per sentence; and whole calls of the test
 * agent speak through it, falling back to flite when it fails mid-sentence.
 */
#include <check.h>
#include <cjson/cJSON.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "vagent.h"
#include "support/fake_openai_tts.h"
#include "support/harness.h"

#define KEY "sk-test-openai-tts-0123456789"
#define SENTENCE "Your order has shipped and arrives on Friday."

static struct vagent_loop *loop;
static struct fake_openai_tts *fake;
static struct vagent_tts *tts;
static int n_done, n_errors, n_first, n_audio, n_after_cancel;
static bool cancelled, stop_on_audio;
static uint64_t last_id;
static int64_t first_sent;
static char error_text[512];
static vagent_status error_status;
static int16_t *heard;
static size_t n_heard, cap_heard;

static void on_audio(void *ctx, uint64_t id, const int16_t *s, size_t n)
{
	(void)ctx;
	last_id = id;
	n_audio++;
	if (cancelled)
		n_after_cancel++;
	if (n_heard + n > cap_heard) {
		cap_heard = (n_heard + n) * 2;
		heard = realloc(heard, cap_heard * sizeof(*heard));
		ck_assert(heard);
	}
	memcpy(heard + n_heard, s, n * sizeof(*s));
	n_heard += n;
	if (stop_on_audio)
		vagent_loop_stop(loop);
}

static void on_done(void *ctx, uint64_t id)
{
	(void)ctx;
	last_id = id;
	n_done++;
	if (cancelled)
		n_after_cancel++;
}

static void on_error(void *ctx, uint64_t id, vagent_status st, const char *message)
{
	(void)ctx;
	last_id = id;
	n_errors++;
	if (cancelled)
		n_after_cancel++;
	error_status = st;
	snprintf(error_text, sizeof(error_text), "%s", message);
}

static void on_first_byte(void *ctx, uint64_t id, int64_t sent)
{
	(void)ctx;
	(void)id;
	n_first++;
	first_sent = sent;
}

static void start_loop(enum vagent_clock_type clock)
{
	struct vagent_loop_config lc = vagent_loop_config_default();
	struct vagent_error err;

	lc.clock = clock;
	lc.workers = 1;
	ck_assert(vagent_loop_new(&lc, &loop, &err) == VAGENT_OK);
}

static void setup(void)
{
	n_done = n_errors = n_first = n_audio = n_after_cancel = 0;
	cancelled = stop_on_audio = false;
	error_text[0] = '\0';
	n_heard = 0;
	first_sent = -1;
	start_loop(VAGENT_CLOCK_VIRTUAL);
}

static void teardown(void)
{
	if (tts)
		tts->ops->stop(tts);
	vagent_tts_free(tts);
	tts = NULL;
	vagent_loop_free(loop);
	loop = NULL;
	fake_openai_tts_stop(fake);
	fake = NULL;
	free(heard);
	heard = NULL;
	cap_heard = n_heard = 0;
}

static struct vagent_openai_tts_config config(void)
{
	struct vagent_openai_tts_config c = vagent_openai_tts_config_default();

	c.api_key = KEY;
	return c;
}

static void make_tts(struct vagent_openai_tts_config *c)
{
	struct vagent_error err;

	c->base_url = fake_openai_tts_url(fake);
	ck_assert_msg(vagent_openai_tts_new(c, &tts, &err) == VAGENT_OK, "%s", err.message);
	tts->loop = loop;
	tts->on_audio = on_audio;
	tts->on_done = on_done;
	tts->on_error = on_error;
	tts->on_first_byte = on_first_byte;
}

static void speak(uint64_t id, const char *text, int rate)
{
	struct vagent_error err;

	ck_assert_msg(tts->ops->speak(tts, id, text, rate, &err) == VAGENT_OK, "%s",
		      err.message);
}

static void run_idle(void)
{
	struct vagent_error err;

	ck_assert(vagent_loop_run(loop, VAGENT_RUN_UNTIL_IDLE, &err) == VAGENT_OK);
}

/* One sentence at `rate` on the virtual clock: the length is the fake's
 * 24 kHz audio at that rate. */
static void one_sentence(int rate)
{
	struct fake_openai_tts_config fc = { .api_key = KEY };
	struct vagent_openai_tts_config c = config();
	struct fake_openai_tts_stats st;
	struct vagent_openai_tts_stats ps;
	long wire = fake_openai_tts_samples_for(SENTENCE);
	long want = (long)((double)wire * rate / 24000 + 0.5);

	fake = fake_openai_tts_start(&fc);
	make_tts(&c);
	speak(7, SENTENCE, rate);
	ck_assert_int_eq(n_audio, 0);           /* never from inside speak */
	run_idle();
	ck_assert_msg(!n_errors, "%s", error_text);
	ck_assert_int_eq(n_done, 1);
	ck_assert_uint_eq(last_id, 7);
	ck_assert_int_eq(n_first, 1);
	ck_assert_int_ge(first_sent, 0);
	ck_assert_msg(wire > 24000, "%ld", wire);   /* over a second of speech */
	ck_assert_msg(labs((long)n_heard - want) <= 2, "%zu samples, want %ld", n_heard, want);
	fake_openai_tts_get_stats(fake, &st);
	ck_assert_int_eq(st.requests, 1);
	ck_assert_int_eq(st.completed, 1);
	ck_assert(st.json_ok);
	ck_assert_str_eq(st.auth, "Bearer " KEY);
	ck_assert_str_eq(st.model, "gpt-4o-mini-tts");
	ck_assert_str_eq(st.voice, "alloy");
	ck_assert_str_eq(st.input, SENTENCE);
	ck_assert_str_eq(st.response_format, "pcm");
	ck_assert_str_eq(st.accept, "application/octet-stream");
	vagent_openai_tts_stats(tts, &ps);
	ck_assert_int_eq(ps.requests, 1);
	ck_assert_int_eq(ps.done, 1);
	ck_assert_int_eq(ps.bytes, wire * 2);
	ck_assert_int_eq(ps.samples, (long)n_heard);
}

START_TEST(test_sentence_8k)
{
	one_sentence(8000);
}
END_TEST

START_TEST(test_sentence_16k)
{
	one_sentence(16000);
}
END_TEST

/* Speech, not silence: the resampled audio has energy. */
START_TEST(test_audio_is_speech)
{
	double sum = 0;

	one_sentence(16000);
	for (size_t i = 0; i < n_heard; i++)
		sum += (double)heard[i] * heard[i];
	ck_assert_msg(sum / (double)n_heard > 500.0 * 500.0, "rms^2 %g", sum / (double)n_heard);
}
END_TEST

/* Odd chunk sizes split samples across reads: the same samples come out. */
START_TEST(test_odd_byte_splits)
{
	struct fake_openai_tts_config fc = { .api_key = KEY, .chunk_bytes_odd = 333 };
	struct vagent_openai_tts_config c = config();
	int16_t *first;
	size_t n_first_run;

	fake = fake_openai_tts_start(NULL);
	make_tts(&c);
	speak(1, SENTENCE, 16000);
	run_idle();
	ck_assert_int_eq(n_done, 1);
	first = malloc(n_heard * sizeof(*first));
	ck_assert(first);
	memcpy(first, heard, n_heard * sizeof(*first));
	n_first_run = n_heard;
	vagent_tts_free(tts);
	tts = NULL;
	fake_openai_tts_stop(fake);
	fake = fake_openai_tts_start(&fc);
	n_heard = 0;
	make_tts(&c);
	speak(2, SENTENCE, 16000);
	run_idle();
	ck_assert_msg(!n_errors, "%s", error_text);
	ck_assert_int_eq(n_done, 2);
	ck_assert_uint_eq(n_heard, n_first_run);
	ck_assert(!memcmp(first, heard, n_heard * sizeof(*first)));
	free(first);
}
END_TEST

START_TEST(test_first_byte_per_sentence)
{
	struct vagent_openai_tts_config c = config();

	c.speed = 1.25;
	fake = fake_openai_tts_start(NULL);
	make_tts(&c);
	speak(1, "Hello there.", 8000);
	run_idle();
	speak(2, "How can I help?", 8000);
	run_idle();
	ck_assert_int_eq(n_done, 2);
	ck_assert_int_eq(n_first, 2);
	{
		struct fake_openai_tts_stats st;

		fake_openai_tts_get_stats(fake, &st);
		ck_assert_str_eq(st.input, "How can I help?");
		ck_assert(st.speed > 1.24 && st.speed < 1.26);
	}
}
END_TEST

START_TEST(test_blank_sentence)
{
	struct vagent_openai_tts_config c = config();
	struct fake_openai_tts_stats st;

	fake = fake_openai_tts_start(NULL);
	make_tts(&c);
	speak(3, "  ", 8000);
	ck_assert_int_eq(n_done, 0);
	run_idle();
	ck_assert_int_eq(n_done, 1);
	ck_assert_int_eq(n_audio, 0);
	fake_openai_tts_get_stats(fake, &st);
	ck_assert_int_eq(st.requests, 0);
}
END_TEST

START_TEST(test_cancel_mid_sentence)
{
	struct fake_openai_tts_config fc = { .pace_ms = 30 };
	struct vagent_openai_tts_config c = config();
	struct vagent_openai_tts_stats ps;
	struct vagent_error err;

	vagent_loop_free(loop);
	start_loop(VAGENT_CLOCK_REAL);
	fake = fake_openai_tts_start(&fc);
	make_tts(&c);
	stop_on_audio = true;
	speak(4, SENTENCE, 8000);
	ck_assert(vagent_loop_run(loop, VAGENT_RUN_DEFAULT, &err) == VAGENT_OK);
	ck_assert_int_ge(n_audio, 1);
	stop_on_audio = false;
	cancelled = true;
	tts->ops->cancel(tts, 4);
	ck_assert(fake_openai_tts_wait_closed(fake, 1, 5000));
	run_idle();
	ck_assert_int_eq(n_after_cancel, 0);
	vagent_openai_tts_stats(tts, &ps);
	ck_assert_int_eq(ps.cancelled, 1);
	/* the next sentence is a new request */
	cancelled = false;
	speak(5, "Goodbye.", 8000);
	run_idle();
	ck_assert_int_eq(n_done, 1);
	ck_assert_uint_eq(last_id, 5);
}
END_TEST

/* One fault: exactly one on_error with `st`, naming the provider, never
 * the key; `requests` requests reached the fake. */
static void expect_error(struct fake_openai_tts_config *fc, struct vagent_openai_tts_config *c,
			 const char *want, vagent_status st, int requests, bool audio)
{
	struct fake_openai_tts_stats fs;

	fake = fake_openai_tts_start(fc);
	make_tts(c);
	speak(9, SENTENCE, 16000);
	run_idle();
	ck_assert_int_eq(n_errors, 1);
	ck_assert_int_eq(n_done, 0);
	ck_assert_uint_eq(last_id, 9);
	ck_assert_msg(error_status == st, "%s: %s", vagent_status_name(error_status),
		      error_text);
	ck_assert_msg(strstr(error_text, "openai-tts: ") == error_text, "%s", error_text);
	ck_assert_msg(strstr(error_text, want), "%s", error_text);
	ck_assert_msg(!strchr(error_text, '\n'), "%s", error_text);
	ck_assert(!strstr(error_text, KEY));
	ck_assert_int_eq(n_audio > 0, audio);
	fake_openai_tts_get_stats(fake, &fs);
	ck_assert_int_eq(fs.requests, requests);
}

START_TEST(test_401)
{
	struct fake_openai_tts_config fc = { .api_key = "another-key" };
	struct vagent_openai_tts_config c = config();

	expect_error(&fc, &c, "openai-tts: authentication failed (HTTP 401; check "
		     "OPENAI_API_KEY): Incorrect API key provided", VAGENT_EAUTH, 1, false);
}
END_TEST

START_TEST(test_500_retried_then_fails)
{
	struct fake_openai_tts_config fc = { .http_status = 500, .retry_after = "0" };
	struct vagent_openai_tts_config c = config();

	c.max_retries = 2;
	expect_error(&fc, &c, "HTTP 500: The server had an error", VAGENT_EPROVIDER, 3, false);
}
END_TEST

START_TEST(test_json_error_not_retried)
{
	struct fake_openai_tts_config fc = { .http_status = 400,
					     .error_message = "Invalid voice: 'nobody'" };
	struct vagent_openai_tts_config c = config();

	expect_error(&fc, &c, "HTTP 400: Invalid voice: 'nobody'", VAGENT_EPROVIDER, 1, false);
}
END_TEST

START_TEST(test_quota_not_retried)
{
	struct fake_openai_tts_config fc = { .http_status = 429, .quota = true };
	struct vagent_openai_tts_config c = config();

	expect_error(&fc, &c, "HTTP 429: You exceeded your current quota", VAGENT_EPROVIDER, 1,
		     false);
}
END_TEST

START_TEST(test_429_retry_after_then_success)
{
	struct fake_openai_tts_config fc = { .http_status = 429, .fail_times = 1,
					     .retry_after = "0.2" };
	struct vagent_openai_tts_config c = config();
	struct fake_openai_tts_stats fs;
	struct vagent_openai_tts_stats ps;
	int64_t t0;

	fake = fake_openai_tts_start(&fc);
	make_tts(&c);
	t0 = vagent_loop_now(loop);
	speak(1, "One moment please.", 8000);
	run_idle();
	ck_assert_msg(!n_errors, "%s", error_text);
	ck_assert_int_eq(n_done, 1);
	ck_assert_int_eq(n_first, 1);
	/* the retry waited retry-after (on the loop's clock) */
	ck_assert_int_ge(first_sent - t0, 200 * VAGENT_TICKS_PER_MS);
	fake_openai_tts_get_stats(fake, &fs);
	ck_assert_int_eq(fs.requests, 2);
	ck_assert_int_eq(fs.completed, 1);
	vagent_openai_tts_stats(tts, &ps);
	ck_assert_int_eq(ps.retries, 1);
}
END_TEST

START_TEST(test_slow_first_byte)
{
	struct fake_openai_tts_config fc = { .first_byte_delay_ms = 3000 };
	struct vagent_openai_tts_config c = config();

	vagent_loop_free(loop);
	start_loop(VAGENT_CLOCK_REAL);
	c.first_byte_timeout_ms = 300;
	expect_error(&fc, &c, "openai-tts", VAGENT_ETIMEOUT, 1, false);
}
END_TEST

START_TEST(test_stall_mid_stream)
{
	struct fake_openai_tts_config fc = { .stall_after_chunks = 3 };
	struct vagent_openai_tts_config c = config();

	vagent_loop_free(loop);
	start_loop(VAGENT_CLOCK_REAL);
	c.idle_timeout_ms = 300;
	expect_error(&fc, &c, "openai-tts", VAGENT_ETIMEOUT, 1, true);
}
END_TEST

START_TEST(test_cut_mid_stream)
{
	struct fake_openai_tts_config fc = { .cut_after_chunks = 3 };
	struct vagent_openai_tts_config c = config();

	expect_error(&fc, &c, "openai-tts", VAGENT_EIO, 1, true);
}
END_TEST

START_TEST(test_bad_configs)
{
	struct vagent_openai_tts_config c;
	struct vagent_error err;

	c = config();
	c.api_key = NULL;
	ck_assert_int_eq(vagent_openai_tts_new(&c, &tts, &err), VAGENT_EINVAL);
	ck_assert_str_eq(err.message, "openai-tts: no API key");
	c = config();
	c.base_url = "ws://x/v1";
	ck_assert_int_eq(vagent_openai_tts_new(&c, &tts, &err), VAGENT_EINVAL);
	c = config();
	c.base_url = "https://user:pw@x/v1";
	ck_assert_int_eq(vagent_openai_tts_new(&c, &tts, &err), VAGENT_EINVAL);
	ck_assert(!strstr(err.message, "pw"));
	c = config();
	c.speed = 9;
	ck_assert_int_eq(vagent_openai_tts_new(&c, &tts, &err), VAGENT_EINVAL);
	c = config();
	c.voice = "";
	ck_assert_int_eq(vagent_openai_tts_new(&c, &tts, &err), VAGENT_EINVAL);
	ck_assert(tts == NULL);
	/* a rate the endpoint cannot serve */
	fake = fake_openai_tts_start(NULL);
	c = config();
	make_tts(&c);
	ck_assert_int_eq(tts->ops->speak(tts, 1, "Hi.", 11025, &err), VAGENT_EINVAL);
	ck_assert_msg(strstr(err.message, "openai-tts") && strstr(err.message, "11025"), "%s",
		      err.message);
}
END_TEST

/* ---- whole calls: the test agent speaking through the fake ---- */

static void set_item(cJSON *o, const char *key, cJSON *item)
{
	cJSON_DeleteItemFromObjectCaseSensitive(o, key);
	cJSON_AddItemToObject(o, key, item);
}

/* fixtures/agents/test-store.json with simulated STT and tts openai at
 * the fake (through ${ENV}), its key in $key_env, as temp agent.json;
 * and a scenario of a caller who says goodbye, as temp call.json. */
static const char *write_call(const char *fallback, const char *key_env)
{
	char *text = read_file(top_path("fixtures/agents/test-store.json"), NULL);
	cJSON *agent = cJSON_Parse(text), *k;
	char *out, scenario[4096], agent_path[1024];

	ck_assert_ptr_nonnull(agent);
	free(text);
	setenv("VAGENT_TEST_TTS_URL", fake_openai_tts_url(fake), 1);
	k = cJSON_CreateObject();
	cJSON_AddStringToObject(k, "provider", "openai");
	cJSON_AddStringToObject(k, "voice", "alloy");
	cJSON_AddStringToObject(k, "url", "${VAGENT_TEST_TTS_URL}");
	cJSON_AddStringToObject(k, "api_key_env", key_env);
	if (fallback)
		cJSON_AddStringToObject(k, "fallback", fallback);
	set_item(agent, "tts", k);
	k = cJSON_CreateObject();
	cJSON_AddStringToObject(k, "provider", "sim");
	set_item(agent, "stt", k);
	k = cJSON_CreateArray();
	cJSON_AddItemToArray(k, cJSON_CreateString(top_path("fixtures/agents/test-store.md")));
	set_item(agent, "knowledge", k);
	out = cJSON_Print(agent);
	snprintf(agent_path, sizeof(agent_path), "%s", temp_file("agent.json", out));
	free(out);
	cJSON_Delete(agent);
	snprintf(scenario, sizeof(scenario),
		 "{\"name\": \"tts-call\", \"agent\": \"%s\",\n"
		 " \"caller\": {\"voice\": \"rms\", \"rate\": 16000},\n"
		 " \"steps\": [{\"say\": \"That's all, thanks. Goodbye.\"}]}\n", agent_path);
	return temp_file("call.json", scenario);
}

static struct vagent_call_run *run_call(const char *fallback)
{
	struct vagent_scenario *sc = NULL;
	struct vagent_run_options ro = { .clock = VAGENT_CLOCK_VIRTUAL,
					 .reference_date = "2026-12-03",
					 .free_compute = true };
	struct vagent_call_run *r = NULL;
	struct vagent_error err;

	setenv("VAGENT_TEST_TTS_KEY", KEY, 1);
	ck_assert_msg(vagent_scenario_load(write_call(fallback, "VAGENT_TEST_TTS_KEY"), &sc,
					   &err) == VAGENT_OK, "%s", err.message);
	ck_assert_msg(vagent_scenario_run(sc, &ro, &r, &err) == VAGENT_OK, "%s", err.message);
	return r;
}

START_TEST(test_call_speaks_through_openai)
{
	struct vagent_call_run *r;
	struct fake_openai_tts_stats st;
	const char *trace;

	fake = fake_openai_tts_start(&(struct fake_openai_tts_config){ .api_key = KEY });
	r = run_call(NULL);
	trace = vagent_session_trace(r->session, NULL);
	ck_assert_msg(vagent_session_result(r->session)->status == VAGENT_OK, "%s",
		      vagent_session_result(r->session)->error);
	ck_assert_str_eq(r->stack->tts->name, "openai-tts");
	fake_openai_tts_get_stats(fake, &st);
	/* the greeting's two sentences, "Thank you for calling." and "Goodbye!" */
	ck_assert_msg(st.requests == 4, "%d requests\n%s", st.requests, trace);
	ck_assert_int_eq(st.completed, st.requests);
	ck_assert_str_eq(st.input, "Goodbye!");   /* the last sentence */
	ck_assert_msg(strstr(trace, "\"type\":\"tts.first_audio\""), "%s", trace);
	ck_assert(!strstr(trace, "\"type\":\"fallback\""));
	ck_assert(!strstr(trace, KEY));
	vagent_call_run_free(r);
}
END_TEST

START_TEST(test_call_falls_back_to_flite)
{
	struct vagent_call_run *r;
	const char *trace;

	fake = fake_openai_tts_start(&(struct fake_openai_tts_config){ .api_key = KEY,
								       .cut_after_chunks = 3 });
	r = run_call("flite");
	trace = vagent_session_trace(r->session, NULL);
	ck_assert_msg(vagent_session_result(r->session)->status == VAGENT_OK, "%s",
		      vagent_session_result(r->session)->error);
	ck_assert_msg(strstr(trace, "\"type\":\"fallback\",\"slot\":\"tts\",\"from\":\"openai-tts\","
			     "\"to\":\"flite\""), "%s", trace);
	ck_assert(!strstr(trace, KEY));
	vagent_call_run_free(r);
}
END_TEST

START_TEST(test_key_not_set)
{
	struct run_result r;
	char call[1024];

	fake = fake_openai_tts_start(NULL);
	unsetenv("VAGENT_TEST_NO_SUCH_KEY");
	snprintf(call, sizeof(call), "%s", write_call(NULL, "VAGENT_TEST_NO_SUCH_KEY"));
	r = run_vagent("run", "--out", temp_path("out"), call, NULL);
	ck_assert_int_eq(r.exit_code, 2);
	ck_assert_msg(strstr(r.err, "tts: VAGENT_TEST_NO_SUCH_KEY is not set (the OpenAI API "
			     "key)"), "%s%s", r.out, r.err);
	ck_assert(!strchr(strstr(r.err, "tts: VAGENT"), '\n') ||
		  strchr(strstr(r.err, "tts: VAGENT"), '\n')[1] == '\0');
	run_result_free(&r);
}
END_TEST

Suite *suite_openai_tts(void)
{
	Suite *s = suite_create("openai_tts");
	TCase *tc = tcase_create("provider");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, test_sentence_8k);
	tcase_add_test(tc, test_sentence_16k);
	tcase_add_test(tc, test_audio_is_speech);
	tcase_add_test(tc, test_odd_byte_splits);
	tcase_add_test(tc, test_first_byte_per_sentence);
	tcase_add_test(tc, test_blank_sentence);
	tcase_add_test(tc, test_cancel_mid_sentence);
	tcase_add_test(tc, test_401);
	tcase_add_test(tc, test_500_retried_then_fails);
	tcase_add_test(tc, test_json_error_not_retried);
	tcase_add_test(tc, test_quota_not_retried);
	tcase_add_test(tc, test_429_retry_after_then_success);
	tcase_add_test(tc, test_slow_first_byte);
	tcase_add_test(tc, test_stall_mid_stream);
	tcase_add_test(tc, test_cut_mid_stream);
	tcase_add_test(tc, test_bad_configs);
	suite_add_tcase(s, tc);

	tc = tcase_create("call");
	tcase_add_checked_fixture(tc, temp_dir_setup, temp_dir_teardown);
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 240);
	tcase_add_test(tc, test_call_speaks_through_openai);
	tcase_add_test(tc, test_call_falls_back_to_flite);
	tcase_add_test(tc, test_key_not_set);
	suite_add_tcase(s, tc);
	return s;
}
