/*
 * sim_caller.c — the scripted simulated caller: a list of steps (say,
 * silence, hang up, wait), each starting at an anchor (the call's start,
 * the previous step's end, the agent's next reply starting or ending, the
 * next trace event of a type, a stretch of silence on both sides) plus an
 * offset, played sample-exact on the session's media clock, with the truth
 * of what is said for the simulated STT and the metrics.
 * docs/simulation.md "Simulated caller".
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "core/internal.h"
#include "audio/audio_int.h"

#define SC_WHERE "sim-caller"
/* A caller whose last words get no answer gives up this long after them. */
#define SC_PATIENCE (10000 * VAGENT_TICKS_PER_MS)
/* A step waiting for the agent gives up after this much silence. */
#define SC_DEAD_AIR (20000 * VAGENT_TICKS_PER_MS)

struct sc_step {
	vagent_sim_step_kind kind;
	vagent_sim_anchor anchor;
	int64_t offset;                 /* ticks */
	int64_t duration;               /* SILENCE, ticks */
	vagent_trace_type event;        /* ANCHOR_EVENT */
	char *event_match;              /* ANCHOR_EVENT (owned), NULL: any */
	int64_t silence;                /* ANCHOR_SILENCE, ticks */
	char *text;                     /* SAY (owned) */
	struct vagent_audio *audio;     /* SAY (owned) */
	int utterance;                  /* SAY: 1-based */
	/* resolved while the call runs */
	bool resolved;
	int64_t start, end;             /* ticks; end only for SAY and SILENCE */
	int64_t start_sample;           /* SAY */
};

struct sc_event {
	vagent_agent_event ev;
	int64_t t;
};

/* A trace event that step `step` (anchored on EVENT) waits for. */
struct sc_hit {
	size_t step;
	int64_t t;
};

struct sim_caller {
	struct vagent_caller base;
	int rate;
	struct sc_step *steps;
	size_t n_steps;
	double noise;                   /* white noise RMS, int16 units; 0: none */
	uint64_t noise_seed;
	int64_t hangup_after;           /* ticks */
	/* the step machine */
	size_t cur;                     /* current step (n_steps: all done) */
	int64_t since;                  /* when it became current */
	int said;                       /* SAY steps started */
	int64_t said_end;               /* end of the last SAY that ended (0: none) */
	bool hung_up;
	/* what the agent did, from the current step's `since` on */
	struct sc_event *log;
	size_t n_log, cap_log;
	struct sc_hit *hits;            /* trace events steps wait for */
	size_t n_hits, cap_hits;
	bool agent_speaking;
	int64_t agent_end;              /* last DONE/STOPPED, -1: none */
};

struct vagent_sim_caller_config vagent_sim_caller_config_default(void)
{
	struct vagent_sim_caller_config c = {
		.rate = 16000,
		.steps = NULL,
		.n_steps = 0,
		.noise_dbfs = 0.0,
		.hangup_after_ms = 3000,
		.seed = 0,
	};

	return c;
}

/* The first sample at or after `t`, and its time. */
static int64_t sample_at_or_after(int64_t t, int rate)
{
	int64_t s = vagent_ticks_to_samples(t, rate);

	if (vagent_ticks_from_samples(s, rate) < t)
		s++;
	return s;
}

/* Forget agent events before the current step became current, and trace
 * events of steps done: no later step can wait for them. */
static void log_trim(struct sim_caller *c)
{
	size_t k = 0, kept = 0;

	while (k < c->n_log && c->log[k].t < c->since)
		k++;
	if (k) {
		memmove(c->log, c->log + k, (c->n_log - k) * sizeof(*c->log));
		c->n_log -= k;
	}
	for (k = 0; k < c->n_hits; k++)
		if (c->hits[k].step >= c->cur && c->hits[k].t >= c->since)
			c->hits[kept++] = c->hits[k];
	c->n_hits = kept;
}

/* Resolve the current step's start, if its anchor is known. [p, q) is the
 * frame being made: nothing can start before p (an agent event told late
 * starts the step now). */
