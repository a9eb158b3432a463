//go:build linux

package badgerstore_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
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
	acked, err := fillUntil(ctx, s, actor, version, 256<<10)
	if err != nil {
		t.Fatal(err)
	}
	return acked
}

// fillUntil is fill for any goroutine: it returns its failure. Values are
// of size bytes, and every fourth one of 1 MiB and more, which badger
// keeps in its value log.
func fillUntil(ctx context.Context, s storage.Store, actor string, version uint64, size int) (map[string][]byte, error) {
	acked := make(map[string][]byte)
	deadline := time.Now().Add(time.Minute)
	for i := 0; ; i++ {
		if i == 200 || time.Now().After(deadline) {
			return acked, fmt.Errorf("%s: %d commits in %v and the 16 MiB disk is not full", actor, i, time.Minute)
		}
		n := size
		if i%4 == 3 {
			n = 1<<20 + 1
		}
		key := fmt.Sprint("k", i)
		v := value(i, n)
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
			states[w], err = fillUntil(ctx, s, fmt.Sprint("w/", w), 0, 64<<10)
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
