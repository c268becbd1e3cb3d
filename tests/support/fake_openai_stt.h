/*
 * fake_openai_stt.h — a loopback fake of OpenAI's POST
 * /v1/audio/transcriptions for the tests: it checks the bearer key and the
 * multipart form (model, a WAV file part) and answers {"text": ...} with
 * the next line of its script, or a fault. docs/providers.md.
 */
#ifndef VAGENT_TESTS_FAKE_OPENAI_STT_H
#define VAGENT_TESTS_FAKE_OPENAI_STT_H

#include <stdbool.h>

struct fake_openai_stt_config {
	const char *const *script;   /* one answer per request, NULL-terminated */
	const char *api_key;         /* required after "Bearer "; NULL: any */
	int delay_ms;                /* answer this late */
	/* faults */
	int http_status;             /* answer this status (429, 500, ...) ... */
	int fail_times;              /* ... to the first N requests (0: all) */
	const char *retry_after;     /* retry-after header value with them */
	bool quota;                  /* 429s say insufficient_quota */
	bool malformed;              /* 200 with a body that is not the JSON */
};

struct fake_openai_stt_stats {
	int requests;
	char auth[160];
	char model[64];
	char language[16];
	long wav_samples;            /* samples in the last WAV (16-bit mono) */
	long wav_rate;
	bool wav_ok;                 /* a RIFF/WAVE file part named turn.wav */
};

struct fake_openai_stt;

struct fake_openai_stt *fake_openai_stt_start(const struct fake_openai_stt_config *cfg);
/* "http://127.0.0.1:PORT/v1" (static buffer). */
const char *fake_openai_stt_url(const struct fake_openai_stt *f);
void fake_openai_stt_get_stats(struct fake_openai_stt *f, struct fake_openai_stt_stats *out);
void fake_openai_stt_stop(struct fake_openai_stt *f);

#endif
