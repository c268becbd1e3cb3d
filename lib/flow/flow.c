/*
 * flow.c — the flow brain: the agent file's deterministic dialog policy
 * in the brain slot (docs/flow.md). Intents matched fuzzily from examples
 * and keywords, slots filled across turns (speech or DTMF), confirmations,
 * tool calls with slot-filled arguments and guards, knowledge answers
 * through the "knowledge.search" tool, escalations with a warm-transfer
 * context package. Answers stream sentence by sentence from loop timers,
 * never from inside respond().
 */
#include <ctype.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "flow/flow_int.h"
#include "trace/trace_int.h"   /* vagent__redact_json */

/* Fuzzy tolerance for the escalation, opt-out and repeat phrases (the
 * value docs/nlu.md measured). */
#define PHRASE_TOLERANCE 0.3
/* Two intents this close are asked about ("A, or B?"), as docs/nlu.md
 * advises. */
#define CLOSE_SCORES 0.1

enum stage {
	ST_IDLE,          /* no intent in progress */
	ST_COLLECT,       /* asked for slot `slot` */
	ST_CONFIRM,       /* asked the confirmation */
	ST_CLARIFY,       /* asked whether intent `clarify` was meant */
	ST_CHOOSE,        /* asked which of `clarify` and `clarify2` */
	ST_CALLING,       /* a tool call is out */
	ST_ENDED,         /* said goodbye */
	ST_ESCALATED,     /* handed off */
};

struct line {
	int turn;
	bool agent;
	char *text;
};

struct action {
	char call_id[32]; /* "" until the call goes out */
	char *tool;
	char *args;       /* JSON */
	const char *outcome; /* "ok", "error", "refused", "cancelled", NULL: pending */
	char *detail;     /* result JSON (ok) or message */
};

enum req_state {
	RQ_THINK,         /* the timer runs the policy */
	RQ_SPEAK,         /* the timer sends the next sentence */
	RQ_TOOL,          /* waiting for tool_result */
};

struct flow_brain;

struct flow_req {
	struct flow_req *next;
	struct flow_brain *b;
	uint64_t id;
	int turn;
	struct vagent_timer *timer;
	bool dead;
	enum req_state state;
	bool greeting;
	char *caller_text, *dtmf;
	/* the plan */
	char *say;        /* what to say (sentences) */
	size_t pos;
	char *escalate;   /* after saying: escalate with this reason */
	char *package;
	const char *tool; /* call this tool (owned by the agent or static) */
	char *tool_args;
	char call_id[32];
	bool first_sent;
};

struct flow_brain {
	struct vagent_brain base;
	const struct vagent_agent *agent;
	struct vagent_flow_config cfg;
	char reference_date[16];
	struct vagent_intent_matcher *matcher;
	/* the dialog */
	enum stage stage;
	int intent;                   /* -1: none */
	size_t slot;                  /* ST_COLLECT: the slot asked for */
	char **values;                /* per slot of the intent */
	size_t max_slots;
	bool confirmed;               /* the confirmation was answered yes */
	int clarify, clarify2;        /* ST_CLARIFY/CHOOSE: the intents asked about */
	char *clarify_text;           /* ... and the words that suggested it */
	int misunderstood;            /* consecutive */
	char *query;                  /* the utterance that started the intent */
	char *last_reply;
	int last_turn;
	struct line *lines;
	size_t n_lines, cap_lines;
	struct action *actions;
	size_t n_actions, cap_actions;
	int calls;
	/* requests */
	struct flow_req *reqs;
	int busy;
	bool freeing;
	bool oom;
	bool sensitive;               /* PCI mode asked of the host (a card slot) */
};

struct vagent_flow_config vagent_flow_config_default(void)
{
	struct vagent_flow_config c;

	memset(&c, 0, sizeof(c));
	strcpy(c.name, "flow");
	return c;
}

static const struct vagent_agent_intent *cur_intent(const struct flow_brain *b)
{
	return b->intent >= 0 ? &b->agent->flow.intents[b->intent] : NULL;
}

/* The intent in progress, when there is one for sure. */
static const struct vagent_agent_intent *the_intent(const struct flow_brain *b)
{
	return &b->agent->flow.intents[b->intent];
}

/* ---- memory of the call ---- */

static char *xstrdup(struct flow_brain *b, const char *s)
{
	char *d = strdup(s ? s : "");

	if (!d)
		b->oom = true;
	return d;
}

static void add_line(struct flow_brain *b, int turn, bool agent,
		     const char *text)
{
	if (!text || !*text)
		return;
	if (b->n_lines == b->cap_lines) {
		size_t cap = b->cap_lines ? b->cap_lines * 2 : 16;
		struct line *l = realloc(b->lines, cap * sizeof(*l));

		if (!l) {
			b->oom = true;
			return;
		}
		b->lines = l;
		b->cap_lines = cap;
	}
	b->lines[b->n_lines].turn = turn;
	b->lines[b->n_lines].agent = agent;
	b->lines[b->n_lines].text = xstrdup(b, text);
	/* the call's memory never holds a card number (docs/dtmf.md) */
	vagent_card_number_redact(b->lines[b->n_lines].text);
	b->n_lines++;
}

static struct action *add_action(struct flow_brain *b, const char *tool,
				 const char *args)
{
	struct action *a;

	if (b->n_actions == b->cap_actions) {
		size_t cap = b->cap_actions ? b->cap_actions * 2 : 8;
		struct action *n = realloc(b->actions, cap * sizeof(*n));

		if (!n) {
			b->oom = true;
			return NULL;
		}
		b->actions = n;
		b->cap_actions = cap;
	}
	a = &b->actions[b->n_actions++];
	a->call_id[0] = '\0';
	a->tool = xstrdup(b, tool);
	a->args = xstrdup(b, args);
	a->outcome = NULL;
	a->detail = NULL;
	return a;
}

static struct action *pending_action(struct flow_brain *b)
{
	if (b->n_actions && !b->actions[b->n_actions - 1].outcome)
		return &b->actions[b->n_actions - 1];
	return NULL;
}

