/*
 * check_openai_stt.c — OpenAI-compatible per-turn transcription
 * (lib/cloudstt/openai_stt.c) against the fake server
 * (tests/support/fake_openai_stt.c), on a loop with a worker: the turn's
 * audio from the VAD onset (with its pre-roll) to the turn end goes up as
 * one WAV with the model and the bearer key, the answer is the turn's
 * final (on a virtual clock too: the loop waits for the request); a 429
 * with retry-after is retried once, a quota 429, a 401 and a malformed body
 * are one on_error naming the provider and never the key; stop cancels a
 * request in flight; bad configs are refused.
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "vagent.h"
#include "support/fake_openai_stt.h"
#include "support/harness.h"

#define KEY "sk-test-openai-0123456789"

static struct vagent_loop *loop;
static struct fake_openai_stt *fake;
static struct vagent_stt *stt;
static int n_finals, n_errors, n_partials;
static char final_text[256], error_text[512];
static vagent_status error_status;
static int64_t pts;
static int n_first_bytes;
static int64_t first_ttfb;     /* the last first byte's now - sent (ticks) */

static void on_first_byte(void *ctx, uint64_t id, int64_t sent)
{
	(void)ctx;
	ck_assert_uint_eq(id, 0);
	n_first_bytes++;
	first_ttfb = vagent_loop_now(loop) - sent;
}

static void on_partial(void *ctx, const char *text)
{
	(void)ctx;
	(void)text;
	n_partials++;
}

static void on_final(void *ctx, const char *text, double confidence)
{
	(void)ctx;
	(void)confidence;
	n_finals++;
	snprintf(final_text, sizeof(final_text), "%s", text);
}

static void on_error(void *ctx, vagent_status st, const char *message)
{
	(void)ctx;
	n_errors++;
	error_status = st;
	snprintf(error_text, sizeof(error_text), "%s", message);
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
	n_finals = n_errors = n_partials = n_first_bytes = 0;
	first_ttfb = -1;
	final_text[0] = error_text[0] = '\0';
	pts = 0;
	start_loop(VAGENT_CLOCK_VIRTUAL);
}

static void teardown(void)
{
	vagent_stt_free(stt);
	stt = NULL;
	vagent_loop_free(loop);
	loop = NULL;
	fake_openai_stt_stop(fake);
	fake = NULL;
}

static void make_stt(struct vagent_openai_stt_config *c)
{
	struct vagent_error err;

	c->base_url = fake_openai_stt_url(fake);
	ck_assert_msg(vagent_openai_stt_new(c, &stt, &err) == VAGENT_OK, "%s", err.message);
	stt->loop = loop;
	stt->on_partial = on_partial;
	stt->on_final = on_final;
	stt->on_error = on_error;
	stt->on_first_byte = on_first_byte;
}

static struct vagent_openai_stt_config config(void)
{
	struct vagent_openai_stt_config c = vagent_openai_stt_config_default();

	c.api_key = KEY;
	c.language = "en";
	return c;
}

static void feed(int ms, bool loud)
{
	static struct vagent_frame f;

	for (int t = 0; t < ms; t += 20) {
		memset(&f, 0, sizeof(f));
		f.pts = pts;
		f.rate = 8000;
		f.channels = 1;
		f.n = 160;
		for (size_t i = 0; loud && i < f.n; i++)
			f.samples[i] = (int16_t)((i / 8) % 2 ? 6000 : -6000);
		stt->ops->audio(stt, &f, NULL);
		pts += vagent_ticks_from_ms(20);
	}
}

/* One caller turn: silence, the VAD onset, speech, turn end. */
static void turn(void)
{
	feed(1000, false);
	stt->ops->speech(stt, true, pts);
	feed(800, true);
	stt->ops->speech(stt, false, pts);
	feed(400, false);
	stt->ops->turn_end(stt, pts);
}

static void run_idle(void)
{
	struct vagent_error err;

	ck_assert(vagent_loop_run(loop, VAGENT_RUN_UNTIL_IDLE, &err) == VAGENT_OK);
}

static const char *const script[] = { "What are your opening hours?", "Thanks, goodbye.", NULL };

