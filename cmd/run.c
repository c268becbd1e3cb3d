/*
 * run.c — `vagent run`: run scenario files (simulated calls) against their
 * agent on the embedded stack and print each call's transcript with the
 * per-turn hop latencies, then the percentiles over all calls
 * (docs/scenario.md). --out keeps each call's trace and stereo recording;
 * --json writes the run result of DESIGN.md §5.
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
#include "output.h"

static const char *const clock_choices[] = { "virtual", "real", NULL };
static const char *const compute_choices[] = { "measured", "free", NULL };

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
		"For each call vagent prints the transcript (what the caller said, what\n"
		"the agent heard, what it answered, its tool calls and escalations) with\n"
		"each turn's hop latencies in ms (DESIGN.md §6), then a percentile table\n"
		"over all turns of all calls.\n"
		"\n"
		"Exit codes: 0 every call ran, 2 bad scenario or agent file (FILE:LINE:\n"
		"field: problem), 3 a provider, tool server or file failed.",
	.epilogue =
		"Examples:\n"
		"  vagent run scenarios/order-status.json\n"
		"  vagent run --out run/ --json run/result.json scenarios/\n"
		"  vagent run --clock real --date 2026-12-03 scenarios/refund.json\n",
	.min_args = 1, .max_args = -1,
};

/* µs as "123" ms, "-" when absent. */
static const char *ms(int64_t us)
{
	static char buf[16][24];
	static int slot;
	char *b = buf[slot++ % 16];

	if (us == VAGENT_METRIC_ABSENT)
		return "-";
	snprintf(b, 24, "%lld", (long long)((us + 500) / 1000));
	return b;
}

static const vagent_metric turn_hops[] = {
	VAGENT_METRIC_STT_FIRST_PARTIAL, VAGENT_METRIC_ENDPOINT, VAGENT_METRIC_STT_FINAL,
	VAGENT_METRIC_LLM_TTFT, VAGENT_METRIC_TTS_TTFB, VAGENT_METRIC_E2E,
};

/* The first event of `type` in `turn`, or NULL. */
static const struct vagent_trace_event *first_event(const struct vagent_trace *t,
						    vagent_trace_type type, int turn)
{
	for (size_t i = 0; i < t->n; i++)
		if (t->events[i].type == type && t->events[i].turn == turn)
			return &t->events[i];
	return NULL;
}

static void print_time(int64_t us)
{
	printf("  %7.2f s  ", (double)us / 1e6);
}

/* One turn: the caller's line, the tools, the agent's line, the hops. */
static void print_turn(const struct vagent_session_turn *st,
		       const struct vagent_trace *t,
		       const struct vagent_turn_metrics *tm)
{
	const struct vagent_trace_event *ev;

	if (st->turn > 0) {
		ev = first_event(t, VAGENT_TRACE_CALLER_SPEECH_START, st->turn);
		if (ev)
			print_time(ev->t_us);
		else
			printf("  %9s  ", "");
		printf("caller  %s\n", st->caller_text ? st->caller_text : "(audio)");
		printf("  %9s  heard   %s\n", "",
		       st->stt_text && *st->stt_text ? st->stt_text : "(nothing)");
	}
	for (size_t i = 0; i < t->n; i++) {
		const struct vagent_trace_event *e = &t->events[i];

		if (e->turn != st->turn)
			continue;
		if (e->type == VAGENT_TRACE_TOOL_START) {
			print_time(e->t_us);
			printf("tool    %s %s\n", e->name, e->args ? e->args : "");
		} else if (e->type == VAGENT_TRACE_TOOL_END) {
			print_time(e->t_us);
			printf("  ->    %.160s\n", e->result ? e->result : "ok");
		} else if (e->type == VAGENT_TRACE_TOOL_ERROR) {
			print_time(e->t_us);
			printf("  ->    error: %s\n", e->error);
		} else if (e->type == VAGENT_TRACE_TOOL_TIMEOUT) {
			print_time(e->t_us);
			printf("  ->    timed out\n");
		} else if (e->type == VAGENT_TRACE_FILLER) {
			print_time(e->t_us);
			printf("filler  %s\n", e->text ? e->text : "");
		} else if (e->type == VAGENT_TRACE_ESCALATION) {
			print_time(e->t_us);
			printf("escalate %s\n", e->reason);
		} else if (e->type == VAGENT_TRACE_TRANSFER) {
			print_time(e->t_us);
			printf("transfer %.200s%s\n", e->package,
			       strlen(e->package) > 200 ? "..." : "");
		} else if (e->type == VAGENT_TRACE_ERROR) {
			print_time(e->t_us);
			printf("error   %s: %s\n", e->source, e->message);
		}
	}
	ev = first_event(t, VAGENT_TRACE_AGENT_AUDIO_START, st->turn);
	if (ev)
		print_time(ev->t_us);
	else
		printf("  %9s  ", "");
	printf("agent   %s%s\n", st->agent_text && *st->agent_text ? st->agent_text : "(silent)",
	       st->interrupted ? "  [interrupted]" : "");
	if (tm && st->turn > 0) {
		printf("  %9s  hops   ", "");
		for (size_t i = 0; i < sizeof(turn_hops) / sizeof(turn_hops[0]); i++)
			printf(" %s %s", vagent_metric_name(turn_hops[i]), ms(tm->hop[turn_hops[i]]));
		printf(" ms\n");
	}
}

