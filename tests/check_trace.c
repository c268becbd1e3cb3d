/*
 * check_trace.c — the trace format: the writer's exact output (key order,
 * escapes, 3-decimal times), its validation, the reader's FILE:LINE errors,
 * and a lossless, byte-identical writer -> reader -> writer round trip.
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "vagent.h"
#include "support/harness.h"

static const char *const fixtures[] = {
	"fixtures/traces/clean-2turn.jsonl",
	"fixtures/traces/two-segments.jsonl",
	"fixtures/traces/barge-in.jsonl",
	"fixtures/traces/tool-timeout.jsonl",
	"fixtures/traces/missing-events.jsonl",
	"fixtures/traces/providers.jsonl",
};

/* Write `n` events with a memory writer; returns the text (malloc'd). */
static char *write_all(const struct vagent_trace_event *ev, size_t n, const char *call)
{
	struct vagent_trace_writer *w = vagent_trace_writer_new(NULL, call);
	struct vagent_error err;
	const char *text;
	char *copy;

	ck_assert_ptr_nonnull(w);
	for (size_t i = 0; i < n; i++) {
		vagent_status st = vagent_trace_writer_add(w, &ev[i], &err);

		ck_assert_msg(st == VAGENT_OK, "event %zu: %s", i, err.message);
	}
	text = vagent_trace_writer_buffer(w, NULL);
	copy = strdup(text);
	vagent_trace_writer_free(w);
	return copy;
}

static char *write_one(const struct vagent_trace_event *ev)
{
	return write_all(ev, 1, "c1");
}

START_TEST(test_type_names)
{
	vagent_trace_type t;

	ck_assert_int_eq(VAGENT_TRACE_TYPE_COUNT, 28);
	/* new types go at the end: older types keep their values */
	ck_assert_int_eq(VAGENT_TRACE_ERROR, 26);
	ck_assert_str_eq(vagent_trace_type_name(VAGENT_TRACE_PROVIDER_FIRST_BYTE),
			 "provider.first_byte");
	for (int i = 0; i < VAGENT_TRACE_TYPE_COUNT; i++) {
		const char *name = vagent_trace_type_name((vagent_trace_type)i);

		ck_assert_int_eq(vagent_trace_type_from_name(name, &t), VAGENT_OK);
		ck_assert_int_eq(t, i);
	}
	ck_assert_str_eq(vagent_trace_type_name(VAGENT_TRACE_CALLER_SPEECH_END),
			 "caller.speech_end");
	ck_assert_str_eq(vagent_trace_type_name(VAGENT_TRACE_BARGE_IN), "barge_in");
	ck_assert_str_eq(vagent_trace_type_name(VAGENT_TRACE_TYPE_COUNT), "unknown");
	ck_assert_int_eq(vagent_trace_type_from_name("stt.finale", &t), VAGENT_EINVAL);
	ck_assert_int_eq(vagent_trace_type_from_name(NULL, &t), VAGENT_EINVAL);
}
END_TEST

