/*
 * gen.c — the labelled trace generator of the leak benchmark.
 *
 * DESIGN. A trace is level(t) + GC sawtooth + noise + spikes, sampled at
 * irregular times (10-60 s nominal, +-25% jitter, occasional gaps of 5-40
 * min as when an agent restarts). level(t) is what the kind is about:
 * a leak grows its floor at a rate chosen RELATIVE to the container (time
 * from onset to the limit, 2 h ... 10 days), the non-leaks move without
 * a lasting trend (or with one that stops: warm-up, cache cap). Shapes
 * chosen: warm-up = exponential approach (time constant 2-30 min, rise
 * 10-60% of headroom); cache fill = concave power law t^0.3..0.6 (its
 * miss rate falls as it fills) to a hard cap after 20 min - 6 h; random
 * walk = Ornstein-Uhlenbeck, time constant 2-24 h, stationary sd 1-4% of
 * the limit; bursts ramp up within 2 min, hold 5-90 min, drop back. Limits are
 * drawn log-uniformly from 256 MiB to 64 GiB and the starting level from
 * 15-55% of the limit, so the same MB/h means very different things. A
 * leaking trace ends when it reaches the limit (the process is OOM-killed).
 * Every random draw comes from splitmix64 seeded by (seed, idx): the corpus
 * of a seed is the same on every machine.
 */
#include "gen.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MIB (1024.0 * 1024.0)
#define HOUR 3600.0
#define DAY 86400.0

static const char *NAMES[K_COUNT] = {
    "steady_leak", "slow_leak", "late_leak", "step_leak", "saw_rising",
    "small_fast_leak", "daily_leak", "flat", "saw_flat", "warmup",
    "cache_fill", "bursts", "daily", "random_walk", "level_shift",
};

const char *kind_name(trace_kind k)
{
    return (unsigned)k < K_COUNT ? NAMES[k] : "?";
}

int kind_is_leak(trace_kind k)
{
    return k <= K_DAILY_LEAK;
}

