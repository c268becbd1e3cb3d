/*
 * fault.c — fault injection shared by the simulated providers: fault kind
 * names, matching a call number against the fault list, checking and
 * copying fault lists, and latency draws from a provider's generator
 * (docs/simulation.md).
 */
#include <stdlib.h>
#include <string.h>

#include "sim/sim_int.h"

static const char *const fault_names[] = {
	[VAGENT_FAULT_NONE] = "none",
	[VAGENT_FAULT_DELAY] = "delay",
	[VAGENT_FAULT_TIMEOUT] = "timeout",
	[VAGENT_FAULT_ERROR] = "error",
	[VAGENT_FAULT_STALL] = "stall",
	[VAGENT_FAULT_DISCONNECT] = "disconnect",
	[VAGENT_FAULT_MALFORMED] = "malformed",
	[VAGENT_FAULT_DROP] = "drop",
	[VAGENT_FAULT_WRONG_WORDS] = "wrong_words",
};

#define KIND(k) (1u << (k))

/* The fault kinds each slot takes (what the fault wrappers and the tool
 * mocks implement; the simulated providers' own lists for their configs). */
static const struct {
	const char *slot;
	unsigned kinds;
	const char *list;
} slot_kinds[] = {
	{ "llm", KIND(VAGENT_FAULT_DELAY) | KIND(VAGENT_FAULT_STALL) |
		 KIND(VAGENT_FAULT_ERROR) | KIND(VAGENT_FAULT_DISCONNECT) |
		 KIND(VAGENT_FAULT_TIMEOUT) | KIND(VAGENT_FAULT_MALFORMED),
	  "delay, stall, error, disconnect, timeout, malformed" },
	{ "stt", KIND(VAGENT_FAULT_DELAY) | KIND(VAGENT_FAULT_DROP) |
		 KIND(VAGENT_FAULT_WRONG_WORDS) | KIND(VAGENT_FAULT_ERROR),
	  "delay, drop, wrong_words, error" },
	{ "tts", KIND(VAGENT_FAULT_DELAY) | KIND(VAGENT_FAULT_ERROR) |
		 KIND(VAGENT_FAULT_TIMEOUT) | KIND(VAGENT_FAULT_STALL),
	  "delay, error, timeout, stall" },
	{ "tool", KIND(VAGENT_FAULT_DELAY) | KIND(VAGENT_FAULT_TIMEOUT) |
		  KIND(VAGENT_FAULT_ERROR) | KIND(VAGENT_FAULT_STALL) |
		  KIND(VAGENT_FAULT_DISCONNECT) | KIND(VAGENT_FAULT_MALFORMED),
	  "delay, timeout, error, stall, disconnect, malformed" },
	/* lib/sim's own recogniser and synthesiser */
	{ "sim-stt", KIND(VAGENT_FAULT_DELAY) | KIND(VAGENT_FAULT_TIMEOUT) |
		     KIND(VAGENT_FAULT_ERROR) | KIND(VAGENT_FAULT_STALL) |
		     KIND(VAGENT_FAULT_DISCONNECT) | KIND(VAGENT_FAULT_MALFORMED) |
		     KIND(VAGENT_FAULT_DROP),
	  "delay, timeout, error, stall, disconnect, malformed, drop" },
	{ "sim-tts", KIND(VAGENT_FAULT_DELAY) | KIND(VAGENT_FAULT_TIMEOUT) |
		     KIND(VAGENT_FAULT_ERROR) | KIND(VAGENT_FAULT_STALL) |
		     KIND(VAGENT_FAULT_DISCONNECT) | KIND(VAGENT_FAULT_MALFORMED),
	  "delay, timeout, error, stall, disconnect, malformed" },
};

static int slot_index(const char *slot)
{
	size_t i;

	if (!slot)
		return -1;
	if (strcmp(slot, "brain") == 0)
		slot = "llm";
	else if (strcmp(slot, "tools") == 0)
		slot = "tool";
	for (i = 0; i < VAGENT__ARRAY_SIZE(slot_kinds); i++)
		if (strcmp(slot, slot_kinds[i].slot) == 0)
			return (int)i;
	return -1;
}

const char *vagent_fault_kinds_for(const char *slot)
{
	int i = slot_index(slot);

	return i < 0 ? "" : slot_kinds[i].list;
}

bool vagent_fault_kind_allowed(const char *slot, vagent_fault_kind kind)
{
	int i = slot_index(slot);

	if (i < 0 || (int)kind < 0 || (size_t)kind >= VAGENT__ARRAY_SIZE(fault_names))
		return false;
	return kind == VAGENT_FAULT_NONE || (slot_kinds[i].kinds & KIND(kind));
}

