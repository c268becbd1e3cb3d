/*
 * stt_noise.c — bench helper for bench_stt_noise.sh: pocketsphinx WER on a
 * noisy line, through the streaming provider as a call runs it. Caller
 * phrases (every "say" of the scenario files, then store queries of
 * fixtures/nlu/store-queries.tsv up to --phrases) are spoken by flite
 * voices at 16 kHz and put one after another into one call, 1 s apart;
 * background noise (fixtures/noise/ WAVs, looped) runs through the whole
 * call at an SNR relative to the speech's active level
 * (vagent_audio_active_level_dbfs over all phrases, as the caller leg
 * does); for 8 kHz the call is resampled and put through mu-law. The call
 * goes to vagent_sphinx_stt_new's provider in 20 ms frames on a virtual
 * clock; each phrase is a turn whose speech segment is reported as an
 * ideal VAD would (onset at the speech start, reported 120 ms later; end
 * 200 ms after the speech), so what is measured is the recogniser, not
 * the VAD. With the store agent's vocabulary boost (--boost), without
 * and with the denoiser at each --denoise level; scored with
 * vagent_wer_align_text (English normalisation). One row per rate, voice,
 * noise and SNR, one WER column per configuration.
 *
 *   stt_noise [--voices rms,awb] [--rates 16000,8000] [--noises dishes,bike]
 *             [--snrs clean,20,10,5] [--denoise 0,15] [--boost on|off|both]
 *             [--phrases 12] TOP        (defaults shown first)
 *
 * VAGENT_SPHINX_ARGS passes extra pocketsphinx flags (docs/stt.md);
 * STT_NOISE_VERBOSE=1 prints every hypothesis on stderr.
 */
#include <glob.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "vagent.h"

#define MAX_PHRASES 200
#define MAX_LIST 8
#define GAP_MS 1000             /* noise between phrases */
#define ONSET_DELAY_MS 120      /* the "VAD" reports the onset this late */
#define HANGOVER_MS 200         /* and the end this late */

struct list {
	char item[MAX_LIST][32];
	int n;
};

static char *phrases[MAX_PHRASES];
static int n_phrases;

static void split(const char *s, struct list *l)
{
	char buf[256], *tok, *save = NULL;

	snprintf(buf, sizeof(buf), "%s", s);
	l->n = 0;
	for (tok = strtok_r(buf, ",", &save); tok && l->n < MAX_LIST;
	     tok = strtok_r(NULL, ",", &save))
		snprintf(l->item[l->n++], sizeof(l->item[0]), "%s", tok);
}

static void add_phrase(const char *p)
{
	for (int i = 0; i < n_phrases; i++)
		if (!strcmp(phrases[i], p))
			return;
	if (n_phrases < MAX_PHRASES)
		phrases[n_phrases++] = strdup(p);
}

static void collect_says(const cJSON *j)
{
	const cJSON *c;

	if (cJSON_IsObject(j)) {
		const cJSON *say = cJSON_GetObjectItemCaseSensitive(j, "say");

		if (cJSON_IsString(say) && say->valuestring[0])
			add_phrase(say->valuestring);
	}
	cJSON_ArrayForEach(c, j)
		collect_says(c);
}

static char *slurp(const char *path)
{
	FILE *f = fopen(path, "rb");
	char *s;
	long n;

	if (!f)
		return NULL;
	fseek(f, 0, SEEK_END);
	n = ftell(f);
	rewind(f);
	s = malloc((size_t)n + 1);
	if (s && fread(s, 1, (size_t)n, f) != (size_t)n) {
		free(s);
		s = NULL;
	}
	if (s)
		s[n] = '\0';
	fclose(f);
	return s;
}

