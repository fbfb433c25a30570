#!/usr/bin/env bash
# gen-openapi.sh — regenerate the server's API description from its swag annotations.
#
#   server/internal/apidocs/docs.go, swagger.json   Swagger 2.0 (swag; served by the server)
#   openapi.yaml                                    OpenAPI 3 (converted by scripts/openapiconv)
#
# The general API info annotations live in server/main.go; every handler carries its
# own @Summary/@Router/... block. swag is pinned as a `tool` in go.mod, kin-openapi
# too (go.mod), so every machine produces the same bytes.
# scripts/check-generated.sh runs this in a scratch copy and fails when the committed
# output differs.
set -euo pipefail

repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$repo"

out=server/internal/apidocs
main=server/main.go

if [ ! -f "$main" ]; then
	echo "gen-openapi: $main does not exist yet; nothing to generate" >&2
	exit 0
fi

mkdir -p "$out"
# -d ./server -g main.go: the general info is in server/main.go; swag follows the server's
# imports from there. --parseDependency resolves types of imported packages (level 1:
# models only), limited by --packagePrefix to this module's own packages: other types
# (time.Time, time.Duration, uuid.UUID, ...) fall back to swag's built-in mappings rather
# than to whatever their source declares (time.Duration would become an enum of its
# constants). --parseInternal lets it read internal/ packages. Names come out as
# "package.Type", e.g. protocol.HelloRequest.
go tool swag init \
	--quiet \
	--dir ./server \
	--generalInfo main.go \
	--parseDependency \
	--packagePrefix github.com/restic-manager/restic-manager \
	--parseInternal \
	--output "$out" \
	--outputTypes go,json

# swag writes swagger.json without a final newline; keep the file tidy for diffs.
[ -z "$(tail -c1 "$out/swagger.json")" ] || echo >>"$out/swagger.json"

go run ./scripts/openapiconv -in "$repo/$out/swagger.json" -out "$repo/openapi.yaml"
cp openapi.yaml server/internal/apispec/openapi.yaml # served at /api/openapi.yaml
go tool oapi-codegen -config common/apiclient/oapi-codegen.yaml openapi.yaml # Go client of the operator API
bash web/scripts/gen-types.sh "$repo/openapi.yaml" # TypeScript types of the web UI (npm ci into web/ when needed)
echo "gen-openapi: wrote $out/docs.go, $out/swagger.json, openapi.yaml" >&2
