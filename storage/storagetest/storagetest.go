package storagetest

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/wactor/wactor/storage"
)

// Run runs the conformance suite against the stores open returns. Every
// subtest opens a fresh, empty store and closes it when it ends; open may
// also close it in a t.Cleanup, so a second Close must return nil or
// storage.ErrClosed.
func Run(t *testing.T, open func(t *testing.T) storage.Store) {
	t.Helper()
	tests := []struct {
		name string
		run  func(t *testing.T, s storage.Store)
	}{
		{"LoadUnknownActor", testLoadUnknownActor},
		{"Commit", testCommit},
		{"VersionConflict", testVersionConflict},
		{"NoStateChangeSkipsVersionCheck", testNoStateChangeSkipsVersionCheck},
		{"Outbox", testOutbox},
		{"OutboxPages", testOutboxPages},
		{"TurnBatch", testTurnBatch},
		{"ConsumeOnce", testConsumeOnce},
		{"ActorsAreIsolated", testActorsAreIsolated},
		{"ValuesAreCopied", testValuesAreCopied},
		{"LoadSeesWholeBatches", testLoadSeesWholeBatches},
		{"Hammer", testHammer},
		{"CanceledContext", testCanceledContext},
		{"Closed", testClosed},
		{"Records", testRecords},
		{"DeadLetters", testDeadLetters},
		{"DeadLetterPages", testDeadLetterPages},
		{"DeadLetterPayloadLeftOut", testDeadLetterPayloadLeftOut},
		{"DeadLetterCap", testDeadLetterCap},
		{"DeadLetterCapBytes", testDeadLetterCapBytes},
		{"Reminders", testReminders},
		{"DueReminderOrder", testDueReminderOrder},
		{"ReminderUpdateMovesIndex", testReminderUpdateMovesIndex},
		{"ReminderCancel", testReminderCancel},
		{"RemindersAtomicWithBatch", testRemindersAtomicWithBatch},
		{"RemindersVersionConflict", testRemindersVersionConflict},
		{"RemindersCopied", testRemindersCopied},
		{"FenceWithoutLeases", testFenceWithoutLeases},
		{"TraceKept", testTraceKept},
		{"Links", testLinks},
		{"LinkPages", testLinkPages},
		{"LinksAtomicWithBatch", testLinksAtomicWithBatch},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := open(t)
			closeAtCleanup(t, s)
			tt.run(t, s)
		})
	}
}

// RunReopen checks a store that persists. open opens the store kept in dir;
// RunReopen calls it several times with the same dir, closing the previous
// store first, and checks that what was committed survives.
func RunReopen(t *testing.T, open func(t *testing.T, dir string) storage.Store) {
	t.Helper()
	tests := []struct {
		name string
		run  func(t *testing.T, reopen func(t *testing.T) storage.Store)
	}{
		{"StateVersionsAndOutboxSurvive", testSurvivesReopen},
		{"CloseKeepsAcknowledgedCommits", testCloseKeepsAcknowledgedCommits},
		{"RemindersSurvive", testRemindersSurviveReopen},
		{"DeadLettersSurvive", testDeadLettersSurviveReopen},
		{"TraceSurvives", testTraceSurvivesReopen},
		{"LinksSurvive", testLinksSurviveReopen},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			reopen := func(t *testing.T) storage.Store {
				t.Helper()
				s := open(t, dir)
				closeAtCleanup(t, s)
				return s
			}
			tt.run(t, reopen)
		})
	}
}

func testSurvivesReopen(t *testing.T, reopen func(t *testing.T) storage.Store) {
	s := reopen(t)
	commit(t, s, &storage.Batch{Actor: "a", Puts: puts("x", "1", "y", "2")})
	commit(t, s, &storage.Batch{Actor: "a", Version: 1, Puts: puts("z", "3"), Deletes: []string{"y"}})
	commit(t, s, &storage.Batch{Actor: "b", Puts: puts("k\x00\xff", "")})
	commit(t, s, &storage.Batch{Send: []storage.Message{msg("m1", "b"), msg("m2", "a"), msg("m3", "a")}})
	commit(t, s, &storage.Batch{Consumed: []string{"m2"}})
	closeStore(t, s)

	s = reopen(t)
	checkSnapshot(t, s, "a", 2, puts("x", "1", "z", "3"))
	checkSnapshot(t, s, "b", 1, puts("k\x00\xff", ""))
	checkOutbox(t, s, msg("m1", "b"), msg("m3", "a"))
	err := s.Commit(t.Context(), &storage.Batch{Actor: "a", Version: 1, Puts: puts("x", "stale")})
	if !errors.Is(err, storage.ErrVersionConflict) {
		t.Fatalf("Commit with a version from before the reopen: got %v, want %v", err, storage.ErrVersionConflict)
	}
	commit(t, s, &storage.Batch{Actor: "a", Version: 2, Puts: puts("x", "4"), Consumed: []string{"m1"}})
	closeStore(t, s)

	s = reopen(t)
	checkSnapshot(t, s, "a", 3, puts("x", "4", "z", "3"))
	checkOutbox(t, s, msg("m3", "a"))
}

// testCloseKeepsAcknowledgedCommits closes the store while goroutines
// commit: each Commit must either succeed and survive the reopen or fail
// with storage.ErrClosed.
func testCloseKeepsAcknowledgedCommits(t *testing.T, reopen func(t *testing.T) storage.Store) {
	const committers = 8
	s := reopen(t)
	var (
		wg      sync.WaitGroup
		started = make(chan struct{}, committers) // one when each has committed once
		last    [committers]uint64                // versions acknowledged
	)
	for g := range committers {
		wg.Go(func() {
			signal := sync.OnceFunc(func() { started <- struct{}{} })
			defer signal()
			actor := fmt.Sprintf("closing/%d", g)
			for v := uint64(0); ; v++ {
				err := s.Commit(t.Context(), &storage.Batch{Actor: actor, Version: v, Puts: puts("v", strconv.FormatUint(v+1, 10))})
				if errors.Is(err, storage.ErrClosed) {
					return
				}
				if err != nil {
					t.Errorf("%s: Commit version %d: %v", actor, v, err)
					return
				}
				last[g] = v + 1
				signal()
			}
		})
	}
	for range committers {
		<-started
	}
	closeStore(t, s)
	wg.Wait()

	s = reopen(t)
	for g, v := range last {
		want := puts("v", strconv.FormatUint(v, 10))
		if v == 0 {
			want = nil
		}
		checkSnapshot(t, s, fmt.Sprintf("closing/%d", g), v, want)
	}
}

// closeAtCleanup closes s when t ends, if it is not closed by then.
func closeAtCleanup(t *testing.T, s storage.Store) {
	t.Helper()
	if s == nil {
		t.Fatal("open returned a nil Store")
	}
	t.Cleanup(func() {
		if err := s.Close(); err != nil && !errors.Is(err, storage.ErrClosed) {
			t.Errorf("Close: %v", err)
		}
	})
}

func closeStore(t *testing.T, s storage.Store) {
	t.Helper()
	if err := s.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
}

func testLoadUnknownActor(t *testing.T, s storage.Store) {
	checkSnapshot(t, s, "never/written", 0, nil)
}

