/*
 * stage_listen.c — the listening half of the chain: the VAD stage, the
 * STT stage (speech recogniser slot, fallback) and the turn stage (end of
 * turn, the attribution of caller speech to turns, barge-in and
 * backchannels). docs/session.md.
 */
#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include "session/session_int.h"

/* ---- VAD ---- */

struct vad_stage {
	struct vagent__stage base;
	struct vagent_vad *vad;
};

static void vad_handle(struct vagent__stage *st, struct vagent__item *it)
{
	struct vad_stage *v = (struct vad_stage *)st;
	struct vagent_session *s = st->s;

	if (it->kind == VAGENT__ITEM_CALLER_FRAME) {
		struct vagent_error e;

		if (vagent_vad_process(v->vad, it->frame, &it->vad, &e) == VAGENT_OK) {
			it->has_vad = true;
			if (it->vad.event != VAGENT_VAD_NONE) {
				struct vagent_trace_event ev = { 0 };
				bool start = it->vad.event == VAGENT_VAD_START;

				if (start && !s->segment_pending &&
				    !vagent__turn_stage_open(s->stage_turn))
					vagent__session_segment_begin(s);
				ev.type = start ? VAGENT_TRACE_VAD_SPEECH_START
						: VAGENT_TRACE_VAD_SPEECH_END;
				vagent__session_event(s, &ev, it->vad.event_pts, true);
			}
		}
	}
	vagent__stage_forward(st, it);
}

static void vad_free(struct vagent__stage *st)
{
	struct vad_stage *v = (struct vad_stage *)st;

	vagent_vad_free(v->vad);
	free(v);
}

static const struct vagent__stage_ops vad_ops = {
	.name = "vad", .handle = vad_handle, .free = vad_free,
};

struct vagent__stage *vagent__vad_stage_new(struct vagent_session *s,
					    struct vagent_error *err)
{
	struct vad_stage *v = calloc(1, sizeof(*v));

	if (!v) {
		vagent__error_set(err, VAGENT_ENOMEM, "session", "out of memory");
		return NULL;
	}
	v->base.ops = &vad_ops;
	if (vagent_vad_new(&s->cfg.agent.vad, &v->vad, err) != VAGENT_OK) {
		free(v);
		return NULL;
	}
	return &v->base;
}

/* ---- STT ---- */

struct stt_stage;

struct stt_ctx {
	struct stt_stage *stage;
	int index;
};

struct stt_stage {
	struct vagent__stage base;
	struct stt_ctx ctx[4];
};

static bool stt_current(struct stt_ctx *c)
{
	return c->stage->base.s->active[VAGENT__SLOT_STT] == c->index &&
	       !c->stage->base.s->done;
}

static void stt_fail(struct stt_ctx *c, const char *message)
{
	struct vagent_session *s = c->stage->base.s;

	if (!vagent__session_fail_over(s, VAGENT__SLOT_STT, s->turn, message))
		vagent__session_handoff(s, s->turn, "stt_failure", NULL);
}

static void stt_text(struct stt_ctx *c, const char *text, bool final,
		     double confidence)
{
	struct vagent_session *s = c->stage->base.s;
	struct vagent_trace_event ev = { 0 };
	struct vagent__item it = { 0 };
	char msg[160];

	if (!stt_current(c))
		return;
	if (!text)
		text = "";
	if (!vagent__utf8_valid(text, strlen(text))) {
		snprintf(msg, sizeof(msg), "%s: malformed transcript (not UTF-8)",
			 s->cfg.stt[c->index]->name);
		stt_fail(c, msg);
		return;
	}
	ev.type = final ? VAGENT_TRACE_STT_FINAL : VAGENT_TRACE_STT_PARTIAL;
	ev.text = text;
	ev.provider = s->cfg.stt[c->index]->name;
	if (final && confidence >= 0 && confidence <= 1) {
		ev.has_confidence = true;
		ev.confidence = confidence;
	}
	vagent__session_event(s, &ev, vagent__session_now(s), true);
	it.kind = VAGENT__ITEM_TRANSCRIPT;
	it.turn = s->turn;
	it.text = text;
	it.final = final;
	it.confidence = confidence;
	vagent__stage_forward(&c->stage->base, &it);
}

static void stt_on_partial(void *ctx, const char *text)
{
	stt_text(ctx, text, false, -1);
}

