#!/usr/bin/env bash
# End-to-end throughput and peak memory of `vigil run --once` (embedded
# transport: ingest + parse + index + alert) over a generated Squid log.
#
#   scripts/bench-e2e.sh [LINES]      (default 1000000)
#
# Prints lines/s (wall clock, and per CPU second used) and peak RSS. Uses
# GNU time when installed (apt-get install time), else bash's `time`.
set -euo pipefail
cd "$(dirname "$0")/.."
lines="${1:-1000000}"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT

cargo build --release --quiet
bin="${CARGO_TARGET_DIR:-target}/release"
python3 scripts/gen-squid-log.py "$lines" > "$work/access.log"
{
  cat <<TOML
data_dir = "$work/data"
tenant = "bench"
[[sources]]
name = "proxy"
type = "file"
path = "$work/access.log"
format = "squid"
TOML
  # the quickstart's email settings and alert rules
  sed -n '/^\[email\]/,$p' examples/quickstart.toml
} > "$work/vigil.toml"

if [ -x /usr/bin/time ]; then
  /usr/bin/time -v "$bin/vigil" run --once --config "$work/vigil.toml" 2> "$work/time.txt" >/dev/null
  wall=$(grep 'Elapsed (wall clock)' "$work/time.txt" | awk '{print $NF}' | awk -F: '{ if (NF==3) print $1*3600+$2*60+$3; else print $1*60+$2 }')
  user=$(grep 'User time' "$work/time.txt" | awk '{print $NF}')
  sys=$(grep 'System time' "$work/time.txt" | awk '{print $NF}')
  rss=$(grep 'Maximum resident set size' "$work/time.txt" | awk '{print $NF}')
  python3 - "$lines" "$wall" "$user" "$sys" "$rss" <<'PY'
import sys
lines, wall, user, sys_, rss = int(sys.argv[1]), float(sys.argv[2]), float(sys.argv[3]), float(sys.argv[4]), int(sys.argv[5])
cpu = user + sys_
print(f"lines: {lines}")
print(f"wall: {wall:.2f} s  -> {lines / wall:,.0f} lines/s")
print(f"cpu:  {cpu:.2f} s  -> {lines / cpu:,.0f} lines per CPU-second")
print(f"peak RSS: {rss / 1024:.0f} MiB")
PY
else
  time "$bin/vigil" run --once --config "$work/vigil.toml" >/dev/null
fi
echo "documents indexed: $("$bin/vigil" search --config "$work/vigil.toml" --limit 100000000 '*' | wc -l)"
