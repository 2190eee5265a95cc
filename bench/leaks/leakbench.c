/*
 * leakbench.c — the leak benchmark's scorer: replays labelled traces
 * (generated with a seed by gen.c, plus recordings of real programs)
 * through memvigil's leak detector and through four rules people use
 * today, side by side, and prints precision, recall, F1, false alarms per
 * 100 process-days, detection delay and headroom used at detection.
 *
 * memvigil is replayed exactly as the monitor runs it: each point is pushed
 * into a default mv__series and mv__leak_tick() is called after each push.
 * The baselines see the raw samples and are evaluated once a minute:
 *   (a) OLS slope over 1 h > 100 MB/h, held for 2 h;
 *   (b) OLS slope over 1 h > 100 MB/h;
 *   (c) value >= 1.10 x the value 24 h earlier;
 *   (d) linear prediction (OLS over 6 h, as PromQL predict_linear) crossing
 *       the limit within 24 h, held for 1 h.
 * An alarm on a leaking trace before the leak starts is a false alarm (and
 * the leak counts as missed). Headroom used at detection, for generated
 * leaks, is the share of the onset-to-limit time elapsed (their floor grows
 * linearly); for recordings, the rise of the floor since the start over
 * the headroom at the start.
 *
 * Usage: leakbench [--seed N] [--per-kind N] [--fixtures DIR] [--verbose]
 *                  [--dump KIND IDX]   (print a generated trace as CSV)
 *                  [--tsv FILE]        (one line per trace: label, limit,
 *                                       onset, onset-to-limit, every alarm)
 */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "gen.h"
#include "leak.h"
#include "series.h"

#define NDET 5
static const char *DET_NAMES[NDET] = {
    "memvigil", "(a) 1h slope>100MB/h held 2h", "(b) 1h slope>100MB/h",
    "(c) >10% growth over 24h", "(d) predict_linear 6h->limit<24h held 1h"};

#define MB_PER_H (100e6 / 3600.0)

/* Rule (b) is also replayed with higher thresholds, 100 MB/h x 2^(k/2)
 * for k < NSWEEP (up to ~290 GB/h), to compare it with memvigil at the SAME
 * false-alarm rate (sweep_report): a rule's delay is only meaningful next to
 * the false alarms it costs. */
#define NSWEEP 24

typedef struct outcome {
    double alarm_s[NDET];  /* first alarm, s from start; -1 none */
    double sweep_s[NSWEEP]; /* rule (b) at threshold k: first alarm; -1 none */
} outcome;

typedef struct tally {
    int tp, fp, fn, tn;
    double fa_days;        /* non-leak process time, days */
    int nfa;               /* false alarms */
    double delays[4096];
    double share[4096];
    int nd;
    int urgent, urgent_ok; /* leaks reaching the limit within 12 h */
} tally;

/* CPU time of this process: the cost figure must not depend on what else
 * the machine runs. */
static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
    return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

/* OLS slope of (t, v) for indices [i0, i1]; NAN when < 3 points. */
static double ols(const trace *tr, size_t i0, size_t i1, double *icpt)
{
    size_t n = i1 >= i0 ? i1 - i0 + 1 : 0;
    if (n < 3)
        return NAN;
    double tm = 0, vm = 0;
    for (size_t i = i0; i <= i1; i++) {
        tm += tr->t[i];
        vm += tr->v[i];
    }
    tm /= (double)n;
    vm /= (double)n;
    double sxx = 0, sxy = 0;
    for (size_t i = i0; i <= i1; i++) {
        sxx += (tr->t[i] - tm) * (tr->t[i] - tm);
        sxy += (tr->t[i] - tm) * (tr->v[i] - vm);
    }
    if (sxx <= 0)
        return NAN;
    double b = sxy / sxx;
    if (icpt)
        *icpt = vm - b * tm;
    return b;
}

/* Replays one trace; fills the first alarm time of every detector and the
 * replay time of memvigil. */
