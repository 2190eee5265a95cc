/* heap_fork.c — forks repeatedly while 8 threads allocate (with a tiny
 * sampling interval the profiler's locks are held most of the time). Each
 * child allocates (so it samples), and exits through exit() (so it writes its
 * own snapshot); one child asks for a snapshot by signal and waits for the
 * file, proving the child restarts its snapshot thread. No deadlock: the
 * harness runs this with a timeout. Exit 0 on success. */
#include <dirent.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

static atomic_int stop;

static void *spin_alloc(void *arg)
{
    (void)arg;
    unsigned seed = 7;
    void *keep[64] = {0};
    while (!atomic_load(&stop)) {
        int i = rand_r(&seed) % 64;
        free(keep[i]);
        keep[i] = malloc(1 + (size_t)rand_r(&seed) % 8192);
    }
    for (int i = 0; i < 64; i++)
        free(keep[i]);
    return NULL;
}

static int has_file(const char *dir, long pid)
{
    char name[64];
    snprintf(name, sizeof name, "heap-%ld-000001.pb.gz", pid);
    DIR *d = opendir(dir);
    if (!d)
        return 0;
    struct dirent *e;
    int found = 0;
    while ((e = readdir(d)) != NULL)
        if (strcmp(e->d_name, name) == 0)
            found = 1;
    closedir(d);
    return found;
}

static void child(int n, const char *dir)
{
    void *v[100];
    for (int i = 0; i < 100; i++)
        v[i] = malloc(1000 + (size_t)i * 10);
    for (int i = 0; i < 100; i++)
        free(v[i]);
    if (n == 0) {
        raise(SIGRTMIN + 8);
        for (int i = 0; i < 500 && !has_file(dir, (long)getpid()); i++) {
            free(malloc(4096));
            usleep(10000);
        }
        exit(has_file(dir, (long)getpid()) ? 0 : 7);
    }
    exit(0);
}

int main(int argc, char **argv)
{
    int forks = argc > 1 ? atoi(argv[1]) : 100;
    const char *dir = getenv("MEMVIGIL_HEAP_DIR");
    if (!dir)
        return 2;
    pthread_t t[8];
    for (int i = 0; i < 8; i++)
        pthread_create(&t[i], NULL, spin_alloc, NULL);
    int bad = 0;
    for (int i = 0; i < forks; i++) {
        pid_t p = fork();
        if (p < 0)
            return 3;
        if (p == 0)
            child(i, dir);
        int st;
        if (waitpid(p, &st, 0) != p || !WIFEXITED(st) || WEXITSTATUS(st) != 0) {
            fprintf(stderr, "child %d failed (status %d)\n", i, st);
            bad++;
        }
    }
    atomic_store(&stop, 1);
    for (int i = 0; i < 8; i++)
        pthread_join(t[i], NULL);
    printf("forks=%d bad=%d\n", forks, bad);
    return bad ? 1 : 0;
}
