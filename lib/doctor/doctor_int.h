/*
 * doctor_int.h — lib/doctor's private pieces: the cloud providers vagent
 * knows (key variable, default endpoint, probe) and how a probe's URL is
 * derived from the endpoint an agent file gives.
 */
#ifndef VAGENT_DOCTOR_INT_H
#define VAGENT_DOCTOR_INT_H

#include <stddef.h>

#include "vagent.h"

enum vagent__cloud {
	VAGENT__CLOUD_DEEPGRAM,
	VAGENT__CLOUD_OPENAI,
	VAGENT__CLOUD_ANTHROPIC,
	VAGENT__CLOUD_ELEVENLABS,
	VAGENT__CLOUD_CARTESIA,
	VAGENT__CLOUD_COUNT,
};

struct vagent__cloud_info {
	const char *name;          /* "openai" */
	const char *key_env;       /* default key variable */
	const char *default_url;   /* the endpoint when the agent gives none */
	const char *base_env;      /* variable the SDKs read for the base URL; NULL */
	const char *slots;         /* the slots it can serve: "brain/stt/tts" */
};

extern const struct vagent__cloud_info vagent__clouds[VAGENT__CLOUD_COUNT];

/*
 * The probe URL for provider `cloud` given its endpoint `url` (an agent's
 * base URL or WebSocket URL): ws/wss become http/https, credentials,
 * query and fragment are dropped, then openai/anthropic: BASE/models,
 * elevenlabs: BASE/v1/models (BASE/models when BASE ends in /v1),
 * deepgram: SCHEME://HOST/v1/projects, cartesia: SCHEME://HOST/voices.
 * 0, or -1 when `url` is not an http(s)/ws(s) URL or `out` is too small.
 */
int vagent__doctor_probe_url(enum vagent__cloud cloud, const char *url,
			     char *out, size_t size);

#endif
