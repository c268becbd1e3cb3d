/*
 * session.c — one call: the 20 ms tick that pulls a caller frame through
 * the stage chain (VAD → STT → turn → brain → TTS → output → recorder),
 * trace writing with turn attribution, provider fallback, human handoff,
 * the end of the call and its result. docs/session.md.
 */
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "session/session_int.h"

#define SESSION_MAX_CALL_MS (24 * 3600 * 1000)

static const char *const default_backchannels[] = {
	"uh-huh", "uh huh", "mm-hmm", "mm hmm", "mhm", "hmm", "mm", "yeah",
	"yep", "yes", "ok", "okay", "right", "sure", "i see", "got it",
	"alright", "uh", "um", NULL,
};

const char *const *vagent_default_backchannels(void)
{
	return default_backchannels;
}

struct vagent_agent_config vagent_agent_config_default(void)
{
	struct vagent_agent_config a;

	memset(&a, 0, sizeof(a));
	a.vad = vagent_vad_config_default();
	a.turn = vagent_turn_config_default();
	a.barge_in = true;
	a.min_speech_ms = 180;
	a.backchannel_max_ms = 1000;
	a.cancel_tools_on_barge_in = true;
	a.filler_after_ms = 1500;
	a.filler_text = "One moment please.";
	a.tool_timeout_ms = 5000;
	a.llm_timeout_ms = 8000;
	a.tts_timeout_ms = 5000;
	a.stt_final_wait_ms = 1000;
	a.handoff_text = "Let me transfer you to a colleague who can help.";
	a.no_input_text = "Are you still there?";
	a.no_input_max = 1;
	a.no_input_goodbye = "I'll let you go. Goodbye.";
	a.greet = true;
	return a;
}

struct vagent_session_config vagent_session_config_default(void)
{
	struct vagent_session_config c;

	memset(&c, 0, sizeof(c));
	c.name = "call";
	c.rate = 16000;
	c.agent = vagent_agent_config_default();
	c.max_call_ms = 600000;
	c.transfer_webhook_timeout_ms = 3000;
	return c;
}

int64_t vagent__session_now(const struct vagent_session *s)
{
	int64_t t = vagent_loop_now(s->loop) - s->origin;

	return t < 0 ? 0 : t;
}

/* ---- trace events and turn attribution ---- */

/* Write `ev` (of session time `t`) to the trace writers and tell the
 * caller (a script may wait for it). */
static void write_event(struct vagent_session *s, struct vagent_trace_event *ev,
			int64_t t)
{
	struct vagent_error e;

	if (!ev->call)
		ev->call = s->cfg.name;
	if (s->tw_file && vagent_trace_writer_add(s->tw_file, ev, &e) != VAGENT_OK
	    && s->result.status == VAGENT_OK) {
		s->result.status = e.status;
		snprintf(s->result.error, sizeof(s->result.error), "%.60s: trace: %.400s",
			 s->cfg.name, e.message);
	}
	if (s->tw_mem && vagent_trace_writer_add(s->tw_mem, ev, &e) != VAGENT_OK
	    && s->result.status == VAGENT_OK) {
		s->result.status = e.status;
		snprintf(s->result.error, sizeof(s->result.error), "%.60s: trace: %.400s",
			 s->cfg.name, e.message);
	}
	if (s->cfg.caller->ops->trace_event)
		s->cfg.caller->ops->trace_event(s->cfg.caller, ev, t);
}

void vagent__session_event(struct vagent_session *s,
			   struct vagent_trace_event *ev, int64_t t,
			   bool caller_side)
{
	struct vagent__pending_event *p;

	if (t < 0)
		t = 0;
	ev->t_us = vagent_ticks_to_us(t);
	if (!caller_side || !s->segment_pending) {
		if (caller_side)
			ev->turn = s->turn;
		write_event(s, ev, t);
		return;
	}
	if (s->n_pending == s->cap_pending) {
		size_t cap = s->cap_pending ? 2 * s->cap_pending : 16;
		void *np = realloc(s->pending, cap * sizeof(*s->pending));

		if (!np) {
			ev->turn = s->turn;
			write_event(s, ev, t);
			return;
		}
		s->pending = np;
		s->cap_pending = cap;
	}
	p = &s->pending[s->n_pending++];
	p->ev = *ev;
	p->text = ev->text ? strdup(ev->text) : NULL;
	p->ev.text = p->text;
	p->t = t;
}

