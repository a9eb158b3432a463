package host

import (
	"context"
	"time"

	"github.com/wactor/wactor/storage"
)

// Publication returns a publication to topic as Publish would commit it,
// with a fresh id, without committing it.
func Publication(h *Host, topic string, payload []byte) storage.Message {
	return storage.Message{ID: h.ids.next(), Target: topicPrefix + topic, Method: methodPublish, Payload: payload}
}

// SubscribersSet is the set of links that holds topic's subscribers.
func SubscribersSet(topic string) string { return subscribersSet(topic) }

// FanOut fans publication m out on the calling goroutine, as the host's
// fan-out loop does (two calls race as two nodes would).
func FanOut(ctx context.Context, h *Host, m storage.Message) error {
	return h.topics.fanOut(ctx, m, nil)
}

// Sweep runs one outbox sweep of h now, taking entries sent before
// cutoff, and returns how many it delivered.
func Sweep(ctx context.Context, h *Host, cutoff time.Time) (int, error) {
	return h.sweepOutbox(ctx, cutoff)
}
