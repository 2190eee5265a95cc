/*
 * http_negotiate.c — content negotiation for /metrics: which of OpenMetrics
 * and Prometheus text an Accept header value asks for (mv__http_negotiate,
 * declared in http.h). Pure string parsing of the RFC 9110 Accept list
 * (media ranges with q-values); no state, safe from any thread.
 */
#include <string.h>
#include <strings.h>

#include "http.h"

/* Skips optional white space (RFC 9110 OWS). */
static const char *ows(const char *p, const char *end)
{
    while (p < end && (*p == ' ' || *p == '\t'))
        p++;
    return p;
}

/* Trims OWS at the end of [b, e). */
static const char *trim_end(const char *b, const char *e)
{
    while (e > b && (e[-1] == ' ' || e[-1] == '\t'))
        e--;
    return e;
}

/* Is [b, e) equal to s, ignoring case? */
static int token_is(const char *b, const char *e, const char *s)
{
    size_t n = strlen(s);
    return (size_t)(e - b) == n && strncasecmp(b, s, n) == 0;
}

/* A qvalue ("0", "0.5", "1.000") in thousandths; -1 when malformed. */
static int parse_qvalue(const char *b, const char *e)
{
    int v, digits = 0;

    if (b == e || (*b != '0' && *b != '1'))
        return -1;
    v = (*b++ - '0') * 1000;
    if (b < e) {
        if (*b++ != '.')
            return -1;
        for (int scale = 100; b < e; b++, scale /= 10) {
            if (*b < '0' || *b > '9' || ++digits > 3)
                return -1;
            v += (*b - '0') * scale;
        }
    }
    return v > 1000 ? -1 : v;
}

/* Finds the end of one list element (a ',' outside quotes). */
static const char *element_end(const char *p, const char *end)
{
    int quoted = 0;
    for (; p < end; p++) {
        if (*p == '"')
            quoted = !quoted;
        else if (*p == '\\' && quoted && p + 1 < end)
            p++;
        else if (*p == ',' && !quoted)
            break;
    }
    return p;
}

/* One media range of the Accept list: its type, subtype and q. Returns 0,
 * or -1 when malformed (then ignored). */
static int parse_range(const char *b, const char *e, const char **tb,
                       const char **te, const char **sb, const char **se,
                       int *q)
{
    const char *semi = memchr(b, ';', (size_t)(e - b));
    const char *mend = trim_end(b, semi ? semi : e);
    const char *slash = memchr(b, '/', (size_t)(mend - b));

    if (!slash || slash == b || slash + 1 == mend)
        return -1;
    *tb = b;
    *te = slash;
    *sb = slash + 1;
    *se = mend;
    *q = 1000;
    while (semi) {
        const char *pb = ows(semi + 1, e);
        const char *pe;
        semi = pb < e ? memchr(pb, ';', (size_t)(e - pb)) : NULL;
        pe = trim_end(pb, semi ? semi : e);
        if (pe - pb >= 2 && (pb[0] == 'q' || pb[0] == 'Q') && pb[1] == '=') {
            *q = parse_qvalue(pb + 2, pe);
            if (*q < 0)
                return -1;
        }
    }
    return 0;
}

mv_format mv__http_negotiate(const char *accept)
{
    /* best q per specificity: [0] * / *, [1] type/ *, [2] exact */
    int om = -1, text[3] = { -1, -1, -1 };
    const char *p, *end;

    if (!accept)
        return MV_FORMAT_PROMETHEUS;
    end = accept + strlen(accept);
    for (p = accept; p < end;) {
        const char *b = ows(p, end);
        const char *e = element_end(b, end);
        const char *tb, *te, *sb, *se;
        int q;

        p = e < end ? e + 1 : e;
        e = trim_end(b, e);
        if (b == e || parse_range(b, e, &tb, &te, &sb, &se, &q) != 0)
            continue;
        if (token_is(tb, te, "application") &&
            token_is(sb, se, "openmetrics-text")) {
            if (q > om)
                om = q;
        } else if (token_is(tb, te, "*") && token_is(sb, se, "*")) {
            if (q > text[0])
                text[0] = q;
        } else if (token_is(tb, te, "text")) {
            int spec = token_is(sb, se, "*") ? 1
                       : token_is(sb, se, "plain") ? 2 : -1;
            if (spec > 0 && q > text[spec])
                text[spec] = q;
        }
    }
    /* The most specific range that matches text/plain decides its q; none
     * at all means "not acceptable", i.e. 0. */
    int tq = text[2] >= 0 ? text[2] : text[1] >= 0 ? text[1]
             : text[0] >= 0 ? text[0] : 0;
    /* OpenMetrics must be named: a bare * / * keeps the classic format. */
    if (om > 0 && om >= tq)
        return MV_FORMAT_OPENMETRICS;
    return MV_FORMAT_PROMETHEUS;
}
