/* snapdir.c — the heap profiler's output directory (MEMVIGIL_HEAP_DIR): creates
 * it, resumes this pid's sequence numbers, writes a file atomically (created
 * afresh as name.tmp, then renamed into place) and prunes the snapshots of
 * the whole directory down to MEMVIGIL_HEAP_KEEP.
 *
 * No state of its own: everything here reads mv__heap.cfg and reads or
 * writes mv__heap.seq, so callers hold mv__heap.snap_lock (snapshot.c).
 * Snapshot time only (the snapshot thread or the exit path, guard raised):
 * it allocates through libc and does I/O.
 */
#include "heap.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

/* ---- creating and writing files ---- */

int mv__heap_mkdir_p(const char *dir)
{
    char p[sizeof mv__heap.cfg.dir];
    snprintf(p, sizeof p, "%s", dir);
    for (char *c = p + 1; *c; c++) {
        if (*c != '/')
            continue;
        *c = 0;
        if (mkdir(p, 0700) != 0 && errno != EEXIST)
            return -errno;
        *c = '/';
    }
    if (mkdir(p, 0700) != 0 && errno != EEXIST)
        return -errno;
    return 0;
}

/* First snapshot of this pid: continue after files already there (an exec
 * keeps the pid). */
void mv__heap_seq_resume(void)
{
    DIR *d = opendir(mv__heap.cfg.dir);
    if (!d)
        return;
    char prefix[32];
    int pl = snprintf(prefix, sizeof prefix, "heap-%ld-", (long)mv__heap.pid);
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        if (strncmp(e->d_name, prefix, (size_t)pl) != 0)
            continue;
        unsigned long long s = strtoull(e->d_name + pl, NULL, 10);
        if (s > mv__heap.seq)
            mv__heap.seq = s;
    }
    closedir(d);
}

/* Creates tmp afresh: whatever has that name is removed first, then the
 * file is created exclusively without following a symlink. Any process of
 * the same user can write the directory, and a FIFO planted at tmp would
 * block an open for writing forever (in the host's exit path), a symlink
 * would redirect the write. A descriptor or -errno. */
static int create_fresh(const char *tmp)
{
    if (unlink(tmp) != 0 && errno != ENOENT)
        return -errno;
    int fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0644);
    return fd < 0 ? -errno : fd;
}

/* Profiles up to this size are stored in the gzip member, not compressed:
 * deflate costs ~200k instructions whatever the input's size (Debian's
 * zlib 1.2.13, level 1-6, any strategy; stored: ~13k), about what the
 * whole sampling of a short run costs (bench/heap/README.md, "Overhead,
 * fourth pass"), to save ~1 KiB a file. */
#define GZIP_STORE_MAX 4096

/* data[0..n) as a gzip member in a malloc'd *out of *outn bytes. zlib's
 * window and hash table are sized to the input (2^9..2^15 bytes, memLevel
 * 1..8 alongside; a window no smaller than the input loses no match): a
 * snapshot is often a few KiB, and the default 32 KiB window and 64 KiB
 * hash are set up and cleared for every file. 0 or -ENOMEM / -EIO. */
static int gzip_buf(const void *data, size_t n, unsigned char **out, size_t *outn)
{
    int wbits = 9;
    while (wbits < 15 && ((size_t)1 << wbits) < n)
        wbits++;
    int mem_level = wbits - 7 < 1 ? 1 : wbits - 7;
    int level = n <= GZIP_STORE_MAX ? 0 : 6;
    z_stream z;
    memset(&z, 0, sizeof z);
    if (deflateInit2(&z, level, Z_DEFLATED, wbits + 16, mem_level, Z_DEFAULT_STRATEGY) != Z_OK)
        return -ENOMEM;
    uLong cap = deflateBound(&z, (uLong)n);
    unsigned char *buf = malloc(cap);
    if (!buf) {
        deflateEnd(&z);
        return -ENOMEM;
    }
    z.next_in = (Bytef *)(uintptr_t)data;
    z.avail_in = (uInt)n;
    z.next_out = buf;
    z.avail_out = (uInt)cap;
    int zr = deflate(&z, Z_FINISH);
    deflateEnd(&z);
    if (zr != Z_STREAM_END) {
        free(buf);
        return -EIO;
    }
    *out = buf;
    *outn = cap - z.avail_out;
    return 0;
}

