/*
 * slots.c — slot extractors for the flow brain: digits, numbers, order
 * numbers, money amounts, dates, yes/no, a choice among options, free text,
 * from what a recogniser writes (docs/nlu.md has the examples table).
 */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "nlu/nlu_int.h"

static const char *const slot_names[] = {
	[VAGENT_SLOT_DIGITS] = "digits",
	[VAGENT_SLOT_NUMBER] = "number",
	[VAGENT_SLOT_ORDER_NUMBER] = "order_number",
	[VAGENT_SLOT_AMOUNT] = "amount",
	[VAGENT_SLOT_DATE] = "date",
	[VAGENT_SLOT_YES_NO] = "yes_no",
	[VAGENT_SLOT_CHOICE] = "choice",
	[VAGENT_SLOT_TEXT] = "text",
	[VAGENT_SLOT_CARD] = "card",
};

const char *vagent_slot_type_name(vagent_slot_type t)
{
	if ((int)t < 0 || (size_t)t >= VAGENT__ARRAY_SIZE(slot_names))
		return NULL;
	return slot_names[t];
}

int vagent_slot_type_from_name(const char *name)
{
	if (!name)
		return -1;
	for (size_t i = 0; i < VAGENT__ARRAY_SIZE(slot_names); i++)
		if (!strcmp(name, slot_names[i]))
			return (int)i;
	return -1;
}

static bool word_is(const struct vagent__nlu_tokens *t, size_t i, const char *w)
{
	return i < t->n && !strcmp(t->v[i].word, w);
}

static vagent_status give(const char *s, char **out)
{
	*out = strdup(s);
	return *out ? VAGENT_OK : VAGENT_ENOMEM;
}

/* ---- digits and order numbers */

#define RUN_MAX 64

struct run {
	size_t start, end;      /* tokens */
	char digits[RUN_MAX];
};

static bool fits(size_t len, int min_len, int max_len)
{
	return len > 0 && (min_len <= 0 || len >= (size_t)min_len) &&
	       (max_len <= 0 || len <= (size_t)max_len);
}

/* Every digit run in the text, at most `max`; returns how many. */
static size_t digit_runs(const struct vagent__nlu_tokens *t, bool lenient,
			 struct run *runs, size_t max)
{
	size_t nruns = 0;

	for (size_t i = 0; i < t->n && nruns < max;) {
		size_t end;

		if (!vagent__num_digit_start(t, i, lenient)) {
			i++;
			continue;
		}
		end = vagent__num_digit_run(t, i, runs[nruns].digits, RUN_MAX, lenient);
		if (end == i) {
			i++;
			continue;
		}
		if (runs[nruns].digits[0]) {
			runs[nruns].start = i;
			runs[nruns].end = end;
			nruns++;
		}
		i = end;
	}
	return nruns;
}

/* The longest run that fits the length bounds, else the first
 * concatenation of neighbouring runs (split by at most two stray words:
 * "one two three the four five") that fits. */
static vagent_status pick_run(const struct run *runs, size_t nruns, int min_len,
			      int max_len, char **out)
{
	size_t best = SIZE_MAX, best_len = 0;

	for (size_t r = 0; r < nruns; r++) {
		size_t len = strlen(runs[r].digits);

		if (fits(len, min_len, max_len) && len > best_len) {
			best = r;
			best_len = len;
		}
	}
	if (best != SIZE_MAX)
		return give(runs[best].digits, out);
	for (size_t a = 0; a < nruns; a++) {
		char buf[RUN_MAX * 2];
		size_t len = 0;

		for (size_t b = a; b < nruns; b++) {
			size_t n = strlen(runs[b].digits);

			if (b > a && runs[b].start - runs[b - 1].end > 2)
				break;
			if (len + n >= sizeof buf)
				break;
			memcpy(buf + len, runs[b].digits, n + 1);
			len += n;
			if (b > a && fits(len, min_len, max_len))
				return give(buf, out);
		}
	}
	return VAGENT_ENOENT;
}

/*
 * Digits: the runs read strictly (homophones such as "for" only between
 * digits); when none fits the bounds, read again leniently, a homophone
 * at the edge of a run counting ("for five six seven eight" → 45678).
 */
static vagent_status extract_digits(const struct vagent__nlu_tokens *t,
				    int min_len, int max_len, char **out)
{
	struct run runs[32];
	vagent_status st;
	size_t n;

	n = digit_runs(t, false, runs, VAGENT__ARRAY_SIZE(runs));
	st = pick_run(runs, n, min_len, max_len, out);
	if (st != VAGENT_ENOENT || (min_len <= 0 && max_len <= 0))
		return st;
	n = digit_runs(t, true, runs, VAGENT__ARRAY_SIZE(runs));
	return pick_run(runs, n, min_len, max_len, out);
}

