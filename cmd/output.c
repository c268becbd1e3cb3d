/*
 * output.c — see output.h: one place that writes --json results, so every
 * command reports an unwritable file the same way (exit 3, errno's reason),
 * and reads an input file or makes an output directory with the same
 * one-line errors.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

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

int cmd_read_file(const char *path, size_t max, char **out, size_t *len_out)
{
	FILE *f = fopen(path, "rb");
	char *text = NULL;
	size_t len = 0, cap = 0;

	*out = NULL;
	*len_out = 0;
	if (!f) {
		cmd_error("%s: cannot open: %s", path, strerror(errno));
		return errno == ENOENT ? 2 : 3;
	}
	for (;;) {
		size_t got;

		if (cap - len < 4096) {
			char *t = cap <= max ? realloc(text, cap ? cap * 2 : 16384) : NULL;

			if (!t) {
				cmd_error("%s: %s", path, cap > max ? "too large" : "out of memory");
				free(text);
				fclose(f);
				return cap > max ? 2 : 3;
			}
			text = t;
			cap = cap ? cap * 2 : 16384;
		}
		got = fread(text + len, 1, cap - len - 1, f);
		len += got;
		if (got == 0)
			break;
	}
	if (ferror(f)) {
		cmd_error("%s: read failed: %s", path, strerror(errno));
		free(text);
		fclose(f);
		return 3;
	}
	fclose(f);
	text[len] = '\0';
	*out = text;
	*len_out = len;
	return 0;
}

int cmd_make_dir(const char *dir, const char *option)
{
	struct stat sb;

	if (mkdir(dir, 0777) != 0 && errno != EEXIST) {
		cmd_error("%s: cannot create the directory: %s", dir, strerror(errno));
		return 3;
	}
	if (stat(dir, &sb) != 0 || !S_ISDIR(sb.st_mode)) {
		cmd_error("%s: %s is not a directory", option, dir);
		return 2;
	}
	return 0;
}
