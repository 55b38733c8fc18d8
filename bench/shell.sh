#!/usr/bin/env bash
# Page-shell benchmark: builds the release binary, starts it against a fresh
# database, and load-tests `/` and `/healthz` with every layer on (sessions,
# CSRF, CSP, tracing, compression). Needs DATABASE_URL (make bench sets it).
#   BENCH_SECONDS=10 BENCH_CONNECTIONS=100 bench/shell.sh
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
: "${DATABASE_URL:?set DATABASE_URL, or run through make bench}"
secs=${BENCH_SECONDS:-10}
conns=${BENCH_CONNECTIONS:-100}
port=${BENCH_PORT:-18080}
target=${CARGO_TARGET_DIR:-target}

SQLX_OFFLINE=true cargo build --release --locked --bin weaverse
db_url=$(python3 -c 'import sys,urllib.parse as u; p=u.urlsplit(sys.argv[1]); print(u.urlunsplit(p._replace(path="/weaverse_bench")))' "$DATABASE_URL")
var_dir=$(mktemp -d)
APP_ENV=development HOST=127.0.0.1 PORT=$port DATABASE_URL=$db_url VAR_DIR=$var_dir RUST_LOG=warn \
  "$target/release/weaverse" serve &
pid=$!
trap 'kill $pid 2>/dev/null; wait $pid 2>/dev/null; rm -rf "$var_dir"' EXIT
for _ in $(seq 100); do
  curl -fsS "http://127.0.0.1:$port/healthz" >/dev/null 2>&1 && break
  sleep 0.2
done

echo "machine: $(nproc) cores, $(uname -r); server and wrk share the machine"
for path in / /healthz; do
  # Warm up, then measure.
  wrk -t2 -c"$conns" -d2s "http://127.0.0.1:$port$path" >/dev/null
  bench/load.sh "http://127.0.0.1:$port$path" "$conns" "$secs"
done
