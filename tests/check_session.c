/*
 * check_session.c — the session engine end to end on the virtual clock
 * with simulated providers (no jitter unless a test wants it): turn ends,
 * the transcript hold rule, barge-in and backchannels at exact media
 * times, tool calls and timeouts, fillers, provider fallback, human
 * handoff, the stereo recording, repeatability with a seed, bad
 * configurations.
 */
#include <arpa/inet.h>
#include <check.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <unistd.h>
#include <string.h>

#include "vagent.h"
#include "support/harness.h"

#define MS VAGENT_TICKS_PER_MS

/* A simulated call under construction: providers with fixed latencies. */
struct call {
	struct vagent_session_config cfg;
	struct vagent_sim_stt_config stt;
	struct vagent_sim_llm_config llm[2];
	struct vagent_sim_tts_config tts[2];
	struct vagent_sim_caller_config caller;
	struct vagent_sim_tools_config tools;
	struct vagent_sim_step steps[16];
	size_t n_llm, n_tts;
	bool real;                  /* run on the real clock */
	struct vagent_session *s;
	struct vagent_trace *trace;
	vagent_status rc;
	struct vagent_error err;
};

static void call_init(struct call *c)
{
	memset(c, 0, sizeof(*c));
	c->cfg = vagent_session_config_default();
	c->cfg.name = "test";
	c->cfg.keep_trace = true;
	c->cfg.agent.greet = false;
	c->stt = vagent_sim_stt_config_default();
	c->stt.first_partial.jitter_ms = 0;
	c->stt.final.jitter_ms = 0;
	c->llm[0] = vagent_sim_llm_config_default();
	c->llm[0].ttft.jitter_ms = 0;
	c->llm[1] = c->llm[0];
	snprintf(c->llm[1].name, sizeof(c->llm[1].name), "sim-llm-2");
	c->tts[0] = vagent_sim_tts_config_default();
	c->tts[0].first_byte.jitter_ms = 0;
	c->tts[1] = c->tts[0];
	snprintf(c->tts[1].name, sizeof(c->tts[1].name), "sim-tts-2");
	c->n_llm = c->n_tts = 1;
	c->caller = vagent_sim_caller_config_default();
	c->caller.steps = c->steps;
	c->caller.hangup_after_ms = 1000;
}

static size_t n_steps(struct call *c)
{
	size_t n = 0;

	while (n < 16 && (c->steps[n].text || c->steps[n].kind != VAGENT_STEP_SAY))
		n++;
	return n;
}

static void say(struct call *c, vagent_sim_anchor anchor, int offset_ms,
		const char *text)
{
	size_t i = n_steps(c);

	c->steps[i].kind = VAGENT_STEP_SAY;
	c->steps[i].anchor = anchor;
	c->steps[i].offset_ms = offset_ms;
	c->steps[i].text = text;
}

/* The caller waits for the agent's reply to end (then hangs up). */
static void wait_done(struct call *c)
{
	size_t i = n_steps(c);

	c->steps[i].kind = VAGENT_STEP_SILENCE;
	c->steps[i].anchor = VAGENT_ANCHOR_AGENT_DONE;
	c->steps[i].duration_ms = 200;
}

static struct vagent_stt *stt_p;
static struct vagent_brain *llm_p[2];
static struct vagent_tts *tts_p[2];
static struct vagent_tools *tools_p;
static struct vagent_caller *caller_p;

/* Build the providers, run the call to its end, parse its trace. */
static void call_run(struct call *c)
{
	size_t i, len;
	const char *text;

	if (c->steps[n_steps(c) - 1].kind == VAGENT_STEP_SAY)
		wait_done(c);
	c->caller.n_steps = n_steps(c);
	ck_assert_int_eq(vagent_sim_stt_new(&c->stt, &stt_p, &c->err), VAGENT_OK);
	for (i = 0; i < c->n_llm; i++)
		ck_assert_int_eq(vagent_sim_llm_new(&c->llm[i], &llm_p[i], &c->err), VAGENT_OK);
	for (i = 0; i < c->n_tts; i++)
		ck_assert_int_eq(vagent_sim_tts_new(&c->tts[i], &tts_p[i], &c->err), VAGENT_OK);
	tools_p = NULL;
	if (c->tools.n_tools)
		ck_assert_int_eq(vagent_sim_tools_new(&c->tools, &tools_p, &c->err), VAGENT_OK);
	ck_assert_msg(vagent_sim_caller_new(&c->caller, &caller_p, &c->err) == VAGENT_OK,
		      "%s", c->err.message);
	c->cfg.stt[0] = stt_p;
	for (i = 0; i < c->n_llm; i++)
		c->cfg.brain[i] = llm_p[i];
	for (i = 0; i < c->n_tts; i++)
		c->cfg.tts[i] = tts_p[i];
	c->cfg.tools = tools_p;
	c->cfg.caller = caller_p;
	c->cfg.rate = c->caller.rate;
	c->rc = vagent_session_run(&c->cfg, c->real ? VAGENT_CLOCK_REAL
						    : VAGENT_CLOCK_VIRTUAL,
				   &c->s, &c->err);
	ck_assert_msg(c->rc == VAGENT_OK, "%s", c->err.message);
	text = vagent_session_trace(c->s, &len);
	ck_assert_ptr_nonnull(text);
	ck_assert_msg(vagent_trace_parse(text, len, "test", &c->trace, &c->err) == VAGENT_OK,
		      "%s", c->err.message);
}

static void call_free(struct call *c)
{
	size_t i;

	vagent_session_free(c->s);
	vagent_trace_free(c->trace);
	vagent_stt_free(stt_p);
	for (i = 0; i < c->n_llm; i++)
		vagent_brain_free(llm_p[i]);
	for (i = 0; i < c->n_tts; i++)
		vagent_tts_free(tts_p[i]);
	vagent_tools_free(tools_p);
	vagent_caller_free(caller_p);
}

/* The k-th (0-based) event of `type` (any turn when turn < 0), or NULL. */
static const struct vagent_trace_event *find(const struct call *c,
					     vagent_trace_type type, int turn,
					     int k)
{
	size_t i;

	for (i = 0; i < c->trace->n; i++) {
		const struct vagent_trace_event *e = &c->trace->events[i];

		if (e->type == type && (turn < 0 || e->turn == turn) && k-- == 0)
			return e;
	}
	return NULL;
}

static int count(const struct call *c, vagent_trace_type type, int turn)
{
	int n = 0;

	while (find(c, type, turn, n))
		n++;
	return n;
}

static const struct vagent_trace_event *must(const struct call *c,
					     vagent_trace_type type, int turn,
					     int k)
{
	const struct vagent_trace_event *e = find(c, type, turn, k);

	ck_assert_msg(e != NULL, "no %s #%d in turn %d:\n%s",
		      vagent_trace_type_name(type), k, turn,
		      vagent_session_trace(c->s, NULL));
	return e;
}

#define T_MS(e) ((e)->t_us / 1000)

