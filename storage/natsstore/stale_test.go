package natsstore_test

import (
	"encoding/json"
	"maps"
	"slices"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nats.go"

	"github.com/wactor/wactor/storage/natsstore"
)

// TestReadsOwnWrites answers a store's multi-subject read first as a
// replica that lags would (its answer reflects the stream up to sequence
// 5, before the store's own write at 10), then as one that caught up: the
// store drops the first answer and reads again, and gets the second.
func TestReadsOwnWrites(t *testing.T) {
	srv := startServer(t, t.TempDir())
	nc := connect(t, srv.ClientURL())
	var asked atomic.Int32
	sub, err := nc.Subscribe("$JS.API.DIRECT.GET.FAKE", func(m *nats.Msg) {
		upTo := uint64(5)
		if asked.Add(1) > 1 {
			upTo = 10
		}
		seq := strconv.FormatUint(upTo, 10)
		msg := nats.NewMsg(m.Reply)
		msg.Header.Set("Nats-Subject", "FAKE.v.x")
		msg.Header.Set("Nats-Sequence", seq)
		msg.Data = []byte(seq)
		eob := nats.NewMsg(m.Reply)
		eob.Header.Set("Status", "204")
		eob.Header.Set("Nats-Num-Pending", "0")
		eob.Header.Set("Nats-UpTo-Sequence", seq)
		if err := nc.PublishMsg(msg); err != nil {
			t.Error(err)
		}
		if err := nc.PublishMsg(eob); err != nil {
			t.Error(err)
		}
	})
	if err != nil {
		t.Fatal(err)
	}
	defer sub.Unsubscribe()

	seqs, err := natsstore.LastFor(t.Context(), natsstore.ReadsOnly(nc, "FAKE", 10), "FAKE.v.x")
	if err != nil {
		t.Fatal(err)
	}
	if len(seqs) != 1 || seqs[0] != 10 || asked.Load() != 2 {
		t.Fatalf("read messages at %v after %d requests; want the one at 10, after 2 (the lagging answer dropped)", seqs, asked.Load())
	}
}

// TestLoadAfterClaimSeesTheClaim answers a store that holds an actor's
// lease first with nothing at all, as a replica that has not applied the
// claim (nor the actor's first commit) would, then as one that has: Load
// reads again, and returns the committed version without the lease.
func TestLoadAfterClaimSeesTheClaim(t *testing.T) {
	srv := startServer(t, t.TempDir())
	nc := connect(t, srv.ClientURL())
	store := natsstore.ReadsOnly(nc, "FAKE", 7, "counter/1")
	vsubj, lsubj := natsstore.Subjects(store, "counter/1")
	var asked atomic.Int32
	sub, err := nc.Subscribe("$JS.API.DIRECT.GET.FAKE", func(m *nats.Msg) {
		if asked.Add(1) == 1 {
			none := nats.NewMsg(m.Reply)
			none.Header.Set("Status", "404")
			if err := nc.PublishMsg(none); err != nil {
				t.Error(err)
			}
			return
		}
		for i, subj := range []string{vsubj, lsubj} {
			msg := nats.NewMsg(m.Reply)
			msg.Header.Set("Nats-Subject", subj)
			msg.Header.Set("Nats-Sequence", strconv.Itoa(6+i))
			msg.Data = []byte("3")
			if err := nc.PublishMsg(msg); err != nil {
				t.Error(err)
			}
		}
		eob := nats.NewMsg(m.Reply)
		eob.Header.Set("Status", "204")
		eob.Header.Set("Nats-Num-Pending", "0")
		eob.Header.Set("Nats-UpTo-Sequence", "7")
		if err := nc.PublishMsg(eob); err != nil {
			t.Error(err)
		}
	})
	if err != nil {
		t.Fatal(err)
	}
	defer sub.Unsubscribe()

	snap, err := store.Load(t.Context(), "counter/1")
	if err != nil {
		t.Fatal(err)
	}
	if snap.Version != 3 || len(snap.State) != 0 || asked.Load() != 2 {
		t.Fatalf("Load gave version %d, state %v, after %d requests; want version 3, no state, after 2", snap.Version, snap.State, asked.Load())
	}
}

