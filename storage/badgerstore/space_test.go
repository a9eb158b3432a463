//go:build linux

package badgerstore_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/wactor/wactor/internal/smalldisk"
	"github.com/wactor/wactor/storage"
	"github.com/wactor/wactor/storage/badgerstore"
)

// TestFullDisk fills a 16 MiB tmpfs through the store: without the space
// guard badger's writes through its memory-mapped files fault (SIGBUS) and
// the test binary dies. With it, the write that does not fit fails with
// storage.ErrNoSpace, nothing acknowledged is lost, reads go on, the next
// commit after space returns succeeds, and the store reopens on the nearly
// full disk.
func TestFullDisk(t *testing.T) {
	disk := smalldisk.Mount(t, 16<<20)
	filler := smalldisk.NewFiller(t, disk)
	dir := filepath.Join(disk, "db")
	s := open(t, dir, badgerstore.DefaultOptions())
	ctx := t.Context()

	// Something else takes most of the disk; the store fills the rest.
	filler.Leave(10 << 20)
	acked := fill(t, ctx, s, "fill/1", 0)
	if len(acked) == 0 {
		t.Fatal("no commit succeeded on a disk with 10 MiB free")
	}
	checkState(t, ctx, s, "fill/1", acked)

	// Space returns: the very next commit succeeds, with no reopen.
	filler.Leave(-1)
	put := map[string][]byte{"after": value(1, 64<<10)}
	if err := s.Commit(ctx, &storage.Batch{Actor: "fill/1", Version: uint64(len(acked)), Puts: put}); err != nil {
		t.Fatalf("commit after the space returned: %v", err)
	}
	acked["after"] = put["after"]
	checkState(t, ctx, s, "fill/1", acked)

	// The store fills the disk by itself, then reopens on it: nothing
	// lost, no crash, and writes go on being refused when they do not fit.
	state := map[string]map[string][]byte{"fill/1": acked, "fill/2": fill(t, ctx, s, "fill/2", 0)}
	if err := s.Close(); err != nil {
		t.Fatalf("Close on a nearly full disk: %v", err)
	}
	s = open(t, dir, badgerstore.DefaultOptions())
	state["fill/3"] = fill(t, ctx, s, "fill/3", 0)
	for actor, want := range state {
		checkState(t, ctx, s, actor, want)
	}
	if err := s.Close(); err != nil {
		t.Fatalf("Close on a nearly full disk: %v", err)
	}

	// A disk filled by something else to the last block: Open refuses
	// with the reason instead of faulting, and opens once space returns.
	filler.Leave(0)
	if s, err := badgerstore.Open(dir, badgerstore.DefaultOptions()); !errors.Is(err, storage.ErrNoSpace) {
		if err == nil {
			s.Close()
		}
		t.Fatalf("Open on a full disk: got %v, want %v", err, storage.ErrNoSpace)
	} else {
		t.Logf("Open on a full disk: %v", err)
	}
	filler.Leave(-1)
	s = open(t, dir, badgerstore.DefaultOptions())
	for actor, want := range state {
		checkState(t, ctx, s, actor, want)
	}
}

// fill commits ever more values to actor, from version, until a commit
// fails, and returns what was acknowledged. The failure must be
// storage.ErrNoSpace; the loop is bounded in commits and time. The
// values are random so that badger's compression cannot shrink them.
func fill(t *testing.T, ctx context.Context, s storage.Store, actor string, version uint64) map[string][]byte {
	t.Helper()
	acked, err := fillUntil(ctx, s, actor, version, mixed(256<<10), 200)
	if err != nil {
		t.Fatal(err)
	}
	return acked
}

// mixed returns the sizes of values of size bytes, every fourth of 1 MiB
// and more, which badger keeps in its value log.
func mixed(size int) func(i int) int {
	return func(i int) int {
		if i%4 == 3 {
			return 1<<20 + 1
		}
		return size
	}
}

// fillUntil is fill for any goroutine: it returns its failure, and fails
// after limit commits. Value i is of size(i) bytes.
func fillUntil(ctx context.Context, s storage.Store, actor string, version uint64, size func(i int) int, limit int) (map[string][]byte, error) {
	acked := make(map[string][]byte)
	deadline := time.Now().Add(time.Minute)
	for i := 0; ; i++ {
		if i == limit || time.Now().After(deadline) {
			return acked, fmt.Errorf("%s: %d commits in %v and the disk is not full", actor, i, time.Minute)
		}
		key := fmt.Sprint("k", i)
		v := value(i, size(i))
		err := s.Commit(ctx, &storage.Batch{Actor: actor, Version: version, Puts: map[string][]byte{key: v}})
		if errors.Is(err, storage.ErrNoSpace) {
			return acked, nil
		}
		if err != nil {
			return acked, fmt.Errorf("%s: commit %d on a filling disk: got %v, want nil or %v", actor, i, err, storage.ErrNoSpace)
		}
		acked[key] = v
		version++
	}
}

