/*
 * stack.c — an agent's providers from its agent file: the embedded
 * default stack (pocketsphinx with the agent's vocabulary boost, the flow
 * brain, flite, HTTP/mock tools behind the knowledge tool) or the
 * simulated providers the file names. The composition root of the
 * library: the one place that knows every provider module.
 */
#include <stdlib.h>
#include <string.h>

#include "run/run_int.h"

/* The key of a cloud provider from the variable the agent file names (or
 * the provider's usual one): a missing key is a one-line error naming the
 * variable, never a value. */
static vagent_status cloud_key(const struct vagent_agent *a, const char *slot,
			       const char *env, const char *what, const char **key,
			       struct vagent_error *err)
{
	*key = getenv(env);
	if (!*key || !**key)
		return vagent__error_set(err, VAGENT_EINVAL, a->path,
					 "%s: %s is not set (the %s API key)", slot, env, what);
	return VAGENT_OK;
}

static vagent_status make_deepgram(const struct vagent_agent *a,
				   const struct vagent_stack_options *o,
				   struct vagent_stt **out, struct vagent_error *err)
{
	struct vagent_deepgram_config c = vagent_deepgram_config_default();
	const char *env = a->stt.api_key_env ? a->stt.api_key_env : "DEEPGRAM_API_KEY";

	if (cloud_key(a, "stt", env, "Deepgram", &c.api_key, err) != VAGENT_OK)
		return VAGENT_EINVAL;
	if (a->stt.url)
		c.url = a->stt.url;
	if (a->stt.model)
		c.model = a->stt.model;
	if (a->stt.encoding)
		c.encoding = a->stt.encoding;
	c.language = a->stt.language;
	c.endpointing_ms = a->stt.endpointing_ms;
	c.rate = o->rate;
	return vagent_deepgram_stt_new(&c, out, err);
}

static vagent_status make_openai(const struct vagent_agent *a,
				 const struct vagent_stack_options *o,
				 struct vagent_stt **out, struct vagent_error *err)
{
	struct vagent_openai_stt_config c = vagent_openai_stt_config_default();
	const char *env = a->stt.api_key_env ? a->stt.api_key_env : "OPENAI_API_KEY";

	if (cloud_key(a, "stt", env, "OpenAI", &c.api_key, err) != VAGENT_OK)
		return VAGENT_EINVAL;
	if (a->stt.url)
		c.base_url = a->stt.url;
	if (a->stt.model)
		c.model = a->stt.model;
	c.language = a->stt.language;
	c.rate = o->rate;
	return vagent_openai_stt_new(&c, out, err);
}

static vagent_status make_stt_named(const struct vagent_agent *a, const char *provider,
				    const struct vagent_stack_options *o,
				    struct vagent_stt **out, struct vagent_error *err)
{
	if (!strcmp(provider, "deepgram"))
		return make_deepgram(a, o, out, err);
	if (!strcmp(provider, "openai"))
		return make_openai(a, o, out, err);
	if (!strcmp(provider, "sim")) {
		struct vagent_sim_stt_config c = vagent_sim_stt_config_default();

		c.seed = o->seed;
		return vagent_sim_stt_new(&c, out, err);
	}
	if (!strcmp(provider, "pocketsphinx")) {
		struct vagent_sphinx_config c = vagent_sphinx_config_default();

		c.rate = o->rate;
		c.denoise_db = a->stt.denoise_db;
		if (a->stt.boost) {
			c.boost_phrases = vagent_agent_expected_phrases(a);
			c.boost_weight = a->stt.boost_weight;
		}
		return vagent_sphinx_stt_new(&c, out, err);
	}
	return vagent__error_set(err, VAGENT_EINVAL, a->path,
				 "stt.provider: \"%s\" is not available in this build",
				 provider);
}

/* The agent's STT and, when it names one, its fallback (cfg.stt[1]). */
static vagent_status make_stt(const struct vagent_agent *a,
			      const struct vagent_stack_options *o,
			      struct vagent_agent_stack *st, struct vagent_error *err)
{
	vagent_status rc = make_stt_named(a, a->stt.provider, o, &st->stt, err);

	if (rc == VAGENT_OK && a->stt.fallback)
		rc = make_stt_named(a, a->stt.fallback, o, &st->stt_fallback, err);
	return rc;
}

/* The system prompt when the agent file gives none. */
static char *default_system_prompt(const struct vagent_agent *a)
{
	struct vagent__strbuf b = { 0 };

	vagent__strbuf_printf(&b,
		"You are %s, an automated phone assistant. You are speaking on a "
		"phone call: answer in one or two short, plain sentences, without "
		"lists, markup or emoji. Use the tools to look things up or act; "
		"never invent facts. If the caller asks for a human, say you will "
		"transfer them.", a->name);
	return vagent__strbuf_detach(&b);
}

