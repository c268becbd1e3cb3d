#!/bin/sh
# bench_stt.sh — WER and real-time factor of the embedded pocketsphinx
# recogniser (`vagent transcribe`, scored with `vagent wer --normalize
# english`) on: (a) the LibriSpeech utterances in fixtures/speech/librispeech,
# (b) the LibriVox reads of pocketsphinx-testdata, against the real
# pocketsphinx_continuous with default settings on the same files, (c) the
# 8 kHz Asterisk prompts and Harvard sentences (mu-law, as a phone line
# delivers them), (d) the online-store caller phrases of
# fixtures/stt/caller-phrases.trn spoken by flite's rms, awb and kal16 voices,
# at 16 kHz and at 8 kHz mu-law, without and with the vocabulary boost
# (fixtures/stt/store-vocabulary.txt). Figures are recorded in docs/stt.md.
# Run with `make bench BENCH=stt`; two decoders run at a time.
set -eu
top=$(pwd)
V=$VAGENT_BIN
dir=$BENCH_DIR/stt
rm -rf "$dir"
mkdir -p "$dir"
BOOST=$top/fixtures/stt/store-vocabulary.txt
LIBRIVOX=/usr/share/pocketsphinx/test/data/librivox

echo "machine: $(nproc) cores, $(sed -n 's/^model name[^:]*: //p' /proc/cpuinfo | head -1)"
printf '%-34s %6s %8s %6s %7s\n' "set" "utts" "WER" "RTF" "audio_s"

# score NAME REF JSON: one line of figures from `vagent transcribe --json`.
score () {
	name=$1 ref=$2 json=$3
	sed -n 's/.*"id":"\([^"]*\)".*"text":"\([^"]*\)".*/\2 (\1)/p' "$json" > "$json.trn"
	wer=$("$V" wer -n english -q "$ref" "$json.trn" | sed -n 's/^WER \([0-9.]*%\).*/\1/p')
	awk -v name="$name" -v wer="$wer" '
		{ match($0, /"audio_s":[0-9.]+/); a += substr($0, RSTART + 10, RLENGTH - 10)
		  match($0, /"decode_s":[0-9.]+/); d += substr($0, RSTART + 11, RLENGTH - 11); n++ }
		END { printf "%-34s %6d %8s %6.3f %7.1f\n", name, n, wer, (a > 0 ? d / a : 0), a }' "$json"
}

# run NAME REF [transcribe options] -- FILES...: transcribe in the
# background (output kept for `finish`).
run () {
	name=$1 ref=$2
	shift 2
	echo "$name|$ref" >> "$dir/jobs"
	"$V" transcribe --json "$dir/$name.json" "$@" > /dev/null &
}

finish () {
	wait
	while IFS='|' read -r name ref; do
		score "$name" "$ref" "$dir/$name.json"
	done < "$dir/jobs"
	: > "$dir/jobs"
}

# ---- data -------------------------------------------------------------
: > "$dir/jobs"
mkdir -p "$dir/ls" "$dir/lv" "$dir/ast" "$dir/harv"
sed 's/^\([^ ]*\) \(.*\)$/\2 (\1)/' fixtures/speech/librispeech/trans.txt > "$dir/librispeech.ref.trn"
for f in fixtures/speech/librispeech/*.wav fixtures/speech/librispeech/*.flac; do
	"$V" audio convert "$f" "$dir/ls/$(basename "${f%.*}").wav"
done
sed 's/<s> //; s/ <\/s>//' "$LIBRIVOX/transcription" > "$dir/librivox.ref.trn"
cp "$LIBRIVOX"/*.wav "$dir/lv/"
# Asterisk: the speech prompts of the reference, as mu-law (phone line)
sed -n 's/.*(\(.*\))$/\1/p' fixtures/wer/asterisk.ref.trn | while read -r id; do
	"$V" audio convert --encoding ulaw "fixtures/speech/asterisk/$id.wav" "$dir/ast/$id.wav"
done
# Harvard: the 10 sentences cut from the one recording, as mu-law
while read -r id rec start end; do
	sox -D fixtures/speech/harvard/OSR_us_000_0034_8k.wav -e u-law "$dir/harv/$id.wav" trim "$start" "=$end"
done < fixtures/speech/harvard/segments
for v in rms awb kal16; do
	mkdir -p "$dir/$v-16" "$dir/$v-8"
	"$BENCH_DIR/stt_flite" "$v" 16000 fixtures/stt/caller-phrases.trn "$dir/$v-16" &
	"$BENCH_DIR/stt_flite" "$v" 8000 fixtures/stt/caller-phrases.trn "$dir/$v-8"
	wait
done

# ---- (a), (b) 16 kHz ---------------------------------------------------
run "librispeech 16k" "$dir/librispeech.ref.trn" "$dir"/ls/*.wav
run "librivox 16k" "$dir/librivox.ref.trn" "$dir"/lv/*.wav
finish
if command -v pocketsphinx_continuous > /dev/null; then
	# The stock decoder, default settings, on the same files.
	for set in ls:librispeech lv:librivox; do
		sub=${set%%:*} name=${set#*:}
		t0=$(date +%s.%N)
		for f in "$dir/$sub"/*.wav; do
			printf '%s (%s)\n' "$(pocketsphinx_continuous -infile "$f" 2>/dev/null |
				tr '\n' ' ' | sed 's/  */ /g; s/^ //; s/ $//')" "$(basename "$f" .wav)"
		done > "$dir/psc-$name.trn"
		t1=$(date +%s.%N)
		audio=$(cat "$dir/$name 16k.json" | sed -n 's/.*"audio_s":\([0-9.]*\).*/\1/p' | awk '{ a += $1 } END { print a }')
		wer=$("$V" wer -n english -q "$dir/$name.ref.trn" "$dir/psc-$name.trn" | sed -n 's/^WER \([0-9.]*%\).*/\1/p')
		ours=$("$V" wer -n english -q "$dir/$name.ref.trn" "$dir/$name 16k.json.trn" | sed -n 's/^WER \([0-9.]*\)%.*/\1/p')
		awk -v name="$name pocketsphinx_continuous" -v wer="$wer" -v t0="$t0" -v t1="$t1" -v a="$audio" \
			-v n="$(wc -l < "$dir/psc-$name.trn")" \
			'BEGIN { printf "%-34s %6d %8s %6.3f %7.1f\n", name, n, wer, (t1 - t0) / a, a }'
		awk -v ours="$ours" -v theirs="${wer%\%}" -v name="$name" \
			'BEGIN { if (theirs > 0) printf "  %s: vagent / pocketsphinx_continuous WER ratio %.2f\n", name, ours / theirs }'
	done
