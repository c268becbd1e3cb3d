/*
 * buffer.c — struct vagent_audio: allocation, channel selection, stereo
 * interleaving, frame access, level statistics.
 */
#include "audio/audio_int.h"

#include <stdlib.h>
#include <string.h>

static const char *const encoding_names[] = {
	[VAGENT_ENC_DEFAULT] = "default",
	[VAGENT_ENC_PCM_U8] = "pcm_u8",
	[VAGENT_ENC_PCM_S8] = "pcm_s8",
	[VAGENT_ENC_PCM16] = "pcm16",
	[VAGENT_ENC_PCM24] = "pcm24",
	[VAGENT_ENC_PCM32] = "pcm32",
	[VAGENT_ENC_FLOAT] = "float",
	[VAGENT_ENC_DOUBLE] = "double",
	[VAGENT_ENC_ULAW] = "ulaw",
	[VAGENT_ENC_ALAW] = "alaw",
	[VAGENT_ENC_OPUS] = "opus",
	[VAGENT_ENC_OTHER] = "other",
};

const char *vagent_encoding_name(vagent_encoding enc)
{
	if ((unsigned)enc < VAGENT__ARRAY_SIZE(encoding_names))
		return encoding_names[enc];
	return "?";
}

vagent_encoding vagent_encoding_from_name(const char *name)
{
	if (!name)
		return VAGENT_ENC_DEFAULT;
	for (size_t i = 1; i < VAGENT__ARRAY_SIZE(encoding_names); i++)
		if (i != VAGENT_ENC_OTHER && !strcmp(name, encoding_names[i]))
			return (vagent_encoding)i;
	return VAGENT_ENC_DEFAULT;
}

const char *vagent_container_name(vagent_container c)
{
	switch (c) {
	case VAGENT_CONTAINER_DEFAULT: return "default";
	case VAGENT_CONTAINER_WAV: return "wav";
	case VAGENT_CONTAINER_FLAC: return "flac";
	case VAGENT_CONTAINER_OGG: return "ogg";
	case VAGENT_CONTAINER_OTHER: return "other";
	}
	return "?";
}

int vagent_channel_select_from_name(const char *name)
{
	if (!name)
		return -1;
	if (!strcmp(name, "all"))
		return VAGENT_CHANNELS_ALL;
	if (!strcmp(name, "left") || !strcmp(name, "0"))
		return VAGENT_CHANNELS_LEFT;
	if (!strcmp(name, "right") || !strcmp(name, "1"))
		return VAGENT_CHANNELS_RIGHT;
	if (!strcmp(name, "mix"))
		return VAGENT_CHANNELS_MIX;
	return -1;
}

vagent_status vagent__audio_reserve(struct vagent_audio *a, size_t frames)
{
	size_t cap = a->capacity ? a->capacity : 1024;
	float *p;

	if (frames <= a->capacity)
		return VAGENT_OK;
	while (cap < frames) {
		if (cap > SIZE_MAX / 2)
			return VAGENT_ENOMEM;
		cap *= 2;
	}
	if (cap > SIZE_MAX / sizeof(float) / (size_t)a->channels)
		return VAGENT_ENOMEM;
	p = realloc(a->samples, cap * (size_t)a->channels * sizeof(float));
	if (!p)
		return VAGENT_ENOMEM;
	a->samples = p;
	a->capacity = cap;
	return VAGENT_OK;
}

struct vagent_audio *vagent_audio_new(int rate, int channels, size_t frames)
{
	struct vagent_audio *a = NULL;

	if (rate <= 0 || channels < 1 || channels > 64)
		return NULL;
	a = calloc(1, sizeof(*a));
	if (!a)
		return NULL;
	a->rate = rate;
	a->channels = channels;
	a->source_channels = channels;
	a->source_rate = rate;
	a->container = VAGENT_CONTAINER_DEFAULT;
	a->encoding = VAGENT_ENC_DEFAULT;
	/* Exactly `frames`: reserve() rounds up to a power of two, which for
	 * an hour of audio copied by _dup() or _select() is up to 2x waste. */
	if (frames) {
		if (frames > SIZE_MAX / sizeof(float) / (size_t)channels ||
		    !(a->samples = calloc(frames * (size_t)channels, sizeof(float)))) {
			vagent_audio_free(a);
			return NULL;
		}
		a->capacity = frames;
	}
	a->frames = frames;
	return a;
}

void vagent__audio_copy_origin(struct vagent_audio *dst, const struct vagent_audio *src)
{
	dst->container = src->container;
	dst->encoding = src->encoding;
	memcpy(dst->format_name, src->format_name, sizeof(dst->format_name));
	dst->source_channels = src->source_channels;
	dst->source_rate = src->source_rate;
}

void vagent_audio_free(struct vagent_audio *a)
{
	if (!a)
		return;
	free(a->samples);
	free(a);
}

struct vagent_audio *vagent_audio_dup(const struct vagent_audio *a)
{
	struct vagent_audio *b = vagent_audio_new(a->rate, a->channels, a->frames);

	if (!b)
		return NULL;
	if (a->frames)
		memcpy(b->samples, a->samples, a->frames * (size_t)a->channels * sizeof(float));
	vagent__audio_copy_origin(b, a);
	memcpy(b->warning, a->warning, sizeof(b->warning));
	return b;
}

vagent_status vagent_audio_select(const struct vagent_audio *a,
				  vagent_channel_select sel,
				  struct vagent_audio **out,
				  struct vagent_error *err)
{
	struct vagent_audio *b = NULL;
	size_t ch = (size_t)a->channels;

