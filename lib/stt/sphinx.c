/*
 * sphinx.c — the pocketsphinx speech recogniser as a `struct vagent_stt`
 * provider (docs/stt.md). The loop thread only queues audio: every 20 ms
 * frame goes through the front end (8 kHz: upsampled, band filled) into a
 * queue, and one worker job at a time per decoder decodes what queued
 * meanwhile. Utterances follow the session's VAD: one opens at a speech
 * start (with the last few hundred ms of audio before it, so the VAD's
 * onset delay does not clip the first phoneme) and closes at the speech
 * end, or at turn_end if that comes first; its final is sent when the
 * decoder has finished it. Partials come every partial_interval_ms while
 * an utterance is open, when the hypothesis changed.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "stt/stt_int.h"

#define PREROLL_MS       200     /* audio kept before the VAD's onset */
#define RING_MS          1000    /* the pre-roll ring's capacity */

/* A piece of work for the decoder: start an utterance and/or decode
 * audio and/or end it. Batches run in order, one job each. */
struct batch {
	struct batch *next;
	bool start, end;
	int16_t *samples;
	size_t len, cap;
};

struct sphinx_stt;

struct job {
	struct sphinx_stt *p;
	struct batch *b;
	bool want_partial;
	/* results (worker) */
	char *partial, *final;
	double confidence;
	bool failed;            /* pocketsphinx refused */
	bool oom;
};

struct sphinx_stt {
	struct vagent_stt base;
	struct vagent__sphinx *dec;
	struct vagent__stt_frontend *fe;
	int rate;
	int64_t interval;               /* ticks between partials */
	/* the front end's output for one frame */
	int16_t *conv;
	size_t conv_len, conv_cap;
	/* pre-roll: the last RING_MS of converted audio, outside utterances */
	int16_t *ring;
	size_t ring_cap, ring_len, ring_pos;
	int64_t last_end;               /* end pts of the latest frame */
	/* queued work, oldest first */
	struct batch *queue, *tail;
	bool in_utt;                    /* the queue's last batch is open */
	bool decoder_in_utt;            /* the decoder's state (done side) */
	struct job *job;                /* in flight, or NULL */
	int64_t next_partial;           /* loop time a partial is due */
	char *last_partial;
	/* an error to report from a timer (never inside the call) */
	struct vagent_timer *err_timer;
	vagent_status err_status;
	char err_msg[256];
	bool failed, stopped, freeing;
	bool in_done;                   /* inside job_done's callbacks */
};

static void batch_free(struct batch *b)
{
	if (b) {
		free(b->samples);
		free(b);
	}
}

static void queue_clear(struct sphinx_stt *p)
{
	while (p->queue) {
		struct batch *b = p->queue;

		p->queue = b->next;
		batch_free(b);
	}
	p->tail = NULL;
	p->in_utt = false;
}

static void job_free(struct job *j)
{
	if (!j)
		return;
	batch_free(j->b);
	free(j->partial);
	free(j->final);
	free(j);
}

static void destroy(struct sphinx_stt *p)
{
	queue_clear(p);
	vagent_timer_free(p->err_timer);
	vagent__sphinx_free(p->dec);
	vagent__stt_frontend_free(p->fe);
	free(p->conv);
	free(p->ring);
	free(p->last_partial);
	free(p);
}

static void on_err_timer(struct vagent_timer *t, void *arg)
{
	struct sphinx_stt *p = arg;

	(void)t;
	if (!p->stopped && p->base.on_error)
		p->base.on_error(p->base.ctx, p->err_status, p->err_msg);
}

/* Stop recognising and report `what` from a timer (soon, on the loop). */
static void fail_later(struct sphinx_stt *p, vagent_status st, const char *what)
{
	if (p->failed)
		return;
	p->failed = true;
	queue_clear(p);
	p->err_status = st;
	snprintf(p->err_msg, sizeof(p->err_msg), "%s: %s", p->base.name, what);
	if (!p->err_timer)
		p->err_timer = vagent_timer_new(p->base.loop, on_err_timer, p);
	if (p->err_timer)
		vagent_timer_start(p->err_timer, 0, 0, NULL);
}