uint64_t rng_next(rng *r)
{
    uint64_t z = (r->s += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

double rng_unif(rng *r)
{
    return (double)(rng_next(r) >> 11) * (1.0 / 9007199254740992.0);
}

double rng_range(rng *r, double a, double b)
{
    return a + (b - a) * rng_unif(r);
}

double rng_logrange(rng *r, double a, double b)
{
    return exp(rng_range(r, log(a), log(b)));
}

double rng_norm(rng *r)
{
    double u1 = rng_unif(r), u2 = rng_unif(r);
    if (u1 < 1e-300)
        u1 = 1e-300;
    return sqrt(-2.0 * log(u1)) * cos(2.0 * M_PI * u2);
}

void trace_release(trace *t)
{
    if (!t)
        return;
    free(t->t);
    free(t->v);
    t->t = t->v = NULL;
    t->n = 0;
}

typedef struct params {
    double base, rate, onset, period, step, amp, phase, tau, rise, pw, sd_ou;
    double shift_t[2], shift_h[2];
    int nshift;
    double saw_amp, saw_period;
    double noise_sd;
} params;

/* Burst schedule: start times and durations (generated once per trace). */
#define MAX_BURSTS 64
typedef struct bursts {
    double start[MAX_BURSTS], dur[MAX_BURSTS], height[MAX_BURSTS];
    int n;
} bursts;

static double level(trace_kind k, const params *p, const bursts *b, double t,
                    double *ou)
{
    double v = p->base;
    switch (k) {
    case K_STEADY:
    case K_SLOW:
    case K_SAW_RISING:
    case K_SMALL_FAST:
        v += p->rate * t;
        break;
    case K_LATE:
        if (t > p->onset)
            v += p->rate * (t - p->onset);
        break;
    case K_STEP_LEAK:
        v += p->step * floor(t / p->period);
        break;
    case K_DAILY_LEAK:
        v += p->rate * t + p->amp * 0.5 * sin(2 * M_PI * t / DAY + p->phase);
        break;
    case K_DAILY:
        v += p->amp * 0.5 * sin(2 * M_PI * t / DAY + p->phase);
        break;
    case K_WARMUP:
        v += p->rise * (1.0 - exp(-t / p->tau));
        break;
    case K_CACHE:
        v += p->rise * (t >= p->period ? 1.0 : pow(t / p->period, p->pw));
        break;
    case K_BURSTS:
        for (int i = 0; i < b->n; i++) {
            double s = b->start[i], d = b->dur[i];
            if (t < s || t > s + d)
                continue;
            double ramp = fmin(120.0, 0.1 * d);
            double f = t - s < ramp ? (t - s) / ramp : 1.0;
            v += f * b->height[i];
        }
        break;
    case K_RANDOM_WALK:
        v += *ou;
        break;
    case K_LEVEL_SHIFT:
        for (int i = 0; i < p->nshift; i++)
            if (t >= p->shift_t[i])
                v += p->shift_h[i];
        break;
    default:
        break;
    }
    return v;
}

int gen_trace(uint64_t seed, size_t idx, trace_kind k, trace *out)
{
    rng r = {seed * 0x100000001b3ULL ^ (uint64_t)(idx + 1) * 0xff51afd7ed558ccdULL};
    for (int i = 0; i < 4; i++)
        rng_next(&r);
    memset(out, 0, sizeof *out);
    out->kind = k;
    out->leak = kind_is_leak(k);

    static const double limits_gib[] = {0.25, 0.5, 1, 2, 4, 8, 16, 32, 64};
    double lim;
    if (k == K_SMALL_FAST)
        lim = (rng_unif(&r) < 0.5 ? 0.25 : 0.5) * 1024 * MIB;
    else
        lim = limits_gib[rng_next(&r) % 9] * 1024 * MIB;
    out->limit = (int64_t)lim;

    params p;
    memset(&p, 0, sizeof p);
    p.base = lim * rng_range(&r, 0.15, 0.55);
    double head = lim - p.base;
    double dur = rng_range(&r, 1.0, 7.0) * DAY;
    double T = 0;
    switch (k) {
    case K_STEADY:
    case K_SAW_RISING:
        T = rng_logrange(&r, 2 * HOUR, 5 * DAY);
        break;
    case K_SLOW:
        T = rng_range(&r, 3 * DAY, 10 * DAY);
        dur = 7 * DAY;
        break;
    case K_LATE:
        p.onset = rng_range(&r, 3 * HOUR, 3 * DAY);
        T = rng_logrange(&r, 4 * HOUR, 4 * DAY);
        dur = fmax(dur, p.onset + fmin(T, 2 * DAY));
        break;
    case K_STEP_LEAK:
        T = rng_logrange(&r, 6 * HOUR, 5 * DAY);
        p.period = rng_logrange(&r, 300, 2 * HOUR);
        break;
    case K_SMALL_FAST:
        p.base = lim * rng_range(&r, 0.3, 0.5);
        head = lim - p.base;
        T = head / (rng_range(&r, 5, 40) * MIB / HOUR);
        break;
    case K_DAILY_LEAK:
        T = rng_logrange(&r, 1 * DAY, 7 * DAY);
        p.amp = p.base * rng_range(&r, 0.05, 0.25);
        p.phase = rng_range(&r, 0, 2 * M_PI);
        dur = 7 * DAY;
        break;
    case K_DAILY:
        p.amp = p.base * rng_range(&r, 0.05, 0.25);
        p.phase = rng_range(&r, 0, 2 * M_PI);
        break;
    case K_WARMUP:
        p.rise = head * rng_range(&r, 0.1, 0.6);
        p.tau = rng_logrange(&r, 120, 30 * 60);
        break;
    case K_CACHE:
        p.rise = head * rng_range(&r, 0.1, 0.5);
        p.period = rng_logrange(&r, 1200, 6 * HOUR);
        p.pw = rng_range(&r, 0.3, 0.6);
        break;
    case K_RANDOM_WALK:
        p.tau = rng_logrange(&r, 2 * HOUR, 24 * HOUR);
        p.sd_ou = lim * rng_range(&r, 0.01, 0.04);
        break;
    case K_LEVEL_SHIFT:
        p.nshift = 1 + (int)(rng_next(&r) % 2);
        for (int i = 0; i < p.nshift; i++) {
            p.shift_t[i] = rng_range(&r, 0.05, 0.95) * dur;
            p.shift_h[i] = head * rng_range(&r, 0.05, 0.25) *
                           (rng_unif(&r) < 0.3 ? -0.5 : 1.0);
        }
        break;
    default:
        break;
    }
    if (T > 0) {
        p.rate = (lim * 0.97 - p.base) / T;
        if (k == K_STEP_LEAK)
            p.step = p.rate * p.period;
        out->eta_from_onset_s = T;
        out->onset_s = p.onset;
    }
    bursts b;
    memset(&b, 0, sizeof b);
    if (k == K_BURSTS) {
        double t = rng_range(&r, 0.5, 6) * HOUR;
        while (t < dur && b.n < MAX_BURSTS) {
            b.start[b.n] = t;
            b.dur[b.n] = rng_logrange(&r, 300, 90 * 60);
            b.height[b.n] = head * rng_range(&r, 0.1, 0.4);
            t += b.dur[b.n] + rng_range(&r, 1, 8) * HOUR;
            b.n++;
        }
    }
    /* sawtooth: always for the sawtooth kinds, else on a third of traces */
    int saw = k == K_SAW_RISING || k == K_SAW_FLAT || rng_unif(&r) < 0.33;
    if (saw) {
        p.saw_amp = p.base * rng_range(&r, 0.02, 0.15);
        p.saw_period = rng_logrange(&r, 60, 900);
    }
    p.noise_sd = p.base * rng_range(&r, 0.001, 0.008);
    double interval = (double[]){10, 10, 10, 15, 30, 60}[rng_next(&r) % 6];
    int ngaps = rng_unif(&r) < 0.3 ? 1 + (int)(rng_next(&r) % 3) : 0;
    double gap_t[3], gap_d[3];
    for (int i = 0; i < ngaps; i++) {
        gap_t[i] = rng_range(&r, 0, dur);
        gap_d[i] = rng_range(&r, 300, 2400);
    }

    size_t cap = (size_t)(dur / (interval * 0.75)) + 16;
    out->t = malloc(cap * sizeof(double));
    out->v = malloc(cap * sizeof(double));
    if (!out->t || !out->v) {
        trace_release(out);
        return -ENOMEM;
    }
    double ou = 0, t = 0, last_t = 0;
    double saw_off = rng_range(&r, 0, 1);
    size_t n = 0;
    while (t <= dur && n < cap) {
        int in_gap = 0;
        for (int i = 0; i < ngaps; i++)
            if (t >= gap_t[i] && t < gap_t[i] + gap_d[i])
                in_gap = 1;
        if (k == K_RANDOM_WALK) {
            double dt = t - last_t;
            double a = exp(-dt / p.tau);
            ou = ou * a + p.sd_ou * sqrt(1 - a * a) * rng_norm(&r);
            last_t = t;
        }
        if (!in_gap) {
            double v = level(k, &p, &b, t, &ou);
            if (saw) {
                double ph = fmod(t / p.saw_period + saw_off, 1.0);
                v += p.saw_amp * ph;
            }
            v += p.noise_sd * rng_norm(&r);
            if (rng_unif(&r) < 0.002)
                v += p.base * rng_range(&r, 0.02, 0.1);
            if (v < MIB)
                v = MIB;
            if (out->leak && v >= lim) /* OOM-killed */
                break;
            if (v > lim * 0.999)
                v = lim * 0.999;
            out->t[n] = t;
            out->v[n] = floor(v);
            n++;
        }
        t += interval * rng_range(&r, 0.75, 1.25);
    }
    out->n = n;
    out->dur_s = n ? out->t[n - 1] : 0;
    snprintf(out->name, sizeof out->name, "%s#%zu", kind_name(k), idx);
    return 0;
}

int trace_load_csv(const char *path, int leak, int64_t limit, trace *out)
{
    memset(out, 0, sizeof *out);
    FILE *f = fopen(path, "r");
    if (!f)
        return -errno;
    size_t cap = 1024;
    out->t = malloc(cap * sizeof(double));
    out->v = malloc(cap * sizeof(double));
    if (!out->t || !out->v) {
        fclose(f);
        trace_release(out);
        return -ENOMEM;
    }
    char line[256];
    double t0 = NAN;
    while (fgets(line, sizeof line, f)) {
        double a, v;
        if (sscanf(line, "%lf,%lf", &a, &v) != 2)
            continue;
        if (isnan(t0))
            t0 = a;
        if (out->n == cap) {
            cap *= 2;
            double *nt = realloc(out->t, cap * sizeof(double));
            if (nt)
                out->t = nt;
            double *nv = realloc(out->v, cap * sizeof(double));
            if (nv)
                out->v = nv;
            if (!nt || !nv) {
                fclose(f);
                trace_release(out);
                return -ENOMEM;
            }
        }
        out->t[out->n] = a - t0;
        out->v[out->n] = v;
        out->n++;
    }
    fclose(f);
    out->leak = leak;
    out->limit = limit;
    out->kind = K_COUNT;
    out->dur_s = out->n ? out->t[out->n - 1] : 0;
    const char *base = strrchr(path, '/');
    snprintf(out->name, sizeof out->name, "%s", base ? base + 1 : path);
    return out->n >= 2 ? 0 : -EINVAL;
}
