/*
 * resample.c — streaming sample-rate conversion with speexdsp's resampler,
 * with its filter delay removed (or kept constant for frame pipelines) and
 * an exact output length at end of stream.
 */
#include "audio/audio_int.h"

#include <stdlib.h>
#include <string.h>

#include <speex/speex_resampler.h>

struct vagent_resampler {
	SpeexResamplerState *st;
	struct vagent_resampler_config cfg;
	int in_latency;        /* filter half-length, input samples */
	int64_t in_total;      /* frames pushed since the stream started */
	int64_t out_total;     /* frames delivered since the stream started */
	float *zeros;          /* flush input, in_latency * 2 frames */
};

struct vagent_resampler_config vagent_resampler_config_default(void)
{
	struct vagent_resampler_config c = {
		.in_rate = 0,
		.out_rate = 0,
		.channels = 1,
		.quality = 7,
		.compensate_delay = true,
	};
	return c;
}

static void start_stream(struct vagent_resampler *rs)
{
	speex_resampler_reset_mem(rs->st);
	/* skip_zeros starts the filter half a window in, so output sample 0
	 * is centred on input sample 0 instead of filt_len/2 samples before. */
	if (rs->cfg.compensate_delay)
		speex_resampler_skip_zeros(rs->st);
	rs->in_total = 0;
	rs->out_total = 0;
}

vagent_status vagent_resampler_new(const struct vagent_resampler_config *cfg,
				   struct vagent_resampler **out,
				   struct vagent_error *err)
{
	struct vagent_resampler *rs = NULL;
	int e = 0;

	*out = NULL;
	if (cfg->in_rate < 1000 || cfg->in_rate > 384000 || cfg->out_rate < 1000 ||
	    cfg->out_rate > 384000 || cfg->channels < 1 || cfg->channels > 64 ||
	    cfg->quality < 0 || cfg->quality > 10)
		return vagent__error_set(err, VAGENT_EINVAL, "resampler",
					 "unsupported settings (%d Hz → %d Hz, %d channels, quality %d)",
					 cfg->in_rate, cfg->out_rate, cfg->channels, cfg->quality);
	rs = calloc(1, sizeof(*rs));
	if (!rs)
		return vagent__error_set(err, VAGENT_ENOMEM, "resampler", "out of memory");
	rs->cfg = *cfg;
	rs->st = speex_resampler_init((spx_uint32_t)cfg->channels, (spx_uint32_t)cfg->in_rate,
				      (spx_uint32_t)cfg->out_rate, cfg->quality, &e);
	if (!rs->st) {
		free(rs);
		return vagent__error_set(err, VAGENT_EINVAL, "resampler", "%s",
					 speex_resampler_strerror(e));
	}
	rs->in_latency = speex_resampler_get_input_latency(rs->st);
	rs->zeros = calloc((size_t)rs->in_latency * 2 + 1, sizeof(float) * (size_t)cfg->channels);
	if (!rs->zeros) {
		vagent_resampler_free(rs);
		return vagent__error_set(err, VAGENT_ENOMEM, "resampler", "out of memory");
	}
	start_stream(rs);
	*out = rs;
	return VAGENT_OK;
}

void vagent_resampler_free(struct vagent_resampler *rs)
{
	if (!rs)
		return;
	if (rs->st)
		speex_resampler_destroy(rs->st);
	free(rs->zeros);
	free(rs);
}

double vagent_resampler_delay(const struct vagent_resampler *rs)
{
	return (double)rs->in_latency * rs->cfg.out_rate / rs->cfg.in_rate;
}

size_t vagent_resampler_max_output(const struct vagent_resampler *rs,
				   size_t in_frames)
{
	uint64_t n = (uint64_t)in_frames + 2 * (uint64_t)rs->in_latency + 1;

	return (size_t)((n * (uint64_t)rs->cfg.out_rate + (uint64_t)rs->cfg.in_rate - 1) /
			(uint64_t)rs->cfg.in_rate) + 2;
}

/* Push input through speex; fails if `out_cap` runs out before all input
 * is consumed (which max_output() rules out). */
static vagent_status run(struct vagent_resampler *rs, const float *in, size_t in_frames,
			 float *out, size_t out_cap, size_t *out_frames)
{
	size_t done_in = 0, done_out = 0;

	while (done_in < in_frames) {
		spx_uint32_t il = (spx_uint32_t)(in_frames - done_in > 1u << 20 ? 1u << 20 : in_frames - done_in);
		spx_uint32_t ol = (spx_uint32_t)(out_cap - done_out > 1u << 22 ? 1u << 22 : out_cap - done_out);
		size_t ch = (size_t)rs->cfg.channels;

		speex_resampler_process_interleaved_float(rs->st, in + done_in * ch, &il,
							  out + done_out * ch, &ol);
		done_in += il;
		done_out += ol;
		if (il == 0 && ol == 0)
			break;
	}
	*out_frames = done_out;
	return done_in == in_frames ? VAGENT_OK : VAGENT_EINVAL;
}

