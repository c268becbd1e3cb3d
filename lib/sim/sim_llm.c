/*
 * sim_llm.c — the simulated LLM brain: rules (regex on the caller's text)
 * pick a reply, an optional tool call or an escalation; the reply streams
 * in tokens of up to 4 characters at tokens_per_sec after a time to first
 * token drawn from a seeded latency model; faults per request
 * (docs/simulation.md).
 */
#include <math.h>
#include <regex.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "sim/sim_int.h"

#define DEFAULT_GREETING "Hello, this is the virtual assistant. How can I help?"
#define DEFAULT_FALLBACK "Sorry, I did not catch that."
#define TOKEN_CHARS 4
#define MALFORMED_ARGS "{\"order\": "
#define MALFORMED_TEXT "\xff\xfe"

struct llm_rule {
	char *pattern, *tool, *args, *reply, *escalate;
	bool hangup;
	regex_t re;
	bool has_re;
};

enum req_state {
	REQ_FIRST,      /* the timer fires at the first token */
	REQ_ERROR,      /* the timer fires with the injected error */
	REQ_TIMEOUT,    /* never answers */
	REQ_TOOL,       /* waiting for tool_result */
	REQ_STREAM,     /* the timer fires at each token */
	REQ_NOMEM,      /* the timer fires to report ENOMEM */
};

struct sim_llm;

struct llm_req {
	struct vagent__sim_req base;
	struct sim_llm *p;
	enum req_state state;
	struct vagent_fault fault;      /* kind NONE: healthy */
	const struct llm_rule *rule;    /* NULL: greeting or fallback */
	const char *reply;              /* the reply (template with a tool) */
	char *caller_text;
	char *text;                     /* what streams (owned) */
	size_t pos;                     /* next token's offset in text */
	int sent;                       /* text tokens sent */
	int64_t at;                     /* loop time the timer is due */
	bool stalled, malformed_pending;
	char call_id[32];
};

struct sim_llm {
	struct vagent_brain base;
	struct vagent_latency ttft;
	int64_t tick;                   /* ticks between tokens */
	char *greeting, *fallback;
	struct llm_rule *rules;
	size_t n_rules;
	struct vagent_fault *faults;
	size_t n_faults;
	struct vagent__rng rng;
	int calls, tool_calls;
	struct vagent__sim_reqs reqs;
};

struct vagent_sim_llm_config vagent_sim_llm_config_default(void)
{
	struct vagent_sim_llm_config c;

	memset(&c, 0, sizeof(c));
	strcpy(c.name, "sim-llm");
	c.ttft.base_ms = 300;
	c.ttft.jitter_ms = 100;
	c.tokens_per_sec = 50;
	return c;
}

/* ---- requests ---- */

static void req_free(struct vagent__sim_req *b)
{
	struct llm_req *r = (struct llm_req *)b;

	vagent_timer_free(r->base.timer);
	free(r->caller_text);
	free(r->text);
	free(r);
}

static void llm_destroy(struct sim_llm *p)
{
	size_t i;

	for (i = 0; i < p->n_rules; i++) {
		struct llm_rule *ru = &p->rules[i];

		if (ru->has_re)
			regfree(&ru->re);
		free(ru->pattern);
		free(ru->tool);
		free(ru->args);
		free(ru->reply);
		free(ru->escalate);
	}
	free(p->rules);
	free(p->faults);
	free(p->greeting);
	free(p->fallback);
	free(p);
}

static void sweep(struct sim_llm *p)
{
	if (vagent__sim_reqs_sweep(&p->reqs, req_free))
		llm_destroy(p);
}

/* Fire the request's timer at `at`; false when out of memory. */
static bool req_arm(struct llm_req *r, int64_t at)
{
	r->at = at;
	return vagent_timer_start_at(r->base.timer, at, 0, NULL) == VAGENT_OK;
}

/* ---- the reply text ---- */

