package cluster

import (
	"errors"
	"fmt"
	"strconv"

	"github.com/nats-io/nats.go"

	"github.com/wactor/wactor/abi"
)

// Topic relay. A publication is fanned out by one node, but clients that
// follow its topic live (server-sent events) may be connected to any
// node. The fanning node publishes each publication, as its fan-out
// starts, on the core NATS subject wactor.<cluster>.topic.<topic>, and a
// node whose clients follow a topic subscribes to that subject while they
// do. Core NATS, not JetStream: following is best effort (nothing is
// stored or replayed, a node cut off misses what is published meanwhile),
// and a topic no client follows costs a publish the server drops.

// Headers of a relayed publication; its data is the payload.
const (
	hdrOrigin = "Wactor-Origin" // the node that fanned it out
	hdrID     = "Wactor-Id"     // the publication's message id
	hdrSender = "Wactor-Sender" // the publishing actor, "" from outside
)

// TopicEvent is a publication as the relay carries it.
type TopicEvent struct {
	ID      string
	Topic   string
	Sender  string
	Payload []byte
}

// topicPrefix returns the start of the subjects of cluster's topics.
func topicPrefix(cluster string) string { return "wactor." + cluster + ".topic." }

// errNoTopic: a topic the relay cannot carry.
var errNoTopic = errors.New("cluster: an empty topic cannot be relayed")

// RelayTopic publishes ev to the nodes that follow its topic (not to this
// one: FollowTopic leaves out what the node relays itself). It does not
// wait for anyone; an error says the publish could not be sent (too
// large for the server, or the connection closed).
func (n *Node) RelayTopic(ev TopicEvent) error {
	if ev.Topic == "" {
		return errNoTopic
	}
	m := nats.NewMsg(topicPrefix(n.cfg.Name) + ev.Topic)
	m.Header.Set(hdrOrigin, n.cfg.Node)
	m.Header.Set(hdrID, ev.ID)
	if ev.Sender != "" {
		m.Header.Set(hdrSender, ev.Sender)
	}
	m.Data = ev.Payload
	return n.nc.PublishMsg(m)
}

// FollowTopic calls fn with each publication of topic that another node
// relays, until stop is called or the node closes. fn runs on the
// subscription's goroutine, one call at a time, and must not block.
func (n *Node) FollowTopic(topic string, fn func(TopicEvent)) (stop func(), err error) {
	if topic == "" {
		return nil, errNoTopic
	}
	prefix := topicPrefix(n.cfg.Name)
	sub, err := n.nc.Subscribe(prefix+topic, func(m *nats.Msg) {
		if m.Header.Get(hdrOrigin) == n.cfg.Node {
			return // this node's own, already handed to its followers
		}
		ev := TopicEvent{ID: m.Header.Get(hdrID), Topic: m.Subject[len(prefix):], Sender: m.Header.Get(hdrSender)}
		if err := checkRelayed(ev); err != nil {
			n.log.Debug("cluster: dropped a relayed publication that no node sent", "topic", ev.Topic, "err", err)
			return
		}
		if len(m.Data) > 0 {
			ev.Payload = m.Data
		}
		fn(ev)
	})
	if err != nil {
		return nil, err
	}
	return func() { _ = sub.Unsubscribe() }, nil
}

// checkRelayed refuses a relayed publication whose id or sender no node
// would send: anyone who can publish on the cluster's NATS can relay, and
// a follower's stream carries the id on a line of its own, which a control
// character (a NATS header keeps a lone CR) would end.
func checkRelayed(ev TopicEvent) error {
	if ev.ID == "" || len(ev.ID) > maxTextField {
		return fmt.Errorf("an id of %d bytes; 1 to %d are allowed", len(ev.ID), maxTextField)
	}
	for i := 0; i < len(ev.ID); i++ {
		if c := ev.ID[i]; c < 0x20 || c == 0x7f {
			return fmt.Errorf("id %s holds a control character", strconv.Quote(ev.ID))
		}
	}
	if ev.Sender != "" {
		if _, err := abi.ParseRef(ev.Sender); err != nil {
			return fmt.Errorf("sender: %w", err)
		}
	}
	return nil
}
