/*
 * check_dtmf.c — DTMF tones and card numbers: synth → detect round trips
 * at 8 and 16 kHz, through μ-law and under speech, key-press timing rules,
 * no false digits on the speech and noise fixtures; the Luhn check, finding
 * and redacting card numbers written or spoken, and numbers that are not
 * cards (order and phone numbers).
 */
#include <check.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "vagent.h"
#include "support/harness.h"

static const char all_keys[] = "0123456789*#ABCD";

static struct vagent_audio *synth(const char *digits, int rate, int tone_ms, int gap_ms)
{
	struct vagent_audio *a = NULL;
	struct vagent_error err;

	ck_assert_msg(vagent_dtmf_synth(digits, rate, tone_ms, gap_ms, &a, &err) == VAGENT_OK,
		      "%s", err.message);
	ck_assert_ptr_nonnull(a);
	return a;
}

/* `a` with `before_ms` of silence in front and `after_ms` after. */
static struct vagent_audio *pad(struct vagent_audio *a, int before_ms, int after_ms)
{
	size_t b = vagent_frame_samples_for(a->rate, before_ms);
	size_t e = vagent_frame_samples_for(a->rate, after_ms);
	struct vagent_audio *p = vagent_audio_new(a->rate, 1, b + a->frames + e);

	ck_assert_ptr_nonnull(p);
	memcpy(p->samples + b, a->samples, a->frames * sizeof(float));
	vagent_audio_free(a);
	return p;
}

static void expect_digits(const struct vagent_audio *a, int channel, const char *want)
{
	char got[64];

	vagent_dtmf_detect_audio(a, channel, got, sizeof(got));
	ck_assert_msg(strcmp(got, want) == 0, "detected \"%s\", want \"%s\" (rate %d)", got,
		      want, a->rate);
}

START_TEST(test_synth_shape_and_level)
{
	struct vagent_audio *a = synth("1#", 8000, 100, 50);
	struct vagent_error err;
	double peak = 0, sq = 0;

	ck_assert_int_eq(a->rate, 8000);
	ck_assert_int_eq(a->channels, 1);
	ck_assert_uint_eq(a->frames, 800 + 400 + 800);
	for (size_t i = 800; i < 1200; i++)
		ck_assert(a->samples[i] == 0.0f);
	for (size_t i = 0; i < 800; i++) {
		peak = fmax(peak, fabs(a->samples[i]));
		sq += (double)a->samples[i] * a->samples[i];
	}
	/* Two tones of -10 dBFS each: mean square 2 · 0.316² / 2 = 0.1. */
	ck_assert_double_le(peak, 0.64);
	ck_assert_double_ge(peak, 0.55);
	ck_assert_double_eq_tol(sq / 800, 0.1, 0.005);
	vagent_audio_free(a);

	a = synth("", 16000, 50, 50);
	ck_assert_uint_eq(a->frames, 0);
	vagent_audio_free(a);
	a = synth("a", 16000, 50, 0);    /* lower-case A-D too */
	ck_assert_uint_eq(a->frames, 800);
	vagent_audio_free(a);

	ck_assert_int_eq(vagent_dtmf_synth("12x", 8000, 50, 50, &a, &err), VAGENT_EINVAL);
	ck_assert_ptr_null(a);
	ck_assert_ptr_nonnull(strstr(err.message, "'x'"));
	ck_assert_int_eq(vagent_dtmf_synth("1", 4000, 50, 50, &a, &err), VAGENT_EINVAL);
	ck_assert_int_eq(vagent_dtmf_synth("1", 8000, 0, 50, &a, &err), VAGENT_EINVAL);
	ck_assert_int_eq(vagent_dtmf_synth("1", 8000, 50, -1, &a, &err), VAGENT_EINVAL);
	ck_assert_int_eq(vagent_dtmf_synth(NULL, 8000, 50, 50, &a, &err), VAGENT_EINVAL);
	ck_assert_ptr_null(a);
}
END_TEST

START_TEST(test_round_trip_all_keys)
{
	static const int rates[] = { 8000, 16000 };
	static const int timing[][2] = { { 40, 40 }, { 70, 50 }, { 200, 100 } };

	for (size_t r = 0; r < 2; r++)
		for (size_t t = 0; t < 3; t++) {
			struct vagent_audio *a = synth(all_keys, rates[r], timing[t][0], timing[t][1]);

			a = pad(a, 100, 100);
			expect_digits(a, 0, all_keys);
			expect_digits(a, -1, all_keys);
			vagent_audio_free(a);
		}
	/* A 1 kHz beep, a 2-tone sequence and silence: nothing. */
	{
		struct vagent_audio *a = vagent_audio_new(8000, 1, 8000);

		expect_digits(a, 0, "");
		for (size_t i = 0; i < a->frames; i++)
			a->samples[i] = (float)(0.5 * sin(2 * M_PI * 1000.0 * (double)i / 8000));
		expect_digits(a, 0, "");
		for (size_t i = 0; i < a->frames; i++)   /* row tone alone */
			a->samples[i] = (float)(0.5 * sin(2 * M_PI * 697.0 * (double)i / 8000));
		expect_digits(a, 0, "");
		vagent_audio_free(a);
	}
}
END_TEST

/* A tone pair with the given levels (dBFS) and frequency scale. */
static struct vagent_audio *pair(int rate, double row_hz, double col_hz, double row_db,
				 double col_db, int ms)
{
	size_t n = vagent_frame_samples_for(rate, ms);
	struct vagent_audio *a = vagent_audio_new(rate, 1, n);
	double ar = pow(10, row_db / 20), ac = pow(10, col_db / 20);

	ck_assert_ptr_nonnull(a);
	for (size_t i = 0; i < n; i++)
		a->samples[i] = (float)(ar * sin(2 * M_PI * row_hz * (double)i / rate) +
					ac * sin(2 * M_PI * col_hz * (double)i / rate));
	return pad(a, 60, 60);
}