static void reset_intent(struct flow_brain *b)
{
	size_t i;

	for (i = 0; i < b->max_slots; i++) {
		free(b->values[i]);
		b->values[i] = NULL;
	}
	free(b->query);
	b->query = NULL;
	b->intent = -1;
	b->slot = 0;
	b->confirmed = false;
	if (b->stage != ST_ENDED && b->stage != ST_ESCALATED)
		b->stage = ST_IDLE;
}

/* ---- the context package ---- */

static void stage_text(const struct flow_brain *b, char *buf, size_t n)
{
	const struct vagent_agent_intent *in = cur_intent(b);

	switch (b->stage) {
	case ST_COLLECT:
		snprintf(buf, n, "collecting %s", in ? in->slots[b->slot].name : "");
		break;
	case ST_CONFIRM:
		snprintf(buf, n, "awaiting confirmation");
		break;
	case ST_CLARIFY:
		snprintf(buf, n, "clarifying %s",
			 b->agent->flow.intents[b->clarify].name);
		break;
	case ST_CHOOSE:
		snprintf(buf, n, "clarifying %s or %s",
			 b->agent->flow.intents[b->clarify].name,
			 b->agent->flow.intents[b->clarify2].name);
		break;
	case ST_CALLING:
		snprintf(buf, n, "calling %s", in && in->tool ? in->tool
			 : VAGENT_KNOWLEDGE_TOOL);
		break;
	case ST_ENDED:
		snprintf(buf, n, "ended");
		break;
	default:
		snprintf(buf, n, in ? "handling %s" : "understanding the request",
			 in ? in->name : "");
		break;
	}
}

static cJSON *parse_or_string(const char *s)
{
	cJSON *j = s ? cJSON_Parse(s) : NULL;

	return j ? j : cJSON_CreateString(s ? s : "");
}

/* The warm-transfer package (transfer full), NULL without memory. */
static char *make_package(struct flow_brain *b, const char *reason,
			  const char *stage)
{
	const struct vagent_agent_intent *in = cur_intent(b);
	cJSON *o = cJSON_CreateObject(), *slots, *acts, *tr;
	size_t i;
	char *s;

	if (!o)
		return NULL;
	cJSON_AddStringToObject(o, "agent", b->agent->name);
	cJSON_AddStringToObject(o, "reason", reason);
	if (in)
		cJSON_AddStringToObject(o, "intent", in->name);
	else
		cJSON_AddNullToObject(o, "intent");
	cJSON_AddStringToObject(o, "stage", stage);
	slots = cJSON_AddObjectToObject(o, "slots");
	for (i = 0; slots && in && i < in->n_slots; i++) {
		char masked[32];
		size_t n;

		if (!b->values[i])
			continue;
		if (in->slots[i].type == VAGENT_SLOT_CARD) {
			n = strlen(b->values[i]);
			snprintf(masked, sizeof(masked), "[card ending %s]",
				 n > 4 ? b->values[i] + n - 4 : b->values[i]);
			cJSON_AddStringToObject(slots, in->slots[i].name, masked);
		} else {
			cJSON_AddStringToObject(slots, in->slots[i].name,
						b->values[i]);
		}
	}
	acts = cJSON_AddArrayToObject(o, "actions");
	for (i = 0; acts && i < b->n_actions; i++) {
		const struct action *a = &b->actions[i];
		cJSON *e = cJSON_CreateObject();

		if (!e)
			break;
		cJSON_AddStringToObject(e, "tool", a->tool);
		cJSON_AddItemToObject(e, "args", parse_or_string(a->args));
		cJSON_AddStringToObject(e, "outcome", a->outcome ? a->outcome
					: "pending");
		if (a->outcome && strcmp(a->outcome, "ok") == 0)
			cJSON_AddItemToObject(e, "result", parse_or_string(a->detail));
		else if (a->detail)
			cJSON_AddStringToObject(e, "error", a->detail);
		cJSON_AddItemToArray(acts, e);
	}
	cJSON_AddNumberToObject(o, "misunderstandings", b->misunderstood);
	tr = cJSON_AddArrayToObject(o, "transcript");
	for (i = 0; tr && i < b->n_lines; i++) {
		cJSON *e = cJSON_CreateObject();

		if (!e)
			break;
		cJSON_AddNumberToObject(e, "turn", b->lines[i].turn);
		cJSON_AddStringToObject(e, "speaker", b->lines[i].agent ? "agent"
					: "caller");
		cJSON_AddStringToObject(e, "text", b->lines[i].text);
		cJSON_AddItemToArray(tr, e);
	}
	s = cJSON_PrintUnformatted(o);
	cJSON_Delete(o);
	/* tool arguments and results may hold the card: not the package */
	if (s) {
		char *clean = vagent__redact_json(s);

		free(s);
		s = clean;
	}
	return s;
}

/* ---- planning a reply ---- */

static void say(struct flow_req *r, const char *text)
{
	struct flow_brain *b = r->b;
	size_t n = r->say ? strlen(r->say) : 0, m;
	char *s;

	if (!text || !*text)
		return;
	m = strlen(text);
	s = realloc(r->say, n + m + 2);
	if (!s) {
		b->oom = true;
		return;
	}
	if (n)
		s[n++] = ' ';
	memcpy(s + n, text, m + 1);
	r->say = s;
}

static char *render(struct flow_brain *b, const char *tmpl,
		    const cJSON *result)
{
	struct vagent__render_ctx rc;
	char *s;

	rc.agent_name = b->agent->name;
	rc.intent = cur_intent(b);
	rc.values = b->values;
	rc.result = result;
	s = vagent__render(tmpl, &rc);
	if (!s)
		b->oom = true;
	return s;
}

static void say_template(struct flow_req *r, const char *tmpl,
			 const cJSON *result)
{
	char *s = render(r->b, tmpl, result);

	say(r, s);
	free(s);
}

static void escalate(struct flow_req *r, const char *reason, const char *lead)
{
	struct flow_brain *b = r->b;
	char stage[128];

	say(r, lead);
	stage_text(b, stage, sizeof(stage));
	free(r->escalate);
	r->escalate = xstrdup(b, reason);
	/* the transcript holds what is said now */
	add_line(b, r->turn, true, r->say);
	free(r->package);
	r->package = make_package(b, reason, stage);
	if (!r->package)
		b->oom = true;
	b->stage = ST_ESCALATED;
}

