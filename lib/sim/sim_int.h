/*
 * sim_int.h — what the simulated providers of lib/sim share: fault
 * matching, copying and checking of fault lists, latency draws, the
 * generator streams each provider kind draws from and the request list
 * (docs/simulation.md).
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

/* VAGENT_EINVAL ("WHERE: what[i].kind: \"drop\" does not apply here (one
 * of ...)") for the first fault `slot` does not take
 * (vagent_fault_kind_allowed; also "sim-stt", "sim-tts"). */
vagent_status vagent__faults_check_slot(const char *where, const char *what,
					const struct vagent_fault *faults,
					size_t n, const char *slot,
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

/*
 * A request of a simulated provider, the first member of the provider's
 * own request struct. vagent__sim_req_end marks it dead and stops its
 * timer; it is freed later, by a sweep.
 */
struct vagent__sim_req {
	struct vagent__sim_req *next;
	uint64_t id;
	struct vagent_timer *timer;
	bool dead;
};

/* A provider's requests. busy: inside one of its callbacks (a sweep then
 * frees nothing: the callback's request must stay valid until it
 * returns); freeing: the provider's free() was called. */
struct vagent__sim_reqs {
	struct vagent__sim_req *head;
	int busy;
	bool freeing;
};

void vagent__sim_req_add(struct vagent__sim_reqs *l, struct vagent__sim_req *r);

static inline void vagent__sim_req_end(struct vagent__sim_req *r)
{
	r->dead = true;
	vagent_timer_stop(r->timer);
}

/* End the requests with this id / all of them. */
void vagent__sim_reqs_cancel(struct vagent__sim_reqs *l, uint64_t id);
void vagent__sim_reqs_end_all(struct vagent__sim_reqs *l);

/*
 * Unless busy, free (free_req) the requests that ended, or all of them
 * when freeing. true: freeing and not busy, the provider is to be
 * destroyed now.
 */
bool vagent__sim_reqs_sweep(struct vagent__sim_reqs *l,
			    void (*free_req)(struct vagent__sim_req *r));

#endif
