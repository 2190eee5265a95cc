/*
 * pprof.h — reading pprof heap profiles (profile.proto, usually gzip'd) as
 * written by libmemvigil_heap.so or any pprof producer, and turning their
 * samples into symbolized stacks (pprof.c: gunzip + protobuf decoding, and
 * cli_open_regular, the one way the heap readers open an untrusted path;
 * pprof_stacks.c: stacks, sites and folded lines).
 *
 * The decoder keeps every message in flat arrays; string-table indices are
 * resolved to pointers once the whole message is read (the string table may
 * come anywhere). A profile that is truncated, has an out-of-range string
 * index or a sample whose value count differs from sample_type is refused
 * with -EBADMSG, never guessed at.
 *
 * Ownership: a cli_pprof owns everything it points to; release it with
 * cli_pprof_release (a zeroed or released profile may be released again).
 * Thread-safety: none needed — plain values, one thread at a time.
 */
#ifndef MV_CLI_PPROF_H
#define MV_CLI_PPROF_H

#include <stddef.h>
#include <stdint.h>

#include "memvigil.h"

typedef struct cli_pprof_value_type {
    const char *type;  /* "inuse_space", ... ("" when unset) */
    const char *unit;  /* "bytes", "count", ... */
} cli_pprof_value_type;

typedef struct cli_pprof_mapping {
    uint64_t id;
    uint64_t start, limit, offset;   /* memory_start, memory_limit, file_offset */
    const char *filename;            /* "" when unknown */
    const char *build_id;            /* hex string or "" */
} cli_pprof_mapping;

typedef struct cli_pprof_line {
    uint64_t function_id;
    int64_t line;
} cli_pprof_line;

typedef struct cli_pprof_location {
    uint64_t id, mapping_id, address;
    size_t line0, nlines;            /* range in cli_pprof.lines; innermost
                                      * (inlined) first, caller last */
} cli_pprof_location;

typedef struct cli_pprof_function {
    uint64_t id;
    const char *name, *system_name, *filename;
    int64_t start_line;
} cli_pprof_function;

typedef struct cli_pprof_sample {
    size_t loc0, nlocs;              /* range in cli_pprof.locids; leaf first */
    size_t val0;                     /* values[val0 .. val0 + ntypes) */
} cli_pprof_sample;

typedef struct cli_pprof {
    cli_pprof_value_type *types;     size_t ntypes;
    cli_pprof_sample *samples;       size_t nsamples;
    uint64_t *locids;                size_t nlocids;
    int64_t *values;                 size_t nvalues;
    cli_pprof_mapping *mappings;     size_t nmappings;   /* sorted by id */
    cli_pprof_location *locations;   size_t nlocations;  /* sorted by id */
    cli_pprof_line *lines;           size_t nlines;
    cli_pprof_function *functions;   size_t nfunctions;  /* sorted by id */
    char **strings;                  size_t nstrings;
    char *arena;                     /* storage of the strings */
    int64_t time_nanos, duration_nanos, period;
    cli_pprof_value_type period_type;
    const char *default_type;        /* "" when unset */
} cli_pprof;

/* Bounds, so a corrupt or hostile file (a gzip bomb, a profile of a million
 * empty samples) cannot make us allocate without limit. Real snapshots of
 * libmemvigil_heap.so are tens of KiB and large Go heap profiles a few
 * tens of MiB, so each cap is far above what a real profile needs:
 *  - CLI_PPROF_MAX_FILE_BYTES: the file as stored (gzip'd or raw);
 *  - CLI_PPROF_MAX_INFLATED_BYTES: the profile after gunzip;
 *  - CLI_PPROF_MAX_DECODED_BYTES: the arrays the decoder allocates, checked
 *    from the element counts before allocating (a 2-byte empty sample
 *    becomes a 24-byte record, so this cap is what bounds memory). */
#define CLI_PPROF_MAX_FILE_BYTES ((size_t)256 << 20)
#define CLI_PPROF_MAX_INFLATED_BYTES ((size_t)256 << 20)
#define CLI_PPROF_MAX_DECODED_BYTES ((size_t)1 << 30)

/* Decodes a raw (uncompressed) profile.proto message. 0, -EBADMSG (malformed,
 * out has nothing to release), -EFBIG (the decoded arrays would exceed
 * CLI_PPROF_MAX_DECODED_BYTES) or -ENOMEM. */
