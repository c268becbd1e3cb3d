/*
 * check_replay.c — recorded calls (docs/call.md): loading call folders
 * (every problem reported with its line), replaying them in turns and
 * timeline mode with exact virtual-clock timing, barge-in replay, the
 * audio variants (mu-law, A-law, Opus, one file per side), the tool
 * comparison, a record -> replay round trip on the embedded stack, and
 * `vagent replay`'s exit codes.
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cjson/cJSON.h>

#include "vagent.h"
#include "support/harness.h"

/* A quick agent for timing tests: simulated STT (it recognises the
 * golden text) and TTS, the flow brain. */
static const char agent_json[] =
	"{\n"
	"  \"name\": \"quick\",\n"
	"  \"rate\": 16000,\n"
	"  \"greeting\": \"Hello, I am an automated assistant.\",\n"
	"  \"stt\": { \"provider\": \"sim\" },\n"
	"  \"tts\": { \"provider\": \"sim\" },\n"
	"  \"brain\": { \"provider\": \"flow\" },\n"
	"  \"flow\": { \"intents\": [\n"
	"    { \"name\": \"hello\", \"keywords\": [\"hello\"],\n"
	"      \"reply\": \"Hello there. This reply is long enough for a caller to talk over it "
	"and still be heard, which is what we want.\" },\n"
	"    { \"name\": \"weather\", \"keywords\": [\"weather\"], \"reply\": \"It is sunny.\" },\n"
	"    { \"name\": \"bye\", \"keywords\": [\"goodbye\"], \"reply\": \"Goodbye!\", "
	"\"end\": true }\n"
	"  ] }\n"
	"}\n";

/* A turn of a call the tests build: caller turns are speech-like audio of
 * their text; agent turns last `ms`. */
struct tturn {
	const char *who;
	int start_ms;
	const char *text;
	int ms;                 /* agent: duration; set for callers */
};

/* How the test call's audio is stored. */
struct layout {
	int rate;
	bool per_side;
	const char *ext;        /* "wav" or "opus" */
	vagent_encoding enc;
};

/*
 * Write call folder <temp_dir>/NAME (call.json + audio) with `turns` and
 * `extra` JSON members; returns its path (static slot of temp_path).
 */
static const char *make_call(const char *name, const struct layout *lo,
			     struct tturn *turns, size_t n, const char *extra)
{
	struct vagent_audio *caller, *agent, *st = NULL;
	struct vagent_audio_save_opts so = vagent_audio_save_opts_default();
	struct vagent_error err;
	char dir[1024], path[1200], json[8192], *p = json;
	size_t total = 0;

	snprintf(dir, sizeof(dir), "%s/%s", temp_dir, name);
	ck_assert_int_eq(mkdir(dir, 0777), 0);
	snprintf(path, sizeof(path), "%s/agent.json", temp_dir);
	write_file(path, agent_json, strlen(agent_json));
	for (size_t i = 0; i < n; i++) {
		if (!strcmp(turns[i].who, "caller")) {
			int ms = vagent_speechlike_duration_ms(turns[i].text);

			turns[i].ms = ms;
		}
		if ((size_t)(turns[i].start_ms + turns[i].ms) > total)
			total = (size_t)(turns[i].start_ms + turns[i].ms);
	}
	total += 500;
	caller = vagent_audio_new(lo->rate, 1, total * (size_t)lo->rate / 1000);
	agent = vagent_audio_new(lo->rate, 1, total * (size_t)lo->rate / 1000);
	for (size_t i = 0; i < n; i++) {
		struct vagent_audio *sp = NULL;
		size_t at = (size_t)turns[i].start_ms * (size_t)lo->rate / 1000;
		bool is_caller = !strcmp(turns[i].who, "caller");

		ck_assert_int_eq(vagent_speechlike_synth(turns[i].text, lo->rate, 7 + i, &sp, &err),
				 VAGENT_OK);
		if (is_caller)
			turns[i].ms = (int)(sp->frames * 1000 / (size_t)lo->rate);
		for (size_t k = 0; k < sp->frames && at + k < caller->frames &&
		     k < (size_t)turns[i].ms * (size_t)lo->rate / 1000; k++)
			(is_caller ? caller : agent)->samples[at + k] = sp->samples[k];
		vagent_audio_free(sp);
	}
	so.encoding = lo->enc;
	if (lo->per_side) {
		snprintf(path, sizeof(path), "%s/caller.%s", dir, lo->ext);
		ck_assert_msg(vagent_audio_save(caller, path, &so, &err) == VAGENT_OK, "%s",
			      err.message);
		snprintf(path, sizeof(path), "%s/agent.%s", dir, lo->ext);
		ck_assert_int_eq(vagent_audio_save(agent, path, &so, &err), VAGENT_OK);
		p += sprintf(p, "{\n  \"agent\": \"../agent.json\",\n  \"audio\": { \"caller\": "
			     "\"caller.%s\", \"agent\": \"agent.%s\" },\n", lo->ext, lo->ext);
	} else {
		ck_assert_int_eq(vagent_audio_interleave(caller, agent, &st, &err), VAGENT_OK);
		snprintf(path, sizeof(path), "%s/call.%s", dir, lo->ext);
		ck_assert_msg(vagent_audio_save(st, path, &so, &err) == VAGENT_OK, "%s",
			      err.message);
		vagent_audio_free(st);
		p += sprintf(p, "{\n  \"agent\": \"../agent.json\",\n  \"audio\": { \"file\": "
			     "\"call.%s\" },\n", lo->ext);
	}
	p += sprintf(p, "  \"rate\": 16000,\n%s  \"turns\": [\n", extra ? extra : "");
	for (size_t i = 0; i < n; i++)
		p += sprintf(p, "    { \"speaker\": \"%s\", \"start_ms\": %d, \"end_ms\": %d, "
			     "\"text\": \"%s\" }%s\n", turns[i].who, turns[i].start_ms,
			     turns[i].start_ms + turns[i].ms, turns[i].text, i + 1 < n ? "," : "");
	sprintf(p, "  ]\n}\n");
	snprintf(path, sizeof(path), "%s/call.json", dir);
	write_file(path, json, strlen(json));
	vagent_audio_free(caller);
	vagent_audio_free(agent);
	return temp_path(name);
}