/* ---- numbers */

static bool decimal_numeral(const char *w, char *buf, size_t cap)
{
	const char *dot = strchr(w, '.');
	size_t n = strlen(w);

	if (!dot || dot == w || !dot[1] || n >= cap)
		return false;
	for (const char *p = w; *p; p++)
		if (!isdigit((unsigned char)*p) && p != dot && *p != ',')
			return false;
	if (strchr(dot + 1, '.') || strchr(dot + 1, ','))
		return false;
	size_t k = 0;

	for (const char *p = w; *p; p++)
		if (*p != ',')
			buf[k++] = *p;
	buf[k] = '\0';
	return true;
}

static bool number_start(const struct vagent__nlu_tokens *t, size_t i)
{
	enum vagent__num_kind k = vagent__num_word(t->v[i].word, NULL);
	uint64_t v;

	return k == NUM_UNIT || k == NUM_TEEN || k == NUM_TENS ||
	       vagent__num_numeral(t->v[i].word, &v) ||
	       (!strcmp(t->v[i].word, "a") && i + 1 < t->n &&
		(vagent__num_word(t->v[i + 1].word, NULL) == NUM_HUNDRED ||
		 vagent__num_word(t->v[i + 1].word, NULL) == NUM_SCALE));
}

/* Digits after "point": "point five" → "5", "point oh five" → "05". */
static size_t point_digits(const struct vagent__nlu_tokens *t, size_t i,
			   char *buf, size_t cap)
{
	size_t len = 0;

	while (i < t->n && len + 1 < cap) {
		unsigned v;
		enum vagent__num_kind k = vagent__num_word(t->v[i].word, &v);

		if (k == NUM_UNIT || k == NUM_OH)
			buf[len++] = (char)('0' + v);
		else if (k == NUM_NUMERAL && strlen(t->v[i].word) + len + 1 < cap) {
			memcpy(buf + len, t->v[i].word, strlen(t->v[i].word));
			len += strlen(t->v[i].word);
		} else
			break;
		i++;
	}
	buf[len] = '\0';
	return i;
}

static vagent_status extract_number(const struct vagent__nlu_tokens *t, char **out)
{
	for (size_t i = 0; i < t->n; i++) {
		char buf[RUN_MAX + 40];
		struct vagent__num_phrase c;

		if (decimal_numeral(t->v[i].word, buf, sizeof buf))
			return give(buf, out);
		if (!number_start(t, i) || !vagent__num_cardinal(t, i, &c))
			continue;
		/* Another number right after: digits spoken one group at a
		 * time ("one two three", "four fifty") — read as a run. */
		if (c.end < t->n && vagent__num_digit_start(t, c.end, false) &&
		    vagent__num_word(t->v[c.end].word, NULL) != NUM_OH) {
			vagent__num_digit_run(t, i, buf, RUN_MAX, false);
			return give(buf, out);
		}
		snprintf(buf, sizeof buf, "%llu", (unsigned long long)c.value);
		if (word_is(t, c.end, "point")) {
			char frac[32];

			if (point_digits(t, c.end + 1, frac, sizeof frac) > c.end + 1) {
				size_t n = strlen(buf);

				snprintf(buf + n, sizeof buf - n, ".%s", frac);
			}
		}
		return give(buf, out);
	}
	return VAGENT_ENOENT;
}

/* ---- amounts */

static bool is_currency(const char *w)
{
	return !strcmp(w, "dollar") || !strcmp(w, "dollars") || !strcmp(w, "buck") ||
	       !strcmp(w, "bucks") || !strcmp(w, "usd") || !strcmp(w, "dollers") ||
	       !strcmp(w, "dolla") || !strcmp(w, "dollas");
}

static bool is_cents(const char *w)
{
	return !strcmp(w, "cent") || !strcmp(w, "cents") || !strcmp(w, "penny") ||
	       !strcmp(w, "pennies") || !strcmp(w, "sense");
}

/* Parse a money value at t[i]: "$" numeral, numeral (decimal), cardinal.
 * Sets cents-since-zero; returns the end index (i when none). */
