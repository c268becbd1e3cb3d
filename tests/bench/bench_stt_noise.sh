#!/bin/sh
# bench_stt_noise.sh — pocketsphinx WER on a noisy line, without and with
# the denoiser (docs/stt.md "Noisy lines"): flite caller phrases (rms, awb)
# in the kitchen and exercise-bike noise of fixtures/noise at 20, 10 and
# 5 dB SNR, 16 kHz and 8 kHz mu-law, through the streaming provider
# (tests/bench/stt_noise.c), with the store agent's vocabulary boost, 12
# phrases. Slow: pocketsphinx decodes noise at about real time, so `make
# bench` runs a slice of the grid (rms at 16 kHz, kitchen noise, clean, 20
# and 10 dB, denoiser off and on: a few minutes); STT_NOISE_FULL=1 runs the
# whole grid (about half an hour of CPU), STT_NOISE_ARGS any other, e.g.
# STT_NOISE_ARGS="--voices rms --rates 16000 --snrs clean,10".
# Run with `make bench BENCH=stt_noise`.
set -eu
: "${BENCH_DIR:?}" "${VAGENT_TOP:?}"
if [ -z "${STT_NOISE_ARGS:-}" ] && [ "${STT_NOISE_FULL:-0}" != 1 ]; then
	STT_NOISE_ARGS="--voices rms --rates 16000 --noises dishes --snrs clean,20,10"
fi
# shellcheck disable=SC2086
"$BENCH_DIR/stt_noise" ${STT_NOISE_ARGS:-} "$VAGENT_TOP"
