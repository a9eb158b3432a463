package host_test

import (
	"context"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/wactor/wactor/abi"
	"github.com/wactor/wactor/host"
	"github.com/wactor/wactor/internal/testwasm"
	"github.com/wactor/wactor/storage"
	"github.com/wactor/wactor/storage/memstore"
)

// TestTellsKeepOrderAndApplyOnce sends tells from several senders at once
// to a few actors, fast enough that their turns queue and commit in
// groups, over a quick store (the in-memory one) and a slow one (which
// hands every commit to the pipeline). Each sender's tells set its own
// key to 0, 1, 2, ... in order, and add to a counter: every key ends at
// its sender's last value (per-sender order), every counter at the number
// of adds sent to it, the outbox is empty (each turn consumed its own
// message, once), and a second host over the same store, which delivers
// whatever the outbox still holds, changes nothing.
func TestTellsKeepOrderAndApplyOnce(t *testing.T) {
	for _, tc := range []struct {
		name  string
		store func() storage.Store
	}{
		{"memstore", func() storage.Store { return memstore.New() }},
		{"slow", func() storage.Store { return newHeldStore() }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			store := tc.store()
			types := []host.TypeConfig{
				{Name: "conf", Module: testwasm.C(t, "conformance"), Mailbox: 1 << 14, AskTimeout: time.Minute},
				{Name: "counter", Module: testwasm.C(t, "counter"), Mailbox: 1 << 14, AskTimeout: time.Minute},
			}
			h := newHost(t, store, types...)
			ctx := context.Background()
			const senders, each, actors = 4, 150, 3
			var wg sync.WaitGroup
			for s := range senders {
				wg.Add(1)
				go func() {
					defer wg.Done()
					key := "k" + strconv.Itoa(s)
					for i := range each {
						to := strconv.Itoa(i % actors)
						if !assert.NoError(t, h.Tell(ctx, abi.Ref{Type: "conf", ID: to}, "set", cborOf(t, M{"key": key, "value": i}))) {
							return
						}
						if !assert.NoError(t, h.Tell(ctx, abi.Ref{Type: "counter", ID: to}, "add", addPayload)) {
							return
						}
					}
				}()
			}
			wg.Wait()
			check := func(h *host.Host) {
				t.Helper()
				adds := 0
				for a := range actors {
					id := strconv.Itoa(a)
					// Each get queues behind the tells to its actor.
					n := mustCall(t, h, "counter/"+id, "get", nil)["n"]
					for s := range senders {
						// The last i of this sender to this actor.
						last := each - 1 - (each-1-a)%actors
						got := mustCall(t, h, "conf/"+id, "get", M{"key": "k" + strconv.Itoa(s)})["value"]
						assert.EqualValues(t, last, got, "conf/%s, sender %d", id, s)
					}
					adds += int(n.(uint64))
				}
				assert.Equal(t, senders*each, adds)
				left, err := store.Outbox(ctx)
				require.NoError(t, err)
				assert.Empty(t, left, "outbox entries left after every turn committed")
			}
			check(h)
			closeHost(t, h)
			check(newHost(t, store, types...))
		})
	}
}
