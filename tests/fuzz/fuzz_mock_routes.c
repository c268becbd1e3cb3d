/*
 * fuzz_mock_routes.c — libFuzzer harness for the mock HTTP server's routes
 * file (lib/mock/routes.c): the parser and checker, then the dispatcher on
 * requests made from the file's own paths (every route, twice with one
 * Idempotency-Key), without sockets.
 */
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "mock/mock_int.h"

static const char name[] = "fuzz.json";

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* A well-formed outcome: a real status, header lines, a body. */
static void check_outcome(const struct vagent__mock_outcome *o)
{
	size_t n;

	if (o->status < 100 || o->status > 599 || !o->headers || !o->body)
		abort();
	n = strlen(o->headers);
	if ((n && (n < 2 || strcmp(o->headers + n - 2, "\r\n"))) || o->body_len != strlen(o->body))
		abort();
	for (const char *p = o->headers; *p; p++)
		if (*p == '\n' && (p == o->headers || p[-1] != '\r'))
			abort(); /* a header value broke its line */
}

/* The route's path with every {param} replaced by `value`. */
static void make_target(const struct vagent__mock_route *rt, const char *value, char *out,
			size_t cap)
{
	size_t len = 0;

	out[0] = '\0';
	for (size_t i = 0; i < rt->n_segs && len + 2 < cap; i++) {
		const char *seg = rt->segs[i][0] == '{' ? value : rt->segs[i];
		size_t k = strlen(seg);

		if (len + 1 + k + 1 >= cap)
			break;
		out[len++] = '/';
		memcpy(out + len, seg, k);
		len += k;
		out[len] = '\0';
	}
	if (!len)
		strcpy(out, "/");
	if (len + 16 < cap)
		strcat(out, "?q=1&kind=a");
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct vagent__mock_routes *r = NULL;
	struct vagent_error err;
	char *text = malloc(size + 1);
	vagent_status st;

	if (!text)
		return 0;
	memcpy(text, data, size);
	text[size] = '\0';
	st = vagent__mock_routes_parse(text, name, &r, &err);
	if (st != VAGENT_OK) {
		if ((st != VAGENT_EINVAL && st != VAGENT_EFORMAT && st != VAGENT_ENOMEM) ||
		    strncmp(err.message, "fuzz.json: ", 11) || strchr(err.message, '\n') || r)
			abort();
		free(text);
		return 0;
	}
	for (size_t i = 0; i < r->n_routes; i++) {
		const struct vagent__mock_route *rt = &r->routes[i];
		const char *values[] = { "12345", "a%20b", "" };
		struct vagent__mock_header headers[] = {
			{ "Idempotency-Key", "k" }, { "X-Mode", "test" },
		};

		for (size_t v = 0; v < 3; v++) {
			char target[1024];
			struct vagent__mock_request req = {
				.method = strcmp(rt->method, "*") ? rt->method : "PATCH",
				.target = target,
				.headers = headers, .n_headers = 2,
				.body = "{\"amount\": 12.5, \"date\": \"2026-12-20\", \"a\": [1, {\"b\": null}]}",
			};

			req.body_len = strlen(req.body);
			make_target(rt, values[v], target, sizeof(target));
			for (int twice = 0; twice < 2; twice++) {
				struct vagent__mock_outcome o;

				if (vagent__mock_dispatch(r, &req, &o) != VAGENT_OK)
					continue; /* out of memory */
				check_outcome(&o);
				vagent__mock_outcome_release(&o);
			}
		}
	}
	{
		char *stats = vagent__mock_stats_json(r);
		free(stats);
	}
	vagent__mock_routes_reset(r);
	vagent__mock_routes_free(r);
	free(text);
	return 0;
}
