/*
 * normalize.c — text normalizers for WER: none (whitespace only), basic
 * (case fold, punctuation) and english (numbers, contractions, fillers), in
 * the spirit of Whisper's BasicTextNormalizer and EnglishTextNormalizer.
 */
#include <stdlib.h>
#include <string.h>
#include <stdio.h>

#include "wer/wer_int.h"

static const char *const normalizer_names[] = { "none", "basic", "english" };

vagent_status vagent_text_normalizer_from_name(const char *name, vagent_text_normalizer *out)
{
	for (size_t i = 0; i < VAGENT__ARRAY_SIZE(normalizer_names); i++) {
		if (name && !strcmp(name, normalizer_names[i])) {
			*out = (vagent_text_normalizer)i;
			return VAGENT_OK;
		}
	}
	return VAGENT_EINVAL;
}

const char *vagent_text_normalizer_name(vagent_text_normalizer n)
{
	if ((size_t)n < VAGENT__ARRAY_SIZE(normalizer_names))
		return normalizer_names[n];
	return "unknown";
}

static void out_str(struct vagent__strbuf *o, const char *s)
{
	vagent__strbuf_put(o, s, strlen(s));
}

static void out_cp(struct vagent__strbuf *o, uint32_t c)
{
	char b[4];
	size_t n;

	if (c < 0x80) {
		b[0] = (char)c;
		n = 1;
	} else if (c < 0x800) {
		b[0] = (char)(0xc0 | (c >> 6));
		b[1] = (char)(0x80 | (c & 0x3f));
		n = 2;
	} else if (c < 0x10000) {
		b[0] = (char)(0xe0 | (c >> 12));
		b[1] = (char)(0x80 | ((c >> 6) & 0x3f));
		b[2] = (char)(0x80 | (c & 0x3f));
		n = 3;
	} else {
		b[0] = (char)(0xf0 | (c >> 18));
		b[1] = (char)(0x80 | ((c >> 12) & 0x3f));
		b[2] = (char)(0x80 | ((c >> 6) & 0x3f));
		b[3] = (char)(0x80 | (c & 0x3f));
		n = 4;
	}
	vagent__strbuf_put(o, b, n);
}

/* A space unless the output is empty or already ends in one. */
static void out_space(struct vagent__strbuf *o)
{
	if (o->len && o->p[o->len - 1] != ' ')
		vagent__strbuf_put(o, " ", 1);
}

static char *out_finish(struct vagent__strbuf *o)
{
	vagent__strbuf_rtrim(o, ' ');
	return vagent__strbuf_detach(o);
}

static int is_ws_cp(uint32_t c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' || c == '\f' ||
	       c == 0xa0 || (c >= 0x2000 && c <= 0x200b) || c == 0x202f || c == 0x205f ||
	       c == 0x3000 || c == 0x85;
}

/* none: tokens as given, whitespace collapsed. */
static char *normalize_none(const char *text)
{
	struct vagent__strbuf o = { 0 };
	const char *p = text;

	while (*p) {
		size_t n = 0;
		while (*p == ' ' || *p == '\t' || *p == '\n' || *p == '\r' || *p == '\v' || *p == '\f')
			p++;
		while (p[n] && !(p[n] == ' ' || p[n] == '\t' || p[n] == '\n' || p[n] == '\r' ||
				 p[n] == '\v' || p[n] == '\f'))
			n++;
		if (n) {
			out_space(&o);
			vagent__strbuf_put(&o, p, n);
		}
		p += n;
	}
	return out_finish(&o);
}

/* Lower case for Latin, Greek and Cyrillic: what "case fold where
 * reasonable" means here (no locale tables, no special casing). */
