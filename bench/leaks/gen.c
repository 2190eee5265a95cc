/*
 * gen.c — the labelled trace generator of the leak benchmark.
 *
 * DESIGN. A trace is level(t) + GC sawtooth + noise + spikes, sampled at
 * irregular times with gaps (as when an agent restarts). level(t) is what
 * the family is about: a leak grows its floor at a rate chosen RELATIVE to
 * the container (time from onset to the limit), the non-leaks move without
 * a lasting trend, or with one that stops (warm-up, cache cap, batch hold).
 * A leaking trace ends when it reaches the limit (the process is
 * OOM-killed). Every random draw comes from splitmix64 seeded by (config,
 * seed, idx): a corpus is the same on every machine.
 *
 * TWO CONFIGURATIONS. `tune` (default seeds 1..5) is what the detector is
 * tuned on; `report` (default seeds 101..105) shifts and widens every
 * range, uses other limits, noise, sampling intervals and another mix of
 * families, so a setting fitted to `tune` is checked on traces it was not
 * fitted to. Ranges below read "tune | report"; a..b log = log-uniform.
 *
 * COMMON TO ALL FAMILIES
 *   limit         0.25,0.5,1..64 GiB (one of 9) | 192 MiB..96 GiB log
 *   start level   15-55% of the limit | 10-65%
 *   duration      1-7 d | 0.5-8 d (slow_leak, daily_leak: 7 d | 8 d;
 *                 daily: at least 2 d; late_leak: at least onset +
 *                 min(T, 2 d); caches: at least 6 h past the cap)
 *   sampling      nominal 10,10,10,15,30,60,120 s | 5,10,20,30,45,60,90,120 s,
 *                 jitter +-25% | +-40%; with probability 10% | 15% a
 *                 trace is sampled every 1-2 s instead and lasts at most
 *                 1 d (not for slow_leak, daily_leak, daily)
 *   gaps          30% | 40% of traces have 1-3 | 1-4 gaps of 5-40 | 2-90 min
 *   noise         Gaussian, sd 0.1-0.8% | 0.05-1.5% of the start level
 *   spikes        upward, 2-10% | 2-20% of the start level, lasting 1-3
 *                 samples, probability 0.2% | 0.4% per sample; report
 *                 also has 0.1% one-sample dips of 2-8%
 *   GC sawtooth   on a third | 40% of other traces (always on saw_*):
 *                 period 1-120 min log | 1-150 min log, amplitude 2-15% |
 *                 3-25% of the start level; half the traces regular, half
 *                 jittered (each cycle 0.6-1.4 x the period, 0.7-1.3 x
 *                 the amplitude)
 *
 * LEAKS (label leak; T = true time from onset to the limit)
 *   steady_leak     linear from t=0, T 2 h-5 d log | 1.5 h-6 d log
 *   slow_leak       linear, T 3-10 d | 4-12 d
 *   late_leak       flat until onset 3 h-3 d | 2 h-4 d, then linear,
 *                   T 4 h-4 d log | 3 h-5 d log
 *   step_leak       regular staircase, a step every 5 min-2 h log |
 *                   10 min-3 h log, T 6 h-5 d log | 4 h-6 d log
 *   step_poisson    8-30 | 10-40 steps at Poisson times (sorted uniforms,
 *                   the last at T), sizes 0.5-1.5 x the mean,
 *                   T 6 h-5 d log | 4 h-6 d log; after T more steps at
 *                   the same mean pace (exponential gaps) until the OOM
 *   saw_rising      steady_leak's range under a GC sawtooth
 *   small_fast_leak 256/512 MiB | 128/256/384 MiB containers, start 30-50%
 *                   | 25-55%, 5-40 | 3-50 MiB/h
 *   daily_leak      daily sine, peak-to-peak 5-25% | 5-35% of the start
 *                   level, plus a leak of T 1-7 d log | 1.5-8 d log
 *
 * NOT LEAKS (label ok)
 *   flat            level + noise (+ sawtooth on some)
 *   saw_flat        GC sawtooth over a flat floor
 *   warmup          rise*(1-exp(-t/tau)) from t=0, tau 1 min-3 h log |
 *                   1.5 min-4 h log, rise 10-60% | 5-70% of headroom;
 *                   plateau_s = 3 tau
 *   cache_fill      concave fill (x^p, p 0.3-0.6 | 0.25-0.7) to a hard cap
 *                   at 10-80% | 15-85% of headroom over 10 min-12 h log |
 *                   15 min-16 h log; starts at process start on 50% | 40%
 *                   of traces, else 0-24 h | 0-48 h later (at most half the
 *                   trace); plateau_s = start + fill time
 *   cache_linear    the same, filling linearly
 *   bursts          batch jobs every 1-8 h | 0.5-10 h (first after 0.5-6 h):
 *                   ramp up over 1-60 min | 2-75 min, hold 5 min-4 h |
 *                   10 min-5 h log, height 10-40% | 10-50% of headroom, back
 *                   down over 1-10 min; plateaus = each ramp's end
 *   daily           daily sine, peak-to-peak 5-25% | 5-35% of start level
 *   random_walk     Ornstein-Uhlenbeck, tau 2-24 h log | 1-36 h log,
 *                   stationary sd 1-4% | 1-5% of the limit
 *   level_shift     1-2 one-off shifts of 5-25% | 5-35% of headroom (30%
 *                   of them downward, half as large)
 *
 * FAMILY MIX (traces per family per run = per_kind x weight): tune all 1;
 * report: cache_fill, cache_linear, warmup, bursts, random_walk 1.5;
 * step_poisson, late_leak 1.25; slow_leak, daily, level_shift 0.75.
 */
