/*
 * check_speechlike.c — speech-like audio for simulated voices: its
 * duration is the text's (any rate, any seed), it is deterministic, sits
 * at -20 dBFS, has word dips short enough and punctuation pauses long
 * enough, is cheap to make, and — the point of it — our VAD hears one
 * speech segment in a sentence, from its start to its end, at 8 and 16 kHz.
 */
#include <check.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "vagent.h"

#define MS VAGENT_TICKS_PER_MS

/* Sentences of about twelve words, no punctuation inside. */
static const char *const sentences[] = {
	"I would like to book a table for two people tomorrow evening at seven",
	"my account number is 4 5 7 2 and I never received the refund you promised",
	"hello I am calling about the internet connection at my house which keeps dropping",
	"could you please transfer me to someone who can help with billing questions today",
	"yes that is right thank you very much for checking it so quickly",
};

static struct vagent_audio *synth(const char *text, int rate, uint64_t seed)
{
	struct vagent_audio *a = NULL;
	struct vagent_error err;

	ck_assert_msg(vagent_speechlike_synth(text, rate, seed, &a, &err) == VAGENT_OK,
		      "%s", err.message);
	ck_assert_ptr_nonnull(a);
	ck_assert_int_eq(a->rate, rate);
	ck_assert_int_eq(a->channels, 1);
	return a;
}

static int duration_of(const struct vagent_audio *a)
{
	return (int)llround((double)a->frames * 1000.0 / a->rate);
}

START_TEST(test_duration_matches)
{
	static const char *const texts[] = {
		"4", "seven", "yes", "no, thanks.", "Hello, this is a test. Is 12 o'clock okay?",
		"I'm calling about order 1,000 — it hasn't arrived!",
		"café crème", "hmm", "  padded   with   spaces  ",
	};
	static const int rates[] = { 8000, 16000, 11025, 22050, 44100, 48000 };

	for (size_t i = 0; i < sizeof(texts) / sizeof(texts[0]); i++) {
		int d = vagent_speechlike_duration_ms(texts[i]);

		ck_assert_int_gt(d, 0);
		for (size_t r = 0; r < sizeof(rates) / sizeof(rates[0]); r++) {
			for (uint64_t seed = 1; seed <= 2; seed++) {
				struct vagent_audio *a = synth(texts[i], rates[r], seed);

				ck_assert_msg(duration_of(a) == d, "\"%s\" at %d Hz: %d ms, said %d",
					      texts[i], rates[r], duration_of(a), d);
				vagent_audio_free(a);
			}
		}
	}
	for (size_t i = 0; i < sizeof(sentences) / sizeof(sentences[0]); i++) {
		struct vagent_audio *a8 = synth(sentences[i], 8000, 9);
		struct vagent_audio *a16 = synth(sentences[i], 16000, 10);

		ck_assert_int_eq(duration_of(a8), vagent_speechlike_duration_ms(sentences[i]));
		ck_assert_int_eq(a8->frames * 2, a16->frames);
		vagent_audio_free(a8);
		vagent_audio_free(a16);
	}
}
END_TEST

START_TEST(test_rhythm)
{
	int one = vagent_speechlike_duration_ms("4");
	int seven = vagent_speechlike_duration_ms("seven");
	int six = vagent_speechlike_duration_ms("six");
	int plain = vagent_speechlike_duration_ms("yes I can do that");
	int comma = vagent_speechlike_duration_ms("yes, I can do that");
	int stop = vagent_speechlike_duration_ms("yes. I can do that");
	int trail = vagent_speechlike_duration_ms("yes I can do that.");
	const char *s = sentences[0];
	int syllables = 21;     /* "tomorrow" 3, "evening" 3, "seven" 2, ... */
	double rate;

	/* a syllable is about 220 ms; "seven" has two, "4" and "six" one */
	ck_assert_int_ge(one, 150);
	ck_assert_int_le(one, 260);
	ck_assert_int_ge(seven - six, 120);
	ck_assert_int_eq(vagent_speechlike_duration_ms("4"),
			 vagent_speechlike_duration_ms("four"));
	/* a comma or a stop inside the text pauses 250..350 ms (a word gap is
	 * 30..60); at the end of the text it adds nothing */
	ck_assert_int_ge(comma - plain, 250 - 60);
	ck_assert_int_le(comma - plain, 350 - 30);
	ck_assert_int_ge(stop - plain, 300 - 60);
	ck_assert_int_le(stop - plain, 350 - 30);
	ck_assert_int_eq(trail, plain);
	/* about 4.5 syllables per second */
	rate = syllables * 1000.0 / vagent_speechlike_duration_ms(s);
	ck_assert_msg(rate > 4.0 && rate < 5.2, "%.2f syllables/s", rate);
	/* case and extra spaces do not matter */
	ck_assert_int_eq(vagent_speechlike_duration_ms("Yes  I CAN do that"), plain);
}
END_TEST

