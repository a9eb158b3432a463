package host

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/tetratelabs/wazero"
	"github.com/tetratelabs/wazero/api"
	"github.com/tetratelabs/wazero/imports/wasi_snapshot_preview1"
	"github.com/tetratelabs/wazero/sys"

	"github.com/wactor/wactor/abi"
	"github.com/wactor/wactor/host/internal/linmem"
	"github.com/wactor/wactor/host/internal/meter"
)

const wasmPage = 64 << 10

// ModuleInfo describes a module as the host sees it; `wactor inspect`
// prints it.
type ModuleInfo struct {
	// ABIVersion is what wactor_abi_version returned, or 0 when it could
	// not be called.
	ABIVersion int
	Exports    []string // "name: signature"
	Imports    []string // "module.name: signature"
	// Problems lists why the host would refuse the module; empty when it
	// would load.
	Problems []string
	// Config is the configuration the module was loaded with, defaults
	// applied; its Module is nil.
	Config TypeConfig
}

// signatures the ABI requires of a guest's exports.
var requiredExports = map[string]string{
	abi.ExportABIVersion: "() -> (i32)",
	abi.ExportAlloc:      "(i32) -> (i32)",
	abi.ExportHandle:     "(i32, i32) -> (i64)",
}

// activateHookSignature is the signature of the optional export
// abi.ExportActivateHook.
const activateHookSignature = "() -> (i32)"

func signature(d api.FunctionDefinition) string {
	names := func(ts []api.ValueType) string {
		s := make([]string, len(ts))
		for i, t := range ts {
			s[i] = api.ValueTypeName(t)
		}
		return strings.Join(s, ", ")
	}
	return "(" + names(d.ParamTypes()) + ") -> (" + names(d.ResultTypes()) + ")"
}

// check lists the problems of a compiled module's exports and imports.
func check(cm wazero.CompiledModule) (exports, imports, problems []string) {
	fns := cm.ExportedFunctions()
	for name, d := range fns {
		exports = append(exports, name+": "+signature(d))
	}
	for name := range cm.ExportedMemories() {
		exports = append(exports, name+": memory")
	}
	sort.Strings(exports)
	for _, name := range []string{abi.ExportABIVersion, abi.ExportAlloc, abi.ExportHandle} {
		want := requiredExports[name]
		d, ok := fns[name]
		switch {
		case !ok:
			problems = append(problems, fmt.Sprintf("missing export %s %s; is the module built with a wactor guest SDK?", name, want))
		case signature(d) != want:
			problems = append(problems, fmt.Sprintf("export %s has signature %s, want %s", name, signature(d), want))
		}
	}
	if d, ok := fns[abi.ExportActivateHook]; ok && signature(d) != activateHookSignature {
		problems = append(problems, fmt.Sprintf("export %s has signature %s, want %s", abi.ExportActivateHook, signature(d), activateHookSignature))
	}
	if _, ok := cm.ExportedMemories()[abi.ExportMemory]; !ok {
		problems = append(problems, "missing export memory: the host passes messages through the guest's exported memory")
	}
	for i := 0; i < len(exports); i++ {
		if strings.HasPrefix(exports[i], meter.GlobalExportPrefix) {
			exports = append(exports[:i], exports[i+1:]...) // added by the meter for snapshots
			i--
		}
	}
	for _, d := range cm.ImportedFunctions() {
		mod, name, _ := d.Import()
		if mod == meter.ImportModule {
			continue // added by instrumentation; meter refuses modules that import it themselves
		}
		imports = append(imports, mod+"."+name+": "+signature(d))
		switch mod {
		case abi.ImportModule:
			want, ok := importSignatures[name]
			if !ok {
				problems = append(problems, fmt.Sprintf("imports %s.%s, which ABI v%d does not provide", mod, name, abi.Version))
			} else if signature(d) != want {
				problems = append(problems, fmt.Sprintf("import %s.%s has signature %s, want %s", mod, name, signature(d), want))
			}
		case wasi_snapshot_preview1.ModuleName:
		default:
			problems = append(problems, fmt.Sprintf("imports %s.%s from module %q; only %q and %q are provided",
				mod, name, mod, abi.ImportModule, wasi_snapshot_preview1.ModuleName))
		}
	}
	return exports, imports, problems
}

