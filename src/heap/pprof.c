/* pprof.c — encodes heap samples as pprof's profile.proto.
 *
 * A hand-written protobuf writer (varints and length-delimited fields) so the
 * preload library needs no protobuf runtime. Field numbers follow
 * github.com/google/pprof/proto/profile.proto. Runs at snapshot time only, in
 * the snapshot thread (or the exiting thread) under the reentrancy guard, so
 * its malloc calls pass through to the real allocator unsampled (and unit
 * tests can run it without the preload).
 */
#include "heap.h"
#include "pb_varint.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

/* ---- buffer ---- */

void mv__heap_buf_release(mv_heap_buf *b)
{
    if (b->data)
        free(b->data);
    memset(b, 0, sizeof *b);
}

static void buf_put(mv_heap_buf *b, const void *d, size_t n)
{
    /* nothing to add: d may be NULL then (an empty sub-buffer), which
     * memcpy may not be given even for 0 bytes */
    if (b->oom || n == 0)
        return;
    if (b->len + n > b->cap) {
        size_t cap = b->cap ? b->cap : 4096;
        while (cap < b->len + n)
            cap *= 2;
        uint8_t *nd = realloc(b->data, cap);
        if (!nd) {
            b->oom = 1;
            return;
        }
        b->data = nd;
        b->cap = cap;
    }
    memcpy(b->data + b->len, d, n);
    b->len += n;
}

static void put_varint(mv_heap_buf *b, uint64_t v)
{
    uint8_t t[MV_PB_VARINT_MAX];
    buf_put(b, t, mv__pb_varint(t, v));
}

static void put_tag(mv_heap_buf *b, unsigned field, unsigned wire)
{
    put_varint(b, mv__pb_key(field, wire));
}

static void put_uint(mv_heap_buf *b, unsigned field, uint64_t v)
{
    if (!v)
        return; /* proto3 default: omitted */
    put_tag(b, field, 0);
    put_varint(b, v);
}

static void put_bytes(mv_heap_buf *b, unsigned field, const void *d, size_t n)
{
    put_tag(b, field, 2);
    put_varint(b, n);
    buf_put(b, d, n);
}

static void put_msg(mv_heap_buf *b, unsigned field, mv_heap_buf *sub)
{
    put_bytes(b, field, sub->data, sub->len);
    if (sub->oom)
        b->oom = 1;
    sub->len = 0;
}

/* ---- string table ---- */

typedef struct strtab {
    const char **s;
    size_t n, cap;
    int oom;
} strtab;

static uint64_t intern(strtab *t, const char *s)
{
    for (size_t i = 0; i < t->n; i++)
        if (strcmp(t->s[i], s) == 0)
            return i;
    if (t->n == t->cap) {
        size_t cap = t->cap ? t->cap * 2 : 64;
        const char **ns = realloc((void *)t->s, cap * sizeof *ns);
        if (!ns) {
            t->oom = 1;
            return 0;
        }
        t->s = ns;
        t->cap = cap;
    }
    t->s[t->n] = s;
    return t->n++;
}

static void put_value_type(mv_heap_buf *b, mv_heap_buf *sub, unsigned field, strtab *t,
                           const char *type, const char *unit)
{
    put_uint(sub, 1, intern(t, type));
    put_uint(sub, 2, intern(t, unit));
    put_msg(b, field, sub);
}

/* ---- locations: address -> id ---- */

typedef struct locmap {
    uintptr_t *addr; /* 0 = empty */
    uint64_t *id;
    size_t cap;
} locmap;

static uint64_t loc_find(locmap *m, uintptr_t a, int *fresh, uint64_t next_id)
{
    size_t i = (size_t)((a * 0x9E3779B97F4A7C15ull) >> 20) & (m->cap - 1);
    while (m->addr[i] && m->addr[i] != a)
        i = (i + 1) & (m->cap - 1);
    if (m->addr[i]) {
        *fresh = 0;
        return m->id[i];
    }
    m->addr[i] = a;
    m->id[i] = next_id;
    *fresh = 1;
    return next_id;
}

