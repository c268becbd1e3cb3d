/*
 * check_validate.c — `vagent validate`: agent, scenario and call files
 * told apart, every problem of every file on stderr, "ok" lines and the
 * count on stdout, a scenario's agent checked once, -q, --json, and exit
 * codes (0 all valid, 2 any invalid or unreadable, never 1).
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <cjson/cJSON.h>

#include "support/harness.h"
#include "vagent.h"

/* How many times `needle` occurs in `hay`. */
static int occurrences(const char *hay, const char *needle)
{
	int n = 0;

	for (const char *p = hay; (p = strstr(p, needle)) != NULL; p += strlen(needle))
		n++;
	return n;
}

static char *fixture(const char *rel)
{
	char *p = strdup(top_path(rel));

	ck_assert_ptr_nonnull(p);
	return p;
}

START_TEST(test_valid_files)
{
	char *agent = fixture("fixtures/validate/agents/good.json");
	char *status = fixture("fixtures/validate/scenarios/status.json");
	char *bye = fixture("fixtures/validate/scenarios/goodbye.json");
	char want[8192];
	struct run_result r = run_vagent("validate", agent, status, bye, NULL);

	ck_assert_msg(r.exit_code == 0, "exit %d: %s", r.exit_code, r.err);
	ck_assert_str_eq(r.err, "");
	/* the agent named by both scenarios was given first: listed once */
	snprintf(want, sizeof(want),
		 "ok   %s (agent)\nok   %s (scenario)\nok   %s (scenario)\n"
		 "3 files, 0 problems\n", agent, status, bye);
	ck_assert_str_eq(r.out, want);
	run_result_free(&r);
	free(agent);
	free(status);
	free(bye);
}
END_TEST

/* One agent file with eight problems: all eight, in file order. */
START_TEST(test_every_problem_of_an_agent)
{
	char *path = fixture("fixtures/validate/agents/many-problems.json");
	struct run_result r = run_vagent("validate", path, NULL);
	char want[1024];

	ck_assert_int_eq(r.exit_code, 2);
	ck_assert_int_eq(count_lines(r.err), 8);
	snprintf(want, sizeof(want), "%s:5: flow.match_threshold: must be between 0 and 1", path);
	ck_assert_msg(!strncmp(r.err, want, strlen(want)), "got: %s", r.err);
	snprintf(want, sizeof(want), "%s:30: nmae: unknown key", path);
	ck_assert_ptr_nonnull(strstr(r.err, want));
	ck_assert_ptr_nonnull(strstr(r.err, ":21: rate:"));
	ck_assert(strstr(r.err, ":21: rate:") < strstr(r.err, ":25: tools[0].timeout_ms"));
	ck_assert(strstr(r.err, ":25: tools[0].timeout_ms") < strstr(r.err, ":30: nmae"));
	ck_assert_str_eq(r.out, "1 file, 8 problems\n");
	run_result_free(&r);
	free(path);
}
END_TEST

/*
 * A folder of scenarios: each *.json; each scenario's agent once (four
 * scenarios share good.json), its problems under its own name; bad tool
 * mocks, a bad step and a missing agent file under the scenario's.
 */
