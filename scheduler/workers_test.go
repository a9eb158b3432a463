package scheduler

import (
	"context"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/wactor/wactor/abi"
)

// workerPool is an Activator of a stateless worker type whose turns wait until
// released, counting the turns that run at once.
type workerPool struct {
	max       int
	release   chan struct{}
	running   atomic.Int32
	peak      atomic.Int32
	instances atomic.Int32
}

func (p *workerPool) TypeOptions(string) (TypeOptions, error) {
	return TypeOptions{MaxLocal: p.max, IdleTimeout: time.Minute}, nil
}

func (p *workerPool) Activate(context.Context, abi.Ref) (Actor, error) {
	p.instances.Add(1)
	return poolActor{p}, nil
}

type poolActor struct{ p *workerPool }

func (a poolActor) Receive(ctx context.Context, m *Message) ([]byte, error) {
	n := a.p.running.Add(1)
	defer a.p.running.Add(-1)
	for {
		peak := a.p.peak.Load()
		if n <= peak || a.p.peak.CompareAndSwap(peak, n) {
			break
		}
	}
	if string(m.Payload) == "wait" {
		select {
		case <-a.p.release:
		case <-ctx.Done():
		}
	}
	return m.Payload, nil
}

func (a poolActor) Deactivate(context.Context) {}

func TestStatelessWorkersServeOneActorAtOnce(t *testing.T) {
	for name, d := range dispatches {
		t.Run(name, func(t *testing.T) {
			p := &workerPool{max: 3, release: make(chan struct{})}
			var now atomic.Int64
			now.Store(time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC).UnixNano())
			s := New(Config{Activator: p, Dispatch: d, SweepInterval: -1, Now: func() time.Time { return time.Unix(0, now.Load()) }})
			t.Cleanup(func() {
				ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
				defer cancel()
				require.NoError(t, s.Close(ctx))
			})
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			target := abi.Ref{Type: "w", ID: "x"}

			// Five slow asks: three instances take one each, and the two
			// more wait in their mailboxes.
			var wg sync.WaitGroup
			errs := make(chan error, 5)
			for i := 0; i < 5; i++ {
				wg.Add(1)
				go func() {
					defer wg.Done()
					_, err := s.Ask(ctx, &Message{Target: target, Method: "m", Payload: []byte("wait")})
					errs <- err
				}()
			}
			require.Eventually(t, func() bool { return p.running.Load() == 3 }, 5*time.Second, time.Millisecond,
				"three instances should run at once; %d run", p.running.Load())
			assert.EqualValues(t, 3, p.instances.Load(), "no more instances than max_local")
			assert.Len(t, s.Activations(), 3)
			for _, r := range s.Activations() {
				assert.Equal(t, target, r, "every instance is the actor's")
			}
			close(p.release)
			wg.Wait()
			close(errs)
			for err := range errs {
				require.NoError(t, err)
			}
			assert.EqualValues(t, 3, p.peak.Load())

			// Idle instances go after the idle timeout, each on its own.
			now.Add(int64(2 * time.Minute))
			require.Eventually(t, func() bool { return s.RunUntilIdle() == 0 && len(s.Activations()) == 3 }, 5*time.Second, time.Millisecond)
			assert.Equal(t, 3, s.CollectIdle())
			assert.Empty(t, s.Activations())

			// An idle instance is reused rather than a new one started.
			for i := 0; i < 3; i++ {
				_, err := s.Ask(ctx, &Message{Target: target, Method: "m", Payload: []byte("quick")})
				require.NoError(t, err)
			}
			assert.EqualValues(t, 4, p.instances.Load(), "sequential asks share one instance")
		})
	}
}

// An ask cycle through an instance of a stateless worker is found: the
// wait-for graph links the instance that took the ask.
func TestStatelessWorkerAskCycleIsFound(t *testing.T) {
	var s *Scheduler
	a := &funcActivator{opts: func(typ string) TypeOptions {
		if typ == "w" {
			return TypeOptions{MaxLocal: 2}
		}
		return TypeOptions{}
	}}
	s = New(Config{Activator: a, SweepInterval: -1})
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		require.NoError(t, s.Close(ctx))
	})
	a.receive = func(ctx context.Context, self abi.Ref, m *Message) ([]byte, error) {
		switch {
		case self.Type == "a" && m.Method == "start":
			return s.Ask(ctx, &Message{Target: abi.Ref{Type: "w", ID: "x"}, Method: "back"})
		case self.Type == "w":
			return s.Ask(ctx, &Message{Target: abi.Ref{Type: "a", ID: "1"}, Method: "hi"})
		}
		return []byte("hi"), nil
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	_, err := s.Ask(ctx, &Message{Target: abi.Ref{Type: "a", ID: "1"}, Method: "start"})
	require.ErrorIs(t, err, abi.ErrDeadlock)
	assert.Contains(t, err.Error(), "ask cycle: w/x -> a/1 -> w/x")
}

// funcActivator runs every actor's turns with one function.
type funcActivator struct {
	opts    func(typ string) TypeOptions
	receive func(ctx context.Context, self abi.Ref, m *Message) ([]byte, error)
}

func (f *funcActivator) TypeOptions(typ string) (TypeOptions, error) { return f.opts(typ), nil }

func (f *funcActivator) Activate(_ context.Context, ref abi.Ref) (Actor, error) {
	return funcActor{f, ref}, nil
}

type funcActor struct {
	f   *funcActivator
	ref abi.Ref
}

func (a funcActor) Receive(ctx context.Context, m *Message) ([]byte, error) {
	return a.f.receive(ctx, a.ref, m)
}

func (funcActor) Deactivate(context.Context) {}