int cli_pprof_decode(const uint8_t *data, size_t n, cli_pprof *out);

/* Parses a profile held in memory: gzip'd (by its magic, inflated to at most
 * max_inflated bytes) or raw. The entry point for anything that has the
 * bytes already (cli_pprof_load after reading the file, fuzz targets).
 * 0, -EBADMSG, -EFBIG or -ENOMEM; on error out has nothing to release. */
int cli_pprof_parse(const uint8_t *data, size_t n, size_t max_inflated,
                    cli_pprof *out);

/* Inflates gzip data into a malloc'ed buffer (*out, *out_n; caller frees),
 * at most max_out bytes. 0, -EBADMSG (not gzip / corrupt / truncated),
 * -EFBIG (over max_out) or -ENOMEM. */
int cli_pprof_gunzip(const uint8_t *in, size_t n, uint8_t **out, size_t *out_n,
                     size_t max_out);

/* Errors of the heap readers that no errno names, below errno's range so
 * they never alias one (strerror() does not know them; cli_pprof_strerror
 * does):
 *  - CLI_PPROF_ESTACKS: cli_stacks_build's stacks would take more than
 *    CLI_STACKS_MAX_BYTES (too many samples, or long names in deep stacks);
 *  - CLI_PPROF_ENOTYPE: the profile has no sample type of the name asked
 *    for (cli_heap_load_stacks; `heap top DIR` asks for inuse_space). */
#define CLI_PPROF_ESTACKS (-0x10001)
#define CLI_PPROF_ENOTYPE (-0x10002)

/* Opens path read-only if it is a regular file, and only then: the path
 * comes from untrusted input (a snapshot directory, a profile's mapping),
 * and merely opening a FIFO releases a writer blocked in its open() (whose
 * data is then lost), opening a device runs its driver's open hook
 * (/dev/watchdog arms a watchdog). So path is stat()ed first and opened
 * only when regular, with O_NONBLOCK | O_NOCTTY | O_CLOEXEC; the open file
 * must then be the stat()ed one (same st_dev and st_ino), else it was
 * swapped meanwhile and is refused. *size (may be NULL) gets its size.
 * The fd (the caller closes it), or -ENOENT, -EACCES... (from stat or
 * open), -EISDIR (a directory), -EINVAL (a FIFO, socket or device, or a
 * file swapped between the stat and the open). Residual window: an object
 * swapped in between the stat and the open is opened once (then refused);
 * doing that takes write access to the path's directory. */
int cli_open_regular(const char *path, uint64_t *size);

/* Reads a profile file: gzip'd (by its magic) or raw. Only a regular file
 * is read (cli_open_regular: a FIFO, socket or device named like a snapshot
 * is refused with -EINVAL without being opened; a directory: -EISDIR), a
 * file over CLI_PPROF_MAX_FILE_BYTES or inflating past
 * CLI_PPROF_MAX_INFLATED_BYTES with -EFBIG. 0 or negative errno (-ENOENT,
 * -EACCES..., -EBADMSG, -EFBIG, -ENOMEM). */
int cli_pprof_load(const char *path, cli_pprof *out);

/* One line for an error of cli_pprof_load, cli_stacks_build or
 * cli_heap_load_stacks ("not a regular file", ...), CLI_PPROF_E* included. */
const char *cli_pprof_strerror(int rc);

/* a + b, clamped to [INT64_MIN, INT64_MAX]: sums of profile values, which
 * a crafted profile may set near the limits. */
static inline int64_t cli_sat_add64(int64_t a, int64_t b)
{
    int64_t r;

    if (__builtin_add_overflow(a, b, &r))
        return b > 0 ? INT64_MAX : INT64_MIN;
    return r;
}

/* a - b, clamped likewise. */
static inline int64_t cli_sat_sub64(int64_t a, int64_t b)
{
    int64_t r;

    if (__builtin_sub_overflow(a, b, &r))
        return b < 0 ? INT64_MAX : INT64_MIN;
    return r;
}

void cli_pprof_release(cli_pprof *p);

/* Index of the sample type named type; NULL means the default one
 * (default_sample_type, else "inuse_space" when present, else the last).
 * -ENOENT when absent or when the profile has no sample types. */
int cli_pprof_value_index(const cli_pprof *p, const char *type);

