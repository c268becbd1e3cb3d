/*
 * check_audio_resample.c — the streaming resampler between 8, 16, 22.05,
 * 24 and 48 kHz: exact length, time alignment, stream == one-shot for any
 * chunking, no clicks at frame edges, 20 ms in → 20 ms out for frames.
 */
#include <check.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "vagent.h"
#include "support/harness.h"

static const int rates[] = { 8000, 16000, 22050, 24000, 48000 };
#define NPAIRS 20

static void pair(int i, int *in, int *out)
{
	int a = i / 4, b = i % 4;

	*in = rates[a];
	*out = rates[b >= a ? b + 1 : b];
}

static struct vagent_audio *sine(int rate, double hz, double amp, size_t n)
{
	struct vagent_audio *a = vagent_audio_new(rate, 1, n);

	ck_assert_ptr_nonnull(a);
	for (size_t i = 0; i < n; i++)
		a->samples[i] = (float)(amp * sin(2 * M_PI * hz * (double)i / rate));
	return a;
}

static struct vagent_resampler *make(int in, int out, bool compensate)
{
	struct vagent_resampler_config cfg = vagent_resampler_config_default();
	struct vagent_resampler *rs = NULL;
	struct vagent_error err;

	cfg.in_rate = in;
	cfg.out_rate = out;
	cfg.compensate_delay = compensate;
	ck_assert_int_eq(vagent_resampler_new(&cfg, &rs, &err), VAGENT_OK);
	return rs;
}

/* Deviation from the analytic sine at the output rate, as SNR, skipping
 * 20 ms at each end (where the tone starts and stops abruptly). */
static double snr_vs_sine(const struct vagent_audio *b, double hz, double amp)
{
	double s = 0, e = 0;
	size_t edge = (size_t)b->rate / 50;

	for (size_t i = edge; i + edge < b->frames; i++) {
		double ref = amp * sin(2 * M_PI * hz * (double)i / b->rate);
		s += ref * ref;
		e += ((double)b->samples[i] - ref) * ((double)b->samples[i] - ref);
	}
	return 10 * log10(s / e);
}

START_TEST(test_one_shot_length_and_alignment)
{
	int in, out;
	static const size_t lengths[] = { 0, 1, 7, 441, 12345 };

	pair(_i, &in, &out);
	for (size_t k = 0; k < sizeof(lengths) / sizeof(lengths[0]); k++) {
		struct vagent_audio *a = sine(in, 1000, 0.5, lengths[k]), *b = NULL;
		struct vagent_error err;
		size_t want = (size_t)(((uint64_t)lengths[k] * (uint64_t)out + (uint64_t)in / 2) /
				       (uint64_t)in);

		ck_assert_int_eq(vagent_audio_resample(a, out, -1, &b, &err), VAGENT_OK);
		ck_assert_int_eq(b->rate, out);
		ck_assert_msg(b->frames == want, "%d→%d, %zu in: %zu out, want %zu", in, out,
			      lengths[k], b->frames, want);
		vagent_audio_free(a);
		vagent_audio_free(b);
	}

	/* A whole number of periods (2 s of 1 kHz) comes out in phase with
	 * the analytic sine at the new rate: the filter delay is removed to
	 * within a tiny fraction of a sample, else the SNR would collapse
	 * (half a sample of 1 kHz at 8 kHz is ~ 8 dB). Measured: > 100 dB. */
	struct vagent_audio *a = sine(in, 1000, 0.5, (size_t)in * 2), *b = NULL;
	struct vagent_error err;
	ck_assert_int_eq(vagent_audio_resample(a, out, -1, &b, &err), VAGENT_OK);
	ck_assert_uint_eq(b->frames, (size_t)out * 2);
	double snr = snr_vs_sine(b, 1000, 0.5);
	ck_assert_msg(snr > 90, "%d→%d: SNR %.1f dB", in, out, snr);
	vagent_audio_free(a);
	vagent_audio_free(b);
}
END_TEST

/* Push `a` through a fresh streaming resampler in chunks drawn from
 * `sizes` (cycled), then flush. */
static struct vagent_audio *stream(const struct vagent_audio *a, int out,
				   const size_t *sizes, size_t nsizes)
{
	struct vagent_resampler *rs = make(a->rate, out, true);
	struct vagent_audio *b = vagent_audio_new(out, 1, 0);
	size_t off = 0, k = 0, n;
	float *buf = NULL;

	while (off < a->frames) {
		size_t c = sizes[k++ % nsizes];
		size_t cap;

		if (c > a->frames - off)
			c = a->frames - off;
		cap = vagent_resampler_max_output(rs, c);
		buf = realloc(buf, cap * sizeof(float));
		/* One frame too little room is refused up front. */
		ck_assert_int_eq(vagent_resampler_process(rs, a->samples + off, c, buf, cap - 1, &n),
				 VAGENT_EINVAL);
		ck_assert_uint_eq(n, 0);
		ck_assert_int_eq(vagent_resampler_process(rs, a->samples + off, c, buf, cap, &n),
				 VAGENT_OK);
		ck_assert_uint_le(n, cap);
		ck_assert_int_eq(vagent_audio_append(b, buf, n), VAGENT_OK);
		off += c;
	}
	n = vagent_resampler_max_output(rs, 0);
	buf = realloc(buf, n * sizeof(float));
	ck_assert_int_eq(vagent_resampler_flush(rs, buf, n, &n), VAGENT_OK);
	ck_assert_int_eq(vagent_audio_append(b, buf, n), VAGENT_OK);
	free(buf);
	vagent_resampler_free(rs);
	return b;
}

