/*
 * check_chat.c — `vagent chat` and its live caller (docs/chat.md): the echo
 * canceller's residual echo on a known signal; the live caller on a
 * simulated room (virtual clock, simulated providers): agent audio played,
 * the half-duplex mute, speech boundaries from its VAD, a WAV-like input
 * ending the call, a failing device ending it with its error; the CLI on
 * WAV files, missing devices and the PulseAudio rig (tests/support/pulse.h).
 */
#include <check.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "vagent.h"
#include "support/harness.h"

#define RATE 16000
#define FRAME 320
#define MS VAGENT_TICKS_PER_MS

/* ---- signals ---- */

/* Speech-like audio of `text` as int16 (transfer full). */
static int16_t *speech(const char *text, uint64_t seed, size_t *n)
{
	struct vagent_audio *a = NULL;
	struct vagent_error err;
	int16_t *out;

	ck_assert_msg(vagent_speechlike_synth(text, RATE, seed, &a, &err) == VAGENT_OK, "%s",
		      err.message);
	out = malloc(a->frames * sizeof(*out));
	ck_assert_ptr_nonnull(out);
	for (size_t i = 0; i < a->frames; i++) {
		float v = a->samples[i] * 32767.0f;

		out[i] = (int16_t)(v > 32767.0f ? 32767 : v < -32768.0f ? -32768 : v);
	}
	*n = a->frames;
	vagent_audio_free(a);
	return out;
}

static double energy(const int16_t *x, size_t n)
{
	double e = 0;

	for (size_t i = 0; i < n; i++)
		e += (double)x[i] * x[i];
	return e;
}

/* The echo path of a small room: delay, gain and a short decaying tail. */
static double room_echo(const int16_t *played, size_t len, size_t at, size_t delay,
			double gain)
{
	static const double fir[] = { 1.0, 0.0, 0.35, 0.0, -0.2, 0.1, 0.0, 0.05 };
	double v = 0;

	for (size_t k = 0; k < sizeof(fir) / sizeof(fir[0]); k++) {
		size_t back = delay + k * 7;

		if (at >= back && at - back < len)
			v += fir[k] * played[at - back];
	}
	return gain * v;
}

static int16_t clip(double v)
{
	return (int16_t)(v > 32767 ? 32767 : v < -32768 ? -32768 : lrint(v));
}

/* ---- the echo canceller ---- */

START_TEST(aec_removes_echo_of_known_signal)
{
	static const char *text = "Thanks for calling Acme Home. I can check an order, refund "
				  "it, or move a delivery. How can I help you today? Your order "
				  "one two three four five has shipped and arrives on Friday.";
	struct vagent_echo_canceller *ec;
	struct vagent_error err;
	size_t n, settle = 3 * RATE;
	int16_t *ref = speech(text, 7, &n), *mic, *out;
	double e_mic = 0, e_out = 0, drop_db;

	ck_assert_uint_gt(n, settle + 2 * RATE);
	mic = calloc(n, sizeof(*mic));
	out = calloc(n, sizeof(*out));
	ck_assert_ptr_nonnull(mic);
	ck_assert_ptr_nonnull(out);
	for (size_t i = 0; i < n; i++)    /* 60 ms, -8 dB, a tail; no caller */
		mic[i] = clip(room_echo(ref, n, i, 960, 0.4));
	ck_assert_int_eq(vagent_echo_canceller_new(RATE, FRAME, 250, false, &ec, &err), VAGENT_OK);
	for (size_t i = 0; i + FRAME <= n; i += FRAME)
		vagent_echo_canceller_process(ec, mic + i, ref + i, out + i);
	vagent_echo_canceller_free(ec);
	/* after convergence: the linear filter alone */
	for (size_t i = settle; i + FRAME <= n; i++) {
		e_mic += (double)mic[i] * mic[i];
		e_out += (double)out[i] * out[i];
	}
	drop_db = 10 * log10(e_mic / (e_out + 1));
	ck_assert_msg(drop_db >= 10, "residual echo only %.1f dB below the echo", drop_db);

	/* with the residual suppression: further down */
	ck_assert_int_eq(vagent_echo_canceller_new(RATE, FRAME, 250, true, &ec, &err), VAGENT_OK);
	for (size_t i = 0; i + FRAME <= n; i += FRAME)
		vagent_echo_canceller_process(ec, mic + i, ref + i, out + i);
	vagent_echo_canceller_free(ec);
	e_out = 0;
	for (size_t i = settle; i + FRAME <= n; i++)
		e_out += (double)out[i] * out[i];
	ck_assert_msg(10 * log10(e_mic / (e_out + 1)) >= drop_db + 6,
		      "the suppression took only %.1f dB more off",
		      10 * log10(e_mic / (e_out + 1)) - drop_db);
	free(ref);
	free(mic);
	free(out);
}
END_TEST

