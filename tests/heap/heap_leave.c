/* heap_leave.c — a parent whose forked children leave without exit
 * handlers, for heap_children.sh. While two threads churn malloc/free (so
 * the fork may catch the allocator and the profiler mid-call), the parent
 * leaks in parent_leak() for SECONDS and, FORK_AT seconds in, forks:
 *
 *   - a child that keeps CHILD_MIB MiB from child_exit_alloc() and calls
 *     _exit(0) (no atexit handler, no destructor runs);
 *   - a child that keeps CHILD_MIB MiB from child_exec_alloc() and execs
 *     /bin/true;
 *   - a child that churns malloc/free until a SIGALRM handler calls _exit
 *     (it may interrupt malloc: the profiler must skip or finish, never hang);
 *   - a vfork child that execs /bin/true (shares the parent's memory: the
 *     profiler must leave the parent's state alone).
 *
 * A child's last snapshot (the preload's _exit/exec wrappers) must not read
 * the allocator's figures: mallinfo2 takes the arena locks, which the
 * SIGALRM handler's _exit may hold already (the signal child once waited
 * on one for good). This program exports its own mallinfo2 (ENABLE_EXPORTS
 * in CMakeLists.txt), which the preload's call reaches; called on a thread
 * that is leaving, it ends the child with status 7.
 *
 * It writes "exit PID", "exec PID", "signal PID" to PIDFILE, waits for all
 * children (exit 3 when one did not end with status 0) and exits through
 * exit(). Usage: heap_leave PIDFILE [SECONDS [CHILD_MIB [FORK_AT]]]
 * (defaults 8, 16, 1). Built -O0 with
 * frame pointers (tests/heap/CMakeLists.txt) so each function is a frame. */
#include <dlfcn.h>
#include <malloc.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static atomic_int stop;
static volatile void *sink;

/* Set by a forked child's thread just before it leaves (_exit, exec). */
static __thread volatile sig_atomic_t leaving;

__attribute__((visibility("default"))) struct mallinfo2 mallinfo2(void)
{
    if (leaving) {
        static const char m[] = "heap_leave: mallinfo2 in a leaving snapshot\n";
        (void)!write(2, m, sizeof m - 1);
        syscall(SYS_exit_group, 7);
    }
    struct mallinfo2 (*real)(void) =
        (struct mallinfo2 (*)(void))dlsym(RTLD_NEXT, "mallinfo2");
    struct mallinfo2 none;
    memset(&none, 0, sizeof none);
    return real ? real() : none;
}

static void *churn(void *arg)
{
    (void)arg;
    unsigned seed = 11;
    void *keep[32] = {0};
    while (!atomic_load(&stop)) {
        int i = rand_r(&seed) % 32;
        free(keep[i]);
        keep[i] = malloc(16 + (size_t)rand_r(&seed) % 4096);
    }
    for (int i = 0; i < 32; i++)
        free(keep[i]);
    return NULL;
}

/* Keeps mib MiB in 64 KiB blocks, touched, never freed (live at the end).
 * A macro, so the malloc call sits in each named function: that function
 * is the allocation site. */
#define KEEP_MIB(mib)                                \
    for (size_t i_ = 0; i_ < (mib) * 16; i_++) {     \
        char *p_ = malloc(64 * 1024);                \
        if (p_)                                      \
            memset(p_, 1, 64 * 1024);                \
        sink = p_;                                   \
    }

static __attribute__((noinline)) void child_exit_alloc(size_t mib)
{
    KEEP_MIB(mib);
}

static __attribute__((noinline)) void child_exec_alloc(size_t mib)
{
    KEEP_MIB(mib);
}

static __attribute__((noinline)) void child_signal_alloc(size_t mib)
{
    KEEP_MIB(mib);
}

static __attribute__((noinline)) void parent_leak(void)
{
    KEEP_MIB(1);
}

static void on_alarm(int sig)
{
    (void)sig;
    leaving = 1;
    _exit(0);
}

static pid_t spawn_exit(size_t mib)
{
    pid_t p = fork();
    if (p == 0) {
        child_exit_alloc(mib);
        leaving = 1;
        _exit(0);
    }
    return p;
}

static pid_t spawn_exec(size_t mib)
{
    pid_t p = fork();
    if (p == 0) {
        child_exec_alloc(mib);
        leaving = 1;
        execl("/bin/true", "true", (char *)NULL);
        _exit(4);
    }
    return p;
}

static pid_t spawn_signal(void)
{
    pid_t p = fork();
    if (p == 0) {
        struct sigaction sa;
        memset(&sa, 0, sizeof sa);
        sa.sa_handler = on_alarm;
        sigaction(SIGALRM, &sa, NULL);
        child_signal_alloc(4);
        struct itimerval t = {{0, 0}, {0, 200000}};
        setitimer(ITIMER_REAL, &t, NULL);
        for (unsigned seed = 3;;)
            free(malloc(16 + (size_t)rand_r(&seed) % 65536));
    }
    return p;
}

static pid_t spawn_vfork(void)
{
    pid_t p = vfork();
    if (p == 0) {
        execl("/bin/true", "true", (char *)NULL);
        _exit(4);
    }
    return p;
}

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        fprintf(stderr, "usage: heap_leave PIDFILE [SECONDS [CHILD_MIB [FORK_AT]]]\n");
        return 2;
    }
    double seconds = argc > 2 ? atof(argv[2]) : 8;
    size_t mib = argc > 3 ? (size_t)atoi(argv[3]) : 16;
    double fork_at = argc > 4 ? atof(argv[4]) : 1;
    pthread_t t[2];
    for (int i = 0; i < 2; i++)
        pthread_create(&t[i], NULL, churn, NULL);
    double start = now_s();
    pid_t kids[4] = {0};
    int forked = 0;
    while (now_s() - start < seconds) {
        parent_leak();
        if (!forked && now_s() - start >= fork_at) {
            kids[0] = spawn_exit(mib);
            kids[1] = spawn_exec(mib);
            kids[2] = spawn_signal();
            kids[3] = spawn_vfork();
            forked = 1;
        }
        usleep(100000);
    }
    atomic_store(&stop, 1);
    for (int i = 0; i < 2; i++)
        pthread_join(t[i], NULL);
    FILE *f = fopen(argv[1], "w");
    if (!f)
        return 2;
    fprintf(f, "exit %ld\nexec %ld\nsignal %ld\n", (long)kids[0], (long)kids[1], (long)kids[2]);
    fclose(f);
    int bad = 0;
    for (int i = 0; i < 4; i++) {
        int st;
        if (kids[i] <= 0 || waitpid(kids[i], &st, 0) != kids[i] || !WIFEXITED(st) ||
            WEXITSTATUS(st) != 0) {
            fprintf(stderr, "heap_leave: child %d failed\n", i);
            bad = 1;
        }
    }
    return bad ? 3 : 0;
}
