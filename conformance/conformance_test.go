package conformance_test

import (
	"bytes"
	"context"
	"fmt"
	"log/slog"
	"os"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/fxamacker/cbor/v2"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"

	"github.com/wactor/wactor/abi"
	"github.com/wactor/wactor/host"
	"github.com/wactor/wactor/internal/testwasm"
	"github.com/wactor/wactor/storage/memstore"
)

func TestMain(m *testing.M) {
	code := m.Run()
	if code == 0 {
		if err := goleak.Find(); err != nil {
			println("goleak:", err.Error())
			code = 1
		}
	}
	os.Exit(code)
}

// A language whose SDK has a conformance actor, deployed as type conf-<name>.
type language struct {
	name   string
	module func(testing.TB) []byte
}

var languages = []language{
	{"go", func(tb testing.TB) []byte { return testwasm.Go(tb, "conformance") }},
	{"c", func(tb testing.TB) []byte { return testwasm.C(tb, "conformance") }},
	{"rust", func(tb testing.TB) []byte { return testwasm.Rust(tb, "conformance") }},
	{"as", func(tb testing.TB) []byte { return testwasm.AS(tb, "conformance") }},
}

// Limits of the conformance types.
const (
	maxMessage = 64 << 10
	// The ask-timeout target's turn limit: long enough that an ask with a
	// 200 ms timeout gives up first, short enough to end the test quickly.
	hostileTurnTimeout = time.Second
	// How long a scenario waits for something asynchronous (a tell's
	// effect, a deactivation) before it fails.
	eventually = 10 * time.Second
	tick       = 10 * time.Millisecond
)

// env is what a scenario gets: the host and the language under test.
type env struct {
	h    *host.Host
	logs *recorder
	typ  string // conf-<language>
	peer string // the conformance type of another language
	lang string
}

// ref returns the ref of the actor id of the type under test.
func (e *env) ref(id string) string { return e.typ + "/" + id }

type scenario struct {
	name string
	run  func(t *testing.T, e *env)
}

// TestConformance runs every scenario against every language's conformance
// actor, as TestConformance/<language>/<scenario>.
func TestConformance(t *testing.T) {
	ctx := context.Background()
	logs := &recorder{}
	h, err := host.New(ctx, host.Config{
		Store:    memstore.New(),
		CacheDir: testwasm.CacheDir(t),
		Logger:   slog.New(logs),
	})
	require.NoError(t, err)
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		assert.NoError(t, h.Close(ctx))
		if t.Failed() {
			logs.dump(t, slog.LevelInfo)
		}
	})
	for _, l := range languages {
		require.NoError(t, h.Deploy(ctx, host.TypeConfig{
			Name:       "conf-" + l.name,
			Module:     l.module(t),
			Source:     "conformance-" + l.name + ".wasm",
			MaxMessage: maxMessage,
		}), "deploying the %s conformance actor", l.name)
	}
	deployStateless(t, h)
	deployReadOnly(t, h)
	deployReentrant(t, h)
	require.NoError(t, h.Deploy(ctx, host.TypeConfig{
		Name:        "hostile",
		Module:      testwasm.Go(t, "hostile"),
		Source:      "hostile.wasm",
		TurnTimeout: hostileTurnTimeout,
	}))
	require.NoError(t, h.Start(ctx))

	for i, l := range languages {
		e := &env{
			h:    h,
			logs: logs,
			typ:  "conf-" + l.name,
			peer: "conf-" + languages[(i+1)%len(languages)].name,
			lang: l.name,
		}
		t.Run(l.name, func(t *testing.T) {
			for _, sc := range scenarios {
				t.Run(sc.name, func(t *testing.T) { sc.run(t, e) })
			}
		})
	}
}

