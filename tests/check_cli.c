/*
 * check_cli.c — the command-line skeleton: command table, help, version,
 * option parsing errors and exit codes (DESIGN.md §2).
 */
#include <check.h>
#include <string.h>

#include "support/harness.h"
#include "vagent.h"

START_TEST(test_no_args_is_usage_error)
{
	struct run_result r = run_vagent(NULL);
	ck_assert_int_eq(r.exit_code, 2);
	ck_assert_ptr_nonnull(strstr(r.err, "usage: vagent"));
	run_result_free(&r);
}
END_TEST

START_TEST(test_version)
{
	struct run_result r = run_vagent("--version", NULL);
	ck_assert_int_eq(r.exit_code, 0);
	ck_assert_msg(!strncmp(r.out, "vagent ", 7), "got: %s", r.out);
	ck_assert_ptr_nonnull(strstr(r.out, vagent_version()));
	ck_assert_ptr_nonnull(strstr(r.out, "libsndfile"));
	run_result_free(&r);
}
END_TEST

START_TEST(test_help_lists_every_command)
{
	struct run_result r = run_vagent("help", NULL);
	ck_assert_int_eq(r.exit_code, 0);
	ck_assert_ptr_nonnull(strstr(r.out, "Commands:"));
	ck_assert_ptr_nonnull(strstr(r.out, "help"));
	ck_assert_ptr_nonnull(strstr(r.out, "Exit codes:"));
	run_result_free(&r);

	r = run_vagent("--help", NULL);
	ck_assert_int_eq(r.exit_code, 0);
	ck_assert_ptr_nonnull(strstr(r.out, "Commands:"));
	run_result_free(&r);
}
END_TEST

START_TEST(test_unknown_command_suggests)
{
	struct run_result r = run_vagent("hepl", NULL);
	ck_assert_int_eq(r.exit_code, 2);
	ck_assert_int_eq(count_lines(r.err), 1);
	ck_assert_ptr_nonnull(strstr(r.err, "'hepl' is not a vagent command"));
	ck_assert_ptr_nonnull(strstr(r.err, "did you mean 'help'"));
	ck_assert_str_eq(r.out, "");
	run_result_free(&r);

	r = run_vagent("frobnicate", NULL);
	ck_assert_int_eq(r.exit_code, 2);
	ck_assert_int_eq(count_lines(r.err), 1);
	ck_assert_ptr_null(strstr(r.err, "did you mean"));
	run_result_free(&r);
}
END_TEST

START_TEST(test_unknown_global_option)
{
	struct run_result r = run_vagent("--frob", NULL);
	ck_assert_int_eq(r.exit_code, 2);
	ck_assert_int_eq(count_lines(r.err), 1);
	ck_assert_ptr_nonnull(strstr(r.err, "unknown option '--frob'"));
	run_result_free(&r);
}
END_TEST

START_TEST(test_help_command_argument)
{
	struct run_result r = run_vagent("help", "help", NULL);
	ck_assert_int_eq(r.exit_code, 0);
	ck_assert_ptr_nonnull(strstr(r.out, "usage: vagent help"));
	run_result_free(&r);

	r = run_vagent("help", "nosuch", NULL);
	ck_assert_int_eq(r.exit_code, 2);
	ck_assert_int_eq(count_lines(r.err), 1);
	run_result_free(&r);

	r = run_vagent("help", "a", "b", NULL);
	ck_assert_int_eq(r.exit_code, 2);
	ck_assert_ptr_nonnull(strstr(r.err, "unexpected argument 'b'"));
	run_result_free(&r);
}
END_TEST

/* Every command in the overview answers --help with exit 0 and a usage
 * line, and rejects an unknown option with one line and exit 2. */
START_TEST(test_every_command_has_help_and_rejects_unknown_options)
{
	struct run_result list = run_vagent("help", NULL);
	const char *p = strstr(list.out, "Commands:\n");
	int seen = 0;

	ck_assert_ptr_nonnull(p);
	p += strlen("Commands:\n");
	while (!strncmp(p, "  ", 2)) {
		char name[32];
		char usage_line[64];
		ck_assert_int_eq(sscanf(p, " %31s", name), 1);
		struct run_result r = run_vagent(name, "--help", NULL);
		ck_assert_msg(r.exit_code == 0, "%s --help exited %d", name, r.exit_code);
		snprintf(usage_line, sizeof(usage_line), "usage: vagent %s", name);
		ck_assert_msg(strstr(r.out, usage_line), "%s --help: %s", name, r.out);
		run_result_free(&r);

		r = run_vagent(name, "--no-such-option", NULL);
		ck_assert_msg(r.exit_code == 2, "%s exited %d", name, r.exit_code);
		ck_assert_int_eq(count_lines(r.err), 1);
		ck_assert_ptr_nonnull(strstr(r.err, "unknown option '--no-such-option'"));
		ck_assert_ptr_nonnull(strstr(r.err, "--help"));
		run_result_free(&r);
		seen++;
		p = strchr(p, '\n') + 1;
	}
	ck_assert_int_ge(seen, 1);
	run_result_free(&list);
}
END_TEST

Suite *suite_cli(void)
{
	Suite *s = suite_create("cli");
	TCase *tc = tcase_create("cli");

	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, test_no_args_is_usage_error);
	tcase_add_test(tc, test_version);
	tcase_add_test(tc, test_help_lists_every_command);
	tcase_add_test(tc, test_unknown_command_suggests);
	tcase_add_test(tc, test_unknown_global_option);
	tcase_add_test(tc, test_help_command_argument);
	tcase_add_test(tc, test_every_command_has_help_and_rejects_unknown_options);
	suite_add_tcase(s, tc);
	return s;
}
