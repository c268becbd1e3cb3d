/*
 * tools.c — the tools provider: runs the agent's tools (HTTP through
 * libcurl on loop workers, or mocks answering on loop timers) behind the
 * `struct vagent_tools` slot, with argument validation, guards, retries
 * with backoff and Retry-After, an Idempotency-Key stable across the
 * retries of one call, and a record of every attempt (docs/tools.md).
 */
#include <math.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/random.h>
#include <time.h>
#include <unistd.h>

#include "sim/sim_int.h"
#include "tools/tools_int.h"
#include "trace/trace_int.h"   /* vagent__utf8_valid */

#define MAX_RETRIES      10
#define MAX_ATTEMPTS     (MAX_RETRIES + 1)
#define KEEP_FINISHED    32
#define EXCERPT_CHARS    60
#define STREAM_BACKOFF   UINT64_C(0x7002)
#define STREAM_MOCK      UINT64_C(0x7003)

struct tool {
	char *name;
	char *method, *url;              /* url NULL: mock */
	cJSON *schema;                   /* NULL: any object */
	cJSON *body;                     /* template; NULL: the arguments */
	char **headers; size_t n_headers;
	int timeout_ms, retries, backoff_ms, max_backoff_ms;
	size_t max_bytes;
	char *guard_arg;
	double guard_max;
	char *mock_result;
	struct vagent_latency mock_latency;
	struct vagent_fault *faults; size_t n_faults;
	int mock_requests;               /* fault numbering: per request */
	struct vagent_tool_stats stats;
};

/* What one attempt came to. */
enum outcome_kind {
	OUT_OK,
	OUT_TIMEOUT,
	OUT_CONNECT,                     /* no connection / connection lost */
	OUT_HTTP,                        /* a status other than 2xx */
	OUT_TOO_LARGE,
	OUT_MALFORMED,
	OUT_INTERNAL,
};

struct outcome {
	enum outcome_kind kind;
	int http_status;
	int64_t retry_after_ms;          /* -1: none */
	char *result;                    /* OK: the JSON (owned) */
	char detail[96];                 /* reason / body excerpt */
};

struct attempt {
	int64_t start, end;              /* loop ticks; end -1: running */
	char outcome[40];
	int http_status;
};

enum phase { PHASE_NONE, PHASE_ANSWER, PHASE_BACKOFF, PHASE_MOCK };

struct tools_prov;

struct call {
	struct call *next;
	struct tools_prov *p;
	struct tool *tool;
	uint64_t id;
	bool dead, cancelled, refused;
	enum phase phase;
	struct vagent_timer *timer;
	/* the request, built once */
	char *url, *body;
	char **headers; size_t n_headers;
	char key[48];
	char shown_url[160];             /* redacted, for messages */
	int64_t start, deadline;         /* deadline -1: no budget */
	struct attempt att[MAX_ATTEMPTS];
	int n_att;
	struct vagent__http_job *job;
	/* mock attempt in progress */
	struct outcome mock_out;
	bool mock_perform_at_end, mock_performed;
	/* the answer */
	vagent_status st;
	char *result;
};

struct finished {
	uint64_t id;
	char *json;
};

struct tools_prov {
	struct vagent_tools base;
	struct tool *tools; size_t n_tools;
	struct vagent__vars vars;
	int total_timeout_ms;
	struct vagent__rng backoff_rng, mock_rng;
	struct call *calls;
	int busy;
	bool freeing;
	struct finished done[KEEP_FINISHED];
	size_t done_next;
};

static const struct vagent_tools_ops tools_ops;

/* ---- helpers -------------------------------------------------------- */

static char *xstrdup(const char *s, bool *ok)
{
	char *d;

	if (!s)
		return NULL;
	d = strdup(s);
	if (!d)
		*ok = false;
	return d;
}

static int64_t ms_ticks(int64_t ms)
{
	return vagent_ticks_from_ms(ms);
}

static void fmt_number(char *out, size_t size, double d)
{
	if (d == floor(d) && fabs(d) < 1e15)
		snprintf(out, size, "%.0f", d);
	else
		snprintf(out, size, "%.15g", d);
}

/* A printable one-line excerpt of a response body. */
static void excerpt(char *out, size_t size, const char *s, size_t len)
{
	size_t i, o = 0;

	for (i = 0; i < len && o + 4 < size && i < EXCERPT_CHARS; i++) {
		unsigned char c = (unsigned char)s[i];

		out[o++] = (c < 0x20 || c == 0x7f) ? ' ' : (char)c;
	}
	if (i < len && o + 4 < size) {
		memcpy(out + o, "...", 3);
		o += 3;
	}
	out[o] = '\0';
}

/* A unique Idempotency-Key: from the system's random source (keys must
 * not repeat across runs, so they do not come from the seed). */
static void make_key(char *out, size_t size)
{
	unsigned char r[16];
	size_t i;

	if (getrandom(r, sizeof(r), 0) != (ssize_t)sizeof(r)) {
		struct timespec ts;
		uint64_t a, b;
		struct vagent__rng g;

		clock_gettime(CLOCK_REALTIME, &ts);
		vagent__rng_seed(&g, (uint64_t)ts.tv_nsec ^ ((uint64_t)ts.tv_sec << 20),
				 (uint64_t)getpid());
		a = vagent__rng_next(&g);
		b = vagent__rng_next(&g);
		memcpy(r, &a, 8);
		memcpy(r + 8, &b, 8);
	}
	for (i = 0; i < sizeof(r) && 2 * i + 2 < size; i++)
		snprintf(out + 2 * i, 3, "%02x", r[i]);
}

/* ---- call lifetime -------------------------------------------------- */

static void outcome_clear(struct outcome *o)
{
	free(o->result);
	memset(o, 0, sizeof(*o));
	o->retry_after_ms = -1;
}

static void call_free(struct call *c)
{
	size_t i;

	vagent_timer_free(c->timer);
	free(c->url);
	free(c->body);
	for (i = 0; i < c->n_headers; i++)
		free(c->headers[i]);
	free(c->headers);
	outcome_clear(&c->mock_out);
	free(c->result);
	free(c);
}

