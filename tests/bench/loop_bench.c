/*
 * loop_bench.c — event-loop figures for `make bench BENCH=loop`: virtual
 * time throughput (media seconds per wall second for N sessions of 20 ms
 * ticks) and how many real-time 20 ms sessions one loop paces within 5 ms.
 *
 *   loop_bench virtual SESSIONS MEDIA_SECONDS
 *   loop_bench real SESSIONS WALL_SECONDS
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "vagent.h"

#define PERIOD vagent_ticks_from_ms(20)

struct sess {
	struct vagent_loop *loop;
	struct vagent_timer *t;
	int16_t frame[320];         /* a 20 ms frame at 16 kHz */
	int64_t energy;
};

struct bench {
	int64_t *late;              /* lateness per tick, in ticks */
	size_t n, cap;
	int64_t end;
};

static struct bench B;

static double wall(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* What a session does per tick at minimum: touch its frame (an energy
 * measure over 320 samples), like a VAD would. */
static void on_tick(struct vagent_timer *t, void *arg)
{
	struct sess *s = arg;
	int64_t now = vagent_loop_now(s->loop);
	int64_t e = 0;

	for (int i = 0; i < 320; i++)
		e += (int64_t)s->frame[i] * s->frame[i];
	s->energy += e;
	s->frame[s->energy % 320] = (int16_t)(s->energy & 0x7fff);
	if (B.late && B.n < B.cap)
		B.late[B.n++] = now - vagent_timer_deadline(t);
	if (vagent_timer_deadline(t) + PERIOD > B.end)
		vagent_timer_stop(t);
}

static int cmp64(const void *a, const void *b)
{
	int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;

	return (x > y) - (x < y);
}

static int run(enum vagent_clock_type type, int nsess, double seconds)
{
	struct vagent_loop_config cfg = vagent_loop_config_default();
	struct vagent_loop *loop = NULL;
	struct vagent_error err;
	struct sess *s = calloc((size_t)nsess, sizeof(*s));
	int64_t start;
	double w0, w1;

	cfg.clock = type;
	cfg.workers = 0;
	if (!s || vagent_loop_new(&cfg, &loop, &err) != VAGENT_OK) {
		fprintf(stderr, "loop_bench: %s\n", s ? err.message : "out of memory");
		return 3;
	}
	/* Real time: start 50 ms ahead so set-up does not count as lateness. */
	start = vagent_loop_now(loop) +
		(type == VAGENT_CLOCK_REAL ? vagent_ticks_from_ms(50) : 0);
	B.end = start + (int64_t)(seconds * (double)VAGENT_TICKS_PER_SEC);
	B.n = 0;
	if (type == VAGENT_CLOCK_REAL) {
		B.cap = (size_t)((double)nsess * (seconds * 50 + 2));
		B.late = malloc(B.cap * sizeof(*B.late));
	}
	for (int i = 0; i < nsess; i++) {
		s[i].loop = loop;
		s[i].t = vagent_timer_new(loop, on_tick, &s[i]);
		for (int k = 0; k < 320; k++)
			s[i].frame[k] = (int16_t)(i * 31 + k * 7);
		/* Sessions start spread over one period, as calls arrive. */
		vagent_timer_start_at(s[i].t, start + PERIOD * i / nsess, PERIOD, NULL);
	}
	w0 = wall();
	if (vagent_loop_run(loop, VAGENT_RUN_UNTIL_IDLE, &err) != VAGENT_OK) {
		fprintf(stderr, "loop_bench: %s\n", err.message);
		return 3;
	}
	w1 = wall();
	if (type == VAGENT_CLOCK_VIRTUAL) {
		printf("virtual  %5d sessions x %.0f s media: %.3f s wall, "
		       "%.0f× real time, %.2f M timer events/s\n",
		       nsess, seconds, w1 - w0, seconds / (w1 - w0),
		       (double)nsess * seconds * 50 / (w1 - w0) / 1e6);
	} else {
		size_t over = 0;

		qsort(B.late, B.n, sizeof(*B.late), cmp64);
		for (size_t i = 0; i < B.n; i++)
			over += B.late[i] > vagent_ticks_from_ms(5);
		printf("real     %5d sessions: %7zu ticks, lateness p50 %6.3f ms, "
		       "p99 %6.3f ms, max %7.3f ms, >5 ms: %zu (%s)\n",
		       nsess, B.n,
		       (double)vagent_ticks_to_us(B.late[B.n / 2]) / 1000,
		       (double)vagent_ticks_to_us(B.late[B.n * 99 / 100]) / 1000,
		       (double)vagent_ticks_to_us(B.late[B.n - 1]) / 1000,
		       over, over ? "NOT sustained" : "sustained");
		free(B.late);
		B.late = NULL;
	}
	for (int i = 0; i < nsess; i++)
		vagent_timer_free(s[i].t);
	free(s);
	vagent_loop_free(loop);
	return 0;
}

int main(int argc, char **argv)
{
	if (argc != 4 || (strcmp(argv[1], "virtual") && strcmp(argv[1], "real"))) {
		fprintf(stderr, "usage: loop_bench virtual|real SESSIONS SECONDS\n");
		return 2;
	}
	return run(strcmp(argv[1], "real") ? VAGENT_CLOCK_VIRTUAL : VAGENT_CLOCK_REAL,
		   atoi(argv[2]), atof(argv[3]));
}