int mv__heap_write_atomic(const char *path, const char *tmp, const void *data, size_t n, int gz)
{
    unsigned char *zbuf = NULL;
    if (gz) {
        if (n > UINT32_MAX / 2)
            return -EFBIG;
        int zrc = gzip_buf(data, n, &zbuf, &n);
        if (zrc)
            return zrc;
        data = zbuf;
    }
    int rc = 0;
    int fd = create_fresh(tmp);
    if (fd < 0) {
        free(zbuf);
        return fd;
    }
    const char *c = data;
    while (n) {
        ssize_t w = write(fd, c, n);
        if (w < 0) {
            if (errno == EINTR)
                continue;
            rc = -errno;
            break;
        }
        c += w;
        n -= (size_t)w;
    }
    if (close(fd) != 0 && !rc)
        rc = -errno;
    free(zbuf);
    if (!rc && rename(tmp, path) != 0)
        rc = -errno;
    if (rc)
        unlink(tmp);
    return rc;
}

/* ---- pruning the directory ---- */

typedef struct snap_file {
    int64_t mtime_ns;
    long pid;
    unsigned long long seq;
} snap_file;

/* Parses "heap-<pid>-<seq>.pb.gz" (the name the CLI's heapdir.c reads).
 * Returns 1 and fills pid and seq, or 0 for any other name. */
static int parse_snap_name(const char *name, long *pid, unsigned long long *seq)
{
    char *end;
    if (strncmp(name, "heap-", 5) != 0)
        return 0;
    *pid = strtol(name + 5, &end, 10);
    if (end == name + 5 || *end != '-' || *pid <= 0)
        return 0;
    const char *s = end + 1;
    if (*s < '0' || *s > '9')
        return 0;
    *seq = strtoull(s, &end, 10);
    return strcmp(end, ".pb.gz") == 0;
}

static int snap_older(const void *a, const void *b)
{
    const snap_file *x = a, *y = b;
    if (x->mtime_ns != y->mtime_ns)
        return x->mtime_ns < y->mtime_ns ? -1 : 1;
    if (x->pid != y->pid)
        return x->pid < y->pid ? -1 : 1;
    return x->seq < y->seq ? -1 : x->seq > y->seq;
}

/* Lists the snapshots in dir into *out (malloc'd, caller frees). Count, or
 * -errno (then *out is NULL). */
static long list_snaps(DIR *d, snap_file **out)
{
    size_t n = 0, cap = 0;
    snap_file *v = NULL;
    struct dirent *e;
    *out = NULL;
    while ((e = readdir(d)) != NULL) {
        snap_file f;
        struct stat sb;
        if (!parse_snap_name(e->d_name, &f.pid, &f.seq) ||
            fstatat(dirfd(d), e->d_name, &sb, AT_SYMLINK_NOFOLLOW) != 0)
            continue;
        f.mtime_ns = (int64_t)sb.st_mtim.tv_sec * 1000000000 + sb.st_mtim.tv_nsec;
        if (n == cap) {
            size_t nc = cap ? cap * 2 : 64;
            snap_file *nv = realloc(v, nc * sizeof *nv);
            if (!nv) {
                free(v);
                return -ENOMEM;
            }
            v = nv;
            cap = nc;
        }
        v[n++] = f;
    }
    *out = v;
    return (long)n;
}

/* 1 when some snapshot in v[from..n) belongs to pid. */
static int pid_has_snap(const snap_file *v, size_t from, size_t n, long pid)
{
    for (size_t i = from; i < n; i++)
        if (v[i].pid == pid)
            return 1;
    return 0;
}

/* Deletes the oldest snapshots of the directory beyond cfg.keep (any pid,
 * never this pid's newest), then status-<pid>.json of other pids left with
 * no snapshot. Races with other processes pruning the same directory are
 * harmless: a file already gone is skipped. */
void mv__heap_prune_dir(void)
{
    DIR *d = opendir(mv__heap.cfg.dir);
    if (!d)
        return;
    snap_file *v;
    long n = list_snaps(d, &v);
    if (n > 0) {
        qsort(v, (size_t)n, sizeof *v, snap_older);
        size_t drop = (size_t)n > mv__heap.cfg.keep ? (size_t)n - mv__heap.cfg.keep : 0;
        char name[64];
        for (size_t i = 0; i < drop; i++) {
            if (v[i].pid == (long)mv__heap.pid && v[i].seq == mv__heap.seq)
                continue;
            snprintf(name, sizeof name, "heap-%ld-%06llu.pb.gz", v[i].pid, v[i].seq);
            unlinkat(dirfd(d), name, 0);
        }
        for (size_t i = 0; i < drop; i++) {
            if (v[i].pid == (long)mv__heap.pid || pid_has_snap(v, drop, (size_t)n, v[i].pid) ||
                pid_has_snap(v, 0, i, v[i].pid))
                continue; /* ours, kept, or already handled */
            snprintf(name, sizeof name, "status-%ld.json", v[i].pid);
            unlinkat(dirfd(d), name, 0);
        }
    }
    free(v);
    closedir(d);
}
