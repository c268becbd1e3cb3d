/*
 * check_nlu.c — slot extractors (digits, numbers, order numbers, amounts,
 * dates, yes/no, choices, text) on realistic recogniser output, fuzzy intent
 * matching on noisy customer-service queries, and phrase spotting.
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "vagent.h"
#include "support/harness.h"

/* 2026-12-03 is a Thursday. */
#define REF "2026-12-03"

/* What *out holds before a call, to see that a failed call clears it. */
static char unset[] = "unset";

struct slot_case {
	const char *text;
	const char *want;     /* NULL: ENOENT */
};

static void check_slot(const struct vagent_slot_spec *spec, const char *text,
		       const char *want)
{
	char *out = unset;
	vagent_status st = vagent_slot_extract(spec, text, &out);

	if (!want) {
		ck_assert_msg(st == VAGENT_ENOENT && !out,
			      "%s(\"%s\") = %s \"%s\", want ENOENT",
			      vagent_slot_type_name(spec->type), text,
			      vagent_status_name(st), out ? out : "(null)");
		return;
	}
	ck_assert_msg(st == VAGENT_OK && out && !strcmp(out, want),
		      "%s(\"%s\") = %s \"%s\", want \"%s\"",
		      vagent_slot_type_name(spec->type), text, vagent_status_name(st),
		      out ? out : "(null)", want);
	free(out);
}

static void check_cases(vagent_slot_type type, const struct slot_case *c, size_t n)
{
	struct vagent_slot_spec spec = { .type = type, .reference_date = REF };

	for (size_t i = 0; i < n; i++)
		check_slot(&spec, c[i].text, c[i].want);
}

#define CHECK_CASES(type, cases) check_cases(type, cases, sizeof cases / sizeof cases[0])

START_TEST(test_slot_names)
{
	static const char *const names[] = {
		"digits", "number", "order_number", "amount", "date", "yes_no",
		"choice", "text", "card",
	};

	for (int i = 0; i < 9; i++) {
		ck_assert_str_eq(vagent_slot_type_name((vagent_slot_type)i), names[i]);
		ck_assert_int_eq(vagent_slot_type_from_name(names[i]), i);
	}
	ck_assert_ptr_null(vagent_slot_type_name((vagent_slot_type)9));
	ck_assert_ptr_null(vagent_slot_type_name((vagent_slot_type)-1));
	ck_assert_int_eq(vagent_slot_type_from_name("Digits"), -1);
	ck_assert_int_eq(vagent_slot_type_from_name(""), -1);
	ck_assert_int_eq(vagent_slot_type_from_name(NULL), -1);
}
END_TEST

START_TEST(test_bad_spec)
{
	struct vagent_slot_spec spec = { .type = VAGENT_SLOT_DIGITS };
	char *out = unset;

	ck_assert_int_eq(vagent_slot_extract(NULL, "one", &out), VAGENT_EINVAL);
	ck_assert_ptr_null(out);
	ck_assert_int_eq(vagent_slot_extract(&spec, NULL, &out), VAGENT_EINVAL);
	ck_assert_int_eq(vagent_slot_extract(&spec, "one", NULL), VAGENT_EINVAL);
	spec.type = (vagent_slot_type)42;
	ck_assert_int_eq(vagent_slot_extract(&spec, "one", &out), VAGENT_EINVAL);
	spec.type = VAGENT_SLOT_DIGITS;
	spec.min_len = 6;
	spec.max_len = 4;
	ck_assert_int_eq(vagent_slot_extract(&spec, "one", &out), VAGENT_EINVAL);
	spec.min_len = -1;
	spec.max_len = 0;
	ck_assert_int_eq(vagent_slot_extract(&spec, "one", &out), VAGENT_EINVAL);
	spec.min_len = 0;
	spec.type = VAGENT_SLOT_CHOICE;
	ck_assert_int_eq(vagent_slot_extract(&spec, "one", &out), VAGENT_EINVAL);
	static const char *const none[] = { NULL };
	spec.choices = none;
	ck_assert_int_eq(vagent_slot_extract(&spec, "one", &out), VAGENT_EINVAL);
	spec.type = VAGENT_SLOT_DATE;
	spec.reference_date = "2026-13-01";
	ck_assert_int_eq(vagent_slot_extract(&spec, "today", &out), VAGENT_EINVAL);
	spec.reference_date = "2026-02-29";
	ck_assert_int_eq(vagent_slot_extract(&spec, "today", &out), VAGENT_EINVAL);
	spec.reference_date = "tomorrow";
	ck_assert_int_eq(vagent_slot_extract(&spec, "today", &out), VAGENT_EINVAL);
	ck_assert_ptr_null(out);
}
END_TEST

START_TEST(test_digits)
{
	static const struct slot_case cases[] = {
		{ "four five six", "456" },
		{ "four fifty six", "456" },
		{ "four hundred fifty six", "456" },
		{ "four hundred and fifty six", "456" },
		{ "double seven", "77" },
		{ "double seven three", "773" },
		{ "five double oh nine", "5009" },
		{ "triple oh", "000" },
		{ "triple five one", "5551" },
		{ "oh one two", "012" },
		{ "o one two", "012" },
		{ "zero zero seven", "007" },
		{ "nought one", "01" },
		{ "12 34", "1234" },
		{ "1 2 3 4", "1234" },
		{ "4567", "4567" },
		{ "555-1234", "5551234" },
		{ "one two um three four", "1234" },
		{ "one two uh uh three four", "1234" },
		{ "one two three dash four five", "12345" },
		{ "it's four five six", "456" },
		{ "um my pin is one nine eight four", "1984" },
		{ "nineteen eighty four", "1984" },
		{ "twenty twenty six", "2026" },
		{ "one oh one", "101" },
		{ "a hundred", "100" },
		{ "ten", "10" },
		{ "seven thirteen", "713" },
		/* A recogniser's homophones count only between two digits. */
		{ "four to six", "426" },
		{ "one for five", "145" },
		{ "nine ate seven", "987" },
		{ "i want to pay", NULL },
		{ "for one two", "12" },
		/* The longest run wins without length bounds. */
		{ "one two and then three four five", "345" },
		{ "oh", NULL },
		{ "o", NULL },
		{ "hello there", NULL },
		{ "", NULL },
		{ "FOUR FIVE SIX", "456" },
		{ "Four, five, six.", "456" },
	};

	CHECK_CASES(VAGENT_SLOT_DIGITS, cases);
}
END_TEST

