/*
 * dtmf.c — in-band DTMF: tone generation and a streaming Goertzel detector
 * with ITU-T Q.24-like acceptance checks (docs/dtmf.md).
 */
#include <stdlib.h>
#include <string.h>

#include "audio/audio_int.h"

static const double row_hz[4] = { 697.0, 770.0, 852.0, 941.0 };
static const double col_hz[4] = { 1209.0, 1336.0, 1477.0, 1633.0 };
static const char keypad[4][5] = { "123A", "456B", "789C", "*0#D" };

/* Amplitude of each of the two tones: -10 dBFS (a full-scale sine is 0 dBFS). */
#define TONE_AMPLITUDE 0.31622776601683794
/* Raised-cosine ramps at both ends of a tone, so it starts without a click. */
#define RAMP_MS 2

static bool key_position(char c, int *row, int *col)
{
	if (c >= 'a' && c <= 'd')
		c = (char)(c - 'a' + 'A');
	for (int r = 0; r < 4; r++)
		for (int k = 0; k < 4; k++)
			if (keypad[r][k] == c) {
				*row = r;
				*col = k;
				return true;
			}
	return false;
}

vagent_status vagent_dtmf_synth(const char *digits, int rate, int tone_ms, int gap_ms,
				struct vagent_audio **out, struct vagent_error *err)
{
	size_t count, tone_n, gap_n, ramp_n;
	struct vagent_audio *a;
	int row, col;

	if (out)
		*out = NULL;
	if (!digits || !out)
		return vagent__error_set(err, VAGENT_EINVAL, "dtmf", "no digits or no output");
	if (rate < 8000 || rate > 48000)
		return vagent__error_set(err, VAGENT_EINVAL, "dtmf",
					 "rate %d Hz is not between 8000 and 48000", rate);
	if (tone_ms < 1 || tone_ms > 10000 || gap_ms < 0 || gap_ms > 10000)
		return vagent__error_set(err, VAGENT_EINVAL, "dtmf",
					 "tone %d ms / gap %d ms out of range (tone 1..10000, gap 0..10000)",
					 tone_ms, gap_ms);
	count = strlen(digits);
	for (size_t i = 0; i < count; i++)
		if (!key_position(digits[i], &row, &col))
			return vagent__error_set(err, VAGENT_EINVAL, "dtmf",
						 "'%c' at %zu is not a DTMF key (0-9 * # A-D)",
						 digits[i] >= ' ' && digits[i] < 127 ? digits[i] : '?', i);
	tone_n = vagent_frame_samples_for(rate, tone_ms);
	gap_n = vagent_frame_samples_for(rate, gap_ms);
	ramp_n = vagent_frame_samples_for(rate, RAMP_MS);
	if (ramp_n * 2 > tone_n)
		ramp_n = tone_n / 2;
	a = vagent_audio_new(rate, 1, count ? count * tone_n + (count - 1) * gap_n : 0);
	if (!a)
		return vagent__error_set(err, VAGENT_ENOMEM, "dtmf", "out of memory");
	for (size_t i = 0; i < count; i++) {
		float *s = a->samples + i * (tone_n + gap_n);
		double wr, wc;

		key_position(digits[i], &row, &col);
		wr = 2 * M_PI * row_hz[row] / rate;
		wc = 2 * M_PI * col_hz[col] / rate;
		for (size_t j = 0; j < tone_n; j++) {
			double env = 1.0, v;
			size_t edge = j < tone_n - 1 - j ? j : tone_n - 1 - j;

			if (edge < ramp_n)
				env = 0.5 - 0.5 * cos(M_PI * (double)(edge + 1) / (double)(ramp_n + 1));
			v = TONE_AMPLITUDE * (sin(wr * (double)j) + sin(wc * (double)j));
			s[j] = (float)(env * v);
		}
	}
	*out = a;
	vagent_error_clear(err);
	return VAGENT_OK;
}

/* ---- detection */

/*
 * Acceptance thresholds (power ratios). Each block of BLOCK_MS is tested on
 * its own; a key press is two consecutive blocks holding the same key, and
 * ends after two blocks without it.
 */
