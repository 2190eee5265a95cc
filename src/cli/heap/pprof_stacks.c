/*
 * pprof_stacks.c — from a decoded profile to symbolized, aggregated stacks:
 * the unit that `heap top`, `heap diff`, `heap folded` and the growth trend
 * (heaptrend.c) work on.
 *
 * Design:
 *  - Frame names come, in order of preference, from the profile's own
 *    Line/Function records, from the caller's symbolizer (libdw, see
 *    symbolize.h), or from "module+0xOFFSET" — an address made relative to
 *    its file, so it is stable across runs despite ASLR.
 *  - A stack's identity (key) includes file and line of every frame, so two
 *    malloc calls in one function (one leaking, one not) stay apart; the
 *    folded line uses function names only, as flame-graph tools expect.
 *  - Allocator frames (malloc, operator new, the profiler's own library,
 *    well-known allocation wrappers such as zmalloc or g_malloc, and the
 *    C++ standard library's std:: frames) are dropped from the leaf end:
 *    the "site" is the first frame of the program's own code.
 */
#include <errno.h>
#include <inttypes.h>
#include <regex.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pprof.h"
#include "util.h"

#define MAX_INLINE 16

/* Frames kept per stack: the innermost ones, callers beyond are dropped.
 * libmemvigil_heap.so records at most 64 and other producers a few hundred;
 * the bound is there so a crafted sample of a million locations (each
 * expanding into up to MAX_INLINE frames) costs bounded memory. */
#define MAX_STACK_FRAMES 1024

static const char *const allocator_names[] = {
    "malloc", "calloc", "realloc", "free", "reallocarray", "posix_memalign",
    "aligned_alloc", "memalign", "valloc", "pvalloc", "__libc_malloc",
    "__libc_calloc", "__libc_realloc", "__libc_memalign", "__libc_valloc",
    "__libc_pvalloc", "__posix_memalign", "operator new", "operator new[]",
    NULL};

/* Well-known allocation wrappers of C programs and runtimes, by prefix:
 * the frame above them says who allocates (redis's zmalloc_usable,
 * GNU's xmalloc, GLib, CPython, PostgreSQL, nginx, SQLite). */
static const char *const allocator_wrapper_prefixes[] = {
    "zmalloc", "ztrymalloc", "zcalloc", "ztrycalloc", "zrealloc",
    "ztryrealloc", "zstrdup", "xmalloc", "xcalloc", "xrealloc", "xstrdup",
    "xzalloc", "g_malloc", "g_try_malloc", "g_realloc", "g_try_realloc",
    "g_slice_alloc", "g_strdup", "PyMem_", "_PyMem_", "PyObject_Malloc",
    "PyObject_Calloc", "PyObject_Realloc", "_PyObject_Malloc",
    "_PyObject_Calloc", "_PyObject_Realloc", "palloc", "MemoryContextAlloc",
    "ngx_alloc", "ngx_calloc", "ngx_palloc", "ngx_pnalloc", "ngx_pcalloc",
    "sqlite3Malloc", "sqlite3DbMalloc", "sqlite3Realloc", "sqlite3DbRealloc",
    NULL};

#define MAX_SKIP 16
static regex_t skip_re[MAX_SKIP];
static int nskip;

int cli_heap_skip_add(const char *regex, char *errbuf, size_t errlen)
{
    if (nskip >= MAX_SKIP) {
        snprintf(errbuf, errlen, "at most %d expressions", MAX_SKIP);
        return -E2BIG;
    }
    int rc = regcomp(&skip_re[nskip], regex, REG_EXTENDED | REG_NOSUB);
    if (rc != 0) {
        regerror(rc, &skip_re[nskip], errbuf, errlen);
        return -EINVAL;
    }
    nskip++;
    return 0;
}

int cli_is_allocator_frame(const char *name)
{
    return cli_allocator_frame_kind(name) != CLI_SKIP_NONE;
}

