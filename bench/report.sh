#!/usr/bin/env bash
# One town's 2023 summary (issue 5; results in BENCHMARKS.md): the demo town 北斗溪镇 on SQLite,
# `taizhang report` end to end as a clerk runs it (process start, every indicator of the
# template, Markdown / HTML / Word written), RUNS times each; medians printed.
#
# With PG_URL naming a PostgreSQL database, the demo town is built there (when it is empty) and
# the same reports are timed on it. With COUNTY_DB (SQLite) and COUNTY_PG_URL naming the demo
# county (bench/county.sh builds them), the report for 北斗溪镇 among the 25 towns (--place) too.
#
#   bash bench/report.sh            # RUNS=7 PG_URL= COUNTY_PG_URL= COUNTY_DB=/tmp/taizhang-bench-county/db/taizhang.db
set -euo pipefail
cd "$(dirname "$0")/.."
RUNS=${RUNS:-7}
PG_URL=${PG_URL:-}
COUNTY_PG_URL=${COUNTY_PG_URL:-}
COUNTY_DB=${COUNTY_DB:-/tmp/taizhang-bench-county/db/taizhang.db}
DIR=${DIR:-/tmp/taizhang-bench-report}
cargo build --release -q -p taizhang
T=target/release/taizhang
if [ ! -f "$DIR/taizhang.db" ]; then
    $T demo --out "$DIR" --no-serve --force > /dev/null
fi
median() { sort -n | awk '{ a[NR] = $1 } END { print a[int((NR + 1) / 2)] }'; }
for ext in md html docx; do
    for _ in $(seq 1 "$RUNS"); do
        s=$(date +%s%N)
        $T --db "$DIR/taizhang.db" report --year 2023 -o "$DIR/summary.$ext" > /dev/null
        e=$(date +%s%N)
        echo $(( (e - s) / 1000000 ))
    done | median | xargs printf "report -o .%-5s median %5s ms over $RUNS runs\n" "$ext"
done
for _ in $(seq 1 "$RUNS"); do
    s=$(date +%s%N)
    $T --db "$DIR/taizhang.db" indicators --year 2023 --json > /dev/null
    e=$(date +%s%N)
    echo $(( (e - s) / 1000000 ))
done | median | xargs printf "indicators (all)  median %5s ms over $RUNS runs\n"
time_report() { # label db args...
    local label=$1 db=$2; shift 2
    for _ in $(seq 1 "$RUNS"); do
        s=$(date +%s%N)
        $T --db "$db" report --year 2023 "$@" > /dev/null
        e=$(date +%s%N)
        echo $(( (e - s) / 1000000 ))
    done | median | xargs printf "%-34s median %5s ms over $RUNS runs\n" "$label"
}
if [ -f "$COUNTY_DB" ]; then
    time_report "county SQLite, --place 北斗溪镇 .md" "$COUNTY_DB" --place 北斗溪镇 -o "$DIR/county-town.md"
fi
if [ -n "$COUNTY_PG_URL" ]; then
    time_report "county PostgreSQL, --place 北斗溪镇 .md" "$COUNTY_PG_URL" --place 北斗溪镇 -o "$DIR/pg-county-town.md"
fi
if [ -n "$PG_URL" ]; then
    if ! psql "$PG_URL" -tAc "SELECT 1 FROM places LIMIT 1" 2>/dev/null | grep -q 1; then
        $T --db "$PG_URL" demo --out "$DIR/pg" --no-serve > /dev/null
    fi
    for ext in md html docx; do
        time_report "town PostgreSQL .$ext" "$PG_URL" -o "$DIR/pg-summary.$ext"
    done
    cmp "$DIR/pg-summary.md" "$DIR/summary.md" && echo "Markdown on PostgreSQL and SQLite: identical"
fi
