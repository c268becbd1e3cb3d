/*
 * calls.c — what `vagent run` and `vagent replay` share: the options of a
 * run of calls, each finished call printed (transcript with golden and
 * heard text, tools, hops, comparisons, the ok/FAIL line) and written
 * (--out trace and recording, --record call folder), its expectations
 * judged, then the summary and percentile table, the --json result,
 * --junit and the HTML report.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "vagent.h"
#include "calls.h"
#include "options.h"
#include "output.h"

const char *const calls_clock_choices[] = { "virtual", "real", NULL };
const char *const calls_compute_choices[] = { "measured", "free", NULL };

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
bool calls_infrastructure_failure(const struct vagent_call_run *r,
				  const struct vagent_trace *t, char *why, size_t n)
{
	const struct vagent_session_result *res = vagent_session_result(r->session);
	struct vagent_cassette *cas = vagent_call_run_cassette(r);

	/* a cassette miss first: the fallback's answers must not hide it */
	if (vagent_cassette_miss(cas)) {
		snprintf(why, n, "%.300s", vagent_cassette_miss(cas));
		return true;
	}
	if (vagent_cassette_failure(cas)) {
		snprintf(why, n, "%.300s", vagent_cassette_failure(cas));
		return true;
	}
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

int calls_prepare(struct calls_options *o, const char *cmd)
{
	int rc;

	o->human = !(o->json && !strcmp(o->json, "-"));
	if (!o->human)
		o->quiet = true;        /* stdout is the JSON's alone */
	if (o->date && (strlen(o->date) != 10 || o->date[4] != '-' || o->date[7] != '-')) {
		cmd_error("--date: \"%s\" is not YYYY-MM-DD (see 'vagent %s --help')", o->date,
			  cmd);
		return 2;
	}
	if (o->out_dir && (rc = cmd_make_dir(o->out_dir, "--out")) != 0)
		return rc;
	if (o->record_dir && (rc = cmd_make_dir(o->record_dir, "--record")) != 0)
		return rc;
	if (o->record_providers && o->replay_providers)
		return cmd_usage_error(cmd, "--record-providers and --replay-providers "
				       "cannot be used together");
	if (o->record_providers &&
	    (rc = cmd_make_dir(o->record_providers, "--record-providers")) != 0)
		return rc;
	if (o->replay_providers) {
		struct stat sb;

		if (stat(o->replay_providers, &sb) != 0 || !S_ISDIR(sb.st_mode)) {
			cmd_error("%s: no such directory (--replay-providers)", o->replay_providers);
			return 2;
		}
	}
	if (o->json && o->human) {
		/* find an unwritable --json before the calls run, not after */
		FILE *f = fopen(o->json, "a");

		if (!f) {
			cmd_error("%s: cannot write: %s", o->json, strerror(errno));
			return 3;
		}
		fclose(f);
	}
	return 0;
}

void calls_run_options(const struct calls_options *o, uint64_t seed,
		       struct vagent_run_options *ro)
{
	memset(ro, 0, sizeof(*ro));
	ro->clock = !strcmp(o->clock, "real") ? VAGENT_CLOCK_REAL : VAGENT_CLOCK_VIRTUAL;
	ro->seed = o->seed >= 0 ? (uint64_t)o->seed : seed;
	ro->reference_date = o->date;
	ro->record = o->out_dir != NULL || o->record_dir != NULL;
	ro->prefer_mock_tools = o->mock_tools;
	ro->free_compute = !strcmp(o->compute, "free");
	ro->agent_path = o->agent;
	ro->record_providers = o->record_providers;
	ro->replay_providers = o->replay_providers;
}

/*
 * Judge the call: its expectations, evaluated on its trace, result and
 * recording, and on its own JSON result (no card number may reach that
 * either). *out gets `checks` followed by the outcomes (malloc'd; the
 * strings stay owned by their makers). 0, or 3.
 */
