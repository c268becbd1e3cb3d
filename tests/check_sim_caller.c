/*
 * check_sim_caller.c — the scripted simulated caller, driven as a session
 * drives it (frame() at successive 20 ms pts, agent events before the
 * frame of their tick): anchors and offsets at exact sample positions, the
 * truth it reports, given audio played verbatim, silence and hang-up,
 * hanging up after the agent, validation, determinism and noise.
 */
#include <check.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "vagent.h"

#define MS VAGENT_TICKS_PER_MS

/* Utterance k's voice (docs/simulation.md): seed ^ golden * k. */
static uint64_t voice_seed(uint64_t seed, int step_no)
{
	return seed ^ (UINT64_C(0x9E3779B97F4A7C15) * (uint64_t)step_no);
}

static struct vagent_caller *make(struct vagent_sim_caller_config *cfg,
				  struct vagent_sim_step *steps, size_t n)
{
	struct vagent_caller *c = NULL;
	struct vagent_error err;

	cfg->steps = steps;
	cfg->n_steps = n;
	ck_assert_msg(vagent_sim_caller_new(cfg, &c, &err) == VAGENT_OK, "%s", err.message);
	ck_assert_ptr_nonnull(c);
	return c;
}

static vagent_status frame_at(struct vagent_caller *c, int rate, int64_t ms,
			      struct vagent_frame *f, struct vagent_speech_truth *t)
{
	ck_assert_int_eq(vagent_frame_init_20ms(f, rate, 1, ms * MS), VAGENT_OK);
	memset(t, 0xa5, sizeof(*t));    /* the caller fills all of it */
	return c->ops->frame(c, f, t);
}

static struct vagent_audio *synth(const char *text, int rate, uint64_t seed)
{
	struct vagent_audio *a = NULL;
	struct vagent_error err;

	ck_assert_msg(vagent_speechlike_synth(text, rate, seed, &a, &err) == VAGENT_OK,
		      "%s", err.message);
	return a;
}

static bool all_zero(const struct vagent_frame *f, size_t from, size_t to)
{
	for (size_t i = from; i < to; i++)
		if (f->samples[i])
			return false;
	return true;
}

/* The samples of `a` from sample `off` (silence past its end) equal f's
 * samples [from, to). */
static bool same_as(const struct vagent_frame *f, size_t from, size_t to,
		    const struct vagent_audio *a, int64_t off)
{
	struct vagent_frame g;

	for (size_t i = from; i < to; i++) {
		int64_t k = off + (int64_t)(i - from);
		int16_t want = 0;

		if (k >= 0 && (size_t)k < a->frames) {
			vagent_audio_get_frame(a, (size_t)k, 1, &g);
			want = g.samples[0];
		}
		if (f->samples[i] != want)
			return false;
	}
	return true;
}

START_TEST(test_defaults)
{
	struct vagent_sim_caller_config cfg = vagent_sim_caller_config_default();

	ck_assert_int_eq(cfg.rate, 16000);
	ck_assert_int_eq(cfg.hangup_after_ms, 3000);
	ck_assert(cfg.noise_dbfs == 0.0);
	ck_assert_uint_eq(cfg.n_steps, 0);
	ck_assert_ptr_null(cfg.steps);
}
END_TEST

/* A say at START + 1000 ms: speech from the frame at 1000 ms exactly,
 * the truth's start and end exact, the synth's samples; the agent never
 * answers: the hang-up 10 s after the end. At 8 and 16 kHz. */
