#!/usr/bin/env bash
# The county roll-up (issue 5; results in BENCHMARKS.md): every indicator for every town of the
# demo county (25 towns, 1.1 M persons, 4.7 M records), side by side in one run:
#   - `taizhang indicators --year 2023 --by town --json` on SQLite, end to end (process start,
#     every indicator, JSON written), RUNS times in each of four states: nothing stored (the
#     stored figures deleted before each run), nothing changed since the last run, one record
#     rewritten in every ledger of one town (a different town each run), and one record of the
#     largest ledger rewritten in every town. Rewrites set row_version to itself: the figures
#     stay those DuckDB checks, but the triggers count each as a change;
#   - the same on PostgreSQL when PG_URL names a database (built there once; empty at first);
#   - DuckDB (from PyPI, in a venv of this script only) running each indicator's own query over
#     the same tables loaded first, queries timed only; its figures checked against taizhang's;
#   - the naive plan in SQLite: the same per-indicator queries through Python's sqlite3.
#
#   bash bench/county.sh            # RUNS=5 DIR=/tmp/taizhang-bench-county PG_URL=
set -euo pipefail
cd "$(dirname "$0")/.."
RUNS=${RUNS:-5}
DIR=${DIR:-/tmp/taizhang-bench-county}
PG_URL=${PG_URL:-}
mkdir -p "$DIR"
cargo build --release -q -p taizhang
T=$PWD/target/release/taizhang
if [ ! -f "$DIR/db/taizhang.db" ]; then
    $T demo --scale county --out "$DIR/db" --no-serve --force | tail -3
fi
if [ -n "$PG_URL" ] && ! psql "$PG_URL" -tAc "SELECT 1 FROM places LIMIT 1" 2>/dev/null | grep -q 1; then
    $T --db "$PG_URL" demo --scale county --out "$DIR/pg" --no-serve | tail -3
fi
if [ ! -x "$DIR/venv/bin/python" ]; then
    python3 -m venv "$DIR/venv"
    "$DIR/venv/bin/pip" install -q duckdb pandas
fi
median() { sort -n | awk '{ a[NR] = $1 } END { print a[int((NR + 1) / 2)] }'; }
rollup() { # label db
    for _ in $(seq 1 "$RUNS"); do
        s=$(date +%s%N)
        $T --db "$2" indicators --year 2023 --by town --json > "$DIR/rollup-$1.json"
        e=$(date +%s%N)
        echo $(( (e - s) / 1000000 ))
    done | median | xargs printf "taizhang roll-up on %-10s median %6s ms over $RUNS runs\n" "$1"
}
SQLITE_DB="$DIR/db/taizhang.db"
touch_db() { # what: forget | none | town N | everywhere
    python3 - "$SQLITE_DB" "$@" <<'PY'
import sqlite3, sys
db = sqlite3.connect(sys.argv[1])
what = sys.argv[2]
ledgers = [r[0] for r in db.execute("SELECT name FROM sqlite_master WHERE type = 'table' AND name LIKE 'ld\\_%' ESCAPE '\\'")]
towns = [r[0] for r in db.execute("SELECT path FROM places WHERE level = 'town' ORDER BY code")]
def rewrite(table, path):
    db.execute(f"UPDATE {table} SET row_version = row_version WHERE id = (SELECT id FROM {table} "
               f"WHERE place_id IN (SELECT id FROM places WHERE path LIKE ?) LIMIT 1)", (path + "%",))
if what == "forget":
    db.execute("DELETE FROM rollup_store")
elif what == "town":
    for t in ledgers:
        rewrite(t, towns[int(sys.argv[3]) % len(towns)])
elif what == "everywhere":
    biggest = max(ledgers, key=lambda t: db.execute(f"SELECT COALESCE(MAX(id), 0) FROM {t}").fetchone()[0])
    for path in towns:
        rewrite(biggest, path)
db.commit()
PY
}
stored() { # label what
    for i in $(seq 1 "$RUNS"); do
        touch_db $2 "$i"
        s=$(date +%s%N)
        $T --db "$SQLITE_DB" indicators --year 2023 --by town --json > "$DIR/rollup-sqlite-$1.json"
        e=$(date +%s%N)
        cmp -s "$DIR/rollup-sqlite-$1.json" "$DIR/rollup-sqlite.json" || { echo "figures differ: $1"; exit 1; }
        echo $(( (e - s) / 1000000 ))
    done | median | xargs printf "taizhang roll-up on sqlite, %-28s median %6s ms over $RUNS runs\n" "$1"
}
touch_db forget
$T --db "$SQLITE_DB" indicators --year 2023 --by town --json > "$DIR/rollup-sqlite.json"
stored "nothing stored" forget
stored "nothing changed" none
stored "one town changed" town
stored "largest ledger, every town" everywhere
if [ -n "$PG_URL" ]; then
    rollup postgres "$PG_URL"
    python3 - "$DIR/rollup-sqlite.json" "$DIR/rollup-postgres.json" <<'PY'
import json, sys
a, b = (json.load(open(p)) for p in sys.argv[1:3])
strip = lambda rs: [(r["key"], [(p["code"], p["value"]) for p in r["places"]]) for r in rs]
print("SQLite and PostgreSQL figures identical:", strip(a) == strip(b))
PY
fi
"$DIR/venv/bin/python" bench/county_duckdb.py "$DIR/rollup-sqlite.json" "$DIR/db/taizhang.db" "$RUNS"