static bool resolve(struct sim_caller *c, struct sc_step *st, int64_t p,
		    int64_t q)
{
	int64_t t = -1;

	switch (st->anchor) {
	case VAGENT_ANCHOR_START:
		t = st->offset > c->since ? st->offset : c->since;
		break;
	case VAGENT_ANCHOR_PREV_END:
		t = c->since + st->offset;
		break;
	case VAGENT_ANCHOR_AGENT_SPEAKING:
	case VAGENT_ANCHOR_AGENT_DONE:
		for (size_t i = 0; i < c->n_log && t < 0; i++) {
			bool speaking = c->log[i].ev == VAGENT_AGENT_SPEAKING;

			if (c->log[i].t >= c->since &&
			    speaking == (st->anchor == VAGENT_ANCHOR_AGENT_SPEAKING))
				t = c->log[i].t + st->offset;
		}
		if (t < 0)
			return false;
		break;
	case VAGENT_ANCHOR_EVENT:
		for (size_t i = 0; i < c->n_hits && t < 0; i++)
			if (c->hits[i].step == c->cur && c->hits[i].t >= c->since)
				t = c->hits[i].t + st->offset;
		if (t < 0)
			return false;
		break;
	case VAGENT_ANCHOR_SILENCE: {
		/* the agent makes sound only from a tick on, so it is known
		 * to be quiet through this frame; the caller was quiet since
		 * the previous step ended */
		int64_t quiet = c->agent_end > c->since ? c->agent_end : c->since;

		if (c->agent_speaking || quiet + st->silence > q)
			return false;
		t = quiet + st->silence + st->offset;
		break;
	}
	}
	if (t < p)
		t = p;
	st->resolved = true;
	if (st->kind == VAGENT_STEP_SAY) {
		st->start_sample = sample_at_or_after(t, c->rate);
		st->start = vagent_ticks_from_samples(st->start_sample, c->rate);
		st->end = vagent_ticks_from_samples(st->start_sample +
						    (int64_t)st->audio->frames, c->rate);
	} else {
		st->start = t;
		st->end = st->kind == VAGENT_STEP_SILENCE ? t + st->duration : t;
	}
	return true;
}

static void advance(struct sim_caller *c, int64_t end)
{
	c->cur++;
	c->since = end;
	log_trim(c);
}

static vagent_status sc_frame(struct vagent_caller *base, struct vagent_frame *f,
			      struct vagent_speech_truth *truth)
{
	struct sim_caller *c = (struct sim_caller *)base;
	const struct sc_step *said = NULL;
	float speech[VAGENT_FRAME_MAX_SAMPLES];
	int64_t p = f->pts, q, first;

	if (c->hung_up)
		return VAGENT_EOS;
	if (f->rate != c->rate || f->channels != 1 || f->n > VAGENT_FRAME_MAX_SAMPLES)
		return VAGENT_EINVAL;
	q = vagent_frame_end(f);
	first = vagent_ticks_to_samples(p, c->rate);
	memset(speech, 0, f->n * sizeof(float));

	/* run the steps through [p, q) */
	while (c->cur < c->n_steps) {
		struct sc_step *st = &c->steps[c->cur];

		if (!st->resolved && !resolve(c, st, p, q)) {
			/* waiting for the agent; a caller facing dead air
			 * long enough hangs up (one waiting for silence is
			 * waiting for just that) */
			int64_t quiet = c->agent_end > c->since ? c->agent_end : c->since;

			if (!c->agent_speaking && st->anchor != VAGENT_ANCHOR_SILENCE &&
			    p >= quiet + SC_DEAD_AIR) {
				c->hung_up = true;
				return VAGENT_EOS;
			}
			break;
		}
		if (st->kind == VAGENT_STEP_HANGUP) {
			if (st->start <= p) {
				c->hung_up = true;
				return VAGENT_EOS;
			}
			break;
		}
		if (st->start >= q)
			break;
		if (st->kind == VAGENT_STEP_SAY) {
			int64_t len = (int64_t)st->audio->frames;

			if (st->utterance > c->said)
				c->said = st->utterance;
			for (size_t j = 0; j < f->n; j++) {
				int64_t k = first + (int64_t)j - st->start_sample;

				if (k >= 0 && k < len)
					speech[j] = st->audio->samples[k];
			}
			if (st->end > p)
				said = st;
		}
		if (st->end > q)
			break;
		if (st->kind == VAGENT_STEP_SAY)
			c->said_end = st->end;
		advance(c, st->end);
	}