/* The value of top-level `key` of the JSON object `obj` as text. */
static void put_json_value(struct vagent__strbuf *b, const cJSON *obj,
			   const char *key, size_t klen)
{
	const cJSON *it;

	if (!cJSON_IsObject(obj))
		return;
	cJSON_ArrayForEach(it, obj) {
		char *s;

		if (!it->string || strlen(it->string) != klen ||
		    memcmp(it->string, key, klen) != 0)
			continue;
		if (cJSON_IsString(it)) {
			vagent__strbuf_puts(b, it->valuestring);
			return;
		}
		s = cJSON_PrintUnformatted(it);
		if (!s) {
			b->oom = true;
			return;
		}
		vagent__strbuf_puts(b, s);
		cJSON_free(s);
		return;
	}
}

/* `tmpl` with "{result}" and "{result.KEY}" replaced (transfer full). */
static char *substitute(const char *tmpl, vagent_status st, const char *result)
{
	struct vagent__strbuf b = { 0 };
	cJSON *json = NULL;
	const char *s = tmpl;

	if (!result)
		result = "";
	if (st == VAGENT_OK)
		json = cJSON_Parse(result);
	while (*s) {
		const char *end;

		if (strncmp(s, "{result}", 8) == 0) {
			vagent__strbuf_puts(&b, result);
			s += 8;
			continue;
		}
		if (strncmp(s, "{result.", 8) == 0 &&
		    (end = strchr(s + 8, '}')) != NULL) {
			if (json)
				put_json_value(&b, json, s + 8,
					       (size_t)(end - (s + 8)));
			s = end + 1;
			continue;
		}
		vagent__strbuf_put(&b, s, 1);
		s++;
	}
	cJSON_Delete(json);
	return vagent__strbuf_detach(&b);
}

/* Length in bytes of the token at `s`: up to 4 characters, never cutting
 * a UTF-8 sequence. */
static size_t token_len(const char *s)
{
	size_t i = 0;
	int chars = 0;

	while (s[i] && chars < TOKEN_CHARS) {
		i++;
		while (((unsigned char)s[i] & 0xC0) == 0x80)
			i++;
		chars++;
	}
	return i;
}

/* {"reason": ..., "caller_text": ...} (transfer full), or NULL. */
static char *escalation_package(const char *reason, const char *caller_text)
{
	cJSON *o = cJSON_CreateObject();
	char *s = NULL;

	if (o && cJSON_AddStringToObject(o, "reason", reason) &&
	    cJSON_AddStringToObject(o, "caller_text", caller_text))
		s = cJSON_PrintUnformatted(o);
	cJSON_Delete(o);
	return s;
}

/* ---- the request's steps (timer callbacks) ---- */

static void fail(struct llm_req *r, vagent_status st, const char *what)
{
	struct sim_llm *p = r->p;
	char msg[160];

	snprintf(msg, sizeof(msg), "%s: %s", p->base.name, what);
	vagent__sim_req_end(&r->base);
	p->base.on_error(p->base.ctx, r->base.id, st, msg);
}

/*
 * One instant of the stream: stall, fail, or send one token (finishing
 * after the last). The stall and disconnect points are checked when a
 * token is due and before on_done: a stall after the last token delays
 * on_done, a disconnect there replaces it.
 */
static void stream_step(struct llm_req *r)
{
	struct sim_llm *p = r->p;

	for (;;) {
		size_t n;
		char delta[4 * TOKEN_CHARS + 8];
		size_t k = 0;

		if (r->fault.kind == VAGENT_FAULT_STALL && !r->stalled &&
		    r->sent >= r->fault.after) {
			r->stalled = true;
			if (!req_arm(r, r->at +
				     vagent_ticks_from_ms(r->fault.delay_ms)))
				fail(r, VAGENT_ENOMEM, "out of memory");
			return;
		}
		if (r->fault.kind == VAGENT_FAULT_DISCONNECT &&
		    r->sent >= r->fault.after) {
			fail(r, VAGENT_EPROTO, "stream closed mid-reply (injected)");
			return;
		}
		if (!r->text[r->pos] && !r->malformed_pending) {
			if (r->rule && r->rule->hangup && p->base.on_hangup) {
				p->base.on_hangup(p->base.ctx, r->base.id);
				if (r->base.dead)
					return;
			}
			vagent__sim_req_end(&r->base);
			p->base.on_done(p->base.ctx, r->base.id);
			return;
		}
		n = token_len(r->text + r->pos);
		if (r->malformed_pending) {
			memcpy(delta, MALFORMED_TEXT, 2);
			k = 2;
			r->malformed_pending = false;
		}
		if (n > sizeof(delta) - k - 1)
			n = sizeof(delta) - k - 1;
		memcpy(delta + k, r->text + r->pos, n);
		delta[k + n] = '\0';
		r->pos += n;
		r->sent++;
		p->base.on_text(p->base.ctx, r->base.id, delta);
		if (r->base.dead)
			return;
		if (r->text[r->pos]) {
			if (!req_arm(r, r->at + p->tick))
				fail(r, VAGENT_ENOMEM, "out of memory");
			return;
		}
	}
}

