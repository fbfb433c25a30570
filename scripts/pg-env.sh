#!/usr/bin/env bash
# pg-env.sh — find or start a PostgreSQL server for the tests and export TEST_DATABASE_URL.
#
# Sourced by scripts/test.sh:
#
#   source scripts/pg-env.sh
#   trap pg_env_cleanup EXIT
#   pg_env_setup            # exports TEST_DATABASE_URL
#
# Or on its own, to get a throw-away server for a shell session:
#
#   bash scripts/pg-env.sh   # prints the URL, keeps the server until Enter is pressed
#
# Order of choice:
#   1. TEST_DATABASE_URL, when set;
#   2. a server on 127.0.0.1:5432 that lets user postgres into database postgres without
#      a password (trust auth);
#   3. a throw-away cluster: initdb into a fresh folder, pg_ctl start on a free port on
#      127.0.0.1 with its socket in that folder, stopped and removed by pg_env_cleanup.
#      The PostgreSQL binaries come from /usr/lib/postgresql/*/bin (the newest version);
#      the `postgresql` package is installed when there are none.
# RM_TEST_FORCE_TEMP_PG=1 skips 1 and 2 (to test path 3).
#
# The tests create their own databases inside the server they are given.

_pg_env_dir=""
_pg_env_bin=""
_pg_env_started=""

_pg_log() { echo "pg-env: $*" >&2; }

_pg_as_root() {
	if [ "$(id -u)" -eq 0 ]; then "$@"; elif command -v sudo >/dev/null 2>&1; then sudo -n "$@"; else
		_pg_log "need root for: $*"
		return 1
	fi
}

# _pg_apt_install PKG...: install with apt-get, running `apt-get update` first only when
# the install fails (no lists yet, or stale ones).
_pg_apt_install() {
	_pg_as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -q "$@" >&2 && return 0
	_pg_log "apt-get install $* failed; running apt-get update and trying again"
	_pg_as_root apt-get update -q >&2 &&
		_pg_as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -q "$@" >&2
}

# _pg_answers URL: true when a server answers at URL and lets us in.
_pg_answers() {
	local url=$1
	if command -v psql >/dev/null 2>&1; then
		PGCONNECT_TIMEOUT=3 psql "$url" -XAtqc 'select 1' </dev/null >/dev/null 2>&1
	elif command -v pg_isready >/dev/null 2>&1; then
		pg_isready -q -t 3 -d "$url" </dev/null >/dev/null 2>&1
	else
		# No client tools: a bare TCP check; the tests report a refused login clearly.
		timeout 3 bash -c 'exec 3<>/dev/tcp/127.0.0.1/5432' 2>/dev/null
	fi
}

