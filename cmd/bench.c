/*
 * bench.c — `vagent bench`: run scenarios and recorded calls many times,
 * many at once, aggregate every hop of every turn into mergeable
 * histograms, and check latency SLOs (docs/bench.md).
 *
 * The work is a list of jobs, job j = run (j / inputs) of input
 * (j % inputs), each with its own seed (the input's + the run number).
 * `--shard K/N` keeps the jobs with j % N == K - 1, so N machines given
 * 1/N..N/N run every job exactly once, and `vagent report merge` adds
 * their results up. Up to --concurrency worker threads each take the next
 * job, run the call on its own loop, fold its metrics into the shared
 * statistics and free it: memory stays flat however many calls run.
 */
#include <dirent.h>
#include <errno.h>
#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "vagent.h"
#include "builtins.h"
#include "bench.h"
#include "calls.h"
#include "options.h"
#include "output.h"

static const struct cmd_usage bench_usage = {
	.name = "bench",
	.synopsis = "vagent bench [OPTION]... SCENARIO|CALL|DIR...",
	.summary = "run calls many times, many at once, and check latency SLOs",
	.description =
		"Answers \"will this agent meet its latency budget under load?\". Every\n"
		"input — a scenario file (docs/scenario.md), a recorded call folder\n"
		"(docs/call.md), or a DIR of them — runs --runs times, each run with its\n"
		"own seed, with up to --concurrency calls in flight at once. Every hop of\n"
		"every turn of every call (DESIGN.md §6) is aggregated: n, p50, p90, p95,\n"
		"p99, max and mean per hop, the corpus WER and the containment rate.\n"
		"\n"
		"--slo checks an expression such as 'e2e.p95<=1000ms' or 'wer<=0.1'\n"
		"(any number of them); --slo-profile adds a built-in set: realtime\n"
		"(stt_first_partial.p95<250ms, e2e.p95<1000ms, barge_in_stop.p95<200ms)\n"
		"or alerting (e2e.p90<3500ms, e2e.p99<5000ms, wer<=0.08). A metric with\n"
		"no samples fails its SLO.\n"
		"\n"
		"Statistics are kept in histograms with buckets at most 1/256 of their\n"
		"value wide (exact below 4096 samples per hop; then within 0.2%), so\n"
		"memory stays flat over millions of turns. --shard K/N runs a\n"
		"deterministic 1/N of the runs; 'vagent report merge' adds the --json\n"
		"results of all N shards up and checks the SLOs on the whole\n"
		"(docs/bench.md has a Kubernetes Indexed Job and CI matrices).\n"
		"\n"
		"Progress goes to stderr: a bar on a terminal, a line every\n"
		"--progress-every seconds otherwise. Expectations of scenarios are not\n"
		"judged here ('vagent run' does that).\n"
		"\n"
		"Exit codes: 0 every SLO holds, 1 an SLO failed (each failure printed\n"
		"with its measured value), 2 bad input (a file, an SLO expression,\n"
		"--shard), 3 a call could not run (a provider, tool server or file\n"
		"failed). A shard (--shard) records its SLOs without judging them: the\n"
		"merge does.",
	.epilogue =
		"Examples:\n"
		"  vagent bench --runs 20 --concurrency 4 --slo-profile realtime scenarios/\n"
		"  vagent bench --runs 50 --slo 'e2e.p95<=1200ms' --out bench/ scenarios/order-status.json\n"
		"  vagent bench --runs 100 --shard 2/8 --json part-2.json scenarios/\n"
		"  vagent report merge part-*.json --slo-profile realtime\n",
	.min_args = 1, .max_args = -1,
};

static const char *const mode_choices[] = { "turns", "timeline", NULL };

struct bench_input {
	char *path;
	bool is_call;                 /* a recorded call folder, else a scenario */
	uint64_t seed;                /* the input's own: its scenario's, or 1 */
};

struct bench {
	/* options */
	struct calls_options co;
	const char *mode;
	long runs, concurrency, progress_every;
	int shard_k, shard_n;
	struct bench_input *inputs;
	size_t n_inputs;
	size_t total_jobs;            /* runs x inputs */
	size_t shard_jobs;            /* of them, this shard's */

