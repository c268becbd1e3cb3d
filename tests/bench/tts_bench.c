/*
 * tts_bench.c — flite's time to first audio and real-time factor for
 * `make bench BENCH=tts` (docs/tts.md): per voice and call rate, for one
 * sentence and for a typical three-sentence agent reply, spoken
 *
 *   stream   by the provider on a real-clock loop, sentence after
 *            sentence as the session does (the next when the previous
 *            one's synthesis is done): first audio = the first chunk;
 *   whole    by vagent_flite_synth per sentence on this thread: what a
 *            synthesiser that returns whole sentences could deliver
 *            (first audio = the first sentence complete);
 *   virtual  by the provider on a virtual-clock loop: the first audio's
 *            virtual time, charged the compute time it took.
 *
 * Percentiles are nearest-rank over REPEATS runs (default 10).
 *
 *   tts_bench [REPEATS]
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "vagent.h"

static const char *const one_sentence[] = {
	"Your order 45127 left our warehouse yesterday and should arrive on Thursday.",
	NULL,
};

/* 23 words */
static const char *const reply[] = {
	"Thanks for waiting.",
	"Your order 45127 left our warehouse yesterday and should arrive on Thursday.",
	"Is there anything else I can help you with?",
	NULL,
};

static double now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

/* Nearest-rank percentile of v[0..n-1] (sorted here). */
static double pct(double *v, int n, int p)
{
	int rank = (p * n + 99) / 100;

	qsort(v, (size_t)n, sizeof(*v), cmp_double);
	return v[(rank < 1 ? 1 : rank) - 1];
}

struct run {
	struct vagent_loop *loop;
	struct vagent_tts *tts;
	const char *const *text;
	int rate;
	int next;                   /* sentence to speak next */
	int64_t start, first, done;
	size_t samples;
	bool failed;
};

static void speak_next(struct run *r)
{
	struct vagent_error err;

	if (!r->text[r->next]) {
		r->done = vagent_loop_now(r->loop);
		return;
	}
	if (r->tts->ops->speak(r->tts, (uint64_t)r->next + 1, r->text[r->next], r->rate,
			       &err) != VAGENT_OK) {
		fprintf(stderr, "tts_bench: %s\n", err.message);
		r->failed = true;
		return;
	}
	r->next++;
}

static void on_audio(void *ctx, uint64_t id, const int16_t *s, size_t n)
{
	struct run *r = ctx;

	(void)id;
	(void)s;
	if (r->first < 0)
		r->first = vagent_loop_now(r->loop);
	r->samples += n;
}

static void on_done(void *ctx, uint64_t id)
{
	(void)id;
	speak_next(ctx);
}

static void on_error(void *ctx, uint64_t id, vagent_status st, const char *message)
{
	struct run *r = ctx;

	(void)id;
	(void)st;
	fprintf(stderr, "tts_bench: %s\n", message);
	r->failed = true;
}

/* One reply through the provider: first audio and done (ms from speak),
 * and the audio's duration (s). */
static int provider_run(enum vagent_clock_type clock, const char *voice, int rate,
			const char *const *text, double *first, double *done,
			double *audio_s)
{
	struct vagent_flite_config fc = vagent_flite_config_default();
	struct vagent_loop_config lc = vagent_loop_config_default();
	struct run r = { 0 };
	struct vagent_error err;

	lc.clock = clock;
	fc.voice = voice;
	if (vagent_loop_new(&lc, &r.loop, &err) != VAGENT_OK ||
	    vagent_flite_tts_new(&fc, &r.tts, &err) != VAGENT_OK) {
		fprintf(stderr, "tts_bench: %s\n", err.message);
		return -1;
	}
	r.tts->loop = r.loop;
	r.tts->on_audio = on_audio;
	r.tts->on_done = on_done;
	r.tts->on_error = on_error;
	r.tts->ctx = &r;
	r.text = text;
	r.rate = rate;
	r.first = r.done = -1;
	r.start = vagent_loop_now(r.loop);
	speak_next(&r);
	if (vagent_loop_run(r.loop, VAGENT_RUN_UNTIL_IDLE, &err) != VAGENT_OK)
		r.failed = true;
	vagent_tts_free(r.tts);
	vagent_loop_free(r.loop);
	if (r.failed || r.first < 0 || r.done < 0)
		return -1;
	*first = (double)vagent_ticks_to_us(r.first - r.start) / 1e3;
	*done = (double)vagent_ticks_to_us(r.done - r.start) / 1e3;
	*audio_s = (double)r.samples / rate;
	return 0;
}