else
	echo "pocketsphinx_continuous not installed (Debian package pocketsphinx): no comparison"
fi

# ---- (c) 8 kHz telephone -----------------------------------------------
run "asterisk 8k ulaw" fixtures/wer/asterisk.ref.trn "$dir"/ast/*.wav
run "harvard 8k ulaw" fixtures/wer/harvard.ref.trn "$dir"/harv/*.wav
finish

# ---- streaming: the provider itself (tests/bench/stt_stream.c) ---------
# Each set is one call to one provider: files in turn, 20 ms frames on a
# virtual-clock loop, speech opening 120 ms in (a VAD's onset delay), the
# turn ending at the file's end; RTF = decode CPU seconds / audio seconds.
stream () {
	name=$1 ref=$2
	shift 2
	"$BENCH_DIR/stt_stream" "$@" > "$dir/$name.trn" 2> "$dir/$name.err"
}
stream_row () {
	name=$1 ref=$2
	wer=$("$V" wer -n english -q "$ref" "$dir/$name.trn" | sed -n 's/^WER \([0-9.]*%\).*/\1/p')
	awk -v name="$name" -v wer="$wer" -v n="$(wc -l < "$dir/$name.trn")" \
		'{ printf "%-34s %6d %8s %6.3f %7.1f\n", name, n, wer, $4 / $2, $2 }' "$dir/$name.err"
}
stream "stream librispeech 16k" "$dir/librispeech.ref.trn" 16000 "$dir"/ls/*.wav &
stream "stream harvard 8k ulaw" fixtures/wer/harvard.ref.trn 8000 "$dir"/harv/*.wav
wait
stream "stream caller rms 8k ulaw" fixtures/stt/caller-phrases.trn 8000 "$dir"/rms-8/*.wav &
stream "stream caller rms 8k ulaw boost" fixtures/stt/caller-phrases.trn --boost "$BOOST" 8000 "$dir"/rms-8/*.wav
wait
stream_row "stream librispeech 16k" "$dir/librispeech.ref.trn"
stream_row "stream harvard 8k ulaw" fixtures/wer/harvard.ref.trn
stream_row "stream caller rms 8k ulaw" fixtures/stt/caller-phrases.trn
stream_row "stream caller rms 8k ulaw boost" fixtures/stt/caller-phrases.trn

# ---- (d) flite caller phrases ------------------------------------------
for v in rms awb kal16; do
	run "caller $v 16k" fixtures/stt/caller-phrases.trn "$dir/$v-16"/*.wav
	run "caller $v 16k boost" fixtures/stt/caller-phrases.trn --boost "$BOOST" "$dir/$v-16"/*.wav
	finish
	run "caller $v 8k ulaw" fixtures/stt/caller-phrases.trn "$dir/$v-8"/*.wav
	run "caller $v 8k ulaw boost" fixtures/stt/caller-phrases.trn --boost "$BOOST" "$dir/$v-8"/*.wav
	finish
done
# the three voices together
for k in "16k" "16k boost" "8k ulaw" "8k ulaw boost"; do
	for v in rms awb kal16; do
		sed "s/(\(caller-[0-9]*\))\$/($v-\1)/" "$dir/caller $v $k.json.trn"
	done > "$dir/all.hyp.trn"
	for v in rms awb kal16; do
		sed "s/(\(caller-[0-9]*\))\$/($v-\1)/" fixtures/stt/caller-phrases.trn
	done > "$dir/all.ref.trn"
	printf '%-34s %6d %8s\n' "caller 3 voices $k" "$(wc -l < "$dir/all.hyp.trn")" \
		"$("$V" wer -n english -q "$dir/all.ref.trn" "$dir/all.hyp.trn" | sed -n 's/^WER \([0-9.]*%\).*/\1/p')"
done
