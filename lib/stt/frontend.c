/*
 * frontend.c — brings the call's audio to what the 16 kHz acoustic model
 * expects. 16 kHz passes through. 8 kHz telephone audio is upsampled
 * (speexdsp, streaming, constant delay). The 4-8 kHz band stays empty:
 * with the right cepstral mean (decoder.c starts live CMN from the
 * telephone-band mean) an empty band is neutral. Filling it with a low
 * noise floor, the first idea (the model's upper mel filters otherwise
 * see log(~0)), measured worse at every level tried (docs/stt.md "8 kHz"),
 * so it is off; VAGENT_STT_FILL_DBFS=-50 turns it on for experiments.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include <speex/speex_preprocess.h>

#include "stt/stt_int.h"

/* The denoiser's frame: speexdsp's preprocessor runs on whole frames of
 * this length at the call's rate; the output lags the input by one. */
#define DENOISE_FRAME_MS 20

/* Seed of the noise generator: the output is the same on every run. */
#define FILL_SEED UINT64_C(0x8000)
/* RMS level of the 4-8 kHz noise floor in dB relative to full scale;
 * -inf: no fill (the measured choice: docs/stt.md "8 kHz"). */
#define FILL_DBFS_DEFAULT ((double)-INFINITY)

struct vagent__stt_frontend {
	int rate;
	struct vagent_resampler *speech;    /* 8 -> 16 kHz */
	struct vagent_resampler *noise;     /* 8 -> 16 kHz: 0-4 kHz noise */
	struct vagent__rng rng;
	double fill_rms;                    /* of the 8 kHz white noise */
	uint64_t parity;                    /* output samples so far */
	float *in, *up, *nin, *nup;         /* scratch */
	size_t scratch;                     /* capacity of in/nin (8 kHz) */
	size_t scratch_up;                  /* capacity of up/nup */
	/* the denoiser (NULL: off): whole frames of dn_frame samples */
	SpeexPreprocessState *dn;
	int16_t *dn_buf;
	size_t dn_frame, dn_fill;
};

static double fill_dbfs(void)
{
	/* VAGENT_STT_FILL_DBFS: for experiments (docs/stt.md); off by -inf. */
	const char *s = getenv("VAGENT_STT_FILL_DBFS");
	char *end;
	double v;

	if (!s || !*s)
		return FILL_DBFS_DEFAULT;
	v = strtod(s, &end);
	return *end ? FILL_DBFS_DEFAULT : v;
}

vagent_status vagent__stt_frontend_new(int rate, double denoise_db,
				       const char *where,
				       struct vagent__stt_frontend **out,
				       struct vagent_error *err)
{
	struct vagent__stt_frontend *fe;
	struct vagent_resampler_config rc = vagent_resampler_config_default();
	vagent_status st;

	*out = NULL;
	if (rate != 8000 && rate != VAGENT__SPHINX_RATE)
		return vagent__error_set(err, VAGENT_EINVAL, where,
					 "rate: must be 8000 or 16000 Hz (got %d)",
					 rate);
	fe = calloc(1, sizeof(*fe));
	if (!fe)
		return vagent__error_set(err, VAGENT_ENOMEM, where,
					 "out of memory");
	fe->rate = rate;
	if (denoise_db > 0) {
		spx_int32_t on = 1, off = 0, level = -(spx_int32_t)lrint(denoise_db);

		fe->dn_frame = (size_t)rate * DENOISE_FRAME_MS / 1000;
		fe->dn_buf = malloc(fe->dn_frame * sizeof(*fe->dn_buf));
		fe->dn = speex_preprocess_state_init((int)fe->dn_frame, rate);
		if (!fe->dn_buf || !fe->dn) {
			vagent__stt_frontend_free(fe);
			return vagent__error_set(err, VAGENT_ENOMEM, where,
						 "out of memory");
		}
		speex_preprocess_ctl(fe->dn, SPEEX_PREPROCESS_SET_DENOISE, &on);
		speex_preprocess_ctl(fe->dn, SPEEX_PREPROCESS_SET_NOISE_SUPPRESS,
				     &level);
		speex_preprocess_ctl(fe->dn, SPEEX_PREPROCESS_SET_AGC, &off);
		speex_preprocess_ctl(fe->dn, SPEEX_PREPROCESS_SET_DEREVERB, &off);
	}
	if (rate == 8000) {
		double db = fill_dbfs();

		rc.in_rate = 8000;
		rc.out_rate = VAGENT__SPHINX_RATE;
		rc.compensate_delay = false;
		st = vagent_resampler_new(&rc, &fe->speech, err);
		if (st == VAGENT_OK)
			st = vagent_resampler_new(&rc, &fe->noise, err);
		if (st != VAGENT_OK) {
			vagent__stt_frontend_free(fe);
			return st;
		}
		/* Interpolation keeps the white noise's RMS (all of it in
		 * 0-4 kHz); the (-1)^n shift moves it to 4-8 kHz. */
		fe->fill_rms = isfinite(db) ? pow(10.0, db / 20.0) : 0;
		vagent__rng_seed(&fe->rng, FILL_SEED, 1);
	}
	*out = fe;
	return VAGENT_OK;
}

