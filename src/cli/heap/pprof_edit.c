/*
 * pprof_edit.c — changing a decoded profile in place (see pprof.h):
 * symbolizing it into Function records and Location lines, so that the
 * profile stands alone (pprof, Pyroscope and Parca need neither the binary
 * nor its debug info), and subtracting an older profile from a newer one
 * (the delta of /debug/pprof/heap?seconds=N).
 *
 * Design:
 *  - Symbolizing appends: the new functions get ids above the largest one
 *    in the file (the array stays sorted by id), the new lines go after the
 *    existing ones, and a location that already has lines (a Go profile, or
 *    a file symbolized before) is left as it is. Functions are shared by
 *    every location that resolves to the same name, linkage name, file and
 *    start line (an open-addressing hash over those).
 *  - Subtracting matches samples by their call stack as addresses (the
 *    location ids of two files are unrelated): a hash of each older
 *    sample's address sequence, then for each newer sample its match. The
 *    values are subtracted type by type (types matched by name), as Go's
 *    net/http/pprof does for a delta (the older profile scaled by -1 and
 *    merged). Samples left all zero are dropped. A stack only in the older
 *    profile is not added (libmemvigil_heap.so never forgets a stack, so
 *    its older stacks are all in the newer profile).
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "pprof.h"

/* ---- symbolizing ---- */

#define MAX_INLINE 16

typedef struct fnkey {
    const char *name, *system_name, *filename;
    int64_t start_line;
} fnkey;

typedef struct fnmap {
    size_t *slot;          /* index in p->functions + 1, 0 = empty */
    size_t nslots;         /* power of two */
} fnmap;

static uint64_t mix(uint64_t h, const char *s)
{
    for (; s && *s; s++)
        h = (h ^ (unsigned char)*s) * 1099511628211ull;
    return (h ^ 0xff) * 1099511628211ull;
}

static uint64_t fn_hash(const char *name, const char *sys, const char *file,
                        int64_t start)
{
    uint64_t h = mix(mix(mix(1469598103934665603ull, name), sys), file);
    return (h ^ (uint64_t)start) * 1099511628211ull;
}

static int fn_same(const cli_pprof_function *f, const fnkey *k)
{
    return f->start_line == k->start_line && !strcmp(f->name, k->name) &&
           !strcmp(f->system_name, k->system_name) &&
           !strcmp(f->filename, k->filename);
}

static int fnmap_insert(fnmap *m, const cli_pprof *p, size_t idx)
{
    const cli_pprof_function *f = &p->functions[idx];
    size_t j = fn_hash(f->name, f->system_name, f->filename, f->start_line) &
               (m->nslots - 1);

    while (m->slot[j])
        j = (j + 1) & (m->nslots - 1);
    m->slot[j] = idx + 1;
    return 0;
}

/* Rebuilds the map for p->nfunctions + room entries. 0 or -ENOMEM. */
static int fnmap_reserve(fnmap *m, const cli_pprof *p, size_t room)
{
    size_t want = 64, i;
    size_t *slot;

    while (want < (p->nfunctions + room) * 2)
        want *= 2;
    if (want <= m->nslots)
        return 0;
    slot = calloc(want, sizeof *slot);
    if (!slot)
        return -ENOMEM;
    free(m->slot);
    m->slot = slot;
    m->nslots = want;
    for (i = 0; i < p->nfunctions; i++)
        fnmap_insert(m, p, i);
    return 0;
}

/* The id of the function k, added to p when new. 0 on -ENOMEM. */
static uint64_t function_id(cli_pprof *p, fnmap *m, size_t *cap,
                            uint64_t *next_id, const fnkey *k)
{
    size_t j;
    cli_pprof_function *f;

    if (fnmap_reserve(m, p, 1) != 0)
        return 0;
    j = fn_hash(k->name, k->system_name, k->filename, k->start_line) &
        (m->nslots - 1);
    while (m->slot[j]) {
        f = &p->functions[m->slot[j] - 1];
        if (fn_same(f, k))
            return f->id;
        j = (j + 1) & (m->nslots - 1);
    }
    if (p->nfunctions == *cap) {
        size_t ncap = *cap ? *cap * 2 : 256;
        cli_pprof_function *nf = realloc(p->functions, ncap * sizeof *nf);
        if (!nf)
            return 0;
        p->functions = nf;
        *cap = ncap;
    }
    f = &p->functions[p->nfunctions];
    f->id = (*next_id)++;
    f->name = k->name;
    f->system_name = k->system_name;
    f->filename = k->filename;
    f->start_line = k->start_line;
    m->slot[j] = ++p->nfunctions;
    return f->id;
}

