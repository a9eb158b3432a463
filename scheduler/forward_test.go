package scheduler

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/wactor/wactor/abi"
)

func TestForwardAnswersTheOriginalAsker(t *testing.T) {
	for name, d := range map[string]Dispatch{"goroutines": Goroutines, "pool": {Workers: 2}, "deterministic": {Deterministic: true}} {
		t.Run(name, func(t *testing.T) {
			var s *Scheduler
			f := &funcActivator{opts: func(string) TypeOptions { return TypeOptions{} }}
			var forwardErr error
			f.receive = func(ctx context.Context, self abi.Ref, m *Message) ([]byte, error) {
				switch m.Method {
				case "hello":
					return []byte("ignored"), s.Forward(ctx, m, &Message{Target: abi.Ref{Type: "w", ID: "1"}, Method: "world", Payload: append(m.Payload, " world"...)})
				case "world":
					return nil, s.Forward(ctx, m, &Message{Target: abi.Ref{Type: "p", ID: "1"}, Method: "punctuate", Payload: m.Payload})
				case "punctuate":
					return append(m.Payload, '!'), nil
				case "ask_back": // asks b, which forwards to this actor
					return s.Ask(ctx, &Message{Target: abi.Ref{Type: "b", ID: "1"}, Method: "back", Payload: []byte(self.String())})
				case "back":
					forwardErr = s.Forward(ctx, m, &Message{Target: abi.Ref{Type: "a", ID: "1"}, Method: "punctuate"})
					return nil, forwardErr
				case "tell_forward":
					return nil, nil
				}
				return nil, abi.NewError(abi.CodeUnknownMethod, m.Method)
			}
			s = New(Config{Activator: f, Dispatch: d, SweepInterval: -1})
			t.Cleanup(func() {
				ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
				defer cancel()
				require.NoError(t, s.Close(ctx))
			})
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			got, err := s.Ask(ctx, &Message{Target: abi.Ref{Type: "h", ID: "1"}, Method: "hello", Payload: []byte("hello")})
			require.NoError(t, err)
			assert.Equal(t, "hello world!", string(got), "the last actor of the chain answers")

			// A forward back to the waiting asker would wait on itself.
			_, err = s.Ask(ctx, &Message{Target: abi.Ref{Type: "a", ID: "1"}, Method: "ask_back"})
			require.ErrorIs(t, err, abi.ErrDeadlock)
			require.ErrorIs(t, forwardErr, abi.ErrDeadlock)
			assert.Contains(t, forwardErr.Error(), "forwarded ask cycle: a/1 -> a/1")
		})
	}
}

func TestForwardOfATellIsRefused(t *testing.T) {
	var s *Scheduler
	f := &funcActivator{opts: func(string) TypeOptions { return TypeOptions{} }}
	errs := make(chan error, 1)
	f.receive = func(ctx context.Context, self abi.Ref, m *Message) ([]byte, error) {
		errs <- s.Forward(ctx, m, &Message{Target: abi.Ref{Type: "b", ID: "1"}, Method: "x"})
		return nil, nil
	}
	s = New(Config{Activator: f, SweepInterval: -1})
	defer s.Close(context.Background())
	require.NoError(t, s.Tell(context.Background(), &Message{Target: abi.Ref{Type: "a", ID: "1"}, Method: "t"}))
	select {
	case err := <-errs:
		require.ErrorIs(t, err, abi.ErrBadRequest)
	case <-time.After(5 * time.Second):
		t.Fatal("the tell never ran")
	}
}
