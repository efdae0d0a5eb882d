#!/usr/bin/env bash
# The highest rate at which the live sensor, pinned to one core, drops
# nothing: tcpreplay (pinned to the other core) replays a generated capture
# into a veth pair in a network namespace of the benchmark's own, the sensor
# captures the other end as in production (root switching to `nobody`,
# default 32 MiB ring, no BPF filter), and each trial counts what the sensor
# saw against what tcpreplay sent, with libpcap's kernel and interface drops.
#
#   bench/live.sh [PACKETS] [SECONDS]   defaults: 3000000 5   (needs root)
#
# The capture: faro-capgen polling, PACKETS packets over 1000 sessions (60 %
# Modbus/TCP, 20 % S7comm, 10 % DNP3, 10 % OPC UA). Rates are searched by
# doubling from 25,000 packets/s and then bisecting between the last clean
# rate and the first with a loss, each trial a fresh sensor fed
# rate × SECONDS packets (at most PACKETS) with tcpreplay --pps; when
# tcpreplay itself cannot reach a rate, the last trial is --topspeed, and the
# sensor's figure is reported as a ratio of tcpreplay's top speed. The
# sensor's CPU time per packet (its capture thread's, from schedstat) tells
# how many packets per second its core could take.
set -euo pipefail
cd "$(dirname "$0")/.."
packets=${1:-3000000}
seconds=${2:-5}

[ "$(id -u)" -eq 0 ] || { echo "bench/live.sh needs root (network namespaces, live capture)" >&2; exit 2; }
for tool in tcpreplay ip taskset; do
  command -v "$tool" >/dev/null || { echo "missing $tool: run scripts/setup" >&2; exit 2; }
done
[ "$(nproc)" -ge 2 ] || { echo "needs two cores: one for the sensor, one for tcpreplay" >&2; exit 2; }
cargo build --release -q -p faro-sensor -p faro-capgen -p faro-collector
target=$(cd "${CARGO_TARGET_DIR:-target}" && pwd)
bin=$target/release
mkdir -p "$target/bench"
capture=$target/bench/live-polling-$packets.pcap
if [ ! -s "$capture" ]; then
  "$bin/faro-capgen" polling --packets "$packets" --flows 1000 --s7-share 20 --dnp3-share 10 \
    --opcua-share 10 -o "$capture" 2>/dev/null
fi

