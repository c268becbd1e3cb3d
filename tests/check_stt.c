/*
 * check_stt.c — the pocketsphinx recogniser (lib/stt): the provider on a
 * virtual-clock loop with workers, fed real recordings frame by frame
 * (16 kHz LibriSpeech, 8 kHz mu-law Harvard), must send partials then a
 * final that really recognises the words; the vocabulary boost fixes an
 * order number the plain model gets wrong; stop silences it; bad models
 * and boost sets are one-line errors; `vagent transcribe` prints trn lines
 * and rejects bad files.
 */
#include <check.h>
#include <math.h>
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "vagent.h"
#include "support/harness.h"

#define MS(x) vagent_ticks_from_ms(x)
#define PAD_MS 400              /* silence before and after the speech */
#define ONSET_DELAY_MS 120      /* the "VAD" reports the onset this late */

/* ---- word error rate of a hypothesis against a reference ---- */

static int split_words(const char *s, char words[][32], int max)
{
	int n = 0;

	while (*s && n < max) {
		int len = 0;

		while (*s && !isalnum((unsigned char)*s) && *s != '\'')
			s++;
		if (!*s)
			break;
		while (*s && (isalnum((unsigned char)*s) || *s == '\'')) {
			if (len < 31)
				words[n][len++] = (char)tolower((unsigned char)*s);
			s++;
		}
		words[n++][len] = '\0';
	}
	return n;
}

static double word_error_rate(const char *ref, const char *hyp)
{
	static char r[64][32], h[64][32];
	int nr = split_words(ref, r, 64), nh = split_words(hyp, h, 64);
	int d[65][65];

	for (int i = 0; i <= nr; i++)
		d[i][0] = i;
	for (int j = 0; j <= nh; j++)
		d[0][j] = j;
	for (int i = 1; i <= nr; i++)
		for (int j = 1; j <= nh; j++) {
			int sub = d[i - 1][j - 1] + (strcmp(r[i - 1], h[j - 1]) != 0);
			int del = d[i - 1][j] + 1, ins = d[i][j - 1] + 1;

			d[i][j] = sub < del ? (sub < ins ? sub : ins) : (del < ins ? del : ins);
		}
	return nr ? (double)d[nr][nh] / nr : 1.0;
}

/* ---- a provider on a virtual loop, fed a recording ---- */

struct feed {
	struct vagent_loop *loop;
	struct vagent_stt *stt;
	const int16_t *samples;         /* PAD + speech + PAD, at rate */
	size_t n, pos;
	int rate;
	int64_t speech_start, speech_end;       /* ticks */
	bool started, ended, turn_ended;
	struct vagent_timer *timer;
	/* what came back */
	int partials, finals, errors;
	bool partial_after_final;
	char final[1024];
	char error[512];
	double confidence;
	int lead_ms, tail_ms;           /* of the audio, around the speech */
	int stop_after_partials;        /* > 0: stop() at that partial */
	int free_after_partials;        /* > 0: free it at that partial */
};

static void on_partial(void *ctx, const char *text)
{
	struct feed *f = ctx;

	ck_assert_ptr_nonnull(text);
	ck_assert(*text);
	f->partials++;
	if (f->finals)
		f->partial_after_final = true;
	if (f->stop_after_partials && f->partials == f->stop_after_partials)
		f->stt->ops->stop(f->stt);
	if (f->free_after_partials && f->partials == f->free_after_partials) {
		vagent_stt_free(f->stt);
		f->stt = NULL;
	}
}

static void on_final(void *ctx, const char *text, double confidence)
{
	struct feed *f = ctx;

	f->finals++;
	snprintf(f->final + strlen(f->final), sizeof(f->final) - strlen(f->final),
		 "%s%s", f->final[0] ? " " : "", text);
	f->confidence = confidence;
}

static void on_error(void *ctx, vagent_status st, const char *message)
{
	struct feed *f = ctx;

	(void)st;
	f->errors++;
	snprintf(f->error, sizeof(f->error), "%s", message);
}