/* Lookups by id; NULL when absent. */
const cli_pprof_location *cli_pprof_location_get(const cli_pprof *p, uint64_t id);
const cli_pprof_mapping *cli_pprof_mapping_get(const cli_pprof *p, uint64_t id);
const cli_pprof_function *cli_pprof_function_get(const cli_pprof *p, uint64_t id);

/* ---- pprof_stacks.c: symbolized stacks ---- */

/* One source-level frame. Strings are owned by whoever filled it (a
 * symbolizer's cache or the profile) and live as long as that owner. */
typedef struct cli_frame {
    const char *function;            /* NULL when unknown */
    const char *file;                /* NULL when unknown */
    int64_t line;                    /* 0 when unknown */
    const char *system_name;         /* the linkage (mangled) name when it
                                      * differs from function, else NULL */
    int64_t start_line;              /* the function's first line, 0 when
                                      * unknown */
} cli_frame;

/* Symbolizer: fills up to max frames for addr in mapping m (innermost
 * inlined frame first) and returns how many (0 = unknown). pc_is_return is
 * 1 for frames other than the leaf (the address is a return address). */
typedef int (*cli_symbolize_fn)(void *ctx, const cli_pprof_mapping *m,
                                uint64_t addr, int pc_is_return,
                                cli_frame *frames, int max);

/* A stack aggregated over samples with the same symbolized frames. */
typedef struct cli_stack {
    char *key;         /* identity: "func@file:line|..." leaf first, with
                        * lines, so two sites in one function stay apart */
    char *folded;      /* "root;caller;site" (function names, ';') */
    char *site;        /* "function (file:line)" of the allocation site: the
                        * innermost frame outside the allocator */
    int64_t value;     /* sum of the chosen sample type (sums saturate
                        * at INT64_MIN / INT64_MAX) */
    int64_t values[4]; /* alloc_objects, alloc_space, inuse_objects,
                        * inuse_space when present, else 0 (saturating) */
} cli_stack;

/* Why a frame was skipped to find a site (cli_allocator_frame_kind). */
enum {
    CLI_SKIP_NONE = 0,
    CLI_SKIP_ALLOCATOR,  /* malloc, operator new, std::, the profiler */
    CLI_SKIP_BUILTIN,    /* a known wrapper: zmalloc, xmalloc, g_malloc... */
    CLI_SKIP_REGEX,      /* --skip REGEX */
    CLI_SKIP_AUTO        /* detected as a wrapper (pprof_autoskip.c) */
};

/* A wrapper frame skipped in some stack (malloc and friends are not
 * listed: they are always skipped). */
typedef struct cli_skipped {
    char *function;
    int kind;          /* CLI_SKIP_BUILTIN, _REGEX or _AUTO */
} cli_skipped;

/* Skipped wrappers listed per cli_stacks; more are not named. */
#define CLI_STACKS_MAX_SKIPPED 16

typedef struct cli_stacks {
    cli_stack *v;
    size_t n;
    cli_skipped skipped[CLI_STACKS_MAX_SKIPPED]; /* in order of discovery */
    size_t nskipped;
    int64_t total;     /* sum of value over all samples (saturating) */
    double time_s;     /* time_nanos in seconds (0 when unset) */
    int64_t period;    /* sampling period in bytes (0 when unset) */
} cli_stacks;

/* Bound of the memory cli_stacks_build takes (a cli_stack per sample plus
 * its key, folded line and site): a small crafted profile can name one long
 * function in a million frames, or hold millions of empty samples. */
#define CLI_STACKS_MAX_BYTES ((size_t)256 << 20)

/* Builds the stacks of profile p for sample type vidx, sorted by value
 * descending (ties by folded). Frames: from the profile's own lines when
 * present, else from sym (may be NULL), else "0x<addr>" or
 * "<module>+0x<offset>". Frames of the allocator itself (malloc, calloc,
 * operator new, the profiler's own functions...) are dropped from the leaf
 * end; a stack keeps its 1024 innermost frames. 0 or -ENOMEM, -EINVAL,
 * -EBADMSG (a sample names a missing location), CLI_PPROF_ESTACKS (the
 * stacks would take more than CLI_STACKS_MAX_BYTES). Release with
 * cli_stacks_release. */
int cli_stacks_build(const cli_pprof *p, int vidx, cli_symbolize_fn sym,
                     void *sym_ctx, cli_stacks *out);