	/* shared between the workers (under lock) */
	pthread_mutex_t lock;
	pthread_cond_t changed;
	size_t next_job;              /* the next job number to look at */
	size_t started, done, in_flight;
	struct vagent_stats *stats;
	size_t calls, calls_failed, turns, contained;
	size_t wer_errors, wer_ref_words;
	char first_failure[600];
	bool out_of_memory;
	struct timespec t0;
};

static double elapsed_s(const struct bench *b)
{
	struct timespec now;

	clock_gettime(CLOCK_MONOTONIC, &now);
	return (double)(now.tv_sec - b->t0.tv_sec) + (double)(now.tv_nsec - b->t0.tv_nsec) / 1e9;
}

/* ---- inputs ---- */

static bool is_call_folder(const char *path)
{
	char p[4096];
	struct stat sb;
	int w = snprintf(p, sizeof(p), "%s/call.json", path);

	return w > 0 && (size_t)w < sizeof(p) && stat(p, &sb) == 0 && S_ISREG(sb.st_mode);
}

static bool is_call_json(const char *path)
{
	const char *base = strrchr(path, '/');

	return !strcmp(base ? base + 1 : path, "call.json");
}

static int add_input(struct bench *b, const char *path, bool is_call)
{
	struct bench_input *in = realloc(b->inputs, (b->n_inputs + 1) * sizeof(*in));

	if (!in)
		return 3;
	b->inputs = in;
	in[b->n_inputs].path = strdup(path);
	in[b->n_inputs].is_call = is_call;
	in[b->n_inputs].seed = 1;
	if (!in[b->n_inputs].path)
		return 3;
	b->n_inputs++;
	return 0;
}

/* Files as given (call.json or a call folder: a recorded call; else a
 * scenario); a directory to its *.json scenarios and its call folders,
 * in name order. */
static int collect(struct bench *b, char **args, int n)
{
	for (int i = 0; i < n; i++) {
		struct stat sb;
		struct dirent **ents = NULL;
		size_t before = b->n_inputs;
		int k, rc = 0;

		if (stat(args[i], &sb) != 0 || !S_ISDIR(sb.st_mode)) {
			if (add_input(b, args[i], is_call_json(args[i])))
				goto nomem;
			continue;
		}
		if (is_call_folder(args[i])) {
			if (add_input(b, args[i], true))
				goto nomem;
			continue;
		}
		k = scandir(args[i], &ents, NULL, alphasort);
		if (k < 0) {
			cmd_error("%s: cannot read the directory: %s", args[i], strerror(errno));
			return 2;
		}
		for (int j = 0; j < k; j++) {
			const char *name = ents[j]->d_name;
			size_t nl = strlen(name);
			char path[4096];
			int w = snprintf(path, sizeof(path), "%s%s%s", args[i],
					 args[i][strlen(args[i]) - 1] == '/' ? "" : "/", name);

			if (!rc && name[0] != '.' && w > 0 && (size_t)w < sizeof(path)) {
				if (nl > 5 && !strcmp(name + nl - 5, ".json") &&
				    stat(path, &sb) == 0 && S_ISREG(sb.st_mode))
					rc = add_input(b, path, false);
				else if (stat(path, &sb) == 0 && S_ISDIR(sb.st_mode) &&
					 is_call_folder(path))
					rc = add_input(b, path, true);
			}
			free(ents[j]);
		}
		free(ents);
		if (rc)
			goto nomem;
		if (b->n_inputs == before) {
			cmd_error("%s: no scenario (*.json) or call folder in it", args[i]);
			return 2;
		}
	}
	return 0;
nomem:
	cmd_error("out of memory");
	return 3;
}

/* Make sure a service's variable exists before calls run on several
 * threads: setting a variable that exists replaces its value in place,
 * adding one may move the whole environment under another thread. */
static void reserve_env(const struct vagent_scenario_service *sv, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (!getenv(sv[i].env))
			setenv(sv[i].env, "", 0);
}

/* Check every input (and the agent each runs against) before any call
 * runs, printing every problem. 0 or the exit code. */
