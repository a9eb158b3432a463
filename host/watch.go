package host

import (
	"context"
	"errors"
	"fmt"
	"strconv"

	"github.com/wactor/wactor/abi"
	"github.com/wactor/wactor/storage"
)

// Watches. An actor's watch of another is a pair of links, committed with
// the turn that makes it: the watcher in the watched actor's set of
// watchers (what a deactivation reads) and the watched actor in the
// watcher's set of watches (what bounds how many it makes). When an
// activation's instance ends (deactivation, failure, redeploy) the host
// commits one lifecycle message per watcher to the outbox; the activation
// is then not live until a new instance starts, so one end is told once.

// In a cluster an activation may end without its node telling anyone:
// the node died, or was paused or cut off past the lease, and its commits
// are fenced. The node that next claims the actor's lease learns that the
// holding before it lapsed (storage.Lease.Lapsed) and tells the watchers
// "lost", fenced by its own lease, before it loads the actor. Every
// telling of an end under a lease also records the holding's epoch in
// the link lifecycleSet(actor)/toldMember, in the same batch, so that an
// end told by its own node, which then died before releasing the lease,
// is not told again.

// watchersSet names the set of the actors that watch ref.
func watchersSet(ref string) string { return "watchers/" + ref }

// watchingSet names the set of the actors ref watches.
func watchingSet(ref string) string { return "watching/" + ref }

// lifecycleSet names the set whose member toldMember records the epoch of
// the last holding of ref's lease whose end its watchers were told.
func lifecycleSet(ref string) string { return "lifecycle/" + ref }

const toldMember = "told"

// toldLink records that the end of the holding of ref's lease at epoch
// was told.
func toldLink(ref string, epoch uint64) storage.Link {
	return storage.Link{Set: lifecycleSet(ref), Member: toldMember, Value: strconv.AppendUint(nil, epoch, 10)}
}

// noticePage is how many watchers one commit of lifecycle messages
// tells: all of them, as abi.MaxWatchers bounds them, unless concurrent
// watches passed the bound.
const noticePage = abi.MaxWatchers

// watch buffers a watch of the target; it is committed with the turn.
func (t *turn) watch(arg []byte) (abi.Status, []byte) {
	var w abi.Watch
	decoded(abi.ImportWatch, w.Decode(arg))
	ref, e := abi.CheckWatch(abi.ImportWatch, t.a.ref.String(), &w)
	if e == nil {
		if _, ok := t.a.h.lookupType(ref.Type); !ok {
			e = abi.NewError(abi.CodeUnknownType, "watch: no actor type "+ref.Type)
		}
	}
	if e == nil {
		e = t.roomToWatch(w.Target)
	}
	if e != nil {
		return abi.StatusError, abi.AppendError(nil, e)
	}
	t.watchOp(w.Target, true)
	return abi.StatusOK, nil
}

// unwatch buffers the end of a watch; unwatching an actor not watched is
// not an error.
func (t *turn) unwatch(arg []byte) (abi.Status, []byte) {
	var w abi.Watch
	decoded(abi.ImportUnwatch, w.Decode(arg))
	if _, e := abi.CheckWatch(abi.ImportUnwatch, t.a.ref.String(), &w); e != nil {
		return abi.StatusError, abi.AppendError(nil, e)
	}
	if _, ok := t.watches[w.Target]; !ok {
		if e := abi.CheckWatches(len(t.watches)); e != nil {
			return abi.StatusError, abi.AppendError(nil, e)
		}
	}
	t.watchOp(w.Target, false)
	return abi.StatusOK, nil
}

func (t *turn) watchOp(target string, watch bool) {
	if t.watches == nil {
		t.watches = make(map[string]bool)
	}
	t.watches[target] = watch
}