/* Whole sentences, one after the other, on this thread. */
static int whole_run(const char *voice, int rate, const char *const *text,
		     double *first, double *done)
{
	double t0 = now_ms();

	for (int i = 0; text[i]; i++) {
		struct vagent_audio *a = NULL;
		struct vagent_error err;

		if (vagent_flite_synth(text[i], voice, rate, &a, &err) != VAGENT_OK) {
			fprintf(stderr, "tts_bench: %s\n", err.message);
			return -1;
		}
		vagent_audio_free(a);
		if (i == 0)
			*first = now_ms() - t0;
	}
	*done = now_ms() - t0;
	return 0;
}

int main(int argc, char **argv)
{
	int repeats = argc > 1 ? atoi(argv[1]) : 10;
	static const int rates[] = { 8000, 16000 };
	struct {
		const char *name;
		const char *const *text;
	} texts[] = { { "sentence", one_sentence }, { "reply", reply } };
	double *sf, *sd, *wf, *wd, *vf, *rtf;

	if (repeats < 1 || repeats > 1000) {
		fprintf(stderr, "usage: tts_bench [REPEATS 1..1000]\n");
		return 2;
	}
	sf = calloc((size_t)repeats, sizeof(double));
	sd = calloc((size_t)repeats, sizeof(double));
	wf = calloc((size_t)repeats, sizeof(double));
	wd = calloc((size_t)repeats, sizeof(double));
	vf = calloc((size_t)repeats, sizeof(double));
	rtf = calloc((size_t)repeats, sizeof(double));
	if (!sf || !sd || !wf || !wd || !vf || !rtf)
		return 3;
	/* the first synthesis registers the voices: not part of any figure */
	{
		struct vagent_audio *a = NULL;

		vagent_flite_synth("warm up", "slt", 8000, &a, NULL);
		vagent_audio_free(a);
	}
	printf("time to first audio and to done, ms (p50 / p90 / max over %d runs);\n"
	       "RTF = synthesis time / audio duration (stream, p50)\n\n", repeats);
	printf("%-6s %5s %-8s %6s | %-22s %-8s | %-22s %-8s | %-8s | %s\n", "voice", "rate",
	       "text", "audio", "stream first", "done", "whole first", "done", "virtual",
	       "RTF");
	for (const char *const *v = vagent_flite_voices(); *v; v++) {
		for (size_t ri = 0; ri < sizeof(rates) / sizeof(rates[0]); ri++) {
			for (size_t ti = 0; ti < sizeof(texts) / sizeof(texts[0]); ti++) {
				double audio_s = 0, ignore;

				for (int k = 0; k < repeats; k++) {
					if (provider_run(VAGENT_CLOCK_REAL, *v, rates[ri],
							 texts[ti].text, &sf[k], &sd[k],
							 &audio_s) ||
					    whole_run(*v, rates[ri], texts[ti].text, &wf[k],
						      &wd[k]) ||
					    provider_run(VAGENT_CLOCK_VIRTUAL, *v, rates[ri],
							 texts[ti].text, &vf[k], &ignore,
							 &ignore))
						return 3;
					rtf[k] = sd[k] / 1e3 / audio_s;
				}
				printf("%-6s %5d %-8s %5.2fs | %6.1f / %6.1f / %6.1f %8.1f | "
				       "%6.1f / %6.1f / %6.1f %8.1f | %8.1f | %.3f\n",
				       *v, rates[ri], texts[ti].name, audio_s,
				       pct(sf, repeats, 50), pct(sf, repeats, 90),
				       pct(sf, repeats, 100), pct(sd, repeats, 50),
				       pct(wf, repeats, 50), pct(wf, repeats, 90),
				       pct(wf, repeats, 100), pct(wd, repeats, 50),
				       pct(vf, repeats, 50), pct(rtf, repeats, 50));
				fflush(stdout);
			}
		}
	}
	free(sf);
	free(sd);
	free(wf);
	free(wd);
	free(vf);
	free(rtf);
	return 0;
}
