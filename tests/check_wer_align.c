/*
 * check_wer_align.c — the WER aligner: hand-checked cases, and parity with
 * the real NIST sclite binary on thousands of random pairs and on the
 * shipped speech fixtures (per-utterance C/S/D/I and totals).
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <glob.h>
#include <stdint.h>

#include "vagent.h"
#include "support/harness.h"

/* ------------------------------------------------------------------ */
/* Hand-checked alignments */

static struct vagent_wer_counts counts_none(const char *ref, const char *hyp)
{
	struct vagent_wer_options o;
	struct vagent_wer_counts c;

	vagent_wer_options_default(&o);
	o.normalizer = VAGENT_NORMALIZE_NONE;
	ck_assert_int_eq(vagent_wer_align_text(ref, hyp, &o, &c, NULL), VAGENT_OK);
	return c;
}

#define ck_counts(c, C, S, D, I)                                              \
	do {                                                                  \
		ck_assert_uint_eq((c).cor, (C));                              \
		ck_assert_uint_eq((c).sub, (S));                              \
		ck_assert_uint_eq((c).del, (D));                              \
		ck_assert_uint_eq((c).ins, (I));                              \
		ck_assert_uint_eq((c).ref_words, (C) + (S) + (D));            \
		ck_assert_uint_eq((c).hyp_words, (C) + (S) + (I));            \
	} while (0)

START_TEST(test_basic_alignments)
{
	ck_counts(counts_none("", ""), 0, 0, 0, 0);
	ck_counts(counts_none("a b c", ""), 0, 0, 3, 0);
	ck_counts(counts_none("", "a b"), 0, 0, 0, 2);
	ck_counts(counts_none("a b c", "a b c"), 3, 0, 0, 0);
	ck_counts(counts_none("a b c d", "a x c"), 2, 1, 1, 0);
	ck_counts(counts_none("the cat sat", "the the cat sat on"), 3, 0, 0, 2);
	/* Substitution costs 4 < deletion + insertion 6. */
	ck_counts(counts_none("a", "b"), 0, 1, 0, 0);
	/* Swapped pair: C + D + I (6) beats two substitutions (8). */
	ck_counts(counts_none("a b", "b a"), 1, 0, 1, 1);
	/* Case matters with normalizer none. */
	ck_counts(counts_none("A b", "a b"), 1, 1, 0, 0);
}
END_TEST

START_TEST(test_rate_definition)
{
	struct vagent_wer_counts c = { 0 };

	ck_assert(vagent_wer_rate(&c) == 0.0);
	c.ins = 2;
	ck_assert(vagent_wer_rate(&c) == 1.0);  /* empty reference, errors */
	c = counts_none("a b c d", "a x c");
	ck_assert(vagent_wer_rate(&c) == 0.5);
	c = counts_none("a", "x y z");
	ck_assert(vagent_wer_rate(&c) == 3.0);  /* WER may exceed 100% */
}
END_TEST

START_TEST(test_edit_order_and_alignment_text)
{
	struct vagent_transcript *r = NULL, *h = NULL;
	struct vagent_wer_result *res = NULL;
	struct vagent_wer_options o;
	char *text;
	static const char ref[] = "a b c d (u-1)\n";
	static const char hyp[] = "a x c (u-1)\n";

	vagent_wer_options_default(&o);
	o.normalizer = VAGENT_NORMALIZE_NONE;
	ck_assert_int_eq(vagent_transcript_parse(ref, strlen(ref), "r", VAGENT_TRANSCRIPT_AUTO, &r, NULL), VAGENT_OK);
	ck_assert_int_eq(vagent_transcript_parse(hyp, strlen(hyp), "h", VAGENT_TRANSCRIPT_AUTO, &h, NULL), VAGENT_OK);
	ck_assert_int_eq(vagent_wer_score(r, h, &o, &res, NULL), VAGENT_OK);
	ck_assert_uint_eq(res->n_utts, 1);
	ck_assert_uint_eq(res->utts[0].n_edits, 4);
	ck_assert_int_eq(res->utts[0].edits[0].op, 'C');
	ck_assert_int_eq(res->utts[0].edits[1].op, 'S');
	ck_assert_int_eq(res->utts[0].edits[1].ref, 1);
	ck_assert_int_eq(res->utts[0].edits[1].hyp, 1);
	ck_assert_int_eq(res->utts[0].edits[3].op, 'D');
	ck_assert_int_eq(res->utts[0].edits[3].hyp, -1);
	text = vagent_wer_utt_format_alignment(&res->utts[0]);
	ck_assert_str_eq(text, "REF:  a B c D\nHYP:  a X c *\nEval:   S   D\n");
	free(text);
	vagent_wer_result_free(res);
	vagent_transcript_free(r);
	vagent_transcript_free(h);
}
END_TEST

