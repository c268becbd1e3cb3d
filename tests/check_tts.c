/*
 * check_tts.c — the flite synthesiser: every voice at 8 and 16 kHz,
 * determinism, number reading, the streaming provider on virtual and real
 * loops (order, first audio before done, cancel, stop, free, errors), a
 * simulated call spoken by flite, and `vagent speak`.
 */
#include <check.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "vagent.h"
#include "support/harness.h"

#define SENTENCE "Thanks for calling, your order has shipped and should arrive on Tuesday."

/* ---- whole-text synthesis ---- */

static struct vagent_audio *synth(const char *text, const char *voice, int rate)
{
	struct vagent_audio *a = NULL;
	struct vagent_error err;

	ck_assert_msg(vagent_flite_synth(text, voice, rate, &a, &err) == VAGENT_OK,
		      "%s", err.message);
	ck_assert_ptr_nonnull(a);
	return a;
}

START_TEST(test_voice_list)
{
	const char *const *v = vagent_flite_voices();
	static const char *const want[] = { "slt", "rms", "awb", "kal16" };
	struct vagent_flite_voice_info info;
	struct vagent_error err;
	size_t n = 0;

	for (; v[n]; n++) {
		ck_assert_uint_lt(n, 4);
		ck_assert_str_eq(v[n], want[n]);
		ck_assert_int_eq(vagent_flite_voice_info(v[n], &info, &err), VAGENT_OK);
		ck_assert_str_eq(info.name, want[n]);
		ck_assert_int_eq(info.rate, 16000);
		ck_assert_ptr_nonnull(info.description);
	}
	ck_assert_uint_eq(n, 4);
	ck_assert_int_eq(vagent_flite_voice_info("bob", &info, &err), VAGENT_EINVAL);
	ck_assert_str_eq(err.message,
			 "flite: unknown voice 'bob' (voices: slt, rms, awb, kal16)");
}
END_TEST

/* Each voice, at 8 and 16 kHz: speech of a plausible length and level. */
START_TEST(test_each_voice_and_rate)
{
	const char *voice = vagent_flite_voices()[_i / 2];
	int rate = _i % 2 ? 16000 : 8000;
	struct vagent_audio *a = synth(SENTENCE, voice, rate);
	struct vagent_silence_config sc = vagent_silence_config_default();
	struct vagent_silence_result sr;
	double dur = vagent_audio_duration(a);
	struct vagent_error err;

	ck_assert_int_eq(a->rate, rate);
	ck_assert_int_eq(a->channels, 1);
	/* 12 words: 2.5 to 8 s at any speaking rate a voice has */
	ck_assert_msg(dur > 2.5 && dur < 8.0, "%s at %d Hz: %.2f s", voice, rate, dur);
	ck_assert_msg(vagent_db_from_amplitude(vagent_audio_rms(a)) > -35.0,
		      "%s at %d Hz is too quiet", voice, rate);
	ck_assert(vagent_audio_peak(a) <= 1.0);
	ck_assert_int_eq(vagent_audio_detect_silence(a, &sc, &sr, &err), VAGENT_OK);
	ck_assert(!sr.silent);
	/* flite's lead-in pause is cut to ~20 ms */
	ck_assert_msg((double)sr.leading / rate < 0.15, "%s: leading silence %.3f s",
		      voice, (double)sr.leading / rate);
	vagent_silence_result_clear(&sr);
	vagent_audio_free(a);
}
END_TEST

START_TEST(test_rates_agree)
{
	struct vagent_audio *a8 = synth(SENTENCE, "slt", 8000);
	struct vagent_audio *a16 = synth(SENTENCE, "slt", 16000);
	struct vagent_audio *a22 = synth(SENTENCE, "slt", 22050);

	ck_assert_uint_eq(a8->frames, (a16->frames + 1) / 2);
	ck_assert_uint_eq(a22->frames, (size_t)llround(a16->frames * 22050.0 / 16000));
	vagent_audio_free(a8);
	vagent_audio_free(a16);
	vagent_audio_free(a22);
}
END_TEST

START_TEST(test_deterministic)
{
	for (int v = 0; v < 4; v++) {
		const char *voice = vagent_flite_voices()[v];
		struct vagent_audio *a = synth("Hello there, how are you?", voice, 8000);
		struct vagent_audio *b = synth("Hello there, how are you?", voice, 8000);

		ck_assert_uint_eq(a->frames, b->frames);
		ck_assert_msg(!memcmp(a->samples, b->samples, a->frames * sizeof(float)),
			      "%s differs between runs", voice);
		vagent_audio_free(a);
		vagent_audio_free(b);
	}
}
END_TEST

