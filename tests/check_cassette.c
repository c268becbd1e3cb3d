/*
 * check_cassette.c — provider cassettes (lib/net/cassette.c,
 * docs/cassettes.md): a call of the example agent with the OpenAI brain
 * (a tool call included) recorded against the fake, then replayed with
 * the fake gone — the same agent text and tool calls, the same trace twice
 * on the virtual clock; a changed system prompt is a cassette miss naming
 * the JSON path (exit 3 through the CLI, the line once); a Deepgram
 * WebSocket call recorded on the real clock and replayed; no key in a
 * cassette; the transport's replay of chunks at their recorded virtual
 * times, binary (base64) chunks and retry headers; key-bearing query
 * parameters redacted; corrupt cassettes and bad options refused (exit 2).
 */
#include <check.h>
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <cjson/cJSON.h>

#include "vagent.h"
#include "net/cassette_int.h"
#include "net/http_stream_int.h"
#include "support/fake_cartesia.h"
#include "support/fake_deepgram.h"
#include "support/fake_elevenlabs.h"
#include "support/fake_openai.h"
#include "support/fake_openai_stt.h"
#include "support/fake_openai_tts.h"
#include "support/harness.h"

#define KEY "sk-cassette-KEY-7f3a9c1e5b"
#define DG_KEY "dg-cassette-KEY-2b8d4f6a0c"

/* ---- helpers ----------------------------------------------------------- */

/* Whether `needle` occurs in any file under `dir` (recursively). */
static bool dir_contains(const char *dir, const char *needle)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	bool found = false;

	ck_assert_msg(d != NULL, "cannot open %s", dir);
	while (!found && (e = readdir(d))) {
		char path[4096];
		char *text;

		if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, ".."))
			continue;
		snprintf(path, sizeof(path), "%s/%s", dir, e->d_name);
		if (e->d_type == DT_DIR) {
			found = dir_contains(path, needle);
			continue;
		}
		text = read_file(path, NULL);
		found = text && strstr(text, needle);
		free(text);
	}
	closedir(d);
	return found;
}

static int count_of(const char *hay, const char *needle)
{
	int n = 0;

	for (const char *p = hay; (p = strstr(p, needle)); p += strlen(needle))
		n++;
	return n;
}

/* The example agent with brain openai at $VAGENT_TEST_OPENAI_URL (its
 * system prompt `system`), simulated STT/TTS, written to temp_dir/NAME;
 * and the scenario llm-call.json of `steps` against it. Returns the
 * scenario's path. */
static const char *write_llm_call(const char *agent_name, const char *system,
				  const char *steps)
{
	char *text = read_file(top_path("scenarios/agents/store.json"), NULL);
	cJSON *agent = cJSON_Parse(text), *brain, *k;
	char *out, scenario[4096], agent_path[2048];

	ck_assert_ptr_nonnull(agent);
	free(text);
	brain = cJSON_CreateObject();
	cJSON_AddStringToObject(brain, "provider", "openai");
	cJSON_AddStringToObject(brain, "model", "fake-gpt");
	cJSON_AddStringToObject(brain, "base_url", "${VAGENT_TEST_OPENAI_URL}");
	cJSON_AddStringToObject(brain, "api_key_env", "VAGENT_TEST_OPENAI_KEY");
	cJSON_AddStringToObject(brain, "system", system);
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
	snprintf(agent_path, sizeof(agent_path), "%s", temp_file(agent_name, out));
	free(out);
	cJSON_Delete(agent);
	snprintf(scenario, sizeof(scenario),
		 "{\"name\": \"llm-call\", \"agent\": \"%s\",\n"
		 " \"services\": {\"ACME_ORDERS_URL\": \"%s\"},\n"
		 " \"caller\": {\"voice\": \"rms\", \"rate\": 16000},\n"
		 " \"steps\": %s}\n", agent_path, top_path("scenarios/services/orders.json"),
		 steps);
	return temp_file("llm-call.json", scenario);
}

#define STEPS "[{\"say\": \"Hi, where is my order one two three four five?\"}," \
	      " {\"say\": \"No, that's all. Goodbye.\"}]"
#define SYSTEM "You are the phone assistant of Acme Home. Be brief."

static struct vagent_call_run *run_call(const char *scenario, const char *record,
					const char *replay)
{
	struct vagent_scenario *sc = NULL;
	struct vagent_run_options ro = { .clock = VAGENT_CLOCK_VIRTUAL,
					 .reference_date = "2026-12-03",
					 .free_compute = true,
					 .record_providers = record,
					 .replay_providers = replay };
	struct vagent_call_run *r = NULL;
	struct vagent_error err;

	ck_assert_msg(vagent_scenario_load(scenario, &sc, &err) == VAGENT_OK, "%s", err.message);
	ck_assert_msg(vagent_scenario_run(sc, &ro, &r, &err) == VAGENT_OK, "%s", err.message);
	return r;
}

/* Everything the agent said, turn by turn, and the tool calls. */
static void call_text(const struct vagent_call_run *r, char *out, size_t size)
{
	const struct vagent_session_result *res = vagent_session_result(r->session);
	struct vagent_trace *t = NULL;
	size_t len = 0;
	const char *text = vagent_session_trace(r->session, &len);

	out[0] = '\0';
	for (size_t i = 0; i < res->n_turns; i++)
		if (res->turns[i].agent_text)
			snprintf(out + strlen(out), size - strlen(out), "[%d] %s\n",
				 res->turns[i].turn, res->turns[i].agent_text);
	ck_assert_int_eq(vagent_trace_parse(text, len, "trace", &t, NULL), VAGENT_OK);
	for (size_t i = 0; i < t->n; i++)
		if (t->events[i].type == VAGENT_TRACE_TOOL_START)
			snprintf(out + strlen(out), size - strlen(out), "tool %s %s\n",
				 t->events[i].name, t->events[i].args);
		else if (t->events[i].type == VAGENT_TRACE_FALLBACK)
			snprintf(out + strlen(out), size - strlen(out), "fallback\n");
	vagent_trace_free(t);
}

