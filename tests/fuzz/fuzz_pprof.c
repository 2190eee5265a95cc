/*
 * fuzz_pprof.c — libFuzzer target: the heap profile reader behind `memvigil
 * heap` and `report --heap`: cli_pprof_parse, the step of cli_pprof_load
 * after the file is read (gzip by its magic, else a raw profile.proto
 * message); a profile that decodes is turned into stacks for every sample
 * type, with the fallback frame names (no symbolizer).
 */
#include <stddef.h>
#include <stdint.h>

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

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    cli_pprof p;
    if (cli_pprof_parse(data, size, FUZZ_MAX_INFLATED, &p) == 0) {
        stacks_all(&p);
        cli_pprof_release(&p);
    }
    return 0;
}