START_TEST(test_voices_differ)
{
	struct vagent_audio *a = synth("Hello there.", "slt", 16000);
	struct vagent_audio *b = synth("Hello there.", "rms", 16000);

	ck_assert(a->frames != b->frames ||
		  memcmp(a->samples, b->samples, a->frames * sizeof(float)));
	vagent_audio_free(a);
	vagent_audio_free(b);
}
END_TEST

START_TEST(test_synth_blank_and_errors)
{
	struct vagent_audio *a = NULL;
	struct vagent_error err;
	char *big;

	a = synth("", "slt", 8000);
	ck_assert_uint_eq(a->frames, 0);
	ck_assert_int_eq(a->rate, 8000);
	vagent_audio_free(a);
	a = synth(" \t\n ", NULL, 16000);
	ck_assert_uint_eq(a->frames, 0);
	vagent_audio_free(a);
	a = NULL;
	ck_assert_int_eq(vagent_flite_synth(NULL, "slt", 8000, &a, &err), VAGENT_EINVAL);
	ck_assert_str_eq(err.message, "flite: no text");
	ck_assert_int_eq(vagent_flite_synth("hi", "slt", 0, &a, &err), VAGENT_EINVAL);
	ck_assert_str_eq(err.message, "flite: bad sample rate 0 Hz (1000..384000)");
	ck_assert_int_eq(vagent_flite_synth("hi", "kal", 8000, &a, &err), VAGENT_EINVAL);
	ck_assert_str_eq(err.message,
			 "flite: unknown voice 'kal' (voices: slt, rms, awb, kal16)");
	ck_assert_ptr_null(a);
	big = malloc(10002);
	memset(big, 'a', 10001);
	big[10001] = '\0';
	ck_assert_int_eq(vagent_flite_synth(big, "slt", 8000, &a, &err), VAGENT_EINVAL);
	ck_assert_str_eq(err.message, "flite: text too long (10001 bytes; at most 10000)");
	free(big);
}
END_TEST

/* ---- number reading ---- */

static void norm_is(const char *in, int min, const char *want)
{
	struct vagent_error err;
	char *out = NULL;

	ck_assert_int_eq(vagent_flite_normalize(in, min, &out, &err), VAGENT_OK);
	ck_assert_msg(!strcmp(out, want), "'%s' -> '%s', want '%s'", in, out, want);
	free(out);
}

START_TEST(test_normalize)
{
	struct vagent_error err;
	char *out;

	norm_is("Order 12345 shipped.", 5, "Order 1 2 3 4 5 shipped.");
	norm_is("order #12345", 5, "order number 1 2 3 4 5");
	norm_is("Ref#42", 5, "Ref number 4 2");
	norm_is("order 42", 5, "order 4 2");
	norm_is("order 4", 5, "order 4");
	norm_is("Your account: 9876.", 5, "Your account: 9 8 7 6.");
	norm_is("No. 123", 5, "No. 1 2 3");
	norm_is("no 12 items", 5, "no 12 items");
	norm_is("case 12, please", 5, "case 1 2, please");
	norm_is("ORD-5521", 5, "ORD 5 5 2 1");
	norm_is("COVID19", 5, "COVID 1 9");
	norm_is("A1B2C3", 5, "A1B2C3");
	norm_is("the 21st at 10am", 5, "the 21st at 10am");
	norm_is("call 555-1234", 5, "call 555-1234");
	norm_is("in 2024", 5, "in 2024");
	norm_is("It costs $49.99 today.", 5, "It costs $49.99 today.");
	norm_is("a refund of $12345", 5, "a refund of $12345");
	norm_is("$ 12345", 5, "$ 12345");
	norm_is("1,250 items", 5, "1,250 items");
	norm_is("12345.67 and 0.12345 and 12345%", 5, "12345.67 and 0.12345 and 12345%");
	norm_is("\xe2\x82\xac" "12345", 5, "\xe2\x82\xac" "12345");
	norm_is("call 1234567890.", 5, "call 1 2 3 4 5 6 7 8 9 0.");
	norm_is("call 1234567890.", 11, "call 1234567890.");
	norm_is("order 12345", 0, "order 12345");
	norm_is("", 5, "");
	ck_assert_int_eq(vagent_flite_normalize("x", -1, &out, &err), VAGENT_EINVAL);
	ck_assert_int_eq(vagent_flite_normalize(NULL, 5, &out, &err), VAGENT_EINVAL);
}
END_TEST

