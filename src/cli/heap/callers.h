/*
 * callers.h — the few frames above a heap call site, for people: heap
 * top, the heap_site_growing event line and the report show them under
 * the site, so a wrapper's many callers stay apart at a glance.
 * Pure string work on a folded stack; thread-safe; no allocation.
 */
#ifndef MV_CLI_CALLERS_H
#define MV_CLI_CALLERS_H

#include <stddef.h>

/* The callers of a site, from its folded stack "root;...;caller;site":
 * up to n function names before the site, innermost first, joined by
 * " <- " ("handle_request <- serve <- main"); "" when there are none.
 * A name that does not fit in len is left out with those after it.
 * Returns out. */
char *cli_heap_callers(const char *folded, int n, char *out, size_t len);

#endif /* MV_CLI_CALLERS_H */
