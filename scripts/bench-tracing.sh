#!/bin/sh
# Measures what tracing costs on the message path, in one run: the host's
# BenchmarkMessagePath (host/msgpath_bench_test.go) on the tree of BASE
# (default main: the code before tracing, or any commit to compare with)
# and on this tree with tracing off, sampled and unsampled, the two test
# binaries taking turns ROUNDS times so that a busy machine disturbs both
# alike. It prints the median ns/op of each and the ratios.
#
#   scripts/bench-tracing.sh [BASE]        ROUNDS=10 BENCHTIME=3000x
set -eu
base=${1:-main}
rounds=${ROUNDS:-10}
benchtime=${BENCHTIME:-3000x}
root=$(cd "$(dirname "$0")/.." && pwd)
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

mkdir "$tmp/base"
git -C "$root" archive "$base" | tar -x -C "$tmp/base"
# The benchmark uses only what the host had before tracing.
cp "$root/host/msgpath_bench_test.go" "$tmp/base/host/"
(cd "$tmp/base" && go test -c -o "$tmp/base.test" ./host)
(cd "$root" && go test -c -o "$tmp/this.test" ./host)

i=0
while [ "$i" -lt "$rounds" ]; do
	"$tmp/base.test" -test.run '^$' -test.bench 'BenchmarkMessagePath/off/' -test.benchtime "$benchtime" -test.benchmem |
		sed -n 's/^BenchmarkMessagePath\/off\/\([a-z]*\)-[0-9]*[ 	].* \([0-9.]*\) ns\/op.* \([0-9]*\) allocs\/op.*/before \1 \2 \3/p' >>"$tmp/results"
	"$tmp/this.test" -test.run '^$' -test.bench 'BenchmarkMessagePath/' -test.benchtime "$benchtime" -test.benchmem |
		sed -n 's/^BenchmarkMessagePath\/\([a-z]*\)\/\([a-z]*\)-[0-9]*[ 	].* \([0-9.]*\) ns\/op.* \([0-9]*\) allocs\/op.*/\1 \2 \3 \4/p' >>"$tmp/results"
	i=$((i + 1))
done

# Medians, then ratios against "before" and "off"; then allocations.
sort -k1,1 -k2,2 -k3,3n "$tmp/results" | awk '
{ key = $1 " " $2; v[key, ++n[key]] = $3; allocs[key] = $4 }
END {
	split("before off sampled unsampled", modes, " ")
	split("ask askchain tell", paths, " ")
	printf "%-9s %10s %10s %10s %10s   %s\n", "ns/op", "before", "off", "sampled", "unsampled", "off/before sampled/off unsampled/off"
	for (p = 1; p <= 3; p++) {
		path = paths[p]
		for (m = 1; m <= 4; m++) {
			key = modes[m] " " path
			c = n[key]
			med[m] = c ? (c % 2 ? v[key, (c + 1) / 2] : (v[key, c / 2] + v[key, c / 2 + 1]) / 2) : 0
		}
		printf "%-9s %10.0f %10.0f %10.0f %10.0f   %10.3f %10.3f %13.3f\n", path, med[1], med[2], med[3], med[4],
			med[1] ? med[2] / med[1] : 0, med[2] ? med[3] / med[2] : 0, med[2] ? med[4] / med[2] : 0
	}
	printf "(medians of %d rounds, ns per message)\n\n", n["off ask"]
	printf "%-9s %10s %10s %10s %10s\n", "allocs/op", "before", "off", "sampled", "unsampled"
	for (p = 1; p <= 3; p++) {
		path = paths[p]
		printf "%-9s %10d %10d %10d %10d\n", path, allocs["before " path], allocs["off " path], allocs["sampled " path], allocs["unsampled " path]
	}
}'