/* The synthesiser reads an order number exactly as its spelled digits. */
START_TEST(test_order_number_spoken_as_digits)
{
	struct vagent_audio *a = synth("Order 12345 has shipped.", "slt", 8000);
	struct vagent_audio *b = synth("Order 1 2 3 4 5 has shipped.", "slt", 8000);
	struct vagent_audio *c = synth("Order twelve thousand three hundred forty five "
				       "has shipped.", "slt", 8000);

	ck_assert_uint_eq(a->frames, b->frames);
	ck_assert(!memcmp(a->samples, b->samples, a->frames * sizeof(float)));
	ck_assert(a->frames != c->frames ||
		  memcmp(a->samples, c->samples, a->frames * sizeof(float)));
	vagent_audio_free(a);
	vagent_audio_free(b);
	vagent_audio_free(c);
}
END_TEST

/* ---- the provider on a loop ---- */

#define MAX_EVENTS 4096

struct event {
	uint64_t id;
	char kind;                  /* 'a' audio, 'd' done, 'e' error */
	int64_t t;                  /* loop time */
	size_t n;
};

struct cap {
	struct vagent_loop *loop;
	struct vagent_tts *tts;
	struct event ev[MAX_EVENTS];
	size_t n_ev;
	int16_t *pcm[4];            /* audio per id (1..3) */
	size_t len[4], cap[4];
	char error[512];
	bool in_speak;
	bool called_in_speak;
	/* actions from inside on_audio, at the k-th chunk of id 1 */
	int cancel_at, stop_at, free_at;
	int chunks1;
	size_t acted_at;            /* events when the action was taken */
};

static void add_event(struct cap *c, uint64_t id, char kind, size_t n)
{
	if (c->in_speak)
		c->called_in_speak = true;
	ck_assert_uint_lt(c->n_ev, MAX_EVENTS);
	c->ev[c->n_ev++] = (struct event){ id, kind, vagent_loop_now(c->loop), n };
}

static void on_audio(void *ctx, uint64_t id, const int16_t *s, size_t n)
{
	struct cap *c = ctx;

	ck_assert_uint_ge(id, 1);
	ck_assert_uint_le(id, 3);
	ck_assert_uint_gt(n, 0);
	add_event(c, id, 'a', n);
	if (c->len[id] + n > c->cap[id]) {
		c->cap[id] = (c->len[id] + n) * 2;
		c->pcm[id] = realloc(c->pcm[id], c->cap[id] * sizeof(int16_t));
		ck_assert_ptr_nonnull(c->pcm[id]);
	}
	memcpy(c->pcm[id] + c->len[id], s, n * sizeof(int16_t));
	c->len[id] += n;
	if (id != 1)
		return;
	c->chunks1++;
	if (c->chunks1 == c->cancel_at || c->chunks1 == c->stop_at ||
	    c->chunks1 == c->free_at)
		c->acted_at = c->n_ev;
	if (c->chunks1 == c->cancel_at)
		c->tts->ops->cancel(c->tts, 1);
	if (c->chunks1 == c->stop_at)
		c->tts->ops->stop(c->tts);
	if (c->chunks1 == c->free_at) {
		vagent_tts_free(c->tts);
		c->tts = NULL;
	}
}

static void on_done(void *ctx, uint64_t id)
{
	add_event(ctx, id, 'd', 0);
}

static void on_error(void *ctx, uint64_t id, vagent_status st, const char *message)
{
	struct cap *c = ctx;

	(void)st;
	snprintf(c->error, sizeof(c->error), "%s", message);
	add_event(c, id, 'e', 0);
}

static struct cap *cap_new(enum vagent_clock_type clock,
			   const struct vagent_flite_config *cfg)
{
	struct vagent_flite_config def = vagent_flite_config_default();
	struct vagent_loop_config lc = vagent_loop_config_default();
	struct cap *c = calloc(1, sizeof(*c));
	struct vagent_error err;

	ck_assert_ptr_nonnull(c);
	lc.clock = clock;
	lc.workers = 2;
	ck_assert_int_eq(vagent_loop_new(&lc, &c->loop, &err), VAGENT_OK);
	ck_assert_msg(vagent_flite_tts_new(cfg ? cfg : &def, &c->tts, &err) == VAGENT_OK,
		      "%s", err.message);
	c->tts->loop = c->loop;
	c->tts->on_audio = on_audio;
	c->tts->on_done = on_done;
	c->tts->on_error = on_error;
	c->tts->ctx = c;
	return c;
}