static void load_phrases(const char *top, int want)
{
	char pat[1024], line[1024];
	glob_t g;
	FILE *f;
	char *queries[MAX_PHRASES];
	int nq = 0, room, i;

	snprintf(pat, sizeof(pat), "%s/scenarios/*.json", top);
	if (glob(pat, 0, NULL, &g) == 0) {
		for (size_t k = 0; k < g.gl_pathc; k++) {
			char *text = slurp(g.gl_pathv[k]);
			cJSON *j = text ? cJSON_Parse(text) : NULL;

			collect_says(j);
			cJSON_Delete(j);
			free(text);
		}
		globfree(&g);
	}
	if (n_phrases > want)
		n_phrases = want;
	snprintf(pat, sizeof(pat), "%s/fixtures/nlu/store-queries.tsv", top);
	if ((f = fopen(pat, "r"))) {
		while (fgets(line, sizeof(line), f) && nq < MAX_PHRASES) {
			char *t1 = strchr(line, '\t'), *t2 = t1 ? strchr(t1 + 1, '\t') : NULL;

			if (line[0] == '#' || !t2)
				continue;
			t2[strcspn(t2, "\r\n")] = '\0';
			queries[nq++] = strdup(t2 + 1);
		}
		fclose(f);
	}
	/* spread what is left over the queries (they come grouped by intent) */
	room = want - n_phrases;
	for (i = 0; room > 0 && i < room && nq; i++)
		add_phrase(queries[(size_t)i * (size_t)nq / (size_t)room]);
	for (i = 0; i < nq; i++)
		free(queries[i]);
}

/* One call: every phrase in turn (GAP_MS apart, the first after
 * GAP_MS) with the noise, at `rate`. */
struct call {
	int16_t *s;
	size_t n;
	size_t *start, *end;    /* each phrase's speech, in samples at `rate` */
	int rate;
};

static void build_call(struct call *c, struct vagent_audio *const *speech,
		       int n, const struct vagent_audio *noise, double snr_db,
		       size_t offset, int rate)
{
	size_t gap = 16000 * GAP_MS / 1000, total = gap, at = gap, i;
	struct vagent_audio *a, *r = NULL, *all;
	struct vagent_error err;
	double scale = (double)rate / 16000.0;

	for (int p = 0; p < n; p++)
		total += speech[p]->frames + gap;
	a = vagent_audio_new(16000, 1, total);
	all = vagent_audio_new(16000, 1, total);
	c->start = calloc((size_t)n, sizeof(*c->start));
	c->end = calloc((size_t)n, sizeof(*c->end));
	if (!a || !all || !c->start || !c->end)
		exit(3);
	all->frames = 0;
	for (int p = 0; p < n; p++) {
		memcpy(a->samples + at, speech[p]->samples,
		       speech[p]->frames * sizeof(float));
		memcpy(all->samples + all->frames, speech[p]->samples,
		       speech[p]->frames * sizeof(float));
		all->frames += speech[p]->frames;
		c->start[p] = (size_t)((double)at * scale);
		at += speech[p]->frames;
		c->end[p] = (size_t)((double)at * scale);
		at += gap;
	}
	if (noise) {
		double level = pow(10.0, (vagent_audio_active_level_dbfs(all) -
					  snr_db) / 20.0);
		double gain = level / vagent_audio_rms(noise);

		for (i = 0; i < total; i++)
			a->samples[i] += (float)(gain *
				noise->samples[(offset + i) % noise->frames]);
	}
	vagent_audio_free(all);
	if (rate != a->rate) {
		if (vagent_audio_resample(a, rate, 7, &r, &err) != VAGENT_OK) {
			fprintf(stderr, "stt_noise: %s\n", err.message);
			exit(3);
		}
		vagent_audio_free(a);
		a = r;
	}
	c->rate = rate;
	c->n = a->frames;
	c->s = malloc(c->n * sizeof(*c->s) + 2);
	if (!c->s)
		exit(3);
	for (i = 0; i < a->frames; i++) {
		double v = a->samples[i] * 32768.0;
		int16_t s = (int16_t)(v > 32767 ? 32767 : v < -32768 ? -32768 : lrint(v));

		c->s[i] = rate == 8000 ? vagent_ulaw_decode(vagent_ulaw_encode(s)) : s;
	}
	vagent_audio_free(a);
}

static void call_free(struct call *c)
{
	free(c->s);
	free(c->start);
	free(c->end);
}

/* Playing a call to the provider. */
struct play {
	struct vagent_stt *stt;
	struct vagent_loop *loop;
	struct vagent_timer *timer;
	const struct call *c;
	size_t pos;
	int n, next_open, next_close, finals;
	char **texts;           /* the final of each phrase */
};

