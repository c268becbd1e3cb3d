/*
 * stt_stream.c — bench helper for bench_stt.sh: runs each file through the
 * streaming pocketsphinx provider, as a session does (20 ms frames on a
 * virtual-clock loop with 2 workers charged their CPU time; the speech
 * segment opens 120 ms after the audio starts, as a VAD's onset would,
 * and the turn ends after the audio), and prints one trn line per file;
 * on stderr, the total audio and decode CPU seconds. All files are one
 * call to one provider, as turns of a caller (live CMN carries over).
 *
 *   stt_stream [--boost FILE] 8000|16000 FILE...
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "vagent.h"

/* One call: the files one after another, each a caller turn (speech
 * opens 120 ms into it, closes and the turn ends at its end), with
 * GAP_MS of silence between them; the k-th final belongs to the k-th file. */
#define GAP_MS 300

struct utt {
	int16_t *s;
	size_t n;
	char id[256];
	char text[8192];
};

struct run {
	struct vagent_stt *stt;
	struct vagent_loop *loop;
	struct utt *utts;
	int n_utts, cur, finals;
	size_t pos, gap;                /* in the current file / gap left */
	int rate;
	bool started;
	struct vagent_timer *timer;
};

static void on_partial(void *ctx, const char *text)
{
	(void)ctx;
	(void)text;
}

static void on_final(void *ctx, const char *text, double confidence)
{
	struct run *r = ctx;

	(void)confidence;
	if (r->finals < r->n_utts)
		snprintf(r->utts[r->finals].text, sizeof(r->utts[0].text), "%s", text);
	r->finals++;
}

static void on_error(void *ctx, vagent_status st, const char *message)
{
	(void)ctx;
	(void)st;
	fprintf(stderr, "stt_stream: %s\n", message);
	exit(3);
}

static void tick(struct vagent_timer *t, void *arg)
{
	struct run *r = arg;
	struct vagent_frame f;
	int64_t pts = vagent_loop_now(r->loop);
	size_t n = vagent_frame_samples_for(r->rate, 20);
	struct utt *u;

	if (r->cur >= r->n_utts) {
		vagent_timer_stop(t);
		return;
	}
	u = &r->utts[r->cur];
	vagent_frame_init_20ms(&f, r->rate, 1, pts);
	if (r->gap) {
		r->gap -= n < r->gap ? n : r->gap;
	} else {
		if (n > u->n - r->pos)
			n = u->n - r->pos;
		memcpy(f.samples, u->s + r->pos, n * sizeof(int16_t));
		r->pos += n;
		if (!r->started && r->pos >= (size_t)r->rate * 120 / 1000) {
			r->started = true;
			r->stt->ops->speech(r->stt, true,
					    pts - vagent_ticks_from_ms(120));
		}
	}
	r->stt->ops->audio(r->stt, &f, NULL);
	if (!r->gap && r->pos >= u->n) {
		if (r->started)
			r->stt->ops->speech(r->stt, false, pts);
		r->stt->ops->turn_end(r->stt, pts);
		if (!r->started)
			r->finals++;    /* too short to open: no final */
		r->started = false;
		r->pos = 0;
		r->gap = (size_t)r->rate * GAP_MS / 1000;
		r->cur++;
	}
}

static char **read_lines(const char *path)
{
	static char buf[1 << 20];
	FILE *f = fopen(path, "r");
	char **v = calloc(4096, sizeof(*v)), *p;
	size_t len;
	int k = 0;

	if (!f || !v)
		exit(2);
	len = fread(buf, 1, sizeof(buf) - 1, f);
	fclose(f);
	buf[len] = '\0';
	for (p = strtok(buf, "\n"); p && k < 4095; p = strtok(NULL, "\n"))
		if (*p && *p != '#')
			v[k++] = p;
	return v;
}

int main(int argc, char **argv)
{
	struct vagent_sphinx_config cfg = vagent_sphinx_config_default();
	struct vagent_loop_config lc = vagent_loop_config_default();
	struct vagent_error err;
	struct run r;
	double audio_s = 0;
	struct timespec c0, c1;
	int i = 1, k;

	if (argc > 2 && !strcmp(argv[1], "--boost")) {
		cfg.boost_phrases = (const char *const *)read_lines(argv[2]);
		i = 3;
	}
	if (argc - i < 2) {
		fprintf(stderr, "usage: stt_stream [--boost FILE] 8000|16000 FILE...\n");
		return 2;
	}
	cfg.rate = atoi(argv[i++]);
	memset(&r, 0, sizeof(r));
	r.rate = cfg.rate;
	r.n_utts = argc - i;
	r.utts = calloc((size_t)r.n_utts, sizeof(*r.utts));
	for (k = 0; k < r.n_utts; k++, i++) {
		struct vagent_audio *a, *rs = NULL;
		struct utt *u = &r.utts[k];
		const char *base = strrchr(argv[i], '/');
		char *dot;

		if (vagent_audio_load(argv[i], VAGENT_CHANNELS_MIX, &a, &err) != VAGENT_OK ||
		    (a->rate != cfg.rate &&
		     vagent_audio_resample(a, cfg.rate, 7, &rs, &err) != VAGENT_OK)) {
			fprintf(stderr, "stt_stream: %s\n", err.message);
			return 2;
		}
		if (rs) {
			vagent_audio_free(a);
			a = rs;
		}
		u->n = a->frames;
		u->s = malloc(u->n * sizeof(*u->s) + 2);
		for (size_t j = 0; j < u->n; j++) {
			float v = a->samples[j] * 32768.0f;

			u->s[j] = (int16_t)(v > 32767 ? 32767 : v < -32768 ? -32768 : v);
		}
		audio_s += (double)a->frames / a->rate;
		vagent_audio_free(a);
		snprintf(u->id, sizeof(u->id), "%s", base ? base + 1 : argv[i]);
		if ((dot = strrchr(u->id, '.')))
			*dot = '\0';
	}
	lc.clock = VAGENT_CLOCK_VIRTUAL;
	lc.workers = 2;
	lc.job_clock = VAGENT_JOB_THREAD_CPU;
	if (vagent_loop_new(&lc, &r.loop, &err) != VAGENT_OK ||
	    vagent_sphinx_stt_new(&cfg, &r.stt, &err) != VAGENT_OK) {
		fprintf(stderr, "stt_stream: %s\n", err.message);
		return 3;
	}
	clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &c0);
	r.stt->loop = r.loop;
	r.stt->on_partial = on_partial;
	r.stt->on_final = on_final;
	r.stt->on_error = on_error;
	r.stt->ctx = &r;
	r.timer = vagent_timer_new(r.loop, tick, &r);
	vagent_timer_start_at(r.timer, 0, vagent_ticks_from_ms(20), NULL);
	vagent_loop_run(r.loop, VAGENT_RUN_UNTIL_IDLE, NULL);
	clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &c1);
	vagent_timer_free(r.timer);
	vagent_stt_free(r.stt);
	vagent_loop_free(r.loop);
	for (k = 0; k < r.n_utts; k++) {
		if (r.utts[k].text[0])
			printf("%s (%s)\n", r.utts[k].text, r.utts[k].id);
		else
			printf("(%s)\n", r.utts[k].id);
		free(r.utts[k].s);
	}
	free(r.utts);
	/* decoding only (the model was loaded before c0) */
	fprintf(stderr, "audio_s %.1f cpu_s %.1f\n", audio_s,
		(double)(c1.tv_sec - c0.tv_sec) + (double)(c1.tv_nsec - c0.tv_nsec) / 1e9);
	return 0;
}
