package storagetest

import (
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/wactor/wactor/storage"
)

// RunLeases runs the conformance suite of storage.Leases against the
// stores open returns, which must implement it. Like Run, every subtest
// opens a fresh store. Expiry is tested with leases of a few hundred
// milliseconds.
func RunLeases(t *testing.T, open func(t *testing.T) storage.Store) {
	t.Helper()
	tests := []struct {
		name string
		run  func(t *testing.T, s storage.Store, l storage.Leases)
	}{
		{"ClaimIsExclusive", testClaimIsExclusive},
		{"ExpiryAndTakeover", testExpiryAndTakeover},
		{"Renew", testRenew},
		{"Release", testRelease},
		{"FencedCommitAppliesNothing", testFencedCommitAppliesNothing},
		{"RenewDuringCommits", testRenewDuringCommits},
		{"ClaimHammer", testClaimHammer},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := open(t)
			closeAtCleanup(t, s)
			l, ok := s.(storage.Leases)
			if !ok {
				t.Fatalf("%T does not implement storage.Leases", s)
			}
			tt.run(t, s, l)
		})
	}
}

// testFenceWithoutLeases (part of Run) checks that a store without Leases
// refuses a fenced batch and applies nothing of it.
func testFenceWithoutLeases(t *testing.T, s storage.Store) {
	if _, ok := s.(storage.Leases); ok {
		return // RunLeases checks fences
	}
	err := s.Commit(t.Context(), &storage.Batch{Actor: "fence/1", Puts: puts("k", "v"),
		Send: []storage.Message{msg("m", "x/1")}, Fence: &storage.Fence{Actor: "fence/1", Epoch: 1}})
	if err == nil {
		t.Fatal("Commit of a fenced batch on a store without leases succeeded")
	}
	checkSnapshot(t, s, "fence/1", 0, nil)
	checkOutbox(t, s)
}

func claim(t *testing.T, l storage.Leases, actor, owner string, ttl time.Duration) storage.Lease {
	t.Helper()
	lease, err := l.Claim(t.Context(), actor, owner, ttl)
	if err != nil {
		t.Fatalf("Claim(%q, %q): %v", actor, owner, err)
	}
	if lease.Actor != actor || lease.Owner != owner || lease.Epoch == 0 || !lease.Expires.After(time.Now()) {
		t.Fatalf("Claim(%q, %q) = %+v", actor, owner, lease)
	}
	return lease
}

func checkHolder(t *testing.T, l storage.Leases, actor string, want *storage.Lease) {
	t.Helper()
	got, ok, err := l.Holder(t.Context(), actor)
	if err != nil {
		t.Fatalf("Holder(%q): %v", actor, err)
	}
	switch {
	case want == nil && ok:
		t.Fatalf("Holder(%q) = %+v, want none", actor, got)
	case want != nil && !ok:
		t.Fatalf("Holder(%q): none, want %+v", actor, *want)
	case want != nil && (got.Owner != want.Owner || got.Epoch != want.Epoch || got.Actor != actor):
		t.Fatalf("Holder(%q) = %+v, want %+v", actor, got, *want)
	}
}

func testClaimIsExclusive(t *testing.T, _ storage.Store, l storage.Leases) {
	checkHolder(t, l, "a/1", nil)
	a := claim(t, l, "a/1", "node-a", time.Minute)
	checkHolder(t, l, "a/1", &a)
	checkLapsed(t, a, 0)
	got, err := l.Claim(t.Context(), "a/1", "node-b", time.Minute)
	if !errors.Is(err, storage.ErrLeaseHeld) || got.Owner != "node-a" || got.Epoch != a.Epoch {
		t.Fatalf("Claim by another owner = %+v, %v; want the holding of node-a and %v", got, err, storage.ErrLeaseHeld)
	}
	// The holder claiming again renews: same epoch, later expiry.
	again := claim(t, l, "a/1", "node-a", 2*time.Minute)
	if again.Epoch != a.Epoch || !again.Expires.After(a.Expires) {
		t.Fatalf("Claim by the holder = %+v, want epoch %d and a later expiry than %s", again, a.Epoch, a.Expires)
	}
	checkLapsed(t, again, 0)
	// Leases of other actors are independent.
	b := claim(t, l, "a/2", "node-b", time.Minute)
	if b.Epoch == a.Epoch && b.Actor == a.Actor {
		t.Fatalf("two holdings share an epoch: %+v %+v", a, b)
	}
	checkHolder(t, l, "a/1", &a)
}

