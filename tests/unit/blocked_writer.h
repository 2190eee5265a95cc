/*
 * blocked_writer.h — for tests that a reader never opens a FIFO it was
 * given (test_cli_pprof.c, test_cli_symbolize.c): a child blocked in open()
 * of the FIFO for writing stays blocked only if nobody opened it for
 * reading. Test code only (cmocka asserts).
 */
#ifndef MV_TEST_BLOCKED_WRITER_H
#define MV_TEST_BLOCKED_WRITER_H

#include <fcntl.h>
#include <signal.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

/* A child that opens the FIFO path for writing: blocked in open() until a
 * reader opens it, then writes a byte and exits. The pause lets it reach
 * the open() before the reader under test runs. */
static inline pid_t blocked_writer(const char *path)
{
    pid_t pid = fork();

    assert_true(pid >= 0);
    if (pid == 0) {
        int fd = open(path, O_WRONLY);
        if (fd >= 0 && write(fd, "x", 1) != 1)
            _exit(2);
        _exit(0);
    }
    usleep(100 * 1000);
    return pid;
}

/* Is the writer still blocked in its open() a moment later? Reaps it. */
static inline int writer_still_blocked(pid_t pid)
{
    int status;
    pid_t r;

    usleep(200 * 1000);
    r = waitpid(pid, &status, WNOHANG);
    if (r == 0) {
        kill(pid, SIGKILL);
        waitpid(pid, &status, 0);
    }
    return r == 0;
}

#endif /* MV_TEST_BLOCKED_WRITER_H */