START_TEST(test_say_at_start)
{
	static const int rates[] = { 8000, 16000 };
	const char *text = "I would like to check the status of my order please";

	for (size_t r = 0; r < 2; r++) {
		int rate = rates[r];
		struct vagent_sim_caller_config cfg = vagent_sim_caller_config_default();
		struct vagent_sim_step steps[1] = { {
			.kind = VAGENT_STEP_SAY, .anchor = VAGENT_ANCHOR_START,
			.offset_ms = 1000, .text = text,
		} };
		struct vagent_caller *c;
		struct vagent_audio *want;
		struct vagent_frame f;
		struct vagent_speech_truth t;
		int dur = vagent_speechlike_duration_ms(text);
		int64_t end = (1000 + dur) * MS, hang = end + 10000 * MS;
		size_t n = vagent_frame_samples_for(rate, 20);
		int64_t ms;

		cfg.rate = rate;
		cfg.seed = 11;
		c = make(&cfg, steps, 1);
		want = synth(text, rate, voice_seed(11, 1));
		for (ms = 0; ; ms += 20) {
			vagent_status st = frame_at(c, rate, ms, &f, &t);
			int64_t p = ms * MS;

			if (p >= hang) {
				ck_assert_int_eq(st, VAGENT_EOS);
				break;
			}
			ck_assert_int_eq(st, VAGENT_OK);
			ck_assert_uint_eq(f.n, n);
			if (ms < 1000) {
				ck_assert(!t.speaking);
				ck_assert_int_eq(t.utterance, 0);
				ck_assert_ptr_null(t.text);
				ck_assert(all_zero(&f, 0, n));
			} else if (p < end) {
				ck_assert(t.speaking);
				ck_assert_int_eq(t.utterance, 1);
				ck_assert_str_eq(t.text, text);
				ck_assert_int_eq(t.start, 1000 * MS);
				ck_assert_int_eq(t.end, end);
				ck_assert_int_eq(t.end - t.start,
						 vagent_ticks_from_samples((int64_t)want->frames, rate));
				ck_assert(same_as(&f, 0, n, want,
						  vagent_ticks_to_samples(p - 1000 * MS, rate)));
			} else {
				ck_assert(!t.speaking);
				ck_assert_int_eq(t.utterance, 1);
				ck_assert_ptr_null(t.text);
				ck_assert(all_zero(&f, 0, n));
			}
		}
		/* the hang-up is on the first frame at or after end + 10 s */
		ck_assert_int_lt((ms - 20) * MS, hang);
		/* and stays */
		ck_assert_int_eq(frame_at(c, rate, ms + 20, &f, &t), VAGENT_EOS);
		ck_assert_int_eq(frame_at(c, rate, ms + 40, &f, &t), VAGENT_EOS);
		c->ops->agent_event(c, VAGENT_AGENT_SPEAKING, (ms + 40) * MS);
		ck_assert_int_eq(frame_at(c, rate, ms + 60, &f, &t), VAGENT_EOS);
		vagent_audio_free(want);
		vagent_caller_free(c);
	}
}
END_TEST

/* An offset off the 20 ms grid starts speech at its exact sample; the
 * utterance's end is exact too, mid-frame. */
START_TEST(test_offset_sample_exact)
{
	struct vagent_sim_caller_config cfg = vagent_sim_caller_config_default();
	struct vagent_sim_step steps[1] = { {
		.kind = VAGENT_STEP_SAY, .anchor = VAGENT_ANCHOR_START,
		.offset_ms = 1010, .text = "hello there",
	} };
	struct vagent_caller *c = make(&cfg, steps, 1);
	struct vagent_audio *want = synth("hello there", 16000, voice_seed(0, 1));
	struct vagent_frame f;
	struct vagent_speech_truth t;
	int64_t end = 1010 * MS + vagent_ticks_from_samples((int64_t)want->frames, 16000);
	int64_t end_frame = (vagent_ticks_to_ms(end) / 20) * 20;
	size_t cut = (size_t)vagent_ticks_to_samples(end - end_frame * MS, 16000);

	ck_assert_int_eq(frame_at(c, 16000, 980, &f, &t), VAGENT_OK);
	ck_assert(!t.speaking);
	ck_assert(all_zero(&f, 0, 320));
	ck_assert_int_eq(frame_at(c, 16000, 1000, &f, &t), VAGENT_OK);
	ck_assert(t.speaking);
	ck_assert_int_eq(t.start, 1010 * MS);
	ck_assert_int_eq(t.end, end);
	/* 10 ms = 160 samples of silence, then the utterance's first samples */
	ck_assert(all_zero(&f, 0, 160));
	ck_assert(same_as(&f, 160, 320, want, 0));
	ck_assert(!all_zero(&f, 160, 320));
	for (int64_t ms = 1020; ms < end_frame; ms += 20) {
		ck_assert_int_eq(frame_at(c, 16000, ms, &f, &t), VAGENT_OK);
		ck_assert(same_as(&f, 0, 320, want, (ms - 1010) * 16));
	}
	/* the last frame: speech up to the end's sample, then silence */
	ck_assert_uint_gt(cut, 0);
	ck_assert_int_eq(frame_at(c, 16000, end_frame, &f, &t), VAGENT_OK);
	ck_assert(t.speaking);
	ck_assert(same_as(&f, 0, cut, want, (end_frame - 1010) * 16));
	ck_assert(all_zero(&f, cut, 320));
	ck_assert_int_eq(frame_at(c, 16000, end_frame + 20, &f, &t), VAGENT_OK);
	ck_assert(!t.speaking);
	ck_assert_int_eq(t.utterance, 1);
	vagent_audio_free(want);
	vagent_caller_free(c);
}
END_TEST

