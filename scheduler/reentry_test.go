package scheduler

import (
	"context"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/wactor/wactor/abi"
)

// reWorld is an Activator whose type "r" is reentrant and whose other
// types are not.
type reWorld struct {
	s  *Scheduler
	do behaviour
}

func (w *reWorld) TypeOptions(typ string) (TypeOptions, error) {
	return TypeOptions{Reentrant: typ == "r"}, nil
}

func (w *reWorld) Activate(_ context.Context, ref abi.Ref) (Actor, error) {
	return &reActor{w: w, ref: ref}, nil
}

type reActor struct {
	w   *reWorld
	ref abi.Ref
}

type nestedKey struct{}

func (a *reActor) Receive(ctx context.Context, m *Message) ([]byte, error) {
	return a.w.do(ctx, a.w.s, a.ref, m)
}

func (a *reActor) ReceiveNested(ctx context.Context, m *Message) ([]byte, error) {
	return a.w.do(context.WithValue(ctx, nestedKey{}, goroutineID()), a.w.s, a.ref, m)
}

func (*reActor) Deactivate(context.Context) {}

func newReWorld(t *testing.T, d Dispatch, do behaviour) *reWorld {
	t.Helper()
	w := &reWorld{do: do}
	w.s = newClosedAtEnd(t, w, d)
	return w
}

// chainAsker asks along the chain its payload lists ("r/a,t/b,r/a"), and
// the last actor answers with its id and whether its turn ran nested.
// A nested turn checks that it runs on the goroutine of the turn it nests
// in (the goroutine that asked, in the waiting turn, is the one whose ctx
// it got), except with Deterministic dispatch, where all run on one.
func chainAsker(ctx context.Context, s *Scheduler, self abi.Ref, m *Message) ([]byte, error) {
	g, nested := ctx.Value(nestedKey{}).(string)
	if nested {
		if waiter, _ := ctx.Value(waiterKey{}).(string); waiter != "" && waiter != g {
			return nil, abi.NewError("wrong_goroutine", "nested turn on goroutine "+g+", its waiting turn on "+waiter)
		}
	}
	if len(m.Payload) == 0 {
		if nested {
			return []byte("nested " + self.ID), nil
		}
		return []byte("leaf " + self.ID), nil
	}
	first, rest, _ := strings.Cut(string(m.Payload), ",")
	target, err := abi.ParseRef(first)
	if err != nil {
		return nil, err
	}
	ctx = context.WithValue(ctx, waiterKey{}, goroutineID())
	ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	return s.Ask(ctx, &Message{Target: target, Sender: self, Method: "m", Payload: []byte(rest)})
}

type waiterKey struct{}

var reDispatches = map[string]Dispatch{"goroutines": Goroutines, "pool": {Workers: 2}, "deterministic": {Deterministic: true}}

func TestReentrantAskNests(t *testing.T) {
	over := strings.Repeat("r/a,", abi.MaxNesting+1)
	tests := []struct {
		name, to, chain, want, err string
	}{
		{"self", "r/a", "r/a", "nested a", ""},
		{"two", "r/a", "t/b,r/a", "nested a", ""},
		{"three", "r/a", "t/b,t/c,r/a", "nested a", ""},
		{"twice, nested in nested", "r/a", "t/b,r/a,t/c,r/a", "nested a", ""},
		{"two reentrant", "r/a", "r/b,r/a,r/b", "nested b", ""},
		{"at the depth limit", "r/a", strings.Repeat("r/a,", abi.MaxNesting), "nested a", ""},
		{"over the depth limit", "r/a", over[:len(over)-1], "", "over the limit of 16"},
		{"plain cycle", "t/a", "t/b,t/a", "", "ask cycle: t/b -> t/a -> t/b"},
		{"plain actor in a reentrant chain", "r/a", "t/b,t/c,t/b", "", "ask cycle: t/c -> t/b -> t/c"},
		{"no cycle", "r/a", "t/b", "leaf b", ""},
	}
	for dname, d := range reDispatches {
		t.Run(dname, func(t *testing.T) {
			w := newReWorld(t, d, chainAsker)
			for _, tt := range tests {
				t.Run(tt.name, func(t *testing.T) {
					to, err := abi.ParseRef(tt.to)
					require.NoError(t, err)
					start := time.Now()
					got, err := ask(t, w.s, to, tt.chain)
					if tt.err != "" {
						require.ErrorIs(t, err, abi.ErrDeadlock)
						assert.Contains(t, err.Error(), tt.err)
						assert.Less(t, time.Since(start), 4*time.Second, "the cycle must fail before the ask timeout")
						return
					}
					require.NoError(t, err)
					assert.Equal(t, tt.want, string(got))
				})
			}
			// The wait-for graph is empty again: every nested wait was undone.
			w.s.waitMu.Lock()
			assert.Empty(t, w.s.waits)
			w.s.waitMu.Unlock()
		})
	}
}

