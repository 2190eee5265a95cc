/*
 * http_listen.h — the HTTP endpoint's listening socket (internal to
 * http.c): created here rather than by libmicrohttpd so that a bind failure
 * is reported with its real errno. The listen address parser,
 * mv__http_parse_listen, is in util (the CLI uses it too).
 *
 * Ownership: the caller owns the returned descriptor (http.c hands it to
 * MHD, which closes it in MHD_stop_daemon). Thread-safety: no shared state;
 * safe from any thread.
 */
#ifndef MV_HTTP_LISTEN_H
#define MV_HTTP_LISTEN_H

/* Creates a bound, listening TCP socket for host (an address or a name) and
 * port; *is_v6 tells its family. Returns the fd or -errno (-EADDRINUSE,
 * -EACCES, -EADDRNOTAVAIL, ...; -EINVAL when host does not resolve). */
int mv__http_listen_open(const char *host, int port, int *is_v6);
/* The port a listening socket got (for port 0), else fallback. */
int mv__http_listen_port(int fd, int fallback);

#endif /* MV_HTTP_LISTEN_H */
