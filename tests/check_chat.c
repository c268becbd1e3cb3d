/*
 * check_chat.c — `vagent chat` and its live caller (docs/chat.md): the echo
 * canceller's residual echo on a known signal; the live caller on a
 * simulated room (virtual clock, simulated providers): agent audio played,
 * the half-duplex mute, speech boundaries from its VAD, a WAV-like input
 * ending the call, a failing device ending it with its error; the CLI on
 * WAV files, missing devices and the PulseAudio rig (tests/support/pulse.h).
 */
#include <check.h>
#include <fcntl.h>
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "vagent.h"
#include "support/harness.h"
#include "support/pulse.h"

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


/* ---- the command ---- */

#define CALLER_TEXT "I would like to check my order status"

static char *slurp(const char *path)
{
	FILE *f = fopen(path, "rb");
	char *buf;
	long n;

	if (!f)
		return strdup("");
	fseek(f, 0, SEEK_END);
	n = ftell(f);
	fseek(f, 0, SEEK_SET);
	buf = calloc((size_t)n + 1, 1);
	ck_assert_ptr_nonnull(buf);
	ck_assert_uint_eq(fread(buf, 1, (size_t)n, f), (size_t)n);
	fclose(f);
	return buf;
}

/* The caller's line, synthesised by `vagent speak` (rms voice, 16 kHz). */
static const char *caller_wav(void)
{
	const char *path = temp_path("caller.wav");
	struct run_result r = run_vagent("speak", "--voice", "rms", "-o", path, CALLER_TEXT, NULL);

	ck_assert_msg(r.exit_code == 0, "%s", r.err);
	run_result_free(&r);
	return path;
}

static int16_t *load_mono(const char *path, size_t *n)
{
	struct vagent_audio *a = NULL;
	struct vagent_error err;
	int16_t *out;

	ck_assert_msg(vagent_audio_load(path, VAGENT_CHANNELS_ALL, &a, &err) == VAGENT_OK, "%s",
		      err.message);
	ck_assert_int_eq(a->channels, 1);
	out = malloc(a->frames * sizeof(*out));
	ck_assert_ptr_nonnull(out);
	for (size_t i = 0; i < a->frames; i++)
		out[i] = clip(a->samples[i] * 32767.0);
	*n = a->frames;
	vagent_audio_free(a);
	return out;
}

/* The recorded call folder: call.json with a caller turn saying what the
 * recogniser heard and an agent turn, call.wav stereo with the caller on
 * the left (louder there during the caller's turn). */
static void check_recording(const char *dir, bool need_order)
{
	char path[4096];
	char *json;
	struct vagent_recorded_call *call = NULL;
	struct vagent_error err;
	bool caller = false, agent = false, heard_order = false;

	snprintf(path, sizeof(path), "%s/call.json", dir);
	json = slurp(path);
	ck_assert_msg(strstr(json, "\"caller_channel\": \"left\""), "%s", json);
	free(json);
	ck_assert_msg(vagent_call_load(dir, &call, NULL, &err) == VAGENT_OK, "%s", err.message);
	for (size_t i = 0; i < call->n_turns; i++) {
		const struct vagent_call_turn *t = &call->turns[i];
		double left = 0, right = 0;
		size_t a = (size_t)(t->start_ms * call->caller_audio->rate / 1000);
		size_t b = (size_t)(t->end_ms * call->caller_audio->rate / 1000);

		if (t->speaker == VAGENT_SPEAKER_AGENT) {
			agent = true;
			continue;
		}
		caller = true;
		heard_order |= t->text && strstr(t->text, "order");
		ck_assert_ptr_nonnull(call->agent_audio);
		for (size_t k = a; k < b && k < call->caller_audio->frames; k++) {
			left += call->caller_audio->samples[k] * call->caller_audio->samples[k];
			right += call->agent_audio->samples[k] * call->agent_audio->samples[k];
		}
		ck_assert_double_gt(left, 0);
		ck_assert_double_gt(left, right);
	}
	ck_assert(caller);
	ck_assert(agent);
	ck_assert_msg(heard_order || !need_order, "no caller turn says \"order\"");
	vagent_recorded_call_free(call);
}

