/*
 * sim_tts.c — the simulated speech synthesiser: speech-like audio for the
 * text (vagent_speechlike_synth), delivered in chunk_ms chunks, the first
 * after a seeded first-byte latency and the next ones at realtime_factor
 * times real time; faults per request (docs/simulation.md).
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "audio/audio_int.h"
#include "sim/sim_int.h"

/* Mixed into the seed per call, so each sentence sounds different. */
#define CALL_SEED_MIX UINT64_C(0x9E3779B97F4A7C15)

enum req_state {
	REQ_STREAM,     /* the timer fires at each chunk */
	REQ_ERROR,      /* the timer fires with the injected error */
	REQ_MALFORMED,  /* the timer fires with the malformed-chunk error */
	REQ_TIMEOUT,    /* never answers */
};

struct sim_tts;

struct tts_req {
	struct vagent__sim_req base;
	struct sim_tts *p;
	enum req_state state;
	struct vagent_fault fault;      /* kind NONE: healthy */
	int16_t *pcm;
	size_t n, pos;                  /* samples; samples sent */
	size_t chunk;                   /* samples per chunk */
	size_t after;                   /* STALL/DISCONNECT: samples */
	int64_t at;                     /* loop time the timer is due */
	bool stalled;
	struct synth_job *job;          /* synthesis running on a worker */
};

/*
 * Synthesis off the loop thread (real clock): the job owns its inputs and
 * output; the request and the job point at each other until the job's
 * done callback (loop thread) hands the audio over or finds the request
 * gone (job->r NULL).
 */
struct synth_job {
	struct tts_req *r;
	char *text;
	int rate;
	uint64_t seed;
	struct vagent_audio *audio;
	vagent_status st;
	struct vagent_error err;
};

struct sim_tts {
	struct vagent_tts base;
	struct vagent_latency first_byte;
	int chunk_ms;
	int64_t interval;               /* ticks between chunks */
	struct vagent_fault *faults;
	size_t n_faults;
	uint64_t seed;
	struct vagent__rng rng;
	int calls;
	struct vagent__sim_reqs reqs;
};

struct vagent_sim_tts_config vagent_sim_tts_config_default(void)
{
	struct vagent_sim_tts_config c;

	memset(&c, 0, sizeof(c));
	strcpy(c.name, "sim-tts");
	c.first_byte.base_ms = 120;
	c.first_byte.jitter_ms = 40;
	c.realtime_factor = 5;
	c.chunk_ms = 100;
	return c;
}

static void req_free(struct vagent__sim_req *b)
{
	struct tts_req *r = (struct tts_req *)b;

	if (r->job)
		r->job->r = NULL;       /* the job frees itself when done */
	vagent_timer_free(r->base.timer);
	free(r->pcm);
	free(r);
}

static void tts_destroy(struct sim_tts *p)
{
	free(p->faults);
	free(p);
}

static void sweep(struct sim_tts *p)
{
	if (vagent__sim_reqs_sweep(&p->reqs, req_free))
		tts_destroy(p);
}

static void fail(struct tts_req *r, vagent_status st, const char *what)
{
	struct sim_tts *p = r->p;
	char msg[160];

	snprintf(msg, sizeof(msg), "%s: %s", p->base.name, what);
	vagent__sim_req_end(&r->base);
	p->base.on_error(p->base.ctx, r->base.id, st, msg);
}

static void arm(struct tts_req *r, int64_t at)
{
	r->at = at;
	if (vagent_timer_start_at(r->base.timer, at, 0, NULL) != VAGENT_OK)
		fail(r, VAGENT_ENOMEM, "out of memory");
}

/*
 * One instant of the stream: stall, fail, or send one chunk (finishing
 * after the last). The stall and disconnect points are checked when a
 * chunk is due and before on_done.
 */
