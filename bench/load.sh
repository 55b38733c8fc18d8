#!/usr/bin/env bash
# Load-tests one URL with wrk and prints requests/s and p50/p95/p99.
#   bench/load.sh URL [connections=100] [seconds=10] [threads=2]
# Sends what a browser sends: Accept-Encoding (BENCH_ENCODING, default
# "gzip, deflate, br, zstd"; "none" for bare figures) and, with BENCH_COOKIE
# set, the session cookies of a signed-in browser; with BENCH_RANGE set (e.g.
# "bytes=0-65535"), a Range header as a video player sends; with BENCH_COOKIES_FILE set
# (one Cookie value per line), those of many signed-in learners in turn; with
# BENCH_ACCEPT, that Accept header (default text/html); with BENCH_TOKEN, an API
# token as `Authorization: Bearer`.
set -euo pipefail
url=${1:?usage: bench/load.sh URL [connections] [seconds] [threads]}
conns=${2:-100}
secs=${3:-10}
threads=${4:-2}
command -v wrk >/dev/null || { echo "wrk is not installed: apt-get install -y wrk" >&2; exit 1; }
here=$(cd "$(dirname "$0")" && pwd)
ulimit -n 65536 2>/dev/null || true
encoding=${BENCH_ENCODING:-gzip, deflate, br, zstd}
who=${BENCH_COOKIE:+, signed in}
if [ -n "${BENCH_COOKIES_FILE:-}" ]; then who=", $(grep -c . "$BENCH_COOKIES_FILE") learners signed in"; fi
headers=(-H "Accept: ${BENCH_ACCEPT:-text/html}")
if [ -n "${BENCH_TOKEN:-}" ]; then headers+=(-H "Authorization: Bearer $BENCH_TOKEN"); who="$who, API token"; fi
echo "== $url  ($conns connections, ${secs}s, $threads threads, Accept-Encoding: $encoding$who)"
if [ "$encoding" != none ]; then headers+=(-H "Accept-Encoding: $encoding"); fi
if [ -n "${BENCH_COOKIE:-}" ]; then headers+=(-H "Cookie: $BENCH_COOKIE"); fi
if [ -n "${BENCH_RANGE:-}" ]; then headers+=(-H "Range: $BENCH_RANGE"); echo "   Range: $BENCH_RANGE"; fi
wrk -t"$threads" -c"$conns" -d"${secs}s" --timeout 5s "${headers[@]}" -s "$here/report.lua" "$url" \
  | sed -n '/^requests\/s:/,$p'
