/*
 * sim_stt.c — the simulated speech recogniser: it "recognises" the
 * caller's utterances from the truth the session passes with each frame.
 * Partials reveal the words in step with the audio received, the final
 * comes a seeded latency after the utterance ends, words are substituted
 * at word_error_rate, and faults apply per utterance (docs/simulation.md).
 */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "sim/sim_int.h"

#define CONFIDENCE       0.9
#define CONFIDENCE_WRONG 0.6
#define MALFORMED_FINAL  "\xff\xfe garbage"

/* What a substituted word becomes (short words recognisers confuse). */
static const char *const wrong_words[] = {
	"the", "a", "and", "in", "on", "to", "of", "for", "it", "at",
};

struct sim_stt;

struct utt {
	struct utt *next;
	struct sim_stt *p;
	int index;                      /* the truth's utterance index */
	struct vagent_fault fault;      /* kind NONE: healthy */
	char *text;                     /* words (substituted) joined by ' ' */
	size_t *word_end;               /* byte offset after each word */
	size_t n_words;
	bool substituted;
	int64_t start, end;             /* session ticks (truth) */
	int64_t seen_end;               /* end of the latest frame of it */
	struct vagent_timer *ptimer;    /* next partial */
	struct vagent_timer *ftimer;    /* the final (or the injected error) */
	int64_t pat;                    /* loop time ptimer is due */
	size_t revealed;                /* words in the last partial */
	bool stalled;
	bool dead;
};

struct sim_stt {
	struct vagent_stt base;
	struct vagent_latency first_partial, final;
	int64_t interval;               /* ticks between partials */
	double word_error_rate;
	struct vagent_fault *faults;
	size_t n_faults;
	struct vagent__rng rng, words_rng;
	int last_index;                 /* highest utterance index seen */
	int calls;
	struct utt *utts;
	bool failed;                    /* an error or stop() ended its use */
	int busy;                       /* inside one of our callbacks */
	bool freeing;
};

struct vagent_sim_stt_config vagent_sim_stt_config_default(void)
{
	struct vagent_sim_stt_config c;

	memset(&c, 0, sizeof(c));
	strcpy(c.name, "sim");
	c.first_partial.base_ms = 150;
	c.first_partial.jitter_ms = 60;
	c.partial_interval_ms = 200;
	c.final.base_ms = 120;
	c.final.jitter_ms = 60;
	return c;
}

static void utt_free(struct utt *u)
{
	vagent_timer_free(u->ptimer);
	vagent_timer_free(u->ftimer);
	free(u->text);
	free(u->word_end);
	free(u);
}

static void stt_destroy(struct sim_stt *p)
{
	while (p->utts) {
		struct utt *u = p->utts;

		p->utts = u->next;
		utt_free(u);
	}
	free(p->faults);
	free(p);
}

/* Free the utterances that ended, unless a callback of ours is running. */
static void sweep(struct sim_stt *p)
{
	struct utt **pp = &p->utts;

	if (p->busy)
		return;
	while (*pp) {
		struct utt *u = *pp;

		if (u->dead) {
			*pp = u->next;
			utt_free(u);
		} else {
			pp = &u->next;
		}
	}
	if (p->freeing)
		stt_destroy(p);
}

static void utt_end(struct utt *u)
{
	u->dead = true;
	vagent_timer_stop(u->ptimer);
	vagent_timer_stop(u->ftimer);
}

static void end_all(struct sim_stt *p)
{
	struct utt *u;

	for (u = p->utts; u; u = u->next)
		utt_end(u);
}

/* An error ends the provider's use: report it, then stay silent. */
static void fail(struct sim_stt *p, vagent_status st, const char *what)
{
	char msg[160];

	snprintf(msg, sizeof(msg), "%s: %s", p->base.name, what);
	p->failed = true;
	end_all(p);
	p->base.on_error(p->base.ctx, st, msg);
}

/* Whether the stall or disconnect point lies within the utterance. */
static bool fault_point_reached(const struct utt *u, vagent_fault_kind kind)
{
	return u->fault.kind == kind && (size_t)u->fault.after <= u->n_words;
}

/* Words the audio received so far covers: ceil(n * seen / duration),
 * clamped to 1..n. */
