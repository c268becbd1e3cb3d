/*
 * ws_server.h — a minimal RFC 6455 server side for the tests' WebSocket
 * fakes (Deepgram, Cartesia, ElevenLabs): the HTTP upgrade, framing of what
 * the fake sends, parsing of the client's masked frames. Not a general
 * server: one blocking socket per connection, no extensions, no TLS.
 * Each fake keeps its own protocol, threads and fault injection.
 */
#ifndef VAGENT_TESTS_WS_SERVER_H
#define VAGENT_TESTS_WS_SERVER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define WS_TEXT   1
#define WS_BINARY 2
#define WS_CLOSE  8
#define WS_PING   9
#define WS_PONG   10

/* One connection as the fakes see it (the server thread's only). */
struct ws_conn {
	int fd;
	bool dead;                /* the socket failed or the fake let it go: stop serving */
	bool closing;             /* a close frame has been sent */
	char req[8192];           /* the HTTP request head (NUL-terminated) */
	size_t req_len;
	unsigned char *in;        /* received frames not yet parsed */
	size_t in_len, in_cap;
	unsigned char *msg;       /* the (fragmented) message being assembled */
	size_t msg_len, msg_cap;
	int msg_opcode;
};

/* What the fake does with the client's messages and close. */
struct ws_handlers {
	/* a whole message (any opcode but control ones); data is writable */
	void (*on_message)(void *arg, int opcode, unsigned char *data, size_t len);
	/* the client's close frame (code 1005 when it has none); the fake
	 * answers it if it wants to; the connection is dead afterwards */
	void (*on_close)(void *arg, int code);
};

/* printf into a malloc'd string (aborts the test on failure). */
char *ws_fmt(const char *f, ...) __attribute__((format(printf, 1, 2)));

/* CLOCK_MONOTONIC in milliseconds. */
int64_t ws_now_ms(void);

/* Send all of `data`, waiting while the socket is full; marks the
 * connection dead when it fails. */
void ws_send_all(struct ws_conn *ws, const void *data, size_t len);

/* One unfragmented frame (7, 16 or 64-bit length, unmasked). */
void ws_send_frame(struct ws_conn *ws, int opcode, const void *data, size_t len);

/* A text frame of the malloc'd `text`, then frees it. */
void ws_send_text_and_free(struct ws_conn *ws, char *text);

/* A close frame with `code` and `reason` (cut to 125 bytes); sets closing. */
void ws_send_close(struct ws_conn *ws, int code, const char *reason);

/* Append received bytes to ws->in (for ws_parse_frames). */
void ws_feed(struct ws_conn *ws, const void *data, size_t len);

/* Parse the complete frames in ws->in: masked client frames up to 64 MiB
 * (else close 1002 and dead), pings answered, pongs ignored, fragments
 * assembled and each message handed to h->on_message, a close frame to
 * h->on_close. Returns how many frames were consumed. */
int ws_parse_frames(struct ws_conn *ws, const struct ws_handlers *h, void *arg);

/* Add received bytes to the request head. Returns the head's length
 * (through the blank line) once complete, 0 while incomplete, -1 when
 * the request does not fit ws->req. */
long ws_request_add(struct ws_conn *ws, const void *data, size_t len);

/* The value of header `name` (case-insensitive) in the request head
 * `req`, into out (cut to cap); "" and false when absent. */
bool http_header(const char *req, const char *name, char *out, size_t cap);

/* The value of `name` in the query string `q` (no decoding). */
bool http_query_param(const char *q, const char *name, char *out, size_t cap);

/* "HTTP/1.1 <status> <reason>" with a JSON `body`, `extra_headers` (each
 * ending in CRLF, may be ""), Connection: close; marks the connection dead. */
void http_reply(struct ws_conn *ws, int status, const char *extra_headers, const char *body);

/* Accept the upgrade: 101 with Sec-WebSocket-Accept = base64(SHA1(key +
 * GUID)) for the client's Sec-WebSocket-Key `key`, plus `extra_headers`. */
void ws_upgrade_accept(struct ws_conn *ws, const char *key, const char *extra_headers);

/* Frees the buffers (not the socket). */
void ws_conn_release(struct ws_conn *ws);

#endif
