#!/usr/bin/env bash
# heap_cxx_names.sh — a g++ program's allocation sites read as C++ names:
# `memvigil run --heap` and `memvigil heap top|folded` name the leaking
# member functions of a class template in a namespace by their qualified,
# demangled names (store::Shelf<int>::grow), never a mangled _Z symbol, and
# an inlined lambda by the function it is in (main::{lambda}::operator());
# memory a std::vector grows is charged to the program's function that
# grows it, not to the standard library's allocator internals.
set -euo pipefail
: "${MEMVIGIL:?MEMVIGIL must name the memvigil binary}"
: "${MV_BUILD:?MV_BUILD must name the build directory}"
command -v g++ >/dev/null || { echo "FAIL: g++ not installed (build-essential)"; exit 1; }
[ -e "$MV_BUILD/src/heap/libmemvigil_heap.so" ] || [ -e "$MV_BUILD/libmemvigil_heap.so" ] ||
    { echo "SKIP: no preload library in this build"; exit 0; }
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
# shellcheck source=common.bash
. "$(dirname "$0")/common.bash"

cat >"$tmp/prog.cc" <<'CC'
#include <cstdio>
#include <cstring>
#include <unistd.h>
#include <vector>
namespace store {
template <typename T> struct Shelf {
    std::vector<T *> items;
    std::vector<char> journal;
    __attribute__((noinline)) void grow(size_t n) {
        T *p = new T[n];
        std::memset(p, 1, n * sizeof(T));
        items.push_back(p);
    }
    __attribute__((noinline)) void note(size_t n) {
        journal.insert(journal.end(), n, 'x');
    }
};
}
int main() {
    store::Shelf<int> s;
    auto feed = [&s](size_t n) { s.grow(n); };
    for (int i = 0; i < 140; i++) { feed(64 * 1024); s.note(64 * 1024); usleep(50000); }
    std::printf("%zu\n", s.items.size());
    return 0;
}
CC
g++ -O1 -g -o "$tmp/prog" "$tmp/prog.cc"

"$MEMVIGIL" run --heap --heap-interval 1s --heap-dir "$tmp/heap" --listen none --quiet \
    -- "$tmp/prog" >"$tmp/out" 2>"$tmp/err" || fail "run --heap of the C++ program"
grep -qx 140 "$tmp/out" || fail "the program did not finish"
"$MEMVIGIL" heap top "$tmp/heap" >"$tmp/out" 2>"$tmp/err" || fail "heap top"
grep -Eq "^ +1 .*store::Shelf<int>::grow \(prog.cc:[0-9]+\)" "$tmp/out" ||
    fail "heap top does not rank store::Shelf<int>::grow first"
grep -Eq "store::Shelf<int>::note \(prog.cc:[0-9]+\)" "$tmp/out" ||
    fail "the vector's growth is not charged to store::Shelf<int>::note"
if grep -Eq "  std::|__gnu_cxx::" "$tmp/out"; then fail "a standard-library frame is named as a site"; fi
# --skip: a wrapper of the program's own is skipped like malloc, so the
# caller becomes the site (here the lambda in main that calls grow)
"$MEMVIGIL" heap top "$tmp/heap" --skip 'Shelf<int>::grow$' >"$tmp/out" 2>"$tmp/err" || fail "heap top --skip"
first=$(awk '/^ +1 / {for (i = 5; i <= NF; i++) printf "%s%s", $i, (i < NF ? " " : ""); exit}' "$tmp/out")
case $first in
    *"Shelf<int>::grow"*|"") fail "--skip did not move the site off grow: '$first'" ;;
    *main*|*"operator()"*) ;;
    *) fail "--skip: rank 1 is '$first', not grow's caller in main" ;;
