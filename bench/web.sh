#!/usr/bin/env bash
# Web load benchmark (issue 6; results in BENCHMARKS.md). Builds the release binary and the
# load generator (crates/web/examples/load.rs), builds the demo town 北斗溪镇 into $DIR, starts
# `taizhang serve` on it as a separate process on loopback, then:
#   1. 200 signed-in sessions offering 1,000 req/s in total for 20 s, alternating the dashboard (/)
#      and a ledger list (/ledgers/dibao_payments), latency from each request's scheduled time;
#   2. a step search (100, 200, … 600, 800, 1000, 1200, 1400, 1600, 2000, 3000 req/s, 10 s each) for
#      the highest rate with p99 under 100 ms.
# RUNS (default 1) repeats steps 1 and 2; the server is stopped at the end. TAIZHANG=<binary> runs
# the server from another build (e.g. the commit before a change) instead of building this one.
# DB=<file or postgres://…> serves an existing database instead (the county demo: bench/county.sh,
# bench/two_counties.sh): an administrator, a leader and a 民政 clerk of PLACE (default 北斗溪镇)
# are added to it if missing and their first password changed as the web application asks;
# PREFIX (default bench) names them, so that users of two places can live in one database.
#
#   bash bench/web.sh            # SESSIONS=200 RATE=1000 DURATION=20 RUNS=1 PORT=18080
#   DB=postgres://…/taizhang_county PLACE=北斗溪镇 bash bench/web.sh
#   DB=postgres://…/taizhang_county PLACE=溆浦县 PREFIX=county bash bench/web.sh
set -euo pipefail
cd "$(dirname "$0")/.."
DIR=${DIR:-/tmp/taizhang-bench-web}
PORT=${PORT:-18080}
SESSIONS=${SESSIONS:-200}
RATE=${RATE:-1000}
DURATION=${DURATION:-20}
RUNS=${RUNS:-1}
STEPS=${STEPS:-100,200,300,400,500,600,800,1000,1200,1400,1600,2000,3000}
PATHS=${PATHS:-/,/ledgers/dibao_payments}

if [ -z "${TAIZHANG:-}" ]; then cargo build --release -q -p taizhang; fi
cargo build --release -q -p taizhang-web --example load
T=${TAIZHANG:-target/release/taizhang}
LOAD=target/release/examples/load

rm -rf "$DIR"
USERS=admin,leader,clerk
PASSWORD=beidouxi2023
if [ -n "${DB:-}" ]; then
    mkdir -p "$DIR"
    SERVE_DB=$DB
    PLACE=${PLACE:-北斗溪镇}
    FIRST='Bench#2024first'
    PASSWORD='Bench#2024web!'
    P=${PREFIX:-bench}
    USERS=${P}_admin,${P}_leader,${P}_clerk
    $T --db "$DB" user add "${P}_admin" --role admin --place "$PLACE" --password "$FIRST" >/dev/null 2>&1 || true
    $T --db "$DB" user add "${P}_leader" --role leader --place "$PLACE" --password "$FIRST" >/dev/null 2>&1 || true
    $T --db "$DB" user add "${P}_clerk" --role clerk --place "$PLACE" --ledgers dibao,dibao_payments --password "$FIRST" >/dev/null 2>&1 || true
else
    $T demo --out "$DIR" --no-serve >/dev/null
    SERVE_DB=$DIR/taizhang.db
fi
$T serve --db "$SERVE_DB" --listen "127.0.0.1:$PORT" >"$DIR/server.log" 2>&1 &
SERVER=$!
trap 'kill $SERVER 2>/dev/null || true; wait $SERVER 2>/dev/null || true' EXIT
for _ in $(seq 50); do
    curl -s -o /dev/null "http://127.0.0.1:$PORT/login" && break
    sleep 0.2
done
if [ -n "${DB:-}" ]; then
    # The accounts' first password is changed as the web application asks (once: later runs
    # sign in with the new one).
    BASE="http://127.0.0.1:$PORT"
    for u in ${USERS//,/ }; do
        jar="$DIR/jar-$u"
        to=$(curl -s -o /dev/null -w '%{redirect_url}' -c "$jar" -b "$jar" -H "Origin: $BASE" -H "Referer: $BASE/login" \
            --data-urlencode "username=$u" --data-urlencode "password=$FIRST" --data-urlencode "next=/" "$BASE/login")
        case $to in
            */password*)
                csrf=$(curl -s -c "$jar" -b "$jar" "$BASE/password" | grep -o 'name="csrf" value="[^"]*"' | head -1 | sed 's/.*value="//;s/"$//')
                curl -s -o /dev/null -c "$jar" -b "$jar" -H "Origin: $BASE" -H "Referer: $BASE/password" \
                    --data-urlencode "csrf=$csrf" --data-urlencode "current=$FIRST" --data-urlencode "new=$PASSWORD" --data-urlencode "again=$PASSWORD" "$BASE/password" ;;
        esac
    done
fi

for i in $(seq "$RUNS"); do
    echo "== run $i: $SESSIONS sessions, $RATE req/s, $DURATION s, paths $PATHS ($(nproc) cores, server $T)"
    $LOAD --addr "127.0.0.1:$PORT" --sessions "$SESSIONS" --rate "$RATE" --duration "$DURATION" --paths "$PATHS" --users "$USERS" --password "$PASSWORD"
    echo "== run $i: step search, highest rate with p99 < 100 ms"
    $LOAD --addr "127.0.0.1:$PORT" --sessions "$SESSIONS" --paths "$PATHS" --users "$USERS" --password "$PASSWORD" --steps "$STEPS" --step-duration 10 --limit-ms 100
done
