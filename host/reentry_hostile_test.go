package host_test

import (
	"bytes"
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/wactor/wactor/abi"
	"github.com/wactor/wactor/host"
	"github.com/wactor/wactor/scheduler"
	"github.com/wactor/wactor/storage"
	"github.com/wactor/wactor/storage/memstore"
)

// The hostile reentrant guests below are written in WebAssembly text and
// built with wabt's wat2wasm: they speak the raw ABI, so they can break it
// exactly where the host re-enters them. Each is one template (evilGuest)
// with the attack spliced in.
//
// Memory: the ask argument at askAt, the success Reply {} at okAt, the
// other arguments at argAt; input and reply buffers come from a bump
// allocator ($fresh) above heapAt that never frees. $depth counts the
// calls of wactor_handle in progress; $outerIn is the input buffer of the
// outermost one.
const (
	okAt   = 1024
	argAt  = 2048 // up to 1 MiB - 2 KiB
	askAt  = 1 << 20
	heapAt = 3 << 20 // above the data, the ask's payload up to the message limit
)

// evil is one hostile reentrant guest: WAT fragments spliced into the
// template. Each of handle and nested leaves the packed reply (i64) on the
// stack; alloc and nestedAlloc leave the buffer's pointer (i32), with the
// requested size in $n.
type evil struct {
	ask         abi.Call // what the outermost call asks, then every nested call that relays
	args        []byte   // data at argAt
	reentrant   string   // the body of wactor_reentrant; "" for the honest one
	alloc       string   // wactor_alloc outside any handle; "" for $fresh
	nestedAlloc string   // wactor_alloc while a handle runs; "" for $fresh
	outer       string   // the outermost handle; "" for relay
	nested      string   // a nested handle; "" for ok
}

// okReply packs the success reply's pointer and length.
var okReply = func() string {
	ok := (&abi.Reply{Payload: []byte{0xa0}}).AppendTo(nil)
	return fmt.Sprintf("(i64.const %d)", int64(okAt)<<32|int64(len(ok)))
}()

// relay asks, then answers with the ask's status byte followed by its
// result, as a byte string: the replies of a chain of relays, nested in
// each other, spell out how deep it went and how it ended.
const relay = `(call $relay)`

