/*
 * sse.c — an incremental Server-Sent Events parser (WHATWG event-stream
 * rules): any chunking of the bytes, LF/CRLF/CR line ends, comments,
 * multi-line data, the event and id fields. Used by the LLM brains.
 */
#include <string.h>

#include "net/http_stream_int.h"

void vagent__sse_init(struct vagent__sse *p, vagent__sse_fn fn, void *ctx)
{
	memset(p, 0, sizeof(*p));
	p->fn = fn;
	p->ctx = ctx;
	p->max_event = 1u << 20;
}

void vagent__sse_release(struct vagent__sse *p)
{
	vagent__strbuf_release(&p->line);
	vagent__strbuf_release(&p->data);
	vagent__strbuf_release(&p->event);
	vagent__strbuf_release(&p->id);
}

static const char *text_of(const struct vagent__strbuf *b)
{
	return b->p ? b->p : "";
}

static bool dispatch(struct vagent__sse *p)
{
	bool go = true;

	if (p->has_data) {
		/* the data buffer has a "\n" after every line: drop the last */
		if (p->data.len)
			p->data.p[--p->data.len] = '\0';
		go = p->fn(p->ctx, p->event.len ? p->event.p : "message",
			   text_of(&p->data), text_of(&p->id));
	}
	p->has_data = false;
	p->data.len = 0;
	if (p->data.p)
		p->data.p[0] = '\0';
	p->event.len = 0;
	if (p->event.p)
		p->event.p[0] = '\0';
	return go;
}

static bool line_done(struct vagent__sse *p)
{
	const char *l = text_of(&p->line);
	size_t n = p->line.len, name_len;
	const char *value;

	if (!p->bom_checked) {
		/* a UTF-8 byte order mark may open the stream */
		p->bom_checked = true;
		if (n >= 3 && !memcmp(l, "\xEF\xBB\xBF", 3)) {
			l += 3;
			n -= 3;
		}
	}

	if (n == 0)
		return dispatch(p);
	if (l[0] == ':')
		return true;                       /* a comment */
	value = memchr(l, ':', n);
	name_len = value ? (size_t)(value - l) : n;
	if (value) {
		value++;
		if (*value == ' ')
			value++;
	} else {
		value = "";
	}
	if (name_len == 4 && !memcmp(l, "data", 4)) {
		vagent__strbuf_puts(&p->data, value);
		vagent__strbuf_put(&p->data, "\n", 1);
		p->has_data = true;
	} else if (name_len == 5 && !memcmp(l, "event", 5)) {
		p->event.len = 0;
		vagent__strbuf_puts(&p->event, value);
	} else if (name_len == 2 && !memcmp(l, "id", 2)) {
		p->id.len = 0;
		vagent__strbuf_puts(&p->id, value);
	}                                          /* retry and others: ignored */
	if (p->data.oom || p->event.oom || p->id.oom) {
		p->oom = true;
		return false;
	}
	return p->data.len <= p->max_event;
}

bool vagent__sse_feed(struct vagent__sse *p, const char *buf, size_t n)
{
	size_t i = 0;

	while (i < n) {
		const char *start = buf + i;
		size_t rest = n - i, k;

		if (p->after_cr) {
			p->after_cr = false;
			if (*start == '\n') {
				i++;
				continue;
			}
		}
		for (k = 0; k < rest && start[k] != '\n' && start[k] != '\r'; k++)
			;
		vagent__strbuf_put(&p->line, start, k);
		if (p->line.oom) {
			p->oom = true;
			return false;
		}
		if (p->line.len > p->max_event)
			return false;
		i += k;
		if (k == rest)
			break;                     /* a partial line: wait */
		p->after_cr = start[k] == '\r';
		i++;
		if (!line_done(p)) {
			p->line.len = 0;
			return false;
		}
		p->line.len = 0;
		if (p->line.p)
			p->line.p[0] = '\0';
	}
	return true;
}
