#!/bin/sh
# bench_tools.sh — the tools provider (docs/tools.md): HTTP tool call
# latency against the loopback mock server on a real loop, the time a
# cancelled hung transfer takes to free its worker, and the JSON Schema
# validator's rate.
set -eu
: "${BENCH_DIR:?}"
echo "machine: $(nproc) CPU, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //')"
"$BENCH_DIR/tools_bench" "${TOOLS_BENCH_CALLS:-500}"
