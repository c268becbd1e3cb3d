/*
 * numbers.c — spoken numbers for the slot extractors: the slot tokenizer
 * (keeps "$49.50", "3/14", "2,500" whole, splits "twenty-one"), number
 * words, cardinal phrases ("one hundred and five", "a thousand"), digit
 * runs as people say them ("four fifty six", "double seven", "oh") and
 * ordinals ("third", "twenty first", "3rd").
 */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "nlu/nlu_int.h"

/* ---- slot tokenizer */

static bool all_digits(const char *s)
{
	if (!*s)
		return false;
	for (; *s; s++)
		if (!isdigit((unsigned char)*s))
			return false;
	return true;
}

static bool any_digit(const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (isdigit((unsigned char)s[i]))
			return true;
	return false;
}

/* Digits, maybe split by dashes or dots: "456", "555-1234", "1.2.3". */
static bool digit_token(const char *w)
{
	bool digit = false;

	for (; *w; w++) {
		if (isdigit((unsigned char)*w))
			digit = true;
		else if (*w != '-' && *w != '.')
			return false;
	}
	return digit;
}

bool vagent__slot_tokenize(const char *text, struct vagent__nlu_tokens *out)
{
	const char *p = text;

	while (p && *p) {
		const char *s;
		size_t n;

		/* A raw token: anything but spaces and sentence punctuation
		 * that cannot be inside a number. */
		while (*p && (isspace((unsigned char)*p) || strchr("!?;\"()[]{}<>*#&+=|~_", *p)))
			p++;
		s = p;
		while (*p && !isspace((unsigned char)*p) && !strchr("!?;\"()[]{}<>*#&+=|~_", *p))
			p++;
		n = (size_t)(p - s);
		/* Trailing punctuation: "5.", "tomorrow," "yes." */
		while (n && strchr(".,:-'", s[n - 1]))
			n--;
		while (n && strchr(".,:-'", s[0]))
			s++, n--;
		if (!n)
			continue;
		if (s[0] == '$') {
			if (!vagent__nlu_tokens_push(out, "$", 1))
				return false;
			s++, n--;
			if (!n)
				continue;
		}
		if (any_digit(s, n)) {
			/* "49.50", "2,500", "3/14", "2026-12-05", "3rd", "5pm":
			 * whole, lower-cased; a trailing "$" ("50$") dropped. */
			char buf[VAGENT__NLU_WORD_MAX];
			size_t k = 0;

			for (size_t i = 0; i < n && k + 1 < sizeof buf; i++)
				if (s[i] != '$')
					buf[k++] = (char)tolower((unsigned char)s[i]);
			if (!vagent__nlu_tokens_push(out, buf, k))
				return false;
			continue;
		}
		/* Words: the matching tokenizer (contractions, hyphens and
		 * other punctuation as separators). */
		char word[VAGENT__NLU_WORD_MAX * 2];

		if (n >= sizeof word)
			n = sizeof word - 1;
		memcpy(word, s, n);
		word[n] = '\0';
		if (!vagent__nlu_tokenize(word, out))
			return false;
	}
	return true;
}

/* ---- number words */

static const struct numword {
	const char *word;
	enum vagent__num_kind kind;
	unsigned value;
} numwords[] = {
	{ "zero", NUM_UNIT, 0 }, { "nought", NUM_UNIT, 0 }, { "naught", NUM_UNIT, 0 },
	{ "oh", NUM_OH, 0 }, { "o", NUM_OH, 0 },
	{ "one", NUM_UNIT, 1 }, { "two", NUM_UNIT, 2 }, { "three", NUM_UNIT, 3 },
	{ "four", NUM_UNIT, 4 }, { "five", NUM_UNIT, 5 }, { "six", NUM_UNIT, 6 },
	{ "seven", NUM_UNIT, 7 }, { "eight", NUM_UNIT, 8 }, { "nine", NUM_UNIT, 9 },
	{ "ten", NUM_TEEN, 10 }, { "eleven", NUM_TEEN, 11 }, { "twelve", NUM_TEEN, 12 },
	{ "thirteen", NUM_TEEN, 13 }, { "fourteen", NUM_TEEN, 14 },
	{ "fifteen", NUM_TEEN, 15 }, { "sixteen", NUM_TEEN, 16 },
	{ "seventeen", NUM_TEEN, 17 }, { "eighteen", NUM_TEEN, 18 },
	{ "nineteen", NUM_TEEN, 19 },
	{ "twenty", NUM_TENS, 20 }, { "thirty", NUM_TENS, 30 }, { "forty", NUM_TENS, 40 },
	{ "fourty", NUM_TENS, 40 }, { "fifty", NUM_TENS, 50 }, { "sixty", NUM_TENS, 60 },
	{ "seventy", NUM_TENS, 70 }, { "eighty", NUM_TENS, 80 }, { "ninety", NUM_TENS, 90 },
	{ "hundred", NUM_HUNDRED, 100 },
	{ "thousand", NUM_SCALE, 1000 }, { "million", NUM_SCALE, 1000000 },
	{ "billion", NUM_SCALE, 1000000000 },
	/* Words a recogniser writes for a digit: only taken as one between
	 * two other digits ("four to six" → 426). */
	{ "to", NUM_HOMOPHONE, 2 }, { "too", NUM_HOMOPHONE, 2 },
	{ "for", NUM_HOMOPHONE, 4 }, { "fore", NUM_HOMOPHONE, 4 },
	{ "won", NUM_HOMOPHONE, 1 }, { "want", NUM_HOMOPHONE, 1 },
	{ "ate", NUM_HOMOPHONE, 8 },
	{ "tree", NUM_HOMOPHONE, 3 }, { "free", NUM_HOMOPHONE, 3 },
	{ "sex", NUM_HOMOPHONE, 6 }, { "nein", NUM_HOMOPHONE, 9 },
};

