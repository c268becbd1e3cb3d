/*
 * report.c — `vagent report`: `merge` adds up the --json results of the
 * shards of one `vagent bench --shard K/N` (histograms, counts, WER) and
 * checks the SLOs on the whole, as one process running every call would
 * have (docs/bench.md); `html` renders a bench result's page again.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "vagent.h"
#include "bench.h"
#include "builtins.h"
#include "options.h"
#include "output.h"

static const struct cmd_usage report_usage = {
	.name = "report",
	.synopsis = "vagent report merge [OPTION]... PART.json...\n"
		    "   or: vagent report html [OPTION]... RESULT.json",
	.summary = "merge shard results of vagent bench; render a bench result's page",
	.description =
		"merge: read the --json results of the N shards of one bench (vagent\n"
		"bench --shard K/N, K = 1..N, same inputs, --runs and clock), add their\n"
		"histograms, counts and WER up, print the merged report and check the\n"
		"SLOs on the whole: the shards' own SLOs, or --slo / --slo-profile\n"
		"instead. Every shard must be there exactly once. Percentiles from\n"
		"merged histograms are within 0.2% of those of one process running\n"
		"every call (docs/bench.md).\n"
		"\n"
		"html: write the page of a bench result (vagent bench --json, or a\n"
		"merged one) to --out DIR/bench.html.\n"
		"\n"
		"Exit codes: 0 every SLO holds, 1 an SLO failed, 2 a bad or missing\n"
		"part or expression, 3 calls of the bench could not run, or an output\n"
		"could not be written.",
	.epilogue =
		"Examples:\n"
		"  vagent report merge part-*.json\n"
		"  vagent report merge --slo-profile realtime --json all.json --out site/ part-*.json\n"
		"  vagent report html --out site/ all.json\n",
	.min_args = 2, .max_args = -1,
};

/* Read and parse one bench result. */
static int load(const char *path, struct vagent_bench_result **out)
{
	struct vagent_error err;
	char *text = NULL;
	size_t len = 0;
	vagent_status st;
	int rc = cmd_read_file(path, (size_t)1 << 30, &text, &len);

	if (rc)
		return rc;
	st = vagent_bench_from_json(text, len, path, out, &err);
	free(text);
	if (st != VAGENT_OK) {
		cmd_error("%s", err.message);
		return st == VAGENT_ENOMEM ? 3 : 2;
	}
	return 0;
}

