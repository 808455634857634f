"""The same aggregation as Kindred's report, in DuckDB.

Loads the contacts that `kindred-bench-reports export` wrote (tenant, hub,
date: the rows the SQLite report counts) into an in-memory DuckDB table —
not timed — then times only the query: contacts by hub and month, counted,
one warm-up run and then RUNS runs, median. Prints one line of figures.
"""

import statistics
import sys
import time

import duckdb

path, runs = sys.argv[1], int(sys.argv[2]) if len(sys.argv) > 2 else 7
con = duckdb.connect()
con.execute(
    "CREATE TABLE contacts AS SELECT * FROM read_csv(?, header = true, "
    "columns = {'tenant_id': 'BIGINT', 'hub_site_id': 'BIGINT', 'occurred_on': 'DATE'})",
    [path],
)
tenant = con.execute("SELECT min(tenant_id) FROM contacts").fetchone()[0]
QUERY = (
    "SELECT hub_site_id, substr(CAST(occurred_on AS VARCHAR), 1, 7) AS month, count(*) "
    "FROM contacts WHERE tenant_id = ? GROUP BY 1, 2"
)
rows = con.execute(QUERY, [tenant]).fetchall()
times = []
for _ in range(runs):
    t0 = time.perf_counter()
    rows = con.execute(QUERY, [tenant]).fetchall()
    times.append(time.perf_counter() - t0)
times.sort()
print(
    f"duckdb_median_s={statistics.median(times):.4f} min_s={times[0]:.4f} max_s={times[-1]:.4f} "
    f"runs={runs} groups={len(rows)} contacts={sum(r[2] for r in rows)} "
    f"threads={con.execute('SELECT current_setting(' + chr(39) + 'threads' + chr(39) + ')').fetchone()[0]} "
    f"version={duckdb.__version__}"
)
