// Package abicheck exists only to cross-check the hand-written CBOR codec of
// package abi against an independent implementation, github.com/fxamacker/cbor.
//
// The abi module must stay free of dependencies (TinyGo builds it into
// guests), so the comparison lives here, in the host module, as tests only:
// envelopes and generic values are encoded by one codec and decoded by the
// other in both directions, the encodings are compared byte for byte, and
// abi.WellFormed is checked to agree with fxamacker's well-formedness check
// on random and mutated inputs. The package has no non-test code.
package abicheck