static size_t money_at(const struct vagent__nlu_tokens *t, size_t i,
		       uint64_t *cents, bool *has_unit)
{
	struct vagent__num_phrase a, b;
	char dec[64];
	uint64_t dollars = 0, frac = 0;
	size_t j;
	bool dollar_sign = false;

	*has_unit = false;
	if (word_is(t, i, "$")) {
		dollar_sign = true;
		i++;
	}
	if (i >= t->n)
		return i;
	if (decimal_numeral(t->v[i].word, dec, sizeof dec)) {
		char *dot = strchr(dec, '.');
		size_t fl = strlen(dot + 1);

		*dot = '\0';
		if (strlen(dec) > 12)
			return i;
		dollars = strtoull(dec, NULL, 10);
		frac = strtoull(dot + 1, NULL, 10);
		if (fl == 1)
			frac *= 10;
		else
			while (fl-- > 2)
				frac /= 10;   /* "49.999": cents, truncated */
		j = i + 1;
		if (j < t->n && is_currency(t->v[j].word))
			j++, *has_unit = true;
		*has_unit |= dollar_sign;
		*cents = dollars * 100 + frac;
		return j;
	}
	if (!number_start(t, i) || !vagent__num_cardinal(t, i, &a) ||
	    a.value > 1000000000000ull)
		return dollar_sign ? i - 1 : i;
	j = a.end;
	*has_unit = dollar_sign;
	if (j < t->n && is_cents(t->v[j].word)) {
		*cents = a.value;
		*has_unit = true;
		return j + 1;
	}
	dollars = a.value;
	if (j < t->n && is_currency(t->v[j].word)) {
		*has_unit = true;
		j++;
		size_t k = j;

		if (word_is(t, k, "and"))
			k++;
		if (k < t->n && number_start(t, k) && vagent__num_cardinal(t, k, &b) &&
		    b.value < 100) {
			frac = b.value;
			j = b.end;
			if (j < t->n && is_cents(t->v[j].word))
				j++;
		}
	} else if (word_is(t, j, "point")) {
		char fd[32];
		size_t e = point_digits(t, j + 1, fd, sizeof fd);

		if (e > j + 1) {
			/* "point five" → 50 cents, "point nine nine" → 99 */
			frac = (uint64_t)(fd[0] - '0') * 10 + (fd[1] ? (uint64_t)(fd[1] - '0') : 0);
			j = e;
			if (j < t->n && is_currency(t->v[j].word))
				j++, *has_unit = true;
		}
	} else if (j < t->n && a.value < 1000 &&
		   (vagent__num_word(t->v[j].word, NULL) == NUM_TEEN ||
		    vagent__num_word(t->v[j].word, NULL) == NUM_TENS ||
		    vagent__num_word(t->v[j].word, NULL) == NUM_OH) &&
		   vagent__num_cardinal(t, j + (vagent__num_word(t->v[j].word, NULL) == NUM_OH), &b) &&
		   b.value < 100) {
		/* "forty nine fifty" → 49.50; "two oh five" → 2.05 */
		frac = b.value;
		j = b.end;
		if (j < t->n && is_currency(t->v[j].word))
			j++, *has_unit = true;
	}
	*cents = dollars * 100 + frac;
	return j;
}

/* How many spoken groups make up t[i..e): "one two three" 3, "forty nine
 * fifty" 2, "a hundred and five" 1. */
static size_t digit_groups(const struct vagent__nlu_tokens *t, size_t i, size_t e)
{
	size_t groups = 0;

	while (i < e) {
		struct vagent__num_phrase c;

		if (vagent__num_word(t->v[i].word, NULL) == NUM_OH) {
			i++;            /* "two oh five": the oh joins the five */
			continue;
		}
		if (vagent__num_cardinal(t, i, &c) && c.end > i && c.end <= e)
			i = c.end;
		else
			i++;
		groups++;
	}
	return groups;
}

static vagent_status extract_amount(const struct vagent__nlu_tokens *t, char **out)
{
	uint64_t first = 0, cents;
	bool have_first = false, unit;
	char buf[48];

	for (size_t i = 0; i < t->n; i++) {
		size_t end;

		/* Digits said one by one ("order one two three four five")
		 * are a number, not money, unless a currency word follows. */
		if (vagent__num_digit_start(t, i, false)) {
			char run[RUN_MAX];
			size_t e = vagent__num_digit_run(t, i, run, sizeof run, false);

			if (e > i && digit_groups(t, i, e) >= 3) {
				bool dollars = e < t->n && is_currency(t->v[e].word);

				if (dollars && strlen(run) <= 12) {
					/* "one two three dollars" */
					first = strtoull(run, NULL, 10) * 100;
					have_first = true;
					break;
				}
				if (!(e < t->n && is_cents(t->v[e].word))) {
					i = e - 1;
					continue;
				}
			}
		}
		end = money_at(t, i, &cents, &unit);

		if (end == i)
			continue;
		if (unit) {
			first = cents;
			have_first = true;
			break;
		}
		if (!have_first) {
			first = cents;
			have_first = true;
		}
		i = end - 1;
	}
	if (!have_first)
		return VAGENT_ENOENT;
	snprintf(buf, sizeof buf, "%llu.%02u", (unsigned long long)(first / 100),
		 (unsigned)(first % 100));
	return give(buf, out);
}

/* ---- dates */

