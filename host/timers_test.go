package host_test

import (
	"context"
	"log/slog"
	"sync"
	"testing"
	"time"

	"github.com/fxamacker/cbor/v2"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/wactor/wactor/abi"
	"github.com/wactor/wactor/host"
	"github.com/wactor/wactor/internal/testwasm"
	"github.com/wactor/wactor/scheduler"
	"github.com/wactor/wactor/storage"
	"github.com/wactor/wactor/storage/badgerstore"
	"github.com/wactor/wactor/storage/memstore"
)

// Tests of timers, reminders, lifecycle hooks and the activation cap. Time
// is a manual clock: nothing here sleeps for a timer.

var epoch = time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC)

// clockHost starts a host on store with a manual clock, no idle sweeper and
// the clockwork actor deployed as type "clock".
func clockHost(t *testing.T, store storage.Store, clock *scheduler.ManualClock, maxActivations int) *host.Host {
	t.Helper()
	ctx := context.Background()
	h, err := host.New(ctx, host.Config{
		Store:          store,
		CacheDir:       testwasm.CacheDir(t),
		Logger:         slog.New(slog.NewTextHandler(logWriter{t}, &slog.HandlerOptions{Level: slog.LevelInfo})),
		Clock:          clock,
		SweepInterval:  -1,
		MaxActivations: maxActivations,
	})
	require.NoError(t, err)
	require.NoError(t, h.Deploy(ctx, host.TypeConfig{Name: "clock", Module: testwasm.Go(t, "clockwork"), Source: "clockwork.wasm"}))
	require.NoError(t, h.Start(ctx))
	var once sync.Once
	t.Cleanup(func() { once.Do(func() { closeHost(t, h) }) })
	return h
}

// stat is what clockwork's get answers.
type stat struct {
	Hits, Activations, Deactivations uint64
	Seed                             any
}

func get(t *testing.T, h *host.Host, ref, name string) stat {
	t.Helper()
	out := mustCall(t, h, ref, "get", M{"name": name})
	s := stat{Seed: out["seed"]}
	s.Hits, _ = out["hits"].(uint64)
	s.Activations, _ = out["activations"].(uint64)
	s.Deactivations, _ = out["deactivations"].(uint64)
	return s
}

// waitHits waits until ref has counted want hits of name.
func waitHits(t *testing.T, h *host.Host, ref, name string, want uint64) {
	t.Helper()
	require.Eventually(t, func() bool { return get(t, h, ref, name).Hits >= want }, 10*time.Second, 2*time.Millisecond,
		"%s: waiting for %d hits of %s", ref, want, name)
	assert.Equal(t, want, get(t, h, ref, name).Hits, "%s: hits of %s", ref, name)
}

// settle lets work the clock started finish; used before asserting that
// something did not happen.
func settle() { time.Sleep(50 * time.Millisecond) }

// storedState reads an integer state value of ref straight from the store.
func storedState(t *testing.T, store storage.Store, ref, key string) uint64 {
	t.Helper()
	snap, err := store.Load(context.Background(), ref)
	require.NoError(t, err)
	var n uint64
	if v, ok := snap.State[key]; ok {
		require.NoError(t, cbor.Unmarshal(v, &n))
	}
	return n
}

func isActive(h *host.Host, ref string) bool {
	for _, r := range h.Activations() {
		if r.String() == ref {
			return true
		}
	}
	return false
}

func TestTimerFiresAndRepeats(t *testing.T) {
	clock := scheduler.NewManualClock(epoch)
	h := clockHost(t, memstore.New(), clock, 0)
	const ref = "clock/timers"

	mustCall(t, h, ref, "timer", M{"name": "once", "due_ms": 1000})
	clock.Advance(999 * time.Millisecond)
	settle()
	assert.Zero(t, get(t, h, ref, "once").Hits, "not due yet")
	clock.Advance(time.Millisecond)
	waitHits(t, h, ref, "once", 1)
	clock.Advance(time.Hour)
	settle()
	assert.EqualValues(t, 1, get(t, h, ref, "once").Hits, "a once timer fires once")

	mustCall(t, h, ref, "timer", M{"name": "tick", "due_ms": 500, "period_ms": 1000})
	clock.Advance(500 * time.Millisecond)
	waitHits(t, h, ref, "tick", 1)
	for i := uint64(2); i <= 4; i++ {
		clock.Advance(time.Second)
		waitHits(t, h, ref, "tick", i)
	}
	mustCall(t, h, ref, "cancel_timer", M{"name": "tick"})
	clock.Advance(time.Hour)
	settle()
	assert.EqualValues(t, 4, get(t, h, ref, "tick").Hits, "no tick after cancel")
}

