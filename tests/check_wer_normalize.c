/*
 * check_wer_normalize.c — the WER text normalizers: names, edge cases, and
 * every example table in docs/normalizers.md.
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "vagent.h"
#include "support/harness.h"

static void ck_norm(vagent_text_normalizer n, const char *in, const char *want)
{
	char *got = vagent_text_normalize(in, n);

	ck_assert_ptr_nonnull(got);
	ck_assert_msg(!strcmp(got, want), "%s(\"%s\") = \"%s\", want \"%s\"",
		      vagent_text_normalizer_name(n), in, got, want);
	free(got);
}

START_TEST(test_names)
{
	vagent_text_normalizer n;

	ck_assert_int_eq(vagent_text_normalizer_from_name("english", &n), VAGENT_OK);
	ck_assert_int_eq(n, VAGENT_NORMALIZE_ENGLISH);
	ck_assert_int_eq(vagent_text_normalizer_from_name("none", &n), VAGENT_OK);
	ck_assert_int_eq(n, VAGENT_NORMALIZE_NONE);
	ck_assert_int_eq(vagent_text_normalizer_from_name("Basic", &n), VAGENT_EINVAL);
	ck_assert_int_eq(vagent_text_normalizer_from_name(NULL, &n), VAGENT_EINVAL);
	ck_assert_str_eq(vagent_text_normalizer_name(VAGENT_NORMALIZE_BASIC), "basic");
	ck_assert_str_eq(vagent_text_normalizer_name((vagent_text_normalizer)42), "unknown");
}
END_TEST

START_TEST(test_edge_cases)
{
	ck_norm(VAGENT_NORMALIZE_NONE, "", "");
	ck_norm(VAGENT_NORMALIZE_BASIC, "", "");
	ck_norm(VAGENT_NORMALIZE_ENGLISH, "", "");
	ck_norm(VAGENT_NORMALIZE_ENGLISH, "   ", "");
	/* NULL reads as empty text. */
	ck_norm(VAGENT_NORMALIZE_BASIC, NULL, "");
	/* Invalid UTF-8 passes through unchanged, never crashes. */
	ck_norm(VAGENT_NORMALIZE_BASIC, "a \xff\xfe b", "a \xff\xfe b");
	ck_norm(VAGENT_NORMALIZE_ENGLISH, "\xc3", "\xc3");
	/* An unclosed bracket is punctuation, not markup. */
	ck_norm(VAGENT_NORMALIZE_BASIC, "a [b c", "a b c");
	/* Numbers too large to combine stay apart rather than overflow. */
	ck_norm(VAGENT_NORMALIZE_ENGLISH, "one thousand one thousand", "1000 1000");
	ck_norm(VAGENT_NORMALIZE_ENGLISH, "one hundred one hundred", "100 100");
	ck_norm(VAGENT_NORMALIZE_ENGLISH, "one hundred and one hundred", "100 and 100");
	ck_norm(VAGENT_NORMALIZE_ENGLISH, "thousand and one nights", "1001 nights");
	ck_norm(VAGENT_NORMALIZE_ENGLISH, "twenty thirty", "2030");
	ck_norm(VAGENT_NORMALIZE_ENGLISH, "zero zero seven", "0 0 7");
	ck_norm(VAGENT_NORMALIZE_ENGLISH, "point five", "point 5");
	ck_norm(VAGENT_NORMALIZE_ENGLISH, "and one", "and 1");
	ck_norm(VAGENT_NORMALIZE_ENGLISH, "$", "");
	ck_norm(VAGENT_NORMALIZE_ENGLISH, "$ twenty five", "25 dollars");
	ck_norm(VAGENT_NORMALIZE_ENGLISH, "nineteen eighty fourth", "1984th");
	ck_norm(VAGENT_NORMALIZE_ENGLISH, "eleven twelfth", "1112th");
	ck_norm(VAGENT_NORMALIZE_ENGLISH, "a", "a");
	ck_norm(VAGENT_NORMALIZE_ENGLISH, "a hundredth", "a 100th");
}
END_TEST

/* Pull the text between the n-th pair of backticks in `cell`. */
static int cell_text(const char *cell, char *buf, size_t size)
{
	const char *a = strchr(cell, '`'), *b;

	if (strstr(cell, "*(empty)*") && !a) {
		buf[0] = '\0';
		return 1;
	}
	if (!a || !(b = strchr(a + 1, '`')) || (size_t)(b - a - 1) >= size)
		return 0;
	memcpy(buf, a + 1, (size_t)(b - a - 1));
	buf[b - a - 1] = '\0';
	return 1;
}