static void stream_step(struct tts_req *r)
{
	struct sim_tts *p = r->p;

	for (;;) {
		const int16_t *s;
		size_t k;

		if (r->fault.kind == VAGENT_FAULT_STALL && !r->stalled &&
		    r->pos >= r->after && r->after <= r->n) {
			r->stalled = true;
			arm(r, r->at + vagent_ticks_from_ms(r->fault.delay_ms));
			return;
		}
		if (r->fault.kind == VAGENT_FAULT_DISCONNECT &&
		    r->pos >= r->after && r->after <= r->n) {
			fail(r, VAGENT_EPROTO, "stream closed mid-audio (injected)");
			return;
		}
		if (r->pos >= r->n) {
			vagent__sim_req_end(&r->base);
			p->base.on_done(p->base.ctx, r->base.id);
			return;
		}
		k = r->n - r->pos < r->chunk ? r->n - r->pos : r->chunk;
		s = r->pcm + r->pos;
		r->pos += k;
		p->base.on_audio(p->base.ctx, r->base.id, s, k);
		if (r->base.dead)
			return;
		if (r->pos < r->n) {
			arm(r, r->at + p->interval);
			return;
		}
	}
}

static void on_timer(struct vagent_timer *t, void *arg)
{
	struct tts_req *r = arg;
	struct sim_tts *p = r->p;
	char what[96];

	(void)t;
	p->reqs.busy++;
	switch (r->state) {
	case REQ_STREAM:
		stream_step(r);
		break;
	case REQ_ERROR:
		snprintf(what, sizeof(what), "HTTP %d (injected error)",
			 r->fault.http_status ? r->fault.http_status : 500);
		fail(r, VAGENT_EPROVIDER, what);
		break;
	case REQ_MALFORMED:
		fail(r, VAGENT_EPROTO, "malformed audio chunk (injected)");
		break;
	case REQ_TIMEOUT:
		break;
	}
	p->reqs.busy--;
	sweep(p);
}

/* Take `a` (transfer full) as the request's int16 audio (mono: the
 * first channel). */
static vagent_status take_audio(struct sim_tts *p, struct tts_req *r,
				struct vagent_audio *a, struct vagent_error *err)
{
	size_t i;

	r->n = a ? a->frames : 0;
	r->pcm = malloc((r->n ? r->n : 1) * sizeof(*r->pcm));
	if (!r->pcm) {
		vagent_audio_free(a);
		return vagent__error_set(err, VAGENT_ENOMEM, p->base.name,
					 "out of memory");
	}
	for (i = 0; i < r->n; i++)
		r->pcm[i] = vagent__f2s(a->samples[i * (size_t)a->channels]);
	vagent_audio_free(a);
	return VAGENT_OK;
}

static void job_work(void *arg)
{
	struct synth_job *j = arg;

	j->st = vagent_speechlike_synth(j->text, j->rate, j->seed, &j->audio,
					&j->err);
}

static void job_done(void *arg, int64_t charged)
{
	struct synth_job *j = arg;
	struct tts_req *r = j->r;

	if (r && charged >= 0) {
		struct sim_tts *p = r->p;
		struct vagent_error err;

		r->job = NULL;
		p->reqs.busy++;
		if (j->st != VAGENT_OK) {
			fail(r, j->st, j->err.message);
		} else if (take_audio(p, r, j->audio, &err) != VAGENT_OK) {
			fail(r, VAGENT_ENOMEM, "out of memory");
		} else if (!r->base.dead) {
			/* first audio at its latency, or now if synthesis
			 * took longer */
			int64_t now = vagent_loop_now(p->base.loop);

			arm(r, r->at > now ? r->at : now);
		}
		j->audio = NULL;
		p->reqs.busy--;
		sweep(p);
	} else if (r) {
		r->job = NULL;
	}
	vagent_audio_free(j->audio);
	free(j->text);
	free(j);
}

/* Synthesise on a worker (real clock, a loop with workers): the timer is
 * armed when the audio is ready. false: do it here instead. */