static uint64_t mapping_of(const mv_heap_profile *p, uintptr_t a)
{
    for (size_t i = 0; i < p->nmaps; i++)
        if (a >= p->maps[i].start && a < p->maps[i].limit)
            return i + 1;
    return 0;
}

int mv__heap_pprof_encode(const mv_heap_profile *p, mv_heap_buf *out)
{
    strtab t = {0};
    mv_heap_buf sub = {0}, sub2 = {0}, lmsg = {0};
    locmap lm = {0};
    int rc = 0;

    intern(&t, ""); /* string_table[0] must be "" */
    size_t total_frames = 0;
    for (size_t i = 0; i < p->nsamples; i++)
        total_frames += p->samples[i].depth;
    lm.cap = 64;
    while (lm.cap < total_frames * 2)
        lm.cap *= 2;
    lm.addr = calloc(lm.cap, sizeof *lm.addr);
    lm.id = calloc(lm.cap, sizeof *lm.id);
    if (!lm.addr || !lm.id) {
        rc = -ENOMEM;
        goto done;
    }

    static const char *const types[4][2] = {
        {"alloc_objects", "count"}, {"alloc_space", "bytes"},
        {"inuse_objects", "count"}, {"inuse_space", "bytes"}};
    for (int i = 0; i < 4; i++)
        put_value_type(out, &sub, 1, &t, types[i][0], types[i][1]);

    /* samples, and locations as first met */
    uint64_t next_loc = 1;
    mv_heap_buf locs = {0};
    for (size_t i = 0; i < p->nsamples; i++) {
        const mv_heap_psample *s = &p->samples[i];
        for (uint32_t d = 0; d < s->depth; d++) {
            uintptr_t a = s->frames[d] ? s->frames[d] - 1 : 0; /* the call, not the return */
            int fresh;
            uint64_t id = loc_find(&lm, a ? a : 1, &fresh, next_loc);
            if (fresh) {
                next_loc++;
                put_uint(&lmsg, 1, id);
                put_uint(&lmsg, 2, mapping_of(p, a));
                put_uint(&lmsg, 3, a);
                put_msg(&locs, 4, &lmsg);
            }
            put_varint(&sub2, id);
        }
        mv_heap_buf smsg = {0};
        put_msg(&smsg, 1, &sub2); /* packed location_id */
        for (int v = 0; v < 4; v++)
            put_varint(&sub2, (uint64_t)(s->values[v] < 0 ? 0 : s->values[v]));
        put_msg(&smsg, 2, &sub2); /* packed value */
        put_msg(out, 2, &smsg);
        mv__heap_buf_release(&smsg);
    }

    for (size_t i = 0; i < p->nmaps; i++) {
        const mv_heap_pmap *m = &p->maps[i];
        put_uint(&sub, 1, i + 1);
        put_uint(&sub, 2, m->start);
        put_uint(&sub, 3, m->limit);
        put_uint(&sub, 4, m->offset);
        put_uint(&sub, 5, intern(&t, m->file));
        put_uint(&sub, 6, intern(&t, m->build_id));
        put_msg(out, 3, &sub);
    }
    buf_put(out, locs.data, locs.len);
    if (locs.oom)
        out->oom = 1;
    mv__heap_buf_release(&locs);

    put_uint(out, 9, (uint64_t)p->time_nanos);
    put_uint(out, 10, (uint64_t)p->duration_nanos);
    put_value_type(out, &sub, 11, &t, "space", "bytes");
    put_uint(out, 12, (uint64_t)p->period);
    if (p->comment) {
        put_tag(out, 13, 0);
        put_varint(out, intern(&t, p->comment));
    }
    put_tag(out, 14, 0);
    put_varint(out, intern(&t, "inuse_space"));
    for (size_t i = 0; i < t.n; i++)
        put_bytes(out, 6, t.s[i], strlen(t.s[i]));
    if (out->oom || t.oom || sub.oom || sub2.oom || lmsg.oom)
        rc = -ENOMEM;
done:
    mv__heap_buf_release(&sub);
    mv__heap_buf_release(&sub2);
    mv__heap_buf_release(&lmsg);
    if (t.s)
        free((void *)t.s);
    if (lm.addr)
        free(lm.addr);
    if (lm.id)
        free(lm.id);
    return rc;
}
