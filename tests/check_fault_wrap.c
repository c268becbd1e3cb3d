/*
 * check_fault_wrap.c — the fault wrappers (lib/sim/fault_wrap.c): each
 * fault kind of each slot on simulated inner providers driven directly on
 * a virtual loop (exact times, order of events, no callback inside a
 * call, nothing after cancel or stop), the fault lists the slots refuse,
 * and whole sessions with the real flow brain and flite behind wrappers:
 * filler then answer for a slow brain, fallback and handoff on errors,
 * dropped and misheard finals, a slow first byte in tts_ttfb.
 */
#include <check.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "vagent.h"
#include "support/harness.h"

#define MS VAGENT_TICKS_PER_MS
#define VAGENT__N(a) (sizeof(a) / sizeof((a)[0]))

/* ---- a log of the callbacks a wrapper makes, with their times ---- */

struct drv {
	struct vagent_loop *loop;
	char log[16384];
	size_t len;
	int in_call;                 /* a call into the provider is running */
	bool called_inside;          /* a callback came from inside one */
	/* brain */
	struct vagent_brain *brain, *inner_brain;
	uint64_t cancel_on_text;     /* cancel this id at its first delta */
	/* tts */
	struct vagent_tts *tts, *inner_tts;
	size_t samples;
	int64_t first_audio, last_audio_before_gap, gap;
	int64_t prev_audio;
	/* stt */
	struct vagent_stt *stt, *inner_stt;
	struct vagent_timer *feeder;
	int64_t feed_t;              /* session time of the next frame */
	int64_t utt_start[4], utt_end[4];
	const char *utt_text[4];
	int n_utts;
};