static int validate(struct bench *b)
{
	int rc = 0;

	if (b->co.agent) {
		struct vagent_diags d;
		struct vagent_error err;
		vagent_status st;

		vagent_diags_init(&d);
		st = vagent_agent_validate(b->co.agent, &d, &err);
		for (size_t k = 0; k < d.n; k++)
			cmd_error("%s", d.lines[k]);
		vagent_diags_clear(&d);
		if (st != VAGENT_OK)
			return vagent_status_exit_code(st);
	}
	for (size_t i = 0; i < b->n_inputs; i++) {
		struct bench_input *in = &b->inputs[i];
		struct vagent_diags d;
		struct vagent_error err;
		vagent_status st;

		vagent_diags_init(&d);
		if (in->is_call) {
			struct vagent_recorded_call *c = NULL;

			st = vagent_call_load(in->path, &c, &d, &err);
			if (st == VAGENT_OK && !b->co.agent && !c->agent_path) {
				snprintf(err.message, sizeof(err.message), "%s: no agent to replay "
					 "against: give \"agent\" in the call file or --agent",
					 c->path);
				st = VAGENT_EINVAL;
			}
			if (st == VAGENT_OK && !b->co.agent)
				st = vagent_agent_validate(c->agent_path, &d, &err);
			if (st == VAGENT_OK)
				reserve_env(c->services, c->n_services);
			vagent_recorded_call_free(c);
		} else {
			struct vagent_scenario *sc = NULL;

			st = b->co.agent ? vagent_scenario_load_diags(in->path, &sc, &d, &err)
					 : vagent_scenario_validate(in->path, &d, &err);
			if (st == VAGENT_OK && b->co.agent)
				st = vagent_scenario_check_files(sc, &d, &err);
			if (st == VAGENT_OK && !sc)
				st = vagent_scenario_load(in->path, &sc, &err);
			if (st == VAGENT_OK) {
				in->seed = sc->seed;
				reserve_env(sc->services, sc->n_services);
			}
			vagent_scenario_free(sc);
		}
		for (size_t k = 0; k < d.n; k++)
			cmd_error("%s", d.lines[k]);
		if (st != VAGENT_OK && !d.n)
			cmd_error("%s", err.message);
		vagent_diags_clear(&d);
		if (st != VAGENT_OK && vagent_status_exit_code(st) > rc)
			rc = vagent_status_exit_code(st);
	}
	return rc;
}

/* ---- running ---- */

/* The next job of this shard not yet taken, or false when none is left
 * (under lock). */
static bool take_job(struct bench *b, size_t *job)
{
	while (b->next_job < b->total_jobs) {
		size_t j = b->next_job++;

		if (!b->shard_n || j % (size_t)b->shard_n == (size_t)(b->shard_k - 1)) {
			*job = j;
			return true;
		}
	}
	return false;
}

static void note_failure(struct bench *b, const struct bench_input *in, const char *why)
{
	b->calls_failed++;
	if (!b->first_failure[0])
		snprintf(b->first_failure, sizeof(b->first_failure), "%s: %.500s", in->path, why);
}

