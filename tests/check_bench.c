/*
 * check_bench.c — `vagent bench` and `vagent report merge` through the
 * CLI: runs and seeds, concurrency, SLO verdicts and exit codes, progress
 * lines, shards merged back into what one process gives, and every bad
 * input. The calls are the simulated-provider scenarios of
 * fixtures/bench/ (flow brain, mock tool, simulated STT and TTS) with
 * --compute free, so each job's figures are exact and repeatable; one
 * test benches a recorded call on the embedded stack.
 */
#include <check.h>
#include <math.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "vagent.h"
#include "support/harness.h"

#define ORDER "fixtures/bench/order.json"
#define BARGE "fixtures/bench/barge-in.json"

/* Parse a JSON file; fails the test when it is not JSON. */
static cJSON *load_json(const char *path)
{
	size_t len = 0;
	char *text = read_file(path, &len);
	cJSON *j;

	ck_assert_msg(text != NULL, "%s not written", path);
	j = cJSON_ParseWithLength(text, len);
	ck_assert_msg(j != NULL, "%s is not JSON", path);
	free(text);
	return j;
}

static double num(const cJSON *o, const char *path)
{
	char buf[256], *save = NULL, *tok;
	const cJSON *v = o;

	snprintf(buf, sizeof(buf), "%s", path);
	for (tok = strtok_r(buf, ".", &save); tok; tok = strtok_r(NULL, ".", &save))
		v = cJSON_GetObjectItemCaseSensitive(v, tok);
	ck_assert_msg(cJSON_IsNumber(v), "%s is not a number", path);
	return v->valuedouble;
}

/* The "histograms" object of a result, printed compactly (owned). */
static char *histograms(const cJSON *root)
{
	const cJSON *h = cJSON_GetObjectItemCaseSensitive(root, "histograms");

	ck_assert(cJSON_IsObject(h));
	return cJSON_PrintUnformatted(h);
}

START_TEST(test_runs_turns_and_hops)
{
	struct run_result r = run_vagent("bench", "--runs", "3", "--concurrency", "2",
					 "--compute", "free", "--json", temp_path("b.json"),
					 top_path(ORDER), NULL);
	cJSON *j;

	ck_assert_msg(r.exit_code == 0, "exit %d: %s", r.exit_code, r.err);
	/* the terminal report: the figures and the percentile table */
	ck_assert_ptr_nonnull(strstr(r.out, "3 calls"));
	ck_assert_ptr_nonnull(strstr(r.out, "9 caller turns"));
	ck_assert_ptr_nonnull(strstr(r.out, "e2e "));
	j = load_json(temp_path("b.json"));
	ck_assert_str_eq(cJSON_GetObjectItem(j, "kind")->valuestring, "bench");
	ck_assert_int_eq((int)num(j, "runs"), 3);
	ck_assert_int_eq((int)num(j, "summary.calls"), 3);
	ck_assert_int_eq((int)num(j, "summary.calls_failed"), 0);
	ck_assert_int_eq((int)num(j, "summary.turns"), 9);
	ck_assert_int_eq((int)num(j, "summary.contained"), 3);
	ck_assert_int_eq((int)num(j, "summary.hops.e2e.n"), 9);
	ck_assert_int_eq((int)num(j, "summary.hops.tool.n"), 3);
	ck_assert_int_eq((int)num(j, "summary.hops.answer.n"), 3);
	ck_assert(num(j, "summary.hops.e2e.p50") > 100 && num(j, "summary.hops.e2e.p50") < 5000);
	ck_assert(num(j, "summary.hops.e2e.p50") <= num(j, "summary.hops.e2e.p95"));
	ck_assert(num(j, "summary.hops.e2e.p95") <= num(j, "summary.hops.e2e.max"));
	ck_assert_int_eq((int)num(j, "summary.wer.ref_words"), 3 * 18);
	cJSON_Delete(j);
	run_result_free(&r);
}
END_TEST

/* Each run has its own seed: three runs of one scenario are not three
 * copies of one call. The tool's mock latency is drawn from the seed. */
