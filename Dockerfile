# fireshare in a container: a release build, then a small runtime image running as a non-root
# user with the data directory on a volume.
#   docker build -t fireshare .
#   docker run -p 8080:8080 -v fireshare-data:/data fireshare
# tests/container.rs runs the runtime stage's steps (user, volume, command, health check) with
# the test build, where no container engine is available.

FROM rust:1-bookworm AS build
WORKDIR /src
COPY . .
RUN cargo build --release --locked && strip target/release/fireshare

FROM debian:bookworm-slim
# CA certificates for cloud object stores; a system user owning nothing but /data.
RUN apt-get update && apt-get install -y --no-install-recommends ca-certificates \
    && rm -rf /var/lib/apt/lists/* \
    && useradd --system --uid 10001 --user-group --home-dir /data --shell /usr/sbin/nologin fireshare \
    && mkdir /data && chown 10001:10001 /data && chmod 0700 /data
COPY --from=build /src/target/release/fireshare /usr/local/bin/fireshare
USER 10001:10001
VOLUME ["/data"]
WORKDIR /data
ENV FIRESHARE_DATA_DIR=/data
EXPOSE 8080
# SIGTERM lets running downloads finish (--shutdown-grace); give it time to.
STOPSIGNAL SIGTERM
HEALTHCHECK --interval=30s --timeout=5s --start-period=10s CMD ["/usr/local/bin/fireshare", "probe", "http://127.0.0.1:8080/readyz"]
ENTRYPOINT ["/usr/local/bin/fireshare"]
CMD ["serve", "--listen", "0.0.0.0:8080"]
