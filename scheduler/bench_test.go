package scheduler

import (
	"context"
	"strconv"
	"sync"
	"testing"

	"github.com/wactor/wactor/abi"
)

// benchDispatch runs the same workloads with a goroutine per active
// mailbox and with worker pools, side by side.
var benchDispatch = []struct {
	name string
	d    Dispatch
}{
	{"goroutines", Goroutines},
	{"pool2", Dispatch{Workers: 2}},
	{"pool4", Dispatch{Workers: 4}},
}

type countActor struct{ wg *sync.WaitGroup }

func (c *countActor) Receive(_ context.Context, m *Message) ([]byte, error) {
	if c.wg != nil && !m.IsAsk() {
		c.wg.Done()
	}
	return nil, nil
}
func (c *countActor) Deactivate(context.Context) {}

type countWorld struct{ wg *sync.WaitGroup }

func (w countWorld) TypeOptions(string) (TypeOptions, error) {
	return TypeOptions{Mailbox: 1 << 20}, nil
}
func (w countWorld) Activate(context.Context, abi.Ref) (Actor, error) {
	return &countActor{wg: w.wg}, nil
}

// BenchmarkTellFanOut sends b.N tells spread over 1,000 activations and
// waits for all of them to be processed.
func BenchmarkTellFanOut(b *testing.B) {
	refs := make([]abi.Ref, 1000)
	for i := range refs {
		refs[i] = abi.Ref{Type: "t", ID: strconv.Itoa(i)}
	}
	for _, bd := range benchDispatch {
		b.Run(bd.name, func(b *testing.B) {
			var wg sync.WaitGroup
			s := New(Config{Activator: countWorld{wg: &wg}, Dispatch: bd.d, SweepInterval: -1})
			defer s.Close(context.Background())
			ctx := context.Background()
			for _, r := range refs { // activate outside the timed loop
				wg.Add(1)
				if err := s.Tell(ctx, &Message{Target: r}); err != nil {
					b.Fatal(err)
				}
			}
			wg.Wait()
			b.ResetTimer()
			wg.Add(b.N)
			for i := 0; i < b.N; i++ {
				if err := s.Tell(ctx, &Message{Target: refs[i%len(refs)]}); err != nil {
					b.Fatal(err)
				}
			}
			wg.Wait()
		})
	}
}

// BenchmarkAskRoundTrip measures one ask and its reply, from 8 callers to
// 8 activations at once.
func BenchmarkAskRoundTrip(b *testing.B) {
	for _, bd := range benchDispatch {
		b.Run(bd.name, func(b *testing.B) {
			s := New(Config{Activator: countWorld{}, Dispatch: bd.d, SweepInterval: -1})
			defer s.Close(context.Background())
			var next int
			var mu sync.Mutex
			b.SetParallelism(4) // 4 x GOMAXPROCS callers
			b.ResetTimer()
			b.RunParallel(func(pb *testing.PB) {
				mu.Lock()
				ref := abi.Ref{Type: "t", ID: strconv.Itoa(next)}
				next++
				mu.Unlock()
				ctx := context.Background()
				for pb.Next() {
					if _, err := s.Ask(ctx, &Message{Target: ref}); err != nil {
						b.Fatal(err)
					}
				}
			})
		})
	}
}
