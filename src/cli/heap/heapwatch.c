/*
 * heapwatch.c — the `--heap` part of `memvigil run`: load the preload
 * profiler into the child, follow its snapshots while it runs, print an
 * event when a call site starts growing, export the top growing sites as
 * metrics, and ask for a "last gasp" snapshot when the level turns
 * critical (see heapdir.h for the interface).
 *
 * Design:
 *  - The environment (LD_PRELOAD prepended, MEMVIGIL_HEAP=1, the directory,
 *    the interval) is set in the forked child before exec. memvigil forks
 *    the child before the monitor thread starts, so the process is
 *    single-threaded there and setenv is safe; memvigil's own environment
 *    (and so --on-alert hooks) stays untouched.
 *  - The snapshot directory is polled on every main-loop tick (a readdir);
 *    only new files are decoded (heapdir.c), so the cost is one decode and
 *    one ranking per snapshot.
 *  - A site is announced once per run, when it first ranks as growing.
 *  - Metrics go through the monitor's registry under its app_lock (the lock
 *    order of monitor.h), replacing the whole top-10 set each time.
 */
#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <math.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "callers.h"
#include "cli.h"
#include "heapdir.h"
#include "heapserve.h"
#include "util.h"

#define HEAP_LIB "libmemvigil_heap.so"
#define MAX_REPORTED 4096

#ifndef MV_INSTALL_LIBDIR
#define MV_INSTALL_LIBDIR "/usr/local/lib"
#endif

void cli_heapwatch_init(cli_heapwatch *w)
{
    memset(w, 0, sizeof *w);
}

