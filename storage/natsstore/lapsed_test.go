package natsstore_test

import (
	"testing"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/wactor/wactor/storage/natsstore"
)

// TestLapsedAfterLeaseMessageExpired: a held lease's message expires a
// minute after the lease, a released one's is kept. A claim that finds an
// actor's epoch but no lease message (here: an epoch written alone, as
// what is left once a lapsed holding's message expired) reports that
// holding as lapsed; one after a release does not, however long ago.
func TestLapsedAfterLeaseMessageExpired(t *testing.T) {
	nc := connect(t, startServer(t, t.TempDir()).ClientURL())
	stream := freshStream()
	s := open(t, nc, stream)
	js, err := jetstream.New(nc)
	if err != nil {
		t.Fatal(err)
	}
	ack, err := js.Publish(t.Context(), natsstore.EpochSubject(s, "w/1"), []byte("node-a"))
	if err != nil {
		t.Fatal(err)
	}
	l, err := s.Claim(t.Context(), "w/1", "node-b", time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	if l.Lapsed != ack.Sequence {
		t.Fatalf("claim after a lease message expired: Lapsed %d, want the epoch %d", l.Lapsed, ack.Sequence)
	}

	if err := s.Release(t.Context(), l); err != nil {
		t.Fatal(err)
	}
	_, lsubj := natsstore.Subjects(s, "w/1")
	str, err := js.Stream(t.Context(), stream)
	if err != nil {
		t.Fatal(err)
	}
	m, err := str.GetLastMsgForSubject(t.Context(), lsubj)
	if err != nil {
		t.Fatal(err)
	}
	if ttl := m.Header.Get(jetstream.MsgTTLHeader); ttl != "" {
		t.Fatalf("a released lease's message has TTL %s; want none (kept)", ttl)
	}
	again, err := s.Claim(t.Context(), "w/1", "node-c", time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	if again.Lapsed != 0 {
		t.Fatalf("claim after a release: Lapsed %d, want 0", again.Lapsed)
	}
}