static bool synth_async(struct sim_tts *p, struct tts_req *r, const char *text,
			int rate, uint64_t seed)
{
	struct synth_job *j;

	if (vagent_clock_type(vagent_loop_clock(p->base.loop)) != VAGENT_CLOCK_REAL)
		return false;
	j = calloc(1, sizeof(*j));
	if (!j)
		return false;
	j->text = strdup(text);
	j->rate = rate;
	j->seed = seed;
	j->r = r;
	if (!j->text || vagent_loop_submit(p->base.loop, job_work, job_done, j,
					   NULL) != VAGENT_OK) {
		free(j->text);
		free(j);
		return false;
	}
	r->job = j;
	return true;
}

/* The synthesised sentence as int16, here and now. */
static vagent_status synth(struct sim_tts *p, struct tts_req *r,
			   const char *text, int rate, uint64_t seed,
			   struct vagent_error *err)
{
	struct vagent_audio *a = NULL;
	vagent_status st;

	st = vagent_speechlike_synth(text, rate, seed, &a, err);
	if (st != VAGENT_OK)
		return st;
	return take_audio(p, r, a, err);
}

static vagent_status tts_speak(struct vagent_tts *t, uint64_t id,
			       const char *text, int rate,
			       struct vagent_error *err)
{
	struct sim_tts *p = (struct sim_tts *)t;
	const struct vagent_fault *f;
	struct tts_req *r;
	vagent_status st;
	int64_t now, first;
	uint64_t seed;

	if (!text)
		return vagent__error_set(err, VAGENT_EINVAL, t->name, "no text");
	if (rate <= 0)
		return vagent__error_set(err, VAGENT_EINVAL, t->name,
					 "bad sample rate %d", rate);
	if (!t->loop || !t->on_audio || !t->on_done || !t->on_error)
		return vagent__error_set(err, VAGENT_EINVAL, t->name,
					 "loop or callbacks not set");
	r = calloc(1, sizeof(*r));
	if (!r)
		return vagent__error_set(err, VAGENT_ENOMEM, t->name,
					 "out of memory");
	r->p = p;
	r->base.id = id;
	r->base.timer = vagent_timer_new(t->loop, on_timer, r);
	if (!r->base.timer) {
		req_free(&r->base);
		return vagent__error_set(err, VAGENT_ENOMEM, t->name,
					 "out of memory");
	}
	p->calls++;
	r->chunk = vagent_frame_samples_for(rate, p->chunk_ms);
	if (r->chunk == 0)
		r->chunk = 1;
	first = vagent__latency_draw(&p->rng, &p->first_byte);
	f = vagent__fault_match(p->faults, p->n_faults, p->calls);
	if (f)
		r->fault = *f;
	r->after = (size_t)((int64_t)rate * r->fault.after / 1000);
	now = vagent_loop_now(t->loop);
	r->at = now + first;
	switch (r->fault.kind) {
	case VAGENT_FAULT_TIMEOUT:
		r->state = REQ_TIMEOUT;
		break;
	case VAGENT_FAULT_ERROR:
		r->state = REQ_ERROR;
		r->at = now + vagent_ticks_from_ms(r->fault.delay_ms);
		break;
	case VAGENT_FAULT_MALFORMED:
		r->state = REQ_MALFORMED;
		break;
	case VAGENT_FAULT_DELAY:
		r->at += vagent_ticks_from_ms(r->fault.delay_ms);
		r->state = REQ_STREAM;
		break;
	default:
		r->state = REQ_STREAM;
		break;
	}
	seed = p->seed ^ ((uint64_t)p->calls * CALL_SEED_MIX);
	if (r->state == REQ_STREAM && vagent_speechlike_duration_ms(text) > 0) {
		if (synth_async(p, r, text, rate, seed)) {
			vagent__sim_req_add(&p->reqs, &r->base);
			return VAGENT_OK;       /* armed when the audio is ready */
		}
		st = synth(p, r, text, rate, seed, err);
		if (st != VAGENT_OK) {
			req_free(&r->base);
			return st;
		}
	}
	if (r->state != REQ_TIMEOUT &&
	    vagent_timer_start_at(r->base.timer, r->at, 0, err) != VAGENT_OK) {
		req_free(&r->base);
		return err ? err->status : VAGENT_ENOMEM;
	}
	vagent__sim_req_add(&p->reqs, &r->base);
	return VAGENT_OK;
}