static void stt_on_final(void *ctx, const char *text, double confidence)
{
	stt_text(ctx, text, true, confidence);
}

static void stt_on_first_byte(void *ctx, uint64_t id, int64_t sent)
{
	struct stt_ctx *c = ctx;
	struct vagent_session *s = c->stage->base.s;

	(void)id;
	if (!stt_current(c))
		return;
	vagent__session_first_byte(s, VAGENT__SLOT_STT, c->index, s->turn, sent);
}

static void stt_on_error(void *ctx, vagent_status st, const char *message)
{
	if (!stt_current(ctx))
		return;
	(void)st;
	stt_fail(ctx, message);
}

static void stt_handle(struct vagent__stage *st, struct vagent__item *it)
{
	struct vagent_stt *p = vagent__session_stt(st->s);

	if (p && it->kind == VAGENT__ITEM_CALLER_FRAME) {
		if (it->has_vad && it->vad.event != VAGENT_VAD_NONE && p->ops->speech)
			p->ops->speech(p, it->vad.event == VAGENT_VAD_START,
				       it->vad.event_pts);
		if (p->ops->audio)
			p->ops->audio(p, it->frame, it->truth);
	}
	/* turn_end is called by the turn stage (downstream of this one) when
	 * the turn detector ends a turn */
	vagent__stage_forward(st, it);
}

static void stt_stop(struct vagent__stage *st)
{
	size_t i;

	for (i = 0; i < st->s->n_providers[VAGENT__SLOT_STT]; i++)
		if (st->s->cfg.stt[i]->ops->stop)
			st->s->cfg.stt[i]->ops->stop(st->s->cfg.stt[i]);
}

static void stt_free(struct vagent__stage *st)
{
	free(st);
}

static const struct vagent__stage_ops stt_ops = {
	.name = "stt", .handle = stt_handle, .stop = stt_stop, .free = stt_free,
};

struct vagent__stage *vagent__stt_stage_new(struct vagent_session *s,
					    struct vagent_error *err)
{
	struct stt_stage *t = calloc(1, sizeof(*t));
	size_t i;

	if (!t) {
		vagent__error_set(err, VAGENT_ENOMEM, "session", "out of memory");
		return NULL;
	}
	t->base.ops = &stt_ops;
	for (i = 0; i < s->n_providers[VAGENT__SLOT_STT]; i++) {
		struct vagent_stt *p = s->cfg.stt[i];

		t->ctx[i].stage = t;
		t->ctx[i].index = (int)i;
		p->on_partial = stt_on_partial;
		p->on_final = stt_on_final;
		p->on_error = stt_on_error;
		p->on_first_byte = stt_on_first_byte;
		p->ctx = &t->ctx[i];
	}
	return &t->base;
}

/* ---- turn-taking and barge-in ---- */

struct turn_stage {
	struct vagent__stage base;
	struct vagent_turn_detector *det;
	bool open;                  /* a caller turn is open (s->turn) */
	/* text of the open turn, and of a segment whose turn is pending */
	char *finals, *partial;
	char *seg_finals, *seg_partial;
	char *carry;                /* text of a turn whose reply was abandoned */
	/* the turn ended, its final has not come yet */
	bool awaiting_final;
	int awaiting_turn;
	struct vagent_timer *final_timer;
	/* barge-in candidate: caller speech while the agent speaks */
	bool cand;
	int64_t cand_onset_vad, cand_onset_true, cand_like_end;
	char **backchannels;
	size_t n_backchannels;
	/* keys pressed in the open turn, and the inter-digit timeout */
	char dtmf[VAGENT__DTMF_TURN_MAX + 1];
	size_t n_dtmf;
	struct vagent_timer *dtmf_timer;
};

static void set_str(char **p, const char *v)
{
	free(*p);
	*p = v ? strdup(v) : NULL;
}

static char *joined(const char *a, const char *b, const char *c)
{
	char *out = NULL;

	vagent__append_text(&out, a);
	vagent__append_text(&out, b);
	vagent__append_text(&out, c);
	return out;
}

bool vagent__turn_stage_open(const struct vagent__stage *st)
{
	return ((const struct turn_stage *)st)->open;
}

/* Lower-case words of `text` without punctuation (apostrophes and
 * hyphens kept), one space apart. */
