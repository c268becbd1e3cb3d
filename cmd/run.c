/*
 * run.c — `vagent run`: run scenario files (simulated calls) against their
 * agent on the embedded stack and print each call's transcript with the
 * per-turn hop latencies, then the percentiles over all calls
 * (docs/scenario.md). --out keeps each call's trace and stereo recording,
 * --record writes each call as a replayable call folder (docs/call.md);
 * --json writes the run result of DESIGN.md §5. The printing is calls.c's,
 * shared with `vagent replay`.
 */
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "vagent.h"
#include "builtins.h"
#include "options.h"
#include "calls.h"


static const struct cmd_usage run_usage = {
	.name = "run",
	.synopsis = "vagent run [OPTION]... SCENARIO|DIR...",
	.summary = "run scripted simulated calls against an agent and report",
	.description =
		"Each scenario file (docs/scenario.md) is one simulated call: its agent\n"
		"file (docs/agent.md) runs on its providers — by default the embedded\n"
		"stack: pocketsphinx, the flow brain, flite and the agent's tools — and a\n"
		"caller speaks the script with a flite voice over the chosen telephone\n"
		"leg. A DIR runs every *.json scenario directly inside it.\n"
		"\n"
		"Every scenario, its agent, mocks, recordings and services are checked\n"
		"first; any problem is printed (all of them, FILE:LINE: field: problem)\n"
		"and nothing runs. Each call then runs with the scenario's faults, and is\n"
		"judged by its expectations (docs/expectations.md).\n"
		"\n"
		"For each call vagent prints the transcript (what the caller said, what\n"
		"the agent heard, what it answered, its tool calls and escalations) with\n"
		"each turn's hop latencies in ms (DESIGN.md §6) and each expectation,\n"
		"then a line per call and a percentile table over all turns of all calls\n"
		"(colour on a terminal only). --json, --junit and --out report.html are\n"
		"for CI (docs/report.md).\n"
		"\n"
		"Exit codes: 0 every call passed, 1 an expectation failed, 2 bad input\n"
		"(a scenario, agent or other file), 3 a provider, tool server, webhook\n"
		"or file failed (the infrastructure, not the agent).",
	.epilogue =
		"Examples:\n"
		"  vagent run scenarios/order-status.json\n"
		"  vagent run --out run/ --junit run/junit.xml scenarios/\n"
		"  vagent run --agent new-agent.json -q scenarios/\n"
		"  vagent run --clock real --date 2026-12-03 scenarios/refund.json\n",
	.min_args = 1, .max_args = -1,
};

/* Expand the arguments: files as given, directories to their *.json. */
static int collect(char **args, int n, char ***out, size_t *n_out)
{
	char **list = NULL;
	size_t len = 0;

	for (int i = 0; i < n; i++) {
		struct stat sb;
		struct dirent **ents = NULL;
		int k;

		if (stat(args[i], &sb) != 0 || !S_ISDIR(sb.st_mode)) {
			char **l = realloc(list, (len + 1) * sizeof(*l));

			if (!l)
				goto nomem;
			list = l;
			if (!(list[len] = strdup(args[i])))
				goto nomem;
			len++;
			continue;
		}
		k = scandir(args[i], &ents, NULL, alphasort);
		if (k < 0) {
			cmd_error("%s: cannot read the directory: %s", args[i], strerror(errno));
			for (size_t j = 0; j < len; j++)
				free(list[j]);
			free(list);
			return 2;
		}
		for (int j = 0; j < k; j++) {
			size_t nl = strlen(ents[j]->d_name);

			if (nl > 5 && !strcmp(ents[j]->d_name + nl - 5, ".json")) {
				char **l = realloc(list, (len + 1) * sizeof(*l));
				size_t pl = strlen(args[i]) + nl + 2;

				if (l && (l[len] = malloc(pl))) {
					list = l;
					snprintf(list[len++], pl, "%s/%s", args[i], ents[j]->d_name);
				} else if (l) {
					list = l;
				}
			}
			free(ents[j]);
		}
		free(ents);
	}
	*out = list;
	*n_out = len;
	return 0;
nomem:
	cmd_error("out of memory");
	for (size_t j = 0; j < len; j++)
		free(list[j]);
	free(list);
	return 3;
}