// TestFullDiskConcurrent fills the disk from many goroutines at once, so
// that groups of many batches meet the full disk: each batch of a group
// is admitted against what the ones before it take.
func TestFullDiskConcurrent(t *testing.T) {
	disk := smalldisk.Mount(t, 16<<20)
	s := open(t, filepath.Join(disk, "db"), badgerstore.DefaultOptions())
	ctx := t.Context()
	const writers = 16
	states := make([]map[string][]byte, writers)
	errs := make(chan error, writers)
	for w := range writers {
		go func() {
			var err error
			states[w], err = fillUntil(ctx, s, fmt.Sprint("w/", w), 0, mixed(64<<10), 200)
			errs <- err
		}()
	}
	for range writers {
		if err := <-errs; err != nil {
			t.Error(err)
		}
	}
	for w, want := range states {
		checkState(t, ctx, s, fmt.Sprint("w/", w), want)
	}
}

// checkState fails t unless actor's state is exactly want.
func checkState(t *testing.T, ctx context.Context, s storage.Store, actor string, want map[string][]byte) {
	t.Helper()
	snap, err := s.Load(ctx, actor)
	if err != nil {
		t.Fatalf("Load %s: %v", actor, err)
	}
	if len(snap.State) != len(want) || snap.Version != uint64(len(want)) {
		t.Fatalf("%s has %d keys at version %d; want the %d acknowledged", actor, len(snap.State), snap.Version, len(want))
	}
	for k, v := range want {
		if !bytes.Equal(snap.State[k], v) {
			t.Fatalf("%s: key %s differs from what was acknowledged", actor, k)
		}
	}
}

// value returns n random bytes, the same for the same seed.
func value(seed, n int) []byte {
	v := make([]byte, n)
	r := rand.New(rand.NewPCG(uint64(seed), uint64(n)))
	for i := range v {
		v[i] = byte(r.Uint32())
	}
	return v
}

// TestFullDiskFlushes fills disks large enough for badger to flush
// memtables to tables while it fills (a memtable is 16 MiB) and, on the
// larger one, to compact five of those tables into a level below, then
// closes (which flushes the last memtable) and reopens. The reserve
// covers the tables that flushes and compactions write before they
// delete what they replace.
func TestFullDiskFlushes(t *testing.T) {
	for _, tt := range []struct {
		name    string
		disk    int64
		compact bool
	}{{"flush", 96 << 20, false}, {"compact", 256 << 20, true}} {
		t.Run(tt.name, func(t *testing.T) {
			disk := smalldisk.Mount(t, tt.disk)
			dir := filepath.Join(disk, "db")
			s := open(t, dir, badgerstore.DefaultOptions())
			ctx := t.Context()
			acked, err := fillUntil(ctx, s, "big/1", 0, func(int) int { return 128 << 10 }, 4000)
			if err != nil {
				t.Fatal(err)
			}
			// Compactions go on after the refusals: give them time, then
			// see that one happened.
			deadline := time.Now().Add(30 * time.Second)
			for tt.compact && badgerstore.TablesBelowL0(s) == 0 && time.Now().Before(deadline) {
				time.Sleep(50 * time.Millisecond)
			}
			if tt.compact && badgerstore.TablesBelowL0(s) == 0 {
				t.Errorf("no compaction after filling a %d MiB disk with %d values", tt.disk>>20, len(acked))
			}
			if err := s.Close(); err != nil {
				t.Fatalf("Close on a nearly full disk: %v", err)
			}
			var tables int
			if entries, err := os.ReadDir(dir); err == nil {
				for _, e := range entries {
					if filepath.Ext(e.Name()) == ".sst" {
						tables++
					}
				}
			}
			t.Logf("%d values acknowledged, %d tables", len(acked), tables)
			if tables < 2 {
				t.Errorf("%d tables after filling the disk: the flushes this test is for did not happen", tables)
			}
			s = open(t, dir, badgerstore.DefaultOptions())
			checkState(t, ctx, s, "big/1", acked)
		})
	}
}