esac
last=$(ls "$tmp/heap"/heap-*.pb.gz | tail -1)
"$MEMVIGIL" heap folded "$last" >"$tmp/out" 2>"$tmp/err" || fail "heap folded"
grep -q ";store::Shelf<int>::grow " "$tmp/out" || fail "folded stacks lack the demangled name"
# the lambda in main, inlined (GCC gives it no linkage name), is named for
# the function it is in, as the demangler names one that is not inlined
grep -q ";main::{lambda}::operator();store::Shelf<int>::grow " "$tmp/out" ||
    fail "the inlined lambda is not named main::{lambda}::operator()"
if grep -q "_Z" "$tmp/out"; then fail "a mangled name is left in the folded stacks"; fi

# A profile that stands alone: `heap symbolize` writes Function records
# (demangled name, mangled system name, file, start line) and inlined Lines;
# go tool pprof reads a copy with no binary in reach and no symbolization,
# and heap top|folded read it as they read the address-only snapshot.
"$MEMVIGIL" heap symbolize "$last" -o "$tmp/sym.pb.gz" >"$tmp/out" 2>"$tmp/err" || fail "heap symbolize"
mkdir "$tmp/alone" "$tmp/nobin"
cp "$tmp/sym.pb.gz" "$tmp/alone/profile.pb.gz"
if command -v go >/dev/null; then
    (cd "$tmp/alone" && HOME=$tmp PPROF_TMPDIR=$tmp PPROF_BINARY_PATH=$tmp/nobin \
        go tool pprof -top -sample_index=alloc_space -symbolize=none profile.pb.gz) \
        >"$tmp/out" 2>"$tmp/err" || fail "go tool pprof -top on the copy"
    grep -q ' store::Shelf<int>::grow$' "$tmp/out" || fail "go tool pprof: no store::Shelf<int>::grow"
    grep -q ' store::Shelf<int>::note$' "$tmp/out" || fail "go tool pprof: no store::Shelf<int>::note"
    grep -q ' main$' "$tmp/out" || fail "go tool pprof: no main"
    grep -q ' main::{lambda}::operator() (inline)$' "$tmp/out" || fail "go tool pprof: no lambda"
    if grep -Eq ' (0x[0-9a-f]+|_Z[A-Za-z0-9_]+)$' "$tmp/out"; then
        fail "go tool pprof shows an address or a mangled name"
    fi
    (cd "$tmp/alone" && HOME=$tmp PPROF_TMPDIR=$tmp PPROF_BINARY_PATH=$tmp/nobin \
        go tool pprof -raw -symbolize=none profile.pb.gz) >"$tmp/out" 2>"$tmp/err" ||
        fail "go tool pprof -raw on the copy"
    grep -Eq 'store::Shelf<int>::grow .*prog\.cc:[0-9]+ s=[1-9][0-9]*\(_ZN5store5ShelfIiE4growEm\)' "$tmp/out" ||
        fail "the function record lacks its file, start line or mangled system name"
    grep -q 'Build ID: ' <(cd "$tmp/alone" && HOME=$tmp PPROF_TMPDIR=$tmp go tool pprof -top \
        -symbolize=none profile.pb.gz 2>&1) || fail "the mapping lost its build id"
fi
site=$(grep -o 'store::Shelf<int>::grow ([^)]*)' <("$MEMVIGIL" heap top "$tmp/heap") | head -1)
rm -f "$tmp/prog"   # without the binary, our own readers too
"$MEMVIGIL" heap folded "$tmp/alone/profile.pb.gz" >"$tmp/out" 2>"$tmp/err" || fail "heap folded of the copy"
grep -q ";store::Shelf<int>::grow " "$tmp/out" || fail "the copy's folded stacks lack store::Shelf<int>::grow"
"$MEMVIGIL" heap top "$tmp/alone/profile.pb.gz" >"$tmp/out" 2>"$tmp/err" || fail "heap top of the copy"
grep -Eq "store::Shelf<int>::grow \(prog.cc:[0-9]+\)" "$tmp/out" || fail "heap top of the copy"

echo "PASS: heap_cxx_names: $site"