static void misunderstood(struct flow_req *r, const char *reprompt)
{
	struct flow_brain *b = r->b;
	const struct vagent_agent_escalation *e = &b->agent->escalation;

	b->misunderstood++;
	if (e->max_misunderstandings > 0 &&
	    b->misunderstood >= e->max_misunderstandings) {
		escalate(r, "misunderstanding", e->misunderstanding_reply);
		return;
	}
	say_template(r, reprompt, NULL);
}

static struct vagent_slot_spec spec_of(const struct flow_brain *b,
				       const struct vagent_agent_slot *s)
{
	struct vagent_slot_spec sp;

	memset(&sp, 0, sizeof(sp));
	sp.type = s->type;
	sp.min_len = s->min_len;
	sp.max_len = s->max_len;
	sp.choices = (const char *const *)s->choices;
	sp.reference_date = b->reference_date;
	return sp;
}

/* Whether `text` names a currency ("dollars", "$", "cents"...). */
static bool says_money(const char *text)
{
	static const char *const units[] = { "dollar", "buck", "cent", "euro",
					      "pound", "$", NULL };
	const char *const *u;
	char low[512];
	size_t i;

	for (i = 0; text[i] && i < sizeof(low) - 1; i++)
		low[i] = (char)tolower((unsigned char)text[i]);
	low[i] = '\0';
	for (u = units; *u; u++)
		if (strstr(low, *u))
			return true;
	return false;
}

/*
 * Whether slot `s` may be taken from an utterance that was not an answer
 * to its own prompt. Free text and yes/no never are (they would take
 * anything); a number or an amount only with a currency word, so "refund
 * order one two three four five" does not also read as "one dollar".
 */
static bool fill_unasked(const struct vagent_agent_slot *s, const char *text)
{
	switch (s->type) {
	case VAGENT_SLOT_TEXT:
	case VAGENT_SLOT_YES_NO:
		return false;
	case VAGENT_SLOT_AMOUNT:
	case VAGENT_SLOT_NUMBER:
		return says_money(text);
	default:
		return true;
	}
}

static bool digit_slot(const struct vagent_agent_slot *s)
{
	return s->type == VAGENT_SLOT_DIGITS || s->type == VAGENT_SLOT_NUMBER ||
	       s->type == VAGENT_SLOT_ORDER_NUMBER || s->type == VAGENT_SLOT_CARD;
}

/* Fill slot k from DTMF digits: true when they fit. */
static bool fill_from_dtmf(struct flow_brain *b, size_t k, const char *dtmf)
{
	const struct vagent_agent_slot *s = &the_intent(b)->slots[k];
	char digits[64];
	size_t n = 0;

	if (!dtmf || !digit_slot(s))
		return false;
	for (; *dtmf && n < sizeof(digits) - 1; dtmf++)
		if (isdigit((unsigned char)*dtmf))
			digits[n++] = *dtmf;
	digits[n] = '\0';
	if (s->type == VAGENT_SLOT_CARD) {
		if (n < 13 || n > 19 || !vagent_luhn_valid(digits, n))
			return false;
	} else if (n == 0 || (s->min_len && n < (size_t)s->min_len) ||
		   (s->max_len && n > (size_t)s->max_len)) {
		return false;
	}
	free(b->values[k]);
	b->values[k] = xstrdup(b, digits);
	return true;
}

/* Fill slot k from speech: true when the text holds a value. */
static bool fill_from_text(struct flow_brain *b, size_t k, const char *text)
{
	const struct vagent_agent_slot *s = &the_intent(b)->slots[k];
	struct vagent_slot_spec sp = spec_of(b, s);
	char *v = NULL;

	if (!text || !*text)
		return false;
	if (vagent_slot_extract(&sp, text, &v) != VAGENT_OK || !v) {
		free(v);
		return false;
	}
	free(b->values[k]);
	b->values[k] = v;
	return true;
}

/* The tool arguments of the intent (JSON text, transfer full). */
static char *build_args(struct flow_brain *b)
{
	const struct vagent_agent_intent *in = cur_intent(b);
	cJSON *o = cJSON_CreateObject();
	size_t i, k;
	char *s;

	if (!o)
		return NULL;
	for (i = 0; i < in->n_args; i++) {
		const struct vagent_agent_arg *a = &in->args[i];
		cJSON *v = NULL;

		if (a->literal) {
			v = cJSON_Parse(a->value);
		} else {
			struct vagent__tref r;
			const char *ref = vagent__tref_next(a->value, &r);

			/* exactly one slot reference: a number slot gives a
			 * JSON number */
			if (ref == a->value && r.len == strlen(a->value) &&
			    r.kind == VAGENT__TREF_SLOT && !r.filter) {
				for (k = 0; k < in->n_slots; k++) {
					const struct vagent_agent_slot *sl = &in->slots[k];

					if (strlen(sl->name) == r.name_len &&
					    !memcmp(sl->name, r.name, r.name_len) &&
					    b->values[k] &&
					    (sl->type == VAGENT_SLOT_AMOUNT ||
					     sl->type == VAGENT_SLOT_NUMBER))
						v = cJSON_CreateNumber(strtod(b->values[k], NULL));
				}
			}
			if (!v) {
				char *t = render(b, a->value, NULL);

				v = t ? cJSON_CreateString(t) : NULL;
				free(t);
			}
		}
		if (!v) {
			cJSON_Delete(o);
			return NULL;
		}
		cJSON_AddItemToObject(o, a->name, v);
	}
	s = cJSON_PrintUnformatted(o);
	cJSON_Delete(o);
	return s;
}

static void tool_name_spoken(const char *name, char *buf, size_t n)
{
	size_t i;

	snprintf(buf, n, "%s", name);
	for (i = 0; buf[i]; i++)
		if (buf[i] == '_' || buf[i] == '.' || buf[i] == '-')
			buf[i] = ' ';
}

static void act(struct flow_req *r);

