/*
 * llm.c — the provider-neutral core of the cloud LLM brains: the brain
 * slot (respond, tool_result, cancel, stop), the conversation, one
 * streaming request at a time on lib/net's HTTP client, retries with
 * backoff before the first token, and failures reported to the session
 * (which falls back). The wire format is the protocol's (openai.c,
 * anthropic.c).
 */
#include <ctype.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "llm/llm_int.h"

static char *dup_or_null(const char *s)
{
	return s ? strdup(s) : NULL;
}

struct vagent_llm_config vagent_llm_config_default(void)
{
	struct vagent_llm_config c;

	memset(&c, 0, sizeof(c));
	c.temperature = -1;
	c.max_retries = 2;
	c.connect_timeout_ms = 5000;
	c.first_byte_timeout_ms = 10000;
	c.idle_timeout_ms = 10000;
	return c;
}

/* ---- the conversation ------------------------------------------------ */

static void msg_release(struct vagent__llm_msg *m)
{
	for (size_t i = 0; i < m->n_calls; i++) {
		free(m->calls[i].id);
		free(m->calls[i].name);
		free(m->calls[i].args);
	}
	free(m->calls);
	free(m->text);
	free(m->call_id);
}

static struct vagent__llm_msg *msg_add(struct vagent__llm *l, enum vagent__llm_role role,
				       const char *text)
{
	struct vagent__llm_msg *m;

	if (l->n_msgs == l->cap_msgs) {
		size_t cap = l->cap_msgs ? l->cap_msgs * 2 : 16;
		struct vagent__llm_msg *n = realloc(l->msgs, cap * sizeof(*n));

		if (!n)
			return NULL;
		l->msgs = n;
		l->cap_msgs = cap;
	}
	m = &l->msgs[l->n_msgs];
	memset(m, 0, sizeof(*m));
	m->role = role;
	m->text = dup_or_null(text);
	if (text && !m->text)
		return NULL;
	l->n_msgs++;
	return m;
}

static void reply_reset(struct vagent__llm_reply *r)
{
	vagent__strbuf_release(&r->text);
	for (int i = 0; i < VAGENT__LLM_MAX_CALLS; i++) {
		vagent__strbuf_release(&r->calls[i].id);
		vagent__strbuf_release(&r->calls[i].name);
		vagent__strbuf_release(&r->calls[i].args);
	}
	memset(r, 0, sizeof(*r));
}

/* Keep what this response said (text and tool calls) in the conversation. */
static bool reply_keep(struct vagent__llm *l)
{
	struct vagent__llm_reply *r = &l->reply;
	struct vagent__llm_msg *m;
	size_t n = 0;

	for (int i = 0; i < VAGENT__LLM_MAX_CALLS; i++)
		n += r->calls[i].used;
	if (!r->text.len && !n)
		return true;
	m = msg_add(l, VAGENT__LLM_ASSISTANT, r->text.len ? r->text.p : NULL);
	if (!m)
		return false;
	if (n) {
		m->calls = calloc(n, sizeof(*m->calls));
		if (!m->calls)
			return false;
		for (int i = 0; i < VAGENT__LLM_MAX_CALLS; i++) {
			struct vagent__llm_call *c;

			if (!r->calls[i].used)
				continue;
			c = &m->calls[m->n_calls++];
			c->id = strdup(r->calls[i].id.p ? r->calls[i].id.p : "");
			c->name = strdup(vagent__llm_tool_name(l, r->calls[i].name.p ?
							       r->calls[i].name.p : ""));
			c->args = strdup(r->calls[i].args.len ? r->calls[i].args.p : "{}");
			if (!c->id || !c->name || !c->args)
				return false;
		}
	}
	return true;
}

/* ---- reporting ------------------------------------------------------- */

static void report_later(struct vagent__llm *l, int kind, vagent_status st,
			 const char *msg)
{
	l->ev_kind = kind;
	l->ev_st = st;
	snprintf(l->ev_msg, sizeof(l->ev_msg), "%s", msg ? msg : "");
	vagent_timer_start(l->event_timer, 0, 0, NULL);
}

/* Never let the key out, even when a server echoes it. */
static void scrub(const struct vagent__llm *l, char *msg)
{
	size_t klen = l->api_key ? strlen(l->api_key) : 0;
	char *p;

	if (klen < 4)
		return;
	while ((p = strstr(msg, l->api_key)) != NULL) {
		memset(p, '*', klen);
	}
}

