#!/usr/bin/env bash
# run.sh — run Restic Manager on this machine, the way a new user meets it:
#   - the server on the embedded SQLite default (data in ./data), web UI built in;
#   - a local agent enrolled against it, with a local restic repository under the data
#     directory, a nightly backup schedule and a first backup already made.
# Works on a fresh Debian machine with Go, Node and apt; installs what it needs.
# Environment: RM_LISTEN (default 127.0.0.1:8080), RM_DATA_DIR (default ./data),
#   RM_DEMO_PATHS (what the local schedule backs up; default /etc as root, else $HOME),
#   RM_ADMIN_EMAIL (default admin@localhost). Ctrl-C stops everything.
set -euo pipefail
repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$repo"

export RM_LISTEN=${RM_LISTEN:-127.0.0.1:8080}
export RM_DATA_DIR=${RM_DATA_DIR:-$repo/data}
export RM_ADMIN_EMAIL=${RM_ADMIN_EMAIL:-admin@localhost}
if [ "$(id -u)" = 0 ]; then default_paths=/etc; else default_paths=$HOME; fi
paths=${RM_DEMO_PATHS:-$default_paths}
url="http://$RM_LISTEN"
mkdir -p "$RM_DATA_DIR/agent" bin
chmod 700 "$RM_DATA_DIR"

as_root() { if [ "$(id -u)" = 0 ]; then "$@"; else sudo "$@"; fi; }

if ! command -v restic >/dev/null 2>&1; then
	echo "==> installing restic (apt)"
	as_root apt-get update -qq
	as_root apt-get install -y -qq restic
fi

if [ -f web/package.json ]; then
	echo "==> building the web UI"
	(cd web && npm ci --no-audit --no-fund --loglevel=error && npm run build)
fi

echo "==> building the server and the agent"
go build -o bin/restic-manager-server ./server
go build -o bin/restic-manager-agent ./agent
go build -o bin/localsetup ./scripts/localsetup

# The first admin's password: generated once, kept in the data directory (mode 0600).
pwfile="$RM_DATA_DIR/initial-admin-password"
if [ ! -s "$pwfile" ]; then
	(umask 077; head -c 18 /dev/urandom | base64 | tr -d '/+=' >"$pwfile")
fi
export RM_ADMIN_PASSWORD
RM_ADMIN_PASSWORD=$(cat "$pwfile")

pids=()
cleanup() {
	trap - INT TERM EXIT
	for pid in "${pids[@]}"; do kill -TERM "$pid" 2>/dev/null || true; done
	wait 2>/dev/null || true
}
trap cleanup INT TERM EXIT

echo "==> starting the server on $url (data in $RM_DATA_DIR)"
bin/restic-manager-server serve >>"$RM_DATA_DIR/server.log" 2>&1 &
pids+=($!)
for _ in $(seq 1 150); do
	curl -fsS "$url/readyz" >/dev/null 2>&1 && break
	kill -0 "${pids[0]}" 2>/dev/null || { tail -20 "$RM_DATA_DIR/server.log"; echo "server failed to start" >&2; exit 1; }
	sleep 0.2
done
unset RM_ADMIN_PASSWORD

setup=(-server "$url" -email "$RM_ADMIN_EMAIL" -password-file "$pwfile" -config "$RM_DATA_DIR/agent/agent.yaml")
echo "==> enrolling the local agent"
bin/localsetup enroll "${setup[@]}" -agent bin/restic-manager-agent -state "$RM_DATA_DIR/agent/state" -restic "$(command -v restic)"

echo "==> starting the local agent"
bin/restic-manager-agent run --config "$RM_DATA_DIR/agent/agent.yaml" --startup-jitter 0 --log-format text \
	>>"$RM_DATA_DIR/agent.log" 2>&1 &
pids+=($!)

echo "==> a local repository, a nightly schedule and a first backup of $paths"
bin/localsetup provision "${setup[@]}" -data "$RM_DATA_DIR" -paths "$paths"

cat <<MSG

Restic Manager is running: $url
  log in as $RM_ADMIN_EMAIL with the password in $pwfile
  API reference: $url/api/docs/   logs: $RM_DATA_DIR/server.log, $RM_DATA_DIR/agent.log
Ctrl-C stops the server and the agent.
MSG
wait -n "${pids[@]}"