// moduleVersion is one compiled version of a type's module, in a runtime of
// its own so that the type's memory limit applies to it.
type moduleVersion struct {
	rt       wazero.Runtime
	compiled wazero.CompiledModule
	size     int
	sha256   string // of the module as deployed, in hex
	// startLimit bounds _initialize and wactor_abi_version, which run
	// outside any turn: the type's turn limit.
	startLimit time.Duration
	walltime   func() time.Time // the guests' wall clock; nil: the system's
	wasi       wasiGrants       // environment and folders granted beyond clocks and random
	// memory makes the instances' linear memories, which grow in place
	// and are reused once freed (nil: wazero's own, which copy the whole
	// memory at each growth).
	memory *linmem.Allocator
	// image, when not nil, holds the snapshot's memory, which memory maps
	// copy-on-write into every instance: pages no instance writes are
	// shared by all of them. Closed after memory.
	image *linmem.Image
	// snap, when not nil, is the state instances start from instead of
	// running _initialize; compiled is then the restorable module.
	// noSnapshot says why there is none.
	snap       *snapshot
	noSnapshot string
	// startSize is the resident linear memory, in bytes, of the latest
	// instance measured once started (after _initialize and the activate
	// hook; see instance.resident and started): what a new activation
	// reserves against the guest memory budget before it is instantiated.
	startSize atomic.Int64
	starts    atomic.Uint64 // instances started

	mu      sync.Mutex
	users   int  // live instances
	retired bool // replaced by a newer deploy; close when users reach 0
	// cfg is config's result, made when walltime was set (cfgClock) or not.
	cfg      wazero.ModuleConfig
	cfgClock bool
}

// compile loads tc's module for the host, through load and the host's
// cache, and reports whether the cache had it. An entry of the cache
// folder damaged since the host opened it fails the compile; it is then
// discarded and the module compiled again. Compiles run concurrently; the
// discarding waits until none runs, so that it never takes an entry
// another compile has just written, and not yet sealed, for a damaged one.
func (h *Host) compile(ctx context.Context, tc TypeConfig, grants wasiGrants) (*moduleVersion, bool, error) {
	defer h.compiles.lock(sha256.Sum256(tc.Module))()
	if h.disk == nil {
		v, _, err := load(ctx, h.cache, tc, grants, h.snapshots)
		return v, false, err
	}
	h.disk.mu.RLock()
	before := h.disk.entrySet()
	v, _, err := load(ctx, h.cache, tc, grants, h.snapshots)
	h.disk.sealNew()
	hit := err == nil && len(h.disk.entrySet().minus(before)) == 0
	h.disk.mu.RUnlock()
	if err != nil {
		h.disk.mu.Lock()
		if h.disk.verify() > 0 {
			v, _, err = load(ctx, h.cache, tc, grants, h.snapshots)
			h.disk.sealNew()
		}
		h.disk.mu.Unlock()
	}
	return v, hit, err
}