START_TEST(test_writer_exact_lines)
{
	char *s;

	/* 1234.5678 ms of media time is 1234567 µs after the session's
	 * vagent_ticks_to_us(); three decimals, no float formatting. */
	s = write_one(&(struct vagent_trace_event){
		.t_us = vagent_ticks_to_us(vagent_ticks_from_ms(1234) + 400050),
		.turn = 3, .type = VAGENT_TRACE_STT_FINAL,
		.text = "say \"hi\"\\\n\t\x01 café", .has_confidence = true,
		.confidence = 0.8766 });
	ck_assert_str_eq(s, "{\"t_ms\":1234.566,\"call\":\"c1\",\"turn\":3,"
			 "\"type\":\"stt.final\",\"text\":\"say \\\"hi\\\"\\\\\\n\\t"
			 "\\u0001 café\",\"confidence\":0.877}\n");
	free(s);

	/* Optional fields are omitted; `call` on the event wins. */
	s = write_one(&(struct vagent_trace_event){
		.t_us = 0, .call = "other", .type = VAGENT_TRACE_CALLER_SPEECH_START });
	ck_assert_str_eq(s, "{\"t_ms\":0.000,\"call\":\"other\",\"turn\":0,"
			 "\"type\":\"caller.speech_start\"}\n");
	free(s);
	s = write_one(&(struct vagent_trace_event){
		.t_us = 20, .turn = 1, .type = VAGENT_TRACE_CALLER_SPEECH_END,
		.estimated = true, .text = "ignored: not a field of this type" });
	ck_assert_str_eq(s, "{\"t_ms\":0.020,\"call\":\"c1\",\"turn\":1,"
			 "\"type\":\"caller.speech_end\",\"estimated\":true}\n");
	free(s);

	/* JSON fields are re-printed compactly, in the fixed key order. */
	s = write_one(&(struct vagent_trace_event){
		.t_us = 5000, .turn = 2, .type = VAGENT_TRACE_TOOL_START,
		.args = "{ \"a\" : [1, 2.50, true] ,\"b\":null }", .id = "t1",
		.name = "lookup" });
	ck_assert_str_eq(s, "{\"t_ms\":5.000,\"call\":\"c1\",\"turn\":2,\"type\":"
			 "\"tool.start\",\"name\":\"lookup\",\"id\":\"t1\","
			 "\"args\":{\"a\":[1,2.5,true],\"b\":null}}\n");
	free(s);

	s = write_one(&(struct vagent_trace_event){
		.t_us = 7001001, .turn = 4, .type = VAGENT_TRACE_BARGE_IN,
		.onset_us = 6750000, .decision_us = 7000999 });
	ck_assert_str_eq(s, "{\"t_ms\":7001.001,\"call\":\"c1\",\"turn\":4,\"type\":"
			 "\"barge_in\",\"onset_ms\":6750.000,\"decision_ms\":7000.999}\n");
	free(s);

	/* A provider's time to first byte; llm.done's counts, 0 omitted. */
	s = write_one(&(struct vagent_trace_event){
		.t_us = 5340250, .turn = 1, .type = VAGENT_TRACE_PROVIDER_FIRST_BYTE,
		.slot = "llm", .provider = "openai", .ttfb_us = 30250 });
	ck_assert_str_eq(s, "{\"t_ms\":5340.250,\"call\":\"c1\",\"turn\":1,\"type\":"
			 "\"provider.first_byte\",\"slot\":\"llm\",\"provider\":\"openai\","
			 "\"ttfb_ms\":30.250}\n");
	free(s);
	s = write_one(&(struct vagent_trace_event){
		.t_us = 6000000, .turn = 1, .type = VAGENT_TRACE_LLM_DONE,
		.provider = "openai", .prompt_tokens = 412, .completion_tokens = 0,
		.retries = 1 });
	ck_assert_str_eq(s, "{\"t_ms\":6000.000,\"call\":\"c1\",\"turn\":1,\"type\":"
			 "\"llm.done\",\"provider\":\"openai\",\"prompt_tokens\":412,"
			 "\"retries\":1}\n");
	free(s);
}
END_TEST

static void write_bad(const struct vagent_trace_event *ev, const char *want)
{
	struct vagent_trace_writer *w = vagent_trace_writer_new(NULL, "c1");
	struct vagent_error err;
	size_t len = 99;

	ck_assert_int_eq(vagent_trace_writer_add(w, ev, &err), VAGENT_EINVAL);
	ck_assert_str_eq(err.message, want);
	/* Nothing was written. */
	vagent_trace_writer_buffer(w, &len);
	ck_assert_uint_eq(len, 0);
	vagent_trace_writer_free(w);
}

START_TEST(test_writer_rejects)
{
	write_bad(&(struct vagent_trace_event){ .t_us = -1, .type = VAGENT_TRACE_TURN_END },
		  "trace: turn.end: time out of range");
	write_bad(&(struct vagent_trace_event){ .turn = -2, .type = VAGENT_TRACE_TURN_END },
		  "trace: turn.end: negative turn");
	write_bad(&(struct vagent_trace_event){ .type = VAGENT_TRACE_TYPE_COUNT },
		  "trace: unknown event type 28");
	write_bad(&(struct vagent_trace_event){ .type = VAGENT_TRACE_STT_PARTIAL },
		  "trace: stt.partial: missing \"text\"");
	write_bad(&(struct vagent_trace_event){ .type = VAGENT_TRACE_AGENT_AUDIO_STOP,
						.reason = "tired" },
		  "trace: agent.audio_stop: \"reason\" is not one of the allowed values");
	write_bad(&(struct vagent_trace_event){ .type = VAGENT_TRACE_DTMF, .digit = "55" },
		  "trace: dtmf: \"digit\" is not one of the allowed values");
	write_bad(&(struct vagent_trace_event){ .type = VAGENT_TRACE_FALLBACK,
						.slot = "vad", .from = "a", .to = "b" },
		  "trace: fallback: \"slot\" is not one of the allowed values");
	write_bad(&(struct vagent_trace_event){ .type = VAGENT_TRACE_TTS_REQUEST,
						.text = "bad \xff byte" },
		  "trace: tts.request: \"text\" is not valid UTF-8");
	write_bad(&(struct vagent_trace_event){ .type = VAGENT_TRACE_TRANSFER,
						.package = "{\"a\":" },
		  "trace: transfer: \"package\" is not JSON");
	write_bad(&(struct vagent_trace_event){ .type = VAGENT_TRACE_STT_FINAL, .text = "x",
						.has_confidence = true, .confidence = 1.5 },
		  "trace: stt.final: confidence outside 0..1");
	write_bad(&(struct vagent_trace_event){ .type = VAGENT_TRACE_BARGE_IN,
						.onset_us = -5 },
		  "trace: barge_in: \"onset_ms\" out of range");
	write_bad(&(struct vagent_trace_event){ .type = VAGENT_TRACE_PROVIDER_FIRST_BYTE,
						.slot = "tools", .provider = "p" },
		  "trace: provider.first_byte: \"slot\" is not one of the allowed values");
	write_bad(&(struct vagent_trace_event){ .type = VAGENT_TRACE_PROVIDER_FIRST_BYTE,
						.slot = "llm" },
		  "trace: provider.first_byte: missing \"provider\"");
	write_bad(&(struct vagent_trace_event){ .type = VAGENT_TRACE_PROVIDER_FIRST_BYTE,
						.slot = "llm", .provider = "p",
						.ttfb_us = -1 },
		  "trace: provider.first_byte: \"ttfb_ms\" out of range");
	write_bad(&(struct vagent_trace_event){ .type = VAGENT_TRACE_LLM_DONE,
						.completion_tokens = -3 },
		  "trace: llm.done: \"completion_tokens\" out of range");

	/* No call name anywhere. */
	{
		struct vagent_trace_writer *w = vagent_trace_writer_new(NULL, NULL);
		struct vagent_error err;

		ck_assert_int_eq(vagent_trace_writer_add(w, &(struct vagent_trace_event){
			.type = VAGENT_TRACE_CALL_START }, &err), VAGENT_EINVAL);
		ck_assert_str_eq(err.message, "trace: call.start: no call name");
		vagent_trace_writer_free(w);
	}
	vagent_trace_writer_free(NULL);
}
END_TEST

