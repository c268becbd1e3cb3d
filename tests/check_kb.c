/*
 * check_kb.c — knowledge retrieval: chunking Markdown by heading and text by
 * paragraph, BM25 ranking of the store knowledge base
 * (fixtures/knowledge/store.md) for caller questions with recognition
 * errors, spoken answers, bad files, ties, empty queries, many chunks.
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "vagent.h"
#include "support/harness.h"

static struct vagent_kb *store_kb(void)
{
	struct vagent_kb *kb = NULL;
	struct vagent_error err = {0};

	ck_assert_int_eq(vagent_kb_new(&kb), VAGENT_OK);
	ck_assert_msg(vagent_kb_add_file(kb, top_path("fixtures/knowledge/store.md"), &err) ==
		      VAGENT_OK, "%s", err.message);
	return kb;
}

/* The source's part after '#'. */
static const char *anchor(const char *source)
{
	const char *h = strchr(source, '#');

	return h ? h + 1 : "";
}

START_TEST(test_chunks)
{
	struct vagent_kb *kb = store_kb();
	struct vagent_kb_hit hit;

	/* The intro and eight sections. */
	ck_assert_int_eq(vagent_kb_chunks(kb), 9);
	ck_assert_int_eq(vagent_kb_search(kb, "return policy", &hit, 1), 1);
	ck_assert_str_eq(anchor(hit.source), "return-policy");
	ck_assert_ptr_nonnull(strstr(hit.source, "fixtures/knowledge/store.md#"));
	ck_assert_str_eq(hit.heading, "Northwind Goods customer help > Return policy");
	ck_assert(!strncmp(hit.text, "You can return most items", 25));
	ck_assert(hit.score > 0);
	vagent_kb_free(kb);
	vagent_kb_free(NULL);
	ck_assert_int_eq(vagent_kb_chunks(NULL), 0);
}
END_TEST

struct query_case {
	const char *query;
	const char *anchor;
};

START_TEST(test_retrieval)
{
	static const struct query_case cases[] = {
		{ "what are your hours", "store-hours" },
		{ "what are your ours", "store-hours" },
		{ "when are you open on saturday", "store-hours" },
		{ "are you guys open on sunday", "store-hours" },
		{ "what time do you close", "store-hours" },
		{ "can i return something", "return-policy" },
		{ "what's your return policy", "return-policy" },
		{ "what's you're return pal icy", "return-policy" },
		{ "how many days do i have to return it", "return-policy" },
		{ "how long does a refund take", "refund-policy" },
		{ "how long does a re fund take", "refund-policy" },
		{ "when do i get my money back", "refund-policy" },
		{ "how long does shipping take", "shipping-times" },
		{ "do you ship internationally", "shipping-times" },
		{ "how much is express shipping", "shipping-times" },
		{ "can i change my delivery date", "rescheduling-a-delivery" },
		{ "i need to re schedule a delivery", "rescheduling-a-delivery" },
		{ "where is my package", "order-status-and-tracking" },
		{ "wear is my package", "order-status-and-tracking" },
		{ "how do i track my order", "order-status-and-tracking" },
		{ "do you take pay pal", "payment-methods" },
		{ "can i pay with a master card", "payment-methods" },
		{ "what is your phone number", "contact-us" },
		{ "what's your email address", "contact-us" },
	};
	struct vagent_kb *kb = store_kb();

	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		struct vagent_kb_hit hits[3];
		size_t n = vagent_kb_search(kb, cases[i].query, hits, 3);

		ck_assert_msg(n >= 1 && !strcmp(anchor(hits[0].source), cases[i].anchor),
			      "\"%s\": got %s, want #%s", cases[i].query,
			      n ? hits[0].source : "nothing", cases[i].anchor);
		for (size_t k = 1; k < n; k++)
			ck_assert(hits[k].score <= hits[k - 1].score);
	}
	vagent_kb_free(kb);
}
END_TEST