static void tick(struct vagent_timer *t, void *arg)
{
	struct feed *f = arg;
	struct vagent_frame fr;
	int64_t pts = vagent_loop_now(f->loop);
	size_t n = vagent_frame_samples_for(f->rate, 20);

	if (!f->stt) {                  /* freed from a callback */
		vagent_timer_stop(t);
		return;
	}
	if (f->pos >= f->n) {
		if (!f->turn_ended) {
			f->turn_ended = true;
			f->stt->ops->turn_end(f->stt, pts);
		}
		vagent_timer_stop(t);
		return;
	}
	ck_assert_int_eq(vagent_frame_init_20ms(&fr, f->rate, 1, pts), VAGENT_OK);
	if (n > f->n - f->pos)
		n = f->n - f->pos;
	memcpy(fr.samples, f->samples + f->pos, n * sizeof(int16_t));
	f->pos += vagent_frame_samples_for(f->rate, 20);
	if (!f->started && pts >= f->speech_start + MS(ONSET_DELAY_MS)) {
		f->started = true;
		f->stt->ops->speech(f->stt, true, f->speech_start);
	}
	if (f->started && !f->ended && pts >= f->speech_end) {
		f->ended = true;
		f->stt->ops->speech(f->stt, false, f->speech_end);
	}
	f->stt->ops->audio(f->stt, &fr, NULL);
}

/* Mono int16 at `rate` of `audio` (resampled if needed), padded with
 * PAD_MS of silence on each side; mu-law round trip when `ulaw`. */
static int16_t *prepare(const struct vagent_audio *audio, int rate, bool ulaw,
			size_t *n_out)
{
	struct vagent_audio *r = NULL;
	const struct vagent_audio *a = audio;
	struct vagent_error err;
	size_t pad = (size_t)rate * PAD_MS / 1000, n;
	int16_t *s;

	if (audio->rate != rate) {
		ck_assert_int_eq(vagent_audio_resample(audio, rate, 7, &r, &err), VAGENT_OK);
		a = r;
	}
	n = a->frames + 2 * pad;
	s = calloc(n, sizeof(*s));
	ck_assert_ptr_nonnull(s);
	for (size_t i = 0; i < a->frames; i++) {
		float v = a->samples[i * (size_t)a->channels] * 32768.0f;

		s[pad + i] = (int16_t)(v > 32767 ? 32767 : v < -32768 ? -32768 : v);
	}
	if (ulaw) {
		uint8_t *u = malloc(n);

		ck_assert_ptr_nonnull(u);
		vagent_ulaw_encode_buf(s, u, n);
		vagent_ulaw_decode_buf(u, s, n);
		free(u);
	}
	vagent_audio_free(r);
	*n_out = n;
	return s;
}

static struct vagent_loop *worker_loop(void)
{
	struct vagent_loop_config lc = vagent_loop_config_default();
	struct vagent_loop *loop = NULL;
	struct vagent_error err;

	lc.clock = VAGENT_CLOCK_VIRTUAL;
	lc.workers = 2;
	/* charge decoding its CPU time: the figures do not depend on what
	 * else runs on the machine (workers run at nice 19) */
	lc.job_clock = VAGENT_JOB_THREAD_CPU;
	ck_assert_int_eq(vagent_loop_new(&lc, &loop, &err), VAGENT_OK);
	return loop;
}

/* Run `audio` through a provider made from `cfg`; results in *f. */
static void stream(const struct vagent_sphinx_config *cfg,
		   const struct vagent_audio *audio, bool ulaw, struct feed *f)
{
	struct vagent_error err;
	int16_t *s;
	size_t n;

	s = prepare(audio, cfg->rate, ulaw, &n);
	f->loop = worker_loop();
	f->samples = s;
	f->n = n;
	f->rate = cfg->rate;
	f->speech_start = MS(PAD_MS + f->lead_ms);
	f->speech_end = MS(PAD_MS - f->tail_ms) +
			vagent_ticks_from_samples((int64_t)audio->frames, audio->rate) +
			MS(200);
	ck_assert_msg(vagent_sphinx_stt_new(cfg, &f->stt, &err) == VAGENT_OK,
		      "%s", err.message);
	f->stt->loop = f->loop;
	f->stt->on_partial = on_partial;
	f->stt->on_final = on_final;
	f->stt->on_error = on_error;
	f->stt->ctx = f;
	f->timer = vagent_timer_new(f->loop, tick, f);
	ck_assert_ptr_nonnull(f->timer);
	ck_assert_int_eq(vagent_timer_start_at(f->timer, 0, MS(20), &err), VAGENT_OK);
	ck_assert_int_eq(vagent_loop_run(f->loop, VAGENT_RUN_UNTIL_IDLE, &err), VAGENT_OK);
	vagent_timer_free(f->timer);
	vagent_stt_free(f->stt);        /* NULL when freed from a callback */
	vagent_loop_free(f->loop);
	free(s);
}