static void cap_free(struct cap *c)
{
	vagent_tts_free(c->tts);
	vagent_loop_free(c->loop);
	for (int i = 0; i < 4; i++)
		free(c->pcm[i]);
	free(c);
}

static void speak(struct cap *c, uint64_t id, const char *text, int rate)
{
	struct vagent_error err;

	c->in_speak = true;
	ck_assert_msg(c->tts->ops->speak(c->tts, id, text, rate, &err) == VAGENT_OK,
		      "%s", err.message);
	c->in_speak = false;
}

static void run_idle(struct cap *c)
{
	struct vagent_error err;

	ck_assert_int_eq(vagent_loop_run(c->loop, VAGENT_RUN_UNTIL_IDLE, &err), VAGENT_OK);
	ck_assert(!c->called_in_speak);
}

static size_t count(const struct cap *c, uint64_t id, char kind)
{
	size_t n = 0;

	for (size_t i = 0; i < c->n_ev; i++)
		n += c->ev[i].id == id && c->ev[i].kind == kind;
	return n;
}

/* A float sample as the provider rounds it to int16. */
static int16_t to_s16(float x)
{
	float y = x * 32768.0f;

	if (y <= -32768.0f)
		return -32768;
	if (y >= 32767.0f)
		return 32767;
	return (int16_t)lrintf(y);
}

/* id's events: several audio chunks in time order, then one done, last;
 * the audio is exactly what vagent_flite_synth makes of the text. */
static void check_stream(const struct cap *c, uint64_t id, const char *text,
			 const char *voice, int rate)
{
	struct vagent_audio *want = synth(text, voice, rate);
	int64_t first = -1, done = -1, prev = 0;
	size_t chunks = 0;

	for (size_t i = 0; i < c->n_ev; i++) {
		const struct event *e = &c->ev[i];

		if (e->id != id)
			continue;
		ck_assert_int_eq(done, -1);          /* nothing after done */
		ck_assert_int_ge(e->t, prev);
		prev = e->t;
		if (e->kind == 'a') {
			if (first < 0)
				first = e->t;
			chunks++;
		} else {
			ck_assert_int_eq(e->kind, 'd');
			done = e->t;
		}
	}
	ck_assert_int_ge(first, 0);
	ck_assert_int_ge(done, 0);
	ck_assert_uint_gt(chunks, 3);
	ck_assert_int_lt(first, done);
	ck_assert_uint_eq(c->len[id], want->frames);
	for (size_t k = 0; k < want->frames; k++)
		ck_assert_int_eq(c->pcm[id][k], to_s16(want->samples[k]));
	vagent_audio_free(want);
}

START_TEST(test_provider_virtual_stream)
{
	struct cap *c = cap_new(VAGENT_CLOCK_VIRTUAL, NULL);

	ck_assert_str_eq(c->tts->name, "flite");
	speak(c, 1, SENTENCE, 8000);
	run_idle(c);
	ck_assert_str_eq(c->error, "");
	check_stream(c, 1, SENTENCE, "slt", 8000);
	/* virtual time: first audio after some compute, well before the end
	 * of the synthesis it is a part of */
	ck_assert_int_gt(c->ev[0].t, 0);
	cap_free(c);
}
END_TEST

START_TEST(test_provider_real_stream)
{
	struct cap *c = cap_new(VAGENT_CLOCK_REAL, NULL);

	speak(c, 1, SENTENCE, 16000);
	run_idle(c);
	ck_assert_str_eq(c->error, "");
	check_stream(c, 1, SENTENCE, "slt", 16000);
	cap_free(c);
}
END_TEST

/* Two sentences in flight at once (synthesis is serialised) on each
 * clock, with another voice and rate. */
START_TEST(test_provider_two_requests)
{
	struct vagent_flite_config cfg = vagent_flite_config_default();
	struct cap *c;

	cfg.voice = "kal16";
	strcpy(cfg.name, "flite-kal");
	c = cap_new(_i ? VAGENT_CLOCK_REAL : VAGENT_CLOCK_VIRTUAL, &cfg);
	ck_assert_str_eq(c->tts->name, "flite-kal");
	speak(c, 1, "Hello, this is the first sentence.", 22050);
	speak(c, 2, "And here is order 12345, the second one.", 22050);
	run_idle(c);
	check_stream(c, 1, "Hello, this is the first sentence.", "kal16", 22050);
	check_stream(c, 2, "And here is order 12345, the second one.", "kal16", 22050);
	cap_free(c);
}
END_TEST