func (e evil) wat() string {
	or := func(s, def string) string {
		if s == "" {
			return def
		}
		return s
	}
	askArg := e.ask.AppendTo(nil)
	ok := (&abi.Reply{Payload: []byte{0xa0}}).AppendTo(nil)
	return `(module
  (import "wactor" "ask" (func $ask (param i32 i32) (result i64)))
  (import "wactor" "tell" (func $tell (param i32 i32) (result i64)))
  (import "wactor" "state_set" (func $state_set (param i32 i32) (result i64)))
  (import "wactor" "timer_set" (func $timer_set (param i32 i32) (result i64)))
  (import "wactor" "reminder_set" (func $reminder_set (param i32 i32) (result i64)))
  (import "wactor" "deactivate" (func $deactivate (param i32 i32) (result i64)))
  (import "wactor" "forward" (func $forward (param i32 i32) (result i64)))
  (import "wactor" "result" (func $result (param i32 i32) (result i32)))
  (memory (export "memory") ` + fmt.Sprint(heapAt>>16+1) + `)
  (global $depth (mut i32) (i32.const 0))
  (global $outerIn (mut i32) (i32.const 0))
  (global $i (mut i32) (i32.const 0))
  (global $bump (mut i32) (i32.const ` + fmt.Sprint(heapAt) + `))
  (data (i32.const ` + fmt.Sprint(askAt) + `) "` + watBytes(askArg) + `")
  (data (i32.const ` + fmt.Sprint(okAt) + `) "` + watBytes(ok) + `")
  (data (i32.const ` + fmt.Sprint(argAt) + `) "` + watBytes(e.args) + `")
  (func $fresh (param $n i32) (result i32)
    (local $p i32)
    (local.set $p (global.get $bump))
    (global.set $bump (i32.add (global.get $bump) (local.get $n)))
    (block $done (loop $grow
      (br_if $done (i32.le_u (global.get $bump) (i32.shl (memory.size) (i32.const 16))))
      (if (i32.eq (memory.grow (i32.const 16)) (i32.const -1)) (then unreachable))
      (br $grow)))
    (local.get $p))
  (func $relay (result i64)
    (local $s i64) (local $len i32) (local $buf i32)
    (local.set $s (call $ask (i32.const ` + fmt.Sprint(askAt) + `) (i32.const ` + fmt.Sprint(len(askArg)) + `)))
    (local.set $len (i32.wrap_i64 (i64.and (local.get $s) (i64.const 0xffffffff))))
    (local.set $buf (call $fresh (i32.add (local.get $len) (i32.const 8))))
    ;; {1: bytes(status, result...)}, the byte string's length in 4 bytes
    (i32.store8 (local.get $buf) (i32.const 0xa1))
    (i32.store8 offset=1 (local.get $buf) (i32.const 0x01))
    (i32.store8 offset=2 (local.get $buf) (i32.const 0x5a))
    (i32.store8 offset=3 (local.get $buf) (i32.shr_u (i32.add (local.get $len) (i32.const 1)) (i32.const 24)))
    (i32.store8 offset=4 (local.get $buf) (i32.shr_u (i32.add (local.get $len) (i32.const 1)) (i32.const 16)))
    (i32.store8 offset=5 (local.get $buf) (i32.shr_u (i32.add (local.get $len) (i32.const 1)) (i32.const 8)))
    (i32.store8 offset=6 (local.get $buf) (i32.add (local.get $len) (i32.const 1)))
    (i32.store8 offset=7 (local.get $buf) (i32.wrap_i64 (i64.shr_u (local.get $s) (i64.const 32))))
    (drop (call $result (i32.add (local.get $buf) (i32.const 8)) (local.get $len)))
    (i64.or (i64.shl (i64.extend_i32_u (local.get $buf)) (i64.const 32))
            (i64.extend_i32_u (i32.add (local.get $len) (i32.const 8)))))
  (func (export "wactor_abi_version") (result i32) (i32.const 1))
  ` + or(e.reentrant, `(func (export "wactor_reentrant") (result i32) (i32.const 1))`) + `
  (func (export "wactor_alloc") (param $n i32) (result i32)
    (if (result i32) (i32.eqz (global.get $depth))
      (then ` + or(e.alloc, `(global.set $outerIn (call $fresh (local.get $n))) (global.get $outerIn)`) + `)
      (else ` + or(e.nestedAlloc, `(call $fresh (local.get $n))`) + `)))
  (func (export "wactor_handle") (param $p i32) (param $n i32) (result i64)
    (local $r i64)
    ;; the activate and deactivate hooks (kind, the third byte, not 0) do nothing
    (if (i32.load8_u offset=2 (local.get $p)) (then (return ` + okReply + `)))
    (global.set $depth (i32.add (global.get $depth) (i32.const 1)))
    (if (i32.gt_u (global.get $depth) (i32.const 1))
      (then ` + or(e.nested, okReply) + ` (local.set $r))
      (else ` + or(e.outer, relay) + ` (local.set $r)))
    (global.set $depth (i32.sub (global.get $depth) (i32.const 1)))
    (local.get $r)))
`
}

// watBytes writes b as the contents of a WAT string.
func watBytes(b []byte) string {
	var s strings.Builder
	for _, c := range b {
		fmt.Fprintf(&s, `\%02x`, c)
	}
	return s.String()
}

// wat builds a module from WebAssembly text with wabt's wat2wasm.
func wat(t *testing.T, text string) []byte {
	t.Helper()
	tool, err := exec.LookPath("wat2wasm")
	require.NoError(t, err, "the hostile reentrant guests are built with wabt's wat2wasm (Debian package wabt)")
	dir := t.TempDir()
	src, out := filepath.Join(dir, "m.wat"), filepath.Join(dir, "m.wasm")
	require.NoError(t, os.WriteFile(src, []byte(text), 0o600))
	msg, err := exec.Command(tool, "-o", out, src).CombinedOutput()
	require.NoError(t, err, "wat2wasm: %s", msg)
	wasm, err := os.ReadFile(out)
	require.NoError(t, err)
	return wasm
}

// evilHost deploys each guest as a reentrant type of its name (turn limit
// turnLimit), and the counter, whose answers show the host stays up.
func evilHost(t *testing.T, turnLimit time.Duration, guests map[string]evil) (*host.Host, storage.Store) {
	t.Helper()
	return evilHostDispatch(t, scheduler.Goroutines, turnLimit, guests)
}