START_TEST(test_q24_like_checks)
{
	struct vagent_audio *a;

	/* Frequency off by 1.5 %: accepted; off by 6 %: rejected. */
	a = pair(8000, 770 * 1.015, 1336 * 0.985, -10, -10, 60);
	expect_digits(a, 0, "5");
	vagent_audio_free(a);
	a = pair(8000, 770 * 1.06, 1336 * 1.06, -10, -10, 60);
	expect_digits(a, 0, "");
	vagent_audio_free(a);
	/* Twist: high group 6 dB over the low accepted, 12 dB rejected; low 3 dB
	 * over the high accepted, 8 dB rejected. */
	a = pair(8000, 852, 1477, -16, -10, 60);
	expect_digits(a, 0, "9");
	vagent_audio_free(a);
	a = pair(8000, 852, 1477, -22, -10, 60);
	expect_digits(a, 0, "");
	vagent_audio_free(a);
	a = pair(16000, 941, 1209, -10, -13, 60);
	expect_digits(a, 0, "*");
	vagent_audio_free(a);
	a = pair(16000, 941, 1209, -10, -18, 60);
	expect_digits(a, 0, "");
	vagent_audio_free(a);
	/* Quiet (-30 dBFS per tone) accepted; -50 dBFS is not a key press. */
	a = pair(8000, 697, 1633, -30, -30, 60);
	expect_digits(a, 0, "A");
	vagent_audio_free(a);
	a = pair(8000, 697, 1633, -50, -50, 60);
	expect_digits(a, 0, "");
	vagent_audio_free(a);
	/* Too short (20 ms): not a key press. */
	a = pair(8000, 697, 1209, -10, -10, 20);
	expect_digits(a, 0, "");
	vagent_audio_free(a);
	/* Both rows at once (two keys pressed): rejected. */
	a = pair(8000, 697, 1209, -10, -10, 80);
	for (size_t i = 0; i < a->frames; i++)
		if (a->samples[i] != 0)
			a->samples[i] += (float)(0.316 * sin(2 * M_PI * 852.0 * (double)i / 8000));
	expect_digits(a, 0, "");
	vagent_audio_free(a);
}
END_TEST

START_TEST(test_one_digit_per_press)
{
	struct vagent_audio *a = pad(synth("5", 8000, 1500, 0), 50, 50);

	expect_digits(a, 0, "5");            /* a long press is one digit */
	vagent_audio_free(a);
	a = pad(synth("555", 16000, 45, 40), 50, 50);
	expect_digits(a, 0, "555");          /* a 40 ms pause separates presses */
	vagent_audio_free(a);
	a = pad(synth("12", 8000, 80, 0), 50, 50);
	expect_digits(a, 0, "12");           /* a key change without a pause */
	vagent_audio_free(a);
	/* A 5 ms dropout in the middle of a press does not split it. */
	a = pad(synth("7", 8000, 300, 0), 50, 50);
	for (size_t i = 0; i < 40; i++)
		a->samples[400 + 1000 + i] = 0;
	expect_digits(a, 0, "7");
	vagent_audio_free(a);
}
END_TEST

/* Stream in 20 ms chunks: each digit once, its onset near the tone's start,
 * and active() while the tones sound. */
START_TEST(test_streaming_onsets_and_active)
{
	int rate = _i ? 16000 : 8000;
	struct vagent_audio *a = pad(synth("3#9", rate, 80, 120), 210, 200);
	struct vagent_dtmf_detector *d = vagent_dtmf_detector_new(rate);
	size_t chunk = vagent_frame_samples_for(rate, 20), total = 0;
	size_t active_chunks = 0;
	char digits[8];
	int64_t onsets[8];
	int16_t *pcm = malloc(a->frames * sizeof(*pcm));

	ck_assert_ptr_nonnull(d);
	ck_assert_ptr_nonnull(pcm);
	ck_assert(!vagent_dtmf_detector_active(d));
	for (size_t i = 0; i < a->frames; i++)
		pcm[i] = (int16_t)lrintf(a->samples[i] * 32767.0f);
	for (size_t off = 0; off + chunk <= a->frames; off += chunk) {
		size_t got = vagent_dtmf_detector_feed(d, pcm + off, chunk, digits + total,
						       onsets + total, 8 - total);

		total += got;
		active_chunks += vagent_dtmf_detector_active(d);
	}
	ck_assert_uint_eq(total, 3);
	ck_assert(memcmp(digits, "3#9", 3) == 0);
	for (int k = 0; k < 3; k++) {
		int64_t want = (int64_t)(210 + k * 200) * rate / 1000;

		ck_assert_msg(llabs(onsets[k] - want) <= rate * 13 / 1000,
			      "onset %d at %lld, tone starts at %lld", k, (long long)onsets[k],
			      (long long)want);
	}
	/* Three 80 ms tones: about 12 of the 20 ms chunks see a tone (a chunk
	 * after each tone too, while the press is released). */
	ck_assert_uint_ge(active_chunks, 9);
	ck_assert_uint_le(active_chunks, 18);
	ck_assert(!vagent_dtmf_detector_active(d));
	/* cap 0 and NULL buffers: nothing written, no crash. */
	ck_assert_uint_eq(vagent_dtmf_detector_feed(d, pcm, a->frames, NULL, NULL, 0), 0);
	ck_assert_uint_eq(vagent_dtmf_detector_feed(NULL, pcm, 10, digits, onsets, 8), 0);
	ck_assert_ptr_null(vagent_dtmf_detector_new(1000));
	vagent_dtmf_detector_free(d);
	vagent_dtmf_detector_free(NULL);
	free(pcm);
	vagent_audio_free(a);
}
END_TEST

START_TEST(test_through_ulaw)
{
	struct vagent_audio *a = pad(synth(all_keys, 8000, 50, 50), 40, 40);

	for (size_t i = 0; i < a->frames; i++) {
		int16_t s = (int16_t)lrintf(a->samples[i] * 32767.0f);

		a->samples[i] = (float)vagent_ulaw_decode(vagent_ulaw_encode(s)) / 32768.0f;
	}
	expect_digits(a, 0, all_keys);
	/* and quiet (-30 dBFS per tone), where μ-law noise is relatively larger */
	vagent_audio_gain(a, -20);
	for (size_t i = 0; i < a->frames; i++) {
		int16_t s = (int16_t)lrintf(a->samples[i] * 32767.0f);

		a->samples[i] = (float)vagent_ulaw_decode(vagent_ulaw_encode(s)) / 32768.0f;
	}
	expect_digits(a, 0, all_keys);
	vagent_audio_free(a);
}
END_TEST

/* Keys pressed while someone talks (flite speech 6 dB under the tones):
 * all found; the speech alone: none. */
