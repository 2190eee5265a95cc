/*
 * util_listen.c — parses a listen address ("host:port", ":port",
 * "[v6]:port") for the HTTP endpoint and for the CLI's option checks, so
 * both accept exactly the same forms. Reentrant, no shared state.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <string.h>

#include "util.h"

static int parse_port(const char *s, int *port)
{
    long v = 0;

    if (!*s)
        return -EINVAL;
    for (const char *p = s; *p; p++) {
        if (*p < '0' || *p > '9')
            return -EINVAL;
        v = v * 10 + (*p - '0');
        if (v > 65535)
            return -EINVAL;
    }
    *port = (int)v;
    return 0;
}

int mv__http_parse_listen(const char *listen, char *host, size_t hostlen,
                          int *port)
{
    const char *colon, *hb, *he;
    char tmp[INET6_ADDRSTRLEN + 1];
    size_t n;

    if (!listen || !host || hostlen == 0 || !port)
        return -EINVAL;
    if (listen[0] == '[') {
        const char *close = strchr(listen, ']');
        if (!close || close[1] != ':')
            return -EINVAL;
        hb = listen + 1;
        he = close;
        colon = close + 1;
        n = (size_t)(he - hb);
        if (n == 0 || n >= sizeof tmp)
            return -EINVAL;
        memcpy(tmp, hb, n);
        tmp[n] = '\0';
        struct in6_addr a6;
        if (inet_pton(AF_INET6, tmp, &a6) != 1)
            return -EINVAL;
    } else {
        colon = strrchr(listen, ':');
        if (!colon)
            return -EINVAL;
        hb = listen;
        he = colon;
        n = (size_t)(he - hb);
        /* A host name or IPv4 address; IPv6 needs brackets. */
        for (const char *p = hb; p < he; p++) {
            char c = *p;
            if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
                  (c >= '0' && c <= '9') || c == '.' || c == '-'))
                return -EINVAL;
        }
    }
    if (parse_port(colon + 1, port))
        return -EINVAL;
    if (n == 0) {
        if (hostlen <= strlen("127.0.0.1"))
            return -EINVAL;
        mv__strlcpy(host, "127.0.0.1", hostlen);
        return 0;
    }
    if (n >= hostlen)
        return -EINVAL;
    memcpy(host, hb, n);
    host[n] = '\0';
    return 0;
}