static struct vagent_call_run *replay(const char *dir, vagent_replay_mode mode)
{
	struct vagent_recorded_call *c = NULL;
	struct vagent_replay_options ro = { .mode = mode };
	struct vagent_call_run *r = NULL;
	struct vagent_diags d;
	struct vagent_error err;

	vagent_diags_init(&d);
	ck_assert_msg(vagent_call_load(dir, &c, &d, &err) == VAGENT_OK, "%s", err.message);
	ck_assert_uint_eq(d.n, 0);
	ro.run.clock = VAGENT_CLOCK_VIRTUAL;
	ro.run.free_compute = true;
	ro.run.seed = 1;
	ro.run.record = true;
	ck_assert_msg(vagent_call_replay(c, &ro, &r, &err) == VAGENT_OK, "%s", err.message);
	ck_assert_int_eq(vagent_session_result(r->session)->status, VAGENT_OK);
	return r;
}

static struct vagent_trace *trace_of(const struct vagent_call_run *r)
{
	struct vagent_trace *t = NULL;
	struct vagent_error err;
	size_t len = 0;
	const char *text = vagent_session_trace(r->session, &len);

	ck_assert_int_eq(vagent_trace_parse(text, len, "trace", &t, &err), VAGENT_OK);
	return t;
}

/* The time (µs) of the first event `type` of `turn`, -1 when none. */
static int64_t at(const struct vagent_trace *t, vagent_trace_type type, int turn)
{
	for (size_t i = 0; i < t->n; i++)
		if (t->events[i].type == type && t->events[i].turn == turn)
			return t->events[i].t_us;
	return -1;
}

static const struct layout wav16 = { 16000, false, "wav", VAGENT_ENC_PCM16 };

/* greeting, "hello" 500 ms after it, the reply, "goodbye" 1 s after it */
static struct tturn two_turns[] = {
	{ "agent", 100, "Hello, I am an automated assistant.", 2000 },
	{ "caller", 2600, "hello", 0 },
	{ "agent", 4000, "Hello there.", 3000 },
	{ "caller", 8000, "goodbye", 0 },
};

/* ---- loading ---- */

START_TEST(test_load_stereo_and_fields)
{
	struct tturn turns[4];
	struct vagent_recorded_call *c = NULL;
	struct vagent_diags d;
	struct vagent_error err;
	char path[1200];

	memcpy(turns, two_turns, sizeof(turns));
	make_call("c", &wav16, turns, 4,
		  "  \"name\": \"greet\",\n  \"tools\": [ { \"name\": \"lookup\", \"args\": "
		  "{ \"id\": \"7\" }, \"result\": { \"ok\": true }, \"t_ms\": 5000 } ],\n"
		  "  \"expectations\": [ { \"barge_in\": false } ],\n");
	vagent_diags_init(&d);
	/* the call.json path works as well as the folder */
	snprintf(path, sizeof(path), "%s/c/call.json", temp_dir);
	ck_assert_msg(vagent_call_load(path, &c, &d, &err) == VAGENT_OK, "%s", err.message);
	ck_assert_str_eq(c->name, "greet");
	ck_assert_int_eq(c->rate, 16000);
	ck_assert_uint_eq(c->n_turns, 4);
	ck_assert_int_eq(c->turns[1].speaker, VAGENT_SPEAKER_CALLER);
	ck_assert_int_eq(c->turns[1].start_ms, 2600);
	ck_assert_str_eq(c->turns[1].text, "hello");
	ck_assert_int_eq(c->caller_audio->channels, 1);
	ck_assert_int_eq(c->caller_audio->rate, 16000);
	ck_assert_ptr_nonnull(c->agent_audio);
	ck_assert_uint_eq(c->n_tools, 1);
	ck_assert_str_eq(c->tools[0].args, "{\"id\":\"7\"}");
	ck_assert_str_eq(c->tools[0].result, "{\"ok\":true}");
	ck_assert_int_eq(c->tools[0].t_ms, 5000);
	ck_assert(c->has_expectations);
	/* "../agent.json" from the folder, written as the user would */
	ck_assert_str_eq(c->agent_path, temp_path("agent.json"));
	ck_assert_ptr_nonnull(strstr(c->text, "\"expectations\""));
	vagent_recorded_call_free(c);

	/* no "name": the folder's */
	memcpy(turns, two_turns, sizeof(turns));
	make_call("folder-name", &wav16, turns, 4, NULL);
	ck_assert_int_eq(vagent_call_load(temp_path("folder-name"), &c, NULL, &err), VAGENT_OK);
	ck_assert_str_eq(c->name, "folder-name");
	ck_assert(!c->has_expectations);
	vagent_recorded_call_free(c);
}
END_TEST

