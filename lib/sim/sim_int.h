/*
 * sim_int.h — what the simulated providers of lib/sim share: fault
 * matching, copying and checking of fault lists, latency draws and the
 * generator streams each provider kind draws from (docs/simulation.md).
 */
#ifndef VAGENT_SIM_INT_H
#define VAGENT_SIM_INT_H

#include "core/internal.h"

/* Generator streams: one per kind of provider, so providers sharing the
 * --seed draw independent sequences. */
#define VAGENT__SIM_STREAM_STT       UINT64_C(0x5717)
#define VAGENT__SIM_STREAM_STT_WORDS UINT64_C(0x5718)
#define VAGENT__SIM_STREAM_LLM       UINT64_C(0x11a1)
#define VAGENT__SIM_STREAM_TTS       UINT64_C(0x7755)
#define VAGENT__SIM_STREAM_TOOLS     UINT64_C(0x7001)

/* The fault of call `call` (1-based): the first of `faults` whose range
 * holds it, or NULL. A VAGENT_FAULT_NONE entry matches too (an explicitly
 * healthy range). */
const struct vagent_fault *vagent__fault_match(const struct vagent_fault *faults,
					       size_t n, int call);

/*
 * Check a fault list (`what` names it in messages, e.g. "faults" or
 * "tools[1].faults") and copy it (transfer full; *out NULL when n is 0).
 * VAGENT_EINVAL (message "WHERE: what[i]: problem"), VAGENT_ENOMEM.
 */
vagent_status vagent__faults_copy(const char *where, const char *what,
				  const struct vagent_fault *faults, size_t n,
				  struct vagent_fault **out,
				  struct vagent_error *err);

/* Check a latency model: VAGENT_EINVAL naming `what` when negative. */
vagent_status vagent__latency_check(const char *where, const char *what,
				    const struct vagent_latency *l,
				    struct vagent_error *err);

/* A latency draw in ticks: base_ms + rng_range(jitter_ms) ms. */
int64_t vagent__latency_draw(struct vagent__rng *r,
			     const struct vagent_latency *l);

/* strdup that keeps NULL as NULL; *ok is cleared when out of memory. */
char *vagent__sim_strdup(const char *s, bool *ok);

/* The provider name: cfg_name when set, else `def` (into dst[64]). */
void vagent__sim_name(char *dst, const char *cfg_name, const char *def);

#endif
