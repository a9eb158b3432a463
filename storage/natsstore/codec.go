package natsstore

import (
	"encoding/base64"
	"encoding/binary"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/wactor/wactor/storage"
)

// token encodes s as one subject token: unpadded base64url, whose
// alphabet is safe in a NATS subject, or "=" for the empty string (no
// base64 encoding is "=").
func token(s string) string {
	if s == "" {
		return "="
	}
	return base64.RawURLEncoding.EncodeToString([]byte(s))
}

// untoken decodes a token made by token.
func untoken(t string) (string, error) {
	if t == "=" {
		return "", nil
	}
	b, err := base64.RawURLEncoding.DecodeString(t)
	if err != nil {
		return "", fmt.Errorf("bad subject token %q: %w", t, err)
	}
	return string(b), nil
}

// lastToken returns the decoded last token of subject.
func lastToken(subject string) (string, error) {
	return untoken(subject[strings.LastIndexByte(subject, '.')+1:])
}

// enc appends fields in a small binary form: strings and byte slices as a
// uvarint length and the bytes, integers as varints.
type enc []byte

func (e enc) str(s string) enc   { return append(binary.AppendUvarint(e, uint64(len(s))), s...) }
func (e enc) bytes(b []byte) enc { return append(binary.AppendUvarint(e, uint64(len(b))), b...) }
func (e enc) int(n int64) enc    { return binary.AppendVarint(e, n) }
func (e enc) uint(n uint64) enc  { return binary.AppendUvarint(e, n) }
func (e enc) time(t time.Time) enc {
	if t.IsZero() {
		return e.int(0).int(0)
	}
	return e.int(t.Unix()).int(int64(t.Nanosecond()) + 1)
}

// dec reads what enc wrote; the first error sticks.
type dec struct {
	b   []byte
	err error
}

var errShort = errors.New("value too short")

func (d *dec) uint() uint64 {
	if d.err != nil {
		return 0
	}
	n, k := binary.Uvarint(d.b)
	if k <= 0 {
		d.err = errShort
		return 0
	}
	d.b = d.b[k:]
	return n
}

// int reads a varint: zigzag over a uvarint, as binary.AppendVarint
// writes it.
func (d *dec) int() int64 {
	u := d.uint()
	n := int64(u >> 1)
	if u&1 != 0 {
		n = ^n
	}
	return n
}

func (d *dec) bytes() []byte {
	n := d.uint()
	if d.err != nil {
		return nil
	}
	if n > uint64(len(d.b)) {
		d.err = errShort
		return nil
	}
	b := make([]byte, n)
	copy(b, d.b)
	d.b = d.b[n:]
	return b
}

func (d *dec) str() string { return string(d.bytes()) }

func (d *dec) time() time.Time {
	sec, nsec := d.int(), d.int()
	if nsec == 0 {
		return time.Time{}
	}
	return time.Unix(sec, nsec-1)
}

func (d *dec) done(what string) error {
	if d.err == nil && len(d.b) != 0 {
		d.err = fmt.Errorf("%d bytes left over", len(d.b))
	}
	if d.err != nil {
		return fmt.Errorf("natsstore: corrupt %s: %w", what, d.err)
	}
	return nil
}

func encodeMessage(e enc, m storage.Message) enc {
	return e.str(m.ID).str(m.Target).str(m.Sender).str(m.Method).bytes(m.Payload).str(m.Key).str(m.Trace)
}

func decodeMessageFrom(d *dec) storage.Message {
	return storage.Message{ID: d.str(), Target: d.str(), Sender: d.str(), Method: d.str(), Payload: d.bytes(), Key: d.str(), Trace: d.str()}
}

func decodeMessage(b []byte) (storage.Message, error) {
	d := &dec{b: b}
	m := decodeMessageFrom(d)
	return m, d.done("outbox entry")
}

func encodeReminder(r storage.Reminder) []byte {
	return enc(nil).str(r.Actor).str(r.Name).str(r.Method).bytes(r.Payload).bytes(r.Schedule).time(r.Due).str(r.Missed).str(r.Trace)
}

func decodeReminder(b []byte) (storage.Reminder, error) {
	d := &dec{b: b}
	r := storage.Reminder{Actor: d.str(), Name: d.str(), Method: d.str(), Payload: d.bytes(), Schedule: d.bytes(), Due: d.time(), Missed: d.str(), Trace: d.str()}
	return r, d.done("reminder")
}

func encodeDeadLetter(l storage.DeadLetter) []byte {
	return encodeMessage(nil, l.Message).str(l.Error).int(int64(l.Attempts)).time(l.At)
}

func decodeDeadLetter(b []byte) (storage.DeadLetter, error) {
	d := &dec{b: b}
	l := storage.DeadLetter{Message: decodeMessageFrom(d), Error: d.str(), Attempts: int(d.int()), At: d.time()}
	l.PayloadLen = len(l.Message.Payload)
	return l, d.done("dead letter")
}

func encodeStats(s storage.DeadLetterStats) []byte {
	return enc(nil).int(int64(s.Count)).int(s.Bytes).uint(s.Dropped)
}

func decodeStats(b []byte) (storage.DeadLetterStats, error) {
	d := &dec{b: b}
	s := storage.DeadLetterStats{Count: int(d.int()), Bytes: d.int(), Dropped: d.uint()}
	return s, d.done("dead letter totals")
}

func encodeRecord(r storage.Record) []byte { return enc(nil).time(r.Expires).bytes(r.Reply) }

func decodeRecord(b []byte) (storage.Record, error) {
	d := &dec{b: b}
	r := storage.Record{Expires: d.time(), Reply: d.bytes()}
	return r, d.done("idempotency record")
}

// leaseRecord is what an actor's lease subject holds: who holds it and
// until when. The epoch is not in it: it is the sequence of the actor's
// epoch subject, read in the same request.
type leaseRecord struct {
	owner    string
	expires  time.Time
	released bool
}

func encodeLease(l leaseRecord) []byte {
	released := int64(0)
	if l.released {
		released = 1
	}
	return enc(nil).str(l.owner).time(l.expires).int(released)
}

func decodeLease(b []byte) (leaseRecord, error) {
	d := &dec{b: b}
	l := leaseRecord{owner: d.str(), expires: d.time(), released: d.int() == 1}
	return l, d.done("lease")
}