_pg_find_bin() {
	local d
	d=$(printf '%s\n' /usr/lib/postgresql/*/bin | sort -V | tail -n 1)
	if [ -n "$d" ] && [ -x "$d/initdb" ] && [ -x "$d/pg_ctl" ]; then
		echo "$d"
	elif command -v initdb >/dev/null 2>&1 && command -v pg_ctl >/dev/null 2>&1; then
		dirname "$(command -v initdb)"
	fi
}

# _pg_as_owner CMD...: run CMD as the owner of the throw-away cluster (postgres when we
# are root, since initdb and postgres refuse to run as root; else ourselves).
_pg_as_owner() {
	if [ "$(id -u)" -eq 0 ]; then
		runuser -u postgres -- "$@"
	else
		"$@"
	fi
}

_pg_port_free() {
	! (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null
}

_pg_start_temp() {
	_pg_env_bin=$(_pg_find_bin)
	if [ -z "$_pg_env_bin" ]; then
		_pg_log "no PostgreSQL binaries found; installing the postgresql package"
		_pg_apt_install postgresql || return 1
		_pg_env_bin=$(_pg_find_bin)
		if [ -z "$_pg_env_bin" ]; then
			_pg_log "postgresql installed, but no initdb/pg_ctl under /usr/lib/postgresql/*/bin"
			return 1
		fi
	fi
	if [ "$(id -u)" -eq 0 ] && ! id postgres >/dev/null 2>&1; then
		_pg_log "creating the system user postgres"
		useradd --system --user-group --home-dir /var/lib/postgresql --shell /bin/bash postgres || return 1
	fi

	_pg_env_dir=$(mktemp -d "${TMPDIR:-/tmp}/rm-test-pg.XXXXXX") || return 1
	[ "$(id -u)" -eq 0 ] && chown postgres: "$_pg_env_dir"
	_pg_log "initdb ($("$_pg_env_bin/initdb" --version)) into $_pg_env_dir/data"
	if ! _pg_as_owner "$_pg_env_bin/initdb" -D "$_pg_env_dir/data" -A trust -U postgres \
		-E UTF8 --locale=C --no-sync >"$_pg_env_dir/initdb.log" 2>&1; then
		cat "$_pg_env_dir/initdb.log" >&2
		_pg_log "initdb failed"
		return 1
	fi

	# Tests only: durability off, room for a few connection pools per test package.
	local port tries=0
	port=$((20000 + RANDOM % 20000))
	while [ $tries -lt 10 ]; do
		tries=$((tries + 1))
		port=$((port + 1))
		_pg_port_free "$port" || continue
		if _pg_as_owner "$_pg_env_bin/pg_ctl" -D "$_pg_env_dir/data" -l "$_pg_env_dir/server.log" \
			-w -t 60 -o "-p $port -k $_pg_env_dir -c listen_addresses=127.0.0.1 -c fsync=off \
-c synchronous_commit=off -c full_page_writes=off -c max_connections=200" start >/dev/null; then
			_pg_env_started=1
			export TEST_DATABASE_URL="postgres://postgres@127.0.0.1:$port/postgres?sslmode=disable"
			_pg_log "throw-away PostgreSQL on 127.0.0.1:$port (data in $_pg_env_dir)"
			return 0
		fi
		_pg_log "pg_ctl start on port $port failed; server log:"
		tail -n 20 "$_pg_env_dir/server.log" >&2 || true
	done
	_pg_log "could not start a throw-away PostgreSQL"
	return 1
}

# pg_env_setup: choose a server (see the top of this file) and export TEST_DATABASE_URL.
pg_env_setup() {
	if [ "${RM_TEST_FORCE_TEMP_PG:-}" != "1" ]; then
		if [ -n "${TEST_DATABASE_URL:-}" ]; then
			_pg_log "using TEST_DATABASE_URL from the environment"
			return 0
		fi
		local local_url="postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable"
		if _pg_answers "$local_url"; then
			export TEST_DATABASE_URL=$local_url
			_pg_log "using the PostgreSQL server on 127.0.0.1:5432"
			return 0
		fi
		_pg_log "no PostgreSQL with trust auth on 127.0.0.1:5432; starting a throw-away one"
	else
		_pg_log "RM_TEST_FORCE_TEMP_PG=1: starting a throw-away PostgreSQL"
	fi
	_pg_start_temp
}

# pg_env_cleanup: stop and remove the throw-away cluster, if one was started.
pg_env_cleanup() {
	if [ -n "$_pg_env_started" ]; then
		_pg_as_owner "$_pg_env_bin/pg_ctl" -D "$_pg_env_dir/data" -m immediate -w stop >/dev/null 2>&1 ||
			_pg_log "pg_ctl stop failed (data in $_pg_env_dir)"
		_pg_env_started=""
	fi
	if [ -n "$_pg_env_dir" ]; then
		# Quietly: this runs on exit, after go test's summary, which should stay last.
		rm -rf "$_pg_env_dir" || _pg_log "could not remove $_pg_env_dir"
		_pg_env_dir=""
	fi
}

if [ "${BASH_SOURCE[0]}" = "$0" ]; then
	set -euo pipefail
	trap pg_env_cleanup EXIT
	pg_env_setup
	echo "$TEST_DATABASE_URL"
	if [ -n "$_pg_env_started" ] && [ -t 0 ]; then
		read -r -p "pg-env: press Enter to stop the server " _ || true
	fi
fi
