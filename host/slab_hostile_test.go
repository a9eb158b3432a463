package host_test

import (
	"bytes"
	"context"
	"encoding/binary"
	"fmt"
	"runtime"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/wactor/wactor/abi"
	"github.com/wactor/wactor/host"
	"github.com/wactor/wactor/storage/memstore"
)

// Hostile guests against the memories that share a slab (neighbouring
// activations' memories adjacent, with no guard between them; freed slots
// zeroed in place and reused) and against the turn deadline, now checked
// only where the fuel meter refuels. Each guest is one WAT module
// (slabGuest) whose behaviour in a turn is chosen by the first letter of
// the method.
//
// Memory: the replies at tmplAt (ok, then the report of an address), the
// input at inAt (at most 4 KiB). Everything else the guest may fill with
// the secret byte; a scan checks everything else for zeros.
const (
	tmplAt  = 1024
	inAt    = 4096
	inMax   = 4096
	secret  = 0x5a
	foreign = 0xa5
)

// slabReplies are the two replies of a slab guest: ok ({}) and the report
// of an address (a CBOR unsigned in 4 bytes), with the offset of those
// 4 bytes in it.
var slabReplies = func() (ok, report []byte, addrOff int) {
	ok = (&abi.Reply{Payload: []byte{0xa0}}).AppendTo(nil)
	report = (&abi.Reply{Payload: []byte{0x1a, 0xde, 0xad, 0xbe, 0xef}}).AppendTo(nil)
	addrOff = bytes.Index(report, []byte{0xde, 0xad, 0xbe, 0xef})
	return ok, report, addrOff
}

// notTrapped is the address an out-of-bounds attack reports when its
// access did not trap.
const notTrapped = 0xffffffff

// deepTree is the depth of the guest's deep recursion (R).
const deepTree = 3000