static uint32_t fold(uint32_t c)
{
	if (c >= 'A' && c <= 'Z')
		return c + 32;
	if (c < 0xc0)
		return c;
	if (c <= 0xde && c != 0xd7)
		return c + 32;
	if (c >= 0x100 && c <= 0x137)
		return c == 0x130 ? 'i' : (c | 1) == c ? c : c + 1;
	if (c >= 0x139 && c <= 0x148)
		return (c & 1) ? c + 1 : c;
	if (c >= 0x14a && c <= 0x177)
		return (c & 1) ? c : c + 1;
	if (c == 0x178)
		return 0xff;
	if (c >= 0x179 && c <= 0x17e)
		return (c & 1) ? c + 1 : c;
	if (c >= 0x391 && c <= 0x3a9 && c != 0x3a2)
		return c + 32;
	if (c >= 0x410 && c <= 0x42f)
		return c + 32;
	if (c >= 0x400 && c <= 0x40f)
		return c + 80;
	return c;
}

static int is_digit_cp(uint32_t c)
{
	return c >= '0' && c <= '9';
}

static int is_apostrophe(uint32_t c)
{
	return c == '\'' || c == 0x2019 || c == 0x2018 || c == 0x2bc;
}

/* Punctuation and symbols: become word separators. */
static int is_punct_cp(uint32_t c)
{
	if (c < 0x80)
		return (c >= 0x21 && c <= 0x2f) || (c >= 0x3a && c <= 0x40) ||
		       (c >= 0x5b && c <= 0x60) || (c >= 0x7b && c <= 0x7e);
	return (c >= 0xa1 && c <= 0xbf && c != 0xaa && c != 0xb5 && c != 0xba) ||
	       c == 0xd7 || c == 0xf7 ||
	       (c >= 0x2010 && c <= 0x2027) || (c >= 0x2030 && c <= 0x205e) ||
	       (c >= 0x20a0 && c <= 0x20cf) || (c >= 0x2100 && c <= 0x2bff) ||
	       (c >= 0x3001 && c <= 0x303f) || (c >= 0xfe10 && c <= 0xfe6f) ||
	       (c >= 0xff01 && c <= 0xff0f) || (c >= 0xff1a && c <= 0xff20) ||
	       (c >= 0x1f000 && c <= 0x1faff);
}

/* Decode text into code points; invalid bytes become U+FFFD-like
 * pass-through markers (we keep the raw byte as a code point above
 * 0x110000 so it is re-emitted unchanged). */
#define RAW_BYTE 0x200000u

static uint32_t *decode_all(const char *text, size_t *count)
{
	size_t len = strlen(text), n = 0;
	uint32_t *cps = malloc((len + 1) * sizeof(*cps));
	const unsigned char *p = (const unsigned char *)text;

	if (!cps)
		return NULL;
	for (size_t i = 0; i < len;) {
		uint32_t c;
		size_t k = vagent__utf8_decode(p + i, len - i, &c);
		if (k == 0) {
			c = RAW_BYTE | p[i];
			k = 1;
		}
		cps[n++] = c;
		i += k;
	}
	*count = n;
	return cps;
}

static int is_word_cp(uint32_t c)
{
	return c < RAW_BYTE && !is_ws_cp(c) && !is_punct_cp(c) && !is_apostrophe(c);
}

/*
 * basic: drop [bracketed] and <angled> markup, case fold, keep apostrophes
 * inside words and '.'/',' between digits, every other punctuation mark or
 * symbol separates words. With `symbols`, '%', '$' and '&' are kept as
 * tokens of their own for the english normalizer.
 */
