#!/usr/bin/env bash
# The pages a paying learner lives in, as that learner: signed up and in
# through the forms, the nano-degree bought through checkout and the demo
# gateway, a quiz attempted, notes written, and progress on the first
# course's topics. Each page is load-tested with the learner's cookies and a
# browser's Accept-Encoding, beside the visitor's /courses from the same run,
# with the database transactions per request (from pg_stat_database; each
# statement outside an explicit transaction is one). The true round trips are
# one more per request: sqlx sends a Sync and waits for the reply whenever a
# connection goes back to its pool, which no transaction counts.
#   BENCH_SECONDS=10 BENCH_CONNECTIONS=100 bench/learner_pages.sh   (needs DATABASE_URL)
#   BENCH_BIN=/path/to/weaverse bench/learner_pages.sh              (another build)
#   BENCH_ONLY='lesson|mission' bench/learner_pages.sh               (pages whose label matches)
#   BENCH_SAVE=/tmp/pages bench/learner_pages.sh                     (keep each page's HTML)
#   BENCH_ROUNDS=3 bench/learner_pages.sh       (every page again per round, each round
#                                                beside its own /courses; medians at the end)
# Targets (#19): each page >= 5,000 req/s and >= 1/4 of /courses, p99 < 50 ms,
# at most 2 round trips per request.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
: "${DATABASE_URL:?set DATABASE_URL, or run through make bench}"
secs=${BENCH_SECONDS:-10}
conns=${BENCH_CONNECTIONS:-100}
port=${BENCH_PORT:-18083}
. bench/lib.sh
bin=$(bench_binary)
command -v wrk >/dev/null || { echo "wrk is not installed: apt-get install -y wrk" >&2; exit 1; }

fresh_database weaverse_bench_learner
var_dir=$(mktemp -d)
jar=$(mktemp)
ulimit -n 65536 2>/dev/null || true
SEED_VIDEOS=0 APP_ENV=development HOST=127.0.0.1 PORT=$port DATABASE_URL=$db_url VAR_DIR=$var_dir RUST_LOG=warn \
  LIMIT_SIGNUPS_PER_IP=100000 DATABASE_MAX_CONNECTIONS=${BENCH_DB_CONNECTIONS:-16} STATIC_DIR=$root/static \
  "$bin" serve --seed-demo &
pid=$!
trap 'kill $pid 2>/dev/null; wait $pid 2>/dev/null; rm -rf "$var_dir" "$jar"' EXIT
base="http://127.0.0.1:$port"
for _ in $(seq 150); do
  curl -fsS "$base/healthz" >/dev/null 2>&1 && break
  sleep 0.2
done
for _ in $(seq 150); do
  [ "$(psql -tA "$db_url" -c "SELECT count(*) FROM missions" 2>/dev/null || echo 0)" -gt 0 ] && break
  sleep 0.2
done

# The learner: signed up through the form; the address verified as the
# mailed link would (the mail is a file here).
email="learner-$(date +%s)@example.com"
cookie=$(sign_in "$base" "$jar" "$email")
psql -q "$db_url" -c "UPDATE users SET email_verified_at = now() WHERE email = '$email'"
token() { curl -fsS -b "$jar" -c "$jar" "$base$1" | sed -n 's/.*name="csrf_token" value="\([^"]*\)".*/\1/p' | head -n 1; }
post() { # PATH FIELD=VALUE... : a form post as the browser sends it; prints the Location
  local path=$1; shift
  local args=()
  for f in "$@"; do args+=(--data-urlencode "$f"); done
  curl -sS -o /dev/null -w '%{redirect_url}' -b "$jar" -c "$jar" -H "Origin: $base" \
    "${args[@]}" --data-urlencode "csrf_token=$(token /me)" "$base$path"
}