static struct fake_reply order_replies[] = {
	{ .match = "\"status\":\"shipped\"",
	  .text = "Your order has shipped with UPS. Anything else?" },
	{ .match = "order", .tool_name = "order_status",
	  .tool_args = "{\"order_number\":\"12345\"}" },
	{ .text = "Thanks for calling. Goodbye." },
};

/* Record the order call into temp_dir/cas; the fake is stopped after.
 * `said` gets what the recorded call said. */
static const char *record_order_call(char *said, size_t size)
{
	struct fake_openai_config fc = { .replies = order_replies, .n_replies = 3,
					 .pace_ms = 20, .api_key = KEY };
	struct fake_openai *f = fake_openai_start(&fc);
	struct vagent_call_run *r;
	const char *scenario;
	static char dir[2048];

	ck_assert_ptr_nonnull(f);
	setenv("VAGENT_TEST_OPENAI_URL", fake_openai_url(f), 1);
	setenv("VAGENT_TEST_OPENAI_KEY", KEY, 1);
	snprintf(dir, sizeof(dir), "%s", temp_path("cas"));
	ck_assert_int_eq(mkdir(dir, 0777), 0);
	scenario = write_llm_call("agent.json", SYSTEM, STEPS);
	r = run_call(scenario, dir, NULL);
	ck_assert_msg(vagent_session_result(r->session)->status == VAGENT_OK, "%s",
		      vagent_session_result(r->session)->error);
	call_text(r, said, size);
	ck_assert_int_eq(fake_openai_requests(f), 3);
	ck_assert_ptr_nonnull(vagent_call_run_cassette(r));
	ck_assert_ptr_null(vagent_cassette_failure(vagent_call_run_cassette(r)));
	ck_assert_uint_eq(vagent_cassette_exchanges(vagent_call_run_cassette(r)), 3);
	vagent_call_run_free(r);
	fake_openai_stop(f);          /* offline from here on */
	return dir;
}

/* ---- whole calls: the LLM over HTTP ----------------------------------- */

START_TEST(test_record_then_replay_offline)
{
	char said[4096], again[4096], path[4096];
	struct vagent_call_run *r1, *r2;
	const char *dir, *t1, *t2;
	size_t l1 = 0, l2 = 0;
	char *cassette;

	orders_service_start();
	dir = record_order_call(said, sizeof(said));
	ck_assert_msg(strstr(said, "[1] Your order has shipped with UPS. Anything else?"), "%s", said);
	ck_assert_msg(strstr(said, "tool order_status {\"order_number\":\"12345\"}"), "%s", said);
	ck_assert_msg(!strstr(said, "fallback"), "%s", said);
	/* the file: three HTTP exchanges, the key nowhere, redacted header */
	snprintf(path, sizeof(path), "%s/llm-call/cassette.jsonl", dir);
	cassette = read_file(path, NULL);
	ck_assert_ptr_nonnull(cassette);
	ck_assert_int_eq(count_lines(cassette), 3);
	ck_assert_int_eq(count_of(cassette, "\"kind\":\"http\""), 3);
	ck_assert(strstr(cassette, "\"authorization: <redacted>\""));
	ck_assert(strstr(cassette, "\"tool_calls\""));
	ck_assert(strstr(cassette, "\"chunks\":[{\"t_ms\":"));
	ck_assert(!dir_contains(dir, KEY));
	ck_assert(!dir_contains(dir, "cassette-KEY"));
	free(cassette);

	/* replay twice with the fake gone: the same call, the same trace */
	r1 = run_call(temp_path("llm-call.json"), NULL, dir);
	r2 = run_call(temp_path("llm-call.json"), NULL, dir);
	ck_assert_ptr_null(vagent_cassette_miss(vagent_call_run_cassette(r1)));
	ck_assert_uint_eq(vagent_cassette_unused(vagent_call_run_cassette(r1)), 0);
	call_text(r1, again, sizeof(again));
	ck_assert_str_eq(again, said);
	t1 = vagent_session_trace(r1->session, &l1);
	t2 = vagent_session_trace(r2->session, &l2);
	ck_assert_uint_eq(l1, l2);
	ck_assert_msg(!memcmp(t1, t2, l1), "two replays gave different traces");
	vagent_call_run_free(r1);
	vagent_call_run_free(r2);
	orders_service_stop();
}
END_TEST

START_TEST(test_changed_prompt_is_a_miss)
{
	char said[4096], path[4096];
	const char *dir, *scenario;
	struct vagent_call_run *r;
	struct run_result rr;
	const char *want = "cassette miss: openai POST /v1/chat/completions (request 1 of "
			   "call llm-call): body differs from the recording at "
			   "messages[0].content";
	char *all;

	orders_service_start();
	dir = record_order_call(said, sizeof(said));
	scenario = write_llm_call("agent2.json", "You are a different assistant.", STEPS);
	r = run_call(scenario, NULL, dir);
	ck_assert_ptr_nonnull(vagent_cassette_miss(vagent_call_run_cassette(r)));
	ck_assert_str_eq(vagent_cassette_miss(vagent_call_run_cassette(r)), want);
	vagent_call_run_free(r);
	orders_service_stop();

	/* through the CLI: exit 3, the miss is the call's failure (the
	 * fallback flow's answers do not hide it) and it came once */
	snprintf(path, sizeof(path), "%s", scenario);
	rr = run_vagent("run", "--replay-providers", dir, path, NULL);
	ck_assert_msg(rr.exit_code == 3, "exit %d\n%s\n%s", rr.exit_code, rr.out, rr.err);
	all = malloc(strlen(want) + 64);
	ck_assert_ptr_nonnull(all);
	sprintf(all, "; infrastructure failed: %s\n", want);
	ck_assert_msg(strstr(rr.out, "ERROR llm-call: ") && strstr(rr.out, all), "%s", rr.out);
	ck_assert_msg(count_of(rr.out, "cassette miss:") == 3, "%s", rr.out); /* event, call, summary */
	free(all);
	run_result_free(&rr);
	/* --json -: the human line is gone, stderr has it once */
	rr = run_vagent("run", "-q", "--json", "-", "--replay-providers", dir, path, NULL);
	ck_assert_int_eq(rr.exit_code, 3);
	ck_assert_msg(count_of(rr.err, want) == 1, "%s", rr.err);
	run_result_free(&rr);
}
END_TEST

