/*
 * chromium.h — headless Chromium for the tests that check a generated
 * HTML page as a browser renders it (check_report, check_bench_html).
 */
#ifndef VAGENT_TESTS_CHROMIUM_H
#define VAGENT_TESTS_CHROMIUM_H

/*
 * Run chromium with `args` (after the program name; NULL-terminated, at
 * most 22), its stdout captured; killed (with everything it started) after
 * `timeout_s`. The wait is on a pidfd and the pipe, never a sleep. Returns
 * the output (malloc'd) and the exit status in *status (-1 when killed for
 * the timeout; exit status 127: chromium is not installed).
 */
char *run_chromium(const char *const *args, int timeout_s, int *status);

#endif