static int replay(const trace *tr, outcome *o, double *cost_s,
                  mv__leak_result *final, char *alarm_ev, size_t alarm_n)
{
    for (int d = 0; d < NDET; d++)
        o->alarm_s[d] = -1;
    for (int k = 0; k < NSWEEP; k++)
        o->sweep_s[k] = -1;
    int swept = 0; /* thresholds [0, swept) have fired */
    mv__series *s = mv__series_new_default();
    mv__leak_cfg cfg;
    mv__leak_cfg_init(&cfg);
    cfg.limit_bytes = tr->limit;
    mv__leak_detector *det = mv__leak_new(&cfg);
    if (!s || !det) {
        mv__series_free(s);
        mv__leak_free(det);
        return -ENOMEM;
    }
    const int64_t t0_ms = 1000000;
    mv__leak_result r;
    double c0 = now_s();
    for (size_t i = 0; i < tr->n; i++) {
        int64_t t_ms = t0_ms + (int64_t)(tr->t[i] * 1000.0);
        mv__series_push(s, t_ms, tr->v[i]);
        mv__leak_tick(det, s, t_ms, 0, &r);
        if (o->alarm_s[0] < 0 && r.verdict == MV_LEAK_LEAK) {
            o->alarm_s[0] = tr->t[i];
            if (alarm_ev)
                snprintf(alarm_ev, alarm_n, "%s", r.evidence);
        }
    }
    *cost_s = now_s() - c0;
    if (final)
        *final = r;
    mv__leak_free(det);
    mv__series_free(s);

    /* baselines, evaluated once a minute */
    size_t j1 = 0, j6 = 0, j24 = 0;
    double held_a = -1, held_d = -1, next = 60;
    for (size_t i = 0; i < tr->n; i++) {
        double t = tr->t[i];
        if (t < next)
            continue;
        next = t + 60;
        while (tr->t[j1] < t - 3600)
            j1++;
        while (tr->t[j6] < t - 6 * 3600)
            j6++;
        while (j24 + 1 < i && tr->t[j24 + 1] <= t - 86400)
            j24++;
        double b1 = t >= 3600 ? ols(tr, j1, i, NULL) : NAN;
        int cond_b = b1 > MB_PER_H;
        if (cond_b) {
            if (held_a < 0)
                held_a = t;
        } else {
            held_a = -1;
        }
        if (cond_b && o->alarm_s[2] < 0)
            o->alarm_s[2] = t;
        while (swept < NSWEEP && b1 > MB_PER_H * pow(2.0, swept / 2.0))
            o->sweep_s[swept++] = t;
        if (held_a >= 0 && t - held_a >= 7200 && o->alarm_s[1] < 0)
            o->alarm_s[1] = t;
        if (t >= 86400 && tr->t[j24] <= t - 86400 + 600 &&
            tr->v[i] >= 1.10 * tr->v[j24] && o->alarm_s[3] < 0)
            o->alarm_s[3] = t;
        double a6;
        double b6 = t >= 3600 ? ols(tr, j6, i, &a6) : NAN;
        int cond_d = isfinite(b6) && a6 + b6 * (t + 86400) >= (double)tr->limit;
        if (cond_d) {
            if (held_d < 0)
                held_d = t;
        } else {
            held_d = -1;
        }
        if (held_d >= 0 && t - held_d >= 3600 && o->alarm_s[4] < 0)
            o->alarm_s[4] = t;
    }
    return 0;
}

/* Floor of the trace around time t (min over +-5 min). */
static double floor_at(const trace *tr, double t)
{
    double m = INFINITY;
    for (size_t i = 0; i < tr->n; i++)
        if (fabs(tr->t[i] - t) <= 300 && tr->v[i] < m)
            m = tr->v[i];
    return m;
}