/* Run job `j`: one call; its figures folded into the totals. */
static void run_job(struct bench *b, size_t j)
{
	const struct bench_input *in = &b->inputs[j % b->n_inputs];
	uint64_t run = j / b->n_inputs;
	struct vagent_run_options ro;
	struct vagent_call_run *r = NULL;
	struct vagent_trace *t = NULL;
	struct vagent_trace_metrics *tm = NULL;
	struct vagent_wer_counts wc;
	struct vagent_error err;
	const struct vagent_session_result *res;
	const char *trace;
	size_t trace_len = 0, turns = 0;
	char why[400], cassette_name[300] = "";
	bool has_wer;
	vagent_status st;

	calls_run_options(&b->co, in->seed, &ro);
	ro.seed += run;                 /* each run its own seed */
	ro.record = false;
	if (in->is_call) {
		struct vagent_recorded_call *c = NULL;
		struct vagent_replay_options rpo = { 0 };

		rpo.run = ro;
		rpo.mode = !strcmp(b->mode, "timeline") ? VAGENT_REPLAY_TIMELINE
							: VAGENT_REPLAY_TURNS;
		rpo.agent_path = b->co.agent;
		st = vagent_call_load(in->path, &c, NULL, &err);
		if (st == VAGENT_OK) {
			/* provider cassettes: one per call and run */
			snprintf(cassette_name, sizeof(cassette_name), "%s-run%llu", c->name,
				 (unsigned long long)run + 1);
			rpo.run.cassette_name = cassette_name;
			st = vagent_call_replay(c, &rpo, &r, &err);
		}
	} else {
		struct vagent_scenario *sc = NULL;

		st = vagent_scenario_load(in->path, &sc, &err);
		if (st == VAGENT_OK) {
			snprintf(cassette_name, sizeof(cassette_name), "%s-run%llu", sc->name,
				 (unsigned long long)run + 1);
			ro.cassette_name = cassette_name;
			st = vagent_scenario_run(sc, &ro, &r, &err);
		}
	}
	if (st != VAGENT_OK) {
		pthread_mutex_lock(&b->lock);
		b->calls++;
		note_failure(b, in, err.message);
		pthread_mutex_unlock(&b->lock);
		vagent_call_run_free(r);
		return;
	}
	calls_cassette_notes(r, cassette_name, false);
	res = vagent_session_result(r->session);
	trace = vagent_session_trace(r->session, &trace_len);
	st = vagent_trace_parse(trace ? trace : "", trace_len, in->path, &t, &err);
	if (st == VAGENT_OK)
		st = vagent_metrics_from_trace(t->events, t->n, &tm, &err);
	for (size_t i = 0; i < res->n_turns; i++)
		turns += res->turns[i].turn >= 1;
	has_wer = calls_wer(res, &wc);
	pthread_mutex_lock(&b->lock);
	b->calls++;
	if (st != VAGENT_OK) {
		note_failure(b, in, err.message);
	} else if (calls_infrastructure_failure(r, t, why, sizeof(why))) {
		note_failure(b, in, why);
	} else {
		if (vagent_stats_add_metrics(b->stats, tm) != VAGENT_OK)
			b->out_of_memory = true;
		b->turns += turns;
		b->contained += !res->escalated;
		if (has_wer) {
			b->wer_errors += wc.sub + wc.del + wc.ins;
			b->wer_ref_words += wc.ref_words;
		}
	}
	pthread_mutex_unlock(&b->lock);
	vagent_trace_metrics_free(tm);
	vagent_trace_free(t);
	vagent_call_run_free(r);
}

static void *worker(void *arg)
{
	struct bench *b = arg;
	size_t job;

	pthread_mutex_lock(&b->lock);
	while (!b->out_of_memory && take_job(b, &job)) {
		b->started++;
		b->in_flight++;
		pthread_mutex_unlock(&b->lock);
		run_job(b, job);
		pthread_mutex_lock(&b->lock);
		b->in_flight--;
		b->done++;
		pthread_cond_broadcast(&b->changed);
	}
	pthread_mutex_unlock(&b->lock);
	return NULL;
}

/* "1:05" or "1:02:03". */
static void clock_text(double s, char *buf, size_t n)
{
	long t = (long)(s + 0.5);

	if (t >= 3600)
		snprintf(buf, n, "%ld:%02ld:%02ld", t / 3600, t / 60 % 60, t % 60);
	else
		snprintf(buf, n, "%ld:%02ld", t / 60, t % 60);
}

/* The progress line (under lock): a bar redrawn in place on a terminal,
 * else a plain line. */
static void progress(const struct bench *b, bool tty, bool final)
{
	double el = elapsed_s(b);
	char e[32], left[48] = "";
	size_t total = b->shard_jobs;

	clock_text(el, e, sizeof(e));
	if (b->done && b->done < total) {
		char l[32];

		clock_text(el / (double)b->done * (double)(total - b->done), l, sizeof(l));
		snprintf(left, sizeof(left), ", ~%s left", l);
	}
	if (tty) {
		int width = 28, fill = total ? (int)(width * b->done / total) : width;

		fprintf(stderr, "\r\033[K[%.*s%*s] %zu/%zu calls  %zu in flight  %s elapsed%s",
			fill, "############################", width - fill, "", b->done, total,
			b->in_flight, e, left);
		if (final)
			fputs("\r\033[K", stderr);
	} else {
		fprintf(stderr, "bench: %zu/%zu calls done, %zu in flight, %s elapsed%s\n",
			b->done, total, b->in_flight, e, left);
	}
	fflush(stderr);
}

