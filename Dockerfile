# Multi-stage build: compile with the Rust toolchain, run on a small non-root image.
# Used by docker-compose.yml (production) and docker-compose.dev.yml (development).
FROM rust:1-bookworm AS build
WORKDIR /src

# Dependency layer: build every dependency against stub sources. It is rebuilt only when
# Cargo.toml or Cargo.lock change, so an edit under src/ recompiles the crate alone.
# --locked: exactly the versions of the committed Cargo.lock, or fail.
COPY Cargo.toml Cargo.lock rustfmt.toml ./
RUN mkdir -p src \
    && echo 'fn main() {}' > src/main.rs \
    && touch src/lib.rs \
    && cargo build --release --locked --bin viveka \
    && rm -rf src target/release/.fingerprint/viveka-* target/release/deps/viveka-* target/release/deps/libviveka-*

COPY src ./src
COPY migrations ./migrations
RUN touch src/lib.rs src/main.rs && cargo build --release --locked --bin viveka

FROM debian:bookworm-slim
RUN apt-get update && apt-get install -y --no-install-recommends ca-certificates curl \
    && rm -rf /var/lib/apt/lists/* \
    && useradd --system --uid 10001 --no-create-home viveka
COPY --from=build /src/target/release/viveka /usr/local/bin/viveka
USER 10001
ENV APP_ENV=production PORT=10000 LOG_FORMAT=json
EXPOSE 10000
HEALTHCHECK --interval=15s --timeout=3s --retries=3 CMD curl -fsS http://127.0.0.1:10000/api/health || exit 1
ENTRYPOINT ["/usr/local/bin/viveka"]
CMD ["serve"]