// slabGuest is a module of initPages pages (maximum maxPages, 0: none)
// whose turns grow it to growTo pages. tag makes modules of otherwise equal
// text different types of module.
func slabGuest(initPages, maxPages, growTo int, tag string) string {
	ok, report, addrOff := slabReplies()
	reportAt := tmplAt + len(ok)
	tmplEnd := reportAt + len(report)
	limits := fmt.Sprint(initPages)
	if maxPages > 0 {
		limits += " " + fmt.Sprint(maxPages)
	}
	okPacked := fmt.Sprintf("(i64.const %d)", int64(tmplAt)<<32|int64(len(ok)))
	return `(module
  (import "wactor" "deactivate" (func $deactivate (param i32 i32) (result i64)))
  (memory (export "memory") ` + limits + `)
  (global $maxIn (mut i32) (i32.const 0))
  (data (i32.const ` + fmt.Sprint(tmplAt) + `) "` + watBytes(ok) + watBytes(report) + `")
  (data $passive "` + tag + `-0123456789abcdef")
  (func (export "wactor_abi_version") (result i32) (i32.const 1))
  (func (export "wactor_alloc") (param $n i32) (result i32)
    (if (i32.gt_u (local.get $n) (i32.const ` + fmt.Sprint(inMax) + `)) (then unreachable))
    (if (i32.gt_u (local.get $n) (global.get $maxIn)) (then (global.set $maxIn (local.get $n))))
    (i32.const ` + fmt.Sprint(inAt) + `))
  ;; the report of address a
  (func $report (param $a i32) (result i64)
    (i32.store8 (i32.const ` + fmt.Sprint(reportAt+addrOff) + `) (i32.shr_u (local.get $a) (i32.const 24)))
    (i32.store8 (i32.const ` + fmt.Sprint(reportAt+addrOff+1) + `) (i32.shr_u (local.get $a) (i32.const 16)))
    (i32.store8 (i32.const ` + fmt.Sprint(reportAt+addrOff+2) + `) (i32.shr_u (local.get $a) (i32.const 8)))
    (i32.store8 (i32.const ` + fmt.Sprint(reportAt+addrOff+3) + `) (local.get $a))
    (i64.const ` + fmt.Sprint(int64(reportAt)<<32|int64(len(report))) + `))
  (func $end (result i32) (i32.shl (memory.size) (i32.const 16)))
  ;; whether address a is one the guest does not own: a template or input byte
  (func $skip (param $a i32) (result i32)
    (i32.or
      (i32.and (i32.ge_u (local.get $a) (i32.const ` + fmt.Sprint(tmplAt) + `)) (i32.lt_u (local.get $a) (i32.const ` + fmt.Sprint(tmplEnd) + `)))
      (i32.and (i32.ge_u (local.get $a) (i32.const ` + fmt.Sprint(inAt) + `)) (i32.lt_u (local.get $a) (i32.add (i32.const ` + fmt.Sprint(inAt) + `) (global.get $maxIn))))))
  ;; fills [from, to) with the secret, but for the templates and the input
  (func $fill (param $from i32) (param $to i32)
    (local $a i32)
    (local.set $a (local.get $from))
    (block $done (loop $next
      (br_if $done (i32.ge_u (local.get $a) (local.get $to)))
      (if (i32.eqz (call $skip (local.get $a))) (then (i32.store8 (local.get $a) (i32.const ` + fmt.Sprint(secret) + `))))
      (local.set $a (i32.add (local.get $a) (i32.const 1)))
      (br $next))))
  ;; the first address in [0, end) not skipped whose byte is not want, or -1
  (func $check (param $want i32) (result i32)
    (local $a i32) (local $end i32)
    (local.set $end (call $end))
    (block $done (loop $next
      (br_if $done (i32.ge_u (local.get $a) (local.get $end)))
      ;; eight bytes at once where none is skipped
      (if (i32.and (i32.le_u (i32.add (local.get $a) (i32.const 8)) (local.get $end))
          (i32.and
            (i32.eqz (call $skip (local.get $a)))
            (i32.eqz (call $skip (i32.add (local.get $a) (i32.const 7))))))
        (then
          (if (i64.eq (i64.load (local.get $a)) (i64.mul (i64.extend_i32_u (local.get $want)) (i64.const 0x0101010101010101)))
            (then (local.set $a (i32.add (local.get $a) (i32.const 8))) (br $next)))))
      (if (i32.eqz (call $skip (local.get $a)))
        (then (if (i32.ne (i32.load8_u (local.get $a)) (local.get $want)) (then (return (local.get $a))))))
      (local.set $a (i32.add (local.get $a) (i32.const 1)))
      (br $next)))
    (i32.const -1))
  ;; grows one page at a time to growTo pages, filling each page as it comes when fill
  (func $grow (param $fill i32)
    (if (local.get $fill) (then (call $fill (i32.const 0) (call $end))))
    (block $done (loop $next
      (br_if $done (i32.ge_u (memory.size) (i32.const ` + fmt.Sprint(growTo) + `)))
      (if (i32.eq (memory.grow (i32.const 1)) (i32.const -1)) (then unreachable))
      (if (local.get $fill) (then (call $fill (i32.sub (call $end) (i32.const 65536)) (call $end))))
      (br $next))))
  (func $scan (param $want i32) (result i64)
    (local $a i32)
    (local.set $a (call $check (local.get $want)))
    (if (result i64) (i32.eq (local.get $a) (i32.const -1))
      (then ` + okPacked + `)
      (else (call $report (local.get $a)))))
  ;; fills growTo pages with the word pattern (each word its address),
  ;; grows one page (out of the slot), checks the pattern, then grows to the
  ;; maximum and once more, which must fail
  (func $slotEdge (result i64)
    (local $a i32)
    (block $grown (loop $g
      (br_if $grown (i32.ge_u (memory.size) (i32.const ` + fmt.Sprint(growTo) + `)))
      (if (i32.eq (memory.grow (i32.const 1)) (i32.const -1)) (then unreachable))
      (br $g)))
    (local.set $a (i32.const 8192))
    (block $done (loop $next
      (br_if $done (i32.ge_u (local.get $a) (call $end)))
      (i32.store (local.get $a) (i32.xor (local.get $a) (i32.const 0x5a5a5a5a)))
      (local.set $a (i32.add (local.get $a) (i32.const 4)))
      (br $next)))
    (if (i32.eq (memory.grow (i32.const 1)) (i32.const -1)) (then unreachable))
    (local.set $a (i32.const 8192))
    (block $done (loop $next
      (br_if $done (i32.ge_u (local.get $a) (i32.const ` + fmt.Sprint(growTo<<16) + `)))
      (if (i32.ne (i32.load (local.get $a)) (i32.xor (local.get $a) (i32.const 0x5a5a5a5a)))
        (then (return (call $report (local.get $a)))))
      (local.set $a (i32.add (local.get $a) (i32.const 4)))
      (br $next)))
    ;; the page it grew into is zero
    (block $done (loop $next
      (br_if $done (i32.ge_u (local.get $a) (call $end)))
      (if (i32.load (local.get $a)) (then (return (call $report (local.get $a)))))
      (local.set $a (i32.add (local.get $a) (i32.const 4)))
      (br $next)))
    ;; grows until it cannot: reports the pages it got
    (block $full (loop $g
      (br_if $full (i32.eq (memory.grow (i32.const 1)) (i32.const -1)))
      (br $g)))
    (call $report (memory.size)))
  (func $spin (loop $l (br $l)))
  (func $fillForever
    (loop $l
      (memory.fill (i32.const 0) (i32.const 7) (call $end))
      (memory.copy (i32.const 0) (i32.const 1) (i32.sub (call $end) (i32.const 1)))
      (br $l)))
  ;; 2^depth calls and no loop
  (func $tree (param $d i32)
    (if (local.get $d) (then
      (call $tree (i32.sub (local.get $d) (i32.const 1)))
      (call $tree (i32.sub (local.get $d) (i32.const 1))))))
  (func (export "wactor_handle") (param $p i32) (param $n i32) (result i64)
    (local $m i32)
    (if (i32.load8_u offset=2 (local.get $p)) (then (return ` + okPacked + `)))
    (local.set $m (i32.load8_u offset=5 (local.get $p)))
    ;; o: nothing
    (if (i32.eq (local.get $m) (i32.const 0x6f)) (then (return ` + okPacked + `)))
    ;; s: grow, then every byte of the memory the guest owns is zero
    (if (i32.eq (local.get $m) (i32.const 0x73)) (then
      (call $grow (i32.const 0))
      (return (call $scan (i32.const 0)))))
    ;; v: every byte the guest owns is the secret
    (if (i32.eq (local.get $m) (i32.const 0x76)) (then (return (call $scan (i32.const ` + fmt.Sprint(secret) + `)))))
    ;; f, t, d: grow, filling with the secret; then end the turn, trap, or ask to be deactivated
    (if (i32.eq (local.get $m) (i32.const 0x66)) (then (call $grow (i32.const 1)) (return ` + okPacked + `)))
    (if (i32.eq (local.get $m) (i32.const 0x74)) (then (call $grow (i32.const 1)) unreachable))
    (if (i32.eq (local.get $m) (i32.const 0x64)) (then
      (call $grow (i32.const 1))
      (drop (call $deactivate (i32.const 0) (i32.const 0)))
      (return ` + okPacked + `)))
    ;; X: grow at once to the edge of the slot, then 17 pages past it,
    ;; filling all with the foreign byte; growth that fails is no error
    (if (i32.eq (local.get $m) (i32.const 0x58)) (then
      (drop (memory.grow (i32.sub (i32.const ` + fmt.Sprint(growTo) + `) (memory.size))))
      (memory.fill (i32.const 8192) (i32.const ` + fmt.Sprint(foreign) + `) (i32.sub (call $end) (i32.const 8192)))
      (drop (memory.grow (i32.const 17)))
      (memory.fill (i32.const 8192) (i32.const ` + fmt.Sprint(foreign) + `) (i32.sub (call $end) (i32.const 8192)))
      (return ` + okPacked + `)))
    ;; g: the slot's edge
    (if (i32.eq (local.get $m) (i32.const 0x67)) (then (return (call $slotEdge))))
    ;; S, W, T, R: run until stopped: a loop, bulk instructions over the
    ;; whole memory in a loop, 2^62 calls 62 deep, 2^deep calls deep deep
    (if (i32.eq (local.get $m) (i32.const 0x53)) (then (call $spin)))
    (if (i32.eq (local.get $m) (i32.const 0x57)) (then (call $grow (i32.const 0)) (call $fillForever)))
    (if (i32.eq (local.get $m) (i32.const 0x54)) (then (call $tree (i32.const 62))))
    (if (i32.eq (local.get $m) (i32.const 0x52)) (then (call $tree (i32.const ` + fmt.Sprint(deepTree) + `))))
    ;; A to M: grow, then an access past the end of the memory, which must trap
    (call $grow (i32.const 0))
    (block $attacked
      (if (i32.eq (local.get $m) (i32.const 0x41)) (then (drop (i32.load8_u (call $end))) (br $attacked)))
      (if (i32.eq (local.get $m) (i32.const 0x42)) (then (i32.store8 (call $end) (i32.const ` + fmt.Sprint(foreign) + `)) (br $attacked)))
      (if (i32.eq (local.get $m) (i32.const 0x43)) (then (i64.store (i32.sub (call $end) (i32.const 4)) (i64.const -1)) (br $attacked)))
      (if (i32.eq (local.get $m) (i32.const 0x44)) (then (i32.store8 offset=1048576 (i32.const 0) (i32.const ` + fmt.Sprint(foreign) + `)) (br $attacked)))
      (if (i32.eq (local.get $m) (i32.const 0x45)) (then (i64.store offset=4294967295 (i32.const -1) (i64.const -1)) (br $attacked)))
      (if (i32.eq (local.get $m) (i32.const 0x46)) (then (memory.fill (i32.sub (call $end) (i32.const 10)) (i32.const ` + fmt.Sprint(foreign) + `) (i32.const 20)) (br $attacked)))
      (if (i32.eq (local.get $m) (i32.const 0x47)) (then (memory.copy (i32.sub (call $end) (i32.const 10)) (i32.const 0) (i32.const 20)) (br $attacked)))
      (if (i32.eq (local.get $m) (i32.const 0x48)) (then (memory.copy (i32.const 0) (i32.sub (call $end) (i32.const 10)) (i32.const 20)) (br $attacked)))
      (if (i32.eq (local.get $m) (i32.const 0x49)) (then (memory.init $passive (i32.sub (call $end) (i32.const 2)) (i32.const 0) (i32.const 4)) (br $attacked)))
      (if (i32.eq (local.get $m) (i32.const 0x4a)) (then (memory.fill (i32.add (call $end) (i32.const 1)) (i32.const 0) (i32.const 0)) (br $attacked)))
      (if (i32.eq (local.get $m) (i32.const 0x4b)) (then (memory.fill (i32.const 0) (i32.const ` + fmt.Sprint(foreign) + `) (i32.add (call $end) (i32.const 1))) (br $attacked)))
      (if (i32.eq (local.get $m) (i32.const 0x4c)) (then (drop (i64.load offset=65536 (i32.sub (call $end) (i32.const 65536)))) (br $attacked)))
      (if (i32.eq (local.get $m) (i32.const 0x4d)) (then (memory.copy (i32.const 0) (i32.const 0) (i32.const -1)) (br $attacked)))
      (if (i32.eq (local.get $m) (i32.const 0x4e)) (then (memory.copy (i32.const 16) (i32.const 0) (i32.const -16)) (br $attacked)))
      (return ` + okPacked + `))
    (call $report (i32.const ` + fmt.Sprint(int64(notTrapped)) + `)))
)
`
}