START_TEST(test_stream_matches_one_shot)
{
	int in, out;
	size_t n20;
	/* Odd chunk sizes, including single samples and chunks shorter than
	 * the filter. */
	static const size_t odd[] = { 1, 7, 331, 2, 1000, 13, 4096, 5 };
	struct vagent_audio *a, *one = NULL, *s20, *sodd;
	struct vagent_error err;
	float maxstep = 0, maxdiff = 0;

	pair(_i, &in, &out);
	n20 = vagent_frame_samples_for(in, 20);
	/* 1.5 s of a 440 Hz tone, ending mid-period. */
	a = sine(in, 440, 0.8, (size_t)in * 3 / 2 + 17);
	ck_assert_int_eq(vagent_audio_resample(a, out, -1, &one, &err), VAGENT_OK);
	s20 = stream(a, out, &n20, 1);
	sodd = stream(a, out, odd, sizeof(odd) / sizeof(odd[0]));
	ck_assert_uint_eq(s20->frames, one->frames);
	ck_assert_uint_eq(sodd->frames, one->frames);
	for (size_t i = 0; i < one->frames; i++) {
		float d1 = fabsf(s20->samples[i] - one->samples[i]);
		float d2 = fabsf(sodd->samples[i] - one->samples[i]);
		maxdiff = fmaxf(maxdiff, fmaxf(d1, d2));
	}
	/* Same filter state whatever the chunking: bit-identical here. */
	ck_assert_msg(maxdiff == 0.0f, "%d→%d: stream differs from one-shot by %g", in, out,
		      (double)maxdiff);

	/* No clicks: away from the very ends (where the tone starts and stops
	 * abruptly) no step between samples exceeds the sine's steepest
	 * slope 2π·f·A/rate, plus 1 %. */
	size_t edge = (size_t)out / 100;
	for (size_t i = edge + 1; i + edge < s20->frames; i++)
		maxstep = fmaxf(maxstep, fabsf(s20->samples[i] - s20->samples[i - 1]));
	ck_assert_msg((double)maxstep <= 2 * M_PI * 440 * 0.8 / out * 1.01,
		      "%d→%d: step %g > %g", in, out, (double)maxstep, 2 * M_PI * 440 * 0.8 / out);
	vagent_audio_free(a);
	vagent_audio_free(one);
	vagent_audio_free(s20);
	vagent_audio_free(sodd);
}
END_TEST

START_TEST(test_frames_twenty_ms_in_twenty_ms_out)
{
	int in, out;
	struct vagent_resampler *rs, *rc;
	struct vagent_frame f, g, h;
	int64_t next_pts = 0, next_pts_c = 0;
	size_t n_in = 0, n_out_c = 0;
	struct vagent_audio *a, *one = NULL, *got;
	struct vagent_error err;

	pair(_i, &in, &out);
	rs = make(in, out, false);  /* constant delay: fixed-size frames */
	rc = make(in, out, true);   /* compensated: pts-exact, short first frames */
	a = sine(in, 700, 0.5, (size_t)in);
	for (size_t i = 0; i < a->frames; i++)  /* the frames carry int16 */
		a->samples[i] = roundf(a->samples[i] * 32768) / 32768;
	got = vagent_audio_new(out, 1, 0);
	for (int k = 0; k < 50; k++) {
		ck_assert_int_eq(vagent_audio_get_frame(a, n_in, vagent_frame_samples_for(in, 20), &f),
				 VAGENT_OK);
		n_in += f.n;
		ck_assert_int_eq(vagent_resampler_process_frame(rs, &f, &g), VAGENT_OK);
		ck_assert_uint_eq(g.n, vagent_frame_samples_for(out, 20));
		ck_assert_int_eq(g.rate, out);
		ck_assert_int_eq(g.pts, next_pts);
		next_pts = vagent_frame_end(&g);

		ck_assert_int_eq(vagent_resampler_process_frame(rc, &f, &h), VAGENT_OK);
		ck_assert_int_eq(h.pts, next_pts_c);
		next_pts_c = vagent_frame_end(&h);
		n_out_c += h.n;
		ck_assert_int_eq(vagent_audio_append_frame(got, &h), VAGENT_OK);
	}
	/* The compensated stream lags by less than the filter delay ... */
	ck_assert_uint_le((size_t)out - n_out_c, (size_t)ceil(vagent_resampler_delay(rc)) + 1);
	ck_assert_double_gt(vagent_resampler_delay(rc), 0);
	/* ... and is the one-shot result rounded to int16. */
	ck_assert_int_eq(vagent_audio_resample(a, out, -1, &one, &err), VAGENT_OK);
	for (size_t i = 0; i < got->frames; i++)
		ck_assert_double_eq_tol((double)got->samples[i], (double)one->samples[i], 1.0 / 32768 + 1e-7);

	/* Frames of the wrong rate are refused. */
	vagent_frame_init_20ms(&f, in == 8000 ? 16000 : 8000, 1, 0);
	ck_assert_int_eq(vagent_resampler_process_frame(rs, &f, &g), VAGENT_EINVAL);
	vagent_resampler_free(rs);
	vagent_resampler_free(rc);
	vagent_audio_free(a);
	vagent_audio_free(one);
	vagent_audio_free(got);
}
END_TEST

