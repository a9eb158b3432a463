package cluster

import (
	"errors"
	"fmt"

	"github.com/wactor/wactor/abi"
	"github.com/wactor/wactor/storage"
)

// MaxDeliver is the most messages one delivery carries; a node refuses a
// larger one.
const MaxDeliver = 1024

// A delivery hands committed outbox messages to the node that serves
// their targets. On the wire it is a CBOR map with integer keys: 1 time
// left in milliseconds, 2 the messages, an array of maps with keys 1 id,
// 2 target, 3 sender, 4 method, 5 payload, 6 idempotency key, 7 trace
// context. Its answer's payload is a CBOR map from each target the node
// refused (it does not serve it) to the node it names as that target's
// owner ("" when it knows none).

// appendDelivery appends the encoding of msgs with timeoutMS left to b.
func appendDelivery(b []byte, msgs []storage.Message, timeoutMS uint64) []byte {
	b = abi.AppendMapHeader(b, 2)
	b = abi.AppendUint(abi.AppendUint(b, 1), timeoutMS)
	b = abi.AppendArrayHeader(abi.AppendUint(b, 2), len(msgs))
	for i := range msgs {
		m := &msgs[i]
		n := 3 + count(m.Sender != "", m.Payload != nil, m.Key != "", m.Trace != "")
		b = abi.AppendMapHeader(b, n)
		b = abi.AppendText(abi.AppendUint(b, 1), m.ID)
		b = abi.AppendText(abi.AppendUint(b, 2), m.Target)
		if m.Sender != "" {
			b = abi.AppendText(abi.AppendUint(b, 3), m.Sender)
		}
		b = abi.AppendText(abi.AppendUint(b, 4), m.Method)
		if m.Payload != nil {
			b = abi.AppendBytes(abi.AppendUint(b, 5), m.Payload)
		}
		if m.Key != "" {
			b = abi.AppendText(abi.AppendUint(b, 6), m.Key)
		}
		if m.Trace != "" {
			b = abi.AppendText(abi.AppendUint(b, 7), m.Trace)
		}
	}
	return b
}

// decodeDelivery decodes a delivery from the network (untrusted bytes)
// and returns its messages and the time left in milliseconds. Payloads
// alias p.
func decodeDelivery(p []byte) ([]storage.Message, uint64, error) {
	var (
		msgs      []storage.Message
		timeoutMS uint64
	)
	r := abi.NewReader(p)
	seen, err := readFields(r, func(key uint64) (err error) {
		switch key {
		case 1:
			timeoutMS, err = r.ReadUint()
		case 2:
			msgs, err = decodeMessages(r)
		default:
			err = r.Skip()
		}
		return err
	})
	if err == nil && r.Len() != 0 {
		err = errors.New("trailing bytes")
	}
	if err != nil {
		return nil, 0, fmt.Errorf("%w: %v", errEnvelope, err)
	}
	if !seen[1] || !seen[2] {
		return nil, 0, fmt.Errorf("%w: time left or messages missing", errEnvelope)
	}
	if timeoutMS > uint64(MaxAskTime.Milliseconds()) {
		return nil, 0, fmt.Errorf("%w: %d ms left, over %s", errEnvelope, timeoutMS, MaxAskTime)
	}
	return msgs, timeoutMS, nil
}

func decodeMessages(r *abi.Reader) ([]storage.Message, error) {
	n, err := r.ReadArrayHeader()
	if err != nil {
		return nil, err
	}
	if n > MaxDeliver {
		return nil, fmt.Errorf("%d messages, over %d", n, MaxDeliver)
	}
	msgs := make([]storage.Message, n)
	for i := range msgs {
		if err := decodeMessage(r, &msgs[i]); err != nil {
			return nil, fmt.Errorf("message %d: %w", i, err)
		}
	}
	return msgs, nil
}