START_TEST(test_digits_bounds)
{
	struct vagent_slot_spec spec = { .type = VAGENT_SLOT_DIGITS, .min_len = 4, .max_len = 4 };

	check_slot(&spec, "my pin is one two three four", "1234");
	check_slot(&spec, "one two three", NULL);
	check_slot(&spec, "one two three four five", NULL);
	/* A run cut by a stray word is joined when the pieces fit together. */
	check_slot(&spec, "one two the three four", "1234");
	/* The run that fits wins over a longer one. */
	check_slot(&spec, "call five five five one two one two ext one two three four", "1234");
	spec.min_len = 3;
	spec.max_len = 0;
	check_slot(&spec, "one two", NULL);
	check_slot(&spec, "one two three four five six", "123456");
}
END_TEST

START_TEST(test_number)
{
	static const struct slot_case cases[] = {
		{ "one hundred and five", "105" },
		{ "one hundred five", "105" },
		{ "a hundred", "100" },
		{ "a thousand", "1000" },
		{ "twenty-one", "21" },
		{ "twenty one", "21" },
		{ "2,500", "2500" },
		{ "2500", "2500" },
		{ "two thousand five hundred", "2500" },
		{ "twenty five hundred", "2500" },
		{ "three million two hundred thousand", "3200000" },
		{ "one million", "1000000" },
		{ "seven hundred thousand and twelve", "700012" },
		{ "two point five", "2.5" },
		{ "2.5", "2.5" },
		{ "zero", "0" },
		{ "about forty two i think", "42" },
		{ "i'd like three please", "3" },
		{ "nineteen", "19" },
		{ "eleven", "11" },
		/* Digits said one at a time are read as one number. */
		{ "one two three", "123" },
		{ "four fifty", "450" },
		{ "none", NULL },
		{ "a few", NULL },
		{ "", NULL },
	};

	CHECK_CASES(VAGENT_SLOT_NUMBER, cases);
}
END_TEST

START_TEST(test_order_number)
{
	struct vagent_slot_spec spec = { .type = VAGENT_SLOT_ORDER_NUMBER, .min_len = 5, .max_len = 5 };

	check_slot(&spec, "my order number is one two three four five", "12345");
	check_slot(&spec, "order number one two three four five", "12345");
	check_slot(&spec, "it's 12345", "12345");
	check_slot(&spec, "12 345", "12345");
	check_slot(&spec, "one two three four five please", "12345");
	check_slot(&spec, "uh it's four seven double two nine", "47229");
	check_slot(&spec, "forty seven two twenty nine", "472" "29");
	check_slot(&spec, "one two three um four five", "12345");
	check_slot(&spec, "one two three the four five", "12345");
	check_slot(&spec, "i ordered two things on the fifth", NULL);
	/* "four" heard as "for", "eight" as "ate" at the ends of the number:
	 * taken when nothing else fits. */
	check_slot(&spec, "it's for five six seven eight", "45678");
	check_slot(&spec, "one two three four ate", "12348");
	check_slot(&spec, "i'm calling for one two three four five", "12345");
	check_slot(&spec, "calling for one two three", NULL);
	/* pocketsphinx on "It's 12345" and "...for order 12345": "one two"
	 * heard as "want to". */
	check_slot(&spec, "it's want to three four five", "12345");
	check_slot(&spec, "i'd like to get my money back for order want to three four five",
		   "12345");
	check_slot(&spec, "i want to check my order", NULL);
	check_slot(&spec, "one two three four", NULL);
	check_slot(&spec, "one two three four five six", NULL);
	check_slot(&spec, "i don't have it", NULL);
	/* Two numbers: the one that fits. */
	check_slot(&spec, "i ordered 2 items order number 55123", "55123");
	/* No bounds: at least three digits. */
	spec.min_len = spec.max_len = 0;
	check_slot(&spec, "order 42", NULL);
	check_slot(&spec, "order 4217", "4217");
}
END_TEST

START_TEST(test_amount)
{
	static const struct slot_case cases[] = {
		{ "forty nine dollars and fifty cents", "49.50" },
		{ "forty nine dollars fifty", "49.50" },
		{ "forty nine fifty", "49.50" },
		{ "$49.50", "49.50" },
		{ "$49.5", "49.50" },
		{ "49.50", "49.50" },
		{ "$5", "5.00" },
		{ "fifty bucks", "50.00" },
		{ "eighty dollars", "80.00" },
		{ "a hundred dollars", "100.00" },
		{ "a hundred and twenty dollars", "120.00" },
		{ "one hundred twenty dollars", "120.00" },
		{ "twelve hundred dollars", "1200.00" },
		{ "1,200 dollars", "1200.00" },
		{ "2,500", "2500.00" },
		{ "fifty cents", "0.50" },
		{ "ninety nine cents", "0.99" },
		{ "two ninety nine", "2.99" },
		{ "nineteen ninety five", "19.95" },
		{ "ninety nine point nine nine", "99.99" },
		{ "twenty dollars and five cents", "20.05" },
		{ "two oh five", "2.05" },
		{ "it was three hundred dollars", "300.00" },
		/* A number with a currency word beats one without. */
		{ "i bought 2 things for forty dollars", "40.00" },
		{ "sixty", "60.00" },
		/* Digits said one by one are an order number, not money. */
		{ "refund order one two three four five", NULL },
		{ "order one two three four five refund of forty dollars", "40.00" },
		{ "order one two three four five refund twenty", "20.00" },
		{ "one two three dollars", "123.00" },
		{ "no idea", NULL },
		{ "", NULL },
	};

	CHECK_CASES(VAGENT_SLOT_AMOUNT, cases);
}
END_TEST

