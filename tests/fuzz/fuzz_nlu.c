/*
 * fuzz_nlu.c — libFuzzer harness for lib/nlu: the input up to "\n--\n" is
 * an utterance, fed to every slot extractor, a fixed intent matcher and
 * the phrase spotter; the rest is a knowledge file, added as Markdown and
 * as plain text and searched with the utterance. Checks the shapes of the
 * outputs besides crashes, leaks, UB and hangs.
 */
#include <ctype.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "vagent.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static struct vagent_intent_matcher *matcher;

static void check_slot(vagent_slot_type t, const char *out)
{
	size_t n = strlen(out);

	switch (t) {
	case VAGENT_SLOT_DIGITS:
	case VAGENT_SLOT_ORDER_NUMBER:
		for (size_t i = 0; i < n; i++)
			if (!isdigit((unsigned char)out[i]))
				abort();
		if (!n)
			abort();
		break;
	case VAGENT_SLOT_AMOUNT:
		if (n < 4 || out[n - 3] != '.')
			abort();
		for (size_t i = 0; i < n; i++)
			if (i != n - 3 && !isdigit((unsigned char)out[i]))
				abort();
		break;
	case VAGENT_SLOT_DATE:
		if (n != 10 || out[4] != '-' || out[7] != '-')
			abort();
		break;
	case VAGENT_SLOT_YES_NO:
		if (strcmp(out, "yes") && strcmp(out, "no"))
			abort();
		break;
	case VAGENT_SLOT_CHOICE:
		if (strcmp(out, "credit card") && strcmp(out, "gift card") &&
		    strcmp(out, "paypal"))
			abort();
		break;
	default:
		break;
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const char *const choices[] = { "credit card", "gift card", "paypal", NULL };
	char *buf = malloc(size + 1), *doc;
	struct vagent_kb *kb = NULL;
	struct vagent_kb_hit hits[4];
	struct vagent_intent_score sc[8];
	double score;
	size_t n;

	if (!buf)
		return 0;
	memcpy(buf, data, size);
	buf[size] = '\0';
	doc = strstr(buf, "\n--\n");
	if (doc) {
		*doc = '\0';
		doc += 4;
	}
	if (!matcher) {
		static const char *const a[] = { "where is my order", "track my package", NULL };
		static const char *const b[] = { "i want a refund", NULL };
		static const char *const kb_[] = { "money back", "refund", NULL };
		static const char *const c[] = { "talk to a real person", NULL };

		vagent_intent_matcher_new(&matcher);
		vagent_intent_matcher_add(matcher, 0, a, NULL);
		vagent_intent_matcher_add(matcher, 1, b, kb_);
		vagent_intent_matcher_add(matcher, 2, c, c);
	}
	for (int t = 0; t < 8; t++) {
		struct vagent_slot_spec spec = {
			.type = (vagent_slot_type)t, .choices = choices,
			.reference_date = "2026-12-03", .min_len = t == 2 ? 5 : 0,
			.max_len = t == 2 ? 5 : 0,
		};
		char *out = NULL;
		vagent_status st = vagent_slot_extract(&spec, buf, &out);

		if (st == VAGENT_OK)
			check_slot(spec.type, out);
		else if (st != VAGENT_ENOENT || out)
			abort();
		free(out);
	}
	if (vagent_intent_match(matcher, buf, &score) >= 0 && !(score > 0 && score <= 1))
		abort();
	n = vagent_intent_scores(matcher, buf, sc, 8);
	for (size_t i = 1; i < n; i++)
		if (sc[i].score > sc[i - 1].score)
			abort();
	vagent_text_has_phrase(buf, "a real person", 0.3);
	vagent_text_has_phrase(buf, buf, 0);

	if (doc && vagent_kb_new(&kb) == VAGENT_OK) {
		struct vagent_error err;

		if (vagent_kb_add_text(kb, "fuzz.md", doc, &err) != VAGENT_OK &&
		    (!err.message[0] || strchr(err.message, '\n')))
			abort();
		vagent_kb_add_text(kb, "fuzz.txt", doc, NULL);
		n = vagent_kb_search(kb, buf, hits, 4);
		for (size_t i = 0; i < n; i++) {
			if (strlen(hits[i].answer) > 300 || strchr(hits[i].answer, '\n') ||
			    !(hits[i].score > 0) || (i && hits[i].score > hits[i - 1].score))
				abort();
		}
		vagent_kb_free(kb);
	}
	free(buf);
	return 0;
}
