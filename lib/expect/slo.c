/*
 * slo.c — SLO expressions of DESIGN.md §6 ("e2e.p95<=1000ms", "wer<=0.10"):
 * parsing with a precise message for each mistake, and evaluation on a
 * run's aggregated statistics, where a missing metric fails (it never
 * passes silently).
 */
#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "expect/expect_int.h"

static const char *const op_names[] = {
	[VAGENT_SLO_LT] = "<", [VAGENT_SLO_LE] = "<=",
	[VAGENT_SLO_GT] = ">", [VAGENT_SLO_GE] = ">=",
};

/* The opposite, for a failed comparison's detail ("1210 ms > 1000 ms"). */
static const char *const op_negated[] = {
	[VAGENT_SLO_LT] = ">=", [VAGENT_SLO_LE] = ">",
	[VAGENT_SLO_GT] = "<=", [VAGENT_SLO_GE] = "<",
};

const char *vagent_slo_op_name(vagent_slo_op op)
{
	if ((unsigned)op >= VAGENT__ARRAY_SIZE(op_names))
		return "?";
	return op_names[op];
}

void vagent__fmt_ms(char *buf, size_t size, double ms)
{
	char *dot;
	size_t n;

	snprintf(buf, size, "%.3f", ms);
	if (!(dot = strchr(buf, '.')))
		return;
	n = strlen(buf);
	while (n > 0 && buf[n - 1] == '0')
		buf[--n] = '\0';
	if (n > 0 && buf[n - 1] == '.')
		buf[--n] = '\0';
	if (!strcmp(buf, "-0"))
		snprintf(buf, size, "0");
}

/* A statistic vagent_stats_get knows: min, max, mean, or pN with
 * 0 < N <= 100 and at most 6 decimals. */
static bool stat_known(const char *s)
{
	const char *p;
	size_t decimals = 0;
	bool dot = false, digit = false;
	double v;

	if (!strcmp(s, "min") || !strcmp(s, "max") || !strcmp(s, "mean"))
		return true;
	if (s[0] != 'p')
		return false;
	for (p = s + 1; *p; p++) {
		if (*p == '.' && !dot && digit) {
			dot = true;
		} else if (isdigit((unsigned char)*p)) {
			digit = true;
			if (dot)
				decimals++;
		} else {
			return false;
		}
	}
	if (!digit || p[-1] == '.' || decimals > 6)
		return false;
	v = strtod(s + 1, NULL);
	return v > 0 && v <= 100;
}

static void metric_list(char *buf, size_t size)
{
	size_t used = 0;

	buf[0] = '\0';
	for (int m = 0; m < VAGENT_METRIC_COUNT && used < size; m++)
		used += (size_t)snprintf(buf + used, size - used, "%s%s", m ? ", " : "",
					 vagent_metric_name((vagent_metric)m));
}