static struct vagent_audio *load(const char *rel)
{
	struct vagent_audio *a = NULL;
	struct vagent_error err;

	ck_assert_msg(vagent_audio_load(top_path(rel), VAGENT_CHANNELS_MIX, &a, &err) ==
		      VAGENT_OK, "%s", err.message);
	return a;
}

#define LS_ID   "1995-1837-0001"
#define LS_REF  "it was the first great sorrow of his life it was not so much the loss " \
		"of the cotton itself but the fantasy the hopes the dreams built around it"

START_TEST(test_stream_16k)
{
	struct vagent_sphinx_config cfg = vagent_sphinx_config_default();
	struct vagent_audio *a = load("fixtures/speech/librispeech/" LS_ID ".wav");
	struct feed f = { 0 };
	double wer;

	stream(&cfg, a, false, &f);
	vagent_audio_free(a);
	ck_assert_msg(f.errors == 0, "%s", f.error);
	/* 8.7 s of speech: partials every 200 ms while it is decoded */
	ck_assert_int_ge(f.partials, 5);
	ck_assert_int_eq(f.finals, 1);
	ck_assert(!f.partial_after_final);
	wer = word_error_rate(LS_REF, f.final);
	ck_assert_msg(wer < 0.35, "WER %.2f: %s", wer, f.final);
	ck_assert(f.confidence > 0 && f.confidence <= 1);
}
END_TEST

/* Three Harvard sentences, 8 kHz, through a mu-law round trip, as one
 * utterance: live CMN starts from the telephone-band mean and adapts. */
START_TEST(test_stream_8k_ulaw)
{
	struct vagent_sphinx_config cfg = vagent_sphinx_config_default();
	struct vagent_audio *osr = load("fixtures/speech/harvard/OSR_us_000_0034_8k.wav");
	struct vagent_audio *a;
	struct feed f = { 0 };
	size_t from = 0, to = (size_t)(10.48 * 8000);   /* segments 01-03 */
	double wer;

	ck_assert_int_eq(osr->rate, 8000);
	a = vagent_audio_new(8000, 1, to - from);
	ck_assert_ptr_nonnull(a);
	memcpy(a->samples, osr->samples + from, (to - from) * sizeof(float));
	vagent_audio_free(osr);
	cfg.rate = 8000;
	stream(&cfg, a, true, &f);
	vagent_audio_free(a);
	ck_assert_msg(f.errors == 0, "%s", f.error);
	ck_assert_int_ge(f.partials, 1);
	ck_assert_int_eq(f.finals, 1);
	wer = word_error_rate("a gold ring will please most any girl "
			      "the long journey home took a year "
			      "she saw a cat in the neighbor's house", f.final);
	ck_assert_msg(wer < 0.4, "WER %.2f: %s", wer, f.final);
}
END_TEST

START_TEST(test_stop)
{
	struct vagent_sphinx_config cfg = vagent_sphinx_config_default();
	struct vagent_audio *a = load("fixtures/speech/librispeech/" LS_ID ".wav");
	struct feed f = { 0 };

	f.stop_after_partials = 2;
	stream(&cfg, a, false, &f);
	vagent_audio_free(a);
	ck_assert_int_eq(f.partials, 2);
	ck_assert_int_eq(f.finals, 0);
	ck_assert_int_eq(f.errors, 0);
}
END_TEST

/* Freed from inside its own partial callback: no more callbacks, no
 * use after free (ASan checks). */
START_TEST(test_free_in_callback)
{
	struct vagent_sphinx_config cfg = vagent_sphinx_config_default();
	struct vagent_audio *a = load("fixtures/speech/librispeech/" LS_ID ".wav");
	struct feed f = { 0 };

	f.free_after_partials = 1;
	stream(&cfg, a, false, &f);
	vagent_audio_free(a);
	ck_assert_int_eq(f.partials, 1);
	ck_assert_int_eq(f.finals + f.errors, 0);
}
END_TEST

