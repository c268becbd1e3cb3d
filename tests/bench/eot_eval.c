/*
 * eot_eval.c — `make bench BENCH=eot`: end-of-turn evaluation in the manner
 * of LiveKit's eot-bench. Builds utterances with internal pauses from the
 * recordings in fixtures/ (digits read in groups, sentences joined with
 * hesitation pauses), runs vagent's VAD and turn detector over them with and
 * without a perfect-STT transcript, and reports false cut-offs at fixed
 * latency budgets and latency at fixed cut-off rates, sweeping the hold.
 *   usage: eot_eval TOP
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "vagent.h"
#include "bench/vad_set.h"

#define RATE      8000
#define FRAME_MS  20
#define FRAME_N   (RATE * FRAME_MS / 1000)
#define SEED      20261121u
#define MAX_HOLD  1500
#define NHOLD     31             /* min hold 0, 50, ..., 1500 ms */
#define NCOND     2              /* clean, kitchen noise at 20 dB */

enum kind { PHONE, CARD, ORDER, SENTENCES, NKIND };
static const char *kind_name[NKIND] = { "phone 3-3-4", "card 4-4-4-4", "order 3-3", "sentences" };
static const int kind_count[NKIND] = { 40, 20, 20, 60 };
static const char *digit_word[10] = { "zero", "one", "two", "three", "four", "five",
				      "six", "seven", "eight", "nine" };

/* A recorded phrase, trimmed to its speech (vad_set.h's labelling rule). */
struct clip {
	struct vagent_audio *a;
	char text[512];
};

struct seg {
	size_t at, len;          /* samples in the utterance */
	const char *text;
};

struct utt {
	enum kind kind;
	struct vagent_audio *audio;
	struct seg segs[24];
	size_t nsegs, npauses;   /* pauses: gaps >= 300 ms */
	int64_t true_end;        /* ticks: end of the last speech */
	struct vagent_vad_result *vad;   /* per frame, per condition */
	size_t nframes;
};

static struct clip digits[10];
static struct clip *sents;
static size_t nsents;

static void die(const char *what, const struct vagent_error *err)
{
	fprintf(stderr, "eot_eval: %s: %s\n", what, err ? err->message : "out of memory");
	exit(3);
}

/* Load, mix to mono, cut, resample to 8 kHz and trim to the labelled speech. */
static void load_clip(struct clip *c, const char *top, const char *rel, double s, double e,
		      const char *text)
{
	char path[1024];
	struct vagent_error err;
	struct vagent_audio *a;
	uint8_t *lab;
	size_t nf, first = SIZE_MAX, last = 0;

	snprintf(path, sizeof(path), "%s/%s", top, rel);
	a = vadset_load(path, s, e, RATE, &err);
	if (!a)
		die(path, &err);
	lab = vadset_label(a, FRAME_MS, &nf);
	if (!lab)
		die(path, NULL);
	for (size_t f = 0; f < nf; f++)
		if (lab[f]) {
			if (first == SIZE_MAX)
				first = f;
			last = f;
		}
	if (first == SIZE_MAX)
		die(path, NULL);
	c->a = vagent_audio_new(RATE, 1, 0);
	if (!c->a || vagent_audio_append(c->a, a->samples + first * FRAME_N,
					 (last + 1 - first) * FRAME_N) != VAGENT_OK)
		die(path, NULL);
	snprintf(c->text, sizeof(c->text), "%s", text);
	free(lab);
	vagent_audio_free(a);
}

static void add_sent(const char *top, const char *rel, double s, double e, const char *text)
{
	sents = realloc(sents, (nsents + 1) * sizeof(*sents));
	if (!sents)
		die("sentences", NULL);
	load_clip(&sents[nsents++], top, rel, s, e, text);
}

static void chomp(char *s)
{
	size_t n = strlen(s);

	while (n && (s[n - 1] == '\n' || s[n - 1] == '\r' || s[n - 1] == ' '))
		s[--n] = '\0';
}

