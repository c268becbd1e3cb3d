/*
 * fault_wrap.c — fault injection in front of any provider: a brain, STT or
 * TTS that forwards to an inner provider and makes the requests its fault
 * list names misbehave (late, stalled, failing, dropped, misheard), so
 * scenarios can test the embedded engines and cloud clients as they test
 * the simulated ones (docs/faults.md).
 *
 * Every callback of the inner provider becomes an event with a due time on
 * a queue (per request for brain and TTS, one for the STT stream); events
 * leave in order, at once when due and nothing waits before them, else
 * from the queue's timer. A delay or stall moves the due times, so what
 * the inner provider said stays in its order.
 */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "sim/sim_int.h"

#define STREAM_WRONG_WORDS UINT64_C(0xfa17)

/* What a substituted word becomes: short words recognisers confuse. */
static const char *const wrong_words[] = {
	"the", "a", "and", "in", "on", "to", "of", "for", "it", "at",
	"bay", "won", "fork", "tree", "sun",
};

/* ---- events and their queue ---- */

enum ev_kind {
	EV_FIRST_TOKEN, EV_TEXT, EV_TOOL_CALL, EV_EXPECT_DIGITS, EV_HANGUP,
	EV_ESCALATE, EV_DONE, EV_ERROR,         /* brain */
	EV_AUDIO,                               /* TTS (and DONE, ERROR) */
	EV_PARTIAL, EV_FINAL,                   /* STT (and ERROR) */
};

struct event {
	struct event *next;
	enum ev_kind kind;
	int64_t due;                    /* loop time */
	char *s1, *s2, *s3;             /* text, or name/call_id/args, or
					 * reason/package, or message */
	int digits;
	double confidence;
	vagent_status st;
	bool injected;                  /* an error the wrapper made */
	int16_t *pcm;
	size_t n;
};

struct queue {
	struct event *head, *tail;
};

static void event_free(struct event *e)
{
	free(e->s1);
	free(e->s2);
	free(e->s3);
	free(e->pcm);
	free(e);
}

static void queue_clear(struct queue *q)
{
	while (q->head) {
		struct event *e = q->head;

		q->head = e->next;
		event_free(e);
	}
	q->tail = NULL;
}

static struct event *queue_pop(struct queue *q)
{
	struct event *e = q->head;

	q->head = e->next;
	if (!q->head)
		q->tail = NULL;
	return e;
}

/* Append `e`, due no earlier than the event before it. */
static void queue_put(struct queue *q, struct event *e, int64_t due)
{
	e->due = q->tail && q->tail->due > due ? q->tail->due : due;
	e->next = NULL;
	if (q->tail)
		q->tail->next = e;
	else
		q->head = e;
	q->tail = e;
}

/* A new event with copies of the strings (NULL stays NULL); NULL when out
 * of memory. */
static struct event *event_new(enum ev_kind kind, const char *s1,
			       const char *s2, const char *s3)
{
	struct event *e = calloc(1, sizeof(*e));

	if (!e)
		return NULL;
	e->kind = kind;
	if ((s1 && !(e->s1 = strdup(s1))) || (s2 && !(e->s2 = strdup(s2))) ||
	    (s3 && !(e->s3 = strdup(s3)))) {
		event_free(e);
		return NULL;
	}
	return e;
}

/* ---- the fault list ---- */

/* Check `faults` against the slot and copy them, with their texts. */
static vagent_status faults_take(const char *where, const char *slot,
				 const struct vagent_fault *faults, size_t n,
				 struct vagent_fault **out,
				 struct vagent_error *err)
{
	vagent_status st;
	size_t i;

	st = vagent__faults_check_slot(where, "faults", faults, n, slot, err);
	if (st != VAGENT_OK)
		return st;
	st = vagent__faults_copy(where, "faults", faults, n, out, err);
	if (st != VAGENT_OK)
		return st;
	for (i = 0; i < n; i++) {
		struct vagent_fault *f = &(*out)[i];
		const char *text = f->text;

		f->text = NULL;
		if (f->kind == VAGENT_FAULT_WRONG_WORDS && !text && !(f->rate > 0)) {
			st = vagent__error_set(err, VAGENT_EINVAL, where,
					       "faults[%zu]: wrong_words needs a text or a rate above 0",
					       i);
			break;
		}
		if (f->kind == VAGENT_FAULT_WRONG_WORDS && text &&
		    !(f->text = strdup(text))) {
			st = vagent__error_set(err, VAGENT_ENOMEM, where,
					       "out of memory");
			break;
		}
	}
	if (st != VAGENT_OK) {
		for (i = 0; i < n; i++)
			free((char *)(*out)[i].text);
		free(*out);
		*out = NULL;
	}
	return st;
}

static void faults_release(struct vagent_fault *faults, size_t n)
{
	size_t i;

	for (i = 0; faults && i < n; i++)
		free((char *)faults[i].text);
	free(faults);
}

static struct vagent_fault fault_for(const struct vagent_fault *faults,
				     size_t n, int call)
{
	static const struct vagent_fault none = { 0 };
	const struct vagent_fault *f = vagent__fault_match(faults, n, call);

	return f ? *f : none;
}

static int64_t ms(int v)
{
	return vagent_ticks_from_ms(v);
}

/* ======================================================================
 * Brain
 * ====================================================================== */

struct fault_brain;

struct brain_req {
	struct vagent__sim_req base;    /* id, timer, dead */
	struct fault_brain *w;
	struct vagent_fault fault;
	struct queue q;
	int64_t shift;                  /* ticks added to every due time */
	int deltas;                     /* text deltas the inner sent */
	bool stalled;
	bool ended;                     /* its last event is queued */
	bool inner_live;                /* the inner works on it */
	bool oom;
};

struct fault_brain {
	struct vagent_brain base;
	struct vagent_brain *inner;
	struct vagent_fault *faults;
	size_t n_faults;
	int calls;
	int in_call;                    /* inside a call into the inner */
	struct vagent__sim_reqs reqs;
};