START_TEST(test_unused_exchanges_warn)
{
	char said[4096];
	const char *dir, *scenario;
	struct run_result rr;

	orders_service_start();
	dir = record_order_call(said, sizeof(said));
	/* the same call cut short after the greeting: nothing is asked */
	scenario = write_llm_call("agent.json", SYSTEM, "[{\"silence_ms\": 500}]");
	rr = run_vagent("run", "--replay-providers", dir, scenario, NULL);
	orders_service_stop();
	ck_assert_msg(rr.exit_code == 0 || rr.exit_code == 1, "exit %d\n%s\n%s", rr.exit_code,
		      rr.out, rr.err);
	ck_assert_msg(strstr(rr.err, "vagent: warning: llm-call: 3 of 3 recorded provider "
			     "exchanges were not used"), "%s", rr.err);
	run_result_free(&rr);
}
END_TEST

START_TEST(test_bench_cassette_per_call_and_run)
{
	struct fake_openai_config fc = { .replies = order_replies, .n_replies = 3,
					 .pace_ms = 20, .api_key = KEY };
	struct fake_openai *f = fake_openai_start(&fc);
	const char *scenario;
	char dir[2048], path[4096];
	struct run_result r;
	char *text;

	ck_assert_ptr_nonnull(f);
	orders_service_start();
	setenv("VAGENT_TEST_OPENAI_URL", fake_openai_url(f), 1);
	setenv("VAGENT_TEST_OPENAI_KEY", KEY, 1);
	snprintf(dir, sizeof(dir), "%s", temp_path("cas"));
	scenario = write_llm_call("agent.json", SYSTEM, STEPS);
	r = run_vagent("bench", "-q", "--runs", "2", "--concurrency", "2", "--compute", "free",
		       "--date", "2026-12-03", "--record-providers", dir, scenario, NULL);
	ck_assert_msg(r.exit_code == 0, "exit %d\n%s\n%s", r.exit_code, r.out, r.err);
	run_result_free(&r);
	ck_assert_int_eq(fake_openai_requests(f), 6);
	fake_openai_stop(f);              /* offline from here on */
	for (int run = 1; run <= 2; run++) {
		snprintf(path, sizeof(path), "%s/llm-call-run%d/cassette.jsonl", dir, run);
		text = read_file(path, NULL);
		ck_assert_msg(text != NULL, "no %s", path);
		ck_assert_int_eq(count_lines(text), 3);
		free(text);
	}
	ck_assert(!dir_contains(dir, KEY));
	r = run_vagent("bench", "-q", "--runs", "2", "--concurrency", "2", "--compute", "free",
		       "--date", "2026-12-03", "--replay-providers", dir, scenario, NULL);
	ck_assert_msg(r.exit_code == 0, "exit %d\n%s\n%s", r.exit_code, r.out, r.err);
	ck_assert_msg(!strstr(r.err, "cassette") && !strstr(r.err, "could not run"), "%s", r.err);
	run_result_free(&r);
	/* a third run has no cassette */
	r = run_vagent("bench", "-q", "--runs", "3", "--compute", "free", "--date", "2026-12-03",
		       "--replay-providers", dir, scenario, NULL);
	ck_assert_int_ne(r.exit_code, 0);
	ck_assert_msg(strstr(r.err, "llm-call-run3/cassette.jsonl: no cassette for call "
				"llm-call-run3"), "%s", r.err);
	run_result_free(&r);
	orders_service_stop();
}
END_TEST

/* ---- options and files ------------------------------------------------ */

START_TEST(test_bad_options_and_files)
{
	char dir[2048], file[4096];
	const char *scenario;
	struct run_result r;
	struct vagent_cassette *c = NULL;
	struct vagent_error err;

	setenv("VAGENT_TEST_OPENAI_URL", "http://127.0.0.1:9/v1", 1);
	setenv("VAGENT_TEST_OPENAI_KEY", KEY, 1);
	scenario = write_llm_call("agent.json", SYSTEM, STEPS);
	snprintf(dir, sizeof(dir), "%s", temp_path("cas"));
	ck_assert_int_eq(mkdir(dir, 0777), 0);

	r = run_vagent("run", "--record-providers", dir, "--replay-providers", dir, scenario,
		       NULL);
	ck_assert_int_eq(r.exit_code, 2);
	ck_assert_msg(strstr(r.err, "--record-providers and --replay-providers"), "%s", r.err);
	run_result_free(&r);

	r = run_vagent("run", "--replay-providers", temp_path("nowhere"), scenario, NULL);
	ck_assert_int_eq(r.exit_code, 2);
	ck_assert_msg(strstr(r.err, "nowhere: no such directory"), "%s", r.err);
	run_result_free(&r);

	/* the directory is there, the call's cassette is not */
	r = run_vagent("run", "--replay-providers", dir, scenario, NULL);
	ck_assert_int_eq(r.exit_code, 2);
	ck_assert_msg(strstr(r.err, "cas/llm-call/cassette.jsonl: no cassette for call llm-call"),
		      "%s", r.err);
	run_result_free(&r);

	/* a corrupt file: one line naming the file and line */
	snprintf(file, sizeof(file), "%s/llm-call", dir);
	ck_assert_int_eq(mkdir(file, 0777), 0);
	snprintf(file, sizeof(file), "%s/llm-call/cassette.jsonl", dir);
	write_file(file, "{\"seq\":1,\"kind\":\"http\",\"provider\":\"openai\",\"method\":\"POST\","
			 "\"url\":\"u\",\"response\":{\"chunks\":[],\"end\":{}}}\n{\"seq\": 2, trunc",
		   strlen("{\"seq\":1,\"kind\":\"http\",\"provider\":\"openai\",\"method\":\"POST\","
			  "\"url\":\"u\",\"response\":{\"chunks\":[],\"end\":{}}}\n{\"seq\": 2, trunc"));
	r = run_vagent("run", "--replay-providers", dir, scenario, NULL);
	ck_assert_int_eq(r.exit_code, 2);
	ck_assert_msg(strstr(r.err, "llm-call/cassette.jsonl:2: not a JSON line"), "%s", r.err);
	ck_assert_int_eq(count_lines(r.err), 1);
	run_result_free(&r);
	ck_assert_int_eq(vagent_cassette_open(dir, "llm-call", VAGENT_CASSETTE_REPLAY, &c, &err),
			 VAGENT_EFORMAT);
	ck_assert_ptr_null(c);

	write_file(file, "{\"seq\":1,\"kind\":\"ftp\",\"provider\":\"p\",\"method\":\"GET\",\"url\":\"u\"}\n",
		   strlen("{\"seq\":1,\"kind\":\"ftp\",\"provider\":\"p\",\"method\":\"GET\",\"url\":\"u\"}\n"));
	ck_assert_int_eq(vagent_cassette_open(dir, "llm-call", VAGENT_CASSETTE_REPLAY, &c, &err),
			 VAGENT_EFORMAT);
	ck_assert_msg(strstr(err.message, "cassette.jsonl:1: kind: must be \"http\" or \"ws\""),
		      "%s", err.message);

	/* every command has the options */
	r = run_vagent("replay", "--help", NULL);
	ck_assert(strstr(r.out, "--replay-providers") && strstr(r.out, "--record-providers"));
	run_result_free(&r);
	r = run_vagent("bench", "--help", NULL);
	ck_assert(strstr(r.out, "--replay-providers") && strstr(r.out, "--record-providers"));
	run_result_free(&r);
	r = run_vagent("chat", "--help", NULL);
	ck_assert(strstr(r.out, "--record-providers"));
	run_result_free(&r);
}
END_TEST

