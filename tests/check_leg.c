/*
 * check_leg.c — the caller's telephone leg: transparent by default, the
 * SNR measured on its output is the configured one, Opus keeps speech
 * close to the original (and conceals lost packets), G.711/PCM conceal by
 * repetition then fade, the loss rate and burst length of a long run
 * match the Gilbert model's settings, jitter past the buffer is late and
 * lost, the same seed gives the same audio, bad settings are one-line
 * errors, agent and trace events reach the wrapped caller (in a session
 * too), pocketsphinx still hears Opus speech with losses; and the active
 * speech level.
 */
#include <check.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "vagent.h"
#include "support/harness.h"

#define MS VAGENT_TICKS_PER_MS

/* ---- a test caller: a steady tone, with the truth "tone" ---- */

struct tone_caller {
	struct vagent_caller base;
	double amp;                 /* int16 units */
	int events;                 /* agent events heard */
	vagent_agent_event last_ev;
	int64_t last_t;
	int trace_events;           /* trace events heard */
	vagent_trace_type last_type;
	int64_t last_trace_t;
};

static vagent_status tone_frame(struct vagent_caller *c, struct vagent_frame *f,
				struct vagent_speech_truth *truth)
{
	struct tone_caller *t = (struct tone_caller *)c;
	int64_t first = vagent_ticks_to_samples(f->pts, f->rate);

	for (size_t j = 0; j < f->n; j++)
		f->samples[j] = (int16_t)lrint(t->amp * sin(2.0 * M_PI * 440.0 *
						(double)(first + (int64_t)j) / f->rate));
	if (truth) {
		memset(truth, 0, sizeof(*truth));
		truth->speaking = true;
		truth->utterance = 1;
		truth->text = "tone";
		truth->start = 0;
		truth->end = 3600 * VAGENT_TICKS_PER_SEC;
	}
	return VAGENT_OK;
}

static void tone_event(struct vagent_caller *c, vagent_agent_event ev, int64_t t)
{
	struct tone_caller *tc = (struct tone_caller *)c;

	tc->events++;
	tc->last_ev = ev;
	tc->last_t = t;
}

static void tone_trace_event(struct vagent_caller *c,
			     const struct vagent_trace_event *ev, int64_t t)
{
	struct tone_caller *tc = (struct tone_caller *)c;

	tc->trace_events++;
	tc->last_type = ev->type;
	tc->last_trace_t = t;
}

static void tone_free(struct vagent_caller *c)
{
	free(c);
}

static const struct vagent_caller_ops tone_ops = {
	.frame = tone_frame,
	.agent_event = tone_event,
	.free = tone_free,
	.trace_event = tone_trace_event,
};

static struct tone_caller *tone_new(double amp)
{
	struct tone_caller *t = calloc(1, sizeof(*t));

	ck_assert_ptr_nonnull(t);
	t->base.ops = &tone_ops;
	t->amp = amp;
	return t;
}

static struct vagent_caller *leg_new(struct vagent_caller *inner,
				     const struct vagent_leg_config *cfg)
{
	struct vagent_caller *leg = NULL;
	struct vagent_error err;

	ck_assert_msg(vagent_leg_caller_new(inner, cfg, &leg, &err) == VAGENT_OK,
		      "%s", err.message);
	ck_assert_ptr_nonnull(leg);
	return leg;
}

/* Frame k (20 ms) of `c` at `rate`. */
static vagent_status frame_k(struct vagent_caller *c, int rate, int64_t k,
			     struct vagent_frame *f, struct vagent_speech_truth *t)
{
	ck_assert_int_eq(vagent_frame_init_20ms(f, rate, 1, k * 20 * MS), VAGENT_OK);
	return c->ops->frame(c, f, t);
}

/* `frames` 20 ms frames of `c` into one buffer. (transfer full) */
static struct vagent_audio *record(struct vagent_caller *c, int rate, int64_t frames)
{
	struct vagent_audio *a = vagent_audio_new(rate, 1, 0);
	struct vagent_speech_truth t;
	struct vagent_frame f;

	ck_assert_ptr_nonnull(a);
	for (int64_t k = 0; k < frames; k++) {
		ck_assert_int_eq(frame_k(c, rate, k, &f, &t), VAGENT_OK);
		ck_assert_int_eq(vagent_audio_append_frame(a, &f), VAGENT_OK);
	}
	return a;
}

/* A view of a[from, from + n) (not owned: do not free its samples). */
static struct vagent_audio view(const struct vagent_audio *a, size_t from, size_t n)
{
	struct vagent_audio v = *a;

	ck_assert_uint_le(from + n, a->frames);
	v.samples = a->samples + from;
	v.frames = n;
	return v;
}

