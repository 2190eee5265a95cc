/*
 * test_cli_demangle.c — C++ names made readable (demangle.c): qualified
 * names with template arguments, no parameter list or qualifiers; C names
 * and non-names left alone.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "demangle.h"

static void expect(const char *mangled, const char *want)
{
    char *got = cli_demangle(mangled);
    assert_non_null(got);
    assert_string_equal(got, want);
    free(got);
}

static void test_cxx_names(void **state)
{
    (void)state;
    expect("_ZN5store5ShelfIiE4growEi", "store::Shelf<int>::grow");
    expect("_ZNKSt6vectorIiSaIiEE4sizeEv", "std::vector<int, std::allocator<int> >::size");
    expect("_ZZ4mainENKUlvE_clEv", "main::{lambda()#1}::operator()");
    expect("_ZN12_GLOBAL__N_11gEi", "(anonymous namespace)::g");
    expect("_Znwm", "operator new");
}

static void test_not_mangled(void **state)
{
    (void)state;
    assert_null(cli_demangle("main"));
    assert_null(cli_demangle("zmalloc_usable"));
    assert_null(cli_demangle("_Zbogus!"));
    assert_null(cli_demangle(""));
    assert_null(cli_demangle(NULL));
}

static void test_drop_params(void **state)
{
    char a[] = "ns::f<int>(int, char (*)(int)) const &";
    char b[] = "(anonymous namespace)::g";
    char c[] = "plain";
    char d[] = "broken)";
    (void)state;
    assert_string_equal(cli_demangle_drop_params(a), "ns::f<int>");
    assert_string_equal(cli_demangle_drop_params(b), "(anonymous namespace)::g");
    assert_string_equal(cli_demangle_drop_params(c), "plain");
    assert_string_equal(cli_demangle_drop_params(d), "broken)");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_cxx_names),
        cmocka_unit_test(test_not_mangled),
        cmocka_unit_test(test_drop_params),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