/* ---- the transport: replay timing, binary chunks, errors, redaction --- */

struct got {
	char data[256];
	size_t len;
	int64_t first_at, done_at;
	struct vagent__http_result res;
	char message[256], body[256];
	int dones;
	struct vagent_loop *loop;
};

static void got_data(void *ctx, const char *buf, size_t n)
{
	struct got *g = ctx;

	if (!g->len)
		g->first_at = vagent_loop_now(g->loop);
	memcpy(g->data + g->len, buf, n);
	g->len += n;
}

static void got_done(void *ctx, const struct vagent__http_result *r)
{
	struct got *g = ctx;

	g->res = *r;
	snprintf(g->message, sizeof(g->message), "%s", r->message);
	snprintf(g->body, sizeof(g->body), "%s", r->body);
	g->done_at = vagent_loop_now(g->loop);
	g->dones++;
	vagent_loop_stop(g->loop);
}

/* Play `text` as a cassette on a virtual loop: request `body` to `url`. */
static void play(const char *text, const char *url, const char *body, struct got *g)
{
	struct vagent_cassette *c = NULL;
	struct vagent_loop_config lc = vagent_loop_config_default();
	struct vagent__http *h = NULL;
	struct vagent__http_req *rq = NULL;
	struct vagent__http_request req = { .name = "openai", .url = url, .body = body,
					    .on_data = got_data, .on_done = got_done, .ctx = g };
	struct vagent_error err;

	memset(g, 0, sizeof(*g));
	write_file(temp_path("c.jsonl"), text, strlen(text));
	ck_assert_int_eq(mkdir(temp_path("d"), 0777), 0);
	ck_assert_int_eq(mkdir(temp_path("d/call"), 0777), 0);
	write_file(temp_path("d/call/cassette.jsonl"), text, strlen(text));
	ck_assert_msg(vagent_cassette_open(temp_path("d"), "call", VAGENT_CASSETTE_REPLAY, &c,
					   &err) == VAGENT_OK, "%s", err.message);
	lc.clock = VAGENT_CLOCK_VIRTUAL;
	vagent_cassette_bind(c);
	ck_assert_int_eq(vagent_loop_new(&lc, &g->loop, NULL), VAGENT_OK);
	vagent_cassette_bind(NULL);
	vagent_cassette_unref(c);
	ck_assert_int_eq(vagent__http_new(g->loop, &h, NULL), VAGENT_OK);
	ck_assert_int_eq(vagent__http_start(h, &req, &rq, NULL), VAGENT_OK);
	ck_assert_int_eq(vagent_loop_run(g->loop, VAGENT_RUN_UNTIL_IDLE, NULL), VAGENT_OK);
	vagent__http_free(h);
	vagent_loop_free(g->loop);
	g->loop = NULL;
}

