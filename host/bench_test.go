package host_test

import (
	"context"
	"crypto/rand"
	"os"
	"runtime"
	"runtime/debug"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/tetratelabs/wazero"
	"github.com/tetratelabs/wazero/api"
	"github.com/tetratelabs/wazero/imports/wasi_snapshot_preview1"

	"github.com/wactor/wactor/abi"
	"github.com/wactor/wactor/host"
	"github.com/wactor/wactor/internal/cputime"
	"github.com/wactor/wactor/internal/testwasm"
	"github.com/wactor/wactor/scheduler"
	"github.com/wactor/wactor/storage/badgerstore"
	"github.com/wactor/wactor/storage/memstore"
)

// guests are the counter written in standard Go and in C, measured side by
// side: the same contract, very different runtimes inside the sandbox.
var guests = []struct {
	name  string
	build func(testing.TB, string) []byte
}{
	{"go", testwasm.Go},
	{"c", testwasm.C},
}

func benchHost(b *testing.B, guest string, build func(testing.TB, string) []byte, d scheduler.Dispatch) *host.Host {
	return benchHostConfig(b, build, host.Config{Dispatch: d})
}

// benchHostConfig is benchHost with more of the configuration; it sets the
// store and the compile cache.
func benchHostConfig(b *testing.B, build func(testing.TB, string) []byte, cfg host.Config) *host.Host {
	b.Helper()
	ctx := context.Background()
	cfg.Store, cfg.CacheDir = memstore.New(), testwasm.CacheDir(b)
	h, err := host.New(ctx, cfg)
	if err != nil {
		b.Fatal(err)
	}
	if err := h.Deploy(ctx, host.TypeConfig{Name: "counter", Module: build(b, "counter"), Mailbox: 1 << 16, MaxMemory: 256 << 20}); err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { h.Close(context.Background()) })
	return h
}

var (
	getPayload = []byte{0xa0} // {}
	addPayload = []byte{0xa1, 0x61, 'n', 0x01}
)

// BenchmarkAsk is one ask round trip from the host into the guest and
// back: get reads state and commits nothing; add writes state and commits
// to the in-memory store. cpu-µs/op is the processor time of the whole
// process per ask, which a loaded machine disturbs less than ns/op.
func BenchmarkAsk(b *testing.B) {
	for _, g := range guests {
		for _, method := range []string{"get", "add"} {
			b.Run(g.name+"/"+method, func(b *testing.B) {
				h := benchHost(b, g.name, g.build, scheduler.Goroutines)
				ctx := context.Background()
				ref := abi.Ref{Type: "counter", ID: "a"}
				payload := getPayload
				if method == "add" {
					payload = addPayload
				}
				if _, err := h.Ask(ctx, ref, method, payload); err != nil {
					b.Fatal(err)
				}
				cpu := cpuTime()
				b.ResetTimer()
				for i := 0; i < b.N; i++ {
					if _, err := h.Ask(ctx, ref, method, payload); err != nil {
						b.Fatal(err)
					}
				}
				b.StopTimer()
				if cpu > 0 {
					b.ReportMetric(float64(cpuTime()-cpu)/float64(time.Microsecond)/float64(b.N), "cpu-µs/op")
				}
			})
		}
	}
}

// BenchmarkTellFanOut sends b.N durable tells (outbox commit, delivery,
// turn, consuming commit) spread over 1,000 live activations, with each
// dispatch strategy.
func BenchmarkTellFanOut(b *testing.B) {
	dispatches := []struct {
		name string
		d    scheduler.Dispatch
	}{{"goroutines", scheduler.Goroutines}, {"pool2", scheduler.Dispatch{Workers: 2}}, {"pool4", scheduler.Dispatch{Workers: 4}}}
	for _, g := range guests {
		for _, d := range dispatches {
			b.Run(g.name+"/"+d.name, func(b *testing.B) {
				h := benchHost(b, g.name, g.build, d.d)
				ctx := context.Background()
				refs := make([]abi.Ref, 1000)
				for i := range refs {
					refs[i] = abi.Ref{Type: "counter", ID: strconv.Itoa(i)}
					if _, err := h.Ask(ctx, refs[i], "get", getPayload); err != nil {
						b.Fatal(err)
					}
				}
				b.ResetTimer()
				for i := 0; i < b.N; i++ {
					if err := h.Tell(ctx, refs[i%len(refs)], "add", addPayload); err != nil {
						b.Fatal(err)
					}
				}
				// Every counter's get queues behind its tells: when all
				// answer, every tell has been processed.
				for _, r := range refs {
					if _, err := h.Ask(ctx, r, "get", getPayload); err != nil {
						b.Fatal(err)
					}
				}
			})
		}
	}
}

