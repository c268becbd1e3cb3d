/*
 * sim_tools.c — simulated tools: each named tool answers its fixed JSON
 * result after a seeded latency; faults count each tool's own calls
 * (docs/simulation.md).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sim/sim_int.h"

#define MALFORMED_RESULT "{\"balance\": "

struct sim_tool {
	char *name, *result;
	struct vagent_latency latency;
	struct vagent_fault *faults;
	size_t n_faults;
	int calls;
};

struct sim_tools;

struct tools_req {
	struct vagent__sim_req base;
	struct sim_tools *p;
	vagent_status st;
	char *result;                   /* what on_result says (owned) */
};

struct sim_tools {
	struct vagent_tools base;
	struct sim_tool *tools;
	size_t n_tools;
	struct vagent__rng rng;
	struct vagent__sim_reqs reqs;
};

static void req_free(struct vagent__sim_req *b)
{
	struct tools_req *r = (struct tools_req *)b;

	vagent_timer_free(r->base.timer);
	free(r->result);
	free(r);
}

static void tools_destroy(struct sim_tools *p)
{
	size_t i;

	for (i = 0; i < p->n_tools; i++) {
		free(p->tools[i].name);
		free(p->tools[i].result);
		free(p->tools[i].faults);
	}
	free(p->tools);
	free(p);
}

static void sweep(struct sim_tools *p)
{
	if (vagent__sim_reqs_sweep(&p->reqs, req_free))
		tools_destroy(p);
}

static void on_timer(struct vagent_timer *t, void *arg)
{
	struct tools_req *r = arg;
	struct sim_tools *p = r->p;

	(void)t;
	p->reqs.busy++;
	vagent__sim_req_end(&r->base);
	p->base.on_result(p->base.ctx, r->base.id, r->st, r->result);
	p->reqs.busy--;
	sweep(p);
}

static struct sim_tool *find_tool(struct sim_tools *p, const char *name)
{
	size_t i;

	for (i = 0; i < p->n_tools; i++)
		if (strcmp(p->tools[i].name, name) == 0)
			return &p->tools[i];
	return NULL;
}

static vagent_status tools_call(struct vagent_tools *t, uint64_t id,
				const char *name, const char *args,
				struct vagent_error *err)
{
	struct sim_tools *p = (struct sim_tools *)t;
	struct vagent__strbuf msg = { 0 };
	const struct vagent_fault *f;
	struct sim_tool *tool;
	struct tools_req *r;
	int64_t now, at, lat;
	bool answers = true;

	(void)args;
	if (!name)
		return vagent__error_set(err, VAGENT_EINVAL, t->name,
					 "no tool name");
	if (!t->loop || !t->on_result)
		return vagent__error_set(err, VAGENT_EINVAL, t->name,
					 "loop or callback not set");
	r = calloc(1, sizeof(*r));
	if (!r)
		return vagent__error_set(err, VAGENT_ENOMEM, t->name,
					 "out of memory");
	r->p = p;
	r->base.id = id;
	r->base.timer = vagent_timer_new(t->loop, on_timer, r);
	if (!r->base.timer) {
		req_free(&r->base);
		return vagent__error_set(err, VAGENT_ENOMEM, t->name,
					 "out of memory");
	}
	now = vagent_loop_now(t->loop);
	at = now;
	tool = find_tool(p, name);
	if (!tool) {
		r->st = VAGENT_EINVAL;
		vagent__strbuf_printf(&msg, "%s: unknown tool '%s'", t->name,
				      name);
	} else {
		static const struct vagent_fault none = { 0 };

		tool->calls++;
		lat = vagent__latency_draw(&p->rng, &tool->latency);
		f = vagent__fault_match(tool->faults, tool->n_faults,
					tool->calls);
		if (!f)
			f = &none;
		r->st = VAGENT_OK;
		at = now + lat;
		switch (f->kind) {
		case VAGENT_FAULT_DELAY:
		case VAGENT_FAULT_STALL:
			at += vagent_ticks_from_ms(f->delay_ms);
			vagent__strbuf_puts(&msg, tool->result);
			break;
		case VAGENT_FAULT_TIMEOUT:
			answers = false;
			vagent__strbuf_puts(&msg, "");
			break;
		case VAGENT_FAULT_ERROR:
			r->st = VAGENT_EPROVIDER;
			at = now + vagent_ticks_from_ms(f->delay_ms);
			vagent__strbuf_printf(&msg,
				"%s: tool '%s' returned HTTP %d (injected error)",
				t->name, name,
				f->http_status ? f->http_status : 500);
			break;
		case VAGENT_FAULT_DISCONNECT:
			r->st = VAGENT_EIO;
			at = now + vagent_ticks_from_ms(f->delay_ms);
			vagent__strbuf_printf(&msg,
				"%s: tool '%s': connection reset (injected)",
				t->name, name);
			break;
		case VAGENT_FAULT_MALFORMED:
			vagent__strbuf_puts(&msg, MALFORMED_RESULT);
			break;
		case VAGENT_FAULT_NONE:
		case VAGENT_FAULT_DROP:         /* refused when made */
		case VAGENT_FAULT_WRONG_WORDS:
			vagent__strbuf_puts(&msg, tool->result);
			break;
		}
	}
	r->result = vagent__strbuf_detach(&msg);
	if (!r->result) {
		req_free(&r->base);
		return vagent__error_set(err, VAGENT_ENOMEM, t->name,
					 "out of memory");
	}
	if (answers &&
	    vagent_timer_start_at(r->base.timer, at, 0, err) != VAGENT_OK) {
		req_free(&r->base);
		return err ? err->status : VAGENT_ENOMEM;
	}
	vagent__sim_req_add(&p->reqs, &r->base);
	return VAGENT_OK;
}

