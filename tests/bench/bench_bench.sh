#!/bin/sh
# bench_bench.sh — `vagent bench` itself (docs/bench.md): the simulated
# order-status call of fixtures/bench (flow brain, mock tool, simulated STT
# and TTS) run 200 and 2,000 times, two at a time, with free compute:
# calls per second of wall time and the process's peak memory, which must
# not grow with the number of calls (the statistics are histograms, each
# call is freed when its figures are in). BENCH_BENCH_RUNS overrides the
# larger count.
set -eu
: "${VAGENT_BIN:?}" "${BENCH_DIR:?}"
big=${BENCH_BENCH_RUNS:-2000}
out="$BENCH_DIR/bench"
rm -rf "$out" && mkdir -p "$out"
for runs in 200 "$big"; do
	/usr/bin/time -f '%e %M' -o "$out/time-$runs" \
		"$VAGENT_BIN" bench -q --runs "$runs" --concurrency 2 --compute free \
		--json "$out/runs-$runs.json" fixtures/bench/order.json >/dev/null
	read -r wall rss <"$out/time-$runs"
	turns=$(sed -n 's/^[[:space:]]*"turns":[[:space:]]*\([0-9]*\).*/\1/p' "$out/runs-$runs.json" | head -1)
	echo "$runs calls ($turns caller turns): $wall s wall, $(echo "$runs / $wall" | bc) calls/s, peak RSS $((rss / 1024)) MiB"
done