static void score(const trace *tr, const outcome *o, tally *ty)
{
    for (int d = 0; d < NDET; d++) {
        tally *y = &ty[d];
        double a = o->alarm_s[d];
        if (!tr->leak) {
            y->fa_days += tr->dur_s / 86400.0;
            if (a >= 0) {
                y->fp++;
                y->nfa++;
            } else {
                y->tn++;
            }
            continue;
        }
        y->fa_days += tr->onset_s / 86400.0;
        int urgent = tr->eta_from_onset_s > 0 &&
                     tr->eta_from_onset_s <= 12 * 3600.0;
        if (urgent)
            y->urgent++;
        if (a >= 0 && a < tr->onset_s) {
            y->fp++;
            y->nfa++;
            y->fn++;
            continue;
        }
        if (a < 0) {
            y->fn++;
            continue;
        }
        y->tp++;
        double delay = a - tr->onset_s;
        double sh;
        if (tr->eta_from_onset_s > 0) {
            sh = delay / tr->eta_from_onset_s;
        } else {
            double f0 = floor_at(tr, tr->onset_s + 300);
            sh = (floor_at(tr, a) - f0) / ((double)tr->limit - f0);
        }
        if (y->nd < 4096) {
            y->delays[y->nd] = delay;
            y->share[y->nd] = sh;
            y->nd++;
        }
        if (urgent && delay <= 7200)
            y->urgent_ok++;
    }
}

/* Rule (b) per sweep threshold: its counts and its delays paired with
 * memvigil's on the leaks both detect. */
typedef struct sweep {
    int tp[NSWEEP], fp[NSWEEP], fn[NSWEEP];
    double fa_days;
    double mv[NSWEEP][4096], other[NSWEEP][4096];
    int n[NSWEEP];
} sweep;

static void sweep_add(const trace *tr, const outcome *o, sweep *w)
{
    w->fa_days += (tr->leak ? tr->onset_s : tr->dur_s) / 86400.0;
    for (int k = 0; k < NSWEEP; k++) {
        double a = o->sweep_s[k];
        if (!tr->leak) {
            w->fp[k] += a >= 0;
            continue;
        }
        if (a >= 0 && a < tr->onset_s) {
            w->fp[k]++;
            w->fn[k]++;
        } else if (a < 0) {
            w->fn[k]++;
        } else {
            w->tp[k]++;
            if (o->alarm_s[0] >= tr->onset_s && w->n[k] < 4096) {
                w->mv[k][w->n[k]] = o->alarm_s[0] - tr->onset_s;
                w->other[k][w->n[k]] = a - tr->onset_s;
                w->n[k]++;
            }
        }
    }
}

/* Paired delays: for each baseline, memvigil's and the baseline's delay on
 * the leaks BOTH detected (after onset) — the fair delay comparison, since
 * a rule that only catches fast leaks has a short median delay by
 * construction. */
typedef struct paired {
    double mv[NDET][4096], other[NDET][4096];
    int n[NDET];
} paired;

static void pair_add(const trace *tr, const outcome *o, paired *p)
{
    if (!tr->leak || o->alarm_s[0] < tr->onset_s)
        return;
    for (int d = 1; d < NDET; d++)
        if (o->alarm_s[d] >= tr->onset_s && p->n[d] < 4096) {
            p->mv[d][p->n[d]] = o->alarm_s[0] - tr->onset_s;
            p->other[d][p->n[d]] = o->alarm_s[d] - tr->onset_s;
            p->n[d]++;
        }
}