static int judge(struct vagent_call_run *r, struct vagent_call_report *rep,
		 const struct vagent_expectation_result *checks, size_t n_checks,
		 struct vagent_expectation_result **out, size_t *n_out)
{
	struct vagent_expectation_result *all;
	const struct vagent_expectation_outcomes *o;
	char *json = NULL;
	const char *texts[1];
	struct vagent_error err;
	size_t n;

	*out = NULL;
	*n_out = 0;
	if (vagent_result_to_json(rep, 1, NULL, 0, &json, &err) != VAGENT_OK) {
		cmd_error("%s", err.message);
		return 3;
	}
	texts[0] = json;
	if (vagent_call_run_check(r, texts, 1, &err) != VAGENT_OK) {
		cmd_error("%s: expectations: %s", rep->name, err.message);
		free(json);
		return 3;
	}
	free(json);
	o = r->outcomes;
	n = n_checks + (o ? o->n : 0);
	if (!n)
		return 0;
	all = calloc(n, sizeof(*all));
	if (!all) {
		cmd_error("out of memory");
		return 3;
	}
	for (size_t i = 0; i < n_checks; i++)
		all[i] = checks[i];
	for (size_t i = 0; o && i < o->n; i++)
		all[n_checks + i] = o->results[i];
	*out = all;
	*n_out = n;
	return 0;
}

int calls_init(struct calls *c, const struct calls_options *o, size_t cap)
{
	memset(c, 0, sizeof(*c));
	c->opt = o;
	c->cap = cap;
	c->runs = calloc(cap ? cap : 1, sizeof(*c->runs));
	c->reports = calloc(cap ? cap : 1, sizeof(*c->reports));
	c->checks = calloc(cap ? cap : 1, sizeof(*c->checks));
	c->failures = calloc(cap ? cap : 1, sizeof(*c->failures));
	c->hrefs = calloc(cap ? cap : 1, sizeof(*c->hrefs));
	c->stats = vagent_stats_new();
	if (!c->runs || !c->reports || !c->checks || !c->failures || !c->hrefs || !c->stats) {
		cmd_error("out of memory");
		return 3;
	}
	return 0;
}

/* This call's WER of what was heard against the golden caller text
 * (english normalizer, as the --json result counts it); false when no
 * turn has a golden text. */
bool calls_wer(const struct vagent_session_result *res, struct vagent_wer_counts *out)
{
	struct vagent_wer_options o;
	bool any = false;

	vagent_wer_options_default(&o);
	o.normalizer = VAGENT_NORMALIZE_ENGLISH;
	memset(out, 0, sizeof(*out));
	for (size_t i = 0; i < res->n_turns; i++) {
		const struct vagent_session_turn *t = &res->turns[i];
		struct vagent_wer_counts wc;

		if (!t->caller_text ||
		    vagent_wer_align_text(t->caller_text, t->stt_text ? t->stt_text : "", &o,
					  &wc, NULL) != VAGENT_OK)
			continue;
		out->cor += wc.cor;
		out->sub += wc.sub;
		out->del += wc.del;
		out->ins += wc.ins;
		out->ref_words += wc.ref_words;
		out->hyp_words += wc.hyp_words;
		any = true;
	}
	return any;
}

void calls_cassette_notes(struct vagent_call_run *r, const char *name, bool print_miss)
{
	struct vagent_cassette *cas = vagent_call_run_cassette(r);
	size_t unused = vagent_cassette_unused(cas);

	if (vagent_cassette_miss(cas)) {
		if (print_miss)
			cmd_error("%s: %s", name, vagent_cassette_miss(cas));
	} else if (unused) {
		fprintf(stderr, "vagent: warning: %s: %zu of %zu recorded provider exchanges "
			"were not used (%s)\n", name, unused, vagent_cassette_exchanges(cas),
			vagent_cassette_path(cas));
	}
}

