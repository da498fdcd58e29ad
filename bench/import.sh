#!/usr/bin/env bash
# Import benchmark (issue 4; results in BENCHMARKS.md). Generates a 1,000,000-row, 12-column
# 低保金发放 sheet (shared strings, as Excel/WPS save it) and, side by side in one run:
#   - the Rust xlsx reader alone (the floor), and calamine's own cell reader for comparison,
#   - `taizhang import` into SQLite with full validation (a fresh copy of the database each run),
#   - pandas.read_excel with openpyxl and with calamine, merely reading the same file.
# Each is run RUNS times (default 3); wall time and peak RSS come from /usr/bin/time.
#
#   bash bench/import.sh            # ROWS=1000000 HOUSEHOLDS=50000 RUNS=3 PANDAS_RUNS=1
set -euo pipefail
cd "$(dirname "$0")/.."
ROWS=${ROWS:-1000000}
HOUSEHOLDS=${HOUSEHOLDS:-50000}
RUNS=${RUNS:-3}
PANDAS_RUNS=${PANDAS_RUNS:-1}
DIR=${DIR:-/tmp/taizhang-bench-import}
VENV=${VENV:-$DIR/venv}
mkdir -p "$DIR"

cargo build --release -q -p taizhang
cargo build --release -q -p taizhang-exchange --examples
T=target/release/taizhang
if [ ! -f "$DIR/dibao_payments.xlsx" ] || [ "$(cat "$DIR/rows" 2>/dev/null)" != "$ROWS/$HOUSEHOLDS" ]; then
    target/release/examples/bench_files "$DIR" "$ROWS" "$HOUSEHOLDS"
    echo "$ROWS/$HOUSEHOLDS" > "$DIR/rows"
fi
ls -l "$DIR/dibao_payments.xlsx" | awk '{ printf "payment sheet: %.1f MB\n", $5 / 1e6 }'

if [ ! -x "$VENV/bin/python" ]; then
    python3 -m venv "$VENV"
    "$VENV/bin/pip" install -q pandas openpyxl python-calamine
fi

# The registry (one head per household) and the villages, once.
BASE="$DIR/base.db"
if [ ! -f "$BASE" ] || [ "$(cat "$DIR/base-rows" 2>/dev/null)" != "$HOUSEHOLDS" ]; then
    rm -f "$BASE"
    $T --db "$BASE" init --town 北斗溪镇 --code 431224104000 --county 溆浦县 >/dev/null
    for v in 北斗溪村 龙潭村 新屋村 大溪村 坪溪村 桐木村 茅坪村 竹园村; do
        $T --db "$BASE" place add --parent 北斗溪镇 --name "$v" >/dev/null
    done
    /usr/bin/time -f "registry import of $HOUSEHOLDS persons: %e s, %M KB" $T --db "$BASE" import --ledger persons "$DIR/registry.xlsx" | tail -1
    echo "$HOUSEHOLDS" > "$DIR/base-rows"
fi

results="$DIR/results.tsv"
: > "$results"
measure() { # label command...
    local label=$1; shift
    /usr/bin/time -f "%e %M" -o "$DIR/time.txt" "$@" > "$DIR/out.txt" 2>&1 || { cat "$DIR/out.txt"; exit 1; }
    read -r secs kb < "$DIR/time.txt"
    printf '%s\t%s\t%s\n' "$label" "$secs" "$kb" >> "$results"
    printf '%-22s %8.2f s %8.0f MB   %s\n' "$label" "$secs" "$((kb / 1024))" "$(tail -1 "$DIR/out.txt")"
}

for run in $(seq 1 "$RUNS"); do
    measure "rust reader (floor)" target/release/examples/bench_read "$DIR/dibao_payments.xlsx"
    measure "calamine cells alone" target/release/examples/bench_read "$DIR/dibao_payments.xlsx" calamine
    rm -f "$DIR"/run.db*
    cp "$BASE" "$DIR/run.db"
    measure "taizhang import" $T --db "$DIR/run.db" import "$DIR/dibao_payments.xlsx"
    measure "taizhang re-import" $T --db "$DIR/run.db" import "$DIR/dibao_payments.xlsx"
done
for run in $(seq 1 "$PANDAS_RUNS"); do
    measure "pandas calamine" "$VENV/bin/python" bench/read_pandas.py "$DIR/dibao_payments.xlsx" calamine
    measure "pandas openpyxl" "$VENV/bin/python" bench/read_pandas.py "$DIR/dibao_payments.xlsx" openpyxl
done

echo
echo "medians over runs ($ROWS rows):"
sort -t$'\t' -k1,1 -k2,2n "$results" | awk -F'\t' -v rows="$ROWS" '
    { n[$1]++; t[$1, n[$1]] = $2; m[$1, n[$1]] = $3 }
    END {
        for (k in n) {
            mid = int((n[k] + 1) / 2); secs = t[k, mid]
            # memory: the largest peak over the runs
            mx = 0; for (i = 1; i <= n[k]; i++) if (m[k, i] > mx) mx = m[k, i]
            printf "%-22s median %7.2f s  %9.0f rows/s  peak %5.0f MB  (%d runs)\n", k, secs, rows / secs, mx / 1024, n[k]
        }
    }' | sort
