/*
 * test_cli_symbolize.c — the symbolizer (src/cli/heap/symbolize.c) on mapped
 * files a profile names but that are not regular files: a FIFO with a
 * writer blocked in open(), a character device. The path comes from
 * untrusted profile content, so such a file must not even be opened.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "blocked_writer.h"
#include "symbolize.h"

static int lookup(cli_symbolizer *s, const char *file)
{
    cli_pprof_mapping m = {.id = 1, .start = 0x400000, .limit = 0x500000,
                           .offset = 0, .filename = file, .build_id = ""};
    cli_frame f[8];

    return cli_symbolize(s, &m, 0x401234, 0, f, 8);
}

/* Before the fix the symbolizer opened the file (non-blocking) to learn
 * its type: that released the blocked writer, whose byte was lost. */
static void test_fifo_mapping_not_opened(void **state)
{
    char dir[] = "/tmp/test_cli_symbolize.XXXXXX", path[64];
    cli_symbolizer *s = cli_symbolizer_new();
    pid_t w;
    (void)state;

    assert_non_null(s);
    assert_non_null(mkdtemp(dir));
    snprintf(path, sizeof path, "%s/app", dir);
    assert_int_equal(mkfifo(path, 0600), 0);
    alarm(10);
    w = blocked_writer(path);
    assert_int_equal(lookup(s, path), 0); /* unusable: no frames */
    assert_true(writer_still_blocked(w));
    alarm(0);
    cli_symbolizer_free(s);
    unlink(path);
    rmdir(dir);
}

/* A device is refused (not opened: its driver's open hook, /dev/watchdog's
 * arming, must not run; only the refusal is observable here). */
static void test_device_mapping_refused(void **state)
{
    cli_symbolizer *s = cli_symbolizer_new();
    (void)state;

    assert_non_null(s);
    assert_int_equal(lookup(s, "/dev/null"), 0);
    assert_int_equal(lookup(s, "/dev/null"), 0); /* cached as unusable */
    assert_int_equal(lookup(s, "/nonexistent/app"), 0);
    cli_symbolizer_free(s);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_fifo_mapping_not_opened),
        cmocka_unit_test(test_device_mapping_refused),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
