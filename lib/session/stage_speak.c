/*
 * stage_speak.c — the speaking half of the chain: the brain stage (LLM or
 * dialog policy slot, tool calls with timeouts, fillers, fallback), the
 * TTS stage (sentence splitting, one synthesis at a time, fallback), the
 * output stage (20 ms frames paced by the session tick, barge-in stop)
 * and the recorder (stereo: caller left, agent right). docs/session.md.
 */
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "session/session_int.h"

static char *xstrdup(const char *s)
{
	return s ? strdup(s) : NULL;
}

/* ---- brain ---- */

struct brain_stage;

struct tool_call {
	struct brain_stage *b;
	uint64_t reply_id;          /* the brain request it belongs to */
	uint64_t req;               /* the tools provider's request id */
	int turn;
	char *name, *call_id;
	struct vagent_timer *timer; /* timeout, or deferred answer */
	vagent_status deferred_st;  /* answer to give the brain (deferred) */
	char *deferred;
	bool running;               /* waiting for the tools provider */
	bool orphan;                /* its reply was cancelled: result ignored */
	struct tool_call *next;
};

struct brain_ctx {
	struct brain_stage *stage;
	int index;
};

struct brain_stage {
	struct vagent__stage base;
	struct brain_ctx ctx[4];
	/* the reply in progress */
	bool active;
	uint64_t id;
	int turn;
	bool greeting;
	char *caller_text;
	char *dtmf;                 /* keys pressed in the turn, or NULL */
	bool first_token, any_text;
	bool filler_said;
	struct vagent_timer *llm_timer, *filler_timer;
	struct tool_call *tools;
	/* An LLM brain's usage when this reply was asked for: llm.done
	 * carries the difference (docs/trace.md). */
	bool has_usage;
	struct vagent_llm_usage usage;
};

static void tool_call_free(struct tool_call *tc)
{
	vagent_timer_free(tc->timer);
	free(tc->name);
	free(tc->call_id);
	free(tc->deferred);
	free(tc);
}

/* Stop waiting for the tool calls of turns <= turn: cancel the running
 * ones (cancel_running) or let them finish with their result ignored. */
static void brain_cancel_tools(struct brain_stage *b, int turn, bool cancel_running)
{
	struct vagent_session *s = b->base.s;
	struct tool_call **pp = &b->tools;

	while (*pp) {
		struct tool_call *tc = *pp;

		if (tc->turn > turn) {
			pp = &tc->next;
			continue;
		}

		if (tc->running && !cancel_running) {
			tc->orphan = true;      /* let it finish; trace its end */
			vagent_timer_stop(tc->timer);
			pp = &tc->next;
			continue;
		}
		if (tc->running && s->cfg.tools && s->cfg.tools->ops->cancel)
			s->cfg.tools->ops->cancel(s->cfg.tools, tc->req);
		*pp = tc->next;
		tool_call_free(tc);
	}
}

static void brain_reset(struct brain_stage *b)
{
	b->active = false;
	b->first_token = b->any_text = false;
	vagent_timer_stop(b->llm_timer);
	vagent_timer_stop(b->filler_timer);
	free(b->caller_text);
	b->caller_text = NULL;
	free(b->dtmf);
	b->dtmf = NULL;
}

static void brain_request(struct brain_stage *b);

static void brain_failed(struct brain_stage *b, const char *message)
{
	struct vagent_session *s = b->base.s;
	struct vagent_brain *p = vagent__session_brain(s);
	struct vagent__item it = { 0 };
	bool had_text = b->any_text;

	if (p && p->ops->cancel)
		p->ops->cancel(p, b->id);
	brain_cancel_tools(b, b->turn, true);
	if (vagent__session_fail_over(s, VAGENT__SLOT_LLM, b->turn, message)) {
		if (!had_text) {
			/* nothing said yet: ask the fallback the same thing */
			b->first_token = false;
			brain_request(b);
			return;
		}
	} else {
		brain_reset(b);
		vagent__session_handoff(s, b->turn, "llm_failure", NULL);
		return;
	}
	/* mid-reply: end what was said; the fallback takes the next turn */
	it.kind = VAGENT__ITEM_AGENT_TEXT_END;
	it.turn = b->turn;
	brain_reset(b);
	vagent__stage_forward(&b->base, &it);
}

static void llm_timer_fired(struct vagent_timer *t, void *arg)
{
	struct brain_stage *b = arg;
	struct vagent_session *s = b->base.s;
	char msg[200];

	(void)t;
	if (!b->active || b->first_token)
		return;
	snprintf(msg, sizeof(msg), "%s: no first token after %d ms",
		 vagent__session_brain(s) ? vagent__session_brain(s)->name : "llm",
		 s->cfg.agent.llm_timeout_ms);
	brain_failed(b, msg);
}

bool vagent__brain_stage_busy(const struct vagent__stage *st)
{
	return ((const struct brain_stage *)st)->active;
}

void vagent__brain_stage_say(struct vagent__stage *st, int turn,
			     const char *text, bool filler)
{
	struct vagent_session *s = st->s;
	struct vagent__item it = { 0 };

	if (filler) {
		struct vagent_trace_event ev = { .type = VAGENT_TRACE_FILLER };

		ev.turn = turn;
		ev.text = text;
		vagent__session_event(s, &ev, vagent__session_now(s), false);
	}
	it.kind = VAGENT__ITEM_AGENT_TEXT;
	it.turn = turn;
	it.text = text;
	it.final = true;            /* a whole sentence of its own */
	vagent__stage_forward(st, &it);
	if (!filler) {
		memset(&it, 0, sizeof(it));
		it.kind = VAGENT__ITEM_AGENT_TEXT_END;
		it.turn = turn;
		vagent__stage_forward(st, &it);
	}
}

