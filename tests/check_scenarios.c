/*
 * check_scenarios.c — the scenario library (every scenario file in scenarios/) on the
 * embedded stack: every scenario passes its expectations with the example
 * store agent, the run writes its JUnit XML, JSON result and HTML report,
 * and a deliberately broken agent makes the scenario that guards each
 * behaviour fail with the expectation that names it (docs/scenario.md).
 * Calls run with --compute free so their course does not depend on this
 * machine's speed.
 */
#include <check.h>
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "vagent.h"
#include "support/harness.h"

/* How many scenario files the library has. */
static int count_scenarios(char ***names)
{
	DIR *d = opendir(top_path("scenarios"));
	struct dirent *e;
	int n = 0;

	ck_assert_ptr_nonnull(d);
	*names = NULL;
	while ((e = readdir(d))) {
		size_t l = strlen(e->d_name);

		if (l > 5 && !strcmp(e->d_name + l - 5, ".json")) {
			*names = realloc(*names, (size_t)(n + 1) * sizeof(**names));
			(*names)[n] = strndup(e->d_name, l - 5);
			n++;
		}
	}
	closedir(d);
	return n;
}

static int occurrences(const char *text, const char *what)
{
	int n = 0;

	for (const char *p = text; p && (p = strstr(p, what)); p += strlen(what))
		n++;
	return n;
}

START_TEST(test_library_passes_with_reports)
{
	char **names, *junit, *html, *json, out[1100], junit_path[1200], json_path[1200];
	int n = count_scenarios(&names);
	struct run_result r;
	cJSON *j, *calls, *c;

	ck_assert_int_ge(n, 15);
	snprintf(out, sizeof(out), "%s/run", temp_dir);
	snprintf(junit_path, sizeof(junit_path), "%s/junit.xml", temp_dir);
	snprintf(json_path, sizeof(json_path), "%s/result.json", temp_dir);
	r = run_vagent("run", "-q", "--compute", "free", "--date", "2026-12-03", "--out", out,
		       "--junit", junit_path, "--json", json_path, top_path("scenarios"), NULL);
	/* (the summary and the failed expectations are at the end) */
	ck_assert_msg(r.exit_code == 0, "exit %d:\n%s\n%s", r.exit_code,
		      strlen(r.out) > 3000 ? r.out + strlen(r.out) - 3000 : r.out, r.err);
	snprintf(out, sizeof(out), "%d of %d calls passed", n, n);
	ck_assert_ptr_nonnull(strstr(r.out, out));
	for (int i = 0; i < n; i++) {
		snprintf(out, sizeof(out), "ok   %s: ", names[i]);
		ck_assert_msg(strstr(r.out, out) != NULL, "no line \"%s\"", out);
	}
	run_result_free(&r);

	/* JUnit: one testcase per call, none failed */
	junit = read_file(junit_path, NULL);
	ck_assert_ptr_nonnull(junit);
	ck_assert_int_eq(occurrences(junit, "<testcase "), n);
	ck_assert_int_eq(occurrences(junit, "<failure"), 0);
	ck_assert_int_eq(occurrences(junit, "<error"), 0);
	/* the JSON result: every call passed, each with its expectations */
	json = read_file(json_path, NULL);
	j = cJSON_Parse(json);
	ck_assert_ptr_nonnull(j);
	calls = cJSON_GetObjectItem(j, "calls");
	ck_assert_int_eq(cJSON_GetArraySize(calls), n);
	cJSON_ArrayForEach(c, calls) {
		ck_assert(cJSON_IsTrue(cJSON_GetObjectItem(c, "passed")));
		ck_assert_int_gt(cJSON_GetArraySize(cJSON_GetObjectItem(c, "expectations")), 0);
	}
	/* the HTML report names every call; no card number anywhere */
	snprintf(out, sizeof(out), "%s/run/report.html", temp_dir);
	html = read_file(out, NULL);
	ck_assert_ptr_nonnull(html);
	for (int i = 0; i < n; i++) {
		ck_assert_msg(strstr(html, names[i]) && strstr(junit, names[i]),
			      "%s missing from the reports", names[i]);
		free(names[i]);
	}
	ck_assert_ptr_null(strstr(html, "4111111111111111"));
	ck_assert_ptr_null(strstr(json, "4111111111111111"));
	ck_assert_ptr_null(strstr(junit, "4111111111111111"));
	free(names);
	cJSON_Delete(j);
	free(json);
	free(junit);
	free(html);
}
END_TEST

/* The example agent, changed by `mutate`, written where it can be used
 * with --agent (its knowledge file by absolute path). */
static const char *broken_agent(void (*mutate)(cJSON *agent))
{
	char *text = read_file(top_path("scenarios/agents/store.json"), NULL), *out;
	cJSON *a = cJSON_Parse(text), *k = cJSON_CreateArray();
	const char *path;

	ck_assert_ptr_nonnull(a);
	cJSON_AddItemToArray(k, cJSON_CreateString(top_path("scenarios/agents/store-help.md")));
	cJSON_ReplaceItemInObject(a, "knowledge", k);
	mutate(a);
	out = cJSON_Print(a);
	path = temp_file("broken.json", out);
	free(out);
	free(text);
	cJSON_Delete(a);
	return path;
}