/* Every problem of a call file is reported, each with its line. */
START_TEST(test_load_errors_every_problem)
{
	static const char bad[] =
		"{\n"                                                          /* 1 */
		"  \"version\": 2,\n"                                          /* 2 */
		"  \"colour\": \"red\",\n"                                     /* 3 */
		"  \"rate\": 44100,\n"                                         /* 4 */
		"  \"audio\": { \"file\": \"missing.wav\" },\n"                /* 5 */
		"  \"turns\": [\n"                                             /* 6 */
		"    { \"speaker\": \"caller\", \"start_ms\": 1000, \"end_ms\": 2000 },\n"  /* 7 */
		"    { \"speaker\": \"caller\", \"start_ms\": 1500, \"end_ms\": 2500 },\n"  /* 8 */
		"    { \"speaker\": \"robot\", \"start_ms\": 3000, \"end_ms\": 3100 },\n"   /* 9 */
		"    { \"speaker\": \"agent\", \"start_ms\": 200, \"end_ms\": 100 }\n"      /* 10 */
		"  ],\n"                                                       /* 11 */
		"  \"tools\": [ { \"args\": [] } ],\n"                         /* 12 */
		"  \"expectations\": {}\n"                                     /* 13 */
		"}\n";
	static const char *const want[] = {
		"call.json:3: colour: unknown key \"colour\"",
		"call.json:2: version: 2 is not a version this vagent reads (1)",
		"call.json:4: rate: must be 8000 or 16000 (the rate the call runs at)",
		"call.json:5: audio.file: ",
		"call.json:8: turns[1].start_ms: caller turn starts at 1500 ms, before turns[0] "
		"of the same speaker ends (2000 ms)",
		"call.json:9: turns[2].speaker: \"robot\" is not caller or agent",
		"call.json:10: turns[3].end_ms: 100 ms is not after start_ms (200 ms)",
		"call.json:10: turns[3].start_ms: turns out of order: starts at 200 ms, before "
		"turns[1] (1500 ms)",
		"call.json:12: tools[0].name: missing: the tool's name",
		"call.json:12: tools[0].args: must be an object (the tool's arguments)",
		"call.json:13: expectations: must be an array of expectations",
	};
	struct vagent_recorded_call *c = NULL;
	struct vagent_diags d;
	struct vagent_error err;
	char dir[1024];

	snprintf(dir, sizeof(dir), "%s/bad", temp_dir);
	ck_assert_int_eq(mkdir(dir, 0777), 0);
	temp_file("bad/call.json", bad);
	vagent_diags_init(&d);
	ck_assert_int_eq(vagent_call_load(dir, &c, &d, &err), VAGENT_EINVAL);
	ck_assert_ptr_null(c);
	ck_assert_msg(d.n == (sizeof(want) / sizeof(want[0])), "%zu problems, first: %s", d.n,
		      d.n ? d.lines[0] : "");
	for (size_t i = 0; i < d.n; i++) {
		const char *line = strstr(d.lines[i], "call.json:");

		ck_assert_msg(line && !strncmp(line, want[i], strlen(want[i])), "problem %zu: %s",
			      i, d.lines[i]);
	}
	/* the missing audio names its file; the first problem is also err */
	ck_assert_ptr_nonnull(strstr(d.lines[3], "/bad/missing.wav"));
	ck_assert_str_eq(err.message, d.lines[0]);
	vagent_diags_clear(&d);

	/* no call.json, not JSON */
	ck_assert_int_eq(vagent_call_load(temp_path("nowhere"), &c, &d, &err), VAGENT_ENOENT);
	ck_assert_ptr_nonnull(strstr(err.message, "nowhere"));
	vagent_diags_clear(&d);
	temp_file("bad/call.json", "{\n  \"turns\": [\n");
	ck_assert_int_eq(vagent_call_load(dir, &c, &d, &err), VAGENT_EFORMAT);
	ck_assert_msg(strstr(err.message, "call.json:2: not valid JSON") != NULL, "%s", err.message);
	ck_assert_uint_eq(d.n, 1);
	vagent_diags_clear(&d);
}
END_TEST

