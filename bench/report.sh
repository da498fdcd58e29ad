#!/usr/bin/env bash
# One town's 2023 summary (issue 5; results in BENCHMARKS.md): the demo town 北斗溪镇 on SQLite,
# `taizhang report` end to end as a clerk runs it (process start, every indicator of the
# template, Markdown / HTML / Word written), RUNS times each; medians printed.
#
#   bash bench/report.sh
set -euo pipefail
cd "$(dirname "$0")/.."
RUNS=${RUNS:-7}
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
