/*
 * wer.c — `vagent wer REF HYP`: word or character error rate with sclite's
 * alignment; the scoring itself lives in lib/wer, this file only prints.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <errno.h>
#include <math.h>

#include "vagent.h"
#include "builtins.h"
#include "options.h"
#include "output.h"

static const struct cmd_usage wer_usage = {
	.name = "wer",
	.synopsis = "vagent wer [OPTION]... REF HYP",
	.summary = "Word (or --cer character) error rate of HYP against REF, counted as NIST sclite counts.",
	.description =
		"REF and HYP are transcripts: sclite trn lines (\"text (utt-id)\"), plain text\n"
		"with one utterance per line (ids are line numbers), or JSON; the format is\n"
		"detected per file. Either may be '-' for standard input (a recognizer's\n"
		"output piped in). Utterances are matched by id. A reference utterance with no\n"
		"hypothesis counts as all deletions; a hypothesis with no reference is reported\n"
		"and not counted. Both sides are normalized (default: basic) before alignment.\n"
		"Prints a per-utterance table and a summary line.",
	.epilogue =
		"Exit status: 0 scored; 1 WER above --max-wer; 2 usage error, invalid input, or\n"
		"(with --strict) mismatched ids; 3 I/O error writing output.\n"
		"\n"
		"Examples:\n"
		"  vagent wer ref.trn hyp.trn\n"
		"  vagent wer --normalize english --align ref.txt hyp.txt\n"
		"  vagent wer --json result.json --max-wer 0.15 ref.json hyp.json\n"
		"See docs/wer.md and docs/normalizers.md.\n",
	.min_args = 2, .max_args = 2,
};

static const char *const normalizer_choices[] = { "none", "basic", "english", NULL };
static const char *const format_choices[] = { "auto", "trn", "lines", "json", NULL };

/* "0.15" or "15%" -> 0.15; -1 if malformed. */
static double parse_rate(const char *s)
{
	char *end;
	double v;

	errno = 0;
	v = strtod(s, &end);
	if (errno || end == s || !isfinite(v) || v < 0)
		return -1;
	if (*end == '%') {
		v /= 100.0;
		end++;
	}
	return *end ? -1 : v;
}

/* "a, b, c, d, e, ..." — the first five of `n` ids. */
static void format_ids(char *buf, size_t size, size_t n, const char *const *ids)
{
	size_t len = 0, shown = n < 5 ? n : 5;

	buf[0] = '\0';
	for (size_t i = 0; i < shown && len < size; i++)
		len += (size_t)snprintf(buf + len, size - len, "%s%s", i ? ", " : "", ids[i]);
	if (n > shown && len < size)
		snprintf(buf + len, size - len, ", ...");
}

static void warn_ids(const char *file, size_t n, const char *const *ids, const char *what)
{
	char list[256];

	format_ids(list, sizeof(list), n, ids);
	fflush(stdout);
	fprintf(stderr, "vagent wer: warning: %s: %zu %s: %s\n", file, n, what, list);
}

/* The name of a transcript argument in messages. */
static const char *display_name(const char *arg)
{
	return strcmp(arg, "-") ? arg : "<stdin>";
}

/*
 * vagent_transcript_load(), or for "-" standard input read whole and
 * parsed as "<stdin>" (so `asr ... | vagent wer ref.trn -` works).
 */
static vagent_status load_transcript(const char *path, vagent_transcript_format format,
				     struct vagent_transcript **out, struct vagent_error *err)
{
	char *buf = NULL;
	size_t len = 0, cap = 0, got;
	vagent_status st;

	if (strcmp(path, "-"))
		return vagent_transcript_load(path, format, out, err);
	*out = NULL;
	do {
		if (cap - len < 65536) {
			char *nb = realloc(buf, cap ? cap * 2 : 65536);
			if (!nb) {
				free(buf);
				err->status = VAGENT_ENOMEM;
				snprintf(err->message, sizeof(err->message), "<stdin>: out of memory");
				return VAGENT_ENOMEM;
			}
			buf = nb;
			cap = cap ? cap * 2 : 65536;
		}
		got = fread(buf + len, 1, cap - len, stdin);
		len += got;
	} while (got);
	if (ferror(stdin)) {
		err->status = VAGENT_EIO;
		snprintf(err->message, sizeof(err->message), "<stdin>: read failed: %s",
			 strerror(errno));
		st = VAGENT_EIO;
	} else {
		st = vagent_transcript_parse(buf, len, "<stdin>", format, out, err);
	}
	free(buf);
	return st;
}