START_TEST(test_transport_replay)
{
	struct got g;
	/* "hi" as text at 12.5 ms, then bytes 00 ff 10 at 40 ms, end at 50 */
	const char *ok =
		"{\"seq\":1,\"kind\":\"http\",\"provider\":\"openai\",\"method\":\"POST\","
		"\"url\":\"http://h/v1/x?model=m&api_key=<redacted>\",\"headers\":[],"
		"\"body\":{\"a\":[1,{\"b\":\"c\"}],\"api_key\":\"<redacted>\"},\"t_ms\":0,"
		"\"response\":{\"chunks\":[{\"t_ms\":12.5,\"text\":\"hi\"},"
		"{\"t_ms\":40,\"base64\":\"AP8Q\"}],\"status\":200,"
		"\"end\":{\"t_ms\":50,\"status\":\"OK\"}}}\n";
	const char *busy =
		"{\"seq\":1,\"kind\":\"http\",\"provider\":\"openai\",\"method\":\"POST\","
		"\"url\":\"http://h/v1/x\",\"body\":{\"a\":1},"
		"\"response\":{\"chunks\":[],\"status\":429,\"retry_after_s\":1.5,"
		"\"error_body\":\"{\\\"error\\\":{\\\"message\\\":\\\"slow down\\\"}}\","
		"\"end\":{\"t_ms\":7,\"status\":\"OK\"}}}\n";

	/* keys in the query and the body are not compared: they are never
	 * recorded */
	play(ok, "http://h/v1/x?model=m&api_key=another",
	     "{\"api_key\": \"sk-another-key\", \"a\": [1, {\"b\": \"c\"}]}", &g);
	ck_assert_int_eq(g.dones, 1);
	ck_assert_int_eq(g.res.st, VAGENT_OK);
	ck_assert_int_eq(g.res.status, 200);
	ck_assert_uint_eq(g.len, 5);
	ck_assert(!memcmp(g.data, "hi\x00\xff\x10", 5));
	ck_assert_int_eq(g.first_at, 12 * VAGENT_TICKS_PER_MS + VAGENT_TICKS_PER_MS / 2);
	ck_assert_int_eq(g.done_at, 50 * VAGENT_TICKS_PER_MS);
	remove_tree(temp_path("d"));

	play(ok, "http://h/v1/x?model=m&api_key=k",
	     "{\"a\": [1, {\"b\": \"d\"}], \"api_key\": \"k\"}", &g);
	ck_assert_int_eq(g.res.st, VAGENT_EPROVIDER);
	ck_assert(g.res.should_retry_false);
	ck_assert_str_eq(g.message, "cassette miss: openai POST /v1/x (request 1 of call call): "
				    "body differs from the recording at a[1].b");
	remove_tree(temp_path("d"));

	play(ok, "http://h/v1/y", "{}", &g);
	ck_assert_msg(strstr(g.message, "no recorded request to this URL"), "%s", g.message);
	remove_tree(temp_path("d"));

	play(busy, "http://h/v1/x", "{\"a\":1}", &g);
	ck_assert_int_eq(g.res.st, VAGENT_OK);
	ck_assert_int_eq(g.res.status, 429);
	ck_assert(g.res.retry_after_s == 1.5);
	ck_assert_str_eq(g.body, "{\"error\":{\"message\":\"slow down\"}}");
	ck_assert_int_eq(g.done_at, 7 * VAGENT_TICKS_PER_MS);
}
END_TEST

START_TEST(test_transport_record_redacts)
{
	struct vagent_cassette *c = NULL;
	struct vagent_loop *loop = NULL;
	struct vagent__http *h = NULL;
	struct vagent__http_req *rq = NULL;
	struct got g = { 0 };
	const char *headers[] = { "xi-api-key: " KEY, "Authorization: Bearer " KEY,
				  "Content-Type: application/json", NULL };
	struct vagent__http_request req = {
		.name = "elevenlabs",
		.url = "http://user:pw-" KEY "@127.0.0.1:9/v1/tts?api_key=" KEY "&format=pcm",
		.headers = headers,
		.body = "{\"text\":\"hello\",\"auth\":{\"xi_api_key\":\"" KEY "\"}}",
		.connect_timeout_ms = 2000, .on_data = got_data, .on_done = got_done, .ctx = &g };
	struct vagent_loop_config lc = vagent_loop_config_default();
	struct vagent_error err;
	char *text;

	ck_assert_int_eq(vagent_cassette_open(temp_dir, "rec", VAGENT_CASSETTE_RECORD, &c, &err),
			 VAGENT_OK);
	vagent_cassette_bind(c);
	ck_assert_int_eq(vagent_loop_new(&lc, &loop, NULL), VAGENT_OK);
	vagent_cassette_bind(NULL);
	g.loop = loop;
	ck_assert_int_eq(vagent__http_new(loop, &h, NULL), VAGENT_OK);
	ck_assert_int_eq(vagent__http_start(h, &req, &rq, NULL), VAGENT_OK);
	ck_assert_int_eq(vagent_loop_run(loop, VAGENT_RUN_UNTIL_IDLE, NULL), VAGENT_OK);
	ck_assert_int_eq(g.dones, 1);
	ck_assert_int_ne(g.res.st, VAGENT_OK);       /* nothing listens on port 9 */
	vagent__http_free(h);
	vagent_loop_free(loop);
	ck_assert_uint_eq(vagent_cassette_exchanges(c), 1);
	vagent_cassette_unref(c);
	text = read_file(temp_path("rec/cassette.jsonl"), NULL);
	ck_assert_ptr_nonnull(text);
	ck_assert_msg(!strstr(text, "cassette-KEY") && !strstr(text, "pw-"), "%s", text);
	ck_assert_msg(strstr(text, "\"url\":\"http://127.0.0.1:9/v1/tts?api_key=<redacted>"
			     "&format=pcm\""), "%s", text);
	ck_assert_msg(strstr(text, "\"xi-api-key: <redacted>\"") &&
		      strstr(text, "\"authorization: <redacted>\"") &&
		      strstr(text, "\"Content-Type: application/json\""), "%s", text);
	ck_assert_msg(strstr(text, "\"body\":{\"text\":\"hello\",\"auth\":{\"xi_api_key\":"
			     "\"<redacted>\"}}"), "%s", text);
	ck_assert_msg(strstr(text, "\"status\":\"EIO\""), "%s", text);
	free(text);
}
END_TEST

/* ---- a request off the loop: OpenAI transcription on a worker -------- */

struct stt_seen {
	int finals, errors;
	char final[256], error[512];
};

static void stt_final(void *ctx, const char *text, double confidence)
{
	struct stt_seen *s = ctx;

	(void)confidence;
	s->finals++;
	snprintf(s->final, sizeof(s->final), "%s", text);
}

static void stt_error(void *ctx, vagent_status st, const char *message)
{
	struct stt_seen *s = ctx;

	(void)st;
	s->errors++;
	snprintf(s->error, sizeof(s->error), "%s", message);
}

static void stt_feed(struct vagent_stt *stt, int64_t *pts, int ms, bool loud)
{
	static struct vagent_frame f;

	for (int t = 0; t < ms; t += 20) {
		memset(&f, 0, sizeof(f));
		f.pts = *pts;
		f.rate = 8000;
		f.channels = 1;
		f.n = 160;
		for (size_t i = 0; loud && i < f.n; i++)
			f.samples[i] = (int16_t)((i / 8) % 2 ? 6000 : -6000);
		stt->ops->audio(stt, &f, NULL);
		*pts += vagent_ticks_from_ms(20);
	}
}

