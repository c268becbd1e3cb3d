/*
 * check_status.c — the status enum: names, messages, exit codes, errors.
 */
#include <check.h>
#include <errno.h>
#include <string.h>

#include "vagent.h"
#include "core/internal.h"

START_TEST(test_strerror_and_names)
{
	ck_assert_str_eq(vagent_strerror(VAGENT_OK), "success");
	ck_assert_str_eq(vagent_strerror(VAGENT_ENOENT), "no such file");
	ck_assert_str_eq(vagent_status_name(VAGENT_EFORMAT), "EFORMAT");
	ck_assert_str_eq(vagent_strerror((vagent_status)-999), "unknown status");
	ck_assert_str_eq(vagent_status_name((vagent_status)-999), "UNKNOWN");
}
END_TEST

START_TEST(test_exit_codes_follow_design)
{
	/* Expected outcomes are not failures. */
	ck_assert_int_eq(vagent_status_exit_code(VAGENT_OK), 0);
	ck_assert_int_eq(vagent_status_exit_code(VAGENT_EOS), 0);
	/* Bad input is 2. */
	ck_assert_int_eq(vagent_status_exit_code(VAGENT_EINVAL), 2);
	ck_assert_int_eq(vagent_status_exit_code(VAGENT_ENOENT), 2);
	ck_assert_int_eq(vagent_status_exit_code(VAGENT_EFORMAT), 2);
	ck_assert_int_eq(vagent_status_exit_code(VAGENT_EUNSUPPORTED), 2);
	/* Broken infrastructure is 3. */
	ck_assert_int_eq(vagent_status_exit_code(VAGENT_EIO), 3);
	ck_assert_int_eq(vagent_status_exit_code(VAGENT_EPROVIDER), 3);
	ck_assert_int_eq(vagent_status_exit_code(VAGENT_EAUTH), 3);
	ck_assert_int_eq(vagent_status_exit_code(VAGENT_EDEVICE), 3);
	ck_assert_int_eq(vagent_status_exit_code(VAGENT_ETIMEOUT), 3);
	ck_assert_int_eq(vagent_status_exit_code((vagent_status)-999), 3);
}
END_TEST

START_TEST(test_error_set_is_one_line_and_names_source)
{
	struct vagent_error err;
	vagent_status st;

	vagent_error_clear(&err);
	ck_assert_int_eq(err.status, VAGENT_OK);
	ck_assert_str_eq(err.message, "");
	st = vagent__error_set(&err, VAGENT_EFORMAT, "a.wav", "bad %s\nheader", "RIFF");
	ck_assert_int_eq(st, VAGENT_EFORMAT);
	ck_assert_int_eq(err.status, VAGENT_EFORMAT);
	ck_assert_str_eq(err.message, "a.wav: bad RIFF header");
	/* NULL err is allowed everywhere. */
	ck_assert_int_eq(vagent__error_set(NULL, VAGENT_EIO, "x", "y"), VAGENT_EIO);
	vagent_error_clear(NULL);
	/* Overlong messages are truncated, not overflowed. */
	char longname[2000];
	memset(longname, 'a', sizeof(longname) - 1);
	longname[sizeof(longname) - 1] = '\0';
	vagent__error_set(&err, VAGENT_ENOENT, longname, "missing");
	ck_assert_uint_eq(strlen(err.message), sizeof(err.message) - 1);
}
END_TEST

/* Opening an input fails: the user's mistake is exit 2, the system's is 3.
 * (Permission errors cannot be provoked for real here: CI runs as root.) */
START_TEST(test_open_input_errors_are_classified)
{
	struct vagent_error err;

	ck_assert_int_eq(vagent__error_open_input(&err, ENOENT, "a.wav"), VAGENT_ENOENT);
	ck_assert_str_eq(err.message, "a.wav: no such file");
	ck_assert_int_eq(vagent__error_open_input(&err, ENOTDIR, "f/a.wav"), VAGENT_ENOENT);
	ck_assert_int_eq(vagent__error_open_input(&err, EACCES, "a.wav"), VAGENT_EINVAL);
	ck_assert_str_eq(err.message, "a.wav: cannot open: Permission denied");
	ck_assert_int_eq(vagent_status_exit_code(err.status), 2);
	ck_assert_int_eq(vagent__error_open_input(&err, EISDIR, "d"), VAGENT_EINVAL);
	ck_assert_int_eq(vagent__error_open_input(&err, EMFILE, "a.wav"), VAGENT_EIO);
	ck_assert_int_eq(vagent_status_exit_code(err.status), 3);
	ck_assert_str_eq(err.message, "a.wav: cannot open: Too many open files");
}
END_TEST

START_TEST(test_diags_collect_every_problem_once)
{
	struct vagent_diags d;

	vagent_diags_init(&d);
	vagent_diags_add(&d, "%s:%d: a: bad", "x.json", 3);
	vagent_diags_add(&d, "%s:%d: b: bad", "x.json", 5);
	vagent_diags_add(&d, "%s:%d: a: bad", "x.json", 3);   /* again */
	vagent_diags_add(NULL, "ignored");
	ck_assert_uint_eq(d.n, 2);
	ck_assert_str_eq(d.lines[0], "x.json:3: a: bad");
	ck_assert_str_eq(d.lines[1], "x.json:5: b: bad");
	for (int i = 0; i < VAGENT_DIAGS_MAX + 5; i++)
		vagent_diags_add(&d, "line %d", i);
	ck_assert_uint_eq(d.n, VAGENT_DIAGS_MAX);
	ck_assert_uint_eq(d.dropped, 7);
	vagent_diags_clear(&d);
	ck_assert_uint_eq(d.n, 0);
	ck_assert_ptr_null(d.lines);
}
END_TEST

Suite *suite_status(void)
{
	Suite *s = suite_create("status");
	TCase *tc = tcase_create("status");

	tcase_add_test(tc, test_strerror_and_names);
	tcase_add_test(tc, test_exit_codes_follow_design);
	tcase_add_test(tc, test_error_set_is_one_line_and_names_source);
	tcase_add_test(tc, test_open_input_errors_are_classified);
	tcase_add_test(tc, test_diags_collect_every_problem_once);
	suite_add_tcase(s, tc);
	return s;
}
