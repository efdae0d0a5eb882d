#!/usr/bin/env bash
# Known-vulnerability matching through the store, on one core: the shared
# CISA advisories and KEV imported, SITES × ASSETS assets of a realistic
# identity mix matched, a round with nothing changed, and the round after one
# asset's firmware changed (its match and its site's rescoring).
#   bench/vulnerabilities.sh [SITES] [ASSETS_PER_SITE]   (default 20 × 5000)
set -euo pipefail
cd "$(dirname "$0")/.."
cargo build --release -q -p faro-collector --example vulnerability_bench
target="${CARGO_TARGET_DIR:-target}"
BENCH_DIR="$target" taskset -c 0 "$target/release/examples/vulnerability_bench" "${1:-20}" "${2:-5000}"
