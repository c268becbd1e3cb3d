#!/bin/sh
# bench_agent.sh — the example store agent end to end on the embedded stack
# (pocketsphinx, flow, flite, HTTP tools against the order service on
# vagent mock-http): every scenario in scenarios/ on the virtual clock with
# the engines' compute charged as measured, AGENT_BENCH_RUNS times with
# different seeds; prints the hop percentiles over all turns of all calls
# (the numbers a caller would feel on this machine) and the wall time.
set -eu
: "${VAGENT_BIN:?}" "${BENCH_DIR:?}"
runs=${AGENT_BENCH_RUNS:-3}
echo "machine: $(nproc) CPU, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //')"
fifo="$BENCH_DIR/agent-mock.fifo"
rm -f "$fifo"
mkfifo "$fifo"
"$VAGENT_BIN" mock-http --port 0 scenarios/services/orders.json >"$fifo" 2>"$BENCH_DIR/agent-mock.log" &
mock=$!
trap 'kill "$mock" 2>/dev/null || :; rm -f "$fifo"' EXIT
trap 'exit 130' INT TERM
if ! read -r line <"$fifo"; then
	echo "bench agent: the order service did not start: $(cat "$BENCH_DIR/agent-mock.log")" >&2
	exit 3
fi
port=${line##*:}
export ACME_ORDERS_URL="http://127.0.0.1:$port"
out="$BENCH_DIR/agent"
rm -rf "$out"
mkdir -p "$out"
start=$(date +%s.%N)
i=1
while [ "$i" -le "$runs" ]; do
	"$VAGENT_BIN" run -q --seed "$i" --date 2026-12-03 --out "$out/run$i" scenarios/ >"$out/run$i.txt"
	i=$((i + 1))
done
end=$(date +%s.%N)
calls=$(cat "$out"/run*.txt | grep -c '^ok ' || true)
audio=$(cat "$out"/run*.txt | sed -n 's/^ok .* after \([0-9.]*\) s.*/\1/p' | awk '{s += $1} END {printf "%.1f", s}')
echo "$calls calls ($audio s of calls) in $(echo "$end - $start" | bc | cut -c1-6) s wall"
echo "hop percentiles over every turn of every call, ms (trace metrics):"
"$VAGENT_BIN" trace metrics -q "$out"/run*/*.trace.jsonl