/* Run this shard's jobs on the workers; report progress until done. */
static int run_all(struct bench *b)
{
	pthread_t *threads;
	size_t n_threads = (size_t)b->concurrency, started = 0;
	bool tty = !b->co.quiet && isatty(STDERR_FILENO);
	bool plain = !b->co.quiet && !tty;
	double last = 0;
	size_t last_done = 0;

	if (n_threads > b->shard_jobs)
		n_threads = b->shard_jobs ? b->shard_jobs : 1;
	threads = calloc(n_threads, sizeof(*threads));
	if (!threads) {
		cmd_error("out of memory");
		return 3;
	}
	clock_gettime(CLOCK_MONOTONIC, &b->t0);
	for (size_t i = 0; i < n_threads; i++) {
		if (pthread_create(&threads[i], NULL, worker, b) != 0)
			break;
		started++;
	}
	if (!started) {
		free(threads);
		cmd_error("cannot start the bench's worker threads");
		return 3;
	}
	pthread_mutex_lock(&b->lock);
	while (b->done < b->shard_jobs && !(b->out_of_memory && !b->in_flight)) {
		struct timespec until;
		double wait = tty ? 0.25 : b->progress_every > 0 ? (double)b->progress_every : 3600;

		clock_gettime(CLOCK_REALTIME, &until);
		until.tv_sec += (time_t)wait;
		until.tv_nsec += (long)((wait - floor(wait)) * 1e9);
		if (until.tv_nsec >= 1000000000L) {
			until.tv_sec++;
			until.tv_nsec -= 1000000000L;
		}
		pthread_cond_timedwait(&b->changed, &b->lock, &until);
		if (tty) {
			progress(b, true, false);
		} else if (plain && b->done < b->shard_jobs) {
			double now = elapsed_s(b);

			if (b->progress_every == 0 ? b->done != last_done
						   : now - last >= (double)b->progress_every) {
				progress(b, false, false);
				last = now;
				last_done = b->done;
			}
		}
	}
	pthread_mutex_unlock(&b->lock);
	for (size_t i = 0; i < started; i++)
		pthread_join(threads[i], NULL);
	free(threads);
	if (tty || plain)
		progress(b, tty, true);
	if (b->out_of_memory) {
		cmd_error("out of memory");
		return 3;
	}
	return 0;
}

/* ---- SLOs ---- */

int bench_parse_slos(const struct opt_strings *exprs, const char *profile,
		      struct vagent_slo *slos, size_t n_max, size_t *n)
{
	const char *const *p = profile ? vagent_slo_profile(profile) : NULL;
	int rc = 0;

	*n = 0;
	for (; p && *p && *n < n_max; p++) {
		struct vagent_error err;

		if (vagent_slo_parse(*p, &slos[*n], &err) == VAGENT_OK)
			(*n)++;
	}
	for (size_t i = 0; i < exprs->n && *n < n_max; i++) {
		struct vagent_error err;

		if (vagent_slo_parse(exprs->v[i], &slos[*n], &err) != VAGENT_OK) {
			cmd_error("%s", err.message);
			rc = 2;
			continue;
		}
		(*n)++;
	}
	return rc;
}

int bench_judge(struct vagent_bench_summary *bs, const struct vagent_slo *slos, size_t n_slos,
		struct vagent_slo_result *res, char (*details)[256], const char **detail_ptrs)
{
	int failed = 0;

	for (size_t i = 0; i < n_slos; i++) {
		vagent_slo_eval(&slos[i], bs->stats, bs->has_wer, bs->wer, &res[i], details[i],
				sizeof(details[i]));
		detail_ptrs[i] = details[i];
		failed += !res[i].passed;
	}
	bs->slos = res;
	bs->slo_details = detail_ptrs;
	bs->n_slos = n_slos;
	return failed;
}

