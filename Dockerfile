# One image per binary, all from one build of the workspace (BuildKit: DOCKER_BUILDKIT=1 or buildx):
#
#   docker build --target premium-content         -t cognito-m2m/premium-content:0.1.0 .
#   docker build --target content-consumer        -t cognito-m2m/content-consumer:0.1.0 .
#   docker build --target cognito-client-operator -t cognito-m2m/cognito-client-operator:0.1.0 .
#   docker build --target cognito-authorizer      -t cognito-m2m/cognito-authorizer:0.1.0 .
#   docker build --target local-cognito           -t cognito-m2m/local-cognito:0.1.0 .  # dev only
#
# No `# syntax=` line: it would make every build download a frontend image, and the frontend
# built into Docker Engine 20.10 and later already understands `RUN --mount`, all this file uses.
# scripts/check-images builds every target and runs the images as the chart runs the pods.
#
# Why one image per binary rather than one image holding all of them: each Deployment then pulls
# and runs only the code it needs (the operator's AWS SDKs and kube client stay out of the
# services' images), and they all compile in a single cached builder stage anyway, so building
# the targets one after another costs one compilation.
#
# Dependencies are cached by BuildKit cache mounts over the cargo registry and target folder, so
# a source change recompiles only the workspace crates; `--locked` builds exactly Cargo.lock.
# The runtime is `scratch` plus what the dynamically linked binaries need (glibc, libgcc_s, the
# CA bundle) copied from the builder: no shell, no package manager, numeric non-root user.

ARG RUST_VERSION=1.91

FROM rust:${RUST_VERSION}-bookworm AS builder
WORKDIR /src
# Only the workspace (see .dockerignore): manifests, lock file and crate sources.
COPY . .
RUN --mount=type=cache,target=/usr/local/cargo/registry,sharing=locked \
    --mount=type=cache,target=/usr/local/cargo/git,sharing=locked \
    --mount=type=cache,target=/src/target,sharing=locked \
    cargo build --release --locked \
        --bin premium-content --bin content-consumer --bin cognito-client-operator \
        --bin cognito-authorizer --bin local-cognito \
    && mkdir -p /out/bin \
    && cp target/release/premium-content target/release/content-consumer \
          target/release/cognito-client-operator target/release/cognito-authorizer \
          target/release/local-cognito /out/bin/

# The runtime file system: the shared libraries the binaries load (as ldd lists them, with the
# dynamic loader), the CA bundle for TLS to Cognito, Secrets Manager and the API server, and
# passwd/group entries for the non-root user.
FROM builder AS rootfs
SHELL ["/bin/bash", "-o", "pipefail", "-c"]
# With several files ldd heads each one's list with a "/out/bin/NAME:" line: dropped, or cp would
# be asked to copy "/out/bin/NAME:".
RUN mkdir -p /rootfs/etc/ssl/certs /rootfs/tmp \
    && for lib in $(ldd /out/bin/* | grep -v ':$' | grep -o '/[^ ]*' | sort -u); do \
         cp --parents -L "$lib" /rootfs/; \
       done \
    && cp /etc/ssl/certs/ca-certificates.crt /rootfs/etc/ssl/certs/ \
    && echo 'nonroot:x:65532:65532:nonroot:/nonexistent:/sbin/nologin' > /rootfs/etc/passwd \
    && echo 'nonroot:x:65532:' > /rootfs/etc/group \
    && chmod 1777 /rootfs/tmp

FROM scratch AS runtime
COPY --from=rootfs /rootfs/ /
ENV SSL_CERT_FILE=/etc/ssl/certs/ca-certificates.crt \
    LISTEN_ADDR=0.0.0.0:8080
USER 65532:65532
EXPOSE 8080

# Development and tests only, never production: the Cognito stand-in (token endpoint, JWKS, admin
# API) for compose.yaml and the container tests. Its keys live in memory and anyone who reaches it
# gets tokens. Not the last stage, so `docker build .` without --target never yields it.
FROM runtime AS local-cognito
COPY --from=builder /out/bin/local-cognito /usr/local/bin/local-cognito
LABEL org.opencontainers.image.title="local-cognito" \
      org.opencontainers.image.description="DEVELOPMENT AND TESTS ONLY, NEVER PRODUCTION: a Cognito stand-in issuing client-credentials tokens" \
      dev.cognito-m2m.development-only="true"
ENV LISTEN_ADDR=0.0.0.0:9229
EXPOSE 9229
ENTRYPOINT ["/usr/local/bin/local-cognito"]

FROM runtime AS premium-content
COPY --from=builder /out/bin/premium-content /usr/local/bin/premium-content
ENTRYPOINT ["/usr/local/bin/premium-content"]

FROM runtime AS content-consumer
COPY --from=builder /out/bin/content-consumer /usr/local/bin/content-consumer
ENTRYPOINT ["/usr/local/bin/content-consumer"]

# The policy is read from POLICY_FILE (the chart mounts its ConfigMap as a directory there); the
# admin port (health, readiness, metrics) stays apart from the traffic port.
FROM runtime AS cognito-authorizer
COPY --from=builder /out/bin/cognito-authorizer /usr/local/bin/cognito-authorizer
EXPOSE 9090
ENTRYPOINT ["/usr/local/bin/cognito-authorizer"]

FROM runtime AS cognito-client-operator
COPY --from=builder /out/bin/cognito-client-operator /usr/local/bin/cognito-client-operator
ENTRYPOINT ["/usr/local/bin/cognito-client-operator"]
