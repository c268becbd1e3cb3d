/*
 * check_flow.c — the flow brain driven directly on a virtual loop, through
 * conversations with fixtures/agents/test-store.json: every callback is
 * logged ("first", "text ...", "tool NAME ARGS", "result ...", "escalate
 * REASON", "done") and tool calls run on the agent's mock tools (sim
 * tools) behind the knowledge tools provider, as the session would run
 * them. Order status (first utterance, two turns, DTMF, recognition
 * errors), refunds with confirmation, guard limit, tool failure,
 * knowledge answers with their source, misunderstandings, human request,
 * opt-out, goodbye, repeat, intent switch, cancel and stop, determinism.
 */
#include <check.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cjson/cJSON.h>

#include "vagent.h"
#include "support/harness.h"

struct drv {
	struct vagent_loop *loop;
	struct vagent_agent *agent;
	struct vagent_brain *brain;
	struct vagent_tools *tools;
	char log[32768];
	size_t len;
	char reply[4096];
	char reason[64];
	char *package;
	char call_id[64];
	uint64_t id;
	int turn;
	int n_text, n_done, n_tools;
	bool cancel_at_text, stop_at_text, cancel_at_tool;
};

static void logf_(struct drv *d, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static void logf_(struct drv *d, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	d->len += (size_t)vsnprintf(d->log + d->len, sizeof(d->log) - d->len,
				    fmt, ap);
	va_end(ap);
	ck_assert_uint_lt(d->len, sizeof(d->log) - 1);
}

static void on_first(void *ctx, uint64_t id)
{
	struct drv *d = ctx;

	ck_assert_uint_eq(id, d->id);
	logf_(d, "first\n");
}

static void on_text(void *ctx, uint64_t id, const char *delta)
{
	struct drv *d = ctx;

	ck_assert_uint_eq(id, d->id);
	logf_(d, "text %s\n", delta);
	strncat(d->reply, delta, sizeof(d->reply) - strlen(d->reply) - 1);
	d->n_text++;
	if (d->cancel_at_text)
		d->brain->ops->cancel(d->brain, id);
	if (d->stop_at_text)
		d->brain->ops->stop(d->brain);
}

static void on_result(void *ctx, uint64_t id, vagent_status st,
		      const char *result)
{
	struct drv *d = ctx;

	logf_(d, "result %s %s\n", vagent_status_name(st), result);
	d->brain->ops->tool_result(d->brain, id, d->call_id, st, result);
}

static void on_tool(void *ctx, uint64_t id, const char *name,
		    const char *call_id, const char *args)
{
	struct drv *d = ctx;
	struct vagent_error err;

	logf_(d, "tool %s %s\n", name, args);
	d->n_tools++;
	snprintf(d->call_id, sizeof(d->call_id), "%s", call_id);
	ck_assert_int_eq(d->tools->ops->call(d->tools, id, name, args, &err),
			 VAGENT_OK);
	if (d->cancel_at_tool)
		d->brain->ops->cancel(d->brain, id);
}

static void on_escalate(void *ctx, uint64_t id, const char *reason,
			const char *package)
{
	struct drv *d = ctx;

	ck_assert_uint_eq(id, d->id);
	logf_(d, "escalate %s\n", reason);
	snprintf(d->reason, sizeof(d->reason), "%s", reason);
	free(d->package);
	d->package = strdup(package);
}

static void on_expect_digits(void *ctx, uint64_t id, int digits)
{
	struct drv *d = ctx;

	ck_assert_uint_eq(id, d->id);
	logf_(d, "expect %d digits\n", digits);
}

static void on_sensitive(void *ctx, uint64_t id, bool on)
{
	struct drv *d = ctx;

	ck_assert_uint_eq(id, d->id);
	logf_(d, "sensitive %s\n", on ? "on" : "off");
}

static void on_hangup(void *ctx, uint64_t id)
{
	struct drv *d = ctx;

	ck_assert_uint_eq(id, d->id);
	logf_(d, "hangup\n");
}

static void on_done(void *ctx, uint64_t id)
{
	struct drv *d = ctx;

	ck_assert_uint_eq(id, d->id);
	logf_(d, "done\n");
	d->n_done++;
}

static void on_error(void *ctx, uint64_t id, vagent_status st, const char *msg)
{
	struct drv *d = ctx;

	(void)id;
	logf_(d, "error %s %s\n", vagent_status_name(st), msg);
}

/* A driver for the agent file `rel`; `fault` (kind NONE: none) applies
 * to the order_status tool's calls. */
static void drv_init_agent(struct drv *d, const char *rel,
			   struct vagent_fault fault)
{
	struct vagent_loop_config lc = vagent_loop_config_default();
	struct vagent_flow_config fc = vagent_flow_config_default();
	struct vagent_sim_tools_config tc;
	struct vagent_sim_tool st[8];
	struct vagent_tools *sim = NULL;
	struct vagent_error err;
	size_t i;

	memset(d, 0, sizeof(*d));
	lc.clock = VAGENT_CLOCK_VIRTUAL;
	lc.workers = 0;
	ck_assert_int_eq(vagent_loop_new(&lc, &d->loop, &err), VAGENT_OK);
	ck_assert_msg(vagent_agent_load(top_path(rel), &d->agent, &err) == VAGENT_OK,
		      "%s", err.message);
	fc.reference_date = "2026-12-01";
	ck_assert_int_eq(vagent_flow_brain_new(d->agent, &fc, &d->brain, &err),
			 VAGENT_OK);
	ck_assert_str_eq(d->brain->name, "flow");
	d->brain->loop = d->loop;
	d->brain->on_first_token = on_first;
	d->brain->on_text = on_text;
	d->brain->on_tool_call = on_tool;
	d->brain->on_escalate = on_escalate;
	d->brain->on_hangup = on_hangup;
	d->brain->on_expect_digits = on_expect_digits;
	d->brain->on_sensitive = on_sensitive;
	d->brain->on_done = on_done;
	d->brain->on_error = on_error;
	d->brain->ctx = d;

	memset(&tc, 0, sizeof(tc));
	memset(st, 0, sizeof(st));
	ck_assert_uint_le(d->agent->n_tools, 8);
	for (i = 0; i < d->agent->n_tools; i++) {
		const struct vagent_tool_def *t = &d->agent->tools[i];

		st[i].name = t->name;
		st[i].result = t->mock_result;
		st[i].latency = t->mock_latency;
		if (fault.kind != VAGENT_FAULT_NONE &&
		    strcmp(t->name, "order_status") == 0) {
			st[i].faults = &fault;
			st[i].n_faults = 1;
		}
	}
	tc.tools = st;
	tc.n_tools = d->agent->n_tools;
	ck_assert_int_eq(vagent_sim_tools_new(&tc, &sim, &err), VAGENT_OK);
	ck_assert_msg(vagent_knowledge_tools_new(d->agent, sim, &d->tools, &err)
		      == VAGENT_OK, "%s", err.message);
	d->tools->loop = d->loop;
	d->tools->on_result = on_result;
	d->tools->ctx = d;
}

/* A driver for the test store. */
static void drv_init(struct drv *d, struct vagent_fault fault)
{
	drv_init_agent(d, "fixtures/agents/test-store.json", fault);
}

static void drv_free(struct drv *d)
{
	vagent_brain_free(d->brain);
	vagent_tools_free(d->tools);
	vagent_agent_free(d->agent);
	vagent_loop_free(d->loop);
	free(d->package);
}

static void run_idle(struct drv *d)
{
	struct vagent_error err;

	ck_assert_int_eq(vagent_loop_run(d->loop, VAGENT_RUN_UNTIL_IDLE, &err),
			 VAGENT_OK);
}

/* One caller turn (text and DTMF digits, either may be NULL); the reply. */
static const char *say_dtmf(struct drv *d, const char *text, const char *dtmf)
{
	struct vagent_brain_request req = { 0 };
	struct vagent_error err;
	size_t before, n;

	d->reply[0] = '\0';
	d->reason[0] = '\0';
	req.id = ++d->id;
	req.turn = ++d->turn;
	req.caller_text = text ? text : "";
	req.dtmf = dtmf;
	req.greeting = text == NULL && dtmf == NULL;
	logf_(d, "> %s%s%s\n", text ? text : "(greeting)", dtmf ? " #" : "",
	      dtmf ? dtmf : "");
	before = d->len;
	ck_assert_int_eq(d->brain->ops->respond(d->brain, &req, &err), VAGENT_OK);
	ck_assert_uint_eq(d->len, before);  /* never answers inside respond() */
	run_idle(d);
	/* (the space a hand-off's last sentence ends with: test_guard_limit) */
	n = strlen(d->reply);
	if (n && d->reply[n - 1] == ' ')
		d->reply[n - 1] = '\0';
	return d->reply;
}

static const char *say(struct drv *d, const char *text)
{
	return say_dtmf(d, text, NULL);
}

static void greet(struct drv *d)
{
	ck_assert_str_eq(say_dtmf(d, NULL, NULL), d->agent->greeting);
}

/* The log since the last caller line. */
static const char *last_turn_log(const struct drv *d)
{
	const char *p = d->log + d->len;

	while (p > d->log && !(p[-1] == '\n' && p[0] == '>'))
		p--;
	return strchr(p, '\n') + 1;
}

/* The package's member `key` (a string), or "". */
static const char *pkg_str(const cJSON *pkg, const char *key)
{
	const cJSON *j = cJSON_GetObjectItemCaseSensitive(pkg, key);

	return cJSON_IsString(j) ? j->valuestring : "";
}

static const char *const ORDER_REPLY =
	"Order 1 2 3 4 5 is shipped. It arrives on Friday, December 4th with "
	"a blue kettle and two mugs.";

/* A card slot (fixtures/agents/pay.json): PCI mode while it is asked
 * for, DTMF digits that pass the Luhn check, the tool gets the number and
 * nothing else does (the reply says the last four, the package masks it). */
START_TEST(test_card_slot_by_keys)
{
	struct drv d;
	struct vagent_fault none = { 0 };
	cJSON *pkg;
	char *text;

	drv_init_agent(&d, "fixtures/agents/pay.json", none);
	greet(&d);
	ck_assert_str_eq(say(&d, "i want to pay my balance"),
			 "Sure. Please enter your card number on your keypad, then press hash.");
	ck_assert_str_eq(last_turn_log(&d), "sensitive on\nfirst\n"
			 "text Sure. \ntext Please enter your card number on your keypad, then "
			 "press hash.\ndone\n");
	/* a typo: Luhn fails, asked again, still in PCI mode */
	ck_assert_str_eq(say_dtmf(&d, "", "4111111111111112#"),
			 "Sorry, that card number is not valid. Please enter it again, then press hash.");
	ck_assert_ptr_null(strstr(last_turn_log(&d), "sensitive"));
	ck_assert_str_eq(say_dtmf(&d, "", "4111111111111111#"),
			 "Thank you. The payment of 25 dollars with the card ending 1111 is "
			 "approved, reference P-31.");
	ck_assert_ptr_nonnull(strstr(last_turn_log(&d), "sensitive off\nfirst\n"
				     "tool take_payment {\"card_number\":\"4111111111111111\","
				     "\"amount\":25}\n"));
	/* the package: slots masked, the tool's args and the transcript redacted */
	ck_assert_str_eq(say(&d, "let me talk to a real person"),
			 d.agent->escalation.human_reply);
	ck_assert_ptr_nonnull(d.package);
	ck_assert(!vagent_card_number_find(d.package, NULL, NULL));
	ck_assert_msg(strstr(d.package, "411111") == NULL, "%s", d.package);
	pkg = cJSON_Parse(d.package);
	ck_assert_ptr_nonnull(pkg);
	text = cJSON_PrintUnformatted(cJSON_GetObjectItemCaseSensitive(pkg, "actions"));
	ck_assert_str_eq(text, "[{\"tool\":\"take_payment\",\"args\":{\"card_number\":"
			 "\"************1111\",\"amount\":25},\"outcome\":\"ok\",\"result\":"
			 "{\"payment_id\":\"P-31\",\"approved\":true}}]");
	free(text);
	cJSON_Delete(pkg);
	drv_free(&d);

	/* spoken digits fill it too (outside PCI mode, when said unasked) */
	drv_init_agent(&d, "fixtures/agents/pay.json", none);
	greet(&d);
	ck_assert_str_eq(say(&d, "pay my bill with card four one one one one one one one one "
			     "one one one one one one one"),
			 "Thank you. The payment of 25 dollars with the card ending 1111 is "
			 "approved, reference P-31.");
	ck_assert_ptr_null(strstr(d.log, "sensitive"));
	drv_free(&d);
}
END_TEST

START_TEST(test_greeting)
{
	struct drv d;
	struct vagent_fault none = { 0 };
	char want[512];

	drv_init(&d, none);
	greet(&d);
	/* sentence by sentence */
	snprintf(want, sizeof(want), "first\ntext %s\ntext %s\ndone\n",
		 "Hi, this is the Acme store's automated assistant. ",
		 "How can I help you today?");
	ck_assert_str_eq(last_turn_log(&d), want);
	drv_free(&d);
}
END_TEST

START_TEST(test_order_first_utterance)
{
	struct drv d;
	struct vagent_fault none = { 0 };

	drv_init(&d, none);
	greet(&d);
	ck_assert_str_eq(say(&d, "where is my order one two three four five"),
			 ORDER_REPLY);
	ck_assert_str_eq(last_turn_log(&d),
			 "first\n"
			 "tool order_status {\"order_number\":\"12345\"}\n"
			 "result OK {\"order_number\":\"12345\",\"status\":\"shipped\","
			 "\"delivery_date\":\"2026-12-04\",\"items\":[\"a blue kettle\",\"two mugs\"]}\n"
			 "text Order 1 2 3 4 5 is shipped. \n"
			 "text It arrives on Friday, December 4th with a blue kettle and two mugs.\n"
			 "done\n");
	/* the mock's latency passed on the virtual clock */
	ck_assert_int_eq(vagent_loop_now(d.loop), vagent_ticks_from_ms(200));
	drv_free(&d);
}
END_TEST

START_TEST(test_order_two_turns)
{
	struct drv d;
	struct vagent_fault none = { 0 };

	drv_init(&d, none);
	greet(&d);
	ck_assert_str_eq(say(&d, "i want to check on my order"),
			 "Sure. What is your order number?");
	ck_assert_int_eq(d.n_tools, 0);
	/* 4 to 12 digits: no fixed count for the host to stop at (the
	 * store agent's five-digit slot is checked end to end in check_run) */
	ck_assert_ptr_null(strstr(d.log, "expect"));
	ck_assert_str_eq(say(&d, "it's one two three four five"), ORDER_REPLY);
	ck_assert_int_eq(d.n_tools, 1);
	ck_assert_ptr_nonnull(strstr(d.log, "tool order_status {\"order_number\":\"12345\"}"));
	drv_free(&d);
}
END_TEST

START_TEST(test_order_dtmf)
{
	struct drv d;
	struct vagent_fault none = { 0 };

	drv_init(&d, none);
	greet(&d);
	ck_assert_str_eq(say(&d, "track my order"), "Sure. What is your order number?");
	ck_assert_str_eq(say_dtmf(&d, "", "12345"), ORDER_REPLY);
	/* digits pressed with the request itself */
	ck_assert_str_eq(say_dtmf(&d, "track my order", "12345#"), ORDER_REPLY);
	ck_assert_int_eq(d.n_tools, 2);
	/* too few digits for an order number: asked again */
	ck_assert_str_eq(say(&d, "track my order"), "Sure. What is your order number?");
	ck_assert_str_eq(say_dtmf(&d, "", "12"),
			 "Sorry, I need the order number, digit by digit. You can also "
			 "type it on your keypad.");
	ck_assert_int_eq(d.n_tools, 2);
	drv_free(&d);
}
END_TEST

START_TEST(test_order_asr_errors)
{
	struct drv d;
	struct vagent_fault none = { 0 };

	drv_init(&d, none);
	greet(&d);
	/* what a recogniser writes: misheard words ("wear", "too", "for",
	 * "re fund"), fillers, words split in two */
	ck_assert_str_eq(say(&d, "wear is my order uh one two three four five"),
			 ORDER_REPLY);
	ck_assert_str_eq(say(&d, "where's my order it's one too three for five"),
			 ORDER_REPLY);
	ck_assert_str_eq(say(&d, "wear is my order"), "Sure. What is your order number?");
	ck_assert_str_eq(say(&d, "one too three for five"), ORDER_REPLY);
	ck_assert_str_eq(say(&d, "can i get a re fund for order one two three four five"),
			 "How much should I refund?");
	drv_free(&d);
}
END_TEST

START_TEST(test_clarify)
{
	struct drv d;
	struct vagent_fault none = { 0 };
	const char *const ask = "You'd like to check on an order, is that right?";
	const char *const which = "Do you want to check on an order, or get a refund?";
	cJSON *pkg;

	drv_init(&d, none);
	greet(&d);
	/* a fair match (0.35..0.5): asked about, then acted on */
	ck_assert_str_eq(say(&d, "status"), ask);
	ck_assert_str_eq(say(&d, "yes"), "Sure. What is your order number?");
	ck_assert_str_eq(say(&d, "one two three four five"), ORDER_REPLY);
	ck_assert_str_eq(say(&d, "delivery"),
			 "You'd like to change a delivery day, is that right?");
	/* "no": the fallback; something else: understood afresh */
	ck_assert_str_eq(say(&d, "no"), d.agent->flow.fallback);
	ck_assert_str_eq(say(&d, "status"), ask);
	ck_assert_str_eq(say(&d, "i want a refund"), "Which order is the refund for?");
	drv_free(&d);

	/* two intents about as likely: which one, then the first words'
	 * slots count */
	drv_init(&d, none);
	ck_assert_str_eq(say(&d, "were is my order one too three for five"), which);
	ck_assert_int_eq(d.n_tools, 0);
	ck_assert_str_eq(say(&d, "check on my order"), ORDER_REPLY);
	ck_assert_str_eq(say(&d, "my order"), which);
	ck_assert_str_eq(say(&d, "the refund"), "Which order is the refund for?");
	drv_free(&d);

	/* answers that are not yes or no: a value for the intent asked
	 * about, another request */
	drv_init(&d, none);
	ck_assert_str_eq(say(&d, "status"), ask);
	ck_assert_str_eq(say(&d, "one two three four five"), ORDER_REPLY);
	ck_assert_str_eq(say(&d, "status"), ask);
	ck_assert_str_eq(say(&d, "no that's all thanks goodbye"),
			 "Thank you for calling. Goodbye!");
	drv_free(&d);

	/* a goodbye about as likely as a request gives way to it (recognised
	 * speech of "Hi, I'd like to check on my order": 0.64 and 0.56) */
	drv_init_agent(&d, "fixtures/agents/goodbye-close.json", none);
	ck_assert_str_eq(say(&d, "bye bye do like to check on my order"), "Let me look.");
	ck_assert(!vagent_flow_brain_ended(d.brain));
	drv_free(&d);

	/* asked about twice in a row, then not understood: escalated */
	drv_init(&d, none);
	say(&d, "status");
	ck_assert_str_eq(say(&d, "status"), ask);
	ck_assert_str_eq(say(&d, "purple elephants"),
			 d.agent->escalation.misunderstanding_reply);
	ck_assert_str_eq(d.reason, "misunderstanding");
	pkg = cJSON_Parse(d.package);
	ck_assert_str_eq(pkg_str(pkg, "stage"), "understanding the request");
	cJSON_Delete(pkg);
	drv_free(&d);
}
END_TEST

START_TEST(test_refund_confirmed)
{
	struct drv d;
	struct vagent_fault none = { 0 };

	drv_init(&d, none);
	greet(&d);
	ck_assert_str_eq(say(&d, "i want a refund for order one two three four five"),
			 "How much should I refund?");
	ck_assert_str_eq(say(&d, "forty dollars"),
			 "To confirm, refund 40 dollars on order 1 2 3 4 5?");
	ck_assert_int_eq(d.n_tools, 0);
	ck_assert_str_eq(say(&d, "yes please"),
			 "Done. Your refund of 40 dollars is on its way. The reference is R-77.");
	ck_assert_int_eq(d.n_tools, 1);
	ck_assert_ptr_nonnull(strstr(d.log,
		"tool refund {\"order_number\":\"12345\",\"amount\":40}\n"));
	ck_assert_str_eq(d.reason, "");
	drv_free(&d);
}
END_TEST

START_TEST(test_refund_declined)
{
	struct drv d;
	struct vagent_fault none = { 0 };

	drv_init(&d, none);
	greet(&d);
	say(&d, "i want a refund for order one two three four five");
	ck_assert_str_eq(say(&d, "forty dollars"),
			 "To confirm, refund 40 dollars on order 1 2 3 4 5?");
	ck_assert_str_eq(say(&d, "no"), d.agent->flow.cancelled);
	ck_assert_int_eq(d.n_tools, 0);
	/* the next request starts afresh */
	ck_assert_str_eq(say(&d, "i want a refund"), "Which order is the refund for?");
	ck_assert_str_eq(say(&d, "one two three four five"), "How much should I refund?");
	ck_assert_str_eq(say(&d, "forty dollars"),
			 "To confirm, refund 40 dollars on order 1 2 3 4 5?");
	/* another request instead of an answer: switched to */
	ck_assert_str_eq(say(&d, "actually where is my order one two three four five"),
			 ORDER_REPLY);
	ck_assert_int_eq(d.n_tools, 1);
	ck_assert_ptr_null(strstr(d.log, "tool refund"));
	drv_free(&d);
}
END_TEST


START_TEST(test_reschedule)
{
	struct drv d;
	struct vagent_fault none = { 0 };

	drv_init(&d, none);
	greet(&d);
	ck_assert_str_eq(say(&d, "i need to reschedule my delivery for order "
			     "one two three four five"), "What day would suit you?");
	/* two slots in one answer; "friday" counts from 2026-12-01 */
	ck_assert_str_eq(say(&d, "friday in the afternoon"),
			 "Move the delivery of order 1 2 3 4 5 to Friday, December 4th "
			 "in the afternoon?");
	ck_assert_str_eq(say(&d, "yeah that's right"),
			 "All set: your delivery comes Friday, December 4th in the afternoon.");
	ck_assert_ptr_nonnull(strstr(d.log, "tool reschedule {\"order_number\":\"12345\","
				     "\"date\":\"2026-12-04\",\"window\":\"afternoon\"}\n"));
	/* one slot at a time */
	ck_assert_str_eq(say(&d, "can you change my delivery date"), "Which order is it?");
	ck_assert_str_eq(say(&d, "one two three four five"), "What day would suit you?");
	ck_assert_str_eq(say(&d, "tomorrow"), "Morning or afternoon?");
	ck_assert_str_eq(say(&d, "in the morning please"),
			 "Move the delivery of order 1 2 3 4 5 to Wednesday, December 2nd "
			 "in the morning?");
	drv_free(&d);
}
END_TEST

START_TEST(test_guard_limit)
{
	struct drv d;
	struct vagent_fault none = { 0 };
	cJSON *pkg;
	const cJSON *slots, *act;

	drv_init(&d, none);
	greet(&d);
	say(&d, "i want a refund for order one two three four five");
	ck_assert_str_eq(say(&d, "five hundred dollars"),
			 d.agent->escalation.guard_reply);
	ck_assert_str_eq(d.reason, "guard_limit");
	ck_assert_int_eq(d.n_tools, 0);
	ck_assert_str_eq(last_turn_log(&d), "first\n"
			 "text That's more than I can approve on this call. \n"
			 "escalate guard_limit\ndone\n");
	pkg = cJSON_Parse(d.package);
	ck_assert_ptr_nonnull(pkg);
	ck_assert_str_eq(pkg_str(pkg, "agent"), "test-store");
	ck_assert_str_eq(pkg_str(pkg, "reason"), "guard_limit");
	ck_assert_str_eq(pkg_str(pkg, "intent"), "refund");
	ck_assert_str_eq(pkg_str(pkg, "stage"), "calling refund");
	slots = cJSON_GetObjectItemCaseSensitive(pkg, "slots");
	ck_assert_str_eq(pkg_str(slots, "order_number"), "12345");
	ck_assert_double_eq(strtod(pkg_str(slots, "amount"), NULL), 500);
	act = cJSON_GetArrayItem(cJSON_GetObjectItemCaseSensitive(pkg, "actions"), 0);
	ck_assert_str_eq(pkg_str(act, "tool"), "refund");
	ck_assert_str_eq(pkg_str(act, "outcome"), "refused");
	ck_assert_str_eq(pkg_str(act, "error"), "amount 500 is above the limit 200");
	ck_assert_int_eq(cJSON_GetObjectItemCaseSensitive(
		cJSON_GetObjectItemCaseSensitive(act, "args"), "amount")->valueint, 500);
	ck_assert_int_eq(cJSON_GetArraySize(cJSON_GetObjectItemCaseSensitive(pkg, "transcript")), 5);
	cJSON_Delete(pkg);
	/* the brain hands off: it answers nothing more */
	ck_assert_str_eq(say(&d, "hello"), "");
	drv_free(&d);
}
END_TEST

/* The package of docs/flow.md, exactly. */
START_TEST(test_package)
{
	static const char want[] =
		"{\"agent\":\"test-store\",\"reason\":\"guard_limit\",\"intent\":\"refu"
		"nd\",\"stage\":\"calling refund\",\"slots\":{\"order_number\":\"12345"
		"\",\"amount\":\"500.00\"},\"actions\":[{\"tool\":\"order_status\",\"ar"
		"gs\":{\"order_number\":\"12345\"},\"outcome\":\"ok\",\"result\":{\"ord"
		"er_number\":\"12345\",\"status\":\"shipped\",\"delivery_date\":\"2026-"
		"12-04\",\"items\":[\"a blue kettle\",\"two mugs\"]}},{\"tool\":\"refun"
		"d\",\"args\":{\"order_number\":\"12345\",\"amount\":500},\"outcome\":"
		"\"refused\",\"error\":\"amount 500 is above the limit 200\"}],\"misund"
		"erstandings\":0,\"transcript\":[{\"turn\":1,\"speaker\":\"agent\",\"te"
		"xt\":\"Hi, this is the Acme store's automated assistant. How can I hel"
		"p you today?\"},{\"turn\":2,\"speaker\":\"caller\",\"text\":\"where is"
		" my order one two three four five\"},{\"turn\":2,\"speaker\":\"agent\""
		",\"text\":\"Order 1 2 3 4 5 is shipped. It arrives on Friday, December"
		" 4th with a blue kettle and two mugs.\"},{\"turn\":3,\"speaker\":\"cal"
		"ler\",\"text\":\"i want a refund for order one two three four five of "
		"five hundred dollars\"},{\"turn\":3,\"speaker\":\"agent\",\"text\":\"T"
		"hat's more than I can approve on this call.\"}]}";
	struct drv d;
	struct vagent_fault none = { 0 };

	drv_init(&d, none);
	greet(&d);
	say(&d, "where is my order one two three four five");
	say(&d, "i want a refund for order one two three four five of "
	    "five hundred dollars");
	ck_assert_str_eq(d.reason, "guard_limit");
	ck_assert_str_eq(d.package, want);
	drv_free(&d);
}
END_TEST

START_TEST(test_tool_failure)
{
	struct drv d;
	struct vagent_fault fault = { .kind = VAGENT_FAULT_ERROR, .from_call = 1,
				      .delay_ms = 50, .http_status = 503 };
	cJSON *pkg;
	const cJSON *act;

	drv_init(&d, fault);
	greet(&d);
	ck_assert_str_eq(say(&d, "where is my order one two three four five"),
			 "I'm sorry, I can't reach our order system right now.");
	ck_assert_str_eq(d.reason, "tool_failure");
	pkg = cJSON_Parse(d.package);
	ck_assert_ptr_nonnull(pkg);
	ck_assert_str_eq(pkg_str(pkg, "reason"), "tool_failure");
	ck_assert_str_eq(pkg_str(pkg, "intent"), "order_status");
	ck_assert_str_eq(pkg_str(pkg, "stage"), "calling order_status");
	act = cJSON_GetArrayItem(cJSON_GetObjectItemCaseSensitive(pkg, "actions"), 0);
	ck_assert_str_eq(pkg_str(act, "tool"), "order_status");
	ck_assert_str_eq(pkg_str(act, "outcome"), "error");
	ck_assert_ptr_nonnull(strstr(pkg_str(act, "error"), "503"));
	ck_assert_str_eq(pkg_str(cJSON_GetObjectItemCaseSensitive(act, "args"),
				 "order_number"), "12345");
	cJSON_Delete(pkg);
	drv_free(&d);
}
END_TEST

START_TEST(test_knowledge)
{
	struct drv d;
	struct vagent_fault none = { 0 };
	const char *res;
	cJSON *j;

	drv_init(&d, none);
	greet(&d);
	say(&d, "what are your opening hours");
	ck_assert_ptr_nonnull(strstr(d.reply, "Monday to Friday"));
	ck_assert_ptr_nonnull(strstr(last_turn_log(&d),
		"tool knowledge.search {\"query\":\"what are your opening hours\"}\n"));
	res = strstr(d.log, "result OK ");
	ck_assert_ptr_nonnull(res);
	j = cJSON_Parse(res + strlen("result OK "));
	ck_assert_ptr_nonnull(j);
	ck_assert(cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(j, "found")));
	/* relative to the agent file: the same trace on every machine */
	ck_assert_str_eq(pkg_str(j, "source"), "test-store.md#store-hours");
	ck_assert_str_eq(pkg_str(j, "heading"), "Acme store > Store hours");
	cJSON_Delete(j);
	say(&d, "how do i return an item");
	ck_assert_ptr_nonnull(strstr(d.reply, "thirty days"));
	drv_free(&d);
}
END_TEST

