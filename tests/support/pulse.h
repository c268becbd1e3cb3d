/*
 * pulse.h — a private PulseAudio server for the device tests: a null sink
 * "vagent_speaker" (its monitor captured by parec) and a pipe source
 * "vagent_mic" fed from the test, reached by PortAudio through ALSA's pulse
 * plugin (docs/devices.md, "The PulseAudio test rig").
 */
#ifndef VAGENT_TESTS_PULSE_H
#define VAGENT_TESTS_PULSE_H

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#define PULSE_RATE 16000   /* the mic fifo's and the capture's rate (mono s16le) */

struct pulse_server {
	char dir[512];           /* the rig's files: run/, mic.fifo, pulse.log, asound.conf */
	pid_t daemon;

	/* the mic feeder: writes queued audio, then silence, in real time */
	pthread_t feeder;
	bool feeder_running;
	pthread_mutex_t lock;
	pthread_cond_t cond;
	int16_t *feed;
	size_t feed_n, feed_pos;
	bool feed_stop;
	int fifo_fd;

	/* the sink monitor's capture */
	pid_t parec;
	int parec_fd;
	pthread_t reader;
	bool capturing;
	int16_t *cap;
	size_t cap_n, cap_size;
};

/* Whether the device tests are switched off (VAGENT_NO_AUDIO_TESTS=1). */
bool pulse_tests_disabled(void);

/*
 * Start the server with its files under `dir` (which must exist) and point
 * this process's environment at it (PULSE_SERVER, ALSA_CONFIG_PATH...), so
 * PortAudio's "pulse"/"default" devices reach it. False, with the reason
 * on stderr, when it cannot start.
 */
bool pulse_start(struct pulse_server *ps, const char *dir);

/* Queue `n` samples (16 kHz mono) for the mic; they are written after what
 * is queued, in real time (20 ms chunks), silence in between. */
bool pulse_feed(struct pulse_server *ps, const int16_t *s, size_t n);
/* Whether everything fed has been written to the fifo. */
bool pulse_feed_done(struct pulse_server *ps);

/* Record vagent_speaker's monitor (16 kHz mono) until _stop, which returns
 * the samples (malloc'd; *n their count). */
bool pulse_capture_start(struct pulse_server *ps);
int16_t *pulse_capture_stop(struct pulse_server *ps, size_t *n);
/* Samples captured so far (the reader thread keeps appending). */
size_t pulse_capture_count(struct pulse_server *ps);

/* Unload the mic or speaker module (a device disappearing). */
bool pulse_unload_source(struct pulse_server *ps);
bool pulse_unload_sink(struct pulse_server *ps);

/* Stop everything and the server (its files stay under dir). */
void pulse_stop(struct pulse_server *ps);

#endif