static void filler_timer_fired(struct vagent_timer *t, void *arg)
{
	struct brain_stage *b = arg;
	struct vagent_session *s = b->base.s;

	(void)t;
	if (!b->active || b->filler_said || s->handing_off ||
	    vagent__output_stage_has_audio(s->stage_output, b->turn))
		return;
	b->filler_said = true;
	vagent__brain_stage_say(&b->base, b->turn, s->cfg.agent.filler_text, true);
}

static void arm_filler(struct brain_stage *b)
{
	struct vagent_session *s = b->base.s;

	if (s->cfg.agent.filler_after_ms > 0 && s->cfg.agent.filler_text &&
	    *s->cfg.agent.filler_text && !b->greeting)
		vagent_timer_start(b->filler_timer,
				   (int64_t)s->cfg.agent.filler_after_ms *
				   VAGENT_TICKS_PER_MS, 0, NULL);
}

static void brain_request(struct brain_stage *b)
{
	struct vagent_session *s = b->base.s;
	struct vagent_brain *p = vagent__session_brain(s);
	struct vagent_trace_event ev = { .type = VAGENT_TRACE_LLM_REQUEST };
	struct vagent_brain_request req = { 0 };
	struct vagent_error e;

	if (!p) {
		brain_reset(b);
		vagent__session_handoff(s, b->turn, "llm_failure", NULL);
		return;
	}
	b->id = (uint64_t)++s->next_request;
	b->active = true;
	b->has_usage = vagent_llm_brain_usage(p, &b->usage) == VAGENT_OK;
	ev.turn = b->turn;
	ev.provider = p->name;
	vagent__session_event(s, &ev, vagent__session_now(s), false);
	vagent_timer_start(b->llm_timer, (int64_t)s->cfg.agent.llm_timeout_ms *
			   VAGENT_TICKS_PER_MS, 0, NULL);
	req.id = b->id;
	req.turn = b->turn;
	req.caller_text = b->caller_text ? b->caller_text : "";
	req.greeting = b->greeting;
	req.dtmf = b->dtmf;
	if (p->ops->respond(p, &req, &e) != VAGENT_OK)
		brain_failed(b, e.message);
}

static void brain_start(struct brain_stage *b, int turn, const char *text,
			const char *dtmf, bool greeting)
{
	struct vagent_session *s = b->base.s;

	if (s->handing_off || s->done || s->stopping)
		return;
	if (b->active) {
		struct vagent_brain *p = vagent__session_brain(s);

		if (p && p->ops->cancel)
			p->ops->cancel(p, b->id);
		brain_cancel_tools(b, b->turn, s->cfg.agent.cancel_tools_on_barge_in);
		brain_reset(b);
	}
	b->turn = turn;
	b->greeting = greeting;
	b->caller_text = xstrdup(text ? text : "");
	b->dtmf = dtmf && *dtmf ? xstrdup(dtmf) : NULL;
	b->filler_said = false;
	arm_filler(b);
	brain_request(b);
}

void vagent__brain_stage_greet(struct vagent__stage *st)
{
	brain_start((struct brain_stage *)st, 0, "", NULL, true);
}

static struct brain_stage *brain_for(void *ctx, uint64_t id)
{
	struct brain_ctx *c = ctx;
	struct brain_stage *b = c->stage;
	struct vagent_session *s = b->base.s;

	if (s->done || !b->active || b->id != id ||
	    s->active[VAGENT__SLOT_LLM] != c->index)
		return NULL;
	return b;
}

static void brain_on_first_token(void *ctx, uint64_t id)
{
	struct brain_stage *b = brain_for(ctx, id);
	struct vagent_trace_event ev = { .type = VAGENT_TRACE_LLM_FIRST_TOKEN };

	if (!b || b->first_token)
		return;
	b->first_token = true;
	vagent_timer_stop(b->llm_timer);
	ev.turn = b->turn;
	ev.provider = vagent__session_brain(b->base.s)->name;
	vagent__session_event(b->base.s, &ev, vagent__session_now(b->base.s), false);
}

static void brain_on_first_byte(void *ctx, uint64_t id, int64_t sent)
{
	struct brain_stage *b = brain_for(ctx, id);

	if (!b)
		return;
	vagent__session_first_byte(b->base.s, VAGENT__SLOT_LLM,
				   ((struct brain_ctx *)ctx)->index, b->turn, sent);
}

static void brain_on_text(void *ctx, uint64_t id, const char *delta)
{
	struct brain_stage *b = brain_for(ctx, id);
	struct vagent__item it = { 0 };
	char msg[200];

	if (!b || !delta || !*delta)
		return;
	if (!vagent__utf8_valid(delta, strlen(delta))) {
		snprintf(msg, sizeof(msg), "%s: malformed reply text (not UTF-8)",
			 vagent__session_brain(b->base.s)->name);
		brain_failed(b, msg);
		return;
	}
	if (!b->first_token)
		brain_on_first_token(ctx, id);
	b->any_text = true;
	it.kind = VAGENT__ITEM_AGENT_TEXT;
	it.turn = b->turn;
	it.text = delta;
	vagent__stage_forward(&b->base, &it);
}

static void tool_answer(struct tool_call *tc, vagent_status st, const char *result)
{
	struct brain_stage *b = tc->b;
	struct vagent_brain *p = vagent__session_brain(b->base.s);

	if (b->active && b->id == tc->reply_id && p && p->ops->tool_result)
		p->ops->tool_result(p, tc->reply_id, tc->call_id, st, result);
}

static void tool_unlink(struct tool_call *tc)
{
	struct tool_call **pp = &tc->b->tools;

	while (*pp && *pp != tc)
		pp = &(*pp)->next;
	if (*pp)
		*pp = tc->next;
	tool_call_free(tc);
}

