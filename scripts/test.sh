#!/usr/bin/env bash
# test.sh — the one command that runs every test (CI runs it through .ci/run).
#
#   bash scripts/test.sh
#
# Works unattended as root on a fresh Debian machine with Go, Node and apt: it installs
# what is missing (restic 0.14 from apt, restic 0.18 via scripts/fetch-restic.sh,
# PostgreSQL when no server is reachable), then runs, in order:
#   gofmt, go vet, check-generated, cross-builds, web tests, go test.
# Each step says when it starts; the first failure stops the run with the step's name
# and a non-zero exit. go test runs last, so its own output ends the log.
#
# Environment:
#   TEST_DATABASE_URL       PostgreSQL server for the tests (else see scripts/pg-env.sh)
#   RM_TEST_FORCE_TEMP_PG=1 always start a throw-away PostgreSQL
#   GO_TEST_FLAGS           extra flags for go test (e.g. "-run TestFoo -v")
set -uo pipefail

repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$repo"

if ! command -v go >/dev/null 2>&1 && [ -x /usr/local/go/bin/go ]; then
	export PATH=$PATH:/usr/local/go/bin
fi

started=$(date +%s)
work=$(mktemp -d)
# shellcheck source=scripts/pg-env.sh
source "$repo/scripts/pg-env.sh"
cleanup() {
	pg_env_cleanup
	rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM HUP

current=""
step() { # step NAME: announce the next step
	current=$1
	echo
	echo "==> [$(($(date +%s) - started))s] $current"
}
fail() { # fail [MESSAGE]: stop with the current step's name
	[ $# -gt 0 ] && echo "test.sh: $*" >&2
	echo >&2
	echo "test.sh: FAILED at step: $current" >&2
	exit 1
}

as_root() {
	if [ "$(id -u)" -eq 0 ]; then "$@"; elif command -v sudo >/dev/null 2>&1; then sudo -n "$@"; else
		echo "test.sh: need root for: $*" >&2
		return 1
	fi
}

apt_updated=""
apt_install() { # apt_install PKG...: apt-get update (once) only when the install needs it
	if [ -z "$apt_updated" ] && as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -q "$@"; then
		return 0
	fi
	if [ -z "$apt_updated" ]; then
		as_root apt-get update -q || return 1
		apt_updated=1
	fi
	as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -q "$@"
}

# ---------------------------------------------------------------------------------------
step "dependencies: restic 0.14 (apt), restic 0.18 (scripts/fetch-restic.sh)"
command -v go >/dev/null 2>&1 || fail "go is not on PATH"
go version
if ! command -v restic >/dev/null 2>&1; then
	apt_install restic || fail "could not install restic"
fi
echo "system restic: $(restic version 2>&1 | head -n 1) ($(command -v restic))"
if [ -f scripts/fetch-restic.sh ]; then
	out=$(bash scripts/fetch-restic.sh) || fail "scripts/fetch-restic.sh failed"
	RESTIC_018=$(printf '%s\n' "$out" | tail -n 1)
	[ -x "$RESTIC_018" ] || fail "scripts/fetch-restic.sh printed '$RESTIC_018', not an executable"
	export RESTIC_018
	echo "RESTIC_018=$RESTIC_018 ($("$RESTIC_018" version 2>&1 | head -n 1))"
else
	echo "scripts/fetch-restic.sh does not exist yet; RESTIC_018 not set"
fi

step "PostgreSQL"
pg_env_setup || fail "no PostgreSQL for the tests"
echo "TEST_DATABASE_URL=$TEST_DATABASE_URL"

# ---------------------------------------------------------------------------------------
step "gofmt"
if git rev-parse --is-inside-work-tree >/dev/null 2>&1; then
	mapfile -t gofiles < <(git ls-files --cached --others --exclude-standard -- '*.go' |
		while IFS= read -r f; do [ -f "$f" ] && echo "$f"; done)
else
	mapfile -t gofiles < <(find . \( -name .git -o -name .cache -o -name node_modules \) -prune -o \
		-name '*.go' -type f -print)
fi
if [ ${#gofiles[@]} -gt 0 ]; then
	unformatted=$(gofmt -l "${gofiles[@]}") || fail "gofmt could not parse some files"
	if [ -n "$unformatted" ]; then
		echo "$unformatted"
		fail "these files are not gofmt-formatted (run: gofmt -w FILE)"
	fi
fi
echo "${#gofiles[@]} Go files formatted"

step "go vet"
go vet ./... || fail

step "generated code is up to date (scripts/check-generated.sh)"
bash scripts/check-generated.sh || fail

step "cross-builds (CGO_ENABLED=0)"
# build PKG GOOS/GOARCH...: skip while PKG has no Go files or is no main package.
build() {
	local pkg=$1 target name
	shift
	if ! ls "$pkg"/*.go >/dev/null 2>&1; then
		echo "skip $pkg: no Go files yet"
		return 0
	fi
	name=$(go list -f '{{.Name}}' "$pkg") || fail "go list $pkg failed"
	if [ "$name" != "main" ]; then
		echo "skip $pkg: package $name is not a main package yet"
		return 0
	fi
	for target in "$@"; do
		echo "build $pkg for $target"
		CGO_ENABLED=0 GOOS=${target%/*} GOARCH=${target#*/} \
			go build -o "$work/bin/$(basename "$pkg")-${target%/*}-${target#*/}" "$pkg" ||
			fail "$pkg does not build for $target"
	done
}
build ./agent linux/amd64 linux/arm64 windows/amd64
build ./server linux/amd64

# ---------------------------------------------------------------------------------------
step "web tests (vitest, then Playwright e2e in Chromium against the real server, agent and restic)"
# Unit tests (vitest), then `npm run build` and the e2e suite (web/e2e), which builds the
# server with the UI embedded and the agent, and runs them on a fresh database in
# $TEST_DATABASE_URL. Playwright drives Debian's chromium (no browser download).
if [ -f web/package.json ]; then
	command -v node >/dev/null 2>&1 && command -v npm >/dev/null 2>&1 || fail "node and npm are needed for the web tests"
	if [ ! -x "${RM_CHROMIUM:-/usr/bin/chromium}" ]; then
		apt_install chromium || fail "could not install chromium"
	fi
	(cd web && npm ci --no-audit --no-fund && npm run test:unit && npm run test:e2e) || fail
else
	echo "skip: web/package.json does not exist yet"
fi

# ---------------------------------------------------------------------------------------
step "micro-benchmarks, once each (a smoke test; numbers live in docs/benchmarks.md)"
go test -run '^$' -bench . -benchtime 1x ./server/internal/agentapi/ ./server/internal/store/ ./server/internal/ingest/ >/dev/null || fail

# ---------------------------------------------------------------------------------------
step "go test"
# Last, so that go test's own summary ends the output. -p 2: the machines have 2 cores.
# shellcheck disable=SC2086
go test -count=1 -timeout 20m -p 2 ${GO_TEST_FLAGS:-} ./... || fail
