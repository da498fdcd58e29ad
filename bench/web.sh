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
#
#   bash bench/web.sh            # SESSIONS=200 RATE=1000 DURATION=20 RUNS=1 PORT=18080
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
$T demo --out "$DIR" --no-serve >/dev/null
$T serve --db "$DIR/taizhang.db" --listen "127.0.0.1:$PORT" >"$DIR/server.log" 2>&1 &
SERVER=$!
trap 'kill $SERVER 2>/dev/null || true; wait $SERVER 2>/dev/null || true' EXIT
for _ in $(seq 50); do
    curl -s -o /dev/null "http://127.0.0.1:$PORT/login" && break
    sleep 0.2
done

for i in $(seq "$RUNS"); do
    echo "== run $i: $SESSIONS sessions, $RATE req/s, $DURATION s, paths $PATHS ($(nproc) cores, server $T)"
    $LOAD --addr "127.0.0.1:$PORT" --sessions "$SESSIONS" --rate "$RATE" --duration "$DURATION" --paths "$PATHS"
    echo "== run $i: step search, highest rate with p99 < 100 ms"
    $LOAD --addr "127.0.0.1:$PORT" --sessions "$SESSIONS" --paths "$PATHS" --steps "$STEPS" --step-duration 10 --limit-ms 100
done
