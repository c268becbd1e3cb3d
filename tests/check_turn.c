/*
 * check_turn.c — end-of-turn detection at exact media-clock values (a
 * scripted VAD with the real one's onset/hangover semantics), the
 * transcript hold rule and its word matching, reset, bad input, and the
 * real VAD on recorded digits read with a pause.
 */
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "vagent.h"
#include "support/harness.h"
#include "bench/vad_set.h"

#define F_MS 20
#define F    (F_MS * VAGENT_TICKS_PER_MS)

/*
 * A scripted VAD: speech starts on the third consecutive speech-like frame
 * (START event_pts = the run's first frame) and ends on the eleventh frame
 * after the last speech-like one (END event_pts = that frame's end), like
 * vagent's VAD with its defaults at 20 ms.
 */
struct script_vad {
	int run, since;
	bool speech;
	int64_t like_end;
};

static struct vagent_vad_result script_step(struct script_vad *v, bool like, int64_t pts)
{
	struct vagent_vad_result r;

	memset(&r, 0, sizeof(r));
	r.speech_like = like;
	r.probability = like ? 0.9 : 0.1;
	if (!v->speech) {
		v->run = like ? v->run + 1 : 0;
		if (v->run >= 3) {
			v->speech = true;
			v->since = 0;
			v->like_end = pts + F;
			r.event = VAGENT_VAD_START;
			r.event_pts = pts - (v->run - 1) * F;
		}
	} else if (like) {
		v->like_end = pts + F;
		v->since = 0;
	} else if (++v->since > 10) {
		v->speech = false;
		v->run = 0;
		r.event = VAGENT_VAD_END;
		r.event_pts = v->like_end;
	}
	r.speech = v->speech;
	return r;
}

/* Speech-like intervals [from, to) in ms, ended by {0, 0}. */
struct span { int from, to; };

static bool like_at(const struct span *s, int ms)
{
	for (; s->to; s++)
		if (ms >= s->from && ms < s->to)
			return true;
	return false;
}

/* A transcript update at `ms`; {0, NULL} ends the list. */
struct said { int ms; const char *text; };

/* Run frames 0..until_ms; events recorded with the frame index. */
struct rec {
	struct vagent_turn_event ev[16];
	int frame[16];
	int n;
};

static void drive(struct vagent_turn_detector *d, const struct span *speech,
		  const struct said *said, int until_ms, struct rec *out)
{
	struct script_vad v;
	struct vagent_error err;

	memset(&v, 0, sizeof(v));
	memset(out, 0, sizeof(*out));
	for (int i = 0; i * F_MS < until_ms; i++) {
		int64_t pts = (int64_t)i * F;
		struct vagent_vad_result r = script_step(&v, like_at(speech, i * F_MS), pts);
		struct vagent_turn_event ev;

		for (const struct said *s = said; s && s->text; s++)
			if (s->ms == i * F_MS)
				vagent_turn_detector_set_transcript(d, s->text);
		ck_assert_msg(vagent_turn_detector_push_vad(d, &r, pts, F, &ev, &err) == VAGENT_OK,
			      "%s", err.message);
		if (ev.type != VAGENT_TURN_NONE) {
			ck_assert_int_lt(out->n, 16);
			out->ev[out->n] = ev;
			out->frame[out->n++] = i;
		}
	}
}

static struct vagent_turn_detector *make(int start_ms, int min_ms, int max_ms)
{
	struct vagent_turn_config cfg = vagent_turn_config_default();
	struct vagent_turn_detector *d = NULL;
	struct vagent_error err;

	cfg.start_ms = start_ms;
	cfg.min_hold_ms = min_ms;
	cfg.max_hold_ms = max_ms;
	ck_assert_msg(vagent_turn_detector_new(&cfg, &d, &err) == VAGENT_OK, "%s", err.message);
	return d;
}

#define MS(x) ((int64_t)(x) * VAGENT_TICKS_PER_MS)

START_TEST(test_defaults)
{
	struct vagent_turn_config c = vagent_turn_config_default();
	const char *const *w = vagent_turn_default_hold_words();
	size_t n = 0;

	ck_assert_int_eq(c.start_ms, 150);
	ck_assert_int_eq(c.min_hold_ms, 500);
	ck_assert_int_eq(c.max_hold_ms, 1500);
	ck_assert(c.hold_rule);
	ck_assert_ptr_null(c.hold_words);
	while (w[n])
		n++;
	ck_assert_int_gt(n, 40);
}
END_TEST