START_TEST(test_under_speech)
{
	int rate = _i ? 16000 : 8000;
	struct vagent_audio *speech = NULL, *keys;
	struct vagent_error err;
	double speech_ms = 0, keys_ms = 0;
	size_t start;

	ck_assert_msg(vagent_flite_synth("Hello, I would like to pay my balance, my order number "
					 "is five five two one, and please hurry up.", NULL, rate,
					 &speech, &err) == VAGENT_OK, "%s", err.message);
	expect_digits(speech, 0, "");
	keys = synth("4521#", rate, 70, 80);
	ck_assert_uint_gt(speech->frames, keys->frames + (size_t)rate);
	start = (size_t)rate / 2;
	for (size_t i = 0; i < keys->frames; i++) {
		speech_ms += (double)speech->samples[start + i] * speech->samples[start + i];
		keys_ms += (double)keys->samples[i] * keys->samples[i];
	}
	/* Scale the speech to 6 dB under the tones over the span they share. */
	{
		double g = sqrt(keys_ms / speech_ms / pow(10, 0.6));

		for (size_t i = 0; i < speech->frames; i++)
			speech->samples[i] *= (float)g;
	}
	for (size_t i = 0; i < keys->frames; i++)
		speech->samples[start + i] += keys->samples[i];
	expect_digits(speech, 0, "4521#");
	vagent_audio_free(keys);
	vagent_audio_free(speech);
}
END_TEST

/* No digit anywhere in the speech and noise fixtures (talk-off). */
START_TEST(test_no_false_digits_on_fixtures)
{
	static const char *const files[] = {
		"fixtures/speech/asterisk/basic-pbx-ivr-main.wav",
		"fixtures/speech/asterisk/demo-echotest.wav",
		"fixtures/speech/asterisk/tt-monkeys.wav",
		"fixtures/speech/asterisk/vm-options.wav",
		"fixtures/speech/asterisk/vm-msginstruct.wav",
		"fixtures/speech/asterisk/dir-intro.wav",
		"fixtures/speech/asterisk/beep.wav",
		"fixtures/speech/asterisk/beeperr.wav",
		"fixtures/speech/asterisk/ascending-2tone.wav",
		"fixtures/speech/asterisk/descending-2tone.wav",
		"fixtures/speech/asterisk/digits/0.wav",
		"fixtures/speech/asterisk/digits/5.wav",
		"fixtures/speech/asterisk/digits/9.wav",
		"fixtures/speech/harvard/OSR_us_000_0034_8k.wav",
		"fixtures/speech/librispeech/1221-135766-0001.wav",
		"fixtures/speech/librispeech/1995-1837-0001.wav",
		"fixtures/speech/commercial-call/commercial_mono.wav",
		"fixtures/speech/ami-pyannote/tst00.wav",
		"fixtures/speech/picovoice-falcon/test.wav",
		"fixtures/noise/doing_the_dishes.wav",
		"fixtures/noise/exercise_bike.wav",
	};

	for (size_t i = 0; i < sizeof(files) / sizeof(files[0]); i++) {
		struct vagent_audio *a = NULL;
		struct vagent_error err;
		char got[64];

		ck_assert_msg(vagent_audio_load(top_path(files[i]), VAGENT_CHANNELS_MIX, &a, &err) ==
			      VAGENT_OK, "%s", err.message);
		vagent_dtmf_detect_audio(a, 0, got, sizeof(got));
		ck_assert_msg(got[0] == '\0', "%s: false digits \"%s\"", files[i], got);
		vagent_audio_free(a);
	}
}
END_TEST

START_TEST(test_detect_audio_channels_and_cap)
{
	struct vagent_audio *keys = pad(synth("0123456789", 8000, 50, 50), 20, 20);
	struct vagent_audio *st = vagent_audio_new(8000, 2, keys->frames);
	char out[4];

	ck_assert_ptr_nonnull(st);
	for (size_t i = 0; i < keys->frames; i++)
		st->samples[2 * i + 1] = keys->samples[i];
	expect_digits(st, 0, "");
	expect_digits(st, 1, "0123456789");
	expect_digits(st, -1, "0123456789");  /* the mix: 6 dB down, still found */
	expect_digits(st, 2, "");
	ck_assert_uint_eq(vagent_dtmf_detect_audio(st, 1, out, sizeof(out)), 3);
	ck_assert_str_eq(out, "012");
	ck_assert_uint_eq(vagent_dtmf_detect_audio(NULL, 0, out, sizeof(out)), 0);
	ck_assert_str_eq(out, "");
	vagent_audio_free(st);
	vagent_audio_free(keys);
}
END_TEST

/* ---- card numbers */

START_TEST(test_luhn)
{
	ck_assert(vagent_luhn_valid("4111111111111111", 16));
	ck_assert(!vagent_luhn_valid("4111111111111112", 16));
	ck_assert(vagent_luhn_valid("79927398713", 11));
	ck_assert(!vagent_luhn_valid("79927398710", 11));
	ck_assert(vagent_luhn_valid("378282246310005", 15));     /* Amex test number */
	ck_assert(vagent_luhn_valid("5500000000000004", 16));    /* Mastercard test */
	ck_assert(vagent_luhn_valid("6011111111111117", 16));    /* Discover test */
	ck_assert(vagent_luhn_valid("0", 1));
	ck_assert(!vagent_luhn_valid("4111 1111 1111 1111", 19)); /* digits only */
	ck_assert(!vagent_luhn_valid("", 0));
	ck_assert(!vagent_luhn_valid(NULL, 3));
}
END_TEST

static void expect_found(const char *text, const char *span)
{
	size_t off = 0, len = 0;

	ck_assert_msg(vagent_card_number_find(text, &off, &len), "no card in \"%s\"", text);
	ck_assert_msg(len == strlen(span) && strncmp(text + off, span, len) == 0,
		      "found \"%.*s\" in \"%s\", want \"%s\"", (int)len, text + off, text, span);
}

static void expect_none(const char *text)
{
	size_t off = 0, len = 0;

	ck_assert_msg(!vagent_card_number_find(text, &off, &len), "\"%.*s\" taken for a card in \"%s\"",
		      (int)len, text + off, text);
}