static void fail_now(struct vagent__llm *l, vagent_status st, const char *msg)
{
	char m[400];
	uint64_t id = l->id;

	snprintf(m, sizeof(m), "%s", msg);
	scrub(l, m);
	l->active = false;
	vagent_timer_stop(l->retry_timer);
	reply_keep(l);
	reply_reset(&l->reply);
	if (l->base.on_error)
		l->base.on_error(l->base.ctx, id, st, m);
}

static void event_fired(struct vagent_timer *t, void *arg)
{
	struct vagent__llm *l = arg;
	uint64_t id = l->id;

	(void)t;
	if (!l->active)
		return;
	if (l->ev_kind == LLM_EV_ERROR) {
		fail_now(l, l->ev_st, l->ev_msg);
		return;
	}
	/* the greeting */
	l->active = false;
	if (l->base.on_first_token)
		l->base.on_first_token(l->base.ctx, id);
	if (l->base.on_text)
		l->base.on_text(l->base.ctx, id, l->greeting);
	if (l->base.on_done && l->id == id)
		l->base.on_done(l->base.ctx, id);
}

/* ---- for the decoders ------------------------------------------------ */

bool vagent__llm_text(struct vagent__llm *l, const char *delta)
{
	uint64_t id = l->id;

	if (!delta || !*delta)
		return true;
	if (!l->reply.text.len && l->turn_tail && !isspace((unsigned char)l->turn_tail) &&
	    !isspace((unsigned char)*delta)) {
		/* a reply after a tool call: keep it apart from what came before */
		if (!vagent__llm_text(l, " "))
			return false;
	}
	l->turn_tail = delta[strlen(delta) - 1];
	vagent__strbuf_puts(&l->reply.text, delta);
	l->emitted = true;
	if (!l->turn_first_token) {
		l->turn_first_token = true;
		if (l->base.on_first_token)
			l->base.on_first_token(l->base.ctx, id);
		if (!l->active || l->id != id)
			return false;
	}
	if (l->base.on_text)
		l->base.on_text(l->base.ctx, id, delta);
	return l->active && l->id == id;
}

bool vagent__llm_call_start(struct vagent__llm *l, int index, const char *id,
			    const char *name)
{
	if (index < 0 || index >= VAGENT__LLM_MAX_CALLS)
		return false;
	if (!l->reply.calls[index].used) {
		l->reply.calls[index].used = true;
		l->emitted = true;          /* no retry once the model acted */
	}
	if (id && *id) {
		l->reply.calls[index].id.len = 0;
		vagent__strbuf_puts(&l->reply.calls[index].id, id);
	}
	if (name && *name) {
		l->reply.calls[index].name.len = 0;
		vagent__strbuf_puts(&l->reply.calls[index].name, name);
	}
	return true;
}

void vagent__llm_call_args(struct vagent__llm *l, int index, const char *frag)
{
	if (index < 0 || index >= VAGENT__LLM_MAX_CALLS || !frag)
		return;
	l->reply.calls[index].used = true;
	vagent__strbuf_puts(&l->reply.calls[index].args, frag);
}

void vagent__llm_usage(struct vagent__llm *l, long prompt, long completion)
{
	if (prompt > 0)
		l->usage.prompt_tokens += prompt;
	if (completion > 0)
		l->usage.completion_tokens += completion;
}

void vagent__llm_stream_error(struct vagent__llm *l, vagent_status st,
			      const char *fmt, ...)
{
	va_list ap;
	int n;

	if (l->reply.failed)
		return;
	l->reply.failed = true;
	l->reply.fail_st = st;
	n = snprintf(l->reply.fail_msg, sizeof(l->reply.fail_msg), "%s: ", l->base.name);
	va_start(ap, fmt);
	vsnprintf(l->reply.fail_msg + n, sizeof(l->reply.fail_msg) - (size_t)n, fmt, ap);
	va_end(ap);
}

const char *vagent__llm_tool_name(const struct vagent__llm *l, const char *wire)
{
	for (size_t i = 0; i < l->n_tools; i++)
		if (!strcmp(l->tools[i].wire, wire))
			return l->tools[i].name;
	return wire;
}

