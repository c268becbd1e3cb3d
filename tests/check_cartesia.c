/*
 * check_cartesia.c — Cartesia TTS over its WebSocket
 * (lib/cloudtts/cartesia.c) against the fake server
 * (tests/support/fake_cartesia.c), which speaks each generation request
 * with flite in the requested raw format, on the real clock (and the
 * virtual one, which the provider holds while it waits): audio length
 * and rate right at 8 and 16 kHz (and pcm_mulaw), one socket for the
 * call with a context per sentence, the auth and version headers, cancel
 * (the cancel message, no callback after, late chunks dropped), each fault
 * one on_error naming the provider and never the key, on_first_byte once
 * per sentence; and whole calls of the test agent speaking through it, or
 * falling back to flite when the socket vanishes mid-sentence.
 */
#include <check.h>
#include <cjson/cJSON.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "vagent.h"
#include "support/fake_cartesia.h"
#include "support/harness.h"

#define KEY   "sk_car_test_0123456789abcdef"
#define VOICE "a0e99841-438c-4a64-b679-ae501e7d6091"
#define SENTENCE "Your order has shipped and arrives on Friday."

static struct vagent_loop *loop;
static struct fake_cartesia *fake;
static struct vagent_tts *tts;
static int n_done, n_errors, n_first, n_audio, n_after_cancel;
static bool cancelled;
static uint64_t last_id;
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
	(void)sent;
	n_first++;
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
	cancelled = false;
	error_text[0] = '\0';
	n_heard = 0;
	start_loop(VAGENT_CLOCK_REAL);
}

static void teardown(void)
{
	if (tts)
		tts->ops->stop(tts);
	vagent_tts_free(tts);
	tts = NULL;
	vagent_loop_free(loop);
	loop = NULL;
	fake_cartesia_stop(fake);
	fake = NULL;
	free(heard);
	heard = NULL;
	cap_heard = n_heard = 0;
}

static struct vagent_cartesia_config config(void)
{
	struct vagent_cartesia_config c = vagent_cartesia_config_default();

	c.api_key = KEY;
	c.voice = VOICE;
	return c;
}