static void tool_timer_fired(struct vagent_timer *t, void *arg)
{
	struct tool_call *tc = arg;
	struct brain_stage *b = tc->b;
	struct vagent_session *s = b->base.s;
	char msg[200];

	(void)t;
	if (!tc->running) {
		/* a deferred answer (the call failed before it started) */
		tool_answer(tc, tc->deferred_st, tc->deferred);
		tool_unlink(tc);
		return;
	}
	{
		struct vagent_trace_event ev = { .type = VAGENT_TRACE_TOOL_TIMEOUT };

		ev.turn = tc->turn;
		ev.name = tc->name;
		ev.id = tc->call_id;
		vagent__session_event(s, &ev, vagent__session_now(s), false);
	}
	if (s->cfg.tools->ops->cancel)
		s->cfg.tools->ops->cancel(s->cfg.tools, tc->req);
	snprintf(msg, sizeof(msg), "tool '%s' timed out after %d ms", tc->name,
		 s->cfg.agent.tool_timeout_ms);
	tc->running = false;
	tool_answer(tc, VAGENT_ETIMEOUT, msg);
	tool_unlink(tc);
}

static struct tool_call *tool_by_req(struct brain_stage *b, uint64_t req)
{
	struct tool_call *tc;

	for (tc = b->tools; tc; tc = tc->next)
		if (tc->req == req && tc->running)
			return tc;
	return NULL;
}

static void tools_on_result(void *ctx, uint64_t req, vagent_status st,
			    const char *result)
{
	struct brain_stage *b = ctx;
	struct vagent_session *s = b->base.s;
	struct tool_call *tc = tool_by_req(b, req);
	struct vagent_trace_event ev = { 0 };
	char msg[300];
	cJSON *j = NULL;

	if (!tc || s->done)
		return;
	vagent_timer_stop(tc->timer);
	tc->running = false;
	ev.turn = tc->turn;
	ev.name = tc->name;
	ev.id = tc->call_id;
	if (st == VAGENT_OK && result && vagent__utf8_valid(result, strlen(result)))
		j = cJSON_Parse(result);
	if (st == VAGENT_OK && j) {
		ev.type = VAGENT_TRACE_TOOL_END;
		ev.result = result;
		vagent__session_event(s, &ev, vagent__session_now(s), false);
		if (!tc->orphan)
			tool_answer(tc, VAGENT_OK, result);
	} else {
		if (st == VAGENT_OK) {
			snprintf(msg, sizeof(msg), "%s: tool '%s' returned malformed JSON",
				 s->cfg.tools->name, tc->name);
			st = VAGENT_EFORMAT;
		} else {
			snprintf(msg, sizeof(msg), "%s", result && *result &&
				 vagent__utf8_valid(result, strlen(result))
				 ? result : "tool failed");
		}
		ev.type = VAGENT_TRACE_TOOL_ERROR;
		ev.error = msg;
		vagent__session_event(s, &ev, vagent__session_now(s), false);
		if (!tc->orphan)
			tool_answer(tc, st, msg);
	}
	cJSON_Delete(j);
	tool_unlink(tc);
}

static void brain_on_tool_call(void *ctx, uint64_t id, const char *name,
			       const char *call_id, const char *args)
{
	struct brain_stage *b = brain_for(ctx, id);
	struct vagent_session *s;
	struct tool_call *tc;
	struct vagent_trace_event ev = { .type = VAGENT_TRACE_TOOL_START };
	struct vagent_error e;
	char msg[300];
	cJSON *j = NULL;
	bool args_ok;

	if (!b)
		return;
	s = b->base.s;
	if (!name || !*name || !vagent__utf8_valid(name, strlen(name)))
		name = "unnamed";
	if (!call_id || !*call_id || !vagent__utf8_valid(call_id, strlen(call_id)))
		call_id = "call";
	tc = calloc(1, sizeof(*tc));
	if (!tc)
		return;
	tc->b = b;
	tc->reply_id = id;
	tc->turn = b->turn;
	tc->name = xstrdup(name);
	tc->call_id = xstrdup(call_id);
	tc->timer = vagent_timer_new(s->loop, tool_timer_fired, tc);
	if (!tc->name || !tc->call_id || !tc->timer) {
		tool_call_free(tc);
		return;
	}
	tc->next = b->tools;
	b->tools = tc;
	if (args && vagent__utf8_valid(args, strlen(args)))
		j = cJSON_Parse(args);
	args_ok = j != NULL;
	cJSON_Delete(j);
	ev.turn = b->turn;
	ev.name = tc->name;
	ev.id = tc->call_id;
	ev.args = args_ok ? args : NULL;
	vagent__session_event(s, &ev, vagent__session_now(s), false);

	/* the caller hears silence while the tool runs: filler if slow */
	if (!b->filler_said)
		arm_filler(b);

	if (!args_ok || !s->cfg.tools) {
		struct vagent_trace_event ee = { .type = VAGENT_TRACE_TOOL_ERROR };

		if (!args_ok)
			snprintf(msg, sizeof(msg), "%s: malformed arguments for tool '%s'",
				 vagent__session_brain(s)->name, name);
		else
			snprintf(msg, sizeof(msg), "no tools provider for tool '%s'", name);
		ee.turn = b->turn;
		ee.name = tc->name;
		ee.id = tc->call_id;
		ee.error = msg;
		vagent__session_event(s, &ee, vagent__session_now(s), false);
		tc->deferred_st = args_ok ? VAGENT_EINVAL : VAGENT_EFORMAT;
		tc->deferred = xstrdup(msg);
		vagent_timer_start(tc->timer, 0, 0, NULL);
		return;
	}
	tc->req = (uint64_t)++s->next_request;
	tc->running = true;
	vagent_timer_start(tc->timer, (int64_t)s->cfg.agent.tool_timeout_ms *
			   VAGENT_TICKS_PER_MS, 0, NULL);
	if (s->cfg.tools->ops->call(s->cfg.tools, tc->req, name, args, &e) != VAGENT_OK) {
		struct vagent_trace_event ee = { .type = VAGENT_TRACE_TOOL_ERROR };

		tc->running = false;
		ee.turn = b->turn;
		ee.name = tc->name;
		ee.id = tc->call_id;
		ee.error = e.message;
		vagent__session_event(s, &ee, vagent__session_now(s), false);
		tc->deferred_st = e.status;
		tc->deferred = xstrdup(e.message);
		vagent_timer_start(tc->timer, 0, 0, NULL);
	}
}

