#!/bin/sh
# bench_vad.sh — the labelled VAD evaluation behind docs/vad.md: speech
# clips from fixtures/ in silence and in kitchen/exercise-bike noise at 20,
# 10 and 5 dB SNR, plus non-speech clips, scored frame by frame for vagent's
# detector, speexdsp's preprocessor VAD and the WebRTC VAD (if the Debian
# package libwebrtc-audio-processing1 is installed).
set -eu
: "${BENCH_DIR:?}" "${VAGENT_TOP:?}"
T="$BENCH_DIR/vad"
rm -rf "$T" && mkdir -p "$T"
# speexdsp prints "The VAD has been replaced by a hack..." once per state;
# keep stderr, minus that line, and say it once.
status=0
"$BENCH_DIR/vad_eval" "$VAGENT_TOP" 2>"$T/stderr" || status=$?
if grep -q 'replaced by a hack' "$T/stderr"; then
	echo "(speexdsp warned on every state: 'The VAD has been replaced by a hack pending a complete rewrite')"
fi
grep -v 'replaced by a hack' "$T/stderr" >&2 || true
exit $status