// evilHostDispatch is evilHost with dispatch d.
func evilHostDispatch(t *testing.T, d scheduler.Dispatch, turnLimit time.Duration, guests map[string]evil) (*host.Host, storage.Store) {
	t.Helper()
	store := memstore.New()
	types := []host.TypeConfig{goType(t, "counter")}
	for name, g := range guests {
		types = append(types, host.TypeConfig{Name: name, Module: wat(t, g.wat()), Reentrant: true,
			TurnTimeout: turnLimit, AskTimeout: 10 * time.Second})
	}
	return newHostConfig(t, host.Config{Store: store, Dispatch: d}, types...), store
}

// selfAsk is the ask of ref to itself.
func selfAsk(ref string, payload []byte) abi.Call {
	return abi.Call{Target: ref, Method: "m", Payload: payload}
}

// askLen is the length of the argument of ref's ask of itself.
func askLen(ref string) int {
	c := selfAsk(ref, nil)
	return len(c.AppendTo(nil))
}

// stateSetArg is the argument of a state_set of key.
func stateSetArg(key string) []byte {
	return (&abi.StateOp{Key: key, Value: []byte{0x01}}).AppendTo(nil)
}

// setAt calls the import imp with the argument at argAt+off, n bytes, and
// drops its result.
func setAt(imp string, off, n int) string {
	return fmt.Sprintf("(drop (call $%s (i32.const %d) (i32.const %d)))", imp, argAt+off, n)
}

// untouched checks that nothing of the actor's failed turns committed and
// that it answers again, with a fresh instance.
func untouched(t *testing.T, h *host.Host, store storage.Store, ref string) {
	t.Helper()
	assert.Empty(t, committed(t, store, ref), "state of the failed turn")
	msgs, err := store.Outbox(context.Background())
	require.NoError(t, err)
	assert.Empty(t, msgs, "tells of the failed turn")
	rems, err := store.DueReminders(context.Background(), time.Now().Add(time.Hour), 10)
	require.NoError(t, err)
	assert.Empty(t, rems, "reminders of the failed turn")
	mustCall(t, h, "counter/"+strings.ReplaceAll(ref, "/", "-"), "add", M{"n": 1})
}

// A module that says it can be re-entered, then breaks the ABI where the
// host re-enters it: each attack fails the outer ask with its code, the
// instance is dropped (the write the outer turn made before its ask does
// not commit), and the next ask gets a fresh instance.
func TestReentrantHostileNestedGuest(t *testing.T) {
	set := stateSetArg("outer")
	withSet := func(e evil, ref string) evil {
		e.ask = selfAsk(ref, nil)
		e.args = set
		e.outer = setAt("state_set", 0, len(set)) + " " + relay
		return e
	}
	cases := []struct {
		name string
		g    evil
		code string
		says string
	}{
		{"alloc_traps", evil{nestedAlloc: `unreachable`}, abi.CodeTrapped, "trapped in wactor_alloc"},
		{"alloc_out_of_bounds", evil{nestedAlloc: `(i32.const -16)`}, abi.CodeBadReply, "wactor_alloc returned 4294967280, which has no room"},
		{"alloc_calls_an_import", evil{nestedAlloc: setAt("state_set", 0, len(set)) + ` (call $fresh (local.get $n))`},
			abi.CodeBadReply, "host function state_set called from wactor_alloc"},
		{"alloc_asks", evil{nestedAlloc: fmt.Sprintf(`(drop (call $ask (i32.const %d) (i32.const %d))) (call $fresh (local.get $n))`, askAt, askLen("alloc-asks/x"))},
			abi.CodeBadReply, "host function ask called from wactor_alloc"},
		// wactor_alloc of a turn of its own asks the actor itself: were it
		// let, the ask would nest, and the host would hand the turn the
		// nested request's bytes instead of its own.
		{"top_alloc_asks", evil{alloc: fmt.Sprintf(`(drop (call $ask (i32.const %d) (i32.const %d))) (call $fresh (local.get $n))`, askAt, askLen("top-alloc-asks/x"))},
			abi.CodeBadReply, "host function ask called from wactor_alloc"},
		{"reply_out_of_bounds", evil{nested: fmt.Sprintf(`(i64.const %d)`, -(int64(16)<<32)+16)}, abi.CodeBadReply, "returned a reply at 4294967280+16, outside its memory"},
		{"reply_length_out_of_bounds", evil{nested: fmt.Sprintf(`(i64.const %d)`, int64(okAt)<<32|0x7fff0000)}, abi.CodeTooLarge, "is over the limit"},
		{"reply_malformed", evil{nested: fmt.Sprintf(`(i64.const %d)`, int64(argAt)<<32|3)}, abi.CodeBadReply, "returned a malformed reply"},
	}
	guests := map[string]evil{}
	for _, c := range cases {
		guests[strings.ReplaceAll(c.name, "_", "-")] = withSet(c.g, strings.ReplaceAll(c.name, "_", "-")+"/x")
	}
	h, store := evilHost(t, 2*time.Second, guests)
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			ref := strings.ReplaceAll(c.name, "_", "-") + "/x"
			start := time.Now()
			got, err := reAsk(t, h, ref, "m", nil)
			assert.Less(t, time.Since(start), 5*time.Second)
			if c.code == abi.CodeTooLarge {
				// A reply too large to read fails the nested ask alone
				// (nothing of the guest is trusted: it is not read); the
				// outer turn goes on, and relays the error.
				require.NoError(t, err)
				st, e := relayed(t, got)
				require.Equal(t, []byte{byte(abi.StatusError)}, st)
				assert.Equal(t, c.code, e.Code)
				assert.Contains(t, e.Message, c.says)
				assert.Equal(t, map[string][]byte{"outer": {0x01}}, committed(t, store, ref))
				return
			}
			e := requireCode(t, err, c.code)
			t.Log(e)
			if c.g.alloc == "" {
				assert.Contains(t, e.Message, ref+".m: a nested call broke the instance: ")
			}
			assert.Contains(t, e.Message, c.says)
			untouched(t, h, store, ref)
			// A fresh instance answers: the nested call breaks it again,
			// the same way.
			_, err = reAsk(t, h, ref, "m", nil)
			requireCode(t, err, c.code)
			untouched(t, h, store, ref)
		})
	}
}

