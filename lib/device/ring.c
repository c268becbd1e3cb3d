/*
 * ring.c — the lock-free single-producer single-consumer sample ring that
 * carries audio between PortAudio's callback thread and the loop thread.
 */
#include "device/device_int.h"

#include <stdlib.h>
#include <string.h>

bool vagent__ring_init(struct vagent__ring *r, size_t cap)
{
	r->buf = cap ? calloc(cap, sizeof(*r->buf)) : NULL;
	r->cap = r->buf ? cap : 0;
	atomic_init(&r->head, 0);
	atomic_init(&r->tail, 0);
	return r->buf != NULL;
}

void vagent__ring_free(struct vagent__ring *r)
{
	free(r->buf);
	r->buf = NULL;
	r->cap = 0;
}

size_t vagent__ring_fill(const struct vagent__ring *r)
{
	size_t head = atomic_load_explicit(&r->head, memory_order_acquire);
	size_t tail = atomic_load_explicit(&r->tail, memory_order_acquire);

	return head - tail;
}

size_t vagent__ring_space(const struct vagent__ring *r)
{
	return r->cap - vagent__ring_fill(r);
}

size_t vagent__ring_write(struct vagent__ring *r, const int16_t *s, size_t n)
{
	size_t head = atomic_load_explicit(&r->head, memory_order_relaxed);
	size_t tail = atomic_load_explicit(&r->tail, memory_order_acquire);
	size_t space = r->cap - (head - tail);

	if (n > space)
		n = space;
	for (size_t done = 0; done < n;) {
		size_t at = (head + done) % r->cap;
		size_t chunk = r->cap - at;

		if (chunk > n - done)
			chunk = n - done;
		memcpy(r->buf + at, s + done, chunk * sizeof(*s));
		done += chunk;
	}
	atomic_store_explicit(&r->head, head + n, memory_order_release);
	return n;
}

size_t vagent__ring_read(struct vagent__ring *r, int16_t *s, size_t n)
{
	size_t tail = atomic_load_explicit(&r->tail, memory_order_relaxed);
	size_t head = atomic_load_explicit(&r->head, memory_order_acquire);
	size_t fill = head - tail;

	if (n > fill)
		n = fill;
	if (s) {
		for (size_t done = 0; done < n;) {
			size_t at = (tail + done) % r->cap;
			size_t chunk = r->cap - at;

			if (chunk > n - done)
				chunk = n - done;
			memcpy(s + done, r->buf + at, chunk * sizeof(*s));
			done += chunk;
		}
	}
	atomic_store_explicit(&r->tail, tail + n, memory_order_release);
	return n;
}
