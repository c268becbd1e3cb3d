/*
 * openai.c — the OpenAI Chat Completions wire protocol for the LLM core
 * (../shared/protocols/openai-chat-sse.md): the request (system prompt,
 * conversation, tools, stream with include_usage) and the decoding of
 * chat.completion.chunk events (content deltas, tool_calls fragments
 * joined by index, finish_reason, usage, in-stream errors, [DONE]).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "llm/llm_int.h"

static size_t openai_headers(const struct vagent__llm *l, char **out)
{
	size_t n = 0;

	out[n++] = strdup("Content-Type: application/json");
	out[n++] = strdup("Accept: text/event-stream");
	if (l->api_key) {
		size_t len = strlen(l->api_key) + 32;

		out[n] = malloc(len);
		if (out[n])
			snprintf(out[n], len, "Authorization: Bearer %s", l->api_key);
		n++;
	}
	return n;
}

static cJSON *tool_calls_json(const struct vagent__llm *l, const struct vagent__llm_msg *m)
{
	cJSON *a = cJSON_CreateArray();

	for (size_t i = 0; i < m->n_calls; i++) {
		cJSON *c = cJSON_CreateObject(), *f = cJSON_CreateObject();
		const char *wire = m->calls[i].name;

		for (size_t k = 0; k < l->n_tools; k++)
			if (!strcmp(l->tools[k].name, wire))
				wire = l->tools[k].wire;
		cJSON_AddStringToObject(c, "id", m->calls[i].id);
		cJSON_AddStringToObject(c, "type", "function");
		cJSON_AddStringToObject(f, "name", wire);
		cJSON_AddStringToObject(f, "arguments", m->calls[i].args);
		cJSON_AddItemToObject(c, "function", f);
		cJSON_AddItemToArray(a, c);
	}
	return a;
}

static char *openai_body(const struct vagent__llm *l)
{
	cJSON *r = cJSON_CreateObject(), *msgs, *m, *so;
	char *s;

	cJSON_AddStringToObject(r, "model", l->model);
	msgs = cJSON_AddArrayToObject(r, "messages");
	if (l->system) {
		m = cJSON_CreateObject();
		cJSON_AddStringToObject(m, "role", "system");
		cJSON_AddStringToObject(m, "content", l->system);
		cJSON_AddItemToArray(msgs, m);
	}
	for (size_t i = 0; i < l->n_msgs; i++) {
		const struct vagent__llm_msg *x = &l->msgs[i];

		m = cJSON_CreateObject();
		switch (x->role) {
		case VAGENT__LLM_USER:
			cJSON_AddStringToObject(m, "role", "user");
			cJSON_AddStringToObject(m, "content", x->text ? x->text : "");
			break;
		case VAGENT__LLM_ASSISTANT:
			cJSON_AddStringToObject(m, "role", "assistant");
			if (x->text)
				cJSON_AddStringToObject(m, "content", x->text);
			else
				cJSON_AddNullToObject(m, "content");
			if (x->n_calls)
				cJSON_AddItemToObject(m, "tool_calls", tool_calls_json(l, x));
			break;
		case VAGENT__LLM_TOOL:
			cJSON_AddStringToObject(m, "role", "tool");
			cJSON_AddStringToObject(m, "tool_call_id", x->call_id ? x->call_id : "");
			if (x->is_error) {
				cJSON *e = cJSON_CreateObject();
				char *t;

				cJSON_AddStringToObject(e, "error", x->text ? x->text : "failed");
				t = cJSON_PrintUnformatted(e);
				cJSON_AddStringToObject(m, "content", t ? t : "{\"error\":\"failed\"}");
				cJSON_free(t);
				cJSON_Delete(e);
			} else {
				cJSON_AddStringToObject(m, "content", x->text ? x->text : "");
			}
			break;
		}
		cJSON_AddItemToArray(msgs, m);
	}
	if (l->n_tools) {
		cJSON *tools = cJSON_AddArrayToObject(r, "tools");

		for (size_t i = 0; i < l->n_tools; i++) {
			cJSON *t = cJSON_CreateObject(), *f = cJSON_CreateObject();

			cJSON_AddStringToObject(t, "type", "function");
			cJSON_AddStringToObject(f, "name", l->tools[i].wire);
			cJSON_AddStringToObject(f, "description", l->tools[i].description);
			cJSON_AddItemToObject(f, "parameters", cJSON_Parse(l->tools[i].parameters));
			cJSON_AddItemToObject(t, "function", f);
			cJSON_AddItemToArray(tools, t);
		}
		cJSON_AddStringToObject(r, "tool_choice", "auto");
	}
	cJSON_AddTrueToObject(r, "stream");
	so = cJSON_AddObjectToObject(r, "stream_options");
	cJSON_AddTrueToObject(so, "include_usage");
	if (l->cfg.temperature >= 0)
		cJSON_AddNumberToObject(r, "temperature", l->cfg.temperature);
	/* OpenAI itself renamed the field (its reasoning models refuse the
	 * old name); most compatible servers know only the old one. */
	if (l->cfg.max_tokens > 0)
		cJSON_AddNumberToObject(r, strstr(l->url, "://api.openai.com/") ?
					"max_completion_tokens" : "max_tokens",
					l->cfg.max_tokens);
	s = cJSON_PrintUnformatted(r);
	cJSON_Delete(r);
	return s;
}

