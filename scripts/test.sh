#!/usr/bin/env bash
# Vigil's test command: what a newcomer runs on a fresh machine, and what CI runs.
# Installs the few system packages the build needs (a C toolchain and OpenSSL
# headers for librdkafka, which rdkafka builds from source), then runs every
# test of the workspace:
# unit tests, parsers, the embedded pipeline, Kafka end to end against
# librdkafka's mock cluster, and SMTP against a real SMTP server process.
set -euo pipefail
cd "$(dirname "$0")/.."

need=()
command -v cc >/dev/null || need+=(build-essential)
command -v make >/dev/null || need+=(make)
command -v pkg-config >/dev/null || need+=(pkg-config)
pkg-config --exists openssl 2>/dev/null || need+=(libssl-dev)   # rdkafka's TLS (security_protocol = "ssl")
if ((${#need[@]})); then
  if [ "$(id -u)" = 0 ]; then SUDO=(); else SUDO=(sudo); fi
  "${SUDO[@]}" apt-get update -q
  "${SUDO[@]}" apt-get install -y -q "${need[@]}"
fi

cargo test --workspace --locked "$@"
