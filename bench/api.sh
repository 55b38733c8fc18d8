#!/usr/bin/env bash
# The JSON API's catalogue beside the catalogue page, in one run (#23): the
# seeded nano-degree plus 200 generated courses; `/courses` as a visitor's
# browser asks for it, then `/api/v1/courses` (20 courses, the default page)
# as a program without a token and as one with a read token made on
# /me/tokens, and one course's outline, each with `Accept-Encoding: gzip`, at
# 100 connections. Two rounds, alternating.
#   BENCH_SECONDS=10 bench/api.sh      (needs DATABASE_URL)
#   BENCH_BIN=/path/to/weaverse bench/api.sh   (another build, same script)
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
: "${DATABASE_URL:?set DATABASE_URL, or run through make bench}"
secs=${BENCH_SECONDS:-10}
rounds=${BENCH_ROUNDS:-2}
port=${BENCH_PORT:-18086}
. bench/lib.sh
bin=$(bench_binary)
fresh_database weaverse_bench_api
var_dir=$(mktemp -d)
jar=$(mktemp)
ulimit -n 65536 2>/dev/null || true
APP_ENV=development HOST=127.0.0.1 PORT=$port DATABASE_URL=$db_url VAR_DIR=$var_dir RUST_LOG=warn \
  DATABASE_MAX_CONNECTIONS=${BENCH_DB_CONNECTIONS:-16} API_RATE_PER_MINUTE=100000000 \
  STATIC_DIR="$root/static" "$bin" serve --seed-demo &
pid=$!
trap 'kill $pid 2>/dev/null; wait $pid 2>/dev/null; rm -rf "$var_dir" "$jar"' EXIT
base="http://127.0.0.1:$port"
wait_for_demo
psql -q "$db_url" -f bench/extra_courses.sql
echo "courses: $(psql -tA "$db_url" -c 'SELECT count(*) FROM courses WHERE deleted_at IS NULL')"
echo "machine: $(nproc) cores; server, PostgreSQL and wrk share it"

# A program's token, made the way a person makes one.
sign_in "$base" "$jar" "api-bench@example.com" >/dev/null
csrf=$(curl -fsS -c "$jar" -b "$jar" "$base/me/tokens" | sed -n 's/.*name="csrf_token" value="\([^"]*\)".*/\1/p' | head -n 1)
token=$(curl -fsS -c "$jar" -b "$jar" -H "Origin: $base" --data-urlencode "csrf_token=$csrf" \
  --data-urlencode "name=bench" --data-urlencode "scope=read" --data-urlencode "days=30" "$base/me/tokens" \
  | sed -n 's/.*data-token-secret.*value="\(wvs_[^"]*\)".*/\1/p; s/.*value="\(wvs_[^"]*\)".*data-token-secret.*/\1/p' | head -n 1)
[ -n "$token" ] || { echo "no token was made" >&2; exit 1; }
course=$(curl -fsS "$base/api/v1/courses?limit=1" | python3 -c 'import json,sys; print(json.load(sys.stdin)["items"][0]["id"])')

for round in $(seq "$rounds"); do
  echo "-- round $round"
  wrk -t2 -c100 -d2s "$base/courses" >/dev/null
  bench/load.sh "$base/courses" 100 "$secs"
  BENCH_ENCODING=gzip BENCH_ACCEPT=application/json bench/load.sh "$base/api/v1/courses" 100 "$secs"
  BENCH_ENCODING=gzip BENCH_ACCEPT=application/json BENCH_TOKEN=$token bench/load.sh "$base/api/v1/courses" 100 "$secs"
  BENCH_ENCODING=gzip BENCH_ACCEPT=application/json BENCH_TOKEN=$token bench/load.sh "$base/api/v1/courses/$course" 100 "$secs"
done
