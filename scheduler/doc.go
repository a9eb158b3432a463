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
package scheduler