/* Run frames [from, to) ms; returns the pts (ms) of the first speaking
 * frame of utterance `utt`, or -1. */
static int64_t run_until_utterance(struct vagent_caller *c, int rate, int64_t from,
				   int64_t to, int utt, struct vagent_speech_truth *out)
{
	struct vagent_frame f;
	struct vagent_speech_truth t;

	for (int64_t ms = from; ms < to; ms += 20) {
		ck_assert_int_eq(frame_at(c, rate, ms, &f, &t), VAGENT_OK);
		if (t.speaking && t.utterance == utt) {
			*out = t;
			return ms;
		}
	}
	return -1;
}

/* AGENT_DONE waits for the agent's reply to end — one that ends after the
 * step became current, not one during the caller's previous utterance. */
START_TEST(test_agent_done_anchor)
{
	struct vagent_sim_caller_config cfg = vagent_sim_caller_config_default();
	struct vagent_sim_step steps[2] = {
		{ .kind = VAGENT_STEP_SAY, .anchor = VAGENT_ANCHOR_START,
		  .offset_ms = 500, .text = "hi I need some help with my booking" },
		{ .kind = VAGENT_STEP_SAY, .anchor = VAGENT_ANCHOR_AGENT_DONE,
		  .offset_ms = 300, .text = "yes the one for Friday" },
	};
	struct vagent_caller *c = make(&cfg, steps, 2);
	struct vagent_speech_truth t;
	struct vagent_frame f;
	int64_t end1 = (500 + vagent_speechlike_duration_ms(steps[0].text)) * MS;

	/* a reply cut off while the caller is still speaking does not count */
	ck_assert_int_eq(run_until_utterance(c, 16000, 0, 1000, 9, &t), -1);
	c->ops->agent_event(c, VAGENT_AGENT_SPEAKING, 1000 * MS);
	c->ops->agent_event(c, VAGENT_AGENT_STOPPED, 1000 * MS);
	ck_assert_int_lt(1000 * MS, end1);
	/* nothing more from the agent: the caller waits (and does not hang up) */
	ck_assert_int_eq(run_until_utterance(c, 16000, 1000, 9000, 2, &t), -1);
	ck_assert_int_eq(frame_at(c, 16000, 9000, &f, &t), VAGENT_OK);
	ck_assert(all_zero(&f, 0, 320));
	ck_assert_int_eq(t.utterance, 1);
	/* the agent speaks 9.02 .. 10.5 s: the caller answers 300 ms later */
	c->ops->agent_event(c, VAGENT_AGENT_SPEAKING, 9020 * MS);
	ck_assert_int_eq(run_until_utterance(c, 16000, 9020, 10500, 2, &t), -1);
	c->ops->agent_event(c, VAGENT_AGENT_DONE, 10500 * MS);
	ck_assert_int_eq(run_until_utterance(c, 16000, 10500, 12000, 2, &t), 10800);
	ck_assert_int_eq(t.start, 10800 * MS);
	ck_assert_str_eq(t.text, "yes the one for Friday");
	vagent_caller_free(c);
}
END_TEST