func testExpiryAndTakeover(t *testing.T, _ storage.Store, l storage.Leases) {
	const ttl = 300 * time.Millisecond
	a := claim(t, l, "e/1", "node-a", ttl)
	time.Sleep(ttl + 100*time.Millisecond)
	checkHolder(t, l, "e/1", nil)
	b := claim(t, l, "e/1", "node-b", time.Minute)
	if b.Epoch == a.Epoch {
		t.Fatalf("takeover kept epoch %d", a.Epoch)
	}
	checkLapsed(t, b, a.Epoch) // a's holding ended unreleased
	checkHolder(t, l, "e/1", &b)
	// The old holder cannot renew, and claiming again finds it held.
	_, errs := l.Renew(t.Context(), []storage.Lease{a}, time.Minute)
	if !errors.Is(errs[0], storage.ErrFenced) {
		t.Fatalf("Renew of a lease taken over: %v, want %v", errs[0], storage.ErrFenced)
	}
	if _, err := l.Claim(t.Context(), "e/1", "node-a", time.Minute); !errors.Is(err, storage.ErrLeaseHeld) {
		t.Fatalf("Claim of a lease taken over: %v, want %v", err, storage.ErrLeaseHeld)
	}
	// A holder whose lease expired gets a new epoch when it claims again.
	c := claim(t, l, "e/2", "node-a", ttl)
	time.Sleep(ttl + 100*time.Millisecond)
	d := claim(t, l, "e/2", "node-a", time.Minute)
	if d.Epoch == c.Epoch {
		t.Fatalf("claim after expiry kept epoch %d", c.Epoch)
	}
	checkLapsed(t, d, c.Epoch)
}

// checkLapsed checks the Lapsed of a lease a Claim returned.
func checkLapsed(t *testing.T, l storage.Lease, want uint64) {
	t.Helper()
	if l.Lapsed != want {
		t.Fatalf("Claim(%q) by %s = %+v: Lapsed %d, want %d", l.Actor, l.Owner, l, l.Lapsed, want)
	}
}

func testRenew(t *testing.T, _ storage.Store, l storage.Leases) {
	const ttl = 300 * time.Millisecond
	var held []storage.Lease
	for i := range 5 {
		held = append(held, claim(t, l, fmt.Sprintf("r/%d", i), "node-a", ttl))
	}
	// Renewed twice over more than the ttl: never lost.
	for range 3 {
		time.Sleep(ttl / 2)
		renewed, errs := l.Renew(t.Context(), held, ttl)
		for i := range held {
			if errs[i] != nil {
				t.Fatalf("Renew %s: %v", held[i].Actor, errs[i])
			}
			if renewed[i].Epoch != held[i].Epoch || renewed[i].Owner != "node-a" || !renewed[i].Expires.After(held[i].Expires) {
				t.Fatalf("Renew %s = %+v, was %+v", held[i].Actor, renewed[i], held[i])
			}
		}
		held = renewed
	}
	for i := range held {
		checkHolder(t, l, held[i].Actor, &held[i])
	}
	// One is taken over: only that one fails.
	time.Sleep(ttl + 100*time.Millisecond)
	other := claim(t, l, "r/2", "node-b", time.Minute)
	renewed, errs := l.Renew(t.Context(), held, time.Minute)
	for i := range held {
		if i == 2 {
			if !errors.Is(errs[i], storage.ErrFenced) {
				t.Fatalf("Renew of %s taken over: %v, want %v", held[i].Actor, errs[i], storage.ErrFenced)
			}
			continue
		}
		if errs[i] != nil || renewed[i].Epoch != held[i].Epoch {
			t.Fatalf("Renew of %s: %+v, %v", held[i].Actor, renewed[i], errs[i])
		}
		checkHolder(t, l, held[i].Actor, &renewed[i])
	}
	checkHolder(t, l, "r/2", &other)
	if _, errs := l.Renew(t.Context(), nil, ttl); len(errs) != 0 {
		t.Fatalf("Renew of nothing: %v", errs)
	}
}

func testRelease(t *testing.T, s storage.Store, l storage.Leases) {
	a := claim(t, l, "rel/1", "node-a", time.Minute)
	if err := l.Release(t.Context(), a); err != nil {
		t.Fatalf("Release: %v", err)
	}
	checkHolder(t, l, "rel/1", nil)
	if _, errs := l.Renew(t.Context(), []storage.Lease{a}, time.Minute); !errors.Is(errs[0], storage.ErrFenced) {
		t.Fatalf("Renew after Release: %v, want %v", errs[0], storage.ErrFenced)
	}
	b := claim(t, l, "rel/1", "node-b", time.Minute)
	if b.Epoch == a.Epoch {
		t.Fatalf("claim after release kept epoch %d", a.Epoch)
	}
	checkLapsed(t, b, 0) // a released it
	// Releasing a holding that is over changes nothing.
	if err := l.Release(t.Context(), a); err != nil {
		t.Fatalf("Release of an old holding: %v", err)
	}
	checkHolder(t, l, "rel/1", &b)
	commit(t, s, &storage.Batch{Actor: "rel/1", Puts: puts("k", "b"), Fence: b.Fence()})
}

