// Package conformance holds the ABI conformance suite: one Go test that
// runs the same table of scenarios against the conformance actor of every
// guest SDK (Go, C, Rust and AssemblyScript), all deployed on one host so
// that the scenarios also cross languages (a C actor tells a Rust one, a
// Rust actor asks an AssemblyScript one, ...).
//
// The actor's contract (its methods, payloads, replies and errors) is in
// docs/conformance.md; each SDK's implementation lives under examples/wasm
// (conformance/main.go, c/conformance, rust/conformance,
// assemblyscript/conformance). The package has no non-test code: run the
// suite with
//
//	make conformance
//	go test -race ./conformance/...
//
// Failures name both the language and the scenario, as in
// TestConformance/rust/ask_timeout. The guests are built from source with
// the local toolchains (see internal/testwasm), so a missing toolchain
// fails the suite, naming what to install.
package conformance
