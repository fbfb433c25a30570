#!/usr/bin/env bash
# run.sh — the fleet benchmarks of docs/benchmarks.md.
#
#   bash scripts/bench/run.sh                      # scenarios 1,4,2,3,3b,6,5 (about 13 minutes)
#   bash scripts/bench/run.sh -scenarios 1         # one of them
#   bash scripts/bench/run.sh -agents 2000 ...     # any flag of scripts/bench (go run ./scripts/bench -h)
#
# Builds the server, scripts/fleetsim and the agentapi test binary (its TestFleetsimDriver
# stands in for an operator when the server has no operator API), raises the open-file
# limit, and runs scripts/bench, which writes the results into docs/benchmarks.md.
# Needs a PostgreSQL server: TEST_DATABASE_URL, or the local one at 127.0.0.1:5432
# (user postgres, trust auth). Every request goes to 127.0.0.1 only.
set -euo pipefail

repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
cd "$repo"
if ! command -v go >/dev/null 2>&1 && [ -x /usr/local/go/bin/go ]; then
	export PATH=$PATH:/usr/local/go/bin
fi

# 10,000 held polls need 10,000 descriptors in the server and as many in the simulator.
ulimit -n 200000 2>/dev/null || ulimit -n "$(ulimit -Hn)" || true
echo "open files limit: $(ulimit -n)" >&2
if [ "$(ulimit -n)" != unlimited ] && [ "$(ulimit -n)" -lt 12000 ]; then
	echo "run.sh: the open files limit $(ulimit -n) is too low for 10,000 agents (use -agents N)" >&2
fi

work=$(mktemp -d -t rmbench.XXXXXX)
cleanup() {
	if [ -z "${RM_BENCH_KEEP_WORK:-}" ]; then rm -rf "$work"; else echo "work directory kept: $work" >&2; fi
}
trap cleanup EXIT

echo "building into $work" >&2
CGO_ENABLED=0 go build -o "$work/server" ./server
go build -o "$work/fleetsim" ./scripts/fleetsim
go build -o "$work/bench" ./scripts/bench
# The stand-in operator (used only without an operator API, or with -use-driver).
driver_flag=()
if go test -c -o "$work/agentapi.test" ./server/internal/agentapi 2>"$work/driver-build.log"; then
	driver_flag=(-driver "$work/agentapi.test")
else
	echo "the agentapi test binary does not build: no stand-in operator ($(tail -n 3 "$work/driver-build.log"))" >&2
fi
agent_flag=()
if [ -f agent/main.go ] && CGO_ENABLED=0 go build -o "$work/agent" ./agent 2>"$work/agent-build.log"; then
	agent_flag=(-agent "$work/agent")
else
	echo "the agent does not build: scenario 5 will be skipped ($(tail -n 3 "$work/agent-build.log" 2>/dev/null))" >&2
fi

"$work/bench" -work "$work" -server "$work/server" -fleetsim "$work/fleetsim" "${driver_flag[@]}" "${agent_flag[@]}" \
	-command "bash scripts/bench/run.sh${*:+ $*}" "$@"
