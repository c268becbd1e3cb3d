/*
 * live_caller.c — the caller side of `vagent chat` (docs/chat.md): a
 * vagent_caller on live audio. Each 20 ms tick it takes the next frame of
 * the mic (buffering what the device delivered, padding with silence on an
 * underrun, dropping the oldest audio when the reader fell behind), removes
 * the agent's echo (the echo canceller with the played reference, or the
 * half-duplex mute), runs the agent's VAD on it to give the session the
 * caller's speech boundaries, and plays every agent frame on the output.
 * A failed device ends the call with its status.
 */
#include <math.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include "core/internal.h"
#include "chat/chat_int.h"

#define LC_WHERE "live caller"
/* Silence queued for the output at most (see lc_agent_audio). */
#define LC_QUEUE_MS 100
/* Half-duplex: an agent frame with a sample above this is sound. */
#define LC_SOUND_LEVEL 64

struct live_caller {
	struct vagent_caller base;
	struct vagent_live_caller_config cfg;
	struct vagent_live_audio audio;
	vagent_echo_mode echo;
	size_t n;                        /* samples per frame */
	int64_t frame_ticks;
	struct vagent_echo_canceller *ec;
	struct vagent_vad *vad;
	/* captured audio not yet given: mic and reference, in step */
	int16_t *mic, *ref, *scratch_mic, *scratch_ref;
	size_t len, cap;
	atomic_int hangup;
	/* half-duplex: samples still to mute */
	size_t mute;
	size_t hangover;
	/* AEC: reference samples with sound seen, of the warm-up */
	size_t warmed, warmup, warm_hold;
	bool converged;
	double e_mic, e_out;             /* over the last e_frames with echo */
	int e_frames, good_blocks;
	double nlp;                      /* residual gate: energy ratio, 0: off */
	size_t max_queue;                /* LC_QUEUE_MS in samples */
	int16_t *quiet;                  /* the room's noise (see mute()) */
	bool muted;                      /* this frame */
	/* the caller's speech, from the VAD */
	bool speaking;
	int utterance;
	int64_t speech_start, speech_end;
	/* the agent, for hanging up after a WAV input */
	bool agent_speaking;
	int64_t agent_quiet_since;
	bool eof;
	int64_t eof_at;
	bool started;
	/* the failure that ended the call */
	vagent_status failure;
	char failure_msg[sizeof(((struct vagent_error *)0)->message)];
	struct vagent_live_caller_stats stats;
	void (*on_event)(void *arg, const struct vagent_trace_event *ev, int64_t t);
	void *arg;
};

const char *vagent_echo_mode_name(vagent_echo_mode m)
{
	switch (m) {
	case VAGENT_ECHO_AUTO: return "auto";
	case VAGENT_ECHO_AEC: return "aec";
	case VAGENT_ECHO_HALF_DUPLEX: return "half-duplex";
	case VAGENT_ECHO_OFF: return "off";
	}
	return "unknown";
}

struct vagent_live_caller_config vagent_live_caller_config_default(void)
{
	struct vagent_live_caller_config c;

	memset(&c, 0, sizeof(c));
	c.rate = 16000;
	c.echo = VAGENT_ECHO_AUTO;
	c.aec_tail_ms = 250;
	c.aec_suppress = true;
	c.aec_warmup_ms = 2000;
	c.aec_residual_gate_db = 6;
	c.half_duplex_hangover_ms = 150;
	c.vad = vagent_vad_config_default();
	c.hangup_after_ms = 3000;
	c.max_buffer_ms = 200;
	return c;
}

/* Everything the input has delivered, into the buffer; the oldest audio
 * goes when more than the buffer holds is waiting. */