START_TEST(aec_keeps_the_callers_voice)
{
	struct vagent_echo_canceller *ec;
	struct vagent_error err;
	size_t n, nc;
	int16_t *ref = speech("Your order has shipped and arrives on Friday. Anything else I "
			      "can help you with today?", 3, &n);
	int16_t *caller = speech("I would like to check my order status please", 11, &nc);
	int16_t *mic, *out;
	double e_caller = 0, e_out = 0;

	mic = calloc(n + nc, sizeof(*mic));
	out = calloc(n + nc, sizeof(*out));
	ck_assert_ptr_nonnull(mic);
	ck_assert_ptr_nonnull(out);
	ref = realloc(ref, (n + nc) * sizeof(*ref));
	ck_assert_ptr_nonnull(ref);
	memset(ref + n, 0, nc * sizeof(*ref));
	/* the agent talks (echo), then stops and the caller talks */
	for (size_t i = 0; i < n + nc; i++)
		mic[i] = clip(room_echo(ref, n, i, 960, 0.4) + (i >= n ? caller[i - n] : 0));
	ck_assert_int_eq(vagent_echo_canceller_new(RATE, FRAME, 250, true, &ec, &err), VAGENT_OK);
	for (size_t i = 0; i + FRAME <= n + nc; i += FRAME)
		vagent_echo_canceller_process(ec, mic + i, ref + i, out + i);
	vagent_echo_canceller_free(ec);
	for (size_t i = n + RATE / 2; i + FRAME <= n + nc; i++) {
		e_caller += (double)caller[i - n] * caller[i - n];
		e_out += (double)out[i] * out[i];
	}
	/* the caller alone is not echo: within 3 dB */
	ck_assert_msg(fabs(10 * log10((e_out + 1) / (e_caller + 1))) < 3,
		      "the caller's voice changed by %.1f dB",
		      10 * log10((e_out + 1) / (e_caller + 1)));
	free(ref);
	free(caller);
	free(mic);
	free(out);
}
END_TEST

START_TEST(aec_bad_config)
{
	struct vagent_echo_canceller *ec = (void *)1;
	struct vagent_error err;

	ck_assert_int_eq(vagent_echo_canceller_new(44100, FRAME, 250, true, &ec, &err),
			 VAGENT_EINVAL);
	ck_assert_ptr_null(ec);
	ck_assert_ptr_nonnull(strstr(err.message, "echo canceller"));
	ck_assert_int_eq(vagent_echo_canceller_new(RATE, FRAME, 5000, true, &ec, &err),
			 VAGENT_EINVAL);
	ck_assert_int_eq(vagent_echo_canceller_new(RATE, 3, 250, true, &ec, &err),
			 VAGENT_EINVAL);
}
END_TEST

/* ---- the live caller in a simulated room ---- */

/*
 * A room on the virtual clock: every agent frame written plays one frame
 * later on the speaker (the reference); the mic hears the caller's audio
 * plus the speaker through the room's echo path. One frame of mic audio
 * becomes available per frame written (time passes with the session).
 */
struct room {
	int16_t *played;            /* everything written, in order */
	size_t written, cap;
	size_t t;                   /* mic samples read so far */
	size_t avail;
	const int16_t *caller;      /* in the mic from `caller_at` */
	size_t caller_n, caller_at;
	size_t delay;
	double gain;
	bool eof_after_caller;
	int fail_after_reads;       /* > 0: the device fails then */
	uint64_t noise;
	int reads;
};

static int16_t speaker_at(const struct room *r, size_t t)
{
	return t >= FRAME && t - FRAME < r->written ? r->played[t - FRAME] : 0;
}