/* The barge-in script: talk over the agent 800 ms after it starts. */
START_TEST(test_agent_speaking_anchor)
{
	struct vagent_sim_caller_config cfg = vagent_sim_caller_config_default();
	struct vagent_sim_step steps[2] = {
		{ .kind = VAGENT_STEP_SAY, .anchor = VAGENT_ANCHOR_START,
		  .offset_ms = 0, .text = "what time do you open" },
		{ .kind = VAGENT_STEP_SAY, .anchor = VAGENT_ANCHOR_AGENT_SPEAKING,
		  .offset_ms = 800, .text = "sorry wait a moment" },
	};
	struct vagent_caller *c;
	struct vagent_speech_truth t;

	cfg.rate = 8000;
	c = make(&cfg, steps, 2);
	ck_assert_int_eq(run_until_utterance(c, 8000, 0, 4000, 2, &t), -1);
	c->ops->agent_event(c, VAGENT_AGENT_SPEAKING, 4000 * MS);
	ck_assert_int_eq(run_until_utterance(c, 8000, 4000, 6000, 2, &t), 4800);
	ck_assert_int_eq(t.start, 4800 * MS);
	ck_assert_int_eq(t.end, (4800 + vagent_speechlike_duration_ms(steps[1].text)) * MS);
	/* the agent stops, the caller's utterance plays to its end */
	c->ops->agent_event(c, VAGENT_AGENT_STOPPED, 5000 * MS);
	ck_assert_int_eq(run_until_utterance(c, 8000, 5000, 5100, 2, &t), 5000);
	vagent_caller_free(c);
}
END_TEST

/* An event told late (after the frame of its tick) starts the step now. */
START_TEST(test_late_event)
{
	struct vagent_sim_caller_config cfg = vagent_sim_caller_config_default();
	struct vagent_sim_step steps[1] = {
		{ .kind = VAGENT_STEP_SAY, .anchor = VAGENT_ANCHOR_AGENT_DONE,
		  .offset_ms = 0, .text = "okay" },
	};
	struct vagent_caller *c = make(&cfg, steps, 1);
	struct vagent_speech_truth t;

	ck_assert_int_eq(run_until_utterance(c, 16000, 0, 2040, 1, &t), -1);
	c->ops->agent_event(c, VAGENT_AGENT_DONE, 2000 * MS);
	ck_assert_int_eq(run_until_utterance(c, 16000, 2040, 3000, 1, &t), 2040);
	ck_assert_int_eq(t.start, 2040 * MS);
	vagent_caller_free(c);
}
END_TEST

/* Given audio is played verbatim (a copy: the caller's own may go), and a
 * step anchored at the previous end starts on the very next sample, in
 * the same frame. */
START_TEST(test_given_audio)
{
	struct vagent_sim_caller_config cfg = vagent_sim_caller_config_default();
	struct vagent_audio *a = vagent_audio_new(16000, 1, 330);
	struct vagent_audio *b = vagent_audio_new(16000, 1, 500);
	struct vagent_audio *a2, *b2;
	struct vagent_sim_step steps[2] = {
		{ .kind = VAGENT_STEP_SAY, .anchor = VAGENT_ANCHOR_START,
		  .offset_ms = 40, .text = "one" },
		{ .kind = VAGENT_STEP_SAY, .anchor = VAGENT_ANCHOR_PREV_END,
		  .offset_ms = 0, .text = "two" },
	};
	struct vagent_caller *c;
	struct vagent_frame f;
	struct vagent_speech_truth t;

	for (size_t i = 0; i < a->frames; i++)
		a->samples[i] = (float)(0.3 * sin(0.05 * (double)i));
	for (size_t i = 0; i < b->frames; i++)
		b->samples[i] = (float)(i % 7) * 0.01f - 0.5f;
	a->samples[3] = 1.5f;                   /* clipped like any frame */
	steps[0].audio = a;
	steps[1].audio = b;
	c = make(&cfg, steps, 2);
	a2 = vagent_audio_dup(a);
	b2 = vagent_audio_dup(b);
	vagent_audio_free(a);
	vagent_audio_free(b);

	ck_assert_int_eq(frame_at(c, 16000, 40, &f, &t), VAGENT_OK);
	ck_assert(same_as(&f, 0, 320, a2, 0));
	ck_assert_int_eq(f.samples[3], 32767);
	ck_assert_int_eq(t.utterance, 1);
	ck_assert_int_eq(t.end, 40 * MS + vagent_ticks_from_samples(330, 16000));
	/* [60, 80): a's last 10 samples, then b from sample 10 */
	ck_assert_int_eq(frame_at(c, 16000, 60, &f, &t), VAGENT_OK);
	ck_assert(same_as(&f, 0, 10, a2, 320));
	ck_assert(same_as(&f, 10, 320, b2, 0));
	ck_assert(t.speaking);
	ck_assert_int_eq(t.utterance, 2);
	ck_assert_str_eq(t.text, "two");
	ck_assert_int_eq(t.start, 40 * MS + vagent_ticks_from_samples(330, 16000));
	ck_assert_int_eq(t.end, t.start + vagent_ticks_from_samples(500, 16000));
	ck_assert_int_eq(frame_at(c, 16000, 80, &f, &t), VAGENT_OK);
	ck_assert(same_as(&f, 0, 320, b2, 310));
	ck_assert(t.speaking);
	ck_assert_int_eq(frame_at(c, 16000, 100, &f, &t), VAGENT_OK);
	ck_assert(!t.speaking);
	ck_assert_int_eq(t.utterance, 2);
	vagent_audio_free(a2);
	vagent_audio_free(b2);
	vagent_caller_free(c);
}
END_TEST

