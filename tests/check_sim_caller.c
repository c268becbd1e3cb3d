/*
 * check_sim_caller.c — the scripted simulated caller, driven as a session
 * drives it (frame() at successive 20 ms pts, agent events before the
 * frame of their tick): anchors and offsets at exact sample positions, the
 * truth it reports, given audio played verbatim, silence and hang-up,
 * hanging up after the agent, validation, determinism and noise; and
 * the scripted waits: steps anchored on a trace event (a named tool's
 * tool.start, a filler, an escalation) or on silence, WAIT steps — driven
 * directly and in sessions with simulated providers on the virtual clock,
 * where the times in the trace are exact.
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
	steps[0].kind = VAGENT_STEP_WAIT;
	steps[0].anchor = VAGENT_ANCHOR_SILENCE;
	expect_error(&cfg, "sim-caller: step 1: a silence anchor needs silence_ms > 0");
	steps[0].anchor = VAGENT_ANCHOR_EVENT;
	steps[0].event = (vagent_trace_type)99;
	expect_error(&cfg, "sim-caller: step 1: unknown event type 99");
	steps[0].event = VAGENT_TRACE_FILLER;
	steps[0].anchor = VAGENT_ANCHOR_START;
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

/* ---- scripted waits, driven directly ---- */

static void tell(struct vagent_caller *c, vagent_trace_type type, const char *name,
		 const char *text, int64_t ms)
{
	struct vagent_trace_event ev = { .type = type, .name = name, .text = text };

	ck_assert_ptr_nonnull(c->ops->trace_event);
	c->ops->trace_event(c, &ev, ms * MS);
}

/* A step anchored on tool.start of one tool: other tools, other event
 * types and events from before the step became current do not start it;
 * a text anchor matches a substring of the event's text. */
START_TEST(test_event_anchor)
{
	struct vagent_sim_caller_config cfg = vagent_sim_caller_config_default();
	struct vagent_sim_step steps[3] = {
		{ .kind = VAGENT_STEP_SAY, .anchor = VAGENT_ANCHOR_START,
		  .offset_ms = 0, .text = "where is my order" },
		{ .kind = VAGENT_STEP_SAY, .anchor = VAGENT_ANCHOR_EVENT,
		  .offset_ms = 200, .text = "hello", .event = VAGENT_TRACE_TOOL_START,
		  .event_match = "get_order" },
		{ .kind = VAGENT_STEP_SAY, .anchor = VAGENT_ANCHOR_EVENT,
		  .offset_ms = 0, .text = "yes", .event = VAGENT_TRACE_STT_FINAL,
		  .event_match = "card" },
	};
	struct vagent_caller *c = make(&cfg, steps, 3);
	struct vagent_speech_truth t;
	int64_t end1 = vagent_speechlike_duration_ms(steps[0].text);

	ck_assert_int_gt(end1, 600);
	/* while step 1 plays: too early */
	tell(c, VAGENT_TRACE_TOOL_START, "get_order", NULL, 500);
	ck_assert_int_eq(run_until_utterance(c, 16000, 0, 2000, 2, &t), -1);
	tell(c, VAGENT_TRACE_TOOL_START, "get_balance", NULL, 2000);
	tell(c, VAGENT_TRACE_TOOL_END, "get_order", NULL, 2000);
	tell(c, VAGENT_TRACE_STT_FINAL, NULL, "get_order", 2000);
	ck_assert_int_eq(run_until_utterance(c, 16000, 2000, 3000, 2, &t), -1);
	tell(c, VAGENT_TRACE_TOOL_START, "get_order", NULL, 3010);
	ck_assert_int_eq(run_until_utterance(c, 16000, 3000, 4000, 2, &t), 3200);
	ck_assert_int_eq(t.start, 3210 * MS);
	/* step 3: a final whose text holds "card" */
	tell(c, VAGENT_TRACE_STT_FINAL, NULL, "my visa", 5000);
	ck_assert_int_eq(run_until_utterance(c, 16000, 3220, 6000, 3, &t), -1);
	tell(c, VAGENT_TRACE_STT_FINAL, NULL, "my credit card please", 6000);
	ck_assert_int_eq(run_until_utterance(c, 16000, 6000, 7000, 3, &t), 6000);
	ck_assert_int_eq(t.start, 6000 * MS);
	vagent_caller_free(c);
}
END_TEST