void vagent__session_segment_begin(struct vagent_session *s)
{
	s->segment_pending = true;
}

static void add_truth_text(struct vagent_session *s, const char *text)
{
	struct vagent_session_turn *t;

	if (!text)
		return;
	if (s->segment_pending) {
		vagent__append_text(&s->pending_truth, text);
		return;
	}
	t = vagent__session_turn(s, s->turn);
	if (t)
		vagent__append_text(&t->caller_text, text);
}

void vagent__session_assign(struct vagent_session *s, int turn)
{
	size_t i;

	s->segment_pending = false;
	if (s->pending_truth) {
		struct vagent_session_turn *t = vagent__session_turn(s, turn);

		if (t)
			vagent__append_text(&t->caller_text, s->pending_truth);
		free(s->pending_truth);
		s->pending_truth = NULL;
	}
	for (i = 0; i < s->n_pending; i++) {
		s->pending[i].ev.turn = turn;
		write_event(s, &s->pending[i].ev, s->pending[i].t);
		free(s->pending[i].text);
	}
	s->n_pending = 0;
}

void vagent__append_text(char **field, const char *text)
{
	size_t a, b;
	char *p;

	if (!text || !*text)
		return;
	a = *field ? strlen(*field) : 0;
	b = strlen(text);
	p = realloc(*field, a + b + 2);
	if (!p)
		return;
	if (a && p[a - 1] != ' ' && text[0] != ' ')
		p[a++] = ' ';
	memcpy(p + a, text, b + 1);
	*field = p;
}

struct vagent_session_turn *vagent__session_turn(struct vagent_session *s,
						  int turn)
{
	struct vagent_session_result *r = &s->result;
	size_t i;

	for (i = r->n_turns; i-- > 0;)
		if (r->turns[i].turn == turn)
			return &r->turns[i];
	if (r->n_turns == s->cap_turns) {
		size_t cap = s->cap_turns ? 2 * s->cap_turns : 8;
		void *p = realloc(r->turns, cap * sizeof(*r->turns));

		if (!p)
			return NULL;
		r->turns = p;
		s->cap_turns = cap;
	}
	memset(&r->turns[r->n_turns], 0, sizeof(r->turns[0]));
	r->turns[r->n_turns].turn = turn;
	return &r->turns[r->n_turns++];
}

void vagent__session_error(struct vagent_session *s, int turn,
			   const char *source, const char *message)
{
	struct vagent_trace_event ev = { .type = VAGENT_TRACE_ERROR };
	size_t n = source ? strlen(source) : 0;

	ev.turn = turn;
	ev.source = source;
	/* Provider messages name their provider ("deepgram: ..."), and
	 * `source` names it already: said once ("error deepgram: ..."). */
	if (message && n && !strncmp(message, source, n) && message[n] == ':' &&
	    message[n + 1] == ' ' && message[n + 2])
		message += n + 2;
	ev.message = message && *message ? message : "unknown error";
	if (!vagent__utf8_valid(ev.message, strlen(ev.message)))
		ev.message = "error message is not valid UTF-8";
	vagent__session_event(s, &ev, vagent__session_now(s), false);
}

/* ---- providers and fallback ---- */

struct vagent_stt *vagent__session_stt(struct vagent_session *s)
{
	int i = s->active[VAGENT__SLOT_STT];

	return (size_t)i < s->n_providers[VAGENT__SLOT_STT] ? s->cfg.stt[i] : NULL;
}

struct vagent_brain *vagent__session_brain(struct vagent_session *s)
{
	int i = s->active[VAGENT__SLOT_LLM];

	return (size_t)i < s->n_providers[VAGENT__SLOT_LLM] ? s->cfg.brain[i] : NULL;
}

struct vagent_tts *vagent__session_tts(struct vagent_session *s)
{
	int i = s->active[VAGENT__SLOT_TTS];

	return (size_t)i < s->n_providers[VAGENT__SLOT_TTS] ? s->cfg.tts[i] : NULL;
}

