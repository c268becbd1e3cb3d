/*
 * check_audio_cli.c — `vagent audio info|convert|mix` end to end: levels
 * agree with sox, conversions and mixes are what the library promises,
 * every bad input is one stderr line and exit 2, write failures exit 3.
 */
#include <check.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "vagent.h"
#include "support/harness.h"

static struct vagent_audio *load(const char *path)
{
	struct vagent_audio *a = NULL;
	struct vagent_error err;

	ck_assert_msg(vagent_audio_load(path, VAGENT_CHANNELS_ALL, &a, &err) == VAGENT_OK, "%s",
		      err.message);
	return a;
}

/* "Pk lev dB" / "RMS lev dB" from `sox FILE -n stats`. */
static double sox_stat(const char *file, const char *key)
{
	char a0[] = "sox", a2[] = "-n", a3[] = "stats", f[4096];
	char *argv[] = { a0, f, a2, a3, NULL };
	struct run_result r;
	const char *p;
	double v;

	snprintf(f, sizeof(f), "%s", file);
	r = run_argv(argv, NULL);
	p = strstr(r.err, key);
	ck_assert_msg(r.exit_code == 0 && p, "sox stats: %s", r.err);
	v = strtod(p + strlen(key), NULL);
	run_result_free(&r);
	return v;
}

START_TEST(test_help)
{
	static const char *subs[] = { "info", "convert", "mix" };
	struct run_result r = run_vagent("audio", "--help", NULL);
	char want[64];

	ck_assert_int_eq(r.exit_code, 0);
	ck_assert_ptr_nonnull(strstr(r.out, "usage: vagent audio"));
	for (size_t i = 0; i < 3; i++)
		ck_assert_ptr_nonnull(strstr(r.out, subs[i]));
	run_result_free(&r);
	for (size_t i = 0; i < 3; i++) {
		r = run_vagent("audio", subs[i], "--help", NULL);
		snprintf(want, sizeof(want), "usage: vagent audio %s", subs[i]);
		ck_assert_int_eq(r.exit_code, 0);
		ck_assert_ptr_nonnull(strstr(r.out, want));
		run_result_free(&r);
	}
	r = run_vagent("audio", NULL);
	ck_assert_int_eq(r.exit_code, 2);
	ck_assert_int_eq(count_lines(r.err), 1);
	run_result_free(&r);
	r = run_vagent("audio", "play", "x.wav", NULL);
	ck_assert_int_eq(r.exit_code, 2);
	ck_assert_int_eq(count_lines(r.err), 1);
	ck_assert_ptr_nonnull(strstr(r.err, "'play' is not an audio command"));
	run_result_free(&r);
}
END_TEST

START_TEST(test_info_levels_match_sox)
{
	static const char *files[] = {
		"fixtures/speech/asterisk/beep.wav",
		"fixtures/speech/asterisk/demo-thanks.wav",
		"fixtures/speech/librispeech/1089-134686-0000.flac",
	};

	for (size_t i = 0; i < sizeof(files) / sizeof(files[0]); i++) {
		const char *p = top_path(files[i]);
		struct run_result r = run_vagent("audio", "info", "--json", "-", p, NULL);
		cJSON *arr, *o;

		ck_assert_int_eq(r.exit_code, 0);
		ck_assert_str_eq(r.err, "");
		arr = cJSON_Parse(r.out);
		ck_assert_ptr_nonnull(arr);
		ck_assert_int_eq(cJSON_GetArraySize(arr), 1);
		o = cJSON_GetArrayItem(arr, 0);
		ck_assert_str_eq(cJSON_GetObjectItem(o, "file")->valuestring, p);
		ck_assert_double_eq_tol(cJSON_GetObjectItem(o, "peak_dbfs")->valuedouble,
					sox_stat(p, "Pk lev dB"), 0.02);
		ck_assert_double_eq_tol(cJSON_GetObjectItem(o, "rms_dbfs")->valuedouble,
					sox_stat(p, "RMS lev dB"), 0.02);
		ck_assert(cJSON_IsFalse(cJSON_GetObjectItem(o, "silent")));
		ck_assert_int_ge(cJSON_GetArraySize(cJSON_GetObjectItem(o, "speech_regions")), 1);
		cJSON_Delete(arr);
		run_result_free(&r);
	}
}
END_TEST