static void load_all(const char *top)
{
	char path[2048], line[512], rel[1024];
	FILE *fp;

	for (int d = 0; d < 10; d++) {
		snprintf(rel, sizeof(rel), "fixtures/speech/asterisk/digits/%d.wav", d);
		load_clip(&digits[d], top, rel, 0, 0, digit_word[d]);
	}
	/* LibriSpeech utterances */
	snprintf(path, sizeof(path), "%s/fixtures/speech/librispeech/trans.txt", top);
	fp = fopen(path, "r");
	while (fp && fgets(line, sizeof(line), fp)) {
		char *sp = strchr(line, ' ');
		static const char *ext[] = { "flac", "wav" };

		if (!sp)
			continue;
		*sp = '\0';
		chomp(sp + 1);
		for (int i = 0; i < 2; i++) {
			FILE *t;

			snprintf(rel, sizeof(rel), "fixtures/speech/librispeech/%s.%s", line, ext[i]);
			snprintf(path, sizeof(path), "%s/%s", top, rel);
			t = fopen(path, "r");
			if (t) {
				fclose(t);
				add_sent(top, rel, 0, 0, sp + 1);
				break;
			}
		}
	}
	if (fp)
		fclose(fp);
	/* Harvard sentences at their segment times */
	{
		char texts[10][256] = { { 0 } };
		int n = 0;

		snprintf(path, sizeof(path), "%s/fixtures/speech/harvard/trans.txt", top);
		fp = fopen(path, "r");
		while (fp && fgets(line, sizeof(line), fp) && n < 10) {
			char *sp = strchr(line, ' ');

			if (!sp)
				continue;
			chomp(sp + 1);
			snprintf(texts[n++], sizeof(texts[0]), "%s", sp + 1);
		}
		if (fp)
			fclose(fp);
		snprintf(path, sizeof(path), "%s/fixtures/speech/harvard/segments", top);
		fp = fopen(path, "r");
		for (int i = 0; fp && i < n && fgets(line, sizeof(line), fp);) {
			char id[64], file[64];
			double s, e;

			if (sscanf(line, "%63s %63s %lf %lf", id, file, &s, &e) != 4)
				continue;
			snprintf(rel, sizeof(rel), "fixtures/speech/harvard/%s.wav", file);
			add_sent(top, rel, s, e, texts[i++]);
		}
		if (fp)
			fclose(fp);
	}
	/* Asterisk prompts (speech lines, not the digits) */
	snprintf(path, sizeof(path), "%s/fixtures/speech/asterisk/prompts.txt", top);
	fp = fopen(path, "r");
	while (fp && fgets(line, sizeof(line), fp)) {
		char *colon = strchr(line, ':');

		if (!colon || strchr(colon, '[') || strchr(colon, '(') || !strncmp(line, "digits/", 7))
			continue;
		*colon = '\0';
		chomp(colon + 1);
		snprintf(rel, sizeof(rel), "fixtures/speech/asterisk/%s.wav", line);
		add_sent(top, rel, 0, 0, colon + 2);
	}
	if (fp)
		fclose(fp);
}

/* Lay out clips with gaps (ms) after a lead; fills u->segs and u->audio. */
static void build(struct utt *u, const struct clip **cl, const int *gap_ms, size_t n,
		  uint64_t *seed)
{
	size_t lead = vadset_uniform(seed, 500, 1000) * RATE / 1000;
	size_t tail = (MAX_HOLD + 1500) * RATE / 1000, len = lead, at;

	for (size_t i = 0; i < n; i++)
		len += cl[i]->a->frames + (i + 1 < n ? (size_t)gap_ms[i] * RATE / 1000 : 0);
	len += tail;
	len = (len + FRAME_N - 1) / FRAME_N * FRAME_N;
	u->audio = vagent_audio_new(RATE, 1, len);
	if (!u->audio)
		die("utterance", NULL);
	at = lead;
	u->nsegs = n;
	u->npauses = 0;
	for (size_t i = 0; i < n; i++) {
		memcpy(u->audio->samples + at, cl[i]->a->samples, cl[i]->a->frames * sizeof(float));
		u->segs[i].at = at;
		u->segs[i].len = cl[i]->a->frames;
		u->segs[i].text = cl[i]->text;
		at += cl[i]->a->frames;
		if (i + 1 < n) {
			at += (size_t)gap_ms[i] * RATE / 1000;
			u->npauses += gap_ms[i] >= 300;
		}
	}
	u->true_end = vagent_ticks_from_ms(0) +
		(int64_t)(u->segs[n - 1].at + u->segs[n - 1].len) * VAGENT_TICKS_PER_SEC / RATE;
}

static void make_digits(struct utt *u, const int *groups, size_t ng, uint64_t *seed)
{
	const struct clip *cl[24];
	int gaps[24];
	size_t n = 0;

	for (size_t g = 0; g < ng; g++)
		for (int k = 0; k < groups[g]; k++) {
			cl[n] = &digits[vadset_uniform(seed, 0, 9)];
			/* within a group: 40..160 ms; between groups: 300..900 ms */
			gaps[n] = k + 1 < groups[g] ? (int)vadset_uniform(seed, 40, 160)
						    : (int)vadset_uniform(seed, 300, 900);
			n++;
		}
	build(u, cl, gaps, n, seed);
}