static void pull(struct live_caller *lc)
{
	for (;;) {
		size_t got = lc->audio.read(lc->audio.ctx, lc->scratch_mic, lc->scratch_ref,
					    lc->cap);

		if (!got)
			return;
		if (lc->len + got > lc->cap) {
			size_t drop = lc->len + got - lc->cap;

			if (drop > lc->len)
				drop = lc->len;
			memmove(lc->mic, lc->mic + drop, (lc->len - drop) * sizeof(int16_t));
			memmove(lc->ref, lc->ref + drop, (lc->len - drop) * sizeof(int16_t));
			lc->len -= drop;
			lc->stats.dropped_samples += drop;
		}
		memcpy(lc->mic + lc->len, lc->scratch_mic, got * sizeof(int16_t));
		memcpy(lc->ref + lc->len, lc->scratch_ref, got * sizeof(int16_t));
		lc->len += got;
		if (got < lc->cap)
			return;
	}
}

static bool has_sound(const int16_t *x, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (x[i] > LC_SOUND_LEVEL || x[i] < -LC_SOUND_LEVEL)
			return true;
	return false;
}

static double energy(const int16_t *x, size_t n)
{
	double e = 0;

	for (size_t i = 0; i < n; i++)
		e += (double)x[i] * x[i];
	return e;
}

/*
 * The filter has adapted once it has heard aec_warmup_ms of the agent and
 * then, over two half seconds of the agent's audio in a row, taken
 * AEC_CONVERGED off the echo (a caller talking meanwhile only delays that).
 */
#define AEC_CONVERGED 100.0                 /* 20 dB */
static void converge(struct live_caller *lc, const int16_t *mic, const int16_t *out, size_t n)
{
	lc->warmed += n;
	lc->e_mic += energy(mic, n);
	lc->e_out += energy(out, n);
	if (++lc->e_frames < 25)
		return;
	if (lc->e_mic >= AEC_CONVERGED * (lc->e_out + 1))
		lc->good_blocks++;
	else
		lc->good_blocks = 0;
	if (lc->warmed >= lc->warmup && lc->good_blocks >= 2)
		lc->converged = true;
	lc->e_mic = lc->e_out = 0;
	lc->e_frames = 0;
}

/* A muted frame: the room's noise as last heard (a frame the VAD found
 * quiet), not digital silence, so the VAD's noise floor stays where the
 * room is and the mic coming back is not an onset. */
static void mute(struct live_caller *lc, struct vagent_frame *f)
{
	memcpy(f->samples, lc->quiet, lc->n * sizeof(int16_t));
	lc->muted = true;
	lc->stats.muted_frames++;
}

/* The caller's speech boundaries from the VAD on the frame we give. */
static void speech_truth(struct live_caller *lc, const struct vagent_frame *f,
			 struct vagent_speech_truth *truth)
{
	struct vagent_vad_result res;

	if (vagent_vad_process(lc->vad, f, &res, NULL) == VAGENT_OK) {
		if (!lc->muted && !res.speech_like && !lc->speaking)
			memcpy(lc->quiet, f->samples, lc->n * sizeof(int16_t));
		if (res.event == VAGENT_VAD_START) {
			lc->speaking = true;
			lc->utterance++;
			lc->speech_start = res.event_pts;
			lc->speech_end = f->pts + lc->frame_ticks;
		} else if (res.event == VAGENT_VAD_END) {
			lc->speaking = false;
			lc->speech_end = res.event_pts;
		} else if (lc->speaking && res.speech_like) {
			lc->speech_end = f->pts + lc->frame_ticks;
		}
	}
	truth->speaking = lc->speaking;
	truth->utterance = lc->utterance;
	truth->text = NULL;
	truth->start = lc->speech_start;
	truth->end = lc->speech_end;
}

static vagent_status lc_frame(struct vagent_caller *c, struct vagent_frame *f,
			      struct vagent_speech_truth *truth)
{
	struct live_caller *lc = (struct live_caller *)c;
	size_t n = lc->n, take;
	struct vagent_error err;