static char *normalize_basic(const char *text, int symbols)
{
	struct vagent__strbuf o = { 0 };
	size_t n = 0;
	uint32_t *c = decode_all(text, &n);

	if (!c)
		return NULL;
	for (size_t i = 0; i < n; i++) {
		uint32_t ch = c[i];
		uint32_t prev = i ? c[i - 1] : ' ', next = i + 1 < n ? c[i + 1] : ' ';

		if (ch == '[' || ch == '<') {
			uint32_t close = ch == '[' ? ']' : '>';
			size_t j = i + 1;
			while (j < n && c[j] != close && c[j] != '[' && c[j] != '<')
				j++;
			if (j < n && c[j] == close) {
				out_space(&o);
				i = j;
				continue;
			}
		}
		if (ch >= RAW_BYTE) {
			char b = (char)(ch & 0xff);
			vagent__strbuf_put(&o, &b, 1);
		} else if (is_ws_cp(ch)) {
			out_space(&o);
		} else if (is_apostrophe(ch)) {
			if (is_word_cp(prev) && is_word_cp(next) && o.len && o.p[o.len - 1] != ' ')
				vagent__strbuf_put(&o, "'", 1);
			else
				out_space(&o);
		} else if ((ch == '.' || ch == ',') && is_digit_cp(prev) && is_digit_cp(next)) {
			vagent__strbuf_put(&o, (const char *)&(char){ (char)ch }, 1);
		} else if (symbols && (ch == '%' || ch == '$' || ch == '&')) {
			out_space(&o);
			vagent__strbuf_put(&o, (const char *)&(char){ (char)ch }, 1);
			out_space(&o);
		} else if (is_punct_cp(ch)) {
			out_space(&o);
		} else {
			out_cp(&o, fold(ch));
		}
	}
	free(c);
	return out_finish(&o);
}

/* ------------------------------------------------------------------ */
/* english */

static const struct {
	const char *from, *to;
} whole_words[] = {
	/* Irregular contractions first; the regular ones are suffix rules. */
	{ "won't", "will not" }, { "can't", "can not" }, { "cannot", "can not" },
	{ "shan't", "shall not" }, { "let's", "let us" }, { "ain't", "is not" },
	{ "y'all", "you all" }, { "gonna", "going to" }, { "wanna", "want to" },
	{ "gotta", "got to" },
	/* 's after these is "is"; elsewhere it is a possessive and stays. */
	{ "it's", "it is" }, { "that's", "that is" }, { "what's", "what is" },
	{ "there's", "there is" }, { "here's", "here is" }, { "he's", "he is" },
	{ "she's", "she is" }, { "where's", "where is" }, { "who's", "who is" },
	{ "how's", "how is" },
	/* Titles and spellings. */
	{ "mr", "mister" }, { "mrs", "missus" }, { "dr", "doctor" },
	{ "ok", "okay" },
};

static const struct {
	const char *suffix, *to;
} suffixes[] = {
	{ "n't", "not" }, { "'re", "are" }, { "'ve", "have" }, { "'ll", "will" },
	{ "'m", "am" }, { "'d", "would" },
};

static const char *const fillers[] = {
	"uh", "uhh", "uhm", "um", "umm", "hmm", "hm", "hmmm", "mm", "mmm", "mhm",
	"er", "erm", "ah", "ahh", "eh",
};

enum { NUM_NONE, NUM_ZERO, NUM_ONES, NUM_TEENS, NUM_TENS, NUM_HUNDRED, NUM_SCALE };