int cli_allocator_frame_kind(const char *name)
{
    size_t i;

    if (!name || !name[0])
        return CLI_SKIP_NONE;
    for (i = 0; allocator_names[i]; i++)
        if (strcmp(name, allocator_names[i]) == 0)
            return CLI_SKIP_ALLOCATOR;
    /* C++: "operator new(unsigned long)", mangled _Znwm, _Znam, _ZnwmSt...,
     * _ZnwmRKSt9nothrow_t; the profiler's own entry points */
    if (strncmp(name, "operator new", 12) == 0 || strncmp(name, "_Znw", 4) == 0 ||
        strncmp(name, "_Zna", 4) == 0 || strncmp(name, "mvh_", 4) == 0 ||
        strncmp(name, "mv_heap_", 8) == 0 || strncmp(name, "mv__heap", 8) == 0)
        return CLI_SKIP_ALLOCATOR;
    /* the C++ standard library (allocators, containers growing): never
     * the program's own code */
    if (strncmp(name, "std::", 5) == 0 || strncmp(name, "__gnu_cxx::", 11) == 0)
        return CLI_SKIP_ALLOCATOR;
    for (i = 0; allocator_wrapper_prefixes[i]; i++)
        if (strncmp(name, allocator_wrapper_prefixes[i],
                    strlen(allocator_wrapper_prefixes[i])) == 0)
            return CLI_SKIP_BUILTIN;
    for (int k = 0; k < nskip; k++)
        if (regexec(&skip_re[k], name, 0, NULL, 0) == 0)
            return CLI_SKIP_REGEX;
    return CLI_SKIP_NONE;
}

static const char *base_name(const char *path)
{
    const char *s = path ? strrchr(path, '/') : NULL;
    return s ? s + 1 : (path ? path : "");
}

static int is_profiler_mapping(const cli_pprof_mapping *m)
{
    return m && strncmp(base_name(m->filename), "libmemvigil_heap", 16) == 0;
}

/* One resolved frame plus its formatted pieces. */
typedef struct rframe {
    cli_frame f;
    char fallback[96];   /* "module+0x1234" when nothing else is known */
    int profiler;        /* frame of the profiler's own library */
} rframe;

/* Resolves location loc into up to max frames (innermost first). */
static int resolve(const cli_pprof *p, const cli_pprof_location *loc,
                   int pc_is_return, cli_symbolize_fn sym, void *ctx,
                   rframe *out, int max)
{
    const cli_pprof_mapping *m = cli_pprof_mapping_get(p, loc->mapping_id);
    int n = 0, i;

    if (loc->nlines > 0) {
        size_t k;
        for (k = 0; k < loc->nlines && n < max; k++) {
            const cli_pprof_line *ln = &p->lines[loc->line0 + k];
            const cli_pprof_function *fn =
                cli_pprof_function_get(p, ln->function_id);
            memset(&out[n], 0, sizeof out[n]);
            if (fn && fn->name[0])
                out[n].f.function = fn->name;
            else if (fn && fn->system_name[0])
                out[n].f.function = fn->system_name;
            out[n].f.file = fn && fn->filename[0] ? fn->filename : NULL;
            out[n].f.line = ln->line;
            if (out[n].f.function)
                n++;
        }
    }
    if (n == 0 && sym && m) {
        cli_frame fr[MAX_INLINE];
        int k = sym(ctx, m, loc->address, pc_is_return, fr,
                    max < MAX_INLINE ? max : MAX_INLINE);
        for (i = 0; i < k; i++) {
            memset(&out[n], 0, sizeof out[n]);
            out[n].f = fr[i];
            n++;
        }
    }
    if (n == 0) {
        memset(&out[0], 0, sizeof out[0]);
        if (m && m->filename[0])
            snprintf(out[0].fallback, sizeof out[0].fallback, "%s+0x%" PRIx64,
                     base_name(m->filename),
                     loc->address - m->start + m->offset);
        else
            snprintf(out[0].fallback, sizeof out[0].fallback, "0x%" PRIx64,
                     loc->address);
        out[0].f.function = out[0].fallback;
        n = 1;
    }
    for (i = 0; i < n; i++)
        out[i].profiler = is_profiler_mapping(m);
    return n;
}