/* Speech 1000..2000 ms, hold 500: START confirmed at 1160 (150 ms of
 * speech, frame [1140, 1160)), END at exactly 2500 on frame [2480, 2500). */
START_TEST(test_end_at_hold)
{
	static const struct span sp[] = { { 1000, 2000 }, { 0, 0 } };
	struct vagent_turn_detector *d = make(150, 500, 1500);
	struct rec r;

	drive(d, sp, NULL, 5000, &r);
	ck_assert_int_eq(r.n, 2);
	ck_assert_int_eq(r.ev[0].type, VAGENT_TURN_START);
	ck_assert_int_eq(r.ev[0].pts, MS(1160));
	ck_assert_int_eq(r.ev[0].speech_pts, MS(1000));
	ck_assert_int_eq(r.frame[0], 57);
	ck_assert_int_eq(r.ev[1].type, VAGENT_TURN_END);
	ck_assert_int_eq(r.ev[1].pts, MS(2500));
	ck_assert_int_eq(r.ev[1].speech_pts, MS(2000));
	ck_assert_int_eq(r.ev[1].hold, MS(500));
	ck_assert(!r.ev[1].extended);
	ck_assert_int_eq(r.frame[1], 124);
	ck_assert(!vagent_turn_detector_in_turn(d));
	vagent_turn_detector_free(d);
}
END_TEST

/* Speech resuming at 2300 cancels the pending end: one turn, END at
 * 3000 + 500. */
START_TEST(test_resume_cancels)
{
	static const struct span sp[] = { { 1000, 2000 }, { 2300, 3000 }, { 0, 0 } };
	struct vagent_turn_detector *d = make(150, 500, 1500);
	struct rec r;

	drive(d, sp, NULL, 5000, &r);
	ck_assert_int_eq(r.n, 2);
	ck_assert_int_eq(r.ev[0].type, VAGENT_TURN_START);
	ck_assert_int_eq(r.ev[1].type, VAGENT_TURN_END);
	ck_assert_int_eq(r.ev[1].pts, MS(3500));
	ck_assert_int_eq(r.ev[1].speech_pts, MS(3000));
	vagent_turn_detector_free(d);
}
END_TEST

/* Speech-like frames at the deadline defer it: resumed at 2460, the VAD
 * confirms at 2520 and the turn goes on (END 3100); a 40 ms blip at 2460
 * that the VAD drops moves END only to the next quiet frame, 2520. */
START_TEST(test_deadline_waits_for_onset)
{
	static const struct span resumed[] = { { 1000, 2000 }, { 2460, 2600 }, { 0, 0 } };
	static const struct span blip[] = { { 1000, 2000 }, { 2460, 2500 }, { 0, 0 } };
	struct vagent_turn_detector *d = make(150, 500, 1500);
	struct rec r;

	drive(d, resumed, NULL, 5000, &r);
	ck_assert_int_eq(r.n, 2);
	ck_assert_int_eq(r.ev[1].type, VAGENT_TURN_END);
	ck_assert_int_eq(r.ev[1].pts, MS(3100));
	vagent_turn_detector_reset(d);
	drive(d, blip, NULL, 5000, &r);
	ck_assert_int_eq(r.n, 2);
	ck_assert_int_eq(r.ev[1].pts, MS(2520));
	ck_assert_int_eq(r.ev[1].speech_pts, MS(2000));
	vagent_turn_detector_free(d);
}
END_TEST

/* "my number is four five" → the hold extends to 1500: END at 3500. The
 * transcript is cleared at END: the next turn uses the short hold. */
