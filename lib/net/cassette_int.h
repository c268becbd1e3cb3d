/*
 * cassette_int.h — the transports' side of provider cassettes
 * (lib/net/cassette.c, docs/cassettes.md): a cassette rides on the loop
 * the providers run on; the HTTP and WebSocket transports ask the loop
 * for it and either record their exchanges into it or play recorded ones
 * back on loop timers instead of touching the network.
 */
#ifndef VAGENT_NET_CASSETTE_INT_H
#define VAGENT_NET_CASSETTE_INT_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>

#include "core/internal.h"

/* The cassette a loop carries (set when the loop was created on a thread
 * bound with vagent_cassette_bind), or NULL. lib/loop/loop.c. */
struct vagent_cassette *vagent__loop_cassette(const struct vagent_loop *loop);
/* The cassette bound to the calling thread, with a new reference (the
 * loop's), or NULL. */
struct vagent_cassette *vagent__cassette_bound_ref(void);
bool vagent__cassette_replaying(const struct vagent_cassette *c);

/* ---- HTTP (lib/net/http_stream.c) ------------------------------------ */

struct vagent__cassette_http;

/* Recording: begin an exchange when the request starts (method "POST"
 * when there is a body, else "GET"); the key-bearing headers and query
 * parameters are redacted, and their values kept as secrets that are
 * masked wherever they would be written. NULL when out of memory (the
 * request then goes unrecorded and the cassette notes the failure). */
struct vagent__cassette_http *vagent__cassette_http_record(
	struct vagent_cassette *c, struct vagent_loop *loop, const char *provider,
	const char *url, const char *const *headers, const char *body);
/* A 2xx body chunk as it arrived. */
void vagent__cassette_http_chunk(struct vagent__cassette_http *x,
				 const char *buf, size_t n);
/* The end (completion, failure or cancel): the exchange is written and
 * freed. */
void vagent__cassette_http_end(struct vagent__cassette_http *x, vagent_status st,
			       const char *message, long status,
			       double retry_after_s, bool should_retry_false,
			       const char *error_body, bool cancelled);

/* Replay: what the player hands the transport, on the loop. After `done`
 * the player is finished (still free it). */
struct vagent__cassette_http_sink {
	void (*data)(void *ctx, const char *buf, size_t n);
	void (*done)(void *ctx, vagent_status st, const char *message, long status,
		     double retry_after_s, bool should_retry_false,
		     const char *error_body);
	void *ctx;
};

/* Match a request to the next unused recorded exchange and play it on
 * loop timers at the recorded offsets. A miss plays a failure at once
 * (EPROVIDER, not to be retried, the miss line as message). NULL only
 * when out of memory. */
struct vagent__cassette_http *vagent__cassette_http_replay(
	struct vagent_cassette *c, struct vagent_loop *loop, const char *provider,
	const char *url, const char *body, const struct vagent__cassette_http_sink *sink);
/* Stop a player (no callback follows) and free it; NULL is a no-op.
 * Safe from its own callbacks. */
void vagent__cassette_http_free(struct vagent__cassette_http *x);

/* ---- a blocking request off the loop (a worker: OpenAI transcription) -
 * Recorded as an "http" exchange whose body is `form` (a JSON object of
 * the form fields; file parts are not recorded) and whose response is one
 * chunk at `took_ms`. */
struct vagent__cassette_answer {
	long status;                 /* 0: the transfer failed (st, message) */
	char *body;                  /* malloc'd (replay), or NULL */
	int retry_after_ms;          /* -1: none */
	vagent_status st;
	char message[320];
};
void vagent__cassette_blocking_record(struct vagent_cassette *c, const char *provider,
				      const char *url, const char *const *headers,
				      const char *form, double took_ms,
				      const struct vagent__cassette_answer *a);
/* Replay: the next unused matching exchange's answer into *a after
 * waiting its recorded time (in steps, giving up when *cancel turns
 * true); false for a miss (a->message is the miss line, also noted in the
 * cassette). */
bool vagent__cassette_blocking_replay(struct vagent_cassette *c, const char *provider,
				      const char *url, const char *form,
				      const atomic_bool *cancel,
				      struct vagent__cassette_answer *a);

/* ---- WebSocket (lib/net/ws_client.c) --------------------------------- */

struct vagent__cassette_ws;

struct vagent__cassette_ws *vagent__cassette_ws_record(
	struct vagent_cassette *c, struct vagent_loop *loop, const char *provider,
	const char *url, const char *const *headers);
/* Recording: the client sent a message / the transport delivered an
 * event to its owner (kind: 'o'pen, 'm'essage, 'c'lose, 'e'rror). */
void vagent__cassette_ws_sent(struct vagent__cassette_ws *x, bool binary,
			      const void *data, size_t len);
void vagent__cassette_ws_event(struct vagent__cassette_ws *x, char kind,
			       bool binary, const void *data, size_t len,
			       int code, vagent_status st);
/* Replay: the callbacks the player calls on the loop. */
struct vagent__cassette_ws_sink {
	void (*open)(void *ctx);
	void (*message)(void *ctx, bool binary, const void *data, size_t len);
	void (*close)(void *ctx, int code, const char *reason);
	void (*error)(void *ctx, vagent_status st, int http_status, const char *message);
	void *ctx;
};
struct vagent__cassette_ws *vagent__cassette_ws_replay(
	struct vagent_cassette *c, struct vagent_loop *loop, const char *provider,
	const char *url, const struct vagent__cassette_ws_sink *sink);
/* Replay: the client sends (text is compared with the recording; a
 * difference ends the connection with close 1011 and a cassette miss),
 * or closes (the recorded events still due follow). */
void vagent__cassette_ws_send(struct vagent__cassette_ws *x, bool binary,
			      const void *data, size_t len);
void vagent__cassette_ws_closing(struct vagent__cassette_ws *x);
/* No more callbacks; a recording is written. Then free. NULL: no-op. */
void vagent__cassette_ws_end(struct vagent__cassette_ws *x);
void vagent__cassette_ws_free(struct vagent__cassette_ws *x);

/* The parser on its own (fuzzing, tests): parse a cassette file's text. */
vagent_status vagent__cassette_parse(const char *text, size_t len, const char *path,
				     struct vagent_cassette **out,
				     struct vagent_error *err);

#endif