static void brain_on_expect_digits(void *ctx, uint64_t id, int digits)
{
	struct brain_stage *b = brain_for(ctx, id);

	if (b && digits > 0 && digits <= 64) {
		b->base.s->expect_digits = digits;
		b->base.s->expect_turn = b->turn;
	}
}

/* PCI mode on or off (docs/dtmf.md): the caller's audio reaches neither
 * the recogniser nor the recording while it is on. */
static void brain_on_sensitive(void *ctx, uint64_t id, bool on)
{
	struct brain_stage *b = brain_for(ctx, id);

	if (b)
		b->base.s->sensitive = on;
}

static void brain_on_hangup(void *ctx, uint64_t id)
{
	struct brain_stage *b = brain_for(ctx, id);

	if (b) {
		b->base.s->hanging_up = true;
		b->base.s->hangup_turn = b->turn;
	}
}

static void brain_on_escalate(void *ctx, uint64_t id, const char *reason,
			      const char *package)
{
	struct brain_stage *b = brain_for(ctx, id);
	cJSON *j = NULL;

	if (!b)
		return;
	if (!reason || !*reason || !vagent__utf8_valid(reason, strlen(reason)))
		reason = "brain";
	if (package && vagent__utf8_valid(package, strlen(package)))
		j = cJSON_Parse(package);
	vagent__session_handoff(b->base.s, b->turn, reason, j ? package : NULL);
	cJSON_Delete(j);
}

static void brain_on_done(void *ctx, uint64_t id)
{
	struct brain_stage *b = brain_for(ctx, id);
	struct vagent_trace_event ev = { .type = VAGENT_TRACE_LLM_DONE };
	struct vagent__item it = { 0 };
	struct vagent_session *s;

	if (!b)
		return;
	s = b->base.s;
	ev.turn = b->turn;
	ev.provider = vagent__session_brain(s)->name;
	if (b->has_usage) {
		struct vagent_llm_usage now;

		if (vagent_llm_brain_usage(vagent__session_brain(s), &now) == VAGENT_OK) {
			ev.prompt_tokens = now.prompt_tokens - b->usage.prompt_tokens;
			ev.completion_tokens = now.completion_tokens -
					       b->usage.completion_tokens;
			ev.retries = now.retries - b->usage.retries;
		}
		if (ev.prompt_tokens < 0 || ev.completion_tokens < 0 || ev.retries < 0)
			ev.prompt_tokens = ev.completion_tokens = ev.retries = 0;
	}
	vagent__session_event(s, &ev, vagent__session_now(s), false);
	it.kind = VAGENT__ITEM_AGENT_TEXT_END;
	it.turn = b->turn;
	brain_cancel_tools(b, b->turn, false);
	brain_reset(b);
	vagent__stage_forward(&b->base, &it);
}

static void brain_on_error(void *ctx, uint64_t id, vagent_status st,
			   const char *message)
{
	struct brain_stage *b = brain_for(ctx, id);

	(void)st;   /* the message says what happened; any error fails over */
	if (!b)
		return;
	brain_failed(b, message);
}

static void brain_handle(struct vagent__stage *st, struct vagent__item *it)
{
	if (it->kind == VAGENT__ITEM_TURN_END) {
		brain_start((struct brain_stage *)st, it->turn, it->text, it->dtmf, false);
		return;
	}
	vagent__stage_forward(st, it);
}

static void brain_flush(struct vagent__stage *st, int turn)
{
	struct brain_stage *b = (struct brain_stage *)st;
	struct vagent_session *s = st->s;

	if (b->active && b->turn <= turn) {
		struct vagent_brain *p = vagent__session_brain(s);

		if (p && p->ops->cancel)
			p->ops->cancel(p, b->id);
		brain_reset(b);
	}
	brain_cancel_tools(b, turn, s->cfg.agent.cancel_tools_on_barge_in);
}

static void brain_stop(struct vagent__stage *st)
{
	struct brain_stage *b = (struct brain_stage *)st;
	struct vagent_session *s = st->s;
	size_t i;

	brain_cancel_tools(b, INT32_MAX, true);
	brain_reset(b);
	for (i = 0; i < s->n_providers[VAGENT__SLOT_LLM]; i++)
		if (s->cfg.brain[i]->ops->stop)
			s->cfg.brain[i]->ops->stop(s->cfg.brain[i]);
	if (s->cfg.tools && s->cfg.tools->ops->stop)
		s->cfg.tools->ops->stop(s->cfg.tools);
}

static void brain_free(struct vagent__stage *st)
{
	struct brain_stage *b = (struct brain_stage *)st;

	while (b->tools) {
		struct tool_call *tc = b->tools;

		b->tools = tc->next;
		tool_call_free(tc);
	}
	vagent_timer_free(b->llm_timer);
	vagent_timer_free(b->filler_timer);
	free(b->caller_text);
	free(b->dtmf);
	free(b);
}

static const struct vagent__stage_ops brain_ops = {
	.name = "brain", .handle = brain_handle, .flush = brain_flush,
	.stop = brain_stop, .free = brain_free,
};

struct vagent__stage *vagent__brain_stage_new(struct vagent_session *s,
					      struct vagent_error *err)
{
	struct brain_stage *b = calloc(1, sizeof(*b));
	size_t i;

