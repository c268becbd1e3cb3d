/*
 * file.c — reading a whole input file (agent, scenario, routes, knowledge
 * files) into memory with the project's error conventions: every failure
 * names the file, a wrong path is bad input (exit 2), a failing disk is
 * an I/O error (exit 3).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/internal.h"

vagent_status vagent__read_file(const char *path, size_t max, char **out,
				size_t *len_out, struct vagent_error *err)
{
	FILE *f;
	char *buf = NULL;
	size_t len = 0, cap = 0;

	*out = NULL;
	if (len_out)
		*len_out = 0;
	f = fopen(path, "rb");
	if (!f)
		return vagent__error_open_input(err, errno, path);
	for (;;) {
		size_t n;

		if (cap - len < 4096) {
			char *nb;

			if (cap > max + 8192) {
				fclose(f);
				free(buf);
				return vagent__error_set(err, VAGENT_EINVAL, path,
							 "larger than %zu MiB", max >> 20);
			}
			cap = cap ? cap * 2 : 16384;
			nb = realloc(buf, cap);
			if (!nb) {
				fclose(f);
				free(buf);
				return vagent__error_set(err, VAGENT_ENOMEM, path,
							 "out of memory");
			}
			buf = nb;
		}
		n = fread(buf + len, 1, cap - len - 1, f);
		len += n;
		if (n == 0)
			break;
	}
	if (ferror(f)) {
		int e = errno;

		fclose(f);
		free(buf);
		if (e == EISDIR)
			return vagent__error_set(err, VAGENT_EINVAL, path, "is a directory");
		return vagent__error_set(err, VAGENT_EIO, path, "read error: %s",
					 strerror(e ? e : EIO));
	}
	fclose(f);
	if (len > max) {
		free(buf);
		return vagent__error_set(err, VAGENT_EINVAL, path, "larger than %zu MiB",
					 max >> 20);
	}
	buf[len] = '\0';
	*out = buf;
	if (len_out)
		*len_out = len;
	return VAGENT_OK;
}
