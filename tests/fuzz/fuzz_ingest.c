/*
 * fuzz_ingest.c — libFuzzer target: `memvigil analyze` on arbitrary bytes.
 * The input goes through format detection and the recording, CSV or
 * Prometheus JSON parser (cli_ingest_buffer), and every series it yields is
 * replayed through the live leak detector (cli_replay), as analyze does.
 * The first byte picks the signal option, so --signal paths are explored.
 */
#include <stddef.h>
#include <stdint.h>

#include "ingest.h"
#include "replay.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const char *const signals[] = {NULL, "private", "rss", "usage", "bytes",
                                      "working_set"};

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    cli_ingest_opts o = {0};
    if (size > 0) {
        o.signal = signals[data[0] % (sizeof signals / sizeof signals[0])];
        data++;
        size--;
    }
    cli_series_set set = {0};
    mv_buf warn;
    mv_buf_init(&warn);
    char err[512];
    if (cli_ingest_buffer("fuzz", (const char *)data, size, &o, &set, &warn,
                          err, sizeof err) == 0) {
        for (size_t i = 0; i < set.n; i++) {
            cli_replay_result r;
            cli_replay(&set.s[i], MV_NA, 0, &r);
        }
    }
    cli_series_set_release(&set);
    mv_buf_release(&warn);
    return 0;
}
