/*
 * check_sim_providers.c — the simulated STT, LLM, TTS and tools on a
 * virtual loop: every callback recorded with its session time (ms) and
 * compared with the exact expected log; each fault kind per provider;
 * cancel and stop; determinism per seed; configuration errors.
 */
#include <check.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "vagent.h"

#define MS(x) vagent_ticks_from_ms(x)

static struct vagent_loop *new_loop(void)
{
	struct vagent_loop_config lc = vagent_loop_config_default();
	struct vagent_loop *loop = NULL;
	struct vagent_error err;

	lc.clock = VAGENT_CLOCK_VIRTUAL;
	lc.workers = 0;
	ck_assert_int_eq(vagent_loop_new(&lc, &loop, &err), VAGENT_OK);
	return loop;
}

static void run_idle(struct vagent_loop *loop)
{
	struct vagent_error err;

	ck_assert_int_eq(vagent_loop_run(loop, VAGENT_RUN_UNTIL_IDLE, &err),
			 VAGENT_OK);
}

static void run_until(struct vagent_loop *loop, int64_t ms)
{
	struct vagent_error err;

	ck_assert_int_eq(vagent_loop_run_until(loop, MS(ms), &err), VAGENT_OK);
}

/* ---- the capture: one line per callback, "MS event ..." ---- */

struct cap {
	struct vagent_loop *loop;
	int64_t origin;
	char log[32768];
	size_t len;
	int n_text;
	size_t samples;
	/* actions taken from inside callbacks */
	struct vagent_brain *brain;
	struct vagent_tts *tts;
	struct vagent_stt *stt;
	int cancel_at_text;             /* cancel the request at this delta */
	int free_at_text;               /* free the provider at this delta */
	int cancel_at_chunk;
	int stop_at_partial;
	int n_chunks, n_partials;
};

