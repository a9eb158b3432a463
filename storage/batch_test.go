package storage_test

import (
	"context"
	"reflect"
	"testing"
	"time"

	"github.com/wactor/wactor/storage"
	"github.com/wactor/wactor/storage/memstore"
)

// TestMergeIsSequential commits two batches one after the other in one
// store and merged in another, and checks that both stores end the same:
// state, outbox, records and reminders.
func TestMergeIsSequential(t *testing.T) {
	ctx := context.Background()
	due := time.Unix(1_900_000_000, 0)
	rem := func(name, method string) storage.Reminder {
		return storage.Reminder{Actor: "a/1", Name: name, Method: method, Due: due}
	}
	first := func() *storage.Batch {
		return &storage.Batch{Actor: "a/1", Version: 1,
			Puts:            map[string][]byte{"x": []byte("1"), "y": []byte("1"), "z": []byte("1")},
			Deletes:         []string{"w", "v"},
			Send:            []storage.Message{{ID: "m1", Target: "b/1", Method: "m"}},
			Records:         []storage.Record{{Key: "k1", Reply: []byte("r1"), Expires: due}},
			Reminders:       []storage.Reminder{rem("r1", "first"), rem("r2", "first")},
			CancelReminders: []string{"r3", "r4"},
		}
	}
	second := func() *storage.Batch {
		return &storage.Batch{Actor: "a/1", Version: 2,
			Puts:            map[string][]byte{"x": []byte("2"), "w": []byte("2")},
			Deletes:         []string{"y"},
			Send:            []storage.Message{{ID: "m2", Target: "b/1", Method: "m"}},
			Consumed:        []string{"m1"},
			Records:         []storage.Record{{Key: "k2", Reply: []byte("r2"), Expires: due}},
			Reminders:       []storage.Reminder{rem("r3", "second")},
			CancelReminders: []string{"r1"},
		}
	}
	seed := &storage.Batch{Actor: "a/1", Puts: map[string][]byte{"v": []byte("0"), "w": []byte("0")},
		Reminders: []storage.Reminder{rem("r4", "seed")}}

	oneByOne, merged := memstore.New(), memstore.New()
	for _, s := range []storage.Store{oneByOne, merged} {
		if err := s.Commit(ctx, seed); err != nil {
			t.Fatal(err)
		}
	}
	for _, b := range []*storage.Batch{first(), second()} {
		if err := oneByOne.Commit(ctx, b); err != nil {
			t.Fatal(err)
		}
	}
	b := first()
	b.Merge(second())
	if err := merged.Commit(ctx, b); err != nil {
		t.Fatal(err)
	}

	want, _ := oneByOne.Load(ctx, "a/1")
	got, _ := merged.Load(ctx, "a/1")
	if !reflect.DeepEqual(got.State, want.State) {
		t.Errorf("state %q, want %q", got.State, want.State)
	}
	if got.Version != 2 || want.Version != 3 {
		t.Errorf("versions %d merged, %d one by one; want 2 and 3", got.Version, want.Version)
	}
	wantOut, _ := oneByOne.Outbox(ctx)
	gotOut, _ := merged.Outbox(ctx)
	if !reflect.DeepEqual(gotOut, wantOut) {
		t.Errorf("outbox %v, want %v", gotOut, wantOut)
	}
	for _, k := range []string{"k1", "k2"} {
		r, ok, _ := merged.Recorded(ctx, k)
		w, _, _ := oneByOne.Recorded(ctx, k)
		if !ok || string(r) != string(w) {
			t.Errorf("record %s = %q, %v; want %q", k, r, ok, w)
		}
	}
	wantRem, _ := oneByOne.Reminders(ctx, "a/1")
	gotRem, _ := merged.Reminders(ctx, "a/1")
	if !reflect.DeepEqual(gotRem, wantRem) {
		t.Errorf("reminders %v, want %v", gotRem, wantRem)
	}
}

// TestMergeIntoEmpty: merging into a batch with nothing takes the other
// batch's actor and contents.
func TestMergeIntoEmpty(t *testing.T) {
	var b storage.Batch
	b.Merge(&storage.Batch{Actor: "a/1", Puts: map[string][]byte{"k": []byte("v")}, Deletes: []string{"d"}})
	if b.Actor != "a/1" || string(b.Puts["k"]) != "v" || len(b.Deletes) != 1 || !b.ChangesState() {
		t.Errorf("merged into empty: %+v", b)
	}
}

func TestMergeLinks(t *testing.T) {
	l := func(set, member, v string) storage.Link {
		return storage.Link{Set: set, Member: member, Value: []byte(v)}
	}
	b := &storage.Batch{Links: []storage.Link{l("s", "a", "1"), l("s", "b", "1")}, Unlinks: []storage.Link{l("s", "c", "")}}
	b.Merge(&storage.Batch{Links: []storage.Link{l("s", "c", "2")}, Unlinks: []storage.Link{l("s", "a", "")}})
	want := &storage.Batch{Links: []storage.Link{l("s", "b", "1"), l("s", "c", "2")}, Unlinks: []storage.Link{l("s", "a", "")}}
	if !reflect.DeepEqual(b.Links, want.Links) || !reflect.DeepEqual(b.Unlinks, want.Unlinks) {
		t.Fatalf("merged links %v, unlinks %v; want %v, %v", b.Links, b.Unlinks, want.Links, want.Unlinks)
	}
}