static const char *provider_name(struct vagent_session *s, enum vagent__slot slot,
				 int i)
{
	switch (slot) {
	case VAGENT__SLOT_STT: return s->cfg.stt[i]->name;
	case VAGENT__SLOT_LLM: return s->cfg.brain[i]->name;
	case VAGENT__SLOT_TTS: return s->cfg.tts[i]->name;
	}
	return "?";
}

static const char *const slot_names[] = { "stt", "llm", "tts" };

bool vagent__session_fail_over(struct vagent_session *s, enum vagent__slot slot,
			       int turn, const char *message)
{
	int i = s->active[slot];
	struct vagent_trace_event ev = { .type = VAGENT_TRACE_FALLBACK };

	if ((size_t)i >= s->n_providers[slot])
		return false;
	vagent__session_error(s, turn, provider_name(s, slot, i), message);
	if ((size_t)i + 1 >= s->n_providers[slot]) {
		s->active[slot] = i + 1;        /* the slot is exhausted */
		return false;
	}
	s->active[slot] = i + 1;
	ev.turn = turn;
	ev.slot = slot_names[slot];
	ev.from = provider_name(s, slot, i);
	ev.to = provider_name(s, slot, i + 1);
	vagent__session_event(s, &ev, vagent__session_now(s), false);
	return true;
}

void vagent__session_first_byte(struct vagent_session *s, enum vagent__slot slot,
				int index, int turn, int64_t sent)
{
	struct vagent_trace_event ev = { .type = VAGENT_TRACE_PROVIDER_FIRST_BYTE };
	int64_t now = vagent_loop_now(s->loop), ttfb = now - sent;

	if ((size_t)index >= s->n_providers[slot])
		return;
	ev.turn = turn;
	ev.slot = slot_names[slot];
	ev.provider = provider_name(s, slot, index);
	ev.ttfb_us = vagent_ticks_to_us(ttfb > 0 ? ttfb : 0);
	vagent__session_event(s, &ev, vagent__session_now(s),
			      slot == VAGENT__SLOT_STT);
}

static char *handoff_package(struct vagent_session *s, int turn,
			     const char *reason)
{
	cJSON *o = cJSON_CreateObject(), *tr;
	size_t i;
	char *out;

	if (!o)
		return NULL;
	cJSON_AddStringToObject(o, "reason", reason);
	cJSON_AddNumberToObject(o, "turn", turn);
	tr = cJSON_AddArrayToObject(o, "transcript");
	for (i = 0; tr && i < s->result.n_turns; i++) {
		const struct vagent_session_turn *t = &s->result.turns[i];
		cJSON *e;

		if (t->stt_text) {
			e = cJSON_CreateObject();
			cJSON_AddStringToObject(e, "speaker", "caller");
			cJSON_AddStringToObject(e, "text", t->stt_text);
			cJSON_AddItemToArray(tr, e);
		}
		if (t->agent_text) {
			e = cJSON_CreateObject();
			cJSON_AddStringToObject(e, "speaker", "agent");
			cJSON_AddStringToObject(e, "text", t->agent_text);
			cJSON_AddItemToArray(tr, e);
		}
	}
	out = cJSON_PrintUnformatted(o);
	cJSON_Delete(o);
	return out;
}

void vagent__session_handoff(struct vagent_session *s, int turn,
			     const char *reason, const char *package)
{
	struct vagent_trace_event ev = { .type = VAGENT_TRACE_ESCALATION };
	char *own = NULL;

	if (s->done)
		return;
	if (s->handing_off) {
		/* the handoff itself failed (no voice left): end the call */
		vagent__session_end(s, "transfer");
		return;
	}
	s->handing_off = true;
	s->result.escalated = true;
	free(s->result.escalation_reason);
	s->result.escalation_reason = strdup(reason);
	ev.turn = turn;
	ev.reason = reason;
	vagent__session_event(s, &ev, vagent__session_now(s), false);

	if (!package || !*package)
		package = own = handoff_package(s, turn, reason);
	/* no card number leaves in a package, the brain's included (docs/dtmf.md) */
	if (package) {
		char *clean = vagent__redact_json(package);

		if (clean) {
			free(own);
			package = own = clean;
		}
	}
	memset(&ev, 0, sizeof(ev));
	ev.type = VAGENT_TRACE_TRANSFER;
	ev.turn = turn;
	ev.package = package ? package : "{}";
	vagent__session_event(s, &ev, vagent__session_now(s), false);
	if (s->cfg.transfer_webhook && *s->cfg.transfer_webhook &&
	    vagent__webhook_post(s, turn, ev.package) != VAGENT_OK)
		vagent__session_error(s, turn, "transfer_webhook",
				      "cannot start the POST (out of memory)");
	free(own);

	/* Say the handoff phrase when a TTS is left; the call ends when the
	 * output has played it (output stage), else at the next tick. */
	if (s->cfg.agent.handoff_text && *s->cfg.agent.handoff_text &&
	    vagent__session_tts(s))
		vagent__brain_stage_say(s->stage_brain, turn, s->cfg.agent.handoff_text,
					false);
	else
		vagent__session_end(s, "transfer");
}

