/*
 * session_bench.c — full-session figures for `make bench BENCH=session`:
 * how much faster than real time the virtual clock runs a 10-turn
 * simulated call on one core, and how many real-clock simulated calls one
 * process paces with every output frame within 5 ms of its deadline.
 *
 *   session_bench virtual CALLS
 *   session_bench real SESSIONS LOOPS [RATE]
 *
 * Both use the same simulated call: a greeting, then the caller's turns
 * (customer-service phrases, each said a few hundred ms after the agent
 * finished), one of them a barge-in, two of them tool calls; simulated
 * STT, LLM, TTS and tools with jittered latencies; a different seed per
 * call.
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>

#include "vagent.h"

static const char *const phrases[] = {
	"Hi, I am calling about my order.",
	"The order number is four five one two.",
	"It was supposed to arrive on Monday.",
	"Can you tell me where it is now?",
	"Okay, and when will it be delivered?",
	"I would also like to change the delivery address.",
	"It is twelve Oak Street, apartment three.",
	"Yes, that is correct.",
	"Can I get a refund for the shipping?",
	"Thank you, that is all. Goodbye.",
};

static const struct vagent_sim_rule rules[] = {
	{ .pattern = "where is it", .tool = "get_order", .args = "{\"order\":\"4512\"}",
	  .reply = "Your order is {result.status}. It left our warehouse yesterday." },
	{ .pattern = "refund", .tool = "refund_shipping", .args = "{\"order\":\"4512\"}",
	  .reply = "Done. Your refund number is {result.refund}." },
	{ .pattern = "goodbye", .reply = "Thank you for calling. Goodbye!" },
	{ .pattern = "", .reply = "Sure, I can help with that. Let me note it down. "
				  "Is there anything else I should know?" },
};

static const struct vagent_sim_tool tools[] = {
	{ .name = "get_order", .result = "{\"status\":\"in transit\"}", .latency = { 250, 200 } },
	{ .name = "refund_shipping", .result = "{\"refund\":\"R-981\"}", .latency = { 400, 300 } },
};

struct call {
	struct vagent_stt *stt;
	struct vagent_brain *llm;
	struct vagent_tts *tts;
	struct vagent_tools *tools;
	struct vagent_caller *caller;
	struct vagent_session *s;
	struct vagent_sim_step steps[16];
};

static void call_build(struct call *c, uint64_t seed, int rate, size_t turns)
{
	struct vagent_sim_stt_config stt = vagent_sim_stt_config_default();
	struct vagent_sim_llm_config llm = vagent_sim_llm_config_default();
	struct vagent_sim_tts_config tts = vagent_sim_tts_config_default();
	struct vagent_sim_tools_config tc = { .tools = tools, .n_tools = 2 };
	struct vagent_sim_caller_config cc = vagent_sim_caller_config_default();
	struct vagent_error err;
	size_t i;

	memset(c, 0, sizeof(*c));
	stt.seed = llm.seed = tts.seed = tc.seed = cc.seed = seed;
	llm.greeting = "Thanks for calling. How can I help you today?";
	llm.rules = rules;
	llm.n_rules = sizeof(rules) / sizeof(rules[0]);
	snprintf(tc.name, sizeof(tc.name), "sim-tools");
	for (i = 0; i < turns && i < 10; i++) {
		c->steps[i].kind = VAGENT_STEP_SAY;
		c->steps[i].text = phrases[i];
		if (i == 5) {
			/* a barge-in: talk over the reply */
			c->steps[i].anchor = VAGENT_ANCHOR_AGENT_SPEAKING;
			c->steps[i].offset_ms = 700;
		} else {
			c->steps[i].anchor = VAGENT_ANCHOR_AGENT_DONE;
			c->steps[i].offset_ms = 300 + (int)((seed * 37 + i * 101) % 400);
		}
	}
	cc.rate = rate;
	cc.steps = c->steps;
	cc.n_steps = i;
	cc.hangup_after_ms = 500;
	if (vagent_sim_stt_new(&stt, &c->stt, &err) != VAGENT_OK ||
	    vagent_sim_llm_new(&llm, &c->llm, &err) != VAGENT_OK ||
	    vagent_sim_tts_new(&tts, &c->tts, &err) != VAGENT_OK ||
	    vagent_sim_tools_new(&tc, &c->tools, &err) != VAGENT_OK ||
	    vagent_sim_caller_new(&cc, &c->caller, &err) != VAGENT_OK) {
		fprintf(stderr, "session_bench: %s\n", err.message);
		exit(3);
	}
}