func testCommit(t *testing.T, s storage.Store) {
	tests := []struct {
		name        string
		batches     []storage.Batch
		wantVersion uint64
		wantState   map[string][]byte
	}{
		{
			name:        "put",
			batches:     []storage.Batch{{Puts: puts("k", "v")}},
			wantVersion: 1,
			wantState:   puts("k", "v"),
		},
		{
			name: "overwrite",
			batches: []storage.Batch{
				{Puts: puts("k", "v1", "other", "o")},
				{Version: 1, Puts: puts("k", "v2")},
			},
			wantVersion: 2,
			wantState:   puts("k", "v2", "other", "o"),
		},
		{
			name: "delete",
			batches: []storage.Batch{
				{Puts: puts("k", "v", "keep", "x")},
				{Version: 1, Deletes: []string{"k"}},
			},
			wantVersion: 2,
			wantState:   puts("keep", "x"),
		},
		{
			name: "delete of a missing key is a change",
			batches: []storage.Batch{
				{Puts: puts("k", "v")},
				{Version: 1, Deletes: []string{"missing"}},
			},
			wantVersion: 2,
			wantState:   puts("k", "v"),
		},
		{
			name: "key in Puts and Deletes is deleted",
			batches: []storage.Batch{
				{Puts: puts("old", "v")},
				{Version: 1, Puts: puts("old", "new", "fresh", "f", "kept", "k"), Deletes: []string{"old", "fresh"}},
			},
			wantVersion: 2,
			wantState:   puts("kept", "k"),
		},
		{
			name: "batch without state changes keeps the version",
			batches: []storage.Batch{
				{Puts: puts("k", "v")},
				{Version: 1, Send: []storage.Message{msg("id", "x/1")}},
				{Version: 1},
			},
			wantVersion: 1,
			wantState:   puts("k", "v"),
		},
		{
			name:        "empty values",
			batches:     []storage.Batch{{Puts: map[string][]byte{"empty": {}, "nil": nil}}},
			wantVersion: 1,
			wantState:   map[string][]byte{"empty": {}, "nil": {}},
		},
		{
			name: "binary keys and values",
			batches: []storage.Batch{
				{Puts: map[string][]byte{"\x00": {0}, "a\x00b": {0xff, 0}, "\xff\xfe": {1, 2, 3}, "ünï": []byte("côdé")}},
				{Version: 1, Deletes: []string{"\x00"}},
			},
			wantVersion: 2,
			wantState:   map[string][]byte{"a\x00b": {0xff, 0}, "\xff\xfe": {1, 2, 3}, "ünï": []byte("côdé")},
		},
		{
			name: "large value",
			batches: []storage.Batch{
				{Puts: map[string][]byte{"big": bytes.Repeat([]byte{7}, 1<<20), "small": {1}}},
			},
			wantVersion: 1,
			wantState:   map[string][]byte{"big": bytes.Repeat([]byte{7}, 1<<20), "small": {1}},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			actor := "commit/" + tt.name
			for i := range tt.batches {
				b := tt.batches[i]
				b.Actor = actor
				commit(t, s, &b)
			}
			checkSnapshot(t, s, actor, tt.wantVersion, tt.wantState)
		})
	}
}

func testVersionConflict(t *testing.T, s storage.Store) {
	const actor = "conflict/1"
	commit(t, s, &storage.Batch{Actor: actor, Puts: puts("k", "v1")})
	commit(t, s, &storage.Batch{Actor: actor, Version: 1, Puts: puts("k", "v2", "j", "j")})
	commit(t, s, &storage.Batch{Send: []storage.Message{msg("pending", actor)}})

	tests := []struct {
		name    string
		version uint64
	}{
		{"stale version", 1},
		{"version from the future", 3},
		{"version zero", 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := s.Commit(t.Context(), &storage.Batch{
				Actor:    actor,
				Version:  tt.version,
				Puts:     puts("k", "lost", "new", "lost"),
				Deletes:  []string{"j"},
				Send:     []storage.Message{msg("lost", "x/1")},
				Consumed: []string{"pending"},
				Records:  []storage.Record{{Key: "lost", Reply: []byte("r"), Expires: time.Now().Add(time.Hour)}},
			})
			if !errors.Is(err, storage.ErrVersionConflict) {
				t.Fatalf("Commit: got %v, want %v", err, storage.ErrVersionConflict)
			}
			checkSnapshot(t, s, actor, 2, puts("k", "v2", "j", "j"))
			checkOutbox(t, s, msg("pending", actor))
			checkRecord(t, s, "lost", nil)
		})
	}
}

// testNoStateChangeSkipsVersionCheck follows storage.Batch: Version is only
// checked when the batch changes state.
func testNoStateChangeSkipsVersionCheck(t *testing.T, s storage.Store) {
	const actor = "nostate/1"
	commit(t, s, &storage.Batch{Actor: actor, Puts: puts("k", "v")})
	commit(t, s, &storage.Batch{Send: []storage.Message{msg("in", actor)}})
	commit(t, s, &storage.Batch{
		Actor:    actor,
		Version:  7,
		Send:     []storage.Message{msg("out", "x/1")},
		Consumed: []string{"in"},
	})
	checkSnapshot(t, s, actor, 1, puts("k", "v"))
	checkOutbox(t, s, msg("out", "x/1"))
}

func testOutbox(t *testing.T, s storage.Store) {
	checkOutbox(t, s)

	full := storage.Message{ID: "05", Target: "t/1", Sender: "s/1", Method: "m", Payload: []byte{0, 0xff, 1}}
	empty := storage.Message{ID: "04", Target: "t/2", Method: "m"}
	commit(t, s, &storage.Batch{Send: []storage.Message{msg("09", "t/1"), full, msg("01", "t/2")}})
	commit(t, s, &storage.Batch{Send: []storage.Message{msg("03", "t/1"), empty, msg("10", "t/3")}})
	checkOutbox(t, s, msg("01", "t/2"), msg("03", "t/1"), empty, full, msg("09", "t/1"), msg("10", "t/3"))

	commit(t, s, &storage.Batch{Consumed: []string{"03", "09", "unknown"}})
	checkOutbox(t, s, msg("01", "t/2"), empty, full, msg("10", "t/3"))

	commit(t, s, &storage.Batch{Consumed: []string{"01", "04", "05", "10"}})
	checkOutbox(t, s)
}

// testOutboxPages walks an outbox of 2,500 entries, some consumed, in
// pages: every entry left comes once, none consumed comes, the entries of
// one sender to one target come in send order, and a page holds at most
// what was asked (MaxOutboxPage at most).
func testOutboxPages(t *testing.T, s storage.Store) {
	ctx := t.Context()
	if page, next, err := s.OutboxPage(ctx, "", 10); err != nil || len(page) != 0 || next != "" {
		t.Fatalf("OutboxPage of an empty outbox = %d entries, next %q, %v", len(page), next, err)
	}
	const n = 2500
	want := make(map[string]bool)
	for start := 0; start < n; start += 500 {
		b := &storage.Batch{}
		for i := start; i < start+500; i++ {
			id := fmt.Sprintf("%06d", i)
			b.Send = append(b.Send, msg(id, fmt.Sprintf("t/%d", i%7)))
			want[id] = true
		}
		commit(t, s, b)
	}
	var consumed []string
	for i := 0; i < n; i += 3 {
		id := fmt.Sprintf("%06d", i)
		consumed = append(consumed, id)
		delete(want, id)
	}
	commit(t, s, &storage.Batch{Consumed: consumed})

	for _, limit := range []int{300, 0} {
		seen := make(map[string]bool)
		last := make(map[string]string) // target -> the last ID seen
		cursor, pages := "", 0
		for {
			page, next, err := s.OutboxPage(ctx, cursor, limit)
			if err != nil {
				t.Fatalf("OutboxPage(%q, %d): %v", cursor, limit, err)
			}
			if len(page) > storage.OutboxPageLimit(limit) {
				t.Fatalf("OutboxPage(%q, %d) returned %d entries", cursor, limit, len(page))
			}
			for _, m := range page {
				if !want[m.ID] || seen[m.ID] {
					t.Fatalf("OutboxPage(%q, %d) listed %s: consumed, or listed before", cursor, limit, m.ID)
				}
				if want := msg(m.ID, m.Target); m.Sender != want.Sender || m.Method != want.Method || !bytes.Equal(m.Payload, want.Payload) || m.Key != want.Key {
					t.Fatalf("OutboxPage listed %+v, want %+v", m, want)
				}
				if m.ID < last[m.Target] {
					t.Fatalf("OutboxPage listed %s to %s after %s", m.ID, m.Target, last[m.Target])
				}
				seen[m.ID], last[m.Target] = true, m.ID
			}
			pages++
			if next == "" {
				break
			}
			if pages > n {
				t.Fatalf("OutboxPage walked %d pages of %d entries", pages, n)
			}
			cursor = next
		}
		if len(seen) != len(want) {
			t.Fatalf("a walk with limit %d listed %d entries, want %d", limit, len(seen), len(want))
		}
	}
}

