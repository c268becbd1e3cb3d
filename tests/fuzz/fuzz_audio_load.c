/*
 * fuzz_audio_load.c — libFuzzer harness for vagent_audio_load: the input is
 * written to a memfd and loaded through /proc/self/fd with every channel
 * selection; any result is fine but a crash, leak, hang or a bad result.
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
