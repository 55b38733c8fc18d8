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