START_TEST(test_runs_have_their_own_seeds)
{
	struct run_result r = run_vagent("bench", "--runs", "4", "--compute", "free", "--json",
					 temp_path("b.json"), top_path(ORDER), NULL);
	struct vagent_stats *st = NULL;
	struct vagent_stats_bucket *b = NULL;
	struct vagent_error err;
	cJSON *j;
	char *h;
	size_t n = 0;

	ck_assert_msg(r.exit_code == 0, "exit %d: %s", r.exit_code, r.err);
	j = load_json(temp_path("b.json"));
	h = histograms(j);
	ck_assert_int_eq(vagent_stats_from_json(h, strlen(h), "b.json", &st, &err), VAGENT_OK);
	ck_assert_int_eq(vagent_stats_count(st, VAGENT_METRIC_TOOL), 4);
	ck_assert_int_eq(vagent_stats_buckets(st, VAGENT_METRIC_TOOL, &b, &n), VAGENT_OK);
	ck_assert_msg(n >= 3, "4 runs gave only %zu distinct tool latencies", n);
	free(b);
	vagent_stats_free(st);
	free(h);
	cJSON_Delete(j);
	run_result_free(&r);
}
END_TEST

/* With free compute every job's figures are fixed by its seed, so how
 * many run at once must not change the aggregate at all. */
START_TEST(test_concurrency_gives_the_same_aggregate)
{
	struct run_result a = run_vagent("bench", "--runs", "4", "--concurrency", "1", "--compute",
					 "free", "-q", "--json", temp_path("c1.json"),
					 top_path(ORDER), top_path(BARGE), NULL);
	struct run_result b = run_vagent("bench", "--runs", "4", "--concurrency", "5", "--compute",
					 "free", "-q", "--json", temp_path("c5.json"),
					 top_path(ORDER), top_path(BARGE), NULL);
	cJSON *ja, *jb;
	char *ha, *hb;

	ck_assert_msg(a.exit_code == 0, "exit %d: %s", a.exit_code, a.err);
	ck_assert_msg(b.exit_code == 0, "exit %d: %s", b.exit_code, b.err);
	ja = load_json(temp_path("c1.json"));
	jb = load_json(temp_path("c5.json"));
	ck_assert_int_eq((int)num(jb, "concurrency"), 5);
	ck_assert_int_eq((int)num(jb, "summary.calls"), 8);
	ha = histograms(ja);
	hb = histograms(jb);
	ck_assert_str_eq(ha, hb);
	ck_assert_int_eq((int)num(ja, "summary.hops.barge_in_stop.n"), 4);
	free(ha);
	free(hb);
	cJSON_Delete(ja);
	cJSON_Delete(jb);
	run_result_free(&a);
	run_result_free(&b);
}
END_TEST

/* Three shards merged = one process running everything: the same counts
 * and histograms, percentiles within the histograms' stated error of the
 * exact ones. */
