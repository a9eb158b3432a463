package wactortest

import (
	"slices"

	"github.com/wactor/wactor/abi"
	"github.com/wactor/wactor/guest-sdk/go/internal/hostlink"
)

// watchCall answers watch and unwatch with the host's rules: a
// well-formed target that is not the actor itself, at most abi.MaxWatches
// watched at once. (Whether the target's type is deployed, and how many
// watchers the target has, only the runtime knows.)
func (h *Host) watchCall(t *turn, fn hostlink.Func, arg []byte) (abi.Status, []byte) {
	var w abi.Watch
	if err := w.Decode(arg); err != nil {
		return fail(abi.CodeBadReply, "wactortest: "+fn.String()+": "+err.Error())
	}
	if _, e := abi.CheckWatch(fn.String(), h.self, &w); e != nil {
		return failErr(e)
	}
	watch := fn == hostlink.Watch
	if watch && !h.watching[w.Target] && !t.watches[w.Target] {
		n := 0
		for target := range h.watching {
			if w, ok := t.watches[target]; !ok || w {
				n++
			}
		}
		for target, w := range t.watches {
			if w && !h.watching[target] {
				n++
			}
		}
		if e := abi.CheckWatches(n); e != nil {
			return failErr(e)
		}
	}
	t.watches[w.Target] = watch
	return abi.StatusOK, nil
}

func (h *Host) commitWatches(t *turn) {
	for target, w := range t.watches {
		if w {
			h.watching[target] = true
		} else {
			delete(h.watching, target)
		}
	}
}

// Watching returns the actors the actor watches, as committed turns left
// it, sorted.
func (h *Host) Watching() []string {
	list := make([]string, 0, len(h.watching))
	for target := range h.watching {
		list = append(list, target)
	}
	slices.Sort(list)
	return list
}

// Deactivated delivers a lifecycle message, as the runtime does to a
// watcher when the actor ref deactivates for reason (an abi.Reason...
// constant): the method abi.MethodDeactivated, sent by ref.
func (h *Host) Deactivated(ref, reason string) ([]byte, error) {
	h.t.Helper()
	payload := (&abi.Lifecycle{Ref: ref, Reason: reason}).AppendTo(nil)
	return h.turn(abi.Request{Kind: abi.KindMessage, Method: abi.MethodDeactivated, Payload: payload, Sender: ref})
}