enum vagent__num_kind vagent__num_word(const char *w, unsigned *value)
{
	for (size_t i = 0; i < VAGENT__ARRAY_SIZE(numwords); i++) {
		if (!strcmp(w, numwords[i].word)) {
			if (value)
				*value = numwords[i].value;
			return numwords[i].kind;
		}
	}
	if (all_digits(w)) {
		if (value)
			*value = strlen(w) < 10 ? (unsigned)strtoul(w, NULL, 10) : 0;
		return NUM_NUMERAL;
	}
	return NUM_NONE;
}

bool vagent__num_is_filler(const char *w)
{
	static const char *const fillers[] = {
		"um", "umm", "uh", "uhh", "er", "erm", "ah", "hmm", "mm",
		"dash", "hyphen", "space",
	};

	for (size_t i = 0; i < VAGENT__ARRAY_SIZE(fillers); i++)
		if (!strcmp(w, fillers[i]))
			return true;
	return false;
}

/* A numeral with thousands separators: "2,500", "1,000,000". */
static bool grouped_numeral(const char *w, uint64_t *value)
{
	size_t n = strlen(w), group = 0, groups = 0;
	uint64_t v = 0;

	for (size_t i = 0; i <= n; i++) {
		if (i == n || w[i] == ',') {
			if (group == 0 || group > 3 || (groups && group != 3))
				return false;
			groups++;
			group = 0;
			continue;
		}
		if (!isdigit((unsigned char)w[i]) || v > UINT64_MAX / 100)
			return false;
		v = v * 10 + (uint64_t)(w[i] - '0');
		group++;
	}
	if (groups < 2)
		return false;
	*value = v;
	return true;
}

bool vagent__num_numeral(const char *w, uint64_t *value)
{
	uint64_t v = 0;

	if (grouped_numeral(w, value))
		return true;
	if (!all_digits(w) || strlen(w) > 15)
		return false;
	for (; *w; w++)
		v = v * 10 + (uint64_t)(*w - '0');
	*value = v;
	return true;
}

bool vagent__num_cardinal(const struct vagent__nlu_tokens *t, size_t i,
			  struct vagent__num_phrase *out)
{
	enum { L_NONE, L_UNIT, L_TEEN, L_TENS, L_HUNDRED, L_SCALE, L_AND, L_NUMERAL } last = L_NONE;
	uint64_t total = 0, group = 0, last_scale = UINT64_MAX;
	bool group_hundred = false, any = false;
	size_t j = i;