static struct vagent_audio *load(const char *rel)
{
	struct vagent_audio *a = NULL;
	struct vagent_error err;

	ck_assert_msg(vagent_audio_load(top_path(rel), VAGENT_CHANNELS_MIX, &a, &err) ==
		      VAGENT_OK, "%s", err.message);
	return a;
}

static struct vagent_audio *resample(const struct vagent_audio *a, int rate)
{
	struct vagent_audio *r = NULL;
	struct vagent_error err;

	ck_assert_msg(vagent_audio_resample(a, rate, -1, &r, &err) == VAGENT_OK, "%s",
		      err.message);
	return r;
}

/* A scripted caller saying `speech` at once, then silent long enough. */
static struct vagent_caller *sayer(const struct vagent_audio *speech)
{
	struct vagent_sim_caller_config cc = vagent_sim_caller_config_default();
	struct vagent_sim_step steps[2] = {
		{ .kind = VAGENT_STEP_SAY, .anchor = VAGENT_ANCHOR_START,
		  .text = "speech", .audio = speech },
		{ .kind = VAGENT_STEP_SILENCE, .anchor = VAGENT_ANCHOR_PREV_END,
		  .duration_ms = 600000 },
	};
	struct vagent_caller *c = NULL;
	struct vagent_error err;

	cc.rate = speech->rate;
	cc.steps = steps;
	cc.n_steps = 2;
	ck_assert_msg(vagent_sim_caller_new(&cc, &c, &err) == VAGENT_OK, "%s", err.message);
	return c;
}

/* The largest normalised cross-correlation of y against x over lags
 * 0..max_lag (y late), over x's first n samples; *lag gets the best. */
static double best_correlation(const struct vagent_audio *x, const struct vagent_audio *y,
			       size_t n, int max_lag, int *lag)
{
	double best = -2.0;

	for (int d = 0; d <= max_lag; d++) {
		double xy = 0, xx = 0, yy = 0;

		for (size_t i = 0; i < n && i + (size_t)d < y->frames; i++) {
			double a = x->samples[i], b = y->samples[i + (size_t)d];

			xy += a * b;
			xx += a * a;
			yy += b * b;
		}
		if (xx > 0 && yy > 0 && xy / sqrt(xx * yy) > best) {
			best = xy / sqrt(xx * yy);
			*lag = d;
		}
	}
	return best;
}

/* ---- tests ---- */

START_TEST(test_defaults_transparent)
{
	struct vagent_leg_config cfg = vagent_leg_config_default();
	struct tone_caller *ref = tone_new(8000), *in = tone_new(8000);
	struct vagent_caller *leg;
	struct vagent_leg_stats stats;

	ck_assert_int_eq(cfg.rate, 16000);
	ck_assert_int_eq(cfg.codec, VAGENT_ENC_PCM16);
	ck_assert_ptr_null(cfg.noise);
	ck_assert(cfg.loss == 0.0 && cfg.loss_burst == 1.0);
	ck_assert_int_eq(cfg.jitter_ms, 0);
	ck_assert_int_eq(cfg.jitter_buffer_ms, 60);

	leg = leg_new(&in->base, &cfg);
	for (int64_t k = 0; k < 50; k++) {
		struct vagent_frame a, b;
		struct vagent_speech_truth ta, tb;

		ck_assert_int_eq(frame_k(&ref->base, 16000, k, &a, &ta), VAGENT_OK);
		memset(&tb, 0x5a, sizeof(tb));
		ck_assert_int_eq(frame_k(leg, 16000, k, &b, &tb), VAGENT_OK);
		ck_assert_uint_eq(b.n, 320);
		ck_assert_int_eq(b.pts, k * 20 * MS);
		ck_assert_mem_eq(a.samples, b.samples, 320 * sizeof(int16_t));
		/* the truth passes through */
		ck_assert(tb.speaking);
		ck_assert_str_eq(tb.text, "tone");
		ck_assert_int_eq(tb.end, ta.end);
	}
	vagent_leg_caller_stats(leg, &stats);
	ck_assert_uint_eq(stats.packets, 50);
	ck_assert_uint_eq(stats.lost, 0);
	ck_assert_uint_eq(stats.late, 0);

	/* agent events reach the inner caller */
	leg->ops->agent_event(leg, VAGENT_AGENT_DONE, 1234 * MS);
	ck_assert_int_eq(in->events, 1);
	ck_assert_int_eq(in->last_ev, VAGENT_AGENT_DONE);
	ck_assert_int_eq(in->last_t, 1234 * MS);
	/* and so do trace events */
	{
		struct vagent_trace_event ev = { .type = VAGENT_TRACE_FILLER };

		leg->ops->trace_event(leg, &ev, 1500 * MS);
		ck_assert_int_eq(in->trace_events, 1);
		ck_assert_int_eq(in->last_type, VAGENT_TRACE_FILLER);
		ck_assert_int_eq(in->last_trace_t, 1500 * MS);
	}

	/* a frame the leg cannot packetise */
	{
		struct vagent_frame f;

		vagent_frame_init(&f, 16000, 1, 160, 0);
		ck_assert_int_eq(leg->ops->frame(leg, &f, NULL), VAGENT_EINVAL);
		vagent_frame_init_20ms(&f, 8000, 1, 0);
		ck_assert_int_eq(leg->ops->frame(leg, &f, NULL), VAGENT_EINVAL);
	}
	/* stats of something that is not a leg */
	vagent_leg_caller_stats(&ref->base, &stats);
	ck_assert_uint_eq(stats.packets, 0);
	vagent_caller_free(leg);
	vagent_caller_free(&ref->base);
}
END_TEST

