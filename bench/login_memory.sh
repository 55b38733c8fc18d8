#!/usr/bin/env bash
# Password hashing under a flood: 1,000 connections sending login attempts for
# unknown emails, each from its own address (TRUST_PROXY and a random
# X-Forwarded-For, so the per-address limit does not stop them before the
# argon2 check), for BENCH_SECONDS. Prints the server's RSS before, at the
# peak and after. Target: RSS stays under 300 MB.
#   bench/login_memory.sh                         (needs DATABASE_URL)
#   BENCH_BIN=/path/to/weaverse bench/login_memory.sh
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
: "${DATABASE_URL:?set DATABASE_URL, or run through make bench}"
secs=${BENCH_SECONDS:-10}
port=${BENCH_PORT:-18083}
. bench/lib.sh
bin=$(bench_binary)
fresh_database weaverse_bench_login
var_dir=$(mktemp -d)
jar=$(mktemp)
script=$(mktemp --suffix=.lua)
ulimit -n 65536 2>/dev/null || true
APP_ENV=development HOST=127.0.0.1 PORT=$port DATABASE_URL=$db_url VAR_DIR=$var_dir RUST_LOG=error \
  TRUST_PROXY=true STATIC_DIR=$root/static "$bin" serve &
pid=$!
trap 'kill $pid 2>/dev/null; wait $pid 2>/dev/null; rm -rf "$var_dir" "$jar" "$script"' EXIT
base="http://127.0.0.1:$port"
for _ in $(seq 150); do
  curl -fsS "$base/healthz" >/dev/null 2>&1 && break
  sleep 0.2
done
rss() { awk '/VmRSS/ { printf "%.0f MB", $2 / 1024 }' "/proc/$pid/status"; }
token=$(curl -fsS -c "$jar" -b "$jar" "$base/login" | sed -n 's/.*name="csrf_token" value="\([^"]*\)".*/\1/p' | head -n 1)
cookie=$(awk '!/^#/ || /^#HttpOnly_/ { sub(/^#HttpOnly_/, ""); if (NF >= 7) printf "%s%s=%s", (n++ ? "; " : ""), $6, $7 }' "$jar")
cat > "$script" <<LUA
request = function()
  local n = math.random(1, 2000000000)
  local ip = string.format("10.%d.%d.%d", n % 250, math.floor(n / 250) % 250, math.floor(n / 62500) % 250)
  local body = "email=nobody" .. n .. "%40example.com&password=guessing+wrong+" .. n .. "&csrf_token=$token"
  return wrk.format("POST", "/login", {
    ["Content-Type"] = "application/x-www-form-urlencoded",
    ["Cookie"] = "$cookie",
    ["Origin"] = "$base",
    ["X-Forwarded-For"] = ip,
  }, body)
end
done = function(summary)
  io.write(string.format("attempts answered: %d in %.1f s\n", summary.requests, summary.duration / 1e6))
end
LUA
echo "machine: $(nproc) cores; binary: $bin"
echo "RSS before: $(rss)"
( while kill -0 $pid 2>/dev/null; do
    kb=$(awk '/VmRSS/ { print $2 }' "/proc/$pid/status" 2>/dev/null || echo 0)
    echo "$kb"; sleep 0.2
  done ) > "$var_dir/rss.log" &
sampler=$!
wrk -t2 -c1000 -d"${secs}s" --timeout 30s -s "$script" "$base/login" | grep -E "attempts|Non-2xx|Socket errors" || true
sleep 3
kill $sampler 2>/dev/null || true
peak=$(sort -n "$var_dir/rss.log" | tail -n 1)
echo "RSS peak: $((peak / 1024)) MB"
echo "RSS 3 s after: $(rss)"