	/* the last step is over: hang up once the agent has answered the last
	 * words and gone quiet (or has not answered for a long time) */
	if (c->cur == c->n_steps && !c->agent_speaking) {
		int64_t hang = c->since + c->hangup_after;

		if (c->agent_end >= c->said_end) {
			if (c->agent_end + c->hangup_after > hang)
				hang = c->agent_end + c->hangup_after;
		} else if (c->said_end + SC_PATIENCE > hang) {
			hang = c->said_end + SC_PATIENCE;
		}
		if (p >= hang) {
			c->hung_up = true;
			return VAGENT_EOS;
		}
	}

	if (c->noise > 0) {
		struct vagent__rng r;
		double amp = c->noise * sqrt(3.0);  /* uniform: RMS = amp / sqrt 3 */

		vagent__rng_seed(&r, c->noise_seed, (uint64_t)first);
		for (size_t j = 0; j < f->n; j++) {
			double v = (double)speech[j] * 32768.0 +
				   amp * (2.0 * vagent__rng_double(&r) - 1.0);

			f->samples[j] = v >= 32767.0 ? 32767 : v <= -32768.0 ? -32768 :
					(int16_t)lrint(v);
		}
	} else {
		for (size_t j = 0; j < f->n; j++)
			f->samples[j] = vagent__f2s(speech[j]);
	}

	if (truth) {
		memset(truth, 0, sizeof(*truth));
		truth->utterance = c->said;
		if (said) {
			truth->speaking = true;
			truth->utterance = said->utterance;
			truth->text = said->text;
			truth->start = said->start;
			truth->end = said->end;
		}
	}
	return VAGENT_OK;
}

static void sc_agent_event(struct vagent_caller *base, vagent_agent_event ev,
			   int64_t t)
{
	struct sim_caller *c = (struct sim_caller *)base;

	if (ev == VAGENT_AGENT_SPEAKING) {
		c->agent_speaking = true;
	} else {
		c->agent_speaking = false;
		c->agent_end = t;
	}
	/* only a step still to come can wait for it */
	if (c->hung_up || c->cur >= c->n_steps || t < c->since)
		return;
	if (c->n_log == c->cap_log) {
		size_t cap = c->cap_log ? 2 * c->cap_log : 8;
		struct sc_event *p = realloc(c->log, cap * sizeof(*p));

		if (!p)
			return;         /* a script waiting for it waits on */
		c->log = p;
		c->cap_log = cap;
	}
	c->log[c->n_log].ev = ev;
	c->log[c->n_log].t = t;
	c->n_log++;
}

static bool str_is(const char *field, const char *m)
{
	return field && strcmp(field, m) == 0;
}

/* event_match: equals the name, reason, digit or slot, or is in the text. */
static bool event_matches(const struct vagent_trace_event *ev, const char *m)
{
	if (!m)
		return true;
	return str_is(ev->name, m) || str_is(ev->reason, m) || str_is(ev->digit, m) ||
	       str_is(ev->slot, m) || (ev->text && strstr(ev->text, m));
}

static void sc_trace_event(struct vagent_caller *base,
			   const struct vagent_trace_event *ev, int64_t t)
{
	struct sim_caller *c = (struct sim_caller *)base;

	if (c->hung_up || t < c->since)
		return;
	/* a hit for every step still to come that waits for it: a step
	 * after the current one may start on an event of this very tick */
	for (size_t j = c->cur; j < c->n_steps; j++) {
		const struct sc_step *st = &c->steps[j];

		if (st->anchor != VAGENT_ANCHOR_EVENT || st->resolved ||
		    st->event != ev->type || !event_matches(ev, st->event_match))
			continue;
		if (c->n_hits == c->cap_hits) {
			size_t cap = c->cap_hits ? 2 * c->cap_hits : 8;
			struct sc_hit *p = realloc(c->hits, cap * sizeof(*p));

			if (!p)
				return; /* a script waiting for it waits on */
			c->hits = p;
			c->cap_hits = cap;
		}
		c->hits[c->n_hits].step = j;
		c->hits[c->n_hits].t = t;
		c->n_hits++;
	}
}