/* The SNR measured on the output: the active level of the speech part
 * against the level of a noise-only stretch one noise loop long. */
static void check_snr(const char *speech_file, int rate, vagent_encoding codec,
		      double snr_db)
{
	struct vagent_audio *speech = load(speech_file);
	struct vagent_audio *noise16 = load("fixtures/noise/exercise_bike.wav");
	struct vagent_audio *noise = rate == noise16->rate ? vagent_audio_dup(noise16) :
				     resample(noise16, rate);
	struct vagent_leg_config cfg = vagent_leg_config_default();
	struct vagent_caller *leg;
	struct vagent_audio *out, sp, nz;
	size_t gap = (size_t)rate;          /* 1 s after the speech */
	int64_t frames;
	double measured;

	ck_assert_int_eq(speech->rate, rate);
	cfg.rate = rate;
	cfg.codec = codec;
	cfg.noise = noise;
	cfg.snr_db = snr_db;
	cfg.speech_dbfs = vagent_audio_active_level_dbfs(speech);
	ck_assert(cfg.speech_dbfs > -40 && cfg.speech_dbfs < -10);
	leg = leg_new(sayer(speech), &cfg);
	vagent_audio_free(noise);          /* the leg keeps a copy */
	noise = NULL;
	frames = (int64_t)((speech->frames + gap + noise16->frames * (size_t)rate /
			    (size_t)noise16->rate) / ((size_t)rate / 50) + 2);
	out = record(leg, rate, frames);
	sp = view(out, 0, speech->frames);
	nz = view(out, speech->frames + gap,
		  noise16->frames * (size_t)rate / (size_t)noise16->rate);
	measured = vagent_audio_active_level_dbfs(&sp) -
		   vagent_db_from_amplitude(vagent_audio_rms(&nz));
	ck_assert_msg(fabs(measured - snr_db) <= 1.0, "%s at %d Hz, %s: SNR %.2f dB, want %.1f",
		      speech_file, rate, vagent_encoding_name(codec), measured, snr_db);
	vagent_caller_free(leg);
	vagent_audio_free(out);
	vagent_audio_free(speech);
	vagent_audio_free(noise16);
}

START_TEST(test_snr)
{
	check_snr("fixtures/speech/librispeech/1089-134691-0001.flac", 16000,
		  VAGENT_ENC_PCM16, 20.0);
	check_snr("fixtures/speech/librispeech/1089-134691-0001.flac", 16000,
		  VAGENT_ENC_PCM16, 30.0);
	check_snr("fixtures/speech/asterisk/agent-alreadyon.wav", 8000,
		  VAGENT_ENC_ULAW, 20.0);
}
END_TEST

/* Opus at 16 kbit/s: the decoded speech follows the original closely
 * (after the codec's delay) at the same level; with lost packets, the
 * concealment fills them with sound, not silence. */
