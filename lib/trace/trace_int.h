/*
 * trace_int.h — declarations shared by the trace files (lib/trace/):
 * fixed-point time formatting and UTF-8 checking.
 */
#ifndef VAGENT_TRACE_INT_H
#define VAGENT_TRACE_INT_H

#include "core/internal.h"

/* The largest time in µs a trace carries: 10^15 (31 years), so that a
 * time read back as a double of milliseconds rounds to the exact µs. */
#define VAGENT__TRACE_MAX_US INT64_C(1000000000000000)

/* Append `us` microseconds as milliseconds with exactly 3 decimals
 * ("1234.500", "-0.020"); |us| <= VAGENT__TRACE_MAX_US. Integer arithmetic only. */
void vagent__trace_put_ms(struct vagent__strbuf *b, int64_t us);

/* Whether s[0..n-1] is valid UTF-8 (no overlongs, no surrogates). */
bool vagent__utf8_valid(const char *s, size_t n);

#endif