int cmd_run(int argc, char **argv)
{
	struct calls_options co = { .clock = "virtual", .compute = "measured", .seed = -1 };
	const struct cmd_option opts[] = {
		OPT_INT_(0, "seed", &co.seed, "N", "seed for every random choice (default: each scenario's)",
			 0, 2147483647),
		OPT_STRING_(0, "record", &co.record_dir, "DIR",
			    "write each call as a recorded call folder DIR/NAME/ (call.json, call.wav) "
			    "that 'vagent replay' plays back"),
		OPT_STRING_(0, "agent", &co.agent, "FILE",
			    "test this agent file instead of each scenario's \"agent\""),
		CALLS_OPTIONS(co),
		OPT_END_(),
	};
	int n = parse_options(&run_usage, opts, argc, argv), rc = 0;
	struct vagent_scenario **scenarios = NULL;
	struct calls calls = { 0 };
	char **files = NULL;
	size_t n_files = 0;

	if (n == PARSE_OPT_HELP)
		return 0;
	if (n < 0)
		return 2;
	if ((rc = calls_prepare(&co, "run")) != 0)
		return rc;
	if ((rc = collect(argv, n, &files, &n_files)) != 0)
		return rc;
	if (!n_files) {
		cmd_error("no scenario files (*.json) in %s", argv[0]);
		return 2;
	}
	if ((rc = calls_init(&calls, &co, n_files)) != 0)
		goto done;
	/* every scenario is checked before any call runs; names must be
	 * unique, they name the calls' files */
	scenarios = calloc(n_files, sizeof(*scenarios));
	if (!scenarios) {
		cmd_error("out of memory");
		rc = 3;
		goto done;
	}
	if (co.agent) {
		struct vagent_diags d;
		struct vagent_error err;
		vagent_status st;

		vagent_diags_init(&d);
		st = vagent_agent_validate(co.agent, &d, &err);
		for (size_t k = 0; k < d.n; k++)
			cmd_error("%s", d.lines[k]);
		vagent_diags_clear(&d);
		if (st != VAGENT_OK) {
			rc = vagent_status_exit_code(st);
			goto done;
		}
	}
	for (size_t i = 0; i < n_files; i++) {
		struct vagent_diags d;
		struct vagent_error err;
		vagent_status st;

		/* every problem of every scenario (and its agent, mocks and
		 * recordings), before any call runs */
		vagent_diags_init(&d);
		st = co.agent ? vagent_scenario_load_diags(files[i], &scenarios[i], &d, &err)
			      : vagent_scenario_validate(files[i], &d, &err);
		if (st == VAGENT_OK && co.agent)
			st = vagent_scenario_check_files(scenarios[i], &d, &err);
		if (st == VAGENT_OK && !scenarios[i])
			st = vagent_scenario_load(files[i], &scenarios[i], &err);
		for (size_t k = 0; k < d.n; k++)
			cmd_error("%s", d.lines[k]);
		vagent_diags_clear(&d);
		if (st != VAGENT_OK) {
			if (!rc || vagent_status_exit_code(st) > rc)
				rc = vagent_status_exit_code(st);
			continue;
		}
		for (size_t k = 0; k < i; k++)
			if (!strcmp(scenarios[k]->name, scenarios[i]->name)) {
				cmd_error("%s: name \"%s\" is also %s's; calls need unique names",
					  files[i], scenarios[i]->name, files[k]);
				rc = 2;
			}
	}
	if (rc)
		goto done;
	for (size_t i = 0; i < n_files; i++) {
		struct vagent_scenario *sc = scenarios[i];
		struct vagent_run_options ro;
		struct vagent_call_run *r = NULL;
		struct vagent_error err;
		vagent_status st;

		scenarios[i] = NULL;            /* the run takes it over */
		calls_run_options(&co, sc->seed, &ro);
		if (!co.quiet)
			printf("== %s  (agent %s, caller voice %s, %s%s %s, %s clock)\n",
			       sc->name, co.agent ? co.agent : sc->agent_path, sc->voice,
			       sc->rate == 8000 ? "8 kHz" : sc->rate == 16000 ? "16 kHz" : "agent's rate",
			       "", vagent_encoding_name(sc->codec), co.clock);
		fflush(stdout);
		st = vagent_scenario_run(sc, &ro, &r, &err);
		if (st != VAGENT_OK) {
			cmd_error("%s: %s", files[i], err.message);
			rc = vagent_status_exit_code(st);
			break;
		}
		calls_add(&calls, r, r->scenario->name, r->scenario->description, NULL, 0, true);
	}
	{
		int fin = calls_finish(&calls);

		if (fin > rc)
			rc = fin;
	}
done:
	for (size_t i = 0; scenarios && i < n_files; i++)
		vagent_scenario_free(scenarios[i]);
	free(scenarios);
	calls_free(&calls);
	for (size_t i = 0; i < n_files; i++)
		free(files[i]);
	free(files);
	return rc;
}