START_TEST(test_date)
{
	static const struct slot_case cases[] = {
		{ "today", "2026-12-03" },
		{ "tonight", "2026-12-03" },
		{ "tomorrow", "2026-12-04" },
		{ "tomorrow please", "2026-12-04" },
		{ "to morrow", "2026-12-04" },
		{ "the day after tomorrow", "2026-12-05" },
		{ "day after tomorrow", "2026-12-05" },
		{ "yesterday", "2026-12-02" },
		{ "friday", "2026-12-04" },
		{ "on friday", "2026-12-04" },
		{ "this friday", "2026-12-04" },
		{ "monday", "2026-12-07" },
		{ "sunday", "2026-12-06" },
		/* The same weekday as today: a week ahead. */
		{ "thursday", "2026-12-10" },
		/* "next": in next week (weeks start on Monday). */
		{ "next friday", "2026-12-11" },
		{ "next monday", "2026-12-07" },
		{ "next sunday", "2026-12-13" },
		{ "friday after next", "2026-12-11" },
		{ "next week", "2026-12-10" },
		{ "in three days", "2026-12-06" },
		{ "in a week", "2026-12-10" },
		{ "in two weeks", "2026-12-17" },
		{ "march third", "2027-03-03" },
		{ "march 3rd", "2027-03-03" },
		{ "march 3", "2027-03-03" },
		{ "march the third", "2027-03-03" },
		{ "the third of march", "2027-03-03" },
		{ "on the 3rd of march", "2027-03-03" },
		{ "march third 2028", "2028-03-03" },
		{ "5th december", "2026-12-05" },
		{ "5 december", "2026-12-05" },
		{ "the twenty fifth december", "2026-12-25" },
		{ "on the 1st of january 2027", "2027-01-01" },
		{ "march third twenty twenty eight", "2028-03-03" },
		{ "december twenty fifth", "2026-12-25" },
		{ "december twenty-fifth", "2026-12-25" },
		{ "the twenty first of december", "2026-12-21" },
		{ "december third", "2026-12-03" },
		{ "december second", "2027-12-02" },
		{ "feb twenty ninth", "2028-02-29" },
		{ "the fifth", "2026-12-05" },
		{ "on the 21st", "2026-12-21" },
		{ "the second", "2027-01-02" },
		{ "the thirty first", "2026-12-31" },
		{ "the eight", "2026-12-08" },
		{ "on the forth", "2026-12-04" },
		{ "december the eight", "2026-12-08" },
		{ "i have two kids", NULL },
		{ "3/14", "2027-03-14" },
		{ "12/25", "2026-12-25" },
		{ "12/25/2027", "2027-12-25" },
		{ "1/2/27", "2027-01-02" },
		{ "2026-12-05", "2026-12-05" },
		{ "deliver it on 2027-01-15 please", "2027-01-15" },
		{ "february thirtieth", NULL },
		{ "2026-02-30", NULL },
		{ "13/45", NULL },
		{ "may i change it", NULL },
		{ "whenever", NULL },
		{ "", NULL },
	};

	CHECK_CASES(VAGENT_SLOT_DATE, cases);
}
END_TEST

START_TEST(test_date_reference)
{
	struct vagent_slot_spec spec = { .type = VAGENT_SLOT_DATE, .reference_date = "2028-02-28" };
	char *out = NULL;

	check_slot(&spec, "tomorrow", "2028-02-29");
	check_slot(&spec, "day after tomorrow", "2028-03-01");
	spec.reference_date = "2026-12-31";
	check_slot(&spec, "tomorrow", "2027-01-01");
	check_slot(&spec, "the first", "2027-01-01");
	/* A Sunday: "next monday" is tomorrow's week. */
	spec.reference_date = "2026-12-06";
	check_slot(&spec, "next monday", "2026-12-07");
	check_slot(&spec, "monday", "2026-12-07");
	/* NULL: today's date, whatever it is. */
	spec.reference_date = NULL;
	ck_assert_int_eq(vagent_slot_extract(&spec, "today", &out), VAGENT_OK);
	ck_assert_int_eq(strlen(out), 10);
	ck_assert_int_eq(out[4], '-');
	free(out);
}
END_TEST

START_TEST(test_yes_no)
{
	static const struct slot_case cases[] = {
		{ "yes", "yes" }, { "yeah", "yes" }, { "yep", "yes" }, { "yup", "yes" },
		{ "yea", "yes" }, { "ya", "yes" }, { "sure", "yes" },
		{ "correct", "yes" }, { "that's right", "yes" }, { "thats right", "yes" },
		{ "that is correct", "yes" }, { "go ahead", "yes" },
		{ "please do", "yes" }, { "yes please", "yes" }, { "uh huh", "yes" },
		{ "okay", "yes" }, { "ok", "yes" }, { "absolutely", "yes" },
		{ "yeah go ahead and do it", "yes" }, { "sure no problem", "yes" },
		{ "of course", "yes" }, { "sounds good", "yes" },
		{ "yes that's my order", "yes" }, { "um yeah", "yes" },
		{ "Yes.", "yes" }, { "YEAH SURE", "yes" },
		{ "i don't mind", "yes" },
		/* Recognition errors. */
		{ "yess", "yes" }, { "that's write", "yes" }, { "o k", "yes" },
		{ "go a head", "yes" }, { "shore", "yes" }, { "uh-huh", "yes" },
		{ "no", "no" }, { "nope", "no" }, { "nah", "no" },
		{ "don't", "no" }, { "dont", "no" }, { "please don't", "no" },
		{ "no thanks", "no" }, { "no thank you", "no" },
		{ "not really", "no" }, { "cancel", "no" }, { "cancel it", "no" },
		{ "that's not right", "no" }, { "that's not correct", "no" },
		{ "that is wrong", "no" }, { "i don't think so", "no" },
		{ "absolutely not", "no" }, { "no don't do that", "no" },
		{ "i do not want that", "no" }, { "never mind", "no" },
		{ "not okay", "no" }, { "know", "no" }, { "no no no", "no" },
		/* Both, or neither, or unsure: no answer. */
		{ "yes no", NULL }, { "yeah no", NULL }, { "i'm not sure", NULL },
		{ "maybe", NULL }, { "hello", NULL }, { "what was the question", NULL },
		{ "", NULL }, { "i don't know", NULL },
	};

	CHECK_CASES(VAGENT_SLOT_YES_NO, cases);
}
END_TEST

