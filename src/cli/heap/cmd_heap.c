/*
 * cmd_heap.c — `memvigil heap top|diff|folded`: reading the pprof snapshots
 * of libmemvigil_heap.so (or any pprof heap profile) offline.
 *
 *  - top FILE: live bytes per allocation site of one snapshot;
 *    top DIR: the growth trend over the snapshots of one process (the same
 *    ranking `run --heap` prints live), then the largest sites.
 *  - diff A B: per stack, B minus A (growth between two snapshots).
 *  - folded FILE: "root;...;leaf value" lines for flame-graph tools.
 *
 * Symbolization uses the profile's own function names when present, else
 * libdw on the mapped files (which must still exist with the same build
 * id); --no-symbolize keeps "module+0xOFFSET" frames.
 */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "callers.h"
#include "cli.h"
#include "heapdir.h"
#include "heapexport.h"
#include "heapurl.h"
#include "util.h"

const char cli_heap_usage[] =
    "usage: memvigil heap top DIR|FILE [--json] [-n N] [--pid PID]\n"
    "       memvigil heap diff A B [--json] [-n N]\n"
    "       memvigil heap folded FILE\n"
    "       memvigil heap symbolize FILE [-o OUT]\n"
    "       memvigil heap watch --url URL [--heap-interval DURATION]\n"
    "                [--heap-dir DIR] [--listen ADDR] [--duration DURATION]\n"
    "\n"
    "Read heap snapshots (pprof profile.proto, gzip'd) written by\n"
    "libmemvigil_heap.so (`memvigil run --heap`) or any pprof heap profile.\n"
    "\n"
    "  top FILE     live bytes per allocation site, largest first\n"
    "  top DIR      call sites whose live bytes keep growing across the\n"
    "               snapshots of one process (growth/hour, share of the\n"
    "               process's heap growth), then the largest sites\n"
    "  diff A B     per call stack, live bytes in B minus A, largest growth\n"
    "               first\n"
    "  folded FILE  folded stacks (\"main;f;g 12345\") for flamegraph.pl,\n"
    "               inferno or speedscope\n"
    "  symbolize FILE  the profile with function names, files and lines\n"
    "               written in (pprof Function records, inlined frames\n"
    "               kept), so go tool pprof, Pyroscope and Parca need\n"
    "               neither the binary nor its debug info\n"
    "  watch        poll a pprof heap endpoint (Go's net/http/pprof\n"
    "               /debug/pprof/heap, or any other) and rank its growing\n"
    "               call sites as `run --heap` does: events, metrics, and\n"
    "               the ranking when stopped (Ctrl-C, --duration)\n"
    "\n"
    "  -n N                  rows to print (default 10)\n"
    "  -o, --output FILE     symbolize: where to write the profile (gzip'd\n"
    "                        profile.proto; default stdout)\n"
    "  --json                one JSON object\n"
    "  --pid PID             top DIR: the process to follow (default: the one\n"
    "                        with the newest snapshot)\n"
    "  --type TYPE           sample type: inuse_space (default), inuse_objects,\n"
    "                        alloc_space, alloc_objects\n"
    "  --no-symbolize        do not read the mapped files' debug info\n"
    "  --skip REGEX          also skip frames whose function matches REGEX\n"
    "                        (POSIX extended; repeatable) to find the site,\n"
    "                        as for malloc and known wrappers (zmalloc,\n"
    "                        g_malloc, std::...): your own allocation wrappers\n"
    "  --no-auto-skip        do not detect allocation wrappers by themselves (a\n"
    "                        function right above malloc under 4 or more\n"
    "                        distinct callers is skipped, and `top` says so)\n"
    "\n"
    "watch options:\n"
    "  --url URL             the profile to poll (http or https), e.g.\n"
    "                        http://127.0.0.1:6060/debug/pprof/heap\n"
    "  --heap-interval DURATION  time between polls (default 60s); the first\n"
    "                        ones come 1, 2, 4 ... s apart\n"
    "  --heap-dir DIR        where the profiles are kept, as heap snapshots\n"
    "                        (default ./memvigil-heap-PID; `heap top DIR` reads\n"
    "                        it); the newest 120 are kept\n"
    "  --timeout DURATION    time allowed for one fetch (default 10s)\n"
    "  --bearer-token-file FILE  send \"Authorization: Bearer\" with the token\n"
    "                        in FILE (its first line)\n"
    "  --listen ADDR         serve /metrics (memvigil_heap_site_*) at\n"
    "                        HOST:PORT or :PORT (default: no endpoint)\n"
    "  --token TOKEN         bearer token the endpoint requires\n"
    "  --duration DURATION   stop after DURATION (default: at SIGINT/SIGTERM)\n"
    "  -h, --help            this help\n"
    "\n"
    "Exit status: 0 ok, 1 a file could not be read or decoded (watch: no\n"
    "profile could be fetched at all), 2 usage.\n";

