/*
 * http_listen.c — the HTTP endpoint's listen address and listening socket
 * (see http_listen.h): parses "host:port" forms (mv__http_parse_listen,
 * declared in http.h), binds and listens with the real errno on failure,
 * and reads back the port a port-0 bind got. No shared state.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/types.h>
#include <unistd.h>

#include "http.h"
#include "http_listen.h"
#include "util.h"

/* The kernel's queue of connections not yet accepted (docs/api-status.md). */
#define LISTEN_BACKLOG 64

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

/* Creates a bound, listening TCP socket. Returns the fd or -errno. */
int mv__http_listen_open(const char *host, int port, int *is_v6)
{
    struct addrinfo hints, *res = NULL;
    char portstr[8];
    int fd, rc, one = 1;

    memset(&hints, 0, sizeof hints);
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    hints.ai_flags = AI_PASSIVE | AI_NUMERICSERV;
    snprintf(portstr, sizeof portstr, "%d", port);
    rc = getaddrinfo(host, portstr, &hints, &res);
    if (rc != 0 || !res) {
        if (res)
            freeaddrinfo(res);
        return rc == EAI_MEMORY ? -ENOMEM : -EINVAL;
    }
    fd = socket(res->ai_family, res->ai_socktype | SOCK_CLOEXEC,
                res->ai_protocol);
    if (fd < 0) {
        rc = -errno;
        freeaddrinfo(res);
        return rc;
    }
    /* Restarting while old connections sit in TIME_WAIT must work; a port
     * held by a live listener still fails with EADDRINUSE on Linux. */
    (void)setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    if (res->ai_family == AF_INET6)
        (void)setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof one);
    if (bind(fd, res->ai_addr, res->ai_addrlen) < 0 ||
        listen(fd, LISTEN_BACKLOG) < 0) {
        rc = -errno;
        close(fd);
        freeaddrinfo(res);
        return rc;
    }
    *is_v6 = res->ai_family == AF_INET6;
    freeaddrinfo(res);
    return fd;
}

/* The port a listening socket got (for port 0), else fallback. */
int mv__http_listen_port(int fd, int fallback)
{
    struct sockaddr_storage ss;
    socklen_t len = sizeof ss;

    if (getsockname(fd, (struct sockaddr *)&ss, &len) < 0)
        return fallback;
    if (ss.ss_family == AF_INET)
        return ntohs(((struct sockaddr_in *)&ss)->sin_port);
    if (ss.ss_family == AF_INET6)
        return ntohs(((struct sockaddr_in6 *)&ss)->sin6_port);
    return fallback;
}
