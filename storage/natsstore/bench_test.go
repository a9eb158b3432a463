package natsstore_test

import (
	"fmt"
	"runtime"
	"strconv"
	"sync/atomic"
	"testing"

	"github.com/nats-io/nats-server/v2/server"

	"github.com/wactor/wactor/storage"
	"github.com/wactor/wactor/storage/badgerstore"
	"github.com/wactor/wactor/storage/natsstore"
)

// committers is how many goroutines commit at once in BenchmarkCommit,
// each for its own actor.
const committers = 64

// BenchmarkCommit measures durable commits of one turn (two state puts,
// the version, one message consumed and one sent) from 64 goroutines, on
// badger (fsync per group) as the baseline and on JetStream: one stream,
// four streams (the goroutines spread over them, to see whether the
// server's per-stream limit of batches in flight binds), and one stream
// whose server fsyncs every write (sync_always). Compare the commits/s
// figures of one run.
func BenchmarkCommit(b *testing.B) {
	b.Run("badger", func(b *testing.B) {
		s, err := badgerstore.Open(b.TempDir(), badgerstore.DefaultOptions())
		if err != nil {
			b.Fatal(err)
		}
		defer s.Close()
		benchCommits(b, []storage.Store{s})
	})
	for _, inflight := range []int{4, 16} {
		b.Run(fmt.Sprintf("nats/replicas=3/inflight=%d", inflight), func(b *testing.B) {
			servers := startCluster(b)
			nc := connect(b, servers[0].ClientURL())
			benchCommits(b, []storage.Store{open(b, nc, freshStream(), func(c *natsstore.Config) { c.Replicas = 3; c.MaxInflight = inflight })})
		})
	}
	for _, tt := range []struct {
		streams, inflight int
		sync              bool
	}{{1, 4, false}, {1, 16, false}, {4, 4, false}, {1, 4, true}} {
		name := fmt.Sprintf("nats/streams=%d/inflight=%d", tt.streams, tt.inflight)
		if tt.sync {
			name += "/sync_always"
		}
		b.Run(name, func(b *testing.B) {
			srv := startServer(b, b.TempDir(), func(o *server.Options) { o.SyncAlways = tt.sync })
			nc := connect(b, srv.ClientURL())
			var stores []storage.Store
			for range tt.streams {
				stores = append(stores, open(b, nc, freshStream(), func(c *natsstore.Config) { c.MaxInflight = tt.inflight }))
			}
			benchCommits(b, stores)
		})
	}
}

func benchCommits(b *testing.B, stores []storage.Store) {
	var next atomic.Int64
	b.SetParallelism(max(1, committers/runtime.GOMAXPROCS(0)))
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		g := next.Add(1)
		s := stores[int(g)%len(stores)]
		actor := "bench/" + strconv.FormatInt(g, 10)
		for v := uint64(0); pb.Next(); v++ {
			if err := s.Commit(b.Context(), turn(actor, v)); err != nil {
				b.Error(err)
				return
			}
		}
	})
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "commits/s")
	var groups, grouped uint64
	for _, s := range stores {
		if s, ok := s.(*natsstore.Store); ok {
			g, n := natsstore.Groups(s)
			groups, grouped = groups+g, grouped+n
		}
	}
	if groups > 0 {
		b.ReportMetric(float64(grouped)/float64(groups), "commits/batch")
	}
}

// turn returns what an actor's turn v commits: it consumes the message its
// previous turn sent and sends the next.
func turn(actor string, v uint64) *storage.Batch {
	b := &storage.Batch{
		Actor:   actor,
		Version: v,
		Puts:    map[string][]byte{"count": []byte(strconv.FormatUint(v, 10)), "data": make([]byte, 100)},
		Send:    []storage.Message{{ID: fmt.Sprintf("%020d", v), Target: actor, Sender: actor, Method: "next", Payload: make([]byte, 64)}},
	}
	if v > 0 {
		b.Consumed = []string{fmt.Sprintf("%020d", v-1)}
	}
	return b
}
