#!/usr/bin/env bash
# Whole-pipeline throughput of `faro-sensor analyze` on one core, against the
# rate of reading the same capture through libpcap and doing nothing else
# (`tcpdump -r FILE -w /dev/null`), measured in the same run: the machine is
# shared, so ratios are the figures to trust.
#
#   bench/pipeline.sh [PACKETS] [FLOWS] [RUNS] [SHARE]   defaults: 1000000 1000 5 20
#
# Generated captures of PACKETS packets over FLOWS flows: Modbus/TCP polling
# alone, and the same with SHARE percent of the flows S7comm (COTP set-up, then
# Read Var polling), DNP3 (class polls and responses) or OPC UA (HEL/ACK, OPN
# None, CreateSession and ActivateSession once, then Read polling).
# Targets: at least 3 million packets/s and peak RSS under 64 MiB on Modbus
# polling (issue 2); adding S7, DNP3 or OPC UA costs no more than 20 % of the
# packets/s (issues 3 and 4).
set -euo pipefail
cd "$(dirname "$0")/.."
packets=${1:-1000000}
flows=${2:-1000}
runs=${3:-5}
share=${4:-20}

for tool in tcpdump /usr/bin/time taskset; do
  command -v "$tool" >/dev/null || { echo "missing $tool: run scripts/setup" >&2; exit 2; }
done
cargo build --release -q -p faro-sensor -p faro-capgen
target=${CARGO_TARGET_DIR:-target}
mkdir -p "$target/bench"

capture() { # protocol share -> path
  local path="$target/bench/polling-${packets}-${flows}-$1-$2.pcap"
  if [ ! -s "$path" ]; then
    "$target/release/faro-capgen" polling --packets "$packets" --flows "$flows" "--$1-share" "$2" -o "$path" 2>/dev/null
  fi
  echo "$path"
}

# Best (lowest) wall time of $runs runs of a command pinned to CPU 0, and the peak RSS in KiB.
best() {
  local best_s="" rss=0 t m out start end
  out=$(mktemp)
  for _ in $(seq "$runs"); do
    start=$EPOCHREALTIME
    taskset -c 0 /usr/bin/time -o "$out" -f "%M" "$@" >/dev/null 2>&1
    end=$EPOCHREALTIME
    t=$(awk -v a="$start" -v b="$end" 'BEGIN{printf "%.4f", b - a}')
    m=$(tail -n 1 "$out")
    if [ -z "$best_s" ] || awk -v a="$t" -v b="$best_s" 'BEGIN{exit !(a<b)}'; then best_s=$t; fi
    if [ "$m" -gt "$rss" ]; then rss=$m; fi
  done
  rm -f "$out"
  echo "$best_s $rss"
}

modbus=$(capture s7 0)
read -r ref_s ref_rss < <(best tcpdump -r "$modbus" -w /dev/null)
read -r mb_s mb_rss < <(best "$target/release/faro-sensor" analyze --format json --no-progress "$modbus")

awk -v p="$packets" -v f="$flows" -v rs="$ref_s" -v rrss="$ref_rss" -v ms="$mb_s" -v mrss="$mb_rss" 'BEGIN {
  printf "captures: %d packets over %d flows (faro-capgen polling)\n", p, f;
  printf "%-46s %9s %9s %9s\n", "", "seconds", "Mpkt/s", "peak RSS";
  printf "%-46s %9.3f %9.2f %7.1f MiB\n", "libpcap read, Modbus (tcpdump -w /dev/null)", rs, p / rs / 1e6, rrss / 1024;
  printf "%-46s %9.3f %9.2f %7.1f MiB\n", "faro-sensor analyze, Modbus", ms, p / ms / 1e6, mrss / 1024;
  printf "ratio faro / libpcap read on Modbus: %.2f\n", rs / ms;
  printf "target: Modbus >= 3.00 Mpkt/s %s; peak RSS < 64 MiB %s\n", (p / ms >= 3e6 ? "met" : "MISSED"), (mrss < 65536 ? "met" : "MISSED");
}'
for protocol in s7 dnp3 opcua; do
  mixed=$(capture "$protocol" "$share")
  read -r mix_ref_s _ < <(best tcpdump -r "$mixed" -w /dev/null)
  read -r mix_s mix_rss < <(best "$target/release/faro-sensor" analyze --format json --no-progress "$mixed")
  awk -v p="$packets" -v proto="$protocol" -v share="$share" -v rs="$ref_s" -v ms="$mb_s" \
      -v xrs="$mix_ref_s" -v xs="$mix_s" -v xrss="$mix_rss" 'BEGIN {
    mb = p / ms; mix = p / xs; cost = 1 - mix / mb;
    printf "%-46s %9.3f %9.2f %7.1f MiB\n", sprintf("faro-sensor analyze, Modbus + %d%% %s flows", share, proto), xs, mix / 1e6, xrss / 1024;
    printf "  cost of the %s share: %.1f%% of packets/s (%.1f%% relative to libpcap on each capture); target <= 20%% %s\n",
      proto, cost * 100, (1 - (p / xs / (p / xrs)) / (mb / (p / rs))) * 100, (cost <= 0.20 ? "met" : "MISSED");
  }'
done
