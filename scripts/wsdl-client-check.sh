#!/usr/bin/env bash
# Generates SOAP clients from the mock's own ?wsdl documents with zeep, an
# independent WSDL/XSD consumer (Python, installed from PyPI into a venv under
# target/), and calls authenticated operations through them: every service's
# WSDL must load, and the generated clients must log in, read, write and get
# the variant's WS-Security fault.
#
#   scripts/wsdl-client-check.sh              # oscar, open-o and juno
#   scripts/wsdl-client-check.sh juno         # one profile
#   EMR_CONFORMANCE=path/to/binary scripts/wsdl-client-check.sh
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
venv="$root/target/wsdl-check-venv"
if [ ! -x "$venv/bin/python" ] || ! "$venv/bin/python" -c 'import zeep' 2>/dev/null; then
    python3 -m venv "$venv"
    "$venv/bin/pip" install --quiet --disable-pip-version-check 'zeep==4.3.1'
fi

bin="${EMR_CONFORMANCE:-$root/target/release/emr-conformance}"
if [ ! -x "$bin" ]; then
    cargo build --release --quiet --manifest-path "$root/Cargo.toml"
fi

if [ "$#" -gt 0 ]; then profiles=("$@"); else profiles=(oscar open-o juno); fi

work=$(mktemp -d)
mock_pid=""
cleanup() {
    if [ -n "$mock_pid" ]; then kill "$mock_pid" 2>/dev/null || true; wait "$mock_pid" 2>/dev/null || true; fi
    rm -rf "$work"
}
trap cleanup EXIT

for profile in "${profiles[@]}"; do
    "$bin" mock --profile "$profile" --addr 127.0.0.1:0 >"$work/out" 2>"$work/err" &
    mock_pid=$!
    url=""
    for _ in $(seq 1 100); do
        url=$(sed -n 's/^listening on //p' "$work/out" | head -1)
        [ -n "$url" ] && break
        sleep 0.1
    done
    if [ -z "$url" ]; then
        echo "the $profile mock did not start:" >&2
        cat "$work/err" >&2
        exit 1
    fi
    "$venv/bin/python" "$root/scripts/wsdl_client_check.py" "$url" "$profile"
    kill "$mock_pid"
    wait "$mock_pid" 2>/dev/null || true
    mock_pid=""
done