static void logf_(struct drv *d, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static void logf_(struct drv *d, const char *fmt, ...)
{
	va_list ap;
	int n;

	if (d->in_call)
		d->called_inside = true;
	n = snprintf(d->log + d->len, sizeof(d->log) - d->len, "%lld ",
		     (long long)(vagent_loop_now(d->loop) / MS));
	ck_assert_int_gt(n, 0);
	d->len += (size_t)n;
	va_start(ap, fmt);
	n = vsnprintf(d->log + d->len, sizeof(d->log) - d->len, fmt, ap);
	va_end(ap);
	ck_assert(n > 0 && (size_t)n < sizeof(d->log) - d->len);
	d->len += (size_t)n;
}

static void drv_init(struct drv *d)
{
	struct vagent_loop_config lc = vagent_loop_config_default();
	struct vagent_error err;

	memset(d, 0, sizeof(*d));
	lc.clock = VAGENT_CLOCK_VIRTUAL;
	lc.workers = 0;
	ck_assert_int_eq(vagent_loop_new(&lc, &d->loop, &err), VAGENT_OK);
	d->prev_audio = -1;
}

static void drv_free(struct drv *d)
{
	vagent_brain_free(d->brain);
	vagent_brain_free(d->inner_brain);
	vagent_tts_free(d->tts);
	vagent_tts_free(d->inner_tts);
	vagent_timer_free(d->feeder);
	vagent_stt_free(d->stt);
	vagent_stt_free(d->inner_stt);
	vagent_loop_free(d->loop);
}

static void run_idle(struct drv *d)
{
	struct vagent_error err;

	ck_assert_int_eq(vagent_loop_run(d->loop, VAGENT_RUN_UNTIL_IDLE, &err),
			 VAGENT_OK);
	ck_assert(!d->called_inside);
}

/* ---- brain ---- */

static void b_first(void *ctx, uint64_t id)
{
	logf_(ctx, "first %llu\n", (unsigned long long)id);
}

static void b_text(void *ctx, uint64_t id, const char *delta)
{
	struct drv *d = ctx;

	logf_(d, "text %llu [%s]\n", (unsigned long long)id, delta);
	if (d->cancel_on_text == id)
		d->brain->ops->cancel(d->brain, id);
}

static void b_tool(void *ctx, uint64_t id, const char *name,
		   const char *call_id, const char *args)
{
	struct drv *d = ctx;

	logf_(d, "tool %llu %s %s %s\n", (unsigned long long)id, name, call_id, args);
	d->in_call++;
	d->brain->ops->tool_result(d->brain, id, call_id, VAGENT_OK,
				   "{\"status\":\"shipped\"}");
	d->in_call--;
}

static void b_escalate(void *ctx, uint64_t id, const char *reason,
		       const char *package)
{
	(void)package;
	logf_(ctx, "escalate %llu %s\n", (unsigned long long)id, reason);
}

static void b_hangup(void *ctx, uint64_t id)
{
	logf_(ctx, "hangup %llu\n", (unsigned long long)id);
}

static void b_done(void *ctx, uint64_t id)
{
	logf_(ctx, "done %llu\n", (unsigned long long)id);
}

static void b_error(void *ctx, uint64_t id, vagent_status st, const char *msg)
{
	logf_(ctx, "error %llu %s %s\n", (unsigned long long)id,
	      vagent_status_name(st), msg);
}

static const struct vagent_sim_rule llm_rules[] = {
	{ .pattern = "order", .tool = "get_order", .args = "{\"n\":1}",
	  .reply = "It has {result.status}." },
	{ .pattern = "human", .reply = "Sure.", .escalate = "caller_asked" },
	{ .pattern = "bye", .reply = "Bye now.", .hangup = true },
};

/* A simulated LLM (ttft 300 ms, 50 tokens/s: a token every 20 ms) behind
 * a fault wrapper with `faults` (wrapped: false: the LLM alone). */
static void brain_setup(struct drv *d, const struct vagent_fault *faults,
			size_t n, bool wrapped)
{
	struct vagent_sim_llm_config c = vagent_sim_llm_config_default();
	struct vagent_brain *b;
	struct vagent_error err;

	c.ttft.jitter_ms = 0;
	c.greeting = "Hello there, how can I help?";
	c.rules = llm_rules;
	c.n_rules = VAGENT__N(llm_rules);
	ck_assert_int_eq(vagent_sim_llm_new(&c, &d->inner_brain, &err), VAGENT_OK);
	b = d->inner_brain;
	if (wrapped) {
		ck_assert_msg(vagent_fault_brain_new(d->inner_brain, faults, n, 1,
						     &d->brain, &err) == VAGENT_OK,
			      "%s", err.message);
		b = d->brain;
	} else {
		d->brain = d->inner_brain;
		d->inner_brain = NULL;
	}
	b->loop = d->loop;
	b->on_first_token = b_first;
	b->on_text = b_text;
	b->on_tool_call = b_tool;
	b->on_escalate = b_escalate;
	b->on_hangup = b_hangup;
	b->on_done = b_done;
	b->on_error = b_error;
	b->ctx = d;
}

static void ask(struct drv *d, uint64_t id, const char *text)
{
	struct vagent_brain_request req = { 0 };
	struct vagent_error err;

	req.id = id;
	req.turn = (int)id;
	req.caller_text = text ? text : "";
	req.greeting = text == NULL;
	d->in_call++;
	ck_assert_msg(d->brain->ops->respond(d->brain, &req, &err) == VAGENT_OK,
		      "%s", err.message);
	d->in_call--;
}

/* The log of asking each of `texts` in turn (NULL: the greeting), each
 * one once the loop is idle, on a brain with `faults`. */
static void brain_log(const struct vagent_fault *faults, size_t n, bool wrapped,
		      const char *const *texts, size_t n_texts, char *out,
		      size_t cap)
{
	struct drv d;
	size_t i;

	drv_init(&d);
	brain_setup(&d, faults, n, wrapped);
	for (i = 0; i < n_texts; i++) {
		ask(&d, i + 1, texts[i]);
		run_idle(&d);
	}
	snprintf(out, cap, "%s", d.log);
	drv_free(&d);
}

START_TEST(test_brain_healthy_is_transparent)
{
	static const char *const texts[] = { NULL, "where is my order",
					     "get me a human", "bye" };
	struct vagent_fault later = { .kind = VAGENT_FAULT_ERROR, .from_call = 9 };
	static char plain[16384], wrapped[16384];
	struct drv d;
	struct vagent_error err;

	brain_log(NULL, 0, false, texts, 4, plain, sizeof(plain));
	brain_log(&later, 1, true, texts, 4, wrapped, sizeof(wrapped));
	ck_assert_str_eq(wrapped, plain);
	/* the same events at the same instants, and it reads like the LLM */
	ck_assert_ptr_nonnull(strstr(plain, "300 first 1\n300 text 1 [Hell]\n320 text 1 [o th]\n"));
	ck_assert_ptr_nonnull(strstr(plain, "tool 2 get_order call_1 {\"n\":1}"));
	ck_assert_ptr_nonnull(strstr(plain, "escalate 3 caller_asked"));
	ck_assert_ptr_nonnull(strstr(plain, "hangup 4"));
	drv_init(&d);
	brain_setup(&d, NULL, 0, true);
	ck_assert_str_eq(d.brain->name, "sim-llm");
	(void)err;
	drv_free(&d);
}
END_TEST

START_TEST(test_brain_delay_moves_everything)
{
	static const char *const texts[] = { NULL, "where is my order" };
	struct vagent_fault f = { .kind = VAGENT_FAULT_DELAY, .from_call = 1,
				  .to_call = 1, .delay_ms = 3000 };
	char log[16384];

	brain_log(&f, 1, true, texts, 2, log, sizeof(log));
	/* call 1: first token at 300 + 3000, tokens still 20 ms apart */
	ck_assert_ptr_nonnull(strstr(log, "3300 first 1\n3300 text 1 [Hell]\n"
					  "3320 text 1 [o th]\n"));
	ck_assert_ptr_nonnull(strstr(log, "3420 text 1 [elp?]\n3420 done 1\n"));
	/* call 2 (from 3420): healthy again, tool call and reply in order */
	ck_assert_ptr_nonnull(strstr(log, "3720 first 2\n3720 tool 2 get_order"));
	ck_assert_ptr_nonnull(strstr(log, "3740 text 2 [It h]\n"));
}
END_TEST

START_TEST(test_brain_delay_keeps_tool_order)
{
	static const char *const texts[] = { "where is my order" };
	struct vagent_fault f = { .kind = VAGENT_FAULT_DELAY, .from_call = 1,
				  .delay_ms = 1000 };
	char log[16384];

	brain_log(&f, 1, true, texts, 1, log, sizeof(log));
	/* the tool call waits with the stream; the reply follows its result */
	ck_assert_str_eq(log,
			 "1300 first 1\n"
			 "1300 tool 1 get_order call_1 {\"n\":1}\n"
			 "2320 text 1 [It h]\n"
			 "2340 text 1 [as s]\n"
			 "2360 text 1 [hipp]\n"
			 "2380 text 1 [ed.]\n"
			 "2380 done 1\n");
}
END_TEST

START_TEST(test_brain_stall)
{
	static const char *const texts[] = { NULL };
	struct vagent_fault f = { .kind = VAGENT_FAULT_STALL, .from_call = 1,
				  .after = 2, .delay_ms = 500 };
	char log[16384];

	brain_log(&f, 1, true, texts, 1, log, sizeof(log));
	ck_assert_ptr_nonnull(strstr(log, "300 text 1 [Hell]\n320 text 1 [o th]\n"
					  "840 text 1 [ere,]\n860 text 1 [ how]\n"));
}
END_TEST

START_TEST(test_brain_error_instead_of_answer)
{
	static const char *const texts[] = { NULL, NULL };
	struct vagent_fault f = { .kind = VAGENT_FAULT_ERROR, .from_call = 1,
				  .to_call = 1, .delay_ms = 250, .http_status = 503 };
	char log[16384];

	brain_log(&f, 1, true, texts, 2, log, sizeof(log));
	ck_assert_ptr_nonnull(strstr(log, "250 error 1 EPROVIDER sim-llm: HTTP 503 "
					  "(injected error)\n550 first 2\n"));
	ck_assert_ptr_null(strstr(log, "first 1"));
}
END_TEST

START_TEST(test_brain_disconnect_and_malformed)
{
	static const char *const texts[] = { NULL, NULL };
	struct vagent_fault f[] = {
		{ .kind = VAGENT_FAULT_DISCONNECT, .from_call = 1, .to_call = 1,
		  .after = 3 },
		{ .kind = VAGENT_FAULT_MALFORMED, .from_call = 2 },
	};
	char log[16384];

	brain_log(f, 2, true, texts, 2, log, sizeof(log));
	ck_assert_str_eq(log,
			 "300 first 1\n"
			 "300 text 1 [Hell]\n"
			 "320 text 1 [o th]\n"
			 "340 text 1 [ere,]\n"
			 "360 error 1 EPROTO sim-llm: stream closed mid-reply (injected)\n"
			 "660 first 2\n"
			 "660 error 2 EPROTO sim-llm: malformed reply chunk (injected)\n");
}
END_TEST

START_TEST(test_brain_timeout_and_cancel)
{
	struct vagent_fault f[] = {
		{ .kind = VAGENT_FAULT_TIMEOUT, .from_call = 1, .to_call = 1 },
		{ .kind = VAGENT_FAULT_DELAY, .from_call = 2, .delay_ms = 2000 },
	};
	struct drv d;
	struct vagent_error err;

	drv_init(&d);
	brain_setup(&d, f, 2, true);
	ask(&d, 1, NULL);
	ck_assert_int_eq(vagent_loop_run_until(d.loop, 60000 * MS, &err), VAGENT_OK);
	ck_assert_str_eq(d.log, "");            /* never answers */
	d.brain->ops->cancel(d.brain, 1);
	/* cancelled while its events wait in the delay: none arrives */
	ask(&d, 2, NULL);
	ck_assert_int_eq(vagent_loop_run_until(d.loop, 61000 * MS, &err), VAGENT_OK);
	d.brain->ops->cancel(d.brain, 2);
	run_idle(&d);
	ck_assert_str_eq(d.log, "");
	/* cancelled from inside its own delta: nothing after it */
	d.cancel_on_text = 3;
	ask(&d, 3, NULL);
	run_idle(&d);
	ck_assert_str_eq(d.log, "63300 first 3\n63300 text 3 [Hell]\n");
	/* stop: nothing more from anything started */
	ask(&d, 4, NULL);
	d.brain->ops->stop(d.brain);
	run_idle(&d);
	ck_assert_str_eq(d.log, "63300 first 3\n63300 text 3 [Hell]\n");
	drv_free(&d);
}
END_TEST

START_TEST(test_free_with_requests_pending)
{
	struct vagent_fault f = { .kind = VAGENT_FAULT_DELAY, .from_call = 1,
				  .delay_ms = 2000 };
	struct drv d;
	struct vagent_error err;

	drv_init(&d);
	brain_setup(&d, &f, 1, true);
	ask(&d, 1, NULL);
	ck_assert_int_eq(vagent_loop_run_until(d.loop, 1000 * MS, &err), VAGENT_OK);
	/* freed with the whole reply queued in the delay: no callback, no
	 * leak (ASan) */
	vagent_brain_free(d.brain);
	d.brain = NULL;
	run_idle(&d);
	ck_assert_str_eq(d.log, "");
	drv_free(&d);
}
END_TEST

/* ---- TTS ---- */

static void t_audio(void *ctx, uint64_t id, const int16_t *samples, size_t n)
{
	struct drv *d = ctx;
	int64_t now = vagent_loop_now(d->loop);

	(void)id;
	ck_assert_ptr_nonnull(samples);
	if (d->in_call)
		d->called_inside = true;
	if (d->samples == 0)
		d->first_audio = now;
	if (d->prev_audio >= 0 && now - d->prev_audio > d->gap) {
		d->gap = now - d->prev_audio;
		d->last_audio_before_gap = (int64_t)d->samples;
	}
	d->prev_audio = now;
	d->samples += n;
}

static void t_done(void *ctx, uint64_t id)
{
	logf_(ctx, "done %llu\n", (unsigned long long)id);
}

static void t_error(void *ctx, uint64_t id, vagent_status st, const char *msg)
{
	logf_(ctx, "error %llu %s %s\n", (unsigned long long)id,
	      vagent_status_name(st), msg);
}

/* A simulated TTS: first byte 120 ms, 100 ms chunks at 5x real time. */
static void tts_setup(struct drv *d, const struct vagent_fault *faults, size_t n)
{
	struct vagent_sim_tts_config c = vagent_sim_tts_config_default();
	struct vagent_error err;

	c.first_byte.jitter_ms = 0;
	ck_assert_int_eq(vagent_sim_tts_new(&c, &d->inner_tts, &err), VAGENT_OK);
	ck_assert_msg(vagent_fault_tts_new(d->inner_tts, faults, n, 1, &d->tts,
					   &err) == VAGENT_OK, "%s", err.message);
	ck_assert_str_eq(d->tts->name, "sim-tts");
	d->tts->loop = d->loop;
	d->tts->on_audio = t_audio;
	d->tts->on_done = t_done;
	d->tts->on_error = t_error;
	d->tts->ctx = d;
}

static void speak(struct drv *d, uint64_t id)
{
	struct vagent_error err;

	d->in_call++;
	ck_assert_int_eq(d->tts->ops->speak(d->tts, id, "Your order has shipped today.",
					    16000, &err), VAGENT_OK);
	d->in_call--;
}

START_TEST(test_tts_delay_and_stall)
{
	struct vagent_fault f[] = {
		{ .kind = VAGENT_FAULT_DELAY, .from_call = 1, .to_call = 1,
		  .delay_ms = 2000 },
		{ .kind = VAGENT_FAULT_STALL, .from_call = 2, .to_call = 2,
		  .after = 250, .delay_ms = 1500 },
	};
	struct drv d;
	size_t total;

	drv_init(&d);
	tts_setup(&d, f, 2);
	speak(&d, 1);
	run_idle(&d);
	/* slow first byte: 120 + 2000 ms */
	ck_assert_int_eq(d.first_audio, 2120 * MS);
	ck_assert_int_eq(d.gap, 20 * MS);       /* then the usual pace */
	total = d.samples;
	ck_assert_uint_gt(total, 16000);
	d.samples = 0;
	d.gap = 0;
	d.prev_audio = -1;
	speak(&d, 2);
	run_idle(&d);
	/* all the audio; a 1.5 s pause after exactly 250 ms of it */
	ck_assert_uint_eq(d.samples, total);
	ck_assert_int_eq(d.last_audio_before_gap, 4000);
	ck_assert_int_eq(d.gap, 1500 * MS);
	ck_assert_ptr_nonnull(strstr(d.log, "done 1\n"));
	ck_assert_ptr_nonnull(strstr(d.log, "done 2\n"));
	drv_free(&d);
}
END_TEST

START_TEST(test_tts_error_and_timeout)
{
	struct vagent_fault f[] = {
		{ .kind = VAGENT_FAULT_ERROR, .from_call = 1, .to_call = 1,
		  .delay_ms = 40 },
		{ .kind = VAGENT_FAULT_TIMEOUT, .from_call = 2, .to_call = 2 },
	};
	struct drv d;
	struct vagent_error err;

	drv_init(&d);
	tts_setup(&d, f, 2);
	speak(&d, 1);
	run_idle(&d);
	ck_assert_str_eq(d.log, "40 error 1 EPROVIDER sim-tts: HTTP 500 (injected error)\n");
	speak(&d, 2);
	ck_assert_int_eq(vagent_loop_run_until(d.loop, 30000 * MS, &err), VAGENT_OK);
	ck_assert_uint_eq(d.samples, 0);        /* never any audio */
	d.tts->ops->cancel(d.tts, 2);
	speak(&d, 3);                           /* healthy again */
	d.tts->ops->cancel(d.tts, 3);           /* ... but cancelled at once */
	run_idle(&d);
	ck_assert_uint_eq(d.samples, 0);
	ck_assert_str_eq(d.log, "40 error 1 EPROVIDER sim-tts: HTTP 500 (injected error)\n");
	drv_free(&d);
}
END_TEST

/* ---- STT ---- */

static void s_partial(void *ctx, const char *text)
{
	logf_(ctx, "partial %s\n", text);
}

static void s_final(void *ctx, const char *text, double confidence)
{
	(void)confidence;
	logf_(ctx, "final %s\n", text);
}

static void s_error(void *ctx, vagent_status st, const char *msg)
{
	logf_(ctx, "error %s %s\n", vagent_status_name(st), msg);
}

/* Feed one 20 ms frame with the truth of the utterance it falls in. */
static void feed(struct vagent_timer *t, void *arg)
{
	struct drv *d = arg;
	struct vagent_frame f;
	struct vagent_speech_truth truth = { 0 };
	int i;

	(void)t;
	vagent_frame_init_20ms(&f, 16000, 1, d->feed_t);
	for (i = 0; i < d->n_utts; i++) {
		if (d->feed_t >= d->utt_start[i] && d->feed_t < d->utt_end[i]) {
			truth.speaking = true;
			truth.utterance = i + 1;
			truth.text = d->utt_text[i];
			truth.start = d->utt_start[i];
			truth.end = d->utt_end[i];
		}
	}
	d->in_call++;
	d->stt->ops->audio(d->stt, &f, &truth);
	d->in_call--;
	d->feed_t += 20 * MS;
	if (d->feed_t >= d->utt_end[d->n_utts - 1] + 40 * MS)
		vagent_timer_stop(d->feeder);
}

/* A simulated recogniser (first partial 150 ms, one every 200 ms, final
 * 120 ms after the end) behind a wrapper, hearing utterances of 1 s at
 * 0-1 s and 3-4 s; `run` feeds them and runs the loop to its end. */
static void stt_setup(struct drv *d, const struct vagent_fault *faults, size_t n,
		      uint64_t seed)
{
	struct vagent_sim_stt_config c = vagent_sim_stt_config_default();
	struct vagent_error err;

	c.first_partial.jitter_ms = 0;
	c.final.jitter_ms = 0;
	ck_assert_int_eq(vagent_sim_stt_new(&c, &d->inner_stt, &err), VAGENT_OK);
	ck_assert_msg(vagent_fault_stt_new(d->inner_stt, faults, n, seed, &d->stt,
					   &err) == VAGENT_OK, "%s", err.message);
	ck_assert_str_eq(d->stt->name, "sim");
	d->stt->loop = d->loop;
	d->stt->on_partial = s_partial;
	d->stt->on_final = s_final;
	d->stt->on_error = s_error;
	d->stt->ctx = d;
	d->n_utts = 2;
	d->utt_start[0] = 0;
	d->utt_end[0] = 1000 * MS;
	d->utt_text[0] = "where is my order please";
	d->utt_start[1] = 3000 * MS;
	d->utt_end[1] = 4000 * MS;
	d->utt_text[1] = "number one two three";
}

static void stt_run(struct drv *d)
{
	struct vagent_error err;

	d->feeder = vagent_timer_new(d->loop, feed, d);
	ck_assert_ptr_nonnull(d->feeder);
	ck_assert_int_eq(vagent_timer_start_at(d->feeder, 0, 20 * MS, &err), VAGENT_OK);
	run_idle(d);
}

static const char *const STT_HEALTHY =
	"150 partial where\n"
	"350 partial where is\n"
	"550 partial where is my\n"
	"750 partial where is my order\n"
	"950 partial where is my order please\n"
	"1120 final where is my order please\n"
	"3150 partial number\n"
	"3350 partial number one\n"
	"3550 partial number one two\n"
	"3750 partial number one two three\n"
	"4120 final number one two three\n";

START_TEST(test_stt_healthy_delay_drop)
{
	struct vagent_fault none = { .kind = VAGENT_FAULT_NONE, .from_call = 1 };
	struct vagent_fault delay = { .kind = VAGENT_FAULT_DELAY, .from_call = 1,
				      .to_call = 1, .delay_ms = 2500 };
	struct vagent_fault drop = { .kind = VAGENT_FAULT_DROP, .from_call = 2 };
	struct drv d;

	drv_init(&d);
	stt_setup(&d, &none, 1, 1);
	stt_run(&d);
	ck_assert_str_eq(d.log, STT_HEALTHY);
	drv_free(&d);

	/* the first final 2.5 s late; what came after it waits behind it */
	drv_init(&d);
	stt_setup(&d, &delay, 1, 1);
	stt_run(&d);
	ck_assert_str_eq(d.log,
			 "150 partial where\n"
			 "350 partial where is\n"
			 "550 partial where is my\n"
			 "750 partial where is my order\n"
			 "950 partial where is my order please\n"
			 "3620 final where is my order please\n"
			 "3620 partial number\n"
			 "3620 partial number one\n"
			 "3620 partial number one two\n"
			 "3750 partial number one two three\n"
			 "4120 final number one two three\n");
	drv_free(&d);

	/* the second final dropped, its partials kept */
	drv_init(&d);
	stt_setup(&d, &drop, 1, 1);
	stt_run(&d);
	ck_assert_ptr_nonnull(strstr(d.log, "1120 final where is my order please\n"));
	ck_assert_ptr_nonnull(strstr(d.log, "3750 partial number one two three\n"));
	ck_assert_ptr_null(strstr(d.log, "final number"));
	drv_free(&d);
}
END_TEST

/* The final of the first utterance under WRONG_WORDS `f` with `seed`. */
static void wrong_final(const struct vagent_fault *f, uint64_t seed, char *out,
			size_t cap)
{
	struct drv d;
	const char *p, *e;

	drv_init(&d);
	stt_setup(&d, f, 1, seed);
	stt_run(&d);
	p = strstr(d.log, "1120 final ");
	ck_assert_ptr_nonnull(p);
	p += strlen("1120 final ");
	e = strchr(p, '\n');
	snprintf(out, cap, "%.*s", (int)(e - p), p);
	/* the partials and the second final are untouched */
	ck_assert_ptr_nonnull(strstr(d.log, "950 partial where is my order please\n"));
	ck_assert_ptr_nonnull(strstr(d.log, "4120 final number one two three\n"));
	drv_free(&d);
}

START_TEST(test_stt_wrong_words)
{
	struct vagent_fault text = { .kind = VAGENT_FAULT_WRONG_WORDS, .from_call = 1,
				     .to_call = 1, .text = "wear is my udder peas" };
	struct vagent_fault half = { .kind = VAGENT_FAULT_WRONG_WORDS, .from_call = 1,
				     .to_call = 1, .rate = 0.4 };
	const char *orig[] = { "where", "is", "my", "order", "please" };
	char a[256], b[256], c[256];
	char *tok, *save = NULL;
	int i = 0, changed = 0;

	wrong_final(&text, 1, a, sizeof(a));
	ck_assert_str_eq(a, "wear is my udder peas");
	/* rate 0.4 of 5 words: exactly 2 replaced, the same for a seed */
	wrong_final(&half, 7, a, sizeof(a));
	wrong_final(&half, 7, b, sizeof(b));
	ck_assert_str_eq(a, b);
	for (tok = strtok_r(a, " ", &save); tok; tok = strtok_r(NULL, " ", &save), i++)
		changed += strcmp(tok, orig[i]) != 0;
	ck_assert_int_eq(i, 5);
	ck_assert_int_eq(changed, 2);
	/* another seed, other words (for these two seeds) */
	wrong_final(&half, 8, c, sizeof(c));
	wrong_final(&half, 7, a, sizeof(a));
	ck_assert_str_ne(a, c);
}
END_TEST

START_TEST(test_stt_error_ends_its_use)
{
	struct vagent_fault f = { .kind = VAGENT_FAULT_ERROR, .from_call = 1,
				  .delay_ms = 100, .http_status = 502 };
	struct drv d;

	drv_init(&d);
	stt_setup(&d, &f, 1, 1);
	stt_run(&d);
	/* at the first final + 100 ms; nothing after it */
	ck_assert_str_eq(d.log,
			 "150 partial where\n"
			 "350 partial where is\n"
			 "550 partial where is my\n"
			 "750 partial where is my order\n"
			 "950 partial where is my order please\n"
			 "1220 error EPROVIDER sim: HTTP 502 (injected error)\n");
	drv_free(&d);
}
END_TEST

START_TEST(test_stt_stop_and_free)
{
	struct vagent_fault f = { .kind = VAGENT_FAULT_DELAY, .from_call = 1,
				  .delay_ms = 5000 };
	struct drv d;
	struct vagent_error err;

	drv_init(&d);
	stt_setup(&d, &f, 1, 1);
	d.feeder = vagent_timer_new(d.loop, feed, &d);
	ck_assert_int_eq(vagent_timer_start_at(d.feeder, 0, 20 * MS, &err), VAGENT_OK);
	ck_assert_int_eq(vagent_loop_run_until(d.loop, 2000 * MS, &err), VAGENT_OK);
	d.stt->ops->stop(d.stt);                /* with the final queued */
	run_idle(&d);
	ck_assert_ptr_null(strstr(d.log, "final"));
	ck_assert_ptr_null(strstr(d.log, "number"));
	drv_free(&d);
}
END_TEST

/* ---- fault lists ---- */

START_TEST(test_kinds_per_slot)
{
	struct vagent_fault drop = { .kind = VAGENT_FAULT_DROP, .from_call = 1 };
	struct vagent_fault stall = { .kind = VAGENT_FAULT_STALL, .from_call = 1 };
	struct vagent_fault bare = { .kind = VAGENT_FAULT_WRONG_WORDS, .from_call = 1 };
	struct vagent_fault rate = { .kind = VAGENT_FAULT_WRONG_WORDS, .from_call = 1,
				     .rate = 1.5 };
	struct vagent_fault order = { .kind = VAGENT_FAULT_DELAY, .from_call = 3,
				      .to_call = 2 };
	struct drv d;
	struct vagent_brain *b = NULL;
	struct vagent_stt *s = NULL;
	struct vagent_tts *t = NULL;
	struct vagent_error err;

	ck_assert_str_eq(vagent_fault_kinds_for("llm"),
			 "delay, stall, error, disconnect, timeout, malformed");
	ck_assert_str_eq(vagent_fault_kinds_for("brain"), vagent_fault_kinds_for("llm"));
	ck_assert_str_eq(vagent_fault_kinds_for("stt"), "delay, drop, wrong_words, error");
	ck_assert_str_eq(vagent_fault_kinds_for("tts"), "delay, error, timeout, stall");
	ck_assert_str_eq(vagent_fault_kinds_for("tool"),
			 "delay, timeout, error, stall, disconnect, malformed");
	ck_assert_str_eq(vagent_fault_kinds_for("radio"), "");
	ck_assert_str_eq(vagent_fault_kinds_for(NULL), "");
	ck_assert(vagent_fault_kind_allowed("stt", VAGENT_FAULT_DROP));
	ck_assert(!vagent_fault_kind_allowed("llm", VAGENT_FAULT_DROP));
	ck_assert(!vagent_fault_kind_allowed("tool", VAGENT_FAULT_WRONG_WORDS));
	ck_assert(!vagent_fault_kind_allowed("stt", VAGENT_FAULT_STALL));
	ck_assert(vagent_fault_kind_allowed("tts", VAGENT_FAULT_NONE));
	ck_assert(!vagent_fault_kind_allowed("radio", VAGENT_FAULT_DELAY));
	ck_assert(!vagent_fault_kind_allowed("tts", (vagent_fault_kind)99));
	ck_assert_str_eq(vagent_fault_kind_name(VAGENT_FAULT_WRONG_WORDS), "wrong_words");
	ck_assert_int_eq(vagent_fault_kind_from_name("drop"), VAGENT_FAULT_DROP);

	drv_init(&d);
	brain_setup(&d, NULL, 0, false);
	ck_assert_int_eq(vagent_fault_brain_new(d.brain, &drop, 1, 1, &b, &err),
			 VAGENT_EINVAL);
	ck_assert_ptr_null(b);
	ck_assert_str_eq(err.message, "sim-llm: faults[0].kind: \"drop\" does not apply "
			 "here (one of delay, stall, error, disconnect, timeout, malformed)");
	ck_assert_int_eq(vagent_fault_brain_new(d.brain, &order, 1, 1, &b, &err),
			 VAGENT_EINVAL);
	ck_assert_str_eq(err.message, "sim-llm: faults[0]: to_call is before from_call");
	ck_assert_int_eq(vagent_fault_brain_new(d.brain, NULL, 2, 1, &b, &err),
			 VAGENT_EINVAL);
	ck_assert_int_eq(vagent_fault_brain_new(NULL, NULL, 0, 1, &b, &err),
			 VAGENT_EINVAL);
	ck_assert_str_eq(err.message, "fault: no brain to wrap");
	ck_assert_int_eq(vagent_fault_brain_new(d.brain, NULL, 0, 1, NULL, &err),
			 VAGENT_EINVAL);
	drv_free(&d);

	drv_init(&d);
	stt_setup(&d, NULL, 0, 1);
	ck_assert_int_eq(vagent_fault_stt_new(d.inner_stt, &stall, 1, 1, &s, &err),
			 VAGENT_EINVAL);
	ck_assert_ptr_nonnull(strstr(err.message, "\"stall\" does not apply"));
	ck_assert_int_eq(vagent_fault_stt_new(d.inner_stt, &bare, 1, 1, &s, &err),
			 VAGENT_EINVAL);
	ck_assert_str_eq(err.message,
			 "sim: faults[0]: wrong_words needs a text or a rate above 0");
	ck_assert_int_eq(vagent_fault_stt_new(d.inner_stt, &rate, 1, 1, &s, &err),
			 VAGENT_EINVAL);
	ck_assert_str_eq(err.message, "sim: faults[0]: rate is not in 0..1");
	ck_assert_ptr_null(s);
	drv_free(&d);

	drv_init(&d);
	tts_setup(&d, NULL, 0);
	ck_assert_int_eq(vagent_fault_tts_new(d.inner_tts, &drop, 1, 1, &t, &err),
			 VAGENT_EINVAL);
	ck_assert_ptr_null(t);
	/* the simulated providers refuse what they do not implement */
	{
		struct vagent_sim_tts_config c = vagent_sim_tts_config_default();

		c.faults = &drop;
		c.n_faults = 1;
		ck_assert_int_eq(vagent_sim_tts_new(&c, &t, &err), VAGENT_EINVAL);
		ck_assert_ptr_nonnull(strstr(err.message, "\"drop\" does not apply"));
	}
	drv_free(&d);
}
END_TEST

START_TEST(test_tool_mock_refuses_stt_kinds)
{
	const char *text =
		"{\n"
		"  \"greeting\": \"Hi, this is an automated assistant.\",\n"
		"  \"tools\": [\n"
		"    { \"name\": \"t\", \"mock\": { \"faults\": [\n"
		"      { \"kind\": \"wrong_words\" }\n"
		"    ] } }\n"
		"  ],\n"
		"  \"flow\": { \"intents\": [ { \"name\": \"a\", \"examples\": [\"a\"] } ] }\n"
		"}\n";
	struct vagent_agent *a = NULL;
	struct vagent_error err;

	ck_assert_int_eq(vagent_agent_parse(text, strlen(text), "a.json", ".", &a, &err),
			 VAGENT_EINVAL);
	ck_assert_ptr_null(a);
	ck_assert_ptr_nonnull(strstr(err.message,
		"a.json:5: tools[0].mock.faults[0].kind: not a tool's fault kind "
		"\"wrong_words\" (one of delay, timeout, error, stall, disconnect, "
		"malformed)"));
}
END_TEST

/* ---- whole sessions: the flow brain and flite behind wrappers ---- */

/*
 * A call to the test store (fixtures/agents/test-store.json) on the
 * virtual clock, its compute not charged (so the course of the call does
 * not depend on this machine): the flow brain and flite (or the
 * simulated LLM and TTS), the simulated recogniser, each behind a fault
 * wrapper with its faults; an optional second brain to fall back to.
 */
struct call {
	const struct vagent_fault *stt_f, *brain_f, *tts_f;
	size_t n_stt_f, n_brain_f, n_tts_f;
	bool sim_brain, sim_tts, fallback_brain, fallback_tts;
	int filler_after_ms;
	const char *say;
	struct vagent_agent *agent;
	struct vagent_stt *stt, *stt_in;
	struct vagent_brain *brain, *brain_in, *brain2;
	struct vagent_tts *tts, *tts_in, *tts2;
	struct vagent_caller *caller;
	struct vagent_session *s;
	struct vagent_trace *trace;
	struct vagent_trace_metrics *metrics;
};

static void call_run(struct call *c)
{
	struct vagent_session_config cfg = vagent_session_config_default();
	struct vagent_sim_stt_config sc = vagent_sim_stt_config_default();
	struct vagent_sim_caller_config cc = vagent_sim_caller_config_default();
	struct vagent_flow_config fc = vagent_flow_config_default();
	struct vagent_flite_config tc = vagent_flite_config_default();
	struct vagent_sim_llm_config lc = vagent_sim_llm_config_default();
	struct vagent_sim_tts_config stc = vagent_sim_tts_config_default();
	struct vagent_sim_step steps[2];
	struct vagent_error err;
	const char *text;
	size_t len;

	ck_assert_msg(vagent_agent_load(top_path("fixtures/agents/test-store.json"),
					&c->agent, &err) == VAGENT_OK, "%s", err.message);
	sc.first_partial.jitter_ms = 0;
	sc.final.jitter_ms = 0;
	ck_assert_int_eq(vagent_sim_stt_new(&sc, &c->stt_in, &err), VAGENT_OK);
	ck_assert_msg(vagent_fault_stt_new(c->stt_in, c->stt_f, c->n_stt_f, 1, &c->stt,
					   &err) == VAGENT_OK, "%s", err.message);
	lc.ttft.jitter_ms = 0;
	lc.greeting = c->agent->greeting;
	lc.fallback_reply = "The simulated brain here.";
	if (c->sim_brain) {
		ck_assert_int_eq(vagent_sim_llm_new(&lc, &c->brain_in, &err), VAGENT_OK);
	} else {
		fc.reference_date = "2026-12-01";
		ck_assert_int_eq(vagent_flow_brain_new(c->agent, &fc, &c->brain_in, &err),
				 VAGENT_OK);
	}
	ck_assert_msg(vagent_fault_brain_new(c->brain_in, c->brain_f, c->n_brain_f, 1,
					     &c->brain, &err) == VAGENT_OK, "%s", err.message);
	if (c->fallback_brain)
		ck_assert_int_eq(vagent_sim_llm_new(&lc, &c->brain2, &err), VAGENT_OK);
	if (c->sim_tts) {
		stc.first_byte.jitter_ms = 0;
		ck_assert_int_eq(vagent_sim_tts_new(&stc, &c->tts_in, &err), VAGENT_OK);
	} else {
		ck_assert_msg(vagent_flite_tts_new(&tc, &c->tts_in, &err) == VAGENT_OK,
			      "%s", err.message);
	}
	ck_assert_msg(vagent_fault_tts_new(c->tts_in, c->tts_f, c->n_tts_f, 1, &c->tts,
					   &err) == VAGENT_OK, "%s", err.message);
	if (c->fallback_tts) {
		stc.first_byte.jitter_ms = 0;
		ck_assert_int_eq(vagent_sim_tts_new(&stc, &c->tts2, &err), VAGENT_OK);
	}
	memset(steps, 0, sizeof(steps));
	steps[0].kind = VAGENT_STEP_SAY;
	steps[0].anchor = VAGENT_ANCHOR_AGENT_DONE;
	steps[0].offset_ms = 500;
	steps[0].text = c->say ? c->say : "where is my order";
	steps[1].kind = VAGENT_STEP_SILENCE;
	steps[1].anchor = VAGENT_ANCHOR_AGENT_DONE;
	steps[1].duration_ms = 200;
	cc.rate = 16000;
	cc.steps = steps;
	cc.n_steps = 2;
	cc.hangup_after_ms = 500;
	ck_assert_int_eq(vagent_sim_caller_new(&cc, &c->caller, &err), VAGENT_OK);
	cfg.name = "faults";
	cfg.rate = 16000;
	cfg.agent = c->agent->config;
	cfg.agent.filler_after_ms = c->filler_after_ms;
	cfg.stt[0] = c->stt;
	cfg.brain[0] = c->brain;
	cfg.brain[1] = c->brain2;
	cfg.tts[0] = c->tts;
	cfg.tts[1] = c->tts2;
	cfg.caller = c->caller;
	cfg.keep_trace = true;
	cfg.max_call_ms = 60000;
	cfg.job_clock = VAGENT_JOB_FREE;
	ck_assert_msg(vagent_session_run(&cfg, VAGENT_CLOCK_VIRTUAL, &c->s, &err)
		      == VAGENT_OK, "%s", err.message);
	text = vagent_session_trace(c->s, &len);
	ck_assert_int_eq(vagent_trace_parse(text, len, "faults", &c->trace, &err), VAGENT_OK);
	ck_assert_int_eq(vagent_metrics_from_trace(c->trace->events, c->trace->n,
						   &c->metrics, &err), VAGENT_OK);
}

static void call_free(struct call *c)
{
	vagent_session_free(c->s);
	vagent_trace_free(c->trace);
	vagent_trace_metrics_free(c->metrics);
	vagent_caller_free(c->caller);
	vagent_stt_free(c->stt);
	vagent_stt_free(c->stt_in);
	vagent_brain_free(c->brain);
	vagent_brain_free(c->brain_in);
	vagent_brain_free(c->brain2);
	vagent_tts_free(c->tts);
	vagent_tts_free(c->tts_in);
	vagent_tts_free(c->tts2);
	vagent_agent_free(c->agent);
}

/* The k-th (0-based) event of `type` in `turn` (any turn when < 0). */
static const struct vagent_trace_event *find(const struct call *c,
					     vagent_trace_type type, int turn, int k)
{
	size_t i;

	for (i = 0; i < c->trace->n; i++) {
		const struct vagent_trace_event *e = &c->trace->events[i];

		if (e->type == type && (turn < 0 || e->turn == turn) && k-- == 0)
			return e;
	}
	return NULL;
}

static const struct vagent_trace_event *must(const struct call *c,
					     vagent_trace_type type, int turn, int k)
{
	const struct vagent_trace_event *e = find(c, type, turn, k);

	ck_assert_msg(e != NULL, "no %s #%d in turn %d:\n%s",
		      vagent_trace_type_name(type), k, turn,
		      vagent_session_trace(c->s, NULL));
	return e;
}

static int64_t hop(const struct call *c, int turn, vagent_metric m)
{
	const struct vagent_call_metrics *cm = &c->metrics->calls[0];
	size_t i;

	for (i = 0; i < cm->n_turns; i++)
		if (cm->turns[i].turn == turn)
			return cm->turns[i].hop[m];
	return VAGENT_METRIC_ABSENT;
}

/* The result's turn `k`. */
static const struct vagent_session_turn *turn_of(const struct call *c, int k)
{
	const struct vagent_session_result *r = vagent_session_result(c->s);
	size_t i;

	for (i = 0; i < r->n_turns; i++)
		if (r->turns[i].turn == k)
			return &r->turns[i];
	ck_abort_msg("no turn %d", k);
	return NULL;
}

START_TEST(test_session_slow_flow_brain_says_filler)
{
	/* call 1 is the greeting; the answer to turn 1 is 3 s late */
	struct vagent_fault slow = { .kind = VAGENT_FAULT_DELAY, .from_call = 2,
				     .to_call = 2, .delay_ms = 3000 };
	struct call c = { .brain_f = &slow, .n_brain_f = 1, .filler_after_ms = 1500 };
	const struct vagent_trace_event *req, *fill, *first;

	call_run(&c);
	req = must(&c, VAGENT_TRACE_LLM_REQUEST, 1, 0);
	ck_assert_str_eq(req->provider, "flow");
	fill = must(&c, VAGENT_TRACE_FILLER, 1, 0);
	first = must(&c, VAGENT_TRACE_LLM_FIRST_TOKEN, 1, 0);
	/* the flow answers at once: its first token exactly 3 s late, the
	 * filler 1.5 s after the request, in between */
	ck_assert_int_eq(first->t_us - req->t_us, 3000000);
	ck_assert_int_eq(fill->t_us - req->t_us, 1500000);
	ck_assert_int_eq(hop(&c, 1, VAGENT_METRIC_LLM_TTFT), 3000000);
	/* and then the flow's real answer (it asks for the order number) */
	ck_assert_ptr_nonnull(strstr(turn_of(&c, 1)->agent_text,
				     "order number"));
	ck_assert_ptr_null(find(&c, VAGENT_TRACE_FILLER, 0, 0));
	ck_assert_int_eq(hop(&c, 0, VAGENT_METRIC_LLM_TTFT), 0);
	call_free(&c);
}
END_TEST

START_TEST(test_session_flow_error_falls_back)
{
	struct vagent_fault err = { .kind = VAGENT_FAULT_ERROR, .from_call = 2,
				    .delay_ms = 200, .http_status = 503 };
	struct call c = { .brain_f = &err, .n_brain_f = 1, .fallback_brain = true };
	const struct vagent_trace_event *req, *fb;

	call_run(&c);
	req = must(&c, VAGENT_TRACE_LLM_REQUEST, 1, 0);
	fb = must(&c, VAGENT_TRACE_FALLBACK, 1, 0);
	ck_assert_str_eq(fb->slot, "llm");
	ck_assert_str_eq(fb->from, "flow");
	ck_assert_str_eq(fb->to, "sim-llm");
	ck_assert_int_eq(fb->t_us - req->t_us, 200000);
	ck_assert_str_eq(must(&c, VAGENT_TRACE_ERROR, 1, 0)->message,
			 "HTTP 503 (injected error)");
	ck_assert_str_eq(must(&c, VAGENT_TRACE_ERROR, 1, 0)->source, "flow");
	ck_assert_str_eq(must(&c, VAGENT_TRACE_LLM_REQUEST, 1, 1)->provider, "sim-llm");
	ck_assert_str_eq(turn_of(&c, 1)->agent_text,
			 "The simulated brain here.");
	ck_assert(!vagent_session_result(c.s)->escalated);
	call_free(&c);
}
END_TEST

START_TEST(test_session_flow_error_hands_off)
{
	struct vagent_fault disc = { .kind = VAGENT_FAULT_DISCONNECT, .from_call = 2,
				     .after = 0 };
	struct call c = { .brain_f = &disc, .n_brain_f = 1 };

	call_run(&c);
	ck_assert_str_eq(must(&c, VAGENT_TRACE_ESCALATION, 1, 0)->reason, "llm_failure");
	ck_assert_ptr_nonnull(strstr(must(&c, VAGENT_TRACE_ERROR, 1, 0)->message,
				     "stream closed mid-reply (injected)"));
	ck_assert_str_eq(must(&c, VAGENT_TRACE_TTS_REQUEST, 1, 0)->text,
			 "Please hold while I transfer you.");
	ck_assert_str_eq(must(&c, VAGENT_TRACE_CALL_END, -1, 0)->reason, "transfer");
	call_free(&c);
}
END_TEST

START_TEST(test_session_stt_drop_uses_partial)
{
	/* finals: the caller's one utterance (the greeting is not heard) */
	struct vagent_fault drop = { .kind = VAGENT_FAULT_DROP, .from_call = 1 };
	struct call c = { .stt_f = &drop, .n_stt_f = 1, .sim_tts = true };
	const struct vagent_trace_event *tend, *req;

	call_run(&c);
	ck_assert_ptr_null(find(&c, VAGENT_TRACE_STT_FINAL, -1, 0));
	must(&c, VAGENT_TRACE_STT_PARTIAL, 1, 0);
	tend = must(&c, VAGENT_TRACE_TURN_END, 1, 0);
	req = must(&c, VAGENT_TRACE_LLM_REQUEST, 1, 0);
	/* the turn waits stt_final_wait_ms for the final, then goes on
	 * with the partial */
	ck_assert_int_eq(req->t_us - tend->t_us,
			 (int64_t)c.agent->config.stt_final_wait_ms * 1000);
	ck_assert_str_eq(turn_of(&c, 1)->stt_text, "where is my order");
	ck_assert_ptr_nonnull(strstr(turn_of(&c, 1)->agent_text,
				     "order number"));
	call_free(&c);
}
END_TEST

START_TEST(test_session_stt_wrong_words)
{
	struct vagent_fault wrong = { .kind = VAGENT_FAULT_WRONG_WORDS, .from_call = 1,
				      .text = "wear is my udder" };
	struct call c = { .stt_f = &wrong, .n_stt_f = 1, .sim_tts = true };

	call_run(&c);
	ck_assert_str_eq(must(&c, VAGENT_TRACE_STT_FINAL, 1, 0)->text, "wear is my udder");
	ck_assert_str_eq(turn_of(&c, 1)->stt_text, "wear is my udder");
	ck_assert_str_eq(turn_of(&c, 1)->caller_text,
			 "where is my order");
	call_free(&c);
}
END_TEST

START_TEST(test_session_tts_slow_first_byte)
{
	/* the simulated TTS (first byte 120 ms): exact */
	struct vagent_fault slow = { .kind = VAGENT_FAULT_DELAY, .from_call = 1,
				     .to_call = 1, .delay_ms = 2000 };
	struct call c = { .tts_f = &slow, .n_tts_f = 1, .sim_tts = true, .sim_brain = true };
	struct call h = { .sim_tts = true, .sim_brain = true };
	struct call f = { .tts_f = &slow, .n_tts_f = 1 };
	struct call fh = { 0 };

	call_run(&c);
	ck_assert_int_eq(hop(&c, 0, VAGENT_METRIC_TTS_TTFB), 2120000);
	call_free(&c);
	call_run(&h);
	ck_assert_int_eq(hop(&h, 0, VAGENT_METRIC_TTS_TTFB), 120000);
	call_free(&h);
	/* flite: its greeting's first audio 2 s later than without */
	call_run(&f);
	call_run(&fh);
	ck_assert_int_eq(hop(&f, 0, VAGENT_METRIC_TTS_TTFB) -
			 hop(&fh, 0, VAGENT_METRIC_TTS_TTFB), 2000000);
	ck_assert_str_eq(must(&f, VAGENT_TRACE_TTS_REQUEST, 0, 0)->text,
			 must(&fh, VAGENT_TRACE_TTS_REQUEST, 0, 0)->text);
	call_free(&f);
	call_free(&fh);
}
END_TEST

START_TEST(test_session_stt_error_hands_off)
{
	struct vagent_fault err = { .kind = VAGENT_FAULT_ERROR, .from_call = 1 };
	struct call c = { .stt_f = &err, .n_stt_f = 1, .sim_tts = true };

	call_run(&c);
	ck_assert_str_eq(must(&c, VAGENT_TRACE_ERROR, 1, 0)->message,
			 "HTTP 500 (injected error)");
	ck_assert_str_eq(must(&c, VAGENT_TRACE_ESCALATION, 1, 0)->reason, "stt_failure");
	ck_assert_str_eq(must(&c, VAGENT_TRACE_CALL_END, -1, 0)->reason, "transfer");
	call_free(&c);
}
END_TEST

START_TEST(test_session_flite_error_falls_back)
{
	/* flite fails its first sentence: the greeting goes to the next TTS */
	struct vagent_fault err = { .kind = VAGENT_FAULT_ERROR, .from_call = 1,
				    .delay_ms = 50 };
	struct call c = { .tts_f = &err, .n_tts_f = 1, .fallback_tts = true };
	const struct vagent_trace_event *req, *fb;

	call_run(&c);
	req = must(&c, VAGENT_TRACE_TTS_REQUEST, 0, 0);
	fb = must(&c, VAGENT_TRACE_FALLBACK, 0, 0);
	ck_assert_str_eq(fb->slot, "tts");
	ck_assert_str_eq(fb->from, "flite");
	ck_assert_str_eq(fb->to, "sim-tts");
	ck_assert_int_eq(fb->t_us - req->t_us, 50000);
	/* the greeting is still said, and the call goes on */
	must(&c, VAGENT_TRACE_AGENT_AUDIO_START, 0, 0);
	ck_assert_ptr_nonnull(strstr(turn_of(&c, 1)->agent_text, "order number"));
	call_free(&c);
}
END_TEST

Suite *suite_fault_wrap(void)
{
	Suite *s = suite_create("fault_wrap");
	TCase *tc = tcase_create("wrappers");

	tcase_add_test(tc, test_brain_healthy_is_transparent);
	tcase_add_test(tc, test_brain_delay_moves_everything);
	tcase_add_test(tc, test_brain_delay_keeps_tool_order);
	tcase_add_test(tc, test_brain_stall);
	tcase_add_test(tc, test_brain_error_instead_of_answer);
	tcase_add_test(tc, test_brain_disconnect_and_malformed);
	tcase_add_test(tc, test_brain_timeout_and_cancel);
	tcase_add_test(tc, test_free_with_requests_pending);
	tcase_add_test(tc, test_tts_delay_and_stall);
	tcase_add_test(tc, test_tts_error_and_timeout);
	tcase_add_test(tc, test_stt_healthy_delay_drop);
	tcase_add_test(tc, test_stt_wrong_words);
	tcase_add_test(tc, test_stt_error_ends_its_use);
	tcase_add_test(tc, test_stt_stop_and_free);
	tcase_add_test(tc, test_kinds_per_slot);
	tcase_add_test(tc, test_tool_mock_refuses_stt_kinds);
	suite_add_tcase(s, tc);

	tc = tcase_create("sessions");
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, test_session_slow_flow_brain_says_filler);
	tcase_add_test(tc, test_session_flow_error_falls_back);
	tcase_add_test(tc, test_session_flow_error_hands_off);
	tcase_add_test(tc, test_session_stt_drop_uses_partial);
	tcase_add_test(tc, test_session_stt_wrong_words);
	tcase_add_test(tc, test_session_tts_slow_first_byte);
	tcase_add_test(tc, test_session_stt_error_hands_off);
	tcase_add_test(tc, test_session_flite_error_falls_back);
	suite_add_tcase(s, tc);
	return s;
}