/* All slots in: the guard, the confirmation, then act. */
static void proceed(struct flow_req *r)
{
	struct flow_brain *b = r->b;
	const struct vagent_agent_intent *in = the_intent(b);
	const struct vagent_tool_def *t = in->tool ?
		vagent_agent_tool(b->agent, in->tool) : NULL;
	size_t k;

	for (k = 0; k < in->n_slots; k++)
		if (in->slots[k].required && !b->values[k]) {
			b->stage = ST_COLLECT;
			b->slot = k;
			say_template(r, in->slots[k].prompt, NULL);
			return;
		}
	if (t && t->guard.argument && !b->confirmed) {
		char *args = build_args(b);
		cJSON *j = args ? cJSON_Parse(args) : NULL;
		const cJSON *v = cJSON_GetObjectItemCaseSensitive(j, t->guard.argument);
		double x = cJSON_IsNumber(v) ? v->valuedouble
			 : cJSON_IsString(v) ? strtod(v->valuestring, NULL)
			 : (double)NAN;

		if (isfinite(x) && t->guard.max >= 0 && x > t->guard.max) {
			struct action *a = add_action(b, t->name, args);
			char msg[160];

			if (a) {
				snprintf(msg, sizeof(msg),
					 "%s %g is above the limit %g", t->guard.argument,
					 x, t->guard.max);
				a->outcome = "refused";
				a->detail = xstrdup(b, msg);
			}
			cJSON_Delete(j);
			free(args);
			b->stage = ST_CALLING;
			escalate(r, "guard_limit", b->agent->escalation.guard_reply);
			return;
		}
		if (isfinite(x) && t->guard.confirm_above >= 0 &&
		    x > t->guard.confirm_above && !in->confirm) {
			struct vagent__strbuf sb = { 0 };
			char name[80];

			tool_name_spoken(t->name, name, sizeof(name));
			vagent__strbuf_printf(&sb, "Just to confirm, should I go ahead with the %s for ", name);
			vagent__render_value(&sb, v, strstr(t->guard.argument, "amount")
					     ? "amount" : NULL,
					     strstr(t->guard.argument, "amount") ? 6 : 0);
			vagent__strbuf_puts(&sb, "?");
			{
				char *q = vagent__strbuf_detach(&sb);

				say(r, q);
				free(q);
			}
			cJSON_Delete(j);
			free(args);
			b->stage = ST_CONFIRM;
			return;
		}
		cJSON_Delete(j);
		free(args);
	}
	if (in->confirm && !b->confirmed) {
		b->stage = ST_CONFIRM;
		say_template(r, in->confirm, NULL);
		return;
	}
	act(r);
}

static void act(struct flow_req *r)
{
	struct flow_brain *b = r->b;
	const struct vagent_agent_intent *in = the_intent(b);

	if (in->escalate) {
		say_template(r, in->reply, NULL);
		escalate(r, in->escalate, NULL);
		return;
	}
	if (in->knowledge || in->tool) {
		cJSON *q = NULL;

		if (in->knowledge) {
			q = cJSON_CreateObject();
			if (q)
				cJSON_AddStringToObject(q, "query", b->query ? b->query : "");
			r->tool_args = q ? cJSON_PrintUnformatted(q) : NULL;
			cJSON_Delete(q);
			r->tool = VAGENT_KNOWLEDGE_TOOL;
		} else {
			r->tool_args = build_args(b);
			r->tool = in->tool;
		}
		if (!r->tool_args) {
			b->oom = true;
			return;
		}
		add_action(b, r->tool, r->tool_args);
		b->stage = ST_CALLING;
		return;
	}
	say_template(r, in->reply, NULL);
	if (in->end) {
		b->stage = ST_ENDED;
		return;
	}
	reset_intent(b);
	say(r, b->agent->flow.anything_else);
}

static void start_intent(struct flow_req *r, int i, const char *text)
{
	struct flow_brain *b = r->b;
	const struct vagent_agent_intent *in;
	size_t k;
	bool dtmf_used = false;

	if (pending_action(b))
		pending_action(b)->outcome = "cancelled";
	reset_intent(b);
	b->intent = i;
	in = cur_intent(b);
	b->query = xstrdup(b, text);
	b->misunderstood = 0;
	for (k = 0; k < in->n_slots; k++) {
		const struct vagent_agent_slot *s = &in->slots[k];

		if (!dtmf_used && fill_from_dtmf(b, k, r->dtmf)) {
			dtmf_used = true;
			continue;
		}
		if (fill_unasked(s, text))
			fill_from_text(b, k, text);
	}
	proceed(r);
}

static bool has_any(const char *text, const char *const *phrases)
{
	for (; phrases && *phrases; phrases++)
		if (vagent_text_has_phrase(text, *phrases, PHRASE_TOLERANCE))
			return true;
	return false;
}

/* Another intent than the current one, matched well enough, or -1. */
static int switched_intent(struct flow_brain *b, const char *text)
{
	double score = 0;
	int i;

	if (!text || !*text)
		return -1;
	i = vagent_intent_match(b->matcher, text, &score);
	if (i >= 0 && i != b->intent && score >= b->agent->flow.match_threshold)
		return i;
	return -1;
}

static int yes_no(struct flow_brain *b, const char *text)
{
	struct vagent_slot_spec sp;
	char *v = NULL;
	int res = 0;

	memset(&sp, 0, sizeof(sp));
	sp.type = VAGENT_SLOT_YES_NO;
	sp.reference_date = b->reference_date;
	if (text && vagent_slot_extract(&sp, text, &v) == VAGENT_OK && v)
		res = strcmp(v, "yes") == 0 ? 1 : strcmp(v, "no") == 0 ? -1 : 0;
	free(v);
	return res;
}

/* What intent i is about, to ask: its summary, else its name spoken. */
static void put_summary(struct vagent__strbuf *sb,
			const struct vagent_agent_intent *in)
{
	char name[80];

	if (in->summary) {
		vagent__strbuf_puts(sb, in->summary);
		return;
	}
	tool_name_spoken(in->name, name, sizeof(name));
	vagent__strbuf_puts(sb, name);
}

/* Remember the words and say the question in sb. */
static void ask_clarify(struct flow_req *r, const char *text,
			struct vagent__strbuf *sb)
{
	struct flow_brain *b = r->b;
	char *q = vagent__strbuf_detach(sb);

	free(b->clarify_text);
	b->clarify_text = xstrdup(b, text);
	if (!q)
		b->oom = true;
	say(r, q);
	free(q);
}

/*
 * A new request: act on an intent that matches well; ask about one that
 * matches only fairly ("You'd like to check on an order, is that
 * right?"), or which of two that match about as well ("Do you want to
 * check on an order, or get a refund?"); else the fallback. A second
 * question in a row counts as a misunderstanding.
 */