bool vagent__slo_parse(const char *expr, struct vagent_slo *out,
		       char *problem, size_t size)
{
	const char *p, *start, *end;
	char name[64], *num_end, unit[8];
	size_t n;
	double v;

	memset(out, 0, sizeof(*out));
	problem[0] = '\0';
	if (!expr) {
		snprintf(problem, size, "empty expression");
		return false;
	}
	while (isspace((unsigned char)*expr))
		expr++;
	n = strlen(expr);
	while (n > 0 && isspace((unsigned char)expr[n - 1]))
		n--;
	if (n == 0) {
		snprintf(problem, size, "empty expression");
		return false;
	}
	if (n >= sizeof(out->expr)) {
		snprintf(problem, size, "longer than %zu characters",
			 sizeof(out->expr) - 1);
		return false;
	}
	memcpy(out->expr, expr, n);
	out->expr[n] = '\0';

	/* METRIC[.STAT] */
	p = start = out->expr;
	while (*p && (isalnum((unsigned char)*p) || *p == '_' || *p == '.'))
		p++;
	end = p;
	if (end == start) {
		snprintf(problem, size, "expected METRIC.STAT OP VALUE, e.g. e2e.p95<=1000ms");
		return false;
	}
	if ((size_t)(end - start) >= sizeof(name)) {
		snprintf(problem, size, "metric name too long");
		return false;
	}
	memcpy(name, start, (size_t)(end - start));
	name[end - start] = '\0';
	if (!strcmp(name, "wer")) {
		out->is_wer = true;
	} else {
		char *dot = strchr(name, '.');
		char list[256];
		vagent_metric m;

		if (dot)
			*dot = '\0';
		if (vagent_metric_from_name(name, &m) != VAGENT_OK) {
			metric_list(list, sizeof(list));
			snprintf(problem, size, "unknown metric \"%s\" (one of %s; or wer)",
				 name, list);
			return false;
		}
		out->metric = m;
		if (!dot) {
			snprintf(problem, size, "\"%s\" needs a statistic: %s.p95, %s.max, ...",
				 name, name, name);
			return false;
		}
		if (strlen(dot + 1) >= sizeof(out->stat) || !stat_known(dot + 1)) {
			snprintf(problem, size, "unknown statistic \"%s\" (p50, p90, p95, "
				 "p99, any pN with 0 < N <= 100, min, max, mean)", dot + 1);
			return false;
		}
		snprintf(out->stat, sizeof(out->stat), "%s", dot + 1);
	}

	/* OP */
	while (isspace((unsigned char)*p))
		p++;
	if (p[0] == '<' || p[0] == '>') {
		bool eq = p[1] == '=';

		out->op = p[0] == '<' ? (eq ? VAGENT_SLO_LE : VAGENT_SLO_LT)
				      : (eq ? VAGENT_SLO_GE : VAGENT_SLO_GT);
		p += eq ? 2 : 1;
	} else if (p[0] == '=' || p[0] == '!') {
		snprintf(problem, size, "operator must be <, <=, > or >= (not \"%.2s\")", p);
		return false;
	} else {
		snprintf(problem, size, "missing operator (<, <=, > or >=) after \"%.*s\"",
			 (int)(end - start), start);
		return false;
	}

	/* VALUE[unit] */
	while (isspace((unsigned char)*p))
		p++;
	if (!*p) {
		snprintf(problem, size, "missing value after \"%s\"", op_names[out->op]);
		return false;
	}
	if (!isdigit((unsigned char)*p) && *p != '.') {
		snprintf(problem, size, "value \"%s\" is not a non-negative number", p);
		return false;
	}
	errno = 0;
	v = strtod(p, &num_end);
	if (num_end == p || errno || !isfinite(v) || v < 0) {
		snprintf(problem, size, "value \"%s\" is not a non-negative number", p);
		return false;
	}
	p = num_end;
	while (isspace((unsigned char)*p))
		p++;
	n = 0;
	while (isalpha((unsigned char)p[n]) || p[n] == '%')
		n++;
	if (n >= sizeof(unit)) {
		snprintf(problem, size, "unknown unit \"%.*s\"", (int)n, p);
		return false;
	}
	memcpy(unit, p, n);
	unit[n] = '\0';
	p += n;
	while (isspace((unsigned char)*p))
		p++;
	if (*p) {
		snprintf(problem, size, "unexpected \"%s\" after the value", p);
		return false;
	}
	if (out->is_wer) {
		if (!strcmp(unit, "%")) {
			v /= 100;
		} else if (unit[0]) {
			snprintf(problem, size, "wer is a fraction (0.1) or a percentage "
				 "(10%%), not \"%s\"", unit);
			return false;
		}
	} else {
		if (!strcmp(unit, "s")) {
			v *= 1000;
		} else if (!strcmp(unit, "%")) {
			snprintf(problem, size, "\"%%\" is for wer; %s takes ms or s",
				 vagent_metric_name(out->metric));
			return false;
		} else if (unit[0] && strcmp(unit, "ms")) {
			snprintf(problem, size, "unknown unit \"%s\" (ms or s)", unit);
			return false;
		}
	}
	out->value = v;
	return true;
}