START_TEST(test_docs_examples)
{
	char *doc = read_file(top_path("docs/normalizers.md"), NULL), *line, *save = NULL;
	int have = 0, checked[3] = { 0, 0, 0 };
	vagent_text_normalizer cur = VAGENT_NORMALIZE_NONE;

	ck_assert_msg(doc != NULL, "docs/normalizers.md missing");
	for (line = strtok_r(doc, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		char in[256], want[256], *mid;

		if (!strncmp(line, "## `", 4)) {
			char name[32];
			ck_assert(sscanf(line + 4, "%31[a-z]", name) == 1);
			ck_assert_int_eq(vagent_text_normalizer_from_name(name, &cur), VAGENT_OK);
			have = 1;
			continue;
		}
		if (!have || strncmp(line, "| `", 3))
			continue;
		/* | `input` | `output` | */
		mid = strstr(line + 3, "` | ");
		ck_assert_msg(mid != NULL, "bad example row: %s", line);
		ck_assert(cell_text(line + 2, in, sizeof(in)));
		ck_assert_msg(cell_text(mid + 2, want, sizeof(want)), "bad output cell: %s", line);
		ck_norm(cur, in, want);
		checked[cur]++;
	}
	free(doc);
	/* Each normalizer's section has its examples. */
	ck_assert_int_ge(checked[VAGENT_NORMALIZE_NONE], 3);
	ck_assert_int_ge(checked[VAGENT_NORMALIZE_BASIC], 8);
	ck_assert_int_ge(checked[VAGENT_NORMALIZE_ENGLISH], 20);
}
END_TEST

START_TEST(test_normalizer_changes_wer)
{
	struct vagent_wer_options o;
	struct vagent_wer_counts c;

	vagent_wer_options_default(&o);
	ck_assert_int_eq(o.normalizer, VAGENT_NORMALIZE_BASIC);
	ck_assert_int_eq(vagent_wer_align_text("Call me at twenty-one, OK?", "call me at 21 okay", &o, &c, NULL), VAGENT_OK);
	ck_assert_uint_eq(c.sub + c.del + c.ins, 3);  /* twenty one / 21, ok / okay */
	o.normalizer = VAGENT_NORMALIZE_ENGLISH;
	ck_assert_int_eq(vagent_wer_align_text("Call me at twenty-one, OK?", "uh call me at 21 okay", &o, &c, NULL), VAGENT_OK);
	ck_assert_uint_eq(c.sub + c.del + c.ins, 0);
	ck_assert_uint_eq(c.ref_words, 5);
	o.normalizer = VAGENT_NORMALIZE_NONE;
	ck_assert_int_eq(vagent_wer_align_text("Hello, world", "hello world", &o, &c, NULL), VAGENT_OK);
	ck_assert_uint_eq(c.sub, 1);  /* "Hello," vs "hello" */
}
END_TEST

/*
 * Inputs found by tests/fuzz/fuzz_normalize.c (minimised). Each normalizer's
 * output is a fixed point of the normalizer, so a second pass must agree.
 */
static void ck_norm_fixed(vagent_text_normalizer n, const char *in, const char *want)
{
	char *again;

	ck_norm(n, in, want);
	again = vagent_text_normalize(want, n);
	ck_assert_ptr_nonnull(again);
	ck_assert_msg(!strcmp(again, want), "%s(\"%s\") = \"%s\": not a fixed point",
		      vagent_text_normalizer_name(n), want, again);
	free(again);
}

START_TEST(test_fuzz_regressions)
{
	char in[300], want[300];

	/* A stem left with a trailing apostrophe once "n't" is taken off
	 * was emitted as "isn'" (and normalized again to "isn"). */
	ck_norm_fixed(VAGENT_NORMALIZE_ENGLISH, "isn'n't", "isn not");
	ck_norm_fixed(VAGENT_NORMALIZE_ENGLISH, "It's isn'n't it?", "it is isn not it");
	/* Stems of 128 bytes or more were not expanded ("...'d have"), so a
	 * second pass changed them. */
	memset(in, 'a', 200);
	memcpy(in + 200, "'d've", 6);
	memset(want, 'a', 200);
	memcpy(want + 200, " would have", 12);
	ck_norm_fixed(VAGENT_NORMALIZE_ENGLISH, in, want);
}
END_TEST

Suite *suite_wer_normalize(void)
{
	Suite *s = suite_create("wer_normalize");
	TCase *tc = tcase_create("normalize");

	tcase_add_test(tc, test_names);
	tcase_add_test(tc, test_edge_cases);
	tcase_add_test(tc, test_docs_examples);
	tcase_add_test(tc, test_normalizer_changes_wer);
	tcase_add_test(tc, test_fuzz_regressions);
	suite_add_tcase(s, tc);
	return s;
}