START_TEST(test_transcript_extends)
{
	static const struct span sp[] = { { 1000, 2000 }, { 5000, 6000 }, { 0, 0 } };
	static const struct said said[] = { { 2100, "My number is four five" }, { 0, NULL } };
	struct vagent_turn_detector *d = make(150, 500, 1500);
	struct rec r;

	drive(d, sp, said, 8000, &r);
	ck_assert_int_eq(r.n, 4);
	ck_assert_int_eq(r.ev[1].type, VAGENT_TURN_END);
	ck_assert_int_eq(r.ev[1].pts, MS(3500));
	ck_assert_int_eq(r.ev[1].hold, MS(1500));
	ck_assert(r.ev[1].extended);
	ck_assert_int_eq(r.ev[2].type, VAGENT_TURN_START);
	ck_assert_int_eq(r.ev[2].speech_pts, MS(5000));
	ck_assert_int_eq(r.ev[3].type, VAGENT_TURN_END);
	ck_assert_int_eq(r.ev[3].pts, MS(6500));
	ck_assert(!r.ev[3].extended);
	vagent_turn_detector_free(d);
}
END_TEST

/* A later partial that ends the number ("... four five, thanks.") brings
 * the short hold back; with hold_rule off the text is ignored. */
START_TEST(test_transcript_update_and_rule_off)
{
	static const struct span sp[] = { { 1000, 2000 }, { 0, 0 } };
	static const struct said said[] = {
		{ 2100, "my number is four five" }, { 2400, "my number is four five, thanks." },
		{ 0, NULL } };
	static const struct said num[] = { { 2100, "415 555" }, { 0, NULL } };
	struct vagent_turn_config cfg = vagent_turn_config_default();
	struct vagent_turn_detector *d = make(150, 500, 1500);
	struct vagent_error err;
	struct rec r;

	drive(d, sp, said, 5000, &r);
	ck_assert_int_eq(r.n, 2);
	ck_assert_int_eq(r.ev[1].pts, MS(2500));
	ck_assert(!r.ev[1].extended);
	/* an update after the short deadline passed is too late for that turn,
	 * and does not hold the next one either */
	vagent_turn_detector_reset(d);
	{
		static const struct span two[] = { { 1000, 2000 }, { 4000, 5000 }, { 0, 0 } };
		static const struct said late[] = { { 2600, "four" }, { 0, NULL } };

		drive(d, two, late, 7000, &r);
		ck_assert_int_eq(r.n, 4);
		ck_assert_int_eq(r.ev[1].pts, MS(2500));
		ck_assert_int_eq(r.ev[3].pts, MS(5500));
		ck_assert(!r.ev[3].extended);
	}
	vagent_turn_detector_free(d);

	cfg.hold_rule = false;
	ck_assert(vagent_turn_detector_new(&cfg, &d, &err) == VAGENT_OK);
	drive(d, sp, num, 5000, &r);
	ck_assert_int_eq(r.n, 2);
	ck_assert_int_eq(r.ev[1].pts, MS(2500));
	ck_assert(!r.ev[1].extended);
	ck_assert(vagent_turn_detector_text_holds(d, "415 555"));
	vagent_turn_detector_free(d);
}
END_TEST

/* 100 ms of speech-like noise (the VAD starts on it) is below the 150 ms
 * start threshold: no turn. At start 0 the same burst opens one at once. */
START_TEST(test_short_burst)
{
	static const struct span sp[] = { { 1000, 1100 }, { 0, 0 } };
	struct vagent_turn_detector *d = make(150, 500, 1500);
	struct rec r;

	drive(d, sp, NULL, 4000, &r);
	ck_assert_int_eq(r.n, 0);
	ck_assert(!vagent_turn_detector_in_turn(d));
	vagent_turn_detector_free(d);

	d = make(0, 500, 1500);
	drive(d, sp, NULL, 4000, &r);
	ck_assert_int_eq(r.n, 2);
	ck_assert_int_eq(r.ev[0].type, VAGENT_TURN_START);
	ck_assert_int_eq(r.ev[0].pts, MS(1060));   /* the VAD's START frame */
	ck_assert_int_eq(r.ev[1].pts, MS(1600));
	vagent_turn_detector_free(d);
}
END_TEST

/* A hold shorter than the VAD's hangover ends the turn on the frame of the
 * VAD's END: last speech-like frame ends 2000, END frame [2200, 2220). */
START_TEST(test_hold_below_hangover)
{
	static const struct span sp[] = { { 1000, 2000 }, { 0, 0 } };
	struct vagent_turn_detector *d = make(150, 100, 100);
	struct rec r;

	drive(d, sp, NULL, 4000, &r);
	ck_assert_int_eq(r.n, 2);
	ck_assert_int_eq(r.ev[1].pts, MS(2220));
	ck_assert_int_eq(r.ev[1].speech_pts, MS(2000));
	vagent_turn_detector_free(d);
}
END_TEST

