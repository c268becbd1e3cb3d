/*
 * session_int.h — private structures of the session engine: the stage
 * chain (ops table, items, flush by turn), the session object and the
 * helpers the stages share (trace events with turn attribution, provider
 * fallback, human handoff). docs/session.md explains the design.
 */
#ifndef VAGENT_SESSION_INT_H
#define VAGENT_SESSION_INT_H

#include "core/internal.h"
#include "trace/trace_int.h"   /* vagent__utf8_valid */

struct vagent__stage;

/* DTMF turns (docs/dtmf.md): a turn of keys ends this long after the last
 * key (or on #, or with the digits the brain asked for); keys kept per turn. */
#define VAGENT__DTMF_TIMEOUT_MS 2500
#define VAGENT__DTMF_TURN_MAX 64

/*
 * What travels down the chain. Caller-side items (CALLER_FRAME,
 * TRANSCRIPT, TURN_END) carry the caller turn; agent-side items
 * (AGENT_*) carry the turn they answer, and are dropped anywhere in the
 * chain once that turn is flushed (barge-in).
 */
enum vagent__item_kind {
	VAGENT__ITEM_CALLER_FRAME,  /* frame, truth; vad filled by the VAD */
	VAGENT__ITEM_TRANSCRIPT,    /* text, final, confidence */
	VAGENT__ITEM_TURN_END,      /* the caller finished turn `turn` */
	VAGENT__ITEM_AGENT_TEXT,    /* text: a delta of the reply */
	VAGENT__ITEM_AGENT_TEXT_END,/* the reply's text is complete */
	VAGENT__ITEM_AGENT_AUDIO,   /* samples, n: synthesised audio */
	VAGENT__ITEM_AGENT_AUDIO_END, /* the reply's audio is complete */
	VAGENT__ITEM_AGENT_FRAME,   /* frame: an agent frame played */
};

struct vagent__item {
	enum vagent__item_kind kind;
	int turn;
	const struct vagent_frame *frame;
	const struct vagent_speech_truth *truth;
	struct vagent_vad_result vad;
	bool has_vad;
	const char *text;
	bool final;
	double confidence;
	const int16_t *samples;
	size_t n;
	/* TURN_END: the keys pressed in the turn ("1234#"), or NULL */
	const char *dtmf;
	/* CALLER_FRAME: the frame the recorder keeps when `frame` was masked
	 * for the listeners (a key tone outside PCI mode), else NULL */
	const struct vagent_frame *record_frame;
};

/*
 * A stage: handle() consumes the items it cares about and forwards the
 * others (and its own output) with vagent__stage_forward(); tick() runs
 * once per 20 ms after the caller frame went down the chain; flush()
 * drops everything of turns <= turn; stop() cancels provider work at the
 * end of the call. Like a GStreamer element with a chain function and
 * flush events, without negotiation: the chain is fixed.
 */
struct vagent__stage_ops {
	const char *name;
	void (*handle)(struct vagent__stage *st, struct vagent__item *it);
	void (*tick)(struct vagent__stage *st, int64_t t);
	void (*flush)(struct vagent__stage *st, int turn);
	void (*stop)(struct vagent__stage *st);
	void (*free)(struct vagent__stage *st);
};

struct vagent__stage {
	const struct vagent__stage_ops *ops;
	struct vagent_session *s;
	struct vagent__stage *next;
};

/* Hand `it` to the next stage (dropped at the end of the chain, or when
 * it is agent-side and its turn was flushed). */
void vagent__stage_forward(struct vagent__stage *st, struct vagent__item *it);

/* The stages (stage_dtmf.c, stage_listen.c, stage_speak.c). */
struct vagent__stage *vagent__dtmf_stage_new(struct vagent_session *s,
					     struct vagent_error *err);
struct vagent__stage *vagent__vad_stage_new(struct vagent_session *s,
					    struct vagent_error *err);
struct vagent__stage *vagent__stt_stage_new(struct vagent_session *s,
					    struct vagent_error *err);
struct vagent__stage *vagent__turn_stage_new(struct vagent_session *s,
					     struct vagent_error *err);
struct vagent__stage *vagent__brain_stage_new(struct vagent_session *s,
					      struct vagent_error *err);
struct vagent__stage *vagent__tts_stage_new(struct vagent_session *s,
					    struct vagent_error *err);
struct vagent__stage *vagent__output_stage_new(struct vagent_session *s,
					       struct vagent_error *err);
struct vagent__stage *vagent__recorder_stage_new(struct vagent_session *s,
						 struct vagent_error *err);

/* Stage hooks the session calls directly. */
void vagent__brain_stage_greet(struct vagent__stage *st);
void vagent__brain_stage_say(struct vagent__stage *st, int turn,
			     const char *text, bool filler);
bool vagent__output_stage_speaking(const struct vagent__stage *st);
/* Whether the brain stage is working on a reply. */
bool vagent__brain_stage_busy(const struct vagent__stage *st);
/* A key was pressed (onset: session ticks): the turn stage's DTMF turn
 * rules (stage_listen.c, docs/dtmf.md). */
void vagent__turn_stage_dtmf(struct vagent__stage *st, char digit, int64_t onset);
/* Whether the turn detector has a caller turn open. */
bool vagent__turn_stage_open(const struct vagent__stage *st);
int vagent__output_stage_turn(const struct vagent__stage *st);
bool vagent__output_stage_has_audio(const struct vagent__stage *st, int turn);
void vagent__output_stage_stop_audio(struct vagent__stage *st, int64_t t,
				     const char *reason);