START_TEST(test_scenario_folder)
{
	char *dir = fixture("fixtures/validate/scenarios");
	struct run_result r = run_vagent("validate", dir, NULL);

	ck_assert_int_eq(r.exit_code, 2);
	/* stdout: the valid ones (good.json once), then the count */
	ck_assert_int_eq(occurrences(r.out, "agents/good.json (agent)"), 1);
	ck_assert_ptr_nonnull(strstr(r.out, "scenarios/status.json (scenario)\n"));
	ck_assert_ptr_nonnull(strstr(r.out, "scenarios/goodbye.json (scenario)\n"));
	ck_assert_ptr_nonnull(strstr(r.out, "scenarios/bad-agent.json (scenario)\n"));
	ck_assert_ptr_null(strstr(r.out, "bad-mocks.json"));
	ck_assert_ptr_null(strstr(r.out, "many-problems.json"));
	ck_assert_int_eq(count_lines(r.out), 5);
	ck_assert_ptr_nonnull(strstr(r.out, "\n8 files, 14 problems\n"));
	/* stderr: the agent's 8 under its name, 3 mocks, 2 in a step, 1 agent file */
	ck_assert_int_eq(count_lines(r.err), 14);
	ck_assert_int_eq(occurrences(r.err, "agents/many-problems.json:"), 8);
	ck_assert_ptr_nonnull(strstr(r.err, "bad-mocks.json:6: tools.order_status.latency_ms: "
				     "must be between 0 and 600000 (got -5)\n"));
	ck_assert_ptr_nonnull(strstr(r.err, "bad-mocks.json:7: tools.order_status.faults[0].kind: "
				     "unknown fault kind \"explode\""));
	ck_assert_ptr_nonnull(strstr(r.err, "bad-mocks.json:9: tools.refund: the agent "));
	ck_assert_ptr_nonnull(strstr(r.err, "bad-step.json:5: steps[1].shout: unknown key"));
	ck_assert_ptr_nonnull(strstr(r.err, "bad-step.json:5: steps[1]: needs one of"));
	ck_assert_ptr_nonnull(strstr(r.err, "missing-agent.json: agent: no such file \""));
	ck_assert_ptr_nonnull(strstr(r.err, "agents/nope.json\"\n"));
	run_result_free(&r);
	free(dir);
}
END_TEST

/* Mixed arguments: a missing file, text that is not JSON, a JSON array,
 * an empty folder and a valid agent: one line for each bad one, and the
 * valid one still checked. */
START_TEST(test_unreadable_and_mixed)
{
	char *good = fixture("fixtures/validate/agents/good.json");
	char *dir = strdup(temp_path("empty"));
	const char *junk = temp_file("junk.json", "{\n  \"steps\": [\n  oops\n");
	char *junk_copy = strdup(junk);
	const char *arr = temp_file("array.json", "[1, 2]\n");
	char *arr_copy = strdup(arr);
	char *missing = strdup(temp_path("missing.json"));
	char want[4096];
	struct run_result r;

	ck_assert_int_eq(mkdir(dir, 0777), 0);
	r = run_vagent("validate", missing, junk_copy, good, arr_copy, dir, NULL);
	ck_assert_int_eq(r.exit_code, 2);
	ck_assert_int_eq(count_lines(r.err), 4);
	snprintf(want, sizeof(want), "%s: no such file\n", missing);
	ck_assert_ptr_nonnull(strstr(r.err, want));
	snprintf(want, sizeof(want),
		 "%s:3: invalid JSON (cannot tell an agent from a scenario)\n", junk_copy);
	ck_assert_ptr_nonnull(strstr(r.err, want));
	snprintf(want, sizeof(want), "%s:1: not a JSON object: neither an agent nor a scenario\n",
		 arr_copy);
	ck_assert_ptr_nonnull(strstr(r.err, want));
	snprintf(want, sizeof(want), "%s: no agent, scenario or call files", dir);
	ck_assert_ptr_nonnull(strstr(r.err, want));
	snprintf(want, sizeof(want), "ok   %s (agent)\n5 files, 4 problems\n", good);
	ck_assert_str_eq(r.out, want);
	run_result_free(&r);
	free(good);
	free(dir);
	free(junk_copy);
	free(arr_copy);
	free(missing);
}
END_TEST

/* Recorded calls (a folder with call.json, or call.json itself) are told
 * apart and checked by the call loader: every problem of call.json; the
 * shipped calls are valid. */
