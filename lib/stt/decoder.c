/*
 * decoder.c — loading a pocketsphinx decoder for a vagent_sphinx_config
 * (model, dictionary, language model, the optional vocabulary boost
 * interpolated with the general LM), keeping pocketsphinx's log off
 * stderr, and reading hypotheses and posterior confidences.
 */
#include <errno.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <sphinxbase/cmn.h>
#include <sphinxbase/err.h>
#include <sphinxbase/feat.h>
#include <sphinxbase/ngram_model.h>

#include "stt/stt_int.h"

#define MODEL_DEFAULT "/usr/share/pocketsphinx/model/en-us/en-us"
#define LM_DEFAULT    "/usr/share/pocketsphinx/model/en-us/en-us.lm.bin"
#define DICT_DEFAULT  "/usr/share/pocketsphinx/model/en-us/cmudict-en-us.dict"

/*
 * The cepstral mean live CMN starts from for 8 kHz calls. The model's
 * feat.params starts it at the mean of full-band speech; telephone audio
 * upsampled to 16 kHz has nothing above 4 kHz, so its mean is far from
 * that (c1 +28 instead of -5, c2 -32 instead of 0) and live CMN takes
 * seconds to get there, decoding garbage meanwhile. This is the batch mean
 * of the 8 kHz commercial-call fixture (no WER set uses it) as this front
 * end feeds it (docs/stt.md "8 kHz").
 */
static const float cmn_init_8k[13] = {
	32.99f, 27.74f, -32.00f, 24.00f, -13.86f, -3.65f, 6.52f, -22.71f,
	13.41f, -10.05f, -1.25f, 8.70f, -12.93f,
};

struct vagent_sphinx_config vagent_sphinx_config_default(void)
{
	struct vagent_sphinx_config c;

	memset(&c, 0, sizeof(c));
	strcpy(c.name, "pocketsphinx");
	c.rate = 16000;
	c.boost_weight = 0.5;
	c.partial_interval_ms = 200;
	c.denoise_db = VAGENT_SPHINX_DENOISE_DB;
	return c;
}

/* ---- pocketsphinx's log: never on stderr; its last error kept per
 * thread for our messages ---- */

static _Thread_local char last_error[256];
static pthread_once_t log_once = PTHREAD_ONCE_INIT;

static void log_cb(void *user, err_lvl_t lvl, const char *fmt, ...)
{
	char msg[512], *p, *nl;
	va_list ap;

	(void)user;
	if (lvl != ERR_ERROR && lvl != ERR_FATAL)
		return;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	/* "ERROR: "file.c", line 12: text" -> "text" */
	p = strstr(msg, ", line ");
	if (p && (p = strstr(p, ": ")))
		p += 2;
	else
		p = msg;
	if ((nl = strchr(p, '\n')))
		*nl = '\0';
	strncpy(last_error, p, sizeof(last_error) - 1);
	last_error[sizeof(last_error) - 1] = '\0';
}

static void log_init(void)
{
	err_set_callback(log_cb, NULL);
	err_set_logfp(NULL);    /* ps_init's configuration dump */
}

/* ---- loading ---- */

