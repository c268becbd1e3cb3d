/*
 * check_sse.c — the Server-Sent Events parser: events split at every
 * byte, CRLF and CR line ends, comments, multi-line data, event and id
 * fields, a byte order mark, events without data, stopping from the
 * callback, an oversized event.
 */
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "net/http_stream_int.h"

struct seen {
	char log[4096];
	int n, stop_after;
};

static bool on_event(void *ctx, const char *event, const char *data, const char *id)
{
	struct seen *s = ctx;
	size_t len = strlen(s->log);

	snprintf(s->log + len, sizeof(s->log) - len, "[%s|%s|%s]", event, data, id);
	s->n++;
	return !(s->stop_after && s->n >= s->stop_after);
}

/* Feed `text` in pieces of `step` bytes. */
static bool feed(struct seen *s, const char *text, size_t step)
{
	struct vagent__sse p;
	size_t len = strlen(text);
	bool ok = true;

	vagent__sse_init(&p, on_event, s);
	for (size_t i = 0; i < len && ok; i += step)
		ok = vagent__sse_feed(&p, text + i, len - i < step ? len - i : step);
	vagent__sse_release(&p);
	return ok;
}

static const char stream[] =
	"\xEF\xBB\xBF: a comment\n"
	"data: {\"a\":1}\n\n"
	"event: content_block_delta\r\n"
	"data: line one\r\n"
	"data:line two\r\n"
	"id: 7\r\n\r\n"
	"data: cr only\r\r"
	"event: ping\n\n"          /* no data: not dispatched */
	"data\n\n"                 /* a field without a colon: empty data */
	"retry: 100\n"
	"unknown: x\n"
	"data: [DONE]\n\n"
	"data: partial, never ended";

static const char expected[] =
	"[message|{\"a\":1}|][content_block_delta|line one\nline two|7]"
	"[message|cr only|7][message||7][message|[DONE]|7]";

START_TEST(test_any_chunking)
{
	/* every piece size from one byte to the whole stream */
	for (size_t step = 1; step <= sizeof(stream); step++) {
		struct seen s = { 0 };

		ck_assert(feed(&s, stream, step));
		ck_assert_msg(!strcmp(s.log, expected), "step %zu: %s", step, s.log);
	}
}
END_TEST

START_TEST(test_callback_stops)
{
	struct seen s = { .stop_after = 2 };

	ck_assert(!feed(&s, stream, 5));
	ck_assert_int_eq(s.n, 2);
}
END_TEST

START_TEST(test_oversized_event)
{
	struct vagent__sse p;
	struct seen s = { 0 };
	char line[300];

	vagent__sse_init(&p, on_event, &s);
	p.max_event = 1000;
	memset(line, 'x', sizeof(line));
	memcpy(line, "data: ", 6);
	line[sizeof(line) - 1] = '\n';
	ck_assert(vagent__sse_feed(&p, line, sizeof(line)));
	ck_assert(vagent__sse_feed(&p, line, sizeof(line)));
	ck_assert(vagent__sse_feed(&p, line, sizeof(line)));
	ck_assert(!vagent__sse_feed(&p, line, sizeof(line)));
	ck_assert_int_eq(s.n, 0);
	vagent__sse_release(&p);
}
END_TEST

Suite *suite_sse(void)
{
	Suite *s = suite_create("sse");
	TCase *tc = tcase_create("parse");

	tcase_add_test(tc, test_any_chunking);
	tcase_add_test(tc, test_callback_stops);
	tcase_add_test(tc, test_oversized_event);
	suite_add_tcase(s, tc);
	return s;
}