// TestLoadPagedReadsOwnWrites answers the reads of an actor with more
// keys than one read returns as a cluster with a lagging replica would:
// the paged direct get (what the store used to read such an actor with)
// and the first subject listing come from before the store's own last
// write at 10, and miss the key k2 written with it; the second listing
// comes from the leader once current. Load drops the stale listing and
// returns both keys.
func TestLoadPagedReadsOwnWrites(t *testing.T) {
	// No JetStream: the test answers the JetStream API itself.
	srv := startServer(t, t.TempDir(), func(o *server.Options) { o.JetStream = false })
	nc := connect(t, srv.ClientURL())
	store := natsstore.ReadsOnly(nc, "FAKE", 10)
	vsubj, _ := natsstore.Subjects(store, "big/1")
	k1, k2 := natsstore.StateSubject(store, "big/1", "k1"), natsstore.StateSubject(store, "big/1", "k2")
	seqs := map[string]int{vsubj: 9, k1: 7, k2: 8}
	answer := func(reply string, subjects []string, upTo string) {
		for _, subj := range subjects {
			msg := nats.NewMsg(reply)
			msg.Header.Set("Nats-Subject", subj)
			msg.Header.Set("Nats-Sequence", strconv.Itoa(seqs[subj]))
			msg.Header.Set("Nats-Num-Pending", "0")
			msg.Data = []byte("3")
			if err := nc.PublishMsg(msg); err != nil {
				t.Error(err)
			}
		}
		eob := nats.NewMsg(reply)
		eob.Header.Set("Status", "204")
		eob.Header.Set("Nats-Num-Pending", "0")
		if upTo != "" {
			eob.Header.Set("Nats-UpTo-Sequence", upTo)
		}
		if err := nc.PublishMsg(eob); err != nil {
			t.Error(err)
		}
	}
	direct, err := nc.Subscribe("$JS.API.DIRECT.GET.FAKE", func(m *nats.Msg) {
		var req struct {
			NextFor   string   `json:"next_by_subj"`
			MultiLast []string `json:"multi_last"`
		}
		if err := json.Unmarshal(m.Data, &req); err != nil {
			t.Error(err)
			return
		}
		switch {
		case req.NextFor != "": // a paged read, from the lagging replica
			answer(m.Reply, []string{k1}, "")
		case slices.ContainsFunc(req.MultiLast, func(s string) bool { return strings.HasSuffix(s, ".*") }):
			tooMany := nats.NewMsg(m.Reply)
			tooMany.Header.Set("Status", "413")
			if err := nc.PublishMsg(tooMany); err != nil {
				t.Error(err)
			}
		default: // named subjects, from a current replica
			answer(m.Reply, req.MultiLast, "10")
		}
	})
	if err != nil {
		t.Fatal(err)
	}
	defer direct.Unsubscribe()
	var listed atomic.Int32
	info, err := nc.Subscribe("$JS.API.STREAM.INFO.FAKE", func(m *nats.Msg) {
		last, subjects := `5`, `{"`+k1+`":1}`
		if listed.Add(1) > 1 {
			last, subjects = `10`, `{"`+k1+`":1,"`+k2+`":1}`
		}
		if err := m.Respond([]byte(`{"total":2,"state":{"last_seq":` + last + `,"subjects":` + subjects + `}}`)); err != nil {
			t.Error(err)
		}
	})
	if err != nil {
		t.Fatal(err)
	}
	defer info.Unsubscribe()

	snap, err := store.Load(t.Context(), "big/1")
	if err != nil {
		t.Fatal(err)
	}
	if snap.Version != 3 || len(snap.State) != 2 || listed.Load() != 2 {
		t.Fatalf("Load gave version %d, keys %v, after %d listings; want version 3, k1 and k2, after 2 (the stale one dropped)",
			snap.Version, slices.Sorted(maps.Keys(snap.State)), listed.Load())
	}
}