/* Days since 1970-01-01 of a civil date (H. Hinnant's algorithm). */
static long days_from_civil(long y, unsigned m, unsigned d)
{
	y -= m <= 2;
	long era = (y >= 0 ? y : y - 399) / 400;
	unsigned yoe = (unsigned)(y - era * 400);
	unsigned doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
	unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;

	return era * 146097 + (long)doe - 719468;
}

static void civil_from_days(long z, long *y, unsigned *m, unsigned *d)
{
	z += 719468;
	long era = (z >= 0 ? z : z - 146096) / 146097;
	unsigned doe = (unsigned)(z - era * 146097);
	unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
	unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
	unsigned mp = (5 * doy + 2) / 153;

	*d = doy - (153 * mp + 2) / 5 + 1;
	*m = mp < 10 ? mp + 3 : mp - 9;
	*y = (long)yoe + era * 400 + (*m <= 2);
}

static unsigned month_days(long y, unsigned m)
{
	static const unsigned days[] = { 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31 };
	bool leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;

	return m == 2 && leap ? 29 : days[m - 1];
}

static bool valid_date(long y, unsigned m, unsigned d)
{
	return y >= 1900 && y <= 9999 && m >= 1 && m <= 12 && d >= 1 &&
	       d <= month_days(y, m);
}

static bool parse_iso(const char *s, long *y, unsigned *m, unsigned *d)
{
	int n = 0;
	unsigned yy, mm, dd;

	if (strlen(s) != 10 || sscanf(s, "%4u-%2u-%2u%n", &yy, &mm, &dd, &n) != 3 || n != 10)
		return false;
	for (int i = 0; i < 10; i++)
		if (i == 4 || i == 7 ? s[i] != '-' : !isdigit((unsigned char)s[i]))
			return false;
	*y = yy, *m = mm, *d = dd;
	return valid_date(*y, *m, *d);
}

static vagent_status date_out(long days, char **out)
{
	long y;
	unsigned m, d;
	char buf[32];

	civil_from_days(days, &y, &m, &d);
	if (y < 1900 || y > 9999)
		return VAGENT_ENOENT;
	snprintf(buf, sizeof buf, "%04ld-%02u-%02u", y, m, d);
	return give(buf, out);
}

static const char *const month_names[12][3] = {
	{ "january", "jan", NULL }, { "february", "feb", "febuary" },
	{ "march", "mar", NULL }, { "april", "apr", NULL }, { "may", NULL, NULL },
	{ "june", "jun", NULL }, { "july", "jul", NULL }, { "august", "aug", NULL },
	{ "september", "sep", "sept" }, { "october", "oct", NULL },
	{ "november", "nov", NULL }, { "december", "dec", NULL },
};

static unsigned month_of(const char *w)
{
	for (unsigned m = 0; m < 12; m++)
		for (unsigned k = 0; k < 3; k++)
			if (month_names[m][k] && !strcmp(w, month_names[m][k]))
				return m + 1;
	return 0;
}

static const char *const weekday_names[7] = {
	"sunday", "monday", "tuesday", "wednesday", "thursday", "friday", "saturday",
};

static int weekday_of(const char *w)
{
	static const struct { const char *w; int d; } alias[] = {
		{ "tues", 2 }, { "weds", 3 }, { "thurs", 4 }, { "thur", 4 },
		{ "mondays", 1 }, { "tuesdays", 2 }, { "wednesdays", 3 },
		{ "thursdays", 4 }, { "fridays", 5 }, { "saturdays", 6 }, { "sundays", 0 },
	};

	for (int d = 0; d < 7; d++)
		if (!strcmp(w, weekday_names[d]))
			return d;
	for (size_t i = 0; i < VAGENT__ARRAY_SIZE(alias); i++)
		if (!strcmp(w, alias[i].w))
			return alias[i].d;
	return -1;
}

/* A year after a month/day: "2027", "twenty twenty seven", "two thousand
 * twenty seven". */
static bool year_at(const struct vagent__nlu_tokens *t, size_t i, long *year, size_t *end)
{
	char buf[RUN_MAX];
	struct vagent__num_phrase c;
	uint64_t v;

	if (i >= t->n)
		return false;
	if (vagent__num_numeral(t->v[i].word, &v) && strlen(t->v[i].word) == 4 &&
	    v >= 1900 && v <= 2199) {
		*year = (long)v;
		*end = i + 1;
		return true;
	}
	if (vagent__num_cardinal(t, i, &c) && c.value >= 1900 && c.value <= 2199) {
		*year = (long)c.value;
		*end = c.end;
		return true;
	}
	size_t e = vagent__num_digit_run(t, i, buf, sizeof buf, false);

	if (e > i && strlen(buf) == 4 && (v = strtoull(buf, NULL, 10)) >= 1900 && v <= 2199) {
		*year = (long)v;
		*end = e;
		return true;
	}
	return false;
}

