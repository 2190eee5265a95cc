/*
 * test_cli_callers.c — the frames above a heap call site, from its folded
 * stack (callers.c): innermost first, at most n, cut at whole names.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <string.h>

#include <cmocka.h>

#include "callers.h"

static void test_callers(void **state)
{
    char out[256];
    (void)state;
    const char *f = "_start;main;serve;handle_request;_sdsnewlen";
    assert_string_equal(cli_heap_callers(f, 3, out, sizeof out),
                        "handle_request <- serve <- main");
    assert_string_equal(cli_heap_callers(f, 1, out, sizeof out), "handle_request");
    assert_string_equal(cli_heap_callers(f, 10, out, sizeof out),
                        "handle_request <- serve <- main <- _start");
    assert_string_equal(cli_heap_callers("main;leak", 3, out, sizeof out), "main");
    assert_string_equal(cli_heap_callers("leak", 3, out, sizeof out), "");
    assert_string_equal(cli_heap_callers("", 3, out, sizeof out), "");
    assert_string_equal(cli_heap_callers(NULL, 3, out, sizeof out), "");
    assert_string_equal(cli_heap_callers(f, 0, out, sizeof out), "");
    /* a name that does not fit is left out with those after it */
    char small[24];
    assert_string_equal(cli_heap_callers(f, 3, small, sizeof small),
                        "handle_request <- serve");
    char tiny[4];
    assert_string_equal(cli_heap_callers(f, 3, tiny, sizeof tiny), "");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_callers),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
