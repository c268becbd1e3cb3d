/*
 * render.c — templates of the flow brain: {slot.NAME}, {result.PATH} and
 * {agent.name} with filters that make values speakable — digits one by
 * one, dates as "Friday, December 4th", amounts in dollars and cents,
 * lists as "a, b and c" (docs/flow.md).
 */
#include <ctype.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "flow/flow_int.h"

static bool filter_is(const char *f, size_t len, const char *name)
{
	return f && strlen(name) == len && memcmp(f, name, len) == 0;
}

static void put_digits(struct vagent__strbuf *b, const char *s)
{
	bool first = true;

	for (; *s; s++) {
		if (isspace((unsigned char)*s) || *s == '-')
			continue;
		if (!first)
			vagent__strbuf_put(b, " ", 1);
		vagent__strbuf_put(b, s, 1);
		first = false;
	}
}

static void put_number(struct vagent__strbuf *b, double v)
{
	if (fabs(v) < 1e15 && v == floor(v))
		vagent__strbuf_printf(b, "%.0f", v);
	else
		vagent__strbuf_printf(b, "%.2f", v);
}

/* "49.5" → "49 dollars and 50 cents"; "1" → "1 dollar". */
static void put_amount(struct vagent__strbuf *b, const char *s)
{
	char *end;
	double v = strtod(s[0] == '$' ? s + 1 : s, &end);
	long long cents, whole;
	int part;

	if (end == s || !isfinite(v) || fabs(v) > 1e12) {
		vagent__strbuf_puts(b, s);
		return;
	}
	cents = llround(v * 100);
	whole = cents / 100;
	part = (int)(cents % 100);
	if (whole || !part)
		vagent__strbuf_printf(b, "%lld dollar%s", whole,
				      whole == 1 ? "" : "s");
	if (whole && part)
		vagent__strbuf_puts(b, " and ");
	if (part)
		vagent__strbuf_printf(b, "%d cent%s", part, part == 1 ? "" : "s");
}

/* "2026-12-04" → "Friday, December 4th". */
static void put_date(struct vagent__strbuf *b, const char *s)
{
	static const char *const months[] = {
		"January", "February", "March", "April", "May", "June", "July",
		"August", "September", "October", "November", "December"
	};
	static const char *const days[] = {
		"Sunday", "Monday", "Tuesday", "Wednesday", "Thursday",
		"Friday", "Saturday"
	};
	static const int offs[] = { 0, 3, 2, 5, 0, 3, 5, 1, 4, 6, 2, 4 };
	int y, m, d, yy, wd;
	const char *suffix;

	if (sscanf(s, "%4d-%2d-%2d", &y, &m, &d) != 3 || m < 1 || m > 12 ||
	    d < 1 || d > 31) {
		vagent__strbuf_puts(b, s);
		return;
	}
	yy = m < 3 ? y - 1 : y;
	wd = (yy + yy / 4 - yy / 100 + yy / 400 + offs[m - 1] + d) % 7;
	suffix = (d % 10 == 1 && d != 11) ? "st" : (d % 10 == 2 && d != 12) ? "nd"
		 : (d % 10 == 3 && d != 13) ? "rd" : "th";
	vagent__strbuf_printf(b, "%s, %s %d%s", days[wd], months[m - 1], d,
			      suffix);
}

/* A scalar's text, or for objects their "name" (else first string). */
static void put_plain(struct vagent__strbuf *b, const cJSON *v)
{
	const cJSON *it;

	if (cJSON_IsString(v)) {
		vagent__strbuf_puts(b, v->valuestring);
	} else if (cJSON_IsNumber(v)) {
		put_number(b, v->valuedouble);
	} else if (cJSON_IsBool(v)) {
		vagent__strbuf_puts(b, cJSON_IsTrue(v) ? "yes" : "no");
	} else if (cJSON_IsObject(v)) {
		it = cJSON_GetObjectItemCaseSensitive(v, "name");
		if (!cJSON_IsString(it))
			cJSON_ArrayForEach(it, v)
				if (cJSON_IsString(it))
					break;
		if (it)
			put_plain(b, it);
	}
}