/* Callbacks of the knowledge tools used alone. */
static void kt_result(void *ctx, uint64_t id, vagent_status st, const char *result)
{
	struct drv *d = ctx;

	logf_(d, "result %llu %s %s\n", (unsigned long long)id,
	      vagent_status_name(st), result);
}

START_TEST(test_knowledge_tools)
{
	static const char text[] =
		"{ \"greeting\": \"This is an automated assistant.\",\n"
		"  \"flow\": { \"intents\": [ { \"name\": \"faq\", "
		"\"keywords\": [\"hours\"], \"knowledge\": true } ] } }";
	struct vagent_loop_config lc = vagent_loop_config_default();
	struct vagent_agent *a = NULL;
	struct vagent_tools *t = NULL;
	struct vagent_error err;
	struct drv d;
	char *dir = make_temp_dir();
	char path[4096], agent_text[1024];

	memset(&d, 0, sizeof(d));
	lc.clock = VAGENT_CLOCK_VIRTUAL;
	lc.workers = 0;
	ck_assert_int_eq(vagent_loop_new(&lc, &d.loop, &err), VAGENT_OK);
	/* no knowledge files: nothing found */
	ck_assert_int_eq(vagent_agent_parse(text, strlen(text), "faq.json", NULL, &a,
					    &err), VAGENT_OK);
	ck_assert_int_eq(vagent_knowledge_tools_new(a, NULL, &t, &err), VAGENT_OK);
	t->loop = d.loop;
	t->on_result = kt_result;
	t->ctx = &d;
	ck_assert_int_eq(t->ops->call(t, 7, "knowledge.search", "{\"query\":\"hours\"}",
				      &err), VAGENT_OK);
	ck_assert_uint_eq(d.len, 0);        /* answered from the loop */
	/* another tool without a provider behind: refused at once */
	ck_assert_int_eq(t->ops->call(t, 8, "refund", "{}", &err), VAGENT_EINVAL);
	ck_assert_str_eq(err.message, "knowledge: unknown tool \"refund\"");
	/* arguments without a query: an error result */
	ck_assert_int_eq(t->ops->call(t, 9, "knowledge.search", "[1]", &err), VAGENT_OK);
	/* cancelled: never answered */
	ck_assert_int_eq(t->ops->call(t, 10, "knowledge.search", "{\"query\":\"x\"}",
				      &err), VAGENT_OK);
	t->ops->cancel(t, 10);
	run_idle(&d);
	ck_assert_str_eq(d.log, "result 7 OK {\"found\":false}\n"
			 "result 9 EINVAL knowledge.search: arguments need a \"query\" string\n");
	vagent_tools_free(t);
	vagent_agent_free(a);

	/* a knowledge file gone since the agent was loaded: named */
	snprintf(path, sizeof(path), "%s/faq.md", dir);
	write_file(path, "# FAQ\n\n## Hours\n\nOpen all day.\n", 31);
	snprintf(agent_text, sizeof(agent_text),
		 "{ \"greeting\": \"This is an automated assistant.\", "
		 "\"knowledge\": [\"faq.md\"],\n"
		 "  \"flow\": { \"intents\": [ { \"name\": \"faq\", "
		 "\"keywords\": [\"hours\"], \"knowledge\": true } ] } }");
	ck_assert_int_eq(vagent_agent_parse(agent_text, strlen(agent_text), "faq.json",
					    dir, &a, &err), VAGENT_OK);
	ck_assert_int_eq(vagent_knowledge_tools_new(a, NULL, &t, &err), VAGENT_OK);
	vagent_tools_free(t);
	ck_assert_int_eq(unlink(path), 0);
	ck_assert_int_eq(vagent_knowledge_tools_new(a, NULL, &t, &err), VAGENT_ENOENT);
	ck_assert_ptr_null(t);
	ck_assert_ptr_nonnull(strstr(err.message, path));
	vagent_agent_free(a);
	vagent_loop_free(d.loop);
	remove_tree(dir);
	free(dir);
}
END_TEST

