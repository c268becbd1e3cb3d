/*
 * fake_elevenlabs.h — a loopback fake of ElevenLabs text to speech for the
 * tests: the stream-input WebSocket (/v1/text-to-speech/{voice}/stream-input)
 * and HTTP streaming (POST /v1/text-to-speech/{voice}/stream), on a
 * plain-socket server of its own with a thread per connection. The audio is
 * the received text spoken by flite in the requested output_format, at a
 * configurable pace, with faults. docs/providers.md "ElevenLabs (TTS)".
 */
#ifndef VAGENT_TESTS_FAKE_ELEVENLABS_H
#define VAGENT_TESTS_FAKE_ELEVENLABS_H

#include <stdbool.h>

struct fake_elevenlabs_config {
	const char *api_key;         /* required in xi-api-key; NULL: any non-empty */
	const char *voice_id;        /* required in the path; NULL: any */
	int chunk_ms;                /* audio per message / HTTP chunk; 100 */
	int pace_ms;                 /* between chunks; 10 */
	/* Faults. The in-stream ones apply to sentence number `fault_sentence`
	 * (1-based, counted over all connections; 0: every sentence). */
	int fault_sentence;
	int first_byte_delay_ms;     /* the first chunk waits this long more */
	int stall_after_chunks;      /* >0: nothing after N chunks (until the
				      * client closes) */
	int malformed_at_chunk;      /* >0: chunk N is broken JSON (WebSocket) */
	int bad_audio_at_chunk;      /* >0: chunk N's audio is not base64 */
	int drop_after_chunks;       /* >0: vanish after N chunks (no close frame,
				      * no last HTTP chunk) */
	const char *error_after_drop;/* with drop_after_chunks, WebSocket: send
				      * {"message","error":this,"code":1008} and
				      * close 1008 instead of vanishing */
	int http_status;             /* refuse the upgrade / POST: 401, 429, 500 */
	int fail_times;              /* ...only the first N times; 0: always */
	int retry_after_s;           /* with http_status: a Retry-After header */
	bool auth_in_socket;         /* a bad key on the WebSocket: upgrade, then
				      * the error JSON and close 1008 (else HTTP 401) */
};

struct fake_elevenlabs_config fake_elevenlabs_config_default(void);

#define FAKE_EL_MAX_SENTENCES 32

/* What the fake saw, for assertions. */
struct fake_elevenlabs_stats {
	int connections;             /* requests and upgrades answered */
	int upgraded;                /* 101s */
	int http_requests;           /* POSTs to /stream answered 200 */
	int refused;                 /* answered with an error status */
	int inits;                   /* initialising messages (" " + voice_settings) */
	int flushes, eos;            /* flush:true messages, {"text":""} */
	int sentences;               /* generations started (texts synthesised) */
	int completed;               /* sentences whose audio was sent in full
				      * (isFinal / the last chunk) */
	int client_closed;           /* connections the client closed while a
				      * sentence was still being sent */
	int unused_closed;           /* sockets closed before any text came */
	int open;                    /* connections being served now */
	char texts[FAKE_EL_MAX_SENTENCES][256];   /* each sentence's text */
	char key[128];               /* the last xi-api-key */
	char path[256];              /* the last path (no query) */
	char query[512];             /* the last query string */
	char body[1024];             /* the last POST body */
	char init[512];              /* the last initialising message */
};

struct fake_elevenlabs;

/* Listen on 127.0.0.1 (an ephemeral port) and serve on threads; aborts the
 * test on failure. */
struct fake_elevenlabs *fake_elevenlabs_start(const struct fake_elevenlabs_config *cfg);
/* "http://127.0.0.1:PORT" (the provider's base_url; static buffer). */
const char *fake_elevenlabs_url(const struct fake_elevenlabs *f);
void fake_elevenlabs_get_stats(struct fake_elevenlabs *f, struct fake_elevenlabs_stats *out);
/* Wait until cond(stats, arg) holds or timeout_ms pass; returns cond's
 * last value. */
bool fake_elevenlabs_wait(struct fake_elevenlabs *f,
			  bool (*cond)(const struct fake_elevenlabs_stats *s, void *arg),
			  void *arg, int timeout_ms);
void fake_elevenlabs_stop(struct fake_elevenlabs *f);

#endif