int calls_add(struct calls *c, struct vagent_call_run *r, const char *name,
	      const char *description,
	      const struct vagent_expectation_result *given, size_t n_given, bool wer)
{
	struct vagent_expectation_result *checks = NULL;
	size_t n_checks = 0;
	const struct calls_options *o = c->opt;
	struct vagent_trace *t = NULL;
	struct vagent_trace_metrics *tm = NULL;
	const struct vagent_session_result *res;
	struct vagent_call_report *rep;
	struct vagent_wer_counts wc;
	const char *trace_text;
	size_t trace_len = 0, failed = 0;
	char why[320], wer_text[48] = "";
	bool infra;
	struct vagent_error err;
	vagent_status st;
	int rc = 0;

	c->runs[c->n] = r;
	rep = &c->reports[c->n++];
	for (size_t w = 0; w < r->agent->n_warnings; w++)
		fprintf(stderr, "vagent: warning: %s\n", r->agent->warnings[w]);
	calls_cassette_notes(r, name, !o->human);
	res = vagent_session_result(r->session);
	trace_text = vagent_session_trace(r->session, &trace_len);
	st = vagent_trace_parse(trace_text ? trace_text : "", trace_len, name, &t, &err);
	if (st == VAGENT_OK)
		st = vagent_metrics_from_trace(t->events, t->n, &tm, &err);
	if (st == VAGENT_OK && vagent_stats_add_metrics(c->stats, tm) != VAGENT_OK)
		st = VAGENT_ENOMEM;
	if (st != VAGENT_OK) {
		cmd_error("%s: trace: %s", name, err.message);
		vagent_trace_metrics_free(tm);
		vagent_trace_free(t);
		c->n--;
		c->rc = 3;
		return 3;
	}
	if (!o->quiet) {
		for (size_t k = 0; k < res->n_turns; k++)
			print_turn(&res->turns[k], t,
				   turn_metrics(tm->n_calls ? &tm->calls[0] : NULL,
						res->turns[k].turn));
	}
	if (wer && calls_wer(res, &wc)) {
		snprintf(wer_text, sizeof(wer_text), ", wer %.1f%%", 100.0 * vagent_wer_rate(&wc));
		if (!o->quiet)
			printf("  %9s  wer     %.1f%% (%zu sub, %zu del, %zu ins of %zu golden "
			       "words)\n", "", 100.0 * vagent_wer_rate(&wc), wc.sub, wc.del, wc.ins,
			       wc.ref_words);
	}
	/* what the report and the expectations see of the call */
	rep->name = name;
	rep->turns = res->turns;
	rep->n_turns = res->n_turns;
	rep->trace = trace_text;
	rep->trace_len = trace_len;
	rep->escalated = res->escalated;
	rep->description = description;
	rep->agent_path = r->agent ? r->agent->path : NULL;
	rep->end_reason = res->end_reason;
	rep->duration_ms = vagent_ticks_to_ms(res->duration);
	rc = judge(r, rep, given, n_given, &checks, &n_checks);
	c->checks[c->n - 1] = checks;
	for (size_t k = 0; k < n_checks; k++) {
		if (!checks[k].passed)
			failed++;
		if (o->human && (!o->quiet || !checks[k].passed))
			printf("  %9s  %s    %s: %s\n", "", checks[k].passed ? "ok  " : "FAIL",
			       checks[k].name, checks[k].detail ? checks[k].detail : "");
	}
	infra = calls_infrastructure_failure(r, t, why, sizeof(why));
	if (o->human)
		printf("%s %s: %s after %.1f s, %zu turns%s%s%s%s%s%s\n",
		       infra ? "ERROR" : failed ? "FAIL" : "ok  ", name,
		       res->end_reason ? res->end_reason : "?",
		       (double)vagent_ticks_to_ms(res->duration) / 1000.0, res->n_turns, wer_text,
		       res->escalated ? ", escalated: " : "",
		       res->escalated && res->escalation_reason ? res->escalation_reason : "",
		       failed ? (failed == 1 ? "; a check failed" : "; checks failed")
			      : "",
		       infra ? "; infrastructure failed: " : "", infra ? why : "");
	if (!o->quiet && res->transfer_webhook_status > 0)
		printf("     transfer package POSTed to the webhook: HTTP %d\n",
		       res->transfer_webhook_status);
	if (!o->quiet)
		printf("\n");
	if (infra)
		rc = 3;
	else if (failed && rc < 1)
		rc = 1;
	rep->passed = !infra && !failed && rc == 0;
	rep->expectations = checks;
	rep->n_expectations = n_checks;
	if (infra)
		rep->failure = c->failures[c->n - 1] = strdup(why);
	if (o->out_dir) {
		char path[4096];
		const struct vagent_audio *rec = vagent_session_recording(r->session);

		snprintf(path, sizeof(path), "%s/%s.trace.jsonl", o->out_dir, name);
		if (write_file(path, trace_text ? trace_text : "", trace_len))
			rc = 3;
		snprintf(path, sizeof(path), "%s/%s.wav", o->out_dir, name);
		if (rec && (c->hrefs[c->n - 1] = malloc(strlen(name) + 5))) {
			sprintf(c->hrefs[c->n - 1], "%s.wav", name);
			rep->recording_href = c->hrefs[c->n - 1];
		}
		if (rec) {
			struct vagent_audio_save_opts so = vagent_audio_save_opts_default();

			if (vagent_audio_save(rec, path, &so, &err) != VAGENT_OK) {
				cmd_error("%s", err.message);
				rc = 3;
			}
		}
	}
	if (o->record_dir) {
		char path[4096];

		snprintf(path, sizeof(path), "%s/%s", o->record_dir, name);
		if (vagent_call_record_write(r, path, &err) != VAGENT_OK) {
			cmd_error("%s", err.message);
			rc = 3;
		}
	}
	vagent_trace_metrics_free(tm);
	vagent_trace_free(t);
	fflush(stdout);
	if (rc > c->rc)
		c->rc = rc;
	return rc;
}