START_TEST(test_silence_and_hangup)
{
	struct vagent_sim_caller_config cfg = vagent_sim_caller_config_default();
	struct vagent_sim_step steps[4] = {
		{ .kind = VAGENT_STEP_SAY, .anchor = VAGENT_ANCHOR_START,
		  .offset_ms = 0, .text = "yes" },
		{ .kind = VAGENT_STEP_SILENCE, .anchor = VAGENT_ANCHOR_PREV_END,
		  .offset_ms = 0, .duration_ms = 2000 },
		{ .kind = VAGENT_STEP_SAY, .anchor = VAGENT_ANCHOR_PREV_END,
		  .offset_ms = 100, .text = "no" },
		{ .kind = VAGENT_STEP_HANGUP, .anchor = VAGENT_ANCHOR_PREV_END,
		  .offset_ms = 500 },
	};
	struct vagent_caller *c = make(&cfg, steps, 4);
	struct vagent_speech_truth t;
	struct vagent_frame f;
	int64_t s2 = vagent_speechlike_duration_ms("yes") + 2000 + 100;
	int64_t hang = s2 + vagent_speechlike_duration_ms("no") + 500;
	int64_t ms, first;

	first = run_until_utterance(c, 16000, 0, 5000, 2, &t);
	ck_assert_int_eq(t.start, s2 * MS);
	ck_assert_int_eq(first, s2 / 20 * 20);
	/* the agent talking does not delay a scripted hang-up */
	c->ops->agent_event(c, VAGENT_AGENT_SPEAKING, (first + 20) * MS);
	for (ms = first + 20; ; ms += 20) {
		vagent_status st = frame_at(c, 16000, ms, &f, &t);

		if (ms >= hang) {
			ck_assert_int_eq(st, VAGENT_EOS);
			break;
		}
		ck_assert_int_eq(st, VAGENT_OK);
	}
	ck_assert_int_lt(ms - 20, hang);
	ck_assert_int_eq(frame_at(c, 16000, ms + 20, &f, &t), VAGENT_EOS);
	vagent_caller_free(c);
}
END_TEST

/* After the last step: once the agent has answered the caller's last
 * words (a reply ended after them) and is quiet, hang up hangup_after_ms
 * after the later of the last step's end and the reply's end; never while
 * the agent speaks; with no answer, 10 s after the last words. */
static void run_ok(struct vagent_caller *c, int64_t from, int64_t to)
{
	struct vagent_frame f;
	struct vagent_speech_truth t;

	for (int64_t ms = from; ms < to; ms += 20)
		ck_assert_int_eq(frame_at(c, 16000, ms, &f, &t), VAGENT_OK);
}

