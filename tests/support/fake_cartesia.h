/*
 * fake_cartesia.h — a loopback fake of Cartesia's TTS WebSocket
 * (/tts/websocket) for the tests: it checks the auth headers (X-API-Key or
 * Authorization: Bearer) and Cartesia-Version on the upgrade, keeps state
 * per context_id, speaks each generation request's transcript with flite
 * in the requested raw format (pcm_s16le at the requested rate, or
 * pcm_mulaw 8000) as base64 "chunk" messages at a configurable pace, then
 * "timestamps" and "flush_done" (when asked) and "done"; "cancel" stops a
 * context. Faults:
 * a slow first chunk, a stall, malformed JSON, an error message, an abrupt
 * close, a refused upgrade. docs/providers.md "Cartesia (TTS)".
 */
#ifndef VAGENT_TESTS_FAKE_CARTESIA_H
#define VAGENT_TESTS_FAKE_CARTESIA_H

#include <stdbool.h>

struct fake_cartesia_config {
	const char *api_key;         /* required (either header); NULL: any */
	const char *voice;           /* the one voice id it knows; NULL: any */
	int chunk_ms;                /* audio per chunk; 40 */
	int pace_ms;                 /* between chunks; 0 */
	bool extras;                 /* every context also gets timestamps and
				      * flush_done messages (asked for or not) */
	/* faults */
	int upgrade_status;          /* refuse the upgrade (401, 500) */
	int first_chunk_delay_ms;    /* each context's first chunk waits */
	int stall_after_chunks;      /* >0: send nothing more after N chunks */
	int malformed_after_chunks;  /* >0: a broken JSON message after N chunks */
	int error_after_chunks;      /* >=0 with error_status: an error message
				      * for the context after N chunks */
	int error_status;            /* its status_code (400, 401, 500); 0: none */
	int close_after_chunks;      /* >0: vanish (no close frame) after N chunks */
};

struct fake_cartesia_stats {
	int connections;             /* upgrade requests */
	int upgraded;
	int requests;                /* generation requests */
	int cancels;
	int done;                    /* done messages sent */
	int flush_done;              /* flush_done messages sent */
	int chunks;                  /* chunk messages sent */
	int late_cancels;            /* cancels of a context already done */
	int client_closed;           /* connections the client ended */
	char api_key_header[160];    /* X-API-Key of the last upgrade */
	char auth[160];              /* Authorization of the last upgrade */
	char version[64];            /* Cartesia-Version */
	char path[256];              /* the upgrade's path and query */
	char context_id[64];         /* of the last request */
	char transcript[512];
	char model_id[64];
	char voice[64];
	char encoding[32];
	int sample_rate;
	char language[16];
	bool continue_flag;
};

struct fake_cartesia;

struct fake_cartesia *fake_cartesia_start(const struct fake_cartesia_config *cfg);
/* "ws://127.0.0.1:PORT/tts/websocket" (static buffer). */
const char *fake_cartesia_url(const struct fake_cartesia *f);
void fake_cartesia_get_stats(struct fake_cartesia *f, struct fake_cartesia_stats *out);
/* Wait until cond(stats, arg) holds or timeout_ms pass; its last value. */
bool fake_cartesia_wait(struct fake_cartesia *f,
			bool (*cond)(const struct fake_cartesia_stats *s, void *arg),
			void *arg, int timeout_ms);
/* Samples flite makes for `text` at `rate` (what a context's chunks hold). */
long fake_cartesia_samples_for(const char *text, int rate);
void fake_cartesia_stop(struct fake_cartesia *f);

#endif