/* A silence anchor: once neither side made sound for silence_ms; the
 * agent speaking again starts the count again. */
START_TEST(test_silence_anchor)
{
	struct vagent_sim_caller_config cfg = vagent_sim_caller_config_default();
	struct vagent_sim_step steps[2] = {
		{ .kind = VAGENT_STEP_SAY, .anchor = VAGENT_ANCHOR_START,
		  .offset_ms = 0, .text = "hi" },
		{ .kind = VAGENT_STEP_SAY, .anchor = VAGENT_ANCHOR_SILENCE,
		  .offset_ms = 100, .text = "hello are you there", .silence_ms = 1500 },
	};
	struct vagent_caller *c = make(&cfg, steps, 2);
	struct vagent_speech_truth t;

	ck_assert_int_lt(vagent_speechlike_duration_ms("hi"), 1000);
	c->ops->agent_event(c, VAGENT_AGENT_SPEAKING, 1000 * MS);
	c->ops->agent_event(c, VAGENT_AGENT_DONE, 2000 * MS);
	c->ops->agent_event(c, VAGENT_AGENT_SPEAKING, 3000 * MS);
	ck_assert_int_eq(run_until_utterance(c, 16000, 0, 3000, 2, &t), -1);
	c->ops->agent_event(c, VAGENT_AGENT_STOPPED, 3400 * MS);
	/* quiet from 3400: 1500 ms of silence at 4900, + 100 */
	ck_assert_int_eq(run_until_utterance(c, 16000, 3000, 6000, 2, &t), 5000);
	ck_assert_int_eq(t.start, 5000 * MS);
	vagent_caller_free(c);

	/* with no agent at all: silence counted from the previous step's
	 * end; a long wait for silence is not dead air */
	steps[1].silence_ms = 25000;
	steps[1].offset_ms = 0;
	c = make(&cfg, steps, 2);
	{
		int64_t end1 = (int64_t)vagent_speechlike_duration_ms("hi");
		int64_t want = end1 + 25000;

		ck_assert_int_eq(run_until_utterance(c, 16000, 0, 30000, 2, &t),
				 want / 20 * 20);
		ck_assert_int_eq(t.start, want * MS);
	}
	vagent_caller_free(c);
}
END_TEST

/* WAIT does nothing and ends at its anchor + offset; the next step,
 * anchored on it, starts from there. A step waiting for an event that
 * never comes faces dead air and hangs up. */
START_TEST(test_wait_step)
{
	struct vagent_sim_caller_config cfg = vagent_sim_caller_config_default();
	struct vagent_sim_step steps[3] = {
		{ .kind = VAGENT_STEP_WAIT, .anchor = VAGENT_ANCHOR_EVENT,
		  .offset_ms = 150, .event = VAGENT_TRACE_ESCALATION,
		  .event_match = "customer_request" },
		{ .kind = VAGENT_STEP_SAY, .anchor = VAGENT_ANCHOR_PREV_END,
		  .offset_ms = 300, .text = "thank you" },
		{ .kind = VAGENT_STEP_WAIT, .anchor = VAGENT_ANCHOR_EVENT,
		  .event = VAGENT_TRACE_DTMF },
	};
	struct vagent_caller *c = make(&cfg, steps, 3);
	struct vagent_speech_truth t;
	struct vagent_frame f;
	struct vagent_trace_event esc = { .type = VAGENT_TRACE_ESCALATION,
					  .reason = "llm_failure" };
	int64_t end2;

	c->ops->trace_event(c, &esc, 1000 * MS);
	ck_assert_int_eq(run_until_utterance(c, 16000, 0, 2000, 1, &t), -1);
	esc.reason = "customer_request";
	c->ops->trace_event(c, &esc, 2000 * MS);
	ck_assert_int_eq(run_until_utterance(c, 16000, 2000, 3000, 1, &t), 2440);
	ck_assert_int_eq(t.start, 2450 * MS);
	/* step 3 waits for a DTMF digit that never comes: 20 s after the
	 * caller's words, it hangs up */
	end2 = 2450 + vagent_speechlike_duration_ms("thank you");
	for (int64_t ms = 2460;; ms += 20) {
		vagent_status st = frame_at(c, 16000, ms, &f, &t);

		if (st == VAGENT_EOS) {
			ck_assert_int_eq(ms, (end2 + 20000 + 19) / 20 * 20);
			break;
		}
		ck_assert_int_eq(st, VAGENT_OK);
		ck_assert_int_lt(ms, end2 + 21000);
	}
	vagent_caller_free(c);
}
END_TEST

