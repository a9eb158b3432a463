package host_test

import (
	"context"
	"errors"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/fxamacker/cbor/v2"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/wactor/wactor/abi"
	"github.com/wactor/wactor/host"
	"github.com/wactor/wactor/internal/testwasm"
	"github.com/wactor/wactor/storage"
	"github.com/wactor/wactor/storage/memstore"
)

// heldStore is an in-memory store that commits as slowly as a disk
// (diskDelay), so that activations hand their commits to the pipeline,
// and whose commits, once hold is set, wait for the test: each is sent on
// held and applied only when the test answers it with nil (or refused
// with the error it answers). It counts
// the Recorded calls per key, which tells the test when a keyed turn has
// started (the caller's check, then the turn's).
type heldStore struct {
	storage.Store
	held chan *heldCommit

	mu       sync.Mutex
	hold     bool
	recorded map[string]int
	failEach int // when > 0, every failEach-th commit fails
	commits  int
}

type heldCommit struct {
	b       *storage.Batch
	release chan error
}

func newHeldStore() *heldStore {
	return &heldStore{Store: memstore.New(), held: make(chan *heldCommit, 16), recorded: map[string]int{}}
}

var errInjected = errors.New("injected commit failure")

// diskDelay is how long a heldStore's commit takes, about an fsync.
const diskDelay = time.Millisecond

func (s *heldStore) Commit(ctx context.Context, b *storage.Batch) error {
	s.mu.Lock()
	hold := s.hold
	s.commits++
	fail := s.failEach > 0 && s.commits%s.failEach == 0
	s.mu.Unlock()
	time.Sleep(diskDelay)
	if fail {
		return errInjected
	}
	if hold {
		c := &heldCommit{b: b, release: make(chan error, 1)}
		s.held <- c
		if err := <-c.release; err != nil {
			return err
		}
	}
	return s.Store.Commit(ctx, b)
}

func (s *heldStore) Recorded(ctx context.Context, key string) ([]byte, bool, error) {
	s.mu.Lock()
	s.recorded[key]++
	s.mu.Unlock()
	return s.Store.Recorded(ctx, key)
}

func (s *heldStore) setHold(hold bool) {
	s.mu.Lock()
	s.hold = hold
	s.mu.Unlock()
}

// started waits until the turn of the message with idempotency key key
// to counter/hot has started.
func (s *heldStore) started(t *testing.T, key string) {
	t.Helper()
	s.startedAt(t, "counter/hot", key)
}

// startedAt waits until the turn of the message with idempotency key key
// to ref has started.
func (s *heldStore) startedAt(t *testing.T, ref, key string) {
	t.Helper()
	rk := ref + "\x00" + key
	deadline := time.Now().Add(10 * time.Second)
	for {
		s.mu.Lock()
		n := s.recorded[rk]
		s.mu.Unlock()
		if n >= 2 {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("the turn of %s did not start", key)
		}
		time.Sleep(time.Millisecond)
	}
}

// nextHeld returns the next commit waiting for the test.
func (s *heldStore) nextHeld(t *testing.T) *heldCommit {
	t.Helper()
	select {
	case c := <-s.held:
		return c
	case <-time.After(10 * time.Second):
		t.Fatal("no commit arrived")
		return nil
	}
}

type askResult struct {
	key string
	n   int64
	err error
}

// askAdd asks counter/hot to add 1 with idempotency key key and sends the
// outcome on out.
func askAdd(h *host.Host, key string, out chan<- askResult) {
	reply, err := h.Ask(context.Background(), abi.Ref{Type: "counter", ID: "hot"}, "add", addPayload, host.IdempotencyKey(key))
	r := askResult{key: key, err: err}
	if err == nil {
		var v struct{ N int64 }
		if cerr := cbor.Unmarshal(reply, &v); cerr != nil {
			r.err = cerr
		}
		r.n = v.N
	}
	out <- r
}

func counterHost(t *testing.T, store storage.Store) *host.Host {
	return newHost(t, store, host.TypeConfig{Name: "counter", Module: testwasm.C(t, "counter"), AskTimeout: time.Minute})
}

