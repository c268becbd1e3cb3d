#!/bin/sh
# run.sh — `make bench`: runs every tests/bench/bench_*.sh in name order.
# Benchmarks print figures (times, ratios, percentiles); they do not pass or
# fail on timing. Environment from the Makefile: VAGENT_BIN (the binary),
# VAGENT_TOP (source tree), BENCH_DIR (compiled C benchmarks, scratch space).
# `make bench BENCH=wer` runs only bench_wer.sh.
set -eu
cd "$VAGENT_TOP"
status=0
for script in tests/bench/bench_*.sh; do
	[ -e "$script" ] || continue
	name=$(basename "$script" .sh)
	name=${name#bench_}
	if [ -n "${BENCH:-}" ] && [ "$BENCH" != "$name" ]; then
		continue
	fi
	echo "== bench: $name"
	sh "$script" || { echo "bench $name: FAILED (exit $?)"; status=1; }
	echo
done
exit $status
