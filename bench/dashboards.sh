#!/usr/bin/env bash
# The three dashboards against a platform of realistic size: 100,000
# learners, 20,000 orders (each a paid nano-degree), 10 million watch events,
# 500,000 mission attempts and the progress they left. Times the rollup job
# (funnels, mission rates, retention curves), then each dashboard as its
# person with a browser's cookies and encodings: the admin's /admin, a
# course's tutor view with its retention curves, and a learner's
# /me/dashboard (a buyer with progress). Prints each page's median and p95
# over BENCH_ROUNDS requests and how fresh the rolled-up figures were.
#   bench/dashboards.sh                                (needs DATABASE_URL)
#   BENCH_LEARNERS=10000 BENCH_EVENTS=1000000 bench/dashboards.sh   (smaller)
#   BENCH_BIN=/path/to/weaverse bench/dashboards.sh    (another build)
# Target (#20): each page under 200 ms on this machine.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
: "${DATABASE_URL:?set DATABASE_URL, or run through make bench}"
learners=${BENCH_LEARNERS:-100000}
orders=${BENCH_ORDERS:-20000}
events=${BENCH_EVENTS:-10000000}
attempts=${BENCH_ATTEMPTS:-500000}
rounds=${BENCH_ROUNDS:-30}
port=${BENCH_PORT:-18084}
. bench/lib.sh
bin=$(bench_binary)

fresh_database weaverse_bench_dashboards
var_dir=$(mktemp -d)
jar=$(mktemp)
admin_jar=$(mktemp)
start_server() {
  SEED_VIDEOS=0 APP_ENV=development HOST=127.0.0.1 PORT=$port DATABASE_URL=$db_url VAR_DIR=$var_dir RUST_LOG=warn \
    LIMIT_SIGNUPS_PER_IP=100000 STATIC_DIR=$root/static "$bin" serve "$@" &
  pid=$!
  for _ in $(seq 300); do
    curl -fsS "$base/healthz" >/dev/null 2>&1 && return
    sleep 0.2
  done
  echo "the server did not start" >&2
  exit 1
}
pid=
trap '[ -n "$pid" ] && kill $pid 2>/dev/null; wait 2>/dev/null; rm -rf "$var_dir" "$jar" "$admin_jar"' EXIT
base="http://127.0.0.1:$port"
start_server --seed-demo
for _ in $(seq 300); do
  [ "$(psql -tA "$db_url" -c "SELECT count(*) FROM missions" 2>/dev/null || echo 0)" -gt 0 ] && break
  sleep 0.2
done
# The demo clips are not transcoded here: give every video topic a length.
psql -q "$db_url" -c "UPDATE topics SET duration_secs = 600 WHERE kind = 'video' AND duration_secs = 0"

# The people the pages are for, signed in through the forms.
email="dash-$(date +%s)@example.com"
cookie=$(sign_in "$base" "$jar" "$email")
psql -q "$db_url" -c "UPDATE users SET email_verified_at = now() WHERE email = '$email'"
admin_email="dash-admin-$(date +%s)@example.com"
DATABASE_URL=$db_url VAR_DIR=$var_dir "$bin" create-admin --email "$admin_email" \
  --password "correct horse battery 42" >/dev/null
admin_token=$(curl -fsS -c "$admin_jar" -b "$admin_jar" "$base/login" | sed -n 's/.*name="csrf_token" value="\([^"]*\)".*/\1/p' | head -n 1)
curl -fsS -o /dev/null -c "$admin_jar" -b "$admin_jar" -H "Origin: $base" \
  --data-urlencode "email=$admin_email" --data-urlencode "password=correct horse battery 42" \
  --data-urlencode "csrf_token=$admin_token" "$base/login"
admin_cookie=$(awk '!/^#/ || /^#HttpOnly_/ { sub(/^#HttpOnly_/, ""); if (NF >= 7) printf "%s%s=%s", (n++ ? "; " : ""), $6, $7 } END { print "" }' "$admin_jar")

echo "filling: $learners learners, $orders orders, $events watch events, $attempts attempts"
fill_started=$(date +%s)
psql -q -v ON_ERROR_STOP=1 "$db_url" <<SQL
SET synchronous_commit = off;
-- Learners, signed up over the last year.
INSERT INTO users (email, nickname, email_verified_at, created_at)
SELECT 'bench' || g || '@example.com', '학습자' || g, now(), now() - (g % 365) * interval '1 day'
  FROM generate_series(1, $learners) g;
CREATE TEMP TABLE bench_learners AS
SELECT id, row_number() OVER (ORDER BY email) AS n FROM users WHERE email LIKE 'bench%@example.com';
CREATE INDEX ON bench_learners (n);
-- Orders: the first $orders learners bought the nano-degree (a tenth of
-- them refunded), paid over the last year.
INSERT INTO orders (user_id, status, gateway, total_won, created_at, updated_at, paid_at, gateway_ref)
SELECT l.id, CASE WHEN l.n % 10 = 0 THEN 'refunded' ELSE 'paid' END, 'demo', 50000,
       now() - (l.n % 365) * interval '1 day', now(), now() - (l.n % 365) * interval '1 day',
       'bench-' || l.n
  FROM bench_learners l WHERE l.n <= $orders;
