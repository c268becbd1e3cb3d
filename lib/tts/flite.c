/*
 * flite.c — flite itself: one-time registration of the four voices, the
 * process-wide synthesis lock, streaming synthesis of one text to native
 * chunks, and whole-text synthesis to a buffer (docs/tts.md).
 */
#include <pthread.h>
#include <setjmp.h>
#include <stdlib.h>
#include <string.h>

#include <flite/flite.h>

#include "audio/audio_int.h"
#include "tts/tts_int.h"

/* libflite_cmu_us_*: each voice library exports its registration. */
cst_voice *register_cmu_us_slt(const char *voxdir);
cst_voice *register_cmu_us_rms(const char *voxdir);
cst_voice *register_cmu_us_awb(const char *voxdir);
cst_voice *register_cmu_us_kal16(const char *voxdir);

/* The seed rand() gets before every synthesis: flite's clustergen vocoder
 * draws its mixed-excitation noise from rand(). */
#define FLITE_RAND_SEED 1u

struct vagent__flite_voice {
	const char *name;
	const char *description;
	cst_voice *(*reg)(const char *voxdir);
	cst_voice *voice;            /* after registration */
	int rate;
};

static struct vagent__flite_voice voices[] = {
	{ "slt", "US English female, clustergen (the agent's default)",
	  register_cmu_us_slt, NULL, 0 },
	{ "rms", "US English male, clustergen", register_cmu_us_rms, NULL, 0 },
	{ "awb", "Scottish English male, clustergen", register_cmu_us_awb, NULL, 0 },
	{ "kal16", "US English male, diphone", register_cmu_us_kal16, NULL, 0 },
};

static const char *const voice_names[] = { "slt", "rms", "awb", "kal16", NULL };

static pthread_once_t init_once = PTHREAD_ONCE_INIT;
/* Serialises every call into flite (see docs/tts.md, "Threading"). */
static pthread_mutex_t synth_lock = PTHREAD_MUTEX_INITIALIZER;

static void init_voices(void)
{
	flite_init();
	for (size_t i = 0; i < VAGENT__ARRAY_SIZE(voices); i++) {
		voices[i].voice = voices[i].reg(NULL);
		if (voices[i].voice)
			voices[i].rate = flite_get_param_int(voices[i].voice->features,
							     "sample_rate", 16000);
	}
}

const char *const *vagent_flite_voices(void)
{
	return voice_names;
}

const struct vagent__flite_voice *vagent__flite_voice(const char *name,
						      struct vagent_error *err)
{
	if (!name)
		name = "slt";
	for (size_t i = 0; i < VAGENT__ARRAY_SIZE(voices); i++) {
		if (strcmp(voices[i].name, name))
			continue;
		pthread_once(&init_once, init_voices);
		if (!voices[i].voice) {
			vagent__error_set(err, VAGENT_EPROVIDER, "flite",
					  "voice '%s' failed to register", name);
			return NULL;
		}
		return &voices[i];
	}
	vagent__error_set(err, VAGENT_EINVAL, "flite",
			  "unknown voice '%s' (voices: slt, rms, awb, kal16)", name);
	return NULL;
}

const char *vagent__flite_voice_name(const struct vagent__flite_voice *v)
{
	return v->name;
}

int vagent__flite_voice_rate(const struct vagent__flite_voice *v)
{
	return v->rate;
}

vagent_status vagent_flite_voice_info(const char *voice,
				      struct vagent_flite_voice_info *out,
				      struct vagent_error *err)
{
	const struct vagent__flite_voice *v;

	if (!voice)
		return vagent__error_set(err, VAGENT_EINVAL, "flite", "no voice name");
	v = vagent__flite_voice(voice, err);
	if (!v)
		return err ? err->status : VAGENT_EINVAL;
	if (out) {
		out->name = v->name;
		out->rate = v->rate;
		out->description = v->description;
	}
	return VAGENT_OK;
}

bool vagent__flite_blank(const char *text)
{
	for (; *text; text++)
		if (*text != ' ' && *text != '\t' && *text != '\n' &&
		    *text != '\r' && *text != '\v' && *text != '\f')
			return false;
	return true;
}