/* One event of every type, every field set. */
static const struct vagent_trace_event every_type[] = {
	{ .t_us = 0, .type = VAGENT_TRACE_CALL_START },
	{ .t_us = 10, .type = VAGENT_TRACE_CALLER_SPEECH_START, .turn = 1, .estimated = true },
	{ .t_us = 11, .type = VAGENT_TRACE_VAD_SPEECH_START, .turn = 1 },
	{ .t_us = 12, .type = VAGENT_TRACE_STT_PARTIAL, .turn = 1, .text = "",
	  .provider = "deepgram" },
	{ .t_us = 13, .type = VAGENT_TRACE_CALLER_SPEECH_END, .turn = 1 },
	{ .t_us = 14, .type = VAGENT_TRACE_VAD_SPEECH_END, .turn = 1 },
	{ .t_us = 15, .type = VAGENT_TRACE_STT_FINAL, .turn = 1, .text = "ünïcode \"q\"",
	  .has_confidence = true, .confidence = 0.5, .provider = "deepgram" },
	{ .t_us = 16, .type = VAGENT_TRACE_TURN_END, .turn = 1 },
	{ .t_us = 17, .type = VAGENT_TRACE_LLM_REQUEST, .turn = 1, .provider = "sim" },
	{ .t_us = 18, .type = VAGENT_TRACE_LLM_FIRST_TOKEN, .turn = 1, .provider = "sim" },
	{ .t_us = 19, .type = VAGENT_TRACE_LLM_DONE, .turn = 1, .text = "ok",
	  .provider = "sim", .prompt_tokens = 120, .completion_tokens = 7,
	  .retries = 2 },
	{ .t_us = 20, .type = VAGENT_TRACE_TOOL_START, .turn = 1, .name = "n", .id = "i1",
	  .args = "{\"k\":[1,2,{\"x\":\"y\"}],\"f\":-0.25}" },
	{ .t_us = 21, .type = VAGENT_TRACE_TOOL_END, .turn = 1, .name = "n", .id = "i1",
	  .result = "\"plain string\"" },
	{ .t_us = 22, .type = VAGENT_TRACE_TOOL_TIMEOUT, .turn = 1, .name = "n", .id = "i2" },
	{ .t_us = 23, .type = VAGENT_TRACE_TOOL_ERROR, .turn = 1, .name = "n", .id = "i3",
	  .error = "HTTP 500" },
	{ .t_us = 24, .type = VAGENT_TRACE_TTS_REQUEST, .turn = 1, .text = "Hi.\n",
	  .provider = "flite" },
	{ .t_us = 25, .type = VAGENT_TRACE_TTS_FIRST_AUDIO, .turn = 1, .provider = "flite" },
	{ .t_us = 26, .type = VAGENT_TRACE_AGENT_AUDIO_START, .turn = 1 },
	{ .t_us = 27, .type = VAGENT_TRACE_BARGE_IN, .turn = 1, .onset_us = 1, .decision_us = 27 },
	{ .t_us = 28, .type = VAGENT_TRACE_AGENT_AUDIO_STOP, .turn = 1, .reason = "barge_in" },
	{ .t_us = 29, .type = VAGENT_TRACE_FILLER, .turn = 2, .text = "Hmm." },
	{ .t_us = 30, .type = VAGENT_TRACE_ESCALATION, .turn = 2, .reason = "angry" },
	{ .t_us = 31, .type = VAGENT_TRACE_TRANSFER, .turn = 2, .package = "{\"s\":\"x\"}" },
	{ .t_us = 32, .type = VAGENT_TRACE_DTMF, .turn = 2, .digit = "#" },
	{ .t_us = 33, .type = VAGENT_TRACE_FALLBACK, .turn = 2, .slot = "tts", .from = "a",
	  .to = "b" },
	{ .t_us = 34, .type = VAGENT_TRACE_ERROR, .turn = 2, .source = "tts", .message = "m" },
	{ .t_us = 35, .type = VAGENT_TRACE_PROVIDER_FIRST_BYTE, .turn = 2, .slot = "stt",
	  .provider = "deepgram", .ttfb_us = 250001 },
	{ .t_us = INT64_C(123456789012), .type = VAGENT_TRACE_CALL_END, .turn = 2,
	  .reason = "done" },
};

