/*
 * allocstats_parse.c — the allocator figures of the heap preload's status
 * file (written by mv__alloc_stats_format) back into a struct, and into a
 * sample's alloc_* fields. A parser only: the caller reads the file.
 */
#include "allocstats.h"

#include <errno.h>
#include <jansson.h>
#include <string.h>

static int figure(json_t *obj, const char *key, int64_t *out)
{
    json_t *v = json_object_get(obj, key);
    if (!v || json_is_null(v)) {
        *out = MV_NA;
        return 0;
    }
    if (!json_is_integer(v) || json_integer_value(v) < 0)
        return -EINVAL;
    *out = (int64_t)json_integer_value(v);
    return 0;
}

int mv__alloc_stats_parse(const char *text, size_t len, mv__alloc_stats *st)
{
    json_error_t jerr;
    int rc = 0;

    mv__alloc_stats_clear(st);
    json_t *doc = json_loadb(text, len, 0, &jerr);
    if (!doc)
        return -EINVAL;
    json_t *a = json_object_get(doc, "alloc");
    if (!json_is_object(a)) {
        rc = a && !json_is_null(a) ? -EINVAL : -ENOENT;
        goto out;
    }
    json_t *kind = json_object_get(a, "kind");
    st->kind = mv__alloc_kind_from_name(json_string_value(kind));
    if (st->kind == MV_ALLOC_NONE) {
        rc = json_is_string(kind) ? -ENOENT : -EINVAL;
        goto out;
    }
    if (figure(a, "in_use_bytes", &st->in_use_bytes) ||
        figure(a, "free_bytes", &st->free_bytes) ||
        figure(a, "mapped_bytes", &st->mapped_bytes) ||
        figure(a, "releasable_bytes", &st->releasable_bytes) ||
        figure(a, "arenas", &st->arenas))
        rc = -EINVAL;
out:
    json_decref(doc);
    if (rc)
        mv__alloc_stats_clear(st);
    return rc;
}

void mv__alloc_stats_to_sample(const mv__alloc_stats *st, mv_sample *s)
{
    s->alloc_kind = st->kind;
    s->alloc_in_use_bytes = st->in_use_bytes;
    s->alloc_free_bytes = st->free_bytes;
    s->alloc_mapped_bytes = st->mapped_bytes;
    s->alloc_releasable_bytes = st->releasable_bytes;
    s->alloc_arenas = st->arenas;
}