	if (!b)
		goto nomem;
	b->base.ops = &brain_ops;
	b->llm_timer = vagent_timer_new(s->loop, llm_timer_fired, b);
	b->filler_timer = vagent_timer_new(s->loop, filler_timer_fired, b);
	if (!b->llm_timer || !b->filler_timer) {
		brain_free(&b->base);
		goto nomem;
	}
	for (i = 0; i < s->n_providers[VAGENT__SLOT_LLM]; i++) {
		struct vagent_brain *p = s->cfg.brain[i];

		b->ctx[i].stage = b;
		b->ctx[i].index = (int)i;
		p->on_first_token = brain_on_first_token;
		p->on_text = brain_on_text;
		p->on_tool_call = brain_on_tool_call;
		p->on_escalate = brain_on_escalate;
		p->on_hangup = brain_on_hangup;
		p->on_expect_digits = brain_on_expect_digits;
		p->on_sensitive = brain_on_sensitive;
		p->on_done = brain_on_done;
		p->on_error = brain_on_error;
		p->on_first_byte = brain_on_first_byte;
		p->ctx = &b->ctx[i];
	}
	if (s->cfg.tools) {
		s->cfg.tools->on_result = tools_on_result;
		s->cfg.tools->ctx = b;
	}
	return &b->base;
nomem:
	vagent__error_set(err, VAGENT_ENOMEM, "session", "out of memory");
	return NULL;
}

/* ---- TTS ---- */

struct sentence {
	int turn;
	char *text;
	struct sentence *next;
};

struct tts_ctx {
	struct tts_stage *stage;
	int index;
};

struct tts_stage {
	struct vagent__stage base;
	struct tts_ctx ctx[4];
	struct sentence *queue, **tail;
	char *buf;                  /* text not yet a whole sentence */
	int buf_turn;
	int text_done_turn;         /* the reply text of this turn is complete */
	/* the synthesis in progress */
	bool busy;
	uint64_t id;
	struct sentence *cur;
	bool got_audio;
	struct vagent_timer *timer;
};

static void sentence_free(struct sentence *q)
{
	if (q) {
		free(q->text);
		free(q);
	}
}

static void tts_enqueue(struct tts_stage *t, int turn, const char *text,
			size_t n, bool front)
{
	struct sentence *q;

	while (n && (*text == ' ' || *text == '\n' || *text == '\t')) {
		text++;
		n--;
	}
	while (n && (text[n - 1] == ' ' || text[n - 1] == '\n'))
		n--;
	if (!n)
		return;
	q = calloc(1, sizeof(*q));
	if (!q)
		return;
	q->turn = turn;
	q->text = strndup(text, n);
	if (!q->text) {
		free(q);
		return;
	}
	if (front) {
		q->next = t->queue;
		t->queue = q;
		if (t->tail == &t->queue)
			t->tail = &q->next;
	} else {
		*t->tail = q;
		t->tail = &q->next;
	}
}

/* Move the whole sentences of the buffer to the queue: a sentence ends
 * at . ! ? followed by a space (or at 240 bytes, at a space). */
static void tts_split(struct tts_stage *t, bool all)
{
	char *p = t->buf;
	size_t i = 0, start = 0, len;

	if (!p)
		return;
	len = strlen(p);
	for (i = 0; i < len; i++) {
		bool end = (p[i] == '.' || p[i] == '!' || p[i] == '?') &&
			   i + 1 < len && p[i + 1] == ' ';

		if (!end && i - start >= 240 && p[i] == ' ')
			end = true;
		if (end) {
			tts_enqueue(t, t->buf_turn, p + start, i + 1 - start, false);
			start = i + 1;
		}
	}
	if (all) {
		tts_enqueue(t, t->buf_turn, p + start, len - start, false);
		start = len;
	}
	memmove(p, p + start, len - start + 1);
	if (!*p) {
		free(t->buf);
		t->buf = NULL;
	}
}

static void tts_audio_end(struct tts_stage *t, int turn)
{
	struct vagent__item it = { 0 };

	it.kind = VAGENT__ITEM_AGENT_AUDIO_END;
	it.turn = turn;
	vagent__stage_forward(&t->base, &it);
}

static void tts_pump(struct tts_stage *t)
{
	struct vagent_session *s = t->base.s;
	struct vagent_tts *p;
	struct vagent_trace_event ev = { .type = VAGENT_TRACE_TTS_REQUEST };
	struct vagent_session_turn *rt;
	struct vagent_error e;

	while (!t->busy && t->queue && !s->done) {
		struct sentence *q = t->queue;

		p = vagent__session_tts(s);
		if (!p) {
			/* no synthesiser left: nothing more can be said */
			while (t->queue) {
				q = t->queue;
				t->queue = q->next;
				sentence_free(q);
			}
			t->tail = &t->queue;
			vagent__session_end(s, s->handing_off ? "transfer" : "error");
			return;
		}
		t->queue = q->next;
		if (!t->queue)
			t->tail = &t->queue;
		t->cur = q;
		t->busy = true;
		t->got_audio = false;
		t->id = (uint64_t)++s->next_request;
		ev.turn = q->turn;
		ev.text = q->text;
		ev.provider = p->name;
		vagent__session_event(s, &ev, vagent__session_now(s), false);
		rt = vagent__session_turn(s, q->turn);
		if (rt)
			vagent__append_text(&rt->agent_text, q->text);
		vagent_timer_start(t->timer, (int64_t)s->cfg.agent.tts_timeout_ms *
				   VAGENT_TICKS_PER_MS, 0, NULL);
		if (p->ops->speak(p, t->id, q->text, s->cfg.rate, &e) != VAGENT_OK) {
			/* fail over at once, same sentence */
			t->busy = false;
			vagent_timer_stop(t->timer);
			t->queue = q;       /* put it back in front */
			if (!q->next)
				t->tail = &q->next;
			t->cur = NULL;
			if (!vagent__session_fail_over(s, VAGENT__SLOT_TTS, q->turn,
						       e.message))
				vagent__session_handoff(s, q->turn, "tts_failure", NULL);
		}
	}
	if (!t->busy && !t->queue && !t->buf && t->text_done_turn >= 0) {
		int turn = t->text_done_turn;

		t->text_done_turn = -1;
		tts_audio_end(t, turn);
	}
}

