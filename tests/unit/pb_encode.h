/*
 * pb_encode.h — a minimal protobuf encoder for the tests that build pprof
 * profiles by hand (test_cli_pprof.c, test_cli_heapdir.c): varints, fields,
 * length-delimited sub-messages, packed repeated varints. Test code only;
 * each message is a fixed 64 KiB buffer, enough for any hand-made profile.
 */
#ifndef MV_TEST_PB_ENCODE_H
#define MV_TEST_PB_ENCODE_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

typedef struct enc {
    uint8_t b[65536];
    size_t n;
} enc;

static inline void put_varint(enc *e, uint64_t v)
{
    do {
        uint8_t c = v & 0x7f;
        v >>= 7;
        e->b[e->n++] = c | (v ? 0x80 : 0);
    } while (v);
}

/* field: varint (wire type 0) */
static inline void put_int(enc *e, unsigned field, uint64_t v)
{
    put_varint(e, (uint64_t)field << 3 | 0);
    put_varint(e, v);
}

/* field: bytes (wire type 2) */
static inline void put_bytes(enc *e, unsigned field, const void *p, size_t n)
{
    put_varint(e, (uint64_t)field << 3 | 2);
    put_varint(e, n);
    memcpy(e->b + e->n, p, n);
    e->n += n;
}

static inline void put_msg(enc *e, unsigned field, const enc *m)
{
    put_bytes(e, field, m->b, m->n);
}

static inline void put_packed(enc *e, unsigned field, const uint64_t *v, size_t n)
{
    enc p = {.n = 0};
    for (size_t i = 0; i < n; i++)
        put_varint(&p, v[i]);
    put_msg(e, field, &p);
}

/* One entry of a pprof Profile's string_table (field 6). */
static inline void put_str(enc *e, const char *s)
{
    put_bytes(e, 6, s, strlen(s));
}

#endif /* MV_TEST_PB_ENCODE_H */