/* One turn of OpenAI transcription at `url` on a virtual loop carrying
 * cassette DIR/stt (recorded or replayed). */
static void stt_turn(const char *url, const char *dir, vagent_cassette_mode mode,
		     const char *language, struct stt_seen *seen)
{
	struct vagent_openai_stt_config cfg = vagent_openai_stt_config_default();
	struct vagent_loop_config lc = vagent_loop_config_default();
	struct vagent_cassette *c = NULL;
	struct vagent_loop *loop = NULL;
	struct vagent_stt *stt = NULL;
	struct vagent_error err;
	int64_t pts = 0;

	memset(seen, 0, sizeof(*seen));
	ck_assert_msg(vagent_cassette_open(dir, "stt", mode, &c, &err) == VAGENT_OK, "%s",
		      err.message);
	lc.clock = VAGENT_CLOCK_VIRTUAL;
	lc.workers = 1;
	vagent_cassette_bind(c);
	ck_assert_int_eq(vagent_loop_new(&lc, &loop, NULL), VAGENT_OK);
	vagent_cassette_bind(NULL);
	cfg.api_key = KEY;
	cfg.language = language;
	cfg.base_url = url;
	ck_assert_msg(vagent_openai_stt_new(&cfg, &stt, &err) == VAGENT_OK, "%s", err.message);
	stt->loop = loop;
	stt->on_final = stt_final;
	stt->on_error = stt_error;
	stt->ctx = seen;
	stt_feed(stt, &pts, 1000, false);
	stt->ops->speech(stt, true, pts);
	stt_feed(stt, &pts, 800, true);
	stt->ops->speech(stt, false, pts);
	stt_feed(stt, &pts, 400, false);
	stt->ops->turn_end(stt, pts);
	ck_assert_int_eq(vagent_loop_run(loop, VAGENT_RUN_UNTIL_IDLE, NULL), VAGENT_OK);
	if (mode == VAGENT_CASSETTE_REPLAY && !seen->errors)
		ck_assert_uint_eq(vagent_cassette_unused(c), 0);
	vagent_stt_free(stt);
	vagent_loop_free(loop);
	vagent_cassette_unref(c);
}

START_TEST(test_openai_transcription_off_loop)
{
	static const char *const script[] = { "What are your opening hours?", NULL };
	struct fake_openai_stt_config fc = { .script = script, .api_key = KEY,
					     .http_status = 429, .fail_times = 1,
					     .retry_after = "0" };
	struct fake_openai_stt *fake = fake_openai_stt_start(&fc);
	struct stt_seen seen;
	char url[256], dir[2048], *text;

	ck_assert_ptr_nonnull(fake);
	snprintf(url, sizeof(url), "%s", fake_openai_stt_url(fake));
	snprintf(dir, sizeof(dir), "%s", temp_dir);
	stt_turn(url, dir, VAGENT_CASSETTE_RECORD, "en", &seen);
	fake_openai_stt_stop(fake);       /* offline from here on */
	ck_assert_msg(seen.finals == 1 && !seen.errors, "%s", seen.error);
	ck_assert_str_eq(seen.final, "What are your opening hours?");
	text = read_file(temp_path("stt/cassette.jsonl"), NULL);
	ck_assert_ptr_nonnull(text);
	ck_assert_int_eq(count_lines(text), 2);      /* the 429, then the answer */
	ck_assert_msg(strstr(text, "\"status\":429") && strstr(text, "\"off_loop\":true") &&
		      strstr(text, "\"body\":{\"model\":\"gpt-4o-mini-transcribe\""), "%s", text);
	ck_assert(!strstr(text, "cassette-KEY"));
	free(text);

	stt_turn(url, dir, VAGENT_CASSETTE_REPLAY, "en", &seen);
	ck_assert_msg(seen.finals == 1 && !seen.errors, "%s", seen.error);
	ck_assert_str_eq(seen.final, "What are your opening hours?");

	stt_turn(url, dir, VAGENT_CASSETTE_REPLAY, "fr", &seen);
	ck_assert_int_eq(seen.finals, 0);
	ck_assert_msg(strstr(seen.error, "cassette miss: openai POST /v1/audio/transcriptions "
				  "(request 1 of call stt): body differs from the recording "
				  "at language"), "%s", seen.error);
}
END_TEST

/* ---- a WebSocket provider: Deepgram on the real clock ----------------- */

static const char *const order_script[] = {
	"hi i'd like to check on my order", "it's one two three four five",
	"no that's all goodbye", NULL,
};

/* The example agent with its STT on Deepgram at `url`. */
static const char *write_dg_agent(const char *url)
{
	char *text = read_file(top_path("scenarios/agents/store.json"), NULL);
	char *help = read_file(top_path("scenarios/agents/store-help.md"), NULL);
	const char *old = "\"stt\": { \"provider\": \"pocketsphinx\", \"boost\": true }";
	char *at, stt_obj[512], *out;

	ck_assert(text && help);
	at = strstr(text, old);
	ck_assert_msg(at, "the example agent's stt line changed");
	snprintf(stt_obj, sizeof(stt_obj),
		 "\"stt\": {\"provider\": \"deepgram\", \"model\": \"nova-2\", \"url\": \"%s\", "
		 "\"api_key_env\": \"VAGENT_TEST_DG_KEY\", \"encoding\": \"linear16\", "
		 "\"endpointing_ms\": 600, \"fallback\": \"pocketsphinx\"}", url);
	out = malloc(strlen(text) + strlen(stt_obj) + 1);
	ck_assert(out);
	memcpy(out, text, (size_t)(at - text));
	strcpy(out + (at - text), stt_obj);
	strcat(out, at + strlen(old));
	write_file(temp_path("store-help.md"), help, strlen(help));
	write_file(temp_path("agent.json"), out, strlen(out));
	free(text);
	free(help);
	free(out);
	return temp_path("agent.json");
}