START_TEST(test_info_text_and_silence)
{
	const char *sil = top_path("fixtures/speech/asterisk/silence/1.wav");
	const char *flac = top_path("fixtures/speech/librispeech/1089-134686-0000.flac");
	struct run_result r = run_vagent("audio", "info", sil, flac, NULL);

	ck_assert_int_eq(r.exit_code, 0);
	ck_assert_ptr_nonnull(strstr(r.out, "  rate:      8000 Hz\n"));
	ck_assert_ptr_nonnull(strstr(r.out, "  duration:  1.000 s (8000 samples per channel)\n"));
	ck_assert_ptr_nonnull(strstr(r.out, "  silent:    yes\n"));
	ck_assert_ptr_nonnull(strstr(r.out, "  silence:   leading 1.000 s, trailing 1.000 s\n"));
	ck_assert_ptr_nonnull(strstr(r.out, "  format:    FLAC (Free Lossless Audio Codec), pcm16\n"));
	ck_assert_ptr_nonnull(strstr(r.out, "  silent:    no\n"));
	run_result_free(&r);
}
END_TEST

START_TEST(test_bad_inputs_one_line_exit_2)
{
	static const char *files[] = {
		"missing.wav", "zero-length.wav", "truncated-header.wav", "no-data-chunk.wav",
		"short-fmt.wav", "zero-rate.wav", "zero-channels.wav", "zero-bits.wav",
		"g723-adpcm.wav", "not-audio.wav", "riff-not-wave.wav",
	};
	struct vagent_error err;
	char rel[256], want[4096];

	for (size_t i = 0; i < sizeof(files) / sizeof(files[0]); i++) {
		struct vagent_audio *a = NULL;
		const char *p;
		struct run_result r;

		snprintf(rel, sizeof(rel), "fixtures/audio/bad/%s", files[i]);
		p = top_path(rel);
		ck_assert_int_ne(vagent_audio_load(p, VAGENT_CHANNELS_ALL, &a, &err), VAGENT_OK);
		snprintf(want, sizeof(want), "vagent: %s\n", err.message);
		/* info, convert and mix all report it the same way. */
		r = run_vagent("audio", "info", p, NULL);
		ck_assert_msg(r.exit_code == 2, "%s: exit %d", files[i], r.exit_code);
		ck_assert_str_eq(r.err, want);
		ck_assert_str_eq(r.out, "");
		run_result_free(&r);
		r = run_vagent("audio", "convert", p, temp_path("out.wav"), NULL);
		ck_assert_int_eq(r.exit_code, 2);
		ck_assert_str_eq(r.err, want);
		run_result_free(&r);
		r = run_vagent("audio", "mix", "--snr", "5", "-o", temp_path("out.wav"),
			       top_path("fixtures/speech/asterisk/beep.wav"), p, NULL);
		ck_assert_int_eq(r.exit_code, 2);
		ck_assert_str_eq(r.err, want);
		run_result_free(&r);
	}
	/* --json records the error per file and still exits 2. */
	struct run_result r = run_vagent("audio", "info", "--json", "-",
					 top_path("fixtures/audio/bad/zero-rate.wav"),
					 top_path("fixtures/speech/asterisk/beep.wav"), NULL);
	cJSON *arr = cJSON_Parse(r.out);
	ck_assert_int_eq(r.exit_code, 2);
	ck_assert_int_eq(count_lines(r.err), 1);
	ck_assert_ptr_nonnull(arr);
	ck_assert_int_eq(cJSON_GetArraySize(arr), 2);
	ck_assert_str_eq(cJSON_GetObjectItem(cJSON_GetArrayItem(arr, 0), "status")->valuestring,
			 "EFORMAT");
	ck_assert_ptr_nonnull(strstr(cJSON_GetObjectItem(cJSON_GetArrayItem(arr, 0), "error")->valuestring,
				     "sample rate is 0 Hz"));
	ck_assert_int_eq(cJSON_GetObjectItem(cJSON_GetArrayItem(arr, 1), "rate")->valueint, 8000);
	cJSON_Delete(arr);
	run_result_free(&r);

	/* A lying data size: the audio that exists, a one-line warning, exit 0. */
	r = run_vagent("audio", "info", top_path("fixtures/audio/bad/lying-data-size.wav"), NULL);
	ck_assert_int_eq(r.exit_code, 0);
	ck_assert_int_eq(count_lines(r.err), 1);
	ck_assert_ptr_nonnull(strstr(r.err, "vagent: warning: "));
	ck_assert_ptr_nonnull(strstr(r.err, "read the 4 frames present"));
	run_result_free(&r);
}
END_TEST

