/*
 * check_deepgram.c — the Deepgram live STT provider (lib/cloudstt) on a
 * real-clock loop against the fake server (tests/support/fake_deepgram.c):
 * the stream's parameters and key reach the server, interim results come
 * as growing partials and the utterance as one final (is_final segments
 * joined), μ-law works, the session's turn end sends Finalize and its
 * answer is the final, stop sends CloseStream, KeepAlive during a pause;
 * malformed JSON, an abrupt close, a 401 and a 429 are one on_error each
 * naming the provider and never the key; bad configs are refused.
 * The end-to-end runs of the example agent are at the end.
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "vagent.h"
#include "support/fake_deepgram.h"
#include "support/harness.h"

#define KEY "dg-test-key-0123456789"

struct seen {
	char partials[32][128];
	int n_partials;
	char final[256];
	double confidence;
	int n_finals;
	char error[512];
	vagent_status error_status;
	int n_errors;
	int n_first_bytes;         /* on_first_byte calls */
	int64_t first_ttfb;        /* the first one's now - sent (ticks) */
};

static struct vagent_loop *loop;
static struct fake_deepgram *fake;
static struct vagent_stt *stt;
static struct seen seen;

static void on_partial(void *ctx, const char *text)
{
	struct seen *s = ctx;

	if (s->n_partials < 32)
		snprintf(s->partials[s->n_partials++], 128, "%s", text);
}

static void on_final(void *ctx, const char *text, double confidence)
{
	struct seen *s = ctx;

	s->n_finals++;
	snprintf(s->final, sizeof(s->final), "%s", text);
	s->confidence = confidence;
}

static void on_error(void *ctx, vagent_status st, const char *message)
{
	struct seen *s = ctx;

	s->n_errors++;
	s->error_status = st;
	snprintf(s->error, sizeof(s->error), "%s", message);
}

static void on_first_byte(void *ctx, uint64_t id, int64_t sent)
{
	struct seen *s = ctx;

	ck_assert_uint_eq(id, 0);
	if (!s->n_first_bytes++)
		s->first_ttfb = vagent_loop_now(loop) - sent;
}

static void setup(void)
{
	struct vagent_loop_config lc = vagent_loop_config_default();
	struct vagent_error err;

	lc.workers = 0;
	memset(&seen, 0, sizeof(seen));
	ck_assert(vagent_loop_new(&lc, &loop, &err) == VAGENT_OK);
}

static void teardown(void)
{
	vagent_stt_free(stt);
	stt = NULL;
	vagent_loop_free(loop);
	fake_deepgram_stop(fake);
	fake = NULL;
}

static void make_stt(struct vagent_deepgram_config *c)
{
	struct vagent_error err;

	if (!c->url)
		c->url = fake_deepgram_url(fake);
	ck_assert_msg(vagent_deepgram_stt_new(c, &stt, &err) == VAGENT_OK, "%s", err.message);
	stt->loop = loop;
	stt->on_partial = on_partial;
	stt->on_final = on_final;
	stt->on_error = on_error;
	stt->on_first_byte = on_first_byte;
	stt->ctx = &seen;
}

static struct vagent_deepgram_config config(void)
{
	struct vagent_deepgram_config c = vagent_deepgram_config_default();

	c.api_key = KEY;
	c.url = NULL;
	return c;
}

