/*
 * vad.c — frame-level voice activity detection: band-limited energy over an
 * adaptive (minimum-statistics) noise floor, pitch periodicity and a tone
 * detector, turned into a speech probability and a decision with onset and
 * hangover. See docs/vad.md for the algorithm and its measurements.
 */
#include <limits.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "core/internal.h"

/* Features are computed at 8 kHz; 16 kHz input is low-passed and halved. */
#define VAD_RATE       8000
#define VAD_MAX_N      160            /* 20 ms at 8 kHz */
#define VAD_MIN_LAG    20             /* 400 Hz */
#define VAD_HIGH_LAG   8              /* 1000 Hz: lags 8..19 are 'too high for a voice' */
#define VAD_HIGH_CORR  0.8
#define VAD_MAX_LAG    146            /* ~55 Hz */
#define VAD_HIST       (VAD_MAX_LAG + VAD_MAX_N)
#define VAD_FLOOR_MAX  400            /* frames in the noise-floor window */
#define VAD_LPC_ORDER  4
#define VAD_MAX_MS     600000         /* onset/hangover limit: 10 minutes */
#define VAD_SILENT_DB  (-100.0)
/* Evidence weights (tuned on the labelled set, docs/vad.md): a frame 10 dB
 * over the floor with periodicity 0.5 is even odds; each 2.5 dB or 0.17 of
 * periodicity is one unit of log-odds. */
#define VAD_SNR_MID    10.0
#define VAD_SNR_SCALE  2.5
#define VAD_PER_MID    0.5
#define VAD_PER_WEIGHT 6.0
#define VAD_TONE_GAIN_DB 25.0     /* prediction gain no speech frame reaches */
#define VAD_TONAL_DB   15.0       /* ... and above which a steady frame is a tone */
#define VAD_TONE_HOLD  10         /* frames after a tone in which tonal frames are tone */
#define VAD_TONE_CHANGE 0.08     /* spectral change below which a tonal frame is a tone */

struct biquad {
	double b0, b1, b2, a1, a2;
	double z1, z2;
};

struct vagent_vad {
	struct vagent_vad_config cfg;
	size_t n_in;            /* samples per frame at the input rate */
	size_t n;               /* samples per frame at 8 kHz */
	int decim;              /* 1 or 2 */
	int onset_frames;
	int hangover_frames;
	int full_hang_frames;   /* speech-like frames a segment needs for the full hangover */
	int floor_frames;
	struct biquad hp, lp1, lp2;
	float hist[VAD_HIST];   /* last VAD_HIST filtered samples at 8 kHz */
	double energy_ring[VAD_FLOOR_MAX];
	int ring_len, ring_pos;
	double smooth_db;
	bool primed;
	double prev_rho[VAD_LPC_ORDER + 1]; /* last frame's normalised autocorrelation */
	bool prev_steady;       /* last frame was tonal and steady */
	int since_tone;         /* frames since the last tone frame */
	/* decision state */
	bool speech;
	int run;                /* consecutive speech-like frames */
	int hang;               /* hangover frames left */
	int seg_like;           /* speech-like frames in the current segment */
	int64_t run_start;      /* pts of the first frame of the current run */
	int64_t last_like_end;  /* end of the last speech-like frame */
};

struct vagent_vad_config vagent_vad_config_default(void)
{
	struct vagent_vad_config c = {
		.rate = 16000,
		.frame_ms = 20,
		.threshold = 0.5,
		.onset_ms = 60,
		.hangover_ms = 200,
		.min_energy_dbfs = -60.0,
		.full_hangover_after_ms = 200,
		.noise_window_ms = 1500,
	};
	return c;
}

/* RBJ cookbook biquads. */
static void biquad_init(struct biquad *q, bool highpass, double fc, double fs)
{
	double w = 2.0 * M_PI * fc / fs, c = cos(w), alpha = sin(w) / (2.0 * M_SQRT1_2);
	double a0 = 1.0 + alpha;

	if (highpass) {
		q->b0 = (1.0 + c) / 2.0 / a0;
		q->b1 = -(1.0 + c) / a0;
	} else {
		q->b0 = (1.0 - c) / 2.0 / a0;
		q->b1 = (1.0 - c) / a0;
	}
	q->b2 = q->b0;
	q->a1 = -2.0 * c / a0;
	q->a2 = (1.0 - alpha) / a0;
	q->z1 = q->z2 = 0;
}

static double biquad_run(struct biquad *q, double x)
{
	double y = q->b0 * x + q->z1;

	q->z1 = q->b1 * x - q->a1 * y + q->z2;
	q->z2 = q->b2 * x - q->a2 * y;
	return y;
}

/* A state decayed below 1e-20 (-400 dBFS) is silence: make it zero before
 * it decays into denormals. */