/* A day of the month at t[i]: "[the] third", "3rd", "3", "twenty first". */
static bool day_at(const struct vagent__nlu_tokens *t, size_t i, bool allow_cardinal,
		   unsigned *day, size_t *end)
{
	if (word_is(t, i, "the"))
		i++;
	return vagent__num_ordinal(t, i, allow_cardinal, day, end) && *day >= 1 &&
	       *day <= 31;
}

/* The month-day date on or after `ref` (next year when already past). */
static bool next_month_day(long ref, unsigned m, unsigned d, long year, long *out)
{
	long y, ry;
	unsigned rm, rd;

	civil_from_days(ref, &ry, &rm, &rd);
	if (year) {
		if (!valid_date(year, m, d))
			return false;
		*out = days_from_civil(year, m, d);
		return true;
	}
	for (y = ry; y <= ry + 8; y++) {
		if (valid_date(y, m, d) && days_from_civil(y, m, d) >= ref) {
			*out = days_from_civil(y, m, d);
			return true;
		}
	}
	return false;
}

static bool slash_date(const char *w, long ref, long *out)
{
	unsigned a, b, c = 0;
	int n = 0;
	long y = 0;

	if (sscanf(w, "%2u/%2u/%4u%n", &a, &b, &c, &n) == 3 && (size_t)n == strlen(w)) {
		y = c < 100 ? 2000 + (long)c : (long)c;
		if (!valid_date(y, a, b))
			return false;
		*out = days_from_civil(y, a, b);
		return true;
	}
	n = 0;
	if (sscanf(w, "%2u/%2u%n", &a, &b, &n) == 2 && (size_t)n == strlen(w))
		return next_month_day(ref, a, b, 0, out);
	return false;
}

static vagent_status extract_date(const struct vagent__nlu_tokens *t, long ref, char **out)
{
	long y, r;
	unsigned rm, rd;

	civil_from_days(ref, &y, &rm, &rd);
	/* Written dates first: "2026-12-05", "12/5/2026", "3/14". */
	for (size_t i = 0; i < t->n; i++) {
		long yy;
		unsigned mm, dd;

		if (parse_iso(t->v[i].word, &yy, &mm, &dd))
			return date_out(days_from_civil(yy, mm, dd), out);
		if (slash_date(t->v[i].word, ref, &r))
			return date_out(r, out);
	}
	for (size_t i = 0; i < t->n; i++) {
		const char *w = t->v[i].word;
		unsigned m, d;
		size_t e;
		int wd;

		if (!strcmp(w, "day") && word_is(t, i + 1, "after") &&
		    (word_is(t, i + 2, "tomorrow") || word_is(t, i + 2, "tomorrow's")))
			return date_out(ref + 2, out);
		if (!strcmp(w, "tomorrow") || !strcmp(w, "tomorow") ||
		    !strcmp(w, "tmrw") || !strcmp(w, "tomorrows") ||
		    (!strcmp(w, "to") && word_is(t, i + 1, "morrow")))
			return date_out(ref + 1, out);
		if (!strcmp(w, "today") || !strcmp(w, "tonight") ||
		    !strcmp(w, "todays"))
			return date_out(ref, out);
		if (!strcmp(w, "yesterday"))
			return date_out(ref - 1, out);
		/* "in three days", "in a week", "in two weeks" */
		if (!strcmp(w, "in") && i + 2 < t->n) {
			struct vagent__num_phrase c;
			uint64_t n = 0;
			size_t k = i + 1;

			if (word_is(t, k, "a") || word_is(t, k, "one")) {
				n = 1;
				k++;
			} else if (vagent__num_cardinal(t, k, &c) && c.value <= 400) {
				n = c.value;
				k = c.end;
			}
			if (n && (word_is(t, k, "day") || word_is(t, k, "days")))
				return date_out(ref + (long)n, out);
			if (n && (word_is(t, k, "week") || word_is(t, k, "weeks")))
				return date_out(ref + 7 * (long)n, out);
		}
		/* "march third [2027]", "march 3rd", "march the third" */
		if ((m = month_of(w))) {
			long year = 0;

			if (day_at(t, i + 1, true, &d, &e)) {
				year_at(t, e, &year, &e);
				if (next_month_day(ref, m, d, year, &r))
					return date_out(r, out);
				return VAGENT_ENOENT;    /* "february thirtieth" */
			}
			/* "5th december", "the twenty fifth december" */
			for (size_t back = 3; back >= 1; back--) {
				if (back <= i && day_at(t, i - back, true, &d, &e) && e == i) {
					year_at(t, i + 1, &year, &e);
					if (next_month_day(ref, m, d, year, &r))
						return date_out(r, out);
					return VAGENT_ENOENT;
				}
			}
			/* "the third of march" */
			if (i >= 2 && word_is(t, i - 1, "of")) {
				size_t s = i - 2;

				if (s >= 1 && vagent__num_ordinal_word(t->v[s].word) >= 1 &&
				    vagent__num_ordinal_word(t->v[s].word) <= 9 &&
				    vagent__num_word(t->v[s - 1].word, NULL) == NUM_TENS)
					s--;   /* "twenty first of" */
				if (day_at(t, s, true, &d, &e) && e == i - 1) {
					year_at(t, i + 1, &year, &e);
					if (next_month_day(ref, m, d, year, &r))
						return date_out(r, out);
					return VAGENT_ENOENT;
				}
			}
			continue;
		}
		/* "friday", "next friday", "this friday", "friday after next" */
		if ((wd = weekday_of(w)) >= 0) {
			long now_wd = ((ref % 7) + 7 + 4) % 7;   /* 1970-01-01: Thursday */
			long ahead = ((long)wd - now_wd + 7) % 7;

			if (ahead == 0)
				ahead = 7;
			/* "next friday": the friday of next week (weeks start
			 * on monday); plain "friday": the coming one. */
			if (i > 0 && word_is(t, i - 1, "next")) {
				long to_monday = (8 - now_wd) % 7;   /* days to next monday */
				long offset = ((long)wd + 6) % 7;      /* monday = 0 */

				if (to_monday == 0)
					to_monday = 7;
				ahead = to_monday + offset;
			}
			if (word_is(t, i + 1, "after") && word_is(t, i + 2, "next"))
				ahead += 7;
			return date_out(ref + ahead, out);
		}
		if (!strcmp(w, "next") && (word_is(t, i + 1, "week")))
			return date_out(ref + 7, out);
	}
	/* "the fifth", "on the 21st", "the eight" (a recogniser's "eighth"):
	 * a day of this month, else the next month that has it. A plain
	 * number counts only after "the". */
	for (size_t i = 0; i < t->n; i++) {
		unsigned d;
		size_t e;

		if (!day_at(t, i, word_is(t, i, "the"), &d, &e))
			continue;
		for (int k = 0; k < 13; k++) {
			long yy = y + (long)((rm - 1 + (unsigned)k) / 12);
			unsigned mm = (rm - 1 + (unsigned)k) % 12 + 1;

			if (valid_date(yy, mm, d) && days_from_civil(yy, mm, d) >= ref)
				return date_out(days_from_civil(yy, mm, d), out);
		}
	}
	return VAGENT_ENOENT;
}

