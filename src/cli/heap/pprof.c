/*
 * pprof.c — decoding pprof profile.proto files (gzip'd or raw) into flat
 * arrays (see pprof.h).
 *
 * Design:
 *  - A hand-written protobuf reader: profile.proto uses only varints,
 *    length-delimited fields and (never in practice) fixed32/64, so a
 *    cursor with bounds checks is all it takes, and a malformed file fails
 *    with -EBADMSG at the first byte that does not fit.
 *  - Two passes over the top-level message: the first counts each repeated
 *    field so every array is allocated once at its exact size; the second
 *    fills them. Repeated scalars (location_id, value) are accepted packed
 *    and unpacked, as the protobuf spec requires of readers.
 *  - Strings are copied into one arena and referenced by pointer; indices
 *    are kept until the end because string_table may follow its users.
 *  - Mappings, locations and functions are sorted by id for bsearch.
 *  - The input is untrusted (a snapshot directory is writable by every
 *    process of the user): a file is opened only once stat() says it is
 *    regular (cli_open_regular, also the symbolizer's), non-blocking, and
 *    each stage has a size cap (pprof.h) checked before it
 *    allocates, so no file can hang the reader or make it allocate more
 *    than about 1.5 GiB.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

#include "pprof.h"

/* ---- protobuf cursor ---- */

typedef struct cur {
    const uint8_t *p, *end;
} cur;

enum { WT_VARINT = 0, WT_I64 = 1, WT_LEN = 2, WT_I32 = 5 };

static int get_varint(cur *c, uint64_t *v)
{
    uint64_t r = 0;
    int shift = 0;

    while (c->p < c->end && shift < 64) {
        uint8_t b = *c->p++;
        r |= (uint64_t)(b & 0x7f) << shift;
        if (!(b & 0x80)) {
            *v = r;
            return 0;
        }
        shift += 7;
    }
    return -EBADMSG;
}

/* Reads a field key and, for LEN fields, the sub-cursor. */
static int get_field(cur *c, uint32_t *field, int *wt, uint64_t *v, cur *sub)
{
    uint64_t key;

    if (get_varint(c, &key) != 0)
        return -EBADMSG;
    *field = (uint32_t)(key >> 3);
    *wt = (int)(key & 7);
    if (*field == 0)
        return -EBADMSG;
    switch (*wt) {
    case WT_VARINT:
        return get_varint(c, v);
    case WT_I64:
        if (c->end - c->p < 8)
            return -EBADMSG;
        memcpy(v, c->p, 8);
        c->p += 8;
        return 0;
    case WT_I32: {
        uint32_t x;
        if (c->end - c->p < 4)
            return -EBADMSG;
        memcpy(&x, c->p, 4);
        c->p += 4;
        *v = x;
        return 0;
    }
    case WT_LEN:
        if (get_varint(c, v) != 0 || *v > (uint64_t)(c->end - c->p))
            return -EBADMSG;
        sub->p = c->p;
        sub->end = c->p + *v;
        c->p += *v;
        return 0;
    default:
        return -EBADMSG; /* groups (3, 4) are not used by profile.proto */
    }
}

/* Counts the scalars of a repeated field (packed or one). */
static int count_scalars(int wt, const cur *sub, size_t *n)
{
    cur c;
    uint64_t v;

    if (wt == WT_VARINT) {
        (*n)++;
        return 0;
    }
    if (wt != WT_LEN)
        return -EBADMSG;
    c = *sub;
    while (c.p < c.end) {
        if (get_varint(&c, &v) != 0)
            return -EBADMSG;
        (*n)++;
    }
    return 0;
}

/* Appends the scalars of a repeated field to dst[*n..]. */
static int read_scalars(int wt, uint64_t v, const cur *sub, uint64_t *dst,
                        size_t *n, size_t cap)
{
    cur c;

    if (wt == WT_VARINT) {
        if (*n >= cap)
            return -EBADMSG;
        dst[(*n)++] = v;
        return 0;
    }
    c = *sub;
    while (c.p < c.end) {
        if (*n >= cap || get_varint(&c, &v) != 0)
            return -EBADMSG;
        dst[(*n)++] = v;
    }
    return 0;
}

/* ---- decoding ---- */

/* String indices kept until the string table is known. */
typedef struct pending {
    uint64_t *idx;    /* indices, in the order of ptrs */
    const char ***ptr;
    size_t n, cap;
} pending;

