/* config.c — reads the heap profiler's environment (MEMVIGIL_HEAP*).
 *
 * Pure: it takes a getenv-like function and the AT_SECURE flag so tests can
 * drive it, allocates nothing (it may run inside the first malloc call,
 * before any constructor) and never fails: a value that does not parse keeps
 * its default, because a profiler must never stop a program from running.
 */
#include "heap.h"

#include <stdio.h>
#include <string.h>

/* Parses a decimal unsigned integer with no trailing junk. 0 ok, -1 bad. */
static int parse_u64(const char *s, uint64_t *out)
{
    uint64_t v = 0;
    if (!s || !*s)
        return -1;
    for (; *s; s++) {
        if (*s < '0' || *s > '9')
            return -1;
        if (v > (UINT64_MAX - 9) / 10)
            return -1;
        v = v * 10 + (uint64_t)(*s - '0');
    }
    *out = v;
    return 0;
}

static uint64_t env_u64(mv_heap_getenv_fn g, const char *name, uint64_t def,
                        uint64_t lo, uint64_t hi)
{
    uint64_t v;
    if (parse_u64(g(name), &v) != 0 || v < lo || v > hi)
        return def;
    return v;
}

int mv__heap_config_parse(mv_heap_config *cfg, mv_heap_getenv_fn g, int secure,
                          pid_t pid)
{
    memset(cfg, 0, sizeof *cfg);
    cfg->sample_bytes = 524288;
    cfg->interval_s = 60;
    cfg->keep = 100;
    cfg->max_mb = 8;
    cfg->signals = 1;
    snprintf(cfg->dir, sizeof cfg->dir, "/tmp/memvigil-heap-%ld", (long)pid);
    if (secure)
        return 0; /* setuid & co.: inert, the environment is not trusted */
    cfg->active = 1;

    const char *on = g("MEMVIGIL_HEAP");
    cfg->enabled_at_start = on && strcmp(on, "1") == 0;
    const char *sig = g("MEMVIGIL_HEAP_SIGNALS");
    if (sig && strcmp(sig, "0") == 0)
        cfg->signals = 0;
    const char *check = g("MEMVIGIL_HEAP_UNWIND_CHECK");
    cfg->unwind_check = check && strcmp(check, "1") == 0;
    cfg->sample_bytes = env_u64(g, "MEMVIGIL_HEAP_SAMPLE", 524288, 1, 1ull << 40);
    cfg->interval_s = env_u64(g, "MEMVIGIL_HEAP_INTERVAL", 60, 0, 86400ull * 365);
    cfg->keep = env_u64(g, "MEMVIGIL_HEAP_KEEP", 100, 1, 1000000);
    cfg->max_mb = env_u64(g, "MEMVIGIL_HEAP_MAX_MB", 8, 1, 1024);
    const char *dir = g("MEMVIGIL_HEAP_DIR");
    if (dir && *dir && strlen(dir) < sizeof cfg->dir - 64)
        snprintf(cfg->dir, sizeof cfg->dir, "%s", dir);
    return 0;
}