int bench_write(const struct vagent_bench_summary *bs, const char *json, const char *out_dir,
		bool quiet)
{
	struct vagent_error err;
	char *text = NULL;
	int rc = 0, w;
	bool json_stdout = json && !strcmp(json, "-");

	if (!json_stdout || !quiet) {
		if (vagent_report_bench_text(bs, isatty(json_stdout ? STDERR_FILENO : STDOUT_FILENO),
					     &text, &err) != VAGENT_OK) {
			cmd_error("%s", err.message);
			rc = 3;
		} else {
			fputs(text, json_stdout ? stderr : stdout);
			fflush(json_stdout ? stderr : stdout);
		}
		free(text);
		text = NULL;
	}
	if (json) {
		if (vagent_bench_to_json(bs, &text, &err) != VAGENT_OK) {
			cmd_error("%s", err.message);
			rc = 3;
		} else if ((w = cmd_write_output(json, text)) > rc) {
			rc = w;
		}
		free(text);
		text = NULL;
	}
	if (out_dir) {
		char path[4096];

		snprintf(path, sizeof(path), "%s/bench.html", out_dir);
		if (vagent_report_bench_html(bs, &text, &err) != VAGENT_OK) {
			cmd_error("%s", err.message);
			rc = 3;
		} else if ((w = cmd_write_output(path, text)) > rc) {
			rc = w;
		}
		free(text);
	}
	return rc;
}

/* "K/N" with 1 <= K <= N. */
static bool parse_shard(const char *s, int *k, int *n)
{
	char *end;
	long a, c;

	errno = 0;
	a = strtol(s, &end, 10);
	if (errno || end == s || *end != '/')
		return false;
	s = end + 1;
	c = strtol(s, &end, 10);
	if (errno || end == s || *end || c < 1 || c > 1000000 || a < 1 || a > c)
		return false;
	*k = (int)a;
	*n = (int)c;
	return true;
}