START_TEST(test_deepgram_websocket)
{
	struct fake_deepgram_config fc = fake_deepgram_config_default();
	struct fake_deepgram *fake;
	struct run_result r;
	char agent[2048], dir[2048], out1[2048], out2[2048], path[4096];
	char *trace, *cassette;
	const char *heard = "\"type\":\"stt.final\",\"text\":\"it's one two three four five\"";

	fc.script = order_script;
	fc.api_key = DG_KEY;
	fake = fake_deepgram_start(&fc);
	snprintf(agent, sizeof(agent), "%s", write_dg_agent(fake_deepgram_url(fake)));
	snprintf(dir, sizeof(dir), "%s", temp_path("cas"));
	snprintf(out1, sizeof(out1), "%s", temp_path("out1"));
	snprintf(out2, sizeof(out2), "%s", temp_path("out2"));
	setenv("VAGENT_TEST_DG_KEY", DG_KEY, 1);
	r = run_vagent("run", "--clock", "real", "--agent", agent, "--record-providers", dir,
		       top_path("scenarios/order-status.json"), NULL);
	ck_assert_msg(r.exit_code == 0, "exit %d\n%.1500s\n%.1000s", r.exit_code, r.out, r.err);
	run_result_free(&r);
	fake_deepgram_stop(fake);     /* offline from here on */

	snprintf(path, sizeof(path), "%s/order-status/cassette.jsonl", dir);
	cassette = read_file(path, NULL);
	ck_assert_ptr_nonnull(cassette);
	ck_assert_msg(strstr(cassette, "\"kind\":\"ws\",\"provider\":\"deepgram\""), "%.2000s",
		      cassette);
	ck_assert(strstr(cassette, "\"authorization: <redacted>\""));
	ck_assert(strstr(cassette, "\"event\":\"send\",\"t_ms\":"));
	ck_assert(strstr(cassette, "\"frames\":") && strstr(cassette, "\"binary_bytes\":"));
	ck_assert(strstr(cassette, "{\\\"type\\\":\\\"CloseStream\\\"}"));
	ck_assert(strstr(cassette, "it's one two three four five"));
	ck_assert(!dir_contains(dir, DG_KEY) && !dir_contains(dir, "cassette-KEY"));
	free(cassette);

	/* replayed on the real clock, and on the virtual one (no network,
	 * so Deepgram runs there too) */
	r = run_vagent("run", "--clock", "real", "--agent", agent, "--replay-providers", dir,
		       "--out", out1, top_path("scenarios/order-status.json"), NULL);
	ck_assert_msg(r.exit_code == 0, "exit %d\n%.1500s\n%.1000s", r.exit_code, r.out, r.err);
	run_result_free(&r);
	snprintf(path, sizeof(path), "%s/order-status.trace.jsonl", out1);
	trace = read_file(path, NULL);
	ck_assert_ptr_nonnull(trace);
	ck_assert_msg(strstr(trace, heard), "%.3000s", trace);
	ck_assert_msg(!strstr(trace, "\"type\":\"fallback\""), "%.3000s", trace);
	free(trace);

	r = run_vagent("run", "--agent", agent, "--replay-providers", dir, "--out", out2,
		       top_path("scenarios/order-status.json"), NULL);
	ck_assert_msg(r.exit_code == 0, "exit %d\n%.1500s\n%.1000s", r.exit_code, r.out, r.err);
	run_result_free(&r);
	snprintf(path, sizeof(path), "%s/order-status.trace.jsonl", out2);
	trace = read_file(path, NULL);
	ck_assert_ptr_nonnull(trace);
	ck_assert_msg(strstr(trace, heard), "%.3000s", trace);
	ck_assert_msg(!strstr(trace, "\"type\":\"fallback\""), "%.3000s", trace);
	ck_assert(!strstr(trace, "needs the real clock"));
	free(trace);
}
END_TEST

/* ---- whole calls: the cloud TTS providers ------------------------------ */

#define TTS_KEY "tts-cassette-KEY-9e1c3a5f7b"
#define TTS_VOICE "cassette-voice"

/* The store agent (flow brain, sim STT) speaking through `provider`. */
static const char *write_tts_call(const char *provider)
{
	char *text = read_file(top_path("scenarios/agents/store.json"), NULL);
	cJSON *agent = cJSON_Parse(text), *k;
	char *out, scenario[4096], agent_path[2048];

	ck_assert_ptr_nonnull(agent);
	free(text);
	k = cJSON_CreateObject();
	cJSON_AddStringToObject(k, "provider", "sim");
	cJSON_ReplaceItemInObject(agent, "stt", k);
	k = cJSON_CreateObject();
	cJSON_AddStringToObject(k, "provider", provider);
	cJSON_AddStringToObject(k, "voice", TTS_VOICE);
	cJSON_AddStringToObject(k, "url", "${VAGENT_TEST_TTS_URL}");
	cJSON_AddStringToObject(k, "api_key_env", "VAGENT_TEST_TTS_KEY");
	cJSON_AddStringToObject(k, "fallback", "flite");
	cJSON_ReplaceItemInObject(agent, "tts", k);
	k = cJSON_CreateArray();
	cJSON_AddItemToArray(k, cJSON_CreateString(top_path("scenarios/agents/store-help.md")));
	cJSON_ReplaceItemInObject(agent, "knowledge", k);
	out = cJSON_Print(agent);
	snprintf(agent_path, sizeof(agent_path), "%s", temp_file("tts-agent.json", out));
	free(out);
	cJSON_Delete(agent);
	snprintf(scenario, sizeof(scenario),
		 "{\"name\": \"tts-call\", \"agent\": \"%s\",\n"
		 " \"services\": {\"ACME_ORDERS_URL\": \"%s\"},\n"
		 " \"caller\": {\"voice\": \"rms\", \"rate\": 16000},\n"
		 " \"steps\": %s}\n", agent_path, top_path("scenarios/services/orders.json"),
		 STEPS);
	return temp_file("tts-call.json", scenario);
}

