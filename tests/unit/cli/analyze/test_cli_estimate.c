/*
 * test_cli_estimate.c — the capacity-planning fit and plan: exponents of
 * clean linear and power-law data, the superlinear flag, predictions, the
 * margin and rounding of the limit, concurrency, and too little data.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <errno.h>
#include <math.h>
#include <string.h>

#include "estimate.h"

#define MIB (1024.0 * 1024.0)

static void test_linear(void **state)
{
    (void)state;
    double u[50], b[50];
    for (int i = 0; i < 50; i++) {
        u[i] = 1000.0 * i;
        b[i] = 100 * MIB + 2048.0 * u[i];   /* 2 KiB per unit */
    }
    cli_estimate e;
    char err[128];
    assert_int_equal(cli_estimate_fit(u, b, 50, &e, err, sizeof err), 0);
    assert_int_equal(e.points, 49);
    assert_true(fabs(e.exponent - 1.0) < 1e-9);
    assert_false(e.superlinear);
    assert_true(fabs(e.per_unit_bytes - 2048.0) < 1e-6);
    assert_true(fabs(e.per_unit_last - 2048.0) < 1e-6);
    assert_true(fabs(e.r2 - 1.0) < 1e-9);
    assert_true(e.u_max == 49000.0);
    /* 100k units: 100 MiB + 2048 * 100000 = 295.3 MiB; +25% = 369.1 MiB,
     * rounded up to 16 MiB: 384 MiB; 4 GiB holds 11 */
    assert_int_equal(cli_estimate_plan(&e, 100000, 0.25, 4096 * MIB), 0);
    assert_true(fabs(e.need_bytes - (100 * MIB + 2048.0 * 100000)) < 1);
    assert_true(e.limit_bytes == 384 * MIB);
    assert_int_equal(e.concurrency, 11);
    assert_true(e.extrapolated);
    assert_int_equal(cli_estimate_plan(&e, 1000, 0.25, NAN), 0);
    assert_int_equal(e.concurrency, -1);
    assert_false(e.extrapolated);
}

static void test_superlinear(void **state)
{
    (void)state;
    double u[40], b[40];
    for (int i = 0; i < 40; i++) {
        u[i] = 500.0 * i;
        b[i] = 50 * MIB + 3.0 * pow(u[i], 1.5);
    }
    cli_estimate e;
    char err[128];
    assert_int_equal(cli_estimate_fit(u, b, 40, &e, err, sizeof err), 0);
    assert_true(fabs(e.exponent - 1.5) < 1e-9);
    assert_true(fabs(e.coef - 3.0) < 1e-6);
    assert_true(e.superlinear);
    /* marginal cost at the end: 3 * 1.5 * 19500^0.5 */
    assert_true(fabs(e.per_unit_last - 4.5 * sqrt(19500.0)) < 1e-6);
    assert_true(e.per_unit_last > e.per_unit_bytes);
    assert_true(fabs(cli_estimate_predict(&e, 40000) - (50 * MIB + 3.0 * pow(40000, 1.5))) < 1);
}

static void test_per_unit(void **state)
{
    (void)state;
    cli_estimate e;
    cli_estimate_linear(200 * MIB, 300 * 1024.0, &e);
    assert_int_equal(cli_estimate_plan(&e, 20000, 0.0, 16384 * MIB), 0);
    assert_true(fabs(e.need_bytes - (200 * MIB + 300 * 1024.0 * 20000)) < 1);
    assert_true(fmod(e.limit_bytes, 16 * MIB) == 0);
    assert_true(e.limit_bytes >= e.need_bytes && e.limit_bytes < e.need_bytes + 16 * MIB);
    assert_int_equal(e.concurrency, 2);
    assert_false(e.extrapolated);
    assert_int_equal(cli_estimate_plan(&e, 0, 0.25, NAN), -EINVAL);
    assert_int_equal(cli_estimate_plan(&e, 10, -1, NAN), -EINVAL);
}

static void test_too_little(void **state)
{
    (void)state;
    cli_estimate e;
    char err[128];
    double u[3] = {1, 2, 3}, b[3] = {10, 20, 30};
    assert_int_equal(cli_estimate_fit(u, b, 3, &e, err, sizeof err), -ENODATA);
    assert_non_null(strstr(err, "2 usable progress checkpoints"));
    double u2[5] = {5, 5, 5, 5, 5}, b2[5] = {1, 2, 3, 4, 5};
    assert_int_equal(cli_estimate_fit(u2, b2, 5, &e, err, sizeof err), -ENODATA);
    double nan5[5] = {NAN, NAN, NAN, NAN, NAN};
    assert_int_equal(cli_estimate_fit(nan5, b2, 5, &e, err, sizeof err), -ENODATA);
    assert_non_null(strstr(err, "no progress checkpoints"));
    /* memory that never rises above the first checkpoint */
    double u3[5] = {0, 1, 2, 3, 4}, b3[5] = {10, 10, 9, 10, 8};
    assert_int_equal(cli_estimate_fit(u3, b3, 5, &e, err, sizeof err), -ENODATA);
    assert_int_equal(cli_estimate_fit(NULL, b3, 5, &e, err, sizeof err), -EINVAL);
}

/* A budget that holds more jobs than an int64_t counts (issue 12: the
 * quotient was cast unchecked): no concurrency figure rather than a wrapped
 * one; NAN and infinite budgets likewise. */
static void test_concurrency_out_of_range(void **state)
{
    (void)state;
    cli_estimate e;
    cli_estimate_linear(100 * MIB, 2048.0, &e);
    assert_int_equal(cli_estimate_plan(&e, 1000, 0.25, 1e300), 0);
    assert_int_equal(e.concurrency, -1);
    assert_int_equal(cli_estimate_plan(&e, 1000, 0.25, INFINITY), 0);
    assert_int_equal(e.concurrency, -1);
    assert_int_equal(cli_estimate_plan(&e, 1000, 0.25, 4096 * MIB), 0);
    assert_int_equal(e.concurrency, 32);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_linear),
        cmocka_unit_test(test_superlinear),
        cmocka_unit_test(test_per_unit),
        cmocka_unit_test(test_too_little),
        cmocka_unit_test(test_concurrency_out_of_range),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
