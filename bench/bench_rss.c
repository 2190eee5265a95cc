/*
 * bench_rss.c — the resident memory the embedded monitor adds to a service.
 *
 * Each run is a fresh process (this program re-executed with --one), so runs
 * do not share warmed-up heap: it warms up the things any C service already
 * has paged in (stdio, malloc, a socket), reads its own VmRSS / RssAnon /
 * RssFile from /proc/self/status, starts a monitor on itself with a 100 ms
 * interval and the HTTP endpoint on, lets it run for 3 s while scraping
 * /metrics a few times over loopback, and reads them again. The delta
 * counts everything the monitor costs in RAM: its heap (series ring,
 * registry, buffers), the touched part of the sampler and HTTP thread
 * stacks, a malloc arena per new thread, and the library code pages it
 * faults in (RssFile; the bench links the static library, so those pages
 * are part of this executable, as they would be of a shared libmemvigil).
 *
 * The parent prints the median over --runs runs (5 by default).
 * Target: <= 2 MiB added.
 *
 * Usage: bench_rss [--runs N] [--seconds S] [--port P]
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "bench_util.h"
#include "memvigil.h"

/* One GET /metrics over a fresh connection, reading until the server closes.
 * Returns the bytes received, or -1. The buffer is on the stack on purpose:
 * the scrapes should not add heap of their own to the measurement. */
static long scrape(int port)
{
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return -1;
    struct sockaddr_in a;
    memset(&a, 0, sizeof a);
    a.sin_family = AF_INET;
    a.sin_port = htons((uint16_t)port);
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    struct timeval tv = { 5, 0 };
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    long total = -1;
    if (connect(fd, (struct sockaddr *)&a, sizeof a) == 0) {
        static const char req[] = "GET /metrics HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                                  "Connection: close\r\n\r\n";
        if (send(fd, req, sizeof req - 1, MSG_NOSIGNAL) == (ssize_t)(sizeof req - 1)) {
            char buf[16384];
            ssize_t n;
            total = 0;
            while ((n = recv(fd, buf, sizeof buf, 0)) > 0)
                total += n;
            if (n < 0)
                total = -1;
        }
    }
    close(fd);
    return total;
}

/* The measured process. Prints "rss <delta> anon <delta> file <delta>". */
static int run_one(int seconds, int port)
{
    /* warm-up: what a service has already paged in before it embeds us */
    char *warm = malloc(1 << 16);
    if (warm != NULL)
        memset(warm, 1, 1 << 16);
    free(warm);
    (void)scrape(1); /* socket code path; nothing listens on port 1 */
    (void)mv_version();
    bench_sleep_ms(200);

    int64_t rss0 = bench_status_kb_field(0, "VmRSS");
    int64_t anon0 = bench_status_kb_field(0, "RssAnon");
    int64_t file0 = bench_status_kb_field(0, "RssFile");

    mv_config cfg;
    mv_config_init(&cfg);
    cfg.interval_ms = 100;
    mv_monitor *m = NULL;
    int rc = -EADDRINUSE;
    char listen[32];
    for (int i = 0; i < 50 && rc == -EADDRINUSE; i++) {
        snprintf(listen, sizeof listen, "127.0.0.1:%d", port + i);
        cfg.http_listen = listen;
        rc = mv_monitor_start(&cfg, &m);
        if (rc == 0)
            port += i;
    }
    if (rc != 0) {
        fprintf(stderr, "bench_rss: mv_monitor_start: %s\n", mv_strerror(rc));
        return 1;
    }
    int scrapes_ok = 0;
    for (int t = 0; t < seconds * 10; t++) {
        bench_sleep_ms(100);
        if (t % 5 == 4 && scrape(port) > 0)
            scrapes_ok++;
    }
    int64_t rss1 = bench_status_kb_field(0, "VmRSS");
    int64_t anon1 = bench_status_kb_field(0, "RssAnon");
    int64_t file1 = bench_status_kb_field(0, "RssFile");
    mv_status st;
    int64_t ticks = mv_monitor_status(m, &st) == 0 ? st.samples_taken : -1;
    mv_monitor_stop(m);
    if (rss0 < 0 || rss1 < 0 || scrapes_ok == 0) {
        fprintf(stderr, "bench_rss: could not read VmRSS or scrape (%d scrapes)\n",
                scrapes_ok);
        return 1;
    }
    printf("rss %lld anon %lld file %lld ticks %lld scrapes %d\n",
           (long long)(rss1 - rss0), (long long)(anon1 - anon0),
           (long long)(file1 - file0), (long long)ticks, scrapes_ok);
    return 0;
}

