#!/usr/bin/env bash
# Renders an HTML report in headless Chromium (Debian's package) and checks
# that it rendered: the page's script ran and the summary is in the DOM.
# Writes a screenshot beside the report.
#
#   scripts/render-report.sh [target/conformance/report.html]
set -euo pipefail
report="${1:-target/conformance/report.html}"
[ -f "$report" ] || { echo "no report at $report: run \`cargo run --release -- run\` first" >&2; exit 2; }
if [ ! -x /usr/bin/chromium ]; then
  echo "installing Debian's chromium..." >&2
  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null
fi
url="file://$(cd "$(dirname "$report")" && pwd)/$(basename "$report")"
profile="$(mktemp -d)"
trap 'rm -rf "$profile"' EXIT
flags=(--headless --no-sandbox --disable-gpu --disable-quic --no-first-run
       --disable-background-networking --disable-component-update --disable-sync
       "--user-data-dir=$profile")
dom="$(/usr/bin/chromium "${flags[@]}" --dump-dom "$url" 2>/dev/null)"
grep -q 'data-rendered="true"' <<<"$dom" || { echo "FAIL: the report's script did not run" >&2; exit 1; }
grep -q 'id="summary"' <<<"$dom" || { echo "FAIL: no summary in the rendered DOM" >&2; exit 1; }
shot="${report%.html}.png"
/usr/bin/chromium "${flags[@]}" --window-size=1280,1600 --screenshot="$shot" "$url" >/dev/null 2>&1 || true
failures="$(grep -o 'data-failures="[0-9]*"' <<<"$dom" | head -1)"
echo "rendered $report in $(/usr/bin/chromium --version 2>/dev/null): ok ($failures)${shot:+; screenshot $shot}"