/* Turn times against the audio; a mono file where a stereo one is needed. */
START_TEST(test_load_audio_problems)
{
	struct tturn turns[4];
	struct vagent_recorded_call *c = NULL;
	struct vagent_diags d;
	struct vagent_error err;
	struct vagent_audio *mono = vagent_audio_new(16000, 1, 16000);
	struct vagent_audio_save_opts so = vagent_audio_save_opts_default();
	char path[1200];

	memcpy(turns, two_turns, sizeof(turns));
	turns[3].start_ms = 8000;
	make_call("late", &wav16, turns, 4, NULL);
	/* move the last turn past the end of the audio */
	snprintf(path, sizeof(path), "%s/late/call.json", temp_dir);
	{
		size_t len;
		char *text = read_file(path, &len), *s = strstr(text, "\"start_ms\": 8000");
		char fixed[8192];

		ck_assert_ptr_nonnull(s);
		snprintf(fixed, sizeof(fixed), "%.*s\"start_ms\": 8000, \"end_ms\": 60000 }\n  ]\n}\n",
			 (int)(s - text), text);
		write_file(path, fixed, strlen(fixed));
		free(text);
	}
	vagent_diags_init(&d);
	ck_assert_int_eq(vagent_call_load(path, &c, &d, &err), VAGENT_EINVAL);
	ck_assert_uint_eq(d.n, 1);
	ck_assert_ptr_nonnull(strstr(d.lines[0], "call.json:9: turns[3].end_ms: 60000 ms is "
				     "past the end of the caller audio ("));
	vagent_diags_clear(&d);

	snprintf(path, sizeof(path), "%s/late/call.wav", temp_dir);
	ck_assert_int_eq(vagent_audio_save(mono, path, &so, &err), VAGENT_OK);
	ck_assert_int_eq(vagent_call_load(temp_path("late"), &c, &d, &err), VAGENT_EINVAL);
	ck_assert_ptr_nonnull(strstr(d.lines[0], "audio.file: call.wav: has 1 channel; a single "
				     "file must be stereo"));
	vagent_diags_clear(&d);
	vagent_audio_free(mono);
}
END_TEST

/* ---- replay timing on the virtual clock ---- */

/* timeline: the caller turns start at their recorded times */
START_TEST(test_timeline_mode_times)
{
	struct tturn turns[4];
	struct vagent_call_run *r;
	struct vagent_trace *t;
	const struct vagent_session_result *res;

	memcpy(turns, two_turns, sizeof(turns));
	r = replay(make_call("tl", &wav16, turns, 4, NULL), VAGENT_REPLAY_TIMELINE);
	t = trace_of(r);
	ck_assert_int_eq(at(t, VAGENT_TRACE_CALLER_SPEECH_START, 1), 2600000);
	ck_assert_int_eq(at(t, VAGENT_TRACE_CALLER_SPEECH_END, 1), 1000 * (2600 + turns[1].ms));
	ck_assert_int_eq(at(t, VAGENT_TRACE_CALLER_SPEECH_START, 2), 8000000);
	res = vagent_session_result(r->session);
	ck_assert_uint_ge(res->n_turns, 3);
	/* the golden text is the truth; the simulated STT heard it */
	ck_assert_str_eq(res->turns[1].caller_text, "hello");
	ck_assert_str_eq(res->turns[2].caller_text, "goodbye");
	ck_assert_str_eq(res->turns[2].stt_text, "goodbye");
	ck_assert(r->call->replayed);
	ck_assert(r->call->tool_check.passed);
	ck_assert_str_eq(r->call->tool_check.detail, "0 tool calls as recorded");
	vagent_trace_free(t);
	vagent_call_run_free(r);
}
END_TEST

/* turns: each caller turn the recorded gap after the agent's reply ends */
START_TEST(test_turns_mode_keeps_gaps)
{
	struct tturn turns[4];
	struct vagent_call_run *r;
	struct vagent_trace *t;
	int64_t stop0, stop1;

	memcpy(turns, two_turns, sizeof(turns));
	r = replay(make_call("tm", &wav16, turns, 4, NULL), VAGENT_REPLAY_TURNS);
	t = trace_of(r);
	stop0 = at(t, VAGENT_TRACE_AGENT_AUDIO_STOP, 0);
	stop1 = at(t, VAGENT_TRACE_AGENT_AUDIO_STOP, 1);
	ck_assert_int_gt(stop0, 0);
	ck_assert_int_gt(stop1, stop0);
	/* recorded: greeting ends 2100, caller at 2600; reply ends 7000,
	 * caller at 8000 */
	ck_assert_int_eq(at(t, VAGENT_TRACE_CALLER_SPEECH_START, 1), stop0 + 500000);
	ck_assert_int_eq(at(t, VAGENT_TRACE_CALLER_SPEECH_START, 2), stop1 + 1000000);
	/* not the recorded times: the agent under test answers differently */
	ck_assert_int_ne(at(t, VAGENT_TRACE_CALLER_SPEECH_START, 2), 8000000);
	vagent_trace_free(t);
	vagent_call_run_free(r);
}
END_TEST

/* turns: a caller turn that overlapped the agent is a barge-in at the same
 * offset into the agent's reply */
START_TEST(test_turns_mode_barge_in)
{
	struct tturn turns[] = {
		{ "agent", 100, "Hello, I am an automated assistant.", 2000 },
		{ "caller", 2600, "hello", 0 },
		{ "agent", 4000, "Hello there.", 3000 },
		{ "caller", 4900, "what is the weather", 0 },  /* 900 ms into the reply */
	};
	struct vagent_call_run *r;
	struct vagent_trace *t;
	const struct vagent_session_result *res;
	int64_t start1;

	r = replay(make_call("barge", &wav16, turns, 4, NULL), VAGENT_REPLAY_TURNS);
	t = trace_of(r);
	start1 = at(t, VAGENT_TRACE_AGENT_AUDIO_START, 1);
	ck_assert_int_gt(start1, 0);
	ck_assert_int_eq(at(t, VAGENT_TRACE_CALLER_SPEECH_START, 2), start1 + 900000);
	ck_assert_int_gt(at(t, VAGENT_TRACE_BARGE_IN, 1), start1);
	res = vagent_session_result(r->session);
	ck_assert(res->turns[1].interrupted);
	ck_assert_str_eq(res->turns[2].caller_text, "what is the weather");
	ck_assert_ptr_nonnull(strstr(res->turns[2].agent_text, "sunny"));
	vagent_trace_free(t);
	vagent_call_run_free(r);
}
END_TEST