static void normalise(const char *text, char *out, size_t cap)
{
	size_t n = 0;
	bool space = true;

	for (; text && *text && n + 1 < cap; text++) {
		unsigned char c = (unsigned char)*text;

		if (isalnum(c) || c == '\'' || c == '-' || c >= 0x80) {
			out[n++] = (char)tolower(c);
			space = false;
		} else if (!space) {
			out[n++] = ' ';
			space = true;
		}
	}
	while (n && out[n - 1] == ' ')
		n--;
	out[n] = '\0';
}

/* The number of words in `text` (NULL: 0). */
static int count_words(const char *text)
{
	int n = 0;

	for (const char *p = text; p && *p; ) {
		while (*p == ' ')
			p++;
		if (!*p)
			break;
		n++;
		while (*p && *p != ' ')
			p++;
	}
	return n;
}

/* Whether every word of `text` belongs to a backchannel phrase
 * (greedy, longest phrase first at each position). Empty: false. */
static bool all_backchannel(const struct turn_stage *t, const char *text)
{
	char buf[512];
	const char *p;

	normalise(text, buf, sizeof(buf));
	if (!buf[0])
		return false;
	p = buf;
	while (*p) {
		size_t best = 0, i;

		for (i = 0; i < t->n_backchannels; i++) {
			size_t l = strlen(t->backchannels[i]);

			if (l > best && strncmp(p, t->backchannels[i], l) == 0 &&
			    (p[l] == '\0' || p[l] == ' '))
				best = l;
		}
		if (!best)
			return false;
		p += best;
		while (*p == ' ')
			p++;
	}
	return true;
}

/* Whether `text` already holds the digits the agent asked for in its
 * reply to the previous turn (the brain's on_expect_digits). */
static bool expected_digits_heard(const struct vagent_session *s, const char *text)
{
	struct vagent_slot_spec spec = { .type = VAGENT_SLOT_ORDER_NUMBER };
	char *digits = NULL;
	bool heard;

	if (s->expect_digits <= 0 || s->turn != s->expect_turn + 1 || !text)
		return false;
	spec.min_len = spec.max_len = s->expect_digits;
	heard = vagent_slot_extract(&spec, text, &digits) == VAGENT_OK;
	free(digits);
	return heard;
}

static void update_transcript(struct turn_stage *t)
{
	char *text = joined(t->finals, t->partial, NULL);

	/* all the digits asked for are in: no reason to hold for more */
	vagent_turn_detector_set_transcript(t->det, expected_digits_heard(t->base.s, text)
					    ? NULL : text);
	free(text);
}

/* The caller's turn s->turn is over: hand its text to the brain. */
static void emit_turn_end(struct turn_stage *t, int turn)
{
	struct vagent_session *s = t->base.s;
	struct vagent__item it = { 0 };
	struct vagent_session_turn *rt = vagent__session_turn(s, turn);
	char *own = joined(t->finals, t->partial, NULL);
	char *text = joined(t->carry, own, NULL);

	t->awaiting_final = false;
	vagent_timer_stop(t->final_timer);
	if (rt && own)
		vagent__append_text(&rt->stt_text, own);
	vagent_timer_stop(t->dtmf_timer);
	it.kind = VAGENT__ITEM_TURN_END;
	it.turn = turn;
	it.text = text ? text : "";
	it.dtmf = t->n_dtmf ? t->dtmf : NULL;
	set_str(&t->finals, NULL);
	set_str(&t->partial, NULL);
	set_str(&t->carry, NULL);
	vagent__stage_forward(&t->base, &it);
	t->n_dtmf = 0;
	t->dtmf[0] = '\0';
	free(own);
	free(text);
}

static void final_timer_fired(struct vagent_timer *timer, void *arg)
{
	struct turn_stage *t = arg;

	(void)timer;
	if (t->awaiting_final)
		emit_turn_end(t, t->awaiting_turn);
}

