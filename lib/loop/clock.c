/*
 * clock.c — session clocks in media ticks: real (CLOCK_MONOTONIC since the
 * clock was created) and virtual (moves only when told to).
 */
#include <stdlib.h>
#include <time.h>

#include "loop/loop_int.h"

#define NS_PER_SEC INT64_C(1000000000)

int64_t vagent__clock_ns(clockid_t id)
{
	struct timespec ts;

	clock_gettime(id, &ts);
	return (int64_t)ts.tv_sec * NS_PER_SEC + ts.tv_nsec;
}

/* 705.6 ticks per µs = 7056 ticks per 10 000 ns; whole seconds apart so the
 * products stay far from overflow. */
int64_t vagent__ns_to_ticks(int64_t ns)
{
	return ns / NS_PER_SEC * VAGENT_TICKS_PER_SEC +
	       ns % NS_PER_SEC * 7056 / 10000;
}

int64_t vagent__ticks_to_ns_ceil(int64_t ticks)
{
	return ticks / VAGENT_TICKS_PER_SEC * NS_PER_SEC +
	       (ticks % VAGENT_TICKS_PER_SEC * 10000 + 7055) / 7056;
}

struct vagent_clock *vagent_clock_new(enum vagent_clock_type type)
{
	struct vagent_clock *c;

	if (type != VAGENT_CLOCK_REAL && type != VAGENT_CLOCK_VIRTUAL)
		return NULL;
	c = calloc(1, sizeof(*c));
	if (!c)
		return NULL;
	c->type = type;
	if (type == VAGENT_CLOCK_REAL)
		c->origin_ns = vagent__clock_ns(CLOCK_MONOTONIC);
	atomic_init(&c->now, 0);
	return c;
}

void vagent_clock_free(struct vagent_clock *c)
{
	free(c);
}

enum vagent_clock_type vagent_clock_type(const struct vagent_clock *c)
{
	return c->type;
}

int64_t vagent_clock_now(const struct vagent_clock *c)
{
	if (c->type == VAGENT_CLOCK_REAL)
		return vagent__ns_to_ticks(vagent__clock_ns(CLOCK_MONOTONIC) -
					   c->origin_ns);
	return atomic_load_explicit(&c->now, memory_order_relaxed);
}

void vagent__clock_set(struct vagent_clock *c, int64_t t)
{
	atomic_store_explicit(&c->now, t, memory_order_relaxed);
}

vagent_status vagent_clock_advance(struct vagent_clock *c, int64_t t,
				   struct vagent_error *err)
{
	int64_t now;

	if (c->type != VAGENT_CLOCK_VIRTUAL)
		return vagent__error_set(err, VAGENT_EINVAL, "clock",
					 "only a virtual clock can be advanced");
	now = vagent_clock_now(c);
	if (t < now)
		return vagent__error_set(err, VAGENT_EINVAL, "clock",
					 "cannot go back from %lld to %lld ticks",
					 (long long)now, (long long)t);
	vagent__clock_set(c, t);
	return VAGENT_OK;
}
