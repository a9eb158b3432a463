package abi

import (
	"strconv"
	"sync"
)

// RequestKind says why the host calls wactor_handle.
type RequestKind uint8

// Kinds of requests.
const (
	// KindMessage delivers a message to a method.
	KindMessage RequestKind = 0
	// KindActivate tells the guest its activation has started and its state
	// is loaded. A guest without an activate hook answers with an empty reply.
	KindActivate RequestKind = 1
	// KindDeactivate tells the guest its activation is about to end.
	KindDeactivate RequestKind = 2
)

// Request is the envelope the host writes into guest memory before calling
// wactor_handle. Keys: 1 kind, 2 method, 3 payload, 4 sender, 5 message id,
// 6 trace.
type Request struct {
	Kind    RequestKind
	Method  string
	Payload []byte // CBOR of the user's message, opaque to the host
	Sender  string // "type/id" of the sending actor, or "" from outside
	ID      string // unique message id
	// Trace is the W3C trace context of the turn (a traceparent value),
	// present only when the host records a trace of the turn. It is
	// advisory: a reader checks it with ValidTraceparent and ignores it
	// when it is not valid, rather than fail the message.
	Trace string
}

// Reply is the envelope wactor_handle returns. An empty Code means success
// and Payload is the answer; otherwise Code and Message describe the error.
// Keys: 1 payload, 2 code, 3 message.
type Reply struct {
	Payload []byte
	Code    string
	Message string
}

// Call is the argument of the tell and ask host calls.
// Keys: 1 target, 2 method, 3 payload, 4 timeout in milliseconds (ask only;
// 0 means the host's default).
type Call struct {
	Target    string
	Method    string
	Payload   []byte
	TimeoutMS uint64
}

// StateOp is the argument of state_get, state_set and state_delete.
// Keys: 1 key (text), 2 value (bytes; state_set only).
type StateOp struct {
	Key   string
	Value []byte
}

// LogRecord is the argument of the log host call.
// Keys: 1 level (LevelDebug..LevelError), 2 message.
type LogRecord struct {
	Level   int64
	Message string
}

// Timer is the argument of timer_set: a volatile timer of the calling
// activation that delivers Method with Payload to the activation itself,
// DueMS milliseconds from now and then every PeriodMS milliseconds (0: once).
// Setting a name that exists replaces that timer.
// Keys: 1 name, 2 due_ms, 3 period_ms, 4 method, 5 payload.
type Timer struct {
	Name     string
	DueMS    uint64
	PeriodMS uint64
	Method   string
	Payload  []byte
}

// Reminder is the argument of reminder_set: a durable reminder of the
// calling actor that delivers Method with Payload on a schedule. At most one
// of InMS, AtUnixMS, EveryMS and Cron is set; none means once, at once.
// Setting a name that exists replaces that reminder.
// Keys: 1 name, 2 in_ms, 3 at_unix_ms, 4 every_ms, 5 first_ms, 6 cron,
// 7 method, 8 payload, 9 missed.
type Reminder struct {
	Name string
	// InMS fires once, this many milliseconds from now (the host's clock).
	InMS uint64
	// AtUnixMS fires once, at this Unix time in milliseconds.
	AtUnixMS uint64
	// EveryMS fires every EveryMS milliseconds; the first time FirstMS from
	// now, or EveryMS from now when FirstMS is 0.
	EveryMS uint64
	FirstMS uint64
	// Cron fires at the times of a cron expression, in UTC.
	Cron    string
	Method  string
	Payload []byte
	// Missed is the missed-tick policy: MissedCatchUp ("" means it too)
	// or MissedSkip.
	Missed string
}

// Cancel is the argument of timer_cancel and reminder_cancel.
// Keys: 1 name.
type Cancel struct {
	Name string
}

// AppendTo appends the encoding of q to b.
func (q *Request) AppendTo(b []byte) []byte {
	n := 2 + count(q.Payload != nil, q.Sender != "", q.ID != "", q.Trace != "")
	b = AppendMapHeader(b, n)
	b = AppendUint(AppendUint(b, 1), uint64(q.Kind))
	b = AppendText(AppendUint(b, 2), q.Method)
	if q.Payload != nil {
		b = AppendBytes(AppendUint(b, 3), q.Payload)
	}
	if q.Sender != "" {
		b = AppendText(AppendUint(b, 4), q.Sender)
	}
	if q.ID != "" {
		b = AppendText(AppendUint(b, 5), q.ID)
	}
	if q.Trace != "" {
		b = AppendText(AppendUint(b, 6), q.Trace)
	}
	return b
}

// Decode decodes p into q. Byte fields alias p.
func (q *Request) Decode(p []byte) error {
	*q = Request{}
	return decodeMap(p, "request", func(key uint64, r *Reader) (err error) {
		switch key {
		case 1:
			start := r.off
			var k uint64
			if k, err = r.ReadUint(); err == nil && k > uint64(KindDeactivate) {
				err = &cborError{off: start, msg: "unknown request kind " + strconv.FormatUint(k, 10)}
			}
			q.Kind = RequestKind(k)
		case 2:
			q.Method, err = r.ReadText()
		case 3:
			q.Payload, err = r.ReadBytes()
		case 4:
			q.Sender, err = r.ReadText()
		case 5:
			q.ID, err = r.ReadText()
		case 6:
			q.Trace, err = r.ReadText()
		default:
			err = r.Skip()
		}
		return err
	})
}