static int pend(pending *pd, uint64_t idx, const char **where)
{
    if (pd->n == pd->cap) {
        size_t cap = pd->cap ? pd->cap * 2 : 256;
        uint64_t *i = realloc(pd->idx, cap * sizeof *i);
        if (!i)
            return -ENOMEM;
        pd->idx = i;
        const char ***p = realloc(pd->ptr, cap * sizeof *p);
        if (!p)
            return -ENOMEM;
        pd->ptr = p;
        pd->cap = cap;
    }
    pd->idx[pd->n] = idx;
    pd->ptr[pd->n] = where;
    pd->n++;
    return 0;
}

/* The pointers in pending refer into arrays that are not reallocated after
 * the counting pass, so they stay valid. */

static int decode_value_type(cur c, cli_pprof_value_type *vt, pending *pd)
{
    uint32_t f;
    int wt, rc;
    uint64_t v;
    cur sub;

    vt->type = vt->unit = "";
    while (c.p < c.end) {
        if ((rc = get_field(&c, &f, &wt, &v, &sub)) != 0)
            return rc;
        if (f == 1 && wt == WT_VARINT && (rc = pend(pd, v, &vt->type)) != 0)
            return rc;
        if (f == 2 && wt == WT_VARINT && (rc = pend(pd, v, &vt->unit)) != 0)
            return rc;
    }
    return 0;
}

static int decode_mapping(cur c, cli_pprof_mapping *m, pending *pd)
{
    uint32_t f;
    int wt, rc;
    uint64_t v;
    cur sub;

    memset(m, 0, sizeof *m);
    m->filename = m->build_id = "";
    while (c.p < c.end) {
        if ((rc = get_field(&c, &f, &wt, &v, &sub)) != 0)
            return rc;
        if (wt != WT_VARINT)
            continue;
        switch (f) {
        case 1: m->id = v; break;
        case 2: m->start = v; break;
        case 3: m->limit = v; break;
        case 4: m->offset = v; break;
        case 5: if ((rc = pend(pd, v, &m->filename)) != 0) return rc; break;
        case 6: if ((rc = pend(pd, v, &m->build_id)) != 0) return rc; break;
        default: break;
        }
    }
    return 0;
}

static int decode_function(cur c, cli_pprof_function *fn, pending *pd)
{
    uint32_t f;
    int wt, rc;
    uint64_t v;
    cur sub;

    memset(fn, 0, sizeof *fn);
    fn->name = fn->system_name = fn->filename = "";
    while (c.p < c.end) {
        if ((rc = get_field(&c, &f, &wt, &v, &sub)) != 0)
            return rc;
        if (wt != WT_VARINT)
            continue;
        switch (f) {
        case 1: fn->id = v; break;
        case 2: if ((rc = pend(pd, v, &fn->name)) != 0) return rc; break;
        case 3: if ((rc = pend(pd, v, &fn->system_name)) != 0) return rc; break;
        case 4: if ((rc = pend(pd, v, &fn->filename)) != 0) return rc; break;
        case 5: fn->start_line = (int64_t)v; break;
        default: break;
        }
    }
    return 0;
}

static int count_lines(cur c, size_t *n)
{
    uint32_t f;
    int wt, rc;
    uint64_t v;
    cur sub;

    while (c.p < c.end) {
        if ((rc = get_field(&c, &f, &wt, &v, &sub)) != 0)
            return rc;
        if (f == 4 && wt == WT_LEN)
            (*n)++;
    }
    return 0;
}

static int decode_location(cur c, cli_pprof *p, cli_pprof_location *loc,
                           size_t cap_lines)
{
    uint32_t f, lf;
    int wt, lwt, rc;
    uint64_t v, lv;
    cur sub, lsub;

    memset(loc, 0, sizeof *loc);
    loc->line0 = p->nlines;
    while (c.p < c.end) {
        if ((rc = get_field(&c, &f, &wt, &v, &sub)) != 0)
            return rc;
        if (f == 4 && wt == WT_LEN) {
            cli_pprof_line *ln;
            if (p->nlines >= cap_lines)
                return -EBADMSG;
            ln = &p->lines[p->nlines++];
            memset(ln, 0, sizeof *ln);
            while (sub.p < sub.end) {
                if ((rc = get_field(&sub, &lf, &lwt, &lv, &lsub)) != 0)
                    return rc;
                if (lf == 1 && lwt == WT_VARINT)
                    ln->function_id = lv;
                else if (lf == 2 && lwt == WT_VARINT)
                    ln->line = (int64_t)lv;
            }
            loc->nlines++;
            continue;
        }
        if (wt != WT_VARINT)
            continue;
        if (f == 1)
            loc->id = v;
        else if (f == 2)
            loc->mapping_id = v;
        else if (f == 3)
            loc->address = v;
    }
    return 0;
}

