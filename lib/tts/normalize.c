/*
 * normalize.c — how the agent reads numbers: identifiers (order, account,
 * reference numbers, long digit strings) digit by digit, amounts and
 * quantities as numbers; rewritten into text flite then reads as wanted
 * (docs/tts.md, "Numbers").
 */
#include <stdlib.h>
#include <string.h>

#include "tts/tts_int.h"

/* Words after which a number is an identifier ("order 4521"). */
static const char *const id_words[] = {
	"order", "number", "account", "ticket", "case", "reference", "ref",
	"confirmation", "code", "pin", "tracking", "invoice", "id",
	"extension", "ext", NULL,
};

static bool is_digit(char c)
{
	return c >= '0' && c <= '9';
}

static bool is_alpha(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

static bool is_alnum(char c)
{
	return is_digit(c) || is_alpha(c);
}

static char lower(char c)
{
	return c >= 'A' && c <= 'Z' ? (char)(c - 'A' + 'a') : c;
}

/* Whether the word ending just before `end` (skipping spaces, ':', '#'
 * and '.') is an identifier word; "no" counts only as "No.". */
static bool after_id_word(const char *text, size_t end)
{
	size_t k = end, w;
	bool dot = false;
	char word[16];

	while (k > 0 && (text[k - 1] == ' ' || text[k - 1] == ':' ||
			 text[k - 1] == '#' || text[k - 1] == '.')) {
		if (text[k - 1] == '.')
			dot = true;
		k--;
	}
	w = k;
	while (w > 0 && is_alpha(text[w - 1]))
		w--;
	if (k == w || k - w >= sizeof(word) || (w > 0 && is_digit(text[w - 1])))
		return false;
	for (size_t i = 0; i < k - w; i++)
		word[i] = lower(text[w + i]);
	word[k - w] = '\0';
	if (!strcmp(word, "no"))
		return dot;
	for (const char *const *p = id_words; *p; p++)
		if (!strcmp(word, *p))
			return true;
	return false;
}

/* Whether the digit run text[i..j) is part of an amount, a decimal, a
 * grouped number or a percentage, which flite reads well. */
static bool is_amount(const char *text, size_t i, size_t j)
{
	size_t k = i;

	if (i >= 2 && (text[i - 1] == ',' || text[i - 1] == '.') &&
	    is_digit(text[i - 2]))
		return true;
	if ((text[j] == ',' || text[j] == '.') && is_digit(text[j + 1]))
		return true;
	if (text[j] == '%')
		return true;
	while (k > 0 && text[k - 1] == ' ')
		k--;
	if (k > 0 && text[k - 1] == '$')
		return true;
	/* £ (C2 A3) and € (E2 82 AC) in UTF-8 */
	if (k >= 2 && (unsigned char)text[k - 2] == 0xC2 &&
	    (unsigned char)text[k - 1] == 0xA3)
		return true;
	if (k >= 3 && (unsigned char)text[k - 3] == 0xE2 &&
	    (unsigned char)text[k - 2] == 0x82 &&
	    (unsigned char)text[k - 1] == 0xAC)
		return true;
	return false;
}

/* Whether `s` starts with an ordinal or time suffix that ends the word
 * ("2nd", "21st", "10am"): such numbers are read as numbers. */
static bool is_suffix(const char *s)
{
	static const char *const suffixes[] = { "st", "nd", "rd", "th", "am", "pm", NULL };

	for (const char *const *p = suffixes; *p; p++)
		if (lower(s[0]) == (*p)[0] && lower(s[1]) == (*p)[1] && !is_alnum(s[2]))
			return true;
	return false;
}

vagent_status vagent_flite_normalize(const char *text, int spell_digits_min,
				     char **out, struct vagent_error *err)
{
	struct vagent__strbuf b = { 0 };
	size_t i = 0;

	if (!out)
		return vagent__error_set(err, VAGENT_EINVAL, "flite", "no output pointer");
	*out = NULL;
	if (!text)
		return vagent__error_set(err, VAGENT_EINVAL, "flite", "no text");
	if (spell_digits_min < 0)
		return vagent__error_set(err, VAGENT_EINVAL, "flite",
					 "spell_digits_min: must be >= 0 (got %d)",
					 spell_digits_min);
	if (spell_digits_min == 0) {
		*out = strdup(text);
		return *out ? VAGENT_OK :
		       vagent__error_set(err, VAGENT_ENOMEM, "flite", "out of memory");
	}
	vagent__strbuf_puts(&b, "");
	while (text[i]) {
		size_t j, len;
		bool hash, hyphen, attached, spell;

		if (text[i] == '#' && is_digit(text[i + 1])) {
			if (b.len && is_alnum(b.p[b.len - 1]))
				vagent__strbuf_puts(&b, " ");
			vagent__strbuf_puts(&b, "number ");
			i++;
			continue;
		}
		if (!is_digit(text[i])) {
			vagent__strbuf_put(&b, text + i, 1);
			i++;
			continue;
		}
		for (j = i; is_digit(text[j]); j++)
			;
		len = j - i;
		hash = i > 0 && text[i - 1] == '#';
		hyphen = i >= 2 && text[i - 1] == '-' && is_alpha(text[i - 2]);
		attached = (i > 0 && is_alpha(text[i - 1])) ||
			   (is_alpha(text[j]) && !is_suffix(text + j));
		spell = !is_amount(text, i, j) &&
			((int)len >= spell_digits_min ||
			 (len >= 2 && (hash || hyphen || attached ||
				       after_id_word(text, i))));
		if (!spell) {
			vagent__strbuf_put(&b, text + i, len);
			i = j;
			continue;
		}
		if (hyphen && b.len && b.p[b.len - 1] == '-')
			b.p[b.len - 1] = ' ';
		else if (b.len && is_alnum(b.p[b.len - 1]))
			vagent__strbuf_puts(&b, " ");
		for (size_t k = i; k < j; k++) {
			if (k > i)
				vagent__strbuf_puts(&b, " ");
			vagent__strbuf_put(&b, text + k, 1);
		}
		if (is_alnum(text[j]))
			vagent__strbuf_puts(&b, " ");
		i = j;
	}
	*out = vagent__strbuf_detach(&b);
	if (!*out)
		return vagent__error_set(err, VAGENT_ENOMEM, "flite", "out of memory");
	return VAGENT_OK;
}
