/*
 * check_wer_cli.c — `vagent wer` end to end: output forms, JSON schema,
 * --max-wer and --strict exit codes, id mismatches, and bad input.
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "vagent.h"
#include "support/harness.h"

static char ref_trn[4096], hyp_trn[4096], hyp_mis[4096];

/* Three reference utterances; hyp_trn has the same ids, hyp_mis lacks u-3
 * and adds u-9. (Copied: temp_path()'s buffers are reused.) */
static void setup(void)
{
	temp_dir_setup();
	snprintf(ref_trn, sizeof(ref_trn), "%s",
		 temp_file("ref.trn", "a b c d (u-1)\nthe cat sat (u-2)\nhello there (u-3)\n"));
	snprintf(hyp_trn, sizeof(hyp_trn), "%s",
		 temp_file("hyp.trn", "a x c (u-1)\nthe the cat sat on (u-2)\nhello there (u-3)\n"));
	snprintf(hyp_mis, sizeof(hyp_mis), "%s",
		 temp_file("mis.trn", "a b c d (u-1)\nthe cat sat (u-2)\nextra words (u-9)\n"));
}

START_TEST(test_table_and_summary)
{
	struct run_result r = run_vagent("wer", ref_trn, hyp_trn, NULL);

	ck_assert_msg(r.exit_code == 0, "exit %d: %s", r.exit_code, r.err);
	ck_assert_str_eq(r.err, "");
	/* header + 3 utterances + summary */
	ck_assert_int_eq(count_lines(r.out), 5);
	ck_assert_ptr_nonnull(strstr(r.out, "u-1      4      2      1      1      0   50.00%"));
	ck_assert_ptr_nonnull(strstr(r.out, "WER 44.44% (S=1 D=1 I=2 N=9) over 3 utterances, normalizer basic\n"));
	run_result_free(&r);

	r = run_vagent("wer", "-q", ref_trn, hyp_trn, NULL);
	ck_assert_int_eq(r.exit_code, 0);
	ck_assert_str_eq(r.out, "WER 44.44% (S=1 D=1 I=2 N=9) over 3 utterances, normalizer basic\n");
	run_result_free(&r);
}
END_TEST

START_TEST(test_align_output)
{
	struct run_result r = run_vagent("wer", "--align", ref_trn, hyp_trn, NULL);

	ck_assert_int_eq(r.exit_code, 0);
	ck_assert_ptr_nonnull(strstr(r.out,
		"id: u-1\n"
		"Scores: (#C #S #D #I) 2 1 1 0\n"
		"REF:  a B c D\n"
		"HYP:  a X c *\n"
		"Eval:   S   D\n"));
	ck_assert_ptr_nonnull(strstr(r.out,
		"REF:  *** the cat sat **\n"
		"HYP:  THE the cat sat ON\n"
		"Eval: I               I\n"));
	run_result_free(&r);
}
END_TEST

START_TEST(test_cer)
{
	struct run_result r = run_vagent("wer", "--cer", "-q", ref_trn, hyp_trn, NULL);

	ck_assert_int_eq(r.exit_code, 0);
	/* u-1: abcd/axc: 1 S 1 D; u-2: +t,h,e +o,n: 5 I; N = 4 + 9 + 10 */
	ck_assert_str_eq(r.out, "CER 30.43% (S=1 D=1 I=5 N=23) over 3 utterances, normalizer basic\n");
	run_result_free(&r);
}
END_TEST

static double num(const cJSON *o, const char *k)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, k);
	ck_assert_msg(cJSON_IsNumber(v), "missing number %s", k);
	return v->valuedouble;
}

