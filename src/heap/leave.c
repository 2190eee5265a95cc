/* leave.c — a last snapshot for a process that leaves without exit handlers.
 *
 * The exit snapshot is a destructor (snapshot.c), and destructors run only
 * through exit(). A forked child that ends with _exit/_Exit (the usual way
 * after fork) or replaces itself with exec* would leave no trace of what it
 * allocated. These wrappers write that snapshot, then call the real
 * function. The snapshot comes from mv__heap_snapshot_leaving, which never
 * enters the real allocator (a leaving arena, interpose.c) and skips rather
 * than risk a deadlock: _exit may run in a signal handler that interrupted
 * malloc or the profiler itself, or in a vfork child sharing its parent's
 * memory.
 *
 * The real functions are resolved by the constructor (dlsym allocates; the
 * wrappers may run where allocating is unsafe). _exit and _Exit without a
 * resolved symbol fall back to the exit_group system call, which is all
 * they are. The execl* forms build an argv on the stack and go through
 * execv/execvp/execve, as glibc's own do. posix_spawn is not wrapped: its
 * child shares the parent's memory until it execs, and its exec is glibc's
 * internal one. errno is the real function's.
 */
#include "heap.h"

#include <dlfcn.h>
#include <errno.h>
#include <stdarg.h>
#include <sys/syscall.h>
#include <unistd.h>

#define EXPORT __attribute__((visibility("default")))

/* Written once by the constructor, before main; read-only afterwards. */
static struct {
    void (*exit_)(int);
    int (*execve)(const char *, char *const[], char *const[]);
    int (*execv)(const char *, char *const[]);
    int (*execvp)(const char *, char *const[]);
    int (*execvpe)(const char *, char *const[], char *const[]);
    int (*fexecve)(int, char *const[], char *const[]);
} real;

__attribute__((constructor)) static void leave_resolve(void)
{
    mv__heap_guard_enter();
    real.exit_ = (void (*)(int))dlsym(RTLD_NEXT, "_exit");
    real.execve = (int (*)(const char *, char *const[], char *const[]))dlsym(RTLD_NEXT, "execve");
    real.execv = (int (*)(const char *, char *const[]))dlsym(RTLD_NEXT, "execv");
    real.execvp = (int (*)(const char *, char *const[]))dlsym(RTLD_NEXT, "execvp");
    real.execvpe = (int (*)(const char *, char *const[], char *const[]))dlsym(RTLD_NEXT, "execvpe");
    real.fexecve = (int (*)(int, char *const[], char *const[]))dlsym(RTLD_NEXT, "fexecve");
    mv__heap_guard_leave();
}

static _Noreturn void leave_exit(int status)
{
    (void)mv__heap_snapshot_leaving();
    if (real.exit_)
        real.exit_(status);
    for (;;)
        syscall(SYS_exit_group, status);
}

EXPORT void _exit(int status)
{
    leave_exit(status);
}

EXPORT void _Exit(int status)
{
    leave_exit(status);
}

/* A missing real exec (it cannot be, in glibc) fails as unsupported. */
static int no_exec(void)
{
    errno = ENOSYS;
    return -1;
}

EXPORT int execve(const char *path, char *const argv[], char *const envp[])
{
    (void)mv__heap_snapshot_leaving();
    return real.execve ? real.execve(path, argv, envp) : no_exec();
}

EXPORT int execv(const char *path, char *const argv[])
{
    (void)mv__heap_snapshot_leaving();
    return real.execv ? real.execv(path, argv) : no_exec();
}

EXPORT int execvp(const char *file, char *const argv[])
{
    (void)mv__heap_snapshot_leaving();
    return real.execvp ? real.execvp(file, argv) : no_exec();
}

EXPORT int execvpe(const char *file, char *const argv[], char *const envp[])
{
    (void)mv__heap_snapshot_leaving();
    return real.execvpe ? real.execvpe(file, argv, envp) : no_exec();
}

EXPORT int fexecve(int fd, char *const argv[], char *const envp[])
{
    (void)mv__heap_snapshot_leaving();
    return real.fexecve ? real.fexecve(fd, argv, envp) : no_exec();
}

/* ---- the list forms: argv on the stack, then the vector form ---- */

/* Arguments after `arg0` up to and including the terminating NULL. */
static size_t count_args(va_list ap)
{
    size_t n = 1;
    while (va_arg(ap, const char *) != NULL)
        n++;
    return n;
}

/* Fills argv[0..n] from arg0 and ap (n args, then NULL). */
static void fill_args(char **argv, size_t n, const char *arg0, va_list ap)
{
    argv[0] = (char *)arg0;
    for (size_t i = 1; i < n; i++)
        argv[i] = va_arg(ap, char *);
    argv[n] = NULL;
}

#define LIST_TO_VECTOR(arg0, argv)                                   \
    va_list ap;                                                      \
    va_start(ap, arg0);                                              \
    size_t n_ = count_args(ap);                                      \
    va_end(ap);                                                      \
    if (n_ > 1u << 20) {                                             \
        errno = E2BIG;                                               \
        return -1;                                                   \
    }                                                                \
    char *argv[n_ + 1];                                              \
    va_start(ap, arg0);                                              \
    fill_args(argv, n_, arg0, ap)

EXPORT int execl(const char *path, const char *arg, ...)
{
    LIST_TO_VECTOR(arg, argv);
    va_end(ap);
    return execv(path, argv);
}

EXPORT int execlp(const char *file, const char *arg, ...)
{
    LIST_TO_VECTOR(arg, argv);
    va_end(ap);
    return execvp(file, argv);
}

EXPORT int execle(const char *path, const char *arg, ...)
{
    LIST_TO_VECTOR(arg, argv);
    char *const *envp = va_arg(ap, char *const *); /* after the NULL */
    va_end(ap);
    return execve(path, argv, envp);
}