START_TEST(test_knowledge_miss)
{
	static const char text[] =
		"{ \"greeting\": \"This is an automated assistant.\",\n"
		"  \"flow\": { \"knowledge_miss\": \"I don't know that one.\",\n"
		"    \"intents\": [ { \"name\": \"faq\", "
		"\"keywords\": [\"hours\"], \"knowledge\": true } ] } }";
	struct vagent_fault none = { 0 };
	struct vagent_agent *a = NULL;
	struct vagent_brain *b = NULL;
	struct vagent_tools *t = NULL;
	struct vagent_error err;
	struct drv d;

	drv_init(&d, none);
	ck_assert_int_eq(vagent_agent_parse(text, strlen(text), "faq.json", NULL, &a,
					    &err), VAGENT_OK);
	ck_assert_int_eq(vagent_flow_brain_new(a, NULL, &b, &err), VAGENT_OK);
	ck_assert_int_eq(vagent_knowledge_tools_new(a, NULL, &t, &err), VAGENT_OK);
	b->loop = d.loop;
	b->on_first_token = on_first;
	b->on_text = on_text;
	b->on_tool_call = on_tool;
	b->on_escalate = on_escalate;
	b->on_done = on_done;
	b->on_error = on_error;
	b->ctx = &d;
	t->loop = d.loop;
	t->on_result = on_result;
	t->ctx = &d;
	vagent_brain_free(d.brain);
	vagent_tools_free(d.tools);
	d.brain = b;
	d.tools = t;
	ck_assert_str_eq(say(&d, "what are your hours"), "I don't know that one.");
	ck_assert_ptr_nonnull(strstr(d.log, "result OK {\"found\":false}\n"));
	drv_free(&d);
	vagent_agent_free(a);
}
END_TEST

