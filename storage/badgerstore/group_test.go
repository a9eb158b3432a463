package badgerstore

import (
	"bytes"
	"errors"
	"fmt"
	"testing"

	"github.com/wactor/wactor/storage"
)

func openTest(t *testing.T) *Store {
	t.Helper()
	s, err := Open(t.TempDir(), Options{})
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	t.Cleanup(func() {
		if err := s.Close(); err != nil {
			t.Errorf("Close: %v", err)
		}
	})
	return s
}

// writeGroup writes batches as one group, as the committer does, and
// returns each one's outcome.
func writeGroup(s *Store, batches ...*storage.Batch) []error {
	reqs := make([]*request, len(batches))
	for i, b := range batches {
		reqs[i] = &request{batch: b, done: make(chan error, 1)}
	}
	s.write(reqs)
	errs := make([]error, len(reqs))
	for i, r := range reqs {
		errs[i] = <-r.done
	}
	return errs
}

// bigBatch returns a batch for actor whose puts fill about a fraction of a
// badger transaction.
func bigBatch(s *Store, actor string, fraction float64) *storage.Batch {
	const valueSize = 64 << 10
	n := int(fraction*float64(s.db.MaxBatchSize())) / valueSize
	puts := make(map[string][]byte, n)
	for i := range n {
		puts[fmt.Sprintf("k%04d", i)] = make([]byte, valueSize)
	}
	return &storage.Batch{Actor: actor, Puts: puts}
}

func checkErrs(t *testing.T, got []error, want ...error) {
	t.Helper()
	for i := range want {
		if !errors.Is(got[i], want[i]) {
			t.Errorf("batch %d: got %v, want %v", i, got[i], want[i])
		}
	}
}

func checkWrites(t *testing.T, s *Store, batches, writes uint64) {
	t.Helper()
	if got := s.batches.Load(); got != batches {
		t.Errorf("applied %d batches, want %d", got, batches)
	}
	if got := s.writes.Load(); got != writes {
		t.Errorf("made %d badger writes, want %d", got, writes)
	}
}

func TestGroupSharesOneWrite(t *testing.T) {
	s := openTest(t)
	errs := writeGroup(s,
		&storage.Batch{Actor: "a", Version: 0, Puts: map[string][]byte{"k": []byte("1")}},
		&storage.Batch{Actor: "a", Version: 1, Puts: map[string][]byte{"k": []byte("2")}},
		&storage.Batch{Actor: "a", Version: 1, Puts: map[string][]byte{"k": []byte("lost")}, Send: []storage.Message{{ID: "lost"}}},
		&storage.Batch{Actor: "b", Version: 0, Deletes: []string{"x"}},
		&storage.Batch{Send: []storage.Message{{ID: "m", Target: "a"}}},
	)
	checkErrs(t, errs, nil, nil, storage.ErrVersionConflict, nil, nil)
	checkWrites(t, s, 4, 1)

	snap, err := s.Load(t.Context(), "a")
	if err != nil {
		t.Fatalf("Load: %v", err)
	}
	if snap.Version != 2 || string(snap.State["k"]) != "2" {
		t.Errorf("Load(a) = version %d, k=%q; want version 2, k=%q", snap.Version, snap.State["k"], "2")
	}
	msgs, err := s.Outbox(t.Context())
	if err != nil {
		t.Fatalf("Outbox: %v", err)
	}
	if len(msgs) != 1 || msgs[0].ID != "m" {
		t.Errorf("Outbox() = %v, want only message m", msgs)
	}
}

func TestGroupSplitsWhenTooBig(t *testing.T) {
	s := openTest(t)
	var batches []*storage.Batch
	for i := range 6 {
		batches = append(batches, bigBatch(s, fmt.Sprintf("big/%d", i), 0.35))
	}
	checkErrs(t, writeGroup(s, batches...), nil, nil, nil, nil, nil, nil)
	checkWrites(t, s, 6, 3)
	for _, b := range batches {
		snap, err := s.Load(t.Context(), b.Actor)
		if err != nil {
			t.Fatalf("Load: %v", err)
		}
		if snap.Version != 1 || len(snap.State) != len(b.Puts) {
			t.Errorf("Load(%q) = version %d with %d keys, want version 1 with %d", b.Actor, snap.Version, len(snap.State), len(b.Puts))
		}
	}
}

func TestBatchTooLarge(t *testing.T) {
	s := openTest(t)
	huge := bigBatch(s, "huge", 1.1)
	huge.Send = []storage.Message{{ID: "huge"}}
	errs := writeGroup(s,
		&storage.Batch{Actor: "a", Puts: map[string][]byte{"k": []byte("v")}},
		huge,
		&storage.Batch{Actor: "b", Puts: map[string][]byte{"k": []byte("v")}},
	)
	checkErrs(t, errs, nil, ErrBatchTooLarge, nil)
	checkWrites(t, s, 2, 2)

	if err := s.Commit(t.Context(), huge); !errors.Is(err, ErrBatchTooLarge) {
		t.Errorf("Commit: got %v, want %v", err, ErrBatchTooLarge)
	}
	for actor, want := range map[string]uint64{"a": 1, "b": 1, "huge": 0} {
		snap, err := s.Load(t.Context(), actor)
		if err != nil {
			t.Fatalf("Load: %v", err)
		}
		if snap.Version != want {
			t.Errorf("Load(%q).Version = %d, want %d", actor, snap.Version, want)
		}
	}
	msgs, err := s.Outbox(t.Context())
	if err != nil {
		t.Fatalf("Outbox: %v", err)
	}
	if len(msgs) != 0 {
		t.Errorf("Outbox() = %v, want none", msgs)
	}
}

func TestDecodeMessage(t *testing.T) {
	enc := encodeMessage(storage.Message{ID: "id", Target: "t/1", Method: "m", Payload: []byte{0, 1}})
	for _, b := range [][]byte{nil, {0}, {messageFormat, 5, 'a'}, {messageFormat, 0xff}, enc[:4]} {
		if _, err := decodeMessage("id", b); err == nil {
			t.Errorf("decodeMessage(%q): got no error", b)
		}
	}
}

func FuzzMessage(f *testing.F) {
	f.Add("t/1", "", "m", []byte{0, 1}, "")
	f.Add("", "s\x00/1", "", []byte(nil), "")
	f.Add("t/1", "", "m", []byte{0, 1}, "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01")
	f.Fuzz(func(t *testing.T, target, sender, method string, payload []byte, trace string) {
		want := storage.Message{ID: "id", Target: target, Sender: sender, Method: method, Payload: payload, Trace: trace}
		enc := encodeMessage(want)
		got, err := decodeMessage("id", enc)
		if err != nil || got.ID != want.ID || got.Target != target || got.Sender != sender || got.Method != method || !bytes.Equal(got.Payload, payload) || got.Trace != trace {
			t.Fatalf("decodeMessage(encodeMessage(%+v)) = %+v, %v", want, got, err)
		}
		for i := range enc {
			decodeMessage("id", enc[:i]) // must not panic
		}
	})
}