static void understand(struct flow_req *r, const char *text, bool again)
{
	struct flow_brain *b = r->b;
	const struct vagent_agent_flow *f = &b->agent->flow;
	struct vagent_intent_score sc[2];
	struct vagent__strbuf sb = { 0 };
	size_t n = text && *text ? vagent_intent_scores(b->matcher, text, sc, 2) : 0;
	bool close;

	b->stage = ST_IDLE;
	if (n == 0 || sc[0].score < f->clarify_threshold) {
		misunderstood(r, f->fallback);
		return;
	}
	close = n == 2 && sc[1].score >= f->clarify_threshold &&
		sc[0].score - sc[1].score < CLOSE_SCORES;
	/* Ending the call by mistake costs more than a turn: a goodbye
	 * about as likely as a request gives way to it, and is never one
	 * of two choices ("bye bye, i'd like to check on my order"). */
	if (close && f->intents[sc[0].intent].end &&
	    !f->intents[sc[1].intent].end) {
		sc[0] = sc[1];
		close = false;
	} else if (close && f->intents[sc[1].intent].end) {
		close = false;
	}
	if (sc[0].score >= f->match_threshold && !close) {
		start_intent(r, sc[0].intent, text);
		return;
	}
	if (again) {
		const struct vagent_agent_escalation *e = &b->agent->escalation;

		b->misunderstood++;
		if (e->max_misunderstandings > 0 &&
		    b->misunderstood >= e->max_misunderstandings) {
			escalate(r, "misunderstanding", e->misunderstanding_reply);
			return;
		}
	}
	b->clarify = sc[0].intent;
	if (close) {
		bool both = f->intents[sc[0].intent].summary &&
			    f->intents[sc[1].intent].summary;

		b->stage = ST_CHOOSE;
		b->clarify2 = sc[1].intent;
		vagent__strbuf_puts(&sb, both ? "Do you want to " : "Do you mean ");
		put_summary(&sb, &f->intents[sc[0].intent]);
		vagent__strbuf_puts(&sb, ", or ");
		put_summary(&sb, &f->intents[sc[1].intent]);
		vagent__strbuf_puts(&sb, "?");
	} else if (f->intents[sc[0].intent].summary) {
		b->stage = ST_CLARIFY;
		vagent__strbuf_printf(&sb, "You'd like to %s, is that right?",
				      f->intents[sc[0].intent].summary);
	} else {
		b->stage = ST_CLARIFY;
		vagent__strbuf_puts(&sb, "Do you mean ");
		put_summary(&sb, &f->intents[sc[0].intent]);
		vagent__strbuf_puts(&sb, "?");
	}
	ask_clarify(r, text, &sb);
}

/* Whether `text` holds a value for a slot of intent i that may be taken
 * unasked (an order number answering "Do you mean order status?"). */
static bool gives_slot(struct flow_brain *b, int i, const char *text)
{
	const struct vagent_agent_intent *in = &b->agent->flow.intents[i];
	size_t k;

	for (k = 0; k < in->n_slots; k++) {
		struct vagent_slot_spec sp = spec_of(b, &in->slots[k]);
		char *v = NULL;
		bool got;

		if (!fill_unasked(&in->slots[k], text))
			continue;
		got = vagent_slot_extract(&sp, text, &v) == VAGENT_OK && v;
		free(v);
		if (got)
			return true;
	}
	return false;
}

/* Start intent i of a clarification with the words that suggested it and
 * the answer. */
static void start_clarified(struct flow_req *r, int i, const char *answer)
{
	struct flow_brain *b = r->b;
	struct vagent__strbuf sb = { 0 };
	char *text;

	vagent__strbuf_puts(&sb, b->clarify_text ? b->clarify_text : "");
	if (answer && *answer) {
		vagent__strbuf_puts(&sb, " ");
		vagent__strbuf_puts(&sb, answer);
	}
	text = vagent__strbuf_detach(&sb);
	if (!text) {
		b->oom = true;
		return;
	}
	free(b->clarify_text);
	b->clarify_text = NULL;
	b->stage = ST_IDLE;
	start_intent(r, i, text);
	free(text);
}

/* Another intent than the clarified ones, matched well enough, or -1. */
static int other_intent(struct flow_brain *b, const char *text)
{
	double score = 0;
	int i;

	if (!text || !*text)
		return -1;
	i = vagent_intent_match(b->matcher, text, &score);
	if (i >= 0 && score >= b->agent->flow.match_threshold)
		return i;
	return -1;
}

/* The answer to "A, or B?": the one of the two it matches better, or -1. */
static int chosen(struct flow_brain *b, const char *text)
{
	struct vagent_intent_score sc[64];
	size_t n = text && *text ? vagent_intent_scores(b->matcher, text, sc, 64) : 0;
	size_t i;

	for (i = 0; i < n; i++)
		if (sc[i].intent == b->clarify || sc[i].intent == b->clarify2)
			return sc[i].score >= b->agent->flow.clarify_threshold
			       ? sc[i].intent : -1;
	return -1;
}

