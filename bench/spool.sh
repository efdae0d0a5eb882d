#!/usr/bin/env bash
# The spool's rates on this disk, each step durable (fsync) before the next:
# pushes per second of realistic 20 KiB summaries (unsigned, as built); then
# first offers per second, each giving the next sequence, signing (JWS,
# EdDSA) and moving the summary to "sent" in one transaction, with its
# acknowledgement; then pushes per second into a full spool, each merging the
# two oldest summaries not yet sent.
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
    cargo test --release -q -p faro-sensor --lib spool::tests:: \
    -- --ignored --nocapture --test-threads 1 2>&1 | grep -o 'spool:.*'