START_TEST(test_recorded_calls)
{
	char *call_dir = strdup(temp_path("call1"));
	char *shipped = fixture("fixtures/calls");
	char call_json[4096];
	struct run_result r;

	ck_assert_int_eq(mkdir(call_dir, 0777), 0);
	snprintf(call_json, sizeof(call_json), "%s/call.json", call_dir);
	write_file(call_json, "{}\n", 3);
	r = run_vagent("validate", call_dir, NULL);
	ck_assert_int_eq(r.exit_code, 2);
	ck_assert_int_eq(count_lines(r.err), 2);
	ck_assert_ptr_nonnull(strstr(r.err, "call.json:1: audio: missing"));
	ck_assert_ptr_nonnull(strstr(r.err, "call.json:1: turns: missing"));
	ck_assert_str_eq(r.out, "1 file, 2 problems\n");
	run_result_free(&r);
	/* the file itself, and a folder holding call folders */
	r = run_vagent("validate", call_json, temp_dir, NULL);
	ck_assert_int_eq(r.exit_code, 2);
	ck_assert_int_eq(occurrences(r.err, "call.json:1: audio: missing"), 1);
	run_result_free(&r);
	r = run_vagent("validate", shipped, NULL);
	ck_assert_msg(r.exit_code == 0, "%s", r.err);
	ck_assert_ptr_nonnull(strstr(r.out, "ivr-harvard/call.json (call)\n"));
	ck_assert_ptr_nonnull(strstr(r.out, "(agent)\n"));
	run_result_free(&r);
	free(call_dir);
	free(shipped);
}
END_TEST

/* -q: problems only; warnings are not problems and -q hides them. */
START_TEST(test_quiet_and_warnings)
{
	char *warned = fixture("fixtures/validate/agents/no-greeting.json");
	char *bad = fixture("fixtures/agents/bad/rate.json");
	struct run_result r = run_vagent("validate", warned, NULL);

	ck_assert_int_eq(r.exit_code, 0);
	ck_assert_int_eq(count_lines(r.err), 1);
	ck_assert_ptr_nonnull(strstr(r.err, "vagent: warning: "));
	ck_assert_ptr_nonnull(strstr(r.err, "no-greeting.json:1: greeting: missing"));
	ck_assert_ptr_nonnull(strstr(r.out, "(agent)\n1 file, 0 problems\n"));
	run_result_free(&r);

	r = run_vagent("validate", "-q", warned, NULL);
	ck_assert_int_eq(r.exit_code, 0);
	ck_assert_str_eq(r.out, "");
	ck_assert_str_eq(r.err, "");
	run_result_free(&r);

	r = run_vagent("validate", "-q", warned, bad, NULL);
	ck_assert_int_eq(r.exit_code, 2);
	ck_assert_str_eq(r.out, "");
	ck_assert_int_eq(count_lines(r.err), 1);
	ck_assert_ptr_nonnull(strstr(r.err, "rate.json:4: rate: must be 8000 or 16000"));
	run_result_free(&r);
	free(warned);
	free(bad);
}
END_TEST

