#!/bin/sh
# bench_device.sh — audio device latencies through the tests' private
# PulseAudio server (docs/devices.md, "Figures"): a full-duplex stream with
# the rig's speaker looped into its mic, at three suggested latencies (0: the device default).
set -eu
: "${BENCH_DIR:?}"
if [ "${VAGENT_NO_AUDIO_TESTS:-}" = 1 ]; then
	echo "skipped: VAGENT_NO_AUDIO_TESTS=1"
	exit 0
fi
for ms in 0 50 100; do
	"$BENCH_DIR/device_latency" "$ms" "${DEVICE_BENCH_TONES:-10}" 2>/dev/null
done
