#!/usr/bin/env bash
# `kindred link` against Splink 5.0.0 on the shared synthetic benchmark, end to end:
# sets up the Python environment, generates the data (checking its SHA-256),
# builds kindred, runs the shared side-by-side harness at 100k and 1M records,
# counts false matches within households for both tools, and runs kindred
# alone at 5M records (Splink needs 15 GiB there; it is not run).
#
#   bench/linkage/compare.sh [WORKDIR]        # default WORKDIR: /work/linkbench
#   SIZES="100k 1m" FIVE_M=0 bench/linkage/compare.sh
#
# Results go to WORKDIR/results/<size>/ ; the summary lines are printed.
set -euo pipefail
REPO=$(cd "$(dirname "$0")/../.." && pwd)
SHARED=${SHARED:-$REPO/../shared/bench/linkage}
WORK=${1:-/work/linkbench}
SIZES=${SIZES-100k 1m}
FIVE_M=${FIVE_M:-1}
PY=$WORK/.venv/bin/python
mkdir -p "$WORK/data" "$WORK/results"

if [ ! -x "$PY" ]; then
    python3 -m venv "$WORK/.venv"
    "$WORK/.venv/bin/pip" install -q -r "$SHARED/requirements.lock.txt"
fi

records() { case $1 in 100k) echo 100000 ;; 1m) echo 1000000 ;; 5m) echo 5000000 ;; esac; }
gen() {
    local f=$WORK/data/persons_$1.csv
    if [ ! -f "$f" ]; then
        "$PY" "$SHARED/gen_persons.py" --records "$(records "$1")" --seed 20240601 --out "$f" >/dev/null
    fi
    local want got
    want=$(awk '{print $1}' "$SHARED/expected_sha256/persons_$1.csv.sha256")
    got=$(sha256sum "$f" | awk '{print $1}')
    [ "$want" = "$got" ] || { echo "persons_$1.csv: sha256 $got, expected $want" >&2; exit 1; }
}

(cd "$REPO" && cargo build --release -p kindred)
KINDRED=$REPO/target/release/kindred

for size in $SIZES; do
    gen "$size"
    out=$WORK/results/$size
    echo "== $size: Splink and kindred, same data, same machine, one run"
    (cd "$SHARED" && PY=$PY ./compare.sh "$KINDRED" "$WORK/data/persons_$size.csv" "$out") | tee "$out.summary"
    # false matches within households; Splink's predictions are saved by a second, untimed run
    (cd "$SHARED" && "$PY" run_synthetic.py "$WORK/data/persons_$size.csv" --out "$out/splink_preds.json" \
        --save-preds "$out/splink_preds.parquet" >"$out/splink_preds.log" 2>&1)
    "$PY" "$REPO/bench/linkage/household_false_matches.py" "$WORK/data/persons_$size.csv" \
        "$out/splink_preds.parquet" --out "$out/splink_household.json" >/dev/null
    "$PY" "$REPO/bench/linkage/household_false_matches.py" "$WORK/data/persons_$size.csv" \
        "$out/pairs.csv" --out "$out/kindred_household.json" >/dev/null
    "$PY" - "$out" <<'PYEOF' | tee -a "$out.summary"
import json, sys
out = sys.argv[1]
s, k = (json.load(open(f"{out}/{t}_household.json")) for t in ("splink", "kindred"))
print(f"household false matches at p>=0.9: splink {s['household_false_matches']} "
      f"(twins {s['twins']}, parent/child {s['parent_and_child']}, other {s['other_household']}); "
      f"kindred {k['household_false_matches']} (twins {k['twins']}, parent/child {k['parent_and_child']}, "
      f"other {k['other_household']}); ratio {k['household_false_matches'] / max(1, s['household_false_matches']):.3f}")
PYEOF
done

if [ "$FIVE_M" = 1 ]; then
    gen 5m
    out=$WORK/results/5m
    mkdir -p "$out"
    echo "== 5m: kindred alone"
    "$PY" - "$WORK/data/persons_5m.csv" "$out/input.csv" <<'PYEOF'
import csv, sys
with open(sys.argv[1], newline="") as f, open(sys.argv[2], "w", newline="") as g:
    r = csv.DictReader(f)
    keep = [c for c in r.fieldnames if c not in ("person_id", "household_id")]
    w = csv.DictWriter(g, fieldnames=keep, extrasaction="ignore")
    w.writeheader()
    for row in r:
        w.writerow(row)
PYEOF
    /usr/bin/time -v "$KINDRED" link --input "$out/input.csv" --output "$out/pairs.csv" \
        --clusters "$out/clusters.csv" --threshold 0.9 --seed 42 >"$out/kindred.log" 2>"$out/kindred.time"
    (cd "$SHARED" && "$PY" score_kindred.py "$WORK/data/persons_5m.csv" "$out/pairs.csv" \
        --clusters "$out/clusters.csv" --out "$out/kindred.json" >/dev/null)
    "$PY" "$REPO/bench/linkage/household_false_matches.py" "$WORK/data/persons_5m.csv" "$out/pairs.csv" \
        --out "$out/kindred_household.json" >/dev/null
    "$PY" - "$out" <<'PYEOF' | tee "$out.summary"
import json, re, sys
out = sys.argv[1]
t = open(f"{out}/kindred.time").read()
rss = int(re.search(r"Maximum resident set size \(kbytes\): (\d+)", t).group(1))
wall = re.search(r"Elapsed \(wall clock\) time \(h:mm:ss or m:ss\): (\S+)", t).group(1)
secs = sum(float(x) * 60 ** i for i, x in enumerate(reversed(wall.split(":"))))
k = json.load(open(f"{out}/kindred.json")); h = json.load(open(f"{out}/kindred_household.json"))
e = next(m for m in k["edge_metrics"] if abs(m["threshold"] - 0.9) < 1e-9)
print(f"kindred 5m: wall {secs:.1f}s rss {rss/1024:.0f} MiB P {e['precision']:.4f} R {e['recall']:.4f} "
      f"F1 {e['f1']:.4f} household false matches {h['household_false_matches']}")
PYEOF
fi