// relayed splits what a chain of relays answered: a relay's reply is its
// ask's status byte and result, and the result of an ask that succeeded
// is the next level's reply, so it reads: the status of each level's ask,
// up to the first that failed, then that ask's error.
func relayed(t *testing.T, got []byte) ([]byte, *abi.Error) {
	t.Helper()
	i := 0
	for i < len(got) && got[i] == byte(abi.StatusOK) {
		i++
	}
	require.Less(t, i, len(got), "no level of the relay failed: %x", got)
	e, err := abi.DecodeError(got[i+1:])
	require.NoError(t, err, "the failed level's error")
	return got[:i+1], e
}

// A module whose wactor_reentrant is not what it says: the deploy is
// refused, at once, saying why, and the host stays up.
func TestReentrantHostileDeclaration(t *testing.T) {
	h := memHost(t)
	ctx := context.Background()
	for _, c := range []struct{ name, export, says string }{
		{"returns_2", `(func (export "wactor_reentrant") (result i32) (i32.const 2))`, "wactor_reentrant returned 2, not 1: it cannot be re-entered"},
		{"wrong_signature", `(func (export "wactor_reentrant") (param i32) (result i32) (i32.const 1))`, "export wactor_reentrant has signature (i32) -> (i32), want () -> (i32)"},
		{"returns_i64", `(func (export "wactor_reentrant") (result i64) (i64.const 1))`, "export wactor_reentrant has signature () -> (i64), want () -> (i32)"},
		{"traps", `(func (export "wactor_reentrant") (result i32) unreachable)`, "calling wactor_reentrant"},
		{"loops_forever", `(func (export "wactor_reentrant") (result i32) (loop $l (br $l)) (i32.const 1))`, "wactor_reentrant"},
		{"calls_an_import", `(func (export "wactor_reentrant") (result i32) (drop (call $deactivate (i32.const 0) (i32.const 0))) (i32.const 1))`, "called outside a turn"},
		{"not_a_function", `(global (export "wactor_reentrant") i32 (i32.const 1))`, "exports no wactor_reentrant"},
	} {
		t.Run(c.name, func(t *testing.T) {
			start := time.Now()
			err := h.Deploy(ctx, host.TypeConfig{Name: "decl", Module: wat(t, evil{reentrant: c.export}.wat()), Reentrant: true})
			require.Error(t, err)
			t.Log(err)
			assert.Contains(t, err.Error(), c.says)
			assert.Less(t, time.Since(start), 30*time.Second, "the deploy is bounded")
		})
	}
	// The honest one deploys.
	require.NoError(t, h.Deploy(ctx, host.TypeConfig{Name: "decl", Module: wat(t, evil{}.wat()), Reentrant: true}))
}