// TestPipelineRunsTurnsAheadOfCommits holds the store's commits: the
// counter's next turns run while the first turn's commit waits, their
// writes commit together in the next batch, and no caller gets a reply
// before the commit of its turn is released.
func TestPipelineRunsTurnsAheadOfCommits(t *testing.T) {
	store := newHeldStore()
	h := counterHost(t, store)
	mustCall(t, h, "counter/hot", "add", M{"n": 0}) // activate; a first slow commit
	store.setHold(true)

	const n = 20
	results := make(chan askResult, n)
	go askAdd(h, "k1", results)
	first := store.nextHeld(t)
	require.Len(t, first.b.Records, 1, "the first commit holds the first turn only")
	for i := 2; i <= n; i++ {
		go askAdd(h, "k"+strconv.Itoa(i), results)
	}
	// Once the last turn has started, every turn before it has run, while
	// the first commit is still held.
	for i := 2; i <= n; i++ {
		store.started(t, "k"+strconv.Itoa(i))
	}
	select {
	case r := <-results:
		t.Fatalf("ask %s answered (%v, %v) before its commit", r.key, r.n, r.err)
	case <-time.After(20 * time.Millisecond):
	}

	durable := map[string]bool{}
	release := func(c *heldCommit) {
		for _, r := range c.b.Records {
			durable[r.Key] = true
		}
		c.release <- nil
	}
	release(first)
	second := store.nextHeld(t)
	assert.GreaterOrEqual(t, len(second.b.Records), n-2, "the turns that ran meanwhile commit in one batch")
	assert.Equal(t, first.b.Version+1, second.b.Version, "the merged batch expects the version the first commit left")
	seen := map[int64]bool{}
	got := 0
	pending := []*heldCommit{second}
	for got < n {
		select {
		case r := <-results:
			require.NoError(t, r.err, r.key)
			assert.True(t, durable["counter/hot\x00"+r.key], "ask %s answered before its commit was released", r.key)
			assert.False(t, seen[r.n], "two asks got %d", r.n)
			seen[r.n] = true
			got++
		case c := <-store.held:
			pending = append(pending, c)
		case <-time.After(10 * time.Second):
			t.Fatalf("%d of %d asks answered", got, n)
		}
		if len(pending) > 0 {
			release(pending[0])
			pending = pending[1:]
		}
	}
	for i := int64(1); i <= n; i++ {
		assert.True(t, seen[i], "no ask got %d", i)
	}
	store.setHold(false)
	assert.EqualValues(t, n, mustCall(t, h, "counter/hot", "get", nil)["n"])
}

// TestPipelineCommitFailureFailsLaterTurns fails the commit of the first
// turn while the turns after it wait in the pipeline: they saw its write,
// so every one of them fails, the activation reloads its state, and the
// turns after that see only what committed.
func TestPipelineCommitFailureFailsLaterTurns(t *testing.T) {
	store := newHeldStore()
	h := counterHost(t, store)
	mustCall(t, h, "counter/hot", "add", M{"n": 10})
	store.setHold(true)

	const n = 6
	results := make(chan askResult, n)
	go askAdd(h, "k1", results)
	first := store.nextHeld(t)
	for i := 2; i <= n; i++ {
		go askAdd(h, "k"+strconv.Itoa(i), results)
		store.started(t, "k"+strconv.Itoa(i))
	}
	first.release <- errInjected
	for i := 0; i < n; i++ {
		select {
		case r := <-results:
			require.Error(t, r.err, "ask %s got %d", r.key, r.n)
			assert.ErrorIs(t, r.err, abi.ErrUnavailable, r.key)
		case c := <-store.held:
			t.Fatalf("a commit after the failed one: %+v", c.b)
		case <-time.After(10 * time.Second):
			t.Fatalf("%d of %d asks answered", i, n)
		}
	}
	store.setHold(false)
	assert.EqualValues(t, 10, mustCall(t, h, "counter/hot", "get", nil)["n"], "state reloaded")
	assert.EqualValues(t, 11, mustCall(t, h, "counter/hot", "add", M{"n": 1})["n"])
	// A retry with a key that failed applies now.
	results = make(chan askResult, 1)
	askAdd(h, "k3", results)
	r := <-results
	require.NoError(t, r.err)
	assert.EqualValues(t, 12, r.n)
}