#include "gen.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MIB (1024.0 * 1024.0)
#define GIB (1024.0 * MIB)
#define MINUTE 60.0
#define HOUR 3600.0
#define DAY 86400.0

double gen_interval_s = 0;

static const char *NAMES[K_COUNT] = {
    "steady_leak", "slow_leak", "late_leak", "step_leak", "step_poisson",
    "saw_rising", "small_fast_leak", "daily_leak", "flat", "saw_flat",
    "warmup", "cache_fill", "cache_linear", "bursts", "daily", "random_walk",
    "level_shift",
};

const char *kind_name(trace_kind k)
{
    return (unsigned)k < K_COUNT ? NAMES[k] : "?";
}

int kind_is_leak(trace_kind k)
{
    return k <= K_DAILY_LEAK;
}

int kind_has_plateau(trace_kind k)
{
    return k == K_WARMUP || k == K_CACHE || k == K_CACHE_LINEAR ||
           k == K_BURSTS;
}

typedef struct range { double lo, hi; } range;

/* Every range of one configuration (see the comment at the top). */
typedef struct genc {
    const char *name;
    uint64_t seed0;            /* default seeds seed0 .. seed0+4 */
    uint64_t salt;
    int lim_list;              /* 1: limits from the 9-value list */
    range lim_gib;             /* else log-uniform */
    range base, dur_d;
    double long_dur_d;         /* slow / daily families */
    double intervals[8];
    int nint;
    double jitter, fast_p, fast_max_s;
    double gap_p;
    int gaps_max;
    range gap_s;
    range noise;
    double spike_p;
    range spike;
    double dip_p;
    double saw_p;
    range saw_period, saw_amp;
    range steady_T, slow_T, late_onset, late_T, step_T, step_period, pstep_T;
    int pstep_lo, pstep_hi;
    double small_lims_mib[3];
    int nsmall;
    range small_base, small_rate_mib;
    range daily_T, daily_amp;
    range warm_tau, warm_rise;
    range cache_rise, cache_fill, cache_pw, cache_start_h;
    double cache_at_start_p;
    range burst_first_h, burst_gap_h, burst_ramp, burst_hold, burst_h;
    range rw_tau, rw_sd;
    range shift_h;
    double weight[K_COUNT];
} genc;

