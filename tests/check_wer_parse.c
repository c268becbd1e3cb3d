/*
 * check_wer_parse.c — transcript files: trn, lines and JSON, format
 * detection, id matching, and one-line FILE:LINE errors for bad input.
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "vagent.h"
#include "support/harness.h"

static struct vagent_transcript *parse_ok(const char *text, vagent_transcript_format f)
{
	struct vagent_transcript *t = NULL;
	struct vagent_error err;
	vagent_status st = vagent_transcript_parse(text, strlen(text), "t.txt", f, &t, &err);

	ck_assert_msg(st == VAGENT_OK, "parse failed: %s", err.message);
	ck_assert_ptr_nonnull(t);
	return t;
}

static void parse_bad(const char *text, size_t len, vagent_transcript_format f,
		      const char *want_msg)
{
	struct vagent_transcript *t = NULL;
	struct vagent_error err;
	vagent_status st = vagent_transcript_parse(text, len, "bad.trn", f, &t, &err);

	ck_assert_int_eq(st, VAGENT_EFORMAT);
	ck_assert_ptr_null(t);
	ck_assert_msg(!strcmp(err.message, want_msg), "message \"%s\", want \"%s\"",
		      err.message, want_msg);
	ck_assert_ptr_null(strchr(err.message, '\n'));
}

START_TEST(test_trn)
{
	struct vagent_transcript *t = parse_ok(
		";; a comment\n"
		"hello world (spk1-001)\r\n"
		"\n"
		"  (spk1-002)\n"
		"(uh) well (mm) yes (spk1-003)  \n"
		"no trailing newline (x)", VAGENT_TRANSCRIPT_AUTO);

	ck_assert_int_eq(t->format, VAGENT_TRANSCRIPT_TRN);
	ck_assert_uint_eq(t->count, 4);
	ck_assert_str_eq(t->utts[0].id, "spk1-001");
	ck_assert_str_eq(t->utts[0].text, "hello world");
	ck_assert_uint_eq(t->utts[0].line, 2);
	ck_assert_str_eq(t->utts[1].id, "spk1-002");
	ck_assert_str_eq(t->utts[1].text, "");
	/* The id is the last parenthesised group, as in sclite. */
	ck_assert_str_eq(t->utts[2].id, "spk1-003");
	ck_assert_str_eq(t->utts[2].text, "(uh) well (mm) yes");
	ck_assert_str_eq(t->utts[3].id, "x");
	ck_assert_uint_eq(t->utts[3].line, 6);
	vagent_transcript_free(t);
}
END_TEST

START_TEST(test_lines)
{
	struct vagent_transcript *t = parse_ok("first line\n\nthird (not an id) here\n",
					       VAGENT_TRANSCRIPT_AUTO);

	ck_assert_int_eq(t->format, VAGENT_TRANSCRIPT_LINES);
	/* Empty lines are empty utterances: a decoder that heard nothing. */
	ck_assert_uint_eq(t->count, 3);
	ck_assert_str_eq(t->utts[0].id, "1");
	ck_assert_str_eq(t->utts[1].id, "2");
	ck_assert_str_eq(t->utts[1].text, "");
	ck_assert_str_eq(t->utts[2].id, "3");
	vagent_transcript_free(t);

	/* Forced lines format on a trn-looking file keeps the "(id)". */
	t = parse_ok("a b (u1)\n", VAGENT_TRANSCRIPT_LINES);
	ck_assert_str_eq(t->utts[0].text, "a b (u1)");
	vagent_transcript_free(t);

	t = parse_ok("", VAGENT_TRANSCRIPT_AUTO);
	ck_assert_uint_eq(t->count, 0);
	vagent_transcript_free(t);
}
END_TEST