/*
 * flite starts every utterance with 140-270 ms of silence (its initial
 * pause segment). The agent's audio is judged from its first sample, so
 * that lead-in is cut to LEAD_KEEP_MS before the first sample at or above
 * LEAD_THRESHOLD (-50 dBFS): the caller hears speech that much sooner.
 */
#define LEAD_THRESHOLD 100
#define LEAD_KEEP_MS 20
#define LEAD_KEEP_MAX 1024          /* samples: 20 ms up to 48 kHz */

/* What the streaming callback needs. */
struct run_ctx {
	vagent__flite_chunk_fn fn;
	void *arg;
	bool stopped;
	bool ended;                  /* the `last` call was made */
	bool leading;                /* still in the lead-in silence */
	size_t keep;                 /* lead-in samples kept before speech */
	size_t held;                 /* lead-in samples in `lead` */
	int16_t lead[LEAD_KEEP_MAX];
};

/* Remember the last `keep` samples of lead-in silence. */
static void hold_lead(struct run_ctx *c, const int16_t *pcm, size_t n)
{
	if (n >= c->keep) {
		memcpy(c->lead, pcm + n - c->keep, c->keep * sizeof(*pcm));
		c->held = c->keep;
		return;
	}
	if (c->held + n > c->keep) {
		size_t drop = c->held + n - c->keep;

		memmove(c->lead, c->lead + drop, (c->held - drop) * sizeof(*pcm));
		c->held -= drop;
	}
	memcpy(c->lead + c->held, pcm, n * sizeof(*pcm));
	c->held += n;
}

/* Pass `n` samples on, cutting the lead-in. false: stop. */
static bool pass_on(struct run_ctx *c, const int16_t *pcm, size_t n, bool last)
{
	size_t onset = 0;

	if (c->leading) {
		while (onset < n && abs(pcm[onset]) < LEAD_THRESHOLD)
			onset++;
		if (onset == n) {
			hold_lead(c, pcm, n);
			return last ? c->fn(c->arg, NULL, 0, true) : true;
		}
		c->leading = false;
		if (onset >= c->keep) {
			pcm += onset - c->keep;
			n -= onset - c->keep;
		} else {
			hold_lead(c, pcm, onset);
			pcm += onset;
			n -= onset;
			if (c->held && !c->fn(c->arg, c->lead, c->held, false))
				return false;
		}
	}
	return c->fn(c->arg, pcm, n, last);
}

static int on_stream(const cst_wave *w, int start, int size, int last,
		     cst_audio_streaming_info *asi)
{
	struct run_ctx *c = asi->userdata;

	if (c->stopped)
		return CST_AUDIO_STREAM_STOP;
	if (size < 0)
		size = 0;
	if (!pass_on(c, w->samples + start, (size_t)size, last != 0)) {
		c->stopped = true;
		return CST_AUDIO_STREAM_STOP;
	}
	if (last)
		c->ended = true;
	return CST_AUDIO_STREAM_CONT;
}

/* The synthesis proper, under the lock with cst_errjmp set. */
static vagent_status run_locked(const struct vagent__flite_voice *v,
				const char *text, double stretch,
				int chunk_samples, struct run_ctx *ctx,
				struct vagent_error *err)
{
	cst_audio_streaming_info *asi;
	cst_utterance *u;

	srand(FLITE_RAND_SEED);
	u = new_utterance();
	asi = new_audio_streaming_info();
	if (!u || !asi) {
		if (asi)
			delete_audio_streaming_info(asi);
		if (u)
			delete_utterance(u);
		return vagent__error_set(err, VAGENT_ENOMEM, "flite", "out of memory");
	}
	asi->min_buffsize = chunk_samples;
	asi->asc = on_stream;
	asi->userdata = ctx;
	utt_set_input_text(u, text);
	utt_init(u, v->voice);
	/* Per utterance, so the shared voice is never modified; the
	 * utterance owns asi from here. */
	feat_set(u->features, "streaming_info", audio_streaming_info_val(asi));
	feat_set_float(u->features, "duration_stretch", (float)stretch);
	utt_synth(u);
	/* A voice that made no audio never called back: say so once. */
	if (!ctx->stopped && !ctx->ended)
		ctx->fn(ctx->arg, NULL, 0, true);
	delete_utterance(u);
	return VAGENT_OK;
}

