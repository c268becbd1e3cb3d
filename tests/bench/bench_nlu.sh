#!/bin/sh
# bench_nlu.sh — fuzzy intent matching on noisy caller queries: accuracy on
# fixtures/nlu/intents.tsv at several score thresholds, the misses, and
# matches per second (tests/bench/nlu_eval.c).
set -eu
: "${BENCH_DIR:?}" "${VAGENT_TOP:?}"
"$BENCH_DIR/nlu_eval" "$VAGENT_TOP/fixtures/nlu/intents.tsv"