static const struct numword {
	const char *w;
	int kind;
	unsigned long long val;
	int ordinal;
} numwords[] = {
	{ "zero", NUM_ZERO, 0, 0 },
	{ "one", NUM_ONES, 1, 0 }, { "two", NUM_ONES, 2, 0 }, { "three", NUM_ONES, 3, 0 },
	{ "four", NUM_ONES, 4, 0 }, { "five", NUM_ONES, 5, 0 }, { "six", NUM_ONES, 6, 0 },
	{ "seven", NUM_ONES, 7, 0 }, { "eight", NUM_ONES, 8, 0 }, { "nine", NUM_ONES, 9, 0 },
	{ "ten", NUM_TEENS, 10, 0 }, { "eleven", NUM_TEENS, 11, 0 }, { "twelve", NUM_TEENS, 12, 0 },
	{ "thirteen", NUM_TEENS, 13, 0 }, { "fourteen", NUM_TEENS, 14, 0 },
	{ "fifteen", NUM_TEENS, 15, 0 }, { "sixteen", NUM_TEENS, 16, 0 },
	{ "seventeen", NUM_TEENS, 17, 0 }, { "eighteen", NUM_TEENS, 18, 0 },
	{ "nineteen", NUM_TEENS, 19, 0 },
	{ "twenty", NUM_TENS, 20, 0 }, { "thirty", NUM_TENS, 30, 0 }, { "forty", NUM_TENS, 40, 0 },
	{ "fifty", NUM_TENS, 50, 0 }, { "sixty", NUM_TENS, 60, 0 }, { "seventy", NUM_TENS, 70, 0 },
	{ "eighty", NUM_TENS, 80, 0 }, { "ninety", NUM_TENS, 90, 0 },
	{ "hundred", NUM_HUNDRED, 100, 0 },
	{ "thousand", NUM_SCALE, 1000ull, 0 }, { "million", NUM_SCALE, 1000000ull, 0 },
	{ "billion", NUM_SCALE, 1000000000ull, 0 }, { "trillion", NUM_SCALE, 1000000000000ull, 0 },
	{ "zeroth", NUM_ZERO, 0, 1 },
	{ "first", NUM_ONES, 1, 1 }, { "second", NUM_ONES, 2, 1 }, { "third", NUM_ONES, 3, 1 },
	{ "fourth", NUM_ONES, 4, 1 }, { "fifth", NUM_ONES, 5, 1 }, { "sixth", NUM_ONES, 6, 1 },
	{ "seventh", NUM_ONES, 7, 1 }, { "eighth", NUM_ONES, 8, 1 }, { "ninth", NUM_ONES, 9, 1 },
	{ "tenth", NUM_TEENS, 10, 1 }, { "eleventh", NUM_TEENS, 11, 1 },
	{ "twelfth", NUM_TEENS, 12, 1 }, { "thirteenth", NUM_TEENS, 13, 1 },
	{ "fourteenth", NUM_TEENS, 14, 1 }, { "fifteenth", NUM_TEENS, 15, 1 },
	{ "sixteenth", NUM_TEENS, 16, 1 }, { "seventeenth", NUM_TEENS, 17, 1 },
	{ "eighteenth", NUM_TEENS, 18, 1 }, { "nineteenth", NUM_TEENS, 19, 1 },
	{ "twentieth", NUM_TENS, 20, 1 }, { "thirtieth", NUM_TENS, 30, 1 },
	{ "fortieth", NUM_TENS, 40, 1 }, { "fiftieth", NUM_TENS, 50, 1 },
	{ "sixtieth", NUM_TENS, 60, 1 }, { "seventieth", NUM_TENS, 70, 1 },
	{ "eightieth", NUM_TENS, 80, 1 }, { "ninetieth", NUM_TENS, 90, 1 },
	{ "hundredth", NUM_HUNDRED, 100, 1 }, { "thousandth", NUM_SCALE, 1000ull, 1 },
	{ "millionth", NUM_SCALE, 1000000ull, 1 }, { "billionth", NUM_SCALE, 1000000000ull, 1 },
};

static const struct numword *numword(const char *w)
{
	for (size_t i = 0; i < VAGENT__ARRAY_SIZE(numwords); i++)
		if (!strcmp(w, numwords[i].w))
			return &numwords[i];
	return NULL;
}

/* The NUM_* kind of a word, NUM_NONE when it is not a number word. */
static int word_kind(const char *w)
{
	const struct numword *nw = numword(w);

	return nw ? nw->kind : NUM_NONE;
}

/* A parsed number phrase: tokens [start, end). */
struct number {
	size_t end;
	unsigned long long value;
	int ordinal;
	int two_digit;       /* 10..99 said as one chunk ("nineteen", "eighty four") */
	char decimals[32];   /* digits after "point" */
};

/*
 * Parse the longest number phrase at toks[i]: "one hundred and five",
 * "twenty first", "three point one four", "a thousand". Returns 0 when
 * toks[i] does not start one.
 */