/* ---- the chain ---- */

void vagent__stage_forward(struct vagent__stage *st, struct vagent__item *it)
{
	struct vagent__stage *next = st->next;

	if (!next)
		return;
	if (it->kind >= VAGENT__ITEM_AGENT_TEXT && it->kind != VAGENT__ITEM_AGENT_FRAME
	    && it->turn <= st->s->flushed_turn)
		return;
	next->ops->handle(next, it);
}

void vagent__session_flush(struct vagent_session *s, int turn)
{
	struct vagent__stage *st;

	if (turn > s->flushed_turn)
		s->flushed_turn = turn;
	/* a goodbye cut off by the caller does not end the call */
	if (s->hanging_up && s->hangup_turn <= turn)
		s->hanging_up = false;
	for (st = s->head; st; st = st->next)
		if (st->ops->flush)
			st->ops->flush(st, turn);
}

/* ---- the call ---- */

static void finish(struct vagent_session *s, const char *reason)
{
	struct vagent_trace_event ev = { .type = VAGENT_TRACE_CALL_END };
	struct vagent__stage *st;
	int64_t t = vagent__session_now(s);

	if (s->done)
		return;
	vagent_timer_stop(s->tick_timer);
	vagent_timer_stop(s->end_timer);
	if (vagent__output_stage_speaking(s->stage_output))
		vagent__output_stage_stop_audio(s->stage_output, t, "hangup");
	if (s->webhook) {
		/* the transfer POST is still running: end when it is done */
		s->deferred_end = reason;
		return;
	}
	s->done = true;
	if (s->segment_pending)
		vagent__session_assign(s, s->turn);
	for (st = s->head; st; st = st->next)
		if (st->ops->stop)
			st->ops->stop(st);
	ev.turn = s->turn;
	ev.reason = reason;
	vagent__session_event(s, &ev, t, false);
	/* the result's texts never hold a card number (docs/dtmf.md) */
	for (size_t i = 0; i < s->result.n_turns; i++) {
		vagent_card_number_redact(s->result.turns[i].caller_text);
		vagent_card_number_redact(s->result.turns[i].stt_text);
		vagent_card_number_redact(s->result.turns[i].agent_text);
	}
	s->result.end_reason = reason;
	s->result.duration = t;
	if (s->rec_left && s->rec_right) {
		struct vagent_error e;

		if (vagent_audio_interleave(s->rec_left, s->rec_right,
					    &s->recording, &e) != VAGENT_OK &&
		    s->result.status == VAGENT_OK) {
			s->result.status = e.status;
			snprintf(s->result.error, sizeof(s->result.error),
				 "%.60s: recording: %.400s", s->cfg.name, e.message);
		}
	}
	if (s->owned_loop)
		vagent_loop_stop(s->owned_loop);
	if (s->on_done)
		s->on_done(s, s->on_done_arg);
}

void vagent__session_webhook_finished(struct vagent_session *s)
{
	if (s->deferred_end)
		finish(s, s->deferred_end);
}

static void end_timer_fired(struct vagent_timer *t, void *arg)
{
	struct vagent_session *s = arg;

	(void)t;
	finish(s, s->result.end_reason ? s->result.end_reason : "hangup");
}

