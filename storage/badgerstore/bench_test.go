package badgerstore

import (
	"encoding/binary"
	"fmt"
	"log/slog"
	"runtime"
	"strconv"
	"sync/atomic"
	"testing"

	"github.com/dgraph-io/badger/v4"

	"github.com/wactor/wactor/storage"
)

// BenchmarkCommit measures one turn's commit (two state puts, the version,
// one message consumed and one sent) from many goroutines at once, each
// committing for its own actor. Next to each store figure, raw is the same
// entries written with a badger WriteBatch per turn on a database with the
// same options: the cost of version checks and group commit is the ratio.
func BenchmarkCommit(b *testing.B) {
	for _, sync := range []bool{true, false} {
		for _, par := range []int{1, 32} {
			name := fmt.Sprintf("sync=%t/goroutines=%d", sync, par*runtime.GOMAXPROCS(0))
			b.Run(name+"/store", func(b *testing.B) { benchStore(b, sync, par) })
			b.Run(name+"/raw", func(b *testing.B) { benchRaw(b, sync, par) })
		}
	}
}

func benchStore(b *testing.B, sync bool, par int) {
	s, err := Open(b.TempDir(), Options{Sync: sync})
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	var next atomic.Int64
	b.SetParallelism(par)
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		actor := "bench/" + strconv.FormatInt(next.Add(1), 10)
		for v := uint64(0); pb.Next(); v++ {
			if err := s.Commit(b.Context(), turn(actor, v)); err != nil {
				b.Error(err)
				return
			}
		}
	})
	b.StopTimer()
	if w := s.writes.Load(); w > 0 {
		b.ReportMetric(float64(s.batches.Load())/float64(w), "batches/write")
	}
}

func benchRaw(b *testing.B, sync bool, par int) {
	db, err := badger.Open(badger.DefaultOptions(b.TempDir()).
		WithSyncWrites(sync).
		WithLogger(nil).
		WithMetricsEnabled(false).
		WithDetectConflicts(false).
		WithMemTableSize(memTableSize).
		WithNumMemtables(numMemtables).
		WithBlockCacheSize(blockCacheSize).
		WithValueLogFileSize(valueLogFileSize).
		WithNumCompactors(numCompactors))
	if err != nil {
		b.Fatal(err)
	}
	defer db.Close()
	var next atomic.Int64
	b.SetParallelism(par)
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		actor := "bench/" + strconv.FormatInt(next.Add(1), 10)
		for v := uint64(0); pb.Next(); v++ {
			if err := writeRaw(db, turn(actor, v)); err != nil {
				b.Error(err)
				return
			}
		}
	})
}

// turn returns what an actor's turn v commits: it consumes the message its
// previous turn sent and sends the next.
func turn(actor string, v uint64) *storage.Batch {
	b := &storage.Batch{
		Actor:   actor,
		Version: v,
		Puts: map[string][]byte{
			"count": []byte(strconv.FormatUint(v, 10)),
			"data":  make([]byte, 100),
		},
		Send: []storage.Message{{ID: fmt.Sprintf("%s/%020d", actor, v), Target: actor, Sender: actor, Method: "next", Payload: make([]byte, 64)}},
	}
	if v > 0 {
		b.Consumed = []string{fmt.Sprintf("%s/%020d", actor, v-1)}
	}
	return b
}

// writeRaw writes the entries Commit would write for b, without checking
// its version.
func writeRaw(db *badger.DB, b *storage.Batch) error {
	wb := db.NewWriteBatch()
	defer wb.Cancel()
	for k, v := range b.Puts {
		if err := wb.Set(stateKey(b.Actor, k), v); err != nil {
			return err
		}
	}
	if err := wb.Set(versionKey(b.Actor), binary.BigEndian.AppendUint64(nil, b.Version+1)); err != nil {
		return err
	}
	for _, id := range b.Consumed {
		if err := wb.Delete(outboxKey(id)); err != nil {
			return err
		}
	}
	for _, m := range b.Send {
		if err := wb.Set(outboxKey(m.ID), encodeMessage(m)); err != nil {
			return err
		}
	}
	return wb.Flush()
}

// BenchmarkAdmit measures what the free-space check adds to a group of
// one turn (see BenchmarkCommit for the whole commit): the batch's size,
// and a statfs every 100 ms. The admitted bytes are reset so that every
// batch fits.
func BenchmarkAdmit(b *testing.B) {
	s, err := newSpace(b.TempDir(), slog.New(slog.DiscardHandler))
	if err != nil {
		b.Fatal(err)
	}
	r := &request{batch: turn("bench/1", 1), done: make(chan error, 1)}
	group := []*request{r}
	for b.Loop() {
		s.admitted = 0
		if len(s.admit(group)) != 1 {
			b.Fatal(<-r.done)
		}
	}
}
