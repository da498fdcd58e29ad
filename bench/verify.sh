#!/usr/bin/env bash
# 校核 of a 10-page draft (issue 17; results in BENCHMARKS.md): the seed document repeated twice
# (6,518 characters, about 10.6 pages of 28 × 22 characters, 234 figures) verified against the
# demo town 北斗溪镇 for 2023 on SQLite, `taizhang verify` end to end as a clerk runs it (process
# start, the phrase table from the built-in template, every figure found, matched, evaluated
# and judged), RUNS times each; medians printed. Goal: under 1 s.
#
# With PG_URL naming a PostgreSQL database, the demo town is built there (when it is empty) and
# the same draft is timed on it.
#
#   bash bench/verify.sh            # RUNS=7 PG_URL= DIR=/tmp/taizhang-bench-verify
set -euo pipefail
cd "$(dirname "$0")/.."
RUNS=${RUNS:-7}
PG_URL=${PG_URL:-}
DIR=${DIR:-/tmp/taizhang-bench-verify}
cargo build --release -q -p taizhang
T=target/release/taizhang
mkdir -p "$DIR"
if [ ! -f "$DIR/taizhang.db" ]; then
    $T demo --out "$DIR" --no-serve --force > /dev/null
fi
SEED=docs/seed/beidouxi-2023-summary.txt
DRAFT="$DIR/draft-10-pages.txt"
cat "$SEED" "$SEED" > "$DRAFT"
echo "draft: $(wc -m < "$DRAFT") characters"
$T --db "$DIR/taizhang.db" verify "$DRAFT" --year 2023 | sed -n 2p
median() { sort -n | awk '{ a[NR] = $1 } END { print a[int((NR + 1) / 2)] }'; }
time_verify() { # label db args...
    local label=$1 db=$2; shift 2
    for _ in $(seq 1 "$RUNS"); do
        s=$(date +%s%N)
        $T --db "$db" verify "$DRAFT" --year 2023 "$@" > /dev/null
        e=$(date +%s%N)
        echo $(( (e - s) / 1000000 ))
    done | median | xargs printf "%-36s median %5s ms over $RUNS runs\n" "$label"
}
time_verify "SQLite, text report" "$DIR/taizhang.db"
time_verify "SQLite, --json" "$DIR/taizhang.db" --json
time_verify "SQLite, -o marked.docx" "$DIR/taizhang.db" -o "$DIR/marked.docx"
time_verify "SQLite, -o marked.html" "$DIR/taizhang.db" -o "$DIR/marked.html"
if [ -n "$PG_URL" ]; then
    if ! psql "$PG_URL" -tAc "SELECT 1 FROM places LIMIT 1" 2>/dev/null | grep -q 1; then
        $T --db "$PG_URL" demo --out "$DIR/pg" --no-serve > /dev/null
    fi
    time_verify "PostgreSQL, text report" "$PG_URL"
    time_verify "PostgreSQL, -o marked.docx" "$PG_URL" -o "$DIR/pg-marked.docx"
fi