void vagent__session_end(struct vagent_session *s, const char *reason)
{
	if (s->done || s->stopping)
		return;
	s->stopping = true;
	s->result.end_reason = reason;
	/* at once, but from the loop, never inside a provider callback */
	vagent_timer_start(s->end_timer, 0, 0, NULL);
}

static void no_input_tick(struct vagent_session *s, int64_t t);

static void tick(struct vagent_timer *timer, void *arg)
{
	struct vagent_session *s = arg;
	int64_t deadline = vagent_timer_deadline(timer) - s->origin;
	int64_t now = vagent__session_now(s);
	int64_t t = deadline;       /* the tick's media time */
	struct vagent_frame f;
	struct vagent_speech_truth truth;
	struct vagent__item it;
	struct vagent__stage *st;
	vagent_status rc;

	if (s->done)
		return;
	if (vagent_clock_type(vagent_loop_clock(s->loop)) == VAGENT_CLOCK_REAL) {
		int64_t late = now - deadline;

		if (late > s->result.max_lateness)
			s->result.max_lateness = late;
		if (late > 5 * VAGENT_TICKS_PER_MS)
			s->result.frames_late++;
	}
	s->result.frames_out++;
	if (t >= (int64_t)s->cfg.max_call_ms * VAGENT_TICKS_PER_MS) {
		finish(s, "timeout");
		return;
	}

	/* the caller frame of [t - 20 ms, t) */
	vagent_frame_init(&f, s->cfg.rate, 1, s->frame_samples, t - s->frame_ticks);
	memset(&truth, 0, sizeof(truth));
	rc = s->cfg.caller->ops->frame(s->cfg.caller, &f, &truth);
	if (rc == VAGENT_EOS) {
		finish(s, "hangup");
		return;
	}
	if (rc != VAGENT_OK) {
		s->result.status = rc;
		snprintf(s->result.error, sizeof(s->result.error),
			 "%s: caller failed: %s", s->cfg.name, vagent_strerror(rc));
		finish(s, "error");
		return;
	}

	/* true boundaries, exact: the harness placed the audio */
	if (truth.speaking && (!s->truth_speaking ||
			       truth.utterance != s->truth_utterance)) {
		struct vagent_trace_event ev = { .type = VAGENT_TRACE_CALLER_SPEECH_START };

		if (s->truth_speaking) {
			struct vagent_trace_event e2 = { .type = VAGENT_TRACE_CALLER_SPEECH_END };

			vagent__session_event(s, &e2, s->truth_end, true);
		}
		s->truth_speaking = true;
		s->truth_utterance = truth.utterance;
		s->truth_start = truth.start;
		s->truth_end = truth.end;
		if (!s->segment_pending && !vagent__turn_stage_open(s->stage_turn))
			vagent__session_segment_begin(s);
		vagent__session_event(s, &ev, truth.start, true);
		add_truth_text(s, truth.text);
	} else if (truth.speaking && truth.end > s->truth_end) {
		/* a live caller learns where its speech ends as it goes */
		s->truth_end = truth.end;
	} else if (!truth.speaking && s->truth_speaking) {
		struct vagent_trace_event ev = { .type = VAGENT_TRACE_CALLER_SPEECH_END };

		s->truth_speaking = false;
		vagent__session_event(s, &ev, s->truth_end, true);
	}

	memset(&it, 0, sizeof(it));
	it.kind = VAGENT__ITEM_CALLER_FRAME;
	it.turn = s->turn;
	it.frame = &f;
	it.truth = &truth;
	s->head->ops->handle(s->head, &it);
	for (st = s->head; st && !s->done; st = st->next)
		if (st->ops->tick)
			st->ops->tick(st, t);
	if (!s->done)
		no_input_tick(s, t);
}

/*
 * No input: once the agent's reply has played and the caller has said
 * nothing (no VAD speech, no open turn) for no_input_ms, the agent
 * reprompts; after no_input_max reprompts it says goodbye and hangs up.
 */