START_TEST(test_shards_merge_to_the_whole)
{
	static const char *const parts[] = { "1/3", "2/3", "3/3" };
	static const int jobs[] = { 4, 3, 3 };   /* 10 jobs: 0,3,6,9 / 1,4,7 / 2,5,8 */
	struct run_result whole, merged;
	cJSON *jw, *jm;
	char *hw, *hm;
	const cJSON *hop;

	whole = run_vagent("bench", "--runs", "5", "--compute", "free", "-q", "--concurrency", "2",
			   "--slo", "e2e.p95<5s", "--json", temp_path("whole.json"),
			   top_path(ORDER), top_path(BARGE), NULL);
	ck_assert_msg(whole.exit_code == 0, "exit %d: %s", whole.exit_code, whole.err);
	for (int k = 0; k < 3; k++) {
		char name[32];
		struct run_result r;
		cJSON *j;

		snprintf(name, sizeof(name), "part-%d.json", k + 1);
		r = run_vagent("bench", "--runs", "5", "--compute", "free", "-q", "--shard",
			       parts[k], "--slo", "e2e.p95<5s", "--json", temp_path(name),
			       top_path(ORDER), top_path(BARGE), NULL);
		ck_assert_msg(r.exit_code == 0, "shard %s: exit %d: %s", parts[k], r.exit_code,
			      r.err);
		j = load_json(temp_path(name));
		ck_assert_int_eq((int)num(j, "summary.calls"), jobs[k]);
		ck_assert_int_eq((int)num(j, "shard.k"), k + 1);
		cJSON_Delete(j);
		run_result_free(&r);
	}
	merged = run_vagent("report", "merge", "--json", temp_path("merged.json"),
			    temp_path("part-3.json"), temp_path("part-1.json"),
			    temp_path("part-2.json"), NULL);
	ck_assert_msg(merged.exit_code == 0, "exit %d: %s", merged.exit_code, merged.err);
	ck_assert_ptr_nonnull(strstr(merged.out, "merged from 3 shards"));
	ck_assert_ptr_nonnull(strstr(merged.out, "PASS"));
	jw = load_json(temp_path("whole.json"));
	jm = load_json(temp_path("merged.json"));
	ck_assert_int_eq((int)num(jm, "summary.calls"), 10);
	ck_assert_int_eq((int)num(jm, "summary.turns"), (int)num(jw, "summary.turns"));
	ck_assert_int_eq((int)num(jm, "summary.contained"), (int)num(jw, "summary.contained"));
	ck_assert_int_eq((int)num(jm, "parts"), 3);
	ck_assert_double_eq(num(jm, "summary.wer.wer"), num(jw, "summary.wer.wer"));
	hw = histograms(jw);
	hm = histograms(jm);
	ck_assert_str_eq(hw, hm);
	/* the shards' SLO, judged again on the whole */
	ck_assert_str_eq(cJSON_GetArrayItem(cJSON_GetObjectItem(cJSON_GetObjectItem(jm, "summary"),
								 "slo"), 0)->child->valuestring,
			 "e2e.p95<5s");
	cJSON_ArrayForEach(hop, cJSON_GetObjectItem(cJSON_GetObjectItem(jw, "summary"), "hops")) {
		static const char *const stats[] = { "p50", "p90", "p95", "p99", "max", "mean" };
		const cJSON *other = cJSON_GetObjectItem(
			cJSON_GetObjectItem(cJSON_GetObjectItem(jm, "summary"), "hops"), hop->string);

		ck_assert_msg(other != NULL, "%s missing from the merge", hop->string);
		ck_assert_int_eq((int)num(hop, "n"), (int)num(other, "n"));
		for (int s = 0; s < 6; s++) {
			double exact = num(hop, stats[s]), got = num(other, stats[s]);

			ck_assert_msg(fabs(got - exact) <= fabs(exact) * VAGENT_STATS_REL_ERROR + 0.001,
				      "%s.%s: merged %.3f, whole %.3f", hop->string, stats[s], got,
				      exact);
		}
	}
	free(hw);
	free(hm);
	cJSON_Delete(jw);
	cJSON_Delete(jm);
	run_result_free(&whole);
	run_result_free(&merged);
}
END_TEST

static void shard(const char *k_n, const char *out, const char *runs)
{
	struct run_result r = run_vagent("bench", "--runs", runs, "--compute", "free", "-q",
					 "--shard", k_n, "--json", temp_path(out), top_path(ORDER),
					 NULL);

	ck_assert_msg(r.exit_code == 0, "exit %d: %s", r.exit_code, r.err);
	run_result_free(&r);
}

static void merge_fails(const char *want, const char *a, const char *b)
{
	struct run_result r = run_vagent("report", "merge", a, b, NULL);

	ck_assert_msg(r.exit_code == 2, "exit %d: %s", r.exit_code, r.err);
	ck_assert_msg(strstr(r.err, want) != NULL, "stderr: %s", r.err);
	ck_assert_int_eq(count_lines(r.err), 1);
	run_result_free(&r);
}

START_TEST(test_merge_refuses_what_is_not_one_bench)
{
	char p1[512], p2[512], o3[512], whole[512], bad[512];
	struct run_result r;

	shard("1/2", "p1.json", "2");
	shard("2/2", "p2.json", "2");
	shard("2/2", "other-runs.json", "3");
	snprintf(p1, sizeof(p1), "%s", temp_path("p1.json"));
	snprintf(p2, sizeof(p2), "%s", temp_path("p2.json"));
	snprintf(o3, sizeof(o3), "%s", temp_path("other-runs.json"));
	r = run_vagent("bench", "--compute", "free", "-q", "--json", temp_path("whole.json"),
		       top_path(ORDER), NULL);
	ck_assert_int_eq(r.exit_code, 0);
	run_result_free(&r);
	snprintf(whole, sizeof(whole), "%s", temp_path("whole.json"));
	snprintf(bad, sizeof(bad), "%s", temp_file("bad.json", "{\"kind\": \"bench\", \"inputs\": 3}"));

	merge_fails("shard 1/2 again", p1, p1);
	r = run_vagent("report", "merge", p1, NULL);
	ck_assert_int_eq(r.exit_code, 2);
	ck_assert_ptr_nonnull(strstr(r.err, "shard 2/2 missing"));
	run_result_free(&r);
	merge_fails("not a part of the same bench", p1, o3);
	merge_fails("not the result of one shard", whole, p1);
	merge_fails("inputs: missing or not an array", bad, p1);
	merge_fails("cannot open", temp_path("nothing.json"), p1);
	r = run_vagent("report", "merge", p1, p2, NULL);
	ck_assert_msg(r.exit_code == 0, "exit %d: %s", r.exit_code, r.err);
	run_result_free(&r);
}
END_TEST