static const struct vagent_turn_metrics *turn_metrics(const struct vagent_call_metrics *cm,
						      int turn)
{
	for (size_t i = 0; cm && i < cm->n_turns; i++)
		if (cm->turns[i].turn == turn)
			return &cm->turns[i];
	return NULL;
}

/*
 * Whether a call failed for reasons outside the agent under test — what
 * exit code 3 reports, so CI can tell a broken network from a broken
 * agent: the session failed, an HTTP tool's server could not be used
 * (faults injected through mocks are the scenario's, not failures), or
 * the transfer webhook POST failed. `why` gets the first reason.
 */
static bool infrastructure_failure(const struct vagent_call_run *r,
				   const struct vagent_trace *t, char *why, size_t n)
{
	const struct vagent_session_result *res = vagent_session_result(r->session);

	if (res->status != VAGENT_OK) {
		snprintf(why, n, "%.300s", res->error);
		return true;
	}
	for (size_t i = 0; i < t->n; i++) {
		const struct vagent_trace_event *e = &t->events[i];
		const struct vagent_tool_def *def;

		if (e->type != VAGENT_TRACE_TOOL_ERROR && e->type != VAGENT_TRACE_TOOL_TIMEOUT)
			continue;
		def = vagent_agent_tool(r->agent, e->name);
		if (def && def->url) {
			if (e->type == VAGENT_TRACE_TOOL_ERROR)
				snprintf(why, n, "%.300s", e->error);
			else
				snprintf(why, n, "%s: timed out", e->name);
			return true;
		}
	}
	if (res->transfer_webhook_status < 0) {
		snprintf(why, n, "the transfer webhook POST failed");
		return true;
	}
	return false;
}