START_TEST(cli_wav_in_wav_out)
{
	const char *in = caller_wav(), *out = temp_path("agent.wav"), *rec = temp_path("call");
	struct run_result r = run_vagent("chat", "--agent", top_path("fixtures/agents/test-store.json"),
					 "--input", in, "--output", out, "--record", rec,
					 "--json", temp_path("result.json"), NULL);
	const char *you;
	char *json;
	int16_t *agent;
	size_t n;

	ck_assert_msg(r.exit_code == 0, "exit %d: %s", r.exit_code, r.err);
	/* plain lines: the caller's final text, the agent's replies, hops */
	you = strstr(r.out, "\nyou:   ");
	ck_assert_msg(you, "%s", r.out);
	ck_assert_msg(strstr(you, "order") && strstr(you, "status"), "%s", r.out);
	ck_assert_msg(strstr(r.out, "\nagent: "), "%s", r.out);
	ck_assert_msg(strstr(r.out, " \xc2\xb7 e2e "), "%s", r.out);
	ck_assert_msg(!strchr(r.out, '\r'), "a terminal display in a file");
	ck_assert_msg(strstr(r.out, "hangup"), "%s", r.out);
	ck_assert_msg(strstr(r.out, "\ne2e "), "no summary: %s", r.out);
	/* the agent's voice went to the output file */
	agent = load_mono(out, &n);
	ck_assert_uint_gt(n, RATE);
	ck_assert_double_gt(energy(agent, n) / n, 1e4);    /* > -35 dBFS on average */
	free(agent);
	check_recording(rec, true);
	/* the run result: this call, its turn and hops */
	json = slurp(temp_path("result.json"));
	ck_assert_msg(strstr(json, "\"name\":\"chat\"") || strstr(json, "\"name\": \"chat\""),
		      "%s", json);
	ck_assert_msg(strstr(json, "\"stt_text\"") && strstr(json, "\"e2e\""), "%s", json);
	free(json);
	run_result_free(&r);
}
END_TEST

/* PortAudio's ALSA plugins, loaded and unloaded by the device layer, leave
 * allocations behind that a sanitizer build of vagent reports as leaks of
 * an unknown module: vagent runs that open real devices do not check for
 * leaks (the live caller's own are checked in-process above). */
static void no_leak_check_in_children(void)
{
	setenv("LSAN_OPTIONS", "detect_leaks=0", 1);
}

START_TEST(cli_bad_input)
{
	struct run_result r;

	no_leak_check_in_children();
	r = run_vagent("chat", "--input", "nosuchdevice", "--output", temp_path("o.wav"), NULL);

	ck_assert_int_eq(r.exit_code, 3);
	ck_assert_int_eq(count_lines(r.err), 1);
	ck_assert_msg(strstr(r.err, "input device \"nosuchdevice\""), "%s", r.err);
	run_result_free(&r);

	r = run_vagent("chat", "--input", temp_path("missing.wav"), NULL);
	ck_assert_int_eq(r.exit_code, 2);
	ck_assert_int_eq(count_lines(r.err), 1);
	ck_assert_msg(strstr(r.err, "missing.wav"), "%s", r.err);
	run_result_free(&r);

	r = run_vagent("chat", "--agent", temp_file("bad.json", "{\"rate\": 12}"), NULL);
	ck_assert_int_eq(r.exit_code, 2);
	ck_assert_msg(strstr(r.err, "bad.json"), "%s", r.err);
	run_result_free(&r);

	r = run_vagent("chat", "--half-duplex", "--no-aec", NULL);
	ck_assert_int_eq(r.exit_code, 2);
	run_result_free(&r);
}
END_TEST

/* ---- the command on the PulseAudio rig ---- */

static struct pulse_server pulse;
static bool pulse_up;

static void pulse_setup(void)
{
	temp_dir_setup();
	no_leak_check_in_children();
	if (pulse_tests_disabled())
		return;
	pulse_up = pulse_rig_start(&pulse, temp_dir);
}

static void pulse_teardown(void)
{
	if (pulse_up)
		pulse_stop(&pulse);
	pulse_up = false;
	temp_dir_teardown();
}

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

static void pause_ms(int ms)
{
	struct timespec ts = { ms / 1000, (long)(ms % 1000) * 1000000L };

	nanosleep(&ts, NULL);
}

