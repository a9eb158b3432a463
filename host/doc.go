// Package host runs WebAssembly actors: it compiles each actor type's module
// once, gives every activation its own sandboxed wazero instance, provides
// the host functions of ABI v1 (package abi) and turns each successful turn
// into one atomic storage commit.
//
// A Go program embeds it like this:
//
//	h, err := host.New(ctx, host.Config{Store: memstore.New()})
//	err = h.Deploy(ctx, host.TypeConfig{Name: "counter", Module: wasmBytes})
//	reply, err := h.Ask(ctx, abi.Ref{Type: "counter", ID: "a"}, "add", payload)
//	err = h.Close(ctx)
//
// A turn is a transaction. While the guest runs, its state writes and the
// tells it sends are buffered; when it returns successfully they are
// committed with one storage.Batch, together with the removal of the message
// it consumed from the outbox, and only then are the tells delivered and the
// reply released. A failed turn commits nothing. A guest that breaks (trap,
// execution or memory limit, ABI misuse) loses its instance; the next message
// gets a fresh one built from the last committed state.
//
// # Timers, reminders and lifecycle hooks
//
// Timers (timer_set) are volatile: they are set on the scheduler's
// activation when the turn commits, fire as messages to the activation
// itself and die with it. Reminders (reminder_set) are durable: they are
// committed in the turn's batch, indexed by due time in the store, and
// fired by the host, which keeps in memory only those due within the next
// minute, loaded a page at a time; a firing activates its actor if need
// be, and the turn that processes it commits the reminder's next time (or
// its deletion) with its own writes. Ticks that came due while no host ran
// follow the reminder's missed-tick policy (catch_up or skip). docs/ABI.md
// describes both for guests.
//
// The guest's activate hook runs as a turn each time an instance is built
// for an activation, after its state is loaded; its deactivate hook runs as
// a turn before a sound instance is dropped at the end of the activation.
//
// Config.Clock drives timers, reminders, idle collection and the guests'
// wall clock; tests pass a scheduler.ManualClock to move time by hand.
// Config.MaxActivations caps the live activations of the whole host
// (scheduler.DefaultMaxActivations unless set), and Config.MaxGuestMemory
// bounds the linear memory their guests hold together (by default
// DefaultGuestMemoryPercent of the machine's memory): a new activation
// reserves its type's memory before it is instantiated, least recently
// used idle activations are evicted to make room, and when busy ones leave
// none the new activation is refused with unavailable.
//
// # Ownership, when several nodes share the store
//
// With Config.Node set, on a store with storage.Leases (the JetStream store
// of a cluster), an activation exists on one node at a time: it claims its
// actor's lease (owner Config.Node, for Config.LeaseTTL) before loading
// the state, and is refused with unavailable, naming the holder, while
// another node holds it. One goroutine of the host renews the leases of
// all live activations together every third of the TTL; a lease not
// renewed within its TTL is renewed before the next turn runs. Every batch
// an activation commits carries the lease's fence, so a node that lost the
// lease commits nothing: the turn fails with unavailable and the
// activation is dropped (its instance discarded, no deactivate hook). A
// deactivation releases the lease. Without Config.Node none of this runs.
//
// With Config.Placement as well (the cluster's view of which node should
// own each actor), the host hands over, at a turn boundary, every
// activation another node comes to prefer (deactivated with reason
// moved, its lease released), HandOver does so for all of them when the
// node leaves, and a durable reminder fires only on the node where its
// actor is active or, when it is active nowhere, preferred.
package host