var scenarios = []scenario{
	{"echo", func(t *testing.T, e *env) {
		got, err := ask(t, e.h, e.ref("echo"), "echo", nested)
		require.NoError(t, err)
		assert.Equal(t, nested, got, "echo must answer with the payload byte for byte")

		got, err = ask(t, e.h, e.ref("echo"), "echo", nil)
		require.NoError(t, err)
		assert.Empty(t, got, "echo without a payload answers without one")
	}},

	{"fail", func(t *testing.T, e *env) {
		_, err := ask(t, e.h, e.ref("fail"), "fail", M{"code": "insufficient_funds", "message": "balance is 5, wanted 7"})
		requireError(t, err, "insufficient_funds", "balance is 5, wanted 7")
		// The instance stays: the next message is answered.
		_, err = ask(t, e.h, e.ref("fail"), "echo", M{})
		require.NoError(t, err)
	}},

	{"bad_request", func(t *testing.T, e *env) {
		_, err := ask(t, e.h, e.ref("bad"), "set", M{"value": 1})
		requireCode(t, err, abi.CodeBadRequest)
		_, err = ask(t, e.h, e.ref("bad"), "set", encode(t, "not a map"))
		requireCode(t, err, abi.CodeBadRequest)
	}},

	{"state", func(t *testing.T, e *env) {
		ref := e.ref("state")
		requireEmpty(t, e.h, ref, "get", M{"key": "never"})

		mustAsk(t, e.h, ref, "set", M{"key": "doc", "value": cbor.RawMessage(nested)})
		mustAsk(t, e.h, ref, "set", M{"key": "n", "value": -42})
		mustAsk(t, e.h, ref, "set", M{"key": "ключ/with spaces", "value": "ünïcödé"})
		assert.Equal(t, nested, getValue(t, e.h, ref, "doc"), "get must answer with the stored item byte for byte")
		assert.Equal(t, encode(t, -42), getValue(t, e.h, ref, "n"))
		assert.Equal(t, encode(t, "ünïcödé"), getValue(t, e.h, ref, "ключ/with spaces"))

		mustAsk(t, e.h, ref, "set", M{"key": "n", "value": M{"now": []any{"a", "map"}}})
		assert.Equal(t, encode(t, M{"now": []any{"a", "map"}}), getValue(t, e.h, ref, "n"), "set overwrites")

		requireEmpty(t, e.h, ref, "delete", M{"key": "doc"})
		requireEmpty(t, e.h, ref, "get", M{"key": "doc"})
		requireEmpty(t, e.h, ref, "delete", M{"key": "never"}) // deleting nothing is fine
		assert.Equal(t, encode(t, M{"now": []any{"a", "map"}}), getValue(t, e.h, ref, "n"), "delete touches only its key")

		// Each actor has its own state.
		requireEmpty(t, e.h, e.ref("state-other"), "get", M{"key": "n"})
	}},

	{"set_then_fail", func(t *testing.T, e *env) {
		ref := e.ref("atomic")
		mustAsk(t, e.h, ref, "set", M{"key": "kept", "value": 1})
		_, err := ask(t, e.h, ref, "set_then_fail", M{"key": "kept", "value": 2})
		requireCode(t, err, "refused")
		_, err = ask(t, e.h, ref, "set_then_fail", M{"key": "fresh", "value": cbor.RawMessage(nested)})
		requireCode(t, err, "refused")
		assert.Equal(t, encode(t, 1), getValue(t, e.h, ref, "kept"), "a failed turn must not overwrite")
		requireEmpty(t, e.h, ref, "get", M{"key": "fresh"})
	}},

	{"tell_cross_language", func(t *testing.T, e *env) {
		target := e.peer + "/told-by-" + e.lang
		requireEmpty(t, e.h, e.ref("teller"), "tell", M{
			"to": target, "method": "set",
			"payload": M{"key": "from", "value": M{"sender": e.typ, "doc": cbor.RawMessage(nested)}},
		})
		want := encode(t, M{"sender": e.typ, "doc": cbor.RawMessage(nested)})
		var last string
		if !assert.Eventually(t, func() bool {
			reply, err := ask(t, e.h, target, "get", M{"key": "from"})
			last = fmt.Sprintf("reply %x, error %v", reply, err)
			return err == nil && bytes.Equal(fields(t, reply)["value"], want)
		}, eventually, tick) {
			t.Fatalf("%s's tell to %s never took effect; the last get gave %s; activations: %v", e.typ, target, last, e.h.Activations())
		}
	}},

	{"ask_cross_language", func(t *testing.T, e *env) {
		target := e.peer + "/asked-by-" + e.lang
		reply := mustAsk(t, e.h, e.ref("asker"), "ask", M{"to": target, "method": "echo", "payload": cbor.RawMessage(nested)})
		assert.Equal(t, nested, []byte(reply["reply"]), "the callee's reply must arrive byte for byte")

		// The callee's error comes back with its code and message.
		_, err := ask(t, e.h, e.ref("asker"), "ask", M{"to": target, "method": "fail",
			"payload": M{"code": "insufficient_funds", "message": "asked by " + e.typ}})
		requireError(t, err, "insufficient_funds", "asked by "+e.typ)

		// So does a system error, and an unknown type.
		_, err = ask(t, e.h, e.ref("asker"), "ask", M{"to": target, "method": "no_such_method"})
		requireCode(t, err, abi.CodeUnknownMethod)
		_, err = ask(t, e.h, e.ref("asker"), "ask", M{"to": "no-such-type/x", "method": "echo"})
		requireCode(t, err, abi.CodeUnknownType)
	}},

	{"ask_timeout", func(t *testing.T, e *env) {
		_, err := ask(t, e.h, e.ref("waiter"), "ask", M{"to": "hostile/spin-" + e.lang, "method": "spin", "timeout_ms": 200})
		requireCode(t, err, abi.CodeTimeout)
		// The asker is unharmed.
		_, err = ask(t, e.h, e.ref("waiter"), "echo", M{})
		require.NoError(t, err)
	}},

	{"ask_self_deadlock", func(t *testing.T, e *env) {
		ref := e.ref("narcissus")
		_, err := ask(t, e.h, ref, "ask", M{"to": ref, "method": "echo", "payload": M{}})
		requireCode(t, err, abi.CodeDeadlock)
	}},

	{"whoami", func(t *testing.T, e *env) {
		ref := e.ref("who")
		first := mustAsk(t, e.h, ref, "whoami", nil)
		assert.Equal(t, ref, text(t, first, "self"))
		assert.Equal(t, "", text(t, first, "sender"), "a message from outside has no sender")
		assert.NotEmpty(t, text(t, first, "id"), "every message has an id")

		second := mustAsk(t, e.h, ref, "whoami", nil)
		assert.NotEqual(t, text(t, first, "id"), text(t, second, "id"), "two messages, two ids")

		asker := e.ref("who-asks")
		reply := mustAsk(t, e.h, asker, "ask", M{"to": ref, "method": "whoami"})
		var inner map[string]cbor.RawMessage
		require.NoError(t, cbor.Unmarshal(reply["reply"], &inner))
		assert.Equal(t, ref, text(t, inner, "self"))
		assert.Equal(t, asker, text(t, inner, "sender"), "an actor's message names its sender")
		assert.NotEmpty(t, text(t, inner, "id"))
	}},

	{"log", func(t *testing.T, e *env) {
		ref := e.ref("logger")
		for level, want := range []slog.Level{slog.LevelDebug, slog.LevelInfo, slog.LevelWarn, slog.LevelError} {
			msg := fmt.Sprintf("conformance %s says %d: ünïcödé", e.typ, level)
			requireEmpty(t, e.h, ref, "log", M{"level": level, "message": msg})
			rec, ok := e.logs.find(msg)
			require.True(t, ok, "no log record %q", msg)
			assert.Equal(t, want, rec.level, "level %d", level)
			assert.Equal(t, ref, rec.attrs["actor"], "the record names the actor")
			assert.Equal(t, "log", rec.attrs["method"], "the record names the method")
		}
	}},

	{"sized", func(t *testing.T, e *env) {
		ref := e.ref("sized")
		const under = 60 << 10
		reply := mustAsk(t, e.h, ref, "sized", M{"size": under})
		var data []byte
		require.NoError(t, cbor.Unmarshal(reply["data"], &data))
		require.Len(t, data, under)
		for i, b := range data {
			if b != byte(i) {
				t.Fatalf("byte %d of sized's data is %d, want %d", i, b, byte(i))
			}
		}
		_, err := ask(t, e.h, ref, "sized", M{"size": maxMessage + 1})
		requireCode(t, err, abi.CodeTooLarge)

		// A payload near the limit goes in and out; one over it is refused.
		big := encode(t, bytes.Repeat([]byte{0xa5}, under))
		got, err := ask(t, e.h, ref, "echo", big)
		require.NoError(t, err)
		assert.Equal(t, big, got)
		_, err = ask(t, e.h, ref, "echo", encode(t, make([]byte, maxMessage+1)))
		requireCode(t, err, abi.CodeTooLarge)

		// The actor still answers.
		_, err = ask(t, e.h, ref, "echo", M{})
		require.NoError(t, err)
	}},

	{"deactivate", func(t *testing.T, e *env) {
		ref := e.ref("sleepy")
		r, err := abi.ParseRef(ref)
		require.NoError(t, err)
		mustAsk(t, e.h, ref, "set", M{"key": "dream", "value": cbor.RawMessage(nested)})
		require.Contains(t, e.h.Activations(), r, "the actor is active after a message")
		requireEmpty(t, e.h, ref, "deactivate", nil)
		require.Eventually(t, func() bool { return !slices.Contains(e.h.Activations(), r) },
			eventually, tick, "%s asked to be deactivated but is still active", ref)
		// The next message activates it again, from its committed state.
		assert.Equal(t, nested, getValue(t, e.h, ref, "dream"))
	}},

	{"unknown_method", func(t *testing.T, e *env) {
		_, err := ask(t, e.h, e.ref("unknown"), "no_such_method", M{})
		requireCode(t, err, abi.CodeUnknownMethod)
	}},

	{"timer", func(t *testing.T, e *env) {
		ref := e.ref("timer")
		value := M{"by": e.typ, "doc": cbor.RawMessage(nested)}
		requireEmpty(t, e.h, ref, "timer", M{"name": "once", "due_ms": 20, "method": "set",
			"payload": M{"key": "once", "value": value}})
		requireEmpty(t, e.h, ref, "timer", M{"name": "late", "due_ms": 300, "method": "set",
			"payload": M{"key": "late", "value": 1}})
		requireEmpty(t, e.h, ref, "cancel_timer", M{"name": "late"})
		waitValue(t, e.h, ref, "once", encode(t, value))

		// A periodic timer sets its key again after it is deleted.
		requireEmpty(t, e.h, ref, "timer", M{"name": "every", "due_ms": 10, "period_ms": 10, "method": "set",
			"payload": M{"key": "every", "value": 1}})
		waitValue(t, e.h, ref, "every", encode(t, 1))
		requireEmpty(t, e.h, ref, "delete", M{"key": "every"})
		waitValue(t, e.h, ref, "every", encode(t, 1))
		requireEmpty(t, e.h, ref, "cancel_timer", M{"name": "every"})

		time.Sleep(500 * time.Millisecond)
		requireEmpty(t, e.h, ref, "get", M{"key": "late"})
		_, err := ask(t, e.h, ref, "timer", M{"name": "", "method": "set"})
		requireCode(t, err, abi.CodeBadRequest)
	}},

	{"reminder", func(t *testing.T, e *env) {
		ctx := context.Background()
		ref := e.ref("reminder")
		r, err := abi.ParseRef(ref)
		require.NoError(t, err)
		value := M{"by": e.typ, "doc": cbor.RawMessage(nested)}
		requireEmpty(t, e.h, ref, "reminder", M{"name": "soon", "in_ms": 20, "method": "set",
			"payload": M{"key": "reminded", "value": value}})
		waitValue(t, e.h, ref, "reminded", encode(t, value))
		require.Eventually(t, func() bool {
			list, err := e.h.Reminders(ctx, r)
			require.NoError(t, err)
			return len(list) == 0
		}, eventually, tick, "a reminder that fired once is deleted")

		// Every schedule field reaches the host.
		start := time.Now()
		gridPayload := M{"key": "grid", "value": cbor.RawMessage(nested)}
		requireEmpty(t, e.h, ref, "reminder", M{"name": "grid", "every_ms": 3_600_000, "first_ms": 1_800_000,
			"method": "set", "payload": gridPayload})
		at := time.Date(2100, 1, 1, 0, 0, 0, 0, time.UTC)
		requireEmpty(t, e.h, ref, "reminder", M{"name": "at", "at_unix_ms": at.UnixMilli(), "method": "set"})
		requireEmpty(t, e.h, ref, "reminder", M{"name": "daily", "cron": "0 9 * * *", "method": "report", "missed": "skip"})
		list, err := e.h.Reminders(ctx, r)
		require.NoError(t, err)
		require.Len(t, list, 3)
		byName := map[string]host.ReminderInfo{}
		for _, ri := range list {
			byName[ri.Name] = ri
		}
		grid := byName["grid"]
		assert.Equal(t, time.Hour, grid.Every)
		assert.WithinRange(t, grid.Due, start.Add(30*time.Minute-time.Second), time.Now().Add(30*time.Minute+time.Second))
		assert.Equal(t, "set", grid.Method)
		assert.Equal(t, encode(t, gridPayload), grid.Payload, "the payload byte for byte")
		assert.Equal(t, abi.MissedCatchUp, grid.Missed)
		assert.True(t, byName["at"].Due.Equal(at), "at_unix_ms: due %v", byName["at"].Due)
		assert.Empty(t, byName["at"].Payload)
		daily := byName["daily"]
		assert.Equal(t, "0 9 * * *", daily.Cron)
		assert.Equal(t, "report", daily.Method)
		assert.Equal(t, abi.MissedSkip, daily.Missed)

		requireEmpty(t, e.h, ref, "cancel_reminder", M{"name": "grid"})
		list, err = e.h.Reminders(ctx, r)
		require.NoError(t, err)
		assert.Len(t, list, 2, "grid is cancelled")

		_, err = ask(t, e.h, ref, "reminder", M{"name": "bad", "cron": "not a cron", "method": "set"})
		requireCode(t, err, abi.CodeBadRequest)
		_, err = ask(t, e.h, ref, "reminder", M{"name": "two", "in_ms": 1, "every_ms": 1, "method": "set"})
		requireCode(t, err, abi.CodeBadRequest)
		requireEmpty(t, e.h, ref, "cancel_reminder", M{"name": "at"})
		requireEmpty(t, e.h, ref, "cancel_reminder", M{"name": "daily"})
	}},
}