	if (atomic_load(&lc->hangup))
		return VAGENT_EOS;
	if (lc->failure != VAGENT_OK)
		return lc->failure;
	if (!lc->started && lc->audio.start) {
		/* the devices start with the call, not while the engines load */
		vagent_status st = lc->audio.start(lc->audio.ctx, &err);

		if (st != VAGENT_OK) {
			lc->failure = st;
			snprintf(lc->failure_msg, sizeof(lc->failure_msg), "%s", err.message);
			return st;
		}
	}
	lc->started = true;
	if (lc->audio.status) {
		vagent_status st = lc->audio.status(lc->audio.ctx, &err);

		if (st != VAGENT_OK) {
			lc->failure = st;
			snprintf(lc->failure_msg, sizeof(lc->failure_msg), "%s", err.message);
			return st;
		}
	}
	if (f->n != n)
		return VAGENT_EINTERNAL;
	pull(lc);
	take = lc->len < n ? lc->len : n;
	if (take < n && !lc->eof)
		lc->stats.underruns++;
	memcpy(lc->scratch_mic, lc->mic, take * sizeof(int16_t));
	memcpy(lc->scratch_ref, lc->ref, take * sizeof(int16_t));
	memset(lc->scratch_mic + take, 0, (n - take) * sizeof(int16_t));
	memset(lc->scratch_ref + take, 0, (n - take) * sizeof(int16_t));
	memmove(lc->mic, lc->mic + take, (lc->len - take) * sizeof(int16_t));
	memmove(lc->ref, lc->ref + take, (lc->len - take) * sizeof(int16_t));
	lc->len -= take;
	lc->stats.frames++;
	lc->muted = false;

	switch (lc->echo) {
	case VAGENT_ECHO_AEC:
		vagent_echo_canceller_process(lc->ec, lc->scratch_mic, lc->scratch_ref,
					      f->samples);
		/* until the filter has adapted (its first seconds of echo
		 * leak through), the mic is muted while the agent plays */
		if (!lc->converged) {
			if (has_sound(lc->scratch_ref, n)) {
				converge(lc, lc->scratch_mic, f->samples, n);
				lc->warm_hold = lc->hangover;
			} else {
				lc->warm_hold = lc->warm_hold > n ? lc->warm_hold - n : 0;
			}
			if (has_sound(lc->scratch_ref, n) || lc->warm_hold)
				mute(lc, f);
		} else if (lc->nlp > 0 && has_sound(lc->scratch_ref, n) &&
			   energy(f->samples, n) < energy(lc->scratch_mic, n) * lc->nlp) {
			/* the filter took most of the frame away: what is
			 * left is residual echo, not a caller talking over
			 * the agent (their voice is not in the reference) */
			mute(lc, f);
		}
		break;
	case VAGENT_ECHO_HALF_DUPLEX:
		if (lc->mute) {
			mute(lc, f);
			lc->mute = lc->mute > n ? lc->mute - n : 0;
			break;
		}
		/* fall through */
	default:
		memcpy(f->samples, lc->scratch_mic, n * sizeof(int16_t));
		break;
	}
	speech_truth(lc, f, truth);

	/* an input that ended (a WAV): hang up once the agent has answered */
	if (!lc->eof && lc->audio.input_eof && lc->audio.input_eof(lc->audio.ctx) &&
	    lc->len == 0) {
		lc->eof = true;
		lc->eof_at = f->pts;
	}
	if (lc->eof && !lc->speaking && !lc->agent_speaking) {
		int64_t quiet = lc->agent_quiet_since > lc->eof_at ? lc->agent_quiet_since
								   : lc->eof_at;

		if (f->pts - quiet >= (int64_t)lc->cfg.hangup_after_ms * VAGENT_TICKS_PER_MS)
			return VAGENT_EOS;
	}
	return VAGENT_OK;
}