INSERT INTO order_items (order_id, curriculum_id, title, price_won, access_months)
SELECT o.id, (SELECT id FROM curricula LIMIT 1), '웹 개발 나노 디그리', 50000, 24
  FROM orders o WHERE o.gateway_ref LIKE 'bench-%';
INSERT INTO payments (order_id, gateway, gateway_tx_id, method, amount_won, refunded_won, approved_at)
SELECT o.id, 'demo', o.gateway_ref, 'card', 50000,
       CASE WHEN o.status = 'refunded' THEN 50000 ELSE 0 END, o.paid_at
  FROM orders o WHERE o.gateway_ref LIKE 'bench-%';
INSERT INTO refunds (payment_id, amount_won, reason, by_admin, idempotency_key, state, created_at, settled_at)
SELECT p.id, 50000, '벤치 환불', true, 'bench-' || p.id, 'succeeded', p.approved_at + interval '2 days',
       p.approved_at + interval '2 days'
  FROM payments p JOIN orders o ON o.id = p.order_id WHERE o.status = 'refunded' AND o.gateway_ref LIKE 'bench-%';
INSERT INTO enrolments (user_id, curriculum_id, starts_at, expires_at, ended_at, order_id, created_at)
SELECT o.user_id, (SELECT id FROM curricula LIMIT 1), o.paid_at, o.paid_at + interval '2 years',
       CASE WHEN o.status = 'refunded' THEN o.paid_at + interval '2 days' END, o.id, o.paid_at
  FROM orders o WHERE o.gateway_ref LIKE 'bench-%';
-- The roadmap's topics in order.
CREATE TEMP TABLE bench_topics AS
SELECT t.id, t.kind, t.duration_secs, row_number() OVER (ORDER BY cc.position, l.position, t.position) AS n
  FROM topics t JOIN lectures l ON l.id = t.lecture_id JOIN curriculum_courses cc ON cc.course_id = l.course_id
 WHERE t.published_at IS NOT NULL AND l.published_at IS NOT NULL;
-- Progress: buyer k got through the first (k % topics) topics, watching
-- the videos among them to a point that falls off along the roadmap.
INSERT INTO topic_progress (user_id, topic_id, watched, watched_secs, video_secs, completed_at, updated_at)
SELECT l.id, t.id,
       CASE WHEN t.kind = 'video' THEN jsonb_build_array(jsonb_build_array(0, least(t.duration_secs, 60 + (l.n * 37 + t.n * 11) % t.duration_secs))) ELSE '[]' END,
       CASE WHEN t.kind = 'video' THEN least(t.duration_secs, 60 + (l.n * 37 + t.n * 11) % t.duration_secs) ELSE 0 END,
       CASE WHEN t.kind = 'video' THEN t.duration_secs END,
       CASE WHEN (l.n * 37 + t.n * 11) % 5 <> 0 THEN now() - (l.n % 300) * interval '1 day' END,
       now() - (l.n % 300) * interval '1 day'
  FROM bench_learners l JOIN bench_topics t ON t.n <= 1 + l.n % (SELECT count(*) FROM bench_topics)
 WHERE l.n <= $orders;
-- Watch events: spread over the buyers and their videos, over 8 weeks.
INSERT INTO watch_events (user_id, topic_id, kind, position, duration, received_at, credited, study_secs)
SELECT l.id, v.id, 'heartbeat', (g % 600), 600, now() - (g % (56 * 24 * 60)) * interval '1 minute', 15, 15
  FROM generate_series(1, $events) g
  JOIN bench_learners l ON l.n = 1 + g % $orders
  JOIN (SELECT id, row_number() OVER (ORDER BY n) AS k FROM bench_topics WHERE kind = 'video') v
    ON v.k = 1 + (g / $orders) % (SELECT count(*) FROM bench_topics WHERE kind = 'video');
-- Attempts: spread over the buyers and the missions, scored.
CREATE TEMP TABLE bench_missions AS
SELECT m.id, row_number() OVER (ORDER BY m.id) AS k FROM missions m;
INSERT INTO attempts (mission_id, user_id, number, shuffle_seed, started_at, submitted_at, score)
SELECT m.id, l.id, 1 + g / ($orders * (SELECT count(*) FROM bench_missions)), g, now() - interval '1 day', now() - interval '1 day', (g * 7) % 101
  FROM generate_series(0, $attempts - 1) g
  JOIN bench_learners l ON l.n = 1 + g % $orders
  JOIN bench_missions m ON m.k = 1 + (g / $orders) % (SELECT count(*) FROM bench_missions)
