package abi

import (
	"strconv"
	"strings"
)

// Watch host functions: an actor watches another and is told, with a
// lifecycle message, each time the watched actor deactivates. Both are
// buffered with the turn and committed with it.
const (
	ImportWatch   = "watch"
	ImportUnwatch = "unwatch"
)

// ReservedMethodPrefix starts the names of the methods the host itself
// delivers (MethodDeactivated). No client, actor, timer or reminder may
// send a message whose method starts with it.
const ReservedMethodPrefix = "wactor:"

// MethodDeactivated is the method of a lifecycle message: the host tells
// each watcher of an actor, with a Lifecycle payload, that the actor
// deactivated. The message's sender is the watched actor.
const MethodDeactivated = ReservedMethodPrefix + "deactivated"

// Why an actor deactivated, as a lifecycle message says.
const (
	// ReasonIdle: it had no message for its type's idle timeout.
	ReasonIdle = "idle"
	// ReasonRequested: it called deactivate in a turn.
	ReasonRequested = "requested"
	// ReasonEvicted: the host made room for other activations (the cap on
	// activations or the guest memory budget).
	ReasonEvicted = "evicted"
	// ReasonShutdown: the host shut down.
	ReasonShutdown = "shutdown"
	// ReasonFailed: its instance broke (a trap, its turn or memory limit,
	// a broken reply) and was discarded; the next message builds a new one.
	ReasonFailed = "failed"
	// ReasonRedeployed: a new module version of its type was deployed;
	// the next message runs on the new version.
	ReasonRedeployed = "redeployed"
	// ReasonLost: in a cluster, the node that held the activation stopped
	// holding its lease without ending it (the node died, was paused or
	// was cut off past the lease) and another node, or the same one
	// restarted, took the actor over; that node tells it.
	ReasonLost = "lost"
)

// Watch is the argument of watch and unwatch. Keys: 1 target ("type/id").
type Watch struct {
	Target string
}

// AppendTo appends the encoding of w to b.
func (w *Watch) AppendTo(b []byte) []byte {
	return AppendText(AppendUint(AppendMapHeader(b, 1), 1), w.Target)
}

// Decode decodes p into w.
func (w *Watch) Decode(p []byte) error {
	*w = Watch{}
	return decodeMap(p, "watch", func(key uint64, r *Reader) (err error) {
		switch key {
		case 1:
			w.Target, err = r.ReadText()
		default:
			err = r.Skip()
		}
		return err
	})
}

// Lifecycle is the payload of a lifecycle message: a map with text keys,
// as a JSON client would write it, {"ref": "type/id", "reason": text}.
type Lifecycle struct {
	Ref    string
	Reason string
}

// AppendTo appends the encoding of l to b.
func (l *Lifecycle) AppendTo(b []byte) []byte {
	b = AppendText(AppendText(AppendMapHeader(b, 2), "ref"), l.Ref)
	return AppendText(AppendText(b, "reason"), l.Reason)
}

// Decode decodes p into l; other keys are skipped.
func (l *Lifecycle) Decode(p []byte) error {
	*l = Lifecycle{}
	r := NewReader(p)
	n, err := r.ReadMapHeader()
	if err != nil {
		return wrapDecode("lifecycle", err)
	}
	for range n {
		k, err := r.ReadText()
		if err != nil {
			return wrapDecode("lifecycle", err)
		}
		switch k {
		case "ref":
			l.Ref, err = r.ReadText()
		case "reason":
			l.Reason, err = r.ReadText()
		default:
			err = r.Skip()
		}
		if err != nil {
			return wrapDecode("lifecycle", err)
		}
	}
	if r.Len() != 0 {
		return wrapDecode("lifecycle", r.fail("trailing bytes"))
	}
	return nil
}

// CheckWatch checks the argument of watch or unwatch (fn) of the actor
// self: a well-formed target that is not self. Whether the target's type
// exists is for the host to say.
func CheckWatch(fn, self string, w *Watch) (Ref, *Error) {
	ref, err := ParseRef(w.Target)
	if err != nil {
		e := err.(*Error)
		return ref, NewError(e.Code, fn+": "+e.Message)
	}
	if w.Target == self {
		return ref, NewError(CodeBadRequest, fn+": an actor cannot watch itself")
	}
	return ref, nil
}

// CheckWatches refuses one more watch of an actor that watches watching
// actors already (counting its turn's own).
func CheckWatches(watching int) *Error {
	if watching >= MaxWatches {
		return NewError(CodeTooLarge, "an actor may watch at most "+strconv.Itoa(MaxWatches)+" actors")
	}
	return nil
}

// CheckWatchers refuses a new watcher of target, which has watchers
// already.
func CheckWatchers(target string, watchers int) *Error {
	if watchers >= MaxWatchers {
		return NewError(CodeTooLarge, target+" has "+strconv.Itoa(MaxWatchers)+" watchers, the most an actor may have")
	}
	return nil
}

// reserved reports whether method is one only the host delivers.
func reserved(method string) bool { return strings.HasPrefix(method, ReservedMethodPrefix) }
