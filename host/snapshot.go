package host

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	mathrand "math/rand/v2"
	"os"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/tetratelabs/wazero"
	"github.com/tetratelabs/wazero/api"
	"github.com/tetratelabs/wazero/sys"

	"github.com/wactor/wactor/abi"
	"github.com/wactor/wactor/host/internal/linmem"
	"github.com/wactor/wactor/host/internal/meter"
)

// A snapshot is the state of an instance of a module right after its
// _initialize, taken once when the module is deployed: activations start
// from it instead of running the initialisation again, which for a
// standard-Go guest is most of an activation's cost (RATIONALE.md,
// "Snapshots").
type snapshot struct {
	// Memory is the linear memory after _initialize.
	Memory []byte
	// Globals name the exports of the module's mutable globals in the
	// restorable module; Values are what they held after _initialize.
	Globals []string
	Values  []uint64
	// runs are the [start, end) ranges of Memory that are not zero,
	// rounded to blocks: what a new instance, whose memory is zero, needs
	// written.
	runs [][2]int
	// goRand is the offset in Memory of the Go runtime's random state,
	// reseeded in every instance; -1 when the module read no random bytes
	// during _initialize.
	goRand int
	// mapped says instances' memories start as Memory already (mapped
	// from a linmem.Image), so restore need not write it.
	mapped bool
	// inPtr is the input buffer of snapshotInput bytes the guest's
	// wactor_alloc returned after _initialize, before the snapshot was
	// taken: every instance starts owning it, as if the host had called
	// wactor_alloc first, as it does for an instance's first request.
	inPtr uint32
	// noActivate: the guest's abi.ExportActivateHook, asked after the
	// first wactor_alloc, said it does nothing on activation, so that
	// instances started from the snapshot run no activate hook.
	noActivate bool
}

// snapshotInput is the size of the input buffer a snapshot includes:
// enough for a hook's request and most small messages.
const snapshotInput = 512

// initRecorder is the sandbox's view of what _initialize did outside its
// memory and globals: whatever reaches the host through WASI that a
// snapshot would freeze or lose.
type initRecorder struct {
	mu     sync.Mutex
	random [][]byte // each read of random bytes, in order
	used   []string // what makes a snapshot unsound, in order
}

func (r *initRecorder) note(what string) {
	r.mu.Lock()
	r.used = append(r.used, what)
	r.mu.Unlock()
}

// Read gives _initialize random bytes and keeps a copy.
func (r *initRecorder) Read(p []byte) (int, error) {
	n, err := rand.Read(p)
	r.mu.Lock()
	r.random = append(r.random, bytes.Clone(p[:n]))
	r.mu.Unlock()
	return n, err
}

// recordingWriter notes output: it would be printed once, at deploy,
// instead of by every activation.
type recordingWriter struct {
	r    *initRecorder
	name string
}

func (w recordingWriter) Write(p []byte) (int, error) {
	w.r.note("wrote to " + w.name)
	return len(p), nil
}

type recordingReader struct{ r *initRecorder }

func (rr recordingReader) Read([]byte) (int, error) {
	rr.r.note("read standard input")
	return 0, io.EOF
}

