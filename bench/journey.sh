#!/usr/bin/env bash
# The load scenario (#22): BENCH_USERS virtual learners (1,000) for
# BENCH_DURATION (10m) against the release build, with Locust
# (bench/journey_locust.py, installed into ~/.cache/weaverse-locust once).
# Each learner signs in, buys the nano-degree through the cart, checkout and
# the demo gateway, then browses, opens a course and a lesson, sends watch
# events, answers a quiz, submits code and asks the AI tutor, a few seconds
# apart. Prints throughput and p50/p95/p99 per step, errors, and the
# server's peak memory (VmHWM). Targets: zero errors, pages' p99 < 100 ms,
# memory < 300 MB.
#   bench/journey.sh                     (needs DATABASE_URL; builds a release binary)
#   BENCH_BIN=/path/to/weaverse BENCH_USERS=200 BENCH_DURATION=2m bench/journey.sh
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
: "${DATABASE_URL:?set DATABASE_URL, or run through make bench}"
users=${BENCH_USERS:-1000}
duration=${BENCH_DURATION:-10m}
spawn=${BENCH_SPAWN_RATE:-10}
port=${BENCH_PORT:-18087}
. bench/lib.sh
bin=$(bench_binary)

venv=${BENCH_LOCUST_VENV:-$HOME/.cache/weaverse-locust}
if [ ! -x "$venv/bin/locust" ]; then
  python3 -m venv "$venv"
  "$venv/bin/pip" install --quiet "locust==2.47.0"
fi

fresh_database weaverse_bench_journey
var_dir=$(mktemp -d)
out=$(mktemp -d)
ulimit -n 65536 2>/dev/null || true
SEED_VIDEOS=0 APP_ENV=development HOST=127.0.0.1 PORT=$port DATABASE_URL=$db_url VAR_DIR=$var_dir RUST_LOG=warn \
  LIMIT_SIGNUPS_PER_IP=100000 LIMIT_LOGIN_FAILURES_PER_IP=100000 STATIC_DIR=$root/static \
  "$bin" serve --seed-demo &
pid=$!
trap 'kill $pid 2>/dev/null; wait $pid 2>/dev/null; rm -rf "$var_dir" "$out"' EXIT
base="http://127.0.0.1:$port"
wait_for_demo

# Every video topic gets a ready 10-minute video (its files are not needed
# for the pages and the watch events measured here).
psql -q "$db_url" <<'SQL'
INSERT INTO videos (topic_id, state, source_key, source_bytes, duration_ms, width, height, hls_prefix, renditions)
SELECT t.id, 'ready', 'videos/bench/source', 1000, 600000, 1280, 720, 'videos/bench/run/', '{720p}'
  FROM topics t WHERE t.kind = 'video'
   AND NOT EXISTS (SELECT 1 FROM videos v WHERE v.topic_id = t.id AND v.deleted_at IS NULL);
SQL

# The learners' accounts, through the sign-up form (four at a time), then
# verified as the mailed link would.
echo "signing up $users learners ..."
signup() {
  local email="load-$1@example.com" jar token
  jar=$(mktemp)
  token=$(curl -fsS -c "$jar" -b "$jar" "$base/signup" | sed -n 's/.*name="csrf_token" value="\([^"]*\)".*/\1/p' | head -n 1)
  curl -fsS -o /dev/null -c "$jar" -b "$jar" -H "Origin: $base" \
    --data-urlencode "email=$email" --data-urlencode "password=correct horse battery 42" \
    --data-urlencode "nickname=학습자$1" --data-urlencode "agree_terms=yes" --data-urlencode "agree_privacy=yes" \
    --data-urlencode "csrf_token=$token" "$base/signup"
  rm -f "$jar"
}
export -f signup
export base
seq 1 $((users + 50)) | xargs -P 4 -I{} bash -c 'signup {}'
psql -q "$db_url" -c "UPDATE users SET email_verified_at = now() WHERE email LIKE 'load-%'"

export JOURNEY_LESSONS JOURNEY_COURSES JOURNEY_QUIZ JOURNEY_QUIZ_ANSWERS JOURNEY_CODE_MISSION JOURNEY_CODE_QUESTION JOURNEY_CURRICULUM
JOURNEY_LESSONS=$(psql -tA "$db_url" -c "SELECT string_agg(id::text, ',') FROM (SELECT t.id FROM topics t WHERE t.kind = 'video' ORDER BY t.id LIMIT 20) t")
JOURNEY_COURSES=$(psql -tA "$db_url" -c "SELECT string_agg(course_id::text, ',') FROM curriculum_courses")
JOURNEY_QUIZ=$(psql -tA "$db_url" -c "SELECT m.id FROM missions m JOIN topics t ON t.id = m.topic_id WHERE t.title = '웹 동작 원리 확인 퀴즈'")
JOURNEY_QUIZ_ANSWERS=$(psql -tA "$db_url" -c "SELECT string_agg('q-' || q.id || '=' || c.id, '&') FROM questions q JOIN LATERAL (SELECT id FROM choices WHERE question_id = q.id ORDER BY position LIMIT 1) c ON true WHERE q.mission_id = '$JOURNEY_QUIZ' AND q.kind = 'choice'")
JOURNEY_CODE_MISSION=$(psql -tA "$db_url" -c "SELECT m.id FROM missions m JOIN topics t ON t.id = m.topic_id WHERE t.title = '배열 합계 함수 작성하기'")
JOURNEY_CODE_QUESTION=$(psql -tA "$db_url" -c "SELECT id FROM questions WHERE mission_id = '$JOURNEY_CODE_MISSION' AND kind = 'code'")
JOURNEY_CURRICULUM=$(psql -tA "$db_url" -c "SELECT id FROM curricula LIMIT 1")

echo "running $users virtual learners for $duration (spawning $spawn/s) ..."
"$venv/bin/locust" -f bench/journey_locust.py --headless --only-summary -u "$users" -r "$spawn" \
  -t "$duration" --host "$base" --csv "$out/stats" --loglevel WARNING >"$out/locust.log" 2>&1 || true
peak=$(awk '/VmHWM/ { printf "%.0f MB", $2 / 1024 }' "/proc/$pid/status")
rss=$(awk '/VmRSS/ { printf "%.0f MB", $2 / 1024 }' "/proc/$pid/status")
graded=$(psql -tA "$db_url" -c "SELECT count(*) FILTER (WHERE verdict <> 'pending') || ' graded, ' || count(*) FILTER (WHERE verdict = 'pending') || ' waiting' FROM code_submissions")

echo
python3 - "$out/stats_stats.csv" <<'PY'
import csv, sys
rows = list(csv.DictReader(open(sys.argv[1])))
print(f"{'step':<22} {'requests':>9} {'errors':>7} {'req/s':>7} {'p50 ms':>7} {'p95 ms':>7} {'p99 ms':>7}")
for r in rows:
    name = r["Name"] if r["Name"] != "Aggregated" else "ALL"
    print(f"{name:<22} {r['Request Count']:>9} {r['Failure Count']:>7} {float(r['Requests/s']):>7.1f} "
          f"{r['50%']:>7} {r['95%']:>7} {r['99%']:>7}")
PY
echo
echo "server memory: peak $peak, at the end $rss; code submissions: $graded"
if [ -s "$out/stats_failures.csv" ] && [ "$(wc -l < "$out/stats_failures.csv")" -gt 1 ]; then
  echo "errors:"; cat "$out/stats_failures.csv"
fi