static void prov_destroy(struct tools_prov *p)
{
	size_t i, j;

	for (i = 0; i < p->n_tools; i++) {
		struct tool *t = &p->tools[i];

		free(t->name);
		free(t->method);
		free(t->url);
		cJSON_Delete(t->schema);
		cJSON_Delete(t->body);
		for (j = 0; j < t->n_headers; j++)
			free(t->headers[j]);
		free(t->headers);
		free(t->guard_arg);
		free(t->mock_result);
		free(t->faults);
	}
	free(p->tools);
	for (i = 0; i < p->vars.n; i++) {
		free(p->vars.names[i]);
		free(p->vars.values[i]);
	}
	free(p->vars.names);
	free(p->vars.values);
	for (i = 0; i < KEEP_FINISHED; i++)
		free(p->done[i].json);
	free(p);
}

/* Free the calls that ended, unless a callback is running; destroy the
 * provider when its free() was called and nothing is left. */
static void sweep(struct tools_prov *p)
{
	struct call **pp = &p->calls;

	if (p->busy)
		return;
	while (*pp) {
		struct call *c = *pp;

		if (c->dead || p->freeing) {
			*pp = c->next;
			call_free(c);
		} else {
			pp = &c->next;
		}
	}
	if (p->freeing)
		prov_destroy(p);
}

/* Stop a call: no more callbacks; a running HTTP attempt is aborted and
 * its job, which may finish later, frees itself. */
static void call_end(struct call *c)
{
	c->dead = true;
	vagent_timer_stop(c->timer);
	if (c->job) {
		c->job->owner = NULL;
		vagent__http_job_abort(c->job);
		c->job = NULL;
	}
}

/* ---- the attempt record -------------------------------------------- */

static void attempts_json(const struct call *c, struct vagent__strbuf *b)
{
	int64_t origin = c->p->base.origin;
	int i;

	vagent__strbuf_puts(b, "{\"tool\":");
	{
		cJSON *s = cJSON_CreateString(c->tool ? c->tool->name : "");
		char *txt = s ? cJSON_PrintUnformatted(s) : NULL;

		if (txt)
			vagent__strbuf_puts(b, txt);
		else
			b->oom = true;
		free(txt);
		cJSON_Delete(s);
	}
	vagent__strbuf_printf(b, ",\"id\":%llu,\"idempotency_key\":\"%s\",\"status\":\"%s\",\"attempts\":[",
			      (unsigned long long)c->id, c->key,
			      c->cancelled ? "cancelled" : c->dead
			      ? vagent_status_name(c->st) : "running");
	for (i = 0; i < c->n_att; i++) {
		const struct attempt *a = &c->att[i];
		int64_t start_us = vagent_ticks_to_us(a->start - origin);

		if (start_us < 0)       /* before the session's t = 0 */
			start_us = 0;

		vagent__strbuf_printf(b, "%s{\"n\":%d,\"start_ms\":%lld.%03lld,",
				      i ? "," : "", i + 1,
				      (long long)(start_us / 1000),
				      (long long)(start_us % 1000));
		if (a->end >= 0) {
			int64_t d = vagent_ticks_to_us(a->end - a->start);

			vagent__strbuf_printf(b, "\"duration_ms\":%lld.%03lld,",
					      (long long)(d / 1000),
					      (long long)(d % 1000));
		}
		vagent__strbuf_printf(b, "\"outcome\":\"%s\"", a->outcome);
		if (a->http_status)
			vagent__strbuf_printf(b, ",\"http_status\":%d",
					      a->http_status);
		vagent__strbuf_puts(b, "}");
	}
	vagent__strbuf_puts(b, "]}");
}

static void remember(struct tools_prov *p, const struct call *c)
{
	struct vagent__strbuf b = { 0 };
	struct finished *f = &p->done[p->done_next];

	if (!c->tool)
		return;
	attempts_json(c, &b);
	free(f->json);
	f->json = vagent__strbuf_detach(&b);
	f->id = c->id;
	p->done_next = (p->done_next + 1) % KEEP_FINISHED;
}

/* ---- answering ------------------------------------------------------ */

/* Deliver the call's answer now (on the loop thread, from a timer). */
static void deliver(struct call *c)
{
	struct tools_prov *p = c->p;

	call_end(c);
	if (c->tool) {
		if (c->st == VAGENT_OK)
			c->tool->stats.succeeded++;
		else if (!c->refused)
			c->tool->stats.failed++;
	}
	remember(p, c);
	p->busy++;
	p->base.on_result(p->base.ctx, c->id, c->st,
			  c->result ? c->result : "out of memory");
	p->busy--;
	sweep(p);
}

/* Answer at the next turn of the loop (never from inside call()). */
static void answer_soon(struct call *c, vagent_status st, char *result)
{
	free(c->result);
	c->st = st;
	c->result = result;
	c->phase = PHASE_ANSWER;
	if (vagent_timer_start(c->timer, 0, 0, NULL) != VAGENT_OK)
		deliver(c);
}

static void answer_msg(struct call *c, vagent_status st, const char *fmt, ...)
	VAGENT__PRINTF(3, 4);

static void answer_msg(struct call *c, vagent_status st, const char *fmt, ...)
{
	char msg[400];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	answer_soon(c, st, strdup(msg));
}

/* ---- attempts ------------------------------------------------------- */

static void start_attempt(struct call *c);

static bool retryable(const struct outcome *o)
{
	return o->kind == OUT_TIMEOUT || o->kind == OUT_CONNECT ||
	       (o->kind == OUT_HTTP && (o->http_status >= 500 ||
					o->http_status == 429));
}

static void outcome_label(const struct outcome *o, char *out, size_t size)
{
	switch (o->kind) {
	case OUT_OK: snprintf(out, size, "ok"); break;
	case OUT_TIMEOUT: snprintf(out, size, "timeout"); break;
	case OUT_CONNECT: snprintf(out, size, "connection failed"); break;
	case OUT_HTTP: snprintf(out, size, "HTTP %d", o->http_status); break;
	case OUT_TOO_LARGE: snprintf(out, size, "response too large"); break;
	case OUT_MALFORMED: snprintf(out, size, "malformed JSON"); break;
	case OUT_INTERNAL: snprintf(out, size, "internal error"); break;
	}
}

