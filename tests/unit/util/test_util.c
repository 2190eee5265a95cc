/* test_util.c — unit tests of util.c: buffers, JSON literals, bounded file
 * reads, human-readable sizes and durations, size parsing. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "util.h"

static void test_buf_append_and_printf(void **state)
{
    (void)state;
    mv_buf b;
    mv_buf_init(&b);
    assert_int_equal(mv__buf_puts(&b, "abc"), 0);
    assert_int_equal(mv__buf_printf(&b, "-%d-%s", 42, "x"), 0);
    assert_string_equal(b.data, "abc-42-x");
    assert_int_equal(b.len, 8);
    /* a long formatted string takes the slow path */
    char big[1000];
    memset(big, 'z', sizeof big - 1);
    big[sizeof big - 1] = '\0';
    assert_int_equal(mv__buf_printf(&b, "%s", big), 0);
    assert_int_equal(b.len, 8 + 999);
    assert_int_equal(b.data[b.len], '\0');
    mv__buf_reset(&b);
    assert_int_equal(b.len, 0);
    assert_string_equal(b.data, "");
    mv_buf_release(&b);
    assert_null(b.data);
    mv_buf_release(NULL);
}

static void test_json_string_escapes(void **state)
{
    (void)state;
    mv_buf b = {0};
    assert_int_equal(mv__buf_json_string(&b, "a\"b\\c\nd\x01"), 0);
    assert_string_equal(b.data, "\"a\\\"b\\\\c\\nd\\u0001\"");
    mv__buf_reset(&b);
    /* invalid UTF-8 byte replaced, valid multibyte kept */
    assert_int_equal(mv__buf_json_string(&b, "\xff" "\xc3\xa9"), 0);
    assert_string_equal(b.data, "\"\xEF\xBF\xBD\xc3\xa9\"");
    mv__buf_reset(&b);
    assert_int_equal(mv__buf_json_double(&b, NAN), 0);
    assert_int_equal(mv__buf_json_double(&b, INFINITY), 0);
    assert_int_equal(mv__buf_json_int(&b, MV_NA), 0);
    assert_int_equal(mv__buf_json_int(&b, 123), 0);
    assert_int_equal(mv__buf_json_double(&b, 0.5), 0);
    assert_string_equal(b.data, "nullnullnull1230.5");
    mv_buf_release(&b);
}

static void test_read_file(void **state)
{
    (void)state;
    char path[] = "/tmp/mv_test_util_XXXXXX";
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    assert_int_equal(write(fd, "hello\n", 6), 6);
    close(fd);
    mv_buf b = {0};
    assert_int_equal(mv__read_file(path, &b, 100), 6);
    assert_string_equal(b.data, "hello\n");
    assert_int_equal(mv__read_file(path, &b, 3), -EFBIG);
    unlink(path);
    assert_int_equal(mv__read_file(path, &b, 100), -ENOENT);
    assert_int_equal(mv__read_file("/tmp", &b, 100), -EISDIR);
    /* a real /proc file reports size 0 but has content */
    assert_true(mv__read_file("/proc/self/status", &b, 1 << 20) > 100);
    assert_non_null(strstr(b.data, "VmRSS:"));
    mv_buf_release(&b);
}

