/*
 * cmd_estimate.c — `memvigil estimate`: capacity planning from memory per
 * unit of work, either fitted from a recording's progress checkpoints or
 * given by hand (--per-unit BYTES --units N).
 *
 * Design: the recording is read with the report's model builder (one reader
 * for both commands, so a file that renders also estimates); the fit and
 * the plan are the pure functions of estimate.c. Without --units the plan is
 * for the largest amount of work seen, plus 2x and 10x in the text output,
 * because "what if the input doubles" is the usual question.
 */
#include <errno.h>
#include <getopt.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "estimate.h"
#include "record.h"
#include "report.h"
#include "util.h"

const char cli_estimate_usage[] =
    "usage: memvigil estimate [options] RECORDING\n"
    "       memvigil estimate --per-unit BYTES --units N [options]\n"
    "\n"
    "Capacity planning from memory per unit of work. From a recording with\n"
    "progress counters (mv_progress_add): fits private memory against units\n"
    "done, says whether memory per unit is flat (linear) or rising\n"
    "(superlinear, with the fitted exponent), and gives the memory N units\n"
    "need with a safety margin, a recommended limit, and how many such jobs\n"
    "fit in a memory budget. --per-unit gives the linear model by hand.\n"
    "\n"
    "  --units N             plan for N units (default: the most seen)\n"
    "  --unit NAME           which progress counter (default: the first)\n"
    "  --per-unit BYTES      memory per unit (no recording needed)\n"
    "  --base BYTES          memory at zero units with --per-unit (default 0)\n"
    "  --margin PCT          safety margin, e.g. 25% or 0.25 (default 25%)\n"
    "  --memory BYTES        budget for concurrency (default: the recording's\n"
    "                        limit, when known)\n"
    "  --json                one JSON object\n"
    "  -h, --help            this help\n"
    "\n"
    "Exits 0, 1 when the recording cannot be used (no progress counters),\n"
    "2 on usage errors.\n";

static int parse_count(const char *s, double *out)
{
    char *end;
    errno = 0;
    double v = strtod(s, &end);
    if (errno || end == s || !isfinite(v) || v <= 0)
        return -EINVAL;
    if (*end == 'k' || *end == 'K')
        v *= 1e3, end++;
    else if (*end == 'M')
        v *= 1e6, end++;
    else if (*end == 'G')
        v *= 1e9, end++;
    if (*end)
        return -EINVAL;
    *out = v;
    return 0;
}

static int parse_margin(const char *s, double *out)
{
    char *end;
    errno = 0;
    double v = strtod(s, &end);
    if (errno || end == s || !isfinite(v) || v < 0)
        return -EINVAL;
    if (*end == '%') {
        v /= 100;
        end++;
    }
    if (*end || v > 10)
        return -EINVAL;
    *out = v;
    return 0;
}

static void print_json(const cli_estimate *e, const char *unit, const char *source)
{
    mv_buf b = {0};
    mv__buf_puts(&b, "{\"source\":");
    mv__buf_json_string(&b, source ? source : "");
    mv__buf_puts(&b, ",\"unit\":");
    mv__buf_json_string(&b, unit);
    mv__buf_printf(&b, ",\"model\":\"%s\"", e->from_data ? "fitted" : "per_unit");
    mv__buf_printf(&b, ",\"points\":%zu", e->points);
    mv__buf_printf(&b, ",\"growth\":\"%s\"", e->superlinear ? "superlinear" : "linear");
#define NUM(k, v) (mv__buf_puts(&b, ",\"" k "\":"), mv__buf_json_double(&b, (v)))
    NUM("exponent", e->exponent);
    NUM("r2", e->r2);
    NUM("base_bytes", e->base_bytes);
    NUM("base_units", e->u0);
    NUM("max_units_seen", e->from_data ? e->u_max : NAN);
    /* memory per unit in bytes per unit, as every output, but two other
     * figures than the registry's memory_per_unit_bytes (growth since the
     * first checkpoint over units since, at the last one), so two other
     * keys: the average over the data and the marginal cost at its end */
    NUM("average_memory_per_unit_bytes", e->per_unit_bytes);
    NUM("marginal_memory_per_unit_bytes", e->per_unit_last);
    NUM("units", e->units);
    NUM("margin", e->margin);
    NUM("need_bytes", round(e->need_bytes));
    NUM("recommended_limit_bytes", e->limit_bytes);
    NUM("memory_bytes", e->memory_bytes);
#undef NUM
    mv__buf_puts(&b, ",\"concurrency\":");
    if (e->concurrency >= 0)
        mv__buf_json_int(&b, e->concurrency);
    else
        mv__buf_puts(&b, "null");
    mv__buf_printf(&b, ",\"extrapolated\":%s}\n", e->extrapolated ? "true" : "false");
    fwrite(b.data, 1, b.len, stdout);
    mv_buf_release(&b);
}