// load is the one way a module becomes runnable, shared by Deploy and
// Inspect so that they cannot disagree on a module. It compiles tc.Module
// (tc with defaults applied and validated) in a runtime of its own under
// tc's limits (memory, tables and what else the meter bounds), checks it
// against ABI v1 and starts it once, with WASI closed and bounded by the
// start-up limit. It returns the version, or what makes the host refuse
// the module; info, nil when the module could not be compiled, is what
// `wactor inspect` shows. cache may be nil. With snapshots, a module that
// can start from a snapshot (snapshot.go) does so; grants are the WASI
// grants its instances, and so its _initialize, run with.
func load(ctx context.Context, cache wazero.CompilationCache, tc TypeConfig, grants wasiGrants, snapshots bool) (v *moduleVersion, info *ModuleInfo, err error) {
	rc := wazero.NewRuntimeConfigCompiler().WithMemoryLimitPages(uint32(tc.MaxMemory / wasmPage))
	if cache != nil {
		rc = rc.WithCompilationCache(cache)
	}
	rt := wazero.NewRuntimeWithConfig(ctx, rc)
	memory := linmem.New(nil)
	defer func() {
		if v == nil {
			_ = rt.Close(ctx)
			memory.Close()
		}
	}()
	if err := provideImports(ctx, rt); err != nil {
		return nil, nil, err
	}
	cm, rs, err := compileMetered(ctx, rt, tc.Module, tc.meterLimits(), snapshots, 0)
	if err != nil {
		return nil, nil, err
	}
	info = &ModuleInfo{}
	info.Exports, info.Imports, info.Problems = check(cm)
	if len(info.Problems) > 0 {
		return nil, info, errors.New(strings.Join(info.Problems, "; "))
	}
	sum := sha256.Sum256(tc.Module)
	v = &moduleVersion{rt: rt, compiled: cm, size: len(tc.Module), sha256: hex.EncodeToString(sum[:]), startLimit: tc.TurnTimeout, wasi: grants, memory: memory}
	if rs != nil {
		if v.compiled, err = v.restorable(ctx, tc, rs); err != nil {
			return nil, info, err
		}
		if v.compiled != cm {
			_ = cm.Close(ctx)
		}
	}
	if info.ABIVersion, err = v.probe(ctx, tc); err != nil {
		info.Problems = append(info.Problems, err.Error())
		return nil, info, err
	}
	return v, info, nil
}

// minImage is the least a snapshot writes into each instance for its
// memory to be mapped from an image instead. Copying costs a page fault
// for every page the snapshot writes, whether the guest uses it or not;
// mapping costs a fixed price (the reservation and the image's mmap, and
// three of the process's capped mappings per memory) and a costlier
// fault for each page the guest writes. Mapping wins from about 16 pages
// when turns write few of them, but a mapped memory past the process's
// mapping cap lives on the Go heap as a full copy that the memory budget
// undercounts, so only snapshots whose sharing is worth that risk (Go's,
// 1.5 MiB) are mapped (RATIONALE.md, "Which snapshots are copied").
const minImage = 256 << 10

// restorable takes a snapshot of v.compiled, the restorable module rs,
// and returns the module instances of v start from: rs again, or, when
// _initialize grew the memory, rs with a minimum that holds the snapshot,
// so that instances need not grow; or the module as it is, which runs
// _initialize, when there can be no snapshot (v.noSnapshot says why).
func (v *moduleVersion) restorable(ctx context.Context, tc TypeConfig, rs *meter.Restorable) (wazero.CompiledModule, error) {
	snap, err := v.takeSnapshot(ctx, rs)
	if err != nil {
		v.noSnapshot = err.Error()
		cm, _, err := compileMetered(ctx, v.rt, tc.Module, tc.meterLimits(), false, 0)
		return cm, err
	}
	v.snap = snap
	if snap.written() >= minImage {
		if img, err := linmem.NewImage(tc.Name, snap.Memory); err == nil {
			// Instances then get the snapshot's memory from the allocator,
			// copy-on-write, and restore writes only the globals. Without
			// an image (not Linux, no memfd) restore copies the memory in.
			v.memory.Close()
			v.memory, v.image, snap.mapped = linmem.New(img), img, true
		}
	}
	if len(snap.Memory) == len(rs.Memory) {
		return v.compiled, nil
	}
	cm, _, err := compileMetered(ctx, v.rt, tc.Module, tc.meterLimits(), true, uint32(len(snap.Memory)/wasmPage))
	return cm, err
}

// provideImports gives rt what guests may import: WASI, the host functions
// and the fuel meter.
func provideImports(ctx context.Context, rt wazero.Runtime) error {
	if _, err := wasi_snapshot_preview1.Instantiate(ctx, rt); err != nil {
		return fmt.Errorf("instantiating WASI: %w", err)
	}
	if err := instantiateImports(ctx, rt); err != nil {
		return err
	}
	return instantiateMeter(ctx, rt)
}

