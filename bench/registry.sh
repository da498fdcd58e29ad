#!/usr/bin/env bash
# Registry (花名册) import benchmark (issue 15, item 12a; results in BENCHMARKS.md). Generates a
# 花名册 of PERSONS persons in households of four (crates/exchange/examples/bench_files.rs
# `roster`) and, side by side in one run, on SQLite (and on PostgreSQL when PG_URL is set):
#   - `taizhang import --ledger persons` into a fresh database (every person new, every
#     household created, relations resolved), batched;
#   - the same import again (every row 未变);
#   - both again row by row (TAIZHANG_REGISTRY_ROW_BY_ROW=1: the per-row path every unusual row
#     takes, which was the only path before), on the first ROW_PERSONS rows only, since it is
#     slow; its rate is what it is compared with.
# Each is run RUNS times (default 3); wall time and peak RSS come from /usr/bin/time.
#
#   bash bench/registry.sh      # PERSONS=200000 ROW_PERSONS=20000 RUNS=3
# NO_BUILD=1 uses the binaries already built (TAIZHANG=path: another taizhang to measure).
#   PG_URL=postgres://postgres@127.0.0.1:5432/postgres bash bench/registry.sh
set -euo pipefail
cd "$(dirname "$0")/.."
PERSONS=${PERSONS:-200000}
ROW_PERSONS=${ROW_PERSONS:-20000}
RUNS=${RUNS:-3}
DIR=${DIR:-/tmp/taizhang-bench-registry}
PG_URL=${PG_URL:-}
mkdir -p "$DIR"

# NO_BUILD=1: use the binaries already built (while the tree is mid-edit).
if [ -z "${NO_BUILD:-}" ]; then
    cargo build --release -q -p taizhang
    cargo build --release -q -p taizhang-exchange --examples
fi
T=${TAIZHANG:-target/release/taizhang}
for n in "$PERSONS" "$ROW_PERSONS"; do
    if [ ! -f "$DIR/roster-$n.xlsx" ]; then
        target/release/examples/bench_files roster "$DIR/tmp" "$n" >/dev/null
        mv "$DIR/tmp/roster.xlsx" "$DIR/roster-$n.xlsx"
    fi
done

VILLAGES="北斗溪村 龙潭村 新屋村 大溪村 坪溪村 桐木村 茅坪村 竹园村"
# A town and its villages, nothing else.
setup() { # db
    $T --db "$1" init --town 北斗溪镇 --code 431224104000 --county 溆浦县 >/dev/null
    for v in $VILLAGES; do $T --db "$1" place add --parent 北斗溪镇 --name "$v" >/dev/null; done
}
BASE="$DIR/base.db"
[ -f "$BASE" ] || setup "$BASE"
# The base with its write-ahead log, if SQLite left one.
fresh_sqlite() { rm -f "$DIR"/run.db*; for f in "$BASE"*; do cp "$f" "$DIR/run.db${f#"$BASE"}"; done; echo "$DIR/run.db"; }
fresh_pg() {
    local db=taizhang_bench_registry
    psql -q "$PG_URL" -c "DROP DATABASE IF EXISTS $db" -c "CREATE DATABASE $db" >/dev/null
    local url="${PG_URL%/*}/$db"
    setup "$url"
    echo "$url"
}

results="$DIR/results.tsv"
: > "$results"
measure() { # label rows command...
    local label=$1 rows=$2; shift 2
    /usr/bin/time -f "%e %M" -o "$DIR/time.txt" "$@" > "$DIR/out.txt" 2>&1 || { cat "$DIR/out.txt"; exit 1; }
    read -r secs kb < "$DIR/time.txt"
    printf '%s\t%s\t%s\t%s\n' "$label" "$secs" "$kb" "$rows" >> "$results"
    printf '%-34s %8.2f s %6.0f MB  %9.0f persons/s   %s\n' "$label" "$secs" "$((kb / 1024))" "$(echo "$rows / $secs" | bc -l)" "$(grep -o '读取.*' "$DIR/out.txt" | head -1)"
}

engines="sqlite"
[ -n "$PG_URL" ] && engines="sqlite postgres"
for run in $(seq 1 "$RUNS"); do
    for e in $engines; do
        db=$([ "$e" = sqlite ] && fresh_sqlite || fresh_pg)
        measure "$e batched import" "$PERSONS" $T --db "$db" import --ledger persons "$DIR/roster-$PERSONS.xlsx"
        measure "$e batched re-import" "$PERSONS" $T --db "$db" import --ledger persons "$DIR/roster-$PERSONS.xlsx"
        db=$([ "$e" = sqlite ] && fresh_sqlite || fresh_pg)
        measure "$e row-by-row import" "$ROW_PERSONS" env TAIZHANG_REGISTRY_ROW_BY_ROW=1 $T --db "$db" import --ledger persons "$DIR/roster-$ROW_PERSONS.xlsx"
        measure "$e row-by-row re-import" "$ROW_PERSONS" env TAIZHANG_REGISTRY_ROW_BY_ROW=1 $T --db "$db" import --ledger persons "$DIR/roster-$ROW_PERSONS.xlsx"
    done
done

echo
echo "medians over runs:"
sort -t$'\t' -k1,1 -k2,2n "$results" | awk -F'\t' '
    { n[$1]++; t[$1, n[$1]] = $2; m[$1, n[$1]] = $3; rows[$1] = $4 }
    END {
        for (k in n) {
            mid = int((n[k] + 1) / 2); secs = t[k, mid]
            mx = 0; for (i = 1; i <= n[k]; i++) if (m[k, i] > mx) mx = m[k, i]
            printf "%-34s median %7.2f s  %9.0f persons/s  peak %5.0f MB  (%d runs, %d persons)\n", k, secs, rows[k] / secs, mx / 1024, n[k], rows[k]
        }
    }' | sort
