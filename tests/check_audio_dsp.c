/*
 * check_audio_dsp.c — gain, mixing noise at a target SNR (real speech and
 * noise), and silence detection on synthetic and real recordings.
 */
#include <check.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "vagent.h"
#include "support/harness.h"

static struct vagent_audio *load(const char *rel, int rate)
{
	struct vagent_audio *a = NULL, *b = NULL;
	struct vagent_error err;

	ck_assert_msg(vagent_audio_load(top_path(rel), VAGENT_CHANNELS_MIX, &a, &err) == VAGENT_OK,
		      "%s", err.message);
	if (rate && a->rate != rate) {
		ck_assert_int_eq(vagent_audio_resample(a, rate, -1, &b, &err), VAGENT_OK);
		vagent_audio_free(a);
		a = b;
	}
	return a;
}

/* out − speech: the noise that was actually added. */
static struct vagent_audio *difference(const struct vagent_audio *mix,
				       const struct vagent_audio *speech)
{
	struct vagent_audio *d = vagent_audio_dup(mix);
	size_t n = mix->frames * (size_t)mix->channels;

	for (size_t i = 0; i < n; i++)
		d->samples[i] = (float)((double)mix->samples[i] - (double)speech->samples[i]);
	return d;
}

START_TEST(test_gain)
{
	struct vagent_audio *a = load("fixtures/speech/asterisk/demo-thanks.wav", 0);
	double before = vagent_audio_rms(a);
	float peak = vagent_audio_peak(a);

	vagent_audio_gain(a, -6.0);
	ck_assert_double_eq_tol(vagent_db_from_amplitude(vagent_audio_rms(a)) -
				vagent_db_from_amplitude(before), -6.0, 1e-4);
	ck_assert_double_eq_tol((double)vagent_audio_peak(a), (double)peak * 0.501187, 1e-6);
	vagent_audio_gain(a, 6.0);
	ck_assert_double_eq_tol(vagent_audio_rms(a), before, 1e-6);
	ck_assert(isinf(vagent_db_from_amplitude(0)) && vagent_db_from_amplitude(0) < 0);
	ck_assert_double_eq_tol(vagent_db_from_amplitude(0.5), -6.0206, 1e-4);
	vagent_audio_free(a);
}
END_TEST

START_TEST(test_mix_at_target_snr)
{
	/* Real 8 kHz telephone speech, real kitchen noise resampled to 8 kHz. */
	static const double targets[] = { -5, 0, 5, 10, 20, 40 };
	struct vagent_audio *speech = load("fixtures/speech/asterisk/vm-instructions.wav", 0);
	struct vagent_audio *noise = load("fixtures/noise/doing_the_dishes.wav", speech->rate);
	struct vagent_error err;

	ck_assert_uint_lt(speech->frames, noise->frames);  /* noise is trimmed */
	for (size_t k = 0; k < sizeof(targets) / sizeof(targets[0]); k++) {
		struct vagent_audio *mix = NULL, *added;
		ck_assert_int_eq(vagent_audio_mix_snr(speech, noise, targets[k], &mix, &err), VAGENT_OK);
		ck_assert_uint_eq(mix->frames, speech->frames);
		added = difference(mix, speech);
		ck_assert_msg(fabs(vagent_snr_db(speech, added) - targets[k]) < 0.1,
			      "target %g dB, measured %.3f dB", targets[k],
			      vagent_snr_db(speech, added));
		/* The added signal is the noise's first stretch, scaled. */
		double g = added->samples[1000] / noise->samples[1000];
		for (size_t i = 0; i < mix->frames; i += 97)
			ck_assert_double_eq_tol((double)added->samples[i], g * (double)noise->samples[i], 1e-6);
		vagent_audio_free(added);
		vagent_audio_free(mix);
	}
	vagent_audio_free(speech);
	vagent_audio_free(noise);
}
END_TEST