	*out = NULL;
	if (sel == VAGENT_CHANNELS_ALL) {
		b = vagent_audio_dup(a);
		goto done;
	}
	if (sel == VAGENT_CHANNELS_RIGHT && a->channels < 2)
		return vagent__error_set(err, VAGENT_EINVAL, NULL,
					 "no right channel in a mono signal");
	if (sel != VAGENT_CHANNELS_LEFT && sel != VAGENT_CHANNELS_RIGHT &&
	    sel != VAGENT_CHANNELS_MIX)
		return vagent__error_set(err, VAGENT_EINVAL, NULL,
					 "unknown channel selection %d", (int)sel);
	b = vagent_audio_new(a->rate, 1, a->frames);
	if (!b)
		goto done;
	for (size_t i = 0; i < a->frames; i++) {
		const float *in = a->samples + i * ch;
		if (sel == VAGENT_CHANNELS_MIX) {
			double sum = 0;
			for (size_t c = 0; c < ch; c++)
				sum += (double)in[c];
			b->samples[i] = (float)(sum / (double)ch);
		} else {
			b->samples[i] = in[sel == VAGENT_CHANNELS_RIGHT ? 1 : 0];
		}
	}
	vagent__audio_copy_origin(b, a);
	memcpy(b->warning, a->warning, sizeof(b->warning));
done:
	if (!b)
		return vagent__error_set(err, VAGENT_ENOMEM, NULL, "out of memory");
	*out = b;
	return VAGENT_OK;
}

vagent_status vagent_audio_interleave(const struct vagent_audio *left,
				      const struct vagent_audio *right,
				      struct vagent_audio **out,
				      struct vagent_error *err)
{
	struct vagent_audio *b = NULL;
	size_t n;

	*out = NULL;
	if (left->channels != 1 || right->channels != 1)
		return vagent__error_set(err, VAGENT_EINVAL, NULL,
					 "stereo interleave needs two mono signals (got %d and %d channels)",
					 left->channels, right->channels);
	if (left->rate != right->rate)
		return vagent__error_set(err, VAGENT_EINVAL, NULL,
					 "stereo interleave needs equal rates (got %d and %d Hz)",
					 left->rate, right->rate);
	n = left->frames > right->frames ? left->frames : right->frames;
	b = vagent_audio_new(left->rate, 2, n);
	if (!b)
		return vagent__error_set(err, VAGENT_ENOMEM, NULL, "out of memory");
	for (size_t i = 0; i < left->frames; i++)
		b->samples[2 * i] = left->samples[i];
	for (size_t i = 0; i < right->frames; i++)
		b->samples[2 * i + 1] = right->samples[i];
	*out = b;
	return VAGENT_OK;
}

vagent_status vagent_audio_append(struct vagent_audio *a, const float *samples,
				  size_t n)
{
	vagent_status st;

	if (!n)
		return VAGENT_OK;
	if (a->frames > SIZE_MAX - n)
		return VAGENT_ENOMEM;
	st = vagent__audio_reserve(a, a->frames + n);
	if (st)
		return st;
	memcpy(a->samples + a->frames * (size_t)a->channels, samples,
	       n * (size_t)a->channels * sizeof(float));
	a->frames += n;
	return VAGENT_OK;
}

vagent_status vagent_audio_append_frame(struct vagent_audio *a,
					const struct vagent_frame *f)
{
	size_t total = f->n * (size_t)f->channels;
	vagent_status st;
	float *dst;

	if (f->rate != a->rate || f->channels != a->channels ||
	    total > VAGENT_FRAME_MAX_SAMPLES)
		return VAGENT_EINVAL;
	st = vagent__audio_reserve(a, a->frames + f->n);
	if (st)
		return st;
	dst = a->samples + a->frames * (size_t)a->channels;
	for (size_t i = 0; i < total; i++)
		dst[i] = vagent__s2f(f->samples[i]);
	a->frames += f->n;
	return VAGENT_OK;
}

vagent_status vagent_audio_get_frame(const struct vagent_audio *a, size_t offset,
				     size_t n, struct vagent_frame *f)
{
	int64_t pts = vagent_ticks_from_samples((int64_t)offset, a->rate);
	vagent_status st = vagent_frame_init(f, a->rate, a->channels, n, pts);
	size_t avail, ch = (size_t)a->channels;

	if (st)
		return st;
	if (offset >= a->frames) {
		f->n = 0;
		return VAGENT_EOS;
	}
	avail = a->frames - offset;
	if (avail > n)
		avail = n;
	for (size_t i = 0; i < avail * ch; i++)
		f->samples[i] = vagent__f2s(a->samples[offset * ch + i]);
	return VAGENT_OK;
}

double vagent_audio_duration(const struct vagent_audio *a)
{
	return a->rate > 0 ? (double)a->frames / a->rate : 0.0;
}

float vagent_audio_peak(const struct vagent_audio *a)
{
	float peak = 0;
	size_t total = a->frames * (size_t)a->channels;

	for (size_t i = 0; i < total; i++) {
		float v = fabsf(a->samples[i]);
		if (v > peak)
			peak = v;
	}
	return peak;
}

double vagent_audio_rms(const struct vagent_audio *a)
{
	size_t total = a->frames * (size_t)a->channels;
	double sum = 0;

	if (!total)
		return 0;
	for (size_t i = 0; i < total; i++)
		sum += (double)a->samples[i] * (double)a->samples[i];
	return sqrt(sum / (double)total);
}

double vagent_db_from_amplitude(double amplitude)
{
	if (amplitude <= 0)
		return -INFINITY;
	return 20.0 * log10(amplitude);
}
