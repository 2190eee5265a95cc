#!/usr/bin/env bash
# Installs the Debian packages used only by the heap-profiler benchmark
# (bench/heap/run.sh): the other profilers it compares memvigil with and the
# real programs it runs. Not needed to build or test memvigil.
# Idempotent: quiet and quick when everything is present.
set -euo pipefail

PACKAGES=(
  heaptrack                  # heaptrack (LD_PRELOAD tracer, records every call)
  valgrind                   # valgrind --tool=massif, callgrind for cost analysis
  libjemalloc2               # jemalloc's sampling heap profiler (MALLOC_CONF=prof:true)
  libgoogle-perftools4       # libtcmalloc.so.4: gperftools' heap profiler (HEAPPROFILE)
  google-perftools           # pprof for gperftools' output (not needed to run the bench)
  sqlite3                    # workload: 1M-row insert and query
  python3                    # workload: allocation-heavy script
  gcc                        # workload: -O2 on a large generated C file
  time                       # /usr/bin/time -f %M for peak RSS
)

missing=()
for p in "${PACKAGES[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$p")
  fi
done
[ ${#missing[@]} -eq 0 ] && exit 0

echo "install-bench-deps: installing ${missing[*]}" >&2
SUDO=""
if [ "$(id -u)" -ne 0 ]; then
  command -v sudo >/dev/null || { echo "install-bench-deps: need root or sudo to install: ${missing[*]}" >&2; exit 1; }
  SUDO="sudo"
fi
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq >/dev/null
$SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