START_TEST(test_turn_end_after_hold)
{
	struct call c;
	const struct vagent_trace_event *vend, *tend, *send, *final;

	call_init(&c);
	say(&c, VAGENT_ANCHOR_START, 1000, "I would like to check the status of my order please");
	call_run(&c);
	send = must(&c, VAGENT_TRACE_CALLER_SPEECH_END, 1, 0);
	vend = must(&c, VAGENT_TRACE_VAD_SPEECH_END, 1, 0);
	tend = must(&c, VAGENT_TRACE_TURN_END, 1, 0);
	ck_assert_int_eq(T_MS(must(&c, VAGENT_TRACE_CALLER_SPEECH_START, 1, 0)), 1000);
	ck_assert_int_eq(send->t_us, (1000 + vagent_speechlike_duration_ms(
		"I would like to check the status of my order please")) * 1000);
	/* the VAD's end is the end of the last speech-like frame */
	ck_assert_int_le(vend->t_us, send->t_us + 20000);
	ck_assert_int_ge(vend->t_us, send->t_us - 60000);
	/* 500 ms of silence after it: the end of the turn, on the frame grid */
	ck_assert_int_eq(tend->t_us, ((vend->t_us + 500000 + 19999) / 20000) * 20000);
	/* the final came 120 ms after the true end */
	final = must(&c, VAGENT_TRACE_STT_FINAL, 1, 0);
	ck_assert_int_eq(final->t_us, send->t_us + 120000);
	ck_assert_str_eq(final->text, "I would like to check the status of my order please");
	/* the brain is asked at the end of the turn; its first token 300 ms later */
	ck_assert_int_eq(must(&c, VAGENT_TRACE_LLM_REQUEST, 1, 0)->t_us, tend->t_us);
	ck_assert_int_eq(must(&c, VAGENT_TRACE_LLM_FIRST_TOKEN, 1, 0)->t_us,
			 tend->t_us + 300000);
	ck_assert_int_eq(count(&c, VAGENT_TRACE_AGENT_AUDIO_START, 1), 1);
	ck_assert_str_eq(must(&c, VAGENT_TRACE_AGENT_AUDIO_STOP, 1, 0)->reason, "done");
	ck_assert_str_eq(vagent_session_result(c.s)->end_reason, "hangup");
	ck_assert_str_eq(vagent_session_result(c.s)->turns[0].caller_text,
			 "I would like to check the status of my order please");
	ck_assert_str_eq(vagent_session_result(c.s)->turns[0].stt_text,
			 "I would like to check the status of my order please");
	call_free(&c);
}
END_TEST

START_TEST(test_barge_in_stops_within_a_frame)
{
	struct call c;
	const struct vagent_trace_event *start, *bi, *stop, *e;
	int64_t onset;
	size_t i;

	call_init(&c);
	c.cfg.agent.greet = true;
	c.llm[0].greeting = "Hello, thank you for calling the order line. I can help you "
			    "track an order, change an address, or ask about a refund. "
			    "What would you like to do today?";
	say(&c, VAGENT_ANCHOR_AGENT_SPEAKING, 800, "Stop, I just want to talk to a person");
	call_run(&c);
	start = must(&c, VAGENT_TRACE_AGENT_AUDIO_START, 0, 0);
	bi = must(&c, VAGENT_TRACE_BARGE_IN, 0, 0);
	stop = must(&c, VAGENT_TRACE_AGENT_AUDIO_STOP, 0, 0);
	onset = start->t_us + 800000;
	ck_assert_int_eq(bi->onset_us, onset);
	ck_assert_str_eq(stop->reason, "barge_in");
	/* silent by onset + min_speech + at most one frame */
	ck_assert_int_ge(stop->t_us, onset + 180000);
	ck_assert_int_le(stop->t_us, onset + 180000 + 20000);
	ck_assert_int_eq(stop->t_us, bi->decision_us);
	/* nothing of turn 0 is synthesised or played after the decision */
	for (i = 0; i < c.trace->n; i++) {
		e = &c.trace->events[i];
		if (e->turn == 0 && e->t_us > bi->decision_us)
			ck_assert_msg(e->type != VAGENT_TRACE_TTS_REQUEST &&
				      e->type != VAGENT_TRACE_TTS_FIRST_AUDIO &&
				      e->type != VAGENT_TRACE_AGENT_AUDIO_START,
				      "%s of turn 0 after the barge-in",
				      vagent_trace_type_name(e->type));
	}
	/* the interruption is turn 1 and gets an answer */
	ck_assert_int_eq(must(&c, VAGENT_TRACE_CALLER_SPEECH_START, 1, 0)->t_us, onset);
	must(&c, VAGENT_TRACE_TURN_END, 1, 0);
	must(&c, VAGENT_TRACE_AGENT_AUDIO_START, 1, 0);
	ck_assert(vagent_session_result(c.s)->turns[0].interrupted);
	call_free(&c);
}
END_TEST

START_TEST(test_backchannel_does_not_interrupt)
{
	struct call c;

	call_init(&c);
	c.cfg.agent.greet = true;
	c.stt.first_partial.base_ms = 60;
	c.llm[0].greeting = "Hello, thank you for calling the order line. I can help you "
			    "track an order, change an address, or ask about a refund.";
	say(&c, VAGENT_ANCHOR_AGENT_SPEAKING, 1000, "uh-huh");
	call_run(&c);
	ck_assert_int_eq(count(&c, VAGENT_TRACE_BARGE_IN, -1), 0);
	ck_assert_str_eq(must(&c, VAGENT_TRACE_AGENT_AUDIO_STOP, 0, 0)->reason, "done");
	/* the backchannel stays with turn 0 and opens no turn */
	ck_assert_int_eq(count(&c, VAGENT_TRACE_CALLER_SPEECH_START, 0), 1);
	ck_assert_int_eq(count(&c, VAGENT_TRACE_TURN_END, -1), 0);
	call_free(&c);
}
END_TEST

/* A recogniser slower than min_speech_ms: without min_words its silence
 * looks like an interruption; with min_words 1 the agent waits for the
 * words — "uh-huh" goes through, "wait stop" interrupts once heard. */
static void slow_partials(struct call *c, int min_words, const char *words)
{
	call_init(c);
	c->cfg.agent.greet = true;
	c->cfg.agent.barge_in_min_words = min_words;
	c->stt.first_partial.base_ms = 400;
	c->llm[0].greeting = "Hello, thank you for calling the order line. I can help you "
			     "track an order, change an address, or ask about a refund.";
	say(c, VAGENT_ANCHOR_AGENT_SPEAKING, 1000, words);
	call_run(c);
}

START_TEST(test_min_words_waits_for_the_recogniser)
{
	struct call c;
	const struct vagent_trace_event *b, *p;

	slow_partials(&c, 0, "uh-huh");
	ck_assert_int_eq(count(&c, VAGENT_TRACE_BARGE_IN, -1), 1);
	call_free(&c);

	slow_partials(&c, 1, "uh-huh");
	ck_assert_int_eq(count(&c, VAGENT_TRACE_BARGE_IN, -1), 0);
	ck_assert_str_eq(must(&c, VAGENT_TRACE_AGENT_AUDIO_STOP, 0, 0)->reason, "done");
	call_free(&c);

	slow_partials(&c, 1, "wait stop please");
	b = must(&c, VAGENT_TRACE_BARGE_IN, -1, 0);
	p = must(&c, VAGENT_TRACE_STT_PARTIAL, -1, 0);
	/* decided on the tick the first words arrived, not before */
	ck_assert_int_ge(b->t_us, p->t_us);
	ck_assert_int_le(b->t_us - p->t_us, 20000);
	ck_assert_int_eq(b->decision_us, b->t_us);
	call_free(&c);
}
END_TEST

/* A long sound in which the recogniser finds no words (babble on the
 * line) interrupts without min_words, and never with it. */