static void print_table(const struct vagent_wer_result *r)
{
	int w = 2;

	for (size_t i = 0; i < r->n_utts; i++) {
		int len = (int)strlen(r->utts[i].id);
		if (len > w)
			w = len < 40 ? len : 40;
	}
	printf("%-*s %6s %6s %6s %6s %6s %8s\n", w, "id", "N", "C", "S", "D", "I",
	       r->cer ? "CER" : "WER");
	for (size_t i = 0; i < r->n_utts; i++) {
		const struct vagent_wer_utt *u = &r->utts[i];
		printf("%-*s %6zu %6zu %6zu %6zu %6zu %7.2f%%%s\n", w, u->id,
		       u->counts.ref_words, u->counts.cor, u->counts.sub, u->counts.del,
		       u->counts.ins, 100.0 * vagent_wer_rate(&u->counts),
		       u->hyp_missing ? "  (no hypothesis)" : "");
	}
}

static int print_alignments(const struct vagent_wer_result *r)
{
	for (size_t i = 0; i < r->n_utts; i++) {
		const struct vagent_wer_utt *u = &r->utts[i];
		char *text = vagent_wer_utt_format_alignment(u);
		if (!text)
			return -1;
		printf("id: %s%s\n", u->id, u->hyp_missing ? "  (no hypothesis)" : "");
		printf("Scores: (#C #S #D #I) %zu %zu %zu %zu\n", u->counts.cor, u->counts.sub,
		       u->counts.del, u->counts.ins);
		fputs(text, stdout);
		fputc('\n', stdout);
		free(text);
	}
	return 0;
}

static void print_id_list(const char *label, size_t n, const char *const *ids)
{
	if (!n)
		return;
	printf("%s (%zu):", label, n);
	for (size_t i = 0; i < n; i++)
		printf(" %s", ids[i]);
	putchar('\n');
}

static void print_summary(const struct vagent_wer_result *r)
{
	const struct vagent_wer_counts *c = &r->total;

	printf("%s %.2f%% (S=%zu D=%zu I=%zu N=%zu) over %zu utterance%s, normalizer %s\n",
	       r->cer ? "CER" : "WER", 100.0 * vagent_wer_rate(c), c->sub, c->del, c->ins,
	       c->ref_words, r->n_utts, r->n_utts == 1 ? "" : "s",
	       vagent_text_normalizer_name(r->normalizer));
}

static int write_json(const struct vagent_wer_result *r, const char *path, bool align)
{
	char *text = vagent_wer_result_to_json(r, align);
	int rc;

	if (!text) {
		cmd_error("out of memory writing JSON");
		return 3;
	}
	rc = cmd_write_output(path, text);
	free(text);
	return rc;
}