/* The policy for one caller turn: fills r's plan. */
static void decide(struct flow_req *r)
{
	struct flow_brain *b = r->b;
	const struct vagent_agent *a = b->agent;
	const char *text = r->caller_text;
	const struct vagent_agent_intent *in;
	int i;

	if (r->greeting) {
		say(r, a->greeting);
		add_line(b, r->turn, true, r->say);
		return;
	}
	{
		struct vagent__strbuf sb = { 0 };

		vagent__strbuf_puts(&sb, text);
		/* keys typed in PCI mode (a card, valid or not) are not kept */
		if (r->dtmf && *r->dtmf)
			vagent__strbuf_printf(&sb, "%s[DTMF %s]", *text ? " " : "",
					      b->sensitive ? "redacted" : r->dtmf);
		{
			char *l = vagent__strbuf_detach(&sb);

			add_line(b, r->turn, false, l);
			free(l);
		}
	}
	if (b->stage == ST_ENDED && *text) {
		/* the caller spoke after the goodbye: they cut it off (a
		 * host hangs up once the goodbye has played), so the
		 * conversation goes on */
		b->stage = ST_IDLE;
	}
	if (b->stage == ST_ENDED || b->stage == ST_ESCALATED)
		return;
	if (has_any(text, (const char *const *)a->escalation.opt_out_phrases)) {
		escalate(r, "opt_out", a->escalation.opt_out_reply);
		return;
	}
	if (has_any(text, (const char *const *)a->escalation.human_phrases)) {
		escalate(r, "human_requested", a->escalation.human_reply);
		return;
	}
	if (b->last_reply && has_any(text, vagent__repeat_phrases)) {
		say(r, b->last_reply);
		add_line(b, r->turn, true, r->say);
		return;
	}
	if (b->stage == ST_CALLING) {
		/* the answer to the pending call was never heard */
		if (pending_action(b))
			pending_action(b)->outcome = "cancelled";
		reset_intent(b);
	}
	in = cur_intent(b);
	switch (b->stage) {
	case ST_CONFIRM:
		switch (yes_no(b, text)) {
		case 1:
			b->misunderstood = 0;
			b->confirmed = true;
			act(r);
			break;
		case -1:
			b->misunderstood = 0;
			reset_intent(b);
			say(r, a->flow.cancelled);
			break;
		default:
			i = switched_intent(b, text);
			if (i >= 0) {
				start_intent(r, i, text);
				break;
			}
			if (in->confirm) {
				char *q = render(b, in->confirm, NULL);

				misunderstood(r, q);
				free(q);
			} else {
				misunderstood(r, "Please say yes or no.");
			}
			break;
		}
		break;
	case ST_COLLECT: {
		size_t k, asked = b->slot;
		bool got = fill_from_dtmf(b, asked, r->dtmf) ||
			   fill_from_text(b, asked, text);

		if (!got) {
			i = switched_intent(b, text);
			if (i >= 0) {
				start_intent(r, i, text);
				break;
			}
			misunderstood(r, in->slots[asked].reprompt ?
				      in->slots[asked].reprompt :
				      in->slots[asked].prompt);
			break;
		}
		/* other missing slots said in the same breath */
		for (k = 0; k < in->n_slots; k++)
			if (k != asked && !b->values[k] &&
			    fill_unasked(&in->slots[k], text))
				fill_from_text(b, k, text);
		b->misunderstood = 0;
		proceed(r);
		break;
	}
	case ST_CLARIFY: {
		int yn = yes_no(b, text);

		if (yn > 0) {
			start_clarified(r, b->clarify, NULL);
		} else if (gives_slot(b, b->clarify, text)) {
			/* "Do you mean order status?" "one two three four five" */
			start_clarified(r, b->clarify, text);
		} else if ((i = other_intent(b, text)) >= 0) {
			/* "no, that's all, goodbye" */
			b->stage = ST_IDLE;
			start_intent(r, i, text);
		} else if (yn < 0) {
			b->stage = ST_IDLE;
			misunderstood(r, a->flow.fallback);
		} else {
			understand(r, text, true);
		}
		break;
	}
	case ST_CHOOSE:
		i = chosen(b, text);
		if (i < 0 && gives_slot(b, b->clarify, text))
			i = b->clarify;
		else if (i < 0 && gives_slot(b, b->clarify2, text))
			i = b->clarify2;
		if (i >= 0)
			start_clarified(r, i, text);
		else
			understand(r, text, true);
		break;
	default:
		understand(r, text, false);
		break;
	}
	if (!r->tool && !r->escalate)
		add_line(b, r->turn, true, r->say);
}

/* The tool's answer: fills r's plan. */
static void after_tool(struct flow_req *r, vagent_status st, const char *result)
{
	struct flow_brain *b = r->b;
	const struct vagent_agent *a = b->agent;
	const struct vagent_agent_intent *in = cur_intent(b);
	struct action *act_ = pending_action(b);
	cJSON *j = st == VAGENT_OK && result ? cJSON_Parse(result) : NULL;

	if (act_) {
		act_->outcome = st == VAGENT_OK && j ? "ok" : "error";
		act_->detail = xstrdup(b, st == VAGENT_OK && !j
				       ? "malformed result (not JSON)" : result);
	}
	if (!in) {
		cJSON_Delete(j);
		return;
	}
	if (in->knowledge) {
		const cJSON *found = cJSON_GetObjectItemCaseSensitive(j, "found");

		if (j && cJSON_IsTrue(found))
			say_template(r, in->reply ? in->reply : "{result.answer}", j);
		else
			say(r, a->flow.knowledge_miss);
		reset_intent(b);
		say(r, a->flow.anything_else);
	} else if (j) {
		say_template(r, in->reply ? in->reply : "Done.", j);
		if (in->end) {
			b->stage = ST_ENDED;
		} else {
			reset_intent(b);
			say(r, a->flow.anything_else);
		}
	} else {
		char *lead = in->reply_error ? render(b, in->reply_error, NULL)
			   : NULL;

		escalate(r, "tool_failure", lead ? lead
			 : a->escalation.tool_failure_reply);
		free(lead);
		cJSON_Delete(j);
		return;
	}
	cJSON_Delete(j);
	add_line(b, r->turn, true, r->say);
}

/* ---- requests ---- */

static void req_free(struct flow_req *r)
{
	vagent_timer_free(r->timer);
	free(r->caller_text);
	free(r->dtmf);
	free(r->say);
	free(r->escalate);
	free(r->package);
	free(r->tool_args);
	free(r);
}

static void req_end(struct flow_req *r)
{
	r->dead = true;
	vagent_timer_stop(r->timer);
}

static void brain_destroy(struct flow_brain *b)
{
	size_t i;

	vagent_intent_matcher_free(b->matcher);
	for (i = 0; i < b->max_slots; i++)
		free(b->values[i]);
	free(b->values);
	free(b->query);
	free(b->clarify_text);
	free(b->last_reply);
	for (i = 0; i < b->n_lines; i++)
		free(b->lines[i].text);
	free(b->lines);
	for (i = 0; i < b->n_actions; i++) {
		free(b->actions[i].tool);
		free(b->actions[i].args);
		free(b->actions[i].detail);
	}
	free(b->actions);
	free(b);
}

/* Free ended requests (all when freeing) unless inside a callback;
 * destroy the brain when it was freed. */
