/*
 * fuzz_normalize.c — libFuzzer harness for the text normalizers on arbitrary
 * bytes, checking the output's shape, UTF-8 validity and idempotence; and
 * vagent_wer_align_text() on two arbitrary strings.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "vagent.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Strict UTF-8: no overlong forms, surrogates or code points past U+10FFFF. */
static int valid_utf8(const unsigned char *s)
{
	while (*s) {
		unsigned c = *s;
		size_t need;
		uint32_t cp;

		if (c < 0x80) {
			s++;
			continue;
		}
		if (c >= 0xc2 && c <= 0xdf)
			need = 1, cp = c & 0x1f;
		else if (c >= 0xe0 && c <= 0xef)
			need = 2, cp = c & 0x0f;
		else if (c >= 0xf0 && c <= 0xf4)
			need = 3, cp = c & 0x07;
		else
			return 0;
		for (size_t i = 1; i <= need; i++) {
			if ((s[i] & 0xc0) != 0x80)
				return 0;
			cp = cp << 6 | (s[i] & 0x3f);
		}
		if ((need == 2 && cp < 0x800) || (need == 3 && cp < 0x10000) ||
		    (cp >= 0xd800 && cp <= 0xdfff) || cp > 0x10ffff)
			return 0;
		s += need + 1;
	}
	return 1;
}

/* "Tokens separated by single spaces, without leading or trailing space." */
static void check_shape(const char *out)
{
	size_t n = strlen(out);

	if (n && (out[0] == ' ' || out[n - 1] == ' ' || strstr(out, "  ")))
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *text = malloc(size + 1);
	int valid;

	if (!text)
		return 0;
	/* The API takes a C string: the input up to its first NUL. */
	memcpy(text, data, size);
	text[size] = '\0';
	valid = valid_utf8((const unsigned char *)text);

	for (int n = VAGENT_NORMALIZE_NONE; n <= VAGENT_NORMALIZE_ENGLISH; n++) {
		char *once = vagent_text_normalize(text, (vagent_text_normalizer)n);
		char *twice;

		if (!once)
			abort();
		check_shape(once);
		if (valid && !valid_utf8((const unsigned char *)once))
			abort();
		twice = vagent_text_normalize(once, (vagent_text_normalizer)n);
		if (!twice)
			abort();
		check_shape(twice);
		/* none and basic are projections: normalizing again changes
		 * nothing. For english that holds on valid UTF-8, and basic
		 * leaves its output alone too (digits, words, no symbols). */
		if ((n != VAGENT_NORMALIZE_ENGLISH || valid) && strcmp(once, twice))
			abort();
		if (n == VAGENT_NORMALIZE_ENGLISH && valid) {
			char *b = vagent_text_normalize(once, VAGENT_NORMALIZE_BASIC);
			if (!b || strcmp(b, once))
				abort();
			free(b);
		}
		free(once);
		free(twice);
	}
	/* The bytes after the first NUL are a hypothesis to align with. */
	{
		const char *hyp = text + strlen(text) + (strlen(text) < size);
		/* Alignment is quadratic: characters only for short strings. */
		int max_cer = strlen(text) < 1000 && strlen(hyp) < 1000;

		for (int n = VAGENT_NORMALIZE_NONE; n <= VAGENT_NORMALIZE_ENGLISH; n++) {
			for (int cer = 0; cer <= max_cer; cer++) {
				struct vagent_wer_options o;
				struct vagent_wer_counts c;
				struct vagent_error err;

				vagent_wer_options_default(&o);
				o.normalizer = (vagent_text_normalizer)n;
				o.cer = cer;
				if (vagent_wer_align_text(text, hyp, &o, &c, &err) ||
				    c.cor + c.sub + c.del != c.ref_words ||
				    c.cor + c.sub + c.ins != c.hyp_words)
					abort();
			}
		}
	}
	free(text);
	return 0;
}