static void brain_req_free(struct vagent__sim_req *b)
{
	struct brain_req *r = (struct brain_req *)b;

	vagent_timer_free(r->base.timer);
	queue_clear(&r->q);
	free(r);
}

static void brain_sweep(struct fault_brain *w)
{
	if (vagent__sim_reqs_sweep(&w->reqs, brain_req_free)) {
		faults_release(w->faults, w->n_faults);
		free(w);
	}
}

static struct brain_req *brain_find(struct fault_brain *w, uint64_t id)
{
	struct vagent__sim_req *b;

	for (b = w->reqs.head; b; b = b->next)
		if (!b->dead && b->id == id)
			return (struct brain_req *)b;
	return NULL;
}

/* Stop the inner working on `r` (it then calls back no more for it). */
static void brain_inner_cancel(struct brain_req *r)
{
	struct vagent_brain *in = r->w->inner;

	if (!r->inner_live)
		return;
	r->inner_live = false;
	if (in->ops->cancel) {
		r->w->in_call++;
		in->ops->cancel(in, r->base.id);
		r->w->in_call--;
	}
}

/* Hand one event to the session. */
static void brain_deliver(struct brain_req *r, struct event *e)
{
	struct vagent_brain *b = &r->w->base;
	uint64_t id = r->base.id;

	switch (e->kind) {
	case EV_FIRST_TOKEN:
		b->on_first_token(b->ctx, id);
		break;
	case EV_TEXT:
		b->on_text(b->ctx, id, e->s1);
		break;
	case EV_TOOL_CALL:
		b->on_tool_call(b->ctx, id, e->s1, e->s2, e->s3);
		break;
	case EV_EXPECT_DIGITS:
		if (b->on_expect_digits)
			b->on_expect_digits(b->ctx, id, e->digits);
		break;
	case EV_HANGUP:
		if (b->on_hangup)
			b->on_hangup(b->ctx, id);
		break;
	case EV_ESCALATE:
		b->on_escalate(b->ctx, id, e->s1, e->s2);
		break;
	case EV_DONE:
		vagent__sim_req_end(&r->base);
		b->on_done(b->ctx, id);
		break;
	case EV_ERROR:
		vagent__sim_req_end(&r->base);
		b->on_error(b->ctx, id, e->st, e->s1);
		break;
	default:
		break;
	}
}

/* Deliver the events that are due, in order; re-arm for the next. */
static void brain_drain(struct brain_req *r)
{
	struct fault_brain *w = r->w;
	int64_t now = vagent_loop_now(w->base.loop);

	while (!r->base.dead && r->q.head && r->q.head->due <= now) {
		struct event *e = queue_pop(&r->q);

		brain_deliver(r, e);
		event_free(e);
	}
	if (!r->base.dead && r->q.head)
		vagent_timer_start_at(r->base.timer, r->q.head->due, 0, NULL);
}

static void brain_fail_nomem(struct brain_req *r)
{
	struct fault_brain *w = r->w;
	char msg[96];

	snprintf(msg, sizeof(msg), "%s: out of memory", w->base.name);
	brain_inner_cancel(r);
	vagent__sim_req_end(&r->base);
	w->base.on_error(w->base.ctx, r->base.id, VAGENT_ENOMEM, msg);
}

static void brain_timer_fired(struct vagent_timer *t, void *arg)
{
	struct brain_req *r = arg;
	struct fault_brain *w = r->w;

	(void)t;
	w->reqs.busy++;
	if (!r->base.dead) {
		if (r->oom)
			brain_fail_nomem(r);
		else
			brain_drain(r);
	}
	w->reqs.busy--;
	brain_sweep(w);
}

/* Queue `e` (NULL: out of memory) due at `due`; deliver what is due now
 * unless the session is inside a call of ours. */
static void brain_put(struct brain_req *r, struct event *e, int64_t due)
{
	struct fault_brain *w = r->w;

	if (!e) {
		/* report it from the timer, never from inside a call */
		r->oom = true;
		r->ended = true;
		brain_inner_cancel(r);
		queue_clear(&r->q);
		vagent_timer_start_at(r->base.timer, vagent_loop_now(w->base.loop),
				      0, NULL);
		return;
	}
	queue_put(&r->q, e, due);
	if (r->q.head != e)
		return;                 /* the timer is armed for the head */
	if (w->in_call || e->injected)
		vagent_timer_start_at(r->base.timer, e->due, 0, NULL);
	else
		brain_drain(r);
}

static void brain_put_now(struct brain_req *r, struct event *e)
{
	brain_put(r, e, vagent_loop_now(r->w->base.loop) + r->shift);
}

/* The request fails with `st`: the inner stops, the session hears the
 * error after what is queued, `delay` ticks from now at the earliest. */
static void brain_inject_error(struct brain_req *r, vagent_status st,
			       const char *what, int64_t delay)
{
	struct fault_brain *w = r->w;
	char msg[200];
	struct event *e;

	snprintf(msg, sizeof(msg), "%s: %s", w->base.name, what);
	r->ended = true;
	brain_inner_cancel(r);
	e = event_new(EV_ERROR, msg, NULL, NULL);
	if (e) {
		e->st = st;
		e->injected = true;
	}
	brain_put(r, e, vagent_loop_now(w->base.loop) + delay);
}

/* The inner's callbacks: `ctx` is the wrapper. Each returns the request
 * the event belongs to (NULL: none, or already ended). */
static struct brain_req *brain_from(void *ctx, uint64_t id)
{
	struct fault_brain *w = ctx;
	struct brain_req *r = brain_find(w, id);

	return r && !r->ended && r->inner_live ? r : NULL;
}

/*
 * The fault points of a stream: before the (after+1)-th delta, or before
 * on_done when the reply had fewer. true: the request ended here.
 */
