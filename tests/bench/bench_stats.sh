#!/bin/sh
# bench_stats.sh — the mergeable statistics of `vagent bench`
# (docs/metrics.md "Histograms"): add rate, memory for millions of samples,
# histogram percentiles against the exact ones, shard JSON round trip and
# merge. STATS_BENCH_SAMPLES sets the count (default 2,000,000).
set -eu
: "${BENCH_DIR:?}"
"$BENCH_DIR/stats_bench" "${STATS_BENCH_SAMPLES:-2000000}"