static void biquad_flush(struct biquad *q)
{
	if (fabs(q->z1) < 1e-20)
		q->z1 = 0;
	if (fabs(q->z2) < 1e-20)
		q->z2 = 0;
}

void vagent_vad_reset(struct vagent_vad *vad)
{
	double fs;

	if (!vad)
		return;
	fs = vad->cfg.rate;
	biquad_init(&vad->hp, true, 150.0, fs);
	biquad_init(&vad->lp1, false, 3400.0, fs);
	biquad_init(&vad->lp2, false, 3400.0, fs);
	memset(vad->hist, 0, sizeof(vad->hist));
	vad->ring_len = vad->ring_pos = 0;
	vad->smooth_db = VAD_SILENT_DB;
	vad->primed = false;
	memset(vad->prev_rho, 0, sizeof(vad->prev_rho));
	vad->prev_steady = false;
	vad->since_tone = INT_MAX / 2;
	vad->speech = false;
	vad->run = vad->hang = vad->seg_like = 0;
	vad->run_start = vad->last_like_end = 0;
}

vagent_status vagent_vad_new(const struct vagent_vad_config *cfg,
			     struct vagent_vad **out, struct vagent_error *err)
{
	struct vagent_vad_config def = vagent_vad_config_default();
	struct vagent_vad *vad = NULL;

	*out = NULL;
	if (!cfg)
		cfg = &def;
	if (cfg->rate != 8000 && cfg->rate != 16000)
		return vagent__error_set(err, VAGENT_EINVAL, "vad",
					 "unsupported rate %d Hz (8000 or 16000)", cfg->rate);
	if (cfg->frame_ms != 10 && cfg->frame_ms != 20)
		return vagent__error_set(err, VAGENT_EINVAL, "vad",
					 "unsupported frame duration %d ms (10 or 20)", cfg->frame_ms);
	if (!(cfg->threshold > 0.0 && cfg->threshold < 1.0) ||
	    cfg->onset_ms < 0 || cfg->onset_ms > VAD_MAX_MS ||
	    cfg->hangover_ms < 0 || cfg->hangover_ms > VAD_MAX_MS ||
	    cfg->full_hangover_after_ms < 0 || cfg->full_hangover_after_ms > VAD_MAX_MS ||
	    cfg->noise_window_ms < 100 || cfg->noise_window_ms / cfg->frame_ms > VAD_FLOOR_MAX ||
	    isnan(cfg->min_energy_dbfs))
		return vagent__error_set(err, VAGENT_EINVAL, "vad",
					 "invalid configuration (threshold in (0,1); onset, "
					 "hangover 0..%d ms; noise window 100..%d ms)",
					 VAD_MAX_MS, VAD_FLOOR_MAX * cfg->frame_ms);
	vad = calloc(1, sizeof(*vad));
	if (!vad)
		return vagent__error_set(err, VAGENT_ENOMEM, "vad", "out of memory");
	vad->cfg = *cfg;
	vad->n_in = (size_t)(cfg->rate / 1000 * cfg->frame_ms);
	vad->decim = cfg->rate / VAD_RATE;
	vad->n = vad->n_in / (size_t)vad->decim;
	/* Round up: a run of onset_ms (hangover_ms) is never cut short. */
	vad->onset_frames = (cfg->onset_ms + cfg->frame_ms - 1) / cfg->frame_ms;
	if (vad->onset_frames < 1)
		vad->onset_frames = 1;
	vad->hangover_frames = (cfg->hangover_ms + cfg->frame_ms - 1) / cfg->frame_ms;
	vad->floor_frames = cfg->noise_window_ms / cfg->frame_ms;
	vad->full_hang_frames = (cfg->full_hangover_after_ms + cfg->frame_ms - 1) / cfg->frame_ms;
	vagent_vad_reset(vad);
	*out = vad;
	return VAGENT_OK;
}

void vagent_vad_free(struct vagent_vad *vad)
{
	free(vad);
}

int vagent_vad_hangover_frames(const struct vagent_vad *vad)
{
	return vad->hangover_frames;
}

int vagent_vad_onset_frames(const struct vagent_vad *vad)
{
	return vad->onset_frames;
}

/* Prediction gain (dB) of an order-4 linear predictor from autocorrelation
 * r[0..4] (Levinson-Durbin); pure and dual tones predict almost perfectly. */
static double lpc_gain_db(const double *r)
{
	double a[VAD_LPC_ORDER + 1] = { 1.0 }, tmp[VAD_LPC_ORDER + 1];
	double e = r[0];

	if (r[0] <= 0)
		return 0;
	for (int i = 1; i <= VAD_LPC_ORDER; i++) {
		double acc = r[i], k;

		for (int j = 1; j < i; j++)
			acc += a[j] * r[i - j];
		k = -acc / e;
		memcpy(tmp, a, sizeof(a));
		for (int j = 1; j < i; j++)
			a[j] = tmp[j] + k * tmp[i - j];
		a[i] = k;
		e *= 1.0 - k * k;
		if (e <= r[0] * 1e-9)
			return 90.0;
	}
	return 10.0 * log10(r[0] / e);
}