static vagent_status outcome_status(const struct outcome *o)
{
	switch (o->kind) {
	case OUT_OK: return VAGENT_OK;
	case OUT_TIMEOUT: return VAGENT_ETIMEOUT;
	case OUT_CONNECT:
	case OUT_HTTP: return VAGENT_EPROVIDER;
	case OUT_TOO_LARGE:
	case OUT_MALFORMED: return VAGENT_EPROTO;
	case OUT_INTERNAL: break;
	}
	return VAGENT_EINTERNAL;
}

/* The final error: "refund: HTTP 503 from http://h/refund after 3
 * attempts (timeout, HTTP 500, HTTP 503)[; why we stopped]". */
static void fail_call(struct call *c, const struct outcome *o, const char *why)
{
	struct vagent__strbuf b = { 0 };
	const struct tool *t = c->tool;
	int i;

	vagent__strbuf_printf(&b, "%s: ", t->name);
	switch (o->kind) {
	case OUT_TIMEOUT:
		vagent__strbuf_printf(&b, "no answer in time from %s",
				      c->shown_url);
		break;
	case OUT_CONNECT:
		vagent__strbuf_printf(&b, "connection to %s failed (%s)",
				      c->shown_url, o->detail);
		break;
	case OUT_HTTP:
		vagent__strbuf_printf(&b, "HTTP %d from %s", o->http_status,
				      c->shown_url);
		if (o->detail[0])
			vagent__strbuf_printf(&b, ": %s", o->detail);
		break;
	case OUT_TOO_LARGE:
		vagent__strbuf_printf(&b, "response from %s is larger than %zu bytes",
				      c->shown_url, t->max_bytes);
		break;
	case OUT_MALFORMED:
		vagent__strbuf_printf(&b, "malformed JSON from %s", c->shown_url);
		if (o->detail[0])
			vagent__strbuf_printf(&b, " (%s)", o->detail);
		break;
	case OUT_INTERNAL:
	case OUT_OK:
		vagent__strbuf_printf(&b, "%s", o->detail);
		break;
	}
	if (c->n_att > 1) {
		/* runs of 3 or more are counted: "(timeout x10, HTTP 503)" */
		vagent__strbuf_printf(&b, " after %d attempts (", c->n_att);
		for (i = 0; i < c->n_att; ) {
			int run = 1;

			while (i + run < c->n_att &&
			       strcmp(c->att[i + run].outcome, c->att[i].outcome) == 0)
				run++;
			if (run < 3)
				run = 1;
			vagent__strbuf_printf(&b, "%s%s", i ? ", " : "",
					      c->att[i].outcome);
			if (run >= 3)
				vagent__strbuf_printf(&b, " x%d", run);
			i += run;
		}
		vagent__strbuf_puts(&b, ")");
	}
	if (why)
		vagent__strbuf_printf(&b, "; %s", why);
	answer_soon(c, outcome_status(o), vagent__strbuf_detach(&b));
}

/* An attempt ended with `o` (ownership of o->result passes here). */
static void attempt_done(struct call *c, struct outcome *o)
{
	struct tools_prov *p = c->p;
	struct attempt *a = &c->att[c->n_att - 1];
	int64_t now = vagent_loop_now(p->base.loop), delay;
	char why[120];
	int n = c->n_att;

	a->end = now;
	a->http_status = o->kind == OUT_HTTP ? o->http_status : 0;
	outcome_label(o, a->outcome, sizeof(a->outcome));
	if (o->kind == OUT_OK) {
		answer_soon(c, VAGENT_OK, o->result);
		o->result = NULL;
		return;
	}
	if (!retryable(o) || n > c->tool->retries) {
		fail_call(c, o, NULL);
		return;
	}
	if (o->retry_after_ms >= 0) {
		delay = ms_ticks(o->retry_after_ms);
	} else {
		int64_t cap = (int64_t)c->tool->backoff_ms << (n - 1 < 20 ? n - 1 : 20);

		if (cap > c->tool->max_backoff_ms)
			cap = c->tool->max_backoff_ms;
		/* full jitter: uniform in [0, cap] */
		delay = vagent__rng_range(&p->backoff_rng, ms_ticks(cap) + 1);
	}
	if (c->deadline >= 0 && now + delay >= c->deadline) {
		if (o->retry_after_ms >= 0)
			snprintf(why, sizeof(why),
				 "Retry-After %lld ms is beyond the %d ms budget",
				 (long long)o->retry_after_ms, p->total_timeout_ms);
		else
			snprintf(why, sizeof(why),
				 "no time left in the %d ms budget for a retry",
				 p->total_timeout_ms);
		fail_call(c, o, why);
		return;
	}
	c->phase = PHASE_BACKOFF;
	if (vagent_timer_start(c->timer, delay, 0, NULL) != VAGENT_OK)
		fail_call(c, o, "out of memory");
}

/* ---- HTTP attempts -------------------------------------------------- */

static void classify_http(struct call *c, struct vagent__http_job *j,
			  struct outcome *o)
{
	o->retry_after_ms = -1;
	switch (j->code) {
	case CURLE_OK:
		break;
	case CURLE_OPERATION_TIMEDOUT:
		o->kind = OUT_TIMEOUT;
		return;
	case CURLE_FILESIZE_EXCEEDED:
		o->kind = OUT_TOO_LARGE;
		return;
	case CURLE_WRITE_ERROR:
		if (j->too_large) {
			o->kind = OUT_TOO_LARGE;
			return;
		}
		o->kind = OUT_INTERNAL;
		snprintf(o->detail, sizeof(o->detail), "out of memory");
		return;
	case CURLE_OUT_OF_MEMORY:
	case CURLE_FAILED_INIT:
		o->kind = OUT_INTERNAL;
		snprintf(o->detail, sizeof(o->detail), "libcurl: %s",
			 curl_easy_strerror(j->code));
		return;
	default:
		o->kind = OUT_CONNECT;
		snprintf(o->detail, sizeof(o->detail), "%s",
			 curl_easy_strerror(j->code));
		return;
	}
	if (j->http_status < 200 || j->http_status > 299) {
		o->kind = OUT_HTTP;
		o->http_status = (int)j->http_status;
		o->retry_after_ms = vagent__retry_after_ms(j->retry_after);
		excerpt(o->detail, sizeof(o->detail),
			j->resp.p ? j->resp.p : "", j->resp.len);
		return;
	}
	if (j->resp.len == 0) {
		o->kind = OUT_OK;
		o->result = strdup("{}");
		if (!o->result)
			o->kind = OUT_INTERNAL;
		return;
	}
	{
		const char *end = NULL, *bad = NULL;
		cJSON *v = NULL;

		if (strlen(j->resp.p) != j->resp.len)
			bad = "a NUL byte";
		else if (!vagent__utf8_valid(j->resp.p, j->resp.len))
			bad = "not UTF-8";
		else
			v = cJSON_ParseWithOpts(j->resp.p, &end, true);
		if (!v) {
			o->kind = OUT_MALFORMED;
			if (bad)
				snprintf(o->detail, sizeof(o->detail), "%s", bad);
			else
				snprintf(o->detail, sizeof(o->detail), "at byte %zu",
					 end ? (size_t)(end - j->resp.p) : 0);
			return;
		}
		cJSON_Delete(v);
		o->kind = OUT_OK;
		o->result = vagent__strbuf_detach(&j->resp);
		if (!o->result)
			o->kind = OUT_INTERNAL;
	}
	(void)c;
}

