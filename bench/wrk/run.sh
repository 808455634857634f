#!/usr/bin/env bash
# Family pages and searches under wrk (Debian's `wrk`): a load generator in C
# that takes a small share of the two cores, so the figures show the server's
# cost rather than the Rust harness's. One signed-in session, shared by every
# connection; loopback only.
#
#   bench/wrk/run.sh [BASE] [CONNECTIONS] [SECONDS] [USER]
#
# Prints wrk's report (with --latency percentiles) for the family page, then
# for search. Needs: curl, wrk, a running Kindred server with the demo.
set -euo pipefail
base=${1:-http://127.0.0.1:8383}
connections=${2:-50}
seconds=${3:-30}
user=${4:-manager@westminster.example}
password=${KINDRED_BENCH_PASSWORD:-kindred-demo-2026}
case "$base" in
  http://127.0.0.1:*|http://localhost:*|http://\[::1\]:*) ;;
  *) echo "refusing $base: loopback only" >&2; exit 2 ;;
esac
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
jar="$work/jar"
csrf_of() { grep -o 'name="csrf" value="[^"]*"' | head -n1 | sed 's/.*value="//; s/"$//'; }

token=$(curl -sf -c "$jar" -b "$jar" "$base/login" | csrf_of)
code=$(curl -s -o /dev/null -w '%{http_code}' -c "$jar" -b "$jar" \
  --data-urlencode "csrf=$token" --data-urlencode "email=$user" --data-urlencode "password=$password" "$base/login")
[ "$code" = 303 ] || { echo "sign-in as $user answered $code" >&2; exit 1; }
search_csrf=$(curl -sf -c "$jar" -b "$jar" "$base/search" | csrf_of)
# Every cookie in the jar (curl marks HttpOnly ones with a #HttpOnly_ prefix).
cookie=$(sed -n 's/^#HttpOnly_//; /^#/d; /^$/d; p' "$jar" | awk -F'\t' '{printf "%s%s=%s", sep, $6, $7; sep="; "}')
# The family ids the user may see, from the first 40 pages of their home page.
ids=$(for p in $(seq 1 40); do curl -sf -b "$jar" "$base/?page=$p"; done |
  grep -o 'href="/families/[0-9]*"' | grep -o '[0-9]*' | sort -un | paste -sd, -)
[ -n "$ids" ] || { echo "no families visible to $user" >&2; exit 1; }

cat > "$work/family.lua" <<LUA
local ids = {$ids}
wrk.headers["Cookie"] = "$cookie"
math.randomseed(1)
request = function()
  return wrk.format("GET", "/families/" .. ids[math.random(#ids)])
end
done = function(summary, latency, requests)
  io.write(string.format("non-2xx or errors: %d\n", summary.errors.status + summary.errors.connect + summary.errors.read + summary.errors.write + summary.errors.timeout))
end
LUA
cat > "$work/search.lua" <<LUA
local names = {"Smith", "Khan", "Patel", "Jones", "Okafor", "Smiht", "Kahn", "Pattel", "Jnoes", "Okafur"}
wrk.headers["Cookie"] = "$cookie"
wrk.headers["Content-Type"] = "application/x-www-form-urlencoded"
math.randomseed(1)
request = function()
  local body = "csrf=$search_csrf&name=" .. names[math.random(#names)] .. "&dob_day=&dob_month=&dob_year=&nhs_number=&postcode="
  return wrk.format("POST", "/search", nil, body)
end
done = function(summary, latency, requests)
  io.write(string.format("non-2xx or errors: %d\n", summary.errors.status + summary.errors.connect + summary.errors.read + summary.errors.write + summary.errors.timeout))
end
LUA
echo "== family page: $connections connections, ${seconds}s, $(echo "$ids" | tr , '\n' | wc -l) families"
wrk -t2 -c"$connections" -d"${seconds}s" --timeout 60s --latency -s "$work/family.lua" "$base"
echo "== search: $connections connections, ${seconds}s"
wrk -t2 -c"$connections" -d"${seconds}s" --timeout 60s --latency -s "$work/search.lua" "$base"