/* ---- scripted waits in a session (virtual clock, sim providers) ---- */

struct call {
	struct vagent_session_config cfg;
	struct vagent_sim_stt_config stt;
	struct vagent_sim_llm_config llm;
	struct vagent_sim_tts_config tts;
	struct vagent_sim_tools_config tools;
	struct vagent_sim_caller_config caller;
	struct vagent_stt *stt_p;
	struct vagent_brain *llm_p;
	struct vagent_tts *tts_p;
	struct vagent_tools *tools_p;
	struct vagent_caller *caller_p;
	struct vagent_session *s;
	struct vagent_trace *trace;
};

/* Fixed latencies (no jitter), no greeting. */
static void call_init(struct call *c, struct vagent_sim_step *steps, size_t n)
{
	memset(c, 0, sizeof(*c));
	c->cfg = vagent_session_config_default();
	c->cfg.name = "waits";
	c->cfg.keep_trace = true;
	c->cfg.agent.greet = false;
	c->stt = vagent_sim_stt_config_default();
	c->stt.first_partial.jitter_ms = 0;
	c->stt.final.jitter_ms = 0;
	c->llm = vagent_sim_llm_config_default();
	c->llm.ttft.jitter_ms = 0;
	c->tts = vagent_sim_tts_config_default();
	c->tts.first_byte.jitter_ms = 0;
	c->caller = vagent_sim_caller_config_default();
	c->caller.steps = steps;
	c->caller.n_steps = n;
	c->caller.hangup_after_ms = 1000;
}

static void call_run(struct call *c)
{
	struct vagent_error err;
	const char *text;
	size_t len;

	ck_assert_int_eq(vagent_sim_stt_new(&c->stt, &c->stt_p, &err), VAGENT_OK);
	ck_assert_int_eq(vagent_sim_llm_new(&c->llm, &c->llm_p, &err), VAGENT_OK);
	ck_assert_int_eq(vagent_sim_tts_new(&c->tts, &c->tts_p, &err), VAGENT_OK);
	if (c->tools.n_tools)
		ck_assert_int_eq(vagent_sim_tools_new(&c->tools, &c->tools_p, &err), VAGENT_OK);
	ck_assert_msg(vagent_sim_caller_new(&c->caller, &c->caller_p, &err) == VAGENT_OK,
		      "%s", err.message);
	c->cfg.stt[0] = c->stt_p;
	c->cfg.brain[0] = c->llm_p;
	c->cfg.tts[0] = c->tts_p;
	c->cfg.tools = c->tools_p;
	c->cfg.caller = c->caller_p;
	c->cfg.rate = c->caller.rate;
	ck_assert_msg(vagent_session_run(&c->cfg, VAGENT_CLOCK_VIRTUAL, &c->s, &err) ==
		      VAGENT_OK, "%s", err.message);
	text = vagent_session_trace(c->s, &len);
	ck_assert_ptr_nonnull(text);
	ck_assert_msg(vagent_trace_parse(text, len, "waits", &c->trace, &err) == VAGENT_OK,
		      "%s", err.message);
}

static void call_free(struct call *c)
{
	vagent_session_free(c->s);
	vagent_trace_free(c->trace);
	vagent_stt_free(c->stt_p);
	vagent_brain_free(c->llm_p);
	vagent_tts_free(c->tts_p);
	vagent_tools_free(c->tools_p);
	vagent_caller_free(c->caller_p);
}