	memset(out, 0, sizeof *out);
	while (j < t->n) {
		const char *w = t->v[j].word;
		const char *next = j + 1 < t->n ? t->v[j + 1].word : "";
		unsigned v = 0;
		uint64_t nv = 0;
		enum vagent__num_kind k = vagent__num_word(w, &v);
		enum vagent__num_kind nk = vagent__num_word(next, NULL);

		if (!strcmp(w, "a") && !any && (nk == NUM_HUNDRED || nk == NUM_SCALE)) {
			group = 1;
			last = L_UNIT;
			any = true;
			j++;
			continue;
		}
		if (!strcmp(w, "and") && (last == L_HUNDRED || last == L_SCALE) &&
		    (nk == NUM_UNIT || nk == NUM_TEEN || nk == NUM_TENS)) {
			last = L_AND;
			j++;
			continue;
		}
		bool opener = last == L_NONE || last == L_HUNDRED ||
			      last == L_SCALE || last == L_AND;

		if (k == NUM_UNIT) {
			if (v == 0) {
				if (last != L_NONE)
					break;
				any = true;
				j++;
				break;          /* "zero" stands alone */
			}
			if (!(opener || (last == L_TENS && group % 10 == 0)))
				break;
			group += v;
			last = L_UNIT;
		} else if (k == NUM_TEEN || k == NUM_TENS) {
			if (!opener)
				break;
			group += v;
			last = k == NUM_TEEN ? L_TEEN : L_TENS;
		} else if (k == NUM_HUNDRED) {
			if (!(last == L_UNIT || last == L_TEEN || last == L_TENS ||
			      last == L_NUMERAL) ||
			    group == 0 || group > 99 || group_hundred)
				break;
			group *= 100;
			group_hundred = true;
			last = L_HUNDRED;
		} else if (k == NUM_SCALE) {
			if (!any || last == L_AND || last == L_SCALE || group == 0 ||
			    v >= last_scale || group > 999)
				break;
			total += group * v;
			group = 0;
			group_hundred = false;
			last_scale = v;
			last = L_SCALE;
		} else if (last == L_NONE && vagent__num_numeral(w, &nv) &&
			   !strchr(w, ',')) {
			group = nv;
			last = L_NUMERAL;
			if (nv > 999) {
				any = true;
				j++;
				break;
			}
		} else if (last == L_NONE && vagent__num_numeral(w, &nv)) {
			group = nv;            /* "2,500" stands alone */
			any = true;
			j++;
			break;
		} else {
			break;
		}
		any = true;
		j++;
	}
	if (!any)
		return false;
	if (last == L_AND)
		j--;
	out->start = i;
	out->end = j;
	out->value = total + group;
	return true;
}

/* Append the digits of one spoken group at t[i] to `buf`: a digit word,
 * a numeral, or a cardinal ("fifty six", "four hundred and five"). */
static size_t digit_group(const struct vagent__nlu_tokens *t, size_t i,
			  char *buf, size_t *len, size_t cap)
{
	const char *w = t->v[i].word;
	unsigned v = 0;
	enum vagent__num_kind k = vagent__num_word(w, &v);
	struct vagent__num_phrase c;
	char tmp[32];
	size_t n;

	if (k == NUM_OH || (k == NUM_UNIT && v == 0)) {
		tmp[0] = '0';
		n = 1;
		i++;
	} else if (digit_token(w)) {
		/* "456", "555-1234": the digits */
		n = 0;
		for (const char *p = w; *p && n + 1 < sizeof tmp; p++)
			if (isdigit((unsigned char)*p))
				tmp[n++] = *p;
		i++;
	} else if (vagent__num_cardinal(t, i, &c)) {
		/* A lone unit: one digit; "four fifty six" parses as 4, 56. */
		n = (size_t)snprintf(tmp, sizeof tmp, "%llu", (unsigned long long)c.value);
		i = c.end;
	} else {
		return i;
	}
	for (size_t q = 0; q < n && *len + 1 < cap; q++)
		buf[(*len)++] = tmp[q];
	buf[*len] = '\0';
	return i;
}

static bool is_digit_start(const struct vagent__nlu_tokens *t, size_t i)
{
	const char *w = t->v[i].word;
	unsigned v;
	enum vagent__num_kind k = vagent__num_word(w, &v);

	if (k == NUM_UNIT || k == NUM_TEEN || k == NUM_TENS || k == NUM_OH)
		return true;
	if (digit_token(w))
		return true;
	if ((!strcmp(w, "double") || !strcmp(w, "triple")) && i + 1 < t->n) {
		k = vagent__num_word(t->v[i + 1].word, &v);
		return k == NUM_UNIT || k == NUM_OH ||
		       (all_digits(t->v[i + 1].word) && strlen(t->v[i + 1].word) == 1);
	}
	if (!strcmp(w, "a") && i + 1 < t->n)
		return vagent__num_word(t->v[i + 1].word, NULL) == NUM_HUNDRED;
	return false;
}

/* Leniently, a run may start with one or two homophones before a digit:
 * "for five six", "want to three four five" (pocketsphinx on "one two
 * three four five"). */
static bool homophone_start(const struct vagent__nlu_tokens *t, size_t i)
{
	if (i + 1 >= t->n || vagent__num_word(t->v[i].word, NULL) != NUM_HOMOPHONE)
		return false;
	if (is_digit_start(t, i + 1))
		return true;
	return i + 2 < t->n && vagent__num_word(t->v[i + 1].word, NULL) == NUM_HOMOPHONE &&
	       is_digit_start(t, i + 2);
}

