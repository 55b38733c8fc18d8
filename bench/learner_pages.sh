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
# The tutor panel is fetched as htmx fetches it when the learner opens it.
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
wait_for_demo

paying_learner
# Two questions to the AI tutor on the lesson (the local retrieval answers
# without a model), so its panel shows a conversation.
for q in "자바스크립트 변수는 어떻게 선언하나요?" "let과 const는 무엇이 다른가요?"; do
  token=$(curl -fsS -b "$jar" -c "$jar" "$base/me" | sed -n 's/.*name="csrf_token" value="\([^"]*\)".*/\1/p' | head -n 1)
  curl -fsS -o /dev/null -b "$jar" -c "$jar" -H "Origin: $base" --data-urlencode "question=$q" \
    --data-urlencode position=30 --data-urlencode "csrf_token=$token" "$base/learn/topics/$lesson/tutor"
done

xacts() { psql -tA "$db_url" -c "SELECT xact_commit + xact_rollback FROM pg_stat_database WHERE datname = current_database()"; }
echo "machine: $(nproc) cores; server, PostgreSQL and wrk share it"
echo "binary: $bin"
echo "learner: bought, 8 topics done and one half watched, 20,000 heartbeats over 8 weeks, 3 notes, 1 quiz attempt, 2 questions to the tutor"
rounds=${BENCH_ROUNDS:-1}
results=$(mktemp)
trap 'kill $pid 2>/dev/null; wait $pid 2>/dev/null; rm -rf "$var_dir" "$jar" "$results"' EXIT
for round in $(seq "$rounds"); do
[ "$rounds" -gt 1 ] && echo "round $round of $rounds"
baseline=0
printf '%-26s %8s %8s %10s %12s %9s  %s\n' page "req/s" "p99 ms" "/courses" "db xact/req" "KB sent" errors
for entry in "/courses (visitor)|/courses|visitor" "course page|/courses/$course|learner" \
             "/orders|/orders|learner" "/ (bought, progress)|/|learner" "/me/dashboard|/me/dashboard|learner" \
             "lesson page|/learn/topics/$lesson|learner" "mission page|/missions/$mission|learner" \
             "tutor panel (htmx)|/learn/topics/$lesson/tutor|panel"; do
  label=${entry%%|*}; rest=${entry#*|}; path=${rest%|*}; who=${rest#*|}
  [[ -n "${BENCH_ONLY:-}" && ! "$label" =~ ${BENCH_ONLY} && "$label" != "/courses (visitor)" ]] && continue
  headers=(-H "Accept: text/html" -H "Accept-Encoding: gzip, deflate, br, zstd")
  [ "$who" != visitor ] && headers+=(-H "Cookie: $cookie")
  # The panel is what htmx fetches when the learner opens it under the video.
  [ "$who" = panel ] && headers+=(-H "HX-Request: true")
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
    [ "$who" != visitor ] && plain+=(-H "Cookie: $cookie")
    [ "$who" = panel ] && plain+=(-H "HX-Request: true")
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
