package scheduler

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/wactor/wactor/abi"
)

// roActor is a funcActor with the read-only method "get".
type roActor struct{ funcActor }

func (roActor) ReadOnly(method string) bool { return method == "get" }

func (a roActor) ReceiveReadOnly(ctx context.Context, m *Message) ([]byte, error) {
	return []byte("ro:" + m.Method), nil
}

type roActivator struct{ funcActivator }

func (f *roActivator) Activate(_ context.Context, ref abi.Ref) (Actor, error) {
	return roActor{funcActor{&f.funcActivator, ref}}, nil
}

func TestReadOnlyAskRunsWhileTurnWaits(t *testing.T) {
	for name, d := range map[string]Dispatch{"goroutines": Goroutines, "pool": {Workers: 2}} {
		t.Run(name, func(t *testing.T) {
			release, waiting := make(chan struct{}), make(chan struct{})
			var s *Scheduler
			act := &roActivator{funcActivator{opts: func(string) TypeOptions { return TypeOptions{} }}}
			act.receive = func(ctx context.Context, self abi.Ref, m *Message) ([]byte, error) {
				switch {
				case self.Type == "a" && m.Method == "slow":
					return s.Ask(ctx, &Message{Target: abi.Ref{Type: "b", ID: "1"}, Method: "wait"})
				case self.Type == "b":
					close(waiting)
					<-release
					return []byte("released"), nil
				}
				return []byte("turn:" + m.Method), nil
			}
			s = New(Config{Activator: act, Dispatch: d, SweepInterval: -1})
			t.Cleanup(func() {
				ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
				defer cancel()
				require.NoError(t, s.Close(ctx))
			})
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			a := abi.Ref{Type: "a", ID: "1"}

			var wg sync.WaitGroup
			wg.Add(1)
			var slow []byte
			go func() {
				defer wg.Done()
				var err error
				slow, err = s.Ask(ctx, &Message{Target: a, Method: "slow"})
				assert.NoError(t, err)
			}()
			// get answers while slow waits, from the read-only path.
			<-waiting
			got, err := s.Ask(ctx, &Message{Target: a, Method: "get"})
			require.NoError(t, err)
			assert.Equal(t, "ro:get", string(got))

			// A get behind a message that is not read-only waits its turn.
			put := make(chan []byte, 1)
			go func() {
				r, _ := s.Ask(ctx, &Message{Target: a, Method: "put"})
				put <- r
			}()
			require.Eventually(t, func() bool {
				s.mu.Lock()
				defer s.mu.Unlock()
				q := s.acts[a]
				q.mu.Lock()
				defer q.mu.Unlock()
				return len(q.queue) == 1
			}, 5*time.Second, time.Millisecond)
			late := make(chan []byte, 1)
			go func() {
				r, _ := s.Ask(ctx, &Message{Target: a, Method: "get"})
				late <- r
			}()
			select {
			case r := <-late:
				t.Fatalf("the get behind put answered %q before slow ended", r)
			case <-time.After(100 * time.Millisecond):
			}
			close(release)
			wg.Wait()
			assert.Equal(t, "released", string(slow))
			assert.Equal(t, "turn:put", string(<-put))
			assert.Equal(t, "turn:get", string(<-late), "once the turn is done, get runs as a turn")
		})
	}
}