int cli_pprof_symbolize(cli_pprof *p, cli_symbolize_fn sym, void *ctx)
{
    fnmap m = {NULL, 0};
    size_t fcap = p->nfunctions, lcap = p->nlines, i;
    uint64_t next_id = 1;
    int rc = 0;

    if (!p || !sym)
        return -EINVAL;
    for (i = 0; i < p->nfunctions; i++)
        if (p->functions[i].id >= next_id)
            next_id = p->functions[i].id + 1;
    if (fnmap_reserve(&m, p, 64) != 0)
        return -ENOMEM;
    for (i = 0; i < p->nlocations && !rc; i++) {
        cli_pprof_location *loc = &p->locations[i];
        const cli_pprof_mapping *mp;
        cli_frame fr[MAX_INLINE];
        int n, k;

        if (loc->nlines)
            continue;
        mp = cli_pprof_mapping_get(p, loc->mapping_id);
        if (!mp)
            continue;
        /* the address is already the call's (pprof producers store the
         * return address - 1), so it is not a return address here */
        memset(fr, 0, sizeof fr);
        n = sym(ctx, mp, loc->address, 0, fr, MAX_INLINE);
        if (n <= 0)
            continue;
        if (p->nlines + (size_t)n > lcap) {
            size_t ncap = lcap ? lcap * 2 : 1024;
            cli_pprof_line *nl;
            while (ncap < p->nlines + (size_t)n)
                ncap *= 2;
            nl = realloc(p->lines, ncap * sizeof *nl);
            if (!nl) {
                rc = -ENOMEM;
                break;
            }
            p->lines = nl;
            lcap = ncap;
        }
        loc->line0 = p->nlines;
        for (k = 0; k < n; k++) {
            fnkey key = {fr[k].function ? fr[k].function : "??",
                         fr[k].system_name ? fr[k].system_name : "",
                         fr[k].file ? fr[k].file : "", fr[k].start_line};
            uint64_t id = function_id(p, &m, &fcap, &next_id, &key);
            if (!id) {
                rc = -ENOMEM;
                break;
            }
            p->lines[p->nlines].function_id = id;
            p->lines[p->nlines].line = fr[k].line;
            p->nlines++;
        }
        loc->nlines = p->nlines - loc->line0;
    }
    free(m.slot);
    return rc;
}

/* ---- subtracting ---- */

/* The address of each location of sample s, hashed. */
static uint64_t stack_hash(const cli_pprof *p, const cli_pprof_sample *s)
{
    uint64_t h = 1469598103934665603ull;
    size_t i;

    for (i = 0; i < s->nlocs; i++) {
        const cli_pprof_location *l =
            cli_pprof_location_get(p, p->locids[s->loc0 + i]);
        h = (h ^ (l ? l->address : 0)) * 0x100000001b3ull;
        h ^= h >> 29;
    }
    return h;
}

static int stack_same(const cli_pprof *a, const cli_pprof_sample *sa,
                      const cli_pprof *b, const cli_pprof_sample *sb)
{
    size_t i;

    if (sa->nlocs != sb->nlocs)
        return 0;
    for (i = 0; i < sa->nlocs; i++) {
        const cli_pprof_location *la =
            cli_pprof_location_get(a, a->locids[sa->loc0 + i]);
        const cli_pprof_location *lb =
            cli_pprof_location_get(b, b->locids[sb->loc0 + i]);
        if ((la ? la->address : 0) != (lb ? lb->address : 0))
            return 0;
    }
    return 1;
}

int cli_pprof_subtract(cli_pprof *b, const cli_pprof *a)
{
    size_t nslots = 64, i, j, kept = 0;
    size_t *slot;
    int tmap[64];

    if (!b || !a)
        return -EINVAL;
    if (b->ntypes > 64)
        return -EINVAL;
    for (i = 0; i < b->ntypes; i++) {
        tmap[i] = -1;
        for (j = 0; j < a->ntypes; j++)
            if (!strcmp(b->types[i].type, a->types[j].type) &&
                !strcmp(b->types[i].unit, a->types[j].unit))
                tmap[i] = (int)j;
    }
    while (nslots < a->nsamples * 2)
        nslots *= 2;
    slot = calloc(nslots, sizeof *slot);
    if (!slot)
        return -ENOMEM;
    for (i = 0; i < a->nsamples; i++) {
        j = stack_hash(a, &a->samples[i]) & (nslots - 1);
        while (slot[j])
            j = (j + 1) & (nslots - 1);
        slot[j] = i + 1;
    }
    for (i = 0; i < b->nsamples; i++) {
        cli_pprof_sample *sb = &b->samples[i];
        int64_t *vb = &b->values[sb->val0];
        int nonzero = 0;
        size_t t;

        j = stack_hash(b, sb) & (nslots - 1);
        while (slot[j]) {
            const cli_pprof_sample *sa = &a->samples[slot[j] - 1];
            if (stack_same(a, sa, b, sb)) {
                for (t = 0; t < b->ntypes; t++)
                    if (tmap[t] >= 0)
                        vb[t] = cli_sat_sub64(vb[t],
                                              a->values[sa->val0 + tmap[t]]);
                break;
            }
            j = (j + 1) & (nslots - 1);
        }
        for (t = 0; t < b->ntypes; t++)
            nonzero |= vb[t] != 0;
        if (nonzero)
            b->samples[kept++] = *sb;
    }
    b->nsamples = kept;
    free(slot);
    if (a->time_nanos > 0 && b->time_nanos > a->time_nanos)
        b->duration_nanos = b->time_nanos - a->time_nanos;
    return 0;
}