START_TEST(test_opus_round_trip)
{
	static const int rates[] = { 16000, 8000 };

	for (size_t r = 0; r < 2; r++) {
		int rate = rates[r];
		struct vagent_audio *src = load("fixtures/speech/librispeech/1089-134691-0000.flac");
		struct vagent_audio *speech = rate == 16000 ? src : resample(src, rate);
		struct vagent_leg_config cfg = vagent_leg_config_default();
		struct vagent_caller *leg;
		struct vagent_audio *out;
		struct vagent_leg_stats stats;
		size_t n = speech->frames;
		int64_t frames = (int64_t)(n / ((size_t)rate / 50)) + 10;
		double corr, level_in, level_out;
		int lag = -1;

		cfg.rate = rate;
		cfg.codec = VAGENT_ENC_OPUS;
		leg = leg_new(sayer(speech), &cfg);
		out = record(leg, rate, frames);
		corr = best_correlation(speech, out, n, rate / 50, &lag);
		level_in = vagent_audio_active_level_dbfs(speech);
		level_out = vagent_audio_active_level_dbfs(out);
		ck_assert_msg(corr > 0.9, "%d Hz: correlation %.3f at lag %d", rate, corr, lag);
		ck_assert_msg(lag > 0 && lag < rate / 100, "%d Hz: lag %d", rate, lag);
		ck_assert_msg(fabs(level_in - level_out) < 1.5, "%d Hz: level %.2f -> %.2f dBFS",
			      rate, level_in, level_out);
		vagent_caller_free(leg);
		vagent_audio_free(out);

		/* 10% loss in bursts of 2: each lost packet is concealed, the
		 * speech still follows the original */
		cfg.loss = 0.1;
		cfg.loss_burst = 2;
		cfg.seed = 3;
		leg = leg_new(sayer(speech), &cfg);
		{
			struct vagent_frame f;
			struct vagent_speech_truth t;
			size_t checked = 0, before = 0;
			double prev_rms = 0;
			bool prev_lost = false;

			out = vagent_audio_new(rate, 1, 0);
			for (int64_t k = 0; k < frames; k++) {
				double e = 0, rms;
				bool lost;

				ck_assert_int_eq(frame_k(leg, rate, k, &f, &t), VAGENT_OK);
				ck_assert_int_eq(vagent_audio_append_frame(out, &f), VAGENT_OK);
				vagent_leg_caller_stats(leg, &stats);
				lost = stats.lost > before;
				before = stats.lost;
				for (size_t j = 0; j < f.n; j++)
					e += (double)f.samples[j] * f.samples[j];
				rms = sqrt(e / (double)f.n);
				/* a packet lost in loud speech: Opus conceals it
				 * with sound that fades, not with silence */
				if (lost && !prev_lost && prev_rms > 200) {
					ck_assert_msg(rms > 0.2 * prev_rms,
						      "%d Hz: packet %d concealed at %.0f after %.0f",
						      rate, (int)k, rms, prev_rms);
					checked++;
				}
				prev_rms = rms;
				prev_lost = lost;
			}
			ck_assert_uint_ge(checked, 2);
		}
		corr = best_correlation(speech, out, n, rate / 50, &lag);
		ck_assert_msg(corr > 0.8, "%d Hz with loss: correlation %.3f", rate, corr);
		vagent_caller_free(leg);
		vagent_audio_free(out);
		if (speech != src)
			vagent_audio_free(speech);
		vagent_audio_free(src);
	}
}
END_TEST

/* G.711 and PCM conceal a lost packet by repeating the last good one:
 * unchanged for 10 ms, then fading linearly to silence at 60 ms. */
START_TEST(test_repetition_plc)
{
	static const vagent_encoding codecs[] = { VAGENT_ENC_ALAW, VAGENT_ENC_PCM16 };
	enum { N = 1000 };

	for (size_t c = 0; c < 2; c++) {
		struct vagent_leg_config cfg = vagent_leg_config_default();
		struct vagent_caller *leg;
		static struct vagent_frame f[N];
		bool lost[N];
		struct vagent_leg_stats stats;
		size_t before = 0;
		int bursts = 0;

		cfg.rate = 8000;
		cfg.codec = codecs[c];
		cfg.loss = 0.2;
		cfg.loss_burst = 4;
		cfg.seed = 11;
		leg = leg_new(&tone_new(10000)->base, &cfg);
		for (int k = 0; k < N; k++) {
			ck_assert_int_eq(frame_k(leg, 8000, k, &f[k], NULL), VAGENT_OK);
			vagent_leg_caller_stats(leg, &stats);
			lost[k] = stats.lost > before;
			before = stats.lost;
		}
		for (int k = 1; k < N; k++) {
			const int16_t *good = f[k - 1].samples;

			if (!lost[k] || lost[k - 1])
				continue;
			bursts++;
			/* packet 1 of the burst: [0, 10 ms) the good packet as it
			 * was, then 1.0 down to 0.8 */
			for (size_t j = 0; j < 80; j++)
				ck_assert_int_eq(f[k].samples[j], good[j]);
			ck_assert_int_eq(f[k].samples[120], (int16_t)lrint(good[120] * 0.9));
			/* packet 2: 0.8 down to 0.4; packet 3: 0.4 to 0; then silence */
			if (k + 1 < N && lost[k + 1])
				ck_assert_int_eq(f[k + 1].samples[80], (int16_t)lrint(good[80] * 0.6));
			if (k + 2 < N && lost[k + 1] && lost[k + 2])
				ck_assert_int_eq(f[k + 2].samples[80], (int16_t)lrint(good[80] * 0.2));
			if (k + 3 < N && lost[k + 1] && lost[k + 2] && lost[k + 3])
				for (size_t j = 0; j < 160; j++)
					ck_assert_int_eq(f[k + 3].samples[j], 0);
		}
		ck_assert_int_gt(bursts, 10);
		vagent_caller_free(leg);
	}
}
END_TEST

