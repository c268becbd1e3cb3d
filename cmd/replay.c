/*
 * replay.c — `vagent replay`: replay recorded calls (docs/call.md) against
 * their agent: every call folder is validated first (every problem
 * printed, exit 2), then each call's caller side is played to the agent
 * under test and the call printed like `vagent run` prints a scenario,
 * with the WER of what the agent heard against the golden text and the
 * comparison of its tool calls with the recorded ones (docs/replay.md).
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
#include "calls.h"
#include "options.h"

static const char *const mode_choices[] = { "turns", "timeline", NULL };

static const struct cmd_usage replay_usage = {
	.name = "replay",
	.synopsis = "vagent replay [OPTION]... CALL|DIR...",
	.summary = "replay recorded calls against an agent and compare with the recording",
	.description =
		"Each CALL is a recorded call folder (docs/call.md) or its call.json: the\n"
		"caller side of the recording is played to the agent under test (its\n"
		"\"agent\" file, or --agent) on the embedded stack. A DIR holding call\n"
		"folders replays each of them. Every call is checked before any runs.\n"
		"\n"
		"Modes: turns (default) plays each recorded caller turn after the agent\n"
		"finishes its reply, keeping the recorded gap; a turn that overlapped the\n"
		"agent in the recording is played as a barge-in at the same offset into\n"
		"the agent's speech. timeline plays the turns at their recorded times.\n"
		"\n"
		"For each call vagent prints the transcript (the golden caller text, what\n"
		"the agent heard, what it answered, tool calls) with each turn's hop\n"
		"latencies in ms, the WER of the agent's recogniser against the golden\n"
		"text, and whether its tool calls match the recorded ones; then a\n"
		"percentile table over all turns of all calls.\n"
		"\n"
		"Exit codes: 0 every call passed, 1 a comparison failed, 2 bad call,\n"
		"agent file or option, 3 a provider, tool server or file failed.",
	.epilogue =
		"Examples:\n"
		"  vagent replay fixtures/calls/\n"
		"  vagent replay --mode timeline --json result.json fixtures/calls/order-status\n"
		"  vagent replay --agent my-agent.json recorded/*/call.json\n",
	.min_args = 1, .max_args = -1,
};

static bool has_call_json(const char *dir)
{
	char path[4096];
	int w = snprintf(path, sizeof(path), "%s/call.json", dir);

	return w > 0 && (size_t)w < sizeof(path) && access(path, F_OK) == 0;
}

static int add(char ***list, size_t *len, const char *path)
{
	char **l = realloc(*list, (*len + 1) * sizeof(*l));

	if (!l)
		return -1;
	*list = l;
	if (!(l[*len] = strdup(path)))
		return -1;
	(*len)++;
	return 0;
}

/* Expand the arguments: a call folder or call.json as given; a folder of
 * call folders to each of them (in name order). */
static int collect(char **args, int n, char ***out, size_t *n_out)
{
	char **list = NULL;
	size_t len = 0;
	int rc = 0;

	for (int i = 0; i < n && !rc; i++) {
		struct stat sb;
		struct dirent **ents = NULL;
		size_t before = len;
		int k;

		if (stat(args[i], &sb) != 0 || !S_ISDIR(sb.st_mode) || has_call_json(args[i])) {
			if (add(&list, &len, args[i]))
				rc = 3;
			continue;
		}
		k = scandir(args[i], &ents, NULL, alphasort);
		if (k < 0) {
			cmd_error("%s: cannot read the directory: %s", args[i], strerror(errno));
			rc = 2;
			break;
		}
		for (int j = 0; j < k; j++) {
			char path[4096];
			int w = snprintf(path, sizeof(path), "%s%s%s", args[i],
					 args[i][strlen(args[i]) - 1] == '/' ? "" : "/",
					 ents[j]->d_name);

			if (w > 0 && (size_t)w < sizeof(path) && ents[j]->d_name[0] != '.' && !rc &&
			    stat(path, &sb) == 0 &&
			    S_ISDIR(sb.st_mode) && has_call_json(path) && add(&list, &len, path))
				rc = 3;
			free(ents[j]);
		}
		free(ents);
		if (!rc && len == before) {
			cmd_error("%s: no call.json in it nor in its folders", args[i]);
			rc = 2;
		}
	}
	if (rc == 3)
		cmd_error("out of memory");
	if (rc) {
		for (size_t j = 0; j < len; j++)
			free(list[j]);
		free(list);
		return rc;
	}
	*out = list;
	*n_out = len;
	return 0;
}

/* Check every call (and the agent each will run against) before any runs:
 * every problem printed. Returns 0 or the exit code. */
static int validate(char **files, size_t n, const char *agent,
		    struct vagent_recorded_call **calls)
{
	int rc = 0;