START_TEST(test_misunderstandings)
{
	struct drv d;
	struct vagent_fault none = { 0 };
	cJSON *pkg;

	drv_init(&d, none);
	greet(&d);
	ck_assert_str_eq(say(&d, "purple elephants sing"), d.agent->flow.fallback);
	ck_assert_str_eq(d.reason, "");
	ck_assert_str_eq(say(&d, "the weather is lovely"),
			 d.agent->escalation.misunderstanding_reply);
	ck_assert_str_eq(d.reason, "misunderstanding");
	pkg = cJSON_Parse(d.package);
	ck_assert_int_eq(cJSON_GetObjectItemCaseSensitive(pkg, "misunderstandings")->valueint, 2);
	ck_assert_str_eq(pkg_str(pkg, "stage"), "understanding the request");
	ck_assert(cJSON_IsNull(cJSON_GetObjectItemCaseSensitive(pkg, "intent")));
	cJSON_Delete(pkg);
	drv_free(&d);

	/* an understood turn in between resets the count */
	drv_init(&d, none);
	say(&d, "purple elephants sing");
	ck_assert_str_eq(say(&d, "track my order"), "Sure. What is your order number?");
	ck_assert_str_eq(say(&d, "purple elephants sing"),
			 "Sorry, I need the order number, digit by digit. You can also "
			 "type it on your keypad.");
	ck_assert_str_eq(d.reason, "");
	ck_assert_str_eq(say(&d, "blue whales dance"),
			 d.agent->escalation.misunderstanding_reply);
	pkg = cJSON_Parse(d.package);
	ck_assert_str_eq(pkg_str(pkg, "stage"), "collecting order_number");
	cJSON_Delete(pkg);
	drv_free(&d);
}
END_TEST

