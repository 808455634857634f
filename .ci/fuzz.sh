#!/usr/bin/env bash
# A bounded cargo-fuzz run (issue 9): first every input that once crashed a
# target (fuzz/regressions/<target>/), then each target for a few seconds.
# Needs the nightly toolchain (present on development and CI machines) and
# cargo-fuzz from crates.io, installed here if missing.
set -euo pipefail
cd "$(dirname "$0")/../fuzz"
SECONDS_EACH="${1:-15}"
if ! cargo fuzz --version >/dev/null 2>&1; then
  cargo install --locked cargo-fuzz
fi
cargo +nightly fuzz build
for target in $(cargo +nightly fuzz list); do
  if [ -d "regressions/$target" ]; then
    cargo +nightly fuzz run "$target" regressions/"$target"/* -- -rss_limit_mb=2048
  fi
  log="$(mktemp)"
  if ! cargo +nightly fuzz run "$target" -- -max_total_time="$SECONDS_EACH" -rss_limit_mb=2048 >"$log" 2>&1; then
    tail -n 40 "$log"
    echo "fuzz target $target failed: the crashing input is in fuzz/artifacts/$target/" >&2
    exit 1
  fi
  echo "$target: $(grep -E '^Done' "$log")"
  rm -f "$log"
done
