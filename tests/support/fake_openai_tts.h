/*
 * fake_openai_tts.h — a loopback fake of OpenAI's POST /v1/audio/speech
 * for the tests: it checks the bearer key and the JSON body (model, voice,
 * input, response_format "pcm") and streams the input spoken by flite at
 * 24 kHz s16le mono, chunked, at a configurable pace; or a fault.
 * docs/providers.md "OpenAI speech (TTS)".
 */
#ifndef VAGENT_TESTS_FAKE_OPENAI_TTS_H
#define VAGENT_TESTS_FAKE_OPENAI_TTS_H

#include <stdbool.h>

struct fake_openai_tts_config {
	const char *api_key;         /* required after "Bearer "; NULL: any */
	int chunk_ms;                /* audio per chunk; 40 */
	int pace_ms;                 /* wait between chunks; 0 */
	int chunk_bytes_odd;         /* >0: chunks of this many bytes (odd
				      * sizes split samples) instead */
	/* faults */
	int first_byte_delay_ms;     /* the first chunk waits this long */
	int stall_after_chunks;      /* >0: stop sending (keep the connection)
				      * after this many chunks */
	int cut_after_chunks;        /* >0: close the connection mid-body
				      * after this many chunks */
	int http_status;             /* answer this status (429, 500, 400)... */
	int fail_times;              /* ... to the first N requests (0: all) */
	const char *retry_after;     /* retry-after header value with them */
	const char *error_message;   /* error.message of the JSON error body */
	bool quota;                  /* 429s say insufficient_quota */
};

struct fake_openai_tts_stats {
	int requests;
	int completed;               /* bodies sent to the end */
	int client_closed;           /* connections the client closed mid-body */
	char auth[160];
	char model[64];
	char voice[64];
	char input[512];             /* of the last request */
	char response_format[16];
	char accept[64];
	double speed;                /* 0: none sent */
	bool json_ok;                /* the body parsed as a JSON object */
};

struct fake_openai_tts;

struct fake_openai_tts *fake_openai_tts_start(const struct fake_openai_tts_config *cfg);
/* "http://127.0.0.1:PORT/v1" (static buffer). */
const char *fake_openai_tts_url(const struct fake_openai_tts *f);
void fake_openai_tts_get_stats(struct fake_openai_tts *f, struct fake_openai_tts_stats *out);
/* Wait up to timeout_ms for stats.client_closed >= n; returns whether. */
bool fake_openai_tts_wait_closed(struct fake_openai_tts *f, int n, int timeout_ms);
/* The samples (24 kHz) the fake sends for `text`: what a complete body
 * holds. */
long fake_openai_tts_samples_for(const char *text);
void fake_openai_tts_stop(struct fake_openai_tts *f);

#endif
