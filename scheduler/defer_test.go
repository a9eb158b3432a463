package scheduler

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/wactor/wactor/abi"
)

// TestDeferredAnswers: an actor that defers its answers runs its next
// turns at once, AwaitQueued wakes it when a message arrives, and each
// caller gets the answer given later, not what Receive returned.
func TestDeferredAnswers(t *testing.T) {
	for _, d := range []Dispatch{Goroutines, {Workers: 1}} {
		release := make(chan struct{})
		answered := make(chan struct{}, 2)
		started := make(chan struct{})
		w := newWorld(t, d, func(ctx context.Context, s *Scheduler, _ abi.Ref, m *Message) ([]byte, error) {
			switch m.Method {
			case "first":
				answer := m.Defer()
				close(started)
				go func() {
					<-release
					answer([]byte("later"), nil)
					answered <- struct{}{}
				}()
				// Wait for the second message rather than for the answer.
				if !s.AwaitQueued(ctx, release) {
					return nil, abi.NewError("no_wake", "AwaitQueued returned without a message")
				}
				return []byte("ignored"), nil
			default:
				return []byte("second, queued: " + map[bool]string{true: "yes", false: "no"}[s.Queued(ctx)]), nil
			}
		})
		ref := abi.Ref{Type: "t", ID: "1"}
		first := make(chan result, 1)
		go func() {
			p, err := w.s.Ask(context.Background(), &Message{ID: "1", Target: ref, Method: "first"})
			first <- result{p, err}
		}()
		<-started
		second, err := w.s.Ask(context.Background(), &Message{ID: "2", Target: ref, Method: "second"})
		require.NoError(t, err)
		assert.Equal(t, "second, queued: no", string(second), "the second turn ran while the first's answer was deferred")
		select {
		case r := <-first:
			t.Fatalf("first answered before its answer was released: %q %v", r.payload, r.err)
		case <-time.After(10 * time.Millisecond):
		}
		close(release)
		r := <-first
		require.NoError(t, r.err)
		assert.Equal(t, "later", string(r.payload))
		<-answered
	}
}
