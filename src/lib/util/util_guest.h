/*
 * util_guest.h — the manners of a guest thread: memvigil's threads run in
 * someone else's process (the embedded library, the node agent), so they
 * keep the host's signals off themselves and format numbers in the "C"
 * locale whatever the host chose with setlocale().
 *
 * Thread-safety: every function acts on the calling thread only
 * (pthread_sigmask, uselocale); none touches process-wide state.
 */
#ifndef MV_UTIL_GUEST_H
#define MV_UTIL_GUEST_H

#include <locale.h>
#include <signal.h>

/* Blocks, in the calling thread, every signal that is not a synchronous
 * fault; *old gets the previous mask. Threads created meanwhile (sampler,
 * HTTP server) inherit the mask, so the host's process-directed signals
 * (SIGINT, SIGTERM, SIGCHLD, timers) are never run on our threads, and a
 * write() to a closed pipe returns EPIPE instead of raising a SIGPIPE that
 * would kill the host. */
void mv__guest_block_signals(sigset_t *old);
/* Puts back the mask mv__guest_block_signals saved. */
void mv__guest_restore_signals(const sigset_t *old);

/* Switches the calling thread to the "C" locale (a ',' decimal separator
 * would write "0,85" into JSON, metrics and recordings); *prev gets the
 * thread's previous locale. Returns the C locale to hand to
 * mv__guest_c_locale_leave, or 0 when newlocale failed (then nothing
 * changed). glibc returns a static object for "C": this costs nothing. */
locale_t mv__guest_c_locale_enter(locale_t *prev);
/* Undoes mv__guest_c_locale_enter; c may be 0. */
void mv__guest_c_locale_leave(locale_t c, locale_t prev);

#endif /* MV_UTIL_GUEST_H */
