/*
 * options.c — the option-table parser and --help printer used by every
 * command (see options.h).
 */
#include <stdio.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <errno.h>
#include <math.h>

#include "options.h"

void cmd_error(const char *fmt, ...)
{
	va_list ap;

	fflush(stdout);
	fputs("vagent: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

int cmd_usage_error(const char *cmd, const char *fmt, ...)
{
	va_list ap;

	fflush(stdout);
	fprintf(stderr, "vagent%s%s: ", cmd ? " " : "", cmd ? cmd : "");
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fprintf(stderr, " (see 'vagent %s%s--help')\n", cmd ? cmd : "", cmd ? " " : "");
	return 2;
}

static const struct cmd_option *find_long(const struct cmd_option *opts,
					  const char *name, size_t len, bool *negated)
{
	*negated = false;
	for (const struct cmd_option *o = opts; o->type != OPT_END; o++) {
		if (!o->long_name)
			continue;
		if (strlen(o->long_name) == len && !strncmp(o->long_name, name, len))
			return o;
	}
	/* --no-NAME for booleans. */
	if (len > 3 && !strncmp(name, "no-", 3)) {
		for (const struct cmd_option *o = opts; o->type != OPT_END; o++) {
			if (o->type != OPT_BOOL || !o->long_name)
				continue;
			if (strlen(o->long_name) == len - 3 &&
			    !strncmp(o->long_name, name + 3, len - 3)) {
				*negated = true;
				return o;
			}
		}
	}
	return NULL;
}

static const struct cmd_option *find_short(const struct cmd_option *opts, int c)
{
	for (const struct cmd_option *o = opts; o->type != OPT_END; o++)
		if (o->short_name == c && o->type != OPT_GROUP)
			return o;
	return NULL;
}

static void opt_label(const struct cmd_option *o, char *buf, size_t n)
{
	if (o->long_name)
		snprintf(buf, n, "--%s", o->long_name);
	else
		snprintf(buf, n, "-%c", o->short_name);
}

/* Store `arg` into the option's value; returns 0 or PARSE_OPT_ERROR. */
static int set_value(const struct cmd_usage *u, const struct cmd_option *o,
		     const char *arg, bool negated)
{
	char label[64], *end;

	opt_label(o, label, sizeof(label));
	switch (o->type) {
	case OPT_BOOL:
		*(bool *)o->value = !negated;
		return 0;
	case OPT_COUNT:
		(*(int *)o->value)++;
		return 0;
	case OPT_STRING:
		*(const char **)o->value = arg;
		return 0;
	case OPT_STRINGS: {
		struct opt_strings *l = o->value;

		if (l->n == OPT_STRINGS_MAX) {
			cmd_usage_error(u->name, "%s: more than %d of them", label, OPT_STRINGS_MAX);
			return PARSE_OPT_ERROR;
		}
		l->v[l->n++] = arg;
		return 0;
	}
	case OPT_CHOICE:
		for (const char *const *c = o->choices; *c; c++) {
			if (!strcmp(*c, arg)) {
				*(const char **)o->value = *c;
				return 0;
			}
		}
		{
			char list[256] = "";
			size_t len = 0;
			for (const char *const *c = o->choices; *c && len < sizeof(list); c++)
				len += (size_t)snprintf(list + len, sizeof(list) - len, "%s%s",
							c == o->choices ? "" : ", ", *c);
			cmd_usage_error(u->name, "%s: unknown value '%s' (expected one of: %s)",
					label, arg, list);
		}
		return PARSE_OPT_ERROR;
	case OPT_INT: {
		long v;
		errno = 0;
		v = strtol(arg, &end, 10);
		if (errno || end == arg || *end) {
			cmd_usage_error(u->name, "%s: '%s' is not an integer", label, arg);
			return PARSE_OPT_ERROR;
		}
		if ((o->min != 0 || o->max != 0) && (v < o->min || v > o->max)) {
			cmd_usage_error(u->name, "%s: %ld is out of range [%.0f, %.0f]",
					label, v, o->min, o->max);
			return PARSE_OPT_ERROR;
		}
		*(long *)o->value = v;
		return 0;
	}
	case OPT_DOUBLE: {
		double v;
		errno = 0;
		v = strtod(arg, &end);
		if (errno || end == arg || *end || !isfinite(v)) {
			cmd_usage_error(u->name, "%s: '%s' is not a number", label, arg);
			return PARSE_OPT_ERROR;
		}
		if ((o->min != 0 || o->max != 0) && (v < o->min || v > o->max)) {
			cmd_usage_error(u->name, "%s: %g is out of range [%g, %g]",
					label, v, o->min, o->max);
			return PARSE_OPT_ERROR;
		}
		*(double *)o->value = v;
		return 0;
	}
	case OPT_END:
	case OPT_GROUP:
		break;
	}
	return PARSE_OPT_ERROR;
}

static bool takes_arg(const struct cmd_option *o)
{
	return o->type == OPT_STRING || o->type == OPT_STRINGS || o->type == OPT_INT ||
	       o->type == OPT_DOUBLE || o->type == OPT_CHOICE;
}

int parse_options(const struct cmd_usage *u, const struct cmd_option *opts,
		  int argc, char **argv)
{
	int npos = 0;
	bool only_positional = false;

	for (int i = 1; i < argc; i++) {
		char *a = argv[i];

		if (only_positional || a[0] != '-' || !a[1]) {
			argv[npos++] = a;
			continue;
		}
		if (!strcmp(a, "--")) {
			only_positional = true;
			continue;
		}
		if (!strcmp(a, "--help") || !strcmp(a, "-h")) {
			print_usage(u, opts, stdout);
			return PARSE_OPT_HELP;
		}
		if (a[1] == '-') {
			const char *name = a + 2, *eq = strchr(name, '=');
			size_t len = eq ? (size_t)(eq - name) : strlen(name);
			bool neg;
			const struct cmd_option *o = find_long(opts, name, len, &neg);
			const char *arg = NULL;

			if (!o) {
				cmd_usage_error(u->name, "unknown option '--%.*s'", (int)len, name);
				return PARSE_OPT_ERROR;
			}
			if (takes_arg(o)) {
				if (eq)
					arg = eq + 1;
				else if (i + 1 < argc)
					arg = argv[++i];
				else {
					cmd_usage_error(u->name, "option '--%s' needs a value (%s)",
							o->long_name, o->argh ? o->argh : "VALUE");
					return PARSE_OPT_ERROR;
				}
			} else if (eq) {
				cmd_usage_error(u->name, "option '--%s' takes no value", o->long_name);
				return PARSE_OPT_ERROR;
			}
			if (set_value(u, o, arg, neg))
				return PARSE_OPT_ERROR;
			continue;
		}
		/* A bundle of short options: -qv, -oFILE, -o FILE. */
		for (char *p = a + 1; *p; p++) {
			const struct cmd_option *o = find_short(opts, (unsigned char)*p);
			const char *arg = NULL;

			if (!o) {
				cmd_usage_error(u->name, "unknown option '-%c'", *p);
				return PARSE_OPT_ERROR;
			}
			if (takes_arg(o)) {
				if (p[1])
					arg = p + 1;
				else if (i + 1 < argc)
					arg = argv[++i];
				else {
					cmd_usage_error(u->name, "option '-%c' needs a value (%s)",
							*p, o->argh ? o->argh : "VALUE");
					return PARSE_OPT_ERROR;
				}
				if (set_value(u, o, arg, false))
					return PARSE_OPT_ERROR;
				break;
			}
			if (set_value(u, o, NULL, false))
				return PARSE_OPT_ERROR;
		}
	}
	if (npos < u->min_args) {
		cmd_usage_error(u->name, "expected %s%d argument%s, got %d",
				u->max_args == u->min_args ? "" : "at least ",
				u->min_args, u->min_args == 1 ? "" : "s", npos);
		return PARSE_OPT_ERROR;
	}
	if (u->max_args >= 0 && npos > u->max_args) {
		cmd_usage_error(u->name, "unexpected argument '%s'", argv[u->max_args]);
		return PARSE_OPT_ERROR;
	}
	argv[npos] = NULL;
	return npos;
}

void print_usage(const struct cmd_usage *u, const struct cmd_option *opts, FILE *out)
{
	fprintf(out, "usage: %s\n\n%s\n", u->synopsis, u->summary);
	if (u->description)
		fprintf(out, "\n%s", u->description);
	fputc('\n', out);
	for (const struct cmd_option *o = opts; o->type != OPT_END; o++) {
		char left[64];
		int n = 0;

		if (o->type == OPT_GROUP) {
			fprintf(out, "\n%s\n", o->help);
			continue;
		}
		if (o->short_name && o->long_name)
			n = snprintf(left, sizeof(left), "-%c, --%s", o->short_name, o->long_name);
		else if (o->short_name)
			n = snprintf(left, sizeof(left), "-%c", o->short_name);
		else
			n = snprintf(left, sizeof(left), "    --%s", o->long_name);
		if (takes_arg(o) && n >= 0 && (size_t)n < sizeof(left))
			snprintf(left + n, sizeof(left) - (size_t)n, " %s", o->argh ? o->argh : "VALUE");
		if (strlen(left) > 24)
			fprintf(out, "  %s\n  %-24s  %s\n", left, "", o->help);
		else
			fprintf(out, "  %-24s  %s\n", left, o->help);
		if (o->type == OPT_CHOICE) {
			fprintf(out, "  %-24s  (", "");
			for (const char *const *c = o->choices; *c; c++)
				fprintf(out, "%s%s", c == o->choices ? "" : "|", *c);
			fputs(")\n", out);
		}
	}
	fprintf(out, "  %-24s  %s\n", "-h, --help", "show this help and exit");
	if (u->epilogue)
		fprintf(out, "\n%s", u->epilogue);
}