#define BLOCK_US 12750                 /* 102 samples at 8 kHz */
#define MIN_TONE_POWER 5.0e-5          /* per tone: -40 dBFS (mean square A²/2) */
#define NORMAL_TWIST 6.31              /* high group up to 8 dB above the low */
#define REVERSE_TWIST 2.51             /* low group up to 4 dB above the high */
#define RELATIVE_PEAK 6.31             /* strongest of a group 8 dB above the others */
#define TONE_SHARE 0.60                /* the two tones hold 60% of the block's power */
#define HARMONIC_LIMIT 0.20            /* 2nd harmonic at most -7 dB of its tone */
#define PRESS_BLOCKS 2
#define RELEASE_BLOCKS 2

struct vagent_dtmf_detector {
	int rate;
	size_t block;                  /* samples per block */
	double coef[8], coef2[8];      /* Goertzel 2cos(w) for the tones, their 2nd harmonics */
	float coef8[8];                /* coef, for the four-lane passes */
	float *buf;                    /* the block being filled */
	size_t fill;
	int64_t consumed;              /* samples fed before `buf` started */
	char last;                     /* key found in the last block, or 0 */
	int run;                       /* blocks in a row holding `last` */
	int64_t run_start;             /* sample offset of the first of them */
	char held;                     /* key of the press in progress, or 0 */
	int misses;                    /* blocks in a row without `held` */
};

struct vagent_dtmf_detector *vagent_dtmf_detector_new(int rate)
{
	struct vagent_dtmf_detector *d;

	if (rate < 8000 || rate > 48000)
		return NULL;
	d = calloc(1, sizeof(*d));
	if (!d)
		return NULL;
	d->rate = rate;
	d->block = (size_t)((int64_t)rate * BLOCK_US / 1000000);
	d->buf = calloc(d->block, sizeof(*d->buf));
	if (!d->buf) {
		free(d);
		return NULL;
	}
	for (int i = 0; i < 8; i++) {
		double hz = i < 4 ? row_hz[i] : col_hz[i - 4];

		d->coef[i] = 2 * cos(2 * M_PI * hz / rate);
		d->coef8[i] = (float)d->coef[i];
		d->coef2[i] = 2 * cos(2 * M_PI * 2 * hz / rate);
	}
	return d;
}

void vagent_dtmf_detector_free(struct vagent_dtmf_detector *d)
{
	if (!d)
		return;
	free(d->buf);
	free(d);
}

bool vagent_dtmf_detector_active(const struct vagent_dtmf_detector *d)
{
	return d && (d->held || d->last);
}

/* Mean-square power of the component at the Goertzel coefficient `coef`
 * (a sine of amplitude A exactly there gives about A²/2). */
static double goertzel(const float *x, size_t n, double coef)
{
	double s1 = 0, s2 = 0;

	for (size_t i = 0; i < n; i++) {
		double s0 = x[i] + coef * s1 - s2;

		s2 = s1;
		s1 = s0;
	}
	return 2.0 * (s1 * s1 + s2 * s2 - coef * s1 * s2) / ((double)n * (double)n);
}

/* Four tones' powers in one pass over the block: four independent
 * Goertzel recurrences side by side (the compiler runs them as one
 * vector), in float, which is plenty for blocks of a few hundred samples
 * — the detector runs on every caller frame of every call. */
static void goertzel4(const float *x, size_t n, const float *coef, double *out)
{
	float s1[4] = { 0 }, s2[4] = { 0 };

	for (size_t i = 0; i < n; i++) {
		float v = x[i];

		for (int k = 0; k < 4; k++) {
			float s0 = v + coef[k] * s1[k] - s2[k];

			s2[k] = s1[k];
			s1[k] = s0;
		}
	}
	for (int k = 0; k < 4; k++)
		out[k] = 2.0 * ((double)s1[k] * s1[k] + (double)s2[k] * s2[k] -
				(double)coef[k] * s1[k] * s2[k]) / ((double)n * (double)n);
}

static int strongest(const double *p, int *index)
{
	int best = 0;

	for (int i = 1; i < 4; i++)
		if (p[i] > p[best])
			best = i;
	*index = best;
	for (int i = 0; i < 4; i++)
		if (i != best && p[i] * RELATIVE_PEAK > p[best])
			return 0;
	return 1;
}

