#!/usr/bin/env bash
# Ingest throughput into Kafka, side by side with kcat, in the same run:
# one librdkafka mock cluster (3 brokers, in its own process), the same
# generated Squid log pushed twice:
#   1. `kcat -P` pushing the raw lines (the baseline: no parsing at all);
#   2. `vigil ingest --once` reading, parsing, enriching and producing events.
#
#   scripts/bench-kafka.sh [LINES]      (default 1000000)
#
# Prints lines/s for both, the ratio vigil/kcat, and each one's peak RSS.
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

cat > "$work/vigil.toml" <<TOML
data_dir = "$work/data"
tenant = "bench"
[kafka]
brokers = "$bootstrap"
[[sources]]
name = "proxy"
type = "file"
path = "$work/access.log"
format = "squid"
TOML
read -r vigil_wall vigil_rss < <(measure "$bin/vigil" ingest --once --config "$work/vigil.toml")

python3 - "$lines" "$kcat_wall" "$kcat_rss" "$vigil_wall" "$vigil_rss" <<'PY'
import sys
lines = int(sys.argv[1])
kcat_wall, kcat_rss, vigil_wall, vigil_rss = float(sys.argv[2]), int(sys.argv[3]), float(sys.argv[4]), int(sys.argv[5])
kcat_rate, vigil_rate = lines / kcat_wall, lines / vigil_wall
print(f"lines: {lines:,}")
print(f"kcat -P (raw lines):       {kcat_wall:6.2f} s  {kcat_rate:>12,.0f} lines/s  peak RSS {kcat_rss / 1024:6.0f} MiB")
print(f"vigil ingest (parsed):     {vigil_wall:6.2f} s  {vigil_rate:>12,.0f} lines/s  peak RSS {vigil_rss / 1024:6.0f} MiB")
print(f"vigil / kcat:              {vigil_rate / kcat_rate:.2f}x   (target >= 0.5x, aim 0.8x)")
PY