/* Counts a sample's location ids and values. */
static int count_sample(cur c, size_t *nloc, size_t *nval)
{
    uint32_t f;
    int wt, rc;
    uint64_t v;
    cur sub;

    while (c.p < c.end) {
        if ((rc = get_field(&c, &f, &wt, &v, &sub)) != 0)
            return rc;
        if (f == 1 && (rc = count_scalars(wt, &sub, nloc)) != 0)
            return rc;
        if (f == 2 && (rc = count_scalars(wt, &sub, nval)) != 0)
            return rc;
    }
    return 0;
}

static int decode_sample(cur c, cli_pprof *p, cli_pprof_sample *s,
                         size_t cap_loc, size_t cap_val)
{
    uint32_t f;
    int wt, rc;
    uint64_t v;
    cur sub;
    size_t nv0 = p->nvalues;

    s->loc0 = p->nlocids;
    s->val0 = p->nvalues;
    while (c.p < c.end) {
        if ((rc = get_field(&c, &f, &wt, &v, &sub)) != 0)
            return rc;
        if (f == 1 && (rc = read_scalars(wt, v, &sub, p->locids, &p->nlocids,
                                         cap_loc)) != 0)
            return rc;
        if (f == 2 && (rc = read_scalars(wt, v, &sub, (uint64_t *)p->values,
                                         &p->nvalues, cap_val)) != 0)
            return rc;
    }
    s->nlocs = p->nlocids - s->loc0;
    if (p->nvalues - nv0 != p->ntypes)
        return -EBADMSG;
    return 0;
}

static int cmp_mapping(const void *a, const void *b)
{
    uint64_t x = ((const cli_pprof_mapping *)a)->id;
    uint64_t y = ((const cli_pprof_mapping *)b)->id;
    return x < y ? -1 : x > y;
}

static int cmp_location(const void *a, const void *b)
{
    uint64_t x = ((const cli_pprof_location *)a)->id;
    uint64_t y = ((const cli_pprof_location *)b)->id;
    return x < y ? -1 : x > y;
}

static int cmp_function(const void *a, const void *b)
{
    uint64_t x = ((const cli_pprof_function *)a)->id;
    uint64_t y = ((const cli_pprof_function *)b)->id;
    return x < y ? -1 : x > y;
}

/* Counts of the top-level repeated fields (first pass). */
typedef struct counts {
    size_t types, samples, locids, values, mappings, locations, lines,
        functions, strings, string_bytes;
} counts;

static int count_top(cur c, counts *k)
{
    uint32_t f;
    int wt, rc;
    uint64_t v;
    cur sub;

    memset(k, 0, sizeof *k);
    while (c.p < c.end) {
        if ((rc = get_field(&c, &f, &wt, &v, &sub)) != 0)
            return rc;
        if (f <= 6 && wt != WT_LEN)
            return -EBADMSG;
        switch (f) {
        case 1: k->types++; break;
        case 2:
            k->samples++;
            if ((rc = count_sample(sub, &k->locids, &k->values)) != 0)
                return rc;
            break;
        case 3: k->mappings++; break;
        case 4:
            k->locations++;
            if ((rc = count_lines(sub, &k->lines)) != 0)
                return rc;
            break;
        case 5: k->functions++; break;
        case 6:
            k->strings++;
            k->string_bytes += (size_t)(sub.end - sub.p) + 1;
            break;
        default: break;
        }
    }
    return 0;
}

static void *calloc_n(size_t n, size_t size)
{
    return calloc(n ? n : 1, size);
}

/* Adds n elements of size bytes to *total; -1 on size_t overflow. */
static int add_bytes(size_t *total, size_t n, size_t size)
{
    size_t b;

    if (__builtin_mul_overflow(n, size, &b) ||
        __builtin_add_overflow(*total, b, total))
        return -1;
    return 0;
}

/* Would the arrays for counts k (pending string references included: at
 * most one per 2 bytes of input) stay within CLI_PPROF_MAX_DECODED_BYTES? */