// Only asks on the waiting turn's call chain nest. An ask from outside
// waits for the turn; so does an unrelated actor's; and an unrelated turn
// of the actor the waiting turn asks, which asks back, gets deadlock
// (it is not on the chain, and the waiting turn's ask is queued behind it).
func TestReentrantOnlyOnChain(t *testing.T) {
	for _, dname := range []string{"goroutines", "pool"} {
		t.Run(dname, func(t *testing.T) {
			var mu sync.Mutex
			var order []string
			note := func(s string) {
				mu.Lock()
				order = append(order, s)
				mu.Unlock()
			}
			holding, release := make(chan struct{}), make(chan struct{})
			bAsked := make(chan error, 1)
			w := newReWorld(t, reDispatches[dname], func(ctx context.Context, s *Scheduler, self abi.Ref, m *Message) ([]byte, error) {
				actx, cancel := context.WithTimeout(ctx, 5*time.Second)
				defer cancel()
				switch self.String() + " " + string(m.Payload) {
				case "r/a outer":
					// Waits on t/b, which is busy with hold.
					reply, err := s.Ask(actx, &Message{Target: abi.Ref{Type: "t", ID: "b"}, Sender: self, Payload: []byte("inner")})
					note("outer done")
					return reply, err
				case "t/b hold":
					close(holding)
					<-release
					_, err := s.Ask(actx, &Message{Target: abi.Ref{Type: "r", ID: "a"}, Sender: self, Payload: []byte("from b")})
					bAsked <- err
					return nil, nil
				case "t/b inner":
					return []byte("inner ok"), nil
				case "t/c ask a":
					return s.Ask(actx, &Message{Target: abi.Ref{Type: "r", ID: "a"}, Sender: self, Payload: []byte("from c")})
				}
				note(self.String() + " " + string(m.Payload))
				_, nested := ctx.Value(nestedKey{}).(string)
				if nested {
					return []byte("nested"), nil
				}
				return []byte("turn"), nil
			})
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			b, a, c := abi.Ref{Type: "t", ID: "b"}, abi.Ref{Type: "r", ID: "a"}, abi.Ref{Type: "t", ID: "c"}
			require.NoError(t, w.s.Tell(ctx, &Message{Target: b, Payload: []byte("hold")}))
			<-holding
			var wg sync.WaitGroup
			var outer, outside, fromC []byte
			var outerErr, outsideErr, cErr error
			wg.Add(1)
			go func() {
				defer wg.Done()
				outer, outerErr = w.s.Ask(ctx, &Message{Target: a, Payload: []byte("outer")})
			}()
			// Wait until a's turn waits on b.
			require.Eventually(t, func() bool {
				w.s.waitMu.Lock()
				defer w.s.waitMu.Unlock()
				return w.s.waits[a] == b
			}, 5*time.Second, time.Millisecond)
			wg.Add(2)
			go func() {
				defer wg.Done()
				outside, outsideErr = w.s.Ask(ctx, &Message{Target: a, Payload: []byte("outside")})
			}()
			go func() {
				defer wg.Done()
				fromC, cErr = w.s.Ask(ctx, &Message{Target: c, Payload: []byte("ask a")})
			}()
			time.Sleep(50 * time.Millisecond) // they would run now if they nested
			close(release)
			require.ErrorIs(t, <-bAsked, abi.ErrDeadlock, "b's unrelated turn is not on a's chain")
			wg.Wait()
			require.NoError(t, outerErr)
			assert.Equal(t, "inner ok", string(outer))
			require.NoError(t, outsideErr)
			assert.Equal(t, "turn", string(outside))
			require.NoError(t, cErr)
			assert.Equal(t, "turn", string(fromC))
			mu.Lock()
			defer mu.Unlock()
			require.Len(t, order, 3)
			assert.Equal(t, "outer done", order[0], "the others ran after the turn, not in it: %v", order)
			assert.ElementsMatch(t, []string{"r/a outside", "r/a from c"}, order[1:])
		})
	}
}