/* Reset while an end is pending: nothing more is decided and time may
 * start again from 0. */
START_TEST(test_reset)
{
	static const struct span sp[] = { { 1000, 2000 }, { 0, 0 } };
	struct vagent_turn_detector *d = make(150, 500, 1500);
	struct vagent_vad_result quiet;
	struct vagent_turn_event ev;
	struct vagent_error err;
	struct rec r;

	drive(d, sp, NULL, 2400, &r);
	ck_assert_int_eq(r.n, 1);
	ck_assert(vagent_turn_detector_in_turn(d));
	vagent_turn_detector_set_transcript(d, "and");
	vagent_turn_detector_reset(d);
	ck_assert(!vagent_turn_detector_in_turn(d));
	memset(&quiet, 0, sizeof(quiet));
	for (int i = 0; i < 200; i++) {
		ck_assert(vagent_turn_detector_push_vad(d, &quiet, (int64_t)i * F, F, &ev, &err) == VAGENT_OK);
		ck_assert_int_eq(ev.type, VAGENT_TURN_NONE);
	}
	/* the transcript was forgotten too: short hold */
	vagent_turn_detector_reset(d);
	drive(d, sp, NULL, 5000, &r);
	ck_assert_int_eq(r.ev[1].pts, MS(2500));
	vagent_turn_detector_free(d);
	vagent_turn_detector_free(NULL);
}
END_TEST

START_TEST(test_text_rule)
{
	static const struct { const char *text; bool holds; } cases[] = {
		{ "415", true }, { "four one five -", true }, { "It's", true },
		{ "it\xe2\x80\x99s", true }, { "Thank you.", false },
		{ "My number is", true }, { "this", false }, { "Hmm...", true },
		{ "", false }, { "Bye", false }, { "ONE", true }, { "someone", false },
		{ "call me at 555-0123.", true }, { "nineteen", true },
		{ "uh,", true }, { "so", true }, { "also", false }, { "done", false },
		{ "room 12b", false }, { "twenty", true }, { "zero", true },
	};
	struct vagent_turn_detector *d = make(150, 500, 1500);
	char *longtext = malloc(5001);

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		ck_assert_msg(vagent_turn_detector_text_holds(d, cases[i].text) == cases[i].holds,
			      "\"%s\"", cases[i].text);
	ck_assert(!vagent_turn_detector_text_holds(d, NULL));
	ck_assert_ptr_nonnull(longtext);
	memset(longtext, 'x', 5000);
	memcpy(longtext + 4996, " and", 4);
	longtext[5000] = '\0';
	ck_assert(vagent_turn_detector_text_holds(d, longtext));
	/* a word cut by the tail window is not a whole word */
	memcpy(longtext + 4996, "xxxo", 4);
	ck_assert(!vagent_turn_detector_text_holds(d, longtext));
	free(longtext);
	vagent_turn_detector_free(d);
}
END_TEST

START_TEST(test_custom_words)
{
	static const char *const words[] = { "Please hold", "wait,", NULL };
	struct vagent_turn_config cfg = vagent_turn_config_default();
	struct vagent_turn_detector *d = NULL;
	struct vagent_error err;

	cfg.hold_words = words;
	ck_assert(vagent_turn_detector_new(&cfg, &d, &err) == VAGENT_OK);
	ck_assert(vagent_turn_detector_text_holds(d, "could you please HOLD"));
	ck_assert(vagent_turn_detector_text_holds(d, "wait"));
	ck_assert(!vagent_turn_detector_text_holds(d, "hold"));
	ck_assert(!vagent_turn_detector_text_holds(d, "and"));
	ck_assert(vagent_turn_detector_text_holds(d, "room 12"));   /* digits always */
	vagent_turn_detector_free(d);
}
END_TEST

