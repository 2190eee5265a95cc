#!/usr/bin/env bash
# report_browser.sh — opens rendered reports in headless Chromium (Debian's
# chromium, installed by scripts/install-deps.sh) through the DevTools
# protocol (report_cdp.py): the charts drew, hover shows exact values, a
# drag zooms, a flame-graph click zooms, no console errors, no network
# requests besides the file itself. Screenshots and the pages are kept in
# $MV_BUILD/Testing/artifacts/ as test artefacts. SKIP when chromium is
# missing.
set -euo pipefail
: "${MEMVIGIL:?MEMVIGIL must name the memvigil binary}"
: "${MV_BUILD:?MV_BUILD must name the build directory}"
: "${MV_FIXTURES:?MV_FIXTURES must name tests/fixtures}"
here=$(cd "$(dirname "$0")" && pwd)
F="$MV_FIXTURES/report"
command -v chromium >/dev/null || { echo "SKIP: chromium not installed (scripts/install-deps.sh)"; exit 0; }
out="$MV_BUILD/Testing/artifacts"
mkdir -p "$out"

check() {  # check NAME EXPECTED_CHARTS [report args...] [-- cdp flags]
    local name=$1 charts=$2; shift 2
    local args=() flags=()
    while [ $# -gt 0 ] && [ "$1" != "--" ]; do args+=("$1"); shift; done
    [ $# -gt 0 ] && { shift; flags=("$@"); }
    "$MEMVIGIL" report -o "$out/report-$name.html" "${args[@]}"
    if ! timeout 180 python3 "$here/report_cdp.py" "file://$out/report-$name.html" \
            "$out/report-$name.png" --expect-charts "$charts" "${flags[@]}" >"$out/report-$name.cdp.json"; then
        cat "$out/report-$name.cdp.json" >&2
        echo "FAIL: report_browser: $name" >&2
        exit 1
    fi
    echo "ok: $name: $(cat "$out/report-$name.cdp.json")"
}

check leak-heap 2 --heap "$F/heap" "$F/leak.jsonl" -- --flame
check app-records 4 "$F/app_records.jsonl"
check oom 1 "$F/oom_killed.jsonl"
echo "PASS: report_browser (screenshots in $out)"