START_TEST(test_long_utterance)
{
	/* 3,000 x 3,000 words: one matrix, no per-cell allocation. */
	size_t n = 3000;
	char *ref = malloc(n * 8), *hyp = malloc(n * 8), *pr = ref, *ph = hyp;
	struct vagent_wer_counts c;

	for (size_t i = 0; i < n; i++) {
		pr += sprintf(pr, "w%zu ", i % 97);
		ph += sprintf(ph, "w%zu ", (i % 10 == 0) ? 999 : i % 97);
	}
	c = counts_none(ref, hyp);
	ck_counts(c, n - n / 10, n / 10, 0, 0);
	free(ref);
	free(hyp);
}
END_TEST

/* ------------------------------------------------------------------ */
/* Parity with sclite */

static const char *sclite_path(void)
{
	const char *env = getenv("SCLITE");

	if (env && *env)
		return env;
	if (access("/usr/lib/sctk/bin/sclite", X_OK) == 0)
		return "/usr/lib/sctk/bin/sclite";
	return NULL;
}

struct sc_utt {
	char id[64];
	size_t c, s, d, i;
};

/*
 * Run sclite on two trn files (case-sensitive, -c for characters) and
 * parse the per-utterance "Scores:" lines of its pra report.
 */
static size_t run_sclite(const char *ref, const char *hyp, int chars, struct sc_utt **out)
{
	const char *sc = sclite_path();
	/* Writable copies: exec wants char *, the strings are constants. */
	char args[14][1024] = { "", "-r", "", "trn", "-h", "", "trn", "-i", "rm", "-s",
				"-o", "pra", "stdout", "-c" };
	char *argv[16];
	int k;
	struct run_result rr;
	size_t n = 0, cap = 1024;
	struct sc_utt *u = malloc(cap * sizeof(*u));
	char *line, *save = NULL;

	ck_assert_msg(sc != NULL,
		      "sclite not found (install Debian package sctk: scripts/deps), or set SCLITE");
	snprintf(args[0], sizeof(args[0]), "%s", sc);
	snprintf(args[2], sizeof(args[2]), "%s", ref);
	snprintf(args[5], sizeof(args[5]), "%s", hyp);
	for (k = 0; k < (chars ? 14 : 13); k++)
		argv[k] = args[k];
	argv[k] = NULL;
	rr = run_argv(argv, NULL);
	ck_assert_msg(rr.exit_code == 0, "sclite failed (%d): %s", rr.exit_code, rr.err);
	for (line = strtok_r(rr.out, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		if (!strncmp(line, "id: (", 5)) {
			char *end = strrchr(line, ')');
			ck_assert_ptr_nonnull(end);
			if (n == cap)
				u = realloc(u, (cap *= 2) * sizeof(*u));
			memset(&u[n], 0, sizeof(u[n]));
			snprintf(u[n].id, sizeof(u[n].id), "%.*s", (int)(end - line - 5), line + 5);
			n++;
		} else if (!strncmp(line, "Scores: (#C #S #D #I)", 21)) {
			ck_assert_uint_gt(n, 0);
			ck_assert_int_eq(sscanf(line + 21, "%zu %zu %zu %zu", &u[n - 1].c, &u[n - 1].s,
						&u[n - 1].d, &u[n - 1].i), 4);
		}
	}
	run_result_free(&rr);
	*out = u;
	return n;
}

/*
 * Score the two files with the library (normalizer none) and compare with
 * sclite utterance by utterance. Returns the number of utterances.
 */
static size_t compare_with_sclite(const char *ref, const char *hyp, int chars)
{
	struct vagent_transcript *r = NULL, *h = NULL;
	struct vagent_wer_result *res = NULL;
	struct vagent_wer_options o;
	struct vagent_error err;
	struct sc_utt *sc = NULL;
	size_t nsc, tc = 0, ts = 0, td = 0, ti = 0, missing_del = 0;

	vagent_wer_options_default(&o);
	o.normalizer = VAGENT_NORMALIZE_NONE;
	o.cer = chars;
	ck_assert_msg(vagent_transcript_load(ref, VAGENT_TRANSCRIPT_TRN, &r, &err) == VAGENT_OK, "%s", err.message);
	ck_assert_msg(vagent_transcript_load(hyp, VAGENT_TRANSCRIPT_TRN, &h, &err) == VAGENT_OK, "%s", err.message);
	ck_assert_int_eq(vagent_wer_score(r, h, &o, &res, &err), VAGENT_OK);
	/* sclite scores the hypothesis ids and rejects hypotheses without a
	 * reference; references without a hypothesis (vagent: deletions) it
	 * skips, so they are left out of the comparison. */
	ck_assert_uint_eq(res->n_extra, 0);

	nsc = run_sclite(ref, hyp, chars, &sc);
	ck_assert_uint_eq(nsc, res->n_utts - res->n_missing);
	for (size_t i = 0; i < nsc; i++) {
		const struct vagent_wer_utt *u = NULL;
		for (size_t j = 0; j < res->n_utts && !u; j++)
			if (!strcmp(res->utts[j].id, sc[i].id))
				u = &res->utts[j];
		ck_assert_msg(u != NULL, "sclite id %s not scored by vagent", sc[i].id);
		ck_assert_msg(u->counts.cor == sc[i].c && u->counts.sub == sc[i].s &&
			      u->counts.del == sc[i].d && u->counts.ins == sc[i].i,
			      "%s: utterance %s: vagent C/S/D/I %zu/%zu/%zu/%zu, sclite %zu/%zu/%zu/%zu",
			      hyp, sc[i].id, u->counts.cor, u->counts.sub, u->counts.del,
			      u->counts.ins, sc[i].c, sc[i].s, sc[i].d, sc[i].i);
		tc += sc[i].c;
		ts += sc[i].s;
		td += sc[i].d;
		ti += sc[i].i;
	}
	for (size_t j = 0; j < res->n_utts; j++) {
		if (!res->utts[j].hyp_missing)
			continue;
		missing_del += res->utts[j].counts.del;
	}
	ck_assert_uint_eq(res->total.cor, tc);
	ck_assert_uint_eq(res->total.sub, ts);
	ck_assert_uint_eq(res->total.del, td + missing_del);
	ck_assert_uint_eq(res->total.ins, ti);
	ck_assert_uint_eq(res->total.ref_words, tc + ts + td + missing_del);
	free(sc);
	vagent_wer_result_free(res);
	vagent_transcript_free(r);
	vagent_transcript_free(h);
	return nsc;
}

/* xorshift64*: deterministic across platforms. */
static uint64_t rng_state;

static uint32_t rnd(uint32_t n)
{
	rng_state ^= rng_state >> 12;
	rng_state ^= rng_state << 25;
	rng_state ^= rng_state >> 27;
	return (uint32_t)((rng_state * 2685821657736338717ull) >> 33) % n;
}

static const char *const vocab[] = {
	"a", "b", "c", "the", "cat", "sat", "on", "mat", "of", "and", "to", "it",
	"yes", "no", "order", "number", "please", "thanks", "refund", "card",
};

/*
 * Write `pairs` random reference/hypothesis pairs: small vocabularies
 * (2..20 words, so repeats and ties are common), lengths 0..30, hypotheses
 * made by substituting, deleting, inserting and repeating words, some
 * unrelated, some empty.
 */
static void write_random_pairs(const char *ref_path, const char *hyp_path, size_t pairs,
			       uint64_t seed)
{
	FILE *rf = fopen(ref_path, "w"), *hf = fopen(hyp_path, "w");

	ck_assert_ptr_nonnull(rf);
	ck_assert_ptr_nonnull(hf);
	rng_state = seed;
	for (size_t p = 0; p < pairs; p++) {
		uint32_t vs = 2 + rnd((uint32_t)(sizeof(vocab) / sizeof(vocab[0])) - 1);
		uint32_t n = rnd(8) == 0 ? 0 : 1 + rnd(30);
		uint32_t ref[64], hyp[128], m = 0, mode = rnd(10);
		uint32_t perr = 5 + rnd(40);  /* percent of words touched */

		for (uint32_t i = 0; i < n; i++)
			ref[i] = rnd(vs);
		if (mode == 0) {
			m = rnd(8) == 0 ? 0 : rnd(30);  /* unrelated or empty */
			for (uint32_t i = 0; i < m; i++)
				hyp[i] = rnd(vs);
		} else {
			for (uint32_t i = 0; i < n && m < 120; i++) {
				uint32_t r = rnd(100);
				if (r >= perr) {
					hyp[m++] = ref[i];
					continue;
				}
				switch (rnd(4)) {
				case 0: hyp[m++] = rnd(vs); break;                 /* sub */
				case 1: break;                                     /* del */
				case 2: hyp[m++] = ref[i]; hyp[m++] = rnd(vs); break; /* ins */
				default: hyp[m++] = ref[i]; hyp[m++] = ref[i]; break; /* repeat */
				}
			}
			while (rnd(6) == 0 && m < 120)
				hyp[m++] = rnd(vs);  /* trailing insertions */
		}
		for (uint32_t i = 0; i < n; i++)
			fprintf(rf, "%s ", vocab[ref[i]]);
		fprintf(rf, "(spk%zu-%05zu)\n", p % 7, p);
		for (uint32_t i = 0; i < m; i++)
			fprintf(hf, "%s ", vocab[hyp[i]]);
		fprintf(hf, "(spk%zu-%05zu)\n", p % 7, p);
	}
	ck_assert_int_eq(fclose(rf), 0);
	ck_assert_int_eq(fclose(hf), 0);
}

START_TEST(test_sclite_parity_random_words)
{
	const char *ref = temp_path("ref.trn"), *hyp = temp_path("hyp.trn");
	size_t total = 0;

	/* Three seeds, 1,000 pairs each. */
	for (uint64_t seed = 1; seed <= 3; seed++) {
		write_random_pairs(ref, hyp, 1000, seed * 0x9e3779b97f4a7c15ull);
		total += compare_with_sclite(ref, hyp, 0);
	}
	ck_assert_uint_eq(total, 3000);
}
END_TEST

START_TEST(test_sclite_parity_random_chars)
{
	const char *ref = temp_path("ref.trn"), *hyp = temp_path("hyp.trn");

	write_random_pairs(ref, hyp, 500, 42);
	ck_assert_uint_eq(compare_with_sclite(ref, hyp, 1), 500);
}
END_TEST

/* Every fixtures/wer/NAME.ref*.trn against every NAME.hyp*.trn. */
START_TEST(test_sclite_parity_fixtures)
{
	glob_t g, gh;
	char pattern[1024];
	size_t pairs = 0, utts = 0;

	snprintf(pattern, sizeof(pattern), "%s", top_path("fixtures/wer/*.ref*.trn"));
	ck_assert_int_eq(glob(pattern, 0, NULL, &g), 0);
	for (size_t i = 0; i < g.gl_pathc; i++) {
		const char *ref = g.gl_pathv[i];
		size_t base = (size_t)(strstr(ref, ".ref") - ref);
		snprintf(pattern, sizeof(pattern), "%.*s.hyp*.trn", (int)base, ref);
		if (glob(pattern, 0, NULL, &gh) != 0)
			continue;
		for (size_t j = 0; j < gh.gl_pathc; j++) {
			utts += compare_with_sclite(ref, gh.gl_pathv[j], 0);
			compare_with_sclite(ref, gh.gl_pathv[j], 1);
			pairs++;
		}
		globfree(&gh);
	}
	globfree(&g);
	/* librispeech, asterisk and harvard, with their variants. */
	ck_assert_uint_ge(pairs, 3);
	ck_assert_uint_ge(utts, 25);
}
END_TEST

Suite *suite_wer_align(void)
{
	Suite *s = suite_create("wer_align");
	TCase *tc = tcase_create("align");
	TCase *sc = tcase_create("sclite");

	tcase_add_test(tc, test_basic_alignments);
	tcase_add_test(tc, test_rate_definition);
	tcase_add_test(tc, test_edit_order_and_alignment_text);
	tcase_add_test(tc, test_long_utterance);
	suite_add_tcase(s, tc);
	tcase_set_timeout(sc, 60);
	tcase_add_checked_fixture(sc, temp_dir_setup, temp_dir_teardown);
	tcase_add_test(sc, test_sclite_parity_random_words);
	tcase_add_test(sc, test_sclite_parity_random_chars);
	tcase_add_test(sc, test_sclite_parity_fixtures);
	suite_add_tcase(s, sc);
	return s;
}