static bool brain_fault_point(struct brain_req *r)
{
	const struct vagent_fault *f = &r->fault;

	if (f->kind == VAGENT_FAULT_MALFORMED) {
		brain_inject_error(r, VAGENT_EPROTO,
				   "malformed reply chunk (injected)", r->shift);
		return true;
	}
	if (f->kind == VAGENT_FAULT_DISCONNECT && r->deltas >= f->after) {
		brain_inject_error(r, VAGENT_EPROTO,
				   "stream closed mid-reply (injected)", r->shift);
		return true;
	}
	if (f->kind == VAGENT_FAULT_STALL && !r->stalled && r->deltas >= f->after) {
		r->stalled = true;
		r->shift += ms(f->delay_ms);
	}
	return false;
}

static void fb_first_token_in(void *ctx, uint64_t id)
{
	struct brain_req *r = brain_from(ctx, id);

	if (r)
		brain_put_now(r, event_new(EV_FIRST_TOKEN, NULL, NULL, NULL));
}

static void fb_text_in(void *ctx, uint64_t id, const char *delta)
{
	struct brain_req *r = brain_from(ctx, id);

	if (!r || brain_fault_point(r))
		return;
	r->deltas++;
	brain_put_now(r, event_new(EV_TEXT, delta ? delta : "", NULL, NULL));
}

static void fb_tool_call_in(void *ctx, uint64_t id, const char *name,
			 const char *call_id, const char *args)
{
	struct brain_req *r = brain_from(ctx, id);

	if (r)
		brain_put_now(r, event_new(EV_TOOL_CALL, name ? name : "",
					   call_id ? call_id : "",
					   args ? args : "{}"));
}

static void fb_expect_digits_in(void *ctx, uint64_t id, int digits)
{
	struct brain_req *r = brain_from(ctx, id);
	struct event *e;

	if (!r)
		return;
	e = event_new(EV_EXPECT_DIGITS, NULL, NULL, NULL);
	if (e)
		e->digits = digits;
	brain_put_now(r, e);
}

static void fb_hangup_in(void *ctx, uint64_t id)
{
	struct brain_req *r = brain_from(ctx, id);

	if (r)
		brain_put_now(r, event_new(EV_HANGUP, NULL, NULL, NULL));
}

static void fb_escalate_in(void *ctx, uint64_t id, const char *reason,
			const char *package)
{
	struct brain_req *r = brain_from(ctx, id);

	if (r)
		brain_put_now(r, event_new(EV_ESCALATE, reason ? reason : "",
					   package ? package : "{}", NULL));
}

static void fb_done_in(void *ctx, uint64_t id)
{
	struct brain_req *r = brain_from(ctx, id);

	if (!r || brain_fault_point(r))
		return;
	r->ended = true;
	r->inner_live = false;
	brain_put_now(r, event_new(EV_DONE, NULL, NULL, NULL));
}

static void fb_error_in(void *ctx, uint64_t id, vagent_status st,
		     const char *message)
{
	struct brain_req *r = brain_from(ctx, id);
	struct event *e;

	if (!r)
		return;
	r->ended = true;
	r->inner_live = false;
	e = event_new(EV_ERROR, message ? message : "", NULL, NULL);
	if (e)
		e->st = st;
	brain_put_now(r, e);
}

/* The inner's first byte is a network measurement, not something the
 * caller hears: passed on at once, whatever the request's fault. */
static void fb_first_byte_in(void *ctx, uint64_t id, int64_t sent)
{
	struct fault_brain *w = ctx;

	if (brain_from(ctx, id) && w->base.on_first_byte)
		w->base.on_first_byte(w->base.ctx, id, sent);
}

/* The inner's callbacks as the wrapper takes them: its requests stay
 * allocated while one runs (the session may cancel from inside). */
#define BRAIN_CB(name, params, args)                                        \
	static void name params                                             \
	{                                                                   \
		struct fault_brain *w = ctx;                                \
									    \
		w->reqs.busy++;                                             \
		name##_in args;                                             \
		w->reqs.busy--;                                             \
		brain_sweep(w);                                             \
	}

BRAIN_CB(fb_first_token, (void *ctx, uint64_t id), (ctx, id))
BRAIN_CB(fb_first_byte, (void *ctx, uint64_t id, int64_t sent), (ctx, id, sent))
BRAIN_CB(fb_text, (void *ctx, uint64_t id, const char *delta), (ctx, id, delta))
BRAIN_CB(fb_tool_call, (void *ctx, uint64_t id, const char *name,
			const char *call_id, const char *args),
	 (ctx, id, name, call_id, args))
BRAIN_CB(fb_expect_digits, (void *ctx, uint64_t id, int digits), (ctx, id, digits))
BRAIN_CB(fb_hangup, (void *ctx, uint64_t id), (ctx, id))
BRAIN_CB(fb_escalate, (void *ctx, uint64_t id, const char *reason,
		       const char *package), (ctx, id, reason, package))
BRAIN_CB(fb_done, (void *ctx, uint64_t id), (ctx, id))
BRAIN_CB(fb_error, (void *ctx, uint64_t id, vagent_status st, const char *message),
	 (ctx, id, st, message))

/* ---- brain ops ---- */

/* The session sets loop and origin on the wrapper; the inner needs them. */
static void brain_sync(struct fault_brain *w)
{
	w->inner->loop = w->base.loop;
	w->inner->origin = w->base.origin;
}

static vagent_status fb_respond(struct vagent_brain *b,
				const struct vagent_brain_request *req,
				struct vagent_error *err)
{
	struct fault_brain *w = (struct fault_brain *)b;
	struct brain_req *r;
	vagent_status st = VAGENT_OK;
	char what[96];