/* mu-law and A-law WAV, stereo Ogg Opus, one file per side at 8 kHz: all
 * load as the call's sides and replay with the golden text heard */
START_TEST(test_audio_variants)
{
	static const struct layout layouts[] = {
		{ 8000, false, "wav", VAGENT_ENC_ULAW },
		{ 8000, false, "wav", VAGENT_ENC_ALAW },
		{ 16000, false, "opus", VAGENT_ENC_OPUS },
		{ 8000, true, "wav", VAGENT_ENC_ULAW },
		{ 16000, true, "opus", VAGENT_ENC_OPUS },
	};

	for (size_t i = 0; i < (sizeof(layouts) / sizeof(layouts[0])); i++) {
		struct tturn turns[4];
		struct vagent_recorded_call *c = NULL;
		struct vagent_call_run *r;
		struct vagent_trace *t;
		struct vagent_error err;
		char name[32];
		const char *dir;

		memcpy(turns, two_turns, sizeof(turns));
		snprintf(name, sizeof(name), "v%zu", i);
		dir = make_call(name, &layouts[i], turns, 4, NULL);
		ck_assert_msg(vagent_call_load(dir, &c, NULL, &err) == VAGENT_OK, "%s", err.message);
		ck_assert_int_eq(c->caller_audio->channels, 1);
		ck_assert_int_eq(c->caller_audio->rate,
				 layouts[i].enc == VAGENT_ENC_OPUS ? 48000 : layouts[i].rate);
		ck_assert_ptr_nonnull(c->agent_audio);
		vagent_recorded_call_free(c);
		r = replay(dir, VAGENT_REPLAY_TIMELINE);
		t = trace_of(r);
		ck_assert_msg(at(t, VAGENT_TRACE_CALLER_SPEECH_START, 1) == 2600000, "layout %zu", i);
		vagent_trace_free(t);
		ck_assert_str_eq(vagent_session_result(r->session)->turns[1].stt_text, "hello");
		vagent_call_run_free(r);
	}
}
END_TEST

/* ---- the tool comparison ---- */

START_TEST(test_compare_tools)
{
	static const char trace[] =
		"{\"t_ms\":100,\"call\":\"c\",\"turn\":1,\"type\":\"tool.start\",\"name\":\"lookup\","
		"\"id\":\"t1\",\"args\":{\"id\":\"7\"}}\n"
		"{\"t_ms\":200,\"call\":\"c\",\"turn\":1,\"type\":\"tool.end\",\"name\":\"lookup\","
		"\"id\":\"t1\",\"result\":{}}\n"
		"{\"t_ms\":300,\"call\":\"c\",\"turn\":2,\"type\":\"tool.start\",\"name\":\"refund\","
		"\"id\":\"t2\",\"args\":{\"id\":\"7\",\"amount\":5}}\n";
	struct vagent_call_tool tools[2] = {
		{ "lookup", "{\"id\":\"7\"}", NULL, -1 },
		{ "refund", "{\"amount\":5,\"id\":\"7\"}", NULL, -1 },
	};
	struct vagent_recorded_call c = { .tools = tools, .n_tools = 2 };
	struct vagent_expectation_result res;
	char detail[512];

	vagent_call_compare_tools(&c, trace, strlen(trace), &res, detail, sizeof(detail));
	ck_assert(res.passed);
	ck_assert_str_eq(res.name, "tool calls match the recording");
	ck_assert_str_eq(res.detail, "2 tool calls as recorded: lookup refund");

	tools[1].args = "{\"amount\":50,\"id\":\"7\"}";
	vagent_call_compare_tools(&c, trace, strlen(trace), &res, detail, sizeof(detail));
	ck_assert(!res.passed);
	ck_assert_str_eq(res.detail, "call 2: recorded refund {\"amount\":50,\"id\":\"7\"}, got "
			 "refund {\"id\":\"7\",\"amount\":5}");

	c.n_tools = 1;
	vagent_call_compare_tools(&c, trace, strlen(trace), &res, detail, sizeof(detail));
	ck_assert(!res.passed);
	ck_assert_str_eq(res.detail, "recorded 1 tool call, got 2: call 2 refund "
			 "{\"id\":\"7\",\"amount\":5} was not in the recording");

	c.n_tools = 2;
	vagent_call_compare_tools(&c, trace, (size_t)(strstr(trace, "{\"t_ms\":300") - trace),
				  &res, detail, sizeof(detail));
	ck_assert(!res.passed);
	ck_assert_str_eq(res.detail, "recorded 2 tool calls, got 1: call 2 refund "
			 "{\"amount\":50,\"id\":\"7\"} was not made");
}
END_TEST

/* ---- record -> replay on the embedded stack ---- */


