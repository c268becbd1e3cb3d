/*
 * anthropic.c — the Anthropic Messages wire protocol for the LLM core
 * (../shared/protocols/anthropic-messages-sse.md): the request (top-level
 * system, content blocks, tool_use / tool_result, input_schema tools,
 * max_tokens) and the decoding of the named events (message_start,
 * content_block_start/delta/stop with text_delta and input_json_delta,
 * message_delta with stop_reason and cumulative usage, message_stop,
 * ping, error).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "llm/llm_int.h"

#define ANTHROPIC_VERSION "2023-06-01"

static size_t anthropic_headers(const struct vagent__llm *l, char **out)
{
	size_t n = 0;

	out[n++] = strdup("Content-Type: application/json");
	out[n++] = strdup("Accept: text/event-stream");
	out[n++] = strdup("anthropic-version: " ANTHROPIC_VERSION);
	if (l->api_key) {
		size_t len = strlen(l->api_key) + 16;

		out[n] = malloc(len);
		if (out[n])
			snprintf(out[n], len, "x-api-key: %s", l->api_key);
		n++;
	}
	return n;
}

static const char *wire_of(const struct vagent__llm *l, const char *name)
{
	for (size_t k = 0; k < l->n_tools; k++)
		if (!strcmp(l->tools[k].name, name))
			return l->tools[k].wire;
	return name;
}

/* The message to add blocks of `role` to: the last one when it has that
 * role (the API wants user and assistant turns to alternate). */
static cJSON *turn_of(cJSON *msgs, const char *role)
{
	cJSON *last = cJSON_GetArrayItem(msgs, cJSON_GetArraySize(msgs) - 1), *m;
	const cJSON *r = cJSON_GetObjectItemCaseSensitive(last, "role");

	if (cJSON_IsString(r) && !strcmp(r->valuestring, role))
		return cJSON_GetObjectItemCaseSensitive(last, "content");
	m = cJSON_CreateObject();
	cJSON_AddStringToObject(m, "role", role);
	cJSON_AddItemToArray(msgs, m);
	return cJSON_AddArrayToObject(m, "content");
}

static void add_text(cJSON *blocks, const char *text)
{
	cJSON *b = cJSON_CreateObject();

	cJSON_AddStringToObject(b, "type", "text");
	cJSON_AddStringToObject(b, "text", text);
	cJSON_AddItemToArray(blocks, b);
}

static char *anthropic_body(const struct vagent__llm *l)
{
	cJSON *r = cJSON_CreateObject(), *msgs, *blocks;
	char *s;

	cJSON_AddStringToObject(r, "model", l->model);
	cJSON_AddNumberToObject(r, "max_tokens", l->cfg.max_tokens > 0 ? l->cfg.max_tokens : 1024);
	if (l->system)
		cJSON_AddStringToObject(r, "system", l->system);
	msgs = cJSON_AddArrayToObject(r, "messages");
	if (l->n_msgs && l->msgs[0].role == VAGENT__LLM_ASSISTANT)
		/* the conversation must open with the caller */
		add_text(turn_of(msgs, "user"), "(The call has connected.)");
	for (size_t i = 0; i < l->n_msgs; i++) {
		const struct vagent__llm_msg *x = &l->msgs[i];

		switch (x->role) {
		case VAGENT__LLM_USER:
			add_text(turn_of(msgs, "user"), x->text ? x->text : "");
			break;
		case VAGENT__LLM_ASSISTANT:
			blocks = turn_of(msgs, "assistant");
			if (x->text)
				add_text(blocks, x->text);
			for (size_t k = 0; k < x->n_calls; k++) {
				cJSON *b = cJSON_CreateObject(), *input = cJSON_Parse(x->calls[k].args);

				if (!cJSON_IsObject(input)) {
					cJSON_Delete(input);
					input = cJSON_CreateObject();
				}
				cJSON_AddStringToObject(b, "type", "tool_use");
				cJSON_AddStringToObject(b, "id", x->calls[k].id);
				cJSON_AddStringToObject(b, "name", wire_of(l, x->calls[k].name));
				cJSON_AddItemToObject(b, "input", input);
				cJSON_AddItemToArray(blocks, b);
			}
			break;
		case VAGENT__LLM_TOOL: {
			cJSON *b = cJSON_CreateObject();

			cJSON_AddStringToObject(b, "type", "tool_result");
			cJSON_AddStringToObject(b, "tool_use_id", x->call_id ? x->call_id : "");
			cJSON_AddStringToObject(b, "content", x->text ? x->text : "");
			if (x->is_error)
				cJSON_AddTrueToObject(b, "is_error");
			cJSON_AddItemToArray(turn_of(msgs, "user"), b);
			break;
		}
		}
	}
	if (l->n_tools) {
		cJSON *tools = cJSON_AddArrayToObject(r, "tools"), *tc;

		for (size_t i = 0; i < l->n_tools; i++) {
			cJSON *t = cJSON_CreateObject();

			cJSON_AddStringToObject(t, "name", l->tools[i].wire);
			cJSON_AddStringToObject(t, "description", l->tools[i].description);
			cJSON_AddItemToObject(t, "input_schema", cJSON_Parse(l->tools[i].parameters));
			cJSON_AddItemToArray(tools, t);
		}
		tc = cJSON_AddObjectToObject(r, "tool_choice");
		cJSON_AddStringToObject(tc, "type", "auto");
	}
	cJSON_AddTrueToObject(r, "stream");
	if (l->cfg.temperature >= 0)
		cJSON_AddNumberToObject(r, "temperature", l->cfg.temperature);
	s = cJSON_PrintUnformatted(r);
	cJSON_Delete(r);
	return s;
}