/* snprintf that reports truncation (-ENAMETOOLONG) instead of hiding it. */
static int fmt_path(char *out, size_t n, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static int fmt_path(char *out, size_t n, const char *fmt, ...)
{
    va_list ap;
    int r;

    va_start(ap, fmt);
    r = vsnprintf(out, n, fmt, ap);
    va_end(ap);
    return r < 0 || (size_t)r >= n ? -ENAMETOOLONG : 0;
}

static int readable(const char *path)
{
    return access(path, R_OK) == 0;
}

/* Finds the preload library: $MEMVIGIL_HEAP_LIB, next to the binary, in
 * ../lib, then in the install libdir. */
static int find_lib(char *out, size_t n)
{
    const char *env = getenv("MEMVIGIL_HEAP_LIB");
    char exe[PATH_MAX];
    ssize_t len;

    if (env && env[0]) {
        if (env[0] == '/' && readable(env)) {
            mv__strlcpy(out, env, n);
            return 0;
        }
        return -ENOENT;
    }
    len = readlink("/proc/self/exe", exe, sizeof exe - 1);
    if (len > 0) {
        char *slash;
        exe[len] = '\0';
        slash = strrchr(exe, '/');
        if (slash) {
            *slash = '\0';
            if (fmt_path(out, n, "%s/%s", exe, HEAP_LIB) == 0 && readable(out))
                return 0;
            if (fmt_path(out, n, "%s/../lib/%s", exe, HEAP_LIB) == 0 &&
                readable(out))
                return 0;
        }
    }
    if (fmt_path(out, n, "%s/%s", MV_INSTALL_LIBDIR, HEAP_LIB) != 0)
        return -ENOENT;
    return readable(out) ? 0 : -ENOENT;
}

int cli_heapwatch_prepare(cli_heapwatch *w, const char *cmd)
{
    char cwd[PATH_MAX];
    int rc;

    if (!w->enabled)
        return 0;
    if (find_lib(w->lib, sizeof w->lib) != 0) {
        cli_error(cmd, "--heap: cannot find %s (next to the memvigil binary, "
                  "in ../lib, in %s, or $MEMVIGIL_HEAP_LIB)", HEAP_LIB,
                  MV_INSTALL_LIBDIR);
        return CLI_EXIT_ERROR;
    }
    if (!getcwd(cwd, sizeof cwd)) {
        cli_error(cmd, "--heap: cannot get the current directory: %s",
                  strerror(errno));
        return CLI_EXIT_ERROR;
    }
    if (w->dir_opt && w->dir_opt[0] == '/')
        rc = fmt_path(w->dir, sizeof w->dir, "%s", w->dir_opt);
    else if (w->dir_opt)
        rc = fmt_path(w->dir, sizeof w->dir, "%s/%s", cwd, w->dir_opt);
    else
        rc = fmt_path(w->dir, sizeof w->dir, "%s/memvigil-heap-", cwd); /* + pid */
    if (rc != 0) {
        cli_error(cmd, "--heap: directory path too long");
        return CLI_EXIT_ERROR;
    }
    w->dir_has_pid = w->dir_opt == NULL;
    return 0;
}

/* The directory for a child pid. */
static void dir_for(const cli_heapwatch *w, pid_t pid, char *out, size_t n)
{
    if (w->dir_has_pid)
        (void)fmt_path(out, n, "%s%ld", w->dir, (long)pid);
    else
        mv__strlcpy(out, w->dir, n);
}

void cli_heapwatch_child_env(const cli_heapwatch *w)
{
    char dir[4096], num[32], *pre;
    const char *old;

    if (!w->enabled)
        return;
    dir_for(w, getpid(), dir, sizeof dir);
    old = getenv("LD_PRELOAD");
    if (old && old[0]) {
        size_t n = strlen(w->lib) + strlen(old) + 2;
        pre = malloc(n);
        if (pre) {
            snprintf(pre, n, "%s:%s", w->lib, old);
            setenv("LD_PRELOAD", pre, 1);
            free(pre);
        }
    } else {
        setenv("LD_PRELOAD", w->lib, 1);
    }
    setenv("MEMVIGIL_HEAP", "1", 1);
    setenv("MEMVIGIL_HEAP_DIR", dir, 1);
    if (w->interval_s > 0) {
        snprintf(num, sizeof num, "%" PRId64, w->interval_s);
        setenv("MEMVIGIL_HEAP_INTERVAL", num, 1);
    }
}

int cli_heapwatch_start(cli_heapwatch *w, pid_t child, const char *cmd)
{
    char dir[4096];

    if (!w->enabled)
        return 0;
    dir_for(w, child, dir, sizeof dir);
    if (mkdir(dir, 0755) != 0 && errno != EEXIST) {
        cli_error(cmd, "--heap: cannot create %s: %s", dir, strerror(errno));
        return CLI_EXIT_ERROR;
    }
    if (cli_heapdir_init(&w->hd, dir, 0) != 0) {
        cli_error(cmd, "--heap: out of memory");
        return CLI_EXIT_ERROR;
    }
    w->hd.prefer_pid = (int32_t)child; /* its children leave snapshots too */
    (void)fmt_path(w->status_path, sizeof w->status_path, "%s/status-%ld.json",
                   dir, (long)child);
    w->child = child;
    w->started = 1;
    w->serve = cli_heapserve_new(dir, child);
    if (!w->serve) {
        cli_error(cmd, "--heap: out of memory");
        return CLI_EXIT_ERROR;
    }
    fprintf(stderr, "memvigil %s: heap snapshots in %s\n", cmd, dir);
    return 0;
}

void cli_heapwatch_config(cli_heapwatch *w, mv_config *cfg)
{
    if (!w->enabled || !w->serve)
        return;
    w->route = cli_heapserve_route(w->serve);
    cfg->http_routes = &w->route;
    cfg->http_nroutes = 1;
}

int cli_heapwatch_follow(cli_heapwatch *w, const char *dir, int32_t pid,
                         const char *cmd)
{
    if (cli_heapdir_init(&w->hd, dir, pid) != 0) {
        cli_error(cmd, "out of memory");
        return CLI_EXIT_ERROR;
    }
    w->hd.symbolize = 0; /* the profile's own names, not this host's files */
    w->child = 0;
    w->started = 1;
    return 0;
}

static int reported(cli_heapwatch *w, const char *key)
{
    size_t i;

    for (i = 0; i < w->nreported; i++)
        if (strcmp(w->reported[i], key) == 0)
            return 1;
    if (w->nreported < MAX_REPORTED) {
        char **v = realloc(w->reported, (w->nreported + 1) * sizeof *v);
        if (v) {
            w->reported = v;
            v[w->nreported] = strdup(key);
            if (v[w->nreported])
                w->nreported++;
        }
    }
    return 0;
}

static void announce(cli_heapwatch *w, const cli_site_trend *x)
{
    mv_buf line = {0};
    char ts[40], g[32], b[32];
    int rc;

    cli_format_time(mv__now_wall_ms(), ts, sizeof ts);
    if (w->json) {
        rc = mv__buf_printf(&line, "{\"time\":\"%s\",\"event\":\"heap_site_growing\",",
                            ts);
        if (w->url) {
            rc |= mv__buf_puts(&line, "\"url\":");
            rc |= mv__buf_json_string(&line, w->url);
        } else {
            rc |= mv__buf_printf(&line, "\"pid\":%" PRId32, w->hd.pid);
        }
        rc |= mv__buf_printf(&line, ",\"rank\":%d,\"site\":", x->rank);
        rc |= mv__buf_json_string(&line, x->site);
        rc |= mv__buf_puts(&line, ",\"growth_bytes_per_hour\":");
        rc |= mv__buf_json_double(&line, x->growth_per_hour);
        rc |= mv__buf_puts(&line, ",\"share\":");
        rc |= mv__buf_json_double(&line, x->share);
        rc |= mv__buf_puts(&line, ",\"bytes\":");
        rc |= mv__buf_json_double(&line, x->bytes);
        rc |= mv__buf_puts(&line, ",\"stack\":");
        rc |= mv__buf_json_string(&line, x->folded ? x->folded : "");
        rc |= mv__buf_puts(&line, "}\n");
    } else {
        char callers[512], from[600] = "";
        mv__human_bytes((int64_t)x->growth_per_hour, g, sizeof g);
        mv__human_bytes((int64_t)x->bytes, b, sizeof b);
        if (cli_heap_callers(x->folded, 3, callers, sizeof callers)[0])
            snprintf(from, sizeof from, " (from %s)", callers);
        if (isfinite(x->share))
            rc = mv__buf_printf(&line, "%s %-8s heap: call site %s%s is growing "
                                "%s/h (%.0f%% of the heap's growth), live %s "
                                "[rank %d]\n", ts, "warning", x->site, from, g,
                                x->share * 100, b, x->rank);
        else
            rc = mv__buf_printf(&line, "%s %-8s heap: call site %s%s is growing "
                                "%s/h, live %s [rank %d]\n", ts, "warning",
                                x->site, from, g, b, x->rank);
    }
    if (rc == 0) {
        fputs(line.data, stdout);
        fflush(stdout);
    }
    mv_buf_release(&line);
}

static void export_metrics(mv_monitor *m, const cli_site_trend *r, size_t n)
{
    mv_heap_site s[10];
    size_t k = 0, i;

    if (!m)
        return;
    for (i = 0; i < n && k < sizeof s / sizeof s[0] && r[i].growing; i++, k++) {
        s[k].site = r[i].site;
        s[k].growth_bytes_per_second = r[i].slope;
        s[k].inuse_bytes = (int64_t)r[i].bytes;
    }
    (void)mv_heap_sites_set(m, s, k);
}

/* Loads new snapshots; ranks, announces and exports when there were any. */
static void refresh(cli_heapwatch *w, mv_monitor *m, int announce_new)
{
    cli_site_trend *r = NULL;
    size_t n = 0, i;
    int added = 0;

    if (cli_heapdir_update(&w->hd, &added) != 0 || added == 0)
        return;
    if (cli_heaptrend_rank(w->hd.trend, &r, &n) != 0)
        return;
    for (i = 0; i < n && r[i].growing; i++)
        if (!reported(w, r[i].key) && announce_new)
            announce(w, &r[i]);
    export_metrics(m, r, n);
    free(r);
}

void cli_heapwatch_tick(cli_heapwatch *w, mv_monitor *m, mv_level level)
{
    if (!w->started)
        return;
    if (w->child > 0 && level == MV_LEVEL_CRITICAL &&
        w->last_level != MV_LEVEL_CRITICAL) {
        /* last gasp: a snapshot now, before the OOM killer may strike */
        if (kill(w->child, SIGRTMIN + 8) == 0)
            fprintf(stderr, "memvigil: level critical: asked %ld for a heap "
                    "snapshot\n", (long)w->child);
    }
    w->last_level = level;
    refresh(w, m, 1);
}

void cli_heapwatch_finish(cli_heapwatch *w, mv_monitor *m)
{
    cli_site_trend *r = NULL;
    size_t n = 0;

    if (!w->started)
        return;
    refresh(w, m, 1); /* the snapshot written at exit */
    if (w->hd.loaded == 0) {
        fprintf(stderr, "memvigil: --heap: no heap snapshot was written in %s "
                "(did the program exit before the first one, or not use "
                "malloc?)\n", w->hd.dir);
        return;
    }
    if (cli_heaptrend_rank(w->hd.trend, &r, &n) != 0)
        return;
    if (!w->json)
        printf("heap profile of %s (memvigil heap top %s):\n", w->hd.last_file,
               w->hd.dir);
    cli_heap_print_trend(stdout, &w->hd, r, n, 5, w->json);
    free(r);
}

void cli_heapwatch_release(cli_heapwatch *w)
{
    size_t i;

    for (i = 0; i < w->nreported; i++)
        free(w->reported[i]);
    free(w->reported);
    if (w->started)
        cli_heapdir_release(&w->hd);
    cli_heapserve_free(w->serve);
    memset(w, 0, sizeof *w);
}