	if (!req)
		return vagent__error_set(err, VAGENT_EINVAL, b->name, "no request");
	if (!b->loop || !b->on_first_token || !b->on_text || !b->on_done ||
	    !b->on_error || !b->on_tool_call || !b->on_escalate)
		return vagent__error_set(err, VAGENT_EINVAL, b->name,
					 "loop or callbacks not set");
	r = calloc(1, sizeof(*r));
	if (!r || !(r->base.timer = vagent_timer_new(b->loop, brain_timer_fired, r))) {
		free(r);
		return vagent__error_set(err, VAGENT_ENOMEM, b->name,
					 "out of memory");
	}
	r->w = w;
	r->base.id = req->id;
	r->fault = fault_for(w->faults, w->n_faults, ++w->calls);
	vagent__sim_req_add(&w->reqs, &r->base);
	w->reqs.busy++;
	w->in_call++;
	switch (r->fault.kind) {
	case VAGENT_FAULT_ERROR:
		/* instead of answering: the inner never hears of it */
		snprintf(what, sizeof(what), "HTTP %d (injected error)",
			 r->fault.http_status ? r->fault.http_status : 500);
		brain_inject_error(r, VAGENT_EPROVIDER, what, ms(r->fault.delay_ms));
		break;
	case VAGENT_FAULT_TIMEOUT:
		r->ended = true;        /* never answers */
		break;
	default:
		if (r->fault.kind == VAGENT_FAULT_DELAY)
			r->shift = ms(r->fault.delay_ms);
		brain_sync(w);
		r->inner_live = true;
		st = w->inner->ops->respond(w->inner, req, err);
		if (st != VAGENT_OK) {
			r->inner_live = false;
			vagent__sim_req_end(&r->base);
		}
		break;
	}
	w->in_call--;
	w->reqs.busy--;
	brain_sweep(w);
	return st;
}

static void fb_tool_result(struct vagent_brain *b, uint64_t id,
			   const char *call_id, vagent_status st,
			   const char *result)
{
	struct fault_brain *w = (struct fault_brain *)b;
	struct brain_req *r = brain_find(w, id);

	if (!r || !r->inner_live || !w->inner->ops->tool_result)
		return;
	w->in_call++;
	w->inner->ops->tool_result(w->inner, id, call_id, st, result);
	w->in_call--;
}

static void fb_cancel(struct vagent_brain *b, uint64_t id)
{
	struct fault_brain *w = (struct fault_brain *)b;
	struct vagent__sim_req *h;

	for (h = w->reqs.head; h; h = h->next) {
		struct brain_req *r = (struct brain_req *)h;

		if (h->dead || h->id != id)
			continue;
		brain_inner_cancel(r);
		vagent__sim_req_end(h);
	}
	brain_sweep(w);
}

static void fb_stop(struct vagent_brain *b)
{
	struct fault_brain *w = (struct fault_brain *)b;
	struct vagent__sim_req *h;

	for (h = w->reqs.head; h; h = h->next)
		((struct brain_req *)h)->inner_live = false;
	vagent__sim_reqs_end_all(&w->reqs);
	if (w->inner->ops->stop) {
		w->in_call++;
		w->inner->ops->stop(w->inner);
		w->in_call--;
	}
	brain_sweep(w);
}

static void fb_free(struct vagent_brain *b)
{
	struct fault_brain *w = (struct fault_brain *)b;
	struct vagent__sim_req *h;

	for (h = w->reqs.head; h; h = h->next)
		if (!h->dead)
			brain_inner_cancel((struct brain_req *)h);
	vagent__sim_reqs_end_all(&w->reqs);
	w->reqs.freeing = true;
	brain_sweep(w);
}

static const struct vagent_brain_ops fault_brain_ops = {
	.respond = fb_respond,
	.tool_result = fb_tool_result,
	.cancel = fb_cancel,
	.stop = fb_stop,
	.free = fb_free,
};

/* Name the wrapper like the inner provider. */
static void copy_name(char dst[64], const char *src)
{
	snprintf(dst, 64, "%s", src[0] ? src : "provider");
}

vagent_status vagent_fault_brain_new(struct vagent_brain *inner,
				     const struct vagent_fault *faults,
				     size_t n_faults, uint64_t seed,
				     struct vagent_brain **out,
				     struct vagent_error *err)
{
	struct fault_brain *w;
	vagent_status st;

	(void)seed;     /* the brain's faults draw nothing */
	if (!out)
		return vagent__error_set(err, VAGENT_EINVAL, "fault",
					 "no output pointer");
	*out = NULL;
	if (!inner || !inner->ops || !inner->ops->respond)
		return vagent__error_set(err, VAGENT_EINVAL, "fault",
					 "no brain to wrap");
	w = calloc(1, sizeof(*w));
	if (!w)
		return vagent__error_set(err, VAGENT_ENOMEM, inner->name,
					 "out of memory");
	copy_name(w->base.name, inner->name);
	st = faults_take(w->base.name, "llm", faults, n_faults, &w->faults, err);
	if (st != VAGENT_OK) {
		free(w);
		return st;
	}
	w->n_faults = n_faults;
	w->base.ops = &fault_brain_ops;
	w->inner = inner;
	inner->on_first_token = fb_first_token;
	inner->on_first_byte = fb_first_byte;
	inner->on_text = fb_text;
	inner->on_tool_call = fb_tool_call;
	inner->on_expect_digits = fb_expect_digits;
	inner->on_hangup = fb_hangup;
	inner->on_escalate = fb_escalate;
	inner->on_done = fb_done;
	inner->on_error = fb_error;
	inner->ctx = w;
	*out = &w->base;
	return VAGENT_OK;
}

/* ======================================================================
 * TTS
 * ====================================================================== */

struct fault_tts;

struct tts_req {
	struct vagent__sim_req base;
	struct fault_tts *w;
	struct vagent_fault fault;
	struct queue q;
	int64_t shift;
	size_t samples;                 /* audio the inner sent */
	size_t stall_at;                /* STALL: samples before the pause */
	bool stalled, ended, inner_live, oom;
};

struct fault_tts {
	struct vagent_tts base;
	struct vagent_tts *inner;
	struct vagent_fault *faults;
	size_t n_faults;
	int calls;
	int in_call;
	struct vagent__sim_reqs reqs;
};

static void tts_req_free(struct vagent__sim_req *b)
{
	struct tts_req *r = (struct tts_req *)b;

	vagent_timer_free(r->base.timer);
	queue_clear(&r->q);
	free(r);
}

