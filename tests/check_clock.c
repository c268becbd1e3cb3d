/*
 * check_clock.c — session clocks: tick conversions, the virtual clock that
 * moves only when told, the real clock that never goes back.
 */
#include <check.h>
#include <stdint.h>
#include <string.h>

#include "loop/loop_int.h"

START_TEST(test_ns_tick_conversions)
{
	ck_assert_int_eq(vagent__ns_to_ticks(0), 0);
	ck_assert_int_eq(vagent__ns_to_ticks(1000000), VAGENT_TICKS_PER_MS);
	ck_assert_int_eq(vagent__ns_to_ticks(INT64_C(1000000000)), VAGENT_TICKS_PER_SEC);
	/* 1 µs is 705.6 ticks: floor. */
	ck_assert_int_eq(vagent__ns_to_ticks(1000), 705);
	ck_assert_int_eq(vagent__ns_to_ticks(INT64_C(86400000000000)),
			 86400 * VAGENT_TICKS_PER_SEC);
	ck_assert_int_eq(vagent__ticks_to_ns_ceil(VAGENT_TICKS_PER_MS), 1000000);
	ck_assert_int_eq(vagent__ticks_to_ns_ceil(1), 2);   /* 1.417 ns, ceil */
	ck_assert_int_eq(vagent__ticks_to_ns_ceil(705), 1000); /* 999.15 ns */
	ck_assert_int_eq(vagent__ticks_to_ns_ceil(3 * VAGENT_TICKS_PER_SEC + 7056),
			 INT64_C(3000010000));
	ck_assert_int_eq(vagent_ticks_to_ms(vagent_ticks_from_ms(2500)), 2500);
}
END_TEST

START_TEST(test_virtual_clock_moves_only_when_told)
{
	struct vagent_clock *c = vagent_clock_new(VAGENT_CLOCK_VIRTUAL);
	struct vagent_error err;

	ck_assert_ptr_nonnull(c);
	ck_assert_int_eq(vagent_clock_type(c), VAGENT_CLOCK_VIRTUAL);
	ck_assert_int_eq(vagent_clock_now(c), 0);
	ck_assert_int_eq(vagent_clock_now(c), 0);
	ck_assert_int_eq(vagent_clock_advance(c, vagent_ticks_from_ms(2000), &err), VAGENT_OK);
	ck_assert_int_eq(vagent_clock_now(c), 2000 * VAGENT_TICKS_PER_MS);
	ck_assert_int_eq(vagent_clock_advance(c, vagent_ticks_from_ms(2000), &err), VAGENT_OK);
	ck_assert_int_eq(vagent_clock_advance(c, vagent_ticks_from_ms(1999), &err), VAGENT_EINVAL);
	ck_assert_str_eq(err.message, "clock: cannot go back from 1411200000 to 1410494400 ticks");
	ck_assert_int_eq(vagent_clock_now(c), 2000 * VAGENT_TICKS_PER_MS);
	vagent_clock_free(c);
	vagent_clock_free(NULL);
}
END_TEST

START_TEST(test_real_clock)
{
	struct vagent_clock *c = vagent_clock_new(VAGENT_CLOCK_REAL);
	struct vagent_error err;
	int64_t prev = 0;

	ck_assert_ptr_nonnull(c);
	ck_assert_int_eq(vagent_clock_type(c), VAGENT_CLOCK_REAL);
	for (int i = 0; i < 1000; i++) {
		int64_t now = vagent_clock_now(c);

		ck_assert_int_ge(now, prev);
		prev = now;
	}
	ck_assert_int_eq(vagent_clock_advance(c, prev + 1, &err), VAGENT_EINVAL);
	ck_assert_str_eq(err.message, "clock: only a virtual clock can be advanced");
	vagent_clock_free(c);
	ck_assert_ptr_null(vagent_clock_new((enum vagent_clock_type)7));
}
END_TEST

Suite *suite_clock(void)
{
	Suite *s = suite_create("clock");
	TCase *tc = tcase_create("core");

	tcase_add_test(tc, test_ns_tick_conversions);
	tcase_add_test(tc, test_virtual_clock_moves_only_when_told);
	tcase_add_test(tc, test_real_clock);
	suite_add_tcase(s, tc);
	return s;
}