// roomToWatch refuses a watch of target when the actor watches
// abi.MaxWatches actors, counting its turn's own, or target has
// abi.MaxWatchers watchers. It reads the store once the turns before are
// durable, whose watches count too.
func (t *turn) roomToWatch(target string) *abi.Error {
	if t.watches[target] {
		return nil // already counted
	}
	if !t.settle() {
		return asABIError(t.doomed)
	}
	self := t.a.ref.String()
	watching, err := t.a.h.store.Links(t.ctx, watchingSet(self), "", abi.MaxWatches+1)
	if err != nil {
		return abi.NewError(abi.CodeUnavailable, "watch: reading the watches of "+self+": "+err.Error())
	}
	n, already := 0, false
	for _, l := range watching {
		if l.Member == target {
			already = true
		}
		if w, ok := t.watches[l.Member]; !ok || w {
			n++
		}
	}
	for m, w := range t.watches {
		if w && !containsMember(watching, m) {
			n++
		}
	}
	if already {
		return nil
	}
	if e := abi.CheckWatches(n); e != nil {
		return e
	}
	watchers, err := t.a.h.store.Links(t.ctx, watchersSet(target), "", abi.MaxWatchers)
	if err != nil {
		return abi.NewError(abi.CodeUnavailable, "watch: reading the watchers of "+target+": "+err.Error())
	}
	return abi.CheckWatchers(target, len(watchers))
}

func containsMember(links []storage.Link, member string) bool {
	for _, l := range links {
		if l.Member == member {
			return true
		}
	}
	return false
}

// watchChanges adds the turn's watches and unwatches to b.
func (a *activation) watchChanges(t *turn, b *storage.Batch) {
	if len(t.watches) == 0 {
		return
	}
	self := a.selfString()
	for target, watch := range t.watches {
		pair := []storage.Link{{Set: watchersSet(target), Member: self}, {Set: watchingSet(self), Member: target}}
		if watch {
			b.Links = append(b.Links, pair...)
		} else {
			b.Unlinks = append(b.Unlinks, pair...)
		}
	}
}

// notices returns the lifecycle messages of self's end for reason, one
// per watcher of the page.
func (h *Host) notices(self string, page []storage.Link, reason string) []storage.Message {
	payload := (&abi.Lifecycle{Ref: self, Reason: reason}).AppendTo(nil)
	msgs := make([]storage.Message, len(page))
	for i, l := range page {
		msgs[i] = storage.Message{ID: h.ids.next(), Target: l.Member, Sender: self, Method: abi.MethodDeactivated, Payload: payload}
	}
	return msgs
}

// commitDeactivating commits a turn that asked to deactivate, with the
// lifecycle messages to the actor's watchers in the same batch: once the
// turn is acknowledged, its watchers are told, even if the process dies
// before the deactivation itself.
func (a *activation) commitDeactivating(ctx context.Context, t *turn, reply []byte) ([]byte, error) {
	if err := a.settle(ctx); err != nil {
		return nil, a.uncommitted(t.msg, err)
	}
	b := a.batch(t, reply)
	told, err := a.addNotices(ctx, b, abi.ReasonRequested)
	if err != nil {
		return nil, a.uncommitted(t.msg, err)
	}
	if err := a.commitNow(ctx, t, b); err != nil {
		return nil, a.uncommitted(t.msg, err)
	}
	if told {
		a.live = false // the deactivation that follows tells nobody again
	}
	return reply, nil
}

// addNotices adds to b the lifecycle messages of a's end, for reason, to
// its watchers, and reports whether b tells them all, or none needs
// telling (they were told already, or a's lease was lost: see ended). When
// a has more watchers than one batch holds (concurrent watches passed
// abi.MaxWatchers) it adds nothing: ended tells them page by page.
func (a *activation) addNotices(ctx context.Context, b *storage.Batch, reason string) (bool, error) {
	if !a.live || (a.lease != nil && a.lease.lost.Load()) {
		return true, nil
	}
	page, err := a.h.store.Links(ctx, watchersSet(a.ref.String()), "", noticePage)
	if err != nil {
		return false, abi.NewError(abi.CodeUnavailable, "reading the watchers of "+a.ref.String()+": "+err.Error())
	}
	if len(page) == noticePage {
		return false, nil
	}
	b.Send = append(b.Send, a.h.notices(a.ref.String(), page, reason)...)
	if a.lease != nil && len(page) > 0 {
		b.Links = append(b.Links, toldLink(a.ref.String(), a.lease.lease.Epoch))
	}
	return true, nil
}