// waitValue waits until the state key of ref holds want.
func waitValue(t *testing.T, h *host.Host, ref, key string, want []byte) {
	t.Helper()
	var last []byte
	require.Eventually(t, func() bool {
		reply, err := ask(t, h, ref, "get", M{"key": key})
		if err != nil {
			return false
		}
		last = fields(t, reply)["value"]
		return bytes.Equal(last, want)
	}, eventually, tick, "%s: waiting for %s = %x; last %x", ref, key, want, last)
}

// M is a JSON-shaped payload.
type M = map[string]any

// nested is a payload with every kind of CBOR item a JSON-shaped payload
// can hold and a few more (bytes, a half float, a tag), encoded
// deterministically, so that "unchanged" can be checked byte for byte.
var nested = func() []byte {
	b, err := encMode.Marshal(M{
		"text":  "héllo, wörld ✓",
		"ints":  []any{0, 23, 24, 255, 256, 65536, uint64(1) << 40, -1, -25, -1000},
		"float": 2.5,
		"half":  cbor.RawMessage{0xf9, 0x3c, 0x00}, // 1.0 as a half float
		"bytes": []byte{0, 1, 2, 0xff},
		"flags": []any{true, false, nil},
		"deep":  M{"a": M{"b": []any{M{"c": "d"}, []any{}}}},
		"empty": M{},
		"tag":   cbor.Tag{Number: 42, Content: "tagged"},
	})
	if err != nil {
		panic(err)
	}
	return b
}()

