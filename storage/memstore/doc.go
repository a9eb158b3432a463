// Package memstore is an in-memory storage.Store for tests and for running
// wactor without durability. It keeps everything in maps behind one mutex
// and loses it all when the process exits.
package memstore
