/*
 * util_guest.c — signal mask and locale of memvigil's own threads inside a
 * host process (see util_guest.h).
 */
#include "util_guest.h"

#include <pthread.h>

void mv__guest_block_signals(sigset_t *old)
{
    sigset_t set;
    sigfillset(&set);
    /* synchronous faults stay deliverable: blocking them is undefined */
    sigdelset(&set, SIGSEGV);
    sigdelset(&set, SIGBUS);
    sigdelset(&set, SIGFPE);
    sigdelset(&set, SIGILL);
    sigdelset(&set, SIGTRAP);
    sigdelset(&set, SIGSYS);
    sigdelset(&set, SIGABRT);
    pthread_sigmask(SIG_BLOCK, &set, old);
}

void mv__guest_restore_signals(const sigset_t *old)
{
    pthread_sigmask(SIG_SETMASK, old, NULL);
}

locale_t mv__guest_c_locale_enter(locale_t *prev)
{
    locale_t c = newlocale(LC_ALL_MASK, "C", (locale_t)0);
    *prev = c ? uselocale(c) : (locale_t)0;
    return c;
}

void mv__guest_c_locale_leave(locale_t c, locale_t prev)
{
    if (!c)
        return;
    uselocale(prev);
    freelocale(c);
}
