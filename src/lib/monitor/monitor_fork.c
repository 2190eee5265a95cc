/*
 * monitor_fork.c — keeping monitors sane across fork().
 *
 * A fork child inherits a copy of every monitor but none of the threads: no
 * sampler thread, no HTTP server thread. Any monitor lock held by one of
 * those threads at fork time would stay held forever in the child. So the
 * pthread_atfork handlers take, before fork, the live-monitor list lock and
 * then every live monitor's locks in their rank order (app_lock, lock,
 * sink_lock: see monitor.h); the parent releases them in reverse; the child
 * initialises them afresh and marks each monitor "inherited". On an
 * inherited monitor the API returns -ECHILD (mv_op_begin returns NULL) and
 * mv_monitor_stop() only frees memory: it joins nothing and leaves the
 * endpoint's handle alone (stopping it would join a thread that does not
 * exist in the child).
 *
 * PROCESS-WIDE SINGLETON: the list of live monitors, its mutex and the
 * pthread_once flag that registers the handlers are the library's one
 * global state. Writers: mv__monitor_live_add/remove (under live_lock) and
 * the atfork child handler (single-threaded at that point). Readers: the
 * atfork handlers (under live_lock).
 */
#include <pthread.h>

#include "monitor.h"

static pthread_once_t fork_once = PTHREAD_ONCE_INIT;
static pthread_mutex_t live_lock = PTHREAD_MUTEX_INITIALIZER;
static mv_monitor *live_head;

static void fork_prepare(void)
{
    pthread_mutex_lock(&live_lock);
    for (mv_monitor *m = live_head; m; m = m->live_next) {
        pthread_mutex_lock(&m->app_lock);
        pthread_mutex_lock(&m->lock);
        pthread_mutex_lock(&m->sink_lock);
    }
}

static void fork_parent(void)
{
    for (mv_monitor *m = live_head; m; m = m->live_next) {
        pthread_mutex_unlock(&m->sink_lock);
        pthread_mutex_unlock(&m->lock);
        pthread_mutex_unlock(&m->app_lock);
    }
    pthread_mutex_unlock(&live_lock);
}

static void fork_child(void)
{
    for (mv_monitor *m = live_head; m; m = m->live_next) {
        mv__monitor_reinit_locks(m);
        m->inherited = 1;
        m->thread_started = 0;
        m->pending_n = 0;
    }
    pthread_mutex_init(&live_lock, NULL);
}

static void register_handlers(void)
{
    pthread_atfork(fork_prepare, fork_parent, fork_child);
}

void mv__monitor_live_add(mv_monitor *m)
{
    pthread_once(&fork_once, register_handlers);
    pthread_mutex_lock(&live_lock);
    m->live_next = live_head;
    live_head = m;
    pthread_mutex_unlock(&live_lock);
}

void mv__monitor_live_remove(mv_monitor *m)
{
    pthread_mutex_lock(&live_lock);
    for (mv_monitor **pp = &live_head; *pp; pp = &(*pp)->live_next) {
        if (*pp == m) {
            *pp = m->live_next;
            break;
        }
    }
    m->live_next = NULL;
    pthread_mutex_unlock(&live_lock);
}