typedef struct heap_opts {
    int n;
    int json;
    int32_t pid;
    const char *type;
    int symbolize;
    const char *output;
    int nargs;
    char **args;
    cli_heap_watch_opts watch;  /* watch's options */
} heap_opts;

enum { OPT_PID = 1000, OPT_TYPE, OPT_NOSYM, OPT_JSON, OPT_SKIP, OPT_NO_AUTO,
       OPT_URL, OPT_HEAP_INTERVAL, OPT_HEAP_DIR, OPT_TIMEOUT, OPT_TOKEN_FILE,
       OPT_LISTEN, OPT_TOKEN, OPT_DURATION };

/* A duration option of at least min_ms into *out. 0 or the usage error. */
static int duration_opt(const char *name, const char *arg, int64_t min_ms,
                        int64_t *out)
{
    if (cli_parse_duration_ms(arg, out) != 0)
        return cli_usage_error("heap", "bad %s '%s': expected a duration "
                               "such as 500ms, 10s or 2m", name, arg);
    if (*out < min_ms)
        return cli_usage_error("heap", "%s %s is too short: the minimum is "
                               "%" PRId64 "ms", name, arg, min_ms);
    return 0;
}

int cli_heap_skip_option(const char *cmd, const char *option,
                         const char *regex)
{
    char err[128];

    if (cli_heap_skip_add(regex, err, sizeof err) != 0)
        return cli_usage_error(cmd, "bad %s '%s': %s", option, regex, err);
    return 0;
}

static int parse(int argc, char **argv, heap_opts *o)
{
    static const struct option longopts[] = {
        {"help", no_argument, NULL, 'h'},
        {"json", no_argument, NULL, OPT_JSON},
        {"pid", required_argument, NULL, OPT_PID},
        {"type", required_argument, NULL, OPT_TYPE},
        {"no-symbolize", no_argument, NULL, OPT_NOSYM},
        {"skip", required_argument, NULL, OPT_SKIP},
        {"output", required_argument, NULL, 'o'},
        {"no-auto-skip", no_argument, NULL, OPT_NO_AUTO},
        {"url", required_argument, NULL, OPT_URL},
        {"heap-interval", required_argument, NULL, OPT_HEAP_INTERVAL},
        {"heap-dir", required_argument, NULL, OPT_HEAP_DIR},
        {"timeout", required_argument, NULL, OPT_TIMEOUT},
        {"bearer-token-file", required_argument, NULL, OPT_TOKEN_FILE},
        {"listen", required_argument, NULL, OPT_LISTEN},
        {"token", required_argument, NULL, OPT_TOKEN},
        {"duration", required_argument, NULL, OPT_DURATION},
        {NULL, 0, NULL, 0}};
    int c, rc;

    memset(o, 0, sizeof *o);
    o->n = 10;
    o->symbolize = 1;
    opterr = 0;
    optind = 1;
    while ((c = getopt_long(argc, argv, ":hn:o:", longopts, NULL)) != -1) {
        switch (c) {
        case 'h':
            fputs(cli_heap_usage, stdout);
            return -1;
        case 'n': {
            char *end;
            long v = strtol(optarg, &end, 10);
            if (*end || end == optarg || v < 1 || v > 100000)
                return cli_usage_error("heap", "bad -n '%s': expected a count "
                                       "from 1", optarg);
            o->n = (int)v;
            break;
        }
        case OPT_JSON: o->json = 1; break;
        case 'o': o->output = optarg; break;
        case OPT_PID:
            if (cli_parse_pid(optarg, &o->pid) != 0)
                return cli_usage_error("heap", "bad --pid '%s'", optarg);
            break;
        case OPT_TYPE: o->type = optarg; break;
        case OPT_NOSYM: o->symbolize = 0; break;
        case OPT_SKIP:
            if ((rc = cli_heap_skip_option("heap", "--skip", optarg)) != 0)
                return rc;
            break;
        case OPT_NO_AUTO: cli_heap_auto_skip_set(0); break;
        case OPT_URL: o->watch.fetch.url = optarg; break;
        case OPT_HEAP_INTERVAL:
            if ((rc = duration_opt("--heap-interval", optarg, 100,
                                   &o->watch.interval_ms)) != 0)
                return rc;
            break;
        case OPT_HEAP_DIR: o->watch.dir = optarg; break;
        case OPT_TIMEOUT:
            if ((rc = duration_opt("--timeout", optarg, 100,
                                   &o->watch.fetch.timeout_ms)) != 0)
                return rc;
            break;
        case OPT_TOKEN_FILE: o->watch.token_file = optarg; break;
        case OPT_LISTEN: {
            char host[256];
            int port;
            if (strcmp(optarg, "none") == 0) {
                o->watch.listen = NULL;
                break;
            }
            if (mv__http_parse_listen(optarg, host, sizeof host, &port) != 0)
                return cli_usage_error("heap", "bad --listen '%s': expected "
                                       "HOST:PORT, :PORT or none", optarg);
            o->watch.listen = optarg;
            break;
        }
        case OPT_TOKEN: o->watch.token = optarg; break;
        case OPT_DURATION:
            if ((rc = duration_opt("--duration", optarg, 1,
                                   &o->watch.duration_ms)) != 0)
                return rc;
            break;
        case ':':
        default:
            return cli_option_error("heap", c, argv);
        }
    }
    o->nargs = argc - optind;
    o->args = argv + optind;
    return 0;
}