# The sensor's files, readable by nobody; a namespace with mon0 (the sensor's) and tap0.
work=$(mktemp -d /tmp/faro-live-bench.XXXXXX)
netns=faro-live-bench-$$
sensor_pid=""
cleanup() {
  [ -z "$sensor_pid" ] || kill -KILL "$sensor_pid" 2>/dev/null || true
  ip netns del "$netns" 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 130' INT TERM
"$bin/faro-collector" certs --out "$work/certs" --sensor edge-01 >/dev/null
"$bin/faro-sensor" keygen --out "$work/keys" >/dev/null
cat >"$work/faro.toml" <<EOF
[sensor]
id = "bench"
site = "bench"

[[interfaces]]
name = "mon0"

# No collector: the one summary, at stop, stays in the spool.
[uplink]
collector_url = "https://localhost:9"
ca = "certs/ca.pem"
client_certificate = "certs/edge-01.pem"
client_key = "certs/edge-01.key"
signing_key = "keys/sensor.key"
interval_secs = 3600
EOF
chown -R nobody: "$work"
ip netns add "$netns"
ip netns exec "$netns" sysctl -qw net.ipv6.conf.all.disable_ipv6=1 net.ipv6.conf.default.disable_ipv6=1
ip -n "$netns" link add mon0 type veth peer name tap0
for link in lo mon0 tap0; do ip -n "$netns" link set "$link" up; done

status_field() { # field -> value in the sensor's status (first occurrence)
  grep -o "\"$1\": [0-9]*" "$work/state/status.json" 2>/dev/null | head -n 1 | awk '{print $2}'
}

# One trial: rate (packets/s, or "top") -> sets pps mbps sent seen dropped if_dropped busy
trial() {
  local rate=$1 count rate_args out t0 t1 last
  if [ "$rate" = top ]; then
    count=$packets
    rate_args=(--topspeed)
  else
    count=$((rate * seconds))
    [ "$count" -le "$packets" ] || count=$packets
    rate_args=(--pps="$rate")
  fi
  rm -rf "$work/state"
  taskset -c 1 ip netns exec "$netns" "$bin/faro-sensor" run --config "$work/faro.toml" \
    --state "$work/state" --user nobody --drain 0 2>"$work/sensor.log" &
  sensor_pid=$!
  for _ in $(seq 100); do
    grep -q '"state": "running"' "$work/state/status.json" 2>/dev/null && break
    sleep 0.1
  done
  # CPU time of the sensor's capture thread (the main one), in nanoseconds.
  t0=$(awk '{print $1}' "/proc/$sensor_pid/schedstat")
  out=$(taskset -c 0 ip netns exec "$netns" tcpreplay "${rate_args[@]}" --limit="$count" -i tap0 "$capture" 2>&1)
  # Until the sensor has seen every packet, or stops seeing more.
  last=-1
  # (the status is rewritten every 2 s)
  for _ in $(seq 12); do
    sleep 2.5
    seen=$(status_field packets)
    [ "${seen:-0}" -lt "$count" ] && [ "${seen:-0}" != "$last" ] || break
    last=$seen
  done
  t1=$(awk '{print $1}' "/proc/$sensor_pid/schedstat")
  kill -TERM "$sensor_pid"
  wait "$sensor_pid" || { echo "the sensor failed:" >&2; cat "$work/sensor.log" >&2; exit 1; }
  sensor_pid=""
  sent=$(echo "$out" | awk '/Successful packets:/ {print $3}')
  pps=$(echo "$out" | awk '/Rated:/ {print $(NF-1)}')
  mbps=$(echo "$out" | awk '/Rated:/ {print $(NF-3)}')
  seen=$(status_field packets)
  dropped=$(status_field dropped)
  if_dropped=$(status_field if_dropped)
  # The capture thread's CPU time per packet seen, idle wake-ups included.
  busy=$(awk -v a="$t0" -v b="$t1" -v n="${seen:-0}" 'BEGIN { printf "%.2f", (n > 0) ? (b - a) / 1000 / n : 0 }')
  pps=${pps%.*} sent=${sent:-0} seen=${seen:-0} dropped=${dropped:-0} if_dropped=${if_dropped:-0}
}

printf "%-10s %12s %9s %10s %10s %8s %8s %8s  %s\n" requested "sent pkt/s" Mbit/s sent seen dropped if_drop "cpu µs" result
record() { # requested fields... -> prints a row; returns 0 when clean
  local requested=$1 pps=$2 mbps=$3 sent=$4 seen=$5 dropped=$6 if_dropped=$7 busy=$8 verdict
  if [ "$sent" -gt 0 ] && [ "$seen" -eq "$sent" ] && [ "$dropped" -eq 0 ] && [ "$if_dropped" -eq 0 ]; then
    verdict=clean
  else
    verdict=LOSS
  fi
  printf "%-10s %12s %9s %10s %10s %8s %8s %8s  %s\n" "$requested" "$pps" "$mbps" "$sent" "$seen" "$dropped" "$if_dropped" "$busy" "$verdict"
  [ "$verdict" = clean ]
}

best_pps=0 best_mbps=0 best_busy=0 first_loss=""
rate=25000
tcpreplay_limited=no
while :; do
  trial "$rate"
  if record "$rate" "$pps" "$mbps" "$sent" "$seen" "$dropped" "$if_dropped" "$busy"; then
    best_pps=$pps best_mbps=$mbps best_busy=$busy
  else
    first_loss=$rate
    break
  fi
  # tcpreplay fell short of the rate asked for: it is the limit, not the sensor.
  if [ "$pps" -lt $((rate * 9 / 10)) ]; then
    tcpreplay_limited=yes
    break
  fi
  rate=$((rate * 2))
done
if [ -n "$first_loss" ]; then
  low=$best_pps high=$first_loss
  while [ $((high - low)) -gt $((high / 20)) ]; do
    rate=$(((low + high) / 2))
    trial "$rate"
    if record "$rate" "$pps" "$mbps" "$sent" "$seen" "$dropped" "$if_dropped" "$busy"; then
      low=$rate best_pps=$pps best_mbps=$mbps best_busy=$busy
    else
      high=$rate
    fi
  done
fi
trial top
top_pps=$pps top_mbps=$mbps top_busy=$busy
top_clean=no
if record top "$top_pps" "$top_mbps" "$sent" "$seen" "$dropped" "$if_dropped" "$top_busy"; then
  top_clean=yes
  if [ "$top_pps" -gt "$best_pps" ]; then best_pps=$top_pps best_mbps=$top_mbps best_busy=$top_busy; fi
fi

echo
echo "capture: $packets packets (faro-capgen polling: Modbus 60 %, S7comm 20 %, DNP3 10 %, OPC UA 10 %), trials of up to ${seconds} s"
echo "tcpreplay's top speed here: $top_pps packets/s, $top_mbps Mbit/s (sensor loss-free at it: $top_clean)"
echo "highest loss-free rate: $best_pps packets/s, $best_mbps Mbit/s (sensor CPU ${best_busy} µs per packet)"
awk -v b="$best_pps" -v t="$top_pps" -v us="$top_busy" -v top_clean="$top_clean" 'BEGIN {
  printf "ratio to tcpreplay top speed: %.2f\n", b / t
  if (top_clean == "yes" && us > 0)
    printf "tcpreplay is the limit, not the sensor: at its top speed the sensor spent %.2f µs of CPU per packet, %d %% of its core (about %d packets/s per core, extrapolated)\n", us, 100 * us * t / 1e6, 1e6 / us
}'