START_TEST(test_min_words_noise_does_not_interrupt)
{
	for (int mw = 0; mw <= 1; mw++) {
		struct call c;
		struct vagent_audio *noise = NULL;
		struct vagent_error err;
		size_t i;

		/* babble: speech-like sound in which nothing is recognised */
		ck_assert_int_eq(vagent_speechlike_synth("one two three four five six seven",
							 16000, 7, &noise, &err), VAGENT_OK);
		call_init(&c);
		c.cfg.agent.greet = true;
		c.cfg.agent.barge_in_min_words = mw;
		c.llm[0].greeting = "Hello, thank you for calling the order line. I can help you "
				    "track an order, change an address, or ask about a refund.";
		i = n_steps(&c);
		c.steps[i].kind = VAGENT_STEP_SAY;
		c.steps[i].anchor = VAGENT_ANCHOR_AGENT_SPEAKING;
		c.steps[i].offset_ms = 500;
		c.steps[i].audio = noise;
		c.steps[i].text = "";              /* no words in it */
		call_run(&c);
		if (mw == 0) {
			const struct vagent_trace_event *b = must(&c, VAGENT_TRACE_BARGE_IN, -1, 0);

			/* at min_speech_ms: no words is no backchannel either */
			ck_assert_int_lt(b->decision_us - b->onset_us,
					 (int64_t)c.cfg.agent.backchannel_max_ms * 1000);
		} else {
			ck_assert_int_eq(count(&c, VAGENT_TRACE_BARGE_IN, -1), 0);
			ck_assert_str_eq(must(&c, VAGENT_TRACE_AGENT_AUDIO_STOP, 0, 0)->reason,
					 "done");
		}
		call_free(&c);
		vagent_audio_free(noise);
	}
}
END_TEST

START_TEST(test_short_speech_does_not_interrupt)
{
	struct call c;

	call_init(&c);
	c.cfg.agent.greet = true;
	c.cfg.agent.min_speech_ms = 900;
	c.cfg.agent.backchannels = (const char *const[]){ NULL };
	c.llm[0].greeting = "Hello, thank you for calling the order line. I can help you "
			    "track an order, change an address, or ask about a refund.";
	say(&c, VAGENT_ANCHOR_AGENT_SPEAKING, 1000, "okay");
	call_run(&c);
	ck_assert_int_eq(count(&c, VAGENT_TRACE_BARGE_IN, -1), 0);
	ck_assert_str_eq(must(&c, VAGENT_TRACE_AGENT_AUDIO_STOP, 0, 0)->reason, "done");
	call_free(&c);
}
END_TEST

START_TEST(test_tool_timeout_and_filler)
{
	struct call c;
	struct vagent_sim_rule rule = {
		.pattern = "order", .tool = "get_order", .args = "{\"order\":\"4512\"}",
		.reply = "Sorry, {result}.",
	};
	struct vagent_fault hang = { .kind = VAGENT_FAULT_TIMEOUT, .from_call = 1 };
	struct vagent_sim_tool tool = {
		.name = "get_order", .result = "{\"status\":\"shipped\"}",
		.latency = { 200, 0 }, .faults = &hang, .n_faults = 1,
	};
	const struct vagent_trace_event *ts, *to, *fi, *tend;

	call_init(&c);
	c.cfg.agent.filler_after_ms = 1000;
	c.cfg.agent.tool_timeout_ms = 3000;
	c.llm[0].rules = &rule;
	c.llm[0].n_rules = 1;
	c.tools.tools = &tool;
	c.tools.n_tools = 1;
	say(&c, VAGENT_ANCHOR_START, 500, "where is my order");
	call_run(&c);
	tend = must(&c, VAGENT_TRACE_TURN_END, 1, 0);
	ts = must(&c, VAGENT_TRACE_TOOL_START, 1, 0);
	ck_assert_int_eq(ts->t_us, tend->t_us + 300000);
	ck_assert_str_eq(ts->name, "get_order");
	ck_assert_str_eq(ts->args, "{\"order\":\"4512\"}");
	to = must(&c, VAGENT_TRACE_TOOL_TIMEOUT, 1, 0);
	ck_assert_int_eq(to->t_us, ts->t_us + 3000000);
	fi = must(&c, VAGENT_TRACE_FILLER, 1, 0);
	/* the filler: 1000 ms after the tool started in silence */
	ck_assert_int_eq(fi->t_us, ts->t_us + 1000000);
	ck_assert_str_eq(fi->text, "One moment please.");
	ck_assert_int_lt(must(&c, VAGENT_TRACE_AGENT_AUDIO_START, 1, 0)->t_us, to->t_us);
	ck_assert_ptr_nonnull(strstr(vagent_session_result(c.s)->turns[0].agent_text,
				     "timed out after 3000 ms"));
	call_free(&c);
}
END_TEST

START_TEST(test_tool_result_and_malformed)
{
	struct call c;
	struct vagent_sim_rule rule = {
		.pattern = "order", .tool = "get_order", .args = "{}",
		.reply = "Your order has {result.status}.",
	};
	struct vagent_fault bad = { .kind = VAGENT_FAULT_MALFORMED, .from_call = 2 };
	struct vagent_sim_tool tool = {
		.name = "get_order", .result = "{\"status\":\"shipped\"}",
		.latency = { 200, 0 }, .faults = &bad, .n_faults = 1,
	};
	const struct vagent_trace_event *ts, *te;

	call_init(&c);
	c.llm[0].rules = &rule;
	c.llm[0].n_rules = 1;
	c.tools.tools = &tool;
	c.tools.n_tools = 1;
	say(&c, VAGENT_ANCHOR_START, 500, "where is my order");
	say(&c, VAGENT_ANCHOR_AGENT_DONE, 700, "and my other order");
	call_run(&c);
	ts = must(&c, VAGENT_TRACE_TOOL_START, 1, 0);
	te = must(&c, VAGENT_TRACE_TOOL_END, 1, 0);
	ck_assert_int_eq(te->t_us, ts->t_us + 200000);
	ck_assert_str_eq(te->result, "{\"status\":\"shipped\"}");
	ck_assert_str_eq(vagent_session_result(c.s)->turns[0].agent_text,
			 "Your order has shipped.");
	/* the second call's result is not JSON: a tool.error, no crash */
	ck_assert_ptr_nonnull(strstr(must(&c, VAGENT_TRACE_TOOL_ERROR, 2, 0)->error,
				     "malformed JSON"));
	call_free(&c);
}
END_TEST

START_TEST(test_llm_fallback)
{
	struct call c;
	struct vagent_fault err = { .kind = VAGENT_FAULT_ERROR, .from_call = 1,
				    .delay_ms = 100, .http_status = 503 };
	const struct vagent_trace_event *fb, *req;

	call_init(&c);
	c.n_llm = 2;
	c.llm[0].faults = &err;
	c.llm[0].n_faults = 1;
	c.llm[1].fallback_reply = "Second provider here.";
	say(&c, VAGENT_ANCHOR_START, 500, "hello there");
	call_run(&c);
	req = must(&c, VAGENT_TRACE_LLM_REQUEST, 1, 0);
	ck_assert_str_eq(req->provider, "sim-llm");
	fb = must(&c, VAGENT_TRACE_FALLBACK, 1, 0);
	ck_assert_str_eq(fb->slot, "llm");
	ck_assert_str_eq(fb->from, "sim-llm");
	ck_assert_str_eq(fb->to, "sim-llm-2");
	ck_assert_int_eq(fb->t_us, req->t_us + 100000);
	ck_assert_ptr_nonnull(strstr(must(&c, VAGENT_TRACE_ERROR, 1, 0)->message, "503"));
	ck_assert_str_eq(must(&c, VAGENT_TRACE_LLM_REQUEST, 1, 1)->provider, "sim-llm-2");
	/* the events whose time is a provider's name the one that answered */
	ck_assert_str_eq(must(&c, VAGENT_TRACE_LLM_FIRST_TOKEN, 1, 0)->provider, "sim-llm-2");
	ck_assert_str_eq(must(&c, VAGENT_TRACE_LLM_DONE, 1, 0)->provider, "sim-llm-2");
	ck_assert_str_eq(must(&c, VAGENT_TRACE_STT_FINAL, 1, 0)->provider, "sim");
	ck_assert_str_eq(must(&c, VAGENT_TRACE_STT_PARTIAL, 1, 0)->provider, "sim");
	ck_assert_str_eq(must(&c, VAGENT_TRACE_TTS_REQUEST, 1, 0)->provider, "sim-tts");
	ck_assert_str_eq(must(&c, VAGENT_TRACE_TTS_FIRST_AUDIO, 1, 0)->provider, "sim-tts");
	/* the error names its provider once: in `source` */
	ck_assert_str_eq(must(&c, VAGENT_TRACE_ERROR, 1, 0)->source, "sim-llm");
	ck_assert(strncmp(must(&c, VAGENT_TRACE_ERROR, 1, 0)->message, "sim-llm:", 8));
	/* simulated providers have no network: no first byte, no usage */
	ck_assert_int_eq(count(&c, VAGENT_TRACE_PROVIDER_FIRST_BYTE, -1), 0);
	ck_assert_int_eq(must(&c, VAGENT_TRACE_LLM_DONE, 1, 0)->prompt_tokens, 0);
	ck_assert_str_eq(vagent_session_result(c.s)->turns[0].agent_text,
			 "Second provider here.");
	ck_assert(!vagent_session_result(c.s)->escalated);
	call_free(&c);
}
END_TEST