/* Normalised correlation of the frame x[0..n) with x[-lag..n-lag). */
static double corr_at(const float *x, size_t n, int lag, double ex)
{
	const float *y = x - lag;
	float xy[4] = { 0 }, ey[4] = { 0 }, sxy, sey;

	/* four partial sums (n is a multiple of 4): independent chains the
	 * compiler can keep in flight; the order is fixed, so results are too */
	for (size_t i = 0; i < n; i += 4) {
		for (int k = 0; k < 4; k++) {
			xy[k] += x[i + (size_t)k] * y[i + (size_t)k];
			ey[k] += y[i + (size_t)k] * y[i + (size_t)k];
		}
	}
	sxy = (xy[0] + xy[1]) + (xy[2] + xy[3]);
	sey = (ey[0] + ey[1]) + (ey[2] + ey[3]);
	return sxy > 0 && sey > 0 ? (double)sxy / sqrt(ex * (double)sey) : 0;
}

/* Best normalised correlation of the current frame with itself one pitch
 * period earlier (lags 2.5..18 ms): voiced speech 0.5..0.95, noise lower.
 * Even lags first, then the odd neighbours of the best one. */
static double periodicity(const float *h, size_t n, double *high)
{
	const float *x = h + VAD_HIST - n;
	double ex = 0, best = 0, c;
	int best_lag = VAD_MIN_LAG;

	*high = 0;
	for (size_t i = 0; i < n; i++)
		ex += (double)x[i] * (double)x[i];
	if (ex <= 0)
		return 0;
	for (int lag = VAD_HIGH_LAG; lag < VAD_MIN_LAG; lag++) {
		c = corr_at(x, n, lag, ex);
		if (c > *high)
			*high = c;
	}
	for (int lag = VAD_MIN_LAG; lag <= VAD_MAX_LAG; lag += 2) {
		c = corr_at(x, n, lag, ex);
		if (c > best) {
			best = c;
			best_lag = lag;
		}
	}
	for (int lag = best_lag - 1; lag <= best_lag + 1; lag += 2) {
		if (lag < VAD_MIN_LAG || lag > VAD_MAX_LAG)
			continue;
		c = corr_at(x, n, lag, ex);
		if (c > best)
			best = c;
	}
	return best > 1.0 ? 1.0 : best;
}

vagent_status vagent_vad_process(struct vagent_vad *vad, const struct vagent_frame *f,
				 struct vagent_vad_result *res, struct vagent_error *err)
{
	float x[VAD_MAX_N];
	double r[VAD_LPC_ORDER + 1] = { 0 }, energy, e_db, floor_db, z, p;
	size_t n = vad->n;
	bool like, steady;
	double high = 0;

	memset(res, 0, sizeof(*res));
	if (f->rate != vad->cfg.rate || (f->channels != 1 && f->channels != 2) ||
	    f->n != vad->n_in)
		return vagent__error_set(err, VAGENT_EINVAL, "vad",
					 "frame of %zu samples at %d Hz x%d, expected %zu at %d Hz "
					 "(%d ms), mono or stereo", f->n, f->rate, f->channels,
					 vad->n_in, vad->cfg.rate, vad->cfg.frame_ms);

	/* Band-limit to 150..3400 Hz and bring to 8 kHz. */
	for (size_t i = 0, k = 0; i < f->n; i++) {
		double s = f->channels == 1 ? f->samples[i] :
			   ((double)f->samples[2 * i] + f->samples[2 * i + 1]) / 2.0;

		s = biquad_run(&vad->hp, s / 32768.0);
		if (vad->decim == 2) {
			s = biquad_run(&vad->lp2, biquad_run(&vad->lp1, s));
			if (i % 2)
				continue;
		}
		/* below any audible level: exactly zero, so that the float
		 * analysis never meets denormals (40x slower) as a filter's
		 * tail decays into digital silence */
		x[k++] = fabs(s) < 1e-20 ? 0.0f : (float)s;
	}
	biquad_flush(&vad->hp);
	biquad_flush(&vad->lp1);
	biquad_flush(&vad->lp2);
	memmove(vad->hist, vad->hist + n, (VAD_HIST - n) * sizeof(float));
	memcpy(vad->hist + VAD_HIST - n, x, n * sizeof(float));