START_TEST(test_card_find)
{
	expect_found("4111111111111111", "4111111111111111");
	expect_found("my card is 4111 1111 1111 1111, expiry 12/27",
		     "4111 1111 1111 1111");
	expect_found("card: 5500-0000-0000-0004.", "5500-0000-0000-0004");
	expect_found("amex 3782 822463 10005 thanks", "3782 822463 10005");
	expect_found("it's four one one one one one one one one one one one one one one one ok",
		     "four one one one one one one one one one one one one one one one");
	expect_found("Five five oh oh, zero zero zero zero, 0000 0 0 0 4 please",
		     "Five five oh oh, zero zero zero zero, 0000 0 0 0 4");
	/* A digit before the number does not hide it. */
	expect_found("press 1 4111 1111 1111 1111", "4111 1111 1111 1111");
	/* Order numbers, phone numbers, amounts, a non-Luhn 16 digits, too long. */
	expect_none("my order number is 12345");
	expect_none("order 1 2 3 4 5");
	expect_none("call me on 555-123-4567 or (555) 123 4567");
	expect_none("five five five one two three four five six seven");
	expect_none("it was $4,111.11 on 2024-01-15 at 10:30");
	expect_none("4111 1111 1111 1112");
	expect_none("41111111111111111111111");             /* 23 digits in one run */
	expect_none("4111  1111  1111  1111");              /* double spaces: not one number */
	expect_none("4111 1111 1111 and then 1111");
	expect_none("someone one two");
	expect_none("");
	ck_assert(!vagent_card_number_find(NULL, NULL, NULL));
	ck_assert(vagent_card_number_find("x 4111111111111111", NULL, NULL));
}
END_TEST

START_TEST(test_card_redact)
{
	char a[] = "card 4111 1111 1111 1111 and 5500-0000-0000-0004; order 12345";
	char b[] = "it is four one one one one one one one one one one one one one one one, thanks";
	char c[] = "phone 555 123 4567, order 98765";
	char d[] = "3782822463100054111111111111111";  /* 31 digits: no card */
	char e[] = "6011111111111117";
	size_t before;

	before = strlen(a);
	ck_assert_uint_eq(vagent_card_number_redact(a), 2);
	ck_assert_str_eq(a, "card **** **** **** 1111 and ****-****-****-0004; order 12345");
	ck_assert_uint_eq(strlen(a), before);

	before = strlen(b);
	ck_assert_uint_eq(vagent_card_number_redact(b), 1);
	ck_assert_str_eq(b, "it is [card ending 1111], thanks");
	ck_assert_uint_le(strlen(b), before);
	ck_assert(!vagent_card_number_find(b, NULL, NULL));

	ck_assert_uint_eq(vagent_card_number_redact(c), 0);
	ck_assert_str_eq(c, "phone 555 123 4567, order 98765");
	ck_assert_uint_eq(vagent_card_number_redact(d), 0);
	ck_assert_uint_eq(vagent_card_number_redact(e), 1);
	ck_assert_str_eq(e, "************1117");
	ck_assert_uint_eq(vagent_card_number_redact(e), 0);  /* idempotent */
	ck_assert_uint_eq(vagent_card_number_redact(NULL), 0);
}
END_TEST


/* ---- calls: a keypad brain and a listening STT around the session */

#define MS VAGENT_TICKS_PER_MS

/* A brain that says a fixed line per turn, records what each request
 * carried, and turns PCI mode on or off or asks for digits when told. */
struct keypad_brain {
	struct vagent_brain base;
	struct vagent_timer *timer;
	uint64_t id;
	int turn;
	const char *replies[4];         /* per turn (0: the greeting) */
	int sensitive_on_turn, sensitive_off_turn;  /* -1: never */
	int expect_digits_turn, expect_digits;      /* -1: never */
	int64_t sensitive_on_at, sensitive_off_at;  /* session ticks, -1 */
	int n_req;
	char dtmf[8][64];               /* per request: the keys ("" if NULL) */
	int req_turn[8];
};

static void keypad_fired(struct vagent_timer *t, void *arg)
{
	struct keypad_brain *b = arg;
	int64_t now = vagent_loop_now(b->base.loop) - b->base.origin;
	const char *reply = b->turn >= 0 && b->turn < 4 && b->replies[b->turn]
			    ? b->replies[b->turn] : "Okay.";

	(void)t;
	if (b->turn == b->sensitive_on_turn) {
		b->sensitive_on_at = now;
		b->base.on_sensitive(b->base.ctx, b->id, true);
	}
	if (b->turn == b->sensitive_off_turn) {
		b->sensitive_off_at = now;
		b->base.on_sensitive(b->base.ctx, b->id, false);
	}
	if (b->turn == b->expect_digits_turn)
		b->base.on_expect_digits(b->base.ctx, b->id, b->expect_digits);
	b->base.on_first_token(b->base.ctx, b->id);
	b->base.on_text(b->base.ctx, b->id, reply);
	b->base.on_done(b->base.ctx, b->id);
}

static vagent_status keypad_respond(struct vagent_brain *base,
				    const struct vagent_brain_request *req,
				    struct vagent_error *err)
{
	struct keypad_brain *b = (struct keypad_brain *)base;

	if (!b->timer)
		b->timer = vagent_timer_new(base->loop, keypad_fired, b);
	ck_assert_ptr_nonnull(b->timer);
	if (b->n_req < 8) {
		snprintf(b->dtmf[b->n_req], sizeof(b->dtmf[0]), "%s", req->dtmf ? req->dtmf : "");
		b->req_turn[b->n_req] = req->turn;
		b->n_req++;
	}
	b->id = req->id;
	b->turn = req->turn;
	return vagent_timer_start(b->timer, 50 * MS, 0, err);
}

static void keypad_cancel(struct vagent_brain *base, uint64_t id)
{
	struct keypad_brain *b = (struct keypad_brain *)base;

	if (id == b->id)
		vagent_timer_stop(b->timer);
}

static void keypad_stop(struct vagent_brain *base)
{
	vagent_timer_stop(((struct keypad_brain *)base)->timer);
}

static void keypad_free(struct vagent_brain *base)
{
	vagent_timer_free(((struct keypad_brain *)base)->timer);
}

static const struct vagent_brain_ops keypad_ops = {
	.respond = keypad_respond, .cancel = keypad_cancel, .stop = keypad_stop,
	.free = keypad_free,
};

static void keypad_init(struct keypad_brain *b)
{
	memset(b, 0, sizeof(*b));
	b->base.ops = &keypad_ops;
	snprintf(b->base.name, sizeof(b->base.name), "keypad");
	b->sensitive_on_turn = b->sensitive_off_turn = b->expect_digits_turn = -1;
	b->sensitive_on_at = b->sensitive_off_at = -1;
}

/* An STT that keeps every sample it is fed and recognises with `inner`
 * (the simulated STT) when there is one, else nothing. */