static int write_file(const char *path, const char *data, size_t len)
{
	FILE *f = fopen(path, "wb");

	if (!f || fwrite(data, 1, len, f) != len) {
		cmd_error("%s: cannot write: %s", path, strerror(errno));
		if (f)
			fclose(f);
		return 3;
	}
	if (fclose(f) != 0) {
		cmd_error("%s: cannot write: %s", path, strerror(errno));
		return 3;
	}
	return 0;
}

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
	const char *clock = "virtual", *out_dir = NULL, *json = NULL, *date = NULL;
	const char *compute = "measured";
	bool quiet = false, mock_tools = false, human;
	long seed = -1;
	const struct cmd_option opts[] = {
		OPT_CHOICE_(0, "clock", &clock, "CLOCK",
			    "virtual (default: as fast as the engines compute) or real", clock_choices),
		OPT_CHOICE_(0, "compute", &compute, "HOW",
			    "virtual clock: charge the engines' compute as measured (default), or "
			    "free (the call's course no longer depends on this machine's speed)",
			    compute_choices),
		OPT_INT_(0, "seed", &seed, "N", "seed for every random choice (default: each scenario's)",
			 0, 2147483647),
		OPT_STRING_(0, "out", &out_dir, "DIR",
			    "write each call's trace (NAME.trace.jsonl) and stereo recording (NAME.wav)"),
		OPT_STRING_(0, "json", &json, "FILE", "write the run result as JSON ('-' for stdout)"),
		OPT_STRING_(0, "date", &date, "YYYY-MM-DD",
			    "what \"today\" means to date slots (default: the real date)"),
		OPT_BOOL_(0, "mock-tools", &mock_tools,
			  "run the mocks of tools that have both an endpoint and a mock"),
		OPT_BOOL_('q', "quiet", &quiet, "print only one line per call and the percentiles"),
		OPT_END_(),
	};
	int n = parse_options(&run_usage, opts, argc, argv), rc = 0;
	struct vagent_call_run **runs = NULL;
	struct vagent_scenario **scenarios = NULL;
	struct vagent_call_report *reports = NULL;
	struct vagent_stats *stats = NULL;
	char **files = NULL;
	size_t n_files = 0, n_runs = 0;

	if (n == PARSE_OPT_HELP)
		return 0;
	if (n < 0)
		return 2;
	human = !(json && !strcmp(json, "-"));
	if (!human)
		quiet = true;           /* stdout is the JSON's alone */
	if (date && (strlen(date) != 10 || date[4] != '-' || date[7] != '-')) {
		cmd_error("--date: \"%s\" is not YYYY-MM-DD (see 'vagent run --help')", date);
		return 2;
	}
	if (out_dir) {
		struct stat sb;

		if (mkdir(out_dir, 0777) != 0 && errno != EEXIST) {
			cmd_error("%s: cannot create the directory: %s", out_dir, strerror(errno));
			return 3;
		}
		if (stat(out_dir, &sb) != 0 || !S_ISDIR(sb.st_mode)) {
			cmd_error("--out: %s is not a directory", out_dir);
			return 2;
		}
	}
	if (json && human) {
		/* find an unwritable --json before the calls run, not after */
		FILE *f = fopen(json, "a");

		if (!f) {
			cmd_error("%s: cannot write: %s", json, strerror(errno));
			return 3;
		}
		fclose(f);
	}
	if ((rc = collect(argv, n, &files, &n_files)) != 0)
		return rc;
	if (!n_files) {
		cmd_error("no scenario files (*.json) in %s", argv[0]);
		return 2;
	}
	runs = calloc(n_files, sizeof(*runs));
	reports = calloc(n_files, sizeof(*reports));
	stats = vagent_stats_new();
	if (!runs || !reports || !stats) {
		cmd_error("out of memory");
		rc = 3;
		goto done;
	}
	/* every scenario is checked before any call runs; names must be
	 * unique, they name the calls' files */
	scenarios = calloc(n_files, sizeof(*scenarios));
	if (!scenarios) {
		cmd_error("out of memory");
		rc = 3;
		goto done;
	}
	for (size_t i = 0; i < n_files; i++) {
		struct vagent_error err;
		vagent_status st = vagent_scenario_load(files[i], &scenarios[i], &err);

		if (st != VAGENT_OK) {
			cmd_error("%s", err.message);
			rc = vagent_status_exit_code(st);
			goto done;
		}
		for (size_t k = 0; k < i; k++)
			if (!strcmp(scenarios[k]->name, scenarios[i]->name)) {
				cmd_error("%s: name \"%s\" is also %s's; calls need unique names",
					  files[i], scenarios[i]->name, files[k]);
				rc = 2;
				goto done;
			}
	}
	for (size_t i = 0; i < n_files; i++) {
		struct vagent_scenario *sc = scenarios[i];
		struct vagent_run_options ro = { 0 };
		struct vagent_call_run *r = NULL;
		struct vagent_trace *t = NULL;
		struct vagent_trace_metrics *tm = NULL;
		const struct vagent_session_result *res;
		const char *trace_text;
		size_t trace_len = 0;
		char why[320];
		bool infra;
		struct vagent_error err;
		vagent_status st;

		scenarios[i] = NULL;            /* the run takes it over */
		ro.clock = !strcmp(clock, "real") ? VAGENT_CLOCK_REAL : VAGENT_CLOCK_VIRTUAL;
		ro.seed = seed >= 0 ? (uint64_t)seed : sc->seed;
		ro.reference_date = date;
		ro.record = out_dir != NULL;
		ro.prefer_mock_tools = mock_tools;
		ro.free_compute = !strcmp(compute, "free");
		if (!quiet)
			printf("== %s  (agent %s, caller voice %s, %s%s %s, %s clock)\n",
			       sc->name, sc->agent_path, sc->voice,
			       sc->rate == 8000 ? "8 kHz" : sc->rate == 16000 ? "16 kHz" : "agent's rate",
			       "", vagent_encoding_name(sc->codec), clock);
		fflush(stdout);
		st = vagent_scenario_run(sc, &ro, &r, &err);
		if (st != VAGENT_OK) {
			cmd_error("%s: %s", files[i], err.message);
			rc = vagent_status_exit_code(st);
			break;
		}
		runs[n_runs++] = r;
		for (size_t w = 0; w < r->agent->n_warnings; w++)
			fprintf(stderr, "vagent: warning: %s\n", r->agent->warnings[w]);
		res = vagent_session_result(r->session);
		trace_text = vagent_session_trace(r->session, &trace_len);
		st = vagent_trace_parse(trace_text ? trace_text : "", trace_len, r->scenario->name,
					&t, &err);
		if (st == VAGENT_OK)
			st = vagent_metrics_from_trace(t->events, t->n, &tm, &err);
		if (st == VAGENT_OK && vagent_stats_add_metrics(stats, tm) != VAGENT_OK)
			st = VAGENT_ENOMEM;
		if (st != VAGENT_OK) {
			cmd_error("%s: trace: %s", r->scenario->name, err.message);
			vagent_trace_metrics_free(tm);
			vagent_trace_free(t);
			rc = 3;
			break;
		}
		if (!quiet) {
			for (size_t k = 0; k < res->n_turns; k++)
				print_turn(&res->turns[k], t,
					   turn_metrics(tm->n_calls ? &tm->calls[0] : NULL,
							res->turns[k].turn));
		}
		infra = infrastructure_failure(r, t, why, sizeof(why));
		if (human)
			printf("%s %s: %s after %.1f s, %zu turns%s%s%s%s\n",
			       infra ? "FAIL" : "ok  ", r->scenario->name,
			       res->end_reason ? res->end_reason : "?",
			       (double)vagent_ticks_to_ms(res->duration) / 1000.0, res->n_turns,
			       res->escalated ? ", escalated: " : "",
			       res->escalated && res->escalation_reason ? res->escalation_reason : "",
			       infra ? "; infrastructure failed: " : "", infra ? why : "");
		if (!quiet && res->transfer_webhook_status > 0)
			printf("     transfer package POSTed to the webhook: HTTP %d\n",
			       res->transfer_webhook_status);
		if (!quiet)
			printf("\n");
		if (infra)
			rc = 3;
		reports[i].name = r->scenario->name;
		reports[i].passed = !infra;
		reports[i].turns = res->turns;
		reports[i].n_turns = res->n_turns;
		reports[i].trace = trace_text;
		reports[i].trace_len = trace_len;
		reports[i].escalated = res->escalated;
		if (out_dir) {
			char path[4096];
			const struct vagent_audio *rec = vagent_session_recording(r->session);

			snprintf(path, sizeof(path), "%s/%s.trace.jsonl", out_dir, r->scenario->name);
			if (write_file(path, trace_text ? trace_text : "", trace_len))
				rc = 3;
			snprintf(path, sizeof(path), "%s/%s.wav", out_dir, r->scenario->name);
			if (rec) {
				struct vagent_audio_save_opts so = vagent_audio_save_opts_default();

				if (vagent_audio_save(rec, path, &so, &err) != VAGENT_OK) {
					cmd_error("%s", err.message);
					rc = 3;
				}
			}
		}
		vagent_trace_metrics_free(tm);
		vagent_trace_free(t);
		fflush(stdout);
	}
	if (n_runs && human) {
		printf("%-17s %5s %8s %8s %8s %8s %8s  (ms)\n", "hop", "n", "p50", "p90", "p95",
		       "p99", "max");
		for (int m = 0; m < VAGENT_METRIC_COUNT; m++) {
			struct vagent_stat_summary s;

			if (vagent_stats_summary(stats, (vagent_metric)m, &s) != VAGENT_OK)
				continue;
			printf("%-17s %5zu %8s %8s %8s %8s %8s\n", vagent_metric_name((vagent_metric)m),
			       s.n, ms(s.p50), ms(s.p90), ms(s.p95), ms(s.p99), ms(s.max));
		}
	}
	if (json && n_runs) {
		char *text = NULL;
		struct vagent_error err;

		if (vagent_result_to_json(reports, n_runs, NULL, 0, &text, &err) != VAGENT_OK) {
			cmd_error("%s", err.message);
			rc = 3;
		} else {
			int w = cmd_write_output(json, text);

			if (w && !rc)
				rc = w;
			free(text);
		}
	}
done:
	for (size_t i = 0; scenarios && i < n_files; i++)
		vagent_scenario_free(scenarios[i]);
	free(scenarios);
	for (size_t i = 0; i < n_runs; i++)
		vagent_call_run_free(runs[i]);
	for (size_t i = 0; i < n_files; i++)
		free(files[i]);
	free(files);
	free(runs);
	free(reports);
	vagent_stats_free(stats);
	return rc;
}
