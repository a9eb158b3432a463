// Package abi is the wire contract between the wactor host and its guests:
// the names of the guest's exports and the host's imports, the status codes
// host calls return, the CBOR envelopes that cross the boundary, the error
// vocabulary shared by the ABI, the Go API, HTTP and the CLI, and actor
// references.
//
// The package is its own Go module with no dependencies and no reflection,
// so the host, the Go guest SDK and TinyGo all build the same code. Its CBOR
// codec is deliberately small: definite-length items, integer map keys in
// envelopes, and a Reader that never allocates more than the input holds.
// docs/ABI.md describes every byte.
package abi