static void first_token(struct llm_req *r)
{
	struct sim_llm *p = r->p;
	const struct llm_rule *ru = r->rule;
	bool malformed = r->fault.kind == VAGENT_FAULT_MALFORMED;

	p->base.on_first_token(p->base.ctx, r->base.id);
	if (r->base.dead)
		return;
	if (ru && ru->escalate) {
		char *pkg = malformed ? strdup("{\"reason\": ")
				      : escalation_package(ru->escalate,
							   r->caller_text);

		if (!pkg) {
			fail(r, VAGENT_ENOMEM, "out of memory");
			return;
		}
		p->base.on_escalate(p->base.ctx, r->base.id, ru->escalate, pkg);
		free(pkg);
		if (r->base.dead)
			return;
		vagent__sim_req_end(&r->base);
		p->base.on_done(p->base.ctx, r->base.id);
		return;
	}
	if (ru && ru->tool) {
		snprintf(r->call_id, sizeof(r->call_id), "call_%d",
			 ++p->tool_calls);
		r->state = REQ_TOOL;
		p->base.on_tool_call(p->base.ctx, r->base.id, ru->tool,
				     r->call_id, malformed ? MALFORMED_ARGS
					       : ru->args ? ru->args : "{}");
		return;
	}
	r->text = strdup(r->reply);
	if (!r->text) {
		fail(r, VAGENT_ENOMEM, "out of memory");
		return;
	}
	r->malformed_pending = malformed;
	r->state = REQ_STREAM;
	stream_step(r);
}

static void on_timer(struct vagent_timer *t, void *arg)
{
	struct llm_req *r = arg;
	struct sim_llm *p = r->p;
	char what[96];

	(void)t;
	p->reqs.busy++;
	switch (r->state) {
	case REQ_FIRST:
		first_token(r);
		break;
	case REQ_ERROR:
		snprintf(what, sizeof(what), "HTTP %d (injected error)",
			 r->fault.http_status ? r->fault.http_status : 500);
		fail(r, VAGENT_EPROVIDER, what);
		break;
	case REQ_STREAM:
		stream_step(r);
		break;
	case REQ_NOMEM:
		fail(r, VAGENT_ENOMEM, "out of memory");
		break;
	case REQ_TIMEOUT:
	case REQ_TOOL:
		break;
	}
	p->reqs.busy--;
	sweep(p);
}

/* ---- ops ---- */

static const struct llm_rule *match_rule(const struct sim_llm *p,
					 const char *text)
{
	size_t i;

	for (i = 0; i < p->n_rules; i++) {
		const struct llm_rule *ru = &p->rules[i];

		if (!ru->has_re || regexec(&ru->re, text, 0, NULL, 0) == 0)
			return ru;
	}
	return NULL;
}

static vagent_status llm_respond(struct vagent_brain *b,
				 const struct vagent_brain_request *req,
				 struct vagent_error *err)
{
	struct sim_llm *p = (struct sim_llm *)b;
	const struct vagent_fault *f;
	struct llm_req *r;
	int64_t now, ttft;

