// Package scheduler runs virtual actors without knowing what they are made
// of: it owns activations, their bounded mailboxes and their turns, and
// knows nothing of WebAssembly.
//
// An actor is activated on its first message through an Activator and lives
// until it is idle for its type's idle timeout, asks to be deactivated, or the
// scheduler closes. Each activation processes one message at a time, in the
// order its mailbox received them, so messages from one sender to one
// receiver are processed in send order. A mailbox is bounded: when it is full
// the sender gets abi.ErrMailboxFull at once instead of the queue growing.
//
// Asks made from inside a turn are tracked in a wait-for graph; an ask that
// would close a cycle (A asks B while B waits on A) fails at once with
// abi.ErrDeadlock naming the chain, instead of hanging until its timeout.
// The activations of a reentrant type (TypeOptions.Reentrant) take such an
// ask instead when it is on the call chain of their waiting turn: it runs
// nested in that turn, on its goroutine (ReentrantActor).
//
// A turn can set volatile timers on its activation (SetTimer): a tick is a
// message the scheduler puts in the activation's own mailbox, and timers
// die with the activation. Time comes from a Clock: RealClock, or a
// ManualClock that tests and actor authors move by hand (Advance), so that
// timers fire without anyone sleeping.
//
// Turns run on goroutines chosen by Config.Dispatch: one per activation
// with work (the default), a worker pool, or none at all. With
// Dispatch{Deterministic: true} turns run only on the goroutine that drives
// the scheduler (RunUntilIdle, Ask, CollectIdle, Close), one batch at a time
// in a fixed order; an ask runs its target's turns nested on the asker's
// stack. Together with a ManualClock, a test replays the same turns in the
// same order every time. With the default, two kinds of message skip the
// hand-off to another goroutine when their target is idle: a tell sent by
// a turn runs on the sender's goroutine once the sender's batch is over,
// and an ask from outside any turn runs its one turn on the asker's
// goroutine, when the asker can wait as long as a turn may run
// (TypeOptions.TurnLimit); anything queued behind either is handed back.
//
// Config.MaxActivations caps the live activations (DefaultMaxActivations
// unless set), and Config.MemoryBudget bounds the bytes they hold: each
// type reserves what a new activation needs (TypeOptions.Memory) before
// it is activated, and an Actor that is a MemoryReporter reports what it
// holds after each turn. Making room for a new activation deactivates the
// least recently used idle activations, found in O(1) on a list of idle
// activations. An activation with queued messages or a turn in progress
// is never evicted: when busy activations leave no room, the new one is
// refused at once with abi.ErrUnavailable rather than queued.
package scheduler