// ended tells the watchers that the activation's instance ended, unless
// they were told already since it started. A lost lease tells no one
// here: the node that claims the lease next tells them (tellLapsed).
func (a *activation) ended(ctx context.Context, reason string) {
	if !a.live || (a.lease != nil && a.lease.lost.Load()) {
		return
	}
	a.live = false
	resume := a.h.sched.Blocking(ctx)
	defer resume()
	var fence *storage.Fence
	var epoch uint64
	if a.lease != nil {
		fence, epoch = a.lease.fence, a.lease.lease.Epoch
	}
	err := a.h.tellWatchers(ctx, a.ref, reason, fence, epoch)
	switch {
	case err == nil:
	case a.lease != nil && a.h.own.fenced(a.lease, err):
		a.h.log.Info("the lease of a deactivated actor was lost before its watchers were told; the node that claims it tells them",
			"actor", a.ref.String(), "reason", reason)
	default:
		a.h.log.Error("telling the watchers of a deactivated actor failed; they are not told", "actor", a.ref.String(), "reason", reason, "err", err)
	}
}

// tellWatchers commits, a page at a time, a lifecycle message of ref's
// end for reason to each of its watchers, and delivers them. With a
// fence, each page commits only while the lease holds, and the last
// records that the end of the holding at epoch was told (toldLink).
func (h *Host) tellWatchers(ctx context.Context, ref abi.Ref, reason string, fence *storage.Fence, epoch uint64) error {
	self := ref.String()
	after := ""
	for range abi.MaxWatchers { // bounded: a page at least per round
		page, err := h.store.Links(ctx, watchersSet(self), after, noticePage)
		if err != nil {
			return errors.New("reading the watchers of " + self + ": " + err.Error())
		}
		if len(page) == 0 {
			if fence != nil && after != "" {
				// The pages before were full: the record goes alone.
				return h.store.Commit(ctx, &storage.Batch{Actor: self, Fence: fence, Links: []storage.Link{toldLink(self, epoch)}})
			}
			return nil
		}
		last := len(page) < noticePage
		b := &storage.Batch{Actor: self, Send: h.notices(self, page, reason), Fence: fence}
		if fence != nil && last {
			b.Links = []storage.Link{toldLink(self, epoch)}
		}
		if err := h.store.Commit(ctx, b); err != nil {
			return fmt.Errorf("committing lifecycle messages of %s: %w", self, err)
		}
		h.sent(ref.Type, KindTell, len(b.Send))
		h.deliver(b.Send)
		if last {
			return nil
		}
		after = page[len(page)-1].Member
	}
	return nil
}

// tellLapsed tells the watchers of ref "lost" when the lease l claimed
// took over a holding that lapsed (see storage.Lease.Lapsed) and no
// telling of that holding's end, or a later one's, is recorded. It fails
// only when l was lost meanwhile (the caller must not activate); a store
// that fails otherwise is logged, and the watchers are not told, as when
// an ending node cannot tell them.
func (h *Host) tellLapsed(ctx context.Context, ref abi.Ref, l *held) error {
	lapsed := l.lease.Lapsed
	if lapsed == 0 {
		return nil
	}
	self := ref.String()
	told, err := h.store.Links(ctx, lifecycleSet(self), "", 1)
	if err == nil && len(told) == 1 && told[0].Member == toldMember {
		if epoch, perr := strconv.ParseUint(string(told[0].Value), 10, 64); perr == nil && epoch >= lapsed {
			return nil // its own node told it
		}
	}
	if err == nil {
		err = h.tellWatchers(ctx, ref, abi.ReasonLost, l.fence, lapsed)
	}
	switch {
	case err == nil:
		return nil
	case h.own.fenced(l, err):
		return errOwnershipLost(self)
	}
	h.log.Error("telling the watchers of an actor taken over from a lapsed lease failed; they are not told", "actor", self, "err", err)
	return nil
}

// broke discards the instance of a guest that broke: a read-only
// reader's alone (the activation lives on), or the activation's own,
// whose end its watchers are told of.
func (a *activation) broke(t *turn, err error) {
	a.guestBroke(err)
	if t.up != nil {
		// Turns wait further up the instance's stack: it is discarded
		// when they have failed (see nestedBroke).
		t.inst.broken = err
		return
	}
	if t.inst != nil && t.inst == a.reader {
		a.discardReader(t.ctx)
		return
	}
	a.discard(t.ctx)
	a.ended(t.ctx, abi.ReasonFailed)
}