START_TEST(test_choice)
{
	static const char *const choices[] = {
		"credit card", "gift card", "paypal", "store credit", NULL,
	};
	struct vagent_slot_spec spec = { .type = VAGENT_SLOT_CHOICE, .choices = choices };

	check_slot(&spec, "credit card please", "credit card");
	check_slot(&spec, "the gift card", "gift card");
	check_slot(&spec, "put it on my gift card", "gift card");
	check_slot(&spec, "pay pal", "paypal");
	check_slot(&spec, "paypal", "paypal");
	check_slot(&spec, "PayPal.", "paypal");
	check_slot(&spec, "i'll use store credit", "store credit");
	check_slot(&spec, "store credits", "store credit");
	check_slot(&spec, "credit cart", "credit card");
	check_slot(&spec, "the second one", "gift card");
	check_slot(&spec, "number three", "paypal");
	check_slot(&spec, "the last one", "store credit");
	check_slot(&spec, "option one", "credit card");
	/* "card" alone fits two choices equally. */
	check_slot(&spec, "card", NULL);
	check_slot(&spec, "pizza", NULL);
	check_slot(&spec, "the fifth one", NULL);
	check_slot(&spec, "", NULL);

	static const char *const sizes[] = { "small", "medium", "large", NULL };
	spec.choices = sizes;
	check_slot(&spec, "a medium please", "medium");
	check_slot(&spec, "large", "large");
	check_slot(&spec, "lodge", NULL);
	check_slot(&spec, "the large one", "large");
	check_slot(&spec, "a mediun", "medium");
}
END_TEST

START_TEST(test_text)
{
	static const struct slot_case cases[] = {
		{ "  my address is 12 main street  ", "my address is 12 main street" },
		{ "hello", "hello" },
		{ "\t\n", NULL },
		{ "", NULL },
	};

	CHECK_CASES(VAGENT_SLOT_TEXT, cases);
}
END_TEST

/* The text of a "| `cell` |" table cell starting at `p` (at the '|'). */
static bool doc_cell(const char *p, char *out, size_t cap)
{
	const char *a = strstr(p, "`"), *b;

	if (!a)
		return false;
	b = strchr(a + 1, '`');
	if (!b || (size_t)(b - a - 1) >= cap)
		return false;
	memcpy(out, a + 1, (size_t)(b - a - 1));
	out[b - a - 1] = '\0';
	return true;
}

/* Every example table in docs/nlu.md ("#### `type`" then "| `said` |
 * `value` |" rows; `—` for ENOENT). */
