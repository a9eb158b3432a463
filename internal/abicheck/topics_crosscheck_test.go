package abicheck

import (
	"math/rand/v2"
	"testing"

	"github.com/wactor/wactor/abi"
)

// Mirrors of the watch and topic envelopes for fxamacker.

type fxWatch struct {
	Target string `cbor:"1,keyasint"`
}

type fxPublish struct {
	Topic   string `cbor:"1,keyasint"`
	Payload []byte `cbor:"2,keyasint,omitzero"`
}

type fxSubscription struct {
	Topic  string `cbor:"1,keyasint"`
	Method string `cbor:"2,keyasint,omitempty"`
}

// TestWatchAndTopicEnvelopes cross-checks the envelopes of watch,
// unwatch, publish, subscribe and unsubscribe with fxamacker, as
// TestEnvelopes does the others.
func TestWatchAndTopicEnvelopes(t *testing.T) {
	t.Run("watch", func(t *testing.T) {
		envelopeCase[abi.Watch, fxWatch]{
			name: "watch", random: func(r *rand.Rand) abi.Watch { return abi.Watch{Target: randText(r)} },
			toFx: func(w abi.Watch) fxWatch { return fxWatch(w) }, maxKey: 1,
			encode:   func(v *abi.Watch) []byte { return v.AppendTo(nil) },
			decode:   (*abi.Watch).Decode,
			same:     func(a, b abi.Watch) bool { return a == b },
			sameFx:   func(a, b fxWatch) bool { return a == b },
			examples: []abi.Watch{{}, {Target: "room/a"}},
		}.run(t)
	})
	t.Run("publish", func(t *testing.T) {
		envelopeCase[abi.Publish, fxPublish]{
			name: "publish",
			random: func(r *rand.Rand) abi.Publish {
				p := abi.Publish{Topic: randText(r)}
				if r.IntN(2) == 0 {
					p.Payload = randBytes(r, false)
				}
				return p
			},
			toFx: func(p abi.Publish) fxPublish { return fxPublish(p) }, maxKey: 2,
			encode:   func(v *abi.Publish) []byte { return v.AppendTo(nil) },
			decode:   (*abi.Publish).Decode,
			same:     func(a, b abi.Publish) bool { return a.Topic == b.Topic && sameBytes(a.Payload, b.Payload) },
			sameFx:   func(a, b fxPublish) bool { return a.Topic == b.Topic && sameBytes(a.Payload, b.Payload) },
			examples: []abi.Publish{{}, {Topic: "rooms.1", Payload: []byte{7}}, {Topic: "t", Payload: []byte{}}},
		}.run(t)
	})
	t.Run("subscription", func(t *testing.T) {
		envelopeCase[abi.Subscription, fxSubscription]{
			name: "subscription",
			random: func(r *rand.Rand) abi.Subscription {
				return abi.Subscription{Topic: randText(r), Method: randText(r)}
			},
			toFx: func(s abi.Subscription) fxSubscription { return fxSubscription(s) }, maxKey: 2,
			encode:   func(v *abi.Subscription) []byte { return v.AppendTo(nil) },
			decode:   (*abi.Subscription).Decode,
			same:     func(a, b abi.Subscription) bool { return a == b },
			sameFx:   func(a, b fxSubscription) bool { return a == b },
			examples: []abi.Subscription{{}, {Topic: "rooms.1", Method: "heard"}, {Topic: "rooms.1"}},
		}.run(t)
	})
}
