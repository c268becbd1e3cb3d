/*
 * chat_echo.c — echo-caused false interruptions of a live call, for
 * `make bench BENCH=chat` (docs/chat.md "Echo"): the example agent on the
 * embedded stack talks in a simulated room whose mic hears the speaker
 * (delay, gain, a short reverberant tail, room noise) and no caller at
 * all; every barge_in is the agent interrupting itself. Counted per agent
 * minute with the echo canceller, with nothing, and half-duplex.
 *
 *   chat_echo AGENT.json [MODE]
 *
 * Virtual clock, compute not charged (the count does not depend on this
 * machine's speed); the agent's greeting, its "are you still there?"
 * and its goodbye are what it says, plus its answers to whatever it
 * thought it heard.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "vagent.h"

#define FIR_MS 30

struct room {
	int rate;
	size_t frame;
	int16_t *played;
	size_t written, cap, t, avail;
	size_t delay;
	double *fir;                /* the echo path after the delay */
	size_t fir_n;
	uint64_t noise;
};

static int16_t speaker_at(const struct room *r, size_t t)
{
	return t >= r->frame && t - r->frame < r->written ? r->played[t - r->frame] : 0;
}

static size_t room_read(void *ctx, int16_t *mic, int16_t *ref, size_t max)
{
	struct room *r = ctx;
	size_t k = max < r->avail ? max : r->avail;

	for (size_t i = 0; i < k; i++, r->t++) {
		double v = 0;

		for (size_t j = 0; j < r->fir_n; j++)
			if (r->t >= r->delay + j && r->fir[j] != 0)
				v += r->fir[j] * speaker_at(r, r->t - r->delay - j);
		r->noise = r->noise * 6364136223846793005ULL + 1442695040888963407ULL;
		v += (double)((int)(r->noise >> 33) % 201 - 100);     /* ~-55 dBFS */
		mic[i] = (int16_t)(v > 32767 ? 32767 : v < -32768 ? -32768 : lrint(v));
		if (ref)
			ref[i] = speaker_at(r, r->t);
	}
	r->avail -= k;
	return k;
}

static size_t room_write(void *ctx, const int16_t *s, size_t n)
{
	struct room *r = ctx;

	if (r->written + n > r->cap) {
		r->cap = 2 * (r->written + n);
		r->played = realloc(r->played, r->cap * sizeof(*r->played));
		if (!r->played)
			abort();
	}
	memcpy(r->played + r->written, s, n * sizeof(*s));
	r->written += n;
	r->avail += n;
	return n;
}

static size_t room_pending(void *ctx)
{
	struct room *r = ctx;
	size_t played = r->t > r->frame ? r->t - r->frame : 0;

	return r->written > played ? r->written - played : 0;
}

/* Direct path at `gain_db`, then a decaying tail of seeded reflections. */
static void room_init(struct room *r, int rate, int delay_ms, double gain_db, uint64_t seed)
{
	double g = pow(10, gain_db / 20);

	memset(r, 0, sizeof(*r));
	r->rate = rate;
	r->frame = (size_t)rate / 50;
	r->avail = r->frame;
	r->delay = (size_t)(rate / 1000 * delay_ms);
	r->fir_n = (size_t)(rate / 1000 * FIR_MS);
	r->fir = calloc(r->fir_n, sizeof(*r->fir));
	r->noise = seed;
	r->fir[0] = g;
	for (size_t j = 8; j < r->fir_n; j += 5) {
		r->noise = r->noise * 6364136223846793005ULL + 1442695040888963407ULL;
		r->fir[j] = g * 0.5 * exp(-(double)j / (r->fir_n / 4.0)) *
			    (((r->noise >> 40) & 1) ? 1 : -1);
	}
}

struct outcome {
	size_t barge_ins;
	double agent_ms;
	double call_ms;
};