static size_t room_read(void *ctx, int16_t *mic, int16_t *ref, size_t max)
{
	struct room *r = ctx;
	size_t k = max < r->avail ? max : r->avail;

	if (k)
		r->reads++;
	for (size_t i = 0; i < k; i++, r->t++) {
		double v = 0;

		/* the echo: the speaker's output through the room */
		for (size_t back = r->delay; r->gain > 0 && back < r->delay + 64; back += 7)
			if (r->t >= back)
				v += (back == r->delay ? 1.0 : back == r->delay + 14 ? 0.35 : 0) *
				     speaker_at(r, r->t - back);
		v *= r->gain;
		if (r->caller && r->t >= r->caller_at && r->t - r->caller_at < r->caller_n)
			v += r->caller[r->t - r->caller_at];
		/* the room's own noise, about -50 dBFS */
		r->noise = r->noise * 6364136223846793005ULL + 1442695040888963407ULL;
		v += (double)((int)(r->noise >> 33) % 361 - 180);
		mic[i] = clip(v);
		if (ref)
			ref[i] = speaker_at(r, r->t);
	}
	r->avail -= k;
	return k;
}

static size_t room_write(void *ctx, const int16_t *s, size_t n)
{
	struct room *r = ctx;

	if (r->written + n > r->cap) {
		r->cap = 2 * (r->written + n);
		r->played = realloc(r->played, r->cap * sizeof(*r->played));
		ck_assert_ptr_nonnull(r->played);
	}
	memcpy(r->played + r->written, s, n * sizeof(*s));
	r->written += n;
	r->avail += n;
	return n;
}

static size_t room_pending(void *ctx)
{
	struct room *r = ctx;
	size_t played = r->t > FRAME ? r->t - FRAME : 0;

	return r->written > played ? r->written - played : 0;
}

static bool room_eof(void *ctx)
{
	struct room *r = ctx;

	return r->eof_after_caller && r->t >= r->caller_at + r->caller_n;
}

static vagent_status room_status(void *ctx, struct vagent_error *err)
{
	struct room *r = ctx;

	if (r->fail_after_reads > 0 && r->reads >= r->fail_after_reads) {
		snprintf(err->message, sizeof(err->message),
			 "input device \"room\": the device disappeared");
		err->status = VAGENT_EIO;
		return VAGENT_EIO;
	}
	return VAGENT_OK;
}

struct live {
	struct room room;
	struct vagent_live_caller_config cfg;
	struct vagent_session_config scfg;
	struct vagent_caller *caller;
	struct vagent_stt *stt;
	struct vagent_brain *llm;
	struct vagent_tts *tts;
	struct vagent_session *s;
	struct vagent_trace *trace;
	struct vagent_error err;
	vagent_status rc;
};

static void live_init(struct live *l, vagent_echo_mode echo)
{
	memset(l, 0, sizeof(*l));
	l->room.avail = FRAME;
	l->cfg = vagent_live_caller_config_default();
	l->cfg.rate = RATE;
	l->cfg.echo = echo;
	l->cfg.audio.ctx = &l->room;
	l->cfg.audio.read = room_read;
	l->cfg.audio.write = room_write;
	l->cfg.audio.pending = room_pending;
	l->cfg.audio.input_eof = room_eof;
	l->cfg.audio.status = room_status;
	l->cfg.audio.has_reference = true;
	l->cfg.hangup_after_ms = 1500;
	l->scfg = vagent_session_config_default();
	l->scfg.name = "live";
	l->scfg.rate = RATE;
	l->scfg.keep_trace = true;
	l->scfg.record = true;
	l->scfg.max_call_ms = 30000;
	l->scfg.agent.barge_in_min_words = 0;
}

static void live_run(struct live *l, const char *greeting)
{
	struct vagent_sim_llm_config lc = vagent_sim_llm_config_default();
	struct vagent_sim_stt_config sc = vagent_sim_stt_config_default();
	struct vagent_sim_tts_config tc = vagent_sim_tts_config_default();
	const char *text;
	size_t len;

	lc.greeting = greeting;
	lc.fallback_reply = "I see.";
	ck_assert_int_eq(vagent_sim_stt_new(&sc, &l->stt, &l->err), VAGENT_OK);
	ck_assert_int_eq(vagent_sim_llm_new(&lc, &l->llm, &l->err), VAGENT_OK);
	ck_assert_int_eq(vagent_sim_tts_new(&tc, &l->tts, &l->err), VAGENT_OK);
	l->cfg.vad = l->scfg.agent.vad;
	ck_assert_msg(vagent_live_caller_new(&l->cfg, &l->caller, &l->err) == VAGENT_OK, "%s",
		      l->err.message);
	l->scfg.stt[0] = l->stt;
	l->scfg.brain[0] = l->llm;
	l->scfg.tts[0] = l->tts;
	l->scfg.caller = l->caller;
	l->rc = vagent_session_run(&l->scfg, VAGENT_CLOCK_VIRTUAL, &l->s, &l->err);
	ck_assert_ptr_nonnull(l->s);
	text = vagent_session_trace(l->s, &len);
	ck_assert_int_eq(vagent_trace_parse(text, len, "live", &l->trace, &l->err), VAGENT_OK);
}

