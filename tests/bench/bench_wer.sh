#!/bin/sh
# bench_wer.sh — `vagent wer` against NIST sclite on a generated 10,000
# utterance corpus (same tokens, normalizer none, case-sensitive sclite):
# checks that both give identical S/D/I/N totals, prints both times and the
# ratio. Run with `make bench BENCH=wer`. Environment from the Makefile:
# VAGENT_BIN, BENCH_DIR (wer_corpus is compiled there). UTTS overrides the
# corpus size.
set -eu
UTTS=${UTTS:-10000}
SCLITE=${SCLITE:-/usr/lib/sctk/bin/sclite}
dir=$BENCH_DIR/wer
mkdir -p "$dir"

if [ ! -x "$SCLITE" ]; then
	echo "sclite not found at $SCLITE (Debian package sctk; make deps)" >&2
	exit 1
fi

"$BENCH_DIR/wer_corpus" "$UTTS" 1 "$dir/ref.trn" "$dir/hyp.trn"
words=$(sed 's/ ([^)]*)$//' "$dir/ref.trn" | wc -w)
echo "corpus: $UTTS utterances, $words reference words ($dir)"

now() { date +%s.%N; }

# Best of N wall-clock runs of a command, in seconds.
best_of() {
	n=$1; shift
	best=
	i=0
	while [ $i -lt "$n" ]; do
		t0=$(now)
		"$@" > /dev/null
		t1=$(now)
		best=$(awk -v a="$t0" -v b="$t1" -v best="$best" \
			'BEGIN { t = b - a; if (best == "" || t < best + 0) best = t; printf "%.4f", best }')
		i=$((i + 1))
	done
	echo "$best"
}

# Totals: vagent's summary line, sclite's per-utterance "Scores:" lines.
v_sum=$("$VAGENT_BIN" wer -n none -q "$dir/ref.trn" "$dir/hyp.trn" |
	sed -n 's/.*(S=\([0-9]*\) D=\([0-9]*\) I=\([0-9]*\) N=\([0-9]*\)).*/S=\1 D=\2 I=\3 N=\4/p')
s_sum=$("$SCLITE" -r "$dir/ref.trn" trn -h "$dir/hyp.trn" trn -i rm -s -o pra stdout |
	awk '/^Scores: \(#C #S #D #I\)/ { c += $6; s += $7; d += $8; i += $9 }
	     END { printf "S=%d D=%d I=%d N=%d\n", s, d, i, c + s + d }')
echo "vagent totals: $v_sum"
echo "sclite totals: $s_sum"
if [ "$v_sum" != "$s_sum" ]; then
	echo "MISMATCH between vagent and sclite totals" >&2
	exit 1
fi

# Both print per-utterance results: vagent its table, sclite its pra report.
t_v=$(best_of 7 "$VAGENT_BIN" wer -n none "$dir/ref.trn" "$dir/hyp.trn")
t_vq=$(best_of 7 "$VAGENT_BIN" wer -n none -q "$dir/ref.trn" "$dir/hyp.trn")
t_va=$(best_of 7 "$VAGENT_BIN" wer -n none --align "$dir/ref.trn" "$dir/hyp.trn")
t_s=$(best_of 3 "$SCLITE" -r "$dir/ref.trn" trn -h "$dir/hyp.trn" trn -i rm -s -o pra stdout)
t_ss=$(best_of 3 "$SCLITE" -r "$dir/ref.trn" trn -h "$dir/hyp.trn" trn -i rm -s -o sum stdout)

printf 'vagent wer (table)        %8.3f s\n' "$t_v"
printf 'vagent wer -q (summary)   %8.3f s\n' "$t_vq"
printf 'vagent wer --align        %8.3f s\n' "$t_va"
printf 'sclite -o pra (per utt)   %8.3f s\n' "$t_s"
printf 'sclite -o sum             %8.3f s\n' "$t_ss"
awk -v s="$t_s" -v v="$t_v" -v ss="$t_ss" -v vq="$t_vq" -v va="$t_va" 'BEGIN {
	printf "speed-up: %.1fx (pra vs table), %.1fx (sum vs -q), %.1fx (pra vs --align)\n",
		s / v, ss / vq, s / va }'
