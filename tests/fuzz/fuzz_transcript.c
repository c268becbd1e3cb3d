/*
 * fuzz_transcript.c — libFuzzer harness for transcript parsing and scoring:
 * every format (and auto-detection), scoring with every normalizer (words
 * and characters), the sclite-style alignment text and the JSON result.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "vagent.h"

/* "REF\n--\nHYP": the two transcripts to score against each other. Without
 * the separator the input is scored against itself. */
static const char sep[] = "\n--\n";

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check_error(vagent_status st, const struct vagent_error *err)
{
	/* Every failure names the problem on one line. */
	if (st != VAGENT_OK && (!err->message[0] || strchr(err->message, '\n')))
		abort();
}

static void score(const struct vagent_transcript *ref, const struct vagent_transcript *hyp)
{
	for (int n = VAGENT_NORMALIZE_NONE; n <= VAGENT_NORMALIZE_ENGLISH; n++) {
		/* Characters with one normalizer: the aligner is the same,
		 * only the tokens differ (and it is the slow case). */
		for (int cer = 0; cer <= (n == VAGENT_NORMALIZE_BASIC); cer++) {
			struct vagent_wer_options o;
			struct vagent_wer_result *r = NULL;
			struct vagent_error err;
			vagent_status st;
			char *json;

			vagent_wer_options_default(&o);
			o.normalizer = (vagent_text_normalizer)n;
			o.cer = cer;
			st = vagent_wer_score(ref, hyp, &o, &r, &err);
			check_error(st, &err);
			if (st)
				continue;
			if (r->n_utts != ref->count)
				abort();
			for (size_t i = 0; i < r->n_utts; i++) {
				const struct vagent_wer_utt *u = &r->utts[i];
				const struct vagent_wer_counts *c = &u->counts;
				char *text = vagent_wer_utt_format_alignment(u);

				if (c->cor + c->sub + c->del != c->ref_words ||
				    c->cor + c->sub + c->ins != c->hyp_words ||
				    c->ref_words != u->n_ref || c->hyp_words != u->n_hyp ||
				    u->n_edits != c->cor + c->sub + c->del + c->ins)
					abort();
				free(text);
			}
			json = vagent_wer_result_to_json(r, n == VAGENT_NORMALIZE_BASIC);
			free(json);
			vagent_wer_result_free(r);
		}
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *d = (const char *)data;
	const char *hyp_d = d;
	size_t ref_len = size, hyp_len = size;
	int scored = 0;

	for (size_t i = 0; i + sizeof(sep) - 1 <= size; i++) {
		if (!memcmp(d + i, sep, sizeof(sep) - 1)) {
			ref_len = i;
			hyp_d = d + i + sizeof(sep) - 1;
			hyp_len = size - ref_len - (sizeof(sep) - 1);
			break;
		}
	}
	/* Parse with every format; score once (scoring does not depend on
	 * the format): the first pair that parses, auto-detected first. */
	for (int f = VAGENT_TRANSCRIPT_AUTO; f <= VAGENT_TRANSCRIPT_JSON; f++) {
		struct vagent_transcript *ref = NULL, *hyp = NULL;
		struct vagent_error err;
		vagent_status st;

		st = vagent_transcript_parse(d, ref_len, "ref", (vagent_transcript_format)f, &ref, &err);
		check_error(st, &err);
		if (st == VAGENT_OK && hyp_d != d) {
			st = vagent_transcript_parse(hyp_d, hyp_len, "hyp",
						     (vagent_transcript_format)f, &hyp, &err);
			check_error(st, &err);
		}
		if (!scored && ref && (hyp || hyp_d == d)) {
			score(ref, hyp ? hyp : ref);
			scored = 1;
		}
		vagent_transcript_free(ref);
		vagent_transcript_free(hyp);
	}
	return 0;
}
