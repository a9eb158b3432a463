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
	for _, tt := range []struct {
		name    string
		streams int
		sync    bool
	}{{"nats/streams=1", 1, false}, {"nats/streams=4", 4, false}, {"nats/streams=1/sync_always", 1, true}} {
		b.Run(tt.name, func(b *testing.B) {
			srv := startServer(b, b.TempDir(), func(o *server.Options) { o.SyncAlways = tt.sync })
			nc := connect(b, srv.ClientURL())
			var stores []storage.Store
			for range tt.streams {
				stores = append(stores, open(b, nc, freshStream()))
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

