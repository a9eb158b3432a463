package main

import (
	"context"
	"encoding/binary"
	"os"
	"strconv"
	"sync/atomic"
	"time"

	"github.com/dgraph-io/badger/v4"

	"github.com/wactor/wactor/abi"
	"github.com/wactor/wactor/storage/badgerstore"
)

func init() {
	measures["durable/wactor"] = durableWactor
	measures["durable/badger"] = durableBadger
	measures["durable/badger-grouped"] = durableBadgerGrouped
}

// durableWactor: sp.Callers callers, each on its own counter (or spread
// over sp.N counters when N is set), ask add for sp.Dur against
// badgerstore with Sync and group commit: each reply comes after its
// turn's commit is on disk.
func durableWactor(ctx context.Context, sp *spec) (result, error) {
	dir, err := os.MkdirTemp(sp.WorkDir, "durable-wactor-")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(dir)
	store, err := badgerstore.Open(dir, badgerstore.Options{Sync: true})
	if err != nil {
		return nil, err
	}
	defer store.Close()
	h, err := newHost(ctx, sp, store, "counter")
	if err != nil {
		return nil, err
	}
	defer h.Close(context.Background())
	actors := sp.Callers
	if sp.N > 0 {
		actors = sp.N
	}
	if err := activate(ctx, h, "counter", actors); err != nil {
		return nil, err
	}
	refs := make([]abi.Ref, actors)
	for i := range refs {
		refs[i] = abi.Ref{Type: "counter", ID: strconv.Itoa(i)}
	}
	n, d, err := forDuration(sp.Callers, sp.Dur, func(i int) error {
		_, err := h.Ask(ctx, refs[i%actors], "add", addPayload)
		return err
	})
	if err != nil {
		return nil, err
	}
	return result{"per_s": float64(n) / d.Seconds()}, nil
}

// openBadger opens a scratch badger database with badgerstore's options
// and Sync; the returned func closes and removes it.
func openBadger(sp *spec) (*badger.DB, func(), error) {
	dir, err := os.MkdirTemp(sp.WorkDir, "durable-badger-")
	if err != nil {
		return nil, nil, err
	}
	db, err := badger.Open(badger.DefaultOptions(dir).
		WithSyncWrites(true).
		WithLogger(nil).
		WithMetricsEnabled(false).
		WithDetectConflicts(false).
		WithMemTableSize(16 << 20).
		WithNumMemtables(3).
		WithBlockCacheSize(16 << 20).
		WithValueLogFileSize(64 << 20).
		WithNumCompactors(2))
	if err != nil {
		os.RemoveAll(dir)
		return nil, nil, err
	}
	return db, func() { db.Close(); os.RemoveAll(dir) }, nil
}

// turnKeys is what a counter's add commits: its state entry "n" and its
// version, with the keys badgerstore uses.
type turnKeys struct {
	state, version []byte
	v              uint64
}

func newTurnKeys(n int) []*turnKeys {
	ks := make([]*turnKeys, n)
	for i := range ks {
		a := "counter/" + strconv.Itoa(i)
		ks[i] = &turnKeys{state: stateKey(a, "n"), version: append([]byte{'v'}, a...)}
	}
	return ks
}

// next adds the entries of the actor's next turn to txn.
func (k *turnKeys) next(txn *badger.Txn) error {
	k.v++
	if err := txn.Set(k.state, abi.AppendInt(nil, int64(k.v))); err != nil {
		return err
	}
	return txn.Set(k.version, binary.BigEndian.AppendUint64(nil, k.v))
}

// durableBadger writes the entries of counter adds straight to badger from
// sp.Callers goroutines, each on its own actor: one transaction per turn
// with SyncWrites, so badger's own write pipeline batches the commits that
// arrive together into shared fsyncs.
func durableBadger(ctx context.Context, sp *spec) (result, error) {
	db, done, err := openBadger(sp)
	if err != nil {
		return nil, err
	}
	defer done()
	keys := newTurnKeys(sp.Callers)
	n, d, err := forDuration(sp.Callers, sp.Dur, func(i int) error {
		txn := db.NewTransaction(true)
		defer txn.Discard()
		if err := keys[i].next(txn); err != nil {
			return err
		}
		return txn.Commit()
	})
	if err != nil {
		return nil, err
	}
	return result{"per_s": float64(n) / d.Seconds()}, nil
}

// durableBadgerGrouped is group commit by hand with nothing else: the
// sp.Callers goroutines hand their turns to one committer, which writes
// everything waiting (up to 1,024 turns, as badgerstore) in one
// transaction, one fsync, and then answers them all. The most durable
// turns per second this disk and badger allow in this shape.
func durableBadgerGrouped(ctx context.Context, sp *spec) (result, error) {
	db, done, err := openBadger(sp)
	if err != nil {
		return nil, err
	}
	defer done()
	keys := newTurnKeys(sp.Callers)
	type req struct {
		k    *turnKeys
		done chan error
	}
	reqs := make(chan req, 1024)
	committed := make(chan struct{})
	go func() {
		defer close(committed)
		group := make([]req, 0, 1024)
		for r := range reqs {
			group = append(group[:0], r)
		drain:
			for len(group) < cap(group) {
				select {
				case r, ok := <-reqs:
					if !ok {
						break drain
					}
					group = append(group, r)
				default:
					break drain
				}
			}
			txn := db.NewTransaction(true)
			var err error
			for _, r := range group {
				if err = r.k.next(txn); err != nil {
					break
				}
			}
			if err == nil {
				err = txn.Commit()
			}
			txn.Discard()
			for _, r := range group {
				r.done <- err
			}
		}
	}()
	dones := make([]chan error, sp.Callers)
	for i := range dones {
		dones[i] = make(chan error, 1)
	}
	n, d, err := forDuration(sp.Callers, sp.Dur, func(i int) error {
		reqs <- req{k: keys[i], done: dones[i]}
		return <-dones[i]
	})
	close(reqs)
	<-committed
	if err != nil {
		return nil, err
	}
	return result{"per_s": float64(n) / d.Seconds()}, nil
}

// stateKey is badgerstore's key of an actor's state entry.
func stateKey(actor, key string) []byte {
	k := []byte{'s'}
	k = binary.AppendUvarint(k, uint64(len(actor)))
	k = append(k, actor...)
	return append(k, key...)
}

// forDuration runs op(i) in a loop in n goroutines (i is the goroutine's
// index) for about d, and returns how many ops completed and how long they
// took.
func forDuration(n int, d time.Duration, op func(i int) error) (int64, time.Duration, error) {
	var count atomic.Int64
	var stop atomic.Bool
	next := atomic.Int64{}
	start := time.Now()
	timer := time.AfterFunc(d, func() { stop.Store(true) })
	defer timer.Stop()
	err := parallel(n, func() error {
		i := int(next.Add(1) - 1)
		for !stop.Load() {
			if err := op(i); err != nil {
				stop.Store(true)
				return err
			}
			count.Add(1)
		}
		return nil
	})
	return count.Load(), time.Since(start), err
}