static void live_free(struct live *l)
{
	vagent_trace_free(l->trace);
	vagent_session_free(l->s);
	vagent_caller_free(l->caller);
	vagent_stt_free(l->stt);
	vagent_brain_free(l->llm);
	vagent_tts_free(l->tts);
	free(l->room.played);
}

static size_t count_events(const struct vagent_trace *t, vagent_trace_type type)
{
	size_t n = 0;

	for (size_t i = 0; i < t->n; i++)
		n += t->events[i].type == type;
	return n;
}

static const struct vagent_trace_event *find_event(const struct vagent_trace *t,
						   vagent_trace_type type)
{
	for (size_t i = 0; i < t->n; i++)
		if (t->events[i].type == type)
			return &t->events[i];
	return NULL;
}

/* The caller's words become speech boundaries at their true times, the
 * agent's audio reaches the speaker, and the end of a WAV-like input ends
 * the call once the agent is done. */
START_TEST(live_caller_boundaries_speaker_and_eof)
{
	struct live l;
	size_t nc;
	int16_t *caller = speech("I would like to check my order status", 5, &nc);
	const struct vagent_trace_event *start, *end;
	double true_start = 500.0, true_end;

	live_init(&l, VAGENT_ECHO_OFF);
	l.room.caller = caller;
	l.room.caller_n = nc;
	l.room.caller_at = (size_t)(true_start * RATE / 1000);
	l.room.eof_after_caller = true;
	live_run(&l, NULL);
	ck_assert_msg(l.rc == VAGENT_OK, "%s", l.err.message);
	ck_assert_str_eq(vagent_session_result(l.s)->end_reason, "hangup");
	start = find_event(l.trace, VAGENT_TRACE_CALLER_SPEECH_START);
	end = find_event(l.trace, VAGENT_TRACE_CALLER_SPEECH_END);
	ck_assert_ptr_nonnull(start);
	ck_assert_ptr_nonnull(end);
	/* speech-like audio has its first and last sound close to its ends */
	true_end = true_start + 1000.0 * (double)nc / RATE;
	ck_assert_msg(fabs(start->t_us / 1000.0 - true_start) < 120, "start %.0f ms",
		      start->t_us / 1000.0);
	ck_assert_msg(end->t_us / 1000.0 <= true_end + 40 && end->t_us / 1000.0 > true_end - 300,
		      "end %.0f ms, audio ends %.0f ms", end->t_us / 1000.0, true_end);
	/* the agent answered (sim: "I see.") and it was played */
	ck_assert_uint_ge(count_events(l.trace, VAGENT_TRACE_AGENT_AUDIO_START), 1);
	ck_assert_double_gt(energy(l.room.played, l.room.written), 0);
	/* everything the session sent went out: one frame per tick */
	ck_assert_uint_ge(l.room.written, (vagent_session_result(l.s)->frames_out - 1) * FRAME);
	ck_assert_uint_le(l.room.written, vagent_session_result(l.s)->frames_out * FRAME);
	live_free(&l);
	free(caller);
}
END_TEST

/* With no echo handling the agent hears itself; half-duplex mutes the mic
 * while it plays (so no echo reaches the session), and AEC removes it. */