static bool reference_days(const char *ref, long *days)
{
	long y;
	unsigned m, d;

	if (!ref) {
		time_t now = time(NULL);
		struct tm tm;

		if (!localtime_r(&now, &tm))
			return false;
		*days = days_from_civil(tm.tm_year + 1900L, (unsigned)tm.tm_mon + 1,
					(unsigned)tm.tm_mday);
		return true;
	}
	if (!parse_iso(ref, &y, &m, &d))
		return false;
	*days = days_from_civil(y, m, d);
	return true;
}

/* ---- yes / no */

enum polarity { P_NONE, P_YES, P_NO, P_NEUTRAL };

/* Longest phrases first within each first word does not matter: the scan
 * tries every phrase at a position and keeps the longest match. */
static const struct { const char *phrase; enum polarity p; } yes_no_phrases[] = {
	{ "yes", P_YES }, { "yeah", P_YES }, { "yea", P_YES }, { "yep", P_YES },
	{ "yup", P_YES }, { "ya", P_YES }, { "yah", P_YES }, { "yeh", P_YES },
	{ "yes please", P_YES }, { "sure", P_YES }, { "certainly", P_YES },
	{ "correct", P_YES }, { "right", P_YES }, { "that is right", P_YES },
	{ "exactly", P_YES }, { "absolutely", P_YES }, { "definitely", P_YES },
	{ "affirmative", P_YES }, { "ok", P_YES }, { "okay", P_YES },
	{ "alright", P_YES }, { "all right", P_YES }, { "go ahead", P_YES },
	{ "go for it", P_YES }, { "please do", P_YES }, { "do it", P_YES },
	{ "sounds good", P_YES }, { "of course", P_YES }, { "i do", P_YES },
	{ "uh huh", P_YES }, { "mhm", P_YES }, { "mm hmm", P_YES },
	{ "perfect", P_YES }, { "indeed", P_YES }, { "i think so", P_YES },
	{ "think so", P_YES }, { "that works", P_YES }, { "fine", P_YES },
	{ "no problem", P_YES }, { "no worries", P_YES }, { "why not", P_YES },
	{ "do not mind", P_YES }, { "i do not mind", P_YES },
	/* What recognisers write for them. */
	{ "yas", P_YES }, { "yess", P_YES }, { "yeas", P_YES }, { "shore", P_YES },
	{ "that is write", P_YES }, { "that is rite", P_YES }, { "o k", P_YES },
	{ "okey", P_YES }, { "oh kay", P_YES }, { "go a head", P_YES },
	{ "mhmm", P_YES }, { "mmhmm", P_YES }, { "uhhuh", P_YES },
	{ "yes sir", P_YES }, { "yes maam", P_YES }, { "nay", P_NO }, { "yes yes", P_YES },
	{ "confirm", P_YES }, { "confirmed", P_YES }, { "agreed", P_YES },
	{ "no", P_NO }, { "nope", P_NO }, { "nah", P_NO }, { "naw", P_NO },
	{ "not", P_NO }, { "never", P_NO }, { "negative", P_NO },
	{ "cancel", P_NO }, { "cancel it", P_NO }, { "wrong", P_NO },
	{ "incorrect", P_NO }, { "do not", P_NO }, { "not really", P_NO },
	{ "no thanks", P_NO }, { "no thank you", P_NO },
	{ "do not think so", P_NO }, { "nevermind", P_NO },
	{ "never mind", P_NO }, { "not at all", P_NO }, { "stop", P_NO },
	{ "i do not", P_NO }, { "please do not", P_NO }, { "not right", P_NO },
	{ "not correct", P_NO }, { "not sure", P_NEUTRAL },
	{ "i do not know", P_NEUTRAL }, { "maybe", P_NEUTRAL },
	{ "not yet", P_NO }, { "no way", P_NO }, { "rather not", P_NO },
	{ "absolutely not", P_NO }, { "definitely not", P_NO },
	{ "certainly not", P_NO }, { "of course not", P_NO },
};