// AppendTo appends the encoding of y to b.
func (y *Reply) AppendTo(b []byte) []byte {
	n := count(y.Payload != nil, y.Code != "", y.Message != "")
	b = AppendMapHeader(b, n)
	if y.Payload != nil {
		b = AppendBytes(AppendUint(b, 1), y.Payload)
	}
	if y.Code != "" {
		b = AppendText(AppendUint(b, 2), y.Code)
	}
	if y.Message != "" {
		b = AppendText(AppendUint(b, 3), y.Message)
	}
	return b
}

// Decode decodes p into y. Byte fields alias p.
func (y *Reply) Decode(p []byte) error {
	*y = Reply{}
	return decodeMap(p, "reply", func(key uint64, r *Reader) (err error) {
		switch key {
		case 1:
			y.Payload, err = r.ReadBytes()
		case 2:
			y.Code, err = r.ReadText()
		case 3:
			y.Message, err = r.ReadText()
		default:
			err = r.Skip()
		}
		return err
	})
}

// AppendTo appends the encoding of c to b.
func (c *Call) AppendTo(b []byte) []byte {
	n := 2 + count(c.Payload != nil, c.TimeoutMS != 0)
	b = AppendMapHeader(b, n)
	b = AppendText(AppendUint(b, 1), c.Target)
	b = AppendText(AppendUint(b, 2), c.Method)
	if c.Payload != nil {
		b = AppendBytes(AppendUint(b, 3), c.Payload)
	}
	if c.TimeoutMS != 0 {
		b = AppendUint(AppendUint(b, 4), c.TimeoutMS)
	}
	return b
}

// Decode decodes p into c. Byte fields alias p.
func (c *Call) Decode(p []byte) error {
	*c = Call{}
	return decodeMap(p, "call", func(key uint64, r *Reader) (err error) {
		switch key {
		case 1:
			c.Target, err = r.ReadText()
		case 2:
			c.Method, err = r.ReadText()
		case 3:
			c.Payload, err = r.ReadBytes()
		case 4:
			c.TimeoutMS, err = r.ReadUint()
		default:
			err = r.Skip()
		}
		return err
	})
}

// AppendTo appends the encoding of s to b.
func (s *StateOp) AppendTo(b []byte) []byte {
	if s.Value == nil {
		return AppendText(AppendUint(AppendMapHeader(b, 1), 1), s.Key)
	}
	b = AppendText(AppendUint(AppendMapHeader(b, 2), 1), s.Key)
	return AppendBytes(AppendUint(b, 2), s.Value)
}

// Decode decodes p into s. Byte fields alias p.
func (s *StateOp) Decode(p []byte) error {
	*s = StateOp{}
	return decodeMap(p, "state operation", func(key uint64, r *Reader) (err error) {
		switch key {
		case 1:
			s.Key, err = r.ReadText()
		case 2:
			s.Value, err = r.ReadBytes()
		default:
			err = r.Skip()
		}
		return err
	})
}

// AppendTo appends the encoding of l to b.
func (l *LogRecord) AppendTo(b []byte) []byte {
	b = AppendInt(AppendUint(AppendMapHeader(b, 2), 1), l.Level)
	return AppendText(AppendUint(b, 2), l.Message)
}

// Decode decodes p into l.
func (l *LogRecord) Decode(p []byte) error {
	*l = LogRecord{}
	return decodeMap(p, "log record", func(key uint64, r *Reader) (err error) {
		switch key {
		case 1:
			l.Level, err = r.ReadInt()
		case 2:
			l.Message, err = r.ReadText()
		default:
			err = r.Skip()
		}
		return err
	})
}

// AppendTo appends the encoding of t to b.
func (t *Timer) AppendTo(b []byte) []byte {
	n := 2 + count(t.DueMS != 0, t.PeriodMS != 0, t.Payload != nil)
	b = AppendText(AppendUint(AppendMapHeader(b, n), 1), t.Name)
	if t.DueMS != 0 {
		b = AppendUint(AppendUint(b, 2), t.DueMS)
	}
	if t.PeriodMS != 0 {
		b = AppendUint(AppendUint(b, 3), t.PeriodMS)
	}
	b = AppendText(AppendUint(b, 4), t.Method)
	if t.Payload != nil {
		b = AppendBytes(AppendUint(b, 5), t.Payload)
	}
	return b
}

// Decode decodes p into t. Byte fields alias p.
func (t *Timer) Decode(p []byte) error {
	*t = Timer{}
	return decodeMap(p, "timer", func(key uint64, r *Reader) (err error) {
		switch key {
		case 1:
			t.Name, err = r.ReadText()
		case 2:
			t.DueMS, err = r.ReadUint()
		case 3:
			t.PeriodMS, err = r.ReadUint()
		case 4:
			t.Method, err = r.ReadText()
		case 5:
			t.Payload, err = r.ReadBytes()
		default:
			err = r.Skip()
		}
		return err
	})
}

