#!/bin/sh
# bench_chat.sh — echo-caused false interruptions of `vagent chat`
# (docs/chat.md "Echo"): the example agent in simulated rooms that feed
# the speaker back into the mic (40-120 ms, -6..-12 dB, a short
# reverberant tail), no caller; barge-ins per agent minute with the echo
# canceller, without echo handling, and half-duplex.
set -eu
: "${BENCH_DIR:?}"
"$BENCH_DIR/chat_echo" scenarios/agents/store.json