START_TEST(test_provider_speed)
{
	struct vagent_flite_config cfg = vagent_flite_config_default();
	struct cap *normal = cap_new(VAGENT_CLOCK_VIRTUAL, NULL), *fast;

	cfg.speed = 1.5;
	fast = cap_new(VAGENT_CLOCK_VIRTUAL, &cfg);
	speak(normal, 1, SENTENCE, 8000);
	speak(fast, 1, SENTENCE, 8000);
	run_idle(normal);
	run_idle(fast);
	ck_assert_uint_gt(fast->len[1], 0);
	/* 1.5 times the speed: about two thirds of the samples */
	ck_assert_msg(fast->len[1] < normal->len[1] * 0.8 &&
		      fast->len[1] > normal->len[1] * 0.5,
		      "%zu vs %zu", fast->len[1], normal->len[1]);
	cap_free(normal);
	cap_free(fast);
}
END_TEST

/* Cancel, stop or free from inside the 2nd chunk: nothing more comes,
 * while another request goes on (cancel) or not (stop, free). */
START_TEST(test_provider_cancel_mid_sentence)
{
	struct cap *c = cap_new(_i >= 3 ? VAGENT_CLOCK_REAL : VAGENT_CLOCK_VIRTUAL, NULL);
	int what = _i % 3;

	if (what == 0)
		c->cancel_at = 2;
	else if (what == 1)
		c->stop_at = 2;
	else
		c->free_at = 2;
	speak(c, 1, SENTENCE, 8000);
	speak(c, 2, "Goodbye.", 8000);
	run_idle(c);
	ck_assert_uint_eq(count(c, 1, 'a'), 2);
	ck_assert_uint_eq(count(c, 1, 'd') + count(c, 1, 'e'), 0);
	ck_assert_uint_gt(c->acted_at, 0);
	if (what == 0)
		check_stream(c, 2, "Goodbye.", "slt", 8000);
	else
		ck_assert_uint_eq(c->n_ev, c->acted_at);   /* nothing after */
	cap_free(c);
}
END_TEST

START_TEST(test_provider_cancel_before_audio)
{
	struct cap *c = cap_new(_i ? VAGENT_CLOCK_REAL : VAGENT_CLOCK_VIRTUAL, NULL);

	speak(c, 1, SENTENCE, 16000);
	speak(c, 3, SENTENCE, 16000);
	c->tts->ops->cancel(c->tts, 1);
	c->tts->ops->cancel(c->tts, 7);       /* unknown id: nothing */
	run_idle(c);
	ck_assert_uint_eq(count(c, 1, 'a') + count(c, 1, 'd'), 0);
	check_stream(c, 3, SENTENCE, "slt", 16000);
	/* freed with a request in flight: its job finishes, then goes */
	speak(c, 2, SENTENCE, 16000);
	vagent_tts_free(c->tts);
	c->tts = NULL;
	run_idle(c);
	ck_assert_uint_eq(count(c, 2, 'a') + count(c, 2, 'd'), 0);
	cap_free(c);
}
END_TEST

/* The loop freed while a job is on a worker: no callbacks, no leaks. */
START_TEST(test_provider_loop_freed_mid_job)
{
	struct cap *c = cap_new(_i ? VAGENT_CLOCK_REAL : VAGENT_CLOCK_VIRTUAL, NULL);

	speak(c, 1, SENTENCE, 8000);
	vagent_loop_free(c->loop);
	c->loop = NULL;
	ck_assert_uint_eq(c->n_ev, 0);
	vagent_tts_free(c->tts);
	c->tts = NULL;
	free(c);
}
END_TEST

START_TEST(test_provider_blank_text)
{
	struct cap *c = cap_new(_i ? VAGENT_CLOCK_REAL : VAGENT_CLOCK_VIRTUAL, NULL);

	speak(c, 1, "", 8000);
	speak(c, 2, "  \n\t ", 16000);
	run_idle(c);
	ck_assert_uint_eq(c->n_ev, 2);
	ck_assert_int_eq(c->ev[0].kind, 'd');
	ck_assert_int_eq(c->ev[1].kind, 'd');
	ck_assert_uint_eq(count(c, 1, 'd'), 1);
	ck_assert_uint_eq(count(c, 2, 'd'), 1);
	cap_free(c);
}
END_TEST

