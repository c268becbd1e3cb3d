/*
 * fuzz_agent.c — libFuzzer harness for the agent file and the flow brain:
 * the input is parsed as an agent file (vagent_agent_parse, relative paths
 * against fixtures/agents); a failure must be one line naming the file
 * with a bad-input status; an agent that loads gets a flow brain, driven
 * on a virtual loop through a few caller turns with every tool answering
 * "{}", and every escalation package must be JSON.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "vagent.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

struct drive {
	struct vagent_brain *brain;
	uint64_t id;
	int calls;
};

static void on_first(void *ctx, uint64_t id) { (void)ctx; (void)id; }
static void on_done(void *ctx, uint64_t id) { (void)ctx; (void)id; }

static void on_text(void *ctx, uint64_t id, const char *delta)
{
	(void)ctx;
	(void)id;
	if (!delta || !*delta)
		abort();
}

static void on_tool(void *ctx, uint64_t id, const char *name,
		    const char *call_id, const char *args)
{
	struct drive *d = ctx;
	cJSON *j = cJSON_Parse(args);

	if (!name || !*name || !j)
		abort();
	cJSON_Delete(j);
	d->calls++;
	/* every other call fails */
	d->brain->ops->tool_result(d->brain, id, call_id,
				   d->calls % 2 ? VAGENT_OK : VAGENT_EPROVIDER,
				   d->calls % 2 ? "{}" : "HTTP 500");
}

static void on_escalate(void *ctx, uint64_t id, const char *reason,
			const char *package)
{
	cJSON *j = cJSON_Parse(package);

	(void)ctx;
	(void)id;
	if (!reason || !*reason || !cJSON_IsObject(j))
		abort();
	cJSON_Delete(j);
}

static void on_error(void *ctx, uint64_t id, vagent_status st, const char *m)
{
	(void)ctx;
	(void)id;
	(void)m;
	if (st != VAGENT_ENOMEM)
		abort();
}

static void drive(const struct vagent_agent *a)
{
	static const char *const turns[] = {
		NULL, "where is my order one two three four five", "yes",
		"forty dollars", "what are your hours", "tomorrow morning",
		"purple", "can you repeat that", "i want a refund", "no",
		"goodbye",
	};
	struct vagent_loop_config lc = vagent_loop_config_default();
	struct vagent_flow_config fc = vagent_flow_config_default();
	struct vagent_loop *loop = NULL;
	struct drive d = { 0 };
	size_t i;

	lc.clock = VAGENT_CLOCK_VIRTUAL;
	lc.workers = 0;
	fc.reference_date = "2026-12-01";
	if (vagent_loop_new(&lc, &loop, NULL) != VAGENT_OK)
		return;
	if (vagent_flow_brain_new(a, &fc, &d.brain, NULL) != VAGENT_OK) {
		vagent_loop_free(loop);
		return;
	}
	d.brain->loop = loop;
	d.brain->on_first_token = on_first;
	d.brain->on_text = on_text;
	d.brain->on_tool_call = on_tool;
	d.brain->on_escalate = on_escalate;
	d.brain->on_done = on_done;
	d.brain->on_error = on_error;
	d.brain->ctx = &d;
	for (i = 0; i < sizeof(turns) / sizeof(turns[0]); i++) {
		struct vagent_brain_request req = { 0 };

		req.id = ++d.id;
		req.turn = (int)i;
		req.greeting = turns[i] == NULL;
		req.caller_text = turns[i] ? turns[i] : "";
		req.dtmf = i == 2 ? "12345" : NULL;
		if (d.brain->ops->respond(d.brain, &req, NULL) != VAGENT_OK)
			break;
		vagent_loop_run(loop, VAGENT_RUN_UNTIL_IDLE, NULL);
	}
	vagent_brain_free(d.brain);
	vagent_loop_free(loop);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct vagent_agent *a = NULL;
	struct vagent_error err;
	vagent_status st;
	const char *const *p;

	st = vagent_agent_parse((const char *)data, size, "fuzz.json",
				"fixtures/agents", &a, &err);
	if (st != VAGENT_OK) {
		if (a || strncmp(err.message, "fuzz.json", 9) != 0 ||
		    strchr(err.message, '\n') ||
		    (st != VAGENT_EFORMAT && st != VAGENT_EINVAL &&
		     st != VAGENT_ENOENT && st != VAGENT_ENOMEM))
			abort();
		return 0;
	}
	for (p = vagent_agent_expected_phrases(a); *p; p++)
		if (!**p)
			abort();
	drive(a);
	vagent_agent_free(a);
	return 0;
}