/* Over a long run the Gilbert model gives the configured loss rate and
 * mean burst length. */
static void check_loss(double loss, double burst, uint64_t seed)
{
	struct vagent_leg_config cfg = vagent_leg_config_default();
	struct vagent_caller *leg;
	struct vagent_leg_stats stats;
	struct vagent_frame f;
	size_t before = 0, bursts = 0, lost_packets = 0, packets = 100000;
	bool in_burst = false;

	cfg.rate = 8000;
	cfg.loss = loss;
	cfg.loss_burst = burst;
	cfg.seed = seed;
	leg = leg_new(&tone_new(1000)->base, &cfg);
	for (size_t k = 0; k < packets; k++) {
		bool lost;

		ck_assert_int_eq(frame_k(leg, 8000, (int64_t)k, &f, NULL), VAGENT_OK);
		vagent_leg_caller_stats(leg, &stats);
		lost = stats.lost > before;
		before = stats.lost;
		if (lost && !in_burst)
			bursts++;
		lost_packets += lost;
		in_burst = lost;
	}
	ck_assert_uint_eq(stats.packets, packets);
	ck_assert_uint_eq(stats.lost, lost_packets);
	ck_assert_uint_eq(stats.late, 0);
	ck_assert_msg(fabs((double)lost_packets / (double)packets - loss) < 0.01,
		      "loss %.4f, want %.3f", (double)lost_packets / (double)packets, loss);
	ck_assert_msg(fabs((double)lost_packets / (double)bursts - burst) < 0.15 * burst,
		      "mean burst %.3f, want %.2f", (double)lost_packets / (double)bursts, burst);
	vagent_caller_free(leg);
}

START_TEST(test_loss_model)
{
	check_loss(0.05, 1.0, 1);
	check_loss(0.1, 3.0, 2);
	check_loss(0.3, 5.0, 3);
}
END_TEST

/* Packets delayed past the jitter buffer are late, and lost. */
START_TEST(test_jitter)
{
	struct vagent_leg_config cfg = vagent_leg_config_default();
	struct vagent_caller *leg;
	struct vagent_leg_stats stats;
	struct vagent_frame f;
	size_t packets = 20000;
	double late;

	cfg.rate = 8000;
	cfg.jitter_ms = 100;
	cfg.jitter_buffer_ms = 60;
	leg = leg_new(&tone_new(1000)->base, &cfg);
	for (size_t k = 0; k < packets; k++)
		ck_assert_int_eq(frame_k(leg, 8000, (int64_t)k, &f, NULL), VAGENT_OK);
	vagent_leg_caller_stats(leg, &stats);
	late = (double)stats.late / (double)packets;
	/* uniform 0..100 ms, late when over 60: 40 of 101 values */
	ck_assert_msg(fabs(late - 40.0 / 101.0) < 0.02, "late %.4f", late);
	ck_assert_uint_eq(stats.lost, stats.late);
	vagent_caller_free(leg);

	/* a buffer as deep as the jitter: nothing is late */
	cfg.jitter_buffer_ms = 100;
	leg = leg_new(&tone_new(1000)->base, &cfg);
	for (size_t k = 0; k < 2000; k++)
		ck_assert_int_eq(frame_k(leg, 8000, (int64_t)k, &f, NULL), VAGENT_OK);
	vagent_leg_caller_stats(leg, &stats);
	ck_assert_uint_eq(stats.late, 0);
	ck_assert_uint_eq(stats.lost, 0);
	vagent_caller_free(leg);
}
END_TEST