// A nested ask that was handed over but not run when the waiting turn's
// ask ended (it timed out) runs later as a turn of its own.
func TestReentrantHandedOverAfterWaitEnds(t *testing.T) {
	w := newReWorld(t, Goroutines, nil)
	a := abi.Ref{Type: "r", ID: "a"}
	act, err := w.s.activation(a)
	require.NoError(t, err)
	m := &Message{Target: a, Method: "m", reply: make(chan result, 1), asker: abi.Ref{Type: "t", ID: "x"}}
	outer := &Message{}
	m.up = outer
	act.mu.Lock()
	act.nestWake = make(chan struct{}, 1)
	act.waitingOn, act.waitCtx = outer, context.Background()
	act.mu.Unlock()
	_, nested, err := w.s.nest(m)
	require.NoError(t, err)
	require.True(t, nested)
	act.mu.Lock()
	act.running = true // as if its turn ran; the queue is not dispatched here
	act.mu.Unlock()
	act.endWait()
	act.mu.Lock()
	defer act.mu.Unlock()
	assert.Equal(t, []*Message{m}, act.queue, "the handed-over ask is first in the mailbox")
	assert.Empty(t, act.suspended)
	assert.Nil(t, act.pending)
	assert.Nil(t, act.waitingOn)
	act.queue, act.running = nil, false
}

// AskNested runs only an ask that nests; any other it leaves unsent.
func TestAskNestedOnlyNests(t *testing.T) {
	var s *Scheduler
	type outcome struct {
		reply  string
		nested bool
		err    error
	}
	results := make(chan outcome, 2)
	w := newReWorld(t, Goroutines, func(ctx context.Context, s *Scheduler, self abi.Ref, m *Message) ([]byte, error) {
		switch string(m.Payload) {
		case "start": // r/a asks t/b, which tries both asks
			return s.Ask(ctx, &Message{Target: abi.Ref{Type: "t", ID: "b"}, Sender: self, Payload: []byte("try")})
		case "try":
			for _, to := range []abi.Ref{{Type: "t", ID: "c"}, {Type: "r", ID: "a"}} {
				reply, nested, err := s.AskNested(ctx, &Message{Target: to, Sender: self, Payload: []byte("leaf")})
				results <- outcome{string(reply), nested, err}
			}
			return []byte("tried"), nil
		}
		return []byte("leaf " + self.String()), nil
	})
	s = w.s
	got, err := ask(t, s, abi.Ref{Type: "r", ID: "a"}, "start")
	require.NoError(t, err)
	assert.Equal(t, "tried", string(got))
	assert.Equal(t, outcome{}, <-results, "t/c is not waiting on the chain: nothing sent")
	assert.Equal(t, outcome{reply: "leaf r/a", nested: true}, <-results)
	assert.False(t, s.Active(abi.Ref{Type: "t", ID: "c"}), "the ask to t/c was never sent")
	_, nested, err := s.AskNested(context.Background(), &Message{Target: abi.Ref{Type: "r", ID: "a"}})
	assert.False(t, nested, "an ask from outside never nests")
	assert.NoError(t, err)
}