// languages are the counter in every guest language, for the activation
// benchmarks.
var languages = []struct {
	name  string
	build func(testing.TB, string) []byte
}{
	{"c", testwasm.C},
	{"rust", testwasm.Rust},
	{"as", testwasm.AS},
	{"go", testwasm.Go},
}

// BenchmarkActivation asks a new actor each time: state load (empty),
// a fresh instance of the module, one turn; each instance starts from the
// module's snapshot, or runs _initialize (init), side by side. Every
// activation stays live: KiB-rss/op is the growth of the process's
// resident memory per activation, and cpu-µs/op the processor time of the
// whole process (garbage collection included) per activation, which a
// busy machine's other processes disturb less than ns/op (Linux);
// KiB-budget/op is what the guest memory budget counts per activation.
// Its baseline is BenchmarkRawInstantiate. The inline mode is snapshot
// with Deterministic dispatch, whose turns run on the caller's goroutine:
// what an activation costs without the hand-off to another goroutine
// and back (and without pipelining, which it implies).
func BenchmarkActivation(b *testing.B) {
	for _, g := range languages {
		for _, mode := range []string{"snapshot", "init", "inline"} {
			b.Run(g.name+"/"+mode, func(b *testing.B) {
				h := benchHostConfig(b, g.build, host.Config{NoSnapshots: mode == "init", MaxActivations: -1, MaxGuestMemory: -1,
					Dispatch: scheduler.Dispatch{Deterministic: mode == "inline"}})
				activateEach(b, h)
				inUse, _ := h.GuestMemory()
				b.ReportMetric(float64(inUse)/1024/float64(b.N), "KiB-budget/op")
			})
		}
	}
}

// BenchmarkActivationChurn is BenchmarkActivation under churn: at most
// 64 activations live, so that each new actor evicts the least recently
// used one (its deactivate hook, its instance closed and its memory
// freed) and new instances take the memories of old ones. cpu-µs/op is
// the processor time per activation and deactivation; KiB-rss/op the
// growth of resident memory per activation, which churn should keep near
// zero.
func BenchmarkActivationChurn(b *testing.B) {
	for _, g := range languages {
		b.Run(g.name, func(b *testing.B) {
			h := benchHostConfig(b, g.build, host.Config{MaxActivations: 64, MaxGuestMemory: -1})
			ctx := context.Background()
			for i := range 128 { // the cap reached, and churning
				if _, err := h.Ask(ctx, abi.Ref{Type: "counter", ID: "warm" + strconv.Itoa(i)}, "get", getPayload); err != nil {
					b.Fatal(err)
				}
			}
			activateEach(b, h)
		})
	}
}

// activateEach asks b.N new counters of h once each (get), timed, and
// reports the processor time and the growth of resident memory per
// activation.
func activateEach(b *testing.B, h *host.Host) {
	ctx := context.Background()
	rss, cpu := residentKiB(), cputime.Process()
	flt, sys := usage()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if _, err := h.Ask(ctx, abi.Ref{Type: "counter", ID: strconv.Itoa(i)}, "get", getPayload); err != nil {
			b.Fatal(err)
		}
	}
	b.StopTimer()
	if rss > 0 {
		b.ReportMetric(float64(cputime.Process()-cpu)/float64(time.Microsecond)/float64(b.N), "cpu-µs/op")
		b.ReportMetric(float64(residentKiB()-rss)/float64(b.N), "KiB-rss/op")
	}
	reportUsage(b, flt, sys)
}

// reportUsage reports the minor page faults and the system time per
// operation since usage returned flt and sys. On a virtual machine a
// page never touched before costs microseconds (the hypervisor backs it
// at its first fault), so faults/op says much of what an activation
// costs the kernel: sys-µs/op.
func reportUsage(b *testing.B, flt, sys float64) {
	if flt2, sys2 := usage(); flt2 > 0 {
		b.ReportMetric((flt2-flt)/float64(b.N), "faults/op")
		b.ReportMetric((sys2-sys)/float64(b.N), "sys-µs/op")
	}
}