static int load_or_say(const char *path, const heap_opts *o,
                       cli_symbolizer *sym, cli_stacks *st)
{
    int bad_type = 0;
    int rc = cli_heap_load_stacks(path, o->type, o->symbolize ? sym : NULL, st,
                                  &bad_type);

    if (rc == 0)
        return 0;
    if (bad_type)
        cli_error("heap", "%s: no sample type '%s' in this profile", path,
                  o->type ? o->type : "(default)");
    else
        cli_error("heap", "cannot read %s: %s", path, cli_pprof_strerror(rc));
    return CLI_EXIT_ERROR;
}

/* Bytes, negative ones with a sign; NAN and values beyond int64_t (a
 * saturated sum of a crafted profile) give "n/a", never a wrapped number. */
static const char *human(double bytes, char *buf, size_t n)
{
    return mv__human_bytes_d(bytes, buf, n);
}

static int is_space_type(const char *type)
{
    return !type || strstr(type, "space") != NULL;
}

/* ---- top FILE ---- */

static const char *skip_why(int kind)
{
    return kind == CLI_SKIP_AUTO ? "auto" : kind == CLI_SKIP_REGEX ? "--skip"
                                                                   : "built-in";
}

/* The footer naming the wrappers skipped to find the sites. */
static void print_skipped(FILE *f, const cli_skipped *v, size_t n)
{
    size_t i;

    if (n == 0)
        return;
    fprintf(f, "skipped as allocator wrappers:");
    for (i = 0; i < n; i++)
        fprintf(f, "%s %s (%s)", i ? "," : "", v[i].function,
                skip_why(v[i].kind));
    fprintf(f, "%s\n", n == CLI_STACKS_MAX_SKIPPED ? ", ..." : "");
}

static int skipped_json(mv_buf *j, const cli_skipped *v, size_t n)
{
    size_t i;
    int rc = mv__buf_puts(j, ",\"skipped\":[");

    for (i = 0; i < n; i++) {
        rc |= mv__buf_puts(j, i ? ",{\"function\":" : "{\"function\":");
        rc |= mv__buf_json_string(j, v[i].function);
        rc |= mv__buf_puts(j, ",\"why\":");
        rc |= mv__buf_json_string(j, skip_why(v[i].kind));
        rc |= mv__buf_puts(j, "}");
    }
    return rc | mv__buf_puts(j, "]");
}

/* Stacks aggregated per site (function, file, line). */
typedef struct by_site {
    const char *site;
    int64_t value;
    int64_t stacks;
} by_site;