static struct tts_stage *tts_for(void *ctx, uint64_t id)
{
	struct tts_ctx *c = ctx;
	struct tts_stage *t = c->stage;
	struct vagent_session *s = t->base.s;

	if (s->done || !t->busy || t->id != id ||
	    s->active[VAGENT__SLOT_TTS] != c->index)
		return NULL;
	return t;
}

static void tts_failed(struct tts_stage *t, const char *message)
{
	struct vagent_session *s = t->base.s;
	struct vagent_tts *p = vagent__session_tts(s);
	struct sentence *q = t->cur;
	int turn = q ? q->turn : s->turn;

	if (p && p->ops->cancel)
		p->ops->cancel(p, t->id);
	vagent_timer_stop(t->timer);
	t->busy = false;
	t->cur = NULL;
	if (q && !t->got_audio) {
		/* say the same sentence with the next synthesiser */
		q->next = t->queue;
		t->queue = q;
		if (!q->next)
			t->tail = &q->next;
	} else {
		sentence_free(q);
	}
	if (!vagent__session_fail_over(s, VAGENT__SLOT_TTS, turn, message)) {
		vagent__session_handoff(s, turn, "tts_failure", NULL);
		return;
	}
	tts_pump(t);
}

static void tts_timer_fired(struct vagent_timer *timer, void *arg)
{
	struct tts_stage *t = arg;
	struct vagent_session *s = t->base.s;
	struct vagent_tts *p = vagent__session_tts(s);
	char msg[200];

	(void)timer;
	if (!t->busy || t->got_audio)
		return;
	snprintf(msg, sizeof(msg), "%s: no audio after %d ms", p ? p->name : "tts",
		 s->cfg.agent.tts_timeout_ms);
	tts_failed(t, msg);
}

static void tts_on_audio(void *ctx, uint64_t id, const int16_t *samples, size_t n)
{
	struct tts_stage *t = tts_for(ctx, id);
	struct vagent__item it = { 0 };

	if (!t || !n)
		return;
	if (!t->got_audio) {
		struct vagent_trace_event ev = { .type = VAGENT_TRACE_TTS_FIRST_AUDIO };

		t->got_audio = true;
		vagent_timer_stop(t->timer);
		ev.turn = t->cur->turn;
		ev.provider = vagent__session_tts(t->base.s)->name;
		vagent__session_event(t->base.s, &ev, vagent__session_now(t->base.s),
				      false);
	}
	it.kind = VAGENT__ITEM_AGENT_AUDIO;
	it.turn = t->cur->turn;
	it.samples = samples;
	it.n = n;
	vagent__stage_forward(&t->base, &it);
}

static void tts_on_first_byte(void *ctx, uint64_t id, int64_t sent)
{
	struct tts_stage *t = tts_for(ctx, id);

	if (!t || !t->cur)
		return;
	vagent__session_first_byte(t->base.s, VAGENT__SLOT_TTS,
				   ((struct tts_ctx *)ctx)->index, t->cur->turn, sent);
}

static void tts_on_done(void *ctx, uint64_t id)
{
	struct tts_stage *t = tts_for(ctx, id);

	if (!t)
		return;
	vagent_timer_stop(t->timer);
	t->busy = false;
	sentence_free(t->cur);
	t->cur = NULL;
	tts_pump(t);
}

static void tts_on_error(void *ctx, uint64_t id, vagent_status st,
			 const char *message)
{
	struct tts_stage *t = tts_for(ctx, id);

	(void)st;   /* the message says what happened; any error fails over */
	if (t)
		tts_failed(t, message);
}

/* Deltas are concatenated exactly as they come. */
static void append_raw(char **buf, const char *text)
{
	size_t a = *buf ? strlen(*buf) : 0, b = strlen(text);
	char *p = realloc(*buf, a + b + 1);

	if (!p)
		return;
	memcpy(p + a, text, b + 1);
	*buf = p;
}

static void tts_handle(struct vagent__stage *st, struct vagent__item *it)
{
	struct tts_stage *t = (struct tts_stage *)st;

	switch (it->kind) {
	case VAGENT__ITEM_AGENT_TEXT:
		if (it->final) {
			tts_enqueue(t, it->turn, it->text, strlen(it->text), false);
		} else {
			if (t->buf && t->buf_turn != it->turn) {
				free(t->buf);
				t->buf = NULL;
			}
			t->buf_turn = it->turn;
			append_raw(&t->buf, it->text);
			tts_split(t, false);
		}
		tts_pump(t);
		return;
	case VAGENT__ITEM_AGENT_TEXT_END:
		if (t->buf && t->buf_turn == it->turn)
			tts_split(t, true);
		t->text_done_turn = it->turn;
		tts_pump(t);
		return;
	default:
		vagent__stage_forward(st, it);
	}
}

static void tts_flush(struct vagent__stage *st, int turn)
{
	struct tts_stage *t = (struct tts_stage *)st;
	struct vagent_session *s = st->s;
	struct sentence **pp = &t->queue;

	while (*pp) {
		if ((*pp)->turn <= turn) {
			struct sentence *q = *pp;

			*pp = q->next;
			sentence_free(q);
		} else {
			pp = &(*pp)->next;
		}
	}
	t->tail = &t->queue;
	while (*t->tail)
		t->tail = &(*t->tail)->next;
	if (t->buf && t->buf_turn <= turn) {
		free(t->buf);
		t->buf = NULL;
	}
	if (t->text_done_turn >= 0 && t->text_done_turn <= turn)
		t->text_done_turn = -1;
	if (t->busy && t->cur && t->cur->turn <= turn) {
		struct vagent_tts *p = vagent__session_tts(s);

		if (p && p->ops->cancel)
			p->ops->cancel(p, t->id);
		vagent_timer_stop(t->timer);
		t->busy = false;
		sentence_free(t->cur);
		t->cur = NULL;
	}
	tts_pump(t);
}