func decodeMessage(r *abi.Reader, m *storage.Message) error {
	text := func(dst *string) error {
		s, err := r.ReadText()
		if err == nil && len(s) > maxTextField {
			err = fmt.Errorf("text of %d bytes, over %d", len(s), maxTextField)
		}
		*dst = s
		return err
	}
	_, err := readFields(r, func(key uint64) (err error) {
		switch key {
		case 1:
			err = text(&m.ID)
		case 2:
			err = text(&m.Target)
		case 3:
			err = text(&m.Sender)
		case 4:
			err = text(&m.Method)
		case 5:
			m.Payload, err = r.ReadBytes()
		case 6:
			err = text(&m.Key)
		case 7:
			err = text(&m.Trace)
		default:
			err = r.Skip()
		}
		return err
	})
	if err != nil {
		return err
	}
	if m.ID == "" || m.Target == "" || m.Method == "" {
		return fmt.Errorf("id, target or method missing or empty")
	}
	if _, err := abi.ParseRef(m.Target); err != nil {
		return err
	}
	return nil
}

// appendRefused encodes the targets a node refused, with their owners.
func appendRefused(b []byte, refused map[string]string) []byte {
	b = abi.AppendMapHeader(b, len(refused))
	for target, owner := range refused {
		b = abi.AppendText(abi.AppendText(b, target), owner)
	}
	return b
}

// decodeRefused decodes what appendRefused encoded, from another node.
func decodeRefused(p []byte) (map[string]string, error) {
	if len(p) == 0 {
		return nil, nil
	}
	r := abi.NewReader(p)
	n, err := r.ReadMapHeader()
	if err != nil {
		return nil, err
	}
	if n > MaxDeliver {
		return nil, fmt.Errorf("%d refused targets, over %d", n, MaxDeliver)
	}
	out := make(map[string]string, n)
	for range n {
		target, err := r.ReadText()
		if err != nil {
			return nil, err
		}
		owner, err := r.ReadText()
		if err != nil {
			return nil, err
		}
		if len(target) > maxTextField || len(owner) > maxTextField {
			return nil, fmt.Errorf("a refused target or owner over %d bytes", maxTextField)
		}
		out[target] = owner
	}
	if r.Len() != 0 {
		return nil, fmt.Errorf("trailing bytes")
	}
	return out, nil
}

// appendAnswer encodes the answer to an ask or a delivery: the keys of
// abi.Reply (1 payload, 2 code, 3 message) and, when the node did not
// apply it because it does not serve the target, 4 the owner it names
// ("" for none).
func appendAnswer(b []byte, payload []byte, e *abi.Error, notServed *NotServedError) []byte {
	if e == nil {
		if payload == nil {
			payload = []byte{}
		}
		return abi.AppendBytes(abi.AppendUint(abi.AppendMapHeader(b, 1), 1), payload)
	}
	n := 2
	if notServed != nil {
		n++
	}
	b = abi.AppendMapHeader(b, n)
	b = abi.AppendText(abi.AppendUint(b, 2), e.Code)
	b = abi.AppendText(abi.AppendUint(b, 3), e.Message)
	if notServed != nil {
		b = abi.AppendText(abi.AppendUint(b, 4), notServed.Owner)
	}
	return b
}

// decodeAnswer decodes an answer from another node: the payload, or the
// error (a *NotServedError when it says so).
func decodeAnswer(p []byte) ([]byte, error) {
	var (
		payload              []byte
		code, message, owner string
		notServed            bool
	)
	r := abi.NewReader(p)
	n, err := r.ReadMapHeader()
	if err != nil {
		return nil, err
	}
	if n > maxAskFields {
		return nil, fmt.Errorf("%d fields, over %d", n, maxAskFields)
	}
	for range n {
		key, err := r.ReadUint()
		if err != nil {
			return nil, err
		}
		switch key {
		case 1:
			payload, err = r.ReadBytes()
		case 2:
			code, err = r.ReadText()
		case 3:
			message, err = r.ReadText()
		case 4:
			owner, err = r.ReadText()
			notServed = true
		default:
			err = r.Skip()
		}
		if err != nil {
			return nil, err
		}
	}
	if r.Len() != 0 {
		return nil, fmt.Errorf("trailing bytes")
	}
	if code == "" {
		if payload == nil {
			payload = []byte{}
		}
		return payload, nil
	}
	e := abi.NewError(code, message)
	if notServed {
		if CheckName(owner) != "" {
			owner = ""
		}
		return nil, &NotServedError{Owner: owner, Err: e}
	}
	return nil, e
}