static void sweep(struct flow_brain *b)
{
	struct flow_req **pp = &b->reqs;

	if (b->busy)
		return;
	while (*pp) {
		struct flow_req *r = *pp;

		if (r->dead || b->freeing) {
			*pp = r->next;
			req_free(r);
		} else {
			pp = &r->next;
		}
	}
	if (b->freeing)
		brain_destroy(b);
}

static void fail(struct flow_req *r, const char *what)
{
	struct flow_brain *b = r->b;
	char msg[160];

	snprintf(msg, sizeof(msg), "%s: %s", b->base.name, what);
	req_end(r);
	b->base.on_error(b->base.ctx, r->id, VAGENT_ENOMEM, msg);
}

/* Length of the sentence at s (through its end punctuation and spaces). */
static size_t sentence_len(const char *s)
{
	size_t i = 0;

	while (s[i]) {
		if ((s[i] == '.' || s[i] == '?' || s[i] == '!') &&
		    (s[i + 1] == ' ' || s[i + 1] == '\0')) {
			i++;
			while (s[i] == ' ')
				i++;
			return i;
		}
		i++;
	}
	return i;
}

/*
 * PCI mode follows the dialog: on while a card slot is asked for (the
 * host then keeps the caller's audio from the recogniser and the
 * recording), off once it is filled or the intent is left. Called before
 * every output of a request, so the host knows before the prompt plays.
 */
static void update_sensitive(struct flow_req *r)
{
	struct flow_brain *b = r->b;
	bool want = b->stage == ST_COLLECT && b->intent >= 0 &&
		    the_intent(b)->slots[b->slot].type == VAGENT_SLOT_CARD;

	if (want == b->sensitive || !b->base.on_sensitive)
		return;
	b->sensitive = want;
	b->base.on_sensitive(b->base.ctx, r->id, want);
}

static void speak_step(struct flow_req *r)
{
	struct flow_brain *b = r->b;

	update_sensitive(r);
	if (r->dead)
		return;

	if (r->say && r->say[r->pos]) {
		size_t n = sentence_len(r->say + r->pos);
		char *delta = malloc(n + 2);

		if (!delta) {
			fail(r, "out of memory");
			return;
		}
		memcpy(delta, r->say + r->pos, n);
		delta[n] = '\0';
		r->pos += n;
		/* Before a hand-off the last sentence ends with a space, so a
		 * host that splits sentences at ". " sends it to speech now,
		 * ahead of the hold phrase it says on on_escalate. */
		if (!r->say[r->pos] && r->escalate && n && delta[n - 1] != ' ')
			strcpy(delta + n, " ");
		b->base.on_text(b->base.ctx, r->id, delta);
		free(delta);
		if (r->dead)
			return;
		if (r->say[r->pos]) {
			if (vagent_timer_start(r->timer, (int64_t)b->cfg.sentence_ms *
					       VAGENT_TICKS_PER_MS, 0, NULL) != VAGENT_OK)
				fail(r, "out of memory");
			return;
		}
	}
	if (r->escalate) {
		b->base.on_escalate(b->base.ctx, r->id, r->escalate,
				    r->package ? r->package : "{}");
		if (r->dead)
			return;
	}
	if (b->stage == ST_ENDED && b->base.on_hangup) {
		b->base.on_hangup(b->base.ctx, r->id);
		if (r->dead)
			return;
	}
	if (b->stage == ST_COLLECT && b->base.on_expect_digits && b->intent >= 0) {
		/* a fixed-length number was asked for: the host need not wait
		 * for more digits once it has them all */
		const struct vagent_agent_slot *sl =
			&b->agent->flow.intents[b->intent].slots[b->slot];

		if ((sl->type == VAGENT_SLOT_ORDER_NUMBER || sl->type == VAGENT_SLOT_DIGITS) &&
		    sl->max_len > 0 && sl->min_len == sl->max_len) {
			b->base.on_expect_digits(b->base.ctx, r->id, sl->max_len);
			if (r->dead)
				return;
		}
	}
	req_end(r);
	b->base.on_done(b->base.ctx, r->id);
}

static void remember_reply(struct flow_req *r)
{
	struct flow_brain *b = r->b;

	if (r->say && *r->say) {
		free(b->last_reply);
		b->last_reply = xstrdup(b, r->say);
	}
}

static void think(struct flow_req *r)
{
	struct flow_brain *b = r->b;

	decide(r);
	if (b->oom) {
		b->oom = false;
		fail(r, "out of memory");
		return;
	}
	remember_reply(r);
	update_sensitive(r);
	if (r->dead)
		return;
	b->base.on_first_token(b->base.ctx, r->id);
	if (r->dead)
		return;
	if (r->tool) {
		snprintf(r->call_id, sizeof(r->call_id), "flow_%d", ++b->calls);
		if (pending_action(b))
			snprintf(pending_action(b)->call_id,
				 sizeof(pending_action(b)->call_id), "%s", r->call_id);
		r->state = RQ_TOOL;
		b->base.on_tool_call(b->base.ctx, r->id, r->tool, r->call_id,
				     r->tool_args);
		return;
	}
	r->state = RQ_SPEAK;
	speak_step(r);
}

static void on_timer(struct vagent_timer *t, void *arg)
{
	struct flow_req *r = arg;
	struct flow_brain *b = r->b;

	(void)t;
	b->busy++;
	if (!r->dead) {
		if (r->state == RQ_THINK)
			think(r);
		else if (r->state == RQ_SPEAK)
			speak_step(r);
	}
	b->busy--;
	sweep(b);
}

/* ---- ops ---- */

static vagent_status flow_respond(struct vagent_brain *base,
				  const struct vagent_brain_request *req,
				  struct vagent_error *err)
{
	struct flow_brain *b = (struct flow_brain *)base;
	struct flow_req *r;