	for (size_t i = 0; i < n; i++) {
		struct vagent_diags d;
		struct vagent_error err;
		vagent_status st;

		vagent_diags_init(&d);
		st = vagent_call_load(files[i], &calls[i], &d, &err);
		if (st != VAGENT_OK) {
			for (size_t k = 0; k < d.n; k++)
				cmd_error("%s", d.lines[k]);
			if (!d.n)
				cmd_error("%s", err.message);
			if (d.dropped)
				cmd_error("%s: %zu more problems", files[i], d.dropped);
			if (vagent_status_exit_code(st) > rc)
				rc = vagent_status_exit_code(st);
			vagent_diags_clear(&d);
			continue;
		}
		vagent_diags_clear(&d);
		for (size_t k = 0; k < i; k++)
			if (calls[k] && !strcmp(calls[k]->name, calls[i]->name)) {
				cmd_error("%s: name \"%s\" is also %s's; calls need unique names",
					  calls[i]->path, calls[i]->name, calls[k]->path);
				rc = rc > 2 ? rc : 2;
			}
		if (!agent && !calls[i]->agent_path) {
			cmd_error("%s: no agent to replay against: give \"agent\" in the call "
				  "file or --agent", calls[i]->path);
			rc = rc > 2 ? rc : 2;
		} else {
			struct vagent_agent *a = NULL;
			const char *p = agent ? agent : calls[i]->agent_path;

			st = vagent_agent_load(p, &a, &err);
			if (st != VAGENT_OK) {
				cmd_error("%s", err.message);
				if (vagent_status_exit_code(st) > rc)
					rc = vagent_status_exit_code(st);
			}
			vagent_agent_free(a);
		}
	}
	return rc;
}

int cmd_replay(int argc, char **argv)
{
	struct calls_options co = { .clock = "virtual", .compute = "measured", .seed = -1 };
	const char *mode = "turns", *agent = NULL;
	const struct cmd_option opts[] = {
		OPT_STRING_(0, "agent", &agent, "FILE",
			    "the agent to replay against (default: each call's \"agent\")"),
		OPT_CHOICE_(0, "mode", &mode, "MODE",
			    "turns (default: each caller turn after the agent's reply, with the "
			    "recorded gap) or timeline (the recorded times)", mode_choices),
		OPT_INT_(0, "seed", &co.seed, "N", "seed for every random choice (default 1)",
			 0, 2147483647),
		OPT_STRING_(0, "record", &co.record_dir, "DIR",
			    "write each replayed call as a call folder DIR/NAME/"),
		CALLS_OPTIONS(co),
		OPT_END_(),
	};
	int n = parse_options(&replay_usage, opts, argc, argv), rc = 0;
	struct vagent_recorded_call **rcalls = NULL;
	struct calls calls = { 0 };
	char **files = NULL;
	size_t n_files = 0;

	if (n == PARSE_OPT_HELP)
		return 0;
	if (n < 0)
		return 2;
	if ((rc = calls_prepare(&co, "replay")) != 0)
		return rc;
	if ((rc = collect(argv, n, &files, &n_files)) != 0)
		return rc;
	rcalls = calloc(n_files ? n_files : 1, sizeof(*rcalls));
	if (!rcalls) {
		cmd_error("out of memory");
		rc = 3;
		goto done;
	}
	if ((rc = validate(files, n_files, agent, rcalls)) != 0)
		goto done;
	if ((rc = calls_init(&calls, &co, n_files)) != 0)
		goto done;
	for (size_t i = 0; i < n_files; i++) {
		struct vagent_recorded_call *c = rcalls[i];
		struct vagent_replay_options ro = { 0 };
		struct vagent_call_run *r = NULL;
		struct vagent_error err;
		vagent_status st;

		rcalls[i] = NULL;               /* the run takes it over */
		calls_run_options(&co, 1, &ro.run);
		ro.mode = !strcmp(mode, "timeline") ? VAGENT_REPLAY_TIMELINE : VAGENT_REPLAY_TURNS;
		ro.agent_path = agent;
		if (!co.quiet)
			printf("== %s  (agent %s, %s, %s mode, %s clock)\n", c->name,
			       agent ? agent : c->agent_path, c->path, mode, co.clock);
		fflush(stdout);
		st = vagent_call_replay(c, &ro, &r, &err);
		if (st != VAGENT_OK) {
			cmd_error("%s", err.message);
			rc = vagent_status_exit_code(st);
			break;
		}
		calls_add(&calls, r, r->call->name, r->call->description, &r->call->tool_check, 1,
			  true);
	}
	{
		int fin = calls_finish(&calls);

		if (fin > rc)
			rc = fin;
	}
done:
	for (size_t i = 0; rcalls && i < n_files; i++)
		vagent_recorded_call_free(rcalls[i]);
	free(rcalls);
	calls_free(&calls);
	for (size_t i = 0; i < n_files; i++)
		free(files[i]);
	free(files);
	return rc;
}