vagent_status vagent_slo_parse(const char *expr, struct vagent_slo *out,
			       struct vagent_error *err)
{
	char problem[400];
	struct vagent_slo tmp;

	if (!out)
		out = &tmp;
	if (!vagent__slo_parse(expr, out, problem, sizeof(problem)))
		return vagent__error_set(err, VAGENT_EINVAL, NULL, "SLO \"%.100s\": %s",
					 expr ? expr : "", problem);
	vagent_error_clear(err);
	return VAGENT_OK;
}

static bool compare(double v, vagent_slo_op op, double limit)
{
	switch (op) {
	case VAGENT_SLO_LT: return v < limit;
	case VAGENT_SLO_LE: return v <= limit;
	case VAGENT_SLO_GT: return v > limit;
	case VAGENT_SLO_GE: return v >= limit;
	}
	return false;
}

/* A fraction as a percentage ("12.5%"). */
static void fmt_pct(char *buf, size_t size, double frac)
{
	size_t n;

	vagent__fmt_ms(buf, size - 1, frac * 100);
	n = strlen(buf);
	buf[n] = '%';
	buf[n + 1] = '\0';
}

void vagent_slo_eval(const struct vagent_slo *slo,
		     const struct vagent_stats *stats, bool has_wer, double wer,
		     struct vagent_slo_result *out, char *detail,
		     size_t detail_len)
{
	char dummy[8], v[48], lim[48];
	double us;

	if (!detail) {
		detail = dummy;
		detail_len = sizeof(dummy);
	}
	memset(out, 0, sizeof(*out));
	out->expr = slo->expr;
	if (slo->is_wer) {
		if (!has_wer) {
			snprintf(detail, detail_len, "wer: no WER (no turn with a known "
				 "caller text)");
			return;
		}
		out->has_value = true;
		out->value = wer;
		out->passed = compare(wer, slo->op, slo->value);
		fmt_pct(v, sizeof(v), wer);
		fmt_pct(lim, sizeof(lim), slo->value);
		snprintf(detail, detail_len, "wer = %s %s %s", v,
			 out->passed ? op_names[slo->op] : op_negated[slo->op], lim);
		return;
	}
	if (!stats || vagent_stats_get(stats, slo->metric, slo->stat, &us) != VAGENT_OK) {
		snprintf(detail, detail_len, "%s.%s: no samples of %s",
			 vagent_metric_name(slo->metric), slo->stat,
			 vagent_metric_name(slo->metric));
		return;
	}
	out->has_value = true;
	out->value = us / 1000.0;
	out->passed = compare(out->value, slo->op, slo->value);
	vagent__fmt_ms(v, sizeof(v), out->value);
	vagent__fmt_ms(lim, sizeof(lim), slo->value);
	snprintf(detail, detail_len, "%s.%s = %s ms %s %s ms",
		 vagent_metric_name(slo->metric), slo->stat, v,
		 out->passed ? op_names[slo->op] : op_negated[slo->op], lim);
}

/* ---- built-in SLO profiles (docs/bench.md) ---- */

static const char *const profile_realtime[] = {
	"stt_first_partial.p95<250ms", "e2e.p95<1000ms", "barge_in_stop.p95<200ms", NULL,
};
static const char *const profile_alerting[] = {
	"e2e.p90<3500ms", "e2e.p99<5000ms", "wer<=0.08", NULL,
};
static const char *const profile_names[] = { "realtime", "alerting", NULL };

const char *const *vagent_slo_profile(const char *name)
{
	if (name && !strcmp(name, "realtime"))
		return profile_realtime;
	if (name && !strcmp(name, "alerting"))
		return profile_alerting;
	return NULL;
}

const char *const *vagent_slo_profile_names(void)
{
	return profile_names;
}