START_TEST(test_slo_verdicts_and_exit_codes)
{
	struct run_result r;
	cJSON *j;
	const cJSON *slo;

	r = run_vagent("bench", "--compute", "free", "--slo", "e2e.p95<10s", "--slo",
		       "wer<=5%", top_path(ORDER), NULL);
	ck_assert_msg(r.exit_code == 0, "exit %d: %s%s", r.exit_code, r.out, r.err);
	ck_assert_ptr_nonnull(strstr(r.out, "PASS  e2e.p95 = "));
	ck_assert_ptr_nonnull(strstr(r.out, "2 of 2 SLOs met"));
	run_result_free(&r);

	/* a failed SLO: exit 1, printed with the measured value */
	r = run_vagent("bench", "--compute", "free", "--slo", "e2e.p50<1ms", "--json",
		       temp_path("f.json"), top_path(ORDER), NULL);
	ck_assert_msg(r.exit_code == 1, "exit %d: %s", r.exit_code, r.err);
	ck_assert_ptr_nonnull(strstr(r.out, "FAIL  e2e.p50 = "));
	ck_assert_ptr_nonnull(strstr(r.out, "0 of 1 SLOs met"));
	j = load_json(temp_path("f.json"));
	slo = cJSON_GetArrayItem(cJSON_GetObjectItem(cJSON_GetObjectItem(j, "summary"), "slo"), 0);
	ck_assert(cJSON_IsFalse(cJSON_GetObjectItem(slo, "passed")));
	ck_assert(num(slo, "value") > 1);
	cJSON_Delete(j);
	run_result_free(&r);

	/* a metric with no samples fails, and says so */
	r = run_vagent("bench", "--compute", "free", "--slo", "barge_in_stop.p95<200ms",
		       top_path(ORDER), NULL);
	ck_assert_int_eq(r.exit_code, 1);
	ck_assert_ptr_nonnull(strstr(r.out, "FAIL  barge_in_stop"));
	ck_assert_ptr_nonnull(strstr(r.out, "no samples"));
	run_result_free(&r);

	/* the realtime profile: its three SLOs, in the JSON */
	r = run_vagent("bench", "--compute", "free", "--slo-profile", "realtime", "--json",
		       temp_path("p.json"), top_path(BARGE), NULL);
	ck_assert_int_le(r.exit_code, 1);
	j = load_json(temp_path("p.json"));
	slo = cJSON_GetObjectItem(cJSON_GetObjectItem(j, "summary"), "slo");
	ck_assert_int_eq(cJSON_GetArraySize(slo), 3);
	ck_assert_str_eq(cJSON_GetObjectItem(cJSON_GetArrayItem(slo, 2), "expr")->valuestring,
			 "barge_in_stop.p95<200ms");
	cJSON_Delete(j);
	run_result_free(&r);
}
END_TEST