void cli_stacks_release(cli_stacks *s);

/* Is name an allocator entry point (or the profiler's own code, a known
 * allocation wrapper, a std:: frame, or a function cli_heap_skip_add
 * named)? */
int cli_is_allocator_frame(const char *name);
/* The same question with the reason: CLI_SKIP_NONE, _ALLOCATOR, _BUILTIN
 * or _REGEX. */
int cli_allocator_frame_kind(const char *name);

/* ---- pprof_autoskip.c: wrappers found from the profile's shape ----
 * A function right above the allocator (after the frames above are
 * skipped) under CLI_AUTOSKIP_MIN_CALLERS or more distinct caller
 * functions is taken for an allocation wrapper and skipped too, one level.
 * cli_stacks_build does this for every profile unless
 * cli_heap_auto_skip_set(0) (--no-auto-skip) was called. Process-wide
 * switch: set it from the main thread before stacks are read.
 * Four callers: a helper called from four unrelated functions serves the
 * program, not one structure; a leaking function allocates for one
 * structure from one or two places, so it stays the site. */
#define CLI_AUTOSKIP_MIN_CALLERS 4
void cli_heap_auto_skip_set(int on);
int cli_heap_auto_skip_enabled(void);

/* The collector: add (site, caller) for every sample whose site is right
 * above a skipped allocator frame, then decide. Names are copied; the
 * text kept is bounded by CLI_STACKS_MAX_BYTES (pairs past it are not
 * counted). cli_autoskip_free(NULL) is a no-op. add/decide: 0, -EINVAL or
 * -ENOMEM; is_wrapper(NULL, ...) is 0. One thread at a time. */
typedef struct cli_autoskip cli_autoskip;
cli_autoskip *cli_autoskip_new(void);
void cli_autoskip_free(cli_autoskip *a);
int cli_autoskip_add(cli_autoskip *a, const char *site, const char *caller);
int cli_autoskip_decide(cli_autoskip *a);
int cli_autoskip_is_wrapper(const cli_autoskip *a, const char *name);

/* --skip REGEX: frames whose function name matches the POSIX extended
 * regular expression are skipped like allocator frames (a program's own
 * allocation wrappers). At most 16. Process-wide: call from the main
 * thread before stacks are read. Returns 0, -EINVAL for a bad expression,
 * -E2BIG past 16; errbuf gets regerror's text. */
int cli_heap_skip_add(const char *regex, char *errbuf, size_t errlen);

/* ---- pprof_write.c, pprof_edit.c, pprof_text.c: profiles written ----
 *
 * These change or write a decoded profile. After cli_pprof_symbolize, the
 * profile's new function names point into the symbolizer's caches: keep
 * the symbolizer until the profile is written or released. */

/* Adds Function records (name demangled, system_name the linkage name,
 * filename, start_line) and Line entries (innermost inlined frame first)
 * to every location without lines that sym resolves, so the profile needs
 * neither the binary nor its debug info; mappings and build ids are kept.
 * 0, -EINVAL or -ENOMEM (then p holds the locations resolved so far, still
 * consistent). */
int cli_pprof_symbolize(cli_pprof *p, cli_symbolize_fn sym, void *ctx);

/* b -= a, sample by sample (matched by their stacks' addresses), for every
 * sample type both have; samples left all zero are dropped; duration_nanos
 * becomes b's time minus a's. The delta of Go's ?seconds=N. 0, -EINVAL
 * (more than 64 sample types) or -ENOMEM (b unchanged). */
int cli_pprof_subtract(cli_pprof *b, const cli_pprof *a);

/* Appends p encoded as profile.proto (uncompressed) to out. 0, -EINVAL or
 * -ENOMEM (out may hold part of it). */
int cli_pprof_encode(const cli_pprof *p, mv_buf *out);

/* Appends in[0..n) gzip'd to out. 0, -EFBIG (n over 4 GiB) or -ENOMEM. */
int cli_pprof_gzip(const void *in, size_t n, mv_buf *out);

/* Appends p as the legacy text of Go's /debug/pprof/heap?debug=1 ("heap
 * profile: ..." and a record per stack with its symbolized frames; see
 * pprof_text.c) to out. 0 or -ENOMEM. */
int cli_pprof_text(const cli_pprof *p, mv_buf *out);

#endif /* MV_CLI_PPROF_H */
