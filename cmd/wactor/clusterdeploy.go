package main

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"log/slog"
	"sync"
	"time"

	"github.com/wactor/wactor/cluster"
	"github.com/wactor/wactor/host"
	"github.com/wactor/wactor/manifest"
)

// clusterDeploys carries live deploys across a cluster: a reload
// (SIGHUP) on any node publishes the modules it deployed to the cluster's
// modules bucket, and every node follows the bucket and deploys what it
// does not run yet, with the settings of its own manifest. So every node
// converges on the module last deployed anywhere; a node that starts
// later deploys its manifest's modules first, then the cluster's. A nil
// *clusterDeploys (a single node) does nothing.
type clusterDeploys struct {
	node    *cluster.Node
	updates chan cluster.Module
	cancel  context.CancelFunc
	wg      sync.WaitGroup

	actors map[string]manifest.Actor // the settings of each type, from the manifest last loaded
}

// deployWait bounds the fetch and deploy of one module from the cluster.
const deployWait = 2 * time.Minute

// followDeploys starts following the modules bucket of node (nil: none).
func followDeploys(node *cluster.Node, m *manifest.Manifest) *clusterDeploys {
	if node == nil {
		return nil
	}
	c := &clusterDeploys{node: node, updates: make(chan cluster.Module, 64)}
	c.setManifest(m)
	ctx, cancel := context.WithCancel(context.Background())
	c.cancel = cancel
	c.wg.Go(func() {
		node.FollowModules(ctx, func(mod cluster.Module) {
			select {
			case c.updates <- mod:
			case <-ctx.Done():
			}
		})
	})
	return c
}

// setManifest takes the types' settings from m.
func (c *clusterDeploys) setManifest(m *manifest.Manifest) {
	if c == nil || m == nil {
		return
	}
	c.actors = make(map[string]manifest.Actor, len(m.Actors))
	for _, a := range m.Actors {
		c.actors[a.Type] = a
	}
}

// modules delivers the modules the bucket holds and each one published
// after; nil without a cluster (a nil channel: never ready).
func (c *clusterDeploys) modules() <-chan cluster.Module {
	if c == nil {
		return nil
	}
	return c.updates
}

// stop stops following and waits.
func (c *clusterDeploys) stop() {
	if c == nil {
		return
	}
	c.cancel()
	c.wg.Wait()
}

// publish makes the module of a, which this node just deployed, the
// cluster's.
func (c *clusterDeploys) publish(ctx context.Context, a manifest.Actor, wasm []byte, log *slog.Logger) {
	if c == nil {
		return
	}
	ctx, cancel := context.WithTimeout(ctx, deployWait)
	defer cancel()
	mod, err := c.node.PublishModule(ctx, a.Type, wasm)
	if err != nil {
		log.Error("reload: the other nodes keep their module; reload again to retry", "type", a.Type, "err", err)
		return
	}
	log.Info("reload: the cluster deploys the module", "type", a.Type, "sha256", mod.SHA256)
}

// follow deploys mod when this node runs another module for its type.
// A type this node's manifest does not list is left alone: its settings
// are not known here.
func (c *clusterDeploys) follow(ctx context.Context, h *host.Host, fp fingerprints, mod cluster.Module, log *slog.Logger) {
	a, ok := c.actors[mod.Type]
	if !ok {
		log.Warn("cluster: a node deployed a type this manifest does not list; not deployed here", "type", mod.Type, "from", mod.Node)
		return
	}
	for _, ti := range h.Types() {
		if ti.Name == mod.Type && ti.ModuleSHA256 == mod.SHA256 {
			return // runs it already
		}
	}
	ctx, cancel := context.WithTimeout(ctx, deployWait)
	defer cancel()
	wasm, err := c.node.GetModule(ctx, mod)
	if err != nil {
		log.Error("cluster: fetching a deployed module; the type keeps its running version", "type", mod.Type, "err", err)
		return
	}
	tc := typeConfig(a, wasm)
	tc.Source = "cluster:" + mod.SHA256[:12] + " (deployed on node " + mod.Node + ")"
	start := time.Now()
	if _, err := h.DeployReport(ctx, tc); err != nil {
		log.Error("cluster: deploying the module another node deployed; the type keeps its running version", "type", mod.Type, "from", mod.Node, "err", err)
		return
	}
	sum := sha256.Sum256(wasm)
	fp[a.Type] = fingerprint(a, wasm)
	log.Info("cluster: deployed the module another node deployed", "type", mod.Type, "from", mod.Node,
		"sha256", hex.EncodeToString(sum[:]), "took", time.Since(start).Round(time.Millisecond).String())
}
