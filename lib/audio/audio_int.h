/*
 * audio_int.h — helpers shared by the files of lib/audio/ (sample
 * conversions, buffer growth, the WAV header probe); not public API.
 */
#ifndef VAGENT_AUDIO_INT_H
#define VAGENT_AUDIO_INT_H

#include "core/internal.h"

#include <math.h>

/* float (full scale ±1.0) → int16, rounded to nearest and clipped. */
static inline int16_t vagent__f2s(float x)
{
	float y = x * 32768.0f;

	if (!(y > -32768.0f))          /* also maps NaN to a defined value */
		return y != y ? 0 : -32768;
	if (y >= 32767.0f)
		return 32767;
	return (int16_t)lrintf(y);
}

static inline float vagent__s2f(int16_t s)
{
	return (float)s / 32768.0f;
}

/* Make room for `frames` frames in `a` (keeps content). */
vagent_status vagent__audio_reserve(struct vagent_audio *a, size_t frames);

/* Copy where `src` came from (container, encoding, format name, source
 * rate and channels) to `dst`, which derives from it; not the warning. */
void vagent__audio_copy_origin(struct vagent_audio *dst, const struct vagent_audio *src);

/*
 * What a quick walk of a RIFF/WAVE file's chunks found. vagent__wav_probe()
 * returns VAGENT_OK for files that are not RIFF/WAVE at all (is_wav false)
 * and for sound WAV files; VAGENT_EFORMAT with a message naming `path` for
 * a truncated header or impossible fmt values. A data chunk that runs past
 * the end of the file is reported in `data_missing` (bytes), not an error.
 */
struct vagent__wav_info {
	bool is_wav;
	unsigned format_tag;        /* WAVE_FORMAT_EXTENSIBLE resolved to the subformat */
	unsigned channels;
	unsigned long rate;
	unsigned bits;
	uint64_t data_offset, data_size;  /* as claimed */
	uint64_t data_missing;            /* claimed bytes beyond EOF */
	bool data_size_placeholder;       /* 0 or 0xFFFFFFFF (streaming writer) */
};

vagent_status vagent__wav_probe(const char *path, FILE *fp, uint64_t file_size,
				struct vagent__wav_info *wi,
				struct vagent_error *err);

#endif