START_TEST(test_docs_examples)
{
	static const char *const choices[] = {
		"credit card", "gift card", "paypal", "store credit", NULL,
	};
	char *doc = read_file(top_path("docs/nlu.md"), NULL), *line, *save = NULL;
	struct vagent_slot_spec spec = { .type = VAGENT_SLOT_TEXT };
	int rows[8] = {0};
	bool in_table = false;

	ck_assert_msg(doc != NULL, "docs/nlu.md missing");
	for (line = strtok_r(doc, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		char said[256], want[64], name[32];
		const char *mid;
		int t;

		if (!strncmp(line, "#### `", 6)) {
			ck_assert(sscanf(line + 6, "%31[a-z_]", name) == 1);
			t = vagent_slot_type_from_name(name);
			ck_assert_msg(t >= 0, "docs/nlu.md: unknown slot type %s", name);
			memset(&spec, 0, sizeof spec);
			spec.type = (vagent_slot_type)t;
			spec.reference_date = REF;
			spec.choices = choices;
			if (t == VAGENT_SLOT_ORDER_NUMBER)
				spec.min_len = spec.max_len = 5;
			in_table = true;
			continue;
		}
		if (line[0] == '#')
			in_table = false;
		if (!in_table || strncmp(line, "| `", 3))
			continue;
		mid = strstr(line + 3, "` | ");
		ck_assert_msg(mid && doc_cell(line, said, sizeof said) &&
			      doc_cell(mid + 2, want, sizeof want), "bad example row: %s", line);
		check_slot(&spec, said, strcmp(want, "\xe2\x80\x94") ? want : NULL);
		rows[spec.type]++;
	}
	free(doc);
	for (int t = 0; t < 7; t++)
		ck_assert_msg(rows[t] >= 4, "docs/nlu.md: %d examples for %s", rows[t],
			      vagent_slot_type_name((vagent_slot_type)t));
}
END_TEST

START_TEST(test_slot_robustness)
{
	/* Junk never crashes any extractor. */
	static const char *const junk[] = {
		"$", "$$$", "..", "/", "-", "3/", "/14", "2026--12", "1,2,3", ",500",
		"\xff\xfe", "double", "triple", "and", "a", "point", "zero point",
		"one hundred and", "thousand", "a a a hundred", "dollars", "$ dollars",
		"the the the", "99999999999999999999999", "999999999999999 dollars",
		"twenty thirty forty fifty", "march", "the", "next", "in a", "in",
		"double double seven", "oh oh oh oh oh oh oh oh oh oh oh oh oh oh oh oh oh oh oh oh oh oh oh oh oh oh oh oh oh oh oh oh oh oh oh oh oh oh oh oh oh oh oh oh oh oh oh oh oh oh oh oh oh oh oh oh oh oh oh oh oh oh oh oh oh oh oh",
	};
	static const char *const choices[] = { "a", "b", NULL };

	for (size_t i = 0; i < sizeof junk / sizeof junk[0]; i++)
		for (int t = 0; t < 8; t++) {
			struct vagent_slot_spec spec = {
				.type = (vagent_slot_type)t, .choices = choices,
				.reference_date = REF,
			};
			char *out = NULL;
			vagent_status st = vagent_slot_extract(&spec, junk[i], &out);

			ck_assert_msg(st == VAGENT_OK || st == VAGENT_ENOENT,
				      "%s(\"%s\"): %s", vagent_slot_type_name(spec.type),
				      junk[i], vagent_status_name(st));
			ck_assert((st == VAGENT_OK) == (out != NULL));
			free(out);
		}
}
END_TEST

/* ---- intent matching */

enum { ORDER_STATUS, REFUND, STORE_HOURS, RETURN_POLICY, RESCHEDULE, HUMAN, GOODBYE };

static struct vagent_intent_matcher *store_matcher(void)
{
	static const char *const order_ex[] = {
		"where is my order", "what's the status of my order",
		"has my package shipped yet", "i want to track my order",
		"when will my order arrive", "i haven't received my package", NULL,
	};
	static const char *const order_kw[] = { "order status", "tracking", "track", NULL };
	static const char *const refund_ex[] = {
		"i want a refund", "can i get my money back", "please refund my order",
		"i was charged twice", "i'd like a refund for a damaged item", NULL,
	};
	static const char *const refund_kw[] = { "refund", "money back", "charged", NULL };
	static const char *const hours_ex[] = {
		"what are your hours", "when are you open", "what time do you close today",
		"are you open on sunday", NULL,
	};
	static const char *const hours_kw[] = { "hours", "open", NULL };
	static const char *const return_ex[] = {
		"what is your return policy", "can i return an item",
		"how do i send something back", "how many days do i have to return it", NULL,
	};
	static const char *const return_kw[] = { "return policy", "send back", "exchange", NULL };
	static const char *const resched_ex[] = {
		"i need to reschedule my delivery", "can you deliver on a different day",
		"change my delivery date", "i won't be home for the delivery", NULL,
	};
	static const char *const resched_kw[] = { "reschedule", "delivery date", "different day", NULL };
	static const char *const human_ex[] = {
		"i want to talk to a human", "let me speak to a representative",
		"get me a real person", "transfer me to an agent", "operator", NULL,
	};
	static const char *const human_kw[] = {
		"human", "representative", "agent", "real person", "operator", NULL,
	};
	static const char *const bye_ex[] = {
		"that's all thanks", "goodbye", "bye", "no that's everything",
		"have a nice day", NULL,
	};
	static const char *const bye_kw[] = { "bye", "goodbye", NULL };
	struct vagent_intent_matcher *m = NULL;

	ck_assert_int_eq(vagent_intent_matcher_new(&m), VAGENT_OK);
	ck_assert_int_eq(vagent_intent_matcher_add(m, ORDER_STATUS, order_ex, order_kw), VAGENT_OK);
	ck_assert_int_eq(vagent_intent_matcher_add(m, REFUND, refund_ex, refund_kw), VAGENT_OK);
	ck_assert_int_eq(vagent_intent_matcher_add(m, STORE_HOURS, hours_ex, hours_kw), VAGENT_OK);
	ck_assert_int_eq(vagent_intent_matcher_add(m, RETURN_POLICY, return_ex, return_kw), VAGENT_OK);
	ck_assert_int_eq(vagent_intent_matcher_add(m, RESCHEDULE, resched_ex, resched_kw), VAGENT_OK);
	ck_assert_int_eq(vagent_intent_matcher_add(m, HUMAN, human_ex, human_kw), VAGENT_OK);
	ck_assert_int_eq(vagent_intent_matcher_add(m, GOODBYE, bye_ex, bye_kw), VAGENT_OK);
	return m;
}

struct intent_case {
	const char *text;
	int want;
	double min_score;
};

START_TEST(test_intent_clean)
{
	struct vagent_intent_matcher *m = store_matcher();
	static const struct intent_case cases[] = {
		{ "where is my order", ORDER_STATUS, 0.99 },
		{ "Where is my order?", ORDER_STATUS, 0.99 },
		{ "i want a refund", REFUND, 0.99 },
		{ "what are your hours", STORE_HOURS, 0.99 },
		{ "what is your return policy", RETURN_POLICY, 0.99 },
		{ "i need to reschedule my delivery", RESCHEDULE, 0.99 },
		{ "i want to talk to a human", HUMAN, 0.99 },
		{ "goodbye", GOODBYE, 0.99 },
		/* Word forms: stems. */
		{ "where are my orders", ORDER_STATUS, 0.9 },
		{ "i want refunds", REFUND, 0.9 },
		{ "rescheduling my deliveries", RESCHEDULE, 0.7 },
		/* Padding around what is meant. */
		{ "hi um yes so i was wondering where is my order", ORDER_STATUS, 0.6 },
		{ "can you tell me the status of my order please", ORDER_STATUS, 0.6 },
		{ "the blender arrived broken and i want a refund", REFUND, 0.6 },
	};
	double score;

	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		int got = vagent_intent_match(m, cases[i].text, &score);

		ck_assert_msg(got == cases[i].want && score >= cases[i].min_score && score <= 1.0,
			      "\"%s\": intent %d score %.3f, want %d >= %.2f", cases[i].text,
			      got, score, cases[i].want, cases[i].min_score);
	}
	vagent_intent_matcher_free(m);
}
END_TEST

START_TEST(test_intent_asr_errors)
{
	struct vagent_intent_matcher *m = store_matcher();
	static const struct intent_case cases[] = {
		{ "where's my packet", ORDER_STATUS, 0.5 },
		{ "wear is my order", ORDER_STATUS, 0.6 },
		{ "where is my or der", ORDER_STATUS, 0.6 },
		{ "i want a re fund", REFUND, 0.8 },
		{ "i won a refund", REFUND, 0.6 },
		{ "i need a refunds", REFUND, 0.6 },
		{ "what are your ours", STORE_HOURS, 0.6 },
		{ "what's you're return policy", RETURN_POLICY, 0.8 },
		{ "what is the return pal icy", RETURN_POLICY, 0.5 },
		{ "i need to re schedule my delivery", RESCHEDULE, 0.8 },
		{ "i wont be home for the delivery", RESCHEDULE, 0.8 },
		{ "i want a rep presentative", HUMAN, 0.6 },
		{ "good bye", GOODBYE, 0.8 },
		{ "okay thanks bye", GOODBYE, 0.5 },
	};
	double score;

	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		int got = vagent_intent_match(m, cases[i].text, &score);

		ck_assert_msg(got == cases[i].want && score >= cases[i].min_score,
			      "\"%s\": intent %d score %.3f, want %d >= %.2f", cases[i].text,
			      got, score, cases[i].want, cases[i].min_score);
	}
	vagent_intent_matcher_free(m);
}
END_TEST

