# syntax=docker/dockerfile:1
#
# One image for every process type (factor VIII): the platform picks the
# process by its command, /usr/local/bin/server for web, and so on.
#
#   make docker            # or: docker build -t app .
#   docker run --rm -p 8080:8080 app
#
# Both base images are pinned by tag and digest, so a rebuild is the same
# build; bump the tag and the digest together, on purpose, in one commit.

FROM --platform=$BUILDPLATFORM golang:1.26.8-bookworm@sha256:a688600ca24f8a4d3ca77f95b0dd40704a9fc787c826660eb7ba0b641b8b175d AS build
WORKDIR /src
# Modules first: this layer and the module cache survive source edits.
COPY go.mod go.sum ./
RUN --mount=type=cache,target=/go/pkg/mod \
    go mod download
COPY . .
# Static binaries without paths or symbol tables. The version comes from
# debug.ReadBuildInfo, so no -X flag names the module. TARGETOS/TARGETARCH
# cross-compile for `docker buildx build --platform`, without emulation.
# grpcnotrace leaves out gRPC's debug-page tracing (golang.org/x/net/trace):
# its HTML templates keep every exported method of every type in the
# binary, a third of the server's size.
ARG TARGETOS TARGETARCH
RUN --mount=type=cache,target=/go/pkg/mod \
    --mount=type=cache,target=/root/.cache/go-build \
    CGO_ENABLED=0 GOOS=$TARGETOS GOARCH=$TARGETARCH \
    go build -trimpath -tags grpcnotrace -ldflags="-s -w" -o /out/ \
        ./cmd/server \
        ./cmd/admin \
        ./cmd/worker

# No shell, no package manager. The binaries embed time zone data and read
# the CA roots for TLS from this image's /etc/ssl/certs: on scratch, copy a
# CA bundle there.
FROM gcr.io/distroless/static-debian12:nonroot@sha256:afa5c872c891853ca7fcf1f12c3edb23f7eeef36189728842dd51042ff57f7ab
ARG NAME=app VERSION=dev REVISION="" CREATED="" SOURCE=""
LABEL org.opencontainers.image.title="$NAME" \
      org.opencontainers.image.description="$NAME: every process type of the service in one image" \
      org.opencontainers.image.version="$VERSION" \
      org.opencontainers.image.revision="$REVISION" \
      org.opencontainers.image.created="$CREATED" \
      org.opencontainers.image.source="$SOURCE" \
      org.opencontainers.image.base.name="gcr.io/distroless/static-debian12:nonroot"
COPY --from=build /out/ /usr/local/bin/
# The distroless nonroot user, by number, so that Kubernetes can check
# runAsNonRoot without reading /etc/passwd.
USER 65532:65532
# The default PORT; ADMIN_ADDR (metrics, pprof) stays private unless set.
EXPOSE 8080
CMD ["/usr/local/bin/server"]
