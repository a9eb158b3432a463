package host_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/wactor/wactor/abi"
	"github.com/wactor/wactor/storage"
	"github.com/wactor/wactor/storage/badgerstore"
	"github.com/wactor/wactor/storage/memstore"
)

// slowStore makes every commit take about an fsync, so that turns hand
// their batches to the pipeline and groups merge several turns.
type slowStore struct{ storage.Store }

func (s slowStore) Commit(ctx context.Context, b *storage.Batch) error {
	time.Sleep(200 * time.Microsecond)
	return s.Store.Commit(ctx, b)
}

// TestSparesKeepActorsApart runs writes, deletes, tells from outside and
// asks on several actors at once, on stores that pipeline and group
// commits: the map of writes and the tell batch a finished turn or tell
// leaves for the next (of any actor) must carry nothing of it, and
// nothing may still read them (the race detector watches). Each actor
// reads only its own values, and the store holds only those.
func TestSparesKeepActorsApart(t *testing.T) {
	stores := map[string]func(t *testing.T) storage.Store{
		"badger-sync": func(t *testing.T) storage.Store {
			s, err := badgerstore.Open(t.TempDir(), badgerstore.DefaultOptions())
			require.NoError(t, err)
			t.Cleanup(func() { assert.NoError(t, s.Close()) }) // after the host's
			return s
		},
		"slow-memstore": func(t *testing.T) storage.Store { return slowStore{memstore.New()} },
	}
	for name, open := range stores {
		t.Run(name, func(t *testing.T) {
			store := open(t)
			h := newHost(t, store, goType(t, "conformance"))
			ctx := context.Background()
			const actors, rounds, keys = 6, 40, 4
			value := func(a, r, k int) string { return fmt.Sprintf("a%d-r%d-k%d", a, r, k) }
			var wg sync.WaitGroup
			errs := make(chan error, actors*rounds*4)
			for a := range actors {
				ref := fmt.Sprintf("conformance/a%d", a)
				to := abi.Ref{Type: "conformance", ID: fmt.Sprintf("a%d", a)}
				wg.Add(2)
				go func() { // tells from outside: sets and deletes
					defer wg.Done()
					for r := range rounds {
						for k := range keys {
							method, p := "set", M{"key": fmt.Sprint("t", k), "value": value(a, r, k)}
							if (r+k)%5 == 0 {
								method, p = "delete", M{"key": fmt.Sprint("t", k)}
							}
							for {
								err := h.Tell(ctx, to, method, cborOf(t, p))
								if err == nil {
									break
								}
								if !errors.Is(err, abi.ErrMailboxFull) {
									errs <- err
									return
								}
								time.Sleep(time.Millisecond)
							}
						}
					}
				}()
				go func() { // asks: sets, then reads of the actor's own keys
					defer wg.Done()
					for r := range rounds {
						k := r % keys
						if _, err := call(t, h, ref, "set", M{"key": fmt.Sprint("s", k), "value": value(a, r, k)}); err != nil {
							errs <- err
							return
						}
						got, err := call(t, h, ref, "get", M{"key": fmt.Sprint("s", k)})
						if err != nil {
							errs <- err
							return
						}
						if got["value"] != value(a, r, k) {
							errs <- fmt.Errorf("%s read %v for s%d, wrote %s", ref, got["value"], k, value(a, r, k))
						}
						got, err = call(t, h, ref, "get", M{"key": fmt.Sprint("t", k)})
						if err != nil {
							errs <- err
							return
						}
						if v, ok := got["value"].(string); ok && !strings.HasPrefix(v, fmt.Sprint("a", a, "-")) {
							errs <- fmt.Errorf("%s read another actor's value %q for t%d", ref, v, k)
						}
					}
				}()
			}
			wg.Wait()
			close(errs)
			for err := range errs {
				t.Error(err)
			}
			// Every tell applied: each actor's keys hold its last round's
			// values, or were deleted by it.
			require.Eventually(t, func() bool {
				msgs, err := store.Outbox(ctx)
				return err == nil && len(msgs) == 0
			}, 30*time.Second, 10*time.Millisecond, "the tells are applied")
			for a := range actors {
				snap, err := store.Load(ctx, fmt.Sprintf("conformance/a%d", a))
				require.NoError(t, err)
				for k := range keys {
					last := rounds - 1
					if (last+k)%5 == 0 {
						assert.NotContains(t, snap.State, fmt.Sprint("t", k), "a%d deleted t%d last", a, k)
					} else {
						got := mustCall(t, h, fmt.Sprintf("conformance/a%d", a), "get", M{"key": fmt.Sprint("t", k)})
						assert.Equal(t, value(a, last, k), got["value"], "a%d's t%d", a, k)
					}
					assert.Contains(t, snap.State, fmt.Sprint("s", k))
				}
				assert.Len(t, snap.State, 2*keys-countDeleted(rounds-1, keys), "a%d holds only its own keys", a)
				got := mustCall(t, h, fmt.Sprintf("conformance/a%d", a), "get", M{"key": fmt.Sprint("s", (rounds-1)%keys)})
				assert.Equal(t, value(a, rounds-1, (rounds-1)%keys), got["value"])
			}
		})
	}
}

// countDeleted counts the keys t0..t(keys-1) that round r deletes.
func countDeleted(r, keys int) int {
	n := 0
	for k := range keys {
		if (r+k)%5 == 0 {
			n++
		}
	}
	return n
}