START_TEST(test_convert)
{
	const char *flac = top_path("fixtures/speech/librispeech/1089-134686-0000.flac");
	const char *out = temp_path("phone.wav");
	struct vagent_audio *in = load(flac), *a;
	struct run_result r = run_vagent("audio", "convert", "--rate", "8000", "--encoding", "ulaw",
					 flac, out, NULL);

	ck_assert_msg(r.exit_code == 0, "%s", r.err);
	ck_assert_str_eq(r.err, "");
	run_result_free(&r);
	a = load(out);
	ck_assert_int_eq(a->rate, 8000);
	ck_assert_int_eq(a->encoding, VAGENT_ENC_ULAW);
	ck_assert_uint_eq(a->frames, (in->frames + 1) / 2);
	vagent_audio_free(a);

	/* 22.05 kHz FLAC, then back to a 16 kHz float WAV. */
	out = temp_path("x.flac");
	r = run_vagent("audio", "convert", "--rate", "22050", flac, out, NULL);
	ck_assert_int_eq(r.exit_code, 0);
	run_result_free(&r);
	a = load(out);
	ck_assert_int_eq(a->container, VAGENT_CONTAINER_FLAC);
	ck_assert_uint_eq(a->frames, (size_t)llround(in->frames * 22050.0 / 16000));
	vagent_audio_free(a);

	/* Stereo in, right channel out. */
	struct vagent_audio *beep = load(top_path("fixtures/speech/asterisk/beep.wav")), *st = NULL;
	struct vagent_error err;
	ck_assert_int_eq(vagent_audio_interleave(beep, beep, &st, &err), VAGENT_OK);
	for (size_t i = 0; i < st->frames; i++)
		st->samples[2 * i] = 0;
	ck_assert_int_eq(vagent_audio_save(st, temp_path("st.wav"), NULL, &err), VAGENT_OK);
	r = run_vagent("audio", "convert", "--channel", "right", temp_path("st.wav"),
		       temp_path("right.wav"), NULL);
	ck_assert_int_eq(r.exit_code, 0);
	run_result_free(&r);
	a = load(temp_path("right.wav"));
	ck_assert_int_eq(a->channels, 1);
	ck_assert_int_eq(memcmp(a->samples, beep->samples, beep->frames * sizeof(float)), 0);
	vagent_audio_free(a);
	vagent_audio_free(st);

	/* Right channel of a mono file: bad input. */
	r = run_vagent("audio", "convert", "--channel", "right", flac, temp_path("r.wav"), NULL);
	ck_assert_int_eq(r.exit_code, 2);
	ck_assert_int_eq(count_lines(r.err), 1);
	ck_assert_ptr_nonnull(strstr(r.err, "no right channel"));
	run_result_free(&r);
	/* Ogg Opus cannot take 22.05 kHz: bad request, exit 2, no file. */
	r = run_vagent("audio", "convert", "--rate", "22050", "--encoding", "opus", flac,
		       temp_path("x.opus"), NULL);
	ck_assert_int_eq(r.exit_code, 2);
	ck_assert_int_eq(count_lines(r.err), 1);
	ck_assert_ptr_null(read_file(temp_path("x.opus"), NULL));
	run_result_free(&r);
	/* Cannot write: exit 3. */
	r = run_vagent("audio", "convert", flac, temp_path("no/such/dir/x.wav"), NULL);
	ck_assert_int_eq(r.exit_code, 3);
	ck_assert_int_eq(count_lines(r.err), 1);
	ck_assert_ptr_nonnull(strstr(r.err, "cannot write"));
	run_result_free(&r);
	/* Gain into clipping warns. */
	r = run_vagent("audio", "convert", "--gain", "30", flac, temp_path("loud.wav"), NULL);
	ck_assert_int_eq(r.exit_code, 0);
	ck_assert_int_eq(count_lines(r.err), 1);
	ck_assert_ptr_nonnull(strstr(r.err, "clipped at full scale"));
	run_result_free(&r);
	vagent_audio_free(beep);
	vagent_audio_free(in);
}
END_TEST