static void make_tts(struct vagent_cartesia_config *c)
{
	struct vagent_error err;

	c->url = fake_cartesia_url(fake);
	ck_assert_msg(vagent_cartesia_tts_new(c, &tts, &err) == VAGENT_OK, "%s", err.message);
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

/* Run the loop until cond() holds, at most `ms`. */
static bool run_for(bool (*cond)(void), int ms)
{
	return loop_run_until_cond(loop, cond, ms);
}

static int want_done;
static bool finished(void) { return n_done >= want_done || n_errors > 0; }
static bool got_audio(void) { return n_audio > 0 || n_errors > 0; }
static bool got_error(void) { return n_errors > 0; }
static bool never(void) { return false; }

static void run_until_done(int done)
{
	want_done = done;
	ck_assert_msg(run_for(finished, 20000), "timed out: %d done", n_done);
	ck_assert_msg(!n_errors, "%s", error_text);
}

static void one_sentence(int rate, bool mulaw)
{
	struct fake_cartesia_config fc = { .api_key = KEY, .voice = VOICE };
	struct vagent_cartesia_config c = config();
	struct fake_cartesia_stats st;
	struct vagent_cartesia_stats ps;
	long samples = fake_cartesia_samples_for(SENTENCE, rate);

	c.mulaw = mulaw;
	fake = fake_cartesia_start(&fc);
	make_tts(&c);
	speak(7, SENTENCE, rate);
	ck_assert_int_eq(n_audio + n_done + n_errors, 0);   /* never from inside speak */
	run_until_done(1);
	ck_assert_uint_eq(last_id, 7);
	ck_assert_int_eq(n_first, 1);
	ck_assert_msg(samples > rate, "%ld", samples);      /* over a second of speech */
	ck_assert_int_eq((long)n_heard, samples);
	fake_cartesia_get_stats(fake, &st);
	ck_assert_int_eq(st.upgraded, 1);
	ck_assert_int_eq(st.requests, 1);
	ck_assert_int_eq(st.done, 1);
	ck_assert_str_eq(st.api_key_header, KEY);
	ck_assert_str_eq(st.auth, "Bearer " KEY);
	ck_assert_str_eq(st.version, "2026-03-01");
	ck_assert_str_eq(st.path, "/tts/websocket");
	ck_assert_str_eq(st.model_id, "sonic-2");
	ck_assert_str_eq(st.voice, VOICE);
	ck_assert_str_eq(st.transcript, SENTENCE);
	ck_assert_str_eq(st.encoding, mulaw ? "pcm_mulaw" : "pcm_s16le");
	ck_assert_int_eq(st.sample_rate, rate);
	ck_assert_str_eq(st.language, "en");
	ck_assert(!st.continue_flag);
	vagent_cartesia_tts_stats(tts, &ps);
	ck_assert_int_eq(ps.connections, 1);
	ck_assert_int_eq(ps.chunks, st.chunks);
	ck_assert_int_eq(ps.samples, (long)n_heard);
}

START_TEST(test_sentence_8k)
{
	one_sentence(8000, false);
}
END_TEST

START_TEST(test_sentence_16k)
{
	double sum = 0;

	one_sentence(16000, false);
	for (size_t i = 0; i < n_heard; i++)
		sum += (double)heard[i] * heard[i];
	ck_assert_msg(sum / (double)n_heard > 500.0 * 500.0, "rms^2 %g", sum / (double)n_heard);
}
END_TEST

/* timestamps and flush_done messages change nothing */
START_TEST(test_extra_messages_ignored)
{
	struct fake_cartesia_config fc = { .extras = true };
	struct vagent_cartesia_config c = config();
	struct fake_cartesia_stats st;

	fake = fake_cartesia_start(&fc);
	make_tts(&c);
	speak(3, SENTENCE, 16000);
	run_until_done(1);
	ck_assert_int_eq((long)n_heard, fake_cartesia_samples_for(SENTENCE, 16000));
	fake_cartesia_get_stats(fake, &st);
	ck_assert_int_eq(st.flush_done, 1);
	ck_assert_int_eq(st.done, 1);
}
END_TEST

START_TEST(test_sentence_mulaw)
{
	one_sentence(8000, true);
}
END_TEST

static bool two_done(void) { return n_done >= 2 || n_errors > 0; }

START_TEST(test_one_socket_context_per_sentence)
{
	struct vagent_cartesia_config c = config();
	struct fake_cartesia_stats st;
	char first_ctx[64];

	fake = fake_cartesia_start(NULL);
	make_tts(&c);
	speak(1, "Hello there.", 8000);
	run_until_done(1);
	fake_cartesia_get_stats(fake, &st);
	snprintf(first_ctx, sizeof(first_ctx), "%s", st.context_id);
	speak(2, "How can I help?", 8000);
	ck_assert(run_for(two_done, 20000));
	ck_assert_int_eq(n_done, 2);
	ck_assert_int_eq(n_first, 2);
	fake_cartesia_get_stats(fake, &st);
	ck_assert_int_eq(st.connections, 1);
	ck_assert_int_eq(st.requests, 2);
	ck_assert_str_ne(st.context_id, first_ctx);
	ck_assert_str_eq(st.transcript, "How can I help?");
}
END_TEST

static bool one_cancel(const struct fake_cartesia_stats *s, void *arg)
{
	(void)arg;
	return s->cancels >= 1;
}

START_TEST(test_cancel_mid_sentence)
{
	struct fake_cartesia_config fc = { .pace_ms = 20 };
	struct vagent_cartesia_config c = config();
	struct vagent_cartesia_stats ps;
	struct fake_cartesia_stats st;

	fake = fake_cartesia_start(&fc);
	make_tts(&c);
	speak(4, SENTENCE, 8000);
	ck_assert(run_for(got_audio, 10000));
	ck_assert_int_eq(n_errors, 0);
	cancelled = true;
	tts->ops->cancel(tts, 4);
	ck_assert(fake_cartesia_wait(fake, one_cancel, NULL, 5000));
	run_for(never, 300);                 /* late chunks may still arrive */
	ck_assert_int_eq(n_after_cancel, 0);
	fake_cartesia_get_stats(fake, &st);
	ck_assert_int_eq(st.done, 0);
	ck_assert_int_eq(st.late_cancels, 0);
	/* the next sentence goes on the same socket */
	cancelled = false;
	speak(5, "Goodbye.", 8000);
	run_until_done(1);
	ck_assert_uint_eq(last_id, 5);
	vagent_cartesia_tts_stats(tts, &ps);
	ck_assert_int_eq(ps.cancels, 1);
	ck_assert_int_eq(ps.connections, 1);
}
END_TEST

/* One fault: exactly one on_error with `st`, naming the provider, never
 * the key. */
static void expect_error(struct fake_cartesia_config *fc, struct vagent_cartesia_config *c,
			 const char *want_text, vagent_status st, bool audio)
{
	fake = fake_cartesia_start(fc);
	make_tts(c);
	speak(9, SENTENCE, 16000);
	ck_assert_msg(run_for(got_error, 15000), "no error (%d done)", n_done);
	run_for(never, 100);
	ck_assert_int_eq(n_errors, 1);
	ck_assert_int_eq(n_done, 0);
	ck_assert_uint_eq(last_id, 9);
	ck_assert_msg(error_status == st, "%s: %s", vagent_status_name(error_status), error_text);
	ck_assert_msg(strstr(error_text, "cartesia") == error_text, "%s", error_text);
	ck_assert_msg(strstr(error_text, want_text), "%s", error_text);
	ck_assert_msg(!strchr(error_text, '\n'), "%s", error_text);
	ck_assert(!strstr(error_text, KEY));
	ck_assert_int_eq(n_audio > 0, audio);
}

START_TEST(test_401_on_upgrade)
{
	struct fake_cartesia_config fc = { .api_key = "another-key" };
	struct vagent_cartesia_config c = config();

	expect_error(&fc, &c, "cartesia: authentication failed (HTTP 401; check "
		     "CARTESIA_API_KEY)", VAGENT_EAUTH, false);
}
END_TEST

START_TEST(test_500_on_upgrade)
{
	struct fake_cartesia_config fc = { .upgrade_status = 500 };
	struct vagent_cartesia_config c = config();

	expect_error(&fc, &c, "500", VAGENT_EPROVIDER, false);
}
END_TEST

START_TEST(test_unknown_voice)
{
	struct fake_cartesia_config fc = { .voice = "some-other-voice" };
	struct vagent_cartesia_config c = config();

	expect_error(&fc, &c, "cartesia: error 400: Invalid voice: Voice not found",
		     VAGENT_EPROVIDER, false);
}
END_TEST

START_TEST(test_error_message_mid_stream)
{
	struct fake_cartesia_config fc = { .error_status = 500, .error_after_chunks = 3 };
	struct vagent_cartesia_config c = config();

	expect_error(&fc, &c, "cartesia: error 500: Generation failed: The model is overloaded",
		     VAGENT_EPROVIDER, true);
}
END_TEST

START_TEST(test_error_401_message)
{
	struct fake_cartesia_config fc = { .error_status = 401, .error_after_chunks = 0 };
	struct vagent_cartesia_config c = config();

	expect_error(&fc, &c, "authentication failed (status 401; check CARTESIA_API_KEY)",
		     VAGENT_EAUTH, false);
}
END_TEST

START_TEST(test_malformed_json)
{
	struct fake_cartesia_config fc = { .malformed_after_chunks = 2 };
	struct vagent_cartesia_config c = config();

	expect_error(&fc, &c, "malformed message", VAGENT_EPROTO, true);
}
END_TEST

START_TEST(test_slow_first_chunk)
{
	struct fake_cartesia_config fc = { .first_chunk_delay_ms = 5000 };
	struct vagent_cartesia_config c = config();

	c.idle_timeout_ms = 300;
	expect_error(&fc, &c, "cartesia: no answer for 300 ms", VAGENT_ETIMEOUT, false);
}
END_TEST

START_TEST(test_stall_mid_stream)
{
	struct fake_cartesia_config fc = { .stall_after_chunks = 3 };
	struct vagent_cartesia_config c = config();
	struct fake_cartesia_stats st;

	c.idle_timeout_ms = 300;
	expect_error(&fc, &c, "cartesia: no answer for 300 ms", VAGENT_ETIMEOUT, true);
	/* the stalled socket is dropped: the next sentence opens another */
	fake_cartesia_stop(fake);
	fake = fake_cartesia_start(NULL);
	tts->ops->stop(tts);
	vagent_tts_free(tts);
	tts = NULL;
	n_errors = 0;
	make_tts(&c);
	speak(10, "Hello again.", 8000);
	run_until_done(1);
	fake_cartesia_get_stats(fake, &st);
	ck_assert_int_eq(st.upgraded, 1);
}
END_TEST

START_TEST(test_abrupt_close)
{
	struct fake_cartesia_config fc = { .close_after_chunks = 3 };
	struct vagent_cartesia_config c = config();

	expect_error(&fc, &c, "cartesia: the connection closed mid-sentence", VAGENT_EIO, true);
}
END_TEST

START_TEST(test_reconnects_after_close)
{
	struct fake_cartesia_config fc = { .close_after_chunks = 3 };
	struct vagent_cartesia_config c = config();
	struct fake_cartesia_stats st;

	expect_error(&fc, &c, "closed", VAGENT_EIO, true);
	/* the next sentence opens a new socket (the fake cuts it again) */
	n_errors = 0;
	speak(11, "Hello again.", 8000);
	ck_assert(run_for(got_error, 10000));
	fake_cartesia_get_stats(fake, &st);
	ck_assert_int_eq(st.upgraded, 2);
}
END_TEST

/* On a virtual clock a worker job holds the clock while the sentence is
 * in flight: the same audio comes, and the clock moved with the wire. */
START_TEST(test_virtual_clock_held)
{
	struct vagent_cartesia_config c = config();
	struct fake_cartesia_config fc = { .pace_ms = 10 };
	long samples = fake_cartesia_samples_for(SENTENCE, 8000);
	int64_t t0;

	vagent_loop_free(loop);
	start_loop(VAGENT_CLOCK_VIRTUAL);
	fake = fake_cartesia_start(&fc);
	make_tts(&c);
	t0 = vagent_loop_now(loop);
	speak(1, SENTENCE, 8000);
	run_until_done(1);   /* (the socket's watcher keeps the loop from idling) */
	ck_assert_int_eq((long)n_heard, samples);
	/* 40 ms chunks sent every 10 ms: at least chunks x 10 ms went by */
	ck_assert_int_ge(vagent_loop_now(loop) - t0,
			 (samples / 320 - 1) * 10 * VAGENT_TICKS_PER_MS);
}
END_TEST

/* A virtual clock without workers cannot wait: refused at once. */
START_TEST(test_virtual_clock_without_workers)
{
	struct vagent_loop_config lc = vagent_loop_config_default();
	struct vagent_cartesia_config c = config();
	struct vagent_error err;
	struct fake_cartesia_stats st;

	vagent_loop_free(loop);
	lc.clock = VAGENT_CLOCK_VIRTUAL;
	lc.workers = 0;
	ck_assert(vagent_loop_new(&lc, &loop, &err) == VAGENT_OK);
	fake = fake_cartesia_start(NULL);
	make_tts(&c);
	ck_assert_int_eq(tts->ops->speak(tts, 1, "Hi.", 8000, &err), VAGENT_EINVAL);
	ck_assert_str_eq(err.message, "cartesia: on a virtual clock the loop needs a worker to "
			 "wait for the WebSocket (or use --clock real)");
	fake_cartesia_get_stats(fake, &st);
	ck_assert_int_eq(st.connections, 0);
}
END_TEST

START_TEST(test_bad_configs)
{
	struct vagent_cartesia_config c;
	struct vagent_error err;

	c = config();
	c.api_key = NULL;
	ck_assert_int_eq(vagent_cartesia_tts_new(&c, &tts, &err), VAGENT_EINVAL);
	ck_assert_str_eq(err.message, "cartesia: no API key");
	c = config();
	c.voice = NULL;
	ck_assert_int_eq(vagent_cartesia_tts_new(&c, &tts, &err), VAGENT_EINVAL);
	ck_assert_str_eq(err.message, "cartesia: no voice id");
	c = config();
	c.url = "https://api.cartesia.ai/tts/websocket";
	ck_assert_int_eq(vagent_cartesia_tts_new(&c, &tts, &err), VAGENT_EINVAL);
	c = config();
	c.url = "wss://user:pw@api.cartesia.ai/tts/websocket";
	ck_assert_int_eq(vagent_cartesia_tts_new(&c, &tts, &err), VAGENT_EINVAL);
	ck_assert(!strstr(err.message, "pw"));
	c = config();
	c.speed = 0.1;
	ck_assert_int_eq(vagent_cartesia_tts_new(&c, &tts, &err), VAGENT_EINVAL);
	ck_assert(tts == NULL);
	/* pcm_mulaw is 8 kHz only */
	fake = fake_cartesia_start(NULL);
	c = config();
	c.mulaw = true;
	make_tts(&c);
	ck_assert_int_eq(tts->ops->speak(tts, 1, "Hi.", 16000, &err), VAGENT_EINVAL);
	ck_assert_msg(strstr(err.message, "cartesia: ") == err.message, "%s", err.message);
}
END_TEST

/* ---- whole calls: the test agent speaking through the fake ---- */

static void set_item(cJSON *o, const char *key, cJSON *item)
{
	cJSON_DeleteItemFromObjectCaseSensitive(o, key);
	cJSON_AddItemToObject(o, key, item);
}

/* fixtures/agents/test-store.json with simulated STT and tts cartesia at
 * the fake (through ${ENV}); a caller who says goodbye. */
static struct vagent_call_run *run_call(enum vagent_clock_type clock, const char *fallback)
{
	char *text = read_file(top_path("fixtures/agents/test-store.json"), NULL);
	cJSON *agent = cJSON_Parse(text), *k;
	char *out, scenario[4096], agent_path[1024];
	struct vagent_scenario *sc = NULL;
	struct vagent_run_options ro = { .clock = clock, .reference_date = "2026-12-03",
					 .free_compute = true };
	struct vagent_call_run *r = NULL;
	struct vagent_error err;

	ck_assert_ptr_nonnull(agent);
	free(text);
	setenv("VAGENT_TEST_CARTESIA_URL", fake_cartesia_url(fake), 1);
	setenv("VAGENT_TEST_CARTESIA_KEY", KEY, 1);
	k = cJSON_CreateObject();
	cJSON_AddStringToObject(k, "provider", "cartesia");
	cJSON_AddStringToObject(k, "voice", VOICE);
	cJSON_AddStringToObject(k, "url", "${VAGENT_TEST_CARTESIA_URL}");
	cJSON_AddStringToObject(k, "api_key_env", "VAGENT_TEST_CARTESIA_KEY");
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
	ck_assert_msg(vagent_scenario_load(temp_file("call.json", scenario), &sc, &err) == VAGENT_OK,
		      "%s", err.message);
	ck_assert_msg(vagent_scenario_run(sc, &ro, &r, &err) == VAGENT_OK, "%s", err.message);
	return r;
}

static void call_speaks_through_cartesia(enum vagent_clock_type clock)
{
	struct vagent_call_run *r;
	struct fake_cartesia_stats st;
	const char *trace;

	fake = fake_cartesia_start(&(struct fake_cartesia_config){ .api_key = KEY,
								   .voice = VOICE });
	r = run_call(clock, NULL);
	trace = vagent_session_trace(r->session, NULL);
	ck_assert_msg(vagent_session_result(r->session)->status == VAGENT_OK, "%s",
		      vagent_session_result(r->session)->error);
	ck_assert_str_eq(r->stack->tts->name, "cartesia");
	fake_cartesia_get_stats(fake, &st);
	/* the greeting's two sentences, "Thank you for calling." and "Goodbye!" */
	ck_assert_msg(st.requests == 4, "%d requests\n%s", st.requests, trace);
	ck_assert_int_eq(st.done, 4);
	ck_assert_int_eq(st.upgraded, 1);
	ck_assert_int_eq(st.sample_rate, 16000);
	ck_assert_str_eq(st.transcript, "Goodbye!");
	ck_assert(!strstr(trace, "\"type\":\"fallback\""));
	ck_assert(!strstr(trace, KEY));
	vagent_call_run_free(r);
}

START_TEST(test_call_real_clock)
{
	call_speaks_through_cartesia(VAGENT_CLOCK_REAL);
}
END_TEST

START_TEST(test_call_virtual_clock)
{
	call_speaks_through_cartesia(VAGENT_CLOCK_VIRTUAL);
}
END_TEST

/* On the virtual clock (the clock held while sentences are in flight),
 * the socket vanishing mid-sentence: flite finishes the call. */
START_TEST(test_call_falls_back_to_flite)
{
	struct vagent_call_run *r;
	const char *trace;

	fake = fake_cartesia_start(&(struct fake_cartesia_config){ .close_after_chunks = 3 });
	r = run_call(VAGENT_CLOCK_VIRTUAL, "flite");
	trace = vagent_session_trace(r->session, NULL);
	ck_assert_msg(vagent_session_result(r->session)->status == VAGENT_OK, "%s",
		      vagent_session_result(r->session)->error);
	ck_assert_msg(strstr(trace, "\"type\":\"fallback\",\"slot\":\"tts\",\"from\":\"cartesia\","
			     "\"to\":\"flite\""), "%s", trace);
	ck_assert_msg(strstr(trace, "the connection closed mid-sentence"), "%s", trace);
	ck_assert(!strstr(trace, KEY));
	vagent_call_run_free(r);
}
END_TEST

Suite *suite_cartesia(void)
{
	Suite *s = suite_create("cartesia");
	TCase *tc = tcase_create("provider");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, test_sentence_8k);
	tcase_add_test(tc, test_sentence_16k);
	tcase_add_test(tc, test_sentence_mulaw);
	tcase_add_test(tc, test_extra_messages_ignored);
	tcase_add_test(tc, test_one_socket_context_per_sentence);
	tcase_add_test(tc, test_cancel_mid_sentence);
	tcase_add_test(tc, test_401_on_upgrade);
	tcase_add_test(tc, test_500_on_upgrade);
	tcase_add_test(tc, test_unknown_voice);
	tcase_add_test(tc, test_error_message_mid_stream);
	tcase_add_test(tc, test_error_401_message);
	tcase_add_test(tc, test_malformed_json);
	tcase_add_test(tc, test_slow_first_chunk);
	tcase_add_test(tc, test_stall_mid_stream);
	tcase_add_test(tc, test_abrupt_close);
	tcase_add_test(tc, test_reconnects_after_close);
	tcase_add_test(tc, test_virtual_clock_held);
	tcase_add_test(tc, test_virtual_clock_without_workers);
	tcase_add_test(tc, test_bad_configs);
	suite_add_tcase(s, tc);

	tc = tcase_create("call");
	tcase_add_checked_fixture(tc, temp_dir_setup, temp_dir_teardown);
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 240);
	tcase_add_test(tc, test_call_real_clock);
	tcase_add_test(tc, test_call_virtual_clock);
	tcase_add_test(tc, test_call_falls_back_to_flite);
	suite_add_tcase(s, tc);
	return s;
}