START_TEST(test_mix_loops_short_noise)
{
	/* A 0.43 s beep as "noise" under a longer prompt is looped. */
	struct vagent_audio *speech = load("fixtures/speech/asterisk/demo-thanks.wav", 0);
	struct vagent_audio *noise = load("fixtures/speech/asterisk/beep.wav", 0);
	struct vagent_audio *mix = NULL, *added, *st = NULL, *smix = NULL, *bad = NULL;
	struct vagent_error err;

	ck_assert_uint_gt(speech->frames, 2 * noise->frames);
	ck_assert_int_eq(vagent_audio_mix_snr(speech, noise, 3.0, &mix, &err), VAGENT_OK);
	added = difference(mix, speech);
	ck_assert_double_eq_tol(vagent_snr_db(speech, added), 3.0, 0.1);
	for (size_t i = 0; i + noise->frames < added->frames; i += 31)
		ck_assert_double_eq_tol((double)added->samples[i + noise->frames], (double)added->samples[i], 1e-6);

	/* Stereo speech takes mono noise on both channels. */
	ck_assert_int_eq(vagent_audio_interleave(speech, speech, &st, &err), VAGENT_OK);
	ck_assert_int_eq(vagent_audio_mix_snr(st, noise, 3.0, &smix, &err), VAGENT_OK);
	ck_assert_int_eq(smix->channels, 2);
	for (size_t i = 0; i < smix->frames; i++)
		ck_assert_double_eq_tol((double)smix->samples[2 * i], (double)mix->samples[i], 1e-6);

	/* Refusals. */
	noise->rate = 16000;
	ck_assert_int_eq(vagent_audio_mix_snr(speech, noise, 3.0, &bad, &err), VAGENT_EINVAL);
	ck_assert_str_eq(err.message, "noise is 16000 Hz but speech is 8000 Hz");
	noise->rate = 8000;
	memset(noise->samples, 0, noise->frames * sizeof(float));
	ck_assert_int_eq(vagent_audio_mix_snr(speech, noise, 3.0, &bad, &err), VAGENT_EINVAL);
	ck_assert_ptr_nonnull(strstr(err.message, "noise is digital silence"));
	ck_assert_int_eq(vagent_audio_mix_snr(speech, noise, NAN, &bad, &err), VAGENT_EINVAL);
	ck_assert_ptr_null(bad);
	vagent_audio_free(speech);
	vagent_audio_free(noise);
	vagent_audio_free(mix);
	vagent_audio_free(added);
	vagent_audio_free(smix);
	vagent_audio_free(st);
}
END_TEST

/* 8 kHz: `pattern` is a list of (ms, on) pieces; on = a -20 dBFS tone. */
static struct vagent_audio *pieces(const int *ms, const int *on, int n)
{
	struct vagent_audio *a = vagent_audio_new(8000, 1, 0);
	size_t t = 0;

	for (int k = 0; k < n; k++) {
		size_t len = (size_t)ms[k] * 8;
		float *buf = calloc(len, sizeof(float));
		for (size_t i = 0; on[k] && i < len; i++, t++)
			buf[i] = (float)(0.1 * M_SQRT2 * sin(2 * M_PI * 440 * (double)t / 8000));
		vagent_audio_append(a, buf, len);
		free(buf);
	}
	return a;
}

START_TEST(test_silence_synthetic)
{
	struct vagent_silence_result r;
	struct vagent_error err;
	struct vagent_audio *a;

	/* 500 ms silence, 1 s tone, 300 ms silence. */
	a = pieces((int[]){ 500, 1000, 300 }, (int[]){ 0, 1, 0 }, 3);
	ck_assert_int_eq(vagent_audio_detect_silence(a, NULL, &r, &err), VAGENT_OK);
	ck_assert(!r.silent);
	ck_assert_uint_eq(r.n_spans, 1);
	ck_assert_uint_eq(r.leading, 4000);
	ck_assert_uint_eq(r.trailing, 2400);
	ck_assert_uint_eq(r.spans[0].start, 4000);
	ck_assert_uint_eq(r.spans[0].end, 12000);
	vagent_silence_result_clear(&r);
	vagent_audio_free(a);

	/* A 100 ms pause joins, a 500 ms pause splits. */
	a = pieces((int[]){ 300, 100, 300, 500, 300 }, (int[]){ 1, 0, 1, 0, 1 }, 5);
	ck_assert_int_eq(vagent_audio_detect_silence(a, NULL, &r, &err), VAGENT_OK);
	ck_assert_uint_eq(r.n_spans, 2);
	ck_assert_uint_eq(r.spans[0].end, 5600);
	ck_assert_uint_eq(r.spans[1].start, 9600);
	ck_assert_uint_eq(r.leading, 0);
	ck_assert_uint_eq(r.trailing, 0);
	vagent_silence_result_clear(&r);
	vagent_audio_free(a);

	/* A 10 ms click in silence is not speech. */
	a = pieces((int[]){ 400, 10, 400 }, (int[]){ 0, 1, 0 }, 3);
	ck_assert_int_eq(vagent_audio_detect_silence(a, NULL, &r, &err), VAGENT_OK);
	ck_assert(r.silent);
	ck_assert_uint_eq(r.leading, a->frames);
	ck_assert_uint_eq(r.trailing, a->frames);
	ck_assert_ptr_null(r.spans);
	vagent_silence_result_clear(&r);
	vagent_audio_free(a);

	/* A tone below the threshold (-50 dBFS) is silence; above it is not. */
	a = pieces((int[]){ 1000 }, (int[]){ 1 }, 1);
	vagent_audio_gain(a, -30);
	ck_assert_int_eq(vagent_audio_detect_silence(a, NULL, &r, &err), VAGENT_OK);
	ck_assert(r.silent);
	vagent_silence_result_clear(&r);
	vagent_audio_gain(a, 10);
	ck_assert_int_eq(vagent_audio_detect_silence(a, NULL, &r, &err), VAGENT_OK);
	ck_assert(!r.silent);
	vagent_silence_result_clear(&r);
	vagent_audio_free(a);

	/* Empty input is silent; bad settings are refused. */
	a = vagent_audio_new(8000, 1, 0);
	ck_assert_int_eq(vagent_audio_detect_silence(a, NULL, &r, &err), VAGENT_OK);
	ck_assert(r.silent);
	ck_assert_uint_eq(r.leading, 0);
	struct vagent_silence_config c = vagent_silence_config_default();
	c.window_ms = 0;
	ck_assert_int_eq(vagent_audio_detect_silence(a, &c, &r, &err), VAGENT_EINVAL);
	vagent_audio_free(a);
	vagent_silence_result_clear(NULL);
}
END_TEST

