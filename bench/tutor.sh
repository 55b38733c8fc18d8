#!/usr/bin/env bash
# The AI tutor under load (#21): BENCH_LEARNERS learners (100) ask the tutor
# at once, again and again for BENCH_SECONDS, against a local
# OpenAI-compatible server that takes BENCH_MODEL_SECS (2) to write each
# answer; meanwhile wrk loads the lesson page as a learner who bought the
# nano-degree (with progress, notes and an attempt). Prints whether every
# answer arrived, the times to the first piece and to the end, and the lesson
# page's req/s and p99 without the tutor's load and with it.
#   bench/tutor.sh                        (needs DATABASE_URL; builds a release binary)
#   BENCH_BIN=/path/to/weaverse BENCH_LEARNERS=100 BENCH_SECONDS=10 bench/tutor.sh
# The askers are new accounts asking on a free preview lesson (the first
# lecture of "JavaScript 기초"), so no purchase is needed for each of them.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
: "${DATABASE_URL:?set DATABASE_URL, or run through make bench}"
secs=${BENCH_SECONDS:-10}
conns=${BENCH_CONNECTIONS:-100}
learners=${BENCH_LEARNERS:-100}
port=${BENCH_PORT:-18085}
model_port=${BENCH_MODEL_PORT:-18086}
. bench/lib.sh
bin=$(bench_binary)
command -v wrk >/dev/null || { echo "wrk is not installed: apt-get install -y wrk" >&2; exit 1; }

fresh_database weaverse_bench_tutor
var_dir=$(mktemp -d)
jar=$(mktemp)
ulimit -n 65536 2>/dev/null || true
python3 bench/tutor_model.py "$model_port" &
model_pid=$!
SEED_VIDEOS=0 APP_ENV=development HOST=127.0.0.1 PORT=$port DATABASE_URL=$db_url VAR_DIR=$var_dir RUST_LOG=warn \
  LIMIT_SIGNUPS_PER_IP=100000 DATABASE_MAX_CONNECTIONS=${BENCH_DB_CONNECTIONS:-16} STATIC_DIR=$root/static \
  TUTOR_API_BASE="http://127.0.0.1:$model_port/v1" TUTOR_MODEL=bench-model \
  TUTOR_SLOTS=${BENCH_TUTOR_SLOTS:-$learners} TUTOR_PER_MINUTE=100000 TUTOR_PER_DAY=100000 \
  "$bin" serve --seed-demo &
pid=$!
trap 'kill $pid $model_pid 2>/dev/null; wait $pid 2>/dev/null; rm -rf "$var_dir" "$jar"' EXIT
base="http://127.0.0.1:$port"
wait_for_demo
paying_learner
asked_on=$(psql -tA "$db_url" -c "SELECT id FROM topics WHERE title = '변수, 자료형, 연산자'")

cpu() { # PID: CPU seconds the process has used so far (user + system)
  awk -v hz="$(getconf CLK_TCK)" '{ printf "%.1f", ($14 + $15) / hz }' "/proc/$1/stat"
}

page() { # LABEL: the lesson page under wrk as the paying learner
  local out
  out=$(wrk -t2 -c"$conns" -d"${secs}s" --timeout 5s -H "Accept: text/html" \
    -H "Accept-Encoding: gzip, deflate, br, zstd" -H "Cookie: $cookie" -s bench/report.lua "$base/learn/topics/$lesson")
  printf '%-34s %8s %8s  %s\n' "$1" "$(echo "$out" | sed -n 's/^requests\/s: //p')" \
    "$(echo "$out" | sed -n 's/^p99: \([0-9.]*\) ms/\1/p')" "$(echo "$out" | sed -n 's/^errors: //p')"
}

echo "machine: $(nproc) cores; server, PostgreSQL, the model stand-in, the askers and wrk share it"
echo "binary: $bin"
echo "model: answers in ${BENCH_MODEL_SECS:-2} s; TUTOR_SLOTS=${BENCH_TUTOR_SLOTS:-$learners}; $learners learners asking for ${secs} s"
wrk -t2 -c"$conns" -d2s -H "Cookie: $cookie" "$base/learn/topics/$lesson" >/dev/null
printf '%-34s %8s %8s  %s\n' "lesson page" "req/s" "p99 ms" errors
page "without the tutor's load"
figures=$(mktemp)
BENCH_MODEL_SECS=${BENCH_MODEL_SECS:-2} python3 bench/tutor_askers.py "$base" "$asked_on" "$learners" "$((secs + 2))" >"$figures" &
askers=$!
# Wait until every learner is signed in and asking.
until grep -q "signed in" "$figures" 2>/dev/null; do sleep 0.5; done
sleep 1
before="$(cpu $pid) $(cpu $model_pid) $(cpu $askers)"
page "with $learners learners asking"
after="$(cpu $pid) $(cpu $model_pid) $(cpu $askers)"
wait $askers
python3 - "$before" "$after" "$secs" "$(nproc)" <<'PY'
import sys
b, a = [list(map(float, x.split())) for x in sys.argv[1:3]]
secs, cores = float(sys.argv[3]), int(sys.argv[4])
used = [y - x for x, y in zip(b, a)]
print(f"CPU seconds in those {secs:.0f} s (of {secs * cores:.0f} on {cores} cores): Weaverse {used[0]:.1f}, "
      f"the model stand-in {used[1]:.1f}, the askers' client {used[2]:.1f}; wrk and PostgreSQL the rest")
PY
tail -n 1 "$figures"
rm -f "$figures"
echo "turns kept: $(psql -tA "$db_url" -c "SELECT count(*) FILTER (WHERE state = 'answered') || ' answered, ' || count(*) FILTER (WHERE state = 'failed') || ' failed, ' || count(*) FILTER (WHERE state = 'answering') || ' still answering' FROM tutor_turns")"