static struct batch *batch_new(struct sphinx_stt *p)
{
	struct batch *b = calloc(1, sizeof(*b));

	if (!b)
		return NULL;
	if (p->tail)
		p->tail->next = b;
	else
		p->queue = b;
	p->tail = b;
	return b;
}

static bool batch_append(struct batch *b, const int16_t *s, size_t n)
{
	if (b->len + n > b->cap) {
		size_t nc = b->cap ? b->cap : 4096;
		int16_t *ns;

		while (nc < b->len + n)
			nc *= 2;
		ns = realloc(b->samples, nc * sizeof(*ns));
		if (!ns)
			return false;
		b->samples = ns;
		b->cap = nc;
	}
	memcpy(b->samples + b->len, s, n * sizeof(*s));
	b->len += n;
	return true;
}

/* ---- the worker side ---- */

static void job_work(void *arg)
{
	struct job *j = arg;
	ps_decoder_t *ps = j->p->dec->ps;
	struct batch *b = j->b;

	if (b->start && ps_start_utt(ps) < 0) {
		j->failed = true;
		return;
	}
	if (b->len && ps_process_raw(ps, b->samples, b->len, FALSE, FALSE) < 0) {
		j->failed = true;
		return;
	}
	if (b->end) {
		if (ps_end_utt(ps) < 0) {
			j->failed = true;
			return;
		}
		j->final = vagent__sphinx_final(j->p->dec, &j->confidence);
		j->oom = !j->final;
	} else if (j->want_partial) {
		j->partial = vagent__sphinx_hyp(j->p->dec);
		j->oom = !j->partial;
	}
}

static void pump(struct sphinx_stt *p);

static void job_done(void *arg, int64_t charged)
{
	struct job *j = arg;
	struct sphinx_stt *p = j->p;
	int64_t now;

	p->job = NULL;
	if (charged < 0) {
		/* cancelled: the loop is being freed; touch nothing of it */
		job_free(j);
		p->failed = true;
		if (p->freeing)
			destroy(p);
		return;
	}
	if (p->freeing) {
		job_free(j);
		destroy(p);
		return;
	}
	if (j->b->start)
		p->decoder_in_utt = true;
	if (j->b->end)
		p->decoder_in_utt = false;
	if (p->stopped || p->failed) {
		job_free(j);
		return;
	}
	if (j->failed || j->oom) {
		bool failed = j->failed;

		job_free(j);
		fail_later(p, failed ? VAGENT_EPROVIDER : VAGENT_ENOMEM,
			   failed ? "the decoder failed" : "out of memory");
		return;
	}
	now = vagent_loop_now(p->base.loop);
	p->in_done = true;      /* a callback may stop or free us */
	if (j->partial && *j->partial &&
	    (!p->last_partial || strcmp(j->partial, p->last_partial))) {
		free(p->last_partial);
		p->last_partial = j->partial;
		j->partial = NULL;
		p->next_partial = now + p->interval;
		p->base.on_partial(p->base.ctx, p->last_partial);
	} else if (j->want_partial) {
		p->next_partial = now + p->interval;
	}
	if (j->final && !p->stopped && !p->freeing) {
		free(p->last_partial);
		p->last_partial = NULL;
		p->base.on_final(p->base.ctx, j->final, j->confidence);
	}
	p->in_done = false;
	job_free(j);
	if (p->freeing) {
		destroy(p);
		return;
	}
	pump(p);
}

/* Submit the oldest batch when no job is running. An open batch is taken
 * too (the audio so far); later audio goes to a new batch. */
