# syntax=docker/dockerfile:1
# Weaverse: assets -> build -> slim runtime.

# 1. Browser assets from npm (pinned in package-lock.json).
FROM node:20-bookworm-slim AS assets
WORKDIR /src
COPY package.json package-lock.json ./
# No install scripts: swagger-ui-dist pulls in @scarf/scarf, whose only script
# reports the install over the network.
RUN npm ci --omit=dev --ignore-scripts --no-audit --no-fund
COPY scripts/copy-assets.mjs scripts/
COPY static static
RUN node scripts/copy-assets.mjs

# 2. The binary. Queries are checked against the committed .sqlx/ data, so no
#    database is needed here. Templates and migrations are compiled in.
FROM rust:1.95-bookworm AS build
WORKDIR /src
ENV SQLX_OFFLINE=true
COPY rust-toolchain.toml Cargo.toml Cargo.lock askama.toml ./
COPY .sqlx .sqlx
COPY migrations migrations
COPY templates templates
COPY src src
RUN cargo build --release --locked --bin weaverse \
 && cp target/release/weaverse /usr/local/bin/weaverse

# 3. Runtime: ffmpeg (video), bubblewrap with Node.js and Python (code missions are
#    graded in a sandbox), a Korean font (certificate PDFs), pg_dump/pg_restore of
#    the server's major version, 15 (backups).
FROM debian:bookworm-slim AS runtime
RUN apt-get update \
 && apt-get install -y --no-install-recommends ca-certificates ffmpeg bubblewrap nodejs python3 fonts-nanum curl postgresql-client-15 \
 && rm -rf /var/lib/apt/lists/* \
 && useradd --system --create-home --home-dir /app --uid 10001 weaverse
WORKDIR /app
COPY --from=build /usr/local/bin/weaverse /usr/local/bin/weaverse
COPY --from=assets /src/static /app/static
RUN mkdir -p /app/var && chown -R weaverse:weaverse /app/var
USER weaverse
ENV HOST=0.0.0.0 \
    PORT=8000 \
    STATIC_DIR=/app/static \
    VAR_DIR=/app/var \
    LOG_FORMAT=json
EXPOSE 8000
HEALTHCHECK --interval=15s --timeout=3s --retries=3 CMD curl -fsS http://127.0.0.1:8000/healthz || exit 1
ENTRYPOINT ["weaverse"]
CMD ["serve"]