START_TEST(test_hangup_after_agent)
{
	struct vagent_sim_caller_config cfg = vagent_sim_caller_config_default();
	struct vagent_sim_step steps[2] = {
		{ .kind = VAGENT_STEP_SAY, .anchor = VAGENT_ANCHOR_START,
		  .offset_ms = 0, .text = "bye" },
		{ .kind = VAGENT_STEP_SILENCE, .anchor = VAGENT_ANCHOR_PREV_END,
		  .offset_ms = 0, .duration_ms = 5000 },
	};
	struct vagent_caller *c;
	struct vagent_speech_truth t;
	struct vagent_frame f;
	int64_t end = vagent_speechlike_duration_ms("bye");

	/* the agent answers at 600 ms and speaks past end + 1 s */
	cfg.hangup_after_ms = 1000;
	c = make(&cfg, steps, 1);
	run_ok(c, 0, 600);
	ck_assert_int_lt(end + 1000, 2000);
	c->ops->agent_event(c, VAGENT_AGENT_SPEAKING, 600 * MS);
	run_ok(c, 600, 6000);
	c->ops->agent_event(c, VAGENT_AGENT_DONE, 6000 * MS);
	run_ok(c, 6000, 7000);
	ck_assert_int_eq(frame_at(c, 16000, 7000, &f, &t), VAGENT_EOS);
	vagent_caller_free(c);

	/* the answer ends during a last silence: hang up after the silence */
	c = make(&cfg, steps, 2);
	run_ok(c, 0, 600);
	c->ops->agent_event(c, VAGENT_AGENT_SPEAKING, 600 * MS);
	run_ok(c, 600, 3000);
	c->ops->agent_event(c, VAGENT_AGENT_DONE, 3000 * MS);
	run_ok(c, 3000, end + 5000 + 1000);
	ck_assert_int_eq(frame_at(c, 16000, (end + 5000 + 1000 + 19) / 20 * 20, &f, &t),
			 VAGENT_EOS);
	vagent_caller_free(c);

	/* a reply cut off by the caller's last words is no answer to them:
	 * the caller waits for the next one */
	c = make(&cfg, steps, 1);
	c->ops->agent_event(c, VAGENT_AGENT_SPEAKING, 0);
	run_ok(c, 0, 100);
	c->ops->agent_event(c, VAGENT_AGENT_STOPPED, 100 * MS);
	run_ok(c, 100, 4000);
	c->ops->agent_event(c, VAGENT_AGENT_SPEAKING, 4000 * MS);
	run_ok(c, 4000, 5000);
	c->ops->agent_event(c, VAGENT_AGENT_DONE, 5000 * MS);
	run_ok(c, 5000, 6000);
	ck_assert_int_eq(frame_at(c, 16000, 6000, &f, &t), VAGENT_EOS);
	vagent_caller_free(c);

	/* no answer at all: 10 s after the last words, or hangup_after_ms
	 * after the last step if that is later */
	c = make(&cfg, steps, 2);
	run_ok(c, 0, end + 10000);
	ck_assert_int_eq(frame_at(c, 16000, (end + 10000 + 19) / 20 * 20, &f, &t),
			 VAGENT_EOS);
	vagent_caller_free(c);
	cfg.hangup_after_ms = 12000;
	c = make(&cfg, steps, 1);
	run_ok(c, 0, end + 12000);
	ck_assert_int_eq(frame_at(c, 16000, (end + 12000 + 19) / 20 * 20, &f, &t),
			 VAGENT_EOS);
	vagent_caller_free(c);

	/* no steps: the agent's greeting is the answer */
	cfg.hangup_after_ms = 0;
	c = make(&cfg, NULL, 0);
	c->ops->agent_event(c, VAGENT_AGENT_SPEAKING, 200 * MS);
	run_ok(c, 0, 1500);
	c->ops->agent_event(c, VAGENT_AGENT_DONE, 1500 * MS);
	ck_assert_int_eq(frame_at(c, 16000, 1500, &f, &t), VAGENT_EOS);
	vagent_caller_free(c);
	cfg.hangup_after_ms = 3000;
	c = make(&cfg, NULL, 0);
	ck_assert_int_eq(frame_at(c, 16000, 9980, &f, &t), VAGENT_OK);
	ck_assert(!t.speaking);
	ck_assert_int_eq(t.utterance, 0);
	ck_assert_int_eq(frame_at(c, 16000, 10000, &f, &t), VAGENT_EOS);
	vagent_caller_free(c);
}
END_TEST

