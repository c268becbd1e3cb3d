/*
 * leg.c — the caller's telephone leg: a caller decorator that adds
 * background noise at a target SNR, puts each 20 ms frame through a codec
 * (PCM16, G.711 μ-law/A-law, Opus) as one packet, loses packets (Gilbert
 * model) or lets them arrive too late for the jitter buffer, and conceals
 * the gaps (Opus PLC; repetition-then-fade for G.711 and PCM). Also the
 * active speech level (P.56-like) the SNR is set against.
 * docs/simulation.md "The caller's telephone leg".
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "core/internal.h"
#include "audio/audio_int.h"

#define LEG_WHERE "leg"
/* Generator streams: loss and jitter draw independently. */
#define LEG_STREAM_LOSS   UINT64_C(0x1e61055)
#define LEG_STREAM_JITTER UINT64_C(0x1e6717e)
/* Repetition-then-fade PLC: the last good packet repeats at full level for
 * 10 ms, then fades linearly to silence at 60 ms (as G.711 Appendix I). */
#define PLC_HOLD_MS 10
#define PLC_MUTE_MS 60
/* P.56's margin between the active level and the activity threshold. */
#define ACTIVE_MARGIN_DB 15.9

struct leg {
	struct vagent_caller base;
	struct vagent_caller *inner;
	int rate;
	vagent_encoding codec;
	size_t n;                       /* samples per packet (20 ms) */
	struct vagent_audio *noise;     /* owned copy, or NULL */
	double noise_gain;              /* noise sample → int16 units */
	struct vagent_opus_encoder *enc;
	struct vagent_opus_decoder *dec;
	/* the network */
	double loss;
	double p_good_to_bad, p_bad_to_good;
	bool bad, started;
	struct vagent__rng loss_rng, jitter_rng;
	int jitter_ms, jitter_buffer_ms;
	/* concealment (G.711, PCM) */
	int16_t last[VAGENT_FRAME_MAX_SAMPLES];
	bool have_last;
	size_t concealed;               /* samples concealed since the last good packet */
	struct vagent_leg_stats stats;
};

static const struct vagent_caller_ops leg_ops;

struct vagent_leg_config vagent_leg_config_default(void)
{
	struct vagent_leg_config c = {
		.rate = 16000,
		.codec = VAGENT_ENC_PCM16,
		.opus_bitrate = 0,
		.noise = NULL,
		.snr_db = 20.0,
		.speech_dbfs = -26.0,
		.loss = 0.0,
		.loss_burst = 1.0,
		.jitter_ms = 0,
		.jitter_buffer_ms = 60,
		.seed = 0,
	};

	return c;
}

static int16_t clip_round(double v)
{
	return v >= 32767.0 ? 32767 : v <= -32768.0 ? -32768 : (int16_t)lrint(v);
}

/* Is packet k lost in the network? The Gilbert model: in the bad state
 * every packet is lost; the state changes with p_good_to_bad and
 * p_bad_to_good per packet; the first packet's state is drawn from the
 * stationary distribution. One draw per packet, whatever the state. */
static bool network_loses(struct leg *l)
{
	double u = vagent__rng_double(&l->loss_rng);

	if (l->loss <= 0.0)
		return false;
	if (l->loss >= 1.0)
		return true;
	if (!l->started)
		l->bad = u < l->loss;
	else if (l->bad)
		l->bad = !(u < l->p_bad_to_good);
	else
		l->bad = u < l->p_good_to_bad;
	l->started = true;
	return l->bad;
}

/* Repetition-then-fade: the last good packet, repeated and faded. */
static void conceal(struct leg *l, int16_t *out)
{
	size_t hold = (size_t)l->rate * PLC_HOLD_MS / 1000;
	size_t mute = (size_t)l->rate * PLC_MUTE_MS / 1000;

	for (size_t j = 0; j < l->n; j++) {
		size_t k = l->concealed + j;
		double g = k < hold ? 1.0 : k < mute ?
			   1.0 - (double)(k - hold) / (double)(mute - hold) : 0.0;

		out[j] = l->have_last && g > 0.0 ?
			 clip_round(g * l->last[k % l->n]) : 0;
	}
	l->concealed += l->n;
}

