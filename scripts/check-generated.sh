#!/usr/bin/env bash
# check-generated.sh — fail when committed generated code is stale.
#
#   bash scripts/check-generated.sh           check: regenerate in a scratch copy of the
#                                             work tree and compare with the work tree
#   bash scripts/check-generated.sh --write   regenerate in place (what `make generate` runs)
#
# The check never touches the work tree. It copies the tracked and untracked (not
# ignored) files, deletes the generated paths in the copy, runs every generator there
# and compares the result with the work tree, so a file that a generator no longer
# writes, or a new one that was never committed, counts as stale too.
set -euo pipefail

repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$repo"

# One line per generator: "script | the paths it writes (files or folders, repo-relative)".
# Generators run in this order; a later one may read what an earlier one wrote.
generators=(
	"scripts/gen-openapi.sh | server/internal/apidocs openapi.yaml server/internal/apispec/openapi.yaml common/apiclient/client.gen.go web/src/api/schema.d.ts"
)
# Git-ignored folders the generators may read (linked into the scratch copy when present).
linked_deps=(web/node_modules)

run_generators() { # $1: root folder to run in
	local g script
	for g in "${generators[@]}"; do
		script=$(echo "${g%%|*}" | xargs)
		echo "check-generated: running $script" >&2
		(cd "$1" && bash "$script")
	done
}

all_paths() {
	local g
	for g in "${generators[@]}"; do
		echo "${g#*|}"
	done | xargs -n1
}

if [ "${1:-}" = "--write" ]; then
	run_generators "$repo"
	exit 0
elif [ $# -ne 0 ]; then
	echo "usage: $0 [--write]" >&2
	exit 2
fi

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
tmp=$work/tree
mkdir "$tmp"

# Copy the work tree as git sees it (tracked + untracked, minus ignored files).
if git -C "$repo" rev-parse --is-inside-work-tree >/dev/null 2>&1; then
	git -C "$repo" ls-files -z --cached --others --exclude-standard |
		while IFS= read -r -d '' f; do [ -e "$f" ] || [ -L "$f" ] && printf '%s\0' "$f"; done |
		tar -c --null -T - -f - | tar -x -C "$tmp" -f -
else
	tar -c --exclude=./.git --exclude=./.cache --exclude=./web/node_modules -f - . | tar -x -C "$tmp" -f -
fi

# Ignored dependency folders that generators may need (an npm-installed generator, ...)
# are linked into the copy rather than copied.
for d in "${linked_deps[@]}"; do
	if [ -d "$repo/$d" ] && [ ! -e "$tmp/$d" ]; then
		mkdir -p "$(dirname "$tmp/$d")"
		ln -s "$repo/$d" "$tmp/$d"
	fi
done

mapfile -t paths < <(all_paths)
for p in "${paths[@]}"; do
	rm -rf "${tmp:?}/$p"
done

run_generators "$tmp"

stale=()
for p in "${paths[@]}"; do
	if [ ! -e "$p" ] && [ ! -e "$tmp/$p" ]; then
		continue
	fi
	if ! diff -r -u -N "$p" "$tmp/$p" >"$work/diff" 2>&1; then
		stale+=("$p")
		echo "---- $p differs from a fresh generation (first 40 lines of the diff):" >&2
		sed "s#$tmp/##g" "$work/diff" | head -n 40 >&2
	fi
done

if [ ${#stale[@]} -gt 0 ]; then
	echo >&2
	echo "check-generated: FAILED: generated files are stale: ${stale[*]}" >&2
	echo "check-generated: run 'make generate' (bash scripts/check-generated.sh --write) and commit the result." >&2
	exit 1
fi

# Up to date with the work tree; say so if the work tree is ahead of the last commit.
if [ "${CI:-}" != "true" ] && git -C "$repo" rev-parse --verify -q HEAD >/dev/null 2>&1; then
	pending=$(git -C "$repo" status --porcelain -- "${paths[@]}" 2>/dev/null || true)
	if [ -n "$pending" ]; then
		echo "check-generated: note: generated files are up to date but not committed:" >&2
		echo "$pending" >&2
	fi
fi
echo "check-generated: generated files are up to date" >&2
