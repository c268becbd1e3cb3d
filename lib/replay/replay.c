/*
 * replay.c — replaying a recorded call against an agent: the agent's
 * stack as for scenarios (lib/run), and a replay caller that plays the
 * recorded caller turns, timed by the mode (turns: after the agent's
 * reply with the recorded gap, or as a barge-in at the recorded offset
 * into the agent's speech; timeline: at the recorded times), with the
 * golden text and true boundaries as the truth. Then the run's tool calls
 * are compared with the recorded ones.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "replay/replay_int.h"
#include "run/run_int.h"

/* After the last caller turn, the caller hangs up this long after the
 * agent's last reply (as a scenario's caller does by default). */
#define REPLAY_HANGUP_AFTER_MS 1500

/*
 * How caller turn `k` starts in turns mode: after the latest agent turn
 * that started since the previous caller turn started — when it had
 * ended, `gap` after the end of the agent's next reply; when it was still
 * going, as a barge-in at the same offset into the agent's next reply;
 * with no agent turn in between, the recorded gap after the previous
 * caller turn (or the recorded start, for the first).
 */
static void turn_anchor(const struct vagent_recorded_call *c, size_t k,
			struct vagent_sim_step *st)
{
	const struct vagent_call_turn *t = &c->turns[k], *prev = NULL, *agent = NULL;

	for (size_t i = 0; i < k; i++) {
		const struct vagent_call_turn *u = &c->turns[i];

		if (u->speaker == VAGENT_SPEAKER_CALLER) {
			prev = u;
			agent = NULL;
		} else if (u->start_ms <= t->start_ms) {
			agent = u;
		}
	}
	if (agent && agent->end_ms <= t->start_ms) {
		st->anchor = VAGENT_ANCHOR_AGENT_DONE;
		st->offset_ms = (int)(t->start_ms - agent->end_ms);
	} else if (agent) {
		st->anchor = VAGENT_ANCHOR_AGENT_SPEAKING;
		st->offset_ms = (int)(t->start_ms - agent->start_ms);
	} else if (prev) {
		st->anchor = VAGENT_ANCHOR_PREV_END;
		st->offset_ms = t->start_ms > prev->end_ms ? (int)(t->start_ms - prev->end_ms) : 0;
	} else {
		st->anchor = VAGENT_ANCHOR_START;
		st->offset_ms = (int)t->start_ms;
	}
}

/* The caller's audio of [start_ms, end_ms) from `a` (mono, the call's
 * rate). (transfer full) */
static struct vagent_audio *slice(const struct vagent_audio *a, int64_t start_ms,
				  int64_t end_ms)
{
	size_t from = (size_t)(start_ms * a->rate / 1000), to = (size_t)(end_ms * a->rate / 1000);
	struct vagent_audio *s;

	if (to > a->frames)
		to = a->frames;
	if (from >= to)
		from = to ? to - 1 : 0;
	s = vagent_audio_new(a->rate, 1, to - from);
	if (s && to > from)
		memcpy(s->samples, a->samples + from, (to - from) * sizeof(float));
	return s;
}

/* The replay caller: the recorded caller turns compiled to steps of the
 * scripted caller (lib/sim), which plays them sample-exact on the media
 * clock and reports their true boundaries and text. */
static vagent_status replay_caller_new(const struct vagent_recorded_call *c, int rate,
				       vagent_replay_mode mode, uint64_t seed,
				       struct vagent_caller **out, struct vagent_error *err)
{
	struct vagent_sim_caller_config cc = vagent_sim_caller_config_default();
	struct vagent_sim_step *steps = NULL;
	struct vagent_audio **audio = NULL, *track = NULL;
	size_t n = 0;
	vagent_status st;

	*out = NULL;
	st = vagent_audio_resample(c->caller_audio, rate, -1, &track, err);
	if (st != VAGENT_OK)
		return st;
	steps = calloc(c->n_turns, sizeof(*steps));
	audio = calloc(c->n_turns, sizeof(*audio));
	if (!steps || !audio) {
		st = vagent__error_set(err, VAGENT_ENOMEM, c->path, "out of memory");
		goto done;
	}
	for (size_t k = 0; k < c->n_turns; k++) {
		const struct vagent_call_turn *t = &c->turns[k];
		struct vagent_sim_step *s = &steps[n];

		if (t->speaker != VAGENT_SPEAKER_CALLER)
			continue;
		s->kind = VAGENT_STEP_SAY;
		s->text = t->text && *t->text ? t->text : NULL;
		if (mode == VAGENT_REPLAY_TIMELINE) {
			s->anchor = VAGENT_ANCHOR_START;
			s->offset_ms = (int)t->start_ms;
		} else {
			turn_anchor(c, k, s);
		}
		audio[n] = slice(track, t->start_ms, t->end_ms);
		if (!audio[n]) {
			st = vagent__error_set(err, VAGENT_ENOMEM, c->path, "out of memory");
			goto done;
		}
		s->audio = audio[n];
		n++;
	}
	cc.rate = rate;
	cc.steps = steps;
	cc.n_steps = n;
	cc.hangup_after_ms = REPLAY_HANGUP_AFTER_MS;
	cc.seed = seed;
	st = vagent_sim_caller_new(&cc, out, err);
done:
	for (size_t k = 0; audio && k < c->n_turns; k++)
		vagent_audio_free(audio[k]);
	free(audio);
	free(steps);
	vagent_audio_free(track);
	return st;
}

/* The run's tool calls from its trace: name and args of each tool.start. */
struct run_tool {
	char *name;
	cJSON *args;
};

