/*
 * check_cli.c — the command-line skeleton: command table, help, version,
 * option parsing errors and exit codes (DESIGN.md §2).
 */
#include <check.h>
#include <stdio.h>
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
	/* the engines behind the embedded stack, for bug reports */
	ck_assert_ptr_nonnull(strstr(r.out, "pocketsphinx "));
	ck_assert_ptr_nonnull(strstr(r.out, "flite "));
	ck_assert_ptr_nonnull(strstr(r.out, "libcurl "));
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

	r = run_vagent("help", "audio", "info", "x", NULL);
	ck_assert_int_eq(r.exit_code, 2);
	ck_assert_int_eq(count_lines(r.err), 1);
	ck_assert_ptr_nonnull(strstr(r.err, "unexpected argument 'x'"));
	run_result_free(&r);
}
END_TEST

/*
 * `vagent CMD [SUB] --help` exits 0 with "usage: vagent CMD [SUB]" on
 * stdout and a help text ending in a newline, `vagent help CMD [SUB]` prints
 * the same, and an unknown option is one stderr line and exit 2. A command
 * whose help has its own "Commands:" list (audio) has each of those checked
 * too. Returns how many commands were checked.
 */
static int check_command_help(const char *cmd, const char *sub)
{
	struct run_result r, h;
	char usage_line[128];
	int seen = 1;
	const char *p;

	r = sub ? run_vagent(cmd, sub, "--help", NULL) : run_vagent(cmd, "--help", NULL);
	ck_assert_msg(r.exit_code == 0, "%s %s --help exited %d", cmd, sub ? sub : "", r.exit_code);
	snprintf(usage_line, sizeof(usage_line), "usage: vagent %s%s%s", cmd, sub ? " " : "",
		 sub ? sub : "");
	ck_assert_msg(!strncmp(r.out, usage_line, strlen(usage_line)), "%s: %s", usage_line, r.out);
	ck_assert_msg(r.out[strlen(r.out) - 1] == '\n', "%s: help does not end in a newline", usage_line);
	ck_assert_str_eq(r.err, "");

	h = sub ? run_vagent("help", cmd, sub, NULL) : run_vagent("help", cmd, NULL);
	ck_assert_int_eq(h.exit_code, 0);
	ck_assert_str_eq(h.out, r.out);
	run_result_free(&h);

	h = sub ? run_vagent(cmd, sub, "--no-such-option", NULL)
		: run_vagent(cmd, "--no-such-option", NULL);
	ck_assert_msg(h.exit_code == 2, "%s exited %d", usage_line, h.exit_code);
	ck_assert_int_eq(count_lines(h.err), 1);
	ck_assert_ptr_nonnull(strstr(h.err, "unknown option '--no-such-option'"));
	ck_assert_ptr_nonnull(strstr(h.err, "--help"));
	ck_assert_str_eq(h.out, "");
	run_result_free(&h);

	p = sub ? NULL : strstr(r.out, "\nCommands:\n");
	if (p) {
		p += strlen("\nCommands:\n");
		for (; !strncmp(p, "  ", 2); p = strchr(p, '\n') + 1) {
			char name[32];
			ck_assert_int_eq(sscanf(p, " %31s", name), 1);
			seen += check_command_help(cmd, name);
		}
	}
	run_result_free(&r);
	return seen;
}

START_TEST(test_every_command_has_help_and_rejects_unknown_options)
{
	struct run_result list = run_vagent("help", NULL);
	const char *p = strstr(list.out, "Commands:\n");
	int commands = 0, seen = 0;

	ck_assert_ptr_nonnull(p);
	p += strlen("Commands:\n");
	for (; !strncmp(p, "  ", 2); p = strchr(p, '\n') + 1) {
		char name[32];
		ck_assert_int_eq(sscanf(p, " %31s", name), 1);
		seen += check_command_help(name, NULL);
		commands++;
	}
	ck_assert_int_ge(commands, 3);
	ck_assert_int_gt(seen, commands);   /* the audio subcommands too */
	run_result_free(&list);
}
END_TEST

/*
 * stdout a pipe whose reader has gone (`vagent wer ... | head -1`): no
 * message, no signal death, and the command's own exit code, so a CI gate
 * piped into head still reports its result.
 */
START_TEST(test_closed_stdout_pipe_keeps_exit_code)
{
	const char *ref = top_path("fixtures/wer/librispeech.ref.trn");
	const char *hyp = top_path("fixtures/wer/librispeech.hyp.trn");
	struct run_result r = run_vagent_stdout_closed("wer", ref, hyp, NULL);

	ck_assert_msg(r.exit_code == 0, "exit %d: %s", r.exit_code, r.err);
	ck_assert_str_eq(r.err, "");
	run_result_free(&r);

	r = run_vagent_stdout_closed("wer", "-q", "--max-wer", "1%", ref, hyp, NULL);
	ck_assert_int_eq(r.exit_code, 1);
	ck_assert_int_eq(count_lines(r.err), 1);
	ck_assert_ptr_nonnull(strstr(r.err, "exceeds --max-wer"));
	run_result_free(&r);

	r = run_vagent_stdout_closed("--help", NULL);
	ck_assert_int_eq(r.exit_code, 0);
	ck_assert_str_eq(r.err, "");
	run_result_free(&r);

	r = run_vagent_stdout_closed("audio", "info", top_path("fixtures/noise/exercise_bike.wav"), NULL);
	ck_assert_int_eq(r.exit_code, 0);
	ck_assert_str_eq(r.err, "");
	run_result_free(&r);
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
	tcase_add_test(tc, test_closed_stdout_pipe_keeps_exit_code);
	suite_add_tcase(s, tc);
	return s;
}