// residentKiB returns the process's resident memory after a collection
// that returns free memory to the system, or 0 where /proc does not say.
func residentKiB() int64 {
	debug.FreeOSMemory()
	b, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return 0
	}
	for _, line := range strings.Split(string(b), "\n") {
		if f := strings.Fields(line); len(f) >= 2 && f[0] == "VmRSS:" {
			n, _ := strconv.ParseInt(f[1], 10, 64)
			return n
		}
	}
	return 0
}

// BenchmarkLiveActivations activates b.N counters and keeps them live,
// reporting the process's resident memory per activation (run it with
// -benchtime=Nx, N under the activation cap).
func BenchmarkLiveActivations(b *testing.B) {
	for _, g := range languages {
		b.Run(g.name, func(b *testing.B) {
			h := benchHost(b, g.name, g.build, scheduler.Goroutines)
			ctx := context.Background()
			if _, err := h.Ask(ctx, abi.Ref{Type: "counter", ID: "warm"}, "get", getPayload); err != nil {
				b.Fatal(err)
			}
			runtime.GC()
			before := residentKiB()
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				if _, err := h.Ask(ctx, abi.Ref{Type: "counter", ID: strconv.Itoa(i)}, "get", getPayload); err != nil {
					b.Fatal(err)
				}
			}
			b.StopTimer()
			runtime.GC()
			b.ReportMetric(float64(residentKiB()-before)/float64(b.N), "KiB-rss/op")
		})
	}
}

// BenchmarkRawInstantiate is the floor under BenchmarkActivation: wazero
// alone instantiating the same counter module, as built, running its
// _initialize, with the host's imports as no-ops: each instance closed at
// once (closed), or all kept live (live), as BenchmarkActivation keeps its
// activations and wactorbench's activation scenario its floor; and live
// with wactor_handle looked up and kept (live+export), as any host that
// calls an instance must: in wazero an api.Function holds a call engine
// with a native stack of its own (about 11.5 KiB) for as long as it is
// kept; and live+call, which also calls wactor_abi_version once through
// a function it keeps, as an activation's first turn calls wactor_handle:
// a call engine's first call writes the top of its stack, a page of its
// own in each instance (a page fault and 4 KiB resident), which
// live+export never touches and which a C floor's _initialize pays
// already. cpu-µs/op as in BenchmarkActivation.
func BenchmarkRawInstantiate(b *testing.B) {
	for _, g := range languages {
		modes := []string{"closed", "live", "live+export", "live+call"}
		if g.name == "go" {
			modes = modes[:1] // 3.7 MiB a live instance: wactorbench keeps 200
		}
		for _, mode := range modes {
			b.Run(g.name+"/"+mode, func(b *testing.B) {
				ctx := context.Background()
				cache, err := wazero.NewCompilationCacheWithDir(testwasm.CacheDir(b))
				if err != nil {
					b.Fatal(err)
				}
				rt := wazero.NewRuntimeWithConfig(ctx, wazero.NewRuntimeConfigCompiler().WithCompilationCache(cache))
				defer rt.Close(ctx)
				wasi_snapshot_preview1.MustInstantiate(ctx, rt)
				cm, err := rt.CompileModule(ctx, g.build(b, "counter"))
				if err != nil {
					b.Fatal(err)
				}
				stubImports(b, ctx, rt, cm)
				cfg := wazero.NewModuleConfig().WithName("").WithStartFunctions("_initialize").
					WithSysWalltime().WithSysNanotime().WithRandSource(rand.Reader)
				var live []api.Module
				var handles []api.Function
				rss, cpu := residentKiB(), cpuTime()
				flt, sys := usage()
				b.ResetTimer()
				for i := 0; i < b.N; i++ {
					mod, err := rt.InstantiateModule(ctx, cm, cfg)
					if err != nil {
						b.Fatal(err)
					}
					switch mode {
					case "closed":
						mod.Close(ctx)
						continue
					case "live+export":
						handles = append(handles, mod.ExportedFunction(abi.ExportHandle))
					case "live+call":
						f := mod.ExportedFunction(abi.ExportABIVersion)
						if _, err := f.Call(ctx); err != nil {
							b.Fatal(err)
						}
						handles = append(handles, f)
					}
					live = append(live, mod)
				}
				b.StopTimer()
				reportUsage(b, flt, sys)
				b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "activations/s")
				if cpu > 0 {
					b.ReportMetric(float64(cpuTime()-cpu)/float64(time.Microsecond)/float64(b.N), "cpu-µs/op")
				}
				if rss > 0 && mode != "closed" { // closed instances leave nothing resident
					b.ReportMetric(float64(residentKiB()-rss)/float64(b.N), "KiB-rss/op")
				}
				runtime.KeepAlive(live)
				runtime.KeepAlive(handles)
			})
		}
	}
}

