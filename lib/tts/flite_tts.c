/*
 * flite_tts.c — the flite TTS provider for the session's TTS slot: each
 * sentence is synthesised on a loop worker, streamed chunk by chunk as
 * flite makes it, resampled to the call's rate on the worker, and handed
 * to the loop thread (real clock: at once; virtual clock: at the compute
 * time each chunk took). docs/tts.md explains the timing.
 */
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "audio/audio_int.h"
#include "loop/loop_int.h"
#include "sim/sim_int.h"
#include "tts/tts_int.h"

/* Audio made by a job: `at` is the compute time (ticks) from the start of
 * the job to the moment the chunk was ready. */
struct chunk {
	struct chunk *next;
	int64_t at;
	size_t n;
	int16_t pcm[];
};

struct flite_tts;
struct synth_job;

struct flite_req {
	struct vagent__sim_req base;    /* id, timer, dead */
	struct flite_tts *p;
	struct synth_job *job;          /* until the job's done callback */
	/* Virtual clock: chunks waiting for their time t0 + at, and the
	 * outcome, reported at t0 + total. */
	struct chunk *chunks;
	int64_t t0, total;
	vagent_status st;
	char message[512];
	bool finished;                  /* the job ended: chunks/outcome known */
};

/*
 * One synthesis. The worker reads the inputs and appends chunks under
 * `lock`; everything else is the loop thread's. `r` and the request's
 * `job` point at each other until the done callback or until the request
 * goes (r NULL, cancelled set).
 */
struct synth_job {
	struct synth_job *next_live;
	uint64_t serial;
	/* inputs */
	const struct vagent__flite_voice *voice;
	char *text;
	double stretch;
	int chunk_samples;
	struct vagent_resampler *rs;    /* NULL at the native rate */
	struct vagent_loop *loop;
	bool post_chunks;               /* real clock: post as they come */
	clockid_t clock;
	bool free_compute;              /* the loop's VAGENT_JOB_FREE */
	/* worker */
	int64_t start_ns;
	atomic_bool cancelled;
	bool oom;
	vagent_status st;
	struct vagent_error err;
	int64_t total;
	/* worker → loop */
	pthread_mutex_t lock;
	struct chunk *head, *tail;
	/* loop thread */
	struct flite_req *r;
};

struct flite_tts {
	struct vagent_tts base;
	const struct vagent__flite_voice *voice;
	double stretch;
	int chunk_samples;
	int spell_digits_min;
	struct vagent__sim_reqs reqs;
};

/*
 * Jobs whose chunks may still be announced by a post. A post carries the
 * job's serial number, not a pointer: a post that runs after its job is
 * gone finds nothing, and one the loop drops when it is freed leaks
 * nothing.
 */
static pthread_mutex_t live_lock = PTHREAD_MUTEX_INITIALIZER;
static struct synth_job *live_head;
static uint64_t live_serial;

static void live_add(struct synth_job *j)
{
	pthread_mutex_lock(&live_lock);
	j->serial = ++live_serial;
	j->next_live = live_head;
	live_head = j;
	pthread_mutex_unlock(&live_lock);
}

static void live_remove(struct synth_job *j)
{
	pthread_mutex_lock(&live_lock);
	for (struct synth_job **pp = &live_head; *pp; pp = &(*pp)->next_live) {
		if (*pp == j) {
			*pp = j->next_live;
			break;
		}
	}
	pthread_mutex_unlock(&live_lock);
}

static struct synth_job *live_find(uint64_t serial)
{
	struct synth_job *j;

	pthread_mutex_lock(&live_lock);
	for (j = live_head; j && j->serial != serial; j = j->next_live)
		;
	pthread_mutex_unlock(&live_lock);
	return j;
}

struct vagent_flite_config vagent_flite_config_default(void)
{
	struct vagent_flite_config c;

	memset(&c, 0, sizeof(c));
	strcpy(c.name, "flite");
	c.voice = "slt";
	c.speed = 1.0;
	c.chunk_ms = 50;
	c.spell_digits_min = 5;
	return c;
}