static size_t phrase_len_at(const struct vagent__nlu_tokens *t, size_t i, const char *phrase)
{
	size_t k = i;

	while (*phrase) {
		size_t n = strcspn(phrase, " ");

		if (k >= t->n || strlen(t->v[k].word) != n ||
		    memcmp(t->v[k].word, phrase, n))
			return 0;
		k++;
		phrase += n;
		while (*phrase == ' ')
			phrase++;
	}
	return k - i;
}

static vagent_status extract_yes_no(const struct vagent__nlu_tokens *t, char **out)
{
	int yes = 0, no = 0;

	for (size_t i = 0; i < t->n;) {
		size_t best = 0;
		enum polarity p = P_NONE;

		for (size_t k = 0; k < VAGENT__ARRAY_SIZE(yes_no_phrases); k++) {
			size_t n = phrase_len_at(t, i, yes_no_phrases[k].phrase);

			if (n > best) {
				best = n;
				p = yes_no_phrases[k].p;
			}
		}
		if (!best) {
			i++;
			continue;
		}
		/* A negation ending in "not" swallows the yes phrase after it
		 * ("not okay", "do not go ahead"): no. */
		if (p == P_NO && !strcmp(t->v[i + best - 1].word, "not")) {
			size_t longest = 0;

			for (size_t k = 0; k < VAGENT__ARRAY_SIZE(yes_no_phrases); k++) {
				size_t n;

				if (yes_no_phrases[k].p != P_YES)
					continue;
				n = phrase_len_at(t, i + best, yes_no_phrases[k].phrase);
				if (n > longest)
					longest = n;
			}
			best += longest;
		}
		yes += p == P_YES;
		no += p == P_NO;
		if (p == P_NEUTRAL)
			return VAGENT_ENOENT;
		i += best;
	}
	/* "know" alone is "no" misheard. */
	if (!yes && !no && t->n == 1 && !strcmp(t->v[0].word, "know"))
		no = 1;
	if (yes && !no)
		return give("yes", out);
	if (no && !yes)
		return give("no", out);
	return VAGENT_ENOENT;
}

/* ---- choice */

static bool choice_vocab(const char *stem, const void *ctx)
{
	const struct vagent__nlu_tokens *all = ctx;

	for (size_t i = 0; i < all->n; i++)
		if (!strcmp(all->v[i].stem, stem))
			return true;
	return false;
}