START_TEST(test_json_shapes)
{
	struct vagent_transcript *t;

	t = parse_ok("[{\"id\": \"a\", \"text\": \"one\"},\n {\"id\": 7, \"text\": \"two\"}]",
		     VAGENT_TRANSCRIPT_AUTO);
	ck_assert_int_eq(t->format, VAGENT_TRANSCRIPT_JSON);
	ck_assert_uint_eq(t->count, 2);
	ck_assert_str_eq(t->utts[1].id, "7");
	ck_assert_str_eq(t->utts[1].text, "two");
	ck_assert_uint_eq(t->utts[1].line, 2);
	vagent_transcript_free(t);

	t = parse_ok("{\"version\": 1,\n \"utterances\": [\n  {\"id\": \"x\", \"text\": \"hi\"},\n  {\"id\": \"y\", \"text\": \"yo\"}\n]}",
		     VAGENT_TRANSCRIPT_AUTO);
	ck_assert_uint_eq(t->count, 2);
	ck_assert_str_eq(t->utts[0].id, "x");
	ck_assert_uint_eq(t->utts[0].line, 3);
	ck_assert_uint_eq(t->utts[1].line, 4);
	vagent_transcript_free(t);

	t = parse_ok("{\"u1\": \"hello there\",\n \"u2\": \"\"}", VAGENT_TRANSCRIPT_AUTO);
	ck_assert_uint_eq(t->count, 2);
	ck_assert_str_eq(t->utts[0].id, "u1");
	ck_assert_str_eq(t->utts[0].text, "hello there");
	ck_assert_uint_eq(t->utts[1].line, 2);
	vagent_transcript_free(t);

	t = parse_ok("  [\"first\", \"second\"]\n", VAGENT_TRANSCRIPT_AUTO);
	ck_assert_uint_eq(t->count, 2);
	ck_assert_str_eq(t->utts[1].id, "2");
	ck_assert_str_eq(t->utts[1].text, "second");
	vagent_transcript_free(t);

	/* A BOM is skipped. */
	t = parse_ok("\xef\xbb\xbf[\"x\"]", VAGENT_TRANSCRIPT_AUTO);
	ck_assert_uint_eq(t->count, 1);
	vagent_transcript_free(t);
}
END_TEST

START_TEST(test_bad_input)
{
	static const char nul[] = "ok (a)\nbad\0byte (b)\n";

	parse_bad("a b (u1)\nno id here\n", 20, VAGENT_TRANSCRIPT_AUTO,
		  "bad.trn:2: missing utterance id (a trn line ends with '(id)')");
	parse_bad("a (u1) b\n", 9, VAGENT_TRANSCRIPT_TRN,
		  "bad.trn:1: text after the utterance id (a trn line ends with '(id)')");
	parse_bad("a b )\n", 6, VAGENT_TRANSCRIPT_TRN,
		  "bad.trn:1: unbalanced ')' (a trn line ends with '(id)')");
	parse_bad("a ()\n", 5, VAGENT_TRANSCRIPT_TRN, "bad.trn:1: empty utterance id");
	parse_bad("a (u1)\nb (u2)\nc (u1)\n", 21, VAGENT_TRANSCRIPT_AUTO,
		  "bad.trn:3: duplicate utterance id 'u1' (first on line 1)");
	parse_bad("ok (a)\nbad \xc3\x28 (b)\n", 19, VAGENT_TRANSCRIPT_AUTO,
		  "bad.trn:2: invalid UTF-8 (byte 0xc3)");
	parse_bad("\xed\xa0\x80\n", 4, VAGENT_TRANSCRIPT_AUTO,
		  "bad.trn:1: invalid UTF-8 (byte 0xed)");
	parse_bad(nul, sizeof(nul) - 1, VAGENT_TRANSCRIPT_AUTO, "bad.trn:2: NUL byte in text");
	parse_bad("[{\"id\": \"a\",\n \"text\": }]", 24, VAGENT_TRANSCRIPT_AUTO,
		  "bad.trn:2: invalid JSON");
	parse_bad("[\"a\"] x", 7, VAGENT_TRANSCRIPT_AUTO,
		  "bad.trn:1: invalid JSON (data after the document)");
	parse_bad("[{\"id\": \"a\", \"text\": \"x\"},\n{\"text\": \"y\"}]", 41, VAGENT_TRANSCRIPT_AUTO,
		  "bad.trn:2: utterance 2: id: missing");
	parse_bad("[{\"id\": \"a\", \"text\": \"x\"},\n{\"id\": 1.5, \"text\": \"y\"}]", 52,
		  VAGENT_TRANSCRIPT_AUTO,
		  "bad.trn:2: utterance 2: id: expected a string or an integer");
	parse_bad("[\n{\"id\": \"a\", \"text\": 3}]", 25, VAGENT_TRANSCRIPT_AUTO,
		  "bad.trn:2: utterance 1: text: expected a string");
	parse_bad("[\n\n 42]", 7, VAGENT_TRANSCRIPT_AUTO,
		  "bad.trn:3: utterance 1: expected an object with \"id\" and \"text\" or a string");
	parse_bad("{\"a\": \"x\",\n \"b\": [1]}", 21, VAGENT_TRANSCRIPT_AUTO,
		  "bad.trn:2: \"b\": expected a string (the utterance text)");
	parse_bad("{\"a\": \"x\",\n \"a\": \"y\"}", 21, VAGENT_TRANSCRIPT_AUTO,
		  "bad.trn:2: duplicate utterance id 'a' (first on line 1)");
	parse_bad("\"just a string\"", 15, VAGENT_TRANSCRIPT_JSON,
		  "bad.trn:1: expected a JSON array or object of utterances");
	parse_bad("[\"a\", \"b\"", 9, VAGENT_TRANSCRIPT_AUTO, "bad.trn:1: invalid JSON");
	parse_bad("  ", 2, VAGENT_TRANSCRIPT_JSON, "bad.trn:1: invalid JSON");
}
END_TEST

