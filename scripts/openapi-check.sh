#!/usr/bin/env bash
# An independent, OpenAPI-driven check of the mock's Standard and Patient
# Portal APIs: Schemathesis (https://schemathesis.readthedocs.io) reads the
# OpenAPI document the mock serves (/swagger/openemr-api.json), generates
# requests for every operation, and checks each response's status, media
# type and body against the document.
#
#   scripts/openapi-check.sh                 # openemr profile, 50 examples per operation
#   PROFILE=emedpractice MAX_EXAMPLES=20 scripts/openapi-check.sh
#
# It installs Schemathesis into a virtual environment (target/schemathesis-venv),
# starts `emr-conformance mock` on a free port, enables the password grant
# through the mock's admin API, takes a staff token with every Standard API
# scope, and runs `st run` over the Standard API; then, with the portal
# patient's token, over the Patient Portal API. Exit status: Schemathesis's.
set -euo pipefail

cd "$(dirname "$0")/.."
PROFILE="${PROFILE:-openemr}"
MAX_EXAMPLES="${MAX_EXAMPLES:-50}"
VENV="${VENV:-target/schemathesis-venv}"

if [ ! -x "$VENV/bin/st" ]; then
  python3 -m venv "$VENV"
  "$VENV/bin/pip" install --quiet 'schemathesis>=4,<5'
fi

cargo build --release --quiet
log="$(mktemp)"
target/release/emr-conformance mock --profile "$PROFILE" --addr 127.0.0.1:0 >"$log" 2>&1 &
mock_pid=$!
trap 'kill "$mock_pid" 2>/dev/null || true; rm -f "$log"' EXIT
for _ in $(seq 1 100); do
  grep -q '^listening on ' "$log" && break
  sleep 0.1
done
base="$(sed -n 's/^listening on //p' "$log" | head -n1)"
[ -n "$base" ] || { echo "the mock did not start:" >&2; cat "$log" >&2; exit 1; }

json() { python3 -c "import json,sys; d=json.load(sys.stdin); print(eval(sys.argv[1]))" "$1"; }
creds="$(curl -fsS "$base/__admin/credentials")"
if [ "$PROFILE" = emedpractice ]; then
  token_url="$base/connect/token"; api_base="$base"
else
  token_url="$base/oauth2/default/token"; api_base="$base/apis/default"
fi
client_id="$(printf '%s' "$creds" | json 'd["sites"]["default"]["oauth2"]["confidential"]["client_id"]')"
client_secret="$(printf '%s' "$creds" | json 'd["sites"]["default"]["oauth2"]["confidential"]["client_secret"]')"
scopes="$(printf '%s' "$creds" | json '" ".join(s for s in d["sites"]["default"]["oauth2"]["confidential"]["scope"].split() if s.startswith("user/") and s.endswith(".cruds") and s.split("/")[1][0].islower())')"
curl -fsS -X POST "$base/__admin/openemr/settings" -H 'Content-Type: application/json' -d '{"password_grant": true}' >/dev/null
token="$(curl -fsS -u "$client_id:$client_secret" "$token_url" \
  --data-urlencode grant_type=password --data-urlencode user_role=users \
  --data-urlencode username=admin --data-urlencode password=pass \
  --data-urlencode "scope=openid api:oemr api:port $scopes user/insurance.\$swap-insurance" \
  | json 'd["access_token"]')"

checks=status_code_conformance,content_type_conformance,response_schema_conformance

# The Standard API, as the administrator.
"$VENV/bin/st" run "$base/swagger/openemr-api.json" \
  --url "$api_base" \
  --header "Authorization: Bearer $token" \
  --exclude-path-regex '^/portal/' \
  --checks "$checks" --max-examples "$MAX_EXAMPLES" --seed 1 --no-color

# The Patient Portal API, as the seeded portal patient (public client).
public_id="$(printf '%s' "$creds" | json 'd["sites"]["default"]["oauth2"]["public"]["client_id"]')"
email="$(printf '%s' "$creds" | json 'd["sites"]["default"]["patients"][0]["email"]')"
patient_token="$(curl -fsS "$token_url" \
  --data-urlencode grant_type=password --data-urlencode user_role=patient \
  --data-urlencode client_id="$public_id" \
  --data-urlencode username=Phil1 --data-urlencode password=phil --data-urlencode email="$email" \
  --data-urlencode "scope=openid api:port patient/patient.read patient/encounter.read patient/appointment.read" \
  | json 'd["access_token"]')"
"$VENV/bin/st" run "$base/swagger/openemr-api.json" \
  --url "$api_base" \
  --header "Authorization: Bearer $patient_token" \
  --include-path-regex '^/portal/' \
  --checks "$checks" --max-examples "$MAX_EXAMPLES" --seed 1 --no-color