static int cmp_site_name(const void *a, const void *b)
{
    return strcmp(((const cli_stack *)a)->site, ((const cli_stack *)b)->site);
}

static int cmp_by_value(const void *a, const void *b)
{
    const by_site *x = a, *y = b;
    if (x->value != y->value)
        return x->value > y->value ? -1 : 1;
    return strcmp(x->site, y->site);
}

static int top_file(const char *path, const heap_opts *o)
{
    cli_symbolizer *sym = cli_symbolizer_new();
    cli_stacks st;
    by_site *b;
    size_t i, nb = 0;
    char h1[32], h2[32];
    int rc;

    if (!sym) {
        cli_error("heap", "out of memory");
        return CLI_EXIT_ERROR;
    }
    if ((rc = load_or_say(path, o, sym, &st)) != 0) {
        cli_symbolizer_free(sym);
        return rc;
    }
    b = calloc(st.n ? st.n : 1, sizeof *b);
    if (!b) {
        cli_stacks_release(&st);
        cli_symbolizer_free(sym);
        cli_error("heap", "out of memory");
        return CLI_EXIT_ERROR;
    }
    qsort(st.v, st.n, sizeof *st.v, cmp_site_name);
    for (i = 0; i < st.n; i++) {
        if (nb && strcmp(b[nb - 1].site, st.v[i].site) == 0) {
            b[nb - 1].value = cli_sat_add64(b[nb - 1].value, st.v[i].value);
            b[nb - 1].stacks++;
        } else {
            b[nb].site = st.v[i].site;
            b[nb].value = st.v[i].value;
            b[nb].stacks = 1;
            nb++;
        }
    }
    qsort(b, nb, sizeof *b, cmp_by_value);
    if (o->json) {
        mv_buf j = {0};
        rc = mv__buf_puts(&j, "{\"file\":");
        rc |= mv__buf_json_string(&j, path);
        rc |= mv__buf_printf(&j, ",\"type\":");
        rc |= mv__buf_json_string(&j, o->type ? o->type : "default");
        rc |= mv__buf_printf(&j, ",\"total\":%" PRId64 ",\"period\":%" PRId64
                             ",\"time_s\":", st.total, st.period);
        rc |= mv__buf_json_double(&j, st.time_s);
        rc |= mv__buf_puts(&j, ",\"sites\":[");
        for (i = 0; i < nb && i < (size_t)o->n; i++) {
            rc |= mv__buf_printf(&j, "%s{\"site\":", i ? "," : "");
            rc |= mv__buf_json_string(&j, b[i].site);
            rc |= mv__buf_printf(&j, ",\"value\":%" PRId64 ",\"stacks\":%" PRId64
                                 ",\"share\":", b[i].value, b[i].stacks);
            rc |= mv__buf_json_double(&j, st.total ? (double)b[i].value /
                                                         (double)st.total : NAN);
            rc |= mv__buf_puts(&j, "}");
        }
        rc |= mv__buf_puts(&j, "]");
        rc |= skipped_json(&j, st.skipped, st.nskipped);
        rc |= mv__buf_puts(&j, "}\n");
        if (rc == 0)
            fputs(j.data, stdout);
        mv_buf_release(&j);
    } else {
        int space = is_space_type(o->type);
        if (space)
            human((double)st.total, h1, sizeof h1);
        else
            snprintf(h1, sizeof h1, "%" PRId64, st.total);
        printf("%s: total %s, sampling period %s, %zu stacks\n", path, h1,
               human((double)st.period, h2, sizeof h2), st.n);
        printf("%5s %12s %6s  %s\n", "rank", space ? "live" : "count", "share",
               "site");
        for (i = 0; i < nb && i < (size_t)o->n; i++) {
            char v[32];
            if (space)
                human((double)b[i].value, v, sizeof v);
            else
                snprintf(v, sizeof v, "%" PRId64, b[i].value);
            printf("%5zu %12s %5.1f%%  %s\n", i + 1, v,
                   st.total ? 100.0 * (double)b[i].value / (double)st.total : 0,
                   b[i].site);
        }
        print_skipped(stdout, st.skipped, st.nskipped);
    }
    free(b);
    cli_stacks_release(&st);
    cli_symbolizer_free(sym);
    return rc ? CLI_EXIT_ERROR : CLI_EXIT_OK;
}