	if (!req)
		return vagent__error_set(err, VAGENT_EINVAL, b->name,
					 "no request");
	if (!b->loop || !b->on_first_token || !b->on_text || !b->on_done ||
	    !b->on_error || !b->on_tool_call || !b->on_escalate)
		return vagent__error_set(err, VAGENT_EINVAL, b->name,
					 "loop or callbacks not set");
	r = calloc(1, sizeof(*r));
	if (!r)
		return vagent__error_set(err, VAGENT_ENOMEM, b->name,
					 "out of memory");
	r->p = p;
	r->base.id = req->id;
	r->caller_text = strdup(req->caller_text ? req->caller_text : "");
	r->base.timer = vagent_timer_new(b->loop, on_timer, r);
	if (!r->caller_text || !r->base.timer) {
		req_free(&r->base);
		return vagent__error_set(err, VAGENT_ENOMEM, b->name,
					 "out of memory");
	}
	if (req->greeting) {
		r->reply = p->greeting ? p->greeting : DEFAULT_GREETING;
	} else {
		r->rule = match_rule(p, r->caller_text);
		r->reply = r->rule && r->rule->reply ? r->rule->reply
			 : r->rule ? ""
			 : p->fallback ? p->fallback : DEFAULT_FALLBACK;
	}
	p->calls++;
	ttft = vagent__latency_draw(&p->rng, &p->ttft);
	f = vagent__fault_match(p->faults, p->n_faults, p->calls);
	if (f)
		r->fault = *f;
	now = vagent_loop_now(b->loop);
	switch (r->fault.kind) {
	case VAGENT_FAULT_TIMEOUT:
		r->state = REQ_TIMEOUT;
		break;
	case VAGENT_FAULT_ERROR:
		r->state = REQ_ERROR;
		r->at = now + vagent_ticks_from_ms(r->fault.delay_ms);
		break;
	case VAGENT_FAULT_DELAY:
		r->state = REQ_FIRST;
		r->at = now + ttft + vagent_ticks_from_ms(r->fault.delay_ms);
		break;
	default:
		r->state = REQ_FIRST;
		r->at = now + ttft;
		break;
	}
	if (r->state != REQ_TIMEOUT &&
	    vagent_timer_start_at(r->base.timer, r->at, 0, err) != VAGENT_OK) {
		req_free(&r->base);
		return err ? err->status : VAGENT_ENOMEM;
	}
	vagent__sim_req_add(&p->reqs, &r->base);
	return VAGENT_OK;
}

static void llm_tool_result(struct vagent_brain *b, uint64_t id,
			    const char *call_id, vagent_status st,
			    const char *result)
{
	struct sim_llm *p = (struct sim_llm *)b;
	struct vagent__sim_req *h;

	for (h = p->reqs.head; h; h = h->next) {
		struct llm_req *r = (struct llm_req *)h;

		if (r->base.dead || r->base.id != id || r->state != REQ_TOOL)
			continue;
		if (call_id && strcmp(call_id, r->call_id) != 0)
			continue;
		/* Errors are reported from the timer, never from inside
		 * this call; without even a timer, the session's timeout
		 * ends the request. */
		r->text = substitute(r->reply, st, result);
		r->state = r->text ? REQ_STREAM : REQ_NOMEM;
		if (!req_arm(r, vagent_loop_now(b->loop) +
				(r->text ? p->tick : 0)))
			r->state = REQ_TIMEOUT;
		return;
	}
}

static void llm_cancel(struct vagent_brain *b, uint64_t id)
{
	struct sim_llm *p = (struct sim_llm *)b;

	vagent__sim_reqs_cancel(&p->reqs, id);
	sweep(p);
}

static void llm_stop(struct vagent_brain *b)
{
	struct sim_llm *p = (struct sim_llm *)b;

	vagent__sim_reqs_end_all(&p->reqs);
	sweep(p);
}

static void llm_free(struct vagent_brain *b)
{
	struct sim_llm *p = (struct sim_llm *)b;

	vagent__sim_reqs_end_all(&p->reqs);
	p->reqs.freeing = true;
	sweep(p);
}

static const struct vagent_brain_ops llm_ops = {
	.respond = llm_respond,
	.tool_result = llm_tool_result,
	.cancel = llm_cancel,
	.stop = llm_stop,
	.free = llm_free,
};

/* ---- construction ---- */

static vagent_status copy_rules(struct sim_llm *p,
				const struct vagent_sim_llm_config *cfg,
				struct vagent_error *err)
{
	const char *where = p->base.name;
	size_t i;

