package main

import (
	"context"
	"fmt"
	"log/slog"
	"time"

	"github.com/wactor/wactor/cluster"
	"github.com/wactor/wactor/manifest"
	"github.com/wactor/wactor/storage"
	"github.com/wactor/wactor/storage/natsstore"
)

// storeMargin is what one message of the JetStream store holds besides
// the value it carries (a state value, a message's payload, a reply):
// its subject, headers, and the encoding of the message around the
// payload (target, sender, method, IDs, trace context).
const storeMargin = 64 << 10

// storeOpenTimeout bounds the opening of the cluster's store.
const storeOpenTimeout = time.Minute

// natsPayload is the max_payload a node of m's cluster needs: every
// value the actors may commit (their max_message) plus storeMargin, and
// no less than the default. It fails when NATS cannot take that much.
func natsPayload(m *manifest.Manifest) (int, error) {
	need := cluster.MaxPayload
	for _, a := range m.Actors {
		if n := int(a.MaxMessage) + storeMargin; n > need {
			if n > cluster.MaxPayloadLimit {
				return 0, fmt.Errorf("%s: actor type %q has max_message %d bytes; in a cluster every value is one NATS message, which takes at most %d bytes: set max_message to %d or less",
					m.File, a.Type, int64(a.MaxMessage), cluster.MaxPayloadLimit, cluster.MaxPayloadLimit-storeMargin)
			}
			need = n
		}
	}
	return need, nil
}

// clusterStreamName is the JetStream stream of the cluster's actors:
// distinct per cluster, so that several clusters may share one NATS.
func clusterStreamName(cluster string) string { return "WACTOR_" + cluster }

// openClusterStore opens the store of a cluster node: one JetStream
// stream on the node's connection, shared by every node, with as many
// replicas as the cluster's own streams (3 with 3 servers or more, else
// 1). It refuses NATS servers whose max_payload is too small for m.
func openClusterStore(ctx context.Context, m *manifest.Manifest, n *cluster.Node, log *slog.Logger) (storage.Store, error) {
	need, err := natsPayload(m)
	if err != nil {
		return nil, err
	}
	if got := n.Conn().MaxPayload(); got < int64(need) {
		return nil, fmt.Errorf("the NATS server takes messages of up to %d bytes (max_payload), and %s lets actors commit values that need %d: raise max_payload on the NATS servers, or lower max_message", got, m.File, need)
	}
	cfg := natsstore.DefaultConfig(n.Conn())
	cfg.Stream, cfg.Replicas = clusterStreamName(n.Name()), n.Replicas()
	// The nodes of a new cluster create the stream together, as they
	// start; a creation that races another's may go unanswered, so each
	// attempt is short and the last error is reported.
	ctx, cancel := context.WithTimeout(ctx, storeOpenTimeout)
	defer cancel()
	var st *natsstore.Store
	for {
		attempt, stop := context.WithTimeout(ctx, 3*time.Second)
		st, err = natsstore.Open(attempt, cfg)
		stop()
		if err == nil {
			break
		}
		log.Info("storage: opening the cluster's stream again", "err", err)
		select {
		case <-ctx.Done():
			return nil, fmt.Errorf("the cluster's store did not open within %s: %w", storeOpenTimeout, err)
		case <-time.After(250 * time.Millisecond):
		}
	}
	log.Info("storage: JetStream, shared by the cluster", "stream", cfg.Stream, "replicas", cfg.Replicas)
	return st, nil
}