/* ---- top DIR ---- */

/* Appends one trend as a JSON object. */
static int trend_json(mv_buf *j, const cli_site_trend *x)
{
    int rc = mv__buf_puts(j, "{\"site\":");
    rc |= mv__buf_json_string(j, x->site);
    rc |= mv__buf_printf(j, ",\"rank\":%d,\"growing\":%s,\"bytes\":", x->rank,
                         x->growing ? "true" : "false");
    rc |= mv__buf_json_double(j, x->bytes);
    rc |= mv__buf_puts(j, ",\"growth_bytes_per_hour\":");
    rc |= mv__buf_json_double(j, x->growth_per_hour);
    rc |= mv__buf_puts(j, ",\"slope_lo\":");
    rc |= mv__buf_json_double(j, x->lo * 3600.0);
    rc |= mv__buf_puts(j, ",\"slope_hi\":");
    rc |= mv__buf_json_double(j, x->hi * 3600.0);
    rc |= mv__buf_puts(j, ",\"noise_bytes\":");
    rc |= mv__buf_json_double(j, x->noise);
    rc |= mv__buf_puts(j, ",\"share\":");
    rc |= mv__buf_json_double(j, x->share);
    rc |= mv__buf_puts(j, ",\"stack\":");
    rc |= mv__buf_json_string(j, x->folded ? x->folded : "");
    rc |= mv__buf_puts(j, "}");
    return rc;
}

void cli_heap_print_trend(FILE *f, const cli_heapdir *h, const cli_site_trend *r,
                          size_t n, int rows, int json)
{
    size_t i, shown = 0, ngrowing = 0;
    char a[32], b[32], c[32];
    double total = cli_heaptrend_total(h->trend);
    double tslope = cli_heaptrend_total_slope(h->trend);
    size_t count = cli_heaptrend_count(h->trend);

    for (i = 0; i < n; i++)
        if (r[i].growing)
            ngrowing++;
    if (json) {
        mv_buf j = {0};
        int rc = mv__buf_printf(&j, "{\"dir\":");
        rc |= mv__buf_json_string(&j, h->dir);
        rc |= mv__buf_printf(&j, ",\"pid\":%" PRId32 ",\"snapshots\":%zu,"
                             "\"snapshots_unread\":%" PRId64 ",\"total_bytes\":",
                             h->pid, count, h->unread);
        rc |= mv__buf_json_double(&j, total);
        rc |= mv__buf_puts(&j, ",\"total_growth_bytes_per_hour\":");
        rc |= mv__buf_json_double(&j, tslope * 3600.0);
        rc |= mv__buf_puts(&j, ",\"growing\":[");
        for (i = 0; i < n && r[i].growing && (int)i < rows; i++) {
            if (i)
                rc |= mv__buf_puts(&j, ",");
            rc |= trend_json(&j, &r[i]);
        }
        rc |= mv__buf_puts(&j, "],\"largest\":[");
        for (i = ngrowing; i < n && shown < (size_t)rows; i++, shown++) {
            if (shown)
                rc |= mv__buf_puts(&j, ",");
            rc |= trend_json(&j, &r[i]);
        }
        rc |= mv__buf_puts(&j, "]");
        rc |= skipped_json(&j, h->skipped, h->nskipped);
        rc |= mv__buf_puts(&j, "}\n");
        if (rc == 0)
            fputs(j.data, f);
        mv_buf_release(&j);
        return;
    }
    fprintf(f, "pid %" PRId32 ": %zu snapshots, live heap %s, trend %s/h\n",
            h->pid, count, human(total, a, sizeof a),
            isfinite(tslope) ? human(tslope * 3600.0, b, sizeof b) : "n/a");
    if (h->unread > 0)
        fprintf(f, "(%" PRId64 " more snapshots not read: at most %d a pass, "
                "spread over the run)\n", h->unread, CLI_HEAPDIR_MAX_READ);
    if (count < 3)
        fprintf(f, "(a trend needs 3 snapshots or more)\n");
    if (ngrowing) {
        fprintf(f, "growing call sites:\n%5s %12s %6s %12s  %s\n", "rank",
                "growth/h", "share", "live", "site");
        for (i = 0; i < ngrowing && (int)i < rows; i++) {
            char callers[512];
            fprintf(f, "%5d %12s %5.0f%% %12s  %s\n", r[i].rank,
                    human(r[i].growth_per_hour, a, sizeof a),
                    isfinite(r[i].share) ? r[i].share * 100 : 0.0,
                    human(r[i].bytes, b, sizeof b), r[i].site);
            if (cli_heap_callers(r[i].folded, 3, callers, sizeof callers)[0])
                fprintf(f, "%39s  <- %s\n", "", callers);
        }
    } else if (count >= 3) {
        fprintf(f, "no call site is growing above sampling noise\n");
    }
    if (ngrowing < n) {
        fprintf(f, "largest other sites:\n%5s %12s %12s  %s\n", "", "live",
                "trend/h", "site");
        for (i = ngrowing; i < n && shown < (size_t)rows; i++, shown++)
            fprintf(f, "%5s %12s %12s  %s\n", "", human(r[i].bytes, a, sizeof a),
                    isfinite(r[i].growth_per_hour)
                        ? human(r[i].growth_per_hour, c, sizeof c) : "n/a",
                    r[i].site);
    }
    print_skipped(f, h->skipped, h->nskipped);
}