/* The k-th (0-based) event of `type`; fails when there is none. */
static const struct vagent_trace_event *must(const struct call *c,
					     vagent_trace_type type, int k)
{
	int left = k;

	for (size_t i = 0; i < c->trace->n; i++)
		if (c->trace->events[i].type == type && left-- == 0)
			return &c->trace->events[i];
	ck_abort_msg("no %s #%d in:\n%s", vagent_trace_type_name(type), k,
		     vagent_session_trace(c->s, NULL));
	return NULL;
}

/* Interrupt while the named tool runs (200 ms after its tool.start), and
 * again once the filler is said. */
START_TEST(test_session_tool_and_filler_anchors)
{
	struct vagent_sim_rule rule = {
		.pattern = "order", .tool = "get_order", .reply = "It {result.status}.",
	};
	struct vagent_sim_tool tool = {
		.name = "get_order", .result = "{\"status\":\"shipped\"}",
		.latency = { 4000, 0 },
	};
	struct vagent_sim_step steps[4] = {
		{ .kind = VAGENT_STEP_SAY, .anchor = VAGENT_ANCHOR_START,
		  .offset_ms = 500, .text = "where is my order" },
		{ .kind = VAGENT_STEP_WAIT, .anchor = VAGENT_ANCHOR_EVENT,
		  .offset_ms = 200, .event = VAGENT_TRACE_TOOL_START,
		  .event_match = "get_order" },
		{ .kind = VAGENT_STEP_SAY, .anchor = VAGENT_ANCHOR_EVENT,
		  .offset_ms = 0, .text = "okay", .event = VAGENT_TRACE_FILLER },
		{ .kind = VAGENT_STEP_SILENCE, .anchor = VAGENT_ANCHOR_AGENT_DONE,
		  .duration_ms = 200 },
	};
	struct call c;
	const struct vagent_trace_event *ts, *fi, *sp;

	call_init(&c, steps, 4);
	c.cfg.agent.filler_after_ms = 1000;
	c.llm.rules = &rule;
	c.llm.n_rules = 1;
	c.tools.tools = &tool;
	c.tools.n_tools = 1;
	call_run(&c);
	ts = must(&c, VAGENT_TRACE_TOOL_START, 0);
	fi = must(&c, VAGENT_TRACE_FILLER, 0);
	sp = must(&c, VAGENT_TRACE_CALLER_SPEECH_START, 1);
	ck_assert_str_eq(ts->name, "get_order");
	ck_assert_int_eq(fi->t_us, ts->t_us + 1000000);
	/* "okay" on the filler's tick, exactly */
	ck_assert_int_eq(sp->t_us, fi->t_us);
	call_free(&c);
}
END_TEST

/* caller.speech_end waits for its turn before it is written: a step
 * anchored on it counts from the event's own time. */
START_TEST(test_session_event_that_waited)
{
	struct vagent_sim_step steps[3] = {
		{ .kind = VAGENT_STEP_SAY, .anchor = VAGENT_ANCHOR_START,
		  .offset_ms = 500, .text = "hello there" },
		{ .kind = VAGENT_STEP_SAY, .anchor = VAGENT_ANCHOR_EVENT,
		  .offset_ms = 3000, .text = "anyone", .event = VAGENT_TRACE_CALLER_SPEECH_END },
		{ .kind = VAGENT_STEP_SILENCE, .anchor = VAGENT_ANCHOR_AGENT_DONE,
		  .duration_ms = 200 },
	};
	struct call c;
	const struct vagent_trace_event *se, *sp, *te;

	call_init(&c, steps, 3);
	call_run(&c);
	se = must(&c, VAGENT_TRACE_CALLER_SPEECH_END, 0);
	te = must(&c, VAGENT_TRACE_TURN_END, 0);
	ck_assert_int_gt(te->t_us, se->t_us);
	ck_assert_int_eq(se->t_us, (500 + vagent_speechlike_duration_ms("hello there")) * 1000);
	sp = must(&c, VAGENT_TRACE_CALLER_SPEECH_START, 1);
	ck_assert_int_eq(sp->t_us, se->t_us + 3000000);
	call_free(&c);
}
END_TEST

