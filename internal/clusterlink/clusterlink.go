// Package clusterlink connects a host to its cluster node, so that any
// node reaches any actor: it adapts a *cluster.Node to host.Remote (who
// serves an actor, and asks and deliveries sent to other nodes), and
// serves what other nodes send with the host (Serve). The host imports
// nothing of the cluster and the cluster nothing of the host; this
// package, used by the CLI, imports both.
package clusterlink

import (
	"context"
	"errors"

	"github.com/wactor/wactor/abi"
	"github.com/wactor/wactor/cluster"
	"github.com/wactor/wactor/host"
	"github.com/wactor/wactor/storage"
)

// Remote is a cluster node seen as a host.Remote.
type Remote struct{ n *cluster.Node }

// New returns n as a host.Remote.
func New(n *cluster.Node) *Remote { return &Remote{n: n} }

var _ host.Remote = (*Remote)(nil)

var _ host.Liveness = (*Remote)(nil)

// Live implements host.Liveness: node is in the member list and its
// heartbeats go on (cluster.Node.Live).
func (r *Remote) Live(node string) bool { return r.n.Live(node) }

// LiveContext implements host.Liveness: a context canceled once node is
// no longer live (cluster.Node.LiveContext).
func (r *Remote) LiveContext(node string) context.Context { return r.n.LiveContext(node) }

// Owner implements host.Remote: the preferred owner among the active
// members.
func (r *Remote) Owner(ref abi.Ref) (string, bool) { return r.n.Placement().Owner(ref) }

// Ask implements host.Remote over the node's transport.
func (r *Remote) Ask(ctx context.Context, node string, req *host.RemoteAsk) ([]byte, error) {
	reply, err := r.n.Transport().Ask(ctx, node, &cluster.AskRequest{
		Target: req.Target, Method: req.Method, Payload: req.Payload, Sender: req.Sender, ID: req.ID, Key: req.Key,
		Chain: req.Chain, Trace: req.Trace, Hops: uint64(max(req.Hops, 0)),
	})
	return reply, toHost(err)
}

// Deliver implements host.Remote over the node's transport.
func (r *Remote) Deliver(ctx context.Context, node string, msgs []storage.Message) (map[string]string, error) {
	refused, err := r.n.Transport().Deliver(ctx, node, msgs)
	return refused, toHost(err)
}

// Serve makes n answer the asks and deliveries of other nodes with h,
// until n closes. Call it once h's types are deployed.
func Serve(n *cluster.Node, h *host.Host) error {
	return n.Transport().Serve(func(ctx context.Context, req *cluster.AskRequest) ([]byte, error) {
		reply, err := h.ServeAsk(ctx, &host.RemoteAsk{
			Target: req.Target, Method: req.Method, Payload: req.Payload, Sender: req.Sender, ID: req.ID, Key: req.Key,
			Chain: req.Chain, Trace: req.Trace, Hops: int(min(req.Hops, host.MaxHops)),
		})
		return reply, toCluster(err)
	}, func(ctx context.Context, msgs []storage.Message) (map[string]string, error) {
		refused, err := h.ServeDelivery(ctx, msgs)
		return refused, toCluster(err)
	})
}

// toHost translates the cluster's NotServedError to the host's.
func toHost(err error) error {
	var ns *cluster.NotServedError
	if errors.As(err, &ns) {
		return &host.NotServedError{Owner: ns.Owner, Err: ns.Err}
	}
	return err
}

// toCluster translates the host's NotServedError to the cluster's.
func toCluster(err error) error {
	var ns *host.NotServedError
	if errors.As(err, &ns) {
		return &cluster.NotServedError{Owner: ns.Owner, Err: ns.Err}
	}
	return err
}
