#!/usr/bin/env bash
# County dashboard benchmark (issue 20, item 5; results in BENCHMARKS.md). On the county demo
# database (`taizhang demo --scale county --out DIR --no-serve`, or with --db postgres://…),
# adds a county leader (溆浦县) and a town leader (TOWN) if missing, then RUNS times: starts the
# server, signs both in (changing the first password as the web application asks), and times
# the dashboard's first request for one of them on that fresh server — nothing cached — and a
# repeat; the county and the town take turns being first. Times from curl (time_total).
#
#   DB=/tmp/county/demo/taizhang.db bash bench/county_dashboard.sh
#   DB=postgres://postgres@127.0.0.1:5432/taizhang_county TOWN=东溪镇 RUNS=6 bash bench/county_dashboard.sh
# TAIZHANG=path picks the binary (default target/release/taizhang, built unless NO_BUILD=1).
set -euo pipefail
cd "$(dirname "$0")/.."
DB=${DB:?DB= the county demo database (file or postgres:// address)}
TOWN=${TOWN:-东溪镇}
RUNS=${RUNS:-6}
PORT=${PORT:-18097}
[ -n "${NO_BUILD:-}" ] || cargo build --release -q -p taizhang
T=${TAIZHANG:-target/release/taizhang}
BASE="http://127.0.0.1:$PORT"
WORK=$(mktemp -d)
trap 'kill "$server" 2>/dev/null || true; rm -rf "$WORK"' EXIT
FIRST='Bench#2024first'
PASS='Bench#2024county!'

for who in "bench_county 溆浦县" "bench_town $TOWN"; do
    set -- $who
    "$T" --db "$DB" user add "$1" --role leader --place "$2" --password "$FIRST" >/dev/null 2>&1 || true
done

login() { # user → cookie jar $WORK/USER
    local jar="$WORK/$1"
    rm -f "$jar"
    for p in "$PASS" "$FIRST"; do
        local to
        to=$(curl -s -o /dev/null -w '%{redirect_url}' -c "$jar" -b "$jar" -H "Origin: $BASE" -H "Referer: $BASE/login" \
            --data-urlencode "username=$1" --data-urlencode "password=$p" --data-urlencode "next=/" "$BASE/login")
        case $to in
            */password*)
                local csrf
                csrf=$(curl -s -c "$jar" -b "$jar" "$BASE/password" | grep -o 'name="csrf" value="[^"]*"' | head -1 | sed 's/.*value="//;s/"$//')
                curl -s -o /dev/null -c "$jar" -b "$jar" -H "Origin: $BASE" -H "Referer: $BASE/password" \
                    --data-urlencode "csrf=$csrf" --data-urlencode "current=$p" --data-urlencode "new=$PASS" --data-urlencode "again=$PASS" "$BASE/password"
                return ;;
            ""|*/login*) ;;
            *) return ;;
        esac
    done
    echo "cannot sign in as $1" >&2
    exit 1
}
page() { # user → "status seconds"
    curl -s -o /dev/null -w '%{http_code} %{time_total}\n' -b "$WORK/$1" "$BASE/"
}

results="$WORK/results"
for run in $(seq 1 "$RUNS"); do
    "$T" --db "$DB" serve --listen "127.0.0.1:$PORT" >"$WORK/server.log" 2>&1 &
    server=$!
    for _ in $(seq 1 100); do curl -s -o /dev/null "$BASE/login" && break; sleep 0.2; done
    if [ $((run % 2)) = 1 ]; then first=bench_county; else first=bench_town; fi
    login "$first"
    read -r code secs < <(page "$first")
    read -r code2 again < <(page "$first")
    printf '%s\t%s\t%s\n' "$first" "$secs" "$again" >> "$results"
    printf 'run %d  %-12s first %s s (HTTP %s)   repeat %s s (HTTP %s)\n' "$run" "$first" "$secs" "$code" "$again" "$code2"
    kill "$server"
    wait "$server" 2>/dev/null || true
done
echo
echo "medians of first loads (each on a freshly started server):"
for u in bench_county bench_town; do
    awk -F'\t' -v u="$u" '$1 == u { print $2 }' "$results" | sort -n | awk -v u="$u" '
        { t[NR] = $1 } END { if (NR) printf "%-12s median %.3f s over %d runs (min %.3f, max %.3f)\n", u, t[int((NR + 1) / 2)], NR, t[1], t[NR] }'
done
