package natsstore_test

import (
	"errors"
	"fmt"
	"net"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/wactor/wactor/storage"
	"github.com/wactor/wactor/storage/natsstore"
	"github.com/wactor/wactor/storage/storagetest"
)

// TestTraceKept checks the fields the conformance suite does not compare:
// the trace context of outbox entries, reminders and dead letters.
func TestTraceKept(t *testing.T) {
	nc := connect(t, startServer(t, t.TempDir()).ClientURL())
	s := open(t, nc, freshStream())
	const trace = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"
	m := storage.Message{ID: "m1", Target: "t/1", Sender: "s/1", Method: "m", Payload: []byte{1}, Key: "k", Trace: trace}
	r := storage.Reminder{Actor: "t/1", Name: "r", Method: "m", Due: time.Unix(1, 2), Missed: "skip", Trace: trace}
	d := storage.DeadLetter{Message: m, Error: "trapped: x", Attempts: 2, At: time.Unix(3, 4)}
	d.Message.ID = "m0"
	if err := s.Commit(t.Context(), &storage.Batch{Send: []storage.Message{m}, Reminders: []storage.Reminder{r}, DeadLetters: []storage.DeadLetter{d}}); err != nil {
		t.Fatal(err)
	}
	out, err := s.Outbox(t.Context())
	if err != nil || len(out) != 1 || out[0].Trace != trace || out[0].Key != "k" {
		t.Fatalf("Outbox = %+v, %v", out, err)
	}
	rems, err := s.Reminders(t.Context(), "t/1")
	if err != nil || len(rems) != 1 || rems[0].Trace != trace || !rems[0].Due.Equal(r.Due) {
		t.Fatalf("Reminders = %+v, %v", rems, err)
	}
	got, ok, err := s.DeadLetter(t.Context(), "m0")
	if err != nil || !ok || got.Message.Trace != trace {
		t.Fatalf("DeadLetter = %+v, %v, %v", got, ok, err)
	}
}

// TestManyKeys loads an actor with more keys than one read returns, so
// that Load reads them in pages.
func TestManyKeys(t *testing.T) {
	nc := connect(t, startServer(t, t.TempDir()).ClientURL())
	s := open(t, nc, freshStream())
	const actor, keys = "big/1", 1500
	for v := range uint64(3) {
		b := &storage.Batch{Actor: actor, Version: v, Puts: map[string][]byte{}}
		for k := int(v) * 500; k < int(v+1)*500; k++ {
			b.Puts[fmt.Sprintf("k%04d", k)] = []byte(fmt.Sprint(k))
		}
		if err := s.Commit(t.Context(), b); err != nil {
			t.Fatal(err)
		}
	}
	snap, err := s.Load(t.Context(), actor)
	if err != nil {
		t.Fatal(err)
	}
	if snap.Version != 3 || len(snap.State) != keys || string(snap.State["k1234"]) != "1234" {
		t.Fatalf("Load: version %d, %d keys, k1234=%q", snap.Version, len(snap.State), snap.State["k1234"])
	}
	big := &storage.Batch{Actor: actor, Version: 3, Puts: map[string][]byte{}}
	for k := range 1001 {
		big.Puts[fmt.Sprint(k)] = nil
	}
	if err := s.Commit(t.Context(), big); !errors.Is(err, natsstore.ErrBatchTooLarge) {
		t.Fatalf("Commit of 1001 puts: %v, want %v", err, natsstore.ErrBatchTooLarge)
	}
}

