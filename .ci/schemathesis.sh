#!/usr/bin/env bash
# A property-based run of Kindred's own JSON API: schemathesis (from PyPI)
# generates requests from /api/openapi.json against a demo server on
# loopback, with a demo partner system's token, and fails on any 5xx.
# Usage: .ci/schemathesis.sh [path/to/kindred]   (default target/release/kindred)
set -euo pipefail
cd "$(dirname "$0")/.."
BIN="${1:-$PWD/target/release/kindred}"
work="$(mktemp -d)"
port="${SCHEMATHESIS_PORT:-18181}"
base="http://127.0.0.1:$port"

python3 -m venv "$work/venv"
"$work/venv/bin/pip" install -q "schemathesis==4.32.5"

"$BIN" demo --db "sqlite://$work/st.db" --families 200 --listen "127.0.0.1:$port" > "$work/demo.log" 2>&1 &
pid=$!
trap 'kill "$pid" 2>/dev/null || true; rm -rf "$work"' EXIT
for _ in $(seq 1 180); do
  curl -fsS "$base/healthz" > /dev/null 2>&1 && break
  kill -0 "$pid" 2>/dev/null || { cat "$work/demo.log"; exit 1; }
  sleep 1
done

token="$(curl -fsS -u demo-hv-westminster:kindred-demo-client-secret-2026 \
  -d grant_type=client_credentials -d scope=api "$base/oauth/token" |
  python3 -c 'import json, sys; print(json.load(sys.stdin)["access_token"])')"

"$work/venv/bin/schemathesis" run "$base/api/openapi.json" \
  --url "$base" \
  --header "Authorization: Bearer $token" \
  --checks not_a_server_error \
  --max-examples "${SCHEMATHESIS_EXAMPLES:-150}" \
  --workers 1
