#!/usr/bin/env bash
# Latency of the API's asset and findings lists at scale: a store of
# 50,000 assets and 200,000 findings (100 sites; filled through ingestion and
# scored), served over HTTPS on loopback, each list query timed REQUESTS
# times from one client connection: p50, p99 and max.
#   bench/api.sh [SITES] [ASSETS_PER_SITE] [FINDINGS_PER_SITE] [REQUESTS]
set -euo pipefail
cd "$(dirname "$0")/.."
cargo build --release -q -p faro-collector --example api_bench
target="${CARGO_TARGET_DIR:-target}"
# The store goes under target/ (a real disk).
BENCH_DIR="$target" RUST_LOG=warn "$target/release/examples/api_bench" \
  "${1:-100}" "${2:-500}" "${3:-2000}" "${4:-500}"
