/*
 * http_guard.h — the HTTP endpoint's defence against slow and oversized
 * requests (internal to http.c): every connection is tracked from accept to
 * close, a request head must arrive within 5 s, at most all but 16 of the
 * server's connections may be in a head at once (the oldest is evicted), and
 * a request target with too many query parameters or too long a query is
 * answered 414 before libmicrohttpd parses it. http_guard.c explains why.
 *
 * Use: create a guard, pass the three callbacks below to MHD_start_daemon
 * with the guard as their closure, call mv__http_guard_head_in on the access
 * handler's first call of each request, start the watchdog once the daemon
 * runs; to finish, stop the watchdog, stop the daemon, then free the guard.
 *
 * Ownership: the caller owns the guard (create/free); the guard owns its
 * connection list and the watchdog thread.
 *
 * Thread-safety: create, start, stop and free from the owner's thread, which
 * must not call free while the daemon may still call back. The callbacks and
 * mv__http_guard_head_in run on MHD's polling thread; the watchdog is a
 * thread of its own; they share the connection list under the guard's lock.
 */
#ifndef MV_HTTP_GUARD_H
#define MV_HTTP_GUARD_H

#include <microhttpd.h>

typedef struct mv__http_guard mv__http_guard;

/* A guard for a server of conn_limit connections (> 16). 0, -ENOMEM or
 * -errno from the lock's initialisation; *out is NULL on error. */
int mv__http_guard_create(unsigned conn_limit, mv__http_guard **out);
/* Starts the watchdog thread. 0 or -errno. */
int mv__http_guard_start(mv__http_guard *g);
/* Stops and joins the watchdog; a no-op when it is not running. */
void mv__http_guard_stop(mv__http_guard *g);
/* Frees the guard and what is left on its list; the watchdog must be
 * stopped and the daemon gone. NULL is a no-op. */
void mv__http_guard_free(mv__http_guard *g);

/* MHD_OPTION_NOTIFY_CONNECTION: lists (and puts on the clock) or unlists a
 * connection. cls is the guard. */
void mv__http_guard_notify_connection(void *cls,
                                      struct MHD_Connection *connection,
                                      void **socket_context,
                                      enum MHD_ConnectionNotificationCode toe);
/* MHD_OPTION_NOTIFY_COMPLETED: a kept-alive connection now waits for its
 * next head. cls is the guard. */
void mv__http_guard_request_completed(void *cls,
                                      struct MHD_Connection *connection,
                                      void **con_cls,
                                      enum MHD_RequestTerminationCode toe);
/* MHD_OPTION_URI_LOG_CALLBACK: answers 414 for a target whose query is over
 * the bounds. Returns NULL, the request's initial *con_cls. cls is unused. */
void *mv__http_guard_uri_logged(void *cls, const char *uri,
                                struct MHD_Connection *connection);

/* The access handler's first call for a request: its head is complete (off
 * the clock). Returns 1 when the request was already answered 414 by
 * mv__http_guard_uri_logged (the handler then drops it), else 0. */
int mv__http_guard_head_in(mv__http_guard *g, struct MHD_Connection *c);

#endif /* MV_HTTP_GUARD_H */