static vagent_status make_llm(const struct vagent_agent *a,
			      const struct vagent_stack_options *o,
			      struct vagent_brain **out, struct vagent_error *err)
{
	struct vagent_llm_config c = vagent_llm_config_default();
	char *system = NULL;
	vagent_status st;

	if (a->brain.api_key_env) {
		c.api_key = getenv(a->brain.api_key_env);
		c.api_key_env = a->brain.api_key_env;
		if (!c.api_key || !*c.api_key)
			return vagent__error_set(err, VAGENT_EINVAL, a->path,
						 "brain.api_key_env: environment variable %s "
						 "is not set", a->brain.api_key_env);
	}
	c.base_url = a->brain.base_url;
	c.model = a->brain.model;
	c.system = a->brain.system;
	if (!c.system)
		c.system = system = default_system_prompt(a);
	c.greeting = a->greeting;
	c.temperature = a->brain.temperature;
	c.max_tokens = a->brain.max_tokens;
	c.tools = a->tools;
	c.n_tools = a->n_tools;
	c.knowledge = a->knowledge && a->knowledge[0];
	c.seed = o->seed;
	if (!strcmp(a->brain.provider, "openai"))
		st = vagent_openai_brain_new(&c, out, err);
	else
		st = vagent_anthropic_brain_new(&c, out, err);
	free(system);
	return st;
}

static vagent_status make_brain(const struct vagent_agent *a,
				const struct vagent_stack_options *o,
				struct vagent_brain **out, struct vagent_error *err)
{
	if (!strcmp(a->brain.provider, "openai") || !strcmp(a->brain.provider, "anthropic"))
		return make_llm(a, o, out, err);
	if (!strcmp(a->brain.provider, "flow")) {
		struct vagent_flow_config c = vagent_flow_config_default();

		c.seed = o->seed;
		c.reference_date = o->reference_date;
		return vagent_flow_brain_new(a, &c, out, err);
	}
	if (!strcmp(a->brain.provider, "sim")) {
		struct vagent_sim_llm_config c = vagent_sim_llm_config_default();

		c.seed = o->seed;
		c.greeting = a->greeting;
		return vagent_sim_llm_new(&c, out, err);
	}
	return vagent__error_set(err, VAGENT_EINVAL, a->path,
				 "brain.provider: \"%s\" is not available in this build",
				 a->brain.provider);
}

static vagent_status make_openai_tts(const struct vagent_agent *a,
				     struct vagent_tts **out, struct vagent_error *err)
{
	struct vagent_openai_tts_config c = vagent_openai_tts_config_default();
	const char *env = a->tts.api_key_env ? a->tts.api_key_env : "OPENAI_API_KEY";

	if (cloud_key(a, "tts", env, "OpenAI", &c.api_key, err) != VAGENT_OK)
		return VAGENT_EINVAL;
	c.api_key_env = env;
	if (a->tts.url)
		c.base_url = a->tts.url;
	if (a->tts.model)
		c.model = a->tts.model;
	if (a->tts.voice)
		c.voice = a->tts.voice;
	c.speed = a->tts.speed;
	return vagent_openai_tts_new(&c, out, err);
}

static vagent_status make_cartesia(const struct vagent_agent *a,
				   struct vagent_tts **out, struct vagent_error *err)
{
	struct vagent_cartesia_config c = vagent_cartesia_config_default();
	const char *env = a->tts.api_key_env ? a->tts.api_key_env : "CARTESIA_API_KEY";

	if (cloud_key(a, "tts", env, "Cartesia", &c.api_key, err) != VAGENT_OK)
		return VAGENT_EINVAL;
	c.api_key_env = env;
	if (a->tts.url)
		c.url = a->tts.url;
	if (a->tts.model)
		c.model_id = a->tts.model;
	c.voice = a->tts.voice;
	c.speed = a->tts.speed;
	return vagent_cartesia_tts_new(&c, out, err);
}

static vagent_status make_elevenlabs(const struct vagent_agent *a,
				     const struct vagent_stack_options *o,
				     struct vagent_tts **out, struct vagent_error *err)
{
	struct vagent_elevenlabs_config c = vagent_elevenlabs_tts_config_default();
	const char *env = a->tts.api_key_env ? a->tts.api_key_env : "ELEVENLABS_API_KEY";

	if (cloud_key(a, "tts", env, "ElevenLabs", &c.api_key, err) != VAGENT_OK)
		return VAGENT_EINVAL;
	c.api_key_env = env;
	if (a->tts.url)
		c.base_url = a->tts.url;
	if (a->tts.voice)
		c.voice_id = a->tts.voice;
	if (a->tts.model)
		c.model_id = a->tts.model;
	if (a->tts.transport)
		c.transport = a->tts.transport;
	c.speed = a->tts.speed;
	c.rate = o->rate;
	c.seed = o->seed;
	return vagent_elevenlabs_tts_new(&c, out, err);
}