// testTurnBatch commits what a turn commits: state, the message it consumed
// and the messages it sent, together.
func testTurnBatch(t *testing.T, s storage.Store) {
	const actor = "turn/1"
	commit(t, s, &storage.Batch{Send: []storage.Message{msg("in1", actor), msg("in2", actor)}})
	commit(t, s, &storage.Batch{
		Actor:    actor,
		Puts:     puts("count", "1"),
		Send:     []storage.Message{msg("out1", "other/1")},
		Consumed: []string{"in1"},
	})
	checkSnapshot(t, s, actor, 1, puts("count", "1"))
	checkOutbox(t, s, msg("in2", actor), msg("out1", "other/1"))
}

// testConsumeOnce: a batch that consumes once an outbox entry another
// commit consumed first (a message delivered twice) applies nothing and
// fails with a *ConsumedError naming it; so does one of two such batches
// racing; without ConsumeOnce a gone entry is skipped.
func testConsumeOnce(t *testing.T, s storage.Store) {
	const actor = "once/1"
	ctx := context.Background()
	commit(t, s, &storage.Batch{Send: []storage.Message{msg("in1", actor), msg("in2", actor)}})
	turn := func(version uint64, value string, ids ...string) *storage.Batch {
		return &storage.Batch{Actor: actor, Version: version, Puts: puts("k", value), Consumed: ids, ConsumeOnce: true,
			Send: []storage.Message{msg("out-"+value, "other/1")}}
	}
	commit(t, s, turn(0, "first", "in1"))
	err := s.Commit(ctx, turn(1, "again", "in1"))
	if !errors.Is(err, storage.ErrConsumed) {
		t.Fatalf("consuming in1 twice: got %v, want ErrConsumed", err)
	}
	var ce *storage.ConsumedError
	if !errors.As(err, &ce) || !slices.Equal(ce.IDs, []string{"in1"}) {
		t.Fatalf("consuming in1 twice: got %#v, want a *ConsumedError naming in1", err)
	}
	// Nothing of the refused batch: not its state, not its message, and
	// in2, which it consumed too, stays.
	err = s.Commit(ctx, turn(1, "mixed", "in2", "in1"))
	if !errors.Is(err, storage.ErrConsumed) {
		t.Fatalf("consuming in2 and in1 again: got %v, want ErrConsumed", err)
	}
	// One batch consuming in2 twice (two deliveries of it merged) would
	// apply it twice: refused too.
	err = s.Commit(ctx, turn(1, "twice", "in2", "in2"))
	if !errors.As(err, &ce) || !slices.Equal(ce.IDs, []string{"in2"}) {
		t.Fatalf("consuming in2 twice in one batch: got %v, want a *ConsumedError naming in2", err)
	}
	checkSnapshot(t, s, actor, 1, puts("k", "first"))
	checkOutbox(t, s, msg("in2", actor), msg("out-first", "other/1"))
	// Without ConsumeOnce an entry that is gone is skipped.
	commit(t, s, &storage.Batch{Consumed: []string{"in1", "out-first"}})
	checkOutbox(t, s, msg("in2", actor))

	// Two batches racing to consume in2 once: exactly one applies.
	var wg sync.WaitGroup
	errs := make([]error, 2)
	for i := range errs {
		wg.Go(func() {
			errs[i] = s.Commit(ctx, &storage.Batch{Consumed: []string{"in2"}, ConsumeOnce: true,
				Send: []storage.Message{msg("race-"+strconv.Itoa(i), "other/2")}})
		})
	}
	wg.Wait()
	won := 0
	for _, err := range errs {
		switch {
		case err == nil:
			won++
		case !errors.Is(err, storage.ErrConsumed):
			t.Fatalf("a racing batch failed with %v, want nil or ErrConsumed", err)
		}
	}
	if won != 1 {
		t.Fatalf("%d of two batches consuming in2 once applied, want 1", won)
	}
	out, err := s.Outbox(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(out) != 1 || !strings.HasPrefix(out[0].ID, "race-") {
		t.Fatalf("outbox after the race: %v, want the winner's message only", out)
	}
}

func testActorsAreIsolated(t *testing.T, s storage.Store) {
	actors := []string{"a", "ab", "a\x00b", "a/b", "b", ""}
	for i, a := range actors {
		if a == "" {
			continue
		}
		for v := range i + 1 {
			commit(t, s, &storage.Batch{Actor: a, Version: uint64(v), Puts: puts("k", a, "b", strconv.Itoa(v))})
		}
	}
	for i, a := range actors {
		if a == "" {
			checkSnapshot(t, s, a, 0, nil)
			continue
		}
		checkSnapshot(t, s, a, uint64(i+1), puts("k", a, "b", strconv.Itoa(i)))
	}
}

func testValuesAreCopied(t *testing.T, s storage.Store) {
	const actor = "copy/1"
	value := []byte("value")
	payload := []byte("payload")
	b := &storage.Batch{
		Actor: actor,
		Puts:  map[string][]byte{"k": value},
		Send:  []storage.Message{{ID: "m", Target: "t/1", Method: "m", Payload: payload}},
	}
	commit(t, s, b)
	copy(value, "XXXXX")
	copy(payload, "XXXXXXX")
	b.Puts["k2"] = []byte("late")
	b.Send[0].ID = "changed"

	want := map[string][]byte{"k": []byte("value")}
	wantMsg := storage.Message{ID: "m", Target: "t/1", Method: "m", Payload: []byte("payload")}
	checkSnapshot(t, s, actor, 1, want)
	checkOutbox(t, s, wantMsg)

	snap := load(t, s, actor)
	copy(snap.State["k"], "YYYYY")
	snap.State["k3"] = []byte("added")
	out := outbox(t, s)
	copy(out[0].Payload, "YYYYYYY")
	checkSnapshot(t, s, actor, 1, want)
	checkOutbox(t, s, wantMsg)
}

// testLoadSeesWholeBatches loads while another goroutine commits batches that
// each write two keys and bump the version: a Load must never see half a
// batch.
func testLoadSeesWholeBatches(t *testing.T, s storage.Store) {
	const (
		actor   = "atomic/1"
		commits = 100
	)
	var wg sync.WaitGroup
	done := make(chan struct{})
	wg.Go(func() {
		defer close(done)
		for v := range uint64(commits) {
			n := strconv.FormatUint(v+1, 10)
			if err := s.Commit(t.Context(), &storage.Batch{Actor: actor, Version: v, Puts: puts("x", n, "y", n)}); err != nil {
				t.Errorf("Commit version %d: %v", v, err)
				return
			}
		}
	})
	for range 2 {
		wg.Go(func() {
			for {
				select {
				case <-done:
					return
				default:
				}
				snap, err := s.Load(t.Context(), actor)
				if err != nil {
					t.Errorf("Load: %v", err)
					return
				}
				if snap.Version == 0 {
					continue
				}
				n := strconv.FormatUint(snap.Version, 10)
				if x, y := string(snap.State["x"]), string(snap.State["y"]); x != n || y != n {
					t.Errorf("Load saw version %d with x=%q y=%q: half a batch", snap.Version, x, y)
					return
				}
			}
		})
	}
	wg.Wait()
	checkSnapshot(t, s, actor, commits, puts("x", strconv.Itoa(commits), "y", strconv.Itoa(commits)))
}

// testHammer commits from many goroutines at once: each owns an actor and
// sends messages, and a few more increment one shared counter with
// optimistic retries, so conflicts are decided between concurrent commits.
func testHammer(t *testing.T, s storage.Store) {
	owners, commits, incrementers, increments := 16, 25, 4, 15
	if testing.Short() {
		owners, commits, increments = 4, 10, 5
	}
	const counter = "hammer/counter"
	var wg sync.WaitGroup
	for g := range owners {
		wg.Go(func() {
			actor := fmt.Sprintf("hammer/%02d", g)
			for v := range commits {
				err := s.Commit(t.Context(), &storage.Batch{
					Actor:   actor,
					Version: uint64(v),
					Puts:    puts("last", strconv.Itoa(v), fmt.Sprintf("k%03d", v), actor),
					Send:    []storage.Message{msg(fmt.Sprintf("%s-%03d", actor, v), counter)},
				})
				if err != nil {
					t.Errorf("%s: Commit version %d: %v", actor, v, err)
					return
				}
			}
		})
	}
	for range incrementers {
		wg.Go(func() {
			for range increments {
				if err := increment(t.Context(), s, counter); err != nil {
					t.Errorf("increment: %v", err)
					return
				}
			}
		})
	}
	wg.Wait()
	if t.Failed() {
		return
	}

	var want []storage.Message
	for g := range owners {
		actor := fmt.Sprintf("hammer/%02d", g)
		state := puts("last", strconv.Itoa(commits-1))
		for v := range commits {
			state[fmt.Sprintf("k%03d", v)] = []byte(actor)
			want = append(want, msg(fmt.Sprintf("%s-%03d", actor, v), counter))
		}
		checkSnapshot(t, s, actor, uint64(commits), state)
	}
	total := incrementers * increments
	checkSnapshot(t, s, counter, uint64(total), puts("n", strconv.Itoa(total)))
	checkOutbox(t, s, want...)
}

// increment adds one to the counter in actor's key "n", retrying on conflict.
func increment(ctx context.Context, s storage.Store, actor string) error {
	for {
		snap, err := s.Load(ctx, actor)
		if err != nil {
			return err
		}
		n := 0
		if v, ok := snap.State["n"]; ok {
			if n, err = strconv.Atoi(string(v)); err != nil {
				return fmt.Errorf("counter %q: %w", v, err)
			}
		}
		err = s.Commit(ctx, &storage.Batch{Actor: actor, Version: snap.Version, Puts: puts("n", strconv.Itoa(n+1))})
		if !errors.Is(err, storage.ErrVersionConflict) {
			return err
		}
	}
}

// testCanceledContext allows a store to ignore a done context, but a Commit
// that reports the context's error must have applied nothing.
func testCanceledContext(t *testing.T, s storage.Store) {
	const actor = "canceled/1"
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	err := s.Commit(ctx, &storage.Batch{Actor: actor, Puts: puts("k", "v"), Send: []storage.Message{msg("m", actor)}})
	switch {
	case err == nil:
		checkSnapshot(t, s, actor, 1, puts("k", "v"))
		checkOutbox(t, s, msg("m", actor))
	case errors.Is(err, context.Canceled):
		checkSnapshot(t, s, actor, 0, nil)
		checkOutbox(t, s)
	default:
		t.Fatalf("Commit with a canceled context: got %v, want nil or %v", err, context.Canceled)
	}
}

func testClosed(t *testing.T, s storage.Store) {
	commit(t, s, &storage.Batch{Actor: "closed/1", Puts: puts("k", "v")})
	closeStore(t, s)
	ctx := t.Context()
	if _, err := s.Load(ctx, "closed/1"); !errors.Is(err, storage.ErrClosed) {
		t.Errorf("Load after Close: got %v, want %v", err, storage.ErrClosed)
	}
	if err := s.Commit(ctx, &storage.Batch{Actor: "closed/1", Version: 1, Puts: puts("k", "w")}); !errors.Is(err, storage.ErrClosed) {
		t.Errorf("Commit after Close: got %v, want %v", err, storage.ErrClosed)
	}
	if err := s.Commit(ctx, &storage.Batch{Send: []storage.Message{msg("m", "x/1")}}); !errors.Is(err, storage.ErrClosed) {
		t.Errorf("Commit of a send-only batch after Close: got %v, want %v", err, storage.ErrClosed)
	}
	if _, err := s.Outbox(ctx); !errors.Is(err, storage.ErrClosed) {
		t.Errorf("Outbox after Close: got %v, want %v", err, storage.ErrClosed)
	}
	if _, err := s.DueReminders(ctx, time.Now(), 10); !errors.Is(err, storage.ErrClosed) {
		t.Errorf("DueReminders after Close: got %v, want %v", err, storage.ErrClosed)
	}
	if _, err := s.Reminders(ctx, "closed/1"); !errors.Is(err, storage.ErrClosed) {
		t.Errorf("Reminders after Close: got %v, want %v", err, storage.ErrClosed)
	}
	if _, err := s.DeadLetters(ctx, "", 10); !errors.Is(err, storage.ErrClosed) {
		t.Errorf("DeadLetters after Close: got %v, want %v", err, storage.ErrClosed)
	}
	if _, _, err := s.DeadLetter(ctx, "m"); !errors.Is(err, storage.ErrClosed) {
		t.Errorf("DeadLetter after Close: got %v, want %v", err, storage.ErrClosed)
	}
	if _, err := s.DeadLetterStats(ctx); !errors.Is(err, storage.ErrClosed) {
		t.Errorf("DeadLetterStats after Close: got %v, want %v", err, storage.ErrClosed)
	}
	if err := s.Close(); err != nil && !errors.Is(err, storage.ErrClosed) {
		t.Errorf("second Close: got %v, want nil or %v", err, storage.ErrClosed)
	}
}

// puts builds a state map from key, value pairs.
func puts(kv ...string) map[string][]byte {
	m := make(map[string][]byte, len(kv)/2)
	for i := 0; i+1 < len(kv); i += 2 {
		m[kv[i]] = []byte(kv[i+1])
	}
	return m
}

// msg builds an outbox message whose fields derive from id and target.
func msg(id, target string) storage.Message {
	return storage.Message{ID: id, Target: target, Sender: "sender/" + id, Method: "method", Payload: []byte("payload " + id), Key: "key " + id}
}

func commit(t *testing.T, s storage.Store, b *storage.Batch) {
	t.Helper()
	if err := s.Commit(t.Context(), b); err != nil {
		t.Fatalf("Commit(actor %q, version %d): %v", b.Actor, b.Version, err)
	}
}

func load(t *testing.T, s storage.Store, actor string) storage.Snapshot {
	t.Helper()
	snap, err := s.Load(t.Context(), actor)
	if err != nil {
		t.Fatalf("Load(%q): %v", actor, err)
	}
	return snap
}

func outbox(t *testing.T, s storage.Store) []storage.Message {
	t.Helper()
	msgs, err := s.Outbox(t.Context())
	if err != nil {
		t.Fatalf("Outbox: %v", err)
	}
	return msgs
}

func checkSnapshot(t *testing.T, s storage.Store, actor string, wantVersion uint64, wantState map[string][]byte) {
	t.Helper()
	snap := load(t, s, actor)
	if snap.Version != wantVersion {
		t.Errorf("Load(%q).Version = %d, want %d", actor, snap.Version, wantVersion)
	}
	if !maps.EqualFunc(snap.State, wantState, bytes.Equal) {
		t.Errorf("Load(%q).State = %s, want %s", actor, formatState(snap.State), formatState(wantState))
	}
}

func checkOutbox(t *testing.T, s storage.Store, want ...storage.Message) {
	t.Helper()
	got := outbox(t, s)
	equal := func(a, b storage.Message) bool {
		return a.ID == b.ID && a.Target == b.Target && a.Sender == b.Sender && a.Method == b.Method && bytes.Equal(a.Payload, b.Payload) &&
			a.Key == b.Key && a.Trace == b.Trace
	}
	if !slices.EqualFunc(got, want, equal) {
		t.Errorf("Outbox() =\n%s\nwant\n%s", formatMessages(got), formatMessages(want))
	}
}

func formatState(m map[string][]byte) string {
	var b bytes.Buffer
	b.WriteByte('{')
	for i, k := range slices.Sorted(maps.Keys(m)) {
		if i > 0 {
			b.WriteString(", ")
		}
		fmt.Fprintf(&b, "%q: %q", k, m[k])
	}
	b.WriteByte('}')
	return b.String()
}

func formatMessages(msgs []storage.Message) string {
	if len(msgs) == 0 {
		return "\t(none)"
	}
	var b bytes.Buffer
	for _, m := range msgs {
		fmt.Fprintf(&b, "\t%q -> %q from %q %q %q key %q trace %q\n", m.ID, m.Target, m.Sender, m.Method, m.Payload, m.Key, m.Trace)
	}
	return b.String()
}

// testRecords checks idempotency records: kept with their batch, copied,
// empty replies kept as empty, several in one batch, and forgotten once
// expired.
func testRecords(t *testing.T, s storage.Store) {
	hour := time.Now().Add(time.Hour)
	checkRecord(t, s, "never", nil)
	reply := []byte("reply")
	commit(t, s, &storage.Batch{Actor: "rec/1", Puts: puts("k", "v"), Records: []storage.Record{{Key: "a", Reply: reply, Expires: hour}}})
	reply[0] = 'X'
	checkRecord(t, s, "a", []byte("reply"))
	checkSnapshot(t, s, "rec/1", 1, puts("k", "v"))

	commit(t, s, &storage.Batch{Records: []storage.Record{{Key: "empty", Expires: hour}}})
	checkRecord(t, s, "empty", []byte{})

	commit(t, s, &storage.Batch{Actor: "rec/1", Version: 1, Puts: puts("k", "w"), Records: []storage.Record{
		{Key: "b", Reply: []byte("1"), Expires: hour}, {Key: "c", Reply: []byte("2"), Expires: hour}}})
	checkRecord(t, s, "b", []byte("1"))
	checkRecord(t, s, "c", []byte("2"))

	commit(t, s, &storage.Batch{Records: []storage.Record{{Key: "old", Reply: []byte("x"), Expires: time.Now().Add(-2 * time.Second)}}})
	checkRecord(t, s, "old", nil)
}

// checkRecord checks the record under key; want nil means none.
func checkRecord(t *testing.T, s storage.Store, key string, want []byte) {
	t.Helper()
	got, ok, err := s.Recorded(t.Context(), key)
	if err != nil {
		t.Fatalf("Recorded(%q): %v", key, err)
	}
	switch {
	case want == nil && ok:
		t.Fatalf("Recorded(%q) = %q, want no record", key, got)
	case want != nil && !ok:
		t.Fatalf("Recorded(%q): no record, want %q", key, want)
	case want != nil && (got == nil || string(got) != string(want)):
		t.Fatalf("Recorded(%q) = %q, want %q", key, got, want)
	}
}

// remindersEpoch is the base of the reminder tests' due times.
var remindersEpoch = time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC)