vagent_status vagent_resampler_process(struct vagent_resampler *rs,
				       const float *in, size_t in_frames,
				       float *out, size_t out_cap,
				       size_t *out_frames)
{
	vagent_status st;

	*out_frames = 0;
	if (out_cap < vagent_resampler_max_output(rs, in_frames))
		return VAGENT_EINVAL;
	st = run(rs, in, in_frames, out, out_cap, out_frames);
	rs->in_total += (int64_t)in_frames;
	rs->out_total += (int64_t)*out_frames;
	return st;
}

vagent_status vagent_resampler_flush(struct vagent_resampler *rs, float *out,
				     size_t out_cap, size_t *out_frames)
{
	int64_t target;
	size_t got = 0, n;
	size_t ch = (size_t)rs->cfg.channels;
	vagent_status st = VAGENT_OK;

	*out_frames = 0;
	if (!rs->cfg.compensate_delay) {
		start_stream(rs);
		return VAGENT_OK;
	}
	if (out_cap < vagent_resampler_max_output(rs, 0))
		return VAGENT_EINVAL;
	target = (rs->in_total * rs->cfg.out_rate + rs->cfg.in_rate / 2) / rs->cfg.in_rate;
	/* Zeros push the last real samples through the filter's second half. */
	while (rs->out_total + (int64_t)got < target) {
		size_t want = (size_t)(target - rs->out_total) - got;
		float tmp[4096];
		size_t cap = sizeof(tmp) / sizeof(tmp[0]) / ch;
		size_t zin = (size_t)rs->in_latency * 2 + 1;

		if (zin * (size_t)rs->cfg.out_rate / (size_t)rs->cfg.in_rate + 4 > cap)
			zin = cap * (size_t)rs->cfg.in_rate / (size_t)rs->cfg.out_rate / 2;
		st = run(rs, rs->zeros, zin, tmp, cap, &n);
		if (st)
			break;
		if (n > want)
			n = want;
		if (got + n > out_cap) {
			st = VAGENT_EINVAL;
			break;
		}
		memcpy(out + got * ch, tmp, n * ch * sizeof(float));
		got += n;
	}
	*out_frames = got;
	start_stream(rs);
	return st;
}

vagent_status vagent_resampler_process_frame(struct vagent_resampler *rs,
					     const struct vagent_frame *in,
					     struct vagent_frame *out)
{
	float fin[VAGENT_FRAME_MAX_SAMPLES], fout[VAGENT_FRAME_MAX_SAMPLES];
	size_t ch = (size_t)rs->cfg.channels, total = in->n * ch, n = 0;
	int64_t start = rs->out_total;
	vagent_status st;

	if (in->rate != rs->cfg.in_rate || in->channels != rs->cfg.channels ||
	    total > VAGENT_FRAME_MAX_SAMPLES)
		return VAGENT_EINVAL;
	for (size_t i = 0; i < total; i++)
		fin[i] = vagent__s2f(in->samples[i]);
	st = run(rs, fin, in->n, fout, VAGENT_FRAME_MAX_SAMPLES / ch, &n);
	rs->in_total += (int64_t)in->n;
	rs->out_total += (int64_t)n;
	/* pts: where the stream started (the input pts minus the input already
	 * consumed) plus the output delivered so far, at the output rate. */
	vagent_frame_init(out, rs->cfg.out_rate, rs->cfg.channels, 0,
			  in->pts - vagent_ticks_from_samples(rs->in_total - (int64_t)in->n,
							      rs->cfg.in_rate) +
			  vagent_ticks_from_samples(start, rs->cfg.out_rate));
	out->n = n;
	for (size_t i = 0; i < n * ch; i++)
		out->samples[i] = vagent__f2s(fout[i]);
	return st;
}

vagent_status vagent_audio_resample(const struct vagent_audio *a, int rate,
				    int quality, struct vagent_audio **out,
				    struct vagent_error *err)
{
	struct vagent_resampler_config cfg = vagent_resampler_config_default();
	struct vagent_resampler *rs = NULL;
	struct vagent_audio *b = NULL;
	size_t n = 0, m = 0, cap;
	vagent_status st;

	*out = NULL;
	if (rate == a->rate) {
		b = vagent_audio_dup(a);
		if (!b)
			return vagent__error_set(err, VAGENT_ENOMEM, NULL, "out of memory");
		*out = b;
		return VAGENT_OK;
	}
	cfg.in_rate = a->rate;
	cfg.out_rate = rate;
	cfg.channels = a->channels;
	if (quality >= 0)
		cfg.quality = quality;
	st = vagent_resampler_new(&cfg, &rs, err);
	if (st)
		goto done;
	cap = vagent_resampler_max_output(rs, a->frames);
	b = vagent_audio_new(rate, a->channels, 0);
	if (!b || vagent__audio_reserve(b, cap)) {
		st = vagent__error_set(err, VAGENT_ENOMEM, NULL, "out of memory");
		goto done;
	}
	st = vagent_resampler_process(rs, a->samples, a->frames, b->samples, cap, &n);
	if (!st)
		st = vagent_resampler_flush(rs, b->samples + n * (size_t)a->channels, cap - n, &m);
	if (st) {
		st = vagent__error_set(err, VAGENT_EINTERNAL, "resampler", "output overflow");
		goto done;
	}
	b->frames = n + m;
	vagent__audio_copy_origin(b, a);
	*out = b;
	b = NULL;
done:
	vagent_resampler_free(rs);
	vagent_audio_free(b);
	return st;
}
