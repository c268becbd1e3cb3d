/*
 * wer_int.h — internals shared by the WER module's files: a bump arena for
 * strings and arrays, a token interner, and the sclite-compatible aligner.
 */
#ifndef VAGENT_WER_INT_H
#define VAGENT_WER_INT_H

#include <stddef.h>
#include <stdint.h>

#include "vagent.h"
#include "core/internal.h"

/* A bump allocator: many small allocations, one free. */
struct vagent__arena {
	struct vagent__arena_block *head;
};

struct vagent__arena *vagent__arena_new(void);
void vagent__arena_free(struct vagent__arena *a);
/* `size` bytes aligned for any type; NULL when out of memory. */
void *vagent__arena_alloc(struct vagent__arena *a, size_t size);
/* Copy of `len` bytes of `s` plus a NUL; NULL when out of memory. */
char *vagent__arena_strndup(struct vagent__arena *a, const char *s, size_t len);

/* Maps token strings to small dense ints, so the aligner compares ints. */
struct vagent__interner {
	uint32_t *slots;    /* 1-based token index, 0 = empty */
	uint32_t *hashes;   /* hash of each token, indexed by token index - 1 */
	const char **strs;  /* token strings (not owned) */
	size_t *lens;
	size_t count, cap_tokens, mask;
};

void vagent__interner_init(struct vagent__interner *in);
void vagent__interner_release(struct vagent__interner *in);
/* The id of token s[0..len) (interning it if new), or -1 when out of
 * memory. The interner keeps the pointer: `s` must outlive it. */
int32_t vagent__intern(struct vagent__interner *in, const char *s, size_t len);

/* Reusable dynamic-programming buffers for the aligner. */
struct vagent__aligner {
	int32_t *cost;       /* (n+1) x (m+1) */
	uint8_t *back;
	size_t cap;
};

void vagent__aligner_init(struct vagent__aligner *al);
void vagent__aligner_release(struct vagent__aligner *al);

/*
 * Align ref[0..n) with hyp[0..m) (interned ids) exactly as sclite's
 * Network_dpalign with wwd_WORD does. Writes at most n + m edits to
 * `edits` (may be NULL to count only) and fills *counts. Returns the
 * number of edits, or (size_t)-1 when out of memory.
 */
size_t vagent__align(struct vagent__aligner *al,
		     const int32_t *ref, size_t n, const int32_t *hyp, size_t m,
		     struct vagent_wer_edit *edits, struct vagent_wer_counts *counts);

/* Split `text` into tokens for scoring: whitespace-separated words, or
 * (cer) UTF-8 characters other than whitespace. Token pointers point into
 * `text`. Returns the number of tokens; toks/lens may be NULL to count. */
size_t vagent__tokenize(const char *text, int cer, const char **toks, size_t *lens);

/* Decode one UTF-8 sequence at s[0..len): returns its length (1..4) and
 * the code point, or 0 for an invalid or truncated sequence. */
size_t vagent__utf8_decode(const unsigned char *s, size_t len, uint32_t *cp);

#endif