// TestPipelineCountsOnlyAcknowledgedAdds runs concurrent adds on one
// counter while every third commit fails: the final total is the number
// of adds that were acknowledged, and no two got the same total.
func TestPipelineCountsOnlyAcknowledgedAdds(t *testing.T) {
	store := newHeldStore()
	store.failEach = 3
	h := counterHost(t, store)
	const callers, each = 20, 15
	var mu sync.Mutex
	totals := map[int64]bool{}
	acked := 0
	var wg sync.WaitGroup
	for c := 0; c < callers; c++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < each; i++ {
				reply, err := h.Ask(context.Background(), abi.Ref{Type: "counter", ID: "hot"}, "add", addPayload)
				if err != nil {
					assert.ErrorIs(t, err, abi.ErrUnavailable)
					continue
				}
				var v struct{ N int64 }
				assert.NoError(t, cbor.Unmarshal(reply, &v))
				mu.Lock()
				assert.False(t, totals[v.N], "two adds got %d", v.N)
				totals[v.N] = true
				acked++
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	store.mu.Lock()
	store.failEach = 0
	store.mu.Unlock()
	assert.Greater(t, acked, 0)
	assert.Less(t, acked, callers*each, "some commits failed")
	assert.EqualValues(t, acked, mustCall(t, h, "counter/hot", "get", nil)["n"])
}

// TestPipelineAskWaitsForEarlierCommits: a turn's ask leaves only once the
// turns before it are durable, since the target acts on what it says;
// when the earlier commit fails, the ask is never sent and the turn fails.
func TestPipelineAskWaitsForEarlierCommits(t *testing.T) {
	for _, fail := range []bool{false, true} {
		t.Run(map[bool]string{false: "commits", true: "fails"}[fail], func(t *testing.T) {
			store := newHeldStore()
			h := newHost(t, store,
				host.TypeConfig{Name: "conf", Module: testwasm.C(t, "conformance"), AskTimeout: time.Minute},
				host.TypeConfig{Name: "counter", Module: testwasm.C(t, "counter")})
			ref := abi.Ref{Type: "conf", ID: "asker"}
			mustCall(t, h, ref.String(), "set", M{"key": "b", "value": 0}) // activate; a first slow commit
			store.setHold(true)

			set := make(chan error, 1)
			go func() {
				_, err := h.Ask(context.Background(), ref, "set", cborOf(t, M{"key": "a", "value": 1}))
				set <- err
			}()
			first := store.nextHeld(t)
			asked := make(chan error, 1)
			go func() {
				_, err := h.Ask(context.Background(), ref, "ask", cborOf(t, M{"to": "counter/target", "method": "get"}), host.IdempotencyKey("ask"))
				asked <- err
			}()
			store.startedAt(t, ref.String(), "ask")
			time.Sleep(20 * time.Millisecond) // time enough for the ask to leave, if it could
			assert.NotContains(t, h.Activations(), abi.Ref{Type: "counter", ID: "target"}, "the ask left before the earlier commit")

			if fail {
				first.release <- errInjected
				assert.ErrorIs(t, <-set, abi.ErrUnavailable)
				assert.ErrorIs(t, <-asked, abi.ErrUnavailable)
				assert.NotContains(t, h.Activations(), abi.Ref{Type: "counter", ID: "target"}, "the ask was sent")
				return
			}
			first.release <- nil
			require.NoError(t, <-set)
			// The asking turn commits its record: let that through.
			select {
			case err := <-asked:
				t.Fatalf("the ask answered before its own commit: %v", err)
			case c := <-store.held:
				c.release <- nil
			case <-time.After(10 * time.Second):
				t.Fatal("the asking turn did not commit")
			}
			require.NoError(t, <-asked)
			assert.Contains(t, h.Activations(), abi.Ref{Type: "counter", ID: "target"})
		})
	}
}

// TestNoPipeliningCommitsEachTurnAlone: with Config.NoPipelining the next
// turn starts only once the commit of the one before it is done, so each
// commit holds one turn, and every reply still follows its commit.
func TestNoPipeliningCommitsEachTurnAlone(t *testing.T) {
	store := newHeldStore()
	h := newHostConfig(t, host.Config{Store: store, NoPipelining: true},
		host.TypeConfig{Name: "counter", Module: testwasm.C(t, "counter"), AskTimeout: time.Minute})
	mustCall(t, h, "counter/hot", "add", M{"n": 0}) // activate
	store.setHold(true)
	var held *heldCommit
	t.Cleanup(func() { // before the host closes: a failed check leaves commits held
		store.setHold(false)
		if held != nil {
			select {
			case held.release <- nil:
			default: // released already
			}
		}
		for {
			select {
			case c := <-store.held:
				c.release <- nil
			default:
				return
			}
		}
	})

	const n = 5
	results := make(chan askResult, n)
	go askAdd(h, "k1", results)
	held = store.nextHeld(t)
	for i := 2; i <= n; i++ {
		go askAdd(h, "k"+strconv.Itoa(i), results)
	}
	done := map[string]bool{}
	for i := 1; i <= n; i++ {
		require.Len(t, held.b.Records, 1, "commit %d holds one turn", i)
		key := held.b.Records[0].Key
		// While the commit is held, no turn not yet committed starts and
		// no reply leaves.
		time.Sleep(20 * time.Millisecond)
		store.mu.Lock()
		for j := 1; j <= n; j++ {
			if k := "counter/hot\x00k" + strconv.Itoa(j); k != key && !done[k] {
				assert.Less(t, store.recorded[k], 2, "the turn of k%d started while the commit of %s was held", j, key)
			}
		}
		store.mu.Unlock()
		select {
		case r := <-results:
			t.Fatalf("ask %s answered before the held commit was released", r.key)
		default:
		}
		held.release <- nil
		done[key] = true
		select {
		case r := <-results:
			require.NoError(t, r.err, r.key)
			assert.Equal(t, key, "counter/hot\x00"+r.key, "the reply that follows a commit is that turn's")
		case <-time.After(10 * time.Second):
			t.Fatalf("no reply after the commit of %s", key)
		}
		if i < n {
			held = store.nextHeld(t)
		}
	}
	store.setHold(false)
	assert.EqualValues(t, n, mustCall(t, h, "counter/hot", "get", nil)["n"])
}