static void expect_error(struct vagent_sim_caller_config *cfg, const char *msg)
{
	struct vagent_caller *c = (struct vagent_caller *)1;
	struct vagent_error err;

	ck_assert_int_eq(vagent_sim_caller_new(cfg, &c, &err), VAGENT_EINVAL);
	ck_assert_ptr_null(c);
	ck_assert_str_eq(err.message, msg);
}

START_TEST(test_validation)
{
	struct vagent_sim_caller_config cfg = vagent_sim_caller_config_default();
	struct vagent_audio *stereo = vagent_audio_new(16000, 2, 160);
	struct vagent_audio *at8k = vagent_audio_new(8000, 1, 160);
	struct vagent_audio *empty = vagent_audio_new(16000, 1, 0);
	struct vagent_sim_step ok = { .kind = VAGENT_STEP_SAY, .text = "hi" };
	struct vagent_sim_step steps[3] = { ok, ok, ok };
	struct vagent_caller *c = (struct vagent_caller *)1;

	ck_assert_int_eq(vagent_sim_caller_new(NULL, &c, NULL), VAGENT_EINVAL);
	ck_assert_ptr_null(c);
	cfg.rate = 44100;
	expect_error(&cfg, "sim-caller: unsupported rate 44100 Hz (8000 or 16000)");
	cfg.rate = 16000;
	cfg.n_steps = 2;
	expect_error(&cfg, "sim-caller: 2 steps but no step list");
	cfg.steps = steps;
	cfg.n_steps = 3;
	steps[2].audio = stereo;
	expect_error(&cfg, "sim-caller: step 3: audio must be mono at 16000 Hz");
	steps[2].audio = at8k;
	expect_error(&cfg, "sim-caller: step 3: audio must be mono at 16000 Hz");
	steps[2].audio = empty;
	expect_error(&cfg, "sim-caller: step 3: audio is empty");
	steps[2] = ok;
	steps[1].text = NULL;
	expect_error(&cfg, "sim-caller: step 2: say needs text or audio");
	steps[1].text = "";
	expect_error(&cfg, "sim-caller: step 2: say needs text or audio");
	steps[1].text = "...";
	expect_error(&cfg, "sim-caller: step 2: speechlike: empty text");
	steps[1] = ok;
	steps[0].kind = VAGENT_STEP_SILENCE;
	expect_error(&cfg, "sim-caller: step 1: silence needs a duration > 0 ms");
	steps[0].duration_ms = -5;
	expect_error(&cfg, "sim-caller: step 1: silence needs a duration > 0 ms");
	steps[0].duration_ms = 100;
	steps[0].offset_ms = -1;
	expect_error(&cfg, "sim-caller: step 1: offset -1 ms is negative");
	steps[0].offset_ms = 0;
	steps[0].anchor = (vagent_sim_anchor)9;
	expect_error(&cfg, "sim-caller: step 1: unknown anchor 9");
	steps[0].anchor = VAGENT_ANCHOR_START;
	steps[0].kind = (vagent_sim_step_kind)7;
	expect_error(&cfg, "sim-caller: step 1: unknown kind 7");
	steps[0].kind = VAGENT_STEP_SILENCE;
	cfg.hangup_after_ms = -1;
	expect_error(&cfg, "sim-caller: hangup_after_ms -1 is negative");
	cfg.hangup_after_ms = 0;
	cfg.noise_dbfs = NAN;
	expect_error(&cfg, "sim-caller: noise level is not a number");
	cfg.noise_dbfs = 0;
	/* a valid script; audio at 8 kHz for an 8 kHz caller */
	cfg.rate = 8000;
	steps[2].audio = at8k;
	c = make(&cfg, steps, 3);
	vagent_caller_free(c);
	vagent_caller_free(NULL);
	vagent_audio_free(stereo);
	vagent_audio_free(at8k);
	vagent_audio_free(empty);
}
END_TEST

/* Frames [0, to_ms) of a new caller into one buffer of int16. */
static int16_t *record(struct vagent_sim_caller_config *cfg,
		       struct vagent_sim_step *steps, size_t n, int to_ms)
{
	struct vagent_caller *c = make(cfg, steps, n);
	size_t fs = vagent_frame_samples_for(cfg->rate, 20);
	int16_t *out = calloc((size_t)to_ms / 20 * fs, sizeof(int16_t));
	struct vagent_frame f;
	struct vagent_speech_truth t;

