#!/bin/sh
# bench_audio.sh — the resampler measurements behind docs/audio.md: SNR,
# alias rejection and speed of speexdsp per quality level, then vagent
# against sox's `rate` effect (the SoX resampler, the algorithm libsoxr
# packages) on the same sines and on a 95 s real noise recording.
set -eu
: "${BENCH_DIR:?}" "${VAGENT_BIN:?}"
T="$BENCH_DIR/audio"
rm -rf "$T" && mkdir -p "$T"

"$BENCH_DIR/resample_quality"
echo

echo "SNR against the analytic sine at the output rate (0.1 s skipped at each end):"
printf '%-16s %12s %12s\n' "conversion" "vagent" "sox rate"
for pair in "8000 48000 1000" "48000 8000 1000" "16000 22050 6400" "22050 16000 6400" "24000 16000 6400"; do
	set -- $pair
	sox -n -r "$1" -e float -b 32 "$T/in.wav" synth 2 sine "$3" vol 0.5 2>/dev/null
	"$VAGENT_BIN" audio convert --rate "$2" --encoding float "$T/in.wav" "$T/v.wav"
	sox -D "$T/in.wav" -e float -b 32 "$T/s.wav" rate "$2"
	printf '%-16s %9s dB %9s dB\n' "$1→$2 $3Hz" \
		"$("$BENCH_DIR/resample_quality" --file "$T/v.wav" "$3" 0.5)" \
		"$("$BENCH_DIR/resample_quality" --file "$T/s.wav" "$3" 0.5)"
done
echo

noise="$VAGENT_TOP/fixtures/noise/doing_the_dishes.wav"
echo "Speed, 95 s of 16 kHz noise to 48 kHz float (whole command, best of 3):"
best() {
	b=999
	for i in 1 2 3; do
		s=$(date +%s.%N); "$@" >/dev/null 2>&1; e=$(date +%s.%N)
		b=$(echo "$s $e $b" | awk '{d = $2 - $1; printf "%.3f", (d < $3) ? d : $3}')
	done
	echo "$b"
}
tv=$(best "$VAGENT_BIN" audio convert --rate 48000 --encoding float "$noise" "$T/v48.wav")
ts=$(best sox -D "$noise" -e float -b 32 "$T/s48.wav" rate 48000)
tc=$(best "$VAGENT_BIN" audio convert --encoding float "$noise" "$T/copy.wav")
echo "  vagent audio convert: ${tv} s (of which ${tc} s is read+write without resampling)"
echo "  sox rate (high):      ${ts} s"
