/*
 * options.h — declarative option tables for vagent's commands (after git's
 * parse-options): one table drives parsing, validation and --help.
 */
#ifndef VAGENT_CMD_OPTIONS_H
#define VAGENT_CMD_OPTIONS_H

#include <stdbool.h>
#include <stdio.h>

enum opt_type {
	OPT_END = 0,
	OPT_BOOL,     /* bool *: set to true (--no-NAME sets false) */
	OPT_STRING,   /* const char **: argument, points into argv */
	OPT_INT,      /* long *: integer within [min, max] */
	OPT_DOUBLE,   /* double *: number within [min, max] */
	OPT_CHOICE,   /* const char **: one of `choices` (NULL-terminated) */
	OPT_COUNT,    /* int *: incremented each time (-v -v) */
	OPT_GROUP,    /* heading in --help */
	OPT_STRINGS,  /* struct opt_strings *: each use adds its argument */
};

struct cmd_option {
	enum opt_type type;
	int short_name;               /* 0 for none */
	const char *long_name;        /* without the leading "--" */
	void *value;
	const char *argh;             /* argument placeholder in --help */
	const char *help;
	const char *const *choices;   /* OPT_CHOICE */
	double min, max;              /* OPT_INT / OPT_DOUBLE bounds */
};

/* The arguments of a repeatable option (--slo A --slo B), in order;
 * pointers into argv. */
#define OPT_STRINGS_MAX 64
struct opt_strings {
	const char *v[OPT_STRINGS_MAX];
	size_t n;
};

#define OPT_END_()                       { .type = OPT_END }
#define OPT_GROUP_(h)                    { .type = OPT_GROUP, .help = (h) }
#define OPT_BOOL_(s, l, v, h)            { OPT_BOOL, (s), (l), (v), NULL, (h), NULL, 0, 0 }
#define OPT_COUNT_(s, l, v, h)           { OPT_COUNT, (s), (l), (v), NULL, (h), NULL, 0, 0 }
#define OPT_STRING_(s, l, v, a, h)       { OPT_STRING, (s), (l), (v), (a), (h), NULL, 0, 0 }
#define OPT_INT_(s, l, v, a, h, lo, hi)  { OPT_INT, (s), (l), (v), (a), (h), NULL, (lo), (hi) }
#define OPT_DOUBLE_(s, l, v, a, h, lo, hi) { OPT_DOUBLE, (s), (l), (v), (a), (h), NULL, (lo), (hi) }
#define OPT_STRINGS_(s, l, v, a, h)      { OPT_STRINGS, (s), (l), (v), (a), (h), NULL, 0, 0 }
#define OPT_CHOICE_(s, l, v, a, h, c)    { OPT_CHOICE, (s), (l), (v), (a), (h), (c), 0, 0 }

/* What a command tells the option parser about itself. */
struct cmd_usage {
	const char *name;        /* "wer" */
	const char *synopsis;    /* "vagent wer [OPTION]... REF HYP" */
	const char *summary;     /* one line */
	const char *description; /* paragraphs printed after the synopsis, may be NULL */
	const char *epilogue;    /* examples etc. printed after the options, may be NULL */
	int min_args, max_args;  /* positional argument count; max -1 = unbounded */
};

/* parse_options() results beyond "the number of positionals left". */
#define PARSE_OPT_HELP  (-1)  /* --help was printed: exit 0 */
#define PARSE_OPT_ERROR (-2)  /* an error was printed: exit 2 */

/*
 * Parse argv[1..argc-1] against `opts`. Positional arguments are moved to
 * the front of argv (argv[0..n-1]) and their count n returned. "--" ends
 * option parsing. Prints usage errors as one line plus a hint to stderr.
 */
int parse_options(const struct cmd_usage *usage, const struct cmd_option *opts,
		  int argc, char **argv);

/* Print the full --help text for a command to `out`. */
void print_usage(const struct cmd_usage *usage, const struct cmd_option *opts,
		 FILE *out);

/* Print "vagent: <formatted>" to stderr (one line). */
void cmd_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* Print a usage error for `cmd`, with a hint to see --help; returns 2. */
int cmd_usage_error(const char *cmd, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

#endif
