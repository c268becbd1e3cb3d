/*
 * check_llm.c — the OpenAI-compatible LLM brain against the loopback fake:
 * streamed text and usage, the request it sends (system prompt, history,
 * tools, stream options, the key), a tool call joined from fragments and
 * its result sent back, retries (429 with retry-after, 500) only before
 * the first token, authentication and mid-stream failures, a malformed
 * chunk, an in-stream error, a stall, a cancel that closes the stream,
 * the verbatim greeting; the agent file's brain settings; and whole calls
 * of the example agent with the LLM brain (a tool call, a barge-in that
 * closes the stream, a mid-stream failure that falls back to the flow).
 */
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "vagent.h"
#include "llm/llm_int.h"
#include "support/fake_openai.h"
#include "support/harness.h"

#define KEY "sk-test-0123456789"

/* What the brain told its session. */
struct heard {
	struct vagent_brain *b;
	char text[4096];
	int first_tokens, dones, errors, tool_calls;
	vagent_status error_st;
	char error[512];
	char tool_name[64], tool_id[64], tool_args[256];
	uint64_t id;
	bool cancel_on_text;               /* cancel at the first text */
	const char *tool_result;           /* answer tool calls with this */
	struct vagent_timer *answer;
	int first_bytes;                   /* on_first_byte calls */
	int64_t first_byte_sent;           /* the last one's `sent` */
	int64_t first_byte_at;             /* ... and when it was told */
	struct vagent_loop *loop;
};

static void on_first_byte(void *ctx, uint64_t id, int64_t sent)
{
	struct heard *h = ctx;

	ck_assert_uint_eq(id, h->id);
	h->first_bytes++;
	h->first_byte_sent = sent;
	h->first_byte_at = vagent_loop_now(h->loop);
}

static void on_first_token(void *ctx, uint64_t id)
{
	struct heard *h = ctx;

	ck_assert_uint_eq(id, h->id);
	h->first_tokens++;
}

static void on_text(void *ctx, uint64_t id, const char *delta)
{
	struct heard *h = ctx;

	ck_assert_uint_eq(id, h->id);
	strncat(h->text, delta, sizeof(h->text) - strlen(h->text) - 1);
	if (h->cancel_on_text)
		h->b->ops->cancel(h->b, id);
}

static void answer_tool(struct vagent_timer *t, void *arg)
{
	struct heard *h = arg;

	(void)t;
	h->b->ops->tool_result(h->b, h->id, h->tool_id, VAGENT_OK, h->tool_result);
}

static void on_tool_call(void *ctx, uint64_t id, const char *name, const char *call_id,
			 const char *args)
{
	struct heard *h = ctx;

	ck_assert_uint_eq(id, h->id);
	h->tool_calls++;
	snprintf(h->tool_name, sizeof(h->tool_name), "%s", name);
	snprintf(h->tool_id, sizeof(h->tool_id), "%s", call_id);
	snprintf(h->tool_args, sizeof(h->tool_args), "%s", args);
	if (h->tool_result)                /* answer later, as a session does */
		vagent_timer_start(h->answer, 10 * VAGENT_TICKS_PER_MS, 0, NULL);
}

static void on_done(void *ctx, uint64_t id)
{
	struct heard *h = ctx;

	ck_assert_uint_eq(id, h->id);
	h->dones++;
}

static void on_error(void *ctx, uint64_t id, vagent_status st, const char *message)
{
	struct heard *h = ctx;

	ck_assert_uint_eq(id, h->id);
	h->errors++;
	h->error_st = st;
	snprintf(h->error, sizeof(h->error), "%s", message);
}

static const struct vagent_tool_def order_tool = {
	.name = "orders.status",
	.description = "Look up an order by its five digit number",
	.parameters = "{\"type\":\"object\",\"properties\":{\"order_number\":"
		      "{\"type\":\"string\"}},\"required\":[\"order_number\"]}",
};

/* The protocol of the next rig_start: Anthropic's rather than OpenAI's. */
static bool rig_anthropic;

struct rig {
	struct fake_openai *fake;
	struct vagent_loop *loop;
	struct vagent_brain *brain;
	struct heard h;
};

static void rig_start(struct rig *r, struct fake_reply *replies, int n, int pace_ms,
		      struct vagent_llm_config *cfg_in)
{
	struct fake_openai_config fc = { .replies = replies, .n_replies = n,
					 .pace_ms = pace_ms, .api_key = KEY,
					 .anthropic = rig_anthropic };
	struct vagent_loop_config lc = vagent_loop_config_default();
	struct vagent_llm_config c = cfg_in ? *cfg_in : vagent_llm_config_default();
	struct vagent_error err;

	memset(r, 0, sizeof(*r));
	r->fake = fake_openai_start(&fc);
	ck_assert_ptr_nonnull(r->fake);
	lc.clock = VAGENT_CLOCK_VIRTUAL;
	lc.workers = 1;
	ck_assert_int_eq(vagent_loop_new(&lc, &r->loop, &err), VAGENT_OK);
	snprintf(c.name, sizeof(c.name), "fakeai");
	c.base_url = fake_openai_url(r->fake);
	if (!c.api_key)
		c.api_key = KEY;
	c.api_key_env = "FAKE_KEY";
	if (!c.model)
		c.model = "fake-gpt";
	if (!c.system)
		c.system = "You are a phone agent.";
	c.tools = &order_tool;
	c.n_tools = 1;
	c.knowledge = true;
	ck_assert_msg((rig_anthropic ? vagent_anthropic_brain_new(&c, &r->brain, &err)
				     : vagent_openai_brain_new(&c, &r->brain, &err)) == VAGENT_OK,
		      "%s", err.message);
	ck_assert_str_eq(r->brain->name, "fakeai");
	r->h.b = r->brain;
	r->brain->loop = r->loop;
	r->brain->ctx = &r->h;
	r->brain->on_first_token = on_first_token;
	r->brain->on_text = on_text;
	r->brain->on_tool_call = on_tool_call;
	r->brain->on_done = on_done;
	r->brain->on_error = on_error;
	r->brain->on_first_byte = on_first_byte;
	r->h.loop = r->loop;
	r->h.answer = vagent_timer_new(r->loop, answer_tool, &r->h);
}

