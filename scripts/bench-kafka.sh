#!/usr/bin/env bash
# Ingest throughput into Kafka, side by side with kcat, in the same run:
# one librdkafka mock cluster (3 brokers, in its own process), the same
# generated Squid log pushed twice:
#   1. `kcat -P` pushing the raw lines (the baseline: no parsing at all);
#   2. `vigil ingest --once` reading, parsing, enriching and producing events,
#      with Vigil's producer defaults (LZ4 compression);
#   3. the same with `compression.type = none`, kcat's (librdkafka's) default;
#   4. `kcat -P` pushing Vigil's own events for those lines (as `vigil parse`
#      writes them), with LZ4 and without: the transport floor, what any
#      producer of these records reaches with no reading or parsing at all.
#      An event (ECS fields plus the original line as `message`) is about
#      five times the raw line, so this floor sits well below kcat's raw push.
#
# Vigil's wall time includes librdkafka's idempotent-producer start: the
# producer id is first asked for 500 ms after the client is created, and
# nothing is sent before (records queue meanwhile).
#   scripts/bench-kafka.sh [LINES]      (default 1000000)
#
# Prints lines/s for each, the ratios vigil/kcat, and each one's peak RSS.
# Installs kcat and GNU time from Debian's packages when missing.
set -euo pipefail
cd "$(dirname "$0")/.."
lines="${1:-1000000}"
work="$(mktemp -d)"
mock_pid=""
cleanup() {
  [ -n "$mock_pid" ] && kill "$mock_pid" 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT

need=()
command -v kcat >/dev/null || need+=(kcat)
[ -x /usr/bin/time ] || need+=(time)
if [ ${#need[@]} -gt 0 ]; then
  sudo_cmd=""; [ "$(id -u)" -eq 0 ] || sudo_cmd="sudo"
  $sudo_cmd apt-get update -qq && $sudo_cmd env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need[@]}" >/dev/null
fi

cargo build --release --quiet --bin vigil
cargo build --release --quiet -p vigil-testkit --bin vigil-mock-kafka
bin="${CARGO_TARGET_DIR:-target}/release"
python3 scripts/gen-squid-log.py "$lines" > "$work/access.log"

# The mock cluster prints `bootstrap HOST:PORT,...` once its topics exist.
mkfifo "$work/mock.out"
"$bin/vigil-mock-kafka" --brokers 3 --topic raw:6 --topic vigil.events:6 --topic vigil.alerts:6 \
  --topic vigil.deadletter:6 > "$work/mock.out" &
mock_pid=$!
read -r _ bootstrap < "$work/mock.out"

# Runs a command under GNU time; prints "wall_seconds peak_rss_kib".
measure() {
  /usr/bin/time -f "%e %M" -o "$work/time.txt" "$@" > /dev/null
  cat "$work/time.txt"
}

read -r kcat_wall kcat_rss < <(measure kcat -P -b "$bootstrap" -t raw -l "$work/access.log")

# Runs `vigil ingest --once` on a fresh data directory with the given extra
# `[kafka]` settings; prints "wall_seconds peak_rss_kib".
vigil_run() {
  rm -rf "$work/data"
  cat > "$work/vigil.toml" <<TOML
data_dir = "$work/data"
tenant = "bench"
[kafka]
brokers = "$bootstrap"
$1
[[sources]]
name = "proxy"
type = "file"
path = "$work/access.log"
format = "squid"
TOML
  measure "$bin/vigil" ingest --once --config "$work/vigil.toml"
}
read -r lz4_wall lz4_rss < <(vigil_run "")
read -r none_wall none_rss < <(vigil_run 'options = { "compression.type" = "none" }')

"$bin/vigil" parse --format squid < "$work/access.log" > "$work/events.ndjson" 2>/dev/null
read -r floor_lz4_wall floor_lz4_rss < <(measure kcat -P -b "$bootstrap" -t raw -z lz4 -l "$work/events.ndjson")
read -r floor_none_wall floor_none_rss < <(measure kcat -P -b "$bootstrap" -t raw -l "$work/events.ndjson")
event_bytes=$(( $(stat -c %s "$work/events.ndjson") / lines ))
line_bytes=$(( $(stat -c %s "$work/access.log") / lines ))

python3 - "$lines" "$line_bytes" "$event_bytes" \
  "kcat -P (raw lines)" "$kcat_wall" "$kcat_rss" \
  "vigil ingest (lz4, default)" "$lz4_wall" "$lz4_rss" \
  "vigil ingest (no compression)" "$none_wall" "$none_rss" \
  "floor: kcat -P events (lz4)" "$floor_lz4_wall" "$floor_lz4_rss" \
  "floor: kcat -P events (none)" "$floor_none_wall" "$floor_none_rss" <<'PY'
import sys
lines, line_bytes, event_bytes = (int(a) for a in sys.argv[1:4])
runs = [sys.argv[i:i + 3] for i in range(4, len(sys.argv), 3)]
kcat_rate = lines / float(runs[0][1])
print(f"lines: {lines:,} ({line_bytes} bytes each; {event_bytes} bytes per event)")
for i, (name, wall, rss) in enumerate(runs):
    wall, rss = float(wall), int(rss)
    rate = lines / wall
    ratio = f"  {rate / kcat_rate:.2f}x kcat" if i else ""
    print(f"{name:<31}{wall:6.2f} s {rate:>12,.0f} lines/s  peak RSS {rss / 1024:5.0f} MiB{ratio}")
print("target >= 0.5x kcat, aim 0.8x")
PY