static cJSON *object(cJSON *parent, const char *key)
{
	cJSON *o = cJSON_GetObjectItem(parent, key);

	if (!o)
		o = cJSON_AddObjectToObject(parent, key);
	return o;
}

static cJSON *named(cJSON *array, const char *name)
{
	cJSON *it;

	cJSON_ArrayForEach(it, array)
		if (!strcmp(cJSON_GetObjectItem(it, "name")->valuestring, name))
			return it;
	ck_abort_msg("no %s", name);
	return NULL;
}

static void no_barge_in(cJSON *a)
{
	cJSON_AddBoolToObject(object(a, "interruption"), "barge_in", 0);
}

static void no_filler(cJSON *a)
{
	cJSON_ReplaceItemInObject(object(a, "degradation"), "filler_after_ms",
				  cJSON_CreateNumber(0));
}

static void no_refund_limit(cJSON *a)
{
	cJSON_DeleteItemFromObject(named(cJSON_GetObjectItem(a, "tools"), "refund"), "guard");
}

static void no_disclosure(cJSON *a)
{
	cJSON_ReplaceItemInObject(a, "greeting", cJSON_CreateString(
		"Hi, thanks for calling Acme Home. How can I help?"));
	cJSON_DeleteItemFromObject(a, "compliance");
}

static void no_reprompt(cJSON *a)
{
	cJSON_DeleteItemFromObject(a, "no_input");
}

static void no_backchannels(cJSON *a)
{
	cJSON_ReplaceItemInObject(object(a, "interruption"), "min_words", cJSON_CreateNumber(0));
}

/* The card collected as plain digits: no PCI mode, so the key tones stay
 * in the recording. */
static void no_pci(cJSON *a)
{
	cJSON *intent = named(cJSON_GetObjectItem(object(a, "flow"), "intents"), "pay_balance");
	cJSON *slot = cJSON_GetArrayItem(cJSON_GetObjectItem(intent, "slots"), 0);

	cJSON_ReplaceItemInObject(slot, "type", cJSON_CreateString("digits"));
	cJSON_AddNumberToObject(slot, "min_len", 13);
	cJSON_AddNumberToObject(slot, "max_len", 19);
	cJSON_ReplaceItemInObject(intent, "reply", cJSON_CreateString(
		"Thank you. Your payment of 42 dollars is approved."));
}

static const struct {
	const char *scenario;
	void (*mutate)(cJSON *agent);
	const char *failed;           /* the expectation that must fail */
} broken[] = {
	{ "scenarios/barge-in.json", no_barge_in, "x barge_in" },
	{ "scenarios/slow-brain-filler.json", no_filler, "x filler" },
	{ "scenarios/refund-over-limit.json", no_refund_limit, "x escalated guard_limit" },
	{ "scenarios/ai-disclosure.json", no_disclosure, "x disclosure within 10000 ms" },
	{ "scenarios/silent-caller.json", no_reprompt, "x agent_said /still there/" },
	{ "scenarios/backchannel.json", no_backchannels, "x no barge_in" },
	{ "scenarios/noisy-line.json", no_backchannels, "x no barge_in" },
	{ "scenarios/pay-by-card-dtmf.json", no_pci, "x no_card_number" },
};

START_TEST(test_broken_agent_fails_its_scenario)
{
	const char *agent = broken_agent(broken[_i].mutate);
	struct run_result r = run_vagent("run", "-q", "--compute", "free", "--date", "2026-12-03",
					 "--agent", agent, top_path(broken[_i].scenario), NULL);

	ck_assert_msg(r.exit_code == 1, "%s: exit %d:\n%s\n%s", broken[_i].scenario,
		      r.exit_code, r.out, r.err);
	ck_assert_msg(strstr(r.out, broken[_i].failed) != NULL, "%s: no \"%s\" in:\n%s",
		      broken[_i].scenario, broken[_i].failed, r.out);
	run_result_free(&r);
	/* and the unbroken agent passes it */
	r = run_vagent("run", "-q", "--compute", "free", "--date", "2026-12-03",
		       top_path(broken[_i].scenario), NULL);
	ck_assert_msg(r.exit_code == 0, "%s: exit %d:\n%s", broken[_i].scenario, r.exit_code,
		      r.out);
	run_result_free(&r);
}
END_TEST

Suite *suite_scenarios(void)
{
	Suite *s = suite_create("scenarios");
	TCase *tc = tcase_create("library");

	tcase_add_checked_fixture(tc, temp_dir_setup, temp_dir_teardown);
	/* 18+ calls on pocketsphinx and flite; sanitizer builds are slow */
	tcase_set_timeout(tc, 1200);
	tcase_add_test(tc, test_library_passes_with_reports);
	tcase_add_loop_test(tc, test_broken_agent_fails_its_scenario, 0,
			    (int)(sizeof(broken) / sizeof(broken[0])));
	suite_add_tcase(s, tc);
	return s;
}
