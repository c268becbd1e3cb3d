/*
 * tts_int.h — what the files of lib/tts/ share: the flite voice table and
 * the one serialised synthesis routine that streams native-rate chunks
 * (docs/tts.md).
 */
#ifndef VAGENT_TTS_INT_H
#define VAGENT_TTS_INT_H

#include "core/internal.h"

/* Requests longer than this are refused (a sentence is far shorter; a
 * long run of letters is spelled out and can last minutes). */
#define VAGENT__FLITE_MAX_TEXT 10000

/* One of the built-in voices, registered once (vagent__flite_voice). */
struct vagent__flite_voice;

/*
 * The voice called `name` (NULL: "slt"), registering every voice with
 * flite on first use (pthread_once). NULL with VAGENT_EINVAL in `err` for
 * an unknown name ("flite: unknown voice 'x' (voices: slt, rms, awb,
 * kal16)").
 */
const struct vagent__flite_voice *vagent__flite_voice(const char *name,
						      struct vagent_error *err);
const char *vagent__flite_voice_name(const struct vagent__flite_voice *v);
int vagent__flite_voice_rate(const struct vagent__flite_voice *v);

/*
 * Receives the audio of a synthesis as flite makes it: `n` native-rate
 * samples (n may be 0 on the last call), `last` on the final call.
 * Return false to stop the synthesis (vagent__flite_run then returns
 * VAGENT_OK having delivered what it had).
 */
typedef bool (*vagent__flite_chunk_fn)(void *arg, const int16_t *pcm,
				       size_t n, bool last);

/*
 * Synthesise `text` (already normalised) with voice `v`, duration stretch
 * `stretch`, handing chunks of at least `chunk_samples` to `fn`. Holds the
 * process-wide synthesis lock throughout and reseeds the C library's
 * rand() (which flite's clustergen vocoder draws from), so a given text
 * always gives the same samples. VAGENT_EPROVIDER when flite fails.
 */
vagent_status vagent__flite_run(const struct vagent__flite_voice *v,
				const char *text, double stretch,
				int chunk_samples, vagent__flite_chunk_fn fn,
				void *arg, struct vagent_error *err);

/* Whether `text` has nothing but white space (nothing to say). */
bool vagent__flite_blank(const char *text);

#endif
