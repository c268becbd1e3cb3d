/*
 * wer_corpus.c — writes a deterministic reference/hypothesis trn corpus for
 * bench_wer.sh: N utterances of 5..40 words from a 2,000-word vocabulary,
 * hypotheses with about 15% of words substituted, deleted or inserted.
 *
 *   wer_corpus N SEED REF.trn HYP.trn
 */
#include <stdio.h>
#include <stdlib.h>
#include <stdint.h>
#include <string.h>

static uint64_t state;

static uint32_t rnd(uint32_t n)
{
	state ^= state >> 12;
	state ^= state << 25;
	state ^= state >> 27;
	return (uint32_t)((state * 2685821657736338717ull) >> 33) % n;
}

#define VOCAB 2000

int main(int argc, char **argv)
{
	static const char *const syl[] = {
		"ka", "lo", "mi", "ta", "re", "so", "nu", "pe", "di", "ga",
		"vo", "shi", "ber", "tan", "el", "or", "un", "qua", "zi", "hop",
	};
	static char words[VOCAB][16];
	FILE *rf, *hf;
	long n;

	if (argc != 5) {
		fprintf(stderr, "usage: wer_corpus N SEED REF.trn HYP.trn\n");
		return 2;
	}
	n = strtol(argv[1], NULL, 10);
	state = strtoull(argv[2], NULL, 10) * 0x9e3779b97f4a7c15ull + 1;
	for (int w = 0; w < VOCAB; w++) {
		int k = 1 + w % 3;
		words[w][0] = '\0';
		for (int s = 0, v = w; s < k + 1; s++, v /= 20)
			strcat(words[w], syl[(v + s * 7) % 20]);
	}
	rf = fopen(argv[3], "w");
	hf = fopen(argv[4], "w");
	if (!rf || !hf) {
		perror("wer_corpus");
		return 3;
	}
	for (long u = 0; u < n; u++) {
		uint32_t len = 5 + rnd(36);
		/* Zipf-ish: frequent words repeat, as in speech. */
		for (uint32_t i = 0; i < len; i++) {
			uint32_t w = rnd(4) ? rnd(50) : rnd(VOCAB);
			uint32_t e = rnd(100);
			fprintf(rf, "%s ", words[w]);
			if (e < 7)
				fprintf(hf, "%s ", words[rnd(VOCAB)]);          /* substitution */
			else if (e < 11)
				;                                                /* deletion */
			else if (e < 15)
				fprintf(hf, "%s %s ", words[w], words[rnd(50)]); /* insertion */
			else
				fprintf(hf, "%s ", words[w]);
		}
		fprintf(rf, "(spk%ld-%06ld)\n", u % 50, u);
		fprintf(hf, "(spk%ld-%06ld)\n", u % 50, u);
	}
	if (fclose(rf) || fclose(hf)) {
		perror("wer_corpus");
		return 3;
	}
	return 0;
}
