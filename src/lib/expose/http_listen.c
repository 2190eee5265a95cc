/*
 * http_listen.c — the HTTP endpoint's listen address and listening socket
 * (see http_listen.h): binds and listens with the real errno on failure,
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