static void http_done(void *arg, int64_t charged)
{
	struct vagent__http_job *j = arg;
	struct call *c = j->owner;
	struct outcome o = { .retry_after_ms = -1 };
	struct tools_prov *p;

	if (!c || charged < 0) {
		/* orphaned (cancelled), or the loop is being freed */
		if (c)
			c->job = NULL;
		vagent__http_job_free(j);
		return;
	}
	c->job = NULL;
	p = c->p;
	classify_http(c, j, &o);
	vagent__http_job_free(j);
	p->busy++;
	attempt_done(c, &o);
	p->busy--;
	outcome_clear(&o);
	sweep(p);
}

/* Does the call have a header `name` of its own (from the templates)? */
static bool has_header(const struct call *c, const char *name)
{
	size_t i, n = strlen(name);

	for (i = 0; i < c->n_headers; i++)
		if (strncasecmp(c->headers[i], name, n) == 0 &&
		    c->headers[i][n] == ':')
			return true;
	return false;
}

static bool add_header(struct curl_slist **list, const char *line)
{
	struct curl_slist *h = curl_slist_append(*list, line);

	if (h)
		*list = h;
	return h != NULL;
}

static vagent_status start_http(struct call *c, int64_t timeout_ms)
{
	struct tools_prov *p = c->p;
	struct vagent__http_job *j = vagent__http_job_new();
	char line[80];
	bool ok = true;
	size_t i;
	vagent_status st;

	if (!j)
		return VAGENT_ENOMEM;
	j->method = xstrdup(c->tool->method, &ok);
	j->url = xstrdup(c->url, &ok);
	j->body = xstrdup(c->body, &ok);
	j->timeout_ms = (long)timeout_ms;
	j->max_bytes = c->tool->max_bytes;
	for (i = 0; ok && i < c->n_headers; i++)
		ok = add_header(&j->headers, c->headers[i]);
	snprintf(line, sizeof(line), "Idempotency-Key: %s", c->key);
	ok = ok && add_header(&j->headers, line);
	if (ok && !has_header(c, "Accept"))
		ok = add_header(&j->headers, "Accept: application/json");
	if (ok && c->body && !has_header(c, "Content-Type"))
		ok = add_header(&j->headers, "Content-Type: application/json");
	if (!ok) {
		vagent__http_job_free(j);
		return VAGENT_ENOMEM;
	}
	j->owner = c;
	st = vagent_loop_submit(p->base.loop, vagent__http_job_run, http_done, j,
				NULL);
	if (st != VAGENT_OK) {
		vagent__http_job_free(j);
		return st;
	}
	c->job = j;
	return VAGENT_OK;
}

/* ---- mock attempts -------------------------------------------------- */

static void mock_perform(struct call *c)
{
	if (!c->mock_performed) {
		c->mock_performed = true;
		c->tool->stats.performed++;
	}
}

static bool start_mock(struct call *c, int64_t timeout_ms)
{
	static const struct vagent_fault none = { 0 };
	struct tools_prov *p = c->p;
	struct tool *t = c->tool;
	const struct vagent_fault *f;
	struct outcome *o = &c->mock_out;
	int64_t now = vagent_loop_now(p->base.loop);
	int64_t lat = vagent__latency_draw(&p->mock_rng, &t->mock_latency);
	int64_t at = now + lat, timeout_at = now + ms_ticks(timeout_ms);
	bool answers = true;

	outcome_clear(o);
	t->mock_requests++;
	f = vagent__fault_match(t->faults, t->n_faults, t->mock_requests);
	if (!f)
		f = &none;
	c->mock_perform_at_end = false;
	switch (f->kind) {
	case VAGENT_FAULT_NONE:
	case VAGENT_FAULT_DROP:         /* STT kinds: refused when the tools are made */
	case VAGENT_FAULT_WRONG_WORDS:
	case VAGENT_FAULT_DELAY:
		if (f->kind == VAGENT_FAULT_DELAY)
			at += ms_ticks(f->delay_ms);
		o->kind = OUT_OK;
		o->result = strdup(t->mock_result);
		c->mock_perform_at_end = true;
		break;
	case VAGENT_FAULT_STALL:
		/* performed at once; the answer is held back */
		mock_perform(c);
		at += ms_ticks(f->delay_ms);
		o->kind = OUT_OK;
		o->result = strdup(t->mock_result);
		break;
	case VAGENT_FAULT_TIMEOUT:
		answers = false;
		break;
	case VAGENT_FAULT_ERROR:
		at = now + ms_ticks(f->delay_ms);
		o->kind = OUT_HTTP;
		o->http_status = f->http_status ? f->http_status : 500;
		if (f->after > 0)
			o->retry_after_ms = (int64_t)f->after * 1000;
		snprintf(o->detail, sizeof(o->detail), "injected error");
		break;
	case VAGENT_FAULT_DISCONNECT:
		at = now + ms_ticks(f->delay_ms);
		o->kind = OUT_CONNECT;
		snprintf(o->detail, sizeof(o->detail), "connection reset (injected)");
		break;
	case VAGENT_FAULT_MALFORMED:
		o->kind = OUT_MALFORMED;
		c->mock_perform_at_end = true;
		break;
	}
	if (answers && o->kind == OUT_OK && !o->result)
		return false;
	if (!answers || at > timeout_at) {
		outcome_clear(o);
		o->kind = OUT_TIMEOUT;
		c->mock_perform_at_end = false;
		at = timeout_at;
	}
	c->phase = PHASE_MOCK;
	return vagent_timer_start_at(c->timer, at, 0, NULL) == VAGENT_OK;
}