/* Open a new caller turn for the pending segment. */
static void open_turn(struct turn_stage *t)
{
	struct vagent_session *s = t->base.s;
	int prev = s->turn;

	/* A reply still being prepared for the previous turn (no audio yet)
	 * is abandoned: the caller went on talking; its text is carried. */
	if (prev > 0 && prev > s->flushed_turn && prev > s->answered_turn) {
		struct vagent_session_turn *rt = vagent__session_turn(s, prev);

		if (t->awaiting_final) {
			/* the previous turn's final never came: keep its text */
			char *own = joined(t->finals, t->partial, NULL);

			if (rt && own)
				vagent__append_text(&rt->stt_text, own);
			vagent__append_text(&t->carry, own);
			free(own);
			t->awaiting_final = false;
			vagent_timer_stop(t->final_timer);
		} else if (rt && rt->stt_text) {
			vagent__append_text(&t->carry, rt->stt_text);
		}
		vagent__session_flush(s, prev);
	}
	s->turn = prev + 1;
	t->open = true;
	vagent__session_turn(s, s->turn);
	vagent__session_assign(s, s->turn);
	set_str(&t->finals, t->seg_finals);
	set_str(&t->partial, t->seg_partial);
	set_str(&t->seg_finals, NULL);
	set_str(&t->seg_partial, NULL);
	update_transcript(t);
}

static void barge_in(struct turn_stage *t, int64_t now)
{
	struct vagent_session *s = t->base.s;
	int k = vagent__output_stage_turn(s->stage_output);
	struct vagent_trace_event ev = { .type = VAGENT_TRACE_BARGE_IN };
	struct vagent_session_turn *rt = vagent__session_turn(s, k);

	ev.turn = k;
	ev.onset_us = vagent_ticks_to_us(t->cand_onset_true);
	ev.decision_us = vagent_ticks_to_us(now);
	vagent__session_event(s, &ev, now, false);
	if (rt)
		rt->interrupted = true;
	vagent__output_stage_stop_audio(s->stage_output, now, "barge_in");
	vagent__session_flush(s, k > s->turn ? k : s->turn);
	t->cand = false;
	/* the interruption is the caller's next turn */
	if (!t->open)
		open_turn(t);
}

static void turn_handle_frame(struct turn_stage *t, struct vagent__item *it)
{
	struct vagent_session *s = t->base.s;
	const struct vagent_frame *f = it->frame;
	int64_t end = vagent_frame_end(f);
	struct vagent_turn_event ev;
	bool speaking = vagent__output_stage_speaking(s->stage_output);

	if (!it->has_vad)
		return;
	vagent_turn_detector_push_vad(t->det, &it->vad, f->pts,
				      vagent_frame_duration(f), &ev, NULL);

	if (it->vad.event == VAGENT_VAD_START) {
		t->cand = true;
		t->cand_onset_vad = it->vad.event_pts;
		/* the true onset when the harness knows it */
		t->cand_onset_true = (s->truth_speaking &&
				      s->truth_start <= end) ? s->truth_start
							     : it->vad.event_pts;
		t->cand_like_end = it->vad.event_pts;
	}
	if (t->cand && it->vad.speech_like)
		t->cand_like_end = end;

	/* barge-in: enough caller speech over the agent's audio */
	if (speaking && t->cand && s->cfg.agent.barge_in && !s->handing_off) {
		int64_t dur = t->cand_like_end - t->cand_onset_vad;
		int64_t min = (int64_t)s->cfg.agent.min_speech_ms * VAGENT_TICKS_PER_MS;
		int64_t bmax = (int64_t)s->cfg.agent.backchannel_max_ms * VAGENT_TICKS_PER_MS;

		if (dur >= min) {
			char *text = joined(t->seg_finals, t->seg_partial, NULL);
			bool backchannel = all_backchannel(t, text);
			/* min_words: wait for the recogniser's words before
			 * deciding (a backchannel cannot be told from an
			 * interruption by its first 200 ms of sound) */
			int n_words = count_words(text);
			bool words = n_words >= s->cfg.agent.barge_in_min_words;
			/* ... and then a long sound with no words at all is
			 * noise, not a caller talking over the agent */
			bool long_speech = dur >= bmax &&
				(s->cfg.agent.barge_in_min_words == 0 || n_words > 0);

			free(text);
			if ((!backchannel && words) || long_speech)
				barge_in(t, end);
		}
	}

	if (ev.type == VAGENT_TURN_START && !t->open &&
	    !vagent__output_stage_speaking(s->stage_output))
		open_turn(t);

	if (it->vad.event == VAGENT_VAD_END) {
		t->cand = false;
		if (s->segment_pending && !t->open && !speaking) {
			/* too short to open a turn while the agent is silent:
			 * the first words of the caller's next turn ("No, ...")
			 * or noise; it waits, with what was recognised of it,
			 * for the next turn to open */
			return;
		}
		if (s->segment_pending && !t->open) {
			/* speech over the agent that never became a turn: a
			 * backchannel or noise; it stays with the current turn */
			vagent__session_assign(s, s->turn);
			free(s->pending_truth);
			s->pending_truth = NULL;
			set_str(&t->seg_finals, NULL);
			set_str(&t->seg_partial, NULL);
			vagent_turn_detector_reset(t->det);
			return;
		}
	}

	if (ev.type == VAGENT_TURN_END && t->open) {
		struct vagent_trace_event te = { .type = VAGENT_TRACE_TURN_END };
		struct vagent_stt *stt = vagent__session_stt(s);
		int turn = s->turn;

		t->open = false;
		te.turn = turn;
		vagent__session_event(s, &te, ev.pts, false);
		/* the recogniser hears of it: what is left of the turn's final
		 * now (Deepgram's Finalize, a batch recogniser's request) */
		if (stt && stt->ops->turn_end)
			stt->ops->turn_end(stt, ev.pts);
		if (t->finals && !t->partial) {
			emit_turn_end(t, turn);
		} else {
			t->awaiting_final = true;
			t->awaiting_turn = turn;
			vagent_timer_start(t->final_timer,
					   (int64_t)s->cfg.agent.stt_final_wait_ms *
					   VAGENT_TICKS_PER_MS, 0, NULL);
		}
	}
}