// TestUnavailable stops the server: calls fail with ErrUnavailable within
// the configured timeout rather than hang.
func TestUnavailable(t *testing.T) {
	srv := startServer(t, t.TempDir())
	nc := connect(t, srv.ClientURL())
	s := open(t, nc, freshStream(), func(c *natsstore.Config) { c.Timeout = 500 * time.Millisecond })
	shutdown(srv)
	start := time.Now()
	_, err := s.Load(t.Context(), "a/1")
	if !errors.Is(err, natsstore.ErrUnavailable) {
		t.Fatalf("Load without a server: %v, want %v", err, natsstore.ErrUnavailable)
	}
	err = s.Commit(t.Context(), &storage.Batch{Send: []storage.Message{{ID: "m", Target: "a/1"}}})
	if !errors.Is(err, natsstore.ErrUnavailable) {
		t.Fatalf("Commit without a server: %v, want %v", err, natsstore.ErrUnavailable)
	}
	if d := time.Since(start); d > 5*time.Second {
		t.Errorf("failing took %s", d)
	}
}

func TestConfigErrors(t *testing.T) {
	nc := connect(t, startServer(t, t.TempDir()).ClientURL())
	for _, tt := range []struct {
		name string
		cfg  natsstore.Config
		want string
	}{
		{"no conn", natsstore.Config{}, "Conn is nil"},
		{"bad stream", natsstore.Config{Conn: nc, Stream: "a.b"}, "Config.Stream"},
		{"replicas", natsstore.Config{Conn: nc, Replicas: 7}, "Replicas"},
		{"batch", natsstore.Config{Conn: nc, MaxBatch: 1}, "MaxBatch"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := natsstore.Open(t.Context(), tt.cfg); err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("Open: %v, want an error about %s", err, tt.want)
			}
		})
	}
}