static void sc_free(struct vagent_caller *base)
{
	struct sim_caller *c = (struct sim_caller *)base;

	if (!c)
		return;
	for (size_t i = 0; i < c->n_steps; i++) {
		free(c->steps[i].text);
		free(c->steps[i].event_match);
		vagent_audio_free(c->steps[i].audio);
	}
	free(c->steps);
	free(c->log);
	free(c->hits);
	free(c);
}

static const struct vagent_caller_ops sim_caller_ops = {
	.frame = sc_frame,
	.agent_event = sc_agent_event,
	.free = sc_free,
	.trace_event = sc_trace_event,
};

/* Check and copy step `i` (reported 1-based) into `d`. */
static vagent_status copy_step(struct sim_caller *c, size_t i,
			       const struct vagent_sim_step *s,
			       const struct vagent_sim_caller_config *cfg,
			       struct sc_step *d, struct vagent_error *err)
{
	size_t no = i + 1;
	vagent_status st;

	if (s->kind != VAGENT_STEP_SAY && s->kind != VAGENT_STEP_SILENCE &&
	    s->kind != VAGENT_STEP_HANGUP && s->kind != VAGENT_STEP_WAIT)
		return vagent__error_set(err, VAGENT_EINVAL, SC_WHERE,
					 "step %zu: unknown kind %d", no, (int)s->kind);
	if (s->anchor != VAGENT_ANCHOR_START && s->anchor != VAGENT_ANCHOR_PREV_END &&
	    s->anchor != VAGENT_ANCHOR_AGENT_SPEAKING &&
	    s->anchor != VAGENT_ANCHOR_AGENT_DONE && s->anchor != VAGENT_ANCHOR_EVENT &&
	    s->anchor != VAGENT_ANCHOR_SILENCE)
		return vagent__error_set(err, VAGENT_EINVAL, SC_WHERE,
					 "step %zu: unknown anchor %d", no, (int)s->anchor);
	if (s->offset_ms < 0)
		return vagent__error_set(err, VAGENT_EINVAL, SC_WHERE,
					 "step %zu: offset %d ms is negative", no,
					 s->offset_ms);
	d->kind = s->kind;
	d->anchor = s->anchor;
	d->offset = s->offset_ms * VAGENT_TICKS_PER_MS;
	if (s->anchor == VAGENT_ANCHOR_EVENT) {
		if ((int)s->event < 0 || s->event >= VAGENT_TRACE_TYPE_COUNT)
			return vagent__error_set(err, VAGENT_EINVAL, SC_WHERE,
						 "step %zu: unknown event type %d", no,
						 (int)s->event);
		d->event = s->event;
		if (s->event_match && *s->event_match) {
			d->event_match = strdup(s->event_match);
			if (!d->event_match)
				return vagent__error_set(err, VAGENT_ENOMEM, SC_WHERE,
							 "out of memory");
		}
	}
	if (s->anchor == VAGENT_ANCHOR_SILENCE) {
		if (s->silence_ms <= 0)
			return vagent__error_set(err, VAGENT_EINVAL, SC_WHERE,
						 "step %zu: a silence anchor needs silence_ms > 0",
						 no);
		d->silence = s->silence_ms * VAGENT_TICKS_PER_MS;
	}
	if (s->kind == VAGENT_STEP_SILENCE) {
		if (s->duration_ms <= 0)
			return vagent__error_set(err, VAGENT_EINVAL, SC_WHERE,
						 "step %zu: silence needs a duration > 0 ms",
						 no);
		d->duration = s->duration_ms * VAGENT_TICKS_PER_MS;
	}
	if (s->kind != VAGENT_STEP_SAY)
		return VAGENT_OK;
	if ((!s->text || !*s->text) && !s->audio)
		return vagent__error_set(err, VAGENT_EINVAL, SC_WHERE,
					 "step %zu: say needs text or audio", no);
	if (s->audio && (s->audio->channels != 1 || s->audio->rate != cfg->rate))
		return vagent__error_set(err, VAGENT_EINVAL, SC_WHERE,
					 "step %zu: audio must be mono at %d Hz", no,
					 cfg->rate);
	if (s->audio && s->audio->frames == 0)
		return vagent__error_set(err, VAGENT_EINVAL, SC_WHERE,
					 "step %zu: audio is empty", no);
	/* a recording without a transcript: the truth has no text */
	d->text = s->text && *s->text ? strdup(s->text) : NULL;
	if (s->text && *s->text && !d->text)
		return vagent__error_set(err, VAGENT_ENOMEM, SC_WHERE, "out of memory");
	if (s->audio) {
		d->audio = vagent_audio_dup(s->audio);
		if (!d->audio)
			return vagent__error_set(err, VAGENT_ENOMEM, SC_WHERE,
						 "out of memory");
	} else {
		/* each utterance its own variation of the voice */
		uint64_t seed = cfg->seed ^ (UINT64_C(0x9E3779B97F4A7C15) * (uint64_t)no);
		struct vagent_error e2;

		st = vagent_speechlike_synth(s->text, cfg->rate, seed, &d->audio, &e2);
		if (st)
			return vagent__error_set(err, st, SC_WHERE, "step %zu: %s", no,
						 e2.message);
	}
	d->utterance = ++c->said;
	return VAGENT_OK;
}

