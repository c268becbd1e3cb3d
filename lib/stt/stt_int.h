/*
 * stt_int.h — what the pocketsphinx recogniser's files share (lib/stt,
 * docs/stt.md): the telephone-band front end, loading a decoder (with the
 * vocabulary boost), decoding helpers and the boost's n-gram builder.
 */
#ifndef VAGENT_STT_INT_H
#define VAGENT_STT_INT_H

#include <pocketsphinx.h>

#include "core/internal.h"

/* The rate the acoustic model was trained at: every input is brought to it. */
#define VAGENT__SPHINX_RATE 16000

/*
 * The front end: the call's audio (8 or 16 kHz int16) to what the 16 kHz
 * model expects. With denoise_db > 0, speexdsp's preprocessor first
 * suppresses stationary background noise (by up to denoise_db dB; whole
 * 20 ms frames, so the output lags the input by up to one frame). 16 kHz
 * then passes through; 8 kHz is upsampled; the empty 4-8 kHz band is left
 * empty (a noise fill exists for experiments only: docs/stt.md "8 kHz").
 * Deterministic: the noise has a fixed seed.
 */
struct vagent__stt_frontend;

vagent_status vagent__stt_frontend_new(int rate, double denoise_db,
				       const char *where,
				       struct vagent__stt_frontend **out,
				       struct vagent_error *err);
void vagent__stt_frontend_free(struct vagent__stt_frontend *fe);
/* Convert `n` samples; the output (16 kHz) is appended to *out (grown with
 * realloc; *len and *cap in samples). false when out of memory. */
bool vagent__stt_frontend_process(struct vagent__stt_frontend *fe,
				  const int16_t *in, size_t n, int16_t **out,
				  size_t *len, size_t *cap);
/* At the end of a buffer (offline): push out what the denoiser holds
 * (the partial frame and its lag, padded with silence). */
bool vagent__stt_frontend_flush(struct vagent__stt_frontend *fe, int16_t **out,
				size_t *len, size_t *cap);

/* A loaded decoder and what loading it found. */
struct vagent__sphinx {
	ps_decoder_t *ps;
	char where[64];             /* the provider name, for messages */
	char *oov;                  /* boost words not in the dictionary,
				     * space-separated ("" when none) */
	size_t boost_words;         /* distinct in-dictionary boost words */
	bool boosted;               /* the phrase model is in use */
	double load_seconds;        /* wall time the loading took */
};

/* Check `cfg` and load a decoder: VAGENT_EINVAL for a bad config,
 * VAGENT_ENOENT for a missing model/LM/dictionary, VAGENT_EPROVIDER when
 * pocketsphinx refuses, VAGENT_ENOMEM. Messages name the provider. */
vagent_status vagent__sphinx_load(const struct vagent_sphinx_config *cfg,
				  struct vagent__sphinx **out,
				  struct vagent_error *err);
void vagent__sphinx_free(struct vagent__sphinx *s);

/* The hypothesis of the utterance so far (transfer full; "" for none), or
 * NULL when out of memory. */
char *vagent__sphinx_hyp(struct vagent__sphinx *s);

/*
 * After ps_end_utt: the final text (transfer full) and its confidence,
 * the mean of the words' posterior probabilities (0..1; -1 when the
 * decoder gave no posterior, e.g. an empty hypothesis). NULL when out of
 * memory.
 */
char *vagent__sphinx_final(struct vagent__sphinx *s, double *confidence);

/*
 * Build the boost model: an ARPA trigram (Witten-Bell discounting, with
 * back-off) over `phrases`, restricted to words `in_dict` accepts, written
 * to `path`. Words are lower-cased; punctuation other than apostrophes
 * separates words. *oov gets the distinct out-of-dictionary words
 * (space-separated, transfer full), *n_words the distinct kept words.
 * VAGENT_EINVAL when no phrase has a word the dictionary knows.
 */
typedef bool (*vagent__in_dict_fn)(void *arg, const char *word);

vagent_status vagent__lm_boost_write(const char *const *phrases,
				     vagent__in_dict_fn in_dict, void *arg,
				     const char *path, const char *where,
				     char **oov, size_t *n_words,
				     struct vagent_error *err);

#endif