static void chunks_free(struct chunk *c)
{
	while (c) {
		struct chunk *next = c->next;

		free(c);
		c = next;
	}
}

static void job_free(struct synth_job *j)
{
	chunks_free(j->head);
	vagent_resampler_free(j->rs);
	pthread_mutex_destroy(&j->lock);
	free(j->text);
	free(j);
}

static void on_timer(struct vagent_timer *t, void *arg);

/* The request is gone or cancelled: stop its synthesis at the next chunk
 * and forget it. */
static void job_detach(struct flite_req *r)
{
	if (r->job) {
		atomic_store(&r->job->cancelled, true);
		r->job->r = NULL;
		r->job = NULL;
	}
}

static void req_free(struct vagent__sim_req *b)
{
	struct flite_req *r = (struct flite_req *)b;

	job_detach(r);
	vagent_timer_free(r->base.timer);
	chunks_free(r->chunks);
	free(r);
}

static void req_end(struct flite_req *r)
{
	r->base.dead = true;
	if (r->base.timer)
		vagent_timer_stop(r->base.timer);
	job_detach(r);
}

/*
 * Start the request's timer for `at`, creating it on first use. Created
 * only when needed and while the loop lives: a request outlives its loop
 * when the session frees the loop before its providers.
 */
static vagent_status arm(struct flite_req *r, int64_t at, struct vagent_error *err)
{
	struct flite_tts *p = r->p;

	if (!r->base.timer)
		r->base.timer = vagent_timer_new(p->base.loop, on_timer, r);
	if (!r->base.timer)
		return vagent__error_set(err, VAGENT_ENOMEM, p->base.name, "out of memory");
	return vagent_timer_start_at(r->base.timer, at, 0, err);
}

static void sweep(struct flite_tts *p)
{
	if (vagent__sim_reqs_sweep(&p->reqs, req_free))
		free(p);
}

/* ---- worker side */

static int64_t job_elapsed(const struct synth_job *j)
{
	if (j->free_compute)
		return 0;
	return vagent__ns_to_ticks(vagent__clock_ns(j->clock) - j->start_ns);
}

static void on_posted(void *arg);

/* Real clock: have the loop thread deliver the queued chunks now. A failed
 * post only delays them to the job's done callback. */
static void job_announce(struct synth_job *j)
{
	(void)vagent_loop_post(j->loop, on_posted, (void *)(uintptr_t)j->serial);
}

/* Resample (when needed) and queue one piece of native audio. */
static bool job_chunk(void *arg, const int16_t *pcm, size_t n, bool last)
{
	struct synth_job *j = arg;
	float *in = NULL, *out = NULL;
	size_t cap = 0, got = 0, tail = 0;
	struct chunk *c;

	if (atomic_load(&j->cancelled))
		return false;
	if (j->rs) {
		cap = vagent_resampler_max_output(j->rs, n) +
		      (last ? vagent_resampler_max_output(j->rs, 0) : 0);
		in = malloc((n ? n : 1) * sizeof(*in));
		out = malloc((cap ? cap : 1) * sizeof(*out));
		if (!in || !out)
			goto oom;
		for (size_t i = 0; i < n; i++)
			in[i] = vagent__s2f(pcm[i]);
		if (vagent_resampler_process(j->rs, in, n, out, cap, &got) != VAGENT_OK)
			goto oom;
		if (last && vagent_resampler_flush(j->rs, out + got, cap - got,
						   &tail) != VAGENT_OK)
			goto oom;
		got += tail;
	} else {
		got = n;
	}
	if (got) {
		c = malloc(sizeof(*c) + got * sizeof(c->pcm[0]));
		if (!c)
			goto oom;
		c->next = NULL;
		c->n = got;
		for (size_t i = 0; i < got; i++)
			c->pcm[i] = out ? vagent__f2s(out[i]) : pcm[i];
		c->at = job_elapsed(j);
		pthread_mutex_lock(&j->lock);
		if (j->tail)
			j->tail->next = c;
		else
			j->head = c;
		j->tail = c;
		pthread_mutex_unlock(&j->lock);
	}
	free(in);
	free(out);
	if (got && j->post_chunks)
		job_announce(j);
	return !atomic_load(&j->cancelled);
oom:
	free(in);
	free(out);
	j->oom = true;
	return false;
}