static size_t run_tools(const char *trace, size_t len, struct run_tool **out)
{
	struct vagent_trace *t = NULL;
	struct vagent_error e;
	struct run_tool *list;
	size_t n = 0;

	*out = NULL;
	if (vagent_trace_parse(trace ? trace : "", len, "trace", &t, &e) != VAGENT_OK)
		return 0;
	list = calloc(t->n ? t->n : 1, sizeof(*list));
	for (size_t i = 0; list && i < t->n; i++) {
		const struct vagent_trace_event *ev = &t->events[i];

		if (ev->type != VAGENT_TRACE_TOOL_START || !ev->name)
			continue;
		list[n].name = strdup(ev->name);
		list[n].args = cJSON_Parse(ev->args ? ev->args : "{}");
		n++;
	}
	vagent_trace_free(t);
	*out = list;
	return list ? n : 0;
}

void vagent_call_compare_tools(const struct vagent_recorded_call *call,
			       const char *trace, size_t trace_len,
			       struct vagent_expectation_result *out,
			       char *detail, size_t detail_len)
{
	struct run_tool *got = NULL;
	size_t n = run_tools(trace, trace_len, &got), i;
	bool same = true;

	out->name = "tool calls match the recording";
	out->detail = detail;
	for (i = 0; i < n && i < call->n_tools; i++) {
		const struct vagent_call_tool *want = &call->tools[i];
		cJSON *wa = cJSON_Parse(want->args);
		bool eq = got[i].name && !strcmp(got[i].name, want->name) &&
			  cJSON_Compare(wa, got[i].args, true);

		if (!eq) {
			char *ga = got[i].args ? cJSON_PrintUnformatted(got[i].args) : NULL;

			snprintf(detail, detail_len, "call %zu: recorded %s %.150s, got %s %.150s",
				 i + 1, want->name, want->args, got[i].name ? got[i].name : "?",
				 ga ? ga : "?");
			free(ga);
			same = false;
		}
		cJSON_Delete(wa);
		if (!eq)
			break;
	}
	if (same && n != call->n_tools) {
		same = false;
		if (n > call->n_tools) {
			char *ga = got[i].args ? cJSON_PrintUnformatted(got[i].args) : NULL;

			snprintf(detail, detail_len, "recorded %zu tool call%s, got %zu: "
				 "call %zu %s %.150s was not in the recording", call->n_tools,
				 call->n_tools == 1 ? "" : "s", n, i + 1, got[i].name,
				 ga ? ga : "?");
			free(ga);
		} else {
			snprintf(detail, detail_len, "recorded %zu tool call%s, got %zu: "
				 "call %zu %s %.150s was not made", call->n_tools,
				 call->n_tools == 1 ? "" : "s", n, i + 1, call->tools[i].name,
				 call->tools[i].args);
		}
	}
	if (same) {
		size_t w;

		w = (size_t)snprintf(detail, detail_len, "%zu tool call%s as recorded%s", n,
				     n == 1 ? "" : "s", n ? ":" : "");
		for (i = 0; i < n && w < detail_len; i++)
			w += (size_t)snprintf(detail + w, detail_len - w, " %s", got[i].name);
	}
	out->passed = same;
	for (i = 0; i < n; i++) {
		free(got[i].name);
		cJSON_Delete(got[i].args);
	}
	free(got);
}

/* Long enough for the whole recording played in turns, whatever the
 * agent under test takes to answer. */
static int max_call_ms(const struct vagent_recorded_call *c)
{
	int64_t last = 0, ms;

	for (size_t i = 0; i < c->n_turns; i++)
		if (c->turns[i].end_ms > last)
			last = c->turns[i].end_ms;
	ms = 2 * last + 30000 * (int64_t)c->n_turns;
	if (ms < 300000)
		ms = 300000;
	return ms > 3600000 ? 3600000 : (int)ms;
}

vagent_status vagent_call_replay(struct vagent_recorded_call *call,
				 const struct vagent_replay_options *opt,
				 struct vagent_call_run **out,
				 struct vagent_error *err)
{
	struct vagent_call_run *r;
	const char *agent_path = opt->agent_path ? opt->agent_path : call->agent_path;
	const char *trace;
	size_t trace_len = 0;
	vagent_status rc;
	int rate;

	*out = NULL;
	r = calloc(1, sizeof(*r));
	if (!r) {
		vagent_recorded_call_free(call);
		return vagent__error_set(err, VAGENT_ENOMEM, NULL, "out of memory");
	}
	r->call = call;
	if (!agent_path) {
		rc = vagent__error_set(err, VAGENT_EINVAL, call->path, "no agent to replay "
				       "against: give \"agent\" in the call file or --agent");
		goto fail;
	}
	rc = vagent__run_services_agent(r, call->services, call->n_services, call->path,
					agent_path, err);
	if (rc != VAGENT_OK)
		goto fail;
	rate = opt->rate ? opt->rate : call->rate ? call->rate : r->agent->rate;
	rc = vagent__run_stack(r, rate, &opt->run, err);
	if (rc != VAGENT_OK)
		goto fail;
	rc = replay_caller_new(call, rate, opt->mode, opt->run.seed, &r->caller, err);
	if (rc != VAGENT_OK)
		goto fail;
	rc = vagent__run_session(r, call->name, rate, max_call_ms(call), &opt->run, err);
	if (rc != VAGENT_OK)
		goto fail;
	trace = vagent_session_trace(r->session, &trace_len);
	vagent_call_compare_tools(call, trace, trace_len, &call->tool_check, call->tool_detail,
				  sizeof(call->tool_detail));
	call->replayed = true;
	*out = r;
	return VAGENT_OK;
fail:
	vagent_call_run_free(r);
	return rc;
}