// takeSnapshot instantiates rs.Module once, as Deploy would an
// activation's, runs its _initialize, if it has one, and saves the state
// it leaves, if that state can stand for what _initialize would do in
// every later instance. It fails with the reason when it cannot.
func (v *moduleVersion) takeSnapshot(ctx context.Context, rs *meter.Restorable) (*snapshot, error) {
	_, hasInit := v.compiled.ExportedFunctions()["_initialize"]
	if len(v.wasi.folders) > 0 && hasInit {
		// Files opened during _initialize would be descriptors the next
		// instance does not have.
		return nil, errors.New("the type is granted folders")
	}
	rec := &initRecorder{}
	cfg := wazero.NewModuleConfig().
		WithName("").
		WithStartFunctions().
		WithSysNanotime().
		WithWalltime(func() (int64, int32) {
			rec.note("read the wall clock")
			t := time.Now()
			return t.Unix(), int32(t.Nanosecond())
		}, sys.ClockResolution(time.Microsecond)).
		WithRandSource(rec).
		WithStdin(recordingReader{rec}).
		WithStdout(recordingWriter{rec, "standard output"}).
		WithStderr(recordingWriter{rec, "standard error"})
	cfg = v.wasi.apply(cfg)
	ctx, cancel := v.startContext(ctx)
	defer cancel()
	mod, err := v.rt.InstantiateModule(ctx, v.compiled, cfg)
	if err != nil {
		return nil, fmt.Errorf("instantiating: %w", err)
	}
	defer mod.Close(ctx)
	if !mod.Memory().Write(0, rs.Memory) {
		return nil, errors.New("the module's data does not fit its memory")
	}
	if hasInit {
		if _, err := mod.ExportedFunction("_initialize").Call(ctx); err != nil {
			return nil, fmt.Errorf("instantiating: %w", v.overran(ctx, "_initialize", err))
		}
	}
	if len(rec.used) > 0 {
		return nil, fmt.Errorf("_initialize %s", strings.Join(rec.used, ", "))
	}
	// The host's first call of every instance, made once here: no
	// instance then needs wactor_alloc before a request of up to
	// snapshotInput bytes, nor its call engine (10 KiB) to call it.
	res, err := mod.ExportedFunction(abi.ExportAlloc).Call(ctx, snapshotInput)
	if err != nil {
		return nil, fmt.Errorf("%s after _initialize: %w", abi.ExportAlloc, v.overran(ctx, abi.ExportAlloc, err))
	}
	if len(rec.used) > 0 {
		return nil, fmt.Errorf("%s %s", abi.ExportAlloc, strings.Join(rec.used, ", "))
	}
	inPtr := uint32(res[0])
	if uint64(inPtr)+snapshotInput > uint64(mod.Memory().Size()) {
		return nil, fmt.Errorf("%s(%d) returned %d, outside the memory", abi.ExportAlloc, snapshotInput, inPtr)
	}
	noActivate, err := askActivateHook(ctx, mod)
	if err != nil {
		return nil, fmt.Errorf("%s after %s: %w", abi.ExportActivateHook, abi.ExportAlloc, v.overran(ctx, abi.ExportActivateHook, err))
	}
	if len(rec.used) > 0 {
		return nil, fmt.Errorf("%s %s", abi.ExportActivateHook, strings.Join(rec.used, ", "))
	}
	mem, _ := mod.Memory().Read(0, mod.Memory().Size())
	s := &snapshot{Memory: bytes.Clone(mem), Globals: rs.Globals, Values: make([]uint64, len(rs.Globals)), goRand: -1, inPtr: inPtr, noActivate: noActivate}
	for i, name := range rs.Globals {
		g := mod.ExportedGlobal(name)
		if g == nil {
			return nil, fmt.Errorf("the restorable module lacks global export %s (a wactor bug)", name)
		}
		s.Values[i] = g.Get()
	}
	if len(rec.random) > 0 {
		if s.goRand, err = findGoRand(s.Memory, rec.random); err != nil {
			return nil, fmt.Errorf("_initialize read random bytes, %w", err)
		}
	}
	s.runs = nonZeroRuns(s.Memory, 4096)
	return s, nil
}

// askActivateHook calls the module's abi.ExportActivateHook, if it has
// one (its signature was checked at load), and says whether it answered
// abi.ActivateHookNone. It is asked before the snapshot's memory is
// copied, so that whatever it did to answer is in the snapshot too.
func askActivateHook(ctx context.Context, mod api.Module) (bool, error) {
	f := mod.ExportedFunction(abi.ExportActivateHook)
	if f == nil {
		return false, nil
	}
	res, err := f.Call(ctx)
	if err != nil {
		return false, err
	}
	return uint32(res[0]) == abi.ActivateHookNone, nil
}

