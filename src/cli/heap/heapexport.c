/*
 * heapexport.c — `memvigil heap symbolize` and the shared step behind it and
 * /debug/pprof/heap: symbolize a profile into Function records, encode it,
 * gzip it (see heapexport.h).
 *
 * The symbolizing happens here, in memvigil, never in the profiled process:
 * libmemvigil_heap.so writes address-only snapshots (cheap, no debug info
 * read in the host), and the agent or this command, which can take the time
 * and memory libdw needs, turns them into profiles that stand alone.
 * Output files are written to a temporary name in the same directory and
 * renamed, so a reader never sees half a profile.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "heapexport.h"
#include "util.h"

int cli_heap_export(cli_pprof *p, cli_symbolizer *sym, mv_buf *out)
{
    mv_buf raw;
    int rc = 0;

    if (sym)
        rc = cli_pprof_symbolize(p, cli_symbolize, sym);
    if (rc)
        return rc;
    mv_buf_init(&raw);
    rc = cli_pprof_encode(p, &raw);
    if (!rc)
        rc = cli_pprof_gzip(raw.data ? raw.data : "", raw.len, out);
    mv_buf_release(&raw);
    return rc;
}

/* Writes all of data to fd. 0 or -errno. */
static int write_all(int fd, const char *data, size_t n)
{
    while (n > 0) {
        ssize_t w = write(fd, data, n);
        if (w < 0 && errno == EINTR)
            continue;
        if (w < 0)
            return -errno;
        data += w;
        n -= (size_t)w;
    }
    return 0;
}

/* Writes data to path through path.tmp-PID and a rename. 0 or -errno. */
static int write_file(const char *path, const mv_buf *data)
{
    char tmp[4200];
    int fd, rc;

    if (snprintf(tmp, sizeof tmp, "%s.tmp-%ld", path, (long)getpid()) >=
        (int)sizeof tmp)
        return -ENAMETOOLONG;
    fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
    if (fd < 0)
        return -errno;
    rc = write_all(fd, data->data ? data->data : "", data->len);
    if (!rc && fsync(fd) != 0)
        rc = -errno;
    if (close(fd) != 0 && !rc)
        rc = -errno;
    if (!rc && rename(tmp, path) != 0)
        rc = -errno;
    if (rc)
        unlink(tmp);
    return rc;
}

int cli_heap_symbolize_cmd(const char *in, const char *out, int symbolize)
{
    cli_symbolizer *sym = NULL;
    cli_pprof p;
    mv_buf gz;
    int to_stdout = !out || !strcmp(out, "-");
    int rc;

    if (to_stdout && isatty(STDOUT_FILENO))
        return cli_usage_error("heap", "symbolize writes a binary profile: "
                               "name the output with -o FILE (or redirect "
                               "stdout)");
    memset(&p, 0, sizeof p);
    rc = cli_pprof_load(in, &p);
    if (rc) {
        cli_error("heap", "cannot read %s: %s", in, cli_pprof_strerror(rc));
        return CLI_EXIT_ERROR;
    }
    if (symbolize && !(sym = cli_symbolizer_new())) {
        cli_pprof_release(&p);
        cli_error("heap", "out of memory");
        return CLI_EXIT_ERROR;
    }
    mv_buf_init(&gz);
    rc = cli_heap_export(&p, sym, &gz);
    if (rc) {
        cli_error("heap", "cannot symbolize %s: %s", in, strerror(-rc));
    } else {
        rc = to_stdout ? write_all(STDOUT_FILENO, gz.data ? gz.data : "",
                                   gz.len)
                       : write_file(out, &gz);
        if (rc)
            cli_error("heap", "cannot write %s: %s", to_stdout ? "stdout" : out,
                      strerror(-rc));
    }
    mv_buf_release(&gz);
    cli_pprof_release(&p);
    cli_symbolizer_free(sym);
    return rc ? CLI_EXIT_ERROR : CLI_EXIT_OK;
}