static void mock_answered(struct call *c)
{
	struct outcome o = c->mock_out;

	memset(&c->mock_out, 0, sizeof(c->mock_out));
	c->mock_out.retry_after_ms = -1;
	if (c->mock_perform_at_end)
		mock_perform(c);
	attempt_done(c, &o);
	outcome_clear(&o);
}

/* ---- the call ------------------------------------------------------- */

static void start_attempt(struct call *c)
{
	struct tools_prov *p = c->p;
	int64_t now = vagent_loop_now(p->base.loop);
	int64_t timeout_ms = c->tool->timeout_ms;
	struct attempt *a;
	vagent_status st;

	if (c->deadline >= 0) {
		int64_t left = vagent_ticks_to_ms(c->deadline - now);

		if (left < timeout_ms)
			timeout_ms = left;
		if (timeout_ms < 1)
			timeout_ms = 1;
	}
	a = &c->att[c->n_att++];
	a->start = now;
	a->end = -1;
	snprintf(a->outcome, sizeof(a->outcome), "running");
	c->tool->stats.attempts++;
	if (c->tool->url)
		st = start_http(c, timeout_ms);
	else
		st = start_mock(c, timeout_ms) ? VAGENT_OK : VAGENT_ENOMEM;
	if (st != VAGENT_OK) {
		struct outcome o = { .kind = OUT_INTERNAL, .retry_after_ms = -1 };

		snprintf(o.detail, sizeof(o.detail), "could not start a request (%s)",
			 st == VAGENT_EINVAL ? "the loop has no worker threads"
					     : "out of memory");
		c->n_att--;
		c->tool->stats.attempts--;
		fail_call(c, &o, NULL);
	}
}

static void on_timer(struct vagent_timer *t, void *arg)
{
	struct call *c = arg;
	struct tools_prov *p = c->p;
	enum phase ph = c->phase;

	(void)t;
	if (c->dead)
		return;
	c->phase = PHASE_NONE;
	p->busy++;
	switch (ph) {
	case PHASE_ANSWER: deliver(c); break;
	case PHASE_BACKOFF: start_attempt(c); break;
	case PHASE_MOCK: mock_answered(c); break;
	case PHASE_NONE: break;
	}
	p->busy--;
	sweep(p);
}

static struct tool *find_tool(struct tools_prov *p, const char *name)
{
	size_t i;

	for (i = 0; i < p->n_tools; i++)
		if (strcmp(p->tools[i].name, name) == 0)
			return &p->tools[i];
	return NULL;
}

/* Validate, guard and build the request; false: answered with EINVAL. */
static bool prepare(struct call *c, const char *args)
{
	struct tool *t = c->tool;
	struct tools_prov *p = c->p;
	struct vagent__strbuf prob = { 0 };
	const char *end = NULL;
	cJSON *a = args ? cJSON_ParseWithOpts(args, &end, true) : NULL;
	char *msg;
	bool oom = false;
	size_t i;

	if (!a || !cJSON_IsObject(a)) {
		answer_msg(c, VAGENT_EINVAL, "%s: the arguments are not a JSON object",
			   t->name);
		goto refused;
	}
	if (t->schema && !vagent__schema_validate(t->schema, a, "arguments", &prob)) {
		msg = vagent__strbuf_detach(&prob);
		answer_msg(c, VAGENT_EINVAL, "%s: %s", t->name, msg ? msg : "invalid arguments");
		free(msg);
		goto refused;
	}
	if (t->guard_arg && t->guard_max >= 0) {
		const cJSON *g = cJSON_GetObjectItemCaseSensitive(a, t->guard_arg);

		if (g && !cJSON_IsNumber(g)) {
			answer_msg(c, VAGENT_EINVAL, "%s: guard: %s is not a number",
				   t->name, t->guard_arg);
			goto refused;
		}
		if (g && g->valuedouble > t->guard_max) {
			char v[40], lim[40];

			fmt_number(v, sizeof(v), g->valuedouble);
			fmt_number(lim, sizeof(lim), t->guard_max);
			answer_msg(c, VAGENT_EINVAL,
				   "%s: guard: %s %s exceeds the limit %s",
				   t->name, t->guard_arg, v, lim);
			goto refused;
		}
	}
	if (t->url) {
		c->url = vagent__template_expand(t->url, &p->vars, a, true, false,
						 &prob, &oom);
		if (!c->url)
			goto bad_template;
		vagent__url_redact(c->url, c->shown_url, sizeof(c->shown_url));
		if (t->body)
			c->body = vagent__body_expand(t->body, &p->vars, a, &prob, &oom);
		else if (strcmp(t->method, "GET") != 0 &&
			 strcmp(t->method, "DELETE") != 0) {
			c->body = cJSON_PrintUnformatted(a);
			if (!c->body)
				oom = true;
		}
		if (!c->body && (t->body || oom))
			goto bad_template;
		if (t->n_headers) {
			c->headers = calloc(t->n_headers, sizeof(*c->headers));
			if (!c->headers) {
				oom = true;
				goto bad_template;
			}
		}
		for (i = 0; i < t->n_headers; i++) {
			c->headers[i] = vagent__template_expand(t->headers[i], &p->vars,
								a, false, true, &prob, &oom);
			if (!c->headers[i])
				goto bad_template;
			c->n_headers++;
		}
	} else {
		snprintf(c->shown_url, sizeof(c->shown_url), "mock %s", t->name);
	}
	cJSON_Delete(a);
	return true;

bad_template:
	msg = vagent__strbuf_detach(&prob);
	if (oom || !msg)
		answer_msg(c, VAGENT_ENOMEM, "%s: out of memory", t->name);
	else
		answer_msg(c, VAGENT_EINVAL, "%s: %s", t->name, msg);
	free(msg);
refused:
	t->stats.refused++;
	c->refused = true;
	vagent__strbuf_release(&prob);
	cJSON_Delete(a);
	return false;
}