static size_t words_heard(const struct utt *u)
{
	int64_t dur = u->end - u->start, seen = u->seen_end - u->start;
	size_t k;

	if (dur <= 0 || seen >= dur)
		return u->n_words;
	if (seen <= 0)
		return 1;
	k = (size_t)(((int64_t)u->n_words * seen + dur - 1) / dur);
	if (k < 1)
		k = 1;
	if (k > u->n_words)
		k = u->n_words;
	return k;
}

static void partial_step(struct utt *u)
{
	struct sim_stt *p = u->p;
	size_t k, cap = u->n_words;

	if (u->fault.kind == VAGENT_FAULT_STALL && !u->stalled &&
	    u->revealed >= (size_t)u->fault.after) {
		u->stalled = true;
		u->pat += vagent_ticks_from_ms(u->fault.delay_ms);
		if (vagent_timer_start_at(u->ptimer, u->pat, 0, NULL) != VAGENT_OK)
			fail(p, VAGENT_ENOMEM, "out of memory");
		return;
	}
	if (u->fault.kind == VAGENT_FAULT_DISCONNECT &&
	    u->revealed >= (size_t)u->fault.after) {
		fail(p, VAGENT_EPROTO, "connection closed mid-stream (injected)");
		return;
	}
	if ((u->fault.kind == VAGENT_FAULT_STALL && !u->stalled) ||
	    u->fault.kind == VAGENT_FAULT_DISCONNECT)
		cap = (size_t)u->fault.after;
	k = words_heard(u);
	if (k > cap)
		k = cap;
	if (k > u->revealed) {
		char *s = strndup(u->text, u->word_end[k - 1]);

		if (!s) {
			fail(p, VAGENT_ENOMEM, "out of memory");
			return;
		}
		u->revealed = k;
		p->base.on_partial(p->base.ctx, s);
		free(s);
		if (u->dead)
			return;
	}
	if (u->revealed < u->n_words) {
		u->pat += p->interval;
		if (vagent_timer_start_at(u->ptimer, u->pat, 0, NULL) != VAGENT_OK)
			fail(p, VAGENT_ENOMEM, "out of memory");
	}
}

static void final_step(struct utt *u)
{
	struct sim_stt *p = u->p;
	char what[96];

	switch (u->fault.kind) {
	case VAGENT_FAULT_ERROR:
		snprintf(what, sizeof(what), "HTTP %d (injected error)",
			 u->fault.http_status ? u->fault.http_status : 500);
		fail(p, VAGENT_EPROVIDER, what);
		return;
	case VAGENT_FAULT_DISCONNECT:
		if (fault_point_reached(u, VAGENT_FAULT_DISCONNECT)) {
			fail(p, VAGENT_EPROTO,
			     "connection closed mid-stream (injected)");
			return;
		}
		break;
	case VAGENT_FAULT_TIMEOUT:
	case VAGENT_FAULT_DROP:
		utt_end(u);             /* the final is dropped */
		return;
	default:
		break;
	}
	utt_end(u);
	if (u->fault.kind == VAGENT_FAULT_MALFORMED)
		p->base.on_final(p->base.ctx, MALFORMED_FINAL, CONFIDENCE);
	else
		p->base.on_final(p->base.ctx, u->text,
				 u->substituted ? CONFIDENCE_WRONG : CONFIDENCE);
}

static void on_partial_timer(struct vagent_timer *t, void *arg)
{
	struct utt *u = arg;
	struct sim_stt *p = u->p;

	(void)t;
	p->busy++;
	partial_step(u);
	p->busy--;
	sweep(p);
}

static void on_final_timer(struct vagent_timer *t, void *arg)
{
	struct utt *u = arg;
	struct sim_stt *p = u->p;

	(void)t;
	p->busy++;
	final_step(u);
	p->busy--;
	sweep(p);
}