	ck_assert_ptr_nonnull(out);
	for (int ms = 0; ms < to_ms; ms += 20) {
		ck_assert_int_eq(frame_at(c, cfg->rate, ms, &f, &t), VAGENT_OK);
		memcpy(out + (size_t)ms / 20 * fs, f.samples, fs * sizeof(int16_t));
	}
	vagent_caller_free(c);
	return out;
}

START_TEST(test_determinism_and_noise)
{
	struct vagent_sim_caller_config cfg = vagent_sim_caller_config_default();
	struct vagent_sim_step steps[1] = {
		{ .kind = VAGENT_STEP_SAY, .anchor = VAGENT_ANCHOR_START,
		  .offset_ms = 1000, .text = "my number is 5 5 5 1 2 3 4" },
	};
	size_t len = 4000 / 20 * 320, differ = 0;
	int16_t *a, *b, *d, *quiet;
	double e = 0;

	cfg.seed = 5;
	cfg.noise_dbfs = -50;
	cfg.hangup_after_ms = 10000;
	a = record(&cfg, steps, 1, 4000);
	b = record(&cfg, steps, 1, 4000);
	ck_assert_int_eq(memcmp(a, b, len * sizeof(int16_t)), 0);
	cfg.seed = 6;
	d = record(&cfg, steps, 1, 4000);
	for (size_t i = 0; i < len; i++)
		differ += a[i] != d[i];
	ck_assert_uint_gt(differ, len / 2);
	/* the first second: noise alone, at -50 dBFS RMS */
	for (size_t i = 0; i < 16000; i++)
		e += (double)a[i] * a[i];
	e = 10 * log10(e / 16000 / (32768.0 * 32768.0));
	ck_assert_msg(fabs(e + 50) < 0.5, "%.2f dBFS", e);
	/* no noise: digital silence around the speech */
	cfg.noise_dbfs = 0;
	quiet = record(&cfg, steps, 1, 4000);
	for (size_t i = 0; i < 16000; i++)
		ck_assert_int_eq(quiet[i], 0);
	free(a);
	free(b);
	free(d);
	free(quiet);
}
END_TEST

/* Frames the session did not initialise as agreed are refused. */
START_TEST(test_bad_frame)
{
	struct vagent_sim_caller_config cfg = vagent_sim_caller_config_default();
	struct vagent_caller *c = make(&cfg, NULL, 0);
	struct vagent_frame f;
	struct vagent_speech_truth t;

	ck_assert_int_eq(vagent_frame_init_20ms(&f, 8000, 1, 0), VAGENT_OK);
	ck_assert_int_eq(c->ops->frame(c, &f, &t), VAGENT_EINVAL);
	ck_assert_int_eq(vagent_frame_init_20ms(&f, 16000, 2, 0), VAGENT_OK);
	ck_assert_int_eq(c->ops->frame(c, &f, &t), VAGENT_EINVAL);
	/* truth may be NULL */
	ck_assert_int_eq(vagent_frame_init_20ms(&f, 16000, 1, 0), VAGENT_OK);
	ck_assert_int_eq(c->ops->frame(c, &f, NULL), VAGENT_OK);
	vagent_caller_free(c);
}
END_TEST

Suite *suite_sim_caller(void);
Suite *suite_sim_caller(void)
{
	Suite *s = suite_create("sim_caller");
	TCase *tc = tcase_create("sim_caller");

	tcase_set_timeout(tc, 30);
	tcase_add_test(tc, test_defaults);
	tcase_add_test(tc, test_say_at_start);
	tcase_add_test(tc, test_offset_sample_exact);
	tcase_add_test(tc, test_agent_done_anchor);
	tcase_add_test(tc, test_agent_speaking_anchor);
	tcase_add_test(tc, test_late_event);
	tcase_add_test(tc, test_given_audio);
	tcase_add_test(tc, test_silence_and_hangup);
	tcase_add_test(tc, test_hangup_after_agent);
	tcase_add_test(tc, test_validation);
	tcase_add_test(tc, test_determinism_and_noise);
	tcase_add_test(tc, test_bad_frame);
	suite_add_tcase(s, tc);
	return s;
}