START_TEST(test_silence_real_recordings)
{
	static const char *silent[] = {
		"fixtures/speech/asterisk/silence/1.wav",  /* near-digital silence, -90 dBFS peak */
		"fixtures/speech/asterisk/silence/2.wav",
		"fixtures/speech/asterisk/silence/5.wav",
	};
	static const char *speech[] = {
		"fixtures/speech/asterisk/demo-thanks.wav",
		"fixtures/speech/asterisk/vm-instructions.wav",
		"fixtures/speech/asterisk/digits/7.wav",
		"fixtures/speech/librispeech/1089-134686-0000.flac",
		"fixtures/speech/librispeech/1995-1837-0001.wav",
		"fixtures/speech/commercial-call/commercial_mono.wav",
	};
	struct vagent_silence_result r;
	struct vagent_error err;

	for (size_t i = 0; i < sizeof(silent) / sizeof(silent[0]); i++) {
		struct vagent_audio *a = load(silent[i], 0);
		ck_assert(vagent_audio_peak(a) > 0);  /* not digital zero ... */
		ck_assert_int_eq(vagent_audio_detect_silence(a, NULL, &r, &err), VAGENT_OK);
		ck_assert_msg(r.silent, "%s: %zu speech regions", silent[i], r.n_spans);
		vagent_silence_result_clear(&r);
		vagent_audio_free(a);
	}
	for (size_t i = 0; i < sizeof(speech) / sizeof(speech[0]); i++) {
		struct vagent_audio *a = load(speech[i], 0);
		size_t voiced = 0;
		ck_assert_int_eq(vagent_audio_detect_silence(a, NULL, &r, &err), VAGENT_OK);
		ck_assert_msg(!r.silent, "%s detected as silent", speech[i]);
		ck_assert_uint_ge(r.n_spans, 1);
		for (size_t k = 0; k < r.n_spans; k++) {
			ck_assert_uint_lt(r.spans[k].start, r.spans[k].end);
			if (k)
				ck_assert_uint_gt(r.spans[k].start, r.spans[k - 1].end);
			voiced += r.spans[k].end - r.spans[k].start;
		}
		ck_assert_uint_eq(r.leading, r.spans[0].start);
		ck_assert_uint_eq(r.trailing, a->frames - r.spans[r.n_spans - 1].end);
		/* Recordings are largely speech (prompts > 70 %, the two-party
		 * call 45 %), with short lead-in. */
		ck_assert_msg(voiced > a->frames * 2 / 5, "%s: %zu of %zu frames voiced", speech[i],
			      voiced, a->frames);
		/* Short lead-in (the call: 2.33 s of line noise before anyone
		 * speaks, -69 dBFS RMS by `sox stats`), and that lead-in really
		 * is quiet: below -45 dBFS as a whole. */
		ck_assert_msg(r.leading < (size_t)a->rate * 3, "%s: %zu frames of leading silence",
			      speech[i], r.leading);
		double lead = 0;
		for (size_t k = 0; k < r.leading; k++)
			lead += (double)a->samples[k] * (double)a->samples[k];
		if (r.leading)
			ck_assert_double_lt(10 * log10(lead / (double)r.leading), -45);
		vagent_silence_result_clear(&r);
		vagent_audio_free(a);
	}
}
END_TEST

Suite *suite_audio_dsp(void);
Suite *suite_audio_dsp(void)
{
	Suite *s = suite_create("audio_dsp");
	TCase *tc = tcase_create("dsp");

	tcase_set_timeout(tc, 30);
	tcase_add_test(tc, test_gain);
	tcase_add_test(tc, test_mix_at_target_snr);
	tcase_add_test(tc, test_mix_loops_short_noise);
	tcase_add_test(tc, test_silence_synthetic);
	tcase_add_test(tc, test_silence_real_recordings);
	suite_add_tcase(s, tc);
	return s;
}