/* `vagent chat ARGS` in the background, its output into temp files. */
static pid_t spawn_chat(char *const args[])
{
	char *argv[16];
	size_t n = 0;
	pid_t pid;

	argv[n++] = (char *)vagent_bin();
	argv[n++] = "chat";
	for (size_t i = 0; args[i] && n < 15; i++)
		argv[n++] = args[i];
	argv[n] = NULL;
	pid = fork();
	ck_assert_int_ge(pid, 0);
	if (pid == 0) {
		int out = open(temp_path("chat.out"), O_WRONLY | O_CREAT | O_TRUNC, 0644);
		int err = open(temp_path("chat.err"), O_WRONLY | O_CREAT | O_TRUNC, 0644);

		dup2(out, 1);
		dup2(err, 2);
		execv(argv[0], argv);
		_exit(127);
	}
	return pid;
}

/* Its exit code, waiting at most `timeout` s (then killed: -1). */
static int wait_chat(pid_t pid, double timeout)
{
	double t0 = now_s();
	int status;

	while (waitpid(pid, &status, WNOHANG) == 0) {
		if (now_s() - t0 > timeout) {
			kill(pid, SIGKILL);
			waitpid(pid, &status, 0);
			return -1;
		}
		pause_ms(20);
	}
	return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

/* Mean square of the last `ms` of the speaker's capture. */
static double recent_level(struct pulse_server *ps, int ms, size_t *count)
{
	size_t n = pulse_capture_count(ps), w = (size_t)PULSE_RATE * ms / 1000;
	double e = 0;

	*count = n;
	if (n < w)
		return 0;
	pthread_mutex_lock(&ps->lock);
	for (size_t i = n - w; i < n; i++)
		e += (double)ps->cap[i] * ps->cap[i];
	pthread_mutex_unlock(&ps->lock);
	return e / w;
}

/* Wait until the speaker has played sound and then been quiet `quiet_ms`
 * (the agent said its piece); false after `timeout` s. */
static bool await_agent_said(struct pulse_server *ps, int quiet_ms, double timeout)
{
	double t0 = now_s();
	bool spoke = false;
	size_t n;

	while (now_s() - t0 < timeout) {
		if (recent_level(ps, 100, &n) > 1e5)      /* > -40 dBFS */
			spoke = true;
		else if (spoke && recent_level(ps, quiet_ms, &n) < 1e3)
			return true;
		pause_ms(20);
	}
	return false;
}

/* Wait until the file at `path` contains `text`; false after `timeout` s. */
static bool await_output(const char *path, const char *text, double timeout)
{
	double t0 = now_s();

	while (now_s() - t0 < timeout) {
		char *s = slurp(path);
		bool found = strstr(s, text) != NULL;

		free(s);
		if (found)
			return true;
		pause_ms(50);
	}
	return false;
}

/*
 * Start `vagent chat` on the rig and wait (at most 25 s) until the
 * agent's greeting has reached the speaker (`quiet_ms` > 0: and ended
 * with that much quiet). Known rig flake: about one start in ten right
 * after another suite (seen after the Chromium tests, never alone), the
 * first call on a fresh PulseAudio server plays nothing at all; then the
 * chat is stopped and started once more, and stderr says so. A second
 * silent start fails the test. Returns the chat's pid.
 */
static pid_t start_chat_heard(char *const args[], int quiet_ms)
{
	for (int attempt = 1;; attempt++) {
		pid_t pid = spawn_chat(args);
		double t0 = now_s();
		bool heard;
		size_t n;

		if (quiet_ms > 0) {
			heard = await_agent_said(&pulse, quiet_ms, 25);
		} else {
			while (recent_level(&pulse, 100, &n) < 1e5 && now_s() - t0 < 25)
				pause_ms(20);
			heard = now_s() - t0 < 25;
		}
		if (heard)
			return pid;
		kill(pid, SIGINT);
		wait_chat(pid, 15);
		if (attempt == 2)
			ck_abort_msg("no greeting on the speaker, twice: %s%s",
				     slurp(temp_path("chat.out")), slurp(temp_path("chat.err")));
		fprintf(stderr, "check_chat: no sound from the first chat on the PulseAudio rig "
			"in 25 s; starting it once more\n");
		ck_assert(pulse_capture_start(&pulse));
	}
}

/* A caller talks to the agent through the virtual mic; the agent's voice
 * comes out of the virtual speaker; Ctrl-C ends the call. The rig has no
 * acoustic path from speaker to mic, so no echo handling (--no-aec): the
 * echo canceller is tested above, on known signals and simulated rooms. */
START_TEST(pulse_live_call)
{
	char *args[] = { "--agent", (char *)top_path("fixtures/agents/test-store.json"),
			 "--input", "pulse", "--output", "pulse",
			 "--record", (char *)temp_path("call"), "--no-aec", NULL };
	size_t n;
	int16_t *caller;
	char *out, *err;
	pid_t pid;
	int rc;
	bool answered;

	if (pulse_tests_disabled())
		return;
	caller = load_mono(caller_wav(), &n);
	ck_assert(pulse_capture_start(&pulse));
	/* the greeting reached the speaker */
	pid = start_chat_heard(args, 2500);
	ck_assert(pulse_feed(&pulse, caller, n));
	/* the agent answers: its reply starts leaving (the hop line) ... */
	answered = await_output(temp_path("chat.out"), " \xc2\xb7 e2e ", 30);
	/* ... and plays out of the speaker */
	if (answered)
		answered = await_agent_said(&pulse, 1000, 15);
	kill(pid, SIGINT);
	rc = wait_chat(pid, 15);
	out = slurp(temp_path("chat.out"));
	err = slurp(temp_path("chat.err"));
	ck_assert_msg(answered, "no answer on the speaker: %s", out);
	ck_assert_msg(rc == 0, "exit %d: %s\n%s", rc, err, out);
	ck_assert_msg(strstr(out, "echo: off"), "%s", out);
	ck_assert_msg(strstr(out, "\nyou:   ") && strstr(strstr(out, "\nyou:   "), "order"),
		      "%s", out);
	ck_assert_msg(strstr(out, " \xc2\xb7 e2e "), "%s", out);
	/* a caller cut in on the greeting may split its words over turns */
	check_recording(temp_path("call"), false);
	free(pulse_capture_stop(&pulse, &n));
	free(out);
	free(err);
	free(caller);
}
END_TEST

/* The devices vanish mid-call: exit 3, one line naming the device, and
 * the call so far recorded. */
START_TEST(pulse_device_disappears)
{
	char *args[] = { "--agent", (char *)top_path("fixtures/agents/test-store.json"),
			 "--input", "pulse", "--output", "pulse",
			 "--record", (char *)temp_path("call"), NULL };
	char path[4096];
	char *err;
	size_t n;
	pid_t pid;
	int rc;

	if (pulse_tests_disabled())
		return;
	ck_assert(pulse_capture_start(&pulse));
	pid = start_chat_heard(args, 0);
	free(pulse_capture_stop(&pulse, &n));
	ck_assert(pulse_unload_sink(&pulse));
	ck_assert(pulse_unload_source(&pulse));
	rc = wait_chat(pid, 20);
	err = slurp(temp_path("chat.err"));
	ck_assert_msg(rc == 3, "exit %d: %s", rc, err);
	/* one line of vagent's (PortAudio's ALSA layer may add its own) */
	ck_assert_msg(strstr(err, "vagent: ") && !strstr(strstr(err, "vagent: ") + 1, "vagent: "),
		      "%s", err);
	ck_assert_msg(strstr(err, "device \"pulse\""), "%s", err);
	snprintf(path, sizeof(path), "%s/call.wav", temp_path("call"));
	ck_assert_msg(access(path, R_OK) == 0, "no recording kept");
	snprintf(path, sizeof(path), "%s/call.json", temp_path("call"));
	ck_assert_msg(access(path, R_OK) == 0, "no call.json kept");
	free(err);
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
	tc = tcase_create("cli");
	tcase_add_checked_fixture(tc, temp_dir_setup, temp_dir_teardown);
	tcase_add_test(tc, cli_wav_in_wav_out);
	tcase_add_test(tc, cli_bad_input);
	tcase_set_timeout(tc, 60);
	suite_add_tcase(s, tc);
	tc = tcase_create("pulse");
	tcase_add_checked_fixture(tc, pulse_setup, pulse_teardown);
	tcase_add_test(tc, pulse_live_call);
	tcase_add_test(tc, pulse_device_disappears);
	tcase_set_timeout(tc, 90);
	suite_add_tcase(s, tc);
	return s;
}