/* Ask turn `turn` and run the loop until nothing is left to do. */
static void rig_ask(struct rig *r, int turn, const char *text)
{
	struct vagent_brain_request rq = { .id = (uint64_t)turn + 100, .turn = turn,
					   .caller_text = text, .greeting = turn == 0 };
	struct vagent_error err;

	r->h.id = rq.id;
	ck_assert_int_eq(r->brain->ops->respond(r->brain, &rq, &err), VAGENT_OK);
	ck_assert_int_eq(vagent_loop_run(r->loop, VAGENT_RUN_UNTIL_IDLE, &err), VAGENT_OK);
}

static void rig_stop(struct rig *r)
{
	r->brain->ops->stop(r->brain);
	vagent_brain_free(r->brain);
	vagent_timer_free(r->h.answer);
	vagent_loop_free(r->loop);
	fake_openai_stop(r->fake);
}

static struct vagent_llm_usage usage_of(const struct rig *r)
{
	struct vagent_llm_usage u;

	ck_assert_int_eq(vagent_llm_brain_usage(r->brain, &u), VAGENT_OK);
	return u;
}

START_TEST(test_streamed_text)
{
	struct fake_reply rep[] = { { .text = "Sure. Your order is on its way." } };
	struct rig r;
	struct vagent_llm_usage u;
	cJSON *body;
	const cJSON *msgs, *tools;
	char *text, *auth;

	rig_start(&r, rep, 1, 5, NULL);
	rig_ask(&r, 1, "Where is my order?");
	ck_assert_str_eq(r.h.text, "Sure. Your order is on its way.");
	ck_assert_int_eq(r.h.first_tokens, 1);
	ck_assert_int_eq(r.h.dones, 1);
	ck_assert_int_eq(r.h.errors, 0);
	u = usage_of(&r);
	ck_assert_int_eq(u.requests, 1);
	ck_assert_int_eq(u.retries, 0);
	ck_assert_int_eq(u.prompt_tokens, 50);       /* the fake's count */
	ck_assert_int_eq(u.completion_tokens, 9);    /* chunks it sent */
	ck_assert_str_eq(u.finish_reason, "stop");
	ck_assert_int_ge(u.first_byte_ticks, 0);
	/* the request, as the API wants it */
	text = fake_openai_request_body(r.fake, 0);
	body = cJSON_Parse(text);
	ck_assert_str_eq(cJSON_GetObjectItem(body, "model")->valuestring, "fake-gpt");
	ck_assert(cJSON_IsTrue(cJSON_GetObjectItem(body, "stream")));
	ck_assert(cJSON_IsTrue(cJSON_GetObjectItem(cJSON_GetObjectItem(body, "stream_options"),
						   "include_usage")));
	ck_assert_ptr_null(cJSON_GetObjectItem(body, "temperature"));
	msgs = cJSON_GetObjectItem(body, "messages");
	ck_assert_int_eq(cJSON_GetArraySize(msgs), 2);
	ck_assert_str_eq(cJSON_GetObjectItem(cJSON_GetArrayItem(msgs, 0), "role")->valuestring,
			 "system");
	ck_assert_str_eq(cJSON_GetObjectItem(cJSON_GetArrayItem(msgs, 1), "content")->valuestring,
			 "Where is my order?");
	tools = cJSON_GetObjectItem(body, "tools");
	ck_assert_int_eq(cJSON_GetArraySize(tools), 2);
	/* dots are not allowed in a function name: the wire name differs */
	ck_assert_str_eq(cJSON_GetObjectItem(cJSON_GetObjectItem(cJSON_GetArrayItem(tools, 0),
								 "function"), "name")->valuestring,
			 "orders_status");
	ck_assert_str_eq(cJSON_GetObjectItem(cJSON_GetObjectItem(cJSON_GetArrayItem(tools, 1),
								 "function"), "name")->valuestring,
			 "knowledge_search");
	cJSON_Delete(body);
	free(text);
	auth = fake_openai_request_auth(r.fake, 0);
	ck_assert_str_eq(auth, "Bearer " KEY);
	free(auth);
	/* the next turn carries the conversation so far */
	memset(r.h.text, 0, sizeof(r.h.text));
	rig_ask(&r, 2, "Thanks.");
	text = fake_openai_request_body(r.fake, 1);
	body = cJSON_Parse(text);
	msgs = cJSON_GetObjectItem(body, "messages");
	ck_assert_int_eq(cJSON_GetArraySize(msgs), 4);
	ck_assert_str_eq(cJSON_GetObjectItem(cJSON_GetArrayItem(msgs, 2), "content")->valuestring,
			 "Sure. Your order is on its way.");
	ck_assert_str_eq(cJSON_GetObjectItem(cJSON_GetArrayItem(msgs, 2), "role")->valuestring,
			 "assistant");
	cJSON_Delete(body);
	free(text);
	rig_stop(&r);
}
END_TEST

START_TEST(test_tool_call_round_trip)
{
	struct fake_reply rep[] = {
		{ .match = "\"shipped\"", .text = "Order 12345 has shipped." },
		{ .match = "order", .text = "Let me look.",
		  .tool_name = "orders_status", .tool_args = "{\"order_number\":\"12345\"}" },
	};
	struct rig r;
	cJSON *body;
	const cJSON *msgs, *call, *tool;
	char *text;

	rig_start(&r, rep, 2, 0, NULL);
	r.h.tool_result = "{\"status\":\"shipped\"}";
	rig_ask(&r, 1, "Where is my order 12345?");
	ck_assert_int_eq(r.h.tool_calls, 1);
	ck_assert_str_eq(r.h.tool_name, "orders.status");   /* the agent's name */
	ck_assert_str_eq(r.h.tool_id, "call_fake0");
	ck_assert_str_eq(r.h.tool_args, "{\"order_number\":\"12345\"}");
	ck_assert_str_eq(r.h.text, "Let me look. Order 12345 has shipped.");
	ck_assert_int_eq(r.h.dones, 1);
	ck_assert_int_eq(r.h.first_tokens, 1);
	ck_assert_int_eq(fake_openai_requests(r.fake), 2);
	text = fake_openai_request_body(r.fake, 1);
	body = cJSON_Parse(text);
	msgs = cJSON_GetObjectItem(body, "messages");
	ck_assert_int_eq(cJSON_GetArraySize(msgs), 4);
	call = cJSON_GetArrayItem(cJSON_GetObjectItem(cJSON_GetArrayItem(msgs, 2), "tool_calls"), 0);
	ck_assert_str_eq(cJSON_GetObjectItem(call, "id")->valuestring, "call_fake0");
	ck_assert_str_eq(cJSON_GetObjectItem(cJSON_GetObjectItem(call, "function"), "name")->valuestring,
			 "orders_status");
	ck_assert_str_eq(cJSON_GetObjectItem(cJSON_GetObjectItem(call, "function"),
					     "arguments")->valuestring,
			 "{\"order_number\":\"12345\"}");
	tool = cJSON_GetArrayItem(msgs, 3);
	ck_assert_str_eq(cJSON_GetObjectItem(tool, "role")->valuestring, "tool");
	ck_assert_str_eq(cJSON_GetObjectItem(tool, "tool_call_id")->valuestring, "call_fake0");
	ck_assert_str_eq(cJSON_GetObjectItem(tool, "content")->valuestring, "{\"status\":\"shipped\"}");
	cJSON_Delete(body);
	free(text);
	rig_stop(&r);
}
END_TEST

