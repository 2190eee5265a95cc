# gen_c.py — writes the large C file compiled by the compiler workload of
# bench/heap/run.sh: N functions (a loop with a switch, a struct, calls to
# other functions), self-contained (no #include) so cc1 runs without a
# preprocessor search path. Deterministic. Usage: python3 gen_c.py N > big.c
import sys

n = int(sys.argv[1]) if len(sys.argv) > 1 else 2000
out = ["struct s%d { int a; long b; int c[4]; };" % k for k in range(16)]
out += ["long f%d(long x, long y);" % i for i in range(n)]
for i in range(n):
    out.append("""
long f%(i)d(long x, long y) {
  struct s%(k)d v = { (int)x, y, { 1, 2, %(i)d, 4 } };
  long acc = %(i)d;
  for (int j = 0; j < (int)x; j++) {
    switch ((j + %(i)d) %% 5) {
    case 0: acc += j * %(i)d; break;
    case 1: acc ^= acc >> 3; break;
    case 2: v.c[j & 3] += (int)acc; break;
    default: acc -= v.b >> (j & 7);
    }
  }
  if (y > %(i)d) acc += f%(c)d(x - 1, y - %(i)d);
  return acc + v.a + v.c[2];
}""" % {"i": i, "k": i % 16, "c": (i * 7 + 3) % n})
print("\n".join(out))