/* Freed while a decode job runs: the job's end frees it (ASan checks). */
START_TEST(test_free_midway)
{
	struct vagent_sphinx_config cfg = vagent_sphinx_config_default();
	struct vagent_audio *a = load("fixtures/speech/librispeech/" LS_ID ".wav");
	struct vagent_loop *loop = worker_loop();
	struct vagent_stt *stt = NULL;
	struct vagent_error err;
	struct vagent_frame fr;
	struct feed f = { 0 };

	ck_assert_int_eq(vagent_sphinx_stt_new(&cfg, &stt, &err), VAGENT_OK);
	f.stt = stt;
	stt->loop = loop;
	stt->on_partial = on_partial;
	stt->on_final = on_final;
	stt->on_error = on_error;
	stt->ctx = &f;
	stt->ops->speech(stt, true, 0);
	for (int i = 0; i < 50; i++) {
		ck_assert_int_eq(vagent_frame_init_20ms(&fr, 16000, 1, MS(20 * i)), VAGENT_OK);
		for (size_t k = 0; k < fr.n; k++)
			fr.samples[k] = (int16_t)(a->samples[(size_t)i * fr.n + k] * 32767);
		stt->ops->audio(stt, &fr, NULL);
	}
	vagent_stt_free(stt);           /* a job is in flight */
	ck_assert_int_eq(vagent_loop_run(loop, VAGENT_RUN_UNTIL_IDLE, &err), VAGENT_OK);
	vagent_loop_free(loop);
	vagent_audio_free(a);
	ck_assert_int_eq(f.partials + f.finals + f.errors, 0);
}
END_TEST

/* Measured (docs/stt.md): flite's kal16 voice saying caller-04 of
 * fixtures/stt/caller-phrases.trn at 8 kHz mu-law; a fresh decoder with the
 * general model alone hears "the order number and haven't haven't read
 * your leg", with the store vocabulary boost every word (both without
 * the denoiser). */
static char **vocabulary(void)
{
	char *text = read_file(top_path("fixtures/stt/store-vocabulary.txt"), NULL);
	char **v = calloc(512, sizeof(*v)), *p, *save = NULL;
	int n = 0;

	ck_assert_ptr_nonnull(text);
	ck_assert_ptr_nonnull(v);
	for (p = strtok_r(text, "\n", &save); p && n < 510; p = strtok_r(NULL, "\n", &save))
		if (*p != '#')
			v[n++] = p;
	ck_assert_int_gt(n, 50);
	v[511] = text;          /* freed by the caller */
	return v;
}

START_TEST(test_boost_order_number)
{
	const char *ref = "the order number is seven seven three zero eight";
	struct vagent_sphinx_config cfg = vagent_sphinx_config_default();
	struct vagent_audio *a = load("fixtures/stt/order-number-kal16-8k.wav");
	struct vagent_error err;
	char **vocab = vocabulary(), *plain = NULL, *boosted = NULL;
	double conf;

	ck_assert_int_eq(a->rate, 8000);
	cfg.rate = 8000;
	/* the boost alone: with the denoiser (default) the plain model
	 * already gets closer ("... seven seven three heroic") */
	cfg.denoise_db = 0;
	ck_assert_msg(vagent_sphinx_transcribe(&cfg, a, &plain, &conf, &err) == VAGENT_OK,
		      "%s", err.message);
	cfg.boost_phrases = (const char *const *)vocab;
	ck_assert_msg(vagent_sphinx_transcribe(&cfg, a, &boosted, &conf, &err) == VAGENT_OK,
		      "%s", err.message);
	ck_assert_msg(word_error_rate(ref, plain) >= 0.4, "plain: %s", plain);
	ck_assert_msg(word_error_rate(ref, boosted) <= 0.15, "boosted: %s", boosted);
	ck_assert(conf > 0 && conf <= 1);
	free(plain);
	free(boosted);
	free(vocab[511]);
	free(vocab);
	vagent_audio_free(a);
}
END_TEST

/*
 * A noisy line (docs/stt.md "Noisy lines"): flite's rms voice asking
 * "Where is my order?" in the kitchen noise of fixtures/noise at 10 dB SNR
 * (noise 10 dB under the speech's active level, as the caller leg mixes
 * it), after 1 s of the noise alone, streamed through the provider with
 * the store vocabulary. Measured: with the default denoiser every word is
 * right; without it pocketsphinx hears "move move move".
 */
#define NOISY_LEAD_MS 1000
#define NOISY_TAIL_MS 300

static struct vagent_audio *noisy_line(const char *text, double snr_db)
{
	struct vagent_audio *speech = NULL, *noise = load("fixtures/noise/doing_the_dishes.wav");
	struct vagent_audio *mix;
	struct vagent_error err;
	size_t lead = 16000 * NOISY_LEAD_MS / 1000, tail = 16000 * NOISY_TAIL_MS / 1000;
	double gain;

