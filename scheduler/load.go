package scheduler

import "context"

// Why an activation is deactivated, as DeactivationReason reports it.
const (
	// ReasonIdle: it had no message for its type's idle timeout.
	ReasonIdle = "idle"
	// ReasonRequested: its actor asked to go (DeactivateAfterTurn).
	ReasonRequested = "requested"
	// ReasonEvicted: it made room for another activation, under the cap
	// on activations or the memory budget.
	ReasonEvicted = "evicted"
	// ReasonShutdown: the scheduler is closing.
	ReasonShutdown = "shutdown"
	// ReasonMoved: another node of the cluster now owns it (Deactivate).
	ReasonMoved = "moved"
)

// DeactivationReason returns why the activation that ctx identifies is
// being deactivated, one of the Reason constants, when called with the
// ctx of Actor.Deactivate; "" otherwise.
func DeactivationReason(ctx context.Context) string {
	a := turnFrom(ctx)
	if a == nil {
		return ""
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	if !a.retired {
		return ""
	}
	return a.reason
}

// TypeLoad sums up the live activations of one actor type.
type TypeLoad struct {
	// Activations counts the live activations.
	Activations int
	// Queued counts the messages waiting in their mailboxes, and
	// MaxQueued those in the fullest one.
	Queued, MaxQueued int
}

// Load returns what the live activations of each actor type hold, by type
// name. It visits every activation, taking each one's lock briefly: call
// it now and then (a metrics scrape), not per message.
func (s *Scheduler) Load() map[string]TypeLoad {
	s.mu.Lock()
	defer s.mu.Unlock()
	load := make(map[string]TypeLoad)
	for ref, a := range s.acts {
		a.mu.Lock()
		n := len(a.queue)
		a.mu.Unlock()
		l := load[ref.Type]
		l.Activations++
		l.Queued += n
		l.MaxQueued = max(l.MaxQueued, n)
		load[ref.Type] = l
	}
	return load
}