size_t vagent__num_digit_run(const struct vagent__nlu_tokens *t, size_t i,
			     char *buf, size_t cap, bool lenient)
{
	size_t len = 0;

	buf[0] = '\0';
	while (i < t->n) {
		const char *w = t->v[i].word;
		unsigned v = 0;
		enum vagent__num_kind k = vagent__num_word(w, &v);

		if (!strcmp(w, "double") || !strcmp(w, "triple")) {
			if (!is_digit_start(t, i))
				break;
			size_t before = len, reps = w[0] == 'd' ? 2 : 3;

			i = digit_group(t, i + 1, buf, &len, cap);
			for (size_t r = 1; r < reps && len + 1 < cap && len > before; r++)
				buf[len++] = buf[before];
			buf[len] = '\0';
			continue;
		}
		if (is_digit_start(t, i)) {
			/* "o" alone is a letter more often than zero: only
			 * inside a run or before another digit. */
			if (k == NUM_OH && !len &&
			    !(i + 1 < t->n && is_digit_start(t, i + 1)))
				break;
			i = digit_group(t, i, buf, &len, cap);
			continue;
		}
		/* A homophone between two digits; leniently also at either
		 * end of the run ("for five six seven eight"). */
		if (k == NUM_HOMOPHONE && len + 1 < cap &&
		    ((len && i + 1 < t->n && is_digit_start(t, i + 1)) ||
		     (lenient && (len || homophone_start(t, i))))) {
			buf[len++] = (char)('0' + v);
			buf[len] = '\0';
			i++;
			continue;
		}
		if (len && vagent__num_is_filler(w)) {
			size_t j = i;

			while (j < t->n && vagent__num_is_filler(t->v[j].word))
				j++;
			if (j < t->n && is_digit_start(t, j)) {
				i = j;
				continue;
			}
		}
		break;
	}
	return i;
}

bool vagent__num_digit_start(const struct vagent__nlu_tokens *t, size_t i,
			     bool lenient)
{
	if (is_digit_start(t, i))
		return true;
	return lenient && homophone_start(t, i);
}

/* ---- ordinals */

static const struct { const char *word; unsigned value; } ordinals[] = {
	{ "first", 1 }, { "second", 2 }, { "third", 3 }, { "fourth", 4 },
	{ "fifth", 5 }, { "sixth", 6 }, { "seventh", 7 }, { "eighth", 8 },
	{ "ninth", 9 }, { "tenth", 10 }, { "eleventh", 11 }, { "twelfth", 12 },
	{ "thirteenth", 13 }, { "fourteenth", 14 }, { "fifteenth", 15 },
	{ "sixteenth", 16 }, { "seventeenth", 17 }, { "eighteenth", 18 },
	{ "nineteenth", 19 }, { "twentieth", 20 }, { "thirtieth", 30 },
	/* Recognisers' spellings. */
	{ "forth", 4 }, { "fith", 5 }, { "eigth", 8 }, { "nineth", 9 },
	{ "twelveth", 12 },
};

unsigned vagent__num_ordinal_word(const char *w)
{
	for (size_t i = 0; i < VAGENT__ARRAY_SIZE(ordinals); i++)
		if (!strcmp(w, ordinals[i].word))
			return ordinals[i].value;
	return 0;
}

bool vagent__num_ordinal(const struct vagent__nlu_tokens *t, size_t i,
			 bool allow_cardinal, unsigned *value, size_t *end)
{
	const char *w;
	unsigned v = 0, o;

	if (i >= t->n)
		return false;
	w = t->v[i].word;
	/* "3rd", "21st", "14th", "2nd" */
	{
		char *rest;
		unsigned long n = strtoul(w, &rest, 10);

		if (isdigit((unsigned char)w[0]) && n >= 1 && n <= 999 &&
		    (!strcmp(rest, "st") || !strcmp(rest, "nd") ||
		     !strcmp(rest, "rd") || !strcmp(rest, "th"))) {
			*value = (unsigned)n;
			*end = i + 1;
			return true;
		}
		if (allow_cardinal && isdigit((unsigned char)w[0]) && !*rest &&
		    n >= 1 && n <= 999) {
			*value = (unsigned)n;
			*end = i + 1;
			return true;
		}
	}
	if ((o = vagent__num_ordinal_word(w))) {
		*value = o;
		*end = i + 1;
		return true;
	}
	if (vagent__num_word(w, &v) == NUM_TENS && i + 1 < t->n) {
		const char *nx = t->v[i + 1].word;

		o = vagent__num_ordinal_word(nx);
		if (o >= 1 && o <= 9) {
			*value = v + o;
			*end = i + 2;
			return true;
		}
	}
	if (allow_cardinal) {
		struct vagent__num_phrase c;
		enum vagent__num_kind k = vagent__num_word(w, NULL);

		if ((k == NUM_UNIT || k == NUM_TEEN || k == NUM_TENS) &&
		    vagent__num_cardinal(t, i, &c) && c.value >= 1 && c.value <= 999) {
			*value = (unsigned)c.value;
			*end = c.end;
			return true;
		}
	}
	return false;
}