// Recursion bombs: an actor that asks itself at every level, and two that
// ask each other, with a large payload at each level, nest as deep as the
// limit allows and no deeper; the innermost ask gets deadlock saying so;
// the host's goroutines stay bounded; and the chain can be run again and
// again on the same instance.
func TestReentrantHostileRecursionBomb(t *testing.T) {
	for name, d := range reDispatches {
		t.Run(name, func(t *testing.T) { recursionBomb(t, d) })
	}
}

func recursionBomb(t *testing.T, d scheduler.Dispatch) {
	big := bytes.Repeat([]byte{0x5a}, 512<<10) // half the message limit
	payload := abi.AppendBytes(nil, big)
	h, store := evilHostDispatch(t, d, 5*time.Second, map[string]evil{
		"self": {ask: selfAsk("self/x", payload), nested: relay},
		"ping": {ask: abi.Call{Target: "pong/x", Method: "m", Payload: payload}, nested: relay},
		"pong": {ask: abi.Call{Target: "ping/x", Method: "m", Payload: payload}, nested: relay},
	})
	for _, c := range []struct {
		ref    string
		levels int // nested levels, and the turn they nest in
	}{
		{"self/x", abi.MaxNesting + 1},
		{"ping/x", 2*abi.MaxNesting + 2},
	} {
		t.Run(c.ref, func(t *testing.T) {
			before := runtime.NumGoroutine()
			for round := range 3 {
				got, err := reAsk(t, h, c.ref, "m", payload)
				require.NoError(t, err, "round %d", round)
				st, e := relayed(t, got)
				assert.Equal(t, append(make([]byte, c.levels-1), byte(abi.StatusError)), st, "the status of each level's ask")
				assert.Equal(t, abi.CodeDeadlock, e.Code)
				assert.Contains(t, e.Message, "over the limit of 16")
				assert.Less(t, runtime.NumGoroutine(), before+20, "goroutines held after round %d", round)
			}
			assert.Empty(t, committed(t, store, c.ref))
		})
	}
}

// argBuf lays out the data at argAt: each add returns the WAT that calls
// an import with the argument it appended.
type argBuf struct{ b []byte }

func (a *argBuf) add(imp string, arg []byte) string {
	off := len(a.b)
	a.b = append(a.b, arg...)
	return fmt.Sprintf("(call $%s (i32.const %d) (i32.const %d))", imp, argAt+off, len(arg))
}

// reply appends a Reply envelope and returns the WAT of its packed pointer.
func (a *argBuf) reply(y abi.Reply) string {
	off := len(a.b)
	a.b = y.AppendTo(a.b)
	return fmt.Sprintf("(i64.const %d)", int64(argAt+off)<<32|int64(len(a.b)-off))
}