/* A simulated call of scenarios/order-status.json recorded as a call
 * folder and replayed: the same caller times (turns mode reproduces the
 * call on an agent that answers the same), the same tool call, the
 * golden text as caller_text and the WER of what was heard against it. */
START_TEST(test_record_replay_round_trip)
{
	struct vagent_scenario *sc = NULL;
	struct vagent_run_options ro = { .clock = VAGENT_CLOCK_VIRTUAL, .seed = 1,
					 .reference_date = "2026-12-03", .record = true,
					 .free_compute = true };
	struct vagent_call_run *sim = NULL, *rep;
	struct vagent_trace *ts, *tr;
	struct vagent_error err;
	const struct vagent_session_result *res;
	char *json;
	size_t n_starts = 0;

	orders_service_start();
	ck_assert_int_eq(vagent_scenario_load(top_path("scenarios/order-status.json"), &sc, &err),
			 VAGENT_OK);
	ck_assert_msg(vagent_scenario_run(sc, &ro, &sim, &err) == VAGENT_OK, "%s", err.message);
	ck_assert_msg(vagent_call_record_write(sim, temp_path("rec"), &err) == VAGENT_OK, "%s",
		      err.message);
	json = read_file(temp_path("rec/call.json"), NULL);
	ck_assert_ptr_nonnull(strstr(json, "\"agent\": \""));
	ck_assert_ptr_nonnull(strstr(json, "scenarios/agents/store.json\""));
	ck_assert_ptr_nonnull(strstr(json, "\"text\": \"It's one two three four five.\""));
	ck_assert_ptr_nonnull(strstr(json, "\"name\": \"order_status\""));
	free(json);

	rep = replay(temp_path("rec"), VAGENT_REPLAY_TURNS);
	ck_assert_msg(rep->call->tool_check.passed, "%s", rep->call->tool_check.detail);
	ck_assert_str_eq(rep->call->tool_check.detail, "1 tool call as recorded: order_status");
	ts = trace_of(sim);
	tr = trace_of(rep);
	for (int turn = 1; turn <= 3; turn++) {
		int64_t a = at(ts, VAGENT_TRACE_CALLER_SPEECH_START, turn);

		ck_assert_int_gt(a, 0);
		ck_assert_int_eq(at(tr, VAGENT_TRACE_CALLER_SPEECH_START, turn), a);
		n_starts++;
	}
	ck_assert_uint_eq(n_starts, 3);
	res = vagent_session_result(rep->session);
	ck_assert_str_eq(res->turns[2].caller_text, "It's one two three four five.");
	ck_assert_ptr_nonnull(res->turns[2].stt_text);
	/* the result's WER is golden vs heard */
	{
		struct vagent_call_report cr = { .name = "r", .turns = res->turns,
						 .n_turns = res->n_turns };
		char *out = NULL;
		size_t len;

		cr.trace = vagent_session_trace(rep->session, &len);
		cr.trace_len = len;
		ck_assert_int_eq(vagent_result_to_json(&cr, 1, NULL, 0, &out, &err), VAGENT_OK);
		cJSON *j = cJSON_Parse(out), *wer;

		wer = cJSON_GetObjectItem(cJSON_GetArrayItem(cJSON_GetObjectItem(j, "calls"), 0), "wer");
		ck_assert_msg(cJSON_IsObject(wer), "%s", out);
		/* "Hi, I would like to check on my order. It is one two three four
		 * five. No, that is all. Goodbye." */
		ck_assert_int_eq(cJSON_GetObjectItem(wer, "ref_words")->valueint, 21);
		ck_assert_ptr_nonnull(cJSON_GetObjectItem(wer, "wer"));
		cJSON_Delete(j);
		free(out);
	}
	vagent_trace_free(ts);
	vagent_trace_free(tr);
	vagent_call_run_free(rep);
	vagent_call_run_free(sim);
	orders_service_stop();
}
END_TEST

/* ---- the command ---- */

