/*
 * device_int.h — shared by the files of lib/device/: a single-producer
 * single-consumer sample ring (the PortAudio callback on one side, the loop
 * thread on the other) and PortAudio's process-wide set-up; not public API.
 */
#ifndef VAGENT_DEVICE_INT_H
#define VAGENT_DEVICE_INT_H

#include "core/internal.h"

#include <stdatomic.h>

/* Lock-free SPSC ring of int16 samples; `head` and `tail` count samples
 * written and read since the start (they never wrap back). */
struct vagent__ring {
	int16_t *buf;
	size_t cap;
	_Atomic size_t head, tail;
};

bool vagent__ring_init(struct vagent__ring *r, size_t cap);
void vagent__ring_free(struct vagent__ring *r);
size_t vagent__ring_fill(const struct vagent__ring *r);
size_t vagent__ring_space(const struct vagent__ring *r);
/* Producer side: copy up to n samples in; returns how many fit. */
size_t vagent__ring_write(struct vagent__ring *r, const int16_t *s, size_t n);
/* Consumer side: copy up to n samples out (s NULL: drop them). */
size_t vagent__ring_read(struct vagent__ring *r, int16_t *s, size_t n);

/*
 * PortAudio's set-up, reference counted and serialised across threads: the
 * first acquire initialises PortAudio (its device list is read then), the
 * last release terminates it. ALSA's and JACK's diagnostics, which they
 * print on stderr while devices are probed, are silenced (the library never
 * prints). Failure: VAGENT_EIO "WHERE: PortAudio cannot start: ...".
 */
vagent_status vagent__pa_acquire(struct vagent_error *err, const char *where);
void vagent__pa_release(void);

/*
 * The device `spec` names (NULL: the default) for `input` or output, as
 * vagent_audio_io_config.input documents; PortAudio must be acquired. On
 * success *index and `name` (the device's name) are set.
 */
vagent_status vagent__device_find(const char *spec, bool input, int *index,
				  char *name, size_t name_size, struct vagent_error *err);

/* Whether `path` ends in ".wav" (any case). */
bool vagent__is_wav_path(const char *path);

#endif
