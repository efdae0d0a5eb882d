#!/usr/bin/env bash
# Collector ingestion rate in process (no TLS), pinned to one core: verify +
# store + merge of synthetic summaries shaped like a sensor's (20 assets, 40 edges,
# 20 findings; and small ones), one commit each and in the server writer's batches.
#   bench/collector.sh [SUMMARIES] [BATCH]
set -euo pipefail
cd "$(dirname "$0")/.."
cargo build --release -q -p faro-collector --example ingest_bench
target="${CARGO_TARGET_DIR:-target}"
# The store goes under target/ (a real disk: fsync costs what it costs in production).
BENCH_DIR="$target" taskset -c 0 "$target/release/examples/ingest_bench" "${1:-5000}" "${2:-64}"