START_TEST(test_turn_is_one_request)
{
	struct fake_openai_stt_config fc = { 0 };
	struct vagent_openai_stt_config c = config();
	struct fake_openai_stt_stats st;
	struct vagent_openai_stt_stats ps;

	fc.script = script;
	fc.api_key = KEY;
	fake = fake_openai_stt_start(&fc);
	make_stt(&c);
	turn();
	run_idle();
	ck_assert_msg(!n_errors, "%s", error_text);
	ck_assert_int_eq(n_finals, 1);
	ck_assert_int_eq(n_partials, 0);
	ck_assert_str_eq(final_text, "What are your opening hours?");
	fake_openai_stt_get_stats(fake, &st);
	ck_assert_int_eq(st.requests, 1);
	ck_assert_str_eq(st.auth, "Bearer " KEY);
	ck_assert_str_eq(st.model, "gpt-4o-mini-transcribe");
	ck_assert_str_eq(st.language, "en");
	ck_assert(st.wav_ok);
	ck_assert_int_eq(st.wav_rate, 8000);
	/* 300 ms pre-roll + 800 ms speech + 400 ms to the turn end */
	ck_assert_int_eq(st.wav_samples, 8 * (300 + 800 + 400));
	/* the next turn is the next request, without the first's audio */
	turn();
	run_idle();
	ck_assert_int_eq(n_finals, 2);
	ck_assert_str_eq(final_text, "Thanks, goodbye.");
	fake_openai_stt_get_stats(fake, &st);
	ck_assert_int_eq(st.wav_samples, 8 * (300 + 800 + 400));
	vagent_openai_stt_stats(stt, &ps);
	ck_assert_int_eq(ps.requests, 2);
	ck_assert_int_eq(ps.finals, 2);
}
END_TEST

START_TEST(test_real_clock)
{
	struct fake_openai_stt_config fc = { 0 };
	struct vagent_openai_stt_config c = config();

	vagent_loop_free(loop);
	start_loop(VAGENT_CLOCK_REAL);
	fc.script = script;
	fc.delay_ms = 200;
	fake = fake_openai_stt_start(&fc);
	make_stt(&c);
	turn();
	run_idle();
	ck_assert_int_eq(n_finals, 1);
	ck_assert_str_eq(final_text, "What are your opening hours?");
	/* the request's time to first byte, told before its final */
	ck_assert_int_eq(n_first_bytes, 1);
	ck_assert_int_ge(first_ttfb, 200 * VAGENT_TICKS_PER_MS);
	ck_assert_int_lt(first_ttfb, 10000 * VAGENT_TICKS_PER_MS);
}
END_TEST

START_TEST(test_no_speech_no_request)
{
	struct fake_openai_stt_config fc = { 0 };
	struct vagent_openai_stt_config c = config();
	struct fake_openai_stt_stats st;

	fake = fake_openai_stt_start(&fc);
	make_stt(&c);
	feed(1000, false);
	stt->ops->turn_end(stt, pts);   /* a turn ended by keys, say */
	run_idle();
	fake_openai_stt_get_stats(fake, &st);
	ck_assert_int_eq(st.requests, 0);
	ck_assert_int_eq(n_finals + n_errors, 0);
}
END_TEST

START_TEST(test_429_retried)
{
	struct fake_openai_stt_config fc = { 0 };
	struct vagent_openai_stt_config c = config();
	struct fake_openai_stt_stats st;

	fc.script = script;
	fc.http_status = 429;
	fc.fail_times = 1;
	fc.retry_after = "0.1";
	fake = fake_openai_stt_start(&fc);
	make_stt(&c);
	turn();
	run_idle();
	ck_assert_msg(!n_errors, "%s", error_text);
	ck_assert_str_eq(final_text, "What are your opening hours?");
	fake_openai_stt_get_stats(fake, &st);
	ck_assert_int_eq(st.requests, 2);
}
END_TEST

static void expect_error(struct fake_openai_stt_config *fc, const char *want, vagent_status st_want,
			 int requests)
{
	struct vagent_openai_stt_config c = config();
	struct fake_openai_stt_stats st;

	fake = fake_openai_stt_start(fc);
	make_stt(&c);
	turn();
	run_idle();
	ck_assert_int_eq(n_errors, 1);
	ck_assert_int_eq(n_finals, 0);
	ck_assert_int_eq(error_status, st_want);
	ck_assert_msg(strstr(error_text, "openai: ") == error_text, "%s", error_text);
	ck_assert_msg(strstr(error_text, want), "%s", error_text);
	ck_assert(!strstr(error_text, KEY));
	fake_openai_stt_get_stats(fake, &st);
	ck_assert_int_eq(st.requests, requests);
	/* nothing more after the error */
	turn();
	run_idle();
	ck_assert_int_eq(n_errors, 1);
	fake_openai_stt_get_stats(fake, &st);
	ck_assert_int_eq(st.requests, requests);
}