void vagent__stt_frontend_free(struct vagent__stt_frontend *fe)
{
	if (!fe)
		return;
	vagent_resampler_free(fe->speech);
	vagent_resampler_free(fe->noise);
	free(fe->in);
	free(fe->up);
	free(fe->nin);
	free(fe->nup);
	if (fe->dn)
		speex_preprocess_state_destroy(fe->dn);
	free(fe->dn_buf);
	free(fe);
}

static bool grow16(int16_t **buf, size_t *cap, size_t need)
{
	int16_t *nb;
	size_t nc;

	if (need <= *cap)
		return true;
	nc = *cap ? *cap : 4096;
	while (nc < need)
		nc *= 2;
	nb = realloc(*buf, nc * sizeof(*nb));
	if (!nb)
		return false;
	*buf = nb;
	*cap = nc;
	return true;
}

static bool grow_scratch(struct vagent__stt_frontend *fe, size_t n)
{
	size_t up = vagent_resampler_max_output(fe->speech, n);
	float *a, *b;

	if (n > fe->scratch) {
		a = realloc(fe->in, n * sizeof(*a));
		if (!a)
			return false;
		fe->in = a;
		b = realloc(fe->nin, n * sizeof(*b));
		if (!b)
			return false;
		fe->nin = b;
		fe->scratch = n;
	}
	if (up > fe->scratch_up) {
		a = realloc(fe->up, up * sizeof(*a));
		if (!a)
			return false;
		fe->up = a;
		b = realloc(fe->nup, up * sizeof(*b));
		if (!b)
			return false;
		fe->nup = b;
		fe->scratch_up = up;
	}
	return true;
}

/* Gaussian (Box-Muller) with unit variance. */
static double gauss(struct vagent__rng *r)
{
	double u = vagent__rng_double(r), v = vagent__rng_double(r);

	return sqrt(-2.0 * log(1.0 - u)) * cos(2.0 * M_PI * v);
}

/* The rate conversion: `n` samples at the call's rate to 16 kHz. */
static bool convert(struct vagent__stt_frontend *fe, const int16_t *in,
		    size_t n, int16_t **out, size_t *len, size_t *cap)
{
	size_t got = 0, ngot = 0, i;

	if (fe->rate == VAGENT__SPHINX_RATE) {
		if (!grow16(out, cap, *len + n))
			return false;
		memcpy(*out + *len, in, n * sizeof(*in));
		*len += n;
		return true;
	}
	if (!grow_scratch(fe, n))
		return false;
	for (i = 0; i < n; i++) {
		fe->in[i] = (float)in[i] / 32768.0f;
		fe->nin[i] = (float)(fe->fill_rms * gauss(&fe->rng));
	}
	if (vagent_resampler_process(fe->speech, fe->in, n, fe->up,
				     fe->scratch_up, &got) != VAGENT_OK ||
	    vagent_resampler_process(fe->noise, fe->nin, n, fe->nup,
				     fe->scratch_up, &ngot) != VAGENT_OK)
		return false;
	if (ngot < got)
		got = ngot;     /* same rates and lengths: never in practice */
	if (!grow16(out, cap, *len + got))
		return false;
	for (i = 0; i < got; i++) {
		double noise = (fe->parity++ & 1) ? -fe->nup[i] : fe->nup[i];
		double v = ((double)fe->up[i] + noise) * 32768.0;

		if (v > 32767.0)
			v = 32767.0;
		else if (v < -32768.0)
			v = -32768.0;
		(*out)[*len + i] = (int16_t)lrint(v);
	}
	*len += got;
	return true;
}

bool vagent__stt_frontend_process(struct vagent__stt_frontend *fe,
				  const int16_t *in, size_t n, int16_t **out,
				  size_t *len, size_t *cap)
{
	size_t take;

	if (!fe->dn)
		return convert(fe, in, n, out, len, cap);
	while (n) {
		take = fe->dn_frame - fe->dn_fill;
		if (take > n)
			take = n;
		memcpy(fe->dn_buf + fe->dn_fill, in, take * sizeof(*in));
		fe->dn_fill += take;
		in += take;
		n -= take;
		if (fe->dn_fill < fe->dn_frame)
			break;
		speex_preprocess_run(fe->dn, fe->dn_buf);
		fe->dn_fill = 0;
		if (!convert(fe, fe->dn_buf, fe->dn_frame, out, len, cap))
			return false;
	}
	return true;
}

bool vagent__stt_frontend_flush(struct vagent__stt_frontend *fe, int16_t **out,
				size_t *len, size_t *cap)
{
	int16_t zeros[2 * (VAGENT__SPHINX_RATE * DENOISE_FRAME_MS / 1000)];

	if (!fe->dn)
		return true;
	memset(zeros, 0, sizeof(zeros));
	/* the partial frame, then one frame more: the denoiser's lag */
	return vagent__stt_frontend_process(fe, zeros,
					    (fe->dn_fill ? fe->dn_frame - fe->dn_fill : 0) +
					    fe->dn_frame, out, len, cap);
}