static const genc CONFIGS[GEN_NCONFIG] = {
    [GEN_TUNE] = {
        .name = "tune", .seed0 = 1, .salt = 0,
        .lim_list = 1,
        .base = {0.15, 0.55}, .dur_d = {1, 7}, .long_dur_d = 7,
        .intervals = {10, 10, 10, 15, 30, 60, 120}, .nint = 7,
        .jitter = 0.25, .fast_p = 0.10, .fast_max_s = DAY,
        .gap_p = 0.3, .gaps_max = 3, .gap_s = {300, 2400},
        .noise = {0.001, 0.008}, .spike_p = 0.002, .spike = {0.02, 0.10},
        .dip_p = 0,
        .saw_p = 0.33, .saw_period = {60, 2 * HOUR}, .saw_amp = {0.02, 0.15},
        .steady_T = {2 * HOUR, 5 * DAY}, .slow_T = {3 * DAY, 10 * DAY},
        .late_onset = {3 * HOUR, 3 * DAY}, .late_T = {4 * HOUR, 4 * DAY},
        .step_T = {6 * HOUR, 5 * DAY}, .step_period = {5 * MINUTE, 2 * HOUR},
        .pstep_T = {6 * HOUR, 5 * DAY}, .pstep_lo = 8, .pstep_hi = 30,
        .small_lims_mib = {256, 512}, .nsmall = 2,
        .small_base = {0.3, 0.5}, .small_rate_mib = {5, 40},
        .daily_T = {1 * DAY, 7 * DAY}, .daily_amp = {0.05, 0.25},
        .warm_tau = {1 * MINUTE, 3 * HOUR}, .warm_rise = {0.10, 0.60},
        .cache_rise = {0.10, 0.80}, .cache_fill = {10 * MINUTE, 12 * HOUR},
        .cache_pw = {0.3, 0.6}, .cache_start_h = {0, 24},
        .cache_at_start_p = 0.5,
        .burst_first_h = {0.5, 6}, .burst_gap_h = {1, 8},
        .burst_ramp = {1 * MINUTE, 60 * MINUTE},
        .burst_hold = {5 * MINUTE, 4 * HOUR}, .burst_h = {0.10, 0.40},
        .rw_tau = {2 * HOUR, 24 * HOUR}, .rw_sd = {0.01, 0.04},
        .shift_h = {0.05, 0.25},
        .weight = {1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1},
    },
    [GEN_REPORT] = {
        .name = "report", .seed0 = 101, .salt = 0x5245504f5254ULL,
        .lim_list = 0, .lim_gib = {0.1875, 96},
        .base = {0.10, 0.65}, .dur_d = {0.5, 8}, .long_dur_d = 8,
        .intervals = {5, 10, 20, 30, 45, 60, 90, 120}, .nint = 8,
        .jitter = 0.40, .fast_p = 0.15, .fast_max_s = DAY,
        .gap_p = 0.4, .gaps_max = 4, .gap_s = {120, 5400},
        .noise = {0.0005, 0.015}, .spike_p = 0.004, .spike = {0.02, 0.20},
        .dip_p = 0.001,
        .saw_p = 0.40, .saw_period = {60, 2.5 * HOUR}, .saw_amp = {0.03, 0.25},
        .steady_T = {1.5 * HOUR, 6 * DAY}, .slow_T = {4 * DAY, 12 * DAY},
        .late_onset = {2 * HOUR, 4 * DAY}, .late_T = {3 * HOUR, 5 * DAY},
        .step_T = {4 * HOUR, 6 * DAY}, .step_period = {10 * MINUTE, 3 * HOUR},
        .pstep_T = {4 * HOUR, 6 * DAY}, .pstep_lo = 10, .pstep_hi = 40,
        .small_lims_mib = {128, 256, 384}, .nsmall = 3,
        .small_base = {0.25, 0.55}, .small_rate_mib = {3, 50},
        .daily_T = {1.5 * DAY, 8 * DAY}, .daily_amp = {0.05, 0.35},
        .warm_tau = {1.5 * MINUTE, 4 * HOUR}, .warm_rise = {0.05, 0.70},
        .cache_rise = {0.15, 0.85}, .cache_fill = {15 * MINUTE, 16 * HOUR},
        .cache_pw = {0.25, 0.7}, .cache_start_h = {0, 48},
        .cache_at_start_p = 0.4,
        .burst_first_h = {0.5, 6}, .burst_gap_h = {0.5, 10},
        .burst_ramp = {2 * MINUTE, 75 * MINUTE},
        .burst_hold = {10 * MINUTE, 5 * HOUR}, .burst_h = {0.10, 0.50},
        .rw_tau = {1 * HOUR, 36 * HOUR}, .rw_sd = {0.01, 0.05},
        .shift_h = {0.05, 0.35},
        /* steady slow late step step_p saw small dleak | flat saw_flat warm
         * cache cache_lin bursts daily rw shift */
        .weight = {1, 0.75, 1.25, 1, 1.25, 1, 1, 1, 1, 1, 1.5, 1.5, 1.5, 1.5,
                   0.75, 1.5, 0.75},
    },
};

const char *config_name(gen_config c)
{
    return (unsigned)c < GEN_NCONFIG ? CONFIGS[c].name : "?";
}