static void tts_sweep(struct fault_tts *w)
{
	if (vagent__sim_reqs_sweep(&w->reqs, tts_req_free)) {
		faults_release(w->faults, w->n_faults);
		free(w);
	}
}

static struct tts_req *tts_find(struct fault_tts *w, uint64_t id)
{
	struct vagent__sim_req *b;

	for (b = w->reqs.head; b; b = b->next)
		if (!b->dead && b->id == id)
			return (struct tts_req *)b;
	return NULL;
}

static void tts_inner_cancel(struct tts_req *r)
{
	struct vagent_tts *in = r->w->inner;

	if (!r->inner_live)
		return;
	r->inner_live = false;
	if (in->ops->cancel) {
		r->w->in_call++;
		in->ops->cancel(in, r->base.id);
		r->w->in_call--;
	}
}

static void tts_drain(struct tts_req *r)
{
	struct fault_tts *w = r->w;
	struct vagent_tts *t = &w->base;
	int64_t now = vagent_loop_now(t->loop);

	while (!r->base.dead && r->q.head && r->q.head->due <= now) {
		struct event *e = queue_pop(&r->q);

		if (e->kind == EV_AUDIO) {
			t->on_audio(t->ctx, r->base.id, e->pcm, e->n);
		} else if (e->kind == EV_DONE) {
			vagent__sim_req_end(&r->base);
			t->on_done(t->ctx, r->base.id);
		} else {
			vagent__sim_req_end(&r->base);
			t->on_error(t->ctx, r->base.id, e->st, e->s1);
		}
		event_free(e);
	}
	if (!r->base.dead && r->q.head)
		vagent_timer_start_at(r->base.timer, r->q.head->due, 0, NULL);
}

static void tts_timer_fired(struct vagent_timer *t, void *arg)
{
	struct tts_req *r = arg;
	struct fault_tts *w = r->w;

	(void)t;
	w->reqs.busy++;
	if (!r->base.dead) {
		if (r->oom) {
			char msg[96];

			snprintf(msg, sizeof(msg), "%s: out of memory", w->base.name);
			vagent__sim_req_end(&r->base);
			w->base.on_error(w->base.ctx, r->base.id, VAGENT_ENOMEM, msg);
		} else {
			tts_drain(r);
		}
	}
	w->reqs.busy--;
	tts_sweep(w);
}

static void tts_put(struct tts_req *r, struct event *e, int64_t due)
{
	struct fault_tts *w = r->w;

	if (!e) {
		r->oom = true;
		r->ended = true;
		tts_inner_cancel(r);
		queue_clear(&r->q);
		vagent_timer_start_at(r->base.timer, vagent_loop_now(w->base.loop),
				      0, NULL);
		return;
	}
	queue_put(&r->q, e, due);
	if (r->q.head != e)
		return;
	if (w->in_call || e->injected)
		vagent_timer_start_at(r->base.timer, e->due, 0, NULL);
	else
		tts_drain(r);
}

static void tts_put_now(struct tts_req *r, struct event *e)
{
	tts_put(r, e, vagent_loop_now(r->w->base.loop) + r->shift);
}

static struct event *audio_event(const int16_t *samples, size_t n)
{
	struct event *e = event_new(EV_AUDIO, NULL, NULL, NULL);

	if (!e)
		return NULL;
	e->pcm = malloc((n ? n : 1) * sizeof(*e->pcm));
	if (!e->pcm) {
		event_free(e);
		return NULL;
	}
	if (n)
		memcpy(e->pcm, samples, n * sizeof(*e->pcm));
	e->n = n;
	return e;
}

static struct tts_req *tts_from(void *ctx, uint64_t id)
{
	struct tts_req *r = tts_find(ctx, id);

	return r && !r->ended && r->inner_live ? r : NULL;
}

static void ft_audio_in(void *ctx, uint64_t id, const int16_t *samples, size_t n)
{
	struct tts_req *r = tts_from(ctx, id);
	size_t k;

	if (!r || !samples)
		return;
	if (r->fault.kind == VAGENT_FAULT_STALL && !r->stalled &&
	    r->samples + n > r->stall_at) {
		/* the audio up to the stall point, then the pause */
		k = r->stall_at - r->samples;
		r->stalled = true;
		if (k) {
			tts_put_now(r, audio_event(samples, k));
			r = tts_from(ctx, id);
			if (!r)
				return;
		}
		r->samples += k;
		r->shift += ms(r->fault.delay_ms);
		samples += k;
		n -= k;
	}
	r->samples += n;
	tts_put_now(r, audio_event(samples, n));
}

/* As fb_first_byte_in. */
static void ft_first_byte_in(void *ctx, uint64_t id, int64_t sent)
{
	struct fault_tts *w = ctx;

	if (tts_from(ctx, id) && w->base.on_first_byte)
		w->base.on_first_byte(w->base.ctx, id, sent);
}

static void ft_done_in(void *ctx, uint64_t id)
{
	struct tts_req *r = tts_from(ctx, id);

	if (!r)
		return;
	r->ended = true;
	r->inner_live = false;
	tts_put_now(r, event_new(EV_DONE, NULL, NULL, NULL));
}

static void ft_error_in(void *ctx, uint64_t id, vagent_status st,
		     const char *message)
{
	struct tts_req *r = tts_from(ctx, id);
	struct event *e;

	if (!r)
		return;
	r->ended = true;
	r->inner_live = false;
	e = event_new(EV_ERROR, message ? message : "", NULL, NULL);
	if (e)
		e->st = st;
	tts_put_now(r, e);
}

#define TTS_CB(name, params, args)                                          \
	static void name params                                             \
	{                                                                   \
		struct fault_tts *w = ctx;                                  \
									    \
		w->reqs.busy++;                                             \
		name##_in args;                                             \
		w->reqs.busy--;                                             \
		tts_sweep(w);                                               \
	}

TTS_CB(ft_audio, (void *ctx, uint64_t id, const int16_t *samples, size_t n),
       (ctx, id, samples, n))
