#!/bin/sh
# Measures what tracing costs, in one run: the host's BenchmarkMessagePath
# (host/msgpath_bench_test.go) and the gateway's BenchmarkHTTP
# (gateway/http_bench_test.go) on the tree of BASE (default main: the code
# before tracing, or any commit to compare with) and on this tree with
# tracing off, sampled and unsampled. The test binaries of the two trees
# take turns ROUNDS times, so that a busy machine disturbs both alike. It
# prints, for each path, the medians of ns/op and of cpu-ns/op (the
# processor time of the whole process per message, which other processes
# disturb less), the ratios (each the median of the ratios within a
# round), and the allocations per message.
#
#   scripts/bench-tracing.sh [BASE]        ROUNDS=15 BENCHTIME=3000x
set -eu
base=${1:-main}
rounds=${ROUNDS:-15}
benchtime=${BENCHTIME:-3000x}
root=$(cd "$(dirname "$0")/.." && pwd)
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

mkdir "$tmp/base"
git -C "$root" archive "$base" | tar -x -C "$tmp/base"
# The benchmarks' own files use only what the tree had before tracing.
cp "$root/host/msgpath_bench_test.go" "$tmp/base/host/"
cp "$root/gateway/http_bench_test.go" "$root/gateway/cputime_unix_test.go" "$root/gateway/cputime_other_test.go" "$tmp/base/gateway/"
for pkg in host gateway; do
	(cd "$tmp/base" && go test -c -o "$tmp/base-$pkg.test" "./$pkg")
	(cd "$root" && go test -c -o "$tmp/this-$pkg.test" "./$pkg")
done

# run TREE PKG BENCH: one round, as lines "PKG MODE PATH ns cpu-ns allocs"
# (MODE "before" for the base tree, which has only "off").
run() {
	"$tmp/$1-$2.test" -test.run '^$' -test.bench "$3" -test.benchtime "$benchtime" -test.benchmem |
		awk -v tree="$1" -v pkg="$2" '/^Benchmark/ {
			split($1, name, "/"); sub(/-[0-9]+$/, "", name[3])
			for (i = 2; i < NF; i++) {
				if ($(i + 1) == "ns/op") ns = $i
				if ($(i + 1) == "cpu-ns/op") cpu = $i
				if ($(i + 1) == "allocs/op") allocs = $i
			}
			mode = tree == "base" ? "before" : name[2]
			print pkg, mode, name[3], ns, cpu, allocs
		}' >>"$tmp/results"
}
i=0
while [ "$i" -lt "$rounds" ]; do
	run base host 'BenchmarkMessagePath/off/'
	run this host 'BenchmarkMessagePath/'
	run base gateway 'BenchmarkHTTP/off/'
	run this gateway 'BenchmarkHTTP/'
	i=$((i + 1))
done

awk '
function median(key, col,    c, j, k, t, a) {
	c = n[key]
	for (j = 1; j <= c; j++) a[j] = v[key, j, col]
	for (j = 2; j <= c; j++) for (k = j; k > 1 && a[k - 1] > a[k]; k--) { t = a[k]; a[k] = a[k - 1]; a[k - 1] = t }
	return c ? (c % 2 ? a[(c + 1) / 2] : (a[c / 2] + a[c / 2 + 1]) / 2) : 0
}
# pratio: the median over rounds of the ratio of a to b in the same round
# (the two ran one after the other, so a drift in the load of the machine
# cancels out).
function pratio(ka, kb, col,    c, j, k, t, a, m) {
	c = n[ka] < n[kb] ? n[ka] : n[kb]
	m = 0
	for (j = 1; j <= c; j++) if (v[kb, j, col] > 0) a[++m] = v[ka, j, col] / v[kb, j, col]
	for (j = 2; j <= m; j++) for (k = j; k > 1 && a[k - 1] > a[k]; k--) { t = a[k]; a[k] = a[k - 1]; a[k - 1] = t }
	return m ? (m % 2 ? a[(m + 1) / 2] : (a[m / 2] + a[m / 2 + 1]) / 2) : 0
}
{
	key = $1 " " $3 " " $2
	if (!($1 " " $3 in seen)) { seen[$1 " " $3] = 1; paths[++np] = $1 " " $3 }
	c = ++n[key]; v[key, c, 1] = $4; v[key, c, 2] = $5; allocs[key] = $6
}
END {
	split("before off sampled unsampled", modes, " ")
	for (col = 1; col <= 2; col++) {
		printf "%-17s %9s %9s %9s %9s  %10s %11s %13s\n", col == 1 ? "ns/op" : "cpu-ns/op", "before", "off", "sampled", "unsampled", "off/before", "sampled/off", "unsampled/off"
		for (p = 1; p <= np; p++) {
			for (m = 1; m <= 4; m++) med[m] = median(paths[p] " " modes[m], col)
			k = paths[p] " "
			printf "%-17s %9.0f %9.0f %9.0f %9.0f  %10.3f %11.3f %13.3f\n", paths[p], med[1], med[2], med[3], med[4],
				pratio(k "off", k "before", col), pratio(k "sampled", k "off", col), pratio(k "unsampled", k "off", col)
		}
		print ""
	}
	printf "%-17s %9s %9s %9s %9s\n", "allocs/op", "before", "off", "sampled", "unsampled"
	for (p = 1; p <= np; p++)
		printf "%-17s %9d %9d %9d %9d\n", paths[p], allocs[paths[p] " before"], allocs[paths[p] " off"], allocs[paths[p] " sampled"], allocs[paths[p] " unsampled"]
	printf "(medians of %d rounds; a ratio is the median of the ratios within a round)\n", n[paths[1] " off"]
}' "$tmp/results"