static vagent_status tools_call(struct vagent_tools *base, uint64_t id,
				const char *name, const char *args,
				struct vagent_error *err)
{
	struct tools_prov *p = (struct tools_prov *)base;
	struct call *c;

	if (!name)
		return vagent__error_set(err, VAGENT_EINVAL, base->name,
					 "no tool name");
	if (!base->loop || !base->on_result)
		return vagent__error_set(err, VAGENT_EINVAL, base->name,
					 "loop or callback not set");
	c = calloc(1, sizeof(*c));
	if (!c)
		return vagent__error_set(err, VAGENT_ENOMEM, base->name,
					 "out of memory");
	c->p = p;
	c->id = id;
	c->deadline = -1;
	c->mock_out.retry_after_ms = -1;
	c->timer = vagent_timer_new(base->loop, on_timer, c);
	if (!c->timer) {
		call_free(c);
		return vagent__error_set(err, VAGENT_ENOMEM, base->name,
					 "out of memory");
	}
	c->next = p->calls;
	p->calls = c;
	c->start = vagent_loop_now(base->loop);
	if (p->total_timeout_ms > 0)
		c->deadline = c->start + ms_ticks(p->total_timeout_ms);
	c->tool = find_tool(p, name);
	if (!c->tool) {
		answer_msg(c, VAGENT_EINVAL, "%s: unknown tool '%.80s'", base->name,
			   name);
		return VAGENT_OK;
	}
	c->tool->stats.calls++;
	make_key(c->key, sizeof(c->key));
	if (prepare(c, args))
		start_attempt(c);
	return VAGENT_OK;
}

static void tools_cancel(struct vagent_tools *base, uint64_t id)
{
	struct tools_prov *p = (struct tools_prov *)base;
	struct call *c;

	for (c = p->calls; c; c = c->next)
		if (c->id == id && !c->dead) {
			call_end(c);
			c->cancelled = true;
			remember(p, c);
		}
	sweep(p);
}

static void tools_stop(struct vagent_tools *base)
{
	struct tools_prov *p = (struct tools_prov *)base;
	struct call *c;

	for (c = p->calls; c; c = c->next)
		if (!c->dead)
			call_end(c);
	sweep(p);
}

static void tools_free(struct vagent_tools *base)
{
	struct tools_prov *p = (struct tools_prov *)base;
	struct call *c;

	for (c = p->calls; c; c = c->next)
		if (!c->dead)
			call_end(c);
	p->freeing = true;
	sweep(p);
}

static const struct vagent_tools_ops tools_ops = {
	.call = tools_call,
	.cancel = tools_cancel,
	.stop = tools_stop,
	.free = tools_free,
};

/* ---- creation ------------------------------------------------------- */

struct vagent_tools_config vagent_tools_config_default(void)
{
	struct vagent_tools_config c;

	memset(&c, 0, sizeof(c));
	snprintf(c.name, sizeof(c.name), "tools");
	c.total_timeout_ms = 4500;
	return c;
}

static bool valid_name(const char *s)
{
	if (!s || !*s)
		return false;
	for (; *s; s++)
		if (!((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') ||
		      (*s >= '0' && *s <= '9') || *s == '_' || *s == '.' ||
		      *s == '-'))
			return false;
	return true;
}

static vagent_status copy_vars(struct tools_prov *p,
			       const struct vagent_tools_config *cfg,
			       struct vagent_error *err)
{
	const char *where = p->base.name;
	size_t n = 0, i;

	while (cfg->variables && cfg->variables[n])
		n++;
	if (!n)
		return VAGENT_OK;
	p->vars.names = calloc(n, sizeof(char *));
	p->vars.values = calloc(n, sizeof(char *));
	if (!p->vars.names || !p->vars.values)
		return vagent__error_set(err, VAGENT_ENOMEM, where, "out of memory");
	for (i = 0; i < n; i++) {
		const char *v = cfg->variables[i], *eq = strchr(v, '=');
		char *name;

		if (!eq || eq == v)
			return vagent__error_set(err, VAGENT_EINVAL, where,
				"variables[%zu]: want name=value", i);
		name = strndup(v, (size_t)(eq - v));
		if (!name)
			return vagent__error_set(err, VAGENT_ENOMEM, where, "out of memory");
		if (!valid_name(name)) {
			vagent__error_set(err, VAGENT_EINVAL, where,
				"variables[%zu]: bad name '%.40s' (letters, digits, _ . -)",
				i, name);
			free(name);
			return VAGENT_EINVAL;
		}
		if (vagent__vars_get(&p->vars, name, strlen(name))) {
			vagent__error_set(err, VAGENT_EINVAL, where,
				"variables[%zu]: '%s' is set twice", i, name);
			free(name);
			return VAGENT_EINVAL;
		}
		p->vars.names[p->vars.n] = name;
		p->vars.values[p->vars.n] = strdup(eq + 1);
		p->vars.n++;
		if (!p->vars.values[p->vars.n - 1])
			return vagent__error_set(err, VAGENT_ENOMEM, where, "out of memory");
	}
	return VAGENT_OK;
}

/* Check the templates inside a body template's strings. */
static bool body_check(const cJSON *t, const struct vagent__vars *vars,
		       const cJSON *props, struct vagent__strbuf *prob)
{
	const cJSON *e;

	if (cJSON_IsString(t))
		return vagent__template_check(t->valuestring, vars, props, prob);
	cJSON_ArrayForEach(e, t)
		if (!body_check(e, vars, props, prob))
			return false;
	return true;
}

/* The URL template must give http(s)://: literally, or through the
 * variable it starts with. */
static bool url_scheme_ok(const char *url, const struct vagent__vars *vars)
{
	const char *s = url;

	if (*s == '{') {
		const char *close = strchr(s, '}');
		const char *v = close ? vagent__vars_get(vars, s + 1,
						 (size_t)(close - s - 1)) : NULL;

		if (!v)
			return false;
		s = v;
	}
	return strncmp(s, "http://", 7) == 0 || strncmp(s, "https://", 8) == 0;
}

#define DEF_FAIL(...) do { \
	vagent__strbuf_printf(&prob, __VA_ARGS__); \
	goto bad; \
} while (0)

