/*
 * callers.c — see callers.h.
 */
#include "callers.h"

#include <stdio.h>
#include <string.h>

char *cli_heap_callers(const char *folded, int n, char *out, size_t len)
{
    if (len == 0)
        return out;
    out[0] = '\0';
    if (!folded || n <= 0)
        return out;
    const char *end = strrchr(folded, ';'); /* the site follows it */
    size_t used = 0;
    for (int k = 0; end && k < n; k++) {
        const char *start = end;
        while (start > folded && start[-1] != ';')
            start--;
        int w = snprintf(out + used, len - used, "%s%.*s", k ? " <- " : "",
                         (int)(end - start), start);
        if (w < 0 || (size_t)w >= len - used) { /* cut: end at a whole name */
            out[used] = '\0';
            break;
        }
        used += (size_t)w;
        end = start > folded ? start - 1 : NULL;
    }
    return out;
}