struct ear_stt {
	struct vagent_stt base;
	struct vagent_audio *heard;
	struct vagent_stt *inner;
};

/* The session wired the ear; the inner STT answers through the same. */
static struct vagent_stt *ear_inner(struct ear_stt *e)
{
	if (e->inner) {
		e->inner->loop = e->base.loop;
		e->inner->origin = e->base.origin;
		e->inner->on_partial = e->base.on_partial;
		e->inner->on_final = e->base.on_final;
		e->inner->on_error = e->base.on_error;
		e->inner->ctx = e->base.ctx;
	}
	return e->inner;
}

static void ear_audio(struct vagent_stt *p, const struct vagent_frame *f,
		      const struct vagent_speech_truth *truth)
{
	struct ear_stt *e = (struct ear_stt *)p;
	struct vagent_stt *in = ear_inner(e);

	ck_assert_int_eq(vagent_audio_append_frame(e->heard, f), VAGENT_OK);
	if (in)
		in->ops->audio(in, f, truth);
}

static void ear_speech(struct vagent_stt *p, bool started, int64_t pts)
{
	struct vagent_stt *in = ear_inner((struct ear_stt *)p);

	if (in && in->ops->speech)
		in->ops->speech(in, started, pts);
}

static void ear_turn_end(struct vagent_stt *p, int64_t pts)
{
	struct vagent_stt *in = ear_inner((struct ear_stt *)p);

	if (in && in->ops->turn_end)
		in->ops->turn_end(in, pts);
}

static void ear_stop(struct vagent_stt *p)
{
	struct vagent_stt *in = ear_inner((struct ear_stt *)p);

	if (in && in->ops->stop)
		in->ops->stop(in);
}

static void ear_free(struct vagent_stt *p)
{
	struct ear_stt *e = (struct ear_stt *)p;

	vagent_audio_free(e->heard);
	vagent_stt_free(e->inner);
}

static const struct vagent_stt_ops ear_ops = {
	.audio = ear_audio, .speech = ear_speech, .turn_end = ear_turn_end,
	.stop = ear_stop, .free = ear_free,
};

/* One call: the caller presses `keys` (groups separated by '|', each
 * played after the agent's reply ends), everything else fixed. */
struct keycall {
	struct keypad_brain brain;
	struct vagent_brain *flow;      /* instead of the keypad brain */
	struct vagent_tools *tools;
	struct vagent_agent *agent;
	struct ear_stt ear;
	struct vagent_tts *tts;
	struct vagent_caller *caller;
	struct vagent_audio *tones[4];
	struct vagent_sim_step steps[10];
	size_t n_steps;
	struct vagent_session *s;
	struct vagent_trace *trace;
	const char *trace_text;
	int rate;
};

static void keycall_init(struct keycall *k, int rate)
{
	memset(k, 0, sizeof(*k));
	keypad_init(&k->brain);
	k->rate = rate;
	k->ear.base.ops = &ear_ops;
	snprintf(k->ear.base.name, sizeof(k->ear.base.name), "ear");
	k->ear.heard = vagent_audio_new(rate, 1, 0);
	ck_assert_ptr_nonnull(k->ear.heard);
}

/* The caller presses `keys` (80 ms tones, 80 ms apart) `offset_ms` after
 * the anchor. */
static void keycall_press(struct keycall *k, vagent_sim_anchor anchor, int offset_ms,
			  const char *keys)
{
	size_t i = k->n_steps++, t = 0;

	while (k->tones[t])
		t++;
	k->tones[t] = synth(keys, k->rate, 80, 80);
	k->steps[i].kind = VAGENT_STEP_SAY;
	k->steps[i].anchor = anchor;
	k->steps[i].offset_ms = offset_ms;
	k->steps[i].text = NULL;
	k->steps[i].audio = k->tones[t];
}

/* The caller says `text` `offset_ms` after the agent's reply ends. */
static void keycall_say(struct keycall *k, int offset_ms, const char *text)
{
	size_t i = k->n_steps++;

	k->steps[i].kind = VAGENT_STEP_SAY;
	k->steps[i].anchor = VAGENT_ANCHOR_AGENT_DONE;
	k->steps[i].offset_ms = offset_ms;
	k->steps[i].text = text;
}

static void keycall_run(struct keycall *k)
{
	struct vagent_sim_caller_config cc = vagent_sim_caller_config_default();
	struct vagent_sim_tts_config tc = vagent_sim_tts_config_default();
	struct vagent_session_config cfg = vagent_session_config_default();
	struct vagent_error err;
	size_t len;

	k->steps[k->n_steps].kind = VAGENT_STEP_SILENCE;
	k->steps[k->n_steps].anchor = VAGENT_ANCHOR_AGENT_DONE;
	k->steps[k->n_steps].duration_ms = 200;
	k->n_steps++;
	cc.rate = k->rate;
	cc.steps = k->steps;
	cc.n_steps = k->n_steps;
	cc.hangup_after_ms = 1000;
	tc.first_byte.jitter_ms = 0;
	ck_assert_msg(vagent_sim_caller_new(&cc, &k->caller, &err) == VAGENT_OK, "%s", err.message);
	ck_assert_int_eq(vagent_sim_tts_new(&tc, &k->tts, &err), VAGENT_OK);
	cfg.name = "keys";
	cfg.rate = k->rate;
	cfg.keep_trace = true;
	cfg.record = true;
	cfg.caller = k->caller;
	cfg.stt[0] = &k->ear.base;
	cfg.brain[0] = k->flow ? k->flow : &k->brain.base;
	cfg.tools = k->tools;
	if (k->agent) {
		cfg.agent = k->agent->config;
		cfg.agent.greet = true;
	}
	cfg.tts[0] = k->tts;
	ck_assert_msg(vagent_session_run(&cfg, VAGENT_CLOCK_VIRTUAL, &k->s, &err) == VAGENT_OK,
		      "%s", err.message);
	k->trace_text = vagent_session_trace(k->s, &len);
	ck_assert_msg(vagent_trace_parse(k->trace_text, len, "keys", &k->trace, &err) == VAGENT_OK,
		      "%s", err.message);
}

static void keycall_free(struct keycall *k)
{
	vagent_session_free(k->s);
	vagent_trace_free(k->trace);
	vagent_stt_free(&k->ear.base);
	vagent_brain_free(&k->brain.base);
	vagent_brain_free(k->flow);
	vagent_tools_free(k->tools);
	vagent_agent_free(k->agent);
	vagent_tts_free(k->tts);
	vagent_caller_free(k->caller);
	for (int i = 0; i < 4; i++)
		vagent_audio_free(k->tones[i]);
}