/* Longest run (ms) of 5 ms windows quieter than -50 dBFS. */
static int longest_quiet_ms(const struct vagent_audio *a)
{
	size_t w = (size_t)a->rate / 200;
	int run = 0, best = 0;

	for (size_t i = 0; i + w <= a->frames; i += w) {
		double e = 0;

		for (size_t k = 0; k < w; k++)
			e += (double)a->samples[i + k] * (double)a->samples[i + k];
		if (10 * log10(e / (double)w + 1e-20) < -50) {
			run += 5;
			if (run > best)
				best = run;
		} else {
			run = 0;
		}
	}
	return best;
}

START_TEST(test_pauses_and_edges)
{
	static const int rates[] = { 8000, 16000 };

	for (size_t r = 0; r < 2; r++) {
		for (size_t i = 0; i < sizeof(sentences) / sizeof(sentences[0]); i++) {
			struct vagent_audio *a = synth(sentences[i], rates[r], 3);
			size_t ten = (size_t)rates[r] / 100, first = 0, last = 0;

			/* dips between words never last 100 ms */
			ck_assert_int_lt(longest_quiet_ms(a), 100);
			/* no leading or trailing silence beyond 10 ms */
			for (size_t k = 0; k < a->frames; k++)
				if (fabsf(a->samples[k]) > 1e-3f) {
					if (!first)
						first = k + 1;
					last = k + 1;
				}
			ck_assert_uint_le(first - 1, ten);
			ck_assert_uint_ge(last, a->frames - ten);
			vagent_audio_free(a);
		}
		{
			struct vagent_audio *a = synth("yes, I can do that. Thank you", rates[r], 3);
			int q = longest_quiet_ms(a);

			/* the stop's pause (300..350 ms) shows as real quiet */
			ck_assert_int_ge(q, 250);
			ck_assert_int_le(q, 350);
			vagent_audio_free(a);
		}
	}
}
END_TEST

START_TEST(test_deterministic)
{
	const char *t = sentences[1];
	struct vagent_audio *a = synth(t, 16000, 42), *b = synth(t, 16000, 42);
	struct vagent_audio *c = synth(t, 16000, 43);
	size_t differ = 0;

	ck_assert_uint_eq(a->frames, b->frames);
	ck_assert_int_eq(memcmp(a->samples, b->samples, a->frames * sizeof(float)), 0);
	ck_assert_uint_eq(a->frames, c->frames);
	for (size_t i = 0; i < a->frames; i++)
		differ += a->samples[i] != c->samples[i];
	ck_assert_uint_gt(differ, a->frames / 2);
	vagent_audio_free(a);
	vagent_audio_free(b);
	vagent_audio_free(c);
}
END_TEST

START_TEST(test_level)
{
	static const int rates[] = { 8000, 16000, 22050, 48000 };

	for (size_t r = 0; r < sizeof(rates) / sizeof(rates[0]); r++)
		for (size_t i = 0; i < sizeof(sentences) / sizeof(sentences[0]); i++)
			for (uint64_t seed = 1; seed <= 3; seed++) {
				struct vagent_audio *a = synth(sentences[i], rates[r], seed);
				double db = vagent_db_from_amplitude(vagent_audio_rms(a));
				double peak = (double)vagent_audio_peak(a);

				ck_assert_msg(db > -20.5 && db < -19.5, "%.2f dBFS", db);
				ck_assert_msg(peak <= 0.99 && peak >= 0.2, "peak %.3f", peak);
				vagent_audio_free(a);
			}
	{
		struct vagent_audio *a = synth("four", 8000, 1);
		double db = vagent_db_from_amplitude(vagent_audio_rms(a));

		ck_assert_msg(db > -20.5 && db < -19.5, "%.2f dBFS", db);
		vagent_audio_free(a);
	}
}
END_TEST

/* Silence 1 s + `text` + silence 1 s through the VAD: the figures. */
struct vad_run {
	int frames, speech;         /* frames overlapping the speech; speech ones */
	int starts, ends;
	int64_t first, last_end;    /* first speech frame, end of the last one */
	int64_t start_pts, end_pts; /* event times */
	int64_t t0, t1;             /* the synth's true start and end */
	int silence_speech;         /* speech frames in the silences (after the hangover) */
};

