/*
 * internal.h — declarations shared between library files but not part of
 * the public API. Internal names use the vagent__ prefix (libuv's uv__).
 */
#ifndef VAGENT_CORE_INTERNAL_H
#define VAGENT_CORE_INTERNAL_H

#include "vagent.h"

#if defined(__GNUC__)
#define VAGENT__PRINTF(a, b) __attribute__((format(printf, a, b)))
#else
#define VAGENT__PRINTF(a, b)
#endif

/*
 * Fill `err` (may be NULL) with status `st` and the message
 * "WHERE: <formatted>" (or just the formatted text when where is NULL).
 * Returns `st`, so callers can write `return vagent__error_set(...)`.
 */
vagent_status vagent__error_set(struct vagent_error *err, vagent_status st,
				const char *where, const char *fmt, ...)
	VAGENT__PRINTF(4, 5);

#define VAGENT__ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

#endif