vagent_status vagent__faults_check_slot(const char *where, const char *what,
					const struct vagent_fault *faults,
					size_t n, const char *slot,
					struct vagent_error *err)
{
	size_t i;

	/* (unknown kinds are vagent__faults_copy's to report) */
	for (i = 0; faults && i < n; i++)
		if (vagent_fault_kind_name(faults[i].kind) &&
		    !vagent_fault_kind_allowed(slot, faults[i].kind))
			return vagent__error_set(err, VAGENT_EINVAL, where,
						 "%s[%zu].kind: \"%s\" does not apply here (one of %s)",
						 what, i,
						 vagent_fault_kind_name(faults[i].kind),
						 vagent_fault_kinds_for(slot));
	return VAGENT_OK;
}

const char *vagent_fault_kind_name(vagent_fault_kind k)
{
	if ((int)k < 0 || (size_t)k >= VAGENT__ARRAY_SIZE(fault_names))
		return NULL;
	return fault_names[k];
}

int vagent_fault_kind_from_name(const char *name)
{
	size_t i;

	if (!name)
		return -1;
	for (i = 0; i < VAGENT__ARRAY_SIZE(fault_names); i++)
		if (strcmp(name, fault_names[i]) == 0)
			return (int)i;
	return -1;
}

const struct vagent_fault *vagent__fault_match(const struct vagent_fault *faults,
					       size_t n, int call)
{
	size_t i;

	for (i = 0; i < n; i++) {
		const struct vagent_fault *f = &faults[i];

		if (f->from_call <= call && (f->to_call == 0 || call <= f->to_call))
			return f;
	}
	return NULL;
}

vagent_status vagent__faults_copy(const char *where, const char *what,
				  const struct vagent_fault *faults, size_t n,
				  struct vagent_fault **out,
				  struct vagent_error *err)
{
	size_t i;

	*out = NULL;
	if (n == 0)
		return VAGENT_OK;
	if (!faults)
		return vagent__error_set(err, VAGENT_EINVAL, where,
					 "%s: %zu faults but no list", what, n);
	for (i = 0; i < n; i++) {
		const struct vagent_fault *f = &faults[i];
		const char *bad = NULL;

		if (!vagent_fault_kind_name(f->kind))
			bad = "unknown kind";
		else if (f->from_call < 0)
			bad = "from_call is negative";
		else if (f->to_call < 0)
			bad = "to_call is negative";
		else if (f->to_call != 0 && f->to_call < f->from_call)
			bad = "to_call is before from_call";
		else if (f->delay_ms < 0)
			bad = "delay_ms is negative";
		else if (f->after < 0)
			bad = "after is negative";
		else if (f->http_status != 0 &&
			 (f->http_status < 100 || f->http_status > 999))
			bad = "http_status is not an HTTP status";
		else if (!(f->rate >= 0 && f->rate <= 1))
			bad = "rate is not in 0..1";
		if (bad)
			return vagent__error_set(err, VAGENT_EINVAL, where,
						 "%s[%zu]: %s", what, i, bad);
	}
	*out = malloc(n * sizeof(**out));
	if (!*out)
		return vagent__error_set(err, VAGENT_ENOMEM, where,
					 "out of memory");
	memcpy(*out, faults, n * sizeof(**out));
	return VAGENT_OK;
}

vagent_status vagent__latency_check(const char *where, const char *what,
				    const struct vagent_latency *l,
				    struct vagent_error *err)
{
	if (l->base_ms < 0 || l->jitter_ms < 0)
		return vagent__error_set(err, VAGENT_EINVAL, where,
					 "%s: negative latency", what);
	return VAGENT_OK;
}

int64_t vagent__latency_draw(struct vagent__rng *r,
			     const struct vagent_latency *l)
{
	int64_t ms = l->base_ms + vagent__rng_range(r, l->jitter_ms);

	return vagent_ticks_from_ms(ms);
}

char *vagent__sim_strdup(const char *s, bool *ok)
{
	char *d;

	if (!s)
		return NULL;
	d = strdup(s);
	if (!d)
		*ok = false;
	return d;
}

void vagent__sim_name(char *dst, const char *cfg_name, const char *def)
{
	const char *s = cfg_name && cfg_name[0] ? cfg_name : def;
	size_t n = strnlen(s, 63);

	memcpy(dst, s, n);
	dst[n] = '\0';
}
