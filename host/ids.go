package host

import (
	"crypto/rand"
	"encoding/binary"
	"strconv"
	"sync"
	"time"
)

// Message ids. An id is 32 lowercase hex digits: 16 of a nanosecond
// timestamp, bumped so that one generator never makes it twice, then 16
// of a random number each generator (each Host) draws once. The
// timestamp makes ids sort in the order they were made (the outbox is
// delivered, and dead letters listed, in id order), across restarts too
// as long as the wall clock does not go back; the random part keeps two
// hosts that share a store (the nodes of a cluster) from making the same
// id in the same nanosecond, where the outbox would keep one of the two
// messages and the receiver's dedupe drop the other.
//
// Ids of 16 hex digits (the timestamp alone) were made before the random
// part existed: they are still accepted wherever an id is parsed, and
// sort among the new ones by their time.
//
// A publication fanned out a page at a time is carried from page to page
// by a continuation (see topics.go) whose id is the publication's own
// followed by '.' and 8 hex digits of the page it resumes at, so that it
// sorts next to the publication.

const (
	idTimeDigits   = 16 // hex digits of the timestamp
	idUniqueDigits = 16 // hex digits of the generator's random part
	idPageDigits   = 8  // hex digits of a continuation's page
)

// idGen makes message ids that are unique among all generators and sort
// in the order one generator made them.
type idGen struct {
	mu     sync.Mutex
	last   uint64
	unique string // the random part, drawn at the first id
	// now is the clock; nil: time.Now. Tests set it.
	now func() time.Time
}

func (g *idGen) next() string {
	var t time.Time
	if g.now != nil {
		t = g.now()
	} else {
		t = time.Now()
	}
	now := uint64(t.UnixNano())
	g.mu.Lock()
	if g.unique == "" {
		var b [8]byte
		rand.Read(b[:]) // never returns an error (since Go 1.24)
		g.unique = hex16(binary.BigEndian.Uint64(b[:]))
	}
	if now <= g.last {
		now = g.last + 1
	}
	g.last = now
	unique := g.unique
	g.mu.Unlock()
	// One allocation: the string of the id itself.
	var b [idTimeDigits + idUniqueDigits]byte
	putHex16(b[:idTimeDigits], now)
	copy(b[idTimeDigits:], unique)
	return string(b[:])
}

// hex16 formats n as 16 hex digits.
func hex16(n uint64) string {
	var b [16]byte
	putHex16(b[:], n)
	return string(b[:])
}

// putHex16 writes n as 16 lowercase hex digits into b[:16].
func putHex16(b []byte, n uint64) {
	const digits = "0123456789abcdef"
	for i := 15; i >= 0; i-- {
		b[i] = digits[n&0xf]
		n >>= 4
	}
}

// isMessageID reports whether s has the form of the ids idGen makes (or
// made before they had a random part), or of a continuation's.
func isMessageID(s string) bool {
	base, _, ok := splitContinuation(s)
	if !ok {
		return false
	}
	return (len(base) == idTimeDigits || len(base) == idTimeDigits+idUniqueDigits) && isHex(base)
}

// isHex reports whether s is lowercase hex digits only.
func isHex(s string) bool {
	for i := 0; i < len(s); i++ {
		if c := s[i]; (c < '0' || c > '9') && (c < 'a' || c > 'f') {
			return false
		}
	}
	return true
}

// splitContinuation splits a continuation's id into the publication's id
// and the page; an id that is no continuation's is returned whole, page
// 0. ok is false when the part after '.' is not a page.
func splitContinuation(id string) (base string, page uint64, ok bool) {
	i := len(id) - idPageDigits - 1
	if i < 0 || id[i] != '.' {
		return id, 0, true
	}
	p := id[i+1:]
	if !isHex(p) {
		return id, 0, false
	}
	n, err := strconv.ParseUint(p, 16, 32)
	return id[:i], n, err == nil && n > 0
}

// continuationID is the id of the continuation of publication base at
// page (from 1).
func continuationID(base string, page uint64) string {
	const zeros = "00000000"
	s := strconv.FormatUint(page, 16)
	return base + "." + zeros[len(s):] + s
}

// sentAt is when the message id was made (see idGen), if it is one of
// the host's ids.
func sentAt(id string) (time.Time, bool) {
	if !isMessageID(id) {
		return time.Time{}, false
	}
	ns, err := strconv.ParseUint(id[:idTimeDigits], 16, 64)
	if err != nil {
		return time.Time{}, false
	}
	return time.Unix(0, int64(ns)), true
}
