#!/bin/sh
# bench_session.sh — the session engine with simulated providers
# (docs/session.md): virtual-clock speed of a 10-turn call on one core
# (target >= 500x real time), and how many concurrent real-clock sessions
# one process paces with every output frame within 5 ms of its deadline
# (target >= 1,000 on 2 cores): one loop thread drives every session, the
# loop's worker (nice +19) synthesises speech on the other core. A run with
# two loop threads shows why one is better on 2 cores. SESSION_BENCH_MAX
# caps the largest session count.
set -eu
: "${BENCH_DIR:?}"
echo "machine: $(nproc) CPU, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //')"
"$BENCH_DIR/session_bench" virtual 50
for n in 500 1000 1500 2000 2500; do
	[ "$n" -le "${SESSION_BENCH_MAX:-2500}" ] || break
	"$BENCH_DIR/session_bench" real "$n" 1
done
"$BENCH_DIR/session_bench" real 1000 1 16000
"$BENCH_DIR/session_bench" real 1000 2