static void test_human(void **state)
{
    (void)state;
    char s[32];
    assert_string_equal(mv__human_bytes(12, s, sizeof s), "12 B");
    assert_string_equal(mv__human_bytes(1536, s, sizeof s), "1.5 KiB");
    assert_string_equal(mv__human_bytes(412LL << 20, s, sizeof s), "412 MiB");
    assert_string_equal(mv__human_bytes(2LL << 30, s, sizeof s), "2.0 GiB");
    assert_string_equal(mv__human_bytes(MV_NA, s, sizeof s), "n/a");
    assert_string_equal(mv__human_bytes(MV_UNLIMITED, s, sizeof s), "unlimited");
    /* rates: per second in, per hour out, with human_bytes's rounding */
    assert_string_equal(mv__human_rate(1024.0 * 1024.0 / 3600.0, s, sizeof s), "1.0 MiB/h");
    assert_string_equal(mv__human_rate(5.49 * 1024 * 1024, s, sizeof s), "19 GiB/h");
    assert_string_equal(mv__human_rate(-100.0 * 1024 / 3600.0, s, sizeof s), "-100 KiB/h");
    assert_string_equal(mv__human_rate(NAN, s, sizeof s), "n/a");
    assert_string_equal(mv__human_rate(INFINITY, s, sizeof s), "n/a");
    assert_string_equal(mv__human_rate(1e300, s, sizeof s), "n/a");
    assert_string_equal(mv__human_duration(41, s, sizeof s), "41 s");
    assert_string_equal(mv__human_duration(185, s, sizeof s), "3 min 5 s");
    assert_string_equal(mv__human_duration(9 * 3600 + 600, s, sizeof s), "9 h 10 min");
    assert_string_equal(mv__human_duration(3 * 86400 + 7200, s, sizeof s), "3 d 2 h");
    assert_string_equal(mv__human_duration(INFINITY, s, sizeof s), "never");
    assert_string_equal(mv__human_duration(NAN, s, sizeof s), "n/a");
    /* a zero second unit is left out */
    assert_string_equal(mv__human_duration(6 * 3600, s, sizeof s), "6 h");
    assert_string_equal(mv__human_duration(300, s, sizeof s), "5 min");
    assert_string_equal(mv__human_duration(2 * 86400 + 20, s, sizeof s), "2 d");
    assert_string_equal(mv__human_duration(3599.6, s, sizeof s), "1 h");
    /* times to the limit: beyond 14 days no date is given */
    assert_string_equal(mv__human_eta(14 * 86400, s, sizeof s), "14 d");
    assert_string_equal(mv__human_eta(14 * 86400 + 1, s, sizeof s),
                        "more than 14 days");
    assert_string_equal(mv__human_eta(27.8 * 86400, s, sizeof s),
                        "more than 14 days");
    assert_string_equal(mv__human_eta(4000, s, sizeof s), "1 h 6 min");
    assert_string_equal(mv__human_eta(INFINITY, s, sizeof s), "never");
    assert_string_equal(mv__human_eta(NAN, s, sizeof s), "n/a");
}

static void test_parse_size(void **state)
{
    (void)state;
    int64_t v;
    assert_int_equal(mv__parse_size("1048576", &v), 0);
    assert_int_equal(v, 1048576);
    assert_int_equal(mv__parse_size("512M", &v), 0);
    assert_int_equal(v, 512LL << 20);
    assert_int_equal(mv__parse_size("2GiB", &v), 0);
    assert_int_equal(v, 2LL << 30);
    assert_int_equal(mv__parse_size("64k", &v), 0);
    assert_int_equal(v, 65536);
    assert_int_equal(mv__parse_size("1.5K", &v), 0);
    assert_int_equal(v, 1536);
    assert_int_equal(mv__parse_size("", &v), -EINVAL);
    assert_int_equal(mv__parse_size("12Q", &v), -EINVAL);
    assert_int_equal(mv__parse_size("-5", &v), -EINVAL);
    assert_int_equal(mv__parse_size("nan", &v), -EINVAL);
    assert_int_equal(mv__parse_size("99999999999T", &v), -EINVAL);
}

static void test_strerror_and_strlcpy(void **state)
{
    (void)state;
    assert_string_equal(mv_strerror(-ESRCH), "no such process");
    assert_string_equal(mv_strerror(ESRCH), "no such process");
    assert_non_null(mv_strerror(-9999));
    char d[4];
    assert_int_equal(mv__strlcpy(d, "abcdef", sizeof d), 6);
    assert_string_equal(d, "abc");
    assert_string_equal(mv_version(), MV_VERSION_STRING);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_buf_append_and_printf),
        cmocka_unit_test(test_json_string_escapes),
        cmocka_unit_test(test_read_file),
        cmocka_unit_test(test_human),
        cmocka_unit_test(test_parse_size),
        cmocka_unit_test(test_strerror_and_strlcpy),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
