#!/usr/bin/env bash
# fetch-restic.sh — put restic 0.18 (Debian 13 "trixie" package) into a project cache
# folder, and make sure the system restic (Debian 12: 0.14) is installed.
#
# Idempotent: a second run only prints the path. The last line on stdout is the path of
# the 0.18 binary; everything else goes to stderr.
#
# It never touches the system's apt configuration: it writes a private sources list that
# reuses the mirror URI configured in /etc/apt/sources.list.d/debian.sources (read at run
# time, so no registry host name lives in this repository) with the suite "trixie", and
# points apt's lists and caches at private folders.
#
# Usage: scripts/fetch-restic.sh [CACHE_DIR]
#   CACHE_DIR defaults to $RESTIC_CACHE_ROOT or <repo>/.cache/restic-0.18
set -euo pipefail

repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
dest=${1:-${RESTIC_CACHE_ROOT:-$repo/.cache/restic-0.18}}
bin=$dest/usr/bin/restic
sources=${DEBIAN_SOURCES:-/etc/apt/sources.list.d/debian.sources}

log() { echo "fetch-restic: $*" >&2; }

as_root() {
	if [ "$(id -u)" -eq 0 ]; then "$@"; elif command -v sudo >/dev/null 2>&1; then sudo "$@"; else
		log "need root for: $*"
		return 1
	fi
}

# The system restic (0.14 on Debian 12), used by the tests as the old version.
if [ ! -x /usr/bin/restic ]; then
	log "installing the system restic"
	export DEBIAN_FRONTEND=noninteractive
	as_root apt-get install -y restic >&2 ||
		{ as_root apt-get update >&2 && as_root apt-get install -y restic >&2; }
fi

# Keep the cache out of git without editing the project's .gitignore.
mkdir -p "$repo/.cache"
[ -f "$repo/.cache/.gitignore" ] || printf '*\n' >"$repo/.cache/.gitignore"

if [ -x "$bin" ] && "$bin" version 2>/dev/null | grep -q 'restic 0\.18\.'; then
	log "restic 0.18 already in $dest"
	echo "$bin"
	exit 0
fi

# The first URI of the first deb stanza of the system's deb822 sources (the main
# archive); on a machine with a one-line-style /etc/apt/sources.list, its first deb line.
mirror=
if [ -f "$sources" ]; then
	mirror=$(awk '
		/^[[:space:]]*$/ { if (uri != "" && isdeb && !done) { print uri; done = 1 }; uri = ""; isdeb = 0; next }
		tolower($1) == "types:" { for (i = 2; i <= NF; i++) if ($i == "deb") isdeb = 1 }
		tolower($1) == "uris:" && uri == "" { uri = $2 }
		END { if (uri != "" && isdeb && !done) print uri }
	' "$sources" | head -n 1)
fi
if [ -z "$mirror" ] && [ -f /etc/apt/sources.list ]; then
	mirror=$(awk '$1 == "deb" { for (i = 2; i <= NF; i++) if ($i !~ /^\[/ && $i !~ /\]$/) { print $i; exit } }' /etc/apt/sources.list)
fi
if [ -z "$mirror" ]; then
	log "no Debian mirror URI found in $sources or /etc/apt/sources.list"
	exit 1
fi
keyring=/usr/share/keyrings/debian-archive-keyring.gpg
[ -f /usr/share/keyrings/debian-archive-trixie-stable.gpg ] && keyring=/usr/share/keyrings/debian-archive-trixie-stable.gpg

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
mkdir -p "$work/lists/partial" "$work/cache/archives/partial" "$work/debs"
echo "deb [signed-by=$keyring] $mirror trixie main" >"$work/sources.list"

apt_opts=(
	-o "Dir::Etc::SourceList=$work/sources.list"
	-o "Dir::Etc::SourceParts=/dev/null"
	-o "Dir::State::Lists=$work/lists"
	-o "Dir::Cache=$work/cache"
	-o "APT::Sandbox::User=root"
)

log "reading the trixie index from the configured mirror"
apt-get "${apt_opts[@]}" update >&2
(cd "$work/debs" && apt-get "${apt_opts[@]}" download restic >&2)

deb=$(ls "$work"/debs/restic_*.deb | head -n 1)
rm -rf "$dest.tmp"
mkdir -p "$dest.tmp"
dpkg -x "$deb" "$dest.tmp"
"$dest.tmp/usr/bin/restic" version >&2
rm -rf "$dest"
mv "$dest.tmp" "$dest"
log "restic from $(basename "$deb") unpacked into $dest"
echo "$bin"