// meterLimits are tc's limits (with defaults applied) as the meter takes
// them.
func (tc *TypeConfig) meterLimits() meter.Limits {
	return meter.Limits{MemoryPages: uint32(tc.MaxMemory / wasmPage), TableEntries: uint32(tc.MaxTableEntries)}
}

// limitSettings names the type setting behind each of meter.Limits.
var limitSettings = map[string]string{
	"MemoryPages":  "raise the type's max_memory",
	"TableEntries": "raise the type's max_table_entries (its default is max_memory / 64)",
}

// compileMetered compiles wasm in rt with fuel metering added and lim
// applied. With restorable it compiles the module made restorable, with a
// memory of at least minPages, and returns how, when the meter can make it
// so (meter.InstrumentRestorable).
func compileMetered(ctx context.Context, rt wazero.Runtime, wasm []byte, lim meter.Limits, restorable bool, minPages uint32) (wazero.CompiledModule, *meter.Restorable, error) {
	var rs *meter.Restorable
	var metered []byte
	err := error(&meter.NotRestorableError{})
	if restorable {
		if rs, err = meter.InstrumentRestorable(wasm, lim, minPages); err == nil {
			metered = rs.Module
		}
	}
	if errors.As(err, new(*meter.NotRestorableError)) {
		metered, err = meter.Instrument(wasm, lim)
	}
	if le := (*meter.LimitError)(nil); errors.As(err, &le) {
		hint := "a bound fixed in the host (docs/manifest.md, \"Limits a module must fit\")"
		if s, ok := limitSettings[le.Field]; ok {
			hint = s
		}
		return nil, nil, fmt.Errorf("not a module this host can run: %w; %s", err, hint)
	}
	if err != nil {
		// The meter reads the whole module first, so wazero never sees
		// bytes it refused (some make wazero allocate without bound).
		return nil, nil, fmt.Errorf("not a module this host can run: %w", err)
	}
	cm, err := rt.CompileModule(ctx, metered)
	if err == nil {
		return cm, rs, nil
	}
	// Report wazero's reason with the function indices the module's author
	// knows: those of the module as given, which the meter has checked.
	if _, oerr := rt.CompileModule(ctx, wasm); oerr != nil {
		return nil, nil, fmt.Errorf("not a valid WebAssembly module: %w", oerr)
	}
	return nil, nil, fmt.Errorf("the metered module does not compile (a wactor bug): %w", err)
}

// probe instantiates v once, running _initialize, and checks the ABI
// version it reports, so a broken module fails when it is deployed rather
// than at its first message; for a reentrant type, it checks that the
// module declares it can be re-entered (checkReentrant).
func (v *moduleVersion) probe(ctx context.Context, tc TypeConfig) (int, error) {
	inst, err := v.instantiate(ctx, io.Discard) // bounded by startLimit itself
	if err != nil {
		return 0, err
	}
	defer inst.close(ctx)
	v.startSize.Store(inst.resident())
	callCtx, cancel := v.startContext(ctx)
	defer cancel()
	got, err := inst.abiVersion(callCtx)
	if err != nil {
		return 0, v.overran(callCtx, abi.ExportABIVersion, err)
	}
	if got != abi.Version {
		return got, fmt.Errorf("module speaks ABI version %d; this host speaks version %d", got, abi.Version)
	}
	if tc.Reentrant {
		if err := checkReentrant(callCtx, inst, tc.Module); err != nil {
			return got, v.overran(callCtx, abi.ExportReentrant, err)
		}
	}
	return got, nil
}

// Inspect reports the ABI version, exports and imports of tc.Module and
// whatever would make Deploy refuse it with tc's limits (zero fields take
// their defaults, as in Deploy): it loads the module exactly as Deploy
// does. It fails when the module cannot be compiled at all.
func Inspect(ctx context.Context, tc TypeConfig) (*ModuleInfo, error) {
	if err := tc.prepare(); err != nil {
		return nil, fmt.Errorf("host: %w", err)
	}
	v, info, err := load(ctx, nil, tc, wasiGrants{}, false)
	if info == nil {
		return nil, err
	}
	info.Config = tc
	info.Config.Module = nil
	if v != nil {
		v.retire(ctx)
	}
	return info, nil
}

