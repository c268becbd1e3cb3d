/*
 * commands.h — the command table shared by main.c and help.c.
 */
#ifndef VAGENT_CMD_COMMANDS_H
#define VAGENT_CMD_COMMANDS_H

#include <stdio.h>

struct command {
	const char *name;
	int (*fn)(int argc, char **argv);
	const char *summary;
};

extern const struct command commands[];

const struct command *find_command(const char *name);
void print_main_usage(FILE *out);

#endif