/* The same seed gives the same audio; another seed other audio. */
START_TEST(test_determinism)
{
	struct vagent_audio *noise = load("fixtures/noise/doing_the_dishes.wav");
	struct vagent_leg_config cfg = vagent_leg_config_default();
	struct vagent_audio *a, *b, *c;
	struct vagent_caller *leg;

	cfg.codec = VAGENT_ENC_OPUS;
	cfg.noise = noise;
	cfg.snr_db = 15;
	cfg.loss = 0.1;
	cfg.loss_burst = 2;
	cfg.jitter_ms = 80;
	cfg.seed = 42;
	leg = leg_new(&tone_new(6000)->base, &cfg);
	a = record(leg, 16000, 300);
	vagent_caller_free(leg);
	leg = leg_new(&tone_new(6000)->base, &cfg);
	b = record(leg, 16000, 300);
	vagent_caller_free(leg);
	cfg.seed = 43;
	leg = leg_new(&tone_new(6000)->base, &cfg);
	c = record(leg, 16000, 300);
	vagent_caller_free(leg);
	ck_assert_uint_eq(a->frames, b->frames);
	ck_assert_mem_eq(a->samples, b->samples, a->frames * sizeof(float));
	ck_assert(memcmp(a->samples, c->samples, a->frames * sizeof(float)) != 0);
	vagent_audio_free(a);
	vagent_audio_free(b);
	vagent_audio_free(c);
	vagent_audio_free(noise);
}
END_TEST

static void expect_error(struct vagent_leg_config *cfg, const char *msg)
{
	struct vagent_caller *leg = (struct vagent_caller *)&leg;
	struct vagent_error err;

	/* the inner caller is freed on error too (the leak check sees it) */
	ck_assert_int_eq(vagent_leg_caller_new(&tone_new(1)->base, cfg, &leg, &err),
			 VAGENT_EINVAL);
	ck_assert_ptr_null(leg);
	ck_assert_str_eq(err.message, msg);
}

START_TEST(test_validation)
{
	struct vagent_leg_config cfg;
	struct vagent_audio *stereo = vagent_audio_new(8000, 2, 100);
	struct vagent_audio *quiet = vagent_audio_new(8000, 1, 100);
	struct vagent_caller *leg = NULL;
	struct vagent_error err;

#define RESET() (cfg = vagent_leg_config_default(), cfg.rate = 8000)
	RESET();
	cfg.rate = 44100;
	expect_error(&cfg, "leg: rate: 44100 Hz is not supported (8000 or 16000)");
	RESET();
	cfg.codec = VAGENT_ENC_FLOAT;
	expect_error(&cfg, "leg: codec: float is not a telephone codec (pcm16, ulaw, alaw or opus)");
	RESET();
	cfg.rate = 16000;
	cfg.codec = VAGENT_ENC_ALAW;
	expect_error(&cfg, "leg: codec: alaw needs a rate of 8000 Hz (got 16000)");
	RESET();
	cfg.codec = VAGENT_ENC_OPUS;
	cfg.opus_bitrate = 100;
	expect_error(&cfg, "leg: opus_bitrate: 100 is out of range (6000..510000 bits/s)");
	RESET();
	cfg.noise = stereo;
	expect_error(&cfg, "leg: noise: must be mono at 8000 Hz (got 2 channels at 8000 Hz)");
	RESET();
	cfg.noise = quiet;
	expect_error(&cfg, "leg: noise: is silent");
	RESET();
	cfg.loss = 1.5;
	expect_error(&cfg, "leg: loss: 1.5 is out of range (0..1)");
	RESET();
	cfg.loss = NAN;
	expect_error(&cfg, "leg: loss: nan is out of range (0..1)");
	RESET();
	cfg.loss_burst = 0.5;
	expect_error(&cfg, "leg: loss_burst: 0.5 packets is below 1");
	RESET();
	cfg.loss = 0.6;
	expect_error(&cfg, "leg: loss: 0.6 cannot be reached with bursts of 1 packets "
		     "(loss_burst must be at least 1.50)");
	RESET();
	cfg.jitter_ms = -1;
	expect_error(&cfg, "leg: jitter_ms: -1 is out of range (0..10000)");
	RESET();
	cfg.jitter_buffer_ms = 20000;
	expect_error(&cfg, "leg: jitter_buffer_ms: 20000 is out of range (0..10000)");
	RESET();
	ck_assert_int_eq(vagent_leg_caller_new(NULL, &cfg, &leg, &err), VAGENT_EINVAL);
	ck_assert_str_eq(err.message, "leg: no caller to wrap");
	ck_assert_int_eq(vagent_leg_caller_new(&tone_new(1)->base, NULL, &leg, &err),
			 VAGENT_EINVAL);
	ck_assert_str_eq(err.message, "leg: no configuration");
#undef RESET
	/* every packet lost: the valid extreme, all silence */
	cfg = vagent_leg_config_default();
	cfg.loss = 1.0;
	leg = leg_new(&tone_new(1000)->base, &cfg);
	{
		struct vagent_frame f;
		struct vagent_leg_stats stats;

		for (int k = 0; k < 10; k++) {
			ck_assert_int_eq(frame_k(leg, 16000, k, &f, NULL), VAGENT_OK);
			for (size_t j = 0; j < f.n; j++)
				ck_assert_int_eq(f.samples[j], 0);
		}
		vagent_leg_caller_stats(leg, &stats);
		ck_assert_uint_eq(stats.lost, 10);
	}
	vagent_caller_free(leg);
	vagent_audio_free(stereo);
	vagent_audio_free(quiet);
}
END_TEST