START_TEST(test_speech_round_trip_and_stereo)
{
	struct vagent_audio *a = NULL, *up = NULL, *down = NULL, *st = NULL, *st2 = NULL;
	struct vagent_error err;
	double s = 0, e = 0;

	ck_assert_int_eq(vagent_audio_load(top_path("fixtures/speech/librispeech/1089-134686-0000.flac"),
					   VAGENT_CHANNELS_ALL, &a, &err), VAGENT_OK);
	/* 16 → 48 → 16 kHz keeps real speech: only the last few hundred Hz
	 * below 8 kHz are touched by the filters (measured 38 dB). */
	ck_assert_int_eq(vagent_audio_resample(a, 48000, -1, &up, &err), VAGENT_OK);
	ck_assert_int_eq(vagent_audio_resample(up, 16000, -1, &down, &err), VAGENT_OK);
	ck_assert_uint_eq(down->frames, a->frames);
	for (size_t i = 0; i < a->frames; i++) {
		double d = (double)down->samples[i] - (double)a->samples[i];
		s += (double)a->samples[i] * (double)a->samples[i];
		e += d * d;
	}
	ck_assert_msg(10 * log10(s / e) > 35, "speech round trip SNR %.1f dB", 10 * log10(s / e));

	/* Channels are resampled independently. */
	ck_assert_int_eq(vagent_audio_interleave(a, a, &st, &err), VAGENT_OK);
	for (size_t i = 0; i < st->frames; i++)
		st->samples[2 * i + 1] *= -1;
	ck_assert_int_eq(vagent_audio_resample(st, 8000, -1, &st2, &err), VAGENT_OK);
	ck_assert_int_eq(st2->channels, 2);
	for (size_t i = 0; i < st2->frames; i++)
		ck_assert(st2->samples[2 * i] == -st2->samples[2 * i + 1]);
	vagent_audio_free(a);
	vagent_audio_free(up);
	vagent_audio_free(down);
	vagent_audio_free(st);
	vagent_audio_free(st2);
}
END_TEST

START_TEST(test_bad_settings)
{
	struct vagent_resampler_config cfg = vagent_resampler_config_default();
	struct vagent_resampler *rs = NULL;
	struct vagent_error err;

	cfg.in_rate = 0;
	cfg.out_rate = 16000;
	ck_assert_int_eq(vagent_resampler_new(&cfg, &rs, &err), VAGENT_EINVAL);
	ck_assert_ptr_null(rs);
	ck_assert_ptr_nonnull(strstr(err.message, "resampler: unsupported settings"));
	cfg.in_rate = 8000;
	cfg.quality = 11;
	ck_assert_int_eq(vagent_resampler_new(&cfg, &rs, &err), VAGENT_EINVAL);
	cfg.quality = 3;
	cfg.channels = 0;
	ck_assert_int_eq(vagent_resampler_new(&cfg, &rs, &err), VAGENT_EINVAL);
	vagent_resampler_free(NULL);
}
END_TEST

Suite *suite_audio_resample(void);
Suite *suite_audio_resample(void)
{
	Suite *s = suite_create("audio_resample");
	TCase *tc = tcase_create("resample");

	tcase_set_timeout(tc, 30);
	tcase_add_loop_test(tc, test_one_shot_length_and_alignment, 0, NPAIRS);
	tcase_add_loop_test(tc, test_stream_matches_one_shot, 0, NPAIRS);
	tcase_add_loop_test(tc, test_frames_twenty_ms_in_twenty_ms_out, 0, NPAIRS);
	tcase_add_test(tc, test_speech_round_trip_and_stereo);
	tcase_add_test(tc, test_bad_settings);
	suite_add_tcase(s, tc);
	return s;
}