START_TEST(test_cli_exit_codes)
{
	struct tturn turns[4];
	struct run_result r;
	char path[1200];
	const char *dir;

	/* a folder of call folders: each replayed; 0 when all pass */
	ck_assert_int_eq(mkdir(temp_path("calls"), 0777), 0);
	memcpy(turns, two_turns, sizeof(turns));
	make_call("calls/one", &wav16, turns, 4, NULL);
	memcpy(turns, two_turns, sizeof(turns));
	make_call("calls/two", &wav16, turns, 4, NULL);
	/* the agent is ../agent.json from each call: put one there */
	snprintf(path, sizeof(path), "%s/calls/agent.json", temp_dir);
	write_file(path, agent_json, strlen(agent_json));
	r = run_vagent("replay", "--compute", "free", temp_path("calls"), NULL);
	ck_assert_msg(r.exit_code == 0, "%s%s", r.out, r.err);
	ck_assert_ptr_nonnull(strstr(r.out, "== one  (agent "));
	ck_assert_ptr_nonnull(strstr(r.out, "caller  hello"));
	ck_assert_ptr_nonnull(strstr(r.out, "heard   hello"));
	ck_assert_ptr_nonnull(strstr(r.out, "wer     0.0% (0 sub, 0 del, 0 ins of 2 golden words)"));
	ck_assert_ptr_nonnull(strstr(r.out, "ok      tool calls match the recording: 0 tool calls "
				     "as recorded"));
	ck_assert_ptr_nonnull(strstr(r.out, "ok   two: agent_hangup after "));
	ck_assert_ptr_nonnull(strstr(r.out, "e2e "));
	run_result_free(&r);

	/* a recorded tool call the agent does not make: exit 1 */
	memcpy(turns, two_turns, sizeof(turns));
	dir = make_call("tools", &wav16, turns, 4,
			"  \"tools\": [ { \"name\": \"lookup\", \"args\": { \"id\": \"7\" } } ],\n");
	r = run_vagent("replay", "-q", "--compute", "free", "--mode", "timeline", dir, NULL);
	ck_assert_int_eq(r.exit_code, 1);
	ck_assert_ptr_nonnull(strstr(r.out, "FAIL tools: agent_hangup after "));
	ck_assert_ptr_nonnull(strstr(r.out, "; a check failed"));
	run_result_free(&r);
	r = run_vagent("replay", "--json", "-", "--compute", "free", dir, NULL);
	ck_assert_int_eq(r.exit_code, 1);
	{
		cJSON *j = cJSON_Parse(r.out), *e;

		e = cJSON_GetObjectItem(cJSON_GetArrayItem(cJSON_GetObjectItem(j, "calls"), 0),
					"expectations");
		e = cJSON_GetArrayItem(e, 0);
		ck_assert_msg(e != NULL, "%s", r.out);
		ck_assert_str_eq(cJSON_GetObjectItem(e, "name")->valuestring,
				 "tool calls match the recording");
		ck_assert(cJSON_IsFalse(cJSON_GetObjectItem(e, "passed")));
		ck_assert_str_eq(cJSON_GetObjectItem(e, "detail")->valuestring,
				 "recorded 1 tool call, got 0: call 1 lookup {\"id\":\"7\"} was not made");
		cJSON_Delete(j);
	}
	run_result_free(&r);

	/* invalid calls: every problem of every call, exit 2, nothing runs */
	ck_assert_int_eq(mkdir(temp_path("bad"), 0777), 0);
	temp_file("bad/call.json", "{\n  \"colour\": 1,\n  \"audio\": { \"file\": \"x.wav\" },\n"
		  "  \"turns\": []\n}\n");
	r = run_vagent("replay", temp_path("bad"), dir, temp_path("nothing-here"), NULL);
	ck_assert_int_eq(r.exit_code, 2);
	ck_assert_str_eq(r.out, "");
	ck_assert_int_eq(count_lines(r.err), 4);
	ck_assert_ptr_nonnull(strstr(r.err, "bad/call.json:2: colour: unknown key \"colour\"\n"));
	ck_assert_ptr_nonnull(strstr(r.err, "bad/call.json:3: audio.file: "));
	ck_assert_ptr_nonnull(strstr(r.err, "bad/call.json:4: turns: must be a non-empty array\n"));
	ck_assert_ptr_nonnull(strstr(r.err, "nothing-here: no such file"));
	run_result_free(&r);

	/* a folder without calls; an unknown mode */
	ck_assert_int_eq(mkdir(temp_path("empty"), 0777), 0);
	r = run_vagent("replay", temp_path("empty"), NULL);
	ck_assert_int_eq(r.exit_code, 2);
	ck_assert_ptr_nonnull(strstr(r.err, "empty: no call.json in it nor in its folders"));
	run_result_free(&r);
	r = run_vagent("replay", "--mode", "sideways", dir, NULL);
	ck_assert_int_eq(r.exit_code, 2);
	run_result_free(&r);
	r = run_vagent("replay", "--help", NULL);
	ck_assert_int_eq(r.exit_code, 0);
	ck_assert_ptr_nonnull(strstr(r.out, "vagent replay [OPTION]... CALL|DIR..."));
	run_result_free(&r);
}
END_TEST

/* `vagent run --record DIR` writes DIR/NAME/ that `vagent replay` takes */
START_TEST(test_cli_run_record)
{
	struct run_result r;
	char scen[1200];

	snprintf(scen, sizeof(scen), "%s/agent.json", temp_dir);
	write_file(scen, agent_json, strlen(agent_json));
	temp_file("greet.json", "{ \"agent\": \"agent.json\", \"caller\": { \"voice\": "
		  "\"speechlike\" },\n  \"expectations\": [],\n"
		  "  \"steps\": [ { \"say\": \"hello\" }, { \"say\": \"goodbye\" } ] }\n");
	r = run_vagent("run", "-q", "--compute", "free", "--record", temp_path("rec"),
		       temp_path("greet.json"), NULL);
	/* (a scenario parser without "expectations" rejects the key: then
	 * record a scenario without it) */
	if (r.exit_code == 2) {
		run_result_free(&r);
		temp_file("greet.json", "{ \"agent\": \"agent.json\", \"caller\": { \"voice\": "
			  "\"speechlike\" },\n"
			  "  \"steps\": [ { \"say\": \"hello\" }, { \"say\": \"goodbye\" } ] }\n");
		r = run_vagent("run", "-q", "--compute", "free", "--record", temp_path("rec"),
			       temp_path("greet.json"), NULL);
	}
	ck_assert_msg(r.exit_code == 0, "%s%s", r.out, r.err);
	run_result_free(&r);
	r = run_vagent("replay", "--compute", "free", temp_path("rec"), NULL);
	ck_assert_msg(r.exit_code == 0, "%s%s", r.out, r.err);
	ck_assert_ptr_nonnull(strstr(r.out, "== greet  (agent "));
	ck_assert_ptr_nonnull(strstr(r.out, "caller  goodbye"));
	run_result_free(&r);
}
END_TEST