void vagent__llm_error_message(const char *body, char *out, size_t size)
{
	cJSON *j = cJSON_Parse(body ? body : "");
	const cJSON *e = cJSON_GetObjectItemCaseSensitive(j, "error"), *m;

	/* {"error":{"message":...}}, {"error":"..."}, vLLM's flat
	 * {"object":"error","message":...} */
	m = cJSON_IsObject(e) ? cJSON_GetObjectItemCaseSensitive(e, "message")
			      : cJSON_IsString(e) ? e
			      : cJSON_GetObjectItemCaseSensitive(j, "message");
	snprintf(out, size, "%s", cJSON_IsString(m) ? m->valuestring : "");
	for (char *p = out; *p; p++)
		if (*p == '\n' || *p == '\r' || *p == '\t')
			*p = ' ';
	cJSON_Delete(j);
}

/* ---- requests -------------------------------------------------------- */

static void start_request(struct vagent__llm *l);

static bool sse_event(void *ctx, const char *event, const char *data, const char *id)
{
	struct vagent__llm *l = ctx;

	(void)id;
	if (!l->active || l->reply.failed)
		return false;
	return l->proto->event(l, event, data) && !l->reply.failed;
}

static void on_data(void *ctx, const char *buf, size_t n)
{
	struct vagent__llm *l = ctx;
	uint64_t id = l->id;

	if (!l->got_first_byte) {
		l->got_first_byte = true;
		l->usage.first_byte_ticks = vagent_loop_now(l->base.loop) - l->req_start;
		/* the attempt that answered (a retry's own start) */
		if (l->active && l->base.on_first_byte)
			l->base.on_first_byte(l->base.ctx, id, l->req_start);
		if (!l->active || l->id != id)
			return;
	}
	if (!vagent__sse_feed(&l->sse, buf, n) && l->active && l->id == id) {
		if (!l->reply.failed)
			vagent__llm_stream_error(l, l->sse.oom ? VAGENT_ENOMEM : VAGENT_EPROTO,
						 "malformed event stream");
		/* stop reading: report the failure at once */
		vagent__http_cancel(l->req);
		l->req = NULL;
		report_later(l, LLM_EV_ERROR, l->reply.fail_st, l->reply.fail_msg);
	}
}

static bool retryable(const struct vagent__http_result *r, double *delay_s,
		      struct vagent__llm *l)
{
	double backoff;

	if (l->emitted || l->attempt >= l->cfg.max_retries || r->should_retry_false)
		return false;
	if (r->st == VAGENT_OK) {
		if (r->status != 408 && r->status != 409 && r->status != 429 &&
		    r->status < 500)
			return false;
		if (r->status == 429 && strstr(r->body, "insufficient_quota"))
			return false;
	}
	if (r->retry_after_s > 120)
		return false;
	backoff = 0.5 * pow(2, l->attempt);
	if (backoff > 8)
		backoff = 8;
	backoff *= 1 - 0.25 * vagent__rng_double(&l->rng);
	*delay_s = r->retry_after_s > 0 ? r->retry_after_s : backoff;
	return true;
}

