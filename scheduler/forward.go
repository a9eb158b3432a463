package scheduler

import (
	"context"
	"strings"

	"github.com/wactor/wactor/abi"
)

// Forward passes the ask m, which the turn of ctx is processing, on to
// next.Target as next: the reply to next answers m's asker, and whatever
// the turn returns for m is ignored. The asker's deadline still holds,
// and its wait moves, in the wait-for graph, from this activation to
// next's target: a forward that closes a cycle (to an activation that
// waits, directly or through others, on the asker) fails with
// abi.ErrDeadlock and forwards nothing. It fails with bad_request when m
// is not an ask, and as Tell does when next cannot be queued; m is then
// still the turn's to answer.
func (s *Scheduler) Forward(ctx context.Context, m *Message, next *Message) error {
	if m.reply == nil {
		return abi.NewError(abi.CodeBadRequest, "forward: "+m.Method+" to "+m.Target.String()+" is not an ask")
	}
	if next.Attempt == 0 {
		next.Attempt = 1
	}
	next.reply, next.Done, next.asker, next.Timeout = m.reply, m.Done, m.asker, m.Timeout
	next.up = m.up // next stands in for m on the call chain
	if _, nested, err := s.nest(next); err != nil || nested {
		if err != nil {
			return err
		}
		m.fwd = next
		m.deferred = true
		return nil
	}
	var before func(a *activation) error
	if !m.asker.IsZero() {
		before = func(a *activation) error { return s.redirectWait(m.asker, m.to.key, a.key) }
	}
	if _, err := s.send(next, before); err != nil {
		return err
	}
	m.fwd = next
	m.deferred = true
	return nil
}

// redirectWait makes asker, which waits on from, the activation that
// forwards its ask, wait on target instead, unless target waits, directly
// or through others, on asker. When asker no longer waits on from (its
// ask ended), nothing changes.
func (s *Scheduler) redirectWait(asker, from, target abi.Ref) error {
	s.waitMu.Lock()
	defer s.waitMu.Unlock()
	was, had := s.waits[asker]
	if !had || was != from {
		return nil
	}
	delete(s.waits, asker)
	chain := []string{keyString(asker), keyString(target)}
	for cur, steps := target, 0; steps <= len(s.waits); steps++ {
		if cur == asker {
			s.waits[asker] = was
			return abi.NewError(abi.CodeDeadlock, "forwarded ask cycle: "+joinChain(chain))
		}
		next, ok := s.waits[cur]
		if !ok {
			break
		}
		chain = append(chain, keyString(next))
		cur = next
	}
	s.waits[asker] = target
	return nil
}

func joinChain(chain []string) string { return strings.Join(chain, " -> ") }

// lastHop is the message that now carries the ask m: m, or what it was
// forwarded as, last.
func lastHop(m *Message) *Message {
	for m.fwd != nil {
		m = m.fwd
	}
	return m
}