# Bought through the cart, checkout and the demo gateway.
curriculum=$(psql -tA "$db_url" -c "SELECT id FROM curricula LIMIT 1")
post /cart/items "curriculum_id=$curriculum" >/dev/null
pay=$(post /checkout address_id=none gateway=demo agree_refund=yes "form_key=$(python3 -c 'import uuid; print(uuid.uuid4())')")
order=${pay##*/payments/demo/}
post "/payments/demo/$order/approve" amount=50000 >/dev/null
[ "$(psql -tA "$db_url" -c "SELECT status FROM orders WHERE id = '$order'")" = paid ] \
  || { echo "buying failed ($pay)" >&2; exit 1; }

# Progress: the first course's first eight topics done, the ninth half
# watched (as the watch events would leave them); a note on the lesson; a quiz
# attempt submitted.
user=$(psql -tA "$db_url" -c "SELECT id FROM users WHERE email = '$email'")
psql -q "$db_url" <<SQL
INSERT INTO topic_progress (user_id, topic_id, completed_at, watched_secs, video_secs)
SELECT '$user', t.id, CASE WHEN n <= 8 THEN now() END, CASE WHEN n <= 8 THEN 0 ELSE 300 END, CASE WHEN n <= 8 THEN NULL ELSE 600 END
  FROM (SELECT t.id, row_number() OVER (ORDER BY cc.position, l.position, t.position) AS n
          FROM topics t JOIN lectures l ON l.id = t.lecture_id JOIN curriculum_courses cc ON cc.course_id = l.course_id
         WHERE t.published_at IS NOT NULL) t
 WHERE n <= 9;
-- Eight weeks of watching: a heartbeat every 10 s for 55 hours, as the player
-- would have sent them (the dashboard's study time reads them).
INSERT INTO watch_events (user_id, topic_id, kind, position, duration, received_at, credited, study_secs)
SELECT '$user', t.id, 'heartbeat', 10 * (g % 60), 600, now() - (g * interval '240 seconds'), 10, 10
  FROM generate_series(1, 20000) g,
       (SELECT id FROM topics WHERE kind = 'video' AND published_at IS NOT NULL ORDER BY id LIMIT 1) t;
SQL
lesson=$(psql -tA "$db_url" -c "SELECT t.id FROM topics t JOIN lectures l ON l.id = t.lecture_id JOIN curriculum_courses cc ON cc.course_id = l.course_id WHERE t.kind = 'video' AND t.published_at IS NOT NULL ORDER BY cc.position, l.position, t.position OFFSET 8 LIMIT 1")
for i in 1 2 3; do post "/learn/topics/$lesson/notes" "body=벤치 메모 $i" "position=$((i * 30))" >/dev/null; done
mission=$(psql -tA "$db_url" -c "SELECT m.id FROM missions m JOIN topics t ON t.id = m.topic_id WHERE t.title = '웹 동작 원리 확인 퀴즈'")
post "/missions/$mission/attempts" >/dev/null
answers=$(psql -tA -F= "$db_url" -c "SELECT 'q-' || q.id, c.id FROM questions q JOIN LATERAL (SELECT id FROM choices WHERE question_id = q.id ORDER BY position LIMIT 1) c ON true WHERE q.mission_id = '$mission' AND q.kind = 'choice'")
post "/missions/$mission/submissions" $answers >/dev/null
course=$(psql -tA "$db_url" -c "SELECT course_id FROM curriculum_courses ORDER BY position LIMIT 1")
cookie=$(awk '!/^#/ || /^#HttpOnly_/ { sub(/^#HttpOnly_/, ""); if (NF >= 7) printf "%s%s=%s", (n++ ? "; " : ""), $6, $7 } END { print "" }' "$jar")
[ "$(curl -s -o /dev/null -w '%{http_code}' -H "Cookie: $cookie" "$base/missions/$mission")" = 200 ] \
  || { echo "the learner cannot open the mission page" >&2; exit 1; }

xacts() { psql -tA "$db_url" -c "SELECT xact_commit + xact_rollback FROM pg_stat_database WHERE datname = current_database()"; }
echo "machine: $(nproc) cores; server, PostgreSQL and wrk share it"
echo "binary: $bin"
echo "learner: bought, 8 topics done and one half watched, 20,000 heartbeats over 8 weeks, 3 notes, 1 quiz attempt"
rounds=${BENCH_ROUNDS:-1}
results=$(mktemp)
trap 'kill $pid 2>/dev/null; wait $pid 2>/dev/null; rm -rf "$var_dir" "$jar" "$results"' EXIT
for round in $(seq "$rounds"); do
[ "$rounds" -gt 1 ] && echo "round $round of $rounds"
baseline=0
printf '%-26s %8s %8s %10s %12s %9s  %s\n' page "req/s" "p99 ms" "/courses" "db xact/req" "KB sent" errors
for entry in "/courses (visitor)|/courses|visitor" "course page|/courses/$course|learner" \
             "/orders|/orders|learner" "/ (bought, progress)|/|learner" "/me/dashboard|/me/dashboard|learner" \
             "lesson page|/learn/topics/$lesson|learner" "mission page|/missions/$mission|learner"; do
  label=${entry%%|*}; rest=${entry#*|}; path=${rest%|*}; who=${rest#*|}
  [[ -n "${BENCH_ONLY:-}" && ! "$label" =~ ${BENCH_ONLY} && "$label" != "/courses (visitor)" ]] && continue
  headers=(-H "Accept: text/html" -H "Accept-Encoding: gzip, deflate, br, zstd")
  [ "$who" = learner ] && headers+=(-H "Cookie: $cookie")
  wrk -t2 -c"$conns" -d2s "${headers[@]}" "$base$path" >/dev/null
  before=$(xacts)
  out=$(wrk -t2 -c"$conns" -d"${secs}s" --timeout 5s "${headers[@]}" -s bench/report.lua "$base$path")
  after=$(xacts)
  rps=$(echo "$out" | sed -n 's/^requests\/s: //p')
  p99=$(echo "$out" | sed -n 's/^p99: \([0-9.]*\) ms/\1/p')
  errors=$(echo "$out" | sed -n 's/^errors: //p')
  total=$(python3 -c "print(round($rps * $secs))")
  [ "$baseline" = 0 ] && baseline=$rps
  size=$(curl -s -o /dev/null -w '%{size_download}' "${headers[@]}" "$base$path")
  if [ -n "${BENCH_SAVE:-}" ]; then # each page as sent, uncompressed, for profiling its encoding
    mkdir -p "$BENCH_SAVE"
    plain=(-H "Accept: text/html")
    [ "$who" = learner ] && plain+=(-H "Cookie: $cookie")
    curl -s "${plain[@]}" -o "$BENCH_SAVE/$(printf '%s' "$label" | tr -c 'a-z0-9' '_').html" "$base$path"
  fi
  printf '%-26s %8s %8s %10s %12s %9s  %s\n' "$label" "$rps" "$p99" \
    "$(python3 -c "print(f'{$rps / $baseline:.2f}')")" \
    "$(python3 -c "print(f'{($after - $before) / max($total, 1):.1f}')")" \
    "$(python3 -c "print(f'{$size / 1024:.1f}')")" "$errors"
  printf '%s|%s|%s|%s\n' "$label" "$rps" "$p99" "$(python3 -c "print($rps / $baseline)")" >>"$results"
done
done
if [ "$rounds" -gt 1 ]; then
  echo "median of $rounds rounds (the share of /courses is taken within each round)"
  python3 - "$results" <<'PY'
import statistics, sys
rows = {}
for line in open(sys.argv[1]):
    label, rps, p99, share = line.rstrip("\n").split("|")
    rows.setdefault(label, []).append((float(rps), float(p99), float(share)))
print(f"{'page':26} {'req/s':>8} {'p99 ms':>8} {'/courses':>10}")
for label, runs in rows.items():
    med = [statistics.median(r[i] for r in runs) for i in range(3)]
    print(f"{label:26} {med[0]:8.0f} {med[1]:8.2f} {med[2]:10.2f}")
PY
fi
