#!/bin/sh
# bench_nlu.sh — text understanding: fuzzy intent matching on noisy caller
# queries (fixtures/nlu/intents.tsv: accuracy at several score thresholds,
# the misses, matches per second; tests/bench/nlu_eval.c), the same for the
# example store agent's intents on real recogniser output
# (fixtures/nlu/store-queries.tsv, scenarios/agents/store.json), and knowledge
# retrieval on the store knowledge base (fixtures/knowledge/queries.tsv:
# right section first, searches per second; tests/bench/kb_eval.c).
set -eu
: "${BENCH_DIR:?}" "${VAGENT_TOP:?}"
echo "-- intents"
"$BENCH_DIR/nlu_eval" "$VAGENT_TOP/fixtures/nlu/intents.tsv"
echo "-- intents of the store agent, real recogniser output"
"$BENCH_DIR/nlu_eval" --agent "$VAGENT_TOP/scenarios/agents/store.json" \
	"$VAGENT_TOP/fixtures/nlu/store-queries.tsv"
echo "-- knowledge"
"$BENCH_DIR/kb_eval" "$VAGENT_TOP/fixtures/knowledge/store.md" \
	"$VAGENT_TOP/fixtures/knowledge/queries.tsv"
