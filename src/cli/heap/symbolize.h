/*
 * symbolize.h — addresses of a pprof profile to function, file and line,
 * with inlined frames, through elfutils libdwfl (symbolize.c).
 *
 * A symbolizer opens each module (the mapping's file) once and caches it,
 * and caches every address it resolved. A module whose file is missing,
 * unreadable or whose build id differs from the profile's is remembered as
 * unusable (its frames then fall back to "module+0xOFFSET").
 *
 * Ownership: frames returned point into the symbolizer's caches and stay
 * valid until cli_symbolizer_free. Thread-safety: one thread at a time.
 */
#ifndef MV_CLI_SYMBOLIZE_H
#define MV_CLI_SYMBOLIZE_H

#include <stdint.h>

#include "pprof.h"

typedef struct cli_symbolizer cli_symbolizer;

/* NULL on ENOMEM. Free with cli_symbolizer_free (NULL is a no-op). */
cli_symbolizer *cli_symbolizer_new(void);
void cli_symbolizer_free(cli_symbolizer *s);

/* A cli_symbolize_fn (see pprof.h); ctx is a cli_symbolizer. Returns the
 * number of frames (innermost inlined first), 0 when unknown. */
int cli_symbolize(void *ctx, const cli_pprof_mapping *m, uint64_t addr,
                  int pc_is_return, cli_frame *frames, int max);

#endif /* MV_CLI_SYMBOLIZE_H */