ON CONFLICT DO NOTHING;
INSERT INTO mission_results (mission_id, user_id, best_score, passed_at)
SELECT mission_id, user_id, max(score), CASE WHEN max(score) >= 60 THEN now() END
  FROM attempts GROUP BY mission_id, user_id
ON CONFLICT DO NOTHING;
ANALYZE;
SQL
echo "filled in $(( $(date +%s) - fill_started )) s: $(psql -tA "$db_url" -c "SELECT (SELECT count(*) FROM users) || ' users, ' || (SELECT count(*) FROM orders) || ' orders, ' || (SELECT count(*) FROM watch_events) || ' watch events, ' || (SELECT count(*) FROM attempts) || ' attempts, ' || (SELECT count(*) FROM topic_progress) || ' progress rows'")"

# The learner whose dashboard is measured: progress like a buyer's.
psql -q "$db_url" <<SQL
INSERT INTO orders (user_id, status, gateway, total_won, paid_at, gateway_ref)
SELECT id, 'paid', 'demo', 50000, now(), 'bench-learner' FROM users WHERE email = '$email';
INSERT INTO enrolments (user_id, curriculum_id, starts_at, expires_at, order_id)
SELECT o.user_id, (SELECT id FROM curricula LIMIT 1), now(), now() + interval '2 years', o.id
  FROM orders o WHERE o.gateway_ref = 'bench-learner';
INSERT INTO topic_progress (user_id, topic_id, completed_at, watched_secs, video_secs)
SELECT u.id, t.id, now(), 0, NULL
  FROM users u,
       (SELECT t.id, row_number() OVER (ORDER BY cc.position, l.position, t.position) AS n
          FROM topics t JOIN lectures l ON l.id = t.lecture_id
          JOIN curriculum_courses cc ON cc.course_id = l.course_id
         WHERE t.published_at IS NOT NULL AND l.published_at IS NOT NULL) t
 WHERE u.email = '$email' AND t.n <= 12;
INSERT INTO attempts (mission_id, user_id, number, shuffle_seed, submitted_at, score)
SELECT m.id, u.id, 1, 1, now(), 40 FROM users u, missions m WHERE u.email = '$email' LIMIT 3;
SQL

# The rollup, as the job runs it (`POST /admin/rollups` runs the same code).
rolled=$(date +%s.%N)
token=$(curl -fsS -b "$admin_jar" "$base/admin" | sed -n 's/.*name="csrf_token" value="\([^"]*\)".*/\1/p' | head -n 1)
curl -fsS -o /dev/null -b "$admin_jar" -H "Origin: $base" --data-urlencode "csrf_token=$token" "$base/admin/rollups"
rollup_secs=$(python3 -c "import time; print(f'{time.time() - $rolled:.1f}')")
echo "rollup (funnels, mission rates, retention curves of every course): ${rollup_secs} s"

course=$(psql -tA "$db_url" -c "SELECT course_id FROM curriculum_courses ORDER BY position LIMIT 1")
timings() { # LABEL COOKIE PATH
  python3 - "$1" "$2" "$base$3" "$rounds" <<'PY'
import sys, time, urllib.request, statistics
label, cookie, url, rounds = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
headers = {"Cookie": cookie, "Accept": "text/html", "Accept-Encoding": "gzip, deflate, br, zstd"}
times, size = [], 0
for i in range(rounds + 3):
    started = time.perf_counter()
    with urllib.request.urlopen(urllib.request.Request(url, headers=headers)) as r:
        body = r.read()
        assert r.status == 200, r.status
    if i >= 3:
        times.append((time.perf_counter() - started) * 1000)
        size = len(body)
times.sort()
p95 = times[max(0, int(len(times) * 0.95) - 1)]
print(f"{label:<34} {statistics.median(times):8.1f} {p95:8.1f} {size / 1024:9.1f}")
PY
}
echo "learner: bought, 12 topics done, 3 missions tried"
echo "machine: $(nproc) cores; server and PostgreSQL share it; $rounds requests each after 3 warm-ups"
printf '%-34s %8s %8s %9s\n' page "median ms" "p95 ms" "KB sent"
timings "/admin (last 7 days)" "$admin_cookie" "/admin"
timings "/admin (30 days)" "$admin_cookie" "/admin?range=30d"
timings "/admin/live (htmx, every 10 s)" "$admin_cookie" "/admin/live"
timings "/studio/insights (every course)" "$admin_cookie" "/studio/insights"
timings "tutor view with retention curves" "$admin_cookie" "/studio/insights/$course"
timings "a funnel step's learners" "$admin_cookie" "/studio/insights/$course/learners?stage=started"
timings "/me/dashboard (learner)" "$cookie" "/me/dashboard"
age=$(psql -tA "$db_url" -c "SELECT round(extract(epoch FROM now() - min(computed_at))) FROM course_funnels")
echo "rolled-up figures: ${age} s old at the end (the job counts them again every 10 minutes)"
