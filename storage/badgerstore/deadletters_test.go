package badgerstore

import (
	"testing"

	"github.com/dgraph-io/badger/v4"

	"github.com/wactor/wactor/storage"
)

func deadLetter(id string, payload string) storage.DeadLetter {
	return storage.DeadLetter{Message: storage.Message{ID: id, Target: "x/1", Method: "m", Payload: []byte(payload)}, Error: "trapped: " + id}
}

// A store written before the totals key existed counts its letters once,
// then keeps the totals up to date from there.
func TestDeadStatsCountedWhenMissing(t *testing.T) {
	s := openTest(t)
	a, b, c := deadLetter("m1", "aaaa"), deadLetter("m2", "bb"), deadLetter("m3", "c")
	if err := s.Commit(t.Context(), &storage.Batch{DeadLetters: []storage.DeadLetter{a, b}}); err != nil {
		t.Fatal(err)
	}
	if err := s.db.Update(func(txn *badger.Txn) error { return txn.Delete(deadStatsKey) }); err != nil {
		t.Fatal(err)
	}
	want := storage.DeadLetterStats{Count: 2, Bytes: a.Size() + b.Size()}
	if st, err := s.DeadLetterStats(t.Context()); err != nil || st != want {
		t.Fatalf("DeadLetterStats without the totals key = %+v, %v; want %+v", st, err, want)
	}
	err := s.Commit(t.Context(), &storage.Batch{DeadLetters: []storage.DeadLetter{c}, DeadLetterCap: storage.DeadLetterCap{Count: 2}})
	if err != nil {
		t.Fatal(err)
	}
	want = storage.DeadLetterStats{Count: 2, Bytes: b.Size() + c.Size(), Dropped: 1}
	if st, err := s.DeadLetterStats(t.Context()); err != nil || st != want {
		t.Fatalf("DeadLetterStats = %+v, %v; want %+v", st, err, want)
	}
}

// Batches that share one write each see the letters and totals of those
// before them.
func TestDeadLettersInOneGroup(t *testing.T) {
	s := openTest(t)
	capped := storage.DeadLetterCap{Count: 2}
	errs := writeGroup(s,
		&storage.Batch{DeadLetters: []storage.DeadLetter{deadLetter("m1", "1"), deadLetter("m2", "2")}, DeadLetterCap: capped},
		&storage.Batch{DeadLetters: []storage.DeadLetter{deadLetter("m3", "3")}, DeadLetterCap: capped},
		&storage.Batch{ClearDeadLetters: []string{"m2"}, DeadLetters: []storage.DeadLetter{deadLetter("m4", "4")}, DeadLetterCap: capped},
	)
	for i, err := range errs {
		if err != nil {
			t.Fatalf("batch %d: %v", i, err)
		}
	}
	list, err := s.DeadLetters(t.Context(), "", 10)
	if err != nil || len(list) != 2 || list[0].Message.ID != "m3" || list[1].Message.ID != "m4" {
		t.Fatalf("DeadLetters = %+v, %v; want m3, m4", list, err)
	}
	want := storage.DeadLetterStats{Count: 2, Bytes: list[0].Size() + list[1].Size(), Dropped: 1}
	if st, err := s.DeadLetterStats(t.Context()); err != nil || st != want {
		t.Fatalf("DeadLetterStats = %+v, %v; want %+v", st, err, want)
	}
}