/* Why h's last unreadable snapshot failed; a directory is read for
 * inuse_space (cli_heapdir_update), so a missing type is named. */
static const char *bad_why(const cli_heapdir *h)
{
    if (h->bad_rc == CLI_PPROF_ENOTYPE)
        return "no inuse_space sample type";
    return cli_pprof_strerror(h->bad_rc);
}

static int top_dir(const char *dir, const heap_opts *o)
{
    cli_heapdir h;
    cli_site_trend *r = NULL;
    size_t n = 0;
    int rc;

    if (o->type && strcmp(o->type, "inuse_space") != 0)
        return cli_usage_error("heap", "top DIR follows inuse_space only");
    if (cli_heapdir_init(&h, dir, o->pid) != 0) {
        cli_error("heap", "out of memory");
        return CLI_EXIT_ERROR;
    }
    h.symbolize = o->symbolize;
    rc = cli_heapdir_update(&h, NULL);
    if (rc) {
        cli_error("heap", "cannot read directory %s: %s", dir, strerror(-rc));
        cli_heapdir_release(&h);
        return CLI_EXIT_ERROR;
    }
    if (h.loaded == 0) {
        if (h.bad)
            cli_error("heap", "%s: %" PRId64 " snapshot(s), none readable "
                      "(last: %s: %s)", dir, h.bad, h.bad_file,
                      bad_why(&h));
        else
            cli_error("heap", "%s: no snapshots (heap-PID-SEQ.pb.gz)%s", dir,
                      o->pid ? " for this pid" : "");
        cli_heapdir_release(&h);
        return CLI_EXIT_ERROR;
    }
    if (h.bad)
        cli_error("heap", "note: skipped %" PRId64 " unreadable snapshot(s) "
                  "(last: %s: %s)", h.bad, h.bad_file,
                  bad_why(&h));
    if (cli_heaptrend_rank(h.trend, &r, &n) != 0) {
        cli_error("heap", "out of memory");
        cli_heapdir_release(&h);
        return CLI_EXIT_ERROR;
    }
    cli_heap_print_trend(stdout, &h, r, n, o->n, o->json);
    free(r);
    cli_heapdir_release(&h);
    return CLI_EXIT_OK;
}

/* ---- diff ---- */

typedef struct delta {
    const char *site, *key, *folded;
    int64_t a, b;
} delta;

static int cmp_stack_key(const void *x, const void *y)
{
    return strcmp(((const cli_stack *)x)->key, ((const cli_stack *)y)->key);
}

static int cmp_delta(const void *x, const void *y)
{
    const delta *p = x, *q = y;
    int64_t dp = cli_sat_sub64(p->b, p->a), dq = cli_sat_sub64(q->b, q->a);
    if (dp != dq)
        return dp > dq ? -1 : 1;
    return strcmp(p->key, q->key);
}