START_TEST(test_retry_after_429)
{
	struct fake_reply rep[] = { { .text = "Hello there.", .fault = FAKE_HTTP_429,
				      .retry_after = "1", .fault_times = 1 } };
	struct rig r;
	struct vagent_llm_usage u;

	rig_start(&r, rep, 1, 0, NULL);
	rig_ask(&r, 1, "Hi");
	ck_assert_str_eq(r.h.text, "Hello there.");
	ck_assert_int_eq(r.h.errors, 0);
	u = usage_of(&r);
	ck_assert_int_eq(u.requests, 2);
	ck_assert_int_eq(u.retries, 1);
	/* retry-after: 1 s on the loop's clock */
	ck_assert_int_ge(vagent_loop_now(r.loop), 1000 * VAGENT_TICKS_PER_MS);
	/* one first byte: the body of the retry that answered, sent after
	 * the 1 s wait (the 429 had a body too, but did not answer) */
	ck_assert_int_eq(r.h.first_bytes, 1);
	ck_assert_int_ge(r.h.first_byte_sent, 1000 * VAGENT_TICKS_PER_MS);
	ck_assert_int_ge(r.h.first_byte_at, r.h.first_byte_sent);
	ck_assert_int_eq(r.h.first_byte_at - r.h.first_byte_sent, u.first_byte_ticks);
	rig_stop(&r);
}
END_TEST

START_TEST(test_server_errors_run_out)
{
	struct fake_reply rep[] = { { .text = "never", .fault = FAKE_HTTP_500 } };
	struct rig r;

	rig_start(&r, rep, 1, 0, NULL);
	rig_ask(&r, 1, "Hi");
	ck_assert_int_eq(r.h.errors, 1);
	ck_assert_int_eq(r.h.error_st, VAGENT_EPROVIDER);
	ck_assert_str_eq(r.h.error, "fakeai: HTTP 500: fake 500 Internal Server Error");
	ck_assert_int_eq(fake_openai_requests(r.fake), 3);     /* 1 + 2 retries */
	ck_assert_int_eq(r.h.first_tokens, 0);
	rig_stop(&r);
}
END_TEST

START_TEST(test_bad_key)
{
	struct fake_reply rep[] = { { .text = "never" } };
	struct vagent_llm_config c = vagent_llm_config_default();
	struct rig r;

	c.api_key = "sk-wrong-key-42";
	rig_start(&r, rep, 1, 0, &c);
	rig_ask(&r, 1, "Hi");
	ck_assert_int_eq(r.h.errors, 1);
	ck_assert_int_eq(r.h.error_st, VAGENT_EAUTH);
	ck_assert_str_eq(r.h.error, "fakeai: authentication failed (HTTP 401; check FAKE_KEY)");
	ck_assert_int_eq(fake_openai_requests(r.fake), 1);     /* not retried */
	rig_stop(&r);
}
END_TEST

/* Faults after the first token are not retried: the session falls back. */
START_TEST(test_mid_stream_failures)
{
	static const struct {
		enum fake_fault fault;
		vagent_status st;
		const char *error;
	} cases[] = {
		{ FAKE_ABRUPT_CLOSE, VAGENT_EPROTO,
		  "fakeai: the stream ended early (no end of message)" },
		{ FAKE_MALFORMED, VAGENT_EPROTO, "fakeai: malformed chunk (not JSON)" },
		{ FAKE_STREAM_ERROR, VAGENT_EPROVIDER, "fakeai: error in the stream: The "
		  "server had an error while processing your request." },
		{ FAKE_STALL, VAGENT_ETIMEOUT, "fakeai: stream stalled (no data for 300 ms)" },
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct fake_reply rep[] = { { .text = "One two three four five.",
					      .fault = cases[i].fault, .fault_after = 3 } };
		struct vagent_llm_config c = vagent_llm_config_default();
		struct rig r;

		c.idle_timeout_ms = 300;
		rig_start(&r, rep, 1, 0, &c);
		rig_ask(&r, 1, "Count");
		ck_assert_str_eq(r.h.text, "One two");
		ck_assert_int_eq(r.h.dones, 0);
		ck_assert_int_eq(r.h.errors, 1);
		ck_assert_int_eq(r.h.error_st, cases[i].st);
		ck_assert_str_eq(r.h.error, cases[i].error);
		ck_assert_int_eq(fake_openai_requests(r.fake), 1);
		rig_stop(&r);
	}
}
END_TEST

START_TEST(test_finish_reasons)
{
	struct fake_reply cut[] = { { .text = "A long answer that runs out", .finish = "length" } };
	struct fake_reply blocked[] = { { .finish = "content_filter" } };
	struct rig r;

	/* length: what came is the reply */
	rig_start(&r, cut, 1, 0, NULL);
	rig_ask(&r, 1, "Talk");
	ck_assert_str_eq(r.h.text, "A long answer that runs out");
	ck_assert_int_eq(r.h.dones, 1);
	ck_assert_str_eq(usage_of(&r).finish_reason, "length");
	rig_stop(&r);
	/* content_filter with nothing said: the fallback must answer */
	rig_start(&r, blocked, 1, 0, NULL);
	rig_ask(&r, 1, "Something bad");
	ck_assert_int_eq(r.h.dones, 0);
	ck_assert_int_eq(r.h.errors, 1);
	ck_assert_int_eq(r.h.error_st, VAGENT_EPROVIDER);
	ck_assert_str_eq(r.h.error, "fakeai: the reply was blocked (content_filter)");
	ck_assert_ptr_null(strstr(r.h.error, KEY));
	rig_stop(&r);
}
END_TEST

