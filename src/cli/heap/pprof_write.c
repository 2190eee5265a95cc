/*
 * pprof_write.c — encoding a cli_pprof back into profile.proto, raw or
 * gzip'd (see pprof.h): what `memvigil heap symbolize` writes and what the
 * agent serves at /debug/pprof/heap once the profile carries its Function
 * records.
 *
 * Design:
 *  - A hand-written protobuf writer (varints and length-delimited fields),
 *    the mirror of pprof.c's reader. Field numbers are profile.proto's
 *    (github.com/google/pprof/proto/profile.proto): Profile 1 sample_type,
 *    2 sample, 3 mapping, 4 location, 5 function, 6 string_table,
 *    9 time_nanos, 10 duration_nanos, 11 period_type, 12 period,
 *    14 default_sample_type; Sample 1 location_id, 2 value (both packed);
 *    Mapping 1 id .. 6 build_id, 7-10 has_functions, has_filenames,
 *    has_line_numbers, has_inline_frames; Location 1 id, 2 mapping_id,
 *    3 address, 4 line; Line 1 function_id, 2 line; Function 1 id, 2 name,
 *    3 system_name, 4 filename, 5 start_line; ValueType 1 type, 2 unit.
 *  - Strings are interned into a new table through an open-addressing hash
 *    (string 0 is ""), since a symbolized profile's strings come from both
 *    the decoded file and the symbolizer.
 *  - A sub-message is built in a scratch buffer, then appended with its
 *    length; nesting is at most two deep (Location > Line).
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#include "pb_varint.h"
#include "pprof.h"
#include "util.h"

/* ---- protobuf writer over mv_buf ---- */

typedef struct pw {
    mv_buf *b;
    int err;            /* first error (-ENOMEM); later writes are no-ops */
} pw;

static void put(pw *w, const void *d, size_t n)
{
    if (!w->err && n && mv__buf_append(w->b, d, n) != 0)
        w->err = -ENOMEM;
}

static void put_varint(pw *w, uint64_t v)
{
    uint8_t t[MV_PB_VARINT_MAX];
    put(w, t, mv__pb_varint(t, v));
}

static void put_key(pw *w, unsigned field, unsigned wt)
{
    put_varint(w, mv__pb_key(field, wt));
}

/* A varint field; 0 is proto3's default and is left out. */
static void put_uint(pw *w, unsigned field, uint64_t v)
{
    if (!v)
        return;
    put_key(w, field, 0);
    put_varint(w, v);
}

static void put_len(pw *w, unsigned field, const void *d, size_t n)
{
    put_key(w, field, 2);
    put_varint(w, n);
    put(w, d, n);
}

/* Appends sub (a finished sub-message) as field, then empties sub. */
static void put_msg(pw *w, unsigned field, pw *sub)
{
    if (sub->err && !w->err)
        w->err = sub->err;
    put_len(w, field, sub->b->data ? sub->b->data : "", sub->b->len);
    mv__buf_reset(sub->b);
}

/* ---- string table ---- */

typedef struct strtab {
    const char **s;       /* index -> string (borrowed) */
    size_t n, cap;
    uint32_t *slot;       /* hash slots: index + 1, 0 = empty */
    size_t nslots;        /* power of two, > 2 n */
    int err;
} strtab;

static uint64_t hash_str(const char *s)
{
    uint64_t h = 1469598103934665603ull;
    for (; *s; s++)
        h = (h ^ (unsigned char)*s) * 1099511628211ull;
    return h;
}

static int strtab_grow(strtab *t)
{
    size_t ns = t->nslots ? t->nslots * 2 : 1024, i;
    uint32_t *slot = calloc(ns, sizeof *slot);

    if (!slot)
        return -ENOMEM;
    for (i = 0; i < t->n; i++) {
        size_t j = hash_str(t->s[i]) & (ns - 1);
        while (slot[j])
            j = (j + 1) & (ns - 1);
        slot[j] = (uint32_t)(i + 1);
    }
    free(t->slot);
    t->slot = slot;
    t->nslots = ns;
    return 0;
}

/* Index of s in the table, added when new; 0 ("") on error (t->err set). */
static uint64_t intern(strtab *t, const char *s)
{
    size_t j;

    if (!s)
        s = "";
    if (t->err)
        return 0;
    if ((t->n + 1) * 2 >= t->nslots && strtab_grow(t) != 0) {
        t->err = -ENOMEM;
        return 0;
    }
    j = hash_str(s) & (t->nslots - 1);
    while (t->slot[j]) {
        if (strcmp(t->s[t->slot[j] - 1], s) == 0)
            return t->slot[j] - 1;
        j = (j + 1) & (t->nslots - 1);
    }
    if (t->n == t->cap) {
        size_t cap = t->cap ? t->cap * 2 : 256;
        const char **ns = t->n < UINT32_MAX / 4
            ? realloc((void *)t->s, cap * sizeof *ns) : NULL;
        if (!ns) {
            t->err = -ENOMEM;
            return 0;
        }
        t->s = ns;
        t->cap = cap;
    }
    t->s[t->n] = s;
    t->slot[j] = (uint32_t)(t->n + 1);
    return t->n++;
}

static void strtab_release(strtab *t)
{
    free((void *)t->s);
    free(t->slot);
}

/* ---- messages ---- */

static void put_value_type(pw *w, pw *sub, unsigned field, strtab *t,
                           const cli_pprof_value_type *vt)
{
    put_uint(sub, 1, intern(t, vt->type));
    put_uint(sub, 2, intern(t, vt->unit));
    put_msg(w, field, sub);
}