	if (cfg->n_rules == 0)
		return VAGENT_OK;
	if (!cfg->rules)
		return vagent__error_set(err, VAGENT_EINVAL, where,
					 "%zu rules but no list", cfg->n_rules);
	p->rules = calloc(cfg->n_rules, sizeof(*p->rules));
	if (!p->rules)
		return vagent__error_set(err, VAGENT_ENOMEM, where,
					 "out of memory");
	p->n_rules = cfg->n_rules;
	for (i = 0; i < cfg->n_rules; i++) {
		const struct vagent_sim_rule *in = &cfg->rules[i];
		struct llm_rule *ru = &p->rules[i];
		bool ok = true;
		int rc;

		ru->pattern = vagent__sim_strdup(in->pattern, &ok);
		ru->tool = vagent__sim_strdup(in->tool, &ok);
		ru->args = vagent__sim_strdup(in->args, &ok);
		ru->reply = vagent__sim_strdup(in->reply, &ok);
		ru->escalate = vagent__sim_strdup(in->escalate, &ok);
		ru->hangup = in->hangup;
		if (!ok)
			return vagent__error_set(err, VAGENT_ENOMEM, where,
						 "out of memory");
		if (ru->tool && !ru->tool[0])
			return vagent__error_set(err, VAGENT_EINVAL, where,
						 "rules[%zu]: empty tool name", i);
		if (!in->pattern || !in->pattern[0])
			continue;
		rc = regcomp(&ru->re, in->pattern,
			     REG_EXTENDED | REG_ICASE | REG_NOSUB);
		if (rc != 0) {
			char why[128];

			regerror(rc, &ru->re, why, sizeof(why));
			return vagent__error_set(err, VAGENT_EINVAL, where,
						 "rules[%zu]: bad pattern '%s': %s",
						 i, in->pattern, why);
		}
		ru->has_re = true;
	}
	return VAGENT_OK;
}

vagent_status vagent_sim_llm_new(const struct vagent_sim_llm_config *cfg,
				 struct vagent_brain **out,
				 struct vagent_error *err)
{
	struct sim_llm *p;
	vagent_status st;
	bool ok = true;
	double tick;

	if (!out)
		return vagent__error_set(err, VAGENT_EINVAL, "sim-llm",
					 "no output pointer");
	*out = NULL;
	if (!cfg)
		return vagent__error_set(err, VAGENT_EINVAL, "sim-llm",
					 "no configuration");
	p = calloc(1, sizeof(*p));
	if (!p)
		return vagent__error_set(err, VAGENT_ENOMEM, "sim-llm",
					 "out of memory");
	p->base.ops = &llm_ops;
	vagent__sim_name(p->base.name, cfg->name, "sim-llm");
	st = vagent__latency_check(p->base.name, "ttft", &cfg->ttft, err);
	if (st != VAGENT_OK)
		goto fail;
	p->ttft = cfg->ttft;
	tick = (double)VAGENT_TICKS_PER_SEC / cfg->tokens_per_sec;
	if (!(cfg->tokens_per_sec > 0) || !(tick >= 1) || tick > 1e15) {
		st = vagent__error_set(err, VAGENT_EINVAL, p->base.name,
				       "tokens_per_sec: must be > 0 (got %g)",
				       cfg->tokens_per_sec);
		goto fail;
	}
	p->tick = llround(tick);
	p->greeting = vagent__sim_strdup(cfg->greeting, &ok);
	p->fallback = vagent__sim_strdup(cfg->fallback_reply, &ok);
	if (!ok) {
		st = vagent__error_set(err, VAGENT_ENOMEM, p->base.name,
				       "out of memory");
		goto fail;
	}
	st = copy_rules(p, cfg, err);
	if (st != VAGENT_OK)
		goto fail;
	st = vagent__faults_check_slot(p->base.name, "faults", cfg->faults,
				       cfg->n_faults, "llm", err);
	if (st != VAGENT_OK)
		goto fail;
	st = vagent__faults_copy(p->base.name, "faults", cfg->faults,
				 cfg->n_faults, &p->faults, err);
	if (st != VAGENT_OK)
		goto fail;
	p->n_faults = cfg->n_faults;
	vagent__rng_seed(&p->rng, cfg->seed, VAGENT__SIM_STREAM_LLM);
	*out = &p->base;
	return VAGENT_OK;
fail:
	llm_destroy(p);
	return st;
}