/* The dtmf events of the call as a string ('?' for a redacted key), and
 * the first one's index. */
static void keys_of(const struct keycall *k, int turn, char *out, size_t cap)
{
	size_t n = 0;

	for (size_t i = 0; i < k->trace->n && n + 1 < cap; i++) {
		const struct vagent_trace_event *e = &k->trace->events[i];

		if (e->type == VAGENT_TRACE_DTMF && (turn < 0 || e->turn == turn))
			out[n++] = e->redacted ? '?' : e->digit[0];
	}
	out[n] = '\0';
}

static const struct vagent_trace_event *event(const struct keycall *k, vagent_trace_type type,
					      int turn, int nth)
{
	for (size_t i = 0; i < k->trace->n; i++) {
		const struct vagent_trace_event *e = &k->trace->events[i];

		if (e->type == type && (turn < 0 || e->turn == turn) && nth-- == 0)
			return e;
	}
	ck_abort_msg("no %s #%d in turn %d:\n%s", vagent_trace_type_name(type), nth, turn,
		     k->trace_text);
	return NULL;
}

/* Channel 0 (the caller) of the recording. */
static struct vagent_audio *caller_channel(const struct keycall *k)
{
	const struct vagent_audio *rec = vagent_session_recording(k->s);
	struct vagent_audio *left;

	ck_assert_ptr_nonnull(rec);
	ck_assert_int_eq(rec->channels, 2);
	left = vagent_audio_new(rec->rate, 1, rec->frames);
	ck_assert_ptr_nonnull(left);
	for (size_t i = 0; i < rec->frames; i++)
		left->samples[i] = rec->samples[2 * i];
	return left;
}

/* An order number pressed after the greeting: a dtmf event per key at
 * its tone's onset, the turn ends on '#', the brain gets the keys, the
 * recording keeps the tones and the recogniser never hears them. */
START_TEST(test_call_order_number_by_keys)
{
	struct keycall k;
	const struct vagent_trace_event *first, *hash, *tend;
	char keys[32];
	struct vagent_audio *left;
	int64_t played;

	keycall_init(&k, _i ? 16000 : 8000);
	k.brain.replies[0] = "Please enter your order number, then press hash.";
	k.brain.replies[1] = "Thank you.";
	keycall_press(&k, VAGENT_ANCHOR_AGENT_DONE, 500, "12345#");
	keycall_run(&k);

	keys_of(&k, 1, keys, sizeof(keys));
	ck_assert_str_eq(keys, "12345#");
	keys_of(&k, -1, keys, sizeof(keys));
	ck_assert_str_eq(keys, "12345#");
	ck_assert_int_eq(k.brain.n_req, 2);
	ck_assert_int_eq(k.brain.req_turn[1], 1);
	ck_assert_str_eq(k.brain.dtmf[1], "12345#");
	ck_assert_str_eq(k.brain.dtmf[0], "");
	/* onsets 160 ms apart, at the tones (the step starts on the sample
	 * grid: caller.speech_start is its true start) */
	first = event(&k, VAGENT_TRACE_DTMF, 1, 0);
	played = event(&k, VAGENT_TRACE_CALLER_SPEECH_START, 1, 0)->t_us;
	ck_assert_msg(llabs(first->t_us - played) <= 13000, "first key at %lld us, tone at %lld us",
		      (long long)first->t_us, (long long)played);
	for (int i = 1; i < 6; i++) {
		int64_t d = event(&k, VAGENT_TRACE_DTMF, 1, i)->t_us - first->t_us;

		ck_assert_msg(llabs(d - i * 160000) <= 13000, "key %d %lld us after the first", i,
			      (long long)d);
	}
	/* the turn ends as '#' is recognised (two 12.75 ms blocks in, on the
	 * 20 ms frame grid), not 2.5 s later */
	hash = event(&k, VAGENT_TRACE_DTMF, 1, 5);
	tend = event(&k, VAGENT_TRACE_TURN_END, 1, 0);
	ck_assert_int_ge(tend->t_us, hash->t_us);
	ck_assert_int_le(tend->t_us - hash->t_us, 60000);
	/* the recording keeps the keys; the recogniser heard none of them */
	left = caller_channel(&k);
	expect_digits(left, 0, "12345#");
	expect_digits(k.ear.heard, 0, "");
	vagent_audio_free(left);
	keycall_free(&k);
}
END_TEST

/* Keys without '#': the turn ends 2.5 s after the last; with the digit
 * count the brain asked for, at the last digit. */
START_TEST(test_call_key_turn_timeout_and_expected_count)
{
	struct keycall k;
	const struct vagent_trace_event *last, *tend;

	keycall_init(&k, 8000);
	k.brain.replies[0] = "Which option?";
	keycall_press(&k, VAGENT_ANCHOR_AGENT_DONE, 300, "42");
	keycall_run(&k);
	last = event(&k, VAGENT_TRACE_DTMF, 1, 1);
	tend = event(&k, VAGENT_TRACE_TURN_END, 1, 0);
	ck_assert_str_eq(last->digit, "2");
	ck_assert_int_ge(tend->t_us - last->t_us, 2500000);
	ck_assert_int_le(tend->t_us - last->t_us, 2560000);
	ck_assert_str_eq(k.brain.dtmf[1], "42");
	keycall_free(&k);

	keycall_init(&k, 8000);
	k.brain.replies[0] = "Your four digit PIN please.";
	k.brain.expect_digits_turn = 0;
	k.brain.expect_digits = 4;
	keycall_press(&k, VAGENT_ANCHOR_AGENT_DONE, 300, "2580");
	keycall_run(&k);
	last = event(&k, VAGENT_TRACE_DTMF, 1, 3);
	tend = event(&k, VAGENT_TRACE_TURN_END, 1, 0);
	ck_assert_int_le(tend->t_us - last->t_us, 60000);
	ck_assert_str_eq(k.brain.dtmf[1], "2580");
	keycall_free(&k);
}
END_TEST