static vagent_status copy_tool(struct tools_prov *p, size_t i,
			       const struct vagent_tool_def *d, bool prefer_mock,
			       struct vagent_error *err)
{
	static const char *const methods[] = { "GET", "POST", "PUT", "PATCH", "DELETE" };
	struct tool *t = &p->tools[i];
	struct vagent__strbuf prob = { 0 };
	const cJSON *props = NULL;
	char what[48];
	bool ok = true;
	size_t j;
	char *msg;
	vagent_status st;

	if (!valid_name(d->name))
		DEF_FAIL("name: %s", d->name && *d->name
			 ? "use letters, digits, _ . -" : "missing");
	for (j = 0; j < i; j++)
		if (strcmp(p->tools[j].name, d->name) == 0)
			DEF_FAIL("the name is already tools[%zu]", j);
	t->name = xstrdup(d->name, &ok);
	if (d->parameters) {
		const cJSON *type;

		t->schema = cJSON_Parse(d->parameters);
		if (!t->schema)
			DEF_FAIL("parameters: not JSON");
		if (!vagent__schema_check(t->schema, &prob)) {
			msg = vagent__strbuf_detach(&prob);
			vagent__strbuf_printf(&prob, "parameters: %s", msg ? msg : "");
			free(msg);
			goto bad;
		}
		type = cJSON_GetObjectItemCaseSensitive(t->schema, "type");
		if (!cJSON_IsObject(t->schema) ||
		    (type && !(cJSON_IsString(type) &&
			       strcmp(type->valuestring, "object") == 0)))
			DEF_FAIL("parameters: the arguments must be an object (type \"object\")");
		props = cJSON_GetObjectItemCaseSensitive(t->schema, "properties");
	}
	/* limits */
	if (d->timeout_ms < 0)
		DEF_FAIL("timeout_ms: must be >= 0");
	if (d->retries < -1 || d->retries > MAX_RETRIES)
		DEF_FAIL("retries: must be 0..%d", MAX_RETRIES);
	if (d->backoff_ms < 0)
		DEF_FAIL("backoff_ms: must be >= 0");
	if (d->max_backoff_ms < 0)
		DEF_FAIL("max_backoff_ms: must be >= 0");
	t->timeout_ms = d->timeout_ms ? d->timeout_ms : 5000;
	t->retries = d->retries < 0 ? 2 : d->retries;
	t->backoff_ms = d->backoff_ms ? d->backoff_ms : 200;
	t->max_backoff_ms = d->max_backoff_ms ? d->max_backoff_ms : 4000;
	if (t->max_backoff_ms < t->backoff_ms)
		DEF_FAIL("max_backoff_ms: %d is below backoff_ms %d",
			 t->max_backoff_ms, t->backoff_ms);
	t->max_bytes = d->max_response_bytes ? d->max_response_bytes : 1 << 20;
	/* guard */
	if (d->guard.argument) {
		const cJSON *gp = props ? cJSON_GetObjectItemCaseSensitive(props,
							d->guard.argument) : NULL;

		if (props && !gp)
			DEF_FAIL("guard: '%.40s' is not a parameter", d->guard.argument);
		if (d->guard.confirm_above >= 0 && d->guard.max >= 0 &&
		    d->guard.confirm_above > d->guard.max)
			DEF_FAIL("guard: confirm_above is above max");
		t->guard_arg = xstrdup(d->guard.argument, &ok);
		t->guard_max = d->guard.max;
	} else {
		t->guard_max = -1;
	}
	if (d->url && !(prefer_mock && d->mock_result)) {
		const char *m = d->method ? d->method : "POST";

		for (j = 0; j < VAGENT__ARRAY_SIZE(methods); j++)
			if (strcmp(m, methods[j]) == 0)
				break;
		if (j == VAGENT__ARRAY_SIZE(methods))
			DEF_FAIL("method: '%.20s' is not GET, POST, PUT, PATCH or DELETE", m);
		t->method = xstrdup(m, &ok);
		if (!url_scheme_ok(d->url, &p->vars))
			DEF_FAIL("url: must start with http:// or https:// (or a variable holding that)");
		if (!vagent__template_check(d->url, &p->vars, props, &prob)) {
			msg = vagent__strbuf_detach(&prob);
			vagent__strbuf_printf(&prob, "url: %s", msg ? msg : "");
			free(msg);
			goto bad;
		}
		t->url = xstrdup(d->url, &ok);
		if (d->body) {
			if (strcmp(m, "GET") == 0)
				DEF_FAIL("body: a GET request has no body");
			t->body = cJSON_Parse(d->body);
			if (!t->body)
				DEF_FAIL("body: not JSON (placeholders go in strings: \"{amount}\")");
			if (!body_check(t->body, &p->vars, props, &prob)) {
				msg = vagent__strbuf_detach(&prob);
				vagent__strbuf_printf(&prob, "body: %s", msg ? msg : "");
				free(msg);
				goto bad;
			}
		}
		for (j = 0; d->headers && d->headers[j]; j++) {
			const char *h = d->headers[j], *colon = strchr(h, ':');
			char hname[64];

			if (!colon || colon == h || (size_t)(colon - h) >= sizeof(hname))
				DEF_FAIL("headers[%zu]: want \"Name: value\"", j);
			snprintf(hname, sizeof(hname), "%.*s", (int)(colon - h), h);
			if (!valid_name(hname))
				DEF_FAIL("headers[%zu]: bad header name", j);
			if (strcasecmp(hname, "Idempotency-Key") == 0)
				DEF_FAIL("headers[%zu]: Idempotency-Key is set by vagent", j);
			if (strpbrk(h, "\r\n"))
				DEF_FAIL("headers[%zu]: a line break cannot go in a header", j);
			if (!vagent__template_check(colon + 1, &p->vars, props, &prob)) {
				msg = vagent__strbuf_detach(&prob);
				vagent__strbuf_printf(&prob, "headers[%zu]: %s", j,
						      msg ? msg : "");
				free(msg);
				goto bad;
			}
		}
		if (j) {
			t->headers = calloc(j, sizeof(char *));
			if (!t->headers)
				ok = false;
			for (t->n_headers = 0; ok && t->n_headers < j; t->n_headers++)
				t->headers[t->n_headers] = xstrdup(d->headers[t->n_headers], &ok);
		}
	} else {
		const char *r = d->mock_result ? d->mock_result : "{}";
		cJSON *v = cJSON_Parse(r);

		if (!v)
			DEF_FAIL("mock.result: not JSON");
		cJSON_Delete(v);
		t->mock_result = xstrdup(r, &ok);
		if (d->mock_latency.base_ms < 0 || d->mock_latency.jitter_ms < 0)
			DEF_FAIL("mock.latency_ms: negative latency");
		t->mock_latency = d->mock_latency;
		snprintf(what, sizeof(what), "tools[%zu] \"%s\": mock.faults", i,
			 d->name);
		st = vagent__faults_check_slot(p->base.name, what, d->faults,
					       d->n_faults, "tool", err);
		if (st == VAGENT_OK)
			st = vagent__faults_copy(p->base.name, what, d->faults, d->n_faults,
					 &t->faults, err);
		if (st != VAGENT_OK)
			return st;
		t->n_faults = d->n_faults;
	}
	if (!ok)
		return vagent__error_set(err, VAGENT_ENOMEM, p->base.name,
					 "out of memory");
	return VAGENT_OK;

bad:
	msg = vagent__strbuf_detach(&prob);
	st = vagent__error_set(err, msg ? VAGENT_EINVAL : VAGENT_ENOMEM,
			       p->base.name, "tools[%zu] \"%.60s\": %s", i,
			       d->name ? d->name : "", msg ? msg : "out of memory");
	free(msg);
	return st;
}