static double now_seconds(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* A file or directory the decoder needs: a one-line ENOENT naming it. */
static vagent_status check_path(const char *where, const char *what,
				const char *path, bool dir,
				struct vagent_error *err)
{
	struct stat sb;

	if (stat(path, &sb) != 0)
		return vagent__error_set(err, errno == ENOENT ? VAGENT_ENOENT
							      : VAGENT_EINVAL,
					 where, "cannot load %s %s: %s", what,
					 path, strerror(errno));
	if (dir && !S_ISDIR(sb.st_mode))
		return vagent__error_set(err, VAGENT_EINVAL, where,
					 "cannot load %s %s: not a directory",
					 what, path);
	if (!dir && S_ISDIR(sb.st_mode))
		return vagent__error_set(err, VAGENT_EINVAL, where,
					 "cannot load %s %s: is a directory",
					 what, path);
	return VAGENT_OK;
}

struct dict_ctx {
	ps_decoder_t *ps;
};

static bool in_dict(void *arg, const char *word)
{
	struct dict_ctx *d = arg;
	char *pron = ps_lookup_word(d->ps, word);

	if (!pron)
		return false;
	ckd_free(pron);
	return true;
}

/* Interpolate the general LM with the phrase model built from
 * cfg->boost_phrases, as the decoder's search. */
static vagent_status add_boost(struct vagent__sphinx *s,
			       const struct vagent_sphinx_config *cfg,
			       const char *lm_path, struct vagent_error *err)
{
	char path[] = "/tmp/vagent-boost-XXXXXX";
	cmd_ln_t *config = ps_get_config(s->ps);
	logmath_t *lmath = ps_get_logmath(s->ps);
	ngram_model_t *models[2] = { NULL, NULL }, *set = NULL;
	char general[] = "general", boost_name[] = "boost";
	char *names[2] = { general, boost_name };
	float32 weights[2];
	struct dict_ctx d = { s->ps };
	vagent_status st;
	const char *tmpdir = getenv("TMPDIR");
	char tpath[512];
	int fd;

	if (tmpdir && *tmpdir && strlen(tmpdir) < 400)
		snprintf(tpath, sizeof(tpath), "%s/vagent-boost-XXXXXX", tmpdir);
	else
		snprintf(tpath, sizeof(tpath), "%s", path);
	fd = mkstemp(tpath);
	if (fd < 0)
		return vagent__error_set(err, VAGENT_EIO, s->where,
					 "boost: cannot create a temporary file: %s",
					 strerror(errno));
	close(fd);
	st = vagent__lm_boost_write(cfg->boost_phrases, in_dict, &d, tpath,
				    s->where, &s->oov, &s->boost_words, err);
	if (st != VAGENT_OK)
		goto out;
	last_error[0] = '\0';
	models[1] = ngram_model_read(config, tpath, NGRAM_ARPA, lmath);
	if (!models[1]) {
		st = vagent__error_set(err, VAGENT_EPROVIDER, s->where,
				       "boost: cannot read the phrase model: %s",
				       last_error[0] ? last_error : "unknown error");
		goto out;
	}
	models[0] = ngram_model_read(config, lm_path, NGRAM_AUTO, lmath);
	if (!models[0]) {
		st = vagent__error_set(err, VAGENT_EPROVIDER, s->where,
				       "cannot load language model %s: %s", lm_path,
				       last_error[0] ? last_error : "unknown error");
		goto out;
	}
	weights[0] = (float32)(1.0 - cfg->boost_weight);
	weights[1] = (float32)cfg->boost_weight;
	/* The set takes its own references to the models (ours are
	 * released below), and ps_set_lm its own to the set. */
	set = ngram_model_set_init(config, models, names, weights, 2);
	if (!set) {
		st = vagent__error_set(err, VAGENT_EPROVIDER, s->where,
				       "boost: cannot combine the language models: %s",
				       last_error[0] ? last_error : "unknown error");
		goto out;
	}
	if (ps_set_lm(s->ps, "boost", set) < 0 ||
	    ps_set_search(s->ps, "boost") < 0) {
		st = vagent__error_set(err, VAGENT_EPROVIDER, s->where,
				       "boost: cannot use the combined language model: %s",
				       last_error[0] ? last_error : "unknown error");
		goto out;
	}
	s->boosted = true;
out:
	ngram_model_free(set);
	ngram_model_free(models[0]);
	ngram_model_free(models[1]);
	unlink(tpath);
	return st;
}

/*
 * The decoder's configuration: the model's own feat.params plus ours.
 * VAGENT_SPHINX_ARGS ("-flag value ..."), for experiments only
 * (docs/stt.md), is appended.
 */
static cmd_ln_t *make_config(const char *hmm, const char *dict, const char *lm)
{
	const char *args[64];
	char *argv[64], *extra = NULL, *tok, *save = NULL;
	const char *env = getenv("VAGENT_SPHINX_ARGS");
	int argc = 0, i;
	cmd_ln_t *config = NULL;

	args[argc++] = "-hmm";
	args[argc++] = hmm;
	args[argc++] = "-dict";
	args[argc++] = dict;
	if (!env || !strstr(env, "-samprate")) {
		args[argc++] = "-samprate";
		args[argc++] = "16000";
	}
	if (lm) {
		args[argc++] = "-lm";
		args[argc++] = lm;
	}
	if (env && *env && (extra = strdup(env)))
		for (tok = strtok_r(extra, " ", &save); tok && argc < 62;
		     tok = strtok_r(NULL, " ", &save))
			args[argc++] = tok;
	/* sphinxbase wants char **: copies, freed below */
	for (i = 0; i < argc; i++)
		if (!(argv[i] = strdup(args[i])))
			break;
	argv[i] = NULL;
	if (i == argc)
		config = cmd_ln_parse_r(NULL, ps_args(), argc, argv, TRUE);
	while (i-- > 0)
		free(argv[i]);
	free(extra);
	return config;
}

static bool has_phrases(const char *const *p)
{
	for (; p && *p; p++)
		if (**p)
			return true;
	return false;
}

vagent_status vagent__sphinx_load(const struct vagent_sphinx_config *cfg,
				  struct vagent__sphinx **out,
				  struct vagent_error *err)
{
	struct vagent__sphinx *s;
	const char *hmm, *lm, *dict, *where;
	char mdef[4096];
	bool boost;
	cmd_ln_t *config;
	vagent_status st;
	double t0 = now_seconds();

	*out = NULL;
	where = cfg->name[0] ? cfg->name : "pocketsphinx";
	if (cfg->rate != 8000 && cfg->rate != 16000)
		return vagent__error_set(err, VAGENT_EINVAL, where,
					 "rate: must be 8000 or 16000 Hz (got %d)",
					 cfg->rate);
	if (!(cfg->boost_weight >= 0 && cfg->boost_weight <= 1))
		return vagent__error_set(err, VAGENT_EINVAL, where,
					 "boost_weight: must be 0..1 (got %g)",
					 cfg->boost_weight);
	if (cfg->partial_interval_ms <= 0 || cfg->partial_interval_ms > 60000)
		return vagent__error_set(err, VAGENT_EINVAL, where,
					 "partial_interval_ms: must be 1..60000 (got %d)",
					 cfg->partial_interval_ms);
	if (!(cfg->denoise_db >= 0 && cfg->denoise_db <= 60))
		return vagent__error_set(err, VAGENT_EINVAL, where,
					 "denoise_db: must be 0..60 (got %g)",
					 cfg->denoise_db);
	hmm = cfg->model_dir;
	if (!hmm || !*hmm)
		hmm = getenv("VAGENT_SPHINX_MODEL");
	if (!hmm || !*hmm)
		hmm = MODEL_DEFAULT;
	lm = cfg->lm && *cfg->lm ? cfg->lm : LM_DEFAULT;
	dict = cfg->dict && *cfg->dict ? cfg->dict : DICT_DEFAULT;
	if ((st = check_path(where, "model", hmm, true, err)) != VAGENT_OK)
		return st;
	if (strlen(hmm) > sizeof(mdef) - 8)
		return vagent__error_set(err, VAGENT_EINVAL, where,
					 "cannot load model: path too long");
	snprintf(mdef, sizeof(mdef), "%s/mdef", hmm);
	if (access(mdef, R_OK) != 0)
		return vagent__error_set(err, VAGENT_EINVAL, where,
					 "cannot load model %s: no acoustic model there (no readable mdef)",
					 hmm);
	if ((st = check_path(where, "dictionary", dict, false, err)) != VAGENT_OK ||
	    (st = check_path(where, "language model", lm, false, err)) != VAGENT_OK)
		return st;
	boost = has_phrases(cfg->boost_phrases) && cfg->boost_weight > 0;

	pthread_once(&log_once, log_init);
	s = calloc(1, sizeof(*s));
	if (!s)
		return vagent__error_set(err, VAGENT_ENOMEM, where, "out of memory");
	snprintf(s->where, sizeof(s->where), "%s", where);
	last_error[0] = '\0';
	/* The stock settings; -lm only without boost (the boost search
	 * loads its own copy into the interpolated set). */
	config = make_config(hmm, dict, boost ? NULL : lm);
	if (!config) {
		vagent__sphinx_free(s);
		return vagent__error_set(err, VAGENT_EPROVIDER, where,
					 "cannot configure the decoder: %s",
					 last_error[0] ? last_error : "unknown error");
	}
	s->ps = ps_init(config);
	cmd_ln_free_r(config);
	if (!s->ps) {
		vagent__sphinx_free(s);
		return vagent__error_set(err, VAGENT_EPROVIDER, where,
					 "cannot load model %s: %s", hmm,
					 last_error[0] ? last_error : "decoder initialisation failed");
	}
	if (cfg->rate == 8000 && !getenv("VAGENT_STT_NO_CMNINIT")) {
		feat_t *feat = ps_get_feat(s->ps);
		mfcc_t init[13];

		for (int i = 0; i < 13; i++)
			init[i] = FLOAT2MFCC(cmn_init_8k[i]);
		if (feat && feat->cmn_struct && feat_cepsize(feat) == 13)
			cmn_live_set(feat->cmn_struct, init);
	}
	if (boost && (st = add_boost(s, cfg, lm, err)) != VAGENT_OK) {
		vagent__sphinx_free(s);
		return st;
	}
	if (!s->oov && !(s->oov = strdup(""))) {
		vagent__sphinx_free(s);
		return vagent__error_set(err, VAGENT_ENOMEM, where, "out of memory");
	}
	s->load_seconds = now_seconds() - t0;
	*out = s;
	return VAGENT_OK;
}

void vagent__sphinx_free(struct vagent__sphinx *s)
{
	if (!s)
		return;
	if (s->ps)
		ps_free(s->ps);
	free(s->oov);
	free(s);
}

char *vagent__sphinx_hyp(struct vagent__sphinx *s)
{
	int32 score;
	const char *h = ps_get_hyp(s->ps, &score);

	return strdup(h ? h : "");
}

/* Filler and sentence markers are not words of the transcript. */
static bool is_word(const char *w)
{
	size_t n = strlen(w);

	return n && w[0] != '<' && !(w[0] == '[' && w[n - 1] == ']') &&
	       !(n > 2 && w[0] == '+' && w[n - 1] == '+');
}

char *vagent__sphinx_final(struct vagent__sphinx *s, double *confidence)
{
	logmath_t *lmath = ps_get_logmath(s->ps);
	struct vagent__strbuf b = { 0 };
	double sum = 0;
	int words = 0;
	ps_seg_t *seg;

	*confidence = -1;
	/* Words from the segmentation (lattice best path with posteriors
	 * when pocketsphinx built one, else the Viterbi path). */
	for (seg = ps_seg_iter(s->ps); seg; seg = ps_seg_next(seg)) {
		const char *w = ps_seg_word(seg);
		int32 ascr, lscr, lback;
		char word[256];
		char *paren;
		double post;

		if (!is_word(w))
			continue;
		/* "word(2)": an alternative pronunciation of "word" */
		snprintf(word, sizeof(word), "%s", w);
		if ((paren = strchr(word, '(')) && paren != word)
			*paren = '\0';
		if (b.len)
			vagent__strbuf_puts(&b, " ");
		vagent__strbuf_puts(&b, word);
		post = logmath_exp(lmath, ps_seg_prob(seg, &ascr, &lscr, &lback));
		if (post < 0)
			post = 0;
		if (post > 1)
			post = 1;
		sum += post;
		words++;
	}
	if (words)
		*confidence = sum / words;
	return vagent__strbuf_detach(&b);
}
