/*
 * pprof_autoskip.c — finding a program's own allocation wrappers from the
 * shape of its heap profile, so that the call site named is the wrapper's
 * caller (as jeprof and pprof's -drop_frames do for listed names), without
 * the user listing it with --skip.
 *
 * Design: a wrapper is a function that sits right above the allocator (the
 * frame just past malloc/operator new and the known wrappers) under many
 * distinct callers: xmalloc-like helpers are called from everywhere, while
 * a function that leaks calls malloc for one structure, from one or two
 * places. The rule is one count: CLI_AUTOSKIP_MIN_CALLERS distinct caller
 * functions. There is deliberately no byte condition: in a leaking program
 * the leak dominates the bytes under its wrapper (redis: _sdsnewlen is 95%
 * of zmalloc_usable's growth), so "bytes spread over callers" would keep
 * exactly the wrapper that hides the leak. Samples are byte-sampled, so a
 * caller seen once holds real bytes; rare callers are missed, which only
 * makes the rule more conservative. One level is skipped (the caller of a
 * wrapper is not itself tested), so the answer stays predictable.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "pprof.h"

typedef struct pair {
    char *site, *caller;
} pair;

struct cli_autoskip {
    pair *v;
    size_t n, cap;
    size_t bytes;        /* text held by v, bounded by CLI_STACKS_MAX_BYTES */
    char **wrappers;     /* sorted; set by cli_autoskip_decide */
    size_t nwrappers;
};

static int auto_skip_on = 1;

void cli_heap_auto_skip_set(int on)
{
    auto_skip_on = on != 0;
}

int cli_heap_auto_skip_enabled(void)
{
    return auto_skip_on;
}

cli_autoskip *cli_autoskip_new(void)
{
    return calloc(1, sizeof(cli_autoskip));
}

void cli_autoskip_free(cli_autoskip *a)
{
    size_t i;

    if (!a)
        return;
    for (i = 0; i < a->n; i++) {
        free(a->v[i].site);
        free(a->v[i].caller);
    }
    free(a->v);
    free(a->wrappers); /* its strings belong to v */
    free(a);
}

int cli_autoskip_add(cli_autoskip *a, const char *site, const char *caller)
{
    size_t len;

    if (!a || !site || !caller)
        return -EINVAL;
    len = strlen(site) + strlen(caller) + 2 + sizeof(pair);
    if (len > CLI_STACKS_MAX_BYTES - a->bytes)
        return 0; /* past the bound: decide on what was seen */
    if (a->n == a->cap) {
        size_t cap = a->cap ? a->cap * 2 : 64;
        pair *v = realloc(a->v, cap * sizeof *v);
        if (!v)
            return -ENOMEM;
        a->v = v;
        a->cap = cap;
    }
    a->v[a->n].site = strdup(site);
    a->v[a->n].caller = strdup(caller);
    if (!a->v[a->n].site || !a->v[a->n].caller) {
        free(a->v[a->n].site);
        free(a->v[a->n].caller);
        return -ENOMEM;
    }
    a->n++;
    a->bytes += len;
    return 0;
}

static int cmp_pair(const void *x, const void *y)
{
    const pair *p = x, *q = y;
    int c = strcmp(p->site, q->site);
    return c ? c : strcmp(p->caller, q->caller);
}

static int cmp_str(const void *x, const void *y)
{
    return strcmp(*(char *const *)x, *(char *const *)y);
}

/* A name that is a program's entry, never a wrapper of anything. */
static int is_entry(const char *name)
{
    return strcmp(name, "main") == 0 || strcmp(name, "main.main") == 0;
}

int cli_autoskip_decide(cli_autoskip *a)
{
    size_t i, j;

    if (!a)
        return -EINVAL;
    free(a->wrappers);
    a->wrappers = NULL;
    a->nwrappers = 0;
    if (a->n == 0)
        return 0;
    qsort(a->v, a->n, sizeof *a->v, cmp_pair);
    a->wrappers = calloc(a->n, sizeof *a->wrappers);
    if (!a->wrappers)
        return -ENOMEM;
    for (i = 0; i < a->n; i = j) {
        size_t callers = 1;
        for (j = i + 1; j < a->n && strcmp(a->v[j].site, a->v[i].site) == 0; j++)
            if (strcmp(a->v[j].caller, a->v[j - 1].caller) != 0)
                callers++;
        if (callers >= CLI_AUTOSKIP_MIN_CALLERS && !is_entry(a->v[i].site))
            a->wrappers[a->nwrappers++] = a->v[i].site;
    }
    qsort(a->wrappers, a->nwrappers, sizeof *a->wrappers, cmp_str);
    return 0;
}

int cli_autoskip_is_wrapper(const cli_autoskip *a, const char *name)
{
    if (!a || !name || a->nwrappers == 0)
        return 0;
    return bsearch(&name, a->wrappers, a->nwrappers, sizeof *a->wrappers,
                   cmp_str) != NULL;
}