/*
 * A tiny cloud-like brain: its "server" answers the first byte 30 ms after
 * the request and the reply 50 ms after (loop timers); a stale request's
 * first byte (one the session no longer waits for) is told too.
 */
struct net_brain {
	struct vagent_brain base;
	struct vagent_timer *first_byte, *reply;
	uint64_t id;
	int64_t sent;
	int requests;
};

static void net_brain_first_byte(struct vagent_timer *t, void *arg)
{
	struct net_brain *b = arg;

	(void)t;
	b->base.on_first_byte(b->base.ctx, b->id, b->sent);
	/* a late byte of an older exchange: not the session's request */
	b->base.on_first_byte(b->base.ctx, b->id + 1000, b->sent);
}

static void net_brain_reply(struct vagent_timer *t, void *arg)
{
	struct net_brain *b = arg;

	(void)t;
	b->base.on_first_token(b->base.ctx, b->id);
	b->base.on_text(b->base.ctx, b->id, "Hello from the cloud.");
	b->base.on_done(b->base.ctx, b->id);
}

static vagent_status net_brain_respond(struct vagent_brain *base,
				       const struct vagent_brain_request *req,
				       struct vagent_error *err)
{
	struct net_brain *b = (struct net_brain *)base;

	(void)err;
	if (!b->first_byte) {
		b->first_byte = vagent_timer_new(base->loop, net_brain_first_byte, b);
		b->reply = vagent_timer_new(base->loop, net_brain_reply, b);
	}
	b->id = req->id;
	b->sent = vagent_loop_now(base->loop);
	b->requests++;
	vagent_timer_start(b->first_byte, 30 * MS, 0, NULL);
	vagent_timer_start(b->reply, 50 * MS, 0, NULL);
	return VAGENT_OK;
}

static void net_brain_cancel(struct vagent_brain *base, uint64_t id)
{
	struct net_brain *b = (struct net_brain *)base;

	if (id == b->id && b->first_byte) {
		vagent_timer_stop(b->first_byte);
		vagent_timer_stop(b->reply);
	}
}

static void net_brain_stop(struct vagent_brain *base)
{
	net_brain_cancel(base, ((struct net_brain *)base)->id);
}

static void net_brain_free(struct vagent_brain *base)
{
	struct net_brain *b = (struct net_brain *)base;

	vagent_timer_free(b->first_byte);
	vagent_timer_free(b->reply);
	free(b);
}

static const struct vagent_brain_ops net_brain_ops = {
	.respond = net_brain_respond, .cancel = net_brain_cancel,
	.stop = net_brain_stop, .free = net_brain_free,
};

START_TEST(test_provider_first_byte)
{
	struct call c;
	struct net_brain *nb = calloc(1, sizeof(*nb));
	const struct vagent_trace_event *req, *fb, *tok, *done;
	struct vagent_trace_metrics *m = NULL;

	nb->base.ops = &net_brain_ops;
	snprintf(nb->base.name, sizeof(nb->base.name), "net");
	call_init(&c);
	say(&c, VAGENT_ANCHOR_START, 500, "hello there");
	c.n_llm = 0;
	c.cfg.brain[0] = &nb->base;
	call_run(&c);
	ck_assert_int_eq(nb->requests, 1);
	req = must(&c, VAGENT_TRACE_LLM_REQUEST, 1, 0);
	ck_assert_str_eq(req->provider, "net");
	fb = must(&c, VAGENT_TRACE_PROVIDER_FIRST_BYTE, 1, 0);
	ck_assert_int_eq(count(&c, VAGENT_TRACE_PROVIDER_FIRST_BYTE, -1), 1);
	ck_assert_str_eq(fb->slot, "llm");
	ck_assert_str_eq(fb->provider, "net");
	/* exact on the virtual clock: now - sent */
	ck_assert_int_eq(fb->ttfb_us, 30000);
	ck_assert_int_eq(fb->t_us, req->t_us + 30000);
	tok = must(&c, VAGENT_TRACE_LLM_FIRST_TOKEN, 1, 0);
	ck_assert_int_eq(tok->t_us, req->t_us + 50000);
	ck_assert_str_eq(tok->provider, "net");
	done = must(&c, VAGENT_TRACE_LLM_DONE, 1, 0);
	ck_assert_str_eq(done->provider, "net");
	ck_assert_int_eq(done->prompt_tokens, 0);   /* not an LLM brain: unknown */

	ck_assert_int_eq(vagent_metrics_from_trace(c.trace->events, c.trace->n, &m, NULL),
			 VAGENT_OK);
	ck_assert_int_eq(m->calls[0].turns[0].hop[VAGENT_METRIC_LLM_TTFB], 30000);
	ck_assert_str_eq(m->calls[0].turns[0].provider[VAGENT_METRIC_LLM_TTFB], "net");
	ck_assert_int_eq(m->calls[0].turns[0].hop[VAGENT_METRIC_LLM_TTFT], 50000);
	vagent_trace_metrics_free(m);
	call_free(&c);
	vagent_brain_free(&nb->base);
}
END_TEST

START_TEST(test_handoff_when_every_llm_fails)
{
	struct call c;
	struct vagent_fault err = { .kind = VAGENT_FAULT_ERROR, .from_call = 1 };
	struct vagent_fault disc = { .kind = VAGENT_FAULT_DISCONNECT, .from_call = 1,
				     .after = 0 };
	const struct vagent_trace_event *esc, *tr;

	call_init(&c);
	c.n_llm = 2;
	c.llm[0].faults = &err;
	c.llm[0].n_faults = 1;
	c.llm[1].faults = &disc;
	c.llm[1].n_faults = 1;
	say(&c, VAGENT_ANCHOR_START, 500, "hello there");
	call_run(&c);
	esc = must(&c, VAGENT_TRACE_ESCALATION, 1, 0);
	ck_assert_str_eq(esc->reason, "llm_failure");
	tr = must(&c, VAGENT_TRACE_TRANSFER, 1, 0);
	ck_assert_ptr_nonnull(strstr(tr->package, "\"reason\":\"llm_failure\""));
	ck_assert_ptr_nonnull(strstr(tr->package, "hello there"));
	/* the handoff phrase is said, then the call ends as a transfer */
	ck_assert_str_eq(must(&c, VAGENT_TRACE_TTS_REQUEST, 1, 0)->text,
			 "Let me transfer you to a colleague who can help.");
	ck_assert_str_eq(must(&c, VAGENT_TRACE_CALL_END, -1, 0)->reason, "transfer");
	ck_assert_int_ge(must(&c, VAGENT_TRACE_CALL_END, -1, 0)->t_us,
			 must(&c, VAGENT_TRACE_AGENT_AUDIO_STOP, 1, 0)->t_us);
	ck_assert(vagent_session_result(c.s)->escalated);
	call_free(&c);
}
END_TEST