static void on_partial(void *ctx, const char *text)
{
	(void)ctx;
	(void)text;
}

static void on_final(void *ctx, const char *text, double confidence)
{
	struct play *pl = ctx;

	(void)confidence;
	if (pl->finals < pl->n)
		pl->texts[pl->finals] = strdup(text);
	pl->finals++;
}

static void on_error(void *ctx, vagent_status st, const char *message)
{
	(void)ctx;
	(void)st;
	fprintf(stderr, "stt_noise: %s\n", message);
	exit(3);
}

static int64_t ticks_at(const struct call *c, size_t sample)
{
	return vagent_ticks_from_ms((int64_t)(sample * 1000 / (size_t)c->rate));
}

static void tick(struct vagent_timer *t, void *arg)
{
	struct play *pl = arg;
	const struct call *c = pl->c;
	struct vagent_frame f;
	int64_t pts = vagent_loop_now(pl->loop);
	size_t n = vagent_frame_samples_for(c->rate, 20);
	size_t onset = (size_t)c->rate * ONSET_DELAY_MS / 1000;
	size_t hang = (size_t)c->rate * HANGOVER_MS / 1000;

	if (pl->pos >= c->n) {
		vagent_timer_stop(t);
		return;
	}
	if (n > c->n - pl->pos)
		n = c->n - pl->pos;
	vagent_frame_init_20ms(&f, c->rate, 1, pts);
	memset(f.samples, 0, sizeof(f.samples));
	memcpy(f.samples, c->s + pl->pos, n * sizeof(int16_t));
	pl->stt->ops->audio(pl->stt, &f, NULL);
	pl->pos += vagent_frame_samples_for(c->rate, 20);
	if (pl->next_open < pl->n &&
	    pl->pos >= c->start[pl->next_open] + onset) {
		pl->stt->ops->speech(pl->stt, true,
				     ticks_at(c, c->start[pl->next_open]));
		pl->next_open++;
	}
	if (pl->next_close < pl->next_open &&
	    pl->pos >= c->end[pl->next_close] + hang) {
		pl->stt->ops->speech(pl->stt, false,
				     ticks_at(c, c->end[pl->next_close]));
		pl->stt->ops->turn_end(pl->stt, pts);
		pl->next_close++;
	}
}

/* The finals of a call's phrases (texts[i], transfer full). */
static void play_call(const struct vagent_sphinx_config *sc, const struct call *c,
		      int n, char **texts)
{
	struct vagent_loop_config lc = vagent_loop_config_default();
	struct vagent_error err;
	struct play pl;

	memset(&pl, 0, sizeof(pl));
	pl.c = c;
	pl.n = n;
	pl.texts = texts;
	lc.clock = VAGENT_CLOCK_VIRTUAL;
	lc.workers = 1;
	lc.job_clock = VAGENT_JOB_THREAD_CPU;
	if (vagent_loop_new(&lc, &pl.loop, &err) != VAGENT_OK ||
	    vagent_sphinx_stt_new(sc, &pl.stt, &err) != VAGENT_OK) {
		fprintf(stderr, "stt_noise: %s\n", err.message);
		exit(3);
	}
	pl.stt->loop = pl.loop;
	pl.stt->on_partial = on_partial;
	pl.stt->on_final = on_final;
	pl.stt->on_error = on_error;
	pl.stt->ctx = &pl;
	pl.timer = vagent_timer_new(pl.loop, tick, &pl);
	vagent_timer_start_at(pl.timer, 0, vagent_ticks_from_ms(20), NULL);
	vagent_loop_run(pl.loop, VAGENT_RUN_UNTIL_IDLE, NULL);
	vagent_timer_free(pl.timer);
	vagent_stt_free(pl.stt);
	vagent_loop_free(pl.loop);
}

struct cfg_col {
	bool boost;
	double denoise;
};