/* The open turn is over by a key rule (#, the digits asked for, the
 * inter-digit timeout): turn.end now, its text and keys to the brain. */
static void end_dtmf_turn(struct turn_stage *t, int64_t now)
{
	struct vagent_session *s = t->base.s;
	struct vagent_trace_event te = { .type = VAGENT_TRACE_TURN_END };
	int turn = s->turn;

	if (!t->open)
		return;
	t->open = false;
	te.turn = turn;
	vagent__session_event(s, &te, now, false);
	vagent_turn_detector_reset(t->det);
	emit_turn_end(t, turn);
}

static void dtmf_timer_fired(struct vagent_timer *timer, void *arg)
{
	struct turn_stage *t = arg;

	(void)timer;
	if (t->open && t->n_dtmf)
		end_dtmf_turn(t, vagent__session_now(t->base.s));
}

/* Digits (0-9) among the keys of the open turn. */
static int dtmf_digit_count(const struct turn_stage *t)
{
	int n = 0;

	for (size_t i = 0; i < t->n_dtmf; i++)
		n += t->dtmf[i] >= '0' && t->dtmf[i] <= '9';
	return n;
}

/* The key as a string with static storage (an event may wait in the
 * pending list after this call returns). */
static const char *key_name(char key)
{
	static const char keys[] = "0123456789*#ABCD";
	static const char *const names[] = {
		"0", "1", "2", "3", "4", "5", "6", "7", "8", "9", "*", "#",
		"A", "B", "C", "D",
	};
	const char *p = key ? strchr(keys, key) : NULL;

	return p ? names[p - keys] : "#";
}

void vagent__turn_stage_dtmf(struct vagent__stage *st, char digit, int64_t onset)
{
	struct turn_stage *t = (struct turn_stage *)st;
	struct vagent_session *s = st->s;
	struct vagent_trace_event ev = { .type = VAGENT_TRACE_DTMF };
	int64_t now = vagent__session_now(s);

	if (s->done)
		return;
	ev.digit = s->sensitive ? NULL : key_name(digit);
	ev.redacted = s->sensitive;
	if (s->handing_off) {
		/* the call is being handed over: the key is only traced */
		vagent__session_event(s, &ev, onset, true);
		return;
	}
	/* a key pressed while the agent talks interrupts it (IVR convention) */
	if (vagent__output_stage_speaking(s->stage_output) && s->cfg.agent.barge_in) {
		t->cand_onset_true = onset;
		barge_in(t, now);
	}
	if (!t->open)
		open_turn(t);
	vagent__session_event(s, &ev, onset, true);
	if (t->n_dtmf < VAGENT__DTMF_TURN_MAX) {
		t->dtmf[t->n_dtmf++] = digit;
		t->dtmf[t->n_dtmf] = '\0';
	}
	if (digit == '#' ||
	    (!s->sensitive && s->expect_digits > 0 && s->turn == s->expect_turn + 1 &&
	     dtmf_digit_count(t) >= s->expect_digits)) {
		end_dtmf_turn(t, now);
		return;
	}
	vagent_timer_start(t->dtmf_timer, (int64_t)VAGENT__DTMF_TIMEOUT_MS *
			   VAGENT_TICKS_PER_MS, 0, NULL);
}

