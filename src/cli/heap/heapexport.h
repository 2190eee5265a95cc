/*
 * heapexport.h — heap profiles that stand alone: a profile read from a
 * file or a snapshot, symbolized into Function records and Location lines
 * (names demangled, linkage names, files, lines, inlined frames) and
 * written back as gzip'd profile.proto, so go tool pprof, Pyroscope and
 * Parca read it without the binary or its debug info (heapexport.c).
 * Used by `memvigil heap symbolize` and by the agent's /debug/pprof/heap.
 *
 * Ownership: the caller owns every buffer and profile it passes.
 * Thread-safety: one symbolizer is used by one thread at a time.
 */
#ifndef MV_CLI_HEAPEXPORT_H
#define MV_CLI_HEAPEXPORT_H

#include "memvigil.h"

#include "pprof.h"
#include "symbolize.h"

/* Symbolizes p with sym (NULL: leaves it as it is), then appends it, gzip'd
 * profile.proto, to out. p's new names point into sym: keep sym until p is
 * released. 0 or -ENOMEM. */
int cli_heap_export(cli_pprof *p, cli_symbolizer *sym, mv_buf *out);

/* `memvigil heap symbolize IN [-o OUT]`: reads IN, writes the standalone
 * profile to OUT (NULL or "-": stdout, refused on a terminal). symbolize 0
 * (--no-symbolize) only rewrites. Returns the exit status, after printing
 * the reason of a failure. */
int cli_heap_symbolize_cmd(const char *in, const char *out, int symbolize);

#endif /* MV_CLI_HEAPEXPORT_H */
