/*
 * check_strbuf.c — the growable string used to build output text.
 */
#include <check.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/internal.h"

START_TEST(test_put_fill_printf_rtrim)
{
	struct vagent__strbuf b = { 0 };
	char *s;

	vagent__strbuf_puts(&b, "REF:");
	vagent__strbuf_fill(&b, ' ', 3);
	vagent__strbuf_printf(&b, "%d-%s", 42, "x");
	ck_assert_str_eq(b.p, "REF:   42-x");
	vagent__strbuf_fill(&b, ' ', 100);
	vagent__strbuf_rtrim(&b, ' ');
	ck_assert_str_eq(b.p, "REF:   42-x");
	ck_assert_uint_eq(b.len, strlen(b.p));
	s = vagent__strbuf_detach(&b);
	ck_assert_str_eq(s, "REF:   42-x");
	ck_assert_ptr_null(b.p);
	ck_assert_uint_eq(b.len, 0);
	free(s);
}
END_TEST

START_TEST(test_long_printf_and_growth)
{
	struct vagent__strbuf b = { 0 };
	char big[5000];

	memset(big, 'z', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	vagent__strbuf_puts(&b, "<");
	vagent__strbuf_printf(&b, "%s|%s", big, big);
	vagent__strbuf_puts(&b, ">");
	ck_assert_uint_eq(b.len, 1 + 2 * (sizeof(big) - 1) + 1 + 1);
	ck_assert_int_eq(b.p[0], '<');
	ck_assert_int_eq(b.p[sizeof(big)], '|');
	ck_assert_int_eq(b.p[b.len - 1], '>');
	ck_assert_int_eq(b.p[b.len], '\0');
	vagent__strbuf_release(&b);
	ck_assert_ptr_null(b.p);
}
END_TEST

START_TEST(test_empty_detach_and_sticky_oom)
{
	struct vagent__strbuf b = { 0 };
	char *s = vagent__strbuf_detach(&b);

	ck_assert_ptr_nonnull(s);
	ck_assert_str_eq(s, "");
	free(s);
	/* After an allocation failure appends are ignored and detach fails. */
	vagent__strbuf_puts(&b, "abc");
	b.oom = true;
	vagent__strbuf_puts(&b, "def");
	ck_assert_str_eq(b.p, "abc");
	ck_assert_ptr_null(vagent__strbuf_detach(&b));
	ck_assert_ptr_null(b.p);
	ck_assert(!b.oom);

	/* A length whose capacity would overflow size_t is an allocation
	 * failure, not a wrapped size and a heap overflow (or an endless
	 * doubling loop). The bytes are never read. */
	vagent__strbuf_puts(&b, "abc");
	vagent__strbuf_put(&b, "", SIZE_MAX - 2);
	ck_assert(b.oom);
	ck_assert_uint_eq(b.len, 3);
	vagent__strbuf_release(&b);
}
END_TEST

Suite *suite_strbuf(void)
{
	Suite *s = suite_create("strbuf");
	TCase *tc = tcase_create("strbuf");

	tcase_add_test(tc, test_put_fill_printf_rtrim);
	tcase_add_test(tc, test_long_printf_and_growth);
	tcase_add_test(tc, test_empty_detach_and_sticky_oom);
	suite_add_tcase(s, tc);
	return s;
}