static void vad_run(const char *text, int rate, uint64_t seed, double noise_dbfs,
		    struct vad_run *o)
{
	struct vagent_audio *s = synth(text, rate, seed);
	struct vagent_audio *a = vagent_audio_new(rate, 1, s->frames + 2 * (size_t)rate);
	struct vagent_vad_config cfg = vagent_vad_config_default();
	struct vagent_vad *v = NULL;
	struct vagent_error err;
	size_t n = vagent_frame_samples_for(rate, 20);

	ck_assert_ptr_nonnull(a);
	memcpy(a->samples + rate, s->samples, s->frames * sizeof(float));
	if (noise_dbfs < 0) {
		double amp = pow(10.0, noise_dbfs / 20.0) * sqrt(3.0);
		uint64_t x = 88172645463325252u;

		for (size_t i = 0; i < a->frames; i++) {
			x ^= x << 13;
			x ^= x >> 7;
			x ^= x << 17;
			a->samples[i] += (float)(amp * ((double)(x >> 11) * 0x1.0p-52 - 1.0));
		}
	}
	cfg.rate = rate;
	ck_assert_msg(vagent_vad_new(&cfg, &v, &err) == VAGENT_OK, "%s", err.message);
	memset(o, 0, sizeof(*o));
	o->first = o->last_end = o->start_pts = o->end_pts = -1;
	o->t0 = 1000 * MS;
	o->t1 = o->t0 + vagent_ticks_from_samples((int64_t)s->frames, rate);
	for (size_t off = 0; off + n <= a->frames; off += n) {
		struct vagent_frame f;
		struct vagent_vad_result r;
		int64_t p, e;

		ck_assert_int_eq(vagent_audio_get_frame(a, off, n, &f), VAGENT_OK);
		ck_assert_int_eq(vagent_vad_process(v, &f, &r, &err), VAGENT_OK);
		p = f.pts;
		e = vagent_frame_end(&f);
		if (e > o->t0 && p < o->t1) {
			o->frames++;
			o->speech += r.speech;
		} else if (r.speech && (p < o->t0 || p >= o->t1 + 300 * MS)) {
			o->silence_speech++;
		}
		if (r.speech) {
			if (o->first < 0)
				o->first = p;
			o->last_end = e;
		}
		if (r.event == VAGENT_VAD_START) {
			o->starts++;
			o->start_pts = r.event_pts;
		} else if (r.event == VAGENT_VAD_END) {
			o->ends++;
			o->end_pts = r.event_pts;
		}
	}
	vagent_vad_free(v);
	vagent_audio_free(a);
	vagent_audio_free(s);
}

static void check_vad_run(const char *text, int rate, uint64_t seed,
			  const struct vad_run *o)
{
	const char *what = text;

	ck_assert_msg(o->speech * 10 >= o->frames * 9, "%d Hz seed %llu \"%s\": %d/%d speech",
		      rate, (unsigned long long)seed, what, o->speech, o->frames);
	ck_assert_msg(o->starts == 1 && o->ends == 1, "%d Hz seed %llu \"%s\": %d segments",
		      rate, (unsigned long long)seed, what, o->starts);
	ck_assert_int_eq(o->silence_speech, 0);
	/* starts within 100 ms of the true start */
	ck_assert_int_ge(o->first, o->t0);
	ck_assert_int_le(o->first, o->t0 + 100 * MS);
	ck_assert_int_le(llabs(o->start_pts - o->t0), 100 * MS);
	/* ends within 300 ms of the true end (the decision, with its hangover;
	 * the last speech-like frame, END's time, much closer) */
	ck_assert_int_le(llabs(o->last_end - o->t1), 300 * MS);
	ck_assert_int_le(llabs(o->end_pts - o->t1), 60 * MS);
}

START_TEST(test_vad_hears_speech)
{
	static const int rates[] = { 8000, 16000 };

	for (size_t r = 0; r < 2; r++)
		for (size_t i = 0; i < sizeof(sentences) / sizeof(sentences[0]); i++)
			for (uint64_t seed = 1; seed <= 4; seed++) {
				struct vad_run o;

				vad_run(sentences[i], rates[r], seed, 0, &o);
				check_vad_run(sentences[i], rates[r], seed, &o);
			}
}
END_TEST