/* The key whose two tones fill the current block, or 0. */
static char classify(const struct vagent_dtmf_detector *d)
{
	const float *x = d->buf;
	size_t n = d->block;
	double p[8], total = 0, row, col;
	int r, c;

	for (size_t i = 0; i < n; i++)
		total += (double)x[i] * x[i];
	total /= (double)n;
	if (total < 2 * MIN_TONE_POWER)
		return 0;
	/* the row tones first: speech seldom has one of them standing out,
	 * and then the column tones need not be looked at */
	goertzel4(x, n, d->coef8, p);
	if (!strongest(p, &r))
		return 0;
	goertzel4(x, n, d->coef8 + 4, p + 4);
	if (!strongest(p + 4, &c))
		return 0;
	row = p[r];
	col = p[4 + c];
	if (row < MIN_TONE_POWER || col < MIN_TONE_POWER)
		return 0;
	if (col > row * NORMAL_TWIST || row > col * REVERSE_TWIST)
		return 0;
	if (row + col < TONE_SHARE * total)
		return 0;
	/* Voiced speech with a partial on a DTMF frequency has its harmonics
	 * too; a pure tone pair has none. */
	if (goertzel(x, n, d->coef2[r]) > HARMONIC_LIMIT * row ||
	    goertzel(x, n, d->coef2[4 + c]) > HARMONIC_LIMIT * col)
		return 0;
	return keypad[r][c];
}

/* One full block: update the press state; true (and the key and onset)
 * when a press completes its minimum duration. */
static bool end_block(struct vagent_dtmf_detector *d, char *key, int64_t *onset)
{
	char k = classify(d);
	int64_t start = d->consumed;
	bool pressed = false;

	d->consumed += (int64_t)d->block;
	d->fill = 0;
	if (k && k == d->last) {
		d->run++;
	} else {
		d->last = k;
		d->run = k ? 1 : 0;
		d->run_start = start;
	}
	if (d->held) {
		if (k == d->held) {
			d->misses = 0;
		} else if (++d->misses >= RELEASE_BLOCKS || (k && d->run >= PRESS_BLOCKS)) {
			d->held = 0;
			d->misses = 0;
		}
	}
	if (!d->held && k && d->run >= PRESS_BLOCKS) {
		d->held = k;
		d->misses = 0;
		*key = k;
		*onset = d->run_start;
		pressed = true;
	}
	return pressed;
}

size_t vagent_dtmf_detector_feed(struct vagent_dtmf_detector *d, const int16_t *s, size_t n,
				 char *digits, int64_t *onsets, size_t cap)
{
	size_t found = 0;

	if (!d || (!s && n))
		return 0;
	for (size_t i = 0; i < n; i++) {
		char key;
		int64_t onset;

		d->buf[d->fill++] = vagent__s2f(s[i]);
		if (d->fill < d->block || !end_block(d, &key, &onset))
			continue;
		if (found < cap && digits) {
			digits[found] = key;
			if (onsets)
				onsets[found] = onset;
			found++;
		}
	}
	return found;
}

size_t vagent_dtmf_detect_audio(const struct vagent_audio *a, int channel, char *out, size_t cap)
{
	struct vagent_dtmf_detector *d;
	int16_t chunk[512];
	size_t written = 0;

	if (out && cap)
		out[0] = '\0';
	if (!a || !out || cap < 2 || channel < -1 || channel >= a->channels)
		return 0;
	d = vagent_dtmf_detector_new(a->rate);
	if (!d)
		return 0;
	for (size_t f = 0; f < a->frames;) {
		size_t n = 0;

		for (; n < sizeof(chunk) / sizeof(chunk[0]) && f < a->frames; n++, f++) {
			const float *frame = a->samples + f * (size_t)a->channels;
			float v = 0;

			if (channel >= 0) {
				v = frame[channel];
			} else {
				for (int c = 0; c < a->channels; c++)
					v += frame[c];
				v /= (float)a->channels;
			}
			chunk[n] = vagent__f2s(v);
		}
		written += vagent_dtmf_detector_feed(d, chunk, n, out + written, NULL,
						     cap - 1 - written);
	}
	/* Flush a press still sounding at the end with silence. */
	memset(chunk, 0, sizeof(chunk));
	for (size_t left = d->block * PRESS_BLOCKS; left > 0;) {
		size_t n = left < 512 ? left : 512;

		written += vagent_dtmf_detector_feed(d, chunk, n, out + written, NULL,
						     cap - 1 - written);
		left -= n;
	}
	out[written] = '\0';
	vagent_dtmf_detector_free(d);
	return written;
}