/* The sentences synthesised and the provider of each one's first audio. */
static void tts_said(const struct vagent_call_run *r, const char *provider, char *out,
		     size_t size)
{
	struct vagent_trace *t = NULL;
	size_t len = 0;
	const char *text = vagent_session_trace(r->session, &len);
	int first_audio = 0;

	out[0] = '\0';
	ck_assert_int_eq(vagent_trace_parse(text, len, "trace", &t, NULL), VAGENT_OK);
	for (size_t i = 0; i < t->n; i++) {
		const struct vagent_trace_event *e = &t->events[i];

		ck_assert_msg(e->type != VAGENT_TRACE_FALLBACK, "%s", text);
		if (e->type == VAGENT_TRACE_TTS_REQUEST)
			snprintf(out + strlen(out), size - strlen(out), "%s\n", e->text);
		if (e->type == VAGENT_TRACE_TTS_FIRST_AUDIO) {
			ck_assert_str_eq(e->provider, provider);
			first_audio++;
		}
	}
	ck_assert_int_ge(first_audio, 3);
	vagent_trace_free(t);
}

/* Record a call spoken by `provider` against its fake (started by the
 * caller, stopped by `stop` before the replays), then replay it twice
 * offline: the same sentences from the same provider, the same trace. */
static void tts_record_replay(const char *provider, const char *url, void (*stop)(void *),
			      void *fake)
{
	char said[4096], again[4096], dir[2048];
	struct vagent_call_run *r, *r1, *r2;
	const char *scenario, *t1, *t2;
	size_t l1 = 0, l2 = 0;

	orders_service_start();
	setenv("VAGENT_TEST_TTS_URL", url, 1);
	setenv("VAGENT_TEST_TTS_KEY", TTS_KEY, 1);
	snprintf(dir, sizeof(dir), "%s", temp_path("cas"));
	ck_assert_int_eq(mkdir(dir, 0777), 0);
	scenario = write_tts_call(provider);
	r = run_call(scenario, dir, NULL);
	ck_assert_msg(vagent_session_result(r->session)->status == VAGENT_OK, "%s",
		      vagent_session_result(r->session)->error);
	ck_assert_ptr_null(vagent_cassette_failure(vagent_call_run_cassette(r)));
	ck_assert_uint_ge(vagent_cassette_exchanges(vagent_call_run_cassette(r)), 1);
	tts_said(r, r->stack->tts->name, said, sizeof(said));
	vagent_call_run_free(r);
	stop(fake);                  /* offline from here on */
	ck_assert(!dir_contains(dir, TTS_KEY));
	ck_assert(!dir_contains(dir, "cassette-KEY"));

	r1 = run_call(scenario, NULL, dir);
	r2 = run_call(scenario, NULL, dir);
	ck_assert_ptr_null(vagent_cassette_miss(vagent_call_run_cassette(r1)));
	ck_assert_uint_eq(vagent_cassette_unused(vagent_call_run_cassette(r1)), 0);
	tts_said(r1, r1->stack->tts->name, again, sizeof(again));
	ck_assert_str_eq(again, said);
	t1 = vagent_session_trace(r1->session, &l1);
	t2 = vagent_session_trace(r2->session, &l2);
	ck_assert_uint_eq(l1, l2);
	ck_assert_msg(!memcmp(t1, t2, l1), "two replays gave different traces");
	vagent_call_run_free(r1);
	vagent_call_run_free(r2);
	orders_service_stop();
}

static void stop_elevenlabs(void *f) { fake_elevenlabs_stop(f); }
static void stop_openai_tts(void *f) { fake_openai_tts_stop(f); }
static void stop_cartesia(void *f) { fake_cartesia_stop(f); }

START_TEST(test_elevenlabs_websocket)
{
	struct fake_elevenlabs_config fc = fake_elevenlabs_config_default();
	struct fake_elevenlabs *f;

	fc.api_key = TTS_KEY;
	fc.voice_id = TTS_VOICE;
	f = fake_elevenlabs_start(&fc);
	ck_assert_ptr_nonnull(f);
	tts_record_replay("elevenlabs", fake_elevenlabs_url(f), stop_elevenlabs, f);
}
END_TEST

START_TEST(test_openai_speech_http)
{
	struct fake_openai_tts_config fc = { .api_key = TTS_KEY };
	struct fake_openai_tts *f = fake_openai_tts_start(&fc);

	ck_assert_ptr_nonnull(f);
	tts_record_replay("openai", fake_openai_tts_url(f), stop_openai_tts, f);
}
END_TEST

START_TEST(test_cartesia_websocket)
{
	struct fake_cartesia_config fc = { .api_key = TTS_KEY, .voice = TTS_VOICE };
	struct fake_cartesia *f = fake_cartesia_start(&fc);

	ck_assert_ptr_nonnull(f);
	tts_record_replay("cartesia", fake_cartesia_url(f), stop_cartesia, f);
}
END_TEST

Suite *suite_cassette(void)
{
	Suite *s = suite_create("cassette");
	TCase *tc = tcase_create("transport");
	TCase *calls = tcase_create("calls");

	tcase_add_checked_fixture(tc, temp_dir_setup, temp_dir_teardown);
	tcase_add_test(tc, test_transport_replay);
	tcase_add_test(tc, test_transport_record_redacts);
	tcase_add_test(tc, test_openai_transcription_off_loop);
	suite_add_tcase(s, tc);
	tcase_add_checked_fixture(calls, temp_dir_setup, temp_dir_teardown);
	tcase_set_timeout(calls, 180);
	tcase_add_test(calls, test_record_then_replay_offline);
	tcase_add_test(calls, test_changed_prompt_is_a_miss);
	tcase_add_test(calls, test_unused_exchanges_warn);
	tcase_add_test(calls, test_bench_cassette_per_call_and_run);
	tcase_add_test(calls, test_bad_options_and_files);
	tcase_add_test(calls, test_deepgram_websocket);
	tcase_add_test(calls, test_elevenlabs_websocket);
	tcase_add_test(calls, test_openai_speech_http);
	tcase_add_test(calls, test_cartesia_websocket);
	suite_add_tcase(s, calls);
	return s;
}