/* The shipped call built from real recordings replays on the embedded
 * stack: it passes, its second sentence barges in, and the WER of the
 * recogniser against the datasets' transcripts is reported. Replayed
 * with --record, it is a call folder again. */
START_TEST(test_cli_shipped_real_call)
{
	struct run_result r;
	struct vagent_recorded_call *c = NULL;
	struct vagent_error err;
	cJSON *j, *call;

	orders_service_start();
	r = run_vagent("replay", "--json", "-", "--compute", "free", "--date", "2026-12-03",
		       "--record", temp_path("again"), top_path("fixtures/calls/ivr-harvard"), NULL);
	ck_assert_msg(r.exit_code == 0, "%s%s", r.out, r.err);
	j = cJSON_Parse(r.out);
	call = cJSON_GetArrayItem(cJSON_GetObjectItem(j, "calls"), 0);
	ck_assert_msg(call != NULL, "%s", r.out);
	ck_assert(cJSON_IsTrue(cJSON_GetObjectItem(call, "passed")));
	ck_assert_int_eq(cJSON_GetArraySize(cJSON_GetObjectItem(call, "barge_ins")), 1);
	ck_assert_int_gt(cJSON_GetObjectItem(cJSON_GetObjectItem(call, "wer"), "ref_words")->valueint,
			 10);
	ck_assert_str_eq(cJSON_GetObjectItem(cJSON_GetArrayItem(cJSON_GetObjectItem(call, "turns"),
								1), "caller_text")->valuestring,
			 "A gold ring will please most any girl.");
	cJSON_Delete(j);
	run_result_free(&r);
	ck_assert_msg(vagent_call_load(temp_path("again/ivr-harvard"), &c, NULL, &err) == VAGENT_OK,
		      "%s", err.message);
	ck_assert_str_eq(c->turns[1].text, "A gold ring will please most any girl.");
	ck_assert_int_eq(c->rate, 8000);
	vagent_recorded_call_free(c);
	orders_service_stop();
}
END_TEST

/* The transfer webhook's server not there is the infrastructure failing
 * (exit 3), not the agent (1) nor the input (2). */
START_TEST(test_cli_infrastructure_failure)
{
	struct run_result r;

	char dir[1024], wav[1200], *text;
	cJSON *j;

	/* ivr-harvard without the order service it starts */
	snprintf(dir, sizeof(dir), "%s/ivr", temp_dir);
	ck_assert_int_eq(mkdir(dir, 0777), 0);
	snprintf(wav, sizeof(wav), "%s/call.wav", dir);
	ck_assert_int_eq(symlink(top_path("fixtures/calls/ivr-harvard/call.wav"), wav), 0);
	text = read_file(top_path("fixtures/calls/ivr-harvard/call.json"), NULL);
	j = cJSON_Parse(text);
	free(text);
	cJSON_DeleteItemFromObject(j, "services");
	cJSON_ReplaceItemInObject(j, "agent",
				  cJSON_CreateString(top_path("scenarios/agents/store.json")));
	text = cJSON_Print(j);
	cJSON_Delete(j);
	temp_file("ivr/call.json", text);
	free(text);
	setenv("ACME_ORDERS_URL", "http://127.0.0.1:9", 1);
	r = run_vagent("replay", "-q", "--compute", "free", dir, NULL);
	ck_assert_int_eq(r.exit_code, 3);
	ck_assert_ptr_nonnull(strstr(r.out, "ERROR ivr-harvard: "));
	ck_assert_ptr_nonnull(strstr(r.out, "infrastructure failed: the transfer webhook POST "
				     "failed"));
	run_result_free(&r);
}
END_TEST

Suite *suite_replay(void)
{
	Suite *s = suite_create("replay");
	TCase *load = tcase_create("load");
	TCase *calls = tcase_create("calls");

	tcase_add_checked_fixture(load, temp_dir_setup, temp_dir_teardown);
	tcase_add_test(load, test_load_stereo_and_fields);
	tcase_add_test(load, test_load_errors_every_problem);
	tcase_add_test(load, test_load_audio_problems);
	tcase_add_test(load, test_compare_tools);
	suite_add_tcase(s, load);
	tcase_add_checked_fixture(calls, temp_dir_setup, temp_dir_teardown);
	/* calls on the embedded stack, and under the sanitizers, are slow */
	tcase_set_timeout(calls, 120);
	tcase_add_test(calls, test_timeline_mode_times);
	tcase_add_test(calls, test_turns_mode_keeps_gaps);
	tcase_add_test(calls, test_turns_mode_barge_in);
	tcase_add_test(calls, test_audio_variants);
	tcase_add_test(calls, test_record_replay_round_trip);
	tcase_add_test(calls, test_cli_exit_codes);
	tcase_add_test(calls, test_cli_run_record);
	tcase_add_test(calls, test_cli_shipped_real_call);
	tcase_add_test(calls, test_cli_infrastructure_failure);
	suite_add_tcase(s, calls);
	return s;
}