// rem builds a reminder whose fields derive from actor and name, due at
// remindersEpoch plus due.
func rem(actor, name string, due time.Duration) storage.Reminder {
	return storage.Reminder{Actor: actor, Name: name, Method: "m-" + name, Payload: []byte("p " + name),
		Schedule: []byte("s " + name), Due: remindersEpoch.Add(due), Missed: "catch_up"}
}

func sameReminder(a, b storage.Reminder) bool {
	return a.Actor == b.Actor && a.Name == b.Name && a.Method == b.Method && bytes.Equal(a.Payload, b.Payload) &&
		bytes.Equal(a.Schedule, b.Schedule) && a.Due.Equal(b.Due) && a.Missed == b.Missed && a.Trace == b.Trace
}

func formatReminders(list []storage.Reminder) string {
	if len(list) == 0 {
		return "\t(none)"
	}
	var b bytes.Buffer
	for _, r := range list {
		fmt.Fprintf(&b, "\t%q %q due %s method %q payload %q schedule %q missed %q trace %q\n",
			r.Actor, r.Name, r.Due.UTC().Format(time.RFC3339Nano), r.Method, r.Payload, r.Schedule, r.Missed, r.Trace)
	}
	return b.String()
}

// checkDue checks DueReminders(before, limit).
func checkDue(t *testing.T, s storage.Store, before time.Time, limit int, want ...storage.Reminder) {
	t.Helper()
	got, err := s.DueReminders(t.Context(), before, limit)
	if err != nil {
		t.Fatalf("DueReminders: %v", err)
	}
	if !slices.EqualFunc(got, want, sameReminder) {
		t.Errorf("DueReminders(%s, %d) =\n%s\nwant\n%s", before.Format(time.RFC3339Nano), limit, formatReminders(got), formatReminders(want))
	}
}