// slabAsk asks ref to run method and returns the address its reply
// reports, -1 for ok.
func slabAsk(t *testing.T, h *host.Host, ref, method string) (int64, error) {
	t.Helper()
	r, err := abi.ParseRef(ref)
	require.NoError(t, err)
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
	defer cancel()
	reply, err := h.Ask(ctx, r, method, nil)
	if err != nil {
		return 0, err
	}
	if bytes.Equal(reply, []byte{0xa0}) {
		return -1, nil
	}
	require.Len(t, reply, 5, "reply %x", reply)
	return int64(binary.BigEndian.Uint32(reply[1:])), nil
}

// slabType is a type of a slab guest.
func slabType(t *testing.T, name string, initPages, maxPages, growTo int, cfg host.TypeConfig) host.TypeConfig {
	cfg.Name = name
	cfg.Module = wat(t, slabGuest(initPages, maxPages, growTo, name))
	if cfg.TurnTimeout == 0 {
		cfg.TurnTimeout = 10 * time.Second
	}
	return cfg
}

// A guest's secret does not outlive its activation: guests that fill the
// whole of their memories, in their slots and past them (after moving out),
// end in every way an activation ends (explicit deactivation, a trap, the
// idle timeout, eviction under the activation cap), more at once than the
// warm slots kept, and the next activations, of the same type and of
// another of the same initial size, see only zeros in every page they
// have and grow.
func TestSlabSecretsDoNotOutliveTheActivation(t *testing.T) {
	const (
		batch = 20 // more than the warm slots kept per slot size
		grown = 24 // pages: past the 1 MiB slot of a one-page memory
	)
	leak := slabType(t, "leak", 1, 0, grown, host.TypeConfig{IdleTimeout: 200 * time.Millisecond})
	inSlot := slabType(t, "inslot", 1, 0, 16, host.TypeConfig{IdleTimeout: 200 * time.Millisecond})
	peek := slabType(t, "peek", 1, 0, grown, host.TypeConfig{})
	h := newHostConfig(t, host.Config{Store: memstore.New(), MaxActivations: batch + 8}, leak, inSlot, peek)

	round := 0
	scan := func(stage string) {
		t.Helper()
		for i := range batch {
			for _, typ := range []string{"leak", "inslot", "peek"} {
				ref := fmt.Sprintf("%s/scan-%d-%d", typ, round, i)
				at, err := slabAsk(t, h, ref, "scan")
				require.NoError(t, err, "%s after %s", ref, stage)
				require.EqualValues(t, -1, at, "%s after %s: byte %#x of its memory is not zero", ref, stage, at)
			}
		}
		round++
	}
	fill := func(typ, method string, wantErr error) {
		t.Helper()
		for i := range batch {
			ref := fmt.Sprintf("%s/%s-%d-%d", typ, method, round, i)
			at, err := slabAsk(t, h, ref, method)
			if wantErr != nil {
				require.ErrorIs(t, err, wantErr, ref)
				continue
			}
			require.NoError(t, err, ref)
			require.EqualValues(t, -1, at, ref)
			if method != "fill" {
				continue // deactivated
			}
			// the secret is there: the guest's view of its own memory
			at, err = slabAsk(t, h, ref, "verify")
			require.NoError(t, err, ref)
			require.EqualValues(t, -1, at, "%s: byte %#x is not the secret", ref, at)
		}
	}
	for _, typ := range []string{"leak", "inslot"} {
		fill(typ, "deactivate", nil)
		scan(typ + " deactivated themselves")
		fill(typ, "trap", abi.ErrTrapped)
		scan(typ + " trapped")
		fill(typ, "fill", nil)
		require.Eventually(t, func() bool { // idle, deactivated
			for _, r := range h.Activations() {
				if r.Type == typ {
					return false
				}
			}
			return true
		}, 10*time.Second, 10*time.Millisecond)
		scan(typ + " idled out")
	}
	// Eviction: the cap is full of scanners; each new filler evicts one,
	// then the next fillers evict them.
	fill("leak", "fill", nil)
	fill("inslot", "fill", nil)
	scan("eviction")
	scan("eviction, again")
}