static void pump(struct sphinx_stt *p)
{
	struct job *j;
	struct batch *b = p->queue;
	struct vagent_error err;

	if (p->job || !b || p->failed || p->stopped)
		return;
	if (!b->start && !b->end && !b->len)
		return;
	j = calloc(1, sizeof(*j));
	if (!j) {
		fail_later(p, VAGENT_ENOMEM, "out of memory");
		return;
	}
	p->queue = b->next;
	if (p->tail == b)
		p->tail = NULL;
	b->next = NULL;
	j->p = p;
	j->b = b;
	j->want_partial = !b->end &&
			  vagent_loop_now(p->base.loop) >= p->next_partial;
	p->job = j;
	if (vagent_loop_submit(p->base.loop, job_work, job_done, j, &err) !=
	    VAGENT_OK) {
		p->job = NULL;
		job_free(j);
		fail_later(p, err.status, err.status == VAGENT_EINVAL ?
			   "the loop has no worker threads" : "out of memory");
	}
}

/* The batch audio goes to: the open one at the queue's end, else a new
 * open batch (the previous was taken by a job or ended). */
static struct batch *open_batch(struct sphinx_stt *p)
{
	if (p->tail && !p->tail->end)
		return p->tail;
	return batch_new(p);
}

/* ---- the loop side ---- */

static void ring_put(struct sphinx_stt *p, const int16_t *s, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++) {
		p->ring[p->ring_pos] = s[i];
		p->ring_pos = (p->ring_pos + 1) % p->ring_cap;
	}
	p->ring_len = p->ring_len + n > p->ring_cap ? p->ring_cap : p->ring_len + n;
}

static bool ring_take_last(struct sphinx_stt *p, size_t n, struct batch *b)
{
	size_t start, i;

	if (n > p->ring_len)
		n = p->ring_len;
	start = (p->ring_pos + p->ring_cap - n) % p->ring_cap;
	for (i = 0; i < n; i++) {
		int16_t s = p->ring[(start + i) % p->ring_cap];

		if (!batch_append(b, &s, 1))
			return false;
	}
	p->ring_len = 0;
	return true;
}

static bool usable(struct sphinx_stt *p)
{
	return !p->failed && !p->stopped && p->base.loop &&
	       p->base.on_partial && p->base.on_final && p->base.on_error;
}

static void stt_audio(struct vagent_stt *stt, const struct vagent_frame *f,
		      const struct vagent_speech_truth *truth)
{
	struct sphinx_stt *p = (struct sphinx_stt *)stt;
	int16_t mono[VAGENT_FRAME_MAX_SAMPLES];
	const int16_t *in = f ? f->samples : NULL;
	size_t i;

	(void)truth;
	if (!usable(p) || !f || !f->n)
		return;
	if (f->rate != p->rate) {
		char what[96];

		snprintf(what, sizeof(what),
			 "audio at %d Hz, configured for %d Hz", f->rate, p->rate);
		fail_later(p, VAGENT_EINVAL, what);
		return;
	}
	if (f->channels == 2) {
		for (i = 0; i < f->n; i++)
			mono[i] = (int16_t)(((int)f->samples[2 * i] +
					     (int)f->samples[2 * i + 1]) / 2);
		in = mono;
	}
	p->last_end = vagent_frame_end(f);
	p->conv_len = 0;
	if (!vagent__stt_frontend_process(p->fe, in, f->n, &p->conv,
					  &p->conv_len, &p->conv_cap)) {
		fail_later(p, VAGENT_ENOMEM, "out of memory");
		return;
	}
	if (!p->in_utt) {
		ring_put(p, p->conv, p->conv_len);
		return;
	}
	{
		struct batch *b = open_batch(p);

		if (!b || !batch_append(b, p->conv, p->conv_len)) {
			fail_later(p, VAGENT_ENOMEM, "out of memory");
			return;
		}
	}
	pump(p);
}

static void end_utterance(struct sphinx_stt *p)
{
	struct batch *b;

	if (!p->in_utt)
		return;
	b = open_batch(p);
	if (!b) {
		fail_later(p, VAGENT_ENOMEM, "out of memory");
		return;
	}
	b->end = true;
	p->in_utt = false;
	p->ring_len = 0;
	pump(p);
}

