/*
 * runner.c — the one test runner: every suite from tests/check_*.c (the list
 * is generated into suites.h), fork mode so a crash fails one test only.
 *
 *   runner [SUITE...]     run all suites, or only the named ones ("wer")
 *   CK_FORK=no runner     run in-process, for gdb and valgrind
 *   CK_VERBOSITY=verbose  print every test
 *   CK_TAP_LOG_FILE_NAME=- write TAP to stdout as well
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define X(fn) Suite *fn(void);
#include "suites.h"
#undef X

static const struct {
	const char *name;
	Suite *(*make)(void);
} all_suites[] = {
#define X(fn) { #fn + 6, fn },
#include "suites.h"
#undef X
};

static int wanted(const char *name, int argc, char **argv)
{
	if (argc < 2)
		return 1;
	for (int i = 1; i < argc; i++)
		if (!strcmp(argv[i], name))
			return 1;
	return 0;
}

int main(int argc, char **argv)
{
	SRunner *sr = NULL;
	int failed, matched = 0;

	for (size_t i = 0; i < sizeof(all_suites) / sizeof(all_suites[0]); i++) {
		if (!wanted(all_suites[i].name, argc, argv))
			continue;
		matched++;
		if (!sr)
			sr = srunner_create(all_suites[i].make());
		else
			srunner_add_suite(sr, all_suites[i].make());
	}
	if (!sr) {
		fprintf(stderr, "runner: no suite matches; suites are:");
		for (size_t i = 0; i < sizeof(all_suites) / sizeof(all_suites[0]); i++)
			fprintf(stderr, " %s", all_suites[i].name);
		fputc('\n', stderr);
		return 2;
	}
	srunner_run_all(sr, CK_ENV);
	failed = srunner_ntests_failed(sr);
	printf("%d suite%s, %d test%s, %d failed\n", matched, matched == 1 ? "" : "s",
	       srunner_ntests_run(sr), srunner_ntests_run(sr) == 1 ? "" : "s", failed);
	srunner_free(sr);
	return failed ? 1 : 0;
}