static int parse_number(char **toks, size_t n, size_t i, struct number *num)
{
	unsigned long long total = 0, group = 0, last_scale = ~0ull;
	int last = NUM_NONE, first_kind = NUM_NONE, hundreds = 0;
	size_t j = i, group_start = i, after_hundred = i;
	unsigned long long group_at_hundred = 0;

	memset(num, 0, sizeof(*num));
	for (; j < n; j++) {
		const struct numword *w = numword(toks[j]);
		int kind;
		unsigned long long val;

		/* "a hundred", "a thousand" */
		if (!w && j == i && !strcmp(toks[j], "a") && j + 1 < n) {
			const struct numword *nx = numword(toks[j + 1]);
			if (nx && (nx->kind == NUM_HUNDRED || nx->kind == NUM_SCALE) && !nx->ordinal) {
				group = 1;
				last = NUM_ONES;
				first_kind = NUM_ONES;
				continue;
			}
		}
		/* "and" inside a number: "one hundred and five". */
		if (!w && !strcmp(toks[j], "and") && (last == NUM_HUNDRED || last == NUM_SCALE) &&
		    j + 1 < n) {
			const struct numword *nx = numword(toks[j + 1]);
			if (nx && (nx->kind == NUM_ONES || nx->kind == NUM_TEENS || nx->kind == NUM_TENS))
				continue;
			break;
		}
		if (!w)
			break;
		kind = w->kind;
		val = w->val;
		if (kind == NUM_ZERO) {
			if (last != NUM_NONE)
				break;
		} else if (kind == NUM_ONES) {
			if (!(last == NUM_NONE || last == NUM_HUNDRED || last == NUM_SCALE ||
			      (last == NUM_TENS && group % 10 == 0)))
				break;
			group += val;
		} else if (kind == NUM_TEENS || kind == NUM_TENS) {
			if (!(last == NUM_NONE || last == NUM_HUNDRED || last == NUM_SCALE))
				break;
			group += val;
		} else if (kind == NUM_HUNDRED) {
			if (last == NUM_NONE)
				group = 1;  /* "hundred", "hundredth" alone */
			if (hundreds || group == 0 || group > 99) {
				/* "one hundred one hundred": the second group is a
				 * number of its own. */
				if (hundreds && j > after_hundred) {
					j = after_hundred;
					group = group_at_hundred;
				} else if (group && group_start > i) {
					j = group_start;
					group = 0;
					hundreds = 0;
				}
				break;
			}
			group *= 100;
			hundreds = 1;
			after_hundred = j + 1;
			group_at_hundred = group;
		} else { /* NUM_SCALE */
			if (last == NUM_NONE)
				group = 1;  /* "thousand", "millionth" alone */
			if (group == 0 || val >= last_scale) {
				/* "one thousand one thousand" is two numbers. */
				if (group && group_start > i) {
					j = group_start;
					group = 0;
					hundreds = 0;
				}
				break;
			}
			total += group * val;
			group = 0;
			hundreds = 0;
			last_scale = val;
			group_start = j + 1;
		}
		if (first_kind == NUM_NONE)
			first_kind = kind;
		last = kind;
		if (w->ordinal) {
			num->ordinal = 1;
			j++;
			break;
		}
		if (kind == NUM_ZERO) {
			j++;
			break;
		}
	}
	if (last == NUM_NONE)
		return 0;
	num->end = j;
	num->value = total + group;
	num->two_digit = !num->ordinal && total == 0 && !hundreds && num->value >= 10 &&
			 num->value <= 99 && (first_kind == NUM_TEENS || first_kind == NUM_TENS);
	/* "three point one four" */
	if (!num->ordinal && j + 1 < n && !strcmp(toks[j], "point")) {
		size_t k = j + 1, d = 0;
		for (; k < n && d + 1 < sizeof(num->decimals); k++, d++) {
			const struct numword *w = numword(toks[k]);
			if (!w || w->ordinal || (w->kind != NUM_ONES && w->kind != NUM_ZERO))
				break;
			num->decimals[d] = (char)('0' + w->val);
		}
		if (d) {
			num->decimals[d] = '\0';
			num->end = k;
			num->two_digit = 0;
		}
	}
	return 1;
}

