package clusterlink_test

import (
	"context"
	"fmt"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/wactor/wactor/abi"
	"github.com/wactor/wactor/host"
	"github.com/wactor/wactor/internal/testwasm"
)

// BenchmarkAskBetweenActors measures an ask from one actor to another on
// the same node and on another node of a three-node cluster, in the same
// run: a gateway call on n1 asks an actor on n1 (hostile's "ask"), which
// asks a counter's "get" (a turn that commits nothing) on n1, or on n2
// over NATS. It reports the latency of the whole call (p50 and p99, in
// microseconds) and the throughput (asks/s), with one caller and with
// eight at once. Compare the two sub-benchmarks' figures with each other,
// never with a fixed number:
//
//	go test -run '^$' -bench BenchmarkAskBetweenActors -benchtime 2000x ./internal/clusterlink/
func BenchmarkAskBetweenActors(b *testing.B) {
	counter := host.TypeConfig{Name: "counter", Module: testwasm.C(b, "counter")}
	hostile := host.TypeConfig{Name: "hostile", Module: testwasm.Go(b, "hostile")}
	nodes := startCluster(b, counter, hostile)
	ctx := context.Background()
	const callers = 8
	for _, bc := range []struct {
		name, targetNode string
		callers          int
	}{
		{"same-node/1-caller", "n1", 1}, {"other-node/1-caller", "n2", 1},
		{"same-node/8-callers", "n1", 8}, {"other-node/8-callers", "n2", 8},
	} {
		b.Run(bc.name, func(b *testing.B) {
			askers := make([]abi.Ref, bc.callers)
			bodies := make([][]byte, bc.callers)
			for i := range bc.callers {
				askers[i] = ownedBy(b, nodes, "hostile", fmt.Sprintf("%s-asker%d-", bc.name, i), "n1")
				target := ownedBy(b, nodes, "counter", fmt.Sprintf("%s-target%d-", bc.name, i), bc.targetNode)
				bodies[i] = cborOf(b, M{"to": target.String(), "method": "get", "payload": M{}})
				_, err := nodes[0].h.Ask(ctx, askers[i], "ask", bodies[i]) // activates both
				require.NoError(b, err)
			}
			var (
				mu    sync.Mutex
				lat   []time.Duration
				fails atomic.Int32
			)
			// Each caller asks through its own asker, b.N asks in all.
			var left atomic.Int64
			left.Store(int64(b.N))
			b.ResetTimer()
			var wg sync.WaitGroup
			for i := range bc.callers {
				wg.Go(func() {
					var mine []time.Duration
					for left.Add(-1) >= 0 {
						start := time.Now()
						if _, err := nodes[0].h.Ask(ctx, askers[i], "ask", bodies[i]); err != nil {
							fails.Add(1)
						}
						mine = append(mine, time.Since(start))
					}
					mu.Lock()
					lat = append(lat, mine...)
					mu.Unlock()
				})
			}
			wg.Wait()
			b.StopTimer()
			require.Zero(b, fails.Load(), "failed asks")
			slices.Sort(lat)
			b.ReportMetric(float64(lat[len(lat)/2].Microseconds()), "p50-µs")
			b.ReportMetric(float64(lat[len(lat)*99/100].Microseconds()), "p99-µs")
			b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "asks/s")
		})
	}
}