static struct vagent_session_config call_config(struct call *c, int rate)
{
	struct vagent_session_config cfg = vagent_session_config_default();

	cfg.rate = rate;
	cfg.stt[0] = c->stt;
	cfg.brain[0] = c->llm;
	cfg.tts[0] = c->tts;
	cfg.tools = c->tools;
	cfg.caller = c->caller;
	return cfg;
}

static void call_free(struct call *c)
{
	vagent_session_free(c->s);
	vagent_stt_free(c->stt);
	vagent_brain_free(c->llm);
	vagent_tts_free(c->tts);
	vagent_tools_free(c->tools);
	vagent_caller_free(c->caller);
}

static double now_s(clockid_t id)
{
	struct timespec ts;

	clock_gettime(id, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int bench_virtual(int calls)
{
	double media = 0, cpu0 = now_s(CLOCK_PROCESS_CPUTIME_ID), wall0 = now_s(CLOCK_MONOTONIC);
	double cpu, wall;
	size_t turns = 0, barge = 0;
	int i;

	for (i = 0; i < calls; i++) {
		struct call c;
		struct vagent_session_config cfg;
		struct vagent_error err;
		const struct vagent_session_result *r;
		size_t k;

		call_build(&c, (uint64_t)i + 1, 16000, 10);
		cfg = call_config(&c, 16000);
		if (vagent_session_run(&cfg, VAGENT_CLOCK_VIRTUAL, &c.s, &err) != VAGENT_OK) {
			fprintf(stderr, "session_bench: %s\n", err.message);
			return 3;
		}
		r = vagent_session_result(c.s);
		media += (double)r->duration / (double)VAGENT_TICKS_PER_SEC;
		turns += r->n_turns;
		for (k = 0; k < r->n_turns; k++)
			barge += r->turns[k].interrupted;
		call_free(&c);
	}
	cpu = now_s(CLOCK_PROCESS_CPUTIME_ID) - cpu0;
	wall = now_s(CLOCK_MONOTONIC) - wall0;
	printf("virtual clock, one thread: %d calls of 10 caller turns (%zu turns, %zu barge-ins), "
	       "%.1f s of calls (%.1f s each) in %.3f s CPU / %.3f s wall: %.0fx real time\n",
	       calls, turns, barge, media, media / calls, cpu, wall, media / cpu);
	return 0;
}

/* ---- real clock: many sessions, paced ---- */

struct loop_job {
	struct vagent_loop *loop;
	struct call *calls;
	int n, started, finished;
	struct vagent_timer *starter;
	int rate;
};

static void on_done(struct vagent_session *s, void *arg)
{
	struct loop_job *j = arg;

	(void)s;
	if (++j->finished == j->n)
		vagent_loop_stop(j->loop);
}

/* Start the sessions one by one, spread evenly over one 20 ms period, so
 * their ticks interleave instead of all falling due at once. */
static void start_next(struct vagent_timer *t, void *arg)
{
	struct loop_job *j = arg;
	struct vagent_error err;

	if (j->started == j->n) {
		vagent_timer_stop(t);
		return;
	}
	if (vagent_session_start(j->calls[j->started].s, &err) != VAGENT_OK) {
		fprintf(stderr, "session_bench: %s\n", err.message);
		exit(3);
	}
	j->started++;
}

static void *run_loop(void *arg)
{
	struct loop_job *j = arg;
	struct vagent_error err;

	if (vagent_loop_run(j->loop, VAGENT_RUN_DEFAULT, &err) != VAGENT_OK) {
		fprintf(stderr, "session_bench: %s\n", err.message);
		exit(3);
	}
	return NULL;
}

static int bench_real(int sessions, int loops, int rate)
{
	struct loop_job *jobs = calloc((size_t)loops, sizeof(*jobs));
	pthread_t *th = calloc((size_t)loops, sizeof(*th));
	size_t frames = 0, late = 0;
	int64_t max_late = 0;
	double media = 0, wall0, wall, cpu0, cpu;
	int l, i;

	for (l = 0; l < loops; l++) {
		struct loop_job *j = &jobs[l];
		struct vagent_loop_config lc = vagent_loop_config_default();
		struct vagent_error err;

		lc.clock = VAGENT_CLOCK_REAL;
		lc.workers = 1;
		j->n = sessions / loops + (l < sessions % loops);
		j->rate = rate;
		j->calls = calloc((size_t)j->n, sizeof(*j->calls));
		if (vagent_loop_new(&lc, &j->loop, &err) != VAGENT_OK) {
			fprintf(stderr, "session_bench: %s\n", err.message);
			return 3;
		}
		for (i = 0; i < j->n; i++) {
			struct call *c = &j->calls[i];
			struct vagent_session_config cfg;

			call_build(c, (uint64_t)(l * 100000 + i + 1), rate, 4);
			cfg = call_config(c, rate);
			if (vagent_session_new(j->loop, &cfg, &c->s, &err) != VAGENT_OK) {
				fprintf(stderr, "session_bench: %s\n", err.message);
				return 3;
			}
			vagent_session_on_done(c->s, on_done, j);
		}
		j->starter = vagent_timer_new(j->loop, start_next, j);
		vagent_timer_start(j->starter, 0,
				   vagent_ticks_from_ms(20) / (j->n ? j->n : 1), NULL);
	}
	wall0 = now_s(CLOCK_MONOTONIC);
	cpu0 = now_s(CLOCK_PROCESS_CPUTIME_ID);
	for (l = 0; l < loops; l++)
		pthread_create(&th[l], NULL, run_loop, &jobs[l]);
	for (l = 0; l < loops; l++)
		pthread_join(th[l], NULL);
	wall = now_s(CLOCK_MONOTONIC) - wall0;
	cpu = now_s(CLOCK_PROCESS_CPUTIME_ID) - cpu0;
	for (l = 0; l < loops; l++) {
		struct loop_job *j = &jobs[l];

		for (i = 0; i < j->n; i++) {
			const struct vagent_session_result *r = vagent_session_result(j->calls[i].s);

			frames += r->frames_out;
			late += r->frames_late;
			if (r->max_lateness > max_late)
				max_late = r->max_lateness;
			media += (double)r->duration / (double)VAGENT_TICKS_PER_SEC;
			call_free(&j->calls[i]);
		}
		vagent_timer_free(j->starter);
		vagent_loop_free(j->loop);
		free(j->calls);
	}
	printf("real clock: %5d sessions on %d loop thread%s (%d kHz, %.1f s calls): "
	       "%zu frames, %zu later than 5 ms (%.4f%%), max lateness %.2f ms, "
	       "CPU %.0f%% of one core: %s\n",
	       sessions, loops, loops == 1 ? "" : "s", rate / 1000, media / sessions,
	       frames, late,
	       frames ? 100.0 * (double)late / (double)frames : 0.0,
	       (double)max_late / (double)VAGENT_TICKS_PER_MS, 100.0 * cpu / wall,
	       late == 0 ? "sustained" : "NOT sustained");
	free(jobs);
	free(th);
	return late == 0 ? 0 : 1;
}

int main(int argc, char **argv)
{
	if (argc == 3 && strcmp(argv[1], "virtual") == 0)
		return bench_virtual(atoi(argv[2]));
	if ((argc == 4 || argc == 5) && strcmp(argv[1], "real") == 0)
		return bench_real(atoi(argv[2]), atoi(argv[3]),
				  argc == 5 ? atoi(argv[4]) : 8000) == 3 ? 3 : 0;
	fprintf(stderr, "usage: session_bench virtual CALLS | real SESSIONS LOOPS [RATE]\n");
	return 2;
}