START_TEST(test_401)
{
	struct fake_openai_stt_config fc = { 0 };

	fc.api_key = "another";
	expect_error(&fc, "HTTP 401: Incorrect API key provided", VAGENT_EAUTH, 1);
}
END_TEST

START_TEST(test_quota_429_not_retried)
{
	struct fake_openai_stt_config fc = { 0 };

	fc.http_status = 429;
	fc.quota = true;
	expect_error(&fc, "HTTP 429: You exceeded your current quota", VAGENT_EPROVIDER, 1);
}
END_TEST

START_TEST(test_500_twice)
{
	struct fake_openai_stt_config fc = { 0 };

	fc.http_status = 500;
	expect_error(&fc, "HTTP 500", VAGENT_EPROVIDER, 2);   /* one retry */
}
END_TEST

START_TEST(test_malformed)
{
	struct fake_openai_stt_config fc = { 0 };

	fc.malformed = true;
	expect_error(&fc, "malformed transcription response", VAGENT_EPROTO, 1);
}
END_TEST

START_TEST(test_stop_cancels)
{
	struct fake_openai_stt_config fc = { 0 };
	struct vagent_openai_stt_config c = config();

	vagent_loop_free(loop);
	start_loop(VAGENT_CLOCK_REAL);
	fc.script = script;
	fc.delay_ms = 20000;
	fake = fake_openai_stt_start(&fc);
	make_stt(&c);
	turn();
	stt->ops->stop(stt);
	/* the request in flight is cut short; nothing is called back */
	run_idle();
	ck_assert_int_eq(n_finals + n_errors, 0);
}
END_TEST

START_TEST(test_bad_configs)
{
	struct vagent_openai_stt_config c;
	struct vagent_error err;

	c = config();
	c.api_key = NULL;
	ck_assert_int_eq(vagent_openai_stt_new(&c, &stt, &err), VAGENT_EINVAL);
	ck_assert_str_eq(err.message, "openai: no API key");
	c = config();
	c.base_url = "ws://x/v1";
	ck_assert_int_eq(vagent_openai_stt_new(&c, &stt, &err), VAGENT_EINVAL);
	c = config();
	c.base_url = "https://user:pw@x/v1";
	ck_assert_int_eq(vagent_openai_stt_new(&c, &stt, &err), VAGENT_EINVAL);
	ck_assert(!strstr(err.message, "pw"));
	c = config();
	c.rate = 22050;
	ck_assert_int_eq(vagent_openai_stt_new(&c, &stt, &err), VAGENT_EINVAL);
	c = config();
	c.model = "";
	ck_assert_int_eq(vagent_openai_stt_new(&c, &stt, &err), VAGENT_EINVAL);
	ck_assert(stt == NULL);
}
END_TEST


/* ---- the example agent end to end (virtual clock: the loop waits for
 * each request on its worker) ---- */

static const char *const order_script[] = {
	"Hi, I'd like to check on my order.", "It's one two three four five.",
	"No, that's all. Goodbye.", NULL,
};