static void turn_handle_text(struct turn_stage *t, struct vagent__item *it)
{
	struct vagent_session *s = t->base.s;
	char **finals, **partial;

	if (t->awaiting_final && it->final) {
		/* the final the ended turn waits for, even when new speech
		 * has begun meanwhile */
		finals = &t->finals;
		partial = &t->partial;
	} else if (s->segment_pending) {
		finals = &t->seg_finals;
		partial = &t->seg_partial;
	} else if (t->open || t->awaiting_final) {
		finals = &t->finals;
		partial = &t->partial;
	} else {
		return;     /* a late transcript of speech already dealt with */
	}
	if (it->final) {
		vagent__append_text(finals, it->text);
		set_str(partial, NULL);
	} else {
		set_str(partial, it->text && *it->text ? it->text : NULL);
	}
	if (finals == &t->finals)
		update_transcript(t);
	if (t->awaiting_final && it->final)
		emit_turn_end(t, t->awaiting_turn);
}

static void turn_handle(struct vagent__stage *st, struct vagent__item *it)
{
	struct turn_stage *t = (struct turn_stage *)st;

	if (it->kind == VAGENT__ITEM_CALLER_FRAME)
		turn_handle_frame(t, it);
	else if (it->kind == VAGENT__ITEM_TRANSCRIPT)
		turn_handle_text(t, it);
	if (!st->s->done)
		vagent__stage_forward(st, it);
}

static void turn_tick(struct vagent__stage *st, int64_t now)
{
	struct turn_stage *t = (struct turn_stage *)st;
	struct vagent_session *s = st->s;

	(void)now;
	/* the agent finished while the caller was already talking: that
	 * speech is the caller's next turn */
	if (s->segment_pending && !t->open &&
	    !vagent__output_stage_speaking(s->stage_output) &&
	    vagent_turn_detector_in_turn(t->det))
		open_turn(t);
}

static void turn_stop(struct vagent__stage *st)
{
	struct turn_stage *t = (struct turn_stage *)st;

	vagent_timer_stop(t->final_timer);
	vagent_timer_stop(t->dtmf_timer);
}

static void turn_free(struct vagent__stage *st)
{
	struct turn_stage *t = (struct turn_stage *)st;
	size_t i;

	vagent_turn_detector_free(t->det);
	vagent_timer_free(t->final_timer);
	vagent_timer_free(t->dtmf_timer);
	free(t->finals);
	free(t->partial);
	free(t->seg_finals);
	free(t->seg_partial);
	free(t->carry);
	for (i = 0; i < t->n_backchannels; i++)
		free(t->backchannels[i]);
	free(t->backchannels);
	free(t);
}

static const struct vagent__stage_ops turn_ops = {
	.name = "turn", .handle = turn_handle, .tick = turn_tick,
	.stop = turn_stop, .free = turn_free,
};

struct vagent__stage *vagent__turn_stage_new(struct vagent_session *s,
					     struct vagent_error *err)
{
	struct turn_stage *t = calloc(1, sizeof(*t));
	const char *const *words = s->cfg.agent.backchannels;
	size_t n = 0, i;

	if (!t)
		goto nomem;
	t->base.ops = &turn_ops;
	if (vagent_turn_detector_new(&s->cfg.agent.turn, &t->det, err) != VAGENT_OK) {
		free(t);
		return NULL;
	}
	t->final_timer = vagent_timer_new(s->loop, final_timer_fired, t);
	t->dtmf_timer = vagent_timer_new(s->loop, dtmf_timer_fired, t);
	if (!t->final_timer || !t->dtmf_timer)
		goto fail;
	if (!words)
		words = vagent_default_backchannels();
	while (words[n])
		n++;
	t->backchannels = calloc(n ? n : 1, sizeof(char *));
	if (!t->backchannels)
		goto fail;
	for (i = 0; i < n; i++) {
		char buf[128];

		normalise(words[i], buf, sizeof(buf));
		t->backchannels[i] = strdup(buf);
		if (!t->backchannels[i])
			goto fail;
		t->n_backchannels++;
	}
	return &t->base;
fail:
	t->base.s = s;
	turn_free(&t->base);
nomem:
	vagent__error_set(err, VAGENT_ENOMEM, "session", "out of memory");
	return NULL;
}