START_TEST(test_json)
{
	const char *out = temp_path("out.json");
	struct run_result r = run_vagent("wer", "--json", out, "--align", "-n", "none",
					 ref_trn, hyp_mis, NULL);
	char *text;
	cJSON *root, *w, *utts, *u, *a;

	ck_assert_msg(r.exit_code == 0, "exit %d: %s", r.exit_code, r.err);
	run_result_free(&r);
	text = read_file(out, NULL);
	ck_assert_ptr_nonnull(text);
	root = cJSON_Parse(text);
	ck_assert_ptr_nonnull(root);
	ck_assert_str_eq(cJSON_GetObjectItem(root, "unit")->valuestring, "word");
	ck_assert_str_eq(cJSON_GetObjectItem(root, "normalizer")->valuestring, "none");
	w = cJSON_GetObjectItem(root, "wer");
	ck_assert(num(w, "ref_words") == 9);
	ck_assert(num(w, "del") == 2);   /* u-3 missing: 2 deletions */
	ck_assert(num(w, "sub") == 0);
	ck_assert(num(w, "ins") == 0);
	ck_assert(num(w, "cor") == 7);
	ck_assert(num(w, "wer") == 0.222222);
	ck_assert_str_eq(cJSON_GetArrayItem(cJSON_GetObjectItem(root, "missing"), 0)->valuestring, "u-3");
	ck_assert_str_eq(cJSON_GetArrayItem(cJSON_GetObjectItem(root, "extra"), 0)->valuestring, "u-9");
	utts = cJSON_GetObjectItem(root, "utterances");
	ck_assert_int_eq(cJSON_GetArraySize(utts), 3);
	u = cJSON_GetArrayItem(utts, 2);
	ck_assert_str_eq(cJSON_GetObjectItem(u, "id")->valuestring, "u-3");
	ck_assert(cJSON_IsTrue(cJSON_GetObjectItem(u, "hyp_missing")));
	ck_assert_str_eq(cJSON_GetObjectItem(u, "ops")->valuestring, "DD");
	ck_assert_str_eq(cJSON_GetObjectItem(u, "ref")->valuestring, "hello there");
	a = cJSON_GetArrayItem(cJSON_GetObjectItem(u, "alignment"), 0);
	ck_assert_str_eq(cJSON_GetArrayItem(a, 0)->valuestring, "D");
	ck_assert_str_eq(cJSON_GetArrayItem(a, 1)->valuestring, "hello");
	ck_assert(cJSON_IsNull(cJSON_GetArrayItem(a, 2)));
	cJSON_Delete(root);
	free(text);

	/* --json - prints only JSON on stdout. */
	r = run_vagent("wer", "--json", "-", ref_trn, hyp_trn, NULL);
	ck_assert_int_eq(r.exit_code, 0);
	root = cJSON_Parse(r.out);
	ck_assert_ptr_nonnull(root);
	ck_assert(num(cJSON_GetObjectItem(root, "wer"), "ins") == 2);
	ck_assert_ptr_null(cJSON_GetObjectItem(cJSON_GetArrayItem(cJSON_GetObjectItem(root, "utterances"), 0), "alignment"));
	cJSON_Delete(root);
	run_result_free(&r);
}
END_TEST

START_TEST(test_max_wer)
{
	struct run_result r = run_vagent("wer", "-q", "--max-wer", "0.40", ref_trn, hyp_trn, NULL);

	ck_assert_int_eq(r.exit_code, 1);
	ck_assert_str_eq(r.err, "vagent: WER 44.44% exceeds --max-wer 40.00%\n");
	ck_assert_int_eq(count_lines(r.out), 1);   /* the result is still printed */
	run_result_free(&r);

	r = run_vagent("wer", "-q", "--max-wer", "45%", ref_trn, hyp_trn, NULL);
	ck_assert_int_eq(r.exit_code, 0);
	run_result_free(&r);

	r = run_vagent("wer", "--max-wer", "lots", ref_trn, hyp_trn, NULL);
	ck_assert_int_eq(r.exit_code, 2);
	ck_assert_int_eq(count_lines(r.err), 1);
	run_result_free(&r);
}
END_TEST

START_TEST(test_mismatched_ids)
{
	struct run_result r = run_vagent("wer", ref_trn, hyp_mis, NULL);

	ck_assert_int_eq(r.exit_code, 0);
	ck_assert_int_eq(count_lines(r.err), 2);
	ck_assert_ptr_nonnull(strstr(r.err, "warning: "));
	ck_assert_ptr_nonnull(strstr(r.err, "1 reference utterance has no hypothesis (counted as deletions): u-3\n"));
	ck_assert_ptr_nonnull(strstr(r.err, "1 hypothesis utterance has no reference (not scored): u-9\n"));
	ck_assert_ptr_nonnull(strstr(r.out, "(no hypothesis)"));
	ck_assert_ptr_nonnull(strstr(r.out, "missing hypothesis, counted as deletions (1): u-3\n"));
	ck_assert_ptr_nonnull(strstr(r.out, "extra hypothesis, not scored (1): u-9\n"));
	ck_assert_ptr_nonnull(strstr(r.out, "(S=0 D=2 I=0 N=9)"));
	run_result_free(&r);

	/* --strict: invalid input, so one error line and no result. */
	r = run_vagent("wer", "--strict", ref_trn, hyp_mis, NULL);
	ck_assert_int_eq(r.exit_code, 2);
	ck_assert_int_eq(count_lines(r.err), 1);
	ck_assert_ptr_nonnull(strstr(r.err, "utterance ids do not match"));
	ck_assert_ptr_nonnull(strstr(r.err, ": 1 missing (u-3), 1 extra (u-9) (--strict)\n"));
	ck_assert_str_eq(r.out, "");
	run_result_free(&r);

	r = run_vagent("wer", "--strict", "-q", ref_trn, hyp_trn, NULL);
	ck_assert_int_eq(r.exit_code, 0);
	run_result_free(&r);
}
END_TEST