START_TEST(test_intent_unrelated)
{
	struct vagent_intent_matcher *m = store_matcher();
	static const char *const unrelated[] = {
		"what's the weather like today", "i like turtles",
		"can you recommend a good movie", "how tall is the eiffel tower",
		"my cat is sleeping on the keyboard", "purple elephants dancing",
		"what is the capital of france", "tell me a joke",
	};
	double score;

	for (size_t i = 0; i < sizeof unrelated / sizeof unrelated[0]; i++) {
		int got = vagent_intent_match(m, unrelated[i], &score);

		ck_assert_msg(score < 0.5, "\"%s\": intent %d score %.3f, want < 0.5",
			      unrelated[i], got, score);
	}
	/* Nothing at all in common: no intent, score 0. */
	score = 1;
	ck_assert_int_eq(vagent_intent_match(m, "purple elephants", &score), -1);
	ck_assert(score == 0);
	ck_assert_int_eq(vagent_intent_match(m, "", &score), -1);
	ck_assert(score == 0);
	ck_assert_int_eq(vagent_intent_match(m, "um uh the", NULL), -1);
	ck_assert_int_eq(vagent_intent_match(m, "!!!", NULL), -1);
	ck_assert_int_eq(vagent_intent_match(m, NULL, &score), -1);
	vagent_intent_matcher_free(m);
}
END_TEST

START_TEST(test_intent_api)
{
	struct vagent_intent_matcher *m = NULL;
	static const char *const a[] = { "check my balance", NULL };
	static const char *const b[] = { "pay my bill", NULL };
	static const char *const b2[] = { "make a payment", NULL };
	static const char *const kw[] = { "loyalty points", NULL };
	double score = 1;

	ck_assert_int_eq(vagent_intent_matcher_new(NULL), VAGENT_EINVAL);
	ck_assert_int_eq(vagent_intent_matcher_new(&m), VAGENT_OK);
	/* Empty matcher: nothing matches. */
	ck_assert_int_eq(vagent_intent_match(m, "check my balance", &score), -1);
	ck_assert(score == 0);
	ck_assert_int_eq(vagent_intent_matcher_add(m, -1, a, NULL), VAGENT_EINVAL);
	ck_assert_int_eq(vagent_intent_matcher_add(NULL, 0, a, NULL), VAGENT_EINVAL);
	ck_assert_int_eq(vagent_intent_matcher_add(m, 7, a, NULL), VAGENT_OK);
	ck_assert_int_eq(vagent_intent_matcher_add(m, 3, b, NULL), VAGENT_OK);
	ck_assert_int_eq(vagent_intent_match(m, "make a payment", NULL), -1);
	/* Adding to an intent again extends it. */
	ck_assert_int_eq(vagent_intent_matcher_add(m, 3, b2, NULL), VAGENT_OK);
	ck_assert_int_eq(vagent_intent_match(m, "make a payment", &score), 3);
	ck_assert(score > 0.99);
	ck_assert_int_eq(vagent_intent_match(m, "check my balance", NULL), 7);
	/* Keywords only. */
	ck_assert_int_eq(vagent_intent_matcher_add(m, 9, NULL, kw), VAGENT_OK);
	ck_assert_int_eq(vagent_intent_matcher_add(m, 10, NULL, NULL), VAGENT_OK);
	ck_assert_int_eq(vagent_intent_match(m, "how many loyalty points do i have", &score), 9);
	ck_assert(score >= 0.45 && score <= 0.75);
	vagent_intent_matcher_free(m);
	vagent_intent_matcher_free(NULL);
}
END_TEST

START_TEST(test_intent_keywords)
{
	struct vagent_intent_matcher *m = NULL;
	static const char *const ex_a[] = { "i have a question about my account", NULL };
	static const char *const kw_a[] = { "account", NULL };
	static const char *const kw_b[] = { "cancel subscription", NULL };
	double score;

	ck_assert_int_eq(vagent_intent_matcher_new(&m), VAGENT_OK);
	ck_assert_int_eq(vagent_intent_matcher_add(m, 0, ex_a, kw_a), VAGENT_OK);
	ck_assert_int_eq(vagent_intent_matcher_add(m, 1, NULL, kw_b), VAGENT_OK);
	/* A keyword phrase alone decides, with a middling score. */
	ck_assert_int_eq(vagent_intent_match(m, "please cancel my subscription", &score), 1);
	ck_assert(score >= 0.45 && score < 0.9);
	/* Keywords add to example evidence. */
	double with_kw, without_kw;

	ck_assert_int_eq(vagent_intent_match(m, "something about my account", &with_kw), 0);
	vagent_intent_matcher_free(m);
	ck_assert_int_eq(vagent_intent_matcher_new(&m), VAGENT_OK);
	ck_assert_int_eq(vagent_intent_matcher_add(m, 0, ex_a, NULL), VAGENT_OK);
	ck_assert_int_eq(vagent_intent_matcher_add(m, 1, NULL, kw_b), VAGENT_OK);
	ck_assert_int_eq(vagent_intent_match(m, "something about my account", &without_kw), 0);
	ck_assert_msg(with_kw > without_kw, "%.3f <= %.3f", with_kw, without_kw);
	vagent_intent_matcher_free(m);
}
END_TEST

START_TEST(test_intent_scores)
{
	struct vagent_intent_matcher *m = store_matcher();
	struct vagent_intent_score sc[7];
	size_t n;
	double best;
	int id;

	/* Both a refund and a return: the two lead, close together. */
	n = vagent_intent_scores(m, "i want to return this and get a refund", sc, 7);
	ck_assert_int_ge(n, 2);
	ck_assert((sc[0].intent == REFUND && sc[1].intent == RETURN_POLICY) ||
		  (sc[0].intent == RETURN_POLICY && sc[1].intent == REFUND));
	for (size_t i = 1; i < n; i++)
		ck_assert(sc[i].score <= sc[i - 1].score && sc[i].score > 0);
	/* The first is what vagent_intent_match answers. */
	id = vagent_intent_match(m, "i want to return this and get a refund", &best);
	ck_assert_int_eq(id, sc[0].intent);
	ck_assert(best == sc[0].score);
	/* A clear query leaves a wide margin. */
	n = vagent_intent_scores(m, "where is my order", sc, 2);
	ck_assert_int_eq(n, 2);
	ck_assert_int_eq(sc[0].intent, ORDER_STATUS);
	ck_assert(sc[0].score - sc[1].score > 0.4);
	ck_assert_int_eq(vagent_intent_scores(m, "where is my order", sc, 0), 0);
	ck_assert_int_eq(vagent_intent_scores(m, "purple elephants", sc, 7), 0);
	ck_assert_int_eq(vagent_intent_scores(NULL, "where is my order", sc, 7), 0);
	vagent_intent_matcher_free(m);
}
END_TEST

