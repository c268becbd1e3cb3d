/*
 * vad_set.h — the labelled VAD evaluation set, shared by the benchmark
 * (tests/bench/vad_eval.c) and the regression test (tests/check_vad.c):
 * clean speech clips from fixtures/, frame labels from the clean signal,
 * placed at seeded offsets into silence or noise at a target SNR.
 */
#ifndef VAGENT_TESTS_VAD_SET_H
#define VAGENT_TESTS_VAD_SET_H

#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "vagent.h"

/*
 * Labelling rule (docs/vad.md): a 20 ms frame of the clean clip is speech
 * when its energy above 100 Hz (first-order high-pass: rumble and DC are
 * not speech) is within VADSET_REL_DB of the clip's loudest frame and above
 * VADSET_ABS_DBFS; runs of non-speech shorter than VADSET_BRIDGE_MS between
 * speech frames are bridged (stop closures and inter-word pauses are part
 * of an utterance), and speech bursts shorter than VADSET_MIN_SPEECH_MS are
 * dropped (clicks, breaths).
 */
#define VADSET_REL_DB        40.0
#define VADSET_ABS_DBFS      (-55.0)
#define VADSET_BRIDGE_MS     200
#define VADSET_MIN_SPEECH_MS 40

/* A reproducible generator (splitmix64). */
static inline uint64_t vadset_rand(uint64_t *s)
{
	uint64_t z = (*s += 0x9e3779b97f4a7c15ULL);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

/* Uniform integer in [lo, hi]. */
static inline size_t vadset_uniform(uint64_t *s, size_t lo, size_t hi)
{
	return lo + (size_t)(vadset_rand(s) % (uint64_t)(hi - lo + 1));
}

/*
 * Load `path` (mono mix), keep [start, end) seconds (end <= 0: to the end)
 * and resample to `rate`. NULL on error (err says why).
 */
static inline struct vagent_audio *vadset_load(const char *path, double start,
					       double end, int rate,
					       struct vagent_error *err)
{
	struct vagent_audio *a = NULL, *cut = NULL, *out = NULL;
	size_t from, to;

	if (vagent_audio_load(path, VAGENT_CHANNELS_MIX, &a, err) != VAGENT_OK)
		return NULL;
	from = (size_t)(start * a->rate);
	to = end > 0 ? (size_t)(end * a->rate) : a->frames;
	if (to > a->frames)
		to = a->frames;
	if (from > to)
		from = to;
	cut = vagent_audio_new(a->rate, 1, 0);
	if (!cut || vagent_audio_append(cut, a->samples + from, to - from) != VAGENT_OK)
		goto done;
	if (vagent_audio_resample(cut, rate, -1, &out, err) != VAGENT_OK)
		out = NULL;
done:
	vagent_audio_free(a);
	vagent_audio_free(cut);
	return out;
}

/* Frame labels of a clean clip (1 = speech), *nframes = whole frames. */
static inline uint8_t *vadset_label(const struct vagent_audio *clip, int frame_ms,
				    size_t *nframes)
{
	size_t n = vagent_frame_samples_for(clip->rate, frame_ms);
	size_t nf = clip->frames / n, bridge = (size_t)(VADSET_BRIDGE_MS / frame_ms);
	size_t min_run = (size_t)((VADSET_MIN_SPEECH_MS + frame_ms - 1) / frame_ms);
	double *db = calloc(nf + 1, sizeof(*db)), peak = -200;
	uint8_t *lab = calloc(nf + 1, 1);

	if (!db || !lab) {
		free(db);
		free(lab);
		return NULL;
	}
	{
		/* first-order high-pass at 100 Hz: rumble and DC are not speech */
		double a = exp(-2 * M_PI * 100.0 / clip->rate), px = 0, py = 0;

		for (size_t f = 0; f < nf; f++) {
			const float *x = clip->samples + f * n;
			double e = 0;

			for (size_t i = 0; i < n; i++) {
				double y = a * (py + (double)x[i] - px);

				px = x[i];
				py = y;
				e += y * y;
			}
			e /= (double)n;
			db[f] = e > 1e-12 ? 10 * log10(e) : -120;
			if (db[f] > peak)
				peak = db[f];
		}
	}
	for (size_t f = 0; f < nf; f++)
		lab[f] = db[f] >= peak - VADSET_REL_DB && db[f] >= VADSET_ABS_DBFS;
	/* bridge short gaps */
	for (size_t f = 0, last = SIZE_MAX; f < nf; f++) {
		if (!lab[f])
			continue;
		if (last != SIZE_MAX && f - last - 1 > 0 && f - last - 1 < bridge)
			memset(lab + last + 1, 1, f - last - 1);
		last = f;
	}
	/* drop short bursts */
	for (size_t f = 0; f < nf;) {
		size_t e = f;

		if (!lab[f]) {
			f++;
			continue;
		}
		while (e < nf && lab[e])
			e++;
		if (e - f < min_run)
			memset(lab + f, 0, e - f);
		f = e;
	}
	free(db);
	*nframes = nf;
	return lab;
}

/* One evaluation track: audio and its frame labels. */
struct vadset_track {
	struct vagent_audio *audio;
	uint8_t *truth;
	size_t nframes;
};

static inline void vadset_track_free(struct vadset_track *t)
{
	vagent_audio_free(t->audio);
	free(t->truth);
	memset(t, 0, sizeof(*t));
}

/*
 * Place `clip` (its whole frames) after a lead of 0.5..1.5 s and before a
 * tail of 1.0..1.5 s (whole frames, drawn from *seed), over digital silence
 * (noise NULL) or over `noise` (same rate, looped from a seeded offset)
 * scaled so that the clip-to-noise SNR over the clip's span is `snr_db`
 * (the gain is the one vagent_audio_mix_snr applies). Returns 0 or -1.
 */
static inline int vadset_track_build(const struct vagent_audio *clip,
				     const struct vagent_audio *noise, double snr_db,
				     int frame_ms, uint64_t *seed,
				     struct vadset_track *t, struct vagent_error *err)
{
	size_t n = vagent_frame_samples_for(clip->rate, frame_ms), nf_clip = 0;
	uint8_t *lab = vadset_label(clip, frame_ms, &nf_clip);
	size_t lead = vadset_uniform(seed, 500 / (size_t)frame_ms, 1500 / (size_t)frame_ms);
	size_t tail = vadset_uniform(seed, 1000 / (size_t)frame_ms, 1500 / (size_t)frame_ms);
	size_t total = lead + nf_clip + tail, len = total * n, off;
	struct vagent_audio *span = NULL, *mixed = NULL, *nseg = NULL;
	double gain = 0;
	int rc = -1;

	memset(t, 0, sizeof(*t));
	if (!lab)
		return -1;
	t->audio = vagent_audio_new(clip->rate, 1, len);
	t->truth = calloc(total, 1);
	if (!t->audio || !t->truth)
		goto done;
	memcpy(t->truth + lead, lab, nf_clip);
	t->nframes = total;
	memcpy(t->audio->samples + lead * n, clip->samples, nf_clip * n * sizeof(float));
	if (noise) {
		off = vadset_uniform(seed, 0, noise->frames - 1);
		nseg = vagent_audio_new(clip->rate, 1, nf_clip * n);
		span = vagent_audio_new(clip->rate, 1, nf_clip * n);
		if (!nseg || !span)
			goto done;
		memcpy(span->samples, clip->samples, nf_clip * n * sizeof(float));
		for (size_t i = 0; i < nf_clip * n; i++)
			nseg->samples[i] = noise->samples[(off + lead * n + i) % noise->frames];
		if (vagent_audio_mix_snr(span, nseg, snr_db, &mixed, err) != VAGENT_OK)
			goto done;
		{
			double pn = 0, pd = 0;

			for (size_t i = 0; i < nf_clip * n; i++) {
				double d = (double)mixed->samples[i] - (double)span->samples[i];

				pd += d * d;
				pn += (double)nseg->samples[i] * (double)nseg->samples[i];
			}
			gain = sqrt(pd / pn);
		}
		for (size_t i = 0; i < len; i++)
			t->audio->samples[i] += (float)(gain * (double)noise->samples[(off + i) % noise->frames]);
	}
	rc = 0;
done:
	free(lab);
	vagent_audio_free(span);
	vagent_audio_free(nseg);
	vagent_audio_free(mixed);
	if (rc)
		vadset_track_free(t);
	return rc;
}

/* Frame-level counts and first-onset / last-offset delays of one track. */
struct vadset_score {
	size_t tp, fp, fn, tn;
	bool onset_found;
	double onset_ms, offset_ms;  /* detection delays (offset: incl. hangover) */
};

/*
 * Score decisions `dec` (one per frame) against `t`: counts over every
 * frame; onset delay = first frame at or after (labelled onset - 200 ms)
 * where the decision is on, minus the labelled onset; offset delay = first
 * off frame after the labelled offset, minus that offset.
 */
static inline void vadset_score(const struct vadset_track *t, const uint8_t *dec,
				int frame_ms, struct vadset_score *s)
{
	size_t first = SIZE_MAX, last = SIZE_MAX;

	memset(s, 0, sizeof(*s));
	for (size_t f = 0; f < t->nframes; f++) {
		if (t->truth[f]) {
			if (first == SIZE_MAX)
				first = f;
			last = f;
		}
		if (dec[f] && t->truth[f])
			s->tp++;
		else if (dec[f])
			s->fp++;
		else if (t->truth[f])
			s->fn++;
		else
			s->tn++;
	}
	if (first == SIZE_MAX)
		return;
	{
		size_t from = first > (size_t)(200 / frame_ms) ? first - (size_t)(200 / frame_ms) : 0;

		for (size_t f = from; f <= last; f++)
			if (dec[f]) {
				s->onset_found = true;
				s->onset_ms = ((double)f - (double)first) * frame_ms;
				break;
			}
	}
	if (s->onset_found) {
		size_t f = last + 1;

		while (f < t->nframes && dec[f])
			f++;
		s->offset_ms = ((double)f - (double)(last + 1)) * frame_ms;
	}
}

#endif