static void stt_speech(struct vagent_stt *stt, bool started, int64_t pts)
{
	struct sphinx_stt *p = (struct sphinx_stt *)stt;
	struct batch *b;
	int64_t back;

	if (!usable(p))
		return;
	if (!started) {
		end_utterance(p);
		return;
	}
	if (p->in_utt)
		return;
	b = batch_new(p);
	if (!b) {
		fail_later(p, VAGENT_ENOMEM, "out of memory");
		return;
	}
	b->start = true;
	p->in_utt = true;
	/* from PREROLL_MS before the onset the VAD reports */
	back = p->last_end - pts;
	if (back < 0)
		back = 0;
	back += vagent_ticks_from_ms(PREROLL_MS);
	if (!ring_take_last(p, (size_t)vagent_ticks_to_samples(back,
							VAGENT__SPHINX_RATE), b)) {
		fail_later(p, VAGENT_ENOMEM, "out of memory");
		return;
	}
	p->next_partial = vagent_loop_now(p->base.loop) + p->interval;
	pump(p);
}

static void stt_turn_end(struct vagent_stt *stt, int64_t pts)
{
	struct sphinx_stt *p = (struct sphinx_stt *)stt;

	(void)pts;
	if (usable(p))
		end_utterance(p);
}

static void stt_stop(struct vagent_stt *stt)
{
	struct sphinx_stt *p = (struct sphinx_stt *)stt;

	p->stopped = true;
	queue_clear(p);
	if (p->err_timer)
		vagent_timer_stop(p->err_timer);
}

static void stt_free(struct vagent_stt *stt)
{
	struct sphinx_stt *p = (struct sphinx_stt *)stt;

	if (!p)
		return;
	p->stopped = true;
	if (p->job || p->in_done) {
		p->freeing = true;      /* job_done frees */
		queue_clear(p);
		vagent_timer_free(p->err_timer);
		p->err_timer = NULL;
		return;
	}
	destroy(p);
}

static const struct vagent_stt_ops stt_ops = {
	.audio = stt_audio,
	.speech = stt_speech,
	.turn_end = stt_turn_end,
	.stop = stt_stop,
	.free = stt_free,
};

vagent_status vagent_sphinx_stt_new(const struct vagent_sphinx_config *cfg,
				    struct vagent_stt **out,
				    struct vagent_error *err)
{
	struct sphinx_stt *p;
	vagent_status st;

	if (!out)
		return vagent__error_set(err, VAGENT_EINVAL, "pocketsphinx",
					 "no output pointer");
	*out = NULL;
	if (!cfg)
		return vagent__error_set(err, VAGENT_EINVAL, "pocketsphinx",
					 "no configuration");
	p = calloc(1, sizeof(*p));
	if (!p)
		return vagent__error_set(err, VAGENT_ENOMEM, "pocketsphinx",
					 "out of memory");
	p->base.ops = &stt_ops;
	snprintf(p->base.name, sizeof(p->base.name), "%s",
		 cfg->name[0] ? cfg->name : "pocketsphinx");
	p->rate = cfg->rate;
	st = vagent__sphinx_load(cfg, &p->dec, err);
	if (st == VAGENT_OK)
		st = vagent__stt_frontend_new(cfg->rate, cfg->denoise_db,
					      p->base.name, &p->fe,
					      err);
	if (st != VAGENT_OK) {
		destroy(p);
		return st;
	}
	p->interval = vagent_ticks_from_ms(cfg->partial_interval_ms);
	p->ring_cap = (size_t)VAGENT__SPHINX_RATE * RING_MS / 1000;
	p->ring = malloc(p->ring_cap * sizeof(*p->ring));
	if (!p->ring) {
		st = vagent__error_set(err, VAGENT_ENOMEM, p->base.name,
				       "out of memory");
		destroy(p);
		return st;
	}
	*out = &p->base;
	return VAGENT_OK;
}
