/*
 * ingest_series.c — the series containers that analyze's parsers fill
 * (cli_series, cli_series_set; see ingest.h) and the format names. It
 * depends on no parser, so the parsers and ingest.c, which dispatches to
 * them, never depend on each other in a loop.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ingest.h"
#include "util.h"

const char *cli_format_name(cli_format f)
{
    switch (f) {
    case CLI_FMT_EMPTY: return "empty";
    case CLI_FMT_RECORDING: return "recording";
    case CLI_FMT_CSV: return "csv";
    case CLI_FMT_PROMETHEUS: return "prometheus";
    default: return "unknown";
    }
}

/* ---- series containers ---- */

int cli_series_push(cli_series *s, int64_t t_ms, double v)
{
    if (s->n == s->cap) {
        size_t cap = s->cap ? s->cap * 2 : 256;
        int64_t *t = realloc(s->t_ms, cap * sizeof *t);
        double *nv;

        if (!t)
            return -ENOMEM;
        s->t_ms = t;
        nv = realloc(s->v, cap * sizeof *nv);
        if (!nv)
            return -ENOMEM;
        s->v = nv;
        if (s->format == CLI_FMT_RECORDING) {
            int64_t *l = realloc(s->limit, cap * sizeof *l);
            unsigned char *p;

            if (!l)
                return -ENOMEM;
            s->limit = l;
            p = realloc(s->phase, cap * sizeof *p);
            if (!p)
                return -ENOMEM;
            s->phase = p;
            cli_alloc_point *ap = realloc(s->alloc, cap * sizeof *ap);
            if (!ap)
                return -ENOMEM;
            s->alloc = ap;
        }
        s->cap = cap;
    }
    s->t_ms[s->n] = t_ms;
    s->v[s->n] = v;
    if (s->limit)
        s->limit[s->n] = MV_NA;
    if (s->phase)
        s->phase[s->n] = 0;
    if (s->alloc)
        s->alloc[s->n] = (cli_alloc_point){0, MV_NA, MV_NA, MV_NA, MV_NA};
    s->n++;
    return 0;
}

const char *cli_series_label(const cli_series *s, const char *name)
{
    size_t i;

    for (i = 0; i < s->nlabels; i++)
        if (strcmp(s->labels[i].name, name) == 0)
            return s->labels[i].value;
    return NULL;
}

char *cli_series_labels_text(const cli_series *s, char *out, size_t n)
{
    size_t i, used = 0;
    int first = 1;

    if (n == 0)
        return out;
    out[0] = '\0';
    used += (size_t)snprintf(out, n, "{");
    for (i = 0; i < s->nlabels && used < n; i++) {
        if (strcmp(s->labels[i].name, "__name__") == 0)
            continue;
        used += (size_t)snprintf(out + used, n - used, "%s%s=\"%s\"",
                                 first ? "" : ", ", s->labels[i].name,
                                 s->labels[i].value);
        first = 0;
    }
    if (used < n)
        snprintf(out + used, n - used, "}");
    return out;
}

static void series_release(cli_series *s)
{
    size_t i;

    free(s->source);
    for (i = 0; i < s->nlabels; i++) {
        free(s->labels[i].name);
        free(s->labels[i].value);
    }
    free(s->labels);
    free(s->t_ms);
    free(s->v);
    free(s->limit);
    free(s->phase);
    free(s->alloc);
    memset(s, 0, sizeof *s);
}

cli_series *cli_series_set_add(cli_series_set *set, const char *source,
                               cli_format f)
{
    cli_series *s;

    if (set->n == set->cap) {
        size_t cap = set->cap ? set->cap * 2 : 4;
        cli_series *ns = realloc(set->s, cap * sizeof *ns);

        if (!ns)
            return NULL;
        set->s = ns;
        set->cap = cap;
    }
    s = &set->s[set->n];
    memset(s, 0, sizeof *s);
    s->source = strdup(source ? source : "");
    if (!s->source)
        return NULL;
    s->format = f;
    s->limit_bytes = MV_NA;
    set->n++;
    return s;
}

void cli_series_set_truncate(cli_series_set *set, size_t keep)
{
    while (set->n > keep)
        series_release(&set->s[--set->n]);
}

void cli_series_set_release(cli_series_set *set)
{
    if (!set)
        return;
    cli_series_set_truncate(set, 0);
    free(set->s);
    set->s = NULL;
    set->cap = 0;
}