static void job_work(void *arg)
{
	struct synth_job *j = arg;

	j->start_ns = vagent__clock_ns(j->clock);
	j->st = vagent__flite_run(j->voice, j->text, j->stretch,
				  j->chunk_samples, job_chunk, j, &j->err);
	if (j->st == VAGENT_OK && j->oom)
		j->st = vagent__error_set(&j->err, VAGENT_ENOMEM, "flite",
					  "out of memory");
	j->total = job_elapsed(j);
}

/* ---- loop side */

static struct chunk *job_take(struct synth_job *j)
{
	struct chunk *c;

	pthread_mutex_lock(&j->lock);
	c = j->head;
	j->head = j->tail = NULL;
	pthread_mutex_unlock(&j->lock);
	return c;
}

/* Hand `c` (transfer full) to on_audio in order while the request lives.
 * The caller holds p->reqs.busy. */
static void deliver(struct flite_req *r, struct chunk *c)
{
	struct flite_tts *p = r->p;

	while (c) {
		struct chunk *next = c->next;

		if (!r->base.dead)
			p->base.on_audio(p->base.ctx, r->base.id, c->pcm, c->n);
		free(c);
		c = next;
	}
}

/* The request's end: on_done, or on_error with its message. The caller
 * holds p->reqs.busy. */
static void finish(struct flite_req *r, vagent_status st, const char *message)
{
	struct flite_tts *p = r->p;

	if (r->base.dead)
		return;
	req_end(r);
	if (st == VAGENT_OK)
		p->base.on_done(p->base.ctx, r->base.id);
	else
		p->base.on_error(p->base.ctx, r->base.id, st, message);
}

/* Real clock: a worker announced chunks (posted with the job's serial). */
static void on_posted(void *arg)
{
	struct synth_job *j = live_find((uint64_t)(uintptr_t)arg);
	struct flite_req *r;
	struct flite_tts *p;

	if (!j)
		return;
	r = j->r;
	if (!r) {
		chunks_free(job_take(j));
		return;
	}
	p = r->p;
	p->reqs.busy++;
	deliver(r, job_take(j));
	p->reqs.busy--;
	sweep(p);
}

/* Virtual clock: the next instant of the request's timeline. */
static void on_timer(struct vagent_timer *t, void *arg)
{
	struct flite_req *r = arg;
	struct flite_tts *p = r->p;
	int64_t now = vagent_loop_now(p->base.loop);

	(void)t;
	p->reqs.busy++;
	while (r->chunks && r->t0 + r->chunks->at <= now && !r->base.dead) {
		struct chunk *c = r->chunks;

		r->chunks = c->next;
		c->next = NULL;
		deliver(r, c);
	}
	if (!r->base.dead && r->finished) {
		int64_t next = r->chunks ? r->t0 + r->chunks->at : r->t0 + r->total;

		if (next > now) {
			if (arm(r, next, NULL) != VAGENT_OK)
				finish(r, VAGENT_ENOMEM, "flite: out of memory");
		} else if (!r->chunks) {
			finish(r, r->st, r->message);
		}
	}
	p->reqs.busy--;
	sweep(p);
}

static void reserve_work(void *arg)
{
	(void)arg;
}

static void reserve_done(void *arg, int64_t charged)
{
	(void)arg;
	(void)charged;
}

