#!/bin/sh
# bench_loop.sh — the event loop alone (docs/loop.md): virtual-time speed
# for 1,000 sessions of 20 ms ticks, and how many real-time 20 ms sessions
# one loop thread paces with every tick within 5 ms of its deadline. Each
# tick does a 320-sample energy sum (a VAD-sized touch of its frame); the
# full-session figures come with the session engine.
set -eu
: "${BENCH_DIR:?}"
echo "machine: $(nproc) CPU, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //')"
"$BENCH_DIR/loop_bench" virtual 1 3600
"$BENCH_DIR/loop_bench" virtual 1000 60
"$BENCH_DIR/loop_bench" virtual 10000 10
for n in 250 500 1000 2000 4000 8000; do
	"$BENCH_DIR/loop_bench" real "$n" "${LOOP_BENCH_SECONDS:-3}"
done
