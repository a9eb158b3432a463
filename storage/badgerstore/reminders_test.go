package badgerstore_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/wactor/wactor/storage"
	"github.com/wactor/wactor/storage/badgerstore"
)

// fillReminders stores n reminders due from start on, one a second, in
// batches of 1,000.
func fillReminders(tb testing.TB, s storage.Store, n int, start time.Time) {
	tb.Helper()
	for i := 0; i < n; i += 5000 {
		b := &storage.Batch{}
		for j := i; j < min(i+5000, n); j++ {
			b.Reminders = append(b.Reminders, storage.Reminder{
				Actor: fmt.Sprintf("alarm/%06d", j), Name: "r", Method: "ring",
				Schedule: []byte{0xa0}, Due: start.Add(time.Duration(j) * time.Second),
			})
		}
		if err := s.Commit(context.Background(), b); err != nil {
			tb.Fatal(err)
		}
	}
}

// With many reminders stored, the ones due soon come back through the
// index, and a reopened store finds them the same way. (BenchmarkDueReminders
// shows the cost with 100,000 stored.)
func TestDueRemindersAmongMany(t *testing.T) {
	n := 30_000
	if testing.Short() {
		n = 5_000
	}
	dir := t.TempDir()
	opts := badgerstore.DefaultOptions()
	opts.Sync = false
	s := open(t, dir, opts)
	now := time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC)
	fillReminders(t, s, n, now.Add(time.Hour))
	soon := []storage.Reminder{
		{Actor: "soon/1", Name: "a", Method: "m", Due: now.Add(time.Second)},
		{Actor: "soon/2", Name: "b", Method: "m", Due: now.Add(30 * time.Second)},
	}
	if err := s.Commit(context.Background(), &storage.Batch{Reminders: soon}); err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	s = open(t, dir, opts)
	got, err := s.DueReminders(context.Background(), now.Add(time.Minute), 1000)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 2 || got[0].Actor != "soon/1" || got[1].Actor != "soon/2" {
		t.Fatalf("DueReminders = %+v, want the two due soon", got)
	}
	page, err := s.DueReminders(context.Background(), now.Add(1000*time.Hour), 1000)
	if err != nil {
		t.Fatal(err)
	}
	if len(page) != 1000 || page[999].Actor != "alarm/000997" {
		t.Fatalf("a page of 1,000 ends with %+v", page[len(page)-1])
	}
}

// BenchmarkDueReminders measures the start-up query (what is due in the
// next minute, a page of 1,000) with many reminders stored far ahead.
func BenchmarkDueReminders(b *testing.B) {
	for _, stored := range []int{1_000, 100_000} {
		b.Run(fmt.Sprintf("stored=%d", stored), func(b *testing.B) {
			opts := badgerstore.DefaultOptions()
			opts.Sync = false
			s, err := badgerstore.Open(b.TempDir(), opts)
			if err != nil {
				b.Fatal(err)
			}
			defer s.Close()
			now := time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC)
			fillReminders(b, s, stored, now.Add(time.Hour))
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				if _, err := s.DueReminders(context.Background(), now.Add(time.Minute), 1000); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