static int decoded_size_ok(const counts *k, size_t input_n)
{
    size_t t = 0;

    if (add_bytes(&t, k->types, sizeof(cli_pprof_value_type)) ||
        add_bytes(&t, k->samples, sizeof(cli_pprof_sample)) ||
        add_bytes(&t, k->locids, sizeof(uint64_t)) ||
        add_bytes(&t, k->values, sizeof(int64_t)) ||
        add_bytes(&t, k->mappings, sizeof(cli_pprof_mapping)) ||
        add_bytes(&t, k->locations, sizeof(cli_pprof_location)) ||
        add_bytes(&t, k->lines, sizeof(cli_pprof_line)) ||
        add_bytes(&t, k->functions, sizeof(cli_pprof_function)) ||
        add_bytes(&t, k->strings, sizeof(char *)) ||
        add_bytes(&t, k->string_bytes, 1) ||
        add_bytes(&t, input_n / 2, sizeof(uint64_t) + sizeof(char **)))
        return 0;
    return t <= CLI_PPROF_MAX_DECODED_BYTES;
}

int cli_pprof_decode(const uint8_t *data, size_t n, cli_pprof *out)
{
    cli_pprof p;
    counts k;
    pending pd = {0};
    static const uint8_t empty[1];
    cur c, sub;
    uint32_t f;
    int wt, rc;
    uint64_t v;
    size_t arena_used = 0, i, nt = 0, ns = 0, nm = 0, nl = 0, nf = 0;
    uint64_t default_idx = 0;
    int have_default = 0;

    memset(&p, 0, sizeof p);
    if (!data && n)
        return -EINVAL;
    if (!data)
        data = empty; /* NULL + 0 is undefined */
    c.p = data;
    c.end = data + n;
    if ((rc = count_top(c, &k)) != 0)
        return rc;
    if (!decoded_size_ok(&k, n))
        return -EFBIG;
    p.types = calloc_n(k.types, sizeof *p.types);
    p.samples = calloc_n(k.samples, sizeof *p.samples);
    p.locids = calloc_n(k.locids, sizeof *p.locids);
    p.values = calloc_n(k.values, sizeof *p.values);
    p.mappings = calloc_n(k.mappings, sizeof *p.mappings);
    p.locations = calloc_n(k.locations, sizeof *p.locations);
    p.lines = calloc_n(k.lines, sizeof *p.lines);
    p.functions = calloc_n(k.functions, sizeof *p.functions);
    p.strings = calloc_n(k.strings, sizeof *p.strings);
    p.arena = malloc(k.string_bytes ? k.string_bytes : 1);
    if (!p.types || !p.samples || !p.locids || !p.values || !p.mappings ||
        !p.locations || !p.lines || !p.functions || !p.strings || !p.arena) {
        rc = -ENOMEM;
        goto fail;
    }
    p.period_type.type = p.period_type.unit = "";
    p.default_type = "";
    p.ntypes = k.types; /* decode_sample checks value counts against it */

    /* second pass: everything but samples (they need ntypes, known now) */
    while (c.p < c.end) {
        if ((rc = get_field(&c, &f, &wt, &v, &sub)) != 0)
            goto fail;
        switch (f) {
        case 1: rc = decode_value_type(sub, &p.types[nt++], &pd); break;
        case 2:
            rc = decode_sample(sub, &p, &p.samples[ns++], k.locids, k.values);
            break;
        case 3: rc = decode_mapping(sub, &p.mappings[nm++], &pd); break;
        case 4:
            rc = decode_location(sub, &p, &p.locations[nl++], k.lines);
            break;
        case 5: rc = decode_function(sub, &p.functions[nf++], &pd); break;
        case 6: {
            size_t len = (size_t)(sub.end - sub.p);
            memcpy(p.arena + arena_used, sub.p, len);
            p.arena[arena_used + len] = '\0';
            p.strings[p.nstrings++] = p.arena + arena_used;
            arena_used += len + 1;
            break;
        }
        case 9: if (wt == WT_VARINT) p.time_nanos = (int64_t)v; break;
        case 10: if (wt == WT_VARINT) p.duration_nanos = (int64_t)v; break;
        case 11:
            if (wt == WT_LEN)
                rc = decode_value_type(sub, &p.period_type, &pd);
            break;
        case 12: if (wt == WT_VARINT) p.period = (int64_t)v; break;
        case 14:
            if (wt == WT_VARINT) {
                default_idx = v;
                have_default = 1;
            }
            break;
        default: break;
        }
        if (rc)
            goto fail;
    }
    p.nsamples = ns;
    p.nmappings = nm;
    p.nlocations = nl;
    p.nfunctions = nf;
    if (p.nstrings == 0 || p.strings[0][0] != '\0') {
        /* string_table[0] must be "" */
        if (p.nstrings != 0 || pd.n != 0) {
            rc = -EBADMSG;
            goto fail;
        }
    }
    for (i = 0; i < pd.n; i++) {
        if (pd.idx[i] >= p.nstrings) {
            rc = -EBADMSG;
            goto fail;
        }
        *pd.ptr[i] = p.strings[pd.idx[i]];
    }
    if (have_default) {
        if (default_idx >= p.nstrings) {
            rc = -EBADMSG;
            goto fail;
        }
        p.default_type = p.strings[default_idx];
    }
    for (i = 0; i < p.nlocids; i++)
        if (p.locids[i] == 0) {
            rc = -EBADMSG;
            goto fail;
        }
    qsort(p.mappings, p.nmappings, sizeof *p.mappings, cmp_mapping);
    qsort(p.locations, p.nlocations, sizeof *p.locations, cmp_location);
    qsort(p.functions, p.nfunctions, sizeof *p.functions, cmp_function);
    free(pd.idx);
    free(pd.ptr);
    *out = p;
    return 0;
fail:
    free(pd.idx);
    free(pd.ptr);
    cli_pprof_release(&p);
    return rc;
}

