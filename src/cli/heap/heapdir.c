/*
 * heapdir.c — following a snapshot directory (see heapdir.h).
 *
 * Design: files are named heap-<pid>-<seq>.pb.gz with a per-pid increasing
 * sequence, so "what is new" is "seq >= next_seq" and no file is read
 * twice. The library keeps at most MEMVIGIL_HEAP_KEEP snapshots in the
 * whole directory (any pid) and deletes the oldest by mtime, so a pid's
 * early files may be gone; a file that vanishes between listing and
 * reading is simply skipped, not counted as unreadable (cli_pprof_load's
 * -ENOENT means just that; a missing sample type has its own code), and so
 * is anything that is not a regular file (a FIFO named like a snapshot must
 * not hang the reader: cli_pprof_load stat()s it and never opens it). When
 * no pid is given, the pid whose newest snapshot is the most recent is
 * followed (a wrapper script's child, a re-exec) — unless prefer_pid has
 * one: `run --heap` follows the process it started even while that
 * process's forked children leave their last snapshots (leave.c in the
 * library) in the same directory. Snapshot time is the
 * profile's time_nanos, else the file's mtime.
 */
#include <dirent.h>
#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "heapdir.h"

int cli_heapdir_parse_name(const char *name, int32_t *pid, uint64_t *seq)
{
    char *end;
    long p;
    unsigned long long s;

    if (strncmp(name, "heap-", 5) != 0)
        return -EINVAL;
    errno = 0;
    p = strtol(name + 5, &end, 10);
    if (errno || end == name + 5 || *end != '-' || p <= 0 || p > INT32_MAX)
        return -EINVAL;
    name = end + 1;
    if (*name < '0' || *name > '9')
        return -EINVAL;
    s = strtoull(name, &end, 10);
    if (errno || strcmp(end, ".pb.gz") != 0)
        return -EINVAL;
    *pid = (int32_t)p;
    *seq = s;
    return 0;
}

int cli_heapdir_init(cli_heapdir *h, const char *dir, int32_t pid)
{
    memset(h, 0, sizeof *h);
    h->dir = strdup(dir);
    h->sym = cli_symbolizer_new();
    h->trend = cli_heaptrend_new(0);
    h->pid = pid;
    h->pid_fixed = pid > 0;
    h->symbolize = 1;
    if (!h->dir || !h->sym || !h->trend) {
        cli_heapdir_release(h);
        return -ENOMEM;
    }
    return 0;
}

static void skipped_clear(cli_heapdir *h)
{
    size_t i;

    for (i = 0; i < h->nskipped; i++)
        free(h->skipped[i].function);
    h->nskipped = 0;
}

/* Keeps st's list of skipped wrappers as the newest one (a name that
 * cannot be copied is left out). */
static void skipped_keep(cli_heapdir *h, const cli_stacks *st)
{
    size_t i;

    skipped_clear(h);
    for (i = 0; i < st->nskipped; i++) {
        char *f = strdup(st->skipped[i].function);
        if (!f)
            continue;
        h->skipped[h->nskipped].function = f;
        h->skipped[h->nskipped].kind = st->skipped[i].kind;
        h->nskipped++;
    }
}

void cli_heapdir_release(cli_heapdir *h)
{
    if (!h)
        return;
    skipped_clear(h);
    free(h->dir);
    cli_symbolizer_free(h->sym);
    cli_heaptrend_free(h->trend);
    memset(h, 0, sizeof *h);
}

int cli_heap_load_stacks(const char *path, const char *type,
                         cli_symbolizer *sym, cli_stacks *out, int *bad_type)
{
    cli_pprof p;
    int rc, vidx;

    if (bad_type)
        *bad_type = 0;
    rc = cli_pprof_load(path, &p);
    if (rc)
        return rc;
    vidx = cli_pprof_value_index(&p, type);
    if (vidx < 0) {
        if (bad_type)
            *bad_type = 1;
        cli_pprof_release(&p);
        return CLI_PPROF_ENOTYPE; /* not -ENOENT: the file is there */
    }
    rc = cli_stacks_build(&p, vidx, sym ? cli_symbolize : NULL, sym, out);
    cli_pprof_release(&p);
    return rc;
}

typedef struct found {
    uint64_t seq;
    double mtime;
    char name[256];
} found;

static int cmp_found(const void *a, const void *b)
{
    uint64_t x = ((const found *)a)->seq, y = ((const found *)b)->seq;
    return x < y ? -1 : x > y;
}