static int diff(const char *pa, const char *pb, const heap_opts *o)
{
    cli_symbolizer *sym = cli_symbolizer_new();
    cli_stacks sa, sb;
    delta *d;
    size_t i = 0, j = 0, n = 0, k;
    int rc, space = is_space_type(o->type);
    char h1[32], h2[32], h3[32];

    if (!sym) {
        cli_error("heap", "out of memory");
        return CLI_EXIT_ERROR;
    }
    if ((rc = load_or_say(pa, o, sym, &sa)) != 0) {
        cli_symbolizer_free(sym);
        return rc;
    }
    if ((rc = load_or_say(pb, o, sym, &sb)) != 0) {
        cli_stacks_release(&sa);
        cli_symbolizer_free(sym);
        return rc;
    }
    d = calloc(sa.n + sb.n + 1, sizeof *d);
    if (!d) {
        cli_error("heap", "out of memory");
        rc = CLI_EXIT_ERROR;
        goto out;
    }
    qsort(sa.v, sa.n, sizeof *sa.v, cmp_stack_key);
    qsort(sb.v, sb.n, sizeof *sb.v, cmp_stack_key);
    while (i < sa.n || j < sb.n) {
        int c = i >= sa.n ? 1 : j >= sb.n ? -1 : strcmp(sa.v[i].key, sb.v[j].key);
        const cli_stack *s = c <= 0 ? &sa.v[i] : &sb.v[j];
        d[n].site = s->site;
        d[n].key = s->key;
        d[n].folded = s->folded;
        d[n].a = c <= 0 ? sa.v[i].value : 0;
        d[n].b = c >= 0 ? sb.v[j].value : 0;
        n++;
        if (c <= 0)
            i++;
        if (c >= 0)
            j++;
    }
    qsort(d, n, sizeof *d, cmp_delta);
    if (o->json) {
        mv_buf js = {0};
        int e = mv__buf_puts(&js, "{\"a\":");
        e |= mv__buf_json_string(&js, pa);
        e |= mv__buf_puts(&js, ",\"b\":");
        e |= mv__buf_json_string(&js, pb);
        e |= mv__buf_printf(&js, ",\"total_a\":%" PRId64 ",\"total_b\":%" PRId64
                            ",\"seconds\":", sa.total, sb.total);
        e |= mv__buf_json_double(&js, sb.time_s - sa.time_s);
        e |= mv__buf_puts(&js, ",\"stacks\":[");
        for (k = 0; k < n && k < (size_t)o->n; k++) {
            e |= mv__buf_printf(&js, "%s{\"site\":", k ? "," : "");
            e |= mv__buf_json_string(&js, d[k].site);
            e |= mv__buf_printf(&js, ",\"a\":%" PRId64 ",\"b\":%" PRId64
                                ",\"delta\":%" PRId64 ",\"stack\":", d[k].a,
                                d[k].b, cli_sat_sub64(d[k].b, d[k].a));
            e |= mv__buf_json_string(&js, d[k].folded);
            e |= mv__buf_puts(&js, "}");
        }
        e |= mv__buf_puts(&js, "]}\n");
        if (e == 0)
            fputs(js.data, stdout);
        mv_buf_release(&js);
        rc = e ? CLI_EXIT_ERROR : CLI_EXIT_OK;
        goto out;
    }
    if (space)
        printf("total %s -> %s (%s) over %.0f s\n",
               human((double)sa.total, h1, sizeof h1),
               human((double)sb.total, h2, sizeof h2),
               human((double)cli_sat_sub64(sb.total, sa.total), h3, sizeof h3),
               sb.time_s - sa.time_s);
    else
        printf("total %" PRId64 " -> %" PRId64 " over %.0f s\n", sa.total,
               sb.total, sb.time_s - sa.time_s);
    printf("%12s %12s %12s  %s\n", "delta", "A", "B", "site (stack)");
    for (k = 0; k < n && k < (size_t)o->n; k++) {
        if (space)
            printf("%12s %12s %12s  %s\n",
                   human((double)cli_sat_sub64(d[k].b, d[k].a), h1, sizeof h1),
                   human((double)d[k].a, h2, sizeof h2),
                   human((double)d[k].b, h3, sizeof h3), d[k].site);
        else
            printf("%12" PRId64 " %12" PRId64 " %12" PRId64 "  %s\n",
                   cli_sat_sub64(d[k].b, d[k].a), d[k].a, d[k].b, d[k].site);
        printf("%38s  %s\n", "", d[k].folded);
    }
    rc = CLI_EXIT_OK;
out:
    free(d);
    cli_stacks_release(&sa);
    cli_stacks_release(&sb);
    cli_symbolizer_free(sym);
    return rc;
}

