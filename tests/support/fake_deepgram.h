/*
 * fake_deepgram.h — a loopback fake of Deepgram's live STT WebSocket
 * (/v1/listen) for the tests, plus an /echo endpoint for the transport's
 * tests. It "recognises" without a model: an energy detector finds the
 * caller's utterances in the audio it receives, and the n-th utterance is
 * transcribed as the n-th line of its script. docs/providers.md "The fake".
 */
#ifndef VAGENT_TESTS_FAKE_DEEPGRAM_H
#define VAGENT_TESTS_FAKE_DEEPGRAM_H

#include <stdbool.h>
#include <stddef.h>

struct fake_deepgram_config {
	const char *const *script;   /* what the caller says, utterance by
				      * utterance, NULL-terminated */
	const char *api_key;         /* required after "Token "; NULL: any */
	int interim_every_ms;        /* audio between interim results; 200 */
	int final_every_words;       /* >0: an is_final segment every N words
				      * (speech_final only on the last) */
	int latency_ms;              /* every message leaves this late; 0 */
	double speech_rms;           /* energy threshold (int16 RMS); 300 */
	int idle_timeout_ms;         /* nothing received: close 1011 NET-0001; 10000 */
	/* faults */
	int http_status;             /* refuse the upgrade (401, 429, 500) */
	int first_result_delay_ms;   /* the first Results waits this long more */
	int stall_after;             /* >0: send nothing after this many messages */
	int malformed_at;            /* >0: message number N is broken JSON */
	int drop_after_audio_ms;     /* >0: vanish (no close frame) after this
				      * much audio */
	int close_code;              /* with drop_after_audio_ms: send this
				      * close code instead of vanishing */
};

struct fake_deepgram_config fake_deepgram_config_default(void);

/* What the fake saw, for assertions. */
struct fake_deepgram_stats {
	int connections;             /* upgrades answered (any status) */
	int upgraded;                /* 101s */
	int open;                    /* a connection is being served */
	int finalize, keepalive, closestream;
	long audio_ms;               /* audio received on the current/last connection */
	int utterances;              /* speech_final finals sent */
	int messages_sent;
	int client_close_code;       /* the client's close frame code, 0 none */
	char auth[160];              /* Authorization header of the last upgrade */
	char query[512];             /* its query string */
	char last_text[256];         /* last text frame received */
};

struct fake_deepgram;

/* Listen on 127.0.0.1 (an ephemeral port) and serve on a thread; aborts
 * the test on failure. */
struct fake_deepgram *fake_deepgram_start(const struct fake_deepgram_config *cfg);
int fake_deepgram_port(const struct fake_deepgram *f);
/* "ws://127.0.0.1:PORT/v1/listen" (static buffer). */
const char *fake_deepgram_url(const struct fake_deepgram *f);
void fake_deepgram_get_stats(struct fake_deepgram *f, struct fake_deepgram_stats *out);
/* Wait until cond(stats, arg) holds or timeout_ms pass; returns cond's
 * last value. */
bool fake_deepgram_wait(struct fake_deepgram *f,
			bool (*cond)(const struct fake_deepgram_stats *s, void *arg),
			void *arg, int timeout_ms);
void fake_deepgram_stop(struct fake_deepgram *f);

#endif