static void on_done(void *ctx, const struct vagent__http_result *r)
{
	struct vagent__llm *l = ctx;
	char msg[400], detail[200];
	uint64_t id = l->id;
	double delay;
	vagent_status st;

	l->req = NULL;
	if (!l->active)
		return;
	if (r->st == VAGENT_OK && r->status >= 200 && r->status < 300) {
		if (l->reply.failed) {
			fail_now(l, l->reply.fail_st, l->reply.fail_msg);
			return;
		}
		if (!l->proto->complete(l)) {
			snprintf(msg, sizeof(msg), "%s: the stream ended early (no end of "
				 "message)", l->base.name);
			fail_now(l, VAGENT_EPROTO, msg);
			return;
		} else {
			int n = 0;

			snprintf(l->usage.finish_reason, sizeof(l->usage.finish_reason),
				 "%s", l->reply.finish);
			for (int i = 0; i < VAGENT__LLM_MAX_CALLS; i++)
				n += l->reply.calls[i].used;
			if (!n && !l->reply.text.len &&
			    (!strcmp(l->reply.finish, "content_filter") ||
			     !strcmp(l->reply.finish, "refusal"))) {
				snprintf(msg, sizeof(msg), "%s: the reply was blocked (%s)",
					 l->base.name, l->reply.finish);
				fail_now(l, VAGENT_EPROVIDER, msg);
				return;
			}
			if (!reply_keep(l)) {
				fail_now(l, VAGENT_ENOMEM, "out of memory");
				return;
			}
			if (n) {
				struct vagent__llm_msg *m = &l->msgs[l->n_msgs - 1];

				reply_reset(&l->reply);
				l->pending_tools = (int)m->n_calls;
				for (size_t i = 0; i < m->n_calls && l->active && l->id == id; i++)
					if (l->base.on_tool_call)
						l->base.on_tool_call(l->base.ctx, id,
								     m->calls[i].name,
								     m->calls[i].id,
								     m->calls[i].args);
				return;
			}
			reply_reset(&l->reply);
			l->active = false;
			if (l->base.on_done)
				l->base.on_done(l->base.ctx, id);
			return;
		}
	}
	/* an HTTP error, a failed or timed-out transfer */
	st = r->st;
	if (r->st == VAGENT_OK) {
		vagent__llm_error_message(r->body, detail, sizeof(detail));
		if (r->status == 401 || r->status == 403) {
			st = VAGENT_EAUTH;
			snprintf(msg, sizeof(msg), "%s: authentication failed (HTTP %ld; "
				 "check %s)", l->base.name, r->status,
				 l->api_key_env ? l->api_key_env : "the API key");
		} else {
			st = VAGENT_EPROVIDER;
			snprintf(msg, sizeof(msg), "%s: HTTP %ld%s%.200s", l->base.name,
				 r->status, *detail ? ": " : "", detail);
		}
	} else {
		snprintf(msg, sizeof(msg), "%s", r->message);
	}
	if (!l->reply.failed && retryable(r, &delay, l) && !l->emitted) {
		l->attempt++;
		l->usage.retries++;
		vagent_timer_start(l->retry_timer,
				   (int64_t)llround(delay * 1000) * VAGENT_TICKS_PER_MS, 0, NULL);
		return;
	}
	if (l->reply.failed && l->reply.fail_msg[0])
		snprintf(msg, sizeof(msg), "%s", l->reply.fail_msg);
	fail_now(l, st, msg);
}

static void retry_fired(struct vagent_timer *t, void *arg)
{
	(void)t;
	start_request(arg);
}

static void start_request(struct vagent__llm *l)
{
	char *headers[6] = { 0 };
	size_t n;
	char *body;
	struct vagent__http_request rq = { 0 };
	struct vagent_error e;

	reply_reset(&l->reply);
	vagent__sse_release(&l->sse);
	vagent__sse_init(&l->sse, sse_event, l);
	l->emitted = false;
	l->got_first_byte = false;
	n = l->proto->headers(l, headers);
	body = l->proto->body(l);
	if (!body) {
		report_later(l, LLM_EV_ERROR, VAGENT_ENOMEM, "out of memory");
		goto out;
	}
	rq.name = l->base.name;
	rq.url = l->url;
	rq.headers = (const char *const *)headers;
	rq.body = body;
	rq.connect_timeout_ms = l->cfg.connect_timeout_ms;
	rq.first_byte_timeout_ms = l->cfg.first_byte_timeout_ms;
	rq.idle_timeout_ms = l->cfg.idle_timeout_ms;
	rq.on_data = on_data;
	rq.on_done = on_done;
	rq.ctx = l;
	l->req_start = vagent_loop_now(l->base.loop);
	l->usage.requests++;
	if (vagent__http_start(l->http, &rq, &l->req, &e) != VAGENT_OK)
		report_later(l, LLM_EV_ERROR, e.status, e.message);
out:
	for (size_t i = 0; i < n; i++)
		free(headers[i]);
	free(body);
}

/* ---- the brain slot -------------------------------------------------- */

static void drop_current(struct vagent__llm *l)
{
	vagent__http_cancel(l->req);
	l->req = NULL;
	vagent_timer_stop(l->retry_timer);
	vagent_timer_stop(l->event_timer);
	if (l->active)
		reply_keep(l);              /* what was said before the cut */
	reply_reset(&l->reply);
	l->active = false;
	l->pending_tools = 0;
}

static vagent_status llm_respond(struct vagent_brain *b,
				 const struct vagent_brain_request *req,
				 struct vagent_error *err)
{
	struct vagent__llm *l = (struct vagent__llm *)b;
	char text[2048];