enum vagent__slot { VAGENT__SLOT_STT, VAGENT__SLOT_LLM, VAGENT__SLOT_TTS };

/* A trace event waiting for its turn to be known (see below). */
struct vagent__pending_event {
	struct vagent_trace_event ev;
	char *text;
	int64_t t;                  /* its session time, ticks */
};

struct vagent_session {
	struct vagent_session_config cfg;
	char *name;                            /* cfg.name, owned */
	struct vagent_loop *loop;
	struct vagent_loop *owned_loop;        /* vagent_session_run's */
	int64_t origin;                        /* loop time of t = 0 */
	int64_t frame_ticks;                   /* 20 ms */
	size_t frame_samples;
	struct vagent_timer *tick_timer, *end_timer;
	bool started, done, stopping;

	/* the chain, head first, and direct pointers to stages */
	struct vagent__stage *head;
	struct vagent__stage *stage_dtmf, *stage_vad, *stage_stt, *stage_turn, *stage_brain,
		*stage_tts, *stage_output, *stage_recorder;

	/* turns: `turn` is the current caller turn (0: none yet); agent
	 * items of turns <= flushed_turn are dropped. */
	int turn;
	int flushed_turn;
	int answered_turn;                     /* last turn whose reply audio
						* started playing */
	int next_request;

	/*
	 * Caller-side events (caller.*, vad.*, stt.*) of a speech segment
	 * whose turn is not known yet (the agent is speaking: a barge-in
	 * makes it the next turn, a backchannel keeps it in the current
	 * one) wait here until vagent__session_assign().
	 */
	bool segment_pending;
	char *pending_truth;                   /* truth text of that speech */
	struct vagent__pending_event *pending;
	size_t n_pending, cap_pending;

	/* providers in use per slot (index into cfg arrays) */
	int active[3];
	size_t n_providers[3];

	/* trace */
	struct vagent_trace_writer *tw_file, *tw_mem;

	/* the true caller speech (from the caller's truth) */
	bool truth_speaking;
	int truth_utterance;
	int64_t truth_start, truth_end;

	bool handing_off;
	bool sensitive;                        /* PCI mode (brain's on_sensitive) */
	int expect_digits;                     /* the brain asked turn */
	int expect_turn;                       /* expect_turn + 1 for this many digits */
	bool quiet;                            /* no input: silent since */
	int64_t quiet_since;
	int no_inputs;                         /* reprompts said in a row */
	bool hanging_up;                       /* the agent hangs up after */
	int hangup_turn;                       /* its reply to this turn */
	struct vagent__webhook *webhook;       /* the transfer POST in flight */
	const char *deferred_end;              /* call end waiting for it */
	struct vagent_session_result result;
	size_t cap_turns;
	struct vagent_audio *rec_left, *rec_right, *recording;

	void (*on_done)(struct vagent_session *s, void *arg);
	void *on_done_arg;
	struct vagent_error err;
};

/* The transfer webhook (webhook.c): POST `package` to
 * cfg.transfer_webhook on a worker; vagent__session_webhook_finished() is
 * called on the loop when it is done. _detach: the session is being
 * freed, the job must not touch it. */
struct vagent__webhook;
vagent_status vagent__webhook_post(struct vagent_session *s, int turn,
				   const char *package);
void vagent__webhook_detach(struct vagent__webhook *w);
void vagent__session_webhook_finished(struct vagent_session *s);

/* Session time (ticks since t = 0). */
int64_t vagent__session_now(const struct vagent_session *s);

/*
 * Write a trace event at session time `t` (ticks). Caller-side events
 * (`caller_side`) wait while a speech segment's turn is unknown; all
 * others are written at once with their own turn. String fields are
 * copied when they wait.
 */
void vagent__session_event(struct vagent_session *s,
			   struct vagent_trace_event *ev, int64_t t,
			   bool caller_side);
/* A speech segment began whose turn is not known yet. */
void vagent__session_segment_begin(struct vagent_session *s);
/* Its turn is `turn` now: write the waiting events with it. */
void vagent__session_assign(struct vagent_session *s, int turn);

/* Open caller turn `turn` (result.turns grows). */
struct vagent_session_turn *vagent__session_turn(struct vagent_session *s,
						  int turn);
/* Append `text` (space-separated) to *field. */
void vagent__append_text(char **field, const char *text);

/* Drop everything of turns <= turn in every stage. */
void vagent__session_flush(struct vagent_session *s, int turn);

/* Provider slots: the active provider, and the switch to the next one
 * after `failed` failed (a `fallback` event; false when none is left). */
struct vagent_stt *vagent__session_stt(struct vagent_session *s);
struct vagent_brain *vagent__session_brain(struct vagent_session *s);
struct vagent_tts *vagent__session_tts(struct vagent_session *s);
bool vagent__session_fail_over(struct vagent_session *s, enum vagent__slot slot,
			       int turn, const char *message);

/* Provider `index` of `slot` got the first byte of an exchange it started
 * at loop time `sent`: write provider.first_byte (turn `turn`; an STT's is
 * caller-side, like its transcripts). */
void vagent__session_first_byte(struct vagent_session *s, enum vagent__slot slot,
				int index, int turn, int64_t sent);

/* Hand the call to a human: escalation + transfer events, the handoff
 * phrase when a TTS still works, then the end of the call. */
void vagent__session_handoff(struct vagent_session *s, int turn,
			     const char *reason, const char *package);
/* End the call at the next tick with `reason` (call.end). */
void vagent__session_end(struct vagent_session *s, const char *reason);
/* An engine error (trace `error` event). */
void vagent__session_error(struct vagent_session *s, int turn,
			   const char *source, const char *message);

#endif