// Accesses past the end of a memory in a slot, whose neighbours are other
// activations' memories of its type with no guard between them, trap and
// leave the neighbours' memories as they were: loads and stores at and
// across the end, a static offset of a whole slot, the 33-bit effective
// address, and bulk instructions (fill, copy, init) whose ranges cross the
// end; and legitimate growth, at once, to the slot's edge and past it.
// The attackers attack at their initial size, grown to the edge of their
// slot, and in slots of two pages (a module's maximum), each in a slot between two live victims: the victims fill a
// slab's slots in address order, every other one is deactivated, and the
// attackers start in those freed slots.
func TestSlabNeighboursAreOutOfReach(t *testing.T) {
	const victims = 13
	small := slabType(t, "small", 1, 0, 1, host.TypeConfig{})
	edge := slabType(t, "edge", 1, 0, 16, host.TypeConfig{})
	tight := slabType(t, "tight", 1, 2, 2, host.TypeConfig{})
	h := newHostConfig(t, host.Config{Store: memstore.New()}, small, edge, tight)
	types := []string{"small", "edge", "tight"}

	for _, typ := range types {
		for i := range victims {
			ref := fmt.Sprintf("%s/victim-%d", typ, i)
			at, err := slabAsk(t, h, ref, "fill")
			require.NoError(t, err, ref)
			require.EqualValues(t, -1, at, ref)
		}
		for i := 1; i < victims; i += 2 {
			_, err := slabAsk(t, h, fmt.Sprintf("%s/victim-%d", typ, i), "deactivate")
			require.NoError(t, err)
		}
	}
	for _, attack := range "ABCDEFGHIJKLMN" {
		for _, typ := range types {
			for i := range 2 {
				ref := fmt.Sprintf("%s/%c-%d", typ, attack, i)
				at, err := slabAsk(t, h, ref, string(attack))
				require.ErrorIs(t, err, abi.ErrTrapped, "%s: reply %#x", ref, at)
			}
		}
	}
	for _, typ := range types {
		for i := range 2 {
			ref := fmt.Sprintf("%s/X-%d", typ, i)
			at, err := slabAsk(t, h, ref, "X")
			require.NoError(t, err, ref)
			require.EqualValues(t, -1, at, ref)
		}
	}
	for _, typ := range types {
		for i := 0; i < victims; i += 2 {
			ref := fmt.Sprintf("%s/victim-%d", typ, i)
			at, err := slabAsk(t, h, ref, "verify")
			require.NoError(t, err, ref)
			require.EqualValues(t, -1, at, "%s: byte %#x of the victim is not its secret", ref, at)
		}
	}
}

