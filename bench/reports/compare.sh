#!/usr/bin/env bash
# The report builder's figure (issue 7, F16): contacts by hub × month over
# 1,000,000 persons and 5,000,000 contacts, through Kindred's own report code
# on SQLite, and the same aggregation in DuckDB over the same rows, in the
# same run. Prints both medians and the ratio.
#
#   bench/reports/compare.sh                 # generate once, then measure
#   REGENERATE=1 bench/reports/compare.sh    # make the data again
#   PERSONS=100000 CONTACTS=500000 bench/reports/compare.sh   # smaller
set -euo pipefail
cd "$(dirname "$0")/../.."
DATA=bench/reports/data
PERSONS=${PERSONS:-1000000}
CONTACTS=${CONTACTS:-5000000}
RUNS=${RUNS:-7}
DB="sqlite://$DATA/reports-$PERSONS-$CONTACTS.db"
CSV="$DATA/contacts-$PERSONS-$CONTACTS.csv"
mkdir -p "$DATA"
cargo build --release -q -p kindred-bench-reports
BIN=target/release/kindred-bench-reports
if [ ! -f "${DB#sqlite://}" ] || [ "${REGENERATE:-}" = 1 ]; then
  echo "generating $PERSONS persons and $CONTACTS contacts into ${DB#sqlite://} …" >&2
  /usr/bin/time -f "generate: %e s, %M KB peak RSS" "$BIN" --db "$DB" generate --persons "$PERSONS" --contacts "$CONTACTS" 2>&1 | tail -2 >&2
  rm -f "$CSV"
fi
[ -f "$CSV" ] || "$BIN" --db "$DB" export --out "$CSV"
VENV=bench/reports/.venv
if [ ! -x "$VENV/bin/python" ]; then
  python3 -m venv "$VENV"
  "$VENV/bin/pip" install -q duckdb
fi
sqlite_line=$("$BIN" --db "$DB" run --runs "$RUNS")
duck_line=$("$VENV/bin/python" bench/reports/duckdb_report.py "$CSV" "$RUNS")
echo "SQLite (Kindred's store::reports + tabulate): $sqlite_line"
echo "DuckDB (the same GROUP BY over the same rows): $duck_line"
python3 - "$sqlite_line" "$duck_line" <<'PY'
import sys
def fields(line):
    return dict(kv.split("=", 1) for kv in line.split())
s, d = fields(sys.argv[1]), fields(sys.argv[2])
assert s["groups"] == d["groups"] and s["contacts"] == d["contacts"], f"the engines disagree: {s} {d}"
sq, dk = float(s["sqlite_median_s"]), float(d["duckdb_median_s"])
print(f"same {s['groups']} groups, {s['contacts']} contacts; SQLite {sq*1000:.0f} ms, DuckDB {dk*1000:.0f} ms: SQLite/DuckDB = {sq/dk:.1f}x; goal (SQLite < 1 s): {'met' if sq < 1 else 'NOT met'}")
PY