int config_parse(const char *s, gen_config *out)
{
    for (int c = 0; c < GEN_NCONFIG; c++)
        if (!strcmp(s, CONFIGS[c].name)) {
            *out = (gen_config)c;
            return 0;
        }
    return -1;
}

uint64_t config_seed(gen_config c, int i)
{
    return CONFIGS[c].seed0 + (uint64_t)i;
}

int kind_count(gen_config c, trace_kind k, int per_kind)
{
    if (per_kind <= 0)
        return 0;
    int n = (int)floor(per_kind * CONFIGS[c].weight[k] + 0.5);
    return n < 1 ? 1 : n;
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

static double rr(rng *r, range x)
{
    return rng_range(r, x.lo, x.hi);
}

static double rl(rng *r, range x)
{
    return rng_logrange(r, x.lo, x.hi);
}

typedef struct params {
    double base, rate, onset, period, step, amp, phase, tau, rise, pw, sd_ou;
    double start, fill;        /* cache: fill start and duration */
    int linear;                /* cache: linear fill */
    double shift_t[2], shift_h[2];
    int nshift;
    /* staircases: step times and sizes */
    double st_t[64], st_h[64];
    int nst;
} params;

/* Burst schedule: start, ramp, hold, drop and height of each burst. */
#define MAX_BURSTS MAX_PLATEAU
typedef struct bursts {
    double start[MAX_BURSTS], ramp[MAX_BURSTS], hold[MAX_BURSTS];
    double drop[MAX_BURSTS], height[MAX_BURSTS];
    int n;
} bursts;

static double level(trace_kind k, const params *p, const bursts *b, double t,
                    double ou)
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
    case K_STEP_POISSON:
        for (int i = 0; i < p->nst && p->st_t[i] <= t; i++)
            v += p->st_h[i];
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
    case K_CACHE_LINEAR:
        if (t > p->start) {
            double x = fmin(1.0, (t - p->start) / p->fill);
            v += p->rise * (p->linear ? x : pow(x, p->pw));
        }
        break;
    case K_BURSTS:
        for (int i = 0; i < b->n; i++) {
            double s = b->start[i], e = s + b->ramp[i] + b->hold[i];
            if (t < s || t > e + b->drop[i])
                continue;
            double f = t - s < b->ramp[i] ? (t - s) / b->ramp[i]
                       : t <= e           ? 1.0
                                          : 1.0 - (t - e) / b->drop[i];
            v += f * b->height[i];
        }
        break;
    case K_RANDOM_WALK:
        v += ou;
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

int gen_trace(gen_config c, uint64_t seed, size_t idx, trace_kind k,
              trace *out)
{
    const genc *g = &CONFIGS[(unsigned)c < GEN_NCONFIG ? c : GEN_TUNE];
    rng r = {(seed * 0x100000001b3ULL ^ g->salt) ^
             (uint64_t)(idx + 1) * 0xff51afd7ed558ccdULL};
    for (int i = 0; i < 4; i++)
        rng_next(&r);
    memset(out, 0, sizeof *out);
    out->kind = k;
    out->leak = kind_is_leak(k);
    out->plateau_s = -1;

    static const double limits_gib[] = {0.25, 0.5, 1, 2, 4, 8, 16, 32, 64};
    double lim;
    if (k == K_SMALL_FAST)
        lim = g->small_lims_mib[rng_next(&r) % (unsigned)g->nsmall] * MIB;
    else if (g->lim_list)
        lim = limits_gib[rng_next(&r) % 9] * GIB;
    else
        lim = floor(rl(&r, g->lim_gib) * 16.0) / 16.0 * GIB;
    out->limit = (int64_t)lim;

    params p;
    memset(&p, 0, sizeof p);
    p.base = lim * rr(&r, g->base);
    double head = lim - p.base;
    double dur = rr(&r, g->dur_d) * DAY;
    double T = 0;
    int can_fast = 1;
    switch (k) {
    case K_STEADY:
    case K_SAW_RISING:
        T = rl(&r, g->steady_T);
        break;
    case K_SLOW:
        T = rr(&r, g->slow_T);
        dur = g->long_dur_d * DAY;
        can_fast = 0;
        break;
    case K_LATE:
        p.onset = rr(&r, g->late_onset);
        T = rl(&r, g->late_T);
        dur = fmax(dur, p.onset + fmin(T, 2 * DAY));
        /* fast sampling caps the trace at fast_max_s: only when the leak
         * starts (and runs a while) within it */
        can_fast = p.onset + fmin(T, 2 * DAY) <= g->fast_max_s;
        break;
    case K_STEP_LEAK:
        T = rl(&r, g->step_T);
        p.period = rl(&r, g->step_period);
        break;
    case K_STEP_POISSON: {
        T = rl(&r, g->pstep_T);
        p.nst = g->pstep_lo +
                (int)(rng_next(&r) % (unsigned)(g->pstep_hi - g->pstep_lo + 1));
        double sum = 0;
        for (int i = 0; i < p.nst; i++) {
            p.st_t[i] = i == p.nst - 1 ? T : rng_range(&r, 0, T);
            p.st_h[i] = rng_range(&r, 0.5, 1.5);
            sum += p.st_h[i];
        }
        /* sorted times (insertion sort; the last stays at T) */
        for (int i = 1; i < p.nst; i++)
            for (int j = i; j > 0 && p.st_t[j] < p.st_t[j - 1]; j--) {
                double x = p.st_t[j];
                p.st_t[j] = p.st_t[j - 1];
                p.st_t[j - 1] = x;
            }
        for (int i = 0; i < p.nst; i++)
            p.st_h[i] *= (lim * 0.97 - p.base) / sum;
        /* the leak goes on at the same pace past T (to the OOM) */
        int n0 = p.nst;
        double mean = (lim * 0.97 - p.base) / n0;
        for (; p.nst < 64; p.nst++) {
            p.st_t[p.nst] = p.st_t[p.nst - 1] -
                            log(1.0 - rng_unif(&r)) * T / n0;
            p.st_h[p.nst] = mean * rng_range(&r, 0.5, 1.5);
        }
        break;
    }
    case K_SMALL_FAST:
        p.base = lim * rr(&r, g->small_base);
        head = lim - p.base;
        T = head / (rr(&r, g->small_rate_mib) * MIB / HOUR);
        break;
    case K_DAILY_LEAK:
        T = rl(&r, g->daily_T);
        p.amp = p.base * rr(&r, g->daily_amp);
        p.phase = rng_range(&r, 0, 2 * M_PI);
        dur = g->long_dur_d * DAY;
        can_fast = 0;
        break;
    case K_DAILY:
        p.amp = p.base * rr(&r, g->daily_amp);
        p.phase = rng_range(&r, 0, 2 * M_PI);
        dur = fmax(dur, 2 * DAY);
        can_fast = 0;
        break;
    case K_WARMUP:
        p.rise = head * rr(&r, g->warm_rise);
        p.tau = rl(&r, g->warm_tau);
        out->plateau_s = 3 * p.tau;
        break;
    case K_CACHE:
    case K_CACHE_LINEAR:
        p.linear = k == K_CACHE_LINEAR;
        p.rise = head * rr(&r, g->cache_rise);
        p.fill = rl(&r, g->cache_fill);
        p.pw = rr(&r, g->cache_pw);
        p.start = rng_unif(&r) < g->cache_at_start_p
                      ? 0
                      : fmin(rr(&r, g->cache_start_h) * HOUR, 0.5 * dur);
        dur = fmax(dur, p.start + p.fill + 6 * HOUR);
        out->plateau_s = p.start + p.fill;
        break;
    case K_RANDOM_WALK:
        p.tau = rl(&r, g->rw_tau);
        p.sd_ou = lim * rr(&r, g->rw_sd);
        break;
    case K_LEVEL_SHIFT:
        p.nshift = 1 + (int)(rng_next(&r) % 2);
        for (int i = 0; i < p.nshift; i++) {
            p.shift_t[i] = rng_range(&r, 0.05, 0.95) * dur;
            p.shift_h[i] = head * rr(&r, g->shift_h) *
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
        out->visible_s = k == K_STEP_LEAK      ? p.period
                         : k == K_STEP_POISSON ? p.st_t[0]
                                               : p.onset;
        out->flag_by_s = k == K_STEP_LEAK      ? 2 * p.period
                         : k == K_STEP_POISSON ? p.st_t[1]
                                               : out->visible_s;
    }
    bursts b;
    memset(&b, 0, sizeof b);
    if (k == K_BURSTS) {
        double t = rr(&r, g->burst_first_h) * HOUR;
        while (t < dur && b.n < MAX_BURSTS) {
            b.start[b.n] = t;
            b.ramp[b.n] = rl(&r, g->burst_ramp);
            b.hold[b.n] = rl(&r, g->burst_hold);
            b.drop[b.n] = rng_range(&r, 60, 600);
            b.height[b.n] = head * rr(&r, g->burst_h);
            t += b.ramp[b.n] + b.hold[b.n] + b.drop[b.n] +
                 rr(&r, g->burst_gap_h) * HOUR;
            b.n++;
        }
    }
    /* sawtooth: always for the sawtooth kinds, else on some traces */
    int saw = k == K_SAW_RISING || k == K_SAW_FLAT || rng_unif(&r) < g->saw_p;
    double saw_amp = 0, saw_period = 0;
    int saw_jit = 0;
    if (saw) {
        saw_amp = p.base * rr(&r, g->saw_amp);
        saw_period = rl(&r, g->saw_period);
        saw_jit = rng_unif(&r) < 0.5;
    }
    double noise_sd = p.base * rr(&r, g->noise);
    double interval = g->intervals[rng_next(&r) % (unsigned)g->nint];
    if (can_fast && rng_unif(&r) < g->fast_p) {
        interval = rng_range(&r, 1.0, 2.0);
        dur = fmin(dur, g->fast_max_s);
    }
    if (gen_interval_s > 0) /* after the same draws: the same parameters */
        interval = gen_interval_s;
    out->interval_s = interval;
    int ngaps = rng_unif(&r) < g->gap_p
                    ? 1 + (int)(rng_next(&r) % (unsigned)g->gaps_max)
                    : 0;
    double gap_t[8], gap_d[8];
    for (int i = 0; i < ngaps; i++) {
        gap_t[i] = rng_range(&r, 0, dur);
        gap_d[i] = rr(&r, g->gap_s);
    }
    if (k == K_BURSTS) {
        for (int i = 0; i < b.n && b.start[i] + b.ramp[i] <= dur; i++)
            out->plateaus[out->nplateau++] = b.start[i] + b.ramp[i];
        if (out->nplateau)
            out->plateau_s = out->plateaus[0];
    } else if (out->plateau_s >= 0 && out->plateau_s <= dur) {
        out->plateaus[out->nplateau++] = out->plateau_s;
    } else {
        out->plateau_s = -1;
    }

    size_t cap = (size_t)(dur / (interval * (1.0 - g->jitter))) + 16;
    out->t = malloc(cap * sizeof(double));
    out->v = malloc(cap * sizeof(double));
    if (!out->t || !out->v) {
        trace_release(out);
        return -ENOMEM;
    }
    double ou = 0, t = 0, last_t = 0;
    double saw_start = -rng_range(&r, 0, 1) * saw_period;
    double saw_len = saw_period, saw_a = saw_amp;
    double spike_h = 0;
    int spike_left = 0;
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
        if (saw) /* a GC at every cycle boundary passed */
            while (t >= saw_start + saw_len) {
                saw_start += saw_len;
                if (saw_jit) {
                    saw_len = saw_period * rng_range(&r, 0.6, 1.4);
                    saw_a = saw_amp * rng_range(&r, 0.7, 1.3);
                }
            }
        if (!in_gap) {
            double v = level(k, &p, &b, t, ou);
            if (saw)
                v += saw_a * (t - saw_start) / saw_len;
            v += noise_sd * rng_norm(&r);
            if (spike_left == 0 && rng_unif(&r) < g->spike_p) {
                spike_h = p.base * rr(&r, g->spike);
                spike_left = 1 + (int)(rng_next(&r) % 3);
            }
            if (spike_left > 0) {
                v += spike_h;
                spike_left--;
            }
            if (g->dip_p > 0 && rng_unif(&r) < g->dip_p)
                v -= p.base * rng_range(&r, 0.02, 0.08);
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
        t += interval * rng_range(&r, 1.0 - g->jitter, 1.0 + g->jitter);
    }
    out->n = n;
    out->dur_s = n ? out->t[n - 1] : 0;
    snprintf(out->name, sizeof out->name, "%s#%zu", kind_name(k), idx % 100000);
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
    out->plateau_s = -1;
    out->dur_s = out->n ? out->t[out->n - 1] : 0;
    const char *base = strrchr(path, '/');
    snprintf(out->name, sizeof out->name, "%s", base ? base + 1 : path);
    return out->n >= 2 ? 0 : -EINVAL;
}
