/*
 * stt_noise.c — bench helper for bench_stt_noise.sh: pocketsphinx WER on a
 * noisy line. Caller phrases (every "say" of the scenario files, then store
 * queries of fixtures/nlu/store-queries.tsv up to --phrases) are spoken by
 * flite voices at 16 kHz, background noise (fixtures/noise/ WAVs) is added
 * at an SNR relative to the speech's active level
 * (vagent_audio_active_level_dbfs, as the caller leg does), with 500 ms of
 * noise before the speech and 300 ms after; for 8 kHz the mix is resampled
 * and put through mu-law. Each buffer is recognised offline
 * (vagent_sphinx_transcriber_run), without and with the store agent's
 * vocabulary boost, without and with the denoiser at each --denoise level,
 * and scored with vagent_wer_align_text (English normalisation). Prints one
 * row per rate, voice, noise and SNR, one WER column per configuration.
 *
 *   stt_noise [--voices rms,awb] [--rates 16000,8000] [--noises dishes,bike]
 *             [--snrs clean,20,10,5] [--denoise 0,15] [--boost both|on|off]
 *             [--phrases N] TOP
 *
 * VAGENT_SPHINX_ARGS passes extra pocketsphinx flags (docs/stt.md).
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
#define LEAD_MS 500
#define TAIL_MS 300

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

/* The noisy (or clean, noise NULL) line for `speech` (16 kHz): lead-in
 * and tail of noise, at `rate` (8000: resampled and mu-law). */
static struct vagent_audio *mix(const struct vagent_audio *speech,
				const struct vagent_audio *noise, double snr_db,
				size_t offset, int rate)
{
	size_t lead = (size_t)speech->rate * LEAD_MS / 1000;
	size_t tail = (size_t)speech->rate * TAIL_MS / 1000;
	size_t n = lead + speech->frames + tail, i;
	struct vagent_audio *a = vagent_audio_new(speech->rate, 1, n), *r = NULL;
	struct vagent_error err;

	if (!a)
		exit(3);
	for (i = 0; i < speech->frames; i++)
		a->samples[lead + i] = speech->samples[i];
	if (noise) {
		double level = pow(10.0, (vagent_audio_active_level_dbfs(speech) -
					  snr_db) / 20.0);
		double gain = level / vagent_audio_rms(noise);

		for (i = 0; i < n; i++)
			a->samples[i] += (float)(gain *
				noise->samples[(offset + i) % noise->frames]);
	}
	if (rate != a->rate) {
		if (vagent_audio_resample(a, rate, 7, &r, &err) != VAGENT_OK) {
			fprintf(stderr, "stt_noise: %s\n", err.message);
			exit(3);
		}
		vagent_audio_free(a);
		a = r;
	}
	for (i = 0; i < a->frames; i++) {
		double v = a->samples[i] * 32768.0;
		int16_t s = (int16_t)(v > 32767 ? 32767 : v < -32768 ? -32768 : lrint(v));

		if (rate == 8000)
			s = vagent_ulaw_decode(vagent_ulaw_encode(s));
		a->samples[i] = (float)s / 32768.0f;
	}
	return a;
}

struct cfg_col {
	bool boost;
	double denoise;
};

int main(int argc, char **argv)
{
	struct list voices, rates, noises, snrs, levels;
	const char *boost_mode = "both", *top = NULL;
	int want = 40;
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

		for (int c = 0; c < n_cols; c++) {
			struct vagent_sphinx_config sc = vagent_sphinx_config_default();
			struct vagent_sphinx_transcriber *t;

			sc.rate = rate;
			sc.denoise_db = cols[c].denoise;
			if (cols[c].boost)
				sc.boost_phrases = vagent_agent_expected_phrases(agent);
			if (vagent_sphinx_transcriber_new(&sc, &t, &err) != VAGENT_OK) {
				fprintf(stderr, "stt_noise: %s\n", err.message);
				return 3;
			}
			for (int v = 0; v < voices.n; v++)
				for (int k = 0; k < noises.n; k++)
					for (int s = 0; s < snrs.n; s++) {
						bool clean = !strcmp(snrs.item[s], "clean");

						if (clean && k > 0)
							continue;   /* one clean row */
						for (int p = 0; p < n_phrases; p++) {
							struct vagent_audio *a = mix(
								speech[v * n_phrases + p],
								clean ? NULL : noise_audio[k],
								clean ? 0 : atof(snrs.item[s]),
								(size_t)p * 59359u + (size_t)v * 20011u, rate);
							struct vagent_wer_counts wc;
							char *text = NULL;
							struct vagent_wer_counts *acc = &counts[r][v][k][s][c];

							if (vagent_sphinx_transcriber_run(t, a, &text, NULL, &err) != VAGENT_OK ||
							    vagent_wer_align_text(phrases[p], text, &wo, &wc, &err) != VAGENT_OK) {
								fprintf(stderr, "stt_noise: %s\n", err.message);
								return 3;
							}
							if (getenv("STT_NOISE_VERBOSE"))
								fprintf(stderr, "%d %s %s %s b%d d%g | %s | %s\n", rate,
									voices.item[v], clean ? "-" : noises.item[k],
									snrs.item[s], cols[c].boost, cols[c].denoise,
									phrases[p], text);
							acc->cor += wc.cor;
							acc->sub += wc.sub;
							acc->del += wc.del;
							acc->ins += wc.ins;
							acc->ref_words += wc.ref_words;
							acc->hyp_words += wc.hyp_words;
							free(text);
							vagent_audio_free(a);
						}
					}
			vagent_sphinx_transcriber_free(t);
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
