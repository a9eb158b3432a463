package scheduler_test

import (
	"context"
	"fmt"
	"strconv"

	"github.com/wactor/wactor/abi"
	"github.com/wactor/wactor/scheduler"
)

// counters activates plain Go actors that add up the numbers they are told.
type counters struct{}

func (counters) TypeOptions(string) (scheduler.TypeOptions, error) {
	return scheduler.TypeOptions{}, nil
}

func (counters) Activate(_ context.Context, ref abi.Ref) (scheduler.Actor, error) {
	fmt.Println("activate", ref)
	return &counter{}, nil
}

type counter struct{ sum int }

func (c *counter) Receive(_ context.Context, m *scheduler.Message) ([]byte, error) {
	if m.Method == "add" {
		n, _ := strconv.Atoi(string(m.Payload))
		c.sum += n
	}
	return []byte(strconv.Itoa(c.sum)), nil
}

func (*counter) Deactivate(context.Context) {}

// A deterministic scheduler runs turns only when driven, on the calling
// goroutine, so a test sees exactly what happened by the time it looks.
func ExampleDispatch_deterministic() {
	ctx := context.Background()
	s := scheduler.New(scheduler.Config{
		Activator: counters{},
		Dispatch:  scheduler.Dispatch{Deterministic: true},
	})
	defer s.Close(ctx)

	a := abi.Ref{Type: "counter", ID: "a"}
	for _, n := range []string{"1", "2", "3"} {
		_ = s.Tell(ctx, &scheduler.Message{Target: a, Method: "add", Payload: []byte(n)})
	}
	fmt.Println("turns run:", s.RunUntilIdle())
	sum, err := s.Ask(ctx, &scheduler.Message{Target: a, Method: "get"})
	fmt.Println("sum:", string(sum), err)
	// Output:
	// activate counter/a
	// turns run: 3
	// sum: 6 <nil>
}