/* A loopback port nothing listens on (bound, then closed). */
static int closed_port(void)
{
	struct sockaddr_in a = { .sin_family = AF_INET };
	socklen_t len = sizeof(a);
	int fd = socket(AF_INET, SOCK_STREAM, 0), port;

	ck_assert_int_ge(fd, 0);
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	ck_assert_int_eq(bind(fd, (struct sockaddr *)&a, sizeof(a)), 0);
	ck_assert_int_eq(getsockname(fd, (struct sockaddr *)&a, &len), 0);
	port = ntohs(a.sin_port);
	close(fd);
	return port;
}

START_TEST(test_transfer_webhook_failure_is_traced)
{
	struct call c;
	struct vagent_sim_rule rule = { .pattern = "human", .reply = "Sure.",
					.escalate = "caller_request" };
	char url[128];
	const struct vagent_trace_event *tr, *e;

	call_init(&c);
	c.llm[0].rules = &rule;
	c.llm[0].n_rules = 1;
	snprintf(url, sizeof(url), "http://user:secret@127.0.0.1:%d/handoff?token=secret",
		 closed_port());
	c.cfg.transfer_webhook = url;
	say(&c, VAGENT_ANCHOR_START, 500, "a human please");
	call_run(&c);
	tr = must(&c, VAGENT_TRACE_TRANSFER, 1, 0);
	e = must(&c, VAGENT_TRACE_ERROR, 1, 0);
	ck_assert_str_eq(e->source, "transfer_webhook");
	/* the endpoint is named by scheme, host and port: no credentials,
	 * path or query, where webhooks keep their secrets */
	ck_assert_ptr_nonnull(strstr(e->message, "POST http://127.0.0.1:"));
	ck_assert_ptr_null(strstr(e->message, "/handoff"));
	ck_assert_ptr_null(strstr(e->message, "secret"));
	ck_assert_int_ge(e->t_us, tr->t_us);
	ck_assert_int_eq(vagent_session_result(c.s)->transfer_webhook_status, -1);
	/* the call still ends as a transfer, after the POST was attempted */
	ck_assert_str_eq(must(&c, VAGENT_TRACE_CALL_END, -1, 0)->reason, "transfer");
	ck_assert_int_ge(must(&c, VAGENT_TRACE_CALL_END, -1, 0)->t_us, e->t_us);
	call_free(&c);
}
END_TEST

/* A word too short to open a turn, said after the agent finished, then a
 * pause and the rest: all of it is the caller's next turn ("No, ...
 * that's all"), not a leftover of the turn the agent just answered. */
START_TEST(test_short_word_after_reply_opens_next_turn)
{
	struct call c;
	struct vagent_sim_rule rule = { .pattern = "order", .reply = "It shipped." };
	struct vagent_audio *no = NULL;
	const struct vagent_trace_event *e;
	size_t i;

	call_init(&c);
	c.llm[0].rules = &rule;
	c.llm[0].n_rules = 1;
	ck_assert_int_eq(vagent_speechlike_synth("no", 16000, 7, &no, &c.err), VAGENT_OK);
	ck_assert_uint_gt(no->frames, 1920);
	no->frames = 1920;                         /* 120 ms: under start_ms */
	say(&c, VAGENT_ANCHOR_START, 500, "where is my order");
	say(&c, VAGENT_ANCHOR_AGENT_DONE, 600, "no");
	c.steps[1].audio = no;
	say(&c, VAGENT_ANCHOR_PREV_END, 400, "that is all thanks");
	call_run(&c);
	/* turn 1 was answered; the short word and the rest are turn 2 */
	e = must(&c, VAGENT_TRACE_AGENT_AUDIO_STOP, 1, 0);
	ck_assert_ptr_null(find(&c, VAGENT_TRACE_CALLER_SPEECH_START, 1, 1));
	ck_assert_int_gt(must(&c, VAGENT_TRACE_CALLER_SPEECH_START, 2, 0)->t_us, e->t_us);
	ck_assert_ptr_nonnull(find(&c, VAGENT_TRACE_CALLER_SPEECH_START, 2, 1));
	ck_assert_ptr_null(find(&c, VAGENT_TRACE_VAD_SPEECH_START, 1, 1));
	for (i = 0; i < vagent_session_result(c.s)->n_turns; i++) {
		const struct vagent_session_turn *t = &vagent_session_result(c.s)->turns[i];

		if (t->turn == 2)
			ck_assert_str_eq(t->caller_text, "no that is all thanks");
		if (t->turn == 1)
			ck_assert_str_eq(t->caller_text, "where is my order");
	}
	vagent_audio_free(no);
	call_free(&c);
}
END_TEST

/* The brain says goodbye and hangs up: the call ends once the reply has
 * played, before the caller would have hung up. */
START_TEST(test_agent_hangs_up_after_goodbye)
{
	struct call c;
	struct vagent_sim_rule rule = { .pattern = "bye", .reply = "Goodbye!",
					.hangup = true };
	const struct vagent_trace_event *stop, *end;

	call_init(&c);
	c.llm[0].rules = &rule;
	c.llm[0].n_rules = 1;
	c.caller.hangup_after_ms = 5000;
	say(&c, VAGENT_ANCHOR_START, 500, "thanks bye");
	call_run(&c);
	stop = must(&c, VAGENT_TRACE_AGENT_AUDIO_STOP, 1, 0);
	ck_assert_str_eq(stop->reason, "done");
	end = must(&c, VAGENT_TRACE_CALL_END, -1, 0);
	ck_assert_str_eq(end->reason, "agent_hangup");
	/* at the tick after the last frame of the goodbye */
	ck_assert_int_ge(end->t_us, stop->t_us);
	ck_assert_int_le(end->t_us - stop->t_us, 40000);
	ck_assert_str_eq(vagent_session_result(c.s)->end_reason, "agent_hangup");
	call_free(&c);
}
END_TEST

/* A goodbye the caller cuts off does not end the call: the interruption
 * is answered, and the caller hangs up in the end. */
START_TEST(test_goodbye_cut_off_does_not_hang_up)
{
	struct call c;
	struct vagent_sim_rule rules[2] = {
		{ .pattern = "bye", .hangup = true,
		  .reply = "Goodbye, thanks for calling us today, and have a wonderful day." },
		{ .pattern = "wait", .reply = "Sure, go ahead." },
	};

	call_init(&c);
	c.llm[0].rules = rules;
	c.llm[0].n_rules = 2;
	say(&c, VAGENT_ANCHOR_START, 500, "thanks bye");
	say(&c, VAGENT_ANCHOR_AGENT_SPEAKING, 700, "wait one more thing please");
	call_run(&c);
	must(&c, VAGENT_TRACE_BARGE_IN, 1, 0);
	ck_assert_str_eq(must(&c, VAGENT_TRACE_TTS_REQUEST, 2, 0)->text, "Sure, go ahead.");
	must(&c, VAGENT_TRACE_AGENT_AUDIO_START, 2, 0);
	ck_assert_str_eq(must(&c, VAGENT_TRACE_CALL_END, -1, 0)->reason, "hangup");
	call_free(&c);
}
END_TEST

/* An agent that never answers: the caller waiting for its reply hangs up
 * after 20 s of dead air instead of holding the line to max_call_ms. */
START_TEST(test_caller_hangs_up_on_dead_air)
{
	struct call c;
	struct vagent_sim_rule rule = { .pattern = "", .reply = "" };
	const struct vagent_trace_event *spoke, *end;

	call_init(&c);
	c.llm[0].rules = &rule;
	c.llm[0].n_rules = 1;
	say(&c, VAGENT_ANCHOR_START, 500, "hello is anyone there");
	say(&c, VAGENT_ANCHOR_AGENT_DONE, 500, "hello");
	call_run(&c);
	ck_assert_ptr_null(find(&c, VAGENT_TRACE_AGENT_AUDIO_START, -1, 0));
	ck_assert_ptr_null(find(&c, VAGENT_TRACE_CALLER_SPEECH_START, -1, 1));
	spoke = must(&c, VAGENT_TRACE_CALLER_SPEECH_END, 1, 0);
	end = must(&c, VAGENT_TRACE_CALL_END, -1, 0);
	ck_assert_str_eq(end->reason, "hangup");
	ck_assert_int_ge(end->t_us - spoke->t_us, 20000000);
	ck_assert_int_le(end->t_us - spoke->t_us, 20040000);
	call_free(&c);
}
END_TEST