vagent_status vagent__flite_run(const struct vagent__flite_voice *v,
				const char *text, double stretch,
				int chunk_samples, vagent__flite_chunk_fn fn,
				void *arg, struct vagent_error *err)
{
	struct run_ctx ctx = { .fn = fn, .arg = arg, .leading = true };
	jmp_buf *saved;
	jmp_buf env;
	vagent_status st;

	ctx.keep = vagent_frame_samples_for(v->rate, LEAD_KEEP_MS);
	if (ctx.keep > LEAD_KEEP_MAX)
		ctx.keep = LEAD_KEEP_MAX;
	pthread_mutex_lock(&synth_lock);
	saved = cst_errjmp;
	/* flite reports internal errors with cst_error(): a longjmp to
	 * cst_errjmp when set, exit() otherwise. Catch it instead of exiting
	 * (the utterance is then abandoned: its state is unknown). */
	cst_errjmp = &env;
	if (setjmp(env))
		st = vagent__error_set(err, VAGENT_EPROVIDER, "flite",
				       "synthesis failed (voice %s)", v->name);
	else
		st = run_locked(v, text, stretch, chunk_samples, &ctx, err);
	cst_errjmp = saved;
	pthread_mutex_unlock(&synth_lock);
	return st;
}

/* ---- whole-text synthesis */

struct collect {
	struct vagent_audio *native;
	bool oom;
};

static bool collect_chunk(void *arg, const int16_t *pcm, size_t n, bool last)
{
	struct collect *c = arg;
	float buf[1024];

	(void)last;
	while (n) {
		size_t k = n < VAGENT__ARRAY_SIZE(buf) ? n : VAGENT__ARRAY_SIZE(buf);

		for (size_t i = 0; i < k; i++)
			buf[i] = vagent__s2f(pcm[i]);
		if (vagent_audio_append(c->native, buf, k) != VAGENT_OK) {
			c->oom = true;
			return false;
		}
		pcm += k;
		n -= k;
	}
	return true;
}

vagent_status vagent_flite_synth(const char *text, const char *voice, int rate,
				 struct vagent_audio **out,
				 struct vagent_error *err)
{
	const struct vagent__flite_voice *v;
	struct collect c = { NULL, false };
	char *norm = NULL;
	vagent_status st;

	if (!out)
		return vagent__error_set(err, VAGENT_EINVAL, "flite", "no output pointer");
	*out = NULL;
	if (!text)
		return vagent__error_set(err, VAGENT_EINVAL, "flite", "no text");
	if (rate < 1000 || rate > 384000)
		return vagent__error_set(err, VAGENT_EINVAL, "flite",
					 "bad sample rate %d Hz (1000..384000)", rate);
	if (strlen(text) > VAGENT__FLITE_MAX_TEXT)
		return vagent__error_set(err, VAGENT_EINVAL, "flite",
					 "text too long (%zu bytes; at most %d)",
					 strlen(text), VAGENT__FLITE_MAX_TEXT);
	v = vagent__flite_voice(voice, err);
	if (!v)
		return err ? err->status : VAGENT_EINVAL;
	c.native = vagent_audio_new(v->rate, 1, 0);
	if (!c.native)
		return vagent__error_set(err, VAGENT_ENOMEM, "flite", "out of memory");
	if (!vagent__flite_blank(text)) {
		struct vagent_flite_config def = vagent_flite_config_default();

		st = vagent_flite_normalize(text, def.spell_digits_min, &norm, err);
		if (st != VAGENT_OK)
			goto fail;
		st = vagent__flite_run(v, norm, 1.0 / def.speed,
				       (int)vagent_frame_samples_for(v->rate,
								     def.chunk_ms),
				       collect_chunk, &c, err);
		if (st == VAGENT_OK && c.oom)
			st = vagent__error_set(err, VAGENT_ENOMEM, "flite",
					       "out of memory");
		if (st != VAGENT_OK)
			goto fail;
	}
	free(norm);
	norm = NULL;
	if (rate == v->rate) {
		*out = c.native;
		return VAGENT_OK;
	}
	st = vagent_audio_resample(c.native, rate, -1, out, err);
	vagent_audio_free(c.native);
	return st;
fail:
	free(norm);
	vagent_audio_free(c.native);
	return st;
}
