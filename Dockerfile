# firelocal in a container: a release build, then a small runtime with python3 and node for the
# Lambda runtimes. Build: docker build -t firelocal .   Run: docker compose up (see README).
FROM rust:1.95-bookworm AS build
WORKDIR /src
COPY Cargo.toml Cargo.lock ./
COPY crates ./crates
COPY src ./src
COPY fixtures ./fixtures
RUN cargo build --release --locked --bin firelocal

FROM debian:bookworm-slim
RUN apt-get update \
    && apt-get install -y --no-install-recommends python3 nodejs ca-certificates \
    && rm -rf /var/lib/apt/lists/* \
    && useradd --create-home --uid 10001 firelocal \
    && mkdir -p /data /opt/firelocal \
    && chown firelocal /data
COPY --from=build /src/target/release/firelocal /usr/local/bin/firelocal
COPY fixtures/clickstream.yaml /opt/firelocal/clickstream.yaml
USER firelocal
EXPOSE 4566
VOLUME ["/data"]
HEALTHCHECK --interval=5s --timeout=2s --retries=10 \
    CMD ["python3", "-c", "import urllib.request; urllib.request.urlopen('http://127.0.0.1:4566/_firelocal/health', timeout=2)"]
ENTRYPOINT ["firelocal"]
CMD ["serve", "--host", "0.0.0.0", "--data-dir", "/data", "--init", "/opt/firelocal/clickstream.yaml"]
