/*
 * help.c — `vagent help [COMMAND]`: the overview generated from the command
 * table, or one command's --help.
 */
#include <stdio.h>
#include <string.h>

#include "vagent.h"
#include "builtins.h"
#include "commands.h"
#include "options.h"

void print_main_usage(FILE *out)
{
	fprintf(out,
		"usage: vagent [--version] [--help] COMMAND [ARGS]\n"
		"\n"
		"vagent is a toolkit and test harness for real-time voice agents.\n"
		"\n"
		"Commands:\n");
	for (const struct command *c = commands; c->name; c++)
		fprintf(out, "  %-10s %s\n", c->name, c->summary);
	fprintf(out,
		"\n"
		"Exit codes:\n"
		"  0  everything passed\n"
		"  1  an expectation or SLO failed\n"
		"  2  usage error or invalid input file\n"
		"  3  infrastructure failure (I/O, provider, device, auth)\n"
		"\n"
		"'vagent help COMMAND' or 'vagent COMMAND --help' shows a command's options.\n");
}

static const struct cmd_usage help_usage = {
	.name = "help",
	.synopsis = "vagent help [COMMAND [SUBCOMMAND]]",
	.summary = "Show the list of commands, or the full help of one command.",
	.description = "'vagent help COMMAND' is 'vagent COMMAND --help'; 'vagent help audio info'\n"
		       "is 'vagent audio info --help'.\n",
	.min_args = 0, .max_args = 2,
};

int cmd_help(int argc, char **argv)
{
	static const struct cmd_option opts[] = { OPT_END_() };
	const struct command *c;
	int n = parse_options(&help_usage, opts, argc, argv);
	char help[] = "--help";
	char *sub_argv[4];

	if (n == PARSE_OPT_HELP)
		return 0;
	if (n < 0)
		return 2;
	if (n == 0) {
		print_main_usage(stdout);
		return 0;
	}
	c = find_command(argv[0]);
	if (!c)
		return cmd_usage_error("help", "'%s' is not a vagent command", argv[0]);
	/* argv[0..n-1] are ours (parse_options moved them there). */
	sub_argv[0] = argv[0];
	if (n == 2)
		sub_argv[1] = argv[1];
	sub_argv[n] = help;
	sub_argv[n + 1] = NULL;
	return c->fn(n + 1, sub_argv);
}