static void make_sentences(struct utt *u, uint64_t *seed)
{
	const struct clip *cl[3];
	int gaps[3];
	size_t n = vadset_uniform(seed, 2, 3);

	for (size_t i = 0; i < n; i++) {
		cl[i] = &sents[vadset_uniform(seed, 0, nsents - 1)];
		gaps[i] = (int)vadset_uniform(seed, 300, 900);
	}
	build(u, cl, gaps, n, seed);
}

/* Run the VAD over u's audio plus noise (gain 0: clean). */
static void run_vad(struct utt *u, const struct vagent_audio *noise, double snr_db,
		    uint64_t *seed, struct vagent_vad_result *out)
{
	struct vagent_vad_config vc = vagent_vad_config_default();
	struct vagent_vad *vad = NULL;
	struct vagent_audio *mix = vagent_audio_new(RATE, 1, u->audio->frames);
	struct vagent_error err;
	struct vagent_frame fr;

	vc.rate = RATE;
	vc.frame_ms = FRAME_MS;
	if (!mix || vagent_vad_new(&vc, &vad, &err) != VAGENT_OK)
		die("vad", mix ? &err : NULL);
	memcpy(mix->samples, u->audio->samples, u->audio->frames * sizeof(float));
	if (noise) {
		double ps = 0, pn = 0, gain;
		size_t ns = 0, off = vadset_uniform(seed, 0, noise->frames - 1);

		for (size_t s = 0; s < u->nsegs; s++)
			for (size_t i = 0; i < u->segs[s].len; i++, ns++)
				ps += (double)mix->samples[u->segs[s].at + i] * (double)mix->samples[u->segs[s].at + i];
		for (size_t i = 0; i < noise->frames; i++)
			pn += (double)noise->samples[i] * (double)noise->samples[i];
		gain = sqrt((ps / (double)ns) / (pn / (double)noise->frames) / pow(10, snr_db / 10));
		for (size_t i = 0; i < mix->frames; i++)
			mix->samples[i] += (float)(gain * (double)noise->samples[(off + i) % noise->frames]);
	}
	for (size_t f = 0; f < u->nframes; f++) {
		vagent_audio_get_frame(mix, f * FRAME_N, FRAME_N, &fr);
		if (vagent_vad_process(vad, &fr, &out[f], &err) != VAGENT_OK)
			die("vad", &err);
	}
	vagent_vad_free(vad);
	vagent_audio_free(mix);
}

/* Outcome of one utterance under one detector setting. */
struct outcome {
	bool cut;                /* an END before the true end */
	bool missed;             /* no END at all */
	double latency_ms;       /* END - true end (not cut) */
};

