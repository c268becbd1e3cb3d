/*
 * fake_openai.h — a loopback fake of OpenAI's streaming Chat Completions
 * endpoint (POST /v1/chat/completions, SSE) — or, with `anthropic`, of
 * Anthropic's Messages endpoint (POST /v1/messages) — for tests: scripted replies
 * matched on the last message, a configurable pace, and faults (slow first
 * byte, stall, malformed chunk, in-stream error, 429/500/401, abrupt
 * close). Plain sockets and one thread; no vagent dependency (cJSON only),
 * so tests/fake/fake_openai_main.c serves it to the npm fidelity test.
 */
#ifndef VAGENT_TESTS_FAKE_OPENAI_H
#define VAGENT_TESTS_FAKE_OPENAI_H

#include <stdbool.h>

enum fake_fault {
	FAKE_NONE,
	FAKE_SLOW_FIRST_BYTE,   /* wait fault_ms before answering */
	FAKE_STALL,             /* after fault_after chunks, go quiet for
				 * fault_ms (until the client closes) */
	FAKE_MALFORMED,         /* after fault_after chunks, a chunk that is
				 * not JSON */
	FAKE_STREAM_ERROR,      /* after fault_after chunks, an {"error"}
				 * event, then close */
	FAKE_ABRUPT_CLOSE,      /* after fault_after chunks, close (no [DONE]) */
	FAKE_HTTP_429,          /* 429 with retry-after: retry_after */
	FAKE_HTTP_500,
	FAKE_HTTP_401,
	FAKE_HTTP_529,          /* Anthropic's "overloaded" */
};

struct fake_reply {
	const char *match;       /* substring of the last message's content
				  * (user or tool); NULL or "": any */
	const char *text;        /* streamed as word deltas; may be NULL */
	const char *tool_name;   /* a tool call after the text; NULL: none */
	const char *tool_args;   /* its JSON arguments (split in fragments) */
	const char *finish;      /* finish_reason; NULL: stop / tool_calls */
	enum fake_fault fault;
	int fault_after;         /* chunks sent before the fault */
	int fault_ms;
	const char *retry_after; /* the 429's retry-after header; NULL: none */
	int fault_times;         /* the fault hits the first N matches; 0: all */
	int hits;                /* (state) matches so far */
};

struct fake_openai_config {
	struct fake_reply *replies;  /* first match wins; not copied */
	int n_replies;
	int pace_ms;                 /* between chunks; 0 */
	const char *api_key;         /* required key (Bearer, or x-api-key for
				      * Anthropic); NULL: any */
	bool anthropic;              /* speak Anthropic Messages */
	int port;                    /* 0: any free port */
};

struct fake_openai;

/* Start serving on 127.0.0.1 (NULL on failure). */
struct fake_openai *fake_openai_start(const struct fake_openai_config *cfg);
/* "http://127.0.0.1:PORT/v1" */
const char *fake_openai_url(const struct fake_openai *f);
int fake_openai_port(const struct fake_openai *f);
/* Requests answered so far, and the body of request i (malloc'd, or NULL). */
int fake_openai_requests(struct fake_openai *f);
char *fake_openai_request_body(struct fake_openai *f, int i);
/* The key request i carried (Authorization or x-api-key; malloc'd, or NULL). */
char *fake_openai_request_auth(struct fake_openai *f, int i);
/* Wait (up to timeout_ms) until the client has closed `n` streams before
 * their end; returns the count seen. */
int fake_openai_wait_closed(struct fake_openai *f, int n, int timeout_ms);
/* Stop and free (NULL: no-op). */
void fake_openai_stop(struct fake_openai *f);

#endif
