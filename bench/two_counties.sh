#!/usr/bin/env bash
# Two counties in one PostgreSQL database (issue 20, item 6; results in BENCHMARKS.md, the
# figures ARCHITECTURE.md's "Beyond one server" rests on). ONE holds the demo county 溆浦县
# alone, TWO the same county and a second one of the same size beside it:
#
#   taizhang --db $ONE demo --scale county --out /tmp/one --no-serve
#   taizhang --db $TWO demo --scale county --out /tmp/two --no-serve
#   taizhang --db $TWO demo --scale county --county 2 --out /tmp/two --no-serve
#
# Then, RUNS times, the two databases taking turns, end to end as a clerk runs them (process
# start to exit): one town's 2023 summary (`report --place 北斗溪镇`), the roll-up of every
# indicator by town for one county (`indicators --by town --place 溆浦县`) and for the whole
# database (both counties' towns in TWO). Medians and the ratio TWO / ONE printed. The county
# dashboard: bench/county_dashboard.sh with DB=$ONE, then DB=$TWO.
#
#   ONE=postgres://…/taizhang_county1 TWO=postgres://…/taizhang_county RUNS=7 bash bench/two_counties.sh
# TAIZHANG=path picks the binary (default target/release/taizhang, built unless NO_BUILD=1).
set -euo pipefail
cd "$(dirname "$0")/.."
ONE=${ONE:?ONE= a database holding 溆浦县 alone}
TWO=${TWO:?TWO= a database holding 溆浦县 and 沅溪县}
RUNS=${RUNS:-7}
[ -n "${NO_BUILD:-}" ] || cargo build --release -q -p taizhang
T=${TAIZHANG:-target/release/taizhang}
WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT

ms() { # command… → milliseconds, end to end
    local s e
    s=$(date +%s%N)
    "$@" > /dev/null
    e=$(date +%s%N)
    echo $(( (e - s) / 1000000 ))
}
for db in ONE TWO; do
    url=${!db}
    printf '%s: %s towns, %s persons, %s MB\n' "$db" \
        "$(psql "$url" -tAc "SELECT COUNT(*) FROM places WHERE level = 'town'")" \
        "$(psql "$url" -tAc "SELECT COUNT(*) FROM persons")" \
        "$(psql "$url" -tAc "SELECT pg_database_size(current_database()) / 1048576")"
done
for run in $(seq 1 "$RUNS"); do
    for db in ONE TWO; do
        url=${!db}
        echo "$db summary $(ms "$T" --db "$url" report --year 2023 --place 北斗溪镇 -o "$WORK/$db.md")" >> "$WORK/times"
        echo "$db county $(ms "$T" --db "$url" indicators --year 2023 --by town --place 溆浦县 --json)" >> "$WORK/times"
        echo "$db all $(ms "$T" --db "$url" indicators --year 2023 --by town --json)" >> "$WORK/times"
    done
done
cmp "$WORK/ONE.md" "$WORK/TWO.md" && echo "北斗溪镇's summary: identical text in both databases"
median() { sort -n | awk '{ a[NR] = $1 } END { print a[int((NR + 1) / 2)] }'; }
for what in summary county all; do
    one=$(awk -v w="$what" '$1 == "ONE" && $2 == w { print $3 }' "$WORK/times" | median)
    two=$(awk -v w="$what" '$1 == "TWO" && $2 == w { print $3 }' "$WORK/times" | median)
    label=$(case $what in summary) echo "北斗溪镇 2023 summary (.md)" ;; county) echo "roll-up, 溆浦县 by town" ;; all) echo "roll-up, every town in the database" ;; esac)
    printf '%-38s ONE %6s ms   TWO %6s ms   TWO/ONE %s   (medians of %s)\n' "$label" "$one" "$two" \
        "$(awk -v a="$one" -v b="$two" 'BEGIN { printf "%.2f", b / a }')" "$RUNS"
done
