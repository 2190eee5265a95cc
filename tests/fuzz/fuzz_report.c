/*
 * fuzz_report.c — libFuzzer target: `memvigil report` and `memvigil
 * estimate` on arbitrary bytes. The input is read as a recording by the
 * tolerant reader into the report model (cli_report_build), rendered as
 * text, Markdown, JSON and HTML, and each progress counter is fitted and
 * planned as estimate does.
 */
#include <math.h>
#include <stddef.h>
#include <stdint.h>

#include "estimate.h"
#include "report.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void render_all(const cli_report *r)
{
    static const cli_report_assets assets = {"", 0, "", 0};
    mv_buf out;
    mv_buf_init(&out);
    cli_report_text(r, &out);
    out.len = 0;
    cli_report_markdown(r, &out);
    out.len = 0;
    cli_report_json(r, &out);
    out.len = 0;
    cli_report_html(r, &assets, &out);
    mv_buf_release(&out);
}

static void estimate_all(const cli_report *r)
{
    for (size_t i = 0; i < r->nprogress; i++) {
        const cli_report_progress *p = &r->progress[i];
        cli_estimate e;
        char err[256];
        if (cli_estimate_fit(p->units, p->private_bytes, p->npts, &e, err,
                             sizeof err) != 0)
            continue;
        double memory = r->limit_bytes > 0 ? (double)r->limit_bytes : NAN;
        cli_estimate_plan(&e, e.u_max * 2, 0.2, memory);
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    cli_report r;
    char err[512];
    if (cli_report_build("fuzz", (const char *)data, size, NULL, &r, err,
                         sizeof err) != 0)
        return 0;
    cli_report_finish(&r);
    render_all(&r);
    estimate_all(&r);
    cli_report_release(&r);
    return 0;
}