static void lc_agent_audio(struct vagent_caller *c, const struct vagent_frame *f)
{
	struct live_caller *lc = (struct live_caller *)c;
	size_t done;

	/* silence only keeps the output going: none is queued beyond
	 * LC_QUEUE_MS, so a device that took a long run-up does not delay
	 * every reply by it */
	if (!has_sound(f->samples, f->n) &&
	    lc->audio.pending(lc->audio.ctx) > lc->max_queue)
		return;
	done = lc->audio.write(lc->audio.ctx, f->samples, f->n);
	lc->stats.output_dropped += f->n - done;
	if (lc->echo != VAGENT_ECHO_HALF_DUPLEX)
		return;
	/* muted until this frame has played, and the hangover */
	if (has_sound(f->samples, f->n))
		lc->mute = lc->audio.pending(lc->audio.ctx) + lc->hangover;
}

static void lc_agent_event(struct vagent_caller *c, vagent_agent_event ev, int64_t t)
{
	struct live_caller *lc = (struct live_caller *)c;

	lc->agent_speaking = ev == VAGENT_AGENT_SPEAKING;
	if (!lc->agent_speaking)
		lc->agent_quiet_since = t;
}

static void lc_trace_event(struct vagent_caller *c, const struct vagent_trace_event *ev,
			   int64_t t)
{
	struct live_caller *lc = (struct live_caller *)c;

	/* a reply being prepared keeps a WAV caller on the line */
	if (ev->type == VAGENT_TRACE_TURN_END || ev->type == VAGENT_TRACE_LLM_REQUEST ||
	    ev->type == VAGENT_TRACE_TTS_REQUEST)
		lc->agent_quiet_since = t > lc->agent_quiet_since ? t : lc->agent_quiet_since;
	if (lc->on_event)
		lc->on_event(lc->arg, ev, t);
}

static void lc_free(struct vagent_caller *c)
{
	struct live_caller *lc = (struct live_caller *)c;

	vagent_echo_canceller_free(lc->ec);
	vagent_vad_free(lc->vad);
	free(lc->mic);
	free(lc->ref);
	free(lc->scratch_mic);
	free(lc->scratch_ref);
	free(lc->quiet);
	free(lc);
}

static const struct vagent_caller_ops live_caller_ops = {
	.frame = lc_frame,
	.agent_event = lc_agent_event,
	.free = lc_free,
	.trace_event = lc_trace_event,
	.agent_audio = lc_agent_audio,
};

vagent_status vagent_live_caller_new(const struct vagent_live_caller_config *cfg,
				     struct vagent_caller **out, struct vagent_error *err)
{
	struct live_caller *lc;
	struct vagent_vad_config vc;
	vagent_status st;