func TestFailedTurnSetsNoTimerOrReminder(t *testing.T) {
	clock := scheduler.NewManualClock(epoch)
	h := clockHost(t, memstore.New(), clock, 0)
	const ref = "clock/failed"
	_, err := call(t, h, ref, "set_and_fail", M{"name": "x"})
	require.Error(t, err)
	assert.Equal(t, "refused", err.(*abi.Error).Code)
	clock.Advance(time.Hour)
	settle()
	assert.Zero(t, get(t, h, ref, "x").Hits)
	list, err := h.Reminders(context.Background(), abi.Ref{Type: "clock", ID: "failed"})
	require.NoError(t, err)
	assert.Empty(t, list)
}

func TestTimersStopAtDeactivation(t *testing.T) {
	clock := scheduler.NewManualClock(epoch)
	store := memstore.New()
	h := clockHost(t, store, clock, 0)
	const ref = "clock/sleepy"
	mustCall(t, h, ref, "timer", M{"name": "t", "due_ms": 10000, "period_ms": 10000})
	mustCall(t, h, ref, "deactivate", nil)
	require.Eventually(t, func() bool { return !isActive(h, ref) }, 5*time.Second, time.Millisecond)
	clock.Advance(time.Minute)
	settle()
	assert.False(t, isActive(h, ref), "a timer of a deactivated actor must not wake it")
	assert.Zero(t, storedState(t, store, ref, "hits/t"))
	assert.EqualValues(t, 1, storedState(t, store, ref, "deactivations"), "the deactivate hook ran and committed")
}

// A live redeploy hands an activation over: the old version's deactivate
// hook runs and commits before the new version's activate hook.
func TestRedeployRunsDeactivateThenActivate(t *testing.T) {
	store := memstore.New()
	h := clockHost(t, store, scheduler.NewManualClock(epoch), 0)
	const ref = "clock/redeploy"
	s := get(t, h, ref, "x")
	assert.EqualValues(t, 1, s.Activations)
	assert.EqualValues(t, 0, s.Deactivations)

	require.NoError(t, h.Deploy(context.Background(), host.TypeConfig{Name: "clock", Module: testwasm.Go(t, "clockwork"), Source: "clockwork-v2.wasm"}))
	s = get(t, h, ref, "x")
	assert.EqualValues(t, 1, s.Deactivations, "the old version's deactivate hook ran")
	assert.EqualValues(t, 2, s.Activations, "the new version's activate hook ran")
	assert.EqualValues(t, 1, storedState(t, store, ref, "deactivations"), "and what it wrote committed")
}

func TestLifecycleHooks(t *testing.T) {
	clock := scheduler.NewManualClock(epoch)
	store := memstore.New()
	ctx := context.Background()
	// State written before the actor was ever activated.
	require.NoError(t, store.Commit(ctx, &storage.Batch{Actor: "clock/hooks", Puts: map[string][]byte{
		"seed": cborOf(t, 42), "boot_timer_ms": cborOf(t, 1000),
	}}))
	h := clockHost(t, store, clock, 0)
	const ref = "clock/hooks"

	s := get(t, h, ref, "boot")
	assert.EqualValues(t, 1, s.Activations, "the activate hook ran once")
	assert.EqualValues(t, 42, s.Seed, "the activate hook saw the loaded state")
	assert.EqualValues(t, 1, storedState(t, store, ref, "activations"), "the hook's write committed")
	clock.Advance(time.Second)
	waitHits(t, h, ref, "boot", 1) // a timer set by the activate hook

	// A trap discards the instance; the next one runs the hook again.
	_, err := call(t, h, ref, "panic", nil)
	require.ErrorIs(t, err, abi.ErrTrapped)
	assert.EqualValues(t, 2, get(t, h, ref, "x").Activations)

	mustCall(t, h, ref, "deactivate", nil)
	require.Eventually(t, func() bool { return storedState(t, store, ref, "deactivations") == 1 }, 5*time.Second, time.Millisecond)
	s = get(t, h, ref, "x")
	assert.EqualValues(t, 3, s.Activations)
	assert.EqualValues(t, 1, s.Deactivations)

	// Closing the host deactivates, and runs the hook, too.
	closeHost(t, h)
	assert.EqualValues(t, 2, storedState(t, store, ref, "deactivations"))
}