// A memory grown to the edge of its slot, then one page more, moves out
// of the slot with its contents, the page it grew into zero; it grows to
// its type's maximum and no further; and the slot it left is zero for the
// memories that take it next.
func TestSlabGrowthPastTheSlotEdge(t *testing.T) {
	const maxMemory = 4 << 20
	for _, declared := range []int{0, 48} { // the type's limit, or the module's lower maximum
		t.Run(fmt.Sprint("declared-max-", declared), func(t *testing.T) {
			edge := slabType(t, "edge", 1, declared, 16, host.TypeConfig{MaxMemory: maxMemory})
			h := newHostConfig(t, host.Config{Store: memstore.New()}, edge)
			want := maxMemory >> 16
			if declared > 0 {
				want = declared
			}
			for i := range 20 {
				ref := fmt.Sprintf("edge/%d", i)
				pages, err := slabAsk(t, h, ref, "grow")
				require.NoError(t, err, ref)
				require.EqualValues(t, want, pages, "%s: pages after growing as far as it could", ref)
				_, err = slabAsk(t, h, ref, "deactivate") // its region (and slot) freed
				require.NoError(t, err, ref)
				// the next of the type start in the slot it left
				at, err := slabAsk(t, h, fmt.Sprintf("edge/peek-%d", i), "scan")
				require.NoError(t, err)
				require.EqualValues(t, -1, at, "edge/peek-%d: byte %#x is not zero", i, at)
			}
		})
	}
}

