/*
 * bench.h — what `vagent bench` and `vagent report merge` share: the
 * SLOs from --slo and --slo-profile, judging them on a bench summary,
 * and writing the report, the --json result and DIR/bench.html.
 */
#ifndef VAGENT_CMD_BENCH_H
#define VAGENT_CMD_BENCH_H

#include "vagent.h"
#include "options.h"

/* Parse the --slo expressions after the --slo-profile's (NULL: none)
 * into `slos` (room for n_max); every bad expression printed. 0 or 2. */
int bench_parse_slos(const struct opt_strings *exprs, const char *profile,
		     struct vagent_slo *slos, size_t n_max, size_t *n);

/* Evaluate the SLOs on `bs` and point bs->slos and bs->slo_details at
 * `res` and `details` (one 256-byte line each, through `detail_ptrs`).
 * Returns how many failed. */
int bench_judge(struct vagent_bench_summary *bs, const struct vagent_slo *slos, size_t n_slos,
		struct vagent_slo_result *res, char (*details)[256], const char **detail_ptrs);

/* Print the report (stdout, or stderr when the JSON goes to stdout;
 * none then with `quiet`), write `json` (NULL: none; "-": stdout) and
 * out_dir/bench.html (NULL: none). 0 or 3. */
int bench_write(const struct vagent_bench_summary *bs, const char *json, const char *out_dir,
		bool quiet);

#endif