func TestFailingActivateHookFailsTheActivation(t *testing.T) {
	clock := scheduler.NewManualClock(epoch)
	store := memstore.New()
	ctx := context.Background()
	require.NoError(t, store.Commit(ctx, &storage.Batch{Actor: "clock/refuser", Puts: map[string][]byte{"fail_activate": cborOf(t, true)}}))
	h := clockHost(t, store, clock, 0)

	_, err := call(t, h, "clock/refuser", "get", M{})
	require.Error(t, err)
	assert.Equal(t, "activate_failed", err.(*abi.Error).Code)
	assert.Contains(t, err.Error(), "activating clock/refuser")
	assert.False(t, isActive(h, "clock/refuser"))

	require.NoError(t, store.Commit(ctx, &storage.Batch{Actor: "clock/refuser", Version: 1, Deletes: []string{"fail_activate"}}))
	assert.EqualValues(t, 1, get(t, h, "clock/refuser", "x").Activations, "the next message activates afresh")
}

func TestRemindersFire(t *testing.T) {
	clock := scheduler.NewManualClock(epoch)
	h := clockHost(t, memstore.New(), clock, 0)
	const ref = "clock/rem"
	ctx := context.Background()
	aref := abi.Ref{Type: "clock", ID: "rem"}

	mustCall(t, h, ref, "reminder", M{"name": "once", "in_ms": 1500})
	mustCall(t, h, ref, "reminder", M{"name": "every", "every_ms": 1000, "first_ms": 500})
	mustCall(t, h, ref, "reminder", M{"name": "cron", "cron": "*/5 * * * *", "missed": "skip"})
	mustCall(t, h, ref, "reminder", M{"name": "gone", "in_ms": 100})
	mustCall(t, h, ref, "cancel_reminder", M{"name": "gone"})

	list, err := h.Reminders(ctx, aref)
	require.NoError(t, err)
	require.Len(t, list, 3)
	assert.Equal(t, host.ReminderInfo{Actor: "clock/rem", Name: "cron", Method: "hit", Payload: cborOf(t, M{"name": "cron"}),
		Due: epoch.Add(5 * time.Minute), Cron: "*/5 * * * *", Missed: "skip"}, list[0])
	assert.Equal(t, "every", list[1].Name)
	assert.Equal(t, time.Second, list[1].Every)
	assert.Equal(t, epoch.Add(500*time.Millisecond), list[1].Due)
	assert.Equal(t, host.ReminderInfo{Actor: "clock/rem", Name: "once", Method: "hit", Payload: cborOf(t, M{"name": "once"}),
		Due: epoch.Add(1500 * time.Millisecond), Missed: "catch_up"}, list[2])

	clock.Advance(500 * time.Millisecond)
	waitHits(t, h, ref, "every", 1)
	clock.Advance(999 * time.Millisecond)
	settle()
	assert.Zero(t, get(t, h, ref, "once").Hits)
	clock.Advance(time.Millisecond)
	waitHits(t, h, ref, "once", 1)
	waitHits(t, h, ref, "every", 2)
	clock.Advance(time.Second)
	waitHits(t, h, ref, "every", 3)

	list, err = h.Reminders(ctx, aref)
	require.NoError(t, err)
	require.Len(t, list, 2, "the once reminder is gone after it fired")
	assert.Equal(t, epoch.Add(3500*time.Millisecond), list[1].Due, "the periodic one moved on")

	// The cron reminder is five minutes away, beyond what is loaded at
	// first: the periodic loads pick it up as time passes.
	mustCall(t, h, ref, "cancel_reminder", M{"name": "every"})
	for clock.Now().Before(epoch.Add(5 * time.Minute)) {
		clock.Advance(10 * time.Second)
	}
	waitHits(t, h, ref, "cron", 1)
	for clock.Now().Before(epoch.Add(10 * time.Minute)) {
		clock.Advance(10 * time.Second)
	}
	waitHits(t, h, ref, "cron", 2)
	assert.EqualValues(t, 3, get(t, h, ref, "every").Hits, "no firing after cancel")
	list, err = h.Reminders(ctx, aref)
	require.NoError(t, err)
	require.Len(t, list, 1)
	assert.Equal(t, epoch.Add(15*time.Minute), list[0].Due)
}

// A reminder wakes an actor that was deactivated or evicted.
func TestReminderReactivatesEvictedActor(t *testing.T) {
	clock := scheduler.NewManualClock(epoch)
	store := memstore.New()
	h := clockHost(t, store, clock, 1)
	mustCall(t, h, "clock/a", "reminder", M{"name": "r", "in_ms": 1000})
	mustCall(t, h, "clock/b", "get", M{}) // evicts clock/a
	require.Eventually(t, func() bool { return storedState(t, store, "clock/a", "deactivations") == 1 }, 5*time.Second, time.Millisecond)
	assert.False(t, isActive(h, "clock/a"))

	clock.Advance(time.Second)
	require.Eventually(t, func() bool { return storedState(t, store, "clock/a", "hits/r") == 1 }, 5*time.Second, time.Millisecond)
	assert.EqualValues(t, 2, storedState(t, store, "clock/a", "activations"), "the firing activated clock/a again")
	assert.LessOrEqual(t, len(h.Activations()), 1, "the cap holds")
}

