/*
 * trace.c — `vagent trace metrics`: recompute the hop latencies of
 * DESIGN.md §6 and their percentiles from call traces (docs/metrics.md).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "vagent.h"
#include "builtins.h"
#include "options.h"
#include "output.h"

#define ARRAY_LEN(a) (sizeof(a) / sizeof((a)[0]))

static void print_overview(FILE *out)
{
	fprintf(out,
		"usage: vagent trace <command> [OPTION]... TRACE...\n"
		"\n"
		"Work with call traces (JSON lines, docs/trace.md).\n"
		"\n"
		"Commands:\n"
		"  metrics TRACE...          per-turn hop latencies and their percentiles\n"
		"\n"
		"'vagent trace <command> --help' shows a command's options.\n"
		"Exit codes: 0 ok, 2 bad input or usage, 3 cannot read or write.\n");
}

/* Per-turn metrics, in the column order of the table. */
static const vagent_metric turn_cols[] = {
	VAGENT_METRIC_STT_FIRST_PARTIAL, VAGENT_METRIC_ENDPOINT, VAGENT_METRIC_STT_FINAL,
	VAGENT_METRIC_LLM_TTFT, VAGENT_METRIC_TTS_TTFB, VAGENT_METRIC_E2E,
};

/* Cloud providers' time to first byte: in the JSON only. */
static const vagent_metric ttfb_cols[] = {
	VAGENT_METRIC_STT_TTFB, VAGENT_METRIC_LLM_TTFB, VAGENT_METRIC_TTS_NET_TTFB,
};

/* µs as milliseconds with 3 decimals ("-" when absent); static buffer
 * slots used round-robin. */
static const char *ms(int64_t us)
{
	static char buf[8][32];
	static int slot;
	char *b = buf[slot++ % 8];
	uint64_t a;

	if (us == VAGENT_METRIC_ABSENT)
		return "-";
	a = us < 0 ? (uint64_t)0 - (uint64_t)us : (uint64_t)us;
	snprintf(b, 32, "%s%llu.%03u", us < 0 ? "-" : "", (unsigned long long)(a / 1000),
		 (unsigned)(a % 1000));
	return b;
}

static void add_ms(cJSON *obj, const char *key, int64_t us)
{
	if (us != VAGENT_METRIC_ABSENT)
		cJSON_AddItemToObject(obj, key, cJSON_CreateRaw(ms(us)));
}

/* One row of the summary: to the table (unless `quiet_table`) and to
 * `j` (may be NULL). */
static void summary_row(cJSON *j, const char *label, const struct vagent_stat_summary *s,
			bool quiet_table)
{
	char mean[40];

	snprintf(mean, sizeof(mean), "%.3f", s->mean / 1000.0);
	if (j) {
		cJSON_AddNumberToObject(j, "n", (double)s->n);
		add_ms(j, "p50", s->p50);
		add_ms(j, "p90", s->p90);
		add_ms(j, "p95", s->p95);
		add_ms(j, "p99", s->p99);
		add_ms(j, "max", s->max);
		cJSON_AddItemToObject(j, "mean", cJSON_CreateRaw(mean));
	}
	if (!quiet_table)
		printf("%-17s %5zu %10s %10s %10s %10s %10s %10s\n", label, s->n, ms(s->p50),
		       ms(s->p90), ms(s->p95), ms(s->p99), ms(s->max), mean);
}

static void print_call(const struct vagent_call_metrics *c)
{
	printf("call %s: answer %s ms\n", c->call, ms(c->answer));
	printf("  %4s", "turn");
	for (size_t i = 0; i < ARRAY_LEN(turn_cols); i++)
		printf(" %17s", vagent_metric_name(turn_cols[i]));
	printf("\n");
	for (size_t t = 0; t < c->n_turns; t++) {
		const struct vagent_turn_metrics *tm = &c->turns[t];

		printf("  %4d", tm->turn);
		for (size_t i = 0; i < ARRAY_LEN(turn_cols); i++)
			printf(" %17s", ms(tm->hop[turn_cols[i]]));
		printf("%s%s\n", tm->interrupted ? "  interrupted" : "",
		       tm->estimated ? "  estimated" : "");
	}
	for (size_t i = 0; i < c->n_tools; i++) {
		if (c->tools[i].outcome)
			printf("  tool %s (%s) turn %d: %s after %s ms\n", c->tools[i].name,
			       c->tools[i].id, c->tools[i].turn, c->tools[i].outcome,
			       ms(c->tools[i].tool));
		else
			printf("  tool %s (%s) turn %d: no outcome\n", c->tools[i].name,
			       c->tools[i].id, c->tools[i].turn);
	}
	for (size_t i = 0; i < c->n_barge_ins; i++)
		printf("  barge-in turn %d: onset %s, decision %s, stop %s: barge_in_stop %s ms\n",
		       c->barge_ins[i].turn, ms(c->barge_ins[i].onset_us),
		       ms(c->barge_ins[i].decision_us), ms(c->barge_ins[i].stop_us),
		       ms(c->barge_ins[i].barge_in_stop));
}

