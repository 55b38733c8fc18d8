#!/usr/bin/env bash
# Makes sure the system programs Weaverse needs are installed.
#   scripts/system-deps.sh run    what `make run` needs
#   scripts/system-deps.sh test   what `make test` needs (run + browser, PDF tools)
# As root on Debian/Ubuntu it installs what is missing with apt-get; otherwise
# it prints the exact command to run and stops.
set -euo pipefail

mode=${1:-run}

# command-or-file  ->  Debian package
declare -A need=(
  [ffmpeg]=ffmpeg
  [ffprobe]=ffmpeg
  [bwrap]=bubblewrap
  [/usr/share/fonts/truetype/nanum/NanumGothic.ttf]=fonts-nanum
)
if [ "$mode" = test ]; then
  # Browser tests drive Chromium through playwright-core; CHROMIUM_PATH may
  # name another Chromium-family browser (e.g. Chrome on a hosted CI runner).
  if [ -z "${CHROMIUM_PATH:-}" ] || [ ! -x "${CHROMIUM_PATH:-}" ]; then
    need[chromium]=chromium
  fi
  need[pdftoppm]=poppler-utils
  # pg_dump proves phone numbers never reach a dump in clear; psql tidies test databases.
  need[pg_dump]=postgresql-client
  need[psql]=postgresql-client
  # Two instances behind the repo's nginx config (tests/http/instances.rs).
  need[nginx]=nginx
fi
if [ "$mode" = bench ]; then
  need=([wrk]=wrk)
fi

missing=()
for thing in "${!need[@]}"; do
  if [[ "$thing" == /* ]]; then
    [ -e "$thing" ] && continue
  else
    command -v "$thing" >/dev/null 2>&1 && continue
  fi
  pkg=${need[$thing]}
  [[ " ${missing[*]-} " == *" $pkg "* ]] || missing+=("$pkg")
done

for tool in node npm cargo; do
  if ! command -v "$tool" >/dev/null 2>&1; then
    echo "weaverse: '$tool' is required (Node.js 20 with npm, and Rust via rustup)." >&2
    exit 1
  fi
done

# Cargo tools the test run uses, installed into ~/.cargo/bin (cached there).
if [ "$mode" = test ]; then
  if ! cargo nextest --version >/dev/null 2>&1; then
    echo "weaverse: installing cargo-nextest"
    cargo install cargo-nextest --locked
  fi
  # The S3-compatible server the storage tests run against: it checks request
  # signatures, so a tampered presigned address is really refused.
  if ! command -v s3s-fs >/dev/null 2>&1; then
    echo "weaverse: installing s3s-fs (about 3 minutes, once)"
    cargo install s3s-fs --version 0.14.1 --features binary --locked
  fi
  if ! cargo sqlx --version >/dev/null 2>&1; then
    echo "weaverse: installing sqlx-cli (about 3 minutes, once)"
    cargo install sqlx-cli --version '~0.8' --no-default-features --features postgres,rustls --locked
  fi
fi

if [ ${#missing[@]} -eq 0 ]; then
  exit 0
fi

cmd="apt-get install -y --no-install-recommends ${missing[*]}"
if [ "$(id -u)" -eq 0 ] && command -v apt-get >/dev/null 2>&1; then
  echo "weaverse: installing ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  # Refresh the package lists once if they are missing or older than a day.
  if [ -z "$(find /var/lib/apt/lists -maxdepth 1 -name '*Packages*' -mtime -1 2>/dev/null | head -n 1)" ]; then
    apt-get update -qq
  fi
  $cmd >/dev/null
else
  echo "weaverse: missing system packages: ${missing[*]}" >&2
  echo "Install them with:  sudo $cmd" >&2
  exit 1
fi