static void no_input_tick(struct vagent_session *s, int64_t t)
{
	const struct vagent_agent_config *a = &s->cfg.agent;
	bool caller = s->segment_pending || vagent__turn_stage_open(s->stage_turn);

	if (a->no_input_ms <= 0 || !a->no_input_text || !*a->no_input_text)
		return;
	if (caller)
		s->no_inputs = 0;
	if (caller || s->answered_turn < s->turn || s->handing_off ||
	    s->hanging_up || s->stopping ||
	    vagent__output_stage_speaking(s->stage_output) ||
	    vagent__brain_stage_busy(s->stage_brain)) {
		s->quiet = false;
		return;
	}
	if (!s->quiet) {                /* the first silent tick */
		s->quiet = true;
		s->quiet_since = t;
	}
	if (t - s->quiet_since < (int64_t)a->no_input_ms * VAGENT_TICKS_PER_MS)
		return;
	s->quiet = false;
	if (s->no_inputs >= a->no_input_max) {
		const char *bye = a->no_input_goodbye && *a->no_input_goodbye ?
				  a->no_input_goodbye : NULL;

		s->hanging_up = true;
		s->hangup_turn = s->turn;
		if (bye)
			vagent__brain_stage_say(s->stage_brain, s->turn, bye, false);
		else
			vagent__session_end(s, "agent_hangup");
		return;
	}
	s->no_inputs++;
	vagent__brain_stage_say(s->stage_brain, s->turn, a->no_input_text, false);
}

/* ---- lifecycle ---- */

static size_t count_slots(void *const *p, size_t max)
{
	size_t n = 0;

	while (n < max && p[n])
		n++;
	return n;
}

static vagent_status check_config(const struct vagent_session_config *c,
				  struct vagent_error *err)
{
	const struct vagent_agent_config *a = &c->agent;
	const char *who = c->name && *c->name ? c->name : "session";

	if (c->rate != 8000 && c->rate != 16000)
		return vagent__error_set(err, VAGENT_EINVAL, who,
					 "rate: %d Hz is not supported (8000 or 16000)",
					 c->rate);
	if (!c->caller || !c->caller->ops || !c->caller->ops->frame)
		return vagent__error_set(err, VAGENT_EINVAL, who, "no caller");
	if (!c->stt[0] || !c->brain[0] || !c->tts[0])
		return vagent__error_set(err, VAGENT_EINVAL, who,
					 "providers: an STT, a brain and a TTS are required");
	if (a->min_speech_ms < 0 || a->min_speech_ms > 10000)
		return vagent__error_set(err, VAGENT_EINVAL, who,
					 "min_speech_ms: %d is out of range (0..10000)",
					 a->min_speech_ms);
	if (a->backchannel_max_ms < a->min_speech_ms ||
	    a->backchannel_max_ms > 60000)
		return vagent__error_set(err, VAGENT_EINVAL, who,
					 "backchannel_max_ms: %d is out of range (min_speech_ms..60000)",
					 a->backchannel_max_ms);
	if (a->filler_after_ms < 0 || a->tool_timeout_ms <= 0 ||
	    a->llm_timeout_ms <= 0 || a->tts_timeout_ms <= 0 ||
	    a->stt_final_wait_ms < 0)
		return vagent__error_set(err, VAGENT_EINVAL, who,
					 "timeouts must be positive (filler_after_ms, tool_timeout_ms, llm_timeout_ms, tts_timeout_ms, stt_final_wait_ms)");
	if (c->max_call_ms <= 0 || c->max_call_ms > SESSION_MAX_CALL_MS)
		return vagent__error_set(err, VAGENT_EINVAL, who,
					 "max_call_ms: %d is out of range (1..%d)",
					 c->max_call_ms, SESSION_MAX_CALL_MS);
	return VAGENT_OK;
}

static void attach_providers(struct vagent_session *s);

vagent_status vagent_session_new(struct vagent_loop *loop,
				 const struct vagent_session_config *cfg,
				 struct vagent_session **out,
				 struct vagent_error *err)
{
	struct vagent_session *s;
	struct vagent__stage **tail;
	struct vagent__stage *(*makers[])(struct vagent_session *,
					  struct vagent_error *) = {
		vagent__dtmf_stage_new, vagent__vad_stage_new, vagent__stt_stage_new,
		vagent__turn_stage_new, vagent__brain_stage_new,
		vagent__tts_stage_new, vagent__output_stage_new,
		vagent__recorder_stage_new,
	};
	struct vagent__stage **slots[8];
	size_t i;
	vagent_status rc;