START_TEST(test_answers)
{
	struct vagent_kb *kb = store_kb();
	struct vagent_kb_hit hits[9];
	size_t n;

	/* The sentence that answers, Markdown stripped. */
	ck_assert_int_eq(vagent_kb_search(kb, "when are you open on saturday", hits, 1), 1);
	ck_assert_str_eq(hits[0].answer,
			 "Our phone line and live chat are open Monday to Friday, 8 am to 8 pm, "
			 "and Saturday 9 am to 5 pm, Eastern time.");
	/* A link reads as its text. */
	ck_assert_int_eq(vagent_kb_search(kb, "how do i start a return label", hits, 1), 1);
	ck_assert_ptr_nonnull(strstr(hits[0].answer, "visit the returns page or ask"));
	ck_assert_ptr_null(strstr(hits[0].answer, "http"));
	/* A list item is a sentence. */
	ck_assert_int_eq(vagent_kb_search(kb, "how much does express shipping cost", hits, 1), 1);
	ck_assert_ptr_nonnull(strstr(hits[0].answer,
				     "Express shipping takes 1 to 2 business days and costs $14.99."));
	ck_assert_ptr_null(strstr(hits[0].answer, "- "));
	/* Every answer is short, plain text. */
	n = vagent_kb_search(kb, "refund shipping order delivery return store payment", hits, 9);
	ck_assert_int_ge(n, 7);
	for (size_t i = 0; i < n; i++) {
		size_t len = strlen(hits[i].answer);

		ck_assert_msg(len > 0 && len <= 300, "%s: %zu chars", hits[i].source, len);
		ck_assert_msg(!strpbrk(hits[i].answer, "*#[]`\n"), "%s: \"%s\"",
			      hits[i].source, hits[i].answer);
	}
	vagent_kb_free(kb);
}
END_TEST

START_TEST(test_empty_and_unknown_queries)
{
	struct vagent_kb *kb = store_kb();
	struct vagent_kb_hit hits[3];

	ck_assert_int_eq(vagent_kb_search(kb, "", hits, 3), 0);
	ck_assert_int_eq(vagent_kb_search(kb, "   ", hits, 3), 0);
	ck_assert_int_eq(vagent_kb_search(kb, "the and of is", hits, 3), 0);
	ck_assert_int_eq(vagent_kb_search(kb, "banana spaceship", hits, 3), 0);
	ck_assert_int_eq(vagent_kb_search(kb, NULL, hits, 3), 0);
	ck_assert_int_eq(vagent_kb_search(kb, "refund", hits, 0), 0);
	ck_assert_int_eq(vagent_kb_search(kb, "refund", NULL, 3), 0);
	ck_assert_int_eq(vagent_kb_search(NULL, "refund", hits, 3), 0);
	vagent_kb_free(kb);

	/* An empty knowledge base. */
	ck_assert_int_eq(vagent_kb_new(&kb), VAGENT_OK);
	ck_assert_int_eq(vagent_kb_chunks(kb), 0);
	ck_assert_int_eq(vagent_kb_search(kb, "refund", hits, 3), 0);
	ck_assert_int_eq(vagent_kb_add_text(kb, "empty.md", "", NULL), VAGENT_OK);
	ck_assert_int_eq(vagent_kb_add_text(kb, "headings.md", "# A\n## B\n", NULL), VAGENT_OK);
	ck_assert_int_eq(vagent_kb_chunks(kb), 0);
	vagent_kb_free(kb);
	ck_assert_int_eq(vagent_kb_new(NULL), VAGENT_EINVAL);
}
END_TEST