// instance is one activation's sandbox: a module instance and its exports.
type instance struct {
	v      *moduleVersion
	mod    api.Module
	alloc  api.Function // looked up when first needed
	handle api.Function
	stack  [2]uint64 // reused for CallWithStack, part of the instance
	// The input buffer the guest's last wactor_alloc returned, and its
	// size: requests that fit are written there without asking again,
	// which saves a call into the guest per message (docs/ABI.md 4).
	inPtr, inCap uint32
	// levels are the exports and stacks of the nested calls into the
	// instance (reentry.go): levels[i] serves the calls nested i+1 deep,
	// made when first needed.
	levels []*level
	// broken is why a nested call broke the instance: the turns it
	// nests in fail when they resume (reentry.go). Nil: sound.
	broken error
	// The last measure of resident memory (see resident): the bytes and
	// the memory's size then, and the calls of resident since (-1: never
	// measured).
	measured, sizeAtMeasure int64
	sinceMeasure            int
	// learnIn counts down the calls of resident until the instance
	// tells its version which pages it wrote (learnHot): after its first
	// turn. Zero: it does not.
	learnIn int
}

// config returns what instances of v are configured with, but their
// output: made once (each With copies the whole configuration), and again
// if the version's clock was set since.
func (v *moduleVersion) config() wazero.ModuleConfig {
	v.mu.Lock()
	defer v.mu.Unlock()
	if v.cfg != nil && v.cfgClock == (v.walltime != nil) {
		return v.cfg
	}
	start := []string{"_initialize"}
	if v.snap != nil {
		start = nil // restored instead
	}
	cfg := wazero.NewModuleConfig().
		WithName("").
		WithStartFunctions(start...).
		WithSysWalltime().
		WithSysNanotime().
		WithRandSource(rand.Reader)
	if now := v.walltime; now != nil {
		cfg = cfg.WithWalltime(func() (int64, int32) {
			t := now()
			return t.Unix(), int32(t.Nanosecond())
		}, sys.ClockResolution(time.Microsecond))
	}
	v.cfg, v.cfgClock = v.wasi.apply(cfg), v.walltime != nil
	return v.cfg
}

func (v *moduleVersion) instantiate(ctx context.Context, stderr io.Writer) (*instance, error) {
	cfg := v.config().WithStdout(stderr).WithStderr(stderr)
	ctx = v.memory.Context(ctx)
	start := v.snap == nil
	if start {
		// Only _initialize needs the bound (and its timer): restoring a
		// snapshot runs nothing of the guest.
		var cancel context.CancelFunc
		ctx, cancel = v.startContext(ctx)
		defer cancel()
	}
	mod, err := v.rt.InstantiateModule(ctx, v.compiled, cfg)
	if err != nil {
		return nil, fmt.Errorf("instantiating: %w", v.overran(ctx, "_initialize", err))
	}
	if v.snap != nil {
		if err := v.snap.restore(mod); err != nil {
			_ = mod.Close(ctx)
			return nil, fmt.Errorf("restoring the snapshot: %w", err)
		}
	}
	v.mu.Lock()
	v.users++
	v.mu.Unlock()
	inst := &instance{
		v:      v,
		mod:    mod,
		handle: mod.ExportedFunction(abi.ExportHandle),
		// never measured
		sinceMeasure: -1,
	}
	if v.snap != nil {
		inst.inPtr, inst.inCap = v.snap.inPtr, snapshotInput
	}
	return inst, nil
}

// startContext bounds what runs of the guest outside a turn; the fuel
// meter's refuel stops the guest when the context is done.
func (v *moduleVersion) startContext(ctx context.Context) (context.Context, context.CancelFunc) {
	if v.startLimit <= 0 {
		return ctx, func() {}
	}
	return context.WithTimeout(ctx, v.startLimit)
}

