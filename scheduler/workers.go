package scheduler

import (
	"strconv"
	"strings"

	"github.com/wactor/wactor/abi"
)

// MaxLocalLimit bounds TypeOptions.MaxLocal: the instances of one
// stateless worker actor on one scheduler.
const MaxLocalLimit = 1024

// workerKey is the table key of slot of the stateless worker ref. An
// actor id has no control characters, so no ref is the key of a slot.
func workerKey(ref abi.Ref, slot int) abi.Ref {
	return abi.Ref{Type: ref.Type, ID: ref.ID + "\x00" + strconv.Itoa(slot)}
}

// keyString is the ref of a table key, for messages.
func keyString(key abi.Ref) string {
	id, _, _ := strings.Cut(key.ID, "\x00")
	return key.Type + "/" + id
}

// pickWorkerLocked chooses the activation of the stateless worker ref
// that takes the next message, with s.mu held: an idle one; else none,
// with the free slot a new one takes; else, when all n slots are busy,
// the one with the fewest queued messages.
func (s *Scheduler) pickWorkerLocked(ref abi.Ref, n int) (*activation, int) {
	n = min(n, MaxLocalLimit)
	slots := s.workers[ref]
	free, best, bestLoad := -1, (*activation)(nil), 0
	for i := 0; i < n; i++ {
		var a *activation
		if i < len(slots) {
			a = slots[i]
		}
		if a == nil {
			if free < 0 {
				free = i
			}
			continue
		}
		a.mu.Lock()
		load, retired := len(a.queue), a.retired
		if a.running {
			load++
		}
		a.mu.Unlock()
		if retired {
			continue
		}
		if load == 0 {
			return a, i
		}
		if best == nil || load < bestLoad {
			best, bestLoad = a, load
		}
	}
	if free >= 0 || best == nil {
		return nil, max(free, 0)
	}
	return best, best.slot
}

// addWorkerLocked records a, a new instance of a stateless worker, in its
// slot; with s.mu held.
func (s *Scheduler) addWorkerLocked(a *activation) {
	slots := s.workers[a.ref]
	for len(slots) <= a.slot {
		slots = append(slots, nil)
	}
	slots[a.slot] = a
	s.workers[a.ref] = slots
}

// removeLocked takes a out of the table, and out of its slot when it is
// an instance of a stateless worker; with s.mu held.
func (s *Scheduler) removeLocked(a *activation) {
	if s.acts[a.key] == a {
		delete(s.acts, a.key)
	}
	if a.slot < 0 {
		return
	}
	slots := s.workers[a.ref]
	if a.slot < len(slots) && slots[a.slot] == a {
		slots[a.slot] = nil
	}
	for _, w := range slots {
		if w != nil {
			return
		}
	}
	delete(s.workers, a.ref)
}
