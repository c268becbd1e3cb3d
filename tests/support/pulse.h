/*
 * pulse.h — a private PulseAudio server for the device tests: a pipe sink
 * "vagent_speaker" and a pipe source "vagent_mic", both clocked in real time
 * by the rig's thread (it plays the microphone and the listener), reached
 * by PortAudio through ALSA's pulse plugin (docs/devices.md, "The
 * PulseAudio test rig").
 */
#ifndef VAGENT_TESTS_PULSE_H
#define VAGENT_TESTS_PULSE_H

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#define PULSE_RATE 16000   /* the mic fifo's and the capture's rate (mono s16le) */
#define PULSE_LOOP_MAX (PULSE_RATE / 2)

struct pulse_server {
	char dir[512];           /* the rig's files: run/, mic.fifo, pulse.log, asound.conf */
	pid_t daemon;

	/* the clock thread: every 20 ms it writes the mic's next chunk (what
	 * was fed, else silence) and reads the speaker's (kept while capturing) */
	pthread_t clock;
	bool clock_running;
	pthread_mutex_t lock;
	int16_t *feed;
	size_t feed_n, feed_pos;
	bool stop;
	int mic_fd, speaker_fd;
	bool loopback;
	int16_t loop[PULSE_LOOP_MAX];   /* speaker audio on its way to the mic */
	size_t loop_n;
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
/* pulse_start for a test fixture: fails the test, saying which packages
 * it needs and how to skip, when the rig does not start. */
bool pulse_rig_start(struct pulse_server *ps, const char *dir);

/* Queue `n` samples (16 kHz mono) for the mic; they are written after what
 * is queued, in real time (20 ms chunks), silence in between. */
bool pulse_feed(struct pulse_server *ps, const int16_t *s, size_t n);
/* Whether everything fed has been written to the fifo. */
bool pulse_feed_done(struct pulse_server *ps);

/* Record what vagent_speaker plays (16 kHz mono) until _stop, which
 * returns the samples (malloc'd; *n their count). */
bool pulse_capture_start(struct pulse_server *ps);
int16_t *pulse_capture_stop(struct pulse_server *ps, size_t *n);
/* Samples captured so far (the clock thread keeps appending). */
size_t pulse_capture_count(struct pulse_server *ps);

/* An acoustic echo: what the speaker plays is added to the mic (one tick,
 * 20 ms, later), or not (the default). */
void pulse_loopback(struct pulse_server *ps, bool on);

/* Unload the mic or speaker module (a device disappearing). */
bool pulse_unload_source(struct pulse_server *ps);
bool pulse_unload_sink(struct pulse_server *ps);

/* Stop everything and the server (its files stay under dir). */
void pulse_stop(struct pulse_server *ps);

#endif
