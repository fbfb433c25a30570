#!/usr/bin/env bash
# run.sh — run Restic Manager on this machine: the server on the embedded SQLite
# default (data in ./data), with the web UI built into it.
# Works on a fresh Debian machine with Go, Node and apt; installs what it needs.
#   RM_LISTEN (default 127.0.0.1:8080) and RM_DATA_DIR (default ./data) are honoured.
set -euo pipefail
repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$repo"

export RM_LISTEN=${RM_LISTEN:-127.0.0.1:8080}
export RM_DATA_DIR=${RM_DATA_DIR:-$repo/data}
mkdir -p "$RM_DATA_DIR" bin

as_root() { if [ "$(id -u)" = 0 ]; then "$@"; else sudo "$@"; fi; }

if ! command -v restic >/dev/null 2>&1; then
	echo "==> installing restic (apt)"
	as_root apt-get update -qq
	as_root apt-get install -y -qq restic
fi

if [ -f web/package.json ]; then
	echo "==> building the web UI"
	(cd web && npm ci --no-audit --no-fund && npm run build)
fi

echo "==> building the server"
go build -o bin/restic-manager-server ./server

echo "==> starting the server on http://$RM_LISTEN (data in $RM_DATA_DIR; Ctrl-C stops)"
exec bin/restic-manager-server serve