START_TEST(test_provider_errors)
{
	struct vagent_flite_config cfg = vagent_flite_config_default();
	struct vagent_loop_config lc = vagent_loop_config_default();
	struct vagent_tts *t = NULL;
	struct vagent_loop *loop;
	struct vagent_error err;
	struct cap *c;

	cfg.voice = "bob";
	ck_assert_int_eq(vagent_flite_tts_new(&cfg, &t, &err), VAGENT_EINVAL);
	ck_assert_str_eq(err.message,
			 "flite: unknown voice 'bob' (voices: slt, rms, awb, kal16)");
	ck_assert_ptr_null(t);
	cfg = vagent_flite_config_default();
	cfg.speed = 0;
	ck_assert_int_eq(vagent_flite_tts_new(&cfg, &t, &err), VAGENT_EINVAL);
	ck_assert_str_eq(err.message, "flite: speed: must be 0.25..4 (got 0)");
	cfg = vagent_flite_config_default();
	cfg.chunk_ms = 5;
	ck_assert_int_eq(vagent_flite_tts_new(&cfg, &t, &err), VAGENT_EINVAL);
	cfg = vagent_flite_config_default();
	cfg.spell_digits_min = -2;
	ck_assert_int_eq(vagent_flite_tts_new(&cfg, &t, &err), VAGENT_EINVAL);
	ck_assert_int_eq(vagent_flite_tts_new(NULL, &t, &err), VAGENT_EINVAL);

	/* speak: bad arguments, no callbacks, a loop without workers */
	c = cap_new(VAGENT_CLOCK_VIRTUAL, NULL);
	ck_assert_int_eq(c->tts->ops->speak(c->tts, 1, NULL, 8000, &err), VAGENT_EINVAL);
	ck_assert_str_eq(err.message, "flite: no text");
	ck_assert_int_eq(c->tts->ops->speak(c->tts, 1, "hi", 100, &err), VAGENT_EINVAL);
	ck_assert_str_eq(err.message, "flite: bad sample rate 100 Hz (1000..384000)");
	lc.clock = VAGENT_CLOCK_VIRTUAL;
	lc.workers = 0;
	ck_assert_int_eq(vagent_loop_new(&lc, &loop, &err), VAGENT_OK);
	c->tts->loop = loop;
	ck_assert_int_eq(c->tts->ops->speak(c->tts, 1, "hi", 8000, &err), VAGENT_EINVAL);
	ck_assert_str_eq(err.message, "flite: the loop has no worker threads "
			 "(synthesis never runs on the loop thread)");
	c->tts->loop = c->loop;
	c->tts->on_done = NULL;
	ck_assert_int_eq(c->tts->ops->speak(c->tts, 1, "hi", 8000, &err), VAGENT_EINVAL);
	ck_assert_str_eq(err.message, "flite: loop or callbacks not set");
	vagent_loop_free(loop);
	cap_free(c);
}
END_TEST

/* ---- a simulated call answered in flite's voice, on each clock ---- */

