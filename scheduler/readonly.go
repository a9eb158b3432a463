package scheduler

import "context"

// ReadOnlyActor is implemented by an Actor that has read-only methods:
// methods that change nothing, so that they may run while a turn of the
// activation waits in an ask. While a turn's Ask waits, the scheduler
// runs, on the waiting goroutine, each ask at the head of the mailbox
// whose method is read-only, with ReceiveReadOnly, and answers it; the
// waiting turn resumes only after such a turn has returned. Messages
// behind a message that is not a read-only ask wait for the turn, so the
// messages from one sender are still processed in the order sent.
type ReadOnlyActor interface {
	Actor
	// ReadOnly reports whether method is read-only. It may be called
	// from any goroutine.
	ReadOnly(method string) bool
	// ReceiveReadOnly processes an ask of a read-only method while a
	// turn of the activation waits in an ask; ctx is that turn's.
	ReceiveReadOnly(ctx context.Context, m *Message) ([]byte, error)
}

// waitReadOnly prepares a, whose turn is about to wait in an ask, to
// run read-only asks meanwhile, and returns the channel that says one
// may be at the head of its mailbox; nil when a's actor has no read-only
// methods. stopReadOnly undoes it.
func (a *activation) waitReadOnly() <-chan struct{} {
	if _, ok := a.actor.(ReadOnlyActor); !ok {
		return nil
	}
	wake := make(chan struct{}, 1)
	a.mu.Lock()
	a.roWake = wake
	if len(a.queue) > 0 {
		wake <- struct{}{}
	}
	a.mu.Unlock()
	return wake
}

func (a *activation) stopReadOnly() {
	a.mu.Lock()
	a.roWake = nil
	a.mu.Unlock()
}

// serveReadOnly runs the read-only asks at the head of a's mailbox, on
// the goroutine of a's turn that waits in an ask, and reports whether it
// ran any.
func (a *activation) serveReadOnly(ctx context.Context) bool {
	ro, ok := a.actor.(ReadOnlyActor)
	if !ok {
		return false
	}
	ran := false
	for {
		a.mu.Lock()
		if len(a.queue) == 0 || !a.queue[0].IsAsk() || !ro.ReadOnly(a.queue[0].Method) {
			a.mu.Unlock()
			return ran
		}
		m := a.queue[0]
		a.queue[0] = nil
		a.queue = a.queue[1:]
		a.mu.Unlock()
		ran = true
		reply, err := ro.ReceiveReadOnly(ctx, m)
		a.noteMemory()
		m.answer(reply, err)
	}
}
