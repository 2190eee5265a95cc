/*
 * mallocbench — the multi-threaded malloc/free microbenchmark of the heap
 * profiler benchmark (bench/heap/run.sh, issue 4 part 4).
 *
 * Each thread owns a table of SLOTS pointers and performs OPS operations:
 * pick a slot at random; if it holds a block, free it, else allocate a new
 * one there and touch its first and last byte. So about half the slots are
 * live at any time (a bounded working set that is "kept live" across many
 * operations) and every operation is a malloc or a free, which is the
 * profiler's worst case: no application work to hide its cost behind.
 *
 * Sizes are skewed like real programs (most blocks small, a few large):
 * 90% in 16..512 B, 9% in 512 B..8 KiB, 1% in 8..64 KiB, uniform within each
 * band (mean about 650 B). A 1 in 64 chance of realloc (grow by half) and of
 * calloc covers the other entry points. Randomness is a per-thread xorshift
 * seeded from the thread index, so every run does exactly the same work —
 * the point of a benchmark comparing tools, and what makes callgrind's
 * instruction counts repeatable.
 *
 * Usage: mallocbench [-t THREADS] [-n OPS_PER_THREAD] [-k SLOTS]
 * Prints one line: threads, ops, and a checksum (so nothing is optimised
 * away). Exit 0, or 2 on bad arguments, 1 if an allocation fails.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <errno.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

struct worker {
  pthread_t tid;
  unsigned index;
  unsigned long ops;
  unsigned slots;
  uint64_t checksum;
  int failed;
};

static uint64_t next_rand(uint64_t *s) {
  uint64_t x = *s;
  x ^= x << 13;
  x ^= x >> 7;
  x ^= x << 17;
  *s = x;
  return x;
}

static size_t pick_size(uint64_t r) {
  unsigned band = (unsigned)(r % 100);
  uint64_t u = r >> 8;
  if (band < 90) return 16 + (size_t)(u % (512 - 16 + 1));
  if (band < 99) return 512 + (size_t)(u % (8192 - 512 + 1));
  return 8192 + (size_t)(u % (65536 - 8192 + 1));
}

static void *run_worker(void *arg) {
  struct worker *w = arg;
  uint64_t rng = 0x9E3779B97F4A7C15ull * (w->index + 1);
  void **slot = calloc(w->slots, sizeof *slot);
  size_t *len = calloc(w->slots, sizeof *len);
  if (slot == NULL || len == NULL) {
    free(slot);
    free(len);
    w->failed = 1;
    return NULL;
  }
  uint64_t sum = 0;
  for (unsigned long i = 0; i < w->ops; i++) {
    uint64_t r = next_rand(&rng);
    unsigned k = (unsigned)((r >> 32) % w->slots);
    unsigned char *p = slot[k];
    if (p != NULL) {
      if ((r & 63) == 1) {  /* grow in place or move */
        size_t n = len[k] + len[k] / 2;
        unsigned char *q = realloc(p, n);
        if (q == NULL) { w->failed = 1; break; }
        q[n - 1] = (unsigned char)i;
        slot[k] = q;
        len[k] = n;
        continue;
      }
      sum += p[0] + p[len[k] - 1];
      free(p);
      slot[k] = NULL;
      continue;
    }
    size_t n = pick_size(next_rand(&rng));
    p = ((r & 63) == 2) ? calloc(1, n) : malloc(n);
    if (p == NULL) { w->failed = 1; break; }
    p[0] = (unsigned char)i;
    p[n - 1] = (unsigned char)(i >> 8);
    slot[k] = p;
    len[k] = n;
  }
  for (unsigned k = 0; k < w->slots; k++) free(slot[k]);
  free(slot);
  free(len);
  w->checksum = sum;
  return NULL;
}

static int parse_ulong(const char *s, unsigned long *out) {
  char *end = NULL;
  errno = 0;
  unsigned long v = strtoul(s, &end, 10);
  if (errno != 0 || end == s || *end != '\0' || v == 0) return -EINVAL;
  *out = v;
  return 0;
}

int main(int argc, char **argv) {
  unsigned long threads = 4, ops = 4000000, slots = 4096;
  int c;
  while ((c = getopt(argc, argv, "t:n:k:")) != -1) {
    unsigned long *dst = c == 't' ? &threads : c == 'n' ? &ops : c == 'k' ? &slots : NULL;
    if (dst == NULL || parse_ulong(optarg, dst) != 0) {
      fprintf(stderr, "usage: mallocbench [-t THREADS] [-n OPS_PER_THREAD] [-k SLOTS] (positive integers)\n");
      return 2;
    }
  }
  if (threads > 256 || slots > (1ul << 24)) {
    fprintf(stderr, "mallocbench: at most 256 threads and 16M slots\n");
    return 2;
  }
  struct worker *w = calloc(threads, sizeof *w);
  if (w == NULL) return 1;
  for (unsigned long i = 0; i < threads; i++) {
    w[i].index = (unsigned)i;
    w[i].ops = ops;
    w[i].slots = (unsigned)slots;
    if (pthread_create(&w[i].tid, NULL, run_worker, &w[i]) != 0) {
      fprintf(stderr, "mallocbench: pthread_create failed\n");
      return 1;
    }
  }
  uint64_t sum = 0;
  int failed = 0;
  for (unsigned long i = 0; i < threads; i++) {
    pthread_join(w[i].tid, NULL);
    sum += w[i].checksum;
    failed |= w[i].failed;
  }
  free(w);
  if (failed) {
    fprintf(stderr, "mallocbench: allocation failed\n");
    return 1;
  }
  printf("mallocbench threads=%lu ops=%lu checksum=%llu\n", threads, ops, (unsigned long long)sum);
  return 0;
}