static void expect_einval(const struct vagent_turn_config *cfg, const char *what)
{
	struct vagent_turn_detector *d = NULL;
	struct vagent_error err;

	memset(&err, 0, sizeof(err));
	/* a non-NULL *out must come back NULL */
	ck_assert(vagent_turn_detector_new(NULL, &d, &err) == VAGENT_OK);
	vagent_turn_detector_free(d);
	ck_assert_int_eq(vagent_turn_detector_new(cfg, &d, &err), VAGENT_EINVAL);
	ck_assert_ptr_null(d);
	ck_assert_msg(strncmp(err.message, "turn: ", 6) == 0, "%s", err.message);
	ck_assert_msg(strstr(err.message, what) != NULL, "%s", err.message);
	ck_assert_ptr_null(strchr(err.message, '\n'));
}

START_TEST(test_bad_config)
{
	static const char *const empty[] = { "ok", " ,. ", NULL };
	static const char *const toolong[] = {
		"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", NULL };
	struct vagent_turn_config c = vagent_turn_config_default();

	c.start_ms = -1;
	expect_einval(&c, "start_ms");
	c = vagent_turn_config_default();
	c.min_hold_ms = -5;
	expect_einval(&c, "min_hold_ms");
	c = vagent_turn_config_default();
	c.max_hold_ms = 400;
	expect_einval(&c, "max_hold_ms");
	c = vagent_turn_config_default();
	c.max_hold_ms = 600001;
	expect_einval(&c, "max_hold_ms");
	c = vagent_turn_config_default();
	c.hold_words = empty;
	expect_einval(&c, "hold_words[1]");
	c.hold_words = toolong;
	expect_einval(&c, "hold_words[0]");
}
END_TEST

START_TEST(test_bad_frames)
{
	struct vagent_turn_detector *d = make(150, 500, 1500);
	struct vagent_vad_result r;
	struct vagent_turn_event ev;
	struct vagent_error err;

	memset(&r, 0, sizeof(r));
	ck_assert_int_eq(vagent_turn_detector_push_vad(d, &r, 0, 0, &ev, &err), VAGENT_EINVAL);
	ck_assert_msg(strstr(err.message, "duration") != NULL, "%s", err.message);
	ck_assert(vagent_turn_detector_push_vad(d, &r, MS(100), F, &ev, &err) == VAGENT_OK);
	ck_assert_int_eq(vagent_turn_detector_push_vad(d, &r, MS(110), F, &ev, &err), VAGENT_EINVAL);
	ck_assert_str_eq(err.message,
			 "turn: frame at 110 ms starts before the previous one ended (120 ms)");
	ck_assert_int_eq(ev.type, VAGENT_TURN_NONE);
	ck_assert(vagent_turn_detector_push_vad(d, &r, MS(120), F, &ev, &err) == VAGENT_OK);
	vagent_turn_detector_free(d);
}
END_TEST

/*
 * The real VAD on recorded digits "four one five" — 700 ms — "five five
 * five" (Asterisk, 8 kHz, trimmed to their labelled speech, 80 ms apart):
 * without a transcript the 500 ms hold ends the turn in the pause; with the
 * transcript of the first group the hold is 1500 ms and the one END comes
 * after the last digit, 1500 ms after the VAD's end of speech.
 */
