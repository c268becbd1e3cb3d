/*
 * arena.c — the WER module's bump allocator and token interner: results and
 * transcripts own thousands of small strings that die together.
 */
#include <stdlib.h>
#include <string.h>

#include "wer/wer_int.h"

struct vagent__arena_block {
	struct vagent__arena_block *next;
	size_t used, size;
	max_align_t data[];
};

#define ARENA_BLOCK (64 * 1024)

struct vagent__arena *vagent__arena_new(void)
{
	return calloc(1, sizeof(struct vagent__arena));
}

void vagent__arena_free(struct vagent__arena *a)
{
	struct vagent__arena_block *b, *next;

	if (!a)
		return;
	for (b = a->head; b; b = next) {
		next = b->next;
		free(b);
	}
	free(a);
}

void *vagent__arena_alloc(struct vagent__arena *a, size_t size)
{
	const size_t align = sizeof(max_align_t);
	struct vagent__arena_block *b = a->head;
	void *p;

	size = (size + align - 1) / align * align;
	if (size == 0)
		size = align;
	if (!b || b->size - b->used < size) {
		size_t bsize = size > ARENA_BLOCK ? size : ARENA_BLOCK;
		b = malloc(sizeof(*b) + bsize);
		if (!b)
			return NULL;
		b->size = bsize;
		b->used = 0;
		/* A big one-off allocation goes behind the current block so the
		 * current block's free space is not wasted. */
		if (a->head && size > ARENA_BLOCK) {
			b->next = a->head->next;
			a->head->next = b;
		} else {
			b->next = a->head;
			a->head = b;
		}
	}
	p = (char *)b->data + b->used;
	b->used += size;
	return p;
}

char *vagent__arena_strndup(struct vagent__arena *a, const char *s, size_t len)
{
	char *p = vagent__arena_alloc(a, len + 1);

	if (!p)
		return NULL;
	memcpy(p, s, len);
	p[len] = '\0';
	return p;
}

/* FNV-1a: short tokens, good enough spread, no dependencies. */
static uint32_t hash_bytes(const char *s, size_t len)
{
	uint32_t h = 2166136261u;

	for (size_t i = 0; i < len; i++) {
		h ^= (unsigned char)s[i];
		h *= 16777619u;
	}
	return h;
}

void vagent__interner_init(struct vagent__interner *in)
{
	memset(in, 0, sizeof(*in));
}

void vagent__interner_release(struct vagent__interner *in)
{
	free(in->slots);
	free(in->hashes);
	free(in->strs);
	free(in->lens);
	memset(in, 0, sizeof(*in));
}

static int interner_grow(struct vagent__interner *in)
{
	size_t nslots = in->mask ? (in->mask + 1) * 2 : 1024;
	uint32_t *slots = calloc(nslots, sizeof(*slots));

	if (!slots)
		return -1;
	for (size_t t = 0; t < in->count; t++) {
		size_t i = in->hashes[t] & (nslots - 1);
		while (slots[i])
			i = (i + 1) & (nslots - 1);
		slots[i] = (uint32_t)(t + 1);
	}
	free(in->slots);
	in->slots = slots;
	in->mask = nslots - 1;
	return 0;
}

int32_t vagent__intern(struct vagent__interner *in, const char *s, size_t len)
{
	uint32_t h = hash_bytes(s, len);
	size_t i;

	/* Keep the load factor under one half. */
	if (!in->slots || (in->count + 1) * 2 > in->mask + 1)
		if (interner_grow(in))
			return -1;
	for (i = h & in->mask; in->slots[i]; i = (i + 1) & in->mask) {
		size_t t = in->slots[i] - 1;
		if (in->hashes[t] == h && in->lens[t] == len && !memcmp(in->strs[t], s, len))
			return (int32_t)t;
	}
	if (in->count == in->cap_tokens) {
		size_t cap = in->cap_tokens ? in->cap_tokens * 2 : 512;
		uint32_t *hashes = realloc(in->hashes, cap * sizeof(*hashes));
		if (!hashes)
			return -1;
		in->hashes = hashes;
		const char **strs = realloc(in->strs, cap * sizeof(*strs));
		if (!strs)
			return -1;
		in->strs = strs;
		size_t *lens = realloc(in->lens, cap * sizeof(*lens));
		if (!lens)
			return -1;
		in->lens = lens;
		in->cap_tokens = cap;
	}
	in->hashes[in->count] = h;
	in->strs[in->count] = s;
	in->lens[in->count] = len;
	in->slots[i] = (uint32_t)(in->count + 1);
	return (int32_t)in->count++;
}