// testFencedCommitAppliesNothing plays the race a cluster must survive: a
// holder pauses past its lease, another node claims it and commits, and
// the old holder's commit then fails with ErrFenced and applies nothing.
func testFencedCommitAppliesNothing(t *testing.T, s storage.Store, l storage.Leases) {
	const actor, ttl = "f/1", 300 * time.Millisecond
	commit(t, s, &storage.Batch{Send: []storage.Message{msg("in1", actor), msg("in2", actor)}})
	a := claim(t, l, actor, "node-a", ttl)
	commit(t, s, &storage.Batch{Actor: actor, Puts: puts("k", "a1"), Consumed: []string{"in1"}, Fence: a.Fence()})

	time.Sleep(ttl + 100*time.Millisecond) // node-a pauses
	b := claim(t, l, actor, "node-b", time.Minute)
	commit(t, s, &storage.Batch{Actor: actor, Version: 1, Puts: puts("k", "b2"), Fence: b.Fence()})

	hour := time.Now().Add(time.Hour)
	late := []storage.Batch{
		{Actor: actor, Version: 2, Puts: puts("k", "a-late", "x", "x"), Deletes: []string{"gone"}},
		{Actor: actor, Version: 1, Puts: puts("k", "a-stale")},
		{Actor: actor, Version: 2, Send: []storage.Message{msg("lost", "x/1")}, Consumed: []string{"in2"},
			Records:   []storage.Record{{Key: "lost", Reply: []byte("r"), Expires: hour}},
			Reminders: []storage.Reminder{rem(actor, "lost", time.Second)}, DeadLetters: []storage.DeadLetter{dead("lost")}},
		{Send: []storage.Message{msg("lost2", "x/1")}},
	}
	for i := range late {
		b := late[i]
		b.Fence = a.Fence()
		if err := s.Commit(t.Context(), &b); !errors.Is(err, storage.ErrFenced) {
			t.Fatalf("late commit %d of the old holder: %v, want %v", i, err, storage.ErrFenced)
		}
	}
	checkSnapshot(t, s, actor, 2, puts("k", "b2"))
	checkOutbox(t, s, msg("in2", actor))
	checkRecord(t, s, "lost", nil)
	checkReminders(t, s, actor)
	checkDead(t, s, "", 10)
	checkDeadStats(t, s, storage.DeadLetterStats{})
	commit(t, s, &storage.Batch{Actor: actor, Version: 2, Puts: puts("k", "b3"), Consumed: []string{"in2"}, Fence: b.Fence()})
	checkSnapshot(t, s, actor, 3, puts("k", "b3"))
	// A fence on an actor never claimed fails too.
	err := s.Commit(t.Context(), &storage.Batch{Actor: "f/never", Puts: puts("k", "v"), Fence: &storage.Fence{Actor: "f/never", Epoch: a.Epoch}})
	if !errors.Is(err, storage.ErrFenced) {
		t.Fatalf("commit fenced on an actor never claimed: %v, want %v", err, storage.ErrFenced)
	}
}

// testRenewDuringCommits renews a lease while its holder commits: a
// renewal must never fence the holder's own commits.
func testRenewDuringCommits(t *testing.T, s storage.Store, l storage.Leases) {
	const actor, commits = "rc/1", 40
	a := claim(t, l, actor, "node-a", time.Minute)
	stop := make(chan struct{})
	var wg sync.WaitGroup
	wg.Go(func() {
		held := a
		for range 1000 {
			select {
			case <-stop:
				return
			default:
			}
			renewed, errs := l.Renew(t.Context(), []storage.Lease{held}, time.Minute)
			if errs[0] != nil {
				t.Errorf("Renew: %v", errs[0])
				return
			}
			held = renewed[0]
		}
	})
	for v := range uint64(commits) {
		err := s.Commit(t.Context(), &storage.Batch{Actor: actor, Version: v, Puts: puts("v", fmt.Sprint(v+1)), Fence: a.Fence()})
		if err != nil {
			t.Errorf("fenced commit %d while renewing: %v", v, err)
			break
		}
	}
	close(stop)
	wg.Wait()
	checkSnapshot(t, s, actor, commits, puts("v", fmt.Sprint(commits)))
}

// testClaimHammer claims each of a few actors from many owners at once:
// exactly one wins, and every other is told who holds it.
func testClaimHammer(t *testing.T, _ storage.Store, l storage.Leases) {
	const owners = 8
	for round := range 4 {
		actor := fmt.Sprintf("h/%d", round)
		var (
			wg     sync.WaitGroup
			mu     sync.Mutex
			winner []storage.Lease
			losers []storage.Lease
		)
		for o := range owners {
			wg.Go(func() {
				got, err := l.Claim(t.Context(), actor, fmt.Sprintf("node-%d", o), time.Minute)
				mu.Lock()
				defer mu.Unlock()
				switch {
				case err == nil:
					winner = append(winner, got)
				case errors.Is(err, storage.ErrLeaseHeld):
					losers = append(losers, got)
				default:
					t.Errorf("Claim: %v", err)
				}
			})
		}
		wg.Wait()
		if len(winner) != 1 {
			t.Fatalf("%s: %d winners, want 1: %+v", actor, len(winner), winner)
		}
		for _, got := range losers {
			if got.Owner != winner[0].Owner || got.Epoch != winner[0].Epoch {
				t.Errorf("%s: a loser was told %+v, the winner is %+v", actor, got, winner[0])
			}
		}
		checkHolder(t, l, actor, &winner[0])
	}
}