static vagent_status leg_frame(struct vagent_caller *base, struct vagent_frame *f,
			       struct vagent_speech_truth *truth)
{
	struct leg *l = (struct leg *)base;
	struct vagent_frame packet;
	uint8_t bytes[VAGENT_FRAME_MAX_SAMPLES];
	bool lost, late = false;
	int delay_ms;
	vagent_status st;

	if (f->rate != l->rate || f->channels != 1 || f->n != l->n)
		return VAGENT_EINVAL;
	st = l->inner->ops->frame(l->inner, f, truth);
	if (st != VAGENT_OK)
		return st;

	/* the caller's room: noise at the configured level, looped on the
	 * call's sample clock */
	if (l->noise) {
		int64_t first = vagent_ticks_to_samples(f->pts, l->rate);
		size_t len = l->noise->frames;
		size_t pos = (size_t)(first % (int64_t)len);

		for (size_t j = 0; j < f->n; j++) {
			f->samples[j] = clip_round(f->samples[j] +
						   l->noise_gain * l->noise->samples[pos]);
			if (++pos == len)
				pos = 0;
		}
	}

	/* the network: both draws for every packet, so a change of one
	 * setting does not move the other's pattern */
	lost = network_loses(l);
	delay_ms = l->jitter_ms > 0 ?
		   (int)vagent__rng_range(&l->jitter_rng, (int64_t)l->jitter_ms + 1) : 0;
	if (!lost && delay_ms > l->jitter_buffer_ms)
		late = lost = true;
	l->stats.packets++;
	l->stats.lost += lost;
	l->stats.late += late;

	/* the codec: encode always (the encoder's state runs on), decode
	 * what arrived, conceal what did not */
	switch (l->codec) {
	case VAGENT_ENC_OPUS: {
		size_t len = 0;

		st = vagent_opus_encode(l->enc, f, bytes, sizeof(bytes), &len, NULL);
		if (st != VAGENT_OK)
			return st;
		packet.pts = f->pts;
		st = vagent_opus_decode(l->dec, lost ? NULL : bytes, lost ? 0 : len,
					&packet, NULL);
		if (st != VAGENT_OK)
			return st;
		if (packet.n != f->n)
			return VAGENT_EINTERNAL;
		memcpy(f->samples, packet.samples, f->n * sizeof(int16_t));
		return VAGENT_OK;
	}
	case VAGENT_ENC_ULAW:
		vagent_ulaw_encode_buf(f->samples, bytes, f->n);
		if (!lost)
			vagent_ulaw_decode_buf(bytes, f->samples, f->n);
		break;
	case VAGENT_ENC_ALAW:
		vagent_alaw_encode_buf(f->samples, bytes, f->n);
		if (!lost)
			vagent_alaw_decode_buf(bytes, f->samples, f->n);
		break;
	default:        /* PCM16: the samples are the packet */
		break;
	}
	if (lost) {
		conceal(l, f->samples);
	} else {
		memcpy(l->last, f->samples, f->n * sizeof(int16_t));
		l->have_last = true;
		l->concealed = 0;
	}
	return VAGENT_OK;
}

static void leg_agent_event(struct vagent_caller *base, vagent_agent_event ev,
			    int64_t t)
{
	struct leg *l = (struct leg *)base;

	if (l->inner->ops->agent_event)
		l->inner->ops->agent_event(l->inner, ev, t);
}

static void leg_trace_event(struct vagent_caller *base,
			    const struct vagent_trace_event *ev, int64_t t)
{
	struct leg *l = (struct leg *)base;

	if (l->inner->ops->trace_event)
		l->inner->ops->trace_event(l->inner, ev, t);
}

static void leg_free(struct vagent_caller *base)
{
	struct leg *l = (struct leg *)base;

	if (!l)
		return;
	vagent_caller_free(l->inner);
	vagent_audio_free(l->noise);
	vagent_opus_encoder_free(l->enc);
	vagent_opus_decoder_free(l->dec);
	free(l);
}

static const struct vagent_caller_ops leg_ops = {
	.frame = leg_frame,
	.agent_event = leg_agent_event,
	.free = leg_free,
	.trace_event = leg_trace_event,
};

