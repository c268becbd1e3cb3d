/*
 * strbuf.c — a growable NUL-terminated string for building output text
 * (alignments, normalized transcripts, reports). Allocation failure is
 * sticky: later appends are ignored and _detach() returns NULL.
 */
#include "core/internal.h"

#include <stdarg.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

void vagent__strbuf_put(struct vagent__strbuf *b, const char *s, size_t n)
{
	if (b->oom)
		return;
	if (n >= SIZE_MAX / 2 - b->len) {
		/* No string this long fits; and cap * 2 below must not wrap. */
		b->oom = true;
		return;
	}
	if (b->len + n + 1 > b->cap) {
		size_t cap = b->cap ? b->cap : 64;
		char *p;

		while (cap < b->len + n + 1)
			cap *= 2;
		p = realloc(b->p, cap);
		if (!p) {
			b->oom = true;
			return;
		}
		b->p = p;
		b->cap = cap;
	}
	memcpy(b->p + b->len, s, n);
	b->len += n;
	b->p[b->len] = '\0';
}

void vagent__strbuf_puts(struct vagent__strbuf *b, const char *s)
{
	vagent__strbuf_put(b, s, strlen(s));
}

void vagent__strbuf_fill(struct vagent__strbuf *b, char c, size_t n)
{
	char chunk[64];

	memset(chunk, c, sizeof(chunk));
	while (n) {
		size_t k = n < sizeof(chunk) ? n : sizeof(chunk);
		vagent__strbuf_put(b, chunk, k);
		n -= k;
	}
}

void vagent__strbuf_printf(struct vagent__strbuf *b, const char *fmt, ...)
{
	char small[256];
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(small, sizeof(small), fmt, ap);
	va_end(ap);
	if (n < 0) {
		b->oom = true;
		return;
	}
	if ((size_t)n < sizeof(small)) {
		vagent__strbuf_put(b, small, (size_t)n);
		return;
	}
	/* Long output: format straight into the buffer after growing it. */
	vagent__strbuf_fill(b, '\0', (size_t)n);
	if (b->oom)
		return;
	va_start(ap, fmt);
	vsnprintf(b->p + b->len - (size_t)n, (size_t)n + 1, fmt, ap);
	va_end(ap);
}

void vagent__strbuf_rtrim(struct vagent__strbuf *b, char c)
{
	while (!b->oom && b->len && b->p[b->len - 1] == c)
		b->p[--b->len] = '\0';
}

char *vagent__strbuf_detach(struct vagent__strbuf *b)
{
	char *p = b->p;

	if (b->oom) {
		free(p);
		p = NULL;
	} else if (!p) {
		p = calloc(1, 1);
	}
	b->p = NULL;
	b->len = b->cap = 0;
	b->oom = false;
	return p;
}

void vagent__strbuf_release(struct vagent__strbuf *b)
{
	free(b->p);
	b->p = NULL;
	b->len = b->cap = 0;
	b->oom = false;
}
