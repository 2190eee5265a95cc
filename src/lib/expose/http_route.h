/*
 * http_route.h — the application's extra routes on the embedded endpoint
 * (mv_http_route, memvigil.h), internal to http.c: a table of routes, and
 * the suspend / worker thread / resume cycle that runs a handler off MHD's
 * polling thread (http_route.c explains why).
 *
 * Use from http.c: make the table at start; in the access handler, find the
 * route of a URL and begin it (the connection is suspended, *con_cls becomes
 * the request); when MHD calls the handler again for that connection (after
 * the worker resumed it), finish it, which queues the reply and sets
 * *con_cls back to the server's marker; from the request-completed callback
 * call completed (frees a request whose connection ended first). To stop:
 * stop the table (waits for the workers) before MHD_stop_daemon, then free.
 *
 * Ownership: the table owns copies of the route paths; a request is freed
 * by finish or completed. Thread-safety: begin, finish and completed on the
 * polling thread; stop and free on the owner's thread.
 */
#ifndef MV_HTTP_ROUTE_H
#define MV_HTTP_ROUTE_H

#include <stddef.h>

#include <microhttpd.h>

#include "memvigil.h"

typedef struct mv__http_route_table mv__http_route_table;

/* Copies routes[0..n). -EINVAL (a path not starting with '/', a built-in
 * path, a NULL handler), -ENOMEM. */
int mv__http_route_table_new(const mv_http_route *routes, size_t n,
                             mv__http_route_table **out);
/* NULL is a no-op; the table must be stopped. */
void mv__http_route_table_free(mv__http_route_table *t);
/* The route at exactly url (the last one of that path), or NULL. */
const mv_http_route *mv__http_route_find(const mv__http_route_table *t,
                                         const char *url);
/* A request for route on c, its query copied; *con_cls becomes it. Its body
 * (if any) is then fed with mv__http_route_body, and it is started with
 * mv__http_route_start. 0 or -ENOMEM (nothing changed). */
int mv__http_route_open(mv__http_route_table *t, const mv_http_route *route,
                        struct MHD_Connection *c, void **con_cls);
/* 1 while the request con_cls is still open (not started). */
int mv__http_route_reading(void *con_cls);
/* Appends a piece of the body; -EFBIG past route->max_body_bytes (the
 * request is then refused at start), -ENOMEM. */
int mv__http_route_body(void *con_cls, const char *data, size_t n);
/* Suspends the connection and runs the handler on a worker. 0, or -EFBIG
 * (the body was too large: answer 413), -EBUSY (too many running, or
 * stopping: answer 503); on error the request is freed and *con_cls is
 * marker. */
int mv__http_route_start(void **con_cls, void *marker);
/* Queues the reply of the finished request *con_cls, frees it and sets
 * *con_cls = marker. */
enum MHD_Result mv__http_route_finish(struct MHD_Connection *c, void **con_cls,
                                      void *marker);
/* Frees *con_cls when it is a request (neither NULL nor marker). */
void mv__http_route_completed(void **con_cls, void *marker);
/* Cancels waits and blocks until no handler runs; later begins get -EBUSY. */
void mv__http_route_stop(mv__http_route_table *t);

#endif /* MV_HTTP_ROUTE_H */
