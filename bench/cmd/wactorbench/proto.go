package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync/atomic"
	"time"

	"github.com/asynkron/protoactor-go/actor"
)

// The same scenarios with protoactor-go: native Go actors, messages are Go
// values passed by pointer, nothing is persisted.

func init() {
	measures["ring/protoactor"] = ringProto
	measures["fanout/protoactor"] = fanoutProto
	measures["pingpong/protoactor"] = pingpongProto
	measures["storm/protoactor"] = stormProto
}

const protoTimeout = time.Minute

func protoSystem() *actor.ActorSystem {
	return actor.NewActorSystem(actor.WithLoggerFactory(func(*actor.ActorSystem) *slog.Logger {
		return slog.New(slog.DiscardHandler)
	}))
}

type (
	ringNext struct{ next *actor.PID }
	ringPass struct{ hops int }
	addMsg   struct{ n int }
	getMsg   struct{}
	countMsg struct{ n int }
	pingMsg  struct {
		peer  *actor.PID
		count int
	}
	pongMsg struct{}
)

type ringNode struct {
	next *actor.PID
	done chan<- struct{}
}

func (r *ringNode) Receive(ctx actor.Context) {
	switch m := ctx.Message().(type) {
	case *ringNext:
		r.next = m.next
		ctx.Respond(m)
	case *ringPass:
		if m.hops <= 0 {
			r.done <- struct{}{}
			return
		}
		ctx.Send(r.next, &ringPass{hops: m.hops - 1})
	}
}

func ringProto(ctx context.Context, sp *spec) (result, error) {
	sys := protoSystem()
	defer sys.Shutdown()
	done := make(chan struct{}, 1)
	pids := make([]*actor.PID, sp.N)
	props := actor.PropsFromProducer(func() actor.Actor { return &ringNode{done: done} })
	for i := range pids {
		pids[i] = sys.Root.Spawn(props)
	}
	for i, pid := range pids {
		if _, err := sys.Root.RequestFuture(pid, &ringNext{next: pids[(i+1)%len(pids)]}, protoTimeout).Result(); err != nil {
			return nil, err
		}
	}
	lap := func(hops int) (time.Duration, error) {
		start := time.Now()
		sys.Root.Send(pids[0], &ringPass{hops: hops - 1})
		select {
		case <-done:
			return time.Since(start), nil
		case <-time.After(5 * time.Minute):
			return 0, errors.New("the token did not come back within 5 minutes")
		}
	}
	if _, err := lap(sp.N); err != nil {
		return nil, err
	}
	hops := sp.N * sp.Laps
	d, err := lap(hops)
	if err != nil {
		return nil, err
	}
	return result{"msgs_per_s": float64(hops) / d.Seconds()}, nil
}

type counterActor struct{ n int }

func (c *counterActor) Receive(ctx actor.Context) {
	switch m := ctx.Message().(type) {
	case *addMsg:
		c.n += m.n
	case *getMsg:
		ctx.Respond(&countMsg{n: c.n})
	}
}

func newCounter() actor.Actor { return &counterActor{} }

func fanoutProto(ctx context.Context, sp *spec) (result, error) {
	sys := protoSystem()
	defer sys.Shutdown()
	props := actor.PropsFromProducer(newCounter)
	pids := make([]*actor.PID, sp.N)
	for i := range pids {
		pids[i] = sys.Root.Spawn(props)
		if _, err := sys.Root.RequestFuture(pids[i], &getMsg{}, protoTimeout).Result(); err != nil {
			return nil, err
		}
	}
	total := sp.N * sp.K
	start := time.Now()
	for i := 0; i < total; i++ {
		sys.Root.Send(pids[i%len(pids)], &addMsg{n: 1})
	}
	sum := 0
	for _, pid := range pids {
		res, err := sys.Root.RequestFuture(pid, &getMsg{}, protoTimeout).Result()
		if err != nil {
			return nil, err
		}
		sum += res.(*countMsg).n
	}
	d := time.Since(start)
	if sum != total {
		return nil, fmt.Errorf("the counters hold %d, want %d", sum, total)
	}
	return result{"msgs_per_s": float64(total) / d.Seconds()}, nil
}

// pingPongActor plays both sides, like the wactor example: ping asks the
// peer's pong count times, waiting for each answer inside its turn.
type pingPongActor struct{}

func (pingPongActor) Receive(ctx actor.Context) {
	switch m := ctx.Message().(type) {
	case *pingMsg:
		for range m.count {
			if _, err := ctx.RequestFuture(m.peer, &pongMsg{}, protoTimeout).Result(); err != nil {
				ctx.Respond(err)
				return
			}
		}
		ctx.Respond(&countMsg{n: m.count})
	case *pongMsg:
		ctx.Respond(m)
	}
}

func pingpongProto(ctx context.Context, sp *spec) (result, error) {
	sys := protoSystem()
	defer sys.Shutdown()
	props := actor.PropsFromProducer(func() actor.Actor { return pingPongActor{} })
	ping, pong := sys.Root.Spawn(props), sys.Root.Spawn(props)
	ask := func(count int) error {
		res, err := sys.Root.RequestFuture(ping, &pingMsg{peer: pong, count: count}, protoTimeout).Result()
		if err != nil {
			return err
		}
		if err, ok := res.(error); ok {
			return err
		}
		return nil
	}
	if err := ask(100); err != nil {
		return nil, err
	}
	start := time.Now()
	for left := sp.K; left > 0; left -= 1000 {
		if err := ask(min(left, 1000)); err != nil {
			return nil, err
		}
	}
	r := result{"asks_per_s": float64(sp.K) / time.Since(start).Seconds()}
	lat, err := latencies(sp.Samples, func() error {
		_, err := sys.Root.RequestFuture(pong, &pongMsg{}, protoTimeout).Result()
		return err
	})
	if err != nil {
		return nil, err
	}
	addLatencies(r, lat)
	return r, nil
}

// stormProto spawns sp.N counters, one request each, from sp.Callers
// goroutines; they stay alive.
func stormProto(ctx context.Context, sp *spec) (result, error) {
	sys := protoSystem()
	defer sys.Shutdown()
	props := actor.PropsFromProducer(newCounter)
	if _, err := sys.Root.RequestFuture(sys.Root.Spawn(props), &getMsg{}, protoTimeout).Result(); err != nil {
		return nil, err
	}
	pids := make([]*actor.PID, sp.N) // kept, as a directory would
	rss0, err := settledRSS()
	if err != nil {
		return nil, err
	}
	var next atomic.Int64
	start := time.Now()
	err = parallel(sp.Callers, func() error {
		for {
			i := next.Add(1) - 1
			if i >= int64(sp.N) {
				return nil
			}
			pid := sys.Root.Spawn(props)
			if _, err := sys.Root.RequestFuture(pid, &getMsg{}, protoTimeout).Result(); err != nil {
				return err
			}
			pids[i] = pid
		}
	})
	d := time.Since(start)
	if err != nil {
		return nil, err
	}
	rss1, err := settledRSS()
	if err != nil {
		return nil, err
	}
	return result{
		"per_s":   float64(sp.N) / d.Seconds(),
		"kib_per": float64(rss1-rss0) / float64(len(pids)),
	}, nil
}