/* The example store agent's intents (scenarios/agents/store.json), as its
 * flow brain builds them; names[i] is intent i's name. */
static struct vagent_intent_matcher *agent_matcher(struct vagent_agent **agent)
{
	struct vagent_intent_matcher *m = NULL;
	struct vagent_error err = { 0 };

	ck_assert_msg(vagent_agent_load(top_path("scenarios/agents/store.json"), agent,
					&err) == VAGENT_OK, "%s", err.message);
	ck_assert_int_eq(vagent_intent_matcher_new(&m), VAGENT_OK);
	for (size_t i = 0; i < (*agent)->flow.n_intents; i++) {
		const struct vagent_agent_intent *in = &(*agent)->flow.intents[i];

		ck_assert_int_eq(vagent_intent_matcher_add(m, (int)i,
							   (const char *const *)in->examples,
							   (const char *const *)in->keywords),
				 VAGENT_OK);
	}
	return m;
}

struct named_case {
	const char *text;
	const char *want;     /* intent name; NULL: none */
	double score;         /* with want: at least this score; without:
			       * every intent below it */
};

/* Real pocketsphinx output for the store agent's callers (flite voices,
 * the agent's vocabulary boost; fixtures/nlu/store-queries.tsv). */
START_TEST(test_intent_store_agent)
{
	struct vagent_agent *agent = NULL;
	struct vagent_intent_matcher *m = agent_matcher(&agent);
	static const struct named_case cases[] = {
		/* "Hi, I'd like to check on my order": a one-word goodbye
		 * example ("bye") inside a longer request does not win over
		 * the intent that explains the request. */
		{ "bye bye do like to check on my order", "order_status", 0.5 },
		{ "i'd i'd like to check on my order", "order_status", 0.5 },
		/* ...while a goodbye padded with other words stays one. */
		{ "no that's all goodbye", "goodbye", 0.5 },
		{ "okay bye", "goodbye", 0.5 },
		{ "thanks bye", "goodbye", 0.5 },
		{ "cents bye", "goodbye", 0.5 },
		{ "no thanks that's a refund bye bye", "goodbye", 0.5 },
		{ "i'd like to get my money back for order one two three four five",
		  "refund", 0.5 },
		{ "what are your opening bucks", "store_info", 0.5 },
		{ "how do i make are none item", "store_info", 0.5 },
		/* An order number read out is not a question about hours
		 * ("four" is not "hour"), nor "it's"/"its" anything. */
		{ "it's one two three four five", NULL, 0.35 },
		{ "one two three four five", NULL, 0.35 },
		{ "my order number is four seven two two nine", NULL, 0.35 },
		{ "fifty dollars", NULL, 0.35 },
		/* "want" of "i want a refund" and nothing else: at most a
		 * question, never acted on. */
		{ "it's want to three four five", NULL, 0.5 },
		/* Answers to a question ask for nothing: a bare "no" is not
		 * the goodbye "no that's all". */
		{ "no", NULL, 0.35 },
		{ "no that's wrong", NULL, 0.35 },
		{ "yes please", NULL, 0.35 },
		{ "yeah that's right", NULL, 0.35 },
		{ "okay", NULL, 0.35 },
	};

	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		double score = 0;
		int got = vagent_intent_match(m, cases[i].text, &score);
		const char *name = got >= 0 ? agent->flow.intents[got].name : "none";

		if (cases[i].want)
			ck_assert_msg(!strcmp(name, cases[i].want) && score >= cases[i].score,
				      "\"%s\": %s %.3f, want %s >= %.2f", cases[i].text, name,
				      score, cases[i].want, cases[i].score);
		else
			ck_assert_msg(got < 0 || score < cases[i].score,
				      "\"%s\": %s %.3f, want no intent >= %.2f",
				      cases[i].text, name, score, cases[i].score);
	}
	vagent_intent_matcher_free(m);
	vagent_agent_free(agent);
}
END_TEST

/* Number words match only exactly: digits said are never a fuzzy match for
 * a keyword ("four"/"hours", "one"/"own"), but a number word an intent
 * uses still counts. */
START_TEST(test_intent_number_words)
{
	struct vagent_intent_matcher *m = NULL;
	static const char *const hours_ex[] = { "what are your hours", NULL };
	static const char *const hours_kw[] = { "hours", "open", NULL };
	static const char *const two_ex[] = { "i want to buy two tickets", NULL };
	double score;

	ck_assert_int_eq(vagent_intent_matcher_new(&m), VAGENT_OK);
	ck_assert_int_eq(vagent_intent_matcher_add(m, 0, hours_ex, hours_kw), VAGENT_OK);
	ck_assert_int_eq(vagent_intent_matcher_add(m, 1, two_ex, NULL), VAGENT_OK);
	ck_assert_int_eq(vagent_intent_match(m, "four", &score), -1);
	ck_assert_int_eq(vagent_intent_match(m, "one four", &score), -1);
	ck_assert_int_eq(vagent_intent_match(m, "fours", &score), -1);
	/* A word of the same shape that is not a number still matches
	 * ("tour" is one letter from "hour", as "four" is). */
	ck_assert_int_eq(vagent_intent_match(m, "tour", &score), 0);
	ck_assert(score > 0);
	ck_assert_int_eq(vagent_intent_match(m, "buy two tickets", &score), 1);
	ck_assert_msg(score >= 0.5, "%.3f", score);
	vagent_intent_matcher_free(m);
}
END_TEST

/* An intent that explains only part of what was said gives way to one
 * that explains more; repeating a word adds nothing. */
START_TEST(test_intent_explains_query)
{
	struct vagent_intent_matcher *m = NULL;
	static const char *const bye_ex[] = { "bye", "that's all thanks", NULL };
	static const char *const bye_kw[] = { "bye", NULL };
	static const char *const order_ex[] = { "i want to check on my order", NULL };
	struct vagent_intent_score sc[2];

	ck_assert_int_eq(vagent_intent_matcher_new(&m), VAGENT_OK);
	ck_assert_int_eq(vagent_intent_matcher_add(m, 0, bye_ex, bye_kw), VAGENT_OK);
	ck_assert_int_eq(vagent_intent_matcher_add(m, 1, order_ex, NULL), VAGENT_OK);
	ck_assert_int_eq(vagent_intent_scores(m, "bye check order", sc, 2), 2);
	ck_assert_int_eq(sc[0].intent, 1);
	ck_assert_int_eq(vagent_intent_scores(m, "bye bye bye bye check order", sc, 2), 2);
	ck_assert_int_eq(sc[0].intent, 1);
	/* A goodbye with words no intent knows stays a goodbye. */
	ck_assert_int_ge(vagent_intent_scores(m, "alright cheers bye", sc, 2), 1);
	ck_assert_int_eq(sc[0].intent, 0);
	ck_assert_msg(sc[0].score >= 0.5, "%.3f", sc[0].score);
	vagent_intent_matcher_free(m);
}
END_TEST

