#!/usr/bin/env bash
# Runs one fuzz target for a bounded time: scripts/fuzz.sh DIR TARGET FUZZTIME.
#
# Go 1.26's fuzz coordinator can fail a target with a bare "context deadline
# exceeded" at the very end of a -fuzztime window, when a loaded machine's
# worker is still mid-call (golang/go#75804, fixed in Go 1.27). That failure
# writes no reproducer and names no input. Such a run is replayed on its seed
# corpus and fuzzed again, at most three tries; any other failure fails.
set -uo pipefail
dir=$1 target=$2 fuzztime=$3
GO=${GO:-go}

log=$(mktemp)
trap 'rm -f "$log"' EXIT

fuzz_once() {
	(cd "$dir" && "$GO" test -run '^$' -fuzz "^${target}\$" -fuzztime "$fuzztime" .) 2>&1 | tee "$log"
	return "${PIPESTATUS[0]}"
}

is_coordinator_race() {
	grep -q 'context deadline exceeded' "$log" &&
		! grep -qE 'Failing input written|panic:|_test\.go:[0-9]+:' "$log"
}

# The race hit about one target in 25 per CI run here, so a target may
# meet it twice: up to three tries, each only after that exact failure.
for try in 1 2 3; do
	fuzz_once && exit 0
	if ! is_coordinator_race || [ "$try" = 3 ]; then
		exit 1
	fi
	echo "== $target: the fuzz coordinator's deadline race (golang/go#75804), no input found; replaying its corpus and fuzzing again"
	(cd "$dir" && "$GO" test -count=1 -run "^${target}\$" .) || exit 1
done
