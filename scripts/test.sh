#!/usr/bin/env bash
# Vigil's test command: what a newcomer runs on a fresh machine, and what CI runs.
# Installs the few system packages the build needs (a C toolchain and OpenSSL
# headers for librdkafka, which rdkafka builds from source), then runs every
# test of the workspace:
# unit tests, parsers, the embedded pipeline, Kafka end to end against
# librdkafka's mock cluster, and SMTP against a real SMTP server process.
# The dashboards' tests also need promtool (Debian's `prometheus` package;
# on a machine with systemd it also installs a Prometheus service) and Docker
# Compose (`docker compose`, or Debian's `docker-compose`) to parse
# docker-compose.yml; both are installed when missing. The console's browser test
# drives Debian's `chromium` through `chromium-driver` (installed when missing).
set -euo pipefail
cd "$(dirname "$0")/.."

need=()
command -v cc >/dev/null || need+=(build-essential)
command -v make >/dev/null || need+=(make)
command -v pkg-config >/dev/null || need+=(pkg-config)
pkg-config --exists openssl 2>/dev/null || need+=(libssl-dev)   # rdkafka's TLS (security_protocol = "ssl")
tools=()
command -v promtool >/dev/null || tools+=(prometheus)
docker compose version >/dev/null 2>&1 || command -v docker-compose >/dev/null || tools+=(docker-compose)
command -v chromium >/dev/null || tools+=(chromium)
command -v chromedriver >/dev/null || tools+=(chromium-driver)
if ((${#need[@]} + ${#tools[@]})); then
  if [ "$(id -u)" = 0 ]; then SUDO=(); else SUDO=(sudo); fi
  "${SUDO[@]}" apt-get update -q
  if ((${#need[@]})); then "${SUDO[@]}" apt-get install -y -q "${need[@]}"; fi
  if ((${#tools[@]})); then "${SUDO[@]}" apt-get install -y -q --no-install-recommends "${tools[@]}"; fi
fi

cargo test --workspace --locked "$@"