static void tts_stop(struct vagent__stage *st)
{
	struct tts_stage *t = (struct tts_stage *)st;
	struct vagent_session *s = st->s;
	size_t i;

	vagent_timer_stop(t->timer);
	t->busy = false;
	for (i = 0; i < s->n_providers[VAGENT__SLOT_TTS]; i++)
		if (s->cfg.tts[i]->ops->stop)
			s->cfg.tts[i]->ops->stop(s->cfg.tts[i]);
}

static void tts_free(struct vagent__stage *st)
{
	struct tts_stage *t = (struct tts_stage *)st;

	while (t->queue) {
		struct sentence *q = t->queue;

		t->queue = q->next;
		sentence_free(q);
	}
	sentence_free(t->cur);
	free(t->buf);
	vagent_timer_free(t->timer);
	free(t);
}

static const struct vagent__stage_ops tts_ops = {
	.name = "tts", .handle = tts_handle, .flush = tts_flush,
	.stop = tts_stop, .free = tts_free,
};

struct vagent__stage *vagent__tts_stage_new(struct vagent_session *s,
					    struct vagent_error *err)
{
	struct tts_stage *t = calloc(1, sizeof(*t));
	size_t i;

	if (!t)
		goto nomem;
	t->base.ops = &tts_ops;
	t->tail = &t->queue;
	t->text_done_turn = -1;
	t->timer = vagent_timer_new(s->loop, tts_timer_fired, t);
	if (!t->timer) {
		free(t);
		goto nomem;
	}
	for (i = 0; i < s->n_providers[VAGENT__SLOT_TTS]; i++) {
		struct vagent_tts *p = s->cfg.tts[i];

		t->ctx[i].stage = t;
		t->ctx[i].index = (int)i;
		p->on_audio = tts_on_audio;
		p->on_done = tts_on_done;
		p->on_error = tts_on_error;
		p->on_first_byte = tts_on_first_byte;
		p->ctx = &t->ctx[i];
	}
	return &t->base;
nomem:
	vagent__error_set(err, VAGENT_ENOMEM, "session", "out of memory");
	return NULL;
}

/* ---- output ---- */

/* A queued 20 ms frame of agent audio, or (n == 0) the end of a reply. */
struct out_frame {
	int turn;
	size_t n;
	struct out_frame *next;
	int16_t samples[];
};

struct output_stage {
	struct vagent__stage base;
	struct out_frame *head, **tail;
	size_t queued;
	int16_t *carry;             /* a partial frame */
	size_t carry_n;
	int carry_turn;
	bool speaking;
	int speaking_turn;
	struct vagent_frame frame;  /* the frame played this tick */
};

static void out_push(struct output_stage *o, int turn, const int16_t *x, size_t n)
{
	size_t fs = o->base.s->frame_samples;
	struct out_frame *f = malloc(sizeof(*f) + fs * sizeof(int16_t));

	if (!f)
		return;
	f->turn = turn;
	f->n = n;
	f->next = NULL;
	if (n) {
		memcpy(f->samples, x, n * sizeof(int16_t));
		memset(f->samples + n, 0, (fs - n) * sizeof(int16_t));
		f->n = fs;
	}
	*o->tail = f;
	o->tail = &f->next;
	o->queued++;
}

static void out_drop(struct output_stage *o, int turn)
{
	struct out_frame **pp = &o->head;

	while (*pp) {
		if ((*pp)->turn <= turn) {
			struct out_frame *f = *pp;

			*pp = f->next;
			free(f);
			o->queued--;
		} else {
			pp = &(*pp)->next;
		}
	}
	o->tail = &o->head;
	while (*o->tail)
		o->tail = &(*o->tail)->next;
	if (o->carry_n && o->carry_turn <= turn)
		o->carry_n = 0;
}

bool vagent__output_stage_speaking(const struct vagent__stage *st)
{
	return ((const struct output_stage *)st)->speaking;
}

int vagent__output_stage_turn(const struct vagent__stage *st)
{
	return ((const struct output_stage *)st)->speaking_turn;
}

bool vagent__output_stage_has_audio(const struct vagent__stage *st, int turn)
{
	const struct output_stage *o = (const struct output_stage *)st;
	const struct out_frame *f;

	if (o->speaking && o->speaking_turn == turn)
		return true;
	if (o->carry_n && o->carry_turn == turn)
		return true;
	for (f = o->head; f; f = f->next)
		if (f->turn == turn && f->n)
			return true;
	return false;
}

void vagent__output_stage_stop_audio(struct vagent__stage *st, int64_t t,
				     const char *reason)
{
	struct output_stage *o = (struct output_stage *)st;
	struct vagent_session *s = st->s;
	struct vagent_trace_event ev = { .type = VAGENT_TRACE_AGENT_AUDIO_STOP };

	if (!o->speaking)
		return;
	o->speaking = false;
	out_drop(o, o->speaking_turn);
	ev.turn = o->speaking_turn;
	ev.reason = reason;
	vagent__session_event(s, &ev, t, false);
	if (s->cfg.caller->ops->agent_event)
		s->cfg.caller->ops->agent_event(s->cfg.caller,
			strcmp(reason, "done") == 0 ? VAGENT_AGENT_DONE
						    : VAGENT_AGENT_STOPPED, t);
}

