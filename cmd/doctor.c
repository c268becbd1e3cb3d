/*
 * doctor.c — `vagent doctor`: is the embedded stack complete, and is each
 * cloud provider configured and reachable with its key? One line per
 * check and a verdict (lib/doctor), as a table or JSON; keys never shown.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "vagent.h"
#include "builtins.h"
#include "options.h"
#include "output.h"

static const struct cmd_usage doctor_usage = {
	.name = "doctor",
	.synopsis = "vagent doctor [--agent FILE]... [--offline] [--timeout MS] [--json FILE|-]",
	.summary = "Check dependencies, models, provider keys and that the providers answer.",
	.description =
		"Embedded stack: the pocketsphinx model (VAGENT_SPHINX_MODEL or the stock\n"
		"en-us model), the flite voices (each voice in use synthesises a word), the\n"
		"versions of libcurl (with https), libwebsockets, opus, libsndfile and cJSON,\n"
		"and PortAudio with its device count (no device is a note: only 'vagent chat'\n"
		"needs one).\n"
		"\n"
		"Providers: with --agent, each provider the agent uses in each slot (stt,\n"
		"brain, tts and their fallbacks); without, every cloud provider vagent knows\n"
		"(deepgram, openai for brain/stt/tts, anthropic, elevenlabs, cartesia) with\n"
		"its default key variable (OPENAI_BASE_URL and ANTHROPIC_BASE_URL move those\n"
		"two probes). For each: whether its key variable is set (the value is never\n"
		"printed, nor a part or its length) and, when it is, one cheap authenticated\n"
		"GET, all providers at once:\n"
		"  openai      GET BASE/models            Authorization: Bearer\n"
		"  anthropic   GET BASE/models            x-api-key, anthropic-version\n"
		"  deepgram    GET https://HOST/v1/projects\n"
		"                                         Authorization: Token\n"
		"  elevenlabs  GET BASE/v1/models         xi-api-key\n"
		"  cartesia    GET https://HOST/voices    Authorization: Bearer, X-API-Key,\n"
		"                                         Cartesia-Version\n"
		"BASE/HOST come from the agent's url/base_url, else the provider's default. A\n"
		"brain with no api_key_env (llama.cpp, Ollama) is probed without a key.\n"
		"Results: reachable (HTTP status, latency), key rejected (401/403), server\n"
		"error (5xx), unreachable (the connection error), timeout. A provider with no\n"
		"key is a note, unless an --agent file uses it: then it fails.",
	.epilogue =
		"Exit status: 0 everything needed is there and every configured provider\n"
		"answered and accepted its key; 2 bad option or agent file; 3 a provider an\n"
		"agent uses has no key, a provider with a key is unreachable, times out,\n"
		"answers 5xx or rejects the key, or a required embedded part is missing.\n"
		"\n"
		"Examples:\n"
		"  vagent doctor\n"
		"  vagent doctor --agent scenarios/agents/store.json --timeout 2000\n"
		"  vagent doctor --offline --json -\n"
		"See docs/doctor.md.\n",
	.min_args = 0, .max_args = 0,
};

int cmd_doctor(int argc, char **argv)
{
	struct opt_strings agent_files = { .n = 0 };
	const char *json = NULL;
	bool offline = false;
	long timeout_ms = 5000;
	const struct cmd_option opts[] = {
		OPT_STRINGS_(0, "agent", &agent_files, "FILE",
			     "check the providers this agent file uses (repeatable)"),
		OPT_BOOL_(0, "offline", &offline, "check keys are set, but probe nothing"),
		OPT_INT_(0, "timeout", &timeout_ms, "MS", "per provider probe (default 5000)", 1,
			 600000),
		OPT_STRING_(0, "json", &json, "FILE", "write the checks as JSON to FILE ('-' for stdout)"),
		OPT_END_(),
	};
	struct vagent_agent *agents[OPT_STRINGS_MAX] = { 0 };
	struct vagent_doctor_options o = vagent_doctor_options_default();
	struct vagent_doctor_report *report = NULL;
	struct vagent_error err;
	vagent_status st;
	char *text = NULL;
	int rc = 0;

	int args = parse_options(&doctor_usage, opts, argc, argv);
	if (args == PARSE_OPT_HELP)
		return 0;
	if (args < 0)
		return 2;
	for (size_t i = 0; i < agent_files.n; i++) {
		st = vagent_agent_load(agent_files.v[i], &agents[i], &err);
		if (st != VAGENT_OK) {
			cmd_error("%s", err.message);
			rc = vagent_status_exit_code(st);
			goto done;
		}
	}
	o.offline = offline;
	o.timeout_ms = (int)timeout_ms;
	st = vagent_doctor_run((const struct vagent_agent *const *)agents, agent_files.n, &o,
			       &report, &err);
	if (st != VAGENT_OK) {
		cmd_error("%s", err.message);
		rc = vagent_status_exit_code(st);
		goto done;
	}
	if (json) {
		if (vagent_doctor_report_json(report, &text, &err) != VAGENT_OK) {
			cmd_error("%s", err.message);
			rc = 3;
			goto done;
		}
		if ((rc = cmd_write_output(json, text)) != 0)
			goto done;
		free(text);
		text = NULL;
	}
	if (!(json && !strcmp(json, "-"))) {
		if (vagent_doctor_report_text(report, isatty(STDOUT_FILENO), &text, &err) != VAGENT_OK) {
			cmd_error("%s", err.message);
			rc = 3;
			goto done;
		}
		fputs(text, stdout);
	}
	rc = vagent_doctor_exit_code(report);
done:
	free(text);
	vagent_doctor_report_free(report);
	for (size_t i = 0; i < agent_files.n; i++)
		vagent_agent_free(agents[i]);
	return rc;
}