static void assert_str_field(const char *a, const char *b, const char *what, size_t i)
{
	if (!a || !b)
		ck_assert_msg(a == b, "event %zu: %s present on one side only", i, what);
	else
		ck_assert_msg(!strcmp(a, b), "event %zu: %s \"%s\" != \"%s\"", i, what, a, b);
}

START_TEST(test_round_trip_every_type)
{
	struct vagent_trace *t = NULL;
	struct vagent_error err;
	size_t n = sizeof(every_type) / sizeof(every_type[0]);
	char *a = write_all(every_type, n, "rt"), *b;

	ck_assert_int_eq(n, VAGENT_TRACE_TYPE_COUNT);
	ck_assert_int_eq(vagent_trace_parse(a, strlen(a), "a.jsonl", &t, &err), VAGENT_OK);
	ck_assert_uint_eq(t->n, n);
	for (size_t i = 0; i < n; i++) {
		const struct vagent_trace_event *x = &every_type[i], *y = &t->events[i];

		ck_assert_int_eq(x->t_us, y->t_us);
		ck_assert_str_eq(y->call, "rt");
		ck_assert_int_eq(x->turn, y->turn);
		ck_assert_int_eq(x->type, y->type);
		ck_assert_int_eq(x->estimated, y->estimated);
		ck_assert_int_eq(x->has_confidence, y->has_confidence);
		ck_assert(x->confidence == y->confidence);
		ck_assert_int_eq(x->onset_us, y->onset_us);
		ck_assert_int_eq(x->decision_us, y->decision_us);
		ck_assert_int_eq(x->ttfb_us, y->ttfb_us);
		ck_assert_int_eq(x->prompt_tokens, y->prompt_tokens);
		ck_assert_int_eq(x->completion_tokens, y->completion_tokens);
		ck_assert_int_eq(x->retries, y->retries);
		ck_assert_uint_eq(y->line, i + 1);
		assert_str_field(x->text, y->text, "text", i);
		assert_str_field(x->provider, y->provider, "provider", i);
		assert_str_field(x->name, y->name, "name", i);
		assert_str_field(x->id, y->id, "id", i);
		assert_str_field(x->args, y->args, "args", i);
		assert_str_field(x->result, y->result, "result", i);
		assert_str_field(x->error, y->error, "error", i);
		assert_str_field(x->reason, y->reason, "reason", i);
		assert_str_field(x->package, y->package, "package", i);
		assert_str_field(x->digit, y->digit, "digit", i);
		assert_str_field(x->slot, y->slot, "slot", i);
		assert_str_field(x->from, y->from, "from", i);
		assert_str_field(x->to, y->to, "to", i);
		assert_str_field(x->source, y->source, "source", i);
		assert_str_field(x->message, y->message, "message", i);
	}
	b = write_all(t->events, t->n, NULL);
	ck_assert_str_eq(a, b);
	free(a);
	free(b);
	vagent_trace_free(t);
}
END_TEST

/* Every fixture is in the writer's canonical form: read and re-written,
 * it comes out byte-identical. */
START_TEST(test_round_trip_fixtures)
{
	for (size_t f = 0; f < sizeof(fixtures) / sizeof(fixtures[0]); f++) {
		struct vagent_trace *t = NULL;
		struct vagent_error err;
		char *orig = read_file(top_path(fixtures[f]), NULL), *again;

		ck_assert_ptr_nonnull(orig);
		ck_assert_msg(vagent_trace_load(top_path(fixtures[f]), &t, &err) == VAGENT_OK,
			      "%s", err.message);
		ck_assert_uint_eq(t->n, (size_t)count_lines(orig));
		again = write_all(t->events, t->n, NULL);
		ck_assert_msg(!strcmp(orig, again), "%s re-writes differently:\n%s",
			      fixtures[f], again);
		free(orig);
		free(again);
		vagent_trace_free(t);
	}
}
END_TEST