static vagent_status check_config(const struct vagent_leg_config *c,
				  struct vagent_error *err)
{
	if (c->rate != 8000 && c->rate != 16000)
		return vagent__error_set(err, VAGENT_EINVAL, LEG_WHERE,
					 "rate: %d Hz is not supported (8000 or 16000)",
					 c->rate);
	if (c->codec != VAGENT_ENC_DEFAULT && c->codec != VAGENT_ENC_PCM16 &&
	    c->codec != VAGENT_ENC_ULAW && c->codec != VAGENT_ENC_ALAW &&
	    c->codec != VAGENT_ENC_OPUS)
		return vagent__error_set(err, VAGENT_EINVAL, LEG_WHERE,
					 "codec: %s is not a telephone codec (pcm16, ulaw, alaw or opus)",
					 vagent_encoding_name(c->codec));
	if ((c->codec == VAGENT_ENC_ULAW || c->codec == VAGENT_ENC_ALAW) &&
	    c->rate != 8000)
		return vagent__error_set(err, VAGENT_EINVAL, LEG_WHERE,
					 "codec: %s needs a rate of 8000 Hz (got %d)",
					 vagent_encoding_name(c->codec), c->rate);
	if (c->codec == VAGENT_ENC_OPUS && c->opus_bitrate != 0 &&
	    (c->opus_bitrate < 6000 || c->opus_bitrate > 510000))
		return vagent__error_set(err, VAGENT_EINVAL, LEG_WHERE,
					 "opus_bitrate: %d is out of range (6000..510000 bits/s)",
					 c->opus_bitrate);
	if (c->noise) {
		if (c->noise->channels != 1 || c->noise->rate != c->rate)
			return vagent__error_set(err, VAGENT_EINVAL, LEG_WHERE,
						 "noise: must be mono at %d Hz (got %d channels at %d Hz)",
						 c->rate, c->noise->channels, c->noise->rate);
		if (c->noise->frames == 0 || vagent_audio_rms(c->noise) <= 0.0)
			return vagent__error_set(err, VAGENT_EINVAL, LEG_WHERE,
						 "noise: is silent");
		if (!isfinite(c->snr_db) || !isfinite(c->speech_dbfs))
			return vagent__error_set(err, VAGENT_EINVAL, LEG_WHERE,
						 "snr_db and speech_dbfs must be finite numbers");
	}
	if (!(c->loss >= 0.0 && c->loss <= 1.0))
		return vagent__error_set(err, VAGENT_EINVAL, LEG_WHERE,
					 "loss: %g is out of range (0..1)", c->loss);
	if (!(c->loss_burst >= 1.0) || !isfinite(c->loss_burst))
		return vagent__error_set(err, VAGENT_EINVAL, LEG_WHERE,
					 "loss_burst: %g packets is below 1", c->loss_burst);
	/* bursts of mean b at rate L need p = L / (b (1 - L)) <= 1 */
	if (c->loss > 0.0 && c->loss < 1.0 &&
	    c->loss > c->loss_burst * (1.0 - c->loss))
		return vagent__error_set(err, VAGENT_EINVAL, LEG_WHERE,
					 "loss: %g cannot be reached with bursts of %g packets (loss_burst must be at least %.2f)",
					 c->loss, c->loss_burst, c->loss / (1.0 - c->loss));
	if (c->jitter_ms < 0 || c->jitter_ms > 10000)
		return vagent__error_set(err, VAGENT_EINVAL, LEG_WHERE,
					 "jitter_ms: %d is out of range (0..10000)", c->jitter_ms);
	if (c->jitter_buffer_ms < 0 || c->jitter_buffer_ms > 10000)
		return vagent__error_set(err, VAGENT_EINVAL, LEG_WHERE,
					 "jitter_buffer_ms: %d is out of range (0..10000)",
					 c->jitter_buffer_ms);
	return VAGENT_OK;
}

vagent_status vagent_leg_caller_new(struct vagent_caller *inner,
				    const struct vagent_leg_config *cfg,
				    struct vagent_caller **out, struct vagent_error *err)
{
	struct leg *l = NULL;
	vagent_status st;