static bool openai_event(struct vagent__llm *l, const char *event, const char *data)
{
	cJSON *j;
	const cJSON *choices, *c, *usage, *err;
	bool go = true;

	(void)event;
	if (!strcmp(data, "[DONE]")) {
		l->reply.done_marker = true;
		return true;
	}
	if (l->reply.done_marker)
		return true;                 /* nothing counts after [DONE] */
	j = cJSON_Parse(data);
	if (!cJSON_IsObject(j)) {
		cJSON_Delete(j);
		vagent__llm_stream_error(l, VAGENT_EPROTO, "malformed chunk (not JSON)");
		return false;
	}
	if ((err = cJSON_GetObjectItemCaseSensitive(j, "error")) != NULL) {
		char msg[200];
		char *t = cJSON_PrintUnformatted(j);

		vagent__llm_error_message(t, msg, sizeof(msg));
		cJSON_free(t);
		cJSON_Delete(j);
		vagent__llm_stream_error(l, VAGENT_EPROVIDER, "error in the stream: %s",
					 *msg ? msg : "unknown");
		return false;
	}
	usage = cJSON_GetObjectItemCaseSensitive(j, "usage");
	if (cJSON_IsObject(usage)) {
		const cJSON *p = cJSON_GetObjectItemCaseSensitive(usage, "prompt_tokens");
		const cJSON *q = cJSON_GetObjectItemCaseSensitive(usage, "completion_tokens");

		vagent__llm_usage(l, cJSON_IsNumber(p) ? (long)p->valuedouble : 0,
				  cJSON_IsNumber(q) ? (long)q->valuedouble : 0);
	}
	choices = cJSON_GetObjectItemCaseSensitive(j, "choices");
	cJSON_ArrayForEach(c, choices) {
		const cJSON *idx = cJSON_GetObjectItemCaseSensitive(c, "index");
		const cJSON *delta = cJSON_GetObjectItemCaseSensitive(c, "delta");
		const cJSON *fin = cJSON_GetObjectItemCaseSensitive(c, "finish_reason");
		const cJSON *content = cJSON_GetObjectItemCaseSensitive(delta, "content");
		const cJSON *tcs = cJSON_GetObjectItemCaseSensitive(delta, "tool_calls"), *tc;

		if (cJSON_IsNumber(idx) && idx->valuedouble != 0)
			continue;            /* n = 1: only choice 0 */
		cJSON_ArrayForEach(tc, tcs) {
			const cJSON *ti = cJSON_GetObjectItemCaseSensitive(tc, "index");
			const cJSON *id = cJSON_GetObjectItemCaseSensitive(tc, "id");
			const cJSON *fn = cJSON_GetObjectItemCaseSensitive(tc, "function");
			const cJSON *name = cJSON_GetObjectItemCaseSensitive(fn, "name");
			const cJSON *args = cJSON_GetObjectItemCaseSensitive(fn, "arguments");
			int i = cJSON_IsNumber(ti) ? (int)ti->valuedouble : 0;

			if (!vagent__llm_call_start(l, i, cJSON_IsString(id) ? id->valuestring : NULL,
						    cJSON_IsString(name) ? name->valuestring : NULL)) {
				vagent__llm_stream_error(l, VAGENT_EPROTO,
							 "tool call index %d out of range", i);
				go = false;
				break;
			}
			if (cJSON_IsString(args))
				vagent__llm_call_args(l, i, args->valuestring);
		}
		if (go && cJSON_IsString(content) && !vagent__llm_text(l, content->valuestring))
			go = false;
		if (go && cJSON_IsString(fin))
			snprintf(l->reply.finish, sizeof(l->reply.finish), "%s", fin->valuestring);
		if (!go)
			break;
	}
	cJSON_Delete(j);
	return go;
}

/* [DONE] is the end; a server that closes right after the finish chunk
 * without it is accepted (some compatible servers). */
static bool openai_complete(const struct vagent__llm *l)
{
	return l->reply.done_marker || l->reply.finish[0];
}

static const struct vagent__llm_proto openai_proto = {
	.name = "openai",
	.default_base_url = "https://api.openai.com/v1",
	.path = "/chat/completions",
	.headers = openai_headers,
	.body = openai_body,
	.event = openai_event,
	.complete = openai_complete,
};

vagent_status vagent_openai_brain_new(const struct vagent_llm_config *cfg,
				      struct vagent_brain **out,
				      struct vagent_error *err)
{
	return vagent__llm_new(&openai_proto, cfg, out, err);
}
