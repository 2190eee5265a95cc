/*
 * pb_varint.h — the protobuf base-128 varint, the one encoding both pprof
 * writers need (the preload's snapshot writer, src/heap/pprof.c, and the
 * CLI's symbolized writer, src/cli/heap/pprof_write.c). Header-only so the
 * preload, which links nothing of libmemvigil, can use it too.
 *
 * Pure functions; any thread, async-signal-safe.
 */
#ifndef MV_PB_VARINT_H
#define MV_PB_VARINT_H

#include <stddef.h>
#include <stdint.h>

/* The longest varint: 64 bits in 7-bit groups. */
#define MV_PB_VARINT_MAX 10

/* Wire types of a field key (profile.proto uses these two). */
enum { MV_PB_WIRE_VARINT = 0, MV_PB_WIRE_LEN = 2 };

/* Writes v into out, least significant group first, the high bit set on
 * every byte but the last; returns the byte count (1..MV_PB_VARINT_MAX). */
static inline size_t mv__pb_varint(uint8_t out[MV_PB_VARINT_MAX], uint64_t v)
{
    size_t n = 0;
    do {
        out[n] = (uint8_t)(v & 0x7f);
        v >>= 7;
        if (v)
            out[n] |= 0x80;
        n++;
    } while (v);
    return n;
}

/* A field key: the field number and its wire type. */
static inline uint64_t mv__pb_key(unsigned field, unsigned wire)
{
    return ((uint64_t)field << 3) | wire;
}

#endif /* MV_PB_VARINT_H */