START_TEST(test_human)
{
	struct drv d;
	struct vagent_fault none = { 0 };
	cJSON *pkg;
	const cJSON *tr, *line;

	drv_init(&d, none);
	greet(&d);
	ck_assert_str_eq(say(&d, "track my order"), "Sure. What is your order number?");
	ck_assert_str_eq(say(&d, "can i talk to a real person"),
			 d.agent->escalation.human_reply);
	ck_assert_str_eq(d.reason, "human_requested");
	pkg = cJSON_Parse(d.package);
	ck_assert_str_eq(pkg_str(pkg, "intent"), "order_status");
	ck_assert_str_eq(pkg_str(pkg, "stage"), "collecting order_number");
	tr = cJSON_GetObjectItemCaseSensitive(pkg, "transcript");
	ck_assert_int_eq(cJSON_GetArraySize(tr), 5);
	line = cJSON_GetArrayItem(tr, 3);
	ck_assert_int_eq(cJSON_GetObjectItemCaseSensitive(line, "turn")->valueint, 3);
	ck_assert_str_eq(pkg_str(line, "speaker"), "caller");
	ck_assert_str_eq(pkg_str(line, "text"), "can i talk to a real person");
	line = cJSON_GetArrayItem(tr, 4);
	ck_assert_str_eq(pkg_str(line, "speaker"), "agent");
	ck_assert_str_eq(pkg_str(line, "text"), d.agent->escalation.human_reply);
	cJSON_Delete(pkg);
	drv_free(&d);

	/* as a recogniser writes them */
	drv_init(&d, none);
	say(&d, "can i get a rep presentative");
	ck_assert_str_eq(d.reason, "human_requested");
	drv_free(&d);
	drv_init(&d, none);
	say(&d, "i want a reel person");
	ck_assert_str_eq(d.reason, "human_requested");
	drv_free(&d);
}
END_TEST