int main(int argc, char **argv)
{
    int runs = 5, seconds = 3, port = 0, one = 0;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--runs") == 0 && i + 1 < argc)
            runs = atoi(argv[++i]);
        else if (strcmp(argv[i], "--seconds") == 0 && i + 1 < argc)
            seconds = atoi(argv[++i]);
        else if (strcmp(argv[i], "--port") == 0 && i + 1 < argc)
            port = atoi(argv[++i]);
        else if (strcmp(argv[i], "--one") == 0)
            one = 1;
        else {
            fprintf(stderr, "usage: bench_rss [--runs N] [--seconds S] [--port P]\n");
            return 2;
        }
    }
    if (runs < 1 || runs > 100 || seconds < 1 || port < 0 || port > 60000) {
        fprintf(stderr, "bench_rss: --runs 1..100, --seconds >= 1, --port 1..60000\n");
        return 2;
    }
    if (port == 0)
        port = 20000 + (int)(getpid() % 20000);
    if (one)
        return run_one(seconds, port);

    double *rss = calloc((size_t)runs, sizeof *rss);
    double *anon = calloc((size_t)runs, sizeof *anon);
    double *file = calloc((size_t)runs, sizeof *file);
    if (rss == NULL || anon == NULL || file == NULL)
        return 1;
    for (int r = 0; r < runs; r++) {
        int fds[2];
        if (pipe(fds) != 0)
            return 1;
        pid_t pid = fork();
        if (pid < 0)
            return 1;
        if (pid == 0) {
            char secs[16], portbuf[16];
            snprintf(secs, sizeof secs, "%d", seconds);
            snprintf(portbuf, sizeof portbuf, "%d", port + r * 50);
            dup2(fds[1], 1);
            close(fds[0]);
            close(fds[1]);
            execl("/proc/self/exe", "bench_rss", "--one", "--seconds", secs,
                  "--port", portbuf, (char *)NULL);
            _exit(127);
        }
        close(fds[1]);
        char line[256] = { 0 };
        size_t len = 0;
        ssize_t n;
        while (len < sizeof line - 1 &&
               (n = read(fds[0], line + len, sizeof line - 1 - len)) > 0)
            len += (size_t)n;
        close(fds[0]);
        int status;
        waitpid(pid, &status, 0);
        long long d_rss, d_anon, d_file, ticks;
        int scrapes;
        if (!WIFEXITED(status) || WEXITSTATUS(status) != 0 ||
            sscanf(line, "rss %lld anon %lld file %lld ticks %lld scrapes %d", &d_rss,
                   &d_anon, &d_file, &ticks, &scrapes) != 5) {
            fprintf(stderr, "bench_rss: run %d failed\n", r);
            return 1;
        }
        printf("# run %d: rss +%lld KiB (anon +%lld, file +%lld), %lld ticks, %d scrapes\n",
               r, d_rss / 1024, d_anon / 1024, d_file / 1024, ticks, scrapes);
        rss[r] = (double)d_rss;
        anon[r] = (double)d_anon;
        file[r] = (double)d_file;
    }
    bench_result("rss_added_median_kib", bench_quantile(rss, (size_t)runs, 0.5) / 1024);
    bench_result("rss_added_anon_median_kib", bench_quantile(anon, (size_t)runs, 0.5) / 1024);
    bench_result("rss_added_file_median_kib", bench_quantile(file, (size_t)runs, 0.5) / 1024);
    bench_result("rss_added_median_mib", bench_quantile(rss, (size_t)runs, 0.5) / 1048576);
    free(rss);
    free(anon);
    free(file);
    return 0;
}