	if (!req)
		return vagent__error_set(err, VAGENT_EINVAL, base->name,
					 "no request");
	if (!base->loop || !base->on_first_token || !base->on_text ||
	    !base->on_done || !base->on_error || !base->on_tool_call ||
	    !base->on_escalate)
		return vagent__error_set(err, VAGENT_EINVAL, base->name,
					 "loop or callbacks not set");
	r = calloc(1, sizeof(*r));
	if (!r)
		return vagent__error_set(err, VAGENT_ENOMEM, base->name,
					 "out of memory");
	r->b = b;
	r->id = req->id;
	r->turn = req->turn;
	r->greeting = req->greeting;
	r->caller_text = strdup(req->caller_text ? req->caller_text : "");
	r->dtmf = req->dtmf ? strdup(req->dtmf) : NULL;
	r->timer = vagent_timer_new(base->loop, on_timer, r);
	if (!r->caller_text || (req->dtmf && !r->dtmf) || !r->timer ||
	    vagent_timer_start(r->timer, (int64_t)b->cfg.think_ms *
			       VAGENT_TICKS_PER_MS, 0, err) != VAGENT_OK) {
		req_free(r);
		return vagent__error_set(err, VAGENT_ENOMEM, base->name,
					 "out of memory");
	}
	r->next = b->reqs;
	b->reqs = r;
	return VAGENT_OK;
}

static void flow_tool_result(struct vagent_brain *base, uint64_t id,
			     const char *call_id, vagent_status st,
			     const char *result)
{
	struct flow_brain *b = (struct flow_brain *)base;
	struct flow_req *r;

	for (r = b->reqs; r; r = r->next) {
		if (r->dead || r->id != id || r->state != RQ_TOOL)
			continue;
		if (call_id && strcmp(call_id, r->call_id) != 0)
			continue;
		after_tool(r, st, result);
		remember_reply(r);
		r->state = RQ_SPEAK;
		if (vagent_timer_start(r->timer, 0, 0, NULL) != VAGENT_OK)
			b->oom = true;
		return;
	}
	/* The request was cancelled but the tool ran to its end (a host
	 * that lets tools finish on barge-in): the package still tells. */
	if (call_id && pending_action(b) &&
	    strcmp(pending_action(b)->call_id, call_id) == 0) {
		struct action *a = pending_action(b);
		cJSON *j = st == VAGENT_OK && result ? cJSON_Parse(result) : NULL;

		a->outcome = j ? "ok" : "error";
		a->detail = xstrdup(b, st == VAGENT_OK && !j
				    ? "malformed result (not JSON)" : result);
		cJSON_Delete(j);
	}
}

static void flow_cancel(struct vagent_brain *base, uint64_t id)
{
	struct flow_brain *b = (struct flow_brain *)base;
	struct flow_req *r;

	for (r = b->reqs; r; r = r->next)
		if (r->id == id)
			req_end(r);
	sweep(b);
}

static void flow_stop(struct vagent_brain *base)
{
	struct flow_brain *b = (struct flow_brain *)base;
	struct flow_req *r;

	for (r = b->reqs; r; r = r->next)
		req_end(r);
	sweep(b);
}

static void flow_free(struct vagent_brain *base)
{
	/* stop every request; the sweep then frees the brain too */
	((struct flow_brain *)base)->freeing = true;
	flow_stop(base);
}

static const struct vagent_brain_ops flow_ops = {
	.respond = flow_respond,
	.tool_result = flow_tool_result,
	.cancel = flow_cancel,
	.stop = flow_stop,
	.free = flow_free,
};

bool vagent_flow_brain_ended(const struct vagent_brain *base)
{
	const struct flow_brain *b = (const struct flow_brain *)base;

	return base && base->ops == &flow_ops && b->stage == ST_ENDED;
}

/* ---- construction ---- */

vagent_status vagent_flow_brain_new(const struct vagent_agent *agent,
				    const struct vagent_flow_config *cfg,
				    struct vagent_brain **out,
				    struct vagent_error *err)
{
	struct vagent_flow_config def = vagent_flow_config_default();
	struct flow_brain *b;
	size_t i;

	if (!out)
		return vagent__error_set(err, VAGENT_EINVAL, "flow",
					 "no output pointer");
	*out = NULL;
	if (!cfg)
		cfg = &def;
	if (!agent)
		return vagent__error_set(err, VAGENT_EINVAL, "flow", "no agent");
	if (cfg->think_ms < 0 || cfg->sentence_ms < 0)
		return vagent__error_set(err, VAGENT_EINVAL, "flow",
					 "think_ms and sentence_ms must be >= 0");
	b = calloc(1, sizeof(*b));
	if (!b)
		return vagent__error_set(err, VAGENT_ENOMEM, "flow", "out of memory");
	b->base.ops = &flow_ops;
	snprintf(b->base.name, sizeof(b->base.name), "%s",
		 cfg->name[0] ? cfg->name : "flow");
	b->agent = agent;
	b->cfg = *cfg;
	b->cfg.reference_date = NULL;
	b->intent = -1;
	if (cfg->reference_date) {
		int y, m, d;

		if (strlen(cfg->reference_date) != 10 ||
		    sscanf(cfg->reference_date, "%4d-%2d-%2d", &y, &m, &d) != 3) {
			brain_destroy(b);
			return vagent__error_set(err, VAGENT_EINVAL, "flow",
						 "reference_date \"%s\": not YYYY-MM-DD",
						 cfg->reference_date);
		}
		snprintf(b->reference_date, sizeof(b->reference_date), "%s",
			 cfg->reference_date);
	} else {
		time_t now = time(NULL);
		struct tm tm;

		gmtime_r(&now, &tm);
		strftime(b->reference_date, sizeof(b->reference_date), "%Y-%m-%d",
			 &tm);
	}
	for (i = 0; i < agent->flow.n_intents; i++)
		if (agent->flow.intents[i].n_slots > b->max_slots)
			b->max_slots = agent->flow.intents[i].n_slots;
	b->values = calloc(b->max_slots ? b->max_slots : 1, sizeof(*b->values));
	if (!b->values || vagent_intent_matcher_new(&b->matcher) != VAGENT_OK) {
		brain_destroy(b);
		return vagent__error_set(err, VAGENT_ENOMEM, "flow", "out of memory");
	}
	for (i = 0; i < agent->flow.n_intents; i++) {
		const struct vagent_agent_intent *in = &agent->flow.intents[i];

		if (vagent_intent_matcher_add(b->matcher, (int)i,
					      (const char *const *)in->examples,
					      (const char *const *)in->keywords)
		    != VAGENT_OK) {
			brain_destroy(b);
			return vagent__error_set(err, VAGENT_ENOMEM, "flow",
						 "out of memory");
		}
	}
	*out = &b->base;
	return VAGENT_OK;
}