static void tts_cancel(struct vagent_tts *t, uint64_t id)
{
	struct sim_tts *p = (struct sim_tts *)t;

	vagent__sim_reqs_cancel(&p->reqs, id);
	sweep(p);
}

static void tts_stop(struct vagent_tts *t)
{
	struct sim_tts *p = (struct sim_tts *)t;

	vagent__sim_reqs_end_all(&p->reqs);
	sweep(p);
}

static void tts_free(struct vagent_tts *t)
{
	struct sim_tts *p = (struct sim_tts *)t;

	vagent__sim_reqs_end_all(&p->reqs);
	p->reqs.freeing = true;
	sweep(p);
}

static const struct vagent_tts_ops tts_ops = {
	.speak = tts_speak,
	.cancel = tts_cancel,
	.stop = tts_stop,
	.free = tts_free,
};

vagent_status vagent_sim_tts_new(const struct vagent_sim_tts_config *cfg,
				 struct vagent_tts **out,
				 struct vagent_error *err)
{
	struct sim_tts *p;
	vagent_status st;
	double interval;

	if (!out)
		return vagent__error_set(err, VAGENT_EINVAL, "sim-tts",
					 "no output pointer");
	*out = NULL;
	if (!cfg)
		return vagent__error_set(err, VAGENT_EINVAL, "sim-tts",
					 "no configuration");
	p = calloc(1, sizeof(*p));
	if (!p)
		return vagent__error_set(err, VAGENT_ENOMEM, "sim-tts",
					 "out of memory");
	p->base.ops = &tts_ops;
	vagent__sim_name(p->base.name, cfg->name, "sim-tts");
	st = vagent__latency_check(p->base.name, "first_byte", &cfg->first_byte,
				   err);
	if (st != VAGENT_OK)
		goto fail;
	p->first_byte = cfg->first_byte;
	if (cfg->chunk_ms <= 0 || cfg->chunk_ms > 60000) {
		st = vagent__error_set(err, VAGENT_EINVAL, p->base.name,
				       "chunk_ms: must be 1..60000 (got %d)",
				       cfg->chunk_ms);
		goto fail;
	}
	p->chunk_ms = cfg->chunk_ms;
	interval = (double)cfg->chunk_ms * (double)VAGENT_TICKS_PER_MS /
		   cfg->realtime_factor;
	if (!(cfg->realtime_factor > 0) || !(interval >= 1) || interval > 1e15) {
		st = vagent__error_set(err, VAGENT_EINVAL, p->base.name,
				       "realtime_factor: must be > 0 (got %g)",
				       cfg->realtime_factor);
		goto fail;
	}
	p->interval = llround(interval);
	st = vagent__faults_check_slot(p->base.name, "faults", cfg->faults,
				       cfg->n_faults, "sim-tts", err);
	if (st != VAGENT_OK)
		goto fail;
	st = vagent__faults_copy(p->base.name, "faults", cfg->faults,
				 cfg->n_faults, &p->faults, err);
	if (st != VAGENT_OK)
		goto fail;
	p->n_faults = cfg->n_faults;
	p->seed = cfg->seed;
	vagent__rng_seed(&p->rng, cfg->seed, VAGENT__SIM_STREAM_TTS);
	*out = &p->base;
	return VAGENT_OK;
fail:
	tts_destroy(p);
	return st;
}