	*out = NULL;
	if (!loop || !cfg)
		return vagent__error_set(err, VAGENT_EINVAL, "session",
					 "no loop or configuration");
	rc = check_config(cfg, err);
	if (rc != VAGENT_OK)
		return rc;
	s = calloc(1, sizeof(*s));
	if (!s)
		return vagent__error_set(err, VAGENT_ENOMEM, "session", "out of memory");
	s->cfg = *cfg;
	s->name = strdup(cfg->name && *cfg->name ? cfg->name : "call");
	s->cfg.name = s->name;
	s->result.name = s->name;
	s->loop = loop;
	s->flushed_turn = -1;       /* turn 0 (the greeting) is live */
	s->answered_turn = -1;
	s->cfg.agent.vad.rate = cfg->rate;
	s->cfg.agent.vad.frame_ms = 20;
	s->frame_ticks = 20 * VAGENT_TICKS_PER_MS;
	s->frame_samples = vagent_frame_samples_for(cfg->rate, 20);
	s->n_providers[VAGENT__SLOT_STT] = count_slots((void *const *)cfg->stt, 4);
	s->n_providers[VAGENT__SLOT_LLM] = count_slots((void *const *)cfg->brain, 4);
	s->n_providers[VAGENT__SLOT_TTS] = count_slots((void *const *)cfg->tts, 4);
	s->tick_timer = vagent_timer_new(loop, tick, s);
	s->end_timer = vagent_timer_new(loop, end_timer_fired, s);
	if (!s->cfg.name || !s->tick_timer || !s->end_timer) {
		vagent_session_free(s);
		return vagent__error_set(err, VAGENT_ENOMEM, "session", "out of memory");
	}
	if (cfg->trace) {
		s->tw_file = vagent_trace_writer_new(cfg->trace, s->cfg.name);
		if (!s->tw_file) {
			vagent_session_free(s);
			return vagent__error_set(err, VAGENT_ENOMEM, "session", "out of memory");
		}
	}
	if (cfg->keep_trace) {
		s->tw_mem = vagent_trace_writer_new(NULL, s->cfg.name);
		if (!s->tw_mem) {
			vagent_session_free(s);
			return vagent__error_set(err, VAGENT_ENOMEM, "session", "out of memory");
		}
	}
	slots[0] = &s->stage_dtmf; slots[1] = &s->stage_vad; slots[2] = &s->stage_stt;
	slots[3] = &s->stage_turn; slots[4] = &s->stage_brain; slots[5] = &s->stage_tts;
	slots[6] = &s->stage_output; slots[7] = &s->stage_recorder;
	tail = &s->head;
	for (i = 0; i < VAGENT__ARRAY_SIZE(makers); i++) {
		struct vagent__stage *st = makers[i](s, err);

		if (!st) {
			vagent_session_free(s);
			return err ? err->status : VAGENT_ENOMEM;
		}
		st->s = s;
		*slots[i] = st;
		*tail = st;
		tail = &st->next;
	}
	attach_providers(s);
	*out = s;
	return VAGENT_OK;
}

/* Provider callbacks are wired by the stages that own them; here only
 * the loop and the origin. */
static void attach_providers(struct vagent_session *s)
{
	size_t i;

	for (i = 0; i < s->n_providers[VAGENT__SLOT_STT]; i++)
		s->cfg.stt[i]->loop = s->loop;
	for (i = 0; i < s->n_providers[VAGENT__SLOT_LLM]; i++)
		s->cfg.brain[i]->loop = s->loop;
	for (i = 0; i < s->n_providers[VAGENT__SLOT_TTS]; i++)
		s->cfg.tts[i]->loop = s->loop;
	if (s->cfg.tools)
		s->cfg.tools->loop = s->loop;
}

static void set_origin(struct vagent_session *s)
{
	size_t i;

	for (i = 0; i < s->n_providers[VAGENT__SLOT_STT]; i++)
		s->cfg.stt[i]->origin = s->origin;
	for (i = 0; i < s->n_providers[VAGENT__SLOT_LLM]; i++)
		s->cfg.brain[i]->origin = s->origin;
	for (i = 0; i < s->n_providers[VAGENT__SLOT_TTS]; i++)
		s->cfg.tts[i]->origin = s->origin;
	if (s->cfg.tools)
		s->cfg.tools->origin = s->origin;
}

