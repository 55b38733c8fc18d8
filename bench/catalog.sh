#!/usr/bin/env bash
# Catalogue benchmark: the seeded nano-degree plus 200 generated courses.
# Load-tests /courses, a search, /, the Bootstrap stylesheet and the favicon at
# 100 connections with a browser's Accept-Encoding and without, and /courses
# at 1,000 connections.
#   BENCH_SECONDS=10 bench/catalog.sh      (make bench runs it; needs DATABASE_URL)
#   BENCH_BIN=/path/to/weaverse bench/catalog.sh   (another build, same script)
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
: "${DATABASE_URL:?set DATABASE_URL, or run through make bench}"
secs=${BENCH_SECONDS:-10}
port=${BENCH_PORT:-18081}
. bench/lib.sh
bin=$(bench_binary)
fresh_database weaverse_bench_catalog
var_dir=$(mktemp -d)
ulimit -n 65536 2>/dev/null || true
APP_ENV=development HOST=127.0.0.1 PORT=$port DATABASE_URL=$db_url VAR_DIR=$var_dir RUST_LOG=warn \
  DATABASE_MAX_CONNECTIONS=${BENCH_DB_CONNECTIONS:-16} \
  STATIC_DIR="$root/static" "$bin" serve --seed-demo &
pid=$!
trap 'kill $pid 2>/dev/null; wait $pid 2>/dev/null; rm -rf "$var_dir"' EXIT
for _ in $(seq 100); do
  curl -fsS "http://127.0.0.1:$port/healthz" >/dev/null 2>&1 && break
  sleep 0.2
done
psql -q "$db_url" -f bench/extra_courses.sql
echo "courses: $(psql -tA "$db_url" -c 'SELECT count(*) FROM courses WHERE deleted_at IS NULL')"
echo "machine: $(nproc) cores; server, PostgreSQL and wrk share it"

base="http://127.0.0.1:$port"
css=$(curl -fsS "$base/" | grep -o '/static/vendor/bootstrap.min.css?v=[0-9a-f]*' | head -n 1)
# What a browser sends first (Accept-Encoding), then the bare figures.
for encoding in "gzip, deflate, br, zstd" none; do
  for path in /courses "/courses?q=%EB%B0%B0%ED%8F%AC&category=devops" / "$css" /static/img/favicon.svg; do
    wrk -t2 -c100 -d2s "$base$path" >/dev/null
    BENCH_ENCODING=$encoding bench/load.sh "$base$path" 100 "$secs"
  done
done
# 1,000 connections: open them all once before measuring.
wrk -t2 -c1000 -d3s --timeout 5s "$base/courses" >/dev/null
bench/load.sh "$base/courses" 1000 "$secs"