// nonZeroRuns returns the ranges of mem that hold other bytes than zero,
// in blocks of size bytes, adjacent blocks merged.
func nonZeroRuns(mem []byte, size int) [][2]int {
	var runs [][2]int
	for off := 0; off < len(mem); off += size {
		end := min(off+size, len(mem))
		if allZero(mem[off:end]) {
			continue
		}
		if n := len(runs); n > 0 && runs[n-1][1] == off {
			runs[n-1][1] = end
		} else {
			runs = append(runs, [2]int{off, end})
		}
	}
	return runs
}

func allZero(b []byte) bool {
	for _, c := range b {
		if c != 0 {
			return false
		}
	}
	return true
}

// written is how many bytes restore writes into a new instance's memory
// when it is not mapped: the non-zero blocks.
func (s *snapshot) written() int {
	n := 0
	for _, r := range s.runs {
		n += r[1] - r[0]
	}
	return n
}

// restore brings a new instance of the restorable module, whose memory's
// minimum holds the snapshot, to the state of the snapshot.
func (s *snapshot) restore(mod api.Module) error {
	mem := mod.Memory()
	if mem.Size() < uint32(len(s.Memory)) {
		return errors.New("the instance's memory is smaller than the snapshot (a wactor bug)")
	}
	if !s.mapped {
		for _, r := range s.runs {
			mem.Write(uint32(r[0]), s.Memory[r[0]:r[1]])
		}
	}
	for i, name := range s.Globals {
		g, ok := mod.ExportedGlobal(name).(api.MutableGlobal)
		if !ok {
			return fmt.Errorf("global export %s is not mutable (a wactor bug)", name)
		}
		g.Set(s.Values[i])
	}
	if s.goRand >= 0 {
		return reseedGoRand(mem, uint32(s.goRand))
	}
	return nil
}

// learnHot tells the version's allocator which pages of the snapshot
// inst, started from it, wrote: the allocator then copies those pages
// into each new instance's memory before the guest runs
// (linmem.Allocator.SetHot), which costs the guest fewer page faults and
// maps fewer pages of the image into it. A page the memory holds a copy
// of (linmem.Own) was written, unless the allocator copied it: such a
// page counts only if it differs from the snapshot, so that pages the
// guest stopped writing drop out. Without a page map nothing is learnt,
// and instances fault their pages in as they would anyway.
func (v *moduleVersion) learnHot(inst *instance) {
	if v.snap == nil || !v.snap.mapped {
		return
	}
	img := v.snap.Memory
	mem, ok := inst.mod.Memory().Read(0, uint32(min(uint64(len(img)), uint64(inst.memorySize()))))
	if !ok {
		return
	}
	own, err := linmem.Own(mem)
	if err != nil {
		return
	}
	copied := v.memory.Hot()
	hot := own[:0]
	for _, p := range own {
		start := int(p) * pageSize
		end := min(start+pageSize, len(mem))
		if _, was := slices.BinarySearch(copied, p); !was || !bytes.Equal(mem[start:end], img[start:end]) {
			hot = append(hot, p)
		}
	}
	v.memory.SetHot(hot)
}

// pageSize is the OS page: the unit of linmem.Own's indices.
var pageSize = os.Getpagesize()

// The Go runtime (1.22 and later) keeps the random numbers behind
// math/rand, math/rand/v2, map seeds and select in the chacha8rand.State of
// its one thread (runtime.m0.chacha8), followed by a second generator
// (m.cheaprand). Both derive from the 32 bytes it reads at start-up. A
// snapshot would give every instance the same sequence; restore gives each
// its own by overwriting them with fresh random bytes.
//
// The offsets below are those of chacha8rand.State's fields from its seed
// (buf [32]uint64 comes first, then seed [4]uint64, i, n, c uint32) and of
// cheaprand after it in runtime.m. findGoRand checks them against what the
// runtime must have written before trusting them.
const (
	goRandI         = 32
	goRandN         = 36
	goRandC         = 40
	goRandCheap     = 48
	goRandSize      = 56
	goChunk         = 32 // chacha8rand's chunk: the values of a block
	goBootstrapSkip = 16 // bootstrapRand draws before m0's seed tried
	goDrawsTried    = 1 << 16
)

