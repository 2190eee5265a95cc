#!/usr/bin/env bash
# Installs the Debian packages used only by the heap-profiler benchmark
# (bench/heap/run.sh); the list lives in install-deps.sh (--bench).
exec "$(dirname "$0")/install-deps.sh" --bench
