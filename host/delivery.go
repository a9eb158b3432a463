package host

import (
	"context"
	"errors"
	"slices"
	"time"

	"github.com/wactor/wactor/abi"
	"github.com/wactor/wactor/storage"
)

// Delivery of committed tells across the nodes of a cluster (see
// docs/cluster.md, "Routing"). A tell is durable in the shared outbox
// before it is acknowledged; the node that committed it then hands it to
// the node that serves its target (Remote.Deliver), which queues it for
// the target's turn, whose commit consumes the entry once
// (storage.Batch.ConsumeOnce): a second delivery of the same message,
// which a retry or the sweep may make, is refused by the store and rolled
// back. Entries that no node delivered (their sender's node died) are
// picked up by the node that serves their target, in a sweep of the
// outbox every lease TTL.

// Bounds of delivery between nodes.
const (
	// deliverTimeout bounds one delivery to another node; a delivery that
	// fails waits, with the later messages to its targets, and is tried
	// again.
	deliverTimeout = 2 * time.Second
	// maxDeliverBatch is the most messages one delivery carries.
	maxDeliverBatch = 512
	// maxSweep is the most outbox entries one sweep delivers; the next
	// sweep takes the rest.
	maxSweep = 1000
	// maxSweepPages bounds the outbox pages (storage.MaxOutboxPage
	// entries each) one sweep reads; the next sweep reads on from there,
	// and after the last page from the first again, so that a large
	// outbox costs each sweep bounded memory and time.
	maxSweepPages = 10
	// maxWaiting bounds the messages that wait here for room or for a
	// node (see Host.pending): past it, deliveries from other nodes are
	// refused (their senders keep them and try again).
	maxWaiting = 1 << 16
)

// refusedError is the error of a turn whose commit the store refused: the
// caller sees the *abi.Error, and the host finds the store's error in it.
type refusedError struct {
	e     *abi.Error
	cause error
}

func (r *refusedError) Error() string { return r.e.Error() }

// Unwrap returns both errors.
func (r *refusedError) Unwrap() []error { return []error{r.e, r.cause} }

func refused(e *abi.Error, cause error) error { return &refusedError{e: e, cause: cause} }

// deliverRouted delivers msgs where their targets are served: those
// served here as deliverHere does, the others to their nodes, one
// delivery per node, in order. A message to a target for which messages
// wait stays here, behind them.
func (h *Host) deliverRouted(msgs []storage.Message) {
	var here []storage.Message
	var nodes []string
	away := map[string][]storage.Message{}
	for _, m := range msgs {
		node := ""
		if to, err := abi.ParseRef(m.Target); err == nil && !h.waitingFor(m.Target) {
			node = h.route(to)
		}
		if node == "" {
			here = append(here, m)
			continue
		}
		if away[node] == nil {
			nodes = append(nodes, node)
		}
		away[node] = append(away[node], m)
	}
	h.deliverHere(context.Background(), here)
	for _, node := range nodes {
		if failed := h.sendAway(node, away[node]); len(failed) > 0 {
			h.retryMu.Lock()
			for _, m := range failed {
				h.wait(m)
			}
			h.retryMu.Unlock()
			h.wakeRetry()
		}
	}
}

// waitingFor reports whether messages to target wait for the retry loop.
func (h *Host) waitingFor(target string) bool {
	if h.waiting.Load() == 0 {
		return false
	}
	h.retryMu.Lock()
	defer h.retryMu.Unlock()
	return len(h.pending[target]) > 0
}

// sendAway delivers msgs to node and returns those it did not take, in
// order: all of them when the delivery failed, else those to the targets
// it refused (whose owners it named are remembered).
func (h *Host) sendAway(node string, msgs []storage.Message) (failed []storage.Message) {
	for part := range slices.Chunk(msgs, maxDeliverBatch) {
		ctx, cancel := context.WithTimeout(context.Background(), deliverTimeout)
		refusedTargets, err := h.remote.Deliver(ctx, node, part)
		cancel()
		if err != nil {
			if !h.closing() {
				h.log.Debug("delivering tells to another node; trying again", "node", node, "count", len(part), "err", err)
			}
			var ns *NotServedError
			if errors.As(err, &ns) {
				for _, m := range part {
					if to, perr := abi.ParseRef(m.Target); perr == nil {
						h.noted(to, node, err)
					}
				}
			}
			failed = append(failed, part...)
			continue
		}
		for _, m := range part {
			owner, ok := refusedTargets[m.Target]
			if !ok {
				continue
			}
			if to, perr := abi.ParseRef(m.Target); perr == nil {
				h.noted(to, node, notServedError(owner, "node "+node+" does not serve "+m.Target))
			}
			failed = append(failed, m)
		}
	}
	return failed
}

// delivered is the Done of a tell queued here in a cluster: when its
// target turned out to be served by another node (its lease is held
// there, or this node lost it), nothing of it was applied and it waits to
// be delivered again, there.
func (h *Host) delivered(m storage.Message, err error) {
	h.local.Delete(m.ID)
	var ns *NotServedError
	if err == nil || !errors.As(err, &ns) || h.closing() {
		return
	}
	if to, perr := abi.ParseRef(m.Target); perr == nil {
		h.noted(to, "", err)
	}
	h.retryMu.Lock()
	h.wait(m)
	h.retryMu.Unlock()
	h.wakeRetry()
}