// A firing whose turn fails stays due and is tried again with backoff.
func TestFailedFiringIsRetried(t *testing.T) {
	clock := scheduler.NewManualClock(epoch)
	h := clockHost(t, memstore.New(), clock, 0)
	const ref = "clock/flaky"
	aref := abi.Ref{Type: "clock", ID: "flaky"}
	mustCall(t, h, ref, "break", nil)
	mustCall(t, h, ref, "reminder", M{"name": "r", "in_ms": 1000})
	clock.Advance(time.Second) // fails: retried in 1s
	clock.WaitAlarms(2, 5*time.Second)
	clock.Advance(time.Second) // fails: retried in 2s
	settle()
	list, err := h.Reminders(context.Background(), aref)
	require.NoError(t, err)
	require.Len(t, list, 1, "a failed firing leaves the reminder due")
	mustCall(t, h, ref, "fix", nil)
	assert.Zero(t, get(t, h, ref, "r").Hits)
	clock.Advance(2 * time.Second)
	waitHits(t, h, ref, "r", 1)
	list, err = h.Reminders(context.Background(), aref)
	require.NoError(t, err)
	assert.Empty(t, list)
}

// Reminders survive a restart of the host on badger, and the ticks missed
// while it was down follow each reminder's policy.
func TestRemindersSurviveRestart(t *testing.T) {
	dir := t.TempDir()
	open := func() *badgerstore.Store {
		s, err := badgerstore.Open(dir, badgerstore.DefaultOptions())
		require.NoError(t, err)
		return s
	}
	clock := scheduler.NewManualClock(epoch)
	store := open()
	h := clockHost(t, store, clock, 0)
	const ref = "clock/durable"
	mustCall(t, h, ref, "reminder", M{"name": "once", "in_ms": 10000})
	mustCall(t, h, ref, "reminder", M{"name": "once_skip", "in_ms": 10000, "missed": "skip"})
	mustCall(t, h, ref, "reminder", M{"name": "catch", "every_ms": 10000})
	mustCall(t, h, ref, "reminder", M{"name": "skip", "every_ms": 10000, "missed": "skip"})
	mustCall(t, h, ref, "reminder", M{"name": "later", "every_ms": 3600000})
	closeHost(t, h)
	require.NoError(t, store.Close())

	clock.Advance(35 * time.Second) // three ticks missed while down
	store = open()
	defer store.Close()
	h = clockHost(t, store, clock, 0)
	clock.Advance(0) // the overdue reminders' alarms
	waitHits(t, h, ref, "once", 1)
	waitHits(t, h, ref, "catch", 1)
	require.Eventually(t, func() bool {
		list, _ := h.Reminders(context.Background(), abi.Ref{Type: "clock", ID: "durable"})
		return len(list) == 3
	}, 5*time.Second, time.Millisecond, "the once reminders are gone: one fired, one skipped")
	list, err := h.Reminders(context.Background(), abi.Ref{Type: "clock", ID: "durable"})
	require.NoError(t, err)
	due := map[string]time.Time{}
	for _, r := range list {
		due[r.Name] = r.Due
	}
	assert.Equal(t, epoch.Add(40*time.Second), due["catch"], "catch_up fired once, then back on schedule")
	assert.Equal(t, epoch.Add(40*time.Second), due["skip"], "skip moved to the next tick")
	assert.Equal(t, epoch.Add(time.Hour), due["later"])
	assert.Zero(t, get(t, h, ref, "skip").Hits)
	assert.Zero(t, get(t, h, ref, "once_skip").Hits)

	clock.Advance(5 * time.Second)
	waitHits(t, h, ref, "catch", 2)
	waitHits(t, h, ref, "skip", 1)
	assert.EqualValues(t, 1, get(t, h, ref, "once").Hits)
}

// The host-wide cap evicts the least recently used idle activation.
func TestMaxActivationsEvictsIdle(t *testing.T) {
	clock := scheduler.NewManualClock(epoch)
	store := memstore.New()
	h := clockHost(t, store, clock, 2)
	for _, id := range []string{"a", "b", "c", "d", "a"} {
		mustCall(t, h, "clock/"+id, "get", M{})
		assert.LessOrEqual(t, len(h.Activations()), 2)
	}
	require.Eventually(t, func() bool { return storedState(t, store, "clock/a", "deactivations") == 1 }, 5*time.Second, time.Millisecond)
	assert.EqualValues(t, 2, storedState(t, store, "clock/a", "activations"))
}