START_TEST(test_cancel_closes_stream)
{
	struct fake_reply rep[] = { { .text = "This is a long answer that the caller "
					      "will interrupt before it ends." } };
	struct rig r;

	rig_start(&r, rep, 1, 50, NULL);
	r.h.cancel_on_text = true;
	rig_ask(&r, 1, "Tell me everything");
	ck_assert_str_eq(r.h.text, "This");
	ck_assert_int_eq(r.h.dones + r.h.errors, 0);
	ck_assert_int_eq(fake_openai_wait_closed(r.fake, 1, 10000), 1);
	rig_stop(&r);
}
END_TEST

START_TEST(test_greeting_verbatim)
{
	struct fake_reply rep[] = { { .text = "never" } };
	struct vagent_llm_config c = vagent_llm_config_default();
	struct rig r;
	cJSON *body;
	char *text;

	c.greeting = "Hi, I'm an automated assistant.";
	rig_start(&r, rep, 1, 0, &c);
	rig_ask(&r, 0, "");
	ck_assert_str_eq(r.h.text, "Hi, I'm an automated assistant.");
	ck_assert_int_eq(r.h.dones, 1);
	ck_assert_int_eq(fake_openai_requests(r.fake), 0);
	/* ... and it is part of the conversation */
	rig_ask(&r, 1, "Hello");
	text = fake_openai_request_body(r.fake, 0);
	body = cJSON_Parse(text);
	ck_assert_str_eq(cJSON_GetObjectItem(cJSON_GetArrayItem(cJSON_GetObjectItem(body, "messages"),
								1), "content")->valuestring,
			 "Hi, I'm an automated assistant.");
	cJSON_Delete(body);
	free(text);
	rig_stop(&r);
}
END_TEST

START_TEST(test_refused_connection)
{
	struct fake_reply rep[] = { { .text = "x" } };
	struct vagent_llm_config c = vagent_llm_config_default();
	struct rig r;

	c.max_retries = 1;
	rig_start(&r, rep, 1, 0, &c);
	fake_openai_stop(r.fake);
	r.fake = NULL;
	rig_ask(&r, 1, "Hi");
	ck_assert_int_eq(r.h.errors, 1);
	ck_assert_int_eq(r.h.error_st, VAGENT_EIO);
	ck_assert_msg(!strncmp(r.h.error, "fakeai: ", 8), "%s", r.h.error);
	ck_assert_int_eq(usage_of(&r).requests, 2);
	r.brain->ops->stop(r.brain);
	vagent_brain_free(r.brain);
	vagent_timer_free(r.h.answer);
	vagent_loop_free(r.loop);
}
END_TEST

/* ---- Anthropic Messages ---- */

START_TEST(test_anthropic_tool_round_trip)
{
	struct fake_reply rep[] = {
		{ .match = "\"shipped\"", .text = "Order 12345 has shipped." },
		{ .match = "order", .text = "Let me look.",
		  .tool_name = "orders_status", .tool_args = "{\"order_number\":\"12345\"}" },
	};
	struct rig r;
	struct vagent_llm_usage u;
	cJSON *body;
	const cJSON *msgs, *blocks, *b, *tool;
	char *text, *auth;

	rig_anthropic = true;
	rig_start(&r, rep, 2, 0, NULL);
	rig_anthropic = false;
	r.h.tool_result = "{\"status\":\"shipped\"}";
	rig_ask(&r, 1, "Where is my order 12345?");
	ck_assert_int_eq(r.h.errors, 0);
	ck_assert_int_eq(r.h.tool_calls, 1);
	ck_assert_str_eq(r.h.tool_name, "orders.status");
	ck_assert_str_eq(r.h.tool_id, "toolu_fake0");
	ck_assert_str_eq(r.h.tool_args, "{\"order_number\":\"12345\"}");
	ck_assert_str_eq(r.h.text, "Let me look. Order 12345 has shipped.");
	ck_assert_int_eq(r.h.dones, 1);
	u = usage_of(&r);
	ck_assert_int_eq(u.requests, 2);
	ck_assert_int_eq(u.prompt_tokens, 40 + 41);   /* message_start's */
	ck_assert_int_eq(u.completion_tokens, 6 + 4); /* the last message_delta's */
	ck_assert_str_eq(u.finish_reason, "end_turn");
	auth = fake_openai_request_auth(r.fake, 0);
	ck_assert_str_eq(auth, KEY);                  /* x-api-key */
	free(auth);
	text = fake_openai_request_body(r.fake, 1);
	body = cJSON_Parse(text);
	ck_assert_str_eq(cJSON_GetObjectItem(body, "system")->valuestring, "You are a phone agent.");
	ck_assert_int_eq(cJSON_GetObjectItem(body, "max_tokens")->valueint, 1024);
	tool = cJSON_GetArrayItem(cJSON_GetObjectItem(body, "tools"), 0);
	ck_assert_str_eq(cJSON_GetObjectItem(tool, "name")->valuestring, "orders_status");
	ck_assert_ptr_nonnull(cJSON_GetObjectItem(tool, "input_schema"));
	msgs = cJSON_GetObjectItem(body, "messages");
	ck_assert_int_eq(cJSON_GetArraySize(msgs), 3);
	blocks = cJSON_GetObjectItem(cJSON_GetArrayItem(msgs, 1), "content");
	ck_assert_str_eq(cJSON_GetObjectItem(cJSON_GetArrayItem(msgs, 1), "role")->valuestring,
			 "assistant");
	ck_assert_str_eq(cJSON_GetObjectItem(cJSON_GetArrayItem(blocks, 0), "text")->valuestring,
			 "Let me look.");
	b = cJSON_GetArrayItem(blocks, 1);
	ck_assert_str_eq(cJSON_GetObjectItem(b, "type")->valuestring, "tool_use");
	ck_assert_str_eq(cJSON_GetObjectItem(b, "id")->valuestring, "toolu_fake0");
	ck_assert_str_eq(cJSON_GetObjectItem(cJSON_GetObjectItem(b, "input"),
					     "order_number")->valuestring, "12345");
	b = cJSON_GetArrayItem(cJSON_GetObjectItem(cJSON_GetArrayItem(msgs, 2), "content"), 0);
	ck_assert_str_eq(cJSON_GetObjectItem(cJSON_GetArrayItem(msgs, 2), "role")->valuestring,
			 "user");
	ck_assert_str_eq(cJSON_GetObjectItem(b, "type")->valuestring, "tool_result");
	ck_assert_str_eq(cJSON_GetObjectItem(b, "tool_use_id")->valuestring, "toolu_fake0");
	ck_assert_str_eq(cJSON_GetObjectItem(b, "content")->valuestring, "{\"status\":\"shipped\"}");
	cJSON_Delete(body);
	free(text);
	rig_stop(&r);
}
END_TEST

