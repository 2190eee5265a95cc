/*
 * heapserve.h — /debug/pprof/heap on the agent's endpoint for
 * `memvigil run --heap`, with Go net/http/pprof's semantics (heapserve.c):
 * the newest snapshot of the run's heap directory as a standalone gzip'd
 * profile.proto; ?seconds=N the delta over N fresh seconds; ?debug=1 the
 * legacy text; ?gc accepted and ignored; ?seconds at most
 * MV_PPROF_MAX_SECONDS (memvigil.h) (the preload has no collector).
 * It is an mv_http_route (memvigil.h): the library runs it on a worker
 * thread, behind the endpoint's token.
 *
 * Ownership: a cli_heapserve from cli_heapserve_new, freed with
 * cli_heapserve_free (NULL is a no-op) after the monitor that serves it
 * has stopped. Thread-safety: the handler may run on several workers at
 * once; the symbolizer is shared under the object's lock.
 */
#ifndef MV_CLI_HEAPSERVE_H
#define MV_CLI_HEAPSERVE_H

#include <sys/types.h>

#include "memvigil.h"

typedef struct cli_heapserve cli_heapserve;

/* Serves the snapshots of dir; pid is the run's child (its snapshots are
 * preferred; it is sent SIGRTMIN+8 for a fresh one). NULL on ENOMEM. */
cli_heapserve *cli_heapserve_new(const char *dir, pid_t pid);
void cli_heapserve_free(cli_heapserve *s);

/* The route to put in mv_config.http_routes; ctx is s. */
mv_http_route cli_heapserve_route(cli_heapserve *s);

#endif /* MV_CLI_HEAPSERVE_H */