/* Wait for the escalation, then speak 200 ms after it. */
START_TEST(test_session_escalation_anchor)
{
	struct vagent_sim_rule rule = {
		.pattern = "manager", .escalate = "customer_request",
	};
	struct vagent_sim_step steps[3] = {
		{ .kind = VAGENT_STEP_SAY, .anchor = VAGENT_ANCHOR_START,
		  .offset_ms = 500, .text = "let me speak to a manager" },
		{ .kind = VAGENT_STEP_WAIT, .anchor = VAGENT_ANCHOR_EVENT,
		  .event = VAGENT_TRACE_ESCALATION, .event_match = "customer_request" },
		{ .kind = VAGENT_STEP_SAY, .anchor = VAGENT_ANCHOR_PREV_END,
		  .offset_ms = 200, .text = "thanks" },
	};
	struct call c;
	const struct vagent_trace_event *esc, *sp;

	call_init(&c, steps, 3);
	c.llm.rules = &rule;
	c.llm.n_rules = 1;
	call_run(&c);
	esc = must(&c, VAGENT_TRACE_ESCALATION, 0);
	ck_assert_str_eq(esc->reason, "customer_request");
	sp = must(&c, VAGENT_TRACE_CALLER_SPEECH_START, 1);
	ck_assert_int_eq(sp->t_us, esc->t_us + 200000);
	call_free(&c);
}
END_TEST

/* The agent answers; 1200 ms of silence after its reply, the caller
 * speaks again; then barges in 800 ms into the agent's next reply. */
START_TEST(test_session_silence_and_barge_in)
{
	struct vagent_sim_step steps[4] = {
		{ .kind = VAGENT_STEP_SAY, .anchor = VAGENT_ANCHOR_START,
		  .offset_ms = 500, .text = "what time do you open" },
		{ .kind = VAGENT_STEP_SAY, .anchor = VAGENT_ANCHOR_SILENCE,
		  .silence_ms = 1200, .text = "hello" },
		{ .kind = VAGENT_STEP_SAY, .anchor = VAGENT_ANCHOR_AGENT_SPEAKING,
		  .offset_ms = 800, .text = "sorry wait a moment please" },
		{ .kind = VAGENT_STEP_SILENCE, .anchor = VAGENT_ANCHOR_AGENT_DONE,
		  .duration_ms = 200 },
	};
	struct call c;
	const struct vagent_trace_event *stop1, *sp2, *start2, *sp3, *bi, *stop2;

	call_init(&c, steps, 4);
	c.llm.fallback_reply = "We open at nine in the morning every day of the week.";
	call_run(&c);
	stop1 = must(&c, VAGENT_TRACE_AGENT_AUDIO_STOP, 0);
	ck_assert_str_eq(stop1->reason, "done");
	sp2 = must(&c, VAGENT_TRACE_CALLER_SPEECH_START, 1);
	ck_assert_int_eq(sp2->t_us, stop1->t_us + 1200000);
	start2 = must(&c, VAGENT_TRACE_AGENT_AUDIO_START, 1);
	sp3 = must(&c, VAGENT_TRACE_CALLER_SPEECH_START, 2);
	/* the barge-in lands 800 ms into the agent's audio */
	ck_assert_int_eq(sp3->t_us, start2->t_us + 800000);
	bi = must(&c, VAGENT_TRACE_BARGE_IN, 0);
	ck_assert_int_eq(bi->onset_us, sp3->t_us);
	stop2 = must(&c, VAGENT_TRACE_AGENT_AUDIO_STOP, 1);
	ck_assert_str_eq(stop2->reason, "barge_in");
	ck_assert_int_gt(stop2->t_us, sp3->t_us);
	call_free(&c);
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
	tcase_add_test(tc, test_event_anchor);
	tcase_add_test(tc, test_silence_anchor);
	tcase_add_test(tc, test_wait_step);
	tcase_add_test(tc, test_session_tool_and_filler_anchors);
	tcase_add_test(tc, test_session_escalation_anchor);
	tcase_add_test(tc, test_session_event_that_waited);
	tcase_add_test(tc, test_session_silence_and_barge_in);
	suite_add_tcase(s, tc);
	return s;
}