START_TEST(test_anthropic_overloaded)
{
	struct fake_reply rep[] = { { .text = "Hello there.", .fault = FAKE_HTTP_529,
				      .fault_times = 1 } };
	struct fake_reply broken[] = { { .text = "One two three four.",
					 .fault = FAKE_STREAM_ERROR, .fault_after = 4 } };
	struct rig r;

	/* 529 before the stream: retried */
	rig_anthropic = true;
	rig_start(&r, rep, 1, 0, NULL);
	rig_ask(&r, 1, "Hi");
	ck_assert_str_eq(r.h.text, "Hello there.");
	ck_assert_int_eq(usage_of(&r).retries, 1);
	rig_stop(&r);
	/* overloaded inside the stream: the session is told */
	rig_start(&r, broken, 1, 0, NULL);
	rig_anthropic = false;
	rig_ask(&r, 1, "Hi");
	ck_assert_str_eq(r.h.text, "One two");
	ck_assert_int_eq(r.h.errors, 1);
	ck_assert_int_eq(r.h.error_st, VAGENT_EPROVIDER);
	ck_assert_str_eq(r.h.error, "fakeai: error in the stream: Overloaded (overloaded_error)");
	rig_stop(&r);
}
END_TEST

/* ---- the agent file ---- */

static char *agent_error(const char *brain)
{
	char text[2048];
	struct vagent_agent *a = NULL;
	struct vagent_error err;

	snprintf(text, sizeof(text),
		 "{\n\"greeting\": \"Hi, I'm an automated assistant.\",\n\"brain\": %s\n}\n",
		 brain);
	if (vagent_agent_parse(text, strlen(text), "a.json", NULL, &a, &err) == VAGENT_OK) {
		vagent_agent_free(a);
		return strdup("");
	}
	return strdup(err.message);
}

START_TEST(test_agent_brain_settings)
{
	const char *good = "{\"provider\": \"openai\", \"model\": \"gpt-4o-mini\", "
			   "\"base_url\": \"${LLM_TEST_BASE:-http://127.0.0.1:9/v1}\", "
			   "\"api_key_env\": \"OPENAI_API_KEY\", \"system\": \"Be brief.\", "
			   "\"temperature\": 0.3, \"max_tokens\": 200}";
	char text[2048];
	struct vagent_agent *a = NULL;
	struct vagent_error err;
	static const struct {
		const char *brain, *error;
	} bad[] = {
		{ "{\"provider\": \"openai\"}", "a.json:3: brain.model: missing (required)" },
		{ "{\"provider\": \"flow\", \"model\": \"x\"}",
		  "a.json:3: brain.model: only for the openai and anthropic providers" },
		{ "{\"provider\": \"openai\", \"model\": \"m\", \"base_url\": \"ftp://x\"}",
		  "a.json:3: brain.base_url: must be an http:// or https:// URL" },
		{ "{\"provider\": \"openai\", \"model\": \"m\", \"temperature\": 3}",
		  "a.json:3: brain.temperature: must be between 0 and 2 (got 3)" },
		{ "{\"provider\": \"openai\", \"model\": \"m\", \"api_key_env\": \"sk-abc\"}",
		  "a.json:3: brain.api_key_env: must be an environment variable name" },
		{ "{\"provider\": \"openai\", \"model\": \"m\", \"fallback\": \"flow\"}",
		  "a.json:1: flow: missing (required)" },
		{ "{\"provider\": \"openai\", \"model\": \"m\", \"fallback\": \"sim\"}",
		  "a.json:3: brain.fallback: unknown fallback \"sim\"" },
		{ "{\"provider\": \"openai\", \"model\": \"m\", \"system\": \"a\", \"prompt\": \"b\"}",
		  "a.json:3: brain.prompt: give the system prompt once" },
	};

	snprintf(text, sizeof(text),
		 "{\"greeting\": \"Hi, I'm an automated assistant.\", \"brain\": %s}", good);
	ck_assert_msg(vagent_agent_parse(text, strlen(text), "a.json", NULL, &a, &err) == VAGENT_OK,
		      "%s", err.message);
	ck_assert_str_eq(a->brain.provider, "openai");
	ck_assert_str_eq(a->brain.model, "gpt-4o-mini");
	ck_assert_str_eq(a->brain.base_url, "http://127.0.0.1:9/v1");
	ck_assert_str_eq(a->brain.api_key_env, "OPENAI_API_KEY");
	ck_assert_str_eq(a->brain.system, "Be brief.");
	ck_assert(a->brain.temperature == 0.3);
	ck_assert_int_eq(a->brain.max_tokens, 200);
	ck_assert_ptr_null(a->brain.fallback);
	ck_assert_uint_eq(a->flow.n_intents, 0);    /* no flow needed */
	vagent_agent_free(a);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		char *e = agent_error(bad[i].brain);

		ck_assert_msg(!strncmp(e, bad[i].error, strlen(bad[i].error)),
			      "%s\n  got: %s", bad[i].brain, e);
		free(e);
	}
}
END_TEST

/* ---- whole calls: the example agent with the LLM brain ---- */

/* The example agent (scenarios/agents/store.json) with brain openai at
 * the fake (its URL from $VAGENT_TEST_OPENAI_URL), the flow behind it,
 * and simulated STT/TTS so the call's text is exact; then a scenario of
 * `steps` (JSON) against it. Returns the finished run. */