/* A caller who goes quiet after the agent's reply is reprompted once
 * after no_input_ms of silence, then told goodbye, and the agent hangs up. */
START_TEST(test_no_input_reprompts_then_hangs_up)
{
	struct call c;
	const struct vagent_trace_event *done1, *re, *re_done, *bye, *end;
	size_t i;

	call_init(&c);
	c.cfg.agent.no_input_ms = 4000;
	c.cfg.agent.no_input_max = 1;
	c.caller.hangup_after_ms = 60000;
	say(&c, VAGENT_ANCHOR_START, 500, "hello there");
	i = n_steps(&c);
	c.steps[i].kind = VAGENT_STEP_SILENCE;
	c.steps[i].anchor = VAGENT_ANCHOR_AGENT_DONE;
	c.steps[i].duration_ms = 40000;
	call_run(&c);
	done1 = must(&c, VAGENT_TRACE_AGENT_AUDIO_STOP, 1, 0);
	re = must(&c, VAGENT_TRACE_TTS_REQUEST, 1, 1);
	ck_assert_str_eq(re->text, "Are you still there?");
	/* 4 s of silence after the reply, to the tick */
	ck_assert_int_ge(re->t_us - done1->t_us, 4000000);
	ck_assert_int_le(re->t_us - done1->t_us, 4020000);
	re_done = must(&c, VAGENT_TRACE_AGENT_AUDIO_STOP, 1, 1);
	bye = must(&c, VAGENT_TRACE_TTS_REQUEST, 1, 2);
	ck_assert_str_eq(bye->text, "I'll let you go. Goodbye.");
	ck_assert_int_ge(bye->t_us - re_done->t_us, 4000000);
	ck_assert_int_le(bye->t_us - re_done->t_us, 4020000);
	end = must(&c, VAGENT_TRACE_CALL_END, -1, 0);
	ck_assert_str_eq(end->reason, "agent_hangup");
	ck_assert_int_gt(end->t_us, must(&c, VAGENT_TRACE_AGENT_AUDIO_STOP, 1, 2)->t_us - 1);
	call_free(&c);
}
END_TEST

/* Speech resets it: a caller who answers the reprompt is not hung up on. */
START_TEST(test_no_input_answered_keeps_the_call)
{
	struct call c;
	size_t i;

	call_init(&c);
	c.cfg.agent.no_input_ms = 3000;
	c.cfg.agent.no_input_max = 1;
	say(&c, VAGENT_ANCHOR_START, 500, "hello there");
	/* answers the reprompt (the agent's second reply of turn 1) */
	i = n_steps(&c);
	c.steps[i].kind = VAGENT_STEP_SILENCE;
	c.steps[i].anchor = VAGENT_ANCHOR_AGENT_DONE;
	c.steps[i].duration_ms = 100;
	say(&c, VAGENT_ANCHOR_AGENT_DONE, 500, "yes sorry I am here");
	call_run(&c);
	ck_assert_str_eq(must(&c, VAGENT_TRACE_TTS_REQUEST, 1, 1)->text, "Are you still there?");
	must(&c, VAGENT_TRACE_AGENT_AUDIO_START, 2, 0);
	ck_assert_str_eq(must(&c, VAGENT_TRACE_CALL_END, -1, 0)->reason, "hangup");
	call_free(&c);
}
END_TEST

START_TEST(test_tts_fallback_on_timeout)
{
	struct call c;
	struct vagent_fault hang = { .kind = VAGENT_FAULT_TIMEOUT, .from_call = 1 };
	const struct vagent_trace_event *req, *fb;

	call_init(&c);
	c.n_tts = 2;
	c.tts[0].faults = &hang;
	c.tts[0].n_faults = 1;
	c.cfg.agent.tts_timeout_ms = 800;
	say(&c, VAGENT_ANCHOR_START, 500, "hello there");
	call_run(&c);
	req = must(&c, VAGENT_TRACE_TTS_REQUEST, 1, 0);
	fb = must(&c, VAGENT_TRACE_FALLBACK, 1, 0);
	ck_assert_str_eq(fb->slot, "tts");
	ck_assert_int_eq(fb->t_us, req->t_us + 800000);
	ck_assert_str_eq(must(&c, VAGENT_TRACE_TTS_REQUEST, 1, 1)->text, req->text);
	ck_assert_int_eq(must(&c, VAGENT_TRACE_TTS_FIRST_AUDIO, 1, 0)->t_us,
			 fb->t_us + 120000);
	call_free(&c);
}
END_TEST

START_TEST(test_hold_rule_keeps_digits_together)
{
	struct call c;
	size_t i;

	call_init(&c);
	c.cfg.agent.turn.min_hold_ms = 500;
	c.cfg.agent.turn.max_hold_ms = 1500;
	say(&c, VAGENT_ANCHOR_START, 500, "my order number is four five");
	say(&c, VAGENT_ANCHOR_PREV_END, 900, "six seven eight");
	call_run(&c);
	/* one turn despite the 900 ms pause: the text ended in a number */
	ck_assert_int_eq(count(&c, VAGENT_TRACE_TURN_END, -1), 1);
	ck_assert_int_eq(count(&c, VAGENT_TRACE_CALLER_SPEECH_START, 1), 2);
	ck_assert_int_gt(must(&c, VAGENT_TRACE_TURN_END, 1, 0)->t_us,
			 must(&c, VAGENT_TRACE_CALLER_SPEECH_END, 1, 1)->t_us);
	ck_assert_str_eq(vagent_session_result(c.s)->turns[0].stt_text,
			 "my order number is four five six seven eight");
	for (i = 0; i < vagent_session_result(c.s)->n_turns; i++)
		ck_assert_int_le(vagent_session_result(c.s)->turns[i].turn, 1);
	call_free(&c);
}
END_TEST

START_TEST(test_recording_is_stereo_and_aligned)
{
	struct call c;
	const struct vagent_audio *rec;
	const struct vagent_trace_event *a0, *a1;
	size_t i, from, to;
	double e_agent = 0, e_quiet = 0;

	call_init(&c);
	c.cfg.record = true;
	say(&c, VAGENT_ANCHOR_START, 500, "hello there");
	call_run(&c);
	rec = vagent_session_recording(c.s);
	ck_assert_ptr_nonnull(rec);
	ck_assert_int_eq(rec->channels, 2);
	ck_assert_int_eq(rec->rate, 16000);
	ck_assert_int_eq((int64_t)rec->frames,
			 vagent_ticks_to_samples(vagent_session_result(c.s)->duration, 16000));
	a0 = must(&c, VAGENT_TRACE_AGENT_AUDIO_START, 1, 0);
	a1 = must(&c, VAGENT_TRACE_AGENT_AUDIO_STOP, 1, 0);
	from = (size_t)(a0->t_us * 16 / 1000);
	to = (size_t)(a1->t_us * 16 / 1000);
	for (i = from; i < to; i++)
		e_agent += (double)rec->samples[2 * i + 1] * (double)rec->samples[2 * i + 1];
	for (i = 0; i < from; i++)
		e_quiet += (double)rec->samples[2 * i + 1] * (double)rec->samples[2 * i + 1];
	ck_assert(e_agent > 0);
	ck_assert(e_quiet == 0);
	/* the caller's channel has their speech from 500 ms */
	ck_assert(rec->samples[2 * (500 * 16 + 400)] != 0 ||
		  rec->samples[2 * (500 * 16 + 401)] != 0);
	ck_assert(rec->samples[2 * (400 * 16)] == 0);
	call_free(&c);
}
END_TEST

