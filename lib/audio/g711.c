/*
 * g711.c — G.711 μ-law and A-law companding, the reference (Sun g711.c /
 * CPython audioop) algorithms of ../shared/protocols/audio-formats.md §2-3.
 */
#include "audio/audio_int.h"

/* Segment end points: 14-bit magnitudes for μ-law, 13-bit for A-law. */
static const int16_t ulaw_seg_end[8] = {
	0x3F, 0x7F, 0xFF, 0x1FF, 0x3FF, 0x7FF, 0xFFF, 0x1FFF,
};
static const int16_t alaw_seg_end[8] = {
	0x1F, 0x3F, 0x7F, 0xFF, 0x1FF, 0x3FF, 0x7FF, 0xFFF,
};

static int segment(int x, const int16_t *end)
{
	for (int i = 0; i < 8; i++)
		if (x <= end[i])
			return i;
	return 8;
}

uint8_t vagent_ulaw_encode(int16_t pcm)
{
	/* Drop the 2 low bits first (arithmetic shift), then take the
	 * magnitude: the reference order, which differs from the classic
	 * 16-bit encoder on 381 negative inputs. */
	int x = pcm >> 2;
	int mask = 0xFF, seg;

	if (x < 0) {
		x = -x;
		mask = 0x7F;
	}
	if (x > 8159)
		x = 8159;
	x += 0x84 >> 2;
	seg = segment(x, ulaw_seg_end);
	if (seg >= 8)  /* |x| >= 8159: the largest code (audio-formats.md's
			* pseudo-code leaves this to "seg in 0..7") */
		return (uint8_t)(0x7F ^ mask);
	return (uint8_t)(((seg << 4) | ((x >> (seg + 1)) & 0x0F)) ^ mask);
}

int16_t vagent_ulaw_decode(uint8_t code)
{
	int u = ~code & 0xFF;
	int t = ((u & 0x0F) << 3) + 0x84;

	t <<= (u & 0x70) >> 4;
	return (int16_t)((u & 0x80) ? (0x84 - t) : (t - 0x84));
}

uint8_t vagent_alaw_encode(int16_t pcm)
{
	int x = pcm >> 3;
	int mask, seg, a;

	if (x >= 0) {
		mask = 0xD5;
	} else {
		mask = 0x55;
		x = -x - 1;
	}
	seg = segment(x, alaw_seg_end);
	if (seg >= 8)
		return (uint8_t)(0x7F ^ mask);
	a = seg << 4;
	a |= seg < 2 ? (x >> 1) & 0x0F : (x >> seg) & 0x0F;
	return (uint8_t)(a ^ mask);
}

int16_t vagent_alaw_decode(uint8_t code)
{
	int a = code ^ 0x55;
	int t = (a & 0x0F) << 4;
	int seg = (a & 0x70) >> 4;

	if (seg == 0)
		t += 8;
	else if (seg == 1)
		t += 0x108;
	else
		t = (t + 0x108) << (seg - 1);
	return (int16_t)((a & 0x80) ? t : -t);
}

void vagent_ulaw_encode_buf(const int16_t *in, uint8_t *out, size_t n)
{
	for (size_t i = 0; i < n; i++)
		out[i] = vagent_ulaw_encode(in[i]);
}

void vagent_ulaw_decode_buf(const uint8_t *in, int16_t *out, size_t n)
{
	for (size_t i = 0; i < n; i++)
		out[i] = vagent_ulaw_decode(in[i]);
}

void vagent_alaw_encode_buf(const int16_t *in, uint8_t *out, size_t n)
{
	for (size_t i = 0; i < n; i++)
		out[i] = vagent_alaw_encode(in[i]);
}

void vagent_alaw_decode_buf(const uint8_t *in, int16_t *out, size_t n)
{
	for (size_t i = 0; i < n; i++)
		out[i] = vagent_alaw_decode(in[i]);
}
