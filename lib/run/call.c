/*
 * call.c — running a scenario: load its agent, build the agent's
 * providers, voice the caller's lines (a flite caller voice, a recording,
 * or speech-like audio), put them through the caller leg's codec
 * (G.711 μ-law/A-law at 8 kHz), and run the session to its end. The
 * stack and session set-up is shared with replayed calls (lib/replay).
 */
#include <stdlib.h>
#include <string.h>

#include "run/run_int.h"

/* The audio of a `say` step at `rate`, or NULL for speech-like audio
 * synthesised by the simulated caller. */
static vagent_status step_audio(const struct vagent_scenario *sc,
				const struct vagent_scenario_step *st, int rate,
				struct vagent_audio **out, struct vagent_error *err)
{
	struct vagent_audio *a = NULL, *r = NULL;
	vagent_status rc;

	*out = NULL;
	if (st->audio_path) {
		rc = vagent_audio_load(st->audio_path, VAGENT_CHANNELS_MIX, &a, err);
		if (rc != VAGENT_OK)
			return rc;
	} else if (!strcmp(sc->voice, "speechlike")) {
		return VAGENT_OK;
	} else {
		rc = vagent_flite_synth(st->text, sc->voice, rate, &a, err);
		if (rc != VAGENT_OK)
			return rc;
	}
	if (a->rate != rate) {
		rc = vagent_audio_resample(a, rate, -1, &r, err);
		vagent_audio_free(a);
		if (rc != VAGENT_OK)
			return rc;
		a = r;
	}
	if (a->frames == 0) {
		vagent_audio_free(a);
		return vagent__error_set(err, VAGENT_EINVAL, sc->path,
					 "a step's audio is empty");
	}
	*out = a;
	return VAGENT_OK;
}

/* The caller leg's codec: quantise to int16 and round-trip G.711. */
static void through_codec(struct vagent_audio *a, vagent_encoding codec)
{
	size_t i;

	if (codec != VAGENT_ENC_ULAW && codec != VAGENT_ENC_ALAW)
		return;
	for (i = 0; i < a->frames * (size_t)a->channels; i++) {
		float v = a->samples[i] * 32768.0f;

		if (!(v == v))          /* NaN from a float file */
			v = 0.0f;
		int16_t s = v > 32767.0f ? 32767 : v < -32768.0f ? -32768 : (int16_t)v;

		s = codec == VAGENT_ENC_ULAW ? vagent_ulaw_decode(vagent_ulaw_encode(s))
					     : vagent_alaw_decode(vagent_alaw_encode(s));
		a->samples[i] = (float)s / 32768.0f;
	}
}

vagent_status vagent__run_stack(struct vagent_call_run *r, int rate,
			       const struct vagent_run_options *opt,
			       struct vagent_error *err)
{
	struct vagent_stack_options so = { 0 };

	so.rate = rate;
	so.seed = opt->seed;
	so.reference_date = opt->reference_date;
	so.prefer_mock_tools = opt->prefer_mock_tools;
	return vagent_agent_stack_new(r->agent, &so, &r->stack, err);
}

vagent_status vagent__run_session(struct vagent_call_run *r, const char *name,
				  int rate, int max_call_ms,
				  const struct vagent_run_options *opt,
				  struct vagent_error *err)
{
	struct vagent_session_config cfg = vagent_session_config_default();

	cfg.name = name;
	cfg.rate = rate;
	cfg.agent = r->agent->config;
	cfg.stt[0] = r->stack->stt;
	cfg.brain[0] = r->stack->brain;
	cfg.tts[0] = r->stack->tts;
	cfg.tools = r->stack->tools;
	cfg.caller = r->caller;
	cfg.trace = opt->trace;
	cfg.keep_trace = true;
	cfg.record = opt->record;
	cfg.max_call_ms = max_call_ms;
	cfg.transfer_webhook = r->agent->escalation.transfer_webhook;
	cfg.job_clock = opt->free_compute ? VAGENT_JOB_FREE : VAGENT_JOB_WALL;
	return vagent_session_run(&cfg, opt->clock, &r->session, err);
}

vagent_status vagent_scenario_run(struct vagent_scenario *sc,
				  const struct vagent_run_options *opt,
				  struct vagent_call_run **out,
				  struct vagent_error *err)
{
	struct vagent_call_run *r;
	struct vagent_sim_caller_config cc = vagent_sim_caller_config_default();
	struct vagent_sim_step *steps = NULL;
	struct vagent_audio **audio = NULL;
	vagent_status rc;
	size_t i;
	int rate;

	*out = NULL;
	r = calloc(1, sizeof(*r));
	if (!r) {
		vagent_scenario_free(sc);
		return vagent__error_set(err, VAGENT_ENOMEM, NULL, "out of memory");
	}
	r->scenario = sc;
	rc = vagent_agent_load(sc->agent_path, &r->agent, err);
	if (rc != VAGENT_OK)
		goto fail;
	if (sc->has_tools) {
		rc = vagent_agent_mock_tools(r->agent, sc->text, sc->text_len, sc->path,
					     "tools", err);
		if (rc != VAGENT_OK)
			goto fail;
	}
	rate = sc->rate ? sc->rate : r->agent->rate;
	rc = vagent__run_stack(r, rate, opt, err);
	if (rc != VAGENT_OK)
		goto fail;

	steps = calloc(sc->n_steps, sizeof(*steps));
	audio = calloc(sc->n_steps, sizeof(*audio));
	if (!steps || !audio) {
		rc = vagent__error_set(err, VAGENT_ENOMEM, sc->path, "out of memory");
		goto fail;
	}
	for (i = 0; i < sc->n_steps; i++) {
		const struct vagent_scenario_step *st = &sc->steps[i];

		steps[i].kind = st->kind;
		steps[i].anchor = st->anchor;
		steps[i].offset_ms = st->offset_ms;
		steps[i].text = st->text;
		steps[i].duration_ms = st->duration_ms;
		if (st->kind != VAGENT_STEP_SAY)
			continue;
		rc = step_audio(sc, st, rate, &audio[i], err);
		if (rc != VAGENT_OK)
			goto fail;
		if (audio[i])
			through_codec(audio[i], sc->codec);
		steps[i].audio = audio[i];
	}
	cc.rate = rate;
	cc.steps = steps;
	cc.n_steps = sc->n_steps;
	cc.hangup_after_ms = sc->hangup_after_ms;
	cc.seed = opt->seed;
	rc = vagent_sim_caller_new(&cc, &r->caller, err);
	if (rc != VAGENT_OK)
		goto fail;
	rc = vagent__run_session(r, sc->name, rate, sc->max_call_ms, opt, err);
	if (rc != VAGENT_OK)
		goto fail;
	for (i = 0; i < sc->n_steps; i++)
		vagent_audio_free(audio[i]);
	free(audio);
	free(steps);
	*out = r;
	return VAGENT_OK;
fail:
	for (i = 0; audio && i < sc->n_steps; i++)
		vagent_audio_free(audio[i]);
	free(audio);
	free(steps);
	vagent_call_run_free(r);
	return rc;
}

void vagent_call_run_free(struct vagent_call_run *r)
{
	if (!r)
		return;
	/* the session first: it stops the providers it uses */
	vagent_session_free(r->session);
	vagent_caller_free(r->caller);
	vagent_agent_stack_free(r->stack);
	vagent_agent_free(r->agent);
	vagent_scenario_free(r->scenario);
	vagent_recorded_call_free(r->call);
	free(r);
}