static cJSON *call_json(const struct vagent_call_metrics *c)
{
	cJSON *o = cJSON_CreateObject(), *turns, *tools, *barge;

	cJSON_AddStringToObject(o, "name", c->call);
	add_ms(o, "answer", c->answer);
	turns = cJSON_AddArrayToObject(o, "turns");
	for (size_t t = 0; t < c->n_turns; t++) {
		const struct vagent_turn_metrics *tm = &c->turns[t];
		cJSON *j = cJSON_CreateObject(), *hops, *providers = NULL;

		cJSON_AddNumberToObject(j, "turn", tm->turn);
		hops = cJSON_AddObjectToObject(j, "hops");
		for (size_t i = 0; i < ARRAY_LEN(turn_cols); i++)
			add_ms(hops, vagent_metric_name(turn_cols[i]), tm->hop[turn_cols[i]]);
		for (size_t i = 0; i < ARRAY_LEN(ttfb_cols); i++)
			add_ms(hops, vagent_metric_name(ttfb_cols[i]), tm->hop[ttfb_cols[i]]);
		for (int m = 0; m < VAGENT_METRIC_COUNT; m++) {
			if (!tm->provider[m])
				continue;
			if (!providers)
				providers = cJSON_AddObjectToObject(j, "providers");
			cJSON_AddStringToObject(providers, vagent_metric_name((vagent_metric)m),
						tm->provider[m]);
		}
		add_ms(j, "speech_start_ms", tm->speech_start_us);
		add_ms(j, "speech_end_ms", tm->speech_end_us);
		add_ms(j, "turn_end_ms", tm->turn_end_us);
		cJSON_AddNumberToObject(j, "segments", (double)tm->segments);
		cJSON_AddBoolToObject(j, "estimated", tm->estimated);
		cJSON_AddBoolToObject(j, "interrupted", tm->interrupted);
		cJSON_AddItemToArray(turns, j);
	}
	tools = cJSON_AddArrayToObject(o, "tools");
	for (size_t i = 0; i < c->n_tools; i++) {
		cJSON *j = cJSON_CreateObject();

		cJSON_AddNumberToObject(j, "turn", c->tools[i].turn);
		cJSON_AddStringToObject(j, "name", c->tools[i].name);
		cJSON_AddStringToObject(j, "id", c->tools[i].id);
		if (c->tools[i].outcome)
			cJSON_AddStringToObject(j, "outcome", c->tools[i].outcome);
		add_ms(j, "start_ms", c->tools[i].start_us);
		add_ms(j, "tool", c->tools[i].tool);
		cJSON_AddItemToArray(tools, j);
	}
	barge = cJSON_AddArrayToObject(o, "barge_ins");
	for (size_t i = 0; i < c->n_barge_ins; i++) {
		cJSON *j = cJSON_CreateObject();

		cJSON_AddNumberToObject(j, "turn", c->barge_ins[i].turn);
		add_ms(j, "onset_ms", c->barge_ins[i].onset_us);
		add_ms(j, "decision_ms", c->barge_ins[i].decision_us);
		add_ms(j, "stopped_at_ms", c->barge_ins[i].stop_us);
		add_ms(j, "stop_ms", c->barge_ins[i].barge_in_stop);
		cJSON_AddItemToArray(barge, j);
	}
	return o;
}

static const struct cmd_usage metrics_usage = {
	.name = "trace metrics",
	.synopsis = "vagent trace metrics [OPTION]... TRACE...",
	.summary = "Recompute the hop latencies of every turn, tool call, interruption and\n"
		   "call from call traces, and their percentiles over all of them.",
	.description =
		"Metrics and their exact from/to events are those of docs/metrics.md;\n"
		"values are milliseconds on the media clock, '-' when an event is\n"
		"missing (such values are left out of the statistics). Percentiles\n"
		"use the nearest-rank method over all turns of all calls given.\n"
		"\n"
		"The JSON has \"calls\" (each with \"name\", \"answer\", \"turns\" with\n"
		"their \"hops\", \"tools\", and \"barge_ins\" whose \"stop_ms\" is\n"
		"barge_in_stop) and \"summary\": per metric n, p50, p90, p95, p99, max,\n"
		"mean. Absent values are left out. When more than one provider answered\n"
		"a hop (a fallback), the table has a row per provider under it and the\n"
		"summary a \"providers\" object; turns name their providers.\n",
	.epilogue = "Examples:\n"
		    "  vagent trace metrics run/call-1.jsonl\n"
		    "  vagent trace metrics --json - run/*.jsonl\n",
	.min_args = 1, .max_args = -1,
};