static int cmpd(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

static double pct(double *v, int n, double p)
{
    if (n == 0)
        return NAN;
    qsort(v, (size_t)n, sizeof *v, cmpd);
    size_t k = (size_t)ceil(p * n) - 1;
    if (p == 0.5 && n % 2 == 0)
        return 0.5 * (v[n / 2 - 1] + v[n / 2]);
    return v[k > (size_t)n - 1 ? (size_t)n - 1 : k];
}

static void fmt_h(double s, char *out, size_t n)
{
    if (isnan(s))
        snprintf(out, n, "-");
    else
        snprintf(out, n, "%.2f h", s / 3600.0);
}

static void print_paired(paired *p)
{
    printf("\nDelay on the leaks both detect (memvigil vs each rule):\n\n");
    printf("| rule | leaks both detect | memvigil median delay | rule median "
           "delay | memvigil p90 | rule p90 |\n|---|---|---|---|---|---|\n");
    for (int d = 1; d < NDET; d++) {
        char a[32], b[32], c[32], e[32];
        fmt_h(pct(p->mv[d], p->n[d], 0.5), a, sizeof a);
        fmt_h(pct(p->other[d], p->n[d], 0.5), b, sizeof b);
        fmt_h(pct(p->mv[d], p->n[d], 0.9), c, sizeof c);
        fmt_h(pct(p->other[d], p->n[d], 0.9), e, sizeof e);
        printf("| %s | %d | %s | %s | %s | %s |\n", DET_NAMES[d], p->n[d], a, b,
               c, e);
    }
}

/* Rule (b) at the lowest threshold whose false alarms do not exceed
 * memvigil's (mv_fa per 100 process-days). */
static void sweep_report(sweep *w, double mv_fa)
{
    for (int k = 0; k < NSWEEP; k++) {
        double fa = w->fa_days > 0 ? 100.0 * w->fp[k] / w->fa_days : 0;
        if (fa > mv_fa)
            continue;
        int tp = w->tp[k], fp = w->fp[k], fn = w->fn[k];
        double p = tp + fp ? (double)tp / (tp + fp) : 0;
        double r = tp + fn ? (double)tp / (tp + fn) : 0;
        double f1 = p + r > 0 ? 2 * p * r / (p + r) : 0;
        char a[32], b[32];
        fmt_h(pct(w->mv[k], w->n[k], 0.5), a, sizeof a);
        fmt_h(pct(w->other[k], w->n[k], 0.5), b, sizeof b);
        printf("\nRule (b) at memvigil's false-alarm rate: 1h slope > %.0f MB/h "
               "gives %.2f false alarms /100 proc-days, precision %.3f, recall "
               "%.3f, F1 %.3f; on the %d leaks both detect, memvigil median "
               "delay %s, rule %s\n",
               100.0 * pow(2.0, k / 2.0), fa, p, r, f1, w->n[k], a, b);
        return;
    }
    printf("\nRule (b) exceeds memvigil's false-alarm rate at every threshold "
           "up to %.0f MB/h\n", 100.0 * pow(2.0, (NSWEEP - 1) / 2.0));
}

static void print_table(tally *ty, int ntraces, double days)
{
    printf("| detector | precision | recall | F1 | false alarms /100 proc-days "
           "| median delay | p90 delay | median headroom used | <=12h leaks "
           "flagged within 2h |\n");
    printf("|---|---|---|---|---|---|---|---|---|\n");
    for (int d = 0; d < NDET; d++) {
        tally *y = &ty[d];
        double p = y->tp + y->fp ? (double)y->tp / (y->tp + y->fp) : 0;
        double r = y->tp + y->fn ? (double)y->tp / (y->tp + y->fn) : 0;
        double f1 = p + r > 0 ? 2 * p * r / (p + r) : 0;
        char m[32], p90[32];
        fmt_h(pct(y->delays, y->nd, 0.5), m, sizeof m);
        fmt_h(pct(y->delays, y->nd, 0.9), p90, sizeof p90);
        double sh = pct(y->share, y->nd, 0.5);
        printf("| %s | %.3f | %.3f | %.3f | %.2f | %s | %s | %.1f%% | %d/%d |\n",
               DET_NAMES[d], p, r, f1, 100.0 * y->nfa / y->fa_days, m, p90,
               sh * 100.0, y->urgent_ok, y->urgent);
    }
    printf("\n%d traces, %.0f process-days\n", ntraces, days);
}

/* One line of the --tsv file (nothing when f is NULL). */
static void tsv_line(FILE *f, const trace *tr, const outcome *o)
{
    if (!f)
        return;
    fprintf(f, "%s\t%s\t%d\t%lld\t%.0f\t%.0f\t%.0f", tr->name,
            kind_name(tr->kind), tr->leak, (long long)tr->limit, tr->onset_s,
            tr->eta_from_onset_s, tr->dur_s);
    for (int d = 0; d < NDET; d++)
        fprintf(f, "\t%.0f", o->alarm_s[d]);
    fputc('\n', f);
}

/* Fixtures: DIR/manifest.txt lines "file.csv leak|ok limit_bytes". */
static int load_fixtures(const char *dir, trace *out, int max)
{
    char path[1024];
    snprintf(path, sizeof path, "%s/manifest.txt", dir);
    FILE *f = fopen(path, "r");
    if (!f)
        return 0;
    char line[512], name[256], lab[16];
    long long lim;
    int n = 0;
    while (n < max && fgets(line, sizeof line, f)) {
        if (line[0] == '#' || sscanf(line, "%255s %15s %lld", name, lab, &lim) != 3)
            continue;
        snprintf(path, sizeof path, "%s/%s", dir, name);
        if (trace_load_csv(path, strcmp(lab, "leak") == 0, lim, &out[n]) == 0)
            n++;
        else
            fprintf(stderr, "leakbench: cannot load %s\n", path);
    }
    fclose(f);
    return n;
}

int main(int argc, char **argv)
{
    uint64_t seed = 2;
    int per_kind = 40, verbose = 0;
    const char *tsv_path = NULL;
    const char *fixtures = NULL;
    int dump_kind = -1, dump_idx = 0;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--seed") && i + 1 < argc)
            seed = strtoull(argv[++i], NULL, 10);
        else if (!strcmp(argv[i], "--per-kind") && i + 1 < argc)
            per_kind = atoi(argv[++i]);
        else if (!strcmp(argv[i], "--fixtures") && i + 1 < argc)
            fixtures = argv[++i];
        else if (!strcmp(argv[i], "--verbose"))
            verbose = 1;
        else if (!strcmp(argv[i], "--tsv") && i + 1 < argc)
            tsv_path = argv[++i];
        else if (!strcmp(argv[i], "--dump") && i + 2 < argc) {
            dump_kind = atoi(argv[++i]);
            dump_idx = atoi(argv[++i]);
        } else {
            fprintf(stderr, "usage: leakbench [--seed N] [--per-kind N] "
                            "[--fixtures DIR] [--verbose] [--dump KIND IDX] "
                            "[--tsv FILE]\n");
            return 2;
        }
    }
    if (dump_kind >= 0) {
        trace tr;
        if (dump_kind >= K_COUNT ||
            gen_trace(seed, (size_t)dump_idx, (trace_kind)dump_kind, &tr))
            return 1;
        printf("# %s limit=%lld onset=%.0f eta=%.0f\n", tr.name,
               (long long)tr.limit, tr.onset_s, tr.eta_from_onset_s);
        for (size_t i = 0; i < tr.n; i++)
            printf("%.1f,%.0f\n", tr.t[i], tr.v[i]);
        trace_release(&tr);
        return 0;
    }

    FILE *tsv = NULL;
    if (tsv_path) {
        tsv = fopen(tsv_path, "w");
        if (!tsv) {
            fprintf(stderr, "leakbench: cannot write %s: %s\n", tsv_path,
                    strerror(errno));
            return 1;
        }
        fprintf(tsv, "name\tkind\tleak\tlimit\tonset_s\tto_limit_s\tdur_s"
                     "\tmemvigil\ta\tb\tc\td\n");
    }
    static tally ty[NDET];
    static paired pr;
    static sweep sw;
    memset(ty, 0, sizeof ty);
    int ntr = 0;
    double days = 0, worst_cost = 0, worst_pts = 0;
    char worst_name[sizeof ((trace *)0)->name] = "";
    int kdet[K_COUNT + 1] = {0}, kn[K_COUNT + 1] = {0};
    for (int k = 0; k < K_COUNT; k++) {
        for (int j = 0; j < per_kind; j++) {
            trace tr;
            size_t idx = (size_t)k * 100000 + (size_t)j;
            if (gen_trace(seed, idx, (trace_kind)k, &tr)) {
                fprintf(stderr, "leakbench: out of memory\n");
                return 1;
            }
            outcome o;
            double cost;
            mv__leak_result fin;
            char aev[512] = "";
            if (replay(&tr, &o, &cost, &fin, aev, sizeof aev)) {
                trace_release(&tr);
                return 1;
            }
            if (cost > worst_cost) {
                worst_cost = cost;
                worst_pts = (double)tr.n;
                snprintf(worst_name, sizeof worst_name, "%s", tr.name);
            }
            score(&tr, &o, ty);
            pair_add(&tr, &o, &pr);
            sweep_add(&tr, &o, &sw);
            tsv_line(tsv, &tr, &o);
            ntr++;
            days += tr.dur_s / 86400.0;
            kn[k]++;
            int hit = o.alarm_s[0] >= 0;
            kdet[k] += hit;
            int urgent_miss = tr.leak && tr.eta_from_onset_s <= 12 * 3600.0 &&
                              (!hit || o.alarm_s[0] - tr.onset_s > 7200);
            if (verbose && (hit != tr.leak || urgent_miss))
                printf("  %-22s limit=%6.2f GiB eta=%6.1f h onset=%5.1f h dur=%5.1f h "
                       "alarm=%7.2f h final=%s: %.200s\n",
                       tr.name, tr.limit / 1073741824.0,
                       tr.eta_from_onset_s / 3600, tr.onset_s / 3600,
                       tr.dur_s / 3600, o.alarm_s[0] / 3600,
                       mv__leak_verdict_name(fin.verdict),
                       hit ? aev : fin.evidence);
            trace_release(&tr);
        }
    }
    if (fixtures) {
        static trace fx[64];
        int nf = load_fixtures(fixtures, fx, 64);
        for (int i = 0; i < nf; i++) {
            outcome o;
            double cost;
            mv__leak_result fin;
            char aev[512] = "";
            if (replay(&fx[i], &o, &cost, &fin, aev, sizeof aev) == 0) {
                score(&fx[i], &o, ty);
                pair_add(&fx[i], &o, &pr);
                sweep_add(&fx[i], &o, &sw);
                tsv_line(tsv, &fx[i], &o);
                ntr++;
                days += fx[i].dur_s / 86400.0;
                kn[K_COUNT]++;
                kdet[K_COUNT] += o.alarm_s[0] >= 0;
                printf("real trace %-28s label=%-4s memvigil=%s (alarm %s) "
                       "a=%s b=%s c=%s d=%s\n  %s\n",
                       fx[i].name, fx[i].leak ? "leak" : "ok",
                       mv__leak_verdict_name(fin.verdict),
                       o.alarm_s[0] >= 0 ? "yes" : "no",
                       o.alarm_s[1] >= 0 ? "alarm" : "-",
                       o.alarm_s[2] >= 0 ? "alarm" : "-",
                       o.alarm_s[3] >= 0 ? "alarm" : "-",
                       o.alarm_s[4] >= 0 ? "alarm" : "-", fin.evidence);
            }
            trace_release(&fx[i]);
        }
    }
    if (tsv)
        fclose(tsv);
    printf("\nseed %llu, %d generated traces per kind\n\n",
           (unsigned long long)seed, per_kind);
    print_table(ty, ntr, days);
    print_paired(&pr);
    sweep_report(&sw, 100.0 * ty[0].nfa / ty[0].fa_days);
    printf("\nmemvigil alarms per kind:");
    for (int k = 0; k <= K_COUNT; k++)
        if (kn[k])
            printf(" %s %d/%d;", k < K_COUNT ? kind_name((trace_kind)k) : "real",
                   kdet[k], kn[k]);
    printf("\n");

    /* cost: a 7-day trace at 10 s through the detector */
    {
        trace tr;
        memset(&tr, 0, sizeof tr);
        size_t n = 7 * 8640;
        tr.t = malloc(n * sizeof(double));
        tr.v = malloc(n * sizeof(double));
        if (tr.t && tr.v) {
            rng r = {seed};
            for (size_t i = 0; i < n; i++) {
                tr.t[i] = (double)i * 10.0;
                tr.v[i] = 1e9 + 2e4 * (double)i + 5e6 * rng_norm(&r);
            }
            tr.n = n;
            tr.limit = 4LL << 30;
            tr.dur_s = tr.t[n - 1];
            outcome o;
            double cost;
            replay(&tr, &o, &cost, NULL, NULL, 0);
            printf("cost: 7-day trace at 10 s (%zu points) replayed in %.3f s CPU; "
                   "slowest corpus trace %.3f s (%s, %.0f points)\n",
                   n, cost, worst_cost, worst_name, worst_pts);
        }
        trace_release(&tr);
    }
    return 0;
}
