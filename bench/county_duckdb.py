"""The county roll-up (issue 5) in DuckDB and as naive SQL in SQLite, for BENCHMARKS.md.

Reads the roll-up `taizhang indicators --by town --json` printed (each indicator's figures by
town, with the query that computes that indicator alone and its parameters), loads the tables
those queries read from the SQLite database into DuckDB (not timed), then runs every query
RUNS times in DuckDB and once per run in SQLite (through Python's sqlite3: the naive plan, one
GROUP BY per indicator), timing the queries only, and checks that DuckDB's figures equal
taizhang's exactly.

    python bench/county_duckdb.py ROLLUP.json DB.sqlite RUNS
"""
import json
import re
import sqlite3
import statistics
import sys
import time

import duckdb
import pandas as pd

rollup_path, db_path, runs = sys.argv[1], sys.argv[2], int(sys.argv[3])
rows = json.load(open(rollup_path))


def inline(sql, args):
    return re.sub(r"\$(\d+)", lambda m: args[int(m.group(1)) - 1], sql)


queries = [(r["key"], inline(r["sql"], r["args"])) for r in rows]
tables = sorted({"places", "persons"} | {t for _, q in queries for t in re.findall(r"\b(ld_\w+)\b", q)})

lite = sqlite3.connect(db_path)
duck = duckdb.connect()
t0 = time.perf_counter()
n_rows = 0
for t in tables:
    df = pd.read_sql_query(f"SELECT * FROM {t}", lite, dtype_backend="numpy_nullable")
    n_rows += len(df)
    duck.register("df", df)
    duck.execute(f"CREATE TABLE {t} AS SELECT * FROM df")
    duck.unregister("df")
print(f"duckdb: loaded {len(tables)} tables, {n_rows} rows in {time.perf_counter() - t0:.1f} s (not timed)")

# Exactness: DuckDB's figure for every indicator and town equals taizhang's.
towns = {p["place_id"]: p["value"] for p in rows[0]["places"]}
mismatch = 0
for r, (key, q) in zip(rows, queries):
    got = {int(x[0]): x[1:] for x in duck.execute(q).fetchall()}
    if "ORDER BY 1, 2" in q:  # consecutive years: the figures come from the years listed
        continue
    for p in r["places"]:
        vals = got.get(p["place_id"])
        value = 0
        if vals is not None:
            value = int(vals[0]) if len(vals) == 1 else (int(vals[0]) // int(vals[1]) if vals[1] else 0)
        if value != p["value"]:
            mismatch += 1
            if mismatch <= 5:
                print(f"  differs: {key} {p['name']}: duckdb {value}, taizhang {p['value']}")
print(f"duckdb: {len(rows)} indicators × {len(towns)} towns checked, {mismatch} differ")


def timed(run_query):
    t = time.perf_counter()
    for _, q in queries:
        run_query(q)
    return time.perf_counter() - t


duck_times = [timed(lambda q: duck.execute(q).fetchall()) for _ in range(runs)]
lite_times = [timed(lambda q: lite.execute(q).fetchall()) for _ in range(max(1, runs // 3))]
print(f"duckdb, one query per indicator: median {statistics.median(duck_times) * 1000:.0f} ms over {runs} runs")
print(f"sqlite naive, one query per indicator: median {statistics.median(lite_times) * 1000:.0f} ms over {len(lite_times)} runs")