// The nested call is part of the waiting turn's transaction: whatever it
// did (state, a tell, a timer, a reminder, deactivate) is dropped when the
// waiting turn then traps, overruns its execution limit or answers with an
// error; the instance is replaced where it broke, and other actors answer
// meanwhile.
func TestReentrantHostileNestedEffectsDoNotEscape(t *testing.T) {
	var args argBuf
	outerSet := args.add("state_set", stateSetArg("outer"))
	nested := "(drop " + args.add("state_set", stateSetArg("nested")) + ")" +
		"(drop " + args.add("tell", (&abi.Call{Target: "counter/told", Method: "add", Payload: cborOf(t, M{"n": 1})}).AppendTo(nil)) + ")" +
		"(drop " + args.add("timer_set", (&abi.Timer{Name: "t", DueMS: 1, Method: "m"}).AppendTo(nil)) + ")" +
		"(drop " + args.add("reminder_set", (&abi.Reminder{Name: "r", InMS: 1, Method: "m"}).AppendTo(nil)) + ")" +
		"(drop " + args.add("deactivate", nil) + ")" + okReply
	refusal := args.reply(abi.Reply{Code: "changed_my_mind", Message: "the outer turn refuses"})
	tails := map[string]struct {
		tail, code string
	}{
		"trap":   {"unreachable", abi.CodeTrapped},
		"spin":   {"(loop $l (br $l)) unreachable", abi.CodeTurnTimeout},
		"refuse": {refusal, "changed_my_mind"},
	}
	guests := map[string]evil{}
	for name, c := range tails {
		ref := "txn-" + name + "/x"
		guests["txn-"+name] = evil{ask: selfAsk(ref, nil), args: args.b, nested: nested,
			outer: "(drop " + outerSet + ") (drop (call $relay)) " + c.tail}
	}
	h, store := evilHost(t, 500*time.Millisecond, guests)
	for name, c := range tails {
		t.Run(name, func(t *testing.T) {
			ref := "txn-" + name + "/x"
			done := make(chan struct{})
			go func() { // another actor answers meanwhile
				defer close(done)
				mustCall(t, h, "counter/meanwhile-"+name, "add", M{"n": 1})
			}()
			start := time.Now()
			_, err := reAsk(t, h, ref, "m", nil)
			requireCode(t, err, c.code)
			assert.Less(t, time.Since(start), 5*time.Second)
			<-done
			time.Sleep(50 * time.Millisecond) // the timer and reminder were due in 1 ms
			h.RunUntilIdle()
			untouched(t, h, store, ref)
			assert.NotContains(t, h.Activations(), abi.Ref{Type: "counter", ID: "told"}, "the nested tell was sent")
		})
	}
}

// Limits that count a turn's buffered effects count the whole transaction:
// a nested call starts from what the waiting turn buffered, so it cannot
// be used to go past them. The waiting turn makes all but one of the
// allowed timer changes (or tells, or reminder changes), then asks
// itself; the nested call makes two, and the second is refused. Without
// the waiting turn's, both are taken.
func TestReentrantHostileLimitsCountTheTransaction(t *testing.T) {
	type limit struct {
		max int
		arg func(a *argBuf) string
	}
	limits := map[string]limit{
		"timers": {abi.MaxTimerOps, func(a *argBuf) string {
			return a.add("timer_set", (&abi.Timer{Name: "t", DueMS: 3_600_000, Method: "m"}).AppendTo(nil))
		}},
		"tells": {abi.MaxSendsPerTurn, func(a *argBuf) string {
			return a.add("tell", (&abi.Call{Target: "counter/sink", Method: "add", Payload: cborOf(t, M{"n": 1})}).AppendTo(nil))
		}},
		// Reminder ops count distinct names: op $i sets reminder r<$i>.
		"reminders": {abi.MaxReminderOps, func(a *argBuf) string {
			base, size := len(a.b), 0
			for i := range abi.MaxReminderOps + 1 {
				arg := (&abi.Reminder{Name: fmt.Sprintf("r%04d", i), InMS: 3_600_000, Method: "m"}).AppendTo(nil)
				size = len(arg)
				a.b = append(a.b, arg...)
			}
			return fmt.Sprintf("(call $reminder_set (i32.add (i32.const %d) (i32.mul (global.get $i) (i32.const %d))) (i32.const %d))",
				argAt+base, size, size)
		}},
	}
	guests := map[string]evil{}
	for name, l := range limits {
		for _, before := range []int{0, l.max - 1} {
			var args argBuf
			op := l.arg(&args)
			refused := args.reply(abi.Reply{Code: "nested_refused"})
			taken := args.reply(abi.Reply{Code: "nested_taken"})
			heldAt := args.reply(abi.Reply{Code: "limit_held"})
			typ := fmt.Sprintf("lim-%s-%d", name, before)
			// Both outcomes answer with an error, so the turn commits nothing.
			guests[typ] = evil{ask: selfAsk(typ+"/x", nil), args: args.b,
				outer: fmt.Sprintf(`(global.set $i (i32.const 0))
					(block $done (loop $l
						(br_if $done (i32.ge_u (global.get $i) (i32.const %d)))
						(drop %s)
						(global.set $i (i32.add (global.get $i) (i32.const 1)))
						(br $l)))
					(if (result i64) (i64.eq (i64.shr_u (call $ask (i32.const %d) (i32.const %d)) (i64.const 32)) (i64.const 2))
						(then %s) (else %s))`, before, op, askAt, askLen(typ+"/x"), refused, taken),
				// The outer turn's loop left $i at before: the nested
				// call's two ops are ops before and before+1.
				nested: fmt.Sprintf(`(drop %s)
					(global.set $i (i32.add (global.get $i) (i32.const 1)))
					(if (result i64) (i64.eq (i64.shr_u %s (i64.const 32)) (i64.const 2)) (then %s) (else %s))`, op, op, heldAt, okReply),
			}
		}
	}
	h, store := evilHost(t, 5*time.Second, guests)
	for name, l := range limits {
		t.Run(name, func(t *testing.T) {
			_, err := reAsk(t, h, fmt.Sprintf("lim-%s-0/x", name), "m", nil)
			requireCode(t, err, "nested_taken")
			_, err = reAsk(t, h, fmt.Sprintf("lim-%s-%d/x", name, l.max-1), "m", nil)
			requireCode(t, err, "nested_refused")
			msgs, err := store.Outbox(context.Background())
			require.NoError(t, err)
			assert.Empty(t, msgs)
		})
	}
}