/* `ms` of audio: a loud square-ish tone (speech to the fake) or silence. */
static void feed(int ms, bool loud)
{
	static struct vagent_frame f;
	static int64_t pts;

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

/* Run the loop until cond() holds, at most `ms`. */
static bool run_for(bool (*cond)(void), int ms)
{
	return loop_run_until_cond(loop, cond, ms);
}

static bool run_until(bool (*cond)(void))
{
	return run_for(cond, 10000);
}

static bool got_partial(void) { return seen.n_partials > 0 || seen.n_errors > 0; }
static bool got_final(void) { return seen.n_finals > 0 || seen.n_errors > 0; }
static bool got_error(void) { return seen.n_errors > 0; }

static bool audio_2000(const struct fake_deepgram_stats *s, void *arg)
{
	(void)arg;
	return s->audio_ms == 2000;
}

static const char *const script[] = { "what are your opening hours", "thanks goodbye", NULL };

START_TEST(test_partials_then_final)
{
	struct fake_deepgram_config fc = fake_deepgram_config_default();
	struct vagent_deepgram_config c = config();
	struct fake_deepgram_stats st;
	struct vagent_deepgram_stats ds;

	fc.script = script;
	fc.api_key = KEY;
	fake = fake_deepgram_start(&fc);
	make_stt(&c);
	feed(200, false);
	feed(1200, true);
	feed(600, false);
	ck_assert(run_until(got_final));
	ck_assert_msg(!seen.n_errors, "%s", seen.error);
	ck_assert_int_eq(seen.n_finals, 1);
	ck_assert_str_eq(seen.final, "what are your opening hours");
	ck_assert(seen.confidence > 0.9 && seen.confidence <= 1);
	/* partials grow word by word before the final */
	ck_assert_int_ge(seen.n_partials, 3);
	ck_assert_str_eq(seen.partials[0], "what");
	ck_assert_str_eq(seen.partials[1], "what are");
	ck_assert(fake_deepgram_wait(fake, audio_2000, NULL, 10000));
	fake_deepgram_get_stats(fake, &st);
	ck_assert_str_eq(st.auth, "Token " KEY);
	ck_assert_msg(strstr(st.query, "model=nova-2") && strstr(st.query, "encoding=linear16") &&
		      strstr(st.query, "sample_rate=8000") && strstr(st.query, "interim_results=true") &&
		      strstr(st.query, "endpointing=300") && strstr(st.query, "utterance_end_ms=1000"),
		      "%s", st.query);
	vagent_deepgram_stt_stats(stt, &ds);
	ck_assert(ds.connect_ms >= 0 && ds.first_result_ms >= ds.connect_ms);
	ck_assert_int_eq(ds.finals, 1);
	ck_assert_uint_eq(ds.audio_bytes, 2000 * 16);
}
END_TEST

START_TEST(test_segments_joined_mulaw)
{
	struct fake_deepgram_config fc = fake_deepgram_config_default();
	struct vagent_deepgram_config c = config();
	struct fake_deepgram_stats st;

	fc.script = script;
	fc.final_every_words = 2;
	fake = fake_deepgram_start(&fc);
	c.encoding = "mulaw";
	make_stt(&c);
	feed(1200, true);
	feed(600, false);
	ck_assert(run_until(got_final));
	ck_assert_msg(!seen.n_errors, "%s", seen.error);
	/* three is_final segments, one final for the turn */
	ck_assert_int_eq(seen.n_finals, 1);
	ck_assert_str_eq(seen.final, "what are your opening hours");
	fake_deepgram_get_stats(fake, &st);
	ck_assert(strstr(st.query, "encoding=mulaw"));
	/* the second utterance is the script's second line */
	seen.n_finals = 0;
	feed(800, true);
	feed(600, false);
	ck_assert(run_until(got_final));
	ck_assert_str_eq(seen.final, "thanks goodbye");
}
END_TEST

static bool finalize_seen_by_fake(const struct fake_deepgram_stats *s, void *arg)
{
	(void)arg;
	return s->finalize > 0;
}

START_TEST(test_finalize_on_turn_end)
{
	struct fake_deepgram_config fc = fake_deepgram_config_default();
	struct vagent_deepgram_config c = config();
	struct vagent_deepgram_stats ds;

	fc.script = script;
	fake = fake_deepgram_start(&fc);
	c.endpointing_ms = 0;        /* Deepgram never ends the speech itself */
	c.utterance_end_ms = 0;
	make_stt(&c);
	feed(1200, true);
	ck_assert(run_until(got_partial));
	ck_assert_int_eq(seen.n_finals, 0);
	stt->ops->turn_end(stt, 0);
	ck_assert(fake_deepgram_wait(fake, finalize_seen_by_fake, NULL, 10000));
	ck_assert(run_until(got_final));
	ck_assert_msg(!seen.n_errors, "%s", seen.error);
	ck_assert_str_eq(seen.final, "what are your opening hours");
	vagent_deepgram_stt_stats(stt, &ds);
	ck_assert_int_eq(ds.finalize_sent, 1);
	/* first bytes: the connection's first result, and the Finalize's */
	ck_assert_int_eq(seen.n_first_bytes, 2);
}
END_TEST

static bool closestream_seen(const struct fake_deepgram_stats *s, void *arg)
{
	(void)arg;
	return s->closestream > 0 && s->client_close_code == 1000;
}

START_TEST(test_stop_sends_closestream)
{
	struct fake_deepgram_config fc = fake_deepgram_config_default();
	struct vagent_deepgram_config c = config();

	fc.script = script;
	fake = fake_deepgram_start(&fc);
	make_stt(&c);
	feed(400, true);
	ck_assert(run_until(got_partial));
	stt->ops->stop(stt);
	/* as in a run: the session's loop goes first, then the provider; the
	 * loop need not run again: freeing lets the close go out (bounded) */
	vagent_loop_free(loop);
	loop = NULL;
	vagent_stt_free(stt);
	stt = NULL;
	ck_assert(fake_deepgram_wait(fake, closestream_seen, NULL, 10000));
	ck_assert_int_eq(seen.n_errors, 0);
}
END_TEST

static bool keepalive_seen(const struct fake_deepgram_stats *s, void *arg)
{
	(void)arg;
	return s->keepalive > 0;
}

static struct fake_deepgram *fake_for_check;
static bool fake_got_keepalive(void)
{
	struct fake_deepgram_stats st;

	fake_deepgram_get_stats(fake_for_check, &st);
	return st.keepalive > 0;
}

START_TEST(test_keepalive_in_a_pause)
{
	struct fake_deepgram_config fc = fake_deepgram_config_default();
	struct vagent_deepgram_config c = config();

	fake = fake_deepgram_start(&fc);
	fake_for_check = fake;
	c.keepalive_ms = 100;
	make_stt(&c);
	feed(20, false);             /* connect, then no audio for a while */
	ck_assert(run_until(fake_got_keepalive));
	ck_assert(fake_deepgram_wait(fake, keepalive_seen, NULL, 1000));
	ck_assert_int_eq(seen.n_errors, 0);
}
END_TEST

static void expect_error(const struct fake_deepgram_config *fc, const char *want_text)
{
	struct vagent_deepgram_config c = config();

	fake = fake_deepgram_start(fc);
	make_stt(&c);
	feed(1200, true);
	feed(600, false);
	ck_assert(run_until(got_error));
	ck_assert_int_eq(seen.n_errors, 1);
	ck_assert_msg(strstr(seen.error, "deepgram: ") == seen.error, "%s", seen.error);
	ck_assert_msg(strstr(seen.error, want_text), "%s", seen.error);
	ck_assert_msg(!strstr(seen.error, KEY), "%s", seen.error);
	ck_assert(!strchr(seen.error, '\n'));
	/* nothing more after the error, whatever comes */
	feed(600, true);
	feed(600, false);
	stt->ops->turn_end(stt, 0);
	run_for(got_final, 300);
	ck_assert_int_eq(seen.n_errors, 1);
}

START_TEST(test_malformed_json)
{
	struct fake_deepgram_config fc = fake_deepgram_config_default();

	fc.script = script;
	fc.malformed_at = 2;
	expect_error(&fc, "malformed message");
	ck_assert_int_eq(seen.error_status, VAGENT_EPROTO);
}
END_TEST

START_TEST(test_abrupt_close)
{
	struct fake_deepgram_config fc = fake_deepgram_config_default();

	fc.script = script;
	fc.drop_after_audio_ms = 600;
	expect_error(&fc, "closed mid-stream (code 1006");
	ck_assert_int_eq(seen.error_status, VAGENT_EPROVIDER);
}
END_TEST

START_TEST(test_server_error_close)
{
	struct fake_deepgram_config fc = fake_deepgram_config_default();

	fc.script = script;
	fc.drop_after_audio_ms = 600;
	fc.close_code = 1011;
	expect_error(&fc, "closed mid-stream (code 1011 NET-0000)");
}
END_TEST

START_TEST(test_401)
{
	struct fake_deepgram_config fc = fake_deepgram_config_default();

	fc.api_key = "another-key";
	expect_error(&fc, "HTTP 401");
	ck_assert_int_eq(seen.error_status, VAGENT_EAUTH);
}
END_TEST

START_TEST(test_429)
{
	struct fake_deepgram_config fc = fake_deepgram_config_default();

	fc.http_status = 429;
	expect_error(&fc, "HTTP 429");
	ck_assert_int_eq(seen.error_status, VAGENT_EPROVIDER);
}
END_TEST

START_TEST(test_slow_first_result)
{
	struct fake_deepgram_config fc = fake_deepgram_config_default();
	struct vagent_deepgram_config c = config();
	struct vagent_deepgram_stats ds;

	fc.script = script;
	fc.first_result_delay_ms = 300;
	fake = fake_deepgram_start(&fc);
	make_stt(&c);
	feed(1200, true);
	feed(600, false);
	ck_assert(run_until(got_final));
	ck_assert_str_eq(seen.final, "what are your opening hours");
	vagent_deepgram_stt_stats(stt, &ds);
	/* the delay shows in the recorded time to first result, and in the
	 * first byte told to the session (from the first audio frame) */
	ck_assert_int_ge(ds.first_result_ms, 300);
	ck_assert_int_ge(seen.n_first_bytes, 1);
	ck_assert_int_ge(seen.first_ttfb, 300 * VAGENT_TICKS_PER_MS);
}
END_TEST

START_TEST(test_bad_configs)
{
	struct vagent_deepgram_config c;
	struct vagent_error err;

	c = config();
	c.api_key = NULL;
	ck_assert_int_eq(vagent_deepgram_stt_new(&c, &stt, &err), VAGENT_EINVAL);
	ck_assert_str_eq(err.message, "deepgram: no API key");
	c = config();
	c.encoding = "opus";
	ck_assert_int_eq(vagent_deepgram_stt_new(&c, &stt, &err), VAGENT_EINVAL);
	ck_assert(strstr(err.message, "encoding"));
	c = config();
	c.url = "https://api.deepgram.com/v1/listen";
	ck_assert_int_eq(vagent_deepgram_stt_new(&c, &stt, &err), VAGENT_EINVAL);
	ck_assert(strstr(err.message, "url"));
	c = config();
	c.rate = 44100;
	ck_assert_int_eq(vagent_deepgram_stt_new(&c, &stt, &err), VAGENT_EINVAL);
	c = config();
	c.model = "nova-2&evil=1";
	ck_assert_int_eq(vagent_deepgram_stt_new(&c, &stt, &err), VAGENT_EINVAL);
	ck_assert(stt == NULL);
	ck_assert(!strstr(err.message, KEY));
}
END_TEST


/* ---- the example agent end to end, real clock ---- */

/* The example agent with its STT on the fake (and pocketsphinx behind it),
 * written to temp_dir/agent.json next to a copy of its knowledge file. */
static const char *write_agent(const char *extra)
{
	char *text = read_file(top_path("scenarios/agents/store.json"), NULL);
	char *help = read_file(top_path("scenarios/agents/store-help.md"), NULL);
	const char *old = "\"stt\": { \"provider\": \"pocketsphinx\", \"boost\": true }";
	char *at, stt_obj[512], *out;
	size_t len;

	ck_assert(text && help);
	at = strstr(text, old);
	ck_assert_msg(at, "the example agent's stt line changed");
	snprintf(stt_obj, sizeof(stt_obj),
		 "\"stt\": {\"provider\": \"deepgram\", \"model\": \"nova-2\", \"url\": \"%s\", "
		 "\"api_key_env\": \"VAGENT_TEST_DG_KEY\", \"encoding\": \"linear16\", "
		 "\"endpointing_ms\": 600, \"fallback\": \"pocketsphinx\"%s}",
		 fake_deepgram_url(fake), extra);
	len = strlen(text) - strlen(old) + strlen(stt_obj);
	out = malloc(len + 1);
	ck_assert(out);
	memcpy(out, text, (size_t)(at - text));
	strcpy(out + (at - text), stt_obj);
	strcat(out, at + strlen(old));
	write_file(temp_path("store-help.md"), help, strlen(help));
	write_file(temp_path("agent.json"), out, strlen(out));
	free(text);
	free(help);
	free(out);
	return temp_path("agent.json");
}

static const char *const order_script[] = {
	"hi i'd like to check on my order", "it's one two three four five",
	"no that's all goodbye", NULL,
};

static char *run_order_status(struct run_result *r)
{
	char agent[1024], outdir[1024];

	snprintf(agent, sizeof(agent), "%s", write_agent(""));
	snprintf(outdir, sizeof(outdir), "%s", temp_path("out"));
	setenv("VAGENT_TEST_DG_KEY", KEY, 1);
	*r = run_vagent("run", "--clock", "real", "--agent", agent, "--out", outdir,
			top_path("scenarios/order-status.json"), NULL);
	return read_file(temp_path("out/order-status.trace.jsonl"), NULL);
}

START_TEST(test_e2e_order_status)
{
	struct fake_deepgram_config fc = fake_deepgram_config_default();
	struct fake_deepgram_stats st;
	struct run_result r;
	char *trace;

	fc.script = order_script;
	fc.api_key = KEY;
	fake = fake_deepgram_start(&fc);
	trace = run_order_status(&r);
	ck_assert_msg(r.exit_code == 0, "exit %d\n%.1500s\n%.1000s", r.exit_code, r.out, r.err);
	ck_assert(trace);
	/* what the agent heard is the fake's script, through Deepgram only */
	ck_assert_msg(strstr(trace, "\"type\":\"stt.final\",\"text\":\"it's one two three four five\""),
		      "%.3000s", trace);
	ck_assert(strstr(trace, "\"type\":\"stt.partial\""));
	ck_assert(!strstr(trace, "\"type\":\"fallback\""));
	/* the cloud STT's time to first byte and its name on transcripts */
	ck_assert_msg(strstr(trace, "\"type\":\"provider.first_byte\",\"slot\":\"stt\","
			     "\"provider\":\"deepgram\",\"ttfb_ms\":"), "%.3000s", trace);
	ck_assert(strstr(trace, "five\",\"confidence\":") &&
		  strstr(strstr(trace, "five\",\"confidence\":"), ",\"provider\":\"deepgram\"}"));
	ck_assert(!strstr(trace, KEY) && !strstr(r.out, KEY) && !strstr(r.err, KEY));
	fake_deepgram_get_stats(fake, &st);
	ck_assert_int_eq(st.upgraded, 1);
	ck_assert_int_eq(st.closestream, 1);
	ck_assert_int_ge(st.utterances, 3);
	free(trace);
	run_result_free(&r);
}
END_TEST

START_TEST(test_e2e_fallback_to_pocketsphinx)
{
	struct fake_deepgram_config fc = fake_deepgram_config_default();
	struct run_result r;
	char *trace;

	fc.script = order_script;
	fc.drop_after_audio_ms = 12000;   /* during the second turn or so */
	fake = fake_deepgram_start(&fc);
	trace = run_order_status(&r);
	/* the call goes on without Deepgram: the agent may or may not meet
	 * every expectation on pocketsphinx, but nothing breaks */
	ck_assert_msg(r.exit_code == 0 || r.exit_code == 1, "exit %d\n%.1500s\n%.1000s",
		      r.exit_code, r.out, r.err);
	ck_assert(trace);
	ck_assert_msg(strstr(trace, "\"type\":\"fallback\",\"slot\":\"stt\",\"from\":\"deepgram\","
			     "\"to\":\"pocketsphinx\""), "%.3000s", trace);
	/* pocketsphinx heard the caller after the fallback */
	ck_assert(strstr(strstr(trace, "\"type\":\"fallback\""), "\"type\":\"stt.final\""));
	ck_assert(strstr(strstr(trace, "\"type\":\"fallback\""), "\"provider\":\"pocketsphinx\""));
	/* the error names Deepgram once, not "deepgram: deepgram: ..." */
	ck_assert_msg(strstr(trace, "\"type\":\"error\",\"source\":\"deepgram\",\"message\":\"") &&
		      !strstr(trace, "\"source\":\"deepgram\",\"message\":\"deepgram:"),
		      "%.3000s", trace);
	ck_assert(!strstr(r.out, "deepgram: deepgram") && !strstr(r.err, "deepgram: deepgram"));
	ck_assert(!strstr(trace, KEY));
	free(trace);
	run_result_free(&r);
}
END_TEST

START_TEST(test_e2e_virtual_clock_falls_back)
{
	struct fake_deepgram_config fc = fake_deepgram_config_default();
	struct fake_deepgram_stats st;
	struct run_result r;
	char agent[1024], outdir[1024], *trace;

	fc.script = order_script;
	fake = fake_deepgram_start(&fc);
	snprintf(agent, sizeof(agent), "%s", write_agent(""));
	snprintf(outdir, sizeof(outdir), "%s", temp_path("out"));
	setenv("VAGENT_TEST_DG_KEY", KEY, 1);
	r = run_vagent("run", "--agent", agent, "--out", outdir,
		       top_path("scenarios/order-status.json"), NULL);
	trace = read_file(temp_path("out/order-status.trace.jsonl"), NULL);
	ck_assert_msg(r.exit_code == 0 || r.exit_code == 1, "exit %d\n%.1500s\n%.1000s",
		      r.exit_code, r.out, r.err);
	ck_assert(trace);
	ck_assert_msg(strstr(trace, "\"type\":\"fallback\",\"slot\":\"stt\",\"from\":\"deepgram\","
			     "\"to\":\"pocketsphinx\""), "%.3000s", trace);
	ck_assert_msg(strstr(trace, "\"source\":\"deepgram\",\"message\":\"needs the real clock"),
		      "%.3000s", trace);
	fake_deepgram_get_stats(fake, &st);
	ck_assert_int_eq(st.connections, 0);
	free(trace);
	run_result_free(&r);
}
END_TEST

START_TEST(test_agent_file_fields)
{
	struct vagent_agent *a = NULL;
	struct vagent_error err;
	const char *path;

	fake = fake_deepgram_start(NULL);
	path = write_agent(", \"language\": \"en-US\"");
	ck_assert_msg(vagent_agent_load(path, &a, &err) == VAGENT_OK, "%s", err.message);
	ck_assert_str_eq(a->stt.provider, "deepgram");
	ck_assert_str_eq(a->stt.model, "nova-2");
	ck_assert_str_eq(a->stt.url, fake_deepgram_url(fake));
	ck_assert_str_eq(a->stt.api_key_env, "VAGENT_TEST_DG_KEY");
	ck_assert_str_eq(a->stt.encoding, "linear16");
	ck_assert_str_eq(a->stt.language, "en-US");
	ck_assert_int_eq(a->stt.endpointing_ms, 600);
	ck_assert_str_eq(a->stt.fallback, "pocketsphinx");
	{
		struct vagent_stack_options o = { .rate = 16000 };
		struct vagent_agent_stack *st = NULL;

		unsetenv("VAGENT_TEST_DG_KEY");
		ck_assert_int_eq(vagent_agent_stack_new(a, &o, &st, &err), VAGENT_EINVAL);
		ck_assert_msg(strstr(err.message, "VAGENT_TEST_DG_KEY is not set"), "%s", err.message);
	}
	vagent_agent_free(a);
}
END_TEST

START_TEST(test_agent_file_problems)
{
	struct run_result r;

	temp_file("bad.json",
		  "{\"name\": \"x\", \"greeting\": \"Hi\",\n"
		  " \"stt\": {\"provider\": \"deepgram\",\n"
		  "   \"url\": \"https://api.deepgram.com/v1/listen\",\n"
		  "   \"api_key_env\": \"sk-live-123\",\n"
		  "   \"encoding\": \"opus\",\n"
		  "   \"fallback\": \"deepgram\"},\n"
		  " \"brain\": {\"provider\": \"sim\"}, \"tts\": {\"provider\": \"sim\"}}\n");
	r = run_vagent("validate", temp_path("bad.json"), NULL);
	ck_assert_int_eq(r.exit_code, 2);
	ck_assert_msg(strstr(r.out, "bad.json:3: stt.url:") || strstr(r.err, "bad.json:3: stt.url:"),
		      "%.1500s%.1000s", r.out, r.err);
	ck_assert_msg(strstr(r.out, "stt.api_key_env") || strstr(r.err, "stt.api_key_env"), "%.1500s%.1000s", r.out, r.err);
	ck_assert_msg(strstr(r.out, "stt.encoding") || strstr(r.err, "stt.encoding"), "%.1500s%.1000s", r.out, r.err);
	ck_assert_msg(strstr(r.out, "stt.fallback") || strstr(r.err, "stt.fallback"), "%.1500s%.1000s", r.out, r.err);
	run_result_free(&r);
	temp_file("bad2.json",
		  "{\"name\": \"x\", \"greeting\": \"Hi\",\n"
		  " \"stt\": {\"provider\": \"pocketsphinx\", \"model\": \"nova-2\"},\n"
		  " \"brain\": {\"provider\": \"sim\"}, \"tts\": {\"provider\": \"sim\"}}\n");
	r = run_vagent("validate", temp_path("bad2.json"), NULL);
	ck_assert_int_eq(r.exit_code, 2);
	ck_assert_msg(strstr(r.out, "stt.model: only for a cloud provider") ||
		      strstr(r.err, "stt.model: only for a cloud provider"), "%.1500s%.1000s", r.out, r.err);
	run_result_free(&r);
	temp_file("bad3.json",
		  "{\"name\": \"x\", \"greeting\": \"Hi\",\n"
		  " \"stt\": {\"provider\": \"sim\", \"fallback\": \"sim\"},\n"
		  " \"brain\": {\"provider\": \"sim\"}, \"tts\": {\"provider\": \"sim\"}}\n");
	r = run_vagent("validate", temp_path("bad3.json"), NULL);
	ck_assert_int_eq(r.exit_code, 2);
	ck_assert_msg(strstr(r.out, "bad3.json:2: stt.fallback: \"sim\" is the provider itself") ||
		      strstr(r.err, "bad3.json:2: stt.fallback: \"sim\" is the provider itself"),
		      "%.1500s%.1000s", r.out, r.err);
	run_result_free(&r);
}
END_TEST

Suite *suite_deepgram(void)
{
	Suite *s = suite_create("deepgram");
	TCase *tc = tcase_create("provider");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 30);
	tcase_add_test(tc, test_partials_then_final);
	tcase_add_test(tc, test_segments_joined_mulaw);
	tcase_add_test(tc, test_finalize_on_turn_end);
	tcase_add_test(tc, test_stop_sends_closestream);
	tcase_add_test(tc, test_keepalive_in_a_pause);
	tcase_add_test(tc, test_malformed_json);
	tcase_add_test(tc, test_abrupt_close);
	tcase_add_test(tc, test_server_error_close);
	tcase_add_test(tc, test_401);
	tcase_add_test(tc, test_429);
	tcase_add_test(tc, test_slow_first_result);
	tcase_add_test(tc, test_bad_configs);
	suite_add_tcase(s, tc);

	tc = tcase_create("agent");
	tcase_add_checked_fixture(tc, temp_dir_setup, temp_dir_teardown);
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 240);
	tcase_add_test(tc, test_agent_file_fields);
	tcase_add_test(tc, test_agent_file_problems);
	tcase_add_test(tc, test_e2e_order_status);
	tcase_add_test(tc, test_e2e_fallback_to_pocketsphinx);
	tcase_add_test(tc, test_e2e_virtual_clock_falls_back);
	suite_add_tcase(s, tc);
	return s;
}
