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

#endif