TTS_CB(ft_done, (void *ctx, uint64_t id), (ctx, id))
TTS_CB(ft_first_byte, (void *ctx, uint64_t id, int64_t sent), (ctx, id, sent))
TTS_CB(ft_error, (void *ctx, uint64_t id, vagent_status st, const char *message),
       (ctx, id, st, message))

static vagent_status ft_speak(struct vagent_tts *t, uint64_t id,
			      const char *text, int rate,
			      struct vagent_error *err)
{
	struct fault_tts *w = (struct fault_tts *)t;
	struct tts_req *r;
	vagent_status st = VAGENT_OK;
	char msg[200];
	struct event *e;

	if (!text)
		return vagent__error_set(err, VAGENT_EINVAL, t->name, "no text");
	if (rate <= 0)
		return vagent__error_set(err, VAGENT_EINVAL, t->name,
					 "bad sample rate %d", rate);
	if (!t->loop || !t->on_audio || !t->on_done || !t->on_error)
		return vagent__error_set(err, VAGENT_EINVAL, t->name,
					 "loop or callbacks not set");
	r = calloc(1, sizeof(*r));
	if (!r || !(r->base.timer = vagent_timer_new(t->loop, tts_timer_fired, r))) {
		free(r);
		return vagent__error_set(err, VAGENT_ENOMEM, t->name,
					 "out of memory");
	}
	r->w = w;
	r->base.id = id;
	r->fault = fault_for(w->faults, w->n_faults, ++w->calls);
	r->stall_at = (size_t)((int64_t)rate * r->fault.after / 1000);
	vagent__sim_req_add(&w->reqs, &r->base);
	w->reqs.busy++;
	w->in_call++;
	switch (r->fault.kind) {
	case VAGENT_FAULT_ERROR:
		snprintf(msg, sizeof(msg), "%s: HTTP %d (injected error)", t->name,
			 r->fault.http_status ? r->fault.http_status : 500);
		r->ended = true;
		e = event_new(EV_ERROR, msg, NULL, NULL);
		if (e) {
			e->st = VAGENT_EPROVIDER;
			e->injected = true;
		}
		tts_put(r, e, vagent_loop_now(t->loop) + ms(r->fault.delay_ms));
		break;
	case VAGENT_FAULT_TIMEOUT:
		r->ended = true;        /* never any audio */
		break;
	default:
		if (r->fault.kind == VAGENT_FAULT_DELAY)
			r->shift = ms(r->fault.delay_ms);
		w->inner->loop = t->loop;
		w->inner->origin = t->origin;
		r->inner_live = true;
		st = w->inner->ops->speak(w->inner, id, text, rate, err);
		if (st != VAGENT_OK) {
			r->inner_live = false;
			vagent__sim_req_end(&r->base);
		}
		break;
	}
	w->in_call--;
	w->reqs.busy--;
	tts_sweep(w);
	return st;
}

static void ft_cancel(struct vagent_tts *t, uint64_t id)
{
	struct fault_tts *w = (struct fault_tts *)t;
	struct vagent__sim_req *h;

	for (h = w->reqs.head; h; h = h->next) {
		if (h->dead || h->id != id)
			continue;
		tts_inner_cancel((struct tts_req *)h);
		vagent__sim_req_end(h);
	}
	tts_sweep(w);
}

static void ft_stop(struct vagent_tts *t)
{
	struct fault_tts *w = (struct fault_tts *)t;
	struct vagent__sim_req *h;

	for (h = w->reqs.head; h; h = h->next)
		((struct tts_req *)h)->inner_live = false;
	vagent__sim_reqs_end_all(&w->reqs);
	if (w->inner->ops->stop) {
		w->in_call++;
		w->inner->ops->stop(w->inner);
		w->in_call--;
	}
	tts_sweep(w);
}

static void ft_free(struct vagent_tts *t)
{
	struct fault_tts *w = (struct fault_tts *)t;
	struct vagent__sim_req *h;

	for (h = w->reqs.head; h; h = h->next)
		if (!h->dead)
			tts_inner_cancel((struct tts_req *)h);
	vagent__sim_reqs_end_all(&w->reqs);
	w->reqs.freeing = true;
	tts_sweep(w);
}

static const struct vagent_tts_ops fault_tts_ops = {
	.speak = ft_speak,
	.cancel = ft_cancel,
	.stop = ft_stop,
	.free = ft_free,
};

vagent_status vagent_fault_tts_new(struct vagent_tts *inner,
				   const struct vagent_fault *faults,
				   size_t n_faults, uint64_t seed,
				   struct vagent_tts **out,
				   struct vagent_error *err)
{
	struct fault_tts *w;
	vagent_status st;

	(void)seed;     /* the synthesiser's faults draw nothing */
	if (!out)
		return vagent__error_set(err, VAGENT_EINVAL, "fault",
					 "no output pointer");
	*out = NULL;
	if (!inner || !inner->ops || !inner->ops->speak)
		return vagent__error_set(err, VAGENT_EINVAL, "fault",
					 "no synthesiser to wrap");
	w = calloc(1, sizeof(*w));
	if (!w)
		return vagent__error_set(err, VAGENT_ENOMEM, inner->name,
					 "out of memory");
	copy_name(w->base.name, inner->name);
	st = faults_take(w->base.name, "tts", faults, n_faults, &w->faults, err);
	if (st != VAGENT_OK) {
		free(w);
		return st;
	}
	w->n_faults = n_faults;
	w->base.ops = &fault_tts_ops;
	w->inner = inner;
	inner->on_audio = ft_audio;
	inner->on_done = ft_done;
	inner->on_first_byte = ft_first_byte;
	inner->on_error = ft_error;
	inner->ctx = w;
	*out = &w->base;
	return VAGENT_OK;
}

/* ======================================================================
 * STT
 * ====================================================================== */

struct fault_stt {
	struct vagent_stt base;
	struct vagent_stt *inner;
	struct vagent_fault *faults;
	size_t n_faults;
	struct vagent__rng rng;
	int finals;                     /* finals the inner sent */
	struct queue q;
	struct vagent_timer *timer;     /* fires at the queue's head */
	bool failing;                   /* an error is queued: forward no more */
	bool stopped;                   /* stop() or an error was delivered */
	int in_call;
	int busy;
	bool freeing;
};