// overran names the limit when what failed was stopped by startContext.
func (v *moduleVersion) overran(ctx context.Context, what string, err error) error {
	if errors.Is(ctx.Err(), context.DeadlineExceeded) {
		return fmt.Errorf("%s ran past the limit of %v (an endless loop at start-up?)", what, v.startLimit)
	}
	return err
}

func (i *instance) abiVersion(ctx context.Context) (int, error) {
	res, err := i.mod.ExportedFunction(abi.ExportABIVersion).Call(ctx)
	if err != nil {
		return 0, fmt.Errorf("calling %s: %w", abi.ExportABIVersion, err)
	}
	return int(int32(res[0])), nil
}

// memorySize returns the size of the instance's linear memory in bytes.
func (i *instance) memorySize() int64 { return int64(i.mod.Memory().Size()) }

// residentEvery is how many calls of resident (one after each turn) an
// instance's memory is measured again after; in between resident adds
// the memory's growth to the last measure.
const residentEvery = 64

// resident returns the bytes of the instance's linear memory that are in
// memory and its own (linmem.Resident: not the pages of a snapshot's
// image it only read, nor pages never touched), for the guest memory
// budget; where that cannot be measured, the memory's size. Measuring
// reads 8 bytes of the process's page map per 4 KiB page (about 40 µs
// for a standard-Go guest's 2.7 MB, more than a small turn), so an
// instance is measured after every residentEvery turns, and in between
// counts its last measure plus every byte its memory grew since: what it
// writes within pages it already had counts from the next measure. One
// instance of a version in measureStartEvery is also measured when it
// starts; the others start from that measure (see started).
func (i *instance) resident() int64 {
	if i.learnIn > 0 {
		if i.learnIn--; i.learnIn == 0 {
			i.v.learnHot(i)
		}
	}
	size := i.memorySize()
	if i.sinceMeasure >= 0 && i.sinceMeasure < residentEvery {
		i.sinceMeasure++
		return min(size, i.measured+max(size-i.sizeAtMeasure, 0))
	}
	mem, ok := i.mod.Memory().Read(0, uint32(size))
	if !ok {
		return size
	}
	n, err := linmem.Resident(mem)
	if err != nil {
		return size
	}
	i.measured, i.sizeAtMeasure, i.sinceMeasure = n, size, 0
	return n
}

// measureStartEvery is how often an instance of a version is measured
// once started; the others count the last measure (startSize) until
// resident measures them, after residentEvery turns. Instances of a
// version start alike (the same module, from the same snapshot, through
// the same activate hook), and reading the page map of a standard-Go
// guest's memory costs about a tenth of its activation.
const measureStartEvery = 16

// started records inst, just started (after the activate hook): it
// measures its resident memory as the version's startSize, or takes the
// last measure as its own. The instance measured also tells the version
// which pages of its snapshot it wrote (learnHot), now and once more
// after its first turn (the second call of resident from now: the
// scheduler's after the start, then after each turn).
func (v *moduleVersion) started(inst *instance) {
	if v.starts.Add(1)%measureStartEvery == 1 {
		v.startSize.Store(inst.resident())
		v.learnHot(inst)
		inst.learnIn = 2
		return
	}
	inst.measured, inst.sizeAtMeasure, inst.sinceMeasure = v.startSize.Load(), inst.memorySize(), 0
}

func (i *instance) close(ctx context.Context) {
	_ = i.mod.Close(ctx)
	i.v.release(ctx)
}

func (v *moduleVersion) release(ctx context.Context) {
	v.mu.Lock()
	v.users--
	done := v.retired && v.users == 0
	v.mu.Unlock()
	if done {
		v.close(ctx)
	}
}

// retire closes v once its last instance is gone.
func (v *moduleVersion) retire(ctx context.Context) {
	v.mu.Lock()
	v.retired = true
	done := v.users == 0
	v.mu.Unlock()
	if done {
		v.close(ctx)
	}
}

// close releases v's runtime, its granted folders and the memories kept
// for its instances.
func (v *moduleVersion) close(ctx context.Context) {
	_ = v.rt.Close(ctx)
	v.wasi.close()
	v.memory.Close()
	if v.image != nil {
		_ = v.image.Close()
	}
}