START_TEST(test_file_writer)
{
	struct vagent_trace_writer *w;
	struct vagent_error err;
	FILE *fp = fopen(temp_path("t.jsonl"), "w");
	char *text;
	size_t len;

	ck_assert_ptr_nonnull(fp);
	w = vagent_trace_writer_new(fp, "file");
	ck_assert_ptr_null(vagent_trace_writer_buffer(w, &len));
	ck_assert_int_eq(vagent_trace_writer_add(w, &(struct vagent_trace_event){
		.t_us = 1500, .type = VAGENT_TRACE_CALL_START }, &err), VAGENT_OK);
	ck_assert_int_eq(vagent_trace_writer_add(w, &(struct vagent_trace_event){
		.t_us = 2500, .turn = 1, .type = VAGENT_TRACE_DTMF, .digit = "7" }, &err),
		VAGENT_OK);
	vagent_trace_writer_free(w);
	ck_assert_int_eq(fclose(fp), 0);
	text = read_file(temp_path("t.jsonl"), NULL);
	ck_assert_str_eq(text,
		"{\"t_ms\":1.500,\"call\":\"file\",\"turn\":0,\"type\":\"call.start\"}\n"
		"{\"t_ms\":2.500,\"call\":\"file\",\"turn\":1,\"type\":\"dtmf\",\"digit\":\"7\"}\n");
	free(text);
}
END_TEST

START_TEST(test_reader_lenient_forms)
{
	struct vagent_trace *t = NULL;
	struct vagent_error err;
	const char *text =
		"\n"
		"  {\"type\":\"stt.final\",\"turn\":2,\"t_ms\":12,\"call\":\"x\","
		"\"text\":\"hi\",\"comment\":\"unknown keys are ignored\"}  \r\n"
		"\t\r\n"
		"{\"t_ms\":1.5e3,\"call\":\"x\",\"turn\":2.0,\"type\":\"turn.end\"}";

	ck_assert_int_eq(vagent_trace_parse(text, strlen(text), "x", &t, &err), VAGENT_OK);
	ck_assert_uint_eq(t->n, 2);
	ck_assert_int_eq(t->events[0].t_us, 12000);
	ck_assert_uint_eq(t->events[0].line, 2);
	ck_assert(!t->events[0].has_confidence);
	ck_assert_int_eq(t->events[1].t_us, 1500000);
	ck_assert_int_eq(t->events[1].turn, 2);
	ck_assert_uint_eq(t->events[1].line, 4);
	vagent_trace_free(t);

	ck_assert_int_eq(vagent_trace_parse("", 0, "empty", &t, &err), VAGENT_OK);
	ck_assert_uint_eq(t->n, 0);
	vagent_trace_free(t);
	vagent_trace_free(NULL);
}
END_TEST

static void parse_bad(const char *line, const char *want)
{
	static struct vagent_trace dummy;
	struct vagent_trace *t = &dummy;   /* must be reset to NULL */
	struct vagent_error err;
	char *text = NULL;
	size_t len;

	/* The bad line is line 2, after a good one. */
	len = (size_t)snprintf(NULL, 0, "%s\n%s\n",
			       "{\"t_ms\":0,\"call\":\"c\",\"turn\":0,\"type\":\"call.start\"}",
			       line);
	text = malloc(len + 1);
	snprintf(text, len + 1, "%s\n%s\n",
		 "{\"t_ms\":0,\"call\":\"c\",\"turn\":0,\"type\":\"call.start\"}", line);
	ck_assert_int_eq(vagent_trace_parse(text, len, "bad.jsonl", &t, &err), VAGENT_EFORMAT);
	ck_assert_ptr_null(t);
	ck_assert_msg(!strcmp(err.message, want), "message \"%s\", want \"%s\"",
		      err.message, want);
	ck_assert_int_eq(err.status, VAGENT_EFORMAT);
	free(text);
}

