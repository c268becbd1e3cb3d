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

/*
 * Report that opening the input file `path` failed with `errnum`. A path
 * the user got wrong (missing, a directory, no permission, too long) is bad
 * input (ENOENT/EINVAL, exit 2) with "no such file" or the system's reason;
 * anything else (out of descriptors, an I/O error) is EIO, exit 3.
 */
vagent_status vagent__error_open_input(struct vagent_error *err, int errnum,
				       const char *path);

/*
 * A growable NUL-terminated string (lib/core/strbuf.c). Zero-initialise
 * it; allocation failure is sticky (`oom`), later appends are ignored and
 * _detach() returns NULL. `p` is NULL until something is appended.
 */
struct vagent__strbuf {
	char *p;
	size_t len, cap;
	bool oom;
};

void vagent__strbuf_put(struct vagent__strbuf *b, const char *s, size_t n);
void vagent__strbuf_puts(struct vagent__strbuf *b, const char *s);
/* Append `n` copies of `c`. */
void vagent__strbuf_fill(struct vagent__strbuf *b, char c, size_t n);
void vagent__strbuf_printf(struct vagent__strbuf *b, const char *fmt, ...)
	VAGENT__PRINTF(2, 3);
/* Drop trailing copies of `c`. */
void vagent__strbuf_rtrim(struct vagent__strbuf *b, char c);
/* The string (transfer full; "" when nothing was appended), or NULL after
 * an allocation failure; the buffer is reset either way. */
char *vagent__strbuf_detach(struct vagent__strbuf *b);
void vagent__strbuf_release(struct vagent__strbuf *b);

/*
 * A seeded random generator (splitmix64; lib/core/rng.c) for simulations.
 * `stream` separates generators sharing one seed (one per provider).
 */
struct vagent__rng {
	uint64_t state;
};

void vagent__rng_seed(struct vagent__rng *r, uint64_t seed, uint64_t stream);
uint64_t vagent__rng_next(struct vagent__rng *r);
/* Uniform in [0, 1). */
double vagent__rng_double(struct vagent__rng *r);
/* Uniform in [0, n) (0 when n <= 1). */
int64_t vagent__rng_range(struct vagent__rng *r, int64_t n);

/* libcurl's global set-up, once per process, thread-safe (lib/core/curl.c);
 * `where` names the caller in the error. */
vagent_status vagent__curl_init(struct vagent_error *err, const char *where);

/* `url` fit for messages and traces: scheme://host[:port]/path, without
 * user, password, query or fragment (they can hold credentials). */
void vagent__url_redact(const char *url, char *out, size_t size);

/* Whether `url` is an http:// or https:// base URL without query or
 * credentials (`?`, `@`): what the cloud providers' base URLs must be. */
bool vagent__is_http_base_url(const char *url);

/* strdup(s), NULL for NULL; a failed copy sets *oom (so a constructor can
 * copy many fields and check once). */
char *vagent__strdup_track(const char *s, bool *oom);

/*
 * Read the whole file at `path` into *out (malloc'd, NUL-terminated; its
 * length in *len, which may be NULL). Errors name the path: a missing or
 * unreadable file as vagent__error_open_input, a directory or a file over
 * `max` bytes EINVAL, a read error EIO (lib/core/file.c).
 */
vagent_status vagent__read_file(const char *path, size_t max, char **out,
				size_t *len, struct vagent_error *err);

#define VAGENT__ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

#endif
