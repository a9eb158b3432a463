package scheduler

import (
	"context"
	"math/rand/v2"
	"strconv"

	"github.com/wactor/wactor/abi"
)

// ReentrantActor is implemented by the Actor of a reentrant type
// (TypeOptions.Reentrant). While a turn of the activation waits in an
// ask, an ask whose call chain passes through that waiting turn (the
// turn asked B, and B's turn, or a turn further down the chain, asks
// this activation back; or the turn asks its own activation) is not
// queued: it runs nested, with ReceiveNested, on the waiting turn's
// goroutine, and the waiting turn resumes only after it has returned. A
// nested turn may itself ask and be re-entered, up to abi.MaxNesting
// nested turns deep; an ask that would nest deeper fails with
// abi.ErrDeadlock. Asks that are not on the waiting turn's call chain
// (from outside, from another actor's unrelated turn) and every other
// message wait in the mailbox for the turn as usual.
type ReentrantActor interface {
	Actor
	// ReceiveNested processes an ask nested in the turn that waits; ctx is
	// the ctx that turn passed to Ask. Its answer goes to m's asker; it
	// must not Defer or Forward m.
	ReceiveNested(ctx context.Context, m *Message) ([]byte, error)
}

// suspension is a turn of an activation that waits in an ask while a
// nested turn runs in it.
type suspension struct {
	msg *Message        // the message the waiting turn processes
	ctx context.Context // what the waiting turn passed to Ask
	// edge is what the activation waited on in the wait-for graph before
	// the nested turn took its place, if hadEdge.
	edge    abi.Ref
	hadEdge bool
}

// reentrant reports whether a's asks on a waiting turn's chain nest.
func (a *activation) reentrant() bool { return a.opts.Reentrant && a.opts.MaxLocal == 0 }

// beginWait marks the turn running on a, which is about to wait in an ask
// with ctx, as one that asks on its call chain may nest in, and returns
// the channel that says one was handed over. endWait undoes it.
func (a *activation) beginWait(ctx context.Context) <-chan struct{} {
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.nestWake == nil {
		a.nestWake = make(chan struct{}, 1)
	}
	a.waitingOn, a.waitCtx = a.cur, ctx
	return a.nestWake
}

// endWait ends the wait that beginWait began. A nested ask handed over
// and not yet run (the wait ended first: its reply came, or it timed
// out) goes to the head of the mailbox, to run as a turn of its own.
func (a *activation) endWait() {
	a.mu.Lock()
	defer a.mu.Unlock()
	if m := a.pending; m != nil {
		a.pending = nil
		a.suspended = a.suspended[:len(a.suspended)-1]
		a.queue = append(a.queue, nil)
		copy(a.queue[1:], a.queue)
		a.queue[0] = m
	}
	a.waitingOn, a.waitCtx = nil, nil
	select {
	case <-a.nestWake: // a signal nobody took
	default:
	}
}

// onChain reports whether the call chain that up begins (the message of
// the asking turn, then the message of the turn that asked it, and so
// on) passes through the turn that processes w.
func onChain(up, w *Message) bool {
	for m := up; m != nil; m = m.up {
		if m == w {
			return true
		}
	}
	return false
}

// ChainToken names, for a call chain that leaves this scheduler (an ask
// sent to another node), the turn of ctx that asks: an ask that comes back
// with the name (AskNestedIn) nests in that turn while it waits. A random
// 64-bit name, so that names from several nodes do not collide; "" outside
// a turn.
func (s *Scheduler) ChainToken(ctx context.Context) string {
	a := turnFrom(ctx)
	if a == nil || a.cur == nil {
		return ""
	}
	if a.cur.token == "" {
		a.cur.token = strconv.FormatUint(rand.Uint64(), 36)
	}
	return a.cur.token
}