static vagent_status make_tts_named(const struct vagent_agent *a, const char *provider,
				    const struct vagent_stack_options *o,
				    struct vagent_tts **out, struct vagent_error *err)
{
	if (!strcmp(provider, "flite")) {
		struct vagent_flite_config c = vagent_flite_config_default();

		/* a cloud voice id means nothing to flite: its default voice */
		if (a->tts.voice && !strcmp(a->tts.provider, "flite"))
			c.voice = a->tts.voice;
		return vagent_flite_tts_new(&c, out, err);
	}
	if (!strcmp(provider, "openai"))
		return make_openai_tts(a, out, err);
	if (!strcmp(provider, "cartesia"))
		return make_cartesia(a, out, err);
	if (!strcmp(provider, "elevenlabs"))
		return make_elevenlabs(a, o, out, err);
	if (!strcmp(provider, "sim")) {
		struct vagent_sim_tts_config c = vagent_sim_tts_config_default();

		c.seed = o->seed;
		return vagent_sim_tts_new(&c, out, err);
	}
	return vagent__error_set(err, VAGENT_EINVAL, a->path,
				 "tts.provider: \"%s\" is not available in this build",
				 provider);
}

/* The agent's TTS and, when it names one, its fallback (cfg.tts[1]). */
static vagent_status make_tts(const struct vagent_agent *a,
			      const struct vagent_stack_options *o,
			      struct vagent_agent_stack *st, struct vagent_error *err)
{
	vagent_status rc = make_tts_named(a, a->tts.provider, o, &st->tts, err);

	if (rc == VAGENT_OK && a->tts.fallback)
		rc = make_tts_named(a, a->tts.fallback, o, &st->tts_fallback, err);
	return rc;
}

static vagent_status make_tools(const struct vagent_agent *a,
				const struct vagent_stack_options *o,
				struct vagent_tools **out, struct vagent_error *err)
{
	struct vagent_tools *inner = NULL;
	vagent_status st;

	if (a->n_tools) {
		struct vagent_tools_config c = vagent_tools_config_default();

		c.tools = a->tools;
		c.n_tools = a->n_tools;
		c.variables = vagent_agent_variable_list(a);
		c.seed = o->seed;
		c.prefer_mock = o->prefer_mock_tools;
		/* the tools' own budget ends before the session's tool timeout,
		 * so their error (with the attempts) is what the brain hears */
		if (a->config.tool_timeout_ms > 1000)
			c.total_timeout_ms = a->config.tool_timeout_ms - 500;
		st = vagent_tools_new(&c, &inner, err);
		if (st != VAGENT_OK)
			return st;
	}
	return vagent_knowledge_tools_new(a, inner, out, err);
}

/* brain.fallback: the flow brain behind an LLM. */
static vagent_status make_fallback_brain(const struct vagent_agent *a,
					 const struct vagent_stack_options *o,
					 struct vagent_brain **out,
					 struct vagent_error *err)
{
	struct vagent_flow_config c = vagent_flow_config_default();

	c.seed = o->seed;
	c.reference_date = o->reference_date;
	return vagent_flow_brain_new(a, &c, out, err);
}

vagent_status vagent_agent_stack_new(const struct vagent_agent *agent,
				     const struct vagent_stack_options *opt,
				     struct vagent_agent_stack **out,
				     struct vagent_error *err)
{
	struct vagent_agent_stack *st;
	vagent_status rc;

	*out = NULL;
	if (opt->rate != 8000 && opt->rate != 16000)
		return vagent__error_set(err, VAGENT_EINVAL, agent->path,
					 "rate: %d Hz (8000 or 16000)", opt->rate);
	st = calloc(1, sizeof(*st));
	if (!st)
		return vagent__error_set(err, VAGENT_ENOMEM, agent->path, "out of memory");
	if ((rc = make_stt(agent, opt, st, err)) != VAGENT_OK ||
	    (rc = make_brain(agent, opt, &st->brain, err)) != VAGENT_OK ||
	    (rc = make_tts(agent, opt, st, err)) != VAGENT_OK ||
	    (rc = make_tools(agent, opt, &st->tools, err)) != VAGENT_OK ||
	    (agent->brain.fallback &&
	     (rc = make_fallback_brain(agent, opt, &st->fallback_brain, err)) != VAGENT_OK)) {
		vagent_agent_stack_free(st);
		return rc;
	}
	*out = st;
	return VAGENT_OK;
}

void vagent_agent_stack_free(struct vagent_agent_stack *st)
{
	if (!st)
		return;
	vagent_stt_free(st->stt);
	vagent_stt_free(st->stt_fallback);
	vagent_brain_free(st->brain);
	vagent_brain_free(st->fallback_brain);
	vagent_tts_free(st->tts);
	vagent_tts_free(st->tts_fallback);
	vagent_tools_free(st->tools);
	free(st);
}
