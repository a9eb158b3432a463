package badgerstore_test

import (
	"log/slog"
	"testing"

	"go.uber.org/goleak"

	"github.com/wactor/wactor/storage"
	"github.com/wactor/wactor/storage/badgerstore"
	"github.com/wactor/wactor/storage/storagetest"
)

func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}

// open opens a store in dir that logs badger's warnings and errors to t and
// is closed when t ends.
func open(t *testing.T, dir string, opts badgerstore.Options) *badgerstore.Store {
	t.Helper()
	opts.Logger = slog.New(slog.NewTextHandler(t.Output(), &slog.HandlerOptions{Level: slog.LevelWarn}))
	s, err := badgerstore.Open(dir, opts)
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

func TestConformance(t *testing.T) {
	for _, tt := range []struct {
		name string
		sync bool
	}{{"sync", true}, {"nosync", false}} {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			opts := badgerstore.DefaultOptions()
			opts.Sync = tt.sync
			storagetest.Run(t, func(t *testing.T) storage.Store { return open(t, t.TempDir(), opts) })
		})
	}
}

func TestReopen(t *testing.T) {
	storagetest.RunReopen(t, func(t *testing.T, dir string) storage.Store {
		return open(t, dir, badgerstore.DefaultOptions())
	})
}