vagent_status vagent_tools_new(const struct vagent_tools_config *cfg,
			       struct vagent_tools **out,
			       struct vagent_error *err)
{
	struct tools_prov *p;
	vagent_status st;
	size_t i;

	if (!out)
		return vagent__error_set(err, VAGENT_EINVAL, "tools",
					 "no output pointer");
	*out = NULL;
	if (!cfg)
		return vagent__error_set(err, VAGENT_EINVAL, "tools",
					 "no configuration");
	p = calloc(1, sizeof(*p));
	if (!p)
		return vagent__error_set(err, VAGENT_ENOMEM, "tools", "out of memory");
	p->base.ops = &tools_ops;
	vagent__sim_name(p->base.name, cfg->name, "tools");
	p->total_timeout_ms = cfg->total_timeout_ms;
	st = copy_vars(p, cfg, err);
	if (st == VAGENT_OK && cfg->n_tools && !cfg->tools)
		st = vagent__error_set(err, VAGENT_EINVAL, p->base.name,
				       "%zu tools but no list", cfg->n_tools);
	if (st == VAGENT_OK && cfg->n_tools) {
		p->tools = calloc(cfg->n_tools, sizeof(*p->tools));
		if (!p->tools)
			st = vagent__error_set(err, VAGENT_ENOMEM, p->base.name,
					       "out of memory");
	}
	for (i = 0; st == VAGENT_OK && i < cfg->n_tools; i++) {
		p->n_tools = i + 1;
		st = copy_tool(p, i, &cfg->tools[i], cfg->prefer_mock, err);
	}
	for (i = 0; st == VAGENT_OK && i < p->n_tools; i++)
		if (p->tools[i].url)
			st = vagent__curl_init(err, p->base.name);
	if (st != VAGENT_OK) {
		prov_destroy(p);
		return st;
	}
	vagent__rng_seed(&p->backoff_rng, cfg->seed, STREAM_BACKOFF);
	vagent__rng_seed(&p->mock_rng, cfg->seed, STREAM_MOCK);
	*out = &p->base;
	return VAGENT_OK;
}

/* ---- introspection -------------------------------------------------- */

static struct tools_prov *ours(const struct vagent_tools *t,
			       struct vagent_error *err)
{
	if (!t || t->ops != &tools_ops) {
		vagent__error_set(err, VAGENT_EINVAL, t ? t->name : "tools",
				  "not a provider made by vagent_tools_new");
		return NULL;
	}
	return (struct tools_prov *)(uintptr_t)t;
}

vagent_status vagent_tools_stats(const struct vagent_tools *t,
				 const char *name, struct vagent_tool_stats *out,
				 struct vagent_error *err)
{
	struct tools_prov *p = ours(t, err);
	struct tool *tool;

	if (!p)
		return VAGENT_EINVAL;
	tool = name ? find_tool(p, name) : NULL;
	if (!tool || !out)
		return vagent__error_set(err, VAGENT_EINVAL, t->name,
					 "unknown tool '%.80s'", name ? name : "");
	*out = tool->stats;
	return VAGENT_OK;
}

vagent_status vagent_tools_attempts_json(const struct vagent_tools *t,
					 uint64_t id, char **out,
					 struct vagent_error *err)
{
	struct tools_prov *p = ours(t, err);
	struct vagent__strbuf b = { 0 };
	struct call *c;
	size_t k;

	if (!p)
		return VAGENT_EINVAL;
	if (!out)
		return vagent__error_set(err, VAGENT_EINVAL, t->name, "no output pointer");
	*out = NULL;
	for (c = p->calls; c; c = c->next)
		if (c->id == id && !c->dead && c->tool) {
			attempts_json(c, &b);
			*out = vagent__strbuf_detach(&b);
			return *out ? VAGENT_OK : vagent__error_set(err,
				VAGENT_ENOMEM, t->name, "out of memory");
		}
	for (k = 1; k <= KEEP_FINISHED; k++) {
		struct finished *f = &p->done[(p->done_next + KEEP_FINISHED - k) %
					      KEEP_FINISHED];

		if (f->json && f->id == id) {
			*out = strdup(f->json);
			return *out ? VAGENT_OK : vagent__error_set(err,
				VAGENT_ENOMEM, t->name, "out of memory");
		}
	}
	return vagent__error_set(err, VAGENT_ENOENT, t->name,
				 "no record of call %llu", (unsigned long long)id);
}
