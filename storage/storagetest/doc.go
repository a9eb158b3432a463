// Package storagetest is the conformance suite for storage.Store: every
// implementation runs it from its own tests, the way testing/slogtest checks
// any slog.Handler.
//
//	func TestConformance(t *testing.T) {
//		storagetest.Run(t, func(t *testing.T) storage.Store { return memstore.New() })
//	}
//
// Run checks the semantics documented on storage.Store and storage.Batch:
// versions, conflicts that apply nothing, the outbox, atomicity, copying of
// values, concurrent use and Close. RunReopen adds the checks for a store
// that persists: what was committed survives Close and a fresh open.
package storagetest