/* Appends a frame name with ';' (the folded separator) and newlines made
 * harmless. */
static int put_name(mv_buf *b, const char *s)
{
    int rc = 0;

    for (; *s && !rc; s++) {
        char c = *s == ';' ? ':' : (*s == '\n' ? ' ' : *s);
        rc = mv__buf_append(b, &c, 1);
    }
    return rc;
}

static int format_site(mv_buf *b, const cli_frame *f)
{
    int rc = put_name(b, f->function ? f->function : "??");
    if (rc)
        return rc;
    if (f->file && f->line > 0)
        return mv__buf_printf(b, " (%s:%" PRId64 ")", base_name(f->file), f->line);
    if (f->file)
        return mv__buf_printf(b, " (%s)", base_name(f->file));
    return 0;
}

/* Stack frames of one sample, innermost first, allocator frames removed
 * from the leaf end. A frame's f.function may point at its own fallback[],
 * so it is only valid once v stops moving: sample_frames sets those
 * pointers last, and until then names are read through frame_name. */
typedef struct frames {
    rframe *v;
    size_t n, cap;
    size_t dropped;      /* frames dropped from the leaf end */
} frames;

static const char *frame_name(const rframe *r)
{
    return r->fallback[0] ? r->fallback : r->f.function;
}

/* Why frame r is dropped from the leaf end: CLI_SKIP_* (auto: a wrapper
 * the profile's own shape revealed, see pprof_autoskip.c). */
static int drop_kind(const rframe *r, const cli_autoskip *autos)
{
    int k;

    if (r->profiler)
        return CLI_SKIP_ALLOCATOR;
    k = cli_allocator_frame_kind(frame_name(r));
    if (k == CLI_SKIP_NONE && cli_autoskip_is_wrapper(autos, frame_name(r)))
        k = CLI_SKIP_AUTO;
    return k;
}

/* Notes a dropped wrapper (not malloc itself) in st's list, once. */
static int note_skipped(cli_stacks *st, const char *name, int kind)
{
    size_t i;
    char *copy;

    if (!st || kind == CLI_SKIP_ALLOCATOR || kind == CLI_SKIP_NONE)
        return 0;
    for (i = 0; i < st->nskipped; i++)
        if (strcmp(st->skipped[i].function, name) == 0)
            return 0;
    if (st->nskipped >= CLI_STACKS_MAX_SKIPPED)
        return 0;
    copy = strdup(name);
    if (!copy)
        return -ENOMEM;
    st->skipped[st->nskipped].function = copy;
    st->skipped[st->nskipped].kind = kind;
    st->nskipped++;
    return 0;
}

static int sample_frames(const cli_pprof *p, const cli_pprof_sample *s,
                         cli_symbolize_fn sym, void *ctx,
                         const cli_autoskip *autos, cli_stacks *log,
                         frames *fr)
{
    size_t i, skip;
    int kind;

    fr->n = 0;
    for (i = 0; i < s->nlocs && fr->n < MAX_STACK_FRAMES; i++) {
        const cli_pprof_location *loc = cli_pprof_location_get(p, p->locids[s->loc0 + i]);
        rframe tmp[MAX_INLINE];
        int k, j;
        if (!loc)
            return -EBADMSG; /* a sample names a location that is not there */
        k = resolve(p, loc, i > 0, sym, ctx, tmp, MAX_INLINE);
        if (fr->n + (size_t)k > MAX_STACK_FRAMES)
            k = (int)(MAX_STACK_FRAMES - fr->n);
        if (fr->n + (size_t)k > fr->cap) {
            size_t cap = (fr->cap + (size_t)k) * 2;
            rframe *v = realloc(fr->v, cap * sizeof *v);
            if (!v)
                return -ENOMEM;
            fr->v = v;
            fr->cap = cap;
        }
        for (j = 0; j < k; j++)
            fr->v[fr->n++] = tmp[j];
    }
    /* drop allocator frames at the leaf end, keeping at least one frame */
    for (skip = 0; skip + 1 < fr->n; skip++) {
        if ((kind = drop_kind(&fr->v[skip], autos)) == CLI_SKIP_NONE)
            break;
        if (note_skipped(log, frame_name(&fr->v[skip]), kind) != 0)
            return -ENOMEM;
    }
    fr->dropped = skip;
    if (skip) {
        memmove(fr->v, fr->v + skip, (fr->n - skip) * sizeof *fr->v);
        fr->n -= skip;
    }
    /* v no longer moves: point fallback names at their own copies */
    for (i = 0; i < fr->n; i++)
        if (fr->v[i].fallback[0])
            fr->v[i].f.function = fr->v[i].fallback;
    return 0;
}