static int cmd_trace_metrics(int argc, char **argv)
{
	const char *json = NULL;
	bool quiet = false;
	const struct cmd_option opts[] = {
		OPT_STRING_(0, "json", &json, "FILE",
			    "write the metrics as JSON to FILE ('-' for stdout)"),
		OPT_BOOL_('q', "quiet", &quiet, "print only the percentile table"),
		OPT_END_(),
	};
	int n = parse_options(&metrics_usage, opts, argc, argv), rc = 0;
	struct vagent_stats *stats = NULL;
	cJSON *root = NULL, *calls = NULL, *summary;
	bool to_stdout;

	if (n == PARSE_OPT_HELP)
		return 0;
	if (n < 0)
		return 2;
	to_stdout = json && !strcmp(json, "-");
	stats = vagent_stats_new();
	if (json) {
		root = cJSON_CreateObject();
		cJSON_AddStringToObject(root, "version", vagent_version());
		calls = cJSON_AddArrayToObject(root, "calls");
	}
	if (!stats || (json && !calls)) {
		cmd_error("out of memory");
		rc = 3;
		goto done;
	}
	for (int i = 0; i < n && !rc; i++) {
		struct vagent_trace *t = NULL;
		struct vagent_trace_metrics *m = NULL;
		struct vagent_error err;
		vagent_status st = vagent_trace_load(argv[i], &t, &err);

		if (st == VAGENT_OK)
			st = vagent_metrics_from_trace(t->events, t->n, &m, &err);
		if (st == VAGENT_OK && vagent_stats_add_metrics(stats, m) != VAGENT_OK) {
			st = VAGENT_ENOMEM;
			snprintf(err.message, sizeof(err.message), "out of memory");
		}
		if (st != VAGENT_OK) {
			cmd_error("%s", err.message);
			rc = vagent_status_exit_code(st);
		}
		for (size_t c = 0; m && !rc && c < m->n_calls; c++) {
			if (calls)
				cJSON_AddItemToArray(calls, call_json(&m->calls[c]));
			if (!to_stdout && !quiet) {
				print_call(&m->calls[c]);
				printf("\n");
			}
		}
		vagent_trace_metrics_free(m);
		vagent_trace_free(t);
	}
	if (rc)
		goto done;
	if (!to_stdout)
		printf("%-17s %5s %10s %10s %10s %10s %10s %10s\n", "metric", "n", "p50", "p90",
		       "p95", "p99", "max", "mean");
	summary = root ? cJSON_AddObjectToObject(root, "summary") : NULL;
	for (int m = 0; m < VAGENT_METRIC_COUNT; m++) {
		struct vagent_stat_summary s;
		cJSON *j = summary ? cJSON_AddObjectToObject(summary, vagent_metric_name((vagent_metric)m))
				   : NULL;

		if (vagent_stats_summary(stats, (vagent_metric)m, &s) != VAGENT_OK) {
			if (j)
				cJSON_AddNumberToObject(j, "n", 0);
			if (!to_stdout)
				printf("%-17s %5d\n", vagent_metric_name((vagent_metric)m), 0);
			continue;
		}
		summary_row(j, vagent_metric_name((vagent_metric)m), &s, to_stdout);
		/* per provider, when more than one answered (a fallback) */
		if (vagent_stats_provider(stats, (vagent_metric)m, 1)) {
			cJSON *pj = j ? cJSON_AddObjectToObject(j, "providers") : NULL;
			const char *name;
			char label[80];

			for (size_t i = 0; (name = vagent_stats_provider(stats, (vagent_metric)m, i));
			     i++) {
				if (vagent_stats_provider_summary(stats, (vagent_metric)m, name,
								  &s) != VAGENT_OK)
					continue;
				snprintf(label, sizeof(label), "  %.60s", name);
				summary_row(pj ? cJSON_AddObjectToObject(pj, name) : NULL, label, &s,
					    to_stdout);
			}
		}
	}
	if (root) {
		char *text = cJSON_Print(root);

		if (!text) {
			cmd_error("out of memory");
			rc = 3;
			goto done;
		}
		rc = cmd_write_output(json, text);
		cJSON_free(text);
	}
done:
	cJSON_Delete(root);
	vagent_stats_free(stats);
	return rc;
}

int cmd_trace(int argc, char **argv)
{
	if (argc < 2)
		return cmd_usage_error("trace", "expected a command: metrics");
	if (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h")) {
		print_overview(stdout);
		return 0;
	}
	if (argv[1][0] == '-')
		return cmd_usage_error("trace", "unknown option '%s'", argv[1]);
	if (!strcmp(argv[1], "metrics"))
		return cmd_trace_metrics(argc - 1, argv + 1);
	return cmd_usage_error("trace", "'%s' is not a trace command (metrics)", argv[1]);
}