START_TEST(test_long_input)
{
	struct vagent_intent_matcher *m = store_matcher();
	struct vagent_slot_spec spec = { .type = VAGENT_SLOT_DIGITS };
	size_t n = 200000;
	char *text = malloc(n + 64), *out = NULL;
	double score;

	/* A long monologue ending in the question: matched on its start
	 * only, no blow-up in time or memory. */
	ck_assert_ptr_nonnull(text);
	for (size_t i = 0; i < n; i += 8)
		memcpy(text + i, "blah la ", 8);
	strcpy(text + n, "where is my order");
	ck_assert_int_eq(vagent_intent_match(m, text, &score), -1);
	memcpy(text, "where is my order ", 18);
	ck_assert_int_eq(vagent_intent_match(m, text, &score), ORDER_STATUS);
	ck_assert(vagent_text_has_phrase(text, "where is my order", 0));
	strcpy(text + n, "one two three");
	ck_assert_int_eq(vagent_slot_extract(&spec, text, &out), VAGENT_OK);
	ck_assert_str_eq(out, "123");
	free(out);
	free(text);
	vagent_intent_matcher_free(m);
}
END_TEST

/* ---- phrases */

START_TEST(test_has_phrase)
{
	/* Escalation phrases as callers say them and recognisers write them. */
	ck_assert(vagent_text_has_phrase("i want a real person", "a real person", 0));
	ck_assert(vagent_text_has_phrase("I want a REAL person!", "a real person", 0));
	ck_assert(vagent_text_has_phrase("let me talk to a representative please",
					 "representative", 0));
	ck_assert(vagent_text_has_phrase("stop calling me", "stop calling me", 0));
	ck_assert(vagent_text_has_phrase("please stop calling me okay", "stop calling me", 0));
	ck_assert(!vagent_text_has_phrase("stop me calling", "stop calling me", 0));
	ck_assert(!vagent_text_has_phrase("a real persona", "a real person", 0));
	/* Word forms count as the same word even at tolerance 0. */
	ck_assert(vagent_text_has_phrase("representatives", "representative", 0));
	/* Recognition errors need tolerance. */
	ck_assert(!vagent_text_has_phrase("can i get a rep presentative", "representative", 0));
	ck_assert(vagent_text_has_phrase("can i get a rep presentative", "representative", 0.3));
	ck_assert(vagent_text_has_phrase("can i get a representitive", "representative", 0.3));
	ck_assert(vagent_text_has_phrase("i want a reel person", "a real person", 0.3));
	ck_assert(vagent_text_has_phrase("i want real person", "a real person", 0.3));
	ck_assert(!vagent_text_has_phrase("i want real person", "a real person", 0));
	ck_assert(vagent_text_has_phrase("stop calling me", "stop calling me", 0.3));
	ck_assert(vagent_text_has_phrase("stop call in me", "stop calling me", 0.3));
	ck_assert(vagent_text_has_phrase("don't call me again", "do not call", 0));
	ck_assert(vagent_text_has_phrase("dont call me again", "don't call", 0));
	ck_assert(!vagent_text_has_phrase("i want a refund", "a real person", 0.3));
	ck_assert(!vagent_text_has_phrase("the agent of change", "representative", 0.3));
	ck_assert(!vagent_text_has_phrase("i like presents", "representative", 0.3));
	/* Longer words that start with the phrase's word are other words. */
	ck_assert(!vagent_text_has_phrase("how do you operate", "operator", 0.3));
	ck_assert(!vagent_text_has_phrase("my personal details", "person", 0.3));
	ck_assert(vagent_text_has_phrase("an operater please", "operator", 0.3));
	/* Degenerate input. */
	ck_assert(!vagent_text_has_phrase("", "agent", 0.3));
	ck_assert(!vagent_text_has_phrase("agent", "", 0.3));
	ck_assert(!vagent_text_has_phrase(NULL, "agent", 0.3));
	ck_assert(!vagent_text_has_phrase("agent", NULL, 0.3));
	ck_assert(!vagent_text_has_phrase("agent", "agent", -1));
	ck_assert(vagent_text_has_phrase("agent", "agent", 5));
}
END_TEST

Suite *suite_nlu(void)
{
	Suite *s = suite_create("nlu");
	TCase *tc = tcase_create("slots");

	tcase_add_test(tc, test_slot_names);
	tcase_add_test(tc, test_bad_spec);
	tcase_add_test(tc, test_digits);
	tcase_add_test(tc, test_digits_bounds);
	tcase_add_test(tc, test_number);
	tcase_add_test(tc, test_order_number);
	tcase_add_test(tc, test_amount);
	tcase_add_test(tc, test_date);
	tcase_add_test(tc, test_date_reference);
	tcase_add_test(tc, test_yes_no);
	tcase_add_test(tc, test_choice);
	tcase_add_test(tc, test_text);
	tcase_add_test(tc, test_docs_examples);
	tcase_add_test(tc, test_slot_robustness);
	suite_add_tcase(s, tc);
	tc = tcase_create("intents");
	tcase_add_test(tc, test_intent_clean);
	tcase_add_test(tc, test_intent_asr_errors);
	tcase_add_test(tc, test_intent_unrelated);
	tcase_add_test(tc, test_intent_api);
	tcase_add_test(tc, test_intent_keywords);
	tcase_add_test(tc, test_intent_scores);
	tcase_add_test(tc, test_intent_store_agent);
	tcase_add_test(tc, test_intent_number_words);
	tcase_add_test(tc, test_intent_explains_query);
	tcase_add_test(tc, test_long_input);
	tcase_add_test(tc, test_has_phrase);
	suite_add_tcase(s, tc);
	return s;
}