/* A key pressed while the agent talks interrupts it. */
START_TEST(test_call_key_barges_in)
{
	struct keycall k;
	const struct vagent_trace_event *key, *barge, *stop;

	keycall_init(&k, 16000);
	k.brain.replies[0] = "Welcome to the store. For orders press one. For billing press two. "
			     "For anything else stay on the line.";
	keycall_press(&k, VAGENT_ANCHOR_AGENT_SPEAKING, 1000, "2");
	keycall_run(&k);
	key = event(&k, VAGENT_TRACE_DTMF, 1, 0);
	barge = event(&k, VAGENT_TRACE_BARGE_IN, 0, 0);
	stop = event(&k, VAGENT_TRACE_AGENT_AUDIO_STOP, 0, 0);
	ck_assert_str_eq(key->digit, "2");
	ck_assert_str_eq(stop->reason, "barge_in");
	ck_assert_int_eq(barge->onset_us, key->t_us);
	/* stopped within a frame of the key being recognised (~26 ms in) */
	ck_assert_int_le(stop->t_us - key->t_us, 60000);
	ck_assert(vagent_session_result(k.s)->turns[0].interrupted);
	ck_assert_str_eq(k.brain.dtmf[1], "2");
	keycall_free(&k);
}
END_TEST

/* A card number by keys in PCI mode: the brain gets it; the trace, the
 * result texts, the recording's caller channel and the recogniser do not. */
START_TEST(test_call_card_in_pci_mode)
{
	struct keycall k;
	const struct vagent_session_result *res;
	struct vagent_audio *left;
	char keys[64];
	size_t from, to;

	keycall_init(&k, 8000);
	k.brain.replies[0] = "Please enter your card number, then press hash.";
	k.brain.replies[1] = "Thank you, your card ending 1111 is accepted. Press 9 to hear it again.";
	k.brain.sensitive_on_turn = 0;
	k.brain.sensitive_off_turn = 1;
	keycall_press(&k, VAGENT_ANCHOR_AGENT_DONE, 400, "4111111111111111#");
	keycall_press(&k, VAGENT_ANCHOR_AGENT_DONE, 400, "9#");
	keycall_run(&k);

	ck_assert_str_eq(k.brain.dtmf[1], "4111111111111111#");
	ck_assert_str_eq(k.brain.dtmf[2], "9#");
	keys_of(&k, -1, keys, sizeof(keys));
	ck_assert_str_eq(keys, "?????????????????9#");
	/* nowhere in the trace, as digits or otherwise */
	ck_assert_ptr_null(strstr(k.trace_text, "4111"));
	ck_assert(!vagent_card_number_find(k.trace_text, NULL, NULL));
	ck_assert_ptr_nonnull(strstr(k.trace_text, "\"redacted\":true"));
	res = vagent_session_result(k.s);
	for (size_t i = 0; i < res->n_turns; i++) {
		const char *texts[] = { res->turns[i].caller_text, res->turns[i].stt_text,
					res->turns[i].agent_text };

		for (int j = 0; j < 3; j++)
			ck_assert(!texts[j] || !vagent_card_number_find(texts[j], NULL, NULL));
	}
	/* the recording's caller channel: only the keys pressed after PCI */
	left = caller_channel(&k);
	expect_digits(left, 0, "9#");
	/* and the recogniser heard pure silence from PCI on to PCI off */
	ck_assert_int_ge(k.brain.sensitive_on_at, 0);
	ck_assert_int_gt(k.brain.sensitive_off_at, k.brain.sensitive_on_at);
	from = (size_t)vagent_ticks_to_samples(k.brain.sensitive_on_at, 8000);
	to = (size_t)vagent_ticks_to_samples(k.brain.sensitive_off_at, 8000);
	ck_assert_uint_le(to, k.ear.heard->frames);
	for (size_t i = from; i < to; i++) {
		ck_assert(k.ear.heard->samples[i] == 0.0f);
		ck_assert(left->samples[i] == 0.0f);
	}
	expect_digits(k.ear.heard, 0, "");
	vagent_audio_free(left);
	keycall_free(&k);
}
END_TEST

/* The flow brain end to end (fixtures/agents/pay.json): the intent by
 * speech, the card by keys in PCI mode, the mock payment. */
START_TEST(test_call_flow_card_payment)
{
	struct keycall k;
	struct vagent_flow_config fc = vagent_flow_config_default();
	struct vagent_sim_stt_config sc = vagent_sim_stt_config_default();
	struct vagent_sim_tools_config tc;
	struct vagent_sim_tool tool;
	struct vagent_error err;
	const struct vagent_trace_event *tool_start, *first, *last;
	struct vagent_audio *left;
	char keys[64];
	size_t from, to;

	keycall_init(&k, 8000);
	ck_assert_msg(vagent_agent_load(top_path("fixtures/agents/pay.json"), &k.agent, &err) ==
		      VAGENT_OK, "%s", err.message);
	ck_assert_int_eq(vagent_flow_brain_new(k.agent, &fc, &k.flow, &err), VAGENT_OK);
	memset(&tc, 0, sizeof(tc));
	memset(&tool, 0, sizeof(tool));
	tool.name = k.agent->tools[0].name;
	tool.result = k.agent->tools[0].mock_result;
	tool.latency = k.agent->tools[0].mock_latency;
	tc.tools = &tool;
	tc.n_tools = 1;
	ck_assert_int_eq(vagent_sim_tools_new(&tc, &k.tools, &err), VAGENT_OK);
	sc.first_partial.jitter_ms = 0;
	sc.final.jitter_ms = 0;
	ck_assert_int_eq(vagent_sim_stt_new(&sc, &k.ear.inner, &err), VAGENT_OK);
	keycall_say(&k, 300, "i want to pay my balance");
	keycall_press(&k, VAGENT_ANCHOR_AGENT_DONE, 400, "4111111111111111#");
	keycall_say(&k, 300, "that's all thanks");
	keycall_run(&k);

	keys_of(&k, -1, keys, sizeof(keys));
	ck_assert_str_eq(keys, "?????????????????");
	tool_start = event(&k, VAGENT_TRACE_TOOL_START, 2, 0);
	ck_assert_str_eq(tool_start->name, "take_payment");
	ck_assert_str_eq(tool_start->args, "{\"card_number\":\"************1111\",\"amount\":25}");
	ck_assert_ptr_nonnull(strstr(k.trace_text, "the card ending 1111 is approved"));
	ck_assert_ptr_null(strstr(k.trace_text, "4111"));
	ck_assert(!vagent_card_number_find(k.trace_text, NULL, NULL));
	ck_assert_str_eq(vagent_session_result(k.s)->end_reason, "agent_hangup");
	/* the recording's caller channel and the recogniser: silence while
	 * the keys sounded, no key anywhere */
	first = event(&k, VAGENT_TRACE_DTMF, 2, 0);
	last = event(&k, VAGENT_TRACE_DTMF, 2, 16);
	from = (size_t)vagent_ticks_to_samples(first->t_us * 705600 / 1000 - 20 * MS, 8000);
	to = (size_t)vagent_ticks_to_samples(last->t_us * 705600 / 1000 + 100 * MS, 8000);
	left = caller_channel(&k);
	ck_assert_uint_le(to, left->frames);
	for (size_t i = from; i < to; i++) {
		ck_assert(left->samples[i] == 0.0f);
		ck_assert(k.ear.heard->samples[i] == 0.0f);
	}
	expect_digits(left, 0, "");
	expect_digits(k.ear.heard, 0, "");
	vagent_audio_free(left);
	keycall_free(&k);
}
END_TEST