START_TEST(live_caller_echo_modes)
{
	static const char *greeting = "Hi, thanks for calling Acme Home. I'm an automated "
				      "assistant. I can check an order, refund it, or move a "
				      "delivery. How can I help?";
	size_t heard[3];
	vagent_echo_mode modes[3] = { VAGENT_ECHO_OFF, VAGENT_ECHO_HALF_DUPLEX, VAGENT_ECHO_AEC };

	for (int m = 0; m < 3; m++) {
		struct live l;
		struct vagent_live_caller_stats st;

		live_init(&l, modes[m]);
		l.room.delay = 800;     /* 50 ms, -6 dB */
		l.room.gain = 0.5;
		l.room.caller_at = 0;
		l.room.eof_after_caller = true;     /* no caller: hang up when done */
		live_run(&l, greeting);
		vagent_live_caller_stats(l.caller, &st);
		ck_assert_int_eq(st.echo, modes[m]);
		heard[m] = count_events(l.trace, VAGENT_TRACE_CALLER_SPEECH_START);
		if (modes[m] == VAGENT_ECHO_HALF_DUPLEX) {
			ck_assert_uint_gt(st.muted_frames, 100);   /* the greeting: > 2 s */
			ck_assert_uint_lt(st.muted_frames, st.frames);
		} else if (modes[m] == VAGENT_ECHO_OFF) {
			ck_assert_uint_eq(st.muted_frames, 0);
		}
		live_free(&l);
	}
	ck_assert_msg(heard[0] >= 1, "without echo handling the echo went unheard");
	ck_assert_uint_eq(heard[1], 0);
	ck_assert_msg(heard[2] < heard[0], "AEC: %zu echo segments, none: %zu", heard[2],
		      heard[0]);
}
END_TEST

START_TEST(live_caller_device_failure_ends_call)
{
	struct live l;
	struct vagent_error err;
	const struct vagent_session_result *res;

	live_init(&l, VAGENT_ECHO_AEC);
	l.room.fail_after_reads = 60;           /* ~1.2 s in */
	live_run(&l, "Hello there, how can I help you today?");
	res = vagent_session_result(l.s);
	ck_assert_int_eq(l.rc, VAGENT_EIO);
	ck_assert_int_eq(res->status, VAGENT_EIO);
	ck_assert_str_eq(res->end_reason, "error");
	ck_assert_int_eq(vagent_live_caller_status(l.caller, &err), VAGENT_EIO);
	ck_assert_str_eq(err.message, "input device \"room\": the device disappeared");
	/* what was recorded so far is kept */
	ck_assert_ptr_nonnull(vagent_session_recording(l.s));
	ck_assert_uint_ge(vagent_session_recording(l.s)->frames, RATE);
	live_free(&l);
}
END_TEST

START_TEST(live_caller_hangup_and_bad_config)
{
	struct live l;
	struct vagent_caller *c = (void *)1;

	live_init(&l, VAGENT_ECHO_AUTO);
	l.cfg.audio.has_reference = false;
	l.cfg.vad = vagent_vad_config_default();
	ck_assert_int_eq(vagent_live_caller_new(&l.cfg, &l.caller, &l.err), VAGENT_OK);
	{
		struct vagent_live_caller_stats st;

		vagent_live_caller_stats(l.caller, &st);
		ck_assert_int_eq(st.echo, VAGENT_ECHO_HALF_DUPLEX);
	}
	{
		struct vagent_frame f;
		struct vagent_speech_truth truth;

		vagent_frame_init(&f, RATE, 1, FRAME, 0);
		ck_assert_int_eq(l.caller->ops->frame(l.caller, &f, &truth), VAGENT_OK);
		vagent_live_caller_hangup(l.caller);
		ck_assert_int_eq(l.caller->ops->frame(l.caller, &f, &truth), VAGENT_EOS);
	}
	vagent_caller_free(l.caller);
	l.caller = NULL;
	l.cfg.rate = 44100;
	ck_assert_int_eq(vagent_live_caller_new(&l.cfg, &c, &l.err), VAGENT_EINVAL);
	ck_assert_ptr_null(c);
	l.cfg.rate = RATE;
	l.cfg.audio.read = NULL;
	ck_assert_int_eq(vagent_live_caller_new(&l.cfg, &c, &l.err), VAGENT_EINVAL);
	live_free(&l);
}
END_TEST

Suite *suite_chat(void)
{
	Suite *s = suite_create("chat");
	TCase *tc = tcase_create("aec");

	tcase_add_test(tc, aec_removes_echo_of_known_signal);
	tcase_add_test(tc, aec_keeps_the_callers_voice);
	tcase_add_test(tc, aec_bad_config);
	tcase_set_timeout(tc, 60);
	suite_add_tcase(s, tc);
	tc = tcase_create("live_caller");
	tcase_add_test(tc, live_caller_boundaries_speaker_and_eof);
	tcase_add_test(tc, live_caller_echo_modes);
	tcase_add_test(tc, live_caller_device_failure_ends_call);
	tcase_add_test(tc, live_caller_hangup_and_bad_config);
	tcase_set_timeout(tc, 60);
	suite_add_tcase(s, tc);
	return s;
}