/* Split `text` into words, substituting at word_error_rate. */
static bool utt_words(struct sim_stt *p, struct utt *u, const char *text)
{
	struct vagent__strbuf b = { 0 };
	size_t cap = 0;
	const char *s = text;

	while (*s) {
		const char *w;
		size_t n;

		while (*s && isspace((unsigned char)*s))
			s++;
		if (!*s)
			break;
		w = s;
		while (*s && !isspace((unsigned char)*s))
			s++;
		n = (size_t)(s - w);
		if (u->n_words == cap) {
			size_t *ne;

			cap = cap ? 2 * cap : 16;
			ne = realloc(u->word_end, cap * sizeof(*ne));
			if (!ne) {
				vagent__strbuf_release(&b);
				return false;
			}
			u->word_end = ne;
		}
		if (u->n_words)
			vagent__strbuf_put(&b, " ", 1);
		if (p->word_error_rate > 0 &&
		    vagent__rng_double(&p->words_rng) < p->word_error_rate) {
			size_t nw = VAGENT__ARRAY_SIZE(wrong_words);
			size_t i = (size_t)vagent__rng_range(&p->words_rng,
							     (int64_t)nw);

			if (strlen(wrong_words[i]) == n &&
			    strncasecmp(wrong_words[i], w, n) == 0)
				i = (i + 1) % nw;
			vagent__strbuf_puts(&b, wrong_words[i]);
			u->substituted = true;
		} else {
			vagent__strbuf_put(&b, w, n);
		}
		u->word_end[u->n_words++] = b.len;
	}
	u->text = vagent__strbuf_detach(&b);
	return u->text != NULL;
}

/* Start tracking utterance `truth` (call number p->calls). */
static void utt_start(struct sim_stt *p, const struct vagent_frame *f,
		      const struct vagent_speech_truth *truth)
{
	const struct vagent_fault *fault;
	struct utt *u;
	int64_t first, fin, o = p->base.origin;
	bool ok;

	p->calls++;
	first = vagent__latency_draw(&p->rng, &p->first_partial);
	fin = vagent__latency_draw(&p->rng, &p->final);
	if (!truth->text)
		return;
	u = calloc(1, sizeof(*u));
	if (!u)
		goto nomem;
	u->p = p;
	u->index = truth->utterance;
	u->start = truth->start;
	u->end = truth->end;
	u->seen_end = f ? vagent_frame_end(f) : truth->start;
	fault = vagent__fault_match(p->faults, p->n_faults, p->calls);
	if (fault)
		u->fault = *fault;
	u->ptimer = vagent_timer_new(p->base.loop, on_partial_timer, u);
	u->ftimer = vagent_timer_new(p->base.loop, on_final_timer, u);
	if (!u->ptimer || !u->ftimer || !utt_words(p, u, truth->text)) {
		utt_free(u);
		goto nomem;
	}
	u->next = p->utts;
	p->utts = u;
	if (u->n_words == 0) {
		/* Nothing to recognise. */
		utt_end(u);
		sweep(p);
		return;
	}
	switch (u->fault.kind) {
	case VAGENT_FAULT_ERROR:
		ok = vagent_timer_start_at(u->ftimer, o + u->start +
			vagent_ticks_from_ms(u->fault.delay_ms), 0, NULL) == VAGENT_OK;
		break;
	case VAGENT_FAULT_DELAY:
		first += vagent_ticks_from_ms(u->fault.delay_ms);
		fin += vagent_ticks_from_ms(u->fault.delay_ms);
		goto normal;
	case VAGENT_FAULT_STALL:
		if (fault_point_reached(u, VAGENT_FAULT_STALL))
			fin += vagent_ticks_from_ms(u->fault.delay_ms);
		goto normal;
	default:
	normal:
		/* A start already past (a fallback recogniser taking over
		 * mid-utterance): the first partial comes at once. */
		u->pat = o + u->start + first;
		if (u->pat < vagent_loop_now(p->base.loop))
			u->pat = vagent_loop_now(p->base.loop);
		ok = vagent_timer_start_at(u->ptimer, u->pat, 0, NULL) == VAGENT_OK &&
		     vagent_timer_start_at(u->ftimer, o + u->end + fin, 0,
					   NULL) == VAGENT_OK;
		break;
	}
	if (ok)
		return;
nomem:
	/* Reported from a timer would need memory too: stop recognising;
	 * the session's final wait ends the turn. */
	p->failed = true;
	end_all(p);
	sweep(p);
}