START_TEST(test_intent_escalates)
{
	struct drv d;
	struct vagent_fault none = { 0 };
	cJSON *pkg;

	drv_init(&d, none);
	greet(&d);
	ck_assert_str_eq(say(&d, "i want to make a complaint"),
			 "I'm sorry to hear that. A colleague will take your complaint.");
	ck_assert_str_eq(d.reason, "complaint");
	ck_assert_str_eq(last_turn_log(&d), "first\n"
			 "text I'm sorry to hear that. \n"
			 "text A colleague will take your complaint. \n"
			 "escalate complaint\ndone\n");
	pkg = cJSON_Parse(d.package);
	ck_assert_str_eq(pkg_str(pkg, "intent"), "complaint");
	ck_assert_str_eq(pkg_str(pkg, "stage"), "handling complaint");
	cJSON_Delete(pkg);
	drv_free(&d);
}
END_TEST

START_TEST(test_opt_out)
{
	struct drv d;
	struct vagent_fault none = { 0 };

	drv_init(&d, none);
	greet(&d);
	ck_assert_str_eq(say(&d, "please stop calling me"),
			 d.agent->escalation.opt_out_reply);
	ck_assert_str_eq(d.reason, "opt_out");
	drv_free(&d);
	drv_init(&d, none);
	say(&d, "stop call in me");
	ck_assert_str_eq(d.reason, "opt_out");
	drv_free(&d);
}
END_TEST