// encMode encodes maps with their keys sorted, so that the same value
// always has the same encoding.
var encMode = func() cbor.EncMode {
	em, err := cbor.EncOptions{Sort: cbor.SortCoreDeterministic}.EncMode()
	if err != nil {
		panic(err)
	}
	return em
}()

// encode returns the CBOR of v, map keys sorted.
func encode(t testing.TB, v any) []byte {
	t.Helper()
	b, err := encMode.Marshal(v)
	require.NoError(t, err)
	return b
}

// ask asks ref's method. payload is sent as is when it is a []byte, as no
// payload when it is nil, and as its CBOR otherwise.
func ask(t testing.TB, h *host.Host, ref, method string, payload any) ([]byte, error) {
	t.Helper()
	r, err := abi.ParseRef(ref)
	require.NoError(t, err)
	var body []byte
	switch p := payload.(type) {
	case nil:
	case []byte:
		body = p
	default:
		body = encode(t, p)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	return h.Ask(ctx, r, method, body)
}

// mustAsk asks and decodes the reply, a map with text keys.
func mustAsk(t testing.TB, h *host.Host, ref, method string, payload any) map[string]cbor.RawMessage {
	t.Helper()
	reply, err := ask(t, h, ref, method, payload)
	require.NoError(t, err, "%s %s", ref, method)
	return fields(t, reply)
}

func fields(t testing.TB, reply []byte) map[string]cbor.RawMessage {
	t.Helper()
	m := map[string]cbor.RawMessage{}
	require.NoError(t, cbor.Unmarshal(reply, &m), "the reply %x is not a map", reply)
	return m
}

// requireEmpty asks and requires the reply {}.
func requireEmpty(t testing.TB, h *host.Host, ref, method string, payload any) {
	t.Helper()
	reply, err := ask(t, h, ref, method, payload)
	require.NoError(t, err, "%s %s", ref, method)
	require.Equal(t, []byte{0xa0}, reply, "%s %s must answer {}", ref, method)
}

// getValue returns the encoding of the value stored under key.
func getValue(t testing.TB, h *host.Host, ref, key string) []byte {
	t.Helper()
	reply := mustAsk(t, h, ref, "get", M{"key": key})
	v, ok := reply["value"]
	require.True(t, ok, "%s has no value under %q", ref, key)
	return v
}

func text(t testing.TB, m map[string]cbor.RawMessage, key string) string {
	t.Helper()
	raw, ok := m[key]
	require.True(t, ok, "the reply has no %q", key)
	var s string
	require.NoError(t, cbor.Unmarshal(raw, &s), "%q is not a text", key)
	return s
}

func requireCode(t testing.TB, err error, code string) *abi.Error {
	t.Helper()
	var e *abi.Error
	require.ErrorAs(t, err, &e, "want an error with code %s", code)
	require.Equal(t, code, e.Code, "the error: %v", err)
	return e
}

func requireError(t testing.TB, err error, code, message string) {
	t.Helper()
	e := requireCode(t, err, code)
	require.Equal(t, message, e.Message)
}

// recorder is a slog.Handler that keeps every record, with its attributes
// flattened to strings, for the log scenario.
type recorder struct {
	mu      sync.Mutex
	records []record
	attrs   []slog.Attr // of a handler made by WithAttrs
	parent  *recorder   // where records go; nil for the root
}

type record struct {
	level   slog.Level
	message string
	attrs   map[string]string
}

func (r *recorder) root() *recorder {
	if r.parent != nil {
		return r.parent
	}
	return r
}

func (r *recorder) Enabled(context.Context, slog.Level) bool { return true }

func (r *recorder) Handle(_ context.Context, rec slog.Record) error {
	attrs := map[string]string{}
	for _, a := range r.attrs {
		attrs[a.Key] = a.Value.String()
	}
	rec.Attrs(func(a slog.Attr) bool {
		attrs[a.Key] = a.Value.String()
		return true
	})
	root := r.root()
	root.mu.Lock()
	defer root.mu.Unlock()
	root.records = append(root.records, record{level: rec.Level, message: rec.Message, attrs: attrs})
	return nil
}

func (r *recorder) WithAttrs(attrs []slog.Attr) slog.Handler {
	return &recorder{attrs: append(slices.Clip(r.attrs), attrs...), parent: r.root()}
}

// WithGroup is not needed by the host's records; attributes keep their
// own keys.
func (r *recorder) WithGroup(string) slog.Handler { return r }

// dump logs the records at level or above, to explain a failure.
func (r *recorder) dump(t testing.TB, level slog.Level) {
	root := r.root()
	root.mu.Lock()
	defer root.mu.Unlock()
	for _, rec := range root.records {
		if rec.level >= level {
			t.Logf("host log: %s %s %v", rec.level, rec.message, rec.attrs)
		}
	}
}

// find returns the record with the message.
func (r *recorder) find(message string) (record, bool) {
	root := r.root()
	root.mu.Lock()
	defer root.mu.Unlock()
	for _, rec := range root.records {
		if rec.message == message {
			return rec, true
		}
	}
	return record{}, false
}