	if (l->stopped)
		return vagent__error_set(err, VAGENT_EINVAL, b->name, "stopped");
	if (!l->http) {
		vagent_status st = vagent__http_new(b->loop, &l->http, err);

		if (st != VAGENT_OK)
			return st;
		l->retry_timer = vagent_timer_new(b->loop, retry_fired, l);
		l->event_timer = vagent_timer_new(b->loop, event_fired, l);
		if (!l->retry_timer || !l->event_timer)
			return vagent__error_set(err, VAGENT_ENOMEM, b->name, "out of memory");
	}
	drop_current(l);
	l->id = req->id;
	l->active = true;
	l->attempt = 0;
	l->turn_tail = 0;
	l->turn_first_token = false;
	if (req->greeting && l->greeting) {
		if (!msg_add(l, VAGENT__LLM_ASSISTANT, l->greeting))
			return vagent__error_set(err, VAGENT_ENOMEM, b->name, "out of memory");
		report_later(l, LLM_EV_GREETING, VAGENT_OK, NULL);
		return VAGENT_OK;
	}
	if (req->greeting)
		snprintf(text, sizeof(text), "(The call has just connected: greet the caller.)");
	else if (req->dtmf && *req->dtmf)
		snprintf(text, sizeof(text), "%s%s(keypad: %s)", req->caller_text,
			 *req->caller_text ? " " : "", req->dtmf);
	else
		snprintf(text, sizeof(text), "%s", *req->caller_text ? req->caller_text
								     : "(silence)");
	if (!msg_add(l, VAGENT__LLM_USER, text))
		return vagent__error_set(err, VAGENT_ENOMEM, b->name, "out of memory");
	start_request(l);
	return VAGENT_OK;
}

static void llm_tool_result(struct vagent_brain *b, uint64_t id, const char *call_id,
			    vagent_status st, const char *result)
{
	struct vagent__llm *l = (struct vagent__llm *)b;
	struct vagent__llm_msg *m;

	if (!l->active || id != l->id || l->pending_tools <= 0)
		return;
	m = msg_add(l, VAGENT__LLM_TOOL, result ? result : "");
	if (!m || !(m->call_id = strdup(call_id ? call_id : ""))) {
		report_later(l, LLM_EV_ERROR, VAGENT_ENOMEM, "out of memory");
		return;
	}
	m->is_error = st != VAGENT_OK;
	if (--l->pending_tools == 0) {
		l->attempt = 0;
		start_request(l);
	}
}

static void llm_cancel(struct vagent_brain *b, uint64_t id)
{
	struct vagent__llm *l = (struct vagent__llm *)b;

	if (id == l->id)
		drop_current(l);
}

/* Close the connections and drop the loop's watchers and timers now: the
 * loop may be freed before the brain (a connection kept alive in curl's
 * pool would otherwise still be watched). */
static void release_network(struct vagent__llm *l)
{
	vagent__http_free(l->http);
	l->http = NULL;
	vagent_timer_free(l->retry_timer);
	vagent_timer_free(l->event_timer);
	l->retry_timer = l->event_timer = NULL;
}

static void llm_stop(struct vagent_brain *b)
{
	struct vagent__llm *l = (struct vagent__llm *)b;

	drop_current(l);
	release_network(l);
	l->stopped = true;
}

static void llm_free(struct vagent_brain *b)
{
	struct vagent__llm *l = (struct vagent__llm *)b;

	drop_current(l);
	release_network(l);
	vagent__sse_release(&l->sse);
	for (size_t i = 0; i < l->n_msgs; i++)
		msg_release(&l->msgs[i]);
	free(l->msgs);
	for (size_t i = 0; i < l->n_tools; i++) {
		free(l->tools[i].name);
		free(l->tools[i].wire);
		free(l->tools[i].description);
		free(l->tools[i].parameters);
	}
	free(l->tools);
	free(l->url);
	if (l->api_key)
		memset(l->api_key, 0, strlen(l->api_key));
	free(l->api_key);
	free(l->api_key_env);
	free(l->model);
	free(l->system);
	free(l->greeting);
	free(l);
}

static const struct vagent_brain_ops llm_ops = {
	.respond = llm_respond,
	.tool_result = llm_tool_result,
	.cancel = llm_cancel,
	.stop = llm_stop,
	.free = llm_free,
};

vagent_status vagent_llm_brain_usage(const struct vagent_brain *b,
				     struct vagent_llm_usage *out)
{
	if (!b || b->ops != &llm_ops || !out)
		return VAGENT_EINVAL;
	*out = ((const struct vagent__llm *)b)->usage;
	return VAGENT_OK;
}

