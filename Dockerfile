# syntax=docker/dockerfile:1
#
# Capastan's container image: one static binary (the default model is
# compiled in) on distroless, running as the non-root user 65532 with
# nothing to write, so it runs under readOnlyRootFilesystem.
#
#   docker build --build-arg VERSION=$(git describe --tags --always --dirty) \
#                --build-arg REVISION=$(git rev-parse HEAD) -t capastan:dev .
#   docker run --rm -p 8080:8080 -e CAPASTAN_KAFKA_BROKERS=host:9092 capastan:dev
#
# Needs BuildKit (the default builder of Docker Engine 23+ and of
# `docker compose`): the build stage runs on the build machine's platform
# and cross-compiles, so `docker buildx build --platform linux/amd64,linux/arm64`
# needs no emulation.

ARG GO_VERSION=1.26

FROM --platform=$BUILDPLATFORM golang:${GO_VERSION} AS build
ARG TARGETOS
ARG TARGETARCH
ARG VERSION=dev
WORKDIR /src
# Modules first: this layer is reused until go.mod or go.sum change.
COPY go.mod go.sum ./
RUN --mount=type=cache,target=/go/pkg/mod \
    go mod download
COPY . .
RUN --mount=type=cache,target=/go/pkg/mod \
    --mount=type=cache,target=/root/.cache/go-build \
    CGO_ENABLED=0 GOOS=$TARGETOS GOARCH=$TARGETARCH \
    go build -trimpath -ldflags "-s -w -X main.version=$VERSION" -o /out/capastan ./cmd/capastan

# static-debian12 holds CA certificates (for CAPASTAN_KAFKA_TLS), tzdata and
# /etc/passwd entries, and no shell; :nonroot runs as uid/gid 65532.
FROM gcr.io/distroless/static-debian12:nonroot
ARG VERSION=dev
ARG REVISION=unknown
ARG CREATED=unknown
LABEL org.opencontainers.image.title="capastan" \
      org.opencontainers.image.description="Streaming sentiment labeling: a Kafka worker with an HTTP side port (/healthz, /readyz, /metrics, /predict)" \
      org.opencontainers.image.source="https://github.com/capastan/capastan" \
      org.opencontainers.image.url="https://github.com/capastan/capastan" \
      org.opencontainers.image.documentation="https://github.com/capastan/capastan/blob/main/docs/kubernetes.md" \
      org.opencontainers.image.licenses="MIT" \
      org.opencontainers.image.vendor="capastan" \
      org.opencontainers.image.version="$VERSION" \
      org.opencontainers.image.revision="$REVISION" \
      org.opencontainers.image.created="$CREATED" \
      org.opencontainers.image.base.name="gcr.io/distroless/static-debian12:nonroot"
COPY --from=build /out/capastan /capastan
USER 65532:65532
# The HTTP side port (CAPASTAN_HTTP_ADDR, default :8080).
EXPOSE 8080
# `capastan healthcheck` GETs /healthz on the port CAPASTAN_HTTP_ADDR names
# and exits 0 on 200: no shell or curl needed. Kubernetes ignores this and
# uses the Deployment's probes.
HEALTHCHECK --interval=10s --timeout=3s --start-period=10s --retries=3 \
    CMD ["/capastan", "healthcheck"]
ENTRYPOINT ["/capastan"]
CMD ["serve"]