/* ---- folded ---- */

static int cmp_folded(const void *a, const void *b)
{
    return strcmp(((const cli_stack *)a)->folded, ((const cli_stack *)b)->folded);
}

static int folded(const char *path, const heap_opts *o)
{
    cli_symbolizer *sym = cli_symbolizer_new();
    cli_stacks st;
    size_t i;
    int rc;

    if (!sym) {
        cli_error("heap", "out of memory");
        return CLI_EXIT_ERROR;
    }
    if ((rc = load_or_say(path, o, sym, &st)) != 0) {
        cli_symbolizer_free(sym);
        return rc;
    }
    qsort(st.v, st.n, sizeof *st.v, cmp_folded);
    for (i = 0; i < st.n; i++) {
        int64_t v = st.v[i].value;
        while (i + 1 < st.n && strcmp(st.v[i].folded, st.v[i + 1].folded) == 0)
            v = cli_sat_add64(v, st.v[++i].value);
        if (v > 0)
            printf("%s %" PRId64 "\n", st.v[i].folded, v);
    }
    cli_stacks_release(&st);
    cli_symbolizer_free(sym);
    return CLI_EXIT_OK;
}

int cli_cmd_heap(int argc, char **argv)
{
    heap_opts o;
    const char *sub;
    struct stat st;
    int rc;

    /* options anywhere: after the subcommand (whatever POSIXLY_CORRECT
     * says, as the usage shows them), and before it (GNU permutation: the
     * first operand is the subcommand) */
    int sub_first = argc >= 2 && argv[1][0] != '-';
    rc = sub_first ? parse(argc - 1, argv + 1, &o) : parse(argc, argv, &o);
    if (rc < 0)
        return CLI_EXIT_OK;
    if (rc)
        return rc;
    if (sub_first) {
        sub = argv[1];
    } else {
        if (o.nargs < 1)
            return cli_usage_error("heap", "missing subcommand (top, diff, "
                                   "folded, symbolize, watch)");
        sub = o.args[0];
        o.args++;
        o.nargs--;
    }
    if (o.type && strcmp(o.type, "inuse_space") != 0 &&
        strcmp(o.type, "inuse_objects") != 0 && strcmp(o.type, "alloc_space") != 0 &&
        strcmp(o.type, "alloc_objects") != 0)
        return cli_usage_error("heap", "bad --type '%s'", o.type);
    if (strcmp(sub, "top") == 0) {
        if (o.nargs != 1)
            return cli_usage_error("heap", "top takes one DIR or FILE");
        if (stat(o.args[0], &st) != 0) {
            cli_error("heap", "cannot read %s: %s", o.args[0], strerror(errno));
            return CLI_EXIT_ERROR;
        }
        return S_ISDIR(st.st_mode) ? top_dir(o.args[0], &o)
                                   : top_file(o.args[0], &o);
    }
    if (strcmp(sub, "diff") == 0) {
        if (o.nargs != 2)
            return cli_usage_error("heap", "diff takes two files");
        return diff(o.args[0], o.args[1], &o);
    }
    if (strcmp(sub, "folded") == 0) {
        if (o.nargs != 1)
            return cli_usage_error("heap", "folded takes one FILE");
        return folded(o.args[0], &o);
    }
    if (strcmp(sub, "symbolize") == 0) {
        if (o.nargs != 1)
            return cli_usage_error("heap", "symbolize takes one FILE");
        return cli_heap_symbolize_cmd(o.args[0], o.output, o.symbolize);
    }
    if (strcmp(sub, "watch") == 0) {
        if (o.nargs != 0)
            return cli_usage_error("heap", "watch takes no operand (--url URL)");
        if (!o.watch.fetch.url)
            return cli_usage_error("heap", "watch needs --url URL");
        if (strncmp(o.watch.fetch.url, "http://", 7) != 0 &&
            strncmp(o.watch.fetch.url, "https://", 8) != 0)
            return cli_usage_error("heap", "bad --url '%s': expected http:// "
                                   "or https://", o.watch.fetch.url);
        o.watch.json = o.json;
        return cli_heap_watch(&o.watch);
    }
    return cli_usage_error("heap", "no such subcommand '%s' (top, diff, "
                           "folded, symbolize, watch)", sub);
}