int main(int argc, char **argv)
{
	struct list voices, rates, noises, snrs, levels;
	const char *boost_mode = "on", *top = NULL;
	int want = 12;
	struct cfg_col cols[2 * MAX_LIST];
	int n_cols = 0;
	struct vagent_audio *noise_audio[MAX_LIST] = { 0 };
	struct vagent_audio **speech;
	struct vagent_agent *agent = NULL;
	struct vagent_error err;
	char path[1024];
	/* counts[rate][voice][noise][snr][col] */
	static struct vagent_wer_counts counts[MAX_LIST][MAX_LIST][MAX_LIST][MAX_LIST][2 * MAX_LIST];
	struct vagent_wer_options wo;

	split("rms,awb", &voices);
	split("16000,8000", &rates);
	split("dishes,bike", &noises);
	split("clean,20,10,5", &snrs);
	split("0,15", &levels);
	for (int i = 1; i < argc; i++) {
		if (i + 1 < argc && !strcmp(argv[i], "--voices"))
			split(argv[++i], &voices);
		else if (i + 1 < argc && !strcmp(argv[i], "--rates"))
			split(argv[++i], &rates);
		else if (i + 1 < argc && !strcmp(argv[i], "--noises"))
			split(argv[++i], &noises);
		else if (i + 1 < argc && !strcmp(argv[i], "--snrs"))
			split(argv[++i], &snrs);
		else if (i + 1 < argc && !strcmp(argv[i], "--denoise"))
			split(argv[++i], &levels);
		else if (i + 1 < argc && !strcmp(argv[i], "--boost"))
			boost_mode = argv[++i];
		else if (i + 1 < argc && !strcmp(argv[i], "--phrases"))
			want = atoi(argv[++i]);
		else if (argv[i][0] != '-' && !top)
			top = argv[i];
		else {
			fprintf(stderr, "usage: stt_noise [--voices V,..] [--rates R,..] "
				"[--noises dishes,bike] [--snrs clean,20,..] [--denoise DB,..] "
				"[--boost both|on|off] [--phrases N] TOP\n");
			return 2;
		}
	}
	if (!top || want < 1 || want > MAX_PHRASES)
		return 2;
	vagent_wer_options_default(&wo);
	wo.normalizer = VAGENT_NORMALIZE_ENGLISH;
	load_phrases(top, want);
	for (int b = 0; b < 2; b++) {
		if ((b == 0 && !strcmp(boost_mode, "on")) ||
		    (b == 1 && !strcmp(boost_mode, "off")))
			continue;
		for (int l = 0; l < levels.n; l++) {
			cols[n_cols].boost = b;
			cols[n_cols++].denoise = atof(levels.item[l]);
		}
	}
	for (int k = 0; k < noises.n; k++) {
		const char *file = !strcmp(noises.item[k], "dishes") ? "doing_the_dishes"
				   : !strcmp(noises.item[k], "bike") ? "exercise_bike"
				   : noises.item[k];

		snprintf(path, sizeof(path), "%s/fixtures/noise/%s.wav", top, file);
		if (vagent_audio_load(path, VAGENT_CHANNELS_MIX, &noise_audio[k], &err)) {
			fprintf(stderr, "stt_noise: %s\n", err.message);
			return 2;
		}
	}
	snprintf(path, sizeof(path), "%s/scenarios/agents/store.json", top);
	if (vagent_agent_load(path, &agent, &err) != VAGENT_OK) {
		fprintf(stderr, "stt_noise: %s\n", err.message);
		return 2;
	}
	/* the phrases, spoken once per voice at 16 kHz */
	speech = calloc((size_t)(voices.n * n_phrases), sizeof(*speech));
	for (int v = 0; v < voices.n; v++)
		for (int p = 0; p < n_phrases; p++)
			if (vagent_flite_synth(phrases[p], voices.item[v], 16000,
					       &speech[v * n_phrases + p], &err) != VAGENT_OK) {
				fprintf(stderr, "stt_noise: %s\n", err.message);
				return 3;
			}
	fprintf(stderr, "stt_noise: %d phrases, %d voices, %d columns\n",
		n_phrases, voices.n, n_cols);
	for (int r = 0; r < rates.n; r++) {
		int rate = atoi(rates.item[r]);

		for (int v = 0; v < voices.n; v++)
			for (int k = 0; k < noises.n; k++)
				for (int s = 0; s < snrs.n; s++) {
					bool clean = !strcmp(snrs.item[s], "clean");
					struct call call;

					if (clean && k > 0)
						continue;   /* one clean row */
					memset(&call, 0, sizeof(call));
					build_call(&call, speech + v * n_phrases, n_phrases,
						   clean ? NULL : noise_audio[k],
						   clean ? 0 : atof(snrs.item[s]),
						   (size_t)v * 320011u, rate);
					for (int c = 0; c < n_cols; c++) {
						struct vagent_sphinx_config sc = vagent_sphinx_config_default();
						char *texts[MAX_PHRASES] = { 0 };

						sc.rate = rate;
						sc.denoise_db = cols[c].denoise;
						if (cols[c].boost)
							sc.boost_phrases = vagent_agent_expected_phrases(agent);
						play_call(&sc, &call, n_phrases, texts);
						for (int p = 0; p < n_phrases; p++) {
							struct vagent_wer_counts wc;
							struct vagent_wer_counts *acc = &counts[r][v][k][s][c];

							if (vagent_wer_align_text(phrases[p], texts[p] ? texts[p] : "",
										  &wo, &wc, &err) != VAGENT_OK) {
								fprintf(stderr, "stt_noise: %s\n", err.message);
								return 3;
							}
							if (getenv("STT_NOISE_VERBOSE"))
								fprintf(stderr, "%d %s %s %s b%d d%g | %s | %s\n", rate,
									voices.item[v], clean ? "-" : noises.item[k],
									snrs.item[s], cols[c].boost, cols[c].denoise,
									phrases[p], texts[p] ? texts[p] : "");
							acc->cor += wc.cor;
							acc->sub += wc.sub;
							acc->del += wc.del;
							acc->ins += wc.ins;
							acc->ref_words += wc.ref_words;
							acc->hyp_words += wc.hyp_words;
							free(texts[p]);
						}
					}
					call_free(&call);
				}
	}
	printf("%-6s %-5s %-7s %-5s", "rate", "voice", "noise", "snr");
	for (int c = 0; c < n_cols; c++) {
		char h[32];

		if (cols[c].denoise > 0)
			snprintf(h, sizeof(h), "%sdn%g", cols[c].boost ? "boost+" : "", cols[c].denoise);
		else
			snprintf(h, sizeof(h), "%s", cols[c].boost ? "boost" : "plain");
		printf(" %10s", h);
	}
	printf("\n");
	for (int r = 0; r < rates.n; r++) {
		/* pooled over voices: [noise][snr][col] */
		struct vagent_wer_counts pool[MAX_LIST][MAX_LIST][2 * MAX_LIST];

		memset(pool, 0, sizeof(pool));
		for (int v = 0; v <= voices.n; v++)
			for (int k = 0; k < noises.n; k++)
				for (int s = 0; s < snrs.n; s++) {
					bool clean = !strcmp(snrs.item[s], "clean");

					if (clean && k > 0)
						continue;
					printf("%-6s %-5s %-7s %-5s", rates.item[r],
					       v < voices.n ? voices.item[v] : "all",
					       clean ? "-" : noises.item[k], snrs.item[s]);
					for (int c = 0; c < n_cols; c++) {
						struct vagent_wer_counts *w = v < voices.n ?
							&counts[r][v][k][s][c] : &pool[k][s][c];

						if (v < voices.n) {
							pool[k][s][c].sub += w->sub;
							pool[k][s][c].del += w->del;
							pool[k][s][c].ins += w->ins;
							pool[k][s][c].cor += w->cor;
							pool[k][s][c].ref_words += w->ref_words;
						}
						printf(" %9.1f%%", 100.0 * vagent_wer_rate(w));
					}
					printf("\n");
				}
	}
	for (int i = 0; i < voices.n * n_phrases; i++)
		vagent_audio_free(speech[i]);
	free(speech);
	for (int k = 0; k < noises.n; k++)
		vagent_audio_free(noise_audio[k]);
	for (int i = 0; i < n_phrases; i++)
		free(phrases[i]);
	vagent_agent_free(agent);
	return 0;
}