// A guest that runs forever is stopped at its turn's limit, with no
// watchdog: a loop, bulk fills and copies of its whole memory in a loop,
// 2^62 calls in a recursion without a loop, and a recursion thousands of
// calls deep without end. Two of each at once, on two cores, leave the
// host answering.
func TestSlabRunawayGuestsMeetTheirDeadline(t *testing.T) {
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(2))
	const limit = 500 * time.Millisecond
	runaway := slabType(t, "runaway", 1, 0, 1024, host.TypeConfig{TurnTimeout: limit, MaxMemory: 64 << 20})
	ok := slabType(t, "ok", 1, 0, 1, host.TypeConfig{})
	h := newHostConfig(t, host.Config{Store: memstore.New()}, runaway, ok)
	_, err := slabAsk(t, h, "ok/o", "ok")
	require.NoError(t, err)

	for _, method := range []string{"S", "W", "T", "R"} {
		t.Run(method, func(t *testing.T) {
			start := time.Now()
			var wg sync.WaitGroup
			errs := make([]error, 2)
			for i := range errs {
				wg.Add(1)
				go func() {
					defer wg.Done()
					r, _ := abi.ParseRef(fmt.Sprintf("runaway/%s%d", method, i))
					ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
					defer cancel()
					_, errs[i] = h.Ask(ctx, r, method, nil)
				}()
			}
			for range 5 { // the host answers meanwhile
				_, err := slabAsk(t, h, "ok/o", "ok")
				require.NoError(t, err)
			}
			wg.Wait()
			for _, err := range errs {
				assert.ErrorIs(t, err, abi.ErrTurnTimeout)
			}
			assert.Less(t, time.Since(start), 10*limit, "the runaways ran long past their limit")
		})
	}
}

