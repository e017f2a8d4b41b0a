# gitvend's container image: a static binary on distroless, running as the
# nonroot user (65532), with CA certificates for GitHub and the clusters.
#   docker build -t ghcr.io/gitvend/gitvend:0.1.0 .

FROM golang:1.26 AS build
WORKDIR /src
ENV CGO_ENABLED=0 GOTOOLCHAIN=local GOFLAGS=-buildvcs=false
COPY go.mod go.sum ./
RUN --mount=type=cache,target=/go/pkg/mod go mod download
COPY cmd ./cmd
COPY internal ./internal
COPY policies ./policies
COPY templates ./templates
# The release and commit `gitvend version` prints:
#   docker build --build-arg VERSION=v0.1.0 --build-arg COMMIT=$(git rev-parse HEAD) .
ARG VERSION=""
ARG COMMIT=""
RUN --mount=type=cache,target=/go/pkg/mod --mount=type=cache,target=/root/.cache/go-build \
	go build -trimpath -ldflags "-s -w -X github.com/gitvend/gitvend/internal/version.version=${VERSION} -X github.com/gitvend/gitvend/internal/version.commit=${COMMIT}" -o /out/gitvend ./cmd/gitvend

FROM gcr.io/distroless/static:nonroot
COPY --from=build /out/gitvend /gitvend
USER 65532:65532
EXPOSE 8080
ENTRYPOINT ["/gitvend"]
CMD ["serve", "--config", "/etc/gitvend/config.yaml"]