static vagent_status extract_choice(const char *text, const char *const *choices,
				    char **out)
{
	struct vagent__nlu_tokens tt = {0}, all = {0}, ct = {0};
	vagent_status st = VAGENT_ENOMEM;
	double best = 0;
	size_t best_i = SIZE_MAX, best_len = 0, nchoices = 0;
	bool tie = false;

	for (size_t c = 0; choices[c]; c++, nchoices++)
		if (!vagent__nlu_tokenize(choices[c], &all))
			goto done;
	if (!vagent__nlu_tokenize(text, &tt))
		goto done;
	vagent__nlu_tokens_join(&tt, choice_vocab, &all);
	for (size_t c = 0; choices[c]; c++) {
		double s;

		ct.n = 0;
		if (!vagent__nlu_tokenize(choices[c], &ct))
			goto done;
		s = vagent__nlu_phrase_sim(&tt, &ct, 0.6, true);
		if (s < 0.7)
			continue;
		/* More words matched wins ("gift card" over "card"), then
		 * the closer match. */
		if (ct.n > best_len || (ct.n == best_len && s > best + 1e-9)) {
			best = s;
			best_i = c;
			best_len = ct.n;
			tie = false;
		} else if (ct.n == best_len && s > best - 1e-9) {
			tie = true;
		}
	}
	if (best_i != SIZE_MAX && !tie) {
		st = give(choices[best_i], out);
		goto done;
	}
	st = VAGENT_ENOENT;
	if (best_i == SIZE_MAX) {
		/* "the second one", "number two", "option three", "the last one" */
		for (size_t i = 0; i < tt.n; i++) {
			unsigned o = vagent__num_ordinal_word(tt.v[i].word);
			unsigned v = 0;

			if (!strcmp(tt.v[i].word, "last"))
				o = (unsigned)nchoices;
			if (!o && i > 0 && (!strcmp(tt.v[i - 1].word, "number") ||
					    !strcmp(tt.v[i - 1].word, "option")) &&
			    vagent__num_word(tt.v[i].word, &v) != NUM_NONE &&
			    vagent__num_word(tt.v[i].word, NULL) != NUM_HOMOPHONE)
				o = v;
			if (o >= 1 && o <= nchoices) {
				st = give(choices[o - 1], out);
				break;
			}
		}
	}
done:
	vagent__nlu_tokens_free(&tt);
	vagent__nlu_tokens_free(&all);
	vagent__nlu_tokens_free(&ct);
	return st;
}

/* ---- text */

static vagent_status extract_text(const char *text, char **out)
{
	size_t n;

	while (isspace((unsigned char)*text))
		text++;
	n = strlen(text);
	while (n && isspace((unsigned char)text[n - 1]))
		n--;
	if (!n)
		return VAGENT_ENOENT;
	*out = strndup(text, n);
	return *out ? VAGENT_OK : VAGENT_ENOMEM;
}

/* ---- entry point */

vagent_status vagent_slot_extract(const struct vagent_slot_spec *spec,
				  const char *text, char **out)
{
	struct vagent__nlu_tokens t = {0};
	vagent_status st;
	long ref = 0;
	int min_len, max_len;

	if (out)
		*out = NULL;
	if (!spec || !text || !out || !vagent_slot_type_name(spec->type) ||
	    spec->min_len < 0 || spec->max_len < 0 ||
	    (spec->max_len && spec->min_len > spec->max_len))
		return VAGENT_EINVAL;
	if (spec->type == VAGENT_SLOT_CHOICE) {
		if (!spec->choices || !spec->choices[0])
			return VAGENT_EINVAL;
		return extract_choice(text, spec->choices, out);
	}
	if (spec->type == VAGENT_SLOT_TEXT)
		return extract_text(text, out);
	if (spec->type == VAGENT_SLOT_DATE && !reference_days(spec->reference_date, &ref))
		return VAGENT_EINVAL;
	if (!vagent__slot_tokenize(text, &t)) {
		vagent__nlu_tokens_free(&t);
		return VAGENT_ENOMEM;
	}
	min_len = spec->min_len;
	max_len = spec->max_len;
	switch (spec->type) {
	case VAGENT_SLOT_DIGITS:
		st = extract_digits(&t, min_len, max_len, out);
		break;
	case VAGENT_SLOT_ORDER_NUMBER:
		st = extract_digits(&t, min_len ? min_len : 3, max_len, out);
		break;
	case VAGENT_SLOT_NUMBER:
		st = extract_number(&t, out);
		break;
	case VAGENT_SLOT_AMOUNT:
		st = extract_amount(&t, out);
		break;
	case VAGENT_SLOT_DATE:
		st = extract_date(&t, ref, out);
		break;
	case VAGENT_SLOT_YES_NO:
		st = extract_yes_no(&t, out);
		break;
	case VAGENT_SLOT_CARD:
		/* a card number: 13..19 digits that pass the Luhn check */
		st = extract_digits(&t, 13, 19, out);
		if (st == VAGENT_OK && !vagent_luhn_valid(*out, strlen(*out))) {
			free(*out);
			*out = NULL;
			st = VAGENT_ENOENT;
		}
		break;
	default:
		st = VAGENT_EINVAL;
		break;
	}
	vagent__nlu_tokens_free(&t);
	return st;
}
