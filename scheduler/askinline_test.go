package scheduler

import (
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/wactor/wactor/abi"
)

// goid is the id of the calling goroutine, from its stack's first line
// ("goroutine 42 [running]:").
func goid() uint64 {
	var b [64]byte
	fields := strings.Fields(string(b[:runtime.Stack(b[:], false)]))
	id, _ := strconv.ParseUint(fields[1], 10, 64)
	return id
}

// An ask from outside to an idle actor, new or live, runs its turn on the
// asker's goroutine with the goroutines dispatch, and on another with a
// pool, whose workers bound the goroutines running turns; so does one
// whose ctx is already done, or that cannot wait as long as a turn may
// take, or one to a busy actor.
func TestAskFromOutsideRunsOnAsker(t *testing.T) {
	for name, d := range dispatches {
		t.Run(name, func(t *testing.T) {
			ranOn := make(chan uint64, 1)
			held := make(chan struct{})
			w := newWorld(t, d, func(_ context.Context, _ *Scheduler, self abi.Ref, m *Message) ([]byte, error) {
				if string(m.Payload) == "hold" {
					<-held
				}
				ranOn <- goid()
				return []byte(self.ID), nil
			})
			w.opts.TurnLimit = time.Second
			me := goid()
			for i := 0; i < 3; i++ { // new, then live
				got, err := ask(t, w.s, ref("a"), "")
				require.NoError(t, err)
				assert.Equal(t, "a", string(got))
				assert.Equal(t, name == "goroutines", <-ranOn == me, "ask %d ran on the asker", i)
			}

			// A deadline set a moment ago for exactly the turn limit, as
			// a cluster's host sets one: run on the asker.
			ctx, cancel := context.WithTimeout(context.Background(), time.Second)
			time.Sleep(time.Millisecond)
			_, err := w.s.Ask(ctx, &Message{Target: ref("a"), Method: "m"})
			cancel()
			require.NoError(t, err)
			assert.Equal(t, name == "goroutines", <-ranOn == me, "an ask with a deadline of the turn limit ran on the asker")

			// Too short to wait for a whole turn: handed over.
			got, err := w.s.Ask(context.Background(), &Message{Target: ref("a"), Method: "m", Timeout: time.Second / 2})
			require.NoError(t, err)
			assert.Equal(t, "a", string(got))
			assert.NotEqual(t, me, <-ranOn)

			// Already done: handed over, and the turn still runs, as before.
			ctx, cancel = context.WithCancel(context.Background())
			cancel()
			_, err = w.s.Ask(ctx, &Message{Target: ref("a"), Method: "m"})
			require.ErrorIs(t, err, context.Canceled)
			assert.NotEqual(t, me, <-ranOn)

			// Busy: queued behind the turn that runs.
			go func() { _, _ = ask(t, w.s, ref("b"), "hold") }()
			require.Eventually(t, func() bool { return w.s.busyCount() > 0 }, 5*time.Second, time.Millisecond)
			answered := make(chan error, 1)
			go func() { _, err := ask(t, w.s, ref("b"), ""); answered <- err }()
			time.Sleep(10 * time.Millisecond)
			close(held)
			first, second := <-ranOn, <-ranOn
			require.NoError(t, <-answered)
			// On a pool the queued ask runs in the held turn's batch; on
			// the held turn's asker it does not: it is handed back.
			assert.Equal(t, name == "pool", first == second, "the queued ask ran where the held turn did")
		})
	}
}

// The asker runs its own turn only: what was queued behind it meanwhile
// goes to the dispatcher's goroutines, and the asker has its reply while
// those turns still run.
func TestAskerHandsQueuedWorkBack(t *testing.T) {
	inTurn := make(chan struct{})
	release := make(chan struct{})
	releaseQueued := make(chan struct{})
	var queuedOn atomic.Uint64
	queuedRan := make(chan struct{}, 3)
	w := newWorld(t, Goroutines, func(_ context.Context, _ *Scheduler, _ abi.Ref, m *Message) ([]byte, error) {
		switch string(m.Payload) {
		case "first":
			inTurn <- struct{}{}
			<-release
		case "queued":
			queuedOn.Store(goid())
			<-releaseQueued
			queuedRan <- struct{}{}
		}
		return m.Payload, nil
	})
	w.opts.TurnLimit = time.Second
	me := goid()
	go func() {
		<-inTurn
		for i := 0; i < 3; i++ {
			require.NoError(t, w.s.Tell(context.Background(), &Message{Target: ref("a"), Payload: []byte("queued")}))
		}
		close(release)
	}()
	got, err := ask(t, w.s, ref("a"), "first")
	require.NoError(t, err)
	assert.Equal(t, "first", string(got))
	// The asker is back while the queued turns wait: they are not its.
	require.Eventually(t, func() bool { return queuedOn.Load() != 0 }, 5*time.Second, time.Millisecond)
	assert.NotEqual(t, me, queuedOn.Load())
	close(releaseQueued)
	for i := 0; i < 3; i++ {
		select {
		case <-queuedRan:
		case <-time.After(5 * time.Second):
			t.Fatal("queued turns did not run")
		}
	}
}

