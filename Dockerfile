# syntax=docker/dockerfile:1
#
# Tessera: multi-stage image.
#   docker build -t tessera .
#   docker run -p 3000:3000 -v tessera-data:/data -e TESSERA_SECRET_KEY=... tessera
# Without DATABASE_URL the server runs on SQLite in /data; see compose.yaml for PostgreSQL + Redis.

############################
# Builder
############################
FROM rust:1-bookworm AS builder

# Node runs binaryen's wasm-opt (npm package `binaryen`, installed by `npm ci` in end2end/). Debian's own
# `binaryen` package (wasm-opt 108) must not be installed: its output breaks hydration.
RUN apt-get update \
 && apt-get install -y --no-install-recommends nodejs npm \
 && rm -rf /var/lib/apt/lists/*

# The ordinary (online) wasm path: scripts/build.sh sees the rustup target and does not build std from source.
RUN rustup target add wasm32-unknown-unknown

ENV CARGO_TARGET_DIR=/build/target \
    PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1 \
    CARGO_TERM_COLOR=never

WORKDIR /src
COPY . .

# scripts/build.sh --release: installs wasm-bindgen-cli at the version pinned in Cargo.lock, runs `npm ci` in
# end2end/ for wasm-opt, builds the front end into $CARGO_TARGET_DIR/site and the server into
# $CARGO_TARGET_DIR/release/tessera. The target directory, the cargo registry and the tools directory of
# scripts/setup.sh (wasm-bindgen-cli) are BuildKit cache mounts (fast rebuilds), so the artifacts are copied out
# to /out within the same step.
RUN --mount=type=cache,target=/usr/local/cargo/registry \
    --mount=type=cache,target=/usr/local/cargo/git \
    --mount=type=cache,target=/root/.cache/tessera/tools \
    --mount=type=cache,target=/build/target \
    ./scripts/build.sh --release \
 && mkdir -p /out \
 && cp "$CARGO_TARGET_DIR/release/tessera" /out/tessera \
 && cp -r "$CARGO_TARGET_DIR/site" /out/site

############################
# Runtime
############################
FROM debian:bookworm-slim AS runtime

RUN apt-get update \
 && apt-get install -y --no-install-recommends ca-certificates \
 && rm -rf /var/lib/apt/lists/* \
 && groupadd --system --gid 10001 tessera \
 && useradd --system --uid 10001 --gid tessera --home-dir /app --no-create-home --shell /usr/sbin/nologin tessera \
 && mkdir -p /app /data \
 && chown tessera:tessera /data

COPY --from=builder /out/tessera /app/tessera
COPY --from=builder /out/site /app/site

ENV TESSERA_SITE_ROOT=/app/site \
    TESSERA_ADDR=0.0.0.0:3000 \
    TESSERA_DATA_DIR=/data \
    TESSERA_LOG=json

WORKDIR /app
USER tessera:tessera
VOLUME /data
EXPOSE 3000

# `tessera health` GETs /health/ready on TESSERA_ADDR and exits 0 (ready) or 1.
HEALTHCHECK --interval=15s --timeout=5s --start-period=60s --retries=3 \
  CMD ["/app/tessera", "health"]

ENTRYPOINT ["/app/tessera"]
CMD ["serve"]
