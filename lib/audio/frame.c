/*
 * frame.c — media time in ticks (1/705 600 000 s) and the fixed-capacity
 * int16 frame that the session pipeline moves every 20 ms.
 */
#include "audio/audio_int.h"

#include <string.h>

/* Floor division for a possibly negative numerator. */
static int64_t floor_div(int64_t a, int64_t b)
{
	int64_t q = a / b;

	if ((a % b) && ((a < 0) != (b < 0)))
		q--;
	return q;
}

int64_t vagent_ticks_from_samples(int64_t index, int rate)
{
	if (rate <= 0)
		return 0;
	/* Split so that index * ticks-per-sample cannot overflow early. */
	if (VAGENT_TICKS_PER_SEC % rate == 0)
		return index * (VAGENT_TICKS_PER_SEC / rate);
	return floor_div(index, rate) * VAGENT_TICKS_PER_SEC +
	       floor_div((index - floor_div(index, rate) * rate) * VAGENT_TICKS_PER_SEC, rate);
}

int64_t vagent_ticks_to_samples(int64_t ticks, int rate)
{
	int64_t secs, rem;

	if (rate <= 0)
		return 0;
	secs = floor_div(ticks, VAGENT_TICKS_PER_SEC);
	rem = ticks - secs * VAGENT_TICKS_PER_SEC;
	return secs * rate + floor_div(rem * rate, VAGENT_TICKS_PER_SEC);
}

int64_t vagent_ticks_from_ms(int64_t ms)
{
	return ms * VAGENT_TICKS_PER_MS;
}

int64_t vagent_ticks_to_ms(int64_t ticks)
{
	return floor_div(ticks, VAGENT_TICKS_PER_MS);
}

int64_t vagent_ticks_to_us(int64_t ticks)
{
	/* 705.6 ticks per µs: split off whole milliseconds to stay exact. */
	int64_t ms = floor_div(ticks, VAGENT_TICKS_PER_MS);

	return ms * 1000 + (ticks - ms * VAGENT_TICKS_PER_MS) * 1000 / VAGENT_TICKS_PER_MS;
}

size_t vagent_frame_samples_for(int rate, int ms)
{
	if (rate <= 0 || ms <= 0)
		return 0;
	return (size_t)((int64_t)rate * ms / 1000);
}

vagent_status vagent_frame_init(struct vagent_frame *f, int rate, int channels,
				size_t n, int64_t pts)
{
	f->pts = pts;
	f->rate = rate;
	f->channels = channels;
	f->n = 0;
	if (rate <= 0 || channels < 1 || channels > 2 ||
	    n > VAGENT_FRAME_MAX_SAMPLES / (size_t)channels)
		return VAGENT_EINVAL;
	f->n = n;
	memset(f->samples, 0, n * (size_t)channels * sizeof(f->samples[0]));
	return VAGENT_OK;
}

vagent_status vagent_frame_init_20ms(struct vagent_frame *f, int rate,
				     int channels, int64_t pts)
{
	return vagent_frame_init(f, rate, channels,
				 vagent_frame_samples_for(rate, 20), pts);
}

int64_t vagent_frame_duration(const struct vagent_frame *f)
{
	return vagent_ticks_from_samples((int64_t)f->n, f->rate);
}

int64_t vagent_frame_end(const struct vagent_frame *f)
{
	return f->pts + vagent_frame_duration(f);
}
