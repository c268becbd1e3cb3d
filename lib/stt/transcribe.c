/*
 * transcribe.c — offline recognition of whole buffers with the same
 * decoder and front end as the streaming provider (docs/stt.md): the
 * audio is brought to the configured rate (8 kHz audio goes through the
 * telephone-band front end), then decoded as one utterance.
 */
#include <stdlib.h>
#include <string.h>

#include "stt/stt_int.h"

struct vagent_sphinx_transcriber {
	struct vagent_sphinx_config cfg;
	struct vagent__sphinx *dec;
};

vagent_status vagent_sphinx_transcriber_new(const struct vagent_sphinx_config *cfg,
					    struct vagent_sphinx_transcriber **out,
					    struct vagent_error *err)
{
	struct vagent_sphinx_transcriber *t;
	vagent_status st;

	if (!out)
		return vagent__error_set(err, VAGENT_EINVAL, "pocketsphinx",
					 "no output pointer");
	*out = NULL;
	if (!cfg)
		return vagent__error_set(err, VAGENT_EINVAL, "pocketsphinx",
					 "no configuration");
	t = calloc(1, sizeof(*t));
	if (!t)
		return vagent__error_set(err, VAGENT_ENOMEM, "pocketsphinx",
					 "out of memory");
	t->cfg = *cfg;
	t->cfg.boost_phrases = NULL;    /* not kept: used while loading */
	st = vagent__sphinx_load(cfg, &t->dec, err);
	if (st != VAGENT_OK) {
		free(t);
		return st;
	}
	*out = t;
	return VAGENT_OK;
}

void vagent_sphinx_transcriber_free(struct vagent_sphinx_transcriber *t)
{
	if (!t)
		return;
	vagent__sphinx_free(t->dec);
	free(t);
}

const char *vagent_sphinx_transcriber_oov(const struct vagent_sphinx_transcriber *t)
{
	return t->dec->oov;
}

double vagent_sphinx_transcriber_load_seconds(const struct vagent_sphinx_transcriber *t)
{
	return t->dec->load_seconds;
}

/* Mono at the configured rate, as int16 (transfer full). */
static vagent_status prepare(const struct vagent_sphinx_transcriber *t,
			     const struct vagent_audio *audio, int16_t **out,
			     size_t *n, struct vagent_error *err)
{
	const char *where = t->dec->where;
	struct vagent_audio *rs = NULL;
	const struct vagent_audio *a = audio;
	int16_t *s;
	size_t i;
	int c;

	*out = NULL;
	*n = 0;
	if (audio->rate != t->cfg.rate) {
		vagent_status st = vagent_audio_resample(audio, t->cfg.rate, 7,
							 &rs, err);
		if (st != VAGENT_OK)
			return st;
		a = rs;
	}
	s = malloc((a->frames ? a->frames : 1) * sizeof(*s));
	if (!s) {
		vagent_audio_free(rs);
		return vagent__error_set(err, VAGENT_ENOMEM, where, "out of memory");
	}
	for (i = 0; i < a->frames; i++) {
		double v = 0;

		for (c = 0; c < a->channels; c++)
			v += (double)a->samples[i * (size_t)a->channels + (size_t)c];
		v = v / a->channels * 32768.0;
		s[i] = (int16_t)(v > 32767 ? 32767 : v < -32768 ? -32768 : v);
	}
	*n = a->frames;
	*out = s;
	vagent_audio_free(rs);
	return VAGENT_OK;
}

vagent_status vagent_sphinx_transcriber_run(struct vagent_sphinx_transcriber *t,
					    const struct vagent_audio *audio,
					    char **text, double *confidence,
					    struct vagent_error *err)
{
	const char *where;
	struct vagent__stt_frontend *fe = NULL;
	int16_t *in = NULL, *conv = NULL;
	size_t n = 0, len = 0, cap = 0;
	double conf = -1;
	char *hyp = NULL;
	vagent_status st;

	if (text)
		*text = NULL;
	if (confidence)
		*confidence = -1;
	if (!t || !audio || !text)
		return vagent__error_set(err, VAGENT_EINVAL, "pocketsphinx",
					 "no transcriber, audio or output");
	where = t->dec->where;
	if (audio->rate <= 0 || audio->channels < 1)
		return vagent__error_set(err, VAGENT_EINVAL, where,
					 "audio has no rate or channels");
	st = prepare(t, audio, &in, &n, err);
	if (st == VAGENT_OK)
		st = vagent__stt_frontend_new(t->cfg.rate, t->cfg.denoise_db,
					      where, &fe, err);
	if (st != VAGENT_OK)
		goto out;
	/* The denoiser learns the noise from the whole buffer first (its
	 * output dropped), as a call's denoiser has from the audio before the
	 * speech; then the buffer goes through for real. */
	if (t->cfg.denoise_db > 0 &&
	    !vagent__stt_frontend_process(fe, in, n, &conv, &len, &cap)) {
		st = vagent__error_set(err, VAGENT_ENOMEM, where, "out of memory");
		goto out;
	}
	len = 0;
	if (!vagent__stt_frontend_process(fe, in, n, &conv, &len, &cap) ||
	    !vagent__stt_frontend_flush(fe, &conv, &len, &cap)) {
		st = vagent__error_set(err, VAGENT_ENOMEM, where, "out of memory");
		goto out;
	}
	if (ps_start_utt(t->dec->ps) < 0 ||
	    (len && ps_process_raw(t->dec->ps, conv, len, FALSE, TRUE) < 0) ||
	    ps_end_utt(t->dec->ps) < 0) {
		st = vagent__error_set(err, VAGENT_EPROVIDER, where,
				       "the decoder failed");
		goto out;
	}
	hyp = vagent__sphinx_final(t->dec, &conf);
	if (!hyp) {
		st = vagent__error_set(err, VAGENT_ENOMEM, where, "out of memory");
		goto out;
	}
	*text = hyp;
	if (confidence)
		*confidence = conf;
out:
	vagent__stt_frontend_free(fe);
	free(in);
	free(conv);
	return st;
}

vagent_status vagent_sphinx_transcribe(const struct vagent_sphinx_config *cfg,
				       const struct vagent_audio *audio,
				       char **text, double *confidence,
				       struct vagent_error *err)
{
	struct vagent_sphinx_transcriber *t;
	vagent_status st;

	if (text)
		*text = NULL;
	st = vagent_sphinx_transcriber_new(cfg, &t, err);
	if (st != VAGENT_OK)
		return st;
	st = vagent_sphinx_transcriber_run(t, audio, text, confidence, err);
	vagent_sphinx_transcriber_free(t);
	return st;
}