static void job_done(void *arg, int64_t charged)
{
	struct synth_job *j = arg;
	struct flite_req *r = j->r;
	struct flite_tts *p;

	live_remove(j);
	if (!r || charged < 0) {
		if (r)
			r->job = NULL;
		job_free(j);
		return;
	}
	p = r->p;
	r->job = NULL;
	j->r = NULL;
	p->reqs.busy++;
	if (j->post_chunks) {
		/* Real clock: the rest of the chunks, then the end. */
		deliver(r, job_take(j));
		finish(r, j->st, j->err.message);
	} else {
		/*
		 * Virtual clock: the job was submitted at no cost, so this
		 * runs when it started in virtual time (t0); each chunk is
		 * delivered at t0 + the compute time it took, the end at
		 * t0 + the whole synthesis. A job of the measured cost keeps
		 * a worker busy meanwhile, so other work queues behind it.
		 */
		r->chunks = job_take(j);
		r->t0 = vagent_loop_now(p->base.loop);
		r->total = j->total;
		r->st = j->st;
		snprintf(r->message, sizeof(r->message), "%s", j->err.message);
		r->finished = true;
		if (j->total > 0)
			(void)vagent_loop_submit_cost(p->base.loop, reserve_work,
						      reserve_done, NULL, j->total,
						      NULL);
		if (arm(r, r->chunks ? r->t0 + r->chunks->at : r->t0 + r->total,
			NULL) != VAGENT_OK)
			finish(r, VAGENT_ENOMEM, "flite: out of memory");
	}
	p->reqs.busy--;
	job_free(j);
	sweep(p);
}

static vagent_status job_start(struct flite_tts *p, struct flite_req *r,
			       const char *text, int rate,
			       struct vagent_error *err)
{
	struct vagent_loop *loop = p->base.loop;
	bool real = vagent_clock_type(vagent_loop_clock(loop)) == VAGENT_CLOCK_REAL;
	struct synth_job *j;
	vagent_status st;

	j = calloc(1, sizeof(*j));
	if (!j)
		return vagent__error_set(err, VAGENT_ENOMEM, p->base.name,
					 "out of memory");
	pthread_mutex_init(&j->lock, NULL);
	atomic_init(&j->cancelled, false);
	j->voice = p->voice;
	j->stretch = p->stretch;
	j->chunk_samples = p->chunk_samples;
	j->loop = loop;
	j->post_chunks = real;
	j->free_compute = loop->job_clock == VAGENT_JOB_FREE;
	j->clock = loop->job_clock == VAGENT_JOB_THREAD_CPU ?
		   CLOCK_THREAD_CPUTIME_ID : CLOCK_MONOTONIC;
	st = vagent_flite_normalize(text, p->spell_digits_min, &j->text, err);
	if (st != VAGENT_OK)
		goto fail;
	if (rate != vagent__flite_voice_rate(p->voice)) {
		struct vagent_resampler_config rc = vagent_resampler_config_default();

		rc.in_rate = vagent__flite_voice_rate(p->voice);
		rc.out_rate = rate;
		st = vagent_resampler_new(&rc, &j->rs, err);
		if (st != VAGENT_OK)
			goto fail;
	}
	live_add(j);
	if (real)
		st = vagent_loop_submit(loop, job_work, job_done, j, err);
	else
		st = vagent_loop_submit_cost(loop, job_work, job_done, j, 0, err);
	if (st != VAGENT_OK) {
		live_remove(j);
		if (st == VAGENT_EINVAL)
			vagent__error_set(err, st, p->base.name,
					  "the loop has no worker threads "
					  "(synthesis never runs on the loop thread)");
		goto fail;
	}
	j->r = r;
	r->job = j;
	return VAGENT_OK;
fail:
	job_free(j);
	return st;
}

static vagent_status tts_speak(struct vagent_tts *t, uint64_t id,
			       const char *text, int rate,
			       struct vagent_error *err)
{
	struct flite_tts *p = (struct flite_tts *)t;
	struct flite_req *r;
	vagent_status st;