START_TEST(test_goodbye)
{
	struct drv d;
	struct vagent_fault none = { 0 };

	drv_init(&d, none);
	greet(&d);
	ck_assert(!vagent_flow_brain_ended(d.brain));
	ck_assert_str_eq(say(&d, "that's all thanks goodbye"),
			 "Thank you for calling. Goodbye!");
	ck_assert(vagent_flow_brain_ended(d.brain));
	/* the host is told to hang up once the goodbye has played */
	ck_assert_ptr_nonnull(strstr(last_turn_log(&d), "hangup\ndone\n"));
	ck_assert_str_eq(d.reason, "");
	/* the caller speaks after the goodbye (they cut it off): the
	 * conversation goes on, and no hang-up is asked for */
	ck_assert_str_eq(say(&d, "where is my order"), "Sure. What is your order number?");
	ck_assert(!vagent_flow_brain_ended(d.brain));
	ck_assert_ptr_null(strstr(last_turn_log(&d), "hangup"));
	drv_free(&d);
}
END_TEST

START_TEST(test_repeat_and_switch)
{
	struct drv d;
	struct vagent_fault none = { 0 };

	drv_init(&d, none);
	greet(&d);
	ck_assert_str_eq(say(&d, "track my order"), "Sure. What is your order number?");
	ck_assert_str_eq(say(&d, "sorry can you repeat that"),
			 "Sure. What is your order number?");
	/* a different request while a slot is asked for */
	say(&d, "actually what is your return policy");
	ck_assert_ptr_nonnull(strstr(d.reply, "thirty days"));
	ck_assert_ptr_nonnull(strstr(last_turn_log(&d), "tool knowledge.search"));
	/* and the order is not half-asked any more */
	ck_assert_str_eq(say(&d, "where is my order one two three four five"),
			 ORDER_REPLY);
	drv_free(&d);
}
END_TEST

START_TEST(test_cancel_mid_reply)
{
	struct drv d;
	struct vagent_fault none = { 0 };

	drv_init(&d, none);
	d.cancel_at_text = true;
	say(&d, "where is my order one two three four five");
	ck_assert_str_eq(d.reply, "Order 1 2 3 4 5 is shipped.");
	ck_assert_int_eq(d.n_text, 1);
	ck_assert_int_eq(d.n_done, 0);
	run_idle(&d);
	ck_assert_int_eq(d.n_text, 1);
	ck_assert_int_eq(d.n_done, 0);
	/* the brain goes on with the next turn */
	d.cancel_at_text = false;
	ck_assert_str_eq(say(&d, "track my order"), "Sure. What is your order number?");
	ck_assert_int_eq(d.n_done, 1);

	/* cancelled while the tool runs: no callback; stop: none either */
	d.n_text = 0;
	{
		struct vagent_brain_request req = { .id = ++d.id, .turn = ++d.turn,
						    .caller_text = "one two three four five" };
		struct vagent_error err;

		ck_assert_int_eq(d.brain->ops->respond(d.brain, &req, &err), VAGENT_OK);
		d.cancel_at_tool = true;
		run_idle(&d);
		d.cancel_at_tool = false;
		ck_assert_int_eq(d.n_text, 0);
		/* the tool ran to its end: its result was taken, said nothing */
		ck_assert_ptr_nonnull(strstr(last_turn_log(&d), "result OK"));
		req.id = ++d.id;
		req.caller_text = "goodbye";
		ck_assert_int_eq(d.brain->ops->respond(d.brain, &req, &err), VAGENT_OK);
		d.brain->ops->stop(d.brain);
		run_idle(&d);
		ck_assert_int_eq(d.n_text, 0);
		ck_assert_int_eq(d.n_done, 1);
	}
	/* the policy of a stopped request never ran; the package has the
	 * call that finished after its request was cancelled */
	ck_assert_str_eq(say(&d, "can i talk to a real person"),
			 d.agent->escalation.human_reply);
	ck_assert_ptr_nonnull(strstr(d.package, "{\"tool\":\"order_status\",\"args\":"
				     "{\"order_number\":\"12345\"},\"outcome\":\"ok\""));
	drv_free(&d);

	drv_init(&d, none);
	d.stop_at_text = true;
	say(&d, "where is my order one two three four five");
	ck_assert_int_eq(d.n_text, 1);
	ck_assert_int_eq(d.n_done, 0);
	drv_free(&d);
}
END_TEST