// startCluster starts three servers routed to each other on 127.0.0.1
// and returns them once JetStream has a meta leader.
func startCluster(t testing.TB) []*server.Server {
	t.Helper()
	// The route ports are picked first so that each server can list all
	// three as its routes.
	var ports [3]int
	var routes []*url.URL
	for i := range ports {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		ports[i] = l.Addr().(*net.TCPAddr).Port
		l.Close()
		routes = append(routes, &url.URL{Scheme: "nats", Host: fmt.Sprintf("127.0.0.1:%d", ports[i])})
	}
	var servers []*server.Server
	for i := range ports {
		servers = append(servers, newServer(t, t.TempDir(), func(o *server.Options) {
			o.ServerName = fmt.Sprintf("n%d", i)
			o.Cluster.Name = "wactor-test"
			o.Cluster.Host = "127.0.0.1"
			o.Cluster.Port = ports[i]
			o.Routes = routes
		}))
	}
	for _, s := range servers {
		ready(t, s)
	}
	deadline := time.Now().Add(30 * time.Second)
	for {
		current, leader := 0, false
		for _, s := range servers {
			if s.JetStreamIsCurrent() {
				current++
			}
			leader = leader || s.JetStreamIsLeader()
		}
		if current == len(servers) && leader {
			return servers
		}
		if time.Now().After(deadline) {
			t.Fatal("the 3 servers formed no JetStream cluster in 30 s")
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// TestReplicated runs the conformance and lease suites on streams
// replicated on three servers (where the server refuses a check on a
// subject another proposal has in flight, a race a renewal must not turn
// into a fence), then checks that acknowledged commits survive the loss
// of a server and that commits go on without it.
func TestReplicated(t *testing.T) {
	if testing.Short() {
		t.Skip("starts three servers")
	}
	servers := startCluster(t)
	urls := servers[0].ClientURL() + "," + servers[1].ClientURL() + "," + servers[2].ClientURL()
	nc := connect(t, urls)
	r3 := func(c *natsstore.Config) { c.Replicas = 3 }
	t.Run("Conformance", func(t *testing.T) {
		storagetest.Run(t, func(t *testing.T) storage.Store { return open(t, nc, freshStream(), r3) })
	})
	t.Run("Leases", func(t *testing.T) {
		storagetest.RunLeases(t, func(t *testing.T) storage.Store { return open(t, nc, freshStream(), r3) })
	})

	t.Run("SurvivesAServer", func(t *testing.T) {
		s := open(t, nc, freshStream(), r3)
		const actor = "r3/1"
		l, err := s.Claim(t.Context(), actor, "node-a", time.Minute)
		if err != nil {
			t.Fatal(err)
		}
		commit := func(v uint64) error {
			return s.Commit(t.Context(), &storage.Batch{Actor: actor, Version: v, Puts: map[string][]byte{"v": []byte(fmt.Sprint(v + 1))},
				Send: []storage.Message{{ID: fmt.Sprintf("m%03d", v), Target: actor}}, Fence: l.Fence()})
		}
		for v := range uint64(10) {
			if err := commit(v); err != nil {
				t.Fatalf("commit %d: %v", v, err)
			}
		}
		// Lose a server (the first that is not the one nc is on): the
		// stream may have to elect a leader, so commits are retried for
		// a while; an error must say so and apply nothing.
		shutdown(servers[2])
		deadline := time.Now().Add(20 * time.Second)
		for v := uint64(10); v < 20; {
			err := commit(v)
			if err == nil {
				v++
				continue
			}
			if time.Now().After(deadline) {
				t.Fatalf("commit %d with a server down: %v", v, err)
			}
			if errors.Is(err, storage.ErrFenced) {
				t.Fatalf("commit %d fenced with a server down", v)
			}
			snap, lerr := s.Load(t.Context(), actor)
			if lerr == nil && snap.Version > v {
				v = snap.Version // the commit was applied but its answer lost
			}
			time.Sleep(100 * time.Millisecond)
		}
		snap, err := s.Load(t.Context(), actor)
		if err != nil || snap.Version != 20 || string(snap.State["v"]) != "20" {
			t.Fatalf("after losing a server: %+v, %v", snap, err)
		}
		out, err := s.Outbox(t.Context())
		if err != nil || len(out) != 20 {
			t.Fatalf("outbox after losing a server: %d entries, %v", len(out), err)
		}
	})
}

// TestDueIndex checks the due-time index: entries move with their
// reminders, and an hour left empty loses its marker at the next read.
func TestDueIndex(t *testing.T) {
	nc := connect(t, startServer(t, t.TempDir()).ClientURL())
	name := freshStream()
	s := open(t, nc, name)
	base := time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC)
	rem := func(n string, due time.Duration) storage.Reminder {
		return storage.Reminder{Actor: "i/1", Name: n, Method: "m", Due: base.Add(due)}
	}
	commit := func(b *storage.Batch) {
		t.Helper()
		if err := s.Commit(t.Context(), b); err != nil {
			t.Fatal(err)
		}
	}
	commit(&storage.Batch{Reminders: []storage.Reminder{rem("a", 0), rem("b", 5*time.Hour), rem("c", 50*time.Hour), rem("old", -30*24*time.Hour)}})
	commit(&storage.Batch{Reminders: []storage.Reminder{rem("b", 51*time.Hour)}})             // moves to another hour
	commit(&storage.Batch{Actor: "i/1", CancelReminders: []string{"a", "old"}})               // empties two hours
	commit(&storage.Batch{Reminders: []storage.Reminder{rem("c", 50*time.Hour+time.Minute)}}) // same hour
	markers := func() int {
		js, err := jetstream.New(nc)
		if err != nil {
			t.Fatal(err)
		}
		st, err := js.Stream(t.Context(), name)
		if err != nil {
			t.Fatal(err)
		}
		info, err := st.Info(t.Context(), jetstream.WithSubjectFilter(name+".db.*"))
		if err != nil {
			t.Fatal(err)
		}
		return len(info.State.Subjects)
	}
	if n := markers(); n != 5 { // hours -720, 0, 5, 50, 51
		t.Fatalf("%d hour markers before a read, want 5", n)
	}
	due, err := s.DueReminders(t.Context(), base.Add(100*time.Hour), 10)
	if err != nil {
		t.Fatal(err)
	}
	if len(due) != 2 || due[0].Name != "c" || due[1].Name != "b" || !due[0].Due.Equal(base.Add(50*time.Hour+time.Minute)) {
		t.Fatalf("DueReminders = %+v", due)
	}
	time.Sleep(1500 * time.Millisecond) // the markers' tombstones expire
	if n := markers(); n != 2 {         // hours 50 and 51
		t.Fatalf("%d hour markers after a read, want 2", n)
	}
}

// TestGroupRefusalIsolated commits from many goroutines at once, so that
// commits share batches, with some of them bound to fail (a stale version,
// a lost fence): each fails alone, and the others are applied.
func TestGroupRefusalIsolated(t *testing.T) {
	nc := connect(t, startServer(t, t.TempDir()).ClientURL())
	s := open(t, nc, freshStream(), func(c *natsstore.Config) { c.MaxInflight = 1 })
	const actors, rounds = 24, 10
	lost, err := s.Claim(t.Context(), "g/lost", "node-a", 300*time.Millisecond)
	if err != nil {
		t.Fatal(err)
	}
	time.Sleep(400 * time.Millisecond)
	if _, err := s.Claim(t.Context(), "g/lost", "node-b", time.Minute); err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	for a := range actors {
		wg.Go(func() {
			actor := fmt.Sprintf("g/%d", a)
			for v := range uint64(rounds) {
				b := &storage.Batch{Actor: actor, Version: v, Puts: map[string][]byte{"v": []byte(fmt.Sprint(v + 1))},
					Send: []storage.Message{{ID: fmt.Sprintf("%s-%d", actor, v), Target: actor}}}
				want := error(nil)
				switch {
				case a%6 == 1:
					b.Version = v + 5 // stale
					want = storage.ErrVersionConflict
				case a%6 == 2:
					b.Fence = lost.Fence()
					want = storage.ErrFenced
				}
				if err := s.Commit(t.Context(), b); !errors.Is(err, want) || (want == nil && err != nil) {
					t.Errorf("%s version %d: %v, want %v", actor, v, err, want)
					return
				}
			}
		})
	}
	wg.Wait()
	sent := 0
	for a := range actors {
		snap, err := s.Load(t.Context(), fmt.Sprintf("g/%d", a))
		if err != nil {
			t.Fatal(err)
		}
		want := uint64(rounds)
		if a%6 == 1 || a%6 == 2 {
			want = 0
		} else {
			sent += rounds
		}
		if snap.Version != want {
			t.Errorf("g/%d at version %d, want %d", a, snap.Version, want)
		}
	}
	out, err := s.Outbox(t.Context())
	if err != nil || len(out) != sent {
		t.Fatalf("outbox: %d entries, %v; want %d", len(out), err, sent)
	}
	if groups, commits := natsstore.Groups(s); commits <= groups {
		t.Logf("no two commits shared a batch (%d batches, %d commits): the machine was too idle to test grouping", groups, commits)
	} else {
		t.Logf("%d commits in %d batches", commits, groups)
	}
}

// TestRecordOnce: a second commit of a live idempotency record is refused
// whole (two nodes that each missed the other's record must not both apply
// the keyed message), and a record past its expiry may be written again.
func TestRecordOnce(t *testing.T) {
	nc := connect(t, startServer(t, t.TempDir()).ClientURL())
	s := open(t, nc, freshStream())
	ctx := t.Context()
	keyed := func(key string, expires time.Time, n byte) *storage.Batch {
		return &storage.Batch{Actor: "bank/a", Puts: map[string][]byte{"n": {n}},
			Records: []storage.Record{{Key: key, Reply: []byte{n}, Expires: expires}}}
	}
	later := time.Now().Add(time.Hour)
	if err := s.Commit(ctx, keyed("k1", later, 1)); err != nil {
		t.Fatal(err)
	}
	b := keyed("k1", later, 2)
	b.Version = 1
	if err := s.Commit(ctx, b); !errors.Is(err, storage.ErrRecorded) {
		t.Fatalf("second commit of record k1: %v, want ErrRecorded", err)
	}
	snap, err := s.Load(ctx, "bank/a")
	if err != nil || snap.Version != 1 || snap.State["n"][0] != 1 {
		t.Fatalf("after the refused commit: %+v, %v; want version 1, n=1", snap, err)
	}
	if reply, ok, err := s.Recorded(ctx, "k1"); err != nil || !ok || reply[0] != 1 {
		t.Fatalf("Recorded(k1) = %v, %v, %v; want the first reply", reply, ok, err)
	}
	past := time.Now().Add(-time.Second)
	b = keyed("k2", past, 3)
	b.Version = 1
	if err := s.Commit(ctx, b); err != nil {
		t.Fatal(err)
	}
	b = keyed("k2", later, 4)
	b.Version = 2
	if err := s.Commit(ctx, b); err != nil {
		t.Fatalf("rewriting an expired record: %v", err)
	}
}

// TestWriteSentAgainAppliedOnce sends a batch, and a single message, a
// second time with the same message id, as a write whose answer was lost
// (the stream's leader moved) is sent again: the stream applies each
// once, and both attempts report the sequence of the one applied.
func TestWriteSentAgainAppliedOnce(t *testing.T) {
	nc := connect(t, startServer(t, t.TempDir()).ClientURL())
	stream := freshStream()
	s := open(t, nc, stream)
	ctx := t.Context()
	for _, n := range []int{3, 1} {
		var msgs []*nats.Msg
		for i := range n {
			msgs = append(msgs, &nats.Msg{Subject: fmt.Sprintf("%s.test.%d.%d", stream, n, i), Data: []byte{byte(i)}, Header: nats.Header{}})
		}
		first, second, err := natsstore.PublishTwice(ctx, s, msgs)
		if err != nil {
			t.Fatalf("%d messages: %v", n, err)
		}
		if first != second {
			t.Errorf("%d messages: the second attempt reports sequence %d, the first %d; want the same", n, second, first)
		}
		js, err := jetstream.New(nc)
		if err != nil {
			t.Fatal(err)
		}
		st, err := js.Stream(ctx, stream)
		if err != nil {
			t.Fatal(err)
		}
		info, err := st.Info(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if info.State.LastSeq != first {
			t.Errorf("%d messages: the stream's last sequence is %d after both attempts; want %d (applied once)", n, info.State.LastSeq, first)
		}
	}
}

// TestWriteSentAgainAfterOthers: a batch sent again after other writes
// to its subjects (another writer saw it applied before its own store
// learnt so, and the subjects keep their last message only) is reported
// applied, at the sequence of the later write to its first subject, which
// the store then reads at least up to, rather than failing as unknown.
func TestWriteSentAgainAfterOthers(t *testing.T) {
	nc := connect(t, startServer(t, t.TempDir()).ClientURL())
	stream := freshStream()
	s := open(t, nc, stream)
	ctx := t.Context()
	subj, other := stream+".test.version", stream+".test.key"
	msg := func(subject string, expect uint64) *nats.Msg {
		m := &nats.Msg{Subject: subject, Data: []byte("x"), Header: nats.Header{}}
		natsstore.Expect(m, subject, expect)
		return m
	}
	// Batches of two at sequences 1-2, 3-4 and 5-6, each expecting the
	// one before it on subj.
	first, second, err := natsstore.PublishAgainAfter(ctx, s,
		[]*nats.Msg{msg(subj, 0), {Subject: other, Data: []byte("x")}},
		[]*nats.Msg{msg(subj, 1), {Subject: other, Data: []byte("y")}},
		[]*nats.Msg{msg(subj, 3), {Subject: other, Data: []byte("z")}})
	if err != nil {
		t.Fatalf("the batch sent again after two other writes: %v; want it reported applied", err)
	}
	if first != 2 || second != 5 {
		t.Fatalf("the two attempts report sequences %d and %d; want 2 (the batch's last message) and 5 (the last write to its first subject)", first, second)
	}
}