	ck_assert_msg(vagent_flite_synth(text, "rms", 16000, &speech, &err) == VAGENT_OK,
		      "%s", err.message);
	gain = pow(10.0, (vagent_audio_active_level_dbfs(speech) - snr_db) / 20.0) /
	       vagent_audio_rms(noise);
	mix = vagent_audio_new(16000, 1, lead + speech->frames + tail);
	ck_assert_ptr_nonnull(mix);
	for (size_t i = 0; i < mix->frames; i++)
		mix->samples[i] = (float)(gain * noise->samples[i % noise->frames]) +
				  (i >= lead && i - lead < speech->frames ?
				   speech->samples[i - lead] : 0.0f);
	vagent_audio_free(speech);
	vagent_audio_free(noise);
	return mix;
}

START_TEST(test_noisy_line_denoised)
{
	const char *ref = "where is my order";
	struct vagent_sphinx_config cfg = vagent_sphinx_config_default();
	struct vagent_audio *a = noisy_line("Where is my order?", 10);
	char **vocab = vocabulary();
	struct feed on = { 0 }, off = { 0 };

	ck_assert(cfg.denoise_db > 0);          /* on by default */
	cfg.boost_phrases = (const char *const *)vocab;
	on.lead_ms = off.lead_ms = NOISY_LEAD_MS;
	on.tail_ms = off.tail_ms = NOISY_TAIL_MS;
	stream(&cfg, a, false, &on);
	cfg.denoise_db = 0;
	stream(&cfg, a, false, &off);
	ck_assert_int_eq(on.errors + off.errors, 0);
	ck_assert_msg(word_error_rate(ref, on.final) <= 0.25, "denoised: %s", on.final);
	ck_assert_msg(word_error_rate(ref, off.final) >= 0.5, "not denoised: %s", off.final);
	free(vocab[511]);
	free(vocab);
	vagent_audio_free(a);
}
END_TEST

START_TEST(test_missing_model)
{
	struct vagent_sphinx_config cfg = vagent_sphinx_config_default();
	struct vagent_stt *stt = (struct vagent_stt *)1;
	struct vagent_error err;
	vagent_status st;

	cfg.model_dir = "/nonexistent/en-us";
	st = vagent_sphinx_stt_new(&cfg, &stt, &err);
	ck_assert_int_eq(st, VAGENT_ENOENT);
	ck_assert_ptr_null(stt);
	ck_assert_str_eq(err.message,
			 "pocketsphinx: cannot load model /nonexistent/en-us: No such file or directory");
	/* a directory without a model */
	cfg.model_dir = "/tmp";
	st = vagent_sphinx_stt_new(&cfg, &stt, &err);
	ck_assert_int_eq(st, VAGENT_EINVAL);
	ck_assert_ptr_nonnull(strstr(err.message, "pocketsphinx: cannot load model /tmp: "));
	ck_assert_ptr_null(strchr(err.message, '\n'));
	cfg = vagent_sphinx_config_default();
	cfg.rate = 11025;
	ck_assert_int_eq(vagent_sphinx_stt_new(&cfg, &stt, &err), VAGENT_EINVAL);
	ck_assert_str_eq(err.message, "pocketsphinx: rate: must be 8000 or 16000 Hz (got 11025)");
}
END_TEST

START_TEST(test_bad_boost)
{
	struct vagent_sphinx_config cfg = vagent_sphinx_config_default();
	const char *const oov_only[] = { "zzxqv", "qqwrt blorpt", NULL };
	const char *const empty[] = { "", NULL };
	const char *const some_oov[] = { "my order number is 4 5 zzxqv", NULL };
	struct vagent_sphinx_transcriber *t = NULL;
	struct vagent_stt *stt_out = NULL;
	struct vagent_error err;

	cfg.boost_phrases = oov_only;
	ck_assert_int_eq(vagent_sphinx_transcriber_new(&cfg, &t, &err), VAGENT_EINVAL);
	ck_assert_str_eq(err.message,
			 "pocketsphinx: boost: no phrase has a word the dictionary knows; unknown: zzxqv qqwrt blorpt");
	ck_assert_ptr_null(t);
	/* empty: no boost */
	cfg.boost_phrases = empty;
	ck_assert_int_eq(vagent_sphinx_transcriber_new(&cfg, &t, &err), VAGENT_OK);
	ck_assert_str_eq(vagent_sphinx_transcriber_oov(t), "");
	vagent_sphinx_transcriber_free(t);
	/* some OOV: reported, the rest kept */
	cfg.boost_phrases = some_oov;
	ck_assert_int_eq(vagent_sphinx_transcriber_new(&cfg, &t, &err), VAGENT_OK);
	ck_assert_str_eq(vagent_sphinx_transcriber_oov(t), "zzxqv");
	vagent_sphinx_transcriber_free(t);
	cfg.boost_weight = 1.5;
	ck_assert_int_eq(vagent_sphinx_transcriber_new(&cfg, &t, &err), VAGENT_EINVAL);
	ck_assert_str_eq(err.message, "pocketsphinx: boost_weight: must be 0..1 (got 1.5)");
	cfg.boost_weight = 0.5;
	cfg.denoise_db = 70;
	ck_assert_int_eq(vagent_sphinx_transcriber_new(&cfg, &t, &err), VAGENT_EINVAL);
	ck_assert_str_eq(err.message, "pocketsphinx: denoise_db: must be 0..60 (got 70)");
	cfg.denoise_db = -1;
	ck_assert_int_eq(vagent_sphinx_stt_new(&cfg, &stt_out, &err), VAGENT_EINVAL);
	ck_assert_str_eq(err.message, "pocketsphinx: denoise_db: must be 0..60 (got -1)");
	ck_assert_ptr_null(stt_out);
}
END_TEST

