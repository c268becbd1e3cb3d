/*
 * call.c — running a scenario: load its agent, build the agent's
 * providers, voice the caller's lines (a flite caller voice, a recording,
 * or speech-like audio), put them through the caller leg's codec
 * (G.711 μ-law/A-law at 8 kHz, Opus), noise, loss and jitter, put the
 * scenario's faults in front of the agent's providers, and run the
 * session to its end. The stack and session set-up is shared with
 * replayed calls (lib/replay).
 */
#include <pthread.h>
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
	if (st->dtmf) {
		rc = vagent_dtmf_synth(st->dtmf, rate, st->tone_ms, st->gap_ms, &a, err);
		if (rc != VAGENT_OK)
			return rc;
	} else if (st->audio_path) {
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

/* The loudness of the caller's speech (P.56 active level over all its
 * lines), which the noise's SNR is relative to. */
static double speech_level(const struct vagent_scenario *sc,
			   struct vagent_audio **audio, int rate)
{
	struct vagent_audio *all, *sl = NULL;
	size_t frames = 0, at = 0;
	double level;

	for (size_t i = 0; i < sc->n_steps; i++)
		if (audio[i] && !sc->steps[i].dtmf)
			frames += audio[i]->frames;
	if (!frames) {
		/* speech-like voice: measure a sample of it */
		if (vagent_speechlike_synth("I would like to check on my order please",
					    rate, sc->seed, &sl, NULL) != VAGENT_OK)
			return -26.0;
		level = vagent_audio_active_level_dbfs(sl);
		vagent_audio_free(sl);
		return level;
	}
	all = vagent_audio_new(rate, 1, frames);
	if (!all)
		return -26.0;
	for (size_t i = 0; i < sc->n_steps; i++)
		if (audio[i] && !sc->steps[i].dtmf) {
			memcpy(all->samples + at, audio[i]->samples,
			       audio[i]->frames * sizeof(float));
			at += audio[i]->frames;
		}
	level = vagent_audio_active_level_dbfs(all);
	vagent_audio_free(all);
	return level;
}

/* Put the caller behind its telephone leg (codec, noise, loss, jitter)
 * when the scenario has one; *caller is replaced by the leg. */
static vagent_status add_leg(const struct vagent_scenario *sc, int rate,
			     struct vagent_audio **audio,
			     struct vagent_caller **caller, struct vagent_error *err)
{
	struct vagent_leg_config lc = vagent_leg_config_default();
	struct vagent_audio *noise = NULL, *r = NULL;
	vagent_status rc;

	if (sc->codec == VAGENT_ENC_PCM16 && !sc->noise_path && sc->loss <= 0 &&
	    sc->jitter_ms <= 0)
		return VAGENT_OK;
	lc.rate = rate;
	lc.codec = sc->codec;
	lc.opus_bitrate = sc->opus_bitrate;
	lc.loss = sc->loss;
	lc.loss_burst = sc->loss_burst;
	lc.jitter_ms = sc->jitter_ms;
	lc.jitter_buffer_ms = sc->jitter_buffer_ms;
	lc.seed = sc->seed;
	if (sc->noise_path) {
		rc = vagent_audio_load(sc->noise_path, VAGENT_CHANNELS_MIX, &noise, err);
		if (rc != VAGENT_OK)
			return rc;
		if (noise->rate != rate) {
			rc = vagent_audio_resample(noise, rate, -1, &r, err);
			vagent_audio_free(noise);
			if (rc != VAGENT_OK)
				return rc;
			noise = r;
		}
		lc.noise = noise;
		lc.snr_db = sc->snr_db;
		lc.speech_dbfs = speech_level(sc, audio, rate);
	}
	rc = vagent_leg_caller_new(*caller, &lc, caller, err);
	if (rc != VAGENT_OK)
		*caller = NULL;         /* the leg took it over */
	vagent_audio_free(noise);
	return rc;
}

static pthread_mutex_t services_env_lock = PTHREAD_MUTEX_INITIALIZER;

static vagent_status start_services(struct vagent_call_run *r,
				    const struct vagent_scenario_service *services,
				    size_t n, const char *where, struct vagent_error *err)
{
	if (!n)
		return VAGENT_OK;
	r->services = calloc(n, sizeof(*r->services));
	if (!r->services)
		return vagent__error_set(err, VAGENT_ENOMEM, where, "out of memory");
	for (size_t i = 0; i < n; i++) {
		char url[64];
		vagent_status rc = vagent_mock_http_load(services[i].routes_path, NULL,
							 &r->services[i], err);

		if (rc != VAGENT_OK)
			return rc;
		r->n_services = i + 1;
		snprintf(url, sizeof(url), "http://127.0.0.1:%d",
			 vagent_mock_http_port(r->services[i]));
		if (setenv(services[i].env, url, 1) != 0)
			return vagent__error_set(err, VAGENT_ENOMEM, where,
						 "services.%s: cannot set the variable",
						 services[i].env);
	}
	return VAGENT_OK;
}

vagent_status vagent__run_services_agent(struct vagent_call_run *r,
					 const struct vagent_scenario_service *services,
					 size_t n, const char *where, const char *agent_path,
					 struct vagent_error *err)
{
	vagent_status rc;

	pthread_mutex_lock(&services_env_lock);
	rc = start_services(r, services, n, where, err);
	if (rc == VAGENT_OK)
		rc = vagent_agent_load(agent_path, &r->agent, err);
	pthread_mutex_unlock(&services_env_lock);
	return rc;
}

/* Put the scenario's faults in front of the agent's providers. */
static vagent_status add_faults(const struct vagent_scenario *sc,
				struct vagent_call_run *r, uint64_t seed,
				struct vagent_error *err)
{
	vagent_status rc = VAGENT_OK;

	if (sc->n_stt_faults)
		rc = vagent_fault_stt_new(r->stack->stt, sc->stt_faults, sc->n_stt_faults,
					  seed, &r->faulty_stt, err);
	if (rc == VAGENT_OK && sc->n_llm_faults)
		rc = vagent_fault_brain_new(r->stack->brain, sc->llm_faults,
					    sc->n_llm_faults, seed, &r->faulty_brain, err);
	if (rc == VAGENT_OK && sc->n_tts_faults)
		rc = vagent_fault_tts_new(r->stack->tts, sc->tts_faults, sc->n_tts_faults,
					  seed, &r->faulty_tts, err);
	return rc;
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
	cfg.stt[0] = r->faulty_stt ? r->faulty_stt : r->stack->stt;
	cfg.stt[1] = r->stack->stt_fallback;   /* NULL: none */
	cfg.brain[0] = r->faulty_brain ? r->faulty_brain : r->stack->brain;
	cfg.brain[1] = r->stack->fallback_brain;
	cfg.tts[0] = r->faulty_tts ? r->faulty_tts : r->stack->tts;
	cfg.tts[1] = r->stack->tts_fallback;   /* NULL: none */
	cfg.tools = r->stack->tools;
	cfg.caller = r->caller;
	cfg.trace = opt->trace;
	cfg.keep_trace = true;
	cfg.record = opt->record ||
		     vagent_expectations_need_recording(vagent_call_run_expectations(r));
	cfg.max_call_ms = max_call_ms;
	cfg.transfer_webhook = r->agent->escalation.transfer_webhook;
	cfg.job_clock = opt->free_compute ? VAGENT_JOB_FREE : VAGENT_JOB_WALL;
	if (opt->record_providers && opt->replay_providers)
		return vagent__error_set(err, VAGENT_EINVAL, NULL,
					 "record_providers and replay_providers together");
	if (opt->record_providers || opt->replay_providers) {
		vagent_status rc = vagent_cassette_open(
			opt->replay_providers ? opt->replay_providers : opt->record_providers,
			opt->cassette_name ? opt->cassette_name : name,
			opt->replay_providers ? VAGENT_CASSETTE_REPLAY : VAGENT_CASSETTE_RECORD,
			&r->cassette, err);

		if (rc != VAGENT_OK)
			return rc;
		/* the session's loop carries it to the transports */
		vagent_cassette_bind(r->cassette);
		rc = vagent_session_run(&cfg, opt->clock, &r->session, err);
		vagent_cassette_bind(NULL);
		return rc;
	}
	return vagent_session_run(&cfg, opt->clock, &r->session, err);
}

struct vagent_cassette *vagent_call_run_cassette(const struct vagent_call_run *r)
{
	return r ? r->cassette : NULL;
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
	rc = vagent__run_services_agent(r, sc->services, sc->n_services, sc->path,
					opt->agent_path ? opt->agent_path : sc->agent_path, err);
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

		steps[i].kind = st->wait_only ? VAGENT_STEP_WAIT : st->kind;
		steps[i].anchor = st->anchor;
		steps[i].offset_ms = st->offset_ms;
		steps[i].text = st->text;
		steps[i].duration_ms = st->duration_ms;
		if (st->waits_for_event) {
			steps[i].anchor = VAGENT_ANCHOR_EVENT;
			steps[i].event = st->wait_event;
			steps[i].event_match = st->event_match;
		} else if (st->wait_silence_ms) {
			steps[i].anchor = VAGENT_ANCHOR_SILENCE;
			steps[i].silence_ms = st->wait_silence_ms;
		}
		if (st->kind != VAGENT_STEP_SAY || st->wait_only)
			continue;
		rc = step_audio(sc, st, rate, &audio[i], err);
		if (rc != VAGENT_OK)
			goto fail;
		steps[i].audio = audio[i];
	}
	cc.rate = rate;
	cc.steps = steps;
	cc.n_steps = sc->n_steps;
	cc.hangup_after_ms = sc->hangup_after_ms;
	cc.seed = opt->seed;
	rc = vagent_sim_caller_new(&cc, &r->caller, err);
	if (rc == VAGENT_OK)
		rc = add_leg(sc, rate, audio, &r->caller, err);
	if (rc == VAGENT_OK)
		rc = add_faults(sc, r, opt->seed, err);
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
	vagent_stt_free(r->faulty_stt);
	vagent_brain_free(r->faulty_brain);
	vagent_tts_free(r->faulty_tts);
	vagent_expectation_outcomes_free(r->outcomes);
	vagent_agent_stack_free(r->stack);
	vagent_agent_free(r->agent);
	for (size_t i = 0; i < r->n_services; i++)
		vagent_mock_http_free(r->services[i]);
	free(r->services);
	vagent_scenario_free(r->scenario);
	vagent_recorded_call_free(r->call);
	vagent_cassette_unref(r->cassette);
	free(r);
}

const struct vagent_expectations *vagent_call_run_expectations(
	const struct vagent_call_run *r)
{
	if (r && r->scenario)
		return r->scenario->expectations;
	if (r && r->call)
		return r->call->expectations;
	return NULL;
}