	*out = NULL;
	if (cfg->rate != 8000 && cfg->rate != 16000)
		return vagent__error_set(err, VAGENT_EINVAL, LC_WHERE,
					 "rate %d Hz: must be 8000 or 16000", cfg->rate);
	if (cfg->max_buffer_ms < 20 || cfg->max_buffer_ms > 10000 ||
	    cfg->half_duplex_hangover_ms < 0 || cfg->half_duplex_hangover_ms > 5000 ||
	    cfg->hangup_after_ms < 0 || cfg->aec_warmup_ms < 0 || cfg->aec_warmup_ms > 60000 ||
	    cfg->aec_residual_gate_db < 0 || cfg->aec_residual_gate_db > 60)
		return vagent__error_set(err, VAGENT_EINVAL, LC_WHERE,
					 "buffer 20..10000 ms, hangover 0..5000 ms, "
					 "AEC warm-up 0..60000 ms, residual gate 0..60 dB, "
					 "hang-up delay >= 0");
	lc = calloc(1, sizeof(*lc));
	if (!lc)
		return vagent__error_set(err, VAGENT_ENOMEM, LC_WHERE, "out of memory");
	lc->base.ops = &live_caller_ops;
	lc->cfg = *cfg;
	if (cfg->io) {
		st = vagent__chat_io_audio(cfg->io, &lc->audio, err);
		if (st != VAGENT_OK) {
			free(lc);
			return st;
		}
	} else {
		lc->audio = cfg->audio;
	}
	if (!lc->audio.read || !lc->audio.write || !lc->audio.pending) {
		free(lc);
		return vagent__error_set(err, VAGENT_EINVAL, LC_WHERE,
					 "no audio: neither devices nor read/write/pending");
	}
	lc->echo = cfg->echo;
	if (lc->echo == VAGENT_ECHO_AUTO)
		lc->echo = lc->audio.has_reference ? VAGENT_ECHO_AEC : VAGENT_ECHO_HALF_DUPLEX;
	lc->stats.echo = lc->echo;
	lc->n = vagent_frame_samples_for(cfg->rate, 20);
	lc->frame_ticks = 20 * VAGENT_TICKS_PER_MS;
	lc->cap = lc->n + vagent_frame_samples_for(cfg->rate, cfg->max_buffer_ms);
	lc->hangover = vagent_frame_samples_for(cfg->rate, cfg->half_duplex_hangover_ms);
	lc->warmup = vagent_frame_samples_for(cfg->rate, cfg->aec_warmup_ms);
	lc->max_queue = vagent_frame_samples_for(cfg->rate, LC_QUEUE_MS);
	lc->nlp = cfg->aec_residual_gate_db > 0 ? pow(10, -cfg->aec_residual_gate_db / 10.0) : 0;
	lc->mic = calloc(lc->cap, sizeof(int16_t));
	lc->ref = calloc(lc->cap, sizeof(int16_t));
	lc->scratch_mic = calloc(lc->cap, sizeof(int16_t));
	lc->scratch_ref = calloc(lc->cap, sizeof(int16_t));
	lc->quiet = calloc(lc->n, sizeof(int16_t));
	atomic_init(&lc->hangup, 0);
	if (!lc->mic || !lc->ref || !lc->scratch_mic || !lc->scratch_ref || !lc->quiet) {
		lc_free(&lc->base);
		return vagent__error_set(err, VAGENT_ENOMEM, LC_WHERE, "out of memory");
	}
	vc = cfg->vad;
	vc.rate = cfg->rate;
	vc.frame_ms = 20;
	st = vagent_vad_new(&vc, &lc->vad, err);
	if (st == VAGENT_OK && lc->echo == VAGENT_ECHO_AEC)
		st = vagent_echo_canceller_new(cfg->rate, lc->n, cfg->aec_tail_ms,
					       cfg->aec_suppress, &lc->ec, err);
	if (st != VAGENT_OK) {
		lc_free(&lc->base);
		return st;
	}
	*out = &lc->base;
	return VAGENT_OK;
}

void vagent_live_caller_hangup(struct vagent_caller *c)
{
	if (c && c->ops == &live_caller_ops)
		atomic_store(&((struct live_caller *)c)->hangup, 1);
}

void vagent_live_caller_on_event(struct vagent_caller *c,
				 void (*fn)(void *arg, const struct vagent_trace_event *ev,
					    int64_t t),
				 void *arg)
{
	struct live_caller *lc = (struct live_caller *)c;

	if (!c || c->ops != &live_caller_ops)
		return;
	lc->on_event = fn;
	lc->arg = arg;
}

void vagent_live_caller_stats(const struct vagent_caller *c,
			      struct vagent_live_caller_stats *out)
{
	memset(out, 0, sizeof(*out));
	if (c && c->ops == &live_caller_ops)
		*out = ((const struct live_caller *)c)->stats;
}

vagent_status vagent_live_caller_status(const struct vagent_caller *c,
					struct vagent_error *err)
{
	const struct live_caller *lc = (const struct live_caller *)c;

	if (!c || c->ops != &live_caller_ops || lc->failure == VAGENT_OK)
		return VAGENT_OK;
	return vagent__error_set(err, lc->failure, NULL, "%s", lc->failure_msg);
}
