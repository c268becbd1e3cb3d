#!/bin/sh
# bench_eot.sh — end-of-turn evaluation behind docs/turn.md: utterances with
# internal pauses (digits read in groups, sentences joined with hesitation
# pauses) built from fixtures/, false cut-offs at a latency budget and
# latency at a cut-off rate, with and without the transcript hold rule.
set -eu
: "${BENCH_DIR:?}" "${VAGENT_TOP:?}"
exec "$BENCH_DIR/eot_eval" "$VAGENT_TOP"