/* Write `text` to `path` (or stdout for "-"); 0 or 3. */
static int write_report(const char *path, const char *text)
{
	return cmd_write_output(path, text);
}

int calls_finish(struct calls *c)
{
	const struct calls_options *o = c->opt;
	struct vagent_error err;
	char *text = NULL;
	int w;

	if (c->n && o->human) {
		if (vagent_report_summary(c->reports, c->n, isatty(STDOUT_FILENO), &text,
					  &err) != VAGENT_OK) {
			cmd_error("%s", err.message);
			c->rc = 3;
		} else {
			fputs(text, stdout);
			fflush(stdout);
		}
		free(text);
		text = NULL;
	}
	if (o->json && c->n) {
		if (vagent_result_to_json(c->reports, c->n, NULL, 0, &text, &err) != VAGENT_OK) {
			cmd_error("%s", err.message);
			c->rc = 3;
		} else if ((w = write_report(o->json, text)) > c->rc) {
			c->rc = w;
		}
		free(text);
		text = NULL;
	}
	if (o->junit && c->n) {
		if (vagent_report_junit(c->reports, c->n, NULL, &text, &err) != VAGENT_OK) {
			cmd_error("%s", err.message);
			c->rc = 3;
		} else if ((w = write_report(o->junit, text)) > c->rc) {
			c->rc = w;
		}
		free(text);
		text = NULL;
	}
	if (o->out_dir && c->n) {
		char path[4096];

		snprintf(path, sizeof(path), "%s/report.html", o->out_dir);
		if (vagent_report_html(c->reports, c->n, NULL, 0, NULL, &text, &err) != VAGENT_OK) {
			cmd_error("%s", err.message);
			c->rc = 3;
		} else if ((w = write_file(path, text, strlen(text))) > c->rc) {
			c->rc = w;
		}
		free(text);
	}
	return c->rc;
}

void calls_free(struct calls *c)
{
	for (size_t i = 0; i < c->n; i++) {
		vagent_call_run_free(c->runs[i]);
		free(c->checks[i]);
		free(c->failures[i]);
		free(c->hrefs[i]);
	}
	free(c->runs);
	free(c->reports);
	free(c->checks);
	free(c->failures);
	free(c->hrefs);
	vagent_stats_free(c->stats);
	memset(c, 0, sizeof(*c));
}
