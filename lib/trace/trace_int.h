/*
 * trace_int.h — declarations shared by the trace files (lib/trace/):
 * fixed-point time formatting, UTF-8 checking, and the list of strings a
 * parsed trace or a metrics result owns.
 */
#ifndef VAGENT_TRACE_INT_H
#define VAGENT_TRACE_INT_H

#include "core/internal.h"

/* The largest time in µs a trace carries: 10^15 (31 years), so that a
 * time read back as a double of milliseconds rounds to the exact µs. */
#define VAGENT__TRACE_MAX_US INT64_C(1000000000000000)
/* Counts in the trace (llm.done tokens, retries): 0..2^53, exact as JSON numbers. */
#define VAGENT__TRACE_MAX_COUNT INT64_C(9007199254740992)

/* Append `us` microseconds as milliseconds with exactly 3 decimals
 * ("1234.500", "-0.020"); |us| <= VAGENT__TRACE_MAX_US. Integer arithmetic only. */
void vagent__trace_put_ms(struct vagent__strbuf *b, int64_t us);

/* Whether s[0..n-1] is valid UTF-8 (no overlongs, no surrogates). */
bool vagent__utf8_valid(const char *s, size_t n);

/* Strings owned by a trace or metrics result, freed together. Zero-init. */
struct vagent__owned {
	char **p;
	size_t n, cap;
};

/* Take ownership of `s` and return it; NULL when `s` is NULL or out of
 * memory (then `s` is freed). */
const char *vagent__owned_take(struct vagent__owned *o, char *s);

/* Free every string taken and the list itself. */
void vagent__owned_free(struct vagent__owned *o);

/* JSON text `json` with every card number redacted (docs/dtmf.md): in
 * strings as vagent_card_number_redact() does, a number that is one becomes
 * the string "[card ending NNNN]". Compact JSON, malloc'd; NULL when
 * `json` is not JSON or out of memory. */
char *vagent__redact_json(const char *json);

/* Bytes an aggregator holds (itself, its exact samples and its histogram
 * groups): what the stats tests assert stays flat however many samples. */
size_t vagent__stats_bytes(const struct vagent_stats *st);

#endif