static void print_text(const cli_estimate *e, const char *unit, int units_given)
{
    char a[40], b[40], c[40];
    if (e->from_data) {
        printf("fitted from %zu checkpoints (%.0f to %.0f %s): memory = %s + %.4g * %s^%.2f (r2 %.3f)\n",
               e->points + 1, e->u0, e->u_max, unit,
               mv__human_bytes_d(e->base_bytes, a, sizeof a), e->coef, unit,
               e->exponent, e->r2);
        if (e->superlinear)
            printf("memory per %s is RISING (superlinear, exponent %.2f): %s per %d on "
                   "average, %s per %d at the end\n", unit, e->exponent,
                   mv__human_bytes_d(cli_per_shown_units(e->per_unit_bytes), b, sizeof b),
                   CLI_SHOWN_UNITS,
                   mv__human_bytes_d(cli_per_shown_units(e->per_unit_last), c, sizeof c),
                   CLI_SHOWN_UNITS);
        else
            printf("memory per %s is flat (linear, exponent %.2f): %s per %d %s\n",
                   unit, e->exponent,
                   mv__human_bytes_d(cli_per_shown_units(e->per_unit_bytes), b, sizeof b),
                   CLI_SHOWN_UNITS, unit);
    } else {
        printf("given: %s + %s per %s (linear)\n",
               mv__human_bytes_d(e->base_bytes, a, sizeof a),
               mv__human_bytes_d(e->per_unit_bytes, b, sizeof b), unit);
    }
    printf("for %.0f %s: need %s; with a %.0f%% margin, set the limit to %s\n",
           e->units, unit, mv__human_bytes_d(e->need_bytes, a, sizeof a),
           e->margin * 100, mv__human_bytes_d(e->limit_bytes, b, sizeof b));
    if (e->concurrency >= 0)
        printf("concurrency: %lld such job%s fit in %s\n", (long long)e->concurrency,
               e->concurrency == 1 ? "" : "s",
               mv__human_bytes_d(e->memory_bytes, c, sizeof c));
    if (e->extrapolated)
        printf("note: %.0f %s is beyond the %.0f seen; the fit is extrapolated%s\n",
               e->units, unit, e->u_max, e->superlinear ? " and superlinear growth "
               "makes it uncertain" : "");
    if (e->from_data && !units_given) {
        cli_estimate x = *e;
        for (int m = 2; m <= 10; m += 8) {
            cli_estimate_plan(&x, e->units * m, e->margin, e->memory_bytes);
            printf("at %dx (%.0f %s): need %s, limit %s\n", m, x.units, unit,
                   mv__human_bytes_d(x.need_bytes, a, sizeof a),
                   mv__human_bytes_d(x.limit_bytes, b, sizeof b));
        }
    }
}