/* Upper bound of the bytes key, folded and site take for frames fr. */
static size_t text_bytes(const frames *fr)
{
    size_t i, t = 0;

    for (i = 0; i < fr->n; i++) {
        const cli_frame *f = &fr->v[i].f;
        size_t name = f->function ? strlen(f->function) : 2;
        size_t file = f->file ? strlen(f->file) : 0;
        t += 2 * name + file + 32;  /* key: name@file:line|, folded: name; */
        if (i == 0)
            t += name + file + 32;  /* site: name (file:line) */
    }
    return t + 16;
}

static int cmp_key(const void *a, const void *b)
{
    return strcmp(((const cli_stack *)a)->key, ((const cli_stack *)b)->key);
}

static int cmp_value(const void *a, const void *b)
{
    const cli_stack *x = a, *y = b;
    if (x->value != y->value)
        return x->value > y->value ? -1 : 1;
    return strcmp(x->folded, y->folded);
}

static void stack_free(cli_stack *s)
{
    free(s->key);
    free(s->folded);
    free(s->site);
}

/* First pass: which functions right above the allocator are wrappers
 * (pprof_autoskip.c). *out is NULL or the decided set (caller frees). */
static int find_wrappers(const cli_pprof *p, cli_symbolize_fn sym,
                         void *ctx, frames *fr, cli_autoskip **out)
{
    cli_autoskip *a = cli_autoskip_new();
    size_t i;
    int rc = 0;

    *out = NULL;
    if (!a)
        return -ENOMEM;
    for (i = 0; i < p->nsamples && !rc; i++) {
        if ((rc = sample_frames(p, &p->samples[i], sym, ctx, NULL, NULL, fr)) != 0)
            break;
        if (fr->dropped > 0 && fr->n >= 2 && fr->v[0].f.function &&
            fr->v[1].f.function)
            rc = cli_autoskip_add(a, fr->v[0].f.function, fr->v[1].f.function);
    }
    if (!rc)
        rc = cli_autoskip_decide(a);
    if (rc) {
        cli_autoskip_free(a);
        return rc;
    }
    *out = a;
    return 0;
}

