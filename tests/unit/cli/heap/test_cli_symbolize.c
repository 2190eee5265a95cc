/*
 * test_cli_symbolize.c — the symbolizer (src/cli/heap/symbolize.c) on mapped
 * files a profile names but that are not regular files: a FIFO with a
 * writer blocked in open(), a character device. The path comes from
 * untrusted profile content, so such a file must not even be opened. And
 * the C library's frames: named from its symbol table (no version suffix),
 * without file and line (its DWARF is never read).
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

/* The r-xp mapping of /proc/self/maps holding addr into *m (filename
 * copied to path). 0 when found. */
static int mapping_of(uintptr_t addr, cli_pprof_mapping *m, char *path, size_t cap)
{
    FILE *f = fopen("/proc/self/maps", "r");
    char line[1024];
    int found = -1;

    if (!f)
        return -1;
    while (found && fgets(line, sizeof line, f)) {
        unsigned long long lo, hi, off;
        char perms[8];
        int pos = 0;
        if (sscanf(line, "%llx-%llx %7s %llx %*s %*s %n", &lo, &hi, perms, &off, &pos) < 4 ||
            !strchr(perms, 'x') || addr < lo || addr >= hi || !pos)
            continue;
        line[strcspn(line, "\n")] = 0;
        snprintf(path, cap, "%s", line + pos);
        memset(m, 0, sizeof *m);
        m->id = 1;
        m->start = lo;
        m->limit = hi;
        m->offset = off;
        m->filename = path;
        m->build_id = "";
        found = 0;
    }
    fclose(f);
    return found;
}

static void test_c_library_names_only(void **state)
{
    uintptr_t addr = (uintptr_t)(void *)getpid;
    cli_pprof_mapping m;
    char path[512];
    cli_frame f[8];
    cli_symbolizer *s;
    int n;
    (void)state;

    if (mapping_of(addr, &m, path, sizeof path) != 0 || !strstr(path, "/libc.so."))
        skip(); /* getpid is not in a libc.so.N here (static or another libc) */
    s = cli_symbolizer_new();
    assert_non_null(s);
    n = cli_symbolize(s, &m, addr, 0, f, 8);
    assert_int_equal(n, 1);
    assert_non_null(f[0].function);
    assert_non_null(strstr(f[0].function, "getpid"));
    assert_null(strchr(f[0].function, '@'));
    assert_null(f[0].file);
    assert_int_equal(f[0].line, 0);
    cli_symbolizer_free(s);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_fifo_mapping_not_opened),
        cmocka_unit_test(test_device_mapping_refused),
        cmocka_unit_test(test_c_library_names_only),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
