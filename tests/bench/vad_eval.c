/*
 * vad_eval.c — `make bench BENCH=vad`: builds the labelled VAD set from
 * fixtures/ (tests/bench/vad_set.h) and scores VAD candidates on it: vagent's
 * detector, speexdsp's preprocessor VAD and, when the Debian package
 * libwebrtc-audio-processing1 is installed, the WebRTC VAD (loaded with
 * dlopen, so nothing links against it).
 *   usage: vad_eval TOP [CANDIDATE...]   (vagent speex webrtc0..webrtc3)
 */
#include <dlfcn.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <speex/speex_preprocess.h>

#include "vagent.h"
#include "bench/vad_set.h"

#define FRAME_MS 20
#define SEED     20260311u
#define LEAD_FRAMES (1000 / FRAME_MS)

/* ---- candidates */

struct cand {
	const char *name;
	int rate;
	void *st;
	void *(*open)(struct cand *c);
	int (*run)(struct cand *c, const struct vagent_frame *f);
	void (*close)(struct cand *c);
	int mode;
};

static void *vagent_open(struct cand *c)
{
	struct vagent_vad_config cfg = vagent_vad_config_default();
	struct vagent_vad *v = NULL;
	struct vagent_error err;

	cfg.rate = c->rate;
	cfg.frame_ms = FRAME_MS;
	if (vagent_vad_new(&cfg, &v, &err) != VAGENT_OK)
		fprintf(stderr, "%s\n", err.message);
	return v;
}

static int vagent_run(struct cand *c, const struct vagent_frame *f)
{
	struct vagent_vad_result r;

	if (vagent_vad_process(c->st, f, &r, NULL) != VAGENT_OK)
		return 0;
	return r.speech;
}

static void vagent_close(struct cand *c)
{
	vagent_vad_free(c->st);
}

static void *speex_open(struct cand *c)
{
	SpeexPreprocessState *st = speex_preprocess_state_init(c->rate * FRAME_MS / 1000, c->rate);
	int on = 1;

	speex_preprocess_ctl(st, SPEEX_PREPROCESS_SET_VAD, &on);
	return st;
}

static int speex_run(struct cand *c, const struct vagent_frame *f)
{
	spx_int16_t x[VAGENT_FRAME_MAX_SAMPLES];

	memcpy(x, f->samples, f->n * sizeof(x[0]));
	return speex_preprocess_run(c->st, x) != 0;
}

static void speex_close(struct cand *c)
{
	speex_preprocess_state_destroy(c->st);
}

/* WebRTC VAD C API of webrtc-audio-processing 0.3 (common_audio/vad). */
static void *(*wr_create)(void);
static int (*wr_init)(void *);
static int (*wr_set_mode)(void *, int);
static int (*wr_process)(void *, int, const int16_t *, size_t);
static void (*wr_free)(void *);

static int webrtc_load(void)
{
	static int loaded = -1;
	void *h;

	if (loaded >= 0)
		return loaded;
	loaded = 0;
	h = dlopen("libwebrtc_audio_processing.so.1", RTLD_NOW | RTLD_LOCAL);
	if (!h)
		return 0;
	*(void **)&wr_create = dlsym(h, "WebRtcVad_Create");
	*(void **)&wr_init = dlsym(h, "WebRtcVad_Init");
	*(void **)&wr_set_mode = dlsym(h, "WebRtcVad_set_mode");
	*(void **)&wr_process = dlsym(h, "WebRtcVad_Process");
	*(void **)&wr_free = dlsym(h, "WebRtcVad_Free");
	loaded = wr_create && wr_init && wr_set_mode && wr_process && wr_free;
	return loaded;
}

static void *webrtc_open(struct cand *c)
{
	void *v = wr_create();

	if (v && (wr_init(v) || wr_set_mode(v, c->mode))) {
		wr_free(v);
		v = NULL;
	}
	return v;
}

static int webrtc_run(struct cand *c, const struct vagent_frame *f)
{
	return wr_process(c->st, c->rate, f->samples, f->n) == 1;
}

static void webrtc_close(struct cand *c)
{
	wr_free(c->st);
}

/* ---- the set */

struct clip {
	char path[512];
	double start, end;
};