static struct outcome run_turn(const struct utt *u, const struct vagent_vad_result *vad,
			       int min_hold, int max_hold, bool text)
{
	struct vagent_turn_config tc = vagent_turn_config_default();
	struct vagent_turn_detector *d = NULL;
	struct vagent_error err;
	struct outcome o = { false, true, 0 };
	size_t said = 0;
	char buf[4096];

	tc.min_hold_ms = min_hold;
	tc.max_hold_ms = min_hold > max_hold ? min_hold : max_hold;
	if (vagent_turn_detector_new(&tc, &d, &err) != VAGENT_OK)
		die("turn", &err);
	buf[0] = '\0';
	for (size_t f = 0; f < u->nframes; f++) {
		int64_t pts = (int64_t)f * FRAME_MS * VAGENT_TICKS_PER_MS;
		int64_t dur = FRAME_MS * VAGENT_TICKS_PER_MS;
		size_t end_sample = (f + 1) * FRAME_N;
		struct vagent_turn_event ev;

		/* perfect STT: every phrase is in the transcript once it ended */
		if (text) {
			size_t k = said;

			while (k < u->nsegs && u->segs[k].at + u->segs[k].len <= end_sample)
				k++;
			if (k != said) {
				buf[0] = '\0';
				for (size_t i = 0; i < k; i++) {
					strncat(buf, u->segs[i].text, sizeof(buf) - strlen(buf) - 2);
					strcat(buf, " ");
				}
				said = k;
				vagent_turn_detector_set_transcript(d, buf);
			}
		}
		if (vagent_turn_detector_push_vad(d, &vad[f], pts, dur, &ev, &err) != VAGENT_OK)
			die("turn", &err);
		if (ev.type == VAGENT_TURN_END) {
			o.missed = false;
			o.cut = ev.pts < u->true_end;
			o.latency_ms = (double)(ev.pts - u->true_end) / (double)VAGENT_TICKS_PER_MS;
			break;
		}
	}
	vagent_turn_detector_free(d);
	return o;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

/* nearest rank */
static double pct(const double *sorted, size_t n, double p)
{
	size_t k = (size_t)ceil(p * (double)n);

	if (!n)
		return NAN;
	return sorted[k ? k - 1 : 0];
}

struct point {
	int hold;
	double cut_pct, p50, p90;
	size_t missed, n;
	double kind_cut[NKIND], kind_p50[NKIND];
};

/* the detector settings compared */
#define NMODE 3
static const char *mode_name[NMODE] = { "VAD only", "transcript max 1500", "transcript max 1000" };
static const int mode_max[NMODE] = { MAX_HOLD, 1500, 1000 };
static const bool mode_text[NMODE] = { false, true, true };

static struct utt *utts;
static size_t nutts;

static struct point evaluate(int cond, int hold, int mode)
{
	struct point pt = { .hold = hold };
	double *lat = malloc(nutts * sizeof(*lat)), *kl = malloc(nutts * sizeof(*kl));
	size_t nl = 0, cuts = 0, kn[NKIND] = { 0 }, kc[NKIND] = { 0 };

	if (!lat || !kl)
		die("eval", NULL);
	for (int k = 0; k < NKIND; k++) {
		size_t nk = 0;

		for (size_t i = 0; i < nutts; i++) {
			struct outcome o;

			if (utts[i].kind != (enum kind)k)
				continue;
			o = run_turn(&utts[i], utts[i].vad + (size_t)cond * utts[i].nframes,
				     hold, mode_max[mode], mode_text[mode]);
			kn[k]++;
			if (o.missed)
				pt.missed++;
			else if (o.cut) {
				cuts++;
				kc[k]++;
			} else {
				lat[nl++] = o.latency_ms;
				kl[nk++] = o.latency_ms;
			}
		}
		qsort(kl, nk, sizeof(*kl), cmp_double);
		pt.kind_p50[k] = pct(kl, nk, 0.5);
	}
	free(kl);
	qsort(lat, nl, sizeof(*lat), cmp_double);
	pt.n = nutts;
	pt.cut_pct = 100.0 * (double)cuts / (double)nutts;
	pt.p50 = pct(lat, nl, 0.5);
	pt.p90 = pct(lat, nl, 0.9);
	for (int k = 0; k < NKIND; k++)
		pt.kind_cut[k] = kn[k] ? 100.0 * (double)kc[k] / (double)kn[k] : (double)NAN;
	free(lat);
	return pt;
}

int main(int argc, char **argv)
{
	static const char *cond_name[NCOND] = { "clean", "kitchen noise (doing_the_dishes) at 20 dB SNR" };
	static const int phone[] = { 3, 3, 4 }, card[] = { 4, 4, 4, 4 }, order[] = { 3, 3 };
	struct vagent_audio *noise = NULL;
	struct vagent_error err;
	uint64_t seed = SEED;
	char path[1024];
	size_t pauses = 0;
	double speech_s = 0;

	if (argc != 2) {
		fprintf(stderr, "usage: eot_eval TOP\n");
		return 2;
	}
	load_all(argv[1]);
	snprintf(path, sizeof(path), "%s/fixtures/noise/doing_the_dishes.wav", argv[1]);
	noise = vadset_load(path, 0, 0, RATE, &err);
	if (!noise)
		die(path, &err);
	for (int k = 0; k < NKIND; k++)
		nutts += (size_t)kind_count[k];
	utts = calloc(nutts, sizeof(*utts));
	if (!utts)
		die("utterances", NULL);
	for (size_t i = 0, k = 0, j = 0; i < nutts; i++, j++) {
		struct utt *u = &utts[i];

		if (j == (size_t)kind_count[k]) {
			k++;
			j = 0;
		}
		u->kind = (enum kind)k;
		if (k == PHONE)
			make_digits(u, phone, 3, &seed);
		else if (k == CARD)
			make_digits(u, card, 4, &seed);
		else if (k == ORDER)
			make_digits(u, order, 2, &seed);
		else
			make_sentences(u, &seed);
		u->nframes = u->audio->frames / FRAME_N;
		u->vad = calloc(u->nframes * NCOND, sizeof(*u->vad));
		if (!u->vad)
			die("vad", NULL);
		run_vad(u, NULL, 0, &seed, u->vad);
		run_vad(u, noise, 20, &seed, u->vad + u->nframes);
		pauses += u->npauses;
		for (size_t s = 0; s < u->nsegs; s++)
			speech_s += (double)u->segs[s].len / RATE;
	}
	printf("End-of-turn evaluation: %zu utterances (", nutts);
	for (int k = 0; k < NKIND; k++)
		printf("%s%d %s", k ? ", " : "", kind_count[k], kind_name[k]);
	printf("), %zu internal pauses of 300-900 ms, %.0f s of speech; 8 kHz, 20 ms frames,\n"
	       "vagent VAD defaults, start 150 ms, max hold per column. Cut-off: END decided before the\n"
	       "true end of the last speech; latency: END - true end (uncut utterances), nearest rank.\n",
	       pauses, speech_s);
	for (int c = 0; c < NCOND; c++) {
		struct point pts[NMODE][NHOLD];

		printf("\n== %s\n\n", cond_name[c]);
		for (int t = 0; t < NMODE; t++)
			for (int h = 0; h < NHOLD; h++)
				pts[t][h] = evaluate(c, h * 50, t);
		printf("min hold |");
		for (int t = 0; t < NMODE; t++)
			printf(" %-27s|", mode_name[t]);
		printf("\n         |");
		for (int t = 0; t < NMODE; t++)
			printf(" %-27s|", "cut-off%  p50  p90  missed");
		printf("\n");
		for (int h = 0; h < NHOLD; h++) {
			printf("%5d ms |", h * 50);
			for (int t = 0; t < NMODE; t++) {
				const struct point *a = &pts[t][h];

				if (isnan(a->p50))
					printf(" %7.1f     -     -  %4zu   |", a->cut_pct, a->missed);
				else
					printf(" %7.1f  %5.0f %5.0f  %4zu   |", a->cut_pct, a->p50, a->p90,
					       a->missed);
			}
			printf("\n");
		}
		printf("\nFalse cut-offs at a latency budget (largest min hold with p50 latency <= budget):\n");
		for (int bi = 0; bi < 3; bi++) {
			static const int budget[3] = { 300, 500, 600 };

			printf("  @%d ms:\n", budget[bi]);
			for (int t = 0; t < NMODE; t++) {
				int best = -1;

				for (int h = 0; h < NHOLD; h++)
					if (pts[t][h].p50 <= budget[bi])
						best = h;
				if (best < 0)
					printf("    %-20s not reachable (p50 > budget at every hold)\n", mode_name[t]);
				else
					printf("    %-20s %5.1f%% cut off (min hold %d, p50 %.0f ms)\n",
					       mode_name[t], pts[t][best].cut_pct, pts[t][best].hold,
					       pts[t][best].p50);
			}
		}
		printf("Latency at a cut-off rate (smallest min hold with cut-offs <= rate):\n");
		for (int ri = 0; ri < 2; ri++) {
			static const double rate[2] = { 5, 10 };

			printf("  @%.0f%%:\n", rate[ri]);
			for (int t = 0; t < NMODE; t++) {
				int best = -1;

				for (int h = 0; h < NHOLD && best < 0; h++)
					if (pts[t][h].cut_pct <= rate[ri])
						best = h;
				if (best < 0)
					printf("    %-20s not reached\n", mode_name[t]);
				else
					printf("    %-20s p50 %4.0f / p90 %4.0f ms (min hold %d, %.1f%% cut off)\n",
					       mode_name[t], pts[t][best].p50, pts[t][best].p90,
					       pts[t][best].hold, pts[t][best].cut_pct);
			}
		}
		printf("By kind at min hold 500 ms (cut-off %%, p50 latency ms):\n");
		for (int k = 0; k < NKIND; k++) {
			printf("  %-13s", kind_name[k]);
			for (int t = 0; t < NMODE; t++)
				printf("  %s %3.0f%% %5.0f", mode_name[t], pts[t][10].kind_cut[k],
				       pts[t][10].kind_p50[k]);
			printf("\n");
		}
	}
	for (size_t i = 0; i < nutts; i++) {
		vagent_audio_free(utts[i].audio);
		free(utts[i].vad);
	}
	free(utts);
	for (int d = 0; d < 10; d++)
		vagent_audio_free(digits[d].a);
	for (size_t i = 0; i < nsents; i++)
		vagent_audio_free(sents[i].a);
	free(sents);
	vagent_audio_free(noise);
	return 0;
}