static struct vagent_call_run *run_llm_call_as(struct fake_openai *f, const char *provider,
					       const char *steps)
{
	char *text = read_file(top_path("scenarios/agents/store.json"), NULL);
	cJSON *agent = cJSON_Parse(text), *brain, *k;
	char *out, scenario[4096];
	struct vagent_scenario *sc = NULL;
	struct vagent_run_options ro = { .clock = VAGENT_CLOCK_VIRTUAL,
					 .reference_date = "2026-12-03",
					 .free_compute = true };
	struct vagent_call_run *r = NULL;
	struct vagent_error err;
	const char *agent_path;

	ck_assert_ptr_nonnull(agent);
	free(text);
	setenv("VAGENT_TEST_OPENAI_URL", fake_openai_url(f), 1);
	setenv("VAGENT_TEST_OPENAI_KEY", KEY, 1);
	brain = cJSON_CreateObject();
	cJSON_AddStringToObject(brain, "provider", provider);
	cJSON_AddStringToObject(brain, "model", "fake-gpt");
	cJSON_AddStringToObject(brain, "base_url", "${VAGENT_TEST_OPENAI_URL}");
	cJSON_AddStringToObject(brain, "api_key_env", "VAGENT_TEST_OPENAI_KEY");
	cJSON_AddStringToObject(brain, "fallback", "flow");
	cJSON_ReplaceItemInObject(agent, "brain", brain);
	k = cJSON_CreateObject();
	cJSON_AddStringToObject(k, "provider", "sim");
	cJSON_ReplaceItemInObject(agent, "stt", k);
	k = cJSON_CreateObject();
	cJSON_AddStringToObject(k, "provider", "sim");
	cJSON_ReplaceItemInObject(agent, "tts", k);
	k = cJSON_CreateArray();
	cJSON_AddItemToArray(k, cJSON_CreateString(top_path("scenarios/agents/store-help.md")));
	cJSON_ReplaceItemInObject(agent, "knowledge", k);
	out = cJSON_Print(agent);
	agent_path = temp_file("agent.json", out);
	free(out);
	cJSON_Delete(agent);
	snprintf(scenario, sizeof(scenario),
		 "{\"name\": \"llm-call\", \"agent\": \"%s\",\n"
		 " \"services\": {\"ACME_ORDERS_URL\": \"%s\"},\n"
		 " \"caller\": {\"voice\": \"rms\", \"rate\": 16000},\n"
		 " \"steps\": %s}\n", agent_path, top_path("scenarios/services/orders.json"),
		 steps);
	ck_assert_msg(vagent_scenario_load(temp_file("call.json", scenario), &sc, &err) == VAGENT_OK,
		      "%s", err.message);
	ck_assert_msg(vagent_scenario_run(sc, &ro, &r, &err) == VAGENT_OK, "%s", err.message);
	ck_assert_msg(vagent_session_result(r->session)->status == VAGENT_OK, "%s",
		      vagent_session_result(r->session)->error);
	return r;
}

static struct vagent_call_run *run_llm_call(struct fake_openai *f, const char *steps)
{
	return run_llm_call_as(f, "openai", steps);
}

static struct vagent_trace *trace_of(const struct vagent_call_run *r)
{
	struct vagent_trace *t = NULL;
	size_t len = 0;
	const char *text = vagent_session_trace(r->session, &len);

	ck_assert_int_eq(vagent_trace_parse(text, len, "trace", &t, NULL), VAGENT_OK);
	return t;
}

static const struct vagent_trace_event *first_of(const struct vagent_trace *t,
						 vagent_trace_type type)
{
	for (size_t i = 0; i < t->n; i++)
		if (t->events[i].type == type)
			return &t->events[i];
	return NULL;
}

/* Everything the agent said, turn by turn. */
static void agent_said(const struct vagent_call_run *r, char *out, size_t size)
{
	const struct vagent_session_result *res = vagent_session_result(r->session);

	out[0] = '\0';
	for (size_t i = 0; i < res->n_turns; i++)
		if (res->turns[i].agent_text)
			snprintf(out + strlen(out), size - strlen(out), "[%d] %s\n",
				 res->turns[i].turn, res->turns[i].agent_text);
}

START_TEST(test_call_with_llm_tool)
{
	struct fake_reply rep[] = {
		{ .match = "\"status\":\"shipped\"",
		  .text = "Your order has shipped with UPS. Anything else?" },
		{ .match = "order", .tool_name = "order_status",
		  .tool_args = "{\"order_number\":\"12345\"}" },
		{ .text = "Thanks for calling. Goodbye." },
	};
	struct fake_openai_config fc = { .replies = rep, .n_replies = 3, .pace_ms = 20,
					 .api_key = KEY };
	struct fake_openai *f = fake_openai_start(&fc);
	struct vagent_call_run *r;
	struct vagent_trace *t;
	const struct vagent_trace_event *ev;
	char said[4096];
	cJSON *args;

	orders_service_start();
	r = run_llm_call(f, "[{\"say\": \"Hi, where is my order one two three four five?\"},"
			    " {\"say\": \"No, that's all. Goodbye.\"}]");
	t = trace_of(r);
	agent_said(r, said, sizeof(said));
	ck_assert_str_eq(r->stack->brain->name, "openai");
	ev = first_of(t, VAGENT_TRACE_LLM_REQUEST);
	ck_assert_str_eq(ev->provider, "openai");
	ev = first_of(t, VAGENT_TRACE_TOOL_START);
	ck_assert_msg(ev != NULL, "no tool call:\n%s", vagent_session_trace(r->session, NULL));
	ck_assert_str_eq(ev->name, "order_status");
	args = cJSON_Parse(ev->args);
	ck_assert_str_eq(cJSON_GetObjectItem(args, "order_number")->valuestring, "12345");
	cJSON_Delete(args);
	ck_assert_ptr_nonnull(first_of(t, VAGENT_TRACE_TOOL_END));
	ck_assert_ptr_null(first_of(t, VAGENT_TRACE_FALLBACK));
	ck_assert_msg(strstr(said, "[1] Your order has shipped with UPS. Anything else?"), "%s", said);
	ck_assert_msg(strstr(said, "[2] Thanks for calling. Goodbye."), "%s", said);
	ck_assert_int_eq(fake_openai_requests(f), 3);
	/* every request's first byte, named; the reply's token counts */
	{
		int first_bytes = 0;
		const struct vagent_trace_event *done = NULL, *done1 = NULL;

		for (size_t i = 0; i < t->n; i++) {
			ev = &t->events[i];
			if (ev->type == VAGENT_TRACE_PROVIDER_FIRST_BYTE) {
				first_bytes++;
				ck_assert_str_eq(ev->slot, "llm");
				ck_assert_str_eq(ev->provider, "openai");
				ck_assert_int_ge(ev->ttfb_us, 0);
			} else if (ev->type == VAGENT_TRACE_LLM_DONE && ev->turn == 2) {
				done = ev;
			} else if (ev->type == VAGENT_TRACE_LLM_DONE && ev->turn == 1) {
				done1 = ev;
			}
		}
		ck_assert_int_eq(first_bytes, 3);
		/* turn 2 is one request, the fake's third (seq 2): its usage
		 * chunk says 50 + seq prompt tokens */
		ck_assert_msg(done != NULL, "%s", vagent_session_trace(r->session, NULL));
		ck_assert_str_eq(done->provider, "openai");
		ck_assert_int_eq(done->prompt_tokens, 52);
		ck_assert_int_gt(done->completion_tokens, 0);
		ck_assert_int_eq(done->retries, 0);
		/* the greeting is said verbatim: no request, no tokens */
		ck_assert_int_eq(first_of(t, VAGENT_TRACE_LLM_DONE)->turn, 0);
		ck_assert_int_eq(first_of(t, VAGENT_TRACE_LLM_DONE)->prompt_tokens, 0);
		ck_assert_ptr_nonnull(done1);    /* two requests: 50 + 51 */
		ck_assert_int_eq(done1->prompt_tokens, 101);
		ck_assert_str_eq(first_of(t, VAGENT_TRACE_LLM_FIRST_TOKEN)->provider, "openai");
	}
	vagent_trace_free(t);
	vagent_call_run_free(r);
	orders_service_stop();
	fake_openai_stop(f);
}
END_TEST

