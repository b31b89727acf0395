# syntax=docker/dockerfile:1
# The one Vigil image: every service of docker-compose.yml runs it with its
# own subcommand (`ingest`, `index`, `alert`, `run`).
#
#   docker build -t vigil .
#   docker run --rm -v "$PWD/vigil.toml:/etc/vigil/vigil.toml:ro" vigil run

# Build: the rust image has the C toolchain, make, pkg-config and the OpenSSL
# headers that rdkafka's bundled librdkafka needs.
FROM rust:1.95-bookworm AS builder
WORKDIR /src
COPY . .
RUN --mount=type=cache,target=/usr/local/cargo/registry \
    --mount=type=cache,target=/src/target \
    cargo build --release --locked --bin vigil \
    && install -D -m 0755 target/release/vigil /out/vigil

# Run: Debian slim with CA certificates (TLS to Kafka and SMTP) and the
# OpenSSL library the binary links; the rule library is compiled in.
FROM debian:bookworm-slim
RUN apt-get update \
    && apt-get install -y --no-install-recommends ca-certificates libssl3 \
    && rm -rf /var/lib/apt/lists/* \
    && useradd --system --uid 10001 --user-group --home-dir /var/lib/vigil --shell /usr/sbin/nologin vigil \
    && mkdir -p /var/lib/vigil /etc/vigil \
    && chown vigil:vigil /var/lib/vigil
COPY --from=builder /out/vigil /usr/local/bin/vigil
USER vigil:vigil
WORKDIR /var/lib/vigil
VOLUME /var/lib/vigil
ENV VIGIL_CONFIG=/etc/vigil/vigil.toml
# 9898: /metrics ([metrics] listen); 5514: syslog sources.
EXPOSE 9898 5514/udp 5514/tcp
ENTRYPOINT ["vigil"]
CMD ["run"]