// Timeouts: a nested call that spins forever is stopped at its own
// execution limit, even when the ask it answers gave up long before; the
// turn it nests in then fails with the same code, commits nothing, and the
// host answers others meanwhile.
func TestReentrantHostileNestedSpinPastTheAskTimeout(t *testing.T) {
	set := stateSetArg("outer")
	ask := selfAsk("slow/x", nil)
	ask.TimeoutMS = 50 // the ask gives up long before the nested call's limit
	h, store := evilHost(t, 600*time.Millisecond, map[string]evil{
		"slow": {ask: ask, args: set, outer: setAt("state_set", 0, len(set)) + " " + relay, nested: "(loop $l (br $l)) unreachable"},
	})
	done := make(chan error, 1)
	start := time.Now()
	go func() {
		_, err := reAsk(t, h, "slow/x", "m", nil)
		done <- err
	}()
	for i := 1; i <= 3; i++ { // the counter answers while the guest spins
		assert.EqualValues(t, M{"n": uint64(i)}, mustCall(t, h, "counter/meanwhile", "add", M{"n": 1}))
	}
	e := requireCode(t, <-done, abi.CodeTurnTimeout)
	assert.Contains(t, e.Message, "slow/x.m: a nested call broke the instance: slow/x.m ran past its execution limit of 600ms")
	took := time.Since(start)
	assert.GreaterOrEqual(t, took, 600*time.Millisecond, "the nested call ran to its own limit")
	assert.Less(t, took, 5*time.Second)
	untouched(t, h, store, "slow/x")

	// The client's own deadline passing while the nested call spins: the
	// client hears timeout at its deadline, the turn still fails, and
	// nothing commits.
	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	_, err := h.Ask(ctx, abi.Ref{Type: "slow", ID: "x"}, "m", nil)
	requireCode(t, err, abi.CodeTimeout)
	time.Sleep(time.Second) // past the nested call's limit
	h.RunUntilIdle()
	untouched(t, h, store, "slow/x")
}