int cli_cmd_estimate(int argc, char **argv)
{
    enum { O_UNITS = 1000, O_UNIT, O_PER_UNIT, O_BASE, O_MARGIN, O_MEMORY, O_JSON };
    static const struct option longopts[] = {
        {"units", required_argument, NULL, O_UNITS},
        {"unit", required_argument, NULL, O_UNIT},
        {"per-unit", required_argument, NULL, O_PER_UNIT},
        {"base", required_argument, NULL, O_BASE},
        {"margin", required_argument, NULL, O_MARGIN},
        {"memory", required_argument, NULL, O_MEMORY},
        {"json", no_argument, NULL, O_JSON},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    double units = NAN, margin = CLI_ESTIMATE_DEFAULT_MARGIN, memory = NAN;
    int64_t per_unit = MV_NA, base = 0, sz;
    const char *unit = NULL;
    int json = 0, c;
    char unit_name[64];
    /* options anywhere (GNU permutation): `estimate REC --units 1e6` */
    opterr = 0;
    optind = 1;
    while ((c = getopt_long(argc, argv, ":h", longopts, NULL)) != -1) {
        switch (c) {
        case O_UNITS:
            if (parse_count(optarg, &units))
                return cli_usage_error("estimate", "--units: '%s' is not a positive count", optarg);
            break;
        case O_UNIT: unit = optarg; break;
        case O_PER_UNIT:
            if (mv__parse_size(optarg, &per_unit) || per_unit < 0)
                return cli_usage_error("estimate", "--per-unit: '%s' is not a size", optarg);
            break;
        case O_BASE:
            if (mv__parse_size(optarg, &base) || base < 0)
                return cli_usage_error("estimate", "--base: '%s' is not a size", optarg);
            break;
        case O_MARGIN:
            if (parse_margin(optarg, &margin))
                return cli_usage_error("estimate", "--margin: '%s' is not a percentage (e.g. 25%%)", optarg);
            break;
        case O_MEMORY:
            if (mv__parse_size(optarg, &sz) || sz <= 0)
                return cli_usage_error("estimate", "--memory: '%s' is not a size", optarg);
            memory = (double)sz;
            break;
        case O_JSON: json = 1; break;
        case 'h': fputs(cli_estimate_usage, stdout); return CLI_EXIT_OK;
        case ':':
        default:
            return cli_option_error("estimate", c, argv);
        }
    }
    cli_estimate e;
    const char *source = NULL;
    if (per_unit != MV_NA) {
        if (optind != argc)
            return cli_usage_error("estimate", "--per-unit takes no recording");
        if (isnan(units))
            return cli_usage_error("estimate", "--per-unit needs --units N");
        cli_estimate_linear((double)base, (double)per_unit, &e);
        if (!unit)
            unit = "units";
    } else {
        if (optind != argc - 1)
            return cli_usage_error("estimate", "give one recording, or --per-unit BYTES --units N");
        source = argv[optind];
        /* streamed: a rotated recording's earlier files first */
        mv__record_stream in;
        int rc = mv__record_stream_open(&in, source, CLI_REPORT_MAX_FILE, 0,
                                        cli_report_sniff, NULL);
        if (rc) {
            cli_error("estimate", "%s: %s", source, cli_report_input_error(rc, &in.join));
            return CLI_EXIT_ERROR;
        }
        cli_report r;
        char err[512];
        rc = cli_report_read(source, in.f, NULL, &r, err, sizeof err);
        if (in.error) {   /* refused while reading: say why */
            if (rc == 0)
                cli_report_release(&r);
            cli_error("estimate", "%s: %s", source, cli_report_input_error(in.error, &in.join));
            mv__record_stream_close(&in);
            return CLI_EXIT_ERROR;
        }
        if (in.join.note[0])
            cli_error("estimate", "note: %s: %s", source, in.join.note);
        mv__record_stream_close(&in);
        if (rc) {
            cli_error("estimate", "%s", err);
            return CLI_EXIT_ERROR;
        }
        const cli_report_progress *p = NULL;
        for (size_t i = 0; i < r.nprogress; i++)
            if (!unit || strcmp(r.progress[i].unit, unit) == 0) {
                p = &r.progress[i];
                break;
            }
        if (!p) {
            if (unit)
                cli_error("estimate", "%s: no progress counter named '%s'", source, unit);
            else
                cli_error("estimate", "%s: no progress counters in this recording "
                          "(the application must call mv_progress_add); use --per-unit "
                          "BYTES --units N instead", source);
            cli_report_release(&r);
            return CLI_EXIT_ERROR;
        }
        mv__strlcpy(unit_name, p->unit, sizeof unit_name);
        unit = unit_name;
        rc = cli_estimate_fit(p->units, p->private_bytes, p->npts, &e, err, sizeof err);
        if (isnan(memory) && r.limit_bytes != MV_NA && r.limit_bytes > 0)
            memory = (double)r.limit_bytes;
        cli_report_release(&r);
        if (rc) {
            cli_error("estimate", "%s: %s", source, err);
            return CLI_EXIT_ERROR;
        }
    }
    int units_given = !isnan(units);
    if (!units_given)
        units = e.u_max;
    if (cli_estimate_plan(&e, units, margin, memory))
        return cli_usage_error("estimate", "bad --units or --margin");
    if (json)
        print_json(&e, unit, source);
    else
        print_text(&e, unit, units_given);
    return CLI_EXIT_OK;
}