START_TEST(test_formats)
{
	const char *ref = temp_file("ref.txt", "Hello, world!\n\nTwenty one\n");
	const char *hyp = temp_file("hyp.json", "{\"utterances\": [{\"id\": 1, \"text\": \"hello world\"},"
					  " {\"id\": \"2\", \"text\": \"\"}, {\"id\": 3, \"text\": \"21\"}]}");
	const char *hyp_lines = temp_file("hyp2.txt", "{not json\n");
	struct run_result r = run_vagent("wer", "-q", "-n", "english", ref, hyp, NULL);

	ck_assert_msg(r.exit_code == 0, "%s", r.err);
	ck_assert_str_eq(r.out, "WER 0.00% (S=0 D=0 I=0 N=3) over 3 utterances, normalizer english\n");
	run_result_free(&r);

	/* Auto-detection calls "{not json" JSON; --hyp-format lines overrides. */
	r = run_vagent("wer", "-q", ref, hyp_lines, NULL);
	ck_assert_int_eq(r.exit_code, 2);
	run_result_free(&r);
	r = run_vagent("wer", "-q", "--hyp-format", "lines", ref, hyp_lines, NULL);
	ck_assert_int_eq(r.exit_code, 0);
	ck_assert_ptr_nonnull(strstr(r.err, ": 2 reference utterances have no hypothesis (counted as deletions): 2, 3\n"));
	ck_assert_ptr_nonnull(strstr(r.out, "over 3 utterances"));
	run_result_free(&r);
	r = run_vagent("wer", "-q", "--format", "lines", ref_trn, hyp_trn, NULL);
	ck_assert_int_eq(r.exit_code, 0);
	run_result_free(&r);
	r = run_vagent("wer", "--format", "xml", ref_trn, hyp_trn, NULL);
	ck_assert_int_eq(r.exit_code, 2);
	ck_assert_int_eq(count_lines(r.err), 1);
	run_result_free(&r);
}
END_TEST

/* Bad input: exactly one line naming the file (and line), exit 2. */
static void bad(const char *ref, const char *hyp, const char *want)
{
	struct run_result r = run_vagent("wer", ref, hyp, NULL);

	ck_assert_msg(r.exit_code == 2, "exit %d for %s: %s", r.exit_code, want, r.err);
	ck_assert_int_eq(count_lines(r.err), 1);
	ck_assert_msg(strstr(r.err, want) != NULL, "stderr \"%s\" lacks \"%s\"", r.err, want);
	ck_assert_str_eq(r.out, "");
	run_result_free(&r);
}

START_TEST(test_bad_input)
{
	char want[1024];
	const char *p;

	p = temp_path("missing.trn");
	snprintf(want, sizeof(want), "vagent: %s: no such file", p);
	bad(ref_trn, p, want);
	p = temp_file("noid.trn", "a b (x-1)\nc d\n");
	snprintf(want, sizeof(want), "vagent: %s:2: missing utterance id", p);
	bad(p, hyp_trn, want);
	p = temp_file("bad.json", "[{\"id\": \"a\", \"text\": \"x\"},\n {\"id\": \"b\" \"text\": \"y\"}]");
	snprintf(want, sizeof(want), "%s:2: invalid JSON", p);
	bad(ref_trn, p, want);
	p = temp_file("utf.trn", "ok (x-1)\n\xff (x-2)\n");
	snprintf(want, sizeof(want), "%s:2: invalid UTF-8", p);
	bad(ref_trn, p, want);
	p = temp_file("dup.trn", "a (x-1)\nb (x-1)\n");
	snprintf(want, sizeof(want), "%s:2: duplicate utterance id 'x-1'", p);
	bad(p, hyp_trn, want);
	bad(ref_trn, temp_dir, temp_dir);
}
END_TEST