/* --json -: stdout is the JSON alone; --json FILE: written too. */
START_TEST(test_json)
{
	char *many = fixture("fixtures/validate/agents/many-problems.json");
	char *good = fixture("fixtures/validate/agents/good.json");
	struct run_result r = run_vagent("validate", "--json", "-", good, many, NULL);
	cJSON *root, *files, *f;
	char *text;

	ck_assert_int_eq(r.exit_code, 2);
	ck_assert_int_eq(count_lines(r.err), 8);
	root = cJSON_Parse(r.out);
	ck_assert_msg(root != NULL, "not JSON: %s", r.out);
	ck_assert_int_eq(cJSON_GetObjectItem(root, "files_checked")->valueint, 2);
	ck_assert_int_eq(cJSON_GetObjectItem(root, "problems")->valueint, 8);
	files = cJSON_GetObjectItem(root, "files");
	ck_assert_int_eq(cJSON_GetArraySize(files), 2);
	f = cJSON_GetArrayItem(files, 0);
	ck_assert_str_eq(cJSON_GetObjectItem(f, "file")->valuestring, good);
	ck_assert_str_eq(cJSON_GetObjectItem(f, "kind")->valuestring, "agent");
	ck_assert(cJSON_IsTrue(cJSON_GetObjectItem(f, "valid")));
	ck_assert_int_eq(cJSON_GetArraySize(cJSON_GetObjectItem(f, "problems")), 0);
	f = cJSON_GetArrayItem(files, 1);
	ck_assert(cJSON_IsFalse(cJSON_GetObjectItem(f, "valid")));
	ck_assert_int_eq(cJSON_GetArraySize(cJSON_GetObjectItem(f, "problems")), 8);
	ck_assert_ptr_nonnull(strstr(cJSON_GetArrayItem(cJSON_GetObjectItem(f, "problems"),
							7)->valuestring, ":30: nmae: unknown key"));
	cJSON_Delete(root);
	run_result_free(&r);

	r = run_vagent("validate", "--json", temp_path("out.json"), good, NULL);
	ck_assert_int_eq(r.exit_code, 0);
	ck_assert_ptr_nonnull(strstr(r.out, "1 file, 0 problems\n"));
	text = read_file(temp_path("out.json"), NULL);
	ck_assert_ptr_nonnull(text);
	root = cJSON_Parse(text);
	ck_assert_ptr_nonnull(root);
	ck_assert_int_eq(cJSON_GetObjectItem(root, "problems")->valueint, 0);
	cJSON_Delete(root);
	free(text);
	run_result_free(&r);

	/* a file that cannot be read is of no kind */
	r = run_vagent("validate", "--json", "-", temp_path("missing.json"), NULL);
	ck_assert_int_eq(r.exit_code, 2);
	root = cJSON_Parse(r.out);
	ck_assert_ptr_nonnull(root);
	f = cJSON_GetArrayItem(cJSON_GetObjectItem(root, "files"), 0);
	ck_assert_str_eq(cJSON_GetObjectItem(f, "kind")->valuestring, "unknown");
	ck_assert_ptr_nonnull(strstr(cJSON_GetArrayItem(cJSON_GetObjectItem(f, "problems"),
							0)->valuestring, "missing.json: no such file"));
	cJSON_Delete(root);
	run_result_free(&r);

	/* a --json file that cannot be written: exit 3 */
	r = run_vagent("validate", "--json", temp_path("no/such/dir/out.json"), good, NULL);
	ck_assert_int_eq(r.exit_code, 3);
	ck_assert_ptr_nonnull(strstr(r.err, "out.json: cannot create"));
	run_result_free(&r);
	free(many);
	free(good);
}
END_TEST

START_TEST(test_usage)
{
	struct run_result r = run_vagent("validate", NULL);

	ck_assert_int_eq(r.exit_code, 2);
	ck_assert_int_eq(count_lines(r.err), 1);
	run_result_free(&r);
	r = run_vagent("validate", "--help", NULL);
	ck_assert_int_eq(r.exit_code, 0);
	ck_assert_ptr_nonnull(strstr(r.out, "usage: vagent validate"));
	ck_assert_ptr_nonnull(strstr(r.out, "call.json"));
	ck_assert_ptr_nonnull(strstr(r.out, "Exit codes"));
	run_result_free(&r);
}
END_TEST

Suite *suite_validate(void);
Suite *suite_validate(void)
{
	Suite *s = suite_create("validate");
	TCase *tc = tcase_create("validate");

	tcase_add_checked_fixture(tc, temp_dir_setup, temp_dir_teardown);
	tcase_set_timeout(tc, 30);
	tcase_add_test(tc, test_valid_files);
	tcase_add_test(tc, test_every_problem_of_an_agent);
	tcase_add_test(tc, test_scenario_folder);
	tcase_add_test(tc, test_unreadable_and_mixed);
	tcase_add_test(tc, test_recorded_calls);
	tcase_add_test(tc, test_quiet_and_warnings);
	tcase_add_test(tc, test_json);
	tcase_add_test(tc, test_usage);
	suite_add_tcase(s, tc);
	return s;
}