static struct clip *clips;
static size_t nclips;

static void add_clip(const char *top, const char *rel, double start, double end)
{
	clips = realloc(clips, (nclips + 1) * sizeof(*clips));
	if (!clips)
		exit(3);
	snprintf(clips[nclips].path, sizeof(clips[nclips].path), "%s/%s", top, rel);
	clips[nclips].start = start;
	clips[nclips].end = end;
	nclips++;
}

static void list_clips(const char *top)
{
	static const char *libri[] = {
		"1089-134686-0000.flac", "1089-134686-0001.flac", "1089-134686-0002.wav",
		"1089-134691-0000.flac", "1089-134691-0001.flac", "1221-135766-0001.wav",
		"1221-135766-0002.wav", "1995-1837-0001.wav",
	};
	char path[600], line[256], rel[600];
	FILE *fp;

	for (size_t i = 0; i < sizeof(libri) / sizeof(libri[0]); i++) {
		snprintf(rel, sizeof(rel), "fixtures/speech/librispeech/%s", libri[i]);
		add_clip(top, rel, 0, 0);
	}
	/* Asterisk prompts and digits: every scripted line that is speech. */
	snprintf(path, sizeof(path), "%s/fixtures/speech/asterisk/prompts.txt", top);
	fp = fopen(path, "r");
	while (fp && fgets(line, sizeof(line), fp)) {
		char *colon = strchr(line, ':');

		if (!colon || colon[1] == '\0' || strchr(colon, '[') || strchr(colon, '('))
			continue;
		*colon = '\0';
		snprintf(rel, sizeof(rel), "fixtures/speech/asterisk/%s.wav", line);
		add_clip(top, rel, 0, 0);
	}
	if (fp)
		fclose(fp);
	/* Harvard: the ten sentences, cut at the segment times. */
	snprintf(path, sizeof(path), "%s/fixtures/speech/harvard/segments", top);
	fp = fopen(path, "r");
	while (fp && fgets(line, sizeof(line), fp)) {
		char id[64], file[64];
		double s, e;

		if (sscanf(line, "%63s %63s %lf %lf", id, file, &s, &e) == 4) {
			snprintf(rel, sizeof(rel), "fixtures/speech/harvard/%s.wav", file);
			add_clip(top, rel, s, e);
		}
	}
	if (fp)
		fclose(fp);
}

static const struct {
	const char *class, *rel;
} nonspeech[] = {
	{ "tones", "fixtures/speech/asterisk/beep.wav" },
	{ "tones", "fixtures/speech/asterisk/beeperr.wav" },
	{ "tones", "fixtures/speech/asterisk/ascending-2tone.wav" },
	{ "tones", "fixtures/speech/asterisk/descending-2tone.wav" },
	{ "silence", "fixtures/speech/asterisk/silence/1.wav" },
	{ "silence", "fixtures/speech/asterisk/silence/2.wav" },
	{ "silence", "fixtures/speech/asterisk/silence/5.wav" },
	{ "monkeys", "fixtures/speech/asterisk/tt-monkeys.wav" },
	{ "dishes", "fixtures/noise/doing_the_dishes.wav" },
	{ "bike", "fixtures/noise/exercise_bike.wav" },
};
static const char *classes[] = { "tones", "silence", "monkeys", "dishes", "bike" };

#define NCOND 4
static const double snrs[NCOND] = { INFINITY, 20, 10, 5 };

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

static double pct(double *v, size_t n, double p)
{
	size_t k;

	if (!n)
		return NAN;
	qsort(v, n, sizeof(*v), cmp_double);
	k = (size_t)ceil(p / 100.0 * (double)n);
	return v[k ? k - 1 : 0];
}

/* Run `c` over a whole track; dec[f] = decision per frame; returns seconds. */
static double run_track(struct cand *c, const struct vagent_audio *a, size_t nframes,
			uint8_t *dec)
{
	size_t n = vagent_frame_samples_for(a->rate, FRAME_MS);
	struct vagent_frame *fr = malloc(nframes * sizeof(*fr));
	struct timespec t0, t1;

	for (size_t f = 0; f < nframes; f++)
		vagent_audio_get_frame(a, f * n, n, &fr[f]);
	c->st = c->open(c);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	for (size_t f = 0; f < nframes; f++)
		dec[f] = (uint8_t)c->run(c, &fr[f]);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	c->close(c);
	free(fr);
	return (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) * 1e-9;
}

