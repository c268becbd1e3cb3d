#!/bin/sh
# bench_tts.sh — the flite synthesiser (docs/tts.md): time to first audio
# and real-time factor per voice at 8 and 16 kHz, for one sentence and a
# typical three-sentence reply, streamed by the provider (real and virtual
# clock) against whole-sentence synthesis. TTS_BENCH_REPEATS sets the runs.
set -eu
: "${BENCH_DIR:?}"
echo "machine: $(nproc) CPU, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //')"
"$BENCH_DIR/tts_bench" "${TTS_BENCH_REPEATS:-10}"