static void put_list(struct vagent__strbuf *b, const cJSON *v)
{
	int n = cJSON_GetArraySize(v), i = 0;
	const cJSON *it;

	cJSON_ArrayForEach(it, v) {
		if (i > 0)
			vagent__strbuf_puts(b, i == n - 1 ? " and " : ", ");
		put_plain(b, it);
		i++;
	}
}

void vagent__render_value(struct vagent__strbuf *b, const cJSON *v,
			  const char *filter, size_t flen)
{
	char num[64];
	const char *s = NULL;

	if (!v || cJSON_IsNull(v))
		return;
	if (cJSON_IsString(v)) {
		s = v->valuestring;
	} else if (cJSON_IsNumber(v)) {
		snprintf(num, sizeof(num), "%.15g", v->valuedouble);
		s = num;
	}
	if (cJSON_IsArray(v)) {
		put_list(b, v);
	} else if (s && filter_is(filter, flen, "digits")) {
		put_digits(b, s);
	} else if (s && filter_is(filter, flen, "date")) {
		put_date(b, s);
	} else if (s && filter_is(filter, flen, "amount")) {
		put_amount(b, s);
	} else if (s && filter_is(filter, flen, "last4")) {
		/* the last four characters only (a card number's) */
		size_t n = strlen(s);

		vagent__strbuf_puts(b, n > 4 ? s + n - 4 : s);
	} else if (s && filter_is(filter, flen, "number")) {
		put_number(b, strtod(s, NULL));
	} else {
		put_plain(b, v);
	}
}

/* The value at `path` ("a.b[0].c", "a.0.c"; "" = the whole) of `root`. */
static const cJSON *lookup(const cJSON *root, const char *path, size_t len)
{
	const cJSON *v = root;
	const char *p = path, *end = path + len;

	while (v && p < end) {
		char key[128];
		size_t n = 0;

		if (*p == '.' || *p == '[') {
			p++;
			continue;
		}
		while (p < end && *p != '.' && *p != '[' && *p != ']' &&
		       n < sizeof(key) - 1)
			key[n++] = *p++;
		key[n] = '\0';
		if (p < end && *p == ']')
			p++;
		if (cJSON_IsArray(v) && n && isdigit((unsigned char)key[0]))
			v = cJSON_GetArrayItem(v, atoi(key));
		else if (cJSON_IsObject(v))
			v = cJSON_GetObjectItemCaseSensitive(v, key);
		else
			v = NULL;
	}
	return v;
}

char *vagent__render(const char *tmpl, const struct vagent__render_ctx *rc)
{
	struct vagent__strbuf b = { 0 };
	struct vagent__tref r;
	const char *s = tmpl;

	if (!tmpl)
		return strdup("");
	for (;;) {
		const char *ref = vagent__tref_next(s, &r);
		size_t i;

		if (!ref) {
			vagent__strbuf_puts(&b, s);
			break;
		}
		vagent__strbuf_put(&b, s, (size_t)(ref - s));
		s = ref + r.len;
		switch (r.kind) {
		case VAGENT__TREF_SLOT:
			for (i = 0; rc->intent && i < rc->intent->n_slots; i++) {
				const struct vagent_agent_slot *sl = &rc->intent->slots[i];
				cJSON *v;

				if (strlen(sl->name) != r.name_len ||
				    memcmp(sl->name, r.name, r.name_len) != 0 ||
				    !rc->values || !rc->values[i])
					continue;
				v = cJSON_CreateString(rc->values[i]);
				if (!v) {
					b.oom = true;
					break;
				}
				vagent__render_value(&b, v, r.filter, r.filter_len);
				cJSON_Delete(v);
			}
			break;
		case VAGENT__TREF_RESULT:
			if (rc->result)
				vagent__render_value(&b, lookup(rc->result, r.name,
								r.name_len),
						     r.filter, r.filter_len);
			break;
		case VAGENT__TREF_AGENT:
			vagent__strbuf_puts(&b, rc->agent_name ? rc->agent_name : "");
			break;
		case VAGENT__TREF_BAD:
			vagent__strbuf_put(&b, r.start, r.len);
			break;
		}
	}
	return vagent__strbuf_detach(&b);
}
