#!/usr/bin/env bash
# What a signed-in request costs: the course page and home for signed-in
# learners (BENCH_LEARNERS of them, 200 by default, each request from the next
# one's browser), beside the anonymous course page, at 100 connections, with
# the cookies and Accept-Encoding a browser sends. The seeded nano-degree.
#   BENCH_SECONDS=10 bench/signed_in.sh            (needs DATABASE_URL; make bench runs it)
#   BENCH_BIN=/path/to/weaverse bench/signed_in.sh  (another build, e.g. an older commit)
# Targets (#8): signed-in course page and home >= 5,000 req/s, anonymous
# course page >= 10,000 req/s, p99 < 20 ms.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
: "${DATABASE_URL:?set DATABASE_URL, or run through make bench}"
secs=${BENCH_SECONDS:-10}
port=${BENCH_PORT:-18082}
. bench/lib.sh
bin=$(bench_binary)

fresh_database weaverse_bench_signed_in
var_dir=$(mktemp -d)
jar=$(mktemp)
cookies=$(mktemp)
learners=${BENCH_LEARNERS:-200}
ulimit -n 65536 2>/dev/null || true
LIMIT_SIGNUPS_PER_IP=100000 APP_ENV=development HOST=127.0.0.1 PORT=$port DATABASE_URL=$db_url VAR_DIR=$var_dir RUST_LOG=warn \
  DATABASE_MAX_CONNECTIONS=${BENCH_DB_CONNECTIONS:-16} STATIC_DIR=$root/static \
  "$bin" serve --seed-demo &
pid=$!
trap 'kill $pid 2>/dev/null; wait $pid 2>/dev/null; rm -rf "$var_dir" "$jar" "$cookies"' EXIT
base="http://127.0.0.1:$port"
for _ in $(seq 150); do
  curl -fsS "$base/healthz" >/dev/null 2>&1 && break
  sleep 0.2
done

stamp=$(date +%s)
for i in $(seq "$learners"); do
  sign_in "$base" "$jar" "bench-$stamp-$i@example.com" >>"$cookies"
done
cookie=$(head -n 1 "$cookies")
status=$(curl -s -o /dev/null -w '%{http_code}' -H "Cookie: $cookie" "$base/me")
[ "$status" = 200 ] || { echo "signing in failed (/me answered $status)" >&2; exit 1; }
course=$(psql -tA "$db_url" -c "SELECT id FROM courses WHERE slug = 'git-collaboration'")

echo "machine: $(nproc) cores; server, PostgreSQL and wrk share it"
echo "binary: $bin"
# Bare figures first, then with a browser's Accept-Encoding.
for encoding in none "gzip, deflate, br, zstd"; do
  for path in "/courses/$course" /; do
    BENCH_COOKIES_FILE=$cookies wrk -t2 -c100 -d2s -s bench/report.lua "$base$path" >/dev/null
    BENCH_ENCODING=$encoding BENCH_COOKIES_FILE=$cookies bench/load.sh "$base$path" 100 "$secs"
  done
  BENCH_ENCODING=$encoding bench/load.sh "$base/courses/$course" 100 "$secs"
done
