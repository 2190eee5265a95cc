/*
 * pprof_text.c — a heap profile as the legacy text of Go's
 * /debug/pprof/heap?debug=1 (see pprof.h), for people who read it in a
 * browser or with curl:
 *
 *   heap profile: 12: 786432 [40: 2621440] @ heap/1048576
 *   6: 393216 [20: 1310720] @ 0x5612a4c8d1b9 0x5612a4c8d27e
 *   #	0x5612a4c8d1b9	leak_grow	/src/leak.c:14
 *   #	0x5612a4c8d27e	main	/src/leak.c:31
 *
 * The header is in-use objects: bytes [allocated objects: bytes] over the
 * whole profile and "@ heap/" twice the sampling period (Go writes
 * 2*MemProfileRate there, and pprof's legacy parser halves it); then one
 * record per stack, largest in-use bytes first, its addresses as return
 * addresses (one past the call, as Go prints them, so pprof's parser, which
 * steps back one byte, lands on the call), and one "#" line per frame,
 * inlined frames included, innermost first. Go prints function+offset; the
 * offset is not known here, so the frame is the name alone.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "pprof.h"
#include "util.h"

typedef struct rec {
    const cli_pprof_sample *s;
    int64_t v[4];          /* inuse_objects, inuse_space, alloc_objects,
                            * alloc_space (0 when the type is absent) */
} rec;

static int by_inuse_desc(const void *x, const void *y)
{
    const rec *a = x, *b = y;

    if (a->v[1] != b->v[1])
        return a->v[1] > b->v[1] ? -1 : 1;
    return a->v[3] > b->v[3] ? -1 : a->v[3] < b->v[3];
}

static int type_index(const cli_pprof *p, const char *name)
{
    size_t i;

    for (i = 0; i < p->ntypes; i++)
        if (!strcmp(p->types[i].type, name))
            return (int)i;
    return -1;
}

static int put_frames(mv_buf *b, const cli_pprof *p,
                      const cli_pprof_location *l)
{
    size_t k;
    int rc = 0;

    if (!l->nlines)
        return mv__buf_printf(b, "#\t0x%" PRIx64 "\n", l->address + 1);
    for (k = 0; k < l->nlines && !rc; k++) {
        const cli_pprof_line *ln = &p->lines[l->line0 + k];
        const cli_pprof_function *f = cli_pprof_function_get(p, ln->function_id);
        const char *name = f && f->name[0] ? f->name : "??";
        const char *file = f && f->filename[0] ? f->filename : "??";
        rc = mv__buf_printf(b, "#\t0x%" PRIx64 "\t%s\t%s:%" PRId64 "\n",
                            l->address + 1, name, file, ln->line);
    }
    return rc;
}

int cli_pprof_text(const cli_pprof *p, mv_buf *out)
{
    static const char *const names[4] = {"inuse_objects", "inuse_space",
                                         "alloc_objects", "alloc_space"};
    int idx[4], t, rc = 0;
    int64_t total[4] = {0, 0, 0, 0};
    rec *r;
    size_t i, k;

    for (t = 0; t < 4; t++)
        idx[t] = type_index(p, names[t]);
    r = calloc(p->nsamples ? p->nsamples : 1, sizeof *r);
    if (!r)
        return -ENOMEM;
    for (i = 0; i < p->nsamples; i++) {
        r[i].s = &p->samples[i];
        for (t = 0; t < 4; t++) {
            r[i].v[t] = idx[t] >= 0 ? p->values[r[i].s->val0 + idx[t]] : 0;
            total[t] = cli_sat_add64(total[t], r[i].v[t]);
        }
    }
    qsort(r, p->nsamples, sizeof *r, by_inuse_desc);
    rc = mv__buf_printf(out, "heap profile: %" PRId64 ": %" PRId64 " [%" PRId64
                        ": %" PRId64 "] @ heap/%" PRId64 "\n",
                        total[0], total[1], total[2], total[3],
                        p->period > 0 && p->period < INT64_MAX / 2
                            ? 2 * p->period : 0);
    for (i = 0; i < p->nsamples && !rc; i++) {
        const cli_pprof_sample *s = r[i].s;
        rc = mv__buf_printf(out, "%" PRId64 ": %" PRId64 " [%" PRId64
                            ": %" PRId64 "] @",
                            r[i].v[0], r[i].v[1], r[i].v[2], r[i].v[3]);
        for (k = 0; k < s->nlocs && !rc; k++) {
            const cli_pprof_location *l =
                cli_pprof_location_get(p, p->locids[s->loc0 + k]);
            rc = mv__buf_printf(out, " 0x%" PRIx64, l ? l->address + 1 : 0);
        }
        if (!rc)
            rc = mv__buf_puts(out, "\n");
        for (k = 0; k < s->nlocs && !rc; k++) {
            const cli_pprof_location *l =
                cli_pprof_location_get(p, p->locids[s->loc0 + k]);
            if (l)
                rc = put_frames(out, p, l);
        }
        if (!rc)
            rc = mv__buf_puts(out, "\n");
    }
    if (!rc)
        rc = mv__buf_printf(out, "# memvigil heap profile: %zu stacks, "
                            "sampling period %" PRId64 " bytes, time_nanos %"
                            PRId64 "\n", p->nsamples, p->period,
                            p->time_nanos);
    free(r);
    return rc ? -ENOMEM : 0;
}
