package cluster

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"time"

	"github.com/nats-io/nats.go/jetstream"
)

// Live deploys across the cluster. The modules bucket (a JetStream
// object store, wactor_<cluster>_modules) keeps, per actor type, the
// module last deployed live on any node; every node follows it, so that
// a deploy on one node (SIGHUP) reaches all.

// MaxModule bounds a module the modules bucket takes.
const MaxModule = 256 << 20

// metaSHA256 is the metadata key of a module's SHA-256, in hex.
const metaSHA256 = "sha256"

// Module is one actor type's module as the modules bucket holds it.
type Module struct {
	Type   string
	SHA256 string // of the module's bytes, in hex
	Node   string // the node that published it
}

func (n *Node) modulesName() string { return "wactor_" + n.cfg.Name + "_modules" }

// modules returns the modules bucket, creating it the first time.
func (n *Node) modules(ctx context.Context) (jetstream.ObjectStore, error) {
	n.mu.Lock()
	obs := n.obs
	n.mu.Unlock()
	if obs != nil {
		return obs, nil
	}
	obs, err := n.js.CreateOrUpdateObjectStore(ctx, jetstream.ObjectStoreConfig{
		Bucket:      n.modulesName(),
		Description: "wactor cluster " + n.cfg.Name + ": the module each actor type runs, last deployed on any node",
		Storage:     jetstream.FileStorage,
		Replicas:    n.replicas,
	})
	if err != nil {
		return nil, fmt.Errorf("cluster: the modules bucket: %w", err)
	}
	n.mu.Lock()
	n.obs = obs
	n.mu.Unlock()
	return obs, nil
}

// PublishModule makes wasm the module of actor type typ for the whole
// cluster: every node that follows the modules bucket (FollowModules)
// deploys it.
func (n *Node) PublishModule(ctx context.Context, typ string, wasm []byte) (Module, error) {
	if len(wasm) > MaxModule {
		return Module{}, fmt.Errorf("cluster: module of type %s is %d bytes, over the %d the cluster shares", typ, len(wasm), MaxModule)
	}
	obs, err := n.modules(ctx)
	if err != nil {
		return Module{}, err
	}
	sum := sha256.Sum256(wasm)
	m := Module{Type: typ, SHA256: hex.EncodeToString(sum[:]), Node: n.cfg.Node}
	meta := jetstream.ObjectMeta{Name: typ, Description: "module of actor type " + typ,
		Metadata: map[string]string{metaSHA256: m.SHA256, "node": m.Node}}
	if _, err := obs.Put(ctx, meta, bytes.NewReader(wasm)); err != nil {
		return Module{}, fmt.Errorf("cluster: publishing the module of type %s: %w", typ, err)
	}
	return m, nil
}

// GetModule returns the bytes of m, checked against its SHA-256.
func (n *Node) GetModule(ctx context.Context, m Module) ([]byte, error) {
	obs, err := n.modules(ctx)
	if err != nil {
		return nil, err
	}
	info, err := obs.GetInfo(ctx, m.Type)
	if err != nil {
		return nil, fmt.Errorf("cluster: the module of type %s: %w", m.Type, err)
	}
	wasm, err := n.readModule(ctx, info)
	if err != nil {
		return nil, fmt.Errorf("cluster: the module of type %s: %w", m.Type, err)
	}
	if sum := sha256.Sum256(wasm); hex.EncodeToString(sum[:]) != m.SHA256 {
		return nil, fmt.Errorf("cluster: the module of type %s changed while it was read (want SHA-256 %s); the next update brings it", m.Type, m.SHA256)
	}
	return wasm, nil
}

// readModule reads the chunks of the object info describes, at most
// info.Size bytes. Anyone who can publish on the cluster's NATS can write
// an object's description, so the object store's Get is not used: it
// reads whatever the chunks hold, whatever size the description claims,
// and follows links, an object linked to itself a call deeper each time
// until the deadline. The chunks are the messages of the bucket's stream
// on the subject $O.<bucket>.C.<nuid> (the object store's layout).
func (n *Node) readModule(ctx context.Context, info *jetstream.ObjectInfo) ([]byte, error) {
	switch {
	case info.Opts != nil && info.Opts.Link != nil:
		return nil, errors.New("the bucket holds a link to another object, not a module")
	case info.Size > MaxModule:
		return nil, fmt.Errorf("%d bytes, over %d", info.Size, MaxModule)
	case CheckName(info.NUID) != "":
		return nil, fmt.Errorf("the object's chunks are named %q, not a NUID", info.NUID)
	case info.Size == 0:
		return []byte{}, nil
	}
	stream := "OBJ_" + n.modulesName()
	chunks := "$O." + n.modulesName() + ".C." + info.NUID
	st, err := n.js.Stream(ctx, stream)
	if err != nil {
		return nil, err
	}
	if _, err := st.GetLastMsgForSubject(ctx, chunks); err != nil {
		// Replaced since its description was read (its chunks are
		// purged): do not wait for chunks that will not come.
		return nil, fmt.Errorf("its chunks: %w", err)
	}
	c, err := n.js.OrderedConsumer(ctx, stream, jetstream.OrderedConsumerConfig{FilterSubjects: []string{chunks}})
	if err != nil {
		return nil, err
	}
	wasm := make([]byte, 0, info.Size)
	for {
		msg, err := c.Next(jetstream.FetchContext(ctx))
		if err != nil {
			return nil, err
		}
		if uint64(len(wasm)+len(msg.Data())) > info.Size {
			return nil, fmt.Errorf("its chunks hold more than the %d bytes its description gives", info.Size)
		}
		wasm = append(wasm, msg.Data()...)
		md, err := msg.Metadata()
		if err != nil {
			return nil, err
		}
		if md.NumPending == 0 {
			return wasm, nil
		}
	}
}

// FollowModules calls fn with every module the bucket holds, then with
// each one published after, until ctx ends; it returns then. A watch that
// breaks (JetStream electing a leader) is made again, starting with every
// module again, so fn must ignore a module it runs already.
func (n *Node) FollowModules(ctx context.Context, fn func(Module)) {
	for ctx.Err() == nil {
		if err := n.followModules(ctx, fn); err != nil && ctx.Err() == nil {
			n.log.Warn("cluster: following the modules bucket; watching again", "err", err)
		}
		select {
		case <-ctx.Done():
		case <-time.After(n.cfg.LeaseTTL):
		}
	}
}

func (n *Node) followModules(ctx context.Context, fn func(Module)) error {
	obs, err := n.modules(ctx)
	if err != nil {
		return err
	}
	w, err := obs.Watch(ctx, jetstream.IgnoreDeletes())
	if err != nil {
		return err
	}
	defer w.Stop()
	for {
		select {
		case <-ctx.Done():
			return nil
		case info, ok := <-w.Updates():
			if !ok {
				return errors.New("the watch closed")
			}
			if info == nil || info.Deleted || info.Name == "" {
				continue // the end of what was there, or not a module
			}
			sum := info.Metadata[metaSHA256]
			if len(sum) != 2*sha256.Size {
				continue
			}
			fn(Module{Type: info.Name, SHA256: sum, Node: info.Metadata["node"]})
		}
	}
}
