#!/usr/bin/env bash
# Spool pushes per second of realistic 20 KiB signed summaries, each durable
# (fsync) before the next: the rate the sensor can spool at on this disk.
#
#   bench/spool.sh [PUSHES]   default: 500
#
# The spool file goes under target/, on the disk the sensor would use, not
# in a /tmp that may be in memory (where fsync costs nothing).
set -euo pipefail
cd "$(dirname "$0")/.."
dir="${CARGO_TARGET_DIR:-target}/spool-bench"
mkdir -p "$dir"
TMPDIR="$(cd "$dir" && pwd)" FARO_SPOOL_BENCH_PUSHES="${1:-500}" \
    cargo test --release -q -p faro-sensor --lib spool::tests::push_rate \
    -- --ignored --exact --nocapture 2>&1 | grep '^spool:'