	for (int l = 0; l <= VAD_LPC_ORDER; l++)
		for (size_t i = (size_t)l; i < n; i++)
			r[l] += (double)x[i] * (double)x[i - (size_t)l];
	energy = r[0] / (double)n;
	e_db = energy > 1e-10 ? 10.0 * log10(energy) : VAD_SILENT_DB;

	/* Noise floor: minimum of the lightly smoothed energy over the window. */
	vad->smooth_db = vad->primed ? 0.5 * vad->smooth_db + 0.5 * e_db : e_db;
	vad->primed = true;
	vad->energy_ring[vad->ring_pos] = vad->smooth_db;
	vad->ring_pos = (vad->ring_pos + 1) % vad->floor_frames;
	if (vad->ring_len < vad->floor_frames)
		vad->ring_len++;
	floor_db = vad->smooth_db;
	for (int i = 0; i < vad->ring_len; i++)
		if (vad->energy_ring[i] < floor_db)
			floor_db = vad->energy_ring[i];

	res->energy_dbfs = e_db;
	res->snr_db = e_db - floor_db;
	/* Below VAD_SNR_MID - VAD_PER_WEIGHT * (1 - VAD_PER_MID) * VAD_SNR_SCALE
	 * (2.5 dB) no periodicity can make a frame speech-like: skip it. */
	if (res->snr_db > VAD_SNR_MID - VAD_PER_WEIGHT * (1 - VAD_PER_MID) * VAD_SNR_SCALE &&
	    e_db >= vad->cfg.min_energy_dbfs)
		res->periodicity = periodicity(vad->hist, n, &high);
	res->tonality_db = lpc_gain_db(r);
	/* Stationarity: how much the spectral shape (r1..r4 / r0) moved since
	 * the last frame; a held tone barely moves, speech rarely holds still
	 * for two frames running. */
	{
		double d = 0;

		for (int l = 1; l <= VAD_LPC_ORDER; l++) {
			double rho = r[0] > 0 ? r[l] / r[0] : 0;

			d += fabs(rho - vad->prev_rho[l]);
			vad->prev_rho[l] = rho;
		}
		res->change = d;
	}

	/* Evidence: loudness over the floor, voicing, and against pure tones. */
	z = (res->snr_db - VAD_SNR_MID) / VAD_SNR_SCALE +
	    (res->periodicity - VAD_PER_MID) * VAD_PER_WEIGHT;
	/* Strongly periodic above 400 Hz (a buzzer, a whistle, a scream):
	 * not a human speaking voice. */
	if (high > VAD_HIGH_CORR && high >= res->periodicity - 0.02)
		z = fmin(z, -10.0);
	/* A tone (beeps, ringback, dual tones: two steady tonal frames in a
	 * row) or a near-perfectly predictable frame is never speech, however
	 * loud; nor is a tonal frame shortly after a tone (a tone sequence
	 * switching frequency). */
	steady = res->tonality_db > VAD_TONAL_DB && res->change < VAD_TONE_CHANGE;
	if (res->tonality_db > VAD_TONE_GAIN_DB || (steady && vad->prev_steady) ||
	    (res->tonality_db > VAD_TONAL_DB && vad->since_tone < VAD_TONE_HOLD)) {
		z = fmin(z, -10.0);
		vad->since_tone = 0;
	} else if (vad->since_tone < INT_MAX / 2) {
		vad->since_tone++;
	}
	vad->prev_steady = steady;
	if (e_db < vad->cfg.min_energy_dbfs)
		z = -30.0;
	p = 1.0 / (1.0 + exp(-z));
	res->probability = p;
	like = p >= vad->cfg.threshold;
	res->speech_like = like;

	/* Decision: onset after a run, then hold for the hangover. */
	if (like) {
		if (vad->run == 0)
			vad->run_start = f->pts;
		if (vad->run < vad->onset_frames)   /* capped: streams run for days */
			vad->run++;
		vad->last_like_end = vagent_frame_end(f);
		if (!vad->speech && vad->run >= vad->onset_frames) {
			vad->speech = true;
			vad->seg_like = vad->run - 1;
			res->event = VAGENT_VAD_START;
			res->event_pts = vad->run_start;
		}
		if (vad->speech) {
			/* a short burst (a clank, a cough) earns a short hold */
			if (vad->seg_like < vad->full_hang_frames)
				vad->seg_like++;
			vad->hang = vad->seg_like >= vad->full_hang_frames ? vad->hangover_frames :
				    vad->seg_like < vad->hangover_frames ? vad->seg_like :
				    vad->hangover_frames;
		}
	} else {
		vad->run = 0;
		if (vad->speech) {
			if (vad->hang > 0) {
				vad->hang--;
			} else {
				vad->speech = false;
				res->event = VAGENT_VAD_END;
				res->event_pts = vad->last_like_end;
			}
		}
	}
	res->speech = vad->speech;
	return VAGENT_OK;
}