START_TEST(test_reader_errors)
{
	parse_bad("{\"t_ms\":1,", "bad.jsonl:2: not valid JSON");
	parse_bad("[1,2]", "bad.jsonl:2: not a JSON object");
	parse_bad("{\"t_ms\":1,\"call\":\"c\",\"turn\":0,\"type\":\"call.start\"} x",
		  "bad.jsonl:2: text after the JSON object");
	parse_bad("{\"t_ms\":1,\"call\":\"c\",\"turn\":0}", "bad.jsonl:2: missing \"type\"");
	parse_bad("{\"t_ms\":1,\"call\":\"c\",\"turn\":0,\"type\":7}",
		  "bad.jsonl:2: \"type\" is not a string");
	parse_bad("{\"t_ms\":1,\"call\":\"c\",\"turn\":0,\"type\":\"stt.done\"}",
		  "bad.jsonl:2: unknown event type \"stt.done\"");
	parse_bad("{\"call\":\"c\",\"turn\":0,\"type\":\"call.end\"}",
		  "bad.jsonl:2: missing \"t_ms\"");
	parse_bad("{\"t_ms\":\"1\",\"call\":\"c\",\"turn\":0,\"type\":\"call.end\"}",
		  "bad.jsonl:2: \"t_ms\" is not a number");
	parse_bad("{\"t_ms\":-1,\"call\":\"c\",\"turn\":0,\"type\":\"call.end\"}",
		  "bad.jsonl:2: \"t_ms\" is negative or too large");
	parse_bad("{\"t_ms\":1.0005,\"call\":\"c\",\"turn\":0,\"type\":\"call.end\"}",
		  "bad.jsonl:2: \"t_ms\" has more than 3 decimals");
	parse_bad("{\"t_ms\":1,\"turn\":0,\"type\":\"call.end\"}",
		  "bad.jsonl:2: missing \"call\"");
	parse_bad("{\"t_ms\":1,\"call\":null,\"turn\":0,\"type\":\"call.end\"}",
		  "bad.jsonl:2: \"call\" is not a string");
	parse_bad("{\"t_ms\":1,\"call\":\"c\",\"type\":\"call.end\"}",
		  "bad.jsonl:2: missing \"turn\"");
	parse_bad("{\"t_ms\":1,\"call\":\"c\",\"turn\":1.5,\"type\":\"call.end\"}",
		  "bad.jsonl:2: \"turn\" is not a non-negative integer");
	parse_bad("{\"t_ms\":1,\"call\":\"c\",\"turn\":-1,\"type\":\"call.end\"}",
		  "bad.jsonl:2: \"turn\" is not a non-negative integer");
	parse_bad("{\"t_ms\":1,\"call\":\"c\",\"turn\":0,\"type\":\"call.end\",\"turn\":1}",
		  "bad.jsonl:2: duplicate key \"turn\"");
	parse_bad("{\"t_ms\":1,\"call\":\"c\",\"turn\":1,\"type\":\"stt.final\"}",
		  "bad.jsonl:2: stt.final: missing \"text\"");
	parse_bad("{\"t_ms\":1,\"call\":\"c\",\"turn\":1,\"type\":\"stt.final\",\"text\":1}",
		  "bad.jsonl:2: stt.final: \"text\" is not a string");
	parse_bad("{\"t_ms\":1,\"call\":\"c\",\"turn\":1,\"type\":\"stt.final\",\"text\":\"\","
		  "\"confidence\":2}",
		  "bad.jsonl:2: stt.final: \"confidence\" is not a number from 0 to 1");
	parse_bad("{\"t_ms\":1,\"call\":\"c\",\"turn\":1,\"type\":\"caller.speech_end\","
		  "\"estimated\":1}",
		  "bad.jsonl:2: caller.speech_end: \"estimated\" is not true or false");
	parse_bad("{\"t_ms\":1,\"call\":\"c\",\"turn\":1,\"type\":\"agent.audio_stop\","
		  "\"reason\":\"bored\"}",
		  "bad.jsonl:2: agent.audio_stop: \"reason\" cannot be \"bored\"");
	parse_bad("{\"t_ms\":1,\"call\":\"c\",\"turn\":1,\"type\":\"barge_in\","
		  "\"onset_ms\":1}",
		  "bad.jsonl:2: barge_in: missing \"decision_ms\"");
	parse_bad("{\"t_ms\":1,\"call\":\"c\",\"turn\":1,\"type\":\"barge_in\","
		  "\"onset_ms\":0.0001,\"decision_ms\":1}",
		  "bad.jsonl:2: \"onset_ms\" has more than 3 decimals");
	parse_bad("{\"t_ms\":1,\"call\":\"c\xc3\",\"turn\":0,\"type\":\"call.end\"}",
		  "bad.jsonl:2: invalid UTF-8");
	parse_bad("{\"t_ms\":1,\"call\":\"c\",\"turn\":1,\"type\":\"provider.first_byte\","
		  "\"slot\":\"llm\",\"provider\":\"p\"}",
		  "bad.jsonl:2: provider.first_byte: missing \"ttfb_ms\"");
	parse_bad("{\"t_ms\":1,\"call\":\"c\",\"turn\":1,\"type\":\"provider.first_byte\","
		  "\"slot\":\"vad\",\"provider\":\"p\",\"ttfb_ms\":1}",
		  "bad.jsonl:2: provider.first_byte: \"slot\" cannot be \"vad\"");
	parse_bad("{\"t_ms\":1,\"call\":\"c\",\"turn\":1,\"type\":\"llm.done\","
		  "\"prompt_tokens\":1.5}",
		  "bad.jsonl:2: llm.done: \"prompt_tokens\" is not a non-negative integer");
	parse_bad("{\"t_ms\":1,\"call\":\"c\",\"turn\":1,\"type\":\"llm.done\","
		  "\"retries\":-1}",
		  "bad.jsonl:2: llm.done: \"retries\" is not a non-negative integer");
	parse_bad("{\"t_ms\":1,\"call\":\"c\",\"turn\":1,\"type\":\"llm.first_token\","
		  "\"provider\":3}",
		  "bad.jsonl:2: llm.first_token: \"provider\" is not a string");
}
END_TEST

START_TEST(test_load_errors)
{
	struct vagent_trace *t = NULL;
	struct vagent_error err;
	const char *path = top_path("fixtures/traces/bad-line.jsonl");
	char want[4200];

	ck_assert_int_eq(vagent_trace_load(path, &t, &err), VAGENT_EFORMAT);
	ck_assert_ptr_null(t);
	snprintf(want, sizeof(want), "%s:3: not valid JSON", path);
	ck_assert_str_eq(err.message, want);
	ck_assert_int_eq(vagent_status_exit_code(err.status), 2);

	ck_assert_int_eq(vagent_trace_load(temp_path("none.jsonl"), &t, &err), VAGENT_ENOENT);
	ck_assert_ptr_nonnull(strstr(err.message, "none.jsonl: no such file"));
	ck_assert_int_eq(vagent_trace_load(temp_dir, &t, &err), VAGENT_EINVAL);
	ck_assert_ptr_nonnull(strstr(err.message, ": is a directory"));
}
END_TEST