static const char *ordinal_suffix(unsigned long long v)
{
	if (v % 100 >= 11 && v % 100 <= 13)
		return "th";
	switch (v % 10) {
	case 1: return "st";
	case 2: return "nd";
	case 3: return "rd";
	default: return "th";
	}
}

static int is_number_token(const char *s)
{
	if (!*s)
		return 0;
	for (; *s; s++)
		if (!((*s >= '0' && *s <= '9') || *s == '.' || *s == ','))
			return 0;
	return 1;
}

/* Emit a digit token, dropping thousands separators ("1,000" -> "1000"). */
static void emit_digits(struct vagent__strbuf *o, const char *s)
{
	out_space(o);
	for (; *s; s++)
		if (*s != ',')
			vagent__strbuf_put(o, s, 1);
}

static int ends_with(const char *s, size_t len, const char *suf)
{
	size_t n = strlen(suf);
	return len > n && !memcmp(s + len - n, suf, n);
}

static bool word_is(const char *t, size_t len, const char *w)
{
	return strlen(w) == len && !memcmp(t, w, len);
}

/*
 * Contractions, titles and fillers for the token t[0..len); appends to `o`.
 * Regular suffixes come off the end one at a time ("we'd've" is "we would
 * have"), in a loop rather than by recursion: a token can be as long as a
 * line ("x'd'd'd..."), and every stem is expanded whatever its length.
 */
static void emit_word(struct vagent__strbuf *o, const char *t, size_t len)
{
	struct vagent__strbuf taken = { 0 };  /* suffix indices, outermost last */
	const char *whole = NULL;
	bool filler = false;

	for (;;) {
		size_t i;

		for (i = 0; i < VAGENT__ARRAY_SIZE(fillers) && !filler; i++)
			filler = word_is(t, len, fillers[i]);
		if (filler)
			break;
		for (i = 0; i < VAGENT__ARRAY_SIZE(whole_words) && !whole; i++)
			if (word_is(t, len, whole_words[i].from))
				whole = whole_words[i].to;
		if (whole)
			break;
		for (i = 0; i < VAGENT__ARRAY_SIZE(suffixes); i++)
			if (ends_with(t, len, suffixes[i].suffix))
				break;
		if (i == VAGENT__ARRAY_SIZE(suffixes))
			break;
		vagent__strbuf_put(&taken, &(char){ (char)i }, 1);
		len -= strlen(suffixes[i].suffix);
		/* "isn'n't": the stem's apostrophe no longer joins two letters. */
		while (len && t[len - 1] == '\'')
			len--;
	}
	if (whole) {
		out_space(o);
		out_str(o, whole);
	} else if (!filler && len) {
		out_space(o);
		vagent__strbuf_put(o, t, len);
	}
	for (size_t k = taken.len; k-- > 0;) {
		out_space(o);
		out_str(o, suffixes[(unsigned char)taken.p[k]].to);
	}
	if (taken.oom)
		o->oom = true;
	vagent__strbuf_release(&taken);
}

/* Split a normalized string (single spaces) into tokens, in place. */
static char **split(char *s, size_t *count)
{
	size_t n = 0, k = 0;
	char **toks;

	for (char *p = s; *p; p++)
		if (*p != ' ' && (p == s || p[-1] == ' '))
			n++;
	toks = malloc((n + 1) * sizeof(*toks));
	if (!toks)
		return NULL;
	for (char *p = s; *p;) {
		while (*p == ' ')
			p++;
		if (!*p)
			break;
		toks[k++] = p;
		while (*p && *p != ' ')
			p++;
		if (*p)
			*p++ = '\0';
	}
	*count = k;
	return toks;
}