static char *run_trace(uint64_t seed)
{
	struct call c;
	char *out;

	call_init(&c);
	c.cfg.agent.greet = true;
	c.stt.seed = c.llm[0].seed = c.tts[0].seed = c.caller.seed = seed;
	c.stt.first_partial.jitter_ms = 80;
	c.llm[0].ttft.jitter_ms = 200;
	c.tts[0].first_byte.jitter_ms = 50;
	c.caller.noise_dbfs = -50;
	say(&c, VAGENT_ANCHOR_AGENT_DONE, 300, "I need to change my delivery address");
	say(&c, VAGENT_ANCHOR_AGENT_SPEAKING, 600, "actually wait");
	say(&c, VAGENT_ANCHOR_AGENT_DONE, 400, "thank you goodbye");
	call_run(&c);
	out = strdup(vagent_session_trace(c.s, NULL));
	call_free(&c);
	return out;
}

START_TEST(test_same_seed_same_trace)
{
	char *a = run_trace(7), *b = run_trace(7), *d = run_trace(8);

	ck_assert_str_eq(a, b);
	ck_assert_str_ne(a, d);
	free(a);
	free(b);
	free(d);
}
END_TEST

START_TEST(test_metrics_from_the_session_trace)
{
	struct call c;
	struct vagent_trace_metrics *m;
	const struct vagent_turn_metrics *t;

	call_init(&c);
	say(&c, VAGENT_ANCHOR_START, 1000, "where is my parcel");
	call_run(&c);
	ck_assert_int_eq(vagent_metrics_from_trace(c.trace->events, c.trace->n, &m,
						   &c.err), VAGENT_OK);
	ck_assert_int_eq(m->n_calls, 1);
	t = &m->calls[0].turns[0];
	ck_assert_int_eq(t->turn, 1);
	ck_assert_int_eq(t->hop[VAGENT_METRIC_STT_FIRST_PARTIAL], 150000);
	ck_assert_int_eq(t->hop[VAGENT_METRIC_STT_FINAL], 120000);
	ck_assert_int_eq(t->hop[VAGENT_METRIC_LLM_TTFT], 300000);
	ck_assert_int_eq(t->hop[VAGENT_METRIC_TTS_TTFB], 120000);
	/* e2e = endpoint + the first sentence's text + ttfb + the wait for
	 * the next frame */
	{
		int64_t first_sentence = must(&c, VAGENT_TRACE_TTS_REQUEST, 1, 0)->t_us -
					 must(&c, VAGENT_TRACE_TURN_END, 1, 0)->t_us;
		int64_t floor = t->hop[VAGENT_METRIC_ENDPOINT] + first_sentence + 120000;

		ck_assert_int_ge(first_sentence, 300000);
		ck_assert_int_ge(t->hop[VAGENT_METRIC_E2E], floor);
		ck_assert_int_lt(t->hop[VAGENT_METRIC_E2E], floor + 20000);
	}
	vagent_trace_metrics_free(m);
	call_free(&c);
}
END_TEST

/* A barge-in during a filler, while a slow tool runs: the tool call is
 * cancelled, or (policy) left to finish with its result traced. */
static void barge_in_tool(bool cancel, struct call *c)
{
	static struct vagent_sim_rule rule = {
		.pattern = "balance", .tool = "get_balance", .args = "{}",
		.reply = "Your balance is {result.balance}.",
	};
	static struct vagent_sim_tool tool = {
		.name = "get_balance", .result = "{\"balance\":\"12 dollars\"}",
		.latency = { 3000, 0 },
	};

	call_init(c);
	c->cfg.agent.filler_after_ms = 300;
	c->cfg.agent.filler_text = "One moment please, I am looking that up for you.";
	c->cfg.agent.cancel_tools_on_barge_in = cancel;
	c->llm[0].rules = &rule;
	c->llm[0].n_rules = 1;
	c->tools.tools = &tool;
	c->tools.n_tools = 1;
	say(c, VAGENT_ANCHOR_START, 500, "what is my balance");
	say(c, VAGENT_ANCHOR_AGENT_SPEAKING, 600, "never mind I will call back later");
	call_run(c);
}

START_TEST(test_barge_in_cancels_tools)
{
	struct call c;
	const struct vagent_trace_event *ts, *bi;

	barge_in_tool(true, &c);
	ts = must(&c, VAGENT_TRACE_TOOL_START, 1, 0);
	must(&c, VAGENT_TRACE_FILLER, 1, 0);
	bi = must(&c, VAGENT_TRACE_BARGE_IN, 1, 0);
	ck_assert_int_lt(bi->t_us, ts->t_us + 3000000);
	ck_assert_int_eq(count(&c, VAGENT_TRACE_TOOL_END, -1), 0);
	/* the interrupted turn's reply is never said */
	ck_assert_ptr_null(strstr(vagent_session_result(c.s)->turns[0].agent_text,
				  "balance is"));
	call_free(&c);
}
END_TEST

START_TEST(test_barge_in_lets_tools_finish)
{
	struct call c;
	const struct vagent_trace_event *ts, *te;

	barge_in_tool(false, &c);
	ts = must(&c, VAGENT_TRACE_TOOL_START, 1, 0);
	must(&c, VAGENT_TRACE_BARGE_IN, 1, 0);
	te = must(&c, VAGENT_TRACE_TOOL_END, 1, 0);
	ck_assert_int_eq(te->t_us, ts->t_us + 3000000);
	ck_assert_ptr_null(strstr(vagent_session_result(c.s)->turns[0].agent_text,
				  "balance is"));
	call_free(&c);
}
END_TEST

/* The caller goes on talking after the end of their turn, before the
 * agent answers: that reply is abandoned and the next answers both. */
START_TEST(test_continuation_abandons_the_pending_reply)
{
	struct call c;
	const char *asked;

	static const struct vagent_sim_rule rule = {
		.pattern = "change my address to .*oak", .reply = "Address updated.",
	};

	call_init(&c);
	c.llm[0].ttft.base_ms = 1500;
	c.cfg.agent.filler_after_ms = 0;
	c.llm[0].rules = &rule;
	c.llm[0].n_rules = 1;
	say(&c, VAGENT_ANCHOR_START, 500, "I want to change my address");
	say(&c, VAGENT_ANCHOR_PREV_END, 900, "to twelve Oak Street");
	call_run(&c);
	ck_assert_int_eq(count(&c, VAGENT_TRACE_TURN_END, 1), 1);
	ck_assert_int_eq(count(&c, VAGENT_TRACE_AGENT_AUDIO_START, 1), 0);
	ck_assert_int_eq(count(&c, VAGENT_TRACE_LLM_FIRST_TOKEN, 1), 0);
	must(&c, VAGENT_TRACE_AGENT_AUDIO_START, 2, 0);
	ck_assert_int_eq(vagent_session_result(c.s)->n_turns, 2);
	ck_assert_str_eq(vagent_session_result(c.s)->turns[1].stt_text,
			 "to twelve Oak Street");
	asked = vagent_session_result(c.s)->turns[1].caller_text;
	ck_assert_str_eq(asked, "to twelve Oak Street");
	/* the brain was asked about both */
	ck_assert_str_eq(vagent_session_result(c.s)->turns[1].agent_text,
			 "Address updated.");
	call_free(&c);
}
END_TEST