START_TEST(test_bad_input_exits_2_before_running)
{
	struct run_result r;

	r = run_vagent("bench", "--slo", "e2e.p95 < fast", top_path(ORDER), NULL);
	ck_assert_int_eq(r.exit_code, 2);
	ck_assert_ptr_nonnull(strstr(r.err, "e2e.p95 < fast"));
	ck_assert_ptr_null(strstr(r.err, "calls done"));
	run_result_free(&r);
	r = run_vagent("bench", "--shard", "3/2", top_path(ORDER), NULL);
	ck_assert_int_eq(r.exit_code, 2);
	ck_assert_ptr_nonnull(strstr(r.err, "--shard"));
	run_result_free(&r);
	r = run_vagent("bench", "--shard", "0/2", top_path(ORDER), NULL);
	ck_assert_int_eq(r.exit_code, 2);
	run_result_free(&r);
	r = run_vagent("bench", "--slo-profile", "fast", top_path(ORDER), NULL);
	ck_assert_int_eq(r.exit_code, 2);
	run_result_free(&r);
	/* a broken input among good ones: nothing runs */
	r = run_vagent("bench", "--progress-every", "0", top_path(ORDER),
		       temp_file("broken.json", "{\"agent\": \"nope.json\", \"steps\": []}"), NULL);
	ck_assert_int_eq(r.exit_code, 2);
	ck_assert_ptr_nonnull(strstr(r.err, "broken.json"));
	ck_assert_ptr_null(strstr(r.err, "calls done"));
	run_result_free(&r);
	r = run_vagent("bench", temp_path("missing-dir/x.json"), NULL);
	ck_assert_int_eq(r.exit_code, 2);
	run_result_free(&r);
}
END_TEST

/* A call whose order service is down is the infrastructure's failure:
 * exit 3, named, and kept out of the statistics. */
START_TEST(test_infrastructure_failure_exits_3)
{
	struct run_result r = run_vagent("bench", "--compute", "free", "--runs", "2", "--slo",
					 "e2e.p95<10s", "--json", temp_path("d.json"),
					 top_path("fixtures/bench/down/order-service-down.json"),
					 top_path(ORDER), NULL);
	cJSON *j;

	ck_assert_msg(r.exit_code == 3, "exit %d: %s", r.exit_code, r.err);
	ck_assert_ptr_nonnull(strstr(r.err, "2 of 4 calls could not run"));
	ck_assert_ptr_nonnull(strstr(r.err, "127.0.0.1:9"));
	ck_assert_ptr_nonnull(strstr(r.out, "2 failed to run"));
	j = load_json(temp_path("d.json"));
	ck_assert_int_eq((int)num(j, "summary.calls"), 4);
	ck_assert_int_eq((int)num(j, "summary.calls_failed"), 2);
	ck_assert_int_eq((int)num(j, "summary.hops.tool.n"), 2);
	cJSON_Delete(j);
	run_result_free(&r);
}
END_TEST

/* Off a terminal, progress is plain lines on stderr. */
START_TEST(test_progress_lines)
{
	struct run_result r = run_vagent("bench", "--compute", "free", "--runs", "3",
					 "--progress-every", "0", top_path(ORDER), NULL);

	ck_assert_msg(r.exit_code == 0, "exit %d: %s", r.exit_code, r.err);
	ck_assert_ptr_nonnull(strstr(r.err, "bench: 1/3 calls done"));
	ck_assert_ptr_nonnull(strstr(r.err, "bench: 3/3 calls done"));
	ck_assert_ptr_null(strstr(r.err, "\033"));
	run_result_free(&r);
	r = run_vagent("bench", "--compute", "free", "-q", top_path(ORDER), NULL);
	ck_assert_int_eq(r.exit_code, 0);
	ck_assert_str_eq(r.err, "");
	run_result_free(&r);
}
END_TEST

START_TEST(test_page_and_rendering_again)
{
	struct run_result r = run_vagent("bench", "--compute", "free", "--runs", "2", "--slo",
					 "e2e.p95<10s", "--out", temp_path("site"), "--json",
					 temp_path("b.json"), top_path(BARGE), NULL);
	char *page;
	size_t len = 0;

	ck_assert_msg(r.exit_code == 0, "exit %d: %s", r.exit_code, r.err);
	page = read_file(temp_path("site/bench.html"), &len);
	ck_assert_ptr_nonnull(page);
	ck_assert_ptr_nonnull(strstr(page, "<svg"));
	ck_assert_ptr_nonnull(strstr(page, "e2e.p95&lt;10s"));
	free(page);
	run_result_free(&r);
	r = run_vagent("report", "html", "--out", temp_path("again"), temp_path("b.json"), NULL);
	ck_assert_msg(r.exit_code == 0, "exit %d: %s", r.exit_code, r.err);
	page = read_file(temp_path("again/bench.html"), &len);
	ck_assert_ptr_nonnull(page);
	ck_assert_ptr_nonnull(strstr(page, "<svg"));
	free(page);
	run_result_free(&r);
}
END_TEST

/* Calls in flight at once each start their own order service and reach
 * it, not another call's (the service URL goes through the environment
 * while the agent file is read). */
