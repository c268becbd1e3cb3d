/*
 * mock_int.h — the mock HTTP server's private declarations: the parsed
 * routes file and the request-to-response logic (routes.c), kept apart from
 * the sockets (mock_http.c) so each can be read on its own.
 */
#ifndef VAGENT_MOCK_INT_H
#define VAGENT_MOCK_INT_H

#include <cjson/cJSON.h>

#include "core/internal.h"

/* One answer a route can give: a status, headers and body (templates
 * pointing into the parsed file), and its faults. */
struct vagent__mock_reply {
	int status;
	const cJSON *headers;          /* object of string templates, or NULL */
	const cJSON *body;             /* JSON template, or NULL */
	const char *text;              /* raw text template, or NULL */
	const char *malformed;         /* sent instead of the body, or NULL */
	int delay_ms;
	bool hang, close;
};

struct vagent__mock_idem {             /* a stored response of an action */
	struct vagent__mock_idem *next;
	char *key, *request;           /* key, and the method, target and body
					* it came with */
	size_t route;                  /* the route that performed it */
	int status;
	char *headers, *body;
	size_t body_len;
};

struct vagent__mock_route {
	char *name;
	const char *method, *path;
	char **segs;                   /* literal segments or "{param}" */
	size_t n_segs;
	const cJSON *query;            /* object: param -> required value ("*": any) */
	bool performs;
	const char *table;             /* table name, or NULL */
	const char *key;               /* key template */
	struct vagent__mock_reply missing;
	struct vagent__mock_reply *replies;
	size_t n_replies;
	const cJSON *update;           /* object of templates set into the row */
	const cJSON *when;             /* object: placeholder -> value(s), or NULL */
	/* state, under the server's lock */
	uint64_t received, performed, replayed;
	size_t next_reply;
};

struct vagent__mock_routes {
	cJSON *doc;                    /* the parsed file (templates point here) */
	cJSON *tables;                 /* working copy of doc's "tables" */
	struct vagent__mock_route *routes;
	size_t n_routes;
	uint64_t requests, unmatched;
	struct vagent__mock_idem *idem;  /* stored answers by Idempotency-Key */
};

/* A request as the server parsed it. Strings are NUL-terminated. */
struct vagent__mock_header {
	const char *name, *value;
};

struct vagent__mock_request {
	const char *method;
	const char *target;            /* path and query, as sent */
	const struct vagent__mock_header *headers;
	size_t n_headers;
	const char *body;
	size_t body_len;
};

/* What to do with a request: the response parts and the faults. */
struct vagent__mock_outcome {
	int status;
	char *headers;                 /* "Name: value\r\n" lines (owned) */
	char *body;                    /* owned */
	size_t body_len;
	int delay_ms;
	bool hang, close;
	bool replayed, performed;
	const char *route;             /* the route's name, or NULL */
};

/* Parse and check a routes file; `name` prefixes errors. */
vagent_status vagent__mock_routes_parse(const char *json, const char *name,
					struct vagent__mock_routes **out,
					struct vagent_error *err);
void vagent__mock_routes_free(struct vagent__mock_routes *r);
void vagent__mock_routes_reset(struct vagent__mock_routes *r);

/* Answer `req` (the caller holds the server's lock). ENOMEM only. */
vagent_status vagent__mock_dispatch(struct vagent__mock_routes *r,
				    const struct vagent__mock_request *req,
				    struct vagent__mock_outcome *out);
void vagent__mock_outcome_release(struct vagent__mock_outcome *o);

/* The stats document (transfer full), NULL when out of memory. */
char *vagent__mock_stats_json(const struct vagent__mock_routes *r);

/* The value of header `name` (case-insensitive), or NULL. */
const char *vagent__mock_header(const struct vagent__mock_request *req,
				const char *name);

/* "OK", "Not Found", ... ("Unknown" for others). */
const char *vagent__mock_reason(int status);

#endif
