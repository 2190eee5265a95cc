/*
 * fuzz_kmsg.c — libFuzzer target: the kernel log as the OOM-kill watch
 * reads it (src/lib/probe/oom_report.c) on arbitrary bytes. The input is
 * split into records as a regular file read by oom_watch.c would be, each
 * record split into its kmsg prefix and text and fed to one parser (so
 * summaries and kills from different records meet), and the whole input is
 * also read as /proc/vmstat. Every kill found must hold what the parser
 * promises: a positive pid, terminated strings, figures >= 0 or MV_NA.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "oom_report.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check(const mv_oom_kill *k)
{
    if (k->pid <= 0 || memchr(k->comm, '\0', sizeof k->comm) == NULL ||
        memchr(k->task_cgroup, '\0', sizeof k->task_cgroup) == NULL ||
        memchr(k->oom_cgroup, '\0', sizeof k->oom_cgroup) == NULL)
        abort();
    const int64_t figs[] = {k->anon_rss_bytes, k->file_rss_bytes, k->shmem_rss_bytes,
                            k->total_vm_bytes, k->pgtables_bytes, k->uid};
    for (size_t i = 0; i < sizeof figs / sizeof figs[0]; i++)
        if (figs[i] < 0 && figs[i] != MV_NA)
            abort();
    if (k->anon_rss_bytes == MV_NA)  /* required of a kill */
        abort();
    if (k->oom_score_adj != MV_OOM_SCORE_ADJ_NA &&
        (k->oom_score_adj < -1000 || k->oom_score_adj > 1000))
        abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *p = (const char *)data, *end = p + size;
    mv__oom_parser parser;
    mv__oom_parser_init(&parser);
    while (p < end) {
        const char *nl = memchr(p, '\n', (size_t)(end - p));
        size_t len = (size_t)((nl ? nl + 1 : end) - p);
        int64_t seq, ts;
        const char *text;
        size_t tlen;
        if (mv__kmsg_record_split(p, len, &seq, &ts, &text, &tlen) == 0) {
            mv_oom_kill k;
            if (mv__oom_parser_feed(&parser, seq, ts, text, tlen, &k)) {
                check(&k);
                (void)mv__oom_kill_in_target(&k, &k.pid, 1, "/a");
            }
        }
        p += len;
    }
    char *z = malloc(size + 1);
    if (z) {
        memcpy(z, data, size);
        z[size] = '\0';
        int64_t v = mv__parse_vmstat_oom_kill(z);
        if (v < 0 && v != MV_NA)
            abort();
        free(z);
    }
    return 0;
}