vagent_status vagent_session_start(struct vagent_session *s,
				   struct vagent_error *err)
{
	struct vagent_trace_event ev = { .type = VAGENT_TRACE_CALL_START };
	vagent_status rc;

	if (s->started)
		return vagent__error_set(err, VAGENT_EINVAL, s->cfg.name,
					 "session already started");
	s->started = true;
	s->origin = vagent_loop_now(s->loop);
	set_origin(s);
	vagent__session_event(s, &ev, 0, false);
	rc = vagent_timer_start_at(s->tick_timer, s->origin + s->frame_ticks,
				   s->frame_ticks, err);
	if (rc != VAGENT_OK)
		return rc;
	if (s->cfg.agent.greet)
		vagent__brain_stage_greet(s->stage_brain);
	return VAGENT_OK;
}

bool vagent_session_done(const struct vagent_session *s)
{
	return s->done;
}

void vagent_session_on_done(struct vagent_session *s,
			    void (*fn)(struct vagent_session *s, void *arg),
			    void *arg)
{
	s->on_done = fn;
	s->on_done_arg = arg;
}

const struct vagent_session_result *vagent_session_result(
	const struct vagent_session *s)
{
	return &s->result;
}

const char *vagent_session_trace(const struct vagent_session *s, size_t *len)
{
	if (!s->tw_mem) {
		if (len)
			*len = 0;
		return NULL;
	}
	return vagent_trace_writer_buffer(s->tw_mem, len);
}

const struct vagent_audio *vagent_session_recording(
	const struct vagent_session *s)
{
	return s->recording;
}

void vagent_session_free(struct vagent_session *s)
{
	struct vagent__stage *st, *next;
	size_t i;

	if (!s)
		return;
	vagent__webhook_detach(s->webhook);
	if (s->started && !s->done) {
		for (st = s->head; st; st = st->next)
			if (st->ops->stop)
				st->ops->stop(st);
	}
	for (st = s->head; st; st = next) {
		next = st->next;
		st->ops->free(st);
	}
	vagent_timer_free(s->tick_timer);
	vagent_timer_free(s->end_timer);
	for (i = 0; i < s->n_pending; i++)
		free(s->pending[i].text);
	free(s->pending);
	free(s->pending_truth);
	vagent_trace_writer_free(s->tw_file);
	vagent_trace_writer_free(s->tw_mem);
	for (i = 0; i < s->result.n_turns; i++) {
		free(s->result.turns[i].caller_text);
		free(s->result.turns[i].stt_text);
		free(s->result.turns[i].agent_text);
	}
	free(s->result.turns);
	free(s->result.escalation_reason);
	vagent_audio_free(s->rec_left);
	vagent_audio_free(s->rec_right);
	vagent_audio_free(s->recording);
	free(s->name);
	if (s->owned_loop)
		vagent_loop_free(s->owned_loop);
	free(s);
}

vagent_status vagent_session_run(const struct vagent_session_config *cfg,
				 enum vagent_clock_type clock,
				 struct vagent_session **out,
				 struct vagent_error *err)
{
	struct vagent_loop_config lc = vagent_loop_config_default();
	struct vagent_loop *loop;
	struct vagent_session *s;
	vagent_status rc;

	*out = NULL;
	lc.clock = clock;
	lc.job_clock = cfg->job_clock;
	rc = vagent_loop_new(&lc, &loop, err);
	if (rc != VAGENT_OK)
		return rc;
	rc = vagent_session_new(loop, cfg, &s, err);
	if (rc != VAGENT_OK) {
		vagent_loop_free(loop);
		return rc;
	}
	s->owned_loop = loop;
	rc = vagent_session_start(s, err);
	if (rc == VAGENT_OK)
		rc = vagent_loop_run(loop, VAGENT_RUN_DEFAULT, err);
	if (rc == VAGENT_OK && s->result.status != VAGENT_OK) {
		rc = s->result.status;
		vagent__error_set(err, rc, NULL, "%s", s->result.error);
	}
	*out = s;
	return rc;
}
