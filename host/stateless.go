package host

import (
	"context"

	"github.com/wactor/wactor/abi"
	"github.com/wactor/wactor/scheduler"
)

// Stateless workers (TypeConfig.StatelessWorker).
//
// The scheduler runs up to StatelessWorker activations of one actor of
// such a type at once (scheduler.TypeOptions.MaxLocal), each with its own
// instance, mailbox and pipeline. They keep no state: an instance starts
// with none (nothing is loaded, and state_get finds nothing), and a turn's
// state writes and reminders are refused with bad_request, so that the
// instances never need to agree on anything. Since there is no state to
// protect, an instance claims no lease either: with several nodes, each
// may run instances of the same worker. What a turn does commit is what
// any turn commits besides state: the tells it sends, the consumption of
// the tell it processed and the idempotency record of a keyed message.

// activateWorker creates one instance of the stateless worker ref.
func (h *Host) activateWorker(ctx context.Context, t *actorType, ref abi.Ref) (scheduler.Actor, error) {
	a := &activation{h: h, typ: t, ref: ref, state: make(map[string][]byte)}
	a.p.init(0)
	if err := a.ensureInstance(ctx, t.current()); err != nil {
		if h.obs != nil {
			h.obs.ActivationFailed(ref.Type, Outcome(err))
		}
		return nil, err
	}
	if h.obs != nil {
		h.obs.ActivationCreated(ref.Type)
	}
	return a, nil
}

// keepsState guards a host call that keeps something in the actor's
// state: a stateless worker's turn that makes it is refused with
// bad_request, naming the type and the method; so is a read-only
// method's (see effect).
func keepsState(what string, call hostCall) hostCall {
	inner := effect(what, call) // made once, not at every call
	return func(t *turn, arg []byte) (abi.Status, []byte) {
		if t.cfg.StatelessWorker > 0 {
			return abi.StatusError, abi.AppendError(nil, abi.NewError(abi.CodeBadRequest,
				t.a.ref.String()+"."+t.label()+" may not "+what+": type "+t.a.ref.Type+" is a stateless worker, which keeps no state"))
		}
		return inner(t, arg)
	}
}