/* The same over a quiet line (-55 dBFS of white noise, 35 dB SNR). */
START_TEST(test_vad_hears_speech_in_noise)
{
	static const int rates[] = { 8000, 16000 };

	for (size_t r = 0; r < 2; r++)
		for (size_t i = 0; i < sizeof(sentences) / sizeof(sentences[0]); i++) {
			struct vad_run o;

			vad_run(sentences[i], rates[r], 7, -55, &o);
			check_vad_run(sentences[i], rates[r], 7, &o);
		}
}
END_TEST

/* A pause at a stop is a real pause: the VAD may end the segment there
 * (its hangover is 200 ms), but never in a word gap. */
START_TEST(test_vad_pause_at_stop)
{
	struct vad_run o;

	vad_run("I would like to book a table. For two people tomorrow evening at seven",
		16000, 1, 0, &o);
	ck_assert_int_ge(o.starts, 1);
	ck_assert_int_le(o.starts, 2);
	ck_assert_int_ge(o.speech * 10, o.frames * 8);
}
END_TEST

START_TEST(test_cost)
{
	/* ten seconds of speech, at the session rates, well under 50 ms */
	const char *t = "I would like to book a table for two people tomorrow evening "
			"at seven and my account number is 4 5 7 2 and I never "
			"received the refund you promised me last week";
	clock_t c0, c1;
	struct vagent_audio *a;
	double ms;
	int d = vagent_speechlike_duration_ms(t);

	ck_assert_int_ge(d, 9000);
	c0 = clock();
	a = synth(t, 16000, 1);
	vagent_audio_free(a);
	a = synth(t, 8000, 1);
	c1 = clock();
	vagent_audio_free(a);
	ms = (double)(c1 - c0) * 1000.0 / CLOCKS_PER_SEC;
#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_UNDEFINED__)
	ck_assert_msg(ms < 500, "%.1f ms", ms);
#else
	ck_assert_msg(ms < 50, "%.1f ms for %d ms of audio at 8 and 16 kHz", ms, d);
#endif
}
END_TEST

START_TEST(test_errors)
{
	struct vagent_audio *a = (struct vagent_audio *)1;
	struct vagent_error err;

	ck_assert_int_eq(vagent_speechlike_synth(NULL, 16000, 1, &a, &err), VAGENT_EINVAL);
	ck_assert_ptr_null(a);
	ck_assert_str_eq(err.message, "speechlike: empty text");
	ck_assert_int_eq(vagent_speechlike_synth("", 16000, 1, &a, &err), VAGENT_EINVAL);
	ck_assert_str_eq(err.message, "speechlike: empty text");
	/* punctuation and spaces say nothing */
	ck_assert_int_eq(vagent_speechlike_synth(" ... , ", 8000, 1, &a, &err), VAGENT_EINVAL);
	ck_assert_str_eq(err.message, "speechlike: empty text");
	ck_assert_int_eq(vagent_speechlike_duration_ms(NULL), 0);
	ck_assert_int_eq(vagent_speechlike_duration_ms(""), 0);
	ck_assert_int_eq(vagent_speechlike_duration_ms("?!"), 0);
	ck_assert_int_eq(vagent_speechlike_synth("hi", 7999, 1, &a, &err), VAGENT_EINVAL);
	ck_assert_str_eq(err.message, "speechlike: unsupported rate 7999 Hz (8000..48000)");
	ck_assert_int_eq(vagent_speechlike_synth("hi", 48001, 1, &a, &err), VAGENT_EINVAL);
	ck_assert_ptr_null(a);
	/* err may be NULL */
	ck_assert_int_eq(vagent_speechlike_synth("", 16000, 1, &a, NULL), VAGENT_EINVAL);
}
END_TEST

Suite *suite_speechlike(void);
Suite *suite_speechlike(void)
{
	Suite *s = suite_create("speechlike");
	TCase *tc = tcase_create("speechlike");

	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, test_duration_matches);
	tcase_add_test(tc, test_rhythm);
	tcase_add_test(tc, test_pauses_and_edges);
	tcase_add_test(tc, test_deterministic);
	tcase_add_test(tc, test_level);
	tcase_add_test(tc, test_vad_hears_speech);
	tcase_add_test(tc, test_vad_hears_speech_in_noise);
	tcase_add_test(tc, test_vad_pause_at_stop);
	tcase_add_test(tc, test_cost);
	tcase_add_test(tc, test_errors);
	suite_add_tcase(s, tc);
	return s;
}