	if (!text)
		return vagent__error_set(err, VAGENT_EINVAL, t->name, "no text");
	if (rate < 1000 || rate > 384000)
		return vagent__error_set(err, VAGENT_EINVAL, t->name,
					 "bad sample rate %d Hz (1000..384000)", rate);
	if (strlen(text) > VAGENT__FLITE_MAX_TEXT)
		return vagent__error_set(err, VAGENT_EINVAL, t->name,
					 "text too long (%zu bytes; at most %d)",
					 strlen(text), VAGENT__FLITE_MAX_TEXT);
	if (!t->loop || !t->on_audio || !t->on_done || !t->on_error)
		return vagent__error_set(err, VAGENT_EINVAL, t->name,
					 "loop or callbacks not set");
	r = calloc(1, sizeof(*r));
	if (!r)
		return vagent__error_set(err, VAGENT_ENOMEM, t->name, "out of memory");
	r->p = p;
	r->base.id = id;
	if (vagent__flite_blank(text)) {
		/* Nothing to say: done, from the loop, with no audio. */
		r->finished = true;
		r->t0 = vagent_loop_now(t->loop);
		st = arm(r, r->t0, err);
	} else {
		st = job_start(p, r, text, rate, err);
	}
	if (st != VAGENT_OK) {
		req_free(&r->base);
		return st;
	}
	vagent__sim_req_add(&p->reqs, &r->base);
	return VAGENT_OK;
}

static void tts_cancel(struct vagent_tts *t, uint64_t id)
{
	struct flite_tts *p = (struct flite_tts *)t;

	for (struct vagent__sim_req *b = p->reqs.head; b; b = b->next)
		if (b->id == id)
			req_end((struct flite_req *)b);
	sweep(p);
}

static void tts_stop(struct vagent_tts *t)
{
	struct flite_tts *p = (struct flite_tts *)t;

	for (struct vagent__sim_req *b = p->reqs.head; b; b = b->next)
		req_end((struct flite_req *)b);
	sweep(p);
}

static void tts_free(struct vagent_tts *t)
{
	struct flite_tts *p = (struct flite_tts *)t;

	tts_stop(t);
	p->reqs.freeing = true;
	sweep(p);
}

static const struct vagent_tts_ops tts_ops = {
	.speak = tts_speak,
	.cancel = tts_cancel,
	.stop = tts_stop,
	.free = tts_free,
};

vagent_status vagent_flite_tts_new(const struct vagent_flite_config *cfg,
				   struct vagent_tts **out,
				   struct vagent_error *err)
{
	const struct vagent__flite_voice *v;
	struct flite_tts *p;

	if (!out)
		return vagent__error_set(err, VAGENT_EINVAL, "flite",
					 "no output pointer");
	*out = NULL;
	if (!cfg)
		return vagent__error_set(err, VAGENT_EINVAL, "flite",
					 "no configuration");
	if (!(cfg->speed >= 0.25 && cfg->speed <= 4))
		return vagent__error_set(err, VAGENT_EINVAL, "flite",
					 "speed: must be 0.25..4 (got %g)", cfg->speed);
	if (cfg->chunk_ms < 10 || cfg->chunk_ms > 1000)
		return vagent__error_set(err, VAGENT_EINVAL, "flite",
					 "chunk_ms: must be 10..1000 (got %d)",
					 cfg->chunk_ms);
	if (cfg->spell_digits_min < 0)
		return vagent__error_set(err, VAGENT_EINVAL, "flite",
					 "spell_digits_min: must be >= 0 (got %d)",
					 cfg->spell_digits_min);
	v = vagent__flite_voice(cfg->voice, err);
	if (!v)
		return err ? err->status : VAGENT_EINVAL;
	p = calloc(1, sizeof(*p));
	if (!p)
		return vagent__error_set(err, VAGENT_ENOMEM, "flite", "out of memory");
	p->base.ops = &tts_ops;
	vagent__sim_name(p->base.name, cfg->name, "flite");
	p->voice = v;
	p->stretch = 1.0 / cfg->speed;
	p->chunk_samples = (int)vagent_frame_samples_for(vagent__flite_voice_rate(v),
							 cfg->chunk_ms);
	p->spell_digits_min = cfg->spell_digits_min;
	*out = &p->base;
	return VAGENT_OK;
}
