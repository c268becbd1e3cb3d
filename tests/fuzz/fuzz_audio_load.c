/*
 * fuzz_audio_load.c — libFuzzer harness for vagent_audio_load: the input is
 * written to a memfd and loaded through /proc/self/fd with every channel
 * selection; any result is fine but a crash, leak, hang or a bad result.
 * A custom mutator recomputes Ogg page checksums after each mutation, or
 * libogg would drop nearly every mutated page before libopusfile saw it.
 */
#define _GNU_SOURCE
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "vagent.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
size_t LLVMFuzzerMutate(uint8_t *data, size_t size, size_t max_size);
size_t LLVMFuzzerCustomMutator(uint8_t *data, size_t size, size_t max_size,
			       unsigned int seed);

/* Ogg's CRC-32: polynomial 0x04c11db7, not reflected, initial value 0. */
static uint32_t ogg_crc(const uint8_t *p, size_t n)
{
	uint32_t c = 0;

	for (size_t i = 0; i < n; i++) {
		c ^= (uint32_t)p[i] << 24;
		for (int k = 0; k < 8; k++)
			c = c & 0x80000000u ? (c << 1) ^ 0x04c11db7u : c << 1;
	}
	return c;
}

/* Give every complete Ogg page in data[0..size) its correct checksum. */
static void fix_ogg_pages(uint8_t *data, size_t size)
{
	for (size_t i = 0; i + 27 <= size; i++) {
		size_t nseg, len;
		uint32_t c;

		if (memcmp(data + i, "OggS", 4))
			continue;
		nseg = data[i + 26];
		if (i + 27 + nseg > size)
			break;
		len = 27 + nseg;
		for (size_t k = 0; k < nseg; k++)
			len += data[i + 27 + k];
		if (i + len > size)
			continue;
		memset(data + i + 22, 0, 4);
		c = ogg_crc(data + i, len);
		for (int k = 0; k < 4; k++)
			data[i + 22 + k] = (uint8_t)(c >> (8 * k));
		i += len - 1;
	}
}

size_t LLVMFuzzerCustomMutator(uint8_t *data, size_t size, size_t max_size,
			       unsigned int seed)
{
	(void)seed;
	size = LLVMFuzzerMutate(data, size, max_size);
	fix_ogg_pages(data, size);
	return size;
}

static int fd = -1;
static char path[64];

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (fd < 0) {
		fd = memfd_create("fuzz-audio", 0);
		if (fd < 0)
			abort();
		snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
	}
	if (ftruncate(fd, 0) || pwrite(fd, data, size, 0) != (ssize_t)size)
		abort();

	for (int sel = VAGENT_CHANNELS_ALL; sel <= VAGENT_CHANNELS_MIX; sel++) {
		struct vagent_audio *a = NULL;
		struct vagent_error err;
		vagent_status st = vagent_audio_load(path, (vagent_channel_select)sel, &a, &err);
		double sum = 0;

		if (st != VAGENT_OK) {
			/* One line naming the file; the right kind of status. */
			if (a || !strstr(err.message, path) || strchr(err.message, '\n') ||
			    !(st == VAGENT_EFORMAT || st == VAGENT_EUNSUPPORTED ||
			      st == VAGENT_EINVAL || st == VAGENT_ENOMEM))
				abort();
			if (st == VAGENT_EINVAL && sel != VAGENT_CHANNELS_RIGHT)
				abort();
			continue;
		}
		if (!a || a->rate <= 0 || a->channels < 1 ||
		    (sel != VAGENT_CHANNELS_ALL && a->channels != 1) ||
		    (a->frames && !a->samples) || memchr(a->warning, '\n', sizeof(a->warning)))
			abort();
		/* Every sample is readable (ASan) and a number. */
		for (size_t i = 0; i < a->frames * (size_t)a->channels; i++)
			sum += a->samples[i];
		if (isnan(sum) && a->encoding != VAGENT_ENC_FLOAT && a->encoding != VAGENT_ENC_DOUBLE &&
		    a->encoding != VAGENT_ENC_OTHER)
			abort();
		vagent_audio_free(a);
	}
	return 0;
}