// Secrets do not cross activations when many start and end at once: four
// senders each fill and end activations (asking to be deactivated, or
// trapping) and start new ones that scan, all in the same slot size, so
// that slots are freed, zeroed, kept warm, dropped and taken concurrently.
func TestSlabSecretsUnderConcurrency(t *testing.T) {
	const (
		senders = 4
		rounds  = 12
	)
	leak := slabType(t, "leak", 1, 0, 20, host.TypeConfig{})
	h := newHostConfig(t, host.Config{Store: memstore.New()}, leak)
	var wg sync.WaitGroup
	for g := range senders {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range rounds {
				method := "deactivate"
				if i%3 == 2 {
					method = "trap"
				}
				r, _ := abi.ParseRef(fmt.Sprintf("leak/%d-%d", g, i))
				ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
				_, err := h.Ask(ctx, r, method, nil)
				cancel()
				if method == "trap" {
					assert.ErrorIs(t, err, abi.ErrTrapped)
				} else {
					assert.NoError(t, err)
				}
				r.ID += "-scan"
				ctx, cancel = context.WithTimeout(context.Background(), 15*time.Second)
				reply, err := h.Ask(ctx, r, "scan", nil)
				cancel()
				if assert.NoError(t, err) {
					assert.Equal(t, []byte{0xa0}, reply, "%s: a byte of its memory is not zero (reply %x)", r, reply)
				}
			}
		}()
	}
	wg.Wait()
}