// AppendTo appends the encoding of m to b.
func (m *Reminder) AppendTo(b []byte) []byte {
	n := 2 + count(m.InMS != 0, m.AtUnixMS != 0, m.EveryMS != 0, m.FirstMS != 0, m.Cron != "",
		m.Payload != nil, m.Missed != "")
	b = AppendText(AppendUint(AppendMapHeader(b, n), 1), m.Name)
	for _, f := range []struct {
		key uint64
		v   uint64
	}{{2, m.InMS}, {3, m.AtUnixMS}, {4, m.EveryMS}, {5, m.FirstMS}} {
		if f.v != 0 {
			b = AppendUint(AppendUint(b, f.key), f.v)
		}
	}
	if m.Cron != "" {
		b = AppendText(AppendUint(b, 6), m.Cron)
	}
	b = AppendText(AppendUint(b, 7), m.Method)
	if m.Payload != nil {
		b = AppendBytes(AppendUint(b, 8), m.Payload)
	}
	if m.Missed != "" {
		b = AppendText(AppendUint(b, 9), m.Missed)
	}
	return b
}

// Decode decodes p into m. Byte fields alias p. It checks the types of
// the fields, not their meaning: the host refuses a reminder with two
// schedules, say, with a bad_request error.
func (m *Reminder) Decode(p []byte) error {
	*m = Reminder{}
	return decodeMap(p, "reminder", func(key uint64, r *Reader) (err error) {
		switch key {
		case 1:
			m.Name, err = r.ReadText()
		case 2:
			m.InMS, err = r.ReadUint()
		case 3:
			m.AtUnixMS, err = r.ReadUint()
		case 4:
			m.EveryMS, err = r.ReadUint()
		case 5:
			m.FirstMS, err = r.ReadUint()
		case 6:
			m.Cron, err = r.ReadText()
		case 7:
			m.Method, err = r.ReadText()
		case 8:
			m.Payload, err = r.ReadBytes()
		case 9:
			m.Missed, err = r.ReadText()
		default:
			err = r.Skip()
		}
		return err
	})
}

// AppendTo appends the encoding of c to b.
func (c *Cancel) AppendTo(b []byte) []byte {
	return AppendText(AppendUint(AppendMapHeader(b, 1), 1), c.Name)
}

// Decode decodes p into c.
func (c *Cancel) Decode(p []byte) error {
	*c = Cancel{}
	return decodeMap(p, "cancel", func(key uint64, r *Reader) (err error) {
		switch key {
		case 1:
			c.Name, err = r.ReadText()
		default:
			err = r.Skip()
		}
		return err
	})
}

// AppendError appends the error envelope of e (keys: 1 code, 2 message), the
// pending result of a host call that returned StatusError.
func AppendError(b []byte, e *Error) []byte {
	b = AppendText(AppendUint(AppendMapHeader(b, 2), 1), e.Code)
	return AppendText(AppendUint(b, 2), e.Message)
}

// DecodeError decodes an error envelope.
func DecodeError(p []byte) (*Error, error) {
	e := &Error{}
	err := decodeMap(p, "error", func(key uint64, r *Reader) (err error) {
		switch key {
		case 1:
			e.Code, err = r.ReadText()
		case 2:
			e.Message, err = r.ReadText()
		default:
			err = r.Skip()
		}
		return err
	})
	if err == nil && e.Code == "" {
		err = &cborError{msg: "error envelope has no code"}
	}
	return e, err
}

// decodeMap decodes p as exactly one map with unsigned integer keys, calling
// field for each pair; field must consume the value.
func decodeMap(p []byte, what string, field func(key uint64, r *Reader) error) error {
	// The reader is handed to field, a function value, so it would escape
	// to the heap: one allocation per envelope, several per message.
	// The pool's readers are reused instead; field only reads through r.
	r := readers.Get().(*Reader)
	r.Reset(p)
	defer func() {
		r.Reset(nil)
		readers.Put(r)
	}()
	n, err := r.ReadMapHeader()
	if err != nil {
		return wrapDecode(what, err)
	}
	for i := 0; i < n; i++ {
		key, err := r.ReadUint()
		if err != nil {
			return wrapDecode(what, err)
		}
		if err := field(key, r); err != nil {
			return wrapDecode(what+" key "+strconv.FormatUint(key, 10), err)
		}
	}
	if r.Len() != 0 {
		return wrapDecode(what, r.fail("trailing bytes after the map"))
	}
	return nil
}

// readers are decodeMap's readers.
var readers = sync.Pool{New: func() any { return new(Reader) }}

func wrapDecode(what string, err error) error {
	if ce, ok := err.(*cborError); ok {
		return &cborError{off: ce.off, msg: what + ": " + ce.msg}
	}
	return err
}

// count returns how many of the optional fields are present.
func count(present ...bool) int {
	n := 0
	for _, p := range present {
		if p {
			n++
		}
	}
	return n
}
