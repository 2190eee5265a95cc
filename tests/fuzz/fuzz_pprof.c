/*
 * fuzz_pprof.c — libFuzzer target: the heap profile reader behind `memvigil
 * heap` and `report --heap`: cli_pprof_parse, the step of cli_pprof_load
 * after the file is read (gzip by its magic, else a raw profile.proto
 * message); a profile that decodes is turned into stacks for every sample
 * type, with the fallback frame names (no symbolizer); then it goes the way
 * /debug/pprof/heap sends it: the legacy text, symbolized (a fake
 * symbolizer naming every address), a delta against itself, encoded and
 * read back.
 */
#include <stddef.h>
#include <stdint.h>

#include "memvigil.h"
#include "pprof.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Small enough that a gzip bomb in the corpus is refused quickly. */
#define FUZZ_MAX_INFLATED (16u << 20)

static void stacks_all(const cli_pprof *p)
{
    for (size_t v = 0; v < p->ntypes; v++) {
        cli_stacks s;
        if (cli_stacks_build(p, (int)v, NULL, NULL, &s) == 0)
            cli_stacks_release(&s);
    }
    cli_pprof_value_index(p, NULL);
    cli_pprof_value_index(p, "inuse_space");
}

/* Names every address with two frames (one inlined), as libdw would. */
static int fake_sym(void *ctx, const cli_pprof_mapping *m, uint64_t addr,
                    int pc_is_return, cli_frame *frames, int max)
{
    (void)ctx;
    (void)m;
    (void)pc_is_return;
    if (max < 2 || (addr & 3) == 3)
        return 0;
    frames[0].function = (addr & 1) ? "inlined" : "ns::leaf<int>";
    frames[0].system_name = "_ZN2ns4leafIiEEvv";
    frames[0].file = "a.c";
    frames[0].line = (int64_t)(addr & 0xff);
    frames[1].function = "outer";
    frames[1].file = "";
    frames[1].start_line = 7;
    return 2;
}

static void written(cli_pprof *p)
{
    mv_buf b;
    cli_pprof q;

    mv_buf_init(&b);
    cli_pprof_text(p, &b);
    mv_buf_release(&b);
    if (cli_pprof_symbolize(p, fake_sym, NULL) != 0)
        return;
    if (cli_pprof_encode(p, &b) == 0 &&
        cli_pprof_parse((const uint8_t *)(b.data ? b.data : ""), b.len,
                        FUZZ_MAX_INFLATED, &q) == 0) {
        stacks_all(&q);
        if (cli_pprof_subtract(&q, p) == 0)
            stacks_all(&q);
        cli_pprof_release(&q);
    }
    mv_buf_release(&b);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    cli_pprof p;
    if (cli_pprof_parse(data, size, FUZZ_MAX_INFLATED, &p) == 0) {
        stacks_all(&p);
        written(&p);
        cli_pprof_release(&p);
    }
    return 0;
}
