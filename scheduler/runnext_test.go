package scheduler

import (
	"context"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/wactor/wactor/abi"
)

// Tokens passed round a ring by tells sent from turns (which the
// goroutines dispatch runs next on the sender's goroutine) make every
// hop, one turn at a time per node (testActor panics otherwise), and
// each node gets its predecessor's tells in the order they were sent
// (each carries the sender's count of tells sent so far).
func TestRingOfTellsFromTurns(t *testing.T) {
	for name, d := range dispatches {
		t.Run(name, func(t *testing.T) {
			const nodes, laps, tokens = 50, 20, 3
			var hops atomic.Int64
			var mu sync.Mutex
			sent := map[string]int{} // node: tells it sent
			got := map[string]int{}  // node: the sequence number of the last tell it got from its predecessor
			var disorder []string    // what came out of order
			done := make(chan struct{}, tokens)
			w := newWorld(t, d, func(ctx context.Context, s *Scheduler, self abi.Ref, m *Message) ([]byte, error) {
				leftText, seqText, _ := cut(string(m.Payload), ",")
				left, _ := strconv.Atoi(leftText)
				hops.Add(1)
				mu.Lock()
				if m.Sender.ID != "" {
					seq, _ := strconv.Atoi(seqText)
					if seq != got[self.ID]+1 {
						disorder = append(disorder, self.ID+": tell "+seqText+" after "+strconv.Itoa(got[self.ID]))
					}
					got[self.ID] = seq
				}
				if left == 0 {
					mu.Unlock()
					done <- struct{}{}
					return nil, nil
				}
				sent[self.ID]++
				seq := sent[self.ID]
				mu.Unlock()
				i, _ := strconv.Atoi(self.ID)
				next := &Message{Target: ref(strconv.Itoa((i + 1) % nodes)), Sender: self,
					Payload: []byte(strconv.Itoa(left-1) + "," + strconv.Itoa(seq))}
				return nil, s.Tell(ctx, next)
			})
			w.opts.Mailbox = 1 << 12
			for k := 0; k < tokens; k++ {
				require.NoError(t, w.s.Tell(context.Background(), &Message{Target: ref(strconv.Itoa(k)), Payload: []byte(strconv.Itoa(nodes * laps))}))
			}
			for k := 0; k < tokens; k++ {
				select {
				case <-done:
				case <-time.After(20 * time.Second):
					t.Fatalf("token %d did not come back; %d hops made", k, hops.Load())
				}
			}
			assert.EqualValues(t, tokens*(nodes*laps+1), hops.Load())
			mu.Lock()
			defer mu.Unlock()
			assert.Empty(t, disorder)
		})
	}
}

// A turn that tells an idle actor and then asks it, or waits in an ask
// on another actor that asks it, gets its answer: the told actor, handed
// to the sender's goroutine to run next, is given a goroutine of its own
// as soon as the sender's turn waits.
func TestTellThenAskFromOneTurn(t *testing.T) {
	w := newWorld(t, Goroutines, func(ctx context.Context, s *Scheduler, self abi.Ref, m *Message) ([]byte, error) {
		switch {
		case self.ID == "a" && m.IsAsk():
			if err := s.Tell(ctx, &Message{Target: ref("b"), Sender: self, Payload: []byte("told")}); err != nil {
				return nil, err
			}
			return s.Ask(ctx, &Message{Target: ref("c"), Sender: self, Method: "m", Timeout: 5 * time.Second})
		case self.ID == "c":
			return s.Ask(ctx, &Message{Target: ref("b"), Sender: self, Method: "m", Timeout: 5 * time.Second})
		}
		return []byte(self.ID + ":" + string(m.Payload)), nil
	})
	for i := 0; i < 20; i++ {
		start := time.Now()
		got, err := ask(t, w.s, ref("a"), "go")
		require.NoError(t, err)
		assert.Equal(t, "b:", string(got))
		assert.Less(t, time.Since(start), 2*time.Second, "the told actor waited for the sender's ask")
		// Let b go idle again, so that the next round hands it over anew.
		require.NoError(t, waitIdle(w.s, ref("b")))
	}
}

// waitIdle waits until ref's activation has nothing queued or running.
func waitIdle(s *Scheduler, r abi.Ref) error {
	deadline := time.Now().Add(5 * time.Second)
	for time.Now().Before(deadline) {
		s.mu.Lock()
		a := s.acts[r]
		s.mu.Unlock()
		if a == nil {
			return nil
		}
		a.mu.Lock()
		busy := a.running
		a.mu.Unlock()
		if !busy {
			return nil
		}
		time.Sleep(time.Millisecond)
	}
	return abi.NewError(abi.CodeTimeout, r.String()+" stayed busy")
}

// A turn that tells an actor it told before, after that actor's
// activation went away, reaches the actor's next activation: the
// activation a sender remembers having told (Tell's shortcut past the
// table) is not used once it has retired.
func TestTellAfterTheToldActivationRetired(t *testing.T) {
	for name, d := range dispatches {
		t.Run(name, func(t *testing.T) {
			got := make(chan string, 4)
			w := newWorld(t, d, func(ctx context.Context, s *Scheduler, self abi.Ref, m *Message) ([]byte, error) {
				if self.ID == "sender" {
					return nil, s.Tell(ctx, &Message{Target: ref("told"), Sender: self, Payload: m.Payload})
				}
				got <- string(m.Payload)
				return nil, nil
			})
			receive := func(want string) {
				t.Helper()
				select {
				case p := <-got:
					assert.Equal(t, want, p)
				case <-time.After(5 * time.Second):
					t.Fatalf("the tell %q did not arrive", want)
				}
			}
			_, err := ask(t, w.s, ref("sender"), "first")
			require.NoError(t, err)
			receive("first")
			require.True(t, w.s.Deactivate(ref("told"), ReasonRequested))
			require.Eventually(t, func() bool { return !w.s.Has(ref("told")) }, 5*time.Second, time.Millisecond)
			_, err = ask(t, w.s, ref("sender"), "second")
			require.NoError(t, err)
			receive("second")
			assert.EqualValues(t, 3, w.activations.Load()) // the sender, and the told actor twice
		})
	}
}
