/*
 * harness.h — helpers shared by the test suites: locating fixtures and the
 * vagent binary, running a command and capturing its output, temp dirs.
 */
#ifndef VAGENT_TESTS_HARNESS_H
#define VAGENT_TESTS_HARNESS_H

#include <stdbool.h>
#include <stddef.h>

/* The result of running a command: exit code and captured output. */
struct run_result {
	int exit_code;      /* 0..255, or 128+signal when killed */
	char *out;          /* stdout, NUL-terminated (owned) */
	char *err;          /* stderr, NUL-terminated (owned) */
};

/* Absolute path of a file under the source tree ("fixtures/wer/x.trn").
 * Returns a static buffer overwritten by the next call of the same slot
 * (there are 8 slots used round-robin). */
const char *top_path(const char *rel);

/* The vagent binary under test ($VAGENT_BIN, else ./vagent). */
const char *vagent_bin(void);

/*
 * Run argv (argv[0] is looked up in PATH unless it has a '/'), optionally
 * feeding `input` on stdin, and capture both outputs. Aborts the test on
 * fork/exec failure. Free with run_result_free().
 */
struct run_result run_argv(char *const argv[], const char *input);

/* Run the vagent binary with the given NULL-terminated argument list. */
struct run_result run_vagent(const char *arg, ...);

/* The same with stdout a pipe that nobody reads (its read end is closed
 * before vagent starts), as in `vagent ... | head -1` once head has
 * exited; `out` stays empty. */
struct run_result run_vagent_stdout_closed(const char *arg, ...);

void run_result_free(struct run_result *r);

/* Create a fresh temporary directory; returns a malloc'd path. */
char *make_temp_dir(void);

/* Remove a directory tree created by make_temp_dir(). */
void remove_tree(const char *path);

/*
 * A temporary directory per test, as a checked fixture:
 *   tcase_add_checked_fixture(tc, temp_dir_setup, temp_dir_teardown);
 * temp_dir is its path while a test runs.
 */
extern char *temp_dir;
void temp_dir_setup(void);
void temp_dir_teardown(void);

/* "<temp_dir>/<name>" in a static buffer (8 slots used round-robin). With
 * temp_file(), `content` (a string) is written to it first. */
const char *temp_path(const char *name);
const char *temp_file(const char *name, const char *content);

/* Write `len` bytes to `path`; aborts the test on failure. */
void write_file(const char *path, const void *data, size_t len);

/* Read a whole file; returns malloc'd NUL-terminated data or NULL. */
char *read_file(const char *path, size_t *len);

/* The example agent's order service (scenarios/services/orders.json) on
 * loopback, its URL in ACME_ORDERS_URL; aborts the test on failure. */
void orders_service_start(void);
void orders_service_stop(void);

/* Count non-overlapping lines of `text`. */
int count_lines(const char *text);

struct vagent_loop;

/* Run `loop` until cond() holds (checked every 5 ms of loop time) or `ms`
 * of loop time pass; returns cond(). For the provider suites' waits. */
bool loop_run_until_cond(struct vagent_loop *loop, bool (*cond)(void), int ms);

#endif