// A turn run on its asker runs to its end even past the asker's deadline,
// and the ask then ends as it would have had it waited: with timeout.
func TestAskerPastItsDeadline(t *testing.T) {
	w := newWorld(t, Goroutines, func(_ context.Context, _ *Scheduler, _ abi.Ref, m *Message) ([]byte, error) {
		time.Sleep(50 * time.Millisecond)
		return m.Payload, nil
	})
	w.opts.TurnLimit = 10 * time.Millisecond // the actor overruns it
	_, err := w.s.Ask(context.Background(), &Message{Target: ref("a"), Method: "m", Timeout: 20 * time.Millisecond})
	require.ErrorIs(t, err, abi.ErrTimeout)
	got, err := w.s.Ask(context.Background(), &Message{Target: ref("a"), Method: "m", Payload: []byte("x"), Timeout: time.Second})
	require.NoError(t, err)
	assert.Equal(t, "x", string(got))
}

// Asks and tells from outside, from many senders at once, to a few
// actors, in random order: every actor runs one turn at a time (testActor
// panics otherwise), gets each sender's messages in the order sent, and
// answers every ask; some asks ran on their askers and, once work queued,
// some turns ran on the dispatcher's goroutines.
func TestAsksFromOutsideKeepOrder(t *testing.T) {
	for name, d := range dispatches {
		t.Run(name, func(t *testing.T) {
			seed := uint64(time.Now().UnixNano())
			t.Logf("seed %d", seed)
			const senders, actors, perSender = 8, 3, 150
			var mu sync.Mutex
			last := map[string]int{} // actor/sender: the last sequence number seen
			var disorder []string
			var onAsker, elsewhere atomic.Int64
			w := newWorld(t, d, func(_ context.Context, _ *Scheduler, self abi.Ref, m *Message) ([]byte, error) {
				sender, seqText, _ := cut(string(m.Payload), ",")
				seq, _ := strconv.Atoi(seqText)
				key := self.ID + "/" + sender
				mu.Lock()
				if seq <= last[key] {
					disorder = append(disorder, key+": "+seqText+" after "+strconv.Itoa(last[key]))
				}
				last[key] = seq
				mu.Unlock()
				if m.IsAsk() && m.Key == strconv.FormatUint(goid(), 10) {
					onAsker.Add(1)
				} else {
					elsewhere.Add(1)
				}
				if seq%7 == 0 {
					runtime.Gosched()
				}
				return m.Payload, nil
			})
			w.opts.TurnLimit = time.Second
			var wg sync.WaitGroup
			for i := 0; i < senders; i++ {
				wg.Add(1)
				go func() {
					defer wg.Done()
					r := rand.New(rand.NewPCG(seed, uint64(i)))
					me := strconv.FormatUint(goid(), 10)
					for seq := 1; seq <= perSender; seq++ {
						to := ref(strconv.Itoa(r.IntN(actors)))
						payload := []byte(strconv.Itoa(i) + "," + strconv.Itoa(seq))
						if r.IntN(3) == 0 {
							if err := w.s.Tell(context.Background(), &Message{Target: to, Payload: payload}); err != nil {
								t.Error(err)
								return
							}
							continue
						}
						// Key carries the asker's goroutine, for the actor to compare.
						got, err := w.s.Ask(context.Background(), &Message{Target: to, Method: "m", Key: me, Payload: payload, Timeout: 10 * time.Second})
						if err != nil || string(got) != string(payload) {
							t.Errorf("ask %s: %q, %v", payload, got, err)
							return
						}
					}
				}()
			}
			wg.Wait()
			w.s.RunUntilIdle()
			mu.Lock()
			defer mu.Unlock()
			assert.Empty(t, disorder)
			t.Logf("turns on their askers: %d, elsewhere: %d", onAsker.Load(), elsewhere.Load())
			assert.EqualValues(t, senders*perSender, onAsker.Load()+elsewhere.Load())
			if name == "goroutines" {
				assert.Positive(t, onAsker.Load())
			} else {
				assert.Zero(t, onAsker.Load())
			}
			assert.Positive(t, elsewhere.Load())
		})
	}
}

// A panic in a turn run on its asker ends the process, as on the
// dispatcher's goroutines, even when the asker recovers panics (as an
// HTTP server does its handlers'): the asker must not go on with the
// activation stuck in its turn. The panicking ask runs in a child process.
func TestPanicInTurnOnAskerEndsProcess(t *testing.T) {
	if os.Getenv("WACTOR_TEST_PANIC_ON_ASKER") == "1" {
		w := newWorld(t, Goroutines, func(context.Context, *Scheduler, abi.Ref, *Message) ([]byte, error) {
			panic("the turn broke")
		})
		w.opts.TurnLimit = time.Second
		func() {
			defer func() { _ = recover() }()
			_, _ = ask(t, w.s, ref("a"), "")
		}()
		fmt.Println("survived the panic")
		os.Exit(0)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, os.Args[0], "-test.run", "^TestPanicInTurnOnAskerEndsProcess$")
	cmd.Env = append(os.Environ(), "WACTOR_TEST_PANIC_ON_ASKER=1")
	out, err := cmd.CombinedOutput()
	var exit *exec.ExitError
	require.ErrorAs(t, err, &exit, "the child exited cleanly: %s", out)
	assert.NotContains(t, string(out), "survived the panic")
	assert.Contains(t, string(out), "the turn broke")
	assert.Contains(t, string(out), "run on its asker's goroutine")
}
