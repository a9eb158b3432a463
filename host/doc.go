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
package host