int cmd_wer(int argc, char **argv)
{
	const char *normalize = "basic", *format = NULL, *ref_format = NULL, *hyp_format = NULL;
	const char *json = NULL, *max_wer = NULL, *ref_name, *hyp_name;
	bool cer = false, align = false, quiet = false, strict = false;
	const struct cmd_option opts[] = {
		OPT_GROUP_("Scoring"),
		OPT_CHOICE_('n', "normalize", &normalize, "NAME",
			    "text normalizer (default basic; docs/normalizers.md)", normalizer_choices),
		OPT_BOOL_(0, "cer", &cer, "character error rate (spaces not counted) instead of WER"),
		OPT_GROUP_("Input"),
		OPT_CHOICE_('f', "format", &format, "FMT",
			    "format of both files (default auto: detected per file)", format_choices),
		OPT_CHOICE_(0, "ref-format", &ref_format, "FMT", "format of REF", format_choices),
		OPT_CHOICE_(0, "hyp-format", &hyp_format, "FMT", "format of HYP", format_choices),
		OPT_BOOL_(0, "strict", &strict,
			  "fail (exit 2, no result printed) when REF and HYP ids do not match"),
		OPT_GROUP_("Output"),
		OPT_BOOL_('a', "align", &align, "show aligned REF/HYP per utterance (sclite style)"),
		OPT_BOOL_('q', "quiet", &quiet, "print only the summary line"),
		OPT_STRING_(0, "json", &json, "FILE", "write the result as JSON to FILE ('-' for stdout)"),
		OPT_STRING_(0, "max-wer", &max_wer, "X",
			    "exit 1 when the corpus rate exceeds X (0.15 or 15%)"),
		OPT_END_(),
	};
	struct vagent_transcript *ref = NULL, *hyp = NULL;
	struct vagent_wer_result *res = NULL;
	struct vagent_wer_options wo;
	struct vagent_error err;
	vagent_transcript_format rf = VAGENT_TRANSCRIPT_AUTO, hf = VAGENT_TRANSCRIPT_AUTO;
	vagent_status st;
	double limit = -1;
	int n, rc = 0;

	n = parse_options(&wer_usage, opts, argc, argv);
	if (n == PARSE_OPT_HELP)
		return 0;
	if (n < 0)
		return 2;
	if (n != 2)
		return cmd_usage_error("wer", "expected REF and HYP, got %d file%s", n, n == 1 ? "" : "s");
	if (max_wer && (limit = parse_rate(max_wer)) < 0)
		return cmd_usage_error("wer", "--max-wer: '%s' is not a rate (e.g. 0.15 or 15%%)", max_wer);
	vagent_wer_options_default(&wo);
	vagent_text_normalizer_from_name(normalize, &wo.normalizer);
	wo.cer = cer;
	if (format)
		vagent_transcript_format_from_name(format, &rf);
	hf = rf;
	if (ref_format)
		vagent_transcript_format_from_name(ref_format, &rf);
	if (hyp_format)
		vagent_transcript_format_from_name(hyp_format, &hf);

	if (!strcmp(argv[0], "-") && !strcmp(argv[1], "-"))
		return cmd_usage_error("wer", "REF and HYP cannot both be standard input ('-')");
	ref_name = display_name(argv[0]);
	hyp_name = display_name(argv[1]);

	st = load_transcript(argv[0], rf, &ref, &err);
	if (st == VAGENT_OK)
		st = load_transcript(argv[1], hf, &hyp, &err);
	if (st == VAGENT_OK)
		st = vagent_wer_score(ref, hyp, &wo, &res, &err);
	if (st != VAGENT_OK) {
		cmd_error("%s", err.message);
		rc = vagent_status_exit_code(st);
		goto out;
	}

	/* --strict: mismatched ids make the input invalid; no result. */
	if (strict && (res->n_missing || res->n_extra)) {
		char missing[256], extra[256];

		format_ids(missing, sizeof(missing), res->n_missing, res->missing_ids);
		format_ids(extra, sizeof(extra), res->n_extra, res->extra_ids);
		cmd_error("%s: utterance ids do not match %s: %zu missing (%s), %zu extra (%s) (--strict)",
			  hyp_name, ref_name, res->n_missing, missing, res->n_extra, extra);
		rc = 2;
		goto out;
	}
	if (res->n_missing)
		warn_ids(hyp_name, res->n_missing, res->missing_ids,
			 res->n_missing == 1 ? "reference utterance has no hypothesis (counted as deletions)"
					     : "reference utterances have no hypothesis (counted as deletions)");
	if (res->n_extra)
		warn_ids(hyp_name, res->n_extra, res->extra_ids,
			 res->n_extra == 1 ? "hypothesis utterance has no reference (not scored)"
					   : "hypothesis utterances have no reference (not scored)");

	/* JSON first: when its file cannot be written, nothing else is
	 * printed. JSON on stdout replaces the human output. */
	if (json && (rc = write_json(res, json, align)))
		goto out;
	if (!(json && !strcmp(json, "-"))) {
		if (!quiet) {
			if (align) {
				if (print_alignments(res)) {
					cmd_error("out of memory");
					rc = 3;
					goto out;
				}
			} else {
				print_table(res);
			}
			print_id_list("missing hypothesis, counted as deletions", res->n_missing,
				      res->missing_ids);
			print_id_list("extra hypothesis, not scored", res->n_extra, res->extra_ids);
		}
		print_summary(res);
	}

	if (limit >= 0 && vagent_wer_rate(&res->total) > limit) {
		cmd_error("%s %.2f%% exceeds --max-wer %.2f%%", cer ? "CER" : "WER",
			  100.0 * vagent_wer_rate(&res->total), 100.0 * limit);
		rc = 1;
	}
out:
	vagent_wer_result_free(res);
	vagent_transcript_free(ref);
	vagent_transcript_free(hyp);
	return rc;
}
