#!/usr/bin/env bash
# Watch-event ingestion (#11): BENCH_LEARNERS signed-in learners (200 by
# default) post batches of BENCH_BATCH events (30: a play, heartbeats, a
# pause) to the demo's first free preview, as the lesson player does, at 100
# connections for BENCH_SECONDS. Every batch is validated, folded into the
# learner's progress under its row lock and stored in one transaction.
# Afterwards the events in the database are counted against those the server
# acknowledged: none may be missing.
# Target: >= 5,000 events/s on this machine with no event lost.
#   BENCH_SECONDS=10 bench/events.sh        (needs DATABASE_URL; make bench runs it)
# The per-learner batch limit is raised for the run: 200 learners cannot
# send this many events at the player's real pace (a batch every 30 s).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
: "${DATABASE_URL:?set DATABASE_URL, or run through make bench}"
secs=${BENCH_SECONDS:-10}
port=${BENCH_PORT:-18084}
. bench/lib.sh
bin=$(bench_binary)
fresh_database weaverse_bench_events
work=$(mktemp -d)
learners=${BENCH_LEARNERS:-200}
ulimit -n 65536 2>/dev/null || true
LIMIT_SIGNUPS_PER_IP=100000 LIMIT_WATCH_BATCHES_PER_LEARNER=100000 APP_ENV=development HOST=127.0.0.1 \
  PORT=$port DATABASE_URL=$db_url VAR_DIR="$work/var" RUST_LOG=warn SEED_VIDEOS=1 \
  DATABASE_MAX_CONNECTIONS=${BENCH_DB_CONNECTIONS:-16} STATIC_DIR="$root/static" \
  "$bin" serve --seed-demo &
pid=$!
trap 'kill $pid 2>/dev/null; wait $pid 2>/dev/null; rm -rf "$work"' EXIT
base="http://127.0.0.1:$port"
topic=
for _ in $(seq 300); do
  topic=$(psql -tA "$db_url" -c "SELECT topic_id FROM videos WHERE state = 'ready' LIMIT 1" 2>/dev/null || true)
  [ -n "$topic" ] && break
  sleep 1
done
[ -n "$topic" ] || { echo "the demo video did not become ready" >&2; exit 1; }

jar="$work/jar"
# Each learner signs up, keeps its cookies, the CSRF token and the watch
# session the lesson page prints for the player.
learner() {
  local cookie page token session
  cookie=$(sign_in "$base" "$jar" "$1")
  page=$(curl -fsS -b "$jar" "$base/learn/topics/$topic")
  token=$(sed -n 's/.*data-csrf="\([^"]*\)".*/\1/p' <<<"$page" | head -n 1)
  session=$(sed -n 's/.*data-watch-session="\([^"]*\)".*/\1/p' <<<"$page" | head -n 1)
  printf '%s\t%s\t%s\n' "$cookie" "$token" "$session"
}
stamp=$(date +%s)
for i in $(seq "$learners"); do
  learner "events-$stamp-$i@example.com" >>"$work/learners"
done
IFS=$'\t' read -r cookie token session < "$work/learners"
probe=$(curl -s -o /dev/null -w '%{http_code}' -H "Cookie: $cookie" -H "X-CSRF-Token: $token" -H "Origin: $base" \
  -H 'Content-Type: application/json' \
  --data "{\"session\":\"$session\",\"events\":[{\"type\":\"play\",\"position\":0,\"duration\":20,\"seq\":0}]}" \
  "$base/learn/topics/$topic/events")
[ "$probe" = 200 ] || { echo "a learner could not post events (answered $probe)" >&2; exit 1; }

echo "machine: $(nproc) cores; server, PostgreSQL and wrk share it"
echo "binary: $bin; $learners learners; topic $topic"
export BENCH_LEARNERS_FILE="$work/learners" BENCH_TOPIC=$topic
wrk -t2 -c100 -d2s -s bench/events.lua "$base" >/dev/null
before=$(psql -tA "$db_url" -c "SELECT count(*) FROM watch_events")
wrk -t2 -c100 -d"${secs}s" -s bench/events.lua "$base" | tee "$work/out" | grep -v '^acknowledged'
sleep 1
after=$(psql -tA "$db_url" -c "SELECT count(*) FROM watch_events")
acked=$(sed -n 's/^acknowledged events: //p' "$work/out")
stored=$((after - before))
echo "events stored: $stored; acknowledged: $acked"
if [ "$stored" -lt "$acked" ]; then
  echo "LOST: $((acked - stored)) acknowledged events are not in the database" >&2
  exit 1
fi
echo "none lost (stored >= acknowledged; requests cut off at the end may have been stored unacknowledged)"
