/*
 * output.h — writing a command's machine-readable result (--json FILE) to
 * a file or, for "-", to stdout, with one-line errors.
 */
#ifndef VAGENT_CMD_OUTPUT_H
#define VAGENT_CMD_OUTPUT_H

/*
 * Write `text` and a newline to `path` ("-": stdout; a closed pipe there
 * is main()'s business). Returns 0, or 3 after printing
 * "vagent: PATH: reason" when the file cannot be created or written.
 */
int cmd_write_output(const char *path, const char *text);

#include <stddef.h>

/* Read file `path` (at most about `max` bytes) NUL-terminated into *out
 * (malloc'd). 0; else the error is printed and 2 (missing, too large)
 * or 3 (unreadable, out of memory) returned. */
int cmd_read_file(const char *path, size_t max, char **out, size_t *len_out);

/* Create directory `dir` (given as `option`, for the error) if needed.
 * 0; 3 when it cannot be created, 2 when it is not a directory. */
int cmd_make_dir(const char *dir, const char *option);

#endif
