/*
 * dsp.c — gain, mixing noise into speech at a target SNR, and energy-based
 * silence detection over whole buffers.
 */
#include "audio/audio_int.h"

#include <stdlib.h>
#include <string.h>

void vagent_audio_gain(struct vagent_audio *a, double db)
{
	float g = (float)pow(10.0, db / 20.0);
	size_t total = a->frames * (size_t)a->channels;

	for (size_t i = 0; i < total; i++)
		a->samples[i] *= g;
}

/* Mean of squared samples over all channels. */
static double power(const float *x, size_t n)
{
	double s = 0;

	for (size_t i = 0; i < n; i++)
		s += (double)x[i] * (double)x[i];
	return n ? s / (double)n : 0;
}

double vagent_snr_db(const struct vagent_audio *signal,
		     const struct vagent_audio *noise)
{
	double ps = power(signal->samples, signal->frames * (size_t)signal->channels);
	double pn = power(noise->samples, noise->frames * (size_t)noise->channels);

	return 10.0 * log10(ps / pn);
}

vagent_status vagent_audio_mix_snr(const struct vagent_audio *speech,
				   const struct vagent_audio *noise,
				   double snr_db, struct vagent_audio **out,
				   struct vagent_error *err)
{
	struct vagent_audio *b = NULL;
	size_t ch = (size_t)speech->channels, nch = (size_t)noise->channels;
	double ps, pn = 0, g;

	*out = NULL;
	if (noise->rate != speech->rate)
		return vagent__error_set(err, VAGENT_EINVAL, NULL,
					 "noise is %d Hz but speech is %d Hz", noise->rate, speech->rate);
	if (nch != 1 && nch != ch)
		return vagent__error_set(err, VAGENT_EINVAL, NULL,
					 "noise has %zu channels, speech %zu (use mono noise)", nch, ch);
	if (!noise->frames)
		return vagent__error_set(err, VAGENT_EINVAL, NULL, "noise is empty");
	if (!isfinite(snr_db))
		return vagent__error_set(err, VAGENT_EINVAL, NULL, "SNR must be a finite number of dB");
	ps = power(speech->samples, speech->frames * ch);
	if (ps <= 0)
		return vagent__error_set(err, VAGENT_EINVAL, NULL,
					 "speech is digital silence: no SNR can be set");
	/* Noise power over exactly the (looped or trimmed) stretch that is
	 * mixed in, not over the whole noise file. */
	for (size_t i = 0; i < speech->frames; i++) {
		const float *n = noise->samples + (i % noise->frames) * nch;
		for (size_t c = 0; c < ch; c++) {
			double v = n[nch == 1 ? 0 : c];
			pn += v * v;
		}
	}
	pn /= (double)(speech->frames * ch);
	if (pn <= 0)
		return vagent__error_set(err, VAGENT_EINVAL, NULL,
					 "noise is digital silence: no SNR can be set");
	g = sqrt(ps / (pn * pow(10.0, snr_db / 10.0)));
	b = vagent_audio_dup(speech);
	if (!b)
		return vagent__error_set(err, VAGENT_ENOMEM, NULL, "out of memory");
	b->warning[0] = '\0';
	for (size_t i = 0; i < speech->frames; i++) {
		const float *n = noise->samples + (i % noise->frames) * nch;
		for (size_t c = 0; c < ch; c++)
			b->samples[i * ch + c] += (float)(g * (double)n[nch == 1 ? 0 : c]);
	}
	*out = b;
	return VAGENT_OK;
}

struct vagent_silence_config vagent_silence_config_default(void)
{
	struct vagent_silence_config c = {
		.threshold_dbfs = -45.0,
		.window_ms = 10,
		.min_speech_ms = 30,
		.min_gap_ms = 200,
	};
	return c;
}

void vagent_silence_result_clear(struct vagent_silence_result *res)
{
	if (!res)
		return;
	free(res->spans);
	memset(res, 0, sizeof(*res));
}

vagent_status vagent_audio_detect_silence(const struct vagent_audio *a,
					  const struct vagent_silence_config *cfg,
					  struct vagent_silence_result *res,
					  struct vagent_error *err)
{
	struct vagent_silence_config c = cfg ? *cfg : vagent_silence_config_default();
	size_t ch = (size_t)a->channels, w, nwin, nspans = 0, cap = 0;
	size_t min_speech, min_gap;
	struct vagent_span *spans = NULL;
	double thr;
	bool in_run = false;
	size_t run_start = 0;

	memset(res, 0, sizeof(*res));
	if (c.window_ms <= 0 || c.min_speech_ms < 0 || c.min_gap_ms < 0)
		return vagent__error_set(err, VAGENT_EINVAL, NULL, "bad silence detection settings");
	w = (size_t)a->rate * (size_t)c.window_ms / 1000;
	if (w == 0)
		w = 1;
	nwin = (a->frames + w - 1) / w;
	/* Compare mean square with the threshold's power: no log per window. */
	thr = pow(10.0, c.threshold_dbfs / 10.0);
	min_speech = (size_t)a->rate * (size_t)c.min_speech_ms / 1000;
	min_gap = (size_t)a->rate * (size_t)c.min_gap_ms / 1000;

	for (size_t k = 0; k <= nwin; k++) {
		bool active = false;

		if (k < nwin) {
			size_t lo = k * w, hi = lo + w < a->frames ? lo + w : a->frames;
			double s = 0;
			for (size_t i = lo; i < hi; i++) {
				double m = 0;
				for (size_t j = 0; j < ch; j++)
					m += (double)a->samples[i * ch + j];
				m /= (double)ch;
				s += m * m;
			}
			active = s / (double)(hi - lo) > thr;
		}
		if (active && !in_run) {
			in_run = true;
			run_start = k * w;
		} else if (!active && in_run) {
			size_t end = k * w < a->frames ? k * w : a->frames;
			in_run = false;
			/* Join to the previous region across a short gap. */
			if (nspans && run_start - spans[nspans - 1].end < min_gap) {
				spans[nspans - 1].end = end;
				continue;
			}
			if (nspans == cap) {
				size_t ncap = cap ? cap * 2 : 16;
				struct vagent_span *p = realloc(spans, ncap * sizeof(*p));
				if (!p) {
					free(spans);
					return vagent__error_set(err, VAGENT_ENOMEM, NULL, "out of memory");
				}
				spans = p;
				cap = ncap;
			}
			spans[nspans].start = run_start;
			spans[nspans].end = end;
			nspans++;
		}
	}
	/* Drop regions too short to be speech (clicks, pops), after joining. */
	size_t kept = 0;
	for (size_t i = 0; i < nspans; i++)
		if (spans[i].end - spans[i].start >= min_speech && spans[i].end > spans[i].start)
			spans[kept++] = spans[i];
	nspans = kept;

	res->silent = nspans == 0;
	res->leading = nspans ? spans[0].start : a->frames;
	res->trailing = nspans ? a->frames - spans[nspans - 1].end : a->frames;
	res->n_spans = nspans;
	res->spans = nspans ? spans : NULL;
	if (!nspans)
		free(spans);
	return VAGENT_OK;
}