START_TEST(test_ties)
{
	struct vagent_kb *kb = NULL;
	struct vagent_kb_hit hits[4];

	ck_assert_int_eq(vagent_kb_new(&kb), VAGENT_OK);
	/* Three identical paragraphs: equal scores keep the text's order. */
	ck_assert_int_eq(vagent_kb_add_text(kb, "faq.txt",
					    "Gift wrapping is free.\n\n"
					    "Gift wrapping is free.\n\n"
					    "Gift wrapping is free.\n\n"
					    "Delivery is on weekdays.\n", NULL), VAGENT_OK);
	ck_assert_int_eq(vagent_kb_chunks(kb), 4);
	ck_assert_int_eq(vagent_kb_search(kb, "gift wrapping", hits, 4), 3);
	ck_assert_str_eq(hits[0].source, "faq.txt#p1");
	ck_assert_str_eq(hits[1].source, "faq.txt#p2");
	ck_assert_str_eq(hits[2].source, "faq.txt#p3");
	ck_assert(hits[0].score == hits[1].score && hits[1].score == hits[2].score);
	ck_assert_str_eq(hits[0].heading, "");
	ck_assert_str_eq(hits[0].answer, "Gift wrapping is free.");
	vagent_kb_free(kb);
}
END_TEST

START_TEST(test_markdown_chunking)
{
	struct vagent_kb *kb = NULL;
	struct vagent_kb_hit hits[8];
	struct vagent_error err;

	ck_assert_int_eq(vagent_kb_new(&kb), VAGENT_OK);
	ck_assert_int_eq(vagent_kb_add_text(kb, "kb/policies.md",
		"Intro text about the shop.\n"
		"\n"
		"Warranty\n"
		"========\n"
		"\n"
		"Every appliance has a **two year** warranty.\n"
		"\n"
		"## Claims ##\n"
		"\n"
		"Send a photo to the _claims team_; see [the form](http://x/y).\n"
		"\n"
		"```\n"
		"# not a heading inside code\n"
		"```\n"
		"\n"
		"## Claims\n"
		"\n"
		"A second section with the same title about vouchers.\n"
		"\n"
		"Exclusions\n"
		"----------\n"
		"\n"
		"| Item | Covered |\n"
		"|------|---------|\n"
		"| Glass | no |\n",
		&err), VAGENT_OK);
	ck_assert_int_eq(vagent_kb_chunks(kb), 5);
	ck_assert_int_eq(vagent_kb_search(kb, "intro shop", hits, 1), 1);
	ck_assert_str_eq(hits[0].source, "kb/policies.md");
	ck_assert_str_eq(hits[0].heading, "");
	ck_assert_int_eq(vagent_kb_search(kb, "warranty appliance", hits, 1), 1);
	ck_assert_str_eq(hits[0].source, "kb/policies.md#warranty");
	ck_assert_str_eq(hits[0].answer, "Every appliance has a two year warranty.");
	ck_assert_int_eq(vagent_kb_search(kb, "photo claims", hits, 1), 1);
	ck_assert_str_eq(hits[0].source, "kb/policies.md#claims");
	ck_assert_str_eq(hits[0].heading, "Warranty > Claims");
	ck_assert_str_eq(hits[0].answer, "Send a photo to the claims team; see the form.");
	/* The heading inside the code block stays text of its section (not
	 * of its answers: code is not spoken). */
	ck_assert_ptr_nonnull(strstr(hits[0].text, "# not a heading"));
	ck_assert_int_eq(vagent_kb_search(kb, "vouchers", hits, 1), 1);
	ck_assert_str_eq(hits[0].source, "kb/policies.md#claims-1");
	ck_assert_int_eq(vagent_kb_search(kb, "glass covered", hits, 1), 1);
	ck_assert_str_eq(hits[0].source, "kb/policies.md#exclusions");
	ck_assert_str_eq(hits[0].heading, "Warranty > Exclusions");
	ck_assert_ptr_null(strchr(hits[0].answer, '|'));
	vagent_kb_free(kb);
}
END_TEST