// checkReminders checks Reminders(actor).
func checkReminders(t *testing.T, s storage.Store, actor string, want ...storage.Reminder) {
	t.Helper()
	got, err := s.Reminders(t.Context(), actor)
	if err != nil {
		t.Fatalf("Reminders(%q): %v", actor, err)
	}
	if !slices.EqualFunc(got, want, sameReminder) {
		t.Errorf("Reminders(%q) =\n%s\nwant\n%s", actor, formatReminders(got), formatReminders(want))
	}
}

func testReminders(t *testing.T, s storage.Store) {
	far := remindersEpoch.Add(1000 * time.Hour)
	checkDue(t, s, far, 10)
	checkReminders(t, s, "a/1")

	empty := storage.Reminder{Actor: "a/1", Name: "empty", Due: remindersEpoch}
	b := rem("a/1", "b", time.Second)
	a := rem("a/1", "a", 2*time.Second)
	binary := rem("a/1", "\x00\xffname", 3*time.Second)
	other := rem("a/10", "a", time.Second)
	commit(t, s, &storage.Batch{Reminders: []storage.Reminder{b, a, empty, other, binary}})
	checkReminders(t, s, "a/1", binary, a, b, empty)
	checkReminders(t, s, "a/10", other)
	checkReminders(t, s, "a", nil...)
	checkReminders(t, s, "a/", nil...)
	checkDue(t, s, far, 10, empty, b, other, a, binary)
}

// testDueReminderOrder checks the index: earliest first, ties in actor then
// name order, the bound inclusive, the limit, and times far apart.
func testDueReminderOrder(t *testing.T, s storage.Store) {
	ancient := storage.Reminder{Actor: "x/1", Name: "ancient", Due: time.Date(1960, 1, 1, 0, 0, 0, 0, time.UTC)}
	epoch := storage.Reminder{Actor: "x/1", Name: "epoch", Due: time.Unix(0, 0)}
	late := storage.Reminder{Actor: "x/1", Name: "late", Due: time.Date(3000, 1, 1, 0, 0, 0, 0, time.UTC)}
	nano := rem("x/1", "nano", time.Nanosecond)
	tieB := rem("b/1", "t", time.Second)
	tieA2 := rem("a/1", "t2", time.Second)
	tieA1 := rem("a/1", "t1", time.Second)
	zero := rem("x/1", "zero", 0)
	commit(t, s, &storage.Batch{Reminders: []storage.Reminder{late, tieB, nano, ancient, tieA2, zero, epoch, tieA1}})

	all := []storage.Reminder{ancient, epoch, zero, nano, tieA1, tieA2, tieB, late}
	checkDue(t, s, late.Due.Add(time.Hour), 100, all...)
	checkDue(t, s, late.Due, -1, all...)
	checkDue(t, s, late.Due.Add(-time.Nanosecond), 100, all[:7]...)
	checkDue(t, s, remindersEpoch.Add(time.Second), 100, all[:7]...)
	checkDue(t, s, remindersEpoch.Add(time.Second-1), 100, all[:4]...)
	checkDue(t, s, remindersEpoch, 100, all[:3]...)
	checkDue(t, s, remindersEpoch.Add(-time.Nanosecond), 100, all[:2]...)
	checkDue(t, s, late.Due, 5, all[:5]...)
	checkDue(t, s, late.Due, 0)
}

