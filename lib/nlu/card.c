/*
 * card.c — payment card numbers in text: the Luhn check, finding a card
 * number written in digits ("4111 1111 1111 1111", "4111-1111-...") or
 * spoken as digit words ("four one one one ... oh"), and redacting it
 * (docs/dtmf.md, "Redaction").
 */
#include <ctype.h>
#include <stdbool.h>
#include <stddef.h>
#include <string.h>
#include <strings.h>

#include "vagent.h"

#define CARD_MIN_DIGITS 13
#define CARD_MAX_DIGITS 19

bool vagent_luhn_valid(const char *digits, size_t n)
{
	unsigned sum = 0;

	if (!digits || n == 0)
		return false;
	for (size_t i = 0; i < n; i++) {
		char c = digits[n - 1 - i];
		unsigned v;

		if (c < '0' || c > '9')
			return false;
		v = (unsigned)(c - '0');
		if (i % 2 == 1) {
			v *= 2;
			if (v > 9)
				v -= 9;
		}
		sum += v;
	}
	return sum % 10 == 0;
}

/* One piece of a number: a run of ASCII digits or one digit word. */
struct token {
	size_t start, end;          /* byte span in the text */
	char digits[CARD_MAX_DIGITS + 1];
	size_t n;                   /* digits (more than the maximum: too long) */
	bool word;
};

static const char *const digit_words[] = {
	"zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine",
};

static bool is_alpha(char c)
{
	return isalpha((unsigned char)c) != 0;
}

static bool is_digit(char c)
{
	return c >= '0' && c <= '9';
}

/* The token starting exactly at `p`, if one does. */
static bool token_at(const char *text, size_t p, struct token *t)
{
	size_t q = p;

	t->start = p;
	t->n = 0;
	t->word = false;
	if (is_digit(text[p])) {
		if (p > 0 && is_digit(text[p - 1]))
			return false;
		for (; is_digit(text[q]); q++)
			if (t->n < CARD_MAX_DIGITS + 1)
				t->digits[t->n++] = text[q];
		t->end = q;
		if (q - p > CARD_MAX_DIGITS)
			t->n = CARD_MAX_DIGITS + 1;
		return true;
	}
	if (!is_alpha(text[p]) || (p > 0 && is_alpha(text[p - 1])))
		return false;
	for (; is_alpha(text[q]); q++)
		;
	if (is_digit(text[q]))
		return false;
	for (int d = 0; d < 10; d++) {
		size_t len = strlen(digit_words[d]);

		if (q - p == len && strncasecmp(text + p, digit_words[d], len) == 0) {
			t->digits[t->n++] = (char)('0' + d);
			break;
		}
	}
	if (!t->n && q - p == 2 && strncasecmp(text + p, "oh", 2) == 0)
		t->digits[t->n++] = '0';
	t->end = q;
	t->word = true;
	return t->n > 0;
}

static bool is_separator(char c)
{
	return c == ' ' || c == '\t' || c == ',' || c == '.' || c == '-';
}

/* The token that continues the number after `prev`: digits after digits
 * need exactly one space or dash between them; with a digit word on
 * either side, 1..3 of space, tab, comma, period or dash. */
static bool next_token(const char *text, const struct token *prev, struct token *t)
{
	size_t p = prev->end, gap = 0;

	while (gap < 3 && is_separator(text[p + gap]))
		gap++;
	if (gap == 0 || !token_at(text, p + gap, t))
		return false;
	if (!prev->word && !t->word)
		return gap == 1 && (text[p] == ' ' || text[p] == '-');
	return true;
}

/* The first card number at or after `from`: its span, its digits and
 * whether any digit was a word. Earliest start wins, then the longest. */
static bool find_card(const char *text, size_t from, size_t *off, size_t *len,
		      char *digits, size_t *ndigits, bool *spoken)
{
	for (size_t p = from; text[p]; p++) {
		struct token t, first;
		char run[CARD_MAX_DIGITS + 1];
		size_t n = 0, found = 0, found_end = 0;
		bool words = false, found_words = false;

		if (!token_at(text, p, &first))
			continue;
		t = first;
		for (struct token next; n + t.n <= CARD_MAX_DIGITS; t = next) {
			memcpy(run + n, t.digits, t.n);
			n += t.n;
			words = words || t.word;
			if (n >= CARD_MIN_DIGITS && vagent_luhn_valid(run, n)) {
				found = n;
				found_end = t.end;
				found_words = words;
			}
			if (!next_token(text, &t, &next))
				break;
		}
		if (found) {
			*off = first.start;
			*len = found_end - first.start;
			memcpy(digits, run, found);
			*ndigits = found;
			*spoken = found_words;
			return true;
		}
		/* Skip the rest of this token: later starts are tried from its end. */
		p = first.end - 1;
	}
	return false;
}

bool vagent_card_number_find(const char *text, size_t *off, size_t *len)
{
	char digits[CARD_MAX_DIGITS + 1];
	size_t o, l, n;
	bool spoken;

	if (!text || !find_card(text, 0, &o, &l, digits, &n, &spoken))
		return false;
	if (off)
		*off = o;
	if (len)
		*len = l;
	return true;
}

size_t vagent_card_number_redact(char *text)
{
	char digits[CARD_MAX_DIGITS + 1];
	size_t from = 0, off, len, n, count = 0;
	bool spoken;

	if (!text)
		return 0;
	while (find_card(text, from, &off, &len, digits, &n, &spoken)) {
		char label[40];
		size_t label_len = 0;

		if (spoken) {
			memcpy(label, "[card ending ", 13);
			memcpy(label + 13, digits + n - 4, 4);
			label[17] = ']';
			label_len = 18;
		}
		if (spoken && label_len <= len) {
			memcpy(text + off, label, label_len);
			memmove(text + off + label_len, text + off + len,
				strlen(text + off + len) + 1);
			from = off + label_len;
		} else {
			/* Star every digit but the last four, keeping separators;
			 * word digits (never shorter than 18 bytes in practice) are
			 * starred character by character. */
			size_t keep = 4, seen = 0, total = 0;

			for (size_t i = off; i < off + len; i++)
				total += is_digit(text[i]) || is_alpha(text[i]);
			for (size_t i = off; i < off + len; i++)
				if (is_digit(text[i]) || is_alpha(text[i]))
					if (seen++ < total - keep)
						text[i] = '*';
			from = off + len;
		}
		count++;
	}
	return count;
}