START_TEST(test_concurrent_calls_with_services)
{
	struct run_result r = run_vagent("bench", "--runs", "8", "--concurrency", "4",
					 "--compute", "free", "-q", "--json", temp_path("s.json"),
					 top_path("fixtures/bench/service/order-http.json"), NULL);
	cJSON *j;

	ck_assert_msg(r.exit_code == 0, "exit %d: %s", r.exit_code, r.err);
	j = load_json(temp_path("s.json"));
	ck_assert_int_eq((int)num(j, "summary.calls"), 8);
	ck_assert_int_eq((int)num(j, "summary.calls_failed"), 0);
	ck_assert_int_eq((int)num(j, "summary.hops.tool.n"), 8);
	ck_assert_int_eq((int)num(j, "summary.contained"), 8);
	cJSON_Delete(j);
	run_result_free(&r);
}
END_TEST

/* On the real clock the calls really overlap in time: while the first
 * to finish is reported, the others are still in flight (each call lasts
 * seconds; their ends differ by their seeds' latencies). */
START_TEST(test_real_clock_calls_overlap)
{
	struct run_result r = run_vagent("bench", "--clock", "real", "--runs", "3",
					 "--concurrency", "3", "--progress-every", "0", "--json",
					 temp_path("r.json"), top_path("fixtures/bench/goodbye.json"),
					 NULL);
	const char *line;
	bool overlap = false;
	cJSON *j;

	ck_assert_msg(r.exit_code == 0, "exit %d: %s", r.exit_code, r.err);
	for (line = strstr(r.err, "bench: "); line; line = strstr(line + 1, "bench: ")) {
		unsigned done = 0, total = 0, flight = 0;

		if (sscanf(line, "bench: %u/%u calls done, %u in flight", &done, &total,
			   &flight) == 3 && done < total && flight >= 1)
			overlap = true;
	}
	ck_assert_msg(overlap, "no call was in flight while another was reported: %s", r.err);
	j = load_json(temp_path("r.json"));
	ck_assert_str_eq(cJSON_GetObjectItem(j, "clock")->valuestring, "real");
	ck_assert_int_eq((int)num(j, "summary.calls"), 3);
	cJSON_Delete(j);
	run_result_free(&r);
}
END_TEST

/* A recorded call on the embedded stack (pocketsphinx, flite), with its
 * golden transcript giving the WER. */
START_TEST(test_recorded_call)
{
	struct run_result r;
	cJSON *j;

	orders_service_start();
	r = run_vagent("bench", "--compute", "free", "--json", temp_path("c.json"),
		       top_path("fixtures/calls/order-status"), NULL);
	orders_service_stop();
	ck_assert_msg(r.exit_code == 0, "exit %d: %s", r.exit_code, r.err);
	j = load_json(temp_path("c.json"));
	ck_assert_int_eq((int)num(j, "summary.calls"), 1);
	ck_assert(num(j, "summary.wer.ref_words") > 5);
	ck_assert(num(j, "summary.hops.e2e.n") >= 2);
	cJSON_Delete(j);
	run_result_free(&r);
}
END_TEST

Suite *suite_bench(void)
{
	Suite *s = suite_create("bench");
	TCase *tc = tcase_create("bench");

	tcase_add_checked_fixture(tc, temp_dir_setup, temp_dir_teardown);
	tcase_set_timeout(tc, 120);
	tcase_add_test(tc, test_runs_turns_and_hops);
	tcase_add_test(tc, test_runs_have_their_own_seeds);
	tcase_add_test(tc, test_concurrency_gives_the_same_aggregate);
	tcase_add_test(tc, test_shards_merge_to_the_whole);
	tcase_add_test(tc, test_merge_refuses_what_is_not_one_bench);
	tcase_add_test(tc, test_slo_verdicts_and_exit_codes);
	tcase_add_test(tc, test_bad_input_exits_2_before_running);
	tcase_add_test(tc, test_infrastructure_failure_exits_3);
	tcase_add_test(tc, test_progress_lines);
	tcase_add_test(tc, test_page_and_rendering_again);
	tcase_add_test(tc, test_concurrent_calls_with_services);
	tcase_add_test(tc, test_real_clock_calls_overlap);
	tcase_add_test(tc, test_recorded_call);
	suite_add_tcase(s, tc);
	return s;
}