static char *normalize_english(const char *text)
{
	struct vagent__strbuf words = { 0 }, o = { 0 };
	char *basic = NULL, *expanded = NULL, **toks = NULL;
	size_t n = 0;
	char *ret = NULL;

	/* 1. basic (keeping % $ &), 2. contractions/titles/fillers word by
	 * word, 3. numbers over the resulting tokens (a contraction never
	 * yields a number word, so the order is safe). */
	basic = normalize_basic(text, 1);
	if (!basic)
		goto out;
	toks = split(basic, &n);
	if (!toks)
		goto out;
	for (size_t i = 0; i < n; i++)
		emit_word(&words, toks[i], strlen(toks[i]));
	free(toks);
	toks = NULL;
	expanded = out_finish(&words);
	words.p = NULL;
	if (!expanded)
		goto out;
	toks = split(expanded, &n);
	if (!toks)
		goto out;

	for (size_t i = 0; i < n;) {
		struct number num, next;
		char buf[64];

		if (!strcmp(toks[i], "&")) {
			out_space(&o);
			out_str(&o, "and");
			i++;
			continue;
		}
		if (!strcmp(toks[i], "%")) {
			out_space(&o);
			out_str(&o, "percent");
			i++;
			continue;
		}
		if (!strcmp(toks[i], "$")) {
			/* "$5" -> "5 dollars"; a lone "$" is punctuation. */
			if (i + 1 < n && (is_number_token(toks[i + 1]) || parse_number(toks, n, i + 1, &num))) {
				size_t end = i + 2;
				if (is_number_token(toks[i + 1])) {
					emit_digits(&o, toks[i + 1]);
				} else {
					snprintf(buf, sizeof(buf), "%llu%s%s", num.value,
						 num.decimals[0] ? "." : "", num.decimals);
					out_space(&o);
					out_str(&o, buf);
					end = num.end;
				}
				out_space(&o);
				out_str(&o, "dollars");
				i = end;
			} else {
				i++;
			}
			continue;
		}
		if (is_number_token(toks[i])) {
			emit_digits(&o, toks[i]);
			i++;
			continue;
		}
		if (!parse_number(toks, n, i, &num)) {
			out_space(&o);
			out_str(&o, toks[i]);
			i++;
			continue;
		}
		/* "second" alone is mostly time ("wait a second"): keep it. */
		if (num.end == i + 1 && !strcmp(toks[i], "second")) {
			out_space(&o);
			out_str(&o, toks[i]);
			i++;
			continue;
		}
		/* Years and such: "nineteen eighty four" -> 1984. */
		if (num.two_digit && num.end < n && parse_number(toks, n, num.end, &next) &&
		    (next.two_digit || (next.ordinal && next.value >= 10 && next.value <= 99 &&
					next.end - num.end <= 2 && word_kind(toks[num.end]) >= NUM_TEENS))) {
			snprintf(buf, sizeof(buf), "%llu%02llu%s", num.value, next.value,
				 next.ordinal ? ordinal_suffix(next.value) : "");
			out_space(&o);
			out_str(&o, buf);
			i = next.end;
			continue;
		}
		snprintf(buf, sizeof(buf), "%llu%s%s%s", num.value, num.decimals[0] ? "." : "",
			 num.decimals, num.ordinal ? ordinal_suffix(num.value) : "");
		out_space(&o);
		out_str(&o, buf);
		i = num.end;
	}
	ret = out_finish(&o);
	o.p = NULL;
out:
	free(words.p);
	free(o.p);
	free(toks);
	free(basic);
	free(expanded);
	return ret;
}

char *vagent_text_normalize(const char *text, vagent_text_normalizer n)
{
	if (!text)
		text = "";
	switch (n) {
	case VAGENT_NORMALIZE_BASIC:
		return normalize_basic(text, 0);
	case VAGENT_NORMALIZE_ENGLISH:
		return normalize_english(text);
	case VAGENT_NORMALIZE_NONE:
	default:
		return normalize_none(text);
	}
}
