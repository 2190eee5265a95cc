/*
 * leaky.c — the demo target for memvigil: a slow anonymous-memory leak next
 * to a bounded cache, the two shapes a leak detector must tell apart.
 *
 *  - The leak: every 100 ms, rate/10 bytes are allocated, written (so the
 *    pages are resident, not just reserved) and never freed.
 *  - The cache: 64 KiB entries are inserted every tick until the cap is
 *    reached; from then on the oldest entry is evicted for each insert, so
 *    the cache churns at a flat size (FIFO eviction stands in for LRU).
 *
 * usage: leaky [--seconds N] [--leak-rate BYTES_PER_SEC] [--cache-cap BYTES]
 *              [--until-oom]
 * Sizes take K/M/G (or KiB/MiB/GiB) suffixes. --until-oom runs until killed
 * (for OOM tests). Exits 0 after --seconds; 2 on bad arguments.
 *
 * Standalone on purpose: it does not link libmemvigil, so what memvigil
 * sees is a plain program.
 */
#include <errno.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define TICK_MS 100
#define ENTRY_BYTES (64 * 1024)
#define ENTRIES_PER_TICK 8

struct chunk {
    struct chunk *next;
};

/* The leaked chunks stay reachable from here, so leak checkers (ASan's
 * LeakSanitizer in sanitizer builds) see an intentional, reachable hoard
 * rather than a bug in the demo; to the kernel it is the same growth. */
static struct chunk *hoard;

static int parse_size(const char *s, long long *out)
{
    char *end;
    double v;
    double mult = 1;

    errno = 0;
    v = strtod(s, &end);
    if (errno || end == s || v < 0)
        return -1;
    if (*end == 'k' || *end == 'K')
        mult = 1024.0;
    else if (*end == 'm' || *end == 'M')
        mult = 1024.0 * 1024;
    else if (*end == 'g' || *end == 'G')
        mult = 1024.0 * 1024 * 1024;
    else if (*end != '\0' && strcmp(end, "B") != 0)
        return -1;
    if (mult > 1) {
        end++;
        if (strcmp(end, "iB") != 0 && strcmp(end, "B") != 0 && *end != '\0')
            return -1;
    }
    *out = (long long)(v * mult);
    return 0;
}

static void usage(FILE *f)
{
    fputs("usage: leaky [--seconds N] [--leak-rate BYTES_PER_SEC] "
          "[--cache-cap BYTES] [--until-oom]\n"
          "  --seconds N        exit 0 after N seconds (default 60)\n"
          "  --leak-rate R      leak R bytes per second (default 2.5MiB)\n"
          "  --cache-cap C      cache fills to C then churns (default 32MiB)\n"
          "  --until-oom        never exit; leak until the kernel kills us\n",
          f);
}

static void sleep_ms(long ms)
{
    struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};

    while (nanosleep(&ts, &ts) != 0 && errno == EINTR) {
    }
}

int main(int argc, char **argv)
{
    long long seconds = 60, rate = 2560 * 1024, cap = 32LL << 20;
    int until_oom = 0, i;
    void **cache;
    size_t ncache, head = 0, used = 0;
    long long ticks, t, per_tick, leaked = 0;
    unsigned char fill = 1;

    for (i = 1; i < argc; i++) {
        const char *a = argv[i];
        const char *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0) {
            usage(stdout);
            return 0;
        } else if (strcmp(a, "--until-oom") == 0) {
            until_oom = 1;
        } else if (strcmp(a, "--seconds") == 0 && v) {
            char *end;
            seconds = strtoll(v, &end, 10);
            if (*end || seconds <= 0) {
                fprintf(stderr, "leaky: bad --seconds '%s'\n", v);
                return 2;
            }
            i++;
        } else if (strcmp(a, "--leak-rate") == 0 && v) {
            if (parse_size(v, &rate) != 0) {
                fprintf(stderr, "leaky: bad --leak-rate '%s'\n", v);
                return 2;
            }
            i++;
        } else if (strcmp(a, "--cache-cap") == 0 && v) {
            if (parse_size(v, &cap) != 0) {
                fprintf(stderr, "leaky: bad --cache-cap '%s'\n", v);
                return 2;
            }
            i++;
        } else {
            fprintf(stderr, "leaky: bad argument '%s'\n", a);
            usage(stderr);
            return 2;
        }
    }

    ncache = (size_t)(cap / ENTRY_BYTES);
    cache = calloc(ncache ? ncache : 1, sizeof *cache);
    if (!cache) {
        fprintf(stderr, "leaky: out of memory\n");
        return 1;
    }
    per_tick = rate * TICK_MS / 1000;
    ticks = seconds * 1000 / TICK_MS;
    signal(SIGPIPE, SIG_IGN);

    for (t = 0; until_oom || t < ticks; t++) {
        int e;

        /* the leak: allocated, touched, linked, never freed */
        if (per_tick >= (long long)sizeof(struct chunk)) {
            struct chunk *c = malloc((size_t)per_tick);
            if (c) {
                memset(c, fill, (size_t)per_tick);
                c->next = hoard;
                hoard = c;
                leaked += per_tick;
            }
        }
        /* the cache: insert, evicting the oldest once full */
        for (e = 0; e < ENTRIES_PER_TICK && ncache > 0; e++) {
            void *entry = malloc(ENTRY_BYTES);
            if (!entry)
                break;
            memset(entry, fill, ENTRY_BYTES);
            if (used == ncache)
                free(cache[head]);
            else
                used++;
            cache[head] = entry;
            head = (head + 1) % ncache;
        }
        fill = (unsigned char)(fill % 250 + 1);
        sleep_ms(TICK_MS);
    }
    while (used > 0) { /* the cache is released; the leak is not */
        head = (head + ncache - 1) % ncache;
        free(cache[head]);
        used--;
    }
    free(cache);
    printf("leaky: leaked %lld bytes (cache capped at %zu entries of %d "
           "bytes)\n", leaked, ncache, ENTRY_BYTES);
    return 0;
}
