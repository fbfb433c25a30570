# syntax=docker/dockerfile:1
# Restic Manager server image (the agent binary is included for download/copying).
#   docker build -t restic-manager .
#   docker run -p 8080:8080 -v rm-data:/var/lib/restic-manager restic-manager
ARG GO_VERSION=1.26.8
ARG NODE_VERSION=20

# --- web UI ---------------------------------------------------------------------------
FROM node:${NODE_VERSION}-slim AS web
WORKDIR /src/web
COPY web/ ./
RUN npm ci --no-audit --no-fund && npm run build

# --- Go binaries ---------------------------------------------------------------------
FROM golang:${GO_VERSION} AS build
WORKDIR /src
COPY go.mod go.sum ./
RUN go mod download
COPY . .
COPY --from=web /src/web/dist/ ./web/dist/
ARG TARGETOS=linux
ARG TARGETARCH=amd64
RUN CGO_ENABLED=0 GOOS=$TARGETOS GOARCH=$TARGETARCH \
        go build -trimpath -ldflags="-s -w" -o /out/restic-manager-server ./server && \
    CGO_ENABLED=0 GOOS=$TARGETOS GOARCH=$TARGETARCH \
        go build -trimpath -ldflags="-s -w" -o /out/restic-manager-agent ./agent

# --- runtime -------------------------------------------------------------------------
# Debian 13 packages restic 0.18.
FROM debian:trixie-slim
RUN apt-get update \
    && apt-get install -y --no-install-recommends restic ca-certificates tzdata \
    && rm -rf /var/lib/apt/lists/*
RUN useradd --system --uid 10001 --user-group --home-dir /var/lib/restic-manager \
        --shell /usr/sbin/nologin restic-manager \
    && install -d -o restic-manager -g restic-manager -m 0750 /var/lib/restic-manager
COPY --from=build /out/ /usr/local/bin/
USER restic-manager
WORKDIR /var/lib/restic-manager
ENV RM_DATA_DIR=/var/lib/restic-manager \
    RM_LISTEN=0.0.0.0:8080
VOLUME /var/lib/restic-manager
EXPOSE 8080
ENTRYPOINT ["/usr/local/bin/restic-manager-server"]