START_TEST(test_long_sentence_answer)
{
	struct vagent_kb *kb = NULL;
	struct vagent_kb_hit hit;
	char text[2000] = "# Long\n\nThe warranty covers";

	for (int i = 0; i < 60; i++)
		strcat(text, " parts and labour");
	strcat(text, ".\n");
	ck_assert_int_eq(vagent_kb_new(&kb), VAGENT_OK);
	ck_assert_int_eq(vagent_kb_add_text(kb, "long.md", text, NULL), VAGENT_OK);
	ck_assert_int_eq(vagent_kb_search(kb, "warranty", &hit, 1), 1);
	ck_assert_int_le(strlen(hit.answer), 300);
	ck_assert_int_ge(strlen(hit.answer), 250);
	ck_assert(!strcmp(hit.answer + strlen(hit.answer) - 3, "..."));
	vagent_kb_free(kb);
}
END_TEST

START_TEST(test_bad_files)
{
	struct vagent_kb *kb = NULL;
	struct vagent_error err;
	const char *bin;
	static const unsigned char png[] = { 0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n', 0, 0 };

	ck_assert_int_eq(vagent_kb_new(&kb), VAGENT_OK);
	ck_assert_int_eq(vagent_kb_add_file(kb, "/nonexistent/kb.md", &err), VAGENT_ENOENT);
	ck_assert_str_eq(err.message, "/nonexistent/kb.md: no such file");
	bin = temp_path("logo.md");
	write_file(bin, png, sizeof png);
	ck_assert_int_eq(vagent_kb_add_file(kb, bin, &err), VAGENT_EFORMAT);
	ck_assert_ptr_nonnull(strstr(err.message, "logo.md: not a text file"));
	ck_assert_ptr_null(strchr(err.message, '\n'));
	bin = temp_file("latin1.txt", "caf\xe9 hours\n");
	ck_assert_int_eq(vagent_kb_add_file(kb, bin, &err), VAGENT_EFORMAT);
	ck_assert_ptr_nonnull(strstr(err.message, "latin1.txt: not a text file"));
	ck_assert_int_eq(vagent_kb_add_file(kb, temp_dir, &err), VAGENT_EINVAL);
	ck_assert_ptr_nonnull(strstr(err.message, temp_dir));
	ck_assert_int_eq(vagent_kb_add_text(kb, "x.md", "a\x01 b", &err), VAGENT_EFORMAT);
	ck_assert_str_eq(err.message, "x.md: not a text file (byte 0x01 at offset 1)");
	ck_assert_int_eq(vagent_kb_add_text(kb, NULL, "text", &err), VAGENT_EINVAL);
	ck_assert_int_eq(vagent_kb_add_file(kb, NULL, &err), VAGENT_EINVAL);
	ck_assert_int_eq(vagent_kb_chunks(kb), 0);
	/* Good UTF-8 (and a byte order mark) is fine. */
	ck_assert_int_eq(vagent_kb_add_file(kb, temp_file("u.txt", "\xef\xbb\xbf" "Caf\xc3\xa9 hours: 9 to 5.\n"),
					    &err), VAGENT_OK);
	ck_assert_int_eq(vagent_kb_chunks(kb), 1);
	vagent_kb_free(kb);
}
END_TEST

START_TEST(test_plain_text_file)
{
	struct vagent_kb *kb = NULL;
	struct vagent_kb_hit hit;
	struct vagent_error err;
	const char *path = temp_file("faq.txt",
		"Opening hours are nine to five\non weekdays.\n"
		"\n\n"
		"Parking is free behind the store. Bring your ticket to the desk.\n");

	ck_assert_int_eq(vagent_kb_new(&kb), VAGENT_OK);
	ck_assert_int_eq(vagent_kb_add_file(kb, path, &err), VAGENT_OK);
	ck_assert_int_eq(vagent_kb_chunks(kb), 2);
	ck_assert_int_eq(vagent_kb_search(kb, "where can i park", &hit, 1), 1);
	ck_assert_ptr_nonnull(strstr(hit.source, "faq.txt#p2"));
	ck_assert_str_eq(hit.answer, "Parking is free behind the store. Bring your ticket to the desk.");
	ck_assert_int_eq(vagent_kb_search(kb, "opening hours", &hit, 1), 1);
	ck_assert_str_eq(hit.answer, "Opening hours are nine to five on weekdays.");
	vagent_kb_free(kb);
}
END_TEST

START_TEST(test_many_chunks)
{
	struct vagent_kb *kb = NULL;
	struct vagent_kb_hit hits[5];
	char text[256], source[64];

	ck_assert_int_eq(vagent_kb_new(&kb), VAGENT_OK);
	for (int i = 0; i < 3000; i++) {
		snprintf(source, sizeof source, "gen/%d.txt", i);
		snprintf(text, sizeof text,
			 "Product number %d is a kettle model k%d in colour c%d, "
			 "sold in aisle a%d.\n", i, i, i % 37, i % 11);
		ck_assert_int_eq(vagent_kb_add_text(kb, source, text, NULL), VAGENT_OK);
	}
	ck_assert_int_eq(vagent_kb_chunks(kb), 3000);
	ck_assert_int_eq(vagent_kb_search(kb, "kettle model k1234", hits, 5), 5);
	ck_assert_str_eq(hits[0].source, "gen/1234.txt#p1");
	ck_assert(hits[0].score > hits[1].score);
	/* Answers belong to the last search only; a new search replaces them. */
	ck_assert_int_eq(vagent_kb_search(kb, "k2999", hits, 5), 1);
	ck_assert_str_eq(hits[0].source, "gen/2999.txt#p1");
	vagent_kb_free(kb);
}
END_TEST

START_TEST(test_many_headings)
{
	struct vagent_kb *kb = NULL;
	struct vagent_kb_hit hit;
	size_t n = 20000, cap = n * 40, len = 0;
	char *md = malloc(cap);

	/* One title repeated: slugs "faq", "faq-1", ... "faq-19999". */
	ck_assert_ptr_nonnull(md);
	for (size_t i = 0; i < n; i++)
		len += (size_t)snprintf(md + len, cap - len, "## FAQ\n\nAnswer w%zu.\n\n", i);
	ck_assert_int_eq(vagent_kb_new(&kb), VAGENT_OK);
	ck_assert_int_eq(vagent_kb_add_text(kb, "big.md", md, NULL), VAGENT_OK);
	ck_assert_int_eq(vagent_kb_chunks(kb), n);
	ck_assert_int_eq(vagent_kb_search(kb, "w0", &hit, 1), 1);
	ck_assert_str_eq(hit.source, "big.md#faq");
	ck_assert_int_eq(vagent_kb_search(kb, "w19999", &hit, 1), 1);
	ck_assert_str_eq(hit.source, "big.md#faq-19999");
	ck_assert_str_eq(hit.answer, "Answer w19999.");
	vagent_kb_free(kb);
	free(md);
}
END_TEST

Suite *suite_kb(void)
{
	Suite *s = suite_create("kb");
	TCase *tc = tcase_create("kb");

	tcase_add_checked_fixture(tc, temp_dir_setup, temp_dir_teardown);
	tcase_add_test(tc, test_chunks);
	tcase_add_test(tc, test_retrieval);
	tcase_add_test(tc, test_answers);
	tcase_add_test(tc, test_empty_and_unknown_queries);
	tcase_add_test(tc, test_ties);
	tcase_add_test(tc, test_markdown_chunking);
	tcase_add_test(tc, test_long_sentence_answer);
	tcase_add_test(tc, test_bad_files);
	tcase_add_test(tc, test_plain_text_file);
	tcase_add_test(tc, test_many_chunks);
	tcase_add_test(tc, test_many_headings);
	suite_add_tcase(s, tc);
	return s;
}