// ServeDelivery takes messages that another node committed to the outbox
// and hands to this one (see Remote): those to targets this node serves
// are queued for them, in order; the others are returned, each target
// with the node that serves it as far as this one knows ("" for none),
// for the sender to deliver again.
func (h *Host) ServeDelivery(ctx context.Context, msgs []storage.Message) (map[string]string, error) {
	if h.remote == nil {
		return nil, notServedError("", "this host is not in a cluster")
	}
	if h.closing() {
		return nil, notServedError("", "node "+h.node+" is shutting down")
	}
	if h.waiting.Load() >= maxWaiting {
		return nil, notServedError("", "node "+h.node+" has "+itoa(maxWaiting)+" messages waiting for room; try again")
	}
	var take []storage.Message
	var refusedTargets map[string]string
	decided := map[string]string{}
	for _, m := range msgs {
		node, ok := decided[m.Target]
		if !ok {
			if to, err := abi.ParseRef(m.Target); err == nil && !h.waitingFor(m.Target) {
				node = h.route(to)
			}
			decided[m.Target] = node
		}
		if node == "" {
			take = append(take, m)
			continue
		}
		if refusedTargets == nil {
			refusedTargets = map[string]string{}
		}
		refusedTargets[m.Target] = node
	}
	h.deliverHere(ctx, take)
	return refusedTargets, nil
}

// sweepLoop delivers, every lease TTL, the outbox entries that no node
// delivered and whose targets this node serves, until the host closes.
func (h *Host) sweepLoop() {
	defer h.wg.Done()
	every := max(h.own.ttl, 100*time.Millisecond)
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		select {
		case <-h.stop:
			return
		case <-t.C:
		}
		ctx, cancel := context.WithTimeout(context.Background(), every)
		n, err := h.sweepOutbox(ctx, time.Now().Add(-h.own.ttl))
		cancel()
		switch {
		case err != nil && !h.closing():
			h.log.Warn("sweeping the outbox", "err", err)
		case n > 0:
			h.log.Info("delivered messages left in the outbox", "count", n)
		}
	}
}

// topicPlacement is the type under which a topic is placed on a node,
// for the fan-out of publications left in the outbox: a name no actor
// type can have.
const topicPlacement = "wactor:topic"

// sweepOutbox delivers up to maxSweep outbox entries sent before cutoff
// (younger ones are most likely on their way) whose targets this node
// serves and which are not queued here already, in the store's order (a
// sender's messages to one target in send order), and returns how many.
// It reads at most maxSweepPages pages of the outbox, from where the
// sweep before stopped (h.sweepCursor), and stops at the first entry
// sent after cutoff: the store lists entries in the order they were
// committed, so the rest are younger still, and the next sweep starts
// from the first page again. A sweep therefore never takes a message
// while an older one of the same sender to the same target waits,
// unread, on a page before it.
func (h *Host) sweepOutbox(ctx context.Context, cutoff time.Time) (int, error) {
	var take []storage.Message
	defer func() { h.deliver(take) }()
	for range maxSweepPages {
		msgs, next, err := h.store.OutboxPage(ctx, h.sweepCursor, storage.MaxOutboxPage)
		if err != nil {
			return len(take), err
		}
		switch h.sweepPage(msgs, cutoff, &take) {
		case sweepFull:
			// The next sweep reads this page again, for what was left of
			// it (what was taken is queued by then, and skipped).
			return len(take), nil
		case sweepYoung:
			h.sweepCursor = ""
			return len(take), nil
		}
		h.sweepCursor = next
		if next == "" {
			break // the end: the next sweep starts from the first page
		}
	}
	return len(take), nil
}

// How a page of the sweep ended.
const (
	sweepRead  = iota // every entry was looked at
	sweepFull         // the sweep took maxSweep entries
	sweepYoung        // an entry was sent after the cutoff
)

// sweepPage adds to take the entries of msgs that the sweep delivers
// (see sweepOutbox), and says how the page ended.
func (h *Host) sweepPage(msgs []storage.Message, cutoff time.Time, take *[]storage.Message) int {
	for _, m := range msgs {
		if len(*take) == maxSweep {
			return sweepFull
		}
		if at, ok := sentAt(m.ID); ok && at.After(cutoff) {
			return sweepYoung
		}
		if _, queued := h.local.Load(m.ID); queued || h.isPending(m) {
			continue
		}
		if isPublication(&m) {
			// A publication left behind is fanned out by the node that
			// placement prefers for its topic.
			if _, self := h.remote.Owner(abi.Ref{Type: topicPlacement, ID: m.Target}); self && !h.topics.queued(m.ID) {
				*take = append(*take, m)
			}
			continue
		}
		to, err := abi.ParseRef(m.Target)
		if err != nil {
			continue
		}
		if !h.sched.Has(to) {
			if _, self := h.remote.Owner(to); !self || h.hints.get(to) != "" {
				continue // another node's to deliver
			}
		}
		*take = append(*take, m)
	}
	if len(*take) == maxSweep {
		return sweepFull
	}
	return sweepRead
}

// isPending reports whether m waits for the retry loop.
func (h *Host) isPending(m storage.Message) bool {
	if h.waiting.Load() == 0 {
		return false
	}
	h.retryMu.Lock()
	defer h.retryMu.Unlock()
	return slices.ContainsFunc(h.pending[m.Target], func(p storage.Message) bool { return p.ID == m.ID })
}