int cli_stacks_build(const cli_pprof *p, int vidx, cli_symbolize_fn sym,
                     void *sym_ctx, cli_stacks *out)
{
    static const char *const kinds[4] = {"alloc_objects", "alloc_space",
                                         "inuse_objects", "inuse_space"};
    cli_stacks st;
    cli_autoskip *autos = NULL;
    frames fr = {0};
    mv_buf key = {0}, folded = {0}, site = {0};
    int kidx[4], rc = 0;
    size_t i, j, w, used;

    memset(&st, 0, sizeof st);
    if (!p || !out || vidx < 0 || (size_t)vidx >= p->ntypes)
        return -EINVAL;
    if (p->nsamples > CLI_STACKS_MAX_BYTES / sizeof *st.v)
        return CLI_PPROF_ESTACKS;
    used = p->nsamples * sizeof *st.v;
    for (i = 0; i < 4; i++)
        kidx[i] = cli_pprof_value_index(p, kinds[i]);
    st.v = calloc(p->nsamples ? p->nsamples : 1, sizeof *st.v);
    if (!st.v)
        return -ENOMEM;
    st.time_s = (double)p->time_nanos / 1e9;
    st.period = p->period;
    if (cli_heap_auto_skip_enabled() && (rc = find_wrappers(p, sym, sym_ctx, &fr,
                                                            &autos)) != 0)
        goto fail;
    for (i = 0; i < p->nsamples; i++) {
        const cli_pprof_sample *s = &p->samples[i];
        cli_stack *k = &st.v[st.n];

        st.total = cli_sat_add64(st.total, p->values[s->val0 + (size_t)vidx]);
        if ((rc = sample_frames(p, s, sym, sym_ctx, autos, &st, &fr)) != 0)
            goto fail;
        used += text_bytes(&fr);
        if (used > CLI_STACKS_MAX_BYTES) {
            rc = CLI_PPROF_ESTACKS; /* long names in many deep stacks */
            goto fail;
        }
        mv__buf_reset(&key);
        mv__buf_reset(&folded);
        mv__buf_reset(&site);
        rc = mv__buf_puts(&key, "");
        if (!rc)
            rc = mv__buf_puts(&folded, "");
        if (!rc)
            rc = mv__buf_puts(&site, "");
        for (j = 0; j < fr.n && !rc; j++) {
            const cli_frame *f = &fr.v[j].f;
            rc = mv__buf_printf(&key, "%s%s@%s:%" PRId64, j ? "|" : "",
                                f->function ? f->function : "??",
                                f->file ? f->file : "", f->line);
        }
        for (j = fr.n; j > 0 && !rc; j--) {
            if (j != fr.n)
                rc = mv__buf_puts(&folded, ";");
            if (!rc)
                rc = put_name(&folded, fr.v[j - 1].f.function
                                           ? fr.v[j - 1].f.function : "??");
        }
        if (!rc && fr.n)
            rc = format_site(&site, &fr.v[0].f);
        else if (!rc)
            rc = mv__buf_puts(&site, "(no stack)");
        if (rc)
            goto fail;
        k->key = strdup(key.data);
        k->folded = strdup(folded.data);
        k->site = strdup(site.data);
        if (!k->key || !k->folded || !k->site) {
            stack_free(k);
            rc = -ENOMEM;
            goto fail;
        }
        k->value = p->values[s->val0 + (size_t)vidx];
        for (j = 0; j < 4; j++)
            k->values[j] = kidx[j] >= 0 ? p->values[s->val0 + (size_t)kidx[j]] : 0;
        st.n++;
    }
    /* aggregate equal keys */
    qsort(st.v, st.n, sizeof *st.v, cmp_key);
    for (i = 0, w = 0; i < st.n; i++) {
        if (w > 0 && strcmp(st.v[w - 1].key, st.v[i].key) == 0) {
            cli_stack *to = &st.v[w - 1];
            to->value = cli_sat_add64(to->value, st.v[i].value);
            for (j = 0; j < 4; j++)
                to->values[j] = cli_sat_add64(to->values[j], st.v[i].values[j]);
            stack_free(&st.v[i]);
        } else {
            st.v[w++] = st.v[i];
        }
    }
    st.n = w;
    qsort(st.v, st.n, sizeof *st.v, cmp_value);
    cli_autoskip_free(autos);
    free(fr.v);
    mv_buf_release(&key);
    mv_buf_release(&folded);
    mv_buf_release(&site);
    *out = st;
    return 0;
fail:
    cli_autoskip_free(autos);
    free(fr.v);
    mv_buf_release(&key);
    mv_buf_release(&folded);
    mv_buf_release(&site);
    cli_stacks_release(&st);
    return rc;
}

void cli_stacks_release(cli_stacks *s)
{
    size_t i;

    if (!s)
        return;
    for (i = 0; i < s->n; i++)
        stack_free(&s->v[i]);
    for (i = 0; i < s->nskipped; i++)
        free(s->skipped[i].function);
    free(s->v);
    memset(s, 0, sizeof *s);
}