START_TEST(test_usage_and_io_errors)
{
	struct run_result r = run_vagent("wer", ref_trn, NULL);

	ck_assert_int_eq(r.exit_code, 2);
	ck_assert_int_eq(count_lines(r.err), 1);
	run_result_free(&r);

	r = run_vagent("wer", "-n", "klingon", ref_trn, hyp_trn, NULL);
	ck_assert_int_eq(r.exit_code, 2);
	ck_assert_int_eq(count_lines(r.err), 1);
	run_result_free(&r);

	/* An unwritable --json destination is an I/O failure, and no result
	 * is printed that a script could mistake for success. */
	r = run_vagent("wer", "--json", "/nonexistent-dir/out.json", ref_trn, hyp_trn, NULL);
	ck_assert_int_eq(r.exit_code, 3);
	ck_assert_int_eq(count_lines(r.err), 1);
	ck_assert_ptr_nonnull(strstr(r.err, "/nonexistent-dir/out.json"));
	ck_assert_str_eq(r.out, "");
	run_result_free(&r);
}
END_TEST

/* "-" reads one side from standard input, named "<stdin>" in messages. */
START_TEST(test_stdin)
{
	char bin[4096], wer[] = "wer", q[] = "-q", dash[] = "-";
	char *argv[] = { bin, wer, q, ref_trn, dash, NULL };
	struct run_result r;

	snprintf(bin, sizeof(bin), "%s", vagent_bin());
	r = run_argv(argv, "a x c (u-1)\nthe the cat sat on (u-2)\nhello there (u-3)\n");

	ck_assert_msg(r.exit_code == 0, "exit %d: %s", r.exit_code, r.err);
	ck_assert_str_eq(r.out, "WER 44.44% (S=1 D=1 I=2 N=9) over 3 utterances, normalizer basic\n");
	run_result_free(&r);

	r = run_argv(argv, "a b c d (u-1)\nno id here\n");
	ck_assert_int_eq(r.exit_code, 2);
	ck_assert_str_eq(r.err, "vagent: <stdin>:2: missing utterance id (a trn line ends with '(id)')\n");
	ck_assert_str_eq(r.out, "");
	run_result_free(&r);

	r = run_vagent("wer", "-", "-", NULL);
	ck_assert_int_eq(r.exit_code, 2);
	ck_assert_int_eq(count_lines(r.err), 1);
	run_result_free(&r);
}
END_TEST

START_TEST(test_real_fixtures)
{
	/* pocketsphinx on LibriSpeech (committed hypotheses, so the counts
	 * are fixed): a row for every reference id, then the exact summary. */
	const char *ref = top_path("fixtures/wer/librispeech.ref.trn");
	struct run_result r = run_vagent("wer", "-n", "english", ref,
					 top_path("fixtures/wer/librispeech.hyp.trn"), NULL);
	struct vagent_transcript *t = NULL;
	struct vagent_error err;

	ck_assert_msg(r.exit_code == 0, "%s", r.err);
	ck_assert_str_eq(r.err, "");
	ck_assert_int_eq(vagent_transcript_load(ref, VAGENT_TRANSCRIPT_AUTO, &t, &err), VAGENT_OK);
	ck_assert_uint_eq(t->count, 8);
	ck_assert_int_eq(count_lines(r.out), 1 + 8 + 1);
	for (size_t i = 0; i < t->count; i++) {
		char row[128];
		snprintf(row, sizeof(row), "\n%s ", t->utts[i].id);
		ck_assert_msg(strstr(r.out, row), "no row for %s", t->utts[i].id);
	}
	ck_assert_ptr_nonnull(strstr(r.out,
		"\nWER 23.03% (S=30 D=3 I=5 N=165) over 8 utterances, normalizer english\n"));
	vagent_transcript_free(t);
	run_result_free(&r);
}
END_TEST

Suite *suite_wer_cli(void)
{
	Suite *s = suite_create("wer_cli");
	TCase *tc = tcase_create("cli");

	tcase_add_checked_fixture(tc, setup, temp_dir_teardown);
	tcase_add_test(tc, test_table_and_summary);
	tcase_add_test(tc, test_align_output);
	tcase_add_test(tc, test_cer);
	tcase_add_test(tc, test_json);
	tcase_add_test(tc, test_max_wer);
	tcase_add_test(tc, test_mismatched_ids);
	tcase_add_test(tc, test_formats);
	tcase_add_test(tc, test_bad_input);
	tcase_add_test(tc, test_usage_and_io_errors);
	tcase_add_test(tc, test_stdin);
	tcase_add_test(tc, test_real_fixtures);
	suite_add_tcase(s, tc);
	return s;
}