/* --json to a file that cannot be created: exit 3, one line with the
 * reason, whatever the files themselves gave. */
START_TEST(test_info_json_unwritable)
{
	struct run_result r = run_vagent("audio", "info", "--json", "/nonexistent-dir/x.json",
					 top_path("fixtures/noise/exercise_bike.wav"), NULL);

	ck_assert_int_eq(r.exit_code, 3);
	ck_assert_str_eq(r.err, "vagent: /nonexistent-dir/x.json: cannot create: No such file or directory\n");
	run_result_free(&r);
}
END_TEST

START_TEST(test_mix)
{
	const char *speech = top_path("fixtures/speech/asterisk/vm-instructions.wav");
	const char *noise = top_path("fixtures/noise/exercise_bike.wav");   /* 16 kHz */
	const char *out = temp_path("noisy.wav");
	struct run_result r = run_vagent("audio", "mix", "--snr", "7.5", "-o", out, speech, noise, NULL);
	struct vagent_audio *s, *m;
	double ps = 0, pn = 0;

	ck_assert_msg(r.exit_code == 0, "%s", r.err);
	ck_assert_ptr_nonnull(strstr(r.out, "(SNR 7.5 dB)"));
	run_result_free(&r);
	s = load(speech);
	m = load(out);
	ck_assert_int_eq(m->rate, s->rate);
	ck_assert_uint_eq(m->frames, s->frames);
	/* Measured on the 16-bit file that was written. */
	for (size_t i = 0; i < s->frames; i++) {
		double d = (double)m->samples[i] - (double)s->samples[i];
		ps += (double)s->samples[i] * (double)s->samples[i];
		pn += d * d;
	}
	ck_assert_double_eq_tol(10 * log10(ps / pn), 7.5, 0.1);
	vagent_audio_free(s);
	vagent_audio_free(m);

	r = run_vagent("audio", "mix", "-q", "--snr", "7.5", "-o", out, speech, noise, NULL);
	ck_assert_int_eq(r.exit_code, 0);
	ck_assert_str_eq(r.out, "");
	ck_assert_str_eq(r.err, "");
	run_result_free(&r);

	r = run_vagent("audio", "mix", "-o", out, speech, noise, NULL);
	ck_assert_int_eq(r.exit_code, 2);
	ck_assert_int_eq(count_lines(r.err), 1);
	ck_assert_ptr_nonnull(strstr(r.err, "--snr DB is required"));
	run_result_free(&r);
	r = run_vagent("audio", "mix", "--snr", "loud", "-o", out, speech, noise, NULL);
	ck_assert_int_eq(r.exit_code, 2);
	ck_assert_int_eq(count_lines(r.err), 1);
	run_result_free(&r);
	/* Digital silence as noise cannot reach any SNR: bad input. */
	struct vagent_audio *zero = vagent_audio_new(8000, 1, 800);
	struct vagent_error err;
	ck_assert_int_eq(vagent_audio_save(zero, temp_path("zero.wav"), NULL, &err), VAGENT_OK);
	vagent_audio_free(zero);
	r = run_vagent("audio", "mix", "--snr", "5", "-o", out, speech, temp_path("zero.wav"), NULL);
	ck_assert_int_eq(r.exit_code, 2);
	ck_assert_int_eq(count_lines(r.err), 1);
	ck_assert_ptr_nonnull(strstr(r.err, "noise is digital silence"));
	run_result_free(&r);
}
END_TEST

Suite *suite_audio_cli(void);
Suite *suite_audio_cli(void)
{
	Suite *s = suite_create("audio_cli");
	TCase *tc = tcase_create("cli");

	tcase_add_checked_fixture(tc, temp_dir_setup, temp_dir_teardown);
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, test_help);
	tcase_add_test(tc, test_info_levels_match_sox);
	tcase_add_test(tc, test_info_text_and_silence);
	tcase_add_test(tc, test_bad_inputs_one_line_exit_2);
	tcase_add_test(tc, test_convert);
	tcase_add_test(tc, test_mix);
	tcase_add_test(tc, test_info_json_unwritable);
	suite_add_tcase(s, tc);
	return s;
}