	*out = NULL;
	if (!inner || !inner->ops || !inner->ops->frame) {
		st = vagent__error_set(err, VAGENT_EINVAL, LEG_WHERE, "no caller to wrap");
		goto fail;
	}
	if (!cfg) {
		st = vagent__error_set(err, VAGENT_EINVAL, LEG_WHERE, "no configuration");
		goto fail;
	}
	st = check_config(cfg, err);
	if (st != VAGENT_OK)
		goto fail;
	l = calloc(1, sizeof(*l));
	if (!l) {
		st = vagent__error_set(err, VAGENT_ENOMEM, LEG_WHERE, "out of memory");
		goto fail;
	}
	l->base.ops = &leg_ops;
	l->inner = inner;
	inner = NULL;
	l->rate = cfg->rate;
	l->codec = cfg->codec;
	l->n = vagent_frame_samples_for(cfg->rate, 20);
	if (cfg->noise) {
		double level = pow(10.0, (cfg->speech_dbfs - cfg->snr_db) / 20.0);

		l->noise = vagent_audio_dup(cfg->noise);
		if (!l->noise) {
			st = vagent__error_set(err, VAGENT_ENOMEM, LEG_WHERE, "out of memory");
			goto fail;
		}
		l->noise_gain = 32768.0 * level / vagent_audio_rms(cfg->noise);
	}
	if (cfg->codec == VAGENT_ENC_OPUS) {
		struct vagent_opus_config oc = vagent_opus_config_default();

		oc.rate = cfg->rate;
		oc.bitrate = cfg->opus_bitrate ? cfg->opus_bitrate : 16000;
		st = vagent_opus_encoder_new(&oc, &l->enc, err);
		if (st == VAGENT_OK)
			st = vagent_opus_decoder_new(cfg->rate, 1, &l->dec, err);
		if (st != VAGENT_OK)
			goto fail;
	}
	l->loss = cfg->loss;
	l->p_bad_to_good = 1.0 / cfg->loss_burst;
	if (cfg->loss > 0.0 && cfg->loss < 1.0)
		l->p_good_to_bad = cfg->loss * l->p_bad_to_good / (1.0 - cfg->loss);
	vagent__rng_seed(&l->loss_rng, cfg->seed, LEG_STREAM_LOSS);
	vagent__rng_seed(&l->jitter_rng, cfg->seed, LEG_STREAM_JITTER);
	l->jitter_ms = cfg->jitter_ms;
	l->jitter_buffer_ms = cfg->jitter_buffer_ms;
	*out = &l->base;
	return VAGENT_OK;

fail:
	vagent_caller_free(inner);
	leg_free(l ? &l->base : NULL);
	return st;
}

void vagent_leg_caller_stats(const struct vagent_caller *leg,
			     struct vagent_leg_stats *out)
{
	memset(out, 0, sizeof(*out));
	if (leg && leg->ops == &leg_ops)
		*out = ((const struct leg *)leg)->stats;
}

/*
 * The active level: the mean power over the 20 ms windows whose level is
 * at least ACTIVE_MARGIN_DB below it (P.56's margin between the active
 * level and the activity threshold), found by fixed-point iteration from
 * the level of the whole buffer: each round drops the windows below the
 * threshold, which can only raise the level, so it ends.
 */
double vagent_audio_active_level_dbfs(const struct vagent_audio *a)
{
	size_t per, n_win, total;
	double *power = NULL, level, sum = 0.0;

	if (!a || !a->frames || a->channels < 1 || a->rate <= 0)
		return -100.0;
	per = (size_t)a->rate / 50;
	if (per == 0)
		per = 1;
	n_win = (a->frames + per - 1) / per;
	total = a->frames * (size_t)a->channels;
	power = calloc(n_win, sizeof(*power));
	if (!power)
		return -100.0;
	/* power[w]: the sum of squares of window w */
	for (size_t i = 0; i < total; i++) {
		double x = a->samples[i];

		power[i / ((size_t)a->channels * per)] += x * x;
		sum += x * x;
	}
	if (sum <= 0.0) {
		free(power);
		return -100.0;
	}
	level = 10.0 * log10(sum / (double)total);
	for (int round = 0; round < 1000; round++) {
		double thr = pow(10.0, (level - ACTIVE_MARGIN_DB) / 10.0);
		double s = 0.0, next;
		size_t count = 0;

		for (size_t w = 0; w < n_win; w++) {
			size_t len = (w + 1 < n_win ? per : a->frames - w * per) *
				     (size_t)a->channels;

			if (power[w] > 0.0 && power[w] / (double)len >= thr) {
				s += power[w];
				count += len;
			}
		}
		next = 10.0 * log10(s / (double)count);
		if (next <= level + 1e-9) {
			level = next > level ? next : level;
			break;
		}
		level = next;
	}
	free(power);
	return level < -100.0 ? -100.0 : level;
}