// findGoRand returns the offset in mem of the Go runtime's per-thread
// random state, derived from random, what the runtime read: one read of 32
// bytes. It fails when the module is not a Go program of a known layout.
func findGoRand(mem []byte, random [][]byte) (int, error) {
	if len(random) != 1 || len(random[0]) != 32 {
		return 0, fmt.Errorf("%d times (a Go runtime reads 32 bytes once)", len(random))
	}
	// The runtime seeds its global generator with the bytes it read,
	// draws a few values (hash keys), then seeds m0's generator with the
	// next four. m0's seed changes every few dozen draws: collect the
	// seeds of its first draws, for every number of draws before it.
	type origin struct{ cheap uint64 }
	seeds := map[[32]byte]origin{}
	global := chacha8(random[0])
	var draws []uint64
	for range goBootstrapSkip + 4 {
		draws = append(draws, global.Uint64())
	}
	for skip := range goBootstrapSkip {
		var seed [32]byte
		for i := range 4 {
			binary.LittleEndian.PutUint64(seed[8*i:], draws[skip+i])
		}
		m0 := chacha8(seed[:])
		o := origin{cheap: m0.Uint64()} // mrandinit's cheaprand = rand()
		seeds[seed] = o
		for range goDrawsTried / 4 {
			state, _ := m0.MarshalBinary() // "chacha8:", used count, seed
			seeds[[32]byte(state[16:48])] = o
			for range 4 {
				m0.Uint64()
			}
		}
	}
	found := -1
	for off := 256; off+goRandSize <= len(mem); off += 8 {
		o, ok := seeds[[32]byte(mem[off:off+32])]
		if !ok || !goRandPlausible(mem[off:], o.cheap) {
			continue
		}
		if found >= 0 {
			return 0, errors.New("and the Go runtime's random state is not unique in memory")
		}
		found = off
	}
	if found < 0 {
		return 0, errors.New("and no Go runtime random state of a known layout derives from them")
	}
	return found, nil
}

// goRandPlausible checks the counters after a seed and that cheaprand is
// its start value advanced a number of times.
func goRandPlausible(b []byte, cheap uint64) bool {
	le := binary.LittleEndian
	i, n, c := le.Uint32(b[goRandI:]), le.Uint32(b[goRandN:]), le.Uint32(b[goRandC:])
	if (n != goChunk && n != goChunk-4) || i > n || c%4 != 0 || c >= 16 {
		return false
	}
	want := le.Uint64(b[goRandCheap:])
	for range goDrawsTried {
		if cheap == want {
			return true
		}
		cheap = xorshift(cheap)
	}
	return false
}

// xorshift is one step of the Go runtime's cheaprand where math.Mul64 is
// not lowered (wasm): xorshift64+ on two 32-bit halves.
func xorshift(v uint64) uint64 {
	s1, s0 := uint32(v), uint32(v>>32)
	s1 ^= s1 << 17
	s1 = s1 ^ s0 ^ s1>>7 ^ s0>>16
	return uint64(s0) | uint64(s1)<<32
}

// chacha8 returns Go's ChaCha8 generator seeded as the Go runtime seeds
// its own: the same algorithm as the runtime's internal/chacha8rand.
func chacha8(seed []byte) *mathrand.ChaCha8 { return mathrand.NewChaCha8([32]byte(seed)) }

// reseedGoRand gives the Go runtime state at off a fresh seed, and marks
// its buffered values used so that the next draw computes them from it.
func reseedGoRand(mem api.Memory, off uint32) error {
	var fresh [40]byte
	if _, err := rand.Read(fresh[:]); err != nil {
		return err
	}
	if binary.LittleEndian.Uint64(fresh[32:]) == 0 {
		fresh[32] = 1 // xorshift stays at zero
	}
	n, _ := mem.ReadUint32Le(off + goRandN)
	ok := mem.Write(off, fresh[:32]) &&
		mem.WriteUint32Le(off+goRandI, n) &&
		mem.WriteUint32Le(off+goRandC, 0) &&
		mem.Write(off+goRandCheap, fresh[32:])
	if !ok {
		return errors.New("the Go runtime's random state lies outside the memory")
	}
	return nil
}
