/*
 * rng.c — the seeded random generator of simulations (splitmix64).
 * Every simulated provider and caller draws from its own generator, seeded
 * from --seed, so a virtual run is bit-for-bit repeatable.
 */
#include "core/internal.h"

uint64_t vagent__rng_next(struct vagent__rng *r)
{
	uint64_t z = (r->state += UINT64_C(0x9E3779B97F4A7C15));

	z = (z ^ (z >> 30)) * UINT64_C(0xBF58476D1CE4E5B9);
	z = (z ^ (z >> 27)) * UINT64_C(0x94D049BB133111EB);
	return z ^ (z >> 31);
}

void vagent__rng_seed(struct vagent__rng *r, uint64_t seed, uint64_t stream)
{
	r->state = seed ^ (stream * UINT64_C(0xD1B54A32D192ED03));
	(void)vagent__rng_next(r);
}

double vagent__rng_double(struct vagent__rng *r)
{
	return (double)(vagent__rng_next(r) >> 11) * 0x1.0p-53;
}

int64_t vagent__rng_range(struct vagent__rng *r, int64_t n)
{
	if (n <= 1)
		return 0;
	return (int64_t)(vagent__rng_next(r) % (uint64_t)n);
}