static void stt_destroy(struct fault_stt *w)
{
	vagent_timer_free(w->timer);
	queue_clear(&w->q);
	faults_release(w->faults, w->n_faults);
	free(w);
}

static void stt_inner_stop(struct fault_stt *w)
{
	if (w->inner->ops->stop) {
		w->in_call++;
		w->inner->ops->stop(w->inner);
		w->in_call--;
	}
}

static void stt_drain(struct fault_stt *w)
{
	struct vagent_stt *s = &w->base;
	int64_t now = vagent_loop_now(s->loop);

	while (!w->stopped && w->q.head && w->q.head->due <= now) {
		struct event *e = queue_pop(&w->q);

		if (e->kind == EV_PARTIAL) {
			s->on_partial(s->ctx, e->s1);
		} else if (e->kind == EV_FINAL) {
			s->on_final(s->ctx, e->s1, e->confidence);
		} else {
			/* an error ends this provider's use for the call */
			w->stopped = true;
			queue_clear(&w->q);
			vagent_timer_stop(w->timer);
			if (e->injected)
				stt_inner_stop(w);
			s->on_error(s->ctx, e->st, e->s1);
		}
		event_free(e);
	}
	if (!w->stopped && w->q.head)
		vagent_timer_start_at(w->timer, w->q.head->due, 0, NULL);
}

static void stt_timer_fired(struct vagent_timer *t, void *arg)
{
	struct fault_stt *w = arg;

	(void)t;
	w->busy++;
	stt_drain(w);
	w->busy--;
	if (!w->busy && w->freeing)
		stt_destroy(w);
}

/* Queue `e` due at `due`. Out of memory: the recogniser fails. */
static void stt_put(struct fault_stt *w, struct event *e, int64_t due)
{
	if (!w->timer) {
		w->timer = vagent_timer_new(w->base.loop, stt_timer_fired, w);
		if (!w->timer) {
			/* without a timer nothing can be reported from a
			 * timer: the session's final wait ends the turn */
			if (e)
				event_free(e);
			w->failing = true;
			return;
		}
	}
	if (!e) {
		char msg[96];

		snprintf(msg, sizeof(msg), "%s: out of memory", w->base.name);
		w->failing = true;
		queue_clear(&w->q);
		e = calloc(1, sizeof(*e));
		if (!e || !(e->s1 = strdup(msg))) {
			free(e);
			return;
		}
		e->kind = EV_ERROR;
		e->st = VAGENT_ENOMEM;
		e->injected = true;
	}
	queue_put(&w->q, e, due);
	if (w->q.head != e)
		return;
	if (w->in_call || e->injected)
		vagent_timer_start_at(w->timer, e->due, 0, NULL);
	else
		stt_drain(w);
}

static bool stt_usable(struct fault_stt *w)
{
	return !w->failing && !w->stopped && !w->freeing && w->base.loop &&
	       w->base.on_partial && w->base.on_final && w->base.on_error;
}

/* `text` with round(rate * words) of its words (at least one) replaced by
 * other words, chosen with the wrapper's generator (transfer full). */
static char *substitute_words(struct fault_stt *w, const char *text,
			      double rate)
{
	struct vagent__strbuf b = { 0 };
	const char *s = text;
	size_t n = 0, k, i, *pick = NULL, picked = 0, word = 0;

	for (s = text; *s;) {
		while (*s && isspace((unsigned char)*s))
			s++;
		if (!*s)
			break;
		n++;
		while (*s && !isspace((unsigned char)*s))
			s++;
	}
	if (n == 0)
		return strdup(text);
	k = (size_t)(rate * (double)n + 0.5);
	if (k == 0)
		k = 1;
	if (k > n)
		k = n;
	/* which words: the first k of a seeded shuffle of 0..n-1 */
	pick = malloc(n * sizeof(*pick));
	if (!pick)
		return NULL;
	for (i = 0; i < n; i++)
		pick[i] = i;
	for (i = 0; i < k; i++) {
		size_t j = i + (size_t)vagent__rng_range(&w->rng, (int64_t)(n - i));
		size_t tmp = pick[i];

		pick[i] = pick[j];
		pick[j] = tmp;
	}
	for (s = text; *s;) {
		const char *start;
		size_t len;
		bool replace = false;

		while (*s && isspace((unsigned char)*s))
			s++;
		if (!*s)
			break;
		start = s;
		while (*s && !isspace((unsigned char)*s))
			s++;
		len = (size_t)(s - start);
		for (i = 0; i < k; i++)
			if (pick[i] == word)
				replace = true;
		if (picked++)
			vagent__strbuf_put(&b, " ", 1);
		if (replace) {
			size_t nw = VAGENT__ARRAY_SIZE(wrong_words);
			size_t j = (size_t)vagent__rng_range(&w->rng, (int64_t)nw);

			if (strlen(wrong_words[j]) == len &&
			    strncasecmp(wrong_words[j], start, len) == 0)
				j = (j + 1) % nw;
			vagent__strbuf_puts(&b, wrong_words[j]);
		} else {
			vagent__strbuf_put(&b, start, len);
		}
		word++;
	}
	free(pick);
	return vagent__strbuf_detach(&b);
}

static void fs_partial_in(void *ctx, const char *text)
{
	struct fault_stt *w = ctx;

	if (!stt_usable(w))
		return;
	stt_put(w, event_new(EV_PARTIAL, text ? text : "", NULL, NULL),
		vagent_loop_now(w->base.loop));
}

/* As fb_first_byte_in. */
static void fs_first_byte_in(void *ctx, uint64_t id, int64_t sent)
{
	struct fault_stt *w = ctx;

	if (stt_usable(w) && w->base.on_first_byte)
		w->base.on_first_byte(w->base.ctx, id, sent);
}