START_TEST(test_call_barge_in_closes_stream)
{
	struct fake_reply rep[] = {
		{ .match = "return", .text = "Our return policy is simple. You can return "
		  "most items within thirty days of delivery. Items must be unused and in "
		  "their original packaging. Refunds go back to the original payment "
		  "method within five business days of our receiving the item." },
		{ .text = "Sure. What is your order number?" },
	};
	struct fake_openai_config fc = { .replies = rep, .n_replies = 2, .pace_ms = 150,
					 .api_key = KEY };
	struct fake_openai *f = fake_openai_start(&fc);
	struct vagent_call_run *r;
	struct vagent_trace *t;
	char said[4096];

	orders_service_start();
	r = run_llm_call(f, "[{\"say\": \"What is your return policy?\"},"
			    " {\"say\": \"Sorry, where is my order?\", \"wait_for\": "
			    "\"agent_speaking\", \"after_ms\": 800}]");
	t = trace_of(r);
	agent_said(r, said, sizeof(said));
	ck_assert_msg(first_of(t, VAGENT_TRACE_BARGE_IN) != NULL, "no barge-in:\n%s",
		      vagent_session_trace(r->session, NULL));
	/* the stream was closed at the barge-in, long before its end */
	ck_assert_int_eq(fake_openai_wait_closed(f, 1, 10000), 1);
	ck_assert_msg(!strstr(said, "five business days"), "%s", said);
	ck_assert_msg(strstr(said, "Sure. What is your order number?"), "%s", said);
	ck_assert_ptr_null(first_of(t, VAGENT_TRACE_FALLBACK));
	vagent_trace_free(t);
	vagent_call_run_free(r);
	orders_service_stop();
	fake_openai_stop(f);
}
END_TEST

START_TEST(test_call_mid_stream_failure_falls_back)
{
	struct fake_reply rep[] = {
		{ .text = "Let me check that for you. One moment while I look it up.",
		  .fault = FAKE_ABRUPT_CLOSE, .fault_after = 8 },
	};
	struct fake_openai_config fc = { .replies = rep, .n_replies = 1, .pace_ms = 20,
					 .api_key = KEY };
	struct fake_openai *f = fake_openai_start(&fc);
	struct vagent_call_run *r;
	struct vagent_trace *t;
	const struct vagent_trace_event *ev, *tool;
	char said[4096];

	orders_service_start();
	r = run_llm_call(f, "[{\"say\": \"Can you help me with something?\"},"
			    " {\"say\": \"Where is my order one two three four five?\"},"
			    " {\"say\": \"No, that's all. Goodbye.\"}]");
	t = trace_of(r);
	agent_said(r, said, sizeof(said));
	ev = first_of(t, VAGENT_TRACE_FALLBACK);
	ck_assert_msg(ev != NULL, "no fallback:\n%s", vagent_session_trace(r->session, NULL));
	ck_assert_str_eq(ev->slot, "llm");
	ck_assert_str_eq(ev->from, "openai");
	ck_assert_str_eq(ev->to, "flow");
	ck_assert_int_eq(ev->turn, 1);
	/* what was said before the failure stays said */
	ck_assert_msg(strstr(said, "[1] Let me check that for you."), "%s", said);
	/* the flow answers the next turn: the order is looked up */
	tool = first_of(t, VAGENT_TRACE_TOOL_START);
	ck_assert_msg(tool && tool->turn == 2 && !strcmp(tool->name, "order_status"),
		      "%s", said);
	ck_assert_int_eq(fake_openai_requests(f), 1);
	/* the trace names who answered: openai's first byte and token in
	 * turn 1, the flow's first token in turn 2; the error once */
	{
		const struct vagent_trace_event *tok2 = NULL, *err = first_of(t, VAGENT_TRACE_ERROR);
		struct vagent_trace_metrics *m = NULL;
		struct vagent_stats *st = vagent_stats_new();
		struct vagent_stat_summary sum;
		int first_bytes = 0;

		for (size_t i = 0; i < t->n; i++) {
			if (t->events[i].type == VAGENT_TRACE_LLM_FIRST_TOKEN && t->events[i].turn == 2)
				tok2 = &t->events[i];
			first_bytes += t->events[i].type == VAGENT_TRACE_PROVIDER_FIRST_BYTE;
		}
		ck_assert_int_eq(first_bytes, 1);
		ck_assert_str_eq(first_of(t, VAGENT_TRACE_PROVIDER_FIRST_BYTE)->provider, "openai");
		ck_assert_str_eq(first_of(t, VAGENT_TRACE_LLM_FIRST_TOKEN)->provider, "openai");
		ck_assert_msg(tok2 != NULL, "%s", vagent_session_trace(r->session, NULL));
		ck_assert_str_eq(tok2->provider, "flow");
		ck_assert_str_eq(err->source, "openai");
		ck_assert_msg(strncmp(err->message, "openai:", 7), "%s", err->message);
		/* llm_ttft per provider */
		ck_assert_int_eq(vagent_metrics_from_trace(t->events, t->n, &m, NULL), VAGENT_OK);
		ck_assert_int_eq(vagent_stats_add_metrics(st, m), VAGENT_OK);
		ck_assert_str_eq(vagent_stats_provider(st, VAGENT_METRIC_LLM_TTFT, 0), "openai");
		ck_assert_str_eq(vagent_stats_provider(st, VAGENT_METRIC_LLM_TTFT, 1), "flow");
		ck_assert_int_eq(vagent_stats_provider_summary(st, VAGENT_METRIC_LLM_TTFT, "openai",
							       &sum), VAGENT_OK);
		ck_assert_uint_eq(sum.n, 2);     /* the greeting (verbatim) and turn 1 */
		ck_assert_str_eq(vagent_stats_provider(st, VAGENT_METRIC_LLM_TTFB, 0), "openai");
		vagent_stats_free(st);
		vagent_trace_metrics_free(m);
	}
	vagent_trace_free(t);
	vagent_call_run_free(r);
	orders_service_stop();
	fake_openai_stop(f);
}
END_TEST