static void output_handle(struct vagent__stage *st, struct vagent__item *it)
{
	struct output_stage *o = (struct output_stage *)st;
	size_t fs = st->s->frame_samples;

	if (it->kind == VAGENT__ITEM_AGENT_AUDIO) {
		const int16_t *x = it->samples;
		size_t n = it->n;

		if (o->carry_n && o->carry_turn != it->turn)
			o->carry_n = 0;
		o->carry_turn = it->turn;
		while (n) {
			size_t take = fs - o->carry_n;

			if (take > n)
				take = n;
			memcpy(o->carry + o->carry_n, x, take * sizeof(int16_t));
			o->carry_n += take;
			x += take;
			n -= take;
			if (o->carry_n == fs) {
				out_push(o, it->turn, o->carry, fs);
				o->carry_n = 0;
			}
		}
		return;
	}
	if (it->kind == VAGENT__ITEM_AGENT_AUDIO_END) {
		if (o->carry_n && o->carry_turn == it->turn) {
			out_push(o, it->turn, o->carry, o->carry_n);
			o->carry_n = 0;
		}
		out_push(o, it->turn, NULL, 0);
		return;
	}
	vagent__stage_forward(st, it);
}

static void output_tick(struct vagent__stage *st, int64_t t)
{
	struct output_stage *o = (struct output_stage *)st;
	struct vagent_session *s = st->s;
	struct vagent__item it = { 0 };
	struct out_frame *f;

	vagent_frame_init(&o->frame, s->cfg.rate, 1, s->frame_samples, t);
	/* ends of replies first: a reply that ended plays nothing more */
	while ((f = o->head) && f->n == 0) {
		o->head = f->next;
		if (!o->head)
			o->tail = &o->head;
		o->queued--;
		if (o->speaking && o->speaking_turn == f->turn)
			vagent__output_stage_stop_audio(st, t, "done");
		if (s->handing_off)
			vagent__session_end(s, "transfer");
		else if (s->hanging_up && f->turn >= s->hangup_turn)
			vagent__session_end(s, "agent_hangup");
		free(f);
	}
	if (f) {
		o->head = f->next;
		if (!o->head)
			o->tail = &o->head;
		o->queued--;
		if (!o->speaking) {
			struct vagent_trace_event ev = { .type = VAGENT_TRACE_AGENT_AUDIO_START };

			o->speaking = true;
			o->speaking_turn = f->turn;
			if (f->turn > s->answered_turn)
				s->answered_turn = f->turn;
			ev.turn = f->turn;
			vagent__session_event(s, &ev, t, false);
			if (s->cfg.caller->ops->agent_event)
				s->cfg.caller->ops->agent_event(s->cfg.caller,
								VAGENT_AGENT_SPEAKING, t);
		}
		memcpy(o->frame.samples, f->samples, f->n * sizeof(int16_t));
		free(f);
	}
	it.kind = VAGENT__ITEM_AGENT_FRAME;
	it.turn = o->speaking ? o->speaking_turn : s->turn;
	it.frame = &o->frame;
	if (s->cfg.caller->ops->agent_audio)
		s->cfg.caller->ops->agent_audio(s->cfg.caller, &o->frame);
	vagent__stage_forward(st, &it);
}

static void output_flush(struct vagent__stage *st, int turn)
{
	out_drop((struct output_stage *)st, turn);
}

static void output_free(struct vagent__stage *st)
{
	struct output_stage *o = (struct output_stage *)st;

	while (o->head) {
		struct out_frame *f = o->head;

		o->head = f->next;
		free(f);
	}
	free(o->carry);
	free(o);
}

static const struct vagent__stage_ops output_ops = {
	.name = "output", .handle = output_handle, .tick = output_tick,
	.flush = output_flush, .free = output_free,
};

struct vagent__stage *vagent__output_stage_new(struct vagent_session *s,
					       struct vagent_error *err)
{
	struct output_stage *o = calloc(1, sizeof(*o));

	if (o)
		o->carry = calloc(s->frame_samples, sizeof(int16_t));
	if (!o || !o->carry) {
		free(o);
		vagent__error_set(err, VAGENT_ENOMEM, "session", "out of memory");
		return NULL;
	}
	o->base.ops = &output_ops;
	o->tail = &o->head;
	return &o->base;
}

/* ---- recorder ---- */

static void recorder_handle(struct vagent__stage *st, struct vagent__item *it)
{
	struct vagent_session *s = st->s;

	if (!s->rec_left)
		return;
	if (it->kind == VAGENT__ITEM_CALLER_FRAME)
		vagent_audio_append_frame(s->rec_left, it->record_frame ? it->record_frame
								       : it->frame);
	else if (it->kind == VAGENT__ITEM_AGENT_FRAME)
		vagent_audio_append_frame(s->rec_right, it->frame);
}

static void recorder_free(struct vagent__stage *st)
{
	free(st);
}

static const struct vagent__stage_ops recorder_ops = {
	.name = "recorder", .handle = recorder_handle, .free = recorder_free,
};

struct vagent__stage *vagent__recorder_stage_new(struct vagent_session *s,
						 struct vagent_error *err)
{
	struct vagent__stage *st = calloc(1, sizeof(*st));

	if (!st)
		goto nomem;
	st->ops = &recorder_ops;
	if (s->cfg.record) {
		/* the agent channel starts one frame of silence in: the
		 * first agent frame plays at the first tick, [20, 40) ms */
		s->rec_left = vagent_audio_new(s->cfg.rate, 1, 0);
		s->rec_right = vagent_audio_new(s->cfg.rate, 1, s->frame_samples);
		if (!s->rec_left || !s->rec_right) {
			free(st);
			goto nomem;
		}
	}
	return st;
nomem:
	vagent__error_set(err, VAGENT_ENOMEM, "session", "out of memory");
	return NULL;
}