static void logf_(struct cap *c, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static void logf_(struct cap *c, const char *fmt, ...)
{
	int64_t t = vagent_loop_now(c->loop) - c->origin;
	va_list ap;
	int n;

	/* whole milliseconds, or ms.fraction when not on one */
	if (t % MS(1) == 0)
		n = snprintf(c->log + c->len, sizeof(c->log) - c->len, "%lld ",
			     (long long)(t / MS(1)));
	else
		n = snprintf(c->log + c->len, sizeof(c->log) - c->len, "%.3f ",
			     (double)t / (double)MS(1));
	ck_assert_int_lt(c->len + (size_t)n, sizeof(c->log));
	c->len += (size_t)n;
	va_start(ap, fmt);
	n = vsnprintf(c->log + c->len, sizeof(c->log) - c->len, fmt, ap);
	va_end(ap);
	ck_assert_int_lt(c->len + (size_t)n + 1, sizeof(c->log));
	c->len += (size_t)n;
	c->log[c->len++] = '\n';
	c->log[c->len] = '\0';
}

static void cap_init(struct cap *c, struct vagent_loop *loop)
{
	memset(c, 0, sizeof(*c));
	c->loop = loop;
}

/* ---- fault names ---- */

START_TEST(test_fault_names)
{
	static const char *const names[] = {
		"none", "delay", "timeout", "error", "stall", "disconnect",
		"malformed", "drop", "wrong_words",
	};
	size_t i;

	for (i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		ck_assert_str_eq(vagent_fault_kind_name((vagent_fault_kind)i),
				 names[i]);
		ck_assert_int_eq(vagent_fault_kind_from_name(names[i]), (int)i);
	}
	ck_assert_ptr_null(vagent_fault_kind_name((vagent_fault_kind)9));
	ck_assert_ptr_null(vagent_fault_kind_name((vagent_fault_kind)-1));
	ck_assert_int_eq(vagent_fault_kind_from_name("Delay"), -1);
	ck_assert_int_eq(vagent_fault_kind_from_name(""), -1);
	ck_assert_int_eq(vagent_fault_kind_from_name(NULL), -1);
}
END_TEST

/* ---- sim LLM ---- */

static void llm_first(void *ctx, uint64_t id)
{
	logf_(ctx, "first %llu", (unsigned long long)id);
}

static void llm_text(void *ctx, uint64_t id, const char *delta)
{
	struct cap *c = ctx;

	logf_(c, "text %llu [%s]", (unsigned long long)id, delta);
	c->n_text++;
	if (c->n_text == c->cancel_at_text)
		c->brain->ops->cancel(c->brain, id);
	if (c->n_text == c->free_at_text) {
		vagent_brain_free(c->brain);
		c->brain = NULL;
	}
}

static void llm_tool(void *ctx, uint64_t id, const char *name,
		     const char *call_id, const char *args)
{
	logf_(ctx, "tool %llu %s %s %s", (unsigned long long)id, name, call_id,
	      args);
}

static void llm_escalate(void *ctx, uint64_t id, const char *reason,
			 const char *package)
{
	logf_(ctx, "escalate %llu %s %s", (unsigned long long)id, reason,
	      package);
}

static void llm_done(void *ctx, uint64_t id)
{
	logf_(ctx, "done %llu", (unsigned long long)id);
}

static void llm_error(void *ctx, uint64_t id, vagent_status st,
		      const char *message)
{
	logf_(ctx, "error %llu %s %s", (unsigned long long)id,
	      vagent_status_name(st), message);
}

static struct vagent_sim_llm_config llm_config(void)
{
	struct vagent_sim_llm_config cfg = vagent_sim_llm_config_default();

	cfg.ttft.base_ms = 300;
	cfg.ttft.jitter_ms = 0;
	cfg.tokens_per_sec = 50;
	return cfg;
}

static struct vagent_brain *llm_new(const struct vagent_sim_llm_config *cfg,
				    struct cap *c)
{
	struct vagent_brain *b = NULL;
	struct vagent_error err;

	ck_assert_int_eq(vagent_sim_llm_new(cfg, &b, &err), VAGENT_OK);
	b->loop = c->loop;
	b->origin = c->origin;
	b->on_first_token = llm_first;
	b->on_text = llm_text;
	b->on_tool_call = llm_tool;
	b->on_escalate = llm_escalate;
	b->on_done = llm_done;
	b->on_error = llm_error;
	b->ctx = c;
	c->brain = b;
	return b;
}

static void ask(struct vagent_brain *b, uint64_t id, const char *text)
{
	struct vagent_brain_request req = { 0 };
	struct vagent_error err;

	req.id = id;
	req.turn = (int)id;
	req.caller_text = text;
	req.greeting = text == NULL;
	if (!text)
		req.caller_text = "";
	ck_assert_int_eq(b->ops->respond(b, &req, &err), VAGENT_OK);
}

static const struct vagent_sim_rule shipped_rule[] = {
	{ .reply = "Your order shipped." },
};

#define SHIPPED(id, t0) \
	#t0 " first " #id "\n" \
	#t0 " text " #id " [Your]\n"

START_TEST(test_llm_stream)
{
	struct vagent_loop *loop = new_loop();
	struct vagent_sim_llm_config cfg = llm_config();
	struct vagent_brain *b;
	struct cap c;

	cap_init(&c, loop);
	cfg.rules = shipped_rule;
	cfg.n_rules = 1;
	b = llm_new(&cfg, &c);
	ck_assert_str_eq(b->name, "sim-llm");
	ask(b, 1, "where is my order");
	ck_assert_int_eq(c.len, 0);             /* never from inside respond */
	run_idle(loop);
	ck_assert_str_eq(c.log,
		"300 first 1\n"
		"300 text 1 [Your]\n"
		"320 text 1 [ ord]\n"
		"340 text 1 [er s]\n"
		"360 text 1 [hipp]\n"
		"380 text 1 [ed.]\n"
		"380 done 1\n");
	vagent_brain_free(b);
	vagent_loop_free(loop);
}
END_TEST

START_TEST(test_llm_greeting_fallback_rules)
{
	static const struct vagent_sim_rule rules[] = {
		{ .pattern = "refund|money back", .reply = "R" },
		{ .pattern = "^ORDER", .reply = "O" },
		{ .pattern = "order", .reply = "never: the rule before wins" },
	};
	struct vagent_loop *loop = new_loop();
	struct vagent_sim_llm_config cfg = llm_config();
	struct vagent_brain *b;
	struct cap c;

	cfg.tokens_per_sec = 1000;          /* a token per ms */
	cap_init(&c, loop);
	cfg.rules = rules;
	cfg.n_rules = 3;
	b = llm_new(&cfg, &c);
	ask(b, 1, NULL);
	run_idle(loop);
	ask(b, 2, "I want my MONEY back");
	run_idle(loop);
	ask(b, 3, "order 66 please");
	run_idle(loop);
	ask(b, 4, "hello?");
	run_idle(loop);
	ck_assert_str_eq(c.log,
		"300 first 1\n"
		"300 text 1 [Hell]\n" "301 text 1 [o, t]\n"
		"302 text 1 [his ]\n" "303 text 1 [is t]\n"
		"304 text 1 [he v]\n" "305 text 1 [irtu]\n"
		"306 text 1 [al a]\n" "307 text 1 [ssis]\n"
		"308 text 1 [tant]\n" "309 text 1 [. Ho]\n"
		"310 text 1 [w ca]\n" "311 text 1 [n I ]\n"
		"312 text 1 [help]\n" "313 text 1 [?]\n"
		"313 done 1\n"
		"613 first 2\n" "613 text 2 [R]\n" "613 done 2\n"
		"913 first 3\n" "913 text 3 [O]\n" "913 done 3\n"
		"1213 first 4\n"
		"1213 text 4 [Sorr]\n" "1214 text 4 [y, I]\n"
		"1215 text 4 [ did]\n" "1216 text 4 [ not]\n"
		"1217 text 4 [ cat]\n" "1218 text 4 [ch t]\n"
		"1219 text 4 [hat.]\n" "1219 done 4\n");
	vagent_brain_free(b);

	/* configured greeting and fallback; UTF-8 kept whole in tokens */
	cap_init(&c, loop);
	c.origin = vagent_loop_now(loop);
	cfg = llm_config();
	cfg.greeting = "Grüße, né?";
	cfg.fallback_reply = "";
	b = llm_new(&cfg, &c);
	ask(b, 7, NULL);
	ask(b, 8, "anything");
	run_idle(loop);
	ck_assert_str_eq(c.log,
		"300 first 7\n"
		"300 text 7 [Grüß]\n"
		"300 first 8\n"
		"300 done 8\n"
		"320 text 7 [e, n]\n"
		"340 text 7 [é?]\n"
		"340 done 7\n");
	vagent_brain_free(b);
	vagent_loop_free(loop);
}
END_TEST

static const struct vagent_sim_rule tool_rules[] = {
	{ .pattern = "order", .tool = "lookup_order",
	  .args = "{\"order\": \"A1\"}",
	  .reply = "It is {result.status}, {result.days} days, "
		   "{result.late}/{result.nope}. ({result})" },
	{ .pattern = "balance", .tool = "balance",
	  .reply = "[{result}]" },
};

START_TEST(test_llm_tool)
{
	struct vagent_loop *loop = new_loop();
	struct vagent_sim_llm_config cfg = llm_config();
	struct vagent_brain *b;
	struct cap c;
	char *joined;
	const char *p;
	size_t n = 0, before;

	cap_init(&c, loop);
	cfg.rules = tool_rules;
	cfg.n_rules = 2;
	cfg.tokens_per_sec = 50;                /* 20 ms a token */
	b = llm_new(&cfg, &c);
	ask(b, 1, "Where's my order?");
	run_idle(loop);
	ck_assert_str_eq(c.log,
		"300 first 1\n"
		"300 tool 1 lookup_order call_1 {\"order\": \"A1\"}\n");
	run_until(loop, 500);
	before = c.len;
	/* a result for another call id is ignored */
	b->ops->tool_result(b, 1, "call_9", VAGENT_OK, "{}");
	b->ops->tool_result(b, 1, "call_1", VAGENT_OK,
			    "{\"status\": \"shipped\", \"days\": 3, "
			    "\"late\": false}");
	ck_assert_uint_eq(c.len, before);       /* nothing from inside */
	run_idle(loop);
	/* the text after the tool: first at 520, every 20 ms */
	p = strstr(c.log, "500 ");
	ck_assert_ptr_null(p);
	ck_assert_int_eq(strncmp(c.log + before, "520 text 1 [It i]\n"
				 "540 text 1 [s sh]\n" "560 text 1 [ippe]\n"
				 "580 text 1 [d, 3]\n", 72), 0);
	/* joined deltas */
	joined = calloc(1, c.len + 1);
	for (p = c.log; (p = strstr(p, " text 1 [")) != NULL;) {
		const char *e;

		p += 9;
		e = strstr(p, "]\n");
		memcpy(joined + n, p, (size_t)(e - p));
		n += (size_t)(e - p);
	}
	ck_assert_str_eq(joined,
		"It is shipped, 3 days, false/. ({\"status\": \"shipped\", "
		"\"days\": 3, \"late\": false})");
	free(joined);
	ck_assert_ptr_nonnull(strstr(c.log, "done 1\n"));

	/* a failed tool: {result} is the error message */
	cap_init(&c, loop);
	c.origin = vagent_loop_now(loop);
	ask(b, 2, "my balance");
	run_until(loop, vagent_ticks_to_ms(c.origin) + 400);
	b->ops->tool_result(b, 2, "call_2", VAGENT_ETIMEOUT, "timed out");
	run_idle(loop);
	ck_assert_str_eq(c.log,
		"300 first 2\n"
		"300 tool 2 balance call_2 {}\n"
		"420 text 2 [[tim]\n"
		"440 text 2 [ed o]\n"
		"460 text 2 [ut]]\n"
		"460 done 2\n");
	vagent_brain_free(b);
	vagent_loop_free(loop);
}
END_TEST

START_TEST(test_llm_escalate)
{
	static const struct vagent_sim_rule rules[] = {
		{ .pattern = "human|agent", .escalate = "caller asked",
		  .reply = "unused" },
	};
	struct vagent_loop *loop = new_loop();
	struct vagent_sim_llm_config cfg = llm_config();
	struct vagent_brain *b;
	struct cap c;

	cap_init(&c, loop);
	cfg.rules = rules;
	cfg.n_rules = 1;
	b = llm_new(&cfg, &c);
	ask(b, 5, "a \"human\" please");
	run_idle(loop);
	ck_assert_str_eq(c.log,
		"300 first 5\n"
		"300 escalate 5 caller asked {\"reason\":\"caller asked\","
		"\"caller_text\":\"a \\\"human\\\" please\"}\n"
		"300 done 5\n");
	vagent_brain_free(b);
	vagent_loop_free(loop);
}
END_TEST

/* One request under `fault` (as call 1) with the shipped rule. */
static void llm_fault_log(const struct vagent_fault *f,
			  const struct vagent_sim_rule *rules, size_t n_rules,
			  struct cap *c)
{
	struct vagent_loop *loop = new_loop();
	struct vagent_sim_llm_config cfg = llm_config();
	struct vagent_brain *b;

	cap_init(c, loop);
	cfg.rules = rules;
	cfg.n_rules = n_rules;
	cfg.faults = f;
	cfg.n_faults = 1;
	cfg.name[0] = '\0';                     /* the default name */
	b = llm_new(&cfg, c);
	ask(b, 1, "where is my order");
	run_idle(loop);
	vagent_brain_free(b);
	vagent_loop_free(loop);
}

START_TEST(test_llm_faults)
{
	struct vagent_fault f = { .from_call = 1 };
	struct cap c;

	f.kind = VAGENT_FAULT_DELAY;
	f.delay_ms = 1000;
	llm_fault_log(&f, shipped_rule, 1, &c);
	ck_assert_str_eq(c.log,
		"1300 first 1\n" "1300 text 1 [Your]\n" "1320 text 1 [ ord]\n"
		"1340 text 1 [er s]\n" "1360 text 1 [hipp]\n"
		"1380 text 1 [ed.]\n" "1380 done 1\n");

	f.kind = VAGENT_FAULT_TIMEOUT;
	llm_fault_log(&f, shipped_rule, 1, &c);
	ck_assert_str_eq(c.log, "");

	f.kind = VAGENT_FAULT_ERROR;
	f.delay_ms = 50;
	f.http_status = 503;
	llm_fault_log(&f, shipped_rule, 1, &c);
	ck_assert_str_eq(c.log,
		"50 error 1 EPROVIDER sim-llm: HTTP 503 (injected error)\n");
	f.http_status = 0;
	llm_fault_log(&f, shipped_rule, 1, &c);
	ck_assert_str_eq(c.log,
		"50 error 1 EPROVIDER sim-llm: HTTP 500 (injected error)\n");

	f.kind = VAGENT_FAULT_STALL;
	f.after = 2;
	f.delay_ms = 1000;
	llm_fault_log(&f, shipped_rule, 1, &c);
	ck_assert_str_eq(c.log,
		"300 first 1\n" "300 text 1 [Your]\n" "320 text 1 [ ord]\n"
		"1340 text 1 [er s]\n" "1360 text 1 [hipp]\n"
		"1380 text 1 [ed.]\n" "1380 done 1\n");
	f.after = 5;                    /* after the last token: done waits */
	llm_fault_log(&f, shipped_rule, 1, &c);
	ck_assert_str_eq(c.log,
		"300 first 1\n" "300 text 1 [Your]\n" "320 text 1 [ ord]\n"
		"340 text 1 [er s]\n" "360 text 1 [hipp]\n"
		"380 text 1 [ed.]\n" "1380 done 1\n");
	f.after = 6;                    /* beyond the reply: no stall */
	llm_fault_log(&f, shipped_rule, 1, &c);
	ck_assert_ptr_nonnull(strstr(c.log, "380 done 1\n"));
	ck_assert_ptr_null(strstr(c.log, "1380"));

	f.kind = VAGENT_FAULT_DISCONNECT;
	f.after = 2;
	llm_fault_log(&f, shipped_rule, 1, &c);
	ck_assert_str_eq(c.log,
		"300 first 1\n" "300 text 1 [Your]\n" "320 text 1 [ ord]\n"
		"340 error 1 EPROTO sim-llm: stream closed mid-reply (injected)\n");
	f.after = 0;
	llm_fault_log(&f, shipped_rule, 1, &c);
	ck_assert_str_eq(c.log,
		"300 first 1\n"
		"300 error 1 EPROTO sim-llm: stream closed mid-reply (injected)\n");

	f.kind = VAGENT_FAULT_MALFORMED;
	llm_fault_log(&f, shipped_rule, 1, &c);
	ck_assert_str_eq(c.log,
		"300 first 1\n" "300 text 1 [\xff\xfeYour]\n"
		"320 text 1 [ ord]\n" "340 text 1 [er s]\n"
		"360 text 1 [hipp]\n" "380 text 1 [ed.]\n" "380 done 1\n");
	llm_fault_log(&f, tool_rules, 2, &c);
	ck_assert_str_eq(c.log,
		"300 first 1\n"
		"300 tool 1 lookup_order call_1 {\"order\": \n");
}
END_TEST

START_TEST(test_llm_fault_range_and_concurrency)
{
	/* calls 2..3 delayed, call 4 fails, the rest healthy; requests in
	 * flight at once each keep their own schedule */
	static const struct vagent_fault faults[] = {
		{ .kind = VAGENT_FAULT_DELAY, .from_call = 2, .to_call = 3,
		  .delay_ms = 100 },
		{ .kind = VAGENT_FAULT_ERROR, .from_call = 4, .to_call = 4,
		  .delay_ms = 10 },
		{ .kind = VAGENT_FAULT_TIMEOUT, .from_call = 1 },
	};
	static const struct vagent_sim_rule rules[] = { { .reply = "ok" } };
	struct vagent_loop *loop = new_loop();
	struct vagent_sim_llm_config cfg = llm_config();
	struct vagent_brain *b;
	struct cap c;

	cap_init(&c, loop);
	cfg.rules = rules;
	cfg.n_rules = 1;
	cfg.faults = faults;
	cfg.n_faults = 2;
	b = llm_new(&cfg, &c);
	ask(b, 1, "a");
	run_until(loop, 50);
	ask(b, 2, "b");
	ask(b, 3, "c");
	ask(b, 4, "d");
	ask(b, 5, "e");
	run_idle(loop);
	ck_assert_str_eq(c.log,
		"60 error 4 EPROVIDER sim-llm: HTTP 500 (injected error)\n"
		"300 first 1\n" "300 text 1 [ok]\n" "300 done 1\n"
		"350 first 5\n" "350 text 5 [ok]\n" "350 done 5\n"
		"450 first 2\n" "450 text 2 [ok]\n" "450 done 2\n"
		"450 first 3\n" "450 text 3 [ok]\n" "450 done 3\n");
	vagent_brain_free(b);

	/* with the catch-all third fault, calls 1, 5 and 6 time out */
	cap_init(&c, loop);
	c.origin = vagent_loop_now(loop);
	cfg.n_faults = 3;
	b = llm_new(&cfg, &c);
	ask(b, 1, "a");
	ask(b, 2, "b");
	ask(b, 3, "c");
	ask(b, 4, "d");
	ask(b, 5, "e");
	ask(b, 6, "f");
	run_idle(loop);
	ck_assert_str_eq(c.log,
		"10 error 4 EPROVIDER sim-llm: HTTP 500 (injected error)\n"
		"400 first 2\n" "400 text 2 [ok]\n" "400 done 2\n"
		"400 first 3\n" "400 text 3 [ok]\n" "400 done 3\n");
	/* the timed-out requests still hold memory until cancel or free */
	b->ops->cancel(b, 1);
	vagent_brain_free(b);
	vagent_loop_free(loop);
}
END_TEST

START_TEST(test_llm_cancel_stop)
{
	struct vagent_loop *loop = new_loop();
	struct vagent_sim_llm_config cfg = llm_config();
	struct vagent_brain *b;
	struct cap c;

	cap_init(&c, loop);
	cfg.rules = shipped_rule;
	cfg.n_rules = 1;
	b = llm_new(&cfg, &c);
	ask(b, 1, "x");
	ask(b, 2, "x");
	run_until(loop, 330);
	b->ops->cancel(b, 1);
	run_idle(loop);
	ck_assert_str_eq(c.log,
		"300 first 1\n" "300 text 1 [Your]\n"
		"300 first 2\n" "300 text 2 [Your]\n"
		"320 text 1 [ ord]\n" "320 text 2 [ ord]\n"
		"340 text 2 [er s]\n" "360 text 2 [hipp]\n"
		"380 text 2 [ed.]\n" "380 done 2\n");

	/* cancel from inside on_text */
	cap_init(&c, loop);
	c.origin = vagent_loop_now(loop);
	c.brain = b;
	c.cancel_at_text = 2;
	ask(b, 3, "x");
	run_idle(loop);
	ck_assert_str_eq(c.log,
		"300 first 3\n" "300 text 3 [Your]\n" "320 text 3 [ ord]\n");

	/* stop: nothing more for any request; the provider still works */
	cap_init(&c, loop);
	c.origin = vagent_loop_now(loop);
	c.brain = b;
	ask(b, 4, "x");
	ask(b, 5, "x");
	run_until(loop, vagent_ticks_to_ms(c.origin) + 100);
	b->ops->stop(b);
	run_idle(loop);
	ck_assert_str_eq(c.log, "");

	/* free from inside on_text */
	c.free_at_text = 3;
	c.origin = vagent_loop_now(loop);
	ask(b, 6, "x");
	run_idle(loop);
	ck_assert_str_eq(c.log,
		"300 first 6\n" "300 text 6 [Your]\n" "320 text 6 [ ord]\n"
		"340 text 6 [er s]\n");
	ck_assert_ptr_null(c.brain);
	vagent_loop_free(loop);
}
END_TEST

static void llm_seq_log(uint64_t seed, struct cap *c)
{
	struct vagent_loop *loop = new_loop();
	struct vagent_sim_llm_config cfg = llm_config();
	struct vagent_brain *b;
	int i;

	cap_init(c, loop);
	cfg.ttft.jitter_ms = 200;
	cfg.seed = seed;
	b = llm_new(&cfg, c);
	for (i = 1; i <= 8; i++) {
		ask(b, (uint64_t)i, "hi");
		run_until(loop, 1000 * i);
	}
	run_idle(loop);
	vagent_brain_free(b);
	vagent_loop_free(loop);
}

START_TEST(test_llm_determinism)
{
	struct cap *a = calloc(1, sizeof(*a)), *b = calloc(1, sizeof(*b));

	llm_seq_log(42, a);
	llm_seq_log(42, b);
	ck_assert_str_eq(a->log, b->log);
	ck_assert_int_gt(a->len, 0);
	llm_seq_log(43, b);
	ck_assert_str_ne(a->log, b->log);
	free(a);
	free(b);
}
END_TEST

START_TEST(test_llm_config_errors)
{
	static const struct vagent_sim_rule bad[] = {
		{ .pattern = "ok", .reply = "a" },
		{ .pattern = "(unclosed", .reply = "b" },
	};
	static const struct vagent_fault bad_fault[] = {
		{ .kind = VAGENT_FAULT_DELAY, .from_call = 1 },
		{ .kind = VAGENT_FAULT_STALL, .from_call = 3, .to_call = 2 },
	};
	struct vagent_sim_llm_config cfg = llm_config();
	struct vagent_brain *b = NULL;
	struct vagent_error err;

	cfg.rules = bad;
	cfg.n_rules = 2;
	ck_assert_int_eq(vagent_sim_llm_new(&cfg, &b, &err), VAGENT_EINVAL);
	ck_assert_ptr_null(b);
	ck_assert_msg(strncmp(err.message,
			      "sim-llm: rules[1]: bad pattern '(unclosed': ", 44) == 0,
		      "%s", err.message);

	cfg = llm_config();
	cfg.tokens_per_sec = 0;
	ck_assert_int_eq(vagent_sim_llm_new(&cfg, &b, &err), VAGENT_EINVAL);
	ck_assert_str_eq(err.message,
			 "sim-llm: tokens_per_sec: must be > 0 (got 0)");

	cfg = llm_config();
	cfg.ttft.jitter_ms = -1;
	ck_assert_int_eq(vagent_sim_llm_new(&cfg, &b, &err), VAGENT_EINVAL);
	ck_assert_str_eq(err.message, "sim-llm: ttft: negative latency");

	cfg = llm_config();
	strcpy(cfg.name, "llm-b");
	cfg.faults = bad_fault;
	cfg.n_faults = 2;
	ck_assert_int_eq(vagent_sim_llm_new(&cfg, &b, &err), VAGENT_EINVAL);
	ck_assert_str_eq(err.message,
			 "llm-b: faults[1]: to_call is before from_call");
	cfg.faults = NULL;
	ck_assert_int_eq(vagent_sim_llm_new(&cfg, &b, &err), VAGENT_EINVAL);
	ck_assert_str_eq(err.message, "llm-b: faults: 2 faults but no list");

	cfg = llm_config();
	ck_assert_int_eq(vagent_sim_llm_new(NULL, &b, &err), VAGENT_EINVAL);
	ck_assert_int_eq(vagent_sim_llm_new(&cfg, NULL, &err), VAGENT_EINVAL);
}
END_TEST

START_TEST(test_llm_config_copied)
{
	/* the provider keeps its own copies of the rules' strings */
	char pattern[16] = "order", reply[32] = "Copied.";
	struct vagent_sim_rule rule = { .pattern = pattern, .reply = reply };
	struct vagent_loop *loop = new_loop();
	struct vagent_sim_llm_config cfg = llm_config();
	struct vagent_brain *b;
	struct cap c;

	cap_init(&c, loop);
	cfg.rules = &rule;
	cfg.n_rules = 1;
	strcpy(cfg.name, "brainy");
	b = llm_new(&cfg, &c);
	strcpy(pattern, "zzz");
	strcpy(reply, "Changed!");
	rule.reply = NULL;
	ck_assert_str_eq(b->name, "brainy");
	ask(b, 1, "order");
	run_idle(loop);
	ck_assert_str_eq(c.log,
		"300 first 1\n" "300 text 1 [Copi]\n" "320 text 1 [ed.]\n"
		"320 done 1\n");
	vagent_brain_free(b);
	vagent_loop_free(loop);
}
END_TEST

/* ---- sim STT ---- */

struct utterance {
	int start_ms, end_ms;
	const char *text;
};

/* Feeds a 20 ms frame every 20 ms of session time with the truth. */
struct feeder {
	struct cap *c;
	struct vagent_stt *stt;
	const struct utterance *utts;
	size_t n_utts;
	struct vagent_timer *timer;
	int64_t end;                    /* session time to stop feeding */
};

static void feed(struct vagent_timer *t, void *arg)
{
	struct feeder *fd = arg;
	struct vagent_frame f;
	struct vagent_speech_truth truth = { 0 };
	int64_t pts = vagent_loop_now(fd->c->loop) - fd->c->origin;
	size_t i;

	if (pts >= fd->end) {
		vagent_timer_stop(t);
		return;
	}
	ck_assert_int_eq(vagent_frame_init_20ms(&f, 16000, 1, pts), VAGENT_OK);
	for (i = 0; i < fd->n_utts; i++) {
		const struct utterance *u = &fd->utts[i];

		if (pts >= MS(u->start_ms) && pts < MS(u->end_ms)) {
			truth.speaking = true;
			truth.utterance = (int)i + 1;
			truth.text = u->text;
			truth.start = MS(u->start_ms);
			truth.end = MS(u->end_ms);
		}
	}
	if (fd->stt)
		fd->stt->ops->audio(fd->stt, &f, &truth);
}

static void stt_partial(void *ctx, const char *text)
{
	struct cap *c = ctx;

	logf_(c, "partial [%s]", text);
	c->n_partials++;
	if (c->n_partials == c->stop_at_partial)
		c->stt->ops->stop(c->stt);
}

static void stt_final(void *ctx, const char *text, double confidence)
{
	logf_(ctx, "final [%s] %.1f", text, confidence);
}

static void stt_error(void *ctx, vagent_status st, const char *message)
{
	logf_(ctx, "error %s %s", vagent_status_name(st), message);
}

static struct vagent_sim_stt_config stt_config(void)
{
	struct vagent_sim_stt_config cfg = vagent_sim_stt_config_default();

	cfg.first_partial.base_ms = 150;
	cfg.first_partial.jitter_ms = 0;
	cfg.final.base_ms = 120;
	cfg.final.jitter_ms = 0;
	return cfg;
}

static const struct utterance five_words[] = {
	{ 1000, 2000, "one two three four five" },
};

/* Run the utterances through a sim STT (loop origin at `origin_ms`). */
static void stt_run(const struct vagent_sim_stt_config *cfg,
		    const struct utterance *utts, size_t n, int origin_ms,
		    struct cap *c)
{
	struct vagent_loop *loop = new_loop();
	struct vagent_stt *stt = NULL;
	struct vagent_error err;
	struct feeder fd = { 0 };

	cap_init(c, loop);
	if (origin_ms)
		run_until(loop, origin_ms);
	c->origin = MS(origin_ms);
	ck_assert_int_eq(vagent_sim_stt_new(cfg, &stt, &err), VAGENT_OK);
	stt->loop = loop;
	stt->origin = c->origin;
	stt->on_partial = stt_partial;
	stt->on_final = stt_final;
	stt->on_error = stt_error;
	stt->ctx = c;
	c->stt = stt;
	fd.c = c;
	fd.stt = stt;
	fd.utts = utts;
	fd.n_utts = n;
	fd.end = MS(utts[n - 1].end_ms + 3000);
	fd.timer = vagent_timer_new(loop, feed, &fd);
	ck_assert_int_eq(vagent_timer_start_at(fd.timer, c->origin, MS(20), &err),
			 VAGENT_OK);
	run_idle(loop);
	vagent_timer_free(fd.timer);
	vagent_stt_free(stt);
	vagent_loop_free(loop);
}

#define FIVE_PARTIALS \
	"1150 partial [one]\n" \
	"1350 partial [one two]\n" \
	"1550 partial [one two three]\n" \
	"1750 partial [one two three four]\n" \
	"1950 partial [one two three four five]\n"

START_TEST(test_stt_partials_final)
{
	struct vagent_sim_stt_config cfg = stt_config();
	struct cap c;

	stt_run(&cfg, five_words, 1, 0, &c);
	ck_assert_str_eq(c.log,
		FIVE_PARTIALS
		"2120 final [one two three four five] 0.9\n");
	/* the same in session time with the session starting at 730 ms */
	stt_run(&cfg, five_words, 1, 730, &c);
	ck_assert_str_eq(c.log,
		FIVE_PARTIALS
		"2120 final [one two three four five] 0.9\n");
}
END_TEST

START_TEST(test_stt_utterances)
{
	/* several utterances; one without text (nothing, but it is call 2);
	 * odd spacing; a second utterance whose first partial is due
	 * before the first one's final */
	static const struct utterance utts[] = {
		{ 200, 600, "  Hello,   there  " },
		{ 1000, 1400, NULL },
		{ 2000, 2100, "yes" },
		{ 2200, 3000, "I need help" },
	};
	static const struct vagent_fault faults[] = {
		{ .kind = VAGENT_FAULT_DELAY, .from_call = 3, .to_call = 3,
		  .delay_ms = 1000 },
	};
	struct vagent_sim_stt_config cfg = stt_config();
	struct cap c;

	cfg.faults = faults;
	cfg.n_faults = 1;
	stt_run(&cfg, utts, 4, 0, &c);
	ck_assert_str_eq(c.log,
		"350 partial [Hello,]\n"
		"550 partial [Hello, there]\n"
		"720 final [Hello, there] 0.9\n"
		"2350 partial [I]\n"
		"2550 partial [I need]\n"
		"2750 partial [I need help]\n"
		"3120 final [I need help] 0.9\n"
		"3150 partial [yes]\n"
		"3220 final [yes] 0.9\n");
}
END_TEST

START_TEST(test_stt_faults)
{
	struct vagent_sim_stt_config cfg = stt_config();
	struct vagent_fault f = { .from_call = 1 };
	/* a second utterance: after an error the provider says nothing */
	static const struct utterance two[] = {
		{ 1000, 2000, "one two three four five" },
		{ 3000, 3500, "more words" },
	};
	struct cap c;

	cfg.faults = &f;
	cfg.n_faults = 1;

	f.kind = VAGENT_FAULT_DELAY;
	f.delay_ms = 500;
	stt_run(&cfg, five_words, 1, 0, &c);
	ck_assert_str_eq(c.log,
		"1650 partial [one two three four]\n"
		"1850 partial [one two three four five]\n"
		"2620 final [one two three four five] 0.9\n");

	f.kind = VAGENT_FAULT_TIMEOUT;
	stt_run(&cfg, five_words, 1, 0, &c);
	ck_assert_str_eq(c.log, FIVE_PARTIALS);

	f.kind = VAGENT_FAULT_ERROR;
	f.delay_ms = 100;
	f.http_status = 503;
	f.to_call = 1;
	stt_run(&cfg, two, 2, 0, &c);
	ck_assert_str_eq(c.log,
		"1100 error EPROVIDER sim: HTTP 503 (injected error)\n");
	f.to_call = 0;
	f.http_status = 0;

	f.kind = VAGENT_FAULT_STALL;
	f.after = 2;
	f.delay_ms = 1000;
	stt_run(&cfg, five_words, 1, 0, &c);
	ck_assert_str_eq(c.log,
		"1150 partial [one]\n"
		"1350 partial [one two]\n"
		"2550 partial [one two three four five]\n"
		"3120 final [one two three four five] 0.9\n");
	/* partials are held at `after` words until the stall */
	f.after = 1;
	f.delay_ms = 300;
	stt_run(&cfg, five_words, 1, 0, &c);
	ck_assert_str_eq(c.log,
		"1150 partial [one]\n"
		"1650 partial [one two three four]\n"
		"1850 partial [one two three four five]\n"
		"2420 final [one two three four five] 0.9\n");

	f.kind = VAGENT_FAULT_DISCONNECT;
	f.after = 2;
	stt_run(&cfg, two, 2, 0, &c);
	ck_assert_str_eq(c.log,
		"1150 partial [one]\n"
		"1350 partial [one two]\n"
		"1550 error EPROTO sim: connection closed mid-stream (injected)\n");
	f.after = 5;                    /* all words, then no final */
	stt_run(&cfg, five_words, 1, 0, &c);
	ck_assert_str_eq(c.log,
		FIVE_PARTIALS
		"2120 error EPROTO sim: connection closed mid-stream (injected)\n");

	f.kind = VAGENT_FAULT_MALFORMED;
	stt_run(&cfg, five_words, 1, 0, &c);
	ck_assert_str_eq(c.log,
		FIVE_PARTIALS
		"2120 final [\xff\xfe garbage] 0.9\n");
}
END_TEST

START_TEST(test_stt_word_errors)
{
	static const struct utterance utts[] = {
		{ 1000, 2000, "alpha bravo charlie delta echo" },
		{ 3000, 4000, "the a and in on to of for it at" },
	};
	struct vagent_sim_stt_config cfg = stt_config();
	struct cap c;
	const char *p;
	char final1[128], final2[128];

	cfg.word_error_rate = 1.0;
	stt_run(&cfg, utts, 2, 0, &c);
	p = strstr(c.log, "2120 final [");
	ck_assert_ptr_nonnull(p);
	ck_assert_int_eq(sscanf(p, "2120 final [%127[^]]] 0.6", final1), 1);
	ck_assert_ptr_nonnull(strstr(p, "] 0.6\n"));
	p = strstr(c.log, "4120 final [");
	ck_assert_ptr_nonnull(p);
	ck_assert_int_eq(sscanf(p, "4120 final [%127[^]]] 0.6", final2), 1);
	/* every word substituted by a different word */
	{
		const char *orig[] = { "alpha", "bravo", "charlie", "delta",
				       "echo" };
		const char *fillers[] = { "the", "a", "and", "in", "on", "to",
					  "of", "for", "it", "at" };
		char *save = NULL, *w;
		int i = 0;

		for (w = strtok_r(final1, " ", &save); w;
		     w = strtok_r(NULL, " ", &save), i++)
			ck_assert_str_ne(w, orig[i]);
		ck_assert_int_eq(i, 5);
		i = 0;
		for (w = strtok_r(final2, " ", &save); w;
		     w = strtok_r(NULL, " ", &save), i++)
			ck_assert_str_ne(w, fillers[i]);
		ck_assert_int_eq(i, 10);
	}
	/* the partials show the same substituted words */
	{
		char partial[128];

		p = strstr(c.log, "1950 partial [");
		ck_assert_ptr_nonnull(p);
		ck_assert_int_eq(sscanf(p, "1950 partial [%127[^]]]", partial), 1);
		p = strstr(c.log, "2120 final [");
		ck_assert_int_eq(strncmp(p + 12, partial, strlen(partial)), 0);
	}

	/* rate 0: exact words, confidence 0.9 */
	cfg.word_error_rate = 0;
	stt_run(&cfg, utts, 1, 0, &c);
	ck_assert_ptr_nonnull(strstr(c.log,
		"2120 final [alpha bravo charlie delta echo] 0.9\n"));
}
END_TEST

static void stt_seq_log(uint64_t seed, double wer, struct cap *c)
{
	static const struct utterance utts[] = {
		{ 500, 1500, "the quick brown fox jumps" },
		{ 2500, 3300, "over the lazy dog" },
		{ 4000, 5000, "and runs far away from here" },
	};
	struct vagent_sim_stt_config cfg = vagent_sim_stt_config_default();

	cfg.seed = seed;
	cfg.word_error_rate = wer;
	stt_run(&cfg, utts, 3, 0, c);
}

START_TEST(test_stt_determinism)
{
	struct cap *a = calloc(1, sizeof(*a)), *b = calloc(1, sizeof(*b));

	stt_seq_log(7, 0.3, a);
	stt_seq_log(7, 0.3, b);
	ck_assert_str_eq(a->log, b->log);
	ck_assert_int_gt(a->len, 0);
	stt_seq_log(8, 0.3, b);
	ck_assert_str_ne(a->log, b->log);
	free(a);
	free(b);
}
END_TEST

START_TEST(test_stt_stop)
{
	struct vagent_sim_stt_config cfg = stt_config();
	struct vagent_loop *loop;
	struct cap c;

	/* stop from inside on_partial: nothing more */
	loop = new_loop();
	{
		struct vagent_stt *stt = NULL;
		struct vagent_error err;
		struct feeder fd = { 0 };

		cap_init(&c, loop);
		c.stop_at_partial = 2;
		ck_assert_int_eq(vagent_sim_stt_new(&cfg, &stt, &err), VAGENT_OK);
		ck_assert_str_eq(stt->name, "sim");
		stt->loop = loop;
		stt->on_partial = stt_partial;
		stt->on_final = stt_final;
		stt->on_error = stt_error;
		stt->ctx = &c;
		c.stt = stt;
		fd.c = &c;
		fd.stt = stt;
		fd.utts = five_words;
		fd.n_utts = 1;
		fd.end = MS(1800);
		fd.timer = vagent_timer_new(loop, feed, &fd);
		ck_assert_int_eq(vagent_timer_start_at(fd.timer, 0, MS(20), &err),
				 VAGENT_OK);
		run_idle(loop);
		ck_assert_str_eq(c.log,
			"1150 partial [one]\n" "1350 partial [one two]\n");
		/* free with an utterance in flight */
		fd.end = MS(6000);
		{
			static const struct utterance later[] = {
				{ 1000, 2000, "x" }, { 3000, 4000, "y z" },
			};

			fd.utts = later;
			fd.n_utts = 2;
		}
		ck_assert_int_eq(vagent_timer_start(fd.timer, 0, MS(20), &err),
				 VAGENT_OK);
		run_until(loop, 3500);
		vagent_stt_free(stt);
		fd.stt = NULL;
		run_idle(loop);
		ck_assert_str_eq(c.log,
			"1150 partial [one]\n" "1350 partial [one two]\n");
		vagent_timer_free(fd.timer);
	}
	vagent_loop_free(loop);
}
END_TEST

START_TEST(test_stt_config_errors)
{
	struct vagent_sim_stt_config cfg = stt_config();
	struct vagent_fault f = { .kind = (vagent_fault_kind)99 };
	struct vagent_stt *stt = NULL;
	struct vagent_error err;

	cfg.word_error_rate = 1.5;
	ck_assert_int_eq(vagent_sim_stt_new(&cfg, &stt, &err), VAGENT_EINVAL);
	ck_assert_str_eq(err.message,
			 "sim: word_error_rate: must be 0..1 (got 1.5)");
	cfg = stt_config();
	cfg.partial_interval_ms = 0;
	ck_assert_int_eq(vagent_sim_stt_new(&cfg, &stt, &err), VAGENT_EINVAL);
	ck_assert_str_eq(err.message,
			 "sim: partial_interval_ms: must be 1..60000 (got 0)");
	cfg = stt_config();
	cfg.final.base_ms = -5;
	ck_assert_int_eq(vagent_sim_stt_new(&cfg, &stt, &err), VAGENT_EINVAL);
	ck_assert_str_eq(err.message, "sim: final: negative latency");
	cfg = stt_config();
	cfg.faults = &f;
	cfg.n_faults = 1;
	ck_assert_int_eq(vagent_sim_stt_new(&cfg, &stt, &err), VAGENT_EINVAL);
	ck_assert_str_eq(err.message, "sim: faults[0]: unknown kind");
	f.kind = VAGENT_FAULT_STALL;
	f.after = -1;
	ck_assert_int_eq(vagent_sim_stt_new(&cfg, &stt, &err), VAGENT_EINVAL);
	ck_assert_str_eq(err.message, "sim: faults[0]: after is negative");
	ck_assert_ptr_null(stt);
}
END_TEST

/* ---- sim TTS ---- */

static void tts_audio(void *ctx, uint64_t id, const int16_t *samples,
		      size_t n)
{
	struct cap *c = ctx;

	(void)samples;
	logf_(c, "audio %llu %zu", (unsigned long long)id, n);
	c->samples += n;
	c->n_chunks++;
	if (c->n_chunks == c->cancel_at_chunk)
		c->tts->ops->cancel(c->tts, id);
}

static void tts_done(void *ctx, uint64_t id)
{
	logf_(ctx, "done %llu", (unsigned long long)id);
}

static void tts_error(void *ctx, uint64_t id, vagent_status st,
		      const char *message)
{
	logf_(ctx, "error %llu %s %s", (unsigned long long)id,
	      vagent_status_name(st), message);
}

static struct vagent_sim_tts_config tts_config(void)
{
	struct vagent_sim_tts_config cfg = vagent_sim_tts_config_default();

	cfg.first_byte.base_ms = 120;
	cfg.first_byte.jitter_ms = 0;
	cfg.realtime_factor = 5;
	cfg.chunk_ms = 100;
	return cfg;
}

static struct vagent_tts *tts_new(const struct vagent_sim_tts_config *cfg,
				  struct cap *c)
{
	struct vagent_tts *t = NULL;
	struct vagent_error err;

	ck_assert_int_eq(vagent_sim_tts_new(cfg, &t, &err), VAGENT_OK);
	t->loop = c->loop;
	t->origin = c->origin;
	t->on_audio = tts_audio;
	t->on_done = tts_done;
	t->on_error = tts_error;
	t->ctx = c;
	c->tts = t;
	return t;
}

static void say(struct vagent_tts *t, uint64_t id, const char *text)
{
	struct vagent_error err;

	ck_assert_int_eq(t->ops->speak(t, id, text, 16000, &err), VAGENT_OK);
}

#define SENTENCE "Your order has shipped and will arrive on Monday."

/* Samples the synthesiser makes for `text` at 16 kHz. */
static size_t synth_len(const char *text)
{
	struct vagent_audio *a = NULL;
	struct vagent_error err;
	size_t n;

	ck_assert_int_eq(vagent_speechlike_synth(text, 16000, 1, &a, &err),
			 VAGENT_OK);
	n = a->frames;
	vagent_audio_free(a);
	return n;
}

/* The expected log of an undisturbed sentence: chunks from t0 every
 * `gap` ms (1600 samples), the last one short, done with it. */
static void expect_chunks(char *buf, size_t cap, uint64_t id, int t0, int gap,
			  size_t total)
{
	size_t len = 0, sent = 0;
	int t = t0;

	buf[0] = '\0';
	while (sent < total) {
		size_t k = total - sent < 1600 ? total - sent : 1600;

		len += (size_t)snprintf(buf + len, cap - len,
					"%d audio %llu %zu\n", t,
					(unsigned long long)id, k);
		sent += k;
		if (sent < total)
			t += gap;
	}
	snprintf(buf + len, cap - len, "%d done %llu\n", t,
		 (unsigned long long)id);
}

START_TEST(test_tts_stream)
{
	struct vagent_loop *loop = new_loop();
	struct vagent_sim_tts_config cfg = tts_config();
	struct vagent_tts *t;
	struct cap c;
	size_t total = synth_len(SENTENCE);
	char want[4096];

	ck_assert_int_gt(total, 16000);         /* over a second of speech */
	cap_init(&c, loop);
	t = tts_new(&cfg, &c);
	ck_assert_str_eq(t->name, "sim-tts");
	say(t, 1, SENTENCE);
	ck_assert_int_eq(c.len, 0);
	run_idle(loop);
	expect_chunks(want, sizeof(want), 1, 120, 20, total);
	ck_assert_str_eq(c.log, want);
	ck_assert_uint_eq(c.samples, total);

	/* nothing to say: done at first byte, no audio */
	cap_init(&c, loop);
	c.origin = vagent_loop_now(loop);
	c.tts = t;
	say(t, 2, "...");
	run_idle(loop);
	ck_assert_str_eq(c.log, "120 done 2\n");

	/* a bad rate fails at once */
	{
		struct vagent_error err;

		ck_assert_int_eq(t->ops->speak(t, 3, "hi", 0, &err),
				 VAGENT_EINVAL);
		ck_assert_str_eq(err.message, "sim-tts: bad sample rate 0");
	}
	vagent_tts_free(t);
	vagent_loop_free(loop);
}
END_TEST

START_TEST(test_tts_samples)
{
	/* the audio is the synthesiser's, in int16, different per call */
	struct vagent_loop *loop = new_loop();
	struct vagent_sim_tts_config cfg = tts_config();
	struct vagent_tts *t;
	struct cap c;
	size_t total = synth_len("Hello there.");

	cap_init(&c, loop);
	t = tts_new(&cfg, &c);
	say(t, 1, "Hello there.");
	say(t, 2, "Hello there.");
	run_idle(loop);
	ck_assert_uint_eq(c.samples, 2 * total);
	vagent_tts_free(t);
	vagent_loop_free(loop);
}
END_TEST

static void tts_fault_log(const struct vagent_fault *f, struct cap *c)
{
	struct vagent_loop *loop = new_loop();
	struct vagent_sim_tts_config cfg = tts_config();
	struct vagent_tts *t;

	cap_init(c, loop);
	cfg.faults = f;
	cfg.n_faults = 1;
	t = tts_new(&cfg, c);
	say(t, 1, SENTENCE);
	run_idle(loop);
	vagent_tts_free(t);
	vagent_loop_free(loop);
}

START_TEST(test_tts_faults)
{
	struct vagent_fault f = { .from_call = 1 };
	size_t total = synth_len(SENTENCE);
	struct cap c;
	char want[4096];

	f.kind = VAGENT_FAULT_DELAY;
	f.delay_ms = 700;
	tts_fault_log(&f, &c);
	expect_chunks(want, sizeof(want), 1, 820, 20, total);
	ck_assert_str_eq(c.log, want);

	f.kind = VAGENT_FAULT_TIMEOUT;
	tts_fault_log(&f, &c);
	ck_assert_str_eq(c.log, "");

	f.kind = VAGENT_FAULT_ERROR;
	f.delay_ms = 30;
	f.http_status = 429;
	tts_fault_log(&f, &c);
	ck_assert_str_eq(c.log,
		"30 error 1 EPROVIDER sim-tts: HTTP 429 (injected error)\n");
	f.http_status = 0;

	f.kind = VAGENT_FAULT_STALL;
	f.after = 200;
	f.delay_ms = 500;
	tts_fault_log(&f, &c);
	ck_assert_int_eq(strncmp(c.log,
		"120 audio 1 1600\n"
		"140 audio 1 1600\n"
		"660 audio 1 1600\n"
		"680 audio 1 1600\n", 68), 0);
	ck_assert_uint_eq(c.samples, total);
	expect_chunks(want, sizeof(want), 1, 620, 20, total);
	/* from the stall on, 500 ms later than undisturbed */
	ck_assert_str_eq(strstr(c.log, "660 audio"), strstr(want, "660 audio"));

	f.kind = VAGENT_FAULT_DISCONNECT;
	f.after = 250;                  /* at the next chunk boundary, 300 */
	tts_fault_log(&f, &c);
	ck_assert_str_eq(c.log,
		"120 audio 1 1600\n"
		"140 audio 1 1600\n"
		"160 audio 1 1600\n"
		"180 error 1 EPROTO sim-tts: stream closed mid-audio (injected)\n");

	f.kind = VAGENT_FAULT_MALFORMED;
	tts_fault_log(&f, &c);
	ck_assert_str_eq(c.log,
		"120 error 1 EPROTO sim-tts: malformed audio chunk (injected)\n");
}
END_TEST

START_TEST(test_tts_concurrent_cancel)
{
	struct vagent_loop *loop = new_loop();
	struct vagent_sim_tts_config cfg = tts_config();
	static const struct vagent_fault f = {
		.kind = VAGENT_FAULT_DELAY, .from_call = 2, .to_call = 2,
		.delay_ms = 10,
	};
	struct vagent_tts *t;
	struct cap c;

	cfg.faults = &f;
	cfg.n_faults = 1;
	cap_init(&c, loop);
	t = tts_new(&cfg, &c);
	say(t, 1, SENTENCE);
	say(t, 2, SENTENCE);
	run_until(loop, 150);
	t->ops->cancel(t, 1);
	c.cancel_at_chunk = 5;          /* request 2's third chunk */
	run_idle(loop);
	ck_assert_str_eq(c.log,
		"120 audio 1 1600\n"
		"130 audio 2 1600\n"
		"140 audio 1 1600\n"
		"150 audio 2 1600\n"
		"170 audio 2 1600\n");

	/* stop: everything ends */
	cap_init(&c, loop);
	c.origin = vagent_loop_now(loop);
	c.tts = t;
	say(t, 3, SENTENCE);
	say(t, 4, SENTENCE);
	run_until(loop, vagent_ticks_to_ms(c.origin) + 125);
	t->ops->stop(t);
	run_idle(loop);
	ck_assert_str_eq(c.log, "120 audio 3 1600\n" "120 audio 4 1600\n");
	/* free with requests in flight */
	say(t, 5, SENTENCE);
	vagent_tts_free(t);
	run_idle(loop);
	vagent_loop_free(loop);
}
END_TEST

START_TEST(test_tts_config_errors)
{
	struct vagent_sim_tts_config cfg = tts_config();
	struct vagent_tts *t = NULL;
	struct vagent_error err;

	cfg.realtime_factor = 0;
	ck_assert_int_eq(vagent_sim_tts_new(&cfg, &t, &err), VAGENT_EINVAL);
	ck_assert_str_eq(err.message,
			 "sim-tts: realtime_factor: must be > 0 (got 0)");
	cfg = tts_config();
	cfg.chunk_ms = 0;
	ck_assert_int_eq(vagent_sim_tts_new(&cfg, &t, &err), VAGENT_EINVAL);
	ck_assert_str_eq(err.message,
			 "sim-tts: chunk_ms: must be 1..60000 (got 0)");
	ck_assert_ptr_null(t);
}
END_TEST

/* ---- sim tools ---- */

static void tool_result(void *ctx, uint64_t id, vagent_status st,
			const char *result)
{
	logf_(ctx, "result %llu %s %s", (unsigned long long)id,
	      vagent_status_name(st), result);
}

static const struct vagent_fault order_faults[] = {
	{ .kind = VAGENT_FAULT_DELAY, .from_call = 1, .to_call = 1,
	  .delay_ms = 300 },
	{ .kind = VAGENT_FAULT_TIMEOUT, .from_call = 2, .to_call = 2 },
	{ .kind = VAGENT_FAULT_ERROR, .from_call = 3, .to_call = 3,
	  .delay_ms = 50, .http_status = 503 },
	{ .kind = VAGENT_FAULT_STALL, .from_call = 4, .to_call = 4,
	  .delay_ms = 100 },
	{ .kind = VAGENT_FAULT_DISCONNECT, .from_call = 5, .to_call = 5,
	  .delay_ms = 10 },
	{ .kind = VAGENT_FAULT_MALFORMED, .from_call = 6, .to_call = 6 },
	{ .kind = VAGENT_FAULT_ERROR, .from_call = 7, .to_call = 7 },
};

static struct vagent_tools *tools_new(struct cap *c, size_t n_faults,
				      uint64_t seed, int jitter)
{
	struct vagent_sim_tool tools[2] = {
		{ .name = "lookup_order", .result = "{\"status\":\"shipped\"}",
		  .latency = { 200, jitter }, .faults = order_faults,
		  .n_faults = n_faults },
		{ .name = "balance", .latency = { 80, jitter } },
	};
	struct vagent_sim_tools_config cfg = { .tools = tools, .n_tools = 2,
					       .seed = seed };
	struct vagent_tools *t = NULL;
	struct vagent_error err;

	ck_assert_int_eq(vagent_sim_tools_new(&cfg, &t, &err), VAGENT_OK);
	t->loop = c->loop;
	t->origin = c->origin;
	t->on_result = tool_result;
	t->ctx = c;
	return t;
}

static void use(struct vagent_tools *t, uint64_t id, const char *name)
{
	struct vagent_error err;

	ck_assert_int_eq(t->ops->call(t, id, name, "{}", &err), VAGENT_OK);
}

START_TEST(test_tools)
{
	struct vagent_loop *loop = new_loop();
	struct vagent_tools *t;
	struct cap c;
	int i;

	cap_init(&c, loop);
	t = tools_new(&c, 0, 0, 0);
	ck_assert_str_eq(t->name, "sim-tools");
	use(t, 1, "lookup_order");
	use(t, 2, "balance");
	use(t, 3, "refund");
	ck_assert_int_eq(c.len, 0);
	run_idle(loop);
	ck_assert_str_eq(c.log,
		"0 result 3 EINVAL sim-tools: unknown tool 'refund'\n"
		"80 result 2 OK {}\n"
		"200 result 1 OK {\"status\":\"shipped\"}\n");
	vagent_tools_free(t);

	/* faults count lookup_order's calls only */
	cap_init(&c, loop);
	c.origin = vagent_loop_now(loop);
	t = tools_new(&c, 7, 0, 0);
	use(t, 100, "balance");
	for (i = 1; i <= 8; i++)
		use(t, (uint64_t)i, "lookup_order");
	run_idle(loop);
	ck_assert_str_eq(c.log,
		"0 result 7 EPROVIDER sim-tools: tool 'lookup_order' returned "
		"HTTP 500 (injected error)\n"
		"10 result 5 EIO sim-tools: tool 'lookup_order': connection "
		"reset (injected)\n"
		"50 result 3 EPROVIDER sim-tools: tool 'lookup_order' returned "
		"HTTP 503 (injected error)\n"
		"80 result 100 OK {}\n"
		"200 result 6 OK {\"balance\": \n"
		"200 result 8 OK {\"status\":\"shipped\"}\n"
		"300 result 4 OK {\"status\":\"shipped\"}\n"
		"500 result 1 OK {\"status\":\"shipped\"}\n");
	vagent_tools_free(t);   /* call 2 never answered: freed here */

	/* cancel and stop */
	cap_init(&c, loop);
	c.origin = vagent_loop_now(loop);
	t = tools_new(&c, 0, 0, 0);
	use(t, 1, "lookup_order");
	use(t, 2, "balance");
	use(t, 3, "nope");
	t->ops->cancel(t, 1);
	t->ops->cancel(t, 3);
	run_idle(loop);
	ck_assert_str_eq(c.log, "80 result 2 OK {}\n");
	use(t, 4, "lookup_order");
	t->ops->stop(t);
	run_idle(loop);
	ck_assert_str_eq(c.log, "80 result 2 OK {}\n");
	vagent_tools_free(t);
	vagent_loop_free(loop);
}
END_TEST

static void tools_seq_log(uint64_t seed, struct cap *c)
{
	struct vagent_loop *loop = new_loop();
	struct vagent_tools *t;
	int i;

	cap_init(c, loop);
	t = tools_new(c, 0, seed, 150);
	for (i = 0; i < 10; i++)
		use(t, (uint64_t)i, i % 3 ? "lookup_order" : "balance");
	run_idle(loop);
	vagent_tools_free(t);
	vagent_loop_free(loop);
}

START_TEST(test_tools_determinism_config)
{
	struct cap *a = calloc(1, sizeof(*a)), *b = calloc(1, sizeof(*b));
	struct vagent_sim_tool dup[2] = {
		{ .name = "x" }, { .name = "x" },
	};
	struct vagent_sim_tools_config cfg = { .tools = dup, .n_tools = 2 };
	struct vagent_tools *t = NULL;
	struct vagent_error err;

	tools_seq_log(5, a);
	tools_seq_log(5, b);
	ck_assert_str_eq(a->log, b->log);
	tools_seq_log(6, b);
	ck_assert_str_ne(a->log, b->log);
	free(a);
	free(b);

	ck_assert_int_eq(vagent_sim_tools_new(&cfg, &t, &err), VAGENT_EINVAL);
	ck_assert_str_eq(err.message,
			 "sim-tools: tools[1]: 'x' is already tools[0]");
	dup[1].name = "y";
	dup[1].latency.base_ms = -1;
	strcpy(cfg.name, "crm");
	ck_assert_int_eq(vagent_sim_tools_new(&cfg, &t, &err), VAGENT_EINVAL);
	ck_assert_str_eq(err.message, "crm: tools[1].latency: negative latency");
	dup[1].latency.base_ms = 0;
	dup[1].n_faults = 1;
	ck_assert_int_eq(vagent_sim_tools_new(&cfg, &t, &err), VAGENT_EINVAL);
	ck_assert_str_eq(err.message,
			 "crm: tools[1].faults: 1 faults but no list");
	dup[1].n_faults = 0;
	dup[0].name = "";
	ck_assert_int_eq(vagent_sim_tools_new(&cfg, &t, &err), VAGENT_EINVAL);
	ck_assert_str_eq(err.message, "crm: tools[0]: no name");
	ck_assert_ptr_null(t);
	dup[0].name = "a";
	ck_assert_int_eq(vagent_sim_tools_new(&cfg, &t, &err), VAGENT_OK);
	ck_assert_str_eq(t->name, "crm");
	vagent_tools_free(t);
}
END_TEST

Suite *suite_sim_providers(void)
{
	Suite *s = suite_create("sim_providers");
	TCase *tc = tcase_create("core");

	tcase_add_test(tc, test_fault_names);
	tcase_add_test(tc, test_llm_stream);
	tcase_add_test(tc, test_llm_greeting_fallback_rules);
	tcase_add_test(tc, test_llm_tool);
	tcase_add_test(tc, test_llm_escalate);
	tcase_add_test(tc, test_llm_faults);
	tcase_add_test(tc, test_llm_fault_range_and_concurrency);
	tcase_add_test(tc, test_llm_cancel_stop);
	tcase_add_test(tc, test_llm_determinism);
	tcase_add_test(tc, test_llm_config_errors);
	tcase_add_test(tc, test_llm_config_copied);
	tcase_add_test(tc, test_stt_partials_final);
	tcase_add_test(tc, test_stt_utterances);
	tcase_add_test(tc, test_stt_faults);
	tcase_add_test(tc, test_stt_word_errors);
	tcase_add_test(tc, test_stt_determinism);
	tcase_add_test(tc, test_stt_stop);
	tcase_add_test(tc, test_stt_config_errors);
	tcase_add_test(tc, test_tts_stream);
	tcase_add_test(tc, test_tts_samples);
	tcase_add_test(tc, test_tts_faults);
	tcase_add_test(tc, test_tts_concurrent_cancel);
	tcase_add_test(tc, test_tts_config_errors);
	tcase_add_test(tc, test_tools);
	tcase_add_test(tc, test_tools_determinism_config);
	suite_add_tcase(s, tc);
	return s;
}