START_TEST(test_cli)
{
	const char *wav = top_path("fixtures/speech/librispeech/1089-134691-0000.flac");
	struct run_result r = run_vagent("transcribe", wav, NULL);
	struct vagent_transcript *t = NULL;
	struct vagent_error err;

	ck_assert_msg(r.exit_code == 0, "%s", r.err);
	ck_assert_str_eq(r.err, "");
	ck_assert_int_eq(vagent_transcript_parse(r.out, strlen(r.out), "out",
						 VAGENT_TRANSCRIPT_TRN, &t, &err), VAGENT_OK);
	ck_assert_ptr_nonnull(strstr(r.out, " (1089-134691-0000)\n"));
	*strrchr(r.out, '(') = '\0';        /* the id */
	ck_assert_msg(word_error_rate("he could wait no longer", r.out) < 0.5, "%s", r.out);
	vagent_transcript_free(t);
	run_result_free(&r);

	r = run_vagent("transcribe", top_path("fixtures/audio/bad/not-audio.wav"), NULL);
	ck_assert_int_eq(r.exit_code, 2);
	ck_assert_int_eq(count_lines(r.err), 1);
	ck_assert_ptr_nonnull(strstr(r.err, "not-audio.wav"));
	run_result_free(&r);

	r = run_vagent("transcribe", "/nonexistent.wav", NULL);
	ck_assert_int_eq(r.exit_code, 2);
	ck_assert_int_eq(count_lines(r.err), 1);
	run_result_free(&r);

	/* a boost file with no phrase, and one with only unknown words */
	r = run_vagent("transcribe", "--boost", temp_file("empty.txt", "# nothing\n\n"),
		       wav, NULL);
	ck_assert_int_eq(r.exit_code, 2);
	ck_assert_str_eq(r.out, "");
	ck_assert_int_eq(count_lines(r.err), 1);
	ck_assert_ptr_nonnull(strstr(r.err, "empty.txt: boost file has no phrases"));
	run_result_free(&r);
	r = run_vagent("transcribe", "--boost", temp_file("oov.txt", "zzxqv qqwrt\n"),
		       wav, NULL);
	ck_assert_int_eq(r.exit_code, 2);
	ck_assert_int_eq(count_lines(r.err), 1);
	ck_assert_ptr_nonnull(strstr(r.err, "pocketsphinx: boost: no phrase has a word"));
	run_result_free(&r);
}
END_TEST

Suite *suite_stt(void)
{
	Suite *s = suite_create("stt");
	TCase *tc = tcase_create("core");

	tcase_set_timeout(tc, 120);
	tcase_add_checked_fixture(tc, temp_dir_setup, temp_dir_teardown);
	tcase_add_test(tc, test_stream_16k);
	tcase_add_test(tc, test_stream_8k_ulaw);
	tcase_add_test(tc, test_stop);
	tcase_add_test(tc, test_free_midway);
	tcase_add_test(tc, test_free_in_callback);
	tcase_add_test(tc, test_boost_order_number);
	tcase_add_test(tc, test_noisy_line_denoised);
	tcase_add_test(tc, test_missing_model);
	tcase_add_test(tc, test_bad_boost);
	tcase_add_test(tc, test_cli);
	suite_add_tcase(s, tc);
	return s;
}