START_TEST(test_session_call)
{
	struct vagent_session_config cfg = vagent_session_config_default();
	struct vagent_sim_caller_config cc = vagent_sim_caller_config_default();
	struct vagent_sim_stt_config sc = vagent_sim_stt_config_default();
	struct vagent_sim_llm_config lc = vagent_sim_llm_config_default();
	struct vagent_flite_config fc = vagent_flite_config_default();
	const struct vagent_session_result *r;
	struct vagent_sim_step step = { 0 };
	struct vagent_trace *trace = NULL;
	struct vagent_session *s = NULL;
	struct vagent_error err;
	int64_t request = -1, first = -1;
	const char *text;
	size_t len;

	cc.rate = 8000;
	cc.hangup_after_ms = 500;
	step.kind = VAGENT_STEP_SAY;
	step.anchor = VAGENT_ANCHOR_START;
	step.offset_ms = 200;
	step.text = "where is my order";
	cc.steps = &step;
	cc.n_steps = 1;
	lc.fallback_reply = "Your order 12345 has shipped. It arrives on Tuesday.";
	cfg.rate = 8000;
	cfg.keep_trace = true;
	cfg.agent.greet = false;
	ck_assert_int_eq(vagent_sim_caller_new(&cc, &cfg.caller, &err), VAGENT_OK);
	ck_assert_int_eq(vagent_sim_stt_new(&sc, &cfg.stt[0], &err), VAGENT_OK);
	ck_assert_int_eq(vagent_sim_llm_new(&lc, &cfg.brain[0], &err), VAGENT_OK);
	ck_assert_int_eq(vagent_flite_tts_new(&fc, &cfg.tts[0], &err), VAGENT_OK);
	ck_assert_msg(vagent_session_run(&cfg, _i ? VAGENT_CLOCK_REAL : VAGENT_CLOCK_VIRTUAL,
					 &s, &err) == VAGENT_OK,
		      "%s", err.message);
	r = vagent_session_result(s);
	ck_assert_str_eq(r->end_reason, "hangup");
	ck_assert_uint_eq(r->n_turns, 1);
	ck_assert_str_eq(r->turns[0].agent_text, lc.fallback_reply);
	text = vagent_session_trace(s, &len);
	ck_assert_int_eq(vagent_trace_parse(text, len, "trace", &trace, &err), VAGENT_OK);
	for (size_t i = 0; i < trace->n; i++) {
		const struct vagent_trace_event *e = &trace->events[i];

		if (e->type == VAGENT_TRACE_TTS_REQUEST && request < 0)
			request = e->t_us;
		if (e->type == VAGENT_TRACE_TTS_FIRST_AUDIO && first < 0)
			first = e->t_us;
		if (e->type == VAGENT_TRACE_AGENT_AUDIO_STOP)
			ck_assert_str_eq(e->reason, "done");
		ck_assert(e->type != VAGENT_TRACE_FALLBACK);
		ck_assert(e->type != VAGENT_TRACE_ERROR);
	}
	ck_assert_int_ge(request, 0);
	ck_assert_int_ge(first, request);
	vagent_trace_free(trace);
	vagent_session_free(s);
	vagent_tts_free(cfg.tts[0]);
	vagent_brain_free(cfg.brain[0]);
	vagent_stt_free(cfg.stt[0]);
	vagent_caller_free(cfg.caller);
}
END_TEST

/* ---- vagent speak ---- */

START_TEST(test_cli_speak)
{
	const char *out = temp_path("hello.wav");
	struct vagent_audio *a = NULL;
	struct vagent_error err;
	struct run_result r;

	r = run_vagent("speak", "-o", out, "Hello,", "how", "can", "I", "help?", NULL);
	ck_assert_msg(r.exit_code == 0, "%s", r.err);
	ck_assert_str_eq(r.err, "");
	run_result_free(&r);
	ck_assert_int_eq(vagent_audio_load(out, VAGENT_CHANNELS_ALL, &a, &err), VAGENT_OK);
	ck_assert_int_eq(a->rate, 16000);
	ck_assert_int_eq(a->encoding, VAGENT_ENC_PCM16);
	ck_assert(vagent_audio_duration(a) > 0.8);
	ck_assert(vagent_db_from_amplitude(vagent_audio_rms(a)) > -35.0);
	vagent_audio_free(a);

	out = temp_path("caller.wav");
	r = run_vagent("speak", "--voice", "rms", "--rate", "8000", "--encoding", "ulaw",
		       "-o", out, "order", "12345", NULL);
	ck_assert_msg(r.exit_code == 0, "%s", r.err);
	run_result_free(&r);
	ck_assert_int_eq(vagent_audio_load(out, VAGENT_CHANNELS_ALL, &a, &err), VAGENT_OK);
	ck_assert_int_eq(a->rate, 8000);
	ck_assert_int_eq(a->encoding, VAGENT_ENC_ULAW);
	vagent_audio_free(a);
}
END_TEST

START_TEST(test_cli_stdin_matches_args)
{
	char *argv[] = { (char *)vagent_bin(), "speak", "--rate", "8000", "-o",
			 (char *)temp_path("stdin.wav"), "-", NULL };
	struct vagent_audio *a = NULL, *b = NULL;
	struct vagent_error err;
	struct run_result r;

	r = run_argv(argv, "Your refund of $42.50 is on its way.");
	ck_assert_msg(r.exit_code == 0, "%s", r.err);
	run_result_free(&r);
	r = run_vagent("speak", "--rate", "8000", "-o", temp_path("args.wav"),
		       "Your refund of $42.50 is on its way.", NULL);
	ck_assert_int_eq(r.exit_code, 0);
	run_result_free(&r);
	ck_assert_int_eq(vagent_audio_load(temp_path("stdin.wav"), VAGENT_CHANNELS_ALL, &a,
					   &err), VAGENT_OK);
	ck_assert_int_eq(vagent_audio_load(temp_path("args.wav"), VAGENT_CHANNELS_ALL, &b,
					   &err), VAGENT_OK);
	ck_assert_uint_gt(a->frames, 8000);
	ck_assert_uint_eq(a->frames, b->frames);
	ck_assert(!memcmp(a->samples, b->samples, a->frames * sizeof(float)));
	vagent_audio_free(a);
	vagent_audio_free(b);
}
END_TEST

