package cluster

import (
	"errors"
	"fmt"
	"time"

	"github.com/wactor/wactor/abi"
)

// Bounds on an ask's envelope, checked when it is decoded.
const (
	// MaxChain is the longest call chain an ask carries.
	MaxChain = 256
	// maxTextField bounds the method, sender, id and key of an ask.
	maxTextField = 1024
	// maxAskFields bounds the entries of an envelope's map: 8 are known,
	// and room is left for fields a later version adds.
	maxAskFields = 32
	// MaxAskTime is the most time left an ask carries: a caller with a
	// later deadline sends this much, and a node refuses an ask that
	// claims more, so that no peer holds one of its MaxInFlight slots for
	// longer.
	MaxAskTime = time.Hour
)

// AskRequest is an ask sent to another node: the message, who sent it,
// and what the owner needs to apply it exactly once and to detect a
// deadlock across nodes.
//
// On the wire it is a CBOR map with integer keys: 1 target ("type/id"),
// 2 method, 3 payload, 4 sender, 5 message id, 6 idempotency key, 7 time
// left in milliseconds (the caller's deadline, sent as a duration so that
// the nodes' clocks need not agree), 8 call chain (array of "type/id"),
// 9 trace context (a W3C traceparent), 10 hops.
type AskRequest struct {
	Target  abi.Ref
	Method  string
	Payload []byte // CBOR of the user's message, opaque here
	Sender  string // "type/id" of the asking actor; "" from outside
	ID      string // the message's id
	Key     string // idempotency key; "" for none
	// Chain lists the actors whose asks led to this one, the first caller
	// first; the owner fails an ask whose target is already in it.
	Chain []string
	// Trace is the W3C trace context (a traceparent value) the ask's turn
	// continues, or "".
	Trace string
	// Hops counts the nodes the ask was sent to so far, this one
	// included: a node forwards an ask only while Hops is below the
	// host's bound, so that an ask never travels in circles.
	Hops uint64
}

// appendTo appends the encoding of q with timeoutMS left to b.
func (q *AskRequest) appendTo(b []byte, timeoutMS uint64) []byte {
	n := 3 + count(q.Payload != nil, q.Sender != "", q.ID != "", q.Key != "", len(q.Chain) > 0, q.Trace != "", q.Hops != 0)
	b = abi.AppendMapHeader(b, n)
	b = abi.AppendText(abi.AppendUint(b, 1), q.Target.String())
	b = abi.AppendText(abi.AppendUint(b, 2), q.Method)
	if q.Payload != nil {
		b = abi.AppendBytes(abi.AppendUint(b, 3), q.Payload)
	}
	if q.Sender != "" {
		b = abi.AppendText(abi.AppendUint(b, 4), q.Sender)
	}
	if q.ID != "" {
		b = abi.AppendText(abi.AppendUint(b, 5), q.ID)
	}
	if q.Key != "" {
		b = abi.AppendText(abi.AppendUint(b, 6), q.Key)
	}
	b = abi.AppendUint(abi.AppendUint(b, 7), timeoutMS)
	if len(q.Chain) > 0 {
		b = abi.AppendArrayHeader(abi.AppendUint(b, 8), len(q.Chain))
		for _, c := range q.Chain {
			b = abi.AppendText(b, c)
		}
	}
	if q.Trace != "" {
		b = abi.AppendText(abi.AppendUint(b, 9), q.Trace)
	}
	if q.Hops != 0 {
		b = abi.AppendUint(abi.AppendUint(b, 10), q.Hops)
	}
	return b
}

func count(present ...bool) int {
	n := 0
	for _, p := range present {
		if p {
			n++
		}
	}
	return n
}

// errEnvelope: an ask's envelope from another node did not decode.
var errEnvelope = errors.New("cluster: bad ask envelope")

// decodeAsk decodes an ask envelope from the network (untrusted bytes)
// and returns it with the time left in milliseconds. Byte fields alias p.
func decodeAsk(p []byte) (*AskRequest, uint64, error) {
	q := &AskRequest{}
	var timeoutMS uint64
	r := abi.NewReader(p)
	seen, err := readFields(r, func(key uint64) error { return decodeAskField(q, &timeoutMS, key, r) })
	if err == nil && r.Len() != 0 {
		err = errors.New("trailing bytes")
	}
	if err != nil {
		return nil, 0, fmt.Errorf("%w: %v", errEnvelope, err)
	}
	if !seen[1] || !seen[2] || !seen[7] {
		return nil, 0, fmt.Errorf("%w: target, method or time left missing", errEnvelope)
	}
	if timeoutMS > uint64(MaxAskTime.Milliseconds()) {
		return nil, 0, fmt.Errorf("%w: %d ms left, over the %s an ask may take", errEnvelope, timeoutMS, MaxAskTime)
	}
	return q, timeoutMS, nil
}

// readFields reads a CBOR map of at most maxAskFields entries with
// unsigned keys, each key once, calling field to read each value, and
// returns the keys it saw.
func readFields(r *abi.Reader, field func(key uint64) error) (map[uint64]bool, error) {
	n, err := r.ReadMapHeader()
	if err != nil {
		return nil, err
	}
	if n > maxAskFields {
		return nil, fmt.Errorf("%d fields, over %d", n, maxAskFields)
	}
	seen := make(map[uint64]bool, n)
	for range n {
		key, err := r.ReadUint()
		if err != nil {
			return nil, err
		}
		if seen[key] {
			return nil, fmt.Errorf("key %d twice", key)
		}
		seen[key] = true
		if err := field(key); err != nil {
			return nil, fmt.Errorf("key %d: %w", key, err)
		}
	}
	return seen, nil
}

func decodeAskField(q *AskRequest, timeoutMS *uint64, key uint64, r *abi.Reader) error {
	text := func(dst *string) error {
		s, err := r.ReadText()
		if err == nil && len(s) > maxTextField {
			err = fmt.Errorf("text of %d bytes, over %d", len(s), maxTextField)
		}
		*dst = s
		return err
	}
	switch key {
	case 1:
		s, err := r.ReadText()
		if err != nil {
			return err
		}
		ref, err := abi.ParseRef(s)
		if err != nil {
			return err
		}
		q.Target = ref
		return nil
	case 2:
		return text(&q.Method)
	case 3:
		var err error
		q.Payload, err = r.ReadBytes()
		return err
	case 4:
		return text(&q.Sender)
	case 5:
		return text(&q.ID)
	case 6:
		return text(&q.Key)
	case 7:
		var err error
		*timeoutMS, err = r.ReadUint()
		return err
	case 8:
		n, err := r.ReadArrayHeader()
		if err != nil {
			return err
		}
		if n > MaxChain {
			return fmt.Errorf("call chain of %d, over %d", n, MaxChain)
		}
		q.Chain = make([]string, n)
		for i := range q.Chain {
			if err := text(&q.Chain[i]); err != nil {
				return err
			}
		}
		return nil
	case 9:
		return text(&q.Trace)
	case 10:
		var err error
		q.Hops, err = r.ReadUint()
		return err
	}
	return r.Skip()
}