int cmd_bench(int argc, char **argv)
{
	struct bench b = { .co = { .clock = "virtual", .compute = "measured", .seed = -1 },
			   .mode = "turns", .runs = 1, .concurrency = 1, .progress_every = 10 };
	struct opt_strings slo_exprs = { { 0 }, 0 };
	const char *profile = NULL, *shard = NULL;
	const struct cmd_option opts[] = {
		OPT_INT_('n', "runs", &b.runs, "N", "run every input N times, each with its own "
			 "seed (default 1)", 1, 10000000),
		OPT_INT_('c', "concurrency", &b.concurrency, "C",
			 "up to C calls in flight at once (default 1)", 1, 4096),
		OPT_STRINGS_(0, "slo", &slo_exprs, "EXPR",
			     "check METRIC.STAT OP VALUE[ms|s], or wer OP VALUE[%]; repeatable"),
		OPT_CHOICE_(0, "slo-profile", &profile, "NAME",
			    "add a built-in set of SLOs", vagent_slo_profile_names()),
		OPT_STRING_(0, "shard", &shard, "K/N",
			    "run only the K-th of N deterministic slices of the runs"),
		OPT_STRING_(0, "json", &b.co.json, "FILE",
			    "write the result with its histograms ('-' for stdout); "
			    "the part 'vagent report merge' reads"),
		OPT_STRING_(0, "out", &b.co.out_dir, "DIR",
			    "write DIR/bench.html: percentile bars and latency histograms"),
		OPT_STRING_(0, "agent", &b.co.agent, "FILE",
			    "test this agent file instead of each input's"),
		OPT_INT_(0, "seed", &b.co.seed, "N",
			 "base seed (default: each input's); run R uses base + R", 0, 2147483647),
		OPT_CHOICE_(0, "clock", &b.co.clock, "CLOCK",
			    "virtual (default: as fast as the engines compute) or real",
			    calls_clock_choices),
		OPT_CHOICE_(0, "compute", &b.co.compute, "HOW",
			    "virtual clock: charge the engines' compute as measured (default) "
			    "or free (results independent of this machine's speed)",
			    calls_compute_choices),
		OPT_CHOICE_(0, "mode", &b.mode, "MODE",
			    "recorded calls: turns (default) or timeline (docs/replay.md)",
			    mode_choices),
		OPT_STRING_(0, "date", &b.co.date, "YYYY-MM-DD",
			    "what \"today\" means to date slots (default: the real date)"),
		OPT_BOOL_(0, "mock-tools", &b.co.mock_tools,
			  "run the mocks of tools that have both an endpoint and a mock"),
		OPT_INT_(0, "progress-every", &b.progress_every, "S",
			 "not on a terminal: a progress line every S seconds (0: after each "
			 "call; default 10)", 0, 86400),
		OPT_BOOL_('q', "quiet", &b.co.quiet, "no progress; with --json -, no report"),
		CASSETTE_OPTIONS(b.co),
		OPT_END_(),
	};
	struct vagent_slo slos[OPT_STRINGS_MAX + 8];
	struct vagent_slo_result slo_res[OPT_STRINGS_MAX + 8];
	char slo_details[OPT_STRINGS_MAX + 8][256];
	const char *slo_ptrs[OPT_STRINGS_MAX + 8];
	struct vagent_bench_summary bs = { 0 };
	const char **input_names = NULL;
	size_t n_slos = 0;
	int n = parse_options(&bench_usage, opts, argc, argv), rc = 0, failed;

	if (n == PARSE_OPT_HELP)
		return 0;
	if (n < 0)
		return 2;
	if (shard && !parse_shard(shard, &b.shard_k, &b.shard_n)) {
		cmd_usage_error("bench", "--shard: '%s' is not K/N with 1 <= K <= N", shard);
		return 2;
	}
	if ((rc = bench_parse_slos(&slo_exprs, profile, slos, OPT_STRINGS_MAX + 8, &n_slos)) != 0)
		return rc;
	if ((rc = calls_prepare(&b.co, "bench")) != 0)
		return rc;
	pthread_mutex_init(&b.lock, NULL);
	pthread_cond_init(&b.changed, NULL);
	if ((rc = collect(&b, argv, n)) != 0 || (rc = validate(&b)) != 0)
		goto done;
	b.stats = vagent_stats_new();
	input_names = calloc(b.n_inputs, sizeof(*input_names));
	if (!b.stats || !input_names) {
		cmd_error("out of memory");
		rc = 3;
		goto done;
	}
	b.total_jobs = (size_t)b.runs * b.n_inputs;
	b.shard_jobs = b.total_jobs;
	if (b.shard_n)
		b.shard_jobs = b.total_jobs / (size_t)b.shard_n +
			       ((size_t)(b.shard_k - 1) < b.total_jobs % (size_t)b.shard_n);
	if ((rc = run_all(&b)) != 0)
		goto done;

	for (size_t i = 0; i < b.n_inputs; i++)
		input_names[i] = b.inputs[i].path;
	bs.title = "vagent bench";
	bs.inputs = input_names;
	bs.n_inputs = b.n_inputs;
	bs.clock = b.co.clock;
	bs.runs = (int)b.runs;
	bs.concurrency = (int)b.concurrency;
	bs.shard_k = b.shard_k;
	bs.shard_n = b.shard_n;
	bs.calls = b.calls;
	bs.calls_failed = b.calls_failed;
	bs.turns = b.turns;
	bs.contained = b.contained;
	bs.has_wer = b.wer_ref_words > 0;
	bs.wer = bs.has_wer ? (double)b.wer_errors / (double)b.wer_ref_words : 0;
	bs.wer_errors = b.wer_errors;
	bs.wer_ref_words = b.wer_ref_words;
	bs.wall_s = elapsed_s(&b);
	bs.stats = b.stats;
	failed = bench_judge(&bs, slos, n_slos, slo_res, slo_details, slo_ptrs);
	rc = bench_write(&bs, b.co.json, b.co.out_dir, b.co.quiet);
	if (b.calls_failed) {
		cmd_error("%zu of %zu calls could not run; the first: %s", b.calls_failed, b.calls,
			  b.first_failure);
		rc = 3;
	} else if (!rc && failed && !b.shard_n) {
		rc = 1;
	}
done:
	for (size_t i = 0; i < b.n_inputs; i++)
		free(b.inputs[i].path);
	free(b.inputs);
	free(input_names);
	vagent_stats_free(b.stats);
	pthread_mutex_destroy(&b.lock);
	pthread_cond_destroy(&b.changed);
	return rc;
}
