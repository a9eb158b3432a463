//go:build unix

package badgerstore

import (
	"fmt"
	"os"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/wactor/wactor/storage"
)

// fillValue sets v, and everything in it, to a value that holds at least
// n bytes of strings and byte slices: a string or []byte of n bytes, a
// slice, map or pointer with one such element. It reports false for a
// kind it does not know.
func fillValue(v reflect.Value, n int) bool {
	switch v.Kind() {
	case reflect.String:
		v.SetString(strings.Repeat("s", n))
	case reflect.Slice:
		if v.Type().Elem().Kind() == reflect.Uint8 {
			v.SetBytes(make([]byte, n))
			return true
		}
		v.Set(reflect.MakeSlice(v.Type(), 1, 1))
		return fillValue(v.Index(0), n)
	case reflect.Map:
		k, e := reflect.New(v.Type().Key()).Elem(), reflect.New(v.Type().Elem()).Elem()
		if !fillValue(k, n) || !fillValue(e, n) {
			return false
		}
		v.Set(reflect.MakeMap(v.Type()))
		v.SetMapIndex(k, e)
	case reflect.Pointer:
		v.Set(reflect.New(v.Type().Elem()))
		return fillValue(v.Elem(), n)
	case reflect.Struct:
		if v.Type() == reflect.TypeFor[time.Time]() {
			v.Set(reflect.ValueOf(time.Unix(1, 0)))
			return true
		}
		for i := range v.NumField() {
			if !fillValue(v.Field(i), n) {
				return false
			}
		}
	case reflect.Int, reflect.Int64, reflect.Uint64:
		// numbers take no more room than their encoding's fixed part
	case reflect.Bool:
		v.SetBool(true)
	default:
		return false
	}
	return true
}

// Every field of storage.Batch that holds bytes is counted by batchCost:
// a field added to Batch and written by add fails here until batchCost
// counts it.
func TestBatchCostCountsEveryField(t *testing.T) {
	const n = 10_000
	base := batchCost(&storage.Batch{}).disk
	typ := reflect.TypeFor[storage.Batch]()
	for i := range typ.NumField() {
		f := typ.Field(i)
		var b storage.Batch
		if !fillValue(reflect.ValueOf(&b).Elem().Field(i), n) {
			t.Errorf("Batch.%s: the test cannot fill a %s; teach fillValue", f.Name, f.Type)
			continue
		}
		if f.Type.Kind() == reflect.Uint64 || f.Type.Kind() == reflect.Bool || f.Type == reflect.TypeFor[storage.DeadLetterCap]() {
			continue // Version, ConsumeOnce; the cap holds no bytes (batchCost counts its drops from the letters added)
		}
		if f.Name == "Fence" {
			continue // a fenced batch is refused (ErrNoLeases): nothing of it is written
		}
		if got := batchCost(&b).disk; got < base+n {
			t.Errorf("Batch.%s holding %d bytes: batchCost %d, want at least %d", f.Name, n, got, base+n)
		}
	}
}

// batchCost bounds what a commit adds to badger's logs on disk, for a
// batch that sets and deletes state, sends, records, sets and cancels
// reminders and keeps dead letters, with values kept in the tree and in
// the value log.
func TestBatchCostBoundsTheWrite(t *testing.T) {
	dir := t.TempDir()
	s, err := Open(dir, DefaultOptions())
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	ctx := t.Context()
	for i, size := range []int{10, 4 << 10, 200 << 10, 1<<20 + 1} {
		val := make([]byte, size)
		b := storage.Batch{
			Actor: "a/1", Version: uint64(i),
			Puts:     map[string][]byte{"k1": val, "k2": val},
			Deletes:  []string{"gone"},
			Send:     []storage.Message{{ID: fmt.Sprint("m", i), Target: "a/2", Sender: "a/1", Method: "m", Payload: val, Key: "key"}},
			Consumed: []string{fmt.Sprint("m", i-1)},
			Records:  []storage.Record{{Key: fmt.Sprint("r", i), Reply: val, Expires: time.Now().Add(time.Hour)}},
			Reminders: []storage.Reminder{{Actor: "a/1", Name: "r", Method: "m", Payload: val,
				Schedule: []byte("every"), Due: time.Now().Add(time.Hour), Missed: "skip"}},
			CancelReminders:  []string{"gone"},
			DeadLetters:      []storage.DeadLetter{{Message: storage.Message{ID: fmt.Sprint("d", i), Target: "a/1", Payload: val}, Error: "e", Attempts: 3, At: time.Now()}},
			ClearDeadLetters: []string{fmt.Sprint("d", i-1)},
		}
		before := logsOnDisk(t, dir)
		if err := s.Commit(ctx, &b); err != nil {
			t.Fatalf("values of %d bytes: %v", size, err)
		}
		grew, bound := logsOnDisk(t, dir)-before, batchCost(&b).disk
		t.Logf("values of %d bytes: grew %d, bound %d", size, grew, bound)
		if grew > bound {
			t.Errorf("values of %d bytes: the logs grew by %d bytes, batchCost says %d", size, grew, bound)
		}
	}
}

// logsOnDisk returns the disk space badger's logs in dir take.
func logsOnDisk(t *testing.T, dir string) int64 {
	t.Helper()
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var n int64
	for _, e := range entries {
		if strings.HasSuffix(e.Name(), ".mem") || strings.HasSuffix(e.Name(), ".vlog") {
			fi, err := e.Info()
			if err != nil {
				t.Fatal(err)
			}
			n += allocated(fi)
		}
	}
	return n
}
