/*
 * knowledge_tools.c — the "knowledge.search" tool: a tools provider that
 * answers knowledge lookups from the agent's knowledge files (BM25, lib/nlu)
 * and passes every other tool to the provider it wraps, so a knowledge
 * answer shows in the trace as a tool call with its source (docs/flow.md).
 */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "flow/flow_int.h"

struct kreq {
	struct kreq *next;
	struct ktools *k;
	uint64_t id;
	struct vagent_timer *timer;
	vagent_status st;
	char *result;
	bool dead;
};

struct ktools {
	struct vagent_tools base;
	struct vagent_tools *inner;
	struct vagent_kb *kb;
	struct kreq *reqs;
	int busy;
	bool freeing;
};

static void kreq_free(struct kreq *r)
{
	vagent_timer_free(r->timer);
	free(r->result);
	free(r);
}

static void sweep(struct ktools *k)
{
	struct kreq **pp = &k->reqs;

	if (k->busy)
		return;
	while (*pp) {
		struct kreq *r = *pp;

		if (r->dead || k->freeing) {
			*pp = r->next;
			kreq_free(r);
		} else {
			pp = &r->next;
		}
	}
	if (k->freeing) {
		vagent_tools_free(k->inner);
		vagent_kb_free(k->kb);
		free(k);
	}
}

static void on_timer(struct vagent_timer *t, void *arg)
{
	struct kreq *r = arg;
	struct ktools *k = r->k;

	(void)t;
	k->busy++;
	if (!r->dead) {
		r->dead = true;
		k->base.on_result(k->base.ctx, r->id, r->st, r->result);
	}
	k->busy--;
	sweep(k);
}

static void inner_result(void *ctx, uint64_t id, vagent_status st,
			 const char *result)
{
	struct ktools *k = ctx;

	k->base.on_result(k->base.ctx, id, st, result);
}

/* The search's result JSON (transfer full), or NULL without memory. */
static char *search(struct ktools *k, const char *args, vagent_status *st)
{
	cJSON *a = cJSON_Parse(args ? args : ""), *o;
	const cJSON *q = cJSON_GetObjectItemCaseSensitive(a, "query");
	struct vagent_kb_hit hit;
	char *s;

	if (!cJSON_IsString(q)) {
		cJSON_Delete(a);
		*st = VAGENT_EINVAL;
		return strdup("knowledge.search: arguments need a \"query\" string");
	}
	o = cJSON_CreateObject();
	if (o && k->kb && vagent_kb_search(k->kb, q->valuestring, &hit, 1) == 1) {
		cJSON_AddTrueToObject(o, "found");
		cJSON_AddStringToObject(o, "source", hit.source ? hit.source : "");
		cJSON_AddStringToObject(o, "heading", hit.heading ? hit.heading : "");
		cJSON_AddStringToObject(o, "answer", hit.answer ? hit.answer : "");
		cJSON_AddNumberToObject(o, "score",
					(double)llround(hit.score * 1000) / 1000);
	} else if (o) {
		cJSON_AddFalseToObject(o, "found");
	}
	cJSON_Delete(a);
	s = o ? cJSON_PrintUnformatted(o) : NULL;
	cJSON_Delete(o);
	*st = VAGENT_OK;
	return s;
}

static vagent_status kt_call(struct vagent_tools *t, uint64_t id,
			     const char *name, const char *args,
			     struct vagent_error *err)
{
	struct ktools *k = (struct ktools *)t;
	struct kreq *r;

	if (!name)
		return vagent__error_set(err, VAGENT_EINVAL, t->name, "no tool name");
	if (strcmp(name, VAGENT_KNOWLEDGE_TOOL) != 0) {
		struct vagent_tools *in = k->inner;

		if (!in)
			return vagent__error_set(err, VAGENT_EINVAL, t->name,
						 "unknown tool \"%s\"", name);
		in->loop = t->loop;
		in->origin = t->origin;
		in->on_result = inner_result;
		in->ctx = k;
		return in->ops->call(in, id, name, args, err);
	}
	if (!t->loop || !t->on_result)
		return vagent__error_set(err, VAGENT_EINVAL, t->name,
					 "loop or callback not set");
	r = calloc(1, sizeof(*r));
	if (!r)
		return vagent__error_set(err, VAGENT_ENOMEM, t->name, "out of memory");
	r->k = k;
	r->id = id;
	r->result = search(k, args, &r->st);
	r->timer = vagent_timer_new(t->loop, on_timer, r);
	if (!r->result || !r->timer ||
	    vagent_timer_start(r->timer, 0, 0, err) != VAGENT_OK) {
		kreq_free(r);
		return vagent__error_set(err, VAGENT_ENOMEM, t->name, "out of memory");
	}
	r->next = k->reqs;
	k->reqs = r;
	return VAGENT_OK;
}