void cli_pprof_release(cli_pprof *p)
{
    if (!p)
        return;
    free(p->types);
    free(p->samples);
    free(p->locids);
    free(p->values);
    free(p->mappings);
    free(p->locations);
    free(p->lines);
    free(p->functions);
    free(p->strings);
    free(p->arena);
    memset(p, 0, sizeof *p);
}

/* ---- gzip ---- */

int cli_pprof_gunzip(const uint8_t *in, size_t n, uint8_t **out, size_t *out_n,
                     size_t max_out)
{
    z_stream z;
    uint8_t *buf = NULL;
    size_t cap = n * 4 + 4096, len = 0;
    int zr;

    if (n < 2 || in[0] != 0x1f || in[1] != 0x8b)
        return -EBADMSG;
    if (cap > max_out)
        cap = max_out;
    memset(&z, 0, sizeof z);
    if (inflateInit2(&z, 16 + MAX_WBITS) != Z_OK)
        return -ENOMEM;
    buf = malloc(cap + 1);
    if (!buf) {
        inflateEnd(&z);
        return -ENOMEM;
    }
    z.next_in = (Bytef *)(uintptr_t)in;
    z.avail_in = (uInt)(n > UINT32_MAX ? UINT32_MAX : n);
    for (;;) {
        if (len == cap) {
            size_t ncap;
            uint8_t *nb;
            if (cap >= max_out) {
                free(buf);
                inflateEnd(&z);
                return -EFBIG;
            }
            ncap = cap * 2 > max_out ? max_out : cap * 2;
            nb = realloc(buf, ncap + 1);
            if (!nb) {
                free(buf);
                inflateEnd(&z);
                return -ENOMEM;
            }
            buf = nb;
            cap = ncap;
        }
        z.next_out = buf + len;
        z.avail_out = (uInt)(cap - len > UINT32_MAX ? UINT32_MAX : cap - len);
        zr = inflate(&z, Z_NO_FLUSH);
        len = (size_t)(z.next_out - buf);
        if (zr == Z_STREAM_END)
            break;
        if (zr == Z_BUF_ERROR && z.avail_out != 0) {
            /* no progress possible: the input ended early */
            free(buf);
            inflateEnd(&z);
            return -EBADMSG;
        }
        if (zr != Z_OK && zr != Z_BUF_ERROR) {
            free(buf);
            inflateEnd(&z);
            return zr == Z_MEM_ERROR ? -ENOMEM : -EBADMSG;
        }
    }
    inflateEnd(&z);
    *out = buf;
    *out_n = len;
    return 0;
}

int cli_pprof_parse(const uint8_t *data, size_t n, size_t max_inflated,
                    cli_pprof *out)
{
    uint8_t *plain = NULL;
    size_t plain_n = 0;
    int rc;

    if (!data && n)
        return -EINVAL;
    if (n < 2 || data[0] != 0x1f || data[1] != 0x8b)
        return cli_pprof_decode(data, n, out);
    rc = cli_pprof_gunzip(data, n, &plain, &plain_n, max_inflated);
    if (rc)
        return rc;
    rc = cli_pprof_decode(plain, plain_n, out);
    free(plain);
    return rc;
}