// testReminderUpdateMovesIndex sets a reminder again: the new one replaces
// the old, and the old due time no longer finds it.
func testReminderUpdateMovesIndex(t *testing.T, s storage.Store) {
	r := rem("u/1", "r", time.Minute)
	commit(t, s, &storage.Batch{Reminders: []storage.Reminder{r, rem("u/1", "other", 2*time.Hour)}})
	moved := rem("u/1", "r", time.Hour)
	moved.Method, moved.Payload, moved.Schedule, moved.Missed = "new", []byte("new"), []byte("new"), "skip"
	commit(t, s, &storage.Batch{Reminders: []storage.Reminder{moved}})
	checkDue(t, s, remindersEpoch.Add(59*time.Minute), 10)
	checkDue(t, s, remindersEpoch.Add(time.Hour), 10, moved)
	checkReminders(t, s, "u/1", rem("u/1", "other", 2*time.Hour), moved)

	// Set twice in one batch, and in two batches that may share a write.
	twice := rem("u/1", "twice", 3*time.Hour)
	commit(t, s, &storage.Batch{Reminders: []storage.Reminder{rem("u/1", "twice", time.Second), twice}})
	var wg sync.WaitGroup
	for _, d := range []time.Duration{time.Second, 4 * time.Hour} {
		wg.Go(func() {
			if err := s.Commit(t.Context(), &storage.Batch{Reminders: []storage.Reminder{rem("u/2", "r", d)}}); err != nil {
				t.Errorf("Commit: %v", err)
			}
		})
	}
	wg.Wait()
	got, err := s.DueReminders(t.Context(), remindersEpoch.Add(1000*time.Hour), 100)
	if err != nil {
		t.Fatal(err)
	}
	var u2 []storage.Reminder
	for _, r := range got {
		if r.Actor == "u/2" {
			u2 = append(u2, r)
		}
	}
	if len(u2) != 1 {
		t.Errorf("u/2 has %d index entries after two updates, want 1:\n%s", len(u2), formatReminders(u2))
	}
	checkReminders(t, s, "u/2", u2...)
	checkReminders(t, s, "u/1", rem("u/1", "other", 2*time.Hour), moved, twice)
}

func testReminderCancel(t *testing.T, s storage.Store) {
	r1, r2 := rem("c/1", "r1", time.Second), rem("c/1", "r2", 2*time.Second)
	keep := rem("c/2", "r1", 3*time.Second)
	commit(t, s, &storage.Batch{Reminders: []storage.Reminder{r1, r2, keep}})
	commit(t, s, &storage.Batch{Actor: "c/1", CancelReminders: []string{"r1", "missing"}})
	checkReminders(t, s, "c/1", r2)
	checkDue(t, s, remindersEpoch.Add(time.Hour), 10, r2, keep)

	// Set and cancelled in one batch: cancelled.
	commit(t, s, &storage.Batch{Actor: "c/1", Reminders: []storage.Reminder{rem("c/1", "r3", time.Second)}, CancelReminders: []string{"r3", "r2"}})
	checkReminders(t, s, "c/1")
	checkReminders(t, s, "c/2", keep)
	checkDue(t, s, remindersEpoch.Add(time.Hour), 10, keep)

	// Cancelled, then set again.
	commit(t, s, &storage.Batch{Reminders: []storage.Reminder{r1}})
	checkDue(t, s, remindersEpoch.Add(time.Hour), 10, r1, keep)
}

// testRemindersAtomicWithBatch commits reminders with state, sends and a
// consumed message in one batch, as a turn does.
func testRemindersAtomicWithBatch(t *testing.T, s storage.Store) {
	const actor = "turn/r"
	commit(t, s, &storage.Batch{Send: []storage.Message{msg("in", actor)}, Reminders: []storage.Reminder{rem(actor, "old", time.Hour)}})
	r := rem(actor, "new", time.Second)
	commit(t, s, &storage.Batch{
		Actor:           actor,
		Puts:            puts("k", "v"),
		Send:            []storage.Message{msg("out", "x/1")},
		Consumed:        []string{"in"},
		Reminders:       []storage.Reminder{r},
		CancelReminders: []string{"old"},
	})
	checkSnapshot(t, s, actor, 1, puts("k", "v"))
	checkOutbox(t, s, msg("out", "x/1"))
	checkReminders(t, s, actor, r)
	checkDue(t, s, remindersEpoch.Add(2*time.Hour), 10, r)

	// Reminder changes alone do not touch the version.
	commit(t, s, &storage.Batch{Actor: actor, Version: 99, CancelReminders: []string{"new"}})
	checkSnapshot(t, s, actor, 1, puts("k", "v"))
	checkReminders(t, s, actor)
}

func testRemindersVersionConflict(t *testing.T, s storage.Store) {
	const actor = "conflict/r"
	keep := rem(actor, "keep", time.Minute)
	commit(t, s, &storage.Batch{Actor: actor, Puts: puts("k", "v"), Reminders: []storage.Reminder{keep}})
	err := s.Commit(t.Context(), &storage.Batch{
		Actor:           actor,
		Version:         0, // stale
		Puts:            puts("k", "lost"),
		Reminders:       []storage.Reminder{rem(actor, "lost", time.Second), rem("other/1", "lost", time.Second)},
		CancelReminders: []string{"keep"},
	})
	if !errors.Is(err, storage.ErrVersionConflict) {
		t.Fatalf("Commit: got %v, want %v", err, storage.ErrVersionConflict)
	}
	checkSnapshot(t, s, actor, 1, puts("k", "v"))
	checkReminders(t, s, actor, keep)
	checkReminders(t, s, "other/1")
	checkDue(t, s, remindersEpoch.Add(time.Hour), 10, keep)
}

func testRemindersCopied(t *testing.T, s storage.Store) {
	r := rem("copy/r", "r", time.Second)
	want := rem("copy/r", "r", time.Second)
	b := &storage.Batch{Reminders: []storage.Reminder{r}}
	commit(t, s, b)
	copy(r.Payload, "XX")
	copy(r.Schedule, "XX")
	b.Reminders[0].Name = "changed"
	checkReminders(t, s, "copy/r", want)

	list, err := s.Reminders(t.Context(), "copy/r")
	if err != nil {
		t.Fatal(err)
	}
	copy(list[0].Payload, "YY")
	copy(list[0].Schedule, "YY")
	due, err := s.DueReminders(t.Context(), remindersEpoch.Add(time.Hour), 1)
	if err != nil {
		t.Fatal(err)
	}
	copy(due[0].Payload, "ZZ")
	checkReminders(t, s, "copy/r", want)
	checkDue(t, s, remindersEpoch.Add(time.Hour), 1, want)
}

func testRemindersSurviveReopen(t *testing.T, reopen func(t *testing.T) storage.Store) {
	s := reopen(t)
	a, b := rem("r/1", "a", time.Hour), rem("r/1", "b", time.Second)
	c := rem("r/2", "c", time.Minute)
	commit(t, s, &storage.Batch{Reminders: []storage.Reminder{a, b, c, rem("r/2", "gone", 0)}})
	commit(t, s, &storage.Batch{Actor: "r/2", CancelReminders: []string{"gone"}})
	closeStore(t, s)

	s = reopen(t)
	checkReminders(t, s, "r/1", a, b)
	checkDue(t, s, remindersEpoch.Add(2*time.Hour), 10, b, c, a)
	moved := rem("r/1", "b", 3*time.Hour)
	commit(t, s, &storage.Batch{Reminders: []storage.Reminder{moved}})
	closeStore(t, s)

	s = reopen(t)
	checkDue(t, s, remindersEpoch.Add(4*time.Hour), 10, c, a, moved)
}

// testDeadLetters checks that dead letters are kept with their batch,
// listed in ID order with every field, read one by one, and cleared by ID.
func testDeadLetters(t *testing.T, s storage.Store) {
	checkDead(t, s, "", 10)
	checkDeadStats(t, s, storage.DeadLetterStats{})
	commit(t, s, &storage.Batch{Send: []storage.Message{msg("m1", "x/1")}})
	// The turn that gives up consumes the message and keeps it, atomically.
	commit(t, s, &storage.Batch{Consumed: []string{"m1"}, DeadLetters: []storage.DeadLetter{dead("m1")}})
	commit(t, s, &storage.Batch{DeadLetters: []storage.DeadLetter{dead("m0")}})
	checkOutbox(t, s)
	list := checkDead(t, s, "", 10, "m0", "m1")
	checkDeadLetter(t, list[1], dead("m1"))
	got, ok, err := s.DeadLetter(t.Context(), "m1")
	if err != nil || !ok {
		t.Fatalf("DeadLetter(m1) = %v, %v", ok, err)
	}
	checkDeadLetter(t, got, dead("m1"))
	if _, ok, err := s.DeadLetter(t.Context(), "m9"); err != nil || ok {
		t.Fatalf("DeadLetter of an unknown id = %v, %v; want false, nil", ok, err)
	}
	checkDeadStats(t, s, storage.DeadLetterStats{Count: 2, Bytes: sizes(dead("m0"), dead("m1"))})

	// Replaying: clear it and send it again, in one batch.
	commit(t, s, &storage.Batch{ClearDeadLetters: []string{"m1"}, Send: []storage.Message{msg("m2", "x/1")}})
	checkDead(t, s, "", 10, "m0")
	checkOutbox(t, s, msg("m2", "x/1"))
	// Clearing one that is not there changes nothing; keeping one again
	// replaces it.
	commit(t, s, &storage.Batch{ClearDeadLetters: []string{"m1", "nope"}})
	again := dead("m0")
	again.Error, again.Attempts = "a longer error than the first one", 4
	commit(t, s, &storage.Batch{DeadLetters: []storage.DeadLetter{again}})
	list = checkDead(t, s, "", 10, "m0")
	checkDeadLetter(t, list[0], again)
	checkDeadStats(t, s, storage.DeadLetterStats{Count: 1, Bytes: sizes(again)})
}