// nest hands the ask m to its target's waiting turn, to run nested in it,
// when the target is reentrant and that turn is on m's call chain, and
// returns the target. It reports false, and m is to be sent as usual,
// otherwise; it fails with abi.ErrDeadlock when the nesting would be
// deeper than abi.MaxNesting.
func (s *Scheduler) nest(m *Message) (*activation, bool, error) {
	if m.up == nil && m.viaToken == "" {
		return nil, false, nil // not asked from a turn
	}
	s.mu.Lock()
	a := s.acts[m.Target]
	s.mu.Unlock()
	if a == nil || !a.reentrant() {
		return nil, false, nil
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	w := a.waitingOn
	if w == nil || a.retired || a.pending != nil || !(onChain(m.up, w) || (m.viaToken != "" && m.viaToken == w.token)) {
		return nil, false, nil
	}
	if len(a.suspended) >= abi.MaxNesting {
		return nil, false, abi.NewError(abi.CodeDeadlock, "ask cycle: "+m.Method+" to "+a.ref.String()+
			" would run nested "+strconv.Itoa(len(a.suspended)+1)+" deep in its waiting turns, over the limit of "+
			strconv.Itoa(abi.MaxNesting))
	}
	// In the wait-for graph the activation no longer waits (its turn
	// runs the nested one) and the asker waits on it; the graph keeps no
	// cycle.
	fr := suspension{msg: w, ctx: a.waitCtx}
	s.waitMu.Lock()
	fr.edge, fr.hadEdge = s.waits[a.key]
	delete(s.waits, a.key)
	if !m.asker.IsZero() && m.asker != a.key {
		s.waits[m.asker] = a.key
	}
	s.waitMu.Unlock()
	a.suspended = append(a.suspended, fr)
	a.waitingOn, a.waitCtx = nil, nil
	a.pending = m
	m.to = a
	select {
	case a.nestWake <- struct{}{}:
	default: // already signalled
	}
	return a, true, nil
}

// serveNested runs the nested ask handed to a, if there is one, and
// reports whether it ran one. It runs on the goroutine of a's waiting
// turn (or, with Deterministic dispatch, on the one goroutine).
func (a *activation) serveNested() bool {
	a.mu.Lock()
	m := a.pending
	if m == nil {
		a.mu.Unlock()
		return false
	}
	a.pending = nil
	fr := a.suspended[len(a.suspended)-1]
	a.mu.Unlock()

	var reply []byte
	var err error
	if ra, ok := a.actor.(ReentrantActor); ok {
		saved := a.cur
		a.cur = m
		reply, err = ra.ReceiveNested(fr.ctx, m)
		a.cur = saved
		a.noteMemory()
	} else {
		err = abi.NewError(abi.CodeDeadlock, "ask cycle: "+a.ref.String()+" cannot run "+m.Method+" nested")
	}

	// The waiting turn waits again, before the asker hears: its next ask
	// on the chain must find it waiting.
	a.mu.Lock()
	a.suspended = a.suspended[:len(a.suspended)-1]
	a.waitingOn, a.waitCtx = fr.msg, fr.ctx
	a.mu.Unlock()
	s := a.s
	s.waitMu.Lock()
	if m.asker != a.key && s.waits[m.asker] == a.key {
		delete(s.waits, m.asker) // before a's own edge is back, so no cycle forms
	}
	if fr.hadEdge {
		s.waits[a.key] = fr.edge
	}
	s.waitMu.Unlock()
	if !m.deferred {
		m.answer(reply, err)
	}
	return true
}

// Await runs call, an ask that the turn of ctx sends by other means than
// Ask (to another node), and returns what it returns. While it waits, the
// asks that come back to a reentrant activation on the turn's call chain
// (AskNestedIn) run nested in the turn, on this goroutine, as in Ask.
// call runs on a goroutine of its own, with a ctx that no longer
// identifies the turn (an Ask it makes is one from outside), and must
// return once that ctx is done; Await returns only after it has.
func (s *Scheduler) Await(ctx context.Context, call func(ctx context.Context) ([]byte, error)) ([]byte, error) {
	caller := turnFrom(ctx)
	if _, ok := s.dispatcher.(*inline); ok || caller == nil || !caller.reentrant() {
		return call(ctx)
	}
	nestWake := caller.beginWait(ctx)
	defer caller.endWait()
	type outcome struct {
		reply []byte
		err   error
	}
	done := make(chan outcome, 1)
	go func() {
		reply, err := call(outsideTurn{ctx})
		done <- outcome{reply, err}
	}()
	s.dispatcher.block()
	defer s.dispatcher.unblock()
	for {
		select {
		case o := <-done:
			return o.reply, o.err
		case <-nestWake:
			caller.serveNested()
		}
	}
}

// outsideTurn is a ctx that identifies no turn.
type outsideTurn struct{ context.Context }

func (c outsideTurn) Value(key any) any {
	if _, ok := key.(turnKey); ok {
		return nil
	}
	return c.Context.Value(key)
}
