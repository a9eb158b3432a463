#!/bin/sh
# Runs three wactor nodes of one cluster on this machine, from
# examples/cluster.yaml (see docs/cluster.md), in the foreground: Ctrl-C
# stops all three. Each node logs to examples/data/cluster/<node>.log.
# Usage: scripts/cluster-demo.sh [path of the wactor binary]
set -u
# Each node in its own process group: Ctrl-C reaches this script only,
# which stops every node once, with SIGTERM.
set -m
bin=${1:-bin/wactor}
manifest=examples/cluster.yaml
data=examples/data/cluster
mkdir -p "$data"

pids=""
stop() {
	trap - INT TERM
	echo "stopping the three nodes..."
	for p in $pids; do kill -TERM "$p" 2>/dev/null; done
	for p in $pids; do wait "$p" 2>/dev/null; done
	echo "stopped"
	exit 0
}
trap stop INT TERM

for i in 1 2 3; do
	"$bin" run -f "$manifest" --node "n$i" \
		--http-addr "127.0.0.1:808$i" \
		--data-dir "$data/n$i" \
		--nats-addr "127.0.0.1:422$i" \
		--nats-cluster-addr "127.0.0.1:622$((i + 1))" \
		2>"$data/n$i.log" &
	pids="$pids $!"
done
echo "started n1, n2, n3 (HTTP on 127.0.0.1:8081, :8082, :8083; logs in $data/)"
echo "waiting until all three are ready..."
for i in 1 2 3; do
	tries=0
	until curl -fsS "http://127.0.0.1:808$i/readyz" >/dev/null 2>&1; do
		tries=$((tries + 1))
		if [ "$tries" -gt 600 ]; then
			echo "n$i is not ready after 2 minutes; see $data/n$i.log" >&2
			stop
		fi
		sleep 0.2
	done
done
"$bin" cluster status --addr 127.0.0.1:8081
echo
echo "try: $bin call counter/a add '{\"n\":1}' --addr 127.0.0.1:8082"
echo "     $bin cluster status --addr 127.0.0.1:8083"
echo "Ctrl-C stops all three."
wait