static int evaluate(const char *top, struct cand *c)
{
	struct vagent_audio *noise[2] = { NULL, NULL };
	const char *noise_rel[2] = { "fixtures/noise/doing_the_dishes.wav",
				     "fixtures/noise/exercise_bike.wav" };
	struct vagent_error err;
	char path[600];
	size_t tp[NCOND] = { 0 }, fp[NCOND] = { 0 }, fn[NCOND] = { 0 }, missed[NCOND] = { 0 };
	size_t ntracks[NCOND] = { 0 }, total_frames = 0;
	double *on[NCOND], *off[NCOND], secs = 0;
	size_t non[NCOND] = { 0 };
	uint64_t seed = SEED;

	for (int k = 0; k < NCOND; k++) {
		on[k] = calloc(nclips * 2 + 1, sizeof(double));
		off[k] = calloc(nclips * 2 + 1, sizeof(double));
	}
	for (int i = 0; i < 2; i++) {
		snprintf(path, sizeof(path), "%s/%s", top, noise_rel[i]);
		noise[i] = vadset_load(path, 0, 0, c->rate, &err);
		if (!noise[i]) {
			fprintf(stderr, "%s\n", err.message);
			return 1;
		}
	}
	for (size_t i = 0; i < nclips; i++) {
		struct vagent_audio *clip = vadset_load(clips[i].path, clips[i].start,
							clips[i].end, c->rate, &err);

		if (!clip) {
			fprintf(stderr, "%s\n", err.message);
			return 1;
		}
		for (int k = 0; k < NCOND; k++) {
			for (int ni = 0; ni < (k == 0 ? 1 : 2); ni++) {
				struct vadset_track t;
				struct vadset_score s;
				uint8_t *dec;

				if (vadset_track_build(clip, k ? noise[ni] : NULL, snrs[k], FRAME_MS,
						       &seed, &t, &err)) {
					fprintf(stderr, "%s\n", err.message);
					return 1;
				}
				dec = calloc(t.nframes, 1);
				secs += run_track(c, t.audio, t.nframes, dec);
				total_frames += t.nframes;
				vadset_score(&t, dec, FRAME_MS, &s);
				tp[k] += s.tp;
				fp[k] += s.fp;
				fn[k] += s.fn;
				ntracks[k]++;
				if (s.onset_found) {
					on[k][non[k]] = s.onset_ms;
					off[k][non[k]] = s.offset_ms;
					non[k]++;
				} else {
					missed[k]++;
				}
				free(dec);
				vadset_track_free(&t);
			}
		}
		vagent_audio_free(clip);
	}
	printf("%s, %d kHz, %d ms frames: %zu speech clips\n", c->name, c->rate / 1000,
	       FRAME_MS, nclips);
	printf("  %-7s %6s %6s %6s %6s  %14s  %14s  %s\n", "SNR", "tracks", "P", "R", "F1",
	       "onset med/p90", "offset med/p90", "missed");
	for (int k = 0; k < NCOND; k++) {
		double p = tp[k] + fp[k] ? (double)tp[k] / (double)(tp[k] + fp[k]) : 0;
		double r = tp[k] + fn[k] ? (double)tp[k] / (double)(tp[k] + fn[k]) : 0;
		char label[16];

		if (k == 0)
			snprintf(label, sizeof(label), "clean");
		else
			snprintf(label, sizeof(label), "%.0f dB", snrs[k]);
		printf("  %-7s %6zu %6.3f %6.3f %6.3f  %6.0f/%4.0f ms  %6.0f/%4.0f ms  %zu\n",
		       label, ntracks[k], p, r, p + r > 0 ? 2 * p * r / (p + r) : 0,
		       pct(on[k], non[k], 50), pct(on[k], non[k], 90),
		       pct(off[k], non[k], 50), pct(off[k], non[k], 90), missed[k]);
	}
	/* non-speech clips, each run alone */
	printf("  non-speech clips after 1 s of silence, %% of their frames marked speech:\n");
	for (size_t ci = 0; ci < sizeof(classes) / sizeof(classes[0]); ci++) {
		size_t frames = 0, marked = 0, nin = 0;
		char detail[512] = "";

		for (size_t i = 0; i < sizeof(nonspeech) / sizeof(nonspeech[0]); i++) {
			struct vagent_audio *a;
			size_t nf;
			uint8_t *dec;

			if (strcmp(nonspeech[i].class, classes[ci]))
				continue;
			snprintf(path, sizeof(path), "%s/%s", top, nonspeech[i].rel);
			a = vadset_load(path, 0, 0, c->rate, &err);
			if (!a) {
				fprintf(stderr, "%s\n", err.message);
				return 1;
			}
			/* after 1 s of line silence, as in a call (the clip's own
			 * start is not its noise floor); only its frames count */
			{
				struct vagent_audio *b = vagent_audio_new(c->rate, 1, (size_t)c->rate);

				if (!b || vagent_audio_append(b, a->samples, a->frames) != VAGENT_OK)
					return 3;
				vagent_audio_free(a);
				a = b;
			}
			nf = a->frames / vagent_frame_samples_for(c->rate, FRAME_MS);
			dec = calloc(nf + 1, 1);
			secs += run_track(c, a, nf, dec);
			total_frames += nf;
			{
				size_t m = 0;
				const char *base = strrchr(nonspeech[i].rel, '/') + 1;

				for (size_t f = LEAD_FRAMES; f < nf; f++)
					m += dec[f];
				marked += m;
				frames += nf - LEAD_FRAMES;
				snprintf(detail + strlen(detail), sizeof(detail) - strlen(detail),
					 "%s%.*s %.0f%%", nin++ ? ", " : "",
					 (int)(strlen(base) - 4), base,
					 100.0 * (double)m / (double)(nf - LEAD_FRAMES));
			}
			free(dec);
			vagent_audio_free(a);
		}
		printf("    %-8s %5.1f%%", classes[ci], frames ? 100.0 * (double)marked / (double)frames : 0);
		if (nin > 1)
			printf("  (%s)", detail);
		printf("\n");
	}
	printf("  speed: %.0f frames/s (%zu frames, %.1f s of audio)\n\n",
	       (double)total_frames / secs, total_frames, (double)total_frames * FRAME_MS / 1000);
	for (int k = 0; k < NCOND; k++) {
		free(on[k]);
		free(off[k]);
	}
	vagent_audio_free(noise[0]);
	vagent_audio_free(noise[1]);
	return 0;
}

