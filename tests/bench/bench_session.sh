#!/bin/sh
# bench_session.sh — the session engine with simulated providers
# (docs/session.md): virtual-clock speed of a 10-turn call on one core
# (target >= 500x real time), and how many concurrent real-clock sessions
# one process paces with every output frame within 5 ms of its deadline
# (target >= 1,000 on 2 cores). SESSION_BENCH_MAX caps the largest count.
set -eu
: "${BENCH_DIR:?}"
echo "machine: $(nproc) CPU, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //')"
"$BENCH_DIR/session_bench" virtual 50
loops=$(nproc)
for n in 250 500 1000 1500 2000 3000; do
	[ "$n" -le "${SESSION_BENCH_MAX:-3000}" ] || break
	"$BENCH_DIR/session_bench" real "$n" "$loops"
done
