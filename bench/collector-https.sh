#!/usr/bin/env bash
# Collector ingestion over HTTPS with mutual TLS: the real `faro-collector
# serve` pinned to core 0, the load (S sensors, each on its own connection,
# posting N summaries in sequence) pinned to core 1.
#   bench/collector-https.sh [SENSORS] [PER_SENSOR] [ASSETS]
# (ASSETS per summary, with twice as many edges and as many findings: 5 is
# about 9 KB, a 40-session plant's summary every 10 s; 20 is 34 KB.)
set -euo pipefail
cd "$(dirname "$0")/.."
sensors="${1:-32}"
per="${2:-100}"
assets="${3:-5}"
cargo build --release -q -p faro-collector --bin faro-collector --example https_load
target="${CARGO_TARGET_DIR:-target}"
bin="$target/release/faro-collector"
work="$(mktemp -d "$target/https-bench.XXXXXX")"
trap 'kill "$server" 2>/dev/null || true; wait 2>/dev/null || true; rm -rf "$work"' EXIT
ids=()
for i in $(seq 0 $((sensors - 1))); do ids+=(--sensor "s$i"); done
"$bin" certs --out "$work/pki" "${ids[@]}" >/dev/null
port=$((20000 + RANDOM % 20000))
RUST_LOG=warn taskset -c 0 "$bin" serve --data "$work/data" --listen "127.0.0.1:$port" \
  --cert "$work/pki/collector.pem" --key "$work/pki/collector.key" \
  --client-ca "$work/pki/ca.pem" &
server=$!
for _ in $(seq 100); do
  (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null && break
  sleep 0.1
done
taskset -c 1 "$target/release/examples/https_load" "127.0.0.1:$port" "$work/pki" "$work/data" "$sensors" "$per" "$assets"
