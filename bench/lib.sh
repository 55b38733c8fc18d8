# Sourced by the bench scripts: the binary to measure, a fresh database per
# run (so builds with different migrations compare), and signing a learner in
# the way a browser does.

# bench_binary: BENCH_BIN, or a release build of this checkout.
bench_binary() {
  if [ -n "${BENCH_BIN:-}" ]; then
    echo "$BENCH_BIN"
    return
  fi
  SQLX_OFFLINE=true cargo build --release --locked --bin weaverse >&2
  echo "${CARGO_TARGET_DIR:-target}/release/weaverse"
}

# fresh_database NAME: sets db_url to database NAME beside DATABASE_URL's,
# dropped first.
fresh_database() {
  local name=$1 admin_url
  db_url=$(python3 -c 'import sys,urllib.parse as u; p=u.urlsplit(sys.argv[1]); print(u.urlunsplit(p._replace(path="/" + sys.argv[2])))' "$DATABASE_URL" "$name")
  admin_url=$(python3 -c 'import sys,urllib.parse as u; p=u.urlsplit(sys.argv[1]); print(u.urlunsplit(p._replace(path="/postgres")))' "$DATABASE_URL")
  psql -q "$admin_url" -c "DROP DATABASE IF EXISTS $name" >/dev/null 2>&1
}

# wait_for_demo: with base and db_url set, waits until the server answers
# and its `--seed-demo` has made the missions.
wait_for_demo() {
  for _ in $(seq 150); do
    curl -fsS "$base/healthz" >/dev/null 2>&1 && break
    sleep 0.2
  done
  for _ in $(seq 150); do
    [ "$(psql -tA "$db_url" -c "SELECT count(*) FROM missions" 2>/dev/null || echo 0)" -gt 0 ] && return
    sleep 0.2
  done
}

# sign_in BASE JAR EMAIL: signs up (agreeing to the terms) and logs in with
# the forms' CSRF token; prints the Cookie header value the browser would
# then send (JAR keeps it).
sign_in() {
  local base=$1 jar=$2 email=$3 token
  rm -f "$jar"
  token=$(curl -fsS -c "$jar" -b "$jar" "$base/signup" | sed -n 's/.*name="csrf_token" value="\([^"]*\)".*/\1/p' | head -n 1)
  curl -fsS -o /dev/null -c "$jar" -b "$jar" -H "Origin: $base" \
    --data-urlencode "email=$email" --data-urlencode "password=correct horse battery 42" \
    --data-urlencode "nickname=벤치" --data-urlencode "agree_terms=yes" --data-urlencode "agree_privacy=yes" \
    --data-urlencode "csrf_token=$token" "$base/signup"
  curl -fsS -o /dev/null -c "$jar" -b "$jar" -H "Origin: $base" \
    --data-urlencode "email=$email" --data-urlencode "password=correct horse battery 42" \
    --data-urlencode "csrf_token=$token" "$base/login"
  awk '!/^#/ || /^#HttpOnly_/ { sub(/^#HttpOnly_/, ""); if (NF >= 7) printf "%s%s=%s", (n++ ? "; " : ""), $6, $7 } END { print "" }' "$jar"
}

# paying_learner: with base, jar and db_url set (a server running the demo),
# makes the learner the learner pages are for: signed up and in through the
# forms, the nano-degree bought through the cart, checkout and the demo
# gateway, progress through the first course, 20,000 heartbeats, notes on a
# lesson and a quiz attempt. Sets email, user, lesson, mission, course and
# cookie (the Cookie header the browser sends).
paying_learner() {
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
  # The browser follows the submission to the mission page, which shows the
  # result's flash message once and clears its cookie.
  curl -fsS -o /dev/null -b "$jar" -c "$jar" "$base/missions/$mission"
  cookie=$(awk '!/^#/ || /^#HttpOnly_/ { sub(/^#HttpOnly_/, ""); if (NF >= 7) printf "%s%s=%s", (n++ ? "; " : ""), $6, $7 } END { print "" }' "$jar")
  [ "$(curl -s -o /dev/null -w '%{http_code}' -H "Cookie: $cookie" "$base/missions/$mission")" = 200 ] \
    || { echo "the learner cannot open the mission page" >&2; exit 1; }
}
