/*
 * llm_int.h — private interface of the cloud LLM brains (lib/llm): the
 * provider-neutral core (conversation, HTTP streaming, retries, the
 * brain slot's callbacks; llm.c) and the wire protocols that encode a
 * request and decode the SSE events (openai.c, anthropic.c).
 */
#ifndef VAGENT_LLM_INT_H
#define VAGENT_LLM_INT_H

#include <cjson/cJSON.h>

#include "net/http_stream_int.h"

#define VAGENT__LLM_MAX_CALLS 16

enum vagent__llm_role { VAGENT__LLM_USER, VAGENT__LLM_ASSISTANT, VAGENT__LLM_TOOL };

struct vagent__llm_call {
	char *id, *name;                   /* name: the agent's tool name */
	char *args;                        /* JSON text */
};

/* One message of the conversation, provider-neutral. */
struct vagent__llm_msg {
	enum vagent__llm_role role;
	char *text;                        /* user/assistant text, tool result */
	struct vagent__llm_call *calls;    /* assistant tool calls */
	size_t n_calls;
	char *call_id;                     /* tool: the call answered */
	bool is_error;                     /* tool: the result is an error */
};

/* A tool as offered to the model. */
struct vagent__llm_tool {
	char *name;                        /* the agent's ("knowledge.search") */
	char *wire;                        /* the model's ([A-Za-z0-9_-]{1,64}) */
	char *description;
	char *parameters;                  /* JSON Schema text */
};

struct vagent__llm;

struct vagent__llm_proto {
	const char *name;                  /* "openai" */
	const char *default_base_url;
	const char *path;                  /* appended to the base URL */
	/* Auth and protocol headers ("Name: value", malloc'd) into `out`
	 * (room for 4); returns how many. */
	size_t (*headers)(const struct vagent__llm *l, char **out);
	/* The request body (malloc'd JSON), or NULL when out of memory. */
	char *(*body)(const struct vagent__llm *l);
	/* One SSE event; false stops the stream (the core was told why). */
	bool (*event)(struct vagent__llm *l, const char *event, const char *data);
	/* Whether a 2xx response's stream reached its proper end. */
	bool (*complete)(const struct vagent__llm *l);
};

/* The per-response state the decoders fill through the core. */
struct vagent__llm_reply {
	struct vagent__strbuf text;        /* this response's text */
	struct {
		struct vagent__strbuf id, name, args;
		bool used;
	} calls[VAGENT__LLM_MAX_CALLS];
	char finish[32];                   /* finish/stop reason as sent */
	bool done_marker;                  /* [DONE] / message_stop */
	long output_tokens;                /* Anthropic: the cumulative count */
	bool failed;
	vagent_status fail_st;
	char fail_msg[300];
};

struct vagent__llm {
	struct vagent_brain base;
	const struct vagent__llm_proto *proto;
	struct vagent_llm_config cfg;      /* strings below are copies */
	char *url, *api_key, *api_key_env, *model, *system, *greeting;
	struct vagent__llm_tool *tools;
	size_t n_tools;
	struct vagent__llm_msg *msgs;
	size_t n_msgs, cap_msgs;
	struct vagent__http *http;
	struct vagent__http_req *req;
	struct vagent__sse sse;
	struct vagent__llm_reply reply;
	uint64_t id;
	bool active, stopped, emitted, got_first_byte;
	int attempt, pending_tools;
	bool turn_first_token;             /* on_first_token said this turn */
	char turn_tail;                    /* the last character said this turn */
	int64_t req_start;
	struct vagent_timer *retry_timer, *event_timer;
	/* what event_timer reports: the greeting, or a failure */
	enum { LLM_EV_NONE, LLM_EV_GREETING, LLM_EV_ERROR } ev_kind;
	vagent_status ev_st;
	char ev_msg[512];
	struct vagent__rng rng;
	struct vagent_llm_usage usage;
};

vagent_status vagent__llm_new(const struct vagent__llm_proto *proto,
			      const struct vagent_llm_config *cfg,
			      struct vagent_brain **out, struct vagent_error *err);

/* For the decoders. */
/* Streamed text; false when the reply was cancelled meanwhile (stop). */
bool vagent__llm_text(struct vagent__llm *l, const char *delta);
/* Slot `index` of this response's tool calls (NULL when out of range). */
bool vagent__llm_call_start(struct vagent__llm *l, int index, const char *id,
			    const char *name);
void vagent__llm_call_args(struct vagent__llm *l, int index, const char *frag);
void vagent__llm_usage(struct vagent__llm *l, long prompt, long completion);
/* A failure inside the stream: stops it; reported when it ends. */
void vagent__llm_stream_error(struct vagent__llm *l, vagent_status st,
			      const char *fmt, ...) VAGENT__PRINTF(3, 4);
/* The agent's tool name of a wire name (the wire name when unknown). */
const char *vagent__llm_tool_name(const struct vagent__llm *l, const char *wire);
/* The message of a provider's JSON error body ("" when none). */
void vagent__llm_error_message(const char *body, char *out, size_t size);

#endif
