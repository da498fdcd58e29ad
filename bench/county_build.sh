#!/usr/bin/env bash
# Building the demo county (issue 15, item 12c; results in BENCHMARKS.md): `taizhang demo --scale
# county` (25 towns, 1.1 M persons, 4.7 M records) into an empty database, end to end (the
# towns, then the roll-up of every indicator it prints), on PostgreSQL (PG_URL) and/or SQLite,
# RUNS times; with BASELINE set to another build of taizhang, that build too, alternately.
# Prints each build's wall time, peak memory, the client's CPU and PostgreSQL's (all its
# processes, read from /proc: run it on the database's machine) and the slowest towns.
#
#   PG_URL=postgres://postgres@127.0.0.1:5432/postgres bash bench/county_build.sh
#   PG_URL=… BASELINE=/tmp/old/taizhang RUNS=1 ENGINES=postgres bash bench/county_build.sh
# NO_BUILD=1 uses the binary already built (TAIZHANG=path: another taizhang to measure).
set -euo pipefail
cd "$(dirname "$0")/.."
RUNS=${RUNS:-1}
PG_URL=${PG_URL:-}
BASELINE=${BASELINE:-}
ENGINES=${ENGINES:-${PG_URL:+postgres}}
ENGINES=${ENGINES:-sqlite}
DIR=${DIR:-/tmp/taizhang-bench-county-build}
mkdir -p "$DIR"
[ -n "${NO_BUILD:-}" ] || cargo build --release -q -p taizhang
T=${TAIZHANG:-target/release/taizhang}

pg_cpu() { # CPU seconds all PostgreSQL processes have used, exited ones included
    python3 - <<'PY'
import os
tot = 0
for pid in filter(str.isdigit, os.listdir('/proc')):
    try:
        if not open(f'/proc/{pid}/comm').read().startswith('postgres'):
            continue
        f = open(f'/proc/{pid}/stat').read().rsplit(')', 1)[1].split()
        tot += int(f[11]) + int(f[12])
        if int(f[1]) == 1:  # the postmaster: its reaped children too
            tot += int(f[13]) + int(f[14])
    except OSError:
        pass
print(f"{tot / os.sysconf('SC_CLK_TCK'):.1f}")
PY
}
build() { # label binary engine
    local db
    case $3 in
        postgres)
            local name=taizhang_bench_county_build
            psql -q "$PG_URL" -c "DROP DATABASE IF EXISTS $name" -c "CREATE DATABASE $name" >/dev/null 2>&1
            db="${PG_URL%/*}/$name" ;;
        sqlite)
            rm -rf "$DIR/sqlite"
            db="$DIR/sqlite/taizhang.db" ;;
    esac
    local c0 c1
    c0=$(pg_cpu)
    /usr/bin/time -f "%e %M %U %S" -o "$DIR/time.txt" "$2" --db "$db" demo --scale county --out "$DIR/out" --no-serve --force > "$DIR/out.txt" 2>&1 \
        || { cat "$DIR/out.txt"; exit 1; }
    c1=$(pg_cpu)
    read -r secs kb user sys < "$DIR/time.txt"
    local slowest
    slowest=$(grep -o '用时 [0-9.]* 秒' "$DIR/out.txt" | head -25 | awk '{ print $2 }' | sort -rn | head -3 | paste -sd/ -)
    printf '%-26s %8.1f s (%5.1f min)  peak %5d MB  client CPU %6.1f s  PostgreSQL CPU %6.1f s  slowest towns %s s\n' \
        "$3 $1" "$secs" "$(echo "$secs / 60" | bc -l)" "$((kb / 1024))" "$(echo "$user + $sys" | bc)" "$(echo "$c1 - $c0" | bc)" "$slowest"
    grep -E '共 |全县' "$DIR/out.txt" | sed 's/^/    /'
}
for run in $(seq 1 "$RUNS"); do
    for e in $ENGINES; do
        if [ -n "$BASELINE" ] && [ $((run % 2)) = 0 ]; then
            build "baseline" "$BASELINE" "$e"
            build "this build" "$T" "$e"
        else
            build "this build" "$T" "$e"
            [ -z "$BASELINE" ] || build "baseline" "$BASELINE" "$e"
        fi
    done
done