static int merge(int n, char **files, const struct opt_strings *exprs, const char *profile,
		 const char *json, const char *out_dir, bool quiet)
{
	struct vagent_bench_result *all = NULL, *part = NULL;
	struct vagent_slo slos[OPT_STRINGS_MAX + 8];
	struct vagent_slo_result res[OPT_STRINGS_MAX + 8];
	char details[OPT_STRINGS_MAX + 8][256];
	const char *ptrs[OPT_STRINGS_MAX + 8];
	char **seen = NULL;              /* seen[k-1]: the file of shard k */
	size_t n_slos = 0;
	int rc = 0, failed, shards = 0;

	for (int i = 0; i < n && !rc; i++) {
		int k;

		if ((rc = load(files[i], &part)) != 0)
			break;
		k = part->summary.shard_k;
		if (!part->summary.shard_n || !k) {
			cmd_error("%s: not the result of one shard (vagent bench --shard K/N "
				  "--json FILE)", files[i]);
			rc = 2;
			break;
		}
		if (!all) {
			shards = part->summary.shard_n;
			seen = calloc((size_t)shards, sizeof(*seen));
			if (!seen) {
				cmd_error("out of memory");
				rc = 3;
				break;
			}
		}
		if (k <= shards && seen[k - 1]) {
			cmd_error("%s: shard %d/%d again (also %s)", files[i], k, shards, seen[k - 1]);
			rc = 2;
			break;
		}
		if (!all) {
			all = part;
		} else {
			struct vagent_error err;

			if (vagent_bench_merge(all, part, &err) != VAGENT_OK) {
				cmd_error("%s", err.message);
				rc = 2;
				break;
			}
			vagent_bench_result_free(part);
		}
		part = NULL;
		seen[k - 1] = files[i];
	}
	vagent_bench_result_free(part);
	if (!rc) {
		char missing[256] = "";
		size_t len = 0, n_missing = 0;

		for (int k = 1; k <= shards; k++)
			if (!seen[k - 1]) {
				n_missing++;
				if (len < sizeof(missing) - 16)
					len += (size_t)snprintf(missing + len, sizeof(missing) - len,
								"%s%d/%d", len ? ", " : "", k, shards);
			}
		if (n_missing) {
			cmd_error("shard%s %s%s missing: merge all %d shards", n_missing == 1 ? "" : "s",
				  missing, len >= sizeof(missing) - 16 ? ", ..." : "", shards);
			rc = 2;
		}
	}
	if (!rc && (exprs->n || profile)) {
		rc = bench_parse_slos(exprs, profile, slos, OPT_STRINGS_MAX + 8, &n_slos);
	} else if (!rc) {
		/* the SLOs the shards were run with */
		for (size_t i = 0; i < all->n_slo_exprs && i < OPT_STRINGS_MAX + 8; i++) {
			struct vagent_error err;

			if (vagent_slo_parse(all->slo_exprs[i], &slos[n_slos], &err) != VAGENT_OK) {
				cmd_error("%s: %s", all->path, err.message);
				rc = 2;
				break;
			}
			n_slos++;
		}
	}
	if (!rc) {
		all->summary.n_parts = (size_t)shards;
		failed = bench_judge(&all->summary, slos, n_slos, res, details, ptrs);
		rc = bench_write(&all->summary, json, out_dir, quiet);
		if (all->summary.calls_failed) {
			cmd_error("%zu of %zu calls of the bench could not run", all->summary.calls_failed,
				  all->summary.calls);
			rc = 3;
		} else if (!rc && failed) {
			rc = 1;
		}
	}
	free(seen);
	vagent_bench_result_free(all);
	return rc;
}

static int render(const char *file, const char *out_dir)
{
	struct vagent_bench_result *r = NULL;
	int rc;

	if (!out_dir) {
		cmd_usage_error("report", "html: give --out DIR");
		return 2;
	}
	if ((rc = load(file, &r)) != 0)
		return rc;
	{
		struct vagent_error err;
		char *text = NULL, path[4096];

		snprintf(path, sizeof(path), "%s/bench.html", out_dir);
		if (vagent_report_bench_html(&r->summary, &text, &err) != VAGENT_OK) {
			cmd_error("%s", err.message);
			rc = 3;
		} else {
			rc = cmd_write_output(path, text);
		}
		free(text);
	}
	vagent_bench_result_free(r);
	return rc;
}

int cmd_report(int argc, char **argv)
{
	struct opt_strings exprs = { { 0 }, 0 };
	const char *profile = NULL, *json = NULL, *out_dir = NULL;
	bool quiet = false;
	const struct cmd_option opts[] = {
		OPT_STRINGS_(0, "slo", &exprs, "EXPR",
			     "merge: check this SLO instead of the shards' (repeatable)"),
		OPT_CHOICE_(0, "slo-profile", &profile, "NAME",
			    "merge: check a built-in set of SLOs instead of the shards'",
			    vagent_slo_profile_names()),
		OPT_STRING_(0, "json", &json, "FILE", "merge: write the merged result ('-': stdout)"),
		OPT_STRING_(0, "out", &out_dir, "DIR", "write DIR/bench.html"),
		OPT_BOOL_('q', "quiet", &quiet, "with --json -, no report"),
		OPT_END_(),
	};
	int n = parse_options(&report_usage, opts, argc, argv), rc;

	if (n == PARSE_OPT_HELP)
		return 0;
	if (n < 0)
		return 2;
	if (out_dir && (rc = cmd_make_dir(out_dir, "--out")) != 0)
		return rc;
	if (!strcmp(argv[0], "merge"))
		return merge(n - 1, argv + 1, &exprs, profile, json, out_dir, quiet);
	if (!strcmp(argv[0], "html")) {
		if (n != 2) {
			cmd_usage_error("report", "html takes one result file");
			return 2;
		}
		return render(argv[1], out_dir);
	}
	cmd_usage_error("report", "unknown subcommand '%s' (merge or html)", argv[0]);
	return 2;
}