/* ---- the trace: redaction is the writer's last line of defence */

START_TEST(test_trace_redacts_and_dtmf_redacted_field)
{
	struct vagent_trace_writer *w = vagent_trace_writer_new(NULL, "c");
	struct vagent_trace *t = NULL;
	struct vagent_error err;
	const char *text;
	size_t len;

	ck_assert_ptr_nonnull(w);
	ck_assert_int_eq(vagent_trace_writer_add(w, &(struct vagent_trace_event){
		.type = VAGENT_TRACE_STT_FINAL, .text = "my card is 4111 1111 1111 1111 ok" },
		&err), VAGENT_OK);
	ck_assert_int_eq(vagent_trace_writer_add(w, &(struct vagent_trace_event){
		.type = VAGENT_TRACE_TOOL_START, .name = "take_payment", .id = "1",
		.args = "{\"card\":\"4111111111111111\",\"n\":4111111111111111,\"amount\":12.5,"
			"\"order\":12345}" }, &err), VAGENT_OK);
	ck_assert_int_eq(vagent_trace_writer_add(w, &(struct vagent_trace_event){
		.type = VAGENT_TRACE_DTMF, .digit = "4", .redacted = true }, &err), VAGENT_OK);
	ck_assert_int_eq(vagent_trace_writer_add(w, &(struct vagent_trace_event){
		.type = VAGENT_TRACE_DTMF, .digit = "#" }, &err), VAGENT_OK);
	ck_assert_int_eq(vagent_trace_writer_add(w, &(struct vagent_trace_event){
		.type = VAGENT_TRACE_DTMF }, &err), VAGENT_EINVAL);
	ck_assert_ptr_nonnull(strstr(err.message, "missing \"digit\""));
	text = vagent_trace_writer_buffer(w, &len);
	ck_assert_ptr_nonnull(strstr(text, "\"text\":\"my card is **** **** **** 1111 ok\""));
	ck_assert_ptr_nonnull(strstr(text, "\"args\":{\"card\":\"************1111\","
				     "\"n\":\"[card ending 1111]\",\"amount\":12.5,\"order\":12345}"));
	ck_assert_ptr_nonnull(strstr(text, "\"type\":\"dtmf\",\"redacted\":true}"));
	ck_assert_ptr_nonnull(strstr(text, "\"type\":\"dtmf\",\"digit\":\"#\"}"));
	ck_assert_int_eq(vagent_trace_parse(text, len, "t", &t, &err), VAGENT_OK);
	ck_assert_uint_eq(t->n, 4);
	ck_assert(t->events[2].redacted);
	ck_assert_ptr_null(t->events[2].digit);
	ck_assert(!t->events[3].redacted);
	ck_assert_str_eq(t->events[3].digit, "#");
	vagent_trace_free(t);
	vagent_trace_writer_free(w);

	text = "{\"t_ms\":1,\"call\":\"c\",\"turn\":0,\"type\":\"dtmf\"}";
	ck_assert_int_eq(vagent_trace_parse(text, strlen(text), "x.jsonl", &t, &err), VAGENT_EFORMAT);
	ck_assert_str_eq(err.message, "x.jsonl:1: dtmf: missing \"digit\"");
	text = "{\"t_ms\":1,\"call\":\"c\",\"turn\":0,\"type\":\"dtmf\",\"digit\":\"1\",\"redacted\":true}";
	ck_assert_int_eq(vagent_trace_parse(text, strlen(text), "x.jsonl", &t, &err), VAGENT_EFORMAT);
	ck_assert_str_eq(err.message, "x.jsonl:1: dtmf: a redacted key has no \"digit\"");
	text = "{\"t_ms\":1,\"call\":\"c\",\"turn\":0,\"type\":\"dtmf\",\"redacted\":1}";
	ck_assert_int_eq(vagent_trace_parse(text, strlen(text), "x.jsonl", &t, &err), VAGENT_EFORMAT);
}
END_TEST

Suite *suite_dtmf(void);
Suite *suite_dtmf(void)
{
	Suite *s = suite_create("dtmf");
	TCase *tc = tcase_create("tones");

	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, test_synth_shape_and_level);
	tcase_add_test(tc, test_round_trip_all_keys);
	tcase_add_test(tc, test_q24_like_checks);
	tcase_add_test(tc, test_one_digit_per_press);
	tcase_add_loop_test(tc, test_streaming_onsets_and_active, 0, 2);
	tcase_add_test(tc, test_through_ulaw);
	tcase_add_loop_test(tc, test_under_speech, 0, 2);
	tcase_add_test(tc, test_no_false_digits_on_fixtures);
	tcase_add_test(tc, test_detect_audio_channels_and_cap);
	suite_add_tcase(s, tc);

	tc = tcase_create("cards");
	tcase_add_test(tc, test_luhn);
	tcase_add_test(tc, test_card_find);
	tcase_add_test(tc, test_card_redact);
	tcase_add_test(tc, test_trace_redacts_and_dtmf_redacted_field);
	suite_add_tcase(s, tc);

	tc = tcase_create("calls");
	tcase_set_timeout(tc, 60);
	tcase_add_loop_test(tc, test_call_order_number_by_keys, 0, 2);
	tcase_add_test(tc, test_call_key_turn_timeout_and_expected_count);
	tcase_add_test(tc, test_call_key_barges_in);
	tcase_add_test(tc, test_call_card_in_pci_mode);
	tcase_add_test(tc, test_call_flow_card_payment);
	suite_add_tcase(s, tc);
	return s;
}