START_TEST(test_real_digits)
{
	static const int seq[] = { 4, 1, 5, -700, 5, 5, 5 };
	struct vagent_audio *track = vagent_audio_new(8000, 1, 8000);
	struct vagent_vad_config vc = vagent_vad_config_default();
	size_t first_end = 0, last_end = 0;
	struct vagent_error err;

	ck_assert_ptr_nonnull(track);
	for (size_t i = 0; i < sizeof(seq) / sizeof(seq[0]); i++) {
		char rel[64];
		struct vagent_audio *a;
		uint8_t *lab;
		size_t nf, lo = SIZE_MAX, hi = 0;
		static const float gap[8000];

		if (seq[i] < 0) {
			first_end = track->frames;
			ck_assert(vagent_audio_append(track, gap, (size_t)-seq[i] * 8) == VAGENT_OK);
			continue;
		}
		snprintf(rel, sizeof(rel), "fixtures/speech/asterisk/digits/%d.wav", seq[i]);
		a = vadset_load(top_path(rel), 0, 0, 8000, &err);
		ck_assert_msg(a != NULL, "%s", err.message);
		lab = vadset_label(a, 20, &nf);
		ck_assert_ptr_nonnull(lab);
		for (size_t f = 0; f < nf; f++)
			if (lab[f]) {
				lo = lo == SIZE_MAX ? f : lo;
				hi = f;
			}
		ck_assert(lo != SIZE_MAX);
		ck_assert(vagent_audio_append(track, a->samples + lo * 160, (hi + 1 - lo) * 160) == VAGENT_OK);
		last_end = track->frames;
		if (i + 1 < sizeof(seq) / sizeof(seq[0]) && seq[i + 1] > 0)
			ck_assert(vagent_audio_append(track, gap, 640) == VAGENT_OK);
		free(lab);
		vagent_audio_free(a);
	}
	{
		static const float tail[24000];

		ck_assert(vagent_audio_append(track, tail, 24000) == VAGENT_OK);
	}
	vc.rate = 8000;
	for (int with_text = 0; with_text < 2; with_text++) {
		struct vagent_vad *vad = NULL;
		struct vagent_turn_detector *d = make(150, 500, 1500);
		struct vagent_turn_event ends[4];
		int nends = 0, nstarts = 0;
		int64_t t_first = (int64_t)first_end * VAGENT_TICKS_PER_SEC / 8000;
		int64_t t_last = (int64_t)last_end * VAGENT_TICKS_PER_SEC / 8000;

		ck_assert(vagent_vad_new(&vc, &vad, &err) == VAGENT_OK);
		for (size_t off = 0; off + 160 <= track->frames; off += 160) {
			struct vagent_frame fr;
			struct vagent_vad_result r;
			struct vagent_turn_event ev;

			vagent_audio_get_frame(track, off, 160, &fr);
			ck_assert(vagent_vad_process(vad, &fr, &r, &err) == VAGENT_OK);
			if (with_text && off + 160 >= first_end && off < first_end + 160)
				vagent_turn_detector_set_transcript(d, "four one five");
			ck_assert(vagent_turn_detector_push_vad(d, &r, fr.pts, vagent_frame_duration(&fr),
								&ev, &err) == VAGENT_OK);
			if (ev.type == VAGENT_TURN_START)
				nstarts++;
			if (ev.type == VAGENT_TURN_END && nends < 4)
				ends[nends++] = ev;
		}
		if (!with_text) {
			/* cut off in the pause, then a second turn for the second group */
			ck_assert_int_eq(nstarts, 2);
			ck_assert_int_eq(nends, 2);
			ck_assert_int_lt(ends[0].pts, t_last);
			ck_assert_int_le(llabs(ends[0].speech_pts - t_first), MS(100));
			ck_assert_int_eq(ends[0].pts - ends[0].speech_pts, MS(500));
		} else {
			ck_assert_int_eq(nstarts, 1);
			ck_assert_int_eq(nends, 1);
			ck_assert(ends[0].extended);
			ck_assert_int_le(llabs(ends[0].speech_pts - t_last), MS(100));
			ck_assert_int_ge(ends[0].pts, t_last);
			ck_assert_int_eq(ends[0].pts - ends[0].speech_pts, MS(1500));
		}
		vagent_vad_free(vad);
		vagent_turn_detector_free(d);
	}
	vagent_audio_free(track);
}
END_TEST

Suite *suite_turn(void);
Suite *suite_turn(void)
{
	Suite *s = suite_create("turn");
	TCase *tc = tcase_create("turn");

	tcase_set_timeout(tc, 30);
	tcase_add_test(tc, test_defaults);
	tcase_add_test(tc, test_end_at_hold);
	tcase_add_test(tc, test_resume_cancels);
	tcase_add_test(tc, test_deadline_waits_for_onset);
	tcase_add_test(tc, test_transcript_extends);
	tcase_add_test(tc, test_transcript_update_and_rule_off);
	tcase_add_test(tc, test_short_burst);
	tcase_add_test(tc, test_hold_below_hangover);
	tcase_add_test(tc, test_reset);
	tcase_add_test(tc, test_text_rule);
	tcase_add_test(tc, test_custom_words);
	tcase_add_test(tc, test_bad_config);
	tcase_add_test(tc, test_bad_frames);
	tcase_add_test(tc, test_real_digits);
	suite_add_tcase(s, tc);
	return s;
}