static void stt_audio(struct vagent_stt *stt, const struct vagent_frame *f,
		      const struct vagent_speech_truth *truth)
{
	struct sim_stt *p = (struct sim_stt *)stt;
	struct utt *u;

	if (p->failed || !truth || !truth->speaking || !p->base.loop ||
	    !p->base.on_partial || !p->base.on_final || !p->base.on_error)
		return;
	if (truth->utterance > p->last_index) {
		p->last_index = truth->utterance;
		utt_start(p, f, truth);
		return;
	}
	if (!f)
		return;
	for (u = p->utts; u; u = u->next)
		if (!u->dead && u->index == truth->utterance &&
		    vagent_frame_end(f) > u->seen_end)
			u->seen_end = vagent_frame_end(f);
}

/* The simulated recogniser segments by the truth, not by the session's
 * VAD, and sends its final on its own schedule. */
static void stt_speech(struct vagent_stt *stt, bool started, int64_t pts)
{
	(void)stt;
	(void)started;
	(void)pts;
}

static void stt_turn_end(struct vagent_stt *stt, int64_t pts)
{
	(void)stt;
	(void)pts;
}

/* The call is over: later audio is ignored too. */
static void stt_stop(struct vagent_stt *stt)
{
	struct sim_stt *p = (struct sim_stt *)stt;

	p->failed = true;
	end_all(p);
	sweep(p);
}

static void stt_free(struct vagent_stt *stt)
{
	struct sim_stt *p = (struct sim_stt *)stt;

	end_all(p);
	p->freeing = true;
	sweep(p);
}

static const struct vagent_stt_ops stt_ops = {
	.audio = stt_audio,
	.speech = stt_speech,
	.turn_end = stt_turn_end,
	.stop = stt_stop,
	.free = stt_free,
};

vagent_status vagent_sim_stt_new(const struct vagent_sim_stt_config *cfg,
				 struct vagent_stt **out,
				 struct vagent_error *err)
{
	struct sim_stt *p;
	vagent_status st;

	if (!out)
		return vagent__error_set(err, VAGENT_EINVAL, "sim",
					 "no output pointer");
	*out = NULL;
	if (!cfg)
		return vagent__error_set(err, VAGENT_EINVAL, "sim",
					 "no configuration");
	p = calloc(1, sizeof(*p));
	if (!p)
		return vagent__error_set(err, VAGENT_ENOMEM, "sim",
					 "out of memory");
	p->base.ops = &stt_ops;
	vagent__sim_name(p->base.name, cfg->name, "sim");
	st = vagent__latency_check(p->base.name, "first_partial",
				   &cfg->first_partial, err);
	if (st == VAGENT_OK)
		st = vagent__latency_check(p->base.name, "final", &cfg->final,
					   err);
	if (st != VAGENT_OK)
		goto fail;
	if (cfg->partial_interval_ms <= 0 || cfg->partial_interval_ms > 60000) {
		st = vagent__error_set(err, VAGENT_EINVAL, p->base.name,
				       "partial_interval_ms: must be 1..60000 (got %d)",
				       cfg->partial_interval_ms);
		goto fail;
	}
	if (!(cfg->word_error_rate >= 0 && cfg->word_error_rate <= 1)) {
		st = vagent__error_set(err, VAGENT_EINVAL, p->base.name,
				       "word_error_rate: must be 0..1 (got %g)",
				       cfg->word_error_rate);
		goto fail;
	}
	p->first_partial = cfg->first_partial;
	p->final = cfg->final;
	p->interval = vagent_ticks_from_ms(cfg->partial_interval_ms);
	p->word_error_rate = cfg->word_error_rate;
	st = vagent__faults_check_slot(p->base.name, "faults", cfg->faults,
				       cfg->n_faults, "sim-stt", err);
	if (st != VAGENT_OK)
		goto fail;
	st = vagent__faults_copy(p->base.name, "faults", cfg->faults,
				 cfg->n_faults, &p->faults, err);
	if (st != VAGENT_OK)
		goto fail;
	p->n_faults = cfg->n_faults;
	vagent__rng_seed(&p->rng, cfg->seed, VAGENT__SIM_STREAM_STT);
	vagent__rng_seed(&p->words_rng, cfg->seed, VAGENT__SIM_STREAM_STT_WORDS);
	*out = &p->base;
	return VAGENT_OK;
fail:
	stt_destroy(p);
	return st;
}