static void put_sample(pw *w, pw *sub, pw *packed, const cli_pprof *p,
                       const cli_pprof_sample *s)
{
    size_t i;

    for (i = 0; i < s->nlocs; i++)
        put_varint(packed, p->locids[s->loc0 + i]);
    put_msg(sub, 1, packed);
    for (i = 0; i < p->ntypes; i++)
        put_varint(packed, (uint64_t)p->values[s->val0 + i]);
    put_msg(sub, 2, packed);
    put_msg(w, 2, sub);
}

/* Does any location of mapping id carry lines? (has_functions & co.) */
static int mapping_symbolized(const cli_pprof *p, uint64_t id)
{
    size_t i;

    for (i = 0; i < p->nlocations; i++)
        if (p->locations[i].mapping_id == id && p->locations[i].nlines)
            return 1;
    return 0;
}

static void put_mapping(pw *w, pw *sub, strtab *t, const cli_pprof *p,
                        const cli_pprof_mapping *m)
{
    int sym = mapping_symbolized(p, m->id);

    put_uint(sub, 1, m->id);
    put_uint(sub, 2, m->start);
    put_uint(sub, 3, m->limit);
    put_uint(sub, 4, m->offset);
    put_uint(sub, 5, intern(t, m->filename));
    put_uint(sub, 6, intern(t, m->build_id));
    put_uint(sub, 7, (uint64_t)sym);
    put_uint(sub, 8, (uint64_t)sym);
    put_uint(sub, 9, (uint64_t)sym);
    put_uint(sub, 10, (uint64_t)sym);
    put_msg(w, 3, sub);
}

static void put_location(pw *w, pw *sub, pw *line, const cli_pprof *p,
                         const cli_pprof_location *l)
{
    size_t k;

    put_uint(sub, 1, l->id);
    put_uint(sub, 2, l->mapping_id);
    put_uint(sub, 3, l->address);
    for (k = 0; k < l->nlines; k++) {
        const cli_pprof_line *ln = &p->lines[l->line0 + k];
        put_uint(line, 1, ln->function_id);
        put_uint(line, 2, (uint64_t)ln->line);
        put_msg(sub, 4, line);
    }
    put_msg(w, 4, sub);
}

static void put_function(pw *w, pw *sub, strtab *t,
                         const cli_pprof_function *f)
{
    put_uint(sub, 1, f->id);
    put_uint(sub, 2, intern(t, f->name));
    put_uint(sub, 3, intern(t, f->system_name));
    put_uint(sub, 4, intern(t, f->filename));
    put_uint(sub, 5, (uint64_t)f->start_line);
    put_msg(w, 5, sub);
}

int cli_pprof_encode(const cli_pprof *p, mv_buf *out)
{
    mv_buf sb, lb, pb;
    pw w = {out, 0}, sub = {&sb, 0}, line = {&lb, 0}, packed = {&pb, 0};
    strtab t;
    size_t i;

    if (!p || !out)
        return -EINVAL;
    memset(&t, 0, sizeof t);
    mv_buf_init(&sb);
    mv_buf_init(&lb);
    mv_buf_init(&pb);
    intern(&t, "");
    for (i = 0; i < p->ntypes; i++)
        put_value_type(&w, &sub, 1, &t, &p->types[i]);
    for (i = 0; i < p->nsamples; i++)
        put_sample(&w, &sub, &packed, p, &p->samples[i]);
    for (i = 0; i < p->nmappings; i++)
        put_mapping(&w, &sub, &t, p, &p->mappings[i]);
    for (i = 0; i < p->nlocations; i++)
        put_location(&w, &sub, &line, p, &p->locations[i]);
    for (i = 0; i < p->nfunctions; i++)
        put_function(&w, &sub, &t, &p->functions[i]);
    put_uint(&w, 9, (uint64_t)p->time_nanos);
    put_uint(&w, 10, (uint64_t)p->duration_nanos);
    if (p->period_type.type && p->period_type.type[0])
        put_value_type(&w, &sub, 11, &t, &p->period_type);
    put_uint(&w, 12, (uint64_t)p->period);
    if (p->default_type && p->default_type[0])
        put_uint(&w, 14, intern(&t, p->default_type));
    /* the table last: every string above is interned by now */
    for (i = 0; i < t.n && !t.err; i++)
        put_len(&w, 6, t.s[i], strlen(t.s[i]));
    mv_buf_release(&sb);
    mv_buf_release(&lb);
    mv_buf_release(&pb);
    strtab_release(&t);
    if (t.err)
        return t.err;
    return w.err ? w.err : sub.err ? sub.err : line.err ? line.err : packed.err;
}

int cli_pprof_gzip(const void *in, size_t n, mv_buf *out)
{
    z_stream z;
    uint8_t chunk[16384];
    int zr, rc = 0;

    memset(&z, 0, sizeof z);
    if (deflateInit2(&z, Z_DEFAULT_COMPRESSION, Z_DEFLATED, 16 + MAX_WBITS, 8,
                     Z_DEFAULT_STRATEGY) != Z_OK)
        return -ENOMEM;
    z.next_in = (Bytef *)(uintptr_t)in;
    z.avail_in = (uInt)n;
    if ((size_t)z.avail_in != n) {
        deflateEnd(&z);
        return -EFBIG;
    }
    do {
        z.next_out = chunk;
        z.avail_out = sizeof chunk;
        zr = deflate(&z, Z_FINISH);
        if (zr == Z_STREAM_ERROR) {
            rc = -ENOMEM;
            break;
        }
        if (mv__buf_append(out, (const char *)chunk,
                           sizeof chunk - z.avail_out) != 0) {
            rc = -ENOMEM;
            break;
        }
    } while (zr != Z_STREAM_END);
    deflateEnd(&z);
    return rc;
}