int cli_open_regular(const char *path, uint64_t *size)
{
    struct stat st, fst;
    int fd, rc;

    /* stat first: a FIFO or device must not even be opened (pprof.h) */
    if (stat(path, &st) != 0)
        return -errno;
    if (!S_ISREG(st.st_mode))
        return S_ISDIR(st.st_mode) ? -EISDIR : -EINVAL;
    fd = open(path, O_RDONLY | O_NONBLOCK | O_NOCTTY | O_CLOEXEC);
    if (fd < 0)
        return -errno;
    if (fstat(fd, &fst) != 0) {
        rc = -errno;
        close(fd);
        return rc;
    }
    if (fst.st_dev != st.st_dev || fst.st_ino != st.st_ino ||
        !S_ISREG(fst.st_mode)) {
        close(fd); /* swapped between the stat and the open */
        return -EINVAL;
    }
    if (size)
        *size = (uint64_t)fst.st_size;
    return fd;
}

int cli_pprof_load(const char *path, cli_pprof *out)
{
    uint8_t *raw;
    uint64_t st_size = 0;
    size_t size, got = 0;
    int fd, rc;

    fd = cli_open_regular(path, &st_size);
    if (fd < 0)
        return fd;
    if (st_size > CLI_PPROF_MAX_FILE_BYTES) {
        close(fd);
        return -EFBIG;
    }
    size = (size_t)st_size;
    raw = malloc(size + 1);
    if (!raw) {
        close(fd);
        return -ENOMEM;
    }
    /* up to the size fstat saw: a file growing meanwhile is cut there (and
     * then, most likely, refused as truncated) */
    while (got < size) {
        ssize_t r = read(fd, raw + got, size - got);
        if (r < 0 && errno == EINTR)
            continue;
        if (r < 0) {
            rc = -errno;
            free(raw);
            close(fd);
            return rc;
        }
        if (r == 0)
            break;
        got += (size_t)r;
    }
    close(fd);
    rc = cli_pprof_parse(raw, got, CLI_PPROF_MAX_INFLATED_BYTES, out);
    free(raw);
    return rc;
}

const char *cli_pprof_strerror(int rc)
{
    switch (rc) {
    case -EBADMSG: return "not a pprof profile, or corrupt/truncated";
    case -EFBIG: return "too large (over 256 MiB as stored or inflated, "
                        "or over 1 GiB decoded)";
    case -EISDIR: return "is a directory";
    case -EINVAL: return "not a regular file";
    case CLI_PPROF_ESTACKS: return "stacks over 256 MiB (too many samples, "
                                   "or long names in deep stacks)";
    case CLI_PPROF_ENOTYPE: return "no such sample type in the profile";
    default: return strerror(-rc);
    }
}

/* ---- lookups ---- */

int cli_pprof_value_index(const cli_pprof *p, const char *type)
{
    size_t i;

    if (!p || p->ntypes == 0)
        return -ENOENT;
    if (!type) {
        if (p->default_type[0])
            type = p->default_type;
        else {
            for (i = 0; i < p->ntypes; i++)
                if (strcmp(p->types[i].type, "inuse_space") == 0)
                    return (int)i;
            return (int)p->ntypes - 1;
        }
    }
    for (i = 0; i < p->ntypes; i++)
        if (strcmp(p->types[i].type, type) == 0)
            return (int)i;
    return -ENOENT;
}

const cli_pprof_location *cli_pprof_location_get(const cli_pprof *p, uint64_t id)
{
    cli_pprof_location key;

    key.id = id;
    return p->nlocations ? bsearch(&key, p->locations, p->nlocations,
                                   sizeof key, cmp_location) : NULL;
}

const cli_pprof_mapping *cli_pprof_mapping_get(const cli_pprof *p, uint64_t id)
{
    cli_pprof_mapping key;

    key.id = id;
    return p->nmappings ? bsearch(&key, p->mappings, p->nmappings, sizeof key,
                                  cmp_mapping) : NULL;
}

const cli_pprof_function *cli_pprof_function_get(const cli_pprof *p, uint64_t id)
{
    cli_pprof_function key;

    key.id = id;
    return p->nfunctions ? bsearch(&key, p->functions, p->nfunctions,
                                   sizeof key, cmp_function) : NULL;
}