// testDeadLetterPages checks that listing pages: ID order, the limit, and
// a cursor (the last ID of a page) that stays good when letters are added
// and deleted between pages, the one it names included.
func testDeadLetterPages(t *testing.T, s storage.Store) {
	var ids []string
	for i := range 25 {
		ids = append(ids, fmt.Sprintf("m%03d", 2*i+10)) // m010, m012, ... m058
	}
	// Committed out of order, several per batch.
	for _, part := range [][]string{ids[10:], ids[:5], ids[5:10]} {
		b := &storage.Batch{}
		for _, id := range part {
			b.DeadLetters = append(b.DeadLetters, dead(id))
		}
		commit(t, s, b)
	}
	checkDead(t, s, "", 0)
	checkDead(t, s, "", -1)
	checkDead(t, s, "", 3, ids[:3]...)
	checkDead(t, s, "", 100, ids...)
	checkDead(t, s, ids[24], 10)
	checkDead(t, s, "zzz", 10)

	// Page through while others change the letters: one before the
	// cursor, one after it and the cursor's own letter come and go.
	page := checkDead(t, s, "", 10, ids[:10]...)
	cursor := page[len(page)-1].Message.ID // m028
	commit(t, s, &storage.Batch{
		ClearDeadLetters: []string{ids[9], ids[12]}, // m028 itself and m034
		DeadLetters:      []storage.DeadLetter{dead("m005"), dead("m029"), dead("m0285")},
	})
	want := []string{"m0285", "m029", ids[10], ids[11], ids[13], ids[14], ids[15], ids[16], ids[17], ids[18]}
	page = checkDead(t, s, cursor, 10, want...)
	cursor = page[len(page)-1].Message.ID
	checkDead(t, s, cursor, 10, ids[19:]...)
	// A cursor between two IDs, or before all, works too.
	checkDead(t, s, "m011", 2, ids[1:3]...)
	checkDead(t, s, "a", 2, "m005", ids[0])
}

// testDeadLetterPayloadLeftOut checks that listings leave large payloads
// out and tell their length, and that DeadLetter returns them whole.
func testDeadLetterPayloadLeftOut(t *testing.T, s storage.Store) {
	small, edge, big := dead("m1"), dead("m2"), dead("m3")
	edge.Message.Payload = bytes.Repeat([]byte{'e'}, storage.MaxListedPayload)
	big.Message.Payload = bytes.Repeat([]byte{'b'}, 3*storage.MaxListedPayload+1)
	commit(t, s, &storage.Batch{DeadLetters: []storage.DeadLetter{small, edge, big}})
	list := checkDead(t, s, "", 10, "m1", "m2", "m3")
	checkDeadLetter(t, list[0], small)
	checkDeadLetter(t, list[1], edge)
	if got := list[2]; got.Message.Payload != nil || got.PayloadLen != len(big.Message.Payload) {
		t.Errorf("listed %s: payload of %d bytes, PayloadLen %d; want it left out, PayloadLen %d",
			got.Message.ID, len(got.Message.Payload), got.PayloadLen, len(big.Message.Payload))
	}
	whole, ok, err := s.DeadLetter(t.Context(), "m3")
	if err != nil || !ok {
		t.Fatalf("DeadLetter(m3) = %v, %v", ok, err)
	}
	checkDeadLetter(t, whole, big)
	checkDeadStats(t, s, storage.DeadLetterStats{Count: 3, Bytes: sizes(small, edge, big)})
}

// testDeadLetterCap checks the count cap: the letters with the lowest IDs
// go first, whatever order they came in, the batch's own included, and
// every one dropped is counted.
func testDeadLetterCap(t *testing.T, s storage.Store) {
	capped := storage.DeadLetterCap{Count: 3}
	for _, id := range []string{"m5", "m3", "m7"} {
		commit(t, s, &storage.Batch{DeadLetters: []storage.DeadLetter{dead(id)}, DeadLetterCap: capped})
	}
	checkDead(t, s, "", 10, "m3", "m5", "m7")
	commit(t, s, &storage.Batch{DeadLetters: []storage.DeadLetter{dead("m8")}, DeadLetterCap: capped})
	checkDead(t, s, "", 10, "m5", "m7", "m8")
	// A late letter older than all the others is the one dropped.
	commit(t, s, &storage.Batch{DeadLetters: []storage.DeadLetter{dead("m1")}, DeadLetterCap: capped})
	checkDead(t, s, "", 10, "m5", "m7", "m8")
	// Many at once, with a clear in the same batch.
	commit(t, s, &storage.Batch{ClearDeadLetters: []string{"m8"},
		DeadLetters: []storage.DeadLetter{dead("m9"), dead("m6"), dead("ma"), dead("mb")}, DeadLetterCap: capped})
	checkDead(t, s, "", 10, "m9", "ma", "mb")
	checkDeadStats(t, s, storage.DeadLetterStats{Count: 3, Bytes: sizes(dead("m9"), dead("ma"), dead("mb")), Dropped: 5})
	// A batch without a cap is not capped; a lower cap alone trims.
	commit(t, s, &storage.Batch{DeadLetters: []storage.DeadLetter{dead("mc")}})
	checkDead(t, s, "", 10, "m9", "ma", "mb", "mc")
	commit(t, s, &storage.Batch{DeadLetterCap: storage.DeadLetterCap{Count: 1}})
	checkDead(t, s, "", 10, "mc")
	checkDeadStats(t, s, storage.DeadLetterStats{Count: 1, Bytes: sizes(dead("mc")), Dropped: 8})
	// Below every letter dropped so far there is room again: it is kept,
	// listed first, and the first to go.
	commit(t, s, &storage.Batch{DeadLetters: []storage.DeadLetter{dead("m0"), dead("md")}, DeadLetterCap: storage.DeadLetterCap{Count: 3}})
	checkDead(t, s, "", 10, "m0", "mc", "md")
	checkDead(t, s, "a", 1, "m0")
	commit(t, s, &storage.Batch{DeadLetters: []storage.DeadLetter{dead("me")}, DeadLetterCap: storage.DeadLetterCap{Count: 3}})
	checkDead(t, s, "", 10, "mc", "md", "me")
}