static void fs_final_in(void *ctx, const char *text, double confidence)
{
	struct fault_stt *w = ctx;
	struct vagent_fault f;
	struct event *e = NULL;
	int64_t now;
	char msg[200];

	if (!stt_usable(w))
		return;
	if (!text)
		text = "";
	now = vagent_loop_now(w->base.loop);
	f = fault_for(w->faults, w->n_faults, ++w->finals);
	switch (f.kind) {
	case VAGENT_FAULT_DROP:
		return;
	case VAGENT_FAULT_ERROR:
		snprintf(msg, sizeof(msg), "%s: HTTP %d (injected error)",
			 w->base.name, f.http_status ? f.http_status : 500);
		w->failing = true;
		e = event_new(EV_ERROR, msg, NULL, NULL);
		if (e) {
			e->st = VAGENT_EPROVIDER;
			e->injected = true;
		}
		stt_put(w, e, now + ms(f.delay_ms));
		return;
	case VAGENT_FAULT_WRONG_WORDS:
		e = calloc(1, sizeof(*e));
		if (e) {
			e->kind = EV_FINAL;
			e->s1 = f.text ? strdup(f.text)
				       : substitute_words(w, text, f.rate);
			if (!e->s1) {
				free(e);
				e = NULL;
			}
		}
		break;
	default:
		e = event_new(EV_FINAL, text, NULL, NULL);
		break;
	}
	if (e)
		e->confidence = confidence;
	stt_put(w, e, now + (f.kind == VAGENT_FAULT_DELAY ? ms(f.delay_ms) : 0));
}

static void fs_error_in(void *ctx, vagent_status st, const char *message)
{
	struct fault_stt *w = ctx;
	struct event *e;

	if (!stt_usable(w))
		return;
	w->failing = true;
	e = event_new(EV_ERROR, message ? message : "", NULL, NULL);
	if (e)
		e->st = st;
	stt_put(w, e, vagent_loop_now(w->base.loop));
}

#define STT_CB(name, params, args)                                          \
	static void name params                                             \
	{                                                                   \
		struct fault_stt *w = ctx;                                  \
									    \
		w->busy++;                                                  \
		name##_in args;                                             \
		w->busy--;                                                  \
		if (!w->busy && w->freeing)                                 \
			stt_destroy(w);                                     \
	}

STT_CB(fs_partial, (void *ctx, const char *text), (ctx, text))
STT_CB(fs_first_byte, (void *ctx, uint64_t id, int64_t sent), (ctx, id, sent))
STT_CB(fs_final, (void *ctx, const char *text, double confidence),
       (ctx, text, confidence))
STT_CB(fs_error, (void *ctx, vagent_status st, const char *message),
       (ctx, st, message))

/* ---- STT ops: pass through to the inner ---- */

static void stt_sync(struct fault_stt *w)
{
	w->inner->loop = w->base.loop;
	w->inner->origin = w->base.origin;
}

static void fs_audio(struct vagent_stt *s, const struct vagent_frame *f,
		     const struct vagent_speech_truth *truth)
{
	struct fault_stt *w = (struct fault_stt *)s;

	if (w->stopped || !w->inner->ops->audio)
		return;
	stt_sync(w);
	w->in_call++;
	w->inner->ops->audio(w->inner, f, truth);
	w->in_call--;
}

static void fs_speech(struct vagent_stt *s, bool started, int64_t pts)
{
	struct fault_stt *w = (struct fault_stt *)s;

	if (w->stopped || !w->inner->ops->speech)
		return;
	stt_sync(w);
	w->in_call++;
	w->inner->ops->speech(w->inner, started, pts);
	w->in_call--;
}

static void fs_turn_end(struct vagent_stt *s, int64_t pts)
{
	struct fault_stt *w = (struct fault_stt *)s;

	if (w->stopped || !w->inner->ops->turn_end)
		return;
	stt_sync(w);
	w->in_call++;
	w->inner->ops->turn_end(w->inner, pts);
	w->in_call--;
}

static void fs_stop(struct vagent_stt *s)
{
	struct fault_stt *w = (struct fault_stt *)s;

	w->stopped = true;
	queue_clear(&w->q);
	vagent_timer_stop(w->timer);
	stt_inner_stop(w);
}

static void fs_free(struct vagent_stt *s)
{
	struct fault_stt *w = (struct fault_stt *)s;

	fs_stop(s);
	w->freeing = true;
	if (!w->busy)
		stt_destroy(w);
}

static const struct vagent_stt_ops fault_stt_ops = {
	.audio = fs_audio,
	.speech = fs_speech,
	.turn_end = fs_turn_end,
	.stop = fs_stop,
	.free = fs_free,
};

vagent_status vagent_fault_stt_new(struct vagent_stt *inner,
				   const struct vagent_fault *faults,
				   size_t n_faults, uint64_t seed,
				   struct vagent_stt **out,
				   struct vagent_error *err)
{
	struct fault_stt *w;
	vagent_status st;

	if (!out)
		return vagent__error_set(err, VAGENT_EINVAL, "fault",
					 "no output pointer");
	*out = NULL;
	if (!inner || !inner->ops)
		return vagent__error_set(err, VAGENT_EINVAL, "fault",
					 "no recogniser to wrap");
	w = calloc(1, sizeof(*w));
	if (!w)
		return vagent__error_set(err, VAGENT_ENOMEM, inner->name,
					 "out of memory");
	copy_name(w->base.name, inner->name);
	st = faults_take(w->base.name, "stt", faults, n_faults, &w->faults, err);
	if (st != VAGENT_OK) {
		free(w);
		return st;
	}
	w->n_faults = n_faults;
	w->base.ops = &fault_stt_ops;
	w->inner = inner;
	vagent__rng_seed(&w->rng, seed, STREAM_WRONG_WORDS);
	inner->on_partial = fs_partial;
	inner->on_first_byte = fs_first_byte;
	inner->on_final = fs_final;
	inner->on_error = fs_error;
	inner->ctx = w;
	*out = &w->base;
	return VAGENT_OK;
}
