#!/bin/sh
# bench_agent.sh — the example store agent end to end on the embedded stack
# (pocketsphinx, flow, flite, HTTP tools against the order service each
# scenario starts): `vagent bench` over every scenario in scenarios/ on the
# virtual clock with the engines' compute charged as measured,
# AGENT_BENCH_RUNS runs each (a seed per run), first one call at a time,
# then two at once (both cores busy: the load shows in the hops). Prints
# the hop percentiles over all turns of all calls — what a caller would
# feel on this machine — and the realtime SLO profile's verdicts (figures,
# not pass/fail: an unmet SLO does not fail the benchmark).
set -eu
: "${VAGENT_BIN:?}" "${BENCH_DIR:?}"
runs=${AGENT_BENCH_RUNS:-3}
echo "machine: $(nproc) CPU, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //')"
out="$BENCH_DIR/agent"
rm -rf "$out"
mkdir -p "$out"
for c in 1 2; do
	echo "-- $runs runs of every scenario, concurrency $c"
	rc=0
	"$VAGENT_BIN" bench -q --runs "$runs" --concurrency "$c" --date 2026-12-03 \
		--slo-profile realtime --json "$out/c$c.json" --out "$out/c$c" scenarios/ || rc=$?
	[ "$rc" -le 1 ] || { echo "bench agent: vagent bench failed (exit $rc)" >&2; exit "$rc"; }
	echo
done
echo "pages: $out/c1/bench.html, $out/c2/bench.html"