// stubImports gives rt a no-op for every function cm imports from the
// host's module.
func stubImports(b *testing.B, ctx context.Context, rt wazero.Runtime, cm wazero.CompiledModule) {
	hb := rt.NewHostModuleBuilder(abi.ImportModule)
	for _, f := range cm.ImportedFunctions() {
		if mod, name, _ := f.Import(); mod == abi.ImportModule {
			noop := api.GoModuleFunc(func(context.Context, api.Module, []uint64) {})
			hb.NewFunctionBuilder().WithGoModuleFunction(noop, f.ParamTypes(), f.ResultTypes()).Export(name)
		}
	}
	if _, err := hb.Instantiate(ctx); err != nil {
		b.Fatal(err)
	}
}

// BenchmarkDurableAsk runs state-changing asks (counter add) from 64
// concurrent callers, each on its own actor, against badger with group
// commit, with an fsync per turn, and without fsync, side by side. The raw
// badger baseline is storage/badgerstore's BenchmarkCommit.
func BenchmarkDurableAsk(b *testing.B) {
	stores := []struct {
		name string
		opts badgerstore.Options
	}{
		{"group-commit", badgerstore.Options{Sync: true}},
		{"fsync-per-turn", badgerstore.Options{Sync: true, NoGroupCommit: true}},
		{"no-sync", badgerstore.Options{Sync: false}},
	}
	for _, st := range stores {
		b.Run(st.name, func(b *testing.B) {
			h := durableHost(b, st.opts)
			// A generous deadline: an fsync on a busy disk can take long.
			ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
			defer cancel()
			var next atomic.Int64
			b.SetParallelism(32) // 64 callers on 2 cores
			b.ResetTimer()
			b.RunParallel(func(pb *testing.PB) {
				ref := abi.Ref{Type: "counter", ID: strconv.FormatInt(next.Add(1), 10)}
				for pb.Next() {
					if _, err := h.Ask(ctx, ref, "add", addPayload); err != nil {
						b.Error(err)
						return
					}
				}
			})
			b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "asks/s")
		})
	}
}

// BenchmarkDurableAskOneActor runs state-changing asks (counter add) from
// 200 concurrent callers on one actor against badger with Sync and group
// commit: every reply waits for its turn's fsync, and the actor's turns
// run one at a time, so what it measures is how many turns share a write.
func BenchmarkDurableAskOneActor(b *testing.B) {
	h := durableHost(b, badgerstore.Options{Sync: true})
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	ref := abi.Ref{Type: "counter", ID: "hot"}
	if _, err := h.Ask(ctx, ref, "add", addPayload); err != nil {
		b.Fatal(err)
	}
	b.SetParallelism(100) // 200 callers on 2 cores
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			if _, err := h.Ask(ctx, ref, "add", addPayload); err != nil {
				b.Error(err)
				return
			}
		}
	})
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "asks/s")
}

// durableHost is a host over a badger store opened with opts, with the C
// counter deployed; both are closed when b ends.
func durableHost(b *testing.B, opts badgerstore.Options) *host.Host {
	store, err := badgerstore.Open(b.TempDir(), opts)
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { store.Close() })
	ctx := context.Background()
	h, err := host.New(ctx, host.Config{Store: store, CacheDir: testwasm.CacheDir(b)})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { h.Close(ctx) })
	if err := h.Deploy(ctx, host.TypeConfig{Name: "counter", Module: testwasm.C(b, "counter")}); err != nil {
		b.Fatal(err)
	}
	return h
}
