#!/usr/bin/env bash
# Grading sandbox figures (#12): start-up overhead of the whole chain
# (timeout, setpriv, bubblewrap, prlimit) over the bare interpreter, and
# demo test runs graded per minute (reference answers, GRADING_SLOTS at a
# time). Targets: < 30 ms overhead per run, >= 300 test runs per minute.
#   BENCH_SECONDS=20 bench/sandbox.sh     (needs bubblewrap; no database)
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
SQLX_OFFLINE=true cargo build --release --locked --example sandbox_bench >&2
"${CARGO_TARGET_DIR:-target}/release/examples/sandbox_bench"