vagent_status vagent_sim_caller_new(const struct vagent_sim_caller_config *cfg,
				    struct vagent_caller **out,
				    struct vagent_error *err)
{
	struct sim_caller *c;
	vagent_status st;

	*out = NULL;
	if (!cfg)
		return vagent__error_set(err, VAGENT_EINVAL, SC_WHERE, "no configuration");
	if (cfg->rate != 8000 && cfg->rate != 16000)
		return vagent__error_set(err, VAGENT_EINVAL, SC_WHERE,
					 "unsupported rate %d Hz (8000 or 16000)",
					 cfg->rate);
	if (cfg->n_steps && !cfg->steps)
		return vagent__error_set(err, VAGENT_EINVAL, SC_WHERE,
					 "%zu steps but no step list", cfg->n_steps);
	if (cfg->hangup_after_ms < 0)
		return vagent__error_set(err, VAGENT_EINVAL, SC_WHERE,
					 "hangup_after_ms %d is negative",
					 cfg->hangup_after_ms);
	if (isnan(cfg->noise_dbfs))
		return vagent__error_set(err, VAGENT_EINVAL, SC_WHERE,
					 "noise level is not a number");
	c = calloc(1, sizeof(*c));
	if (!c)
		return vagent__error_set(err, VAGENT_ENOMEM, SC_WHERE, "out of memory");
	c->base.ops = &sim_caller_ops;
	c->rate = cfg->rate;
	c->agent_end = -1;
	c->hangup_after = cfg->hangup_after_ms * VAGENT_TICKS_PER_MS;
	if (cfg->noise_dbfs < 0)
		c->noise = 32768.0 * pow(10.0, cfg->noise_dbfs / 20.0);
	c->noise_seed = cfg->seed ^ UINT64_C(0x6E6F697365); /* "noise" */
	if (cfg->n_steps) {
		c->steps = calloc(cfg->n_steps, sizeof(*c->steps));
		if (!c->steps) {
			free(c);
			return vagent__error_set(err, VAGENT_ENOMEM, SC_WHERE,
						 "out of memory");
		}
	}
	c->n_steps = cfg->n_steps;
	for (size_t i = 0; i < cfg->n_steps; i++) {
		st = copy_step(c, i, &cfg->steps[i], cfg, &c->steps[i], err);
		if (st) {
			sc_free(&c->base);
			return st;
		}
	}
	c->said = 0;            /* counted again as they start */
	*out = &c->base;
	return VAGENT_OK;
}