static void tools_cancel(struct vagent_tools *t, uint64_t id)
{
	struct sim_tools *p = (struct sim_tools *)t;

	vagent__sim_reqs_cancel(&p->reqs, id);
	sweep(p);
}

static void tools_stop(struct vagent_tools *t)
{
	struct sim_tools *p = (struct sim_tools *)t;

	vagent__sim_reqs_end_all(&p->reqs);
	sweep(p);
}

static void tools_free(struct vagent_tools *t)
{
	struct sim_tools *p = (struct sim_tools *)t;

	vagent__sim_reqs_end_all(&p->reqs);
	p->reqs.freeing = true;
	sweep(p);
}

static const struct vagent_tools_ops tools_ops = {
	.call = tools_call,
	.cancel = tools_cancel,
	.stop = tools_stop,
	.free = tools_free,
};

static vagent_status copy_tools(struct sim_tools *p,
				const struct vagent_sim_tools_config *cfg,
				struct vagent_error *err)
{
	const char *where = p->base.name;
	size_t i, j;

	if (cfg->n_tools == 0)
		return VAGENT_OK;
	if (!cfg->tools)
		return vagent__error_set(err, VAGENT_EINVAL, where,
					 "%zu tools but no list", cfg->n_tools);
	p->tools = calloc(cfg->n_tools, sizeof(*p->tools));
	if (!p->tools)
		return vagent__error_set(err, VAGENT_ENOMEM, where,
					 "out of memory");
	p->n_tools = cfg->n_tools;
	for (i = 0; i < cfg->n_tools; i++) {
		const struct vagent_sim_tool *in = &cfg->tools[i];
		struct sim_tool *tool = &p->tools[i];
		char what[48];
		vagent_status st;
		bool ok = true;

		if (!in->name || !in->name[0])
			return vagent__error_set(err, VAGENT_EINVAL, where,
						 "tools[%zu]: no name", i);
		for (j = 0; j < i; j++)
			if (strcmp(cfg->tools[j].name, in->name) == 0)
				return vagent__error_set(err, VAGENT_EINVAL,
					where, "tools[%zu]: '%s' is already tools[%zu]",
					i, in->name, j);
		tool->name = vagent__sim_strdup(in->name, &ok);
		tool->result = vagent__sim_strdup(in->result ? in->result : "{}",
						  &ok);
		if (!ok)
			return vagent__error_set(err, VAGENT_ENOMEM, where,
						 "out of memory");
		snprintf(what, sizeof(what), "tools[%zu].latency", i);
		st = vagent__latency_check(where, what, &in->latency, err);
		if (st != VAGENT_OK)
			return st;
		tool->latency = in->latency;
		snprintf(what, sizeof(what), "tools[%zu].faults", i);
		st = vagent__faults_check_slot(where, what, in->faults,
					       in->n_faults, "tool", err);
		if (st == VAGENT_OK)
			st = vagent__faults_copy(where, what, in->faults, in->n_faults,
					 &tool->faults, err);
		if (st != VAGENT_OK)
			return st;
		tool->n_faults = in->n_faults;
	}
	return VAGENT_OK;
}

vagent_status vagent_sim_tools_new(const struct vagent_sim_tools_config *cfg,
				   struct vagent_tools **out,
				   struct vagent_error *err)
{
	struct sim_tools *p;
	vagent_status st;

	if (!out)
		return vagent__error_set(err, VAGENT_EINVAL, "sim-tools",
					 "no output pointer");
	*out = NULL;
	if (!cfg)
		return vagent__error_set(err, VAGENT_EINVAL, "sim-tools",
					 "no configuration");
	p = calloc(1, sizeof(*p));
	if (!p)
		return vagent__error_set(err, VAGENT_ENOMEM, "sim-tools",
					 "out of memory");
	p->base.ops = &tools_ops;
	vagent__sim_name(p->base.name, cfg->name, "sim-tools");
	st = copy_tools(p, cfg, err);
	if (st != VAGENT_OK) {
		tools_destroy(p);
		return st;
	}
	vagent__rng_seed(&p->rng, cfg->seed, VAGENT__SIM_STREAM_TOOLS);
	*out = &p->base;
	return VAGENT_OK;
}