/* Feeds one snapshot file into the trend. */
static int load_one(cli_heapdir *h, const char *path, double mtime)
{
    cli_stacks st;
    cli_heap_entry *e;
    size_t i;
    int rc;

    rc = cli_heap_load_stacks(path, "inuse_space", h->symbolize ? h->sym : NULL,
                              &st, NULL);
    if (rc)
        return rc;
    e = calloc(st.n ? st.n : 1, sizeof *e);
    if (!e) {
        cli_stacks_release(&st);
        return -ENOMEM;
    }
    for (i = 0; i < st.n; i++) {
        e[i].key = st.v[i].key;
        e[i].site = st.v[i].site;
        e[i].folded = st.v[i].folded;
        e[i].bytes = (double)st.v[i].value;
    }
    rc = cli_heaptrend_add(h->trend, st.time_s > 0 ? st.time_s : mtime,
                           (double)st.period, (double)st.total, e, st.n);
    if (rc == -EINVAL)
        rc = -EBADMSG; /* its time goes back: a corrupt snapshot, and
                        * -EINVAL here means "not a regular file" */
    if (rc == 0) {
        h->last_period = st.period > 0 ? (double)st.period
                                       : CLI_HEAPTREND_DEFAULT_PERIOD;
        skipped_keep(h, &st);
    }
    free(e);
    cli_stacks_release(&st);
    return rc;
}

/* 1 when the i-th of n pending snapshots (in sequence order) is read: all
 * of them up to CLI_HEAPDIR_MAX_READ, else the first, the last and evenly
 * spaced ones between, CLI_HEAPDIR_MAX_READ in all. */
static int read_this(size_t i, size_t n)
{
    const size_t k = CLI_HEAPDIR_MAX_READ;
    if (n <= k)
        return 1;
    /* pick j = round(j_index * (n - 1) / (k - 1)); i is picked when some
     * j_index maps to it */
    size_t j = (i * (k - 1) + (n - 1) / 2) / (n - 1); /* nearest index */
    return (j * (n - 1) + (k - 1) / 2) / (k - 1) == i;
}

int cli_heapdir_update(cli_heapdir *h, int *added)
{
    DIR *d;
    struct dirent *de;
    found *f = NULL;
    size_t n = 0, cap = 0, i;
    int32_t best_pid = 0;
    double best_mtime = -1;
    char path[4096];
    int count = 0;

    if (added)
        *added = 0;
    d = opendir(h->dir);
    if (!d)
        return -errno;
    /* choose the pid first (when not fixed): newest snapshot wins */
    if (!h->pid_fixed) {
        while ((de = readdir(d)) != NULL) {
            int32_t pid;
            uint64_t seq;
            struct stat st;
            if (cli_heapdir_parse_name(de->d_name, &pid, &seq) != 0)
                continue;
            snprintf(path, sizeof path, "%s/%s", h->dir, de->d_name);
            if (stat(path, &st) != 0 || !S_ISREG(st.st_mode))
                continue; /* a FIFO or device named like a snapshot */
            double mt = (double)st.st_mtim.tv_sec + st.st_mtim.tv_nsec / 1e9;
            if (h->prefer_pid && pid == h->prefer_pid)
                mt = INFINITY; /* the preferred process wins whenever present */
            if (mt > best_mtime) {
                best_mtime = mt;
                best_pid = pid;
            }
        }
        if (best_pid && best_pid != h->pid) {
            /* a new process: start its trend afresh */
            cli_heaptrend *t = cli_heaptrend_new(0);
            if (!t) {
                closedir(d);
                return -ENOMEM;
            }
            if (h->pid != 0) {
                cli_heaptrend_free(h->trend);
                h->trend = t;
            } else {
                cli_heaptrend_free(t);
            }
            h->pid = best_pid;
            h->next_seq = 0;
        }
        rewinddir(d);
    }
    while ((de = readdir(d)) != NULL) {
        int32_t pid;
        uint64_t seq;
        struct stat st;
        if (cli_heapdir_parse_name(de->d_name, &pid, &seq) != 0 ||
            pid != h->pid || seq < h->next_seq)
            continue;
        snprintf(path, sizeof path, "%s/%s", h->dir, de->d_name);
        if (stat(path, &st) != 0)
            continue;
        if (n == cap) {
            size_t nc = cap ? cap * 2 : 64;
            found *nf = realloc(f, nc * sizeof *nf);
            if (!nf) {
                free(f);
                closedir(d);
                return -ENOMEM;
            }
            f = nf;
            cap = nc;
        }
        f[n].seq = seq;
        f[n].mtime = (double)st.st_mtim.tv_sec + st.st_mtim.tv_nsec / 1e9;
        snprintf(f[n].name, sizeof f[n].name, "%s", de->d_name);
        n++;
    }
    closedir(d);
    if (n > 1)
        qsort(f, n, sizeof *f, cmp_found);
    for (i = 0; i < n; i++) {
        int rc;
        if (!read_this(i, n)) {
            h->unread++;
            h->next_seq = f[i].seq + 1;
            continue;
        }
        snprintf(path, sizeof path, "%s/%s", h->dir, f[i].name);
        rc = load_one(h, path, f[i].mtime);
        if (rc == -ENOMEM) {
            free(f);
            return rc;
        }
        h->next_seq = f[i].seq + 1;
        if (rc == -ENOENT)
            continue; /* deleted since the listing (the library prunes the
                       * whole directory): gone, not unreadable */
        if (rc) {
            h->bad++;
            h->bad_rc = rc;
            snprintf(h->bad_file, sizeof h->bad_file, "%s", path);
            continue;
        }
        h->loaded++;
        count++;
        snprintf(h->last_file, sizeof h->last_file, "%s", path);
    }
    free(f);
    if (added)
        *added = count;
    return 0;
}