/* Inputs found by tests/fuzz/fuzz_trace.c and the review around it
 * (docs/fuzzing.md). */
START_TEST(test_fuzz_regressions)
{
	static const char head[] = "{\"t_ms\":1,\"call\":\"c\",\"turn\":0,\"type\":\"call.start\"";
	const size_t n_keys = 100000;
	struct vagent_trace *t = NULL;
	struct vagent_error err;
	size_t cap = sizeof(head) + n_keys * 16 + 32, len;
	char *line = malloc(cap);

	/* 100 000 distinct unknown keys, then one repeated: the pairwise
	 * duplicate-key check compared 5 * 10^9 pairs (minutes; the test
	 * timeout catches it). Sorted, it is immediate. */
	ck_assert_ptr_nonnull(line);
	len = (size_t)snprintf(line, cap, "%s", head);
	for (size_t i = 0; i < n_keys; i++)
		len += (size_t)snprintf(line + len, cap - len, ",\"k%zu\":0", i);
	len += (size_t)snprintf(line + len, cap - len, "}\n");
	ck_assert_int_eq(vagent_trace_parse(line, len, "big.jsonl", &t, &err), VAGENT_OK);
	ck_assert_uint_eq(t->n, 1);
	ck_assert_int_eq(t->events[0].type, VAGENT_TRACE_CALL_START);
	vagent_trace_free(t);
	t = NULL;
	len -= 2;
	len += (size_t)snprintf(line + len, cap - len, ",\"k77\":1}\n");
	ck_assert_int_eq(vagent_trace_parse(line, len, "big.jsonl", &t, &err), VAGENT_EFORMAT);
	ck_assert_ptr_null(t);
	ck_assert_str_eq(err.message, "big.jsonl:1: duplicate key \"k77\"");
	free(line);

	/* Several repeats: the first key (in line order) that repeats an
	 * earlier one is named, as before. */
	parse_bad("{\"type\":\"call.end\",\"b\":1,\"a\":1,\"a\":2,\"b\":2,"
		  "\"t_ms\":1,\"call\":\"c\",\"turn\":0}",
		  "bad.jsonl:2: duplicate key \"a\"");
	parse_bad("{\"z\":1,\"y\":1,\"z\":2,\"y\":2}", "bad.jsonl:2: duplicate key \"z\"");

	/* A redaction's last four digits started a new card number with the
	 * digits after them: one pass left it, so the written trace
	 * re-wrote differently. Redacted until stable, it re-writes the same. */
	{
		static const char text[] = "flow222222222222022222-222222222224)22222222";
		struct vagent_trace_event ev = { .t_us = 1, .type = VAGENT_TRACE_LLM_DONE,
						 .provider = text, .text = text };
		char *w1 = write_one(&ev), *w2;

		ck_assert_int_eq(vagent_trace_parse(w1, strlen(w1), "w1", &t, &err), VAGENT_OK);
		ck_assert(!vagent_card_number_find(t->events[0].provider, NULL, NULL));
		ck_assert(!vagent_card_number_find(t->events[0].text, NULL, NULL));
		ck_assert_ptr_null(strstr(t->events[0].provider, "2222-2222"));
		w2 = write_all(t->events, t->n, NULL);
		ck_assert_str_eq(w1, w2);
		vagent_trace_free(t);
		free(w1);
		free(w2);
	}
}
END_TEST

/* A turn of 30 000 tool calls and 30 000 interruptions: each tool.start
 * scanned the whole turn for its outcome, each barge_in for its audio
 * stop (minutes on a 3 MB trace; the test timeout catches it). */