/* The active level is the level while active: pauses do not lower it,
 * low noise under them does not either; silence is -100. */
START_TEST(test_active_level)
{
	struct vagent_audio *a = vagent_audio_new(16000, 1, 32000);
	double amp = 0.25, want = 20.0 * log10(amp / sqrt(2.0));

	ck_assert_ptr_nonnull(a);
	ck_assert(vagent_audio_active_level_dbfs(a) == -100.0);
	ck_assert(vagent_audio_active_level_dbfs(NULL) == -100.0);
	for (size_t i = 0; i < 16000; i++)
		a->samples[i] = (float)(amp * sin(2.0 * M_PI * 300.0 * (double)i / 16000.0));
	/* one second of tone, one of silence: RMS is 3 dB lower, the
	 * active level is the tone's */
	ck_assert_double_eq_tol(vagent_audio_active_level_dbfs(a), want, 0.05);
	ck_assert_double_eq_tol(vagent_db_from_amplitude(vagent_audio_rms(a)), want - 3.01, 0.05);
	/* noise 30 dB down in the pause stays out of it */
	for (size_t i = 16000; i < 32000; i++)
		a->samples[i] = (float)(amp * 0.0316 * ((i % 2) ? 1 : -1));
	ck_assert_double_eq_tol(vagent_audio_active_level_dbfs(a), want, 0.05);
	vagent_audio_free(a);
}
END_TEST

/* In a session: the leg passes the trace events on, so a script behind
 * it can wait for a tool; its audio is what the session hears. */
START_TEST(test_in_a_session)
{
	struct vagent_sim_rule rule = {
		.pattern = "order", .tool = "get_order", .reply = "It {result.status}.",
	};
	struct vagent_sim_tool tool = {
		.name = "get_order", .result = "{\"status\":\"shipped\"}",
		.latency = { 3000, 0 },
	};
	struct vagent_sim_step steps[3] = {
		{ .kind = VAGENT_STEP_SAY, .anchor = VAGENT_ANCHOR_START,
		  .offset_ms = 500, .text = "where is my order" },
		{ .kind = VAGENT_STEP_SAY, .anchor = VAGENT_ANCHOR_EVENT,
		  .offset_ms = 300, .text = "hello", .event = VAGENT_TRACE_TOOL_START,
		  .event_match = "get_order" },
		{ .kind = VAGENT_STEP_SILENCE, .anchor = VAGENT_ANCHOR_AGENT_DONE,
		  .duration_ms = 200 },
	};
	struct vagent_session_config sc = vagent_session_config_default();
	struct vagent_sim_stt_config stt_c = vagent_sim_stt_config_default();
	struct vagent_sim_llm_config llm_c = vagent_sim_llm_config_default();
	struct vagent_sim_tts_config tts_c = vagent_sim_tts_config_default();
	struct vagent_sim_tools_config tools_c = { .tools = &tool, .n_tools = 1 };
	struct vagent_sim_caller_config cc = vagent_sim_caller_config_default();
	struct vagent_leg_config lc = vagent_leg_config_default();
	struct vagent_stt *stt = NULL;
	struct vagent_brain *llm = NULL;
	struct vagent_tts *tts = NULL;
	struct vagent_tools *tools = NULL;
	struct vagent_caller *caller = NULL, *leg;
	struct vagent_session *s = NULL;
	struct vagent_trace *trace = NULL;
	struct vagent_leg_stats stats;
	const struct vagent_trace_event *ts = NULL, *sp = NULL;
	struct vagent_error err;
	const char *text;
	size_t len;
	int starts = 0;

	llm_c.rules = &rule;
	llm_c.n_rules = 1;
	cc.rate = 8000;
	cc.steps = steps;
	cc.n_steps = 3;
	cc.hangup_after_ms = 1000;
	ck_assert_int_eq(vagent_sim_stt_new(&stt_c, &stt, &err), VAGENT_OK);
	ck_assert_int_eq(vagent_sim_llm_new(&llm_c, &llm, &err), VAGENT_OK);
	ck_assert_int_eq(vagent_sim_tts_new(&tts_c, &tts, &err), VAGENT_OK);
	ck_assert_int_eq(vagent_sim_tools_new(&tools_c, &tools, &err), VAGENT_OK);
	ck_assert_int_eq(vagent_sim_caller_new(&cc, &caller, &err), VAGENT_OK);
	lc.rate = 8000;
	lc.codec = VAGENT_ENC_ULAW;
	lc.loss = 0.02;
	lc.seed = 5;
	leg = leg_new(caller, &lc);
	sc.name = "leg";
	sc.keep_trace = true;
	sc.agent.greet = false;
	sc.rate = 8000;
	sc.stt[0] = stt;
	sc.brain[0] = llm;
	sc.tts[0] = tts;
	sc.tools = tools;
	sc.caller = leg;
	ck_assert_msg(vagent_session_run(&sc, VAGENT_CLOCK_VIRTUAL, &s, &err) == VAGENT_OK,
		      "%s", err.message);
	text = vagent_session_trace(s, &len);
	ck_assert_int_eq(vagent_trace_parse(text, len, "leg", &trace, &err), VAGENT_OK);
	for (size_t i = 0; i < trace->n; i++) {
		const struct vagent_trace_event *e = &trace->events[i];

		if (e->type == VAGENT_TRACE_TOOL_START && !ts)
			ts = e;
		if (e->type == VAGENT_TRACE_CALLER_SPEECH_START && starts++ == 1)
			sp = e;
	}
	ck_assert_ptr_nonnull(ts);
	ck_assert_ptr_nonnull(sp);
	ck_assert_int_eq(sp->t_us, ts->t_us + 300000);
	vagent_leg_caller_stats(leg, &stats);
	ck_assert_uint_eq(stats.packets, (size_t)vagent_session_result(s)->frames_out - 1);
	ck_assert_uint_gt(stats.lost, 0);
	vagent_trace_free(trace);
	vagent_session_free(s);
	vagent_caller_free(leg);
	vagent_stt_free(stt);
	vagent_brain_free(llm);
	vagent_tts_free(tts);
	vagent_tools_free(tools);
}
END_TEST

