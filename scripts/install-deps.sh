#!/usr/bin/env bash
# Installs the Debian packages memvigil needs to build, test and benchmark
# (with --bench: the extra ones bench/heap compares against).
# Idempotent: quiet and quick when everything is present. Runs apt-get as
# root, or through sudo when not root.
set -euo pipefail

PACKAGES=(
  build-essential cmake pkg-config   # toolchain
  clang                              # second compiler (CI builds both)
  libmicrohttpd-dev                  # embedded HTTP endpoint
  libcmocka-dev                      # unit tests
  zlib1g-dev                         # pprof snapshots are gzip'd
  libcurl4-openssl-dev               # analyze --prometheus
  libjansson-dev                     # JSON inputs (Prometheus range queries)
  libdw-dev                          # heap: symbols (stacks come from libgcc_s)
  golang-go                          # `go tool pprof` validates heap snapshots
  prometheus                         # promtool, and the server for end-to-end tests
  prometheus-alertmanager            # alert delivery in the end-to-end test
  curl jq python3                    # integration tests talk HTTP / JSON
  python3-yaml                       # fleet_*.sh tests parse deploy/ YAML
  wrk                                # bench/ exporter load
  chromium                           # headless browser test of the HTML report / live page
  man-db bash-completion zsh         # man_pages.sh renders the pages, completion.sh drives the completions
  dpkg-dev debhelper fakeroot lintian  # deb_package.sh: build and check the Debian packages
  podman runc mmdebstrap             # container_image.sh: builds and runs the image, no Docker engine
  redis-server                       # heap_redis_site.sh: a real program allocating through its own wrapper
  libjemalloc2                       # alloc_*.sh: allocator figures read through mallctl (LD_PRELOAD)
)

# `--bench`: the packages used only by the heap-profiler benchmark
# (bench/heap/run.sh): the profilers it compares memvigil with and the real
# programs it runs. Not needed to build or test memvigil.
name=install-deps
if [ "${1:-}" = "--bench" ]; then
  name=install-bench-deps
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
    redis-server               # bench/leaks/real: real-time recordings of a capped / unbounded cache
    memcached                  # bench/leaks/real: real-time recording of a capped cache
  )
elif [ $# -gt 0 ]; then
  echo "usage: $0 [--bench]" >&2
  exit 2
fi

missing=()
for p in "${PACKAGES[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$p")
  fi
done
[ ${#missing[@]} -eq 0 ] && exit 0

echo "$name: installing ${missing[*]}" >&2
SUDO=""
if [ "$(id -u)" -ne 0 ]; then
  command -v sudo >/dev/null || { echo "$name: need root or sudo to install: ${missing[*]}" >&2; exit 1; }
  SUDO="sudo"
fi
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq >/dev/null
# The prometheus package would start a server where an init system runs;
# policy-rc.d stops that during the install.
if [ ! -e /usr/sbin/policy-rc.d ]; then
  printf '#!/bin/sh\nexit 101\n' | $SUDO tee /usr/sbin/policy-rc.d >/dev/null
  $SUDO chmod +x /usr/sbin/policy-rc.d
  trap '$SUDO rm -f /usr/sbin/policy-rc.d' EXIT
fi
$SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
echo "$name: done" >&2
