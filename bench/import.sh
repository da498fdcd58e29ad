#!/usr/bin/env bash
# Import benchmark (issues 4 and 15; results in BENCHMARKS.md). Generates a 1,000,000-row,
# 12-column 低保金发放 sheet (shared strings, as Excel/WPS save it; more rows than a million go
# on further sheets of a million) and, side by side in one run:
#   - the Rust xlsx reader alone (the floor), and calamine's own cell reader for comparison,
#   - `taizhang import` into SQLite with full validation (a fresh copy of the database each run),
#     and the same file again (every row 未变),
#   - with PG_URL set: the same two imports into PostgreSQL (a fresh database each run, the
#     registry imported before the clock starts),
#   - with BASELINE set to another build of taizhang: its imports too, alternately with this
#     build's, for the ratio of the two,
#   - pandas.read_excel with openpyxl and with calamine, merely reading the same file.
# Each is run RUNS times (default 3); wall time and peak RSS come from /usr/bin/time.
#
#   bash bench/import.sh            # ROWS=1000000 HOUSEHOLDS=50000 RUNS=3 PANDAS_RUNS=1
#   PG_URL=postgres://postgres@127.0.0.1:5432/postgres BASELINE=/tmp/old/taizhang \
#       READERS=0 PANDAS_RUNS=0 bash bench/import.sh        # PostgreSQL, against an older build
#   ROWS=4000000 READERS=0 PANDAS_RUNS=0 RUNS=1 bash bench/import.sh   # the memory case
# NO_BUILD=1 uses the binaries already built (TAIZHANG=path: another taizhang to measure);
# ENGINES=postgres leaves SQLite out.
set -euo pipefail
cd "$(dirname "$0")/.."
ROWS=${ROWS:-1000000}
HOUSEHOLDS=${HOUSEHOLDS:-50000}
RUNS=${RUNS:-3}
PANDAS_RUNS=${PANDAS_RUNS:-1}
READERS=${READERS:-1}
PG_URL=${PG_URL:-}
BASELINE=${BASELINE:-}
ENGINES=${ENGINES:-sqlite${PG_URL:+ postgres}}
DIR=${DIR:-/tmp/taizhang-bench-import}
VENV=${VENV:-$DIR/venv}
mkdir -p "$DIR"

if [ -z "${NO_BUILD:-}" ]; then
    cargo build --release -q -p taizhang
    cargo build --release -q -p taizhang-exchange --examples
fi
T=${TAIZHANG:-target/release/taizhang}
if [ ! -f "$DIR/dibao_payments.xlsx" ] || [ "$(cat "$DIR/rows" 2>/dev/null)" != "$ROWS/$HOUSEHOLDS" ]; then
    target/release/examples/bench_files "$DIR" "$ROWS" "$HOUSEHOLDS"
    echo "$ROWS/$HOUSEHOLDS" > "$DIR/rows"
fi
ls -l "$DIR/dibao_payments.xlsx" | awk '{ printf "payment sheet: %.1f MB\n", $5 / 1e6 }'

if [ "$PANDAS_RUNS" -gt 0 ] && [ ! -x "$VENV/bin/python" ]; then
    python3 -m venv "$VENV"
    "$VENV/bin/pip" install -q pandas openpyxl python-calamine
fi

VILLAGES="北斗溪村 龙潭村 新屋村 大溪村 坪溪村 桐木村 茅坪村 竹园村"
# A town, its villages and the registry (one head per household), in database $2 by binary $1.
setup() { # binary db
    "$1" --db "$2" init --town 北斗溪镇 --code 431224104000 --county 溆浦县 >/dev/null
    for v in $VILLAGES; do "$1" --db "$2" place add --parent 北斗溪镇 --name "$v" >/dev/null; done
    "$1" --db "$2" import --ledger persons "$DIR/registry.xlsx" | tail -1
}
# The registry and the villages, once, on SQLite; each run imports into a fresh copy.
BASE="$DIR/base.db"
if [ ! -f "$BASE" ] || [ "$(cat "$DIR/base-rows" 2>/dev/null)" != "$HOUSEHOLDS" ]; then
    rm -f "$BASE"*
    setup "$T" "$BASE" >/dev/null
    echo "$HOUSEHOLDS" > "$DIR/base-rows"
fi
fresh() { # engine binary → the database to import into
    case $1 in
        sqlite)
            rm -f "$DIR"/run.db*
            for f in "$BASE"*; do cp "$f" "$DIR/run.db${f#"$BASE"}"; done
            echo "$DIR/run.db" ;;
        postgres)
            local db=taizhang_bench_import
            psql -q "$PG_URL" -c "DROP DATABASE IF EXISTS $db" -c "CREATE DATABASE $db" >/dev/null 2>&1
            local url="${PG_URL%/*}/$db"
            setup "$2" "$url" >/dev/null
            echo "$url" ;;
    esac
}

results="$DIR/results.tsv"
: > "$results"
measure() { # label command...
    local label=$1; shift
    /usr/bin/time -f "%e %M" -o "$DIR/time.txt" "$@" > "$DIR/out.txt" 2>&1 || { cat "$DIR/out.txt"; exit 1; }
    read -r secs kb < "$DIR/time.txt"
    printf '%s\t%s\t%s\n' "$label" "$secs" "$kb" >> "$results"
    printf '%-34s %8.2f s %8.0f MB   %s\n' "$label" "$secs" "$((kb / 1024))" "$(grep -o '读取.*' "$DIR/out.txt" | tail -1)"
}
imports() { # label-suffix binary
    for e in $ENGINES; do
        db=$(fresh "$e" "$2")
        measure "$e import$1" "$2" --db "$db" import --ledger dibao_payments "$DIR/dibao_payments.xlsx"
        measure "$e re-import$1" "$2" --db "$db" import --ledger dibao_payments "$DIR/dibao_payments.xlsx"
    done
}

for run in $(seq 1 "$RUNS"); do
    if [ "$READERS" = 1 ]; then
        measure "rust reader (floor)" target/release/examples/bench_read "$DIR/dibao_payments.xlsx"
        measure "calamine cells alone" target/release/examples/bench_read "$DIR/dibao_payments.xlsx" calamine
    fi
    # This build and the baseline take turns, so that both see the machine alike.
    if [ -n "$BASELINE" ] && [ $((run % 2)) = 0 ]; then
        imports " (baseline)" "$BASELINE"
        imports "" "$T"
    else
        imports "" "$T"
        [ -z "$BASELINE" ] || imports " (baseline)" "$BASELINE"
    fi
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
            printf "%-34s median %7.2f s  %9.0f rows/s  peak %5.0f MB  (%d runs)\n", k, secs, rows / secs, mx / 1024, n[k]
        }
    }' | sort
