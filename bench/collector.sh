#!/usr/bin/env bash
# Collector ingestion rate in process (no TLS), pinned to one core: verify,
# store and merge of synthetic summaries of 9 KB (what a sensor sends every
# 10 s for a 40-session plant) and 34 KB, one commit each and in the server
# writer's batches, merged as its writer merges them under load.
#   bench/collector.sh [SUMMARIES] [BATCH]
set -euo pipefail
cd "$(dirname "$0")/.."
cargo build --release -q -p faro-collector --example ingest_bench
target="${CARGO_TARGET_DIR:-target}"
# The store goes under target/ (a real disk: fsync costs what it costs in production).
BENCH_DIR="$target" taskset -c 0 "$target/release/examples/ingest_bench" "${1:-5000}" "${2:-64}"