/* A session's outcome as the --json run result (docs/result.md). */
START_TEST(test_session_result_json)
{
	struct call c;
	const struct vagent_session_result *r;
	struct vagent_call_report rep = { 0 };
	size_t len;
	char *json = NULL;

	call_init(&c);
	c.stt.word_error_rate = 0;
	say(&c, VAGENT_ANCHOR_START, 500, "where is my parcel");
	call_run(&c);
	r = vagent_session_result(c.s);
	rep.name = r->name;
	rep.passed = true;
	rep.turns = r->turns;
	rep.n_turns = r->n_turns;
	rep.trace = vagent_session_trace(c.s, &len);
	rep.trace_len = len;
	rep.escalated = r->escalated;
	ck_assert_int_eq(vagent_result_to_json(&rep, 1, NULL, 0, &json, &c.err), VAGENT_OK);
	ck_assert_ptr_nonnull(strstr(json, "\"caller_text\": \"where is my parcel\""));
	ck_assert_ptr_nonnull(strstr(json, "\"stt_text\": \"where is my parcel\""));
	ck_assert_ptr_nonnull(strstr(json, "\"e2e\": "));
	ck_assert_ptr_nonnull(strstr(json, "\"containment_rate\": 1"));
	ck_assert_ptr_nonnull(strstr(json, "\"ref_words\": 4"));
	free(json);
	call_free(&c);
}
END_TEST

/* Malformed provider output is an error of that provider, never a crash:
 * text that is not UTF-8 from the LLM fails over; from the only STT it
 * hands the call to a human. */
START_TEST(test_malformed_provider_output)
{
	struct call c;
	struct vagent_fault bad = { .kind = VAGENT_FAULT_MALFORMED, .from_call = 1,
				    .to_call = 1 };

	call_init(&c);
	c.n_llm = 2;
	c.llm[0].faults = &bad;
	c.llm[0].n_faults = 1;
	c.llm[1].fallback_reply = "Second provider here.";
	say(&c, VAGENT_ANCHOR_START, 500, "hello there");
	call_run(&c);
	ck_assert_ptr_nonnull(strstr(must(&c, VAGENT_TRACE_ERROR, 1, 0)->message,
				     "not UTF-8"));
	ck_assert_str_eq(must(&c, VAGENT_TRACE_FALLBACK, 1, 0)->slot, "llm");
	ck_assert_str_eq(vagent_session_result(c.s)->turns[0].agent_text,
			 "Second provider here.");
	call_free(&c);

	call_init(&c);
	c.stt.faults = &bad;
	c.stt.n_faults = 1;
	say(&c, VAGENT_ANCHOR_START, 500, "hello there");
	call_run(&c);
	ck_assert_ptr_nonnull(strstr(must(&c, VAGENT_TRACE_ERROR, 1, 0)->message,
				     "malformed transcript"));
	ck_assert_str_eq(must(&c, VAGENT_TRACE_ESCALATION, 1, 0)->reason, "stt_failure");
	ck_assert_str_eq(must(&c, VAGENT_TRACE_CALL_END, -1, 0)->reason, "transfer");
	call_free(&c);
}
END_TEST

/* The same engine on the real clock (wall time, the TTS synthesising on
 * a worker): a short call, checked for order, not for timing. */
START_TEST(test_real_clock_call)
{
	struct call c;
	const struct vagent_session_result *r;

	call_init(&c);
	c.real = true;
	c.cfg.agent.turn.min_hold_ms = 300;
	c.llm[0].ttft.base_ms = 100;
	c.llm[0].fallback_reply = "Okay.";
	c.tts[0].first_byte.base_ms = 50;
	c.caller.hangup_after_ms = 100;
	say(&c, VAGENT_ANCHOR_START, 100, "hello");
	call_run(&c);
	r = vagent_session_result(c.s);
	ck_assert_str_eq(r->end_reason, "hangup");
	ck_assert_int_gt(r->frames_out, 50);
	ck_assert_int_lt(must(&c, VAGENT_TRACE_CALLER_SPEECH_END, 1, 0)->t_us,
			 must(&c, VAGENT_TRACE_TURN_END, 1, 0)->t_us);
	ck_assert_int_le(must(&c, VAGENT_TRACE_TURN_END, 1, 0)->t_us,
			 must(&c, VAGENT_TRACE_LLM_REQUEST, 1, 0)->t_us);
	ck_assert_int_lt(must(&c, VAGENT_TRACE_TTS_REQUEST, 1, 0)->t_us,
			 must(&c, VAGENT_TRACE_AGENT_AUDIO_START, 1, 0)->t_us);
	ck_assert_str_eq(must(&c, VAGENT_TRACE_AGENT_AUDIO_STOP, 1, 0)->reason, "done");
	ck_assert_str_eq(r->turns[0].agent_text, "Okay.");
	call_free(&c);
}
END_TEST

START_TEST(test_bad_config)
{
	struct vagent_session_config cfg = vagent_session_config_default();
	struct vagent_loop_config lc = vagent_loop_config_default();
	struct vagent_loop *loop;
	struct vagent_session *s;
	struct vagent_error err;

	lc.clock = VAGENT_CLOCK_VIRTUAL;
	ck_assert_int_eq(vagent_loop_new(&lc, &loop, &err), VAGENT_OK);
	cfg.rate = 44100;
	ck_assert_int_eq(vagent_session_new(loop, &cfg, &s, &err), VAGENT_EINVAL);
	ck_assert_str_eq(err.message, "call: rate: 44100 Hz is not supported (8000 or 16000)");
	cfg.rate = 8000;
	ck_assert_int_eq(vagent_session_new(loop, &cfg, &s, &err), VAGENT_EINVAL);
	ck_assert_str_eq(err.message, "call: no caller");
	ck_assert_ptr_null(s);
	vagent_loop_free(loop);
}
END_TEST

Suite *suite_session(void)
{
	Suite *s = suite_create("session");
	TCase *tc = tcase_create("core");

	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, test_turn_end_after_hold);
	tcase_add_test(tc, test_barge_in_stops_within_a_frame);
	tcase_add_test(tc, test_backchannel_does_not_interrupt);
	tcase_add_test(tc, test_min_words_waits_for_the_recogniser);
	tcase_add_test(tc, test_min_words_noise_does_not_interrupt);
	tcase_add_test(tc, test_short_speech_does_not_interrupt);
	tcase_add_test(tc, test_tool_timeout_and_filler);
	tcase_add_test(tc, test_tool_result_and_malformed);
	tcase_add_test(tc, test_llm_fallback);
	tcase_add_test(tc, test_provider_first_byte);
	tcase_add_test(tc, test_handoff_when_every_llm_fails);
	tcase_add_test(tc, test_transfer_webhook_failure_is_traced);
	tcase_add_test(tc, test_short_word_after_reply_opens_next_turn);
	tcase_add_test(tc, test_agent_hangs_up_after_goodbye);
	tcase_add_test(tc, test_caller_hangs_up_on_dead_air);
	tcase_add_test(tc, test_goodbye_cut_off_does_not_hang_up);
	tcase_add_test(tc, test_no_input_reprompts_then_hangs_up);
	tcase_add_test(tc, test_no_input_answered_keeps_the_call);
	tcase_add_test(tc, test_tts_fallback_on_timeout);
	tcase_add_test(tc, test_hold_rule_keeps_digits_together);
	tcase_add_test(tc, test_recording_is_stereo_and_aligned);
	tcase_add_test(tc, test_same_seed_same_trace);
	tcase_add_test(tc, test_metrics_from_the_session_trace);
	tcase_add_test(tc, test_barge_in_cancels_tools);
	tcase_add_test(tc, test_barge_in_lets_tools_finish);
	tcase_add_test(tc, test_continuation_abandons_the_pending_reply);
	tcase_add_test(tc, test_session_result_json);
	tcase_add_test(tc, test_malformed_provider_output);
	tcase_add_test(tc, test_real_clock_call);
	tcase_add_test(tc, test_bad_config);
	suite_add_tcase(s, tc);
	return s;
}