int main(int argc, char **argv)
{
	static const char *all[] = { "vagent", "speex", "webrtc2", "webrtc3", NULL };
	const char *const *names = all;
	int rates[] = { 16000, 8000 }, status = 0;

	if (argc < 2) {
		fprintf(stderr, "usage: vad_eval TOP [vagent|speex|webrtc0..3 ...]\n");
		return 2;
	}
	if (argc > 2)
		names = (const char *const *)argv + 2;
	list_clips(argv[1]);
	for (int ri = 0; ri < 2; ri++) {
		for (size_t i = 0; names[i] && (argc <= 2 || (int)i < argc - 2); i++) {
			struct cand c = { .name = names[i], .rate = rates[ri] };

			if (!strcmp(names[i], "vagent")) {
				c.open = vagent_open, c.run = vagent_run, c.close = vagent_close;
			} else if (!strcmp(names[i], "speex")) {
				c.open = speex_open, c.run = speex_run, c.close = speex_close;
			} else if (!strncmp(names[i], "webrtc", 6) && names[i][6] >= '0' &&
				   names[i][6] <= '3') {
				if (!webrtc_load()) {
					printf("%s: libwebrtc_audio_processing.so.1 not installed "
					       "(apt-get install libwebrtc-audio-processing1), skipped\n\n",
					       names[i]);
					continue;
				}
				c.mode = names[i][6] - '0';
				c.open = webrtc_open, c.run = webrtc_run, c.close = webrtc_close;
			} else {
				fprintf(stderr, "vad_eval: unknown candidate '%s'\n", names[i]);
				return 2;
			}
			status |= evaluate(argv[1], &c);
		}
	}
	free(clips);
	return status;
}
