# Thin wrappers over scripts/; the scripts are the source of truth (CI runs scripts/test.sh).
.PHONY: run test generate check-generated build clean

GOOS   ?= $(shell go env GOOS)
GOARCH ?= $(shell go env GOARCH)

run:
	bash scripts/run.sh

test:
	bash scripts/test.sh

# Regenerate all generated code (OpenAPI today; the generator list is in scripts/check-generated.sh).
generate:
	bash scripts/check-generated.sh --write

check-generated:
	bash scripts/check-generated.sh

# Static binaries in bin/. Cross-build an agent with e.g. `make build GOOS=windows GOARCH=amd64`.
build:
	@if [ -f web/package.json ]; then cd web && npm ci --no-audit --no-fund && npm run build; fi
	CGO_ENABLED=0 GOOS=$(GOOS) GOARCH=$(GOARCH) go build -trimpath -o bin/restic-manager-server-$(GOOS)-$(GOARCH)$(if $(filter windows,$(GOOS)),.exe) ./server
	CGO_ENABLED=0 GOOS=$(GOOS) GOARCH=$(GOARCH) go build -trimpath -o bin/restic-manager-agent-$(GOOS)-$(GOARCH)$(if $(filter windows,$(GOOS)),.exe) ./agent

clean:
	rm -rf bin/
