#!/usr/bin/env bash
# Media benchmark.
# 1. Transcoding speed: a 60 s 720p30 source (and a 20 s 1080p30 one) through
#    `weaverse transcode`, the code the upload job runs (probe, every
#    rendition in one ffmpeg run, poster). Target: >= 2x realtime for 720p.
# 2. Segment serving: the demo's first free preview (made by `serve
#    --seed-demo`), its 720p segments requested as a player does: whole, and
#    with a Range header; each request asks learning::access and the file
#    comes from local storage.
#   BENCH_SECONDS=10 bench/media.sh        (needs DATABASE_URL; make bench runs it)
#   BENCH_BIN=/path/to/weaverse bench/media.sh
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
: "${DATABASE_URL:?set DATABASE_URL, or run through make bench}"
secs=${BENCH_SECONDS:-10}
port=${BENCH_PORT:-18083}
. bench/lib.sh
bin=$(bench_binary)
work=$(mktemp -d)
pid=
trap '[ -n "$pid" ] && kill $pid 2>/dev/null; wait 2>/dev/null; rm -rf "$work"' EXIT
echo "machine: $(nproc) cores; ffmpeg $(ffmpeg -version | head -n1 | cut -d' ' -f3)"

echo "== transcoding (TRANSCODE_PRESET=${TRANSCODE_PRESET:-veryfast})"
for spec in "60 1280x720" "20 1920x1080"; do
  set -- $spec
  src="$work/source-$2.mp4"
  # A lesson-like source: a still-ish slide with moving parts and a tone,
  # encoded at a camera-like bitrate.
  ffmpeg -hide_banner -loglevel error -y \
    -f lavfi -i "testsrc2=s=$2:r=30:d=$1" -f lavfi -i "sine=frequency=440:duration=$1" \
    -c:v libx264 -preset veryfast -b:v 6M -pix_fmt yuv420p -c:a aac -shortest "$src"
  DATABASE_URL= RUST_LOG=warn "$bin" transcode "$src" "$work/hls-$2"
done

echo "== segment serving"
fresh_database weaverse_bench_media
ulimit -n 65536 2>/dev/null || true
APP_ENV=development HOST=127.0.0.1 PORT=$port DATABASE_URL=$db_url VAR_DIR="$work/var" RUST_LOG=warn \
  SEED_VIDEOS=1 STATIC_DIR="$root/static" "$bin" serve --seed-demo &
pid=$!
base="http://127.0.0.1:$port"
video=
for _ in $(seq 300); do
  video=$(psql -tA "$db_url" -c "SELECT id FROM videos WHERE state = 'ready' LIMIT 1" 2>/dev/null || true)
  [ -n "$video" ] && break
  sleep 1
done
[ -n "$video" ] || { echo "the demo video did not become ready" >&2; exit 1; }
segment="$base/media/videos/$video/720p/seg_001.ts"
size=$(curl -fsS -o /dev/null -w '%{size_download}' "$segment")
echo "segment: $segment ($size bytes; a free preview, so no cookie is needed)"
wrk -t2 -c50 -d2s "$segment" >/dev/null
BENCH_ENCODING=none bench/load.sh "$segment" 50 "$secs"
BENCH_ENCODING=none BENCH_RANGE="bytes=0-65535" bench/load.sh "$segment" 50 "$secs"
BENCH_ENCODING=none bench/load.sh "$base/media/videos/$video/720p/index.m3u8" 50 "$secs"