/* A wire name for a tool: [A-Za-z0-9_-], at most 64, unique. */
static char *wire_name(const struct vagent__llm *l, const char *name)
{
	char w[65];
	size_t n = 0;

	for (const char *p = name; *p && n < 56; p++)
		w[n++] = (char)(isalnum((unsigned char)*p) || *p == '-' ? *p : '_');
	w[n] = '\0';
	if (!n)
		snprintf(w, sizeof(w), "tool");
	for (size_t i = 0; i < l->n_tools; i++)
		if (!strcmp(l->tools[i].wire, w)) {
			snprintf(w + n, sizeof(w) - n, "_%zu", l->n_tools % 1000);
			break;
		}
	return strdup(w);
}

static bool add_tool(struct vagent__llm *l, const char *name, const char *desc,
		     const char *params)
{
	struct vagent__llm_tool *t = &l->tools[l->n_tools];
	cJSON *p = params ? cJSON_Parse(params) : NULL;

	t->name = strdup(name);
	t->wire = wire_name(l, name);
	t->description = strdup(desc ? desc : name);
	if (cJSON_IsObject(p))
		t->parameters = strdup(params);
	else
		t->parameters = strdup("{\"type\":\"object\",\"properties\":{}}");
	cJSON_Delete(p);
	l->n_tools++;
	return t->name && t->wire && t->description && t->parameters;
}

vagent_status vagent__llm_new(const struct vagent__llm_proto *proto,
			      const struct vagent_llm_config *cfg,
			      struct vagent_brain **out, struct vagent_error *err)
{
	struct vagent__llm *l;
	const char *base;
	size_t blen;
	bool ok = true;

	*out = NULL;
	if (!cfg || !cfg->model || !*cfg->model)
		return vagent__error_set(err, VAGENT_EINVAL, proto->name,
					 "no model given (brain.model)");
	base = cfg->base_url && *cfg->base_url ? cfg->base_url : proto->default_base_url;
	if (strncmp(base, "http://", 7) && strncmp(base, "https://", 8))
		return vagent__error_set(err, VAGENT_EINVAL, proto->name,
					 "base URL must start with http:// or https://");
	l = calloc(1, sizeof(*l));
	if (!l)
		return vagent__error_set(err, VAGENT_ENOMEM, proto->name, "out of memory");
	l->base.ops = &llm_ops;
	snprintf(l->base.name, sizeof(l->base.name), "%s",
		 cfg->name[0] ? cfg->name : proto->name);
	l->proto = proto;
	l->cfg = *cfg;
	l->usage.first_byte_ticks = -1;
	vagent__rng_seed(&l->rng, cfg->seed, 0x11a);
	blen = strlen(base);
	while (blen && base[blen - 1] == '/')
		blen--;
	l->url = malloc(blen + strlen(proto->path) + 1);
	if (l->url) {
		memcpy(l->url, base, blen);
		strcpy(l->url + blen, proto->path);
	}
	l->api_key = cfg->api_key && *cfg->api_key ? strdup(cfg->api_key) : NULL;
	l->api_key_env = dup_or_null(cfg->api_key_env);
	l->model = strdup(cfg->model);
	l->system = dup_or_null(cfg->system);
	l->greeting = cfg->greeting && *cfg->greeting ? strdup(cfg->greeting) : NULL;
	l->tools = calloc(cfg->n_tools + 1, sizeof(*l->tools));
	ok = l->url && l->model && l->tools && (!cfg->api_key || !*cfg->api_key || l->api_key);
	for (size_t i = 0; ok && i < cfg->n_tools; i++)
		ok = add_tool(l, cfg->tools[i].name, cfg->tools[i].description,
			      cfg->tools[i].parameters);
	if (ok && cfg->knowledge)
		ok = add_tool(l, VAGENT_KNOWLEDGE_TOOL,
			      "Search the knowledge base (policies, hours, FAQs) for the "
			      "caller's question; answer from what it returns.",
			      "{\"type\":\"object\",\"properties\":{\"query\":{\"type\":"
			      "\"string\",\"description\":\"what to look up\"}},"
			      "\"required\":[\"query\"]}");
	vagent__sse_init(&l->sse, sse_event, l);
	if (!ok) {
		llm_free(&l->base);
		return vagent__error_set(err, VAGENT_ENOMEM, proto->name, "out of memory");
	}
	*out = &l->base;
	return VAGENT_OK;
}