static void kt_cancel(struct vagent_tools *t, uint64_t id)
{
	struct ktools *k = (struct ktools *)t;
	struct kreq *r;

	for (r = k->reqs; r; r = r->next)
		if (r->id == id) {
			r->dead = true;
			vagent_timer_stop(r->timer);
		}
	if (k->inner)
		k->inner->ops->cancel(k->inner, id);
	sweep(k);
}

static void kt_stop(struct vagent_tools *t)
{
	struct ktools *k = (struct ktools *)t;
	struct kreq *r;

	for (r = k->reqs; r; r = r->next) {
		r->dead = true;
		vagent_timer_stop(r->timer);
	}
	if (k->inner)
		k->inner->ops->stop(k->inner);
	sweep(k);
}

static void kt_free(struct vagent_tools *t)
{
	struct ktools *k = (struct ktools *)t;

	kt_stop(t);
	k->freeing = true;
	sweep(k);
}

static const struct vagent_tools_ops kt_ops = {
	.call = kt_call,
	.cancel = kt_cancel,
	.stop = kt_stop,
	.free = kt_free,
};

/*
 * Add a knowledge file under its name relative to the agent's directory
 * (so sources read "store.md#returns" wherever the agent lives: traces
 * stay the same on every machine).
 */
static vagent_status add_file(struct vagent_kb *kb,
			      const struct vagent_agent *agent,
			      const char *path, struct vagent_error *err)
{
	const char *source = path;
	size_t dl = agent->base_dir ? strlen(agent->base_dir) : 0;
	char *text = NULL;
	size_t len = 0;
	vagent_status st;

	if (dl && strncmp(path, agent->base_dir, dl) == 0 && path[dl] == '/')
		source = path + dl + 1;
	st = vagent__read_file(path, 64u << 20, &text, &len, err);
	if (st != VAGENT_OK)
		return st;
	if (memchr(text, '\0', len)) {
		free(text);
		return vagent__error_set(err, VAGENT_EFORMAT, path,
					 "not a text file (NUL byte)");
	}
	st = vagent_kb_add_text(kb, source, text, err);
	free(text);
	return st;
}

vagent_status vagent_knowledge_tools_new(const struct vagent_agent *agent,
					 struct vagent_tools *inner,
					 struct vagent_tools **out,
					 struct vagent_error *err)
{
	struct ktools *k;
	vagent_status st;
	size_t i;

	if (!out) {
		vagent_tools_free(inner);
		return vagent__error_set(err, VAGENT_EINVAL, "knowledge",
					 "no output pointer");
	}
	*out = NULL;
	k = calloc(1, sizeof(*k));
	if (!k) {
		vagent_tools_free(inner);
		return vagent__error_set(err, VAGENT_ENOMEM, "knowledge",
					 "out of memory");
	}
	k->base.ops = &kt_ops;
	snprintf(k->base.name, sizeof(k->base.name), "%s",
		 inner ? inner->name : "knowledge");
	k->inner = inner;
	st = vagent_kb_new(&k->kb);
	if (st != VAGENT_OK) {
		vagent__error_set(err, st, "knowledge", "out of memory");
		goto fail;
	}
	for (i = 0; agent && agent->knowledge && agent->knowledge[i]; i++) {
		st = add_file(k->kb, agent, agent->knowledge[i], err);
		if (st != VAGENT_OK)
			goto fail;
	}
	*out = &k->base;
	return VAGENT_OK;
fail:
	k->freeing = true;
	sweep(k);
	return st;
}
