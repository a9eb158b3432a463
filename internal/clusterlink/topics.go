package clusterlink

import (
	"github.com/wactor/wactor/cluster"
	"github.com/wactor/wactor/host"
)

var _ host.TopicRelay = (*Remote)(nil)

// Relay implements host.TopicRelay over core NATS (cluster.Node.RelayTopic).
func (r *Remote) Relay(ev host.Event) error {
	return r.n.RelayTopic(cluster.TopicEvent{ID: ev.ID, Topic: ev.Topic, Sender: ev.Sender, Payload: ev.Payload})
}

// Listen implements host.TopicRelay (cluster.Node.FollowTopic).
func (r *Remote) Listen(topic string, deliver func(host.Event)) (func(), error) {
	return r.n.FollowTopic(topic, func(ev cluster.TopicEvent) {
		deliver(host.Event{ID: ev.ID, Topic: ev.Topic, Sender: ev.Sender, Payload: ev.Payload})
	})
}
