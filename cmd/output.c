/*
 * output.c — see output.h: one place that writes --json results, so every
 * command reports an unwritable file the same way (exit 3, errno's reason).
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "options.h"
#include "output.h"

int cmd_write_output(const char *path, const char *text)
{
	FILE *f;
	int e = 0;

	if (!strcmp(path, "-")) {
		fputs(text, stdout);
		fputc('\n', stdout);
		return 0;
	}
	f = fopen(path, "w");
	if (!f) {
		cmd_error("%s: cannot create: %s", path, strerror(errno));
		return 3;
	}
	if (fputs(text, f) == EOF || fputc('\n', f) == EOF)
		e = errno;
	if (fclose(f) && !e)
		e = errno;
	if (e) {
		cmd_error("%s: write failed: %s", path, strerror(e));
		return 3;
	}
	return 0;
}