START_TEST(test_load_errors)
{
	struct vagent_transcript *t = NULL;
	struct vagent_error err;
	char *dir = make_temp_dir(), path[512];

	snprintf(path, sizeof(path), "%s/nope.trn", dir);
	ck_assert_int_eq(vagent_transcript_load(path, VAGENT_TRANSCRIPT_AUTO, &t, &err), VAGENT_ENOENT);
	ck_assert_ptr_null(t);
	ck_assert_ptr_nonnull(strstr(err.message, "nope.trn: no such file"));
	/* A directory is not a transcript: bad input (exit 2), not I/O. */
	ck_assert_int_eq(vagent_transcript_load(dir, VAGENT_TRANSCRIPT_AUTO, &t, &err), VAGENT_EINVAL);
	ck_assert_int_eq(vagent_status_exit_code(err.status), 2);
	ck_assert_ptr_null(t);
	ck_assert_ptr_nonnull(strstr(err.message, dir));
	ck_assert_ptr_nonnull(strstr(err.message, "is a directory"));
	remove_tree(dir);
	free(dir);
}
END_TEST

START_TEST(test_format_names)
{
	vagent_transcript_format f;

	ck_assert_int_eq(vagent_transcript_format_from_name("json", &f), VAGENT_OK);
	ck_assert_int_eq(f, VAGENT_TRANSCRIPT_JSON);
	ck_assert_int_eq(vagent_transcript_format_from_name("xml", &f), VAGENT_EINVAL);
	ck_assert_str_eq(vagent_transcript_format_name(VAGENT_TRANSCRIPT_LINES), "lines");
}
END_TEST

START_TEST(test_matching_by_id)
{
	struct vagent_transcript *r = parse_ok("a b c (u1)\nd e (u2)\nf (u3)\n", VAGENT_TRANSCRIPT_AUTO);
	struct vagent_transcript *h = parse_ok("f (u3)\nx (u9)\na b c (u1)\n", VAGENT_TRANSCRIPT_AUTO);
	struct vagent_wer_result *res = NULL;

	ck_assert_int_eq(vagent_wer_score(r, h, NULL, &res, NULL), VAGENT_OK);
	/* Scored in reference order, whatever the hypothesis order. */
	ck_assert_uint_eq(res->n_utts, 3);
	ck_assert_str_eq(res->utts[0].id, "u1");
	ck_assert_uint_eq(res->utts[0].counts.cor, 3);
	ck_assert_uint_eq(res->utts[0].hyp_line, 3);
	/* u2 has no hypothesis: both words deleted, listed as missing. */
	ck_assert(res->utts[1].hyp_missing);
	ck_assert_uint_eq(res->utts[1].counts.del, 2);
	ck_assert_uint_eq(res->utts[1].hyp_line, 0);
	ck_assert_uint_eq(res->n_missing, 1);
	ck_assert_str_eq(res->missing_ids[0], "u2");
	/* u9 has no reference: listed, not counted. */
	ck_assert_uint_eq(res->n_extra, 1);
	ck_assert_str_eq(res->extra_ids[0], "u9");
	ck_assert_uint_eq(res->total.ref_words, 6);
	ck_assert_uint_eq(res->total.del, 2);
	ck_assert_uint_eq(res->total.ins, 0);
	ck_assert_uint_eq(res->total.hyp_words, 4);
	/* The result outlives the transcripts. */
	vagent_transcript_free(r);
	vagent_transcript_free(h);
	ck_assert_str_eq(res->utts[2].id, "u3");
	ck_assert_str_eq(res->utts[2].ref_tokens[0], "f");
	vagent_wer_result_free(res);
	vagent_wer_result_free(NULL);
	vagent_transcript_free(NULL);
}
END_TEST

Suite *suite_wer_parse(void)
{
	Suite *s = suite_create("wer_parse");
	TCase *tc = tcase_create("parse");

	tcase_add_test(tc, test_trn);
	tcase_add_test(tc, test_lines);
	tcase_add_test(tc, test_json_shapes);
	tcase_add_test(tc, test_bad_input);
	tcase_add_test(tc, test_load_errors);
	tcase_add_test(tc, test_format_names);
	tcase_add_test(tc, test_matching_by_id);
	suite_add_tcase(s, tc);
	return s;
}