START_TEST(test_cli_list_and_errors)
{
	struct run_result r;
	char *big, *argv[] = { (char *)vagent_bin(), "speak", "-o",
			       (char *)temp_path("big.wav"), "-", NULL };

	r = run_vagent("speak", "--list-voices", NULL);
	ck_assert_int_eq(r.exit_code, 0);
	ck_assert_int_eq(count_lines(r.out), 4);
	ck_assert_ptr_nonnull(strstr(r.out, "slt "));
	ck_assert_ptr_nonnull(strstr(r.out, "kal16 "));
	run_result_free(&r);

	r = run_vagent("speak", "--voice", "bob", "-o", temp_path("x.wav"), "hi", NULL);
	ck_assert_int_eq(r.exit_code, 2);
	ck_assert_int_eq(count_lines(r.err), 1);
	ck_assert_ptr_nonnull(strstr(r.err, "unknown value 'bob' (expected one of: "
					    "slt, rms, awb, kal16)"));
	run_result_free(&r);

	r = run_vagent("speak", "hi", NULL);
	ck_assert_int_eq(r.exit_code, 2);
	ck_assert_int_eq(count_lines(r.err), 1);
	ck_assert_ptr_nonnull(strstr(r.err, "no output file"));
	run_result_free(&r);

	r = run_vagent("speak", "-o", temp_path("x.wav"), NULL);
	ck_assert_int_eq(r.exit_code, 2);
	ck_assert_ptr_nonnull(strstr(r.err, "no text to speak"));
	run_result_free(&r);

	r = run_vagent("speak", "-o", temp_path("x.flac"), "--encoding", "ulaw", "hi", NULL);
	ck_assert_int_eq(r.exit_code, 2);
	ck_assert_int_eq(count_lines(r.err), 1);
	run_result_free(&r);

	r = run_vagent("speak", "-o", "/nonexistent-dir/x.wav", "hi", NULL);
	ck_assert_int_eq(r.exit_code, 3);
	ck_assert_int_eq(count_lines(r.err), 1);
	run_result_free(&r);

	big = malloc(20001);
	memset(big, 'a', 20000);
	big[20000] = '\0';
	r = run_argv(argv, big);
	ck_assert_int_eq(r.exit_code, 2);
	ck_assert_str_eq(r.err, "vagent: flite: text too long (20000 bytes; at most 10000)\n");
	run_result_free(&r);
	free(big);

	r = run_vagent("speak", "--help", NULL);
	ck_assert_int_eq(r.exit_code, 0);
	ck_assert_ptr_nonnull(strstr(r.out, "--list-voices"));
	run_result_free(&r);
}
END_TEST

Suite *suite_tts(void)
{
	Suite *s = suite_create("tts");
	TCase *tc = tcase_create("core");

	tcase_set_timeout(tc, 60);
	tcase_add_checked_fixture(tc, temp_dir_setup, temp_dir_teardown);
	tcase_add_test(tc, test_voice_list);
	tcase_add_loop_test(tc, test_each_voice_and_rate, 0, 8);
	tcase_add_test(tc, test_rates_agree);
	tcase_add_test(tc, test_deterministic);
	tcase_add_test(tc, test_voices_differ);
	tcase_add_test(tc, test_synth_blank_and_errors);
	tcase_add_test(tc, test_normalize);
	tcase_add_test(tc, test_order_number_spoken_as_digits);
	tcase_add_test(tc, test_provider_virtual_stream);
	tcase_add_test(tc, test_provider_real_stream);
	tcase_add_loop_test(tc, test_provider_two_requests, 0, 2);
	tcase_add_test(tc, test_provider_speed);
	tcase_add_loop_test(tc, test_provider_cancel_mid_sentence, 0, 6);
	tcase_add_loop_test(tc, test_provider_cancel_before_audio, 0, 2);
	tcase_add_loop_test(tc, test_provider_loop_freed_mid_job, 0, 2);
	tcase_add_loop_test(tc, test_provider_blank_text, 0, 2);
	tcase_add_test(tc, test_provider_errors);
	tcase_add_loop_test(tc, test_session_call, 0, 2);
	tcase_add_test(tc, test_cli_speak);
	tcase_add_test(tc, test_cli_stdin_matches_args);
	tcase_add_test(tc, test_cli_list_and_errors);
	suite_add_tcase(s, tc);
	return s;
}