// testDeadLetterCapBytes checks the byte cap, alone and with the count
// cap.
func testDeadLetterCapBytes(t *testing.T, s storage.Store) {
	letter := func(id string, n int) storage.DeadLetter {
		d := dead(id)
		d.Message.Payload = bytes.Repeat([]byte{'p'}, n)
		return d
	}
	a, b, c, d := letter("m1", 1000), letter("m2", 3000), letter("m3", 500), letter("m4", 10)
	capped := storage.DeadLetterCap{Bytes: sizes(a, b, c)}
	commit(t, s, &storage.Batch{DeadLetters: []storage.DeadLetter{a, b, c}, DeadLetterCap: capped})
	checkDead(t, s, "", 10, "m1", "m2", "m3")
	commit(t, s, &storage.Batch{DeadLetters: []storage.DeadLetter{d}, DeadLetterCap: capped})
	checkDead(t, s, "", 10, "m2", "m3", "m4")
	checkDeadStats(t, s, storage.DeadLetterStats{Count: 3, Bytes: sizes(b, c, d), Dropped: 1})
	// One letter larger than the cap leaves nothing older than it.
	huge := letter("m5", int(capped.Bytes))
	commit(t, s, &storage.Batch{DeadLetters: []storage.DeadLetter{huge}, DeadLetterCap: capped})
	checkDead(t, s, "", 10)
	checkDeadStats(t, s, storage.DeadLetterStats{Dropped: 5})
	// Both caps: whichever is reached first.
	both := storage.DeadLetterCap{Count: 2, Bytes: 2 * a.Size()}
	commit(t, s, &storage.Batch{DeadLetters: []storage.DeadLetter{letter("m6", 10), letter("m7", 10), letter("m8", 10)}, DeadLetterCap: both})
	checkDead(t, s, "", 10, "m7", "m8")
	commit(t, s, &storage.Batch{DeadLetters: []storage.DeadLetter{letter("m9", 1500)}, DeadLetterCap: both})
	checkDead(t, s, "", 10, "m8", "m9")
	commit(t, s, &storage.Batch{DeadLetters: []storage.DeadLetter{letter("ma", 1500)}, DeadLetterCap: both})
	checkDead(t, s, "", 10, "ma")
	checkDeadStats(t, s, storage.DeadLetterStats{Count: 1, Bytes: letter("ma", 1500).Size(), Dropped: 9})
}

func testDeadLettersSurviveReopen(t *testing.T, reopen func(t *testing.T) storage.Store) {
	s := reopen(t)
	capped := storage.DeadLetterCap{Count: 2}
	commit(t, s, &storage.Batch{DeadLetters: []storage.DeadLetter{dead("m1"), dead("m2"), dead("m3")}, DeadLetterCap: capped})
	closeStore(t, s)

	s = reopen(t)
	list := checkDead(t, s, "", 10, "m2", "m3")
	checkDeadLetter(t, list[1], dead("m3"))
	checkDeadStats(t, s, storage.DeadLetterStats{Count: 2, Bytes: sizes(dead("m2"), dead("m3")), Dropped: 1})
	commit(t, s, &storage.Batch{DeadLetters: []storage.DeadLetter{dead("m4")}, DeadLetterCap: capped})
	checkDeadStats(t, s, storage.DeadLetterStats{Count: 2, Bytes: sizes(dead("m3"), dead("m4")), Dropped: 2})
}

// dead returns a dead letter of the message msg(id, "x/1").
func dead(id string) storage.DeadLetter {
	return storage.DeadLetter{Message: msg(id, "x/1"), Error: "trapped: boom " + id, Attempts: 3, At: time.Unix(1700000000, 123).UTC()}
}

// sizes sums the sizes of letters.
func sizes(letters ...storage.DeadLetter) int64 {
	var n int64
	for _, d := range letters {
		n += d.Size()
	}
	return n
}

// checkDead lists a page of dead letters and checks their IDs; each must
// have its PayloadLen set.
func checkDead(t *testing.T, s storage.Store, after string, limit int, ids ...string) []storage.DeadLetter {
	t.Helper()
	list, err := s.DeadLetters(t.Context(), after, limit)
	if err != nil {
		t.Fatalf("DeadLetters(%q, %d): %v", after, limit, err)
	}
	got := make([]string, len(list))
	for i, d := range list {
		got[i] = d.Message.ID
		if d.PayloadLen < len(d.Message.Payload) || (d.Message.Payload != nil && d.PayloadLen != len(d.Message.Payload)) {
			t.Errorf("DeadLetters(%q, %d): %s has PayloadLen %d and a payload of %d bytes", after, limit, d.Message.ID, d.PayloadLen, len(d.Message.Payload))
		}
	}
	if !slices.Equal(got, ids) && (len(got) > 0 || len(ids) > 0) {
		t.Fatalf("DeadLetters(%q, %d) = %q, want %q", after, limit, got, ids)
	}
	return list
}

// checkDeadLetter compares every field of a dead letter read back.
func checkDeadLetter(t *testing.T, got, want storage.DeadLetter) {
	t.Helper()
	g, w := got.Message, want.Message
	if !got.At.Equal(want.At) || got.Error != want.Error || got.Attempts != want.Attempts ||
		g.ID != w.ID || g.Target != w.Target || g.Sender != w.Sender || g.Method != w.Method ||
		!bytes.Equal(g.Payload, w.Payload) || g.Key != w.Key || g.Trace != w.Trace || got.PayloadLen != len(w.Payload) {
		t.Fatalf("dead letter %s =\n%+v\nwant\n%+v", w.ID, got, want)
	}
}

func checkDeadStats(t *testing.T, s storage.Store, want storage.DeadLetterStats) {
	t.Helper()
	got, err := s.DeadLetterStats(t.Context())
	if err != nil {
		t.Fatalf("DeadLetterStats: %v", err)
	}
	if got != want {
		t.Fatalf("DeadLetterStats = %+v, want %+v", got, want)
	}
}

// Trace contexts as the host stores them: W3C traceparent values.
const (
	traceA = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"
	traceB = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-00"
)

// traced returns m with trace set.
func traced(m storage.Message, trace string) storage.Message {
	m.Trace = trace
	return m
}

// testTraceKept checks that the trace context of outbox messages,
// reminders and dead letters is kept as it was given, and that an entry
// without one reads back without one.
func testTraceKept(t *testing.T, s storage.Store) {
	m1, m2, m3 := traced(msg("01", "t/1"), traceA), msg("02", "t/1"), traced(msg("03", "t/2"), traceB)
	commit(t, s, &storage.Batch{Send: []storage.Message{m1, m2, m3}})
	checkOutbox(t, s, m1, m2, m3)

	r1, r2 := rem("r/1", "a", time.Second), rem("r/1", "b", time.Minute)
	r1.Trace = traceA
	commit(t, s, &storage.Batch{Actor: "r/1", Reminders: []storage.Reminder{r1, r2}})
	checkReminders(t, s, "r/1", r1, r2)
	checkDue(t, s, remindersEpoch.Add(time.Hour), 10, r1, r2)
	// A reminder moved to its next time keeps its trace; one set again
	// without a trace loses it.
	moved := r1
	moved.Due = remindersEpoch.Add(2 * time.Hour)
	r2.Trace = traceB
	commit(t, s, &storage.Batch{Actor: "r/1", Reminders: []storage.Reminder{moved, r2}})
	checkDue(t, s, remindersEpoch.Add(3*time.Hour), 10, r2, moved)
	r2.Trace = ""
	commit(t, s, &storage.Batch{Actor: "r/1", Reminders: []storage.Reminder{r2}})
	checkReminders(t, s, "r/1", moved, r2)

	d := storage.DeadLetter{Message: m3, Error: "trapped", Attempts: 3, At: time.Unix(1700000000, 0).UTC()}
	commit(t, s, &storage.Batch{Consumed: []string{"03"}, DeadLetters: []storage.DeadLetter{d}})
	list := checkDead(t, s, "", 10, "03")
	checkDeadLetter(t, list[0], d)
	got, ok, err := s.DeadLetter(t.Context(), "03")
	if err != nil || !ok {
		t.Fatalf("DeadLetter(03) = found %v, %v", ok, err)
	}
	checkDeadLetter(t, got, d)
}

// testTraceSurvivesReopen checks that trace contexts are durable.
func testTraceSurvivesReopen(t *testing.T, reopen func(t *testing.T) storage.Store) {
	s := reopen(t)
	m1, m2 := traced(msg("01", "t/1"), traceA), msg("02", "t/1")
	r1, r2 := rem("r/1", "a", time.Second), rem("r/1", "b", time.Minute)
	r1.Trace = traceB
	commit(t, s, &storage.Batch{Actor: "r/1", Send: []storage.Message{m1, m2}, Reminders: []storage.Reminder{r1, r2}})
	closeStore(t, s)

	s = reopen(t)
	checkOutbox(t, s, m1, m2)
	checkReminders(t, s, "r/1", r1, r2)
}