static void conversation(struct drv *d)
{
	greet(d);
	say(d, "where is my order one two three four five");
	say(d, "i want a refund");
	say(d, "order one two three four five");
	say(d, "forty dollars");
	say(d, "yes");
	say(d, "what are your opening hours");
	say(d, "purple elephants");
	say(d, "i want a refund for order one two three four five of "
	    "five hundred dollars");
}

START_TEST(test_determinism)
{
	struct drv a, b;
	struct vagent_fault none = { 0 };

	drv_init(&a, none);
	drv_init(&b, none);
	conversation(&a);
	conversation(&b);
	ck_assert_str_eq(a.log, b.log);
	ck_assert_ptr_nonnull(a.package);
	ck_assert_str_eq(a.package, b.package);
	ck_assert_str_eq(a.reason, "guard_limit");
	drv_free(&a);
	drv_free(&b);
}
END_TEST

START_TEST(test_timing)
{
	struct drv d;
	struct vagent_fault none = { 0 };
	struct vagent_flow_config fc = vagent_flow_config_default();
	struct vagent_brain *b;
	struct vagent_error err;
	struct vagent_brain_request req = { .id = 1, .turn = 1, .greeting = true,
					    .caller_text = "" };

	/* think_ms before the first output, sentence_ms between sentences */
	drv_init(&d, none);
	fc.think_ms = 40;
	fc.sentence_ms = 300;
	ck_assert_int_eq(vagent_flow_brain_new(d.agent, &fc, &b, &err), VAGENT_OK);
	b->loop = d.loop;
	b->on_first_token = on_first;
	b->on_text = on_text;
	b->on_tool_call = on_tool;
	b->on_escalate = on_escalate;
	b->on_done = on_done;
	b->on_error = on_error;
	b->ctx = &d;
	d.id = 1;
	ck_assert_int_eq(b->ops->respond(b, &req, &err), VAGENT_OK);
	ck_assert_int_eq(vagent_loop_run_until(d.loop, vagent_ticks_from_ms(39), &err),
			 VAGENT_OK);
	ck_assert_int_eq(d.n_text, 0);
	ck_assert_int_eq(vagent_loop_run_until(d.loop, vagent_ticks_from_ms(40), &err),
			 VAGENT_OK);
	ck_assert_int_eq(d.n_text, 1);
	ck_assert_int_eq(vagent_loop_run_until(d.loop, vagent_ticks_from_ms(339), &err),
			 VAGENT_OK);
	ck_assert_int_eq(d.n_text, 1);
	run_idle(&d);
	ck_assert_int_eq(d.n_text, 2);
	ck_assert_int_eq(vagent_loop_now(d.loop), vagent_ticks_from_ms(340));
	vagent_brain_free(b);
	drv_free(&d);
}
END_TEST

START_TEST(test_bad_use)
{
	struct vagent_agent *a = NULL;
	struct vagent_brain *b = NULL;
	struct vagent_flow_config fc = vagent_flow_config_default();
	struct vagent_brain_request req = { .id = 1, .caller_text = "hi" };
	struct vagent_error err;

	ck_assert_int_eq(vagent_agent_load(top_path("fixtures/agents/test-store.json"),
					   &a, &err), VAGENT_OK);
	ck_assert_int_eq(vagent_flow_brain_new(NULL, NULL, &b, &err), VAGENT_EINVAL);
	ck_assert_int_eq(vagent_flow_brain_new(a, NULL, NULL, &err), VAGENT_EINVAL);
	fc.reference_date = "tomorrow";
	ck_assert_int_eq(vagent_flow_brain_new(a, &fc, &b, &err), VAGENT_EINVAL);
	ck_assert_str_eq(err.message, "flow: reference_date \"tomorrow\": not YYYY-MM-DD");
	ck_assert_ptr_null(b);
	ck_assert_int_eq(vagent_flow_brain_new(a, NULL, &b, &err), VAGENT_OK);
	/* no loop or callbacks yet */
	ck_assert_int_eq(b->ops->respond(b, &req, &err), VAGENT_EINVAL);
	ck_assert_int_eq(b->ops->respond(b, NULL, &err), VAGENT_EINVAL);
	ck_assert(!vagent_flow_brain_ended(b));
	vagent_brain_free(b);
	vagent_agent_free(a);
}
END_TEST

Suite *suite_flow(void);
Suite *suite_flow(void)
{
	Suite *s = suite_create("flow");
	TCase *tc = tcase_create("flow");

	tcase_set_timeout(tc, 30);
	tcase_add_test(tc, test_greeting);
	tcase_add_test(tc, test_order_first_utterance);
	tcase_add_test(tc, test_order_two_turns);
	tcase_add_test(tc, test_order_dtmf);
	tcase_add_test(tc, test_card_slot_by_keys);
	tcase_add_test(tc, test_order_asr_errors);
	tcase_add_test(tc, test_clarify);
	tcase_add_test(tc, test_refund_confirmed);
	tcase_add_test(tc, test_refund_declined);
	tcase_add_test(tc, test_reschedule);
	tcase_add_test(tc, test_guard_limit);
	tcase_add_test(tc, test_package);
	tcase_add_test(tc, test_tool_failure);
	tcase_add_test(tc, test_knowledge);
	tcase_add_test(tc, test_knowledge_tools);
	tcase_add_test(tc, test_knowledge_miss);
	tcase_add_test(tc, test_misunderstandings);
	tcase_add_test(tc, test_human);
	tcase_add_test(tc, test_intent_escalates);
	tcase_add_test(tc, test_opt_out);
	tcase_add_test(tc, test_goodbye);
	tcase_add_test(tc, test_repeat_and_switch);
	tcase_add_test(tc, test_cancel_mid_reply);
	tcase_add_test(tc, test_determinism);
	tcase_add_test(tc, test_timing);
	tcase_add_test(tc, test_bad_use);
	suite_add_tcase(s, tc);
	return s;
}