/* What matters in the end: a recogniser still hears the words. A
 * LibriSpeech sentence at 8 kHz through Opus at 16 kbit/s with 10 % of
 * the packets lost in bursts of 2 (concealed): pocketsphinx's WER stays
 * low (0.06 measured; 0.12 on the clean audio). A codec or concealment
 * that garbles the audio fails it. */
START_TEST(test_opus_recognisable)
{
	const char *ref = "for a full hour he had paced up and down waiting but he could "
			  "wait no longer";
	struct vagent_audio *src = load("fixtures/speech/librispeech/1089-134691-0001.flac");
	struct vagent_audio *speech = resample(src, 8000);
	struct vagent_sphinx_config sc = vagent_sphinx_config_default();
	struct vagent_leg_config cfg = vagent_leg_config_default();
	struct vagent_leg_stats stats;
	struct vagent_wer_counts wc;
	struct vagent_caller *leg;
	struct vagent_audio *out;
	struct vagent_error err;
	char *text = NULL;

	cfg.rate = 8000;
	cfg.codec = VAGENT_ENC_OPUS;
	cfg.loss = 0.1;
	cfg.loss_burst = 2;
	leg = leg_new(sayer(speech), &cfg);
	out = record(leg, 8000, (int64_t)(speech->frames / 160) + 25);
	vagent_leg_caller_stats(leg, &stats);
	ck_assert_uint_gt(stats.lost, stats.packets / 20);
	sc.rate = 8000;
	ck_assert_msg(vagent_sphinx_transcribe(&sc, out, &text, NULL, &err) == VAGENT_OK,
		      "%s", err.message);
	ck_assert_int_eq(vagent_wer_align_text(ref, text, NULL, &wc, &err), VAGENT_OK);
	ck_assert_msg(vagent_wer_rate(&wc) <= 0.25, "WER %.3f: %s", vagent_wer_rate(&wc), text);
	free(text);
	vagent_audio_free(out);
	vagent_caller_free(leg);
	vagent_audio_free(speech);
	vagent_audio_free(src);
}
END_TEST

Suite *suite_leg(void);
Suite *suite_leg(void)
{
	Suite *s = suite_create("leg");
	TCase *tc = tcase_create("leg");

	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, test_defaults_transparent);
	tcase_add_test(tc, test_snr);
	tcase_add_test(tc, test_opus_round_trip);
	tcase_add_test(tc, test_repetition_plc);
	tcase_add_test(tc, test_loss_model);
	tcase_add_test(tc, test_jitter);
	tcase_add_test(tc, test_determinism);
	tcase_add_test(tc, test_validation);
	tcase_add_test(tc, test_active_level);
	tcase_add_test(tc, test_in_a_session);
	suite_add_tcase(s, tc);
	/* the embedded recogniser: slow under the sanitizers */
	tc = tcase_create("leg_sphinx");
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, test_opus_recognisable);
	suite_add_tcase(s, tc);
	return s;
}