static int run_call(const char *agent_path, vagent_echo_mode mode, int delay_ms,
		    double gain_db, struct outcome *o)
{
	struct vagent_agent *agent = NULL;
	struct vagent_agent_stack *stack = NULL;
	struct vagent_stack_options so = { 0 };
	struct vagent_live_caller_config lc = vagent_live_caller_config_default();
	struct vagent_session_config cfg = vagent_session_config_default();
	struct vagent_caller *caller = NULL;
	struct vagent_session *s = NULL;
	struct vagent_trace *t = NULL;
	struct vagent_error err;
	struct room room;
	const char *text;
	size_t len;
	double start = -1;

	if (vagent_agent_load(agent_path, &agent, &err) != VAGENT_OK) {
		fprintf(stderr, "chat_echo: %s\n", err.message);
		return 1;
	}
	room_init(&room, agent->rate, delay_ms, gain_db, 42);
	so.rate = agent->rate;
	so.seed = 1;
	so.prefer_mock_tools = true;
	if (vagent_agent_stack_new(agent, &so, &stack, &err) != VAGENT_OK)
		goto fail;
	lc.rate = agent->rate;
	lc.echo = mode;
	lc.vad = agent->config.vad;
	lc.audio.ctx = &room;
	lc.audio.read = room_read;
	lc.audio.write = room_write;
	lc.audio.pending = room_pending;
	lc.audio.has_reference = true;
	if (vagent_live_caller_new(&lc, &caller, &err) != VAGENT_OK)
		goto fail;
	cfg.name = "echo";
	cfg.rate = agent->rate;
	cfg.agent = agent->config;
	cfg.stt[0] = stack->stt;
	cfg.brain[0] = stack->brain;
	cfg.tts[0] = stack->tts;
	cfg.tools = stack->tools;
	cfg.caller = caller;
	cfg.keep_trace = true;
	cfg.max_call_ms = 90000;
	cfg.job_clock = VAGENT_JOB_FREE;
	if (vagent_session_run(&cfg, VAGENT_CLOCK_VIRTUAL, &s, &err) != VAGENT_OK)
		goto fail;
	text = vagent_session_trace(s, &len);
	if (getenv("CHAT_ECHO_TRACE"))      /* the calls' traces, to look at */
		fputs(text, stderr);
	if (vagent_trace_parse(text, len, "echo", &t, &err) != VAGENT_OK)
		goto fail;
	memset(o, 0, sizeof(*o));
	for (size_t i = 0; i < t->n; i++) {
		const struct vagent_trace_event *e = &t->events[i];

		if (e->type == VAGENT_TRACE_BARGE_IN)
			o->barge_ins++;
		else if (e->type == VAGENT_TRACE_AGENT_AUDIO_START)
			start = e->t_us / 1000.0;
		else if (e->type == VAGENT_TRACE_AGENT_AUDIO_STOP && start >= 0) {
			o->agent_ms += e->t_us / 1000.0 - start;
			start = -1;
		}
	}
	o->call_ms = vagent_ticks_to_ms(vagent_session_result(s)->duration);
	vagent_trace_free(t);
	vagent_session_free(s);
	vagent_caller_free(caller);
	vagent_agent_stack_free(stack);
	vagent_agent_free(agent);
	free(room.played);
	free(room.fir);
	return 0;
fail:
	fprintf(stderr, "chat_echo: %s\n", err.message);
	vagent_trace_free(t);
	vagent_session_free(s);
	vagent_caller_free(caller);
	vagent_agent_stack_free(stack);
	vagent_agent_free(agent);
	free(room.played);
	free(room.fir);
	return 1;
}

int main(int argc, char **argv)
{
	static const struct { int delay_ms; double gain_db; } rooms[] = {
		{ 40, -6 }, { 80, -9 }, { 120, -12 },
	};
	static const vagent_echo_mode modes[] = {
		VAGENT_ECHO_OFF, VAGENT_ECHO_AEC, VAGENT_ECHO_HALF_DUPLEX,
	};

	if (argc < 2) {
		fprintf(stderr, "usage: chat_echo AGENT.json [off|aec|half-duplex]\n");
		return 2;
	}
	printf("%-12s %-16s %9s %9s %10s %14s\n", "echo", "room", "call s", "agent s",
	       "barge-ins", "per agent min");
	for (size_t m = 0; m < sizeof(modes) / sizeof(modes[0]); m++) {
		size_t total = 0;
		double agent_ms = 0;

		if (argc > 2 && strcmp(argv[2], vagent_echo_mode_name(modes[m])))
			continue;
		for (size_t r = 0; r < sizeof(rooms) / sizeof(rooms[0]); r++) {
			struct outcome o;
			char room[32];

			if (run_call(argv[1], modes[m], rooms[r].delay_ms, rooms[r].gain_db, &o))
				return 3;
			snprintf(room, sizeof(room), "%d ms, %.0f dB", rooms[r].delay_ms,
				 rooms[r].gain_db);
			printf("%-12s %-16s %9.1f %9.1f %10zu %14.2f\n", vagent_echo_mode_name(modes[m]),
			       room, o.call_ms / 1000, o.agent_ms / 1000, o.barge_ins,
			       o.agent_ms > 0 ? o.barge_ins / (o.agent_ms / 60000) : 0);
			fflush(stdout);
			total += o.barge_ins;
			agent_ms += o.agent_ms;
		}
		printf("%-12s %-16s %9s %9.1f %10zu %14.2f\n", vagent_echo_mode_name(modes[m]),
		       "all rooms", "", agent_ms / 1000, total,
		       agent_ms > 0 ? total / (agent_ms / 60000) : 0);
	}
	return 0;
}