/* The same call with Anthropic's protocol. */
START_TEST(test_call_with_anthropic_tool)
{
	struct fake_reply rep[] = {
		{ .match = "\"status\":\"shipped\"",
		  .text = "Your order has shipped with UPS. Anything else?" },
		{ .match = "order", .tool_name = "order_status",
		  .tool_args = "{\"order_number\":\"12345\"}" },
		{ .text = "Thanks for calling. Goodbye." },
	};
	struct fake_openai_config fc = { .replies = rep, .n_replies = 3, .pace_ms = 20,
					 .api_key = KEY, .anthropic = true };
	struct fake_openai *f = fake_openai_start(&fc);
	struct vagent_call_run *r;
	struct vagent_trace *t;
	const struct vagent_trace_event *ev;
	char said[4096];

	orders_service_start();
	r = run_llm_call_as(f, "anthropic",
			    "[{\"say\": \"Hi, where is my order one two three four five?\"},"
			    " {\"say\": \"No, that's all. Goodbye.\"}]");
	t = trace_of(r);
	agent_said(r, said, sizeof(said));
	ck_assert_str_eq(first_of(t, VAGENT_TRACE_LLM_REQUEST)->provider, "anthropic");
	ev = first_of(t, VAGENT_TRACE_TOOL_END);
	ck_assert_msg(ev && !strcmp(ev->name, "order_status"), "%s",
		      vagent_session_trace(r->session, NULL));
	ck_assert_msg(strstr(said, "[1] Your order has shipped with UPS. Anything else?"), "%s", said);
	ck_assert_msg(strstr(said, "[2] Thanks for calling. Goodbye."), "%s", said);
	ck_assert_ptr_null(first_of(t, VAGENT_TRACE_FALLBACK));
	vagent_trace_free(t);
	vagent_call_run_free(r);
	orders_service_stop();
	fake_openai_stop(f);
}
END_TEST

/* OpenAI itself takes max_completion_tokens (its reasoning models refuse
 * max_tokens); every other compatible server gets max_tokens. */
static cJSON *openai_body_for(const char *base_url)
{
	struct vagent_llm_config c = vagent_llm_config_default();
	struct vagent_brain *b = NULL;
	struct vagent_error e;
	struct vagent__llm *l;
	char *text;
	cJSON *body;

	c.base_url = base_url;
	c.model = "gpt-4o-mini";
	c.max_tokens = 200;
	ck_assert_int_eq(vagent_openai_brain_new(&c, &b, &e), VAGENT_OK);
	l = (struct vagent__llm *)b;
	text = l->proto->body(l);
	ck_assert_ptr_nonnull(text);
	body = cJSON_Parse(text);
	ck_assert_ptr_nonnull(body);
	free(text);
	vagent_brain_free(b);
	return body;
}

START_TEST(test_max_tokens_field_per_server)
{
	cJSON *openai = openai_body_for("https://api.openai.com/v1");
	cJSON *local = openai_body_for("http://127.0.0.1:8080/v1");

	ck_assert_int_eq(cJSON_GetObjectItem(openai, "max_completion_tokens")->valueint, 200);
	ck_assert_ptr_null(cJSON_GetObjectItem(openai, "max_tokens"));
	ck_assert_int_eq(cJSON_GetObjectItem(local, "max_tokens")->valueint, 200);
	ck_assert_ptr_null(cJSON_GetObjectItem(local, "max_completion_tokens"));
	cJSON_Delete(openai);
	cJSON_Delete(local);
}
END_TEST

Suite *suite_llm(void)
{
	Suite *s = suite_create("llm");
	TCase *tc = tcase_create("openai");
	TCase *agent = tcase_create("agent");
	TCase *calls = tcase_create("calls");

	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, test_streamed_text);
	tcase_add_test(tc, test_tool_call_round_trip);
	tcase_add_test(tc, test_retry_after_429);
	tcase_add_test(tc, test_server_errors_run_out);
	tcase_add_test(tc, test_bad_key);
	tcase_add_test(tc, test_mid_stream_failures);
	tcase_add_test(tc, test_finish_reasons);
	tcase_add_test(tc, test_cancel_closes_stream);
	tcase_add_test(tc, test_greeting_verbatim);
	tcase_add_test(tc, test_refused_connection);
	tcase_add_test(tc, test_anthropic_tool_round_trip);
	tcase_add_test(tc, test_anthropic_overloaded);
	suite_add_tcase(s, tc);
	tcase_add_test(agent, test_agent_brain_settings);
	tcase_add_test(agent, test_max_tokens_field_per_server);
	suite_add_tcase(s, agent);
	tcase_add_checked_fixture(calls, temp_dir_setup, temp_dir_teardown);
	tcase_set_timeout(calls, 120);
	tcase_add_test(calls, test_call_with_llm_tool);
	tcase_add_test(calls, test_call_barge_in_closes_stream);
	tcase_add_test(calls, test_call_mid_stream_failure_falls_back);
	tcase_add_test(calls, test_call_with_anthropic_tool);
	suite_add_tcase(s, calls);
	return s;
}