static bool anthropic_event(struct vagent__llm *l, const char *event, const char *data)
{
	cJSON *j = cJSON_Parse(data);
	const cJSON *type = cJSON_GetObjectItemCaseSensitive(j, "type");
	const char *t = cJSON_IsString(type) ? type->valuestring : event;
	const cJSON *idx = cJSON_GetObjectItemCaseSensitive(j, "index");
	int index = cJSON_IsNumber(idx) ? (int)idx->valuedouble : 0;
	bool go = true;

	if (!cJSON_IsObject(j)) {
		cJSON_Delete(j);
		vagent__llm_stream_error(l, VAGENT_EPROTO, "malformed event (not JSON)");
		return false;
	}
	if (!strcmp(t, "message_start")) {
		const cJSON *u = cJSON_GetObjectItemCaseSensitive(
			cJSON_GetObjectItemCaseSensitive(j, "message"), "usage");
		const cJSON *in = cJSON_GetObjectItemCaseSensitive(u, "input_tokens");

		if (cJSON_IsNumber(in))
			vagent__llm_usage(l, (long)in->valuedouble, 0);
	} else if (!strcmp(t, "content_block_start")) {
		const cJSON *b = cJSON_GetObjectItemCaseSensitive(j, "content_block");
		const cJSON *bt = cJSON_GetObjectItemCaseSensitive(b, "type");

		if (cJSON_IsString(bt) && !strcmp(bt->valuestring, "tool_use")) {
			const cJSON *id = cJSON_GetObjectItemCaseSensitive(b, "id");
			const cJSON *name = cJSON_GetObjectItemCaseSensitive(b, "name");

			if (!vagent__llm_call_start(l, index, cJSON_IsString(id) ? id->valuestring : NULL,
						    cJSON_IsString(name) ? name->valuestring : NULL)) {
				vagent__llm_stream_error(l, VAGENT_EPROTO,
							 "content block index %d out of range", index);
				go = false;
			}
		}
	} else if (!strcmp(t, "content_block_delta")) {
		const cJSON *d = cJSON_GetObjectItemCaseSensitive(j, "delta");
		const cJSON *dt = cJSON_GetObjectItemCaseSensitive(d, "type");
		const cJSON *text = cJSON_GetObjectItemCaseSensitive(d, "text");
		const cJSON *pj = cJSON_GetObjectItemCaseSensitive(d, "partial_json");

		if (cJSON_IsString(dt) && !strcmp(dt->valuestring, "text_delta") &&
		    cJSON_IsString(text))
			go = vagent__llm_text(l, text->valuestring);
		else if (cJSON_IsString(dt) && !strcmp(dt->valuestring, "input_json_delta") &&
			 cJSON_IsString(pj))
			vagent__llm_call_args(l, index, pj->valuestring);
		/* thinking, signature, citations: not spoken */
	} else if (!strcmp(t, "message_delta")) {
		const cJSON *sr = cJSON_GetObjectItemCaseSensitive(
			cJSON_GetObjectItemCaseSensitive(j, "delta"), "stop_reason");
		const cJSON *out = cJSON_GetObjectItemCaseSensitive(
			cJSON_GetObjectItemCaseSensitive(j, "usage"), "output_tokens");

		if (cJSON_IsString(sr))
			snprintf(l->reply.finish, sizeof(l->reply.finish), "%s", sr->valuestring);
		if (cJSON_IsNumber(out))
			l->reply.output_tokens = (long)out->valuedouble;   /* cumulative */
	} else if (!strcmp(t, "message_stop")) {
		l->reply.done_marker = true;
		vagent__llm_usage(l, 0, l->reply.output_tokens);
	} else if (!strcmp(t, "error")) {
		const cJSON *e = cJSON_GetObjectItemCaseSensitive(j, "error");
		const cJSON *m = cJSON_GetObjectItemCaseSensitive(e, "message");
		const cJSON *et = cJSON_GetObjectItemCaseSensitive(e, "type");

		vagent__llm_stream_error(l, VAGENT_EPROVIDER, "error in the stream: %s (%s)",
					 cJSON_IsString(m) ? m->valuestring : "unknown",
					 cJSON_IsString(et) ? et->valuestring : "error");
		go = false;
	}                                    /* ping and new types: ignored */
	cJSON_Delete(j);
	return go;
}

/* No [DONE] here: message_stop is the end. */
static bool anthropic_complete(const struct vagent__llm *l)
{
	return l->reply.done_marker;
}

static const struct vagent__llm_proto anthropic_proto = {
	.name = "anthropic",
	.default_base_url = "https://api.anthropic.com/v1",
	.path = "/messages",
	.headers = anthropic_headers,
	.body = anthropic_body,
	.event = anthropic_event,
	.complete = anthropic_complete,
};

vagent_status vagent_anthropic_brain_new(const struct vagent_llm_config *cfg,
					 struct vagent_brain **out,
					 struct vagent_error *err)
{
	return vagent__llm_new(&anthropic_proto, cfg, out, err);
}