START_TEST(test_metrics_many_tools)
{
	enum { N = 30000 };
	struct vagent_trace_event *ev = calloc(4 * N, sizeof(*ev));
	char (*ids)[16] = calloc(N, sizeof(*ids));
	struct vagent_trace_metrics *m = NULL;
	struct vagent_error err;
	const struct vagent_call_metrics *cm;
	size_t k = 0;

	ck_assert_ptr_nonnull(ev);
	ck_assert_ptr_nonnull(ids);
	for (int i = 0; i < N; i++) {
		snprintf(ids[i], sizeof(ids[i]), "id%d", i);
		/* start i at i ms; its outcome at 2N - i ms (id order is not
		 * time order); every other id also has an earlier, ignored
		 * outcome before its start. */
		ev[k++] = (struct vagent_trace_event){ .t_us = i * 1000, .call = "c",
			.turn = 1, .type = VAGENT_TRACE_TOOL_START, .name = "t", .id = ids[i] };
		ev[k++] = (struct vagent_trace_event){ .t_us = (2 * N - i) * 1000, .call = "c",
			.turn = 1, .type = i % 3 ? VAGENT_TRACE_TOOL_END : VAGENT_TRACE_TOOL_TIMEOUT,
			.name = "t", .id = ids[i] };
		if (i % 2 && i > 0)
			ev[k++] = (struct vagent_trace_event){ .t_us = (i - 1) * 1000, .call = "c",
				.turn = 1, .type = VAGENT_TRACE_TOOL_ERROR, .name = "t",
				.id = ids[i], .error = "e" };
		/* barge-in i at 3N + i ms, onset 1 ms before; stops every
		 * 10 ms from 3N ms on. */
		ev[k++] = (struct vagent_trace_event){ .t_us = (3 * N + i) * 1000, .call = "c",
			.turn = 1, .type = VAGENT_TRACE_BARGE_IN,
			.onset_us = (3 * N + i - 1) * 1000, .decision_us = (3 * N + i) * 1000 };
		if (i % 10 == 0)
			ev[k++] = (struct vagent_trace_event){ .t_us = (3 * N + i) * 1000 + 5,
				.call = "c", .turn = 1, .type = VAGENT_TRACE_AGENT_AUDIO_STOP,
				.reason = "barge_in" };
	}
	ck_assert_int_eq(vagent_metrics_from_trace(ev, k, &m, &err), VAGENT_OK);
	ck_assert_uint_eq(m->n_calls, 1);
	cm = &m->calls[0];
	ck_assert_uint_eq(cm->n_tools, N);
	ck_assert_uint_eq(cm->n_barge_ins, N);
	for (int i = 0; i < N; i++) {
		const struct vagent_tool_metrics *t = &cm->tools[i];
		const struct vagent_barge_in_metrics *b = &cm->barge_ins[i];
		int64_t stop = (3 * N + (i + 9) / 10 * 10) * INT64_C(1000) + 5;

		ck_assert_str_eq(t->id, ids[i]);
		ck_assert_int_eq(t->tool, (2 * N - 2 * i) * INT64_C(1000));
		ck_assert_str_eq(t->outcome, i % 3 ? "end" : "timeout");
		if (i >= N - 9) {
			stop = (3 * N + (i + 9) / 10 * 10) >= 4 * N ? VAGENT_METRIC_ABSENT : stop;
		}
		ck_assert_int_eq(b->stop_us, stop);
	}
	vagent_trace_metrics_free(m);
	free(ids);
	free(ev);
}
END_TEST

/* 100 000 calls, named in descending order: the calls were put back in
 * order of first appearance by an insertion sort (15 s). */
START_TEST(test_metrics_many_calls)
{
	enum { N = 100000 };
	struct vagent_trace_event *ev = calloc(N + 1, sizeof(*ev));
	char (*names)[16] = calloc(N, sizeof(*names));
	struct vagent_trace_metrics *m = NULL;
	struct vagent_error err;

	ck_assert_ptr_nonnull(ev);
	ck_assert_ptr_nonnull(names);
	for (int i = 0; i < N; i++) {
		snprintf(names[i], sizeof(names[i]), "c%06d", N - i);
		ev[i] = (struct vagent_trace_event){ .t_us = 1000, .call = names[i],
			.type = VAGENT_TRACE_CALL_START };
	}
	/* A second event of the first call, last in the input. */
	ev[N] = (struct vagent_trace_event){ .t_us = 2000, .call = names[0],
		.type = VAGENT_TRACE_AGENT_AUDIO_START };
	ck_assert_int_eq(vagent_metrics_from_trace(ev, N + 1, &m, &err), VAGENT_OK);
	ck_assert_uint_eq(m->n_calls, N);
	for (int i = 0; i < N; i++)
		ck_assert_str_eq(m->calls[i].call, names[i]);
	ck_assert_int_eq(m->calls[0].answer, 1000);
	ck_assert_int_eq(m->calls[1].answer, VAGENT_METRIC_ABSENT);
	vagent_trace_metrics_free(m);
	free(names);
	free(ev);
}
END_TEST

Suite *suite_trace(void)
{
	Suite *s = suite_create("trace");
	TCase *tc = tcase_create("trace");

	tcase_add_checked_fixture(tc, temp_dir_setup, temp_dir_teardown);
	tcase_add_test(tc, test_type_names);
	tcase_add_test(tc, test_writer_exact_lines);
	tcase_add_test(tc, test_writer_rejects);
	tcase_add_test(tc, test_round_trip_every_type);
	tcase_add_test(tc, test_round_trip_fixtures);
	tcase_add_test(tc, test_file_writer);
	tcase_add_test(tc, test_reader_lenient_forms);
	tcase_add_test(tc, test_reader_errors);
	tcase_add_test(tc, test_load_errors);
	tcase_add_test(tc, test_fuzz_regressions);
	tcase_add_test(tc, test_metrics_many_tools);
	tcase_add_test(tc, test_metrics_many_calls);
	suite_add_tcase(s, tc);
	return s;
}
