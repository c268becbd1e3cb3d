/*
 * http_stream_int.h — private interface of lib/net's streaming HTTP
 * client (libcurl multi driven by a vagent_loop) and its Server-Sent
 * Events parser, shared by the cloud LLM brains (lib/llm).
 */
#ifndef VAGENT_NET_HTTP_STREAM_INT_H
#define VAGENT_NET_HTTP_STREAM_INT_H

#include <stdbool.h>
#include <stddef.h>

#include "core/internal.h"

/* ---- Server-Sent Events (lib/net/sse.c) -------------------------------
 * Bytes in (any chunking), events out: `event`, `data` (data lines joined
 * with "\n"), `id` fields; lines end in LF, CRLF or CR; ":" lines are
 * comments; a blank line dispatches (an event without data is dropped, as
 * the spec says). The callback returns false to stop the parser at once
 * (its owner may be going away); feed then returns false too. */
typedef bool (*vagent__sse_fn)(void *ctx, const char *event, const char *data,
			       const char *id);

struct vagent__sse {
	vagent__sse_fn fn;
	void *ctx;
	struct vagent__strbuf line;     /* the line being received */
	struct vagent__strbuf data;     /* this event's data so far */
	struct vagent__strbuf event;    /* this event's type ("" = message) */
	struct vagent__strbuf id;       /* the last event id */
	bool has_data;
	bool after_cr;                  /* the last byte was CR: skip an LF */
	bool bom_checked;
	bool oom;
	size_t max_event;               /* bytes per event; 1 MiB */
};

void vagent__sse_init(struct vagent__sse *p, vagent__sse_fn fn, void *ctx);
/* false: the callback stopped it, an event grew past max_event or memory
 * ran out (p->oom). */
bool vagent__sse_feed(struct vagent__sse *p, const char *buf, size_t n);
void vagent__sse_release(struct vagent__sse *p);

/* ---- Streaming HTTP on the loop (lib/net/http_stream.c) ---------------
 * One libcurl multi handle driven by the loop's fd watchers and a timer;
 * every callback runs on the loop thread. On a virtual clock the network
 * still runs in real time: while a transfer is in flight the client keeps
 * a worker job outstanding that lasts up to VAGENT__HTTP_HOLD_MS of real
 * time (less when the network has something) and is charged that much,
 * so the virtual clock moves at least as fast as the wire and never
 * jumps ahead of an answer that has not come (a loop without workers
 * cannot hold: the clock then runs ahead). */
#define VAGENT__HTTP_HOLD_MS 5

struct vagent__http;
struct vagent__http_req;

struct vagent__http_result {
	vagent_status st;            /* OK: the transfer completed (any HTTP
				      * status); else the failure */
	long status;                 /* HTTP status, 0 when none came */
	const char *body;            /* a non-2xx answer's body (<= 8 KiB),
				      * "" otherwise */
	double retry_after_s;        /* retry-after-ms / retry-after; < 0:
				      * none (or an HTTP date) */
	bool should_retry_false;     /* x-should-retry: false */
	bool got_bytes;              /* some 2xx body bytes were delivered */
	const char *message;         /* the failure, one line, naming the
				      * provider; "" when st is OK */
};

struct vagent__http_request {
	const char *name;            /* provider name for messages ("openai") */
	const char *url;             /* credentials in it are never printed */
	const char *const *headers;  /* "Name: value", NULL-terminated; may be NULL */
	const char *body;            /* POSTed when non-NULL (copied) */
	int connect_timeout_ms;      /* 0: 10000 */
	int first_byte_timeout_ms;   /* from the start to the first body byte; 0: none */
	int idle_timeout_ms;         /* between body bytes after the first; 0: none */
	int total_timeout_ms;        /* 0: none */
	/* 2xx body bytes as they arrive. May call vagent__http_cancel. */
	void (*on_data)(void *ctx, const char *buf, size_t n);
	/* Once, at the end (not after a cancel); the request is freed after. */
	void (*on_done)(void *ctx, const struct vagent__http_result *r);
	void *ctx;
};

vagent_status vagent__http_new(struct vagent_loop *loop, struct vagent__http **out,
			       struct vagent_error *err);
/* Cancel every request (no callbacks) and free; NULL is a no-op. From one
 * of its own callbacks the memory goes when the callback returns. */
void vagent__http_free(struct vagent__http *h);
/* Start a request; *out identifies it until on_done or a cancel. */
vagent_status vagent__http_start(struct vagent__http *h,
				 const struct vagent__http_request *rq,
				 struct vagent__http_req **out,
				 struct vagent_error *err);
/* Stop a request at once (the connection is closed); no callback follows.
 * NULL is a no-op. Safe from its own on_data. */
void vagent__http_cancel(struct vagent__http_req *r);
/* Requests in flight. */
size_t vagent__http_active(const struct vagent__http *h);

/* Redact a header line for debug output: "Authorization: <redacted>" for
 * Authorization, Cookie and any header whose name has "key" or "token". */
void vagent__http_header_redact(const char *line, char *out, size_t size);

#endif