// A chain entry names a waiting turn of a reentrant actor with a random
// token that only the nodes on the chain see (no guest does: a Request
// carries no chain). An ask from another node with a made-up token, no
// token, or the right actor but a turn that is not waiting, does not nest:
// it fails with deadlock at once, and nothing it would have done runs in
// the waiting turn. (Asks between nodes come only over the cluster's
// transport, from its members: docs/cluster.md, Security.)
func TestReentrantHostileForgedChainToken(t *testing.T) {
	n := &fakeNet{hosts: map[string]*host.Host{}, owner: func(abi.Ref) string { return "a" }, asks: map[string]int{}}
	store := memstore.New()
	outer, forged := stateSetArg("outer"), stateSetArg("forged")
	var args argBuf
	setOuter := args.add("state_set", outer)
	setForged := args.add("state_set", forged)
	wait := abi.Call{Target: "sleeper/x", Method: "m", TimeoutMS: 5000}
	victim := evil{ask: wait, args: args.b, outer: "(drop " + setOuter + ") " + relay, nested: "(drop " + setForged + ") " + okReply}
	sleeper := evil{outer: "(loop $l (br $l)) unreachable"}
	a := newHostConfig(t, host.Config{Store: store, Node: "a", LeaseTTL: 2 * time.Second, Remote: fakeRemote{net: n, self: "a"}},
		host.TypeConfig{Name: "victim", Module: wat(t, victim.wat()), Reentrant: true, AskTimeout: 10 * time.Second},
		host.TypeConfig{Name: "sleeper", Module: wat(t, sleeper.wat()), TurnTimeout: time.Second})
	n.mu.Lock()
	n.hosts["a"] = a
	n.mu.Unlock()

	done := make(chan error, 1)
	go func() {
		got, err := reAsk(t, a, "victim/x", "m", nil)
		if err == nil {
			st, e := relayed(t, got)
			assert.Equal(t, []byte{byte(abi.StatusError)}, st)
			assert.Equal(t, abi.CodeTurnTimeout, e.Code, "the sleeper's turn")
		}
		done <- err
	}()
	require.Eventually(t, func() bool {
		return slices.Contains(a.Activations(), abi.Ref{Type: "sleeper", ID: "x"})
	}, 10*time.Second, time.Millisecond, "the victim's turn waits on the sleeper")
	tokens := []string{"", "0", "1", "victim"}
	for range 200 {
		tokens = append(tokens, strconv.FormatUint(rand.Uint64(), 36))
	}
	for _, token := range tokens {
		entry := "victim/x"
		if token != "" {
			entry += "\x00" + token
		}
		start := time.Now()
		_, err := a.ServeAsk(context.Background(), &host.RemoteAsk{Target: abi.Ref{Type: "victim", ID: "x"}, Method: "m",
			Sender: "sleeper/x", ID: "forged-" + token, Chain: []string{entry, "sleeper/x"}})
		e := requireCode(t, err, abi.CodeDeadlock)
		assert.Contains(t, e.Message, "ask cycle: victim/x -> sleeper/x -> victim/x")
		assert.Less(t, time.Since(start), time.Second, "the forged ask waited")
	}
	require.NoError(t, <-done)
	assert.Equal(t, map[string][]byte{"outer": {0x01}}, committed(t, store, "victim/x"), "only the waiting turn's own write")
}

// A nested call may not forward its ask: forward answers it with
// bad_request (the guest goes on), and the turn it nests in goes on.
func TestReentrantHostileNestedForward(t *testing.T) {
	var args argBuf
	fwd := args.add("forward", (&abi.Call{Target: "counter/fwd", Method: "add", Payload: cborOf(t, M{"n": 1})}).AppendTo(nil))
	taken := args.reply(abi.Reply{Code: "forward_taken"})
	h, store := evilHost(t, 2*time.Second, map[string]evil{
		"fwd": {ask: selfAsk("fwd/x", nil), args: args.b,
			nested: fmt.Sprintf("(if (result i64) (i64.eq (i64.shr_u %s (i64.const 32)) (i64.const 2)) (then %s) (else %s))", fwd, okReply, taken)},
	})
	got, err := reAsk(t, h, "fwd/x", "m", nil)
	require.NoError(t, err)
	assert.Equal(t, []byte{byte(abi.StatusOK), 0xa0}, got, "the nested call saw forward refused, and answered")
	assert.NotContains(t, h.Activations(), abi.Ref{Type: "counter", ID: "fwd"}, "the forward went out")
	assert.Empty(t, committed(t, store, "fwd/x"))
}

// Closing the host while calls nest, one of them spinning, returns once
// the spin is stopped at its limit; the TestMain leak check holds.
func TestReentrantHostileCloseWhileNested(t *testing.T) {
	h, _ := evilHost(t, time.Second, map[string]evil{
		"deep": {ask: selfAsk("deep/x", nil), nested: "(if (result i64) (i32.lt_u (global.get $depth) (i32.const 8)) (then (call $relay)) (else (loop $l (br $l)) unreachable))"},
	})
	done := make(chan error, 1)
	go func() {
		_, err := reAsk(t, h, "deep/x", "m", nil)
		done <- err
	}()
	require.Eventually(t, func() bool { return len(h.Activations()) == 1 }, 10*time.Second, time.Millisecond)
	time.Sleep(100 * time.Millisecond) // nested 7 deep, spinning
	start := time.Now()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	require.NoError(t, h.Close(ctx))
	assert.Less(t, time.Since(start), 10*time.Second)
	err := <-done
	require.Error(t, err)
	t.Log(err)
	// Seven turns unwound, and the message gives the innermost reason once.
	assert.Equal(t, 1, strings.Count(err.Error(), "a nested call broke the instance"), "the error: %v", err)
}