START_TEST(test_e2e_order_status)
{
	struct fake_openai_stt_config fc = { 0 };
	struct fake_openai_stt_stats st;
	struct run_result r;
	char *text = read_file(top_path("scenarios/agents/store.json"), NULL);
	char *help = read_file(top_path("scenarios/agents/store-help.md"), NULL);
	const char *old = "\"stt\": { \"provider\": \"pocketsphinx\", \"boost\": true }";
	char sttj[512], *at, *agent, *trace;
	char agent_path[1024], outdir[1024];

	fc.script = order_script;
	fc.api_key = KEY;
	fake = fake_openai_stt_start(&fc);
	ck_assert(text && help && (at = strstr(text, old)));
	snprintf(sttj, sizeof(sttj), "\"stt\": {\"provider\": \"openai\", \"url\": \"%s\", "
		 "\"api_key_env\": \"VAGENT_TEST_OA_KEY\", \"language\": \"en\", "
		 "\"fallback\": \"pocketsphinx\"}", fake_openai_stt_url(fake));
	agent = malloc(strlen(text) + strlen(sttj) + 1);
	ck_assert(agent);
	memcpy(agent, text, (size_t)(at - text));
	strcpy(agent + (at - text), sttj);
	strcat(agent, at + strlen(old));
	write_file(temp_path("store-help.md"), help, strlen(help));
	write_file(temp_path("agent.json"), agent, strlen(agent));
	snprintf(agent_path, sizeof(agent_path), "%s", temp_path("agent.json"));
	snprintf(outdir, sizeof(outdir), "%s", temp_path("out"));
	setenv("VAGENT_TEST_OA_KEY", KEY, 1);
	r = run_vagent("run", "--agent", agent_path, "--out", outdir,
		       top_path("scenarios/order-status.json"), NULL);
	trace = read_file(temp_path("out/order-status.trace.jsonl"), NULL);
	fake_openai_stt_get_stats(fake, &st);
	ck_assert_msg(r.exit_code == 0, "exit %d (%d requests)\n%.1500s\n%.1000s", r.exit_code,
		      st.requests, r.out, r.err);
	ck_assert(trace);
	ck_assert_msg(strstr(trace, "\"type\":\"stt.final\",\"text\":\"It's one two three four five.\""),
		      "%.3000s", trace);
	ck_assert(!strstr(trace, "\"type\":\"fallback\""));
	ck_assert(!strstr(trace, KEY) && !strstr(r.out, KEY) && !strstr(r.err, KEY));
	fake_openai_stt_get_stats(fake, &st);
	ck_assert_int_eq(st.requests, 3);
	/* one first byte per transcription request, named */
	{
		int n = 0;

		for (const char *p = trace; (p = strstr(p, "\"type\":\"provider.first_byte\","
						      "\"slot\":\"stt\",\"provider\":\"openai\""));
		     p++)
			n++;
		ck_assert_msg(n == 3, "%d first bytes\n%.3000s", n, trace);
	}
	ck_assert(st.wav_ok);
	ck_assert_int_eq(st.wav_rate, 16000);
	free(trace);
	free(agent);
	free(text);
	free(help);
	run_result_free(&r);
}
END_TEST

START_TEST(test_agent_file_problems)
{
	struct run_result r;

	temp_file("bad.json",
		  "{\"name\": \"x\", \"greeting\": \"Hi\",\n"
		  " \"stt\": {\"provider\": \"openai\",\n"
		  "   \"url\": \"wss://api.openai.com/v1\",\n"
		  "   \"encoding\": \"mulaw\"},\n"
		  " \"brain\": {\"provider\": \"sim\"}, \"tts\": {\"provider\": \"sim\"}}\n");
	r = run_vagent("validate", temp_path("bad.json"), NULL);
	ck_assert_int_eq(r.exit_code, 2);
	ck_assert_msg(strstr(r.out, "bad.json:3: stt.url: must be an http://") ||
		      strstr(r.err, "bad.json:3: stt.url: must be an http://"), "%.1500s%.1000s", r.out, r.err);
	ck_assert_msg(strstr(r.out, "bad.json:4: stt.encoding: only for \"deepgram\"") ||
		      strstr(r.err, "bad.json:4: stt.encoding: only for \"deepgram\""), "%.1500s%.1000s", r.out, r.err);
	run_result_free(&r);
}
END_TEST

Suite *suite_openai_stt(void)
{
	Suite *s = suite_create("openai_stt");
	TCase *tc = tcase_create("provider");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 30);
	tcase_add_test(tc, test_turn_is_one_request);
	tcase_add_test(tc, test_real_clock);
	tcase_add_test(tc, test_no_speech_no_request);
	tcase_add_test(tc, test_429_retried);
	tcase_add_test(tc, test_401);
	tcase_add_test(tc, test_quota_429_not_retried);
	tcase_add_test(tc, test_500_twice);
	tcase_add_test(tc, test_malformed);
	tcase_add_test(tc, test_stop_cancels);
	tcase_add_test(tc, test_bad_configs);
	suite_add_tcase(s, tc);

	tc = tcase_create("agent");
	tcase_add_checked_fixture(tc, temp_dir_setup, temp_dir_teardown);
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 240);
	tcase_add_test(tc, test_agent_file_problems);
	tcase_add_test(tc, test_e2e_order_status);
	suite_add_tcase(s, tc);
	return s;
}
